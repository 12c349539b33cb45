"""The slow, obviously-correct NumPy twin of conv2d, used by the tests as the reference.

It shares only the argument resolution with the fast path (so both agree on what "same" padding
or a pair means); the arithmetic is independent: explicit np.pad, sliding_window_view and one
einsum per group, all in float64.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._args import resolve


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
