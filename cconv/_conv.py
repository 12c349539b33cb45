"""The public conv2d API: normalise, validate, then one call into the C core."""

from __future__ import annotations

import sys

import numpy as np

from . import _core, _method, _simd, _target, _winograd
from ._args import (ACTIVATION_NONE, Geometry, apply_activation, as_int, as_shape, n_elements,
                    params_key, resolve, resolve_activation, resolve_threads, result_dtype)
from ._fft import conv2d_fft
from ._layout import as_nchw, from_nchw, layout_shape, nchw_shape, resolve_data_format
from ._memory import physical_memory
from ._pad import resolve_padding_mode

_CORE = {np.dtype(np.float32): _core.conv2d_f32, np.dtype(np.float64): _core.conv2d_f64}
# Inputs the C core converts as it packs them (never a whole converted copy), by result dtype.
_CONVERTED = {np.dtype(np.float32): frozenset("BbHh"), np.dtype(np.float64): frozenset("BbHhf")}

# Repeated calls with the same shapes and parameters (a network's layers, a video's frames) skip
# argument resolution: the checked result is cached under a key of the arrays' shapes and dtypes
# and the exact parameters (_args.params_key: exact ints, or "same"), so that calls spelling the
# same parameters differently share a plan, and a cache hit has passed every check a fresh call
# would make.  A plan is only stored after a successful call, and only replayed on arrays that
# the C core can read in place.  Plain dict operations are atomic, so this needs no lock; it is
# cleared when it grows too big.
_PLAN_CACHE: dict = {}
_PLAN_CACHE_MAX = 512


def conv2d_output_shape(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                        *, data_format="NCHW"):
    """Shape of ``conv2d(input, weight, ...)`` without computing it.

    Parameters
    ----------
    input_shape : tuple of int
        (N, C, H, W), or (C, H, W) for a single image; (N, H, W, C) or (H, W, C) with
        ``data_format="NHWC"``.
    weight_shape : tuple of int
        (O, C/groups, kH, kW).
    stride, padding, dilation, groups, data_format
        As for :func:`conv2d`.

    Returns
    -------
    tuple of int
        (N, O, OH, OW), or (O, OH, OW) when `input_shape` has no batch axis ((N, OH, OW, O) or
        (OH, OW, O) with ``data_format="NHWC"``), where
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
    >>> cconv.conv2d_output_shape((1080, 1920, 3), (3, 1, 5, 5), groups=3, data_format="NHWC")
    (1076, 1916, 3)
    """
    channels_last = resolve_data_format(data_format)
    input_shape = as_shape(input_shape, "input_shape")
    geom = resolve(nchw_shape(input_shape, channels_last), as_shape(weight_shape, "weight_shape"),
                   stride, padding, dilation, groups, _layout_name(channels_last))
    shape = geom.out_shape if len(input_shape) == 4 else geom.out_shape[1:]
    return layout_shape(shape, channels_last)


def _layout_name(channels_last: bool) -> str:
    return "NHWC" if channels_last else "NCHW"


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           activation=None, residual=None, padding_mode="zeros", padding_value=0.0,
           data_format="NCHW", method="auto", out=None, threads=None):
    """2-D convolution (cross-correlation) of a stack of feature maps with a bank of filters.

    The same meaning and argument order as ``torch.nn.functional.conv2d``: each of the O filters
    is a stack of C/groups kernels (its depth), slides over the input, and at every position
    multiplies and sums across all its kernels to write one pixel of its output feature map.
    No kernel flip.

    Parameters
    ----------
    input : array_like
        (N, C, H, W), or (C, H, W) for a single image (the output then has no batch axis either);
        with ``data_format="NHWC"``, (N, H, W, C) or (H, W, C). Integer images (uint8, int8,
        uint16, int16) are converted block by block as the C core reads them.
    weight : array_like
        (O, C/groups, kH, kW): O filters, each of depth C/groups.
    bias : array_like, optional
        (O,), added to each output feature map.
    stride : int or (int, int), default 1
        Step between filter positions, >= 1. A 1-element sequence such as ``(2,)`` means the
        same for both axes, as in PyTorch (for padding and dilation too).
    padding : int, (int, int), ((int, int), (int, int)), "valid" or "same", default 0
        Pixels added around the input (what they hold: `padding_mode`): the same on all sides,
        (h, w) per axis,
        ((top, bottom), (left, right)), ((before, after),) for both axes, none ("valid"), or
        "same": output size ceil(input / stride) for any stride, with the odd pixel at the
        bottom/right (an axis of size 0 gets no padding). A side may pad at most the input size
        plus the dilated kernel size (more only adds outputs that see nothing but border).
    dilation : int or (int, int), default 1
        Spacing between kernel taps, >= 1.
    groups : int, default 1
        Input channels and filters are split into `groups` groups that do not mix; both C and O
        must be divisible by it. ``groups == C`` is the depthwise convolution.
    activation : None, "relu", "relu6", "leaky_relu", ("leaky_relu", slope) or ("clamp", lo, hi)
        Applied to each output as it is computed (in the kernel's output tile, so a
        conv + bias + activation layer makes one pass over its output): ``max(y, 0)``,
        ``min(max(y, 0), 6)``, ``y if y >= 0 else slope * y`` (slope 0.01 by default, as in
        PyTorch), or ``min(max(y, lo), hi)``. NaN stays NaN.
    residual : array_like, optional
        Of the output's shape, added before the activation: ``activation(conv + bias +
        residual)``, a ResNet block's skip connection in the same pass.
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}, default "zeros"
        What the padding holds, as in ``torch.nn.Conv2d``: the constant `padding_value`; the
        input mirrored about its edge pixel (dcb|abcd, OpenCV's BORDER_REFLECT_101); the edge
        pixel repeated (aaa|abcd); the input wrapped around (bcd|abcd); or mirrored with the edge
        pixel repeated (cba|abcd, SciPy's "reflect", OpenCV's BORDER_REFLECT). Computed as the
        input is read, never by padding a copy of it.
    padding_value : float, default 0.0
        The constant border of ``padding_mode="zeros"``.
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        The layout of input, output, `residual` and `out`: channels first (PyTorch's), or
        channels last (an (H, W, 3) image as Pillow, imageio and OpenCV give it). The weight is
        (O, C/groups, kH, kW) either way. Channels-last runs kernels of its own.
    method : {"auto", "direct", "fft", "winograd"}, default "auto"
        "direct" sums the products of each window in the C core. "fft" multiplies Fourier
        transforms, tile by tile: its time grows with the image but only with the log of the
        kernel, so it wins for big kernels (about 15x15 and up on large images). It computes
        every configuration the direct path does. Its rounding error is relative to the
        magnitudes in a whole tile rather than in each window, and a NaN or infinity spreads
        over its tile (as in scipy.signal.fftconvolve). "auto" takes the FFT only where a cost
        model measured on the development machine predicts it faster by a margin, the data are
        finite, and its error stays within the direct path's tolerance; else "direct".
        "winograd" (3x3 kernels, stride 1, dilation 1 only: else ValueError) computes each 2x2
        or 4x4 block of outputs from transformed input tiles with 2.25 to 4 multiply-adds per
        output and input channel instead of 9, with rounding errors a few times the direct
        path's (about 1.5e-5 of the largest output in float32 at 512 input channels for 4x4
        blocks); "auto" takes it for NCHW layers with groups=1 where a cost model predicts it
        faster by a margin and the error stays 4x below the direct path's tolerance.
    out : numpy.ndarray, optional
        C-contiguous, writable array of exactly the output shape and dtype, filled and returned
        (anything that is not a numpy.ndarray is a TypeError).
    threads : int, optional
        Threads to use, 1 to 1024; default: OMP_NUM_THREADS, else all usable cores.

    Returns
    -------
    numpy.ndarray
        (N, O, OH, OW) or (O, OH, OW) ((N, OH, OW, O) or (OH, OW, O) for NHWC). The dtype
        follows ``numpy.result_type`` of the arrays: float32 when that is float16 or float32
        (so uint8, int8, uint16 or int16 images with float32 weights give float32), float64
        otherwise.

    Raises
    ------
    ValueError
        A shape, size or parameter is out of range (the message names it and the numbers), or
        `out` (an ndarray) has the wrong shape or dtype, is not C-contiguous or is read-only,
        or `method`, `padding_mode` or `data_format` is not one of its choices.
    TypeError
        An argument has the wrong type, e.g. complex data, a float stride, or an `out` that is
        not a numpy.ndarray.
    MemoryError
        The result and contiguous copies of the inputs would not fit in RAM (checked before
        allocating), or the driver's scratch for an extreme stride, dilation or padding would.
    KeyboardInterrupt
        Ctrl-C during a long call stops it within about a second; `out` is then incomplete.

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

    A uint8 RGB image as Pillow gives it, blurred channel by channel (groups=3, one 3x3 box
    kernel per channel) with its edge pixels mirrored into the border:

    >>> rgb = np.zeros((4, 6, 3), np.uint8)
    >>> rgb[:, 3:] = 90
    >>> box = np.full((3, 1, 3, 3), 1 / 9, np.float32)
    >>> y = cconv.conv2d(rgb, box, padding=1, groups=3, padding_mode="reflect",
    ...                  data_format="NHWC")
    >>> y.shape, y.dtype
    ((4, 6, 3), dtype('float32'))
    >>> y[0, :, 0]
    array([ 0.,  0., 30., 60., 90., 90.], dtype=float32)

    A big kernel on a big image: "auto" takes the FFT, which agrees with the direct path to
    rounding:

    >>> photo = np.random.default_rng(0).random((1, 1, 1024, 1024), dtype=np.float32)
    >>> blur = np.full((1, 1, 31, 31), 1 / 31**2, dtype=np.float32)
    >>> fast = cconv.conv2d(photo, blur, padding="same")
    >>> slow = cconv.conv2d(photo, blur, padding="same", method="direct")
    >>> bool(np.abs(fast - slow).max() < 1e-5)
    True
    """
    params = params_key(stride, padding, dilation, groups, threads)
    if params is not None and (type(method) is not str or method != "auto"):
        # Only direct-path plans are cached.  "auto" keeps the bare key: its choice is a function
        # of what the key holds (shapes, dtypes, parameters), and a call it sends to the FFT
        # caches nothing.  "direct" has a key of its own, since "auto" may take the FFT for the
        # same shapes; "fft", "winograd" (or a wrong method) take the full path, and a call
        # "auto" sends to Winograd caches nothing either.
        params = (params, "direct") if type(method) is str and method == "direct" else None
    if params is not None and activation is not None:
        try:
            params = (params, resolve_activation(activation))
        except (TypeError, ValueError):
            params = None  # the full path raises it
    if params is not None and (data_format != "NCHW" or padding_mode != "zeros" or not (
            type(padding_value) in (int, float) and padding_value == 0)):
        # Keyed as given (with the value's type, so that True never stands for 1): a plan is
        # only stored after a call that checked them.
        params = (params, padding_mode, type(padding_value), padding_value, data_format)
        try:
            hash(params)
        except TypeError:
            params = None
    if params is not None:
        x, w, b = input, weight, bias
        if type(x) is not np.ndarray or type(w) is not np.ndarray or not (
                b is None or type(b) is np.ndarray):
            # Converted once, here: the full path below gets the converted arrays.
            x, w, b = _as_arrays(x, w, b)
        plan = _PLAN_CACHE.get((x.shape, x.dtype, w.shape, w.dtype,
                                None if b is None else (b.shape, b.dtype), params))
        # The C core reads the input through its strides, but needs every array aligned for its
        # typed loads, and weight and bias C-contiguous (see _compute).
        if plan is not None and x.flags.aligned and _c_ready(w) and (b is None or _c_ready(b)):
            core, geometry, shape, dtype, n_threads, batched, stage, mode, fill, cl = plan
            if out is None:
                result = np.empty(shape, dtype)
            elif _out_ready(out, shape, dtype, x, w, b):
                result = out
            else:  # out= that needs a check, a copy or an error: the full path
                result = None
            if residual is not None and result is not None and not (
                    type(residual) is np.ndarray and residual.shape == shape
                    and residual.dtype == dtype and _c_ready(residual)
                    and not np.may_share_memory(residual, result)):
                result = None  # a residual to convert, copy or refuse: the full path
            if result is not None:
                xv, rv, resv = x, result, residual
                if cl:
                    xv, rv = as_nchw(x, True), as_nchw(result, True)
                    resv = None if residual is None else as_nchw(residual, True)
                if not batched:
                    xv, rv = xv[None], rv[None]
                    resv = None if resv is None else resv[None]
                core(xv, w, b, rv, geometry, n_threads, _simd.ACTIVE, False, resv, stage, mode,
                     fill)
                return result
        input, weight, bias = x, w, b
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, out, threads,
                   _simd.ACTIVE, False, params, activation, residual, padding_mode,
                   padding_value, data_format, method)


def _as_arrays(input, weight, bias):
    """np.asarray of each (bias may be None).  A CPU torch.Tensor is converted by its numpy()
    method, which is what np.asarray gets from the tensor's __array__, without the detour
    through the __array__ protocol (it costs as much as the rest of a tiny call)."""
    tensor = getattr(sys.modules.get("torch"), "Tensor", None)
    x = input.numpy() if type(input) is tensor else np.asarray(input)
    w = weight.numpy() if type(weight) is tensor else np.asarray(weight)
    if bias is not None:
        bias = bias.numpy() if type(bias) is tensor else np.asarray(bias)
    return x, w, bias


def _c_ready(a) -> bool:
    """Whether the C core may read `a` in place: C-contiguous and aligned."""
    flags = a.flags
    return flags.c_contiguous and flags.aligned


def _out_ready(out, shape, dtype, x, w, b) -> bool:
    """Whether a cached plan may write straight into `out`: exactly an ndarray of the result's
    shape and dtype, C-contiguous, writeable, aligned, sharing no memory with what is read.
    Anything else goes through the full path, which checks, copies aside or raises."""
    if type(out) is not np.ndarray or out.shape != shape or out.dtype != dtype:
        return False
    flags = out.flags
    return (flags.c_contiguous and flags.writeable and flags.aligned
            and not np.may_share_memory(out, x) and not np.may_share_memory(out, w)
            and (b is None or not np.may_share_memory(out, b)))


def _conv2d(input, weight, bias, stride, padding, dilation, groups, out, threads, simd,
            reference, params=None, activation=None, residual=None, padding_mode="zeros",
            padding_value=0.0, data_format="NCHW", method="direct", winograd_cache=None):
    """conv2d on an explicit SIMD path index (or the C reference kernel): the tests' entry.

    `params` is the call's key for the repeated-call path (params_key, with the method,
    activation, border and layout when they are not the defaults), given by conv2d so that a
    successful direct call is cached.  `method` is "direct" by default here, so that the tests
    of each SIMD path test that path.  `winograd_cache`: a dict in which cconv.Conv2d keeps its
    fixed weights transformed for the Winograd path (see _winograd.transformed_weights)."""
    method = _method.resolve_method(method)
    channels_last = resolve_data_format(data_format)
    x = np.asarray(input)
    w = np.asarray(weight)
    b = None if bias is None else np.asarray(bias)
    r = None if residual is None else np.asarray(residual)
    dtype = result_dtype(("input", x), ("weight", w), ("bias", b), ("residual", r))
    geom = resolve(nchw_shape(x.shape, channels_last), w.shape, stride, padding, dilation,
                   groups, _layout_name(channels_last))
    if b is not None and b.shape != (geom.out_channels,):
        raise ValueError(f"bias must have shape ({geom.out_channels},), one value per filter, "
                         f"got shape {b.shape}")
    stage = resolve_activation(activation)
    mode, fill = resolve_padding_mode(padding_mode, padding_value)
    if mode and 0 in (geom.in_height, geom.in_width) and geom.in_channels and (
            geom.pad_top or geom.pad_bottom or geom.pad_left or geom.pad_right):
        raise ValueError(f"padding_mode={padding_mode!r} cannot pad an empty input "
                         f"(H={geom.in_height}, W={geom.in_width}): it has no pixel to repeat")
    n_threads = resolve_threads(threads)
    batched = x.ndim == 4
    result_shape = layout_shape(geom.out_shape if batched else geom.out_shape[1:], channels_last)
    if r is not None and r.shape != tuple(result_shape):
        raise ValueError(f"residual must have the output's shape {tuple(result_shape)}, got "
                         f"shape {r.shape}")
    if method == "auto":
        method = _method.choose(geom, dtype, n_threads or _core.max_threads())
        if method == "fft" and not _method.spreads_safely((x, w, b, r)):
            method, params = "direct", None  # not a choice of the shapes: not cached
        elif method == "direct" and _winograd.winograd_suits(geom, dtype, channels_last):
            method = "winograd"  # (a choice of the shapes, dtypes and layout in the key)
    elif method == "winograd" and not _winograd.supported(geom):
        raise ValueError(
            "method='winograd' computes 3x3 kernels at stride 1 and dilation 1, got kernel "
            f"{geom.kernel_height}x{geom.kernel_width}, stride ({geom.stride_h}, "
            f"{geom.stride_w}), dilation ({geom.dilation_h}, {geom.dilation_w})")
    result, target = _target.prepare("conv2d", out, result_shape, dtype,
                                     (x, w, b, r) if x.size else ())
    target4 = as_nchw(target if batched else target[np.newaxis], channels_last)
    if target4.size:
        x4 = as_nchw(x if batched else x[np.newaxis], channels_last)
        r4 = None if r is None else as_nchw(r if batched else r[np.newaxis], channels_last)
        if method == "fft" and x.size:  # (without input pixels _compute writes the border sums)
            conv2d_fft(x4, w, b, geom, padding_mode, fill, dtype,
                       n_threads or _core.max_threads(), residual=r4, stage=stage,
                       out=target4, backend=_method.preferred_backend(dtype))
        elif method == "winograd" and x.size:  # (as for the FFT; never cached either)
            tile = _winograd.tile_for(geom, dtype, channels_last)
            u = None if winograd_cache is None else _winograd.transformed_weights(
                w, geom, dtype, simd, tile, winograd_cache)
            _winograd.compute(x4, w, b, geom, target4, dtype, n_threads, simd, tile, r4, stage,
                              mode, fill, u)
        else:
            _compute(x4, w, b, geom, target4, dtype, n_threads, simd, reference, r4, stage,
                     mode, fill)
            if params is not None and (r is None or r.dtype == dtype):
                _remember_plan(x, w, b, params, dtype, geom, result_shape, n_threads, batched,
                               stage, mode, fill, channels_last)
    return _target.finish(result, target)


def _remember_plan(x, w, b, params, dtype, geom, result_shape, n_threads, batched, stage, mode,
                   fill, channels_last):
    """Caches a successful call's resolution for conv2d's repeated-call path, when that path can
    replay it exactly: arrays already of the result dtype (the key holds their shapes and dtypes,
    `params` the exact parameters), and a result that fits in RAM (a call with out= was not
    checked for that)."""
    if x.dtype != dtype or w.dtype != dtype or (b is not None and b.dtype != dtype):
        return
    if x.size == 0:  # answered without the C core (see _compute), which would refuse it
        return
    ram = physical_memory()
    if ram is not None and n_elements(result_shape) * dtype.itemsize > ram:
        return
    if len(_PLAN_CACHE) >= _PLAN_CACHE_MAX:
        _PLAN_CACHE.clear()
    key = (x.shape, x.dtype, w.shape, w.dtype, None if b is None else (b.shape, b.dtype), params)
    _PLAN_CACHE[key] = (_CORE[dtype], geom.core_tuple, result_shape, dtype, n_threads, batched,
                        None if stage[0] == ACTIVATION_NONE else stage, mode, fill,
                        channels_last)


def _compute(x, w, b, geom: Geometry, target, dtype, threads, simd, reference, r=None,
             stage=(0, 0.0, 0.0), mode=0, fill=0.0):
    """The C core on NCHW-ordered arrays or views (x, target and r may be channels-last arrays
    seen through their axes; r is laid out as target)."""
    if x.size == 0:
        # No input pixels (C, H or W is 0): every output pixel sums only the constant border
        # (zero without input channels), then goes through the output stage.
        value = 0 if b is None else b.astype(dtype).reshape(-1, 1, 1)
        if fill and geom.in_channels:
            value = value + fill * w.astype(dtype).sum(axis=(1, 2, 3)).reshape(-1, 1, 1)
        target[...] = value
        if r is not None:
            target += r.astype(dtype, copy=False)
        apply_activation(target, stage)
        return
    # Aligned: the C core reads through typed pointers, and a misaligned one is undefined
    # behaviour (a bus error on some CPUs), e.g. np.frombuffer at an odd offset.  The input is
    # read in place whatever its strides (a broadcast, transposed or sliced view is never copied
    # whole), and uint8/int8/uint16/int16 inputs (float32 too, for a float64 result) are
    # converted as the C core packs them; other dtypes are converted into a copy here.
    core = _CORE[dtype]
    if x.dtype.char in _CONVERTED[dtype] and x.dtype.isnative and x.flags.aligned:
        core = _core.conv2d_converting
    else:
        x = np.require(x, dtype, "A")
    w = np.require(w, dtype, "CA")
    if b is not None:
        b = np.require(b, dtype, "CA")
    if r is not None and not (r.dtype == dtype and r.flags.aligned and _same_layout(r, target)):
        # Laid out as the output, as the C core reads it.
        r = _like(r.astype(dtype, copy=False), target)
    core(x, w, b, target, geom.core_tuple, threads, simd, reference, r,
         None if stage[0] == ACTIVATION_NONE else stage, mode, fill)


def _same_layout(a, b) -> bool:
    """Whether a and b (of one shape) have the same strides along every axis that moves."""
    return all(n <= 1 or sa == sb for n, sa, sb in zip(a.shape, a.strides, b.strides))


def _like(a, target):
    """A copy of `a` laid out exactly as `target` (an array or a view of one)."""
    copy = np.empty_like(target)
    copy[...] = a
    return copy


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
