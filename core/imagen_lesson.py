"""The diffusion lesson's Imagen part: a guidance × thresholding sweep, a base + super-resolution cascade.

Two runs, each streamed (a result after every few steps, like :func:`core.diffusion.run_stream`):

* :func:`sweep_stream` — one seed and one ShapesWorld class at guidance scales 1 … ``max_guidance`` under
  no thresholding, static clipping and dynamic thresholding (:func:`core.imagen.sweep_stream`), with the
  share of saturated pixels and the statistics of x̂0 per step. The only class-conditional model is the
  embedded ``ddpm-shapes`` (the Hub CIFAR-10 DDPM is unconditional: it has no guidance to sweep). That
  model was trained and is sampled with ``clip_sample`` and saturates many pixels even at w = 1 without
  it, so the summary states saturation *relative to w = 1* as well.
* :func:`cascade_stream` — a 32² base sample (``ddpm-shapes``, or the CIFAR-10 DDPM when online), then the
  ``sr-shapes`` super-resolution model (32² → 64², :mod:`core.cascade`) at augmentation level 0 and at
  the chosen level, and the same SR on a crop of the user's photo, next to bicubic upsampling.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from core import zoo
from core.cascade import HIGH, LOW, downsample, image_of, sr_scheduler, super_resolve_steps, upsample
from core.diffusion import MODELS, NONE_LABEL, denoise, from_unit, sampler_scheduler, to_unit
from core.imagen import CASCADE_PARAMS, IMAGEN_PARAMS, METHODS
from core.imagen import sweep_stream as _sweep_stream
from core.lesson import LessonResult
from core.viz.words import say

__all__ = ["CASCADE_PARAMS", "IMAGEN_PARAMS", "SCALES", "cascade", "cascade_stream", "guidance_scales",
           "load_sr", "sweep", "sweep_stream"]

#: The guidance scales of the sweep, cut at ``max_guidance`` (which is always included).
SCALES = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0)
_I = {p.name: p for p in IMAGEN_PARAMS}
_C = {p.name: p for p in CASCADE_PARAMS}
BASE_STEPS = 25
BASE_GUIDANCE = 2.0
TILE = 96
VIEW = 160


def guidance_scales(max_guidance: float) -> tuple[float, ...]:
    """The sweep's scales: :data:`SCALES` below ``max_guidance``, then ``max_guidance`` itself."""
    top = float(max_guidance)
    return (*[s for s in SCALES if s < top], top)


def _shapes_unet(weights: str) -> tuple[zoo.Loaded, Any]:
    loaded = zoo.load_model("ddpm-shapes", weights)
    return loaded, loaded.extras["scheduler"]


def sweep(**params: Any) -> LessonResult:
    """The guidance sweep's final result (the last of :func:`sweep_stream`)."""
    *_, last = sweep_stream(**params)
    return last


def sweep_stream(shape: str = "circle", max_guidance: float = 10.0, percentile: float = 99.5,
                 sweep_steps: int = 25, sweep_seed: int = 0, weights: str = "auto",
                 every: int = 5) -> Iterator[LessonResult]:
    """Guidance × thresholding on ``ddpm-shapes``: a result every ``every`` steps and after the last."""
    from core.viz.imagen import stats_figure, sweep_grid

    shape = _I["shape"].check(shape)
    max_guidance = _I["max_guidance"].check(max_guidance)
    percentile = _I["percentile"].check(percentile)
    steps = _I["sweep_steps"].check(sweep_steps)
    seed = _I["sweep_seed"].check(sweep_seed)
    every = max(1, int(every))
    loaded, scheduler = _shapes_unet(weights)
    unet = loaded.model
    null = unet.config.num_class_embeds - 1
    scales = guidance_scales(max_guidance)
    ratio = percentile / 100.0
    stream = _sweep_stream(unet, scheduler, label=zoo.SHAPE_CLASSES.index(shape), null_class=null,
                           scales=scales, methods=METHODS, steps=steps, seed=seed, ratio=ratio,
                           max_value=float("inf"))
    for k, res in enumerate(stream):
        last = res.saturated is not None
        if not (last or k % every == 0):
            continue
        tiles = [[from_unit(res.samples[m, s]) for s in range(len(scales))] for m in range(len(METHODS))]
        sat = res.saturated if last else None
        notes = [[say("sat {pct:.0f}%", pct=100 * sat[m, s]) if last else say("step {k}", k=k + 1)
                  for s in range(len(scales))]
                 for m in range(len(METHODS))]
        images = {"sweep": sweep_grid(tiles, METHODS, scales, notes, TILE)}
        if last:
            images["stats"] = stats_figure(METHODS, scales, sat, res.stats["p_abs"], res.stats["beyond"],
                                           ratio)
        summary = _sweep_summary(loaded, shape, scales, ratio, steps, seed, k, res)
        captions = {"sweep": f"class '{shape}', seed {seed}: rows none / static / dynamic "
                             f"(p = {percentile:g} %), columns w = {', '.join(f'{s:g}' for s in scales)}",
                    "stats": "saturation vs w, and x̂0's statistics per step at the largest w"}
        yield LessonResult(images=images, summary=summary, captions=captions)


def _sweep_summary(loaded: zoo.Loaded, shape: str, scales: tuple[float, ...], ratio: float, steps: int,
                   seed: int, k: int, res: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "progress": (k + 1) / steps, "step": k + 1, "total_steps": steps, "model": "ddpm-shapes",
        "weights_source": loaded.source, "weights_status": loaded.status, "class": shape,
        "guidance_scales": list(scales), "methods": list(METHODS), "percentile": 100 * ratio, "seed": seed,
        "sampler": "ddim", "timesteps": res.timesteps[:k + 1],
    }
    if res.saturated is not None:
        sat = res.saturated
        summary["saturated"] = {m: [float(v) for v in sat[i]] for i, m in enumerate(METHODS)}
        p_abs, beyond = res.stats["p_abs"], res.stats["beyond"]

        def per_method(values: np.ndarray) -> dict[str, list[float]]:
            return {m: [float(v) for v in values[i]] for i, m in enumerate(METHODS)}

        summary["saturated_vs_w1"] = per_method(sat - sat[:, :1])
        summary["final_p_abs"] = per_method(p_abs[:, :, -1])
        summary["max_p_abs"] = per_method(p_abs.max(-1))
        summary["mean_beyond"] = per_method(beyond.mean(-1))
        summary["note"] = ("ddpm-shapes was trained and is sampled with clip_sample, so without thresholding "
                           "it saturates pixels even at w = 1; compare each row with its own w = 1 column "
                           "(saturated_vs_w1).")
    return summary


# --------------------------------------------------------------------------------------------- #
# the cascade


def load_sr(weights: str = "auto") -> zoo.Loaded:
    """The ``sr-shapes`` model (embedded; ``random`` for an untrained one)."""
    return zoo.load_model("sr-shapes", "embedded" if weights in ("auto", "hub", "package") else weights)


def cascade(image: Any = None, **params: Any) -> LessonResult:
    """The cascade's final result (the last of :func:`cascade_stream`)."""
    *_, last = cascade_stream(image, **params)
    return last


def _photo_pair(image: Any, crop: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The centre crop (``crop`` of the short side) of the photo at 64² and its area-downsampled 32²."""
    from core.images import load_image

    rgb = load_image(image)
    h, w = rgb.shape[:2]
    side = max(2, round(min(h, w) * crop))
    y, x = (h - side) // 2, (w - side) // 2
    high = to_unit(rgb[y:y + side, x:x + side], HIGH)
    high = high if high.ndim == 4 else high.unsqueeze(0)
    return high, downsample(high, LOW)


def cascade_stream(image: Any = None, model: str = "ddpm-shapes", weights: str = "auto",
                   base_class: str = "star", guidance: float = BASE_GUIDANCE, aug: int = 50,
                   sr_steps: int = 20, crop: float = 0.5, cascade_seed: int = 0,
                   every: int = 5) -> Iterator[LessonResult]:
    """Base 32² sample → SR 64² (aug 0 and ``aug``); the photo's crop through the same SR model.

    Streams the base model's steps, then the SR model's (one batch: the base sample at level 0, at
    ``aug``, and the photo's crop at ``aug``).
    """
    from torchmetrics.functional.image import peak_signal_noise_ratio

    from core.viz.diffusion import filmstrip
    from core.viz.imagen import labelled_strip

    if model not in MODELS:
        raise ValueError(f"Model must be one of {', '.join(MODELS)}; got {model!r}.")
    base_class = _C["base_class"].check(base_class)
    aug = _C["aug"].check(aug)
    sr_steps = _C["sr_steps"].check(sr_steps)
    crop = _C["crop"].check(crop)
    seed = _C["cascade_seed"].check(cascade_seed)
    every = max(1, int(every))
    if image is None:
        raise ValueError("The cascade also super-resolves a crop of your photo: upload one.")
    photo_high, photo_low = _photo_pair(image, crop)
    base = zoo.load_model(model, weights)
    unet = base.model
    n_class = getattr(unet.config, "num_class_embeds", None)
    labels = null = None
    if n_class:
        null = n_class - 1
        labels = null if base_class == NONE_LABEL else zoo.SHAPE_CLASSES.index(base_class)
    gen = torch.Generator().manual_seed(seed)
    sched = sampler_scheduler(base.extras["scheduler"], "ddim")
    base_note = (f"class '{base_class}', w = {guidance:g}" if n_class and base_class != NONE_LABEL
                 else "unconditional")
    film_x: list[np.ndarray] = []
    film_x0: list[np.ndarray] = []
    film_t: list[int] = []
    low = None
    for step in denoise(unet, sched, num_inference_steps=BASE_STEPS, generator=gen, class_labels=labels,
                        guidance_scale=float(guidance) if labels != null else 1.0, null_class=null):
        done = step.index == step.total - 1
        low = torch.from_numpy(step.sample).clamp(-1, 1) if done else None
        if done or step.index % every == 0:
            view = from_unit(step.sample if done else step.pred_original)
            title = say("base 32²") if done else say("base 32² (x̂0 so far)")
            images = {"cascade": labelled_strip([view], [title], VIEW)}
            progress = _cascade_progress(base, "base", step.index + 1, step.total, sr_steps, base_note, aug)
            captions = {"cascade": f"base model {model}: step {step.index + 1}/{step.total}"}
            yield LessonResult(images=images, summary=progress, captions=captions)
    assert low is not None
    if low.shape[-1] != LOW:
        low = torch.nn.functional.interpolate(low, size=(LOW, LOW), mode="area")
    sr = load_sr(weights)
    batch = torch.cat([low, low, photo_low])
    levels = [0, aug, aug]
    sr_sample = None
    for step in super_resolve_steps(sr.model, sr_scheduler(), batch, aug=levels, steps=sr_steps, seed=seed):
        done = step.index == step.total - 1
        if not (done or step.index % every == 0):
            continue
        # the sampler's arrays are residuals over bicubic: shown as bicubic + residual
        film_x.append(from_unit(image_of(step.x_t[1:2], low)))
        film_x0.append(from_unit(image_of(step.pred_original[1:2], low)))
        film_t.append(step.t)
        sr_sample = image_of(step.sample if done else step.pred_original, batch)
        bicubic = upsample(low).clamp(-1, 1)
        images = {
            "cascade": labelled_strip([from_unit(low[0]), from_unit(bicubic[0]), from_unit(sr_sample[0]),
                                       from_unit(sr_sample[1])],
                                      [say("base 32²"), say("bicubic 64²"), say("SR 64², aug 0"),
                                       say("SR 64², aug {aug}", aug=aug)],
                                      VIEW),
            "sr_film": filmstrip(film_x, film_x0, film_t, 80),
        }
        summary = _cascade_progress(base, "sr", step.index + 1, step.total, sr_steps, base_note, aug)
        summary["sr_weights_source"], summary["sr_weights_status"] = sr.source, sr.status
        captions = {"cascade": f"cascade: {base_note} → SR (step {step.index + 1}/{step.total})",
                    "sr_film": f"SR trajectory at aug {aug}: bicubic + x_t (top) and bicubic + x̂0 "
                               "(bottom) of the residual"}
        if done:
            photo_bicubic = upsample(photo_low).clamp(-1, 1)
            photo_sr = sr_sample[2:3]
            (pb, sb), (ps, ss) = _scores(photo_bicubic, photo_high), _scores(photo_sr, photo_high)
            images["photo"] = labelled_strip(
                [from_unit(photo_high[0]), from_unit(photo_low[0]), from_unit(photo_bicubic[0]),
                 from_unit(photo_sr[0])],
                [say("your crop, 64²"), say("its 32²"), say("bicubic {db:.1f} dB", db=pb),
                 say("SR {db:.1f} dB", db=ps)], VIEW)
            captions["photo"] = (f"a {crop:g} crop of your photo at 32² → 64²: bicubic PSNR {pb:.2f} dB"
                                 " / "
                                 f"SSIM {sb:.3f}, SR (aug {aug}) {ps:.2f} dB / {ss:.3f}")
            diff = float((sr_sample[0] - sr_sample[1]).abs().mean() / 2)
            summary.update({"photo_psnr_bicubic": pb, "photo_ssim_bicubic": sb, "photo_psnr_sr": ps,
                            "photo_ssim_sr": ss, "sr_aug0_vs_aug_mean_abs": diff,
                            "base_sr_psnr_vs_bicubic": float(peak_signal_noise_ratio(
                                (sr_sample[1:2] + 1) / 2, (bicubic + 1) / 2, data_range=1.0))})
        yield LessonResult(images=images, summary=summary, captions=captions)


def _scores(pred: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
    """PSNR (dB) and SSIM of ``pred`` against ``target`` (both in [−1, 1]), torchmetrics on [0, 1]."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    a, b = (pred + 1) / 2, (target + 1) / 2
    return (float(peak_signal_noise_ratio(a, b, data_range=1.0)),
            float(structural_similarity_index_measure(a, b, data_range=1.0)))


def _cascade_progress(base: zoo.Loaded, stage: str, step: int, total: int, sr_steps: int, base_note: str,
                      aug: int) -> dict[str, Any]:
    from core.cascade import sr_scheduler as _sched

    done = step + (BASE_STEPS if stage == "sr" else 0)
    alpha_bar = float(_sched().alphas_cumprod[aug])
    return {"progress": done / (BASE_STEPS + sr_steps), "stage": stage, "step": step, "total_steps": total,
            "model": base.requested, "weights_source": base.source, "weights_status": base.status,
            "base": base_note, "base_steps": BASE_STEPS, "sr_steps": sr_steps, "aug": aug,
            "aug_alpha_bar": alpha_bar, "aug_signal_scale": alpha_bar ** 0.5,
            "aug_noise_scale": (1 - alpha_bar) ** 0.5, "resolution": [LOW, HIGH]}
