"""The SimOTA lesson: which anchor points learn which object, on the photo, next to ATSS and TAL.

The assigners themselves — YOLOX's SimOTA (both releases), ATSS and TAL, exact to their reference
implementations — live in :mod:`core.assigners` and are re-exported here under the same names
(``core.assign.simota`` is the API's name); this module is the lesson around them: the embedded
detector's predictions, typed or clicked GT boxes, the notes' worked example, ``run`` and ``PARAMS``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.assigners import (
    ASSIGNERS,
    PRESETS,
    AssignResult,
    ATSSResult,
    SimOTAResult,
    TALResult,
    anchor_grid,
    atss,
    box_iou,
    dynamic_k_matching,
    geometry,
    pair_cls_cost,
    simota,
    tal,
    worked_example,
)
from core.lesson import LessonResult, Param

__all__ = [
    "PARAMS",
    "add_clicked_box",
    "PRESETS",
    "ASSIGNERS",
    "AssignResult",
    "ATSSResult",
    "SimOTAResult",
    "TALResult",
    "anchor_grid",
    "atss",
    "box_iou",
    "dynamic_k_matching",
    "geometry",
    "pair_cls_cost",
    "parse_gt_json",
    "run",
    "shapes_scene",
    "simota",
    "tal",
    "worked_example",
]


# --------------------------------------------------------------------------------------------- #
# the lesson: run(image, **params)

CLASS_NAMES = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "ring", "cross")  # ShapesWorld
MODELS = ("yolox-shapes", "yolox-shapes-30pct", "yolox-shapes-5pct", "yolox-shapes-0pct")
GT_MODEL = "yolox-shapes"  # the detector whose detections stand in for GT boxes by default
EXAMPLES = ("image", "notes")
#: typed GT boxes per request: every chart grows with them (the dynamic-k chart by 0.9 inch and the
#: matching matrix by a row per box), so the count is bounded; a teaching scene has a handful
MAX_GT = 50
GT_HELP = ('JSON list of objects in image pixels, e.g. [{"box": [x1, y1, x2, y2], "label": "circle"}] '
           f'(label: a class name or id; at most {MAX_GT} boxes). Empty: the final detector\'s own '
           'detections are the GT.')

PARAMS: list[Param] = [
    Param("model", "choice", "yolox-shapes", "Predictions from", choices=MODELS,
          help="The embedded detector at the end of training or at an early checkpoint."),
    Param("weights", "choice", "auto", "Weights", choices=("auto", "embedded", "random")),
    Param("gt_boxes", "text", "", "Ground-truth boxes (JSON)", help=GT_HELP, syntax="json", max_items=MAX_GT,
          max_depth=3, max_length=20_000),
    Param("preset", "choice", "yolox-0.3", "YOLOX release", choices=tuple(PRESETS)),
    Param("assigner", "choice", "SimOTA", "Assigner shown", choices=ASSIGNERS),
    Param("focus_gt", "int", 1, "GT for the cost map", minimum=1, maximum=99, step=1),
    Param("score_threshold", "float", 0.3, "Detection score threshold", minimum=0.01, maximum=0.99,
          step=0.01),
    Param("example", "choice", "image", "Scenario", choices=EXAMPLES,
          help="'notes': the notes' worked example (3 GTs, 1000 candidates) instead of the image."),
]


@dataclass
class Prediction:
    """The detector's raw view of one image, in the network's input frame."""

    image: np.ndarray  # (S, S, 3) letterboxed input
    scale: float  # input pixels per original pixel
    boxes: np.ndarray  # (A, 4) decoded xyxy
    obj_logits: np.ndarray  # (A,)
    cls_logits: np.ndarray  # (A, C)
    points: np.ndarray  # (A, 2)
    strides: np.ndarray  # (A,)
    detections: Any  # core.nets.yolox.Detections


def predict(loaded: Any, image: Any, score_threshold: float = 0.3) -> Prediction:
    """Letterbox ``image`` to the detector's input size, run it, decode every anchor's prediction."""
    from core.images import load_image
    from core.nets.yolox import decode, letterbox, postprocess

    rgb = load_image(image)
    size = int(loaded.entry.input_size)
    boxed, scale, _ = letterbox(rgb, size)
    mean = torch.tensor(loaded.entry.mean).view(1, 3, 1, 1)
    std = torch.tensor(loaded.entry.std).view(1, 3, 1, 1)
    x = (torch.from_numpy(boxed).permute(2, 0, 1)[None].float() / 255.0 - mean) / std
    with torch.inference_mode():
        raw = loaded.model(x)[0].float()
        cells, strides = loaded.model.grid(size, size)
        boxes = decode(raw, cells, strides)
        dets = postprocess(boxes, raw[:, 4], raw[:, 5:], score_thr=score_threshold)
    points, _ = anchor_grid(size)
    return Prediction(boxed, scale, boxes.numpy(), raw[:, 4].numpy(), raw[:, 5:].numpy(), points,
                      strides.numpy(), dets)


def parse_gt_json(text: str, class_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse typed GT boxes: ``[{"box": [x1, y1, x2, y2], "label": "circle"}, …]`` or
    ``[[x1, y1, x2, y2, label], …]`` (label a class name or id). Raises ValueError with a clear message."""
    example = '[{"box": [40, 60, 120, 150], "label": "circle"}]'
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The GT boxes are not valid JSON ({exc.msg} at character {exc.pos}). "
                         f"Expected e.g. {example}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise ValueError(f"The GT boxes must be a non-empty JSON list, e.g. {example}")
    boxes, labels = [], []
    names = [n.lower() for n in class_names]
    for i, item in enumerate(data, 1):
        if isinstance(item, dict):
            box, label = item.get("box"), item.get("label")
        elif isinstance(item, list) and len(item) == 5:
            box, label = item[:4], item[4]
        else:
            raise ValueError(f"GT {i}: expected an object with 'box' and 'label' (or [x1, y1, x2, y2, "
                             "label]); "
                             f"got {json.dumps(item)[:60]}. Example: {example}")
        if (not isinstance(box, list) or len(box) != 4
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
            raise ValueError(f"GT {i}: 'box' must be four numbers [x1, y1, x2, y2] in pixels; got {box!r}")
        x1, y1, x2, y2 = (float(v) for v in box)
        if not all(np.isfinite([x1, y1, x2, y2])) or x2 <= x1 or y2 <= y1:
            raise ValueError(f"GT {i}: need x1 < x2 and y1 < y2 (xyxy pixels); got {box}")
        if isinstance(label, str) and label.strip().lower() in names:
            labels.append(names.index(label.strip().lower()))
        elif isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(names):
            labels.append(label)
        else:
            raise ValueError(f"GT {i}: label must be one of {', '.join(class_names)} (or an id 0–"
                             f"{len(names) - 1}); got {label!r}")
        boxes.append([x1, y1, x2, y2])
    return np.asarray(boxes, dtype=np.float64), np.asarray(labels, dtype=np.int64)


def shapes_scene(index: int, style: str = "train", size: int = 192) -> tuple[np.ndarray, str]:
    """A held-out ShapesWorld detection scene (world seed never used in training) and its true GT as
    the JSON the lesson accepts — the page's "Load scene" button."""
    from core.data.scenes import detect_world
    from core.data.shapesworld import CLASSES

    if not 0 <= int(index) <= 10**6:
        raise ValueError(f"scene number must be between 0 and 1000000; got {index}.")
    scene = detect_world(size, style)[int(index)]
    gt = [{"box": [round(float(v), 1) for v in box], "label": CLASSES[int(c)]}
          for box, c in zip(scene.boxes, scene.labels, strict=True)]
    return scene.image, json.dumps(gt)


def add_clicked_box(image: Any, gt_json: str, pending: Any, xy: Sequence[float],
                    label: str) -> tuple[str, Any, str]:
    """Two clicks on the detections picture make one GT box (the page's drawing tool).

    ``xy`` is a click in the picture's pixels (the input enlarged to ``DISPLAY`` px, under a caption
    strip); the first click is returned as ``pending``, the second appends ``{"box", "label"}`` to the
    GT JSON in original image pixels. Returns ``(gt_json, pending, message)``.
    """
    from core.images import load_image
    from core.viz.assign import DISPLAY, STRIP

    rgb = load_image(image)
    h, w = rgb.shape[:2]
    factor = max(h, w) / DISPLAY
    x = float(np.clip(xy[0] * factor, 0, w))
    y = float(np.clip((xy[1] - STRIP) * factor, 0, h))
    if label not in CLASS_NAMES:
        raise ValueError(f"label must be one of {', '.join(CLASS_NAMES)}; got {label!r}")
    if pending is None:
        return gt_json, [x, y], f"First corner at ({x:.0f}, {y:.0f}); click the opposite corner."
    x0, y0 = float(pending[0]), float(pending[1])
    box = [round(min(x0, x), 1), round(min(y0, y), 1), round(max(x0, x), 1), round(max(y0, y), 1)]
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return gt_json, None, "That box is too small; click two opposite corners again."
    items = json.loads(gt_json) if gt_json.strip() else []
    if not isinstance(items, list):
        items = [items]
    items.append({"box": box, "label": label})
    return json.dumps(items), None, f"Added GT {len(items)}: {label} {box}. Press **Run**."


def run(image: Any, model: str = "yolox-shapes", weights: str = "auto", gt_boxes: str = "",
        preset: str = "yolox-0.3", assigner: str = "SimOTA", focus_gt: int = 1,
        score_threshold: float = 0.3, example: str = "image") -> LessonResult:
    """SimOTA (and ATSS, TAL) on one image with the embedded detector's predictions; see PARAMS."""
    from core import zoo
    from core.viz import assign as views

    values = dict(model=model, weights=weights, gt_boxes=gt_boxes, preset=preset, assigner=assigner,
                  focus_gt=focus_gt, score_threshold=score_threshold, example=example)
    p = {prm.name: prm.check(values[prm.name]) for prm in PARAMS}
    if p["example"] == "notes":
        return _run_notes(p)
    loaded = zoo.load_model(p["model"], p["weights"])
    pred = predict(loaded, image, p["score_threshold"])
    names = loaded.labels or tuple(f"class {i}" for i in range(pred.cls_logits.shape[1]))
    note = ""
    if p["gt_boxes"].strip():
        gt_orig, labels = parse_gt_json(p["gt_boxes"], names)
        gt = gt_orig * pred.scale
        source = "typed JSON"
    else:
        gt_loaded = zoo.load_model(GT_MODEL, p["weights"]) if p["model"] != GT_MODEL else loaded
        ref = pred if gt_loaded is loaded else predict(gt_loaded, image, p["score_threshold"])
        dets = ref.detections
        if len(dets.boxes) == 0:
            dets = predict(gt_loaded, image, 0.0).detections
            dets.boxes, dets.scores, dets.labels = dets.boxes[:3], dets.scores[:3], dets.labels[:3]
            note = ("Nothing scored above the threshold, so the 3 best detections stand in for GT boxes "
                    "(the embedded detector knows only ShapesWorld shapes).")
        if len(dets.boxes) == 0:
            raise ValueError("The detector found nothing to use as GT; type GT boxes as JSON.")
        gt, labels = dets.boxes.astype(np.float64), dets.labels
        gt_orig = gt / pred.scale
        source = f"detections of {gt_loaded.entry.title} (score ≥ {p['score_threshold']:.2f})"
    focus = min(p["focus_gt"], len(gt)) - 1
    sim = simota(gt, labels, pred.boxes, pred.cls_logits, pred.obj_logits, pred.points, pred.strides,
                 preset=p["preset"])
    others = {
        "SimOTA": sim,
        "ATSS": atss(gt, pred.points, pred.strides),
        "TAL": tal(gt, labels, pred.boxes, pred.cls_logits, pred.obj_logits, pred.points),
    }
    shown = others[p["assigner"]]
    images, captions = views.render_lesson(pred, gt, labels, names, sim, shown, others, focus,
                                           p["score_threshold"])
    summary = _summary(loaded, pred, gt, gt_orig, labels, names, sim, others, source, focus, note)
    summary["assigner_shown"] = p["assigner"]
    return LessonResult(images=images, summary=summary, captions=captions)


def _summary(loaded, pred, gt, gt_orig, labels, names, sim, others, source, focus, note) -> dict[str, Any]:
    strides = pred.strides
    per_stride = {int(s): int((strides == s).sum()) for s in np.unique(strides)}
    conflicts = []
    for a in np.flatnonzero(sim.conflicts):
        takers = np.flatnonzero(sim.matching_before[:, a])
        conflicts.append({"anchor": int(a), "stride": int(strides[a]), "xy": pred.points[a].tolist(),
                          "taken_by_gt": takers.tolist(), "costs": sim.cost[takers, a].tolist(),
                          "winner_gt": int(sim.matched_gt[a])})
    positives = [{"anchor": int(a), "gt": int(sim.matched_gt[a]), "stride": int(strides[a]),
                  "xy": pred.points[a].tolist(), "cost": float(sim.cost[sim.matched_gt[a], a]),
                  "iou": float(sim.matched_iou[a])} for a in np.flatnonzero(sim.fg_mask)]
    counts = sim.positives_per_gt()
    out: dict[str, Any] = {
        "model": loaded.name, "weights": loaded.source, "weights_status": loaded.status,
        "input_size": int(pred.image.shape[0]), "scale": float(pred.scale),
        "anchors": int(len(strides)), "anchors_per_stride": per_stride,
        "gt_source": source,
        "gt": [{"id": i, "box": gt_orig[i].round(1).tolist(), "box_input": gt[i].round(1).tolist(),
                "label": names[int(labels[i])]} for i in range(len(gt))],
        "detections": [{"box": (b / pred.scale).round(1).tolist(), "score": round(float(s), 4),
                        "label": names[int(c)]} for b, s, c in zip(pred.detections.boxes,
                                                                  pred.detections.scores,
                                                                  pred.detections.labels, strict=True)],
        "focus_gt": focus,
        "simota": {
            "preset": sim.preset, "center_radius_strides": sim.center_radius, "penalty": sim.penalty,
            "candidates": int(sim.candidates.sum()), "dynamic_k": sim.dynamic_k.tolist(),
            "topk_ious": np.round(sim.topk_ious, 4).tolist(), "positives_per_gt": counts.tolist(),
            "unmatched_gt": np.flatnonzero(counts == 0).tolist(), "conflicts": conflicts,
            "positives": positives, "matched_gt": sim.matched_gt.tolist(),
        },
    }
    for name in ("ATSS", "TAL"):
        r = others[name]
        c = r.positives_per_gt()
        item = {"positives_per_gt": c.tolist(), "unmatched_gt": np.flatnonzero(c == 0).tolist(),
                "positives": np.flatnonzero(r.fg_mask).tolist(),
                "matched_gt": r.matched_gt[r.fg_mask].tolist()}
        if name == "ATSS":
            item["iou_thresholds"] = np.round(r.thresholds, 4).tolist()
        out[name.lower()] = item
    if note:
        out["note"] = note
    return out


def _run_notes(p: dict[str, Any]) -> LessonResult:
    from core.viz import assign as views

    ex = worked_example()
    m = dynamic_k_matching(ex["cost"], ex["ious"], 10)
    focus = min(p["focus_gt"], 3) - 1
    images, captions = views.render_notes(ex, m, focus)
    after = m["after"].numpy()
    conflicts = np.flatnonzero(m["conflicts"].numpy())
    summary = {
        "example": "notes", "gts": 3, "candidates": int(ex["cost"].shape[1]),
        "dynamic_k": m["dynamic_k"].tolist(), "topk_ious": np.round(m["topk_ious"].numpy(), 4).tolist(),
        "selected_before": [np.flatnonzero(r).tolist() for r in m["before"].numpy()],
        "selected_after": [np.flatnonzero(r).tolist() for r in after],
        "conflicts": [{"candidate": int(j), "taken_by_gt": np.flatnonzero(m["before"][:, j]).tolist(),
                       "costs": np.round(ex["cost"][:, j], 4).tolist(),
                       "winner_gt": int(after[:, j].argmax())} for j in conflicts],
        "positives_per_gt": after.sum(1).tolist(), "focus_gt": focus,
    }
    return LessonResult(images=images, summary=summary, captions=captions)
