"""Uses the whole public API the way a user would; `mypy` (strict, see pyproject.toml) checks it
against the shipped stubs, and it also runs: `python tests/typing/use_api.py`.

The `type: ignore[...]` lines are calls the stubs must reject; mypy's warn_unused_ignores (part of
strict) fails the check if the stubs stop rejecting them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import cconv


def main() -> None:
    version: str = cconv.__version__
    image = np.random.default_rng(0).random((1, 3, 16, 16), dtype=np.float32)
    filters = np.ones((4, 3, 3, 3), dtype=np.float32)
    bias = np.arange(4, dtype=np.float32)

    shape: tuple[int, ...] = cconv.conv2d_output_shape(image.shape, filters.shape, stride=2,
                                                       padding="same")
    y = cconv.conv2d(image, filters, bias, stride=(2, 2), padding="same", dilation=1, groups=1,
                     threads=1)
    assert y.shape == shape, (y.shape, shape)

    # With out=, the result has the type of `out`.
    buf: npt.NDArray[np.float32] = np.empty(shape, dtype=np.float32)
    filled: npt.NDArray[np.float32] = cconv.conv2d(image, filters, bias, 2, "same", out=buf)
    assert filled is buf

    # Every padding form, nested lists and NumPy ints included.
    cconv.conv2d(image[0], filters, padding=((1, 0), (0, 1)))
    cconv.conv2d(image.tolist(), filters, padding=[1, np.int64(2)], stride=np.int32(1))
    # One-element sequences: the same for both axes.
    cconv.conv2d(image, filters, stride=(2,), padding=((1, 0),), dilation=[1])
    cconv.conv2d_output_shape(image.shape, filters.shape, padding=(1,))
    cconv.conv2d_output_shape([3, 8, 8], [2, 3, 3, 3], padding="valid")

    # The NumPy twin, reachable after `import cconv` alone.
    reference: npt.NDArray[np.float64] = cconv.oracle.conv2d_oracle(image, filters, bias, 2, "same")
    assert reference.shape == shape

    config = cconv.get_config()
    paths: list[str] = config["simd_paths"]
    threads: int = config["max_threads"]
    active: str = config["simd"]
    assert active in paths and "generic" in config["simd_compiled"] and threads >= 1
    cconv.show_config()
    print(f"cconv {version}: output {shape}, up to {threads} threads")
    pooling()
    folding()


def folding() -> None:
    """A BatchNorm folded into the convolution before it, with and without a conv bias."""
    w = np.ones((4, 3, 3, 3), dtype=np.float32)
    ones, zeros = np.ones(4, dtype=np.float32), np.zeros(4, dtype=np.float32)
    folded_w, folded_b = cconv.fold_batchnorm(w, None, ones, zeros, zeros, ones)
    assert folded_w.shape == w.shape and folded_b.shape == (4,)
    cconv.fold_batchnorm(w, zeros, None, None, [0.0] * 4, ones, eps=1e-3)


def pooling() -> None:
    """The pooling API as a training step uses it: forward with indices, then the gradients."""
    x = np.ones((2, 4, 8, 8), dtype=np.float32)
    pooled = cconv.max_pool2d(x, 2)
    values, where = cconv.max_pool2d(x, 3, 2, 1, return_indices=True)
    indices: npt.NDArray[np.int64] = where
    grad = cconv.max_pool2d_backward(np.ones_like(values), indices, x.shape, threads=1)
    averaged = cconv.avg_pool2d(x, (2, 2), padding=((0, 1), (1, 0)), ceil_mode=True,
                                count_include_pad=False, divisor_override=3)
    grad_avg = cconv.avg_pool2d_backward(averaged, x.shape, 2, padding=((0, 1), (1, 0)),
                                         ceil_mode=True, count_include_pad=False,
                                         divisor_override=3)
    glob = cconv.adaptive_avg_pool2d(x, 1)
    grid, cells = cconv.adaptive_max_pool2d(x, (None, 2), return_indices=True)
    back = cconv.adaptive_avg_pool2d_backward(glob, x.shape)
    shape: tuple[int, ...] = cconv.pool2d_output_shape(x.shape, 3, 2, 1)
    twin = cconv.oracle.max_pool2d_oracle(x, 2)
    assert pooled.shape == twin.shape and grad.shape == grad_avg.shape == back.shape == x.shape
    assert grid.shape == cells.shape and shape == values.shape


def rejected_by_the_stubs() -> None:
    """Never called: calls that would fail at run time and that the stubs must reject."""
    image = np.ones((3, 8, 8))
    cconv.conv2d(image, image[None], padding="full")  # type: ignore[call-overload]
    cconv.conv2d(image, image[None], stride=1.5)  # type: ignore[call-overload]
    cconv.get_config()["no_such_key"]  # type: ignore[typeddict-item]
    cconv.max_pool2d(image, 2.5)  # type: ignore[call-overload]
    cconv.avg_pool2d(image, 2, padding="same")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
