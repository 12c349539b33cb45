"""The public pooling API: max and average pooling and their gradients, with PyTorch's names,
argument order and meaning, and what every pooling call shares (out= and its targets, the
geometry cache, data_format); adaptive pooling is in _adaptive_pool.py.  Normalise, validate
(cconv/_args.py), then one call into the C core (src_c/pool/) on NCHW-ordered views of the
caller's arrays (cconv/_layout.py): an NHWC array is read and written in place, through its
strides, by the C core's channels-last loops."""

from __future__ import annotations

import numpy as np

from . import _core, _simd
from ._args import (as_bool, as_shape, check_out, pool_input_shape, resolve_pool,
                    resolve_threads, result_dtype)
from ._layout import as_nchw, layout_shape, nchw_shape, resolve_data_format
from ._memory import check_memory

_INDEX_DTYPE = np.dtype(np.int64)
# Below this many bytes of result and copies, a call cannot run out of RAM: the check is skipped.
_MEMORY_CHECK_BYTES = 64 * 2**20

# Repeated calls (a network's layers, batch after batch) skip the argument resolution: resolved
# geometries are cached under the input shape and the exact parameters.  A key is only made of
# exact values tagged with their types (1 and True, or 2 and 2.0, never share a key), so a hit
# has passed every check a fresh call would make; anything else has no key and is resolved
# afresh.  Only successful resolutions are stored; plain dict operations are atomic, so this
# needs no lock; it is cleared when it grows too big.
_GEOMETRY_CACHE: dict = {}
_GEOMETRY_CACHE_MAX = 512
_KEY_TYPES = (int, bool, type(None))


def _exact_key(value):
    """A hashable, type-tagged copy of an int / bool / None or a (nested) tuple or list of
    them; None when the value is anything else."""
    kind = type(value)
    if kind in _KEY_TYPES:
        return kind, value
    if kind is tuple or kind is list:
        parts = tuple(_exact_key(v) for v in value)
        return None if None in parts else (kind, parts)
    return None


def _cached(resolve, shape, *params):
    """resolve(shape, *params), through the cache when the parameters have an exact key."""
    key = _exact_key(params)
    if key is None:
        return resolve(shape, *params)
    key = (resolve, shape, key)
    hit = _GEOMETRY_CACHE.get(key)
    if hit is None:
        hit = resolve(shape, *params)
        if len(_GEOMETRY_CACHE) >= _GEOMETRY_CACHE_MAX:
            _GEOMETRY_CACHE.clear()
        _GEOMETRY_CACHE[key] = hit
    return hit


def _resolve_max(shape, kernel_size, stride, padding, dilation, ceil_mode, channels_last):
    return resolve_pool(shape, kernel_size, stride, padding, dilation, ceil_mode, average=False,
                        channels_last=channels_last)


def _resolve_avg(shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                 divisor_override, channels_last):
    return resolve_pool(shape, kernel_size, stride, padding, 1, ceil_mode, count_include_pad,
                        divisor_override, average=True, channels_last=channels_last)


# ------------------------------------------------------------------------------------ helpers
def _float_array(value, name):
    """(array, result dtype) of a float input by conv2d's promotion rule."""
    a = np.asarray(value)
    return a, result_dtype((name, a))


def _targets(out, shape, dtype, with_indices, reads, operation):
    """(result arrays the caller gets, arrays the C core writes) for out= as given.

    out is None, an ndarray for the values, or (values, indices) when the call also returns
    indices (NumPy's spelling for several outputs).  A given array the C core cannot write into
    (misaligned, or sharing memory with what is read) is computed aside and copied back."""
    values = indices = None
    if out is not None:
        if with_indices and isinstance(out, tuple):
            if len(out) != 2:
                raise ValueError(f"out must be an ndarray or a (values, indices) pair, got "
                                 f"{len(out)} arrays")
            values, indices = out
            if values is not None:
                values = check_out(values, shape, dtype)
            if indices is not None:
                indices = check_out(indices, shape, _INDEX_DTYPE)
        else:
            values = check_out(out, shape, dtype)
    results = [values, indices if with_indices else None]
    given = [a for a in results if a is not None]
    size = dtype.itemsize
    for d in shape:
        size *= d
    if size + sum(r.nbytes for r in reads) > _MEMORY_CHECK_BYTES:
        check_memory(operation, [r for r in reads if r.size], shape, dtype, values is None)
    targets = []
    for i, a in enumerate(results):
        if i == 1 and not with_indices:
            targets.append(None)
            continue
        aside = a is None or not a.flags.aligned or any(
            np.may_share_memory(a, r) for r in reads if r is not None) or any(
            b is not a and np.may_share_memory(a, b) for b in given)
        targets.append(np.empty(shape, dtype if i == 0 else _INDEX_DTYPE) if aside else a)
    return results, targets


def _finish(results, targets, with_indices):
    """Copies what was computed aside into the arrays given as out=, and returns the result."""
    final = []
    for result, target in zip(results, targets):
        if target is None:
            continue
        if result is None:
            final.append(target)
        else:
            if result is not target:
                result[...] = target
            final.append(result)
    return (final[0], final[1]) if with_indices else final[0]


def _batched(shape4, batched):
    return shape4 if batched else shape4[1:]


def _four_d(a, batched):
    return a if batched else a[np.newaxis]


def _core_view(a, batched, channels_last):
    """The (N, C, H, W)-ordered 4-D view the C core takes of an array in the caller's layout."""
    return _four_d(as_nchw(a, channels_last), batched)


def _reads(x, dtype):
    """The array the C core reads in place: aligned and of the result dtype, any strides (a
    converted copy keeps the caller's layout)."""
    return np.require(x, dtype, "A")


def _input(input, channels_last):
    """(array in the caller's layout, its NCHW-ordered shape, result dtype) of a pooled input."""
    x, dtype = _float_array(input, "input")
    return x, nchw_shape(x.shape, channels_last), dtype


# ------------------------------------------------------------------------------ shape helper
def pool2d_output_shape(input_shape, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False, *, data_format="NCHW"):
    """Shape of ``max_pool2d`` or ``avg_pool2d`` of an input of this shape, without computing it.

    Parameters
    ----------
    input_shape : tuple of int
        (N, C, H, W), or (C, H, W) for a single image; (N, H, W, C) or (H, W, C) with
        ``data_format="NHWC"``.
    kernel_size, stride, padding, dilation, ceil_mode, data_format
        As for :func:`max_pool2d` (``avg_pool2d`` has no dilation: leave it 1).

    Returns
    -------
    tuple of int
        (N, C, OH, OW), or (C, OH, OW) when `input_shape` has no batch axis ((N, OH, OW, C) or
        (OH, OW, C) with ``data_format="NHWC"``), where
        ``OH = floor((H + 2*padding - dilation*(kH-1) - 1 + (stride-1 if ceil_mode else 0))
        / stride) + 1``, less one when ceil_mode would start the last window past the input and
        its top padding.

    Raises
    ------
    ValueError, TypeError
        Exactly as :func:`max_pool2d` would for this shape and these parameters.

    Examples
    --------
    >>> import cconv
    >>> cconv.pool2d_output_shape((1, 64, 112, 112), 3, stride=2, padding=1)
    (1, 64, 56, 56)
    >>> cconv.pool2d_output_shape((3, 5, 5), 2, ceil_mode=True)
    (3, 3, 3)
    >>> cconv.pool2d_output_shape((224, 224, 3), 2, data_format="NHWC")
    (112, 112, 3)
    """
    channels_last = resolve_data_format(data_format)
    input_shape = as_shape(input_shape, "input_shape")
    g = resolve_pool(nchw_shape(input_shape, channels_last), kernel_size, stride, padding,
                     dilation, ceil_mode, average=False, channels_last=channels_last)
    return layout_shape(_batched(g.out_shape, len(input_shape) == 4), channels_last)


# ------------------------------------------------------------------------------- max pooling
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, data_format="NCHW", out=None, threads=None):
    """2-D max pooling: the largest value of each window of each feature map.

    The same meaning and argument order as ``torch.nn.functional.max_pool2d``.  A window that
    holds a NaN gives NaN; padding is implicit -inf (it never wins).

    Parameters
    ----------
    input : array_like
        (N, C, H, W), or (C, H, W) for a single image; (N, H, W, C) or (H, W, C) with
        ``data_format="NHWC"``; H and W at least 1.  Any array-like, read in place through its
        strides when it is aligned and of the result dtype.
    kernel_size : int or (int, int)
        Window size (kH, kW), each >= 1.  A 1-element sequence means both axes, as for stride,
        padding and dilation.
    stride : int or (int, int), optional
        Step between windows, >= 1; default (None): kernel_size.
    padding : int, (int, int) or ((int, int), (int, int)), default 0
        Implicit -inf pixels on both sides ((h, w)), or ((top, bottom), (left, right)); each
        side at most half the kernel size (kH // 2, kW // 2), as in PyTorch.
    dilation : int or (int, int), default 1
        Spacing between window taps, >= 1.  A dilation that lets some window miss the input
        entirely is refused.
    ceil_mode : bool, default False
        Round the output size up instead of down, so that a last, partial window is kept when it
        starts inside the input or its top/left padding.
    return_indices : bool, default False
        Also return, for each output, the flat index ``h * W + w`` of its maximum within its
        input plane (int64, PyTorch's convention: the first maximum in row-major order, the last
        NaN, or the first pixel when all are -inf), as :func:`max_pool2d_backward` takes it.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of input, output, indices and `out`: channels first (PyTorch's), or channels
        last (TensorFlow's, and an (H, W, 3) image's as Pillow, imageio and OpenCV give it).
        Channels-last runs loops of its own, along each pixel's channels; both layouts give the
        same values and indices, bit for bit.
    out : numpy.ndarray or (numpy.ndarray, numpy.ndarray), optional
        C-contiguous, writable array of exactly the output shape and dtype, filled and returned;
        with return_indices, a (values, indices) pair (indices int64; either may be None).
    threads : int, optional
        Threads to use, 1 to 1024; default: OMP_NUM_THREADS, else all usable cores.

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        (N, C, OH, OW) or (C, OH, OW) ((N, OH, OW, C) or (OH, OW, C) for NHWC): float32 for
        float32 input, float64 otherwise; with return_indices also the int64 indices, of the
        same shape.

    Raises
    ------
    ValueError
        A shape or parameter is out of range (the message names it and the numbers), or `out`
        has the wrong shape or dtype, is not C-contiguous or is read-only.
    TypeError
        An argument has the wrong type (complex data, a float kernel size, a non-bool flag, an
        `out` that is not a numpy.ndarray).

    Examples
    --------
    >>> import numpy as np, cconv
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    >>> cconv.max_pool2d(x, 2)
    array([[[ 5.,  7.],
            [13., 15.]]], dtype=float32)
    >>> values, indices = cconv.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    >>> indices
    array([[[ 5,  7],
            [13, 15]]])

    The same feature map channels-last, as one channel of an (H, W, C) image:

    >>> cconv.max_pool2d(x.reshape(4, 4, 1), 2, data_format="NHWC")[..., 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       out, threads, _simd.ACTIVE, False, data_format)


def _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, out,
                threads, simd, reference, data_format="NCHW"):
    """max_pool2d on an explicit SIMD path index (or the C reference kernel): the tests' entry."""
    channels_last = resolve_data_format(data_format)
    x, shape4, dtype = _input(input, channels_last)
    g = _cached(_resolve_max, shape4, kernel_size, stride, padding, dilation, ceil_mode,
                channels_last)
    with_indices = as_bool(return_indices, "return_indices")
    n_threads = resolve_threads(threads)
    batched = x.ndim == 4
    shape = layout_shape(_batched(g.out_shape, batched), channels_last)
    results, (values, indices) = _targets(out, shape, dtype, with_indices, (x,), "max_pool2d")
    if values.size:
        _core.pool2d(_core.MAX_POOL2D, _core_view(_reads(x, dtype), batched, channels_last),
                     _core_view(values, batched, channels_last),
                     None if indices is None else _core_view(indices, batched, channels_last),
                     g.core_tuple, n_threads, simd, reference)
    return _finish(results, [values, indices], with_indices)


def max_pool2d_backward(grad_output, indices, input_shape, *, data_format="NCHW", out=None,
                        threads=None):
    """Gradient of :func:`max_pool2d` and :func:`adaptive_max_pool2d` with respect to the input.

    Each element of `grad_output` flows back to the input pixel its window's maximum came from:
    the result is zero except that ``grad_input[n, c].flat[indices[n, c, y, x]]`` receives
    ``grad_output[n, c, y, x]``, summed where windows share a maximum (PyTorch's
    ``max_pool2d_with_indices_backward``).  Only the indices are needed, not the pooling
    parameters.

    Parameters
    ----------
    grad_output : array_like
        (N, C, OH, OW) or (C, OH, OW): the gradient of the loss with respect to the pooled output.
    indices : array_like of int
        The indices max pooling returned, of grad_output's shape; each in [0, H*W).
    input_shape : tuple of int
        The pooled input's shape, (N, C, H, W) or (C, H, W), with grad_output's N and C.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of grad_output, indices, input_shape, the result and `out`, as for
        :func:`max_pool2d` (NHWC: (N, OH, OW, C), (N, H, W, C) and the unbatched forms).
    out : numpy.ndarray, optional
        C-contiguous, writable array of the input's shape and the result dtype.
    threads : int, optional
        As for :func:`max_pool2d`.

    Returns
    -------
    numpy.ndarray
        The gradient with respect to the input, of `input_shape`; float32 for float32
        grad_output, float64 otherwise.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> x = np.array([[[1.0, 3.0], [2.0, 0.0]]])
    >>> y, where = cconv.max_pool2d(x, 2, return_indices=True)
    >>> cconv.max_pool2d_backward(np.ones_like(y), where, x.shape)
    array([[[0., 1.],
            [0., 0.]]])
    """
    return _max_pool2d_backward(grad_output, indices, input_shape, out, threads, _simd.ACTIVE,
                                False, data_format)


def _check_indices(idx, shape, plane):
    """The indices array, int64 (any strides), each inside the input plane."""
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices has dtype {idx.dtype}; it must hold integers (int64, as "
                        f"max_pool2d returns them)")
    if idx.shape != shape:
        raise ValueError(f"indices has shape {idx.shape}, but grad_output has shape {shape}")
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= plane:
            bad = low if low < 0 else high
            raise ValueError(f"indices holds {bad}, outside the {plane} pixels of an input "
                             f"plane (valid: 0 to {plane - 1})")
    return np.require(idx, _INDEX_DTYPE, "A")


def _backward_shapes(go, shape, channels_last, out_shape4=None):
    """(input shape (N, C, H, W), batched) for a gradient call, grad_output (in the caller's
    layout) checked against the input shape (the caller's, checked by as_shape)."""
    n, c, h, w = pool_input_shape(nchw_shape(shape, channels_last), "input_shape",
                                  channels_last)
    batched = len(shape) == 4
    if go.ndim != len(shape):
        raise ValueError(f"grad_output has {go.ndim} dimensions but input_shape {shape} has "
                         f"{len(shape)}")
    go_shape = nchw_shape(go.shape if batched else (1,) + go.shape, channels_last)
    if go_shape[:2] != (n, c):
        where = "in front" if not channels_last else (
            "(N first, C last: data_format='NHWC')" if batched else
            "last (data_format='NHWC')")
        raise ValueError(f"grad_output has shape {go.shape}, but input_shape {shape} needs "
                         f"{'N, C' if batched else 'C'} = "
                         f"{(n, c) if batched else c} {where}")
    if out_shape4 is not None and go_shape != out_shape4:
        raise ValueError(f"grad_output has shape {go.shape}, but pooling input_shape {shape} "
                         f"gives an output of shape "
                         f"{layout_shape(_batched(out_shape4, batched), channels_last)}")
    return (n, c, h, w), batched


def _max_pool2d_backward(grad_output, indices, input_shape, out, threads, simd, reference,
                         data_format="NCHW"):
    channels_last = resolve_data_format(data_format)
    go, dtype = _float_array(grad_output, "grad_output")
    shape = as_shape(input_shape, "input_shape")
    in_shape, batched = _backward_shapes(go, shape, channels_last)
    idx = _check_indices(np.asarray(indices), go.shape, in_shape[2] * in_shape[3])
    n_threads = resolve_threads(threads)
    results, (target, _) = _targets(out, layout_shape(_batched(in_shape, batched), channels_last),
                                    dtype, False, (go, idx), "max_pool2d_backward")
    if target.size:
        if go.size == 0:
            target[...] = 0
        else:
            _core.max_pool2d_backward(_core_view(_reads(go, dtype), batched, channels_last),
                                      _core_view(idx, batched, channels_last),
                                      _core_view(target, batched, channels_last), n_threads,
                                      simd, reference)
    return _finish(results, [target, None], False)


# --------------------------------------------------------------------------- average pooling
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, data_format="NCHW", out=None,
               threads=None):
    """2-D average pooling: the mean of each window of each feature map.

    The same meaning and argument order as ``torch.nn.functional.avg_pool2d``.  Each window's
    input pixels are summed in row-major order and divided by `divisor_override` when given,
    else by the window's size: clipped to the padded input when `count_include_pad` (padding
    counts as zeros; the part of a ceil_mode window past the padding does not count), or the
    number of input pixels it covers otherwise.

    Parameters
    ----------
    input : array_like
        (N, C, H, W) or (C, H, W) ((N, H, W, C) or (H, W, C) with ``data_format="NHWC"``); H
        and W at least 1.
    kernel_size, stride, padding, ceil_mode
        As for :func:`max_pool2d` (padding is zeros here).
    count_include_pad : bool, default True
        Whether padding pixels count in the divisor.
    divisor_override : int, optional
        A non-zero divisor for every window instead of its size.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of input, output and `out`, as for :func:`max_pool2d`; both layouts give
        the same sums, bit for bit.
    out : numpy.ndarray, optional
        C-contiguous, writable array of exactly the output shape and dtype.
    threads : int, optional
        As for :func:`max_pool2d`.

    Returns
    -------
    numpy.ndarray
        (N, C, OH, OW) or (C, OH, OW) ((N, OH, OW, C) or (OH, OW, C) for NHWC); float32 for
        float32 input, float64 otherwise.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    >>> cconv.avg_pool2d(x, 2)
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]], dtype=float32)
    >>> cconv.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    array([[[ 2.5,  4. ],
            [ 8.5, 10. ]]], dtype=float32)

    An RGB image as Pillow gives it, (H, W, 3) uint8, halved in size:

    >>> rgb = np.zeros((4, 6, 3), np.uint8)
    >>> rgb[:, 3:] = 90
    >>> small = cconv.avg_pool2d(rgb, 2, data_format="NHWC")
    >>> small.shape, small.dtype
    ((2, 3, 3), dtype('float64'))
    >>> small[0, :, 0]
    array([ 0., 45., 90.])
    """
    return _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, out, threads, _simd.ACTIVE, False, data_format)


def _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override, out, threads, simd, reference, data_format="NCHW"):
    channels_last = resolve_data_format(data_format)
    x, shape4, dtype = _input(input, channels_last)
    g = _cached(_resolve_avg, shape4, kernel_size, stride, padding, ceil_mode,
                count_include_pad, divisor_override, channels_last)
    n_threads = resolve_threads(threads)
    batched = x.ndim == 4
    results, (values, _) = _targets(out, layout_shape(_batched(g.out_shape, batched),
                                                      channels_last),
                                    dtype, False, (x,), "avg_pool2d")
    if values.size:
        _core.pool2d(_core.AVG_POOL2D, _core_view(_reads(x, dtype), batched, channels_last),
                     _core_view(values, batched, channels_last), None, g.core_tuple, n_threads,
                     simd, reference)
    return _finish(results, [values, None], False)


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None, *,
                        data_format="NCHW", out=None, threads=None):
    """Gradient of :func:`avg_pool2d` with respect to its input.

    Each element of `grad_output`, divided by its window's divisor, is added to every input
    pixel of its window (PyTorch's ``avg_pool2d_backward``).  The pooling parameters must be the
    forward call's.

    Parameters
    ----------
    grad_output : array_like
        (N, C, OH, OW) or (C, OH, OW), the shape the forward call returned.
    input_shape : tuple of int
        The forward input's shape, (N, C, H, W) or (C, H, W).
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As given to :func:`avg_pool2d`.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of grad_output, input_shape, the result and `out`, as for
        :func:`max_pool2d`.
    out : numpy.ndarray, optional
        C-contiguous, writable array of the input's shape and the result dtype.
    threads : int, optional
        As for :func:`max_pool2d`.

    Returns
    -------
    numpy.ndarray
        The gradient with respect to the input, of `input_shape`.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> cconv.avg_pool2d_backward(np.ones((1, 1, 1)), (1, 2, 2), 2)
    array([[[0.25, 0.25],
            [0.25, 0.25]]])
    """
    return _avg_pool2d_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                                count_include_pad, divisor_override, out, threads, _simd.ACTIVE,
                                False, data_format)


def _avg_pool2d_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override, out, threads, simd, reference,
                         data_format="NCHW"):
    channels_last = resolve_data_format(data_format)
    go, dtype = _float_array(grad_output, "grad_output")
    shape = as_shape(input_shape, "input_shape")
    g = _cached(_resolve_avg, nchw_shape(shape, channels_last), kernel_size, stride, padding,
                ceil_mode, count_include_pad, divisor_override, channels_last)
    in_shape, batched = _backward_shapes(go, shape, channels_last, g.out_shape)
    n_threads = resolve_threads(threads)
    results, (target, _) = _targets(out, layout_shape(_batched(in_shape, batched), channels_last),
                                    dtype, False, (go,), "avg_pool2d_backward")
    if target.size:
        _core.pool2d(_core.AVG_POOL2D_BACKWARD,
                     _core_view(_reads(go, dtype), batched, channels_last),
                     _core_view(target, batched, channels_last), None, g.core_tuple, n_threads,
                     simd, reference)
    return _finish(results, [target, None], False)


__all__ = ["max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward",
           "pool2d_output_shape"]
