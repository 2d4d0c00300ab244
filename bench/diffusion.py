"""Diffusion benchmarks: the step-by-step loop against diffusers' own pipelines, the UNet per step, and
the page's default run (SDEdit, DDIM 50 steps × strength 0.6 = 30 UNet calls) against a 10 s budget.

``python -m bench.diffusion [--quick]``; ``torch`` uses 2 threads here (the target laptop/Space has 2
cores) unless ``LENSLAB_BENCH_THREADS`` says otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from bench import Row, compare, timeit

LESSON = "diffusion"
GOAL_LOOP = 1.05
BUDGET_S = 10.0
IMAGE = Path(__file__).resolve().parent.parent / "assets" / "images" / "chelsea-cat.jpg"


def _model():
    from core import zoo

    loaded = zoo.load_model("ddpm-shapes", "auto")
    return loaded, f"({loaded.source} weights)"


def loop_rows(repeat: int, steps: int) -> list[Row]:
    """denoise() fully consumed vs DDIMPipeline / DDPMPipeline (output_type="pt"), same UNet and steps."""
    from diffusers import DDIMPipeline, DDPMPipeline

    from core.diffusion import denoise, sampler_scheduler

    loaded, note = _model()
    unet, base = loaded.model, loaded.extras["scheduler"]
    label = torch.tensor([8]) if unet.config.num_class_embeds else None   # the null class: unconditional
    rows = []
    for name, pipe_cls in (("ddim", DDIMPipeline), ("ddpm", DDPMPipeline)):
        sched = sampler_scheduler(base, name)
        pipe = pipe_cls(unet=_Unconditional(unet, label), scheduler=sched)
        pipe.set_progress_bar_config(disable=True)

        def baseline(pipe=pipe) -> object:
            gen = torch.Generator().manual_seed(0)
            return pipe(generator=gen, num_inference_steps=steps, output_type="pt")

        def ours(sched=sched) -> object:
            *_, last = denoise(unet, sched, num_inference_steps=steps, class_labels=label,
                               generator=torch.Generator().manual_seed(0))
            return last

        t_ours, t_base = compare(ours, baseline, repeat=repeat, warmup=1)
        rows.append(Row(LESSON, f"{name.upper()} loop, {steps} steps, yielding every step (ddpm-shapes 32²)",
                        f"diffusers {pipe_cls.__name__}", t_base, t_ours, GOAL_LOOP, note=note))
    return rows


class _Unconditional(torch.nn.Module):
    """The pipelines call ``unet(x, t)``; a class-conditional UNet then needs its (null) class label."""

    def __init__(self, unet: torch.nn.Module, label: torch.Tensor | None):
        super().__init__()
        self.unet, self.label = unet, label
        self.config = unet.config

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    @property
    def device(self) -> torch.device:
        return self.unet.device

    def forward(self, x: torch.Tensor, t: torch.Tensor):  # noqa: D401 - mirrors UNet2DModel.forward
        labels = None if self.label is None else self.label.expand(x.shape[0])
        return self.unet(x, t, class_labels=labels)


def unet_step_row(repeat: int) -> Row:
    """One UNet evaluation at batch 1 (the cost of a reverse step) and with guidance (batch 2)."""
    loaded, note = _model()
    unet = loaded.model
    x = torch.randn(1, 3, 32, 32)
    t = torch.tensor(500)
    label = torch.tensor([2]) if unet.config.num_class_embeds else None

    def single() -> object:
        with torch.no_grad():
            return unet(x, t, class_labels=label).sample

    def guided() -> object:
        with torch.no_grad():
            labels = None if label is None else torch.tensor([8, 2])
            return unet(torch.cat([x, x]), t, class_labels=labels).sample

    t_guided, t_single = compare(guided, single, repeat=repeat * 4, warmup=2)
    params = sum(p.numel() for p in unet.parameters()) / 1e6
    return Row(LESSON, f"UNet step, 32² ({params:.1f} M params): with guidance (batch 2)",
               "one UNet call (batch 1)", t_single, t_guided, None, note=note)


def default_run_row(repeat: int) -> Row:
    """The page's default /diffusion computation (run(image) with defaults) against the 10 s budget."""
    from core.diffusion import run
    from core.images import load_image

    image = load_image(IMAGE)
    run(image)  # warm-up: model load, matplotlib/cv2 first use
    seconds = timeit(lambda: run(image), repeat=repeat, warmup=0)
    return Row(LESSON, "default run: SDEdit, DDIM 50 × strength 0.6 = 30 steps + pictures", "budget 10 s",
               BUDGET_S, seconds, 1.0)


def run(quick: bool = False) -> list[Row]:
    from bench import imagen  # the Imagen tab: thresholding overhead and the cascade's default call

    threads = int(os.environ.get("LENSLAB_BENCH_THREADS", "2"))
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        repeat = 3 if quick else 7
        rows = loop_rows(repeat, steps=20 if quick else 50)
        rows.append(unet_step_row(repeat))
        rows.append(default_run_row(2 if quick else 5))
    finally:
        torch.set_num_threads(previous)
    return rows + imagen.run(quick)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        goal = f" (goal ≤ {row.goal}×) {row.verdict}" if row.goal else ""
        print(f"{row.what}: ours {row.ours_s * 1000:.1f} ms, {row.baseline}: {row.baseline_s * 1000:.1f} ms, "
              f"ratio {row.ratio:.3f}×{goal} {row.note}")
