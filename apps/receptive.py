"""Receptive fields page: click a pixel and see what each model's unit there depends on.

Layout and wiring only. ``/receptive`` takes an image (everything else defaulted) and returns the
figures (ERF panels, growth per stage, block costs, HRNet's streams, ConvNeXt's roadmap when asked)
and the JSON summary; :func:`core.receptive_lesson.run` computes everything. A click on the ERF figure moves
the query point (:func:`core.receptive_lesson.click_to_query`) and runs again; the roadmap has its own
button (:func:`core.receptive_lesson.roadmap_lesson`, built once per process).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame
from core import receptive_lesson as receptive
from core import zoo

P = {p.name: p for p in receptive.PARAMS}
IMAGE_KEYS = ("erf", "growth", "blocks", "hrnet")


def _models(value: Any) -> str:
    if value is None or value == []:
        return P["models"].default
    return value if isinstance(value, str) else ",".join(value)


def _run(
    path,
    models,
    weights,
    random_init,
    stage,
    query_x,
    query_y,
    scale,
    block_channels,
    block_size,
    roadmap=False,
):
    image = frame.read_upload(path)
    result = receptive.run(
        image,
        models=_models(models),
        weights=weights,
        random_init=random_init,
        stage=stage,
        query_x=query_x,
        query_y=query_y,
        scale=scale,
        block_channels=block_channels,
        block_size=block_size,
        roadmap=roadmap,
    )
    return (
        *(result.images[k] for k in IMAGE_KEYS),
        result.images.get("roadmap"),
        _status(result.summary),
        result.to_json(),
        frame.KEPT.keep(result),
    )


def _maybe_run(path, *args):
    if not path:
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 4))
    return _run(path, *args)


def _status(summary: dict[str, Any]) -> str:
    """Which weights produced each panel (the page must always say so)."""
    lines = []
    for row in summary["models"]:
        for m in row:
            icon = frame.SOURCE_ICONS.get(m["source"], m["source"])
            lines.append(f"{icon} **{m['model']}** — {m['status']}")
    for m in summary.get("shared_stand_in", []):
        lines.append(f"↪ **{m['model']}** — its stand-in {m['same_as']} ({m['source']}) is shown above")
    h = summary["hrnet"]
    lines.append(f"{frame.SOURCE_ICONS.get(h['source'], h['source'])} **HRNet** — {h['status']}")
    return "  \n".join(lines)


def _click(models, evt: gr.SelectData):
    rows = len(_models(models).split(","))
    point = receptive.click_to_query(evt.index[0], evt.index[1], rows)
    if point is None:  # the colour legend under the maps
        return gr.skip(), gr.skip()
    return point


def _roadmap():
    result = receptive.roadmap_lesson()
    return result.images["roadmap"]


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Receptive fields") as demo:
        frame.header(
            "Receptive fields — from VGG to ConvNeXt (and HRNet)",
            "Click a pixel: which input pixels can the unit there see (theoretical field), and which does "
            "it actually use (effective field, the gradient)? Trained next to untrained, stage by stage.",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input()
                models = gr.Dropdown(
                    choices=[(zoo.get_entry(n).title, n) for n in receptive.ERF_MODELS],
                    value=list(receptive.DEFAULT_MODELS),
                    multiselect=True,
                    max_choices=receptive.MAX_MODELS,
                    label=P["models"].label,
                    info="Offline, ResNet-50 and ConvNeXt-T use the packaged ImageNet "
                    "EfficientNet-Lite0, Swin-T and ViT-S the embedded ShapesWorld models.",
                )
                weights = gr.Radio(choices=frame.WEIGHT_CHOICES, value=P["weights"].default, label="Weights")
                random_init = gr.Checkbox(
                    value=P["random_init"].default, label=P["random_init"].label, info=P["random_init"].help
                )
                stage = frame.param_slider(P["stage"])
                with gr.Row():
                    query_x = frame.param_slider(P["query_x"])
                    query_y = frame.param_slider(P["query_y"])
                scale = gr.Radio(
                    choices=list(receptive.SCALES),
                    value=P["scale"].default,
                    label=P["scale"].label,
                    info=P["scale"].help,
                )
                with gr.Accordion("Building blocks: C, H = W", open=False):
                    block_channels = frame.param_slider(P["block_channels"])
                    block_size = frame.param_slider(P["block_size"])
                roadmap_flag = gr.Checkbox(
                    value=P["roadmap"].default,
                    label=P["roadmap"].label,
                    info=P["roadmap"].help,
                    visible=False,
                )
                run = gr.Button("Run", variant="primary")
            with gr.Column(scale=2):
                status = frame.status_box()
                gr.Markdown("### Effective receptive field of the clicked unit — click a map to move it")
                erf_img = gr.Image(
                    label="ERF",
                    show_label=False,
                    interactive=False,
                    buttons=["fullscreen"],
                    elem_id="receptive-erf",
                )
                gr.Markdown("### How far each stage sees")
                growth_img = gr.Image(
                    label="Growth per stage", show_label=False, interactive=False, buttons=["fullscreen"]
                )
                gr.Markdown("### One block of each family: what it costs")
                blocks_img = gr.Image(
                    label="Building blocks", show_label=False, interactive=False, buttons=["fullscreen"]
                )
                gr.Markdown("### HRNet: parallel streams, exchanged at every stage")
                hrnet_img = gr.Image(
                    label="HRNet", show_label=False, interactive=False, buttons=["fullscreen"]
                )
                gr.Markdown("### ConvNeXt's roadmap: from ResNet-50 to ConvNeXt-T")
                roadmap_btn = gr.Button(
                    "Build the 17 networks of the roadmap (once, ~10–30 s)", variant="secondary"
                )
                roadmap_img = gr.Image(
                    label="ConvNeXt roadmap", show_label=False, interactive=False, buttons=["fullscreen"]
                )
                with gr.Accordion("Result (JSON)", open=False):
                    summary = gr.JSON(label="Result (JSON)")
                download = frame.download_button()
        frame.explanation_panel("receptive")

        inputs = [
            image,
            models,
            weights,
            random_init,
            stage,
            query_x,
            query_y,
            scale,
            block_channels,
            block_size,
            roadmap_flag,
        ]
        kept = frame.kept_result()
        outputs = [erf_img, growth_img, blocks_img, hrnet_img, roadmap_img, status, summary, kept]
        sheet = dict(
            fn=frame.guard(frame.sheet_of_kept("receptive")),
            inputs=kept,
            outputs=download,
            api_visibility="private",
            show_progress="hidden",
        )
        run.click(frame.guard(_run), inputs, outputs, api_name="receptive", **frame.RAW_INPUTS).then(**sheet)
        rerun = dict(
            fn=frame.guard(_maybe_run),
            inputs=inputs,
            outputs=outputs,
            api_visibility="private",
            trigger_mode="always_last",
            show_progress="minimal",
            **frame.RAW_INPUTS,
        )
        image.change(**rerun).then(**sheet)
        erf_img.select(_click, [models], [query_x, query_y], api_visibility="private").then(**rerun).then(
            **sheet
        )
        for control in (stage, query_x, query_y, block_channels, block_size):
            control.release(**rerun).then(**sheet)
        for control in (scale, random_init, weights):
            control.change(**rerun).then(**sheet)
        roadmap_btn.click(
            frame.guard(_roadmap), None, roadmap_img, api_visibility="private", concurrency_limit=1
        )
    classroom.attach(demo, "receptive")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
