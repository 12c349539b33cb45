"""The benchmark's layer table (issues 3 and 11), the FLOP count, and the arrays each layer runs on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layer:
    """One conv2d call: input (N, C, H, W), O filters of kH x kW, symmetric padding."""

    name: str
    n: int
    c: int
    h: int
    w: int
    o: int
    kh: int
    kw: int
    stride: int = 1
    pad: int = 0
    dilation: int = 1
    groups: int = 1
    # The "float64" row is float64 whatever --dtype says; every other row follows --dtype.
    dtype: str | None = None

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c, self.h, self.w)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.o, self.c // self.groups, self.kh, self.kw)

    def out_hw(self) -> tuple[int, int]:
        def size(extent, k):
            return (extent + 2 * self.pad - self.dilation * (k - 1) - 1) // self.stride + 1
        return size(self.h, self.kh), size(self.w, self.kw)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.o) + self.out_hw()

    @property
    def flops(self) -> int:
        """Multiply-adds counted as 2 FLOP: 2*N*O*OH*OW*(C/groups)*kH*kW (bias not counted)."""
        oh, ow = self.out_hw()
        return 2 * self.n * self.o * oh * ow * (self.c // self.groups) * self.kh * self.kw

    @property
    def single_channel(self) -> bool:
        """One feature map in, one out: the shape OpenCV's filter2D also computes."""
        return self.c == 1 and self.o == 1 and self.groups == 1

    def describe(self) -> str:
        parts = [f"{self.n},{self.c},{self.h},{self.w}->{self.o} {self.kh}x{self.kw}"]
        if self.stride != 1:
            parts[0] += f"/{self.stride}"
        if self.pad:
            parts.append(f"p{self.pad}")
        if self.dilation != 1:
            parts.append(f"d{self.dilation}")
        if self.groups != 1:
            parts.append(f"g{self.groups}")
        return " ".join(parts)

    def resolved_dtype(self, default: str) -> np.dtype:
        return np.dtype(self.dtype or default)


# Issue 3's table, in its order, with its exact shapes.
TABLE = (
    Layer("resnet conv1", 1, 3, 224, 224, 64, 7, 7, stride=2, pad=3),
    Layer("resnet l1", 1, 64, 56, 56, 64, 3, 3, pad=1),
    Layer("resnet l2 s2", 1, 64, 56, 56, 128, 3, 3, stride=2, pad=1),
    Layer("resnet l2", 1, 128, 28, 28, 128, 3, 3, pad=1),
    Layer("resnet l3", 1, 256, 14, 14, 256, 3, 3, pad=1),
    Layer("resnet l4", 1, 512, 7, 7, 512, 3, 3, pad=1),
    Layer("bottleneck 1x1", 1, 256, 56, 56, 64, 1, 1),
    Layer("mobilenet dw", 1, 32, 112, 112, 32, 3, 3, pad=1, groups=32),
    Layer("mobilenet dw s2", 1, 144, 56, 56, 144, 3, 3, stride=2, pad=1, groups=144),
    Layer("image 1ch", 1, 1, 1024, 1024, 1, 3, 3, pad=1),
    Layer("rgb 5x5", 1, 3, 512, 512, 16, 5, 5, pad=2),
    Layer("cifar c3", 64, 3, 32, 32, 32, 3, 3, pad=1),
    Layer("cifar c32", 64, 32, 32, 32, 64, 3, 3, pad=1),
    Layer("dilated", 1, 64, 64, 64, 64, 3, 3, pad=2, dilation=2),
    Layer("float64", 1, 64, 56, 56, 64, 3, 3, pad=1, dtype="float64"),
    Layer("tiny call", 1, 3, 8, 8, 4, 3, 3, pad=1),
)

# Issue 11's added rows: the depthwise k x k layers of ConvNeXt and EfficientNet, 1x1 layers,
# a batch of 32, and a conv1d-like layer (one row of 4096, no padding).
ISSUE11_ROWS = (
    Layer("convnext dw7", 1, 96, 56, 56, 96, 7, 7, pad=3, groups=96),
    Layer("effnet dw5", 1, 240, 28, 28, 240, 5, 5, pad=2, groups=240),
    Layer("effnet dw5 s2", 1, 240, 28, 28, 240, 5, 5, stride=2, pad=2, groups=240),
    Layer("1x1 s2", 1, 128, 28, 28, 256, 1, 1, stride=2),
    Layer("1x1 1024->256", 1, 1024, 14, 14, 256, 1, 1),
    Layer("batch32 3x3", 32, 64, 28, 28, 64, 3, 3, pad=1),
    Layer("conv1d k9", 1, 64, 1, 4096, 64, 1, 9),
)

TABLE = TABLE + ISSUE11_ROWS

# The targets' "dense 3x3 layers" (>= 85% of the per-core ceiling).
DENSE_3X3 = ("resnet l1", "resnet l2 s2", "resnet l2", "resnet l3", "dilated")


def select(substrings: list[str] | None) -> list[Layer]:
    """The table's layers whose name contains any of the substrings (all when none given)."""
    if not substrings:
        return list(TABLE)
    wanted = [s.lower() for s in substrings]
    return [layer for layer in TABLE if any(s in layer.name.lower() for s in wanted)]


def make_arrays(layer: Layer, dtype: np.dtype, with_bias: bool, seed: int = 0):
    """Input in [-1, 1), weight scaled by 1/sqrt(depth) so outputs stay O(1), optional bias."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, layer.input_shape).astype(dtype)
    depth = (layer.c // layer.groups) * layer.kh * layer.kw
    w = (rng.uniform(-1.0, 1.0, layer.weight_shape) / np.sqrt(depth)).astype(dtype)
    b = rng.uniform(-0.5, 0.5, layer.o).astype(dtype) if with_bias else None
    return x, w, b
