"""The slow, obviously-correct NumPy twins of cconv's functions, used by the tests as the
reference.

They share only the argument resolution with the fast paths (so both agree on what "same"
padding or a pair means); the arithmetic is independent and in float64: conv2d by explicit np.pad,
sliding_window_view and one einsum per group; the transposed convolution by scattering each
input pixel's contribution (the definition, the other way round from conv2d); the gradients by
those two.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._args import (TransposeGeometry, pool_input_shape, resolve, resolve_adaptive, resolve_pool,
                    resolve_transpose)


def _activation_oracle(y, activation):
    """The activations conv2d fuses, written with NumPy's own functions (NaN propagates)."""
    if activation is None:
        return y
    name, *params = (activation,) if isinstance(activation, str) else activation
    if name == "relu":
        return np.maximum(y, 0.0)
    if name == "relu6":
        return np.minimum(np.maximum(y, 0.0), 6.0)
    if name == "leaky_relu":
        slope = params[0] if params else 0.01
        return np.where(y < 0, y * slope, y)
    if name == "clamp":
        return np.clip(y, params[0], params[1])
    raise ValueError(f"unknown activation {activation!r}")


# numpy.pad's name for each padding_mode.
_NUMPY_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
                    "circular": "wrap", "symmetric": "symmetric"}


def conv2d_oracle(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                  activation=None, residual=None, padding_mode="zeros", padding_value=0.0,
                  data_format="NCHW"):
    """conv2d computed in float64 with NumPy only; same arguments and output shape as conv2d.

    The border is numpy.pad's (an explicit padded copy), and an NHWC input is moved to NCHW and
    the result back."""
    channels_last = data_format == "NHWC"
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    if channels_last:
        x = np.moveaxis(x, -1, -3)
        if residual is not None:
            residual = np.moveaxis(np.asarray(residual), -1, -3)
    g = resolve(x.shape, w.shape, stride, padding, dilation, groups)
    batched = x.ndim == 4
    if not batched:
        x = x[np.newaxis]
    out = np.zeros(g.out_shape, dtype=np.float64)
    if out.size and x.size:
        widths = ((0, 0), (0, 0), (g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right))
        if padding_mode == "zeros":
            padded = np.pad(x, widths, constant_values=padding_value)
        else:
            padded = np.pad(x, widths, mode=_NUMPY_PAD_MODES[padding_mode])
        span_h = g.dilation_h * (g.kernel_height - 1) + 1
        span_w = g.dilation_w * (g.kernel_width - 1) + 1
        # windows[n, c, y, x, i, j] = padded[n, c, y*stride + i*dilation, x*stride + j*dilation]
        windows = sliding_window_view(padded, (span_h, span_w), axis=(2, 3))
        windows = windows[:, :, ::g.stride_h, ::g.stride_w, ::g.dilation_h, ::g.dilation_w]
        windows = windows[:, :, :g.out_height, :g.out_width]
        cg = g.in_channels // g.groups
        og = g.out_channels // g.groups
        for k in range(g.groups):
            out[:, k * og:(k + 1) * og] = np.einsum(
                "ncyxij,ocij->noyx", windows[:, k * cg:(k + 1) * cg], w[k * og:(k + 1) * og],
                optimize=True)
    elif out.size and padding_value and g.in_channels:
        # No input pixels: every tap reads the constant border.
        out += padding_value * w.sum(axis=(1, 2, 3)).reshape(-1, 1, 1)
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64).reshape(-1, 1, 1)
    if residual is not None:
        r = np.asarray(residual, dtype=np.float64)
        out += r if batched else r[np.newaxis]
    out = _activation_oracle(out, activation)
    out = out if batched else out[0]
    return np.moveaxis(out, -3, -1) if channels_last else out


def _conv_transpose_scatter(x, w, geom: TransposeGeometry):
    """Transposed convolution of a batched float64 x by scattering: each input pixel (i, j) adds
    x[i, j] * kernel at output (i * stride - pad + k * dilation) for every tap k."""
    g = geom
    cg, og = g.in_channels // g.groups, g.out_channels // g.groups
    # Scatter into an output big enough for every tap, then crop the padding off.
    full_h = (g.in_height - 1) * g.stride_h + g.dilation_h * (g.kernel_height - 1) + 1
    full_w = (g.in_width - 1) * g.stride_w + g.dilation_w * (g.kernel_width - 1) + 1
    rows = max(full_h, g.pad_top + g.out_height)
    cols = max(full_w, g.pad_left + g.out_width)
    full = np.zeros((g.batch, g.out_channels, rows, cols))
    for k in range(g.groups):
        xs = x[:, k * cg:(k + 1) * cg]
        ws = w[k * cg:(k + 1) * cg]
        for ky in range(g.kernel_height):
            for kx in range(g.kernel_width):
                # contribution[n, o, i, j] = sum_c x[n, c, i, j] * w[c, o, ky, kx]
                contribution = np.einsum("ncij,co->noij", xs, ws[:, :, ky, kx])
                y0, x0 = ky * g.dilation_h, kx * g.dilation_w
                full[:, k * og:(k + 1) * og,
                     y0:y0 + (g.in_height - 1) * g.stride_h + 1:g.stride_h,
                     x0:x0 + (g.in_width - 1) * g.stride_w + 1:g.stride_w] += contribution
    return full[:, :, g.pad_top:g.pad_top + g.out_height, g.pad_left:g.pad_left + g.out_width]


def _to_nchw(a, data_format):
    """An (N)HWC array moved to (N)CHW for the twins, which compute channels first."""
    return np.moveaxis(a, -1, -3) if data_format == "NHWC" else a


def _from_nchw(a, data_format):
    return np.moveaxis(a, -3, -1) if data_format == "NHWC" else a


def conv_transpose2d_oracle(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                            groups=1, dilation=1, *, output_size=None, data_format="NCHW"):
    """conv_transpose2d in float64 with NumPy only; same arguments and output shape."""
    if data_format == "NHWC":
        return _from_nchw(conv_transpose2d_oracle(
            _to_nchw(np.asarray(input), data_format), weight, bias, stride, padding,
            output_padding, groups, dilation, output_size=output_size), data_format)
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    geom = resolve_transpose(x.shape, w.shape, stride, padding, output_padding, groups,
                             dilation, output_size)
    batched = x.ndim == 4
    out = _conv_transpose_scatter(x if batched else x[np.newaxis], w, geom)
    if bias is not None:
        out = out + np.asarray(bias, dtype=np.float64).reshape(-1, 1, 1)
    return out if batched else out[0]


def conv2d_input_oracle(input_size, weight, grad_output, stride=1, padding=0, dilation=1,
                        groups=1, *, data_format="NCHW"):
    """conv2d_input in float64 with NumPy only: the scattered transposed convolution."""
    if data_format == "NHWC":
        size = tuple(input_size)
        size = size[:-3] + (size[-1],) + size[-3:-1]
        return _from_nchw(conv2d_input_oracle(
            size, weight, _to_nchw(np.asarray(grad_output), data_format), stride, padding,
            dilation, groups), data_format)
    w = np.asarray(weight, dtype=np.float64)
    gy = np.asarray(grad_output, dtype=np.float64)
    size = tuple(input_size)
    c = resolve(size, w.shape, stride, padding, dilation, groups)
    geom = TransposeGeometry(c.batch, c.out_channels, c.out_height, c.out_width, c.in_channels,
                             c.kernel_height, c.kernel_width, c.stride_h, c.stride_w, c.pad_top,
                             c.pad_left, c.dilation_h, c.dilation_w, c.groups, c.in_height,
                             c.in_width)
    batched = len(size) == 4
    out = _conv_transpose_scatter(gy if batched else gy[np.newaxis], w, geom)
    return out if batched else out[0]


def conv2d_weight_oracle(input, weight_size, grad_output, stride=1, padding=0, dilation=1,
                         groups=1, *, data_format="NCHW"):
    """conv2d_weight in float64 with NumPy only: the windows conv2d reads (np.pad,
    sliding_window_view) contracted with grad_output by einsum, per group."""
    x = _to_nchw(np.asarray(input, dtype=np.float64), data_format)
    gy = _to_nchw(np.asarray(grad_output, dtype=np.float64), data_format)
    g = resolve(x.shape, tuple(weight_size), stride, padding, dilation, groups)
    if x.ndim == 3:
        x, gy = x[np.newaxis], gy[np.newaxis]
    cg, og = g.in_channels // g.groups, g.out_channels // g.groups
    grad = np.zeros((g.out_channels, cg, g.kernel_height, g.kernel_width))
    if not (x.size and gy.size):
        return grad
    padded = np.pad(x, ((0, 0), (0, 0), (g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)))
    span_h = g.dilation_h * (g.kernel_height - 1) + 1
    span_w = g.dilation_w * (g.kernel_width - 1) + 1
    windows = sliding_window_view(padded, (span_h, span_w), axis=(2, 3))
    windows = windows[:, :, ::g.stride_h, ::g.stride_w, ::g.dilation_h, ::g.dilation_w]
    windows = windows[:, :, :g.out_height, :g.out_width]
    for k in range(g.groups):
        grad[k * og:(k + 1) * og] = np.einsum(
            "ncyxij,noyx->ocij", windows[:, k * cg:(k + 1) * cg], gy[:, k * og:(k + 1) * og],
            optimize=True)
    return grad


# ------------------------------------------------------------------------------------- pooling
# The twins of cconv's pooling functions: the same argument resolution (cconv/_args.py), the
# arithmetic written independently in NumPy: explicit padding (with -inf or zeros) around the
# input and the partial last windows of ceil_mode, sliding_window_view windows, float64
# throughout.  Unbatched inputs are handled as a batch of one.  data_format="NHWC" moves the
# channel axis to the front of the pixel axes, computes as NCHW and moves it back (np.moveaxis,
# independently of cconv/_layout.py).


def _channels_last(data_format):
    if data_format not in ("NCHW", "NHWC"):
        raise ValueError(f"data_format must be 'NCHW' or 'NHWC', got {data_format!r}")
    return data_format == "NHWC"


def _nchw(a, data_format):
    """An array in the given layout as NCHW ((N,) C, H, W)."""
    a = np.asarray(a)
    return np.moveaxis(a, -1, -3) if _channels_last(data_format) else a


def _in_layout(a, data_format):
    """An NCHW array in the given layout."""
    return np.moveaxis(a, -3, -1) if _channels_last(data_format) else a


def _nchw_shape(shape, data_format):
    shape = tuple(shape)
    if not _channels_last(data_format) or len(shape) not in (3, 4):
        return shape
    return shape[:-3] + (shape[-1],) + shape[-3:-1]



def _as_batch(x):
    x = np.asarray(x, dtype=np.float64)
    return (x, True) if x.ndim == 4 else (x[np.newaxis], False)


def _pool_windows(x, g, fill):
    """(N, C, OH, OW, kH, kW) windows of x padded with `fill` (padding, and the part of ceil_mode
    windows past it), and the same windows of each pixel's flat index (-1 outside the input)."""
    n, c, h, w = x.shape
    span_h = g.dilation_h * (g.kernel_height - 1) + 1
    span_w = g.dilation_w * (g.kernel_width - 1) + 1
    # Enough rows and columns after the input for the last window, however far it reaches.
    extra_h = max(0, (g.out_height - 1) * g.stride_h + span_h - g.pad_top - h)
    extra_w = max(0, (g.out_width - 1) * g.stride_w + span_w - g.pad_left - w)
    pads = ((0, 0), (0, 0), (g.pad_top, extra_h), (g.pad_left, extra_w))
    padded = np.pad(x, pads, constant_values=fill)
    flat = np.pad(np.arange(h * w).reshape(h, w), pads[2:], constant_values=-1)

    def windows(a):
        v = sliding_window_view(a, (span_h, span_w), axis=(-2, -1))
        v = v[..., ::g.stride_h, ::g.stride_w, :, :][..., :g.out_height, :g.out_width, :, :]
        return v[..., ::g.dilation_h, ::g.dilation_w]

    return windows(padded), windows(flat)


def _max_pool2d_nchw(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                      return_indices=False):
    """max_pool2d in float64 with NumPy only: NaN if a window holds one (index: its last NaN),
    else its maximum (index: the first maximum in row-major order among input pixels)."""
    x, batched = _as_batch(input)
    g = resolve_pool(x.shape, kernel_size, stride, padding, dilation, ceil_mode, average=False)
    vals, where = _pool_windows(x, g, -np.inf)
    vals = vals.reshape(vals.shape[:4] + (-1,))
    where = np.broadcast_to(where.reshape(where.shape[:2] + (-1,)), vals.shape)
    inside = where >= 0
    has_nan = np.isnan(vals).any(axis=-1)
    best = np.where(has_nan, np.nan, np.max(np.where(np.isnan(vals), -np.inf, vals), axis=-1))
    taps = vals.shape[-1]
    first_max = np.argmax(inside & (vals == best[..., None]), axis=-1)
    last_nan = taps - 1 - np.argmax(np.isnan(vals)[..., ::-1], axis=-1)
    tap = np.where(has_nan, last_nan, first_max)
    idx = np.take_along_axis(where, tap[..., None], axis=-1)[..., 0].astype(np.int64)
    if not batched:
        best, idx = best[0], idx[0]
    return (best, idx) if return_indices else best


def _avg_divisors(g):
    """(OH, OW) divisors of avg_pool2d: divisor_override, or the count of window taps inside the
    padded input (count_include_pad) or inside the input."""
    if g.divisor:
        return np.full((g.out_height, g.out_width), float(g.divisor))
    h, w = g.in_height, g.in_width
    ones = np.ones((h, w))
    if g.count_include_pad:
        ones = np.pad(ones, ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)),
                      constant_values=1)
        ones = np.pad(ones, ((0, g.stride_h * g.out_height + g.kernel_height),
                             (0, g.stride_w * g.out_width + g.kernel_width)))
    else:
        ones = np.pad(ones, ((g.pad_top, g.stride_h * g.out_height + g.kernel_height),
                             (g.pad_left, g.stride_w * g.out_width + g.kernel_width)))
    counts = sliding_window_view(ones, (g.kernel_height, g.kernel_width))
    return counts[::g.stride_h, ::g.stride_w][:g.out_height, :g.out_width].sum(axis=(-2, -1))


def _avg_pool2d_nchw(input, kernel_size, stride=None, padding=0, ceil_mode=False,
                      count_include_pad=True, divisor_override=None):
    """avg_pool2d in float64 with NumPy only: zero-padded window sums over the divisors."""
    x, batched = _as_batch(input)
    g = resolve_pool(x.shape, kernel_size, stride, padding, 1, ceil_mode, count_include_pad,
                     divisor_override, average=True)
    vals, _ = _pool_windows(x, g, 0.0)
    out = vals.sum(axis=(-2, -1)) / _avg_divisors(g)
    return out if batched else out[0]


def _avg_pool2d_backward_nchw(grad_output, input_shape, kernel_size, stride=None, padding=0,
                               ceil_mode=False, count_include_pad=True, divisor_override=None):
    """avg_pool2d_backward in float64: each window's tap positions of a padded gradient receive
    grad_output / divisor, one kernel tap at a time (a strided slice per tap), then cropped."""
    go, batched = _as_batch(grad_output)
    g = resolve_pool(tuple(input_shape), kernel_size, stride, padding, 1, ceil_mode,
                     count_include_pad, divisor_override, average=True)
    share = go / _avg_divisors(g)
    n, c = g.batch, g.channels
    rows = g.pad_top + g.stride_h * g.out_height + g.kernel_height
    cols = g.pad_left + g.stride_w * g.out_width + g.kernel_width
    padded = np.zeros((n, c, rows, cols))
    for i in range(g.kernel_height):
        for j in range(g.kernel_width):
            padded[:, :, i:i + g.stride_h * g.out_height:g.stride_h,
                   j:j + g.stride_w * g.out_width:g.stride_w] += share
    grad = padded[:, :, g.pad_top:g.pad_top + g.in_height, g.pad_left:g.pad_left + g.in_width]
    return grad if batched else grad[0]


def _adaptive_bounds(size, out):
    return [((i * size) // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_avg_pool2d_nchw(input, output_size):
    """adaptive_avg_pool2d in float64: the mean of each window, window by window."""
    x, batched = _as_batch(input)
    _, (n, c, oh, ow) = resolve_adaptive(x.shape, output_size)
    out = np.zeros((n, c, oh, ow))
    with np.errstate(invalid="ignore"):  # inf - inf in a window is NaN, as IEEE says
        for y, (h0, h1) in enumerate(_adaptive_bounds(x.shape[2], oh)):
            for xx, (w0, w1) in enumerate(_adaptive_bounds(x.shape[3], ow)):
                out[:, :, y, xx] = x[:, :, h0:h1, w0:w1].mean(axis=(-2, -1))
    return out if batched else out[0]


def _adaptive_max_pool2d_nchw(input, output_size, return_indices=False):
    """adaptive_max_pool2d in float64: each window's maximum (NaN if it holds one) and its flat
    index (the first maximum in row-major order, or the last NaN)."""
    x, batched = _as_batch(input)
    _, (n, c, oh, ow) = resolve_adaptive(x.shape, output_size)
    w_in = x.shape[3]
    best = np.zeros((n, c, oh, ow))
    idx = np.zeros((n, c, oh, ow), dtype=np.int64)
    for y, (h0, h1) in enumerate(_adaptive_bounds(x.shape[2], oh)):
        for xx, (w0, w1) in enumerate(_adaptive_bounds(w_in, ow)):
            win = x[:, :, h0:h1, w0:w1].reshape(n, c, -1)
            nan = np.isnan(win)
            has_nan = nan.any(axis=-1)
            top = np.where(has_nan, np.nan, np.max(np.where(nan, -np.inf, win), axis=-1))
            tap = np.where(has_nan, win.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1),
                           np.argmax(win == top[..., None], axis=-1))
            best[:, :, y, xx] = top
            idx[:, :, y, xx] = (h0 + tap // (w1 - w0)) * w_in + w0 + tap % (w1 - w0)
    if not batched:
        best, idx = best[0], idx[0]
    return (best, idx) if return_indices else best


def _adaptive_avg_pool2d_backward_nchw(grad_output, input_shape):
    """adaptive_avg_pool2d_backward in float64: each window receives its grad_output over its
    size."""
    go, batched = _as_batch(grad_output)
    n, c, h, w = pool_input_shape(tuple(input_shape))
    grad = np.zeros((n, c, h, w))
    for y, (h0, h1) in enumerate(_adaptive_bounds(h, go.shape[2])):
        for xx, (w0, w1) in enumerate(_adaptive_bounds(w, go.shape[3])):
            grad[:, :, h0:h1, w0:w1] += (go[:, :, y, xx] / ((h1 - h0) * (w1 - w0)))[..., None,
                                                                                    None]
    return grad if batched else grad[0]


def _max_pool2d_backward_nchw(grad_output, indices, input_shape):
    """max_pool2d_backward in float64: np.add.at of grad_output at the indices, plane by plane."""
    go, batched = _as_batch(grad_output)
    idx = np.asarray(indices)
    idx = idx if batched else idx[np.newaxis]
    n, c, h, w = pool_input_shape(tuple(input_shape))
    grad = np.zeros((n * c, h * w))
    planes = np.arange(n * c)[:, None]
    np.add.at(grad, (np.broadcast_to(planes, (n * c, idx[0, 0].size)),
                     idx.reshape(n * c, -1)), go.reshape(n * c, -1))
    grad = grad.reshape(n, c, h, w)
    return grad if batched else grad[0]


# --------------------------------------------------------------- the pooling twins, any layout
def max_pool2d_oracle(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                      return_indices=False, *, data_format="NCHW"):
    """max_pool2d in float64 with NumPy only, in either layout
    (see _max_pool2d_nchw)."""
    result = _max_pool2d_nchw(_nchw(input, data_format), kernel_size, stride, padding, dilation,
                              ceil_mode, return_indices)
    if return_indices:
        return _in_layout(result[0], data_format), _in_layout(result[1], data_format)
    return _in_layout(result, data_format)


def avg_pool2d_oracle(input, kernel_size, stride=None, padding=0, ceil_mode=False,
                      count_include_pad=True, divisor_override=None, *, data_format="NCHW"):
    """avg_pool2d in float64 with NumPy only, in either layout
    (see _avg_pool2d_nchw)."""
    return _in_layout(_avg_pool2d_nchw(_nchw(input, data_format), kernel_size, stride, padding,
                                       ceil_mode, count_include_pad, divisor_override),
                      data_format)


def avg_pool2d_backward_oracle(grad_output, input_shape, kernel_size, stride=None, padding=0,
                               ceil_mode=False, count_include_pad=True, divisor_override=None,
                               *, data_format="NCHW"):
    """avg_pool2d_backward in float64 with NumPy only, in either layout
    (see _avg_pool2d_backward_nchw)."""
    return _in_layout(_avg_pool2d_backward_nchw(
        _nchw(grad_output, data_format), _nchw_shape(input_shape, data_format), kernel_size,
        stride, padding, ceil_mode, count_include_pad, divisor_override), data_format)


def adaptive_avg_pool2d_oracle(input, output_size, *, data_format="NCHW"):
    """adaptive_avg_pool2d in float64 with NumPy only, in either layout
    (see _adaptive_avg_pool2d_nchw)."""
    return _in_layout(_adaptive_avg_pool2d_nchw(_nchw(input, data_format), output_size),
                      data_format)


def adaptive_max_pool2d_oracle(input, output_size, return_indices=False, *,
                               data_format="NCHW"):
    """adaptive_max_pool2d in float64 with NumPy only, in either layout
    (see _adaptive_max_pool2d_nchw)."""
    result = _adaptive_max_pool2d_nchw(_nchw(input, data_format), output_size, return_indices)
    if return_indices:
        return _in_layout(result[0], data_format), _in_layout(result[1], data_format)
    return _in_layout(result, data_format)


def adaptive_avg_pool2d_backward_oracle(grad_output, input_shape, *, data_format="NCHW"):
    """adaptive_avg_pool2d_backward in float64 with NumPy only, in either layout
    (see _adaptive_avg_pool2d_backward_nchw)."""
    return _in_layout(_adaptive_avg_pool2d_backward_nchw(
        _nchw(grad_output, data_format), _nchw_shape(input_shape, data_format)), data_format)


def max_pool2d_backward_oracle(grad_output, indices, input_shape, *, data_format="NCHW"):
    """max_pool2d_backward in float64 with NumPy only, in either layout
    (see _max_pool2d_backward_nchw)."""
    return _in_layout(_max_pool2d_backward_nchw(
        _nchw(grad_output, data_format), _nchw(indices, data_format),
        _nchw_shape(input_shape, data_format)), data_format)
