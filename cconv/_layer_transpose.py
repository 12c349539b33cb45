"""cconv.ConvTranspose2d: one transposed-convolution layer whose weights are packed once.

conv_transpose2d splits its output into stride phases and runs each as a conv2d whose kernel is
the phase's taps, reversed: on every call it copies the whole weight into those kernels (a pass
over the weights that, for a deep layer on a small input, costs as much as the arithmetic), and
channels-last phases repack them once more.  A ConvTranspose2d object makes those copies once
(see src_c/conv/conv_transpose2d_template.h) and computes exactly what conv_transpose2d does.
"""

from __future__ import annotations

import numpy as np

from . import _core, _simd, _target
from ._args import (as_pair, resolve_padding, resolve_threads, resolve_transpose,
                    result_dtype)
from ._conv_transpose import _CORE, conv_transpose2d
from ._layer import _layout_template
from ._layout import as_nchw, layout_shape, nchw_shape, resolve_data_format

_PLANS_MAX = 64  # as for Conv2d


class ConvTranspose2d:
    """A conv_transpose2d layer with fixed weights, packed once for repeated calls.

    ``layer = ConvTranspose2d(weight, bias, ...)`` then ``layer(input)`` computes exactly
    ``conv_transpose2d(input, weight, bias, ...)``, bit for bit, for any batch and spatial
    size. The weights are copied and checked here, and reordered into the kernels of each
    stride phase once (with, for channels-last calls, the channels-last kernels' packing of
    them) instead of on every call.

    Parameters
    ----------
    weight : array_like
        (C, O/groups, kH, kW), as for :func:`conv_transpose2d`. Copied.
    bias : array_like, optional
        (O,). Copied.
    stride, padding, output_padding, groups, dilation, data_format
        As for :func:`conv_transpose2d`; fixed for the layer.
    threads : int, optional
        Default threads of every call (a call's own `threads` overrides it).

    Notes
    -----
    The channels-last kernels' packings are made for the input size of the first repeated
    call; a later input size whose phases switch between the planar and channels-last kernels
    packs those per call, as conv_transpose2d does. Calls may run on several threads at once;
    the object pickles as its weights and parameters.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> w = np.ones((16, 8, 4, 4), np.float32)
    >>> up = cconv.ConvTranspose2d(w, stride=2, padding=1)
    >>> up
    ConvTranspose2d(weight=(16, 8, 4, 4) float32, stride=2, padding=1)
    >>> x = np.ones((1, 16, 7, 7), np.float32)
    >>> up(x).shape
    (1, 8, 14, 14)
    >>> bool(np.array_equal(up(x), cconv.conv_transpose2d(x, w, stride=2, padding=1)))
    True
    """

    def __init__(self, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                 dilation=1, *, data_format="NCHW", threads=None):
        w = np.array(weight, order="C", copy=True)
        b = None if bias is None else np.array(bias, order="C", copy=True)
        self._cl = resolve_data_format(data_format)
        result_dtype(("weight", w), ("bias", b))
        resolve_threads(threads)
        if isinstance(padding, np.ndarray):
            padding = padding.tolist()
        geom = resolve_transpose(_probe(w, padding, stride, dilation, groups), w.shape, stride,
                                 padding, output_padding, groups, dilation)
        if b is not None and b.shape != (geom.out_channels,):
            raise ValueError(f"bias must have shape ({geom.out_channels},), one value per "
                             f"output channel, got shape {b.shape}")
        w.flags.writeable = False
        if b is not None:
            b.flags.writeable = False
        self.weight, self.bias = w, b
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.groups, self.dilation = groups, dilation
        self.data_format, self.threads = data_format, threads
        self._cast: dict = {}
        self._plans: dict = {}
        self._packs: dict = {}

    def __call__(self, input, *, output_size=None, out=None, threads=None):
        """``conv_transpose2d(input, self.weight, self.bias, ..., output_size=output_size,
        out=out, threads=threads)`` with the layer's parameters (threads: the layer's when
        None)."""
        if threads is None:
            threads = self.threads
        x = input if type(input) is np.ndarray else np.asarray(input)
        key = None
        if threads is None or type(threads) is int:
            size = tuple(output_size) if isinstance(output_size, (tuple, list)) else output_size
            key = (x.shape, x.strides, x.dtype, threads, _simd.ACTIVE, size)
            try:
                plan = self._plans.get(key)
            except TypeError:  # an unhashable output_size: conv_transpose2d judges it
                plan = key = None
            if plan is not None:
                return _run(plan, x, out)
        result = conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation,
                                  output_size=output_size, data_format=self.data_format,
                                  out=out, threads=threads)
        if key is not None and key not in self._plans and x.size and result.size:
            self._plan(key, x, output_size, threads)
        return result

    def _plan(self, key, x, output_size, threads):
        """After a successful call on x: the resolved call, with the packed weights."""
        dtype = result_dtype(("input", x), ("weight", self.weight), ("bias", self.bias))
        geom = resolve_transpose(nchw_shape(x.shape, self._cl), self.weight.shape, self.stride,
                                 self.padding, self.output_padding, self.groups, self.dilation,
                                 output_size)
        batched = x.ndim == 4
        shape = layout_shape(geom.out_shape if batched else geom.out_shape[1:], self._cl)
        cast = self._cast.get(dtype)
        if cast is None:
            cast = self._cast[dtype] = (
                np.require(self.weight, dtype, "CA"),
                None if self.bias is None else np.require(self.bias, dtype, "CA"))
        w, b = cast
        simd, n_threads = key[4], resolve_threads(threads)
        pack_key = (dtype, simd, self._cl)
        packed = self._packs.get(pack_key)
        if packed is None:
            x4 = as_nchw(x if batched else x[np.newaxis], self._cl)
            out4 = as_nchw(_layout_template(shape if batched else (1,) + shape, dtype),
                           self._cl)
            packed = self._packs[pack_key] = _core.conv_transpose2d_pack(
                x4, w, b, out4, geom.core_tuple, n_threads, simd)
        if len(self._plans) >= _PLANS_MAX:
            self._plans.clear()
        self._plans[key] = (_CORE[dtype], w, b, geom.core_tuple, shape, dtype, n_threads,
                            batched, self._cl, simd, packed)

    def __repr__(self):
        parts = [f"weight={self.weight.shape} {self.weight.dtype}"]
        if self.bias is not None:
            parts.append(f"bias={self.bias.shape} {self.bias.dtype}")
        for name, default in _DEFAULTS:
            value = getattr(self, name)
            if not (type(value) is type(default) and value == default):
                parts.append(f"{name}={value!r}")
        return f"ConvTranspose2d({', '.join(parts)})"

    def __reduce__(self):
        kwargs = {name: getattr(self, name) for name, _ in _DEFAULTS}
        return _restore, (self.weight, self.bias, kwargs)


_DEFAULTS = (("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1),
             ("dilation", 1), ("data_format", "NCHW"), ("threads", None))


def _restore(weight, bias, kwargs):
    """Unpickles a ConvTranspose2d (packing again on use)."""
    return ConvTranspose2d(weight, bias, **kwargs)


def _run(plan, x, out):
    """A repeated call: conv_transpose2d's own steps on the resolved plan, with packed weights."""
    core, w, b, geometry, shape, dtype, n_threads, batched, cl, simd, packed = plan
    result, target = _target.prepare("conv_transpose2d", out, shape, dtype, (x,))
    xx = np.require(as_nchw(x if batched else x[np.newaxis], cl), dtype, "A")
    core(xx, w, b, as_nchw(target if batched else target[np.newaxis], cl), geometry, n_threads,
         simd, False, packed=packed)
    return _target.finish(result, target)


def _probe(w, padding, stride, dilation, groups):
    """An input shape that the weight and any valid parameters accept (its output is never
    empty), so that resolve_transpose checks only them."""
    if w.ndim != 4 or isinstance(padding, str):
        return (1, w.shape[0] if w.ndim else 1, 1, 1)
    kh, kw = w.shape[2:]
    top, bottom, left, right = resolve_padding(padding, (1, 1), (kh, kw),
                                               as_pair(stride, "stride", 1),
                                               as_pair(dilation, "dilation", 1))
    return (1, w.shape[0], top + bottom + 1, left + right + 1)
