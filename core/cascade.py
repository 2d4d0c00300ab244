"""A cascade in miniature (Imagen §2.4): a 32² base sample, then a 32² → 64² super-resolution diffusion model.

The super-resolution (SR) model is an ordinary diffusion UNet whose input is x_t (3 channels) with the
low-resolution image, upsampled bicubically to 64², concatenated (3 more channels); what it generates is
the residual over that bicubic image (:func:`residual`). Noise conditioning
augmentation: before it is upsampled, the low-resolution image is noised by the *forward process of the
same β schedule* to an augmentation level ``aug`` (a timestep 0 … ``AUG_MAX``), and ``aug`` is given to the
UNet (a timestep-type class embedding) so it knows how much to trust its condition. In training ``aug`` is
drawn at random; at sampling it is a choice. A small ``aug`` washes out the base model's own artefacts
(the exact pixels the SR model never saw in training), which is why the cascade is robust to them.

:func:`condition` builds that extra input; :func:`super_resolve` samples with :func:`core.diffusion.denoise`
(the base model's sampler — there is no second one) and :func:`core.train.diffusion.diffusion_loss` is the
training loss of both models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, SchedulerMixin

from core.diffusion import DenoiseStep, add_noise, denoise
from core.imagen import AUG_MAX

__all__ = ["AUG_MAX", "LOW", "HIGH", "condition", "downsample", "image_of", "residual", "sr_scheduler",
           "super_resolve", "super_resolve_steps", "upsample"]

LOW, HIGH = 32, 64


def sr_scheduler() -> DDPMScheduler:
    """The SR model's schedule: DDPM's linear β (1e-4 → 0.02, T = 1000) with x0-prediction.

    The SR network predicts the clean sample (``prediction_type="sample"``) rather than ε, and its sample
    is the *residual* over bicubic upsampling (see :func:`super_resolve_steps`): a small model trained
    for minutes on a CPU learns a correction to bicubic far faster than the image itself (the base model
    predicts ε, like Ho et al.).
    """
    return DDPMScheduler(num_train_timesteps=1000, prediction_type="sample")


def upsample(low: torch.Tensor, size: int = HIGH) -> torch.Tensor:
    """Bicubic upsampling (``F.interpolate``), the SR model's condition and the baseline it must beat."""
    return F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False)


def downsample(high: torch.Tensor, size: int = LOW) -> torch.Tensor:
    """Antialiased (area) downsampling: how the training pairs' low-resolution halves are made."""
    return F.interpolate(high, size=(size, size), mode="area")


def condition(low: torch.Tensor, aug: Any, noise: torch.Tensor, scheduler: SchedulerMixin,
              size: int = HIGH) -> torch.Tensor:
    """The SR model's extra input: ``low`` noised to level ``aug`` (forward process), upsampled to ``size``.

    ``aug`` is an int or one level per batch item; level 0 leaves ``low`` as it is (ᾱ_0 ≈ 1 − 10⁻⁴, so
    this is not bit-exact: the schedule's first step is tiny but not zero; ``aug < 0`` is refused).
    """
    levels = torch.as_tensor(aug, dtype=torch.long).reshape(-1)
    if bool((levels < 0).any()):
        raise ValueError(f"the augmentation level must be ≥ 0; got {levels.tolist()}.")
    noisy = add_noise(low, levels.expand(low.shape[0]) if levels.numel() == 1 else levels, noise, scheduler)
    return upsample(noisy, size)


def residual(high: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
    """What the SR model generates: the high-resolution image minus the bicubic upsampling of ``low``.

    Diffusion on the residual (as in SRDiff, Li et al. 2022) rather than on the image (Imagen's SR
    models): the answer starts at bicubic and the network learns only what bicubic misses.
    """
    return high - upsample(low, high.shape[-1])


def image_of(res: Any, low: torch.Tensor) -> torch.Tensor:
    """A residual (the sampler's x_t, x̂0 or final sample) back as an image: bicubic of ``low`` plus it."""
    r = torch.as_tensor(res).to(low.dtype)
    return (upsample(low, r.shape[-1]) + r).clamp(-1, 1)


def super_resolve_steps(unet: torch.nn.Module, scheduler: SchedulerMixin, low: torch.Tensor, *, aug: Any = 0,
                        steps: int = 25, seed: int = 0) -> Iterator[DenoiseStep]:
    """DDIM (η = 0) steps of the SR model for a batch ``low`` (B, 3, 32, 32) in [−1, 1].

    The steps' arrays are residuals (:func:`residual`); :func:`image_of` turns them into images.
    ``aug`` is one level for the batch or one per image. The generator draws the augmentation noise
    first, then the initial x_T, so one seed fixes both.
    """
    gen = torch.Generator().manual_seed(int(seed))
    low = low.to(unet.dtype)
    noise = torch.randn(low.shape, generator=gen, dtype=low.dtype)
    levels = torch.as_tensor(aug, dtype=torch.long).reshape(-1)
    levels = levels.expand(low.shape[0]).clone() if levels.numel() == 1 else levels
    size = unet.config.sample_size
    cond = condition(low, levels, noise, scheduler, size if isinstance(size, int) else size[0])
    ddim = DDIMScheduler.from_config(scheduler.config)
    yield from denoise(unet, ddim, num_inference_steps=steps, generator=gen, class_labels=levels, cond=cond)


@torch.no_grad()
def super_resolve(unet: torch.nn.Module, scheduler: SchedulerMixin, low: torch.Tensor, *, aug: Any = 0,
                  steps: int = 25, seed: int = 0) -> torch.Tensor:
    """The SR model's 64² image for ``low``: bicubic plus the last step's residual, in [−1, 1]."""
    *_, last = super_resolve_steps(unet, scheduler, low, aug=aug, steps=steps, seed=seed)
    return image_of(last.sample, low)
