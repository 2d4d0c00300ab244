"""A small YOLOX-style detector: CSP-like backbone, light PAFPN neck, YOLOX's decoupled head.

The head is YOLOX's (Ge et al., 2021) at three strides (8, 16, 32): per level a 1×1 stem, then a
classification branch (two 3×3 convs, a 1×1 conv → C logits) and a regression branch (two 3×3
convs, then a 1×1 conv → 4 box offsets and a 1×1 conv → 1 objectness logit). It is anchor-free:
one prediction per feature-map cell, decoded as ``xy = (t_xy + grid)·s`` and ``wh = exp(t_wh)·s``.
A 640² input gives 80² + 40² + 20² = 8400 predictions of 4 + 1 + C numbers — outputs, not
parameters.

LensLab trains it on ShapesWorld scenes (``python -m core.train yolox-shapes``); the same module
serves the SimOTA lesson, which needs the raw outputs of every anchor, not only the final boxes.

``head_type="gfl"`` swaps the head's outputs for Generalized Focal Loss's (Li et al., 2020): no
objectness, class logits that are trained as a joint class–IoU quality score (QFL), and every box
edge as a discrete distribution over ``reg_max + 1`` distances ``0 … reg_max`` (in strides) from the
anchor centre ``((col + 0.5)·s, (row + 0.5)·s)`` — the edge is the distribution's expectation
(:func:`decode_gfl`). Backbone, neck and head convolutions stay the same, so both variants share one
training loop (``core.train.detector``) and one assigner (SimOTA).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["Detections", "YOLOXShapes", "decode", "decode_gfl", "edge_distributions", "gfl_shapes",
           "letterbox", "postprocess", "split_outputs", "yolox_shapes"]

STRIDES = (8, 16, 32)


class ConvBNAct(nn.Module):
    """Conv → BatchNorm (YOLOX's eps 1e-3, momentum 0.03) → SiLU."""

    def __init__(self, cin: int, cout: int, k: int = 1, s: int = 1, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DWConv(nn.Module):
    """Depthwise 3×3 then pointwise 1×1 (as YOLOX-Nano's ``DWConv``)."""

    def __init__(self, cin: int, cout: int, k: int = 3, s: int = 1):
        super().__init__()
        self.dconv = ConvBNAct(cin, cin, k, s, groups=cin)
        self.pconv = ConvBNAct(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pconv(self.dconv(x))


def _conv(depthwise: bool):
    return DWConv if depthwise else ConvBNAct


class CSPBlock(nn.Module):
    """Cross-stage partial block: half the channels go through ``n`` residual bottlenecks."""

    def __init__(self, cin: int, cout: int, n: int = 1, shortcut: bool = True, depthwise: bool = False):
        super().__init__()
        hidden = cout // 2
        conv = _conv(depthwise)
        self.conv1 = ConvBNAct(cin, hidden, 1)
        self.conv2 = ConvBNAct(cin, hidden, 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(ConvBNAct(hidden, hidden, 1), conv(hidden, hidden, 3)) for _ in range(n))
        self.shortcut = shortcut
        self.conv3 = ConvBNAct(2 * hidden, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.conv1(x), self.conv2(x)
        for block in self.blocks:
            a = a + block(a) if self.shortcut else block(a)
        return self.conv3(torch.cat([a, b], 1))


class Backbone(nn.Module):
    """Stem (stride 2) and four stride-2 stages; returns the stride-8, 16 and 32 maps."""

    def __init__(self, widths: Sequence[int] = (16, 32, 64, 96, 128), depth: int = 1,
                 depthwise: bool = False):
        super().__init__()
        conv = _conv(depthwise)
        w0, w1, w2, w3, w4 = widths
        self.stem = ConvBNAct(3, w0, 3, 2)
        self.dark2 = nn.Sequential(conv(w0, w1, 3, 2), CSPBlock(w1, w1, depth, depthwise=depthwise))
        self.dark3 = nn.Sequential(conv(w1, w2, 3, 2), CSPBlock(w2, w2, depth, depthwise=depthwise))
        self.dark4 = nn.Sequential(conv(w2, w3, 3, 2), CSPBlock(w3, w3, depth, depthwise=depthwise))
        self.dark5 = nn.Sequential(conv(w3, w4, 3, 2), CSPBlock(w4, w4, depth, shortcut=False,
                                                                  depthwise=depthwise))
        self.out_channels = (w2, w3, w4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        c3 = self.dark3(self.dark2(self.stem(x)))
        c4 = self.dark4(c3)
        c5 = self.dark5(c4)
        return c3, c4, c5


class PAFPN(nn.Module):
    """YOLOX's path aggregation neck, slimmed: top-down then bottom-up, CSP blocks at each merge."""

    def __init__(self, in_channels: Sequence[int], width: int = 64, depthwise: bool = False):
        super().__init__()
        c3, c4, c5 = in_channels
        conv = _conv(depthwise)
        self.lat5 = ConvBNAct(c5, width, 1)
        self.td4 = CSPBlock(width + c4, width, 1, shortcut=False, depthwise=depthwise)
        self.lat4 = ConvBNAct(width, width, 1)
        self.td3 = CSPBlock(width + c3, width, 1, shortcut=False, depthwise=depthwise)
        self.down3 = conv(width, width, 3, 2)
        self.bu4 = CSPBlock(2 * width, width, 1, shortcut=False, depthwise=depthwise)
        self.down4 = conv(width, width, 3, 2)
        self.bu5 = CSPBlock(2 * width, width, 1, shortcut=False, depthwise=depthwise)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, feats: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        c3, c4, c5 = feats
        p5 = self.lat5(c5)
        p4 = self.lat4(self.td4(torch.cat([self.up(p5), c4], 1)))
        p3 = self.td3(torch.cat([self.up(p4), c3], 1))
        n4 = self.bu4(torch.cat([self.down3(p3), p4], 1))
        n5 = self.bu5(torch.cat([self.down4(n4), p5], 1))
        return p3, n4, n5


class DecoupledHead(nn.Module):
    """YOLOX's head for one level: 1×1 stem; cls 2×3×3 + 1×1 → C; reg 2×3×3 + 1×1 → 4 and 1×1 → 1."""

    def __init__(self, cin: int, num_classes: int, width: int = 64, depthwise: bool = False,
                 prior_prob: float = 0.01, reg_max: int | None = None):
        super().__init__()
        conv = _conv(depthwise)
        self.reg_max = reg_max  # None: YOLOX's 4 offsets + objectness; an int: GFL's 4·(reg_max+1) bins
        self.stem = ConvBNAct(cin, width, 1)
        self.cls_convs = nn.Sequential(conv(width, width, 3), conv(width, width, 3))
        self.reg_convs = nn.Sequential(conv(width, width, 3), conv(width, width, 3))
        self.cls_pred = nn.Conv2d(width, num_classes, 1)
        self.reg_pred = nn.Conv2d(width, 4 if reg_max is None else 4 * (reg_max + 1), 1)
        self.obj_pred = nn.Conv2d(width, 1, 1) if reg_max is None else None
        bias = -math.log((1 - prior_prob) / prior_prob)  # YOLOX's initial objectness/class prior
        for layer in (self.cls_pred, self.obj_pred):
            if layer is not None:
                nn.init.constant_(layer.bias, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        reg = self.reg_convs(x)
        cls = self.cls_pred(self.cls_convs(x))
        if self.obj_pred is None:  # GFL: [4·(reg_max+1) edge logits, C quality-class logits]
            return torch.cat([self.reg_pred(reg), cls], 1)
        return torch.cat([self.reg_pred(reg), self.obj_pred(reg), cls], 1)


class YOLOXShapes(nn.Module):
    """Backbone + PAFPN + decoupled heads. ``forward`` returns raw outputs ``(B, A, 4 + 1 + C)``.

    Anchors are ordered stride 8 first, each level row-major — the order of
    :func:`core.assign.anchor_grid`. Columns: ``t_x, t_y, t_w, t_h`` (raw), objectness logit, class
    logits. :func:`decode` turns them into boxes. With ``head_type="gfl"`` the columns are the
    ``4·(reg_max+1)`` edge logits (left, top, right, bottom, each ``reg_max+1`` bins) and the class
    logits; :func:`split_outputs` decodes either layout.
    """

    def __init__(self, num_classes: int = 8, widths: Sequence[int] = (16, 32, 64, 96, 128), neck: int = 64,
                 head: int = 64, depth: int = 1, depthwise: bool = False, image_size: int = 256,
                 head_type: str = "yolox", reg_max: int = 16):
        super().__init__()
        if head_type not in ("yolox", "gfl"):
            raise ValueError(f"head_type must be 'yolox' or 'gfl', got {head_type!r}")
        self.num_classes = int(num_classes)
        self.image_size = int(image_size)
        self.strides = STRIDES
        self.head_type = head_type
        self.reg_max = int(reg_max) if head_type == "gfl" else None
        self.backbone = Backbone(widths, depth, depthwise)
        self.neck = PAFPN(self.backbone.out_channels, neck, depthwise)
        self.heads = nn.ModuleList(DecoupledHead(neck, num_classes, head, depthwise, reg_max=self.reg_max)
                                   for _ in STRIDES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.neck(self.backbone(x))
        outs = [head(f).flatten(2) for head, f in zip(self.heads, feats, strict=True)]
        return torch.cat(outs, 2).transpose(1, 2)

    def grid(self, height: int, width: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell indices ``(A, 2)`` (col, row) and strides ``(A,)`` for an input of this size."""
        cells, strides = [], []
        for s in self.strides:
            rows, cols = -(-height // s), -(-width // s)
            yy, xx = torch.meshgrid(torch.arange(rows, device=device), torch.arange(cols, device=device),
                                    indexing="ij")
            cells.append(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1))
            strides.append(torch.full((rows * cols,), float(s), device=device))
        return torch.cat(cells).float(), torch.cat(strides)


def yolox_shapes(num_classes: int = 8, **kwargs) -> YOLOXShapes:
    """Builder for the zoo (``builder="core.nets.yolox:yolox_shapes"``)."""
    return YOLOXShapes(num_classes=num_classes, **kwargs)


def gfl_shapes(num_classes: int = 8, **kwargs) -> YOLOXShapes:
    """Builder of the GFL variant (``builder="core.nets.yolox:gfl_shapes"``): same body, GFL head."""
    return YOLOXShapes(num_classes=num_classes, head_type="gfl", **kwargs)


def edge_distributions(raw: torch.Tensor, reg_max: int) -> torch.Tensor:
    """GFL edge logits ``(…, A, 4·(n+1) + C)`` → softmax distributions ``(…, A, 4, n+1)`` (l, t, r, b)."""
    n1 = reg_max + 1
    return torch.softmax(raw[..., :4 * n1].unflatten(-1, (4, n1)), -1)


def decode_gfl(raw: torch.Tensor, cells: torch.Tensor, strides: torch.Tensor, reg_max: int) -> torch.Tensor:
    """GFL raw outputs → boxes xyxy: each edge distance is ``s · Σ_i i·P(i)`` from the anchor centre.

    The anchor centre is ``(cell + 0.5)·s``, the point :func:`core.assign.anchor_grid` gives.
    """
    bins = torch.arange(reg_max + 1, dtype=raw.dtype, device=raw.device)
    dist = (edge_distributions(raw, reg_max) * bins).sum(-1) * strides[:, None]  # (…, A, 4)
    centre = (cells + 0.5) * strides[:, None]
    return torch.cat([centre - dist[..., :2], centre + dist[..., 2:]], -1)


def split_outputs(model: YOLOXShapes, raw: torch.Tensor, cells: torch.Tensor,
                  strides: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Boxes ``(…, A, 4)``, objectness logits ``(…, A)`` (None for GFL) and class logits ``(…, A, C)``."""
    if getattr(model, "head_type", "yolox") == "gfl":
        return decode_gfl(raw, cells, strides, model.reg_max), None, raw[..., 4 * (model.reg_max + 1):]
    return decode(raw, cells, strides), raw[..., 4], raw[..., 5:]


def decode(raw: torch.Tensor, cells: torch.Tensor, strides: torch.Tensor) -> torch.Tensor:
    """Raw ``(…, A, 4+)`` → boxes ``(…, A, 4)`` xyxy: centre ``(t + grid)·s``, size ``exp(t)·s``."""
    s = strides[:, None]
    xy = (raw[..., :2] + cells) * s
    wh = torch.exp(raw[..., 2:4].clamp(max=10.0)) * s
    return torch.cat([xy - wh / 2, xy + wh / 2], -1)


@dataclass
class Detections:
    """Detections of one image in the network's input frame (xyxy pixels)."""

    boxes: np.ndarray  # (N, 4)
    scores: np.ndarray  # (N,)  σ(obj)·σ(cls)
    labels: np.ndarray  # (N,) int64


def postprocess(boxes: torch.Tensor, obj: torch.Tensor | None, cls: torch.Tensor, score_thr: float = 0.3,
                nms_iou: float = 0.5, max_det: int = 100) -> Detections:
    """Score ``σ(obj)·max_c σ(cls_c)``, threshold, class-wise NMS (torchvision) for one image.

    ``obj=None`` (GFL): the class score is already the joint class–quality score, ``max_c σ(cls_c)``.
    """
    from torchvision.ops import batched_nms

    probs = torch.sigmoid(cls)
    if obj is not None:
        probs = probs * torch.sigmoid(obj.reshape(-1, 1))
    scores, labels = probs.max(1)
    keep = scores >= score_thr
    b, s, lab = boxes[keep], scores[keep], labels[keep]
    order = batched_nms(b.float(), s.float(), lab, nms_iou)[:max_det]
    return Detections(b[order].numpy().astype(np.float32), s[order].numpy().astype(np.float32),
                      lab[order].numpy().astype(np.int64))


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resize the long side to ``size`` and pad bottom/right with grey (114) to ``size × size``.

    Returns the padded image, the scale (input pixels per original pixel) and the resized (h, w).
    """
    import cv2

    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.full((size, size, 3), 114, dtype=np.uint8)
    out[:nh, :nw] = resized
    return out, scale, (nh, nw)
