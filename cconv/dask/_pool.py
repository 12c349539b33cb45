"""cconv.dask.max_pool2d and avg_pool2d: cconv's pooling on a Dask array, one task per chunk.

Pooling's border is not a value that could be built into the array: max pooling's windows skip
the padding, average pooling divides by a count that depends on it (count_include_pad, and
ceil_mode's last window, which may pass the padding).  So each task passes the C core exactly
the part of the whole array's padding that its windows reach (none at a chunk edge inside the
array, where the halo holds real pixels) and lets it apply its own rule, the same as in the
whole-array call.
"""

from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import numpy as np

from .. import _pool
from .._args import resolve_pool
from .._layout import nchw_shape, resolve_data_format
from . import _axis, _blocks
from ._keywords import takes
from ._store import store_into


class _Pool(NamedTuple):
    """What every pooling task needs besides its block."""

    function: object       # cconv.max_pool2d or cconv.avg_pool2d
    plans: dict            # spatial axis -> AxisPlan
    axes: tuple            # (batch, channel, row, column) axes of the 4-D arrays
    pads: tuple            # ((top, bottom), (left, right)) of the whole call
    arguments: dict        # kernel_size, stride, ceil_mode and the operation's own
    channels_last: bool
    indices: bool          # return_indices: flat indices into the whole input's planes
    width: int             # W of the whole input (for those indices)
    dtype: np.dtype


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, data_format="NCHW", out=None, threads=None, **options):
    """:func:`cconv.max_pool2d` of a Dask array, lazily, chunk by chunk.

    Every argument means what it means for :func:`cconv.max_pool2d`; ``compute()`` of the
    result equals ``cconv.max_pool2d`` of the whole array, bit for bit, indices included
    (flat indices ``h * W + w`` into the whole input's planes, as cconv and PyTorch give them).

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W) or (C, H, W); (N, H, W, C) or (H, W, C) with ``data_format="NHWC"``.
        Chunked along any axes (pooling keeps the channels apart, so C-chunks stay).
    kernel_size, stride, padding, dilation, ceil_mode, return_indices
        As for :func:`cconv.max_pool2d`.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Where the channel axis is (passed on where cconv.max_pool2d takes it, else each task
        pools an NCHW-ordered view of its channels-last block).
    out : array or (array, array), optional
        Where to compute the result now, chunk by chunk: as for :func:`cconv.dask.conv2d`;
        with return_indices a (values, indices) pair, either of them None.
    threads : int, optional
        Threads of each task's call; default 1 (Dask runs the tasks in parallel).
    **options
        Any other keyword argument of the cconv function (one a later cconv adds), passed to
        each chunk's call unchanged and checked by cconv before any task runs.

    Returns
    -------
    dask.array.Array or (dask.array.Array, dask.array.Array)
        The pooled array (and the int64 indices), chunked along N and C as the input and along
        OH and OW as its chunks give: input chunk boundary b becomes ``min(ceil(b / stride),
        OH)``.

    Examples
    --------
    >>> import numpy as np, dask.array as da, cconv, cconv.dask
    >>> x = da.random.default_rng(1).random((2, 8, 96, 96), chunks=(1, 8, 32, 32))
    >>> y = cconv.dask.max_pool2d(x, 3, stride=2, padding=1)
    >>> y.chunks[2:]
    ((16, 16, 16), (16, 16, 16))
    >>> bool((y.compute() == cconv.max_pool2d(x.compute(), 3, stride=2, padding=1)).all())
    True
    """
    arguments = dict(kernel_size=kernel_size, stride=stride, dilation=dilation,
                     ceil_mode=ceil_mode, return_indices=return_indices)
    return store_into(_pooled(_pool.max_pool2d, input, padding, data_format, threads,
                              arguments, options, average=False), out)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, data_format="NCHW",
               out=None, threads=None, **options):
    """:func:`cconv.avg_pool2d` of a Dask array, lazily, chunk by chunk.

    Every argument means what it means for :func:`cconv.avg_pool2d`; ``compute()`` of the
    result equals ``cconv.avg_pool2d`` of the whole array, bit for bit (each window sums the
    same pixels in the same order and divides by the same count).

    Parameters
    ----------
    input : dask.array.Array or array_like
        As for :func:`max_pool2d`.
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As for :func:`cconv.avg_pool2d`.
    data_format, out, threads, **options
        As for :func:`max_pool2d`.

    Returns
    -------
    dask.array.Array
        Chunked as for :func:`max_pool2d`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, cconv, cconv.dask
    >>> x = da.ones((1, 1, 10, 10), chunks=(1, 1, 4, 4))
    >>> y = cconv.dask.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    >>> float(y.sum().compute())
    100.0
    """
    arguments = dict(kernel_size=kernel_size, stride=stride, ceil_mode=ceil_mode,
                     count_include_pad=count_include_pad, divisor_override=divisor_override)
    return store_into(_pooled(_pool.avg_pool2d, input, padding, data_format, threads,
                              arguments, options, average=True), out)


def _pooled(function, input, padding, data_format, threads, arguments, options, *,
            average: bool):
    """The pooling `function` of the Dask array `input`, one task per chunk."""
    import dask.array as da

    x = _blocks.as_dask_array(input)
    channels_last = resolve_data_format(data_format)
    keywords = {"threads": 1 if threads is None else threads, **options}
    if takes(function, "data_format"):
        keywords["data_format"] = data_format
    indices = bool(arguments.get("return_indices", False))
    # One pixel of this dtype: the result dtype and the checks that do not depend on the shapes.
    probe = function(np.zeros((1, 1, 1, 1), x.dtype), 1, **keywords)
    dtype = probe.dtype
    geometry = {k: v for k, v in arguments.items() if k != "return_indices"}
    g = resolve_pool(nchw_shape(x.shape, channels_last), padding=padding, average=average,
                     **geometry)
    if x.ndim == 4 and 0 in x.shape[:1] + (x.shape[3 if channels_last else 1],):
        return _empty(function, x, padding, keywords, arguments, channels_last)

    batched = x.ndim == 4
    x4 = x if batched else x[None]
    axes = (0, 3, 1, 2) if channels_last else (0, 1, 2, 3)
    _, c_axis, h_axis, w_axis = axes
    plans = {
        h_axis: _axis.plan_axis(g.in_height, x4.chunks[h_axis], g.out_height, g.stride_h,
                                _axis.forward_window(g.stride_h, g.pad_top,
                                                     g.dilation_h * (g.kernel_height - 1) + 1),
                                clip=True),
        w_axis: _axis.plan_axis(g.in_width, x4.chunks[w_axis], g.out_width, g.stride_w,
                                _axis.forward_window(g.stride_w, g.pad_left,
                                                     g.dilation_w * (g.kernel_width - 1) + 1),
                                clip=True),
    }
    spec = _Pool(function, plans, axes, ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)),
                 arguments, channels_last, indices, g.in_width, dtype)
    source = x4.rechunk({axis: plan.source_chunks for axis, plan in plans.items()})
    chunks = list(x4.chunks)
    chunks[h_axis], chunks[w_axis] = plans[h_axis].out_chunks, plans[w_axis].out_chunks
    task = functools.partial(_pool_block, spec=spec, keywords=keywords)
    if not indices:
        y = da.map_blocks(task, _blocks.overlapped(source, plans), chunks=tuple(chunks),
                          dtype=dtype, meta=np.empty((0,) * 4, dtype), token="cconv-pool2d")
        y = _blocks.final_chunks(y, plans)
        return y if batched else y[0]
    # Two outputs from one task: blocks of (values, indices) pairs, then one array of each (as
    # dask.array.apply_gufunc does for several outputs).
    pairs = da.map_blocks(task, _blocks.overlapped(source, plans), chunks=tuple(chunks),
                          dtype=object, meta=np.empty((0,) * 4, object), token="cconv-pool2d")
    results = []
    for k, kind in ((0, dtype), (1, np.dtype(np.int64))):
        part = pairs.map_blocks(operator.itemgetter(k), dtype=kind,
                                meta=np.empty((0,) * 4, kind))
        part = _blocks.final_chunks(part, plans)
        results.append(part if batched else part[0])
    return tuple(results)


def _empty(function, x, padding, keywords, arguments, channels_last):
    """No images or no channels: nothing to cut into chunks."""
    import dask.array as da

    if "data_format" not in keywords and channels_last:
        x = x.transpose((0, 3, 1, 2))
    result = function(np.asarray(x), padding=padding, **keywords, **arguments)
    results = result if isinstance(result, tuple) else (result,)
    if "data_format" not in keywords and channels_last:
        results = tuple(r.transpose((0, 2, 3, 1)) for r in results)
    results = tuple(da.from_array(r) for r in results)
    return results if isinstance(result, tuple) else results[0]


def _pool_block(block, *, spec: _Pool, keywords: dict, block_id):
    """One task: the pooling of the rows and columns of an overlapped block that its windows
    read, with the part of the whole array's padding they reach."""
    local = _blocks.window(block, spec.plans, block_id)
    _, c_axis, h_axis, w_axis = spec.axes
    rows = spec.plans[h_axis].out_chunks[block_id[h_axis]]
    cols = spec.plans[w_axis].out_chunks[block_id[w_axis]]
    pads, origin = [], []
    for axis, (before, after) in zip((h_axis, w_axis), spec.pads):
        plan = spec.plans[axis]
        lo, hi = plan.windows[block_id[axis]]
        pads.append((min(before, max(0, -lo)), min(after, max(0, hi - plan.extent[1]))))
        origin.append(max(lo, 0))
    shape = list(local.shape)
    shape[h_axis], shape[w_axis] = rows, cols
    if 0 in shape:
        empty = np.empty(shape, spec.dtype)
        return (empty, np.empty(shape, np.int64)) if spec.indices else empty
    view = local
    if spec.channels_last and "data_format" not in keywords:
        view = local.transpose((0, 3, 1, 2))  # the C core reads it through its strides
    result = spec.function(view, padding=tuple(pads), **spec.arguments, **keywords)
    values, indices = result if spec.indices else (result, None)
    if spec.channels_last and "data_format" not in keywords:
        values = np.ascontiguousarray(values.transpose((0, 2, 3, 1)))
        if indices is not None:
            indices = np.ascontiguousarray(indices.transpose((0, 2, 3, 1)))
    assert list(values.shape) == shape, (values.shape, shape)
    if indices is None:
        return values
    # Flat indices into the block's planes, h * width + w, made into the whole input's.
    h, w = np.divmod(indices, local.shape[w_axis])
    return values, (h + origin[0]) * spec.width + (w + origin[1])
