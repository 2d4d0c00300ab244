"""Train the embedded ShapesWorld classifiers: ``vit-shapes``, ``swin-shapes`` and ``resnet-shapes``.

``python -m core.train vit-shapes --threads 1`` builds the architecture exactly as the zoo does
(``core.zoo`` entry kwargs through timm), trains it on a stream of fresh ShapesWorld scenes (the
generator *is* the augmentation: new shapes, colours, backgrounds and occlusions, plus label-preserving
flips and quarter turns per image; with ``Recipe.echo`` > 1 each rendered scene is reused a few times,
see :mod:`core.train.echo`), and reports top-1 accuracy on two fixed held-out sets that
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
import multiprocessing
import os
import shlex
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from core.data.shapesworld import CLASSES, TRAIN_STYLES, ShapesWorld
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card
from core.train.echo import EchoPool, dihedral
from core.zoo import ModelEntry, _create, get_entry, load_model

__all__ = ["RECIPES", "Recipe", "accuracy", "distillation_loss", "evaluate", "heldout_worlds",
           "init_sincos_pos_embed", "remeasure_card", "train"]

EVAL_SEED = 1_000_003  # never used for training (training seeds are small integers)
EVAL_SCENES = 1000
PREFETCH = 3  # batches rendered ahead of the training step


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
    echo: int = 1  # each rendered scene is used this many times on average (data echoing)
    echo_pool: int = 8192  # scenes kept for echoing (a scene stays echo_pool·echo/batch steps)
    bf16: bool = False  # bfloat16 autocast for the forward passes (AVX-512-BF16/AMX CPUs: ~1.3-2x faster)
    style: str = "diverse"  # ShapesWorld training style ("train" or "diverse"; never an evaluation family)
    distill_correct_only: bool = False  # soft targets only on scenes the teacher classifies correctly
    # background families of the training world, repeats weighting a family (None: the style's own);
    # photos at full contrast are where the transformers lost shapes ('collage' keeps its pieces unseen)
    backgrounds: tuple[str, ...] | None = None
    scene_fills: float = 0.0  # 'diverse' only: share of shapes filled with another (synthetic) scene


# the transformers lost shapes on photos at full contrast and on fills with edges inside (on the collage
# family: 0.85 with its photo background swapped for a flat one, 0.49 with its pieces' fill untinted);
# these runs draw photo backgrounds half the time (style 'train' and 'diverse': 2 draws of 7) and fill
# a share of the shapes with other synthetic scenes — still never a photo piece, shadow or rim
PHOTO_HEAVY = ("flat", "linear", "radial", "noise", "stripes", "photo", "photo", "photo", "photo", "photo")

RECIPES: dict[str, Recipe] = {
    "vit-shapes": Recipe(steps=21000, lr=1e-3, warmup_steps=300, budget_min=29.0, teacher="resnet-shapes",
                         echo=4, sincos_init=True, bf16=True, distill_correct_only=True,
                         backgrounds=PHOTO_HEAVY, scene_fills=0.35),
    "swin-shapes": Recipe(steps=23000, lr=1e-3, budget_min=29.0, teacher="resnet-shapes", echo=4, bf16=True,
                          distill_correct_only=True, backgrounds=PHOTO_HEAVY, scene_fills=0.35),
    # the shipped resnet-shapes was trained on style 'train' and already generalises to the held-out
    # families (its card); its recipe stays the one that reproduces those weights
    "resnet-shapes": Recipe(steps=1600, lr=2e-3, weight_decay=0.01, budget_min=30.0, style="train"),
}

STYLE_NOTES = {
    "train": "",
    "diverse": (" Style 'diverse' is style 'train' plus thin geometric outlines of every class (30% of "
                "shapes; a ring is two concentric circles), strong synthetic texture fills (30%: value "
                "noise over four octaves), photo backgrounds up to full contrast, and whole-image "
                "recolourings (grey, duotone ramps, YIQ hue rotation, negatives, contrast fades) with "
                "heavier blur and noise; it draws no hatching, dots, weave, tiles, paper or ruling, no "
                "wobbly or overshooting strokes, no photo-textured fills, shadows or rims, so the "
                "evaluation families below stay unseen (the bundled photos are backgrounds in 'train', "
                "'diverse' and 'collage' alike)."),
}


def _world_note(recipe: Recipe) -> str:
    """What a recipe changes in its style's world (background weights, scene fills), for the card."""
    note = ""
    if recipe.backgrounds is not None:
        kinds = dict.fromkeys(recipe.backgrounds)
        counts = ", ".join(f"{k} {recipe.backgrounds.count(k)}" for k in kinds)
        note += (f" This run draws the background family from {len(recipe.backgrounds)} equally likely "
                 f"entries ({counts}), so photos at full contrast are more common than in the style itself.")
    if recipe.scene_fills:
        note += (f" {recipe.scene_fills:.0%} of the shapes are filled with another ShapesWorld scene (style "
                 "'train' on a flat, gradient or noise background, never a photo), tinted to contrast: fills "
                 "with edges and shapes inside them.")
    return note


def heldout_worlds(size: int, seed: int = EVAL_SEED) -> dict[str, ShapesWorld]:
    """The evaluation worlds: training style from an unseen seed, and three render families that no
    training renders (``heldout``: hatched/checked fills on dotted, woven or tiled backgrounds;
    ``sketch``: hand-drawn pen outlines on paper; ``collage``: photo cut-outs pasted on photos)."""
    return {
        "top1_heldout_scenes": ShapesWorld(size, "classify", seed=seed, style="train"),
        "top1_heldout_style": ShapesWorld(size, "classify", seed=seed, style="heldout"),
        "top1_sketch": ShapesWorld(size, "classify", seed=seed, style="sketch"),
        "top1_collage": ShapesWorld(size, "classify", seed=seed, style="collage"),
    }


EVAL_DESCRIPTION = (
    "Evaluation: the first {n} scenes of ShapesWorld(seed={seed}) in style 'train' (unseen scenes) and in "
    "three render families that no training renders: 'heldout' (hatched/checked fills on dotted, woven or "
    "tiled backgrounds), 'sketch' (hand-drawn pen or pencil outlines — wobbly strokes overshooting the "
    "corners — on plain, ruled or squared paper) and 'collage' (pieces cut out of photos, tinted to "
    "contrast, pasted over a photo with a drop shadow and often a white rim).")


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


def remeasure_card(model: str, out: Path | str = Path("assets/weights"),
                   n: int = EVAL_SCENES) -> dict[str, float]:
    """Measure the shipped (zoo-embedded) weights of ``model`` on every evaluation world and rewrite the
    metric table of ``<out>/<model>.md`` (rows that are not top-1 metrics stay), with a dated note; the
    weights are not touched.

    For a checkpoint trained before an evaluation family existed: its card then says what the same
    weights score on the new family, measured exactly as a fresh training would measure it.
    """
    import re

    card = Path(out) / f"{model}.md"
    text = card.read_text(encoding="utf-8")
    loaded = load_model(model, "embedded")
    metrics = evaluate(loaded.model, loaded.entry, n)
    head, sep, rest = text.partition("## Held-out metrics\n| metric | value |\n|---|---|\n")
    if not sep:
        raise ValueError(f"{card} has no held-out metrics table")
    rows = rest.split("\n\n", 1)
    keep = [r for r in rows[0].splitlines() if not re.match(r"^\| top1_\w+ \|", r)]
    table = "\n".join([*(f"| {k} | {v:.4f} |" for k, v in metrics.items()), *keep])
    note = (f"\nThe top-1 metrics above were re-measured on {time.strftime('%Y-%m-%d')} on these same "
            f"weights (`python -m core.train {model} --remeasure`), when the sketch and collage evaluation "
            "families were added; the weights were trained before those families existed and never saw "
            "them.\n")
    tail = rows[1] if len(rows) > 1 else ""
    tail = re.sub(r"\nThe top-1 metrics above were re-measured.*?never saw them\.\n", "", tail, flags=re.S)
    card.write_text(head + sep + table + "\n" + note + "\n" + tail.lstrip("\n"), encoding="utf-8")
    return metrics


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
          smoke: bool = False, init: Path | str | None = None, lr: float | None = None) -> TrainReport:
    """Train one embedded classifier on ShapesWorld and write its safetensors and model card.

    ``init``: start from these safetensors weights of the same architecture (a continued run: no
    curriculum phase, no position-embedding initialisation, a short warm-up; ``lr`` defaults to half the
    recipe's). The card names the starting weights by file name, SHA-256 and their own metadata.
    """
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
    origin = ""
    if init is not None:
        import hashlib

        from safetensors import safe_open
        from safetensors.torch import load_file

        init = Path(init)
        net.load_state_dict(load_file(str(init)), strict=True)
        with safe_open(str(init), "pt") as f:
            meta = f.metadata() or {}
        digest = hashlib.sha256(init.read_bytes()).hexdigest()[:16]
        lr = float(lr if lr is not None else recipe.lr / 2)
        recipe = replace(recipe, lr=lr, easy_frac=0.0, warmup_steps=min(recipe.warmup_steps, 100))
        origin = (f" **Continued run:** the weights start from `{init.name}` (SHA-256 {digest}…, metadata "
                  f"{', '.join(f'{k}={v}' for k, v in meta.items()) or 'none'}), not from random "
                  "initialisation; the wall time above is this run's only.")
    elif lr is not None:
        recipe = replace(recipe, lr=float(lr))
    if recipe.sincos_init and init is None:
        init_sincos_pos_embed(net)
    # Training computes attention explicitly (softmax(q·kᵀ)·v, the same function): at these sizes
    # (65 or 16 tokens of head width 32 or 16) torch's CPU scaled_dot_product_attention made a bfloat16
    # training step 2.3× (ViT) and 1.3× (Swin) slower, mostly in its backward. Inference is unchanged.
    for module in net.modules():
        if hasattr(module, "fused_attn"):
            module.fused_attn = False
    net.train()
    decay, no_decay = [], []
    for name, p in net.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(("pos_embed", "cls_token", "relative_position_bias_table"))
         else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": recipe.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=recipe.lr, betas=(0.9, 0.999),
                            fused=True)
    if recipe.style not in TRAIN_STYLES:
        raise ValueError(f"a recipe trains on {TRAIN_STYLES}, never on {recipe.style!r}")
    world = ShapesWorld(entry.input_size, "classify", seed=seed, style=recipe.style,
                        backgrounds=recipe.backgrounds, scene_fills=recipe.scene_fills)
    # curriculum: shape edges are easiest to discover without clutter, so the run starts on filled
    # shapes over flat or gradient backgrounds without distractors, then moves to the full world
    easy = ShapesWorld(entry.input_size, "classify", seed=seed + 7919, style="train", max_distractors=0,
                       hollow_prob=0.0, backgrounds=("flat", "linear", "radial"))
    teacher = _teacher(recipe.teacher) if recipe.teacher else None
    budget_s = recipe.budget_min * 60

    def source(fresh: int, frac: float = 0.0) -> ShapesWorld:
        """The world fresh batch ``fresh`` comes from; ``frac`` is the run's progress when it is queued."""
        return easy if max(fresh * recipe.echo / steps, frac) < recipe.easy_frac and not smoke else world

    def render(fresh: int, frac: float = 0.0):
        return renderer.submit(source(fresh, frac).images_labels, range(fresh * batch, (fresh + 1) * batch))

    @torch.no_grad()
    def teacher_logits(x: torch.Tensor) -> torch.Tensor | None:
        if teacher is None:
            return None
        t_net, t_entry = teacher
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe.bf16):
            xt = x if t_entry.input_size == entry.input_size else F.interpolate(
                x, size=t_entry.input_size, mode="bilinear", align_corners=False, antialias=True)
            return t_net(xt).float()

    # Scenes are rendered in a separate process, PREFETCH batches ahead, while this one trains: the
    # renderer is pure-Python per scene and, on a thread, held the GIL against the training loop's own
    # Python dispatch (a Swin step is hundreds of small ops). Fresh batch j is scenes j·B…(j+1)·B of
    # its world; one arrives every ``recipe.echo`` steps, enters the echo pool with the teacher's
    # logits, and every step trains on B scenes sampled from the pool (see core.train.echo).
    renderer = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    n_fresh = -(-steps // recipe.echo)
    queued = deque(render(j) for j in range(min(PREFETCH, n_fresh)))
    scenes = EchoPool(recipe.echo_pool if not smoke else batch, (entry.input_size, entry.input_size, 3),
                      len(CLASSES))
    mean = torch.tensor(entry.mean).view(1, 3, 1, 1)
    std = torch.tensor(entry.std).view(1, 3, 1, 1)

    def normalise(images: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 → the model's (B, 3, H, W) input, as ``ShapesWorld.batch`` gives it."""
        return (images.permute(0, 3, 1, 2).float() / 255 - mean) / std
    start = time.perf_counter()
    done, rendered, time_limited, running, teacher_right, loads = 0, 0, False, [], [], []
    try:
        for step in progress(range(steps), total=steps, desc=model):
            elapsed = time.perf_counter() - start
            if not smoke and elapsed > budget_s:
                time_limited = True
                break
            frac = max(step / steps, elapsed / budget_s if not smoke else 0.0)
            for group in opt.param_groups:
                group["lr"] = recipe.lr * _lr_factor(step, frac, recipe.warmup_steps)
            if step % recipe.echo == 0:
                images, labels = queued.popleft().result()
                ahead = step // recipe.echo + PREFETCH
                if ahead < n_fresh:
                    queued.append(render(ahead, frac))
                images = torch.from_numpy(images)
                rendered += len(images)
                scenes.add(images, torch.from_numpy(labels),
                           teacher_logits(normalise(images)))
            images, y, t_logits = scenes.sample(batch, gen)
            x = normalise(dihedral(images, gen, dims=(1, 2)))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe.bf16):
                logits = net(x).float()
            loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
            if teacher is not None:
                if recipe.distill_correct_only:  # a wrong teacher's soft targets would teach its mistake
                    ok = t_logits.argmax(-1) == y
                    soft = (distillation_loss(logits[ok], t_logits[ok], recipe.distill_tau)
                            * ok.float().mean() if ok.any() else logits.sum() * 0.0)
                    teacher_right.append(float(ok.float().mean()))
                else:
                    soft = distillation_loss(logits, t_logits, recipe.distill_tau)
                loss = (1 - recipe.distill_alpha) * loss + recipe.distill_alpha * soft
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            done = step + 1
            if done % 100 == 0:
                loads.append(os.getloadavg()[0])
            running.append(float((logits.argmax(-1) == y).float().mean()))
            if not smoke and done % 100 == 0:
                print(f"[{model}] step {done}/{steps} loss {float(loss.detach()):.3f} train-acc(100) "
                      f"{sum(running[-100:]) / len(running[-100:]):.3f} lr {opt.param_groups[0]['lr']:.2e} "
                      f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
    finally:  # also when a step raises: no rendering process outlives the run
        renderer.shutdown(cancel_futures=True)
    train_seconds = time.perf_counter() - start

    net.eval()
    metrics = {k: accuracy(net, w, n_eval, entry) for k, w in heldout_worlds(entry.input_size).items()}
    metrics["eval_scenes_per_set"] = n_eval
    metrics["train_scenes_seen"] = done * batch
    if recipe.echo > 1:
        metrics["train_scenes_rendered"] = rendered  # distinct scenes (each seen ~echo times)
    params = sum(p.numel() for p in net.parameters())
    weights = save_weights(net, out / f"{model}.safetensors",
                           metadata={"model": model, "steps": done, "seed": seed,
                                     **{k: f"{v:.4f}" for k, v in metrics.items()}})
    distil = (f" Soft distillation from `{recipe.teacher}` (its embedded weights; teacher input resized "
              f"to its own size): loss = {1 - recipe.distill_alpha:g}·CE(labels) + {recipe.distill_alpha:g}·"
              f"τ²·KL(teacher‖student) at τ = {recipe.distill_tau:g}." if recipe.teacher else "")
    if recipe.distill_correct_only and teacher_right:
        distil += (" The soft term covers only the scenes the teacher classifies correctly (it was right on "
                   f"{sum(teacher_right) / len(teacher_right):.1%} of the sampled training scenes; the "
                   "term is scaled by that batch fraction).")
    if recipe.bf16:
        distil += " Forward passes in bfloat16 autocast (weights, gradients and optimiser state in fp32)."
    distil += (" Attention computed explicitly during training (softmax(QKᵀ/√d)·V, the same function as "
               "the fused kernel used at inference, which was slower to train on CPU).")
    if recipe.sincos_init and init is None:
        distil += " The learned position embedding starts from 2-D sin-cos values (CLS position at zero)."
    echoing = ("fresh scenes every step" if recipe.echo == 1 else
               f"a fresh batch every {recipe.echo} steps enters a pool of the {recipe.echo_pool} most recent "
               f"scenes and each step samples its batch from the pool (data echoing: each scene is used "
               f"{recipe.echo}× on average; the teacher's logits are computed once per scene)")
    load = (f"\nThe machine was shared: over the run the 1-minute load average was "
            f"{sum(loads) / len(loads):.1f} on average (max {max(loads):.1f}) on {os.cpu_count()} CPUs, "
            f"while this run trained at {done / train_seconds:.1f} steps/s with "
            f"{torch.get_num_threads()} torch thread(s).\n" if loads and not smoke else "")
    note = load + (f"\n**Stopped by the {recipe.budget_min:.0f}-minute wall-clock guard after {done} of "
                   f"{steps} steps** (the learning-rate schedule follows elapsed time when the machine is "
                   "slow).\n" if time_limited else "")
    curriculum = (f"; the first {recipe.easy_frac:.0%} of the run uses uncluttered scenes (style 'train', "
                  f"filled shapes, flat or gradient backgrounds, no distractors; seed {seed + 7919})"
                  if recipe.easy_frac > 0 else "")
    extra_args = []  # a guard-ended run reproduces with its planned steps (the recipe's unless --steps)
    if time_limited and steps != RECIPES[model].steps:
        extra_args.append(f"--steps {steps}")
    if init is not None:
        extra_args.append(f"--init {shlex.quote(str(init))} --lr {recipe.lr:g}")
    card = write_card(
        out / f"{model}.md", model=model, title=entry.title, params=params,
        summary=(f"{entry.description} Classes: {', '.join(CLASSES)}. Trained by LensLab "
                 + ("from random initialisation" if init is None else
                    "(continued from an earlier LensLab checkpoint trained from random initialisation; see "
                    "Data)") + "; these are not ImageNet weights."),
        data=(f"ShapesWorld classification scenes ({entry.input_size}×{entry.input_size}, mode='classify', "
              f"style='{recipe.style}', seed {seed}), batch {batch}; {echoing}, each with its own random "
              f"flip and quarter turn{curriculum}.{STYLE_NOTES[recipe.style]}{_world_note(recipe)} "
              f"{EVAL_DESCRIPTION.format(n=n_eval, seed=EVAL_SEED)}{origin}"),
        architecture=(f"timm `{entry.arch}` with `{entry.kwargs}`; input normalised with mean "
                      f"{entry.mean} and std {entry.std}. AdamW (lr {recipe.lr}, weight decay "
                      f"{recipe.weight_decay}), batch {batch}, {recipe.warmup_steps}-step warm-up then "
                      f"cosine, label smoothing {recipe.label_smoothing}, gradient clipping 1.0.{distil}"),
        steps=done, seed=seed, seconds=train_seconds, metrics=metrics, extra=note, time_limited=time_limited,
        extra_args=" ".join(extra_args),
    )
    return TrainReport(model=model, steps=done, seconds=train_seconds, weights=weights, card=card,
                       metrics=metrics)
