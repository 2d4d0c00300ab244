"""A small PointRend semantic segmenter for ShapesWorld (8 shape classes + background).

Layout, scaled down from the paper's semantic setting (DeepLabV3 + PointRend):

* a residual CNN backbone; its stride-4 output is the *fine-grained* feature map the point head
  samples (the role of res2 in the paper);
* a coarse head at stride 16 (dilated residual blocks for context, then a 1×1 classifier) — its
  logits are the coarse prediction;
* :class:`core.pointrend.PointHead` (3 hidden layers of 256, coarse logits re-concatenated at every
  layer), trained on points chosen by importance sampling and used by subdivision at inference.

The network is fully convolutional: any input whose sides are multiples of 16 works, so the lesson can
run it at 128…768 px. ``forward`` (eval) returns the subdivision-refined logits at the input size.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import nn

from core.pointrend import PointHead, subdivision_inference

MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, dilation: int = 1):
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, padding=dilation * (kernel // 2), dilation=dilation,
                      bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )


class Residual(nn.Module):
    """Two 3×3 convolutions (optionally dilated) with an identity shortcut."""

    def __init__(self, channels: int, dilation: int = 1):
        super().__init__()
        self.conv1 = ConvBNReLU(channels, channels, dilation=dilation)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        nn.init.zeros_(self.bn2.weight)  # start as identity: stable training from scratch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.bn2(self.conv2(self.conv1(x))))


class ShapesPointRend(nn.Module):
    """Backbone → (fine features at stride 4, coarse logits at stride 16) + a point head."""

    def __init__(self, num_classes: int = 9, widths: Sequence[int] = (32, 64, 96, 128),
                 fc_dim: int = 256, num_fc: int = 3, num_points: int = 2048):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.num_classes = num_classes
        self.num_points = num_points
        self.stem = ConvBNReLU(3, w0, stride=2)  # stride 2
        self.stage4 = nn.Sequential(ConvBNReLU(w0, w1, stride=2), Residual(w1))  # stride 4: fine features
        self.stage8 = nn.Sequential(ConvBNReLU(w1, w2, stride=2), Residual(w2))  # stride 8
        self.stage16 = nn.Sequential(ConvBNReLU(w2, w3, stride=2), Residual(w3, dilation=2),
                                     Residual(w3, dilation=4))  # stride 16, wide context
        self.coarse_head = nn.Sequential(ConvBNReLU(w3, w3), nn.Conv2d(w3, num_classes, 1))
        self.point_head = PointHead(w1, num_classes, fc_dim=fc_dim, num_fc=num_fc)

    @property
    def fine_channels(self) -> int:
        return self.point_head.fcs[0].in_channels - self.num_classes

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (B, 3, H, W)`` → ``(fine (B, C, H/4, W/4), coarse logits (B, K, H/16, W/16))``."""
        if x.shape[-1] % 16 or x.shape[-2] % 16:
            raise ValueError(f"input sides must be multiples of 16, got {tuple(x.shape[-2:])}")
        fine = self.stage4(self.stem(x))
        coarse = self.coarse_head(self.stage16(self.stage8(fine)))
        return fine, coarse

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Eval: logits at the input size, refined by subdivision with ``num_points`` per step."""
        fine, coarse = self.features(x)
        refined, _ = subdivision_inference(coarse, fine, self.point_head, x.shape[-2:], self.num_points)
        return refined

    @staticmethod
    def preprocess(image: np.ndarray, padded_hw: Sequence[int] | None = None) -> torch.Tensor:
        """RGB uint8 ``(h, w, 3)`` → normalised ``(1, 3, H, W)``, edge-padded at the bottom/right to
        ``padded_hw`` (multiples of 16)."""
        h, w = image.shape[:2]
        ph, pw = padded_hw if padded_hw is not None else (-(-h // 16) * 16, -(-w // 16) * 16)
        if (ph, pw) != (h, w):
            image = cv2.copyMakeBorder(image, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        mean = torch.tensor(MEAN).view(3, 1, 1)
        std = torch.tensor(STD).view(3, 1, 1)
        return ((x - mean) / std).unsqueeze(0)


def pointrend_shapes(**kwargs: object) -> ShapesPointRend:
    """The zoo builder of ``pointrend-shapes``."""
    return ShapesPointRend(**kwargs)  # type: ignore[arg-type]
