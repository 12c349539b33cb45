"""Each library in its own worker process, timed in turn: what issue 11 asks for at 2+ threads.

In one process, thread pools disturb each other (PyTorch's OpenMP workers spin while cconv's
threads run, OpenBLAS's spin after NumPy's matmul, ...), and the figures then measure the mix.
Here every implementation lives in a process of its own (started with "spawn", so it inherits
no thread pool) that prepares its call once and then, on request, times a sample: enough calls
to last at least min_sample_s.  Samples go round-robin over the implementations, and before each
one the parent waits until the machine looks idle (no core busier than `idle_share` over a
short window, measured from /proc/stat), up to max_idle_wait_s.

    with IsolatedRunner({"cconv": spec_a, "torch": spec_b}) as runner:
        medians, details = runner.medians(repeat=7, min_sample_s=0.005)

A spec is (factory, args): the worker calls factory(*args) to get its zero-argument callable
(factory must be importable by name, a module-level function).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import time

_CONTEXT = mp.get_context("spawn")


def _worker(conn, factory, args):
    try:
        fn = factory(*args)
    except Exception as exc:  # reported to the parent, which leaves this implementation out
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    if isinstance(fn, str):
        conn.send(("error", fn))
        return
    conn.send(("ready", None))
    while True:
        message, value = conn.recv()
        if message == "stop":
            return
        if message == "result":
            conn.send(("result", fn()))
        elif message == "sample":
            calls, start = 0, time.perf_counter()
            while True:
                fn()
                calls += 1
                elapsed = time.perf_counter() - start
                if elapsed >= value:
                    break
            conn.send(("sample", (elapsed / calls, calls)))


def _cpu_busy():
    """(busy jiffies, total jiffies) of the whole machine since boot, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def wait_until_idle(max_wait_s: float, idle_share: float = 0.1, window_s: float = 0.02) -> float:
    """Waits until the machine's cores are busier than `idle_share` no more over one window;
    returns the seconds waited (at most max_wait_s)."""
    start = time.perf_counter()
    while time.perf_counter() - start < max_wait_s:
        a = _cpu_busy()
        time.sleep(window_s)
        b = _cpu_busy()
        if a is None or b is None:
            break
        total = b[1] - a[1]
        if total <= 0 or (b[0] - a[0]) / total <= idle_share:
            break
    return time.perf_counter() - start


class IsolatedRunner:
    """Worker processes, one per implementation; see the module docstring."""

    def __init__(self, specs: dict):
        self.procs, self.conns, self.errors = {}, {}, {}
        for key, (factory, args) in specs.items():
            parent, child = _CONTEXT.Pipe()
            proc = _CONTEXT.Process(target=_worker, args=(child, factory, args), daemon=True)
            proc.start()
            self.procs[key], self.conns[key] = proc, parent
        for key in list(self.conns):
            status, value = self.conns[key].recv()
            if status != "ready":
                self.errors[key] = value
                self._stop(key)

    def _stop(self, key):
        conn, proc = self.conns.pop(key), self.procs.pop(key)
        try:
            conn.send(("stop", None))
        except (BrokenPipeError, OSError):
            pass
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()

    def keys(self):
        return list(self.conns)

    def result(self, key):
        self.conns[key].send(("result", None))
        return self.conns[key].recv()[1]

    def medians(self, repeat: int, min_sample_s: float, max_idle_wait_s: float = 0.5,
                budget_s: float | None = None):
        """({key: median seconds per call}, {key: {"samples": [...], "calls_per_sample": [...],
        "idle_wait_s": [...]}}), round-robin over the workers after one warm-up sample each;
        the repetitions are lowered (not below 3) to stay near budget_s."""
        details = {k: {"samples": [], "calls_per_sample": [], "idle_wait_s": []}
                   for k in self.conns}
        for key, conn in self.conns.items():  # warm-up
            conn.send(("sample", min_sample_s))
            conn.recv()
        start = time.perf_counter()
        for rep in range(repeat):
            for key, conn in self.conns.items():
                waited = wait_until_idle(max_idle_wait_s)
                conn.send(("sample", min_sample_s))
                seconds, calls = conn.recv()[1]
                details[key]["samples"].append(seconds)
                details[key]["calls_per_sample"].append(calls)
                details[key]["idle_wait_s"].append(waited)
            if budget_s and rep >= 2 and time.perf_counter() - start > budget_s:
                break
        medians = {k: statistics.median(d["samples"]) for k, d in details.items()}
        return medians, details

    def close(self):
        for key in list(self.conns):
            self._stop(key)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
