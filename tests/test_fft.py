"""The FFT path (method="fft", cconv/_fft.py) against the oracle and the direct path on every
configuration conv2d takes, against SciPy and OpenCV where installed, and method="auto"'s choice.

Border modes are also tested against cconv.pad + the zero-padding oracle, which shares no code with
the FFT path's gathering of the border."""

import numpy as np
import pytest

import cconv
from cconv import _method
from cconv._args import resolve, resolve_activation
from cconv._fft import conv2d_fft
from cconv._fft_backend import backend, next_fast_len
from cconv._fft_plan import FFTPlan, phase_axes
from cconv._pad import PADDING_MODES, pad
from cconv.oracle import conv2d_oracle
from conftest import assert_matches_oracle
from test_conv2d_correctness import CONFIGS

BACKENDS = ["numpy"] + (["scipy"] if backend().name == "scipy" else [])

# Big kernels on images larger than one tile (the plans below force several tiles), with every
# parameter that changes the recasting: (N, C, H, W, O, kH, kW, params).
BIG_CONFIGS = [
    (1, 1, 70, 83, 1, 15, 15, {"padding": "same"}),
    (2, 3, 61, 47, 3, 9, 13, {"padding": 4, "groups": 3}),                # depthwise (RGB)
    (1, 2, 50, 64, 6, 11, 11, {"padding": "same", "groups": 2}),          # multiplier 3
    (1, 3, 57, 66, 2, 7, 9, {"stride": 3, "padding": (3, 4)}),
    (1, 2, 59, 71, 3, 5, 6, {"stride": (2, 3), "dilation": (3, 2), "padding": ((9, 1), (0, 7))}),
    (2, 4, 40, 52, 4, 6, 5, {"dilation": 2, "padding": "same", "groups": 2}),
    (1, 16, 30, 30, 16, 5, 5, {"padding": 2}),                            # the matmul product
    (1, 1, 64, 40, 2, 17, 3, {"stride": (4, 1)}),
]


def _data(rng, n, c, h, w, o, kh, kw, params, dtype=np.float64):
    groups = params.get("groups", 1)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return x, wt, b


def _small_tiles(geom, tile=13, batch_chunk=1, workers=1):
    """A plan of many small tiles, so that tile edges, border blocks and chunks are tested."""
    rows, cols = phase_axes(geom)
    fft_h = next_fast_len(tile + rows.kernel - 1)
    fft_w = next_fast_len(tile + cols.kernel - 1)
    return FFTPlan(rows, cols, fft_h, fft_w, min(fft_h - rows.kernel + 1, geom.out_height),
                   min(fft_w - cols.kernel + 1, geom.out_width), batch_chunk, workers)


# ---------------------------------------------------------------- every configuration


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS + BIG_CONFIGS,
                         ids=[f"c{i}" for i in range(len(CONFIGS))] +
                         [f"big{i}" for i in range(len(BIG_CONFIGS))])
def test_matches_oracle(dtype, config, rng):
    n, c, h, w, o, kh, kw, params = config
    x, wt, b = _data(rng, n, c, h, w, o, kh, kw, params, dtype)
    for bias in (None, b):
        got = cconv.conv2d(x, wt, bias, method="fft", **params)
        assert got.dtype == dtype
        assert_matches_oracle(got, x, wt, bias, **params)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("config", BIG_CONFIGS, ids=[f"big{i}" for i in range(len(BIG_CONFIGS))])
def test_tiles_and_backends(name, config, rng):
    """Many small tiles, chunks of one image, two threads: the same as one whole tile."""
    n, c, h, w, o, kh, kw, params = config
    x, wt, b = _data(rng, n, c, h, w, o, kh, kw, params, np.float32)
    geom = resolve(x.shape, wt.shape, **params)
    lib = backend(name)
    whole = conv2d_fft(x, wt, b, geom, dtype=np.float32, backend=lib)
    assert_matches_oracle(whole, x, wt, b, **params)
    tiled = conv2d_fft(x, wt, b, geom, dtype=np.float32, backend=lib, plan=_small_tiles(geom))
    assert_matches_oracle(tiled, x, wt, b, **params)
    threaded = conv2d_fft(x, wt, b, geom, dtype=np.float32, backend=lib,
                          plan=_small_tiles(geom, workers=2))
    np.testing.assert_array_equal(threaded, tiled)  # the same bits at any thread count


def random_configs(rng, count):
    """(x, weight, bias or None, params) of `count` random configurations, each parameter drawn
    independently, as the direct path's tests draw them (benchmarks/fft_accuracy.py too)."""
    for _ in range(count):
        groups = int(rng.choice([1, 1, 2, 3]))
        c = groups * int(rng.integers(1, 4))
        o = groups * int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 9, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        span_h, span_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
        h = max(int(rng.integers(1, 40)), span_h)
        w = max(int(rng.integers(1, 40)), span_w)
        # A side pads at most the input plus the dilated kernel (conv2d refuses more).
        padding = tuple(tuple(int(rng.integers(0, min(5, limit + 1))) for _ in range(2))
                        for limit in (h + span_h, w + span_w))
        params = {"stride": stride, "dilation": dilation, "padding": padding, "groups": groups}
        x = rng.standard_normal((int(rng.integers(1, 3)), c, h, w))
        wt = rng.standard_normal((o, c // groups, kh, kw))
        b = rng.standard_normal(o) if rng.random() < 0.5 else None
        yield x, wt, b, params


def test_random_configurations():
    """60 random configurations, in float32 and float64."""
    rng = np.random.default_rng(11)
    for i, (x, wt, b, params) in enumerate(random_configs(rng, 60)):
        dtype = (np.float32, np.float64)[i % 2]
        x, wt = x.astype(dtype), wt.astype(dtype)
        b = None if b is None else b.astype(dtype)
        got = cconv.conv2d(x, wt, b, method="fft", **params)
        assert_matches_oracle(got, x, wt, b, **params)


# ---------------------------------------------------------------- border modes and layouts

MODE_PARAMS = [
    {"padding": 3},
    {"padding": "same", "dilation": 2},
    {"padding": ((5, 0), (1, 6)), "stride": (2, 3)},
    {"padding": ((13, 12), (12, 14)), "groups": 2},  # wider than the image: the pattern repeats
]


def _padded_reference(x, wt, b, mode, value, **params):
    """conv2d with a border mode = cconv.pad by that mode, then the zero-padding oracle."""
    geom = resolve(x.shape, wt.shape, **{k: v for k, v in params.items()})
    padded = pad(x, (geom.pad_left, geom.pad_right, geom.pad_top, geom.pad_bottom), mode,
                 value)
    return conv2d_oracle(padded, wt, b, **dict(params, padding=0))


@pytest.mark.parametrize("mode", list(PADDING_MODES))
@pytest.mark.parametrize("params", MODE_PARAMS, ids=[str(i) for i in range(len(MODE_PARAMS))])
def test_padding_modes(mode, params, rng):
    x = rng.standard_normal((2, 4, 9, 11))
    wt = rng.standard_normal((6, 4 // params.get("groups", 1), 4, 3))
    b = rng.standard_normal(6)
    value = 2.5 if mode == "zeros" else 0.0
    geom = resolve(x.shape, wt.shape, **params)
    want = _padded_reference(x, wt, b, mode, value, **params)
    got = conv2d_fft(x, wt, b, geom, mode, value)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    tiled = conv2d_fft(x, wt, b, geom, mode, value, plan=_small_tiles(geom, tile=3))
    np.testing.assert_allclose(tiled, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    public = cconv.conv2d(x, wt, b, padding_mode=mode, padding_value=value, method="fft",
                          **params)
    np.testing.assert_array_equal(public, got)


def test_padding_value_alone_in_the_window(rng):
    """Outputs whose window holds only the constant border are exactly value * sum(filter)."""
    x = rng.standard_normal((1, 2, 4, 5))
    wt = rng.standard_normal((3, 2, 2, 2))
    geom = resolve(x.shape, wt.shape, padding=((3, 4), (0, 3)))
    for value in (0.0, -1.5):
        got = conv2d_fft(x, wt, None, geom, "zeros", value)
        edge = value * wt.sum(axis=(1, 2, 3))
        np.testing.assert_array_equal(got[0, :, 0], np.repeat(edge[:, None], got.shape[3], 1))
        np.testing.assert_array_equal(got[0, :, -1], np.repeat(edge[:, None], got.shape[3], 1))


@pytest.mark.parametrize("params", [
    {"padding": "same", "groups": 3},
    {"padding": 3, "stride": (2, 1), "dilation": (1, 2), "groups": 3},
    {"padding": ((0, 9), (4, 2)), "stride": (2, 3), "dilation": (3, 2)},
])
def test_windows_of_zeros_are_exactly_zero(params, rng):
    """Where a window sees only zeros (the black part of a picture), the direct path gives
    exactly 0 and so does the FFT path (its rounding error would be relative to the bright
    part): within the tests' bound everywhere."""
    x = rng.integers(1, 256, (2, 3, 70, 60)).astype(np.float32)
    x[:, :, :, :25] = 0
    x[0, 1, 30:60, :] = 0
    groups = params.get("groups", 1)
    w = rng.random((3, 3 // groups, 7, 9)).astype(np.float32)
    geom = resolve(x.shape, w.shape, **params)
    got = conv2d_fft(x, w, None, geom, dtype=np.float32, plan=_small_tiles(geom, tile=17))
    assert_matches_oracle(got, x, w, **params)
    assert (got == 0).sum() > 100


@pytest.mark.parametrize("batched", [True, False])
def test_channels_last(batched, rng):
    """An (N, H, W, C) array through its NCHW-ordered view, output written channels-last, the
    same values as the NCHW input gives."""
    x = rng.standard_normal((2, 13, 17, 3)).astype(np.float32)
    wt = rng.standard_normal((6, 1, 5, 5)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    params = dict(stride=2, padding="same", groups=3)
    nchw = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    want = cconv.conv2d(nchw, wt, b, method="fft", padding_mode="reflect", **params)
    geom = resolve(nchw.shape, wt.shape, **params)
    out = np.empty((2, geom.out_height, geom.out_width, 6), np.float32)
    conv2d_fft(np.moveaxis(x, -1, 1), wt, b, geom, "reflect", 0.0, np.float32,
               out=np.moveaxis(out, -1, 1))
    np.testing.assert_array_equal(np.moveaxis(out, -1, 1), want)
    arg = x if batched else x[0]
    got = cconv.conv2d(arg, wt, b, method="fft", padding_mode="reflect", data_format="NHWC",
                       **params)
    np.testing.assert_array_equal(got, out if batched else out[0])
    assert got.flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.bool_, np.float16])
def test_integer_and_small_inputs(dtype, rng):
    """Integer, bool and float16 images are converted a tile at a time, in the dtype given."""
    x = (rng.integers(0, 2 if dtype == np.bool_ else 200, (1, 3, 40, 30))).astype(dtype)
    wt = rng.random((3, 1, 9, 9)).astype(np.float32)
    geom = resolve(x.shape, wt.shape, padding="same", groups=3)
    got = conv2d_fft(x, wt, None, geom, "replicate", dtype=np.float32,
                     plan=_small_tiles(geom, tile=11))
    assert got.dtype == np.float32
    want = _padded_reference(x.astype(np.float64), wt, None, "replicate", 0.0, padding="same",
                             groups=3)
    assert_close_to_bound(got, want, x, wt, 1e-4, padding="same", groups=3)
    public = cconv.conv2d(x, wt, padding="same", groups=3, method="fft")
    assert public.dtype == np.float32  # NumPy's promotion with the float32 weight
    assert_matches_oracle(public, x, wt, padding="same", groups=3)
    direct = cconv.conv2d(x, wt, padding="same", groups=3, method="direct")
    assert direct.dtype == public.dtype
    assert_matches_oracle(direct, x, wt, padding="same", groups=3)


def assert_close_to_bound(got, want, x, wt, rtol, **params):
    bound = conv2d_oracle(np.abs(x.astype(np.float64)), np.abs(wt), **params)
    assert np.all(np.abs(got - want) <= rtol * bound)


# ---------------------------------------------------------------- output stage, out=, shapes


@pytest.mark.parametrize("activation", [None, "relu", ("leaky_relu", 0.2), ("clamp", -1, 2)])
def test_output_stage(activation, rng):
    x, wt, b = _data(rng, 2, 4, 30, 25, 6, 7, 7, {"groups": 2})
    params = dict(padding=3, groups=2)
    geom = resolve(x.shape, wt.shape, **params)
    residual = rng.standard_normal(geom.out_shape)
    got = cconv.conv2d(x, wt, b, activation=activation, residual=residual, method="fft",
                       **params)
    assert_matches_oracle(got, x, wt, b, activation=activation, residual=residual, **params)
    tiled = conv2d_fft(x, wt, b, geom, residual=residual, stage=resolve_activation(activation),
                       plan=_small_tiles(geom, tile=7))
    np.testing.assert_allclose(tiled, got, rtol=1e-12, atol=1e-12)


def test_out_and_unbatched(rng):
    x, wt, b = _data(rng, 1, 3, 21, 19, 4, 5, 5, {}, np.float32)
    out = np.full((4, 21, 19), np.nan, np.float32)
    got = cconv.conv2d(x[0], wt, b, padding=2, out=out, method="fft")
    assert got is out
    assert_matches_oracle(out, x[0], wt, b, padding=2)
    batched = cconv.conv2d(x, wt, b, padding=2, method="fft")
    np.testing.assert_array_equal(batched[0], out)
    # out= overlapping the input, and residual= the out= array itself.
    square = rng.standard_normal((1, 4, 10, 10))
    w4 = rng.standard_normal((4, 4, 3, 3))
    want = conv2d_oracle(square, w4, padding=1, residual=square)
    cconv.conv2d(square, w4, padding=1, residual=square, out=square, method="fft")
    np.testing.assert_allclose(square, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,wshape,params", [
    ((0, 3, 8, 8), (2, 3, 3, 3), {}),
    ((1, 3, 8, 8), (0, 3, 3, 3), {}),
    ((1, 0, 8, 8), (2, 0, 3, 3), {"padding": 1}),
    ((1, 2, 0, 5), (2, 2, 3, 3), {"padding": 3}),
])
def test_empty_sizes(shape, wshape, params, rng):
    x = rng.standard_normal(shape)
    wt = rng.standard_normal(wshape)
    b = rng.standard_normal(wshape[0])
    got = cconv.conv2d(x, wt, b, method="fft", **params)
    np.testing.assert_array_equal(got, cconv.conv2d(x, wt, b, method="direct", **params))
    if shape[2] == 0:  # a constant border fills what padding alone makes
        geom = resolve(shape, wshape, **params)
        filled = conv2d_fft(x, wt, b, geom, "zeros", 2.0)
        np.testing.assert_allclose(filled, 2.0 * wt.sum(axis=(1, 2, 3))[None, :, None, None]
                                   + b[None, :, None, None] + 0 * filled)
        with pytest.raises(ValueError, match="cannot pad an empty input height"):
            conv2d_fft(x, wt, b, geom, "reflect")


# ---------------------------------------------------------------- other libraries


def _odd_kernel_same(k):
    return (k - 1) // 2


def test_against_scipy_signal(rng):
    signal = pytest.importorskip("scipy.signal")
    image = rng.random((90, 110))
    kernel = rng.standard_normal((21, 15))
    want = signal.correlate2d(image, kernel, mode="same")  # the direct sums
    got = cconv.conv2d(image[None], kernel[None, None], padding="same", method="fft")[0]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # fftconvolve flips the kernel: conv2d is correlation, so flip it back.
    want = signal.fftconvolve(image, kernel[::-1, ::-1], mode="valid")
    got = cconv.conv2d(image[None], kernel[None, None], method="fft")[0]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode,scipy_mode", [("zeros", "constant"), ("reflect", "mirror"),
                                             ("symmetric", "reflect"), ("replicate", "nearest"),
                                             ("circular", "wrap")])
def test_against_scipy_ndimage(mode, scipy_mode, rng):
    ndimage = pytest.importorskip("scipy.ndimage")
    image = rng.random((37, 52))
    kernel = rng.standard_normal((9, 12))  # even width: the anchor is at k // 2
    want = ndimage.correlate(image, kernel, mode=scipy_mode)
    padding = ((4, 4), (6, 5))
    got = cconv.conv2d(image[None], kernel[None, None], padding=padding, padding_mode=mode,
                       method="fft")[0]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode,border", [("zeros", "BORDER_CONSTANT"),
                                         ("reflect", "BORDER_REFLECT_101"),
                                         ("symmetric", "BORDER_REFLECT"),
                                         ("replicate", "BORDER_REPLICATE")])
def test_against_opencv_filter2d(mode, border, rng):
    """filter2D is a correlation too; its anchor is the kernel centre, (k // 2) pixels of
    border before; it has no wrap-around border (BORDER_WRAP is refused)."""
    cv2 = pytest.importorskip("cv2")
    kernel = rng.standard_normal((17, 16)).astype(np.float32)
    padding = ((8, 8), (8, 7))
    gray = rng.random((80, 95)).astype(np.float32)
    want = cv2.filter2D(gray, -1, kernel, borderType=getattr(cv2, border))
    got = cconv.conv2d(gray[None], kernel[None, None], padding=padding, padding_mode=mode,
                       method="fft")[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5 * np.abs(want).max())
    # An RGB picture as people hold it, (H, W, 3) uint8: filter2D filters each channel with
    # the same kernel, which is a depthwise conv2d with groups=3, channels-last.
    rgb = rng.integers(0, 256, (60, 70, 3), dtype=np.uint8)
    want = cv2.filter2D(rgb, cv2.CV_32F, kernel, borderType=getattr(cv2, border))
    weight = np.repeat(kernel[None, None], 3, axis=0)
    got = cconv.conv2d(rgb, weight, padding=padding, padding_mode=mode, groups=3,
                       data_format="NHWC", method="fft")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5 * np.abs(want).max())


# ---------------------------------------------------------------- method="auto"


def test_auto_picks_fft_for_a_big_kernel_and_direct_for_3x3():
    lib = backend()
    big = resolve((1, 1, 2048, 2048), (1, 1, 63, 63), padding="same")
    assert _method.choose(big, np.float32, 1, lib) == "fft"
    assert _method.choose(big, np.float64, 2, lib) == "fft"
    layer = resolve((1, 64, 56, 56), (64, 64, 3, 3), padding=1)
    for dtype in (np.float32, np.float64):
        for threads in (1, 2):
            assert _method.choose(layer, dtype, threads, lib) == "direct"
    depthwise = resolve((1, 32, 112, 112), (32, 1, 3, 3), padding=1, groups=32)
    assert _method.choose(depthwise, np.float32, 1, lib) == "direct"


def test_auto_runs_the_fft(rng):
    """conv2d's "auto" gives the FFT path's bits where the model picks it, the direct path's
    where it does not."""
    x = rng.random((1, 1, 512, 512)).astype(np.float32)
    w = rng.random((1, 1, 63, 63)).astype(np.float32)
    geom = resolve(x.shape, w.shape, padding="same")
    assert _method.choose(geom, np.float32, 1, backend()) == "fft"
    auto = cconv.conv2d(x, w, padding="same", threads=1)
    np.testing.assert_array_equal(auto, cconv.conv2d(x, w, padding="same", threads=1,
                                                     method="fft"))
    small = rng.random((1, 3, 16, 16)).astype(np.float32)
    w3 = rng.random((4, 3, 3, 3)).astype(np.float32)
    np.testing.assert_array_equal(cconv.conv2d(small, w3, padding=1),
                                  cconv.conv2d(small, w3, padding=1, method="direct"))


def test_auto_keeps_nan_local(rng):
    """A NaN would turn a whole FFT tile into NaN: "auto" takes the direct path, where it stays
    in the windows that see it; explicit "fft" spreads it, as documented."""
    x = rng.random((1, 1, 512, 512)).astype(np.float32)
    x[0, 0, 10, 10] = np.nan
    w = rng.random((1, 1, 63, 63)).astype(np.float32)
    assert _method.choose(resolve(x.shape, w.shape, padding="same"), np.float32, 1,
                          backend()) == "fft"
    auto = cconv.conv2d(x, w, padding="same", threads=1)
    assert np.isnan(auto).sum() == 42 * 42  # outputs within 31 pixels of it, up to the edge
    assert np.isnan(cconv.conv2d(x, w, padding="same", method="fft")).sum() > 63 * 63


def test_auto_respects_the_error_limit(monkeypatch):
    """Where the float32 FFT's estimated error passes the tests' tolerance, "auto" keeps the
    direct path."""
    big = resolve((1, 1, 2048, 2048), (1, 1, 63, 63), padding="same")
    assert _method.choose(big, np.float32, 1, backend()) == "fft"
    monkeypatch.setattr(_method, "FLOAT32_ERROR_PER_LOG2", 2e-6)
    assert _method.choose(big, np.float32, 1, backend()) == "direct"
    assert _method.choose(big, np.float64, 1, backend()) == "fft"


@pytest.mark.parametrize("method", ["FFT", "", None, 1, "overlap-add"])
def test_bad_method(method):
    with pytest.raises(ValueError, match="method must be one of 'auto', 'direct', 'fft'"):
        cconv.conv2d(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), method=method)


@pytest.mark.parametrize("data_format", ["NCHW", "NHWC"])
@pytest.mark.parametrize("mode", list(PADDING_MODES))
@pytest.mark.parametrize("in_dtype", [np.float32, np.float64, np.uint8, np.int16])
def test_fft_and_direct_on_every_option(in_dtype, mode, data_format, rng):
    """Every option conv2d takes, on both paths at once: each border mode (zeros with a
    constant), both layouts, integer images, bias, residual, activation and out=.  Both within
    the tests' bound of the oracle, with the same dtype, shape and layout."""
    params = dict(stride=(2, 1), padding=((4, 2), (3, 5)), dilation=(1, 2), groups=2)
    n, c, h, w, o = 2, 4, 19, 23, 6
    shape = (n, c, h, w) if data_format == "NCHW" else (n, h, w, c)
    if in_dtype == np.uint8:
        x = rng.integers(0, 256, shape).astype(np.uint8)
    elif in_dtype == np.int16:
        x = rng.integers(-300, 300, shape).astype(np.int16)
    else:
        x = rng.standard_normal(shape).astype(in_dtype)
    dtype = np.dtype(np.float64 if in_dtype == np.float64 else np.float32)
    wt = rng.standard_normal((o, c // 2, 5, 4)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    opts = dict(params, padding_mode=mode, padding_value=-1.5 if mode == "zeros" else 0.0,
                data_format=data_format)
    out_shape = cconv.conv2d_output_shape(x.shape, wt.shape, **params, data_format=data_format)
    residual = rng.standard_normal(out_shape).astype(dtype)
    stage = dict(activation=("leaky_relu", 0.1), residual=residual)
    for method in ("direct", "fft"):
        out = np.full(out_shape, np.nan, dtype)
        got = cconv.conv2d(x, wt, b, out=out, method=method, **stage, **opts)
        assert got is out
        assert_matches_oracle(got, x, wt, b, **stage, **opts)
    fft = cconv.conv2d(x, wt, b, method="fft", **opts)
    direct = cconv.conv2d(x, wt, b, method="direct", **opts)
    assert fft.dtype == direct.dtype == dtype
    assert fft.shape == direct.shape == out_shape
    assert fft.flags.c_contiguous and direct.flags.c_contiguous
    assert_matches_oracle(fft, x, wt, b, **opts)
    assert_matches_oracle(direct, x, wt, b, **opts)


def test_repeated_calls_keep_the_method(rng):
    """conv2d's repeated-call cache replays direct-path plans only, and never across methods:
    "fft" computes by FFT after an "auto" call cached the direct path for the same shapes, and
    "auto" takes the FFT after "direct" calls cached it for shapes where the model picks FFT."""
    small = rng.random((1, 3, 16, 16)).astype(np.float32)
    w3 = rng.random((4, 3, 3, 3)).astype(np.float32)
    geom = resolve(small.shape, w3.shape, padding=1)
    by_fft = conv2d_fft(small, w3, None, geom, dtype=np.float32, threads=1)
    for method in ("auto", "auto", "fft", "fft"):
        got = cconv.conv2d(small, w3, padding=1, threads=1, method=method)
        if method == "fft":
            np.testing.assert_array_equal(got, by_fft)
        else:
            np.testing.assert_array_equal(got, cconv.conv2d(small, w3, padding=1, threads=1,
                                                            method="direct"))
    x = rng.random((1, 1, 512, 512)).astype(np.float32)
    w = rng.random((1, 1, 63, 63)).astype(np.float32)
    assert _method.choose(resolve(x.shape, w.shape, padding="same"), np.float32, 1,
                          backend()) == "fft"
    for _ in range(2):
        cconv.conv2d(x, w, padding="same", threads=1, method="direct")
    np.testing.assert_array_equal(cconv.conv2d(x, w, padding="same", threads=1),
                                  cconv.conv2d(x, w, padding="same", threads=1, method="fft"))


def test_next_fast_len():
    """The smallest length >= n of the form 2**k, 3 * 2**k, 5 * 2**k or 15 * 2**k."""
    fast = sorted({m * 2**k for m in (1, 3, 5, 15) for k in range(14)})
    for n in range(9, 5000):
        assert next_fast_len(n) == next(f for f in fast if f >= n)
    assert [next_fast_len(n) for n in (1, 5, 7, 8)] == [1, 5, 7, 8]
