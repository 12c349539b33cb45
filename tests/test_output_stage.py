"""conv2d's output stage: activation(conv + bias + residual), applied in each output tile.

Every path (each SIMD set and the C reference) and every tiling case of the driver (the shapes of
test_simd_paths.py) against the oracle; the fused result bitwise equal to the same steps done
one after the other in NumPy; NaN; threads; the repeated-call path; bad arguments; PyTorch.
"""

import numpy as np
import pytest

import cconv
from conftest import IMPLEMENTATIONS, USABLE_PATHS, assert_matches_oracle, needs_torch, run_impl
from test_simd_paths import SHAPE_IDS, SHAPES, _data

ACTIVATIONS = ["relu", "relu6", "leaky_relu", ("leaky_relu", 0.25), ("clamp", -0.5, 0.75)]


def _unfused(y, activation):
    """The activation applied by NumPy to an already computed conv (+ residual), in y's dtype."""
    if activation is None:
        return y
    name, *params = (activation,) if isinstance(activation, str) else activation
    t = y.dtype.type
    if name == "relu":
        return np.where(y < 0, t(0), y)
    if name == "relu6":
        return np.where(y > 6, t(6), np.where(y < 0, t(0), y))
    if name == "leaky_relu":
        return np.where(y < 0, y * t(params[0] if params else 0.01), y)
    lo, hi = t(params[0]), t(params[1])
    return np.where(y > hi, hi, np.where(y < lo, lo, y))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_every_path_and_tiling_case_against_the_oracle(impl, shape):
    x, w, b, params = _data(shape, np.float32, seed=21)
    out_shape = cconv.conv2d_output_shape(x.shape, w.shape, **params)
    residual = np.random.default_rng(2).standard_normal(out_shape).astype(np.float32)
    for i, activation in enumerate(ACTIVATIONS + [None]):
        r = residual if i % 2 == 0 else None
        got = run_impl(impl, x, w, b, threads=2, activation=activation, residual=r, **params)
        assert_matches_oracle(got, x, w, b, activation=activation, residual=r, **params)


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_fused_equals_the_steps_one_after_the_other(path, dtype, shape):
    """Bias is summed into the accumulator as in a plain conv2d; the residual add and the
    activation then round exactly as NumPy's separate passes do: bitwise the same result."""
    x, w, b, params = _data(shape, dtype, seed=22)
    plain = run_impl(path, x, w, b, threads=1, **params)
    residual = np.random.default_rng(3).standard_normal(plain.shape).astype(dtype)
    for activation in ACTIVATIONS:
        fused = run_impl(path, x, w, b, threads=3, activation=activation, residual=residual,
                         **params)
        np.testing.assert_array_equal(fused, _unfused(plain + residual, activation))
        fused = run_impl(path, x, w, b, threads=1, activation=activation, **params)
        np.testing.assert_array_equal(fused, _unfused(plain, activation))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_nan_passes_through_every_activation(impl):
    x = np.ones((1, 2, 6, 40), np.float32)
    x[0, 1, 3, 20] = np.nan
    w = np.ones((3, 2, 3, 3), np.float32)
    want_nan = np.isnan(cconv.conv2d(x, w, padding=1))
    assert want_nan.any()
    for activation in ACTIVATIONS:
        got = run_impl(impl, x, w, padding=1, activation=activation)
        np.testing.assert_array_equal(np.isnan(got), want_nan)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_no_input_pixels_still_go_through_the_stage(impl):
    """An input with no channels: every output is its bias, then residual and activation."""
    x = np.ones((2, 0, 5, 5), np.float32)
    w = np.ones((3, 0, 3, 3), np.float32)
    b = np.array([-2.0, 0.5, 9.0], np.float32)
    r = np.full((2, 3, 3, 3), 0.25, np.float32)
    got = run_impl(impl, x, w, b, activation="relu6", residual=r)
    np.testing.assert_array_equal(got, np.broadcast_to(
        np.array([0.0, 0.75, 6.0], np.float32)[:, None, None], (2, 3, 3, 3)))


def test_stage_works_unbatched_strided_and_with_out():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 20, 30))[:, ::2, ::-1]          # strided, float64
    w = rng.standard_normal((4, 5, 3, 3))
    r = rng.standard_normal((4, 10, 30))
    out = np.empty((4, 10, 30))
    got = cconv.conv2d(x, w, padding=1, activation="relu", residual=r, out=out)
    assert got is out
    assert_matches_oracle(got, x, w, padding=1, activation="relu", residual=r)


def test_residual_may_be_the_out_array():
    """out=r (y = relu(conv + y), in place) is computed aside, since the stage reads r where
    the kernel writes."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 3, 12, 12)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 3)).astype(np.float32)
    r = rng.standard_normal((1, 3, 12, 12)).astype(np.float32)
    want = np.maximum(cconv.conv2d(x, w, padding=1) + r, 0)
    y = r.copy()
    for _ in range(2):                                          # the repeated-call path too
        y[...] = r
        assert cconv.conv2d(x, w, padding=1, activation="relu", residual=y, out=y) is y
        np.testing.assert_array_equal(y, want)


def test_residual_and_activation_take_the_repeated_call_path(monkeypatch):
    from cconv import _conv

    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 4, 3, 3)).astype(np.float32)
    r = rng.standard_normal((1, 4, 8, 8)).astype(np.float32)
    monkeypatch.setattr(_conv, "_PLAN_CACHE", {})
    first = cconv.conv2d(x, w, padding=1, activation=("leaky_relu", 0.5), residual=r)
    assert len(_conv._PLAN_CACHE) == 1

    def full_path(*args, **kwargs):
        raise AssertionError("the call did not take the cached plan")

    monkeypatch.setattr(_conv, "_conv2d", full_path)
    again = cconv.conv2d(x, w, padding=1, activation=("leaky_relu", 0.5), residual=r)
    np.testing.assert_array_equal(again, first)
    # Another activation is another plan.
    with pytest.raises(AssertionError, match="cached plan"):
        cconv.conv2d(x, w, padding=1, activation="relu", residual=r)


@pytest.mark.parametrize("activation, error, match", [
    ("gelu", ValueError, "activation must be"),
    ("RELU", ValueError, "activation must be"),
    (("leaky_relu",), ValueError, "activation must be"),
    (("leaky_relu", "a"), TypeError, "negative_slope must be a real number"),
    (("leaky_relu", np.nan), ValueError, "negative_slope must be finite"),
    (("clamp", 1.0, 0.0), ValueError, "clamp min 1.0 is more than clamp max 0.0"),
    (("clamp", 0.0), ValueError, "activation must be"),
    (("clamp", True, 1.0), TypeError, "clamp min must be a real number"),
    (3, TypeError, "activation must be"),
    (["relu"], TypeError, "activation must be"),
])
def test_bad_activations(activation, error, match):
    x = np.ones((1, 2, 5, 5), np.float32)
    w = np.ones((2, 2, 3, 3), np.float32)
    for _ in range(2):                                   # with and without a cached plan
        with pytest.raises(error, match=match):
            cconv.conv2d(x, w, activation=activation)
        cconv.conv2d(x, w)


def test_bad_residuals():
    x = np.ones((1, 2, 5, 5), np.float32)
    w = np.ones((2, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"residual must have the output's shape \(1, 2, 3, 3\), "
                                         r"got shape \(1, 2, 5, 5\)"):
        cconv.conv2d(x, w, residual=x)
    with pytest.raises(TypeError, match="residual has dtype complex64"):
        cconv.conv2d(x, w, residual=np.ones((1, 2, 3, 3), np.complex64))
    # A float64 residual promotes the result, as a float64 bias does.
    assert cconv.conv2d(x, w, residual=np.ones((1, 2, 3, 3))).dtype == np.float64


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_pytorch(dtype):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(7)
    funcs = {"relu": F.relu, "relu6": F.relu6,
             ("leaky_relu", 0.2): lambda t: F.leaky_relu(t, 0.2),
             ("clamp", -1.0, 2.0): lambda t: F.hardtanh(t, -1.0, 2.0)}
    for activation, fn in funcs.items():
        for stride, padding, groups in [(1, 1, 1), (2, 0, 2), (1, 2, 4)]:
            x = rng.standard_normal((2, 8, 13, 11)).astype(dtype)
            w = rng.standard_normal((8, 8 // groups, 3, 3)).astype(dtype)
            b = rng.standard_normal(8).astype(dtype)
            conv = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                            stride, padding, 1, groups)
            r = rng.standard_normal(tuple(conv.shape)).astype(dtype)
            theirs = fn(conv + torch.from_numpy(r)).numpy()
            ours = cconv.conv2d(x, w, b, stride, padding, 1, groups, activation=activation,
                                residual=r)
            rtol = 1e-4 if dtype == np.float32 else 1e-10
            np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max())
