"""Other projects' test cases, run through cconv: PyTorch's OpInfo sample inputs (when torch is
installed) and ONNX's backend node test cases (when onnx is installed).

Each source keeps a table of operation name -> adapter.  An adapter runs one case through cconv
and returns the number of comparisons it made, or raises `Unsupported(reason)` for a case
outside what cconv's API offers (counted as skipped, by reason); any other exception, or a
mismatch, is a failure.  To cover another operation, add its adapter to the table.

The counts (passed, failed, skipped with reasons) are printed at the end of the pytest run and
by `python tests/test_external_cases.py`.
"""

from __future__ import annotations

import collections
import importlib
import pathlib

import numpy as np
import pytest

import cconv


class Unsupported(Exception):
    """A case whose semantics cconv does not offer; the message is the counted reason."""


class Tally:
    """Per operation: how many cases passed, failed (with the first messages) or were skipped
    (by reason)."""

    def __init__(self):
        self.passed = collections.Counter()
        self.failed = collections.defaultdict(list)
        self.skipped = collections.defaultdict(collections.Counter)

    def run(self, op, name, fn):
        try:
            fn()
        except Unsupported as why:
            self.skipped[op][str(why)] += 1
        except Exception as exc:  # a failure of cconv, reported with the case
            self.failed[op].append(f"{name}: {type(exc).__name__}: {str(exc)[:300]}")
        else:
            self.passed[op] += 1

    def lines(self, source):
        out = []
        for op in sorted(set(self.passed) | set(self.failed) | set(self.skipped)):
            skipped = sum(self.skipped[op].values())
            out.append(f"{source} {op}: {self.passed[op]} passed, {len(self.failed[op])} "
                       f"failed, {skipped} skipped")
            for reason, count in self.skipped[op].most_common():
                out.append(f"    skipped {count}: {reason}")
            for message in self.failed[op][:5]:
                out.append(f"    FAILED {message}")
        return out


def _report(request, lines):
    """Hands the summary lines to conftest's end-of-run report."""
    from conftest import EXTERNAL_SUMMARY
    request.config.stash.setdefault(EXTERNAL_SUMMARY, []).extend(lines)


def _assert_close(got, want, rtol, atol, what):
    """|got - want| <= atol + rtol |want| elementwise, NaN where NaN (quicker than
    numpy.testing's, which counts for thousands of tiny cases)."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {got.shape}, expected {want.shape}")
    if want.dtype.kind in "iub":
        got = got.astype(want.dtype)
    g, w = got.astype(np.float64), want.astype(np.float64)
    with np.errstate(invalid="ignore"):
        ok = (g == w) | (np.abs(g - w) <= atol + rtol * np.abs(w)) | (np.isnan(g) & np.isnan(w))
    if not ok.all():
        bad = np.argwhere(~ok)[0]
        raise AssertionError(f"{what}: {int((~ok).sum())} of {ok.size} differ, first at "
                             f"{tuple(bad)}: {g[tuple(bad)]!r} vs {w[tuple(bad)]!r}")


# ================================================================= PyTorch OpInfo samples
def _numpy_input(tensor):
    """The sample's tensor as NumPy (a view with its strides: read in place), or Unsupported."""
    import torch
    if tensor.dtype == torch.bfloat16:
        raise Unsupported("bfloat16 input (NumPy has no bfloat16)")
    if tensor.dim() not in (3, 4):
        raise Unsupported(f"{tensor.dim()}-D input (cconv takes (N, C, H, W) or (C, H, W))")
    return tensor.detach().numpy()


def _torch_tolerance(dtype):
    import torch
    return {torch.float16: (1e-3, 1e-3), torch.float32: (1e-5, 1e-6)}.get(dtype, (1e-12, 1e-13))


def _check_torch_backward(sample, op, cconv_grad):
    """cconv's gradient for a random grad_output against torch autograd (float32/64 only)."""
    import torch
    x = sample.input
    if x.dtype not in (torch.float32, torch.float64):
        return
    xt = x.detach().clone().requires_grad_(True)
    result = op(xt, *sample.args, **sample.kwargs)
    y = result[0] if isinstance(result, tuple) else result
    go = torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(0))
    y.backward(go)
    rtol, atol = _torch_tolerance(x.dtype)
    _assert_close(cconv_grad(go.numpy()), xt.grad.numpy(), rtol, atol, "gradient")


def _pool_args(sample, names):
    """The sample's positional and keyword arguments as one dict, by PyTorch's names."""
    kwargs = dict(zip(names, sample.args))
    kwargs.update(sample.kwargs)
    return kwargs


def opinfo_max_pool2d(sample, op):
    x = _numpy_input(sample.input)
    kw = _pool_args(sample, ("kernel_size", "stride", "padding", "dilation", "ceil_mode",
                             "return_indices"))
    kw["return_indices"] = True
    want = op(sample.input, **kw)
    values, idx = cconv.max_pool2d(x, **kw)
    _assert_close(values, want[0].numpy(), 0, 0, "values")
    _assert_close(idx, want[1].numpy(), 0, 0, "indices")
    _check_torch_backward(sample, op, lambda go: cconv.max_pool2d_backward(go, idx, x.shape))


def opinfo_avg_pool2d(sample, op):
    x = _numpy_input(sample.input)
    if x.dtype.kind != "f":
        raise Unsupported(f"{x.dtype} input (cconv averages in float32/float64, PyTorch in the "
                          f"integer type)")
    kw = _pool_args(sample, ("kernel_size", "stride", "padding", "ceil_mode",
                             "count_include_pad", "divisor_override"))
    rtol, atol = _torch_tolerance(sample.input.dtype)
    _assert_close(cconv.avg_pool2d(x, **kw), op(sample.input, *sample.args,
                                                 **sample.kwargs).numpy(), rtol, atol, "values")
    _check_torch_backward(sample, op, lambda go: cconv.avg_pool2d_backward(go, x.shape, **kw))


def opinfo_adaptive_avg_pool2d(sample, op):
    x = _numpy_input(sample.input)
    kw = _pool_args(sample, ("output_size",))
    rtol, atol = _torch_tolerance(sample.input.dtype)
    _assert_close(cconv.adaptive_avg_pool2d(x, **kw),
                  op(sample.input, *sample.args, **sample.kwargs).numpy(), rtol, atol, "values")
    _check_torch_backward(sample, op,
                          lambda go: cconv.adaptive_avg_pool2d_backward(go, x.shape))


def opinfo_adaptive_max_pool2d(sample, op):
    x = _numpy_input(sample.input)
    kw = _pool_args(sample, ("output_size", "return_indices"))
    kw["return_indices"] = True
    want = op(sample.input, **kw)
    values, idx = cconv.adaptive_max_pool2d(x, **kw)
    _assert_close(values, want[0].numpy(), 0, 0, "values")
    _assert_close(idx, want[1].numpy(), 0, 0, "indices")
    _check_torch_backward(sample, op, lambda go: cconv.max_pool2d_backward(go, idx, x.shape))


def _torch_grads(sample, op):
    """(grad_output, d/d input, d/d weight) of the sample through autograd, float32/64 only."""
    import torch
    if sample.input.dtype not in (torch.float32, torch.float64):
        return None
    xt = sample.input.detach().clone().requires_grad_(True)
    wt = sample.args[0].detach().clone().requires_grad_(True)
    y = op(xt, wt, *sample.args[1:], **sample.kwargs)
    go = torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(0))
    y.backward(go)
    return go.numpy(), xt.grad.numpy(), wt.grad.numpy()


def opinfo_conv2d(sample, op):
    """Values, and both gradients (conv2d_input, conv2d_weight) against autograd."""
    x = _numpy_input(sample.input)
    w = sample.args[0].detach().numpy()
    b = sample.args[1].detach().numpy() if len(sample.args) > 1 and sample.args[1] is not None \
        else None
    kw = dict(sample.kwargs)
    rtol, atol = _torch_tolerance(sample.input.dtype)
    want = op(sample.input, *sample.args, **sample.kwargs).numpy()
    _assert_close(cconv.conv2d(x, w, b, **kw), want, rtol, atol * np.abs(want).max(initial=1),
                  "values")
    grads = _torch_grads(sample, op)
    if grads is not None:
        go, gx, gw = grads
        _assert_close(cconv.conv2d_input(x.shape, w, go, **kw), gx, rtol,
                      atol * np.abs(gx).max(initial=1), "input gradient")
        _assert_close(cconv.conv2d_weight(x, w.shape, go, **kw), gw, rtol,
                      atol * np.abs(gw).max(initial=1), "weight gradient")


def opinfo_conv_transpose2d(sample, op):
    x = _numpy_input(sample.input)
    w = sample.args[0].detach().numpy()
    b = sample.args[1].detach().numpy() if len(sample.args) > 1 and sample.args[1] is not None \
        else None
    rtol, atol = _torch_tolerance(sample.input.dtype)
    want = op(sample.input, *sample.args, **sample.kwargs).numpy()
    _assert_close(cconv.conv_transpose2d(x, w, b, **sample.kwargs), want, rtol,
                  atol * np.abs(want).max(initial=1), "values")


OPINFO_ADAPTERS = {
    "nn.functional.conv2d": opinfo_conv2d,
    "nn.functional.conv_transpose2d": opinfo_conv_transpose2d,
    "nn.functional.max_pool2d": opinfo_max_pool2d,
    "nn.functional.avg_pool2d": opinfo_avg_pool2d,
    "nn.functional.adaptive_avg_pool2d": opinfo_adaptive_avg_pool2d,
    "nn.functional.adaptive_max_pool2d": opinfo_adaptive_max_pool2d,
}


def run_opinfo(tally):
    """Every OpInfo sample of the table's operations, in every dtype PyTorch supports there."""
    import torch
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except Exception as exc:  # e.g. torch's test-only dependency expecttest missing
        pytest.skip(f"PyTorch's OpInfo database cannot be imported ({exc})")
    ops = [op for op in op_db if op.name in OPINFO_ADAPTERS and not op.variant_test_name]
    # PyTorch's threads cost milliseconds per call on these tiny samples (waking its pool).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _run_opinfo_ops(ops, tally)
    finally:
        torch.set_num_threads(threads)
    return len(ops)


def _run_opinfo_ops(ops, tally):
    import torch
    for op in ops:
        adapter = OPINFO_ADAPTERS[op.name]
        for dtype in sorted(op.supported_dtypes("cpu"), key=str):
            if not dtype.is_floating_point and dtype != torch.int64 and dtype not in (
                    torch.int8, torch.int16, torch.int32, torch.uint8):
                continue
            # The raw generator behind op.sample_inputs (same samples, without the per-sample
            # bookkeeping for PyTorch's own test runner, which walks the stack each time).
            torch.manual_seed(0)
            for i, sample in enumerate(op.sample_inputs_func(op, "cpu", dtype, False)):
                tally.run(op.name, f"{dtype} sample {i} {tuple(sample.input.shape)} "
                                   f"{sample.args} {sample.kwargs}",
                          lambda: adapter(sample, op.op))


def test_pytorch_opinfo_samples(request):
    pytest.importorskip("torch")
    tally = Tally()
    ops = run_opinfo(tally)
    _report(request, tally.lines("PyTorch OpInfo"))
    assert ops == len(OPINFO_ADAPTERS), "an operation of the table is missing from op_db"
    failures = [m for op in tally.failed for m in tally.failed[op]]
    assert not failures, "\n".join(failures[:20])
    assert sum(tally.passed.values()) > 1000


# ================================================================= ONNX backend node cases
def _onnx_cases(op_types):
    """(name, NodeProto, [(inputs, outputs)], rtol, atol) of the ONNX node test cases of these
    op types: from the package's data/node folders when it ships them, else generated by the
    case modules of onnx.backend.test.case.node (as onnx's own backend test does)."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper
    root = pathlib.Path(onnx.__file__).parent / "backend" / "test" / "data" / "node"
    cases = []
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            model_file = folder / "model.onnx"
            if not model_file.exists():
                continue
            model = onnx.load(str(model_file))
            node = model.graph.node[0]
            if node.op_type not in op_types:
                continue
            data = []
            for ds in sorted(folder.glob("test_data_set_*")):
                def read(prefix):
                    tensors = []
                    for f in sorted(ds.glob(f"{prefix}_*.pb")):
                        t = onnx.TensorProto()
                        t.ParseFromString(f.read_bytes())
                        tensors.append(numpy_helper.to_array(t))
                    return tensors
                data.append((read("input"), read("output")))
            cases.append((folder.name, node, data, 1e-3, 1e-7))
        return cases
    import onnx.backend.test.case.node as node_cases
    modules = {"MaxPool": "maxpool", "AveragePool": "averagepool",
               "GlobalAveragePool": "globalaveragepool", "GlobalMaxPool": "globalmaxpool",
               "Conv": "conv", "ConvTranspose": "convtranspose"}
    for op_type in op_types:
        importlib.import_module(f"onnx.backend.test.case.node.{modules[op_type]}")
    seen = set()
    for case in node_cases._NodeTestCases:
        node = case.model.graph.node[0]
        if node.op_type in op_types and case.name not in seen:
            seen.add(case.name)
            cases.append((case.name, node, case.data_sets, case.rtol, case.atol))
    return cases


def _attributes(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _onnx_geometry(node, x):
    """cconv's kernel_size, stride, padding ((top, bottom), (left, right)), dilation and
    ceil_mode from a pooling node's attributes."""
    a = _attributes(node)
    if x.ndim != 4:
        raise Unsupported(f"{x.ndim - 2}-D pooling (cconv pools 2-D)")
    kernel = tuple(a["kernel_shape"])
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    auto_pad = a.get("auto_pad", b"NOTSET").decode()
    if auto_pad in ("NOTSET", "VALID"):
        pads = tuple(a.get("pads", (0, 0, 0, 0))) if auto_pad == "NOTSET" else (0, 0, 0, 0)
    else:  # SAME_UPPER / SAME_LOWER: output ceil(in / stride), the odd pixel after / before
        pads = [0, 0, 0, 0]
        for axis in range(2):
            size = x.shape[2 + axis]
            out = -(-size // strides[axis])
            total = max(0, (out - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1
                        - size)
            small, large = total // 2, total - total // 2
            pads[axis], pads[axis + 2] = (small, large) if auto_pad == "SAME_UPPER" else (
                large, small)
        pads = tuple(pads)
    for side, pad, k in zip(("top", "left", "bottom", "right"), pads, kernel * 2):
        if pad > k // 2:
            raise Unsupported("padding more than half the kernel (refused, as in PyTorch)")
    return {"kernel_size": kernel, "stride": strides,
            "padding": ((pads[0], pads[2]), (pads[1], pads[3])),
            "ceil_mode": bool(a.get("ceil_mode", 0))}, dilations, a


def onnx_max_pool(node, inputs, outputs, rtol, atol):
    x = inputs[0]
    geometry, dilations, a = _onnx_geometry(node, x)
    if len(outputs) > 1 and a.get("storage_order", 0) == 1:
        raise Unsupported("storage_order 1 (column-major indices)")
    values, idx = cconv.max_pool2d(x, dilation=dilations, return_indices=True, **geometry)
    _assert_close(values, outputs[0], rtol, atol, "values")
    if len(outputs) > 1:  # ONNX numbers every element of the whole tensor
        n, c, h, w = x.shape
        plane = (np.arange(n)[:, None] * c + np.arange(c)[None, :]) * h * w
        np.testing.assert_array_equal(idx + plane[:, :, None, None], outputs[1],
                                      err_msg="indices")


def onnx_average_pool(node, inputs, outputs, rtol, atol):
    x = inputs[0]
    geometry, dilations, a = _onnx_geometry(node, x)
    if dilations != (1, 1):
        raise Unsupported("dilated average pooling (PyTorch's avg_pool2d has no dilation)")
    got = cconv.avg_pool2d(x, count_include_pad=bool(a.get("count_include_pad", 0)),
                           **geometry)
    _assert_close(got, outputs[0], rtol, atol, "values")


def onnx_global_average_pool(node, inputs, outputs, rtol, atol):
    if inputs[0].ndim != 4:
        raise Unsupported(f"{inputs[0].ndim - 2}-D pooling (cconv pools 2-D)")
    _assert_close(cconv.adaptive_avg_pool2d(inputs[0], 1), outputs[0], rtol, atol, "values")


def onnx_global_max_pool(node, inputs, outputs, rtol, atol):
    if inputs[0].ndim != 4:
        raise Unsupported(f"{inputs[0].ndim - 2}-D pooling (cconv pools 2-D)")
    _assert_close(cconv.adaptive_max_pool2d(inputs[0], 1), outputs[0], rtol, atol, "values")


def _onnx_conv_pads(a, x, kernel, strides, dilations, transposed):
    """((top, bottom), (left, right)) of a Conv/ConvTranspose node (auto_pad resolved for Conv)."""
    auto_pad = a.get("auto_pad", b"NOTSET").decode()
    if auto_pad == "NOTSET":
        p = tuple(a.get("pads", (0, 0, 0, 0)))
        return ((p[0], p[2]), (p[1], p[3]))
    if auto_pad == "VALID":
        return ((0, 0), (0, 0))
    if transposed:
        raise Unsupported(f"ConvTranspose auto_pad {auto_pad}")
    pads = []
    for axis in range(2):
        size = x.shape[2 + axis]
        out = -(-size // strides[axis])
        total = max(0, (out - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - size)
        small, large = total // 2, total - total // 2
        pads.append((small, large) if auto_pad == "SAME_UPPER" else (large, small))
    return tuple(pads)


def onnx_conv(node, inputs, outputs, rtol, atol):
    x, w = inputs[0], inputs[1]
    if x.ndim != 4:
        raise Unsupported(f"{x.ndim - 2}-D convolution (cconv convolves 2-D)")
    a = _attributes(node)
    kernel = tuple(a.get("kernel_shape", w.shape[2:]))
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    pads = _onnx_conv_pads(a, x, kernel, strides, dilations, False)
    got = cconv.conv2d(x, w, inputs[2] if len(inputs) > 2 else None, strides, pads, dilations,
                       a.get("group", 1))
    _assert_close(got, outputs[0], rtol, atol, "values")


def onnx_conv_transpose(node, inputs, outputs, rtol, atol):
    x, w = inputs[0], inputs[1]
    if x.ndim != 4:
        raise Unsupported(f"{x.ndim - 2}-D convolution (cconv convolves 2-D)")
    a = _attributes(node)
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    out_pad = tuple(a.get("output_padding", (0, 0)))
    groups = a.get("group", 1)
    b = inputs[2] if len(inputs) > 2 else None
    auto_pad = a.get("auto_pad", b"NOTSET").decode()
    if "output_shape" not in a and auto_pad in ("NOTSET", "VALID"):
        pads = _onnx_conv_pads(a, x, w.shape[2:], strides, dilations, True)
        got = cconv.conv_transpose2d(x, w, b, strides, pads, out_pad, groups, dilations)
        _assert_close(got, outputs[0], rtol, atol, "values")
        return
    # ONNX derives the padding from the output shape (x * stride under SAME): total = full
    # size + output_padding - shape, split with the odd pixel at the end (SAME_UPPER, the
    # default) or the start.  The total may be negative: the output then reaches past the full
    # transposed convolution, where only the bias lands (the halves round toward zero, so an
    # odd negative total puts the extra pixel at the end under SAME_UPPER).
    shape = tuple(a["output_shape"])[-2:] if "output_shape" in a else tuple(
        x.shape[2 + i] * strides[i] for i in range(2))
    full = cconv.conv_transpose2d(x, w, None, strides, 0, 0, groups, dilations)
    got = np.zeros(full.shape[:2] + shape, full.dtype)
    if b is not None:
        got += b.reshape(-1, 1, 1)
    lower = auto_pad == "SAME_LOWER"
    spans = []
    for i in range(2):
        total = full.shape[2 + i] + out_pad[i] - shape[i]
        half = int(total / 2)  # the ONNX spec divides as C does: toward zero
        begin = total - half if lower else half
        spans.append((max(begin, 0), max(-begin, 0),
                      min(full.shape[2 + i] - max(begin, 0), shape[i] - max(-begin, 0))))
    (fy, gy, ny), (fx, gx, nx) = spans
    if ny > 0 and nx > 0:
        got[:, :, gy:gy + ny, gx:gx + nx] += full[:, :, fy:fy + ny, fx:fx + nx]
    _assert_close(got, outputs[0], rtol, atol, "values")


ONNX_ADAPTERS = {
    "Conv": onnx_conv,
    "ConvTranspose": onnx_conv_transpose,
    "MaxPool": onnx_max_pool,
    "AveragePool": onnx_average_pool,
    "GlobalAveragePool": onnx_global_average_pool,
    "GlobalMaxPool": onnx_global_max_pool,
}


def run_onnx(tally):
    cases = _onnx_cases(set(ONNX_ADAPTERS))
    for name, node, data_sets, rtol, atol in cases:
        adapter = ONNX_ADAPTERS[node.op_type]
        for k, (inputs, outputs) in enumerate(data_sets):
            tally.run(node.op_type, f"{name}[{k}]",
                      lambda: adapter(node, inputs, outputs, rtol, atol))
    return {node.op_type for _, node, _, _, _ in cases}


def test_onnx_backend_node_cases(request):
    pytest.importorskip("onnx")
    tally = Tally()
    ops = run_onnx(tally)
    _report(request, tally.lines("ONNX node cases"))
    assert ops == set(ONNX_ADAPTERS), f"no ONNX cases for {set(ONNX_ADAPTERS) - ops}"
    failures = [m for op in tally.failed for m in tally.failed[op]]
    assert not failures, "\n".join(failures[:20])


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")
    for source, runner in (("PyTorch OpInfo", run_opinfo), ("ONNX node cases", run_onnx)):
        t = Tally()
        try:
            runner(t)
        except BaseException as exc:  # pytest.skip outside pytest
            print(f"{source}: not run ({exc})")
            continue
        print("\n".join(t.lines(source)))
