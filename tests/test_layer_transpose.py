"""cconv.ConvTranspose2d: every call equals conv_transpose2d bit for bit, weights packed once."""

import pickle
import threading

import numpy as np
import pytest

import cconv
from cconv import _core, _simd
from cconv._args import resolve_transpose

from conftest import USABLE_PATHS


def _random_layer(rng):
    groups = [1, 2, 4][rng.integers(3)]
    c, og = groups * int(rng.integers(1, 9)), int(rng.integers(1, 9))
    kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    dtype = [np.float32, np.float64][rng.integers(2)]
    w = rng.standard_normal((c, og, kh, kw)).astype(dtype)
    b = rng.standard_normal(og * groups).astype(dtype) if rng.integers(2) else None
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    dilation = int(rng.integers(1, 3))
    params = dict(stride=stride, dilation=dilation, groups=groups,
                  padding=[0, 1, (1, 0), ((0, 1), (1, 2))][rng.integers(4)],
                  data_format=["NCHW", "NHWC"][rng.integers(2)])
    if rng.integers(2) and min(stride) > 1:
        params["output_padding"] = 1
    return w, b, params


@pytest.mark.parametrize("seed", range(30))
def test_calls_equal_conv_transpose2d_bitwise(seed):
    rng = np.random.default_rng(seed)
    w, b, params = _random_layer(rng)
    threads = int(rng.integers(1, 3))
    layer = cconv.ConvTranspose2d(w, b, **params, threads=threads)
    batch = [None, 1, 2][rng.integers(3)]
    for hw in [(5, 6), (9, 9), (5, 6), (3, 4), (9, 9)]:
        shape = (w.shape[0],) + hw if params["data_format"] == "NCHW" else hw + (w.shape[0],)
        x = rng.standard_normal(((batch,) if batch else ()) + shape).astype(
            [w.dtype, np.float32, np.int16][rng.integers(3)])
        expected = cconv.conv_transpose2d(x, w, b, **params, threads=threads)
        for _ in range(2):
            got = layer(x)
            assert got.dtype == expected.dtype and np.array_equal(got, expected)
            out = np.full_like(expected, np.nan)
            assert layer(x, out=out, threads=3 - threads) is out
            assert np.array_equal(out, expected)


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("data_format", ["NCHW", "NHWC"])
def test_every_simd_path(monkeypatch, path, data_format, rng):
    monkeypatch.setattr(_simd, "ACTIVE", _simd.path_index(path))
    w = rng.standard_normal((32, 24, 4, 4)).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    layer = cconv.ConvTranspose2d(w, b, stride=2, padding=1, data_format=data_format)
    for hw in [(12, 12), (7, 9), (12, 12)]:
        shape = (2, 32) + hw if data_format == "NCHW" else (2,) + hw + (32,)
        x = rng.standard_normal(shape).astype(np.float32)
        expected = cconv.conv_transpose2d(x, w, b, stride=2, padding=1, data_format=data_format)
        for _ in range(3):
            assert np.array_equal(layer(x), expected)
    assert len(layer._packs) == 1
    (packed,) = layer._packs.values()
    assert packed.nbytes >= w.nbytes


def test_output_size_per_call(rng):
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    layer = cconv.ConvTranspose2d(w, stride=2, padding=1)
    x = rng.standard_normal((1, 4, 5, 5)).astype(np.float32)
    for size in [None, (10, 10), [9, 10], (1, 3, 10, 9), (10, 10)]:
        for _ in range(2):
            assert np.array_equal(layer(x, output_size=size),
                                  cconv.conv_transpose2d(x, w, stride=2, padding=1,
                                                         output_size=size))
    with pytest.raises(ValueError, match="output_size asks for an output height of 12"):
        layer(x, output_size=(12, 10))


def test_copies_errors_repr_pickle(rng):
    w = rng.standard_normal((8, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    x = rng.standard_normal((1, 8, 6, 6)).astype(np.float32)
    expected = cconv.conv_transpose2d(x, w, b, stride=2, groups=2)
    layer = cconv.ConvTranspose2d(w, b, stride=2, groups=2)
    layer(x)
    w[...] = 0
    b[...] = 0
    assert np.array_equal(layer(x), expected) and np.array_equal(layer(x), expected)
    assert repr(layer) == "ConvTranspose2d(weight=(8, 2, 3, 3) float32, bias=(4,) float32, " \
                          "stride=2, groups=2)"
    copy = pickle.loads(pickle.dumps(layer))
    assert np.array_equal(copy(x), expected) and np.array_equal(copy(x), expected)
    with pytest.raises(ValueError, match=r"weight has 8 kernel stacks .* input has 5 channels"):
        layer(np.ones((1, 5, 6, 6), np.float32))
    for kwargs, match in [(dict(stride=0), "stride"), (dict(output_padding=2), "output_padding"),
                          (dict(padding="same"), "padding"), (dict(groups=4), "groups=4"),
                          (dict(data_format="HWC"), "data_format")]:
        with pytest.raises(ValueError, match=match):
            cconv.ConvTranspose2d(np.ones((6, 2, 3, 3)), **kwargs)
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        cconv.ConvTranspose2d(np.ones((6, 2, 3, 3)), np.ones(3))


def test_one_object_on_several_threads(rng):
    w = rng.standard_normal((16, 8, 4, 4)).astype(np.float32)
    layer = cconv.ConvTranspose2d(w, stride=2, padding=1, data_format="NHWC")
    cases = []
    for hw in [(8, 8), (5, 11), (12, 6)]:
        x = rng.standard_normal((1,) + hw + (16,)).astype(np.float32)
        cases.append((x, cconv.conv_transpose2d(x, w, stride=2, padding=1,
                                                data_format="NHWC")))
    failures = []
    start = threading.Barrier(4)

    def work(offset):
        start.wait()
        for i in range(40):
            x, expected = cases[(i + offset) % len(cases)]
            if not np.array_equal(layer(x, threads=1 + i % 2), expected):
                failures.append((offset, i))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not failures


def test_c_core_refuses_a_packing_for_other_parameters(rng):
    w = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    x = rng.standard_normal((1, 8, 5, 5)).astype(np.float32)
    g = resolve_transpose(x.shape, w.shape, 2, 1)
    out = np.empty(g.out_shape, np.float32)
    packed = _core.conv_transpose2d_pack(x, w, None, out, g.core_tuple, 1, _simd.ACTIVE)
    _core.conv_transpose2d_f32(x, w, None, out, g.core_tuple, 1, _simd.ACTIVE, packed=packed)
    assert np.array_equal(out, cconv.conv_transpose2d(x, w, stride=2, padding=1))
    other = resolve_transpose(x.shape, w.shape, 2, 0)
    with pytest.raises(ValueError):  # another padding: other phases
        _core.conv_transpose2d_f32(x, w, None, np.empty(other.out_shape, np.float32),
                                   other.core_tuple, 1, _simd.ACTIVE, packed=packed)
    with pytest.raises(ValueError):  # packed without a bias, called with one
        _core.conv_transpose2d_f32(x, w, np.ones(4, np.float32), out, g.core_tuple, 1,
                                   _simd.ACTIVE, packed=packed)
