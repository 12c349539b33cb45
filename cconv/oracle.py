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

from ._args import TransposeGeometry, resolve, resolve_transpose


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


def conv2d_oracle(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                  activation=None, residual=None):
    """conv2d computed in float64 with NumPy only; same arguments and output shape as conv2d."""
    x = np.asarray(input, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    g = resolve(x.shape, w.shape, stride, padding, dilation, groups)
    batched = x.ndim == 4
    if not batched:
        x = x[np.newaxis]
    out = np.zeros(g.out_shape, dtype=np.float64)
    if out.size and x.size:
        padded = np.pad(x, ((0, 0), (0, 0), (g.pad_top, g.pad_bottom),
                            (g.pad_left, g.pad_right)))
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
    if bias is not None:
        out += np.asarray(bias, dtype=np.float64).reshape(-1, 1, 1)
    if residual is not None:
        r = np.asarray(residual, dtype=np.float64)
        out += r if batched else r[np.newaxis]
    out = _activation_oracle(out, activation)
    return out if batched else out[0]


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


def conv_transpose2d_oracle(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                            groups=1, dilation=1, *, output_size=None):
    """conv_transpose2d in float64 with NumPy only; same arguments and output shape."""
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
                        groups=1):
    """conv2d_input in float64 with NumPy only: the scattered transposed convolution."""
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
                         groups=1):
    """conv2d_weight in float64 with NumPy only: the windows conv2d reads (np.pad,
    sliding_window_view) contracted with grad_output by einsum, per group."""
    x = np.asarray(input, dtype=np.float64)
    gy = np.asarray(grad_output, dtype=np.float64)
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
