"""SimOTA lesson page (``/simota``): which anchor points learn which object, and why.

Layout and wiring only: one call to ``core.assign.run`` per Run; the scene button calls
``core.assign.shapes_scene`` (a held-out ShapesWorld scene and its true boxes as GT JSON); clicking
twice on the detections picture adds a typed GT box (``core.assign.add_clicked_box``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from apps import frame
from core import assign
from core.viz import to_png_bytes

P = {p.name: p for p in assign.PARAMS}
WEIGHTS = [(label, value) for label, value in frame.WEIGHT_CHOICES if value in P["weights"].choices]
SCENE_DIR = Path(tempfile.gettempdir()) / "lenslab-scenes"
EXAMPLES = [("Your image (or scene)", "image"),
            ("The notes' worked example (3 GTs, 1000 candidates)", "notes")]


def _run(path: str | None, model: str = "yolox-shapes", weights: str = "auto", gt_boxes: str = "",
         preset: str = "yolox-0.3", assigner: str = "SimOTA", focus_gt: int = 1, score_threshold: float = 0.3,
         example: str = "image") -> tuple[Any, ...]:
    image = frame.read_upload(path) if example != "notes" or path else None
    result = assign.run(image, model=model, weights=weights, gt_boxes=gt_boxes or "", preset=preset,
                        assigner=assigner, focus_gt=int(focus_gt), score_threshold=float(score_threshold),
                        example=example)
    summary = result.to_json()
    return (*result.image_list(), summary, _status(summary), frame.save_figures(result, "simota"))


def _status(s: dict[str, Any]) -> str:
    if s.get("example") == "notes":
        return ("📓 **The notes' worked example** — 3 GTs over 1000 candidate anchors: dynamic k = "
                f"{', '.join(map(str, s['dynamic_k']))}; candidate #5 is taken by GT 1 (cost 0.4) and GT 2 "
                "(cost 0.3) and stays with GT 2, so the GTs end with "
                f"{', '.join(map(str, s['positives_per_gt']))} positives.")
    icon = frame.SOURCE_ICONS[s["weights"]]
    sim = s["simota"]
    lines = [f"{icon} **{s['weights_status']}**",
             f"GT: {len(s['gt'])} box(es) from {s['gt_source']} · {s['anchors']} anchors "
             f"({' + '.join(str(v) for v in s['anchors_per_stride'].values())}) · preset **{sim['preset']}** "
             f"(radius {sim['center_radius_strides']} strides, penalty {sim['penalty']:.0e}) · "
             f"{sim['candidates']} candidates · dynamic k {sim['dynamic_k']} · "
             f"{len(sim['conflicts'])} conflicts · positives per GT {sim['positives_per_gt']}"]
    if sim["unmatched_gt"]:
        lines.append("🚩 GT " + ", ".join(str(g + 1) for g in sim["unmatched_gt"]) + " ended without any "
                     "positive anchor: it will teach the detector nothing in this step.")
    if "note" in s:
        lines.append(f"ℹ️ {s['note']}")
    return "  \n".join(lines)


def _scene(number: Any, style: str) -> tuple[str, str]:
    index = int(number)
    image, gt_json = assign.shapes_scene(index, style)
    SCENE_DIR.mkdir(parents=True, exist_ok=True)
    path = SCENE_DIR / f"shapesworld-detect-{style}-{index}.png"
    if not path.is_file():
        fd, tmp = tempfile.mkstemp(suffix=".png", dir=SCENE_DIR)
        with os.fdopen(fd, "wb") as fh:
            fh.write(to_png_bytes(image))  # PNG: lossless, so the true boxes still apply
        os.replace(tmp, path)
    return str(path), gt_json


def _click(path: str | None, gt_json: str, pending: Any, label: str,
           evt: gr.SelectData) -> tuple[str, Any, str]:
    image = frame.read_upload(path)
    return assign.add_clicked_box(image, gt_json or "", pending, evt.index, label)


def _picture(label: str, height: int = 420) -> gr.Image:
    """An output picture; its caption is drawn inside the image, so Gradio's label badge stays hidden."""
    # an explicit height: without it Gradio 6 collapsed row-mates to 0 px at 1280-1440 px widths
    return gr.Image(label=label, show_label=False, buttons=["fullscreen", "download"], interactive=False,
                    height=height)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · SimOTA") as demo:
        frame.header("SimOTA: which anchor learns which object?",
                     "YOLOX predicts a box at every anchor point of its stride-8/16/32 maps. SimOTA picks, "
                     "per "
                     "object, the few anchors whose predictions are cheapest — with a number k that depends "
                     "on "
                     "how good the predictions already are.")
        with gr.Row():
            with gr.Column(scale=1, min_width=340):
                image = frame.image_input(height=260)
                with gr.Row():
                    scene_no = gr.Number(13, precision=0, minimum=0, maximum=10**6,
                                         label="ShapesWorld scene #",
                                         min_width=110)
                    scene_style = gr.Radio([("training style", "train"), ("held-out style", "heldout")],
                                           value="train", label="Render style", min_width=150)
                scene_btn = gr.Button("Load scene (true boxes become the GT)", variant="secondary")
                model = gr.Dropdown([(assign_title, name) for name, assign_title in (
                    ("yolox-shapes", "final (100 %)"), ("yolox-shapes-30pct", "30 % of training"),
                    ("yolox-shapes-5pct", "5 % of training"), ("yolox-shapes-0pct", "0 % (initialisation)"))],
                    value=P["model"].default, label="Predictions from checkpoint", info=P["model"].help)
                weights = gr.Radio(WEIGHTS, value=P["weights"].default, label=P["weights"].label)
                preset = gr.Radio([("YOLOX 0.3 (paper: box ∪ centre, r = 2.5, 1e5)", "yolox-0.3"),
                                   ("YOLOX main (2023: centre only, r = 1.5, 1e6)", "yolox-main")],
                                  value=P["preset"].default, label=P["preset"].label)
                assigner = gr.Radio(list(assign.ASSIGNERS), value=P["assigner"].default,
                                    label=P["assigner"].label,
                                    info="Which assigner the positives and metric views show.")
                with gr.Row():
                    focus = gr.Slider(1, 12, value=P["focus_gt"].default, step=1, label=P["focus_gt"].label)
                    thr = gr.Slider(P["score_threshold"].minimum, P["score_threshold"].maximum,
                                    value=P["score_threshold"].default, step=0.01,
                                    label=P["score_threshold"].label)
                example = gr.Radio(EXAMPLES, value=P["example"].default, label=P["example"].label)
                gt_boxes = gr.Textbox("", label=P["gt_boxes"].label, info=P["gt_boxes"].help, lines=3,
                                      placeholder='[{"box": [40, 60, 120, 150], "label": "circle"}]')
                with gr.Row():
                    label = gr.Dropdown(list(assign.CLASS_NAMES), value="circle",
                                        label="Class of a clicked box",
                                        min_width=120)
                    clear = gr.Button("Clear GT (use detections)", size="sm")
                click_info = gr.Markdown("Tip: click two opposite corners on the **detections** picture to "
                                         "add a "
                                         "GT box.")
                run = gr.Button("Run", variant="primary", size="lg")
                pending = gr.State(None)
            with gr.Column(scale=2):
                status = gr.Markdown("Weights: not loaded yet — press **Run**.",
                                     elem_classes=["lenslab-status"])
                with gr.Row():
                    detections = _picture("Detections of the chosen checkpoint (click twice: add a GT box)")
                    positives = _picture("Final positives, coloured by GT (red dashed = no positive)")
                gr.Markdown("#### Dynamic k: each GT's 10 best IoUs, stacked — k is the integer part")
                dynk = _picture("Dynamic k")
        gr.Markdown("### 1 · Candidates: the geometric pre-filter, per stride")
        anchors = _picture("Anchor points: in box and centre square / box only / centre square only / "
                           "neither")
        gr.Markdown("### 2 · The cost of each candidate for one GT (pick the GT with the slider)")
        cost = _picture("Per-GT cost (SimOTA) · anchor IoU (ATSS) · alignment t (TAL)")
        gr.Markdown("### 3 · The matching matrix: each GT's k cheapest, then conflicts resolved")
        matching = _picture("Matching matrix before / after conflict resolution")
        gr.Markdown("### 4 · Beyond SimOTA: ATSS and TAL on the same predictions")
        compare = _picture("SimOTA · ATSS · TAL")
        with gr.Accordion("Assignment (JSON) and figures", open=False):
            summary = gr.JSON(label="Result (JSON)")
            download = frame.download_button()
        frame.explanation_panel("simota")

        inputs = [image, model, weights, gt_boxes, preset, assigner, focus, thr, example]
        outputs = [detections, positives, anchors, cost, dynk, matching, compare, summary, status, download]
        run.click(frame.guard(_run), inputs, outputs, api_name="simota")
        scene_btn.click(frame.guard(_scene), [scene_no, scene_style], [image, gt_boxes],
                        api_visibility="private").then(frame.guard(_run), inputs, outputs,
                                                       api_visibility="private")
        for control in (model, preset, assigner, example):
            control.change(frame.guard(_run), inputs, outputs, api_visibility="private")
        focus.release(frame.guard(_run), inputs, outputs, api_visibility="private")
        clear.click(lambda: ("", None), None, [gt_boxes, pending], api_visibility="private", queue=False)
        detections.select(frame.guard(_click), [image, gt_boxes, pending, label], [gt_boxes, pending,
                                                                                   click_info],
                          api_visibility="private")
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
