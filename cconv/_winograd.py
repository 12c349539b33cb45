"""conv2d by Winograd's minimal filtering: F(2x2, 3x3) and F(4x4, 3x3) (private).

For 3x3 kernels at stride 1 and dilation 1, each m x m block of outputs (m = 2 or 4) is computed
from an (m+2) x (m+2) input tile with (m+2)^2 multiply-adds per input and output channel instead
of 9 m^2: 4 per output for F2 and 2.25 for F4, against 9 on the direct path.  The price is
rounding: the transforms add and scale input values before the products, so the error grows
with the tile (see benchmarks/winograd_accuracy.py for the measured figures, and
`winograd_suits` for where it stays inside the tolerance the tests allow the direct path).

`compute` mirrors cconv._conv._compute (checked NCHW arrays or views in, the C core writes the
target); `conv2d_winograd` is the same with conv2d's argument handling, for tests and
benchmarks; `winograd_suits` says whether, and with which tile, a layer should take this path.
conv2d(..., method="winograd") runs `compute` with `tile_for`'s tile, and method="auto" where
`winograd_suits` names a tile (cconv/_conv.py).
"""

from __future__ import annotations

import numpy as np

from . import _core, _simd, _target
from ._args import (ACTIVATION_NONE, Geometry, resolve, resolve_activation, resolve_threads,
                    result_dtype)
from ._pad import resolve_padding_mode

# Inputs the C core converts as it packs them, by result dtype (as for the direct path).
_CONVERTED = {np.dtype(np.float32): frozenset("BbHh"), np.dtype(np.float64): frozenset("BbHhf")}

# The tiles the C core has.
TILES = (2, 4)

# Where each tile pays: a cost model in units of one direct multiply-add per input and output
# channel pair, fitted to benchmarks/bench_winograd.py on ResNet's 3x3 layers (1 thread,
# AVX-512, a shared machine, so rough).  Direct: 9 per output pixel.  Winograd with tile m,
# a = m + 2, over T tiles (the last row and column of tiles may reach past the output):
#   T a^2 * _GEMM_FACTOR            the products (a batched GEMM a little below direct's speed)
#   a^2 * _WEIGHT_COST              the weight transform, every call, whatever the image size
#   T a^2 * _TRANSFORM_COST * (1/O + 1/C)   packing and the input (per input channel) and output
#                                   (per output channel) transforms
# A tile is chosen when it is the cheaper one and beats direct by _MARGIN (25%: on ResNet's l3,
# 256 channels at 14x14, the model's 0.84 measured 0.7-1.0x of direct's time at 1 thread but
# 0.9-1.15x at 2 threads, so it stays direct).
_GEMM_FACTOR = 1.2
_WEIGHT_COST = 18.0
_TRANSFORM_COST = 40.0
_MARGIN = 1.25
_MIN_CHANNELS = 8

# The accuracy rule: "auto" may pick Winograd only where its error stays within the tolerance the
# test suite allows the direct path (max |error| / max |reference| <= 1e-4 for float32, 1e-10
# for float64), over layers up to 512 input channels (benchmarks/winograd_accuracy.py measures
# it).  The error grows roughly like the square root of the channels summed (a random walk of
# the products' rounding) times the tile's amplification; the measured worst case of each tile
# and dtype at 512 input channels is recorded here, and a tile is allowed where that figure,
# scaled to the layer's depth, keeps a safety factor of 4 below the tolerance.
_TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
# (Measured on 20x20 images, 3 seeds, normal and uniform inputs: 1.1e-6, 1.5e-5, 1.9e-15, 3.9e-14;
# the direct path's own: 3.0e-6 and 6.5e-15.)
_ERROR_AT_512 = {(np.dtype(np.float32), 2): 2e-6, (np.dtype(np.float32), 4): 2e-5,
                 (np.dtype(np.float64), 2): 4e-15, (np.dtype(np.float64), 4): 6e-14}
_SAFETY = 4.0


def supported(geom: Geometry) -> bool:
    """Whether the C core's Winograd path computes this layer at all: a 3x3 kernel, stride 1
    and dilation 1 along both axes (any padding, border mode, groups, input dtype)."""
    return (geom.kernel_height == 3 and geom.kernel_width == 3 and geom.stride_h == 1
            and geom.stride_w == 1 and geom.dilation_h == 1 and geom.dilation_w == 1)


def accurate(dtype, tile: int, depth: int) -> bool:
    """Whether F(tile x tile, 3x3) keeps a layer whose filters are `depth` channels deep within
    the direct path's test tolerance for this dtype (with the safety factor)."""
    dtype = np.dtype(dtype)
    worst = _ERROR_AT_512[(dtype, tile)] * np.sqrt(max(depth, 1) / 512.0)
    return worst * _SAFETY <= _TOLERANCE[dtype]


def cost_ratio(geom: Geometry, tile: int) -> float:
    """The cost model's estimate of Winograd time / direct time for this layer and tile."""
    a = tile + 2
    tiles = geom.batch * (-(-geom.out_height // tile)) * (-(-geom.out_width // tile))
    cg, og = geom.in_channels // geom.groups, geom.out_channels // geom.groups
    winograd = (tiles * a * a * (_GEMM_FACTOR + _TRANSFORM_COST * (1.0 / og + 1.0 / cg))
                + a * a * _WEIGHT_COST)
    return winograd / (9.0 * geom.batch * geom.out_height * geom.out_width)


def winograd_suits(geom: Geometry, dtype, channels_last: bool = False) -> int:
    """The tile (2 or 4) with which Winograd should compute this layer, or 0 when the direct
    path should: the C core supports it, groups is 1, the tile is accurate enough for the
    layer's depth (`accurate`), and the cost model (`cost_ratio`) expects it to beat direct by
    _MARGIN; the cheaper of the two tiles that qualify.  Both layouts: the C core reads a
    channels-last input through its strides (measured at 1 thread: ResNet l1/l2 in NHWC 1.65/
    1.60 ms against 2.24/2.57 ms for the channels-last direct kernels, NCHW Winograd 1.38/1.41),
    and gives the same bits in either."""
    del channels_last  # (the layout does not change the choice)
    dtype = np.dtype(dtype)
    if not supported(geom) or geom.groups != 1 or dtype not in _TOLERANCE:
        return 0
    if min(geom.in_channels, geom.out_channels) < _MIN_CHANNELS:
        return 0
    best, best_ratio = 0, 1.0 / _MARGIN
    for tile in (4, 2):
        ratio = cost_ratio(geom, tile)
        if ratio <= best_ratio and accurate(dtype, tile, geom.in_channels // geom.groups):
            best, best_ratio = tile, ratio
    return best


def tile_for(geom: Geometry, dtype, channels_last: bool = False) -> int:
    """The tile for method="winograd": winograd_suits's choice, else (a layer it would leave to
    the direct path, where the caller asked for Winograd anyway) the cheaper tile by the cost
    model among the accurate ones (2 when neither is)."""
    tile = winograd_suits(geom, dtype, channels_last)
    if tile:
        return tile
    depth = geom.in_channels // geom.groups
    if accurate(dtype, 4, depth) and cost_ratio(geom, 4) <= cost_ratio(geom, 2):
        return 4
    return 2


def transformed_weights(w, geom: Geometry, dtype, simd, tile, cache):
    """The weights transformed once for `compute`'s `u`, kept in `cache` (a dict owned by an
    object whose weights never change: cconv.Conv2d) per dtype, SIMD path and tile; None when
    they are not finite (the call then transforms them itself and falls back to direct)."""
    key = (np.dtype(dtype), simd, tile)
    u = cache.get(key)
    if u is None:
        u, finite = _core.winograd_weights(np.require(w, dtype, "CA"), geom.groups, simd, tile)
        u = cache[key] = u if finite else False
    return u if u is not False else None


def compute(x, w, b, geom: Geometry, target, dtype, threads, simd, tile, r=None,
            stage=(ACTIVATION_NONE, 0.0, 0.0), mode=0, fill=0.0, u=None):
    """cconv._conv._compute's twin on the Winograd path: x, target and r NCHW-ordered arrays or
    views (no empty axis: the caller answers those as the direct path does), w and b of any
    layout (copied C-contiguous of `dtype` when they are not), tile 2 or 4; u: the weights
    transformed by `transformed_weights` for this dtype, SIMD path and tile, or None."""
    if tile not in TILES:
        raise ValueError(f"tile must be one of {TILES}, got {tile!r}")
    if not supported(geom):
        raise ValueError("the Winograd path computes 3x3 kernels at stride 1 and dilation 1 only")
    dtype = np.dtype(dtype)
    if not (x.dtype.char in _CONVERTED[dtype] and x.dtype.isnative and x.flags.aligned):
        x = np.require(x, dtype, "A")
    w = np.require(w, dtype, "CA")
    if b is not None:
        b = np.require(b, dtype, "CA")
    if r is not None and not (r.dtype == dtype and r.flags.aligned and all(
            n <= 1 or sr == st for n, sr, st in zip(r.shape, r.strides, target.strides))):
        # Laid out as the output, as the C core reads it (cconv._conv._compute does the same).
        copy = np.empty_like(target)
        copy[...] = r
        r = copy
    _core.conv2d_winograd(x, w, b, target, geom.core_tuple, threads, simd, tile, r,
                          None if stage[0] == ACTIVATION_NONE else stage, mode, fill, u)


def conv2d_winograd(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                    tile=None, activation=None, residual=None, padding_mode="zeros",
                    padding_value=0.0, out=None, threads=None, simd=None):
    """conv2d (NCHW, or CHW for one image) through F(tile x tile, 3x3).

    The arguments are conv2d's (`simd`: a SIMD path index, default the active one); `tile` is
    2 or 4, or None for `tile_for`'s choice.  Raises ValueError for a layer the path does not compute
    (not 3x3, stride 1, dilation 1).

    Examples
    --------
    >>> import numpy as np
    >>> from cconv._winograd import conv2d_winograd
    >>> x = np.ones((1, 2, 6, 6), np.float32)
    >>> w = np.ones((1, 2, 3, 3), np.float32)
    >>> y = conv2d_winograd(x, w, padding=1, tile=4)
    >>> y[0, 0, :2, :3]
    array([[ 8., 12., 12.],
           [12., 18., 18.]], dtype=float32)
    """
    x = np.asarray(input)
    w = np.asarray(weight)
    b = None if bias is None else np.asarray(bias)
    r = None if residual is None else np.asarray(residual)
    dtype = result_dtype(("input", x), ("weight", w), ("bias", b), ("residual", r))
    geom = resolve(x.shape, w.shape, stride, padding, dilation, groups)
    if not supported(geom):
        raise ValueError("the Winograd path computes 3x3 kernels at stride 1 and dilation 1 "
                         f"only, got kernel {geom.kernel_height}x{geom.kernel_width}, stride "
                         f"({geom.stride_h}, {geom.stride_w}), dilation ({geom.dilation_h}, "
                         f"{geom.dilation_w})")
    if b is not None and b.shape != (geom.out_channels,):
        raise ValueError(f"bias must have shape ({geom.out_channels},), one value per filter, "
                         f"got shape {b.shape}")
    if tile is None:
        tile = tile_for(geom, dtype)
    stage = resolve_activation(activation)
    mode, fill = resolve_padding_mode(padding_mode, padding_value)
    n_threads = resolve_threads(threads)
    batched = x.ndim == 4
    shape = geom.out_shape if batched else geom.out_shape[1:]
    if r is not None and r.shape != tuple(shape):
        raise ValueError(f"residual must have the output's shape {tuple(shape)}, got shape "
                         f"{r.shape}")
    result, target = _target.prepare("conv2d", out, shape, dtype, (x, w, b, r))
    if target.size == 0:
        return _target.finish(result, target)
    if x.size == 0:  # no input pixels: the direct path's answer (its _compute handles it)
        from ._conv import _compute
        _compute(x if batched else x[None], w, b, geom, target if batched else target[None],
                 dtype, n_threads, _simd.ACTIVE if simd is None else simd, False,
                 None if r is None else (r if batched else r[None]), stage, mode, fill)
        return _target.finish(result, target)
    compute(x if batched else x[None], w, b, geom, target if batched else target[None], dtype,
            n_threads, _simd.ACTIVE if simd is None else simd, tile,
            None if r is None else (r if batched else r[None]), stage, mode, fill)
    return _target.finish(result, target)
