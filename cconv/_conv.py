"""The public conv2d API: normalise, validate, then one call into the C core."""

from __future__ import annotations

import numpy as np

from . import _core, _simd
from ._args import Geometry, as_int, resolve, result_dtype

_CORE = {np.dtype(np.float32): _core.conv2d_f32, np.dtype(np.float64): _core.conv2d_f64}


def conv2d_output_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1):
    """Shape of ``conv2d(input, weight, ...)`` without computing it.

    Parameters
    ----------
    input_shape : tuple of int
        (N, C, H, W), or (C, H, W) for a single image.
    weight_shape : tuple of int
        (O, C/groups, kH, kW).
    stride, padding, dilation, groups
        As for :func:`conv2d`.

    Returns
    -------
    tuple of int
        (N, O, OH, OW), or (O, OH, OW) when `input_shape` has no batch axis, where
        ``OH = floor((H + pad_top + pad_bottom - dilation*(kH-1) - 1) / stride) + 1``.

    Raises
    ------
    ValueError, TypeError
        Exactly as :func:`conv2d` would for these shapes and parameters.

    Examples
    --------
    >>> import cconv
    >>> cconv.conv2d_output_shape((1, 3, 32, 32), (16, 3, 3, 3), stride=2, padding=1)
    (1, 16, 16, 16)
    >>> cconv.conv2d_output_shape((3, 32, 32), (16, 3, 5, 5), padding="same")
    (16, 32, 32)
    """
    input_shape = tuple(input_shape)
    geom = resolve(input_shape, tuple(weight_shape), stride, padding, dilation, groups)
    return geom.out_shape if len(input_shape) == 4 else geom.out_shape[1:]


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, out=None,
           threads=None):
    """2-D convolution (cross-correlation) of a stack of feature maps with a bank of filters.

    The same meaning and argument order as ``torch.nn.functional.conv2d``: each of the O filters
    is a stack of C/groups kernels (its depth), slides over the input, and at every position
    multiplies and sums across all its kernels to write one pixel of its output feature map.
    No kernel flip.

    Parameters
    ----------
    input : array_like
        (N, C, H, W), or (C, H, W) for a single image (the output then has no batch axis either).
    weight : array_like
        (O, C/groups, kH, kW): O filters, each of depth C/groups.
    bias : array_like, optional
        (O,), added to each output feature map.
    stride : int or (int, int), default 1
        Step between filter positions, >= 1.
    padding : int, (int, int), ((int, int), (int, int)), "valid" or "same", default 0
        Zero pixels added around the input: the same on all sides, (h, w) per axis,
        ((top, bottom), (left, right)), none ("valid"), or "same": output size
        ceil(input / stride) for any stride, with the odd pixel at the bottom/right.
    dilation : int or (int, int), default 1
        Spacing between kernel taps, >= 1.
    groups : int, default 1
        Input channels and filters are split into `groups` groups that do not mix; both C and O
        must be divisible by it. ``groups == C`` is the depthwise convolution.
    out : numpy.ndarray, optional
        C-contiguous, writable array of exactly the output shape and dtype, filled and returned.
    threads : int, optional
        Threads to use; default: OMP_NUM_THREADS, else all usable cores.

    Returns
    -------
    numpy.ndarray
        (N, O, OH, OW) or (O, OH, OW). float32 when input, weight (and bias) are float32,
        float64 otherwise.

    Raises
    ------
    ValueError
        A shape, size or parameter is out of range (the message names it and the numbers), or
        `out` does not fit.
    TypeError
        An argument has the wrong type, e.g. complex data or a float stride.

    Examples
    --------
    An RGB image (3 feature maps) and 2 filters of depth 3 give 2 feature maps:

    >>> import numpy as np, cconv
    >>> image = np.ones((3, 4, 4), dtype=np.float32)
    >>> filters = np.ones((2, 3, 3, 3), dtype=np.float32)
    >>> filters[1] *= -1
    >>> y = cconv.conv2d(image, filters, padding=1)
    >>> y.shape
    (2, 4, 4)
    >>> y[0]
    array([[12., 18., 18., 12.],
           [18., 27., 27., 18.],
           [18., 27., 27., 18.],
           [12., 18., 18., 12.]], dtype=float32)
    """
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, out, threads,
                   _simd.ACTIVE, False)


def _conv2d(input, weight, bias, stride, padding, dilation, groups, out, threads, simd,
            reference):
    """conv2d on an explicit SIMD path index (or the C reference kernel): the tests' entry."""
    x = np.asarray(input)
    w = np.asarray(weight)
    b = None if bias is None else np.asarray(bias)
    dtype = result_dtype(x, w, b)
    geom = resolve(x.shape, w.shape, stride, padding, dilation, groups)
    if b is not None and b.shape != (geom.out_channels,):
        raise ValueError(f"bias must have shape ({geom.out_channels},), one value per filter, "
                         f"got shape {b.shape}")
    n_threads = 0 if threads is None else as_int(threads, "threads", 1)
    batched = x.ndim == 4
    result_shape = geom.out_shape if batched else geom.out_shape[1:]
    result = _check_out(out, result_shape, dtype) if out is not None else None
    # Writing straight into `out` is only safe when it cannot alias what is being read.
    target = result
    if result is None or any(np.may_share_memory(result, a) for a in (x, w, b) if a is not None):
        target = np.empty(result_shape, dtype)
    target4 = target if batched else target[np.newaxis]
    if target4.size:
        _compute(x if batched else x[np.newaxis], w, b, geom, target4, dtype, n_threads, simd,
                 reference)
    if result is None:
        return target
    if target is not result:
        result[...] = target
    return result


def _compute(x, w, b, geom: Geometry, target, dtype, threads, simd, reference):
    if x.size == 0:
        # No input pixels (C, H or W is 0): every output pixel sums only zero padding.
        target[...] = 0 if b is None else b.astype(dtype).reshape(-1, 1, 1)
        return
    x = np.ascontiguousarray(x, dtype=dtype)
    w = np.ascontiguousarray(w, dtype=dtype)
    if b is not None:
        b = np.ascontiguousarray(b, dtype=dtype)
    _CORE[dtype](x, w, b, target, geom.core_tuple, threads, simd, reference)


def _check_out(out, shape, dtype) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape}, but the result has shape {tuple(shape)}")
    if out.dtype != dtype:
        raise ValueError(f"out has dtype {out.dtype}, but the result has dtype {dtype}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


def workspace_bytes(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                    threads=None, dtype=np.float32) -> int:
    """Temporary memory, in bytes over all threads, that conv2d allocates for these arguments.

    Private helper for benchmarks and tests (the issue caps it at max(8 MB, 25% of the output)).
    `dtype` is the computation dtype (float32 or float64); `threads` as for :func:`conv2d`.

    Examples
    --------
    >>> from cconv._conv import workspace_bytes
    >>> workspace_bytes((1, 3, 8, 8), (4, 3, 3, 3), padding=1) > 0
    True
    """
    dtype = np.dtype(dtype)
    if dtype not in _CORE:
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    geom = resolve(tuple(input_shape), tuple(weight_shape), stride, padding, dilation, groups)
    n_threads = 0 if threads is None else as_int(threads, "threads", 1)
    if 0 in geom.out_shape or 0 in (geom.in_channels, geom.in_height, geom.in_width):
        return 0  # nothing reaches the C core
    return _core.workspace_bytes(
        (geom.batch, geom.in_channels, geom.in_height, geom.in_width),
        (geom.out_channels, geom.in_channels // geom.groups, geom.kernel_height,
         geom.kernel_width), geom.out_shape, geom.core_tuple, n_threads, _simd.ACTIVE,
        dtype.itemsize)
