"""ResNet-18's forward pass (inference) in NumPy, with cconv for every convolution and pooling.

    python examples/resnet18.py [--batch 8] [--threads 2] [--weights resnet18.pt|.npz|.onnx]

The network (He et al., 2015; torchvision's resnet18), for a 224 x 224 RGB image:

    conv 7x7, 3 -> 64, stride 2, + ReLU                       64 x 112 x 112
    max pool 3x3, stride 2                                     64 x  56 x  56
    layer1: 2 basic blocks,  64 channels                       64 x  56 x  56
    layer2: 2 basic blocks, 128 channels, the first stride 2  128 x  28 x  28
    layer3: 2 basic blocks, 256 channels, the first stride 2  256 x  14 x  14
    layer4: 2 basic blocks, 512 channels, the first stride 2  512 x   7 x   7
    global average pool                                        512
    linear 512 -> 1000 (the class scores, "logits")

A basic block is two 3x3 convolutions and a skip connection: ``relu(conv2(relu(conv1(x))) + x)``.
Where the block halves the size and doubles the channels, the skip path gets a 1x1 convolution
with stride 2 (the "downsample") so that both paths have the same shape.

Every convolution is followed by a BatchNorm in the trained network. At inference a BatchNorm is
a fixed per-channel scale and shift, so ``cconv.fold_batchnorm`` folds it into the convolution's
weight and bias once, when the weights are loaded. The bias, the skip connection and the ReLU are
then all applied by the convolution itself as it writes its output (``conv2d(..., bias,
residual=skip, activation="relu")``): one pass over memory per layer.

Weights: ``--weights`` takes a PyTorch state_dict of torchvision's resnet18 (a ``torch.save``
file, or an ``.npz`` of its arrays) or an ONNX file exported from it; without it the network is
randomly initialised from a seed (the top class then means nothing, the timing does).
"""

from __future__ import annotations

import cconv
from network_cli import run_example
from network_weights import ConvSpec, load_params

STAGES = [(64, 1), (128, 2), (256, 2), (512, 2)]  # (channels, stride of the first block)
CLASSIFIER = ("fc", (1000, 512))                   # state_dict prefix, weight shape


def conv_specs() -> list[ConvSpec]:
    """Every convolution, in the order the forward pass runs them, with its BatchNorm."""
    specs = [ConvSpec("conv1", "conv1", "bn1", (64, 3, 7, 7))]
    cin = 64
    for layer, (channels, stride) in enumerate(STAGES, 1):
        for block in range(2):
            name = f"layer{layer}.{block}"
            specs.append(ConvSpec(f"{name}.conv1", f"{name}.conv1", f"{name}.bn1",
                                  (channels, cin, 3, 3)))
            specs.append(ConvSpec(f"{name}.conv2", f"{name}.conv2", f"{name}.bn2",
                                  (channels, channels, 3, 3)))
            if block == 0 and (stride != 1 or cin != channels):
                specs.append(ConvSpec(f"{name}.downsample", f"{name}.downsample.0",
                                      f"{name}.downsample.1", (channels, cin, 1, 1)))
            cin = channels
    return specs


def build_params(weights=None, *, seed=0) -> dict:
    """{layer name: (weight, bias)} with the BatchNorms folded in, and "fc": (weight, bias).

    `weights`: a PyTorch state_dict (tensors or NumPy arrays), or the path of a ``torch.save``
    file, an ``.npz`` file or an ONNX file; None: a random initialisation seeded by `seed`.
    """
    key, shape = CLASSIFIER
    return load_params(weights, conv_specs(), key, shape, seed)


def basic_block(params, name, x, stride, threads=None):
    """relu(conv2(relu(conv1(x))) + skip), skip = x or a strided 1x1 convolution of x."""
    h = cconv.conv2d(x, *params[f"{name}.conv1"], stride=stride, padding=1, activation="relu",
                     threads=threads)
    skip = x
    if f"{name}.downsample" in params:
        skip = cconv.conv2d(x, *params[f"{name}.downsample"], stride=stride, threads=threads)
    return cconv.conv2d(h, *params[f"{name}.conv2"], padding=1, residual=skip,
                        activation="relu", threads=threads)


def forward(params, x, threads=None):
    """Class scores (N, 1000) of a batch of images x (N, 3, H, W), float32."""
    x = cconv.conv2d(x, *params["conv1"], stride=2, padding=3, activation="relu",
                     threads=threads)
    x = cconv.max_pool2d(x, 3, stride=2, padding=1, threads=threads)
    for layer, (_, stride) in enumerate(STAGES, 1):
        x = basic_block(params, f"layer{layer}.0", x, stride, threads)
        x = basic_block(params, f"layer{layer}.1", x, 1, threads)
    features = cconv.adaptive_avg_pool2d(x, 1, threads=threads).reshape(len(x), -1)
    weight, bias = params["fc"]
    return features @ weight.T + bias


if __name__ == "__main__":
    run_example("ResNet-18", build_params, forward)
