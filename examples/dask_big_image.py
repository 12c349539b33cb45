"""A 20000 x 20000 float32 image (1.6 GB) blurred with cconv.dask in 1024 x 1024 chunks, on Dask's
threaded scheduler, never holding the image in memory: each chunk is made, convolved with its halo
and reduced (or written to a Zarr store) and then dropped.

    python examples/dask_big_image.py                  # 20000 x 20000, threads, 2 workers
    python examples/dask_big_image.py --size 4096      # a quick run
    python examples/dask_big_image.py --zarr out.zarr  # the result into a Zarr store

It prints the time and the process's peak resident memory (VmHWM, Linux), which stays well under
1 GB: a band of chunks plus the tasks in flight, not the image (measured: about 620 MB for
20000 x 20000 with 2 workers; Zarr needs pip install zarr).  A real image would come from
`dask.array.from_zarr` (or `from_array` on any lazily read format) instead of the random one here.
Needs: pip install "cconv[dask]".
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def peak_rss_mb() -> float | None:
    """The process's peak resident memory in MB (Linux), or None elsewhere."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status
                        if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000, help="image height and width")
    parser.add_argument("--chunk", type=int, default=1024, help="chunk height and width")
    parser.add_argument("--kernel", type=int, default=7, help="box blur kernel size")
    parser.add_argument("--workers", type=int, default=2, help="threads of the scheduler")
    parser.add_argument("--zarr", help="write the blurred image to this Zarr store")
    args = parser.parse_args()

    import dask
    import dask.array as da

    import cconv.dask

    # (1, 1, H, W): one image, one channel.  Made chunk by chunk when a task needs it.
    image = da.random.default_rng(0).random((1, 1, args.size, args.size), dtype=np.float32,
                                            chunks=(1, 1, args.chunk, args.chunk))
    kernel = np.full((1, 1, args.kernel, args.kernel), 1 / args.kernel**2, np.float32)
    # "same" keeps the input's chunks; "reflect" mirrors at the image's borders only (a chunk's
    # edge inside the image reads its neighbour's pixels through the halo).
    blurred = cconv.dask.conv2d(image, kernel, padding="same", padding_mode="reflect")
    print(f"image {image.shape[2]} x {image.shape[3]} float32 ({image.nbytes / 1e9:.2f} GB), "
          f"{image.npartitions} chunks of {args.chunk} x {args.chunk}, kernel "
          f"{args.kernel} x {args.kernel}, {args.workers} worker threads")
    start = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        if args.zarr:
            blurred[0, 0].to_zarr(args.zarr, overwrite=True)
            what = f"written to {args.zarr}"
        else:
            what = f"mean {float(blurred.mean().compute()):.6f}"
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    print(f"{what} in {seconds:.1f} s; peak resident memory "
          + (f"{peak:.0f} MB" if peak is not None else "unknown on this system"))


if __name__ == "__main__":
    main()
