"""Train LensLab's embedded ResMLP: ``python -m core.train resmlp-shapes --threads 1``.

The network is the zoo's ``resmlp-shapes`` (:func:`core.mlp_ops.shapes_resmlp`: timm ``MlpMixer`` with
``ResBlock``\\ s, 96-px input, 8-px patches, 12×12 tokens), trained on ShapesWorld scenes (style
``"train"``; the first quarter of the run on uncluttered scenes) with random flips and quarter turns.
Scenes are rendered in a second process a few batches ahead and each is used several times (data
echoing). A ResMLP has no locality prior and learns slowly from labels alone on a CPU budget, so the
run distils from LensLab's embedded ResNet (``resnet-shapes``, the same 96-px input): soft targets at
temperature τ on the scenes the teacher classifies correctly, as the embedded transformers were
trained (:func:`core.train.classifiers.distillation_loss`). Scene-level targets alone left its
cross-patch layers with no locality; a per-patch loss (:func:`_patch_targets`) is what made them local.

What the MLP lesson claims from these weights is measured here and printed on the card: held-out
accuracy, and how *local* each block's cross-patch matrix ``linear_tokens`` became — the share of
``|w|`` within the 3×3 and 5×5 patch neighbourhood of each output patch, early vs late blocks, next to
the same number at initialisation and for a matrix that prefers no patch.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.data.shapesworld import CLASSES, ShapesWorld
from core.mlp_ops import locality_baseline, resmlp_locality
from core.train.classifiers import EVAL_SCENES, _teacher, accuracy, distillation_loss, heldout_worlds
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card
from core.train.echo import EchoPool, dihedral
from core.zoo import _create, get_entry

MODEL = "resmlp-shapes"
DEFAULT_STEPS = 2600
BATCH = 64
LR = 2e-3
WEIGHT_DECAY = 0.05
WARMUP = 150
LABEL_SMOOTHING = 0.1
EASY_FRAC = 0.25
ECHO = 4
ECHO_POOL = 8192
TEACHER = "resnet-shapes"
DISTILL_ALPHA = 0.5
DISTILL_TAU = 2.0
PREFETCH = 3
BUDGET_MIN = 24.0
TOKEN_WEIGHT = 0.5  # weight of the per-patch label loss (see _patch_targets)
TOKEN_INIT_STD = 0.02  # linear_tokens start as in the official ResMLP code (truncated normal, std 0.02)


def _lr_factor(step: int, frac: float) -> float:
    warm = min(1.0, (step + 1) / WARMUP)
    return warm * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def _locality_table(loc: dict[int, list[float]]) -> str:
    blocks = len(loc[1])
    head = "| block | " + " | ".join(str(b) for b in range(blocks)) + " |"
    rule = "|---|" + "---|" * blocks
    rows = [f"| share of \\|w\\| within {2 * r + 1}×{2 * r + 1} | " + " | ".join(f"{v:.3f}" for v in vals)
            + " |" for r, vals in loc.items()]
    return "\n".join([head, rule, *rows])


def scenes_with_semantic(world: ShapesWorld, indices: range) -> tuple:
    """``(B, H, W, 4)`` uint8 scenes whose fourth channel is the semantic map (0 background, class + 1),
    and the scene labels: one array, so the echo pool and the dihedral turns keep map and image aligned."""
    scenes = [world.scene(i) for i in indices]
    images = np.stack([np.dstack([s.image, s.semantic.astype(np.uint8)]) for s in scenes])
    return images, np.array([s.label for s in scenes], dtype=np.int64)


def _patch_targets(semantic: torch.Tensor, patch: int) -> torch.Tensor:
    """The class under most of each ``patch``×``patch`` patch (0 = background): ``(B, N)`` targets.

    Every output token of the last block must name what lies under its own patch. Which shape a
    patch belongs to is decided by its neighbourhood (the shape's outline is a few patches across),
    so this dense loss rewards a cross-patch layer that reads nearby patches; the scene label alone
    gives a pooled classifier no reason to prefer them (the first run without it stayed at the
    no-preference share). An auxiliary per-token loss in the spirit of token labelling (Jiang et al.,
    2021), with labels from the scene's own masks instead of a teacher."""
    onehot = F.one_hot(semantic.long(), len(CLASSES) + 1).permute(0, 3, 1, 2).float()
    return F.avg_pool2d(onehot, patch).flatten(2).argmax(1)


def train(model: str = MODEL, steps: int | None = None, out: Path | str = Path("assets/weights"),
          seed: int = 0, smoke: bool = False) -> TrainReport:
    """Train ``resmlp-shapes`` and write its safetensors and model card (with the locality numbers)."""
    if model != MODEL:
        raise ValueError(f"this trainer trains {MODEL!r}, not {model!r}")
    entry = get_entry(model)
    steps = int(steps if steps is not None else (2 if smoke else DEFAULT_STEPS))
    batch = 8 if smoke else BATCH
    n_eval = 16 if smoke else EVAL_SCENES
    out = Path(out)
    gen = seed_everything(seed)
    net = _create(entry)
    for block in net.blocks:
        torch.nn.init.trunc_normal_(block.linear_tokens.weight, std=TOKEN_INIT_STD)
        torch.nn.init.zeros_(block.linear_tokens.bias)
    init_locality = resmlp_locality(net)
    patch = int(net.stem.patch_size[0])
    token_head = torch.nn.Linear(net.embed_dim, len(CLASSES) + 1)  # training only: not saved
    net.train()
    decay, no_decay = [], []
    head_params = [("token_head." + n, q) for n, q in token_head.named_parameters()]
    for name, p in [*net.named_parameters(), *head_params]:
        (no_decay if p.ndim <= 1 or name.endswith((".alpha", ".beta")) else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}], lr=LR)
    size = entry.input_size
    world = ShapesWorld(size, "classify", seed=seed, style="train")
    easy = ShapesWorld(size, "classify", seed=seed + 7919, style="train", max_distractors=0, hollow_prob=0.0,
                       backgrounds=("flat", "linear", "radial"))
    mean = torch.tensor(entry.mean).view(1, 3, 1, 1)
    std = torch.tensor(entry.std).view(1, 3, 1, 1)
    budget_s = BUDGET_MIN * 60
    n_fresh = -(-steps // ECHO)

    def render(fresh: int, frac: float = 0.0):
        source = easy if max(fresh * ECHO / steps, frac) < EASY_FRAC and not smoke else world
        return renderer.submit(scenes_with_semantic, source, range(fresh * batch, (fresh + 1) * batch))

    renderer = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    queued = deque(render(j) for j in range(min(PREFETCH, n_fresh)))
    pool = EchoPool(ECHO_POOL if not smoke else batch, (size, size, 4), len(CLASSES))
    teacher, t_entry = _teacher(TEACHER)
    if t_entry.input_size != size:
        raise ValueError(f"the teacher {TEACHER} takes {t_entry.input_size} px, the student {size} px")

    def normalise(images: torch.Tensor) -> torch.Tensor:
        return (images.permute(0, 3, 1, 2).float() / 255 - mean) / std
    start = time.perf_counter()
    done, rendered, time_limited, running, loads, teacher_right = 0, 0, False, [], [], []
    token_running: list[float] = []
    try:
        for step in progress(range(steps), total=steps, desc=model):
            elapsed = time.perf_counter() - start
            if not smoke and elapsed > budget_s:
                time_limited = True
                break
            frac = max(step / steps, 0.0 if smoke else elapsed / budget_s)
            for group in opt.param_groups:
                group["lr"] = LR * _lr_factor(step, frac)
            if step % ECHO == 0:
                images, labels = queued.popleft().result()
                ahead = step // ECHO + PREFETCH
                if ahead < n_fresh:
                    queued.append(render(ahead, frac))
                rendered += len(images)
                images = torch.from_numpy(images)
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=not smoke):
                    t_logits = teacher(normalise(images[..., :3])).float()  # once per scene, upright
                pool.add(images, torch.from_numpy(labels), t_logits)
            images, y, t_logits = pool.sample(batch, gen)
            images = dihedral(images, gen, dims=(1, 2))  # every class is dihedral-invariant
            x, targets = normalise(images[..., :3]), _patch_targets(images[..., 3], patch)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not smoke):
                tokens = net.forward_features(x)
                logits = net.forward_head(tokens).float()
                token_logits = token_head(tokens).float()
            loss = F.cross_entropy(logits, y, label_smoothing=LABEL_SMOOTHING)
            token_loss = F.cross_entropy(token_logits.flatten(0, 1), targets.flatten())
            ok = t_logits.argmax(-1) == y  # a wrong teacher's soft targets would teach its mistake
            teacher_right.append(float(ok.float().mean()))
            if ok.any():
                soft = distillation_loss(logits[ok], t_logits[ok], DISTILL_TAU) * ok.float().mean()
                loss = (1 - DISTILL_ALPHA) * loss + DISTILL_ALPHA * soft
            loss = loss + TOKEN_WEIGHT * token_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([*net.parameters(), *token_head.parameters()], 1.0)
            opt.step()
            done = step + 1
            running.append(float((logits.argmax(-1) == y).float().mean()))
            token_running.append(float((token_logits.argmax(-1) == targets).float().mean()))
            if done % 100 == 0:
                loads.append(os.getloadavg()[0])
                if not smoke:
                    recent = running[-100:]
                    print(f"[{model}] step {done}/{steps} loss {float(loss.detach()):.3f} train-acc(100) "
                          f"{sum(recent) / len(recent):.3f} token-acc(100) "
                          f"{sum(token_running[-100:]) / len(recent):.3f} "
                          f"3x3 share {sum(resmlp_locality(net)[1][:3]) / 3:.3f} "
                          f"lr {opt.param_groups[0]['lr']:.2e} "
                          f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
    finally:  # also when a step raises: no rendering process outlives the run
        renderer.shutdown(cancel_futures=True)
    train_seconds = time.perf_counter() - start

    net.eval()
    metrics: dict[str, float] = {k: accuracy(net, w, n_eval, entry)
                                 for k, w in heldout_worlds(size).items()}
    loc = resmlp_locality(net)
    blocks = len(loc[1])
    early, late = slice(0, blocks // 2), slice(blocks // 2, blocks)
    for r, name in ((1, "3x3"), (2, "5x5")):
        metrics[f"locality_{name}_early_blocks"] = sum(loc[r][early]) / len(loc[r][early])
        metrics[f"locality_{name}_late_blocks"] = sum(loc[r][late]) / len(loc[r][late])
        metrics[f"locality_{name}_at_init"] = sum(init_locality[r]) / blocks
        metrics[f"locality_{name}_uniform"] = locality_baseline(net.stem.grid_size, r)
    metrics["eval_scenes_per_set"] = n_eval
    metrics["train_scenes_seen"] = done * batch
    metrics["train_scenes_rendered"] = rendered
    params = sum(p.numel() for p in net.parameters())
    weights = save_weights(net, out / f"{model}.safetensors",
                           metadata={"model": model, "steps": done, "seed": seed,
                                     **{k: f"{v:.4g}" for k, v in metrics.items()}})
    load = (f"The machine was shared: over the run the 1-minute load average was "
            f"{sum(loads) / len(loads):.1f} on average (max {max(loads):.1f}) on {os.cpu_count()} CPUs; "
            f"this run trained at {done / train_seconds:.2f} steps/s with {torch.get_num_threads()} torch "
            "thread(s) (scenes rendered in one more process).\n\n" if loads and not smoke else "")
    guard = (f"**Stopped by the {BUDGET_MIN:.0f}-minute wall-clock guard after {done} of {steps} steps** "
             "(the learning-rate schedule follows elapsed time when the machine is slow).\n\n"
             if time_limited else "")
    extra = (
        "## Locality of the cross-patch layers\n"
        "For each block, the share of |w| of `linear_tokens` (144×144, row = output patch) that lies within "
        "the 3×3 and 5×5 patch neighbourhood of the output patch, averaged over output patches "
        "(`core.mlp_ops.locality`). A matrix that prefers no patch scores "
        f"{metrics['locality_3x3_uniform']:.3f} (3×3) and {metrics['locality_5x5_uniform']:.3f} (5×5) "
        f"on this 12×12 grid; at initialisation these weights scored "
        f"{metrics['locality_3x3_at_init']:.3f} and "
        f"{metrics['locality_5x5_at_init']:.3f}.\n\n" + _locality_table(loc) + "\n\n"
        f"Early blocks (0–{blocks // 2 - 1}) average {metrics['locality_3x3_early_blocks']:.3f} (3×3) and "
        f"{metrics['locality_5x5_early_blocks']:.3f} (5×5); late blocks ({blocks // 2}–{blocks - 1}) "
        f"{metrics['locality_3x3_late_blocks']:.3f} and {metrics['locality_5x5_late_blocks']:.3f}.\n\n"
        + load + guard)
    card = write_card(
        out / f"{model}.md", model=model, title=entry.title, params=params,
        summary=(f"{entry.description} Classes: {', '.join(CLASSES)}. Trained by LensLab from random "
                 "initialisation; these are not ImageNet weights. The MLP lesson (`/mlp`) uses it offline, "
                 "so its page shows learned cross-patch weights without the Hub."),
        data=(f"ShapesWorld classification scenes ({size}×{size}, mode='classify', style='train', seed "
              f"{seed}), batch {batch}; a fresh batch every {ECHO} steps enters a pool of the {ECHO_POOL} "
              f"most recent scenes and each step samples its batch from the pool (each scene used {ECHO}× on "
              "average), each with its own random flip and quarter turn; the first "
              f"{EASY_FRAC:.0%} of the run on uncluttered scenes (filled shapes, flat or gradient "
              f"backgrounds, no distractors; seed {seed + 7919}). Evaluation: the first {n_eval} scenes of "
              "each of the "
              "classifiers' held-out worlds (`core.train.classifiers.heldout_worlds`: unseen scenes of the "
              "training style, and render families no training uses)."),
        architecture=("`core.mlp_ops:shapes_resmlp` — timm `MlpMixer` with `ResBlock`s and `Affine` norms: "
                      "8×8 patch embedding to width 128 (12×12 = 144 tokens), 6 blocks, channel MLP ×4, "
                      "LayerScale initialised at 0.1, average pooling, linear → 8. AdamW (lr "
                      f"{LR}, weight decay {WEIGHT_DECAY}, none on biases, Affine and LayerScale), batch "
                      f"{batch}, {WARMUP}-step warm-up then cosine, label smoothing {LABEL_SMOOTHING}, "
                      "gradient clipping 1.0; forward passes in bfloat16 autocast (weights, gradients and "
                      f"optimiser state in float32). Soft distillation from `{TEACHER}` (its embedded "
                      f"weights, the same 96-px input): loss = {1 - DISTILL_ALPHA:g}·CE(labels) + "
                      f"{DISTILL_ALPHA:g}·τ²·KL(teacher‖student) at τ = {DISTILL_TAU:g}, the soft term only "
                      "on the scenes the teacher classifies correctly (it was right on "
                      f"{sum(teacher_right) / max(1, len(teacher_right)):.1%} of the sampled training "
                      "scenes; the term is scaled by that batch fraction). Per-patch labels: a linear "
                      f"head on the last block's tokens (training only, not saved) names the class under "
                      f"most of each {patch}×{patch} patch (0 for background, from the scene's own masks), "
                      f"loss weight {TOKEN_WEIGHT:g}; `linear_tokens` start from a truncated normal of std "
                      f"{TOKEN_INIT_STD:g} (the official ResMLP code's initialisation) with zero bias."),
        steps=done, seed=seed, seconds=train_seconds, metrics=metrics, extra=extra, time_limited=time_limited,
    )
    return TrainReport(model=model, steps=done, seconds=train_seconds, weights=weights, card=card,
                       metrics=metrics)
