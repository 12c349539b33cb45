"""The `python -m cconv` demo: an RGB image through a bank of depth-3 filters.

It shows the ideas of the README on real numbers: 3 input feature maps, filters that are stacks
of 3 kernels, one output feature map per filter, and what padding and stride do to the size.
The image is a small built-in one, or an image file; --save draws the whole convolution.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

from ._config import get_config
from ._conv import conv2d
from ._demo_image import DEFAULT_MAX_SIDE, DemoImage, ImageReadError, read_image

# What a user without the optional extra (Pillow and matplotlib) is told to run.
DEMO_EXTRA = 'pip install "cconv[demo]"'

_EPILOG = f"""\
examples:
  python -m cconv                               the built-in image, as text
  python -m cconv photo.jpg                     your own image (needs Pillow)
  python -m cconv photo.jpg --save maps.png     ... and a picture of the convolution
  python -m cconv --save maps.png               a picture of the built-in image

Pictures and image files need the optional extra: {DEMO_EXTRA}
(Pillow reads the files, matplotlib draws).  Without it the text demo still runs; a --save is
then skipped with a note, and an image file given is an error (exit status 1), as is a file
that cannot be read as an image.
"""


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
    step = max(1, -(-feature_map.shape[1] // width))   # ceil: at most `width` characters
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


def _at_least_3(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of pixels, not {text!r}")
    if value < 3:
        raise argparse.ArgumentTypeError(f"must be at least 3 (the filters are 3x3), not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cconv", description=__doc__, epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", nargs="?",
                        help="an image file to convolve instead of the built-in image (PNG, "
                             "JPEG, ...: any file Pillow reads).  Colour images are read as RGB "
                             "(alpha dropped); a gray image is copied into R, G and B")
    parser.add_argument("--save", metavar="PICTURE",
                        help="write a picture of the input feature maps, the filters and the "
                             "output feature maps side by side (PNG; .svg or .pdf by suffix)")
    parser.add_argument("--max-side", type=_at_least_3, default=DEFAULT_MAX_SIDE, metavar="N",
                        help="an image file whose longest side is over N pixels is downscaled "
                             "to N first, so that the demo stays quick on big photos (default "
                             f"{DEFAULT_MAX_SIDE})")
    parser.add_argument("--stride", type=int, default=1, help="filter step (default 1)")
    parser.add_argument("--padding", default="1",
                        help="int, 'same' or 'valid' (default 1: keeps the size for 3x3)")
    parser.add_argument("--no-preview", action="store_true", help="skip the text preview")
    return parser


def _error(message: str) -> int:
    print(f"python -m cconv: error: {message}", file=sys.stderr)
    return 1


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def _describe(path: str, loaded: DemoImage) -> str:
    """The `image   :` line for an image file: what was read and what became of it."""
    fh, fw = loaded.file_shape
    line = f"{path}, {fh} x {fw} pixels, mode {loaded.mode}"
    if loaded.gray:
        line += " (gray: its one feature map copied into R, G and B for the depth-3 filters)"
    elif "A" in loaded.mode:
        line += " (alpha dropped)"
    if loaded.downscaled:
        h, w = loaded.pixels.shape[1:]
        line += f", downscaled to {h} x {w} (--max-side)"
    return line


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    padding = args.padding if args.padding in ("same", "valid") else int(args.padding)

    names, weight = builtin_filters()
    if args.image is None:
        image = builtin_image()
        heading = "a built-in RGB image"
    else:
        try:
            loaded = read_image(args.image, args.max_side)
        except ImportError:
            return _error(f"reading the image file {args.image} needs Pillow, which is not "
                          f"installed; {DEMO_EXTRA} installs it (and matplotlib, for pictures)")
        except ImageReadError as exc:
            return _error(str(exc))
        image = loaded.pixels
        if min(image.shape[1:]) < 3:
            return _error(f"{args.image} gives a {image.shape[1]} x {image.shape[2]} image; "
                          "the demo's 3x3 filters need at least 3 x 3 pixels")
        heading = f"the image file {args.image}"
    c, h, w = image.shape
    print(f"cconv demo: 2-D convolution of {heading}")
    if args.image is not None:
        print(f"image   : {_describe(args.image, loaded)}")
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
    if args.save is not None:
        source = "the built-in image" if args.image is None else os.path.basename(args.image)
        title = (f"cconv.conv2d(stride={args.stride}, padding={padding!r}) of {source}\n"
                 f"input {image.shape} \u2192 weight {weight.shape} \u2192 output {result.shape}")
        return _save_picture(args.save, image, names, weight, result, title)
    if args.image is not None:
        _suggest_picture()
    return 0


def _save_picture(path: str, image: np.ndarray, names: list[str], weight: np.ndarray,
                  result: np.ndarray, title: str) -> int:
    """Draw the picture with matplotlib; without it, say how to get it (the text demo is done,
    so the demo still succeeds)."""
    try:
        from ._demo_picture import feature_map_figure, write_picture
        figure = feature_map_figure(image, names, weight, result, title)
    except ImportError:
        _note(f"no picture written: --save needs matplotlib, which is not installed; "
              f"{DEMO_EXTRA} gives pictures")
        return 0
    try:
        write_picture(figure, path)
    except (OSError, ValueError) as exc:
        # A folder that does not exist, no permission, a suffix matplotlib cannot write.
        return _error(f"cannot write the picture {path}: {exc}")
    print(f"picture : {path} (input feature maps -> filters -> output feature maps)")
    return 0


def _suggest_picture() -> None:
    # Only asks whether matplotlib is there: importing it would take longer than the demo.
    if importlib.util.find_spec("matplotlib") is None:
        _note(f"{DEMO_EXTRA} gives a picture of this convolution (--save feature_maps.png)")
    else:
        print("picture : add --save feature_maps.png to draw the feature maps and filters")
