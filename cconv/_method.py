"""method="auto": direct or FFT, by a cost model of both, calibrated on this machine.

The direct path does N * O * OH * OW * (C/groups) * kH * kW multiply-adds at a rate that depends
on how the C core can vectorise them; the FFT path's time grows with the image and only the log of
the kernel (cconv/_fft.py).  Both estimates are in seconds, from the constants below, which
``python benchmarks/calibrate_fft.py`` measures and prints in this module's syntax: rerun it on
a new machine, or after changing the C core's kernels, and paste its output over them.

"auto" picks the FFT only where its estimate, times a safety margin, beats the direct one (so a
wrong guess near the break-even costs little), only for finite data (a NaN or an infinity would
spread over a whole FFT tile), and only where the FFT's rounding error stays within the tolerance
the tests hold the direct path to (relative to the sum of |input| x |weight| over each window:
1e-4 for float32, 1e-12 for float64).
"""

from __future__ import annotations

import math
import os

import numpy as np

from ._args import Geometry
from ._fft_backend import Backend, backend as fft_backend, installed, keeps_float32, next_fast_len
from ._fft_plan import FFTPlan, phase_axes, work_items

METHODS = ("auto", "direct", "fft", "winograd")

# ---------------------------------------------------------------- calibrated constants
# Measured by benchmarks/calibrate_fft.py on the development machine on 2026-12-02 00:12 UTC
# (2-core AMD EPYC virtual machine, Zen 4 class, AVX-512 path; Python 3.11, NumPy 2.4.6, SciPy
# 1.17.1), each the fastest of several samples; the thread gains from samples taken while no other
# process ran (other sessions' builds and tests shared the machine).  See that script for what
# each probe runs.
#
# Direct path: multiply-adds per second at one thread, by dtype and kind of layer ("depth1":
# filters of depth 1, i.e. one-channel images and depthwise layers; "dense": deeper filters),
# and the speedup of its second thread.
DIRECT_MACS_PER_S = {
    ('float32', 'depth1'): 3.13e+10,
    ('float32', 'dense'): 5.61e+10,
    ('float64', 'depth1'): 1.6e+10,
    ('float64', 'dense'): 2.81e+10,
}
DIRECT_THREAD_GAIN = 0.93  # each thread after the first adds this much of one thread's speed
# FFT path: seconds per point per log2(points) of a real 2-D transform of n points as the FFT
# path runs it (in place, with Python's share of a work item), by library and dtype, at
# log2(n) = 10, 12, ..., 22 (interpolated between, held beyond).
FFT_LOG2_POINTS = (10, 12, 14, 16, 18, 20, 22)
FFT_S_PER_POINT_LOG = {
    ('scipy', 'float32'): (5.23e-09, 9.08e-10, 3.63e-10, 3.12e-10, 2.39e-10, 1.72e-10, 2.08e-10),
    ('scipy', 'float64'): (3.64e-09, 9.61e-10, 4.05e-10, 3.87e-10, 2.87e-10, 3.02e-10, 3.54e-10),
    ('numpy', 'float32'): (5.11e-09, 1.28e-09, 5.02e-10, 4.03e-10, 3.56e-10, 4.1e-10, 4.8e-10),
    ('numpy', 'float64'): (4.92e-09, 1.19e-09, 4.64e-10, 2.99e-10, 3.07e-10, 4.16e-10, 5.11e-10),
}
# Seconds per complex multiply-add of the spectra, per element gathered into a block, and per
# output pixel written (with its output stage), by dtype.
SPECTRUM_S_PER_MAC = {'float32': 4.86e-10, 'float64': 1.31e-09}
GATHER_S_PER_POINT = {'float32': 1.31e-10, 'float64': 1.96e-10}
OUTPUT_S_PER_POINT = {'float32': 4.06e-10, 'float64': 1.09e-09}
FFT_THREAD_GAIN = 0.42  # each thread after the first, over work items
# Once per call: setting up, and the first touch of a thread's buffers, per byte of them.
CALL_S = 0.0
CALL_S_PER_BYTE = 0.0
# Largest relative error of the float32 FFT path (|fft - exact| / sum of |x| |w| over the
# window) per log2 of the FFT points, over the calibration's data.
FLOAT32_ERROR_PER_LOG2 = 1.43e-07

# ---------------------------------------------------------------- choices
# "auto" takes the FFT only when its estimate times this is below the direct path's.
SAFETY = 1.3
# The FFT path's estimated error must stay this many times below the tests' tolerance.
ERROR_MARGIN = 4.0
TOLERANCE = {"float32": 1e-4, "float64": 1e-12}
# Memory of one work item's arrays, and of the kernel spectra (bytes); smaller tiles beyond.
ITEM_BYTES = 48 << 20
SPECTRA_BYTES = 256 << 20


def resolve_method(method) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    return method


def _thread_speedup(threads: int, gain: float) -> float:
    return 1.0 + gain * (max(threads, 1) - 1)


def direct_seconds(geom: Geometry, dtype, threads: int) -> float:
    """The direct path's estimated time."""
    g = geom
    depth = g.in_channels // g.groups
    macs = g.batch * g.out_channels * g.out_height * g.out_width * depth * (
        g.kernel_height * g.kernel_width)
    kind = "depth1" if depth == 1 else "dense"
    rate = DIRECT_MACS_PER_S[(np.dtype(dtype).name, kind)]
    return macs / rate / _thread_speedup(threads, DIRECT_THREAD_GAIN)


def transform_seconds(points: int, backend_name: str, dtype_name: str) -> float:
    """Estimated time of one real 2-D FFT (or inverse) of `points` points."""
    if points <= 1:
        return 0.0
    log2n = math.log2(points)
    table = FFT_S_PER_POINT_LOG[(backend_name, dtype_name)]
    per = float(np.interp(log2n, FFT_LOG2_POINTS, table))
    return per * points * log2n


def _item_bytes(geom: Geometry, plan_shape, depth_channels: int, images: int, itemsize: int):
    fft_h, fft_w = plan_shape
    bins = fft_h * (fft_w // 2 + 1)
    real = fft_h * fft_w
    # The block, its spectrum, the product and the inverse transform's result.
    return images * itemsize * (depth_channels * (real + 2 * bins) +
                                geom.out_channels * (2 * bins + real))


def plan_terms(geom: Geometry, plan: FFTPlan, dtype, backend_name: str) -> dict:
    """The parts of the FFT path's one-thread time with this tiling, in seconds: once per call
    "kernels" (the kernel spectra) and "call" (setting up, and the first touch of each thread's
    buffers), and per work item "transforms", "spectra" (the products), "gather", "output",
    with "items", the number of work items.  (Python's share of an item is in the transforms'
    constants, which are measured in place.)"""
    g = geom
    name = np.dtype(dtype).name
    channels = g.in_channels * plan.phase_channels
    depth = channels // g.groups
    fft_h, fft_w = plan.fft_h, plan.fft_w
    points = fft_h * fft_w
    bins = fft_h * (fft_w // 2 + 1)
    chunks = -(-g.batch // plan.batch_chunk)
    items = chunks * -(-g.out_height // plan.tile_h) * -(-g.out_width // plan.tile_w)
    block = (min(fft_h, g.out_height + plan.rows.kernel - 1) *
             min(fft_w, g.out_width + plan.cols.kernel - 1))
    images = g.batch / chunks
    buffers = _item_bytes(g, (fft_h, fft_w), channels, plan.batch_chunk,
                          np.dtype(dtype).itemsize)
    return {
        "kernels": g.out_channels * depth * transform_seconds(points, backend_name, "float64"),
        "call": CALL_S + CALL_S_PER_BYTE * buffers,
        "items": items,
        "transforms": images * (channels + g.out_channels) * transform_seconds(
            points, backend_name, name),
        "spectra": images * g.out_channels * depth * bins * SPECTRUM_S_PER_MAC[name],
        "gather": images * channels * block * GATHER_S_PER_POINT[name],
        "output": (g.batch * g.out_channels * g.out_height * g.out_width
                   * OUTPUT_S_PER_POINT[name] / items),
    }


def plan_seconds(geom: Geometry, plan: FFTPlan, dtype, threads: int, backend_name: str
                 ) -> float:
    """The FFT path's estimated time with this tiling at `threads` threads: the work items
    shared out over them, in waves (a lone item runs on one thread)."""
    t = plan_terms(geom, plan, dtype, backend_name)
    items = t["items"]
    per_item = t["transforms"] + t["spectra"] + t["gather"] + t["output"]
    workers = min(threads, items)
    waves = -(-items // workers)
    return (t["kernels"] + t["call"]
            + waves * per_item * workers / _thread_speedup(workers, FFT_THREAD_GAIN))


def _lengths(out: int, kernel: int) -> list[tuple[int, int]]:
    """Candidate (fft length, tile) pairs along one axis: tiles of about 16 * 2**(j/2) outputs
    up to the whole output, each evened out over the tiles it takes, at a fast FFT length."""
    candidates = set()
    whole = next_fast_len(out + kernel - 1)
    tile = 16
    while True:
        tile = min(tile, out)
        count = -(-out // tile)
        even = -(-out // count)
        length = next_fast_len(even + kernel - 1)
        candidates.add((length, min(length - kernel + 1, out)))
        if tile >= out:
            break
        tile = int(tile * 1.414) + 1
    candidates.add((whole, out))
    return sorted(candidates)


def preferred_library(dtype) -> str:
    """"scipy" when SciPy is installed and the calibration found scipy.fft faster for this
    dtype, else "numpy" (without importing SciPy)."""
    name = np.dtype(dtype).name
    if "scipy" in installed() and sum(FFT_S_PER_POINT_LOG[("scipy", name)]) <= sum(
            FFT_S_PER_POINT_LOG[("numpy", name)]):
        return "scipy"
    return "numpy"


def preferred_backend(dtype) -> Backend:
    """The preferred library's transforms (imports SciPy on first use: only calls that take the
    FFT get here)."""
    try:
        return fft_backend(preferred_library(dtype))
    except ImportError:  # found but broken
        return fft_backend("numpy")


def fft_plan(geom: Geometry, dtype, threads: int, backend: Backend) -> FFTPlan:
    """The tiling with the lowest estimated time whose memory fits the limits above (or the
    smallest tiles, when none does), with its work items on `threads` threads."""
    return _best_plan(geom, np.dtype(dtype).name, max(int(threads), 1), backend.name,
                      backend.keeps_float32)[0]


def usable_cores() -> int:
    """The cores this process may run on (not OMP_NUM_THREADS: see _search_plan)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


# The best plans found, by (geometry, dtype name, threads, library name): a video's frames or a
# network's layers repeat their shapes, and a search takes milliseconds.  Plain dict operations
# are atomic, so this needs no lock; cleared when it grows too big.
_PLANS: dict = {}
_PLANS_MAX = 256


def _best_plan(geom: Geometry, dtype_name: str, threads: int, library: str, keeps: bool
               ) -> tuple[FFTPlan, float]:
    """(plan, estimated seconds) with this FFT library (which keeps float32 or not), cached."""
    key = (geom, dtype_name, threads, library, keeps)
    found = _PLANS.get(key)
    if found is None:
        found = _search_plan(geom, dtype_name, threads, library, keeps)
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = found
    return found


def _search_plan(geom: Geometry, dtype_name: str, threads: int, library: str, keeps: bool
                 ) -> tuple[FFTPlan, float]:
    """The tiling is chosen by its time on all the cores this process may use, whatever the
    call's thread count, so that it, and with it every rounding, is the same at any thread
    count (the threads only share out its work items), while it still has work items enough
    for every core."""
    g = geom
    dtype = np.dtype(dtype_name)
    cores = usable_cores()
    rows, cols = phase_axes(g)
    itemsize = dtype.itemsize if keeps else 8
    channels = g.in_channels * len(rows.phases) * len(cols.phases)
    depth = max(channels // g.groups, 1)
    best = None
    fallback = None
    for fft_h, tile_h in _lengths(g.out_height, rows.kernel):
        for fft_w, tile_w in _lengths(g.out_width, cols.kernel):
            spectra = g.out_channels * depth * fft_h * (fft_w // 2 + 1) * 2 * itemsize
            chunk = g.batch
            while chunk > 1 and _item_bytes(g, (fft_h, fft_w), channels, chunk,
                                             itemsize) > ITEM_BYTES:
                chunk = -(-chunk // 2)
            fits = spectra <= SPECTRA_BYTES and _item_bytes(
                g, (fft_h, fft_w), channels, chunk, itemsize) <= ITEM_BYTES
            plan = FFTPlan(rows, cols, fft_h, fft_w, tile_h, tile_w, chunk, 1)
            seconds = plan_seconds(g, plan, dtype, cores, library)
            if fits and (best is None or seconds < best[1]):
                best = (plan, seconds)
            if fallback is None or fft_h * fft_w < fallback[0].fft_h * fallback[0].fft_w:
                fallback = (plan, seconds)
    plan = (best if best is not None else fallback)[0]
    plan = plan._replace(workers=min(threads, len(work_items(g, plan))))
    return plan, plan_seconds(g, plan, dtype, threads, library)


def fft_error(plan: FFTPlan, dtype) -> float:
    """Estimated largest relative error of the FFT path with this plan."""
    log2n = math.log2(max(plan.fft_h * plan.fft_w, 2))
    if np.dtype(dtype) == np.float64:
        return FLOAT32_ERROR_PER_LOG2 * log2n * (2.0 ** -53) / (2.0 ** -24)
    return FLOAT32_ERROR_PER_LOG2 * log2n


def fft_lower_bound(geom: Geometry, dtype) -> float:
    """Seconds the FFT path takes at least, however it tiles: writing every output pixel, and
    per frequency bin (at least half as many as output pixels per map) a product for every
    filter and channel of its depth.  Against the direct path's kernel-sized work per output,
    this alone rules out small kernels and deep 3x3 layers."""
    g = geom
    name = np.dtype(dtype).name
    outputs = g.batch * g.out_channels * g.out_height * g.out_width
    depth = g.in_channels // g.groups
    return outputs * (OUTPUT_S_PER_POINT[name] + depth / 2 * SPECTRUM_S_PER_MAC[name])


def choose(geom: Geometry, dtype, threads: int, backend: Backend | None = None) -> str:
    """"direct" or "fft" for method="auto", from the shapes alone (see spreads_safely for the
    data).  `backend`: the FFT library, by default the preferred one (SciPy is not imported
    for this: only for a call that takes the FFT)."""
    g = geom
    dtype = np.dtype(dtype)
    if 0 in g.out_shape or g.in_channels == 0:
        return "direct"
    direct = direct_seconds(g, dtype, threads)
    # A cheap bound first, in a microsecond.
    if direct < SAFETY * fft_lower_bound(g, dtype) / _thread_speedup(threads, FFT_THREAD_GAIN):
        return "direct"
    if backend is None:
        library = preferred_library(dtype)
        keeps = keeps_float32(library)
    else:
        library, keeps = backend.name, backend.keeps_float32
    plan, seconds = _best_plan(g, dtype.name, max(threads, 1), library, keeps)
    if SAFETY * seconds >= direct:
        return "direct"
    if fft_error(plan, dtype) * ERROR_MARGIN > TOLERANCE[dtype.name]:
        return "direct"
    return "fft"


def spreads_safely(arrays) -> bool:
    """Whether the FFT may spread these arrays' values over its tiles: no NaN and no infinity
    (one would turn a whole tile into NaN).  One sum per array, cheaper than an isfinite mask;
    a sum that overflows says False too, which only keeps the direct path."""
    for a in arrays:
        if a is not None and a.dtype.kind == "f" and a.size:
            with np.errstate(over="ignore", invalid="ignore"):
                if not math.isfinite(float(np.sum(a))):
                    return False
    return True
