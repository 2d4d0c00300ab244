"""Train the embedded ShapesWorld classifiers: ``vit-shapes``, ``swin-shapes`` and ``resnet-shapes``.

``python -m core.train vit-shapes --threads 1`` builds the architecture exactly as the zoo does
(``core.zoo`` entry kwargs through timm), trains it on fresh ShapesWorld scenes every step (the
generator *is* the augmentation: new shapes, colours, backgrounds and occlusions each batch, plus
label-preserving flips and quarter turns), and reports top-1 accuracy on two fixed held-out sets that
training never sees: ``style="train"`` scenes from an unseen seed, and ``style="heldout"`` scenes
rendered with a fill/background family absent from training. Weights go to
``<out>/<model>.safetensors`` and the model card to ``<out>/<model>.md``.

Recipe: AdamW, linear warm-up then cosine decay, label smoothing 0.1, gradient clipping at 1.
A wall-clock guard ends a run early if the shared machine is slower than planned (the card says so).

A recipe may name a *teacher* (an already trained embedded classifier): the student then also matches
the teacher's temperature-softened class distribution, as DeiT does (Touvron et al., 2021, "soft
distillation"). A ViT has no convolutional prior and needs far more scenes than a ConvNet to discover
edges and corners; the ConvNet's soft targets ("a pentagon, a bit hexagon-like") carry that knowledge
and make the ViT's training several times shorter. The teacher sees the same scenes, resized to its
own input size.
"""

from __future__ import annotations

import copy
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card
from core.train.shapesworld import CLASSES, ShapesWorld
from core.zoo import ModelEntry, _create, get_entry, load_model

__all__ = ["RECIPES", "Recipe", "accuracy", "distillation_loss", "evaluate", "heldout_worlds",
           "init_sincos_pos_embed", "train"]

EVAL_SEED = 1_000_003  # never used for training (training seeds are small integers)
EVAL_SCENES = 1000


@dataclass(frozen=True)
class Recipe:
    steps: int
    batch: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_steps: int = 150
    label_smoothing: float = 0.1
    budget_min: float = 23.0  # wall-clock guard (minutes) for one training
    easy_frac: float = 0.25  # first part of the run on uncluttered scenes (curriculum)
    teacher: str | None = None  # embedded classifier to distil from (soft distillation)
    distill_alpha: float = 0.5  # weight of the distillation term; 1 - alpha goes to the labels
    distill_tau: float = 2.0  # softmax temperature of the distillation term
    sincos_init: bool = False  # start a ViT's learned position embedding from 2-D sin-cos values
    bf16: bool = False  # bfloat16 autocast for the forward passes (AVX-512-BF16/AMX CPUs: ~1.3-2x faster)


RECIPES: dict[str, Recipe] = {
    "vit-shapes": Recipe(steps=8000, lr=1e-3, warmup_steps=300, budget_min=29.0, teacher="resnet-shapes",
                         sincos_init=True, bf16=True),
    "swin-shapes": Recipe(steps=11000, lr=1e-3, budget_min=29.0, teacher="resnet-shapes", bf16=True),
    "resnet-shapes": Recipe(steps=1600, lr=2e-3, weight_decay=0.01, budget_min=30.0),
}


def heldout_worlds(size: int, seed: int = EVAL_SEED) -> dict[str, ShapesWorld]:
    """The two evaluation worlds: training style from an unseen seed, and the held-out style."""
    return {
        "top1_heldout_scenes": ShapesWorld(size, "classify", seed=seed, style="train"),
        "top1_heldout_style": ShapesWorld(size, "classify", seed=seed, style="heldout"),
    }


@torch.inference_mode()
def accuracy(model: torch.nn.Module, world: ShapesWorld, n: int, entry: ModelEntry,
             batch: int = 100) -> float:
    """Top-1 accuracy of ``model`` on scenes ``0..n-1`` of ``world`` (entry's normalisation)."""
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, n, batch):
        x, y = world.batch(range(start, min(n, start + batch)), entry.mean, entry.std)
        correct += int((model(x).argmax(-1) == y).sum())
    model.train(was_training)
    return correct / n


def evaluate(model: torch.nn.Module, entry: ModelEntry, n: int = EVAL_SCENES) -> dict[str, float]:
    return {k: accuracy(model, w, n, entry) for k, w in heldout_worlds(entry.input_size).items()}


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flips and quarter turns: every ShapesWorld class is invariant to them."""
    if torch.rand((), generator=gen) < 0.5:
        x = x.flip(-1)
    k = int(torch.randint(0, 4, (), generator=gen))
    return torch.rot90(x, k, dims=(-2, -1)) if k else x


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, tau: float) -> torch.Tensor:
    """Hinton's soft-target loss: tau² · KL(softmax(teacher/tau) ‖ softmax(student/tau)), batch mean.

    The tau² factor keeps the gradient scale independent of the temperature.
    """
    log_p = F.log_softmax(student_logits / tau, dim=-1)
    log_q = F.log_softmax(teacher_logits / tau, dim=-1)
    return F.kl_div(log_p, log_q, reduction="batchmean", log_target=True) * tau * tau


def _teacher(name: str) -> tuple[torch.nn.Module, ModelEntry]:
    """The frozen teacher network, loaded from its embedded weights (never the hub)."""
    net = copy.deepcopy(load_model(name, "embedded").model).eval()  # the zoo's copy stays untouched
    for p in net.parameters():
        p.requires_grad_(False)
    return net, get_entry(name)


def init_sincos_pos_embed(net: torch.nn.Module) -> None:
    """Start a timm ViT's *learned* position embedding from fixed 2-D sin-cos values (as MAE does).

    The embedding stays a trained parameter; it only starts out knowing which patches are neighbours.
    A randomly initialised one must discover the grid from data first, which leaves a small ViT at
    chance for hundreds of steps. Prefix tokens (CLS) start at zero.
    """
    from timm.layers.pos_embed_sincos import build_sincos2d_pos_embed

    grid = net.patch_embed.grid_size
    table = build_sincos2d_pos_embed(list(grid), dim=net.pos_embed.shape[-1])
    with torch.no_grad():
        net.pos_embed.zero_()
        net.pos_embed[0, net.pos_embed.shape[1] - table.shape[0]:] = table


def _lr_factor(step: int, progress_frac: float, warmup_steps: int) -> float:
    """Linear warm-up over ``warmup_steps`` steps, then cosine decay over the run's progress."""
    warm = min(1.0, (step + 1) / max(1, warmup_steps))
    return warm * 0.5 * (1 + math.cos(math.pi * min(1.0, progress_frac)))


def train(model: str, steps: int | None = None, out: Path | str = Path("assets/weights"), seed: int = 0,
          smoke: bool = False) -> TrainReport:
    """Train one embedded classifier on ShapesWorld and write its safetensors and model card."""
    if model not in RECIPES:
        raise ValueError(f"no classifier recipe for {model!r}; known: {', '.join(RECIPES)}")
    entry = get_entry(model)
    recipe = RECIPES[model]
    steps = int(steps if steps is not None else (2 if smoke else recipe.steps))
    batch = 8 if smoke else recipe.batch
    n_eval = 16 if smoke else EVAL_SCENES
    out = Path(out)
    gen = seed_everything(seed)

    net = _create(entry)
    if recipe.sincos_init:
        init_sincos_pos_embed(net)
    net.train()
    decay, no_decay = [], []
    for name, p in net.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(("pos_embed", "cls_token", "relative_position_bias_table"))
         else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": recipe.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=recipe.lr, betas=(0.9, 0.999))
    world = ShapesWorld(entry.input_size, "classify", seed=seed, style="train")
    # curriculum: shape edges are easiest to discover without clutter, so the run starts on filled
    # shapes over flat or gradient backgrounds without distractors, then moves to the full world
    easy = ShapesWorld(entry.input_size, "classify", seed=seed + 7919, style="train", max_distractors=0,
                       hollow_prob=0.0, backgrounds=("flat", "linear", "radial"))
    teacher = _teacher(recipe.teacher) if recipe.teacher else None
    budget_s = recipe.budget_min * 60

    def scenes(step: int, frac: float) -> tuple[torch.Tensor, torch.Tensor]:
        source = easy if frac < recipe.easy_frac and not smoke else world
        return source.batch(range(step * batch, (step + 1) * batch), entry.mean, entry.std)

    # the next batch is rendered on a second thread while this one trains (OpenCV, numpy and torch
    # release the GIL); batch i is still scenes i·B…(i+1)·B, so a run is as reproducible as before
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shapesworld")
    pending = pool.submit(scenes, 0, 0.0)
    start = time.perf_counter()
    done, time_limited, running = 0, False, []
    try:
        for step in progress(range(steps), total=steps, desc=model):
            elapsed = time.perf_counter() - start
            if not smoke and elapsed > budget_s:
                time_limited = True
                break
            frac = max(step / steps, elapsed / budget_s if not smoke else 0.0)
            for group in opt.param_groups:
                group["lr"] = recipe.lr * _lr_factor(step, frac, recipe.warmup_steps)
            x, y = pending.result()
            pending = pool.submit(scenes, step + 1, frac)
            x = _augment(x, gen)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe.bf16):
                logits = net(x).float()
            loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
            if teacher is not None:
                t_net, t_entry = teacher
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe.bf16):
                    xt = x if t_entry.input_size == entry.input_size else F.interpolate(
                        x, size=t_entry.input_size, mode="bilinear", align_corners=False, antialias=True)
                    t_logits = t_net(xt).float()
                loss = ((1 - recipe.distill_alpha) * loss
                        + recipe.distill_alpha * distillation_loss(logits, t_logits, recipe.distill_tau))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            done = step + 1
            running.append(float((logits.argmax(-1) == y).float().mean()))
            if not smoke and done % 100 == 0:
                print(f"[{model}] step {done}/{steps} loss {float(loss):.3f} train-acc(100) "
                      f"{sum(running[-100:]) / len(running[-100:]):.3f} lr {opt.param_groups[0]['lr']:.2e} "
                      f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
    finally:  # also when a step raises: no rendering thread outlives the run
        pool.shutdown(cancel_futures=True)
    train_seconds = time.perf_counter() - start

    net.eval()
    metrics = {k: accuracy(net, w, n_eval, entry) for k, w in heldout_worlds(entry.input_size).items()}
    metrics["eval_scenes_per_set"] = n_eval
    metrics["train_scenes_seen"] = done * batch
    params = sum(p.numel() for p in net.parameters())
    weights = save_weights(net, out / f"{model}.safetensors",
                           metadata={"model": model, "steps": done, "seed": seed,
                                     **{k: f"{v:.4f}" for k, v in metrics.items()}})
    distil = (f" Soft distillation from `{recipe.teacher}` (its embedded weights; teacher input resized "
              f"to its own size): loss = {1 - recipe.distill_alpha:g}·CE(labels) + {recipe.distill_alpha:g}·"
              f"τ²·KL(teacher‖student) at τ = {recipe.distill_tau:g}." if recipe.teacher else "")
    if recipe.bf16:
        distil += " Forward passes in bfloat16 autocast (weights, gradients and optimiser state in fp32)."
    if recipe.sincos_init:
        distil += " The learned position embedding starts from 2-D sin-cos values (CLS position at zero)."
    note = (f"\n**Stopped by the {recipe.budget_min:.0f}-minute wall-clock guard after {done} of {steps} "
            "steps** (the learning-rate schedule follows elapsed time when the machine is slow).\n"
            if time_limited else "")
    card = write_card(
        out / f"{model}.md", model=model, title=entry.title, params=params,
        summary=(f"{entry.description} Classes: {', '.join(CLASSES)}. Trained by LensLab from random "
                 "initialisation; these are not ImageNet weights."),
        data=(f"Fresh ShapesWorld classification scenes every step ({entry.input_size}×{entry.input_size}, "
              f"mode='classify', style='train', seed {seed}), batch {batch}, random flips and quarter "
              f"turns; the first {recipe.easy_frac:.0%} of the run uses uncluttered scenes (filled shapes, "
              f"flat or gradient backgrounds, no distractors; seed {seed + 7919}). Evaluation: the first "
              f"{n_eval} scenes of ShapesWorld(seed={EVAL_SEED}) in style 'train' (unseen scenes) and "
              "style 'heldout' (hatched/checked fills on dotted, woven or tiled backgrounds, never seen "
              "in training)."),
        architecture=(f"timm `{entry.arch}` with `{entry.kwargs}`; input normalised with mean "
                      f"{entry.mean} and std {entry.std}. AdamW (lr {recipe.lr}, weight decay "
                      f"{recipe.weight_decay}), batch {batch}, {recipe.warmup_steps}-step warm-up then "
                      f"cosine, label smoothing {recipe.label_smoothing}, gradient clipping 1.0.{distil}"),
        steps=done, seed=seed, seconds=train_seconds, metrics=metrics, extra=note, time_limited=time_limited,
    )
    return TrainReport(model=model, steps=done, seconds=train_seconds, weights=weights, card=card,
                       metrics=metrics)
