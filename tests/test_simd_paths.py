"""Every usable SIMD path against the oracle on shapes chosen to reach each tiling case of the
driver and each edge of the micro-kernels, bitwise identity across thread counts, the temporary
memory bound, and the CCONV_SIMD override.

The driver picks, from the shape alone:
- row tiles stored in place (a rounded-up output row fits in a sub-image row), with the last
  tile of a row spilling into the next row, or going through the tile buffer at a band's end;
- flattened tiles through the tile buffer (narrow outputs), with a narrower last tile per band;
- the wide single-row tile when every group has one filter (depthwise, single-channel images),
  and the multi-row kernels (several output rows per call) when that filter has depth 1,
  several rows and stride 1, whose row tiles may read past a padded row into the next;
- reading the input in place (stride 1, no padding) except tiles near a channel's end;
- stride-2 packing through an instruction-set deinterleave with a masked tail;
- the in-place depthwise k x k kernels of stride 1 and 2 (AVX-512: k = 3, 5, 7 at stride 1, 3 and
  5 at stride 2; AVX2: 3x3 stride 2; others take the general path), which read the input without
  packing and mask the borders per column tile and per input row;
- several bands when a band's packed input passes the band budget (about 256 KB);
and each tile's output channels come in blocks of mr_max with a remainder.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import cconv
from cconv._conv import workspace_bytes
from conftest import IMPLEMENTATIONS, USABLE_PATHS, assert_matches_oracle, run_impl

# (N, C, H, W, O, kH, kW, params, what it reaches)
SHAPES = [
    (1, 3, 20, 31, 5, 3, 3, {"padding": 1}, "row tiles, 31 wide: spill into the next row"),
    (1, 5, 9, 32, 9, 3, 3, {"padding": 1}, "row tiles, exact vectors, mr remainder 1"),
    (2, 7, 11, 79, 11, 3, 3, {"padding": 1}, "row tiles over several vectors, odd everything"),
    (1, 16, 14, 14, 24, 3, 3, {"padding": 1}, "row tiles 14 wide in a 16-wide sub-image"),
    (1, 9, 7, 7, 17, 3, 3, {"padding": 1}, "flattened tiles, 7x7 image, mr remainder 1"),
    (1, 4, 6, 5, 3, 3, 3, {}, "flattened tiles, valid conv, tiny output"),
    (1, 10, 13, 56, 12, 3, 3, {"padding": 1}, "flattened tiles (56 rounds past 58)"),
    (1, 64, 30, 94, 8, 3, 3, {"padding": 1}, "several bands, row tiles"),
    (1, 96, 23, 58, 13, 3, 3, {"padding": 1}, "several bands, flattened tiles"),
    (1, 24, 12, 12, 20, 1, 1, {}, "1x1: flattened tiles stored directly"),
    (2, 19, 9, 30, 7, 1, 1, {}, "1x1, odd channel counts"),
    (1, 3, 23, 29, 6, 3, 3, {"stride": 2, "padding": 1}, "stride 2"),
    (1, 4, 25, 31, 5, 3, 3, {"stride": 3, "padding": 2}, "stride 3"),
    (1, 3, 19, 21, 4, 5, 5, {"padding": 2}, "5x5"),
    (1, 3, 30, 34, 8, 7, 7, {"stride": 2, "padding": 3}, "7x7 stride 2 (first-layer like)"),
    (1, 5, 17, 23, 6, 3, 3, {"padding": 2, "dilation": 2}, "dilation 2"),
    (1, 2, 30, 23, 3, 7, 7, {"dilation": 3}, "row tiles whose spill passes a whole row"),
    (1, 12, 21, 47, 12, 3, 3, {"padding": 1, "groups": 12}, "depthwise: wide single-row tile"),
    (1, 10, 22, 27, 10, 3, 3, {"stride": 2, "padding": 1, "groups": 10}, "depthwise stride 2"),
    (1, 6, 9, 150, 12, 3, 3, {"padding": 1, "groups": 6}, "depthwise multiplier 2"),
    (1, 1, 37, 303, 1, 3, 3, {"padding": 1}, "single channel, row tiles, last tile partial"),
    (1, 1, 37, 301, 1, 3, 3, {"padding": 1}, "single channel, flattened wide tiles"),
    (1, 1, 5, 3, 1, 3, 3, {"padding": 1}, "single channel, tiny"),
    (3, 2, 8, 40, 6, 3, 3, {"padding": 1, "groups": 2}, "groups with several filters"),
    (1, 12, 9, 31, 3, 3, 3, {"padding": 1, "groups": 3}, "one filter of depth 4 per group"),
    (2, 8, 19, 33, 8, 3, 5, {"padding": (1, 2), "groups": 8, "dilation": (1, 2)},
     "depthwise 3x5, dilated columns: multi-row kernels, row groups with a remainder"),
    (1, 4, 11, 64, 4, 3, 3, {"groups": 4}, "depthwise valid (in place), exact vectors"),
    (1, 3, 10, 140, 3, 3, 3, {"groups": 3, "padding": (1, 0)}, "depthwise in place, tail"),
    (1, 4, 21, 37, 4, 5, 5, {"groups": 4, "padding": 2}, "depthwise 5x5: multi-row kernels"),
    (1, 2, 17, 70, 2, 7, 7, {"groups": 2, "padding": 3}, "depthwise 7x7: multi-row kernels"),
    (1, 1, 12, 40, 1, 2, 4, {"padding": (1, 0)}, "single channel 2x4: multi-row kernels"),
    # A row rounded up to whole vectors wider than the padded input row (56 -> 64 > 62 for
    # 16 lanes; 33 -> 48, 40 or 36 > 35 for 16, 8 or 4): the multi-row kernels' last tile of
    # a row reads the next band row, and at a band's end the slack after it.
    (1, 3, 19, 56, 3, 7, 7, {"groups": 3, "padding": 3},
     "depthwise 7x7, 56 wide: multi-row tiles past the padded row"),
    (1, 2, 13, 33, 2, 3, 3, {"groups": 2, "padding": 1},
     "depthwise 3x3, 33 wide: multi-row tiles past the padded row"),
    (1, 2, 10, 35, 2, 3, 3, {"groups": 2},
     "depthwise valid, 33 wide: in place, multi-row tiles past the row"),
    (1, 1, 1600, 45, 1, 5, 5, {"padding": 2},
     "single channel 5x5, 45 wide, several bands: multi-row tiles past the padded row"),
]
SHAPE_IDS = [s[-1] for s in SHAPES]


def _data(shape, dtype, seed=7):
    n, c, h, w, o, kh, kw, params, _ = shape
    rng = np.random.default_rng(seed)
    groups = params.get("groups", 1)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return x, wt, b, params


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_path_matches_oracle(path, dtype, shape):
    x, wt, b, params = _data(shape, dtype)
    for bias in (b, None):
        got = run_impl(path, x, wt, bias, threads=1, **params)
        assert got.dtype == dtype
        assert_matches_oracle(got, x, wt, bias, **params)


def _strided_view(x, layout):
    """x's values in a non-contiguous view that the C core reads in place."""
    if layout == "channels_last":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "reversed_columns":
        return np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    if layout == "sliced":
        n, c, h, w = x.shape
        big = np.full((n, 2 * c, 2 * h, w + 3), np.nan, x.dtype)
        big[:, ::2, ::2, 1:w + 1] = x
        return big[:, ::2, ::2, 1:w + 1]
    assert layout == "broadcast_batch"
    return np.broadcast_to(x[:1], (3,) + x.shape[1:])


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("layout", ["channels_last", "reversed_columns", "sliced",
                                    "broadcast_batch"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_strided_input_read_in_place(impl, layout, shape):
    """Every path reads a non-contiguous input through its strides (no copy), in each tiling
    case; the paths that read whole planes in place fall back to packing."""
    x, wt, b, params = _data(shape, np.float32, seed=5)
    view = _strided_view(x, layout)
    assert not view.flags.c_contiguous or view.shape[0] == 1
    got = run_impl(impl, view, wt, b, threads=2, **params)
    assert_matches_oracle(got, view, wt, b, **params)


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_bitwise_identical_across_threads(path, dtype, shape):
    x, wt, b, params = _data(shape, dtype, seed=11)
    first = run_impl(path, x, wt, b, threads=1, **params)
    for threads in (2, 3, 4):
        again = run_impl(path, x, wt, b, threads=threads, **params)
        assert np.array_equal(first.view(np.uint8), again.view(np.uint8)), (
            f"threads={threads} differs from threads=1")


@pytest.mark.parametrize("path", USABLE_PATHS)
def test_output_written_exactly_once_per_pixel(path):
    """Row tiles spill extra lanes into the next row before that row is computed: a stale value
    left anywhere would show against a NaN-filled `out`."""
    shape = (2, 6, 13, 35, 10, 3, 3, {"padding": 1}, "")
    x, wt, b, params = _data(shape, np.float32)
    out = np.full((2, 10, 13, 35), np.nan, dtype=np.float32)
    got = run_impl(path, x, wt, b, out=out, threads=2, **params)
    assert got is out
    assert np.isfinite(got).all()
    assert_matches_oracle(got, x, wt, b, **params)


@pytest.mark.parametrize("path", USABLE_PATHS)
def test_non_finite_input_stays_local(path):
    """Inf/NaN in the input reach only the outputs whose windows contain them, on every path
    (thrown-away lanes and padding never leak into valid outputs)."""
    x = np.ones((1, 2, 9, 40), dtype=np.float32)
    x[0, 1, 4, 20] = np.inf
    wt = np.ones((3, 2, 3, 3), dtype=np.float32)
    got = run_impl(path, x, wt, None, padding=1)
    bad = ~np.isfinite(got[0, 0])
    expected = np.zeros((9, 40), dtype=bool)
    expected[3:6, 19:22] = True
    assert np.array_equal(bad, expected)


# The issue-3 layers: (input shape, weight shape, params)
ISSUE3_LAYERS = [
    ((1, 3, 224, 224), (64, 3, 7, 7), {"stride": 2, "padding": 3}),
    ((1, 64, 56, 56), (64, 64, 3, 3), {"padding": 1}),
    ((1, 64, 56, 56), (128, 64, 3, 3), {"stride": 2, "padding": 1}),
    ((1, 128, 28, 28), (128, 128, 3, 3), {"padding": 1}),
    ((1, 256, 14, 14), (256, 256, 3, 3), {"padding": 1}),
    ((1, 512, 7, 7), (512, 512, 3, 3), {"padding": 1}),
    ((1, 256, 56, 56), (64, 256, 1, 1), {}),
    ((1, 32, 112, 112), (32, 1, 3, 3), {"padding": 1, "groups": 32}),
    ((1, 144, 56, 56), (144, 1, 3, 3), {"stride": 2, "padding": 1, "groups": 144}),
    ((1, 1, 1024, 1024), (1, 1, 3, 3), {"padding": 1}),
    ((1, 3, 512, 512), (16, 3, 5, 5), {"padding": 2}),
    ((64, 3, 32, 32), (32, 3, 3, 3), {"padding": 1}),
    ((64, 32, 32, 32), (64, 32, 3, 3), {"padding": 1}),
    ((1, 64, 64, 64), (64, 64, 3, 3), {"padding": 2, "dilation": 2}),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2, 4, 16])
@pytest.mark.parametrize("layer", ISSUE3_LAYERS, ids=[str(i) for i in range(len(ISSUE3_LAYERS))])
def test_workspace_within_budget(layer, threads, dtype):
    in_shape, w_shape, params = layer
    out_shape = cconv.conv2d_output_shape(in_shape, w_shape, **params)
    out_bytes = int(np.prod(out_shape)) * np.dtype(dtype).itemsize
    used = workspace_bytes(in_shape, w_shape, threads=threads, dtype=dtype, **params)
    # 0 only for paths that pack nothing (the in-place depthwise stride-2 kernel).
    assert 0 <= used <= max(8 * 2**20, out_bytes // 4), (used, out_bytes)
    assert used > 0 or params.get("groups", 1) == in_shape[1]


def test_workspace_counts_threads():
    one = workspace_bytes((1, 64, 56, 56), (64, 64, 3, 3), padding=1, threads=1)
    two = workspace_bytes((1, 64, 56, 56), (64, 64, 3, 3), padding=1, threads=2)
    assert one < two <= 2 * one


def test_workspace_rejects_bad_arguments():
    with pytest.raises(ValueError, match="dtype"):
        workspace_bytes((1, 3, 8, 8), (4, 3, 3, 3), dtype=np.int32)
    with pytest.raises(ValueError):
        workspace_bytes((1, 3, 8, 8), (4, 2, 3, 3))


@pytest.mark.parametrize("path", USABLE_PATHS)
def test_env_forces_each_usable_path(path):
    code = "import cconv, numpy as np; print(cconv.get_config()['simd']); " \
           "print(float(cconv.conv2d(np.ones((1,2,5,5)), np.ones((3,2,3,3)))[0,0,0,0]))"
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "CCONV_SIMD": path},
                          capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [path, "18.0"]


def test_env_generic_forces_generic():
    proc = subprocess.run([sys.executable, "-c", "import cconv; print(cconv.get_config()['simd'])"],
                          env={**os.environ, "CCONV_SIMD": "generic"}, capture_output=True,
                          text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "generic"


@pytest.mark.parametrize("name", ["sse9", "avx1024", "neon_x"])
def test_env_unknown_path_is_a_clear_error(name):
    proc = subprocess.run([sys.executable, "-c", "import cconv"],
                          env={**os.environ, "CCONV_SIMD": name}, capture_output=True, text=True,
                          cwd="/")
    assert proc.returncode != 0
    assert "CCONV_SIMD" in proc.stderr and name in proc.stderr
    assert "generic" in proc.stderr  # names the paths that exist


def test_env_unusable_path_is_a_clear_error():
    compiled = cconv.get_config()["simd_compiled"]
    unusable = [p for p in compiled if p not in USABLE_PATHS]
    if not unusable:
        pytest.skip("every compiled path runs on this CPU")
    proc = subprocess.run([sys.executable, "-c", "import cconv"],
                          env={**os.environ, "CCONV_SIMD": unusable[0]}, capture_output=True,
                          text=True, cwd="/")
    assert proc.returncode != 0
    assert "cannot run" in proc.stderr and unusable[0] in proc.stderr


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pad", [0, 1, 2, 3])
def test_stride2_packing_every_row_length(path, dtype, pad):
    """Stride-2 packing splits each input row into two column phases (an ISA deinterleave on
    some paths, with a masked tail): every row length from 1 to 70, odd and even padding."""
    rng = np.random.default_rng(pad)
    for width in range(1, 71):
        x = rng.standard_normal((1, 2, 5, width)).astype(dtype)
        wt = rng.standard_normal((3, 2, 3, 3)).astype(dtype)
        params = {"stride": 2, "padding": (1, pad)}
        if width + 2 * pad < 3:
            continue
        got = run_impl(path, x, wt, None, **params)
        assert_matches_oracle(got, x, wt, None, **params)


# ---- depthwise k x k, stride 1 and 2 (the in-place kernels where the path has them) ----

DW_SIZES = (3, 5, 7)
DW_STRIDES = (1, 2)


def _dw_cases(k):
    """Every height 1-12 (every remainder of the 4-row groups, at either stride) and two taller
    ones, every width 1-20 and some past 30, with no padding, half the kernel, k - 1 (the most the
    in-place kernels take) and two asymmetric paddings, cycling multiplier 1/2, bias or not,
    batch 1/3 so each meets odd and even sizes."""
    m = k - 1
    case = 0
    for h in list(range(1, 13)) + [17, 20]:
        # and rows wider than a load pair (2 vectors of 16 floats), where a lane left of the row
        # would pick up a real value if it were not masked off
        for w in list(range(1, 21)) + [31, 32, 33, 34, 35, 47, 48, 49]:
            for pad in (0, k // 2, m, ((0, m), (m, 1)), ((m, 0), (1, m))):
                (pt, pb), (pl, pr) = pad if isinstance(pad, tuple) else ((pad, pad), (pad, pad))
                if h + pt + pb < k or w + pl + pr < k:
                    continue
                case += 1
                yield h, w, pad, 1 + case % 2, case % 3 != 0, 1 if case % 4 else 3


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", DW_SIZES)
@pytest.mark.parametrize("stride", DW_STRIDES)
def test_depthwise_in_place_every_size(path, dtype, k, stride):
    rng = np.random.default_rng(3)
    for h, w, pad, mult, with_bias, n in _dw_cases(k):
        c = 3
        x = rng.standard_normal((n, c, h, w)).astype(dtype)
        wt = rng.standard_normal((c * mult, 1, k, k)).astype(dtype)
        b = rng.standard_normal(c * mult).astype(dtype) if with_bias else None
        params = {"stride": stride, "padding": pad, "groups": c}
        got = run_impl(path, x, wt, b, threads=1, **params)
        assert got.dtype == dtype
        try:
            assert_matches_oracle(got, x, wt, b, **params)
        except AssertionError as e:
            raise AssertionError(f"h={h} w={w} pad={pad} mult={mult} n={n}: {e}") from None


DW_SHAPES = [
    ((1, 144, 56, 56), 1, 1),   # the MobileNet layer: planes split over threads
    ((1, 2, 57, 75), 2, 1),     # few planes: row ranges split over threads
    ((3, 4, 20, 33), 1, 2),
    ((1, 1, 9, 7), 2, 0),       # fewer rows than threads x 4
]


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,mult,pad", DW_SHAPES)
@pytest.mark.parametrize("k", DW_SIZES)
@pytest.mark.parametrize("stride", DW_STRIDES)
def test_depthwise_in_place_bitwise_across_threads(path, dtype, shape, mult, pad, k, stride):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    c = shape[1]
    wt = rng.standard_normal((c * mult, 1, k, k)).astype(dtype)
    b = rng.standard_normal(c * mult).astype(dtype)
    params = {"stride": stride, "padding": pad * (k // 2), "groups": c}
    first = run_impl(path, x, wt, b, threads=1, **params)
    assert_matches_oracle(first, x, wt, b, **params)
    for threads in (2, 3, 4):
        out = np.full_like(first, np.nan)  # every output must be written
        again = run_impl(path, x, wt, b, threads=threads, out=out, **params)
        assert np.array_equal(first.view(np.uint8), again.view(np.uint8)), (
            f"threads={threads} differs from threads=1")


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", DW_SIZES)
@pytest.mark.parametrize("stride", DW_STRIDES)
def test_depthwise_in_place_planes_together_or_alone(path, dtype, k, stride):
    """The kernels take two planes per call where they can: each channel's output is bitwise the
    one it gets computed alone (one plane per call), for odd and even channel counts."""
    rng = np.random.default_rng(7)
    for c, h, w in ((5, 19, 37), (4, 12, 20), (3, 9, 9)):
        x = rng.standard_normal((2, c, h, w)).astype(dtype)
        wt = rng.standard_normal((c, 1, k, k)).astype(dtype)
        b = rng.standard_normal(c).astype(dtype)
        params = {"stride": stride, "padding": k // 2}
        together = run_impl(path, x, wt, b, groups=c, threads=1, **params)
        for ch in range(c):
            alone = run_impl(path, x[:, ch:ch + 1], wt[ch:ch + 1], b[ch:ch + 1], threads=1,
                             **params)
            assert np.array_equal(together[:, ch:ch + 1].view(np.uint8), alone.view(np.uint8)), (
                f"channel {ch} of {c}")


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", DW_SIZES)
@pytest.mark.parametrize("stride", DW_STRIDES)
def test_depthwise_in_place_same_bits_as_banded(path, dtype, k, stride):
    """The in-place kernels sum in the banded path's order: the same input seen through a view
    whose columns are not contiguous (which the banded path packs) gives the same bits."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 6, 23, 37)).astype(dtype)
    wt = rng.standard_normal((12, 1, k, k)).astype(dtype)
    b = rng.standard_normal(12).astype(dtype)
    wide = np.zeros((2, 6, 23, 74), dtype)
    wide[..., ::2] = x
    params = {"stride": stride, "padding": k // 2, "groups": 6}
    direct = run_impl(path, x, wt, b, threads=1, **params)
    banded = run_impl(path, wide[..., ::2], wt, b, threads=1, **params)
    assert np.array_equal(direct.view(np.uint8), banded.view(np.uint8))


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", DW_SIZES)
@pytest.mark.parametrize("stride", DW_STRIDES)
def test_depthwise_in_place_non_finite_stays_local(path, dtype, k, stride):
    """Masked-off lanes, padding and the rows next to an Inf never leak into other outputs."""
    r = k // 2
    for h, w in ((9, 40), (10, 17), (5, 5), (13, 36)):
        for (i, j) in ((0, 0), (h - 1, w - 1), (h // 2, w // 2), (1, w - 2)):
            x = np.ones((1, 2, h, w), dtype=dtype)
            x[0, 1, i, j] = np.inf
            wt = np.ones((2, 1, k, k), dtype=dtype)
            got = run_impl(path, x, wt, None, stride=stride, padding=r, groups=2)
            assert np.isfinite(got[0, 0]).all()
            bad = ~np.isfinite(got[0, 1])
            oh, ow = bad.shape
            # output (y, x) reads input rows sy-r .. sy+r and columns sx-r .. sx+r
            ys = np.arange(oh)[:, None]
            xs = np.arange(ow)[None, :]
            expected = (abs(stride * ys - i) <= r) & (abs(stride * xs - j) <= r)
            assert np.array_equal(bad, expected), (h, w, i, j)


# The paths with an in-place depthwise kernel, per stride and kernel size.
DW_IN_PLACE = {(2, 3): ("avx2", "avx512"), (2, 5): ("avx512",), (2, 7): (),
               (1, 3): ("avx512",), (1, 5): ("avx512",), (1, 7): ("avx512",)}


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("k", DW_SIZES)
@pytest.mark.parametrize("stride", DW_STRIDES)
def test_depthwise_reaches_in_place_kernel(path, k, stride):
    """Where the path has the in-place kernel for k and the stride, MobileNet's (k = 3) or
    EfficientNet's (k = 5) layer takes it: nothing is packed, so nothing is allocated (the general
    path packs a band per thread).  Shapes it does not handle (the other stride, padding k,
    dilation 2, depth 2, a non-square kernel) take the general path."""
    other = 3 - stride
    code = f"""if True:
        import numpy as np
        from cconv._conv import workspace_bytes as ws
        k, r, s = {k}, {k // 2}, {stride}
        print(ws((1, 144, 56, 56), (144, 1, k, k), stride=s, padding=r, groups=144, threads=1),
              ws((1, 144, 56, 56), (144, 1, k, k), stride=s, padding=r, groups=144, threads=2,
                 dtype=np.float64),
              ws((1, 8, 20, 20), (8, 1, k, k), stride=s, padding=k, groups=8),
              ws((1, 8, 20, 20), (8, 1, k, k), stride=s, padding=2 * r, dilation=2, groups=8),
              ws((1, 8, 20, 20), (4, 2, k, k), stride=s, padding=r, groups=4),
              ws((1, 8, 20, 20), (8, 1, k, k - 2), stride=s, padding=r, groups=8),
              ws((1, 8, 20, 20), (8, 1, k, k), stride=(s, {other}), padding=r, groups=8))
    """
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "CCONV_SIMD": path},
                          capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    used = [int(v) for v in proc.stdout.split()]
    in_place = path in DW_IN_PLACE[(stride, k)]
    assert (used[0] == 0 and used[1] == 0) == in_place, used
    assert all(v > 0 for v in used[2:]), used
