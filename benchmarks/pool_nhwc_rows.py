"""The channels-last rows of bench_pool.py: each pooling layer with data_format="NHWC", timed
against the same layer in NCHW (same values, cconv's other layout) and against PyTorch on a
channels_last tensor, interleaved with them.  The target: NHWC at least TARGET times the NCHW
speed on each row (channels-last is a real path of its own, not a transpose around NCHW).

Rows: bench_pool.py's forward rows, and the gradients of the 3x3/2 pools and of global average
pooling.  A row's functions each return their result in NCHW order, so that all of them can be
checked against each other once before timing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import cconv

TARGET = 0.9  # NHWC speed / NCHW speed, on every row


@dataclass
class NhwcRow:
    name: str
    shape: tuple               # (N, C, H, W) of the layer's input
    op: str                    # "max", "max+indices", "avg", "global avg", "max backward",
    #                            "avg backward" or "global avg backward"
    kernel: int = 1
    stride: int = 1
    padding: int = 0

    def describe(self):
        n, c, h, w = self.shape
        if self.op.startswith("global avg"):
            return f"{n},{h},{w},{c} -> 1x1"
        return f"{n},{h},{w},{c} {self.kernel}x{self.kernel}/{self.stride} p{self.padding}"


def nhwc_rows(forward_rows):
    """The channels-last rows: bench_pool.py's forward rows, then three gradients."""
    rows = [NhwcRow(r.name + " nhwc", r.shape, r.op, r.kernel, r.stride, r.padding)
            for r in forward_rows]
    rows += [
        NhwcRow("max bwd 3x3/2 112 nhwc", (1, 64, 112, 112), "max backward", 3, 2, 1),
        NhwcRow("avg bwd 3x3/2 112 nhwc", (1, 64, 112, 112), "avg backward", 3, 2, 1),
        NhwcRow("global avg bwd 56 nhwc", (1, 256, 56, 56), "global avg backward"),
    ]
    return rows


def _nhwc(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


def _nchw(a):
    return np.moveaxis(a, -1, 1)


def _cconv_call(row, threads, layout):
    """A function running the row in cconv with data_format=layout on its own copy of the data
    (C-contiguous in that layout), returning the result viewed in NCHW order."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(row.shape).astype(np.float32)
    nhwc = layout == "NHWC"
    put = _nhwc if nhwc else (lambda a: a)
    get = _nchw if nhwc else (lambda a: a)
    k, s, p = row.kernel, row.stride, row.padding
    xi = put(x)
    kw = {"data_format": layout, "threads": threads}
    if row.op == "max":
        return lambda: get(cconv.max_pool2d(xi, k, s, p, **kw))
    if row.op == "max+indices":
        return lambda: get(cconv.max_pool2d(xi, k, s, p, return_indices=True, **kw)[0])
    if row.op == "avg":
        return lambda: get(cconv.avg_pool2d(xi, k, s, p, **kw))
    if row.op == "global avg":
        return lambda: get(cconv.adaptive_avg_pool2d(xi, 1, **kw))
    if row.op == "max backward":
        _, idx = cconv.max_pool2d(xi, k, s, p, return_indices=True, **kw)
        go = put(rng.standard_normal(get(idx).shape).astype(np.float32))
        return lambda: get(cconv.max_pool2d_backward(go, idx, xi.shape, **kw))
    if row.op == "avg backward":
        go = put(rng.standard_normal(cconv.pool2d_output_shape(x.shape, k, s, p))
                 .astype(np.float32))
        return lambda: get(cconv.avg_pool2d_backward(go, xi.shape, k, s, p, **kw))
    go = put(rng.standard_normal(row.shape[:2] + (1, 1)).astype(np.float32))
    return lambda: get(cconv.adaptive_avg_pool2d_backward(go, xi.shape, **kw))


def _torch_call(torch, row):
    """The row in PyTorch on channels_last tensors (aten's gradient ops for the gradients)."""
    F = torch.nn.functional
    aten = torch.ops.aten
    rng = np.random.default_rng(0)
    cl = torch.channels_last
    x = torch.from_numpy(rng.standard_normal(row.shape).astype(np.float32)).contiguous(
        memory_format=cl)
    k, s, p = row.kernel, row.stride, row.padding
    if row.op == "max":
        return lambda: F.max_pool2d(x, k, s, p).numpy()
    if row.op == "max+indices":
        return lambda: F.max_pool2d(x, k, s, p, return_indices=True)[0].numpy()
    if row.op == "avg":
        return lambda: F.avg_pool2d(x, k, s, p).numpy()
    if row.op == "global avg":
        return lambda: F.adaptive_avg_pool2d(x, 1).numpy()
    if row.op == "max backward":
        y, idx = F.max_pool2d(x, k, s, p, return_indices=True)
        go = torch.from_numpy(rng.standard_normal(tuple(y.shape)).astype(np.float32)).contiguous(
            memory_format=cl)
        return lambda: aten.max_pool2d_with_indices_backward(
            go, x, [k, k], [s, s], [p, p], [1, 1], False, idx).numpy()
    if row.op == "avg backward":
        shape = cconv.pool2d_output_shape(row.shape, k, s, p)
        go = torch.from_numpy(rng.standard_normal(shape).astype(np.float32)).contiguous(
            memory_format=cl)
        return lambda: aten.avg_pool2d_backward(go, x, [k, k], [s, s], [p, p], False, True,
                                                None).numpy()
    go = torch.from_numpy(rng.standard_normal(row.shape[:2] + (1, 1)).astype(np.float32)
                          ).contiguous(memory_format=cl)
    return lambda: aten._adaptive_avg_pool2d_backward(go, x).numpy()


def prepare(row, threads, torch):
    """{"cconv": NHWC, "nchw": the same layer in NCHW, "torch": channels_last} for one row,
    each returning its result in NCHW order (torch absent when it is not installed)."""
    fns = {"cconv": _cconv_call(row, threads, "NHWC"), "nchw": _cconv_call(row, threads, "NCHW")}
    if torch is not None:
        fns["torch"] = _torch_call(torch, row)
    return fns
