"""Swin Transformer's shifted windows and relative position bias, as small exact functions.

Conventions are those of the Swin reference implementation (and timm): tokens are row-major, the
cyclic shift is ``torch.roll(x, (-s, -s))`` before window attention and ``(+s, +s)`` after, the nine
regions of the shifted map come from the row/column slices ``(0, -M)``, ``(-M, -s)``, ``(-s, None)``,
and the mask is ``-100`` (not ``-inf``) between tokens of different regions. The tests compare every
function here with the buffers timm builds (``attn_mask``, ``relative_position_index``,
``relative_coords_table``).

:func:`run` is the lesson: the window grid on the photo, the rolled photo with its nine regions, the
teaching case (region map, a window's M²×M² mask, masked counts, relative position index), the
learned bias tables of a loaded Swin, Swin v2's log-spaced continuous position bias and the
MSA / W-MSA complexity calculator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

from core import zoo
from core.images import load_image
from core.lesson import LessonResult, Param
from core.viz import add_colorbar, colorize, fonts, montage, words
from core.viz.attention_viz import (
    annotated_matrix,
    draw_lines,
    label_image,
    pad_top,
    tint_labels,
    title_above,
)

#: the Chinese of the text drawn into the Swin figures (colour bars, tile titles, the v2 chart, the heatmaps)
ZH = words.register({
    "mask": "掩码",
    "index": "索引",
    "bias": "偏置",
    "head {n}": "第 {n} 个头",
    "trained window {m}: {n}x{n}": "训练时的窗口 {m}：{n}×{n}",
    "window {m}: {n}x{n}": "窗口 {m}：{n}×{n}",
    "linear: Δ/(M_train−1)": "线性：Δ/(M_train−1)",
    "log-spaced: sign·log2(1+8|Δ|/(M_train−1))/3": "对数间隔：sign·log2(1+8|Δ|/(M_train−1))/3",
    "offsets seen in training (window {m})": "训练时见过的偏移（窗口 {m}）",
    "relative offset Δ (tokens)": "相对偏移 Δ（token）",
    "CPB-MLP input": "CPB-MLP 的输入",
    "Mask of window {k} (0 = attend, −100 = blocked)": "窗口 {k} 的掩码（0 = 可关注，−100 = 屏蔽）",
    "Relative position index, M = {m}": "相对位置索引，M = {m}",
    "query %{y}, key %{x}: %{z}": "query %{y}，key %{x}：%{z}",
    "query token": "query 的 token 序号",
    "key token": "key 的 token 序号",
})

__all__ = [
    "PARAMS",
    "SWIN_MODELS",
    "SwinBlockInfo",
    "block_info",
    "complexity",
    "cpb_bias",
    "cyclic_shift",
    "dims",
    "masked_counts",
    "region_ids",
    "relative_position_index",
    "run",
    "shifted_window_mask",
    "teaching_case",
    "v2_relative_coords",
    "window_partition",
    "window_reverse",
]

MASK_VALUE = -100.0
SWIN_MODELS = ("swin-shapes", "swin-tiny")
V2_MODEL = "swinv2-tiny"
VIEW = 448  # side of the rendered square "what the model sees" view, in pixels


# --------------------------------------------------------------------------------------------- #
# the algorithm


def _check_window(height: int, width: int, window: int, shift: int) -> None:
    if window < 1:
        raise ValueError(f"The window size M must be at least 1, not {window}.")
    if height < 1 or width < 1:
        raise ValueError(f"The feature map must be at least 1×1, not {height}×{width}.")
    if not 0 <= shift < window:
        raise ValueError(f"The shift s must be between 0 and M−1 = {window - 1}; got {shift}.")


def region_ids(height: int, width: int, window: int, shift: int) -> np.ndarray:
    """The (H, W) int64 map of region labels 0..8 of the cyclically shifted feature map.

    Rows are split by the slices ``(0, -M)``, ``(-M, -s)``, ``(-s, None)`` (and columns alike);
    label = 3·row_slice + col_slice. With ``shift == 0`` there is one region (all zeros): Swin neither
    shifts nor masks then.
    """
    _check_window(height, width, window, shift)
    ids = np.zeros((height, width), np.int64)
    if shift == 0:
        return ids  # no shift: one region, nothing is masked
    slices = ((0, -window), (-window, -shift), (-shift, None))
    for r, (r0, r1) in enumerate(slices):
        for c, (c0, c1) in enumerate(slices):
            ids[r0:r1, c0:c1] = 3 * r + c
    return ids


def window_partition(x: Any, window: int) -> np.ndarray | torch.Tensor:
    """(B, H, W, C) → (B·nW, M, M, C), windows row-major over the window grid (as timm)."""
    is_np = isinstance(x, np.ndarray)
    t = torch.as_tensor(x)
    b, h, w, c = t.shape
    if h % window or w % window:
        raise ValueError(f"{h}×{w} is not divisible by the window size {window}; pad it first.")
    t = t.view(b, h // window, window, w // window, window, c).permute(0, 1, 3, 2, 4, 5)
    t = t.reshape(-1, window, window, c)
    return t.numpy() if is_np else t


def window_reverse(windows: Any, window: int, height: int, width: int) -> np.ndarray | torch.Tensor:
    """Inverse of :func:`window_partition`: (B·nW, M, M, C) → (B, H, W, C)."""
    is_np = isinstance(windows, np.ndarray)
    t = torch.as_tensor(windows)
    c = t.shape[-1]
    t = t.view(-1, height // window, width // window, window, window, c).permute(0, 1, 3, 2, 4, 5)
    t = t.reshape(-1, height, width, c)
    return t.numpy() if is_np else t


def cyclic_shift(x: Any, shift: int, reverse: bool = False, dims: tuple[int, int] = (1, 2)) -> Any:
    """Swin's cyclic shift: roll by ``(-s, -s)`` before attention, ``(+s, +s)`` after (``reverse``)."""
    s = shift if reverse else -shift
    if isinstance(x, np.ndarray):
        return np.roll(x, (s, s), axis=dims)
    return torch.roll(x, shifts=(s, s), dims=dims)


def shifted_window_mask(height: int, width: int, window: int, shift: int) -> np.ndarray:
    """(nW, M², M²) float32: 0 where query and key share a region label, −100 where not.

    Windows are row-major over the window grid of the (already rolled) map. All zeros for
    ``shift == 0``. ``height`` and ``width`` must be multiples of ``window`` (timm pads first).
    """
    _check_window(height, width, window, shift)
    if height % window or width % window:
        raise ValueError(
            f"{height}×{width} is not divisible by the window size {window}; Swin pads the map to "
            f"{math.ceil(height / window) * window}×{math.ceil(width / window) * window} first."
        )
    n_windows = (height // window) * (width // window)
    if shift == 0:
        return np.zeros((n_windows, window * window, window * window), np.float32)
    ids = region_ids(height, width, window, shift)
    win = window_partition(ids[None, :, :, None], window).reshape(n_windows, window * window)
    same = win[:, None, :] == win[:, :, None]
    return np.where(same, 0.0, MASK_VALUE).astype(np.float32)


def masked_counts(height: int, width: int, window: int, shift: int) -> np.ndarray:
    """Masked entries per window (nW,) = M⁴ − Σₖ nₖ² over the region sizes nₖ inside the window."""
    return (shifted_window_mask(height, width, window, shift) != 0).sum(axis=(1, 2)).astype(np.int64)


def relative_position_index(window: int) -> np.ndarray:
    """(M², M²) int64: ``(Δy + M − 1)·(2M − 1) + (Δx + M − 1)``, Δ = query − key, tokens row-major."""
    if window < 1:
        raise ValueError(f"The window size M must be at least 1, not {window}.")
    yy, xx = np.divmod(np.arange(window * window), window)
    dy = yy[:, None] - yy[None, :]
    dx = xx[:, None] - xx[None, :]
    return ((dy + window - 1) * (2 * window - 1) + (dx + window - 1)).astype(np.int64)


def v2_relative_coords(window: int, trained_window: int | None = None, log_spaced: bool = True) -> np.ndarray:
    """Swin v2's ((2M−1), (2M−1), 2) table of relative coordinates (Δy, Δx) fed to the CPB-MLP.

    Δ is divided by ``trained_window − 1`` (the pre-training window; the current window when None),
    scaled to [−8, 8] and, when ``log_spaced``, mapped by ``sign(Δ)·log2(1 + |Δ|)/log2(8)`` — so a
    larger window at fine-tuning only extends the range a little instead of far outside it.
    """
    base = max((trained_window or window) - 1, 1)
    d = np.arange(-(window - 1), window, dtype=np.float32)
    table = np.stack(np.meshgrid(d, d, indexing="ij"), axis=-1) / base * 8.0
    if log_spaced:
        table = np.sign(table) * np.log2(np.abs(table) + 1.0) / math.log2(8)
    return table.astype(np.float32)


def cpb_bias(attn_module: torch.nn.Module, window: int, trained_window: int | None = None) -> np.ndarray:
    """The (heads, (2M−1), (2M−1)) bias ``16·sigmoid(CPB-MLP(coords))`` of a Swin v2 attention module.

    At the module's own window this equals its forward's bias table; at a larger ``window`` it is the
    bias the same MLP gives to relative offsets it never saw in training.
    """
    table = torch.from_numpy(v2_relative_coords(window, trained_window)).to(attn_module.proj.weight.dtype)
    with torch.inference_mode():
        out = attn_module.cpb_mlp(table.view(-1, 2))
    heads = out.shape[-1]
    bias = 16.0 * torch.sigmoid(out)
    return bias.view(2 * window - 1, 2 * window - 1, heads).permute(2, 0, 1).float().numpy()


def complexity(height: int, width: int, channels: int, window: int) -> dict[str, float]:
    """Multiply-adds of global MSA ``4hwC² + 2(hw)²C`` and window MSA ``4hwC² + 2M²hwC``."""
    for name, v in (("h", height), ("w", width), ("C", channels), ("M", window)):
        if v < 1:
            raise ValueError(f"{name} must be positive, not {v}.")
    hw = height * width
    proj = 4 * hw * channels**2
    msa = proj + 2 * hw**2 * channels
    wmsa = proj + 2 * window**2 * hw * channels
    return {"msa": float(msa), "wmsa": float(wmsa), "projections": float(proj), "ratio": msa / wmsa}


@dataclass(frozen=True)
class SwinBlockInfo:
    """Geometry of one Swin block as the model actually runs it."""

    stage: int  # 1-based
    block: int  # 1-based
    height: int  # token grid of the stage
    width: int
    window: int  # effective window (clamped to the map when the map is smaller)
    shift: int  # 0 when the block does not shift (even blocks, or map not larger than the window)
    heads: int
    pixels_per_token: int  # input pixels per token side at this stage

    @property
    def padded(self) -> tuple[int, int]:
        m = self.window
        return math.ceil(self.height / m) * m, math.ceil(self.width / m) * m


def block_info(model: torch.nn.Module, stage: int, block: int) -> SwinBlockInfo:
    """Read a timm Swin (v1 or v2) block's grid, window and shift (``stage``, ``block`` 1-based)."""
    layers = getattr(model, "layers", None)
    if layers is None:
        raise ValueError("This model is not a Swin Transformer (no stages).")
    if not 1 <= stage <= len(layers):
        raise ValueError(f"Stage must be between 1 and {len(layers)}; got {stage}.")
    blocks = layers[stage - 1].blocks
    if not 1 <= block <= len(blocks):
        raise ValueError(
            f"Stage {stage} has {len(blocks)} blocks; block must be between 1 and {len(blocks)}.")
    blk = blocks[block - 1]
    h, w = blk.input_resolution
    patch = model.patch_embed.patch_size
    patch = patch[0] if isinstance(patch, (tuple, list)) else patch
    return SwinBlockInfo(stage, block, int(h), int(w), int(blk.window_size[0]), int(blk.shift_size[0]),
                         int(blk.attn.num_heads), int(patch * 2 ** (stage - 1)))


def learned_bias(model: torch.nn.Module, stage: int, block: int) -> np.ndarray:
    """A Swin v1 block's learned table reshaped to (heads, 2M−1, 2M−1): row = Δy + M − 1, col = Δx + M − 1."""
    attn = model.layers[stage - 1].blocks[block - 1].attn
    table = attn.relative_position_bias_table.detach().float().numpy()
    m = attn.window_size[0]
    return table.T.reshape(-1, 2 * m - 1, 2 * m - 1).copy()


def dims(name: str, weights: str = "auto", stage: int = 1) -> dict[str, int]:
    """Number of stages, blocks of ``stage`` and its window size, for a zoo Swin (for page controls)."""
    model = zoo.load_model(name, weights).model
    stage = min(max(int(stage), 1), len(model.layers))
    return {"stages": len(model.layers), "stage": stage, "blocks": len(model.layers[stage - 1].blocks),
            "window": int(model.layers[stage - 1].blocks[0].window_size[0])}


# --------------------------------------------------------------------------------------------- #
# the lesson

PARAMS: list[Param] = [
    Param("model", "choice", "swin-tiny", "Swin model", choices=SWIN_MODELS,
          help="A Swin v1 from the zoo; its stages, windows and learned bias tables are shown."),
    Param("weights", "choice", "auto", "Weights", choices=zoo.WEIGHT_MODES),
    Param("stage", "int", 1, "Stage", "1 = first stage (finest tokens).", 1, 4, 1),
    Param("block", "int", 2, "Block", "Even blocks (2, 4, …) shift their windows.", 1, 18, 1),
    Param("query_row", "int", 0, "Query row in the window", "Row of the query token inside its window.",
          0, 11, 1),
    Param("query_col", "int", 0, "Query column in the window", "", 0, 11, 1),
    Param("height", "int", 8, "Teaching case: H", "Feature-map height in tokens.", 2, 32, 1),
    Param("width", "int", 8, "Teaching case: W", "Feature-map width in tokens.", 2, 32, 1),
    Param("window", "int", 4, "Teaching case: window M", "", 1, 12, 1),
    Param("shift", "int", 2, "Teaching case: shift s", "Swin uses s = ⌊M/2⌋; 0 = no shift.", 0, 11, 1),
    Param("mask_window", "int", 3, "Teaching case: window to inspect",
          "Row-major index of the window whose M²×M² mask is drawn (0 = top-left).", 0, 255, 1),
    Param("v2_window", "int", 16, "Swin v2: enlarged window", "Window the CPB-MLP is evaluated at "
          "beyond the 8 it was trained with.", 2, 32, 1),
]
_PARAMS = {p.name: p for p in PARAMS}


def teaching_case(height: int = 8, width: int = 8, window: int = 4, shift: int = 2,
                  mask_window: int = 3) -> LessonResult:
    """The model-free part: region map, one window's mask, masked counts, relative position index."""
    h, w, m, s = (_PARAMS[k].check(v) for k, v in
                  (("height", height), ("width", width), ("window", window), ("shift", shift)))
    _check_window(h, w, m, s)
    if h % m or w % m:
        raise ValueError(f"For the teaching case, H and W must be multiples of M = {m} (got {h}×{w}).")
    ids = region_ids(h, w, m, s)
    mask = shifted_window_mask(h, w, m, s)
    counts = masked_counts(h, w, m, s)
    n_win = mask.shape[0]
    k = _PARAMS["mask_window"].check(mask_window)
    if k >= n_win:
        raise ValueError(f"There are {n_win} windows (0..{n_win - 1}); window {k} does not exist.")
    index = relative_position_index(m)
    say = words.say  # the words drawn into the figures, in the page's language
    cell = int(np.clip(420 // max(h, w), 10, 52))
    region_img = label_image(ids, cell=cell, window=m)
    mcell = int(np.clip(440 // (m * m), 3, 40))
    mask_img = annotated_matrix(mask[k], cell=mcell, cmap="cividis", fmt="{:.0f}", vmin=MASK_VALUE, vmax=0.0,
                                annotate=False, blocks=m, label=words.say("mask"))
    icell = int(np.clip(440 // (m * m), 3, 40))
    index_img = annotated_matrix(index, cell=icell, cmap="viridis", blocks=m, label=words.say("index"))
    grid_r, grid_c = h // m, w // m
    summary = {
        "height": h, "width": w, "window": m, "shift": s, "windows": n_win,
        "masked_counts": counts.reshape(grid_r, grid_c).tolist(),
        "mask_window": k, "mask_window_regions": sorted(set(
            window_partition(ids[None, :, :, None], m).reshape(n_win, -1)[k].tolist())),
        "region_rows": ids[:, 0].tolist(), "region_map": ids.tolist(),
        "index_max": int(index.max()), "index_diagonal": int(index[0, 0]), "index_row0": index[0].tolist(),
    }
    return LessonResult(
        images={"region_map": pad_top(region_img), "window_mask": pad_top(mask_img),
                "position_index": pad_top(index_img)},
        summary=summary,
        figures={"window_mask": _heatmap(mask[k], say("Mask of window {k} (0 = attend, −100 = blocked)", k=k),
                                         "cividis", m),
                 "position_index": _heatmap(index, say("Relative position index, M = {m}", m=m), "viridis",
                                            m)},
        captions={
            "region_map": f"Region ids after the shift ({h}×{w}, M = {m}, s = {s}); black lines = windows",
            "window_mask": f"Window {k}: M²×M² mask (dark = −100), {int(counts[k])} masked entries",
            "position_index": f"Relative position index (M = {m}): 0 … {int(index.max())}",
        },
    )


def run(image: Any, model: str = "swin-tiny", weights: str = "auto", stage: int = 1, block: int = 2,
        query_row: int = 0, query_col: int = 0, height: int = 8, width: int = 8, window: int = 4,
        shift: int = 2, mask_window: int = 3, v2_window: int = 16) -> LessonResult:
    """Swin's windows on the photo, the teaching case, the model's bias tables and Swin v2's CPB."""
    from core.attention import model_view

    model = _PARAMS["model"].check(model)
    weights = _PARAMS["weights"].check(weights)
    stage, block = _PARAMS["stage"].check(stage), _PARAMS["block"].check(block)
    qr, qc = _PARAMS["query_row"].check(query_row), _PARAMS["query_col"].check(query_col)
    v2w = _PARAMS["v2_window"].check(v2_window)
    rgb = load_image(image)
    loaded = zoo.load_model(model, weights)
    info = block_info(loaded.model, stage, block)
    if not (0 <= qr < info.window and 0 <= qc < info.window):
        raise ValueError(f"The query token must lie inside the {info.window}×{info.window} window.")
    view, _ = model_view(rgb, loaded, VIEW)

    # 1. the photo with the token grid and this block's windows (shifted blocks: offset by s, wrapping)
    hp, wp = info.padded
    s = info.shift
    win_ids = _window_ids_original(info)
    grid = tint_labels(view, win_ids, alpha=0.22)
    grid = draw_lines(grid, info.height, info.width, color=(255, 255, 255), thickness=1, alpha=0.35)
    grid = draw_lines(grid, info.height, info.width, offset=(s, s), cells=(info.window, info.window),
                      color=(255, 255, 0), thickness=3)

    # 2. the rolled photo: regions of the shifted map, regular window grid
    px = VIEW / info.height
    rolled = np.roll(view, (-round(s * px), -round(s * px)), axis=(0, 1))
    ids = region_ids(hp, wp, info.window, s)[: info.height, : info.width] if s else np.zeros(
        (info.height, info.width), np.int64)
    shifted = tint_labels(rolled, ids, alpha=0.45)
    shifted = draw_lines(shifted, info.height, info.width, cells=(info.window, info.window),
                         color=(20, 20, 20), thickness=3)
    shifted = _write_region_numbers(shifted, ids)

    # 3. learned relative position bias (v1) of this block, and what one query receives
    bias = learned_bias(loaded.model, stage, block)  # (heads, 2M-1, 2M-1)
    m = info.window
    index = relative_position_index(m)
    q = qr * m + qc
    received = np.stack([b.reshape(-1)[index[q]].reshape(m, m) for b in bias])  # (heads, M, M)
    vmax = float(np.abs(bias).max()) or 1.0
    tiles = [annotated_matrix(b, cell=max(8, 300 // (2 * m - 1)), cmap="coolwarm", vmin=-vmax, vmax=vmax,
                              annotate=False, colorbar=False) for b in bias[:12]]
    heads = [words.say("head {n}", n=i + 1) for i in range(len(tiles))]
    bias_img = add_colorbar(montage(tiles, heads, cols=min(4, len(tiles)), tile=220), -vmax, vmax, "coolwarm",
                            words.say("bias"))
    rtiles = [annotated_matrix(r, cell=max(12, 220 // m), cmap="coolwarm", vmin=-vmax, vmax=vmax,
                               fmt="{:.2f}", annotate=m <= 7, colorbar=False) for r in received[:12]]
    rtiles = [_mark_cell(t, qr, qc, m) for t in rtiles]
    received = montage(rtiles, heads[:len(rtiles)], cols=min(4, len(rtiles)), tile=220)
    received_img = add_colorbar(received, -vmax, vmax, "coolwarm", words.say("bias"))

    # 4. Swin v2: linear vs log-spaced coordinates, CPB bias at the trained and at an enlarged window
    v2_weights = weights if weights != "embedded" else "auto"  # swinv2-tiny has no embedded weights
    v2 = zoo.load_model(V2_MODEL, v2_weights)
    v2_stage = min(stage, len(v2.model.layers))
    v2_block = min(block, len(v2.model.layers[v2_stage - 1].blocks))
    v2_attn = v2.model.layers[v2_stage - 1].blocks[v2_block - 1].attn
    trained = int(v2_attn.window_size[0])
    big = max(v2w, 2)
    coords_img = _coords_plot(trained, big)
    b_small = cpb_bias(v2_attn, trained)[0]
    b_big = cpb_bias(v2_attn, big, trained_window=trained)[0]
    lo, hi = float(min(b_small.min(), b_big.min())), float(max(b_small.max(), b_big.max()))
    size = 300
    left = _square(colorize(b_small, "magma", lo, hi), size)
    right = _square(colorize(b_big, "magma", lo, hi), size)
    left = title_above(left, words.say("trained window {m}: {n}x{n}", m=trained, n=2 * trained - 1))
    right = title_above(right, words.say("window {m}: {n}x{n}", m=big, n=2 * big - 1))
    v2_img = add_colorbar(np.concatenate([left, np.full((left.shape[0], 12, 3), 255, np.uint8), right], 1),
                          lo, hi, "magma", words.say("bias"))

    teach = teaching_case(height, width, window, shift, mask_window)
    calc = complexity(info.height, info.width, int(loaded.model.layers[stage - 1].blocks[0].norm1
                                                    .normalized_shape[0]), info.window)
    images = {
        "window_grid": grid,
        "shifted_regions": shifted,
        **teach.images,
        "bias_tables": pad_top(bias_img),
        "query_bias": pad_top(received_img),
        "v2_coords": coords_img,
        "v2_bias": pad_top(v2_img),
    }
    shift_text = f"shifted by s = {s}" if s else "not shifted"
    captions = {
        "window_grid": f"Stage {stage}, block {block}: {info.height}×{info.width} tokens, "
                       f"{info.window}×{info.window} windows, {shift_text}",
        "shifted_regions": f"Rolled by (−{s}, −{s}) tokens: the 9 regions, windows on the rolled map"
        if s else "This block does not shift: one region, no mask",
        **teach.captions,
        "bias_tables": f"Learned bias tables, {2 * m - 1}×{2 * m - 1} per head (row Δy, column Δx)",
        "query_bias": f"Bias received by query ({qr}, {qc}) from every key of its window",
        "v2_coords": "Swin v2: linear vs log-spaced relative coordinates",
        "v2_bias": f"Swin v2 CPB bias, head 1 ({v2.source} weights)",
    }
    summary = {
        "model": {"name": loaded.requested, "source": loaded.source, "status": loaded.status},
        "block": {"stage": stage, "block": block, "height": info.height, "width": info.width,
                  "window": info.window, "shift": info.shift, "heads": info.heads,
                  "padded": list(info.padded), "windows": (hp // m) * (wp // m),
                  "masked_counts": masked_counts(hp, wp, m, s).reshape(hp // m, wp // m).tolist()},
        "query": {"row": qr, "col": qc, "index_row": index[q].tolist()},
        "bias_table_shape": [int((2 * m - 1) ** 2), int(bias.shape[0])],
        "teaching": teach.summary,
        "complexity": calc,
        "v2": {"model": v2.requested, "requested_weights": v2_weights, "source": v2.source,
               "status": v2.status, "trained_window": trained,
               "enlarged_window": big, "bias_range_trained": [float(b_small.min()), float(b_small.max())],
               "bias_range_enlarged": [float(b_big.min()), float(b_big.max())]},
    }
    summary["captions"] = captions
    return LessonResult(images=images, summary=summary, figures=teach.figures, captions=captions)


# --------------------------------------------------------------------------------------------- #
# rendering helpers


def _window_ids_original(info: SwinBlockInfo) -> np.ndarray:
    """Window index of every token in the original frame (shifted blocks: windows wrap around)."""
    hp, wp = info.padded
    m, s = info.window, info.shift
    rows = ((np.arange(info.height) - s) % hp) // m
    cols = ((np.arange(info.width) - s) % wp) // m
    return rows[:, None] * (wp // m) + cols[None, :]


def _write_region_numbers(image: np.ndarray, ids: np.ndarray) -> np.ndarray:
    out = image.copy()
    h, w = out.shape[:2]
    rows, cols = ids.shape
    for label in np.unique(ids):
        ys, xs = np.nonzero(ids == label)
        cy, cx = (ys.mean() + 0.5) * h / rows, (xs.mean() + 0.5) * w / cols
        text = str(int(label))
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)
        org = (round(cx - tw / 2), round(cy + th / 2))
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 5, cv2.LINE_AA)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA)
    return out


def _mark_cell(tile: np.ndarray, r: int, c: int, m: int) -> np.ndarray:
    out = tile.copy()
    cell = tile.shape[0] // m
    cv2.rectangle(out, (c * cell, r * cell), ((c + 1) * cell - 1, (r + 1) * cell - 1), (0, 0, 0), 3)
    return out


def _square(img: np.ndarray, size: int) -> np.ndarray:
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST)


def _coords_plot(trained: int, big: int) -> np.ndarray:
    """Matplotlib line plot: normalised Δ (linear) vs log-spaced, for the trained and enlarged window."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    zh = words.current() == "zh"
    family = list(fonts.matplotlib_family()) if zh else matplotlib.rcParams["font.family"]
    with matplotlib.rc_context({"font.family": family}):  # the CJK subset as the fallback for Chinese
        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
        return _draw_coords(fig, ax, plt, trained, big)


def _draw_coords(fig: Any, ax: Any, plt: Any, trained: int, big: int) -> np.ndarray:
    try:
        m = max(trained, big)
        d = np.arange(-(m - 1), m)
        lin = d / max(trained - 1, 1) * 8.0
        log = np.sign(lin) * np.log2(np.abs(lin) + 1.0) / math.log2(8)
        say = words.say
        ax.plot(d, lin / 8.0, "-", color="#0072B2", marker=".", label=say("linear: Δ/(M_train−1)"))
        ax.plot(d, log, "-", color="#D55E00", marker=".",
                label=say("log-spaced: sign·log2(1+8|Δ|/(M_train−1))/3"))
        ax.axvspan(-(trained - 1), trained - 1, color="#999999", alpha=0.12,
                   label=say("offsets seen in training (window {m})", m=trained))
        ax.set_xlabel(say("relative offset Δ (tokens)"))
        ax.set_ylabel(say("CPB-MLP input"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        fig.subplots_adjust(top=0.88)  # room for a front end's caption badge
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        return np.ascontiguousarray(rgba[:, :, :3])
    finally:
        plt.close(fig)


def _heatmap(values: np.ndarray, title: str, scale: str, block: int) -> Any:
    """A small interactive plotly heatmap (hover shows query, key and value)."""
    import plotly.graph_objects as go

    n = values.shape[0]
    fig = go.Figure(go.Heatmap(z=values, colorscale=scale.capitalize() if scale != "cividis" else "Cividis",
                               hovertemplate=words.say("query %{y}, key %{x}: %{z}") + "<extra></extra>"))
    line = dict(color="white", width=1)
    for k in range(block, n, block):
        fig.add_shape(type="line", x0=k - 0.5, x1=k - 0.5, y0=-0.5, y1=n - 0.5, line=line)
        fig.add_shape(type="line", x0=-0.5, x1=n - 0.5, y0=k - 0.5, y1=k - 0.5, line=line)
    fig.update_layout(title=title, height=420, margin=dict(l=40, r=10, t=40, b=40),
                      yaxis=dict(autorange="reversed", title=words.say("query token")),
                      xaxis=dict(title=words.say("key token")))
    return fig
