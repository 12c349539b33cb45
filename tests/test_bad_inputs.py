"""The bad- and odd-input matrix: every case ends either in the documented exception, whose message
names the argument and the numbers (asserted on the text), or in a result checked against the
NumPy oracle.

Kinds covered: shapes, parameters, threads, dtypes, memory layout, out=, sizes that overflow 32- or
64-bit index arithmetic, NaN/inf/denormal values, conv2d_output_shape, and the C binding itself.
"""

import re
import time

import numpy as np
import pytest

import cconv
from cconv import _core, _simd
from cconv._memory import physical_memory
from cconv.oracle import conv2d_oracle
from conftest import IMPLEMENTATIONS, assert_matches_oracle, run_impl

_RNG = np.random.default_rng(5)
# The default operands: 2 images of 4 feature maps (6 x 7), 6 filters of depth 4 (3 x 3).
X = _RNG.standard_normal((2, 4, 6, 7))
W = _RNG.standard_normal((6, 4, 3, 3))
B = _RNG.standard_normal(6)


def _call(**kw):
    args = {"input": X, "weight": W, "bias": None}
    args.update(kw)
    return cconv.conv2d(args.pop("input"), args.pop("weight"), args.pop("bias"), **args)


def _expect(exc, pattern, **kw):
    with pytest.raises(exc) as info:
        _call(**kw)
    assert re.search(pattern, str(info.value)), f"message {str(info.value)!r} !~ {pattern!r}"


def _check_result(expected_dtype=None, **kw):
    """conv2d(**kw) against the oracle on the same (possibly odd) operands."""
    got = _call(**kw)
    args = {"input": X, "weight": W, "bias": None}
    args.update(kw)
    args.pop("threads", None)
    args.pop("out", None)
    if expected_dtype is not None:
        assert got.dtype == expected_dtype
    assert_matches_oracle(got, args.pop("input"), args.pop("weight"), args.pop("bias"), **args)
    return got


# --------------------------------------------------------------------------------------------
# Shapes

SHAPE_ERRORS = [
    ("input-1d", dict(input=np.ones(7)), r"input must be 3-D or 4-D .*got 1-D with shape \(7,\)"),
    ("input-2d", dict(input=np.ones((6, 7))), r"input must be 3-D or 4-D .*got 2-D .*\(6, 7\)"),
    ("input-5d", dict(input=np.ones((1, 2, 4, 6, 7))), r"input must be .*got 5-D"),
    ("input-0d", dict(input=np.float64(3)), r"input must be .*got 0-D with shape \(\)"),
    ("weight-3d", dict(weight=np.ones((6, 4, 3))), r"weight must be 4-D .*got 3-D .*\(6, 4, 3\)"),
    ("weight-5d", dict(weight=np.ones((6, 4, 3, 3, 1))), r"weight must be 4-D .*got 5-D"),
    ("kernel-0-high", dict(weight=np.ones((6, 4, 0, 3))), r"at least 1x1, got kH=0, kW=3"),
    ("kernel-0-wide", dict(weight=np.ones((6, 4, 3, 0))), r"at least 1x1, got kH=3, kW=0"),
    ("kernel-taller-than-input", dict(weight=np.ones((6, 4, 7, 3))),
     r"kernel height 7 spans 7 pixels, more than the padded input height 6 \(= 6 \+ padding 0 "
     r"\+ 0\)"),
    ("kernel-wider-than-padded-input", dict(weight=np.ones((6, 4, 3, 10)), padding=1),
     r"kernel width 10 spans 10 pixels, more than the padded input width 9 \(= 7 \+ padding 1 "
     r"\+ 1\)"),
    ("dilated-kernel-too-large", dict(dilation=3),
     r"kernel height 3 \(dilated by 3\) spans 7 pixels, more than the padded input height 6"),
    ("depth-mismatch", dict(weight=np.ones((6, 3, 3, 3))),
     r"weight has kernel depth 3 \(weight.shape\[1\]\) but input has 4 channels and groups=1, "
     r"so each filter needs depth 4"),
    ("depth-mismatch-groups", dict(groups=2),
     r"kernel depth 4 \(weight.shape\[1\]\) but input has 4 channels and groups=2, so each "
     r"filter needs depth 2 \(= 4 channels / 2 groups\)"),
    ("groups-do-not-divide-channels", dict(groups=3),
     r"input has 4 channels, which groups=3 does not divide"),
    ("groups-do-not-divide-filters", dict(weight=np.ones((5, 2, 3, 3)), groups=2),
     r"weight has 5 filters \(weight.shape\[0\]\), which groups=2 does not divide"),
    ("groups-larger-than-channels", dict(weight=np.ones((8, 1, 3, 3)), groups=8),
     r"input has 4 channels, which groups=8 does not divide"),
    ("unbatched-depth-mismatch", dict(input=np.ones((3, 6, 7))),
     r"kernel depth 4 .*input has 3 channels"),
    # An empty axis gives an empty output axis; the other axis is still checked.
    ("no-pixels-and-too-narrow", dict(input=np.ones((1, 4, 0, 2))),
     r"kernel width 3 spans 3 pixels, more than the padded input width 2 \(= 2 \+ padding 0 "
     r"\+ 0\)"),
    ("bias-too-short", dict(bias=np.ones(5)), r"bias must have shape \(6,\).*got shape \(5,\)"),
    ("bias-too-long", dict(bias=np.ones(7)), r"bias must have shape \(6,\).*got shape \(7,\)"),
    ("bias-column", dict(bias=np.ones((6, 1))), r"bias must have shape \(6,\).*\(6, 1\)"),
    ("bias-row", dict(bias=np.ones((1, 6))), r"bias must have shape \(6,\).*\(1, 6\)"),
    ("bias-scalar", dict(bias=1.5), r"bias must have shape \(6,\).*got shape \(\)"),
    ("bias-empty", dict(bias=np.ones(0)), r"bias must have shape \(6,\).*got shape \(0,\)"),
]


@pytest.mark.parametrize("kw,pattern", [pytest.param(kw, pat, id=i) for i, kw, pat in SHAPE_ERRORS])
def test_shape_errors(kw, pattern):
    _expect(ValueError, pattern, **kw)


# Zero-sized and borderline shapes give correct (possibly empty) results.
SHAPE_RESULTS = [
    ("batch-0", dict(input=np.ones((0, 4, 6, 7))), (0, 6, 4, 5)),
    ("filters-0", dict(weight=np.ones((0, 4, 3, 3))), (2, 0, 4, 5)),
    ("filters-0-bias", dict(weight=np.ones((0, 4, 3, 3)), bias=np.ones(0)), (2, 0, 4, 5)),
    ("channels-0", dict(input=np.ones((2, 0, 6, 7)), weight=np.ones((6, 0, 3, 3)), bias=B),
     (2, 6, 4, 5)),
    ("channels-0-groups", dict(input=np.ones((2, 0, 6, 7)), weight=np.ones((6, 0, 3, 3)),
                               groups=3), (2, 6, 4, 5)),
    ("height-0-padded", dict(input=np.ones((2, 4, 0, 7)), padding=2, bias=B), (2, 6, 2, 9)),
    ("width-0-padded-enough", dict(input=np.ones((2, 4, 6, 0)), padding=(0, 2)), (2, 6, 4, 2)),
    ("no-pixels-no-padding", dict(input=np.ones((1, 4, 0, 7)), bias=B), (1, 6, 0, 5)),
    ("no-pixels-too-little-padding", dict(input=np.ones((2, 4, 6, 0)), padding=(0, 1)),
     (2, 6, 4, 0)),
    ("no-pixels-same", dict(input=np.ones((2, 4, 0, 7)), padding="same", bias=B), (2, 6, 0, 7)),
    ("no-pixels-at-all-same", dict(input=np.ones((2, 4, 0, 0)), padding="same", stride=2),
     (2, 6, 0, 0)),
    ("unbatched", dict(input=X[0]), (6, 4, 5)),
    ("unbatched-0-channels", dict(input=np.ones((0, 6, 7)), weight=np.ones((6, 0, 3, 3))),
     (6, 4, 5)),
    ("kernel-equals-padded-input", dict(weight=_RNG.standard_normal((6, 4, 8, 9)), padding=1),
     (2, 6, 1, 1)),
    ("kernel-1x1", dict(weight=_RNG.standard_normal((6, 4, 1, 1))), (2, 6, 6, 7)),
    ("depthwise", dict(weight=_RNG.standard_normal((4, 1, 3, 3)), groups=4), (2, 4, 4, 5)),
    ("single-pixel-all-padding", dict(input=np.ones((1, 4, 1, 1)), padding=1), (1, 6, 1, 1)),
]


@pytest.mark.parametrize("kw,shape", [pytest.param(kw, s, id=i) for i, kw, s in SHAPE_RESULTS])
def test_shape_results(kw, shape):
    got = _check_result(**kw)
    assert got.shape == shape


# --------------------------------------------------------------------------------------------
# stride, dilation, padding, groups, threads

def _int_param_errors(name, pair=True):
    """Wrong values of an int (or (h, w) pair) parameter that must be >= 1."""
    cases = [
        (0, ValueError, rf"{name} must be >= 1, got 0"),
        (-1, ValueError, rf"{name} must be >= 1, got -1"),
        (-(2**70), ValueError, rf"{name} must be >= 1, got -{2**70}"),
        (True, TypeError, rf"{name} must be an int, got bool True"),
        (False, TypeError, rf"{name} must be an int, got bool False"),
        (np.bool_(True), TypeError, rf"{name} must be an int, got bool"),
        (1.0, TypeError, rf"{name} must be an int, got float 1.0"),
        (np.float64(2.0), TypeError, rf"{name} must be an int, got float64"),
        ("2", TypeError, rf"{name} must be an int, got str '2'"),
        (None, TypeError, rf"{name} must be an int, got NoneType None"),
        (2**64, ValueError, rf"{name} must be <= {2**62}, got {2**64}"),
        (1 + 2j, TypeError, rf"{name} must be an int, got complex"),
    ]
    if pair:
        cases += [
            ((1, 2, 3), ValueError, rf"{name} must be an int, a 1-element sequence or an "
                                    rf"\(h, w\) pair, got 3 values: \(1, 2, 3\)"),
            ((), ValueError, rf"{name} must be an int, a 1-element sequence or an \(h, w\) "
                             rf"pair, got 0 values: \(\)"),
            ((0,), ValueError, rf"{name}\[0\] must be >= 1, got 0"),
            ((True,), TypeError, rf"{name}\[0\] must be an int, got bool True"),
            ([np.bool_(True)], TypeError, rf"{name}\[0\] must be an int, got bool"),
            ((1.0,), TypeError, rf"{name}\[0\] must be an int, got float 1.0"),
            (((1, 1),), TypeError, rf"{name}\[0\] must be an int, got tuple"),
            (np.array([2.0]), TypeError, rf"{name}\[0\] must be an int, got float 2.0"),
            ([1, 1, 1, 1], ValueError, rf"{name} must be .*got 4 values"),
            ((1, 0), ValueError, rf"{name}\[1\] must be >= 1, got 0"),
            ((-2, 1), ValueError, rf"{name}\[0\] must be >= 1, got -2"),
            ((1, True), TypeError, rf"{name}\[1\] must be an int, got bool True"),
            ((1.5, 1), TypeError, rf"{name}\[0\] must be an int, got float 1.5"),
            (((1, 1), (1, 1)), TypeError, rf"{name}\[0\] must be an int, got tuple"),
            (np.ones((2, 2), dtype=int), TypeError, rf"{name} must be an int, got ndarray"),
            (np.array([1.0, 2.0]), TypeError, rf"{name}\[0\] must be an int, got float 1.0"),
        ]
    return [pytest.param(name, v, e, p, id=f"{name}={v!r}") for v, e, p in cases]


@pytest.mark.parametrize("name,value,exc,pattern",
                         _int_param_errors("stride") + _int_param_errors("dilation") +
                         _int_param_errors("groups", pair=False))
def test_int_parameter_errors(name, value, exc, pattern):
    _expect(exc, pattern, **{name: value})


@pytest.mark.parametrize("kw", [
    pytest.param(dict(stride=np.int64(2)), id="stride-np.int64"),
    pytest.param(dict(stride=np.array(2)), id="stride-0d-array"),
    pytest.param(dict(stride=np.array([1, 2])), id="stride-1d-array"),
    pytest.param(dict(stride=[2, 1]), id="stride-list"),
    pytest.param(dict(stride=(2,)), id="stride-1-tuple"),
    pytest.param(dict(stride=[np.int8(3)]), id="stride-1-list"),
    pytest.param(dict(stride=np.array([2])), id="stride-1-array"),
    pytest.param(dict(dilation=(2,)), id="dilation-1-tuple"),
    pytest.param(dict(dilation=np.array([2], np.uint8), padding=(1,)), id="dilation-1-array"),
    pytest.param(dict(stride=(np.uint8(2), np.int32(3))), id="stride-numpy-int-pair"),
    pytest.param(dict(stride=6), id="stride-larger-than-input"),
    pytest.param(dict(stride=2**62), id="stride-2**62"),         # one output; C must not overflow
    pytest.param(dict(stride=(2**62, 1)), id="stride-2**62-h"),
    pytest.param(dict(stride=(1, 2**61 + 3), padding=1), id="stride-2**61-w-padded"),
    pytest.param(dict(dilation=(2, 3)), id="dilation-pair"),
    pytest.param(dict(dilation=np.int16(2), padding=1), id="dilation-np.int16"),
    pytest.param(dict(groups=np.int64(2), weight=W[:, :2]), id="groups-np.int64"),
])
def test_odd_but_valid_parameters(kw):
    _check_result(**kw)


PADDING_ERRORS = [
    (-1, ValueError, r"padding must be >= 0, got -1"),
    (True, TypeError, r"padding must be an int, got bool True"),
    (1.5, TypeError, r"padding must be an int, got float 1.5"),
    (None, TypeError, r"padding must be an int, got NoneType None"),
    ({}, TypeError, r"padding must be an int, got dict"),
    (1 + 0j, TypeError, r"padding must be an int, got complex"),
    ("SAME", ValueError, r"padding must be 'valid', 'same', .*got the string 'SAME'"),
    ("full", ValueError, r"got the string 'full'"),
    ("", ValueError, r"got the string ''"),
    ((1, 2, 3), ValueError, r"padding must be an int, a 1-element sequence, an \(h, w\) pair "
                            r"or \(\(top, bottom\), \(left, right\)\), got 3 values: \(1, 2, 3\)"),
    ((-1,), ValueError, r"padding\[0\] must be >= 0, got -1"),
    ((True,), TypeError, r"padding\[0\] must be an int, got bool True"),
    ((1.0,), TypeError, r"padding\[0\] must be an int, got float 1.0"),
    (((1, 2, 3),), ValueError, r"padding\[0\] must be an int or a \(before, after\) pair, "
                               r"got 3 values"),
    (("same",), TypeError, r"padding\[0\] must be an int, got str 'same'"),
    (((1,),), ValueError, r"padding\[0\] must be an int or a \(before, after\) pair, got 1 "
                          r"values"),
    ((1, 2, 3, 4), ValueError, r"padding must be .*got 4 values: \(1, 2, 3, 4\)"),
    ((), ValueError, r"padding must be .*got 0 values"),
    ((1, -1), ValueError, r"padding\[1\] must be >= 0, got -1"),
    ((1, 1.0), TypeError, r"padding\[1\] must be an int, got float 1.0"),
    ((True, 1), TypeError, r"padding\[0\] must be an int, got bool True"),
    (((1,), (1, 1)), ValueError, r"padding\[0\] must be an int or a \(before, after\) pair, "
                                 r"got 1 values"),
    (((1, 2, 3), (1, 1)), ValueError, r"padding\[0\] must be .*got 3 values"),
    (((-1, 0), (0, 0)), ValueError, r"padding\[0\]\[0\] must be >= 0, got -1"),
    (((0, 0), (0, 2.0)), TypeError, r"padding\[1\]\[1\] must be an int, got float 2.0"),
    (("same", 1), TypeError, r"padding\[0\] must be an int, got str 'same'"),
    # Absurd padding: only adds outputs that see zeros, refused before any allocation.
    (10**12, ValueError, r"padding top 1000000000000 is more than the input height 6 plus the "
                         r"dilated kernel height 3"),
    (((0, 0), (0, 10**12)), ValueError, r"padding right 1000000000000 is more than the input "
                                        r"width 7 plus the dilated kernel width 3"),
    (((0, 11), (0, 0)), ValueError,
     r"padding bottom 11 is more than the input height 6 plus the dilated kernel height 3"),
    (2**62, ValueError, r"padding top 4611686018427387904 is more than"),
    (2**64, ValueError, rf"padding must be <= {2**62}, got {2**64}"),
]


@pytest.mark.parametrize("value,exc,pattern",
                         [pytest.param(v, e, p, id=f"padding={v!r}") for v, e, p in PADDING_ERRORS])
def test_padding_errors(value, exc, pattern):
    _expect(exc, pattern, padding=value)


@pytest.mark.parametrize("padding", [
    pytest.param(np.int8(1), id="np.int8"),
    pytest.param(np.array([1, 2]), id="1d-array"),
    pytest.param([1, 2], id="list"),
    pytest.param([[0, 2], [3, 1]], id="nested-lists"),
    pytest.param(np.array([[0, 2], [3, 1]]), id="2d-array"),
    pytest.param(((0, 1), 2), id="mixed-pair-and-int"),
    pytest.param((2,), id="1-tuple"),
    pytest.param([np.int16(1)], id="1-list"),
    pytest.param(np.array([2]), id="1-array"),
    pytest.param(((0, 2),), id="one-before-after-pair"),
    pytest.param(np.array([[2, 1]]), id="one-before-after-pair-array"),
    pytest.param(9, id="as-large-as-allowed"),                       # = H + kernel span
    pytest.param("valid", id="valid"),
    pytest.param("same", id="same"),
])
def test_odd_but_valid_padding(padding):
    _check_result(padding=padding)


@pytest.mark.parametrize("value,exc,pattern", [
    pytest.param(0, ValueError, r"threads must be >= 1, got 0", id="0"),
    pytest.param(-1, ValueError, r"threads must be >= 1, got -1", id="-1"),
    pytest.param(True, TypeError, r"threads must be an int, got bool True", id="True"),
    pytest.param(2.0, TypeError, r"threads must be an int, got float 2.0", id="2.0"),
    pytest.param("2", TypeError, r"threads must be an int, got str", id="str"),
    pytest.param(1025, ValueError, r"threads must be <= 1024, got 1025", id="1025"),
    pytest.param(2**31, ValueError, rf"threads must be <= 1024, got {2**31}", id="2**31"),
    pytest.param(2**64, ValueError, rf"threads must be <= 1024, got {2**64}", id="2**64"),
])
def test_threads_errors(value, exc, pattern):
    _expect(exc, pattern, threads=value)


@pytest.mark.parametrize("threads", [1, 2, 3, 64, 1024, np.int64(2)], ids=str)
def test_threads_valid(threads):
    _check_result(threads=threads, bias=B)


# --------------------------------------------------------------------------------------------
# dtypes

_REFUSED = r"has dtype {}; cconv computes in float32 or float64"
BAD_DTYPES = [
    ("complex128", np.complex128, "complex128"),
    ("complex64", np.complex64, "complex64"),
    ("object", object, "object"),
    ("str", "U5", "<U5"),
    ("bytes", "S3", r"\|S3"),
    ("datetime", "datetime64[s]", r"datetime64\[s\]"),
    ("timedelta", "m8[s]", r"timedelta64\[s\]"),
    ("void", "V4", r"\|V4"),
    ("structured", [("a", "f4")], r"\[\('a', '<f4'\)\]"),
]
if np.dtype(np.longdouble).itemsize > 8:
    BAD_DTYPES.append(("longdouble", np.longdouble, "float(96|128)"))


@pytest.mark.parametrize("arg", ["input", "weight", "bias"])
@pytest.mark.parametrize("dtype,dtype_text",
                         [pytest.param(d, t, id=i) for i, d, t in BAD_DTYPES])
def test_refused_dtypes(arg, dtype, dtype_text):
    shape = {"input": X.shape, "weight": W.shape, "bias": B.shape}[arg]
    _expect(TypeError, rf"{arg} " + _REFUSED.format(dtype_text), **{arg: np.zeros(shape, dtype)})


@pytest.mark.parametrize("arg", ["input", "weight"])
def test_none_operand_is_refused(arg):
    _expect(TypeError, rf"{arg} has dtype object", **{arg: None})


@pytest.mark.filterwarnings("ignore:Creating an ndarray from ragged")
def test_ragged_input_is_refused():
    """NumPy >= 1.24 refuses ragged nesting (ValueError); older versions make an object array,
    which conv2d refuses (TypeError)."""
    with pytest.raises((ValueError, TypeError)):
        cconv.conv2d([[[1.0, 2.0], [3.0]]], W)


def _typed(dtype):
    return (X * 3).astype(dtype)


ACCEPTED_DTYPES = [
    ("bool", dict(input=X > 0), np.float64),
    ("bool-weight", dict(weight=W > 0), np.float64),
    ("int8", dict(input=_typed(np.int8)), np.float64),
    ("uint8", dict(input=_typed(np.uint8)), np.float64),
    ("int64", dict(input=_typed(np.int64), weight=(W * 4).astype(np.int64)), np.float64),
    ("uint64-big", dict(input=np.full(X.shape, 2**63, np.uint64)), np.float64),
    ("float16", dict(input=X.astype(np.float16)), np.float64),
    ("float16-both", dict(input=X.astype(np.float16), weight=W.astype(np.float16)), np.float32),
    ("uint8-f32", dict(input=_typed(np.uint8), weight=W.astype(np.float32)), np.float32),
    ("bool-f32", dict(input=X > 0, weight=W.astype(np.float32)), np.float32),
    ("float32", dict(input=X.astype(np.float32), weight=W.astype(np.float32)), np.float32),
    ("float32-bias32", dict(input=X.astype(np.float32), weight=W.astype(np.float32),
                            bias=B.astype(np.float32)), np.float32),
    ("float32-bias64", dict(input=X.astype(np.float32), weight=W.astype(np.float32), bias=B),
     np.float64),
    ("float32-bias-int", dict(input=X.astype(np.float32), weight=W.astype(np.float32),
                              bias=np.arange(6)), np.float64),
    ("big-endian-f32", dict(input=X.astype(">f4"), weight=W.astype(">f4")), np.float32),
    ("big-endian-f32-input", dict(input=X.astype(">f4"), weight=W.astype(np.float32)),
     np.float32),
    ("big-endian-f64", dict(input=X.astype(">f8"), weight=W.astype(">f8"),
                            bias=B.astype(">f8")), np.float64),
    ("mixed-f32-f64", dict(input=X.astype(np.float32)), np.float64),
    ("mixed-f64-f32", dict(weight=W.astype(np.float32)), np.float64),
    ("mixed-f32-int", dict(input=X.astype(np.float32), weight=(W * 4).astype(np.int32)),
     np.float64),
    ("nested-lists", dict(input=X.tolist(), weight=W.tolist(), bias=B.tolist()), np.float64),
    ("python-ints", dict(input=[[[1, 2, 3]] * 3] * 4, weight=np.ones((6, 4, 2, 2), int)),
     np.float64),
]


@pytest.mark.parametrize("kw,dtype", [pytest.param(kw, d, id=i) for i, kw, d in ACCEPTED_DTYPES])
def test_accepted_dtypes(kw, dtype):
    _check_result(expected_dtype=dtype, **kw)


# --------------------------------------------------------------------------------------------
# Memory layout of the operands

def _unaligned(a):
    """A C-contiguous copy of `a` at an odd address (flags.aligned is False)."""
    raw = np.zeros(a.nbytes + 1, np.uint8)
    view = raw[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    assert not view.flags.aligned
    return view


def _layouts():
    fortran = np.asfortranarray(X)
    transposed = np.ascontiguousarray(X.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0)
    big = _RNG.standard_normal((4, 8, 12, 14))
    readonly = X.copy()
    readonly.flags.writeable = False
    readonly_w = W.copy()
    readonly_w.flags.writeable = False
    return [
        ("fortran-input", dict(input=fortran)),
        ("transposed-input", dict(input=transposed)),
        ("strided-input", dict(input=big[::2, ::2, ::2, ::2])),
        ("negative-stride-input", dict(input=X[::-1, ::-1, ::-1, ::-1])),
        ("negative-stride-weight", dict(weight=W[:, :, ::-1, ::-1])),
        ("broadcast-input", dict(input=np.broadcast_to(X[:1], X.shape))),
        ("broadcast-pixel", dict(input=np.broadcast_to(np.float64(0.5), X.shape))),
        ("broadcast-weight", dict(weight=np.broadcast_to(W[0], W.shape))),
        ("broadcast-bias", dict(bias=np.broadcast_to(np.float64(2.0), (6,)))),
        ("strided-bias", dict(bias=np.arange(12.0)[::2])),
        ("readonly-input", dict(input=readonly)),
        ("readonly-weight", dict(weight=readonly_w)),
        ("unaligned-float32", dict(input=_unaligned(X.astype(np.float32)),
                                   weight=_unaligned(W.astype(np.float32)),
                                   bias=_unaligned(B.astype(np.float32)))),
        ("unaligned-float64", dict(input=_unaligned(X), weight=_unaligned(W),
                                   bias=_unaligned(B))),
        ("masked-array-input", dict(input=np.ma.masked_array(X))),
        ("matrix-like-list-weight", dict(weight=[list(map(list, f)) for f in W])),
    ]


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("kw", [pytest.param(kw, id=i) for i, kw in _layouts()])
def test_layouts(kw, impl):
    args = {"input": X, "weight": W, "bias": B}
    args.update(kw)
    got = run_impl(impl, args["input"], args["weight"], args["bias"], padding=1)
    assert_matches_oracle(got, args["input"], args["weight"], args["bias"], padding=1)


# --------------------------------------------------------------------------------------------
# out=

def _readonly(shape, dtype=np.float64):
    a = np.zeros(shape, dtype)
    a.flags.writeable = False
    return a


OUT_ERRORS = [
    ("wrong-shape", np.zeros((2, 6, 4, 4)),
     r"out has shape \(2, 6, 4, 4\), but the result has shape \(2, 6, 4, 5\)"),
    ("no-batch-axis", np.zeros((6, 4, 5)), r"out has shape \(6, 4, 5\), but the result has "
                                           r"shape \(2, 6, 4, 5\)"),
    ("flat", np.zeros(2 * 6 * 4 * 5), r"out has shape \(240,\)"),
    ("wrong-dtype", np.zeros((2, 6, 4, 5), np.float32),
     r"out has dtype float32, but the result has dtype float64"),
    ("int-dtype", np.zeros((2, 6, 4, 5), np.int64), r"out has dtype int64, but the result"),
    ("big-endian", np.zeros((2, 6, 4, 5), ">f8"), r"out has dtype >f8, but the result has dtype "
                                                  r"float64"),
    ("read-only", _readonly((2, 6, 4, 5)), r"out is read-only"),
    ("non-contiguous", np.zeros((2, 6, 4, 10))[..., ::2], r"out must be C-contiguous"),
    ("fortran", np.asfortranarray(np.zeros((2, 6, 4, 5))), r"out must be C-contiguous"),
    ("broadcast", np.broadcast_to(np.zeros(5), (2, 6, 4, 5)), r"out must be C-contiguous"),
]


@pytest.mark.parametrize("out,pattern", [pytest.param(o, p, id=i) for i, o, p in OUT_ERRORS])
def test_out_errors(out, pattern):
    _expect(ValueError, pattern, out=out)


def _torch_out():
    torch = pytest.importorskip("torch")
    return torch.zeros((2, 6, 4, 5), dtype=torch.float64)


# Not an ndarray at all: a TypeError, as NumPy's ufuncs raise for such an out=.
OUT_TYPE_ERRORS = [
    ("list", lambda: np.zeros((2, 6, 4, 5)).tolist(), r"out must be a numpy.ndarray, got list"),
    ("tuple", lambda: (0.0,) * 5, r"out must be a numpy.ndarray, got tuple"),
    ("scalar", lambda: 0.0, r"out must be a numpy.ndarray, got float"),
    ("numpy-scalar", lambda: np.float64(0.0), r"out must be a numpy.ndarray, got float64"),
    ("memoryview", lambda: memoryview(np.zeros((2, 6, 4, 5))),
     r"out must be a numpy.ndarray, got memoryview"),
    ("torch-tensor", _torch_out, r"out must be a numpy.ndarray, got Tensor"),
]


@pytest.mark.parametrize("make,pattern", [pytest.param(m, p, id=i) for i, m, p in OUT_TYPE_ERRORS])
def test_out_type_errors(make, pattern):
    _expect(TypeError, pattern, out=make())


def test_out_float32_result_needs_float32_out():
    with pytest.raises(ValueError, match=r"out has dtype float64, but the result has dtype "
                                         r"float32"):
        cconv.conv2d(X.astype(np.float32), W.astype(np.float32), out=np.zeros((2, 6, 4, 5)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_is_filled_and_returned(dtype):
    out = np.full((2, 6, 4, 5), np.nan, dtype)
    got = cconv.conv2d(X.astype(dtype), W.astype(dtype), B.astype(dtype), out=out)
    assert got is out
    assert_matches_oracle(out, X, W, B)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_unaligned_gets_the_right_result(dtype):
    """An aligned-looking contiguous out at an odd address: filled correctly, no misaligned
    stores from C (found by UBSan: the C core's typed loads and stores need alignment)."""
    out = _unaligned(np.zeros((2, 6, 4, 5), dtype))
    got = cconv.conv2d(X.astype(dtype), W.astype(dtype), B.astype(dtype), out=out)
    assert got is out
    assert_matches_oracle(out, X, W, B)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("which", ["input-exactly", "input-shifted", "weight", "bias",
                                   "all-three"])
def test_out_overlapping_operands(which, dtype):
    """out may share memory with what is read; the result must be as if it did not."""
    x = X.astype(dtype)
    w = W[:4].astype(dtype)                      # 4 filters so out can have the input's shape
    b = B[:4].astype(dtype)
    pool = np.zeros(4 * x.size, dtype)
    if which == "input-exactly":
        xin = pool[:x.size].reshape(x.shape)
        out = xin                                  # padding=1 keeps the shape
    elif which == "input-shifted":
        xin = pool[7:7 + x.size].reshape(x.shape)
        out = pool[:x.size].reshape(x.shape)
    elif which == "weight":
        xin = x.copy()
        out = pool[:x.size].reshape(x.shape)
        w = pool[100:100 + w.size].reshape(w.shape)
    elif which == "bias":
        xin = x.copy()
        out = pool[:x.size].reshape(x.shape)
        b = pool[3:7]
    else:
        xin = pool[5:5 + x.size].reshape(x.shape)
        out = pool[:x.size].reshape(x.shape)
        w = pool[x.size:x.size + w.size].reshape(w.shape)
        b = pool[x.size + 10:x.size + 14]
    if which in ("weight", "all-three"):
        w[...] = W[:4]
    if which in ("bias", "all-three"):
        b[...] = B[:4]
    xin[...] = x
    before = (xin.copy(), w.copy(), b.copy())
    got = cconv.conv2d(xin, w, b, padding=1, out=out)
    assert got is out
    assert_matches_oracle(got, *before, padding=1)


# --------------------------------------------------------------------------------------------
# Sizes past 32- and 64-bit index arithmetic: ValueError or MemoryError, never an attempt.

def test_broadcast_2_31_by_2_31_pixels_is_refused():
    huge = np.broadcast_to(np.bool_(True), (1, 1, 2**31, 2**31))
    with pytest.raises(ValueError, match=r"the input has 4611686018427387904 elements, "
                                         r"more than the 576460752303423488"):
        cconv.conv2d(huge, np.ones((1, 1, 1, 1), np.float32))


def test_broadcast_2_31_by_2_31_kernel_is_refused():
    huge = np.broadcast_to(np.int8(1), (1, 1, 2**31, 2**31))
    with pytest.raises(ValueError, match=r"the input has 4611686018427387904 elements"):
        cconv.conv2d(huge, huge)


def test_output_past_64_bit_bytes_is_refused():
    x = np.broadcast_to(np.int8(1), (2**19, 1, 2**20, 1))
    w = np.broadcast_to(np.int8(1), (2**21, 1, 1, 1))
    with pytest.raises(ValueError, match=rf"the output would have {2**60} elements, more than"):
        cconv.conv2d(x, w)


@pytest.mark.skipif(physical_memory() is None, reason="the OS does not report its RAM")
def test_broadcast_larger_than_ram_is_a_memory_error_before_allocating():
    side = int((physical_memory() / 4) ** 0.5) + 1           # side^2 float32 > RAM
    x = np.broadcast_to(np.float32(1), (1, 1, side, side))     # 32-bit pixel counts overflow
    t0 = time.perf_counter()
    with pytest.raises(MemoryError, match=r"conv2d would allocate \d+ bytes for the result of "
                                          rf"shape \(1, 1, {side}, {side}\).*more than the \d+ "
                                          r"bytes of RAM"):
        cconv.conv2d(x, np.ones((1, 1, 1, 1), np.float32))
    assert time.perf_counter() - t0 < 1.0


def test_past_32_bit_output_shapes_need_no_memory():
    assert cconv.conv2d_output_shape((1, 1, 2**31, 2**27), (1, 1, 1, 1)) == (1, 1, 2**31, 2**27)
    with pytest.raises(ValueError, match=r"the input has 4611686018427387904 elements"):
        cconv.conv2d_output_shape((1, 1, 2**31, 2**31), (1, 1, 1, 1))
    assert cconv.conv2d_output_shape((2**16, 1, 2**16, 2**16), (1, 1, 1, 1), stride=2**15) == (
        2**16, 1, 2, 2)


def test_empty_output_with_huge_axes_is_refused():
    """Found by Hypothesis: 0 filters but 2**31 x 2**31 output pixels made NumPy itself fail
    with a message that named no argument."""
    x = np.ones((1, 2, 0, 0))
    w = np.ones((0, 1, 2, 2))
    with pytest.raises(ValueError, match=r"the output would have shape \(1, 0, 2147483648, "
                                         r"2147483648\): empty, but its other axes multiply to "
                                         r"4611686018427387904"):
        cconv.conv2d(x, w, padding=2**31, dilation=2**31, groups=2)


def test_huge_dilation_is_refused():
    _expect(ValueError, r"kernel height 3 \(dilated by 4611686018427387904\) spans "
                        r"9223372036854775809 pixels", dilation=2**62)


def test_huge_stride_and_padding_give_one_output():
    """Stride 2**62 with the largest padding: 1 output pixel; the C core must not overflow."""
    got = _check_result(padding=((0, 9), (0, 10)), stride=2**62)
    assert got.shape == (2, 6, 1, 1)


# --------------------------------------------------------------------------------------------
# conv2d_output_shape: the same checks without data.

@pytest.mark.parametrize("args,kw,exc,pattern", [
    pytest.param(((1, 1, -5, 5), (1, 1, 1, 1)), {}, ValueError,
                 r"input.shape\[2\] must be >= 0, got -5", id="negative-height"),
    pytest.param(((-1, 1, 5, 5), (1, 1, 1, 1)), {}, ValueError,
                 r"input.shape\[0\] must be >= 0, got -1", id="negative-batch"),
    pytest.param(((1, 1, 5, 5), (-1, 1, 1, 1)), {}, ValueError,
                 r"weight.shape\[0\] must be >= 0, got -1", id="negative-filters"),
    pytest.param(((1, 1, 5, 5), (1, 1, -1, 1)), {}, ValueError,
                 r"weight.shape\[2\] must be >= 0, got -1", id="negative-kernel"),
    pytest.param(((1, 1, 5.5, 5), (1, 1, 1, 1)), {}, TypeError,
                 r"input.shape\[2\] must be an int, got float 5.5", id="float-height"),
    pytest.param(((1, 1, True, 5), (1, 1, 1, 1)), {}, TypeError,
                 r"input.shape\[2\] must be an int, got bool", id="bool-height"),
    pytest.param(("abcd", (1, 1, 1, 1)), {}, TypeError,
                 r"input_shape must be a tuple of ints, got str 'abcd'", id="string"),
    pytest.param((5, (1, 1, 1, 1)), {}, TypeError,
                 r"input_shape must be a tuple of ints, got int 5", id="int"),
    pytest.param((None, (1, 1, 1, 1)), {}, TypeError,
                 r"input_shape must be a tuple of ints, got NoneType", id="none"),
    pytest.param(((1, 1, 5, 5), None), {}, TypeError,
                 r"weight_shape must be a tuple of ints, got NoneType", id="weight-none"),
    pytest.param(((5, 5), (1, 1, 1, 1)), {}, ValueError,
                 r"input must be 3-D or 4-D .*got 2-D with shape \(5, 5\)", id="2d"),
    pytest.param(((1, 1, 5, 5), (1, 1, 1)), {}, ValueError, r"weight must be 4-D", id="weight-3d"),
    pytest.param(((1, 1, 2**63, 5), (1, 1, 1, 1)), {}, ValueError,
                 rf"input.shape\[2\] must be <= {2**62}, got {2**63}", id="height-2**63"),
    pytest.param(((2**40,) * 4, (1, 2**40, 1, 1)), {}, ValueError,
                 r"the input has 1461501637330902918203684832716283019655932542976 "
                 r"elements", id="2**160-elements"),
    pytest.param(((1, 3, 5, 5), (2, 3, 3, 3)), {"padding": "bogus"}, ValueError,
                 r"got the string 'bogus'", id="padding-string"),
    pytest.param(((1, 3, 5, 5), (2, 3, 3, 3)), {"stride": 0}, ValueError,
                 r"stride must be >= 1, got 0", id="stride-0"),
    pytest.param(((1, 3, 5, 5), (2, 1, 3, 3)), {"groups": 2}, ValueError,
                 r"input has 3 channels, which groups=2 does not divide", id="groups"),
    pytest.param(((1, 3, 5, 5), (2, 3, 3, 3)), {"padding": 10**12}, ValueError,
                 r"padding top 1000000000000 is more than", id="padding-1e12"),
])
def test_output_shape_errors(args, kw, exc, pattern):
    with pytest.raises(exc) as info:
        cconv.conv2d_output_shape(*args, **kw)
    assert re.search(pattern, str(info.value)), str(info.value)


@pytest.mark.parametrize("args,kw,expected", [
    (((1, 3, 5, 5), (2, 3, 3, 3)), {}, (1, 2, 3, 3)),
    (((3, 5, 5), (2, 3, 3, 3)), {"padding": "same"}, (2, 5, 5)),
    (([1, 3, 5, 5], np.array([2, 3, 3, 3])), {}, (1, 2, 3, 3)),
    ((np.array([1, 3, 5, 5], np.int8), (2, 3, 3, 3)), {"stride": 2}, (1, 2, 2, 2)),
    (((i for i in (1, 3, 5, 5)), (2, 3, 3, 3)), {}, (1, 2, 3, 3)),
    (((0, 3, 5, 5), (0, 3, 3, 3)), {}, (0, 0, 3, 3)),
    (((1, 3, 5, 5), (2, 3, 3, 3)), {"stride": 2**62}, (1, 2, 1, 1)),
], ids=["plain", "unbatched-same", "list-and-array", "int8-array", "generator", "zeros",
        "huge-stride"])
def test_output_shape_valid(args, kw, expected):
    assert cconv.conv2d_output_shape(*args, **kw) == expected


# --------------------------------------------------------------------------------------------
# The C binding and core re-check what the Python layer promised.

def _core_args(dtype=np.float64, out_shape=(1, 2, 3, 3), geometry=(1, 1, 0, 0, 0, 0, 1, 1, 1)):
    x = np.ones((1, 3, 5, 5), dtype)
    w = np.ones((2, 3, 3, 3), dtype)
    return x, w, None, np.zeros(out_shape, dtype), geometry


@pytest.mark.parametrize("fn", [_core.conv2d_f32, _core.conv2d_f64], ids=["f32", "f64"])
@pytest.mark.parametrize("reference", [False, True], ids=["fast", "reference"])
@pytest.mark.parametrize("case,pattern", [
    (dict(out_shape=(1, 2, 3, 4)), r"cconv: .*(invalid|argument|parameter)"),
    (dict(out_shape=(1, 3, 3, 3)), r"cconv: input, weight and out shapes are inconsistent"),
    (dict(geometry=(1, 1, 2**62, 2**62, 0, 0, 1, 1, 1)), r"cconv: "),
    (dict(geometry=(0, 1, 0, 0, 0, 0, 1, 1, 1)), r"cconv: "),
    (dict(geometry=(1, 1, -1, 0, 0, 0, 1, 1, 1)), r"cconv: "),
    (dict(geometry=(1, 1, 0, 0, 0, 0, 0, 1, 1)), r"cconv: "),
    (dict(geometry=(1, 1, 0, 0, 0, 0, 1, 1, 0)), r"cconv: "),
    (dict(geometry=(1, 1, 0, 0, 0, 0, 1, 1, 3)), r"cconv: "),
], ids=["out-size", "out-filters", "pad-overflow", "stride-0", "pad-negative", "dilation-0",
        "groups-0", "groups-3"])
def test_core_rechecks(fn, reference, case, pattern):
    dtype = np.float32 if fn is _core.conv2d_f32 else np.float64
    x, w, b, out, geometry = _core_args(dtype, **case)
    with pytest.raises(ValueError, match=pattern):
        fn(x, w, b, out, geometry, 1, _simd.ACTIVE, reference)


def test_core_rejects_unknown_simd_index():
    x, w, b, out, geometry = _core_args()
    with pytest.raises((RuntimeError, ValueError), match=r"cconv: "):
        _core.conv2d_f64(x, w, b, out, geometry, 1, 999, False)


def test_core_takes_strided_input_and_out_but_only_contiguous_weight_and_bias():
    x, w, b, out, geometry = _core_args()
    with pytest.raises(ValueError):
        _core.conv2d_f64(x, np.ones((2, 3, 3, 6))[..., ::2], b, out, geometry, 1, 0, False)
    with pytest.raises(ValueError):
        _core.conv2d_f64(x, w, np.ones(4)[::2], out, geometry, 1, 0, False)
    for reference in (False, True):
        strided = np.arange(150.0).reshape(1, 3, 5, 10)[..., ::-2]
        _core.conv2d_f64(strided, w, b, out, geometry, 1, 0, reference)
        np.testing.assert_array_equal(out, conv2d_oracle(strided, w))
        # An output view into a larger array (every other column, channels last): only its
        # elements are written.
        wide = np.full((1, 3, 6, 2), -7.0)
        view = wide[:, :3, ::2].transpose(0, 3, 1, 2)
        _core.conv2d_f64(strided, w, b, view, geometry, 1, 0, reference)
        np.testing.assert_array_equal(view, conv2d_oracle(strided, w))
        assert (wide[:, :3, 1::2] == -7).all() and (wide[:, 3:] == -7).all()
    # A residual must be laid out as the output.
    with pytest.raises(ValueError, match="residual is not laid out as out is"):
        _core.conv2d_f64(x, w, b, out, geometry, 1, 0, False,
                         np.zeros((1, 3, 3, 2)).transpose(0, 3, 1, 2))


@pytest.mark.parametrize("args,expected", [
    ((5, 3, 1, 0, 0, 1), 3),
    ((5, 3, 2**62, 0, 0, 1), 1),
    ((0, 1, 1, 0, 0, 1), -1),                     # nothing to slide over
    ((0, 1, 1, 1, 0, 1), 1),
    ((5, 3, 1, 2**62, 2**62, 1), -1),             # padded size overflows int64
    ((5, 2**62, 1, 0, 0, 2**62), -1),             # dilated span overflows
    ((5, 3, 0, 0, 0, 1), -1),
    ((-1, 1, 1, 0, 0, 1), -1),
    ((5, 0, 1, 0, 0, 1), -1),
    ((5, 6, 1, 0, 0, 1), -1),
    ((2**63 - 1, 1, 1, 0, 0, 1), 2**63 - 1),
    ((2**63 - 1, 1, 1, 1, 0, 1), -1),
])
def test_core_output_size(args, expected):
    assert _core.output_size(*args) == expected


# --------------------------------------------------------------------------------------------
# Values: NaN and infinities propagate as IEEE arithmetic says; denormals stay fast.

def _special_operands(kind, dtype):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 3, 7, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    if kind == "nan-input":
        x[0, 1, 3, 4] = np.nan
    elif kind == "inf-input":
        x[0, 0, 0, 0] = np.inf
        x[0, 2, 6, 7] = -np.inf
    elif kind == "inf-cancel":                      # +inf and -inf meet in one sum: NaN
        x[0, 0, 2, 2] = np.inf
        x[0, 1, 2, 3] = np.inf
        w[:, 0] = np.abs(w[:, 0])
        w[:, 1] = -np.abs(w[:, 1])
    elif kind == "inf-times-zero-weight":
        x[0, 0, 3, 3] = np.inf
        w[1, 0] = 0.0
    elif kind == "nan-weight":
        w[2, 1, 1, 1] = np.nan
    elif kind == "inf-weight-on-padding":           # 0 * inf = NaN on padded taps too
        w[0, 0, 0, 0] = np.inf
        w[3, 2, 2, 1] = -np.inf
    elif kind == "nan-bias":
        b[1] = np.nan
    elif kind == "inf-bias":
        b[2] = -np.inf
    elif kind == "huge-finite":                     # sums overflow to inf in float32 and float64
        x[...] = np.finfo(dtype).max / 2
        w[...] = np.abs(w) + 1
    return x, w, b


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["nan-input", "inf-input", "inf-cancel", "inf-times-zero-weight",
                                  "nan-weight", "inf-weight-on-padding", "nan-bias", "inf-bias",
                                  "huge-finite"])
def test_nan_and_inf_propagate(kind, dtype, impl):
    x, w, b = _special_operands(kind, dtype)
    params = dict(padding=1, stride=(1, 2))
    got = run_impl(impl, x, w, b, **params)
    with np.errstate(all="ignore"):
        want = conv2d_oracle(x, w, b, **params).astype(dtype)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg="NaN pattern")
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want), err_msg="+inf pattern")
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want), err_msg="-inf pattern")
    finite = np.isfinite(want)
    assert np.isnan(want).any() or np.isinf(want).any()
    with np.errstate(all="ignore"):
        scale = np.abs(want[finite]).max(initial=1.0)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_denormals_cause_no_large_slowdown(dtype):
    """Subnormal inputs and products must not make a call many times slower (x87-style assists
    can cost 100x); generous bound because other processes share the CPU."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 16, 48, 48)).astype(dtype)
    w = rng.standard_normal((16, 16, 3, 3)).astype(dtype)
    tiny = np.finfo(dtype).smallest_subnormal * 8
    x_sub = (np.abs(x) * tiny).astype(dtype)
    assert np.all(x_sub[x_sub != 0] < np.finfo(dtype).smallest_normal)

    def once(a):
        t0 = time.perf_counter()
        cconv.conv2d(a, w, padding=1, threads=1)
        return time.perf_counter() - t0

    once(x)
    # Interleaved, best of 9 each, so a busy neighbour slows both alike.
    pairs = [(once(x), once(x_sub)) for _ in range(9)]
    normal, subnormal = min(p[0] for p in pairs), min(p[1] for p in pairs)
    # Measured on the generic path (Zen 4): 1.9x (float32), 2.7x (float64).  Microcode assists
    # on subnormals cost 10-100x; that is what this catches.
    assert subnormal < 10 * normal + 1e-3, (normal, subnormal)
    got = cconv.conv2d(x_sub, w, padding=1)
    # Products of subnormals round to a multiple of the smallest subnormal: absolute tolerance.
    np.testing.assert_allclose(got, conv2d_oracle(x_sub, w, padding=1), rtol=1e-4,
                               atol=200 * np.finfo(dtype).smallest_subnormal)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_stride_dilation_and_padding_of_10_to_the_12(impl):
    """Valid, and cheap: only the polyphase sub-images that some tap reads are packed, so a
    stride of 10**12 costs no more memory than a stride of 2.  (The fuzzer once found that this
    configuration was refused; before, a stride far beyond the kernel sized the packed band.)"""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 4, 7, 1))
    w = rng.standard_normal((4, 1, 2, 2))
    params = dict(stride=10**12, dilation=10**12, padding=10**12, groups=4)
    assert cconv.conv2d_output_shape(x.shape, w.shape, **params) == (1, 4, 2, 2)
    got = run_impl(impl, x, w, **params)
    # Output (y, x) sees exactly one input pixel, (0, 0), through tap (1 - y, 1 - x).
    want = x[0, :, 0, 0, None, None] * w[:, 0, ::-1, ::-1]
    np.testing.assert_allclose(got[0], want, rtol=1e-15)


@pytest.mark.parametrize("odd", ["unaligned", "strided", "fortran"])
def test_cached_plan_replay_with_odd_layout(odd):
    """conv2d caches the checked arguments of a call and replays them for the next call with the
    same shapes; that replay must not hand an unaligned or non-contiguous array to C."""
    x = X.astype(np.float32)
    w = W.astype(np.float32)
    first = cconv.conv2d(x, w, padding=1)                  # fills the cache
    assert_matches_oracle(first, x, w, padding=1)
    if odd == "unaligned":
        x2 = _unaligned(x)
    elif odd == "strided":
        x2 = np.repeat(x, 2, axis=3)[..., ::2]
    else:
        x2 = np.asfortranarray(x)
    got = cconv.conv2d(x2, w, padding=1)
    np.testing.assert_array_equal(got, first)
