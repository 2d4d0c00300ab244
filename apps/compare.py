"""Compare lesson page: several classifiers (and detectors) on one image, side by side.

Layout and wiring only: one call to :func:`core.compare.run` per click, then render what it returns.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import compare, zoo
from core.models.compare_zoo import COMPARE_CLASSIFIERS

P = {p.name: p for p in compare.PARAMS}
# One architecture per family of the notes, for comparing size, MACs and latency (untrained offline).
FAMILY_LINEUP = ["resnet18", "mobilenetv3", "efficientnet-b0", "regnety-008", "convnext-tiny", "vit-tiny",
                 "swin-tiny", "gmlp-s16"]


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


def _redraw(path: str | None, *args: Any) -> tuple[Any, ...]:
    """:func:`_run` again for the language switch, when a photo is there to redraw."""
    return _run(path, *args) if path else tuple(gr.skip() for _ in range(6))


def _status(summary: dict[str, Any], lang: str = "en") -> str:
    """Which weights produced each column (the page must always say so): one line per model."""
    lines = [frame.model_line(m["title"], m["weights"], lang,
                              stand_in_for=frame.stand_in(m["name"], m["title"])) for m in summary["models"]]
    details = [f"{m['name']}: {m['status']}" for m in summary["models"]]
    for d in summary.get("detectors", []):
        ready = i18n.pick(lang, "ready", "可用") if d["available"] else i18n.pick(lang, "not available",
                                                                                  "不可用")
        lines.append(f"**{d['name']}** · {ready}")
        details.append(f"{d['name']}: {d['status']}")
    if summary["untrained"]:
        lines.append(i18n.pick(lang, "*Untrained models predict nothing meaningful; their size, MACs and "
                                     "latency "
                                     "are real.*", "*未训练的模型预测没有意义；但它们的大小、乘加数和延迟是真"
                                                   "实的。*"))
    return frame.status_text(lines, details, lang)


def _verdict(f: dict[str, Any], lang: str) -> str:
    gap = f["drop"] - f["random_drop"]
    if gap > 0.05:
        return i18n.pick(lang, "so the map does point at evidence the model uses",
                         "所以这张图确实指向了模型在用的证据")
    if gap < -0.05:
        return i18n.pick(lang, "so the map points away from what the model uses", "所以这张图指错了地方")
    return i18n.pick(lang, "about the same: the map is no more telling than a random one",
                     "两者差不多：这张图并不比随机的图更能说明问题")


def _gloss(summary: dict[str, Any] | None, lang: str = "en") -> str:
    """What "hide top 20%: p −5.5 pts (random: −5.4)" on each card means, in plain words."""
    if not summary:
        return ""
    lines = []
    for m in summary["models"]:
        f = m.get("faithfulness")
        if not f:
            continue
        p, after = 100 * f["p"], 100 * f["p_removed"]
        drop, rand = 100 * f["drop"], 100 * f["random_drop"]
        if lang == "zh":
            lines.append(f"**{m['title']}**：把热图最热的 20% 像素遮住，第一名类别的概率从 {p:.1f}% 变为 "
                         f"{after:.1f}%（{-drop:+.1f} 个百分点）；遮住同样多的随机像素：{-rand:+.1f} 个百分点"
                         "，"
                         f"{_verdict(f, lang)}。")
        else:
            lines.append(f"**{m['title']}**: hiding the hottest 20 % of its heatmap moves its top class from "
                         f"{p:.1f} % to {after:.1f} % ({-drop:+.1f} points); hiding as many random pixels: "
                         f"{-rand:+.1f} points, {_verdict(f, lang)}.")
    if not lines:
        return ""
    head = i18n.pick(lang, "**Reading “hide top 20 %” on the cards.**",
                     "**怎么读卡片上的“遮住最热的 20%”**：")
    return head + "  \n" + "  \n".join(lines)


def _texts(summary: dict[str, Any] | None, lang: str) -> tuple[Any, Any]:
    if not summary:
        return gr.skip(), gr.skip()
    return _status(summary, lang), _gloss(summary, lang)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Compare models") as demo:
        frame.header("Compare models",
                     "Several architectures look at the same photo: what each predicts, where its evidence "
                     "lies, whether that heatmap is faithful, and what the model costs.",
                     zh=("模型对比", "几种架构看同一张照片：各自预测什么、证据在哪里、热图是否可信，以及模型"
                                 "的代价。"),
                     first=("press **Compare**, then read under the cards whether each heatmap beats a "
                            "random "
                            "one; **Family line-up** compares sizes and speed.",
                            "按**比较**，再看卡片下方每张热图是否胜过随机图；**家族阵容**比较大小和速度。"))
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                with gr.Row():
                    run = frame.run_button("Compare", "比较", scale=2)
                    lineup = i18n.tr(gr.Button("Family line-up (untrained)", variant="secondary", size="lg",
                                               scale=1), value="家族阵容（未训练）")
                titles = [(zoo.get_entry(n).title, n) for n in COMPARE_CLASSIFIERS]
                models = i18n.tr(gr.Dropdown(choices=titles,
                                             value=list(compare.DEFAULT_MODELS), multiselect=True,
                                             max_choices=compare.MAX_MODELS, label=P["models"].label,
                                             info="Embedded ShapesWorld models run offline; the ImageNet "
                                                  "ones "
                                                  "need the hub (else they run untrained, labelled)."),
                                 "分类器", "内置的 ShapesWorld 模型可离线运行；ImageNet 模型需要 Hub（否则未"
                                        "训练运行，并标注）。")
                frame.examples(image)
                with frame.more_settings():
                    weights = frame.weights_radio(info="random: compare architectures only (size, MACs, "
                                                       "latency).")
                    i18n.tr(weights, info="随机：只比较架构本身（大小、乘加数、延迟）。")
                    heatmap = i18n.tr(gr.Dropdown(choices=list(compare.HEATMAPS), value=P["heatmap"].default,
                                                  label=P["heatmap"].label, info=P["heatmap"].help),
                                      "热图", "auto：ViT 用注意力 rollout，其他模型用 Grad-CAM。")
                    faithfulness = i18n.tr(gr.Dropdown(choices=list(compare.FAITHFULNESS),
                                                       value=P["faithfulness"].default,
                                                       label=P["faithfulness"].label,
                                                       info=P["faithfulness"].help),
                                           "可信度检验",
                                           "drop20：遮住热图最热的 20%，测概率下降多少（与同样面积的随机图比"
                                           "较）。"
                                           "road20：同样的检验，但用 ROAD 的带噪线性插补（更慢）。")
                    topk = i18n.tr(gr.Slider(1, 10, value=P["topk"].default, step=1, label=P["topk"].label),
                                   "前 k 个类别")
                    latency_runs = i18n.tr(gr.Slider(1, 20, value=P["latency_runs"].default, step=1,
                                                     label=P["latency_runs"].label,
                                                     info=P["latency_runs"].help),
                                           "每个模型计时几次", "延迟取这么多次前向的中位数（先预热一次）。")
                    detectors = i18n.tr(gr.Textbox(value=P["detectors"].default, label=P["detectors"].label,
                                                   info=P["detectors"].help),
                                        "检测器", f"逗号分隔的检测器名（最多 {compare.MAX_DETECTORS} 个），"
                                                  "auto 表示内置的 yolox-shapes 模型，none 表示不用。")
                    score_threshold = i18n.tr(gr.Slider(0.05, 0.95, value=P["score_threshold"].default,
                                                        step=0.05,
                                                        label=P["score_threshold"].label), "检测分数阈值")
            with frame.outputs_column(scale=3):
                status = frame.status_box()
                frame.markdown("### Classifiers side by side", "### 分类器并排对比")
                classifiers = frame.figure("Classifiers side by side", "分类器并排对比", show_label=False,
                                           type="numpy")
                gloss = gr.Markdown("", elem_classes=["lenslab-gloss"])
                frame.markdown("### Detectors side by side\nA box is green when every other detector found "
                               "the "
                               "same object (same class, IoU ≥ 0.5), blue when some did, orange when none "
                               "did.",
                               "### 检测器并排对比\n如果其他每个检测器都找到了同一个物体（同一类别，IoU ≥ "
                               "0.5），"
                               "框是绿色；只有部分找到是蓝色；都没找到是橙色。")
                detections = frame.figure("Detectors side by side", "检测器并排对比", show_label=False,
                                          type="numpy")
                with gr.Row():
                    with gr.Column():
                        frame.markdown("**Cost:** multiply-adds vs. latency measured here (bubble area ∝ "
                                       "params)",
                                       "**代价**：乘加数与在这里测得的延迟（气泡面积 ∝ 参数量）")
                        cost = gr.Plot(label="Cost", show_label=False)
                    with gr.Column():
                        summary = i18n.tr(gr.JSON(label="Result (JSON)", open=False))
                download = frame.download_button()
        frame.explanation_panel("compare")

        lang = i18n.page_lang()
        inputs = [image, models, weights, heatmap, faithfulness, topk, latency_runs, detectors,
                  score_threshold]
        frame.stale_on_edit(*inputs)
        lineup.click(lambda: (FAMILY_LINEUP, "random"), None, [models, weights], api_visibility="private",
                     queue=False).then(**frame.STALE_JS)
        outputs = [classifiers, detections, cost, status, summary, download]
        # the cards' text follows the page's language: the radio is every run's last input
        ran = run.click(
            i18n.in_figures(frame.guard(_run)),
            [*inputs, lang],
            outputs,
            api_name="compare",
            concurrency_limit=1,
            **frame.RAW_INPUTS,
        )
        frame.fresh(ran)
        ran.then(_texts, [summary, lang], [status, gloss], api_visibility="private", show_progress="hidden")
        redrawn = lang.change(i18n.in_figures(frame.guard(_redraw)), [*inputs, lang], outputs,
                              api_visibility="private", concurrency_limit=1, **frame.RAW_INPUTS)
        redrawn.then(_texts, [summary, lang], [status, gloss], api_visibility="private",
                     show_progress="hidden")
        i18n.on_language(_texts, [summary], [status, gloss])
    classroom.attach(demo, "compare")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
