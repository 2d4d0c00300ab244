"""Losses lesson speed: ``python -m bench.losses`` (or ``python -m bench --only losses``).

* The default ``/losses`` computation (only the image: the embedded GFL detector on the photo, SimOTA,
  focal loss and BCE on every anchor, QFL, one detection's edge distributions, OKS, the eight pictures)
  against the issue's 2-second budget, on the astronaut photo and on a ShapesWorld scene; goal ≤ 1×.
  One thread, as the app serves four calls at once on 2 cores (``core.runtime``). A row without a goal:
  the lesson against the detector's forward pass alone (what the lesson adds to the network).
* The loss functions against the implementations they are tested equal to: DFL against mmdetection's
  two-``cross_entropy`` form (goal ≤ 2×), OKS against pycocotools' ``computeOks`` on one pair (goal
  ≤ 1×), focal loss against torchvision's call it wraps (goal ≤ 1.5×).
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F

from bench import Row, compare, timeit


def _dfl_mmdet(pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """mmdetection's ``distribution_focal_loss`` (labels clamped below n as its GFL head does)."""
    dis_left = label.long()
    dis_right = dis_left + 1
    weight_left = dis_right.float() - label
    weight_right = label - dis_left.float()
    return (F.cross_entropy(pred, dis_left, reduction="none") * weight_left
            + F.cross_entropy(pred, dis_right, reduction="none") * weight_right)


def _coco_oks_setup(gt: np.ndarray, pred: np.ndarray, area: float):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    coco_gt = COCO()
    coco_gt.dataset = {
        "images": [{"id": 1, "width": 2000, "height": 2000}],
        "categories": [{"id": 1, "name": "person"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": area,
                         "bbox": [0.0, 0.0, 600.0, 600.0], "keypoints": gt.reshape(-1).tolist(),
                         "num_keypoints": int((gt[:, 2] > 0).sum())}],
    }
    coco_gt.createIndex()
    kp = np.concatenate([pred, np.ones((len(pred), 1))], 1)
    coco_dt = coco_gt.loadRes([{"image_id": 1, "category_id": 1, "keypoints": kp.reshape(-1).tolist(),
                                "score": 1.0}])
    ev = COCOeval(coco_gt, coco_dt, iouType="keypoints")
    ev._prepare()
    return ev


def _function_rows(quick: bool) -> list[Row]:
    from torchvision.ops import sigmoid_focal_loss

    from core.losses import distribution_focal_loss, focal_loss, oks

    g = torch.Generator().manual_seed(0)
    repeat = 30 if quick else 200
    logits = torch.randn(756, 8, generator=g)
    targets = (torch.rand(756, 8, generator=g) < 0.01).float()
    ours, base = compare(lambda: focal_loss(logits, targets), lambda: sigmoid_focal_loss(
        logits, targets, 0.25, 2.0, "none"), repeat=repeat, warmup=3)
    rows = [Row("losses", "focal_loss on 756 anchors × 8 classes", "torchvision sigmoid_focal_loss", base,
                ours, goal=1.5, note="the call it wraps")]
    edges = torch.randn(4 * 300, 17, generator=g)
    y = torch.rand(4 * 300, generator=g) * 15.99
    ours, base = compare(lambda: distribution_focal_loss(edges, y), lambda: _dfl_mmdet(edges, y),
                         repeat=repeat, warmup=3)
    rows.append(Row("losses", "distribution_focal_loss, 1200 edges × 17 bins",
                    "mmdetection's two cross_entropy", base, ours, goal=2.0))
    rng = np.random.default_rng(0)
    gt = np.concatenate([rng.uniform(100, 500, (17, 2)), np.full((17, 1), 2.0)], 1)
    pred = gt[:, :2] + rng.normal(0, 5, (17, 2))
    ev = _coco_oks_setup(gt, pred, 50000.0)
    ours, base = compare(lambda: oks(gt, pred, 50000.0), lambda: ev.computeOks(1, 1), repeat=repeat, warmup=3)
    rows.append(Row("losses", "oks, one person (17 keypoints)", "pycocotools COCOeval.computeOks", base, ours,
                    goal=1.0))
    return rows


def run(quick: bool = False) -> list[Row]:
    from core import losses_lesson, zoo
    from core.assign import shapes_scene
    from core.images import load_image
    from core.zoo import ROOT

    photo = load_image(ROOT / "assets" / "images" / "astronaut.jpg")
    scene, _ = shapes_scene(3)
    first = losses_lesson.run(photo)  # loads the model, as a running app has
    m = first.summary["model"]
    model = f"{m['name']}, {m['source']}"
    loaded = zoo.load_model(losses_lesson.MODEL, "auto")
    repeat = 3 if quick else 7
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows = [
            Row("losses", "default /losses computation (astronaut, only the image)", "budget 2 s", 2.0,
                timeit(lambda: losses_lesson.run(photo), repeat=repeat, warmup=1), goal=1.0,
                note=f"{model}; 1 torch thread"),
            Row("losses", "default /losses computation (a ShapesWorld scene)", "budget 2 s", 2.0,
                timeit(lambda: losses_lesson.run(scene), repeat=repeat, warmup=1), goal=1.0,
                note="1 torch thread"),
        ]
        forward = timeit(lambda: losses_lesson.predict(loaded, scene, 0.3), repeat=repeat, warmup=1)
        rows.append(Row("losses", "the lesson vs the detector alone (letterbox, forward, decode, NMS)",
                        "predict()", forward, rows[-1].ours_s, note="what the lesson adds; 1 torch thread"))
        rows += _function_rows(quick)
    finally:
        torch.set_num_threads(threads)
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
