"""Property-based tests: Hypothesis draws valid configurations across every parameter, dtype,
layout and code path and compares conv2d with the NumPy oracle; it also draws arbitrary (often
invalid) parameters and checks that they end in a clean exception or a correct result.

Profiles (registered in conftest.py): CCONV_HYPOTHESIS_PROFILE=fast (default, CI) or nightly.
"""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, note, strategies as st  # noqa: E402

import cconv  # noqa: E402
from cconv._args import as_int, params_key, resolve  # noqa: E402
from conftest import IMPLEMENTATIONS, assert_matches_oracle, run_impl  # noqa: E402

IMPLS = [p.values[0] for p in IMPLEMENTATIONS]


@st.composite
def axis_config(draw, same_allowed=True):
    """(size, kernel, stride, dilation, (before, after) or None for a string form) for one axis,
    always valid: the dilated kernel fits the padded input."""
    kernel = draw(st.integers(1, 4))
    dilation = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 4))
    span = dilation * (kernel - 1) + 1
    before = draw(st.integers(0, span))
    after = draw(st.integers(0, span))
    size = draw(st.integers(max(0, span - before - after), span + 9))
    return size, kernel, stride, dilation, before, after


def _padding_form(draw, h, w):
    """One of the accepted padding spellings for per-axis pads h=(top, bottom), w=(left, right),
    or the strings when they are valid for this geometry."""
    form = draw(st.sampled_from(["explicit", "pair", "int", "valid", "same", "list", "array"]))
    if form == "pair" or (form == "int" and h[0] == h[1] == w[0] == w[1]):
        if form == "int":
            return h[0]
        if h[0] == h[1] and w[0] == w[1]:
            return (h[0], w[0])
    if form == "list":
        return [list(h), list(w)]
    if form == "array":
        return np.array([h, w])
    if form in ("valid", "same"):
        return form
    return (tuple(h), tuple(w))


@st.composite
def conv_config(draw):
    hs, kh, sh, dh, pt, pb = draw(axis_config())
    ws, kw, sw, dw, pl, pr = draw(axis_config())
    groups = draw(st.integers(1, 3))
    cg = draw(st.integers(0, 3))
    og = draw(st.integers(0, 3))
    n = draw(st.integers(0, 2))
    padding = _padding_form(draw, (pt, pb), (pl, pr))
    batched = draw(st.booleans())
    stride = (sh, sw) if sh != sw or draw(st.booleans()) else sh
    dilation = (dh, dw) if dh != dw or draw(st.booleans()) else dh
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    x_shape = (n, groups * cg, hs, ws) if batched else (groups * cg, hs, ws)
    w_shape = (groups * og, cg, kh, kw)
    # The string forms pick their own padding; keep only configurations that are valid.
    try:
        resolve(x_shape, w_shape, **params)
    except ValueError:
        hypothesis.assume(False)
    return x_shape, w_shape, params


DTYPE_PAIRS = [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64),
               (np.int16, np.float32), (np.float16, np.float16), (np.bool_, np.float64),
               (np.uint8, np.float32), (np.int8, np.float64), (np.float32, np.int32),
               (np.dtype(">f4"), np.float32)]


def _array(draw, shape, dtype, rng, special):
    a = rng.standard_normal(shape) * 4
    if np.dtype(dtype).kind == "b":
        a = a > 0
    a = a.astype(dtype)
    layout = draw(st.sampled_from(["c", "fortran", "reversed", "strided"]))
    if layout == "fortran":
        a = np.asfortranarray(a)
    elif layout == "reversed" and a.ndim:
        a = np.ascontiguousarray(a[::-1])[::-1]
    elif layout == "strided" and a.ndim:
        big = np.zeros(a.shape[:-1] + (a.shape[-1] * 2,), a.dtype)
        big[..., ::2] = a
        a = big[..., ::2]
    return a


@given(cfg=conv_config(), data=st.data())
def test_matches_oracle(cfg, data):
    x_shape, w_shape, params = cfg
    x_dtype, w_dtype = data.draw(st.sampled_from(DTYPE_PAIRS), label="dtypes")
    impl = data.draw(st.sampled_from(IMPLS), label="impl")
    threads = data.draw(st.sampled_from([None, 1, 2, 3]), label="threads")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = _array(data.draw, x_shape, x_dtype, rng, False)
    w = _array(data.draw, w_shape, w_dtype, rng, False)
    b = None
    if data.draw(st.booleans(), label="bias"):
        b = rng.standard_normal(w_shape[0]).astype(data.draw(st.sampled_from([w_dtype, np.int8])))
    note(f"x {x.shape} {x.dtype} w {w.shape} {w.dtype} params {params}")
    got = run_impl(impl, x, w, b, threads=threads, **params)
    # NumPy's promotion, then float32 for float16/float32 (big-endian float32 counts too).
    promoted = np.result_type(*(a.dtype for a in (x, w, b) if a is not None))
    want_dtype = np.float32 if promoted.kind == "f" and promoted.itemsize <= 4 else np.float64
    assert got.dtype == want_dtype
    assert got.shape == cconv.conv2d_output_shape(x.shape, w.shape, **params)
    assert_matches_oracle(got, x, w, b, **params)


@given(cfg=conv_config(), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_out_and_thread_count_do_not_change_the_bits(cfg, seed, dtype):
    """out= and the number of threads change where the result goes and who computes it, never
    the arithmetic: results are bit-identical."""
    x_shape, w_shape, params = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    one = cconv.conv2d(x, w, b, threads=1, **params)
    for threads in (2, 3, None):
        np.testing.assert_array_equal(cconv.conv2d(x, w, b, threads=threads, **params), one)
    out = np.full_like(one, np.nan)
    assert cconv.conv2d(x, w, b, out=out, **params) is out
    np.testing.assert_array_equal(out, one)


def _any_int():
    return st.one_of(st.integers(-3, 12), st.sampled_from([2**31, 2**32 + 1, 2**62, 2**63, 10**12]))


_any_param = st.one_of(
    _any_int(), st.tuples(_any_int(), _any_int()),
    st.tuples(st.tuples(_any_int(), _any_int()), st.tuples(_any_int(), _any_int())),
    st.sampled_from(["same", "valid", "full", None, 1.0, True, (1,), (1, 2, 3)]))


@given(h=st.integers(0, 9), w=st.integers(0, 9), c=st.integers(0, 4), o=st.integers(0, 4),
       kh=st.integers(0, 11), kw=st.integers(0, 11), depth=st.integers(0, 4),
       stride=_any_param, padding=_any_param, dilation=_any_param,
       groups=st.one_of(_any_int(), st.sampled_from([True, 1.5, None])),
       threads=st.sampled_from([None, 0, -1, 1, 2, 2**40, True]))
def test_arbitrary_arguments_end_cleanly(h, w, c, o, kh, kw, depth, stride, padding, dilation,
                                         groups, threads):
    """Anything goes in; what comes out is a TypeError/ValueError naming an argument, or a
    result equal to the oracle's."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, c, h, w))
    wt = rng.standard_normal((o, depth, kh, kw))
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    try:
        got = cconv.conv2d(x, wt, threads=threads, **params)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        assert any(word in message for word in (
            "stride", "padding", "dilation", "groups", "threads", "input", "weight", "kernel",
            "output")), (
            message)
        return
    assert_matches_oracle(got, x, wt, **params)


# Spellings of an int parameter: ints, NumPy ints, and look-alikes a fresh call refuses (picked
# by index: Hypothesis hashes sampled values, and a generic timedelta64 cannot be hashed).
_LOOK_ALIKES = (True, False, np.True_, 1.0, np.float64(2.0), np.timedelta64(1), None, "1",
                np.array(1), 2**63)
_int_spelling = st.one_of(
    st.integers(-1, 4), st.integers(-1, 4).map(np.int64), st.integers(0, 4).map(np.uint8),
    st.integers(0, len(_LOOK_ALIKES) - 1).map(_LOOK_ALIKES.__getitem__))


def _sequences_of(elements):
    return st.one_of(elements, st.lists(elements, max_size=3),
                     st.lists(elements, max_size=3).map(tuple))


@given(stride=_sequences_of(_int_spelling), dilation=_sequences_of(_int_spelling),
       padding=st.one_of(_sequences_of(_sequences_of(_int_spelling)),
                         st.sampled_from(["same", "valid", "full", "SAME"])),
       groups=_int_spelling, threads=st.one_of(st.none(), _int_spelling),
       shapes=st.sampled_from([((1, 2, 5, 6), (2, 1, 2, 3)), ((2, 4, 3, 0), (4, 2, 3, 1)),
                               ((4, 7, 7), (2, 4, 3, 3))]))
def test_params_key_is_exact(stride, dilation, padding, groups, threads, shapes):
    """The repeated-call cache shares a plan between calls whose parameters have the same key:
    every spelling with a key must pass or fail the checks exactly as the plain ints of its key,
    and resolve to the same geometry."""
    key = params_key(stride, padding, dilation, groups, threads)
    if key is None:
        return
    sh, sw, dh, dw, g, t, *pad = key
    canonical = dict(stride=(sh, sw), dilation=(dh, dw), groups=g, threads=t,
                     padding="same" if pad == ["same"] else ((pad[0], pad[1]), (pad[2], pad[3])))
    for value in (sh, sw, dh, dw, g, *(p for p in pad if p != "same")):
        assert type(value) is int
    assert t is None or type(t) is int

    def outcome(stride, padding, dilation, groups, threads):
        try:
            geometry = resolve(*shapes, stride, padding, dilation, groups)
            return geometry, None if threads is None else as_int(threads, "threads", 1, 1024)
        except (TypeError, ValueError) as exc:
            return type(exc)

    assert outcome(stride, padding, dilation, groups, threads) == outcome(**canonical)
