"""The implementations the benchmark times: cconv and its peers, each behind the same interface.

Every implementation gets ``prepare(layer, x, w, b, threads)`` and returns either a zero-argument
callable that computes the layer and returns a NumPy array (N, O, OH, OW), or a string that says
why it cannot run this layer. Everything that a user would do once per model (converting weights,
building an ONNX session) happens in ``prepare``; the callable is what a user pays per call.
Peers whose package is missing report it once through ``missing``; none is required.
"""

from __future__ import annotations

import importlib

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import cconv


class Impl:
    key = ""       # short column name
    label = ""     # what is timed, for people
    module = None  # the package it needs (None: always available)
    best_peer = False  # counts towards the "best peer" (PyTorch, ONNX Runtime, OpenCV)

    def __init__(self):
        self.missing = None
        self.lib = None
        if self.module:
            try:
                self.lib = importlib.import_module(self.module)
            except Exception as exc:  # ImportError, or a broken install raising anything else
                self.missing = f"{self.label} skipped: cannot import {self.module} ({exc})"

    def set_threads(self, threads: int) -> None:
        """Limit the library's own thread pool (threadpoolctl handles BLAS and OpenMP)."""

    def version(self) -> str | None:
        return getattr(self.lib, "__version__", None)

    def applies(self, layer) -> bool:
        """False for layers the peer is not meant for at all (skipped without a note)."""
        return True

    def settle_s(self, threads: int) -> float:
        """Pause after this implementation's samples before the next one is timed, for worker
        threads that stay active without showing in the process's CPU time."""
        return 0.0

    def prepare(self, layer, x, w, b, threads):
        raise NotImplementedError


class CConv(Impl):
    key = "cconv"
    label = "cconv.conv2d"

    def version(self):
        return cconv.__version__

    def prepare(self, layer, x, w, b, threads):
        args = (layer.stride, layer.pad, layer.dilation, layer.groups)
        return lambda: cconv.conv2d(x, w, b, *args, threads=threads)


class Torch(Impl):
    key = "torch"
    label = "PyTorch F.conv2d"
    module = "torch"
    best_peer = True

    def set_threads(self, threads):
        self.lib.set_num_threads(threads)

    def prepare(self, layer, x, w, b, threads):
        torch = self.lib
        conv = torch.nn.functional.conv2d
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        bt = None if b is None else torch.from_numpy(b)
        args = (layer.stride, layer.pad, layer.dilation, layer.groups)
        # No tensor requires grad, so autograd records nothing: no no_grad() needed per call.
        return lambda: conv(xt, wt, bt, *args).numpy()


class OnnxRuntime(Impl):
    key = "ort"
    label = "ONNX Runtime Conv"
    module = "onnxruntime"
    best_peer = True

    def __init__(self):
        super().__init__()
        if self.missing is None:
            try:
                self.onnx = importlib.import_module("onnx")
            except Exception as exc:
                self.missing = f"{self.label} skipped: cannot import onnx ({exc})"

    def prepare(self, layer, x, w, b, threads):
        if x.dtype != np.float32:
            return "ONNX Runtime has no float64 Conv on the CPU"
        ort, onnx = self.lib, self.onnx
        helper, numpy_helper = onnx.helper, onnx.numpy_helper
        elem = helper.np_dtype_to_tensor_dtype(x.dtype)
        inputs = ["x", "w"] + ([] if b is None else ["b"])
        node = helper.make_node(
            "Conv", inputs, ["y"], kernel_shape=[layer.kh, layer.kw],
            strides=[layer.stride] * 2, pads=[layer.pad] * 4,
            dilations=[layer.dilation] * 2, group=layer.groups)
        initializers = [numpy_helper.from_array(w, "w")]
        if b is not None:
            initializers.append(numpy_helper.from_array(b, "b"))
        graph = helper.make_graph(
            [node], "conv", [helper.make_tensor_value_info("x", elem, list(x.shape))],
            [helper.make_tensor_value_info("y", elem, list(layer.output_shape))], initializers)
        # Opset 17 / IR 8: old enough for every onnxruntime that the onnx package pairs with.
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        feed = {"x": x}
        return lambda: session.run(None, feed)[0]


class OpenCV(Impl):
    key = "cv2"
    label = "OpenCV filter2D"
    module = "cv2"
    best_peer = True

    def set_threads(self, threads):
        self.lib.setNumThreads(threads)

    def applies(self, layer):
        return layer.single_channel  # filter2D maps one feature map to one feature map

    def prepare(self, layer, x, w, b, threads):
        if layer.stride != 1 or layer.dilation != 1:
            return "filter2D has no stride or dilation"
        oh, ow = layer.out_hw()
        # filter2D correlates (no flip, like conv2d) and its output is H x W. With the anchor at
        # (pad_left, pad_top) and zero borders, output pixel (y, x) sums src[y+i-pad, x+j-pad]:
        # conv2d's pixel (y, x). conv2d's output is never wider than H x W when pad <= (k-1)/2.
        if not (layer.pad <= layer.kh - 1 and layer.pad <= layer.kw - 1 and oh <= layer.h
                and ow <= layer.w):
            return "padding too large for filter2D's H x W output"
        cv2 = self.lib
        kernel = np.ascontiguousarray(w[0, 0])
        delta = 0.0 if b is None else float(b[0])
        anchor = (layer.pad, layer.pad)
        planes = [np.ascontiguousarray(x[i, 0]) for i in range(layer.n)]

        def run():
            out = np.empty((layer.n, 1, oh, ow), x.dtype)
            for i, plane in enumerate(planes):
                y = cv2.filter2D(plane, -1, kernel, anchor=anchor, delta=delta,
                                 borderType=cv2.BORDER_CONSTANT)
                out[i, 0] = y[:oh, :ow]
            return out
        return run


class NumpyIm2col(Impl):
    key = "numpy"
    label = "NumPy im2col+matmul"

    def version(self):
        return np.__version__

    def settle_s(self, threads):
        # Measured here: for about 100 ms after a 2-thread OpenBLAS matmul (its thread timeout),
        # cconv's next 2-thread call ran up to 2x slower although the process used no CPU.
        return 0.15 if threads > 1 else 0.0

    def prepare(self, layer, x, w, b, threads):
        g, s, d, p = layer.groups, layer.stride, layer.dilation, layer.pad
        n, o = layer.n, layer.o
        cg, og = layer.c // g, layer.o // g
        kh, kw = layer.kh, layer.kw
        oh, ow = layer.out_hw()
        depth = cg * kh * kw
        weight = w.reshape(g, og, depth)
        bias = None if b is None else b.reshape(1, o, 1, 1)
        window = (d * (kh - 1) + 1, d * (kw - 1) + 1)

        def run():
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
            # (N, C, H', W', eh, ew) view -> taps at the dilation, windows at the stride.
            view = sliding_window_view(xp, window, axis=(2, 3))[:, :, ::s, ::s, ::d, ::d]
            view = view[:, :, :oh, :ow].reshape(n, g, cg, oh, ow, kh, kw)
            # The im2col copy: (N, G, Cg*kH*kW, OH*OW), columns in the weight's order.
            cols = view.transpose(0, 1, 2, 5, 6, 3, 4).reshape(n, g, depth, oh * ow)
            out = np.matmul(weight, cols).reshape(n, o, oh, ow)
            if bias is not None:
                out += bias
            return out
        return run


ALL = (CConv, Torch, OnnxRuntime, OpenCV, NumpyIm2col)


def isolated_call(key: str, layer, dtype_name: str, threads: int, with_bias: bool):
    """The timed callable of implementation `key` for one layer, made inside a worker process of
    benchmarks/isolated_timing.py: only that implementation's library is used there, its threads
    (and BLAS/OpenMP pools, through threadpoolctl when installed) limited to `threads`."""
    from conv_layers import make_arrays
    impl = {cls.key: cls for cls in ALL}[key]()
    if impl.missing is not None:
        return impl.missing
    impl.set_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:
        pass
    x, w, b = make_arrays(layer, np.dtype(dtype_name), with_bias=with_bias)
    if not impl.applies(layer):
        return "does not apply"
    return impl.prepare(layer, x, w, b, threads)
