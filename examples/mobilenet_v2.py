"""MobileNetV2's forward pass (inference) in NumPy, with cconv for every convolution and pooling.

    python examples/mobilenet_v2.py [--batch 8] [--threads 2] [--weights mobilenet_v2.pt|.npz|.onnx]

The network (Sandler et al., 2018; torchvision's mobilenet_v2), for a 224 x 224 RGB image:

    conv 3x3, 3 -> 32, stride 2, + ReLU6                     32 x 112 x 112
    17 inverted residual blocks                              320 x   7 x   7
    conv 1x1, 320 -> 1280, + ReLU6                          1280 x   7 x   7
    global average pool                                     1280
    linear 1280 -> 1000 (the class scores, "logits")

An inverted residual block widens its input t times with a 1x1 convolution ("expand", ReLU6),
filters each of those feature maps on its own with a 3x3 depthwise convolution (groups equal to
the channels, ReLU6; stride 2 where the block shrinks the image), and narrows them again with a
1x1 convolution without activation ("project"). Where the block keeps the size and the channel
count, its input is added to its output (the skip connection). Most of the arithmetic is in the
1x1 convolutions; the depthwise ones are cheap in arithmetic but read and write a lot of memory.

As in resnet18.py, each BatchNorm is folded into the convolution before it when the weights are
loaded (``cconv.fold_batchnorm``), and the bias, the ReLU6 and the skip connection are applied
by the convolution as it writes its output (``activation="relu6"``, ``residual=``).

Weights: ``--weights`` takes a PyTorch state_dict of torchvision's mobilenet_v2 (a
``torch.save`` file, or an ``.npz`` of its arrays) or an ONNX file exported from it; without
it the network is randomly initialised from a seed.
"""

from __future__ import annotations

from typing import NamedTuple

import cconv
from network_cli import run_example
from network_weights import ConvSpec, load_params

# (expansion t, output channels c, repeats n, stride of the first repeat s): the paper's Table 2.
SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1)]
CLASSIFIER = ("classifier.1", (1000, 1280))  # state_dict prefix, weight shape


class Block(NamedTuple):
    """One inverted residual block: features.{index} in torchvision's state_dict."""
    index: int
    cin: int
    cout: int
    stride: int
    expansion: int

    @property
    def hidden(self) -> int:
        return self.cin * self.expansion

    @property
    def has_skip(self) -> bool:
        return self.stride == 1 and self.cin == self.cout


def blocks() -> list[Block]:
    result, cin = [], 32
    for t, c, n, s in SETTINGS:
        for i in range(n):
            result.append(Block(len(result) + 1, cin, c, s if i == 0 else 1, t))
            cin = c
    return result


def conv_specs() -> list[ConvSpec]:
    """Every convolution, in the order the forward pass runs them, with its BatchNorm."""
    specs = [ConvSpec("stem", "features.0.0", "features.0.1", (32, 3, 3, 3))]
    for b in blocks():
        f = f"features.{b.index}.conv"
        j = 0  # position of the depthwise conv in torchvision's block (after the expansion)
        if b.expansion != 1:
            specs.append(ConvSpec(f"block{b.index}.expand", f"{f}.0.0", f"{f}.0.1",
                                  (b.hidden, b.cin, 1, 1)))
            j = 1
        specs.append(ConvSpec(f"block{b.index}.depthwise", f"{f}.{j}.0", f"{f}.{j}.1",
                              (b.hidden, 1, 3, 3)))
        specs.append(ConvSpec(f"block{b.index}.project", f"{f}.{j + 1}", f"{f}.{j + 2}",
                              (b.cout, b.hidden, 1, 1)))
    last = len(blocks()) + 1
    specs.append(ConvSpec("head", f"features.{last}.0", f"features.{last}.1", (1280, 320, 1, 1)))
    return specs


def build_params(weights=None, *, seed=0) -> dict:
    """{layer name: (weight, bias)} with the BatchNorms folded in, and "classifier.1".

    `weights`: a PyTorch state_dict (tensors or NumPy arrays), or the path of a ``torch.save``
    file, an ``.npz`` file or an ONNX file; None: a random initialisation seeded by `seed`.
    """
    key, shape = CLASSIFIER
    return load_params(weights, conv_specs(), key, shape, seed)


def inverted_residual(params, b: Block, x, threads=None):
    """expand (1x1, ReLU6) -> depthwise (3x3, ReLU6) -> project (1x1) [+ x]."""
    h = x
    if b.expansion != 1:
        h = cconv.conv2d(h, *params[f"block{b.index}.expand"], activation="relu6",
                         threads=threads)
    h = cconv.conv2d(h, *params[f"block{b.index}.depthwise"], stride=b.stride, padding=1,
                     groups=b.hidden, activation="relu6", threads=threads)
    return cconv.conv2d(h, *params[f"block{b.index}.project"],
                        residual=x if b.has_skip else None, threads=threads)


def forward(params, x, threads=None):
    """Class scores (N, 1000) of a batch of images x (N, 3, H, W), float32."""
    x = cconv.conv2d(x, *params["stem"], stride=2, padding=1, activation="relu6",
                     threads=threads)
    for b in blocks():
        x = inverted_residual(params, b, x, threads)
    x = cconv.conv2d(x, *params["head"], activation="relu6", threads=threads)
    features = cconv.adaptive_avg_pool2d(x, 1, threads=threads).reshape(len(x), -1)
    weight, bias = params[CLASSIFIER[0]]
    return features @ weight.T + bias


if __name__ == "__main__":
    run_example("MobileNetV2", build_params, forward)
