"""Where each padded pixel of a border mode comes from, as an index into the input.

The FFT path gathers the padded input a block at a time straight from the caller's array (a padded
copy of the whole image would double the memory of a big one); these maps say, for every padded
row or column it needs, which input row or column to read.  They repeat the patterns numpy.pad
gives for any padding width, wider than the image too (the same rule cconv.pad documents):
reflect has period 2 * (size - 1), symmetric 2 * size, circular size.
"""

from __future__ import annotations

import numpy as np

# Markers in an index map: the constant of padding_mode="zeros" (padding_value), and a pixel past
# the padded extent, which only multiplies kernel taps that are zero and is set to 0.
FILL = -1
ZERO = -2


def source_index(positions: np.ndarray, size: int, pad_before: int, pad_after: int,
                 mode: str) -> np.ndarray:
    """For padded coordinates `positions` (0 = the first padding pixel), the input index each
    reads: 0 <= index < size, or FILL for a constant border, or ZERO past the padded extent.

    `mode` is a padding_mode name; an input axis of size 0 has only FILL (or ZERO) pixels, which
    only a constant border can give (the caller has refused the others).
    """
    z = np.asarray(positions, dtype=np.int64) - pad_before
    inside = (z >= 0) & (z < size)
    if mode == "zeros" or size == 0:
        index = np.where(inside, z, FILL)
    elif mode == "replicate":
        index = np.clip(z, 0, size - 1)
    elif mode == "circular":
        index = np.mod(z, size)
    elif mode == "reflect":  # mirrors about the edge pixel, which is not repeated
        period = max(2 * (size - 1), 1)
        m = np.mod(z, period)
        index = np.where(m < size, m, period - m)
    elif mode == "symmetric":  # mirrors about the edge, which is repeated
        m = np.mod(z, 2 * size)
        index = np.where(m < size, m, 2 * size - 1 - m)
    else:
        raise ValueError(f"unknown padding_mode {mode!r}")
    return np.where(z >= size + pad_after, ZERO, index)


def inside_range(positions: np.ndarray, size: int, pad_before: int) -> tuple[int, int]:
    """(a, b): positions[a:b] are the increasing padded coordinates that fall inside the input,
    so a strided slice of the input gives them (only the border pixels around need a gather)."""
    z = np.asarray(positions, dtype=np.int64) - pad_before
    a = int(np.searchsorted(z, 0, side="left"))
    b = int(np.searchsorted(z, size, side="left"))
    return a, max(a, b)
