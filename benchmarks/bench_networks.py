"""Whole networks: ResNet-18 and MobileNetV2 forward passes in NumPy + cconv (examples/) against
PyTorch and ONNX Runtime, each library in its own worker process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_networks.py
    python benchmarks/bench_networks.py --networks resnet18 --batches 1 --threads 1 --repeat 7

Batch 1 and 8, 224 x 224, float32, at 1 and 2 threads (each library's own setting: cconv's
``threads=``, ``torch.set_num_threads``, ONNX Runtime's ``intra_op_num_threads``). NumPy's BLAS,
which runs the classifier's matmul, is left as a user has it; two more cconv workers show the
alternatives: BLAS limited to 1 thread around each forward pass with threadpoolctl, and
``OPENBLAS_NUM_THREADS=1`` in the worker's environment.

Every library computes the same network on the same images: a seeded PyTorch module (its
BatchNorms given trained-like statistics) saved as a state_dict for cconv and PyTorch and
exported to ONNX for ONNX Runtime (network_workers.py --prepare); the logits of each are checked
against cconv's once. Timing: each worker makes one untimed pass then enough timed passes to
last --min-sample-ms; the workers take turns, one sample each per round, starting one further
along each round; before each sample the script waits until the whole machine is quiet (other
workers' spinning threads included, at most --max-idle-wait-ms). The median over --repeat
rounds is reported, with the share of the cores that other processes used meanwhile.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

import cconv

from machine_info import RELEVANT_ENV, cpu_model, openblas_notes, usable_cores

WORKER = pathlib.Path(__file__).resolve().parent / "network_workers.py"
NETWORK_NAMES = {"resnet18": "ResNet-18", "mobilenet_v2": "MobileNetV2"}


@dataclass
class Impl:
    key: str
    label: str
    library: str
    blas_threads: int | None = None
    env: dict = field(default_factory=dict)


IMPLS = [
    Impl("cconv", "NumPy + cconv", "cconv"),
    Impl("cconv-blas1", "cconv, BLAS 1 thread (threadpoolctl)", "cconv", blas_threads=1),
    Impl("cconv-env1", "cconv, OPENBLAS_NUM_THREADS=1", "cconv",
         env={"OPENBLAS_NUM_THREADS": "1"}),
    Impl("torch", "PyTorch", "torch"),
    Impl("ort", "ONNX Runtime", "ort"),
]
REQUIRES = {"torch": "torch", "ort": "onnxruntime", "cconv-blas1": "threadpoolctl"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORK_NAMES),
                        choices=list(NETWORK_NAMES))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--impls", nargs="+", default=[i.key for i in IMPLS],
                        choices=[i.key for i in IMPLS])
    parser.add_argument("--repeat", type=int, default=7, help="rounds; the median is reported")
    parser.add_argument("--min-sample-ms", type=float, default=150.0)
    parser.add_argument("--max-idle-wait-ms", type=float, default=1000.0)
    parser.add_argument("--json", metavar="PATH", help="also write every sample and the machine")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


# --- the machine's load ------------------------------------------------------------------------

def machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (steal included), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def wait_for_quiet_machine(max_s: float, window_s: float = 0.1, quiet_cores: float = 0.15
                           ) -> tuple[float, bool]:
    """Sleep until the whole machine used less than `quiet_cores` cores over a window (so that
    the previous worker's spinning threads, and other processes, have stopped); (waited, quiet)."""
    start = time.perf_counter()
    while True:
        before = machine_busy_seconds()
        if before is None:
            return 0.0, False
        time.sleep(window_s)
        used = (machine_busy_seconds() - before) / window_s
        waited = time.perf_counter() - start
        if used < quiet_cores:
            return waited, True
        if waited >= max_s:
            return waited, False


# --- the workers -------------------------------------------------------------------------------

class Worker:
    """One library in its own process (network_workers.py), one JSON line per command."""

    def __init__(self, impl: Impl, threads: int):
        self.impl = impl
        cmd = [sys.executable, str(WORKER), "--library", impl.library, "--threads", str(threads)]
        if impl.blas_threads is not None:
            cmd += ["--blas-threads", str(impl.blas_threads)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=dict(os.environ, **impl.env))

    def ask(self, **command) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            return {"error": f"worker exited with status {self.proc.wait()}"}
        return json.loads(line)

    def close(self):
        try:
            self.ask(cmd="quit")
        except (BrokenPipeError, OSError):
            pass
        self.proc.wait(timeout=30)


def timed_sample(worker: Worker, network, batch, calls, max_wait_s) -> dict:
    waited, quiet = wait_for_quiet_machine(max_wait_s)
    wall0, busy0, own0 = time.perf_counter(), machine_busy_seconds(), \
        process_cpu_seconds(worker.proc.pid)
    reply = worker.ask(cmd="time", network=network, batch=batch, calls=calls)
    wall = time.perf_counter() - wall0
    others = None
    if busy0 is not None:
        own = process_cpu_seconds(worker.proc.pid) - own0
        others = max(0.0, (machine_busy_seconds() - busy0 - own) / (wall * usable_cores()))
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return {"ms": 1e3 * sum(reply["seconds"]) / calls, "others": others, "quiet": quiet,
            "waited_s": waited}


def measure_config(workers, network, batch, args, weights_dir) -> dict:
    """Median ms per forward pass of each worker, interleaved; None where a library failed."""
    results, reference = {}, None
    live = {}
    for key, worker in workers.items():
        reply = worker.ask(cmd="setup", network=network, batch=batch, weights=weights_dir)
        if "error" in reply:
            results[key] = {"error": reply["error"]}
            continue
        logits = np.asarray(reply["logits"])
        if reference is None:
            reference = logits
        err = float(np.abs(logits - reference).max() / max(np.abs(reference).max(), 1e-30))
        results[key] = {"relative_error": err, "samples": []}
        live[key] = worker
    calls = {}
    for key, worker in live.items():
        first = timed_sample(worker, network, batch, 1, args.max_idle_wait_ms / 1e3)
        calls[key] = max(1, math.ceil(args.min_sample_ms / max(first["ms"], 1e-3)))
    keys = list(live)
    for r in range(args.repeat):
        shift = r % len(keys)
        for key in keys[shift:] + keys[:shift]:
            try:
                sample = timed_sample(live[key], network, batch, calls[key],
                                      args.max_idle_wait_ms / 1e3)
            except RuntimeError as exc:
                results[key] = {"error": str(exc)}
                keys.remove(key)
                continue
            results[key]["samples"].append(sample)
    for key in keys:
        samples = results[key]["samples"]
        results[key]["ms"] = statistics.median(s["ms"] for s in samples)
        results[key]["calls_per_sample"] = calls[key]
        loads = [s["others"] for s in samples if s["others"] is not None]
        results[key]["others"] = statistics.mean(loads) if loads else None
        results[key]["quiet_share"] = sum(s["quiet"] for s in samples) / len(samples)
    return results


# --- the run -----------------------------------------------------------------------------------

def available(impls) -> tuple[list[Impl], list[str]]:
    kept, notes = [], []
    for impl in impls:
        module = REQUIRES.get(impl.key)
        if module and importlib.util.find_spec(module) is None:
            notes.append(f"{impl.label}: skipped, {module} is not installed")
        else:
            kept.append(impl)
    return kept, notes


def prepare_weights(directory: str, impls) -> tuple[str | None, list[str]]:
    """The weight files every worker loads, made by a PyTorch process; (dir or None, notes)."""
    if importlib.util.find_spec("torch") is None:
        return None, ["PyTorch is not installed: cconv runs its seeded random initialisation, "
                      "ONNX Runtime has no model and is skipped"]
    subprocess.run([sys.executable, str(WORKER), "--prepare", directory], check=True)
    return directory, []


def versions() -> dict:
    found = {"python": platform.python_version(), "numpy": np.__version__,
             "cconv": cconv.__version__}
    for dist in ("torch", "onnxruntime", "onnx", "threadpoolctl"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def fmt_ms(entry) -> str:
    if entry is None or "ms" not in entry:
        return "-"
    mark = "!" if entry.get("relative_error", 0) > 1e-4 else ""
    return f"{entry['ms']:.1f}{mark}"


def ratio(num, den) -> str:
    if not num or not den or "ms" not in num or "ms" not in den:
        return "-"
    return f"{num['ms'] / den['ms']:.2f}x"


def print_tables(results, impls, args) -> None:
    labels = [i.label for i in impls]
    print("\n| network | batch | threads | " + " | ".join(labels)
          + " | ORT / cconv | PyTorch / cconv | others |")
    print("|---" * (len(labels) + 6) + "|")
    for (network, batch, threads), row in results.items():
        others = [e["others"] for e in row.values() if e.get("others") is not None]
        load = f"{100 * statistics.mean(others):.0f}%" if others else "?"
        cells = [fmt_ms(row.get(i.key)) for i in impls]
        print(f"| {NETWORK_NAMES[network]} | {batch} | {threads} | " + " | ".join(
            f"{c} ms" if c != "-" else c for c in cells)
            + f" | {ratio(row.get('ort'), row.get('cconv'))}"
            + f" | {ratio(row.get('torch'), row.get('cconv'))} | {load} |")
    if len(args.threads) > 1:
        lo, hi = min(args.threads), max(args.threads)
        print(f"\n{hi}-thread time / {lo}-thread time (below 1: more threads helped):\n")
        print("| network | batch | " + " | ".join(labels) + " |")
        print("|---" * (len(labels) + 2) + "|")
        for network in args.networks:
            for batch in args.batches:
                a, b = results.get((network, batch, lo), {}), results.get((network, batch, hi), {})
                print(f"| {NETWORK_NAMES[network]} | {batch} | " + " | ".join(
                    ratio(b.get(i.key), a.get(i.key)) for i in impls) + " |")


def main(argv=None) -> None:
    args = parse_args(argv)
    impls, notes = available([i for i in IMPLS if i.key in args.impls])
    notes += openblas_notes()
    print(f"machine: {cpu_model()}, {usable_cores()} usable cores, {platform.platform()}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    print(f"cconv: {cconv.get_config()}")
    env = {name: os.environ[name] for name in RELEVANT_ENV if name in os.environ}
    print(f"environment: {env or 'none of ' + ', '.join(RELEVANT_ENV)}")
    load_start = os.getloadavg()
    print(f"date {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; load average at start "
          f"{load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        weights_dir, more = prepare_weights(tmp, impls)
        notes += more
        if weights_dir is None:
            impls = [i for i in impls if i.library == "cconv"]
        for threads in args.threads:
            workers = {i.key: Worker(i, threads) for i in impls}
            try:
                for network in args.networks:
                    for batch in args.batches:
                        row = measure_config(workers, network, batch, args, weights_dir)
                        results[(network, batch, threads)] = row
                        print(f"{NETWORK_NAMES[network]} batch {batch} threads {threads}: "
                              + ", ".join(f"{k} {fmt_ms(v)}" for k, v in row.items()),
                              flush=True)
                        for key, entry in row.items():
                            if "error" in entry:
                                notes.append(f"{key} {network} batch {batch} threads {threads}: "
                                             f"{entry['error']}")
                            elif entry["relative_error"] > 1e-4:
                                notes.append(f"{key} {network} batch {batch}: logits differ "
                                             f"from cconv's by {entry['relative_error']:.2g} "
                                             "of their scale (marked !)")
            finally:
                for worker in workers.values():
                    worker.close()

    print_tables(results, impls, args)
    load_end = os.getloadavg()
    others = [e["others"] for row in results.values() for e in row.values()
              if e.get("others") is not None]
    print(f"\nload average at end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}; "
          "other processes used "
          + (f"{100 * statistics.mean(others):.0f}% of the cores during the samples on average"
             if others else "an unknown share of the cores"))
    quiet = [e["quiet_share"] for row in results.values() for e in row.values()
             if "quiet_share" in e]
    if quiet:
        print(f"{100 * statistics.mean(quiet):.0f}% of the samples started on a quiet machine")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "versions": versions(), "cpu": cpu_model(),
                       "cores": usable_cores(), "env": env, "load_start": load_start,
                       "load_end": load_end, "notes": notes,
                       "results": [{"network": n, "batch": b, "threads": t, "impls": row}
                                   for (n, b, t), row in results.items()]}, f, indent=1)


if __name__ == "__main__":
    main()
