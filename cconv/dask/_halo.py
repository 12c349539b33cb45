"""Each block of a Dask array extended by copies of its neighbours' edge rows and columns (its
halo), with Dask's map_blocks and blockwise.

This is dask.array.overlap's layout (boundary "none": the first block along an axis has no halo
before it, the last none after it), built so that no task result is a view.  overlap cuts each
halo out of the neighbouring chunk as a NumPy view, and a view keeps its whole chunk alive until
the task that reads it has run; Dask's order leaves many of those pending on a large array, and
the peak memory of a 512 x 512-chunked float32 image grew with its height (26, 59, then 113 MB
more for 32, 128 and 512 MB images; 629 MB in all for examples/dask_big_image.py).  Here each
halo piece is a copy of the few rows or columns (or the corner) that a neighbour needs, made as
soon as the chunk exists, so what waits for the neighbours is mostly those copies (about 380 MB
for the example; the same images grew by 33, 56 and 97 MB: Dask still computes some chunks
ahead), and only the copies travel between distributed workers.  Every block is assembled from
its pieces in one task, with one copy of the chunk.
"""

from __future__ import annotations

import itertools

import numpy as np


def _piece(block: np.ndarray, *, regions: dict) -> np.ndarray:
    """A copy (never a view) of the part of block that regions give: axis -> (first, count),
    first negative counting from the end."""
    index = [slice(None)] * block.ndim
    for axis, (first, count) in regions.items():
        start = first if first >= 0 else block.shape[axis] + first
        index[axis] = slice(start, start + count)
    return block[tuple(index)].copy()


def _pieces(x, regions: dict):
    """Per block of x, the copy _piece makes (one block each)."""
    chunks = list(x.chunks)
    for axis, (_, count) in regions.items():
        chunks[axis] = (count,) * x.numblocks[axis]
    return x.map_blocks(_piece, regions=regions, chunks=tuple(chunks), dtype=x.dtype,
                        meta=np.empty((0,) * x.ndim, x.dtype), token="cconv-halo-piece")


def _shifted(pieces, axis: int, by: int):
    """pieces with its blocks along axis moved by one (by=-1: block i holds block i-1's; by=+1:
    block i holds block i+1's); the end left free gets a stand-in (the neighbouring block's own,
    which _join leaves out), so that every block index has one."""
    import dask.array as da

    def blocks(part):
        index = [slice(None)] * pieces.ndim
        index[axis] = part
        return pieces.blocks[tuple(index)]

    if by < 0:
        return da.concatenate([blocks(slice(0, 1)), blocks(slice(None, -1))], axis=axis)
    return da.concatenate([blocks(slice(1, None)), blocks(slice(-1, None))], axis=axis)


def _join(*parts, offsets, axes, blocks) -> np.ndarray:
    """One block with its halo from its pieces: parts are one piece per offset (a tuple of -1, 0
    or +1 per axis: where the piece lies around the block) followed by the block's position
    along each axis (a one-element array each).  Pieces from beyond the array's first or last
    block are stand-ins and left out.  Each piece is copied once, into its place in the result
    (concatenating would copy the block once per axis, and thin pieces slowly)."""
    positions = [int(p[0]) for p in parts[len(offsets):]]
    pieces = {offset: piece for offset, piece in zip(offsets, parts)
              if all(0 <= i + o < n for i, o, n in zip(positions, offset, blocks))}
    block = pieces[(0,) * len(axes)]
    shape = list(block.shape)
    lead = []  # per axis: the rows of the halo before the block
    for k, axis in enumerate(axes):
        before = next((p.shape[axis] for o, p in pieces.items()
                       if o[k] == -1 and not any(o[:k] + o[k + 1:])), 0)
        after = next((p.shape[axis] for o, p in pieces.items()
                      if o[k] == 1 and not any(o[:k] + o[k + 1:])), 0)
        lead.append(before)
        shape[axis] += before + after
    result = np.empty(shape, block.dtype)
    for offset, piece in pieces.items():
        index = [slice(None)] * block.ndim
        for k, (axis, o) in enumerate(zip(axes, offset)):
            start = {-1: 0, 0: lead[k], 1: lead[k] + block.shape[axis]}[o]
            index[axis] = slice(start, start + piece.shape[axis])
        result[tuple(index)] = piece
    return result


def overlap(x, depth: dict[int, tuple[int, int]]):
    """x with every block extended by depth[axis] = (before, after) rows along each axis (the
    plans make no block smaller than the halos its neighbours take from it)."""
    import dask.array as da

    axes = tuple(a for a, (before, after) in sorted(depth.items())
                 if x.numblocks[a] > 1 and (before or after))
    if not axes:
        return x
    index = tuple(range(x.ndim))
    # Where the pieces lie around a block, per axis: before it (-1), level with it (0), after
    # it (+1); only the sides with a halo.
    sides = [[o for o, d in ((-1, depth[a][0]), (0, 1), (1, depth[a][1])) if d] for a in axes]
    offsets = list(itertools.product(*sides))
    arguments = []
    for offset in offsets:
        # The piece before a block is its previous block's last rows, and the other way round.
        regions = {a: ((-depth[a][0], depth[a][0]) if o < 0 else (0, depth[a][1]))
                   for a, o in zip(axes, offset) if o}
        piece = _pieces(x, regions) if regions else x
        for a, o in zip(axes, offset):
            if o:
                piece = _shifted(piece, a, o)
        arguments += [piece, index]
    for a in axes:
        arguments += [da.arange(x.numblocks[a], chunks=1), (a,)]
    sizes = {a: tuple(c + (depth[a][0] if i else 0) + (depth[a][1] if i < len(x.chunks[a]) - 1
                                                       else 0)
                      for i, c in enumerate(x.chunks[a])) for a in axes}
    return da.blockwise(_join, index, *arguments, offsets=offsets, axes=axes,
                        blocks=tuple(x.numblocks[a] for a in axes), align_arrays=False,
                        adjust_chunks=sizes, dtype=x.dtype,
                        meta=np.empty((0,) * x.ndim, x.dtype), token="cconv-halo")
