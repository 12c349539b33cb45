"""Keyword arguments that cconv's own functions take in this version.

cconv.dask mirrors cconv's signatures.  Some arguments arrive in cconv one operation at a time
(conv2d's `method`, pooling's `data_format`); cconv.dask accepts them always and passes them on
where the installed cconv takes them, so that it keeps exactly cconv's meaning as cconv grows.
"""

from __future__ import annotations

import functools
import inspect


@functools.lru_cache(maxsize=None)
def takes(function, name: str) -> bool:
    """Whether `function` has a parameter called `name`."""
    return name in inspect.signature(function).parameters


def method_keywords(function, method) -> dict:
    """conv2d's method= as `function` takes it: passed on when it has the argument; without it,
    the direct path is the only method, which "auto" and "direct" both name."""
    if takes(function, "method"):
        return {"method": method}
    if isinstance(method, str) and method in ("auto", "direct"):
        return {}
    raise ValueError(f"method must be 'auto' or 'direct' (this version of cconv has only the "
                     f"direct path), got {method!r}")
