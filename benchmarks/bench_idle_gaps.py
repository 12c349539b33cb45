"""Calls made with pauses between them: do N threads still beat 1?

    python benchmarks/bench_idle_gaps.py [--gaps MS ...] [--threads N] [--layers SUBSTRING ...]
                                         [--calls C] [--rounds R]

A program that runs a layer now and then (a frame every 50 ms, a request at a time) leaves the
machine idle between calls.  After such a pause Linux tends to wake cconv's sleeping helper on
the caller's CPU, most of all in virtual machines, whose idle vCPUs it counts as unavailable; the
two threads then share one CPU.  For each pause, this times C calls in a row after the pause, at 1
and at N threads (default: the usable cores), R rounds interleaved, and prints the median time
per call and the speed-up t1 / tN (the issue's target is 1.85x at 2 threads, and never below 1).
Needs only NumPy and cconv.
"""

from __future__ import annotations

import argparse
import statistics
import time

import cconv

from conv_layers import make_arrays, select
from machine_info import usable_cores

DEFAULT_LAYERS = ["resnet l1", "resnet l3", "resnet l4", "bottleneck 1x1", "convnext dw7"]


def after_pause(fn, pause_s, calls):
    """Seconds per call of `calls` calls in a row after sleeping pause_s."""
    time.sleep(pause_s)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gaps", type=float, nargs="+", default=[0.0, 5.0, 50.0],
                        metavar="MS", help="pauses before each group of calls (default 0 5 50)")
    parser.add_argument("--threads", type=int, default=usable_cores())
    parser.add_argument("--layers", nargs="+", default=DEFAULT_LAYERS, metavar="SUBSTRING")
    parser.add_argument("--calls", type=int, default=3, help="calls after each pause (3)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per cell (15)")
    args = parser.parse_args(argv)
    print(f"cconv {cconv.__version__}, simd={cconv.get_config()['simd']}, "
          f"{usable_cores()} usable cores; {args.calls} calls after each pause, median of "
          f"{args.rounds} rounds, 1 and {args.threads} threads interleaved")
    print(f"{'layer':<16} {'pause ms':>8} {'1 thread ms':>12} {f'{args.threads} threads ms':>13} "
          f"{'speed-up':>9}")
    for layer in select(args.layers):
        x, w, b = make_arrays(layer, layer.resolved_dtype("float32"), with_bias=True)
        geometry = (layer.stride, layer.pad, layer.dilation, layer.groups)
        fns = {t: (lambda t=t: cconv.conv2d(x, w, b, *geometry, threads=t))
               for t in (1, args.threads)}
        for fn in fns.values():
            fn()
        for gap in args.gaps:
            samples = {t: [] for t in fns}
            for _ in range(args.rounds):
                for t, fn in fns.items():
                    samples[t].append(after_pause(fn, gap / 1e3, args.calls))
            one = statistics.median(samples[1]) * 1e3
            many = statistics.median(samples[args.threads]) * 1e3
            print(f"{layer.name:<16} {gap:>8g} {one:>12.3f} {many:>13.3f} {one / many:>8.2f}x",
                  flush=True)


if __name__ == "__main__":
    main()
