"""Compare-lesson benchmarks: per-model latency and fvcore MACs, and what a heatmap costs.

For each classifier: a plain batch-1 forward (the baseline) against the heatmap the lesson draws
(Grad-CAM = forward + backward + hooks; rollout = a forward with qkv hooks), interleaved in the same
run. One more row times the whole default lesson run (three embedded models, cards, faithfulness)
against the three plain forwards it contains. Random weights are enough: cost does not depend on them.

``python -m bench.compare [--quick]``; threads from ``LENSLAB_BENCH_THREADS`` (default: torch's).
"""

from __future__ import annotations

import os
import sys

import torch

from bench import Row, compare

LESSON = "compare"
QUICK_MODELS = ("resnet-shapes", "vit-shapes", "swin-shapes")
FULL_MODELS = QUICK_MODELS + ("mobilenetv3", "efficientnet-b0", "resnet18", "regnety-008", "densenet121",
                              "convnext-tiny", "vit-tiny", "swin-tiny", "gmlp-s16", "resmlp-12")


def model_rows(names: tuple[str, ...], repeat: int) -> list[Row]:
    from core import compare as lesson
    from core import zoo
    from core.images import load_image
    from core.zoo import ASSETS

    image = load_image(ASSETS / "images" / "chelsea-cat.jpg")
    rows = []
    for name in names:
        loaded = zoo.load_model(name, "random")
        model = loaded.model
        x = zoo.preprocess(loaded, image)
        spec = lesson.cam_spec(model, x.shape[-1])
        method = "rollout" if spec.family == "vit" else "gradcam"

        def forward(model=model, x=x) -> object:
            with torch.inference_mode():
                return model(x)

        def heatmap(model=model, x=x, method=method, spec=spec) -> object:
            if method == "rollout":
                return lesson.rollout_map(model, x)
            return lesson.grad_cam(model, x, 0, spec=spec)

        ours, base = compare(heatmap, forward, repeat=repeat)
        macs = lesson.count_flops(name, model)
        params = lesson.count_parameters(model)
        rows.append(Row(LESSON, f"{name} {method}", "plain forward", base, ours,
                        note=f"{params / 1e6:.2f} M params, {macs / 1e9:.2f} GMACs @ {x.shape[-1]}px, "
                             f"forward {1e3 * base:.1f} ms"))
    return rows


def lesson_row(repeat: int) -> Row:
    from core import compare as lesson
    from core import zoo
    from core.images import load_image
    from core.zoo import ASSETS

    image = load_image(ASSETS / "images" / "chelsea-cat.jpg")
    loaded = [zoo.load_model(n, "random") for n in QUICK_MODELS]
    inputs = [zoo.preprocess(m, image) for m in loaded]

    def forwards() -> object:
        with torch.inference_mode():
            return [m.model(x) for m, x in zip(loaded, inputs, strict=True)]

    def full() -> object:
        return lesson.run(image, weights="random", latency_runs=1, detectors="none")

    ours, base = compare(full, forwards, repeat=repeat)
    return Row(LESSON, "run() defaults (3 models, heatmaps, faithfulness, cards)", "3 plain forwards",
               base, ours, note="latency_runs=1, no detectors")


def run(quick: bool = False) -> list[Row]:
    threads = os.environ.get("LENSLAB_BENCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    repeat = 3 if quick else 7
    rows = model_rows(QUICK_MODELS if quick else FULL_MODELS, repeat)
    rows.append(lesson_row(2 if quick else 5))
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
