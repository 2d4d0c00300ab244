"""Train LensLab's embedded RepVGG: ``python -m core.train repvgg-shapes --threads 1``.

The network is the zoo's ``repvgg-shapes`` (:func:`core.repvgg.shapes_net`: timm ``RepVggBlock``\\ s,
64-px input, a rep stem and three stages, one of them grouped), trained with every branch — 3×3, 1×1
and identity, each with its BatchNorm — on fresh ShapesWorld scenes (style ``"train"``; the first
quarter of the run on uncluttered scenes), with random flips and quarter turns. The checkpoint keeps
the *training-time* form: the lesson merges it in front of the student. After training the trainer
merges it once itself (:func:`core.repvgg.deployed_copy`) and records in the card how far the deployed
network's logits move (float32) and that its accuracy is the same.

Evaluation: the classifiers' held-out worlds (:func:`core.train.classifiers.heldout_worlds`: unseen
scenes of the training style and render families no training uses). A wall-clock guard ends a run
early on a slow shared machine; the card then says so.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from core.data.shapesworld import CLASSES, ShapesWorld
from core.train.classifiers import EVAL_SCENES, accuracy, heldout_worlds
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card
from core.train.echo import dihedral
from core.zoo import _create, get_entry

MODEL = "repvgg-shapes"
DEFAULT_STEPS = 2200
BATCH = 48
LR = 2e-3
WEIGHT_DECAY = 0.01
WARMUP = 100
LABEL_SMOOTHING = 0.1
EASY_FRAC = 0.25
BUDGET_MIN = 15.0


def _lr_factor(step: int, frac: float) -> float:
    warm = min(1.0, (step + 1) / WARMUP)
    return warm * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def train(model: str = MODEL, steps: int | None = None, out: Path | str = Path("assets/weights"),
          seed: int = 0, smoke: bool = False) -> TrainReport:
    """Train ``repvgg-shapes`` and write its safetensors (training-time form) and model card."""
    from core.repvgg import deployed_copy, rep_blocks, topology

    if model != MODEL:
        raise ValueError(f"this trainer trains {MODEL!r}, not {model!r}")
    entry = get_entry(model)
    steps = int(steps if steps is not None else (2 if smoke else DEFAULT_STEPS))
    batch = 8 if smoke else BATCH
    n_eval = 16 if smoke else EVAL_SCENES
    out = Path(out)
    gen = seed_everything(seed)
    net = _create(entry)
    net.train()
    decay, no_decay = [], []
    for _, p in net.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}], lr=LR)
    size = entry.input_size
    world = ShapesWorld(size, "classify", seed=seed, style="train")
    easy = ShapesWorld(size, "classify", seed=seed + 7919, style="train", max_distractors=0, hollow_prob=0.0,
                       backgrounds=("flat", "linear", "radial"))
    mean = torch.tensor(entry.mean).view(1, 3, 1, 1)
    std = torch.tensor(entry.std).view(1, 3, 1, 1)
    budget_s = BUDGET_MIN * 60
    start = time.perf_counter()
    done, time_limited, running, loads = 0, False, [], []
    for step in progress(range(steps), total=steps, desc=model):
        elapsed = time.perf_counter() - start
        if not smoke and elapsed > budget_s:
            time_limited = True
            break
        frac = max(step / steps, 0.0 if smoke else elapsed / budget_s)
        for group in opt.param_groups:
            group["lr"] = LR * _lr_factor(step, frac)
        source = easy if frac < EASY_FRAC and not smoke else world
        images, labels = source.images_labels(range(step * batch, (step + 1) * batch))
        x = torch.from_numpy(images)
        x = dihedral(x, gen, dims=(1, 2))
        x = (x.permute(0, 3, 1, 2).float() / 255 - mean) / std
        y = torch.from_numpy(labels)
        logits = net(x)
        loss = F.cross_entropy(logits, y, label_smoothing=LABEL_SMOOTHING)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        done = step + 1
        running.append(float((logits.argmax(-1) == y).float().mean()))
        if done % 100 == 0:
            loads.append(os.getloadavg()[0])
            if not smoke:
                print(f"[{model}] step {done}/{steps} loss {float(loss.detach()):.3f} train-acc(100) "
                      f"{sum(running[-100:]) / len(running[-100:]):.3f} lr {opt.param_groups[0]['lr']:.2e} "
                      f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
    train_seconds = time.perf_counter() - start

    net.eval()
    worlds = heldout_worlds(size)
    metrics: dict[str, float] = {k: accuracy(net, w, n_eval, entry) for k, w in worlds.items()}
    deployed = deployed_copy(net).eval()
    metrics["deployed_top1_heldout_scenes"] = accuracy(deployed, worlds["top1_heldout_scenes"], n_eval, entry)
    x, _ = worlds["top1_heldout_scenes"].batch(range(min(n_eval, 200)), entry.mean, entry.std)
    with torch.inference_mode():
        metrics["deployed_max_abs_logit_change"] = float((net(x) - deployed(x)).abs().max())
    metrics["eval_scenes_per_set"] = n_eval
    metrics["train_scenes_seen"] = done * batch
    params = sum(p.numel() for p in net.parameters())
    weights = save_weights(net, out / f"{model}.safetensors",
                           metadata={"model": model, "steps": done, "seed": seed, "form": "training-time",
                                     **{k: f"{v:.4g}" for k, v in metrics.items()}})
    train_topo, dep_topo = topology(net), topology(deployed)
    blocks = len(rep_blocks(net))
    load = (f"The machine was shared: over the run the 1-minute load average was "
            f"{sum(loads) / len(loads):.1f} on average (max {max(loads):.1f}) on {os.cpu_count()} CPUs; "
            f"this run trained at "
            f"{done / train_seconds:.1f} steps/s with {torch.get_num_threads()} torch thread(s).\n\n"
            if loads and not smoke else "")
    guard = (f"**Stopped by the {BUDGET_MIN:.0f}-minute wall-clock guard after {done} of {steps} steps** "
             "(the learning-rate schedule follows elapsed time when the machine is slow).\n\n"
             if time_limited else "")
    extra = (
        "## Training-time and deployed forms\n"
        f"The file holds the training-time network: {blocks} RepVGG blocks, {train_topo['conv3x3']} 3×3 and "
        f"{train_topo['conv1x1']} 1×1 convs, {train_topo['batchnorm']} BatchNorms, {params:,} parameters. "
        f"Merged (BN folded into each branch, 1×1 padded to the 3×3 centre, identity as a Dirac kernel, "
        f"summed), it is {dep_topo['conv3x3']} 3×3 convs with bias and ReLU and {dep_topo['parameters']:,} "
        f"parameters; on 200 held-out scenes its logits differ from the training-time network's by at most "
        f"{metrics['deployed_max_abs_logit_change']:.2e} (float32), and its accuracy on the held-out scenes "
        f"is {metrics['deployed_top1_heldout_scenes']:.4f} (training-time: "
        f"{metrics['top1_heldout_scenes']:.4f}).\n\n"
        + load + guard)
    # the card's table prints floats to 4 decimals: a change of 5e-06 would read 0.0000
    table = {k: f"{v:.2e}" if k == "deployed_max_abs_logit_change" else v for k, v in metrics.items()}
    card = write_card(
        out / f"{model}.md", model=model, title=entry.title, params=params,
        summary=(f"{entry.description} Classes: {', '.join(CLASSES)}. Trained by LensLab from random "
                 "initialisation; these are not ImageNet weights. The re-parameterisation lesson (`/repvgg`) "
                 "uses it offline, so its page shows learned kernels without the Hub."),
        data=(f"Fresh ShapesWorld classification scenes every step ({size}×{size}, mode='classify', "
              f"style='train', seed {seed}), batch {batch}, each with a random flip and quarter turn; the "
              f"first {EASY_FRAC:.0%} of the run on uncluttered scenes (filled shapes, flat or gradient "
              f"backgrounds, no distractors; seed {seed + 7919}). Evaluation: the first {n_eval} scenes of "
              "each of the classifiers' held-out worlds (`core.train.classifiers.heldout_worlds`: unseen "
              "scenes of the training style, and render families no training uses)."),
        architecture=(f"`core.repvgg:shapes_net` — timm `ByobNet` with `RepVggBlock`s: a rep stem of 32 "
                      "channels (stride 2), stages of 2, 3 and 2 blocks of 48, 96 and 192 channels (each "
                      "stride 2; the 96-channel stage grouped, 24 channels per group), global max pooling, "
                      f"linear → 8. AdamW (lr {LR}, weight decay {WEIGHT_DECAY}, none on BN and biases), "
                      f"batch {batch}, {WARMUP}-step warm-up then cosine, label smoothing {LABEL_SMOOTHING}, "
                      "gradient clipping 1.0; timm's RepVGG initialisation (BN γ ~ N(0.1, 0.1))."),
        steps=done, seed=seed, seconds=train_seconds, metrics=table, extra=extra, time_limited=time_limited,
    )
    return TrainReport(model=model, steps=done, seconds=train_seconds, weights=weights, card=card,
                       metrics=metrics)
