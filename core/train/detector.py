"""Train the embedded YOLOX-style detector (``yolox-shapes``) on ShapesWorld detection scenes.

``python -m core.train yolox-shapes --threads 1`` trains with YOLOX's recipe, scaled down:

* assignment: SimOTA (:func:`core.assign.simota`, preset ``"yolox-0.3"``, the paper's release) on the
  detached predictions of every image, recomputed at every step;
* losses (YOLOX's ``get_losses``): IoU loss ``1 − IoU²`` on positives ×5, objectness BCE on all
  anchors (target 1 on positives), class BCE on positives with the soft target ``onehot·IoU``, and
  an L1 loss on the raw box offsets in the last 15 % of the steps; all divided by the number of
  positives in the batch;
* AdamW with warm-up and cosine decay, an exponential moving average of the weights (what is saved).

Besides the final weights it saves the EMA weights at 0 % (the initialisation), 5 % and 30 % of the
steps, so the SimOTA page can show how the assignment changes as the predictions improve. Every
checkpoint gets a model card with its mAP on held-out scenes, computed by torchmetrics'
``MeanAveragePrecision`` (COCO protocol through pycocotools).

``python -m core.train gfl-shapes`` trains the GFL variant (the same network with
``head_type="gfl"``, :func:`core.nets.yolox.gfl_shapes`) in the same loop with the same SimOTA
assignment, but with Generalized Focal Loss's losses (:func:`gfl_loss`): quality focal loss on the
joint class–IoU score of every anchor, GIoU ×2 and distribution focal loss ×0.25 on the positives'
edges. It serves the losses lesson (``core.losses_lesson``), which draws every edge's distribution.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from core.assign import anchor_grid, simota
from core.data.scenes import DETECT_EVAL_SEED
from core.losses import distribution_focal_loss, quality_focal_loss
from core.nets.yolox import (
    YOLOXShapes,
    decode,
    decode_gfl,
    gfl_shapes,
    postprocess,
    split_outputs,
    yolox_shapes,
)
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card

IMAGE_SIZE = 192
BATCH = 12
DEFAULT_STEPS = 900
SNAPSHOTS = (0, 5, 30)  # percent of training for the early checkpoints
EVAL_SEED = DETECT_EVAL_SEED  # held-out scenes: a world seed never used for training (core.data.scenes)
ARCH = dict(neck=48, head=48)  # the zoo entries use the same (core.models.detectors)
N_EVAL = 300
TRAIN_PRESET = "yolox-0.3"
REG_MAX = 16  # GFL's default: 17 bins per edge, distances 0 … 16 strides
#: the GFL recipe fine-tunes from the trained yolox-shapes body (backbone, neck, head convolutions and
#: class layer; the distribution layer is new): on a 2-core machine shared by several jobs a run from
#: scratch does not fit the 30-minute training budget
GFL_INIT = "yolox-shapes.safetensors"
GFL_STEPS = 600
GFL_LR = 1e-3
#: SimOTA's cost multiplies σ(cls) by σ(obj); a GFL head has no objectness, its class score is already
#: the joint class–quality score, so the assigner is given a certain objectness (σ(30) = 1 − 1e-13)
GFL_OBJ_LOGIT = 30.0


def _iou_aligned(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    tl = torch.maximum(a[:, :2], b[:, :2])
    br = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (br - tl).clamp(min=0).prod(1)
    area_a = (a[:, 2:] - a[:, :2]).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).prod(1)
    return inter / (area_a + area_b - inter + 1e-16)


def yolox_loss(raw: torch.Tensor, targets: list[dict[str, torch.Tensor]], cells: torch.Tensor,
               strides: torch.Tensor, points: np.ndarray, use_l1: bool = False,
               preset: str = TRAIN_PRESET) -> tuple[torch.Tensor, dict[str, float]]:
    """YOLOX's training loss for a batch of raw outputs ``(B, A, 5 + C)``."""
    boxes = decode(raw, cells, strides)
    num_classes = raw.shape[-1] - 5
    obj_t = torch.zeros(raw.shape[:2])
    pos_boxes, pos_gt, pos_cls, pos_cls_t, pos_raw, pos_l1_t = [], [], [], [], [], []
    for b, target in enumerate(targets):
        gt, labels = target["boxes"].float(), target["labels"].long()
        if gt.numel() == 0:
            continue
        with torch.no_grad():
            res = simota(gt, labels, boxes[b].detach(), raw[b, :, 5:].detach(), raw[b, :, 4].detach(),
                         points, strides.numpy(), preset=preset)
        fg = torch.from_numpy(res.fg_mask)
        if not fg.any():
            continue
        matched = torch.from_numpy(res.matched_gt[res.fg_mask])
        obj_t[b, fg] = 1.0
        pos_boxes.append(boxes[b, fg])
        pos_gt.append(gt[matched])
        pos_cls.append(raw[b, fg, 5:])
        pos_cls_t.append(F.one_hot(labels[matched], num_classes).float()
                         * torch.from_numpy(res.matched_iou[res.fg_mask]).float()[:, None])
        if use_l1:
            g = gt[matched]
            s = strides[fg][:, None]
            ctr, wh = (g[:, :2] + g[:, 2:]) / 2, (g[:, 2:] - g[:, :2])
            pos_raw.append(raw[b, fg, :4])
            pos_l1_t.append(torch.cat([ctr / s - cells[fg], torch.log(wh / s + 1e-8)], 1))
    num_fg = max(sum(len(p) for p in pos_boxes), 1)
    loss_obj = F.binary_cross_entropy_with_logits(raw[..., 4], obj_t, reduction="sum") / num_fg
    if pos_boxes:
        iou = _iou_aligned(torch.cat(pos_boxes), torch.cat(pos_gt))
        loss_iou = (1 - iou.pow(2)).sum() / num_fg
        loss_cls = F.binary_cross_entropy_with_logits(torch.cat(pos_cls), torch.cat(pos_cls_t),
                                                      reduction="sum") / num_fg
        loss_l1 = (F.l1_loss(torch.cat(pos_raw), torch.cat(pos_l1_t), reduction="sum") / num_fg
                   if use_l1 else raw.sum() * 0)
    else:
        loss_iou = loss_cls = loss_l1 = raw.sum() * 0
    total = 5.0 * loss_iou + loss_obj + loss_cls + loss_l1
    parts = {"iou": float(loss_iou.detach()), "obj": float(loss_obj.detach()),
             "cls": float(loss_cls.detach()), "l1": float(loss_l1.detach()),
             "fg": num_fg / max(len(targets), 1)}
    return total, parts


def init_from_yolox(net: YOLOXShapes, path: Path) -> int:
    """Copy every tensor of a YOLOX checkpoint whose name and shape the GFL network shares; return how many.

    All but the regression layer (4 → 4·(reg_max+1) outputs) and the objectness layer (absent in GFL)
    carry over.
    """
    from safetensors.torch import load_file

    own = net.state_dict()
    shared = {k: v for k, v in load_file(str(path)).items() if k in own and own[k].shape == v.shape}
    net.load_state_dict(shared, strict=False)
    return len(shared)


def gfl_targets(gt: torch.Tensor, points: torch.Tensor, strides: torch.Tensor, reg_max: int) -> torch.Tensor:
    """Edge distances ``(N, 4)`` (left, top, right, bottom) in strides from anchor centres to GT boxes.

    Clamped to ``[0, reg_max − 0.01]``, as mmdetection's GFL head clamps (``bbox2distance``, whose ``eps``
    is 0.1 there: ``reg_max − 0.1``): an anchor SimOTA takes from the centre region may lie just outside
    its box (negative distance).
    """
    s = strides[:, None]
    d = torch.cat([points - gt[:, :2], gt[:, 2:] - points], 1) / s
    return d.clamp(0, reg_max - 0.01)


def gfl_loss(raw: torch.Tensor, targets: list[dict[str, torch.Tensor]], cells: torch.Tensor,
             strides: torch.Tensor, points: np.ndarray, reg_max: int = REG_MAX,
             preset: str = TRAIN_PRESET) -> tuple[torch.Tensor, dict[str, float]]:
    """GFL's training loss for raw outputs ``(B, A, 4·(reg_max+1) + C)``, assigned by SimOTA.

    QFL over every anchor and class (target: the IoU of the positive's predicted box with its GT at
    the GT's class, 0 elsewhere), GIoU loss ×2 and DFL ×0.25 (mean of the 4 edges) on the positives,
    all divided by the number of positives. (mmdetection also weights the box losses by the predicted
    score; this recipe does not.)
    """
    from torchvision.ops import generalized_box_iou_loss

    n1 = reg_max + 1
    boxes = decode_gfl(raw, cells, strides, reg_max)
    cls = raw[..., 4 * n1:]
    pts = torch.from_numpy(points).float()
    obj = torch.full(raw.shape[1:2], GFL_OBJ_LOGIT)
    qfl_t = torch.zeros_like(cls)
    pos_boxes, pos_gt, pos_edges, pos_dist = [], [], [], []
    for b, target in enumerate(targets):
        gt, labels = target["boxes"].float(), target["labels"].long()
        if gt.numel() == 0:
            continue
        with torch.no_grad():
            res = simota(gt, labels, boxes[b].detach(), cls[b].detach(), obj, points, strides.numpy(),
                         preset=preset)
        fg = torch.from_numpy(res.fg_mask)
        if not fg.any():
            continue
        matched = torch.from_numpy(res.matched_gt[res.fg_mask])
        fg_idx = fg.nonzero()[:, 0]
        qfl_t[b, fg_idx, labels[matched]] = torch.from_numpy(res.matched_iou[res.fg_mask]).float()
        pos_boxes.append(boxes[b, fg])
        pos_gt.append(gt[matched])
        pos_edges.append(raw[b, fg, :4 * n1].reshape(-1, n1))
        pos_dist.append(gfl_targets(gt[matched], pts[fg], strides[fg], reg_max).reshape(-1))
    num_fg = max(sum(len(p) for p in pos_boxes), 1)
    loss_qfl = quality_focal_loss(cls, qfl_t).sum() / num_fg
    if pos_boxes:
        loss_giou = generalized_box_iou_loss(torch.cat(pos_boxes), torch.cat(pos_gt), reduction="sum")
        loss_giou = loss_giou / num_fg
        loss_dfl = distribution_focal_loss(torch.cat(pos_edges), torch.cat(pos_dist)).sum() / (4 * num_fg)
    else:
        loss_giou = loss_dfl = raw.sum() * 0
    total = loss_qfl + 2.0 * loss_giou + 0.25 * loss_dfl
    parts = {"qfl": float(loss_qfl.detach()), "giou": float(loss_giou.detach()),
             "dfl": float(loss_dfl.detach()), "fg": num_fg / max(len(targets), 1)}
    return total, parts


@torch.no_grad()
def evaluate(model: YOLOXShapes, images: np.ndarray, targets: list[dict[str, Any]],
             batch: int = 16) -> dict[str, float]:
    """COCO mAP (torchmetrics' ``MeanAveragePrecision``) of ``model`` on prepared scenes."""
    from torchmetrics.detection import MeanAveragePrecision

    from core.data.shapesworld import to_tensor

    model.eval()
    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox")
    size = images.shape[1]
    cells, strides = model.grid(size, size)
    preds = []
    for start in range(0, len(images), batch):
        raw = model(to_tensor(images[start:start + batch]))
        boxes, obj, cls = split_outputs(model, raw, cells, strides)
        for i in range(raw.shape[0]):
            det = postprocess(boxes[i], None if obj is None else obj[i], cls[i], score_thr=0.01, nms_iou=0.65)
            preds.append({"boxes": torch.from_numpy(det.boxes), "scores": torch.from_numpy(det.scores),
                          "labels": torch.from_numpy(det.labels)})
    metric.update(preds, [{"boxes": t["boxes"].float(), "labels": t["labels"].long()} for t in targets])
    out = metric.compute()
    return {"mAP@0.5": float(out["map_50"]), "mAP@[.5:.95]": float(out["map"]),
            "mAR@100": float(out["mar_100"])}


def _eval_sets(size: int, n: int) -> dict[str, tuple[np.ndarray, list[dict[str, Any]]]]:
    from core.data.shapesworld import ShapesWorld

    sets = {}
    for style in ("train", "heldout"):
        world = ShapesWorld(size=size, mode="detect", seed=EVAL_SEED, style=style)
        scenes = [world[i] for i in range(n)]
        sets[style] = (np.stack([s.image for s in scenes]),
                       [{"boxes": torch.from_numpy(s.boxes), "labels": torch.from_numpy(s.labels)}
                        for s in scenes])
    return sets


class _Scenes(torch.utils.data.IterableDataset):
    """Batches of fresh training scenes, batch ``k`` made of scenes ``k·B … k·B + B − 1``."""

    def __init__(self, size: int, batch: int, steps: int, seed: int):
        self.size, self.batch, self.steps, self.seed = size, batch, steps, seed

    def __iter__(self):
        from core.data.shapesworld import ShapesWorld

        world = ShapesWorld(size=self.size, mode="detect", seed=self.seed, style="train")
        for step in range(self.steps):
            x, targets = world.detection_batch(range(step * self.batch, (step + 1) * self.batch))
            yield x, [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, m in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
            if e.dtype.is_floating_point:
                e.mul_(decay).add_(m.detach(), alpha=1 - decay)
            else:
                e.copy_(m)


def _lr(step: int, steps: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def snapshot_name(model: str, percent: int) -> str:
    return f"{model}-{percent}pct"


def train(model: str = "yolox-shapes", steps: int | None = None, out: Path | None = None, seed: int = 0,
          smoke: bool = False) -> TrainReport:
    """Train ``yolox-shapes`` and write its final and early checkpoints with model cards."""
    from core.zoo import WEIGHTS_DIR

    out = Path(out) if out is not None else WEIGHTS_DIR
    size = 128 if smoke else IMAGE_SIZE
    batch = 2 if smoke else BATCH
    gfl = model == "gfl-shapes"
    steps = int(steps if steps is not None else (4 if smoke else GFL_STEPS if gfl else DEFAULT_STEPS))
    n_eval = 4 if smoke else N_EVAL
    seed_everything(seed)
    net = (gfl_shapes(num_classes=8, image_size=size, reg_max=REG_MAX, **ARCH) if gfl
           else yolox_shapes(num_classes=8, image_size=size, **ARCH))
    if gfl:
        reused = init_from_yolox(net, WEIGHTS_DIR / GFL_INIT)
        print(f"initialised {reused} tensors from {GFL_INIT}", flush=True)
    ema = copy.deepcopy(net).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    decay_params = [p for n, p in net.named_parameters() if p.ndim > 1]
    other_params = [p for n, p in net.named_parameters() if p.ndim <= 1]
    base_lr = GFL_LR if gfl else 2e-3
    opt = torch.optim.AdamW([{"params": decay_params, "weight_decay": 0.05},
                             {"params": other_params, "weight_decay": 0.0}], lr=base_lr)
    points, strides_np = anchor_grid(size)
    cells, strides = net.grid(size, size)
    eval_sets = _eval_sets(size, n_eval)
    snapshot_steps: dict[int, list[int]] = {}
    for p in () if gfl else SNAPSHOTS:
        snapshot_steps.setdefault(round(steps * p / 100), []).append(p)
    l1_from = int(steps * 0.85)
    loader = torch.utils.data.DataLoader(_Scenes(size, batch, steps, seed), batch_size=None,
                                         num_workers=0 if smoke else 1)
    start = time.time()
    written: list[Path] = []
    log_every = 1 if smoke else 25
    running: dict[str, float] = {}

    def checkpoint(name: str, done: int, percent: int | None) -> dict[str, float]:
        metrics = {f"{k} ({'held-out scenes' if style == 'train' else 'held-out render style'})": v
                   for style, (imgs, tg) in eval_sets.items() for k, v in evaluate(ema, imgs, tg).items()}
        path = save_weights(ema, out / f"{name}.safetensors",
                            metadata={"steps": done, "of": steps, "seed": seed, "image_size": size})
        elapsed = time.time() - start
        card = _gfl_card if gfl else _card
        card(out / f"{name}.md", name, done, steps, seed, elapsed, metrics, percent, ema)
        written.append(path)
        print(f"[{name}] step {done}/{steps}: " + ", ".join(f"{k}={v:.3f}" for k, v in metrics.items()),
              flush=True)
        return metrics

    step = 0
    for step, (x, targets) in enumerate(progress(loader, total=steps, desc=model)):
        for percent in snapshot_steps.get(step, []):
            checkpoint(snapshot_name(model, percent), step, percent)
        net.train()
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps, base_lr, warmup=2 if smoke else 20 if gfl else 50)
        raw = net(x)
        if gfl:
            loss, parts = gfl_loss(raw, targets, cells, strides, points, reg_max=REG_MAX)
        else:
            loss, parts = yolox_loss(raw, targets, cells, strides, points, use_l1=step >= l1_from)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        opt.step()
        _ema_update(ema, net, 0.993 * (1 - math.exp(-(step + 1) / 100)))
        for k, v in {"loss": float(loss.detach()), **parts}.items():
            running[k] = 0.9 * running.get(k, v) + 0.1 * v
        if step % log_every == 0:
            rate = (time.time() - start) / (step + 1)
            print(f"step {step}: " + " ".join(f"{k}={v:.3f}" for k, v in running.items())
                  + f" ({rate:.2f} s/step)", flush=True)
    metrics = checkpoint(model, steps, None)
    seconds = time.time() - start
    return TrainReport(model=model, steps=steps, seconds=seconds, weights=written[-1],
                       card=out / f"{model}.md", metrics=metrics)


def _card(path: Path, name: str, done: int, steps: int, seed: int, seconds: float,
          metrics: dict[str, float], percent: int | None, net: torch.nn.Module) -> None:
    stage = ("the final weights" if percent is None else
             f"an early snapshot at {percent} % of training (step {done} of {steps})"
             + (" — the random initialisation" if percent == 0 else ""))
    write_card(
        path, model=name, title=f"{name} — YOLOX-style detector on ShapesWorld",
        summary=(f"LensLab's embedded anchor-free detector, {stage}. It serves the SimOTA lesson "
                 "(`apps/detect.py`), which shows how label assignment changes as predictions improve."),
        data=(f"ShapesWorld detection scenes (`core.data.shapesworld`, mode `detect`, 1–6 shapes of 8 "
              f"classes, {IMAGE_SIZE}×{IMAGE_SIZE}), a fresh batch of {BATCH} scenes per step (seed "
              f"{seed}); metrics on {N_EVAL} scenes of world seed {EVAL_SEED} in the training render style "
              f"and {N_EVAL} in the held-out render style (hatched/checked fills, unseen backgrounds)."),
        architecture=("CSP-like backbone (widths 16-32-64-96-128, strides 2…32), slim PAFPN (48 ch), "
                      "YOLOX decoupled head per stride 8/16/32 (1×1 stem; cls 2×3×3 + 1×1 → 8; reg 2×3×3 + "
                      "1×1 → 4 and 1×1 → 1 objectness; 48 ch), 756 anchor points at 192². "
                      "Trained with SimOTA "
                      "(YOLOX 0.3 preset), IoU loss ×5, objectness BCE, soft-IoU class BCE, L1 in the last "
                      "15 % of steps; AdamW 2e-3, cosine, EMA weights."),
        steps=steps if percent is not None else done, seed=seed, seconds=seconds, metrics=metrics,
        params=sum(p.numel() for p in net.parameters()),
        extra=("mAP computed with `torchmetrics.detection.MeanAveragePrecision` (score ≥ 0.01, class-wise "
               "NMS at IoU 0.65)." + ("" if percent is None else
                                      f"\n\nReproduce the snapshot with the full run below; it is written "
                                      f"at step {done}.")),
    )
    if percent is not None:  # the reproduce command is the full run (snapshots are not trainers)
        text = path.read_text(encoding="utf-8")
        full_run = name.rsplit("-", 1)[0]
        text = text.replace(f"python -m core.train {name} ", f"python -m core.train {full_run} ")
        path.write_text(text, encoding="utf-8")


def _gfl_card(path: Path, name: str, done: int, steps: int, seed: int, seconds: float,
              metrics: dict[str, float], percent: int | None, net: torch.nn.Module) -> None:
    write_card(
        path, model=name, title=f"{name} — GFL-style detector on ShapesWorld",
        summary=("LensLab's embedded detector with a Generalized Focal Loss head: every box edge is a "
                 f"discrete distribution over {REG_MAX + 1} distances (0 … {REG_MAX} strides) and the class "
                 "score is a joint class–IoU quality. It serves the losses lesson (`apps/losses.py`), "
                 "which draws the distributions along the edges and the QFL targets."),
        data=(f"ShapesWorld detection scenes (`core.data.shapesworld`, mode `detect`, 1–6 shapes of 8 "
              f"classes, {IMAGE_SIZE}×{IMAGE_SIZE}), a fresh batch of {BATCH} scenes per step (seed "
              f"{seed}); metrics on {N_EVAL} scenes of world seed {EVAL_SEED} in the training render style "
              f"and {N_EVAL} in the held-out render style (hatched/checked fills, unseen backgrounds)."),
        architecture=("The `yolox-shapes` body (CSP-like backbone 16-32-64-96-128, slim PAFPN 48 ch, "
                      "decoupled head per stride 8/16/32, 48 ch) with `head_type=\"gfl\"`: the regression "
                      f"branch ends in 4×{REG_MAX + 1} edge logits (left, top, right, bottom from the anchor "
                      "centre), no objectness; the class branch's 8 logits are trained by QFL. Assignment: "
                      "SimOTA (YOLOX 0.3 preset) on the detached predictions, with a certain objectness "
                      "(the joint score stands for cls·obj). Losses: QFL (β 2) on every anchor, GIoU ×2 and "
                      "DFL ×0.25 on positives, divided by the number of positives (no score weighting of "
                      "the box losses); initialised from `yolox-shapes` (all its tensors but the regression "
                      "and "
                      f"objectness layers), then AdamW {GFL_LR:g}, 20 warm-up steps, cosine, EMA weights."),
        steps=done, seed=seed, seconds=seconds, metrics=metrics,
        params=sum(p.numel() for p in net.parameters()),
        extra=("mAP computed with `torchmetrics.detection.MeanAveragePrecision` (score ≥ 0.01, class-wise "
               "NMS at IoU 0.65); the lesson's goal is mAP@0.5 ≥ 0.8 on held-out scenes.\n\n"
               f"The run starts from `{GFL_INIT}` (it must be in the weights folder); the wall time was "
               "measured on a 2-core machine shared with other jobs."),
    )
