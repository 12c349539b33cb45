"""Interleaved timing: every repetition times each implementation once, in a rotating order.

Interleaving spreads slow drifts of the machine (frequency, other processes, page cache) evenly
over all implementations instead of charging them to whichever ran last. Each sample runs enough
back-to-back calls to last at least ``min_sample_s``, so microsecond calls are timed over many
calls and the clock's resolution does not matter; the sample's time is divided by its calls.

Two things make multi-threaded libraries disturb each other when they take turns, and both are
handled before every sample:

- After a call, a library's worker threads keep spinning for a while (measured on the 2-core
  benchmark machine: libgomp, used by PyTorch, about 8-10 ms; ONNX Runtime's pool about 35-40 ms;
  cconv's own pool 0.1 ms), taking a core from whichever library runs next. ``wait_until_idle``
  sleeps until the process burns no CPU any more.
- A worker thread that has gone to sleep can take milliseconds to wake (up to ~15 ms measured on
  that virtual machine), which would be charged to the first call of the next sample. One untimed
  call of the same implementation right before the sample wakes its threads, so every sample
  measures back-to-back calls, as a network running layer after layer makes them.
"""

from __future__ import annotations

import gc
import math
import statistics
import time

_IDLE_STEP_S = 0.002
_IDLE_CPU_FRACTION = 0.25  # below this share of one core during a step, the process is idle


def wait_until_idle(max_s: float) -> float:
    """Sleep until no thread of this process spins any more (or max_s passed); seconds waited."""
    start = time.perf_counter()
    while True:
        cpu = time.process_time()
        time.sleep(_IDLE_STEP_S)
        waited = time.perf_counter() - start
        if time.process_time() - cpu < _IDLE_CPU_FRACTION * _IDLE_STEP_S or waited >= max_s:
            return waited


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


def _warm_up(fn, min_calls: int = 2, min_seconds: float = 0.05) -> None:
    """First calls: allocations, thread pools, caches, lazily compiled code paths."""
    spent, runs = 0.0, 0
    while runs < min_calls or spent < min_seconds:
        spent += _time_calls(fn, 1)
        runs += 1


def _autorange(fn, min_sample_s: float) -> tuple[int, float]:
    """(calls, seconds per call): enough back-to-back calls to last min_sample_s."""
    calls = 1
    while True:
        per_call = _time_calls(fn, calls)
        if per_call * calls >= min_sample_s:
            return calls, per_call
        calls = min(calls * 10, max(calls * 2, math.ceil(1.2 * min_sample_s / max(per_call,
                                                                                    1e-9))))


def _calls_per_sample(fn, min_sample_s: float) -> tuple[int, float]:
    """The autorange of the fastest of 3 tries: one call stalled by another process must not
    make every sample a single call."""
    return max((_autorange(fn, min_sample_s) for _ in range(3)), key=lambda t: t[0])


def interleaved_medians(fns: dict, repeat: int, min_sample_s: float, budget_s: float,
                        max_idle_wait_s: float = 0.2, settle_s: dict | None = None
                        ) -> tuple[dict, dict]:
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
    budget_s : float
        Rough time allowed for all repetitions together.
    max_idle_wait_s : float
        Longest wait for spinning worker threads before a sample.
    settle_s : dict, optional
        name -> seconds to sleep after that callable's samples, on top of the idle wait.

    Returns
    -------
    (medians, details) : (dict, dict)
        name -> median seconds per call; name -> {"samples": [...], "calls_per_sample": k}.
    """
    names = list(fns)
    settle_s = {name: (settle_s or {}).get(name, 0.0) for name in names}
    calls = {}
    rep_s = 0.0  # estimated length of one repetition
    for name in names:
        wait_until_idle(max_idle_wait_s)
        _warm_up(fns[name])
        calls[name], per_call = _calls_per_sample(fns[name], min_sample_s)
        time.sleep(settle_s[name])
        rep_s += per_call * (calls[name] + 1) + settle_s[name] + wait_until_idle(max_idle_wait_s)
    repeat = max(min(repeat, 3), min(repeat, int(budget_s / max(rep_s, 1e-9))))
    samples = {name: [] for name in names}
    for r in range(repeat):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            wait_until_idle(max_idle_wait_s)
            fns[name]()  # wakes this implementation's threads; not timed
            samples[name].append(_time_calls(fns[name], calls[name]))
            time.sleep(settle_s[name])
    medians = {name: statistics.median(samples[name]) for name in names}
    details = {name: {"samples": samples[name], "calls_per_sample": calls[name]}
               for name in names}
    return medians, details
