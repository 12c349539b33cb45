"""conv2d against the NumPy oracle, on every SIMD path and the C reference kernel, across every
parameter: stride, each padding form, dilation, groups (depthwise too), bias, dtype, batched and
unbatched input, 1x1 kernels and kernels as large as the input, odd sizes."""

import numpy as np
import pytest

import cconv
from conftest import IMPLEMENTATIONS, assert_matches_oracle, run_impl

# (N, C, H, W, O, kH, kW, params)
CONFIGS = [
    (1, 1, 5, 5, 1, 3, 3, {}),
    (2, 3, 7, 9, 4, 3, 3, {"padding": 1}),
    (1, 3, 8, 8, 2, 1, 1, {}),                                   # 1x1
    (2, 5, 6, 7, 3, 6, 7, {}),                                   # kernel as large as the input
    (1, 2, 4, 4, 3, 6, 6, {"padding": 1}),                       # as large as the padded input
    (1, 3, 11, 13, 5, 3, 3, {"stride": 2}),
    (1, 3, 11, 13, 5, 3, 3, {"stride": 3, "padding": 2}),
    (1, 3, 12, 10, 4, 3, 2, {"stride": (1, 2)}),
    (2, 3, 9, 9, 4, 3, 3, {"dilation": 2}),
    (1, 2, 13, 11, 3, 3, 3, {"dilation": (2, 3), "padding": 2}),
    (1, 2, 10, 10, 3, 3, 3, {"stride": 2, "dilation": 2, "padding": 1}),
    (1, 3, 7, 8, 2, 3, 3, {"padding": (1, 2)}),
    (1, 3, 7, 8, 2, 3, 3, {"padding": ((0, 2), (3, 1))}),
    (1, 3, 7, 8, 2, 3, 3, {"padding": "valid"}),
    (1, 3, 7, 8, 2, 3, 3, {"padding": "same"}),
    (1, 3, 7, 8, 2, 4, 4, {"padding": "same"}),                  # even kernel: odd total pad
    (1, 3, 9, 8, 2, 3, 3, {"padding": "same", "stride": 2}),
    (1, 3, 10, 11, 2, 5, 4, {"padding": "same", "stride": 3, "dilation": 2}),
    (2, 4, 6, 6, 6, 3, 3, {"groups": 2, "padding": 1}),
    (1, 6, 8, 7, 6, 3, 3, {"groups": 6, "padding": 1}),          # depthwise
    (1, 6, 8, 7, 12, 3, 3, {"groups": 6, "stride": 2}),          # depthwise, multiplier 2
    (1, 8, 9, 9, 4, 3, 3, {"groups": 4, "dilation": 2, "padding": 2}),
    (3, 7, 5, 3, 9, 2, 3, {"padding": (2, 1)}),                  # odd everything
    (1, 1, 1, 1, 1, 1, 1, {}),
    (1, 1, 1, 1, 2, 3, 3, {"padding": 1}),                       # a single pixel, all padding
    (1, 17, 6, 37, 19, 3, 3, {"padding": 1}),                    # counts off the vector widths
    (2, 16, 14, 14, 32, 3, 3, {"padding": 1}),
    (1, 32, 9, 9, 16, 1, 1, {"stride": 2}),
]


def _make(rng, n, c, h, w, o, kh, kw, params, dtype):
    groups = params.get("groups", 1)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return x, wt, b


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
def test_matches_oracle(impl, dtype, config, rng):
    n, c, h, w, o, kh, kw, params = config
    x, wt, b = _make(rng, n, c, h, w, o, kh, kw, params, dtype)
    for bias in (None, b):
        got = run_impl(impl, x, wt, bias, **params)
        assert got.dtype == dtype
        assert_matches_oracle(got, x, wt, bias, **params)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unbatched_input_drops_batch_axis(impl, dtype, rng):
    x = rng.standard_normal((3, 9, 8)).astype(dtype)
    wt = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    got = run_impl(impl, x, wt, b, stride=2, padding="same")
    assert got.shape == (4, 5, 4)
    assert_matches_oracle(got, x, wt, b, stride=2, padding="same")
    batched = run_impl(impl, x[None], wt, b, stride=2, padding="same")
    np.testing.assert_array_equal(batched[0], got)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_random_configurations(impl):
    """200 random configurations per path, each parameter drawn independently."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        groups = int(rng.choice([1, 1, 2, 3]))
        c = groups * int(rng.integers(1, 5))
        o = groups * int(rng.integers(1, 7))
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        params = {
            "stride": tuple(int(v) for v in rng.integers(1, 4, size=2)),
            "dilation": tuple(int(v) for v in rng.integers(1, 3, size=2)),
            "padding": ((int(rng.integers(0, 3)), int(rng.integers(0, 3))),
                        (int(rng.integers(0, 3)), int(rng.integers(0, 3)))),
            "groups": groups,
        }
        span_h = params["dilation"][0] * (kh - 1) + 1
        span_w = params["dilation"][1] * (kw - 1) + 1
        h = max(int(rng.integers(1, 20)), span_h)
        w = max(int(rng.integers(1, 20)), span_w)
        dtype = rng.choice([np.float32, np.float64])
        x = rng.standard_normal((int(rng.integers(1, 3)), c, h, w)).astype(dtype)
        wt = rng.standard_normal((o, c // groups, kh, kw)).astype(dtype)
        b = rng.standard_normal(o).astype(dtype) if rng.random() < 0.5 else None
        got = run_impl(impl, x, wt, b, **params)
        assert_matches_oracle(got, x, wt, b, **params)


def test_rgb_example_by_hand():
    """An RGB input (3 feature maps) and 2 filters of depth 3 give 2 feature maps.

    Red is all 1, green all 2, blue all 3.  Filter 0 has a kernel of ones on every channel, so
    each output pixel sums 9 taps x (1 + 2 + 3) = 54.  Filter 1 looks only at the centre tap of
    the blue channel, and subtracts the centre of red: 3 - 1 = 2, plus its bias 10.
    """
    image = np.stack([np.full((4, 5), 1.0), np.full((4, 5), 2.0), np.full((4, 5), 3.0)])
    filters = np.zeros((2, 3, 3, 3))
    filters[0] = 1.0
    filters[1, 2, 1, 1] = 1.0
    filters[1, 0, 1, 1] = -1.0
    out = cconv.conv2d(image, filters, bias=[0.0, 10.0])
    assert out.shape == (2, 2, 3)  # 2 feature maps of (4-3+1) x (5-3+1)
    np.testing.assert_array_equal(out[0], np.full((2, 3), 54.0))
    np.testing.assert_array_equal(out[1], np.full((2, 3), 12.0))
    # With padding=1 the corner sees only 4 of the 9 taps: 4 x 6 = 24.
    padded = cconv.conv2d(image, filters, padding=1)
    assert padded.shape == (2, 4, 5)
    assert padded[0, 0, 0] == 24.0 and padded[0, 1, 1] == 54.0


def test_cross_correlation_no_kernel_flip():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 0, 0] = 1.0
    k = np.arange(9.0).reshape(1, 1, 3, 3)
    out = cconv.conv2d(x, k, padding=1)
    # The output at (1, 1) sees input (0, 0) through tap (0, 0) of the kernel: no flip.
    assert out[0, 0, 1, 1] == k[0, 0, 0, 0]
    assert out[0, 0, 0, 0] == k[0, 0, 1, 1]
