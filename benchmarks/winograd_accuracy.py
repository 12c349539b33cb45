"""Rounding error of conv2d's Winograd tiles, F(2x2, 3x3) and F(4x4, 3x3), next to the direct path.

    python benchmarks/winograd_accuracy.py [--quick]

For 3x3 layers (stride 1, padding 1) with 1 to 512 input channels, prints per dtype and path
    error = max |y - reference| / max |reference|
over the whole output, the worst of a few seeds and two input distributions (zero-mean normal,
and uniform [0, 1) as after a ReLU; weights normal with PyTorch's default scale 1/sqrt(9 C)).
The reference is cconv.oracle.conv2d_oracle (NumPy, float64) on the same values: exact enough
for float32, and for float64 within about 1e-16 of its own (so the float64 figures carry that
much noise).  The tolerance the test suite allows the direct path is 1e-4 (float32) and 1e-10
(float64) in this measure; cconv._winograd.winograd_suits lets "auto" use a tile only where it
stays 4x below that.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from cconv._conv import _conv2d  # noqa: E402
from cconv._simd import ACTIVE  # noqa: E402
from cconv._winograd import conv2d_winograd  # noqa: E402
from cconv.oracle import conv2d_oracle  # noqa: E402

CHANNELS = (1, 16, 64, 128, 256, 512)


def relative_error(y, ref) -> float:
    scale = float(np.max(np.abs(ref)))
    return float(np.max(np.abs(y.astype(np.float64) - ref))) / (scale if scale else 1.0)


def measure(channels: int, dtype, seeds: int, size: int, out_channels: int) -> dict:
    worst = {"direct": 0.0, "F2": 0.0, "F4": 0.0}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        w = (rng.standard_normal((out_channels, channels, 3, 3)) / np.sqrt(9 * channels))
        w = w.astype(dtype)
        for kind in ("normal", "relu"):
            shape = (1, channels, size, size)
            x = rng.standard_normal(shape) if kind == "normal" else rng.random(shape)
            x = x.astype(dtype)
            ref = conv2d_oracle(x, w, padding=1)
            ys = {"direct": _conv2d(x, w, None, 1, 1, 1, 1, None, 1, ACTIVE, False),
                  "F2": conv2d_winograd(x, w, padding=1, tile=2, threads=1),
                  "F4": conv2d_winograd(x, w, padding=1, tile=4, threads=1)}
            for name, y in ys.items():
                worst[name] = max(worst[name], relative_error(y, ref))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, smaller images")
    args = parser.parse_args()
    seeds, size = (1, 12) if args.quick else (3, 20)
    print("max |y - reference| / max |reference| (worst of seeds and input distributions), "
          f"{size}x{size} images, padding 1, 32 filters")
    print(f"{'dtype':8} {'C':>4} {'direct':>10} {'F2':>10} {'F4':>10}")
    for dtype in (np.float32, np.float64):
        for channels in CHANNELS:
            e = measure(channels, dtype, seeds, size, 32)
            print(f"{np.dtype(dtype).name:8} {channels:4d} {e['direct']:10.2e} {e['F2']:10.2e} "
                  f"{e['F4']:10.2e}", flush=True)


if __name__ == "__main__":
    main()
