"""RoI operators page (``/roi``): RoIPool, RoIAlign, PS-RoIPool/Align and the FPN level of one box.

Layout and wiring only: one call to :func:`core.roi_lesson.run` per event. ``/roi`` takes an image
(everything else defaulted) and returns the nine figures and the JSON summary. Two clicks on the
first picture make a box, a click on the RoIAlign picture probes the nearest sample
(:func:`core.roi_lesson.photo_point` turns a click into photo pixels); the PNG sheet and the figure
captions come from private follow-up events.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame
from core import roi_lesson as lesson
from core import zoo

IMAGE_KEYS = ("overview", "roi_pool", "roi_align", "bilinear", "aligned", "ps_bins", "ps_maps", "fpn",
              "misalignment")
P = {p.name: p for p in lesson.PARAMS}
EXAMPLES = [[str(frame.IMAGES_DIR / name), box] for name, box, _ in lesson.EXAMPLES]
EXAMPLE_LABELS = [label for _, _, label in lesson.EXAMPLES]
PAPER_TABLE = """
| Mask R-CNN, COCO minival, mask AP (AP50 / AP75) | RoIPool | RoIAlign |
|---|---|---|
| ResNet-50-C4, stride 16 (Table 2c, average pooling) | 26.9 (48.8 / 26.4) | 30.3 (51.2 / 31.5) |
| ResNet-50-C5, stride 32 (Table 2d) | 23.6 (46.5 / 21.6) | 30.9 (51.8 / 32.1) |
| ResNet-50-C5, stride 32, **box** AP (Table 2d) | 28.2 (52.7 / 26.9) | 34.0 (55.3 / 36.4) |

He et al., *Mask R-CNN*, ICCV 2017 (arXiv 1703.06870). RoIWarp (bilinear, but the RoI still
quantised) scores like RoIPool: 27.2 / 27.1 AP. With FPN's finer strides RoIAlign still adds 1.5 mask AP
and 0.5 box AP, and 4.4 keypoint AP (Table 6).
"""


def _run(path, model, weights, box, stride, input_size, output_size, sampling_ratio, aligned, probe, channel,
         ps_size, ps_class):
    image = frame.read_upload(path)
    result = lesson.run(image, model=model, weights=weights, box=box or "", stride=_int(stride),
                        input_size=input_size, output_size=output_size, sampling_ratio=sampling_ratio,
                        aligned=bool(aligned), probe=probe or "", channel=channel, ps_size=ps_size,
                        ps_class=ps_class)
    summary = result.to_json()
    images = [result.images.get(k) for k in IMAGE_KEYS]
    return (*images, summary, _status(summary), frame.KEPT.keep(result))


def _int(value: Any) -> Any:
    """The stride radio's value as the number the lesson's choices hold (raw values may be strings)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _maybe_run(path, *args):
    if not path:
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 3))
    return _run(path, *args)


def _status(s: dict[str, Any]) -> str:
    icon = frame.SOURCE_ICONS.get(s["model"]["source"], s["model"]["source"])
    f, b, fpn = s["feature"], s["box"], s["fpn"]
    x0, y0, x1, y1 = b["photo"]
    worst = max(v for v in s["torchvision_max_abs_difference"].values())
    centre = s["cell_centre"]
    where = (f"this backbone's stride-{f['stride']} cells are centred at {f['stride']}·c + "
             f"({centre['x']:g}, {centre['y']:g}) px (measured; the half-pixel model says "
             f"{centre['half_pixel_model']:g})" if centre["x"] is not None and centre["y"] is not None
             else "the receptive field is wider than the strip used to measure where cells are centred")
    return "  \n".join([
        f"{icon} **{s['model']['status']}**",
        f"Box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) photo px{' (default)' if b['default'] else ''} on a "
        f"{f['height']}×{f['width']}×{f['channels']} map (stride {f['stride']}), channel {f['channel']} "
        f"shown · "
        f"FPN level **{fpn['level']}** (at Mask R-CNN's 800-px scale: {fpn['level_at_coco_scale']}) · "
        f"every value shown equals torchvision's ops (largest |Δ| = {worst:.1g})",
        f"ℹ️ {where}.",
    ])


def _captions(summary: dict[str, Any] | None):
    if not summary:
        return tuple(gr.skip() for _ in IMAGE_KEYS)
    return tuple(summary["captions"].get(k, "") for k in IMAGE_KEYS)


def _click_box(summary: dict[str, Any] | None, box: str, pending: Any, evt: gr.SelectData):
    if not summary:
        return box, None, "Run the lesson first, then click two opposite corners on the first picture."
    x, y = lesson.photo_point(summary, "overview", evt.index)
    w, h = summary["input"]["photo_size"]
    x, y = min(max(x, 0.0), float(w)), min(max(y, 0.0), float(h))
    if pending is None:
        return box, [x, y], f"First corner at ({x:.0f}, {y:.0f}); click the opposite corner."
    x0, y0 = (float(v) for v in pending)
    if abs(x - x0) < 2 or abs(y - y0) < 2:
        return box, None, "That box is too small; click two opposite corners again."
    new = f"{min(x0, x):.0f},{min(y0, y):.0f},{max(x0, x):.0f},{max(y0, y):.0f}"
    return new, None, f"Box {new}."


def _run_if_box(pending, *args):
    if pending is not None:  # only the first corner so far
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 3))
    return _maybe_run(*args)


def _click_probe(summary: dict[str, Any] | None, evt: gr.SelectData):
    if not summary:
        return gr.skip()
    x, y = lesson.photo_point(summary, "roi_align", evt.index)
    return f"{x:.1f},{y:.1f}"


def _picture(label: str, height: int = 360, elem_id: str | None = None) -> tuple[gr.Image, gr.Markdown]:
    """A figure with a short label and, under it, the caption the lesson writes for this result."""
    with gr.Column(min_width=300):
        # an explicit height: without it Gradio 6 collapsed row-mates to 0 px at 1280-1440 px widths
        image = gr.Image(label=label, interactive=False, buttons=["fullscreen", "download"], height=height,
                         elem_id=elem_id)
        caption = gr.Markdown("", elem_classes=["lenslab-caption"])
    return image, caption


def build() -> gr.Blocks:
    """The page as a fresh Blocks (the whole app renders one on its route; a reload builds it anew)."""
    with gr.Blocks(title="LensLab · RoI operators") as demo:
        frame.header("RoI operators: RoIPool, RoIAlign, position-sensitive pooling, FPN levels",
                     "A two-stage detector cuts a fixed k×k feature out of every box. How it snaps, splits "
                     "and samples the feature map decides whether a 28×28 mask lines up with the object.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=330):
                image = frame.image_input(height=260, with_examples=False)
                box = gr.Textbox("", label=P["box"].label, info=P["box"].help, placeholder="131,79,211,151",
                                 elem_id="roi-box")
                gr.Examples(examples=EXAMPLES, inputs=[image, box], label="Examples (photo and box)",
                            example_labels=EXAMPLE_LABELS, examples_per_page=6)
                click_info = gr.Markdown("Tip: click two opposite corners on the first picture to draw a "
                                         "box.")
                model = gr.Dropdown([(zoo.get_entry(n).title, n) for n in P["model"].choices],
                                    value=P["model"].default, label=P["model"].label, info=P["model"].help)
                weights = gr.Radio([(t, v) for t, v in frame.WEIGHT_CHOICES if v in P["weights"].choices],
                                   value=P["weights"].default, label=P["weights"].label)
                stride = gr.Radio(list(P["stride"].choices), value=P["stride"].default,
                                  label=P["stride"].label, info=P["stride"].help)
                with gr.Row():
                    input_size = frame.param_slider(P["input_size"])
                    output_size = frame.param_slider(P["output_size"])
                with gr.Row():
                    sampling = frame.param_slider(P["sampling_ratio"])
                    ps_size = frame.param_slider(P["ps_size"])
                aligned = gr.Checkbox(P["aligned"].default, label=P["aligned"].label, info=P["aligned"].help)
                with gr.Row():
                    channel = gr.Number(P["channel"].default, precision=0, minimum=-1,
                                        label=P["channel"].label, info=P["channel"].help)
                    ps_class = gr.Number(P["ps_class"].default, precision=0, minimum=-1,
                                         label=P["ps_class"].label, info=P["ps_class"].help)
                probe = gr.Textbox("", label=P["probe"].label, info=P["probe"].help, placeholder="170,130",
                                   elem_id="roi-probe")
                run = gr.Button("Run", variant="primary", size="lg")
                pending = gr.State(None)
            with gr.Column(scale=2):
                status = frame.status_box()
                with gr.Row():
                    overview, c1 = _picture("1 · the box on the cell grid (click two corners)",
                                            elem_id="roi-overview")
                    pool_img, c2 = _picture("2 · RoIPool")
                with gr.Row():
                    align_img, c3 = _picture("3 · RoIAlign (click a sample)", elem_id="roi-align")
                    bilinear, c4 = _picture("4 · one sample's bilinear read")
                aligned_img, c5 = _picture("5 · aligned=False vs aligned=True")
                with gr.Row():
                    ps_img, c6 = _picture("6 · PS-RoIAlign bins (R-FCN)")
                    ps_maps, c7 = _picture("7 · the score map each bin reads")
                fpn, c8 = _picture("8 · FPN level", height=240)
                misalign, c9 = _picture("9 · misalignment", height=340)
                gr.Markdown(PAPER_TABLE)
                with gr.Accordion("Result (JSON) and figures", open=False):
                    summary = gr.JSON(label="Result (JSON)")
                    download = frame.download_button()
        frame.explanation_panel("roi")

        inputs = [image, model, weights, box, stride, input_size, output_size, sampling, aligned, probe,
                  channel, ps_size, ps_class]
        pictures = [overview, pool_img, align_img, bilinear, aligned_img, ps_img, ps_maps, fpn, misalign]
        captions = [c1, c2, c3, c4, c5, c6, c7, c8, c9]
        kept = frame.kept_result()
        outputs = [*pictures, summary, status, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("roi")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        labels = dict(fn=frame.guard(_captions), inputs=summary, outputs=captions, api_visibility="private",
                      show_progress="hidden", queue=False)
        run.click(frame.guard(_run), inputs, outputs, api_name="roi", **frame.RAW_INPUTS).then(
            **labels).then(**sheet)
        rerun = dict(fn=frame.guard(_maybe_run), inputs=inputs, outputs=outputs, api_visibility="private",
                     trigger_mode="always_last", show_progress="minimal", **frame.RAW_INPUTS)
        image.change(**rerun).then(**labels).then(**sheet)
        for control in (input_size, output_size, sampling, ps_size):
            control.release(**rerun).then(**labels).then(**sheet)
        for control in (model, weights, stride, aligned):
            control.change(**rerun).then(**labels).then(**sheet)
        for control in (box, probe, channel, ps_class):
            control.submit(**rerun).then(**labels).then(**sheet)
        overview.select(frame.guard(_click_box), [summary, box, pending], [box, pending, click_info],
                        api_visibility="private").then(
            frame.guard(_run_if_box), [pending, *inputs], outputs, api_visibility="private",
            **frame.RAW_INPUTS).then(**labels).then(**sheet)
        align_img.select(frame.guard(_click_probe), summary, probe, api_visibility="private").then(
            **rerun).then(**labels).then(**sheet)

    classroom.attach(demo, "roi")  # links, projector layout, predict-then-reveal, slide
    return demo


_BUILT: list[gr.Blocks] = []


def __getattr__(name: str) -> Any:
    """``demo`` (for ``gradio apps/roi.py`` and ``apps.app``), built on first use."""
    if name == "demo":
        if not _BUILT:
            _BUILT.append(build())
        return _BUILT[0]
    raise AttributeError(name)

if __name__ == "__main__":
    frame.launch(build())
