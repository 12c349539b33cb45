"""cconv.Conv2d: every call equals conv2d bit for bit, with weights copied and packed once."""

import pickle
import threading

import numpy as np
import pytest

import cconv
from cconv import _core, _simd
from cconv._conv import _CORE

from conftest import USABLE_PATHS

ACTIVATIONS = [None, "relu", "relu6", ("leaky_relu", 0.2), ("clamp", -0.5, 0.5)]
MODES = ["zeros", "reflect", "replicate", "circular", "symmetric"]


def _random_layer(rng):
    """Random layer parameters and the weight/bias arrays (dense, grouped or depthwise)."""
    groups, cg, og = [(1, 3, 8), (1, 16, 16), (2, 4, 6), (8, 1, 1), (8, 1, 2), (16, 1, 1),
                      (1, 1, 1)][rng.integers(7)]
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dtype = [np.float32, np.float64][rng.integers(2)]
    w = rng.standard_normal((groups * og, cg, kh, kw)).astype(dtype)
    b = rng.standard_normal(groups * og).astype(dtype) if rng.integers(2) else None
    mode = MODES[rng.integers(len(MODES))]
    params = dict(stride=int(rng.integers(1, 3)), dilation=int(rng.integers(1, 3)),
                  groups=groups, padding=["same", 0, 1, (1, 2)][rng.integers(4)],
                  padding_mode=mode, data_format=["NCHW", "NHWC"][rng.integers(2)],
                  activation=ACTIVATIONS[rng.integers(len(ACTIVATIONS))])
    if mode == "zeros" and rng.integers(2):
        params["padding_value"] = 0.5
    return w, b, params


def _input(rng, channels, hw, batch, data_format, dtype):
    shape = (channels,) + hw if data_format == "NCHW" else hw + (channels,)
    if batch is not None:
        shape = (batch,) + shape
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 100, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _assert_same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b), f"max difference {np.max(np.abs(a - b))}"


@pytest.mark.parametrize("seed", range(40))
def test_calls_equal_conv2d_bitwise(seed):
    rng = np.random.default_rng(seed)
    w, b, params = _random_layer(rng)
    threads = int(rng.integers(1, 3))
    layer = cconv.Conv2d(w, b, **params, threads=threads)
    channels = w.shape[1] * params["groups"]
    batch = [None, 1, 3][rng.integers(3)]
    in_dtype = [w.dtype, np.uint8, np.int16][rng.integers(3)]
    # One object, several spatial sizes, each called more than once (the first call plans, the
    # later ones run packed).
    for hw in [(9, 11), (16, 16), (9, 11), (5, 7), (16, 16)]:
        x = _input(rng, channels, hw, batch, params["data_format"], in_dtype)
        expected = cconv.conv2d(x, w, b, **params, threads=threads)
        residual = rng.standard_normal(expected.shape).astype(expected.dtype)
        for _ in range(2):
            _assert_same(layer(x), expected)
            _assert_same(layer(x, residual=residual),
                         cconv.conv2d(x, w, b, **params, residual=residual, threads=threads))
            out = np.full(expected.shape, np.nan, expected.dtype)
            assert layer(x, out=out, threads=3 - threads) is out
            _assert_same(out, expected)


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["dense", "depthwise", "multiplier", "grouped"])
def test_every_simd_path_packs_and_matches(monkeypatch, path, dtype, case, rng):
    """NHWC layers run the channels-last kernels, whose weights the object packs once; each
    SIMD path gets its own packing."""
    monkeypatch.setattr(_simd, "ACTIVE", _simd.path_index(path))
    c, o, groups = {"dense": (24, 40, 1), "depthwise": (32, 32, 32),
                    "multiplier": (16, 32, 16), "grouped": (16, 48, 2)}[case]
    w = rng.standard_normal((o, c // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    layer = cconv.Conv2d(w, b, stride=(1, 2), padding=1, groups=groups, activation="relu",
                         data_format="NHWC")
    for hw in [(20, 21), (12, 30), (20, 21)]:
        x = rng.standard_normal((2,) + hw + (c,)).astype(dtype)
        expected = cconv.conv2d(x, w, b, stride=(1, 2), padding=1, groups=groups,
                                activation="relu", data_format="NHWC")
        for _ in range(3):
            _assert_same(layer(x), expected)
    packs = [p for p in layer._packs.values() if p is not None]
    kernels = _core.kernels_used(np.empty((2, c, 20, 21), dtype), w.shape,
                                 np.empty((2, 20, 11, o), dtype).transpose(0, 3, 1, 2),
                                 (1, 2, 1, 1, 1, 1, 1, 1, groups), _simd.ACTIVE,
                                 np.dtype(dtype).itemsize)
    if kernels.startswith("channels-last"):
        assert len(packs) == 1 and packs[0].nbytes >= w.nbytes


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_methods_equal_conv2d(method, rng):
    """A big kernel, which "auto" computes by FFT, and a 3x3 one, which it computes directly:
    the object gives conv2d's bits with each method."""
    big = rng.random((1, 1, 63, 63)).astype(np.float32)
    small = rng.random((16, 8, 3, 3)).astype(np.float32)
    for w, x, fmt in [(big, rng.random((1, 1, 300, 300)).astype(np.float32), "NCHW"),
                      (small, rng.random((1, 20, 20, 8)).astype(np.float32), "NHWC")]:
        layer = cconv.Conv2d(w, padding="same", data_format=fmt, method=method, threads=1)
        expected = cconv.conv2d(x, w, padding="same", data_format=fmt, method=method,
                                threads=1)
        for _ in range(3):
            _assert_same(layer(x), expected)
        fft = method == "fft" or (method == "auto" and w is big)
        assert bool(layer._plans) != fft  # FFT calls are never replayed with packed weights
    with pytest.raises(ValueError, match="method must be one of"):
        cconv.Conv2d(small, method="bogus")


@pytest.mark.parametrize("method", ["auto", "winograd"])
def test_winograd_layers_equal_conv2d(method, rng):
    """A 3x3 layer that "auto" computes by Winograd (NCHW, 64 channels at 56 x 56): the object
    must give conv2d's bits, so it must not replay the direct kernels."""
    x = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
    w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
    layer = cconv.Conv2d(w, padding=1, method=method, threads=1)
    expected = cconv.conv2d(x, w, padding=1, method=method, threads=1)
    for _ in range(3):
        _assert_same(layer(x), expected)
    if method == "auto":
        assert not np.array_equal(expected, cconv.conv2d(x, w, padding=1, method="direct"))


def test_planar_layers_pack_nothing(rng):
    w = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    layer = cconv.Conv2d(w, padding=1)
    x = rng.standard_normal((1, 4, 10, 10)).astype(np.float32)
    for _ in range(3):
        _assert_same(layer(x), cconv.conv2d(x, w, padding=1))
    assert all(plan[-1] is None for plan in layer._plans.values())


@pytest.mark.parametrize("in_dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32,
                                      np.float16, np.float32, np.float64, bool])
@pytest.mark.parametrize("w_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NCHW", "NHWC"])
def test_input_dtypes(in_dtype, w_dtype, data_format, rng):
    w = rng.standard_normal((16, 3, 3, 3)).astype(w_dtype)
    layer = cconv.Conv2d(w, padding=1, data_format=data_format)
    x = _input(rng, 3, (12, 12), 2, data_format, np.int16).astype(in_dtype)
    expected = cconv.conv2d(x, w, padding=1, data_format=data_format)
    for _ in range(3):
        _assert_same(layer(x), expected)


def test_weights_and_bias_are_copied(rng):
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    x = rng.standard_normal((1, 12, 12, 8)).astype(np.float32)
    expected = cconv.conv2d(x, w, b, padding=1, data_format="NHWC")
    layer = cconv.Conv2d(w, b, padding=1, data_format="NHWC")
    _assert_same(layer(x), expected)
    w[...] = 0
    b[...] = 7
    for _ in range(3):  # the planning call and the packed ones
        _assert_same(layer(x), expected)
    assert not layer.weight.flags.writeable and not layer.bias.flags.writeable
    with pytest.raises(ValueError):
        layer.weight[0] = 1
    # A list is as good as an array, and later changes to it do not matter either.
    wl = w.tolist()
    layer = cconv.Conv2d(wl)
    wl[0][0][0][0] = 1e9
    assert layer.weight[0, 0, 0, 0] == 0


def test_wrong_channel_count_names_the_numbers(rng):
    layer = cconv.Conv2d(np.ones((4, 3, 3, 3), np.float32))
    layer(np.ones((1, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"kernel depth 3 .* input has 5 channels"):
        layer(np.ones((1, 5, 8, 8), np.float32))
    nhwc = cconv.Conv2d(np.ones((4, 2, 3, 3), np.float32), groups=2, data_format="NHWC")
    with pytest.raises(ValueError, match=r"input has 5 channels, which groups=2"):
        nhwc(np.ones((8, 8, 5), np.float32))
    with pytest.raises(ValueError, match="input must be 4-D"):
        nhwc(np.ones((8, 8), np.float32))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(stride=0), ValueError, "stride"),
    (dict(stride=1.5), TypeError, "stride"),
    (dict(groups=3), ValueError, "groups=3"),
    (dict(padding="full"), ValueError, "padding"),
    (dict(activation="gelu"), ValueError, "activation"),
    (dict(padding_mode="wrap"), ValueError, "padding_mode"),
    (dict(data_format="CHW"), ValueError, "data_format"),
    (dict(threads=0), ValueError, "threads"),
    (dict(bias=np.ones(3)), ValueError, r"bias must have shape \(4,\)"),
])
def test_parameters_are_checked_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        cconv.Conv2d(np.ones((4, 2, 3, 3), np.float32), **kwargs)


def test_weights_are_checked_at_construction():
    with pytest.raises(ValueError, match="weight must be 4-D"):
        cconv.Conv2d(np.ones((4, 3, 3)))
    with pytest.raises(TypeError, match="weight has dtype complex128"):
        cconv.Conv2d(np.ones((4, 3, 3, 3), complex))
    with pytest.raises(ValueError, match="at least 1x1"):
        cconv.Conv2d(np.ones((4, 3, 0, 3)))


def test_call_arguments_are_checked(rng):
    layer = cconv.Conv2d(np.ones((4, 3, 3, 3), np.float32))
    x = np.ones((1, 3, 8, 8), np.float32)
    layer(x)
    layer(x)
    with pytest.raises(ValueError, match="threads"):
        layer(x, threads=0)
    with pytest.raises(ValueError, match="residual must have the output's shape"):
        layer(x, residual=np.ones((1, 4, 5, 5), np.float32))
    with pytest.raises(ValueError):
        layer(x, out=np.empty((1, 4, 5, 5), np.float32))
    with pytest.raises(TypeError):
        layer(x, out=[0.0])


def test_out_and_residual_needing_conv2d(rng):
    """out that is the residual, a residual of another dtype or layout, a strided input:
    conv2d's own handling."""
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    layer = cconv.Conv2d(w, padding=1, data_format="NHWC")
    x = rng.standard_normal((2, 10, 10, 8)).astype(np.float32)
    for _ in range(2):
        r = rng.standard_normal((2, 10, 10, 16)).astype(np.float32)
        expected = cconv.conv2d(x, w, padding=1, data_format="NHWC", residual=r)
        assert layer(x, residual=r, out=r) is r  # in place: conv2d copies the residual aside
        _assert_same(r, expected)
        r64 = rng.standard_normal((2, 10, 10, 16))
        _assert_same(layer(x, residual=r64),
                     cconv.conv2d(x, w, padding=1, data_format="NHWC", residual=r64))
        rt = np.asfortranarray(r64.astype(np.float32))
        _assert_same(layer(x, residual=rt),
                     cconv.conv2d(x, w, padding=1, data_format="NHWC", residual=rt))
        xs = x[:, ::2]  # a strided view: another plan
        _assert_same(layer(xs), cconv.conv2d(xs, w, padding=1, data_format="NHWC"))


def test_empty_inputs(rng):
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    layer = cconv.Conv2d(w, b, padding=1, data_format="NHWC")
    for shape in [(0, 5, 5, 3), (2, 0, 5, 3)]:
        x = np.ones(shape, np.float32)
        for _ in range(2):
            _assert_same(layer(x), cconv.conv2d(x, w, b, padding=1, data_format="NHWC"))


def test_pickle_round_trip(rng):
    w = rng.standard_normal((16, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    layer = cconv.Conv2d(w, b, stride=2, padding=(1, 0), groups=16, activation=("clamp", -1, 1),
                         padding_mode="reflect", data_format="NHWC", threads=1)
    x = rng.standard_normal((1, 14, 14, 16)).astype(np.float32)
    layer(x)
    layer(x)
    copy = pickle.loads(pickle.dumps(layer))
    assert repr(copy) == repr(layer)
    for _ in range(2):
        _assert_same(copy(x), layer(x))


def test_repr():
    layer = cconv.Conv2d(np.ones((8, 4, 1, 1), np.float32), None, 2, padding="same",
                         activation="relu6")
    assert repr(layer) == ("Conv2d(weight=(8, 4, 1, 1) float32, stride=2, padding='same', "
                           "activation='relu6')")


def test_one_object_on_several_threads(rng):
    """Threads calling one object at once (new shapes planning while others run packed) all get
    conv2d's results."""
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    cases = []
    for fmt in ["NHWC", "NCHW"]:
        for hw in [(12, 12), (9, 17), (20, 8)]:
            x = _input(rng, 16, hw, 1, fmt, np.float32)
            layer_args = dict(padding=1, activation="relu", data_format=fmt)
            cases.append((fmt, x, cconv.conv2d(x, w, b, **layer_args)))
    layers = {fmt: cconv.Conv2d(w, b, padding=1, activation="relu", data_format=fmt)
              for fmt in ["NHWC", "NCHW"]}
    failures = []
    start = threading.Barrier(4)

    def work(offset):
        start.wait()
        for i in range(60):
            fmt, x, expected = cases[(i + offset) % len(cases)]
            got = layers[fmt](x, threads=1 + i % 2)
            if not np.array_equal(got, expected):
                failures.append((offset, i))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not failures


def test_c_core_refuses_a_packing_for_another_layout(rng):
    """Packed weights carry their layout: a call that would pack differently gets an error,
    never a wrong result."""
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    x = rng.standard_normal((1, 12, 12, 8)).astype(np.float32).transpose(0, 3, 1, 2)
    out = np.empty((1, 12, 12, 16), np.float32).transpose(0, 3, 1, 2)
    geometry = (1, 1, 1, 1, 1, 1, 1, 1, 1)
    packed = _core.conv2d_pack(x, w, b, out, geometry, 1, _simd.ACTIVE)
    assert packed is not None and packed.nbytes >= w.nbytes + b.nbytes
    _CORE[np.dtype(np.float32)](x, w, b, out, geometry, 1, _simd.ACTIVE, packed=packed)
    expected = cconv.conv2d(x.transpose(0, 2, 3, 1), w, b, padding=1, data_format="NHWC")
    _assert_same(out.transpose(0, 2, 3, 1), expected)
    with pytest.raises(ValueError):  # packed with a bias, called without one
        _CORE[np.dtype(np.float32)](x, w, None, out, geometry, 1, _simd.ACTIVE, packed=packed)
    other = _core.conv2d_pack(x, np.ascontiguousarray(w[:, :, :, :1]), b, out,
                              (1, 1, 1, 1, 0, 0, 1, 1, 1), 1, _simd.ACTIVE)
    with pytest.raises(ValueError):  # packed for 3x1 kernels, called with 3x3 ones
        _CORE[np.dtype(np.float32)](x, w, b, out, geometry, 1, _simd.ACTIVE, packed=other)
    # Packed for one instruction set, called on another (CCONV_SIMD may have made the active
    # path the generic one).
    others = [_simd.path_index(p) for p in USABLE_PATHS if _simd.path_index(p) != _simd.ACTIVE]
    for other_path in others:
        with pytest.raises(ValueError):
            _CORE[np.dtype(np.float32)](x, w, b, out, geometry, 1, other_path, packed=packed)
    # Planar calls read the weights in place: nothing to pack.
    nchw = np.ones((1, 8, 10, 10), np.float32)
    assert _core.conv2d_pack(nchw, w, b, np.empty((1, 16, 10, 10), np.float32), geometry, 1,
                             _simd.ACTIVE) is None
    with pytest.raises(TypeError):
        pickle.dumps(packed)
