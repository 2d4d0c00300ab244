"""Label assignment for anchor-free detectors: YOLOX's SimOTA (both releases), ATSS and TAL.

A detector with ``A`` anchor points (the centres of the cells of its stride-8/16/32 feature maps)
predicts a box, an objectness and ``C`` class scores at every point. Training needs to know which
points should learn which ground-truth (GT) object: that is *label assignment*. This module computes
it exactly as the reference implementations do, vectorised over anchors, and keeps every
intermediate quantity (candidates, costs, dynamic k, the matching before and after conflicts) so a
page can show it.

SimOTA follows YOLOX's ``get_assignments`` (see :data:`PRESETS` for the two releases):

1. geometry: which anchors lie strictly inside each GT box and inside each GT's centre square of
   half-side ``radius·stride``; the *candidates* are the anchors any GT could use;
2. cost per (GT, candidate): ``Σ_c BCE(√(σ(cls)·σ(obj)), onehot) + 3·(−log(IoU + 1e−8)) + penalty``;
3. ``dynamic_k = max(1, int(Σ top-10 IoUs))`` per GT; each GT takes its ``dynamic_k`` cheapest
   candidates;
4. an anchor taken by several GTs is kept by the GT of lowest cost (YOLOX takes the minimum over all
   GTs' costs for that anchor).

Conventions: boxes are ``xyxy`` pixels; inputs may be numpy arrays or torch tensors; results are
numpy. Costs and IoUs are computed in float64 so that a large penalty does not erase the order of the
costs below it, and ties are broken by the lower anchor index (stable sort), so results are
deterministic and comparable with a loop-by-loop reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = [
    "ASSIGNERS",
    "ATSSResult",
    "AssignResult",
    "PRESETS",
    "SimOTAResult",
    "TALResult",
    "anchor_grid",
    "atss",
    "box_iou",
    "dynamic_k_matching",
    "geometry",
    "pair_cls_cost",
    "simota",
    "tal",
    "worked_example",
]


@dataclass(frozen=True)
class Preset:
    """The constants of one YOLOX release."""

    name: str
    radius: float  # half-side of the centre square, in strides
    penalty: float  # added to the cost of a pair outside the geometric constraint
    centre_only: bool  # candidates from the centre squares only (main) or box ∪ centre (0.3)
    description: str


PRESETS: dict[str, Preset] = {
    "yolox-0.3": Preset(
        "yolox-0.3", 2.5, 1e5, False,
        "YOLOX 0.1–0.3 (the paper's release): candidates inside any GT box or any centre square of "
        "half-side 2.5 strides; penalty 1e5 unless the anchor is inside both the box and the square."),
    "yolox-main": Preset(
        "yolox-main", 1.5, 1e6, True,
        "YOLOX main (since 2023): candidates inside a centre square of half-side 1.5 strides only; "
        "penalty 1e6 outside that GT's square."),
}
ASSIGNERS = ("SimOTA", "ATSS", "TAL")


# --------------------------------------------------------------------------------------------- #
# result objects


@dataclass(eq=False)
class AssignResult:
    """What every assigner returns (numpy arrays; ``A`` anchors, ``G`` ground truths).

    ``metric`` is the per-(GT, anchor) quantity the assigner ranks by: SimOTA's cost (lower is
    better), ATSS's anchor IoU and TAL's alignment metric (higher is better).
    """

    method: str
    candidates: np.ndarray  # (A,) bool: anchors any GT may take
    metric: np.ndarray  # (G, A) float
    metric_name: str
    lower_is_better: bool
    fg_mask: np.ndarray  # (A,) bool
    matched_gt: np.ndarray  # (A,) int64, −1 = background
    matched_iou: np.ndarray  # (A,) float: IoU used by the assigner with the matched GT (0 if bg)

    @property
    def num_gt(self) -> int:
        return int(self.metric.shape[0])

    def positives_per_gt(self) -> np.ndarray:
        """``(G,)`` number of positive anchors each GT ended with (0 = unmatched GT)."""
        return np.bincount(self.matched_gt[self.fg_mask], minlength=self.num_gt).astype(np.int64)


@dataclass(eq=False)
class SimOTAResult(AssignResult):
    """SimOTA's assignment with every intermediate (see API.md, ``core.assign``)."""

    in_box: np.ndarray = None  # (G, A) bool
    in_center: np.ndarray = None  # (G, A) bool
    geometry_ok: np.ndarray = None  # (G, A) bool: pairs that escape the penalty
    ious: np.ndarray = None  # (G, A): IoU(GT, predicted box), 0 for non-candidates
    cost: np.ndarray = None  # (G, A): +inf for non-candidates
    cls_cost: np.ndarray = None  # (G, A): +inf for non-candidates
    topk_ious: np.ndarray = None  # (G, min(topk, #candidates)), best first
    dynamic_k: np.ndarray = None  # (G,) int64
    matching_before: np.ndarray = None  # (G, A) bool: each GT's k cheapest candidates
    matching: np.ndarray = None  # (G, A) bool: after conflicts
    conflicts: np.ndarray = None  # (A,) bool: anchors taken by more than one GT
    preset: str = "yolox-0.3"
    center_radius: float = 2.5
    penalty: float = 1e5


@dataclass(eq=False)
class ATSSResult(AssignResult):
    """ATSS: ``k`` nearest anchors per level, IoU ≥ mean + std, centre inside, max-IoU conflicts."""

    candidate_mask: np.ndarray = None  # (G, A) bool
    ious: np.ndarray = None  # (G, A) IoU(GT, anchor box)
    in_gt: np.ndarray = None  # (G, A) bool
    iou_mean: np.ndarray = None  # (G,)
    iou_std: np.ndarray = None  # (G,)
    thresholds: np.ndarray = None  # (G,)
    positive_mask: np.ndarray = None  # (G, A) bool before conflicts
    k: int = 9
    anchor_scale: float = 8.0


@dataclass(eq=False)
class TALResult(AssignResult):
    """TAL: alignment ``t = s^α·u^β``, top ``k`` anchors inside each GT, max-IoU conflicts."""

    in_gt: np.ndarray = None  # (G, A) bool
    scores: np.ndarray = None  # (G, A) s: the predicted score of the GT's class
    ious: np.ndarray = None  # (G, A) u: IoU(GT, predicted box)
    positive_mask: np.ndarray = None  # (G, A) bool before conflicts
    target_score: np.ndarray = None  # (A,) normalised t (the soft class target), 0 for bg
    topk: int = 13
    alpha: float = 1.0
    beta: float = 6.0


# --------------------------------------------------------------------------------------------- #
# helpers


def _f64(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float64)
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def _boxes(x: Any, what: str) -> torch.Tensor:
    t = _f64(x)
    if t.numel() == 0:
        return t.reshape(0, 4)
    if t.ndim != 2 or t.shape[1] != 4:
        raise ValueError(f"{what} must have shape (N, 4) in xyxy pixels, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return t


def anchor_grid(image_size: int | Sequence[int],
                strides: Sequence[int] = (8, 16, 32)) -> tuple[np.ndarray, np.ndarray]:
    """Anchor centres ``((col + 0.5)·s, (row + 0.5)·s)``, stride 8 first, each level row-major.

    ``image_size`` is a side or ``(height, width)``; a level has ``ceil(side / s)`` cells per side
    (what a stride-``s`` conv pyramid produces for a padded input; exact for multiples of 32).
    Returns ``points (A, 2)`` float32 (x, y) and ``strides (A,)`` float32. 640×640 gives A = 8400.
    """
    h, w = (image_size, image_size) if np.isscalar(image_size) else tuple(image_size)
    points, levels = [], []
    for s in strides:
        rows, cols = -(-int(h) // int(s)), -(-int(w) // int(s))
        yy, xx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        points.append(np.stack([(xx.ravel() + 0.5) * s, (yy.ravel() + 0.5) * s], axis=1))
        levels.append(np.full(rows * cols, s))
    return np.concatenate(points).astype(np.float32), np.concatenate(levels).astype(np.float32)


def box_iou(a: Any, b: Any) -> torch.Tensor:
    """Pairwise IoU ``(len(a), len(b))`` of xyxy boxes (float64; 0 where boxes do not overlap)."""
    a, b = _f64(a).reshape(-1, 4), _f64(b).reshape(-1, 4)
    tl = torch.maximum(a[:, None, :2], b[None, :, :2])
    br = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (br - tl).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def geometry(gt_boxes: Any, points: Any, strides: Any, radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``in_box (G, A)``: anchor centre strictly inside the GT box; ``in_center (G, A)``: strictly
    inside the square of half-side ``radius·stride`` around the GT's centre (YOLOX's tests, ``> 0``)."""
    gt = _boxes(gt_boxes, "GT boxes")
    p, s = _f64(points).reshape(-1, 2), _f64(strides).reshape(-1)
    x, y = p[None, :, 0], p[None, :, 1]
    # "all four distances > 0" written as comparisons (x − l > 0 ⇔ x > l for floats), no (G, A, 4) tensor
    in_box = (x > gt[:, 0:1]) & (y > gt[:, 1:2]) & (x < gt[:, 2:3]) & (y < gt[:, 3:4])
    cx, cy = (gt[:, 0:1] + gt[:, 2:3]) / 2, (gt[:, 1:2] + gt[:, 3:4]) / 2
    half = radius * s[None, :]
    in_center = (x > cx - half) & (y > cy - half) & (x < cx + half) & (y < cy + half)
    return in_box, in_center


def pair_cls_cost(cls_logits: Any, obj_logits: Any, gt_labels: Any) -> torch.Tensor:
    """``(G, N)`` classification cost ``Σ_c BCE(√(σ(cls_c)·σ(obj)), onehot(label)_c)``.

    Computed without the ``(G, N, C)`` tensor: the sum over classes of ``−log(1 − p_c)`` is shared by
    every GT, and only the GT's own class swaps ``−log(1 − p)`` for ``−log p``. Logs are clamped at
    −100 as ``torch.nn.functional.binary_cross_entropy`` does.
    """
    cls = _f64(cls_logits)
    obj = _f64(obj_logits).reshape(-1, 1)
    labels = torch.as_tensor(np.asarray(gt_labels), dtype=torch.int64).reshape(-1)
    p = (torch.sigmoid(cls) * torch.sigmoid(obj)).sqrt()
    neg = -torch.log1p(-p).clamp(min=-100)  # (N, C)  −log(1 − p), clamped like BCE
    pos = -torch.log(p).clamp(min=-100)  # (N, C)  −log p
    base = neg.sum(1)  # (N,)
    return base[None, :] + (pos - neg).T[labels]  # (G, N)


def _check_labels(labels: torch.Tensor, num_classes: int, num_gt: int) -> None:
    if labels.numel() != num_gt:
        raise ValueError(f"got {num_gt} GT boxes but {labels.numel()} GT labels")
    if num_gt and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"GT labels must be class ids in 0..{num_classes - 1}, got {labels.tolist()}")


def dynamic_k_matching(cost: Any, ious: Any, topk: int = 10) -> dict[str, torch.Tensor]:
    """SimOTA's matching on ``(G, N)`` cost and IoU matrices over the N candidate anchors.

    Returns ``topk_ious (G, min(topk, N))``, ``dynamic_k (G,)``, ``before (G, N)`` (each GT's
    ``dynamic_k`` cheapest candidates, ties to the lower index), ``after (G, N)`` (each anchor taken
    by several GTs reassigned to the GT of lowest cost over all GTs, as YOLOX does) and
    ``conflicts (N,)``.
    """
    cost, ious = _f64(cost), _f64(ious)
    g, n = cost.shape
    n_k = min(int(topk), n)
    topk_ious = torch.topk(ious, n_k, dim=1).values if n_k > 0 else ious.new_zeros(g, 0)
    dynamic_k = topk_ious.sum(1).to(torch.int64).clamp(min=1)  # int() truncation, at least 1
    before = torch.zeros(g, n, dtype=torch.bool)
    if g and n:
        take = dynamic_k.clamp(max=n)
        kmax = int(take.max())
        order = torch.sort(cost, dim=1, stable=True).indices[:, :kmax]
        keep = torch.arange(kmax)[None, :] < take[:, None]
        rows = torch.arange(g)[:, None].expand(-1, kmax)
        before[rows[keep], order[keep]] = True
    conflicts = before.sum(0) > 1
    after = before.clone()
    if conflicts.any():
        winner = cost[:, conflicts].argmin(0)  # first index among equal costs
        after[:, conflicts] = False
        after[winner, conflicts.nonzero().squeeze(1)] = True
    return {"topk_ious": topk_ious, "dynamic_k": dynamic_k, "before": before, "after": after,
            "conflicts": conflicts}


# --------------------------------------------------------------------------------------------- #
# SimOTA


def simota(gt_boxes: Any, gt_labels: Any, pred_boxes: Any, cls_logits: Any, obj_logits: Any,
           points: Any, strides: Any, *, preset: str = "yolox-0.3", topk: int = 10, iou_weight: float = 3.0,
           center_radius: float | None = None) -> SimOTAResult:
    """YOLOX's SimOTA for one image (see the module docstring and API.md)."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    if int(topk) < 1:
        raise ValueError(f"topk must be at least 1, got {topk}")
    cfg = PRESETS[preset]
    radius = cfg.radius if center_radius is None else float(center_radius)
    gt = _boxes(gt_boxes, "GT boxes")
    pred = _boxes(pred_boxes, "predicted boxes")
    cls = _f64(cls_logits)
    obj = _f64(obj_logits).reshape(-1)
    pts = _f64(points).reshape(-1, 2)
    a, g = pts.shape[0], gt.shape[0]
    if pred.shape[0] != a or cls.shape[0] != a or obj.shape[0] != a:
        raise ValueError(f"predictions must cover all {a} anchors: boxes {tuple(pred.shape)}, "
                         f"cls {tuple(cls.shape)}, obj {tuple(obj.shape)}")
    labels = torch.as_tensor(np.asarray(gt_labels), dtype=torch.int64).reshape(-1)
    _check_labels(labels, cls.shape[1], g)

    in_box, in_center = geometry(gt, pts, strides, radius)
    if cfg.centre_only:
        candidates, ok = in_center.any(0), in_center
    else:
        candidates, ok = in_box.any(0) | in_center.any(0), in_box & in_center
    idx = candidates.nonzero().squeeze(1)
    ious_c = box_iou(gt, pred[idx])
    cls_c = pair_cls_cost(cls[idx], obj[idx], labels)
    cost_c = cls_c + iou_weight * -torch.log(ious_c + 1e-8) + cfg.penalty * (~ok[:, idx]).double()
    m = dynamic_k_matching(cost_c, ious_c, topk)

    def full(values: torch.Tensor, fill: float, dtype=torch.float64) -> np.ndarray:
        out = torch.full((g, a), fill, dtype=dtype)
        out[:, idx] = values.to(dtype)
        return out.numpy()

    matching = full(m["after"], False, torch.bool)
    fg = matching.any(0)
    matched = np.where(fg, matching.argmax(0), -1).astype(np.int64) if g else np.full(a, -1, np.int64)
    ious = full(ious_c, 0.0)
    matched_iou = np.where(fg, ious[np.clip(matched, 0, None), np.arange(a)], 0.0) if g else np.zeros(a)
    conflicts = np.zeros(a, dtype=bool)
    conflicts[idx.numpy()] = m["conflicts"].numpy()
    cost = full(cost_c, np.inf)
    return SimOTAResult(
        method="SimOTA", candidates=candidates.numpy(), metric=cost, metric_name="cost",
        lower_is_better=True, fg_mask=fg, matched_gt=matched, matched_iou=matched_iou,
        in_box=in_box.numpy(), in_center=in_center.numpy(), geometry_ok=ok.numpy(), ious=ious, cost=cost,
        cls_cost=full(cls_c, np.inf), topk_ious=m["topk_ious"].numpy(), dynamic_k=m["dynamic_k"].numpy(),
        matching_before=full(m["before"], False, torch.bool), matching=matching, conflicts=conflicts,
        preset=preset, center_radius=radius, penalty=cfg.penalty,
    )


# --------------------------------------------------------------------------------------------- #
# ATSS and TAL


def atss(gt_boxes: Any, points: Any, strides: Any, *, k: int = 9, anchor_scale: float = 8.0) -> ATSSResult:
    """ATSS (Zhang et al., CVPR 2020) on square anchor boxes of side ``anchor_scale·stride``.

    Per GT: the ``k`` anchors of each level whose centres are nearest (L2) to the GT centre are the
    candidates; the threshold is mean + std (unbiased, as ``torch.std``) of their IoUs with the GT;
    positives have IoU ≥ threshold and their centre inside the GT (by more than 0.01 px, as the
    reference code). An anchor positive for several GTs goes to the one of highest IoU.
    """
    gt = _boxes(gt_boxes, "GT boxes")
    pts, s = _f64(points).reshape(-1, 2), _f64(strides).reshape(-1)
    g, a = gt.shape[0], pts.shape[0]
    half = anchor_scale * s[:, None] / 2
    anchors = torch.cat([pts - half, pts + half], 1)
    ious = box_iou(gt, anchors)
    centre = (gt[:, :2] + gt[:, 2:]) / 2
    dist = torch.cdist(centre, pts) if g else torch.zeros(0, a, dtype=torch.float64)
    cand = torch.zeros(g, a, dtype=torch.bool)
    for level in torch.unique(s, sorted=False).tolist():
        cols = (s == level).nonzero().squeeze(1)
        kk = min(int(k), cols.numel())
        if g and kk:
            nearest = torch.sort(dist[:, cols], dim=1, stable=True).indices[:, :kk]
            cand.scatter_(1, cols[nearest], True)
    cand_ious = torch.where(cand, ious, torch.nan)
    mean = torch.nanmean(cand_ious, 1) if g else torch.zeros(0, dtype=torch.float64)
    count = cand.sum(1)
    var = torch.nansum((cand_ious - mean[:, None]) ** 2, 1) / (count - 1).clamp(min=1)
    std = var.sqrt()
    thr = mean + std
    x, y = pts[None, :, 0], pts[None, :, 1]
    d = torch.stack([x - gt[:, 0:1], y - gt[:, 1:2], gt[:, 2:3] - x, gt[:, 3:4] - y], -1)
    in_gt = d.amin(-1) > 0.01
    positive = cand & (ious >= thr[:, None]) & in_gt
    fg, matched, matched_iou = _max_iou_resolve(positive, ious)
    return ATSSResult(
        method="ATSS", candidates=cand.any(0).numpy(), metric=ious.numpy(), metric_name="anchor IoU",
        lower_is_better=False, fg_mask=fg, matched_gt=matched, matched_iou=matched_iou,
        candidate_mask=cand.numpy(), ious=ious.numpy(), in_gt=in_gt.numpy(), iou_mean=mean.numpy(),
        iou_std=std.numpy(), thresholds=thr.numpy(), positive_mask=positive.numpy(), k=int(k),
        anchor_scale=float(anchor_scale),
    )


def _max_iou_resolve(positive: torch.Tensor, ious: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = positive.shape[1]
    fg = positive.any(0)
    masked = torch.where(positive, ious, -torch.inf)
    if positive.shape[0]:
        best_iou, best = masked.max(0)
    else:
        best_iou, best = torch.zeros(a, dtype=torch.float64), torch.zeros(a, dtype=torch.int64)
    matched = torch.where(fg, best, -1)
    return fg.numpy(), matched.numpy().astype(np.int64), torch.where(fg, best_iou, 0.0).numpy()


def tal(gt_boxes: Any, gt_labels: Any, pred_boxes: Any, cls_logits: Any, obj_logits: Any | None,
        points: Any, *, topk: int = 13, alpha: float = 1.0, beta: float = 6.0) -> TALResult:
    """Task-aligned assignment (TOOD; YOLOv6/v8's default): ``t = s^α·u^β``.

    ``s`` is the predicted score of the GT's class — ``σ(cls)·σ(obj)`` for a YOLOX head (the score it
    ranks detections by), ``σ(cls)`` when ``obj_logits`` is None — and ``u`` the IoU of the predicted
    box with the GT. Each GT takes the ``topk`` anchors of largest ``t`` among those whose centre lies
    inside it; an anchor positive for several GTs goes to the one of highest IoU.
    """
    gt = _boxes(gt_boxes, "GT boxes")
    pred = _boxes(pred_boxes, "predicted boxes")
    cls = _f64(cls_logits)
    pts = _f64(points).reshape(-1, 2)
    g, a = gt.shape[0], pts.shape[0]
    labels = torch.as_tensor(np.asarray(gt_labels), dtype=torch.int64).reshape(-1)
    _check_labels(labels, cls.shape[1], g)
    prob = torch.sigmoid(cls)
    if obj_logits is not None:
        prob = prob * torch.sigmoid(_f64(obj_logits).reshape(-1, 1))
    scores = prob.T[labels]  # (G, A)
    ious = box_iou(gt, pred)
    x, y = pts[None, :, 0], pts[None, :, 1]
    d = torch.stack([x - gt[:, 0:1], y - gt[:, 1:2], gt[:, 2:3] - x, gt[:, 3:4] - y], -1)
    in_gt = d.amin(-1) > 1e-9
    align = scores.pow(alpha) * ious.pow(beta)
    positive = torch.zeros(g, a, dtype=torch.bool)
    if g and a:
        ranked = torch.where(in_gt, align, -torch.inf)
        kk = min(int(topk), a)
        order = torch.sort(ranked, dim=1, descending=True, stable=True).indices[:, :kk]
        positive.scatter_(1, order, True)
        positive &= in_gt
    fg, matched, matched_iou = _max_iou_resolve(positive, ious)
    # soft target: t normalised so that each GT's best positive gets that GT's best positive IoU
    final = torch.zeros(g, a, dtype=torch.bool)
    mt = torch.as_tensor(matched)
    fg_t = torch.as_tensor(fg)
    if fg_t.any():
        final[mt[fg_t], fg_t.nonzero().squeeze(1)] = True
    t_pos = torch.where(final, align, 0.0)
    u_pos = torch.where(final, ious, 0.0)
    norm = u_pos.amax(1, keepdim=True) / (t_pos.amax(1, keepdim=True) + 1e-9) if g else t_pos
    target = (t_pos * norm).amax(0) if g else torch.zeros(a, dtype=torch.float64)
    return TALResult(
        method="TAL", candidates=in_gt.any(0).numpy(), metric=align.numpy(), metric_name="alignment t",
        lower_is_better=False, fg_mask=fg, matched_gt=matched, matched_iou=matched_iou,
        in_gt=in_gt.numpy(), scores=scores.numpy(), ious=ious.numpy(), positive_mask=positive.numpy(),
        target_score=target.numpy(), topk=int(topk), alpha=float(alpha), beta=float(beta),
    )


# --------------------------------------------------------------------------------------------- #
# the notes' worked example (3 GTs, 1000 candidates)


def worked_example() -> dict[str, np.ndarray]:
    """The notes' worked example as matrices over 1000 candidate anchors of 3 GTs.

    Built so that SimOTA reproduces the notes' story: the top-10 IoUs sum to 3.77, 4.54 and 3.68, so
    ``dynamic_k = 3, 4, 3``; GT 1 and GT 2 both pick candidate #5 (index 4), whose costs are 0.4
    (GT 1) and 0.3 (GT 2), so it goes to GT 2 and GT 1 keeps two positives. Costs are consistent with
    the formula: ``cost = cls_cost + 3·(−log IoU)``. Returns ``ious``, ``cls_cost`` and ``cost``
    ``(3, 1000)``.
    """
    rng = np.random.default_rng(2021)
    n = 1000
    ious = rng.uniform(0.0, 0.06, (3, n))
    cls_cost = rng.uniform(0.5, 3.0, (3, n))
    # (GT, candidate index, cost) of the cheapest candidates; each gets cls cost 0.1 (0.05 for the best)
    chosen = [(0, 1, 0.2), (0, 4, 0.4), (0, 7, 0.6),
              (1, 4, 0.3), (1, 9, 0.35), (1, 11, 0.5), (1, 12, 0.55),
              (2, 15, 0.25), (2, 17, 0.45), (2, 18, 0.7)]
    for g, j, c in chosen:
        cls_cost[g, j] = 0.05 if c < 0.25 else 0.1
        ious[g, j] = float(np.exp(-(c - cls_cost[g, j]) / 3.0)) - 1e-8
    # the rest of each GT's top-10 IoUs: moderate overlaps at candidates whose cost stays high
    extra = {0: (0.35, 0.2, 0.15, 0.12, 0.1, 0.08, 0.07), 1: (0.3, 0.2, 0.15, 0.12, 0.1, 0.08),
             2: (0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.07)}
    free = rng.permutation(np.arange(20, n))
    pos = 0
    for g, values in extra.items():
        for v in values:
            j = int(free[pos])
            pos += 1
            ious[g, j], cls_cost[g, j] = v, rng.uniform(1.0, 2.5)
    cost = cls_cost + 3.0 * -np.log(ious + 1e-8)
    return {"ious": ious, "cls_cost": cls_cost, "cost": cost}
