"""Pooling: every function against its NumPy oracle and, when installed, PyTorch, on every SIMD
path and the C reference kernels; random configurations over every parameter, both dtypes,
batched and unbatched, strided views, out=, thread counts, NaN and infinities, gradients against
autograd and finite differences, and PyTorch's argument rules."""

import numpy as np
import pytest

import cconv
from cconv import _adaptive_pool, _pool, _simd, oracle
from conftest import HAVE_TORCH, USABLE_PATHS, needs_torch

IMPLS = [pytest.param(p, id=p) for p in USABLE_PATHS] + [pytest.param("reference",
                                                                      id="c-reference")]
DTYPES = [np.float32, np.float64]


def _impl(name):
    """(simd index, reference flag) of an implementation name."""
    if name == "reference":
        return _simd.ACTIVE, True
    return _simd.path_index(name), False


def max_pool(impl, x, *args, out=None, threads=None, data_format="NCHW", **kw):
    params = dict(kernel_size=None, stride=None, padding=0, dilation=1, ceil_mode=False,
                  return_indices=False)
    params.update(zip(params, args))
    params.update(kw)
    return _pool._max_pool2d(x, *params.values(), out, threads, *_impl(impl), data_format)


def avg_pool(impl, x, *args, out=None, threads=None, data_format="NCHW", **kw):
    params = dict(kernel_size=None, stride=None, padding=0, ceil_mode=False,
                  count_include_pad=True, divisor_override=None)
    params.update(zip(params, args))
    params.update(kw)
    return _pool._avg_pool2d(x, *params.values(), out, threads, *_impl(impl), data_format)


def avg_backward(impl, go, shape, out=None, threads=None, data_format="NCHW", **kw):
    params = dict(kernel_size=None, stride=None, padding=0, ceil_mode=False,
                  count_include_pad=True, divisor_override=None)
    params.update(kw)
    return _pool._avg_pool2d_backward(go, shape, *params.values(), out, threads, *_impl(impl),
                                      data_format)


def max_backward(impl, go, idx, shape, out=None, threads=None, data_format="NCHW"):
    return _pool._max_pool2d_backward(go, idx, shape, out, threads, *_impl(impl), data_format)


def adaptive_avg(impl, x, size, out=None, threads=None, data_format="NCHW"):
    return _adaptive_pool._adaptive_avg_pool2d(x, size, out, threads, *_impl(impl), data_format)


def adaptive_max(impl, x, size, return_indices=False, out=None, threads=None,
                 data_format="NCHW"):
    return _adaptive_pool._adaptive_max_pool2d(x, size, return_indices, out, threads,
                                               *_impl(impl), data_format)


def adaptive_backward(impl, go, shape, out=None, threads=None, data_format="NCHW"):
    return _adaptive_pool._adaptive_avg_pool2d_backward(go, shape, out, threads, *_impl(impl),
                                                        data_format)


def assert_close(got, want, dtype):
    tol = 2e-6 if np.dtype(dtype) == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# ------------------------------------------------------------------ random configurations
def _random_window_configs(count, seed, average):
    """Valid (shape, params) of max (average=False) or average pooling, drawn over every
    parameter: kernel 1-5 per axis, stride None or 1-3, padding up to half the kernel (sometimes
    per side), dilation 1-3 (max), ceil_mode (with edge windows that start in the padding),
    count_include_pad, divisor_override; batched and unbatched."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        kh, kw = rng.integers(1, 6, 2)
        params = {"kernel_size": (int(kh), int(kw)) if rng.random() < 0.7 else int(kh)}
        k = params["kernel_size"] if isinstance(params["kernel_size"], tuple) else (kh, kh)
        if rng.random() < 0.8:
            params["stride"] = tuple(int(s) for s in rng.integers(1, 4, 2))
        r = rng.random()
        if r < 0.35:
            params["padding"] = (int(rng.integers(0, k[0] // 2 + 1)),
                                 int(rng.integers(0, k[1] // 2 + 1)))
        elif r < 0.5:
            params["padding"] = ((int(rng.integers(0, k[0] // 2 + 1)),
                                  int(rng.integers(0, k[0] // 2 + 1))),
                                 (int(rng.integers(0, k[1] // 2 + 1)),
                                  int(rng.integers(0, k[1] // 2 + 1))))
        elif r < 0.75:
            params["padding"] = (k[0] // 2, k[1] // 2)  # the largest allowed
        params["ceil_mode"] = bool(rng.random() < 0.5)
        if average:
            params["count_include_pad"] = bool(rng.random() < 0.5)
            if rng.random() < 0.25:
                params["divisor_override"] = int(rng.choice([1, 3, 7, -2]))
        elif rng.random() < 0.4:
            params["dilation"] = tuple(int(d) for d in rng.integers(1, 4, 2))
        batched = rng.random() < 0.7
        shape = ((int(rng.integers(1, 3)),) if batched else ()) + (
            int(rng.integers(1, 4)), int(rng.integers(1, 13)), int(rng.integers(1, 13)))
        try:
            cconv.pool2d_output_shape(shape, **{k: v for k, v in params.items()
                                                if k not in ("count_include_pad",
                                                             "divisor_override")})
        except ValueError:
            continue
        found.append((shape, params))
    return found


MAX_CONFIGS = _random_window_configs(60, 1, average=False)
AVG_CONFIGS = _random_window_configs(60, 2, average=True)
ADAPTIVE_CONFIGS = [((2, 3, 9, 7), (3, 2)), ((2, 3, 8, 8), 4), ((3, 10, 10), (3, 4)),
                    ((1, 2, 5, 7), (None, 3)), ((1, 2, 4, 3), (7, 5)), ((2, 1, 6, 6), 1),
                    ((1, 3, 11, 13), (5, 6)), ((2, 2, 3, 4), (0, 2)), ((1, 1, 1, 1), 3),
                    ((1, 2, 17, 5), [4]), ((2, 2, 6, 9), None)]


def _with_specials(x, rng):
    """x with some NaN, +inf and -inf (every third case one kind)."""
    x = x.copy()
    flat = x.reshape(-1)
    if flat.size >= 4:
        picks = rng.choice(flat.size, size=max(1, flat.size // 10), replace=False)
        flat[picks[0::3]] = np.nan
        flat[picks[1::3]] = np.inf
        flat[picks[2::3]] = -np.inf
    return x


def _data(shape, dtype, seed, specials=False):
    rng = np.random.default_rng(seed)
    # A few repeated values, so that ties between maxima occur.
    x = rng.integers(-4, 5, shape).astype(dtype) + (rng.random(shape) < 0.5).astype(dtype) / 4
    return _with_specials(x, rng) if specials else x


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_matches_oracle(impl, dtype):
    for i, (shape, params) in enumerate(MAX_CONFIGS):
        x = _data(shape, dtype, i, specials=i % 3 == 0)
        values, idx = max_pool(impl, x, return_indices=True, **params)
        want, want_idx = oracle.max_pool2d_oracle(x, return_indices=True, **params)
        assert values.dtype == dtype and idx.dtype == np.int64
        np.testing.assert_array_equal(values, want.astype(dtype), err_msg=f"{shape} {params}")
        np.testing.assert_array_equal(idx, want_idx, err_msg=f"{shape} {params}")
        np.testing.assert_array_equal(max_pool(impl, x, **params), values)
        go = np.random.default_rng(i).standard_normal(values.shape).astype(dtype)
        grad = max_backward(impl, go, idx, shape)
        assert_close(grad, oracle.max_pool2d_backward_oracle(go, idx, shape), dtype)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool2d_matches_oracle(impl, dtype):
    for i, (shape, params) in enumerate(AVG_CONFIGS):
        x = _data(shape, dtype, i)
        got = avg_pool(impl, x, **params)
        assert got.dtype == dtype
        assert_close(got, oracle.avg_pool2d_oracle(x, **params), dtype)
        go = np.random.default_rng(i).standard_normal(got.shape).astype(dtype)
        assert_close(avg_backward(impl, go, shape, **params),
                     oracle.avg_pool2d_backward_oracle(go, shape, **params), dtype)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_pools_match_oracle(impl, dtype):
    for i, (shape, size) in enumerate(ADAPTIVE_CONFIGS):
        x = _data(shape, dtype, i, specials=i % 4 == 1)
        got = adaptive_avg(impl, x, size)
        assert_close(got, oracle.adaptive_avg_pool2d_oracle(x, size), dtype)
        values, idx = adaptive_max(impl, x, size, True)
        want, want_idx = oracle.adaptive_max_pool2d_oracle(x, size, True)
        np.testing.assert_array_equal(values, want.astype(dtype))
        np.testing.assert_array_equal(idx, want_idx)
        go = np.random.default_rng(i).standard_normal(got.shape).astype(dtype)
        assert_close(adaptive_backward(impl, go, shape),
                     oracle.adaptive_avg_pool2d_backward_oracle(go, shape), dtype)
        assert_close(max_backward(impl, go, idx, shape),
                     oracle.max_pool2d_backward_oracle(go, idx, shape), dtype)


@pytest.mark.parametrize("impl", IMPLS)
def test_kernels_of_thousands_of_taps_record_indices_directly(impl):
    """Rows with more passes than fit the vectorised index path (4096) take the scalar one."""
    x = _data((1, 2, 70, 81), np.float32, 3, specials=True)
    for params in ({"kernel_size": 70, "stride": 5, "padding": 2},
                   {"kernel_size": (64, 65), "stride": (3, 7), "ceil_mode": True}):
        values, idx = max_pool(impl, x, return_indices=True, **params)
        want, want_idx = oracle.max_pool2d_oracle(x, return_indices=True, **params)
        np.testing.assert_array_equal(values, want.astype(np.float32))
        np.testing.assert_array_equal(idx, want_idx)


# ----------------------------------------------------------------------------- PyTorch
def _torch_kwargs(params):
    """PyTorch takes symmetric padding only; per-side padding configurations are skipped."""
    p = params.get("padding", 0)
    if isinstance(p, tuple) and isinstance(p[0], tuple):
        return None
    return params


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_matches_torch(dtype):
    import torch
    import torch.nn.functional as F
    compared = 0
    for i, (shape, params) in enumerate(MAX_CONFIGS):
        kw = _torch_kwargs(params)
        if kw is None:
            continue
        x = _data(shape, dtype, i, specials=i % 3 == 0)
        values, idx = cconv.max_pool2d(x, return_indices=True, **kw)
        xt = torch.from_numpy(x).requires_grad_(True)
        tv, ti = F.max_pool2d(xt, return_indices=True, **kw)
        np.testing.assert_array_equal(values, tv.detach().numpy(), err_msg=f"{shape} {kw}")
        np.testing.assert_array_equal(idx, ti.numpy(), err_msg=f"{shape} {kw}")
        go = np.random.default_rng(i).standard_normal(values.shape).astype(dtype)
        tv.backward(torch.from_numpy(go))
        assert_close(cconv.max_pool2d_backward(go, idx, shape), xt.grad.numpy(), dtype)
        compared += 1
    assert compared >= 30


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool2d_matches_torch(dtype):
    import torch
    import torch.nn.functional as F
    compared = 0
    for i, (shape, params) in enumerate(AVG_CONFIGS):
        kw = _torch_kwargs(params)
        if kw is None:
            continue
        x = _data(shape, dtype, i)
        xt = torch.from_numpy(x).requires_grad_(True)
        want = F.avg_pool2d(xt, **kw)
        got = cconv.avg_pool2d(x, **kw)
        # The same sum order and the same division: bit for bit.
        np.testing.assert_array_equal(got, want.detach().numpy(), err_msg=f"{shape} {kw}")
        go = np.random.default_rng(i).standard_normal(got.shape).astype(dtype)
        want.backward(torch.from_numpy(go))
        assert_close(cconv.avg_pool2d_backward(go, shape, **kw), xt.grad.numpy(), dtype)
        compared += 1
    assert compared >= 30


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_pools_match_torch(dtype):
    import torch
    import torch.nn.functional as F
    for i, (shape, size) in enumerate(ADAPTIVE_CONFIGS):
        x = _data(shape, dtype, i, specials=i % 4 == 1)
        # PyTorch spells "keep both sizes" (None, None) and "both axes" as a pair.
        torch_size = {None: (None, None)}.get(size, size) if not isinstance(size, list) else (
            size[0], size[0])
        xt = torch.from_numpy(x).requires_grad_(True)
        want = F.adaptive_avg_pool2d(xt, torch_size)
        got = cconv.adaptive_avg_pool2d(x, size)
        assert_close(got, want.detach().numpy(), dtype)
        go = np.random.default_rng(i).standard_normal(got.shape).astype(dtype)
        if got.size:
            want.backward(torch.from_numpy(go))
            assert_close(cconv.adaptive_avg_pool2d_backward(go, shape), xt.grad.numpy(), dtype)
        values, idx = cconv.adaptive_max_pool2d(x, size, return_indices=True)
        tv, ti = F.adaptive_max_pool2d(torch.from_numpy(x), torch_size, return_indices=True)
        np.testing.assert_array_equal(values, tv.numpy())
        np.testing.assert_array_equal(idx, ti.numpy())


@needs_torch
@pytest.mark.parametrize("kernel,stride,padding", [(3, 2, 1), (2, 2, 0), (3, 1, 1), (4, 3, 2)])
def test_nan_and_infinities_as_torch(kernel, stride, padding):
    """NaN wins a window (its index: the last NaN), -inf windows keep their first pixel's index,
    +inf wins; ties go to the first maximum."""
    import torch
    import torch.nn.functional as F
    rng = np.random.default_rng(kernel * 10 + stride)
    for trial in range(6):
        x = rng.choice([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0], size=(2, 3, 9, 10),
                       p=[0.1, 0.1, 0.4, 0.2, 0.1, 0.1]).astype(np.float32)
        for ceil_mode in (False, True):
            values, idx = cconv.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode,
                                           return_indices=True)
            tv, ti = F.max_pool2d(torch.from_numpy(x), kernel, stride, padding,
                                  ceil_mode=ceil_mode, return_indices=True)
            np.testing.assert_array_equal(values, tv.numpy())
            np.testing.assert_array_equal(idx, ti.numpy())
        values, idx = cconv.adaptive_max_pool2d(x, (4, 3), return_indices=True)
        tv, ti = F.adaptive_max_pool2d(torch.from_numpy(x), (4, 3), return_indices=True)
        np.testing.assert_array_equal(values, tv.numpy())
        np.testing.assert_array_equal(idx, ti.numpy())


# -------------------------------------------------------------------- finite differences
def _finite_difference_check(f, x, go, grad, eps=1e-6):
    """<grad, v> against (f(x + eps v) - f(x - eps v)) . go / (2 eps) for random directions."""
    rng = np.random.default_rng(0)
    for _ in range(3):
        v = rng.standard_normal(x.shape)
        numeric = np.sum((f(x + eps * v) - f(x - eps * v)) * go) / (2 * eps)
        assert abs(numeric - np.sum(grad * v)) <= 1e-6 * max(1.0, abs(numeric))


@pytest.mark.parametrize("params", [
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1), "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
])
def test_avg_pool2d_backward_is_the_gradient(params):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 7, 8))
    y = cconv.avg_pool2d(x, **params)
    go = rng.standard_normal(y.shape)
    grad = cconv.avg_pool2d_backward(go, x.shape, **params)
    _finite_difference_check(lambda a: cconv.avg_pool2d(a, **params), x, go, grad)


@pytest.mark.parametrize("params", [
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": 1, "dilation": (1, 2), "ceil_mode": True},
])
def test_max_pool2d_backward_is_the_gradient(params):
    rng = np.random.default_rng(2)
    x = rng.permutation(2 * 2 * 7 * 8).reshape(2, 2, 7, 8) / 10.0  # distinct: differentiable
    y, idx = cconv.max_pool2d(x, return_indices=True, **params)
    go = rng.standard_normal(y.shape)
    grad = cconv.max_pool2d_backward(go, idx, x.shape)
    _finite_difference_check(lambda a: cconv.max_pool2d(a, **params), x, go, grad, eps=1e-4)


def test_adaptive_backward_is_the_gradient():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 7))
    go = rng.standard_normal((2, 3, 4, 3))
    grad = cconv.adaptive_avg_pool2d_backward(go, x.shape)
    _finite_difference_check(lambda a: cconv.adaptive_avg_pool2d(a, (4, 3)), x, go, grad)
    x = rng.permutation(2 * 3 * 9 * 7).reshape(2, 3, 9, 7) / 10.0
    y, idx = cconv.adaptive_max_pool2d(x, (4, 3), return_indices=True)
    grad = cconv.max_pool2d_backward(go, idx, x.shape)
    _finite_difference_check(lambda a: cconv.adaptive_max_pool2d(a, (4, 3)), x, go, grad,
                             eps=1e-4)


# ------------------------------------------------------------- threads, layouts and out=
BIG = (2, 5, 67, 71)  # several bands per plane and planes for 4 threads


def _every_call(x):
    """Each pooling call once, on x (N, C, H, W): name -> result array(s)."""
    go = np.asarray(np.random.default_rng(9).standard_normal((2, 5, 34, 36)), x.dtype)
    y, idx = cconv.max_pool2d(x, 3, 2, 1, return_indices=True)
    return {
        "max": y, "max indices": idx,
        "max 2x2": cconv.max_pool2d(x, 2, ceil_mode=True),
        "avg": cconv.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        "avg backward": cconv.avg_pool2d_backward(go, BIG, 3, 2, 1),
        "max backward": cconv.max_pool2d_backward(go, idx, BIG),
        "adaptive avg": cconv.adaptive_avg_pool2d(x, (5, 6)),
        "global avg": cconv.adaptive_avg_pool2d(x, 1),
        "adaptive max": cconv.adaptive_max_pool2d(x, (9, 4), return_indices=True)[1],
        "adaptive backward": cconv.adaptive_avg_pool2d_backward(go, BIG),
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_identical_at_any_thread_count(dtype, monkeypatch):
    x = _data(BIG, dtype, 4, specials=True)
    results = []
    for threads in (1, 2, 3, 4):
        monkeypatch.setenv("OMP_NUM_THREADS", str(threads))
        calls = {}
        for name, fn in [("max", lambda: cconv.max_pool2d(x, 3, 2, 1, return_indices=True,
                                                          threads=threads)),
                         ("avg", lambda: cconv.avg_pool2d(x, 3, 2, 1, threads=threads)),
                         ("adaptive", lambda: cconv.adaptive_avg_pool2d(x, 1, threads=threads)),
                         ("backward", lambda: cconv.avg_pool2d_backward(
                             x[:, :, :34, :36], BIG, 3, 2, 1, threads=threads))]:
            calls[name] = fn()
        results.append(calls)
    for other in results[1:]:
        for name, value in results[0].items():
            pairs = zip(value, other[name]) if isinstance(value, tuple) else [(value,
                                                                                 other[name])]
            for a, b in pairs:
                assert np.array_equal(a, b, equal_nan=True), name


def _views(x):
    """x's values in non-contiguous views that the C core reads in place."""
    n, c, h, w = x.shape
    big = np.full((n, 2 * c, 2 * h, w + 3), np.nan, x.dtype)
    big[:, ::2, ::2, 1:w + 1] = x
    return {
        "channels_last": np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
        "reversed_columns": np.ascontiguousarray(x[..., ::-1])[..., ::-1],
        "sliced": big[:, ::2, ::2, 1:w + 1],
        "fortran": np.asfortranarray(x),
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_inputs_give_the_same_bits(dtype):
    x = _data(BIG, dtype, 5, specials=True)
    want = _every_call(x)
    for name, view in _views(x).items():
        got = _every_call(view)
        for key in want:
            assert np.array_equal(got[key], want[key], equal_nan=True), (name, key)


def test_broadcast_input_is_read_in_place():
    x = _data((1, 3, 20, 21), np.float32, 6)
    view = np.broadcast_to(x, (4, 3, 20, 21))
    got = cconv.max_pool2d(view, 3, 2, 1)
    np.testing.assert_array_equal(got, np.broadcast_to(cconv.max_pool2d(x, 3, 2, 1), got.shape))
    huge = np.broadcast_to(np.float32(1), (1, 1, 2**17, 2**17))  # 64 GB if it were copied
    assert cconv.max_pool2d(huge, 2, stride=2**16).shape == (1, 1, 2, 2)  # reads 16 pixels


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_is_filled_and_returned(dtype):
    x = _data((2, 3, 12, 13), dtype, 7)
    out = np.full((2, 3, 6, 7), np.nan, dtype)
    assert cconv.max_pool2d(x, 2, ceil_mode=True, out=out) is out
    np.testing.assert_array_equal(out, cconv.max_pool2d(x, 2, ceil_mode=True))
    idx = np.full((2, 3, 6, 7), -7, np.int64)
    values, got_idx = cconv.max_pool2d(x, 2, ceil_mode=True, return_indices=True,
                                       out=(out, idx))
    assert values is out and got_idx is idx
    np.testing.assert_array_equal(idx, cconv.max_pool2d(x, 2, ceil_mode=True,
                                                        return_indices=True)[1])
    out = np.empty((2, 3, 4, 4), dtype)
    assert cconv.avg_pool2d(x, 3, out=out) is out
    assert cconv.adaptive_avg_pool2d(x, 4, out=out) is out
    assert cconv.adaptive_max_pool2d(x, 4, out=out) is out
    grad = np.empty(x.shape, dtype)
    assert cconv.avg_pool2d_backward(out, x.shape, 3, out=grad) is grad
    assert cconv.adaptive_avg_pool2d_backward(out, x.shape, out=grad) is grad


def test_out_overlapping_the_input_is_computed_aside():
    x = _data((1, 2, 8, 8), np.float64, 8)
    want = cconv.avg_pool2d(x, 2, 1, ceil_mode=True)
    buf = x.copy()
    got = cconv.avg_pool2d(buf, 2, 1, ceil_mode=True, out=np.ascontiguousarray(buf[:, :, :7, :7]))
    np.testing.assert_array_equal(got, want)
    flat = x.reshape(-1).copy()  # out is the input's own memory: read first, then written
    got = cconv.avg_pool2d(flat[:128].reshape(1, 2, 8, 8), 2, 1, ceil_mode=True,
                           out=flat[:98].reshape(1, 2, 7, 7))
    np.testing.assert_array_equal(got, want)
    go = x.copy()
    want = cconv.avg_pool2d_backward(x[:, :, :4, :4], (1, 2, 8, 8), 2)
    np.testing.assert_array_equal(
        cconv.avg_pool2d_backward(go[:, :, :4, :4], (1, 2, 8, 8), 2, out=go), want)


@pytest.mark.parametrize("impl", IMPLS)
def test_unbatched_and_empty(impl):
    x = _data((3, 9, 8), np.float32, 9)
    got = max_pool(impl, x, 3, 2, 1)
    assert got.shape == (3, 5, 4)
    np.testing.assert_array_equal(got, max_pool(impl, x[None], 3, 2, 1)[0])
    assert max_pool(impl, np.zeros((0, 3, 5, 5)), 2).shape == (0, 3, 2, 2)
    assert avg_pool(impl, np.zeros((2, 0, 5, 5), np.float32), 2).shape == (2, 0, 2, 2)
    assert adaptive_avg(impl, np.zeros((2, 3, 5, 5)), (0, 3)).shape == (2, 3, 0, 3)
    np.testing.assert_array_equal(adaptive_backward(impl, np.zeros((2, 3, 0, 3)), (2, 3, 5, 5)),
                                  np.zeros((2, 3, 5, 5)))
    np.testing.assert_array_equal(
        max_backward(impl, np.zeros((2, 3, 0, 3)), np.zeros((2, 3, 0, 3), np.int64),
                     (2, 3, 5, 5)), np.zeros((2, 3, 5, 5)))


@pytest.mark.skipif(HAVE_TORCH is False, reason="PyTorch is not installed")
def test_ceil_mode_edge_windows_as_torch():
    """ceil_mode keeps a last window only when it starts inside the input or its padding."""
    import torch
    import torch.nn.functional as F
    for size in range(1, 12):
        for kernel in range(1, 5):
            for stride in range(1, 5):
                for pad in range(0, kernel // 2 + 1):
                    x = np.arange(size * size, dtype=np.float32).reshape(1, 1, size, size)
                    try:
                        want = F.avg_pool2d(torch.from_numpy(x), kernel, stride, pad,
                                            ceil_mode=True, count_include_pad=False).numpy()
                    except RuntimeError:
                        with pytest.raises(ValueError):
                            cconv.avg_pool2d(x, kernel, stride, pad, ceil_mode=True)
                        continue
                    got = cconv.avg_pool2d(x, kernel, stride, pad, ceil_mode=True,
                                           count_include_pad=False)
                    np.testing.assert_array_equal(got, want)


def test_python_threads_calling_at_once_get_the_serial_results():
    """8 Python threads pooling different shapes at once (each call itself threaded) get the
    same bits as serial calls: calls share nothing but the thread pool."""
    import threading
    inputs = [_data((2, 3, 20 + 3 * i, 17 + 2 * i), np.float32, 20 + i, specials=True)
              for i in range(8)]

    def calls(x):
        y, idx = cconv.max_pool2d(x, 3, 2, 1, return_indices=True, threads=2)
        return [y, idx, cconv.avg_pool2d(x, 2, ceil_mode=True, threads=2),
                cconv.adaptive_avg_pool2d(x, (3, 4), threads=2),
                cconv.max_pool2d_backward(y, idx, x.shape, threads=2)]

    want = [calls(x) for x in inputs]
    got = [None] * len(inputs)

    def work(i):
        for _ in range(5):
            got[i] = calls(inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w, g in zip(want, got):
        for a, b in zip(w, g):
            assert np.array_equal(a, b, equal_nan=True)
