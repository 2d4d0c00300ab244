"""Drawing for Imagen's tricks: the guidance × thresholding grid, the x̂0 statistics, labelled image strips.

Geometry is fixed and exposed (:func:`grid_cell`, :func:`strip_cell`) so tests can find every tile where it
was drawn and compare it with the sample it shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from core.viz import fonts, words
from core.viz.diffusion import label
from core.viz.draw import PALETTE
from core.viz.words import say

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_INK = (30, 30, 30)
LABEL_W, HEAD, GAP, FOOT = 78, 26, 6, 18
METHOD_COLORS = {"none": PALETTE[5], "static": PALETTE[0], "dynamic": PALETTE[2]}

words.register({
    # the thresholding methods (rows of the sweep, the charts' legends)
    "none": "不处理",
    "static": "静态截断",
    "dynamic": "动态阈值",
    # the sweep's notes under each tile (composed in core.imagen_lesson)
    "sat {pct:.0f}%": "饱和 {pct:.0f}%",
    "step {k}": "第 {k} 步",
    # the cascade's strip titles (core.imagen_lesson)
    "base 32²": "基础 32²",
    "base 32² (x̂0 so far)": "基础 32²（当前预测）",
    "bicubic 64²": "双三次 64²",
    "SR 64², aug 0": "超分辨率 64²，增强 0",
    "SR 64², aug {aug}": "超分辨率 64²，增强 {aug}",
    "your crop, 64²": "你的裁剪，64²",
    "its 32²": "缩小到 32²",
    "bicubic {db:.1f} dB": "双三次 {db:.1f} dB",
    "SR {db:.1f} dB": "超分辨率 {db:.1f} dB",
    # the statistics charts (plain text in Chinese: mathtext has no font fallback)
    "final image: share of values at 0 or 255 (%)": "最终图像：等于 0 或 255 的值所占比例（%）",
    "guidance scale w": "引导强度 w",
    "{pct:g}th percentile of $|\\hat{{x}}_0|$ per step (w = {w:g})":
        "每一步 |预测 x0| 的第 {pct:g} 百分位（w = {w:g}）",
    "share of $\\hat{{x}}_0$ outside [−1, 1] per step (w = {w:g}, %)":
        "每一步预测 x0 落在 [−1, 1] 之外的比例（w = {w:g}，%）",
    "DDIM step": "DDIM 步数",
})


def tile(image: np.ndarray, size: int) -> np.ndarray:
    """A model image at ``size`` px: nearest when enlarging (its real pixels stay visible)."""
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_NEAREST if h < size else cv2.INTER_AREA)


def grid_cell(row: int, col: int, size: int) -> tuple[int, int]:
    """Top-left (y, x) of tile (row, col) in :func:`sweep_grid`."""
    return HEAD + GAP + row * (size + FOOT + GAP), LABEL_W + GAP + col * (size + GAP)


def sweep_grid(samples: Sequence[Sequence[np.ndarray]], rows: Sequence[str], scales: Sequence[float],
               notes: Sequence[Sequence[str]], size: int = 96) -> np.ndarray:
    """Rows = thresholding methods, columns = guidance scales; each tile's note (e.g. "sat 12%") below it."""
    n_rows, n_cols = len(rows), len(scales)
    h = HEAD + GAP + n_rows * (size + FOOT + GAP)
    w = LABEL_W + GAP + n_cols * (size + GAP)
    canvas = np.full((h, w, 3), 255, np.uint8)
    for c, s in enumerate(scales):
        _, x = grid_cell(0, c, size)
        cv2.putText(canvas, f"w = {s:g}", (x + 4, HEAD - 8), _FONT, 0.5, _INK, 1, cv2.LINE_AA)
    for r, name in enumerate(rows):
        y, _ = grid_cell(r, 0, size)
        color = tuple(int(v) for v in METHOD_COLORS.get(name, _INK))
        label(canvas, say(name), (4, y + size // 2 + 5), 0.55, color, 2)
        for c in range(n_cols):
            y, x = grid_cell(r, c, size)
            canvas[y:y + size, x:x + size] = tile(samples[r][c], size)
            label(canvas, notes[r][c], (x + 2, y + size + FOOT - 5), 0.4)
    return canvas


def strip_cell(index: int, size: int) -> tuple[int, int]:
    """Top-left (y, x) of image ``index`` in :func:`labelled_strip`."""
    return HEAD, GAP + index * (size + GAP)


def labelled_strip(images: Sequence[np.ndarray], titles: Sequence[str], size: int = 160) -> np.ndarray:
    """Images side by side at ``size`` px (nearest when enlarging), a title above each."""
    n = len(images)
    canvas = np.full((HEAD + size + GAP, GAP + n * (size + GAP), 3), 255, np.uint8)
    for i, (image, title) in enumerate(zip(images, titles, strict=True)):
        y, x = strip_cell(i, size)
        canvas[y:y + size, x:x + size] = tile(image, size)
        label(canvas, title, (x + 2, HEAD - 8), 0.45)
    return canvas


def stats_figure(methods: Sequence[str], scales: Sequence[float], saturated: np.ndarray, p_abs: np.ndarray,
                 beyond: np.ndarray, ratio: float, width: int = 1080, height: int = 320) -> np.ndarray:
    """Three panels: final saturation vs guidance per method; at the largest scale, the ratio-th
    percentile of |x̂0| and the share of x̂0 outside [−1, 1] at every step (before thresholding)."""
    import matplotlib

    zh = words.current() == "zh"
    family = list(fonts.matplotlib_family()) if zh else matplotlib.rcParams["font.family"]
    with matplotlib.rc_context({"font.family": family}):  # the CJK subset as the fallback
        return _draw_stats(methods, scales, saturated, p_abs, beyond, ratio, width, height)


def _draw_stats(methods: Sequence[str], scales: Sequence[float], saturated: np.ndarray, p_abs: np.ndarray,
                beyond: np.ndarray, ratio: float, width: int, height: int) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    steps = np.arange(1, p_abs.shape[-1] + 1)
    for i, m in enumerate(methods):
        color = np.array(METHOD_COLORS.get(m, _INK)) / 255
        axes[0].plot(scales, 100 * saturated[i], "o-", color=color, label=say(m))
        axes[1].plot(steps, p_abs[i, -1], color=color, label=say(m))
        axes[2].plot(steps, 100 * beyond[i, -1], color=color, label=say(m))
    axes[1].axhline(1.0, color="#555555", lw=1, ls="--")
    axes[0].set_title(say("final image: share of values at 0 or 255 (%)"), fontsize=10)
    axes[0].set_xlabel(say("guidance scale w"), fontsize=9)
    axes[1].set_title(say("{pct:g}th percentile of $|\\hat{{x}}_0|$ per step (w = {w:g})", pct=100 * ratio,
                          w=scales[-1]), fontsize=10)
    axes[1].set_yscale("log")
    axes[2].set_title(say("share of $\\hat{{x}}_0$ outside [−1, 1] per step (w = {w:g}, %)", w=scales[-1]),
                      fontsize=10)
    for ax in axes[1:]:
        ax.set_xlabel(say("DDIM step"), fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.25)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    fig.clear()
    return image
