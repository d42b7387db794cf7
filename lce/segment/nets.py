"""The segmenters' networks, written from their published descriptions, in their published key
layout (so the released files load strictly).

- :class:`UPerNetResNet50`: Unified Perceptual Parsing (Xiao et al., ECCV 2018;
  CSAILVision/unifiedparsing), the ``upp-resnet50-upernet`` model Dissect's ``netpqc`` runs.
  Encoder: a ResNet-50 with the *deep stem* of the CSAIL segmentation code (three 3x3 convolutions,
  64-64-128 channels, instead of one 7x7), returning the four stage outputs. Decoder: a pyramid
  pooling module on the last stage (its pooling is Precise RoI Pooling over the whole map, not
  adaptive average pooling), a feature pyramid (FPN) over the four stages, and one head per task:
  scene (image level), object and part (on the fused pyramid), material (on the finest level).
- :class:`ColorSegmenterNet`: Dissect's colour model ``color-resnet18dilated-ppm_deepsup``, the
  CSAIL semantic-segmentation recipe: a dilated deep-stem ResNet-18 (output stride 8) and a PPM
  head with a deep-supervision branch (unused at inference, but part of the file).

``scale`` divides every channel width: ``scale=1`` is the published network; tests and the
offline paper-configuration run use a width-reduced network of the same key layout (``scale=8``)
because a full UPerNet forward pass is slow on a CPU.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

POOL_SCALES = (1, 2, 3, 6)


def _conv3x3(c_in: int, c_out: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=bias)


def _conv_bn_relu(c_in: int, c_out: int, kernel: int = 3) -> nn.Sequential:
    """Keys ``0.weight`` (conv, no bias), ``1.*`` (BatchNorm)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=dilation,
                               dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, first_dilation: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride=stride, padding=first_dilation,
                               dilation=first_dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class DeepStemResNet(nn.Module):
    """The CSAIL segmentation encoder: deep stem, four stages, no classifier; ``forward``
    returns the four stage outputs (strides 4, 8, 16, 32, or 4, 8, 8, 8 when ``dilated``).

    Dilation follows the CSAIL recipe for output stride 8: stages 3 and 4 lose their stride; their
    first block's strided convolution gets half the stage's dilation (2 -> 1, 4 -> 2), every other
    3x3 convolution the full one (2 and 4). Dilation changes no key or shape.
    """

    def __init__(self, block: type, blocks: tuple[int, ...], width: int = 64,
                 dilated: bool = False):
        super().__init__()
        self.conv1, self.bn1 = _conv3x3(3, width, stride=2), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = _conv3x3(width, width), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = _conv3x3(width, 2 * width), nn.BatchNorm2d(2 * width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self._in = 2 * width
        dilations = (1, 1, 2, 4) if dilated else (1, 1, 1, 1)
        for i, (n, dilation) in enumerate(zip(blocks, dilations, strict=True)):
            stride = 1 if i == 0 or dilation > 1 else 2
            setattr(self, f"layer{i + 1}", self._stage(block, width * 2 ** i, n, stride,
                                                       dilation))

    def _stage(self, block: type, planes: int, n: int, stride: int, dilation: int):
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self._in != out:
            downsample = nn.Sequential(nn.Conv2d(self._in, out, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(out))
        if block is _Basic:  # only the basic block's dilated stages are used (the colour model)
            layers = [_Basic(self._in, planes, stride, dilation, downsample,
                             first_dilation=max(dilation // 2, 1))]
            layers += [_Basic(out, planes, 1, dilation, first_dilation=dilation)
                       for _ in range(n - 1)]
        else:
            layers = [block(self._in, planes, stride, dilation, downsample)]
            layers += [block(out, planes, 1, dilation) for _ in range(n - 1)]
        self._in = out
        return nn.Sequential(*layers)

    def forward(self, x) -> list[torch.Tensor]:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.maxpool(self.relu(self.bn3(self.conv3(x))))
        features = []
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
            features.append(x)
        return features


def _hat_integral(t: np.ndarray) -> np.ndarray:
    """Integral from -inf to ``t`` of the linear-interpolation kernel max(0, 1 - |x|)."""
    t = np.clip(t, -1.0, 1.0)
    return np.where(t <= 0, (t + 1) ** 2 / 2, 1 - (1 - t) ** 2 / 2)


def prroi_weights(length: int, bins: int) -> np.ndarray:
    """(bins, length): Precise RoI Pooling (Jiang et al., ECCV 2018) of a box covering a whole
    axis [0, length], as weights on the samples. The feature is the bilinear interpolation of
    samples at integer positions (zero outside the map); each bin's value is its exact integral
    over the bin divided by the bin's width. Separable, so 2-D pooling is W_y @ F @ W_x^T."""
    edges = np.arange(bins + 1) * (length / bins)
    positions = np.arange(length)
    upper = _hat_integral(edges[1:, None] - positions[None, :])
    lower = _hat_integral(edges[:-1, None] - positions[None, :])
    return (upper - lower) / (length / bins)


def prroi_pool(x: torch.Tensor, bins: int) -> torch.Tensor:
    """Whole-map Precise RoI Pooling of ``x`` (n, c, h, w) to (n, c, bins, bins)."""
    h, w = x.shape[-2:]
    wy = torch.as_tensor(prroi_weights(h, bins), dtype=x.dtype, device=x.device)
    wx = torch.as_tensor(prroi_weights(w, bins), dtype=x.dtype, device=x.device)
    return torch.einsum("ph,nchw,qw->ncpq", wy, x, wx)


class UPerNetDecoder(nn.Module):
    """UPerNet with the four unified-parsing heads; ``classes`` = object, part, scene, material
    channel counts (part: every object-with-parts' own part list, concatenated)."""

    def __init__(self, classes: dict[str, int], fc_dim: int = 2048, fpn_dim: int = 512,
                 ppm_dim: int = 512):
        super().__init__()
        self.ppm_conv = nn.ModuleList(_conv_bn_relu(fc_dim, ppm_dim, 1) for _ in POOL_SCALES)
        self.ppm_last_conv = _conv_bn_relu(fc_dim + len(POOL_SCALES) * ppm_dim, fpn_dim)
        inplanes = [fc_dim // 8, fc_dim // 4, fc_dim // 2]
        self.fpn_in = nn.ModuleList(_conv_bn_relu(c, fpn_dim, 1) for c in inplanes)
        # each fpn_out entry is a Sequential around one conv-bn-relu (keys fpn_out.i.0.*)
        self.fpn_out = nn.ModuleList(nn.Sequential(_conv_bn_relu(fpn_dim, fpn_dim))
                                     for _ in inplanes)
        self.conv_fusion = _conv_bn_relu(4 * fpn_dim, fpn_dim)
        self.scene_head = nn.Sequential(_conv_bn_relu(fpn_dim, fpn_dim), nn.AdaptiveAvgPool2d(1),
                                        nn.Conv2d(fpn_dim, classes["scene"], 1))
        for task in ("object", "part", "material"):
            setattr(self, f"{task}_head", nn.Sequential(_conv_bn_relu(fpn_dim, fpn_dim),
                                                        nn.Conv2d(fpn_dim, classes[task], 1)))

    def forward(self, features: list[torch.Tensor], size: tuple[int, int]) -> dict:
        """Object, material and part *logits* bilinearly resized to ``size`` (the scene head is
        not run: Dissect does not use it)."""
        conv5 = features[-1]
        hw = conv5.shape[-2:]
        pooled = [conv5] + [
            conv(F.interpolate(prroi_pool(conv5, s), hw, mode="bilinear", align_corners=False))
            for s, conv in zip(POOL_SCALES, self.ppm_conv, strict=True)]
        f = self.ppm_last_conv(torch.cat(pooled, 1))
        pyramid = [f]
        for i in reversed(range(len(features) - 1)):
            lateral = self.fpn_in[i](features[i])
            f = lateral + F.interpolate(f, lateral.shape[-2:], mode="bilinear",
                                        align_corners=False)
            pyramid.append(self.fpn_out[i](f))
        pyramid.reverse()
        finest = pyramid[0].shape[-2:]
        fused = self.conv_fusion(torch.cat(
            [pyramid[0]] + [F.interpolate(p, finest, mode="bilinear", align_corners=False)
                            for p in pyramid[1:]], 1))

        def resized(x):
            return F.interpolate(x, size, mode="bilinear", align_corners=False)

        return {"object": resized(self.object_head(fused)),
                "material": resized(self.material_head(pyramid[0])),
                "part": resized(self.part_head(fused))}


class UPerNetResNet50(nn.Module):
    """Encoder + decoder; the published files hold ``encoder`` and ``decoder`` separately."""

    def __init__(self, classes: dict[str, int], scale: int = 1):
        super().__init__()
        width = 64 // scale
        self.encoder = DeepStemResNet(_Bottleneck, (3, 4, 6, 3), width)
        self.decoder = UPerNetDecoder(classes, fc_dim=32 * width, fpn_dim=512 // scale,
                                      ppm_dim=512 // scale)

    def forward(self, x, size: tuple[int, int]) -> dict:
        return self.decoder(self.encoder(x), size)


class PPMDeepsupDecoder(nn.Module):
    """PPM head (adaptive average pooling here) plus the deep-supervision branch on stage 3."""

    def __init__(self, n_classes: int, fc_dim: int = 512, ppm_dim: int = 512):
        super().__init__()
        self.ppm = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(s), nn.Conv2d(fc_dim, ppm_dim, 1, bias=False),
                          nn.BatchNorm2d(ppm_dim), nn.ReLU(inplace=True)) for s in POOL_SCALES)
        self.cbr_deepsup = _conv_bn_relu(fc_dim // 2, fc_dim // 4)
        self.conv_last = nn.Sequential(
            nn.Conv2d(fc_dim + len(POOL_SCALES) * ppm_dim, ppm_dim, 3, padding=1, bias=False),
            nn.BatchNorm2d(ppm_dim), nn.ReLU(inplace=True), nn.Dropout2d(0.1),
            nn.Conv2d(ppm_dim, n_classes, 1))
        self.conv_last_deepsup = nn.Conv2d(fc_dim // 4, n_classes, 1)

    def forward(self, features: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        conv5 = features[-1]
        hw = conv5.shape[-2:]
        pooled = [conv5] + [F.interpolate(p(conv5), hw, mode="bilinear", align_corners=False)
                            for p in self.ppm]
        return F.interpolate(self.conv_last(torch.cat(pooled, 1)), size, mode="bilinear",
                             align_corners=False)


class ColorSegmenterNet(nn.Module):
    def __init__(self, n_classes: int, scale: int = 1):
        super().__init__()
        width = 64 // scale
        self.encoder = DeepStemResNet(_Basic, (2, 2, 2, 2), width, dilated=True)
        self.decoder = PPMDeepsupDecoder(n_classes, fc_dim=8 * width, ppm_dim=512 // scale)

    def forward(self, x, size: tuple[int, int]) -> torch.Tensor:
        return self.decoder(self.encoder(x), size)
