"""The worked examples in examples/: they run, learn, and their backward passes are right."""

import importlib.util
import pathlib

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.exists(),
                                reason="tests run outside the source tree")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_digits_learns():
    pytest.importorskip("sklearn")
    digits = _load("train_digits")
    lines = []
    _, accuracy, _ = digits.train(epochs=6, seed=1, log=lines.append)
    assert len(lines) == 6 and "test accuracy" in lines[-1]
    assert accuracy > 0.9, lines


def test_train_digits_gradients_against_finite_differences():
    """Every parameter's gradient through the whole network (conv, ReLU, max pool, conv, ReLU,
    global average pool, linear, cross-entropy), in float64, against central differences."""
    digits = _load("train_digits")
    rng = np.random.default_rng(2)
    params = digits.init_params(rng, dtype=np.float64)
    for name in ("b1", "b2", "b3"):
        params[name] = rng.standard_normal(params[name].shape) * 0.1
    x = rng.random((5, 1, 8, 8))
    y = rng.integers(0, 10, 5)

    def loss(p):
        return digits.loss_and_grad(digits.forward(p, x)[0], y)[0]

    logits, cache = digits.forward(params, x)
    grads = digits.backward(params, cache, digits.loss_and_grad(logits, y)[1])
    eps = 1e-6
    for name, value in params.items():
        assert grads[name].shape == value.shape and grads[name].dtype == np.float64
        for flat in rng.choice(value.size, size=min(6, value.size), replace=False):
            idx = np.unravel_index(flat, value.shape)
            bumped = []
            for sign in (1, -1):
                p = {k: v.copy() for k, v in params.items()}
                p[name][idx] += sign * eps
                bumped.append(loss(p))
            numeric = (bumped[0] - bumped[1]) / (2 * eps)
            assert abs(numeric - grads[name][idx]) < 1e-6 + 1e-4 * abs(numeric), (name, idx)


def test_dask_big_image_example_runs_small(capsys, monkeypatch):
    """examples/dask_big_image.py on a small image (the 20k x 20k run is the documented one)."""
    pytest.importorskip("dask.array")
    example = _load("dask_big_image")
    monkeypatch.setattr("sys.argv", ["dask_big_image.py", "--size", "1000", "--chunk", "256"])
    example.main()
    out = capsys.readouterr().out
    assert "1000 x 1000 float32" in out and "mean 0.49" in out and "peak resident memory" in out
