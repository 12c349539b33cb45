"""What a benchmark result needs next to it: the machine, the libraries, the thread limits."""

from __future__ import annotations

import contextlib
import datetime
import multiprocessing
import os
import platform
import time

import numpy as np

import cconv

# Environment variables that change how a peer runs; printed and stored with every result.
RELEVANT_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "CCONV_SIMD",
                "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def openblas_notes() -> list[str]:
    """OpenBLAS tuning variables that make the NumPy peer run a non-default OpenBLAS."""
    notes = []
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            notes.append(f"note: {name}={os.environ[name]} is set: NumPy's OpenBLAS does not use "
                         "its own CPU detection; benchmarks/README.md runs with it unset")
    return notes


def _live_children_seconds() -> float:
    """CPU seconds of this process's live child processes (the benchmark's own workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in multiprocessing.active_children():
        try:
            with open(f"/proc/{child.pid}/stat") as f:
                # Fields after the command name (which may hold spaces): utime, stime are the
                # 12th and 13th of them (fields 14 and 15 of proc(5)).
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile: counted in os.times().children_* once reaped
    return total


def _busy_and_own_seconds():
    """(CPU seconds all cores spent busy since boot, incl. steal; CPU seconds of this process
    and of its worker processes, live or reaped)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy, (own.user + own.system + own.children_user + own.children_system
                  + _live_children_seconds())


class OtherLoad:
    """Share of the machine's cores that other processes (and the VM host: steal) used
    between start() and share(): the benchmark's own caveat when the machine is not quiet."""

    def start(self):
        self._begin = (time.perf_counter(), _busy_and_own_seconds())
        return self

    def share(self) -> float | None:
        wall0, snap0 = self._begin
        snap1 = _busy_and_own_seconds()
        wall = time.perf_counter() - wall0
        if snap0 is None or snap1 is None or wall <= 0:
            return None
        others = (snap1[0] - snap0[0]) - (snap1[1] - snap0[1])
        return max(0.0, others / (wall * usable_cores()))


@contextlib.contextmanager
def thread_limits(threads: int, impls):
    """Every library at `threads` threads: BLAS and OpenMP pools, and each peer's own pool."""
    for impl in impls:
        impl.set_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("note: threadpoolctl is not installed: NumPy's BLAS threads are not limited "
              f"(set OPENBLAS_NUM_THREADS={threads} to limit them)")
        yield None
        return
    with threadpool_limits(limits=threads) as limiter:
        yield limiter


def describe(impls, args) -> dict:
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for impl in impls:
        if impl.missing is None:
            versions[impl.key] = impl.version()
    if "ort" in versions:
        versions["onnx"] = getattr(impl_by_key(impls, "ort").onnx, "__version__", None)
    try:
        import threadpoolctl
        versions["threadpoolctl"] = threadpoolctl.__version__
        pools = [{k: v for k, v in info.items() if k in ("user_api", "internal_api", "version",
                                                         "num_threads", "architecture",
                                                         "filepath")}
                 for info in threadpoolctl.threadpool_info()]
    except ImportError:
        pools = None
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cores": usable_cores(),
        "platform": platform.platform(),
        "versions": versions,
        "cconv_config": cconv.get_config(),
        "thread_pools": pools,
        "env": {name: os.environ[name] for name in RELEVANT_ENV if name in os.environ},
        "args": vars(args),
    }


def impl_by_key(impls, key):
    return next(impl for impl in impls if impl.key == key)
