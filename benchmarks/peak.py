"""The compute peak of one core, measured on the machine the benchmark runs on.

The peak of a dtype is the best GFLOP/s that a few compute-bound calls reach on one thread,
each call timed as the fastest of its repetitions:

- cconv, a 1x1 convolution of 256 feature maps of 16 x 16 with 256 filters (34 MFLOP, input and
  weight in the L2 cache: almost nothing but multiply-adds), and a 3x3 convolution of 128 feature
  maps of 28 x 28 with 128 filters, both with method="direct" (Winograd does fewer multiply-adds
  than the FLOP count says, so its GFLOP/s would not be a ceiling);
- NumPy's matmul of two 512 x 512 matrices, i.e. its BLAS, held to one thread by threadpoolctl
  (skipped without threadpoolctl: the BLAS would use every core).

This is a measured lower bound of what one core can do, independent of any figure quoted for
another machine; a loop of register-only FMA instructions may go a few percent higher.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import cconv


@dataclass
class Peak:
    """The peak GFLOP/s of one core for one dtype, and what each probe reached."""

    dtype: str
    gflops: float
    probes: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        best = max(self.probes, key=lambda p: p[1])[0]
        others = ", ".join(f"{label} {g:.1f}" for label, g in self.probes)
        return f"{self.dtype} {self.gflops:.1f} GFLOP/s ({best}; probes: {others})"


def _fastest(fn, min_time_s: float, min_reps: int = 5) -> float:
    """Seconds of the fastest of repeated calls (at least min_reps, for at least min_time_s)."""
    fn()  # warm-up: allocations, packing buffers, thread pools
    best = float("inf")
    spent, reps = 0.0, 0
    while reps < min_reps or spent < min_time_s:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        reps += 1
    return best


def _one_blas_thread():
    """threadpoolctl's limit to one BLAS/OpenMP thread, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1)


def measure_peak(dtype, min_time_s: float = 0.3) -> Peak:
    """The peak GFLOP/s of one core for float32 or float64 (see the module's docstring)."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(0)
    probes, notes = [], []
    for c, o, hw, k in ((256, 256, 16, 1), (128, 128, 28, 3)):
        x = rng.standard_normal((1, c, hw, hw)).astype(dtype)
        w = rng.standard_normal((o, c, k, k)).astype(dtype)
        out = np.empty((1, o, hw, hw), dtype)
        flops = 2 * o * hw * hw * c * k * k
        seconds = _fastest(lambda: cconv.conv2d(x, w, padding=k // 2, threads=1, out=out,
                                                   method="direct"),
                           min_time_s)
        probes.append((f"cconv {k}x{k} conv {c}->{o} on {hw}x{hw}", flops / seconds / 1e9))
    limit = _one_blas_thread()
    if limit is None:
        notes.append("NumPy matmul probe skipped: threadpoolctl is not installed, so its BLAS "
                     "threads cannot be limited to one")
    else:
        n = 512
        a = rng.standard_normal((n, n)).astype(dtype)
        b = rng.standard_normal((n, n)).astype(dtype)
        c = np.empty((n, n), dtype)
        with limit:  # threadpoolctl applies the limit at once and restores it on exit
            seconds = _fastest(lambda: np.matmul(a, b, out=c), min_time_s)
        probes.append((f"NumPy matmul {n}x{n}", 2 * n**3 / seconds / 1e9))
    return Peak(dtype.name, max(g for _, g in probes), probes, notes)
