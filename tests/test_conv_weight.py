"""conv2d_weight: every path against the oracle, adjointness with conv2d, finite differences,
PyTorch, threads, layouts, temporary memory and bad arguments."""

import numpy as np
import pytest

import cconv
from cconv import _simd
from cconv._args import resolve
from cconv._conv_weight import _weight_grad, workspace_bytes
from cconv.oracle import conv2d_weight_oracle
from conftest import IMPLEMENTATIONS, needs_torch

# (input shape, weight shape, params): every padding form, strides, dilation, groups (dense,
# grouped, depthwise, channel multiplier), channel counts below, at and above a vector, kernels
# as large as the input, one-row outputs, unbatched.
CASES = [
    ((2, 3, 9, 8), (4, 3, 3, 3), {}),
    ((2, 6, 10, 11), (4, 3, 3, 3), {"stride": 2, "padding": 1, "groups": 2}),
    ((1, 20, 12, 12), (9, 20, 3, 3), {"padding": 1}),
    ((1, 40, 7, 7), (70, 40, 3, 3), {"padding": 1}),
    ((4, 8, 7, 9), (8, 1, 3, 3), {"groups": 8, "padding": 1}),
    ((2, 4, 11, 10), (8, 1, 5, 5), {"groups": 4, "stride": 2, "padding": 2}),
    ((3, 5, 13, 12), (7, 5, 5, 3), {"stride": (2, 3), "padding": (2, 1), "dilation": (1, 2)}),
    ((1, 3, 30, 30), (2, 3, 7, 7), {"stride": 2, "padding": 3}),
    ((2, 3, 9, 9), (4, 3, 3, 3), {"stride": 2, "padding": "same"}),
    ((1, 4, 10, 7), (3, 4, 4, 2), {"stride": 3, "padding": "same", "dilation": (1, 2)}),
    ((2, 2, 8, 8), (3, 2, 3, 3), {"padding": ((0, 2), (1, 0)), "dilation": 2}),
    ((1, 2, 5, 6), (3, 2, 5, 6), {}),
    ((3, 33, 6, 6), (5, 33, 1, 1), {}),
    ((3, 5, 6), (4, 3, 3, 3), {"padding": "valid"}),
    # padding wider than the columns the outputs read: slab rows with no input column inside
    ((2, 3, 4, 1), (2, 3, 1, 1), {"stride": 3, "padding": ((1, 0), (2, 0))}),
]
CASE_IDS = [f"{x}x{w} {p}" for x, w, p in CASES]


def _data(case, dtype, seed=0):
    xs, ws, params = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(dtype)
    gy = rng.standard_normal(cconv.conv2d_output_shape(xs, ws, **params)).astype(dtype)
    return x, ws, gy, params


def _run(impl, x, ws, gy, threads=2, channels_last=False, **params):
    geom = resolve(np.moveaxis(x, -1, -3).shape if channels_last else x.shape, ws, **params)
    simd = _simd.ACTIVE if impl == "reference" else _simd.path_index(impl)
    return _weight_grad(x, gy, geom, x.dtype, None, threads, simd, impl == "reference",
                        channels_last)


def _assert_close(got, x, ws, gy, params):
    """Within the error bound of a sum of products, from the oracle on absolute values."""
    want = conv2d_weight_oracle(x, ws, gy, **params)
    bound = conv2d_weight_oracle(np.abs(x), ws, np.abs(gy), **params)
    rtol = 1e-5 if got.dtype == np.float32 else 1e-13
    assert got.shape == want.shape
    excess = np.abs(got - want) - rtol * bound
    assert excess.max(initial=-1) <= 1e-300, f"error exceeds the bound by {excess.max():.3g}"


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_path_against_the_oracle(impl, dtype, case):
    x, ws, gy, params = _data(case, dtype)
    got = _run(impl, x, ws, gy, **params)
    assert got.dtype == dtype
    _assert_close(got, x, ws, gy, params)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_channels_last_on_every_path(impl, dtype, case):
    x, ws, gy, params = _data(case, dtype)
    xh = np.ascontiguousarray(np.moveaxis(x, -3, -1))
    gyh = np.ascontiguousarray(np.moveaxis(gy, -3, -1))
    got = _run(impl, xh, ws, gyh, channels_last=True, **params)
    _assert_close(got, x, ws, gy, params)
    want = conv2d_weight_oracle(xh, ws, gyh, data_format="NHWC", **params)
    np.testing.assert_allclose(got, want, rtol=1e-3 if dtype == np.float32 else 1e-10,
                               atol=1e-3 if dtype == np.float32 else 1e-10)


def test_channels_last_public_form():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 9, 10, 6))
    gy = rng.standard_normal((2, 5, 5, 8))
    got = cconv.conv2d_weight(x, (8, 3, 3, 3), gy, stride=2, padding=1, groups=2,
                              data_format="NHWC")
    want = cconv.conv2d_weight(np.moveaxis(x, -1, 1), (8, 3, 3, 3), np.moveaxis(gy, -1, 1),
                               stride=2, padding=1, groups=2)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"input must be 4-D \(N, H, W, C\)"):
        cconv.conv2d_weight(x[0, 0], (8, 3, 3, 3), gy, data_format="NHWC")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bitwise_identical_across_threads_and_layouts(case):
    x, ws, gy, params = _data(case, np.float32, seed=1)
    first = cconv.conv2d_weight(x, ws, gy, threads=1, **params)
    views = [x]
    if x.ndim == 4:
        views.append(np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2))
        views.append(np.ascontiguousarray(x[..., ::-1])[..., ::-1])
    for threads in (2, 3, 5):
        for view in views:
            np.testing.assert_array_equal(
                cconv.conv2d_weight(view, ws, gy, threads=threads, **params), first)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_adjoint_of_conv2d(case, dtype):
    """<conv2d(x, w), g> == <w, conv2d_weight(x, g)>: the defining property."""
    x, ws, g, params = _data(case, dtype, seed=2)
    w = np.random.default_rng(3).standard_normal(ws).astype(dtype)
    y = cconv.conv2d(x, w, **params)
    dw = cconv.conv2d_weight(x, ws, g, **params)
    lhs = np.vdot(y.astype(np.float64), g.astype(np.float64))
    rhs = np.vdot(w.astype(np.float64), dw.astype(np.float64))
    assert abs(lhs - rhs) <= (1e-4 if dtype == np.float32 else 1e-11) * (
        np.abs(y).sum() * np.abs(g).max() + 1)


def test_against_finite_differences():
    rng = np.random.default_rng(4)
    xs, ws = (2, 3, 8, 7), (4, 3, 3, 2)
    params = dict(stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2))
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    g = rng.standard_normal(cconv.conv2d_output_shape(xs, ws, **params))
    dw = cconv.conv2d_weight(x, ws, g, **params)
    eps = 1e-6
    for idx in [(0, 0, 0, 0), (3, 2, 2, 1), (1, 1, 1, 0), (2, 0, 2, 1)]:
        bump = np.zeros(ws)
        bump[idx] = eps
        loss = [np.sum(cconv.conv2d(x, w + s * bump, **params) * g) for s in (1, -1)]
        assert abs((loss[0] - loss[1]) / (2 * eps) - dw[idx]) < 1e-7


def test_empty_cases_and_out():
    x = np.ones((0, 3, 5, 5), np.float32)
    g = np.ones((0, 4, 3, 3), np.float32)
    np.testing.assert_array_equal(cconv.conv2d_weight(x, (4, 3, 3, 3), g), 0)
    out = np.full((4, 3, 3, 3), np.nan, np.float32)
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 5)).astype(np.float32)
    g = np.random.default_rng(6).standard_normal((2, 4, 3, 3)).astype(np.float32)
    assert cconv.conv2d_weight(x, (4, 3, 3, 3), g, out=out) is out
    _assert_close(out, x, (4, 3, 3, 3), g, {})


@pytest.mark.parametrize("xs, ws, params", [
    ((64, 32, 32, 32), (64, 32, 3, 3), dict(padding=1)),
    ((1, 64, 56, 56), (64, 64, 3, 3), dict(padding=1)),
    ((1, 3, 2000, 1500), (8, 3, 5, 5), dict(padding=2)),
])
def test_temporary_memory_within_budget(xs, ws, params):
    """At most max(8 MB, 25% of the gradient) whatever the input's size."""
    for threads in (1, 2, 8):
        assert workspace_bytes(xs, ws, threads=threads, **params) <= max(
            8 * 2**20, 0.25 * 4 * np.prod(ws))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch_nn_grad(dtype):
    import torch
    from torch.nn.grad import conv2d_weight

    for case in CASES:
        xs, ws, params = case
        if isinstance(params.get("padding"), (str, tuple)) or len(xs) == 3:
            continue                              # torch.nn.grad takes symmetric int padding
        x, ws, g, params = _data(case, dtype, seed=7)
        theirs = conv2d_weight(torch.from_numpy(x), ws, torch.from_numpy(g), **params).numpy()
        ours = cconv.conv2d_weight(x, ws, g, **params)
        rtol = 1e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max())


def test_bad_arguments():
    x = np.ones((1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"grad_output has shape \(1, 4, 5, 5\), but conv2d of "
                                         r"an input of shape \(1, 3, 8, 8\) with a weight of "
                                         r"size \(4, 3, 3, 3\) gives \(1, 4, 6, 6\)"):
        cconv.conv2d_weight(x, (4, 3, 3, 3), np.ones((1, 4, 5, 5)))
    with pytest.raises(ValueError, match="weight has kernel depth 2"):
        cconv.conv2d_weight(x, (4, 2, 3, 3), np.ones((1, 4, 6, 6)))
    with pytest.raises(TypeError, match="weight_size must be a tuple of ints"):
        cconv.conv2d_weight(x, "4333", np.ones((1, 4, 6, 6)))
    with pytest.raises(TypeError, match="grad_output has dtype complex128"):
        cconv.conv2d_weight(x, (4, 3, 3, 3), np.ones((1, 4, 6, 6), complex))
    with pytest.raises(ValueError, match=r"out has shape \(4, 3, 3\)"):
        cconv.conv2d_weight(x, (4, 3, 3, 3), np.ones((1, 4, 6, 6)), out=np.empty((4, 3, 3)))
