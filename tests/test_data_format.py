"""data_format="NHWC": channels-last input, output, residual and out=, on every path (each SIMD
path and the C reference), against the oracle; and the same numbers as the NCHW path."""

import numpy as np
import pytest

import cconv
from conftest import IMPLEMENTATIONS, assert_matches_oracle, run_impl

# (input NCHW shape, weight shape, parameters): pointwise, 3x3, strided, dilated, grouped with
# few and many filters per group, depthwise with and without a multiplier, one input channel,
# one output channel, channel counts around the vector lengths, a first layer (7x7 s2, C=3),
# a small-spatial layer with many channels, and output rows shorter than a tile.
CASES = [
    ((2, 16, 9, 10), (24, 16, 1, 1), dict()),
    ((1, 32, 14, 14), (64, 32, 1, 1), dict(stride=2)),
    ((2, 8, 11, 13), (20, 8, 3, 3), dict(padding=1)),
    ((1, 3, 23, 21), (16, 3, 7, 7), dict(stride=2, padding=3)),
    ((1, 12, 10, 9), (12, 4, 3, 3), dict(padding=1, groups=3)),
    ((1, 64, 7, 7), (72, 64, 3, 3), dict(padding=1)),
    ((1, 40, 12, 12), (40, 1, 3, 3), dict(padding=1, groups=40)),
    ((2, 33, 9, 8), (33, 1, 3, 3), dict(stride=2, padding=1, groups=33)),
    ((1, 16, 8, 9), (32, 1, 5, 5), dict(padding=2, groups=16)),
    ((1, 1, 17, 30), (5, 1, 3, 3), dict(padding="same")),
    ((1, 6, 10, 11), (1, 6, 3, 2), dict(dilation=(2, 3), padding=(2, 1))),
    ((3, 17, 5, 4), (9, 17, 2, 3), dict(stride=(2, 1), padding=((1, 0), (0, 2)))),
    ((1, 48, 6, 40), (48, 48, 3, 3), dict(padding=1, padding_mode="reflect")),
    ((1, 8, 3, 3), (16, 8, 3, 3), dict(padding=1)),
    # Depthwise read in place (channels a multiple of every vector length): 3x3 at stride 1
    # and 2 (the 3-column kernels), 5x5, with padding (gathered border tiles) and without.
    ((1, 48, 10, 9), (48, 1, 3, 3), dict(padding=1, groups=48)),
    ((2, 32, 11, 12), (32, 1, 3, 3), dict(stride=2, padding=1, groups=32)),
    ((1, 32, 9, 10), (32, 1, 5, 5), dict(padding=2, groups=32, padding_mode="circular")),
    ((1, 64, 9, 17), (64, 1, 3, 3), dict(stride=(2, 1), groups=64)),
]


def _nhwc(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_channels_last_matches_the_oracle(impl, case, dtype, rng):
    x_shape, w_shape, params = CASES[case]
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    xh = _nhwc(x)
    for threads in (1, 3):
        got = run_impl(impl, xh, w, b, threads=threads, data_format="NHWC", **params)
        assert got.dtype == dtype and got.flags.c_contiguous
        assert_matches_oracle(got, xh, w, b, data_format="NHWC", **params)
    # Unbatched (H, W, C) too.
    got = run_impl(impl, xh[0], w, b, data_format="NHWC", **params)
    assert_matches_oracle(got, xh[0], w, b, data_format="NHWC", **params)
    # And the same numbers as channels first, up to rounding (the dense channels-last kernels
    # sum taps outside channels, the planar ones the other way round).
    nchw = run_impl(impl, x, w, b, **params)
    scale = np.abs(nchw).max()
    np.testing.assert_allclose(np.moveaxis(run_impl(impl, xh, w, b, data_format="NHWC",
                                                    **params), -1, 1), nchw, rtol=0,
                               atol=(1e-5 if dtype == np.float32 else 1e-13) * scale)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_channels_last_output_stage_and_out(impl, rng):
    x = rng.standard_normal((2, 9, 10, 16))
    w = rng.standard_normal((24, 16, 3, 3))
    b = rng.standard_normal(24)
    r = rng.standard_normal((2, 9, 10, 24))
    for activation in ("relu", ("leaky_relu", 0.2), ("clamp", -1.0, 2.0)):
        out = np.full((2, 9, 10, 24), np.nan)
        got = run_impl(impl, x, w, b, padding=1, data_format="NHWC", activation=activation,
                       residual=r, out=out)
        assert got is out
        assert_matches_oracle(got, x, w, b, padding=1, data_format="NHWC",
                              activation=activation, residual=r)
    # A residual in another layout (channels first, transposed view) is converted.
    got = run_impl(impl, x, w, b, padding=1, data_format="NHWC", residual=np.asfortranarray(r))
    assert_matches_oracle(got, x, w, b, padding=1, data_format="NHWC", residual=r)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_channels_last_views_are_read_in_place(impl, rng):
    """A crop, a reversed image and a broadcast channel axis, all read through their strides."""
    image = rng.standard_normal((1, 40, 50, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    for view in (image[:, 5:30, 7:40], image[:, ::-1, ::2], image[:, ::3, :, :1].repeat(8, -1),
                 np.broadcast_to(image[:, :20, :20, :1], (1, 20, 20, 8))):
        got = run_impl(impl, view, w, padding=1, data_format="NHWC")
        assert_matches_oracle(got, view, w, padding=1, data_format="NHWC")


def test_channels_last_shapes_and_messages():
    image = np.zeros((1080, 1920, 3), np.uint8)
    box = np.full((3, 1, 5, 5), 1 / 25, np.float32)
    assert cconv.conv2d_output_shape(image.shape, box.shape, padding=2, groups=3,
                                     data_format="NHWC") == (1080, 1920, 3)
    assert cconv.conv2d_output_shape((2, 8, 8, 3), (4, 3, 3, 3), stride=2,
                                     data_format="NHWC") == (2, 3, 3, 4)
    with pytest.raises(ValueError, match=r"input must be 4-D \(N, H, W, C\) or 3-D \(H, W, C\) "
                                         r"with data_format='NHWC', got 2-D"):
        cconv.conv2d(np.zeros((5, 5)), box, data_format="NHWC")
    with pytest.raises(ValueError, match=r"input has 3 channels, which groups=2 does not "
                                         r"divide"):
        cconv.conv2d(np.zeros((5, 5, 3)), np.zeros((2, 1, 3, 3)), groups=2, data_format="NHWC")
    with pytest.raises(ValueError, match=r"data_format must be 'NCHW' or 'NHWC', got 'HWC'"):
        cconv.conv2d(image, box, data_format="HWC")
    with pytest.raises(ValueError, match=r"out has shape \(3, 1076, 1916\), but the result has "
                                         r"shape \(1076, 1916, 3\)"):
        cconv.conv2d(image, box, groups=3, data_format="NHWC",
                     out=np.zeros((3, 1076, 1916), np.float32))


def test_cached_channels_last_calls_replay(rng):
    x = rng.standard_normal((1, 12, 12, 8)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    first = cconv.conv2d(x, w, padding=1, data_format="NHWC", padding_mode="reflect")
    again = cconv.conv2d(x, w, padding=1, data_format="NHWC", padding_mode="reflect")
    np.testing.assert_array_equal(first, again)
    assert_matches_oracle(again, x, w, padding=1, data_format="NHWC", padding_mode="reflect")
    # The same shapes in the other layout or another border are other plans.
    other = cconv.conv2d(x[0].transpose(2, 0, 1).copy(), w, padding=1)
    assert other.shape == (8, 12, 12)


def _kernels(impl, x4, w_shape, out4, params):
    """Which kernels conv2d runs for these NCHW-ordered views (see cconv_conv2d_kernels_used)."""
    from cconv import _core, _simd
    from cconv._args import resolve
    g = resolve(x4.shape, w_shape, params.get("stride", 1), params.get("padding", 0),
                params.get("dilation", 1), params.get("groups", 1))
    simd = _simd.ACTIVE if impl == "reference" else _simd.path_index(impl)
    return _core.kernels_used(x4, w_shape, out4, g.core_tuple, simd, x4.itemsize)


@pytest.mark.parametrize("impl", [p for p in IMPLEMENTATIONS if p.values[0] != "reference"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_the_cases_reach_every_channels_last_kernel(impl, dtype):
    """The cases above run the dense and the depthwise channels-last kernels (and the planar
    ones for layers that suit those better) on every SIMD path."""
    from cconv import _args
    used = set()
    for x_shape, w_shape, params in CASES:
        x4 = np.zeros((x_shape[0],) + x_shape[2:] + (x_shape[1],), dtype).transpose(0, 3, 1, 2)
        g = _args.resolve(x4.shape, w_shape, params.get("stride", 1), params.get("padding", 0),
                          params.get("dilation", 1), params.get("groups", 1))
        out = np.zeros((g.batch, g.out_height, g.out_width, g.out_channels),
                       dtype).transpose(0, 3, 1, 2)
        used.add(_kernels(impl, x4, w_shape, out, params))
    assert {"channels-last", "channels-last depthwise", "planar"} <= used, used


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_mixed_layouts_in_the_core(impl, dtype, rng):
    """The C core takes any input and output strides: channels-last input into a channels-first
    output and the other way round, through the tile buffer, with the output stage (residual
    laid out as the output)."""
    from cconv import _core, _simd
    from cconv._args import resolve
    core = _core.conv2d_f32 if dtype == np.float32 else _core.conv2d_f64
    simd = _simd.ACTIVE if impl == "reference" else _simd.path_index(impl)
    for x_shape, w_shape, params in [((2, 16, 12, 13), (40, 16, 3, 3), dict(padding=1)),
                                     ((1, 48, 12, 11), (48, 1, 3, 3), dict(padding=1,
                                                                           groups=48))]:
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        g = resolve(x_shape, w_shape, **params)
        want = cconv.oracle.conv2d_oracle(x, w, b, activation="relu", **params)
        for x_view, channels_last_out in ((np.ascontiguousarray(np.moveaxis(x, 1, -1))
                                           .transpose(0, 3, 1, 2), False), (x, True)):
            out = np.full(g.out_shape, np.nan, dtype)
            if channels_last_out:
                out = np.full((g.batch, g.out_height, g.out_width, g.out_channels), np.nan,
                              dtype).transpose(0, 3, 1, 2)
            residual = np.zeros_like(out)
            core(x_view, w, b, out, g.core_tuple, 2, simd, impl == "reference", residual,
                 (1, 0.0, 0.0))
            np.testing.assert_allclose(out, want, rtol=1e-4 if dtype == np.float32 else 1e-12,
                                       atol=1e-4 if dtype == np.float32 else 1e-12)
