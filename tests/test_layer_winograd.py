"""cconv.Conv2d on the Winograd path: the weights transformed once per dtype, SIMD path and tile
(src_c/conv/winograd_driver_template.h, weights_) give bitwise what conv2d gives when it
transforms them on every call, on every SIMD path, both tiles and dtypes, grouped layers with
partial lane blocks, an output stage and channels-last data; weights or inputs that are not
finite still take the direct path's answer."""

import numpy as np
import pytest

import cconv
from cconv import _core, _simd
from cconv._args import resolve
from cconv._winograd import conv2d_winograd

from conftest import USABLE_PATHS, assert_matches_oracle

# (N, C, H, W, O, groups): one tile row and column beyond the output in the last tiles, lane
# blocks of output channels that end part-way.
SHAPES = [(2, 64, 20, 20, 64, 1), (1, 34, 13, 11, 38, 2), (3, 5, 9, 14, 7, 1)]


def _arrays(shape, dtype, seed=0):
    n, c, h, w, o, groups = shape
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, c, h, w)).astype(dtype),
            rng.standard_normal((o, c // groups, 3, 3)).astype(dtype),
            rng.standard_normal(o).astype(dtype))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["winograd", "auto"])
def test_layer_equals_conv2d_bit_for_bit(shape, dtype, method):
    x, w, b = _arrays(shape, dtype)
    groups = shape[-1]
    layer = cconv.Conv2d(w, b, padding=1, groups=groups, method=method, activation="relu")
    want = cconv.conv2d(x, w, b, padding=1, groups=groups, method=method, activation="relu")
    for threads in (1, 3, 1):
        np.testing.assert_array_equal(layer(x, threads=threads), want)
    geom = resolve(x.shape, w.shape, 1, 1, 1, groups)
    if method == "winograd":
        assert layer._winograd, "the transformed weights were not kept"
        assert_matches_oracle(want, x, w, b, padding=1, groups=groups, activation="relu")
    elif not cconv._winograd.winograd_suits(geom, dtype):
        assert not layer._winograd  # "auto" took another method: nothing transformed


def test_channels_last_layer_equals_conv2d():
    x, w, b = _arrays(SHAPES[0], np.float32)
    xh = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    layer = cconv.Conv2d(w, b, padding=1, method="winograd", data_format="NHWC")
    want = cconv.conv2d(xh, w, b, padding=1, method="winograd", data_format="NHWC")
    np.testing.assert_array_equal(layer(xh), want)
    np.testing.assert_array_equal(layer(xh), want)


@pytest.mark.parametrize("path", USABLE_PATHS)
@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_given_weights_on_every_path(path, tile, dtype):
    x, w, b = _arrays(SHAPES[1], dtype, seed=4)
    groups, simd = SHAPES[1][-1], _simd.path_index(path)
    u, finite = _core.winograd_weights(np.ascontiguousarray(w), groups, simd, tile)
    assert finite and u.dtype == dtype
    geom = resolve(x.shape, w.shape, 1, 1, 1, groups)
    plain, given = (np.empty(geom.out_shape, dtype) for _ in range(2))
    for out, uu in ((plain, None), (given, u)):
        _core.conv2d_winograd(x, w, b, out, geom.core_tuple, 2, simd, tile, None, None, 0, 0.0,
                              uu)
    np.testing.assert_array_equal(given, plain)
    assert_matches_oracle(given, x, w, b, padding=1, groups=groups)


def test_weights_that_are_not_finite_take_the_direct_answer():
    x, w, b = _arrays(SHAPES[0], np.float32)
    w[3, 5, 1, 1] = np.inf
    layer = cconv.Conv2d(w, b, padding=1, method="winograd")
    want = cconv.conv2d(x, w, b, padding=1, method="winograd")
    np.testing.assert_array_equal(layer(x), want)
    np.testing.assert_array_equal(layer(x), want)
    assert list(layer._winograd.values()) == [False]   # kept as "do not use"
    u, finite = _core.winograd_weights(w, 1, _simd.ACTIVE, 4)
    assert not finite


def test_inputs_that_are_not_finite_take_the_direct_answer():
    x, w, b = _arrays(SHAPES[0], np.float32)
    layer = cconv.Conv2d(w, b, padding=1, method="winograd")
    layer(x)
    x[1, 7, 3, 4] = np.nan
    np.testing.assert_array_equal(layer(x), cconv.conv2d(x, w, b, padding=1,
                                                         method="winograd"))


def test_transformed_weights_of_another_shape_are_refused():
    x, w, b = _arrays(SHAPES[2], np.float32)
    u, _ = _core.winograd_weights(np.ascontiguousarray(w), 1, _simd.ACTIVE, 4)
    geom = resolve(x.shape, w.shape, 1, 1, 1, 1)
    out = np.empty(geom.out_shape, np.float32)
    with pytest.raises(ValueError, match="u does not fit"):
        _core.conv2d_winograd(x, w, b, out, geom.core_tuple, 1, _simd.ACTIVE, 2, None, None, 0,
                              0.0, u)
    with pytest.raises(ValueError, match="no Winograd transform"):
        _core.winograd_weights(np.ones((4, 3, 5, 5), np.float32), 1, _simd.ACTIVE, 4)


def test_a_pickled_layer_transforms_again():
    import pickle
    x, w, b = _arrays(SHAPES[0], np.float32)
    layer = cconv.Conv2d(w, b, padding=1, method="winograd")
    want = layer(x)
    copy = pickle.loads(pickle.dumps(layer))
    assert not copy._winograd
    np.testing.assert_array_equal(copy(x), want)
    assert conv2d_winograd(x, w, b, padding=1).shape == want.shape
