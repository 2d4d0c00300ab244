"""Compare-lesson benchmarks: per-model latency and fvcore MACs, and what a heatmap costs.

For each classifier: a plain batch-1 forward (the baseline) against the heatmap the lesson draws
(Grad-CAM = :mod:`core.cam`, a forward with the backward stopped at the target layer; rollout = a
forward with qkv hooks), interleaved in the same run. One more row times the whole default lesson run
(three embedded models, cards, faithfulness) against the three plain forwards it contains. Random
weights are enough: cost does not depend on them.

The Grad-CAM rows (issue 16's goal: Grad-CAM ≤ 1.2× the plain forward on ResNet-50 at 224² on one
thread) time ``core.cam.grad_cam`` and ``pytorch_grad_cam.GradCAM`` against the same plain forward,
all three interleaved in one loop.

``python -m bench.compare [--quick]``; threads from ``LENSLAB_BENCH_THREADS`` (default: torch's).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

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


def _interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, run in turn inside one loop (so load hits all alike)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


GRADCAM_GOAL = 1.2


def gradcam_rows(repeat: int, name: str = "resnet50", threads: int = 1) -> list[Row]:
    """ResNet-50 at 224² on one thread: our Grad-CAM and pytorch-grad-cam's against a plain forward."""
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from core import cam, zoo
    from core import compare as lesson
    from core.images import load_image
    from core.zoo import ASSETS

    loaded = zoo.load_model(name, "random")
    model = loaded.model
    x = zoo.preprocess(loaded, load_image(ASSETS / "images" / "chelsea-cat.jpg"))
    spec = lesson.cam_spec(model, x.shape[-1])
    with torch.inference_mode():
        target = int(model(x).argmax())

    def forward() -> object:
        with torch.inference_mode():
            return model(x)

    def ours() -> object:
        return cam.grad_cam(model, x, target, spec.layer, spec.reshape)

    def library() -> object:
        ref = GradCAM(model=model, target_layers=[spec.layer], reshape_transform=spec.reshape)
        ref.compute_input_gradient = True  # the zoo's model is frozen: the graph starts at the input
        try:
            with torch.enable_grad():
                return ref(input_tensor=x.clone(), targets=[ClassifierOutputTarget(target)])
        finally:
            ref.activations_and_grads.release()

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        t = _interleaved({"forward": forward, "ours": ours, "library": library}, repeat)
    finally:
        torch.set_num_threads(before)
    size = f"{name} {x.shape[-1]}² · {threads} thread{'s' if threads > 1 else ''}"
    return [
        Row(LESSON, f"{size}: Grad-CAM (core.cam, backward stopped at {spec.layer_name})", "plain forward",
            t["forward"], t["ours"], goal=GRADCAM_GOAL,
            note=f"forward {1e3 * t['forward']:.1f} ms; {t['library'] / t['ours']:.2f}× faster than "
                 "pytorch-grad-cam"),
        Row(LESSON, f"{size}: Grad-CAM (pytorch_grad_cam.GradCAM)", "plain forward", t["forward"],
            t["library"], note="hooks, a graph from the input, a full backward"),
    ]


def run(quick: bool = False) -> list[Row]:
    threads = os.environ.get("LENSLAB_BENCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    repeat = 3 if quick else 7
    rows = gradcam_rows(7 if quick else 21)
    rows += model_rows(QUICK_MODELS if quick else FULL_MODELS, repeat)
    rows.append(lesson_row(2 if quick else 5))
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
