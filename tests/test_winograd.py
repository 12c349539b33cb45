"""The Winograd path (cconv/_winograd.py, src_c/conv/conv2d_winograd.c): F(2x2, 3x3) and
F(4x4, 3x3), float32 and float64, on every usable SIMD path, against the oracle and the direct
path.

Shapes sweep output sizes just below, at and above multiples of each tile (the last tile row and
column reach past the output), odd sizes, batches whose tiles run on across images inside one
segment, channels from 1 to 300 (lane blocks of 16 / 8 with remainders; several micro-kernel
column blocks), padding 0, 1 and asymmetric, and bias; the output is pre-filled with NaN so that
an element the path forgets to write is caught.  Thread counts give bitwise identical results.
"""

import numpy as np
import pytest

from cconv import _core, _simd
from cconv._args import resolve
from cconv._winograd import (accurate, conv2d_winograd, supported, winograd_suits)
from conftest import USABLE_PATHS, assert_matches_oracle, run_impl

TILES = (2, 4)
DTYPES = (np.float32, np.float64)
PATHS = [pytest.param(name, id=name) for name in USABLE_PATHS]

# (N, C, H, W, O, padding, bias, what it reaches)
SHAPES = [
    (1, 1, 3, 3, 1, 0, False, "one output, one channel"),
    (1, 3, 4, 5, 2, 1, True, "outputs 4x5: one F4 tile row, a partial column"),
    (1, 5, 7, 7, 6, 1, True, "7x7: F2 4x4 tiles, F4 2x2, both partial"),
    (2, 4, 8, 8, 5, 1, False, "8x8: whole tiles of both, batch 2"),
    (1, 7, 9, 9, 9, 1, True, "9x9: one past a whole tile"),
    (3, 6, 6, 11, 4, 0, True, "valid, 4x9 outputs, batch 3 (segments across images)"),
    (1, 17, 13, 10, 19, ((2, 0), (0, 1)), True, "asymmetric padding, 17 channels"),
    (2, 33, 15, 17, 40, 1, True, "odd sizes, channel and filter remainders"),
    (1, 64, 14, 14, 64, 1, False, "ResNet l3-like, small"),
    (1, 300, 6, 7, 70, 1, True, "300 channels: several lane blocks"),
    (1, 16, 30, 31, 24, 1, True, "several segments per image"),
]
SHAPE_IDS = [s[-1] for s in SHAPES]


def _arrays(rng, shape, dtype):
    n, c, h, w, o, padding, with_bias, _ = shape
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype) if with_bias else None
    return x, wt, b, padding


def _nan_out(x, wt, padding, dtype, groups=1):
    geom = resolve(x.shape, wt.shape, 1, padding, 1, groups)
    return np.full(geom.out_shape, np.nan, dtype)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("tile", TILES, ids=["F2", "F4"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_matches_oracle_and_direct(shape, tile, dtype, path, rng):
    x, wt, b, padding = _arrays(rng, shape, dtype)
    out = _nan_out(x, wt, padding, dtype)
    simd = _simd.path_index(path)
    y = conv2d_winograd(x, wt, b, padding=padding, tile=tile, out=out, simd=simd, threads=1)
    assert y is out
    assert not np.isnan(y).any(), "an output element was not written"
    assert_matches_oracle(y, x, wt, b, padding=padding)
    direct = run_impl(path, x, wt, b, padding=padding, threads=1)
    scale = np.abs(direct).max()
    limit = (1e-4 if dtype == np.float32 else 1e-12) * max(scale, 1.0)
    assert np.abs(y - direct).max() <= limit


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("tile", TILES, ids=["F2", "F4"])
def test_threads_bitwise(tile, dtype, rng):
    # Enough tiles and channels that 2 and 3 threads split both phases several ways.
    x = rng.standard_normal((2, 40, 23, 21)).astype(dtype)
    wt = rng.standard_normal((72, 40, 3, 3)).astype(dtype)
    b = rng.standard_normal(72).astype(dtype)
    one = conv2d_winograd(x, wt, b, padding=1, tile=tile, threads=1)
    for threads in (2, 3, 7):
        many = conv2d_winograd(x, wt, b, padding=1, tile=tile, threads=threads)
        assert np.array_equal(one, many), f"threads={threads} differs from threads=1"


@pytest.mark.parametrize("tile", TILES, ids=["F2", "F4"])
def test_threads_bitwise_small_image_many_channels(tile, rng):
    # ResNet l4's shape, smaller: few tiles, so the threads split output channels instead.
    x = rng.standard_normal((1, 96, 7, 7)).astype(np.float32)
    wt = rng.standard_normal((160, 96, 3, 3)).astype(np.float32)
    one = conv2d_winograd(x, wt, padding=1, tile=tile, threads=1)
    two = conv2d_winograd(x, wt, padding=1, tile=tile, threads=2)
    assert np.array_equal(one, two)
    assert_matches_oracle(one, x, wt, padding=1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("tile", TILES, ids=["F2", "F4"])
@pytest.mark.parametrize("params", [
    {"groups": 2}, {"groups": 6}, {"padding_mode": "reflect"}, {"padding_mode": "replicate"},
    {"padding_mode": "circular"}, {"padding_mode": "symmetric"}, {"padding_value": 0.5},
    {"activation": "relu"}, {"activation": ("clamp", -1.0, 2.0)}, {"residual": True},
    {"padding": 2}, {"padding": ((0, 2), (3, 1))},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_conv2d_options(params, tile, dtype, rng):
    params = dict(params)
    groups = params.get("groups", 1)
    padding = params.pop("padding", 1)
    x = rng.standard_normal((2, 12, 11, 10)).astype(dtype)
    wt = rng.standard_normal((18, 12 // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(18).astype(dtype)
    if params.pop("residual", False):
        geom = resolve(x.shape, wt.shape, 1, padding, 1, groups)
        params["residual"] = rng.standard_normal(geom.out_shape).astype(dtype)
    out = _nan_out(x, wt, padding, dtype, groups)
    y = conv2d_winograd(x, wt, b, padding=padding, tile=tile, out=out, **params)
    assert not np.isnan(y).any()
    assert_matches_oracle(y, x, wt, b, padding=padding, **params)


@pytest.mark.parametrize("tile", TILES, ids=["F2", "F4"])
def test_input_views_and_integer_images(tile, rng):
    base = rng.standard_normal((2, 9, 14, 26)).astype(np.float32)
    x = base[:, ::2, 1:, ::2]  # strided view, read in place
    wt = rng.standard_normal((5, x.shape[1], 3, 3)).astype(np.float32)
    assert_matches_oracle(conv2d_winograd(x, wt, padding=1, tile=tile), x, wt, padding=1)
    u8 = rng.integers(0, 256, (1, 3, 10, 12), dtype=np.uint8)
    w3 = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y = conv2d_winograd(u8, w3, padding=1, tile=tile)
    assert y.dtype == np.float32
    assert_matches_oracle(y, u8, w3, padding=1)
    chw = conv2d_winograd(base[0], wt[:, :1].repeat(9, 1), padding=1, tile=tile)
    assert chw.ndim == 3


@pytest.mark.parametrize("tile", TILES, ids=["F2", "F4"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_nonfinite_values_fall_back_to_direct(bad, tile, rng):
    # An infinity mixed into a tile by the transforms would turn outputs that never see it into
    # NaN; the whole call then runs on the direct path, with its results.
    x = rng.standard_normal((1, 5, 12, 12)).astype(np.float32)
    wt = rng.standard_normal((6, 5, 3, 3)).astype(np.float32)
    x[0, 2, 1, 1] = bad
    y = conv2d_winograd(x, wt, padding=1, tile=tile)
    direct = run_impl(_simd.ACTIVE_NAME, x, wt, padding=1)
    np.testing.assert_array_equal(y, direct)
    wt2 = rng.standard_normal((6, 5, 3, 3)).astype(np.float32)
    wt2[3, 1, 2, 0] = bad
    x2 = rng.standard_normal((1, 5, 12, 12)).astype(np.float32)
    np.testing.assert_array_equal(conv2d_winograd(x2, wt2, padding=1, tile=tile),
                                  run_impl(_simd.ACTIVE_NAME, x2, wt2, padding=1))


def test_refuses_other_kernels():
    x = np.zeros((1, 2, 8, 8), np.float32)
    for wshape, params in [((2, 2, 5, 5), {}), ((2, 2, 3, 3), {"stride": 2}),
                           ((2, 2, 3, 3), {"dilation": 2}), ((2, 2, 1, 1), {})]:
        with pytest.raises(ValueError):
            conv2d_winograd(x, np.zeros(wshape, np.float32), **params)
    with pytest.raises(ValueError):
        conv2d_winograd(x, np.zeros((2, 2, 3, 3), np.float32), tile=3)


@pytest.mark.parametrize("threads", [1, 2, 64])
@pytest.mark.parametrize("tile", TILES, ids=["F2", "F4"])
@pytest.mark.parametrize("layer", [(1, 512, 7, 512), (1, 64, 56, 64), (8, 256, 14, 256),
                                   (1, 3, 224, 64), (1, 1024, 14, 1024)])
def test_workspace_within_memory_cap(layer, tile, threads):
    n, c, hw, o = layer
    for dtype in DTYPES:
        itemsize = np.dtype(dtype).itemsize
        geom = resolve((n, c, hw, hw), (o, c, 3, 3), 1, 1, 1, 1)
        got = _core.winograd_workspace_bytes((n, c, hw, hw), (o, c, 3, 3), geom.out_shape,
                                             geom.core_tuple, threads, _simd.ACTIVE, itemsize,
                                             tile)
        cap = max(8 << 20, n * o * hw * hw * itemsize // 4)
        assert 0 < got <= cap, f"{got} bytes over the cap {cap}"


def test_big_layer_in_passes(rng):
    # U of all 512 filters (36 x 512 x 512 floats, 37 MB) passes the 8 MB cap: passes over
    # output channels, each with its own U.
    x = rng.standard_normal((1, 512, 5, 5)).astype(np.float32)
    wt = (rng.standard_normal((520, 512, 3, 3)) / 40).astype(np.float32)
    out = _nan_out(x, wt, 1, np.float32)
    y = conv2d_winograd(x, wt, padding=1, tile=4, out=out, threads=2)
    assert not np.isnan(y).any()
    assert_matches_oracle(y, x, wt, padding=1)
    np.testing.assert_array_equal(y, conv2d_winograd(x, wt, padding=1, tile=4, threads=1))


def test_suits():
    def suits(n, c, hw, o, dtype=np.float32, k=3, stride=1, groups=1):
        return winograd_suits(resolve((n, c, hw, hw), (o, c // groups, k, k), stride, k // 2, 1,
                                      groups), dtype)
    assert suits(1, 64, 56, 64) == 4
    assert suits(1, 128, 28, 128) == 4
    assert suits(1, 256, 14, 256) == 0  # near break-even: left to direct
    assert suits(4, 256, 14, 256) == 4
    assert suits(1, 512, 7, 512) == 0  # 49 pixels: the weight transform costs more than it saves
    assert suits(8, 512, 7, 512) == 4  # a batch has the pixels
    assert suits(1, 64, 56, 64, np.float64) == 4
    assert suits(1, 3, 224, 64) == 0  # 3 channels: the transforms cost more than they save
    assert suits(1, 64, 56, 64, k=1) == 0
    assert suits(1, 64, 56, 64, stride=2) == 0
    assert suits(1, 64, 56, 64, groups=2) == 0
    assert suits(1, 4096, 56, 256) == 2  # F4 past the float32 accuracy rule at this depth
    assert supported(resolve((1, 1, 5, 5), (1, 1, 3, 3), 1, 0, 1, 1))
    assert accurate(np.float32, 4, 512) and accurate(np.float64, 4, 512)
    assert not accurate(np.float32, 4, 4096)


# ---- conv2d(..., method="winograd") and "auto"

def test_method_winograd(rng):
    import cconv
    x = rng.standard_normal((2, 20, 13, 11)).astype(np.float32)
    wt = rng.standard_normal((24, 20, 3, 3)).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    out = np.full((2, 24, 13, 11), np.nan, np.float32)
    y = cconv.conv2d(x, wt, b, padding=1, method="winograd", out=out, activation="relu")
    assert y is out and not np.isnan(y).any()
    assert_matches_oracle(y, x, wt, b, padding=1, activation="relu")
    assert np.array_equal(y, cconv.conv2d(x, wt, b, padding=1, method="winograd", threads=2,
                                          activation="relu"))
    # NHWC and a batch-less image through the same path.
    nhwc = cconv.conv2d(x.transpose(0, 2, 3, 1), wt, b, padding=1, method="winograd",
                        data_format="NHWC", activation="relu")
    assert_matches_oracle(nhwc, x.transpose(0, 2, 3, 1), wt, b, padding=1,
                          data_format="NHWC", activation="relu")
    one = cconv.conv2d(x[0], wt, b, padding=1, method="winograd")
    assert_matches_oracle(one, x[0], wt, b, padding=1)
    with pytest.raises(ValueError, match="winograd"):
        cconv.conv2d(x, wt, stride=2, method="winograd")
    with pytest.raises(ValueError, match="winograd"):
        cconv.conv2d(x, wt[:, :, :2], method="winograd")


def test_method_auto_takes_winograd_where_it_suits(rng, monkeypatch):
    import cconv
    from cconv import _winograd
    calls = []
    real = _winograd.compute
    monkeypatch.setattr(_winograd, "compute", lambda *a, **k: calls.append(a[8]) or real(*a, **k))
    x = rng.standard_normal((1, 64, 28, 28)).astype(np.float32)
    wt = (rng.standard_normal((64, 64, 3, 3)) / 24).astype(np.float32)
    for _ in range(2):  # the second call must not replay a cached direct plan
        y = cconv.conv2d(x, wt, padding=1)
        assert_matches_oracle(y, x, wt, padding=1)
    assert calls == [4, 4]
    calls.clear()
    cconv.conv2d(x, wt, padding=1, stride=2)  # stride 2: direct
    cconv.conv2d(x[:, :4], wt[:, :4], padding=1)  # 4 channels: direct
    assert calls == []
