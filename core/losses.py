"""What a detector is trained to minimise: focal loss, GFL's quality and distribution focal losses, OKS.

The four functions of API.md's "Losses — core.losses" section. They are elementwise (no reduction),
so the lesson can draw the loss of every anchor and the training loop (``core.train.detector``, the
``gfl-shapes`` recipe) can sum them as the papers do.

* :func:`focal_loss` — Lin et al. 2017, ``FL = −α_t (1 − p_t)^γ log p_t``; torchvision has it
  (``torchvision.ops.sigmoid_focal_loss``), so this is that call, kept under the API's name.
* :func:`quality_focal_loss` — Li et al. 2020 (GFL), the focal loss with a *soft* target ``y ∈ [0, 1]``
  (the IoU of the predicted box with its ground truth for positives, 0 for negatives).
* :func:`distribution_focal_loss` — GFL's loss on a box edge learnt as a discrete distribution over
  ``n + 1`` distances: it puts the probability mass on the two bins around the true distance.
* :func:`oks` — COCO's object keypoint similarity (what pycocotools' ``COCOeval.computeOks`` computes
  for one ground-truth/prediction pair); YOLO-pose trains keypoints with ``1 − OKS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["COCO_KEYPOINTS", "COCO_SIGMAS", "distribution_focal_loss", "focal_loss", "keypoint_similarity",
           "oks", "quality_focal_loss"]

#: COCO's 17 person keypoints, in the dataset's order
COCO_KEYPOINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
                  "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
                  "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
#: COCO's per-keypoint sigmas (pycocotools ``Params.kpt_oks_sigmas``): the spread of human annotators'
#: clicks, relative to the object's scale — eyes are clicked precisely, hips loosely
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89,
                        .89]) / 10.0


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25,
               gamma: float = 2.0) -> torch.Tensor:
    """Sigmoid focal loss per element, ``−α_t (1 − p_t)^γ log p_t`` (torchvision's, ``reduction="none"``).

    ``alpha < 0`` turns the α weighting off (torchvision's convention); ``gamma = 0`` with ``alpha < 0``
    is plain binary cross-entropy.
    """
    from torchvision.ops import sigmoid_focal_loss

    logits = torch.as_tensor(logits, dtype=torch.float32)
    targets = torch.as_tensor(targets, dtype=logits.dtype)
    return sigmoid_focal_loss(logits, targets, alpha=float(alpha), gamma=float(gamma), reduction="none")


def quality_focal_loss(logits: torch.Tensor, scores: torch.Tensor, beta: float = 2.0) -> torch.Tensor:
    """GFL's quality focal loss per element: ``|y − σ|^β · BCE(σ, y)``, a positive number.

    The GFL paper writes ``QFL(σ) = −|y − σ|^β ((1 − y) log(1 − σ) + y log σ)``; the minus sign is
    that of binary cross-entropy, so this equals ``|y − σ|^β · BCE(σ, y)`` (API.md's formula with the
    BCE's own minus, not a second one). ``scores`` are the soft targets ``y`` (IoU for a positive's
    class, 0 everywhere else); with ``y ∈ {0, 1}`` and β = γ it is the focal loss without α.
    BCE is computed from the logits (``binary_cross_entropy_with_logits``), stable for large |logits|.
    """
    logits = torch.as_tensor(logits, dtype=torch.float32)
    y = torch.as_tensor(scores, dtype=logits.dtype)
    sigma = torch.sigmoid(logits)
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return (y - sigma).abs().pow(float(beta)) * bce


def distribution_focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """GFL's distribution focal loss per row: ``−((i + 1 − y) log S_i + (y − i) log S_{i+1})``.

    ``logits`` ``(N, n + 1)`` over the distances ``0 … n``; ``target`` ``(N,)`` with ``0 ≤ y ≤ n``;
    ``S = softmax(logits)``, ``i = ⌊y⌋``. At ``y = n`` exactly, ``⌊y⌋ + 1`` is past the last bin; the
    formula's weight on it is ``y − i = 0`` there, so ``i = n − 1`` is used instead, which gives the
    same value (all the weight on ``S_n``) without indexing bin ``n + 1``. (mmdetection avoids the case
    by clamping targets to ``n − 0.1``, ``bbox2distance``'s ``eps``.) Out-of-range targets are refused.
    """
    logits = torch.as_tensor(logits, dtype=torch.float32)
    y = torch.as_tensor(target, dtype=logits.dtype).reshape(-1)
    if logits.ndim != 2 or logits.shape[0] != y.shape[0] or logits.shape[1] < 2:
        raise ValueError(f"logits must be (N, n+1) with n ≥ 1 and target (N,); got {tuple(logits.shape)} "
                         f"and {tuple(y.shape)}")
    n = logits.shape[1] - 1
    if y.numel() and (bool((y < 0).any()) or bool((y > n).any()) or not bool(torch.isfinite(y).all())):
        raise ValueError(f"target must lie in [0, {n}] (the distances the {n + 1} bins cover)")
    left = y.floor().long().clamp(max=n - 1)
    w_left = (left + 1).to(y.dtype) - y
    w_right = y - left.to(y.dtype)
    log_s = torch.log_softmax(logits, -1)
    log_left = log_s.gather(1, left[:, None])[:, 0]
    log_right = log_s.gather(1, left[:, None] + 1)[:, 0]
    return -(w_left * log_left + w_right * log_right)


def keypoint_similarity(gt: Any, pred: Any, area: float, sigmas: Sequence[float] = COCO_SIGMAS) -> np.ndarray:
    """Per-keypoint similarity ``exp(−d² / (2 s² k²))`` with ``s² = area`` and ``k = 2σ`` (pycocotools).

    ``gt`` ``(K, 3)`` (x, y, visibility), ``pred`` ``(K, 2)`` or ``(K, 3)``. pycocotools writes the
    exponent as ``d² / (2σ)² / (area + ε) / 2``; ``ε = np.spacing(1)``. Returns ``(K,)`` float64 (also
    for invisible keypoints; :func:`oks` averages over the visible ones).
    """
    gt, pred, k = _keypoints(gt, pred, sigmas)
    var = (2 * k) ** 2
    d2 = ((pred[:, :2] - gt[:, :2]) ** 2).sum(1)
    return np.exp(-(d2 / var / (float(area) + np.spacing(1)) / 2))


def oks(gt: Any, pred: Any, area: float, sigmas: Sequence[float] = COCO_SIGMAS) -> float:
    """COCO's object keypoint similarity over the keypoints with visibility > 0, as pycocotools computes it.

    ``area`` is the object's segment area (COCO's ``area`` field; its square root is the scale). With no
    visible keypoint pycocotools measures each predicted keypoint's distance to the GT box grown by its
    width and height on every side (three times as wide and tall; its comment says "double"); that case
    needs the GT box, which this API does not take, so it is refused.
    """
    gt_a, _, _ = _keypoints(gt, pred, sigmas)
    if not np.isfinite(area) or float(area) <= 0:
        raise ValueError(f"area must be a positive number of square pixels, got {area!r}")
    visible = gt_a[:, 2] > 0
    if not visible.any():
        raise ValueError("oks needs at least one ground-truth keypoint with visibility > 0")
    return float(keypoint_similarity(gt, pred, area, sigmas)[visible].mean())


def _keypoints(gt: Any, pred: Any, sigmas: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    k = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if gt.ndim != 2 or gt.shape[1] != 3:
        raise ValueError(f"gt keypoints must be (K, 3) rows of x, y, visibility; got shape {gt.shape}")
    if pred.ndim != 2 or pred.shape[0] != gt.shape[0] or pred.shape[1] not in (2, 3):
        raise ValueError(f"predicted keypoints must be ({gt.shape[0]}, 2); got shape {pred.shape}")
    if k.shape[0] != gt.shape[0]:
        raise ValueError(f"need one sigma per keypoint: {gt.shape[0]} keypoints, {k.shape[0]} sigmas")
    return gt, pred, k
