"""Memory checks made before allocating: what a call would need, against the machine's RAM."""

from __future__ import annotations

import os

import numpy as np


def physical_memory() -> int | None:
    """Bytes of RAM of this machine, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(operation, arrays, result_shape, dtype, allocate_result) -> None:
    """MemoryError before allocating when the result and the contiguous copies of the inputs
    cannot fit in RAM (e.g. a broadcast view of 2**34 pixels): failing fast beats swapping.
    `arrays` are the operation's arrays, the one the C core reads through its strides first."""
    need = int(np.prod(result_shape, dtype=object)) * dtype.itemsize if allocate_result else 0
    for i, a in enumerate(arrays):
        # The C core reads arrays[0] with any strides, in place when it has the result dtype and
        # is aligned; the others are copied unless C-contiguous.
        in_place = a is not None and a.dtype == dtype and a.flags.aligned and (
            i == 0 or a.flags.c_contiguous)
        if a is not None and not in_place:
            need += a.size * dtype.itemsize
    ram = physical_memory()
    if ram is not None and need > ram:
        raise MemoryError(f"{operation} would allocate {need} bytes for the result of shape "
                          f"{tuple(result_shape)} and contiguous {dtype} copies of its inputs, "
                          f"more than the {ram} bytes of RAM")
