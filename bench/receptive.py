"""Receptive-field benchmarks: what one ERF costs, and the whole default lesson call.

* One ERF (a forward pass to the chosen stage and one backward pass to the input, for one unit)
  against a forward + backward of the same model (its logits summed, backward to the input),
  interleaved in the same run — goal ≤ 1.5×.
* ``receptive_lesson.run(photo)`` with its defaults (offline: EfficientNet-Lite0 trained and random,
  the Swin and ViT ShapesWorld models trained and random, every stage's ERF, the plain stack, the
  blocks, HRNet) against a 3-second budget — goal ≤ 1×.
* Information rows: the tracer's cost on a ``meta`` skeleton, and building the roadmap once.

``python -m bench.receptive [--quick]``; threads from ``LENSLAB_BENCH_THREADS``, by default the app's own
setting (:func:`core.runtime.configure_threads`: cores // 4 concurrent calls, at least 1 — one thread on 2
cores; two threads per call on a busy 2-core machine oversubscribe it and every timing here doubles).
"""

from __future__ import annotations

import os
import sys
import time

import torch

from bench import Row, compare

LESSON = "receptive"
ERF_MODELS = (("efficientnet-lite0", "auto"), ("resnet50", "random"), ("swin-shapes", "embedded"))


def erf_rows(repeat: int) -> list[Row]:
    from core import receptive, zoo
    from core.images import load_image
    from core.zoo import ASSETS

    image = load_image(ASSETS / "images" / "chelsea-cat.jpg")
    rows = []
    for name, weights in ERF_MODELS:
        loaded = zoo.load_model(name, weights)
        model = loaded.model
        x = zoo.preprocess(loaded, image)
        with torch.no_grad():
            last = model.forward_intermediates(x, indices=[-1], intermediates_only=True)[-1]
        pos = (last.shape[2] // 2, last.shape[3] // 2)

        def erf(model=model, x=x, pos=pos) -> object:
            return receptive.effective_rf(model, x, pos)

        def forward_backward(model=model, x=x) -> object:
            xx = x.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(model(xx).sum(), xx)
            return grad

        ours, base = compare(erf, forward_backward, repeat=repeat)
        rows.append(Row(LESSON, f"one ERF, last stage ({loaded.name}, {x.shape[-1]}²)",
                        "forward + backward of the same model", base, ours, goal=1.5,
                        note=f"({loaded.source} weights)"))
    return rows


def lesson_row(repeat: int) -> Row:
    from core import receptive_lesson
    from core.images import load_image
    from core.zoo import ASSETS

    image = load_image(ASSETS / "images" / "chelsea-cat.jpg")
    start = time.perf_counter()
    result = receptive_lesson.run(image)  # the first call loads the models
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        receptive_lesson.run(image)
        times.append(time.perf_counter() - start)
    times.sort()
    panels = sum(len(row) for row in result.summary["models"])
    return Row(LESSON, f"run() defaults ({panels} ERF panels × every stage, charts, blocks, HRNet)",
               "budget 3 s", 3.0, times[len(times) // 2], goal=1.0,
               note=f"{torch.get_num_threads()} torch threads; first call (loading) {first:.1f} s")


def tracer_row(repeat: int) -> Row:
    import timm

    from core import rftrace

    with torch.device("meta"):
        model = timm.create_model("convnext_tiny").eval()
    x = torch.empty(1, 3, 224, 224, device="meta")

    def traced() -> object:
        return rftrace.trace(model, x, lambda m, t: m.forward_intermediates(t, intermediates_only=True))

    def plain() -> object:
        with torch.no_grad():
            return model.forward_intermediates(x, intermediates_only=True)

    ours, base = compare(traced, plain, repeat=repeat)
    return Row(LESSON, "trace the receptive fields of ConvNeXt-T (meta device, 224²)", "meta forward", base,
               ours, note="shapes only: no arithmetic")


def roadmap_row() -> Row:
    from core import blocks

    blocks._ROADMAPS.clear()  # measure the first build
    start = time.perf_counter()
    steps = blocks.roadmap()
    took = time.perf_counter() - start
    return Row(LESSON, f"build the roadmap once ({len(steps)} steps: params, MACs, ERF at init)",
               "budget 30 s", 30.0, took, note="cached for the process afterwards")


def run(quick: bool = False) -> list[Row]:
    from core import runtime

    threads = os.environ.get("LENSLAB_BENCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    else:
        runtime.configure_threads()
    repeat = 3 if quick else 7
    rows = erf_rows(repeat)
    rows.append(lesson_row(3 if quick else 5))
    rows.append(tracer_row(repeat))
    if not quick:
        rows.append(roadmap_row())
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
