"""Pictures for the SimOTA lesson: anchors by geometry, per-GT cost maps, dynamic k, matching matrices.

Everything is drawn on the detector's letterboxed input, enlarged to ``DISPLAY`` pixels so that stride-8
anchor points stay distinct when projected. OpenCV for drawing on images; matplotlib (figures always
closed) for the two charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from core.viz import fonts, words
from core.viz.draw import PALETTE, add_colorbar, colorize, draw_boxes, label_strip, put_text, text_size
from core.viz.palette import BLACK, BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, YELLOW

DISPLAY = 512  # side of every image panel, whatever the detector's input size
STRIP = 30  # height of the caption strip above each panel
STATE_COLOURS = {  # anchor geometry classes (RGB, Okabe–Ito)
    "both": GREEN,
    "box": BLUE,
    "centre": ORANGE,
    "neither": GREY,
}
# one colour per GT, Okabe–Ito without vermillion (kept for conflicts and GTs left without a positive)
GT_COLOURS = (ORANGE, SKY, GREEN, PURPLE, BLUE, YELLOW, GREY, BLACK)
CONFLICT = VERMILLION
FONT = cv2.FONT_HERSHEY_SIMPLEX


def gt_colour(i: int) -> tuple[int, int, int]:
    return tuple(int(c) for c in GT_COLOURS[i % len(GT_COLOURS)])


def _zoom(image: np.ndarray) -> float:
    return DISPLAY / max(image.shape[:2])


def _big(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    z = _zoom(image)
    return cv2.resize(image, (round(w * z), round(h * z)), interpolation=cv2.INTER_LINEAR)


def _dim(image: np.ndarray, amount: float = 0.45) -> np.ndarray:
    grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(grey, 1 - amount, np.full_like(image, 255), amount, 0)


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.55,
          colour: tuple[int, int, int] = (20, 20, 20),
          bg: tuple[int, int, int] | None = (255, 255, 255)) -> None:
    (tw, th), base = text_size(text, scale)
    x, y = org
    if bg is not None:
        cv2.rectangle(img, (x - 3, y - th - 4), (x + tw + 3, y + base), bg, -1)
    put_text(img, text, (x, y), scale, colour)


def _gt_boxes(img: np.ndarray, gt: np.ndarray, names: Sequence[str], labels: np.ndarray,
              flagged: Sequence[bool] | None = None, z: float = 1.0) -> np.ndarray:
    texts = [f"GT {i + 1} {names[int(labels[i])]}" for i in range(len(gt))]
    colours = [CONFLICT if flagged is not None and flagged[i] else gt_colour(i) for i in range(len(gt))]
    dashed = list(flagged) if flagged is not None else None
    return draw_boxes(img, gt * z, texts, colours, thickness=2, dashed=dashed)


def _legend(width: int, items: Sequence[tuple[str, tuple[int, int, int]]], height: int = 30) -> np.ndarray:
    bar = np.full((height, width, 3), 255, np.uint8)
    x = 8
    for text, colour in items:
        text = words.say(text)
        cv2.circle(bar, (x + 7, height // 2), 7, colour, -1, cv2.LINE_AA)
        put_text(bar, text, (x + 20, height // 2 + 6), 0.55, (30, 30, 30))
        x += 20 + text_size(text, 0.55)[0][0] + 22
    return bar


def _row(panels: Sequence[np.ndarray], gap: int = 10) -> np.ndarray:
    h = max(p.shape[0] for p in panels)
    padded = [np.pad(p, ((0, h - p.shape[0]), (0, 0), (0, 0)), constant_values=255) for p in panels]
    sep = np.full((h, gap, 3), 255, np.uint8)
    out = [padded[0]]
    for p in padded[1:]:
        out += [sep, p]
    return np.concatenate(out, 1)


def _col(panels: Sequence[np.ndarray]) -> np.ndarray:
    w = max(p.shape[1] for p in panels)
    return np.concatenate([np.pad(p, ((0, 0), (0, w - p.shape[1]), (0, 0)), constant_values=255)
                           for p in panels], 0)


# --------------------------------------------------------------------------------------------- #
# views on the image


def detections_view(image: np.ndarray, dets: Any, names: Sequence[str], gt: np.ndarray,
                    labels: np.ndarray, threshold: float) -> np.ndarray:
    z = _zoom(image)
    img = _big(image)
    if len(dets.boxes):
        texts = [f"{names[int(c)]} {s:.2f}" for c, s in zip(dets.labels, dets.scores, strict=True)]
        colours = [PALETTE[int(c) % len(PALETTE)] for c in dets.labels]
        img = draw_boxes(img, dets.boxes * z, texts, colours, thickness=3)
    for i, box in enumerate(gt):
        x1, y1, x2, y2 = (int(round(v * z)) for v in box)
        _text(img, f"GT {i + 1}", (x1 + 3, min(y2 - 6, img.shape[0] - 6)), 0.5, (255, 255, 255), gt_colour(i))
    strip = words.say("{n} detections, score >= {t:.2f}", n=len(dets.boxes), t=threshold)
    return label_strip(img, strip, STRIP)


def anchors_view(image: np.ndarray, points: np.ndarray, strides: np.ndarray, res: Any, gt: np.ndarray,
                 names: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """One panel per stride: every anchor coloured in-box / in-centre / both / neither."""
    z = _zoom(image)
    any_box = res.in_box.any(0)
    any_ctr = res.in_center.any(0)
    panels = []
    for s in np.unique(strides):
        img = _gt_boxes(_dim(_big(image)), gt, names, labels, z=z)
        half = res.center_radius * s * z
        for box in gt:  # the centre squares of this level
            cx, cy = (box[0] + box[2]) / 2 * z, (box[1] + box[3]) / 2 * z
            cv2.rectangle(img, (int(cx - half), int(cy - half)), (int(cx + half), int(cy + half)),
                          STATE_COLOURS["centre"], 1, cv2.LINE_AA)
        sel = np.flatnonzero(strides == s)
        radius = {8: 3, 16: 5, 32: 7}.get(int(s), 4)
        for a in sel:
            state = ("both" if any_box[a] and any_ctr[a] else "box" if any_box[a] else
                     "centre" if any_ctr[a] else "neither")
            x, y = (int(round(v * z)) for v in points[a])
            r = radius if state != "neither" else max(1, radius // 2)
            if state != "neither":
                cv2.circle(img, (x, y), r + 1, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(img, (x, y), r, STATE_COLOURS[state], -1, cv2.LINE_AA)
        n_cand = int(res.candidates[sel].sum())
        strip = words.say("stride {s}: {n} anchors, {c} candidates", s=int(s), n=len(sel), c=n_cand)
        panels.append(label_strip(img, strip, 30))
    legend = _legend(sum(p.shape[1] for p in panels) + 20 * (len(panels) - 1), [
        ("in box and centre square", STATE_COLOURS["both"]), ("in box only", STATE_COLOURS["box"]),
        ("in centre square only", STATE_COLOURS["centre"]), ("neither", STATE_COLOURS["neither"])])
    return _col([_row(panels), legend])


def metric_view(image: np.ndarray, points: np.ndarray, strides: np.ndarray, shown: Any, focus: int,
                gt: np.ndarray, names: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """The focus GT's metric (SimOTA cost, ATSS IoU, TAL alignment) over the anchors of each stride."""
    z = _zoom(image)
    values = shown.metric[focus]
    if shown.method == "SimOTA":
        finite = np.isfinite(values)
        base = np.where(finite, values - shown.penalty * (~shown.geometry_ok[focus]), np.nan)
        show = finite
        penalised = finite & ~shown.geometry_ok[focus]
        cmap, label = "viridis", "cost"
        lo = max(float(np.nanmin(base[show])), 1e-3) if show.any() else 1e-3
        hi = max(float(np.nanpercentile(base[show], 95)), lo * 1.01) if show.any() else 1.0
        colour_of = base
    else:
        show = shown.candidate_mask[focus] if shown.method == "ATSS" else shown.in_gt[focus]
        penalised = np.zeros_like(show)
        cmap, label = "inferno", shown.metric_name
        colour_of = values
        lo, hi = 0.0, float(values[show].max()) if show.any() and values[show].max() > 0 else 1.0
    chosen = shown.fg_mask & (shown.matched_gt == focus)
    panels = []
    for s in np.unique(strides):
        img = _dim(_big(image), 0.55)
        sel = np.flatnonzero(strides == s)
        half = int(s * z / 2)
        layer = img.copy()
        for a in sel:
            if not show[a]:
                continue
            x, y = (int(round(v * z)) for v in points[a])
            if penalised[a]:
                cv2.rectangle(layer, (x - half, y - half), (x + half - 1, y + half - 1), (205, 205, 205), -1)
                continue
            if shown.method == "SimOTA":  # costs span decades: colour by log cost
                t = 0.0 if hi <= lo else float(np.clip(np.log(colour_of[a] / lo) / np.log(hi / lo), 0, 1))
            else:
                t = 0.0 if hi <= lo else float(np.clip((colour_of[a] - lo) / (hi - lo), 0, 1))
            t = 1 - t if shown.method == "SimOTA" else t  # bright = good in every view
            c = colorize(np.array([[t]]), cmap, 0.0, 1.0)[0, 0]
            cv2.rectangle(layer, (x - half, y - half), (x + half - 1, y + half - 1),
                          tuple(int(v) for v in c), -1)
        img = cv2.addWeighted(layer, 0.8, img, 0.2, 0)
        for a in sel:
            x, y = (int(round(v * z)) for v in points[a])
            if penalised[a]:
                d = max(2, half // 3)
                cv2.line(img, (x - d, y - d), (x + d, y + d), (120, 120, 120), 1, cv2.LINE_AA)
                cv2.line(img, (x - d, y + d), (x + d, y - d), (120, 120, 120), 1, cv2.LINE_AA)
            if chosen[a]:
                cv2.rectangle(img, (x - half, y - half), (x + half - 1, y + half - 1), (255, 255, 255), 2)
        img = draw_boxes(img, gt[focus:focus + 1] * z, [f"GT {focus + 1} {names[int(labels[focus])]}"],
                         [gt_colour(focus)], thickness=2)
        panels.append(label_strip(img, words.say("stride {s}", s=int(s)), 30))
    row = _row(panels)
    if shown.method == "SimOTA":
        row = add_colorbar(row, hi, lo, "viridis", words.say("log cost"))
        where = words.say("box and centre square" if shown.preset == "yolox-0.3" else "centre square")
        note = words.say(_SIMOTA_NOTE, g=focus + 1, where=where, penalty=shown.penalty)
    else:
        row = add_colorbar(row, lo, hi, cmap, label[:8])
        what = (words.say("candidates (k nearest per level), threshold = mean + std = {t:.2f}",
                          t=shown.thresholds[focus]) if shown.method == "ATSS"
                else words.say("anchors inside the box"))
        note = words.say("GT {g}: {label} on {what}; white frame = its final positives", g=focus + 1,
                         label=label, what=what)
    return label_strip(row, f"{shown.method}  |  {note}", 30)


def positives_view(image: np.ndarray, points: np.ndarray, strides: np.ndarray, res: Any, gt: np.ndarray,
                   names: Sequence[str], labels: np.ndarray, title: str | None = None) -> np.ndarray:
    """Final positives coloured by their GT; GTs left without any positive are flagged in red."""
    z = _zoom(image)
    counts = res.positives_per_gt()
    img = _dim(_big(image), 0.35)
    for a in np.flatnonzero(res.fg_mask):
        g = int(res.matched_gt[a])
        x, y = (int(round(v * z)) for v in points[a])
        cx, cy = (int(round((gt[g, 0] + gt[g, 2]) / 2 * z)), int(round((gt[g, 1] + gt[g, 3]) / 2 * z)))
        cv2.line(img, (x, y), (cx, cy), gt_colour(g), 1, cv2.LINE_AA)
    for a in np.flatnonzero(res.fg_mask):
        g = int(res.matched_gt[a])
        x, y = (int(round(v * z)) for v in points[a])
        r = {8: 5, 16: 8, 32: 11}.get(int(strides[a]), 6)
        cv2.circle(img, (x, y), r + 2, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, (x, y), r, gt_colour(g), -1, cv2.LINE_AA)
        if getattr(res, "conflicts", None) is not None and res.conflicts[a]:
            cv2.circle(img, (x, y), r + 4, CONFLICT, 2, cv2.LINE_AA)
    img = _gt_boxes(img, gt, names, labels, flagged=[c == 0 for c in counts], z=z)
    for g in np.flatnonzero(counts == 0):
        x1, y1, x2, y2 = (int(round(v * z)) for v in gt[g])
        _text(img, words.say("no positive anchor!"), (x1 + 4, min(y2 + 20, img.shape[0] - 6)), 0.55,
              (255, 255, 255), CONFLICT)
    text = title or words.say("{method}: {n} positives  |  per GT: {counts}", method=res.method,
                              n=int(res.fg_mask.sum()), counts=", ".join(str(int(c)) for c in counts))
    return label_strip(img, text, 30)


def compare_view(image: np.ndarray, points: np.ndarray, strides: np.ndarray, results: dict[str, Any],
                 gt: np.ndarray, names: Sequence[str], labels: np.ndarray) -> np.ndarray:
    panels = []
    for name, res in results.items():
        counts = res.positives_per_gt()
        extra = {"SimOTA": getattr(res, "preset", ""), "ATSS": "k=9/level, IoU>=mean+std",
                 "TAL": "t=s*u^6, top 13"}[name]
        title = words.say("{name} ({extra}): {n} pos, per GT {counts}", name=name, extra=extra,
                          n=int(res.fg_mask.sum()), counts=",".join(map(str, counts)))
        panel = positives_view(image, points, strides, res, gt, names, labels, title)
        panels.append(cv2.resize(panel, (panel.shape[1] * 3 // 4, panel.shape[0] * 3 // 4),
                                 interpolation=cv2.INTER_AREA))
    return _row(panels)


# --------------------------------------------------------------------------------------------- #
# charts (matplotlib)


def _figure_to_array(fig: Any) -> np.ndarray:
    import matplotlib.pyplot as plt

    try:
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    finally:
        plt.close(fig)


def dynamic_k_chart(topk_ious: np.ndarray, dynamic_k: np.ndarray, counts: np.ndarray | None = None,
                    title: str = "") -> np.ndarray:
    """Per GT, its top-10 IoUs stacked into one bar; dynamic k = int(height), at least 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = len(dynamic_k)
    zh = words.current() == "zh"
    family = list(fonts.matplotlib_family()) if zh else matplotlib.rcParams["font.family"]
    with matplotlib.rc_context({"font.family": family}):  # the CJK subset as the fallback for Chinese
        fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * g + 3), 4.4), dpi=110)
        _dynamic_k_axes(ax, topk_ious, dynamic_k, counts, title)
        return _figure_to_array(fig)


def _dynamic_k_axes(ax: Any, topk_ious: np.ndarray, dynamic_k: np.ndarray, counts: np.ndarray | None,
                    title: str) -> None:
    g = len(dynamic_k)
    for i in range(g):
        bottom = 0.0
        for j, v in enumerate(topk_ious[i]):
            shade = 0.55 + 0.45 * (j % 2)
            colour = np.array(gt_colour(i)) / 255 * shade
            ax.bar(i, v, bottom=bottom, color=colour, edgecolor="white", linewidth=0.8, width=0.7)
            bottom += v
        k = int(dynamic_k[i])
        ax.plot([i - 0.42, i + 0.42], [k, k], color="black", linewidth=2.5)
        pos = "\n" + words.say("{n} pos", n=int(counts[i])) if counts is not None else ""
        label = f"Σ={bottom:.2f}\nk={k}" + pos
        ax.text(i, max(bottom, k) + 0.1, label, ha="center", va="bottom", fontsize=11, fontweight="bold")
    ax.set_xticks(range(g), [f"GT {i + 1}" for i in range(g)])
    ax.set_xlim(-0.7, max(g, 3) - 0.3)
    top = max(2.0, float(topk_ious.sum(1).max()) if g else 1.0)
    ax.set_ylim(0, top + 1.6)
    ax.set_ylabel(words.say("sum of the top-10 IoUs"))
    ax.set_title(title or words.say("dynamic k = max(1, int(Σ of each GT's 10 best IoUs))\n"
                                    "one segment per IoU; black line = k"), fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.figure.subplots_adjust(left=0.11, right=0.98, top=0.86, bottom=0.09)  # fixed: tight_layout is slow


def matching_chart(cost: np.ndarray, before: np.ndarray, after: np.ndarray, columns: np.ndarray,
                   column_labels: Sequence[str], conflicts: np.ndarray) -> np.ndarray:
    """The matching matrix over the selected columns, before and after conflict resolution (OpenCV)."""
    g, n = before.shape[0], len(columns)
    cw = 46 if n <= 24 else 36
    ch, left, top, foot = 36, 62, 34, 34
    show_text = n <= 40

    def panel(matrix: np.ndarray, title: str) -> np.ndarray:
        img = np.full((top + g * ch + foot, max(left + max(n, 1) * cw + 10, 720), 3), 255, np.uint8)
        put_text(img, title, (8, 22), 0.6, (20, 20, 20))
        for r in range(g):
            y0 = top + r * ch
            cv2.putText(img, f"GT {r + 1}", (6, y0 + ch // 2 + 6), FONT, 0.55, gt_colour(r), 2, cv2.LINE_AA)
            for c, a in enumerate(columns):
                x0 = left + c * cw
                on = bool(matrix[r, a])
                face = gt_colour(r) if on else (244, 244, 244)
                cv2.rectangle(img, (x0 + 1, y0 + 1), (x0 + cw - 2, y0 + ch - 2), face, -1)
                v = cost[r, a]
                if show_text and np.isfinite(v) and v < 1e4:
                    text = f"{v:.2f}" if v < 10 else f"{v:.0f}"
                    scale = 0.42 if cw >= 46 else 0.36
                    (tw, _), _ = cv2.getTextSize(text, FONT, scale, 1)
                    ink = (255, 255, 255) if on and sum(face) < 500 else (30, 30, 30)
                    cv2.putText(img, text, (x0 + (cw - tw) // 2, y0 + ch // 2 + 5), FONT, scale, ink,
                                2 if on else 1, cv2.LINE_AA)
                elif show_text and np.isfinite(v):
                    cv2.putText(img, "pen.", (x0 + 6, y0 + ch // 2 + 5), FONT, 0.36, (150, 150, 150), 1,
                                cv2.LINE_AA)
        for c, a in enumerate(columns):
            x0 = left + c * cw
            if conflicts[a]:
                cv2.rectangle(img, (x0, top - 1), (x0 + cw - 1, top + g * ch), CONFLICT, 3)
            first, _, second = column_labels[c].partition(" ")
            for k, part in enumerate((first, second)):
                if part:
                    (tw, _), _ = cv2.getTextSize(part, FONT, 0.36, 1)
                    cv2.putText(img, part, (x0 + (cw - tw) // 2, top + g * ch + 14 + 14 * k), FONT, 0.36,
                                (60, 60, 60), 1, cv2.LINE_AA)
        return img

    upper = panel(before, words.say("before: each GT takes its k cheapest candidates (cell text = cost)"))
    lower = panel(after,
                  words.say("after: an anchor claimed by several GTs (red frame) stays with the cheapest"))
    if n == 0:
        put_text(upper, words.say("no candidate was selected"), (left, top + 24), 0.6, CONFLICT)
    return _col([upper, np.full((8, upper.shape[1], 3), 255, np.uint8), lower])


def _matching_columns(before: np.ndarray, conflicts: np.ndarray, limit: int = 48) -> np.ndarray:
    cols = np.flatnonzero(before.any(0))
    if len(cols) > limit:
        first = cols[conflicts[cols]]
        rest = cols[~conflicts[cols]]
        cols = np.sort(np.concatenate([first, rest[: max(0, limit - len(first))]]))[:limit]
    return cols


# --------------------------------------------------------------------------------------------- #
# the lesson's image set


def render_lesson(pred: Any, gt: np.ndarray, labels: np.ndarray, names: Sequence[str], sim: Any, shown: Any,
                  results: dict[str, Any], focus: int, threshold: float) -> tuple[dict[str, np.ndarray],
                                                                                  dict[str, str]]:
    img, pts, st = pred.image, pred.points, pred.strides
    cols = _matching_columns(sim.matching_before, sim.conflicts)
    col_labels = [f"#{a} s{int(st[a])}" for a in cols]
    images = {
        "detections": detections_view(img, pred.detections, names, gt, labels, threshold),
        "positives": positives_view(img, pts, st, shown, gt, names, labels),
        "anchors": anchors_view(img, pts, st, sim, gt, names, labels),
        "cost": metric_view(img, pts, st, shown, focus, gt, names, labels),
        "dynamic_k": dynamic_k_chart(sim.topk_ious, sim.dynamic_k, sim.positives_per_gt()),
        "matching": matching_chart(sim.cost, sim.matching_before, sim.matching, cols, col_labels,
                                   sim.conflicts),
        "compare": compare_view(img, pts, st, results, gt, names, labels),
    }
    captions = {
        "detections": "Detections (predictions of the chosen checkpoint)",
        "positives": f"Final positives of {shown.method}, coloured by GT",
        "anchors": f"SimOTA candidates per stride ({sim.preset})",
        "cost": f"{shown.method}: {shown.metric_name} for GT {focus + 1}",
        "dynamic_k": "Dynamic k from the top-10 IoUs",
        "matching": "Matching matrix before / after conflicts",
        "compare": "SimOTA vs ATSS vs TAL on the same predictions",
    }
    return images, captions


def _grid_panel(values: np.ndarray, colours: np.ndarray | None, title: str, cmap: str = "viridis",
                reverse: bool = False, marks: np.ndarray | None = None) -> np.ndarray:
    """1000 candidates as a 25 × 40 grid of cells (index row-major), for the abstract example."""
    rows, cols, cell = 25, 40, 16
    img = np.full((rows * cell, cols * cell, 3), 255, np.uint8)
    n = len(values) if colours is None else len(colours)
    for j in range(n):
        r, c = divmod(j, cols)
        if colours is not None:
            colour = tuple(int(v) for v in colours[j])
        else:
            t = float(values[j])
            colour = tuple(int(v) for v in colorize(np.array([[1 - t if reverse else t]]), cmap, 0, 1)[0, 0])
        x0, y0 = c * cell, r * cell
        cv2.rectangle(img, (x0 + 1, y0 + 1), (x0 + cell - 2, y0 + cell - 2), colour, -1)
        if marks is not None and marks[j]:
            cv2.rectangle(img, (c * cell, r * cell), (c * cell + cell - 1, r * cell + cell - 1), CONFLICT, 2)
    return label_strip(img, words.say(title), 30)


def render_notes(ex: dict[str, np.ndarray], m: dict[str, Any], focus: int) -> tuple[dict[str, np.ndarray],
                                                                                   dict[str, str]]:
    cost, ious = ex["cost"], ex["ious"]
    before, after = m["before"].numpy(), m["after"].numpy()
    conflicts = m["conflicts"].numpy()
    g, n = cost.shape
    grey = np.array([235, 235, 235])

    def owner_colours(matrix: np.ndarray) -> np.ndarray:
        out = np.tile(grey, (n, 1))
        for r in range(g):
            out[matrix[r]] = gt_colour(r)
        return out

    best_iou = ious.max(0)
    focus_cost = np.clip((np.log(cost[focus]) - np.log(0.2)) / (np.log(60) - np.log(0.2)), 0, 1)
    cols = np.arange(0, 20)
    images = {
        "detections": _grid_panel(best_iou / best_iou.max(), None,
                                  "1000 candidates (#1 top-left, row-major): best IoU with any GT",
                                  "inferno"),
        "positives": _grid_panel(np.zeros(n), owner_colours(after),
                                 "final positives coloured by GT: GT 1 keeps 2, GT 2 gets 4, GT 3 gets 3",
                                 marks=conflicts),
        "anchors": _grid_panel(np.zeros(n), owner_colours(before),
                               "before conflicts: each GT's k cheapest (red frame = taken twice)",
                               marks=conflicts),
        "cost": _grid_panel(focus_cost, None,
                            words.say("cost of GT {g} (bright = cheap, log scale)", g=focus + 1),
                            "viridis", reverse=True),
        "dynamic_k": dynamic_k_chart(m["topk_ious"].numpy(), m["dynamic_k"].numpy(), after.sum(1),
                                     words.say(_NOTES_K)),
        "matching": matching_chart(cost, before, after, cols, [f"#{j + 1}" for j in cols], conflicts),
        "compare": _row([_grid_panel(np.zeros(n), owner_colours(before), "before", marks=conflicts),
                         _grid_panel(np.zeros(n), owner_colours(after), "after", marks=conflicts)]),
    }
    captions = {
        "detections": "Worked example: best IoU per candidate",
        "positives": "Worked example: final positives",
        "anchors": "Worked example: each GT's k cheapest",
        "cost": f"Worked example: cost of GT {focus + 1}",
        "dynamic_k": "Worked example: dynamic k = 3, 4, 3",
        "matching": "Worked example: candidate #5 goes to GT 2 (0.3 < 0.4)",
        "compare": "Worked example: before / after conflicts",
    }
    return images, captions


_SIMOTA_NOTE = ("GT {g}: cost = cls + 3*(-log IoU); light grey x = outside the {where} (+{penalty:.0e}); "
                "white frame = final positives")
_NOTES_K = "the notes' example: top-10 IoU sums 3.77, 4.54, 3.68 -> k = 3, 4, 3"
#: the Chinese of the figures' texts (core.viz.words; the bundled font subset covers them)
FIGURE_ZH = words.register({
    '{n} detections, score >= {t:.2f}':
        '{n} 个检测框，得分 ≥ {t:.2f}',
    'stride {s}: {n} anchors, {c} candidates':
        '步长 {s}：{n} 个锚点，{c} 个候选',
    'stride {s}':
        '步长 {s}',
    'in box and centre square':
        '在框内也在中心方块内',
    'in box only':
        '只在框内',
    'in centre square only':
        '只在中心方块内',
    'neither':
        '都不在',
    'log cost':
        'log 代价',
    'box and centre square':
        '框和中心方块',
    'centre square':
        '中心方块',
    _SIMOTA_NOTE:
        'GT {g}：代价 = cls + 3·(−log IoU)；浅灰 × = 在{where}之外（+{penalty:.0e}）；白框 = 最终正样本',
    'candidates (k nearest per level), threshold = mean + std = {t:.2f}':
        '候选（每层最近的 k 个），阈值 = 均值 + 标准差 = {t:.2f}',
    'anchors inside the box':
        '框内的锚点',
    'GT {g}: {label} on {what}; white frame = its final positives':
        'GT {g}：{what}上的 {label}；白框 = 它的最终正样本',
    'no positive anchor!':
        '没有正样本锚点！',
    '{method}: {n} positives  |  per GT: {counts}':
        '{method}：{n} 个正样本 | 每个 GT：{counts}',
    '{name} ({extra}): {n} pos, per GT {counts}':
        '{name}（{extra}）：{n} 个正样本，每个 GT {counts}',
    '{n} pos':
        '{n} 个正样本',
    'sum of the top-10 IoUs':
        '前 10 个 IoU 之和',
    "dynamic k = max(1, int(Σ of each GT's 10 best IoUs))\none segment per IoU; black line = k":
        '动态 k = max(1, int(每个 GT 最好的 10 个 IoU 之和))\n每段是一个 IoU；黑线 = k',
    'before: each GT takes its k cheapest candidates (cell text = cost)':
        '之前：每个 GT 取代价最小的 k 个候选（格子里是代价）',
    'after: an anchor claimed by several GTs (red frame) stays with the cheapest':
        '之后：被几个 GT 同时选中的锚点（红框）留给代价最小的那个',
    'no candidate was selected':
        '没有选中任何候选',
    '1000 candidates (#1 top-left, row-major): best IoU with any GT':
        '1000 个候选（#1 在左上，按行排列）：与任一 GT 的最大 IoU',
    'final positives coloured by GT: GT 1 keeps 2, GT 2 gets 4, GT 3 gets 3':
        '按 GT 上色的最终正样本：GT 1 留下 2 个，GT 2 得到 4 个，GT 3 得到 3 个',
    "before conflicts: each GT's k cheapest (red frame = taken twice)":
        '解决冲突之前：每个 GT 代价最小的 k 个（红框 = 被选了两次）',
    'cost of GT {g} (bright = cheap, log scale)':
        'GT {g} 的代价（越亮越便宜，对数刻度）',
    _NOTES_K:
        '笔记里的例子：前 10 个 IoU 之和 3.77、4.54、3.68 → k = 3、4、3',
    'before':
        '之前',
    'after':
        '之后',
})
