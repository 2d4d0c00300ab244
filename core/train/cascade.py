"""Train ``sr-shapes``: the cascade's 32² → 64² super-resolution diffusion model, noise-augmented.

The model generates the residual over bicubic upsampling (:func:`core.cascade.residual`), from a
zero-initialised output layer, so it starts at bicubic. Same recipe and same functions as
``ddpm-shapes`` (:func:`core.train.diffusion.diffusion_loss` and
:func:`core.train.diffusion.optimise`; :func:`core.diffusion.denoise` samples it): only the input differs.
Each training pair is a 64² ShapesWorld scene (smooth backgrounds, like the base model's world) and its
area-downsampled 32² version. Noise conditioning augmentation (Imagen §2.4): the low-resolution image is
noised by the forward process to a level ``aug`` drawn uniformly from 0 … ``AUG_MAX`` before it is
upsampled and concatenated to x_t, and ``aug`` is the UNet's second (timestep-type) conditioning.

The UNet is fully convolutional, so it trains on random ``CROP``² crops of the 64² pairs (a quarter of
the compute per pair; super-resolution is local) and samples whole 64² images. The learning rate is
constant after a warm-up, so a run stopped by the wall-clock cap is the run ``--steps <steps done>``
would make.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler, UNet2DModel

from core.cascade import (
    AUG_MAX,
    HIGH,
    LOW,
    condition,
    downsample,
    residual,
    sr_scheduler,
    super_resolve,
    upsample,
)
from core.data.shapesworld import ShapesWorld, to_tensor
from core.models.diffusers_models import SR_SHAPES_CONFIG
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card
from core.train.diffusion import MAX_ROUGHNESS, diffusion_loss, optimise, smooth_scenes, take

CROP = 24
CROP_TRIES = 4  # each training crop is the edgiest of this many random ones (random_crops)
STEPS = 20000
BATCH = 16
LR = 2e-3
WARMUP = 50
EMA_MAX = 0.995
MAX_MINUTES = 25.0
MAX_MB = 10.0
EVAL_SCENES = 32
EVAL_STEPS = 20
EVAL_AUGS = (0, 100)
WORLD_OFFSET = 7      # another world than the base model's (seed 0), so the SR model sees other scenes


def world(seed: int, held_out: bool = False) -> ShapesWorld:
    """64-px scenes of the base model's kind (one filled shape, smooth background); held-out: seed + 1000."""
    return ShapesWorld(size=HIGH, mode="classify", seed=seed + WORLD_OFFSET + (1000 if held_out else 0),
                       max_distractors=0, hollow_prob=0.0, backgrounds=("flat", "linear", "radial"))


def held_out_pairs(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` held-out 64² scenes in [−1, 1] and their 32² (area) halves: the evaluation set."""
    images, _ = take(smooth_scenes(world(seed, held_out=True)), n)
    high = to_tensor(images)
    return high, downsample(high, LOW)


def random_crops(high: torch.Tensor, gen: torch.Generator, size: int = CROP, tries: int = 1) -> torch.Tensor:
    """One random ``size``² crop per image, at even offsets (so area downsampling commutes with it).

    With ``tries`` > 1, each image's crop is the one of ``tries`` random candidates where bicubic
    misses most (largest sum of squared :func:`core.cascade.residual` of the whole image): a scene
    here is one shape on a smooth background, so most random crops hold no edge and teach only
    "add nothing", while every crop still holds flat parts around its edges.
    """
    n, _, h, w = high.shape
    ys = torch.randint(0, (h - size) // 2 + 1, (n, tries), generator=gen) * 2
    xs = torch.randint(0, (w - size) // 2 + 1, (n, tries), generator=gen) * 2
    if tries > 1:
        energy = residual(high, downsample(high, h // 2)).square().sum(1)  # (n, h, w)
        cum = F.pad(energy.cumsum(1).cumsum(2), (1, 0, 1, 0))  # summed-area table
        rows = torch.arange(n)[:, None]
        score = (cum[rows, ys + size, xs + size] - cum[rows, ys, xs + size]
                 - cum[rows, ys + size, xs] + cum[rows, ys, xs])
        best = score.argmax(1, keepdim=True)
        ys, xs = ys.gather(1, best), xs.gather(1, best)
    pairs = zip(ys[:, 0].tolist(), xs[:, 0].tolist(), strict=True)
    return torch.stack([high[i, :, y:y + size, x:x + size] for i, (y, x) in enumerate(pairs)])


def train(model: str = "sr-shapes", steps: int | None = None, out: Path | None = None, seed: int = 0,
          smoke: bool = False) -> TrainReport:
    """Train the SR UNet; writes weights and the card with held-out PSNR / SSIM against bicubic."""
    from core.zoo import WEIGHTS_DIR

    out = Path(out) if out is not None else WEIGHTS_DIR
    steps = steps or (3 if smoke else STEPS)
    batch = 4 if smoke else BATCH
    gen = seed_everything(seed)
    unet = UNet2DModel(**SR_SHAPES_CONFIG)
    torch.nn.init.zeros_(unet.conv_out.weight)  # the first prediction is a zero residual: bicubic itself
    torch.nn.init.zeros_(unet.conv_out.bias)
    ema = copy.deepcopy(unet).eval().requires_grad_(False)
    scheduler = sr_scheduler()
    opt = torch.optim.AdamW(unet.parameters(), lr=LR, weight_decay=0.0)
    stream = smooth_scenes(world(seed))
    losses: list[float] = []
    start = time.perf_counter()
    done = 0
    for step in progress(range(steps), total=steps, desc=model):
        images, _ = take(stream, batch)
        high = random_crops(to_tensor(images), gen, tries=CROP_TRIES)
        low = downsample(high, CROP // 2)
        aug = torch.randint(0, AUG_MAX + 1, (batch,), generator=gen)
        cond = condition(low, aug, torch.randn(low.shape, generator=gen), scheduler, size=CROP)
        for group in opt.param_groups:
            group["lr"] = LR * min(1.0, (step + 1) / WARMUP)
        loss = diffusion_loss(unet, scheduler, residual(high, low), gen, class_labels=aug, cond=cond)
        optimise(unet, ema, opt, loss, min(EMA_MAX, (1 + step) / (10 + step)))
        losses.append(float(loss.detach()))
        done = step + 1
        if step % 50 == 0:
            print(f"step {step} loss {np.mean(losses[-50:]):.4f} "
                  f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
        if not smoke and time.perf_counter() - start > MAX_MINUTES * 60:
            print(f"wall-clock cap reached after {done} steps", flush=True)
            break
    seconds = time.perf_counter() - start
    metrics = evaluate(ema, scheduler, seed, n=4 if smoke else EVAL_SCENES, steps=2 if smoke else EVAL_STEPS)
    metrics["train_loss_last_100"] = float(np.mean(losses[-100:]))
    weights = save_weights(ema, out / f"{model}.safetensors",
                           metadata={"steps": done, "seed": seed, "config": "SR_SHAPES_CONFIG"},
                           max_mb=MAX_MB)
    params = sum(p.numel() for p in ema.parameters())
    card = write_card(
        out / f"{model}.md", model=model,
        title="sr-shapes · super-resolution diffusion 32² → 64² on ShapesWorld",
        summary="The second stage of the diffusion lesson's cascade (Imagen's recipe in miniature): a small "
                "diffusers `UNet2DModel` (x0-prediction of the residual over bicubic) that turns a 32² "
                "image into a 64² one, conditioned "
                "on the bicubic-upsampled low-resolution image (extra input channels) and on its noise "
                "augmentation level (a timestep-type class embedding). Trained by LensLab.",
        data=f"Fresh 64² ShapesWorld classify scenes of the base model's kind (one filled shape on a flat or "
             f"gradient background, background mean |Laplacian| < {MAX_ROUGHNESS}), world seed "
             f"{seed + WORLD_OFFSET}; one {CROP}² crop per scene (even offset; of {CROP_TRIES} random "
             f"candidates, the one where bicubic misses most, so most crops hold an edge) and its area-"
             f"downsampled {CROP // 2}² half; {done * batch:,} scenes seen once each (batch {batch}). Noise "
             f"conditioning augmentation: the low-resolution crop is noised by the forward process to a "
             f"level drawn uniformly from 0 … {AUG_MAX} (ᾱ from 1 to "
             f"{float(scheduler.alphas_cumprod[AUG_MAX]):.2f}) before the bicubic upsampling. Held-out "
             f"metrics: {EVAL_SCENES if not smoke else 4} whole 64² scenes of world seed "
             f"{seed + WORLD_OFFSET + 1000}.",
        architecture=f"`UNet2DModel(**SR_SHAPES_CONFIG)` from `core/models/diffusers_models.py`: 6 input "
                     f"channels (x_t and the upsampled condition), channels "
                     f"{SR_SHAPES_CONFIG['block_out_channels']}, one ResNet block per level, no attention, "
                     f"`class_embed_type='timestep'` for the augmentation level. Linear β 1e-4 → 0.02, "
                     f"T = 1000, x0-prediction (`prediction_type='sample'`) of the *residual* over bicubic "
                     f"upsampling (the sample is bicubic + residual; `core.cascade.residual`), output "
                     f"convolution initialised to zero (so training starts from bicubic). Loss and optimiser "
                     f"step: `core.train.diffusion.diffusion_loss` / "
                     f"`optimise`, the base model's own. AdamW lr {LR:g} (warm-up {WARMUP} steps, then "
                     f"constant), gradient clip 1, EMA (decay ≤ {EMA_MAX}) saved; bf16 autocast. "
                     f"Training loop wall time {seconds / 60:.1f} min.",
        steps=done, seed=seed, seconds=time.perf_counter() - start, metrics=metrics, params=params,
        extra=f"## Measures\nSR samples: DDIM, {EVAL_STEPS} steps, η = 0, seed 0, through "
              "`core.cascade.super_resolve` (the lesson's sampler). Bicubic: `core.cascade.upsample` of the "
              "same 32² inputs. PSNR and SSIM from `torchmetrics.functional.image` (images in [0, 1], "
              "SSIM with its default 11-px Gaussian window), averaged over the held-out scenes. LPIPS would "
              "need network weights downloaded at run time, so SSIM is the perceptual measure here.\n",
    )
    return TrainReport(model, done, time.perf_counter() - start, weights, card, metrics)


@torch.no_grad()
def measure(unet: UNet2DModel, scheduler: DDPMScheduler, high: torch.Tensor, low: torch.Tensor, *,
            steps: int, augs: tuple[int, ...] = EVAL_AUGS, chunk: int = 16) -> dict[str, float]:
    """PSNR / SSIM of bicubic and of the SR samples at each augmentation level against ``high``."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    def scores(pred: torch.Tensor) -> tuple[float, float]:
        a, b = (pred.clamp(-1, 1) + 1) / 2, (high + 1) / 2
        psnr = peak_signal_noise_ratio(a, b, data_range=1.0, reduction="none", dim=(1, 2, 3)).mean()
        return float(psnr), float(structural_similarity_index_measure(a, b, data_range=1.0))

    out: dict[str, float] = {}
    out["psnr bicubic"], out["ssim bicubic"] = scores(upsample(low))
    for aug in augs:
        sr = torch.cat([super_resolve(unet, scheduler, low[i:i + chunk], aug=aug, steps=steps, seed=0)
                        for i in range(0, len(low), chunk)])
        out[f"psnr sr aug={aug}"], out[f"ssim sr aug={aug}"] = scores(sr)
    return out


def evaluate(unet: UNet2DModel, scheduler: DDPMScheduler, seed: int, n: int, steps: int) -> dict[str, float]:
    high, low = held_out_pairs(seed, n)
    return measure(unet, scheduler, high, low, steps=steps)
