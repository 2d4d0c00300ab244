"""RepMLP: convolutions re-parameterised into fully-connected layers (Ding et al., arXiv 2105.01883).

The lesson (``run``/``PARAMS``) lives here; the reference-exact algebra it shows lives in
:mod:`core.repmlp_ops` and is re-exported under the same names.

The lesson's claim, in code: a convolution on an ``h×w`` map is a sparse, weight-shared FC layer.
Its FC matrix is found by convolving the identity (every basis vector is one "image" with a single
1 in it; the conv's response to it is one column of the FC matrix). Because matrix products add,
an FC plus any number of conv branches (each followed by BatchNorm) collapses into ONE FC after
training: fold each BN into its layer, zero-pad the small kernels to the largest, turn the summed
kernel into an FC matrix, add. Train with locality, deploy a plain FC.

Public API (see ``API.md``): :func:`conv_to_fc`, :func:`fuse_bn`, :class:`RepMLPBlock` (with
:meth:`RepMLPBlock.locality_injection`), plus the lesson's ``run``/``PARAMS`` and helpers.
Flattening is channel-major everywhere: index ``c·h·w + y·w + x``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.images import load_image
from core.lesson import LessonResult, Param
from core.repmlp_ops import (  # the algebra lives in core.repmlp_ops; its names stay importable here  # noqa: F401 - private helpers that tests, the bench and core.repvgg use
    LOCALITY_CHANNELS,
    LOCALITY_GROUPS,
    LOCALITY_KERNELS,
    LOCALITY_MODELS,
    LOCALITY_SIDE,
    LOCALITY_SIZE,
    LocalityNet,
    RepMLPBlock,
    _bn_stats,
    _grouped_fc_kernel,
    _grouped_fc_kernel_fast,
    _numpy,
    add_conv_to_fc_,
    conv_to_fc,
    conv_to_fc_tensor,
    fc_parameter_count,
    fuse_bn,
    fuse_bn_tensor,
    locality_box,
    locality_map,
    locality_net,
    locality_share,
    mass_inside,
    pad_kernel,
    parameter_calculator,
)
from core.viz import fonts, words

__all__ = [
    "LOCALITY_CHANNELS",
    "LOCALITY_GROUPS",
    "LOCALITY_KERNELS",
    "LOCALITY_MODELS",
    "LOCALITY_SIDE",
    "LOCALITY_SIZE",
    "PARAMS",
    "LocalityNet",
    "RepMLPBlock",
    "add_conv_to_fc_",
    "conv_to_fc",
    "conv_to_fc_tensor",
    "fc_parameter_count",
    "fuse_bn",
    "fuse_bn_tensor",
    "locality_box",
    "locality_map",
    "locality_net",
    "locality_share",
    "mass_inside",
    "pad_kernel",
    "parameter_calculator",
    "run",
]


# --------------------------------------------------------------------------------------------- #
# the lesson: run(image, **params) -> LessonResult

NOTES_EXAMPLES = (
    # (what, c_in, size_in, c_out, size_out, parts): the three numbers of the notes
    ("layer 1: 3×112×112 → 32×56×56, one FC", 3, 112, 32, 56, 1),
    ("layer 2: 32×56×56 → 64×28×28, one FC", 32, 56, 64, 28, 1),
    ("layer 1 cut into four 56×56 partitions (shared FC)", 3, 112, 32, 56, 2),
)
KERNEL_CHOICES = ("none", "1", "1,3", "1,3,5", "1,3,5,7", "3,5,7")
#: the Chinese of the text drawn into the RepMLP figures (tile names, titles, the captions above the maps)
ZH = words.register({
    "your photo, shrunk": "你的照片（缩小后）",
    "in: {n}": "输入：{n}",
    "gray": "灰度",
    "edges": "边缘",
    "out {i}": "输出 {i}",
    "|diff| ch {i}": "|差值|，通道 {i}",
    "features ch 0": "特征的通道 0",
    "train-time out ch 0": "训练时的输出，通道 0",
    "deployed out ch 0": "部署后的输出，通道 0",
    "merged FC (what is deployed)": "合并后的 FC（部署的就是它）",
    "FC (+BN folded)": "FC（已折叠 BN）",
    "merged = sum": "合并 = 求和",
    "conv {k}×{k} (+BN) as FC": "conv {k}×{k}（+BN）写成 FC",
    "plain FC": "纯 FC",
    "FC + conv 1/3/5/7, merged": "FC + conv 1/3/5/7，合并后",
    "FC + conv, merged": "FC + conv，合并后",
    "{label}: {p:.0f}% of |w| in the 7x7 box": "{label}：{p:.0f}% 的 |w| 在 7×7 框内",
    "all 6400 outputs: {p:.0f}% in 7x7 windows (even: {q:.0f}%)":
        "全部 6400 个输出：{p:.0f}% 在 7×7 窗口内（均匀分布：{q:.0f}%）",
    "{label}: mean |w| over all 512 channel pairs": "{label}：全部 512 对通道的平均 |w|",
    "{p:.0f}% of it in the 7x7 box (even spread: {q:.0f}%)":
        "其中 {p:.0f}% 在 7×7 框内（均匀分布：{q:.0f}%）",
    "Upload shrunk to {H}×{W}, {c} channel(s), {p}×{p} partitions of {h}×{w}":
        "上传的图缩小到 {H}×{W}，{c} 个通道，{p}×{p} 个 {h}×{w} 的分块",
    "Training-time block: FC+BN plus conv+BN branches (eval mode)":
        "训练时的块：FC+BN 加上 conv+BN 分支（eval 模式）",
    "Deployed block: one grouped FC (after locality_injection)":
        "部署的块：一个分组 FC（locality_injection 之后）",
    "|train − deploy|, max {a:.2e} (float32), {b:.1e} (float64)":
        "|训练 − 部署|，最大 {a:.2e}（float32），{b:.1e}（float64）",
    "Trained 64×10×10 block on your photo: before/after merging, max |Δ| {d:.1e}":
        "训练好的 64×10×10 块作用在你的照片上：合并前后对比，最大 |Δ| {d:.1e}",
    # the FC-structure chart (plotly, drawn by the browser)
    "FC matrix — {name}": "FC 矩阵 — {name}",
    "weight": "权重",
    "out %{y} · in %{x}<br>w = %{z:.4f}": "输出 %{y} · 输入 %{x}<br>w = %{z:.4f}",
    "input index c·h·w + y·w + x": "输入序号 c·h·w + y·w + x",
    "output index o·h·w + y·w + x": "输出序号 o·h·w + y·w + x",
})

FEATURE_NAMES = {1: ("gray",), 2: ("gray", "edges"), 3: ("R", "G", "B"), 4: ("R", "G", "B", "edges")}

PARAMS: list[Param] = [
    Param("channels", "int", 3, "Channels of the feature map", "1 gray · 2 gray+edges · 3 RGB · 4 RGB+edges",
          1, 4, 1),
    Param("partition_h", "int", 6, "Partition height h", "rows of one partition", 2, 8, 1),
    Param("partition_w", "int", 6, "Partition width w", "columns of one partition (h ≠ w is fine)", 2, 8, 1),
    Param("parts", "int", 3, "Partitions per side", "the map is (parts·h) × (parts·w)", 1, 4, 1),
    Param("kernels", "choice", "1,3,5", "Conv branches (local perceptron)", "kernel sizes merged into the FC",
          choices=KERNEL_CHOICES),
    Param("groups", "int", 1, "Groups g", "grouped FC and convs; must divide the channels", 1, 4, 1),
    Param("seed", "int", 0, "Seed of the demo block's weights", "", 0, 9999, 1),
    Param("pixel_row", "int", 6, "Output pixel row (trained 10×10 FC)", "", 0, LOCALITY_SIDE - 1, 1),
    Param("pixel_col", "int", 6, "Output pixel column (trained 10×10 FC)", "", 0, LOCALITY_SIDE - 1, 1),
    Param("weights", "choice", "auto", "Weights of the trained locality models", "",
          choices=("auto", "embedded", "random")),
]
_PARAMS = {p.name: p for p in PARAMS}


def parse_kernels(text: str) -> tuple[int, ...]:
    return () if text in ("none", "", None) else tuple(int(k) for k in str(text).split(","))


def downscale(image: Any, height: int, width: int) -> np.ndarray:
    """The upload (any input :func:`core.images.load_image` takes) shrunk to height×width, RGB uint8."""
    return cv2.resize(load_image(image), (width, height), interpolation=cv2.INTER_AREA)


def feature_map(image: Any, channels: int, height: int, width: int) -> np.ndarray:
    """The upload shrunk to height×width as a (C, H, W) float map (each channel zero-mean, unit-std)."""
    small = downscale(image, height, width).astype(np.float32) / 255.0
    gray = small @ np.array([0.299, 0.587, 0.114], np.float32)
    edges = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    planes = {"R": small[..., 0], "G": small[..., 1], "B": small[..., 2], "gray": gray, "edges": edges}
    maps = np.stack([planes[name] for name in FEATURE_NAMES[channels]])
    mean = maps.mean(axis=(1, 2), keepdims=True)
    std = maps.std(axis=(1, 2), keepdims=True)
    return (maps - mean) / np.where(std > 1e-6, std, 1.0)


def demo_block(channels: int, h: int, w: int, parts: int, kernels: Sequence[int], groups: int,
               seed: int) -> RepMLPBlock:
    """A RepMLP block with seeded weights and non-trivial BN statistics (as after training), eval mode.

    Random running means/variances and affine BN parameters make every fusion step change the
    numbers, so the equivalence shown is not an accident of identity BNs.
    """
    gen = torch.Generator().manual_seed(int(seed))
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        block = RepMLPBlock(channels, h, w, kernels=kernels, groups=groups, reduction=2,
                            H=parts * h, W=parts * w)
    finally:
        torch.random.set_rng_state(torch_state)
    with torch.no_grad():
        for module in block.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                module.running_var.copy_(0.5 + 1.5 * torch.rand(n, generator=gen))
                module.weight.copy_(0.5 + torch.rand(n, generator=gen))
                module.bias.copy_(0.4 * torch.rand(n, generator=gen) - 0.2)
    return block.eval()


def bn_fusion_steps(block: RepMLPBlock, channel: int = 0) -> list[dict[str, Any]]:
    """BN fusion of the largest conv branch for one output channel, as numbered steps."""
    if not block.local:
        return []
    name = f"conv{max(block.kernels)}"
    conv, bn = block.local[name].conv, block.local[name].bn
    k = conv.kernel_size[0]
    with torch.no_grad():
        gamma, beta = float(bn.weight[channel]), float(bn.bias[channel])
        mean, var, eps = float(bn.running_mean[channel]), float(bn.running_var[channel]), float(bn.eps)
        sigma = (var + eps) ** 0.5
        tap = float(conv.weight[channel, 0, k // 2, k // 2])
        fused_w, fused_b = fuse_bn_tensor(conv.weight, None, bn)
        x = torch.randn(1, conv.in_channels, 5, 5, generator=torch.Generator().manual_seed(1))
        check = (bn(conv(x)) - F.conv2d(x, fused_w, fused_b, padding=k // 2, groups=conv.groups)).abs().max()
    return [
        {"step": "branch", "value": f"{name} (BN of output channel {channel})"},
        {"step": "γ (BN weight)", "value": gamma},
        {"step": "β (BN bias)", "value": beta},
        {"step": "μ (running mean)", "value": mean},
        {"step": "var (running variance)", "value": var},
        {"step": "eps", "value": eps},
        {"step": "σ = √(var + eps)", "value": sigma},
        {"step": "t = γ / σ", "value": gamma / sigma},
        {"step": "W: centre tap of the kernel, before", "value": tap},
        {"step": "W′ = W·t (the same tap, after)", "value": float(fused_w[channel, 0, k // 2, k // 2])},
        {"step": "b′ = β − μ·t", "value": float(fused_b[channel])},
        {"step": "max |BN(conv(x)) − conv′(x)| on a random input", "value": float(check)},
    ]


_TRAINED: dict[str, Any] = {}


def trained_locality(weights: str = "auto") -> dict[str, Any]:
    """Both trained locality models (through the zoo), the deployed copy of the rep block, and the
    FC weights of each as (C·h·w, C/g·h·w) matrices. Cached per weights mode; never modifies the
    shared models."""
    import copy

    from core.zoo import load_model

    if weights in _TRAINED:
        return _TRAINED[weights]
    fc = load_model(LOCALITY_MODELS["fc"], weights)
    rep = load_model(LOCALITY_MODELS["rep"], weights)
    deployed = copy.deepcopy(rep.model.block).locality_injection()
    with torch.no_grad():
        rep_weight = deployed.partition_fc.weight
        entry = {
            "fc": fc, "rep": rep, "deployed_block": deployed,
            "fc_weight": fc.model.block.equivalent_fc()[0].clone(),
            "rep_weight": rep_weight.reshape(rep_weight.shape[0], -1).clone(),
        }
    (entry_fc, chance), (entry_rep, _) = (locality_share(fc.model.block), locality_share(deployed))
    entry["shares"] = {"fc": entry_fc, "rep": entry_rep, "chance": chance}
    _TRAINED[weights] = entry
    return entry


def _weight_map(weight: torch.Tensor, pixel: tuple[int, int], side: int = LOCALITY_SIDE) -> np.ndarray:
    row = pixel[0] * side + pixel[1]  # output channel 0, input channel 0 (first of its group)
    return _numpy(weight[row, :side * side].reshape(side, side)).astype(np.float64)


_ASCII = str.maketrans({"×": "x", "−": "-", "→": "->", "Δ": "d", "·": "*", "–": "-", "—": "-"})


def ascii_text(text: str) -> str:
    """Text for OpenCV's Hershey fonts, which cannot draw ×, −, →, Δ …"""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def _mean_weight_map(weight: torch.Tensor, pixel: tuple[int, int], side: int = LOCALITY_SIDE) -> np.ndarray:
    """|w| from one output pixel to every input pixel, averaged over all (output, input) channel pairs."""
    per = weight.shape[1] // (side * side)
    a = weight.abs().reshape(-1, side, side, per, side, side)[:, pixel[0], pixel[1]]
    return _numpy(a.mean(dim=(0, 1))).astype(np.float64)


def run(image: Any, channels: int = 3, partition_h: int = 6, partition_w: int = 6, parts: int = 3,
        kernels: str = "1,3,5", groups: int = 1, seed: int = 0, pixel_row: int = 6, pixel_col: int = 6,
        weights: str = "auto") -> LessonResult:
    """The RepMLP lesson on one image: a demo block before/after conversion, its FC matrices, BN
    fusion in numbers, the trained locality maps and the notes' parameter arithmetic."""
    from core.viz import label_strip
    from core.viz.repmlp_viz import (
        fc_structure_figure,
        locality_image,
        map_strip,
        matrix_image,
        tiles_row,
    )

    channels = _PARAMS["channels"].check(channels)
    h = _PARAMS["partition_h"].check(partition_h)
    w = _PARAMS["partition_w"].check(partition_w)
    parts = _PARAMS["parts"].check(parts)
    kernel_sizes = parse_kernels(_PARAMS["kernels"].check(kernels))
    groups = _PARAMS["groups"].check(groups)
    seed = _PARAMS["seed"].check(seed)
    pixel = (_PARAMS["pixel_row"].check(pixel_row), _PARAMS["pixel_col"].check(pixel_col))
    weights = _PARAMS["weights"].check(weights)
    if channels % groups:
        raise ValueError(f"Groups g = {groups} must divide the {channels} channels.")

    # 1. the demo block on the downscaled upload, before and after locality injection
    H, W = parts * h, parts * w
    image = load_image(image)  # decode the upload once; every view below reads this array
    x_np = feature_map(image, channels, H, W)
    block = demo_block(channels, h, w, parts, kernel_sizes, groups, seed)
    x = torch.from_numpy(x_np)[None]
    block64 = copy_block(block).double()
    with torch.no_grad():
        matrices = block.dense_matrices()
        y_train = block(x)
        y_train64 = block64(x.double())
        bn_steps = bn_fusion_steps(block)
        params_train = sum(p.numel() for p in block.parameters())
        block.locality_injection()
        block64.locality_injection()
        y_deploy = block(x)
        y_deploy64 = block64(x.double())
    params_deploy = sum(p.numel() for p in block.parameters())
    delta = (y_train - y_deploy).abs()
    max_delta = float(delta.max())
    max_delta64 = float((y_train64 - y_deploy64).abs().max())
    names = FEATURE_NAMES[channels]
    lim = float(max(y_train.abs().max(), 1e-6))
    images: dict[str, np.ndarray] = {}
    captions: dict[str, str] = {}
    say = words.say  # the words drawn into the figures, in the page's language
    photo = map_strip(np.zeros((1, H, W)), [say("your photo, shrunk")], (h, w), tile=220)
    photo[22:] = cv2.resize(downscale(image, H, W), (photo.shape[1], photo.shape[0] - 22),
                            interpolation=cv2.INTER_NEAREST)
    images["input_map"] = tiles_row(
        [photo, map_strip(x_np, [say("in: {n}", n=say(n)) for n in names], (h, w), tile=220, cmap="viridis",
                          colorbar="x")],
        ["", ""], height=photo.shape[0])
    captions["input_map"] = say("Upload shrunk to {H}×{W}, {c} channel(s), {p}×{p} partitions of {h}×{w}",
                                H=H, W=W, c=channels, p=parts, h=h, w=w)
    outs = [say("out {i}", i=i) for i in range(channels)]
    images["output_train"] = map_strip(_numpy(y_train[0]), outs, (h, w),
                                       tile=220, vmin=-lim, vmax=lim, signed=True, colorbar="y")
    captions["output_train"] = say("Training-time block: FC+BN plus conv+BN branches (eval mode)")
    images["output_deploy"] = map_strip(_numpy(y_deploy[0]), outs, (h, w),
                                        tile=220, vmin=-lim, vmax=lim, signed=True, colorbar="y")
    captions["output_deploy"] = say("Deployed block: one grouped FC (after locality_injection)")
    dmax = max(max_delta, 1e-12)
    diffs = [say("|diff| ch {i}", i=i) for i in range(channels)]
    images["difference"] = map_strip(_numpy(delta[0]), diffs, (h, w),
                                     tile=220, cmap="magma", vmin=0.0, vmax=dmax, colorbar="|diff|")
    captions["difference"] = say("|train − deploy|, max {a:.2e} (float32), {b:.1e} (float64)", a=max_delta,
                                 b=max_delta64)
    block_size = h * w
    images["fc_merged"] = matrix_image(matrices["merged"], block_size,
                                       title=say("merged FC (what is deployed)"))
    captions["fc_merged"] = f"Merged FC matrix {matrices['merged'].shape[0]}×{matrices['merged'].shape[1]}"
    titles = {"fc": say("FC (+BN folded)"), "merged": say("merged = sum")}
    titles.update({f"conv{k}": say("conv {k}×{k} (+BN) as FC", k=k) for k in kernel_sizes})
    figure = fc_structure_figure(matrices, block_size, titles)

    # 2. the trained locality experiment
    trained = trained_locality(weights)
    box = locality_box(pixel, max(LOCALITY_KERNELS))
    maps = {v: _weight_map(trained[f"{v}_weight"], pixel) for v in ("fc", "rep")}
    mass = {v: mass_inside(m, box) for v, m in maps.items()}
    shares = trained["shares"]
    inside_cells = (box[1] - box[0] + 1) * (box[3] - box[2] + 1)
    for variant, label in (("fc", "plain FC"), ("rep", "FC + conv 1/3/5/7, merged")):
        source = trained[variant].source
        images[f"locality_{variant}"] = locality_image(
            maps[variant], box, pixel, say("{label}: {p:.0f}% of |w| in the 7x7 box", label=say(label),
                                           p=100 * mass[variant]),
            subtitle=say("all 6400 outputs: {p:.0f}% in 7x7 windows (even: {q:.0f}%)",
                         p=100 * shares[variant], q=100 * shares["chance"]))
        captions[f"locality_{variant}"] = (f"Trained {label} ({source} weights): output (ch 0, {pixel}) → "
                                           "input ch 0")
    for variant, label in (("fc", "plain FC"), ("rep", "FC + conv, merged")):
        mean_map = _mean_weight_map(trained[f"{variant}_weight"], pixel)
        images[f"locality_{variant}_mean"] = locality_image(
            mean_map, box, pixel, say("{label}: mean |w| over all 512 channel pairs", label=say(label)),
            subtitle=say("{p:.0f}% of it in the 7x7 box (even spread: {q:.0f}%)",
                         p=100 * mass_inside(mean_map, box), q=100 * inside_cells / LOCALITY_SIDE ** 2))
        captions[f"locality_{variant}_mean"] = (f"Trained {label}: output pixel {pixel} → every input pixel, "
                                                "|w| averaged over the 64 x 8 channel pairs")
    from core.zoo import preprocess

    rep = trained["rep"]
    with torch.no_grad():
        inp = preprocess(rep, image)
        feats = rep.model.features(inp)
        out_train = rep.model.block(feats)
        out_deploy = trained["deployed_block"](feats)
        trained_delta = float((out_train - out_deploy).abs().max())
        logits = {v: trained[v].model(inp)[0] for v in ("fc", "rep")}
    f0 = _numpy(feats[0, 0])
    images["trained_check"] = tiles_row(
        [map_strip(f0[None], [say("features ch 0")], (10, 10), tile=200, colorbar="x"),
         map_strip(_numpy(out_train[0, :1]), [say("train-time out ch 0")], (10, 10), tile=200, signed=True,
                   colorbar="y"),
         map_strip(_numpy(out_deploy[0, :1]), [say("deployed out ch 0")], (10, 10), tile=200, signed=True,
                   colorbar="y")],
        ["", "", ""], height=222)
    captions["trained_check"] = say(
        "Trained 64×10×10 block on your photo: before/after merging, max |Δ| {d:.1e}", d=trained_delta)

    # the English captions as before (OpenCV's ASCII); Chinese ones are drawn in the bundled CJK subset
    captions = {k: v if fonts.has_cjk(v) else ascii_text(v) for k, v in captions.items()}
    for key in ("input_map", "output_train", "output_deploy", "difference", "trained_check"):
        images[key] = label_strip(images[key], captions[key], height=28)
    labels = trained["rep"].labels or tuple(str(i) for i in range(8))
    summary = {
        "demo_block": {
            "input": [channels, H, W], "partition": [h, w], "partitions": parts * parts,
            "kernels": list(kernel_sizes), "groups": groups,
            "max_abs_diff_float32": max_delta, "max_abs_diff_float64": max_delta64,
            "relative_diff_float32": max_delta / lim,
            "fc_matrix_shape": list(matrices["merged"].shape),
            "params_train": params_train, "params_deploy": params_deploy,
        },
        "bn_fusion": bn_steps,
        "locality": {
            "pixel": list(pixel), "box_rows_cols": list(box), "cells_in_box": inside_cells,
            "uniform_share": inside_cells / LOCALITY_SIDE ** 2,
            "mass_in_box_plain_fc": mass["fc"], "mass_in_box_rep_fc": mass["rep"],
            "mass_in_window_all_outputs_plain_fc": shares["fc"],
            "mass_in_window_all_outputs_rep_fc": shares["rep"],
            "mass_in_window_all_outputs_even_spread": shares["chance"],
            "weights": {v: trained[v].source for v in ("fc", "rep")},
            "trained_block_max_abs_diff": trained_delta,
            "prediction_plain_fc": labels[int(logits["fc"].argmax())],
            "prediction_rep_fc": labels[int(logits["rep"].argmax())],
        },
        "parameters": {what: fc_parameter_count(ci, si, si, co, so, so, parts=p)
                       for what, ci, si, co, so, p in NOTES_EXAMPLES},
    }
    return LessonResult(images=images, summary=summary, figures={"fc_structure": figure}, captions=captions)


def copy_block(block: RepMLPBlock) -> RepMLPBlock:
    import copy

    return copy.deepcopy(block)
