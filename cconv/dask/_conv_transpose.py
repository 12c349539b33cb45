"""cconv.dask.conv_transpose2d: cconv.conv_transpose2d on a Dask array, one task per chunk."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .. import _conv_transpose
from .._args import resolve_transpose
from .._layout import nchw_shape, resolve_data_format
from . import _axis, _blocks, _border, _kernels
from ._store import store_into


class _Transpose(NamedTuple):
    """What every conv_transpose2d task needs besides its block."""

    plans: dict            # spatial axis -> AxisPlan
    axes: tuple            # (batch, channel, row, column) axes of the 4-D arrays
    stride: tuple
    pads: tuple            # (top, left) of the whole call
    reach: tuple           # dilation * (kernel - 1), per axis
    starts: dict           # spatial axis -> first output row of each computation block
    groups: int
    dilation: tuple
    keywords: dict         # data_format, threads, options
    dtype: np.dtype
    whole_phase_positions: int  # output positions of the whole call's smallest phase
    check_kernels: bool


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, output_size=None, data_format="NCHW", out=None, threads=None,
                     **options):
    """:func:`cconv.conv_transpose2d` of a Dask array, lazily, chunk by chunk.

    Every argument means what it means for :func:`cconv.conv_transpose2d`, and ``compute()``
    of the result equals ``cconv.conv_transpose2d`` of the whole array, bit for bit.  Each
    task reads its chunk and the input rows and columns of the neighbouring chunks whose
    kernels reach into its output chunk.

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W) or (C, H, W) (NHWC: (N, H, W, C) or (H, W, C)), chunked along N, H and W
        (chunks along C are merged into one first).
    weight, bias : array_like
        (C, O/groups, kH, kW) and (O,), in memory, shared by all tasks.
    stride, padding, output_padding, groups, dilation, output_size, data_format
        As for :func:`cconv.conv_transpose2d`.
    out : array, optional
        Where to compute the result now, chunk by chunk: as for :func:`cconv.dask.conv2d`.
    threads : int, optional
        Threads of each task's call; default 1 (Dask runs the tasks in parallel).
    **options
        Any other keyword argument of the cconv function (one a later cconv adds), passed to
        each chunk's call unchanged and checked by cconv before any task runs.

    Returns
    -------
    dask.array.Array
        Of cconv's output shape and dtype, chunked along N as the input and along OH and OW as
        the input's chunks give: an input chunk boundary b becomes the output boundary
        ``min(b * stride, OH)`` (the last chunk ends at OH). The channel axis is one chunk.

    Raises
    ------
    ValueError, TypeError
        As :func:`cconv.conv_transpose2d` would for the whole array, raised here.

    Examples
    --------
    >>> import numpy as np, dask.array as da, cconv, cconv.dask
    >>> x = da.ones((1, 4, 64, 64), chunks=(1, 4, 16, 16), dtype=np.float32)
    >>> w = np.ones((4, 2, 4, 4), np.float32)
    >>> y = cconv.dask.conv_transpose2d(x, w, stride=2, padding=1)
    >>> y.shape, y.chunks[2]
    ((1, 2, 128, 128), (32, 32, 32, 32))
    >>> bool((y.compute() == cconv.conv_transpose2d(x.compute(), w, stride=2,
    ...                                             padding=1)).all())
    True
    """
    import dask.array as da

    x = _blocks.as_dask_array(input)
    w = np.asarray(weight)
    b = None if bias is None else np.asarray(bias)
    keywords = dict(data_format=data_format, threads=1 if threads is None else threads,
                    **options)
    channels_last = resolve_data_format(data_format)
    out_shape = _conv_transpose.conv_transpose2d_output_shape(
        x.shape, w.shape, stride, padding, output_padding, groups, dilation,
        output_size=output_size, data_format=data_format)
    # One pixel of these dtypes: the result dtype and every check of the arguments that does
    # not depend on the shapes, with cconv's own messages.
    probe = _conv_transpose.conv_transpose2d(
        np.zeros((1, 1, 1, 1), x.dtype), np.zeros((1, 1, 1, 1), w.dtype),
        None if b is None else np.zeros(1, b.dtype), **keywords)
    dtype = probe.dtype
    g = resolve_transpose(nchw_shape(x.shape, channels_last), w.shape, stride, padding,
                          output_padding, groups, dilation, output_size)
    if b is not None and b.shape != (g.out_channels,):
        raise ValueError(f"bias must have shape ({g.out_channels},), one value per output "
                         f"channel, got shape {b.shape}")
    if x.size == 0 or 0 in out_shape:
        return store_into(da.from_array(_conv_transpose.conv_transpose2d(
            np.asarray(x), w, b, stride, padding, output_padding, groups, dilation,
            output_size=output_size, **keywords)), out)

    batched = x.ndim == 4
    x4 = x if batched else x[None]
    axes = (0, 3, 1, 2) if channels_last else (0, 1, 2, 3)
    _, c_axis, h_axis, w_axis = axes
    if x4.numblocks[c_axis] > 1:
        x4 = x4.rechunk({c_axis: -1})
    reach = (g.dilation_h * (g.kernel_height - 1), g.dilation_w * (g.kernel_width - 1))
    plans = {
        h_axis: _axis.plan_axis(g.in_height, x4.chunks[h_axis], g.out_height, g.stride_h,
                                _axis.transpose_window(g.stride_h, g.pad_top, reach[0]),
                                transposed=True),
        w_axis: _axis.plan_axis(g.in_width, x4.chunks[w_axis], g.out_width, g.stride_w,
                                _axis.transpose_window(g.stride_w, g.pad_left, reach[1]),
                                transposed=True),
    }
    # Input rows that the windows read outside the input are zeros: the transposed convolution
    # has no border mode.
    source = x4
    for axis, plan in plans.items():
        source = _border.extend(source, axis, plan.extent, plan.source_chunks, "zeros", 0)
    starts = {axis: tuple(np.cumsum((0,) + plan.out_chunks[:-1]).tolist())
              for axis, plan in plans.items()}
    spec = _Transpose(plans, axes, (g.stride_h, g.stride_w), (g.pad_top, g.pad_left), reach,
                      starts, g.groups, (g.dilation_h, g.dilation_w), keywords, dtype,
                      g.batch * _smallest_phase(g.out_height, g.stride_h)
                      * _smallest_phase(g.out_width, g.stride_w),
                      channels_last and _kernels.order_depends_on_kernels(
                          g.in_channels // g.groups, g.kernel_height * g.kernel_width))
    chunks = [None] * 4
    chunks[0], chunks[c_axis] = x4.chunks[0], (g.out_channels,)
    chunks[h_axis], chunks[w_axis] = plans[h_axis].out_chunks, plans[w_axis].out_chunks
    y = da.map_blocks(functools.partial(_transpose_block, spec=spec),
                      _blocks.overlapped(source, plans), _blocks.as_delayed(w),
                      _blocks.as_delayed(b), chunks=tuple(chunks), dtype=dtype,
                      meta=np.empty((0,) * 4, dtype), token="cconv-conv_transpose2d")
    y = _blocks.final_chunks(y, plans)
    return store_into(y if batched else y[0], out)


def _smallest_phase(outputs: int, stride: int) -> int:
    """Output rows of the smallest non-empty stride phase (phase r: rows r, r + stride, ...)."""
    return -(-(outputs - min(stride, outputs) + 1) // stride)


def _crop(plan, start: int, outputs: int, block: int, stride: int, pad: int,
          reach: int) -> tuple[int, int]:
    """(before, after): the padding (crop) that leaves exactly outputs [start, start + outputs)
    of a call on the rows that block reads."""
    first, end = plan.windows[block]
    before = start + pad - first * stride
    full = (end - first - 1) * stride + reach + 1
    return before, full - before - outputs


def _transpose_block(block, weight, bias, *, spec: _Transpose, block_id):
    """One task: cconv.conv_transpose2d of the rows and columns of an overlapped block that
    reach its output chunk, cropped to it."""
    local = _blocks.window(block, spec.plans, block_id)
    _, c_axis, h_axis, w_axis = spec.axes
    i, j = block_id[h_axis], block_id[w_axis]
    rows = spec.plans[h_axis].out_chunks[i]
    cols = spec.plans[w_axis].out_chunks[j]
    shape = [None] * 4
    shape[0], shape[c_axis], shape[h_axis], shape[w_axis] = (
        local.shape[0], weight.shape[1] * spec.groups, rows, cols)
    if 0 in shape:
        return np.empty(shape, spec.dtype)
    padding = (_crop(spec.plans[h_axis], spec.starts[h_axis][i], rows, i, spec.stride[0],
                     spec.pads[0], spec.reach[0]),
               _crop(spec.plans[w_axis], spec.starts[w_axis][j], cols, j, spec.stride[1],
                     spec.pads[1], spec.reach[1]))
    copies = 1
    if spec.check_kernels:
        copies = _kernels.batch_copies(
            local.shape[0] * _smallest_phase(rows, spec.stride[0])
            * _smallest_phase(cols, spec.stride[1]), spec.whole_phase_positions,
            _kernels.channels_last_threshold(local.shape[c_axis], shape[c_axis], spec.groups,
                                             spec.dtype.str))
    local = _kernels.with_zero_images(local, copies)
    y = _conv_transpose.conv_transpose2d(local, weight, bias, spec.stride, padding, 0,
                                         spec.groups, spec.dilation, **spec.keywords)
    assert list(y.shape[1:]) == shape[1:], (y.shape, shape)
    return y[:shape[0]] if copies > 1 else y
