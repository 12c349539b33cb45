"""Which instruction-set path conv2d uses, chosen once at import, and the build configuration."""

from __future__ import annotations

import os

from . import _core

_ENV = "CCONV_SIMD"


def compiled_paths() -> list[str]:
    """Every path compiled into this build, lowest first."""
    return [name for name, _ in _core.simd_paths()]


def usable_paths() -> list[str]:
    """The compiled paths this CPU can run, lowest first ('generic' always)."""
    return [name for name, usable in _core.simd_paths() if usable]


def path_index(name: str) -> int:
    """Index of a usable path, or a ValueError naming the usable ones."""
    paths = _core.simd_paths()
    for i, (candidate, usable) in enumerate(paths):
        if candidate == name:
            if not usable:
                raise ValueError(f"SIMD path {name!r} is compiled in but this CPU cannot run it; "
                                 f"usable paths: {', '.join(usable_paths())}")
            return i
    raise ValueError(f"unknown SIMD path {name!r}; compiled paths: "
                     f"{', '.join(compiled_paths())}")


def _select_at_import() -> int:
    forced = os.environ.get(_ENV, "").strip().lower()
    if not forced or forced == "auto":
        return _core.simd_best()
    try:
        return path_index(forced)
    except ValueError as exc:
        raise RuntimeError(f"{_ENV}={forced}: {exc}") from None


ACTIVE: int = _select_at_import()
ACTIVE_NAME: str = compiled_paths()[ACTIVE]
