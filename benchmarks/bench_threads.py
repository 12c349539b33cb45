"""How cconv.conv2d scales with threads, and whether its results stay bitwise identical.

    python benchmarks/bench_threads.py [--max-threads N] [--layers SUBSTRING ...] [--repeat R]

Times layers of issue 3's table above 50 MFLOP at 1, 2, ..., N threads (interleaved round-robin,
median), prints each speedup over 1 thread, and compares the bytes of every result with the
1-thread result (issue 3: results are bitwise identical whatever the thread count; 2 threads
reach >= 1.8x on these layers). Needs only NumPy and cconv.
"""

from __future__ import annotations

import argparse
import sys

import cconv

from conv_layers import make_arrays, select
from interleaved_timing import interleaved_medians
from machine_info import cpu_model, usable_cores

DEFAULT_LAYERS = ["resnet l1", "resnet l3", "bottleneck 1x1", "dilated"]
MIN_MFLOP = 50


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-threads", type=int, default=usable_cores(),
                        help="highest thread count (default: the usable cores)")
    parser.add_argument("--layers", nargs="+", metavar="SUBSTRING", default=DEFAULT_LAYERS,
                        help=f"layers to run (default: {', '.join(DEFAULT_LAYERS)}); "
                             f"those under {MIN_MFLOP} MFLOP are left out")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args(argv)
    if args.max_threads < 1:
        parser.error("--max-threads must be >= 1")
    layers = [layer for layer in select(args.layers) if layer.flops > MIN_MFLOP * 1e6]
    if not layers:
        sys.exit(f"no layer over {MIN_MFLOP} MFLOP matches {args.layers}")
    counts = list(range(1, args.max_threads + 1))
    config = cconv.get_config()
    print(f"{cpu_model()}, {usable_cores()} cores; cconv {cconv.__version__} "
          f"simd={config['simd']} max_threads={config['max_threads']} dtype={args.dtype}")
    print(f"\n{'layer':<16} {'MFLOP':>7} " + " ".join(f"{f'{t} thr ms':>10}" for t in counts)
          + " " + " ".join(f"{f'x{t}':>6}" for t in counts[1:]) + "  bitwise identical")
    all_identical = True
    for layer in layers:
        dtype = layer.resolved_dtype(args.dtype)
        x, w, b = make_arrays(layer, dtype, with_bias=True)
        geometry = (layer.stride, layer.pad, layer.dilation, layer.groups)

        def call(threads):
            return cconv.conv2d(x, w, b, *geometry, threads=threads)

        # Two calls per thread count, so a run-to-run difference shows too.
        reference = call(1).tobytes()
        identical = all(call(t).tobytes() == reference for t in counts for _ in range(2))
        all_identical &= identical
        medians, _ = interleaved_medians({t: (lambda t=t: call(t)) for t in counts},
                                         repeat=args.repeat, min_sample_s=0.005,
                                         budget_s=15.0)
        ms = " ".join(f"{medians[t] * 1e3:>10.3f}" for t in counts)
        speedups = " ".join(f"{medians[1] / medians[t]:>5.2f}x" for t in counts[1:])
        print(f"{layer.name:<16} {layer.flops / 1e6:>7.1f} {ms} {speedups}  "
              f"{'yes' if identical else 'NO'}", flush=True)
    if not all_identical:
        print("\nRESULTS DIFFER between thread counts (issue 3 requires bitwise identical)")
        sys.exit(1)


if __name__ == "__main__":
    main()
