"""Interleaved timing: every repetition times each implementation once, in a rotating order.

Interleaving spreads slow drifts of the machine (frequency, other processes, page cache) evenly
over all implementations instead of charging them to whichever ran last. Each sample runs enough
back-to-back calls to last at least ``min_sample_s``, so microsecond calls are timed over many
calls and the clock's resolution does not matter; the sample's time is divided by its calls.
"""

from __future__ import annotations

import gc
import math
import statistics
import time


def _time_calls(fn, calls: int) -> float:
    """Seconds per call over `calls` back-to-back calls, with the garbage collector off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls
    finally:
        if enabled:
            gc.enable()


def _warm_up(fn, min_seconds: float) -> float:
    """Run fn until it has run 3 times and `min_seconds` have passed; the fastest call's time."""
    best = math.inf
    spent, runs = 0.0, 0
    while runs < 3 or spent < min_seconds:
        t = _time_calls(fn, 1)
        best = min(best, t)
        spent += t
        runs += 1
    return best


def interleaved_medians(fns: dict, repeat: int, min_sample_s: float, gap_s: float,
                        budget_s: float) -> tuple[dict, dict]:
    """Median seconds per call of each callable in `fns`, timed round-robin.

    Parameters
    ----------
    fns : dict
        name -> zero-argument callable.
    repeat : int
        Repetitions wanted; each times every callable once. Lowered (not below 3) when one
        repetition would take more than ``budget_s / repeat``.
    min_sample_s : float
        Each sample makes enough calls to last at least this long.
    gap_s : float
        Pause after each sample, so that worker threads still spinning after one library's call
        (OpenMP, ONNX Runtime's pool) have gone to sleep before the next library is timed.
    budget_s : float
        Rough time allowed for all repetitions together.

    Returns
    -------
    (medians, details) : (dict, dict)
        name -> median seconds per call; name -> {"samples": [...], "calls_per_sample": k}.
    """
    names = list(fns)
    calls = {}
    rep_s = 0.0  # estimated length of one repetition
    for name in names:
        one_call = _warm_up(fns[name], min_seconds=min(0.2, 4 * min_sample_s))
        calls[name] = max(1, math.ceil(min_sample_s / max(one_call, 1e-9)))
        rep_s += one_call * calls[name] + gap_s
    repeat = max(min(repeat, 3), min(repeat, int(budget_s / max(rep_s, 1e-9))))
    samples = {name: [] for name in names}
    for r in range(repeat):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_time_calls(fns[name], calls[name]))
            if gap_s:
                time.sleep(gap_s)
    medians = {name: statistics.median(samples[name]) for name in names}
    details = {name: {"samples": samples[name], "calls_per_sample": calls[name]}
               for name in names}
    return medians, details
