"""Imagen's sampling tricks: classifier-free guidance at high scales, and static vs dynamic thresholding.

Classifier-free guidance ε̃ = ε(x) + w·(ε(x, c) − ε(x)) pushes a sample towards its class; at high w
the predicted clean image x̂0 = (x_t − √(1−ᾱ_t)·ε̃)/√ᾱ_t leaves the data range [−1, 1] and the sample
saturates (flat, over-bright colours). Imagen (Saharia et al., 2022, §2.3) compares three answers:

* none: use x̂0 as it is;
* static thresholding: clip x̂0 to [−1, 1] at every step (DDPM's ``clip_sample``);
* dynamic thresholding: per sample, s = the p-th percentile of |x̂0| (p = 99.5 % in the paper's Fig. A.10);
  if s > 1, clip x̂0 to [−s, s] and divide by s — saturated pixels are pushed inwards each step (with
  s ≤ 1 the rule is the static clip).

:func:`sweep` runs one seed and one class over a list of guidance scales under each method, all in
one batch (every sample is an independent DDIM trajectory from the same noise), and records the
pixel statistics of x̂0 at every step. The DDIM update is written out (:func:`ddim_step`) because the
thresholding sits inside it; tests hold it equal to diffusers' ``DDIMScheduler.step`` with
``clip_sample=True`` and with ``thresholding=True`` step by step.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from diffusers import DDIMScheduler, SchedulerMixin
from diffusers.utils.torch_utils import randn_tensor

from core.lesson import Param
from core.zoo import SHAPE_CLASSES

__all__ = [
    "AUG_MAX",
    "CASCADE_PARAMS",
    "IMAGEN_PARAMS",
    "METHODS",
    "SweepResult",
    "ddim_step",
    "dynamic_threshold",
    "static_threshold",
    "saturation",
    "sweep",
    "sweep_stream",
    "threshold",
]

METHODS = ("none", "static", "dynamic")
#: The largest noise-augmentation level of the cascade's SR model (a timestep; ᾱ ≈ 0.52 there).
AUG_MAX = 250

#: Parameters of the guidance sweep (``/diffusion_imagen``) and of the cascade (``/diffusion_cascade``),
#: run by :mod:`core.imagen_lesson`; the names are distinct from the diffusion lesson's own ``PARAMS``.
IMAGEN_PARAMS: list[Param] = [
    Param("shape", "choice", "circle", "Class",
          "the ShapesWorld class every sample of the sweep is guided to",
          choices=SHAPE_CLASSES),
    Param("max_guidance", "float", 10.0, "Largest guidance scale w",
          "the sweep runs those of w = 1, 2, 3, 5, 7, 10, 15, 20 below this value, then this value itself",
          minimum=1.0, maximum=20.0,
          step=0.5),
    Param("percentile", "float", 99.5, "Dynamic threshold percentile p (%)",
          "s = max(1, q), q = the p-th percentile of |x̂0| per sample (Imagen's Fig. A.10: 99.5)",
          minimum=50.0, maximum=100.0,
          step=0.1),
    Param("sweep_steps", "int", 25, "DDIM steps (sweep)", minimum=2, maximum=200, step=1),
    Param("sweep_seed", "int", 0, "Seed (sweep)", minimum=0, maximum=2**31 - 1, step=1),
]
CASCADE_PARAMS: list[Param] = [
    Param("base_class", "choice", "star", "Base class", "the class of the 32² base sample (ddpm-shapes)",
          choices=("none", *SHAPE_CLASSES)),
    Param("aug", "int", 50, "Noise augmentation level",
          f"how far (a timestep, 0 … {AUG_MAX}) the low-resolution image is noised before the SR model "
          "sees it",
          minimum=0, maximum=AUG_MAX, step=5),
    Param("sr_steps", "int", 20, "SR steps", "DDIM steps of the super-resolution model", minimum=1,
          maximum=100, step=1),
    Param("crop", "float", 0.5, "Photo crop",
          "side of the centre crop of your photo, as a share of its short side",
          minimum=0.1, maximum=1.0, step=0.05),
    Param("cascade_seed", "int", 0, "Seed (cascade)", minimum=0, maximum=2**31 - 1, step=1),
]


def dynamic_threshold(x0: Any, ratio: float = 0.995, max_value: float = 1.0) -> torch.Tensor:
    """Imagen's dynamic thresholding, as diffusers' schedulers apply it (``thresholding=True``).

    Per sample: s = quantile(|x0|, ``ratio``) over all its pixels and channels, clamped to
    [1, ``max_value``]; x0 is clipped to [−s, s] and divided by s. With ``max_value = 1`` this is
    static clipping; Imagen leaves s unbounded above, DeepFloyd IF caps it at 1.5.
    """
    x = torch.as_tensor(x0)
    dtype = x.dtype
    flat = x.reshape(x.shape[0], -1)
    if flat.dtype not in (torch.float32, torch.float64):
        flat = flat.float()
    s = torch.quantile(flat.abs(), ratio, dim=1).clamp(min=1.0, max=max_value).unsqueeze(1)
    return (flat.clamp(-s, s) / s).reshape(x.shape).to(dtype)


def static_threshold(x0: Any, limit: float = 1.0) -> torch.Tensor:
    """Static thresholding: clip x̂0 to [−limit, limit] (``clip_sample=True``, ``clip_sample_range``)."""
    return torch.as_tensor(x0).clamp(-limit, limit)


def threshold(x0: torch.Tensor, method: str, ratio: float = 0.995, max_value: float = 1.0) -> torch.Tensor:
    if method == "none":
        return x0
    if method == "static":
        return static_threshold(x0)
    if method == "dynamic":
        return dynamic_threshold(x0, ratio, max_value)
    raise ValueError(f"thresholding must be one of {', '.join(METHODS)}; got {method!r}.")


def ddim_step(scheduler: DDIMScheduler, eps: torch.Tensor, t: int, x: torch.Tensor, method: str = "none",
              ratio: float = 0.995, max_value: float = 1.0) -> tuple[torch.Tensor, torch.Tensor,
                                                                     torch.Tensor]:
    """One deterministic DDIM step (η = 0) of ``scheduler`` (after ``set_timesteps``), ε-prediction.

    Returns ``(x_prev, x0_raw, x0_used)``: the next sample, x̂0 before thresholding and after it. As
    in diffusers, the noise direction keeps the model's ε (``use_clipped_model_output=False``).
    """
    ac = scheduler.alphas_cumprod
    step = scheduler.config.num_train_timesteps // scheduler.num_inference_steps
    prev = t - step
    a_t = ac[t]
    a_prev = ac[prev] if prev >= 0 else scheduler.final_alpha_cumprod
    x0_raw = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
    x0 = threshold(x0_raw, method, ratio, max_value)
    x_prev = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x_prev, x0_raw, x0


@dataclass
class SweepResult:
    """Final samples ``(M, S, C, H, W)`` for methods × scales, and per-step statistics of x̂0.

    ``stats[name][m, s, k]`` for step k: ``beyond`` = share of x̂0's values outside [−1, 1] before
    thresholding, ``p_abs`` = the ratio-th percentile of |x̂0| (the dynamic threshold's s before it is
    clamped), ``saturated`` = share of the final image's values at ±1 (within 1/255) after the pipeline's
    clamp.
    """

    methods: tuple[str, ...]
    scales: tuple[float, ...]
    timesteps: list[int]
    samples: np.ndarray
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    saturated: np.ndarray | None = None


def sweep(unet: torch.nn.Module, scheduler: SchedulerMixin, *, label: int, null_class: int,
          scales: Sequence[float], methods: Sequence[str] = METHODS, steps: int = 25, seed: int = 0,
          ratio: float = 0.995, max_value: float = 1.0) -> SweepResult:
    """One DDIM run per (method, scale) from the same initial noise, batched into one UNet call a step."""
    *_, last = sweep_stream(unet, scheduler, label=label, null_class=null_class, scales=scales,
                            methods=methods, steps=steps, seed=seed, ratio=ratio, max_value=max_value)
    return last


def sweep_stream(unet: torch.nn.Module, scheduler: SchedulerMixin, *, label: int, null_class: int,
                 scales: Sequence[float], methods: Sequence[str] = METHODS, steps: int = 25, seed: int = 0,
                 ratio: float = 0.995, max_value: float = 1.0) -> Iterator[SweepResult]:
    """:func:`sweep` step by step: after step k, a :class:`SweepResult` whose ``samples`` are the
    current x_{t_k−1}, whose statistics hold steps 0 … k, and (last) whose ``saturated`` is set."""
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"thresholding must be one of {', '.join(METHODS)}; got {m!r}.")
    sched = DDIMScheduler.from_config(scheduler.config, clip_sample=False, thresholding=False)
    sched.set_timesteps(steps)
    cfg = unet.config
    size = cfg.sample_size if isinstance(cfg.sample_size, int) else cfg.sample_size[0]
    generator = torch.Generator().manual_seed(int(seed))
    noise = randn_tensor((1, cfg.in_channels, size, size), generator=generator, dtype=unet.dtype)
    n_m, n_s = len(methods), len(scales)
    x = noise.repeat(n_m * n_s, 1, 1, 1)
    w = torch.tensor([float(s) for _ in methods for s in scales], dtype=x.dtype).view(-1, 1, 1, 1)
    labels = torch.full((x.shape[0],), int(label), dtype=torch.long)
    nulls = torch.full_like(labels, int(null_class))
    beyond = np.zeros((n_m, n_s, steps))
    p_abs = np.zeros((n_m, n_s, steps))
    timesteps = [int(t) for t in sched.timesteps]
    for k, t in enumerate(timesteps):
        with torch.no_grad():
            both = unet(torch.cat([x, x]), t, class_labels=torch.cat([nulls, labels])).sample
        eps_u, eps_c = both.chunk(2)
        eps = eps_u + w * (eps_c - eps_u)
        outs = []
        for i, m in enumerate(methods):
            part = slice(i * n_s, (i + 1) * n_s)
            x_prev, raw, _ = ddim_step(sched, eps[part], t, x[part], m, ratio, max_value)
            flat = raw.reshape(n_s, -1)
            beyond[i, :, k] = (flat.abs() > 1).float().mean(1).numpy()
            p_abs[i, :, k] = torch.quantile(flat.abs().float(), ratio, dim=1).numpy()
            outs.append(x_prev)
        x = torch.cat(outs)
        current = x.reshape(n_m, n_s, *x.shape[1:]).numpy()
        stats = {"beyond": beyond[:, :, :k + 1].copy(), "p_abs": p_abs[:, :, :k + 1].copy()}
        saturated = saturation(current) if k == len(timesteps) - 1 else None
        yield SweepResult(tuple(methods), tuple(float(s) for s in scales), timesteps, current, stats,
                          saturated)


def saturation(samples: np.ndarray) -> np.ndarray:
    """Share of each final image's values at the ends of the range (within 1/255) after the pipeline's
    ``(x / 2 + 0.5).clamp(0, 1)``; ``samples`` ``(…, C, H, W)`` → ``(…)``."""
    unit = np.clip(samples / 2 + 0.5, 0, 1)
    flat = unit.reshape(*samples.shape[:-3], -1)
    return ((flat <= 1 / 255) | (flat >= 254 / 255)).mean(-1)
