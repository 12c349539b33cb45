"""conv_transpose2d and conv2d_input: every path against the scattering oracle, adjointness with
conv2d, finite differences, PyTorch, threads, layouts and bad arguments."""

import numpy as np
import pytest

import cconv
from cconv import _simd
from cconv._args import resolve_transpose
from cconv._conv_transpose import _transpose
from cconv.oracle import conv2d_input_oracle, conv_transpose2d_oracle
from conftest import IMPLEMENTATIONS, needs_torch

# (N, C, H, W, O, kH, kW, params): strides 1-3, each padding form, output_padding, dilation,
# groups, kernels smaller than the stride (phases no tap reaches), one-pixel inputs.
CASES = [
    (1, 3, 5, 6, 4, 3, 3, {}),
    (2, 4, 7, 5, 6, 3, 3, {"stride": 2, "padding": 1, "output_padding": 1}),
    (1, 6, 6, 7, 4, 4, 4, {"stride": 2, "padding": 1, "groups": 2}),
    (1, 2, 5, 5, 3, 3, 5, {"stride": 3, "padding": (1, 2), "dilation": (1, 2)}),
    (1, 4, 4, 6, 4, 2, 2, {"stride": 3, "output_padding": (2, 1)}),
    (1, 3, 6, 6, 2, 1, 1, {"stride": 2}),
    (2, 4, 3, 9, 8, 3, 3, {"stride": (1, 2), "padding": ((0, 2), (2, 1)), "groups": 4}),
    (1, 5, 8, 8, 5, 5, 5, {"stride": 2, "padding": 2, "dilation": 2, "output_padding": 1}),
    (1, 3, 1, 1, 4, 3, 3, {"stride": 2}),
    (1, 2, 9, 40, 3, 3, 3, {"stride": 2, "padding": 1}),
    (1, 64, 7, 7, 32, 3, 3, {"stride": 2, "padding": 1, "output_padding": 1}),
    (1, 8, 5, 5, 8, 3, 3, {"stride": 2, "dilation": 3, "padding": 4}),
    (1, 1, 30, 70, 1, 4, 4, {"stride": 2, "padding": 1}),
    (2, 24, 10, 11, 32, 3, 3, {"stride": 2, "padding": 1, "output_padding": 1}),
]
CASE_IDS = [f"{c[1]}x{c[2]}x{c[3]}->{c[4]} k{c[5]}x{c[6]} {c[7]}" for c in CASES]


def _data(case, dtype, seed=0):
    n, c, h, w, o, kh, kw, params = case
    rng = np.random.default_rng(seed)
    groups = params.get("groups", 1)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((c, o // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return x, wt, b, params


def _run(impl, x, w, b=None, threads=2, channels_last=False, **params):
    shape = np.moveaxis(x, -1, -3).shape if channels_last else x.shape
    geom = resolve_transpose(shape, w.shape, **params)
    simd = _simd.ACTIVE if impl == "reference" else _simd.path_index(impl)
    return _transpose(x, w, b, geom, None, threads, "test", simd, impl == "reference",
                      channels_last=channels_last)


def _assert_close(got, want, dtype):
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    scale = np.abs(want).max(initial=0) + 1
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale * 10)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_path_against_the_oracle(impl, dtype, case):
    x, w, b, params = _data(case, dtype)
    for bias in (b, None):
        got = _run(impl, x, w, bias, **params)
        assert got.dtype == dtype
        _assert_close(got, conv_transpose2d_oracle(x, w, bias, **params), dtype)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_channels_last_on_every_path(impl, dtype, case):
    """data_format="NHWC": every phase runs conv2d on channels-last views of the input and the
    output (the channels-last kernels where the layer suits them)."""
    x, w, b, params = _data(case, dtype)
    xh = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    got = _run(impl, xh, w, b, channels_last=True, **params)
    assert got.flags.c_contiguous
    _assert_close(got, conv_transpose2d_oracle(xh, w, b, data_format="NHWC", **params), dtype)
    _assert_close(np.moveaxis(got, -1, 1), conv_transpose2d_oracle(x, w, b, **params), dtype)


def test_channels_last_public_forms():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 9, 16))
    w = rng.standard_normal((16, 4, 3, 3))
    got = cconv.conv_transpose2d(x, w, stride=2, padding=1, output_size=(14, 17),
                                 data_format="NHWC")
    assert got.shape == (14, 17, 4)
    assert cconv.conv_transpose2d_output_shape(x.shape, w.shape, stride=2, padding=1,
                                               output_size=(14, 17),
                                               data_format="NHWC") == (14, 17, 4)
    _assert_close(got, conv_transpose2d_oracle(x, w, stride=2, padding=1, output_size=(14, 17),
                                               data_format="NHWC"), np.float64)
    # conv2d_input in NHWC: the same numbers as channels first, in the input's layout.
    wf = rng.standard_normal((6, 16, 3, 3))
    gy = rng.standard_normal((2, 4, 5, 6))
    got = cconv.conv2d_input((2, 7, 9, 16), wf, gy, stride=2, padding=1, data_format="NHWC")
    want = cconv.conv2d_input((2, 16, 7, 9), wf, np.moveaxis(gy, -1, 1), stride=2, padding=1)
    _assert_close(np.moveaxis(got, -1, 1), want, np.float64)
    with pytest.raises(ValueError, match=r"grad_output has shape \(2, 6, 4, 5\), but conv2d"):
        cconv.conv2d_input((2, 7, 9, 16), wf, np.moveaxis(gy, -1, 1), stride=2, padding=1,
                           data_format="NHWC")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bitwise_identical_across_threads_and_layouts(case):
    x, w, b, params = _data(case, np.float32, seed=1)
    first = cconv.conv_transpose2d(x, w, b, threads=1, **params)
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for threads, view in ((2, x), (4, x[:, :, ::-1][:, :, ::-1])):
        again = cconv.conv_transpose2d(view, w, b, threads=threads, **params)
        np.testing.assert_array_equal(again, first)
    # A channels-last input may run the channels-last kernels, which sum in another order:
    # bitwise the same across thread counts, and close to the channels-first result.
    last = cconv.conv_transpose2d(channels_last, w, b, threads=1, **params)
    np.testing.assert_array_equal(cconv.conv_transpose2d(channels_last, w, b, threads=3,
                                                         **params), last)
    _assert_close(last, first, np.float32)


def test_unbatched_out_and_output_size():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    for size in ((9, 9), (10, 10), (1, 3, 10, 9), (3, 9, 10)):
        out = np.empty((3,) + tuple(size[-2:]), np.float32)
        got = cconv.conv_transpose2d(x, w, stride=2, padding=1, output_size=size, out=out)
        assert got is out
        _assert_close(got, conv_transpose2d_oracle(x, w, stride=2, padding=1, output_size=size),
                      np.float32)
    assert cconv.conv_transpose2d_output_shape((4, 5, 5), (4, 3, 3, 3), stride=2, padding=1,
                                               output_size=(10, 9)) == (3, 10, 9)


def test_empty_and_one_channel_cases():
    w = np.ones((0, 2, 3, 3))
    np.testing.assert_array_equal(cconv.conv_transpose2d(np.ones((1, 0, 4, 4)), w, [1.0, 2.0]),
                                  np.broadcast_to([[[1.0]], [[2.0]]], (1, 2, 6, 6)))
    assert cconv.conv_transpose2d(np.ones((0, 3, 4, 4)), np.ones((3, 2, 3, 3))).shape == (
        0, 2, 6, 6)


# ---------------------------------------------------------------------------- conv2d_input

GRAD_CASES = [
    ((2, 3, 9, 8), (4, 3, 3, 3), {}),
    ((1, 4, 10, 11), (6, 2, 3, 3), {"stride": 2, "padding": 1, "groups": 2}),
    ((1, 3, 9, 9), (4, 3, 3, 3), {"stride": 2, "padding": "same"}),
    ((1, 3, 10, 7), (2, 3, 4, 2), {"stride": 3, "padding": "same", "dilation": (1, 2)}),
    ((2, 2, 8, 8), (3, 2, 3, 3), {"padding": ((0, 2), (1, 0)), "dilation": 2}),
    ((1, 8, 12, 12), (8, 1, 3, 3), {"stride": 2, "padding": 1, "groups": 8}),
    ((1, 3, 7, 7), (5, 3, 7, 7), {"stride": 2, "padding": 3}),
    ((3, 5, 6), (4, 3, 3, 3), {"padding": "valid"}),
]
GRAD_IDS = [f"{s}<-{w} {p}" for s, w, p in GRAD_CASES]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size, wshape, params", GRAD_CASES, ids=GRAD_IDS)
def test_input_gradient_against_the_oracle_and_conv2d_adjoint(size, wshape, params, dtype):
    """<conv2d(x), g> == <x, conv2d_input(g)> for every x and g: the defining property."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal(wshape).astype(dtype)
    x = rng.standard_normal(size).astype(dtype)
    y = cconv.conv2d(x, w, **params)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = cconv.conv2d_input(size, w, g, **params)
    assert dx.shape == size and dx.dtype == dtype
    _assert_close(dx, conv2d_input_oracle(size, w, g, **params), dtype)
    lhs = np.vdot(y.astype(np.float64), g.astype(np.float64))
    rhs = np.vdot(x.astype(np.float64), dx.astype(np.float64))
    assert abs(lhs - rhs) <= (1e-4 if dtype == np.float32 else 1e-11) * (
        np.abs(y).sum() * np.abs(g).max() + 1)


def test_input_gradient_against_finite_differences():
    """d/dx of the loss sum(conv2d(x) * g), one central difference per sampled pixel."""
    rng = np.random.default_rng(4)
    size, wshape = (1, 3, 7, 6), (2, 3, 3, 3)
    params = dict(stride=2, padding=((1, 0), (0, 2)), dilation=(1, 2))
    w = rng.standard_normal(wshape)
    x = rng.standard_normal(size)
    g = rng.standard_normal(cconv.conv2d_output_shape(size, wshape, **params))
    dx = cconv.conv2d_input(size, w, g, **params)
    eps = 1e-6
    for idx in [(0, 0, 0, 0), (0, 1, 3, 2), (0, 2, 6, 5), (0, 0, 4, 1)]:
        bump = np.zeros(size)
        bump[idx] = eps
        loss = [np.sum(cconv.conv2d(x + s * bump, w, **params) * g) for s in (1, -1)]
        assert abs((loss[0] - loss[1]) / (2 * eps) - dx[idx]) < 1e-7


# ---------------------------------------------------------------------------- PyTorch

@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_pytorch_on_random_configurations(dtype):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(5)
    for _ in range(120):
        groups = int(rng.choice([1, 2, 3]))
        c, o = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        h, w = (int(v) for v in rng.integers(1, 12, size=2))
        x = rng.standard_normal((int(rng.integers(1, 3)), c, h, w)).astype(dtype)
        wt = rng.standard_normal((c, o // groups, kh, kw)).astype(dtype)
        b = rng.standard_normal(o).astype(dtype) if rng.random() < 0.5 else None
        args = (stride, padding, output_padding, groups, dilation)
        try:
            theirs = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(wt),
                                        None if b is None else torch.from_numpy(b),
                                        *args).numpy()
        except RuntimeError:
            # PyTorch refuses: cconv refuses too, or (where the output size is 0, which
            # PyTorch gives for some groups and refuses for others) returns an empty array.
            try:
                assert cconv.conv_transpose2d(x, wt, b, *args).size == 0
            except ValueError:
                pass
            continue
        _assert_close(cconv.conv_transpose2d(x, wt, b, *args), theirs, dtype)


@needs_torch
def test_input_gradient_matches_torch_nn_grad():
    import torch
    from torch.nn.grad import conv2d_input

    rng = np.random.default_rng(6)
    for size, wshape, params in GRAD_CASES:
        if isinstance(params.get("padding"), (str, tuple)) or len(size) == 3:
            continue                              # torch.nn.grad takes symmetric int padding
        w = rng.standard_normal(wshape)
        g = rng.standard_normal(cconv.conv2d_output_shape(size, wshape, **params))
        theirs = conv2d_input(size, torch.from_numpy(w), torch.from_numpy(g), **params).numpy()
        _assert_close(cconv.conv2d_input(size, w, g, **params), theirs, np.float64)


# ---------------------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(weight=np.ones((4, 2, 3, 3))), ValueError,
     r"weight has 4 kernel stacks \(weight.shape\[0\]\) but input has 3 channels"),
    (dict(groups=2), ValueError, "input has 3 channels, which groups=2 does not divide"),
    (dict(stride=2, output_padding=2), ValueError,
     "output_padding 2 along the height must be smaller than either the stride 2 or the "
     "dilation 1"),
    (dict(padding="same"), ValueError, "for a transposed convolution, got the string 'same'"),
    (dict(padding=4), ValueError, r"the output height would be -1 \(= \(5 - 1\) \* stride 1 - "
                                  r"padding 4 - 4"),
    (dict(stride=2, output_size=(13, 11)), ValueError,
     "output_size asks for an output height of 13, but this input, kernel, stride and padding "
     "give 11 to 12"),
    (dict(stride=2, output_size=(11, 13)), ValueError,
     "output_size asks for an output width of 13, but this input, kernel, stride and padding "
     "give 11 to 12"),
    (dict(stride=2, output_padding=1, output_size=(12, 12)), ValueError,
     "give output_padding or output_size, not both"),
    (dict(output_size=(1, 2, 3, 4, 5)), ValueError, "output_size must be"),
    (dict(bias=np.ones(3)), ValueError, r"bias must have shape \(2,\)"),
    (dict(stride=0), ValueError, "stride must be >= 1, got 0"),
    (dict(output_padding=-1), ValueError, "output_padding must be >= 0, got -1"),
])
def test_bad_arguments(kwargs, error, match):
    args = dict(input=np.ones((1, 3, 5, 5)), weight=np.ones((3, 2, 3, 3)))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        cconv.conv_transpose2d(**args)


def test_conv2d_input_bad_arguments():
    w = np.ones((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"grad_output has shape \(1, 4, 5, 5\), but conv2d of "
                                         r"an input of size \(1, 3, 8, 8\) with a weight of "
                                         r"shape \(4, 3, 3, 3\) gives \(1, 4, 6, 6\)"):
        cconv.conv2d_input((1, 3, 8, 8), w, np.ones((1, 4, 5, 5)))
    with pytest.raises(ValueError, match="weight has kernel depth 3"):
        cconv.conv2d_input((1, 2, 8, 8), w, np.ones((1, 4, 6, 6)))
    with pytest.raises(TypeError, match="input_size must be a tuple of ints"):
        cconv.conv2d_input(8, w, np.ones((1, 4, 6, 6)))
    with pytest.raises(TypeError, match="grad_output has dtype complex128"):
        cconv.conv2d_input((1, 3, 8, 8), w, np.ones((1, 4, 6, 6), complex))
