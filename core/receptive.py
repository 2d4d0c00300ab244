"""Receptive fields: the algorithms of the lesson "from VGG to ConvNeXt (and HRNet)".

What a unit at a clicked position depends on (the lesson itself is :mod:`core.receptive_lesson`):

* the **effective receptive field** (ERF; Luo et al., NeurIPS 2016): ``|∂ Σ_c y[0, c, i, j] / ∂x|``
  summed over the input channels, for the output position ``(i, j)`` under the click
  (:func:`effective_rf`) — random initialisation next to trained weights;
* the **theoretical receptive field** as a box: the input pixels the position can depend on at all,
  exact for any graph of convolutions, poolings, sums and concatenations (:mod:`core.rftrace`, clipped
  at the border) and, for a chain, the textbook recursion (:func:`theoretical_rf`); for a Swin the
  reach of its (shifted) windows (:func:`swin_reach`); for a ViT the whole image after block 1;
* the growth per stage: the theoretical size against the side of the square holding 50 % / 90 % of
  the ERF's mass (:func:`mass_radius`), and a plain stack at initialisation, whose ERF grows like
  √n while the theoretical field grows like n (:func:`plain_stack_growth`);
* the cost of each family's building block, ConvNeXt's roadmap and HRNet's streams are in
  :mod:`core.blocks`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from core import rftrace, zoo

__all__ = [
    "Reach",
    "effective_rf",
    "effective_rfs",
    "effective_rfs_where",
    "family",
    "mass_radius",
    "meta_skeleton",
    "plain_stack",
    "plain_stack_growth",
    "reach",
    "spread",
    "square_side",
    "stages",
    "swin_reach",
    "theoretical_rf",
    "traced_fields",
]


def theoretical_rf(layers: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """``(rf, jump)`` after each layer of a chain of ``(kernel, stride, dilation)`` layers.

    Starting from ``rf = 1, jump = 1``: ``rf += (kernel − 1)·dilation·jump``, then ``jump *= stride``.
    """
    rf, jump, out = 1, 1, []
    for layer in layers:
        if len(layer) != 3:
            raise ValueError(f"Each layer is (kernel, stride, dilation); got {tuple(layer)!r}.")
        k, s, d = (int(v) for v in layer)
        if k < 1 or s < 1 or d < 1:
            raise ValueError(f"Kernel, stride and dilation must be at least 1; got {(k, s, d)}.")
        rf += (k - 1) * d * jump
        jump *= s
        out.append((rf, jump))
    return out


# --------------------------------------------------------------------------------------------- #
# stages and the effective receptive field


def stages(model: nn.Module) -> list[dict[str, Any]]:
    """The feature stages of a model, shallow to deep (timm's ``feature_info``: module, reduction)."""
    info = getattr(model, "feature_info", None)
    if info is None:
        return []
    return [dict(d) for d in (info.info if hasattr(info, "info") else info)]


def _stage_outputs(
    model: nn.Module, x: torch.Tensor, wanted: Sequence[int | None]
) -> dict[int | None, torch.Tensor]:
    """Each wanted stage's output (NCHW) from one forward pass; ``None`` = the last feature map."""
    n = len(stages(model))
    if hasattr(model, "forward_intermediates") and n:
        index = {s: (n - 1 if s is None else _stage_index(s, n)) for s in wanted}
        take = sorted(set(index.values()))
        outs = model.forward_intermediates(x, indices=take, intermediates_only=True)
        by_index = dict(zip(take, outs, strict=True))
        return {s: by_index[i] for s, i in index.items()}
    result: dict[int | None, torch.Tensor] = {}
    for s in wanted:
        if s is None:
            result[s] = model(x)
        elif isinstance(model, nn.Sequential):
            if not 1 <= s <= len(model):
                raise ValueError(f"Stage must be between 1 and {len(model)}; got {s}.")
            result[s] = model[:s](x)
        else:
            raise ValueError("This model has no feature stages: use stage=None (its output).")
    return result


def _stage_index(stage: int, n: int) -> int:
    if not 1 <= int(stage) <= n:
        raise ValueError(f"Stage must be between 1 and {n}; got {stage}.")
    return int(stage) - 1


def effective_rfs(
    model: nn.Module, x: torch.Tensor, requests: Sequence[tuple[int | None, tuple[int, int]]]
) -> list[np.ndarray]:
    """:func:`effective_rf` for several ``(stage, position)`` pairs from one forward pass."""
    maps, _ = effective_rfs_where(model, x, [s for s, _ in requests], lambda k, shape: requests[k][1])
    return maps


def effective_rfs_where(
    model: nn.Module, x: torch.Tensor, wanted: Sequence[int | None], position: Any
) -> tuple[list[np.ndarray], list[tuple[tuple[int, int], tuple[int, int]]]]:
    """One forward pass to every wanted stage, then one backward per stage from the unit
    ``position(k, (h, w))`` of the k-th wanted stage's (h, w) map; returns the maps and (shape, position)."""
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"x must be a (1, C, H, W) tensor; got shape {tuple(x.shape)}.")
    x = x.detach().clone().requires_grad_(True)
    maps, where = [], []
    with torch.enable_grad():
        outs = _stage_outputs(model, x, list(wanted))
        for k, stage in enumerate(wanted):
            y = outs[stage]
            if y.ndim != 4:
                raise ValueError(f"Stage {stage} is not a spatial feature map (shape {tuple(y.shape)}).")
            shape = (int(y.shape[2]), int(y.shape[3]))
            i, j = (int(v) for v in position(k, shape))
            if not (0 <= i < shape[0] and 0 <= j < shape[1]):
                raise ValueError(
                    f"Position {(i, j)} is outside the {shape[0]}×{shape[1]} map of stage {stage}."
                )
            (grad,) = torch.autograd.grad(y[0, :, i, j].sum(), x, retain_graph=k < len(wanted) - 1)
            maps.append(grad[0].abs().sum(0).double().numpy())
            where.append((shape, (i, j)))
    return maps, where


def effective_rf(
    model: nn.Module, x: torch.Tensor, position: tuple[int, int], stage: int | None = None
) -> np.ndarray:
    """``|∂ Σ_c y[0, c, i, j] / ∂x|`` summed over input channels, as an (H, W) float64 array.

    ``y`` is the output of ``stage`` (1-based, in the order of the model's ``feature_info``; the last
    feature map when ``None``), ``position = (i, j)`` indexes ``y``, ``x`` is a (1, C, H, W) tensor.
    One forward pass (stopping at that stage) and one backward pass to the input.
    """
    return effective_rfs(model, x, [(stage, tuple(position))])[0]


def mass_radius(erf: np.ndarray, centre: tuple[float, float], fraction: float) -> int:
    """Smallest ``r`` such that the square of side ``2r + 1`` around ``centre`` (clipped to the image)
    holds ``fraction`` of the ERF's total mass (0 for an all-zero map)."""
    v = np.abs(np.asarray(erf, np.float64))
    total = v.sum()
    if total <= 0:
        return 0
    h, w = v.shape
    ii = np.zeros((h + 1, w + 1))
    ii[1:, 1:] = v.cumsum(0).cumsum(1)
    cy, cx = (int(round(min(max(c, 0), n - 1))) for c, n in zip(centre, (h, w), strict=True))
    r = np.arange(max(h, w) + 1)
    y0, y1 = np.clip(cy - r, 0, h), np.clip(cy + r + 1, 0, h)
    x0, x1 = np.clip(cx - r, 0, w), np.clip(cx + r + 1, 0, w)
    mass = ii[y1, x1] - ii[y0, x1] - ii[y1, x0] + ii[y0, x0]
    return int(np.argmax(mass >= fraction * total * (1 - 1e-12)))


def square_side(centre: tuple[float, float], radius: int, shape: tuple[int, int]) -> int:
    """The longer side of the square of half-width ``radius`` around ``centre`` once clipped to ``shape``."""
    sides = []
    for c, n in zip(centre, shape, strict=True):
        c = int(round(min(max(c, 0), n - 1)))
        sides.append(min(c + radius, n - 1) - max(c - radius, 0) + 1)
    return max(sides)


def spread(erf: np.ndarray) -> float:
    """The ERF's standard deviation as a distribution over pixels (mean of the two axes' σ)."""
    v = np.abs(np.asarray(erf, np.float64))
    p = v / v.sum()
    ys, xs = np.arange(v.shape[0]), np.arange(v.shape[1])
    py, px = p.sum(1), p.sum(0)
    sy = math.sqrt(max((py * ys**2).sum() - (py * ys).sum() ** 2, 0.0))
    sx = math.sqrt(max((px * xs**2).sum() - (px * xs).sum() ** 2, 0.0))
    return (sy + sx) / 2


# --------------------------------------------------------------------------------------------- #
# theoretical reach: traced for conv nets, by window rule for Swin, global for ViT


@dataclass(frozen=True)
class Reach:
    """What one output position can see: a pixel box (inclusive, clipped) and the border-free size."""

    kind: str  # "conv" | "swin" | "vit" | "unknown"
    box: tuple[int, int, int, int] | None  # y0, x0, y1, x1
    size: float | None  # border-free side in input pixels (inf = global)
    jump: float | None
    centre: tuple[float, float]


def family(model: nn.Module) -> str:
    if hasattr(model, "layers") and hasattr(model, "patch_embed") and hasattr(model.layers[0], "blocks"):
        return "swin"
    if hasattr(model, "blocks") and hasattr(model, "patch_embed") and hasattr(model, "cls_token"):
        return "vit"
    return "conv"


def swin_reach(model: nn.Module, stage: int, position: tuple[int, int]) -> tuple[int, int, int, int]:
    """Input pixels ``(y0, x0, y1, x1)`` that token ``position`` of Swin stage ``stage`` (1-based) can
    attend to through its windows: a W-MSA block reaches the whole window of each token, an SW-MSA block
    the window of the grid shifted by ``s`` (edge windows cut at the border: the −100 mask keeps tokens
    the cyclic roll brought together apart), patch merging 2×2 tokens, the patch embedding P×P pixels."""
    from core.swin import block_info

    n_stages = len(model.layers)
    if not 1 <= stage <= n_stages:
        raise ValueError(f"Stage must be between 1 and {n_stages}; got {stage}.")
    iv = [[int(position[0])] * 2, [int(position[1])] * 2]
    for st in range(stage, 0, -1):
        blocks = model.layers[st - 1].blocks
        for b in range(len(blocks), 0, -1):
            info = block_info(model, st, b)
            for axis, n in ((0, info.height), (1, info.width)):
                iv[axis] = _window_hull(iv[axis], n, info.window, info.shift)
        if st > 1:  # patch merging: token t of stage st comes from tokens 2t, 2t + 1
            iv = [[2 * lo, 2 * hi + 1] for lo, hi in iv]
    patch = model.patch_embed.patch_size
    p = patch[0] if isinstance(patch, (tuple, list)) else patch
    (y0, y1), (x0, x1) = iv
    return y0 * p, x0 * p, y1 * p + p - 1, x1 * p + p - 1


def _window_hull(iv: list[int], n: int, m: int, s: int) -> list[int]:
    def start(t: int) -> int:
        if s == 0:
            return (t // m) * m
        return 0 if t < s else s + ((t - s) // m) * m

    def end(t: int) -> int:
        return min(
            n - 1, (t // m) * m + m - 1 if s == 0 else (s - 1 if t < s else s + ((t - s) // m) * m + m - 1)
        )

    return [start(iv[0]), end(iv[1])]


_SKELETONS: dict[str, nn.Module] = {}
_SKELETON_LOCK = threading.Lock()


def meta_skeleton(loaded: zoo.Loaded) -> nn.Module | None:
    """The model's architecture on the ``meta`` device (shapes only), built from its zoo entry."""
    entry = loaded.entry
    if entry.builder != "timm":
        return None
    with _SKELETON_LOCK:
        if entry.name not in _SKELETONS:
            import timm

            with torch.device("meta"):
                _SKELETONS[entry.name] = timm.create_model(
                    entry.arch, pretrained=False, **entry.kwargs
                ).eval()
        return _SKELETONS[entry.name]


@lru_cache(maxsize=64)
def traced_fields(name: str, size: int) -> tuple[rftrace.Field | None, ...]:
    skeleton = _SKELETONS[name]
    n = len(stages(skeleton))
    x = torch.empty(1, 3, size, size, device="meta")
    outs, mode = rftrace.trace(
        skeleton, x, lambda m, t: m.forward_intermediates(t, indices=list(range(n)), intermediates_only=True)
    )
    return tuple(mode.field(o) for o in outs)


def reach(
    model: nn.Module,
    stage: int,
    position: tuple[int, int],
    size: int,
    stride: float,
    fields: Sequence[rftrace.Field | None] | None = None,
) -> Reach:
    """The theoretical reach of ``position`` at ``stage`` (1-based) on a ``size``² input."""
    i, j = position
    kind = family(model)
    centre = ((i + 0.5) * stride - 0.5, (j + 0.5) * stride - 0.5)
    if kind == "vit":
        return Reach("vit", (0, 0, size - 1, size - 1), math.inf, stride, centre)
    if kind == "swin":
        box = swin_reach(model, stage, position)
        box = (box[0], box[1], min(box[2], size - 1), min(box[3], size - 1))
        return Reach("swin", box, float(box[2] - box[0] + 1), stride, centre)
    fld = fields[stage - 1] if fields is not None else None
    if fld is None:
        return Reach("unknown", None, None, None, centre)
    ah, aw = fld.axes
    if not math.isinf(ah.a):
        centre = (i * ah.jump + (ah.a + ah.b) / 2, j * aw.jump + (aw.a + aw.b) / 2)
    return Reach("conv", fld.box(i, j), float(ah.size), float(ah.jump), centre)


# --------------------------------------------------------------------------------------------- #
# √n: a plain stack at initialisation


def plain_stack(
    depth: int, kernel: int = 3, channels: int = 8, weights: str = "random", seed: int = 0
) -> nn.Sequential:
    """``depth`` ``kernel×kernel`` convolutions (same padding, no bias, no nonlinearity): ``random``
    He-normal weights from ``seed``, or ``ones`` (then the ERF is the depth-fold box convolution)."""
    g = torch.Generator().manual_seed(seed)
    layers = []
    for _ in range(depth):
        conv = nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False)
        with torch.no_grad():
            if weights == "ones":
                conv.weight.fill_(1.0)
            else:
                std = math.sqrt(2.0 / (channels * kernel * kernel))
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * std)
        layers.append(conv)
    return nn.Sequential(*layers)


@lru_cache(maxsize=4)
def plain_stack_growth(
    max_depth: int = 24, kernel: int = 3, channels: int = 8, seed: int = 0
) -> dict[str, Any]:
    """Theoretical side ``1 + (k−1)n`` against the ERF's 50 %/90 % sides and σ, for n = 1 … ``max_depth``.

    For all-ones kernels the ERF is the n-fold box convolution, a discrete bell with σ² = n(k²−1)/12
    exactly; random weights give a noisy bell of the same √n width (Luo et al., 2016)."""
    size = (kernel - 1) * max_depth + 9
    c = size // 2
    x = torch.zeros(1, channels, size, size)
    depths = list(range(1, max_depth + 1))
    out: dict[str, Any] = {
        "depth": depths,
        "theoretical": [],
        "sigma_random": [],
        "side50_random": [],
        "side90_random": [],
        "sigma_ones": [],
    }
    for n in depths:
        out["theoretical"].append(theoretical_rf([(kernel, 1, 1)] * n)[-1][0])
        erf = effective_rf(plain_stack(n, kernel, channels, "random", seed), x, (c, c))
        out["sigma_random"].append(spread(erf))
        out["side50_random"].append(2 * mass_radius(erf, (c, c), 0.5) + 1)
        out["side90_random"].append(2 * mass_radius(erf, (c, c), 0.9) + 1)
        out["sigma_ones"].append(math.sqrt(n * (kernel**2 - 1) / 12))
    return out
