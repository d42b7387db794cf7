"""The networks DeepCluster is studied with here: LeNet, a small AlexNet and a small ResNet.

All three share one interface the trainer relies on: ``features`` (the convolutional trunk, whose
named layers are what ``dissect@`` reads), ``embed(x)`` (the representation k-means clusters: the
classifier output *before* its last ReLU, as DeepCluster does), ``trunk(x)`` (pooled conv features
for the linear probe) and ``top_layer`` (the classification head, ``None`` in a saved checkpoint
because DeepCluster throws it away every cycle). The trunks end in an adaptive pool, so a net
trained on 32 px images also runs on the 224 px probe images of the dissection.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn


class Sobel(nn.Module):
    """Fixed grey-scale + Sobel filters (DeepCluster's input option): colour cannot be a shortcut
    for the clustering when the net only sees edges."""

    def __init__(self, in_channels: int):
        super().__init__()
        gray = torch.full((1, in_channels, 1, 1), 1.0 / in_channels)
        kx = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
        self.register_buffer("gray", gray)
        self.register_buffer("sobel", torch.stack([kx, kx.t()]).unsqueeze(1))

    def forward(self, x):
        return nn.functional.conv2d(nn.functional.conv2d(x, self.gray), self.sobel, padding=1)


def _conv_block(index: int, cin: int, cout: int, kernel: int, batch_norm: bool):
    layers = [(f"conv{index}", nn.Conv2d(cin, cout, kernel, padding=kernel // 2))]
    if batch_norm:
        layers.append((f"bn{index}", nn.BatchNorm2d(cout)))
    layers.append((f"relu{index}", nn.ReLU()))
    return layers


class _DeepClusterNet(nn.Module):
    """Shared forward logic: trunk -> adaptive pool -> classifier -> (ReLU -> head)."""

    features: nn.Module
    pool: nn.Module
    classifier: nn.Module
    feature_dim: int

    def _init_input(self, in_channels: int, sobel: bool) -> int:
        self.sobel = Sobel(in_channels) if sobel else None
        self.top_layer: nn.Linear | None = None
        return 2 if sobel else in_channels

    def trunk(self, x):
        if self.sobel is not None:
            x = self.sobel(x)
        return torch.flatten(self.pool(self.features(x)), 1)

    def embed(self, x):
        return self.classifier(self.trunk(x))

    def forward(self, x):
        out = self.embed(x)
        if self.top_layer is None:
            return out
        return self.top_layer(torch.relu(out))


class LeNet(_DeepClusterNet):
    """LeNet-5 for 1x32x32 digits (conv 6 -> conv 16 -> 120 -> 84)."""

    def __init__(self, in_channels: int = 1, sobel: bool = False, batch_norm: bool = False):
        super().__init__()
        cin = self._init_input(in_channels, sobel)
        layers = [("conv1", nn.Conv2d(cin, 6, 5))]
        layers += [("bn1", nn.BatchNorm2d(6))] if batch_norm else []
        layers += [("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)), ("conv2", nn.Conv2d(6, 16, 5))]
        layers += [("bn2", nn.BatchNorm2d(16))] if batch_norm else []
        layers += [("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2))]
        self.features = nn.Sequential(OrderedDict(layers))
        self.pool = nn.AdaptiveAvgPool2d(5)
        self.classifier = nn.Sequential(nn.Linear(16 * 25, 120), nn.ReLU(), nn.Linear(120, 84))
        self.feature_dim = 84


class SmallAlexNet(_DeepClusterNet):
    """DeepCluster's AlexNet (5 conv, 2 fc) narrowed for 32-64 px colour images."""

    def __init__(self, in_channels: int = 3, sobel: bool = False, batch_norm: bool = True,
                 width: int = 32):
        super().__init__()
        cin = self._init_input(in_channels, sobel)
        channels = [cin, width, 2 * width, 3 * width, 3 * width, 2 * width]
        kernels = [5, 5, 3, 3, 3]
        layers = []
        for i in range(5):
            layers += _conv_block(i + 1, channels[i], channels[i + 1], kernels[i], batch_norm)
            if i in (0, 1, 4):
                layers.append((f"pool{i + 1}", nn.MaxPool2d(3, 2)))
        self.features = nn.Sequential(OrderedDict(layers))
        self.pool = nn.AdaptiveAvgPool2d(3)
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(channels[-1] * 9, 256), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(256, 256))
        self.feature_dim = 256


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, batch_norm: bool):
        super().__init__()
        norm = nn.BatchNorm2d if batch_norm else (lambda _c: nn.Identity())
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=not batch_norm)
        self.bn1 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=not batch_norm)
        self.bn2 = norm(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), norm(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class SmallResNet(_DeepClusterNet):
    """A CIFAR-style ResNet: a 3x3 stem and three stages of basic blocks (16/32/64 x width/16)."""

    def __init__(self, in_channels: int = 3, sobel: bool = False, batch_norm: bool = True,
                 width: int = 16, blocks: int = 1):
        super().__init__()
        cin = self._init_input(in_channels, sobel)
        layers = _conv_block(0, cin, width, 3, batch_norm)
        widths = [width, width, 2 * width, 4 * width]
        for stage in range(3):
            for b in range(blocks):
                stride = 2 if stage > 0 and b == 0 else 1
                layers.append((f"layer{stage + 1}_{b}",
                               _BasicBlock(widths[stage] if b == 0 else widths[stage + 1],
                                           widths[stage + 1], stride, batch_norm)))
        self.features = nn.Sequential(OrderedDict(layers))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(widths[-1], 128))
        self.feature_dim = 128

