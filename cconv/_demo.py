"""The `python -m cconv` demo: a built-in RGB image through a bank of depth-3 filters.

It shows the ideas of the README on real numbers: 3 input feature maps, filters that are stacks
of 3 kernels, one output feature map per filter, and what padding and stride do to the size.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ._config import get_config
from ._conv import conv2d


def builtin_image(height: int = 48, width: int = 64) -> np.ndarray:
    """A synthetic RGB scene, (3, H, W) float32 in [0, 1]: sky gradient, sun, hill, house."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 0.3 + 0.4 * y / height
    g = 0.5 + 0.3 * y / height
    b = np.full_like(y, 0.9)
    sun = (y - height * 0.25) ** 2 + (x - width * 0.75) ** 2 < (height * 0.15) ** 2
    r[sun], g[sun], b[sun] = 1.0, 0.85, 0.2
    hill = y > height * 0.65 + 4 * np.sin(x / width * 2 * np.pi)
    r[hill], g[hill], b[hill] = 0.2, 0.6, 0.2
    house = (x > width * 0.2) & (x < width * 0.4) & (y > height * 0.45) & (y < height * 0.8)
    r[house], g[house], b[house] = 0.7, 0.2, 0.15
    return np.stack([r, g, b]).astype(np.float32)


def builtin_filters() -> tuple[list[str], np.ndarray]:
    """Five 3x3 filters of depth 3, as (names, weight of shape (5, 3, 3, 3))."""
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    laplace = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    gray = np.full(3, 1 / 3, np.float32)  # the same kernel on every channel, averaged
    red_minus_green = np.zeros((3, 3, 3), np.float32)
    red_minus_green[0, 1, 1], red_minus_green[1, 1, 1] = 1.0, -1.0
    names = ["vertical edges (Sobel x)", "horizontal edges (Sobel y)", "Laplacian",
             "box blur", "red minus green"]
    weight = np.stack([
        gray[:, None, None] * sobel_x,
        gray[:, None, None] * sobel_x.T,
        gray[:, None, None] * laplace,
        np.full((3, 3, 3), 1 / 27, np.float32),
        red_minus_green,
    ])
    return names, weight


def _ascii(feature_map: np.ndarray, width: int = 64) -> list[str]:
    """A coarse text rendering of one feature map's magnitude."""
    shades = " .:-=+*#%@"
    step = max(1, feature_map.shape[1] // width)
    small = np.abs(feature_map[::step * 2, ::step])
    scale = small.max() or 1.0
    idx = np.minimum((small / scale * (len(shades) - 1)).round().astype(int), len(shades) - 1)
    return ["".join(shades[i] for i in row) for row in idx]


def _time_ms(fn, repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cconv", description=__doc__)
    parser.add_argument("--stride", type=int, default=1, help="filter step (default 1)")
    parser.add_argument("--padding", default="1",
                        help="int, 'same' or 'valid' (default 1: keeps the size for 3x3)")
    parser.add_argument("--no-preview", action="store_true", help="skip the text preview")
    args = parser.parse_args(argv)
    padding = args.padding if args.padding in ("same", "valid") else int(args.padding)

    image = builtin_image()
    names, weight = builtin_filters()
    c, h, w = image.shape
    print("cconv demo: 2-D convolution of a built-in RGB image")
    print(f"input   : {c} feature maps (R, G, B) of {h} x {w} pixels, shape {image.shape}, "
          f"{image.dtype}")
    print(f"filters : {weight.shape[0]} filters of depth {weight.shape[1]} (one "
          f"{weight.shape[2]}x{weight.shape[3]} kernel per input channel), "
          f"weight shape {weight.shape}")
    for i, name in enumerate(names):
        print(f"  filter {i}: {name}")

    result = conv2d(image, weight, stride=args.stride, padding=padding)
    ms = _time_ms(lambda: conv2d(image, weight, stride=args.stride, padding=padding))
    o, oh, ow = result.shape
    config = get_config()
    print(f"conv2d(stride={args.stride}, padding={padding!r}) -> {o} output feature maps of "
          f"{oh} x {ow} pixels, shape {result.shape}")
    print(f"time    : {ms:.3f} ms per call (median of 20; SIMD path {config['simd']}, "
          f"up to {config['max_threads']} threads)")
    for i, name in enumerate(names):
        fm = result[i]
        print(f"  map {i} {name:<27}: min {fm.min():+.3f}  max {fm.max():+.3f}  "
              f"mean {fm.mean():+.3f}")
    for label, kwargs in (("padding='valid'", dict(padding="valid")),
                          ("padding=1, stride=2", dict(padding=1, stride=2)),
                          ("padding='same', stride=3", dict(padding="same", stride=3))):
        shape = conv2d(image, weight, **kwargs).shape
        print(f"with {label:<25}: output feature maps of {shape[1]} x {shape[2]}")
    if not args.no_preview:
        print("preview of map 0 (vertical edges), |value| as text:")
        for line in _ascii(result[0]):
            print("  " + line)
    return 0
