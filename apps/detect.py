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

from apps import classroom, frame, i18n
from core import assign
from core.viz import to_png_bytes

P = {p.name: p for p in assign.PARAMS}
WEIGHTS = [(label, value) for label, value in frame.WEIGHT_CHOICES if value in P["weights"].choices]
SCENE_DIR = Path(tempfile.gettempdir()) / "lenslab-scenes"
GT_EXAMPLE = '[{"box": [40, 60, 120, 150], "label": "circle"}]'
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


def _redraw(path: str | None, *args: Any) -> tuple[Any, ...]:
    """:func:`_run` again for the language switch, when there is something to redraw."""
    example = args[-1] if args else "image"
    if not path and example != "notes":
        return tuple(gr.skip() for _ in range(10))
    return _run(path, *args)


#: what each checkpoint is, in words: the 0 % one is the random initialisation, not a trained model
CHECKPOINTS = {
    "yolox-shapes": ("final (100 %)", "最终（100%）"),
    "yolox-shapes-30pct": ("30 % of training", "训练到 30%"),
    "yolox-shapes-5pct": ("5 % of training", "训练到 5%"),
    "yolox-shapes-0pct": ("0 % (initialisation)", "0%（初始化）"),
}
CHECKPOINT_WORDS = {
    "yolox-shapes-30pct": ("an early checkpoint of LensLab's training (30 %)",
                           "LensLab 训练中途的检查点（30%）"),
    "yolox-shapes-5pct": ("an early checkpoint of LensLab's training (5 %)",
                          "LensLab 训练中途的检查点（5%）"),
    "yolox-shapes-0pct": ("the random initialisation: UNTRAINED, step 0 of training",
                          "随机初始化：未训练（训练第 0 步）"),
}


def _status(s: dict[str, Any], lang: str = "en") -> str:
    """One line for the checkpoint, one for the assignment, a warning if a GT got nothing; details folded."""
    zh = lang == "zh"
    if s.get("example") == "notes":
        return i18n.pick(
            lang,
            f"**The notes' worked example** — 3 GTs over 1000 candidate anchors: dynamic k = "
            f"{', '.join(map(str, s['dynamic_k']))}; candidate #5 is taken by GT 1 (cost 0.4) and GT 2 (cost "
            f"0.3) and stays with GT 2, so the GTs end with {', '.join(map(str, s['positives_per_gt']))} "
            "positives.",
            f"**笔记中的算例**：3 个 GT、1000 个候选锚点，dynamic k = {', '.join(map(str, s['dynamic_k']))}；"
            "候选 #5 同时被 GT 1（代价 0.4）和 GT 2（代价 0.3）选中，最后归 GT 2，所以各 GT 最终的正样本数为 "
            f"{', '.join(map(str, s['positives_per_gt']))}。")
    title = s["weights_status"].split(" · ")[0]
    word = CHECKPOINT_WORDS.get(s["model"], (None, None))[zh] if s["weights"] == "embedded" else None
    source = "random" if word and s["model"].endswith("-0pct") else s["weights"]
    lines = [frame.model_line(f"{title} · {CHECKPOINTS.get(s['model'], ('', ''))[zh]}".rstrip(" ·"), source,
                              lang, word=word)]
    sim = s["simota"]
    per_gt = ", ".join(map(str, sim["positives_per_gt"]))
    lines.append(i18n.pick(lang, f"{len(s['gt'])} GT box(es) · {sim['candidates']} candidates · positives "
                                 "per "
                                 f"GT: {per_gt}",
                           f"{len(s['gt'])} 个 GT 框 · {sim['candidates']} 个候选 · 每个 GT 的正样本："
                           f"{per_gt}"))
    if sim["unmatched_gt"]:
        gts = ", ".join(str(g + 1) for g in sim["unmatched_gt"])
        lines.append(i18n.pick(lang, f"**Warning:** GT {gts} ended without any positive anchor: it teaches "
                                     "the "
                                     "detector nothing in this step.",
                               f"**注意**：GT {gts} 没有分到任何正样本锚点，这一步它教不了检测器任何东西。"))
    stride = " + ".join(str(v) for v in s["anchors_per_stride"].values())
    details = [
        frame.model_detail(s["weights_status"].split(" · ", 1)[0], s["weights"], "", lang),
        i18n.pick(lang, f"GT from {s['gt_source']} · {s['anchors']} anchors ({stride}) · preset "
                        f"**{sim['preset']}** (radius {sim['center_radius_strides']} strides, penalty "
                        f"{sim['penalty']:.0e}) · dynamic k {sim['dynamic_k']} · {len(sim['conflicts'])} "
                        "conflicts",
                  f"GT 来自 {s['gt_source']} · {s['anchors']} 个锚点（{stride}）· 预设 **{sim['preset']}**"
                  f"（半径 {sim['center_radius_strides']} 个步长，惩罚 {sim['penalty']:.0e}）· dynamic k "
                  f"{sim['dynamic_k']} · {len(sim['conflicts'])} 个冲突")]
    if "note" in s:
        details.append(s["note"])
    return frame.status_text(lines, details, lang)


def _status_in(summary: dict[str, Any] | None, lang: str) -> Any:
    return gr.skip() if not summary else _status(summary, lang)


def _bounds(summary: dict[str, Any] | None, focus: Any) -> Any:
    """The GT slider runs to the number of GTs there are (and is idle with only one)."""
    if not summary:
        return gr.skip()
    n = int(summary.get("gts") or len(summary.get("gt", [])) or 1)
    value = min(max(int(focus or 1), 1), n)
    # a slider needs minimum < maximum: with one GT it keeps 1…2 but cannot be moved
    return gr.update(maximum=max(n, 2), value=value, interactive=n > 1)


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
                     "how good the predictions already are.",
                     zh=("SimOTA：哪个锚点学哪个物体？",
                         "YOLOX 在步长 8/16/32 特征图的每个锚点上预测一个框。SimOTA 为每个物体挑出预测代价最"
                         "低的"
                         "几个锚点——个数 k 取决于预测已经有多好。"),
                     first=("press **Load scene** (its true boxes become the GT), then switch the checkpoint "
                            "from 100 % to 0 % and watch dynamic k shrink.",
                            "按**加载场景**（真实框成为 GT），再把检查点从 100% 换到 0%，看 dynamic k 怎样变"
                            "小。"))
        with gr.Row():
            with gr.Column(scale=1, min_width=340):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                with gr.Row():
                    scene_no = i18n.tr(gr.Number(13, precision=0, minimum=0, maximum=10**6,
                                                 label="ShapesWorld scene #", min_width=110),
                                       "ShapesWorld 场景编号")
                    scene_btn = i18n.tr(gr.Button("Load scene (true boxes become the GT)",
                                                  variant="secondary"),
                                        value="加载场景（真实框成为 GT）")
                model = i18n.tr(gr.Dropdown([(title, name) for name, (title, _) in CHECKPOINTS.items()],
                                            value=P["model"].default, label="Predictions from checkpoint",
                                            info=P["model"].help),
                                "预测来自检查点", "训练结束时的内置检测器，或训练早期的检查点。",
                                choices={name: zh for name, (_, zh) in CHECKPOINTS.items()})
                frame.examples(image)
                with frame.more_settings():
                    styles = [("training style", "train"), ("held-out style", "heldout")]
                    scene_style = i18n.tr(gr.Radio(styles, value="train", label="Render style of the scene"),
                                          "场景的渲染风格", choices=["训练风格", "未见过的风格"])
                    weights = frame.weights_radio(P["weights"].choices, P["weights"].default,
                                                  P["weights"].label)
                    presets = [("YOLOX 0.3 (paper: box ∪ centre, r = 2.5, 1e5)", "yolox-0.3"),
                               ("YOLOX main (2023: centre only, r = 1.5, 1e6)", "yolox-main")]
                    preset = i18n.tr(gr.Radio(presets, value=P["preset"].default, label=P["preset"].label),
                                     "YOLOX 版本", choices=["YOLOX 0.3（论文：框 ∪ 中心，r = 2.5，1e5）",
                                                          "YOLOX main（2023：只用中心，r = 1.5，1e6）"])
                    assigner = i18n.tr(gr.Radio(list(assign.ASSIGNERS), value=P["assigner"].default,
                                                label=P["assigner"].label,
                                                info="Which assigner the positives and metric views show."),
                                       "显示的分配器", "正样本图和度量图显示哪种分配器。")
                    thr = i18n.tr(gr.Slider(P["score_threshold"].minimum, P["score_threshold"].maximum,
                                            value=P["score_threshold"].default, step=0.01,
                                            label=P["score_threshold"].label), "检测分数阈值")
                    example = i18n.tr(gr.Radio(EXAMPLES, value=P["example"].default,
                                               label=P["example"].label),
                                      "场景", choices=["你的图（或场景）", "笔记中的算例（3 个 GT、1000 个候"
                                                                 "选）"])
                    gt_boxes = i18n.tr(gr.Textbox("", label=P["gt_boxes"].label, info=P["gt_boxes"].help,
                                                  lines=3, placeholder=GT_EXAMPLE),
                                       "真实框（JSON）",
                                       "图像像素坐标的 JSON 列表，例如 "
                                       '[{"box": [x1, y1, x2, y2], "label": "circle"}]'
                                       f"（label 为类别名或编号；最多 {assign.MAX_GT} 个框）。"
                                       "留空：用最终检测器自己的检测结果作 GT。")
                    with gr.Row():
                        label = i18n.tr(gr.Dropdown(list(assign.CLASS_NAMES), value="circle",
                                                    label="Class of a clicked box", min_width=120),
                                        "点击框的类别")
                        clear = i18n.tr(gr.Button("Clear GT (use detections)", size="sm"),
                                        value="清除 GT（用检测结果）")
                pending = gr.State(None)
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                click_info = frame.markdown("Tip: click two opposite corners on the **detections** picture "
                                            "to add "
                                            "a GT box.", "提示：在**检测结果**图上点击两个对角，就能添加一个 "
                                                         "GT 框。")
                with gr.Row():
                    detections = _picture("Detections of the chosen checkpoint (click twice: add a GT box)")
                    positives = _picture("Final positives, coloured by GT (red dashed = no positive)")
                frame.markdown("#### Dynamic k: each GT's 10 best IoUs, stacked — k is the integer part",
                               "#### Dynamic k：每个 GT 最好的 10 个 IoU 叠加起来——k 取整数部分")
                dynk = _picture("Dynamic k")
        with frame.outputs_column(scale=1, badge=False):
            frame.markdown("### 1 · Candidates: the geometric pre-filter, per stride",
                           "### 1 · 候选：按步长的几何预筛选")
            anchors = _picture("Anchor points: in box and centre square / box only / centre square only / "
                               "neither")
            frame.markdown("### 2 · The cost of each candidate for one GT",
                           "### 2 · 每个候选对一个 GT 的代价")
            focus = i18n.tr(gr.Slider(1, 12, value=P["focus_gt"].default, step=1, label=P["focus_gt"].label,
                                      info="Runs to the number of GT boxes (none to pick with one)."),
                            "代价图所用的 GT", "最大值等于 GT 框的个数（只有一个时无需选择）。")
            cost = _picture("Per-GT cost (SimOTA) · anchor IoU (ATSS) · alignment t (TAL)")
            frame.markdown("### 3 · The matching matrix: each GT's k cheapest, then conflicts resolved",
                           "### 3 · 匹配矩阵：每个 GT 取代价最低的 k 个，再解决冲突")
            matching = _picture("Matching matrix before / after conflict resolution")
            frame.markdown("### 4 · Beyond SimOTA: ATSS and TAL on the same predictions",
                           "### 4 · SimOTA 之外：同一组预测上的 ATSS 与 TAL")
            compare = _picture("SimOTA · ATSS · TAL")
            with i18n.tr(gr.Accordion("Assignment (JSON) and figures", open=False), "分配结果（JSON）与图"):
                summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("simota")

        lang = i18n.page_lang()
        inputs = [image, model, weights, gt_boxes, preset, assigner, focus, thr, example]
        outputs = [detections, positives, anchors, cost, dynk, matching, compare, summary, status, download]
        after = dict(fn=_status_in, inputs=[summary, lang], outputs=status, api_visibility="private",
                     show_progress="hidden")
        bounds = dict(fn=_bounds, inputs=[summary, focus], outputs=focus, api_visibility="private",
                      show_progress="hidden")
        i18n.on_language(_status_in, [summary], [status])
        frame.stale_on_edit(image, weights, gt_boxes, thr)

        def computed(event: Any) -> None:
            frame.fresh(event)
            event.then(**after).then(**bounds)

        # the figures' text follows the page's language: the radio is every run's last input
        drawn, lesson = [*inputs, lang], i18n.in_figures(frame.guard(_run))
        computed(run.click(lesson, drawn, outputs, api_name="simota", **frame.RAW_INPUTS))
        for trigger in (scene_btn.click, scene_no.submit):  # the button, or Enter in the number box
            computed(trigger(frame.guard(_scene), [scene_no, scene_style], [image, gt_boxes],
                             api_visibility="private").then(lesson, drawn, outputs,
                                                            api_visibility="private", **frame.RAW_INPUTS))
        for control in (model, preset, assigner, example):
            computed(control.change(lesson, drawn, outputs, api_visibility="private", **frame.RAW_INPUTS))
        rerun = dict(fn=lesson, inputs=drawn, outputs=outputs, api_visibility="private", **frame.RAW_INPUTS)
        computed(lang.change(i18n.in_figures(frame.guard(_redraw)), drawn, outputs, api_visibility="private",
                             **frame.RAW_INPUTS))  # what is shown is redrawn in the new language
        computed(focus.release(**rerun))
        computed(gt_boxes.submit(**rerun))
        clear.click(lambda: ("", None), None, [gt_boxes, pending], api_visibility="private",
                    queue=False).then(**frame.STALE_JS)
        detections.select(frame.guard(_click), [image, gt_boxes, pending, label], [gt_boxes, pending,
                                                                                   click_info],
                          api_visibility="private").then(**frame.STALE_JS)
    classroom.attach(demo, "simota")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
