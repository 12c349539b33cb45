"""`out=` for cconv.dask: the lazy result computed into an array the caller holds.

cconv's functions fill `out` and return it.  A Dask result is lazy, so here `out=` means "compute
now, into this": dask.array.store writes each output chunk into its place as its task finishes,
on the current scheduler, so no task and no step holds the whole result in memory.  `out` may be
anything store writes to: a NumPy array (or memmap) of exactly the result's shape and dtype, as
cconv asks, or a Zarr array (whose dtype it converts to, as Zarr does).
"""

from __future__ import annotations

import numpy as np


def store_into(result, out):
    """`result` (a Dask array or a tuple of them; None: left lazy) stored into `out` (the same
    structure; a None element of a tuple is not stored), and `out` returned."""
    import dask.array as da

    if out is None:
        return result
    results = result if isinstance(result, tuple) else (result,)
    outs = out if isinstance(result, tuple) else (out,)
    if isinstance(result, tuple) and (not isinstance(out, tuple) or len(out) != len(result)):
        raise TypeError(f"out must be a tuple of {len(result)} arrays (None for one not wanted) "
                        f"with return_indices=True, got {type(out).__name__}")
    sources, targets = [], []
    for name, r, o in zip(("out", "indices out"), results, outs):
        if o is None:
            continue
        if tuple(getattr(o, "shape", ())) != r.shape:
            raise ValueError(f"{name} must have the output's shape {r.shape}, got shape "
                             f"{getattr(o, 'shape', None)}")
        if isinstance(o, np.ndarray) and o.dtype != r.dtype:
            raise TypeError(f"{name} must have the result's dtype {r.dtype}, got {o.dtype}")
        sources.append(r)
        targets.append(o)
    if sources:
        # Chunks of one array never overlap, so writes need no lock (Zarr takes care of its own
        # chunks; store asks the writer's chunks to line up with the result's for that).
        da.store(sources, targets, lock=not all(isinstance(t, np.ndarray) for t in targets))
    return out
