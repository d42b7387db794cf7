"""DeepCluster v1's AlexNet and VGG-16 (Caron et al., ECCV 2018), in the key layout of the
released ``checkpoint.pth.tar`` files once the DataParallel infix is removed.

They differ from torchvision's nets: batch norm after every convolution, 96 first-layer filters
(AlexNet), no adaptive pooling, and a fixed Sobel input stage (``sobel.0`` turns RGB into
grey, ``sobel.1`` takes its horizontal and vertical gradients), so the first convolution sees two
channels. The clustering head ``top_layer`` is left out: it is re-initialised at every epoch
and says nothing about the learned features.
"""

from __future__ import annotations

import torch
from torch import nn

# (out_channels, kernel, stride, padding) or "M" for max pooling, as in the released AlexNet.
ALEXNET_FEATURES = [(96, 11, 4, 2), "M", (256, 5, 1, 2), "M", (384, 3, 1, 1), (384, 3, 1, 1),
                    (256, 3, 1, 1), "M"]
VGG16_FEATURES = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                  512, 512, 512, "M"]


def sobel_stage() -> nn.Sequential:
    """Grey-scale then Sobel gradients; fixed filters, stored in the checkpoint like weights."""
    grey = nn.Conv2d(3, 1, kernel_size=1)
    grey.weight.data.fill_(1.0 / 3.0)
    grey.bias.data.zero_()
    gradients = nn.Conv2d(1, 2, kernel_size=3, padding=1)
    gradients.weight.data[0, 0] = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    gradients.weight.data[1, 0] = torch.tensor([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]])
    gradients.bias.data.zero_()
    stage = nn.Sequential(grey, gradients)
    for parameter in stage.parameters():
        parameter.requires_grad = False
    return stage


def _conv_bn_relu(in_channels: int, out_channels: int, kernel: int, stride: int,
                  padding: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class SobelNet(nn.Module):
    """Sobel stage -> convolutional features -> fully connected layers (without the head)."""

    # ``classifier`` holds the trained fc6/fc7 features, not a class head: it must be loaded.
    head_modules = ()

    def __init__(self, features: nn.Sequential, classifier: nn.Sequential):
        super().__init__()
        self.sobel = sobel_stage()
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        x = self.features(self.sobel(x))
        return self.classifier(torch.flatten(x, 1))


def alexnet_deepcluster() -> SobelNet:
    layers: list[nn.Module] = []
    channels = 2
    for item in ALEXNET_FEATURES:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
        else:
            layers += _conv_bn_relu(channels, *item)
            channels = item[0]
    classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096),
                               nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, 4096),
                               nn.ReLU(inplace=True))
    return SobelNet(nn.Sequential(*layers), classifier)


def vgg16_deepcluster() -> SobelNet:
    layers: list[nn.Module] = []
    channels = 2
    for item in VGG16_FEATURES:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += _conv_bn_relu(channels, item, 3, 1, 1)
            channels = item
    classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(0.5),
                               nn.Linear(4096, 4096), nn.ReLU(True))
    return SobelNet(nn.Sequential(*layers), classifier)
