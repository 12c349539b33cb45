"""Winograd F(2x2, 3x3) and F(4x4, 3x3) against cconv's own direct path on ResNet's 3x3 layers.

    python benchmarks/bench_winograd.py [--threads T] [--repeat R] [--dtypes float32 float64]
                                        [--layers SUBSTRING ...] [--budget S]

For each layer and dtype, times direct, F2 and F4 interleaved round-robin (median of R samples,
interleaved_timing.py), and prints the times, the direct path's GFLOP/s (2 C O 9 OH OW per
image, the arithmetic direct does), each tile's speed-up over direct, the tile
cconv._winograd.winograd_suits picks, and each tile's error against the direct result
(max |difference| / max |direct|).  The last two columns are the speed-ups of the fastest
samples: on a shared machine, where other processes stretch some samples, they show what each
path does when it gets its core.  Needs only NumPy and cconv.
"""

from __future__ import annotations

import argparse

import numpy as np

from cconv._args import resolve
from cconv._conv import _conv2d
from cconv._simd import ACTIVE, ACTIVE_NAME
from cconv._winograd import conv2d_winograd, winograd_suits

from conv_layers import make_arrays, select
from interleaved_timing import interleaved_medians
from machine_info import cpu_model, usable_cores

DEFAULT_LAYERS = ["resnet l1", "resnet l2", "resnet l3", "resnet l4"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--budget", type=float, default=6.0,
                        help="rough seconds per layer and dtype (fewer samples past it)")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--layers", nargs="+", metavar="SUBSTRING", default=DEFAULT_LAYERS)
    args = parser.parse_args(argv)
    layers = [layer for layer in select(args.layers) if "s2" not in layer.name]
    print(f"# {cpu_model()}, {usable_cores()} usable cores, SIMD path {ACTIVE_NAME}, "
          f"{args.threads} thread(s), median of {args.repeat} interleaved samples")
    print(f"{'layer':14} {'dtype':8} {'direct ms':>9} {'GFLOP/s':>8} {'F2 ms':>7} {'F2 x':>6} "
          f"{'F4 ms':>7} {'F4 x':>6} {'suits':>5} {'F2 err':>8} {'F4 err':>8} {'F2 xmin':>7} "
          f"{'F4 xmin':>7}")
    for layer in layers:
        for dtype_name in args.dtypes:
            dtype = np.dtype(dtype_name)
            x, w, b = make_arrays(layer, dtype, with_bias=True)
            geom = resolve(x.shape, w.shape, 1, layer.pad, 1, 1)
            pad, threads = layer.pad, args.threads
            fns = {
                "direct": lambda: _conv2d(x, w, b, 1, pad, 1, 1, None, threads, ACTIVE, False),
                "F2": lambda: conv2d_winograd(x, w, b, padding=pad, tile=2, threads=threads),
                "F4": lambda: conv2d_winograd(x, w, b, padding=pad, tile=4, threads=threads),
            }
            medians, details = interleaved_medians(fns, args.repeat, 0.05, args.budget)
            best = {k: min(v["samples"]) for k, v in details.items()}
            direct = fns["direct"]()
            scale = float(np.abs(direct).max()) or 1.0
            errs = {k: float(np.abs(fns[k]() - direct).max()) / scale for k in ("F2", "F4")}
            flops = 2.0 * geom.batch * geom.in_channels * geom.out_channels * 9 * (
                geom.out_height * geom.out_width)
            td = medians["direct"]
            print(f"{layer.name:14} {dtype_name:8} {td * 1e3:9.3f} {flops / td / 1e9:8.1f} "
                  f"{medians['F2'] * 1e3:7.3f} {td / medians['F2']:6.2f} "
                  f"{medians['F4'] * 1e3:7.3f} {td / medians['F4']:6.2f} "
                  f"{winograd_suits(geom, dtype):5d} {errs['F2']:8.1e} {errs['F4']:8.1e} "
                  f"{best['direct'] / best['F2']:7.2f} {best['direct'] / best['F4']:7.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
