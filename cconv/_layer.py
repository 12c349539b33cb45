"""cconv.Conv2d: one convolution layer whose weights are copied, checked and packed once.

A network calls each of its layers with the same weights over and over.  conv2d already skips
argument resolution on repeated calls (its plan cache), but its channels-last kernels still
repack the whole weight array on every call, a pass over all weights that costs about as much
as computing ~100 output positions.  A Conv2d object owns a private copy of its weights, packs
them in C once per kernel path (and dtype and instruction set) that its calls run, and hands
the packed weights to every later call.

Every call computes exactly what ``conv2d(input, weight, bias, ...)`` computes, bit for bit: a
call that the object has not seen before (a new input shape, dtype or layout), or one whose
`out`/`residual` need a check, a copy or a conversion, simply is that conv2d call; only calls
that repeat a successful one take the packed fast path, which passes the C core exactly the
arguments conv2d's own repeated-call path would, plus the packed weights.
"""

from __future__ import annotations

import numpy as np

from . import _core, _method, _simd, _winograd
from ._args import (ACTIVATION_NONE, as_int, as_pair, n_elements, resolve, resolve_activation,
                    resolve_padding, resolve_threads, result_dtype)
from ._conv import _CONVERTED, _CORE, _c_ready, _conv2d, _out_ready
from ._layout import as_nchw, layout_shape, nchw_shape, resolve_data_format
from ._memory import physical_memory
from ._pad import resolve_padding_mode

# A call's plans are kept per (input shape, strides, dtype, threads, SIMD path); a layer sees few
# of them, but a program that feeds one object ever new sizes must not grow it without bound.
_PLANS_MAX = 64


class Conv2d:
    """A conv2d layer with fixed weights, packed once for repeated calls.

    ``layer = Conv2d(weight, bias, ...)`` then ``layer(input)`` computes exactly
    ``conv2d(input, weight, bias, ...)``, bit for bit, for any batch size and spatial size,
    without repeating per call what depends on the weights alone: the arguments are checked
    once, here, and the channels-last kernels (``data_format="NHWC"``, or channels-last
    views) get their weights repacked once instead of on every call. The planar (NCHW)
    kernels read the weights in place and pack nothing; there the object only saves the
    argument handling.

    Parameters
    ----------
    weight : array_like
        (O, C/groups, kH, kW). Copied: changing the caller's array afterwards does not change
        the layer.
    bias : array_like, optional
        (O,). Copied too.
    stride, padding, dilation, groups, padding_mode, padding_value, data_format, activation,
    method
        As for :func:`conv2d`; fixed for the layer. The direct method reads packed weights;
        calls computed by Winograd (``method="winograd"``, or what ``"auto"`` picks for an
        input's shape) read the weights transformed once per dtype instead of transforming
        them on every call (same results, bit for bit); calls computed by FFT run exactly as
        :func:`conv2d` runs them.
    threads : int, optional
        Default threads of every call (a call's own `threads` overrides it); None as for
        :func:`conv2d`.

    Attributes
    ----------
    weight, bias : numpy.ndarray
        The layer's read-only copies (bias may be None).
    stride, padding, dilation, groups, padding_mode, padding_value, data_format, activation,
    method, threads
        As given.

    Raises
    ------
    ValueError, TypeError
        As :func:`conv2d` would for these weights and parameters, here rather than at the first
        call. Whatever depends on the input (its channel count among it) is checked per call,
        with conv2d's messages.

    Notes
    -----
    Calls may run on several threads at once. The packed weights are made lazily, right after
    the first call of each new input layout (which is plain conv2d), and live as long as the
    object; pickling keeps the weights and parameters and packs again after loading.
    :class:`ConvTranspose2d` is the same for :func:`conv_transpose2d`.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> rng = np.random.default_rng(0)
    >>> w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    >>> b = rng.standard_normal(16).astype(np.float32)
    >>> layer = cconv.Conv2d(w, b, padding=1, activation="relu", data_format="NHWC")
    >>> layer
    Conv2d(weight=(16, 8, 3, 3) float32, bias=(16,) float32, padding=1, activation='relu',
           data_format='NHWC')
    >>> x = rng.standard_normal((2, 20, 20, 8)).astype(np.float32)
    >>> y = layer(x)
    >>> y.shape
    (2, 20, 20, 16)
    >>> bool(np.array_equal(y, cconv.conv2d(x, w, b, padding=1, activation="relu",
    ...                                     data_format="NHWC")))
    True
    """

    def __init__(self, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                 padding_mode="zeros", padding_value=0.0, data_format="NCHW", activation=None,
                 method="auto", threads=None):
        w = np.array(weight, order="C", copy=True)
        b = None if bias is None else np.array(bias, order="C", copy=True)
        self._cl = _check_layer(w, b, stride, padding, dilation, groups, data_format)
        self._stage = resolve_activation(activation)
        self._mode, self._fill = resolve_padding_mode(padding_mode, padding_value)
        _method.resolve_method(method)
        resolve_threads(threads)
        if isinstance(padding, np.ndarray):
            padding = padding.tolist()  # a copy, like the weights
        w.flags.writeable = False
        if b is not None:
            b.flags.writeable = False
        self.weight, self.bias = w, b
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.padding_mode, self.padding_value = padding_mode, padding_value
        self.data_format, self.activation, self.threads = data_format, activation, threads
        self.method = method
        # The weights and bias in each computation dtype, C-contiguous, as conv2d converts them.
        self._cast: dict = {}
        # Call plans (see _plan) and packed weights, per (dtype, SIMD path) of the channels-last
        # kernels.  Plain dict reads and writes are atomic: calls on several threads need no
        # lock (two that plan at once both pack, and the last one's set is kept).
        self._plans: dict = {}
        self._packs: dict = {}
        # The weights transformed for the Winograd path, per (dtype, SIMD path, tile): calls
        # that "auto" (or method="winograd") computes by Winograd skip the weight transform.
        self._winograd: dict = {}

    def __call__(self, input, *, residual=None, out=None, threads=None):
        """``conv2d(input, self.weight, self.bias, ..., residual=residual, out=out,
        threads=threads)``, with the layer's parameters (threads: the layer's when None)."""
        if threads is None:
            threads = self.threads
        x = input if type(input) is np.ndarray else np.asarray(input)
        if threads is None or type(threads) is int:
            key = (x.shape, x.strides, x.dtype, threads, _simd.ACTIVE)
            plan = self._plans.get(key)
            if plan is not None and x.flags.aligned:
                result = _run(plan, x, residual, out)
                if result is not None:
                    return result
        else:
            key = None
        # conv2d's own full path (it is what conv2d runs for a call its plan cache does not
        # replay), with the cache of the weights transformed for Winograd: those never change.
        result = _conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups, out, threads, _simd.ACTIVE, False, None, self.activation,
                         residual, self.padding_mode, self.padding_value, self.data_format,
                         self.method, self._winograd)
        if key is not None and key not in self._plans:
            self._plan(key, x, residual, threads)
        return result

    def _plan(self, key, x, residual, threads):
        """After a successful conv2d call on x: what a repeated call needs, when the fast path
        can replay it exactly (as conv2d's _remember_plan decides), with the packed weights."""
        dtype = result_dtype(("input", x), ("weight", self.weight), ("bias", self.bias))
        if residual is not None and np.asarray(residual).dtype != dtype:
            return  # a residual that promotes the result: conv2d decides every time
        if x.size == 0 or not x.flags.aligned:
            return
        if x.dtype == dtype:
            core, code = _CORE[dtype], 0
        elif x.dtype.char in _CONVERTED[dtype] and x.dtype.isnative:
            core, code = _core.conv2d_converting, _core._INPUT_DTYPES[x.dtype.char]
        else:
            return  # converted into a whole copy by conv2d: not worth a fast path
        geom = resolve(nchw_shape(x.shape, self._cl), self.weight.shape, self.stride,
                       self.padding, self.dilation, self.groups,
                       "NHWC" if self._cl else "NCHW")
        batched = x.ndim == 4
        shape = layout_shape(geom.out_shape if batched else geom.out_shape[1:], self._cl)
        if 0 in shape:
            return
        ram = physical_memory()
        if ram is not None and n_elements(shape) * dtype.itemsize > ram:
            return
        simd = key[-1]
        n_threads = resolve_threads(threads)
        # Only the direct kernels read packed weights: calls that conv2d computes by FFT or
        # Winograd ("fft", "winograd", or what "auto" picks for these shapes) always go to
        # conv2d.
        if self.method in ("fft", "winograd") or (self.method == "auto" and (
                _method.choose(geom, dtype, n_threads or _core.max_threads()) != "direct"
                or _winograd.winograd_suits(geom, dtype, self._cl))):
            return
        w, b = self._weights(dtype)
        x4 = as_nchw(x if batched else x[np.newaxis], self._cl)
        out4 = as_nchw(_layout_template(shape if batched else (1,) + shape, dtype), self._cl)
        packed = None
        if _core.kernels_used(x4, w.shape, out4, geom.core_tuple, simd, dtype.itemsize,
                              code, self._mode).startswith("channels-last"):
            # The packed layout depends on the weights, dtype and SIMD path only (never the
            # spatial size or batch), so every channels-last plan of one dtype shares it.
            packed = self._packs.get((dtype, simd))
            if packed is None:
                packed = _core.conv2d_pack(x4, w, b, out4, geom.core_tuple, n_threads, simd,
                                           code)
                self._packs[(dtype, simd)] = packed
        stage = None if self._stage[0] == ACTIVATION_NONE else self._stage
        if len(self._plans) >= _PLANS_MAX:
            self._plans.clear()
        self._plans[key] = (core, w, b, geom.core_tuple, shape, dtype, n_threads, batched,
                            stage, self._mode, self._fill, self._cl, simd, packed)

    def _weights(self, dtype):
        """The weight and bias in the computation dtype (converted once, as conv2d would)."""
        cast = self._cast.get(dtype)
        if cast is None:
            w = np.require(self.weight, dtype, "CA")
            b = None if self.bias is None else np.require(self.bias, dtype, "CA")
            cast = self._cast[dtype] = (w, b)
        return cast

    def __repr__(self):
        parts = [f"weight={self.weight.shape} {self.weight.dtype}"]
        if self.bias is not None:
            parts.append(f"bias={self.bias.shape} {self.bias.dtype}")
        for name, default in _DEFAULTS:
            value = getattr(self, name)
            if not (type(value) is type(default) and value == default):
                parts.append(f"{name}={value!r}")
        return f"Conv2d({', '.join(parts)})"

    def __reduce__(self):
        kwargs = {name: getattr(self, name) for name, _ in _DEFAULTS}
        return _restore, (self.weight, self.bias, kwargs)


# The parameters after weight and bias, with their defaults (what repr leaves out).
_DEFAULTS = (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1),
             ("padding_mode", "zeros"), ("padding_value", 0.0), ("activation", None),
             ("data_format", "NCHW"), ("method", "auto"), ("threads", None))


def _restore(weight, bias, kwargs):
    """Unpickles a Conv2d (its packed weights are made again on use)."""
    return Conv2d(weight, bias, **kwargs)


def _run(plan, x, residual, out):
    """A repeated call on a plan: exactly conv2d's repeated-call path, with packed weights; None
    when out or residual need conv2d's full handling."""
    (core, w, b, geometry, shape, dtype, n_threads, batched, stage, mode, fill, cl, simd,
     packed) = plan
    if out is None:
        result = np.empty(shape, dtype)
    elif _out_ready(out, shape, dtype, x, w, b):
        result = out
    else:
        return None
    if residual is not None and not (
            type(residual) is np.ndarray and residual.shape == shape
            and residual.dtype == dtype and _c_ready(residual)
            and not np.may_share_memory(residual, result)):
        return None
    xv, rv, resv = x, result, residual
    if cl:
        xv, rv = as_nchw(x, True), as_nchw(result, True)
        resv = None if residual is None else as_nchw(residual, True)
    if not batched:
        xv, rv = xv[None], rv[None]
        resv = None if resv is None else resv[None]
    core(xv, w, b, rv, geometry, n_threads, simd, False, resv, stage, mode, fill, packed)
    return result


def _layout_template(shape, dtype) -> np.ndarray:
    """A C-contiguous array of this shape whose contents are never read (no allocation): what
    the kernel choice and the packing need to see of the output."""
    strides, step = [], dtype.itemsize
    for extent in reversed(shape):
        strides.append(step)
        step *= extent
    return np.lib.stride_tricks.as_strided(np.empty(1, dtype), shape, strides[::-1],
                                           writeable=False)


def _check_layer(w, b, stride, padding, dilation, groups, data_format) -> bool:
    """Everything conv2d checks that does not depend on the input, with conv2d's messages;
    returns whether the layout is channels-last."""
    channels_last = resolve_data_format(data_format)
    result_dtype(("weight", w), ("bias", b))
    g = as_int(groups, "groups", 1)
    probe = (1, 1, 1, 1)  # resolve() then names a weight that is not 4-D
    if w.ndim == 4:
        o, depth, kh, kw = w.shape
        sh, sw = as_pair(stride, "stride", 1)
        dh, dw = as_pair(dilation, "dilation", 1)
        span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        top, bottom, left, right = resolve_padding(padding, (span_h, span_w), (kh, kw),
                                                   (sh, sw), (dh, dw))
        # An input that any padding fits and that the kernel fits: only the weight and the
        # parameters can fail.
        probe = (1, depth * g, max(span_h, top, bottom, 1), max(span_w, left, right, 1))
    geom = resolve(probe, w.shape, stride, padding, dilation, groups,
                   "NHWC" if channels_last else "NCHW")
    if b is not None and b.shape != (geom.out_channels,):
        raise ValueError(f"bias must have shape ({geom.out_channels},), one value per filter, "
                         f"got shape {b.shape}")
    return channels_last
