"""cconv.dask.conv2d on Dask's threaded scheduler against cconv.conv2d on the same in-memory array
and against dask_image.ndfilters.correlate on the same Dask array and kernel.

    python benchmarks/bench_dask.py [--size 8192] [--chunk 1024] [--kernels 7 31]
                                    [--workers 1 2] [--repeat 3] [--json PATH]

One single-channel float32 image (size x size, in memory), a box-like random kernel, "same"
zero padding (dask_image's mode="constant", cval=0 is the same border).  For each kernel and each
worker count W it times, median of --repeat runs (one run only where a run takes over 20 s):
- `cconv.conv2d(image, threads=W)`, the whole array in one call;
- `cconv.dask.conv2d(...).compute(scheduler="threads", num_workers=W)` on the image in
  chunk x chunk chunks (one cconv thread per task, the default);
- `dask_image.ndfilters.correlate(...)` on the same chunks and scheduler (SciPy's filter per
  chunk through dask.array.map_overlap), when dask_image is installed.
Issue 13's targets: cconv.dask at least 0.8x cconv.conv2d's speed, at least 3x dask_image's, with
2 workers.  Results are checked: cconv.dask bit for bit against cconv.conv2d, dask_image within
float32 rounding.  Needs `pip install "cconv[dask-test]"` (dask_image is optional).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

import cconv

from machine_info import OtherLoad, cpu_model, usable_cores

SLOW_RUN_S = 20.0


def timed(call, repeat: int) -> tuple[float, object]:
    """(median seconds, last result) of `repeat` calls, after one untimed warm-up call unless
    a call takes over SLOW_RUN_S (then that one call is the figure)."""
    start = time.perf_counter()
    result = call()
    first = time.perf_counter() - start
    if first > SLOW_RUN_S:
        return first, result
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--chunk", type=int, default=1024)
    parser.add_argument("--kernels", type=int, nargs="+", default=[7, 31])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dask-image", action="store_true", help="skip dask_image")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    import dask
    import dask.array as da

    import cconv.dask

    try:
        if args.no_dask_image:
            raise ImportError("--no-dask-image")
        from dask_image import ndfilters
    except ImportError as exc:
        ndfilters = None
        print(f"(dask_image not used: {exc})")

    rng = np.random.default_rng(0)
    image = rng.random((1, 1, args.size, args.size), dtype=np.float32)
    lazy = da.from_array(image, chunks=(1, 1, args.chunk, args.chunk))
    config = cconv.get_config()
    print(f"{cpu_model()}, {usable_cores()} cores; cconv {cconv.__version__} "
          f"simd={config['simd']}; dask {dask.__version__}; image {args.size} x {args.size} "
          f"float32 in {args.chunk} x {args.chunk} chunks, padding 'same' (zeros)")
    header = (f"{'kernel':>7} {'workers':>7} {'cconv s':>9} {'c.dask s':>9} {'d_image s':>9} "
              f"{'dask/cconv':>10} {'d_image/dask':>12} {'others':>7}")
    print("\n" + header)
    rows = []
    for k in args.kernels:
        kernel = (rng.random((k, k), dtype=np.float32) / (k * k)).astype(np.float32)
        weight = kernel[None, None]
        for workers in args.workers:
            load = OtherLoad().start()
            whole_s, whole = timed(
                lambda: cconv.conv2d(image, weight, padding="same", threads=workers),
                args.repeat)
            with dask.config.set(scheduler="threads", num_workers=workers):
                dask_s, chunked = timed(
                    lambda: cconv.dask.conv2d(lazy, weight, padding="same").compute(),
                    args.repeat)
                assert np.array_equal(chunked, whole), "cconv.dask differs from cconv.conv2d"
                image_s = None
                if ndfilters is not None:
                    image_s, peer = timed(
                        lambda: ndfilters.correlate(lazy[0, 0], kernel, mode="constant",
                                                    cval=0.0).compute(), args.repeat)
                    scale = float(np.abs(whole).max())
                    assert np.allclose(peer, whole[0, 0], rtol=1e-4, atol=1e-5 * scale), \
                        "dask_image differs from cconv beyond float32 rounding"
            others = load.share()
            row = dict(kernel=k, workers=workers, cconv_s=whole_s, cconv_dask_s=dask_s,
                       dask_image_s=image_s, others=others)
            rows.append(row)
            print(f"{k:>7} {workers:>7} {whole_s:>9.3f} {dask_s:>9.3f} "
                  + (f"{image_s:>9.2f}" if image_s is not None else f"{'-':>9}")
                  + f" {whole_s / dask_s:>9.2f}x"
                  + (f" {image_s / dask_s:>11.1f}x" if image_s is not None else f"{'-':>12}")
                  + (f" {others:>6.0%}" if others is not None else f"{'?':>7}"))
    print("\ndask/cconv: cconv.conv2d's time over cconv.dask's (target >= 0.8x); d_image/dask: "
          "dask_image's time over cconv.dask's (target >= 3x); others: share of the cores other "
          "processes used meanwhile (above 10%, the figures are inflated)")
    for k in args.kernels:
        by_workers = {r["workers"]: r for r in rows if r["kernel"] == k}
        if 1 in by_workers and 2 in by_workers:
            one, two = by_workers[1], by_workers[2]
            line = (f"{k}x{k}, 1 -> 2 workers: cconv.dask "
                    f"{one['cconv_dask_s'] / two['cconv_dask_s']:.2f}x, "
                    f"cconv.conv2d {one['cconv_s'] / two['cconv_s']:.2f}x")
            if one["dask_image_s"] and two["dask_image_s"]:
                line += f", dask_image {one['dask_image_s'] / two['dask_image_s']:.2f}x"
            print(line)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(dict(size=args.size, chunk=args.chunk, cpu=cpu_model(),
                           cores=usable_cores(), rows=rows), out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
