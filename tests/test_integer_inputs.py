"""Integer and mixed inputs: NumPy's promotion decides the computation's dtype, and uint8, int8,
uint16 and int16 images are converted by the C core as it packs them, on every path."""

import tracemalloc

import numpy as np
import pytest

import cconv
from conftest import IMPLEMENTATIONS, assert_matches_oracle, run_impl

CONVERTED = [np.uint8, np.int8, np.uint16, np.int16]

CASES = [
    ((2, 3, 9, 11), (4, 3, 3, 3), dict(padding=1)),
    ((1, 4, 12, 10), (4, 1, 3, 3), dict(padding=1, groups=4)),
    ((1, 2, 13, 15), (3, 2, 5, 5), dict(stride=2, padding=(2, 1))),
    ((1, 1, 8, 40), (1, 1, 3, 3), dict()),                 # unpadded: read in place otherwise
    ((1, 3, 16, 16), (6, 3, 3, 3), dict(stride=2, padding=1, padding_mode="reflect")),
    ((1, 3, 16, 16), (3, 1, 3, 3), dict(stride=2, padding=1, groups=3)),  # depthwise s2
]


def _image(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", CONVERTED, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_integer_images_on_every_path(impl, dtype, case, rng):
    x_shape, w_shape, params = CASES[case]
    x = _image(rng, x_shape, dtype)
    for w_dtype, want in ((np.float32, np.float32), (np.float64, np.float64)):
        w = rng.standard_normal(w_shape).astype(w_dtype)
        got = run_impl(impl, x, w, **params)
        assert got.dtype == want
        assert_matches_oracle(got, x, w, **params)
        # A strided, channels-last view of a bigger image: converted through its strides.
        big = _image(rng, (x_shape[0], x_shape[2] * 2, x_shape[3] + 3, x_shape[1]), dtype)
        view = big[:, ::2, 1:-2]
        got = run_impl(impl, view, w, data_format="NHWC", **params)
        assert_matches_oracle(got, view, w, data_format="NHWC", **params)


@pytest.mark.parametrize("x_dtype, w_dtype, want", [
    (np.uint8, np.float32, np.float32), (np.int16, np.float32, np.float32),
    (np.float32, np.float64, np.float64), (np.int32, np.float32, np.float64),
    (np.float16, np.float32, np.float32), (np.bool_, np.float32, np.float32),
    (np.uint8, np.uint8, np.float64), (np.int64, np.float64, np.float64),
])
def test_promotion_follows_numpy(x_dtype, w_dtype, want, rng):
    x = (rng.random((1, 2, 6, 7)) * 100).astype(x_dtype)
    w = (rng.standard_normal((3, 2, 3, 3)) * 3).astype(w_dtype)
    got = cconv.conv2d(x, w, padding=1)
    assert got.dtype == want
    assert_matches_oracle(got, x, w, padding=1)


def test_uint8_image_is_never_copied_whole_to_float():
    """The C core converts band by band: the Python-side allocations of a call on a uint8 image
    are its output, never a float copy of the (four times larger) input."""
    image = np.random.default_rng(0).integers(0, 256, (1000, 1200, 3), dtype=np.uint8)
    w = np.full((3, 1, 3, 3), 1 / 9, np.float32)
    cconv.conv2d(image, w, stride=2, groups=3, data_format="NHWC")  # warm up
    tracemalloc.start()
    try:
        y = cconv.conv2d(image, w, stride=2, groups=3, data_format="NHWC")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert y.dtype == np.float32
    float_copy = image.size * 4
    assert peak < y.nbytes + float_copy // 4, (peak, y.nbytes, float_copy)


def test_mixed_input_with_float64_weights_reads_float32_in_place(rng):
    x = rng.standard_normal((2, 3, 10, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3))
    got = cconv.conv2d(x[:, :, ::-1], w, padding=1, padding_mode="replicate")
    assert got.dtype == np.float64
    assert_matches_oracle(got, x[:, :, ::-1], w, padding=1, padding_mode="replicate")
