"""Imagen benchmarks: the cost of dynamic thresholding in a 50-step DDIM run, the cascade's default call.

``python -m bench.imagen [--quick]`` (also part of ``python -m bench.diffusion`` and ``python -m bench``);
``torch`` uses 2 threads (the target laptop/Space has 2 cores) unless ``LENSLAB_BENCH_THREADS`` says
otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from bench import Row, compare, timeit

LESSON = "diffusion"
GOAL_THRESHOLD = 1.05
CASCADE_BUDGET_S = 5.0
IMAGE = Path(__file__).resolve().parent.parent / "assets" / "images" / "chelsea-cat.jpg"


def threshold_row(repeat: int, steps: int = 50) -> Row:
    """The same guided 50-step DDIM run (ddpm-shapes, w = 7) with dynamic thresholding and with none."""
    from diffusers import DDIMScheduler

    from core import zoo
    from core.imagen import ddim_step

    loaded = zoo.load_model("ddpm-shapes", "auto")
    unet = loaded.model
    sched = DDIMScheduler.from_config(loaded.extras["scheduler"].config, clip_sample=False)
    sched.set_timesteps(steps)
    labels = torch.tensor([8, 0])

    def run(method: str) -> torch.Tensor:
        x = torch.randn((1, 3, 32, 32), generator=torch.Generator().manual_seed(0))
        for t in sched.timesteps:
            with torch.no_grad():
                eps_u, eps_c = unet(torch.cat([x, x]), t, class_labels=labels).sample.chunk(2)
            x, _, _ = ddim_step(sched, eps_u + 7.0 * (eps_c - eps_u), int(t), x, method, 0.995, float("inf"))
        return x

    t_dynamic, t_none = compare(lambda: run("dynamic"), lambda: run("none"), repeat=repeat, warmup=1)
    return Row(LESSON, f"guided DDIM, {steps} steps, dynamic thresholding (p = 99.5 %)",
               "the same run without thresholding", t_none, t_dynamic, GOAL_THRESHOLD,
               note=f"({loaded.source} weights)")


def threshold_op_row(repeat: int) -> Row:
    """What dynamic thresholding adds to one step, measured alone (robust on a loaded machine): the
    percentile, clip and divide on x̂0 (1 × 3 × 32²) against the step's guided UNet call (batch 2)."""
    from core import zoo
    from core.imagen import dynamic_threshold

    unet = zoo.load_model("ddpm-shapes", "auto").model
    x, t, labels = torch.randn(2, 3, 32, 32), torch.tensor(500), torch.tensor([8, 0])
    x0 = 3 * torch.randn(1, 3, 32, 32)

    def call() -> object:
        with torch.no_grad():
            return unet(x, t, class_labels=labels).sample

    t_op = min(timeit(lambda: dynamic_threshold(x0, 0.995, float("inf")), repeat=50, warmup=5)
               for _ in range(repeat))
    t_call = min(timeit(call, repeat=5, warmup=1) for _ in range(repeat))
    return Row(LESSON, "dynamic thresholding of x̂0, per step (1 × 3 × 32²)", "the step's guided UNet call",
               t_call, t_op, GOAL_THRESHOLD - 1.0)


def cascade_row(repeat: int) -> Row:
    """The page's default /diffusion_cascade computation (base 25 steps + SR 20 steps on 3 images)."""
    from core.imagen_lesson import cascade
    from core.images import load_image

    image = load_image(IMAGE)
    cascade(image)  # warm-up: model loads, first use of matplotlib / cv2 / torchmetrics
    seconds = timeit(lambda: cascade(image), repeat=repeat, warmup=0)
    return Row(LESSON, "default cascade: base 32² (DDIM 25, guided) + SR 64² (DDIM 20) + pictures",
               f"budget {CASCADE_BUDGET_S:g} s", CASCADE_BUDGET_S, seconds, 1.0)


def run(quick: bool = False) -> list[Row]:
    threads = int(os.environ.get("LENSLAB_BENCH_THREADS", "2"))
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return [threshold_row(3 if quick else 7), threshold_op_row(3), cascade_row(2 if quick else 5)]
    finally:
        torch.set_num_threads(previous)


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
