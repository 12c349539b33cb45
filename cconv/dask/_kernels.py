"""A chunk's outputs computed by the kernels that compute them in the whole-array call.

The C core sums every output in one fixed order per kernel family, whatever the tile, the band,
the thread or the position in the array: bias, channels ascending, taps ascending for the planar
kernels; bias, taps ascending, channels ascending for the dense channels-last kernels (each step
one fused multiply-add).  So a chunk reproduces the whole-array call bit for bit as long as both
run the same family.  They do, except in one case: on channels-last (NHWC) data the C core runs
the channels-last kernels only from some number of output positions (batch x rows x columns) up,
about 128, below which repacking the weights costs more than it saves.  A chunk smaller than that
from an array that is not would be summed in the planar order, and with several input channels
per group and several taps that changes the rounding of its outputs.

Such a chunk's call gets all-zero images appended to its batch, enough positions for the
channels-last kernels, and their outputs are dropped.  This costs nothing for chunks of useful
size: only chunks under the threshold (a few hundred pixels) are padded.  The threshold is asked
of the C core (cconv_conv2d_kernels_used), for the channel counts at hand, once per process.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

_MOST_POSITIONS = 1 << 24


def order_depends_on_kernels(group_in_channels: int, taps: int) -> bool:
    """Whether the two kernel families sum an output in different orders: only with several
    channels and several taps per filter (depthwise filters and 1x1 kernels sum alike)."""
    return group_in_channels > 1 and taps > 1


@functools.lru_cache(maxsize=256)
def channels_last_threshold(in_channels: int, out_channels: int, groups: int,
                            dtype: str) -> int | None:
    """The fewest output positions from which conv2d runs its channels-last kernels on NHWC data
    with these channel counts, or None when it never does (or cannot be asked)."""
    try:
        from .. import _core, _simd
        kernels_used = _core.kernels_used
    except (ImportError, AttributeError):  # pragma: no cover - a core without the query
        return None
    item = np.dtype(dtype).itemsize
    base = np.empty(1, dtype)

    def channels_last(positions: int) -> bool:
        # Arrays of shape (1, C, 1, positions) and (1, O, 1, positions) laid out channels-last:
        # the query reads their shapes and strides only, never their elements.
        x = as_strided(base, (1, in_channels, 1, positions),
                       (item * in_channels * positions, item, item * in_channels * positions,
                        item * in_channels))
        y = as_strided(base, (1, out_channels, 1, positions),
                       (item * out_channels * positions, item, item * out_channels * positions,
                        item * out_channels))
        geometry = (1, 1, 0, 0, 0, 0, 1, 1, groups)
        name = kernels_used(x, (out_channels, in_channels // groups, 1, 1), y, geometry,
                            _simd.ACTIVE, item)
        return name.startswith("channels-last")

    if not channels_last(_MOST_POSITIONS):
        return None
    lo, hi = 1, _MOST_POSITIONS  # channels_last(hi) holds
    while lo < hi:
        mid = (lo + hi) // 2
        if channels_last(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def batch_copies(chunk_positions: int, whole_positions: int, threshold: int | None) -> int:
    """How many times its batch a chunk's call needs, so that it runs the kernels the whole
    call runs (1: as it is)."""
    if threshold is None or chunk_positions <= 0 or whole_positions < threshold or (
            chunk_positions >= threshold):
        return 1
    return -(-threshold // chunk_positions)


def with_zero_images(x: np.ndarray, copies: int) -> np.ndarray:
    """x (batch first) with (copies - 1) times its batch of all-zero images after it."""
    if copies == 1:
        return x
    zeros = np.zeros((x.shape[0] * (copies - 1),) + x.shape[1:], x.dtype)
    return np.concatenate([x, zeros])
