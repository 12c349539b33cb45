"""Pooling in both layouts: data_format="NHWC" for every pooling function, against the oracle in
NHWC and, bit for bit, against the NCHW result of the same data, on every SIMD path and the C
reference kernels; channel counts on both sides of the channels-last loops' threshold (and
across their blocks and runs), batched and unbatched, every window parameter; strided,
reversed, sliced and broadcast NHWC views, NHWC out=, indices laid out unlike grad_output,
arrays of mixed layouts in the C core, thread counts, PyTorch's channels_last, and the messages
that name data_format."""

import numpy as np
import pytest

import cconv
from cconv import _core, oracle
from conftest import needs_torch
from test_pool import (ADAPTIVE_CONFIGS, DTYPES, IMPLS, _data, _random_window_configs,
                       adaptive_avg, adaptive_backward, adaptive_max, assert_close, avg_backward,
                       avg_pool, max_backward, max_pool)

MIN = _core.POOL_CL_MIN_CHANNELS
# Channel counts of the planar loops reading through strides (fewer than MIN), and of the
# channels-last loops: one short block, whole blocks of 8 (float64) and 16 (float32) channels,
# a last block overlapping the one before, and more than one run of 256 channels (RUNS).
PLANAR_CHANNELS = [2, 3, MIN - 1]
CL_CHANNELS = [MIN, 13, 16, 17, 24, 33, 40]
RUNS = 2 * 256 + 5


def nhwc(a):
    """An NCHW array's values as an NHWC array (C-contiguous), batched or not."""
    return np.ascontiguousarray(np.moveaxis(a, -3, -1))


def nchw(a):
    return np.moveaxis(a, -1, -3)


def _with_channels(configs, channels):
    """The configurations with their channel counts replaced, cycling through `channels`."""
    found = []
    for i, (shape, params) in enumerate(configs):
        c = channels[i % len(channels)]
        found.append((shape[:-3] + (c,) + shape[-2:], params))
    return found


MAX_CONFIGS = _with_channels(_random_window_configs(40, 31, average=False),
                             CL_CHANNELS + PLANAR_CHANNELS)
AVG_CONFIGS = _with_channels(_random_window_configs(40, 32, average=True),
                             CL_CHANNELS + PLANAR_CHANNELS)
LAYOUT_ADAPTIVE = _with_channels(ADAPTIVE_CONFIGS, [17, 3, 16, 40, MIN, 2, 33])


def test_channel_counts_reach_both_loops():
    counts = {shape[-3] for shape, _ in MAX_CONFIGS + AVG_CONFIGS + LAYOUT_ADAPTIVE}
    assert min(counts) < MIN <= max(counts)
    assert {len(s) == 4 for s, _ in MAX_CONFIGS} == {False, True}  # batched and unbatched


# --------------------------------------------------------------- against the oracle and NCHW
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_nhwc(impl, dtype):
    for i, (shape, params) in enumerate(MAX_CONFIGS):
        x = _data(shape, dtype, 100 + i, specials=i % 3 == 0)
        xl = nhwc(x)
        values, idx = max_pool(impl, xl, return_indices=True, data_format="NHWC", **params)
        want, want_idx = oracle.max_pool2d_oracle(xl, return_indices=True, data_format="NHWC",
                                                  **params)
        assert values.dtype == dtype and idx.dtype == np.int64 and values.flags.c_contiguous
        np.testing.assert_array_equal(values, want.astype(dtype), err_msg=f"{shape} {params}")
        np.testing.assert_array_equal(idx, want_idx, err_msg=f"{shape} {params}")
        planar, planar_idx = max_pool(impl, x, return_indices=True, **params)
        assert np.array_equal(values, nhwc(planar), equal_nan=True)
        np.testing.assert_array_equal(idx, nhwc(planar_idx))
        np.testing.assert_array_equal(max_pool(impl, xl, data_format="NHWC", **params), values)
        go = np.random.default_rng(i).standard_normal(values.shape).astype(dtype)
        grad = max_backward(impl, go, idx, xl.shape, data_format="NHWC")
        assert grad.shape == xl.shape
        assert_close(grad, oracle.max_pool2d_backward_oracle(go, idx, xl.shape,
                                                             data_format="NHWC"), dtype)
        np.testing.assert_array_equal(grad, nhwc(max_backward(impl, nchw(go), planar_idx,
                                                              x.shape)))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool2d_nhwc(impl, dtype):
    for i, (shape, params) in enumerate(AVG_CONFIGS):
        x = _data(shape, dtype, 200 + i)
        xl = nhwc(x)
        got = avg_pool(impl, xl, data_format="NHWC", **params)
        assert got.dtype == dtype and got.flags.c_contiguous
        assert_close(got, oracle.avg_pool2d_oracle(xl, data_format="NHWC", **params), dtype)
        # The same sums in the same order: the same bits as NCHW.
        np.testing.assert_array_equal(got, nhwc(avg_pool(impl, x, **params)),
                                      err_msg=f"{shape} {params}")
        go = np.random.default_rng(i).standard_normal(got.shape).astype(dtype)
        grad = avg_backward(impl, go, xl.shape, data_format="NHWC", **params)
        assert_close(grad, oracle.avg_pool2d_backward_oracle(go, xl.shape, data_format="NHWC",
                                                             **params), dtype)
        np.testing.assert_array_equal(grad, nhwc(avg_backward(impl, nchw(go), x.shape,
                                                              **params)))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_pools_nhwc(impl, dtype):
    for i, (shape, size) in enumerate(LAYOUT_ADAPTIVE):
        x = _data(shape, dtype, 300 + i, specials=i % 4 == 1)
        xl = nhwc(x)
        got = adaptive_avg(impl, xl, size, data_format="NHWC")
        assert_close(got, oracle.adaptive_avg_pool2d_oracle(xl, size, data_format="NHWC"), dtype)
        assert np.array_equal(got, nhwc(adaptive_avg(impl, x, size)), equal_nan=True)
        values, idx = adaptive_max(impl, xl, size, True, data_format="NHWC")
        want, want_idx = oracle.adaptive_max_pool2d_oracle(xl, size, True, data_format="NHWC")
        np.testing.assert_array_equal(values, want.astype(dtype))
        np.testing.assert_array_equal(idx, want_idx)
        go = np.random.default_rng(i).standard_normal(got.shape).astype(dtype)
        grad = adaptive_backward(impl, go, xl.shape, data_format="NHWC")
        assert_close(grad, oracle.adaptive_avg_pool2d_backward_oracle(go, xl.shape,
                                                                      data_format="NHWC"), dtype)
        np.testing.assert_array_equal(grad, nhwc(adaptive_backward(impl, nchw(go), x.shape)))
        assert_close(max_backward(impl, go, idx, xl.shape, data_format="NHWC"),
                     oracle.max_pool2d_backward_oracle(go, idx, xl.shape, data_format="NHWC"),
                     dtype)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_runs_of_channels(impl, dtype):
    """More channels than one run of the channels-last maxima (and than the blocks of sums)."""
    x = _data((2, RUNS, 7, 6), dtype, 7, specials=True)
    xl = nhwc(x)
    for params in ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                   {"kernel_size": (2, 3), "dilation": (3, 1), "stride": 1}):
        values, idx = max_pool(impl, xl, return_indices=True, data_format="NHWC", **params)
        want, want_idx = oracle.max_pool2d_oracle(xl, return_indices=True, data_format="NHWC",
                                                  **params)
        np.testing.assert_array_equal(values, want.astype(dtype))
        np.testing.assert_array_equal(idx, want_idx)
    xl = nhwc(_data((2, RUNS, 7, 6), dtype, 9))  # finite: sums of inf and -inf are NaN
    params = {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}
    assert_close(avg_pool(impl, xl, data_format="NHWC", **params),
                 oracle.avg_pool2d_oracle(xl, data_format="NHWC", **params), dtype)
    go = _data((2, 4, 3, RUNS), dtype, 8)
    assert_close(avg_backward(impl, go, xl.shape, data_format="NHWC", **params),
                 oracle.avg_pool2d_backward_oracle(go, xl.shape, data_format="NHWC", **params),
                 dtype)
    values, idx = adaptive_max(impl, xl, (3, 2), True, data_format="NHWC")
    np.testing.assert_array_equal(idx, oracle.adaptive_max_pool2d_oracle(
        xl, (3, 2), True, data_format="NHWC")[1])
    assert_close(adaptive_avg(impl, xl, (3, 2), data_format="NHWC"),
                 oracle.adaptive_avg_pool2d_oracle(xl, (3, 2), data_format="NHWC"), dtype)


def test_global_average_of_a_large_plane_keeps_the_planar_sum_order():
    """The lane order of adaptive average pooling (32 partial sums) in both layouts."""
    x = np.random.default_rng(3).standard_normal((1, 20, 61, 67)).astype(np.float32)
    got = cconv.adaptive_avg_pool2d(nhwc(x), 1, data_format="NHWC")
    np.testing.assert_array_equal(got, nhwc(cconv.adaptive_avg_pool2d(x, 1)))


def test_huge_kernels_record_indices_in_both_layouts():
    """Windows of thousands of taps (the planar loop's scalar index path) in NHWC."""
    x = _data((1, MIN + 1, 70, 81), np.float32, 3, specials=True)
    params = {"kernel_size": (64, 65), "stride": (3, 7), "ceil_mode": True}
    values, idx = cconv.max_pool2d(nhwc(x), return_indices=True, data_format="NHWC", **params)
    want, want_idx = cconv.max_pool2d(x, return_indices=True, **params)
    assert np.array_equal(values, nhwc(want), equal_nan=True)
    np.testing.assert_array_equal(idx, nhwc(want_idx))


# ------------------------------------------------------------------------ views and out=
def _nhwc_views(xl):
    """An NHWC array's values in NHWC views the C core reads in place."""
    n, h, w, c = xl.shape
    big = np.full((n, 2 * h, w + 3, 2 * c + 1), np.nan, xl.dtype)
    big[:, ::2, 1:w + 1, 1::2] = xl
    return {
        "sliced": big[:, ::2, 1:w + 1, 1::2],  # channel stride 2: the planar loops
        "reversed_channels": np.ascontiguousarray(xl[..., ::-1])[..., ::-1],
        "padded_rows": big[:, ::2, 1:w + 1, 1:][..., ::2],
        "reversed_columns": np.ascontiguousarray(xl[:, :, ::-1])[:, :, ::-1],
        "from_nchw": np.moveaxis(np.ascontiguousarray(np.moveaxis(xl, -1, 1)), 1, -1),
        "channels_only_contiguous": np.ascontiguousarray(
            xl.transpose(2, 0, 1, 3)).transpose(1, 2, 0, 3),
    }


def _every_nhwc_call(xl, go_shape):
    go = np.asarray(np.random.default_rng(9).standard_normal(go_shape), xl.dtype)
    y, idx = cconv.max_pool2d(xl, 3, 2, 1, return_indices=True, data_format="NHWC")
    return {
        "max": y, "max indices": idx,
        "max 2x2": cconv.max_pool2d(xl, 2, ceil_mode=True, data_format="NHWC"),
        "avg": cconv.avg_pool2d(xl, 3, 2, 1, ceil_mode=True, count_include_pad=False,
                                data_format="NHWC"),
        "avg backward": cconv.avg_pool2d_backward(go, xl.shape, 3, 2, 1, data_format="NHWC"),
        "max backward": cconv.max_pool2d_backward(go, idx, xl.shape, data_format="NHWC"),
        "adaptive avg": cconv.adaptive_avg_pool2d(xl, (5, 6), data_format="NHWC"),
        "global avg": cconv.adaptive_avg_pool2d(xl, 1, data_format="NHWC"),
        "adaptive max": cconv.adaptive_max_pool2d(xl, (9, 4), return_indices=True,
                                                  data_format="NHWC")[1],
        "adaptive backward": cconv.adaptive_avg_pool2d_backward(go, xl.shape,
                                                                data_format="NHWC"),
    }


@pytest.mark.parametrize("channels", [3, MIN + 5])
@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_nhwc_views_give_the_same_bits(channels, dtype):
    xl = nhwc(_data((2, channels, 23, 21), dtype, 5, specials=True))
    go_shape = (2, 12, 11, channels)
    want = _every_nhwc_call(xl, go_shape)
    for name, view in _nhwc_views(xl).items():
        assert np.array_equal(view, xl, equal_nan=True)
        got = _every_nhwc_call(view, go_shape)
        for key in want:
            assert np.array_equal(got[key], want[key], equal_nan=True), (name, key)


@pytest.mark.parametrize("channels", [3, MIN + 5])
def test_strided_grad_output_and_indices(channels):
    """The gradients read grad_output and indices through their strides, whatever their layout
    (indices laid out unlike grad_output included)."""
    xl = nhwc(_data((2, channels, 13, 12), np.float64, 6))
    y, idx = cconv.max_pool2d(xl, 3, 2, 1, return_indices=True, data_format="NHWC")
    go = np.random.default_rng(1).standard_normal(y.shape)
    want = cconv.max_pool2d_backward(go, idx, xl.shape, data_format="NHWC")
    want_avg = cconv.avg_pool2d_backward(go, xl.shape, 3, 2, 1, data_format="NHWC")
    want_adaptive = cconv.adaptive_avg_pool2d_backward(go, xl.shape, data_format="NHWC")
    for go_view in _nhwc_views(go).values():
        for idx_view in (idx, np.asfortranarray(idx), np.ascontiguousarray(idx[..., ::-1])[
                ..., ::-1], idx.astype(np.int32)):
            got = cconv.max_pool2d_backward(go_view, idx_view, xl.shape, data_format="NHWC")
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(
            cconv.avg_pool2d_backward(go_view, xl.shape, 3, 2, 1, data_format="NHWC"), want_avg)
        np.testing.assert_array_equal(
            cconv.adaptive_avg_pool2d_backward(go_view, xl.shape, data_format="NHWC"),
            want_adaptive)


def test_broadcast_nhwc_input_is_read_in_place():
    x = _data((1, 20, 21, MIN + 2), np.float32, 6)
    view = np.broadcast_to(x, (3, 20, 21, MIN + 2))
    got = cconv.max_pool2d(view, 3, 2, 1, data_format="NHWC")
    np.testing.assert_array_equal(
        got, np.broadcast_to(cconv.max_pool2d(x, 3, 2, 1, data_format="NHWC"), got.shape))
    pixel = np.broadcast_to(x[:1, :1, :1], (2, 9, 9, MIN + 2))  # every pixel the same vector
    np.testing.assert_array_equal(cconv.avg_pool2d(pixel, 3, data_format="NHWC"),
                                  np.broadcast_to(x[:1, :1, :1], (2, 3, 3, MIN + 2)))


@pytest.mark.parametrize("channels", [3, MIN + 1])
@pytest.mark.parametrize("dtype", DTYPES)
def test_nhwc_out_is_filled_and_returned(channels, dtype):
    xl = nhwc(_data((2, channels, 12, 13), dtype, 7))
    out = np.full((2, 6, 7, channels), np.nan, dtype)
    assert cconv.max_pool2d(xl, 2, ceil_mode=True, data_format="NHWC", out=out) is out
    np.testing.assert_array_equal(out, cconv.max_pool2d(xl, 2, ceil_mode=True,
                                                        data_format="NHWC"))
    idx = np.full((2, 6, 7, channels), -7, np.int64)
    values, got_idx = cconv.max_pool2d(xl, 2, ceil_mode=True, return_indices=True,
                                       data_format="NHWC", out=(out, idx))
    assert values is out and got_idx is idx
    np.testing.assert_array_equal(idx, nhwc(cconv.max_pool2d(nchw(xl), 2, ceil_mode=True,
                                                             return_indices=True)[1]))
    out = np.empty((2, 4, 4, channels), dtype)
    assert cconv.avg_pool2d(xl, 3, data_format="NHWC", out=out) is out
    np.testing.assert_array_equal(out, nhwc(cconv.avg_pool2d(nchw(xl), 3)))
    assert cconv.adaptive_avg_pool2d(xl, 4, data_format="NHWC", out=out) is out
    np.testing.assert_array_equal(out, nhwc(cconv.adaptive_avg_pool2d(nchw(xl), 4)))
    assert cconv.adaptive_max_pool2d(xl, 4, data_format="NHWC", out=out) is out
    grad = np.empty(xl.shape, dtype)
    assert cconv.avg_pool2d_backward(out, xl.shape, 3, data_format="NHWC", out=grad) is grad
    np.testing.assert_array_equal(grad, nhwc(cconv.avg_pool2d_backward(nchw(out), nchw(xl).shape,
                                                                       3)))
    assert cconv.adaptive_avg_pool2d_backward(out, xl.shape, data_format="NHWC",
                                              out=grad) is grad
    with pytest.raises(ValueError, match=r"out has shape \(2, %d, 4, 4\), but the result has "
                       r"shape \(2, 4, 4, %d\)" % (channels, channels)):
        cconv.avg_pool2d(xl, 3, data_format="NHWC", out=np.empty((2, channels, 4, 4), dtype))


def test_nhwc_out_overlapping_the_input_is_computed_aside():
    xl = nhwc(_data((1, MIN, 8, 8), np.float64, 8))
    want = cconv.avg_pool2d(xl, 2, 1, ceil_mode=True, data_format="NHWC")
    flat = xl.reshape(-1).copy()  # out is the input's own memory: read first, then written
    n = 7 * 7 * MIN
    got = cconv.avg_pool2d(flat.reshape(1, 8, 8, MIN), 2, 1, ceil_mode=True, data_format="NHWC",
                           out=flat[:n].reshape(1, 7, 7, MIN))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("impl", IMPLS)
def test_unbatched_and_empty_nhwc(impl):
    xl = nhwc(_data((MIN + 3, 9, 8), np.float32, 9))
    got = max_pool(impl, xl, 3, 2, 1, data_format="NHWC")
    assert got.shape == (5, 4, MIN + 3)
    np.testing.assert_array_equal(got, max_pool(impl, xl[None], 3, 2, 1, data_format="NHWC")[0])
    assert max_pool(impl, np.zeros((0, 5, 5, 3)), 2, data_format="NHWC").shape == (0, 2, 2, 3)
    assert avg_pool(impl, np.zeros((2, 5, 5, 0), np.float32), 2,
                    data_format="NHWC").shape == (2, 2, 2, 0)
    assert adaptive_avg(impl, np.zeros((2, 5, 5, 3)), (0, 3),
                        data_format="NHWC").shape == (2, 0, 3, 3)
    np.testing.assert_array_equal(
        adaptive_backward(impl, np.zeros((2, 0, 3, 3)), (2, 5, 5, 3), data_format="NHWC"),
        np.zeros((2, 5, 5, 3)))
    np.testing.assert_array_equal(
        max_backward(impl, np.zeros((2, 0, 3, MIN)), np.zeros((2, 0, 3, MIN), np.int64),
                     (2, 5, 5, MIN), data_format="NHWC"), np.zeros((2, 5, 5, MIN)))


# ----------------------------------------------------------------- the C core's mixed layouts
def _core_layouts(shape, dtype, rng):
    """4-D (N, C, H, W)-ordered arrays of one shape in three layouts: C-contiguous, an NHWC
    array seen through its axes, and a strided view with padded rows and reversed columns."""
    n, c, h, w = shape
    planar = np.zeros(shape, dtype)
    cl = np.zeros((n, h, w, c), dtype).transpose(0, 3, 1, 2)
    big = np.zeros((n, c, h, w + 3), dtype)
    strided = big[..., 1:w + 1][..., ::-1]
    return {"planar": planar, "channels-last": cl, "strided": strided}


@pytest.mark.parametrize("channels", [3, MIN + 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_core_reads_and_writes_any_layout(channels, dtype):
    """Input and output (and indices, laid out as the output) of every layout pair in the C
    core: the fast loops and the reference kernels give the C-contiguous result."""
    rng = np.random.default_rng(4)
    x = _data((2, channels, 11, 10), dtype, 4, specials=True)
    geometry = cconv._args.resolve_pool(x.shape, 3, 2, 1, 1, True, average=False)
    oshape = geometry.out_shape
    want = np.empty(oshape, dtype)
    want_idx = np.empty(oshape, np.int64)
    _core.pool2d(_core.MAX_POOL2D, x, want, want_idx, geometry.core_tuple, 1, -1, True)
    want_avg = np.empty(oshape, dtype)
    _core.pool2d(_core.AVG_POOL2D, x, want_avg, None, geometry.core_tuple, 1, -1, True)
    go = rng.standard_normal(oshape).astype(dtype)
    want_grad = np.empty(x.shape, dtype)
    _core.pool2d(_core.AVG_POOL2D_BACKWARD, go, want_grad, None, geometry.core_tuple, 1, -1,
                 True)
    want_max_grad = np.empty(x.shape, dtype)
    _core.max_pool2d_backward(go, want_idx, want_max_grad, 1, -1, True)
    want_adaptive = np.empty((2, channels, 4, 3), dtype)
    _core.adaptive_pool2d(_core.ADAPTIVE_MAX_POOL2D, x, want_adaptive, None, 1, -1, True)
    for reference in (False, True):
        for in_name, xin in _core_layouts(x.shape, dtype, rng).items():
            xin[...] = x
            goin = _core_layouts(oshape, dtype, rng)[in_name]
            goin[...] = go
            for out_name, out in _core_layouts(oshape, dtype, rng).items():
                label = (reference, in_name, out_name)
                idx = _core_layouts(oshape, np.int64, rng)[out_name]
                _core.pool2d(_core.MAX_POOL2D, xin, out, idx, geometry.core_tuple, 2, -1,
                             reference)
                assert np.array_equal(out, want, equal_nan=True), label
                np.testing.assert_array_equal(idx, want_idx, err_msg=str(label))
                _core.pool2d(_core.AVG_POOL2D, xin, out, None, geometry.core_tuple, 2, -1,
                             reference)
                assert np.array_equal(out, want_avg, equal_nan=True), label
                small = _core_layouts((2, channels, 4, 3), dtype, rng)[out_name]
                _core.adaptive_pool2d(_core.ADAPTIVE_MAX_POOL2D, xin, small, None, 2, -1,
                                      reference)
                assert np.array_equal(small, want_adaptive, equal_nan=True), label
                grad = _core_layouts(x.shape, dtype, rng)[out_name]
                _core.pool2d(_core.AVG_POOL2D_BACKWARD, goin, grad, None, geometry.core_tuple,
                             2, -1, reference)
                assert_close(grad, want_grad, dtype)
                idx[...] = want_idx
                _core.max_pool2d_backward(goin, idx, grad, 2, -1, reference)
                assert_close(grad, want_max_grad, dtype)
    with pytest.raises(ValueError, match="indices must be laid out as the output"):
        _core.pool2d(_core.MAX_POOL2D, x, want, want_idx.transpose(0, 1, 3, 2).copy().transpose(
            0, 1, 3, 2), geometry.core_tuple, 1, -1)


# ---------------------------------------------------------------------- threads and PyTorch
@pytest.mark.parametrize("dtype", DTYPES)
def test_nhwc_bitwise_identical_at_any_thread_count(dtype):
    xl = nhwc(_data((2, MIN + 7, 67, 71), dtype, 4, specials=True))
    go = np.asarray(np.random.default_rng(2).standard_normal((2, 34, 36, MIN + 7)), dtype)
    results = []
    for threads in (1, 2, 3, 4):
        y, idx = cconv.max_pool2d(xl, 3, 2, 1, return_indices=True, data_format="NHWC",
                                  threads=threads)
        results.append([
            y, idx, cconv.avg_pool2d(xl, 3, 2, 1, data_format="NHWC", threads=threads),
            cconv.adaptive_avg_pool2d(xl, 1, data_format="NHWC", threads=threads),
            cconv.adaptive_max_pool2d(xl, (5, 7), data_format="NHWC", threads=threads),
            cconv.avg_pool2d_backward(go, xl.shape, 3, 2, 1, data_format="NHWC",
                                      threads=threads),
            cconv.adaptive_avg_pool2d_backward(go, xl.shape, data_format="NHWC",
                                               threads=threads),
            cconv.max_pool2d_backward(go, idx, xl.shape, data_format="NHWC", threads=threads)])
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b, equal_nan=True)


@needs_torch
@pytest.mark.parametrize("channels", [3, MIN + 20])
def test_nhwc_matches_torch_channels_last(channels):
    import torch
    import torch.nn.functional as F
    x = _data((2, channels, 15, 14), np.float32, 11, specials=True)
    xt = torch.from_numpy(x).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    xl = nhwc(x)
    tv, ti = F.max_pool2d(xt, 3, 2, 1, ceil_mode=True, return_indices=True)
    values, idx = cconv.max_pool2d(xl, 3, 2, 1, ceil_mode=True, return_indices=True,
                                   data_format="NHWC")
    np.testing.assert_array_equal(values, nhwc(tv.detach().numpy()))
    np.testing.assert_array_equal(idx, nhwc(ti.numpy()))
    go = np.random.default_rng(0).standard_normal(values.shape).astype(np.float32)
    tv.backward(torch.from_numpy(nchw(go)))
    assert_close(cconv.max_pool2d_backward(go, idx, xl.shape, data_format="NHWC"),
                 nhwc(xt.grad.numpy()), np.float32)
    x = _data((2, channels, 15, 14), np.float32, 12)
    xt = torch.from_numpy(x).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    want = F.avg_pool2d(xt, 3, 2, 1, count_include_pad=False)
    got = cconv.avg_pool2d(nhwc(x), 3, 2, 1, count_include_pad=False, data_format="NHWC")
    assert_close(got, nhwc(want.detach().numpy()), np.float32)
    go = np.random.default_rng(1).standard_normal(got.shape).astype(np.float32)
    want.backward(torch.from_numpy(nchw(go)))
    assert_close(cconv.avg_pool2d_backward(go, nhwc(x).shape, 3, 2, 1, count_include_pad=False,
                                           data_format="NHWC"), nhwc(xt.grad.numpy()),
                 np.float32)
    assert_close(cconv.adaptive_avg_pool2d(nhwc(x), (4, 3), data_format="NHWC"),
                 nhwc(F.adaptive_avg_pool2d(xt, (4, 3)).detach().numpy()), np.float32)


# ------------------------------------------------------------------- shapes and messages
def test_output_shape_helper_in_nhwc():
    assert cconv.pool2d_output_shape((1, 112, 112, 64), 3, 2, 1, data_format="NHWC") == (
        1, 56, 56, 64)
    assert cconv.pool2d_output_shape((5, 5, 3), 2, ceil_mode=True, data_format="NHWC") == (
        3, 3, 3)
    for shape, params in MAX_CONFIGS[:15]:
        xl = nhwc(np.zeros(shape))
        assert cconv.pool2d_output_shape(xl.shape, data_format="NHWC", **params) == \
            cconv.max_pool2d(xl, data_format="NHWC", **params).shape


X = np.zeros((1, 6, 6, 2))
BAD = [
    (lambda: cconv.max_pool2d(np.zeros((6, 6)), 2, data_format="NHWC"), ValueError,
     r"input must be 4-D \(N, H, W, C\) or 3-D \(H, W, C\) with data_format='NHWC', got 2-D "
     r"with shape \(6, 6\)"),
    (lambda: cconv.avg_pool2d(np.zeros((1, 1, 6, 6, 2)), 2, data_format="NHWC"), ValueError,
     r"with data_format='NHWC', got 5-D"),
    (lambda: cconv.adaptive_avg_pool2d(np.zeros((6, 2)), 1, data_format="NHWC"), ValueError,
     r"input must be 4-D \(N, H, W, C\) or 3-D \(H, W, C\) with data_format='NHWC'"),
    (lambda: cconv.adaptive_max_pool2d(np.zeros(6), 1, data_format="NHWC"), ValueError,
     r"with data_format='NHWC', got 1-D"),
    (lambda: cconv.pool2d_output_shape((6, 6), 2, data_format="NHWC"), ValueError,
     r"with data_format='NHWC', got 2-D"),
    (lambda: cconv.avg_pool2d_backward(np.ones((1, 3, 3, 2)), (6, 6), 2, data_format="NHWC"),
     ValueError, r"must be 4-D \(N, H, W, C\) or 3-D \(H, W, C\) with data_format='NHWC'"),
    (lambda: cconv.max_pool2d(np.zeros((1, 0, 6, 2)), 2, data_format="NHWC"), ValueError,
     r"input has height 0 \(input.shape=\(1, 0, 6, 2\)\)"),
    (lambda: cconv.max_pool2d(X, 2, data_format="nhwc"), ValueError,
     r"data_format must be 'NCHW' or 'NHWC', got 'nhwc'"),
    (lambda: cconv.adaptive_avg_pool2d_backward(np.ones((1, 2, 2, 2)), (1, 6, 6, 2),
                                                data_format=None), ValueError,
     r"data_format must be 'NCHW' or 'NHWC', got None"),
    (lambda: cconv.max_pool2d_backward(np.ones((1, 3, 3, 3)), np.zeros((1, 3, 3, 3), int),
                                       (1, 6, 6, 2), data_format="NHWC"), ValueError,
     r"grad_output has shape \(1, 3, 3, 3\), but input_shape \(1, 6, 6, 2\) needs N, C = "
     r"\(1, 2\) \(N first, C last: data_format='NHWC'\)"),
    (lambda: cconv.avg_pool2d_backward(np.ones((1, 2, 2, 2)), (1, 6, 6, 2), 2,
                                       data_format="NHWC"), ValueError,
     r"grad_output has shape \(1, 2, 2, 2\), but pooling input_shape \(1, 6, 6, 2\) gives an "
     r"output of shape \(1, 3, 3, 2\)"),
    (lambda: cconv.avg_pool2d_backward(np.ones((3, 3, 4)), (6, 6, 2), 2, data_format="NHWC"),
     ValueError, r"needs C = 2 last \(data_format='NHWC'\)"),
    (lambda: cconv.max_pool2d(X, 2, data_format="NHWC",
                              out=np.zeros((1, 2, 3, 3))), ValueError,
     r"out has shape \(1, 2, 3, 3\), but the result has shape \(1, 3, 3, 2\)"),
]


@pytest.mark.parametrize("call,error,message", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_nhwc_arguments_name_data_format(call, error, message):
    with pytest.raises(error, match=message):
        call()
