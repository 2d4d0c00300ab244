"""Diffusion, opened up: the forward noising, the β/ᾱ/SNR schedules, and the reverse loop step by step.

The reverse loop (:func:`denoise`) is diffusers' own pipeline loop made visible: it calls a diffusers
scheduler's ``step()`` exactly as ``DDPMPipeline`` / ``DDIMPipeline`` do (same random draws, same
dtypes), but yields every step's ``(t, sample, pred_original)`` instead of only the final image, so a
page can stream ``x_t`` and the predicted clean image ``x̂0``. With an ``init`` image and
``strength < 1`` it is SDEdit: start part-way down the schedule from the image noised by
:func:`add_noise`. A class-conditional UNet gets classifier-free guidance.

:func:`run` is the lesson (``run(image, **params) -> LessonResult``); :func:`run_stream` yields the
same result progressively for streaming pages; :func:`forward` is the forward-process view.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler, SchedulerMixin
from diffusers.utils.torch_utils import randn_tensor

from core import zoo
from core.imagen import (  # noqa: F401 - the page's Imagen endpoints' checks
    CASCADE_PARAMS,
    IMAGEN_PARAMS,
    dynamic_threshold,  # noqa: F401 - the API names it here (Imagen's thresholding)
)
from core.images import load_image
from core.lesson import LessonResult, Param

__all__ = [
    "PARAMS",
    "SAMPLERS",
    "SCHEDULES",
    "FORWARD_PARAMS",
    "DenoiseStep",
    "ScheduleCurves",
    "add_noise",
    "denoise",
    "dynamic_threshold",
    "forward",
    "from_unit",
    "make_scheduler",
    "run",
    "run_stream",
    "sampler_scheduler",
    "schedule_curves",
    "sdedit_start",
    "to_unit",
]

#: Lesson name → diffusers ``beta_schedule``. "cosine" is Nichol & Dhariwal's ᾱ_t = cos²(…) schedule,
#: which diffusers calls "squaredcos_cap_v2" (β capped at 0.999).
SCHEDULES: dict[str, str] = {
    "linear": "linear",
    "scaled-linear": "scaled_linear",
    "cosine": "squaredcos_cap_v2",
}
SAMPLERS: dict[str, type[SchedulerMixin]] = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler}
MODELS = ("ddpm-shapes", "ddpm-cifar10")
NONE_LABEL = "none"


# --------------------------------------------------------------------------------------------- #
# schedules and the forward process


def make_scheduler(schedule: str = "linear", num_train_timesteps: int = 1000, sampler: str = "ddpm",
                   **config: Any) -> SchedulerMixin:
    """A diffusers scheduler with DDPM's defaults (β 1e-4 → 0.02, T = 1000) and the named β schedule."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}.")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}; got {sampler!r}.")
    return SAMPLERS[sampler](num_train_timesteps=num_train_timesteps, beta_schedule=SCHEDULES[schedule],
                             **config)


def sampler_scheduler(scheduler: SchedulerMixin, sampler: str) -> SchedulerMixin:
    """A fresh scheduler of kind ``sampler`` ("ddpm" or "ddim") with ``scheduler``'s training config.

    The β schedule belongs to the trained model, so it is kept; only the update rule changes. (This
    is what ``DDIMPipeline`` does with any scheduler it is given.)
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}; got {sampler!r}.")
    return SAMPLERS[sampler].from_config(scheduler.config)


@dataclass(frozen=True)
class ScheduleCurves:
    """β_t, α_t = 1 − β_t, ᾱ_t = Π α_s and SNR_t = ᾱ_t / (1 − ᾱ_t) for t = 0 … T−1 (float64)."""

    name: str
    t: np.ndarray
    beta: np.ndarray
    alpha_bar: np.ndarray
    snr: np.ndarray

    def at(self, t: int) -> dict[str, float]:
        a = float(self.alpha_bar[t])
        return {"t": int(t), "beta": float(self.beta[t]), "alpha_bar": a, "snr": float(self.snr[t]),
                "signal_scale": a ** 0.5, "noise_scale": (1.0 - a) ** 0.5}


def schedule_curves(schedule: str | SchedulerMixin = "linear", num_train_timesteps: int = 1000
                    ) -> ScheduleCurves:
    """The schedule's curves, read from a diffusers scheduler (so they are exactly what it uses)."""
    sched = make_scheduler(schedule, num_train_timesteps) if isinstance(schedule, str) else schedule
    beta = sched.betas.double().numpy()
    alpha_bar = sched.alphas_cumprod.double().numpy()
    name = schedule if isinstance(schedule, str) else str(sched.config.beta_schedule)
    with np.errstate(divide="ignore"):
        snr = alpha_bar / (1.0 - alpha_bar)
    return ScheduleCurves(name, np.arange(len(beta)), beta, alpha_bar, snr)


def add_noise(x0: Any, t: Any, noise: Any, scheduler: SchedulerMixin) -> Any:
    """The forward process in one shot: x_t = √ᾱ_t · x0 + √(1 − ᾱ_t) · ε.

    ``t`` is an int or one timestep per batch item; ᾱ comes from ``scheduler.alphas_cumprod``, cast
    to ``x0``'s dtype first, as diffusers' ``add_noise`` does, so the two agree exactly. Numpy in,
    numpy out; torch in, torch out.
    """
    as_numpy = isinstance(x0, np.ndarray)
    x = torch.from_numpy(x0) if as_numpy else x0
    eps = torch.from_numpy(np.asarray(noise)) if isinstance(noise, np.ndarray) else noise
    eps = eps.to(device=x.device, dtype=x.dtype)
    steps = torch.as_tensor(t, dtype=torch.long).reshape(-1).to(x.device)
    n = int(scheduler.config.num_train_timesteps)
    if bool(((steps < 0) | (steps >= n)).any()):
        raise ValueError(f"t must be between 0 and {n - 1}; got {steps.tolist()}.")
    alpha_bar = scheduler.alphas_cumprod.to(device=x.device, dtype=x.dtype)[steps]
    shape = (-1,) + (1,) * (x.ndim - 1)
    signal = (alpha_bar ** 0.5).reshape(shape)
    noise_scale = ((1 - alpha_bar) ** 0.5).reshape(shape)
    out = signal * x + noise_scale * eps
    return out.numpy() if as_numpy else out


def to_unit(image: np.ndarray, size: int | None = None) -> torch.Tensor:
    """RGB uint8 (H, W, 3) → (1, 3, S, S) float32 in [−1, 1]: centre square crop, area resize to ``size``."""
    rgb = load_image(image)
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = rgb[top:top + side, left:left + side]
    if size is not None and size != side:
        interp = cv2.INTER_AREA if size < side else cv2.INTER_CUBIC
        square = cv2.resize(square, (size, size), interpolation=interp)
    x = torch.from_numpy(np.ascontiguousarray(square)).permute(2, 0, 1).float() / 127.5 - 1.0
    return x.unsqueeze(0)


def from_unit(x: Any) -> np.ndarray:
    """(C, H, W) or (1, C, H, W) in [−1, 1] → RGB uint8, as the pipelines do: (x / 2 + 0.5).clamp(0, 1)."""
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).float()
    if t.ndim == 4:
        t = t[0]
    img = (t / 2 + 0.5).clamp(0, 1).permute(1, 2, 0).numpy()
    return (img * 255).round().astype(np.uint8)


# --------------------------------------------------------------------------------------------- #
# the reverse process


@dataclass
class DenoiseStep:
    """One reverse step. Unpacks as ``(t, sample, pred_original)``.

    ``x_t`` is the step's input, ``sample`` its output x_{t−1} (x at the next, smaller timestep — not
    the clean image), ``pred_original`` the model's current estimate x̂0 of the clean image. Arrays
    are numpy ``(B, C, H, W)`` in the model's [−1, 1] range.
    """

    index: int
    total: int
    t: int
    x_t: np.ndarray
    sample: np.ndarray
    pred_original: np.ndarray

    def __iter__(self) -> Iterator[Any]:
        return iter((self.t, self.sample, self.pred_original))


def sdedit_start(num_inference_steps: int, strength: float) -> int:
    """Index of the first step SDEdit runs: skip the noisiest ``(1 − strength)`` of the schedule.

    The same rule as diffusers' img2img pipelines: ``init = min(int(steps · strength), steps)``
    steps are run, starting at index ``steps − init``.
    """
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be in (0, 1]; got {strength}.")
    init = min(int(num_inference_steps * strength), num_inference_steps)
    if init < 1:
        raise ValueError(f"strength {strength} with {num_inference_steps} steps runs no step at all; "
                         "raise the strength or the number of steps.")
    return num_inference_steps - init


def denoise(unet: torch.nn.Module, scheduler: SchedulerMixin, *, num_inference_steps: int,
            generator: torch.Generator | None = None, init: Any = None, strength: float = 1.0,
            eta: float = 0.0, class_labels: Any = None, guidance_scale: float = 1.0,
            null_class: int | None = None, batch_size: int = 1, cond: Any = None) -> Iterator[DenoiseStep]:
    """Run the reverse process, yielding every step (see :class:`DenoiseStep`).

    The update rule is the scheduler's: a ``DDPMScheduler`` samples DDPM's ancestral steps, a
    ``DDIMScheduler`` DDIM's (``eta`` = 0 deterministic, 1 DDPM-like noise). The scheduler given is
    never modified (a private copy takes ``set_timesteps``), so a shared model's scheduler is safe.

    * ``init=None`` (and ``strength=1``): start from Gaussian noise drawn like the pipelines do —
      the last ``sample`` then equals ``DDPMPipeline`` / ``DDIMPipeline``'s output before
      ``(x / 2 + 0.5).clamp(0, 1)``.
    * ``init`` = an image in [−1, 1], ``(B, C, H, W)`` or ``(C, H, W)``: SDEdit. Only the last
      ``strength`` share of the steps runs, from ``add_noise(init, t_start, ε)``.
    * ``class_labels`` for a class-conditional UNet; with ``guidance_scale != 1`` and ``null_class``,
      classifier-free guidance ε̃ = ε(x) + s · (ε(x, c) − ε(x)) where ε(x) is the null-class prediction.
    * ``cond`` ``(B, C', H, W)``: extra input channels concatenated to x_t at every step (a cascade's
      super-resolution model sees its upsampled low-resolution image this way, :mod:`core.cascade`);
      the sample then has ``in_channels − C'`` channels. With a UNet whose ``class_embed_type`` is
      ``"timestep"``, ``class_labels`` carries a level (the cascade's noise-augmentation timestep).
    The same function samples the base model and the super-resolution model: no second sampler.
    """
    if num_inference_steps < 1:
        raise ValueError(f"num_inference_steps must be at least 1; got {num_inference_steps}.")
    sched = type(scheduler).from_config(scheduler.config)
    is_ddim = isinstance(sched, DDIMScheduler)
    if eta != 0.0 and not is_ddim:
        raise ValueError("η (eta) belongs to DDIM; the DDPM sampler has no η (its noise is fixed by β).")
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"η must be between 0 and 1; got {eta}.")
    sched.set_timesteps(num_inference_steps)
    timesteps = sched.timesteps
    device, dtype = unet.device, unet.dtype
    cfg = unet.config
    if cond is not None:
        cond = torch.as_tensor(cond).to(device=device, dtype=dtype)
        cond = cond if cond.ndim == 4 else cond.unsqueeze(0)
        batch_size = cond.shape[0]
    channels = cfg.in_channels - (cond.shape[1] if cond is not None else 0)
    if init is None:
        if strength != 1.0:
            raise ValueError("strength below 1 needs an init image (SDEdit); generation starts at t = T.")
        size = cfg.sample_size
        hw = (size, size) if isinstance(size, int) else tuple(size)
        sample = randn_tensor((batch_size, channels, *hw), generator=generator, device=device,
                              dtype=dtype)
    else:
        x0 = torch.as_tensor(np.asarray(init) if not isinstance(init, torch.Tensor) else init)
        x0 = (x0 if x0.ndim == 4 else x0.unsqueeze(0)).to(device=device, dtype=dtype)
        timesteps = timesteps[sdedit_start(num_inference_steps, strength):]
        noise = randn_tensor(x0.shape, generator=generator, device=device, dtype=dtype)
        sample = add_noise(x0, timesteps[:1].repeat(x0.shape[0]), noise, sched)
    labels = _labels(class_labels, sample.shape[0], device)
    extra = {"eta": eta, "use_clipped_model_output": False} if is_ddim else {}
    total = len(timesteps)
    for i, t in enumerate(timesteps):
        with torch.no_grad():
            eps = _predict(unet, sample, t, labels, guidance_scale, null_class, cond)
            out = sched.step(eps, t, sample, generator=generator, **extra)
        yield DenoiseStep(i, total, int(t), sample.cpu().numpy(), out.prev_sample.cpu().numpy(),
                          out.pred_original_sample.cpu().numpy())
        sample = out.prev_sample


def _labels(class_labels: Any, batch: int, device: torch.device) -> torch.Tensor | None:
    if class_labels is None:
        return None
    labels = torch.as_tensor(class_labels, dtype=torch.long, device=device).reshape(-1)
    return labels.expand(batch) if labels.numel() == 1 else labels


def _predict(unet: torch.nn.Module, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None,
             guidance_scale: float, null_class: int | None, cond: torch.Tensor | None = None) -> torch.Tensor:
    """ε_θ(x_t, t[, c]); with guidance, one batched call for the null and the real class."""
    if cond is not None:
        x = torch.cat([x, cond], dim=1)
    if labels is None:
        return unet(x, t).sample
    if guidance_scale == 1.0 or null_class is None:
        return unet(x, t, class_labels=labels).sample
    null = torch.full_like(labels, null_class)
    both = unet(torch.cat([x, x]), t, class_labels=torch.cat([null, labels])).sample
    eps_uncond, eps_cond = both.chunk(2)
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)


# --------------------------------------------------------------------------------------------- #
# the lesson


PARAMS: list[Param] = [
    Param("model", "choice", "ddpm-cifar10", "Model", "the denoising UNet", choices=MODELS),
    Param("weights", "choice", "auto", "Weights", choices=zoo.WEIGHT_MODES),
    Param("mode", "choice", "sdedit", "Start from",
          "sdedit: the upload noised to the strength's timestep; generate: pure noise",
          choices=("sdedit", "generate")),
    Param("sampler", "choice", "ddim", "Sampler", "DDPM (ancestral, stochastic) or DDIM",
          choices=tuple(SAMPLERS)),
    Param("steps", "int", 50, "Steps", "number of reverse steps (a sub-sequence of the 1000)",
          minimum=1, maximum=1000, step=1),
    Param("eta", "float", 0.0, "η (DDIM)", "DDIM's stochasticity: 0 deterministic, 1 DDPM-like noise",
          minimum=0.0, maximum=1.0, step=0.05),
    Param("strength", "float", 0.6, "SDEdit strength", "how far down the noise schedule the upload goes",
          minimum=0.02, maximum=1.0, step=0.02),
    Param("seed", "int", 0, "Seed", minimum=0, maximum=2**31 - 1, step=1),
    Param("every", "int", 5, "Show every k steps", minimum=1, maximum=100, step=1),
    Param("label", "choice", NONE_LABEL, "Class (class-conditional models)",
          "a ShapesWorld class, or none for the unconditional model",
          choices=(NONE_LABEL, *zoo.SHAPE_CLASSES)),
    Param("guidance", "float", 2.0, "Guidance scale s", "classifier-free guidance; 1 = plain conditional",
          minimum=0.0, maximum=10.0, step=0.5),
]
#: Parameters of :func:`forward` (the forward-process view, its own endpoint on the page).
FORWARD_PARAMS: list[Param] = [
    Param("t", "int", 500, "Timestep t", "how far the forward process has gone (0 … T−1)",
          minimum=0, maximum=999, step=1),
    Param("schedule", "choice", "linear", "β schedule",
          "linear (DDPM), scaled-linear, cosine (Nichol & Dhariwal)", choices=tuple(SCHEDULES)),
    Param("seed", "int", 0, "Seed", minimum=0, maximum=2**31 - 1, step=1),
]
_DEFAULTS = {p.name: p.default for p in PARAMS}
_BY_NAME = {p.name: p for p in PARAMS}
_FWD = {p.name: p for p in FORWARD_PARAMS}
DISPLAY = 256      # pixels of the square views
FILM_TILE = 96     # pixels of a filmstrip tile


def _check(params: dict[str, Any]) -> dict[str, Any]:
    unknown = set(params) - set(_BY_NAME)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(sorted(unknown))}; known: {', '.join(_BY_NAME)}.")
    values = {**_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    return {k: _BY_NAME[k].check(v) for k, v in values.items()}


def forward(image: Any, t: int = 500, schedule: str = "linear", seed: int = 0,
            size: int = DISPLAY) -> LessonResult:
    """The forward process on the upload: x0, ε, x_t at ``t``, a strip over t, and the schedule curves."""
    from core.viz.diffusion import forward_strip, schedule_figure

    t = _FWD["t"].check(t)
    schedule = _FWD["schedule"].check(schedule)
    seed = _FWD["seed"].check(seed)
    sched = make_scheduler(schedule)
    curves = schedule_curves(sched)
    curves = ScheduleCurves(schedule, curves.t, curves.beta, curves.alpha_bar, curves.snr)
    x0 = to_unit(image, size)
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(x0.shape, generator=gen)
    xt = add_noise(x0, t, noise, sched)
    marks = [0, 50, 100, 250, 500, 750, 999]
    strip = [from_unit(add_noise(x0, s, noise, sched)) for s in marks]
    images = {
        "x0": from_unit(x0),
        "noise": from_unit(noise.clamp(-1, 1)),
        "x_t": from_unit(xt),
        "schedule": schedule_figure(schedule, t),
        "forward_strip": forward_strip(strip, [curves.at(s) for s in marks]),
    }
    info = curves.at(t)
    captions = {
        "x0": "x₀ (your image, in [−1, 1])",
        "noise": "ε ~ N(0, I) (shown clipped to [−1, 1])",
        "x_t": f"x_t at t = {t}",
        "schedule": f"β_t, ᾱ_t and SNR ({schedule}), t = {t} marked",
        "forward_strip": "the same ε at growing t",
    }
    final = curves.at(len(curves.t) - 1)
    summary = {"schedule": schedule, "diffusers_beta_schedule": SCHEDULES[schedule], **info,
               "num_train_timesteps": len(curves.t), "alpha_bar_T": final["alpha_bar"],
               "beta_1": float(curves.beta[0]), "beta_T": float(curves.beta[-1]), "seed": int(seed)}
    return LessonResult(images=images, summary=summary, captions=captions)


def run(image: Any = None, **params: Any) -> LessonResult:
    """The reverse process; by default SDEdit from ``image``: the upload at the model's resolution is
    noised to the timestep of ``strength`` (forward) and denoised back (DDIM, 50 steps, strength 0.6).
    ``mode="generate"`` starts from pure noise (``image`` may then be None). The last result of
    :func:`run_stream`."""
    *_, last = run_stream(image, **params)
    return last


def run_stream(image: Any = None, **params: Any) -> Iterator[LessonResult]:
    """:func:`run` step by step: a result after every ``every`` reverse steps and after the last one.

    Every yielded result has the same image keys; ``summary["progress"]`` goes from 0 to 1.
    """
    from core.viz.diffusion import filmstrip, side_by_side, upscale

    p = _check(params)
    loaded = zoo.load_model(p["model"], p["weights"])
    if loaded.entry.task != "diffuse":
        raise ValueError(f"{loaded.entry.title} is not a diffusion model.")
    unet = loaded.model
    base = loaded.extras["scheduler"]
    sched = sampler_scheduler(base, p["sampler"])
    eta = p["eta"] if p["sampler"] == "ddim" else 0.0
    size = unet.config.sample_size
    size = size if isinstance(size, int) else size[0]
    labels, null_class, label_note = _conditioning(unet, p["label"])
    gen = torch.Generator().manual_seed(int(p["seed"]))
    if p["mode"] == "sdedit" and image is None:
        raise ValueError("SDEdit starts from your image: upload one (or choose 'generate').")
    x_init = to_unit(image, size) if p["mode"] == "sdedit" else None
    strength = p["strength"] if p["mode"] == "sdedit" else 1.0
    steps_iter = denoise(unet, sched, num_inference_steps=p["steps"], generator=gen, init=x_init,
                         strength=strength, eta=eta, class_labels=labels, guidance_scale=p["guidance"],
                         null_class=null_class)
    film_xt: list[np.ndarray] = []
    film_x0: list[np.ndarray] = []
    film_t: list[int] = []
    trace: list[dict[str, float]] = []
    start_t: int | None = None
    first = None
    view = DISPLAY
    for step in steps_iter:
        if first is None:
            first = from_unit(step.x_t)
            start_t = step.t
        trace.append({"t": step.t, "x_t_std": float(step.x_t.std()),
                      "x0_std": float(step.pred_original.std())})
        last = step.index == step.total - 1
        if step.index % p["every"] == 0 or last:
            film_xt.append(from_unit(step.x_t))
            film_x0.append(from_unit(step.pred_original))
            film_t.append(step.t)
            if last:
                film_xt.append(from_unit(step.sample))
                film_x0.append(from_unit(step.sample))
                film_t.append(-1)
            images = {
                "x_t": upscale(from_unit(step.sample if last else step.x_t), view),
                "x0_pred": upscale(from_unit(step.pred_original), view),
                "start": upscale(first, view),
                "result": side_by_side(from_unit(x_init) if x_init is not None else first,
                                       from_unit(step.sample) if last else from_unit(step.pred_original),
                                       view),
                "filmstrip": filmstrip(film_xt, film_x0, film_t, FILM_TILE),
            }
            summary = _summary(p, loaded, sched, step, start_t, trace, label_note, size)
            yield LessonResult(images=images, summary=summary, captions=_captions(p, step, start_t, last))


def _conditioning(unet: torch.nn.Module, label: str) -> tuple[int | None, int | None, str]:
    """Class id and null id for a class-conditional UNet (ShapesWorld: classes 0..7, null 8)."""
    n = getattr(unet.config, "num_class_embeds", None)
    if not n:
        if label != NONE_LABEL:
            raise ValueError("This model is unconditional (trained without classes); choose class 'none'.")
        return None, None, "unconditional model"
    null = n - 1
    if label == NONE_LABEL:
        return null, None, "class-conditional model run with the null class (unconditional)"
    return zoo.SHAPE_CLASSES.index(label), null, f"class '{label}'"


def _summary(p: dict[str, Any], loaded: zoo.Loaded, sched: SchedulerMixin, step: DenoiseStep,
             start_t: int | None, trace: list[dict[str, float]], label_note: str,
             size: int) -> dict[str, Any]:
    curves = schedule_curves(sched)
    return {
        "progress": (step.index + 1) / step.total,
        "step": step.index + 1,
        "total_steps": step.total,
        "t": step.t,
        "model": loaded.requested,
        "weights_source": loaded.source,
        "weights_status": loaded.status,
        "resolution": size,
        "mode": p["mode"],
        "sampler": p["sampler"],
        "num_inference_steps": p["steps"],
        "eta": p["eta"] if p["sampler"] == "ddim" else None,
        "strength": p["strength"] if p["mode"] == "sdedit" else 1.0,
        "start_t": start_t,
        "start_alpha_bar": float(curves.alpha_bar[start_t]) if start_t is not None else None,
        "seed": p["seed"],
        "conditioning": label_note,
        "guidance": p["guidance"],
        "timesteps": [row["t"] for row in trace],
        "trace": trace,
    }


def _captions(p: dict[str, Any], step: DenoiseStep, start_t: int | None, last: bool) -> dict[str, str]:
    where = "final sample x₀" if last else f"x_t at t = {step.t}"
    start = ("pure noise x_T" if p["mode"] == "generate"
             else f"the upload noised to t = {start_t} (strength {p['strength']})")
    return {
        "x_t": f"{where} (step {step.index + 1}/{step.total})",
        "x0_pred": f"predicted clean image x̂₀ at t = {step.t}",
        "start": f"start: {start}",
        "result": "input → result" if p["mode"] == "sdedit" else "start noise → result",
        "filmstrip": "trajectory: x_t (top) and x̂₀ (bottom)",
    }
