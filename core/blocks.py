"""The CNN families' building blocks, ConvNeXt's roadmap and HRNet's streams, as real modules.

Three pieces of the receptive-field lesson that are about architecture rather than about one photo:

* :func:`block_costs` — parameters, multiply-adds and the receptive field of one block of each family
  (VGG's 3×3 conv, MobileNet's depthwise-separable conv, ResNet's bottleneck, MobileNetV2's inverted
  bottleneck, ConvNeXt's block, Inception-v3's module A, a DenseNet layer, squeeze-and-excitation) at a
  chosen C, H, W. The blocks are timm's own classes; multiply-adds are counted by :func:`count_macs`
  (every Conv2d and Linear, from the shapes a forward pass produces), which the tests hold equal to
  fvcore's conv + linear count of the same modules.
* :func:`roadmap` — the steps of "A ConvNet for the 2020s" (Liu et al., CVPR 2022, §2, Fig. 2 and
  Table 10) from ResNet-50 to ConvNeXt-T, each built as a network (timm's ResNet for the first steps,
  then compositions of timm layers, timm's ConvNeXt-T for the last), with parameters and GFLOPs
  measured by fvcore next to the top-1 accuracy the paper reports, and the effective receptive field
  of each at initialisation.
* :func:`hrnet_structure` — HRNet's parallel streams (resolution and channels of every branch, stage
  by stage) and exchange units, read from timm's ``HighResolutionNet``, and the feature map of every
  stream for an input.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "BLOCKS",
    "PAPER_PARAMS",
    "ROADMAP",
    "RoadmapStep",
    "block_costs",
    "build_step",
    "count_macs",
    "count_parameters",
    "fvcore_counts",
    "hrnet_streams",
    "hrnet_structure",
    "roadmap",
]


# --------------------------------------------------------------------------------------------- #
# counting


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_macs(module: nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of every Conv2d and Linear in one forward pass of ``x`` (one fused multiply-add = 1).

    A conv producing ``N×O×H×W`` from ``C`` channels with a ``k_h×k_w`` kernel in ``g`` groups costs
    ``N·O·H·W·(C/g)·k_h·k_w``; a linear layer ``tokens·in·out``. Norms, activations and pooling are not
    multiply-adds of weights and are left out (BN folds into the conv before it at deployment). Works on
    the ``meta`` device, where only shapes are computed.
    """
    total = [0]

    def hook(mod: nn.Module, inputs: Any, out: torch.Tensor) -> None:
        if isinstance(mod, nn.Conv2d):
            kh, kw = mod.kernel_size
            total[0] += out.numel() * (mod.in_channels // mod.groups) * kh * kw
        else:
            total[0] += out.numel() * mod.in_features

    handles = [
        m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
    return int(total[0])


def fvcore_counts(module: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """fvcore's count of the same forward pass: ``conv + linear`` (comparable with :func:`count_macs`),
    its ``total`` (which adds norms, pooling and up-sampling) and its parameter count."""
    from fvcore.nn import FlopCountAnalysis, parameter_count

    analysis = FlopCountAnalysis(module.eval(), x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    with torch.no_grad():
        by_op = dict(analysis.by_operator())
        total = int(analysis.total())
    weights = sum(int(by_op.get(k, 0)) for k in ("conv", "linear", "addmm", "matmul", "einsum", "bmm"))
    return {"weights": weights, "total": total, "params": int(parameter_count(module)[""])}


# --------------------------------------------------------------------------------------------- #
# building blocks of the families


@dataclass(frozen=True)
class Block:
    key: str
    title: str
    family: str
    build: Callable[[int], nn.Module]
    formula: str


def _conv3x3(c: int) -> nn.Module:
    from timm.layers import ConvNormAct

    return ConvNormAct(c, c, 3)


def _dwsep(c: int) -> nn.Module:
    from timm.models._efficientnet_blocks import DepthwiseSeparableConv

    return DepthwiseSeparableConv(c, c, dw_kernel_size=3, pw_act=True)


def _bottleneck(c: int) -> nn.Module:
    from timm.models.resnet import Bottleneck

    return Bottleneck(c, max(c // 4, 1))  # ResNet: 1×1 to C/4, 3×3, 1×1 back to 4·(C/4) = C


def _inverted(c: int) -> nn.Module:
    from timm.models._efficientnet_blocks import InvertedResidual

    return InvertedResidual(c, c, dw_kernel_size=3, exp_ratio=6.0, act_layer=nn.ReLU6)


def _convnext(c: int) -> nn.Module:
    from timm.models.convnext import ConvNeXtBlock

    return ConvNeXtBlock(c, kernel_size=7, mlp_ratio=4)


def _inception(c: int) -> nn.Module:
    from timm.models.inception_v3 import InceptionA

    return InceptionA(c, pool_features=32)


def _dense(c: int) -> nn.Module:
    from timm.models.densenet import DenseLayer

    return DenseLayer(c, growth_rate=32, bn_size=4)


def _se(c: int) -> nn.Module:
    from timm.models._efficientnet_blocks import SqueezeExcite

    return SqueezeExcite(c, rd_ratio=0.25)


BLOCKS: tuple[Block, ...] = (
    Block("conv3x3", "3×3 conv + BN + ReLU", "VGG", _conv3x3, "9·C²·HW"),
    Block("dwsep", "depthwise-separable 3×3", "MobileNet", _dwsep, "9·C·HW + C²·HW"),
    Block(
        "bottleneck",
        "bottleneck 1×1 → 3×3 → 1×1 (C/4 inside)",
        "ResNet",
        _bottleneck,
        "(C²/4 + 9C²/16 + C²/4)·HW",
    ),
    Block("inverted", "inverted bottleneck ×6, 3×3 dw", "MobileNetV2", _inverted, "(6C² + 54C + 6C²)·HW"),
    Block("convnext", "7×7 dw → LN → 1×1 ×4 → GELU → 1×1", "ConvNeXt", _convnext, "(49C + 8C²)·HW"),
    Block(
        "inception",
        "Inception-A (1×1 | 5×5 | 3×3-3×3 | pool)",
        "Inception-v3",
        _inception,
        "four branches, concatenated",
    ),
    Block("dense", "dense layer: 1×1 to 4k, 3×3 to k = 32", "DenseNet", _dense, "(4k·C + 36k²)·HW"),
    Block(
        "se", "squeeze-and-excitation, C/4 inside", "SENet / MBConv", _se, "C²/2 (per image, not per pixel)"
    ),
)
_BLOCK_LOCK = threading.Lock()


def block_costs(channels: int = 64, size: int = 56) -> list[dict[str, Any]]:
    """Each family's block at ``channels``×``size``×``size``: params, MACs, output channels and the
    receptive field of one block (from :mod:`core.rftrace`; ``inf`` = global, e.g. SE's pooling)."""
    if channels < 4 or size < 1:
        raise ValueError("Channels must be at least 4 and the size at least 1.")
    return [dict(r) for r in _block_costs(int(channels), int(size))]


@lru_cache(maxsize=32)
def _block_costs(channels: int, size: int) -> tuple[dict[str, Any], ...]:
    from core import rftrace

    rows = []
    for block in BLOCKS:
        with _BLOCK_LOCK, torch.device("meta"):  # shapes only: no weights are allocated or initialised
            module = block.build(channels).eval()
        x = torch.empty(1, channels, size, size, device="meta")
        out, mode = rftrace.trace(module, x)
        fld = mode.field(out)
        rows.append(
            {
                "key": block.key,
                "title": block.title,
                "family": block.family,
                "formula": block.formula,
                "params": count_parameters(module),
                "macs": count_macs(module, x),
                "out_channels": int(out.shape[1]),
                "rf": None if fld is None else float(fld.size[0]),
            }
        )
    return tuple(rows)


# --------------------------------------------------------------------------------------------- #
# ConvNeXt's roadmap (Liu et al., 2022): ResNet-50 → ConvNeXt-T


@dataclass(frozen=True)
class RoadmapStep:
    """One step of the paper's Table 10: its top-1 (mean of 3 seeds) and GFLOPs, and our build."""

    key: str
    title: str
    top1: float
    gflops: float
    config: dict[str, Any]
    adopted: bool = True


_BASE = dict(
    depths=(3, 4, 6, 3),
    stem="resnet",
    block="timm",
    dw=False,
    width=64,
    kernel=3,
    act="relu",
    acts="all",
    norms="all",
    norm="bn",
    sep_ds=False,
)


def _cfg(**changes: Any) -> dict[str, Any]:
    return {**_BASE, **changes}


_S = dict(depths=(3, 3, 9, 3))
_P = dict(_S, stem="patchify", block="bottleneck")
_D = dict(_P, dw=True)
_W = dict(_D, width=96)
_I = dict(_W, block="inverted")
_M = dict(_I, block="moved")
_K7 = dict(_M, kernel=7)
_G = dict(_K7, act="gelu")
_A = dict(_G, acts="one")
_N = dict(_A, norms="one")
_L = dict(_N, norm="ln")

ROADMAP: tuple[RoadmapStep, ...] = (
    RoadmapStep("resnet50", "ResNet-50 (original recipe)", 76.13, 4.09, _cfg()),
    RoadmapStep("recipe", "ResNet-50, modern training recipe", 78.82, 4.09, _cfg()),
    RoadmapStep("stage_ratio", "stage ratio 3:3:9:3", 79.36, 4.53, _cfg(**_S)),
    RoadmapStep("patchify", '"patchify" stem 4×4/4', 79.51, 4.42, _cfg(**_P)),
    RoadmapStep("depthwise", "depthwise conv", 78.28, 2.35, _cfg(**_D)),
    RoadmapStep("width", "width 64 → 96", 80.50, 5.27, _cfg(**_W)),
    RoadmapStep("inverted", "inverted bottleneck", 80.64, 4.64, _cfg(**_I)),
    RoadmapStep("move_up", "move up the depthwise conv", 79.92, 4.07, _cfg(**_M)),
    RoadmapStep("kernel5", "kernel 5×5", 80.35, 4.10, _cfg(**dict(_M, kernel=5))),
    RoadmapStep("kernel7", "kernel 7×7", 80.57, 4.15, _cfg(**_K7)),
    RoadmapStep("kernel9", "kernel 9×9", 80.57, 4.21, _cfg(**dict(_M, kernel=9)), adopted=False),
    RoadmapStep("kernel11", "kernel 11×11", 80.47, 4.29, _cfg(**dict(_M, kernel=11)), adopted=False),
    RoadmapStep("gelu", "ReLU → GELU", 80.62, 4.15, _cfg(**_G)),
    RoadmapStep("fewer_acts", "fewer activations", 81.27, 4.15, _cfg(**_A)),
    RoadmapStep("fewer_norms", "fewer norms", 81.41, 4.15, _cfg(**_N)),
    RoadmapStep("layernorm", "BN → LN", 81.47, 4.46, _cfg(**_L)),
    RoadmapStep(
        "convnext_t", "separate downsampling = ConvNeXt-T", 81.97, 4.49, _cfg(**dict(_L, sep_ds=True))
    ),
)
"""Table 10 of arXiv 2201.03545 (ImageNet-1K top-1, mean of three seeds; GFLOPs at 224²)."""

PAPER_PARAMS = {"resnet50": 25.6e6, "convnext_t": 28.6e6}
"""The only parameter counts the paper gives for the roadmap (Table 9): ResNet-50 and ConvNeXt-T."""
SWIN_T_TOP1 = 81.30  # Table 10's reference line


def _norm(kind: str, c: int) -> nn.Module:
    from timm.layers import LayerNorm2d

    return LayerNorm2d(c) if kind == "ln" else nn.BatchNorm2d(c)


def _act(kind: str) -> nn.Module:
    return nn.GELU() if kind == "gelu" else nn.ReLU(inplace=True)


class RoadmapBlock(nn.Module):
    """A residual block of the roadmap between ResNeXt's bottleneck and ConvNeXt's block (Fig. 3, 4).

    ``bottleneck``: 1×1 (4w→w) → k×k (w, depthwise when ``dw``) → 1×1 (w→4w); ``inverted``: 1×1 (w→4w) →
    k×k depthwise (4w) → 1×1 (4w→w); ``moved``: k×k depthwise (w) → 1×1 (w→4w) → 1×1 (4w→w). A norm
    and an activation follow every conv (the last conv: norm only, activation after the sum) until
    ``acts="one"`` keeps only the activation between the 1×1 convs and ``norms="one"`` only the norm
    after the depthwise conv. The first block of a stage downsamples in its spatial conv and projects
    its shortcut (1×1 conv + norm), as ResNet does.
    """

    def __init__(self, cin: int, width: int, stride: int, cfg: dict[str, Any]):
        super().__init__()
        kind, k, norm = cfg["block"], cfg["kernel"], cfg["norm"]
        all_acts, all_norms = cfg["acts"] == "all", cfg["norms"] == "all"
        pad = k // 2
        if kind == "bottleneck":
            cout = 4 * width
            convs = [
                nn.Conv2d(cin, width, 1, bias=False),
                nn.Conv2d(width, width, k, stride, pad, groups=width if cfg["dw"] else 1, bias=False),
                nn.Conv2d(width, cout, 1, bias=False),
            ]
            dw_index = 1
        elif kind == "inverted":
            cout = width
            convs = [
                nn.Conv2d(cin, 4 * width, 1, bias=False),
                nn.Conv2d(4 * width, 4 * width, k, stride, pad, groups=4 * width, bias=False),
                nn.Conv2d(4 * width, cout, 1, bias=False),
            ]
            dw_index = 1
        else:  # moved up
            cout = width
            convs = [
                nn.Conv2d(cin, cin, k, stride, pad, groups=cin, bias=False),
                nn.Conv2d(cin, 4 * width, 1, bias=False),
                nn.Conv2d(4 * width, cout, 1, bias=False),
            ]
            dw_index = 0
        layers: list[nn.Module] = []
        for i, conv in enumerate(convs):
            layers.append(conv)
            if all_norms or i == dw_index:
                layers.append(_norm(norm, conv.out_channels))
            if i < 2 and (all_acts or (kind == "moved" and i == 1)):
                layers.append(_act(cfg["act"]))
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _norm(norm, cout))
        self.out_act = _act(cfg["act"]) if all_acts else nn.Identity()
        self.out_channels = cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out_act(self.body(x) + self.shortcut(x))


class RoadmapNet(nn.Module):
    """Steps 3–15 of the roadmap: a patchify stem, four stages of :class:`RoadmapBlock`, a linear head."""

    def __init__(self, cfg: dict[str, Any], num_classes: int = 1000):
        super().__init__()
        w = cfg["width"]
        stem_out = w
        stem: list[nn.Module] = [nn.Conv2d(3, stem_out, 4, 4), _norm(cfg["norm"], stem_out)]
        if cfg["acts"] == "all":
            stem.append(_act(cfg["act"]))
        self.stem = nn.Sequential(*stem)
        stages, cin = [], stem_out
        for i, depth in enumerate(cfg["depths"]):
            blocks = []
            for j in range(depth):
                blocks.append(RoadmapBlock(cin, w * 2**i, 2 if (i and j == 0) else 1, cfg))
                cin = blocks[-1].out_channels
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.head = nn.Linear(cin, num_classes)
        self.feature_info = [
            dict(num_chs=s[-1].out_channels, reduction=4 * 2**i, module=f"stages.{i}")
            for i, s in enumerate(self.stages)
        ]

    def forward_intermediates(
        self, x: torch.Tensor, indices: Any = None, intermediates_only: bool = True, stop_early: bool = True
    ) -> list[torch.Tensor]:
        take = (
            set(range(len(self.stages)))
            if indices is None
            else {int(i) % len(self.stages) for i in ([indices] if isinstance(indices, int) else indices)}
        )
        outs = []
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in take:
                outs.append(x)
            if stop_early and i >= max(take):
                break
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(x.mean((2, 3)))


def build_step(step: RoadmapStep | str, plain_init: bool = False) -> nn.Module:
    """The network of one roadmap step (random init). ``plain_init``: residual branches start active
    (no zero-initialised last BN in ResNet, layer scale 1 instead of 1e-6 in ConvNeXt), as in Luo et
    al.'s networks — timm's defaults start every residual block as the identity, which makes an
    untrained network's receptive field that of its stem alone."""
    import timm
    from timm.models.resnet import Bottleneck, ResNet

    step = _step(step) if isinstance(step, str) else step
    cfg = step.config
    if cfg["sep_ds"]:
        return timm.create_model("convnext_tiny", pretrained=False, ls_init_value=1.0 if plain_init else 1e-6)
    if cfg["block"] == "timm":
        return ResNet(Bottleneck, list(cfg["depths"]), zero_init_last=not plain_init)
    return RoadmapNet(cfg)


def _step(key: str) -> RoadmapStep:
    for s in ROADMAP:
        if s.key == key:
            return s
    raise ValueError(f"Unknown roadmap step {key!r}; known: {', '.join(s.key for s in ROADMAP)}.")


_ROADMAP_LOCK = threading.Lock()


def roadmap(erf_size: int = 128, with_erf: bool = True) -> tuple[dict[str, Any], ...]:
    """Every step built once (cached per process): parameters and multiply-adds at 224² (counted from
    the shapes of a ``meta``-device forward, equal to fvcore's conv + linear count — tested), the paper's
    numbers, and (``with_erf``) the ERF at initialisation of the centre unit of stage 3 (stride 16) on
    an ``erf_size``² input, with residual branches active from the start (``plain_init``)."""
    key = (int(erf_size), bool(with_erf))
    with _ROADMAP_LOCK:  # a second caller waits for the first build instead of repeating it
        if key not in _ROADMAPS:
            _ROADMAPS[key] = _build_roadmap(*key)
        return _ROADMAPS[key]


_ROADMAPS: dict[tuple[int, bool], tuple[dict[str, Any], ...]] = {}


def _build_roadmap(erf_size: int, with_erf: bool) -> tuple[dict[str, Any], ...]:
    rows: list[dict[str, Any]] = []
    done: dict[str, dict[str, Any]] = {}
    for step in ROADMAP:
        row = {
            "key": step.key,
            "title": step.title,
            "paper_top1": step.top1,
            "paper_gflops": step.gflops,
            "adopted": step.adopted,
            "paper_params": PAPER_PARAMS.get(step.key),
        }
        arch = repr(sorted(step.config.items()))
        if arch not in done:  # the recipe step changes training, not the network: measure it once
            with torch.device("meta"):
                skeleton = build_step(step).eval()
            x = torch.empty(1, 3, 224, 224, device="meta")
            done[arch] = {"params": count_parameters(skeleton), "gmacs": count_macs(skeleton, x) / 1e9}
            if with_erf:
                done[arch].update(_erf_at_init(step, erf_size))
        rows.append({**row, **done[arch]})
    return tuple(rows)


def _erf_at_init(step: RoadmapStep, size: int) -> dict[str, Any]:
    from core.receptive import effective_rfs_where, mass_radius

    torch.manual_seed(0)
    net = build_step(step, plain_init=True).eval()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    stage = 1 + next(k for k, d in enumerate(net.feature_info) if d["reduction"] == 16)
    (erf,), _ = effective_rfs_where(net, x, [stage], lambda k, hw: (hw[0] // 2, hw[1] // 2))
    centre = ((size - 1) / 2, (size - 1) / 2)
    return {
        "erf": erf.astype(np.float32),
        "erf_r50": mass_radius(erf, centre, 0.5),
        "erf_r90": mass_radius(erf, centre, 0.9),
        "erf_size": size,
    }


# --------------------------------------------------------------------------------------------- #
# HRNet: parallel streams and exchange units


def hrnet_structure(model: nn.Module, size: int = 224) -> dict[str, Any]:
    """Streams per stage with their real shapes (from a forward at ``size``²; pass a ``meta``-device
    model to pay nothing) and the exchange units between them: for each fused output stream, which
    input streams it sums and how (identity, nearest up-sampling after a 1×1 conv, or a chain of
    stride-2 3×3 convs)."""
    streams = _stream_shapes(model, size)
    fusions = []
    for name in ("stage2", "stage3", "stage4"):
        stage = getattr(model, name)
        module = stage[-1]  # the last module's exchange unit feeds the next stage
        units = []
        for i, outer in enumerate(module.fuse_layers):
            sources = []
            for j in range(len(outer)):
                if j == i:
                    sources.append({"from": j, "op": "identity"})
                elif j > i:
                    sources.append({"from": j, "op": f"1×1 conv + BN + nearest ×{2 ** (j - i)}"})
                else:
                    sources.append({"from": j, "op": f"{i - j}× (3×3 conv stride 2)"})
            units.append({"to": i, "sources": sources})
        fusions.append({"stage": name, "modules": len(stage), "units": units})
    return {"streams": streams, "fusions": fusions}


def _stream_shapes(skeleton: nn.Module, size: int) -> list[dict[str, Any]]:
    device = next(skeleton.parameters()).device
    with torch.no_grad():
        outs = hrnet_streams(skeleton, torch.zeros(1, 3, size, size, device=device))
    rows = []
    for stage, feats in outs.items():
        rows.append(
            {
                "stage": stage,
                "branches": [
                    {
                        "channels": int(f.shape[1]),
                        "height": int(f.shape[2]),
                        "width": int(f.shape[3]),
                        "stride": size // int(f.shape[2]),
                    }
                    for f in feats
                ],
            }
        )
    return rows


def hrnet_streams(model: nn.Module, x: torch.Tensor) -> dict[str, list[torch.Tensor]]:
    """The output of every stream after the stem and after each stage (timm ``HighResolutionNet``)."""
    x = model.act1(model.bn1(model.conv1(x)))
    x = model.act2(model.bn2(model.conv2(x)))
    out = {"stem": [x]}
    x = model.layer1(x)
    out["stage1"] = [x]
    xl = [t(x) for t in model.transition1]
    yl = model.stage2(xl)
    out["stage2"] = list(yl)
    xl = [t(yl[-1]) if not isinstance(t, nn.Identity) else yl[i] for i, t in enumerate(model.transition2)]
    yl = model.stage3(xl)
    out["stage3"] = list(yl)
    xl = [t(yl[-1]) if not isinstance(t, nn.Identity) else yl[i] for i, t in enumerate(model.transition3)]
    yl = model.stage4(xl)
    out["stage4"] = list(yl)
    return out


def stream_rf(skeleton: nn.Module, size: int = 224) -> list[dict[str, Any]]:
    """Theoretical receptive field of each stage-4 stream at the centre (from :mod:`core.rftrace`;
    pass a ``meta``-device model)."""
    from core import rftrace

    device = next(skeleton.parameters()).device
    outs, mode = rftrace.trace(
        skeleton, torch.empty(1, 3, size, size, device=device), lambda m, x: hrnet_streams(m, x)["stage4"]
    )
    rows = []
    for f in outs:
        fld = mode.field(f)
        c = (f.shape[2] // 2, f.shape[3] // 2)
        rows.append(
            {
                "stride": size // int(f.shape[2]),
                "rf": None if fld is None else (None if math.isinf(fld.size[0]) else float(fld.size[0])),
                "box": None if fld is None else list(fld.box(*c)),
            }
        )
    return rows
