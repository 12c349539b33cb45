"""Transposed convolution and conv2d's input gradient: one computation, two spellings.

``conv2d_input`` (torch.nn.grad.conv2d_input) is the transposed convolution of grad_output with
the conv2d weight, cropped by conv2d's padding to the input's size; both run on the C core's
cconv_conv_transpose2d, which splits the output by stride phase into dense convolutions on
conv2d's driver (see src_c/conv/conv_transpose2d_template.h).
"""

from __future__ import annotations

import numpy as np

from . import _core, _simd, _target
from ._args import (TransposeGeometry, as_shape, resolve, resolve_threads, resolve_transpose,
                    result_dtype)
from ._layout import as_nchw, layout_shape, nchw_shape, resolve_data_format

_CORE = {np.dtype(np.float32): _core.conv_transpose2d_f32,
         np.dtype(np.float64): _core.conv_transpose2d_f64}


def conv_transpose2d_output_shape(input_shape, weight_shape, stride=1, padding=0,
                                  output_padding=0, groups=1, dilation=1, *, output_size=None,
                                  data_format="NCHW"):
    """Shape of ``conv_transpose2d(input, weight, ...)`` without computing it.

    Per axis, ``OH = (H - 1) * stride - pad_top - pad_bottom + dilation * (kH - 1) +
    output_padding + 1`` (or the `output_size` asked for).

    Examples
    --------
    >>> import cconv
    >>> cconv.conv_transpose2d_output_shape((1, 16, 7, 7), (16, 8, 3, 3), stride=2, padding=1,
    ...                                     output_padding=1)
    (1, 8, 14, 14)
    >>> cconv.conv_transpose2d_output_shape((7, 7, 16), (16, 8, 3, 3), stride=2, padding=1,
    ...                                     output_padding=1, data_format="NHWC")
    (14, 14, 8)
    """
    channels_last = resolve_data_format(data_format)
    input_shape = as_shape(input_shape, "input_shape")
    geom = resolve_transpose(nchw_shape(input_shape, channels_last),
                             as_shape(weight_shape, "weight_shape"), stride, padding,
                             output_padding, groups, dilation, output_size)
    shape = geom.out_shape if len(input_shape) == 4 else geom.out_shape[1:]
    return layout_shape(shape, channels_last)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, *, output_size=None, data_format="NCHW", out=None,
                     threads=None):
    """2-D transposed convolution ("deconvolution"): the gradient of conv2d with respect to its
    input, used as a layer that enlarges feature maps.

    The same meaning and argument order as ``torch.nn.functional.conv_transpose2d``: each input
    pixel scatters its value times a kernel into the output, kernels placed `stride` apart;
    `padding` then crops the output's borders.  Computed without inserting zeros between input
    pixels: the output is split into its stride x stride phases, each a dense convolution.

    Parameters
    ----------
    input : array_like
        (N, C, H, W), or (C, H, W) for a single image; (N, H, W, C) or (H, W, C) with
        ``data_format="NHWC"``.
    weight : array_like
        (C, O/groups, kH, kW), as in PyTorch: for each input channel, a stack of O/groups
        kernels (the conv2d weight that this transposed convolution undoes).
    bias : array_like, optional
        (O,), added to each output feature map.
    stride, dilation : int or (int, int), default 1
        As in conv2d (the conv2d that this one transposes).
    padding : int, (int, int) or ((int, int), (int, int)), default 0
        Rows and columns cropped from the output's borders: the same on all sides, per axis, or
        ((top, bottom), (left, right)).
    output_padding : int or (int, int), default 0
        Extra rows/columns added at the bottom/right, smaller than the stride or the dilation:
        a strided conv2d maps several input sizes to one output size, and this picks among them.
    groups : int, default 1
        C and O are split into groups that do not mix.
    output_size : tuple of int, optional
        (OH, OW) (or a whole shape ending with them), as in ``nn.ConvTranspose2d.forward``: the
        size wanted, instead of output_padding; it must be one the parameters allow.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of input, output and `out`, as for :func:`conv2d` (channels-last runs
        conv2d's channels-last kernels on each phase).
    out : numpy.ndarray, optional
        C-contiguous, writable array of exactly the output shape and dtype, filled and returned.
    threads : int, optional
        Threads to use, 1 to 1024; default: OMP_NUM_THREADS, else all usable cores.

    Returns
    -------
    numpy.ndarray
        (N, O, OH, OW) or (O, OH, OW) (NHWC: (N, OH, OW, O) or (OH, OW, O)),
        ``OH = (H - 1) * stride - pad_top - pad_bottom + dilation * (kH - 1) + output_padding
        + 1``; the dtype by NumPy's promotion, as for :func:`conv2d`.

    Examples
    --------
    A stride-2 transposed convolution doubles the size of 16 feature maps and makes 8:

    >>> import numpy as np, cconv
    >>> x = np.ones((16, 7, 7), np.float32)
    >>> w = np.ones((16, 8, 3, 3), np.float32)
    >>> y = cconv.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    >>> y.shape
    (8, 14, 14)
    >>> y[0, :3, :3]
    array([[16., 32., 16.],
           [32., 64., 32.],
           [16., 32., 16.]], dtype=float32)
    """
    channels_last = resolve_data_format(data_format)
    x = np.asarray(input)
    w = np.asarray(weight)
    b = None if bias is None else np.asarray(bias)
    dtype = result_dtype(("input", x), ("weight", w), ("bias", b))
    geom = resolve_transpose(nchw_shape(x.shape, channels_last), w.shape, stride, padding,
                             output_padding, groups, dilation, output_size)
    if b is not None and b.shape != (geom.out_channels,):
        raise ValueError(f"bias must have shape ({geom.out_channels},), one value per output "
                         f"channel, got shape {b.shape}")
    return _transpose(x, w, b, geom, out, threads, "conv_transpose2d", _simd.ACTIVE, False,
                      channels_last=channels_last)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1, *,
                 data_format="NCHW", out=None, threads=None):
    """The gradient of conv2d with respect to its input, as ``torch.nn.grad.conv2d_input``.

    For ``y = conv2d(x, weight, stride=..., padding=..., dilation=..., groups=...)`` and a
    gradient ``grad_output`` of a loss with respect to y, returns the gradient with respect to x:
    the transposed convolution of grad_output with the same weight, cropped to x's size.  Every
    padding form conv2d takes works, "same" at any stride and asymmetric padding included.
    (The bias gradient is ``grad_output.sum(axis=(0, 2, 3))``; the weight gradient is
    :func:`conv2d_weight`.)

    Parameters
    ----------
    input_size : tuple of int
        x's shape: (N, C, H, W), or (C, H, W) with an unbatched grad_output (in the layout of
        `data_format`).
    weight : array_like
        (O, C/groups, kH, kW), the weight of the forward conv2d.
    grad_output : array_like
        (N, O, OH, OW) (or (O, OH, OW)): exactly the shape the forward conv2d returned.
    stride, padding, dilation, groups, data_format
        Those of the forward conv2d.
    out, threads
        As for :func:`conv2d`.

    Returns
    -------
    numpy.ndarray
        Of shape `input_size`; the dtype by NumPy's promotion, as for :func:`conv2d`.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> x = np.random.rand(2, 3, 8, 8)
    >>> w = np.random.rand(4, 3, 3, 3)
    >>> grad_y = np.ones(cconv.conv2d_output_shape(x.shape, w.shape, stride=2, padding="same"))
    >>> cconv.conv2d_input(x.shape, w, grad_y, stride=2, padding="same").shape
    (2, 3, 8, 8)
    """
    channels_last = resolve_data_format(data_format)
    size = as_shape(input_size, "input_size")
    w = np.asarray(weight)
    gy = np.asarray(grad_output)
    dtype = result_dtype(("weight", w), ("grad_output", gy))
    conv = resolve(nchw_shape(size, channels_last), w.shape, stride, padding, dilation, groups,
                   data_format)
    want = layout_shape(conv.out_shape if len(size) == 4 else conv.out_shape[1:], channels_last)
    if gy.shape != want:
        raise ValueError(f"grad_output has shape {gy.shape}, but conv2d of an input of size "
                         f"{tuple(size)} with a weight of shape {w.shape} gives {want}")
    # The transposed convolution of grad_output (O channels) with the same weight, read as
    # (O, C/groups, kH, kW) = (C_in, C_out/groups, kH, kW), cropped by the forward padding's
    # top/left and sized to the input.
    geom = TransposeGeometry(conv.batch, conv.out_channels, conv.out_height, conv.out_width,
                             conv.in_channels, conv.kernel_height, conv.kernel_width,
                             conv.stride_h, conv.stride_w, conv.pad_top, conv.pad_left,
                             conv.dilation_h, conv.dilation_w, conv.groups, conv.in_height,
                             conv.in_width)
    return _transpose(gy, w, None, geom, out, threads, "conv2d_input", _simd.ACTIVE, False,
                      result_dtype_=dtype, channels_last=channels_last)


def _transpose(x, w, b, geom: TransposeGeometry, out, threads, operation, simd, reference,
               result_dtype_=None, channels_last=False):
    """Runs the C core's transposed convolution for a resolved geometry (the tests' entry, with
    an explicit SIMD path index or the C reference).  x, out and the result are in the caller's
    layout; the C core gets their NCHW-ordered views."""
    dtype = result_dtype_ or result_dtype(("input", x), ("weight", w), ("bias", b))
    n_threads = resolve_threads(threads)
    batched = x.ndim == 4
    result_shape = layout_shape(geom.out_shape if batched else geom.out_shape[1:], channels_last)
    result, target = _target.prepare(operation, out, result_shape, dtype, (x, w, b))
    if target.size:
        xx = np.require(as_nchw(x if batched else x[np.newaxis], channels_last), dtype, "A")
        _CORE[dtype](xx, np.require(w, dtype, "CA"),
                     None if b is None else np.require(b, dtype, "CA"),
                     as_nchw(target if batched else target[np.newaxis], channels_last),
                     geom.core_tuple, n_threads, simd, reference)
    return _target.finish(result, target)
