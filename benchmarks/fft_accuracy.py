"""How far the FFT path (method="fft") is from the direct path, relative to the tests' bound.

    python benchmarks/fft_accuracy.py

For every case below, float32 and float64, it prints the largest

    |conv2d(..., method="fft") - conv2d(..., method="direct")| / bound

where bound = the convolution of |input| with |weight| (plus |bias|), the scale the tests hold the
direct path to (tests/conftest.py: 1e-4 of it for float32, 1e-12 for float64).  The cases are
the test suite's (the direct path's configurations in tests/test_conv2d_correctness.py and the
FFT tests' big kernels and random configurations in tests/test_fft.py, standard normal data),
then pictures as the benchmark has them: uniform and photo-like images (one with a black bar) of
512 x 512 and 1024 x 1024 with kernels of 15 to 63 taps, blurs and zero-sum (edge-detecting)
ones.
"""

from __future__ import annotations

import pathlib
import sys

import numpy as np

import cconv
from cconv.oracle import conv2d_oracle

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
from test_conv2d_correctness import CONFIGS  # noqa: E402
from test_fft import BIG_CONFIGS, random_configs  # noqa: E402

TOLERANCE = {"float32": 1e-4, "float64": 1e-12}


def ratio(x, w, b, bound=None, direct=None, **params) -> float:
    """max |fft - direct| / bound; `direct` may be given (the float64 result, to measure the
    float32 FFT against the exact value rather than against float32 direct sums)."""
    fft = cconv.conv2d(x, w, b, method="fft", **params)
    if direct is None:
        direct = cconv.conv2d(x, w, b, method="direct", **params)
    if bound is None:
        bound = conv2d_oracle(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)),
                              None if b is None else np.abs(b.astype(np.float64)), **params)
    err = np.abs(fft.astype(np.float64) - direct)
    # Outputs whose bound is 0 see only zero padding: both paths give exactly the bias there.
    assert np.all(err[bound == 0] == 0)
    return float(np.max(err[bound > 0] / bound[bound > 0], initial=0.0))


def suite_cases(rng):
    for n, c, h, w, o, kh, kw, params in CONFIGS + BIG_CONFIGS:
        groups = params.get("groups", 1)
        yield (rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c // groups, kh, kw)),
               rng.standard_normal(o), params)
    yield from random_configs(rng, 60)


def picture_cases(rng):
    for size in (512, 1024):
        yy, xx = np.mgrid[0:size, 0:size]
        photo = (128 + 90 * np.sin(xx / 41.0) * np.cos(yy / 29.0)
                 + rng.integers(0, 30, (size, size)))[None, None]
        dark = photo.copy()
        dark[..., :, : size // 4] = 0  # a black bar, as on a letterboxed frame
        for name, image in (("uniform", rng.random((1, 1, size, size))), ("photo", photo),
                            ("photo, black bar", dark)):
            for k in (15, 31, 63, 127):
                if size * size * k * k > 1024 * 1024 * 63 * 63:
                    continue  # the direct path's float64 reference would take too long
                blur = rng.random((1, 1, k, k))
                edges = blur - blur.mean()
                for kernel_name, kernel in (("blur", blur), ("zero-sum", edges)):
                    yield f"{name} {size}x{size} {kernel_name} {k}x{k}", image, kernel


def main() -> None:
    rng = np.random.default_rng(2026)
    worst = {"float32": 0.0, "float64": 0.0}
    count = 0
    for x, w, b, params in suite_cases(rng):
        for dtype in worst:
            cast = [None if a is None else a.astype(dtype) for a in (x, w, b)]
            worst[dtype] = max(worst[dtype], ratio(*cast, **params))
        count += 1
    print(f"test-suite cases: {count}, float32 and float64 each")
    for dtype, value in worst.items():
        print(f"  {dtype}: max |fft - direct| / bound = {value:.3g} "
              f"({value / TOLERANCE[dtype]:.2g} of the tests' tolerance {TOLERANCE[dtype]:g})")
    print("pictures, 'same' padding (float32 against the float32 direct path, and against "
          "the exact value: the float64 direct path):")
    picture_worst = {"float32": 0.0, "float64": 0.0, "float32 vs exact": 0.0}
    for name, image, kernel in picture_cases(rng):
        bound = cconv.conv2d(np.abs(image), np.abs(kernel), padding="same", method="direct")
        exact = cconv.conv2d(image, kernel, padding="same", method="direct")
        line = [f"  {name:<32}"]
        for dtype in picture_worst:
            cast = (image.astype(dtype[:7]), kernel.astype(dtype[:7]), None)
            r = ratio(*cast, bound=bound, padding="same",
                      direct=exact if dtype != "float32" else None)
            picture_worst[dtype] = max(picture_worst[dtype], r)
            line.append(f"{dtype} {r:.2g}")
        print("  ".join(line), flush=True)
    for dtype, value in picture_worst.items():
        print(f"  {dtype}: max over the pictures {value:.3g} "
              f"({value / TOLERANCE[dtype[:7]]:.2g} of the tolerance)")


if __name__ == "__main__":
    main()
