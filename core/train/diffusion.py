"""Train ``ddpm-shapes``: a small class-conditional DDPM (ε-prediction) on 32×32 ShapesWorld scenes.

The recipe is Ho et al.'s: draw t uniformly from 0…T−1, noise a clean scene with the scheduler's own
``add_noise``, regress the noise with an MSE loss. The class label (the scene's dominant shape) is
replaced by the null class with probability ``P_UNCOND`` so the same network also predicts the
unconditional ε(x) that classifier-free guidance needs. An exponential moving average of the weights
(the usual trick for diffusion models) is what gets saved.

The learning rate is constant after a short warm-up, so a run stopped early by the wall-clock cap is
exactly the run ``--steps <steps done>`` would make; the card records the steps actually done.
"""

from __future__ import annotations

import copy
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel

from core.data.shapesworld import CLASSES, ShapesWorld, to_tensor
from core.models.diffusers_models import DDPM_SHAPES_CONFIG, NULL_CLASS
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card

SIZE = 32
STEPS = 9000
BATCH = 32
LR = 1e-3
WARMUP = 100
P_UNCOND = 0.15
EMA_MAX = 0.999
MAX_ROUGHNESS = 6.0
MAX_MINUTES = 40.0          # wall-clock cap for the training loop (sampling and evaluation come after)
MAX_MB = 20.0
EVAL_SCENES = 256
GRID_PER_CLASS = 6
GRID_STEPS = 50
GUIDANCE = 2.0


def world(seed: int, held_out: bool = False) -> ShapesWorld:
    """32-px classify scenes: one filled shape, no distractors, on a flat or gradient background.

    Outlined polygons and textured backgrounds are left to the classifiers: at 32 px a few CPU-hours of
    diffusion training would go into reproducing textures instead of clean shape edges. Held-out scenes
    use another world seed.
    """
    return ShapesWorld(size=SIZE, mode="classify", seed=seed + (1000 if held_out else 0), max_distractors=0,
                       hollow_prob=0.0, backgrounds=("flat", "linear", "radial"))


def background_roughness(scene) -> float:
    """Mean |Laplacian| of the grey image over the (eroded) background: ~1 flat, >10 photos/stripes."""
    grey = cv2.cvtColor(scene.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    bg = cv2.erode((scene.semantic == 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return float(lap[bg].mean()) if bg.any() else float("inf")


def smooth_scenes(data: ShapesWorld, start: int = 0) -> Iterator[tuple[np.ndarray, int]]:
    """ShapesWorld scenes ``start, start+1, …`` whose background is smooth (flat or a gradient).

    A small UNet trained for half an hour of CPU cannot also learn photo crops, stripes and noise textures;
    keeping the ~36 % of scenes with smooth backgrounds lets it spend that budget on the shapes.
    """
    index = start
    while True:
        scene = data[index]
        index += 1
        if background_roughness(scene) < MAX_ROUGHNESS:
            yield scene.image, scene.label


def take(stream: Iterator[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    items = [next(stream) for _ in range(n)]
    return np.stack([i for i, _ in items]), np.array([c for _, c in items], dtype=np.int64)


def diffusion_loss(unet: UNet2DModel, scheduler: DDPMScheduler, x0: torch.Tensor, gen: torch.Generator, *,
                   class_labels: torch.Tensor | None = None,
                   cond: torch.Tensor | None = None) -> torch.Tensor:
    """Ho et al.'s simple loss: t ~ U{0…T−1}, x_t = add_noise(x0, ε, t), MSE(f_θ(x_t[, cond], t, c), target).

    The one loss of both the base model and the cascade's super-resolution model (``cond``: the extra
    input channels concatenated to x_t, as :func:`core.diffusion.denoise` feeds them at sampling). The
    target follows the scheduler's ``prediction_type``, as diffusers' training examples do: ε
    (``"epsilon"``, the base model), x0 (``"sample"``, the SR model) or v (``"v_prediction"``). The
    generator draws t, then ε. The forward pass runs under bf16 autocast (AMX/AVX-512 matmuls, ≈ 1.7×
    faster on CPU); the loss is taken in fp32.
    """
    batch = x0.shape[0]
    t = torch.randint(0, int(scheduler.config.num_train_timesteps), (batch,), generator=gen)
    noise = torch.randn(x0.shape, generator=gen)
    xt = scheduler.add_noise(x0, noise, t)
    inputs = xt if cond is None else torch.cat([xt, cond], dim=1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        pred = unet(inputs, t, class_labels=class_labels).sample
    kind = scheduler.config.prediction_type
    target = {"epsilon": lambda: noise, "sample": lambda: x0,
              "v_prediction": lambda: scheduler.get_velocity(x0, noise, t)}[kind]()
    return F.mse_loss(pred.float(), target)


def optimise(unet: torch.nn.Module, ema: torch.nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor,
             decay: float) -> None:
    """One optimiser step (gradient norm clipped to 1) and the EMA update of the saved weights."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), unet.parameters(), strict=True):
            pe.lerp_(p, 1.0 - decay)


def train(model: str = "ddpm-shapes", steps: int | None = None, out: Path | None = None, seed: int = 0,
          smoke: bool = False, init: Path | None = None, lr: float | None = None) -> TrainReport:
    """Train (or, with ``init``, continue training) the UNet; writes weights, sample grid and card.

    A continued run starts both the trained and the EMA weights from ``init`` (the saved EMA of the
    earlier run) with a fresh optimiser, and reads the same world from scene 10,000,000 on, which the
    earlier run never reached.
    """
    from safetensors.torch import load_file

    from core.zoo import WEIGHTS_DIR

    out = Path(out) if out is not None else WEIGHTS_DIR
    steps = steps or (3 if smoke else STEPS)
    batch = 4 if smoke else BATCH
    gen = seed_everything(seed)
    lr = LR if lr is None else float(lr)
    unet = UNet2DModel(**DDPM_SHAPES_CONFIG)
    if init is not None:
        unet.load_state_dict(load_file(str(init)))
    ema = copy.deepcopy(unet).eval().requires_grad_(False)
    scheduler = DDPMScheduler(num_train_timesteps=1000)
    opt = torch.optim.AdamW(unet.parameters(), lr=lr, weight_decay=0.0)
    stream = smooth_scenes(world(seed), start=0 if init is None else 10_000_000)
    losses: list[float] = []
    start = time.perf_counter()
    done = 0
    for step in progress(range(steps), total=steps, desc=model):
        images, labels = take(stream, batch)
        x0 = to_tensor(images)
        y = torch.from_numpy(labels)
        y = torch.where(torch.rand(batch, generator=gen) < P_UNCOND, torch.full_like(y, NULL_CLASS), y)
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / WARMUP)
        loss = diffusion_loss(unet, scheduler, x0, gen, class_labels=y)
        decay = EMA_MAX if init is not None else min(EMA_MAX, (1 + step) / (10 + step))
        optimise(unet, ema, opt, loss, decay)
        losses.append(float(loss.detach()))
        done = step + 1
        if step % 100 == 0:
            print(f"step {step} loss {np.mean(losses[-100:]):.4f} "
                  f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
        if not smoke and time.perf_counter() - start > MAX_MINUTES * 60:
            print(f"wall-clock cap reached after {done} steps", flush=True)
            break
    seconds = time.perf_counter() - start

    metrics = evaluate(ema, scheduler, seed, n=8 if smoke else EVAL_SCENES)
    metrics["train_loss_last_100"] = float(np.mean(losses[-100:]))
    grid_path = out / f"{model}-samples.png"
    accuracy = sample_grid(ema, scheduler, grid_path, per_class=1 if smoke else GRID_PER_CLASS,
                           steps=2 if smoke else GRID_STEPS, seed=seed)
    if accuracy is not None:
        metrics["sample_class_accuracy (resnet-shapes judge)"] = accuracy
    seconds_total = time.perf_counter() - start
    weights = save_weights(ema, out / f"{model}.safetensors",
                           metadata={"steps": done, "seed": seed, "config": "DDPM_SHAPES_CONFIG"},
                           max_mb=MAX_MB)
    params = sum(p.numel() for p in ema.parameters())
    card = write_card(
        out / f"{model}.md", model=model, title="ddpm-shapes · DDPM on 32×32 ShapesWorld",
        summary="A small class-conditional diffusion UNet (diffusers `UNet2DModel`, ε-prediction) trained "
                "by LensLab for the diffusion lesson. It generates (and SDEdits towards) ShapesWorld "
                "scenes: one shape of eight classes on a smooth (flat or gradient) background.",
        data=f"Fresh ShapesWorld classify scenes at {SIZE}×{SIZE}: one filled shape (no outlined "
             f"polygons, no distractors) on a flat, linear or radial gradient background, world seed {seed}, "
             f"keeping only scenes whose background is smooth (mean |Laplacian| of the background < "
             f"{MAX_ROUGHNESS}: no grain), so the budget goes to the shapes; "
             f"{done * batch:,} scenes seen once each (batch {batch}). Held-out metrics use world seed "
             f"{seed + 1000}. The label is the dominant shape; it is dropped to the null class "
             f"(id {NULL_CLASS}) with probability {P_UNCOND} for classifier-free guidance.",
        architecture=f"`UNet2DModel(**DDPM_SHAPES_CONFIG)` from `core/models/diffusers_models.py`: "
                     f"channels {DDPM_SHAPES_CONFIG['block_out_channels']}, one ResNet block per level, "
                     f"self-attention in the 8×8 middle block, class embedding with {NULL_CLASS + 1} "
                     f"entries. "
                     f"Linear β "
                     f"1e-4 → 0.02, T = 1000 (diffusers `DDPMScheduler` defaults). AdamW lr {lr:g} "
                     f"(warm-up {WARMUP} steps, then constant), gradient clip 1, EMA of the weights "
                     f"(decay ≤ {EMA_MAX}) saved; bf16 autocast for the forward pass, fp32 weights. "
                     f"Training loop wall time {seconds / 60:.1f} min.",
        steps=done, seed=seed, seconds=seconds_total, metrics=metrics, params=params,
        extra_args=f"--init {shlex.quote(str(init))} --lr {lr:g}" if init is not None else "",
        extra=(f"## Continued run\nThis run started from `{Path(init).name}` (the EMA weights of an "
               f"earlier run of this recipe, whose card is the previous version of this one) with a fresh "
               f"optimiser and EMA decay {EMA_MAX} from the first step; the steps above are this run's "
               "only.\n\n"
               if init is not None else "")
        + f"## Samples\nDDIM, {2 if smoke else GRID_STEPS} steps, η = 0, guidance s = {GUIDANCE}; "
              "one row per class "
              f"({', '.join(CLASSES)}):\n\n![samples]({grid_path.name})\n\n"
              "ε-MSE is the mean squared error of the predicted noise on held-out scenes (predicting "
              "zero noise scores 1.0); it is lowest at large t, where the noise dominates x_t. The sample "
              "class accuracy asks the embedded resnet-shapes classifier (trained on sharp 96-px scenes; "
              "chance 12.5 %) which class each grid sample shows — a rough check of the conditioning.",
    )
    return TrainReport(model, done, seconds_total, weights, card, metrics)


@torch.no_grad()
def evaluate(unet: UNet2DModel, scheduler: DDPMScheduler, seed: int, n: int) -> dict[str, float]:
    """Held-out ε-MSE overall and in three t bands (fixed t grid and fixed noise, so runs compare)."""
    images, labels = take(smooth_scenes(world(seed, held_out=True)), n)
    x0 = to_tensor(images)
    y = torch.from_numpy(labels)
    g = torch.Generator().manual_seed(1234)
    t = torch.linspace(0, 999, n).round().long()
    noise = torch.randn(x0.shape, generator=g)
    xt = scheduler.add_noise(x0, noise, t)
    err = torch.cat([((unet(xt[i:i + 64], t[i:i + 64], class_labels=y[i:i + 64]).sample
                       - noise[i:i + 64]) ** 2).mean(dim=(1, 2, 3)) for i in range(0, n, 64)])
    bands = {"eps_mse": err, "eps_mse t<100": err[t < 100], "eps_mse 100≤t<500": err[(t >= 100) & (t < 500)],
             "eps_mse t≥500": err[t >= 500]}
    return {k: float(v.mean()) for k, v in bands.items() if v.numel()}


@torch.no_grad()
def sample_grid(unet: UNet2DModel, scheduler: DDPMScheduler, path: Path, per_class: int, steps: int,
                seed: int) -> float | None:
    """Sample ``per_class`` scenes of every class (DDIM + guidance), save the grid, judge the classes.

    Returns the share of samples that the embedded ShapesWorld classifier (if bundled) assigns to the
    class they were generated for — a rough check that the conditioning works.
    """
    from core.diffusion import denoise, from_unit

    labels = torch.arange(len(CLASSES)).repeat_interleave(per_class)
    gen = torch.Generator().manual_seed(seed)
    ddim = DDIMScheduler.from_config(scheduler.config)
    last = None
    for step in denoise(unet, ddim, num_inference_steps=steps, generator=gen, class_labels=labels,
                        guidance_scale=GUIDANCE, null_class=NULL_CLASS, batch_size=len(labels)):
        last = step.sample
    tiles = [from_unit(s) for s in last]
    scale = 3
    rows = []
    for c in range(len(CLASSES)):
        row = [cv2.resize(tiles[c * per_class + j], (SIZE * scale, SIZE * scale),
                          interpolation=cv2.INTER_NEAREST) for j in range(per_class)]
        rows.append(np.concatenate([np.pad(r, ((2, 2), (2, 2), (0, 0)), constant_values=255) for r in row],
                                   axis=1))
    grid = np.concatenate(rows, axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return _judge(np.stack(tiles), labels.numpy())


def _judge(tiles: np.ndarray, labels: np.ndarray) -> float | None:
    from core import zoo

    try:
        judge = zoo.load_model("resnet-shapes", "embedded")
    except (zoo.WeightsError, KeyError):
        return None
    size = judge.input_size
    x = to_tensor(np.stack([cv2.resize(t, (size, size)) for t in tiles]),
                  judge.entry.mean, judge.entry.std)
    with torch.no_grad():
        pred = judge.model(x).argmax(-1).numpy()
    return float((pred == labels).mean())
