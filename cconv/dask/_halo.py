"""Each block of a Dask array extended by copies of its neighbours' edge rows and columns (its
halo): the pieces by Dask's map_blocks, each block's assembly one task of a graph layer.

This is dask.array.overlap's layout (boundary "none": the first block along an axis has no halo
before it, the last none after it), built so that no task result is a view.  overlap cuts each
halo out of the neighbouring chunk as a NumPy view, and a view keeps its whole chunk alive until
the task that reads it has run; Dask's order leaves many of those pending on a large array, and
the peak memory of a 512 x 512-chunked float32 image grew with its height (26, 59, then 113 MB
more for 32, 128 and 512 MB images; 629 MB in all for examples/dask_big_image.py).  Here each
halo piece is a copy of the few rows or columns (or the corner) that a neighbour needs, made as
soon as the chunk exists, so what waits for the neighbours is mostly those copies (about 390 MB
for the example; the same images grew by 32, 46 and 76 MB: Dask still computes some chunks
ahead), and only the copies travel between distributed workers.  Every block is assembled from
its pieces in one task, with one copy of the chunk.
"""

from __future__ import annotations

import functools
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


def _join(parts, *, offsets, axes) -> np.ndarray:
    """One block with its halo from its pieces: parts holds one piece per offset (a tuple of
    -1, 0 or +1 per axis: where the piece lies around the block; all zeros: the block), None
    where the array has no neighbour there.  Each piece is copied once, into its place
    (concatenating would copy the block once per axis, and thin pieces slowly)."""
    pieces = {offset: piece for offset, piece in zip(offsets, parts) if piece is not None}
    block = pieces[(0,) * len(axes)]
    shape = list(block.shape)
    lead = []  # per axis: the rows of the halo before the block
    for k, axis in enumerate(axes):
        side = {o[k]: p.shape[axis] for o, p in pieces.items() if not any(o[:k] + o[k + 1:])}
        lead.append(side.get(-1, 0))
        shape[axis] += side.get(-1, 0) + side.get(1, 0)
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
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    axes = tuple(a for a, (before, after) in sorted(depth.items())
                 if x.numblocks[a] > 1 and (before or after))
    if not axes:
        return x
    # Where the pieces lie around a block, per axis: before it (-1), level with it (0), after
    # it (+1); only the sides with a halo.
    sides = [[o for o, d in ((-1, depth[a][0]), (0, 1), (1, depth[a][1])) if d] for a in axes]
    offsets = list(itertools.product(*sides))
    sources = []
    for offset in offsets:
        # The piece before a block is its previous block's last rows, and the other way round.
        regions = {a: ((-depth[a][0], depth[a][0]) if o < 0 else (0, depth[a][1]))
                   for a, o in zip(axes, offset) if o}
        sources.append(_pieces(x, regions) if regions else x)
    # One task per block, naming its neighbours' pieces directly: shifting the piece arrays
    # with Dask's own operations (Array.blocks, concatenate) adds two alias tasks per piece and
    # block, which cost more time and scheduler memory than the pieces themselves.
    name = "cconv-halo-" + tokenize(x, depth)
    join = functools.partial(_join, offsets=offsets, axes=axes)
    layer = {}
    for index in itertools.product(*(range(n) for n in x.numblocks)):
        parts = []
        for offset, source in zip(offsets, sources):
            at = list(index)
            for a, o in zip(axes, offset):
                at[a] += o
            inside = all(0 <= at[a] < x.numblocks[a] for a in axes)
            parts.append((source.name, *at) if inside else None)
        layer[(name, *index)] = (join, parts)
    chunks = list(x.chunks)
    for a in axes:
        n = len(x.chunks[a])
        chunks[a] = tuple(c + (depth[a][0] if i else 0) + (depth[a][1] if i < n - 1 else 0)
                          for i, c in enumerate(x.chunks[a]))
    graph = HighLevelGraph.from_collections(name, layer, dependencies=sources)
    return da.Array(graph, name, chunks=tuple(chunks), meta=np.empty((0,) * x.ndim, x.dtype))
