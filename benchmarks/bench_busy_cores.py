"""cconv's threads beside other busy processes: is a call with N threads ever slower than with 1?

    python benchmarks/bench_busy_cores.py [--busy K] [--layers SUBSTRING ...] [--repeat R]

Starts K processes that spin on pure Python (default: every usable core but one), then times each
layer of the table (benchmarks/conv_layers.py) at 1 thread and at every thread count up to the
usable cores, interleaved round-robin, median; and the same without the spinners.  cconv's
threads take work items as they free up, so a thread that shares its core with a spinner takes
fewer items instead of holding the whole call back; the target is N threads never slower than
1 (ratio t1 / tN >= 1 on every row).  Needs only NumPy and cconv.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import cconv

from conv_layers import make_arrays, select
from interleaved_timing import interleaved_medians
from machine_info import usable_cores

DEFAULT_LAYERS = ["resnet l1", "resnet l3", "resnet l4", "bottleneck 1x1", "mobilenet dw",
                  "cifar c3", "image 1ch"]


def time_layer(layer, thread_counts, repeat):
    x, w, b = make_arrays(layer, layer.resolved_dtype("float32"), with_bias=True)
    geometry = (layer.stride, layer.pad, layer.dilation, layer.groups)
    fns = {t: (lambda t=t: cconv.conv2d(x, w, b, *geometry, threads=t)) for t in thread_counts}
    # The spinners keep the machine busy on purpose: no idle wait before the samples.
    medians, _ = interleaved_medians(fns, repeat=repeat, min_sample_s=0.02, budget_s=6.0,
                                     max_idle_wait_s=0.0)
    return medians


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, default=max(usable_cores() - 1, 1),
                        help="spinning processes (default: the usable cores but one)")
    parser.add_argument("--layers", nargs="+", metavar="SUBSTRING", default=DEFAULT_LAYERS)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    layers = select(args.layers)
    threads = list(range(1, usable_cores() + 1))
    print(f"{usable_cores()} usable cores; cconv {cconv.__version__}, path "
          f"{cconv.get_config()['simd']}; t1/tN = time at 1 thread / time at N threads")
    for busy in (0, args.busy):
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(busy)]
        try:
            time.sleep(0.3)
            print(f"\n{busy} spinning process(es)")
            print(f"{'layer':<20} {'1 thread ms':>12} " + " ".join(f"{'t1/t' + str(t):>8}"
                                                              for t in threads[1:]))
            worst = None
            for layer in layers:
                med = time_layer(layer, threads, args.repeat)
                ratios = [med[1] / med[t] for t in threads[1:]]
                if ratios:
                    worst = min(ratios + ([worst] if worst is not None else []))
                print(f"{layer.name:<20} {med[1] * 1e3:>12.3f} "
                      + " ".join(f"{r:>7.2f}x" for r in ratios), flush=True)
            if worst is not None:
                print(f"slowest N-thread row: {worst:.2f}x the 1-thread speed "
                      f"[{'met' if worst >= 1.0 else 'MISS'}: target >= 1.0x]")
        finally:
            for p in spinners:
                p.kill()
            for p in spinners:
                p.wait()


if __name__ == "__main__":
    main()
