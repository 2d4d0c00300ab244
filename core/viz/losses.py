"""Pictures of the losses lesson (``core.losses_lesson``), drawn with OpenCV (RGB uint8 out).

A matplotlib figure costs more than the whole lesson's computation, so the charts (loss shares, the
focal-loss curves, the QFL targets, the edge distributions, the keypoint similarities) are drawn here
with the shared primitives of :mod:`core.viz.draw`. Every picture writes its numbers or labels: colour
never carries meaning alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from core.losses import COCO_KEYPOINTS
from core.viz import words
from core.viz.draw import _fit, _text, add_colorbar, colorize, label_strip
from core.viz.palette import BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, YELLOW, categorical

say = words.say  # every text drawn below, in the page's language (English outside words.language)

#: the Chinese of the text drawn into the losses figures (core.viz.words; the font subset covers them)
ZH = words.register({
    "{name} · stride {s} · easy neg. {share:.0%}": "{name} · 步长 {s} · 简单负样本 {share:.0%}",
    "positives": "正样本",
    "hard negatives": "困难负样本",
    "easy negatives": "简单负样本",
    "stride {s}": "步长 {s}",
    "all anchors": "全部锚点",
    "α = {alpha:g}, γ = {gamma:g}; easy negative: p < {t:g}":
        "α = {alpha:g}，γ = {gamma:g}；简单负样本：p < {t:g}",
    "well-classified": "已分对",
    "probability of the true class p_t": "真实类别的概率 p_t",
    " (chosen)": "（当前）",
    "one-hot target": "one-hot 目标",
    "QFL target = IoU": "QFL 目标 = IoU",
    "predicted score σ": "预测分数 σ",
    "{n} positives ({m} shown) · mean QFL {soft:.3f} with the IoU target, {hard:.3f} with the one-hot target "
    "(β = {beta:g})": "{n} 个正样本（显示 {m} 个）· 平均 QFL：IoU 目标 {soft:.3f}，one-hot 目标 {hard:.3f}"
                      "（β = {beta:g}）",
    "no positives: SimOTA assigned no anchor (no GT box)": "没有正样本：SimOTA 没有分配锚点（没有 GT 框）",
    "no positives": "没有正样本",
    "left": "左",
    "top": "上",
    "right": "右",
    "bottom": "下",
    "sharp": "尖锐",
    "two-peaked": "双峰",
    "flat": "平坦",
    "{edge}: {shape}, max p {p:.2f}": "{edge}：{shape}，最大 p {p:.2f}",
    "{label} · {note} · stride {s:g}": "{label} · {note} · 步长 {s:g}",
    "detection {i} of {n} (score {score:.2f})": "第 {i} 个检测，共 {n} 个（分数 {score:.2f}）",
    "the best-scoring anchor (no detection above the threshold)": "得分最高的锚点（没有检测超过阈值）",
    "{edge}: E = {e:.2f} strides = {px:.1f} px · {shape} · H = {h:.2f} bits":
        "{edge}：E = {e:.2f} 个步长 = {px:.1f} 像素 · {shape} · H = {h:.2f} 比特",
    "bin (distance in strides of {s:g} px)": "bin（距离，单位是 {s:g} 像素的步长）",
    "OKS {oks:.3f} · loss 1 − OKS {loss:.3f} · s = √area = {s:.0f} px":
        "OKS {oks:.3f} · 损失 1 − OKS {loss:.3f} · s = √面积 = {s:.0f} 像素",
    "not labelled (v = 0)": "未标注（v = 0）",
    # COCO's keypoints (core.losses.COCO_KEYPOINTS)
    "nose": "鼻子", "left_eye": "左眼", "right_eye": "右眼", "left_ear": "左耳", "right_ear": "右耳",
    "left_shoulder": "左肩", "right_shoulder": "右肩", "left_elbow": "左肘", "right_elbow": "右肘",
    "left_wrist": "左腕", "right_wrist": "右腕", "left_hip": "左髋", "right_hip": "右髋",
    "left_knee": "左膝", "right_knee": "右膝", "left_ankle": "左踝", "right_ankle": "右踝",
})

WHITE, INK, GRID = (255, 255, 255), (30, 30, 30), (215, 215, 215)
TILE = 224  # side of one stride's heatmap tile
STRIDES = (8, 16, 32)
EDGE_COLOURS = (ORANGE, SKY, GREEN, VERMILLION)  # left, top, right, bottom
FL_GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)  # the RetinaNet paper's Figure 1
GROUP_COLOURS = {"positives": VERMILLION, "hard negatives": ORANGE, "easy negatives": SKY}
#: COCO's person skeleton (pairs of 0-based keypoint indices), as in the dataset's annotation file
SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
            (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))
KP_DISPLAY = 512  # the keypoint picture's long side (clicks on it map back by max(h, w) / KP_DISPLAY)
DFL_DISPLAY = 576  # the letterboxed network input (192²) enlarged ×3 for the edge distributions
LOG_DECADES = 4.0  # the loss heatmaps span this many decades below the row's largest anchor loss


def _grid_shape(size: int, stride: int) -> tuple[int, int]:
    n = -(-size // stride)
    return n, n


def focal_maps(image: np.ndarray, strides: np.ndarray, fg: np.ndarray, focal: dict[str, Any]) -> np.ndarray:
    """Two rows (BCE, focal loss) × three strides: every anchor's loss (summed over classes) over the
    network input, log-scaled over :data:`LOG_DECADES` decades below the row's largest value (one colour
    bar per row); positives ringed white. Each tile says the share of its loss the easy negatives carry."""
    size = image.shape[0]
    rows = []
    for key, name in (("bce_per_anchor", "BCE"), ("fl_per_anchor", "FL")):
        loss = np.asarray(focal[key], dtype=np.float64)
        hi = math.log10(max(float(loss.max()), 1e-12))
        lo = hi - LOG_DECADES
        tiles = []
        for s in STRIDES:
            rows_, cols_ = _grid_shape(size, s)
            sel = strides == s
            grid = np.log10(np.clip(loss[sel], 1e-30, None)).reshape(rows_, cols_)
            heat = colorize(np.clip(grid, lo, hi), "inferno", lo, hi)
            heat = cv2.resize(heat, (TILE, TILE), interpolation=cv2.INTER_NEAREST)
            base = cv2.resize(image, (TILE, TILE), interpolation=cv2.INTER_AREA)
            tile = cv2.addWeighted(base, 0.35, heat, 0.65, 0.0)
            cell = TILE / cols_
            for a in np.flatnonzero(sel & fg) - np.flatnonzero(sel)[0]:
                r, c = divmod(int(a), cols_)
                centre = (int((c + 0.5) * cell), int((r + 0.5) * cell))
                cv2.circle(tile, centre, max(3, int(cell * 0.35)), WHITE, 2, cv2.LINE_AA)
            share = focal["per_stride"][str(s)][name]["easy negatives"]
            tiles.append(label_strip(tile, say("{name} · stride {s} · easy neg. {share:.0%}", name=name, s=s,
                                               share=share), height=24, scale=0.42))
        row = np.concatenate([np.concatenate([t, np.full((t.shape[0], 6, 3), 255, np.uint8)], 1)
                              for t in tiles], 1)
        rows.append(add_colorbar(row, lo, hi, "inferno", label=f"log10 {name}"))
    gap = np.full((8, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([rows[0], gap, rows[1]], 0)


def share_chart(focal: dict[str, Any], width: int = 760) -> np.ndarray:
    """Stacked bars: which anchors carry the total loss — positives, hard negatives, easy negatives —
    under BCE and under focal loss, per stride and over all anchors, with the percentages written."""
    groups = ("positives", "hard negatives", "easy negatives")
    rows = ([(say("stride {s}", s=s), focal["per_stride"][str(s)]) for s in STRIDES]
            + [(say("all anchors"), focal["total"])])
    left, top, bar_h = 150, 40, 18
    height = top + len(rows) * (2 * bar_h + 16) + 30
    img = np.full((height, width, 3), 255, np.uint8)
    span = width - left - 20
    x = left
    for g in groups:
        cv2.rectangle(img, (x, 10), (x + 12, 22), GROUP_COLOURS[g], -1)
        _text(img, say(g), (x + 16, 21), 0.38)
        x += 150
    for i, (name, data) in enumerate(rows):
        y = top + i * (2 * bar_h + 16)
        _text(img, name, (6, y + bar_h + 4), 0.42)
        for j, loss in enumerate(("BCE", "FL")):
            yy = y + j * bar_h
            _text(img, loss, (left - 34, yy + 14), 0.36)
            x0 = left
            for g in groups:
                w = int(round(data[loss][g] * span))
                if w > 0:
                    cv2.rectangle(img, (x0, yy + 1), (x0 + w, yy + bar_h - 2), GROUP_COLOURS[g], -1)
                    if w > 34:
                        _text(img, f"{data[loss][g]:.0%}", (x0 + 3, yy + 13), 0.33, INK)
                x0 += w
    _text(img, say("α = {alpha:g}, γ = {gamma:g}; easy negative: p < {t:g}", alpha=focal["alpha"],
                   gamma=focal["gamma"], t=focal["easy_threshold"]), (left, height - 10), 0.36)
    return img


def focal_loss_values(p_t: np.ndarray, gamma: float) -> np.ndarray:
    """``−(1 − p_t)^γ log p_t`` (the RetinaNet paper's Figure 1, no α)."""
    return -((1 - p_t) ** gamma) * np.log(p_t)


def fl_curves(gamma: float, width: int = 560, height: int = 360) -> np.ndarray:
    """Focal loss against the probability of the true class for γ = 0, 0.5, 1, 2, 5 (the RetinaNet
    paper's Figure 1), with the chosen γ in black; the well-classified region p_t > 0.6 shaded."""
    left, right, top, bottom = 50, 150, 20, 40
    img = np.full((height, width, 3), 255, np.uint8)
    pw, ph = width - left - right, height - top - bottom
    ymax = 5.0

    def xy(p: float, v: float) -> tuple[int, int]:
        return (left + int(round(p * pw)), top + int(round((1 - min(v, ymax) / ymax) * ph)))

    x6 = xy(0.6, 0)[0]
    img[top:top + ph, x6:left + pw] = (245, 245, 235)
    _text(img, say("well-classified"), (x6 + 6, top + 16), 0.36)
    for v in range(0, 6):
        y = xy(0, v)[1]
        cv2.line(img, (left, y), (left + pw, y), GRID, 1)
        _text(img, str(v), (left - 16, y + 5), 0.36)
    for p in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        x = xy(p, 0)[0]
        _text(img, f"{p:g}", (x - 8, top + ph + 18), 0.36)
    _text(img, say("probability of the true class p_t"), (left + pw // 2 - 110, height - 6), 0.38)
    ps = np.linspace(0.005, 1.0, 240)
    curves = [(g, categorical(i), 2) for i, g in enumerate(FL_GAMMAS)]
    if not any(abs(gamma - g) < 1e-9 for g in FL_GAMMAS):
        curves.append((gamma, INK, 2))
    for i, (g, colour, thick) in enumerate(curves):
        pts = np.array([xy(p, v) for p, v in zip(ps, focal_loss_values(ps, g), strict=True)], np.int32)
        chosen = abs(g - gamma) < 1e-9
        cv2.polylines(img, [pts], False, INK if chosen else colour, thick + (1 if chosen else 0), cv2.LINE_AA)
        ly = top + 14 + 20 * i
        cv2.line(img, (left + pw + 12, ly - 4), (left + pw + 34, ly - 4), INK if chosen else colour, 3)
        _text(img, f"γ = {g:g}" + (say(" (chosen)") if chosen else ""), (left + pw + 38, ly), 0.36)
    cv2.rectangle(img, (left, top), (left + pw, top + ph), INK, 1)
    return img


def qfl_chart(image: np.ndarray, points: np.ndarray, fg: np.ndarray, gt: np.ndarray, qfl: dict[str, Any],
              limit: int = 24) -> np.ndarray:
    """Left: the positives on the network input, coloured by their soft target (IoU, viridis), GT boxes
    dashed. Right: per positive (up to ``limit``), the one-hot target 1 (grey), QFL's soft target IoU
    (blue) and the predicted score σ (orange), with the QFL of each."""
    side = 300
    f = side / image.shape[0]
    pic = cv2.resize(image, (side, side), interpolation=cv2.INTER_LINEAR)
    for k, box in enumerate(gt):
        x1, y1, x2, y2 = (int(round(v * f)) for v in box)
        cv2.rectangle(pic, (x1, y1), (x2, y2), categorical(k), 2)
        _text(pic, f"GT {k + 1}", (x1 + 2, max(12, y1 - 3)), 0.36, WHITE)
    rows = qfl["positives"]
    for r in rows:
        x, y = points[r["anchor"]] * f
        colour = tuple(int(c) for c in colorize(np.array([[r["iou_target"]]]), "viridis", 0.0, 1.0)[0, 0])
        cv2.circle(pic, (int(x), int(y)), 5, colour, -1, cv2.LINE_AA)
        cv2.circle(pic, (int(x), int(y)), 5, WHITE, 1, cv2.LINE_AA)
    pic = add_colorbar(pic, 0.0, 1.0, "viridis", label="IoU")
    shown = rows[:limit]
    width = 620
    chart = np.full((side, width, 3), 255, np.uint8)
    left, top, base = 36, 30, side - 48
    for v in (0, 0.5, 1.0):
        y = base - int(v * (base - top))
        cv2.line(chart, (left, y), (width - 6, y), GRID, 1)
        _text(chart, f"{v:g}", (4, y + 4), 0.34)
    n = max(1, len(shown))
    group = (width - left - 8) / n
    bw = max(2, int(group / 4))
    for i, r in enumerate(shown):
        gx = left + int(i * group) + 2
        for j, (v, colour) in enumerate(((1.0, GREY), (r["iou_target"], BLUE), (r["score"], ORANGE))):
            hgt = int(round(v * (base - top)))
            cv2.rectangle(chart, (gx + j * bw, base - hgt), (gx + (j + 1) * bw - 1, base), colour, -1)
        if group > 22:
            _text(chart, f"G{r['gt']}", (gx, base + 14), 0.3)
    for k, (name, colour) in enumerate((("one-hot target", GREY), ("QFL target = IoU", BLUE),
                                        ("predicted score σ", ORANGE))):
        cv2.rectangle(chart, (left + 150 * k, 8), (left + 150 * k + 12, 20), colour, -1)
        _text(chart, say(name), (left + 150 * k + 16, 19), 0.34)
    if rows:
        mean_soft = float(np.mean([r["qfl_soft"] for r in rows]))
        mean_hard = float(np.mean([r["qfl_onehot"] for r in rows]))
        note = say("{n} positives ({m} shown) · mean QFL {soft:.3f} with the IoU target, {hard:.3f} with the "
                   "one-hot target (β = {beta:g})", n=len(rows), m=len(shown), soft=mean_soft, hard=mean_hard,
                   beta=qfl["beta"])
    else:
        note = say("no positives: SimOTA assigned no anchor (no GT box)")
    _text(chart, _fit(note, width - 10, 0.34), (6, side - 14), 0.34)
    if not rows:
        _text(chart, say("no positives"), (width // 2 - 40, side // 2), 0.5)
    return np.concatenate([pic, np.full((side, 8, 3), 255, np.uint8), chart], 1)


def dfl_view(image: np.ndarray, edges: dict[str, Any], reg_max: int, label: str,
             note: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The network input ×3 with one detection: its box (the distributions' expectations) and, along the
    ray from the anchor centre to each edge, the edge's distribution — one bar per bin at that bin's
    distance ``i·s``, its length the probability (120 px = 1), drawn beside the ray. Returns the picture
    and where each bin was drawn (display pixels), for the tests."""
    f = DFL_DISPLAY / image.shape[0]
    pic = cv2.resize(image, (DFL_DISPLAY, DFL_DISPLAY), interpolation=cv2.INTER_LINEAR)
    pic = cv2.addWeighted(pic, 0.75, np.full_like(pic, 255), 0.25, 0)
    s = edges["stride"] * f
    cx, cy = (v * f for v in edges["centre"])
    x1, y1, x2, y2 = (v * f for v in edges["box"])
    cv2.rectangle(pic, (int(round(x1)), int(round(y1))), (int(round(x2)), int(round(y2))), INK, 2)
    bar_len = 120.0
    drawn: dict[str, list[list[float]]] = {}
    for k, e in enumerate(edges["edges"]):
        colour = EDGE_COLOURS[k]
        probs = np.asarray(e["probabilities"], dtype=np.float64)
        dx, dy = ((-1, 0), (0, -1), (1, 0), (0, 1))[k]
        px, py = (-dy, dx)  # perpendicular: bars stand to one side of the ray
        end = (int(round(cx + dx * reg_max * s)), int(round(cy + dy * reg_max * s)))
        cv2.line(pic, (int(round(cx)), int(round(cy))), end, colour, 1, cv2.LINE_AA)
        spots = []
        half = max(1, int(s * 0.35))
        for i, pi in enumerate(probs):
            bx, by = cx + dx * i * s, cy + dy * i * s
            spots.append([bx, by])
            length = pi * bar_len
            if length < 0.5:
                continue
            ex, ey = bx + px * length, by + py * length
            # a bar of width ~0.7 stride along the ray, standing perpendicular to it
            quad = np.array([[bx - dx * half, by - dy * half], [bx + dx * half, by + dy * half],
                             [ex + dx * half, ey + dy * half], [ex - dx * half, ey - dy * half]], np.int32)
            cv2.fillConvexPoly(pic, quad, colour, cv2.LINE_AA)
        drawn[e["edge"]] = spots
        ex_, ey_ = cx + dx * e["expectation_strides"] * s, cy + dy * e["expectation_strides"] * s
        cv2.drawMarker(pic, (int(round(ex_)), int(round(ey_))), INK, cv2.MARKER_TRIANGLE_UP if k % 2 == 0
                       else cv2.MARKER_DIAMOND, 12, 2)
    cv2.circle(pic, (int(round(cx)), int(round(cy))), 5, INK, -1, cv2.LINE_AA)
    cv2.circle(pic, (int(round(cx)), int(round(cy))), 5, WHITE, 1, cv2.LINE_AA)
    y = 18
    for k, e in enumerate(edges["edges"]):
        cv2.rectangle(pic, (6, y - 10), (18, y + 2), EDGE_COLOURS[k], -1)
        _text(pic, say("{edge}: {shape}, max p {p:.2f}", edge=say(e["edge"]), shape=say(e["shape"]),
                       p=e["max_probability"]), (22, y), 0.38, INK)
        y += 18
    title = say("{label} · {note} · stride {s:g}", label=say(label), note=note, s=edges["stride"])
    out = label_strip(pic, _fit(title, DFL_DISPLAY - 12, 0.42),
                      height=26, scale=0.42)
    meta = {"factor": f, "strip": 26, "bins_display": drawn}
    return out, meta


def dfl_bins(edges: dict[str, Any], reg_max: int, width: int = 820) -> np.ndarray:
    """The four edge distributions as bar charts over the bins 0 … reg_max (distance in strides and in
    network-input pixels), the expectation (the box edge) as a black line, sharpness written."""
    panel_w, height = width // 2, 190
    img = np.full((2 * height, width, 3), 255, np.uint8)
    s = edges["stride"]
    for k, e in enumerate(edges["edges"]):
        ox, oy = (k % 2) * panel_w, (k // 2) * height
        left, top, base = ox + 34, oy + 34, oy + height - 36
        pw = panel_w - 50
        probs = np.asarray(e["probabilities"], dtype=np.float64)
        bw = pw / (reg_max + 1)
        for v in (0, 0.5, 1.0):
            y = base - int(v * (base - top))
            cv2.line(img, (left, y), (left + pw, y), GRID, 1)
            _text(img, f"{v:g}", (ox + 4, y + 4), 0.32)
        for i, pi in enumerate(probs):
            x0 = left + int(i * bw)
            hgt = int(round(pi * (base - top)))
            cv2.rectangle(img, (x0 + 1, base - hgt), (x0 + int(bw) - 1, base), EDGE_COLOURS[k], -1)
            if i % 4 == 0:
                _text(img, f"{i}", (x0 + 2, base + 13), 0.3)
        xe = left + int(round((e["expectation_strides"] + 0.5) * bw))
        cv2.line(img, (xe, top - 4), (xe, base), INK, 2)
        _text(img, _fit(say("{edge}: E = {e:.2f} strides = {px:.1f} px · {shape} · H = {h:.2f} bits",
                            edge=say(e["edge"]), e=e["expectation_strides"], px=e["expectation_strides"] * s,
                            shape=say(e["shape"]), h=e["entropy_bits"]),
                        panel_w - 10, 0.36), (ox + 6, oy + 18), 0.36)
        _text(img, say("bin (distance in strides of {s:g} px)", s=s), (left + pw // 2 - 90, base + 28), 0.32)
    return img


def keypoint_view(rgb: np.ndarray, gt: np.ndarray, pred: np.ndarray,
                  keypoints: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """The photo (long side :data:`KP_DISPLAY`) with the GT skeleton, each visible GT keypoint's tolerance
    circle (where its similarity is 0.5, at the object's scale), the predictions (×) joined to their GT,
    and each keypoint's number. No caption strip: a click's pixel maps to the photo by ``factor``."""
    h, w = rgb.shape[:2]
    f = KP_DISPLAY / max(h, w)
    pic = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    rows = keypoints["keypoints"]
    vis = gt[:, 2] > 0
    for a, b in SKELETON:
        if vis[a] and vis[b]:
            cv2.line(pic, _pt(gt[a], f), _pt(gt[b], f), WHITE, 2, cv2.LINE_AA)
    circles = []
    for i in range(len(gt)):
        if not vis[i]:
            continue
        r = rows[i]["tolerance_px"] * f
        sim = rows[i]["similarity"]
        colour = GREEN if sim >= 0.5 else VERMILLION
        cv2.circle(pic, _pt(gt[i], f), max(1, int(round(r))), colour, 1, cv2.LINE_AA)
        circles.append({"keypoint": COCO_KEYPOINTS[i], "centre": [gt[i, 0] * f, gt[i, 1] * f], "radius": r})
    for i in range(len(gt)):
        if not vis[i]:
            continue
        cv2.line(pic, _pt(gt[i], f), _pt(pred[i], f), YELLOW, 1, cv2.LINE_AA)
        fill = BLUE if gt[i, 2] == 2 else PURPLE
        cv2.circle(pic, _pt(gt[i], f), 5, fill, -1, cv2.LINE_AA)
        cv2.circle(pic, _pt(gt[i], f), 5, WHITE, 1, cv2.LINE_AA)
        cv2.drawMarker(pic, _pt(pred[i], f), ORANGE, cv2.MARKER_TILTED_CROSS, 10, 2)
        x, y = _pt(gt[i], f)
        _text(pic, str(i + 1), (x + 6, y - 6), 0.36, WHITE)
    value = keypoints["oks"]
    cv2.rectangle(pic, (0, 0), (min(pic.shape[1], 330), 24), (30, 30, 30), -1)
    _text(pic, _fit(say("OKS {oks:.3f} · loss 1 − OKS {loss:.3f} · s = √area = {s:.0f} px", oks=value,
                        loss=1 - value, s=keypoints["scale"]),
                    320, 0.4), (6, 17), 0.4, WHITE)
    return pic, {"factor": 1 / f, "circles": circles}


def _pt(xy: Sequence[float], f: float) -> tuple[int, int]:
    return int(round(float(xy[0]) * f)), int(round(float(xy[1]) * f))


def oks_chart(keypoints: dict[str, Any], width: int = 620) -> np.ndarray:
    """Per-keypoint similarity bars (0 … 1), each keypoint's σ and distance; unlabelled ones greyed;
    the OKS (their mean over the labelled keypoints) as a dashed line."""
    rows = keypoints["keypoints"]
    left, top, row_h = 200, 30, 20
    height = top + row_h * len(rows) + 30
    img = np.full((height, width, 3), 255, np.uint8)
    span = width - left - 70
    for v in (0, 0.5, 1.0):
        x = left + int(v * span)
        cv2.line(img, (x, top - 6), (x, height - 28), GRID, 1)
        _text(img, f"{v:g}", (x - 6, height - 12), 0.34)
    for i, r in enumerate(rows):
        y = top + i * row_h
        name = f"{i + 1} {say(r['keypoint'])} σ={r['sigma']:.3f}"
        _text(img, name, (6, y + 14), 0.34, INK if r["similarity"] is not None else GREY)
        if r["similarity"] is None:
            _text(img, say("not labelled (v = 0)"), (left + 4, y + 14), 0.32, GREY)
            continue
        w = int(round(r["similarity"] * span))
        colour = GREEN if r["similarity"] >= 0.5 else VERMILLION
        cv2.rectangle(img, (left, y + 3), (left + max(1, w), y + row_h - 3), colour, -1)
        _text(img, f"{r['similarity']:.2f} ({r['distance_px']:.0f} px)", (left + w + 4, y + 14), 0.32)
    value = keypoints["oks"]
    x = left + int(round(value * span))
    for y in range(top - 6, height - 28, 8):
        cv2.line(img, (x, y), (x, y + 4), INK, 2)
    _text(img, f"OKS {value:.3f}", (min(x + 4, width - 80), top - 12), 0.38)
    return img


def render_lesson(*, rgb: np.ndarray, pred: Any, gt: np.ndarray, gt_labels: np.ndarray, names: Sequence[str],
                  fg: np.ndarray, matched: np.ndarray, focal: dict[str, Any], qfl: dict[str, Any],
                  edges: dict[str, Any], det_note: str, gt_kp: np.ndarray, pred_kp: np.ndarray,
                  keypoints: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, Any]]:
    label = names[int(np.asarray(pred.cls_logits[edges["anchor"]]).argmax())]
    dfl_pic, dfl_meta = dfl_view(pred.image, edges, pred.reg_max, label, det_note)
    kp_pic, kp_meta = keypoint_view(rgb, gt_kp, pred_kp, keypoints)
    t = focal["total"]
    images = {
        "focal_maps": focal_maps(pred.image, pred.strides, fg, focal),
        "loss_shares": share_chart(focal),
        "fl_curves": fl_curves(focal["gamma"]),
        "qfl_targets": qfl_chart(pred.image, pred.points, fg, gt, qfl),
        "dfl_edges": dfl_pic,
        "dfl_bins": dfl_bins(edges, pred.reg_max),
        "keypoints": kp_pic,
        "oks": oks_chart(keypoints),
    }
    captions = {
        "focal_maps": (f"Loss of every anchor under BCE and focal loss (α {focal['alpha']:g}, "
                       f"γ {focal['gamma']:g}); "
                       f"easy negatives carry {t['BCE']['easy negatives']:.0%} of BCE, "
                       f"{t['FL']['easy negatives']:.0%} of FL"),
        "loss_shares": "Who carries the total loss: positives, hard and easy negatives",
        "fl_curves": "Focal loss vs the probability of the true class, γ = 0 … 5",
        "qfl_targets": "QFL: the IoU-aware soft target next to the one-hot target, per positive",
        "dfl_edges": "DFL: each edge of the detection as a distribution over 17 distances",
        "dfl_bins": "The four edge distributions; the black line (their expectation) is the box edge",
        "keypoints": "OKS: GT keypoints, tolerance circles (similarity 0.5) and predictions (×)",
        "oks": (f"Per-keypoint similarity; OKS {keypoints['oks']:.3f}, "
                f"YOLO-pose loss {1 - keypoints['oks']:.3f}"),
    }
    meta = {"dfl_edges": dfl_meta, "keypoints": kp_meta}
    return images, captions, meta
