"""Build and run-time configuration, for bug reports and for people."""

from __future__ import annotations

from . import _core, _simd


def get_config() -> dict:
    """The configuration conv2d runs with.

    Returns
    -------
    dict
        ``simd``: the instruction-set path in use; ``simd_paths``: every path usable on this
        CPU, lowest first, ``generic`` included; ``simd_compiled``: every path in this build;
        ``max_threads``: what ``threads=None`` uses (``OMP_NUM_THREADS`` when set, else the
        cores this process may run on).

    Examples
    --------
    >>> import cconv
    >>> "generic" in cconv.get_config()["simd_paths"]
    True
    """
    return {
        "simd": _simd.ACTIVE_NAME,
        "simd_paths": _simd.usable_paths(),
        "simd_compiled": _simd.compiled_paths(),
        "max_threads": _core.max_threads(),
    }


def show_config() -> None:
    """Print :func:`get_config` for people."""
    config = get_config()
    print(f"cconv SIMD path : {config['simd']}")
    print(f"usable paths    : {', '.join(config['simd_paths'])}")
    print(f"compiled paths  : {', '.join(config['simd_compiled'])}")
    print(f"threads         : cconv's thread pool, max_threads={config['max_threads']}")
