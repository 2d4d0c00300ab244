"""PointRend lesson page: a coarse mask, its uncertain points, and subdivision that sharpens it.

Layout and wiring only: one call to ``core.pointrend.run`` per Run (the ``/pointrend`` endpoint); the
step slider calls ``core.pointrend.step_view`` and the k/β/N sliders ``core.pointrend.sampling_view``,
both of which reuse the cached inference; the scene button calls ``core.pointrend.scene_image``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from apps import frame
from core import pointrend
from core.viz import to_png_bytes

P = {p.name: p for p in pointrend.PARAMS}
WEIGHTS = [(label, value) for label, value in frame.WEIGHT_CHOICES if value in P["weights"].choices]
STEP_HEADERS = ["step", "resolution", "cells", "points N", "share of cells", "cells changed by the head"]
SCENE_DIR = Path(tempfile.gettempdir()) / "lenslab-scenes"


def _params(weights: str, size: Any, num_points: Any, oversample: Any, importance: Any, train_points: Any,
            step: Any, seed: Any, scene: Any) -> dict[str, Any]:
    return dict(weights=weights, size=int(size), num_points=int(num_points), oversample=float(oversample),
                importance=float(importance), train_points=int(train_points), step=int(step),
                seed=int(seed), scene=int(scene if scene is not None else -1))


def _run(path: str | None, weights: str = "auto", size: int = 256, num_points: int = 2048,
         oversample: float = 3.0, importance: float = 0.75, train_points: int = 256, step: int = 0,
         seed: int = 0, scene: int = -1) -> tuple[Any, ...]:
    image = frame.read_upload(path)
    result = pointrend.run(image, **_params(weights, size, num_points, oversample, importance, train_points,
                                            step, seed, scene))
    summary = result.to_json()
    table = [[s["step"], f"{s['height']}×{s['width']}", s["cells"], s["points"],
              f"{100 * s['fraction']:.1f} %", s["changed_by_head"]] for s in summary["steps"]]
    return (*result.image_list(), summary, table, _status(summary), frame.save_figures(result, "pointrend"),
            gr.update(maximum=max(1, len(summary["steps"])), value=summary["shown_step"] or 1))


def _status(summary: dict[str, Any]) -> str:
    icon = frame.SOURCE_ICONS[summary["weights"]]
    lines = [f"{icon} **{summary['status']}**"]
    h, w = summary["working_size"]
    ch, cw = summary["coarse_size"]
    lines.append(f"Working size {w}×{h} px → coarse {cw}×{ch} logits → {len(summary['steps'])} subdivision "
                 f"steps, {summary['points_total']:,} point-head evaluations for "
                 f"{summary['output_cells']:,} output pixels.")
    if "ious" in summary:
        i = summary["ious"]
        lines.append("Held-out ShapesWorld scene {}: mIoU coarse {:.3f} · bilinear {:.3f} · "
                     "**PointRend {:.3f}**; boundary IoU {:.3f} · {:.3f} · **{:.3f}**".format(
                         summary["scene"], i["coarse"]["miou"], i["bilinear"]["miou"], i["refined"]["miou"],
                         i["coarse"]["boundary_iou"], i["bilinear"]["boundary_iou"],
                         i["refined"]["boundary_iou"]))
    return "  \n".join(lines)


def _step(path: str | None, weights: str, size: Any, num_points: Any, scene: Any, step: Any) -> Any:
    image = frame.read_upload(path)
    picture, caption = pointrend.step_view(image, int(step), weights=weights, size=int(size),
                                           num_points=int(num_points), scene=int(scene))
    return picture, f"**{caption}**"


def _sampling(path: str | None, weights: str, size: Any, num_points: Any, scene: Any, oversample: Any,
              importance: Any, train_points: Any, seed: Any) -> Any:
    image = frame.read_upload(path)
    picture, counts = pointrend.sampling_view(
        image, weights=weights, size=int(size), num_points=int(num_points), scene=int(scene),
        oversample=float(oversample), importance=float(importance), train_points=int(train_points),
        seed=int(seed))
    return picture


def _scene(number: Any) -> tuple[str, int]:
    index = int(number)
    png = to_png_bytes(pointrend.scene_image(index, 256))  # PNG: lossless, so the ground truth still applies
    SCENE_DIR.mkdir(parents=True, exist_ok=True)
    path = SCENE_DIR / f"shapesworld-heldout-{index}.png"
    if not path.is_file():
        fd, tmp = tempfile.mkstemp(suffix=".png", dir=SCENE_DIR)
        with os.fdopen(fd, "wb") as fh:
            fh.write(png)
        os.replace(tmp, path)
    return str(path), index


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · PointRend") as demo:
        frame.header("PointRend: render the boundary, not the whole mask",
                     "A segmenter predicts a coarse map at 1/16 of the width and height; PointRend "
                     "re-predicts only the most uncertain "
                     "points, doubling the resolution at each step.")
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=280)
                with gr.Row():
                    scene_no = gr.Number(3, precision=0, minimum=0, maximum=10**6, label="Held-out scene #",
                                         min_width=120)
                    scene_btn = gr.Button("Load ShapesWorld scene", variant="secondary")
                weights = gr.Radio(WEIGHTS, value=P["weights"].default, label=P["weights"].label)
                size = gr.Dropdown(list(P["size"].choices), value=P["size"].default, label=P["size"].label,
                                   info=P["size"].help)
                num_points = frame.param_slider(P["num_points"])
                run = gr.Button("Run", variant="primary", size="lg")
                scene = gr.Number(-1, precision=0, visible=False, label="scene")
            with gr.Column(scale=2):
                status = gr.Markdown("Weights: not loaded yet — press **Run** (or load a ShapesWorld scene).",
                                     elem_classes=["lenslab-status"])
                with gr.Row():
                    with gr.Column():
                        gr.Markdown("**1 · Coarse prediction** (stride 16, argmax colours)")
                        coarse = gr.Image(label="Coarse prediction", show_label=False,
                                          buttons=["fullscreen", "download"])
                    with gr.Column():
                        gr.Markdown("**2 · Uncertainty** −(top1 − top2) of the coarse logits")
                        unc = gr.Image(label="Uncertainty", show_label=False, buttons=["fullscreen",
                                                                                       "download"])
        gr.Markdown("### 3 · Training: where the point head learns")
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                gr.Markdown("k·N uniform candidates (grey) → the β·N most uncertain of them (red; "
                            "uncertainty of "
                            "the *interpolated* logits) → plus (1−β)·N fresh uniform points (blue). The "
                            "loss is "
                            "computed only on red and blue.")
                oversample = frame.param_slider(P["oversample"])
                importance = frame.param_slider(P["importance"])
                train_points = frame.param_slider(P["train_points"])
                seed = gr.Number(P["seed"].default, precision=0, label=P["seed"].label, minimum=0)
            with gr.Column(scale=2):
                sampling = gr.Image(label="Training points", show_label=False, buttons=["fullscreen",
                                                                                        "download"])
        gr.Markdown("### 4 · Inference: subdivision, step by step")
        step = gr.Slider(1, 4, value=4, step=1, label="Subdivision step")
        step_caption = gr.Markdown("")
        step_img = gr.Image(label="Subdivision step", show_label=False, buttons=["fullscreen", "download"])
        table = gr.Dataframe(headers=STEP_HEADERS, label="Per-step resolution and points", interactive=False)
        gr.Markdown("### 5 · Result: coarse vs bilinear vs PointRend")
        compare = gr.Image(label="Coarse (nearest) · bilinear upsampling · PointRend", show_label=False,
                           buttons=["fullscreen", "download"])
        with gr.Accordion("Result (JSON) and figures", open=False):
            summary = gr.JSON(label="Result (JSON)")
            download = frame.download_button()
        frame.explanation_panel("pointrend")

        run_inputs = [image, weights, size, num_points, oversample, importance, train_points, step, seed,
                      scene]
        run_outputs = [coarse, unc, sampling, step_img, compare, summary, table, status, download, step]
        step_inputs = [image, weights, size, num_points, scene, step]
        run.click(frame.guard(_run), run_inputs, run_outputs, api_name="pointrend").then(
            frame.guard(_step), step_inputs, [step_img, step_caption],
            api_visibility="private")
        scene_btn.click(frame.guard(_scene), scene_no, [image, scene], api_visibility="private").then(
            frame.guard(_run), run_inputs, run_outputs, api_visibility="private").then(
            frame.guard(_step), step_inputs, [step_img, step_caption],
            api_visibility="private")
        step.release(frame.guard(_step), step_inputs, [step_img, step_caption],
                     api_visibility="private")
        sampling_inputs = [image, weights, size, num_points, scene, oversample, importance, train_points,
                           seed]
        for control in (oversample, importance, train_points):
            control.release(frame.guard(_sampling), sampling_inputs, sampling, api_visibility="private")
        seed.submit(frame.guard(_sampling), sampling_inputs, sampling, api_visibility="private")
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
