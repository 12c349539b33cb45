"""conv2d's weight gradient (torch.nn.grad.conv2d_weight): for each kernel tap, a product of
grad_output with the input summed over images, rows and columns, run by conv2d's micro-kernels
on zero-padded channels-last slabs of the input (see src_c/conv/conv2d_weight_template.h)."""

from __future__ import annotations

import numpy as np

from . import _core, _simd, _target
from ._args import Geometry, as_shape, resolve, resolve_threads, result_dtype
from ._layout import as_nchw, layout_shape, nchw_shape, resolve_data_format

_CORE = {np.dtype(np.float32): _core.conv2d_weight_f32,
         np.dtype(np.float64): _core.conv2d_weight_f64}


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                  data_format="NCHW", out=None, threads=None):
    """The gradient of conv2d with respect to its weight, as ``torch.nn.grad.conv2d_weight``.

    For ``y = conv2d(x, weight, stride=..., padding=..., dilation=..., groups=...)`` and the
    gradient ``grad_output`` of a loss with respect to y, returns the gradient with respect to
    the weight: ``grad_weight[o, c, ky, kx]`` sums, over every image and output position,
    ``grad_output[n, o, y, x]`` times the input pixel that tap (ky, kx) of filter o read there.
    Every padding form conv2d takes works. (The bias gradient is
    ``grad_output.sum(axis=(0, 2, 3))``; the input gradient is :func:`conv2d_input`.)

    Parameters
    ----------
    input : array_like
        x, (N, C, H, W) or (C, H, W); (N, H, W, C) or (H, W, C) with ``data_format="NHWC"``.
    weight_size : tuple of int
        The weight's shape (O, C/groups, kH, kW).
    grad_output : array_like
        (N, O, OH, OW) (or (O, OH, OW)): exactly the shape the forward conv2d returned (in the
        layout of `data_format`).
    stride, padding, dilation, groups, data_format
        Those of the forward conv2d. (A channels-last grad_output is copied to channels-first
        once: the kernels read it one feature map at a time; the input is read in place.)
    out, threads
        As for :func:`conv2d`.

    Returns
    -------
    numpy.ndarray
        Of shape `weight_size`; the dtype by NumPy's promotion, as for :func:`conv2d`.

    Examples
    --------
    One training step of a conv2d layer's weight by gradient descent:

    >>> import numpy as np, cconv
    >>> x = np.random.rand(8, 3, 16, 16).astype(np.float32)
    >>> w = np.random.rand(4, 3, 3, 3).astype(np.float32)
    >>> y = cconv.conv2d(x, w, padding=1)
    >>> grad_y = 2 * (y - 1)                        # d/dy of sum((y - 1) ** 2)
    >>> grad_w = cconv.conv2d_weight(x, w.shape, grad_y, padding=1)
    >>> w -= 1e-4 * grad_w
    >>> grad_w.shape
    (4, 3, 3, 3)
    """
    channels_last = resolve_data_format(data_format)
    x = np.asarray(input)
    gy = np.asarray(grad_output)
    size = as_shape(weight_size, "weight_size")
    dtype = result_dtype(("input", x), ("grad_output", gy))
    geom = resolve(nchw_shape(x.shape, channels_last), size, stride, padding, dilation, groups,
                   data_format)
    want = layout_shape(geom.out_shape if x.ndim == 4 else geom.out_shape[1:], channels_last)
    if gy.shape != want:
        raise ValueError(f"grad_output has shape {gy.shape}, but conv2d of an input of shape "
                         f"{x.shape} with a weight of size {tuple(size)} gives {want}")
    return _weight_grad(x, gy, geom, dtype, out, threads, _simd.ACTIVE, False, channels_last)


def _weight_grad(x, gy, geom: Geometry, dtype, out, threads, simd, reference,
                 channels_last=False):
    """The C core's weight gradient for a resolved geometry (the tests' entry, with an explicit
    SIMD path index or the C reference); x and gy in the caller's layout."""
    n_threads = resolve_threads(threads)
    shape = (geom.out_channels, geom.in_channels // geom.groups, geom.kernel_height,
             geom.kernel_width)
    result, target = _target.prepare("conv2d_weight", out, shape, dtype, (x, gy))
    if target.size:
        batched = x.ndim == 4
        x4 = as_nchw(x if batched else x[np.newaxis], channels_last)
        gy4 = as_nchw(gy if batched else gy[np.newaxis], channels_last)
        _CORE[dtype](np.require(x4, dtype, "A"), np.require(gy4, dtype, "CA"), target,
                     _core_tuple(geom), n_threads, simd, reference)
    return _target.finish(result, target)


def _core_tuple(geom: Geometry) -> tuple[int, ...]:
    return (geom.stride_h, geom.stride_w, geom.pad_top, geom.pad_left, geom.dilation_h,
            geom.dilation_w, geom.groups)


def workspace_bytes(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                    threads=None, dtype=np.float32) -> int:
    """Temporary memory, in bytes over all threads, that conv2d_weight allocates (private: for
    the tests and benchmarks, which check it against max(8 MB, 25% of the output)).

    Examples
    --------
    >>> from cconv._conv_weight import workspace_bytes
    >>> workspace_bytes((8, 16, 32, 32), (32, 16, 3, 3), padding=1) > 0
    True
    """
    dtype = np.dtype(dtype)
    geom = resolve(tuple(input_shape), tuple(weight_shape), stride, padding, dilation, groups)
    if 0 in geom.out_shape or 0 in (geom.in_channels, geom.in_height, geom.in_width):
        return 0
    return _core.conv2d_weight_workspace_bytes(
        (geom.batch, geom.in_channels, geom.in_height, geom.in_width), geom.out_shape,
        tuple(weight_shape), _core_tuple(geom), resolve_threads(threads), _simd.ACTIVE,
        dtype.itemsize)
