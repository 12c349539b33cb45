"""Which FFT library the FFT path runs on, and the transform sizes it is fast at.

SciPy is optional: cconv's only run-time dependency is NumPy.  When ``scipy.fft`` can be imported
it is used, because on the machine the cost model was calibrated on it was 1.0-7x faster than
``numpy.fft`` (float32 above all: NumPy's float32 transforms are several times slower than
SciPy's), it keeps float32 in float32 on every NumPy version (NumPy before 2.0 computes every
transform in float64), and it can use several threads for one transform (``workers=``).  Without
SciPy, ``numpy.fft`` does the same work, in float64 on NumPy 1.x.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Backend(NamedTuple):
    """The real 2-D transforms of one FFT library over the last two axes."""

    name: str
    rfft2: object   # rfft2(a, shape, workers) -> complex spectrum of a, zero-padded to shape
    irfft2: object  # irfft2(spectrum, shape, workers) -> real array of shape[-2:]
    keeps_float32: bool  # whether float32 input gives a complex64 spectrum


def _scipy_backend() -> Backend | None:
    try:
        import scipy.fft as sfft
    except ImportError:
        return None

    def rfft2(a, shape, workers):
        return sfft.rfft2(a, s=shape, axes=(-2, -1), workers=workers)

    def irfft2(a, shape, workers):
        # The spectrum is a temporary of the FFT path: the transform may overwrite it.
        return sfft.irfft2(a, s=shape, axes=(-2, -1), workers=workers, overwrite_x=True)

    return Backend("scipy", rfft2, irfft2, True)


def _numpy_backend() -> Backend:
    def rfft2(a, shape, workers):
        return np.fft.rfft2(a, s=shape, axes=(-2, -1))

    def irfft2(a, shape, workers):
        return np.fft.irfft2(a, s=shape, axes=(-2, -1))

    keeps = np.fft.rfft2(np.zeros((2, 2), np.float32)).dtype == np.complex64
    return Backend("numpy", rfft2, irfft2, keeps)


# The libraries found, by requested name; plain dict operations are atomic, so this cache (and the
# next one) needs no lock: two threads that miss at once compute the same value.
_BACKENDS: dict = {}


def backend(name: str | None = None) -> Backend:
    """The FFT library: "scipy", "numpy", or None for SciPy when it is installed, else NumPy.

    Asking for "scipy" without SciPy installed raises ImportError.
    """
    found = _BACKENDS.get(name)
    if found is not None:
        return found
    if name not in (None, "scipy", "numpy"):
        raise ValueError(f"FFT backend must be 'scipy' or 'numpy', got {name!r}")
    if name != "numpy":
        found = _scipy_backend()
        if found is None and name == "scipy":
            raise ImportError("the 'scipy' FFT backend needs SciPy: pip install scipy")
    if found is None:
        found = _numpy_backend()
    _BACKENDS[name] = found
    return found


_FAST_LENGTHS: dict = {}


def next_fast_len(target: int) -> int:
    """The smallest n >= target whose only prime factors are 2, 3 and 5.

    pocketfft, behind both numpy.fft and scipy.fft, is fastest at such sizes (scipy.fft's
    next_fast_len for real transforms gives the same numbers); a size with a large prime factor
    can be ten times slower than the 5-smooth size just above it.
    """
    if target <= 6:
        return max(target, 1)
    known = _FAST_LENGTHS.get(target)
    if known is not None:
        return known
    best = 2 ** (target - 1).bit_length()  # a power of two always qualifies
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            # The smallest power of two that lifts p35 to at least target.
            n = p35
            while n < target:
                n *= 2
            best = min(best, n)
            p35 *= 3
        p5 *= 5
    if len(_FAST_LENGTHS) > 4096:
        _FAST_LENGTHS.clear()
    _FAST_LENGTHS[target] = best
    return best
