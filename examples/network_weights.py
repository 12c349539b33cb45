"""Where the example networks (resnet18.py, mobilenet_v2.py) get their weights, with every
BatchNorm folded into the convolution before it.

Three sources, one result: ``{layer name: (weight, bias)}`` of NumPy arrays, ready for
``cconv.conv2d(x, weight, bias, ...)``, plus the classifier's ``(weight, bias)``.

- a PyTorch ``state_dict`` (of torchvision's ``resnet18()`` / ``mobilenet_v2()`` or of the same
  modules in torch_networks.py), as NumPy arrays, torch tensors, a ``torch.save`` file or an
  ``.npz`` file (``numpy.savez(path, **state_dict)``, readable without PyTorch);
- an ONNX file exported from such a network (its Conv nodes in execution order; a
  BatchNormalization after a Conv is folded, an exporter may already have done so);
- a seeded random initialisation when there are no weights at hand.

A network describes its convolutions once, as a list of :class:`ConvSpec` in execution order
(the order in which PyTorch's forward and an exported ONNX graph run them).
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

import cconv


class ConvSpec(NamedTuple):
    """One convolution of a network and the BatchNorm that follows it."""
    name: str          # the key of its (weight, bias) in the folded parameters
    conv: str          # its weight's prefix in the state_dict: f"{conv}.weight"
    bn: str            # the BatchNorm's prefix: f"{bn}.weight", f"{bn}.running_mean", ...
    shape: tuple       # the weight's shape: (O, C/groups, kH, kW)


def load_params(weights, convs: list[ConvSpec], linear_key: str, linear_shape: tuple,
                seed: int = 0) -> dict:
    """{conv name: (weight, bias)}, BatchNorms folded, and {linear_key: (weight, bias)}.

    `weights` is a state_dict (a mapping of arrays or tensors), the path of an ``.onnx``,
    ``.npz`` or ``torch.save`` file, or None for :func:`random_state_dict` seeded by `seed`.
    """
    if isinstance(weights, (str, os.PathLike)) and os.fspath(weights).endswith(".onnx"):
        params, linear = read_onnx(os.fspath(weights), convs, linear_shape)
        params[linear_key] = linear
        return params
    if isinstance(weights, (str, os.PathLike)):
        weights = load_state_dict(os.fspath(weights))
    elif weights is None:
        weights = random_state_dict(convs, linear_key, linear_shape, seed)
    params = fold_state_dict(weights, convs)
    params[linear_key] = linear_from_state_dict(weights, linear_key, linear_shape)
    return params


def as_numpy(state_dict) -> dict:
    """A state_dict of torch tensors or arrays as float NumPy arrays (counters dropped)."""
    arrays = {}
    for key, value in state_dict.items():
        if key.endswith("num_batches_tracked"):
            continue
        if hasattr(value, "detach"):  # a torch.Tensor, without importing torch here
            value = value.detach().cpu().numpy()
        arrays[key] = np.asarray(value)
    return arrays


def load_state_dict(path: str) -> dict:
    """A state_dict from an ``.npz`` file (NumPy only) or a ``torch.save`` file (needs torch)."""
    if path.endswith(".npz"):
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    import torch
    return as_numpy(torch.load(path, map_location="cpu", weights_only=True))


def fold_state_dict(state_dict, convs: list[ConvSpec], eps: float = 1e-5) -> dict:
    """{name: (weight, bias)} of every convolution, its BatchNorm folded in (float32)."""
    sd = as_numpy(state_dict)
    params = {}
    for spec in convs:
        weight = _expect(sd, f"{spec.conv}.weight", spec.shape)
        bn = [_expect(sd, f"{spec.bn}.{part}", spec.shape[:1])
              for part in ("weight", "bias", "running_mean", "running_var")]
        params[spec.name] = _float32(cconv.fold_batchnorm(weight, sd.get(f"{spec.conv}.bias"),
                                                          *bn, eps=eps))
    return params


def linear_from_state_dict(state_dict, key: str, shape: tuple) -> tuple:
    """The classifier's (weight (classes, features), bias (classes,)) as float32."""
    sd = as_numpy(state_dict)
    return _float32((_expect(sd, f"{key}.weight", shape), _expect(sd, f"{key}.bias", shape[:1])))


def random_state_dict(convs: list[ConvSpec], linear_key: str, linear_shape: tuple,
                      seed: int = 0) -> dict:
    """A state_dict as a trained network might have it, from a seeded generator.

    Convolutions get He initialisation (normal, variance 2 / fan-out, as torchvision), so that
    each layer keeps its output's scale through the ReLUs; BatchNorms get scales near 1, small
    shifts and means, and variances near 1; the classifier gets small weights.
    """
    rng = np.random.default_rng(seed)
    sd = {}
    for spec in convs:
        fan_out = spec.shape[0] * spec.shape[2] * spec.shape[3]
        sd[f"{spec.conv}.weight"] = rng.normal(0, np.sqrt(2 / fan_out), spec.shape)
        n = spec.shape[0]
        sd[f"{spec.bn}.weight"] = rng.uniform(0.5, 1.5, n)
        sd[f"{spec.bn}.bias"] = rng.normal(0, 0.1, n)
        sd[f"{spec.bn}.running_mean"] = rng.normal(0, 0.1, n)
        sd[f"{spec.bn}.running_var"] = rng.uniform(0.5, 1.5, n)
    sd[f"{linear_key}.weight"] = rng.normal(0, 0.01, linear_shape)
    sd[f"{linear_key}.bias"] = np.zeros(linear_shape[0])
    return {key: value.astype(np.float32) for key, value in sd.items()}


def read_onnx(path: str, convs: list[ConvSpec], linear_shape: tuple) -> tuple[dict, tuple]:
    """({name: (weight, bias)}, classifier (weight, bias)) from an ONNX file of the network.

    The graph's Conv nodes are matched to `convs` in order, each weight's shape checked; a
    BatchNormalization that reads a Conv's output is folded into it. The classifier is the
    graph's one Gemm node (``torch.nn.Linear`` exports as one).
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    readers = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    conv_nodes = [node for node in graph.node if node.op_type == "Conv"]
    if len(conv_nodes) != len(convs):
        raise ValueError(f"{os.path.basename(path)} has {len(conv_nodes)} Conv nodes; this "
                         f"network has {len(convs)} convolutions")
    params = {}
    for spec, node in zip(convs, conv_nodes):
        weight = _initializer(tensors, node.input[1], path)
        if weight.shape != spec.shape:
            raise ValueError(f"Conv node {node.name!r} of {os.path.basename(path)} has weight "
                             f"shape {weight.shape}; {spec.name} needs {spec.shape}")
        bias = _initializer(tensors, node.input[2], path) if len(node.input) > 2 else None
        after = readers.get(node.output[0], [])
        if len(after) == 1 and after[0].op_type == "BatchNormalization":
            bn = after[0]
            eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
            stats = [_initializer(tensors, name, path) for name in bn.input[1:5]]
            weight, bias = cconv.fold_batchnorm(weight, bias, *stats, eps=eps)
        elif bias is None:
            bias = np.zeros(spec.shape[0], weight.dtype)
        params[spec.name] = _float32((weight, bias))
    return params, _onnx_linear(graph, tensors, linear_shape, path)


def _onnx_linear(graph, tensors, shape, path) -> tuple:
    gemms = [node for node in graph.node if node.op_type == "Gemm"]
    if len(gemms) != 1:
        raise ValueError(f"{os.path.basename(path)} has {len(gemms)} Gemm nodes; expected one, "
                         "the classifier")
    node = gemms[0]
    attrs = {a.name: (a.i if a.type == a.INT else a.f) for a in node.attribute}
    if attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0 or attrs.get("transA"):
        raise ValueError(f"the Gemm node of {os.path.basename(path)} is not a plain linear layer")
    weight = _initializer(tensors, node.input[1], path)
    if not attrs.get("transB"):
        weight = weight.T  # stored (features, classes)
    bias = _initializer(tensors, node.input[2], path)
    if weight.shape != tuple(shape):
        raise ValueError(f"the classifier of {os.path.basename(path)} has weight shape "
                         f"{weight.shape}; expected {tuple(shape)}")
    return _float32((weight, bias))


def _initializer(tensors, name, path):
    try:
        return tensors[name]
    except KeyError:
        raise ValueError(f"{os.path.basename(path)}: {name!r} is not an initializer (weights "
                         "computed inside the graph are not supported)") from None


def _expect(sd, key, shape):
    if key not in sd:
        raise KeyError(f"the state_dict has no {key!r}")
    if sd[key].shape != tuple(shape):
        raise ValueError(f"{key} has shape {sd[key].shape}; this network needs {tuple(shape)}")
    return sd[key]


def _float32(pair):
    return tuple(np.ascontiguousarray(a, dtype=np.float32) for a in pair)
