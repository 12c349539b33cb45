"""Which FFT library the FFT path runs on, and the transform sizes it is fast at.

SciPy is optional: cconv's only run-time dependency is NumPy.  When ``scipy.fft`` can be imported
it is used, because on the machine the cost model was calibrated on it was 1.0-7x faster than
``numpy.fft`` (float32 above all: NumPy's float32 transforms are several times slower than
SciPy's), it keeps float32 in float32 on every NumPy version (NumPy before 2.0 computes every
transform in float64), and it can use several threads for one transform (``workers=``).  Without
SciPy, ``numpy.fft`` does the same work, in float64 on NumPy 1.x.
"""

from __future__ import annotations

import importlib.util
from typing import NamedTuple

import numpy as np


class Backend(NamedTuple):
    """The real 2-D transforms of one FFT library over the last two axes."""

    name: str
    rfft2: object   # rfft2(a, shape, workers) -> complex spectrum of a, zero-padded to shape
    irfft2: object  # irfft2(spectrum, shape, workers) -> real array of shape[-2:]
    keeps_float32: bool  # whether float32 input gives a complex64 spectrum
    # forward_into(a, out, workers): out[...] = rfft2(a); inverse_into(spectrum, out,
    # workers): out[...] = irfft2(spectrum, out.shape[-2:]), overwriting spectrum.  Writing
    # into arrays the caller reuses spares a fresh allocation per transform: freed and
    # allocated again each tile, megabytes of them page-fault anew (measured: the FFT path of
    # a 4000 x 3000 picture took 1.7-2x as long).
    forward_into: object
    inverse_into: object


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

    forward_into, inverse_into = _pocketfft_into() or _copying_into(rfft2, irfft2)
    return Backend("scipy", rfft2, irfft2, True, forward_into, inverse_into)


def _copying_into(rfft2, irfft2):
    """forward_into and inverse_into through the public functions (which allocate)."""
    def forward_into(a, out, workers):
        out[...] = rfft2(a, a.shape[-2:], workers)

    def inverse_into(spectrum, out, workers):
        out[...] = irfft2(spectrum, out.shape[-2:], workers)

    return forward_into, inverse_into


def _pocketfft_into():
    """forward_into and inverse_into on SciPy's pocketfft binding, which takes out= (its
    public scipy.fft functions do not), as one axis after the other, as pocketfft itself does
    a 2-D transform; None when that binding is missing or disagrees with scipy.fft on a test
    transform, so that a SciPy that changes it falls back to the public functions."""
    try:
        import scipy.fft as sfft
        from scipy.fft._pocketfft import pypocketfft as pfft

        def forward_into(a, out, workers):
            pfft.r2c(a, (a.ndim - 1,), True, 0, out, workers)
            pfft.c2c(out, (out.ndim - 2,), True, 0, out, workers)

        def inverse_into(spectrum, out, workers):
            # inorm 2 divides by the length of each axis: 1 / (fft_h * fft_w) in all.
            pfft.c2c(spectrum, (spectrum.ndim - 2,), False, 2, spectrum, workers)
            pfft.c2r(spectrum, (spectrum.ndim - 1,), out.shape[-1], False, 2, out, workers)

        test = np.random.default_rng(0).random((2, 6, 10))
        spectrum = np.empty((2, 6, 6), np.complex128)
        forward_into(test, spectrum, 1)
        if not np.allclose(spectrum, sfft.rfft2(test), rtol=1e-12, atol=1e-12):
            return None
        back = np.empty_like(test)
        inverse_into(spectrum, back, 1)
        if not np.allclose(back, test, rtol=1e-12, atol=1e-12):
            return None
        return forward_into, inverse_into
    except Exception:  # a SciPy without this private binding, or with another signature
        return None


def _numpy_backend() -> Backend:
    def rfft2(a, shape, workers):
        return np.fft.rfft2(a, s=shape, axes=(-2, -1))

    def irfft2(a, shape, workers):
        return np.fft.irfft2(a, s=shape, axes=(-2, -1))

    keeps = np.fft.rfft2(np.zeros((2, 2), np.float32)).dtype == np.complex64
    return Backend("numpy", rfft2, irfft2, keeps, *_copying_into(rfft2, irfft2))


def installed() -> tuple[str, ...]:
    """The FFT libraries installed, without importing them (importing SciPy takes a third of a
    second, which a call that will not take the FFT should not pay)."""
    try:
        found = importlib.util.find_spec("scipy") is not None
    except (ImportError, ValueError):
        found = False
    return ("scipy", "numpy") if found else ("numpy",)


def keeps_float32(name: str) -> bool:
    """Whether a library transforms float32 in float32 (NumPy does from 2.0 on)."""
    return name == "scipy" or int(np.__version__.split(".")[0]) >= 2


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


# The odd factors of the transform lengths used: pocketfft (behind numpy.fft and scipy.fft) is
# fastest at powers of two, and nearly as fast at 3, 5 and 15 times one; measured on the
# development machine, a 2-D float32 transform of 375 x 375 (3 * 5**3) or 576 x 576 (9 * 2**6)
# took 1.4-1.6x as long per point as 384 x 384 or 512 x 512.
_ODD_FACTORS = (1, 3, 5, 15)


def next_fast_len(target: int) -> int:
    """The smallest n >= target of the form m * 2**k, m in 1, 3, 5, 15 (n = target below 8).

    Such sizes are at most 25% apart, so a transform pads at most that much."""
    if target <= 8:
        return max(target, 1)
    known = _FAST_LENGTHS.get(target)
    if known is not None:
        return known
    best = None
    for odd in _ODD_FACTORS:
        n = odd
        while n < target:
            n *= 2
        best = n if best is None else min(best, n)
    if len(_FAST_LENGTHS) > 4096:
        _FAST_LENGTHS.clear()
    _FAST_LENGTHS[target] = best
    return best
