"""An independent, loop-by-loop re-implementation of YOLOX's ``get_assignments`` (test oracle).

Written for clarity, not speed: plain Python loops over GTs and anchors, mirroring the order of
operations of YOLOX's ``get_in_boxes_info``/``get_geometry_constraint``, the pairwise cost and
``dynamic_k_matching`` (tags 0.3.0 and main). Only math/numpy scalars, so it shares no code with
``core.assign``. Ties in the cost are broken by the lower anchor index (as ``core.assign`` documents).
"""

from __future__ import annotations

import math

import numpy as np

CONSTANTS = {"yolox-0.3": (2.5, 1e5, False), "yolox-main": (1.5, 1e6, True)}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _iou(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _bce(p: float, y: float) -> float:
    log_p = max(math.log(p), -100.0) if p > 0 else -100.0
    log_q = max(math.log(1 - p), -100.0) if p < 1 else -100.0
    return -(y * log_p + (1 - y) * log_q)


def reference_simota(gt_boxes, gt_labels, pred_boxes, cls_logits, obj_logits, points, strides,
                     preset="yolox-0.3", topk=10, iou_weight=3.0):
    radius, penalty, centre_only = CONSTANTS[preset]
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64)
    pred_boxes = np.asarray(pred_boxes, dtype=np.float64)
    cls_logits = np.asarray(cls_logits, dtype=np.float64)
    obj_logits = np.asarray(obj_logits, dtype=np.float64).reshape(-1)
    points = np.asarray(points, dtype=np.float64)
    strides = np.asarray(strides, dtype=np.float64)
    n_gt, n_anchor, n_cls = len(gt_boxes), len(points), cls_logits.shape[1]

    in_box = [[False] * n_anchor for _ in range(n_gt)]
    in_ctr = [[False] * n_anchor for _ in range(n_gt)]
    for g in range(n_gt):
        x1, y1, x2, y2 = gt_boxes[g]
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        for a in range(n_anchor):
            px, py = points[a]
            in_box[g][a] = min(px - x1, py - y1, x2 - px, y2 - py) > 0
            r = radius * strides[a]
            in_ctr[g][a] = min(px - (cx - r), py - (cy - r), (cx + r) - px, (cy + r) - py) > 0
    cand = []
    for a in range(n_anchor):
        any_ctr = any(in_ctr[g][a] for g in range(n_gt))
        any_box = any(in_box[g][a] for g in range(n_gt))
        if any_ctr or (any_box and not centre_only):
            cand.append(a)

    ious = [[0.0] * len(cand) for _ in range(n_gt)]
    cost = [[0.0] * len(cand) for _ in range(n_gt)]
    for g in range(n_gt):
        for j, a in enumerate(cand):
            iou = _iou(gt_boxes[g], pred_boxes[a])
            ious[g][j] = iou
            cls_cost = 0.0
            for c in range(n_cls):
                p = math.sqrt(_sigmoid(cls_logits[a, c]) * _sigmoid(obj_logits[a]))
                cls_cost += _bce(p, 1.0 if c == gt_labels[g] else 0.0)
            ok = in_ctr[g][a] if centre_only else (in_ctr[g][a] and in_box[g][a])
            cost[g][j] = cls_cost + iou_weight * -math.log(iou + 1e-8) + (0.0 if ok else penalty)

    n_k = min(topk, len(cand))
    dynamic_k = []
    match = [[0] * len(cand) for _ in range(n_gt)]
    for g in range(n_gt):
        best = sorted(ious[g], reverse=True)[:n_k]
        dynamic_k.append(max(1, int(sum(best))))
        order = sorted(range(len(cand)), key=lambda j, g=g: (cost[g][j], j))
        for j in order[:dynamic_k[g]]:
            match[g][j] = 1
    for j in range(len(cand)):
        if sum(match[g][j] for g in range(n_gt)) > 1:
            winner = min(range(n_gt), key=lambda g, j=j: (cost[g][j], g))
            for g in range(n_gt):
                match[g][j] = 1 if g == winner else 0
    matched_gt = np.full(n_anchor, -1, dtype=np.int64)
    for j, a in enumerate(cand):
        for g in range(n_gt):
            if match[g][j]:
                matched_gt[a] = g
    return {"candidates": cand, "dynamic_k": dynamic_k, "matched_gt": matched_gt, "ious": ious,
            "cost": cost}
