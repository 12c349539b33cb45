"""Per-call overhead of cconv.conv2d on a tiny layer, for each way of spelling the same call.

    python benchmarks/bench_call_overhead.py [--samples S] [--calls C]

The tiny call is input (1, 3, 8, 8) float32, weight (4, 3, 3, 3) float32, bias (4,) float32,
padding 1: its arithmetic takes well under a microsecond, so what is timed is the Python layer
(argument checks, the cache of resolved arguments) and the call into C. The forms:

    padding=1 (ints)      conv2d(x, w, b, padding=1), the reference
    padding=(1, 1)        the same padding as a pair
    stride=(1, 1)         conv2d(x, w, b, stride=(1, 1), padding=1)
    np.int64 parameters   stride, padding, dilation and groups all np.int64(1)
    list bias (f64 x, w)  the bias as a Python list; a list of floats is float64, so the call
                          computes in float64, and the row uses float64 input and weight (with
                          float32 ones every call would have to convert both to float64)
    torch tensors         input and weight as torch.from_numpy tensors (needs PyTorch)
    out= (reused array)   the result written into the same preallocated array every call

The NumPy ints, the list and the tensors are made once, before timing, as a program holds them.
Every form computes the same result (float64 for the list row). The table gives each form's
median time per call over S interleaved samples of C back-to-back calls each (the order rotates
from sample to sample, the garbage collector is off during a sample), and its ratio to the
plain-int form. Needs only NumPy and cconv; the torch row is skipped with a note when PyTorch is
not installed. Timings drift between runs on a shared machine; the ratios, measured
interleaved, drift much less.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np

import cconv


def forms():
    """(label, zero-argument call) for every form; all compute the same tiny layer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    out = np.empty((1, 4, 8, 8), np.float32)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    one = np.int64(1)  # NumPy ints as a user holds them, e.g. read from an array
    b_list = b.astype(np.float64).tolist()
    conv2d = cconv.conv2d
    table = [
        ("padding=1 (ints)", lambda: conv2d(x, w, b, padding=1)),
        ("padding=(1, 1)", lambda: conv2d(x, w, b, padding=(1, 1))),
        ("stride=(1, 1)", lambda: conv2d(x, w, b, stride=(1, 1), padding=1)),
        ("np.int64 parameters", lambda: conv2d(x, w, b, stride=one, padding=one,
                                                dilation=one, groups=one)),
        # A Python list of floats is float64, so the call computes in float64: with float32
        # input and weight it would convert both on every call, which no cache can skip.  The
        # row therefore gives the list to float64 input and weight (same tiny arithmetic).
        ("list bias (f64 x, w)", lambda: conv2d(x64, w64, b_list, padding=1)),
    ]
    notes = []
    try:
        import torch
    except ImportError as exc:
        notes.append(f"torch tensors: skipped, PyTorch is not installed ({exc})")
    else:
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        table.append(("torch tensors", lambda: conv2d(tx, tw, b, padding=1)))
    table.append(("out= (reused array)", lambda: conv2d(x, w, b, padding=1, out=out)))
    expected = table[0][1]()
    for label, fn in table:
        got = np.asarray(fn())
        if not np.allclose(got, expected, rtol=1e-5, atol=1e-5):
            raise AssertionError(f"{label}: result differs from the plain-int form")
    return table, notes


def sample(fn, calls: int) -> float:
    """Microseconds per call over `calls` back-to-back calls, garbage collector off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls * 1e6
    finally:
        if enabled:
            gc.enable()


def measure(table, samples: int, calls: int) -> dict[str, float]:
    for _, fn in table:  # warm-up: caches, thread pool, allocator
        sample(fn, max(calls // 4, 10))
    times: dict[str, list[float]] = {label: [] for label, _ in table}
    for s in range(samples):
        for k in range(len(table)):
            label, fn = table[(s + k) % len(table)]
            times[label].append(sample(fn, calls))
    return {label: statistics.median(v) for label, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=15,
                        help="interleaved samples per form; the median is reported (default 15)")
    parser.add_argument("--calls", type=int, default=2000,
                        help="back-to-back calls per sample (default 2000)")
    args = parser.parse_args(argv)
    table, notes = forms()
    medians = measure(table, args.samples, args.calls)
    base = medians[table[0][0]]
    config = cconv.get_config()
    print(f"cconv {cconv.__version__}, numpy {np.__version__}, simd={config['simd']}, "
          f"max_threads={config['max_threads']}; tiny call (1,3,8,8) -> 4 filters 3x3, float32; "
          f"median of {args.samples} interleaved samples of {args.calls} calls")
    print(f"{'call form':<24} {'us/call':>8} {'vs ints':>8}")
    for label, _ in table:
        print(f"{label:<24} {medians[label]:>8.2f} {medians[label] / base:>7.2f}x")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
