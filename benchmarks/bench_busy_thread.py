"""How much a Python thread running pure Python beside a call slows cconv.conv2d down.

    python benchmarks/bench_busy_thread.py [--threads 1 2] [--samples 7]

For each layer and thread count: the median time of a call alone, and beside a second Python
thread that spins in a pure-Python loop (holding the GIL whenever it can), interleaved sample by
sample. The ratio is what the busy thread costs. A call releases the GIL while it computes and
takes it back at the end, which beside such a thread waits once for its switch interval
(sys.getswitchinterval(), 5 ms by default); a call shorter than a few tens of microseconds keeps
the GIL. With threads equal to the number of cores, the spinning thread also takes a core's
share of CPU time from the call, which no library can avoid.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

import numpy as np

import cconv

# (name, input shape, weight shape, conv2d keyword arguments)
LAYERS = [
    ("tiny call 1,3,8,8->4 3x3 p1", (1, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}),
    ("mobilenet dw 1,32,112,112 3x3 g32", (1, 32, 112, 112), (32, 1, 3, 3),
     {"padding": 1, "groups": 32}),
    ("resnet l2 1,128,28,28->128 3x3", (1, 128, 28, 28), (128, 128, 3, 3), {"padding": 1}),
    ("gray 1,1,4000,3000 5x5", (1, 1, 4000, 3000), (1, 1, 5, 5), {}),
    ("cifar c32 64,32,32,32->64 3x3", (64, 32, 32, 32), (64, 32, 3, 3), {"padding": 1}),
]


def seconds_per_call(call, min_seconds=0.02, max_calls=2000):
    """Median time of one call over a sample lasting at least min_seconds."""
    times = []
    start = time.perf_counter()
    while len(times) < max_calls and (time.perf_counter() - start < min_seconds
                                      or len(times) < 3):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class Spinner:
    """A Python thread in a pure-Python loop while the context is open."""

    def __enter__(self):
        self._stop = False
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        time.sleep(0.01)
        return self

    def _spin(self):
        count = 0
        while not self._stop:
            count += 1

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--samples", type=int, default=7,
                        help="interleaved samples per layer (alone and busy alternate)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"cconv {cconv.__version__}, {cconv.get_config()['simd']}, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} cores, switch interval "
          f"{sys.getswitchinterval() * 1e3:g} ms, {args.samples} samples per cell")
    print(f"{'layer':38s} {'threads':>7s} {'alone ms':>10s} {'busy ms':>10s} {'busy/alone':>10s}")
    for name, xs, ws, kwargs in LAYERS:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        out = np.empty(cconv.conv2d_output_shape(xs, ws, **kwargs), np.float32)
        for threads in args.threads:
            def call():
                cconv.conv2d(x, w, out=out, threads=threads, **kwargs)
            call()
            alone, busy = [], []
            for _ in range(args.samples):
                alone.append(seconds_per_call(call))
                with Spinner():
                    busy.append(seconds_per_call(call))
            a, b = statistics.median(alone), statistics.median(busy)
            print(f"{name:38s} {threads:7d} {a * 1e3:10.4g} {b * 1e3:10.4g} {b / a:10.2f}")


if __name__ == "__main__":
    main()
