"""padding_mode and padding_value: every border mode on every path (each SIMD path and the C
reference), in both layouts, against the oracle (numpy.pad, then a plain convolution), and
against PyTorch (F.pad + conv2d), OpenCV (filter2D with each border type) and SciPy
(ndimage.correlate with each mode) where they are installed; cconv.pad against numpy.pad and
F.pad."""

import numpy as np
import pytest

import cconv
from conftest import IMPLEMENTATIONS, assert_matches_oracle, run_impl

MODES = ["zeros", "reflect", "replicate", "circular", "symmetric"]

# (input shape (N, C, H, W), weight shape, parameters): odd sizes, every padding form, strides,
# dilation, groups and depthwise, padding wider than the input (the pattern repeats), the
# stride-2 packing path and the single-filter (multi-row) path.
CASES = [
    ((2, 3, 7, 9), (4, 3, 3, 3), dict(padding=1)),
    ((1, 4, 9, 8), (6, 2, 3, 4), dict(padding=((2, 0), (3, 1)), stride=(1, 2), groups=2)),
    ((1, 2, 11, 13), (3, 2, 5, 3), dict(padding=(2, 4), stride=2)),
    ((1, 3, 10, 12), (3, 1, 3, 3), dict(padding=1, groups=3)),
    ((1, 3, 10, 12), (6, 1, 3, 3), dict(padding=2, stride=2, groups=3)),
    ((2, 1, 6, 7), (1, 1, 3, 5), dict(padding="same")),
    ((1, 2, 9, 10), (2, 2, 3, 3), dict(padding=3, dilation=(2, 3))),
    ((1, 2, 4, 3), (2, 2, 3, 3), dict(padding=((6, 5), (6, 4)))),
    ((1, 1, 1, 5), (1, 1, 3, 3), dict(padding=(2, 1))),
    ((1, 5, 16, 40), (8, 5, 3, 3), dict(padding=1, stride=2)),
    ((1, 2, 5, 6), (3, 2, 2, 2), dict(padding=((1, 0), (0, 2)), stride=3)),
]


def _data(rng, x_shape, w_shape, dtype=np.float64):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_border_modes_match_the_oracle(impl, mode, case, rng):
    x_shape, w_shape, params = CASES[case]
    for dtype in (np.float32, np.float64):
        x, w, b = _data(rng, x_shape, w_shape, dtype)
        got = run_impl(impl, x, w, b, padding_mode=mode, **params)
        assert got.dtype == dtype
        assert_matches_oracle(got, x, w, b, padding_mode=mode, **params)
        # Channels last: the same numbers.
        xh = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        got_h = run_impl(impl, xh, w, b, padding_mode=mode, data_format="NHWC", threads=2,
                         **params)
        np.testing.assert_allclose(np.moveaxis(got_h, -1, 1), got, rtol=0,
                                   atol=(1e-5 if dtype == np.float32 else 1e-13) *
                                   np.abs(got).max())


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("value", [2.5, -1.0, 1e30])
def test_constant_border_value(impl, value, rng):
    for x_shape, w_shape, params in CASES[:6]:
        x, w, b = _data(rng, x_shape, w_shape)
        got = run_impl(impl, x, w, b, padding_value=value, **params)
        assert_matches_oracle(got, x, w, b, padding_value=value, **params)


def test_constant_border_of_an_empty_input():
    w = np.arange(12.0).reshape(2, 2, 1, 3)
    got = cconv.conv2d(np.zeros((1, 2, 0, 4)), w, np.array([1.0, -1.0]), padding=(1, 0),
                       padding_value=0.5)
    assert got.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(got[0, :, 0, 0], [1 + 0.5 * w[0].sum(), -1 + 0.5 * w[1].sum()])


def test_unbatched_and_output_stage_with_a_border(rng):
    x, w, b = _data(rng, (3, 8, 9), (4, 3, 3, 3))
    r = rng.standard_normal((4, 8, 9))
    got = cconv.conv2d(x, w, b, padding=1, padding_mode="circular", activation="relu",
                       residual=r)
    assert_matches_oracle(got, x, w, b, padding=1, padding_mode="circular", activation="relu",
                          residual=r)


@pytest.mark.parametrize("bad, error, pattern", [
    (dict(padding_mode="mirror"), ValueError, r"padding_mode must be one of 'zeros', 'reflect'"),
    (dict(padding_mode=None), ValueError, r"padding_mode must be one of"),
    (dict(padding_mode="reflect", padding_value=1.0), ValueError,
     r"padding_value=1.0 is the constant of a constant border: it needs padding_mode='zeros'"),
    (dict(padding_value="1"), TypeError, r"padding_value must be a real number, got str"),
    (dict(padding_value=float("nan")), ValueError, r"padding_value must not be NaN"),
    (dict(padding_value=True), TypeError, r"padding_value must be a real number, got bool"),
])
def test_bad_border_arguments(bad, error, pattern):
    with pytest.raises(error, match=pattern):
        cconv.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), padding=1, **bad)


def test_a_repeating_border_needs_pixels():
    with pytest.raises(ValueError, match=r"padding_mode='reflect' cannot pad an empty input "
                                         r"\(H=0, W=4\)"):
        cconv.conv2d(np.ones((1, 1, 0, 4)), np.ones((1, 1, 1, 1)), padding=1,
                     padding_mode="reflect")


# ------------------------------------------------------------------------------ cconv.pad
@pytest.mark.parametrize("mode, numpy_mode", [("constant", "constant"), ("zeros", "constant"),
                                              ("reflect", "reflect"), ("replicate", "edge"),
                                              ("circular", "wrap"), ("symmetric", "symmetric")])
def test_pad_against_numpy(mode, numpy_mode, rng):
    x = rng.integers(0, 255, (2, 3, 5, 4)).astype(np.uint8)
    got = cconv.pad(x, (1, 6, 3, 0), mode)
    want = np.pad(x, ((0, 0), (0, 0), (3, 0), (1, 6)), mode=numpy_mode)
    assert got.dtype == np.uint8 and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)
    # Channels last, unbatched and 2-D.
    xh = np.moveaxis(x[0], 0, -1)
    np.testing.assert_array_equal(cconv.pad(xh, (1, 6, 3, 0), mode, data_format="NHWC"),
                                  np.moveaxis(want[0], 0, -1))
    np.testing.assert_array_equal(cconv.pad(x[0, 0], (2, 1), mode),
                                  np.pad(x[0, 0], ((0, 0), (2, 1)), mode=numpy_mode))


def test_pad_crops_then_pads_and_refuses_bad_arguments():
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    np.testing.assert_array_equal(cconv.pad(x, (-1, 2, 0, -3), "circular")[0, 0],
                                  [[1, 2, 3, 4, 1, 2]])
    assert cconv.pad(x, (0, 0, 1, 1), value=7.0)[0, 0, 0, 0] == 7.0
    with pytest.raises(ValueError, match=r"pad must be \(left, right\) or"):
        cconv.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match=r"pad crops 3 \+ 3 pixels from the input width 5"):
        cconv.pad(x, (-3, -3))
    with pytest.raises(ValueError, match=r"value=1.0 is the constant of mode 'constant'"):
        cconv.pad(x, (1, 1), "reflect", 1.0)
    with pytest.raises(ValueError, match=r"mode 'replicate' cannot pad an empty height"):
        cconv.pad(np.ones((1, 1, 0, 3)), (0, 0, 1, 1), "replicate")
    with pytest.raises(ValueError, match=r"input must be 2-D, 3-D or 4-D"):
        cconv.pad(np.ones(3), (1, 1))
    with pytest.raises(TypeError, match=r"pad\[0\] must be an int"):
        cconv.pad(x, (1.0, 1))


# ------------------------------------------------------------------ other libraries agree
TORCH_MODES = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}


@pytest.mark.parametrize("mode", list(TORCH_MODES))
def test_border_modes_against_pytorch(mode, rng):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    for x_shape, w_shape, params in CASES[:7]:
        x, w, b = _data(rng, x_shape, w_shape)
        got = cconv.conv2d(x, w, b, padding_mode=mode, **params)
        padded = F.pad(torch.from_numpy(x), _torch_pads(x_shape, w_shape, params),
                       mode=TORCH_MODES[mode])
        want = F.conv2d(padded, torch.from_numpy(w), torch.from_numpy(b),
                        stride=params.get("stride", 1), dilation=params.get("dilation", 1),
                        groups=params.get("groups", 1)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
        # And torch.nn.Conv2d's own padding_mode, for the symmetric paddings it takes.
        if isinstance(params.get("padding"), int) and "dilation" not in params:
            conv = torch.nn.Conv2d(x_shape[1], w_shape[0], w_shape[2:], params.get("stride", 1),
                                   params["padding"], groups=params.get("groups", 1),
                                   padding_mode=mode, dtype=torch.float64)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(w))
                conv.bias.copy_(torch.from_numpy(b))
                np.testing.assert_allclose(got, conv(torch.from_numpy(x)).numpy(), rtol=1e-10,
                                           atol=1e-10)


def _torch_pads(x_shape, w_shape, params):
    """F.pad's (left, right, top, bottom) of a case's padding."""
    from cconv._args import resolve
    g = resolve(x_shape, w_shape, params.get("stride", 1), params.get("padding", 0),
                params.get("dilation", 1), params.get("groups", 1))
    return (g.pad_left, g.pad_right, g.pad_top, g.pad_bottom)


def test_pad_against_pytorch(rng):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    x = rng.standard_normal((2, 3, 6, 7))
    for mode in ("constant", "reflect", "replicate", "circular"):
        for p in [(1, 2, 3, 0), (-1, 2, 1, -2), (5, 5, 0, 0)]:
            want = F.pad(torch.from_numpy(x), p, mode=mode).numpy()
            np.testing.assert_array_equal(cconv.pad(x, p, mode), want)


# OpenCV's border types: cconv's padding_mode (and cv2's name), the same filter2D anchor (the
# kernel's centre: an odd kernel with "same" padding).
CV2_BORDERS = [("zeros", "BORDER_CONSTANT"), ("reflect", "BORDER_REFLECT_101"),
               ("replicate", "BORDER_REPLICATE"), ("symmetric", "BORDER_REFLECT"),
               ("circular", "BORDER_WRAP")]


@pytest.mark.parametrize("mode, border", CV2_BORDERS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_border_modes_against_opencv_filter2d(mode, border, dtype, rng):
    cv2 = pytest.importorskip("cv2")
    for shape, k in [((37, 53), 5), ((64, 48, 3), 7), ((9, 11), 3), ((20, 31, 3), 15)]:
        image = (rng.random(shape) * 255).astype(dtype)
        kernel = rng.standard_normal((k, k)).astype(np.float32)
        kh = kernel.shape[0]
        if border == "BORDER_WRAP":
            # filter2D refuses BORDER_WRAP: OpenCV's wrapped border, made by copyMakeBorder.
            r = kh // 2
            wrapped = cv2.copyMakeBorder(image.astype(np.float32), r, r, r, r, cv2.BORDER_WRAP)
            want = cv2.filter2D(wrapped, -1, kernel)[r:-r, r:-r]
        else:
            want = cv2.filter2D(image.astype(np.float32), -1, kernel,
                                borderType=getattr(cv2, border))
        channels = shape[2] if len(shape) == 3 else 1
        weight = np.broadcast_to(kernel, (channels, 1, kh, kh))
        got = cconv.conv2d(image if len(shape) == 3 else image[..., None], weight,
                           padding="same", groups=channels, padding_mode=mode,
                           data_format="NHWC")
        assert got.dtype == np.float32
        got = got if len(shape) == 3 else got[..., 0]
        scale = np.abs(kernel).sum() * 255
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * scale)


SCIPY_MODES = [("zeros", "constant"), ("reflect", "mirror"), ("replicate", "nearest"),
               ("symmetric", "reflect"), ("circular", "wrap")]


@pytest.mark.parametrize("mode, scipy_mode", SCIPY_MODES)
def test_border_modes_against_scipy_ndimage(mode, scipy_mode, rng):
    ndimage = pytest.importorskip("scipy.ndimage")
    for shape, kshape in [((23, 17), (5, 5)), ((12, 40), (3, 7)), ((6, 5), (9, 9))]:
        image = rng.standard_normal(shape)
        kernel = rng.standard_normal(kshape)
        want = ndimage.correlate(image, kernel, mode=scipy_mode, cval=0.0)
        got = cconv.conv2d(image[None], kernel[None, None], padding="same", padding_mode=mode)[0]
        # SciPy centres even kernels one pixel further than "same" padding does; the kernels
        # here are odd, where both agree.
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    image = rng.standard_normal((8, 9))
    want = ndimage.correlate(image, np.ones((3, 3)), mode="constant", cval=3.5)
    got = cconv.conv2d(image[None], np.ones((1, 1, 3, 3)), padding=1, padding_value=3.5)[0]
    np.testing.assert_allclose(got, want, rtol=1e-12)
