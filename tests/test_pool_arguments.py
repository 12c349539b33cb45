"""Pooling's arguments: dtype promotion, the output-shape helper, every bad argument's exception
and message (PyTorch's rules: padding at most half the kernel, ceil_mode's last window, a
non-zero divisor, ...), the C core's size rule against Python's, and the geometry cache."""

import numpy as np
import pytest

import cconv
from test_pool import MAX_CONFIGS


def test_dtype_promotion():
    ints = np.arange(2 * 16).reshape(2, 4, 4)
    assert cconv.max_pool2d(ints, 2).dtype == np.float64
    assert cconv.avg_pool2d(ints.astype(np.float16), 2).dtype == np.float32
    assert cconv.adaptive_avg_pool2d(ints > 3, 1).dtype == np.float64
    assert cconv.max_pool2d(ints.astype(np.float32), 2).dtype == np.float32
    assert cconv.max_pool2d_backward(np.ones((2, 2, 2), np.float32),
                                     np.zeros((2, 2, 2), np.int32), (2, 4, 4)).dtype == np.float32
    with pytest.raises(TypeError, match="complex128"):
        cconv.avg_pool2d(ints.astype(complex), 2)
    np.testing.assert_array_equal(cconv.max_pool2d(ints.tolist(), 2), cconv.max_pool2d(ints, 2))


def test_output_shape_helper_matches_the_calls():
    for shape, params in MAX_CONFIGS[:20]:
        want = cconv.max_pool2d(np.zeros(shape), **params).shape
        assert cconv.pool2d_output_shape(shape, **params) == want
    assert cconv.pool2d_output_shape((1, 64, 112, 112), 3, 2, 1) == (1, 64, 56, 56)


# -------------------------------------------------------------------------- bad arguments
X = np.zeros((1, 2, 6, 6))
BAD = [
    (lambda: cconv.max_pool2d(X, 3, padding=2), ValueError,
     r"padding top 2 is more than half of the kernel height 3 \(at most 1"),
    (lambda: cconv.avg_pool2d(X, (2, 5), padding=((0, 1), (1, 3))), ValueError,
     r"padding right 3 is more than half of the kernel width 5 \(at most 2"),
    (lambda: cconv.max_pool2d(X, 0), ValueError, r"kernel_size must be >= 1, got 0"),
    (lambda: cconv.max_pool2d(X, (2, 2, 2)), ValueError, r"kernel_size must be an int.*3 values"),
    (lambda: cconv.max_pool2d(X, 2.0), TypeError, r"kernel_size must be an int, got float"),
    (lambda: cconv.max_pool2d(X, 2, stride=0), ValueError, r"stride must be >= 1, got 0"),
    (lambda: cconv.max_pool2d(X, 2, padding=-1), ValueError, r"padding must be >= 0, got -1"),
    (lambda: cconv.max_pool2d(X, 2, padding="same"), ValueError, r"got the string 'same'"),
    (lambda: cconv.max_pool2d(X, 2, dilation=0), ValueError, r"dilation must be >= 1, got 0"),
    (lambda: cconv.max_pool2d(X, 7), ValueError,
     r"kernel height 7 spans 7 pixels, more than the padded input height 6 \(= 6 \+ padding 0 "
     r"\+ 0\)"),
    (lambda: cconv.max_pool2d(X, 3, dilation=3), ValueError,
     r"kernel height 3 \(dilated by 3\) spans 7 pixels, more than the padded input height 6"),
    (lambda: cconv.max_pool2d(np.zeros((1, 1, 2, 2)), 2, 1, 1, dilation=3), ValueError,
     r"kernel height 2 dilated by 3 with padding 1 has a window \(output row 0\) whose taps all "
     r"miss the input height 2"),
    (lambda: cconv.max_pool2d(X, 2, ceil_mode=1), TypeError, r"ceil_mode must be a bool, got int"),
    (lambda: cconv.max_pool2d(X, 2, return_indices="yes"), TypeError,
     r"return_indices must be a bool"),
    (lambda: cconv.avg_pool2d(X, 2, count_include_pad=None), TypeError,
     r"count_include_pad must be a bool"),
    (lambda: cconv.avg_pool2d(X, 2, divisor_override=0), ValueError,
     r"divisor_override must not be 0"),
    (lambda: cconv.avg_pool2d(X, 2, divisor_override=1.5), TypeError,
     r"divisor_override must be an int"),
    (lambda: cconv.max_pool2d(np.zeros((6, 6)), 2), ValueError,
     r"input must be 3-D or 4-D \(N, C, H, W\) or \(C, H, W\), got 2-D"),
    (lambda: cconv.max_pool2d(np.zeros((1, 2, 0, 6)), 2), ValueError,
     r"input has height 0 .*pooling needs at least one input pixel"),
    (lambda: cconv.adaptive_avg_pool2d(np.zeros((1, 2, 6, 0)), 2), ValueError,
     r"input has width 0"),
    (lambda: cconv.adaptive_avg_pool2d(X, -1), ValueError, r"output_size must be >= 0, got -1"),
    (lambda: cconv.adaptive_max_pool2d(X, (1, 2, 3)), ValueError,
     r"output_size must be an int, a 1-element sequence or an \(h, w\) pair, got 3 values"),
    (lambda: cconv.adaptive_avg_pool2d(X, (2, 2.5)), TypeError,
     r"output_size\[1\] must be an int, got float"),
    (lambda: cconv.max_pool2d(X, 2, threads=0), ValueError, r"threads must be >= 1, got 0"),
    (lambda: cconv.max_pool2d(X, 2, out=[0]), TypeError, r"out must be a numpy.ndarray"),
    (lambda: cconv.max_pool2d(X, 2, out=np.zeros((1, 2, 3, 4))), ValueError,
     r"out has shape \(1, 2, 3, 4\), but the result has shape \(1, 2, 3, 3\)"),
    (lambda: cconv.max_pool2d(X, 2, out=np.zeros((1, 2, 3, 3), np.float32)), ValueError,
     r"out has dtype float32, but the result has dtype float64"),
    (lambda: cconv.max_pool2d(X, 2, return_indices=True,
                              out=(None, np.zeros((1, 2, 3, 3), np.int32))), ValueError,
     r"out has dtype int32, but the result has dtype int64"),
    (lambda: cconv.max_pool2d(X, 2, return_indices=True, out=(None,)), ValueError,
     r"out must be an ndarray or a \(values, indices\) pair, got 1 arrays"),
    (lambda: cconv.max_pool2d(X.astype(object), 2), TypeError, r"input has dtype object"),
    (lambda: cconv.max_pool2d_backward(np.ones((1, 2, 3, 3)), np.full((1, 2, 3, 3), 36),
                                       (1, 2, 6, 6)), ValueError,
     r"indices holds 36, outside the 36 pixels of an input plane \(valid: 0 to 35\)"),
    (lambda: cconv.max_pool2d_backward(np.ones((1, 2, 3, 3)), np.full((1, 2, 3, 3), -1),
                                       (1, 2, 6, 6)), ValueError, r"indices holds -1"),
    (lambda: cconv.max_pool2d_backward(np.ones((1, 2, 3, 3)), np.zeros((1, 2, 3, 3)),
                                       (1, 2, 6, 6)), TypeError,
     r"indices has dtype float64; it must hold integers"),
    (lambda: cconv.max_pool2d_backward(np.ones((1, 2, 3, 3)), np.zeros((1, 2, 3, 2), int),
                                       (1, 2, 6, 6)), ValueError,
     r"indices has shape \(1, 2, 3, 2\), but grad_output has shape \(1, 2, 3, 3\)"),
    (lambda: cconv.max_pool2d_backward(np.ones((1, 3, 3, 3)), np.zeros((1, 3, 3, 3), int),
                                       (1, 2, 6, 6)), ValueError,
     r"grad_output has shape \(1, 3, 3, 3\), but input_shape \(1, 2, 6, 6\) needs N, C = "
     r"\(1, 2\)"),
    (lambda: cconv.avg_pool2d_backward(np.ones((1, 2, 2, 2)), (1, 2, 6, 6), 2), ValueError,
     r"grad_output has shape \(1, 2, 2, 2\), but pooling input_shape \(1, 2, 6, 6\) gives an "
     r"output of shape \(1, 2, 3, 3\)"),
    (lambda: cconv.avg_pool2d_backward(np.ones((2, 2, 2)), (1, 2, 6, 6), 2), ValueError,
     r"grad_output has 3 dimensions but input_shape \(1, 2, 6, 6\) has 4"),
    (lambda: cconv.adaptive_avg_pool2d_backward(np.ones((1, 2, 2, 2)), "abc"), TypeError,
     r"input_shape must be a tuple of ints"),
    (lambda: cconv.pool2d_output_shape((1, 2, 6, 6), 2, padding=(2, 0)), ValueError,
     r"padding top 2 is more than half of the kernel height 2 \(at most 1"),
]


@pytest.mark.parametrize("call,error,message", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_arguments_raise_with_the_numbers(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_c_core_refuses_what_python_refuses():
    """The C checks agree with the Python rules on the output size (ceil_mode included)."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        size, kernel, stride = (int(v) for v in rng.integers(1, 9, 3))
        pad, dil = int(rng.integers(0, kernel // 2 + 1)), int(rng.integers(1, 4))
        for ceil in (False, True):
            try:
                want = cconv.pool2d_output_shape((1, 1, size, 1), (kernel, 1), (stride, 1),
                                                 (pad, 0), (dil, 1), ceil)[2]
            except ValueError:
                want = -1
            got = cconv._core.pool_output_size(size, kernel, stride, pad, pad, dil, ceil)
            if want != -1 or got != -1:
                # The C size rule ignores the window-reaches-input check (done by the check).
                assert got == want or (want == -1 and dil > size), (size, kernel, stride, pad,
                                                                     dil, ceil)


def test_cached_resolution_never_hides_an_error():
    """Repeated calls reuse resolved geometries under exact, type-tagged keys: a look-alike of a
    cached call (True for 1, 1 for True, a float, a list) still fails or resolves afresh."""
    x = np.zeros((1, 2, 6, 6))
    for _ in range(2):
        cconv.max_pool2d(x, 1, ceil_mode=True)
        cconv.avg_pool2d(x, 2, 1, 0, False, True, 1)
        cconv.adaptive_avg_pool2d(x, (1, 2))
    with pytest.raises(TypeError, match="kernel_size must be an int, got bool"):
        cconv.max_pool2d(x, True, ceil_mode=True)
    with pytest.raises(TypeError, match="ceil_mode must be a bool, got int"):
        cconv.max_pool2d(x, 1, ceil_mode=1)
    with pytest.raises(TypeError, match="divisor_override must be an int, got bool"):
        cconv.avg_pool2d(x, 2, 1, 0, False, True, True)
    with pytest.raises(TypeError, match=r"output_size\[1\] must be an int, got float"):
        cconv.adaptive_avg_pool2d(x, (1, 2.0))
    assert cconv.adaptive_avg_pool2d(x, [1, 2]).shape == (1, 2, 1, 2)
    assert cconv.max_pool2d(x, np.int64(1), ceil_mode=np.True_).shape == (1, 2, 6, 6)
    with pytest.raises(ValueError, match="input has height 0"):
        cconv.max_pool2d(np.zeros((1, 2, 0, 6)), 1, ceil_mode=True)
