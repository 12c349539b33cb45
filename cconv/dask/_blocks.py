"""The Dask side of every operation: the input as a Dask array, its blocks overlapped by their
halos (dask.array.overlap), one task per block (map_blocks), the output in its final chunks.

Dask's own machinery does the halo exchange and the scheduling; each task sees one overlapped
block and cuts from it, with the plans of the two spatial axes, exactly the rows and columns its
outputs read.
"""

from __future__ import annotations

import numpy as np

from ._axis import AxisPlan


def as_dask_array(value):
    """A Dask array as it is; anything else through dask.array.asarray (NumPy arrays in chunks
    of Dask's default size)."""
    import dask.array as da

    return value if isinstance(value, da.Array) else da.asarray(value)


def as_delayed(array):
    """A NumPy array as one value in the task graph, shared by every task (not copied into each)."""
    import dask

    return None if array is None else dask.delayed(array, pure=True)


def overlapped(source, plans: dict[int, AxisPlan]):
    """source with each block extended by its halos along the planned axes."""
    import dask.array as da

    depth = {axis: plan.depth for axis, plan in plans.items() if plan.depth != (0, 0)}
    if not depth:
        return source
    return da.overlap.overlap(source, depth=depth, boundary={axis: "none" for axis in depth},
                              allow_rechunk=False)


def window(block: np.ndarray, plans: dict[int, AxisPlan], block_id) -> np.ndarray:
    """The part of an overlapped block that its outputs read (a view)."""
    index = [slice(None)] * block.ndim
    for axis, plan in plans.items():
        offset, count = plan.reads(block_id[axis])
        index[axis] = slice(offset, offset + count)
    return block[tuple(index)]


def final_chunks(result, plans: dict[int, AxisPlan]):
    """result rechunked to the output chunks the input's chunks give (only where blocks were
    merged to lend their halos)."""
    wanted = {axis: plan.final_chunks for axis, plan in plans.items()
              if plan.out_chunks != plan.final_chunks}
    return result.rechunk(wanted) if wanted else result
