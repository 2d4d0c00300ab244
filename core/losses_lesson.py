"""The losses lesson (``/losses``): what a detector is trained to minimise, on the student's photo.

The SimOTA lesson shows *which* anchors learn; this one shows *what* they are asked to learn. The
embedded GFL-style detector (``gfl-shapes``: the ShapesWorld YOLOX body with a Generalized Focal Loss
head, :func:`core.nets.yolox.gfl_shapes`) predicts every anchor of the photo; SimOTA
(:func:`core.assign.simota`, the assigner it was trained with) picks the positives; then

* focal loss vs BCE on every anchor's class logits, as heatmaps per stride, and the share of each
  total that the easy negatives carry; the focal-loss curves for γ = 0 … 5;
* quality focal loss: the IoU-aware soft target next to the one-hot target of every positive;
* distribution focal loss: each edge of a detection as the distribution over ``reg_max + 1`` distances
  the network predicts, drawn along the edge on the photo (its expectation *is* the box edge);
* OKS: typed or clicked ground-truth and predicted keypoints with COCO's sigmas, the tolerance circles
  (where a keypoint's similarity falls to 0.5), the OKS and YOLO-pose's ``1 − OKS`` loss.

The losses themselves are :mod:`core.losses` (API.md); the pictures :mod:`core.viz.losses`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.assign import MAX_GT, parse_gt_json, simota
from core.lesson import LessonResult, Param
from core.losses import (
    COCO_KEYPOINTS,
    COCO_SIGMAS,
    focal_loss,
    keypoint_similarity,
    oks,
    quality_focal_loss,
)
from core.viz import words

__all__ = ["DEFAULT_AREA_FRACTION", "DEFAULT_KEYPOINTS", "MODEL", "PARAMS", "Prediction", "add_keypoint",
           "blur_photo", "edge_report", "focal_view", "oks_view", "parse_keypoints", "predict", "qfl_view",
           "run", "tolerance_radius"]

MODEL = "gfl-shapes"
#: SimOTA's cost multiplies σ(cls) by σ(obj); the GFL head's class score is already the joint score, so
#: the assigner sees a certain objectness (as in training: core.train.detector.GFL_OBJ_LOGIT)
OBJ_LOGIT = 30.0
STRIDES = (8, 16, 32)
K = len(COCO_KEYPOINTS)

# Default keypoints: COCO's 17 on assets/images/astronaut.jpg (512 × 512), as fractions of the photo's
# width and height, so ``run(image)`` has keypoints on any photo (they fit the astronaut). Visibility as
# COCO: 2 visible, 1 labelled but occluded, 0 not labelled (below the frame). Placed by hand.
DEFAULT_KEYPOINTS = (
    (0.437, 0.246, 2), (0.479, 0.203, 2), (0.398, 0.203, 2), (0.525, 0.221, 2), (0.348, 0.221, 2),
    (0.646, 0.465, 2), (0.191, 0.465, 2), (0.690, 0.770, 1), (0.105, 0.760, 2), (0.0, 0.0, 0),
    (0.270, 0.955, 2), (0.0, 0.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 0),
    (0.0, 0.0, 0),
)
#: a prediction with typical errors, in fractions: small on the face, larger on the arms
DEFAULT_PRED_OFFSETS = (
    (0.006, 0.004), (0.004, -0.006), (-0.008, 0.002), (0.012, 0.010), (-0.020, 0.006),
    (0.030, -0.020), (-0.010, 0.025), (0.060, -0.040), (0.030, 0.040), (0.0, 0.0),
    (-0.045, -0.020), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0),
)
#: the astronaut's segment area as a fraction of the photo (COCO's ``area`` is the mask's, not the box's)
DEFAULT_AREA_FRACTION = 0.38

KP_HELP = ("JSON list of 17 COCO keypoints in photo pixels, [[x, y, v], …] (v: 2 visible, 1 occluded, "
           "0 not labelled); or click them on the keypoint picture. Empty: the default skeleton "
           "(placed for astronaut.jpg).")
PRED_HELP = ("JSON list of 17 predicted keypoints [[x, y], …] in photo pixels; or click them. Empty: the "
             "default prediction.")

PARAMS: list[Param] = [
    Param("weights", "choice", "auto", "Weights", choices=("auto", "embedded", "random"),
          help="The embedded GFL detector (auto = embedded), or random weights to see an untrained one."),
    Param("gamma", "float", 2.0, "Focal γ", "0 is BCE; the RetinaNet paper uses 2.", 0.0, 5.0, 0.5),
    Param("alpha", "float", 0.25, "Focal α", "Weight of the positives (1 − α on negatives); RetinaNet: 0.25.",
          0.0, 1.0, 0.05),
    Param("easy_threshold", "float", 0.1, "Easy negative: p below",
          "A negative (anchor, class) counts as easy when its predicted probability is below this.",
          0.01, 0.5, 0.01),
    Param("beta", "float", 2.0, "QFL β", "GFL's β (2 in the paper).", 0.0, 5.0, 0.5),
    Param("gt_boxes", "text", "", "Ground-truth boxes (JSON)",
          help=('JSON list [{"box": [x1, y1, x2, y2], "label": "circle"}] in photo pixels; empty: the '
                "detector's own detections stand in for GT."), syntax="json", max_items=MAX_GT,
          max_length=4000),
    Param("score_threshold", "float", 0.3, "Score threshold", "Detections (and stand-in GT) above it.",
          0.01, 0.99, 0.01),
    Param("detection", "int", 1, "Detection whose edges are drawn", "1 = the highest score.", 1, 50, 1),
    Param("blur", "float", 0.0, "Blur the photo (σ px)",
          "Blur before detecting: the edge distributions flatten where edges get ambiguous.", 0.0, 8.0, 0.5),
    Param("keypoints_gt", "text", "", "GT keypoints (JSON)", help=KP_HELP, syntax="json", max_items=K,
          max_length=2000),
    Param("keypoints_pred", "text", "", "Predicted keypoints (JSON)", help=PRED_HELP, syntax="json",
          max_items=K, max_length=2000),
    Param("area", "float", 0.0, "Object area (px²)",
          "COCO's segment area of the person (scale s = √area); 0: 38 % of the photo (the astronaut's).",
          0.0, 1e8, 100.0),
]
_P = {p.name: p for p in PARAMS}


@dataclass
class Prediction:
    """The GFL detector's raw view of one photo, in the network's input frame (letterboxed)."""

    image: np.ndarray  # (S, S, 3) letterboxed input
    scale: float  # input pixels per photo pixel
    raw: np.ndarray  # (A, 4·(n+1) + C)
    boxes: np.ndarray  # (A, 4) decoded xyxy
    cls_logits: np.ndarray  # (A, C)
    distributions: np.ndarray  # (A, 4, n+1) softmax of the edge logits (left, top, right, bottom)
    points: np.ndarray  # (A, 2) anchor centres
    strides: np.ndarray  # (A,)
    reg_max: int
    keep: np.ndarray  # anchor indices of the detections, best first (NMS kept)
    scores: np.ndarray  # their scores
    labels: np.ndarray  # their classes


def predict(loaded: Any, rgb: np.ndarray, score_threshold: float = 0.3) -> Prediction:
    """Letterbox, run the GFL detector, decode every anchor (its box is its distributions' expectation)."""
    from torchvision.ops import batched_nms

    from core.assign import anchor_grid
    from core.nets.yolox import decode_gfl, edge_distributions, letterbox

    net = loaded.model
    size = int(loaded.entry.input_size)
    boxed, scale, _ = letterbox(rgb, size)
    mean = torch.tensor(loaded.entry.mean).view(1, 3, 1, 1)
    std = torch.tensor(loaded.entry.std).view(1, 3, 1, 1)
    x = (torch.from_numpy(boxed).permute(2, 0, 1)[None].float() / 255.0 - mean) / std
    with torch.inference_mode():
        raw = net(x)[0].float()
        cells, strides = net.grid(size, size)
        n = int(net.reg_max)
        boxes = decode_gfl(raw, cells, strides, n)
        dist = edge_distributions(raw, n)
        cls = raw[:, 4 * (n + 1):]
        scores, labels = torch.sigmoid(cls).max(1)
        idx = (scores >= score_threshold).nonzero()[:, 0]
        order = idx[batched_nms(boxes[idx], scores[idx], labels[idx], 0.5)][:100]
    points, _ = anchor_grid(size)
    return Prediction(boxed, scale, raw.numpy(), boxes.numpy(), cls.numpy(), dist.numpy(), points,
                      strides.numpy(), n, order.numpy(), scores[order].numpy(), labels[order].numpy())


def blur_photo(rgb: np.ndarray, sigma: float) -> np.ndarray:
    """The photo under a Gaussian blur of ``sigma`` px (0: unchanged): edges made ambiguous on purpose."""
    if sigma <= 0:
        return rgb
    import cv2

    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=float(sigma))


# --------------------------------------------------------------------------------------------- #
# focal loss and QFL on the photo's anchors


def focal_view(cls_logits: np.ndarray, targets: np.ndarray, strides: np.ndarray, alpha: float, gamma: float,
               easy_threshold: float) -> dict[str, Any]:
    """BCE and focal loss of every (anchor, class), summed per anchor, and who carries each total.

    ``targets`` ``(A, C)`` one-hot at the positives' classes. A *negative* element has target 0; an
    *easy* one has ``p < easy_threshold``. BCE is ``focal_loss(α = −1, γ = 0)`` (torchvision's
    convention: α < 0 turns α off). Returns per-anchor maps and per-stride and total shares.
    """
    logits = torch.as_tensor(cls_logits, dtype=torch.float32)
    t = torch.as_tensor(targets, dtype=torch.float32)
    bce = focal_loss(logits, t, alpha=-1.0, gamma=0.0).double().numpy()
    fl = focal_loss(logits, t, alpha=alpha, gamma=gamma).double().numpy()
    p = torch.sigmoid(logits).double().numpy()
    neg = t.numpy() == 0
    easy = neg & (p < easy_threshold)
    groups = {"positives": ~neg, "hard negatives": neg & ~easy, "easy negatives": easy}

    def shares(loss: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
        total = float(loss[rows].sum())
        out = {"total": total}
        for name, mask in groups.items():
            part = float(loss[rows][mask[rows]].sum())
            out[name] = part / total if total > 0 else 0.0
        return out

    per_stride = {}
    for s in STRIDES:
        rows = strides == s
        per_stride[str(s)] = {"BCE": shares(bce, rows), "FL": shares(fl, rows),
                              "easy_negative_elements": int(easy[rows].sum()),
                              "elements": int(rows.sum() * t.shape[1])}
    everything = np.ones(len(strides), bool)
    return {
        "bce_per_anchor": bce.sum(1), "fl_per_anchor": fl.sum(1),
        "per_stride": per_stride,
        "total": {"BCE": shares(bce, everything), "FL": shares(fl, everything),
                  "easy_negative_elements": int(easy.sum()), "elements": int(easy.size)},
        "alpha": float(alpha), "gamma": float(gamma), "easy_threshold": float(easy_threshold),
    }


def qfl_view(cls_logits: np.ndarray, fg: np.ndarray, matched: np.ndarray, matched_iou: np.ndarray,
             gt_labels: np.ndarray, beta: float) -> dict[str, Any]:
    """QFL's soft target (the IoU of the positive's box with its GT) vs the one-hot target, per positive.

    For each positive anchor: its class score σ, the soft target ``y = IoU``, QFL at ``y`` and the
    same loss with the one-hot target ``y = 1`` (the focal loss without α, β = γ).
    """
    idx = np.flatnonzero(fg)
    cls = np.asarray(gt_labels)[matched[idx]]
    logits = torch.as_tensor(cls_logits[idx, cls], dtype=torch.float32)
    y = torch.as_tensor(matched_iou[idx], dtype=torch.float32)
    rows = []
    q_soft = quality_focal_loss(logits, y, beta).numpy()
    q_hard = quality_focal_loss(logits, torch.ones_like(y), beta).numpy()
    for j, a in enumerate(idx):
        rows.append({"anchor": int(a), "gt": int(matched[a]) + 1, "class": int(cls[j]),
                     "score": float(torch.sigmoid(logits[j])), "iou_target": float(y[j]),
                     "onehot_target": 1.0, "qfl_soft": float(q_soft[j]), "qfl_onehot": float(q_hard[j])})
    return {"positives": rows, "beta": float(beta)}


# --------------------------------------------------------------------------------------------- #
# DFL: one detection's edges as distributions

EDGES = ("left", "top", "right", "bottom")


def edge_report(pred: Prediction, anchor: int) -> dict[str, Any]:
    """The 4 edge distributions of one anchor: probabilities, the expectation in strides and pixels,
    the box edge it gives, the sharpness (max probability, entropy in bits) and the number of peaks."""
    dist = pred.distributions[anchor].astype(np.float64)
    s = float(pred.strides[anchor])
    cx, cy = (float(v) for v in pred.points[anchor])
    bins = np.arange(pred.reg_max + 1)
    edges = []
    for k, name in enumerate(EDGES):
        pk = dist[k]
        expectation = float((pk * bins).sum())
        sign = -1 if k < 2 else 1
        centre = cx if k % 2 == 0 else cy
        entropy = float(-(pk * np.log2(np.clip(pk, 1e-12, 1))).sum())
        edges.append({"edge": name, "probabilities": pk, "expectation_strides": expectation,
                      "edge_px": centre + sign * expectation * s, "box_px": float(pred.boxes[anchor, k]),
                      "max_probability": float(pk.max()), "entropy_bits": entropy, "peaks": _peaks(pk),
                      "shape": _shape(pk)})
    return {"anchor": int(anchor), "stride": s, "centre": [cx, cy], "edges": edges,
            "box": pred.boxes[anchor].astype(float)}


def _peaks(p: np.ndarray, floor: float = 0.1) -> int:
    """Local maxima holding at least ``floor`` of the largest probability's mass, two bins apart."""
    q = np.concatenate([[0.0], p, [0.0]])
    top = floor * p.max()
    cand = [i for i in range(1, len(q) - 1) if q[i] >= q[i - 1] and q[i] > q[i + 1] and q[i] >= top]
    kept: list[int] = []
    for i in sorted(cand, key=lambda i: -q[i]):
        # a second peak counts only if a valley separates it from the kept ones
        if all(abs(i - j) > 1 and q[min(i, j):max(i, j) + 1].min() < 0.8 * min(q[i], q[j]) for j in kept):
            kept.append(i)
    return len(kept)


SHARP_MASS = 0.8  # "sharp": at least this much probability on two neighbouring bins (DFL's optimum has 1)


def _shape(p: np.ndarray) -> str:
    """A word for the distribution: sharp (≥ :data:`SHARP_MASS` on two neighbouring bins), two-peaked
    (two separated maxima, the second at least 0.3 of the first), else flat."""
    two = max(float(p[i] + p[i + 1]) for i in range(len(p) - 1))
    if two >= SHARP_MASS:
        return "sharp"
    return "two-peaked" if _peaks(p, 0.3) >= 2 else "flat"


# --------------------------------------------------------------------------------------------- #
# OKS


def parse_keypoints(text: str, width: int, height: int, kind: str) -> np.ndarray:
    """Typed keypoints as an array: ``kind="gt"`` → ``(17, 3)`` (x, y, v), ``"pred"`` → ``(17, 2)``.

    Empty text gives the defaults (placed for astronaut.jpg, scaled to this photo).
    """
    label = "GT keypoints" if kind == "gt" else "Predicted keypoints"
    if not text or not str(text).strip():
        base = np.array([[x * width, y * height, v] for x, y, v in DEFAULT_KEYPOINTS], dtype=np.float64)
        if kind == "gt":
            return base
        off = np.array(DEFAULT_PRED_OFFSETS) * [width, height]
        return base[:, :2] + off
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{label} are not valid JSON ({exc.msg} at character {exc.pos}).") from None
    cols = 3 if kind == "gt" else 2
    example = "[[x, y, v], …]" if kind == "gt" else "[[x, y], …]"
    if not isinstance(data, list) or len(data) != K:
        got = f"{len(data)} entries" if isinstance(data, list) else "no list"
        raise ValueError(f"{label} must be a JSON list of {K} entries {example} (COCO's order: "
                         f"{', '.join(COCO_KEYPOINTS[:3])}, …); got {got}.")
    rows = []
    for i, item in enumerate(data):
        if kind == "pred" and isinstance(item, list) and len(item) == 3:
            item = item[:2]  # a (x, y, v) row as a prediction: the visibility is not the model's
        if (not isinstance(item, list) or len(item) != cols
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in item)
                or not all(math.isfinite(float(v)) for v in item)):
            raise ValueError(f"{label}: entry {i + 1} ({COCO_KEYPOINTS[i]}) must be {cols} numbers "
                             f"{example[1:-4]}; got {json.dumps(item)[:40]}.")
        if abs(item[0]) > 1e6 or abs(item[1]) > 1e6:
            raise ValueError(f"{label}: entry {i + 1} ({COCO_KEYPOINTS[i]}) lies more than 10⁶ px away.")
        if kind == "gt" and item[2] not in (0, 1, 2):
            raise ValueError(f"{label}: entry {i + 1} ({COCO_KEYPOINTS[i]}) visibility must be 0, 1 or 2; "
                             f"got {item[2]!r}.")
        rows.append([float(v) for v in item])
    return np.asarray(rows, dtype=np.float64)


def tolerance_radius(sigma: float | np.ndarray, area: float, level: float = 0.5) -> np.ndarray:
    """Distance (px) at which a keypoint's similarity ``exp(−d² / (2 area (2σ)²))`` falls to ``level``:
    ``d = 2σ · √area · √(2 ln(1/level))`` (≈ 2.355 σ√area at 0.5)."""
    return 2 * np.asarray(sigma, dtype=np.float64) * math.sqrt(area) * math.sqrt(2 * math.log(1 / level))


def oks_view(gt: np.ndarray, pred: np.ndarray, area: float) -> dict[str, Any]:
    """Per-keypoint similarity, distance and tolerance circle; the OKS and YOLO-pose's 1 − OKS."""
    ks = keypoint_similarity(gt, pred, area)
    visible = gt[:, 2] > 0
    value = oks(gt, pred, area) if visible.any() else None
    radii = tolerance_radius(COCO_SIGMAS, area)
    rows = [{"keypoint": COCO_KEYPOINTS[i], "sigma": float(COCO_SIGMAS[i]), "visibility": int(gt[i, 2]),
             "distance_px": float(np.hypot(*(pred[i, :2] - gt[i, :2]))),
             "similarity": float(ks[i]) if visible[i] else None, "tolerance_px": float(radii[i])}
            for i in range(K)]
    return {"keypoints": rows, "area": float(area), "scale": math.sqrt(area), "oks": value,
            "loss_1_minus_oks": None if value is None else 1.0 - value, "visible": int(visible.sum())}


def add_keypoint(gt_json: str, pred_json: str, which: str, index: int, xy: tuple[float, float],
                 width: int, height: int) -> tuple[str, str, int]:
    """A click (photo pixels) sets keypoint ``index`` (0-based) of the GT (visible) or the prediction.

    Returns the new JSON texts and the next keypoint's index (the page steps through the 17).
    """
    if which not in ("gt", "pred"):
        raise ValueError(f"which must be 'gt' or 'pred'; got {which!r}")
    if not 0 <= int(index) < K:
        raise ValueError(f"keypoint must be between 1 and {K}; got {int(index) + 1}")
    gt = parse_keypoints(gt_json, width, height, "gt")
    pred = parse_keypoints(pred_json, width, height, "pred")
    x = float(np.clip(xy[0], 0, width))
    y = float(np.clip(xy[1], 0, height))
    if which == "gt":
        gt[int(index)] = [x, y, 2]
    else:
        pred[int(index)] = [x, y]
    dump = lambda a: json.dumps([[round(float(v), 1) if j < 2 else int(v) for j, v in enumerate(r)]  # noqa: E731
                                 for r in a])
    return dump(gt), dump(pred), (int(index) + 1) % K


# --------------------------------------------------------------------------------------------- #
# the lesson


def run(image: Any, weights: str = "auto", gamma: float = 2.0, alpha: float = 0.25,
        easy_threshold: float = 0.1, beta: float = 2.0, gt_boxes: str = "", score_threshold: float = 0.3,
        detection: int = 1, blur: float = 0.0, keypoints_gt: str = "", keypoints_pred: str = "",
        area: float = 0.0) -> LessonResult:
    """Focal loss, QFL, DFL and OKS on one photo with the embedded GFL detector; see ``PARAMS``."""
    from core import zoo
    from core.images import load_image
    from core.viz import losses as views

    values = dict(weights=weights, gamma=gamma, alpha=alpha, easy_threshold=easy_threshold, beta=beta,
                  gt_boxes=gt_boxes, score_threshold=score_threshold, detection=detection, blur=blur,
                  keypoints_gt=keypoints_gt, keypoints_pred=keypoints_pred, area=area)
    p = {prm.name: prm.check(values[prm.name]) for prm in PARAMS}
    rgb = load_image(image)
    h, w = rgb.shape[:2]
    gt_kp = parse_keypoints(p["keypoints_gt"], w, h, "gt")
    pred_kp = parse_keypoints(p["keypoints_pred"], w, h, "pred")
    if not (gt_kp[:, 2] > 0).any():
        raise ValueError("GT keypoints: at least one needs visibility 1 or 2 (OKS averages over those).")
    obj_area = p["area"] if p["area"] > 0 else DEFAULT_AREA_FRACTION * w * h

    loaded = zoo.load_model(MODEL, p["weights"])
    seen = blur_photo(rgb, p["blur"])
    pred = predict(loaded, seen, p["score_threshold"])
    names = loaded.labels or tuple(f"class {i}" for i in range(pred.cls_logits.shape[1]))
    note = ""
    if p["gt_boxes"].strip():
        gt_photo, gt_labels = parse_gt_json(p["gt_boxes"], names)
        gt = gt_photo * pred.scale
        gt_source = "typed JSON"
    else:
        keep = pred.keep
        if len(keep) == 0:  # nothing above the threshold: the 3 best anchors stand in
            scores = 1 / (1 + np.exp(-pred.cls_logits.max(1)))
            keep = np.argsort(-scores)[:3]
            note = ("Nothing scored above the threshold, so the 3 best-scoring anchors stand in for GT boxes "
                    "(the embedded detector knows only ShapesWorld shapes).")
        gt = pred.boxes[keep].astype(np.float64)
        gt_labels = pred.cls_logits[keep].argmax(1)
        gt_photo = gt / pred.scale
        gt_source = f"the detector's own detections (score ≥ {p['score_threshold']:.2f})"
        gt_valid = (gt[:, 2] - gt[:, 0] > 1e-3) & (gt[:, 3] - gt[:, 1] > 1e-3)
        gt, gt_labels, gt_photo = gt[gt_valid], gt_labels[gt_valid], gt_photo[gt_valid]
    sim = simota(gt, gt_labels, pred.boxes, pred.cls_logits, np.full(len(pred.points), OBJ_LOGIT),
                 pred.points, pred.strides)
    targets = np.zeros_like(pred.cls_logits)
    fg = sim.fg_mask
    targets[np.flatnonzero(fg), np.asarray(gt_labels)[sim.matched_gt[fg]]] = 1.0
    focal = focal_view(pred.cls_logits, targets, pred.strides, p["alpha"], p["gamma"], p["easy_threshold"])
    qfl = qfl_view(pred.cls_logits, fg, sim.matched_gt, sim.matched_iou, gt_labels, p["beta"])

    if len(pred.keep):
        which = min(p["detection"], len(pred.keep)) - 1
        anchor = int(pred.keep[which])
        shown = ("detection {i} of {n} (score {score:.2f})",
                 dict(i=which + 1, n=len(pred.keep), score=float(pred.scores[which])))
    else:
        anchor = int(np.argmax(pred.cls_logits.max(1)))
        shown = ("the best-scoring anchor (no detection above the threshold)", {})
    det_note = shown[0].format(**shown[1])  # the summary's words stay English (the API's)
    edges = edge_report(pred, anchor)
    keypoints = oks_view(gt_kp, pred_kp, obj_area)

    images, captions, views_meta = views.render_lesson(
        rgb=rgb, pred=pred, gt=gt, gt_labels=gt_labels, names=names, fg=fg, matched=sim.matched_gt,
        focal=focal, qfl=qfl, edges=edges, det_note=words.say(shown[0], **shown[1]), gt_kp=gt_kp,
        pred_kp=pred_kp, keypoints=keypoints)
    summary = {
        "model": {"name": MODEL, "title": loaded.entry.title, "source": loaded.source,
                  "learned": loaded.source != "random", "note": getattr(loaded, "note", "")},
        "input": {"width": w, "height": h, "network_size": int(loaded.entry.input_size),
                  "scale": float(pred.scale), "blur_sigma": p["blur"]},
        "assignment": {"assigner": "SimOTA (YOLOX 0.3 preset, the assigner gfl-shapes was trained with)",
                       "gt_source": gt_source, "gt_boxes": gt_photo.round(1).tolist(),
                       "gt_labels": [names[int(c)] for c in gt_labels], "positives": int(fg.sum()),
                       "anchors": int(len(fg)), "note": note},
        "focal": {k: v for k, v in focal.items() if not k.endswith("per_anchor")},
        "qfl": qfl,
        "dfl": {"reg_max": pred.reg_max, "bins": pred.reg_max + 1, "detection": det_note,
                "label": names[int(pred.cls_logits[anchor].argmax())], **edges},
        "oks": keypoints,
        "detections": len(pred.keep),
        "views": views_meta,
        "captions": captions,
    }
    return LessonResult(images=images, summary=summary, captions=captions)
