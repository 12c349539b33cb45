"""cconv.fold_batchnorm: conv + inference BatchNorm as one convolution, checked against PyTorch's
conv2d followed by BatchNorm2d in eval mode, and its argument errors."""

import numpy as np
import pytest

import cconv
from conftest import needs_torch

# (C, O, groups): dense, grouped, and depthwise (groups == C == O, and a channel multiplier 2).
CONFIGS = [(3, 8, 1), (8, 12, 4), (6, 6, 6), (4, 8, 4)]


def _batchnorm_params(rng, n, dtype):
    """Statistics far from the identity (mean 0, var 1), so that a wrong fold shows."""
    return (rng.uniform(0.5, 2.0, n).astype(dtype), rng.normal(0, 0.5, n).astype(dtype),
            rng.normal(0, 0.5, n).astype(dtype), rng.uniform(0.1, 3.0, n).astype(dtype))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_bias", [True, False], ids=["conv-bias", "no-bias"])
@pytest.mark.parametrize("c,o,groups", CONFIGS, ids=lambda v: str(v))
def test_fold_matches_pytorch_conv_then_batchnorm(c, o, groups, with_bias, dtype):
    import torch

    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, c, 9, 7)).astype(dtype)
    w = rng.standard_normal((o, c // groups, 3, 3)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype) if with_bias else None
    gamma, beta, mean, var = _batchnorm_params(rng, o, dtype)
    eps = 1e-3

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    conv = torch.nn.Conv2d(c, o, 3, stride=2, padding=1, groups=groups, bias=with_bias,
                           dtype=tdtype)
    bn = torch.nn.BatchNorm2d(o, eps=eps, dtype=tdtype)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        if with_bias:
            conv.bias.copy_(torch.from_numpy(b))
        for name, value in zip(("weight", "bias", "running_mean", "running_var"),
                               (gamma, beta, mean, var)):
            getattr(bn, name).copy_(torch.from_numpy(value))
        model = torch.nn.Sequential(conv, bn).eval()
        expected = model(torch.from_numpy(x)).numpy()

    folded_w, folded_b = cconv.fold_batchnorm(w, b, gamma, beta, mean, var, eps=eps)
    assert folded_w.dtype == dtype and folded_b.dtype == dtype
    assert folded_w.shape == w.shape and folded_b.shape == (o,)
    got = cconv.conv2d(x, folded_w, folded_b, stride=2, padding=1, groups=groups)
    # The fold rounds each weight once more; the sums then differ by a few ulps of the terms.
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * scale)


def test_fold_is_the_closed_form_in_float64():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((5, 2, 3, 3))
    b = rng.standard_normal(5)
    gamma, beta, mean, var = _batchnorm_params(rng, 5, np.float64)
    folded_w, folded_b = cconv.fold_batchnorm(w, b, gamma, beta, mean, var, eps=0.0)
    s = gamma / np.sqrt(var)
    np.testing.assert_allclose(folded_w, w * s[:, None, None, None], rtol=1e-15)
    np.testing.assert_allclose(folded_b, (b - mean) * s + beta, rtol=1e-14)


def test_without_gamma_and_beta_is_an_affine_free_batchnorm():
    w = np.ones((2, 1, 1, 1), np.float32)
    folded_w, folded_b = cconv.fold_batchnorm(w, None, None, None, [1.0, -1.0], [4.0, 0.25],
                                              eps=0)
    np.testing.assert_array_equal(folded_w.ravel(), [0.5, 2.0])
    np.testing.assert_array_equal(folded_b, [-0.5, 2.0])


def test_returns_new_contiguous_arrays_and_follows_promotion():
    w = np.ones((3, 2, 3, 3), np.float32)[:, :, ::-1]  # a strided view
    ones, zeros = np.ones(3, np.float16), np.zeros(3, np.float16)
    folded_w, folded_b = cconv.fold_batchnorm(w, None, ones, zeros, zeros, ones)
    assert folded_w.flags.c_contiguous and not np.shares_memory(folded_w, w)
    assert folded_w.dtype == np.float32 and folded_b.dtype == np.float32
    folded_w, folded_b = cconv.fold_batchnorm(w, None, ones.astype(np.float64), zeros, zeros,
                                              ones)
    assert folded_w.dtype == np.float64 and folded_b.dtype == np.float64
    assert cconv.fold_batchnorm(np.ones((3, 2, 1, 1), np.int64), None, None, None, [0] * 3,
                                [1] * 3)[0].dtype == np.float64


@pytest.mark.parametrize("name,position", [("bias", 1), ("gamma", 2), ("beta", 3),
                                           ("running_mean", 4), ("running_var", 5)])
def test_a_per_channel_array_of_the_wrong_length_names_itself_and_both_shapes(name, position):
    args = [np.ones((8, 4, 3, 3)), np.zeros(8), np.ones(8), np.zeros(8), np.zeros(8), np.ones(8)]
    args[position] = np.ones(6)
    with pytest.raises(ValueError) as info:
        cconv.fold_batchnorm(*args)
    message = str(info.value)
    assert message.startswith(f"{name} has shape (6,)")
    assert "8 output channels (weight.shape[0])" in message and "(8, 4, 3, 3)" in message


def test_other_argument_errors():
    ones = np.ones(4)
    with pytest.raises(ValueError, match=r"weight must be 4-D .* got shape \(4, 3\)"):
        cconv.fold_batchnorm(np.ones((4, 3)), None, ones, ones, ones, ones)
    with pytest.raises(ValueError, match=r"gamma has shape \(4, 1\)"):
        cconv.fold_batchnorm(np.ones((4, 3, 1, 1)), None, ones[:, None], ones, ones, ones)
    with pytest.raises(TypeError, match="running_var must be an array of 4 elements, got None"):
        cconv.fold_batchnorm(np.ones((4, 3, 1, 1)), None, ones, ones, ones, None)
    with pytest.raises(ValueError, match="running_var \\+ eps must be positive.*channel 2"):
        cconv.fold_batchnorm(np.ones((4, 3, 1, 1)), None, ones, ones, ones, [1, 1, -1, 1], 0.5)
    with pytest.raises(TypeError, match="eps must be a real number, got str"):
        cconv.fold_batchnorm(np.ones((4, 3, 1, 1)), None, ones, ones, ones, ones, eps="1e-5")
    with pytest.raises(TypeError, match="eps must be a real number, got bool"):
        cconv.fold_batchnorm(np.ones((4, 3, 1, 1)), None, ones, ones, ones, ones, eps=True)
    with pytest.raises(TypeError, match="gamma has dtype complex128"):
        cconv.fold_batchnorm(np.ones((4, 3, 1, 1)), None, ones + 0j, ones, ones, ones)
