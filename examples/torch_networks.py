"""ResNet-18 and MobileNetV2 as PyTorch modules, laid out as torchvision's, for checking and timing
the NumPy + cconv networks of resnet18.py and mobilenet_v2.py (needs PyTorch).

The modules and their parameter names are those of ``torchvision.models.resnet18()`` and
``torchvision.models.mobilenet_v2()`` (torchvision 0.x), so a state_dict of either loads into the
other, and into the NumPy examples. They are written out here so that the checks run where
torchvision is not installed (its wheels are built for one PyTorch release each).

    python examples/torch_networks.py resnet18 --save resnet18.pt --onnx resnet18.onnx

writes a seeded random state_dict and an ONNX file of it, for ``--weights`` of the examples.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

# --- ResNet-18 ---------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection; a 1x1 convolution on the skip path where
    the block changes the size or the channel count."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        inplanes = 64
        for index, (planes, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
            setattr(self, f"layer{index}", nn.Sequential(BasicBlock(inplanes, planes, stride),
                                                         BasicBlock(planes, planes)))
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# --- MobileNetV2 -------------------------------------------------------------------------------


class ConvBNActivation(nn.Sequential):
    """torchvision's Conv2dNormActivation: conv (no bias), BatchNorm, ReLU6."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1):
        super().__init__(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups,
                                   bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear projection, and a skip
    connection when the block keeps the size and the channel count."""

    def __init__(self, cin: int, cout: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = int(round(cin * expand_ratio))
        self.use_res_connect = stride == 1 and cin == cout
        layers = [] if expand_ratio == 1 else [ConvBNActivation(cin, hidden, kernel=1)]
        layers += [ConvBNActivation(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# (expansion t, output channels c, repeats n, first stride s), MobileNetV2's Table 2.
MOBILENET_V2_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                         (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class MobileNetV2(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        features = [ConvBNActivation(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in MOBILENET_V2_SETTINGS:
            for i in range(n):
                features.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        features.append(ConvBNActivation(cin, 1280, kernel=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2), nn.Linear(1280, num_classes))
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


NETWORKS = {"resnet18": ResNet18, "mobilenet_v2": MobileNetV2}


# --- helpers for checks and benchmarks ---------------------------------------------------------


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm the statistics and affine parameters of a trained one (not the
    identity that a fresh module starts with), so that folding them is really tested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=g))
                m.bias.copy_(0.1 * torch.randn(n, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                m.running_var.copy_(0.5 + torch.rand(n, generator=g))
    return model


def make_network(name: str, seed: int = 0, num_classes: int = 1000) -> nn.Module:
    """A seeded, randomly initialised network in evaluation mode (BatchNorm uses its running
    statistics, Dropout does nothing), its BatchNorms randomised as a trained one's."""
    torch.manual_seed(seed)
    return randomize_batchnorm(NETWORKS[name](num_classes), seed).eval()


def numpy_state_dict(model: nn.Module) -> dict:
    """The state_dict as NumPy arrays (copies), the form resnet18.py and mobilenet_v2.py take."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def export_onnx(model: nn.Module, path: str, image_size: int = 224,
                fold_batchnorm: bool = True) -> None:
    """An ONNX file of the model with a variable batch size. The TorchScript exporter
    (``dynamo=False``) needs only the onnx package; with `fold_batchnorm` (its constant folding)
    it folds each BatchNorm into its Conv, without it the graph keeps BatchNormalization nodes."""
    x = torch.zeros(1, 3, image_size, image_size)
    torch.onnx.export(model, (x,), path, dynamo=False, do_constant_folding=fold_batchnorm,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network", choices=sorted(NETWORKS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH.pt", help="write the state_dict (torch.save)")
    parser.add_argument("--onnx", metavar="PATH.onnx", help="write an ONNX file (needs onnx)")
    args = parser.parse_args(argv)
    model = make_network(args.network, args.seed)
    if args.save:
        torch.save(model.state_dict(), args.save)
        print(f"wrote {args.save}")
    if args.onnx:
        export_onnx(model, args.onnx)
        print(f"wrote {args.onnx}")


if __name__ == "__main__":
    main()
