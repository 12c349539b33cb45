"""cconv.dask.conv2d: cconv.conv2d on a Dask array, one task per chunk."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .. import _conv
from .._args import resolve
from .._layout import nchw_shape, resolve_data_format
from . import _axis, _blocks, _border, _kernels
from ._keywords import method_keywords
from ._store import store_into


class _Conv(NamedTuple):
    """What every conv2d task needs to know besides its block (plain data, cheap to send)."""

    plans: dict            # spatial axis -> AxisPlan
    axes: tuple            # (batch, channel, row, column) axes of the 4-D arrays
    stride: tuple
    dilation: tuple
    groups: int
    keywords: dict         # activation, data_format, threads, method
    dtype: np.dtype
    whole_positions: int   # output positions of the whole-array call (see _kernels)
    check_kernels: bool    # whether the kernel family changes the sums (see _kernels)
    pads: tuple | None     # ((top, bottom), (left, right)) of the whole call when each task
                           # pads its own part of the border (constant borders), else None
    padding_value: float


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           activation=None, residual=None, padding_mode="zeros", padding_value=0.0,
           data_format="NCHW", method="auto", out=None, threads=None, **options):
    """:func:`cconv.conv2d` of a Dask array, lazily, chunk by chunk.

    Every argument means what it means for :func:`cconv.conv2d`; ``compute()`` of the result
    equals ``cconv.conv2d`` of the whole array, bit for bit with the direct method.  Each
    chunk's task reads its chunk and the halo its outputs need (the rows and columns their
    windows reach into the neighbouring chunks), copied into Dask's graph by map_blocks.

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W) or (C, H, W); (N, H, W, C) or (H, W, C) with ``data_format="NHWC"``.
        Chunked along any axes: chunks along C are merged into one first (each filter reads
        every channel of its group), so chunk along N, H and W.  Anything else goes through
        ``dask.array.asarray``.
    weight, bias : array_like
        As for :func:`cconv.conv2d`, in memory (a Dask array is computed once); one copy is
        shared by all tasks.
    stride, padding, dilation, groups, activation, padding_mode, padding_value, data_format
        As for :func:`cconv.conv2d`. Border modes apply at the borders of the whole array
        only; a chunk's edge inside the array reads its neighbour's pixels ("circular" wraps
        around the whole array).
    residual : dask.array.Array or array_like, optional
        Of the output's shape; rechunked to the output's chunks.
    method : {"auto", "direct", "fft"}, default "auto"
        As for :func:`cconv.conv2d` (where this version of cconv has it), chosen for each
        chunk's call. Only "direct" guarantees the whole-array call's bits.
    out : array, optional
        Where to compute the result now, chunk by chunk (see :mod:`cconv.dask._store`): a
        NumPy array of the output's shape and dtype, as for :func:`cconv.conv2d`, or a Zarr
        array; ``out`` is returned.  Without it the result stays lazy.
    threads : int, optional
        Threads of each task's call. Default 1: Dask runs many tasks at once, one per worker
        thread, and a multi-threaded call in each would oversubscribe the cores.
    **options
        Any other keyword argument of :func:`cconv.conv2d` (one a later cconv adds), passed
        to each chunk's call unchanged; cconv checks it before any task runs.  Options that
        change the output's geometry have names above and are handled there.

    Returns
    -------
    dask.array.Array
        The lazy output, of :func:`cconv.conv2d_output_shape` and cconv's result dtype,
        chunked along N as the input and along OH and OW as the input's chunks give: an input
        chunk boundary b becomes the output boundary ``min(ceil(b / stride), OH)`` (the last
        chunk ends at OH). So ``padding="same"`` keeps the chunks and stride 2 halves them.
        The channel axis is one chunk.

    Raises
    ------
    ValueError, TypeError
        As :func:`cconv.conv2d` would for the whole array, raised here, before any task runs.

    Examples
    --------
    >>> import numpy as np, dask.array as da, cconv, cconv.dask
    >>> image = da.random.default_rng(0).random((1, 3, 1000, 1000), chunks=(1, 3, 256, 256))
    >>> blur = np.full((3, 1, 5, 5), 1 / 25)
    >>> y = cconv.dask.conv2d(image, blur, padding="same", groups=3, padding_mode="reflect")
    >>> y.chunks[2]
    (256, 256, 256, 232)
    >>> bool((y.compute() == cconv.conv2d(image.compute(), blur, padding="same", groups=3,
    ...                                   padding_mode="reflect")).all())
    True
    """
    import dask.array as da

    x = _blocks.as_dask_array(input)
    w = np.asarray(weight)
    b = None if bias is None else np.asarray(bias)
    r = None if residual is None else _blocks.as_dask_array(residual)
    keywords = dict(activation=activation, data_format=data_format,
                    threads=1 if threads is None else threads,
                    **method_keywords(_conv.conv2d, method), **options)
    dtype = _probe(x, w, b, r, keywords, padding_mode, padding_value)
    channels_last = resolve_data_format(data_format)
    out_shape = _conv.conv2d_output_shape(x.shape, w.shape, stride, padding, dilation, groups,
                                          data_format=data_format)
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"bias must have shape ({w.shape[0]},), one value per filter, got "
                         f"shape {b.shape}")
    if r is not None and r.shape != out_shape:
        raise ValueError(f"residual must have the output's shape {out_shape}, got shape "
                         f"{r.shape}")
    if x.size == 0 or 0 in out_shape:
        # Nothing to cut into chunks: cconv.conv2d answers from the (empty) input at once.
        whole = _conv.conv2d(np.asarray(x), w, b, stride, padding, dilation, groups,
                             residual=None if r is None else np.asarray(r),
                             padding_mode=padding_mode, padding_value=padding_value,
                             **keywords)
        return store_into(da.from_array(whole), out)

    batched = x.ndim == 4
    x4 = x if batched else x[None]
    r4 = None if r is None else r if batched else r[None]
    axes = (0, 3, 1, 2) if channels_last else (0, 1, 2, 3)
    _, c_axis, h_axis, w_axis = axes
    g = resolve(nchw_shape(x4.shape, channels_last), w.shape, stride, padding, dilation, groups)
    if x4.numblocks[c_axis] > 1:
        x4 = x4.rechunk({c_axis: -1})
    # A constant border ("zeros", padding_value) is padded by each task's own call, for the part
    # of the whole array's border its windows reach, exactly as the whole call pads it (no
    # border rows built, no copy of the edge chunks); the other modes repeat pixels of the
    # whole array, built once into the edge chunks (see _with_borders).
    inner = padding_mode == "zeros"
    plans = {
        h_axis: _axis.plan_axis(g.in_height, x4.chunks[h_axis], g.out_height, g.stride_h,
                                _axis.forward_window(g.stride_h, g.pad_top,
                                                     g.dilation_h * (g.kernel_height - 1) + 1),
                                clip=inner),
        w_axis: _axis.plan_axis(g.in_width, x4.chunks[w_axis], g.out_width, g.stride_w,
                                _axis.forward_window(g.stride_w, g.pad_left,
                                                     g.dilation_w * (g.kernel_width - 1) + 1),
                                clip=inner),
    }
    if inner:
        source = x4.rechunk({axis: plan.source_chunks for axis, plan in plans.items()})
    else:
        source = _with_borders(x4, plans, padding_mode, padding_value, dtype)
    spec = _Conv(plans, axes, (g.stride_h, g.stride_w), (g.dilation_h, g.dilation_w),
                 g.groups, keywords, dtype, g.batch * g.out_height * g.out_width,
                 channels_last and _kernels.order_depends_on_kernels(
                     g.in_channels // g.groups, g.kernel_height * g.kernel_width),
                 ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)) if inner else None,
                 padding_value)
    chunks = [None] * 4
    chunks[0], chunks[c_axis] = x4.chunks[0], (g.out_channels,)
    chunks[h_axis], chunks[w_axis] = plans[h_axis].out_chunks, plans[w_axis].out_chunks
    arrays = [_blocks.overlapped(source, plans), _blocks.as_delayed(w), _blocks.as_delayed(b)]
    if r4 is not None:
        arrays.append(r4.rechunk(tuple(chunks)))
    y = da.map_blocks(functools.partial(_conv_block, spec=spec), *arrays, chunks=tuple(chunks),
                      dtype=dtype, meta=np.empty((0,) * 4, dtype), token="cconv-conv2d")
    y = _blocks.final_chunks(y, plans)
    return store_into(y if batched else y[0], out)


def _probe(x, w, b, r, keywords, padding_mode, padding_value) -> np.dtype:
    """The result dtype, by cconv.conv2d itself on one pixel of these dtypes and these keyword
    arguments: every check that does not depend on the shapes, with cconv's own messages."""
    pixel = np.zeros((1, 1, 1, 1))
    y = _conv.conv2d(pixel.astype(x.dtype), np.zeros((1, 1, 1, 1), w.dtype),
                     None if b is None else np.zeros(1, b.dtype),
                     residual=None if r is None else pixel.astype(r.dtype),
                     padding_mode=padding_mode, padding_value=padding_value, **keywords)
    return y.dtype


def _with_borders(x4, plans, padding_mode, padding_value, dtype):
    """x4 with the whole array's border rows and columns that the windows read (a mode that
    repeats pixels), merged into the first and last chunks."""
    value = dtype.type(padding_value)
    for axis, plan in plans.items():
        x4 = _border.extend(x4, axis, plan.extent, plan.source_chunks, padding_mode, value)
    return x4


def _conv_block(block, weight, bias, residual=None, *, spec: _Conv, block_id):
    """One task: cconv.conv2d of the rows and columns of an overlapped block that its outputs
    read, padded by the part of the whole array's constant border they reach (other borders
    the block holds already)."""
    local = _blocks.window(block, spec.plans, block_id)
    _, c_axis, h_axis, w_axis = spec.axes
    rows = spec.plans[h_axis].out_chunks[block_id[h_axis]]
    cols = spec.plans[w_axis].out_chunks[block_id[w_axis]]
    shape = [None] * 4
    shape[0], shape[c_axis], shape[h_axis], shape[w_axis] = (local.shape[0], weight.shape[0],
                                                             rows, cols)
    if 0 in shape:
        return np.empty(shape, spec.dtype)
    copies = 1
    if spec.check_kernels:
        copies = _kernels.batch_copies(
            local.shape[0] * rows * cols, spec.whole_positions,
            _kernels.channels_last_threshold(local.shape[c_axis], weight.shape[0], spec.groups,
                                             spec.dtype.str))
    if copies > 1:
        local = _kernels.with_zero_images(local, copies)
        residual = None if residual is None else _kernels.with_zero_images(residual, copies)
    padding, border = 0, {}
    if spec.pads is not None:
        padding = tuple(_border_reached(spec.plans[axis], block_id[axis], pads)
                        for axis, pads in zip((h_axis, w_axis), spec.pads))
        border = {"padding_value": spec.padding_value}
        if any(pad > local.shape[axis] for axis, pair in zip((h_axis, w_axis), padding)
               for pad in pair):
            # Outputs that see mostly border, more than cconv pads for one call: the border
            # built here instead, in the computation's dtype (as the C core converts the input).
            widths = [(0, 0)] * 4
            widths[h_axis], widths[w_axis] = padding
            local = np.pad(local.astype(spec.dtype), widths,
                           constant_values=spec.dtype.type(spec.padding_value))
            padding, border = 0, {}
    y = _conv.conv2d(local, weight, bias, spec.stride, padding, spec.dilation, spec.groups,
                     residual=residual, **border, **spec.keywords)
    assert list(y.shape[1:]) == shape[1:], (y.shape, shape)
    return y[:shape[0]] if copies > 1 else y


def _border_reached(plan, block: int, pads: tuple) -> tuple:
    """(before, after): the rows of the whole call's padding `pads` that a block's windows
    [lo, hi) reach (none at a chunk edge inside the array, where its halo holds real pixels;
    all of them for windows that lie wholly in the border, whose block then reads no row)."""
    lo, hi = plan.windows[block]
    size = plan.extent[1]
    before, after = max(0, min(hi, 0) - lo), max(0, hi - max(lo, size))
    assert before <= pads[0] and after <= pads[1], (lo, hi, pads)
    return before, after
