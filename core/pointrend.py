"""PointRend: spend the point head only where a coarse segmentation is unsure.

The algorithm follows the paper (Kirillov et al., 2020) with the semantics of detectron2's
``projects/PointRend`` (re-derived here, not copied):

* :func:`uncertainty` — ``−(top1 − top2)`` of the *logits* over classes (``−|logit|`` for one channel);
  the larger, the closer the two best classes are.
* :func:`points_on_grid` — inference: the ``N = min(H·W, num_points)`` most uncertain cells of a map,
  their flat indices and their centres in [0, 1] (x then y).
* :func:`points_with_randomness` — training: ``k·N`` uniform points, uncertainty of the bilinearly
  *interpolated* logits at those points, the ``int(β·N)`` most uncertain first, then
  ``N − int(β·N)`` fresh uniform points for coverage.
* :func:`subdivision_schedule` — one entry per 2× upsampling step until the output size; when the ratio
  is not a power of two the last step resizes to the output size (the notes' ``while`` loop never ends).
* :class:`PointHead` — an MLP of 1×1 convolutions (3 hidden layers of 256) on
  [fine features ‖ coarse logits], the coarse logits re-concatenated at every layer.
* :func:`subdivision_inference` — upsample 2×, pick the most uncertain cells, re-predict them with the
  point head, write them back; repeat.

Public API functions accept numpy arrays or torch tensors and return numpy arrays. Their ``*_t``
twins take and return torch tensors (differentiable where it matters); the network and the trainer
use those. :func:`run` is the lesson (``LessonResult``), with ``PARAMS`` as data for front ends.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.lesson import LessonResult, Param

__all__ = [
    "PARAMS",
    "PointHead",
    "SubdivisionStep",
    "TrainingSample",
    "boundary_iou",
    "mean_iou",
    "point_sample",
    "points_on_grid",
    "points_on_grid_t",
    "points_with_randomness",
    "points_with_randomness_t",
    "run",
    "scene_image",
    "sample_training_points_t",
    "sampling_view",
    "step_view",
    "subdivision_inference",
    "subdivision_schedule",
    "uncertainty",
    "uncertainty_t",
]

MODEL = "pointrend-shapes"
FINE_STRIDE = 4
COARSE_STRIDE = 16


# --------------------------------------------------------------------------------------------- #
# the algorithm (torch)


def _tensor(x: Any, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype)


def uncertainty_t(logits: torch.Tensor) -> torch.Tensor:
    """``(B, C, ...)`` logits → ``(B, 1, ...)`` uncertainty; highest where the prediction is least sure.

    Several classes: ``−(top1 − top2)``, the negated margin between the two largest logits *of the same
    location* (a per-pixel sort over classes, not a sort by class totals). One channel (a binary mask
    logit): ``−|logit|``, largest at the decision boundary ``logit = 0``.
    """
    if logits.dim() < 2:
        raise ValueError(f"logits must have a batch and a class dimension, got shape {tuple(logits.shape)}")
    if logits.shape[1] == 1:
        return -logits.abs()
    top2 = logits.topk(2, dim=1).values
    return (top2[:, 1] - top2[:, 0]).unsqueeze(1)


def point_sample(features: torch.Tensor, coords: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Bilinear features at points: ``(B, C, H, W)`` and ``(B, N, 2)`` coords in [0, 1] → ``(B, C, N)``.

    Coordinates are x then y, with 0 and 1 at the outer *edges* of the map (``align_corners=False``):
    the centre of cell ``(i, j)`` is ``((j + 0.5) / W, (i + 0.5) / H)``. This is ``grid_sample`` on
    ``2·coords − 1``, as in detectron2's ``point_sample``. ``kwargs`` go to ``grid_sample``
    (e.g. ``mode="nearest"`` for labels).
    """
    kwargs.setdefault("align_corners", False)
    if coords.dim() != 3 or coords.shape[-1] != 2:
        raise ValueError(f"coords must have shape (B, N, 2), got {tuple(coords.shape)}")
    grid = (2.0 * coords - 1.0).unsqueeze(2).to(features.dtype)
    return F.grid_sample(features, grid, **kwargs).squeeze(3)


def points_on_grid_t(uncertainty_map: torch.Tensor, num_points: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``min(H·W, num_points)`` most uncertain cells: flat indices ``(B, N)``, centres ``(B, N, 2)``."""
    if uncertainty_map.dim() != 4 or uncertainty_map.shape[1] != 1:
        raise ValueError(f"uncertainty_map must be (B, 1, H, W), got {tuple(uncertainty_map.shape)}")
    if num_points < 1:
        raise ValueError(f"num_points must be at least 1, got {num_points}")
    b, _, h, w = uncertainty_map.shape
    n = min(h * w, int(num_points))
    indices = uncertainty_map.reshape(b, h * w).topk(n, dim=1).indices
    coords = torch.empty(b, n, 2, dtype=torch.float32, device=uncertainty_map.device)
    coords[..., 0] = ((indices % w).float() + 0.5) / w
    coords[..., 1] = (torch.div(indices, w, rounding_mode="floor").float() + 0.5) / h
    return indices, coords


@dataclass
class TrainingSample:
    """The three sets of training-time point sampling, for teaching (all coords in [0, 1], x then y).

    ``pool`` are the ``k·N`` uniform candidates, ``pool_uncertainty`` their uncertainty (computed on the
    interpolated logits), ``importance_index`` the ``int(β·N)`` chosen candidates (most uncertain first),
    ``coverage`` the fresh uniform points. ``coords`` is what the point head is trained on.
    """

    pool: torch.Tensor
    pool_uncertainty: torch.Tensor
    importance_index: torch.Tensor
    importance: torch.Tensor
    coverage: torch.Tensor

    @property
    def coords(self) -> torch.Tensor:
        return torch.cat([self.importance, self.coverage], dim=1)


def sample_training_points_t(coarse_logits: torch.Tensor, num_points: int, oversample_ratio: float = 3,
                             importance_ratio: float = 0.75,
                             generator: torch.Generator | None = None) -> TrainingSample:
    """Training-time sampling with every intermediate set kept (see :func:`points_with_randomness_t`)."""
    if coarse_logits.dim() != 4:
        raise ValueError(f"coarse_logits must be (B, C, H, W), got {tuple(coarse_logits.shape)}")
    if num_points < 1:
        raise ValueError(f"num_points must be at least 1, got {num_points}")
    if oversample_ratio < 1:
        raise ValueError(f"oversample ratio k must be at least 1, got {oversample_ratio}")
    if not 0.0 <= importance_ratio <= 1.0:
        raise ValueError(f"importance ratio β must be in [0, 1], got {importance_ratio}")
    b = coarse_logits.shape[0]
    device = coarse_logits.device
    num_pool = int(num_points * oversample_ratio)
    num_important = int(importance_ratio * num_points)
    pool = torch.rand(b, num_pool, 2, generator=generator, device=device)
    with torch.no_grad():
        # interpolate the logits to the points first, then measure uncertainty (never the reverse:
        # between logits −1 and +1 the interpolated point is maximally uncertain, while the average
        # of the two cells' uncertainties is not)
        pool_unc = uncertainty_t(point_sample(coarse_logits.detach().float(), pool))[:, 0]
        order = pool_unc.topk(num_important, dim=1).indices
    importance = torch.gather(pool, 1, order.unsqueeze(-1).expand(-1, -1, 2))
    coverage = torch.rand(b, num_points - num_important, 2, generator=generator, device=device)
    return TrainingSample(pool, pool_unc, order, importance, coverage)


def points_with_randomness_t(coarse_logits: torch.Tensor, num_points: int, oversample_ratio: float = 3,
                             importance_ratio: float = 0.75,
                             generator: torch.Generator | None = None) -> torch.Tensor:
    """``(B, N, 2)`` training points: ``int(β·N)`` most uncertain of ``k·N`` uniform, then fresh uniform.

    Random numbers are drawn in this order from ``generator``: ``torch.rand(B, int(k·N), 2)`` for the
    pool, then ``torch.rand(B, N − int(β·N), 2)`` for coverage.
    """
    return sample_training_points_t(coarse_logits, num_points, oversample_ratio, importance_ratio,
                                    generator).coords


def subdivision_schedule(coarse_hw: Sequence[int], output_hw: Sequence[int],
                         num_points: int) -> list[tuple[int, int, int]]:
    """``[(H, W, n_points), …]``: one entry per subdivision step from ``coarse_hw`` to ``output_hw``.

    Each step doubles the map (bilinear) and re-predicts ``min(H·W, num_points)`` cells. A side that
    would pass the output size stops at it, so a ratio that is not a power of two ends with one
    resize step to the exact output size (the notes' ``while out != size: ×2`` would never stop).
    Example: 7×7 → 224×224 with N = 784 gives 14² (all 196 cells), then 784 points at 28², 56², 112²
    and 224².
    """
    h, w = (int(v) for v in coarse_hw)
    out_h, out_w = (int(v) for v in output_hw)
    if min(h, w, out_h, out_w) < 1:
        raise ValueError(f"sizes must be positive, got coarse {coarse_hw} and output {output_hw}")
    if out_h < h or out_w < w:
        raise ValueError(f"the output {out_h}×{out_w} must not be smaller than the coarse map {h}×{w}")
    if num_points < 1:
        raise ValueError(f"num_points must be at least 1, got {num_points}")
    steps = []
    while (h, w) != (out_h, out_w):
        h, w = min(2 * h, out_h), min(2 * w, out_w)
        steps.append((h, w, min(h * w, int(num_points))))
    return steps


class PointHead(nn.Module):
    """The point head: per-point MLP (1×1 convolutions) on [fine features ‖ coarse logits].

    ``num_fc`` hidden layers of ``fc_dim`` channels with ReLU; the coarse logits are concatenated again
    to the input of every following layer (``coarse_pred_each_layer``), so even the deepest layer
    sees the coarse prediction it is correcting. Output: one logit per class for each point.
    """

    def __init__(self, fine_channels: int, num_classes: int, fc_dim: int = 256, num_fc: int = 3):
        super().__init__()
        self.num_classes = num_classes
        layers = []
        width = fine_channels + num_classes
        for _ in range(num_fc):
            layers.append(nn.Conv1d(width, fc_dim, kernel_size=1))
            width = fc_dim + num_classes
        self.fcs = nn.ModuleList(layers)
        self.predictor = nn.Conv1d(width, num_classes, kernel_size=1)
        for layer in self.fcs:
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(layer.bias)
        nn.init.normal_(self.predictor.weight, std=0.001)
        nn.init.zeros_(self.predictor.bias)

    def forward(self, fine: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        """``fine (B, Cf, N)``, ``coarse (B, K, N)`` → point logits ``(B, K, N)``."""
        x = torch.cat([fine, coarse], dim=1)
        for layer in self.fcs:
            x = torch.cat([F.relu(layer(x)), coarse], dim=1)
        return self.predictor(x)


@dataclass
class SubdivisionStep:
    """One subdivision step: the map size, the chosen cells and (when recorded) the maps around them."""

    height: int
    width: int
    indices: torch.Tensor  # (B, n) flat cell indices, most uncertain first
    coords: torch.Tensor  # (B, n, 2) their centres in [0, 1]
    before: torch.Tensor | None = None  # (B, K, H, W) bilinear 2× upsampling of the previous map
    after: torch.Tensor | None = None  # (B, K, H, W) with the point head's logits written in

    @property
    def num_points(self) -> int:
        return int(self.indices.shape[1])


def subdivision_inference(coarse_logits: torch.Tensor, fine_features: torch.Tensor, point_head: nn.Module,
                          output_hw: Sequence[int], num_points: int,
                          record: bool = False) -> tuple[torch.Tensor, list[SubdivisionStep]]:
    """Refine ``coarse_logits`` to ``output_hw`` by subdivision; returns the logits and the steps.

    At each step of :func:`subdivision_schedule`: upsample the current logits (bilinear,
    ``align_corners=False``), take the most uncertain cells (:func:`points_on_grid_t`), sample the fine
    features and the *original coarse* logits at their centres (as the point head saw them in
    training), and overwrite those cells with the point head's logits. With ``record`` each step
    keeps its map before and after the point head (for the lesson's step-through).
    """
    b, k = coarse_logits.shape[:2]
    logits = coarse_logits
    steps = []
    for h, w, n in subdivision_schedule(coarse_logits.shape[-2:], output_hw, num_points):
        logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
        indices, coords = points_on_grid_t(uncertainty_t(logits), n)
        point_logits = point_head(point_sample(fine_features, coords), point_sample(coarse_logits, coords))
        before = logits.clone() if record else None
        logits = logits.reshape(b, k, h * w).scatter(2, indices.unsqueeze(1).expand(-1, k, -1),
                                                     point_logits.to(logits.dtype)).view(b, k, h, w)
        steps.append(SubdivisionStep(h, w, indices, coords, before, logits if record else None))
    return logits, steps


# --------------------------------------------------------------------------------------------- #
# public numpy API (accepts numpy or torch; returns numpy)


def uncertainty(logits: Any) -> np.ndarray:
    """``(B, C, H, W)`` logits → ``(B, 1, H, W)`` uncertainty (see :func:`uncertainty_t`)."""
    return uncertainty_t(_tensor(logits)).numpy()


def points_on_grid(uncertainty_map: Any, num_points: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indices (B, N) int64, coords (B, N, 2))``: the ``N = min(H·W, num_points)`` most uncertain cells."""
    indices, coords = points_on_grid_t(_tensor(uncertainty_map), num_points)
    return indices.numpy(), coords.numpy()


def points_with_randomness(coarse_logits: Any, num_points: int, oversample_ratio: float = 3,
                           importance_ratio: float = 0.75,
                           generator: torch.Generator | None = None) -> np.ndarray:
    """``(B, N, 2)`` training points (see :func:`points_with_randomness_t`)."""
    return points_with_randomness_t(_tensor(coarse_logits), num_points, oversample_ratio, importance_ratio,
                                    generator).numpy()


# --------------------------------------------------------------------------------------------- #
# metrics: region IoU and boundary IoU (Cheng et al., 2021), accumulated over classes


def _confusion(pred: np.ndarray, gt: np.ndarray, num_classes: int,
               region: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    inter = np.zeros(num_classes, np.int64)
    union = np.zeros(num_classes, np.int64)
    for c in range(num_classes):
        p, g = pred == c, gt == c
        if region is not None:
            p, g = p & region[0][c], g & region[1][c]
        inter[c] = np.count_nonzero(p & g)
        union[c] = np.count_nonzero(p | g)
    return inter, union


def iou_counts(pred: np.ndarray, gt: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class intersection and union pixel counts (to accumulate over a data set)."""
    return _confusion(np.asarray(pred), np.asarray(gt), num_classes)


def inner_boundary(mask: np.ndarray, width: int) -> np.ndarray:
    """Pixels of ``mask`` within ``width`` pixels (chessboard) of its contour; the image edge counts as
    outside, as in the boundary-IoU reference (erosion by a 3×3 square, ``width`` times)."""
    m = np.asarray(mask, dtype=np.uint8)
    padded = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    eroded = cv2.erode(padded, np.ones((3, 3), np.uint8), iterations=int(width))[1:-1, 1:-1]
    return (m > 0) & (eroded == 0)


def boundary_width(height: int, width: int, ratio: float = 0.02) -> int:
    """The boundary band of boundary IoU: ``ratio`` of the image diagonal, at least 1 pixel."""
    return max(1, round(ratio * float(np.hypot(height, width))))


def boundary_iou_counts(pred: np.ndarray, gt: np.ndarray, num_classes: int,
                        ratio: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Per-class intersection and union of the inner boundary bands of prediction and ground truth."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    d = boundary_width(*gt.shape, ratio=ratio)
    inter = np.zeros(num_classes, np.int64)
    union = np.zeros(num_classes, np.int64)
    for c in range(num_classes):
        bp, bg = inner_boundary(pred == c, d), inner_boundary(gt == c, d)
        inter[c] = np.count_nonzero(bp & bg)
        union[c] = np.count_nonzero(bp | bg)
    return inter, union


def _mean(inter: np.ndarray, union: np.ndarray) -> float:
    present = union > 0
    return float(np.mean(inter[present] / union[present])) if present.any() else float("nan")


def mean_iou(pred: Any, gt: Any, num_classes: int) -> float:
    """Mean over classes present in prediction or ground truth of intersection / union."""
    return _mean(*iou_counts(pred, gt, num_classes))


def boundary_iou(pred: Any, gt: Any, num_classes: int, ratio: float = 0.02) -> float:
    """Mean boundary IoU over classes present: IoU of the bands within ``d = ratio·diagonal`` of each
    contour, which, unlike mask IoU, is as sensitive to boundary errors on big objects as on small."""
    return _mean(*boundary_iou_counts(pred, gt, num_classes, ratio))


# --------------------------------------------------------------------------------------------- #
# the lesson

PARAMS: list[Param] = [
    Param("model", "choice", MODEL, "Model", choices=(MODEL,)),
    Param("weights", "choice", "auto", "Weights", choices=("auto", "hub", "embedded", "random")),
    Param("size", "choice", 256, "Working size (long side, px)",
          "The image is resized so its long side has this many pixels; the coarse map is 1/16 of it "
          "on each side.",
          choices=(128, 192, 256, 384, 512, 768)),
    Param("num_points", "int", 2048, "Inference points per step N", "The paper's Cityscapes setting "
          "prints 8096, meant as the cells of a stride-16 map of a 1024×2048 image (64×128 = 8192, "
          "detectron2's value).", minimum=16, maximum=16384, step=16),
    Param("oversample", "float", 3.0, "Training: oversampling k", minimum=1.0, maximum=10.0, step=0.5),
    Param("importance", "float", 0.75, "Training: importance ratio β", minimum=0.0, maximum=1.0,
          step=0.05),
    Param("train_points", "int", 256, "Training: points N", "Points the loss is computed on, per image.",
          minimum=8, maximum=4096, step=8),
    Param("step", "int", 0, "Subdivision step to show", "0 (or past the end) = the last step.", minimum=0,
          maximum=8, step=1),
    Param("seed", "int", 0, "Sampling seed", minimum=0, maximum=2**31 - 1, step=1),
    Param("scene", "int", -1, "ShapesWorld scene", "A held-out ShapesWorld scene number (its ground "
          "truth gives IoUs when the image is that scene); −1 for none.", minimum=-1, maximum=10**6,
          step=1),
]
_DEFAULTS = {p.name: p.default for p in PARAMS}
_BY_NAME = {p.name: p for p in PARAMS}


def _checked(params: dict[str, Any]) -> dict[str, Any]:
    unknown = set(params) - set(_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown PointRend parameter(s): {', '.join(sorted(unknown))}")
    merged = {**_DEFAULTS, **params}
    out = {}
    for name, value in merged.items():
        p = _BY_NAME[name]
        if p.kind == "choice" and name == "size" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        out[name] = p.check(value)
    return out


@dataclass
class Inference:
    """Everything one forward pass produced (cached so the step and sampling views are cheap)."""

    image: np.ndarray  # (h, w, 3) the working image (resized, unpadded)
    padded_hw: tuple[int, int]
    fine_hw: tuple[int, int]
    coarse: torch.Tensor  # (1, K, Hc, Wc) logits
    refined: np.ndarray  # (h, w) labels of the PointRend output
    bilinear: np.ndarray  # (h, w) labels of the bilinearly upsampled coarse logits
    steps: list[SubdivisionStep]  # indices and coords only (maps are kept as labels below)
    step_labels: list[tuple[np.ndarray, np.ndarray]]  # (before, after) labels per step, padded size
    labels: tuple[str, ...]
    status: str
    source: str
    seconds: dict[str, float]
    truth: np.ndarray | None = None  # (h, w) semantic ground truth when known


_CACHE: OrderedDict[tuple[Any, ...], Inference] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 6


def _working_image(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(16, round(h * scale)), max(16, round(w * scale))
    if (nh, nw) == (h, w):
        return image.copy()
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, (nw, nh), interpolation=interp)


def _scene_truth(image: np.ndarray, scene: int) -> np.ndarray | None:
    """The ground truth of held-out ShapesWorld scene ``scene`` if ``image`` is exactly that scene."""
    h, w = image.shape[:2]
    if scene < 0 or h != w or not 24 <= h <= 1024:  # scenes are square; never render a huge one
        return None
    from core.data.scenes import segment_scene as heldout_scene

    s = heldout_scene(scene, size=max(image.shape[:2]))
    if s.image.shape != image.shape or not np.array_equal(s.image, image):
        return None
    return np.asarray(s.semantic, dtype=np.int64)


def infer(image: Any, *, model: str = MODEL, weights: str = "auto", size: int = 256, num_points: int = 2048,
          scene: int = -1) -> Inference:
    """Coarse prediction, bilinear baseline and subdivision of one image (cached per image and settings)."""
    from core.images import load_image

    rgb = load_image(image)
    key = (hashlib.sha1(rgb.tobytes()).hexdigest(), rgb.shape, model, weights, int(size), int(num_points),
           int(scene))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    result = _infer(rgb, model, weights, int(size), int(num_points), int(scene))
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def _infer(rgb: np.ndarray, model: str, weights: str, size: int, num_points: int, scene: int) -> Inference:
    from core.zoo import load_model

    truth = _scene_truth(rgb, scene)
    work = rgb.copy() if truth is not None and max(rgb.shape[:2]) == size else _working_image(rgb, size)
    if truth is not None and work.shape[:2] != truth.shape:
        truth = cv2.resize(truth.astype(np.uint8), work.shape[1::-1], interpolation=cv2.INTER_NEAREST)
        truth = truth.astype(np.int64)
    loaded = load_model(model, weights)
    net = loaded.model
    h, w = work.shape[:2]
    ph, pw = -(-h // COARSE_STRIDE) * COARSE_STRIDE, -(-w // COARSE_STRIDE) * COARSE_STRIDE
    x = net.preprocess(work, (ph, pw))
    seconds = {}
    with torch.inference_mode():
        t0 = time.perf_counter()
        fine, coarse = net.features(x)
        t1 = time.perf_counter()
        bilinear = F.interpolate(coarse, size=(ph, pw), mode="bilinear", align_corners=False)
        t2 = time.perf_counter()
        refined, steps = subdivision_inference(coarse, fine, net.point_head, (ph, pw), num_points,
                                               record=True)
        t3 = time.perf_counter()
    seconds = {"coarse_forward": t1 - t0, "bilinear": t2 - t1, "subdivision": t3 - t2}
    step_labels = []
    for s in steps:  # keep labels, not logits: a 768² map of 9 classes is 21 MB per copy
        step_labels.append((_labels(s.before), _labels(s.after)))
        s.before = s.after = None
    return Inference(work, (ph, pw), tuple(fine.shape[2:]), coarse, _labels(refined)[:h, :w],
                     _labels(bilinear)[:h, :w], steps, step_labels, tuple(loaded.labels), loaded.status,
                     loaded.source, seconds, truth)


def _labels(logits: torch.Tensor) -> np.ndarray:
    return logits[0].argmax(0).numpy().astype(np.uint8)


def _coarse_nearest(inf: Inference) -> np.ndarray:
    ph, pw = inf.padded_hw
    labels = inf.coarse[0].argmax(0).numpy().astype(np.uint8)
    big = cv2.resize(labels, (pw, ph), interpolation=cv2.INTER_NEAREST)
    return big[: inf.image.shape[0], : inf.image.shape[1]].astype(np.int64)


def run(image: Any, **params: Any) -> LessonResult:
    """The PointRend lesson on one image: coarse map, uncertainty, training sampling, subdivision steps.

    Parameters (all optional, see :data:`PARAMS`): ``model``, ``weights``, ``size`` (working long side),
    ``num_points`` (N per inference step), ``oversample`` (k), ``importance`` (β), ``train_points``
    (N for the training view), ``step`` (which subdivision step to draw; 0 = last), ``seed`` and
    ``scene`` (a held-out ShapesWorld scene number; its ground truth is used when the image is that
    scene, and the summary then carries mIoU and boundary IoU of coarse, bilinear and refined masks).
    """
    from core.viz import pointrend as pviz

    p = _checked(params)
    t0 = time.perf_counter()
    inf = infer(image, model=p["model"], weights=p["weights"], size=p["size"], num_points=p["num_points"],
                scene=p["scene"])
    h, w = inf.image.shape[:2]
    k = inf.coarse.shape[1]
    coarse_lab = _coarse_nearest(inf)
    bilinear_lab, refined_lab = inf.bilinear.astype(np.int64), inf.refined.astype(np.int64)
    step_index = _step_index(inf, p["step"])
    sample = _training_sample(inf, p["train_points"], p["oversample"], p["importance"], p["seed"])

    images = OrderedDict()
    captions = {}
    images["coarse"] = pviz.coarse_panel(inf.image, inf.coarse[0], inf.padded_hw, inf.labels)
    captions["coarse"] = f"Coarse prediction ({inf.coarse.shape[2]}×{inf.coarse.shape[3]}, stride 16)"
    images["uncertainty"] = pviz.uncertainty_panel(inf.image, uncertainty_t(inf.coarse)[0, 0].numpy(),
                                                   inf.padded_hw)
    captions["uncertainty"] = "Uncertainty −(top1 − top2) of the coarse logits"
    images["sampling"] = pviz.sampling_panel(inf.image, inf.coarse, inf.padded_hw, sample)
    captions["sampling"] = "Training points: k·N pool (grey), β·N importance (red), coverage (blue)"
    images["step"] = pviz.step_panel(inf, step_index)
    st = inf.steps[step_index] if inf.steps else None
    captions["step"] = (f"Step {step_index + 1}/{len(inf.steps)}: {st.height}×{st.width}, "
                        f"{st.num_points} points" if st else "No subdivision step (output = coarse size)")
    ious = _ious(inf, coarse_lab, bilinear_lab, refined_lab, k) if inf.truth is not None else None
    images["compare"] = pviz.compare_panel(inf.image, coarse_lab, bilinear_lab, refined_lab, inf.labels,
                                           inf.truth, ious)
    captions["compare"] = "Coarse · bilinear · PointRend" + (" · truth" if inf.truth is not None else "")

    steps = []
    for i, (s, (before, after)) in enumerate(zip(inf.steps, inf.step_labels, strict=True)):
        steps.append({
            "step": i + 1, "height": s.height, "width": s.width, "cells": s.height * s.width,
            "points": s.num_points, "fraction": s.num_points / (s.height * s.width),
            "changed_by_head": int(np.count_nonzero(before != after)),
        })
    summary: dict[str, Any] = {
        "model": p["model"], "weights": inf.source, "status": inf.status,
        "working_size": [h, w], "padded_size": list(inf.padded_hw),
        "coarse_size": list(inf.coarse.shape[2:]), "fine_size": list(inf.fine_hw),
        "num_points": p["num_points"], "steps": steps,
        "points_total": sum(s["points"] for s in steps),
        "output_cells": int(inf.padded_hw[0] * inf.padded_hw[1]),
        "training_sampling": {
            "k": p["oversample"], "beta": p["importance"], "N": p["train_points"],
            "pool": int(sample.pool.shape[1]), "importance": int(sample.importance.shape[1]),
            "coverage": int(sample.coverage.shape[1]),
        },
        "shown_step": step_index + 1 if inf.steps else 0,
        "classes": list(inf.labels),
        "seconds": {**inf.seconds, "lesson": time.perf_counter() - t0},
    }
    if ious is not None:
        summary["ious"] = ious
        summary["scene"] = p["scene"]
    return LessonResult(images=dict(images), summary=summary, captions=captions)


def _step_index(inf: Inference, step: int) -> int:
    if not inf.steps:
        return 0
    if step == 0:
        return len(inf.steps) - 1
    return min(step, len(inf.steps)) - 1  # past the last step: show the last


def _training_sample(inf: Inference, n: int, k: float, beta: float, seed: int) -> TrainingSample:
    gen = torch.Generator().manual_seed(int(seed))
    return sample_training_points_t(inf.coarse, int(n), float(k), float(beta), gen)


def _ious(inf: Inference, coarse: np.ndarray, bilinear: np.ndarray, refined: np.ndarray,
          k: int) -> dict[str, dict[str, float]]:
    truth = inf.truth
    return {
        name: {"miou": mean_iou(lab, truth, k), "boundary_iou": boundary_iou(lab, truth, k)}
        for name, lab in (("coarse", coarse), ("bilinear", bilinear), ("refined", refined))
    }


def step_view(image: Any, step: int = 0, **params: Any) -> tuple[np.ndarray, str]:
    """Only the subdivision-step picture (for the page's step slider); reuses the cached inference."""
    from core.viz import pointrend as pviz

    p = _checked({**params, "step": step})
    inf = infer(image, model=p["model"], weights=p["weights"], size=p["size"], num_points=p["num_points"],
                scene=p["scene"])
    i = _step_index(inf, p["step"])
    s = inf.steps[i] if inf.steps else None
    caption = (f"Step {i + 1}/{len(inf.steps)}: {s.height}×{s.width}, {s.num_points} points"
               if s else "No subdivision step")
    return pviz.step_panel(inf, i), caption


def sampling_view(image: Any, **params: Any) -> tuple[np.ndarray, dict[str, int]]:
    """Only the training-sampling picture (for the page's k, β, N sliders); reuses the cached inference."""
    from core.viz import pointrend as pviz

    p = _checked(params)
    inf = infer(image, model=p["model"], weights=p["weights"], size=p["size"], num_points=p["num_points"],
                scene=p["scene"])
    sample = _training_sample(inf, p["train_points"], p["oversample"], p["importance"], p["seed"])
    counts = {"pool": int(sample.pool.shape[1]), "importance": int(sample.importance.shape[1]),
              "coverage": int(sample.coverage.shape[1])}
    return pviz.sampling_panel(inf.image, inf.coarse, inf.padded_hw, sample), counts


def scene_image(index: int, size: int = 256) -> np.ndarray:
    """Held-out ShapesWorld segmentation scene ``index`` at ``size`` px (the page's scene button)."""
    from core.data.scenes import segment_scene as heldout_scene

    if not 0 <= int(index) <= 10**6:
        raise ValueError(f"scene number must be between 0 and 1000000; got {index}.")
    return heldout_scene(int(index), int(size)).image
