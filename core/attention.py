"""Attention maps of ViT / DeiT and Swin, extracted exactly from timm models.

timm computes attention with ``F.scaled_dot_product_attention`` when it can ("fused attention"); the
attention matrix then never exists as a tensor and hooks on ``attn_drop`` see nothing. LensLab does
not switch fusion off on the shared model (other students' requests run on it concurrently).
Instead :func:`extractor` builds, once per model, a *view*: a structural copy whose parameters and
buffers are the very same tensors (no memory is copied), with fusion switched off on the copy only,
read by thread-local forward hooks (see ``_Extractor``). The hooks keep no shared state, so one
extractor serves every thread, and it returns the softmax of every block and the logits in a
single forward pass.

:func:`run` is the lesson: CLS→patch attention for any layer and head, the head mean, attention
rollout (Abnar & Zuidema), the attention of a clicked patch, per-head entropy and maximum weight,
top-5 predictions, and for Swin the window-attention row of the clicked token with and without the
shifted-window mask.
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch

from core import swin as swin_lib
from core import zoo
from core.images import load_image
from core.lesson import LazyFigures, LessonResult, Param
from core.viz import add_colorbar, colorize, overlay_heatmap, words
from core.viz.attention_viz import annotated_matrix, draw_cell, draw_lines, title_above
from core.viz.draw import colorbar_extra

#: the Chinese of the text drawn into the attention figures (the page's panel titles too)
ZH = words.register({
    "weight": "权重",
    "CLS → patches · layer {layer}, head {head}": "CLS → patch · 第 {layer} 层，第 {head} 个头",
    "CLS → patches · layer {layer}, mean of {heads} heads": "CLS → patch · 第 {layer} 层，{heads} 个头的均值",
    "Attention rollout over {depth} layers (head {fusion}, discard {ratio:.2f})":
        "{depth} 层的注意力 rollout（多头融合 {fusion}，丢弃比例 {ratio:.2f}）",
    "Patch ({row}, {col}) → patches · layer {layer}, head {head}":
        "patch ({row}, {col}) → patch · 第 {layer} 层，第 {head} 个头",
    "shift {shift}": "移位 {shift}",
    "no shift": "不移位",
    "Swin stage {stage}, block {block} ({shift}): token ({y}, {x}) with the mask":
        "Swin 第 {stage} 阶段第 {block} 块（{shift}）：token ({y}, {x})，加掩码",
    "The same row without the mask (keys from other regions leak in)":
        "同一行不加掩码（其他区域的 key 混了进来）",
    "Window rows, rolled frame: with mask | without (✕ = other region)":
        "窗口内的注意力行（滚动后的坐标）：加掩码 | 不加（× = 其他区域）",
    "with mask": "加掩码",
    "without mask": "不加掩码",
    # the page's panel titles (apps/attention.py)
    "stage {stage}, block {block} ({shift})": "第 {stage} 阶段第 {block} 块（{shift}）",
    "rollout · head {fusion}, discard {ratio:.2f}": "rollout · 多头融合 {fusion}，丢弃比例 {ratio:.2f}",
    "with the mask · {where}": "加掩码 · {where}",
    "without the mask: other regions leak in": "不加掩码：其他区域的 key 混了进来",
    # the entropy chart (plotly, drawn by the browser)
    "Entropy of the CLS attention (low = focused)": "CLS 注意力的熵（低 = 集中）",
    "bits": "比特",
    "layer %{y}, head %{x}<br>CLS entropy %{z:.2f} bits<br>max weight %{customdata:.3f}":
        "层 %{y}，头 %{x}<br>CLS 熵 %{z:.2f} 比特<br>最大权重 %{customdata:.3f}",
})

__all__ = [
    "FUSIONS",
    "PARAMS",
    "SWIN_MODELS",
    "VIT_MODELS",
    "Extraction",
    "crop_box",
    "data_config",
    "dims",
    "entropy_figure",
    "extract",
    "extractor",
    "head_stats",
    "model_view",
    "rollout",
    "run",
    "swin_window_row",
]

VIEW = 448  # side of the square "what the model sees" view the overlays are drawn on
PANEL_WIDTH = VIEW + colorbar_extra()  # width of each map figure: the view plus its colour bar
VIT_MODELS = ("vit-shapes", "vit-small", "deit-small")
SWIN_MODELS = ("swin-shapes", "swin-tiny")
FUSIONS = ("mean", "max", "min")


# --------------------------------------------------------------------------------------------- #
# what the model sees: the crop of the photo that preprocessing keeps


def data_config(loaded: zoo.Loaded) -> dict[str, Any]:
    """The preprocessing config :func:`core.zoo.preprocess` uses for this model."""
    if loaded.source == "hub" and loaded.entry.builder == "timm":
        import timm.data

        return dict(timm.data.resolve_data_config({}, model=loaded.model))
    e = loaded.entry
    return {"input_size": (3, e.input_size, e.input_size), "interpolation": "bilinear", "mean": e.mean,
            "std": e.std, "crop_pct": e.crop_pct, "crop_mode": "center"}


def crop_box(height: int, width: int, config: dict[str, Any]) -> tuple[float, float, float, float]:
    """The (x0, y0, x1, y1) box of the original image that timm's eval transform keeps.

    timm resizes the short side to ``floor(S / crop_pct)`` (the long side to ``int(size·long/short)``,
    as torchvision does) and centre-crops S×S with ``round((size − S)/2)`` offsets.
    """
    size = int(config["input_size"][-1])
    scale_size = math.floor(size / float(config.get("crop_pct") or 0.875))
    if width <= height:
        rw, rh = scale_size, int(scale_size * height / width)
    else:
        rh, rw = scale_size, int(scale_size * width / height)
    top, left = int(round((rh - size) / 2.0)), int(round((rw - size) / 2.0))
    sx, sy = rw / width, rh / height
    return left / sx, top / sy, (left + size) / sx, (top + size) / sy


def model_view(image: Any, loaded: zoo.Loaded, size: int = VIEW) -> tuple[np.ndarray, tuple[float, ...]]:
    """The part of the photo the model sees, rendered at ``size``×``size`` from the full-resolution photo."""
    rgb = load_image(image)
    x0, y0, x1, y1 = crop_box(rgb.shape[0], rgb.shape[1], data_config(loaded))
    sx, sy = size / (x1 - x0), size / (y1 - y0)
    affine = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
    interp = cv2.INTER_AREA if sx < 1 else cv2.INTER_LINEAR
    view = cv2.warpAffine(rgb, affine, (size, size), flags=interp, borderMode=cv2.BORDER_REFLECT)
    return view, (x0, y0, x1, y1)


# --------------------------------------------------------------------------------------------- #
# extraction


@dataclass
class Extraction:
    """One forward pass: the attention of every block (in order), the logits, and Swin's qkv."""

    names: list[str]
    maps: list[np.ndarray]  # ViT: (heads, N, N); Swin: (windows, heads, M², M²)
    logits: np.ndarray
    qkv: dict[str, np.ndarray] = field(default_factory=dict)  # Swin only: block name -> (windows, M², 3C)


class _Extractor:
    """Attention of every block from one forward pass of an unfused, weight-sharing copy.

    Forward hooks on the copy's ``attn_drop`` modules (whose input is the softmax once fused attention
    is off; identity in eval mode) and, for Swin, on ``attn.qkv`` write into *thread-local* storage, so
    concurrent requests never see each other's maps. An earlier version traced the copy with torch.fx
    (``AttentionExtract(method="fx")``); tracing patches ``nn.Module.__call__`` process-wide, and a
    request running any module at that moment (e.g. torchvision's preprocessing) failed.
    """

    def __init__(self, model: torch.nn.Module):
        # Share every parameter and buffer with the cached model; copy only the module objects.
        memo = {id(t): t for t in [*model.parameters(), *model.buffers()]}
        self.net = copy.deepcopy(model, memo)
        for module in self.net.modules():
            if hasattr(module, "fused_attn"):
                module.fused_attn = False  # on the copy only
        self.windowed = hasattr(model, "layers")  # Swin: attention per window, q/k kept for recomputation
        self._local = threading.local()
        self.attn_modules: list[str] = []
        self.qkv_modules: list[str] = []
        for name, module in self.net.named_modules():
            if name.endswith("attn.attn_drop"):
                self.attn_modules.append(name)
            elif self.windowed and name.endswith("attn.qkv"):
                self.qkv_modules.append(name)
            else:
                continue
            module.register_forward_hook(self._capture(name))
        if not self.attn_modules:
            raise ValueError(f"{type(model).__name__} has no timm attention blocks to inspect")

    def _capture(self, name: str):
        def hook(module: torch.nn.Module, inputs: Any, output: torch.Tensor) -> None:
            store = getattr(self._local, "store", None)
            if store is not None:
                store[name] = output.detach()

        return hook

    def __call__(self, x: torch.Tensor) -> Extraction:
        self._local.store = {}
        try:
            with torch.inference_mode():
                logits_t = self.net(x)
            out = self._local.store
        finally:
            self._local.store = None
        # ViT: (1, heads, N, N) -> (heads, N, N); Swin: (windows·1, heads, M², M²) kept as it is
        maps = [out[n].float().numpy() if self.windowed else out[n][0].float().numpy()
                for n in self.attn_modules]
        qkv = {n.removesuffix(".qkv"): out[n].float().numpy() for n in self.qkv_modules}
        logits = logits_t.float().reshape(x.shape[0], -1)[0].numpy()
        return Extraction([n.removesuffix(".attn_drop") for n in self.attn_modules], maps, logits, qkv)


_EXTRACTORS: weakref.WeakKeyDictionary[torch.nn.Module, _Extractor] = weakref.WeakKeyDictionary()
_EXTRACTOR_LOCK = threading.Lock()


def extractor(model: torch.nn.Module) -> _Extractor:
    """The (cached, thread-safe) attention extractor of a model; the model itself is never modified."""
    with _EXTRACTOR_LOCK:
        ex = _EXTRACTORS.get(model)
        if ex is None:
            ex = _EXTRACTORS[model] = _Extractor(model)
        return ex


def extract(model: torch.nn.Module, x: torch.Tensor) -> Extraction:
    """Attention of every block and the logits for a preprocessed batch of one image."""
    return extractor(model)(x)


_RESULTS: OrderedDict[tuple[Any, ...], tuple[Extraction, np.ndarray]] = OrderedDict()
_RESULTS_LOCK = threading.Lock()
_RESULTS_MAX = 6


def _extract_cached(loaded: zoo.Loaded, rgb: np.ndarray) -> Extraction:
    """Moving a slider must not recompute the forward pass: keep the last few extractions."""
    digest = hashlib.blake2b(rgb.tobytes(), digest_size=16, person=str(rgb.shape).encode()[:16]).hexdigest()
    key = (id(loaded.model), loaded.source, digest)
    with _RESULTS_LOCK:
        if key in _RESULTS:
            _RESULTS.move_to_end(key)
            return _RESULTS[key][0]
    result = extract(loaded.model, zoo.preprocess(loaded, rgb))
    with _RESULTS_LOCK:
        _RESULTS[key] = (result, rgb)
        while len(_RESULTS) > _RESULTS_MAX:
            _RESULTS.popitem(last=False)
    return result


def clear_cache() -> None:
    """Forget cached extractions (benchmarks use it to time the full computation)."""
    with _RESULTS_LOCK:
        _RESULTS.clear()


# --------------------------------------------------------------------------------------------- #
# the algorithms on attention matrices


def rollout(maps: list[np.ndarray], fusion: str = "mean", discard_ratio: float = 0.0) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) over blocks given as (heads, N, N) arrays.

    Per block: fuse the heads (mean / max / min); optionally zero the ``discard_ratio`` smallest
    entries (never the CLS→CLS one); add the residual ``A' = (A + I) / 2`` and renormalise rows;
    then multiply over blocks, ``R = A'_L ··· A'_1``. Returns the (N, N) matrix; row 0 is the CLS row.
    """
    if fusion not in FUSIONS:
        raise ValueError(f"Head fusion must be one of {', '.join(FUSIONS)}; got {fusion!r}.")
    if not 0.0 <= discard_ratio < 1.0:
        raise ValueError(f"The discard ratio must be in [0, 1); got {discard_ratio}.")
    n = maps[0].shape[-1]
    eye = np.eye(n, dtype=np.float64)
    result = eye.copy()
    for a in maps:
        fused = getattr(np, fusion)(np.asarray(a, np.float64), axis=0)
        if discard_ratio > 0:
            flat = fused.reshape(-1).copy()
            k = int(flat.size * discard_ratio)
            order = np.argsort(flat, kind="stable")[:k]
            flat[order[order != 0]] = 0.0
            fused = flat.reshape(n, n)
        a2 = (fused + eye) / 2.0
        a2 = a2 / a2.sum(axis=-1, keepdims=True)
        result = a2 @ result
    return result


def head_stats(a: np.ndarray, prefix: int = 1) -> dict[str, np.ndarray]:
    """Per-head statistics of one block's (heads, N, N) attention.

    ``cls_entropy``: entropy (bits) of the CLS row; ``mean_entropy``: entropy averaged over all
    query rows; ``max_weight``: the largest CLS→patch weight; ``effective``: 2^entropy, the number of
    equally weighted tokens with the same entropy.
    """
    p = np.clip(np.asarray(a, np.float64), 1e-12, 1.0)
    ent = -(p * np.log2(p)).sum(-1)  # (heads, N)
    return {
        "cls_entropy": ent[:, 0],
        "mean_entropy": ent.mean(-1),
        "max_weight": np.asarray(a)[:, 0, prefix:].max(-1),
        "effective": 2.0 ** ent[:, 0],
    }


@dataclass
class WindowRow:
    """The attention row of one Swin token inside its window, with and without the shift mask."""

    window: int  # index of the window (row-major over the window grid of the rolled map)
    query: int  # index of the query inside the window
    masked: np.ndarray  # (M²,) what the model computes
    unmasked: np.ndarray  # (M²,) the same logits without the mask
    keys_yx: np.ndarray  # (M², 2) original (un-rolled) token coordinates of the keys; -1 = padding
    regions: np.ndarray  # (M²,) region label of each key


def swin_window_row(model: torch.nn.Module, ex: Extraction, stage: int, block: int, head: int,
                    ty: int, tx: int) -> WindowRow:
    """Window attention row of the token at original grid position (ty, tx); ``head`` 1-based.

    In a shifted block the token first moves to ``((ty − s) mod H, (tx − s) mod W)`` of the rolled
    map. ``masked`` is the extracted softmax; ``unmasked`` recomputes ``softmax(q·kᵀ·scale + B)``
    from the block's own q and k without the −100 mask.
    """
    info = swin_lib.block_info(model, stage, block)
    name = f"layers.{stage - 1}.blocks.{block - 1}.attn"
    idx = ex.names.index(name)
    attn = ex.maps[idx]  # (nW, heads, N, N)
    if not 1 <= head <= info.heads:
        raise ValueError(f"This block has {info.heads} heads; head must be between 1 and {info.heads}.")
    m, s = info.window, info.shift
    hp, wp = info.padded
    sy, sx = (ty - s) % info.height, (tx - s) % info.width
    win = (sy // m) * (wp // m) + (sx // m)
    q = (sy % m) * m + (sx % m)
    masked = attn[win, head - 1, q].astype(np.float64)

    module = model.layers[stage - 1].blocks[block - 1].attn
    qkv = torch.from_numpy(ex.qkv[name][win])  # (N, 3C)
    n = qkv.shape[0]
    qkv = qkv.reshape(n, 3, info.heads, -1).permute(1, 2, 0, 3)
    qh, kh = qkv[0, head - 1], qkv[1, head - 1]
    with torch.inference_mode():
        bias = module._get_rel_pos_bias()[0, head - 1].float()
        logits = (qh * module.scale) @ kh.T + bias
        unmasked = torch.softmax(logits.double()[q], -1).numpy()

    wr, wc = divmod(win, wp // m)
    ky = wr * m + np.repeat(np.arange(m), m)
    kx = wc * m + np.tile(np.arange(m), m)
    valid = (ky < info.height) & (kx < info.width)
    oy = np.where(valid, (ky + s) % info.height, -1)
    ox = np.where(valid, (kx + s) % info.width, -1)
    regions = swin_lib.region_ids(hp, wp, m, s)[ky, kx] if s else np.zeros(m * m, np.int64)
    return WindowRow(win, q, masked, unmasked, np.stack([oy, ox], 1), regions)


# --------------------------------------------------------------------------------------------- #
# the lesson

PARAMS: list[Param] = [
    Param("model", "choice", "vit-small", "ViT / DeiT model", choices=VIT_MODELS),
    Param("weights", "choice", "auto", "Weights", choices=zoo.WEIGHT_MODES),
    Param("layer", "int", 0, "Layer", "1 = first block; 0 = the last block.", 0, 24, 1),
    Param("head", "int", 1, "Head", "1-based head index.", 1, 16, 1),
    Param("fusion", "choice", "mean", "Rollout head fusion",
          "mean is Abnar & Zuidema's; max and min come from vit-explain.", choices=FUSIONS),
    Param("discard_ratio", "float", 0.0, "Rollout discard ratio",
          "Fraction of the smallest fused weights set to 0 in every block (never CLS→CLS) before the "
          "residual is added — vit-explain's option, not in the paper.", 0.0, 0.99, 0.01),
    Param("query_x", "float", 0.5, "Clicked x", "Horizontal position of the clicked patch (0 = left, "
          "1 = right) in the model's view.", 0.0, 1.0, 0.001),
    # default: bottom middle — in a shifted Swin block that token's window wraps around the image edge,
    # so the mask visibly matters before the student clicks anything
    Param("query_y", "float", 0.97, "Clicked y", "Vertical position (0 = top, 1 = bottom).", 0.0, 1.0, 0.001),
    Param("swin_model", "choice", "swin-tiny", "Swin model", choices=SWIN_MODELS),
    Param("swin_weights", "choice", "auto", "Swin weights", choices=zoo.WEIGHT_MODES),
    Param("swin_stage", "int", 1, "Swin stage", "", 1, 4, 1),
    Param("swin_block", "int", 2, "Swin block", "Even blocks use shifted windows.", 1, 18, 1),
    Param("swin_head", "int", 1, "Swin head", "", 1, 32, 1),
    Param("smooth", "bool", False, "Smooth overlays", "Bilinear instead of hard patch edges."),
]
_P = {p.name: p for p in PARAMS}


def run(image: Any, model: str = "vit-small", weights: str = "auto", layer: int = 0, head: int = 1,
        fusion: str = "mean", discard_ratio: float = 0.0, query_x: float = 0.5, query_y: float = 0.97,
        swin_model: str = "swin-tiny", swin_weights: str = "auto", swin_stage: int = 1,
        swin_block: int = 2, swin_head: int = 1, smooth: bool = False) -> LessonResult:
    """ViT/DeiT attention (layer/head, mean, rollout, clicked patch) and Swin window attention."""
    args = {k: _P[k].check(v) for k, v in dict(
        model=model, weights=weights, layer=layer, head=head, fusion=fusion, discard_ratio=discard_ratio,
        query_x=query_x, query_y=query_y, swin_model=swin_model, swin_weights=swin_weights,
        swin_stage=swin_stage, swin_block=swin_block, swin_head=swin_head, smooth=smooth).items()}
    rgb = load_image(image)
    vit = zoo.load_model(args["model"], args["weights"])
    if not hasattr(vit.model, "blocks"):
        raise ValueError(f"{vit.entry.title} is not a ViT/DeiT; choose one of {', '.join(VIT_MODELS)}.")
    ex = _extract_cached(vit, rgb)
    depth = len(ex.maps)
    heads = ex.maps[0].shape[0]
    lay = args["layer"] or depth
    if lay > depth:
        raise ValueError(
            f"{vit.entry.title} has {depth} layers; layer must be between 1 and {depth} (0 = last).")
    hd = args["head"]
    if hd > heads:
        raise ValueError(f"{vit.entry.title} has {heads} heads; head must be between 1 and {heads}.")
    prefix = int(getattr(vit.model, "num_prefix_tokens", 1))
    gh, gw = (int(v) for v in vit.model.patch_embed.grid_size)
    view, box = model_view(rgb, vit)
    smooth = args["smooth"]
    a = ex.maps[lay - 1]  # (heads, N, N)

    cls_map = a[hd - 1, 0, prefix:].reshape(gh, gw)
    mean_map = a[:, 0, prefix:].mean(0).reshape(gh, gw)
    roll = rollout(ex.maps, args["fusion"], args["discard_ratio"])
    roll_map = roll[0, prefix:].reshape(gh, gw)
    qr = min(int(args["query_y"] * gh), gh - 1)
    qc = min(int(args["query_x"] * gw), gw - 1)
    q_token = prefix + qr * gw + qc
    patch_map = a[hd - 1, q_token, prefix:].reshape(gh, gw)

    def overlay(heat: np.ndarray, label: str, cell: tuple[int, int] | None = None) -> np.ndarray:
        lo, hi = float(heat.min()), float(heat.max())
        img = overlay_heatmap(view, heat, alpha=0.6, cmap="inferno", smooth=smooth, vmin=lo, vmax=hi)
        img = draw_lines(img, gh, gw, color=(255, 255, 255), alpha=0.18)
        if cell is not None:
            img = draw_cell(img, cell[0], cell[1], gh, gw)
        return add_colorbar(img, lo, hi, "inferno", words.say(label))

    images = {
        "cls_attention": overlay(cls_map, "weight"),
        "head_mean": overlay(mean_map, "weight"),
        "rollout": overlay(roll_map, "rollout"),
        "patch_attention": overlay(patch_map, "weight", (qr, qc)),
    }
    stats = head_stats(a, prefix)
    all_stats = [head_stats(m, prefix) for m in ex.maps]
    probs = _softmax(ex.logits)
    say = words.say  # the captions are the page's panel titles: in the page's language
    captions = {
        "cls_attention": say("CLS → patches · layer {layer}, head {head}", layer=lay, head=hd),
        "head_mean": say("CLS → patches · layer {layer}, mean of {heads} heads", layer=lay, heads=heads),
        "rollout": say("Attention rollout over {depth} layers (head {fusion}, discard {ratio:.2f})",
                       depth=depth, fusion=args["fusion"], ratio=args["discard_ratio"]),
        "patch_attention": say("Patch ({row}, {col}) → patches · layer {layer}, head {head}", row=qr + 1,
                               col=qc + 1, layer=lay, head=hd),
    }

    # Swin: the window row of the same clicked point
    sw = zoo.load_model(args["swin_model"], args["swin_weights"])
    if not hasattr(sw.model, "layers"):
        raise ValueError(f"{sw.entry.title} is not a Swin Transformer.")
    sex = _extract_cached(sw, rgb)
    info = swin_lib.block_info(sw.model, args["swin_stage"], args["swin_block"])
    ty = min(int(args["query_y"] * info.height), info.height - 1)
    tx = min(int(args["query_x"] * info.width), info.width - 1)
    row = swin_window_row(sw.model, sex, info.stage, info.block, args["swin_head"], ty, tx)
    # the same crop for both models (as for the embedded pair): the same view, rendered once
    same_crop = crop_box(rgb.shape[0], rgb.shape[1], data_config(sw)) == box
    sview = view if same_crop else model_view(rgb, sw)[0]
    vmax = float(max(row.masked.max(), row.unmasked.max()))
    images["swin_masked"] = _window_overlay(sview, info, row, row.masked, ty, tx, vmax)
    images["swin_unmasked"] = _window_overlay(sview, info, row, row.unmasked, ty, tx, vmax)
    images["swin_rows"] = _window_rows_figure(info, row, vmax)
    blocked = row.regions != row.regions[row.query]
    shift_text = say("shift {shift}", shift=info.shift) if info.shift else say("no shift")
    captions.update({
        "swin_masked": say("Swin stage {stage}, block {block} ({shift}): token ({y}, {x}) with the mask",
                           stage=info.stage, block=info.block, shift=shift_text, y=ty + 1, x=tx + 1),
        "swin_unmasked": say("The same row without the mask (keys from other regions leak in)"),
        "swin_rows": say("Window rows, rolled frame: with mask | without (✕ = other region)"),
    })

    summary = {
        "model": {"name": vit.requested, "source": vit.source, "status": vit.status, "layers": depth,
                  "heads": heads, "grid": [gh, gw], "prefix_tokens": prefix},
        "top5": _topk(probs, vit.labels),
        "layer": lay, "head": hd,
        "heads_table": [
            {"head": i + 1, "cls_entropy_bits": float(stats["cls_entropy"][i]),
             "mean_entropy_bits": float(stats["mean_entropy"][i]),
             "max_weight": float(stats["max_weight"][i]),
             "effective_tokens": float(stats["effective"][i])} for i in range(heads)],
        "cls_entropy_bits": [s["cls_entropy"].tolist() for s in all_stats],
        "max_weight": [s["max_weight"].tolist() for s in all_stats],
        "rollout": {"fusion": args["fusion"], "discard_ratio": args["discard_ratio"],
                    "peak_patch": [int(v) for v in np.unravel_index(int(roll_map.argmax()), roll_map.shape)]},
        "query_patch": {"row": qr, "col": qc, "token": q_token},
        "swin": {
            "name": sw.requested, "source": sw.source, "status": sw.status, "top5": _topk(
                _softmax(sex.logits), sw.labels),
            "stage": info.stage, "block": info.block, "head": args["swin_head"],
            "grid": [info.height, info.width],
            "window": info.window, "shift": info.shift, "token": [ty, tx], "window_index": row.window,
            "query_in_window": row.query, "masked_keys": int(blocked.sum()),
            "weight_on_masked_keys_with_mask": float(row.masked[blocked].sum()),
            "weight_on_masked_keys_without_mask": float(row.unmasked[blocked].sum()),
        },
    }
    summary["captions"] = captions
    figures = LazyFigures(entropy=lambda: entropy_figure(summary))
    return LessonResult(images=images, summary=summary, figures=figures, captions=captions)


def dims(name: str, weights: str = "auto") -> dict[str, Any]:
    """Layers and heads of a zoo ViT (``blocks``) or stage depths and heads of a Swin (``stages``)."""
    m = zoo.load_model(name, weights).model
    if hasattr(m, "layers"):
        return {"stages": [len(layer.blocks) for layer in m.layers],
                "heads": [int(layer.blocks[0].attn.num_heads) for layer in m.layers]}
    return {"layers": len(m.blocks), "heads": int(m.blocks[0].attn.num_heads)}


# --------------------------------------------------------------------------------------------- #
# helpers


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def _topk(probs: np.ndarray, labels: tuple[str, ...], k: int = 5) -> list[dict[str, Any]]:
    order = np.argsort(-probs)[:k]
    return [{"label": labels[i] if i < len(labels) else f"class {i}", "probability": float(probs[i])}
            for i in order]


_DIMMED = (np.arange(256) * 0.3).astype(np.uint8)


def _window_overlay(view: np.ndarray, info: swin_lib.SwinBlockInfo, row: WindowRow, weights: np.ndarray,
                    ty: int, tx: int, vmax: float) -> np.ndarray:
    """The window's keys at their original positions (a shifted window may wrap around the edges)."""
    grid = np.zeros((info.height, info.width), np.float32)
    inside = np.zeros((info.height, info.width), np.uint8)
    ok = row.keys_yx[:, 0] >= 0
    grid[row.keys_yx[ok, 0], row.keys_yx[ok, 1]] = weights[ok]
    inside[row.keys_yx[ok, 0], row.keys_yx[ok, 1]] = 1
    # coloured and masked per token, then blown up to the view: a colormap lookup per token, not per pixel
    h, w = view.shape[:2]
    colored = cv2.resize(colorize(grid, "inferno", 0.0, vmax), (w, h), interpolation=cv2.INTER_NEAREST)
    inside = cv2.resize(inside, (w, h), interpolation=cv2.INTER_NEAREST)
    out = cv2.LUT(view, _DIMMED)  # tokens outside the window: the photo at 30 % brightness
    blend = cv2.addWeighted(view, 0.25, colored, 0.75, 0.0)
    cv2.copyTo(blend, inside, out)  # in place; ~150× faster than numpy's broadcast copyto(where=)
    out = draw_lines(out, info.height, info.width, offset=(info.shift, info.shift),
                     cells=(info.window, info.window), color=(255, 255, 0), thickness=2, alpha=0.8)
    out = draw_cell(out, ty, tx, info.height, info.width, color=(0, 255, 255), thickness=2)
    return add_colorbar(out, 0.0, vmax, "inferno", words.say("weight"))


def _window_rows_figure(info: swin_lib.SwinBlockInfo, row: WindowRow, vmax: float) -> np.ndarray:
    m = info.window
    cell = max(24, 280 // m)
    tiles = []
    for title, weights in (("with mask", row.masked), ("without mask", row.unmasked)):
        tile = annotated_matrix(weights.reshape(m, m), cell=cell, cmap="inferno", fmt="{:.2f}", vmin=0.0,
                                vmax=vmax, annotate=m <= 7, colorbar=False)
        qy, qx = divmod(row.query, m)
        tile = draw_cell(tile, qy, qx, m, m, color=(0, 255, 255), thickness=2)
        blocked = (row.regions != row.regions[row.query]).reshape(m, m)
        for r, c in zip(*np.nonzero(blocked), strict=True):
            x0, y0 = c * cell, r * cell
            cv2.line(tile, (x0 + 3, y0 + 3), (x0 + cell - 4, y0 + cell - 4), (86, 180, 233), 1, cv2.LINE_AA)
            cv2.line(tile, (x0 + cell - 4, y0 + 3), (x0 + 3, y0 + cell - 4), (86, 180, 233), 1, cv2.LINE_AA)
        tiles.append(title_above(tile, words.say(title)))
    gap = np.full((tiles[0].shape[0], 16, 3), 255, np.uint8)
    # no caption padding: the page draws this under the Swin maps, titled, inside one figure
    return add_colorbar(np.concatenate([tiles[0], gap, tiles[1]], 1), 0.0, vmax, "inferno",
                        words.say("weight"))


def entropy_figure(summary: dict[str, Any]) -> Any:
    """Plotly heatmap layer × head of the CLS row's entropy (hover: max CLS→patch weight)."""
    import plotly.graph_objects as go

    z = np.asarray(summary["cls_entropy_bits"], np.float64)
    mw = np.asarray(summary["max_weight"], np.float64)
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"h{i + 1}" for i in range(z.shape[1])], y=[f"L{i + 1}" for i in range(z.shape[0])],
        customdata=mw, colorscale="Viridis", colorbar=dict(title=words.say("bits")),
        hovertemplate=words.say("layer %{y}, head %{x}<br>CLS entropy %{z:.2f} bits<br>max weight "
                                "%{customdata:.3f}") + "<extra></extra>"))
    fig.update_layout(title=words.say("Entropy of the CLS attention (low = focused)"), height=360,
                      margin=dict(l=40, r=10, t=40, b=30), yaxis=dict(autorange="reversed"))
    return fig
