"""Each block of a Dask array extended by copies of its neighbours' edge rows (its halo), with
Dask's map_blocks and blockwise, one axis after the other.

This is dask.array.overlap's layout (boundary "none": the first block has no halo before it, the
last none after it), built so that no task result is a view.  overlap cuts each halo out of the
neighbouring chunk as a NumPy view, and a view keeps its whole chunk alive until the task that
reads it has run; Dask's order leaves many of those pending on a large array, and the peak memory
of a 512 x 512-chunked float32 image grew with its height (26, 59, then 113 MB more for 32, 128
and 512 MB images).  Here each halo is a copy of the rows it needs (a few rows of a chunk), made
as soon as the chunk exists, so a chunk is freed once its own block and its edge copies are
built, and what waits is the copies: a band of halo rows, not of chunks.  It also sends only the
halo rows between distributed workers.
"""

from __future__ import annotations

import numpy as np


def _rows(block: np.ndarray, axis: int, first: int, count: int) -> np.ndarray:
    """A copy (never a view) of `count` rows of block along axis from `first` (negative: from
    the end)."""
    index = [slice(None)] * block.ndim
    start = first if first >= 0 else block.shape[axis] + first
    index[axis] = slice(start, start + count)
    return block[tuple(index)].copy()


def _join(*parts, axis: int, blocks: int, before: bool, after: bool) -> np.ndarray:
    """Block number position[0] of `blocks` with its halos, from (before halo if `before`,
    block, after halo if `after`, position): the first block's before halo and the last one's
    after halo are stand-ins (see _shifted) and left out."""
    *arrays, position = parts
    i = int(position[0])
    if before:
        halo, *arrays = arrays
        if i > 0:
            arrays = [halo, *arrays]
    if after:
        *arrays, halo = arrays
        if i < blocks - 1:
            arrays = [*arrays, halo]
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=axis)


def _edges(x, axis: int, first: int, count: int):
    """Per block of x, a copy of its `count` rows from `first` along axis (one block each)."""
    chunks = list(x.chunks)
    chunks[axis] = (count,) * x.numblocks[axis]
    return x.map_blocks(_rows, axis, first, count, chunks=tuple(chunks), dtype=x.dtype,
                        meta=np.empty((0,) * x.ndim, x.dtype), token="cconv-halo-rows")


def _shifted(edges, axis: int, by: int):
    """edges with its blocks along axis moved by one (by=+1: block i holds block i-1's; by=-1:
    block i holds block i+1's); the end left free gets a stand-in (the neighbouring block's
    own, which _join drops), so that every block index has one."""
    import dask.array as da

    def blocks(part):
        index = [slice(None)] * edges.ndim
        index[axis] = part
        return edges.blocks[tuple(index)]

    if by > 0:
        return da.concatenate([blocks(slice(0, 1)), blocks(slice(None, -1))], axis=axis)
    return da.concatenate([blocks(slice(1, None)), blocks(slice(-1, None))], axis=axis)


def extend_axis(x, axis: int, before: int, after: int):
    """x with each block extended along axis by `before` rows of the previous block and `after`
    rows of the next one (no block smaller than its neighbours' halos: the plans merge those)."""
    import dask.array as da

    n = x.numblocks[axis]
    if n == 1 or (before, after) == (0, 0):
        return x
    index = tuple(range(x.ndim))
    arguments = [x, index]
    if before:  # (an array of empty halos would lose its blocks in dask.array.concatenate)
        arguments = [_shifted(_edges(x, axis, -before, before), axis, +1), index] + arguments
    if after:
        arguments += [_shifted(_edges(x, axis, 0, after), axis, -1), index]
    sizes = tuple(c + (before if i else 0) + (after if i < n - 1 else 0)
                  for i, c in enumerate(x.chunks[axis]))
    return da.blockwise(_join, index, *arguments, da.arange(n, chunks=1), (axis,), axis=axis,
                        blocks=n, before=bool(before), after=bool(after), align_arrays=False,
                        adjust_chunks={axis: sizes}, dtype=x.dtype,
                        meta=np.empty((0,) * x.ndim, x.dtype), token="cconv-halo")


def overlap(x, depth: dict[int, tuple[int, int]]):
    """x with every block extended by depth[axis] = (before, after) rows along each axis."""
    for axis, (before, after) in sorted(depth.items()):
        x = extend_axis(x, axis, before, after)
    return x
