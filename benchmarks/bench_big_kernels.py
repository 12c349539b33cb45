"""Big kernels on pictures: cconv's method="auto", "fft" and "direct" against cv2.filter2D and
scipy.signal.fftconvolve / oaconvolve.

    python benchmarks/bench_big_kernels.py [--threads 1 2] [--sizes 1024x1024 ...]
        [--kernels 15 31 63 127] [--images gray rgb] [--data-format NCHW|NHWC] [--repeat R]
        [--direct-budget-s S] [--json PATH]

Rows: a gray (one-channel) picture and an RGB one, filtered depthwise (each channel by the same
kernel: groups=3, the (3, 1, k, k) weight that cv2.filter2D applies to each channel), of
1024 x 1024, 1920 x 1080 and 4000 x 3000 pixels, with k x k kernels, 'same' size, zero border,
float32.  The RGB picture is given to cconv as (1, 3, H, W) float32 with --data-format NCHW (the
default), or as it comes from an image library, (H, W, 3) uint8, with --data-format NHWC (then
cv2 gets the same uint8 picture and writes float32; scipy gets the float32 copy).

Every implementation runs each row at the same thread count, in this process, interleaved
round-robin after a warm-up, median of the repetitions (benchmarks/interleaved_timing.py).
cv2 runs at cv2.setNumThreads(threads).  scipy.signal.fftconvolve and oaconvolve have no threads
argument (their FFTs run on one thread; scipy.fft's workers= is not reachable through them).  The
direct path is slow on big kernels: when the cost model estimates a call at more than
--direct-budget-s it is timed from one call after the others ("1 call" in the notes), and beyond
ten times that it is not run ("-" and the estimate in the notes).

Each peer's result is checked against cconv's once per row; a peer that differs is marked '!'
and left out of the ratios.  The 'peer/auto' column is the faster of cv2 and SciPy over
cconv auto (above 1: cconv is faster); 'direct/auto' is today's direct path over auto (at least
1 where auto never picks badly).  The 'others' column is the share of the machine other processes
used meanwhile: trust only rows where it is low.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import cconv
from cconv import _method
from cconv._args import resolve
from cconv._fft_backend import backend as fft_backend

from interleaved_timing import interleaved_medians
from machine_info import OtherLoad, cpu_model, usable_cores

SIZES = ["1024x1024", "1920x1080", "4000x3000"]
KERNELS = [15, 31, 63, 127]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts, each a table (default 1 2)")
    parser.add_argument("--sizes", nargs="+", default=SIZES, metavar="WxH")
    parser.add_argument("--kernels", type=int, nargs="+", default=KERNELS)
    parser.add_argument("--images", nargs="+", default=["gray", "rgb"], choices=["gray", "rgb"])
    parser.add_argument("--data-format", default="NCHW", choices=["NCHW", "NHWC"],
                        help="how cconv gets the RGB picture (default NCHW float32)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="interleaved repetitions per row (median; default 5)")
    parser.add_argument("--direct-budget-s", type=float, default=1.5,
                        help="direct calls estimated above this are timed once (default 1.5)")
    parser.add_argument("--row-budget-s", type=float, default=12.0,
                        help="rough time per row for all repetitions (default 12 s)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    return parser.parse_args(argv)


def _optional(name):
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        return None


def make_row(image, size, k, args, rng):
    width, height = (int(v) for v in size.split("x"))
    kernel = (rng.random((k, k)) / (k * k)).astype(np.float32)
    if image == "gray":
        pic = rng.random((height, width)).astype(np.float32)
        x = pic[None, None]
        weight = kernel[None, None]
        groups, fmt = 1, "NCHW"
    elif args.data_format == "NHWC":
        pic = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        x = pic[None]
        weight = np.repeat(kernel[None, None], 3, axis=0)
        groups, fmt = 3, "NHWC"
    else:
        pic = rng.random((height, width, 3)).astype(np.float32)
        x = np.ascontiguousarray(np.moveaxis(pic, -1, 0))[None]
        weight = np.repeat(kernel[None, None], 3, axis=0)
        groups, fmt = 3, "NCHW"
    return pic, kernel, x, weight, groups, fmt


def run_row(image, size, k, threads, args, cv2, signal, rng):
    pic, kernel, x, weight, groups, fmt = make_row(image, size, k, args, rng)
    name = f"{image} {size} {k}x{k}"
    notes = []

    def cconv_call(method):
        return lambda: cconv.conv2d(x, weight, padding="same", groups=groups, data_format=fmt,
                                    method=method, threads=threads)

    fns = {"fft": cconv_call("fft"), "auto": cconv_call("auto")}
    nchw_shape = x.shape if fmt == "NCHW" else (1, 3) + x.shape[1:3]
    geom = resolve(nchw_shape, weight.shape, padding="same", groups=groups)
    picked = _method.choose(geom, np.float32, threads, fft_backend())
    direct_est = _method.direct_seconds(geom, np.float32, threads)
    if cv2 is not None:
        cv2.setNumThreads(threads)
        depth = cv2.CV_32F
        fns["cv2"] = lambda: cv2.filter2D(pic, depth, kernel, borderType=cv2.BORDER_CONSTANT)
    if signal is not None:
        fpic = pic.astype(np.float32, copy=False)
        if image == "gray":
            fns["fftconvolve"] = lambda: signal.fftconvolve(fpic, kernel[::-1, ::-1], "same")
            fns["oaconvolve"] = lambda: signal.oaconvolve(fpic, kernel[::-1, ::-1], "same")
        else:
            k3 = kernel[::-1, ::-1][:, :, None]
            fns["fftconvolve"] = lambda: signal.fftconvolve(fpic, k3, "same", axes=(0, 1))
            fns["oaconvolve"] = lambda: signal.oaconvolve(fpic, k3, "same", axes=(0, 1))
    ref = fns["fft"]()
    ref_hwc = ref[0, 0] if image == "gray" else (ref[0] if fmt == "NHWC" else
                                                  np.moveaxis(ref[0], 0, -1))
    scale = float(np.abs(ref_hwc).max()) or 1.0
    for key in [k for k in fns if k not in ("auto", "fft")]:
        got = np.asarray(fns[key]())
        if got.shape != ref_hwc.shape or not np.allclose(got, ref_hwc, rtol=1e-3,
                                                           atol=1e-3 * scale):
            notes.append(f"{key}: result DIFFERS from cconv's; left out")
            fns[key + "!"] = fns.pop(key)
    timed_direct = direct_est <= args.direct_budget_s
    if timed_direct:
        fns["direct"] = cconv_call("direct")
    load = OtherLoad().start()
    medians, _ = interleaved_medians({k: v for k, v in fns.items() if not k.endswith("!")},
                                     repeat=args.repeat, min_sample_s=0.005,
                                     budget_s=args.row_budget_s, settle_s=None)
    ms = {k: v * 1e3 for k, v in medians.items()}
    if not timed_direct:
        if direct_est <= 10 * args.direct_budget_s:
            start = time.perf_counter()
            cconv_call("direct")()
            ms["direct"] = (time.perf_counter() - start) * 1e3
            notes.append("direct: 1 call")
        else:
            notes.append(f"direct: not run, model estimate {direct_est:.1f} s")
    others = load.share()
    peers = [ms[k] for k in ("cv2", "fftconvolve", "oaconvolve") if k in ms]
    auto = ms.get("auto")
    return {"name": name, "threads": threads, "picked": picked, "ms": ms,
            "peer_over_auto": min(peers) / auto if peers and auto else None,
            "direct_over_auto": ms["direct"] / auto if "direct" in ms and auto else None,
            "others": others, "notes": notes}


COLUMNS = ["auto", "fft", "direct", "cv2", "fftconvolve", "oaconvolve"]


def print_header(threads):
    print(f"\n--- {threads} thread(s) ---")
    print(f"{'row':<26} {'picks':>6} " + " ".join(f"{c:>11}" for c in COLUMNS)
          + f" {'peer/auto':>9} {'direct/auto':>11} {'others':>6}")


def print_row(row):
    cells = [f"{row['ms'][c]:>11.1f}" if c in row["ms"] else f"{'-':>11}" for c in COLUMNS]
    peer = f"{row['peer_over_auto']:.2f}x" if row["peer_over_auto"] else "-"
    direct = f"{row['direct_over_auto']:.2f}x" if row["direct_over_auto"] else "-"
    others = f"{row['others']:.0%}" if row["others"] is not None else "?"
    print(f"{row['name']:<26} {row['picked']:>6} " + " ".join(cells)
          + f" {peer:>9} {direct:>11} {others:>6}" + (
              "   " + "; ".join(row["notes"]) if row["notes"] else ""), flush=True)


def main(argv=None):
    args = parse_args(argv)
    cv2 = _optional("cv2")
    signal = _optional("scipy.signal")
    print(f"cconv big-kernel benchmark  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"{cpu_model()}, {usable_cores()} cores")
    print(f"numpy {np.__version__}, cconv {cconv.__version__} ({cconv.get_config()['simd']}), "
          f"FFT library {fft_backend().name}, "
          f"cv2 {getattr(cv2, '__version__', 'not installed')}, "
          f"scipy {getattr(_optional('scipy'), '__version__', 'not installed')}; "
          f"times in ms, median of {args.repeat}; RGB as {args.data_format}")
    if signal is not None:
        print("note: scipy.signal.fftconvolve/oaconvolve take no threads argument: one thread "
              "at every thread count")
    rng = np.random.default_rng(0)
    rows = []
    load = OtherLoad().start()
    for threads in args.threads:
        print_header(threads)
        for image in args.images:
            for size in args.sizes:
                for k in args.kernels:
                    row = run_row(image, size, k, threads, args, cv2, signal, rng)
                    rows.append(row)
                    print_row(row)
    share = load.share()
    print()
    for key, label in (("peer_over_auto", "auto at least as fast as the faster of cv2 and SciPy"),
                       ("direct_over_auto", "auto never slower than direct")):
        decided = [r for r in rows if r.get(key) is not None]
        misses = [f"{r['name']} @{r['threads']}t" for r in decided if r[key] < 1]
        print(f"{label}: {len(decided) - len(misses)} of {len(decided)} rows"
              + (f"; misses: {', '.join(misses)}" if misses else ""))
    if share is not None:
        print(f"other processes used {share:.0%} of the machine during the run"
              + (": timings inflated, rerun when it is quiet" if share > 0.10 else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": rows, "others": share}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
