"""The public adaptive pooling API (PyTorch's adaptive_max_pool2d, adaptive_avg_pool2d and the
latter's gradient): each feature map cut into an output_size grid of windows.  Shares the
argument handling of every pooling call with cconv/_pool.py."""

from __future__ import annotations

from . import _core, _simd
from ._args import as_bool, as_shape, resolve_adaptive, resolve_threads
from ._layout import layout_shape, resolve_data_format
from ._pool import (_backward_shapes, _batched, _cached, _core_view, _finish, _float_array,
                    _input, _reads, _targets)


def _resolve(shape, output_size, channels_last):
    return resolve_adaptive(shape, output_size, "input", channels_last)


def adaptive_max_pool2d(input, output_size, return_indices=False, *, data_format="NCHW",
                        out=None, threads=None):
    """2-D adaptive max pooling: each feature map cut into an output_size grid of windows.

    The same meaning as ``torch.nn.functional.adaptive_max_pool2d``: output row ``y`` of OH
    pools input rows ``floor(y*H/OH)`` to ``ceil((y+1)*H/OH) - 1`` (and the same along the
    columns), so the windows cover the input whatever the sizes, overlapping by at most a pixel
    when OH does not divide H.  Values and indices as in :func:`max_pool2d`.

    Parameters
    ----------
    input : array_like
        (N, C, H, W) or (C, H, W) ((N, H, W, C) or (H, W, C) with ``data_format="NHWC"``); H
        and W at least 1.
    output_size : int, (int, int) or None
        (OH, OW), each >= 0; None (or a None entry) keeps the input's size on that axis.
    return_indices : bool, default False
        Also return the int64 flat index ``h * W + w`` of each maximum in its input plane.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of input, output, indices and `out`, as for :func:`max_pool2d`.
    out : numpy.ndarray or (numpy.ndarray, numpy.ndarray), optional
        As for :func:`max_pool2d`.
    threads : int, optional
        As for :func:`max_pool2d`.

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        (N, C, OH, OW) or (C, OH, OW) ((N, OH, OW, C) or (OH, OW, C) for NHWC), and with
        return_indices the int64 indices.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> x = np.arange(25.0).reshape(1, 1, 5, 5)
    >>> cconv.adaptive_max_pool2d(x, 2)
    array([[[[12., 14.],
             [22., 24.]]]])
    """
    return _adaptive_max_pool2d(input, output_size, return_indices, out, threads, _simd.ACTIVE,
                                False, data_format)


def _adaptive_max_pool2d(input, output_size, return_indices, out, threads, simd, reference,
                         data_format="NCHW"):
    channels_last = resolve_data_format(data_format)
    x, shape4, dtype = _input(input, channels_last)
    in_shape, out_shape = _cached(_resolve, shape4, output_size, channels_last)
    with_indices = as_bool(return_indices, "return_indices")
    n_threads = resolve_threads(threads)
    batched = x.ndim == 4
    shape = layout_shape(_batched(out_shape, batched), channels_last)
    results, (values, indices) = _targets(out, shape, dtype, with_indices, (x,),
                                          "adaptive_max_pool2d")
    if values.size:
        _core.adaptive_pool2d(_core.ADAPTIVE_MAX_POOL2D,
                              _core_view(_reads(x, dtype), batched, channels_last),
                              _core_view(values, batched, channels_last),
                              None if indices is None else _core_view(indices, batched,
                                                                      channels_last),
                              n_threads, simd, reference)
    return _finish(results, [values, indices], with_indices)


def adaptive_avg_pool2d(input, output_size, *, data_format="NCHW", out=None, threads=None):
    """2-D adaptive average pooling: each feature map cut into an output_size grid of windows.

    The same meaning as ``torch.nn.functional.adaptive_avg_pool2d``; the windows are those of
    :func:`adaptive_max_pool2d`, and each sum is divided by the window's height, then by its
    width.  ``output_size=1`` is the global average pooling that CNNs end with.

    Parameters
    ----------
    input : array_like
        (N, C, H, W) or (C, H, W) ((N, H, W, C) or (H, W, C) with ``data_format="NHWC"``); H
        and W at least 1.
    output_size : int, (int, int) or None
        (OH, OW), each >= 0; None (or a None entry) keeps the input's size on that axis.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of input, output and `out`, as for :func:`max_pool2d`; both layouts sum in
        the same order, so give the same bits.
    out : numpy.ndarray, optional
        C-contiguous, writable array of exactly the output shape and dtype.
    threads : int, optional
        As for :func:`max_pool2d`.

    Returns
    -------
    numpy.ndarray
        (N, C, OH, OW) or (C, OH, OW) ((N, OH, OW, C) or (OH, OW, C) for NHWC).

    Examples
    --------
    >>> import numpy as np, cconv
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> cconv.adaptive_avg_pool2d(x, 1)
    array([[[[7.5]]]])
    >>> cconv.adaptive_avg_pool2d(x, (None, 2)).shape
    (1, 1, 4, 2)

    Global average pooling of a channels-last batch, one value per channel:

    >>> features = np.ones((2, 7, 7, 512), np.float32)
    >>> cconv.adaptive_avg_pool2d(features, 1, data_format="NHWC").shape
    (2, 1, 1, 512)
    """
    return _adaptive_avg_pool2d(input, output_size, out, threads, _simd.ACTIVE, False,
                                data_format)


def _adaptive_avg_pool2d(input, output_size, out, threads, simd, reference,
                         data_format="NCHW"):
    channels_last = resolve_data_format(data_format)
    x, shape4, dtype = _input(input, channels_last)
    in_shape, out_shape = _cached(_resolve, shape4, output_size, channels_last)
    n_threads = resolve_threads(threads)
    batched = x.ndim == 4
    results, (values, _) = _targets(out, layout_shape(_batched(out_shape, batched),
                                                      channels_last),
                                    dtype, False, (x,), "adaptive_avg_pool2d")
    if values.size:
        _core.adaptive_pool2d(_core.ADAPTIVE_AVG_POOL2D,
                              _core_view(_reads(x, dtype), batched, channels_last),
                              _core_view(values, batched, channels_last), None, n_threads, simd,
                              reference)
    return _finish(results, [values, None], False)


def adaptive_avg_pool2d_backward(grad_output, input_shape, *, data_format="NCHW", out=None,
                                 threads=None):
    """Gradient of :func:`adaptive_avg_pool2d` with respect to its input.

    Each element of `grad_output`, divided by its window's height and width, is added to every
    input pixel of its window.  The output size is grad_output's.

    Parameters
    ----------
    grad_output : array_like
        (N, C, OH, OW) or (C, OH, OW).
    input_shape : tuple of int
        The forward input's shape, (N, C, H, W) or (C, H, W).
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
    >>> cconv.adaptive_avg_pool2d_backward(np.ones((1, 1, 1)), (1, 2, 2))
    array([[[0.25, 0.25],
            [0.25, 0.25]]])
    """
    return _adaptive_avg_pool2d_backward(grad_output, input_shape, out, threads, _simd.ACTIVE,
                                         False, data_format)


def _adaptive_avg_pool2d_backward(grad_output, input_shape, out, threads, simd, reference,
                                  data_format="NCHW"):
    channels_last = resolve_data_format(data_format)
    go, dtype = _float_array(grad_output, "grad_output")
    shape = as_shape(input_shape, "input_shape")
    in_shape, batched = _backward_shapes(go, shape, channels_last)
    go4 = _core_view(go, batched, channels_last)
    # The window arithmetic fits.
    resolve_adaptive(in_shape, go4.shape[2:], "input_shape", channels_last)
    n_threads = resolve_threads(threads)
    results, (target, _) = _targets(out, layout_shape(_batched(in_shape, batched), channels_last),
                                    dtype, False, (go,), "adaptive_avg_pool2d_backward")
    if target.size:
        if go.size == 0:
            target[...] = 0
        else:
            _core.adaptive_pool2d(_core.ADAPTIVE_AVG_POOL2D_BACKWARD,
                                  _core_view(_reads(go, dtype), batched, channels_last),
                                  _core_view(target, batched, channels_last), None, n_threads,
                                  simd, reference)
    return _finish(results, [target, None], False)


__all__ = ["adaptive_max_pool2d", "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"]
