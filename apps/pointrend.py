"""PointRend lesson page: a coarse mask, its uncertain points, and subdivision that sharpens it.

Layout and wiring only: one call to ``core.pointrend.run`` per Run (the ``/pointrend`` endpoint); the
step slider calls ``core.pointrend.step_view`` and the k/β/N sliders ``core.pointrend.sampling_view``,
both of which reuse the cached inference; the scene button calls ``core.pointrend.scene_image``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import pointrend
from core.viz import to_png_bytes, words

P = {p.name: p for p in pointrend.PARAMS}
WEIGHTS = [(label, value) for label, value in frame.WEIGHT_CHOICES if value in P["weights"].choices]
STEP_HEADERS = ["step", "resolution", "cells", "points N", "share of cells", "cells changed by the head"]
STEP_HEADERS_ZH = ["步", "分辨率", "格子数", "点数 N", "占格子的比例", "被点头改动的格子"]
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
    return (*result.image_list(), summary, _table(summary)["data"], _status(summary),
            frame.save_figures(result, "pointrend"),
            gr.update(maximum=max(1, len(summary["steps"])), value=summary["shown_step"] or 1))


def _redraw(path: str | None, *args: Any) -> tuple[Any, ...]:
    """:func:`_run` again for the language switch, when a photo is there to redraw."""
    return _run(path, *args) if path else tuple(gr.skip() for _ in range(10))


def _status(summary: dict[str, Any], lang: str = "en") -> str:
    """One line for the model, one for the result (IoUs on a ShapesWorld scene), sizes in the fold."""
    title = summary["status"].split(" · ")[0]
    lines = [frame.model_line(title, summary["weights"], lang)]
    h, w = summary["working_size"]
    ch, cw = summary["coarse_size"]
    steps, points, cells = len(summary["steps"]), summary["points_total"], summary["output_cells"]
    if "ious" in summary:
        i = summary["ious"]
        lines.append(i18n.pick(
            lang,
            f"Held-out ShapesWorld scene {summary['scene']}: boundary IoU coarse "
            f"{i['coarse']['boundary_iou']:.3f}"
            f" · bilinear {i['bilinear']['boundary_iou']:.3f} · **PointRend "
            f"{i['refined']['boundary_iou']:.3f}**"
            " (1 = every boundary pixel right)",
            f"未参与训练的 ShapesWorld 场景 {summary['scene']}：边界 IoU 粗糙 "
            f"{i['coarse']['boundary_iou']:.3f}"
            f" · 双线性 {i['bilinear']['boundary_iou']:.3f} · **PointRend "
            f"{i['refined']['boundary_iou']:.3f}**"
            "（1 = 边界像素全对）"))
    details = [frame.model_detail(title, summary["weights"], "", lang), i18n.pick(
        lang,
        f"Working size {w}×{h} px → coarse {cw}×{ch} logits → {steps} subdivision steps, {points:,} "
        f"point-head evaluations for {cells:,} output pixels.",
        f"工作尺寸 {w}×{h} 像素 → 粗糙 logits {cw}×{ch} → {steps} 步细分，点头共计算 {points:,} 次，"
        f"输出 {cells:,} 个像素。")]
    if "ious" in summary:
        i = summary["ious"]
        details.append(i18n.pick(lang, "mIoU", "mIoU") + f": {i['coarse']['miou']:.3f} · "
                       f"{i['bilinear']['miou']:.3f} · {i['refined']['miou']:.3f}")
    return frame.status_text(lines, details, lang)


def _table(summary: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    rows = [[s["step"], f"{s['height']}×{s['width']}", s["cells"], s["points"],
             f"{100 * s['fraction']:.1f} %", s["changed_by_head"]] for s in summary["steps"]]
    return {"headers": STEP_HEADERS_ZH if lang == "zh" else STEP_HEADERS, "data": rows}


def _status_in(summary: dict[str, Any] | None, lang: str) -> Any:
    """The status line and the step table in the page's language."""
    if not summary:
        return gr.skip(), gr.skip()
    return _status(summary, lang), _table(summary, lang)


_STEP_CAPTION = re.compile(r"Step (\d+)/(\d+): (\d+)×(\d+), (\d+) points")


def _step(path: str | None, weights: str, size: Any, num_points: Any, scene: Any, step: Any,
          lang: str = "en") -> Any:
    if not path:
        return gr.skip(), gr.skip()
    image = frame.read_upload(path)
    with words.language(lang):  # the picture's own words in the page's language too
        picture, caption = pointrend.step_view(image, int(step), weights=weights, size=int(size),
                                               num_points=int(num_points), scene=int(scene))
    if lang == "zh":
        caption = _STEP_CAPTION.sub(r"第 \1/\2 步：\3×\4，\5 个点", caption).replace("No subdivision step",
                                                                                   "没有细分步")
    return picture, f"**{caption}**"


def _sampling(path: str | None, weights: str, size: Any, num_points: Any, scene: Any, oversample: Any,
              importance: Any, train_points: Any, seed: Any) -> Any:
    if not path:
        return gr.skip()
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


def _picture(label: str, zh: str, **kwargs: Any) -> gr.Image:
    # the lesson's pictures carry their own titles; the label is what screen readers announce
    return frame.figure(label, zh, show_label=False, **kwargs)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · PointRend") as demo:
        frame.header("PointRend: render the boundary, not the whole mask",
                     "A segmenter predicts a coarse map at 1/16 of the width and height; PointRend "
                     "re-predicts only the most uncertain points, doubling the resolution at each step.",
                     zh=("PointRend：只渲染边界，而不是整张掩码",
                         "分割网络先预测宽和高都只有 1/16 的粗糙图；PointRend 只重新预测最不确定的"
                         "点，每一步把分辨率翻倍。"),
                     first=("press **Load ShapesWorld scene** (the model knows those), then move the "
                            "**subdivision step** and watch the points gather on the boundaries.",
                            "按**加载 ShapesWorld 场景**（模型认识这些图），再拖动**细分步**，看点怎样聚到边"
                            "界上。"))
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                with gr.Row():
                    scene_no = i18n.tr(gr.Number(3, precision=0, minimum=0, maximum=10**6,
                                                 label="Held-out scene #", min_width=120),
                                       "未训练过的场景编号")
                    scene_btn = i18n.tr(gr.Button("Load ShapesWorld scene", variant="secondary"),
                                        value="加载 ShapesWorld 场景")
                num_points = frame.param_slider(P["num_points"], "每步推理的点数 N",
                                                "论文的 Cityscapes 设置写作 8096，指的是 1024×2048 图像在步长"
                                                " 16 "
                                                "下的格子数（64×128 = 8192，detectron2 的取值）。")
                frame.examples(image)
                with frame.more_settings():
                    weights = frame.weights_radio(P["weights"].choices, P["weights"].default,
                                                  P["weights"].label)
                    size = i18n.tr(gr.Dropdown(list(P["size"].choices), value=P["size"].default,
                                               label=P["size"].label, info=P["size"].help),
                                   "工作尺寸（长边，像素）", "图像缩放到长边为这么多像素；粗糙图每边是它的 "
                                                  "1/16。")
                scene = gr.Number(-1, precision=0, visible=False, label="scene")
            with frame.outputs_column(scale=2):
                status = i18n.tr(gr.Markdown("Weights: not loaded yet — press **Run** (or load a ShapesWorld "
                                             "scene).", elem_classes=["lenslab-status"]),
                                 value="权重：尚未加载——请按**运行**（或加载一个 ShapesWorld 场景）。")
                with gr.Row():
                    with gr.Column():
                        frame.markdown("**1 · Coarse prediction** (stride 16, argmax colours)",
                                       "**1 · 粗糙预测**（步长 16，按 argmax 着色）")
                        coarse = _picture("Coarse prediction", "粗糙预测")
                    with gr.Column():
                        frame.markdown("**2 · Uncertainty** −(top1 − top2) of the coarse logits",
                                       "**2 · 不确定性**：粗糙 logits 的 −(top1 − top2)")
                        unc = _picture("Uncertainty", "不确定性")
        with frame.outputs_column(scale=1, badge=False):
            frame.markdown("### 3 · Training: where the point head learns", "### 3 · 训练：点头在哪里学习")
            with gr.Row():
                with gr.Column(scale=1, min_width=320):
                    frame.markdown(
                        "k·N uniform candidates (grey) → the β·N most uncertain of them (red; uncertainty of "
                        "the *interpolated* logits) → plus (1−β)·N fresh uniform points (blue). The loss is "
                        "computed only on red and blue.",
                        "k·N 个均匀候选点（灰）→ 其中最不确定的 β·N 个（红；按*插值后* logits 的不确定性）"
                        "→ 再加 (1−β)·N 个新的均匀点（蓝）。损失只在红点和蓝点上计算。")
                    oversample = frame.param_slider(P["oversample"], "训练：过采样倍数 k")
                    importance = frame.param_slider(P["importance"], "训练：重要点比例 β")
                    train_points = frame.param_slider(P["train_points"], "训练：点数 N", "每张图上计算损失的"
                                                                                    "点数。")
                    seed = i18n.tr(gr.Number(P["seed"].default, precision=0, label=P["seed"].label,
                                             minimum=0),
                                   "采样的随机种子")
                with gr.Column(scale=2):
                    sampling = _picture("Training points", "训练用的点")
            frame.markdown("### 4 · Inference: subdivision, step by step", "### 4 · 推理：一步一步细分")
            step = i18n.tr(gr.Slider(1, 4, value=4, step=1, label="Subdivision step"), "细分步")
            step_caption = gr.Markdown("")
            step_img = _picture("Subdivision step", "细分步")
            table = i18n.tr(gr.Dataframe(headers=STEP_HEADERS, label="Per-step resolution and points",
                                         interactive=False), "每一步的分辨率与点数")
            frame.markdown("### 5 · Result: coarse vs bilinear vs PointRend", "### 5 · 结果：粗糙、双线性与 "
                                                                              "PointRend")
            compare = _picture("Coarse (nearest) · bilinear upsampling · PointRend",
                               "粗糙（最近邻）· 双线性上采样 · PointRend")
            with i18n.tr(gr.Accordion("Result (JSON) and figures", open=False)):
                summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("pointrend")

        lang = i18n.page_lang()
        run_inputs = [image, weights, size, num_points, oversample, importance, train_points, step, seed,
                      scene]
        run_outputs = [coarse, unc, sampling, step_img, compare, summary, table, status, download, step]
        step_inputs = [image, weights, size, num_points, scene, step]
        step_view = dict(fn=frame.guard(_step), inputs=[*step_inputs, lang], outputs=[step_img, step_caption],
                         api_visibility="private", trigger_mode="always_last", show_progress="minimal")
        status_view = dict(fn=_status_in, inputs=[summary, lang], outputs=[status, table],
                           api_visibility="private", show_progress="hidden")
        frame.stale_on_edit(image, weights, size, num_points)
        # the figures' text follows the page's language: the radio is every run's last input
        lesson = i18n.in_figures(frame.guard(_run))
        clicked = run.click(lesson, [*run_inputs, lang], run_outputs, api_name="pointrend",
                            **frame.RAW_INPUTS)
        frame.fresh(clicked)
        clicked.then(**status_view).then(**step_view)
        redrawn = lang.change(i18n.in_figures(frame.guard(_redraw)), [*run_inputs, lang], run_outputs,
                              api_visibility="private", **frame.RAW_INPUTS)  # what is shown, redrawn
        redrawn.then(**status_view)
        for trigger in (scene_btn.click, scene_no.submit):  # the button, or Enter in the number box
            loaded = trigger(frame.guard(_scene), scene_no, [image, scene], api_visibility="private")
            loaded = loaded.then(lesson, [*run_inputs, lang], run_outputs, api_visibility="private")
            frame.fresh(loaded)
            loaded.then(**status_view).then(**step_view)
        # the step and the training-sampling controls re-draw their own picture at once (from the cached
        # inference), so they never leave a figure out of date
        step.change(**step_view)
        sampling_inputs = [image, weights, size, num_points, scene, oversample, importance, train_points,
                           seed]
        for control in (oversample, importance, train_points, seed, lang):  # (a switch redraws it too)
            control.change(i18n.in_figures(frame.guard(_sampling)), [*sampling_inputs, lang], sampling,
                           api_visibility="private", trigger_mode="always_last", show_progress="minimal")
        i18n.on_language(_status_in, [summary], [status, table])
        i18n.on_language(frame.guard(_step), step_inputs, [step_img, step_caption])
    classroom.attach(demo, "pointrend")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
