"""Border rows of a whole Dask array, as lazy pieces of it: the border of the whole array, never of
a chunk.

A convolution's padding reads outside the whole array only.  These rows are built once, along
one axis, from the array itself (slices of its first, last or wrapped-around rows, the same rule
as the C core's cconv_border_index, so "circular" wraps around the whole array, not around a
chunk) or as a constant, then merged into the first and last chunks, so that every chunk's
convolution afterwards reads real rows only and needs no padding of its own.
"""

from __future__ import annotations

import numpy as np


def border_index(i: np.ndarray, n: int, mode: str) -> np.ndarray:
    """The rows that padded rows i (any integers) of an axis of n >= 1 rows repeat (numpy.pad's
    rule, and the C core's: wider padding continues the pattern)."""
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return np.mod(i, n)
    if mode == "reflect":  # period 2(n - 1): 0 1 .. n-1 n-2 .. 1
        if n == 1:
            return np.zeros_like(i)
        r = np.mod(i, 2 * (n - 1))
        return np.where(r < n, r, 2 * (n - 1) - r)
    if mode == "symmetric":  # period 2n: 0 1 .. n-1 n-1 .. 0
        r = np.mod(i, 2 * n)
        return np.where(r < n, r, 2 * n - 1 - r)
    raise ValueError(f"no border rule for mode {mode!r}")


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """`rows` cut into runs that step by +1 or -1 (a single row is a run), as (first, last)."""
    runs = []
    first = prev = int(rows[0])
    step = 0
    for row in rows[1:].tolist():
        if row - prev in (1, -1) and step in (0, row - prev):
            step = row - prev
        else:
            runs.append((first, prev))
            first, step = row, 0
        prev = row
    runs.append((first, prev))
    return runs


def _take(x, axis: int, first: int, last: int):
    """Rows first..last (inclusive, either direction) of x along axis, as a lazy slice."""
    index = [slice(None)] * x.ndim
    if last >= first:
        index[axis] = slice(first, last + 1)
    else:
        index[axis] = slice(first, last - 1 if last > 0 else None, -1)
    return x[tuple(index)]


def _pieces(x, axis: int, rows: range, mode: str, value):
    """The padded rows `rows` (outside [0, n)) of x along axis, as lazy pieces in order."""
    import dask.array as da

    if len(rows) == 0:
        return []
    if mode == "zeros":
        chunks = list(x.chunks)
        chunks[axis] = (len(rows),)
        shape = list(x.shape)
        shape[axis] = len(rows)
        return [da.full(tuple(shape), value, dtype=x.dtype, chunks=tuple(chunks))]
    source = border_index(np.arange(rows.start, rows.stop), x.shape[axis], mode)
    return [_take(x, axis, first, last) for first, last in _runs(source)]


def extend(x, axis: int, extent: tuple[int, int], chunks: tuple[int, ...], mode: str, value):
    """x along `axis` extended to rows [extent[0], extent[1]) (extent[0] <= 0, extent[1] >= its
    size) with border rows of `mode` ("zeros" being the constant `value`, in x's dtype), and
    rechunked to `chunks` along that axis."""
    import dask.array as da

    n = x.shape[axis]
    if 0 in x.chunks[axis]:
        # Dask slices an axis that has empty chunks wrongly with a negative step (the mirrored
        # rows of "reflect" and "symmetric" came back empty); they hold nothing anyway.
        x = x.rechunk({axis: tuple(c for c in x.chunks[axis] if c)})
    before = _pieces(x, axis, range(extent[0], 0), mode, value)
    after = _pieces(x, axis, range(n, extent[1]), mode, value)
    if before or after:
        x = da.concatenate(before + [x] + after, axis=axis)
    if x.chunks[axis] != tuple(chunks):
        x = x.rechunk({axis: tuple(chunks)})
    return x
