"""The whole networks of examples/ (ResNet-18, MobileNetV2 in NumPy + cconv): their logits equal
PyTorch's on the same weights, from a state_dict or an ONNX file; without PyTorch the seeded
random initialisation runs; the scripts run.

`-k pytorch` selects the comparisons with PyTorch.

Tolerance. Both sides compute in float32 through about 20 (ResNet-18) or 52 (MobileNetV2)
convolutions, summing in different orders (and cconv's folded weights are rounded once more).
Measured against the same network in float64, PyTorch's float32 logits and cconv's are each off
by 2-7e-7 of the largest logit; so are they against each other. The test allows 2e-5 of the
largest logit: 30x what was measured, far below any real mistake (a wrong padding, stride,
fold or skip connection moves the logits by 1e-2 of their scale or more).
"""

import importlib
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

from conftest import needs_torch

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.exists(), reason="tests run outside the source tree")

NETWORKS = ["resnet18", "mobilenet_v2"]
RTOL = 2e-5  # of the largest logit, see above


@pytest.fixture(scope="module")
def load(request):
    """Import an example module by name, with examples/ on sys.path as when run as a script."""
    sys.path.insert(0, str(EXAMPLES))
    request.addfinalizer(lambda: sys.path.remove(str(EXAMPLES)))
    return importlib.import_module


@pytest.fixture(scope="module")
def torch_nets(load):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return load("torch_networks")


def _images(n, size, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3, size, size)).astype(np.float32)


def _torch_logits(model, x):
    import torch
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def _assert_close_logits(got, expected):
    assert got.shape == expected.shape and got.dtype == np.float32
    scale = np.abs(expected).max()
    err = np.abs(got - expected).max()
    assert err <= RTOL * scale, f"max error {err:.3g} = {err / scale:.3g} of the largest logit"


@needs_torch
@pytest.mark.parametrize("batch,size", [(2, 112), (1, 224)])
@pytest.mark.parametrize("name", NETWORKS)
def test_network_matches_pytorch(load, torch_nets, name, batch, size):
    """A seeded PyTorch module in eval mode (BatchNorms given trained-like statistics), its
    state_dict as NumPy arrays into build_params, the same images through both."""
    example = load(name)
    model = torch_nets.make_network(name, seed=1)
    params = example.build_params(torch_nets.numpy_state_dict(model))
    x = _images(batch, size)
    _assert_close_logits(example.forward(params, x, threads=1), _torch_logits(model, x))


def test_resnet18_matches_pytorch(load, torch_nets):
    """The same with the state_dict's torch tensors given directly, at 2 threads."""
    resnet18 = load("resnet18")
    model = torch_nets.make_network("resnet18", seed=2)
    x = _images(1, 96, seed=2)
    _assert_close_logits(resnet18.forward(resnet18.build_params(model.state_dict()), x,
                                          threads=2), _torch_logits(model, x))


def test_mobilenet_v2_matches_pytorch(load, torch_nets):
    mobilenet_v2 = load("mobilenet_v2")
    model = torch_nets.make_network("mobilenet_v2", seed=2)
    x = _images(1, 96, seed=2)
    _assert_close_logits(mobilenet_v2.forward(mobilenet_v2.build_params(model.state_dict()), x,
                                              threads=2), _torch_logits(model, x))


@needs_torch
@pytest.mark.parametrize("name,fold", [("resnet18", True), ("resnet18", False),
                                       ("mobilenet_v2", True)],
                         ids=["resnet18-bn-folded-by-exporter", "resnet18-bn-nodes",
                              "mobilenet_v2-bn-folded-by-exporter"])
def test_onnx_file_matches_pytorch(load, torch_nets, tmp_path, name, fold):
    """torch.onnx.export to a file, then build_params(path): Conv nodes matched in execution
    order, BatchNormalization nodes folded when the exporter left them."""
    pytest.importorskip("onnx")
    example = load(name)
    model = torch_nets.make_network(name, seed=3)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch_nets.export_onnx(model, str(path), image_size=64, fold_batchnorm=fold)
    x = _images(2, 112, seed=3)  # another batch and size than exported: both are free
    _assert_close_logits(example.forward(example.build_params(path), x, threads=1),
                         _torch_logits(model, x))


@pytest.mark.parametrize("name", NETWORKS)
def test_random_state_dict_has_pytorchs_layout(load, torch_nets, name):
    """The random initialisation has exactly the keys and shapes of torchvision's state_dict,
    so that the NumPy network without PyTorch is the same network."""
    example = load(name)
    weights = load("network_weights")
    expected = {k: v.shape for k, v in torch_nets.NETWORKS[name]().state_dict().items()
                if not k.endswith("num_batches_tracked")}
    key, shape = example.CLASSIFIER
    made = weights.random_state_dict(example.conv_specs(), key, shape, seed=0)
    assert {k: v.shape for k, v in made.items()} == expected


@pytest.mark.parametrize("name", NETWORKS)
def test_random_init_runs_on_numpy_alone(load, name):
    """The seeded random initialisation: float32 logits of the right shape, finite, one per
    image, the same at any thread count (bit for bit), and the same for the same seed."""
    example = load(name)
    params = example.build_params(seed=5)
    assert all(w.dtype == np.float32 and b.dtype == np.float32 for w, b in params.values())
    x = _images(2, 64)
    logits = example.forward(params, x, threads=1)
    assert logits.shape == (2, 1000) and logits.dtype == np.float32
    assert np.isfinite(logits).all() and logits.std() > 0
    assert not np.allclose(logits[0], logits[1])
    np.testing.assert_array_equal(example.forward(params, x, threads=2), logits)
    again = example.build_params(seed=5)
    np.testing.assert_array_equal(example.forward(again, x, threads=1), logits)


def test_npz_state_dict_file(load, tmp_path):
    """A state_dict saved with numpy.savez loads without PyTorch."""
    resnet18 = load("resnet18")
    weights = load("network_weights")
    key, shape = resnet18.CLASSIFIER
    state_dict = weights.random_state_dict(resnet18.conv_specs(), key, shape, seed=4)
    np.savez(tmp_path / "resnet18.npz", **state_dict)
    x = _images(1, 64)
    np.testing.assert_array_equal(
        resnet18.forward(resnet18.build_params(str(tmp_path / "resnet18.npz")), x),
        resnet18.forward(resnet18.build_params(state_dict), x))


def test_torch_save_file_matches_pytorch(load, torch_nets, tmp_path):
    import torch
    mobilenet_v2 = load("mobilenet_v2")
    model = torch_nets.make_network("mobilenet_v2", seed=6)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    x = _images(1, 64)
    _assert_close_logits(mobilenet_v2.forward(mobilenet_v2.build_params(tmp_path / "weights.pt"),
                                              x), _torch_logits(model, x))


def test_wrong_weights_are_named(load, torch_nets, tmp_path):
    resnet18, mobilenet_v2 = load("resnet18"), load("mobilenet_v2")
    state_dict = torch_nets.numpy_state_dict(torch_nets.ResNet18())
    narrow = dict(state_dict, **{"layer2.0.conv1.weight":
                                 state_dict["layer2.0.conv1.weight"][:, :32]})
    with pytest.raises(ValueError, match=r"layer2.0.conv1.weight has shape \(128, 32, 3, 3\); "
                                         r"this network needs \(128, 64, 3, 3\)"):
        resnet18.build_params(narrow)
    del state_dict["layer4.1.bn2.running_var"]
    with pytest.raises(KeyError, match="layer4.1.bn2.running_var"):
        resnet18.build_params(state_dict)
    with pytest.raises(ValueError, match="has 20 Conv nodes; this network has 52 convolutions"):
        onnx = pytest.importorskip("onnx")  # noqa: F841
        path = tmp_path / "resnet18.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch_nets.export_onnx(torch_nets.ResNet18().eval(), str(path), image_size=32)
        mobilenet_v2.build_params(path)


@pytest.mark.parametrize("name", NETWORKS)
def test_script_prints_time_and_top_class(name):
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--batch", "2",
                             "--size", "64", "--repeat", "2", "--threads", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "batch 2, 64x64, float32, threads=1:" in lines[0] and "ms per forward pass" in lines[0]
    assert lines[1].startswith("top class of image 0: ")
