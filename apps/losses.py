"""Losses page (``/losses``): focal loss, GFL's quality and distribution focal losses, and OKS.

Layout and wiring only: one call to :func:`core.losses_lesson.run` per event. ``/losses`` takes an image
(everything else defaulted) and returns the eight figures and the JSON summary. A click on the keypoint
picture places the chosen keypoint (GT or prediction, :func:`core.losses_lesson.add_keypoint`) and runs
again; the status line, the Chinese captions and the PNG sheet come from private follow-up events.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import losses_lesson as lesson
from core import zoo
from core.losses import COCO_KEYPOINTS

IMAGE_KEYS = ("focal_maps", "loss_shares", "fl_curves", "qfl_targets", "dfl_edges", "dfl_bins", "keypoints",
              "oks")
P = {p.name: p for p in lesson.PARAMS}
LABELS = {  # figure: (English, 中文) before the first run
    "focal_maps": ("1 · Every anchor's loss: BCE vs focal loss", "1 · 每个锚点的损失：BCE 与 focal loss"),
    "loss_shares": ("2 · Who carries the total loss", "2 · 总损失由谁承担"),
    "fl_curves": ("3 · Focal loss for γ = 0 … 5", "3 · γ = 0 … 5 时的 focal loss"),
    "qfl_targets": ("4 · QFL: soft IoU target vs one-hot", "4 · QFL：IoU 软目标与 one-hot 目标"),
    "dfl_edges": ("5 · DFL: each edge as a distribution", "5 · DFL：每条边是一个分布"),
    "dfl_bins": ("6 · The four edge distributions", "6 · 四条边的分布"),
    "keypoints": ("7 · OKS: click keypoints on the photo", "7 · OKS：在照片上点击关键点"),
    "oks": ("8 · Per-keypoint similarity and OKS", "8 · 每个关键点的相似度与 OKS"),
}
KEYPOINT_CHOICES = [(f"{i + 1} {name}", i) for i, name in enumerate(COCO_KEYPOINTS)]
KEYPOINT_ZH = ("鼻子", "左眼", "右眼", "左耳", "右耳", "左肩", "右肩", "左肘", "右肘", "左腕", "右腕", "左髋",
               "右髋", "左膝", "右膝", "左踝", "右踝")


def _run(path, weights, gamma, alpha, easy_threshold, beta, gt_boxes, score_threshold, detection, blur,
         keypoints_gt, keypoints_pred, area):
    image = frame.read_upload(path)
    result = lesson.run(image, weights=weights, gamma=gamma, alpha=alpha, easy_threshold=easy_threshold,
                        beta=beta, gt_boxes=gt_boxes, score_threshold=score_threshold,
                        detection=_int(detection, 1), blur=blur, keypoints_gt=keypoints_gt,
                        keypoints_pred=keypoints_pred, area=0.0 if area in (None, "") else area)
    return (*(result.images[k] for k in IMAGE_KEYS), result.to_json(), frame.KEPT.keep(result))


def _int(value: Any, default: int) -> Any:
    """A number box's value as the whole number the lesson checks (an empty box: the default)."""
    if value is None or value == "":
        return default
    try:
        return int(value) if float(value) == int(float(value)) else value
    except (TypeError, ValueError):
        return value


def _maybe_run(path, *args):
    if not path:
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 2))
    return _run(path, *args)


def _captions(summary: dict[str, Any], lang: str) -> dict[str, str]:
    if lang != "zh":
        return summary["captions"]
    f, o = summary["focal"], summary["oks"]
    t = f["total"]
    return {
        "focal_maps": (f"BCE 与 focal loss（α {f['alpha']:g}，γ {f['gamma']:g}）下每个锚点的损失；"
                       "简单负样本承担"
                       f"BCE 的 {t['BCE']['easy negatives']:.0%}、FL 的 {t['FL']['easy negatives']:.0%}"),
        "loss_shares": "总损失由谁承担：正样本、困难负样本、简单负样本",
        "fl_curves": "focal loss 与真实类别概率的关系，γ = 0 … 5",
        "qfl_targets": "QFL：每个正样本的 IoU 软目标与 one-hot 目标",
        "dfl_edges": "DFL：检测框的每条边是 17 个距离上的一个分布",
        "dfl_bins": "四条边的分布；黑线（分布的期望）就是框的边",
        "keypoints": "OKS：GT 关键点、容差圆（相似度 0.5）与预测（×）",
        "oks": f"每个关键点的相似度；OKS {o['oks']:.3f}，YOLO-pose 的损失 {1 - o['oks']:.3f}",
    }


def _status_line(summary: dict[str, Any], lang: str) -> str:
    a, d, o = summary["assignment"], summary["dfl"], summary["oks"]
    shapes = {"sharp": "尖锐", "flat": "平坦", "two-peaked": "双峰"}
    if lang == "zh":
        edges = "、".join(f"{e['edge']} {shapes[e['shape']]}" for e in d["edges"])
        return (f"{summary['detections']} 个检测 · SimOTA 分出 {a['positives']} 个正样本"
                f"（共 {a['anchors']} 个锚点）"
                f" · 边：{edges} · OKS {o['oks']:.3f}")
    edges = ", ".join(f"{e['edge']} {e['shape']}" for e in d["edges"])
    return (f"{summary['detections']} detections · SimOTA: {a['positives']} positives of "
            f"{a['anchors']} anchors"
            f" · edges: {edges} · OKS {o['oks']:.3f}")


def _extras(summary: dict[str, Any] | None, weights, lang="en"):
    if not summary:
        return tuple(gr.skip() for _ in range(1 + len(IMAGE_KEYS)))
    loaded = zoo.load_model(lesson.MODEL, weights)
    random = loaded.source == "random"
    line = _status_line(summary, lang)
    note = summary["assignment"].get("note", "")
    details = [line] + ([note] if note else [])
    text = frame.weights_status(loaded, lang, details=details)
    status = gr.update(value=text, elem_classes=frame.status_class(random))
    captions = _captions(summary, lang)
    return status, *(gr.update(label=captions.get(k, LABELS[k][lang == "zh"])) for k in IMAGE_KEYS)


def _click_keypoint(summary: dict[str, Any] | None, gt_json: str, pred_json: str, which: str, index: Any,
                    evt: gr.SelectData):
    """A click on picture 7 places the chosen keypoint there (photo pixels) and steps to the next one."""
    if not summary:
        return gt_json, pred_json, index
    f = summary["views"]["keypoints"]["factor"]
    x, y = float(evt.index[0]) * f, float(evt.index[1]) * f
    w, h = summary["input"]["width"], summary["input"]["height"]
    gt_new, pred_new, nxt = lesson.add_keypoint(gt_json, pred_json, which, int(index or 0), (x, y), w, h)
    return gt_new, pred_new, nxt


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Detection losses") as demo:
        frame.header("Detection losses: focal loss, GFL (QFL and DFL) and OKS",
                     "What the anchors are asked to learn: focal loss on every anchor of your photo, the "
                     "IoU-aware soft target of quality focal loss, each box edge as a distribution (DFL), an"
                     "d "
                     "keypoints scored by OKS. Which anchors learn: the [SimOTA page](/simota).",
                     zh=("检测的损失函数：focal loss、GFL（QFL 与 DFL）和 OKS",
                         "锚点被要求学什么：照片上每个锚点的 focal loss、quality focal loss 的 IoU 软目标、"
                         "把每条"
                         "框边当作一个分布（DFL），以及用 OKS 给关键点打分。"
                         "哪些锚点在学：见 [SimOTA 页面](/simota)。"),
                     first=("pick a ShapesWorld scene and press **Run**: compare the BCE and focal-loss "
                            "rows of figure 1, then raise **Focal γ**. For OKS pick the astronaut and click "
                            "keypoints on figure 7.",
                            "选一个 ShapesWorld 场景并按**运行**：比较图 1 中 BCE 与 focal loss 两行，再调高 "
                            "**Focal γ**。OKS 部分请选宇航员照片，并在图 7 上点击关键点。"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                gamma = frame.param_slider(P["gamma"], "Focal γ", "0 即 BCE；RetinaNet 论文用 2。")
                alpha = frame.param_slider(P["alpha"], "Focal α", "正样本的权重（负样本为 1 − α）；RetinaNet"
                                                                  "：0.25。")
                frame.examples(image, scenes=True)
                with frame.more_settings():
                    weights = frame.weights_radio(P["weights"].choices, P["weights"].default,
                                                  P["weights"].label)
                    easy = frame.param_slider(P["easy_threshold"], "简单负样本：p 低于",
                                              "预测概率低于此值的负（锚点，类别）算作简单负样本。")
                    beta = frame.param_slider(P["beta"], "QFL β", "GFL 的 β（论文中为 2）。")
                    score = frame.param_slider(P["score_threshold"], "得分阈值", "高于它的检测（以及代替 GT "
                                                                             "的检测）。")
                    detection = i18n.tr(gr.Number(P["detection"].default, precision=0, minimum=1,
                                                  maximum=P["detection"].maximum, label=P["detection"].label,
                                                  info=P["detection"].help),
                                        "画出哪个检测的边", "1 = 得分最高的检测。")
                    blur = frame.param_slider(P["blur"], "模糊照片（σ 像素）", "检测前先模糊：边缘变得模糊时"
                                                                       "，边的分布会变平。")
                    gt_boxes = i18n.tr(gr.Textbox("", label=P["gt_boxes"].label, info=P["gt_boxes"].help,
                                                  lines=2, placeholder='[{"box": [40, 60, 120, 150], '
                                                                       '"label": "circle"}]'),
                                       "真实框（JSON）",
                                       'JSON 列表 [{"box": [x1, y1, x2, y2], "label": "circle"}]，照片像素；'
                                       '留空时用'
                                       '检测器自己的检测代替 GT。')
                    area = i18n.tr(gr.Number(P["area"].default, minimum=0, label=P["area"].label,
                                             info=P["area"].help),
                                   "物体面积（像素²）",
                                   "COCO 中人的分割面积（尺度 s = √area）；0：照片的 38 %（宇航员的）。")
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                pictures = {}
                frame.markdown("### Focal loss on every anchor", "### 每个锚点上的 focal loss")
                pictures["focal_maps"] = frame.figure(*LABELS["focal_maps"])
                with gr.Row():
                    pictures["loss_shares"] = frame.figure(*LABELS["loss_shares"])
                    pictures["fl_curves"] = frame.figure(*LABELS["fl_curves"])
                frame.markdown("### Generalized Focal Loss: QFL and DF"
                               "L", "### Generalized Focal Loss：QFL 与 DFL")
                pictures["qfl_targets"] = frame.figure(*LABELS["qfl_targets"])
                with gr.Row():
                    pictures["dfl_edges"] = frame.figure(*LABELS["dfl_edges"])
                    pictures["dfl_bins"] = frame.figure(*LABELS["dfl_bins"])
                frame.markdown("### OKS for keypoints (YOLO-pose's loss is 1 − OKS)",
                               "### 关键点的 OKS（YOLO-pose 的损失是 1 − OKS）")
                with gr.Row():
                    which = i18n.tr(gr.Radio([("ground truth", "gt"), ("prediction", "pred")], value="gt",
                                             label="A click sets"), "点击设置",
                                    choices={"gt": "真实值", "pred": "预测"})
                    keypoint = i18n.tr(gr.Dropdown(KEYPOINT_CHOICES, value=0, label="Keypoint"), "关键点",
                                       choices={i: f"{i + 1} {z}" for i, z in enumerate(KEYPOINT_ZH)})
                with gr.Row():
                    pictures["keypoints"] = frame.figure(*LABELS["keypoints"], elem_id="losses-keypoints")
                    pictures["oks"] = frame.figure(*LABELS["oks"])
                with gr.Row():
                    kp_gt = i18n.tr(gr.Textbox("", label=P["keypoints_gt"].label, info=P["keypoints_gt"].help,
                                               lines=2, max_lines=4, elem_id="losses-kp-gt"),
                                    "GT 关键点（JSON）",
                                    "17 个 COCO 关键点的 JSON 列表，照片像素 [[x, y, v], …]（v：2 可见，1 被"
                                    "遮挡，"
                                    "0 未标注）；或在关键点图上点击。"
                                    "留空：默认骨架（按 astronaut.jpg 放置）。")
                    kp_pred = i18n.tr(gr.Textbox("", label=P["keypoints_pred"].label,
                                                 info=P["keypoints_pred"].help, lines=2, max_lines=4,
                                                 elem_id="losses-kp-pred"),
                                      "预测关键点（JSON）",
                                      "17 个预测关键点的 JSON 列表 [[x, y], …]，照片像素；或点击放置。"
                                      "留空：默认预测。")
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("losses")

        lang = i18n.page_lang()
        inputs = [image, weights, gamma, alpha, easy, beta, gt_boxes, score, detection, blur, kp_gt, kp_pred,
                  area]
        figures = [pictures[k] for k in IMAGE_KEYS]
        kept = frame.kept_result()
        outputs = [*figures, summary, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("losses")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        extras = dict(fn=frame.guard(_extras), inputs=[summary, weights, lang], outputs=[status, *figures],
                      api_visibility="private")
        i18n.on_language(frame.guard(_extras), [summary, weights], [status, *figures])
        frame.stale_on_edit(*inputs)

        def computed(event: Any) -> None:
            frame.fresh(event)
            event.then(**extras).then(**sheet)

        # the figures' text follows the page's language: the radio is every run's last input
        computed(run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], outputs, api_name="losses",
                           **frame.RAW_INPUTS))
        rerun = dict(fn=i18n.in_figures(frame.guard(_maybe_run)), inputs=[*inputs, lang], outputs=outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal",
                     **frame.RAW_INPUTS)
        computed(image.change(**rerun))
        computed(lang.change(**rerun))  # a language switch redraws what is shown
        for control in (gamma, alpha, easy, beta, score, blur):
            computed(control.release(**rerun))
        computed(weights.change(**rerun))
        for control in (detection, gt_boxes, kp_gt, kp_pred, area):
            computed(control.submit(**rerun))
        computed(pictures["keypoints"].select(
            frame.guard(_click_keypoint), [summary, kp_gt, kp_pred, which, keypoint],
            [kp_gt, kp_pred, keypoint],
            api_visibility="private").then(**rerun))
    classroom.attach(demo, "losses")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
