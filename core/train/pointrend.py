"""Train ``pointrend-shapes``: semantic segmentation of ShapesWorld with a PointRend point head.

Recipe (the paper's semantic-segmentation training, scaled to a laptop CPU):

* data: ShapesWorld detect-mode scenes rendered once at 128, 192 and 256 px (``style="train"``);
  each step takes 112×112 random crops with horizontal flips, so the net sees shapes at several scales;
* coarse loss: cross-entropy of the stride-16 logits, bilinearly upsampled to the crop;
* point loss: cross-entropy of the point head on ``N`` points per crop chosen by importance sampling
  (:func:`core.pointrend.points_with_randomness_t`, ``k = 3``, ``β = 0.75``; ground truth read at the
  points with nearest sampling). The paper takes N = the size of a stride-16 map (49 for a 112-px crop);
  our crops are tiny, so we take the stride-8 count (196) to see enough boundary points per step;
* evaluation on held-out ShapesWorld at 256 px (a render style never seen in training, and unseen
  scenes of the training style): mIoU and boundary IoU of the coarse map (nearest), its bilinear
  upsampling, and the PointRend subdivision output.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.data.scenes import SEGMENT_EVAL_SIZE, SEGMENT_HELDOUT_SEED, segment_scene
from core.pointrend import (
    boundary_iou_counts,
    iou_counts,
    point_sample,
    points_with_randomness_t,
    subdivision_inference,
)
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card

DEFAULT_STEPS = 1000
BATCH = 12
CROP = 112
TRAIN_POINTS = 196  # per 112-px crop (stride-8 count, 14²; the paper's rule would give 7² = 49)
OVERSAMPLE = 3.0
IMPORTANCE = 0.75
POOL = {128: 1200, 192: 700, 256: 400}  # training scenes per render size
HELDOUT_SEED = SEGMENT_HELDOUT_SEED  # core.data.scenes: the lesson's scene button shows the same world
EVAL_SIZE = SEGMENT_EVAL_SIZE
EVAL_SCENES = 100
EVAL_POINTS = 2048
NUM_CLASSES = 9


def heldout_scene(index: int, size: int = EVAL_SIZE):
    """Held-out ShapesWorld segmentation scene ``index`` (the evaluation; the lesson's scene button
    reads the same world through :func:`core.data.scenes.segment_scene`)."""
    return segment_scene(index, size)


_WORLDS: dict[tuple[int, str, int], object] = {}


def _world(size: int, style: str, seed: int):
    from core.data.shapesworld import ShapesWorld

    key = (size, style, seed)
    if key not in _WORLDS:
        _WORLDS[key] = ShapesWorld(size=size, mode="detect", style=style, seed=seed, min_objects=1,
                                   max_objects=6)
    return _WORLDS[key]


def _pool(seed: int, sizes: dict[int, int]) -> list[tuple[np.ndarray, np.ndarray]]:
    items = []
    for size, count in sizes.items():
        world = _world(size, "train", seed)
        for i in range(count):
            s = world[i]
            items.append((s.image, s.semantic.astype(np.uint8)))
    return items


def _batch(pool: list[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator, batch: int,
           crop: int) -> tuple[torch.Tensor, torch.Tensor]:
    from core.data.shapesworld import to_tensor

    images, targets = [], []
    for j in rng.integers(0, len(pool), size=batch):
        image, sem = pool[int(j)]
        h, w = sem.shape
        y0, x0 = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        image, sem = image[y0:y0 + crop, x0:x0 + crop], sem[y0:y0 + crop, x0:x0 + crop]
        if rng.random() < 0.5:
            image, sem = image[:, ::-1], sem[:, ::-1]
        images.append(image)
        targets.append(sem)
    x = to_tensor(np.stack(images))
    y = torch.from_numpy(np.stack(targets).astype(np.int64))
    return x, y


def losses(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, num_points: int = TRAIN_POINTS,
           generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The two PointRend losses for one batch: coarse (dense, upsampled) and point (sampled points)."""
    fine, coarse = net.features(x)
    up = F.interpolate(coarse, size=y.shape[-2:], mode="bilinear", align_corners=False)
    loss_coarse = F.cross_entropy(up, y)
    with torch.no_grad():
        coords = points_with_randomness_t(coarse, num_points, OVERSAMPLE, IMPORTANCE, generator)
        target = point_sample(y.unsqueeze(1).float(), coords, mode="nearest").squeeze(1).long()
    point_logits = net.point_head(point_sample(fine, coords), point_sample(coarse, coords))
    loss_point = F.cross_entropy(point_logits, target)
    return {"coarse": loss_coarse, "point": loss_point}


@torch.no_grad()
def evaluate(net: torch.nn.Module, style: str = "heldout", seed: int = HELDOUT_SEED, size: int = EVAL_SIZE,
             scenes: int = EVAL_SCENES, num_points: int = EVAL_POINTS) -> dict[str, float]:
    """mIoU and boundary IoU (accumulated over ``scenes``) of coarse, bilinear and refined masks."""
    from core.data.shapesworld import to_tensor

    net.eval()
    world = _world(size, style, seed)
    acc = {name: [np.zeros(NUM_CLASSES, np.int64) for _ in range(4)] for name in ("coarse", "bilinear",
                                                                                  "refined")}
    for i in range(scenes):
        s = world[i]
        x = to_tensor(s.image[None])
        fine, coarse = net.features(x)
        hw = x.shape[-2:]
        refined, _ = subdivision_inference(coarse, fine, net.point_head, hw, num_points)
        bilinear = F.interpolate(coarse, size=hw, mode="bilinear", align_corners=False)
        preds = {
            "coarse": F.interpolate(coarse, size=hw, mode="nearest")[0].argmax(0).numpy(),
            "bilinear": bilinear[0].argmax(0).numpy(),
            "refined": refined[0].argmax(0).numpy(),
        }
        for name, pred in preds.items():
            for slot, counts in enumerate((*iou_counts(pred, s.semantic, NUM_CLASSES),
                                           *boundary_iou_counts(pred, s.semantic, NUM_CLASSES))):
                acc[name][slot] += counts
    out = {}
    for name, (inter, union, binter, bunion) in acc.items():
        out[f"{name}_miou"] = float(np.mean(inter[union > 0] / union[union > 0]))
        out[f"{name}_boundary_iou"] = float(np.mean(binter[bunion > 0] / bunion[bunion > 0]))
    return out


def train(model: str = "pointrend-shapes", steps: int | None = None, out: Path | None = None, seed: int = 0,
          smoke: bool = False) -> TrainReport:
    from core.zoo import WEIGHTS_DIR, get_entry

    entry = get_entry(model)
    out = Path(out) if out is not None else WEIGHTS_DIR
    steps = int(steps) if steps is not None else (3 if smoke else DEFAULT_STEPS)
    gen = seed_everything(seed)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    net = entry_net(entry)
    pool = _pool(seed, {128: 8} if smoke else POOL)
    data_seconds = time.perf_counter() - start
    batch = 2 if smoke else BATCH
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    warmup = min(100, max(1, steps // 10))

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup))) * 0.98 + 0.02

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    net.train()
    running = {"coarse": 0.0, "point": 0.0}
    for step in progress(range(steps), total=steps, desc=model):
        x, y = _batch(pool, rng, batch, CROP)
        parts = losses(net, x, y, TRAIN_POINTS, gen)
        loss = parts["coarse"] + parts["point"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        for k in running:
            running[k] = 0.98 * running[k] + 0.02 * parts[k].item() if step else parts[k].item()
        if (step + 1) % 200 == 0:
            print(f"step {step + 1}: coarse {running['coarse']:.3f} point {running['point']:.3f}", flush=True)
    n_eval = 2 if smoke else EVAL_SCENES
    metrics = {f"heldout_{k}": v for k, v in evaluate(net, "heldout", HELDOUT_SEED, EVAL_SIZE if not smoke
                                                      else 64, n_eval).items()}
    if not smoke:
        metrics.update({f"unseen_train_style_{k}": v for k, v in
                        evaluate(net, "train", seed + 1000, EVAL_SIZE, n_eval).items()})
    seconds = time.perf_counter() - start
    weights = save_weights(net, out / f"{model}.safetensors", metadata={"steps": steps, "seed": seed})
    params = sum(p.numel() for p in net.parameters())
    card = write_card(
        out / f"{model}.md", model=model, title="PointRend · ShapesWorld (pointrend-shapes)",
        summary=("A small semantic segmenter whose coarse stride-16 prediction is refined by a PointRend "
                 "point head, used by the PointRend lesson. Trained by LensLab on synthetic ShapesWorld "
                 "scenes; it knows 8 shape classes and background, nothing else."),
        data=(f"ShapesWorld detect-mode scenes (1–6 shapes, occlusion, hollow outlines), `style=\"train\"`, "
              f"seed {seed}: {', '.join(f'{v} at {k} px' for k, v in POOL.items())}, rendered once; "
              f"{CROP}×{CROP} random crops with horizontal flips, batch {BATCH}. Data generation "
              f"took {data_seconds:.0f} s of the wall time."),
        architecture=(f"Residual CNN: stem (stride 2, 32 ch) → stride 4 (64 ch, the fine-grained features) "
                      "→ stride 8 (96 ch) → stride 16 (128 ch, dilated residual blocks d = 2, 4) → coarse "
                      "head (3×3 conv + 1×1 to 9 classes). Point head: 1×1-conv MLP on [64 fine ‖ 9 coarse] "
                      "with 3 hidden layers of 256, the 9 coarse logits re-concatenated at every layer. "
                      f"Losses: coarse cross-entropy (logits bilinearly upsampled to the crop) + point "
                      f"cross-entropy on N = {TRAIN_POINTS} points per crop by importance sampling "
                      f"(k = {OVERSAMPLE:g}, β = {IMPORTANCE:g}). AdamW lr 2e-3, cosine, wd 1e-4."),
        steps=steps, seed=seed, seconds=seconds, metrics=metrics, params=params,
        extra=(f"Evaluation: {n_eval} held-out scenes at {EVAL_SIZE} px (coarse map 16×16), subdivision "
               f"with N = {EVAL_POINTS} points per step (4 steps: 32², 64², 128², 256²). `coarse` = nearest "
               "upsampling of the coarse argmax, `bilinear` = argmax of the bilinearly upsampled coarse "
               "logits, `refined` = PointRend subdivision. mIoU over 9 classes (accumulated pixel counts); "
               "boundary IoU (Cheng et al. 2021) with a band of 2 % of the image diagonal (7 px). "
               "`heldout_*` uses the held-out render style (hatched/checked fills on dotted, woven or tiled "
               "backgrounds) never seen in training; `unseen_train_style_*` uses new scenes of the "
               "training style."),
    )
    return TrainReport(model=model, steps=steps, seconds=seconds, weights=weights, card=card, metrics=metrics)


def entry_net(entry) -> torch.nn.Module:
    """A fresh network of the zoo entry (random weights, training mode)."""
    from core.nets.pointrend_net import pointrend_shapes

    return pointrend_shapes(**entry.kwargs).train()
