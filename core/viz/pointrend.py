"""Pictures of the PointRend lesson: label maps, uncertainty, sampled points, subdivision steps.

Everything is drawn with OpenCV at a display size chosen for a projector (about 512 px per panel), with
label maps blown up with hard cell edges so a student can count cells, and legends burnt into the
images so an exported figure explains itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.viz import words
from core.viz.draw import PALETTE, add_colorbar, colorize, put_text, text_size
from core.viz.palette import SKY, VERMILLION, YELLOW

if TYPE_CHECKING:  # pragma: no cover
    from core.pointrend import Inference, TrainingSample

DISPLAY = 512
BACKGROUND = (38, 42, 54)
POOL_GREY = (175, 175, 175)  # the candidate pool, a neutral behind the two categories
IMPORTANCE_RED = VERMILLION  # Okabe–Ito: the importance points, the coverage points, changed cells
COVERAGE_BLUE = SKY
CHANGED_YELLOW = YELLOW
INK = (30, 30, 30)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_colors(num_classes: int) -> np.ndarray:
    """``(K, 3)`` uint8: background dark slate, then the shared palette for the shape classes."""
    colors = [BACKGROUND] + [PALETTE[i % len(PALETTE)] for i in range(num_classes - 1)]
    return np.array(colors, dtype=np.uint8)


def _display_hw(h: int, w: int, long_side: int = DISPLAY) -> tuple[int, int]:
    s = long_side / max(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def _resize(img: np.ndarray, hw: tuple[int, int], nearest: bool = False) -> np.ndarray:
    interp = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if img.shape[0] > hw[0] else cv2.INTER_LINEAR)
    return cv2.resize(img, (hw[1], hw[0]), interpolation=interp)


def label_image(labels: np.ndarray, image: np.ndarray | None, num_classes: int, hw: tuple[int, int],
                alpha: float = 0.7) -> np.ndarray:
    """Colour a label map (any grid size, blown up with hard edges) over a photo at display size ``hw``."""
    lut = class_colors(num_classes)
    colored = lut[np.clip(np.asarray(labels, dtype=np.int64), 0, num_classes - 1)]
    colored = _resize(colored, hw, nearest=True)
    if image is None:
        return colored
    photo = _resize(image, hw)
    return cv2.addWeighted(colored, alpha, photo, 1.0 - alpha, 0.0)


def legend(names: Sequence[str], colors: Sequence[Sequence[int]], width: int, height: int = 34,
           scale: float = 0.55) -> np.ndarray:
    """A white strip of colour swatches and names, wrapped onto several rows if needed."""
    rows: list[list[tuple[str, Sequence[int], int]]] = [[]]
    x = 8
    for name, color in zip([words.say(n) for n in names], colors, strict=True):
        (tw, _), _ = text_size(name, scale)
        item = 24 + tw + 16
        if x + item > width and rows[-1]:
            rows.append([])
            x = 8
        rows[-1].append((name, color, x))
        x += item
    strip = np.full((height * len(rows), width, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        y = r * height + height // 2
        for name, color, x0 in row:
            cv2.rectangle(strip, (x0, y - 8), (x0 + 16, y + 8), tuple(int(c) for c in color), -1)
            cv2.rectangle(strip, (x0, y - 8), (x0 + 16, y + 8), (90, 90, 90), 1)
            put_text(strip, name, (x0 + 22, y + 6), scale, INK)
    return strip


def title_bar(text: str, width: int, height: int = 36, scale: float = 0.62) -> np.ndarray:
    bar = np.full((height, width, 3), 255, np.uint8)
    put_text(bar, words.say(text), (8, height - 12), scale, INK)
    return bar


def _stack(*parts: np.ndarray) -> np.ndarray:
    width = max(p.shape[1] for p in parts)
    padded = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in parts]
    return np.concatenate(padded, axis=0)


def _row(tiles: Sequence[np.ndarray], gap: int = 10) -> np.ndarray:
    height = max(t.shape[0] for t in tiles)
    out = []
    for i, t in enumerate(tiles):
        if i:
            out.append(np.full((height, gap, 3), 255, np.uint8))
        out.append(np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0)), constant_values=255))
    return np.concatenate(out, axis=1)


def _grid_lines(img: np.ndarray, rows: int, cols: int, color=(255, 255, 255),
                alpha: float = 0.35) -> np.ndarray:
    layer = img.copy()
    h, w = img.shape[:2]
    for r in range(1, rows):
        y = round(r * h / rows)
        cv2.line(layer, (0, y), (w - 1, y), color, 1)
    for c in range(1, cols):
        x = round(c * w / cols)
        cv2.line(layer, (x, 0), (x, h - 1), color, 1)
    return cv2.addWeighted(layer, alpha, img, 1 - alpha, 0)


def dots(img: np.ndarray, xy: np.ndarray, color: Sequence[int], radius: int, ring: bool = True) -> np.ndarray:
    """Draw many points (pixel coords, x then y) as filled discs, with a thin dark ring for contrast."""
    out = img
    col = tuple(int(c) for c in color)
    pts = np.round(np.asarray(xy, dtype=np.float64).reshape(-1, 2)).astype(np.int32)
    if radius <= 0:
        h, w = out.shape[:2]
        ok = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        out[pts[ok, 1], pts[ok, 0]] = col
        return out
    for x, y in pts:
        if ring:
            cv2.circle(out, (int(x), int(y)), radius + 1, (20, 20, 20), -1, cv2.LINE_AA)
        cv2.circle(out, (int(x), int(y)), radius, col, -1, cv2.LINE_AA)
    return out


def _to_pixels(coords: torch.Tensor | np.ndarray, padded_hw: tuple[int, int], hw: tuple[int, int],
               disp: tuple[int, int]) -> np.ndarray:
    """[0, 1] coords on the padded map → display pixels of the unpadded image (points in padding dropped)."""
    c = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    px = c[:, 0] * padded_hw[1]
    py = c[:, 1] * padded_hw[0]
    keep = (px < hw[1]) & (py < hw[0])
    return np.stack([px[keep] * disp[1] / hw[1], py[keep] * disp[0] / hw[0]], axis=1)


def _crop_labels(labels: np.ndarray, padded_hw: tuple[int, int], hw: tuple[int, int]) -> np.ndarray:
    """Crop a label grid covering the padded image to the part covering the image itself."""
    gh, gw = labels.shape
    return labels[: max(1, round(gh * hw[0] / padded_hw[0])), : max(1, round(gw * hw[1] / padded_hw[1]))]


# --------------------------------------------------------------------------------------------- #
# panels


def coarse_panel(image: np.ndarray, coarse_logits: torch.Tensor, padded_hw: tuple[int, int],
                 names: Sequence[str]) -> np.ndarray:
    """The coarse argmax (one colour per stride-16 cell) over the photo, with its cell grid and a legend."""
    hw = image.shape[:2]
    k = coarse_logits.shape[0]
    labels = _crop_labels(coarse_logits.argmax(0).numpy(), padded_hw, hw)
    disp = _display_hw(*hw)
    body = label_image(labels, image, k, disp, alpha=0.72)
    body = _grid_lines(body, labels.shape[0], labels.shape[1])
    return _stack(body, legend(list(names), class_colors(k), disp[1]))


def uncertainty_panel(image: np.ndarray, unc: np.ndarray, padded_hw: tuple[int, int]) -> np.ndarray:
    """The coarse uncertainty −(top1 − top2) per cell (hard cell edges) over the photo, with a colour bar."""
    hw = image.shape[:2]
    unc = _crop_labels(np.asarray(unc, dtype=np.float32), padded_hw, hw)
    disp = _display_hw(*hw)
    lo = float(min(unc.min(), -1e-3))
    heat = colorize(_resize(unc, disp, nearest=True), "inferno", vmin=lo, vmax=0.0)
    body = cv2.addWeighted(heat, 0.78, _resize(image, disp), 0.22, 0.0)
    body = _grid_lines(body, unc.shape[0], unc.shape[1], color=(0, 0, 0), alpha=0.25)
    body = add_colorbar(body, lo, 0.0, "inferno", label="")
    note = title_bar("bright = the two best classes are close (uncertain)", body.shape[1], 30, 0.55)
    return _stack(body, note)


def sampling_panel(image: np.ndarray, coarse_logits: torch.Tensor, padded_hw: tuple[int, int],
                   sample: TrainingSample) -> np.ndarray:
    """Training-time points: the k·N pool (grey), the β·N most uncertain of it (red), coverage (blue).

    Drawn over the bilinearly interpolated coarse prediction (dimmed), because that is what the
    uncertainty of each candidate point is computed from.
    """
    hw = image.shape[:2]
    disp = _display_hw(*hw)
    up = F.interpolate(coarse_logits.float(), size=padded_hw, mode="bilinear", align_corners=False)
    labels = up[0].argmax(0).numpy()[: hw[0], : hw[1]]
    k = coarse_logits.shape[1]
    body = label_image(labels, image, k, disp, alpha=0.55)
    body = (body.astype(np.float32) * 0.55 + 255 * 0.1).astype(np.uint8)
    pool = _to_pixels(sample.pool[0], padded_hw, hw, disp)
    imp = _to_pixels(sample.importance[0], padded_hw, hw, disp)
    cov = _to_pixels(sample.coverage[0], padded_hw, hw, disp)
    total = len(pool) + len(imp) + len(cov)
    r = 3 if total < 1500 else 2 if total < 5000 else 1
    body = dots(body, pool, POOL_GREY, max(1, r - 1), ring=False)
    body = dots(body, imp, IMPORTANCE_RED, r)
    body = dots(body, cov, COVERAGE_BLUE, r)
    n_pool, n_imp, n_cov = (int(sample.pool.shape[1]), int(sample.importance.shape[1]),
                            int(sample.coverage.shape[1]))
    key = legend([words.say("k*N pool: {n}", n=n_pool), words.say("beta*N importance: {n}", n=n_imp),
                  words.say("coverage: {n}", n=n_cov)],
                 [POOL_GREY, IMPORTANCE_RED, COVERAGE_BLUE], disp[1])
    return _stack(body, key)


def step_panel(inf: Inference, index: int) -> np.ndarray:
    """One subdivision step: the 2× bilinear map with the N chosen cells, and the map after the point head."""
    hw = inf.image.shape[:2]
    k = inf.coarse.shape[1]
    half = _display_hw(*hw, long_side=DISPLAY - 40)
    if not inf.steps:
        labels = _crop_labels(inf.coarse[0].argmax(0).numpy(), inf.padded_hw, hw)
        body = label_image(labels, inf.image, k, half)
        return _stack(title_bar("the output is the coarse size: nothing to subdivide", body.shape[1]), body)
    step = inf.steps[index]
    before, after = inf.step_labels[index]
    before = _crop_labels(before, inf.padded_hw, hw)
    after = _crop_labels(after, inf.padded_hw, hw)
    left = label_image(before, inf.image, k, half, alpha=0.8)
    right = label_image(after, inf.image, k, half, alpha=0.8)
    if step.height <= 64:
        left = _grid_lines(left, before.shape[0], before.shape[1], alpha=0.25)
        right = _grid_lines(right, after.shape[0], after.shape[1], alpha=0.25)
    pts = _to_pixels(step.coords[0], inf.padded_hw, hw, half)
    cells = half[0] / step.height
    r = int(np.clip(cells * 0.3, 1, 4)) if len(pts) < 6000 else 1
    left = dots(left, pts, IMPORTANCE_RED, r, ring=cells >= 4)
    changed = np.argwhere(before != after)
    if len(changed):
        cxy = np.stack([(changed[:, 1] + 0.5) * half[1] / before.shape[1],
                        (changed[:, 0] + 0.5) * half[0] / before.shape[0]], axis=1)
        right = dots(right, cxy, CHANGED_YELLOW, r, ring=cells >= 4)
    n = step.num_points
    frac = 100.0 * n / (step.height * step.width)
    head = words.say("2x bilinear to {h}x{w} + {n} most uncertain ({frac:.3g}%)", h=step.height, w=step.width,
                     n=n, frac=frac)
    left = _stack(title_bar(head,
                            left.shape[1], scale=0.5), left)
    right = _stack(title_bar(words.say("after the point head: {n} cells changed class", n=len(changed)),
                             right.shape[1],
                             scale=0.5), right)
    return _row([left, right])


def compare_panel(image: np.ndarray, coarse: np.ndarray, bilinear: np.ndarray, refined: np.ndarray,
                  names: Sequence[str], truth: np.ndarray | None = None,
                  ious: dict[str, dict[str, float]] | None = None) -> np.ndarray:
    """Coarse (nearest) · bilinear · PointRend (· ground truth), side by side, with IoUs when known."""
    k = len(names)
    hw = image.shape[:2]
    n_tiles = 4 if truth is not None else 3
    size = 360 if n_tiles == 4 else 420
    disp = _display_hw(*hw, long_side=size)
    tiles = []
    items: list[tuple[str, str, np.ndarray]] = [("coarse (nearest)", "coarse", coarse),
                                                ("bilinear upsampling", "bilinear", bilinear),
                                                ("PointRend", "refined", refined)]
    if truth is not None:
        items.append(("ground truth", "", truth))
    for title, key, labels in items:
        body = label_image(labels, image, k, disp, alpha=0.85)
        head = title_bar(title, disp[1], 30, 0.6)
        if ious and key in ious:
            m = ious[key]
            sub = title_bar(words.say("mIoU {m:.3f}  boundary {b:.3f}", m=m["miou"], b=m["boundary_iou"]),
                            disp[1], 26, 0.5)
            head = _stack(head, sub)
        elif ious:
            head = _stack(head, title_bar("", disp[1], 26))
        tiles.append(_stack(head, body))
    row = _row(tiles)
    return _stack(row, legend(list(names), class_colors(k), row.shape[1]))



#: the Chinese of the figures' texts (core.viz.words; the bundled font subset covers them)
FIGURE_ZH = words.register({
    # (ShapesWorld's class names are core.viz.words' own, shared by every lesson)
    "bright = the two best classes are close (uncertain)": "越亮 = 最好的两个类别越接近（不确定）",
    "k*N pool: {n}": "k·N 候选池：{n}",
    "beta*N importance: {n}": "β·N 重要点：{n}",
    "coverage: {n}": "覆盖点：{n}",
    "the output is the coarse size: nothing to subdivide": "输出就是粗糙尺寸：没有可细分的",
    "2x bilinear to {h}x{w} + {n} most uncertain ({frac:.3g}%)":
        "2 倍双线性放大到 {h}×{w}，加上最不确定的 {n} 个点（{frac:.3g}%）",
    "after the point head: {n} cells changed class": "经过点头之后：{n} 个格子换了类别",
    "coarse (nearest)": "粗糙（最近邻）",
    "bilinear upsampling": "双线性上采样",
    "ground truth": "真值",
    "mIoU {m:.3f}  boundary {b:.3f}": "mIoU {m:.3f}  边界 {b:.3f}",
})
