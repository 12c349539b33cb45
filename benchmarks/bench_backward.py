"""Time cconv's transposed convolution, conv2d's two gradients and the fused ReLU against
PyTorch (and ONNX Runtime's ConvTranspose), side by side in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_backward.py [--threads N] [--repeat R] [--layers SUBSTRING ...]

For each ResNet/CIFAR layer of benchmarks/conv_layers.py (a conv2d from x to y):
- conv_transpose2d: cconv.conv_transpose2d(y, w) against F.conv_transpose2d and ONNX Runtime's
  ConvTranspose (float32): the layer run backwards, y's shape back to x's;
- conv2d_input: cconv.conv2d_input against PyTorch's own backward kernel
  (torch.ops.aten.convolution_backward with only the input gradient asked for: what autograd
  runs);
- conv2d_weight: cconv.conv2d_weight against the same, weight gradient only;
- relu fused: conv2d(..., activation="relu") against cconv's plain conv2d (the cost of the fused
  ReLU; the target is at most 3%).
Every implementation at the same thread count, interleaved, median of the repetitions; each
result is checked against cconv's once.  Ratios are peer time / cconv time.  PyTorch and ONNX
Runtime are optional.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

import cconv

from conv_layers import make_arrays, select
from interleaved_timing import interleaved_medians
from machine_info import cpu_model, thread_limits, usable_cores

LAYERS = ("resnet conv1", "resnet l1", "resnet l2 s2", "resnet l2", "resnet l3", "resnet l4",
          "bottleneck 1x1", "cifar c3", "cifar c32")


def _torch():
    try:
        import torch
        return torch
    except ImportError:
        return None


def _ort_transpose(layer, y, w, threads):
    """An ONNX Runtime session running ConvTranspose(y, w), or None without onnxruntime."""
    try:
        import onnx
        import onnxruntime as ort
    except ImportError:
        return None
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    oh, ow = layer.h, layer.w
    out_pad = [oh - ((y.shape[2] - 1) * layer.stride - 2 * layer.pad + layer.kh),
               ow - ((y.shape[3] - 1) * layer.stride - 2 * layer.pad + layer.kw)]
    node = helper.make_node("ConvTranspose", ["y", "w"], ["x"], kernel_shape=[layer.kh, layer.kw],
                            strides=[layer.stride] * 2, pads=[layer.pad] * 4,
                            output_padding=out_pad, group=layer.groups)
    elem = helper.np_dtype_to_tensor_dtype(y.dtype)
    graph = helper.make_graph(
        [node], "deconv", [helper.make_tensor_value_info("y", elem, list(y.shape))],
        [helper.make_tensor_value_info("x", elem, [layer.n, layer.c, oh, ow])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"y": y})[0]


def layer_ops(layer, threads, torch):
    """{op: {implementation: callable}} for one layer."""
    x, w, b = make_arrays(layer, np.dtype(np.float32), with_bias=True)
    args = dict(stride=layer.stride, padding=layer.pad, dilation=layer.dilation,
                groups=layer.groups)
    y = cconv.conv2d(x, w, b, **args)
    g = np.random.default_rng(1).uniform(-1, 1, y.shape).astype(np.float32)
    out_pad = layer.h - cconv.conv_transpose2d_output_shape(
        y.shape, w.shape, layer.stride, layer.pad, 0, layer.groups, layer.dilation)[2]
    ops = {
        "conv_transpose2d": {"cconv": lambda: cconv.conv_transpose2d(
            y, w, None, layer.stride, layer.pad, out_pad, layer.groups, layer.dilation,
            threads=threads)},
        "conv2d_input": {"cconv": lambda: cconv.conv2d_input(x.shape, w, g, **args,
                                                             threads=threads)},
        "conv2d_weight": {"cconv": lambda: cconv.conv2d_weight(x, w.shape, g, **args,
                                                               threads=threads)},
        "relu fused": {
            "cconv": lambda: cconv.conv2d(x, w, b, **args, activation="relu", threads=threads),
            "plain": lambda: cconv.conv2d(x, w, b, **args, threads=threads)},
    }
    if torch is not None:
        xt, wt, gt, yt = (torch.from_numpy(a) for a in (x, w, g, y))
        conv_args = ([layer.stride] * 2, [layer.pad] * 2, [layer.dilation] * 2, False, [0, 0],
                     layer.groups)
        backward = torch.ops.aten.convolution_backward

        def grad(mask, index):
            return lambda: backward(gt, xt, wt, None, *conv_args, mask)[index].numpy()

        ops["conv_transpose2d"]["torch"] = lambda: torch.nn.functional.conv_transpose2d(
            yt, wt, None, layer.stride, layer.pad, out_pad, layer.groups,
            layer.dilation).numpy()
        ops["conv2d_input"]["torch"] = grad([True, False, False], 0)
        ops["conv2d_weight"]["torch"] = grad([False, True, False], 1)
    if layer.dilation == 1:
        ort = _ort_transpose(layer, y, w, threads)
        if ort is not None:
            ops["conv_transpose2d"]["ort"] = ort
    return ops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--layers", nargs="+", metavar="SUBSTRING")
    parser.add_argument("--min-sample-ms", type=float, default=5.0)
    parser.add_argument("--layer-budget-s", type=float, default=4.0,
                        help="rough time per layer and operation (default 4 s)")
    args = parser.parse_args(argv)
    torch = _torch()
    layers = [layer for layer in select(args.layers) if layer.name in LAYERS]
    print(f"cconv {cconv.__version__} ({cconv.get_config()['simd']}), "
          f"{'PyTorch ' + torch.__version__ if torch else 'no PyTorch'}, {cpu_model()}, "
          f"{usable_cores()} cores, threads={args.threads}, float32, Python "
          f"{sys.version.split()[0]}, NumPy {np.__version__}")
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
        print("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; see the module docstring")
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(f"{'layer':<16} {'operation':<17} {'cconv ms':>9} {'torch ms':>9} {'x torch':>8} "
          f"{'ort ms':>8} {'x ort':>6}")
    ratios = {}
    with thread_limits(args.threads, []):
        for layer in layers:
            for op, fns in layer_ops(layer, args.threads, torch).items():
                ref = np.asarray(fns["cconv"](), np.float64)
                for key, fn in list(fns.items()):
                    if key == "cconv":
                        continue
                    got = np.asarray(fn(), np.float64)
                    if key == "plain":          # conv2d without the fused ReLU
                        got = np.maximum(got, 0)
                    scale = max(1.0, float(np.abs(ref).max()))
                    if got.shape != ref.shape or not np.allclose(got, ref, 1e-3, 1e-3 * scale):
                        print(f"  {layer.name} {op}: {key} DIFFERS from cconv; left out")
                        del fns[key]
                medians, _ = interleaved_medians(fns, args.repeat, args.min_sample_ms / 1e3,
                                                 args.layer_budget_s)
                t = medians["cconv"]
                peer = "plain" if op == "relu fused" else "torch"
                cells = [f"{layer.name:<16} {op:<17} {t * 1e3:9.3f}"]
                if peer in medians:
                    r = medians[peer] / t
                    ratios.setdefault(op, []).append(r)
                    cells.append(f"{medians[peer] * 1e3:9.3f} {r:7.2f}x")
                else:
                    cells.append(f"{'-':>9} {'-':>8}")
                if "ort" in medians:
                    cells.append(f"{medians['ort'] * 1e3:8.3f} {medians['ort'] / t:5.2f}x")
                print(" ".join(cells), flush=True)
    print()
    for op, rs in ratios.items():
        against = "plain conv2d" if op == "relu fused" else "PyTorch"
        geo = math.exp(sum(math.log(r) for r in rs) / len(rs))
        print(f"{op:<17} vs {against}: geometric mean {geo:.2f}x, lowest {min(rs):.2f}x "
              f"over {len(rs)} layers")


if __name__ == "__main__":
    main()
