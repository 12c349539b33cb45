"""Where an operation writes its result: the out= array itself, or a fresh array when there is
no out=, or when out= could alias what the operation reads (the result is then copied in)."""

from __future__ import annotations

import numpy as np

from ._args import check_out
from ._memory import check_memory


def prepare(operation: str, out, result_shape, dtype, operands):
    """(result, target): `result` is the checked out= array or None; `target` is where the C
    core writes.  `operands` are the arrays read (None entries skipped), the one read through
    its strides first; their copies count against RAM (see _memory.check_memory)."""
    result = check_out(out, result_shape, dtype) if out is not None else None
    # Writing straight into `out` is only safe when it cannot alias what is being read (and is
    # aligned for the C core's typed stores).
    allocate = result is None or not result.flags.aligned or any(
        np.may_share_memory(result, a) for a in operands if a is not None)
    check_memory(operation, operands, result_shape, dtype, allocate)
    return result, (np.empty(result_shape, dtype) if allocate else result)


def finish(result, target):
    """What the operation returns: out= (filled from target if they differ), or target."""
    if result is None:
        return target
    if target is not result:
        result[...] = target
    return result
