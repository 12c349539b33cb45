"""Argument normalisation and validation shared by every public function and the oracle: ints,
pairs and padding forms, convolution geometry, dtype promotion, shapes, out= and threads=.

Every check happens here, before any C work, and every message names the argument and the numbers
involved, in the vocabulary of the design notes (feature map, channel, kernel, filter, depth).
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from ._layout import layout_shape


class Geometry(NamedTuple):
    """A fully resolved conv2d configuration (all ints, all checked)."""

    batch: int
    in_channels: int
    in_height: int
    in_width: int
    out_channels: int
    kernel_height: int
    kernel_width: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int
    dilation_h: int
    dilation_w: int
    groups: int
    out_height: int
    out_width: int

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.out_channels, self.out_height, self.out_width)

    @property
    def core_tuple(self) -> tuple[int, ...]:
        """The layout the Cython binding takes."""
        return (self.stride_h, self.stride_w, self.pad_top, self.pad_bottom, self.pad_left,
                self.pad_right, self.dilation_h, self.dilation_w, self.groups)


# Sizes past this cannot be addressed in bytes by a 64-bit process; they are rejected up front.
_MAX_ELEMENTS = 2**62 // 8
# Every parameter travels to C as an int64; sums of two of them must still fit.
_MAX_PARAMETER = 2**62
# More threads than this is a mistake rather than a request (and would not fit the C int).
MAX_THREADS = 1024


def as_int(value, name: str, minimum: int, maximum: int = _MAX_PARAMETER) -> int:
    """One integer parameter: a Python or NumPy int, not a bool or a float, within bounds."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got bool {value!r}")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}") from None
    if result < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {result}")
    if result > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {result}")
    return result


def as_pair(value, name: str, minimum: int) -> tuple[int, int]:
    """An int, a 1-element sequence (the same for both axes, as in PyTorch), or an (h, w) pair
    of ints."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return (as_int(value[0], f"{name}[0]", minimum),) * 2
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int, a 1-element sequence or an (h, w) pair, got "
                f"{len(value)} values: {value!r}")
        return as_int(value[0], f"{name}[0]", minimum), as_int(value[1], f"{name}[1]", minimum)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return as_pair(value.tolist(), name, minimum)
    return (as_int(value, name, minimum),) * 2


# ---------------------------------------------------------------- exact keys of parameters
# The repeated-call cache (cconv/_conv.py) keys a call on its parameters.  A key must only ever be
# shared by spellings that resolve to the same values and so pass or fail the same checks:
# each parameter becomes exact Python ints (Python and NumPy integers; never bool or np.bool_,
# since True == 1 and hashes alike while a bool stride is an error), and anything else has no key
# (None) and takes the full path.  None of these functions raises.

def _is_index_type(kind) -> bool:
    """Whether as_int accepts values of this NumPy scalar type (np.timedelta64 is an np.integer
    subclass that operator.index refuses)."""
    try:
        return operator.index(kind(1)) == 1
    except TypeError:
        return False


# NumPy's integer scalar types that as_int accepts: never np.bool_ (not an np.integer) nor
# np.timedelta64; a set lookup on the exact type is the cheapest test.
_NUMPY_INTS = frozenset(t for t in set(np.sctypeDict.values())
                        if issubclass(t, np.integer) and _is_index_type(t))


def _exact_int(value):
    """A Python or NumPy integer (not a bool) as an exact int, else None."""
    if type(value) is int:
        return value
    if type(value) in _NUMPY_INTS:
        return int(value)
    return None


def _pair_key(value):
    """(h, w) of exact ints for an int, or a 1- or 2-element tuple/list of ints; else None."""
    kind = type(value)
    if kind is int:
        return value, value
    if kind is tuple or kind is list:
        if len(value) == 2:
            h, w = value
            if type(h) is not int or type(w) is not int:
                h, w = _exact_int(h), _exact_int(w)
                if h is None or w is None:
                    return None
            return h, w
        if len(value) == 1:
            h = _exact_int(value[0])
            return None if h is None else (h, h)
        return None
    if kind in _NUMPY_INTS:
        h = int(value)
        return h, h
    return None


def _side_key(value):
    """(before, after) of exact ints for an int or a 2-element tuple/list of ints, else None."""
    kind = type(value)
    if kind is int:
        return value, value
    if kind is tuple or kind is list:
        if len(value) != 2:
            return None
        before, after = _exact_int(value[0]), _exact_int(value[1])
        return None if before is None or after is None else (before, after)
    if kind in _NUMPY_INTS:
        v = int(value)
        return v, v
    return None


def _padding_key(padding):
    """("same",), or (top, bottom, left, right) of exact ints, as resolve_padding reads
    `padding`; None for anything else."""
    kind = type(padding)
    if kind is int:
        return padding, padding, padding, padding
    if kind is str:
        if padding == "same":
            return ("same",)
        return (0, 0, 0, 0) if padding == "valid" else None
    if kind is tuple or kind is list:
        if len(padding) == 2:
            h, w = padding
            if type(h) is int and type(w) is int:
                return h, h, w, w
            h, w = _side_key(h), _side_key(w)
            return None if h is None or w is None else h + w
        if len(padding) == 1:
            h = _side_key(padding[0])
            return None if h is None else h + h
        return None
    if kind in _NUMPY_INTS:
        v = int(padding)
        return v, v, v, v
    return None


def params_key(stride, padding, dilation, groups, threads):
    """An exact, hashable key of conv2d's parameters, or None when one of them has no exact key.

    Two calls with the same key resolve to the same stride, padding, dilation, groups and
    threads, so they pass or fail the same checks (for the same shapes and dtypes).  The key is
    flat, (stride_h, stride_w, dilation_h, dilation_w, groups, threads, *padding), where padding
    is ("same",) or (top, bottom, left, right), because it is hashed on every call.
    """
    if type(stride) is int and type(dilation) is int and type(groups) is int and (
            threads is None or type(threads) is int):
        if type(padding) is int:
            return (stride, stride, dilation, dilation, groups, threads, padding, padding,
                    padding, padding)
        p = _padding_key(padding)
        return None if p is None else (stride, stride, dilation, dilation, groups, threads) + p
    s = _pair_key(stride)
    d = _pair_key(dilation)
    g = _exact_int(groups)
    t = None if threads is None else _exact_int(threads)
    p = _padding_key(padding)
    if s is None or d is None or g is None or p is None or (t is None and threads is not None):
        return None
    return s + d + (g, t) + p


def _pad_side(value, name: str) -> tuple[int, int]:
    """One axis of padding: an int (both sides) or a (before, after) pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a (before, after) pair, got {len(value)} values: "
                f"{value!r}")
        return as_int(value[0], f"{name}[0]", 0), as_int(value[1], f"{name}[1]", 0)
    v = as_int(value, name, 0)
    return v, v


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """Padding that makes the output ceil(size / stride); the odd pixel goes after (bottom/right).

    An axis of size 0 gets no padding: its output, ceil(0 / stride) = 0, needs none.
    """
    if size == 0:
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, in_hw, kernel_hw, stride, dilation) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from any accepted padding form."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            top, bottom = _same_padding(in_hw[0], kernel_hw[0], stride[0], dilation[0])
            left, right = _same_padding(in_hw[1], kernel_hw[1], stride[1], dilation[1])
            return top, bottom, left, right
        raise ValueError(f"padding must be 'valid', 'same', an int, a 1-element sequence, an "
                         f"(h, w) pair or ((top, bottom), (left, right)), got the string "
                         f"{padding!r}")
    if isinstance(padding, np.ndarray):
        padding = padding.tolist()
    if isinstance(padding, (tuple, list)):
        if len(padding) == 1:
            # One element means the same for both axes, as for stride and dilation: (p,) is p,
            # ((before, after),) is that pair on both axes.
            top, bottom = _pad_side(padding[0], "padding[0]")
            return top, bottom, top, bottom
        if len(padding) != 2:
            raise ValueError(
                f"padding must be an int, a 1-element sequence, an (h, w) pair or "
                f"((top, bottom), (left, right)), got {len(padding)} values: {padding!r}")
        top, bottom = _pad_side(padding[0], "padding[0]")
        left, right = _pad_side(padding[1], "padding[1]")
        return top, bottom, left, right
    p = as_int(padding, "padding", 0)
    return p, p, p, p


def _check_shape(shape, name: str, ndims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if len(shape) not in ndims:
        want = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(f"{name} must be {want} {layout}, got {len(shape)}-D with shape "
                         f"{tuple(shape)}")
    # Array shapes are always valid; shapes given to conv2d_output_shape may not be.
    return tuple(as_int(s, f"{name}.shape[{i}]", 0) for i, s in enumerate(shape))


def n_elements(shape) -> int:
    """Product of the extents, exact (Python ints)."""
    count = 1
    for d in shape:
        count *= d
    return count


def resolve(input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1,
            data_format="NCHW") -> Geometry:
    """Checks every shape and parameter and returns the resolved geometry.

    input_shape is (N, C, H, W) or (C, H, W) (treated as N = 1); weight_shape is
    (O, C/groups, kH, kW).  data_format only words the messages: an NHWC input's shape is given
    here already in the NCHW order (see _layout.nchw_shape).
    """
    if data_format == "NHWC":
        if len(input_shape) not in (3, 4):
            raise ValueError(f"input must be 4-D (N, H, W, C) or 3-D (H, W, C) with "
                             f"data_format='NHWC', got {len(input_shape)}-D with shape "
                             f"{tuple(input_shape)}")
    in_shape = _check_shape(input_shape, "input", (3, 4), "(N, C, H, W) or (C, H, W)")
    if len(in_shape) == 3:
        in_shape = (1,) + in_shape
    w_shape = _check_shape(weight_shape, "weight", (4,), "(O, C/groups, kH, kW)")
    n, c, h, w = in_shape
    o, depth, kh, kw = w_shape
    if kh < 1 or kw < 1:
        raise ValueError(f"weight kernels must be at least 1x1, got kH={kh}, kW={kw} "
                         f"(weight.shape={w_shape})")
    groups = as_int(groups, "groups", 1)
    sh, sw = as_pair(stride, "stride", 1)
    dh, dw = as_pair(dilation, "dilation", 1)
    if c % groups:
        raise ValueError(f"input has {c} channels, which groups={groups} does not divide")
    if o % groups:
        raise ValueError(f"weight has {o} filters (weight.shape[0]), which groups={groups} "
                         f"does not divide")
    if depth != c // groups:
        raise ValueError(
            f"weight has kernel depth {depth} (weight.shape[1]) but input has {c} channels and "
            f"groups={groups}, so each filter needs depth {c // groups} "
            f"(= {c} channels / {groups} groups)")
    top, bottom, left, right = resolve_padding(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    out_h = _output_size("height", h, kh, sh, top, bottom, dh)
    out_w = _output_size("width", w, kw, sw, left, right, dw)
    for label, shape in (("the input has", (n, c, h, w)), ("the weight has", (o, depth, kh, kw)),
                         ("the output would have", (n, o, out_h, out_w))):
        count = n_elements(shape)
        if count > _MAX_ELEMENTS:
            raise ValueError(f"{label} {count} elements, more than the {_MAX_ELEMENTS} that "
                             f"cconv can address in 64-bit byte offsets")
        # NumPy refuses even an empty array whose other axes multiply past 64 bits.
        extent = n_elements(d for d in shape if d)
        if extent > _MAX_ELEMENTS:
            raise ValueError(f"{label} shape {shape}: empty, but its other axes multiply to "
                             f"{extent}, more than the {_MAX_ELEMENTS} that cconv can address "
                             f"in 64-bit byte offsets")
    return Geometry(n, c, h, w, o, kh, kw, sh, sw, top, bottom, left, right, dh, dw, groups,
                    out_h, out_w)


def _output_size(axis: str, size: int, kernel: int, stride: int, before: int, after: int,
                 dilation: int) -> int:
    padded = size + before + after
    span = dilation * (kernel - 1) + 1
    # Padding wider than the input plus the kernel only adds outputs that see nothing but border,
    # yet the driver's time and scratch memory grow with the padded size: refusing it keeps a
    # padding of 10**12 from turning into a giant allocation or an endless loop.
    sides = ("top", "bottom") if axis == "height" else ("left", "right")
    for side, pad in zip(sides, (before, after)):
        if pad > size + span:
            raise ValueError(
                f"padding {side} {pad} is more than the input {axis} {size} plus the dilated "
                f"kernel {axis} {span}; such padding adds only outputs that see nothing but "
                f"zeros")
    if span > padded:
        if size == 0:
            # An empty axis (H or W = 0) that padding alone does not fill: no position for the
            # kernel, so no outputs along it (a non-empty axis that is too small stays an error).
            return 0
        dilated = f" (dilated by {dilation})" if dilation > 1 else ""
        raise ValueError(
            f"kernel {axis} {kernel}{dilated} spans {span} pixels, more than the padded input "
            f"{axis} {padded} (= {size} + padding {before} + {after})")
    return (padded - span) // stride + 1


def result_dtype(*named_arrays: tuple[str, np.ndarray | None]) -> np.dtype:
    """The computation's dtype, by NumPy's promotion: numpy.result_type of the arrays, then
    float32 when that is float16 or float32, float64 otherwise (integers, bools, float64).

    So a uint8 or int16 image with float32 weights computes in float32, as uint8 + float32 does
    in NumPy; int32 or int64 with float32 is float64.  `named_arrays` are (argument name, array
    or None) pairs; None (an absent bias) is skipped.  Complex, object, string and
    extended-precision data are refused rather than silently converted.
    """
    arrays = [(name, a) for name, a in named_arrays if a is not None]
    for name, a in arrays:
        kind = a.dtype.kind
        if kind not in "biuf" or (kind == "f" and a.dtype.itemsize > 8):
            raise TypeError(f"{name} has dtype {a.dtype}; cconv computes in float32 or float64 "
                            f"and accepts bool, integer, float16, float32 and float64 data")
    promoted = np.result_type(*(a.dtype for _, a in arrays))
    if promoted.kind == "f" and promoted.itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def resolve_threads(threads) -> int:
    """threads= as the C core takes it: 0 for the default (None), else an int in 1..MAX_THREADS."""
    return 0 if threads is None else as_int(threads, "threads", 1, MAX_THREADS)


def as_shape(value, name: str) -> tuple:
    """A shape given as any iterable of ints (the ints themselves are checked by the caller)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a tuple of ints, got {type(value).__name__} {value!r}")
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints, got {type(value).__name__} "
                        f"{value!r}") from None


def check_out(out, shape, dtype) -> np.ndarray:
    """out= checked against the result it must hold: a C-contiguous, writeable ndarray of exactly
    its shape and dtype (TypeError for anything that is not an ndarray, as in NumPy)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape}, but the result has shape {tuple(shape)}")
    if out.dtype != dtype:
        raise ValueError(f"out has dtype {out.dtype}, but the result has dtype {dtype}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


# The output stage of a convolution (cconv_activation in src_c/include/cconv.h): the numbers are
# the C enum's.
ACTIVATION_NONE, ACTIVATION_RELU, ACTIVATION_RELU6, ACTIVATION_LEAKY_RELU, ACTIVATION_CLAMP = range(5)
_ACTIVATION_FORMS = ('None, "relu", "relu6", "leaky_relu", ("leaky_relu", negative_slope) or '
                     '("clamp", min, max)')


def _finite_float(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    result = float(value)
    if not np.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    return result


def resolve_activation(activation) -> tuple[int, float, float]:
    """(kind, alpha, beta) of an activation= argument, as the C core takes it."""
    if activation is None:
        return ACTIVATION_NONE, 0.0, 0.0
    if isinstance(activation, str):
        simple = {"relu": (ACTIVATION_RELU, 0.0, 0.0), "relu6": (ACTIVATION_RELU6, 0.0, 0.0),
                  "leaky_relu": (ACTIVATION_LEAKY_RELU, 0.01, 0.0)}
        if activation in simple:
            return simple[activation]
        raise ValueError(f"activation must be {_ACTIVATION_FORMS}, got {activation!r}")
    if isinstance(activation, tuple) and activation and isinstance(activation[0], str):
        name, params = activation[0], activation[1:]
        if name == "leaky_relu" and len(params) == 1:
            return ACTIVATION_LEAKY_RELU, _finite_float(params[0], "negative_slope"), 0.0
        if name == "clamp" and len(params) == 2:
            lo = _finite_float(params[0], "clamp min")
            hi = _finite_float(params[1], "clamp max")
            if lo > hi:
                raise ValueError(f"clamp min {lo} is more than clamp max {hi}")
            return ACTIVATION_CLAMP, lo, hi
    raise (TypeError if not isinstance(activation, tuple) else ValueError)(
        f"activation must be {_ACTIVATION_FORMS}, got {activation!r}")


def apply_activation(y: np.ndarray, stage: tuple[int, float, float]) -> np.ndarray:
    """The activation of `stage` applied to y in place, as the C core applies it (NaN passes)."""
    kind, alpha, beta = stage
    if kind == ACTIVATION_RELU:
        np.copyto(y, 0, where=y < 0)
    elif kind == ACTIVATION_RELU6:
        np.copyto(y, 0, where=y < 0)
        np.copyto(y, 6, where=y > 6)
    elif kind == ACTIVATION_LEAKY_RELU:
        np.copyto(y, y * y.dtype.type(alpha), where=y < 0)
    elif kind == ACTIVATION_CLAMP:
        np.copyto(y, alpha, where=y < alpha)
        np.copyto(y, beta, where=y > beta)
    return y


class TransposeGeometry(NamedTuple):
    """A fully resolved transposed convolution (all ints, all checked): input (N, C, H, W),
    weight (C, O/groups, kH, kW), output (N, O, OH, OW)."""

    batch: int
    in_channels: int
    in_height: int
    in_width: int
    out_channels: int
    kernel_height: int
    kernel_width: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    dilation_h: int
    dilation_w: int
    groups: int
    out_height: int
    out_width: int

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.out_channels, self.out_height, self.out_width)

    @property
    def core_tuple(self) -> tuple[int, ...]:
        """The layout the Cython binding takes."""
        return (self.stride_h, self.stride_w, self.pad_top, self.pad_left, self.dilation_h,
                self.dilation_w, self.groups)


def _transpose_extent(axis, size, kernel, stride, before, after, dilation, extra):
    """(H - 1) * stride - padding + dilation * (kernel - 1) + extra + 1: 0 is an empty output,
    less is an error (an empty input gives no output)."""
    extent = (size - 1) * stride - before - after + dilation * (kernel - 1) + extra + 1
    if extent < 0 and size > 0:
        raise ValueError(
            f"the output {axis} would be {extent} (= ({size} - 1) * stride {stride} - padding "
            f"{before} - {after} + dilation {dilation} * (kernel {kernel} - 1) + "
            f"output_padding {extra} + 1): the padding removes the whole output")
    return max(extent, 0)


def resolve_transpose(input_shape, weight_shape, stride=1, padding=0, output_padding=0,
                      groups=1, dilation=1, output_size=None) -> TransposeGeometry:
    """Checks conv_transpose2d's shapes and parameters (PyTorch's rules) and returns the
    resolved geometry.  input_shape is (N, C, H, W) or (C, H, W); weight_shape (C, O/groups,
    kH, kW)."""
    in_shape = _check_shape(input_shape, "input", (3, 4), "(N, C, H, W) or (C, H, W)")
    if len(in_shape) == 3:
        in_shape = (1,) + in_shape
    w_shape = _check_shape(weight_shape, "weight", (4,), "(C, O/groups, kH, kW)")
    n, c, h, w = in_shape
    stacks, og, kh, kw = w_shape
    if kh < 1 or kw < 1:
        raise ValueError(f"weight kernels must be at least 1x1, got kH={kh}, kW={kw} "
                         f"(weight.shape={w_shape})")
    groups = as_int(groups, "groups", 1)
    sh, sw = as_pair(stride, "stride", 1)
    dh, dw = as_pair(dilation, "dilation", 1)
    if stacks != c:
        raise ValueError(
            f"weight has {stacks} kernel stacks (weight.shape[0]) but input has {c} channels; "
            f"conv_transpose2d's weight is (C, O/groups, kH, kW), one stack of O/groups "
            f"kernels per input channel")
    if c % groups:
        raise ValueError(f"input has {c} channels, which groups={groups} does not divide")
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, a 1-element sequence, an (h, w) pair or "
                         f"((top, bottom), (left, right)) for a transposed convolution, got "
                         f"the string {padding!r}")
    top, bottom, left, right = resolve_padding(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    oph, opw = as_pair(output_padding, "output_padding", 0)
    for axis, extra, s, d in (("height", oph, sh, dh), ("width", opw, sw, dw)):
        if extra >= s and extra >= d:
            raise ValueError(f"output_padding {extra} along the {axis} must be smaller than "
                             f"either the stride {s} or the dilation {d}")
    out_h = _transpose_extent("height", h, kh, sh, top, bottom, dh, oph)
    out_w = _transpose_extent("width", w, kw, sw, left, right, dw, opw)
    if output_size is not None:
        if oph or opw:
            raise ValueError("give output_padding or output_size, not both")
        size = as_shape(output_size, "output_size")
        if len(size) not in (2, 3, 4):
            raise ValueError(f"output_size must be (OH, OW), or a whole output shape whose "
                             f"last two values are those, got {len(size)} values: {size!r}")
        want_h, want_w = (as_int(v, f"output_size[{i}]", 0)
                          for i, v in zip((-2, -1), size[-2:]))
        for axis, want, least, s, d in (("height", want_h, out_h, sh, dh),
                                        ("width", want_w, out_w, sw, dw)):
            most = least + max(s, d) - 1
            if not least <= want <= most:
                raise ValueError(f"output_size asks for an output {axis} of {want}, but "
                                 f"this input, kernel, stride and padding give {least} to "
                                 f"{most}")
        out_h, out_w = want_h, want_w
    o = og * groups
    for label, shape in (("the input has", (n, c, h, w)), ("the weight has", w_shape),
                         ("the output would have", (n, o, out_h, out_w))):
        extent = n_elements(d for d in shape if d)
        if extent > _MAX_ELEMENTS:
            raise ValueError(f"{label} shape {shape}, whose axes multiply to {extent}, more "
                             f"than the {_MAX_ELEMENTS} that cconv can address in 64-bit byte "
                             f"offsets")
    return TransposeGeometry(n, c, h, w, o, kh, kw, sh, sw, top, left, dh, dw, groups, out_h,
                             out_w)


# ---------------------------------------------------------------- pooling
# PyTorch's rules for max_pool2d / avg_pool2d / adaptive_*_pool2d, checked here before any C work.

class PoolGeometry(NamedTuple):
    """A fully resolved max_pool2d / avg_pool2d configuration (all ints, all checked)."""

    batch: int
    channels: int
    in_height: int
    in_width: int
    kernel_height: int
    kernel_width: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int
    dilation_h: int
    dilation_w: int
    ceil_mode: bool
    count_include_pad: bool
    divisor: int  # 0: the window's size
    out_height: int
    out_width: int

    @property
    def in_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, self.in_height, self.in_width)

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, self.out_height, self.out_width)

    @property
    def core_tuple(self) -> tuple[int, ...]:
        """The layout the Cython binding takes."""
        return (self.kernel_height, self.kernel_width, self.stride_h, self.stride_w,
                self.pad_top, self.pad_bottom, self.pad_left, self.pad_right, self.dilation_h,
                self.dilation_w, int(self.ceil_mode), int(self.count_include_pad), self.divisor)


def as_bool(value, name: str) -> bool:
    """A flag: a Python or NumPy bool (an int or a string is a mistake rather than a flag)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def pool_input_shape(shape, name: str = "input",
                     channels_last: bool = False) -> tuple[int, int, int, int]:
    """(N, C, H, W) from an (N, C, H, W) or (C, H, W) shape; H and W must be at least 1 (a window
    needs an input pixel), N and C may be 0.  channels_last only words the messages: the shape of
    an NHWC array is given here already in the NCHW order (see _layout.nchw_shape)."""
    if channels_last:
        if len(shape) not in (3, 4):
            raise ValueError(f"{name} must be 4-D (N, H, W, C) or 3-D (H, W, C) with "
                             f"data_format='NHWC', got {len(shape)}-D with shape {tuple(shape)}")
        dims = _check_shape(shape, name, (3, 4), "(N, H, W, C) or (H, W, C)")
    else:
        dims = _check_shape(shape, name, (3, 4), "(N, C, H, W) or (C, H, W)")
    if len(dims) == 3:
        dims = (1,) + dims
    for axis, size in (("height", dims[2]), ("width", dims[3])):
        if size < 1:
            given = layout_shape(shape, channels_last)
            raise ValueError(f"{name} has {axis} 0 ({name}.shape={given}); pooling needs "
                             f"at least one input pixel per window")
    return dims  # type: ignore[return-value]


def pool_stride(stride, kernel: tuple[int, int]) -> tuple[int, int]:
    """stride= of a pooling call: None (or an empty sequence, as PyTorch allows) means the
    kernel size."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return kernel
    return as_pair(stride, "stride", 1)


def pool_padding(padding, kernel: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, (h, w), a 1-element sequence or
    ((top, bottom), (left, right)); each side at most half the kernel, as in PyTorch (so that
    every window overlaps the input)."""
    if isinstance(padding, str):
        raise ValueError(f"padding of a pooling call must be an int, a 1-element sequence, an "
                         f"(h, w) pair or ((top, bottom), (left, right)), got the string "
                         f"{padding!r}")
    sides = resolve_padding(padding, (0, 0), kernel, (1, 1), (1, 1))
    names = ("top", "bottom", "left", "right")
    for side, pad, k, axis in zip(names, sides, (kernel[0],) * 2 + (kernel[1],) * 2,
                                  ("height",) * 2 + ("width",) * 2):
        if pad > k // 2:
            raise ValueError(f"padding {side} {pad} is more than half of the kernel {axis} {k} "
                             f"(at most {k // 2}, as in PyTorch: every window must overlap the "
                             f"input)")
    return sides


def pool_output_size(axis: str, size: int, kernel: int, stride: int, before: int, after: int,
                     dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size along one axis, with its ceil_mode rule (the last window
    must start inside the input or its leading padding), checked to be at least 1."""
    span = dilation * (kernel - 1) + 1
    padded = size + before + after
    numerator = padded - span + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and out > 1 and (out - 1) * stride >= size + before:
        out -= 1
    if out < 1:
        dilated = f" (dilated by {dilation})" if dilation > 1 else ""
        raise ValueError(
            f"kernel {axis} {kernel}{dilated} spans {span} pixels, more than the padded input "
            f"{axis} {padded} (= {size} + padding {before} + {after})")
    # Only windows that start in the leading padding can miss the input; their first tap at or
    # after 0 is (start mod dilation), inside the input whenever dilation <= size.
    if dilation > size:
        for y in range(out):
            start = y * stride - before
            if start >= 0:
                break
            if start % dilation >= size:
                what = "row" if axis == "height" else "column"
                raise ValueError(
                    f"kernel {axis} {kernel} dilated by {dilation} with padding {before} has a "
                    f"window (output {what} {y}) whose taps all miss the input {axis} {size}: "
                    f"its taps fall at {start}, {start + dilation}, ...; such a window has no "
                    f"maximum")
    return out


def _check_addressable(label: str, shape) -> None:
    count = n_elements(shape)
    if count > _MAX_ELEMENTS:
        raise ValueError(f"{label} {count} elements, more than the {_MAX_ELEMENTS} that cconv "
                         f"can address in 64-bit byte offsets")


def resolve_pool(input_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 count_include_pad=True, divisor_override=None, *,
                 average: bool, channels_last: bool = False) -> PoolGeometry:
    """Checks every shape and parameter of max_pool2d (average=False) or avg_pool2d (no
    dilation; count_include_pad and divisor_override) and returns the resolved geometry.
    input_shape is NCHW-ordered; channels_last only words the messages."""
    n, c, h, w = pool_input_shape(input_shape, "input", channels_last)
    kernel = as_pair(kernel_size, "kernel_size", 1)
    sh, sw = pool_stride(stride, kernel)
    top, bottom, left, right = pool_padding(padding, kernel)
    dh, dw = (1, 1) if average else as_pair(dilation, "dilation", 1)
    ceil_mode = as_bool(ceil_mode, "ceil_mode")
    count_include_pad = as_bool(count_include_pad, "count_include_pad")
    divisor = 0
    if divisor_override is not None:
        divisor = as_int(divisor_override, "divisor_override", -_MAX_PARAMETER)
        if divisor == 0:
            raise ValueError("divisor_override must not be 0")
    out_h = pool_output_size("height", h, kernel[0], sh, top, bottom, dh, ceil_mode)
    out_w = pool_output_size("width", w, kernel[1], sw, left, right, dw, ceil_mode)
    _check_addressable("the input has", (n, c, h, w))
    _check_addressable("the output would have", (n, c, out_h, out_w))
    return PoolGeometry(n, c, h, w, kernel[0], kernel[1], sh, sw, top, bottom, left, right, dh,
                        dw, ceil_mode, count_include_pad, divisor, out_h, out_w)


def adaptive_output_size(output_size, in_hw: tuple[int, int]) -> tuple[int, int]:
    """(OH, OW) of an adaptive pool: an int, a 1-element sequence or an (h, w) pair, each >= 0;
    None (as an entry or the whole) keeps the input's size along that axis, as in PyTorch."""
    if output_size is None:
        return in_hw
    if isinstance(output_size, np.ndarray) and output_size.ndim == 1:
        output_size = output_size.tolist()
    if isinstance(output_size, (tuple, list)):
        if len(output_size) == 1:
            output_size = (output_size[0], output_size[0])
        if len(output_size) != 2:
            raise ValueError(f"output_size must be an int, a 1-element sequence or an (h, w) "
                             f"pair, got {len(output_size)} values: {output_size!r}")
        return tuple(in_hw[i] if v is None else as_int(v, f"output_size[{i}]", 0)
                     for i, v in enumerate(output_size))  # type: ignore[return-value]
    size = as_int(output_size, "output_size", 0)
    return size, size


def resolve_adaptive(input_shape, output_size, name: str = "input", channels_last: bool = False
                     ) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """((N, C, H, W), (N, C, OH, OW)) of an adaptive pool, checked (input_shape NCHW-ordered;
    channels_last only words the messages)."""
    n, c, h, w = pool_input_shape(input_shape, name, channels_last)
    oh, ow = adaptive_output_size(output_size, (h, w))
    _check_addressable(f"{name} has", (n, c, h, w))
    _check_addressable("the output would have", (n, c, oh, ow))
    # The C core computes window bounds as (i + 1) * size + out - 1.
    if (oh + 1) * h + oh > 2**63 - 1 or (ow + 1) * w + ow > 2**63 - 1:
        raise ValueError(f"output_size ({oh}, {ow}) times the input size ({h}, {w}) passes "
                         f"64-bit arithmetic")
    return (n, c, h, w), (n, c, oh, ow)
