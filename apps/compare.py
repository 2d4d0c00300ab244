"""Compare lesson page: several classifiers (and detectors) on one image, side by side.

Layout and wiring only: one call to :func:`core.compare.run` per click, then render what it returns.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import frame
from core import compare, zoo
from core.models.compare_zoo import COMPARE_CLASSIFIERS

P = {p.name: p for p in compare.PARAMS}
# One architecture per family of the notes, for comparing size, MACs and latency (untrained offline).
FAMILY_LINEUP = ["resnet18", "mobilenetv3", "efficientnet-b0", "regnety-008", "convnext-tiny", "vit-tiny",
                 "swin-tiny", "gmlp-s16"]
ICONS = frame.SOURCE_ICONS


def _run(path: str | None, models: list[str] | str | None = None, weights: str = "auto",
         heatmap: str = "auto", faithfulness: str = "drop20", topk: float = 5, latency_runs: float = 3,
         detectors: str = "auto", score_threshold: float = 0.35) -> tuple[Any, ...]:
    image = frame.read_upload(path)
    if models is None or models == []:
        models = P["models"].default
    spec = models if isinstance(models, str) else ",".join(models)
    result = compare.run(image, models=spec, weights=weights, heatmap=heatmap, faithfulness=faithfulness,
                         topk=int(topk), latency_runs=int(latency_runs), detectors=detectors,
                         score_threshold=float(score_threshold))
    return (
        result.images["classifiers"],
        result.images.get("detectors"),
        result.figures["cost"],
        _status(result.summary),
        result.to_json(),
        frame.save_figures(result, "compare", cols=1),
    )


def _status(summary: dict[str, Any]) -> str:
    """Which weights produced each column (the page must always say so)."""
    lines = [f"{ICONS[m['weights']]} **{m['name']}** — {m['status']}" for m in summary["models"]]
    for d in summary.get("detectors", []):
        lines.append(f"{'📦' if d['available'] else '⏳'} **{d['name']}** — {d['status']}")
    if summary["untrained"]:
        lines.append("⚠️ *Untrained models predict nothing meaningful; their size, MACs and latency are "
                     "real.*")
    return "  \n".join(lines)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Compare models") as demo:
        frame.header("Compare models",
                     "Several architectures look at the same photo: what each predicts, where its evidence "
                     "lies, whether that heatmap is faithful, and what the model costs.")
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input()
                models = gr.Dropdown(choices=[(zoo.get_entry(n).title, n) for n in COMPARE_CLASSIFIERS],
                                     value=list(compare.DEFAULT_MODELS), multiselect=True,
                                     max_choices=compare.MAX_MODELS,
                                     label=P["models"].label, info="Embedded ShapesWorld models run "
                                                                   "offline; the "
                                     "ImageNet ones need the hub (else they run untrained, labelled).")
                weights = gr.Radio(choices=frame.WEIGHT_CHOICES, value=P["weights"].default, label="Weights",
                                   info="random: compare architectures only (size, MACs, latency).")
                with gr.Row():
                    heatmap = gr.Dropdown(choices=list(compare.HEATMAPS), value=P["heatmap"].default,
                                          label=P["heatmap"].label, info=P["heatmap"].help)
                    faithfulness = gr.Dropdown(choices=list(compare.FAITHFULNESS),
                                               value=P["faithfulness"].default, label=P["faithfulness"].label)
                with gr.Accordion("More settings", open=False):
                    topk = gr.Slider(1, 10, value=P["topk"].default, step=1, label=P["topk"].label)
                    latency_runs = gr.Slider(1, 20, value=P["latency_runs"].default, step=1,
                                             label=P["latency_runs"].label, info=P["latency_runs"].help)
                    detectors = gr.Textbox(value=P["detectors"].default, label=P["detectors"].label,
                                           info=P["detectors"].help)
                    score_threshold = gr.Slider(0.05, 0.95, value=P["score_threshold"].default, step=0.05,
                                                label=P["score_threshold"].label)
                with gr.Row():
                    run = gr.Button("Compare", variant="primary")
                    lineup = gr.Button("Family line-up (untrained)", variant="secondary")
            with gr.Column(scale=3):
                status = frame.status_box()
                gr.Markdown("### Classifiers side by side")
                classifiers = gr.Image(label="Classifiers side by side", show_label=False, type="numpy",
                                       interactive=False, buttons=["download", "fullscreen"])
                gr.Markdown("### Detectors side by side\nA box is green when every other detector found the "
                            "same "
                            "object (same class, IoU ≥ 0.5), blue when some did, orange when none did.")
                detections = gr.Image(label="Detectors side by side", show_label=False, type="numpy",
                                      interactive=False, buttons=["download", "fullscreen"])
                with gr.Row():
                    with gr.Column():
                        gr.Markdown("**Cost:** multiply-adds vs. latency measured here "
                                    "(bubble area ∝ params)")
                        cost = gr.Plot(label="Cost", show_label=False)
                    with gr.Column():
                        summary = gr.JSON(label="Result (JSON)", open=False)
                download = frame.download_button()
        frame.explanation_panel("compare")
        lineup.click(lambda: (FAMILY_LINEUP, "random"), None, [models, weights], api_visibility="private",
                     queue=False)
        run.click(
            frame.guard(_run),
            [image, models, weights, heatmap, faithfulness, topk, latency_runs, detectors, score_threshold],
            [classifiers, detections, cost, status, summary, download],
            api_name="compare",
            concurrency_limit=1,
        )
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
