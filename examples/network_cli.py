"""The command line that resnet18.py and mobilenet_v2.py share: load or make the weights, run
forward passes on a batch of random images, print the time per pass and the top class."""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np

import cconv


def parse_args(name: str, argv=None):
    parser = argparse.ArgumentParser(description=f"{name} forward passes in NumPy + cconv")
    parser.add_argument("--batch", type=int, default=1, help="images per forward pass (1)")
    parser.add_argument("--size", type=int, default=224, help="image height and width (224)")
    parser.add_argument("--threads", type=int, default=None,
                        help="cconv's threads (default: OMP_NUM_THREADS, else every core)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit NumPy's BLAS threads for the classifier's matmul, with "
                             "threadpoolctl (default: as NumPy has it)")
    parser.add_argument("--repeat", type=int, default=10, help="timed forward passes (10)")
    parser.add_argument("--weights", metavar="FILE",
                        help="a state_dict (.pt/.pth from torch.save, or .npz) or an ONNX file; "
                             "default: a seeded random initialisation")
    parser.add_argument("--seed", type=int, default=0, help="of the weights and the images")
    args = parser.parse_args(argv)
    for option in ("batch", "size", "repeat"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1")
    return args


def blas_threads(limit):
    """threadpoolctl's limit on NumPy's BLAS pool, or nothing when `limit` is None."""
    if limit is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=limit, user_api="blas")


def run_example(name, build_params, forward, argv=None):
    """Time `forward` as the command line asks; returns the last logits."""
    args = parse_args(name, argv)
    params = build_params(args.weights, seed=args.seed)
    images = np.random.default_rng(args.seed).standard_normal(
        (args.batch, 3, args.size, args.size)).astype(np.float32)
    with blas_threads(args.blas_threads):
        logits = forward(params, images, threads=args.threads)  # warm-up: pools, page faults
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            logits = forward(params, images, threads=args.threads)
            times.append(time.perf_counter() - start)
    threads = args.threads or cconv.get_config()["max_threads"]
    print(f"{name}, batch {args.batch}, {args.size}x{args.size}, float32, threads={threads}: "
          f"{1e3 * np.median(times):.1f} ms per forward pass (median of {args.repeat}, "
          f"best {1e3 * min(times):.1f} ms)")
    top = int(logits[0].argmax())
    print(f"top class of image 0: {top} (score {logits[0, top]:.4f})")
    return logits
