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

from apps import classroom, frame, i18n
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


def _status(summary: dict[str, Any], lang: str = "en") -> str:
    """One line per model row (the trained net, and its random init shown on purpose), then HRNet."""
    lines, details = [], []
    for row in summary["models"]:
        trained = [m for m in row if m["source"] != "random"] or row[:1]
        first = trained[0]
        title = first["status"].split(" · ")[0]
        lines.append(frame.model_line(title, first["source"], lang,
                                      stand_in_for=frame.stand_in(first["model"], title)))
        details.extend(f"{m['model']}: {m['status']}" for m in row)
    for m in summary.get("shared_stand_in", []):
        lines.append(i18n.pick(lang, f"**{m['model']}** · its offline stand-in {m['same_as']} is already "
                                     "shown "
                                     "above",
                               f"**{m['model']}** · 它的离线替身 {m['same_as']} 已经显示在上面"))
    h = summary["hrnet"]
    title = h["status"].split(" · ")[0]
    lines.append(frame.model_line(title, h["source"], lang))
    if any(len(row) > 1 for row in summary["models"]):
        lines.append(i18n.pick(lang, "Beside each trained map: the same network with random weights, on "
                                     "purpose.",
                               "每张训练过的图旁边：同一网络的随机权重版本（有意对比）。"))
    details.append(f"HRNet: {h['status']}")
    return frame.status_text(lines, details, lang)


def _status_in(summary: dict[str, Any] | None, lang: str) -> Any:
    return gr.skip() if not summary else _status(summary, lang)


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
            zh=("感受野：从 VGG 到 ConvNeXt（以及 HRNet）",
                "点击一个像素：那里的单元能看到哪些输入像素（理论感受野），实际又用了哪些（有效感受野，即梯度"
                "）？"
                "逐个阶段，把训练过的和未训练的放在一起比较。"),
            first=("press **Run**, then move **Stage** from 1 to the last and compare the trained ERF with "
                   "the "
                   "random one next to it; click a map to move the unit.",
                   "按**运行**，再把**阶段**从 1 拖到最后，比较训练过的有效感受野和旁边随机权重的；点击图可以"
                   "移动单元。"),
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                models = i18n.tr(gr.Dropdown(
                    choices=[(zoo.get_entry(n).title, n) for n in receptive.ERF_MODELS],
                    value=list(receptive.DEFAULT_MODELS), multiselect=True, max_choices=receptive.MAX_MODELS,
                    label=P["models"].label,
                    info="Offline, ResNet-50 and ConvNeXt-T use the packaged ImageNet EfficientNet-Lite0, "
                         "Swin-T and ViT-S the embedded ShapesWorld models."),
                    "模型", "离线时，ResNet-50 和 ConvNeXt-T 用安装包里的 ImageNet EfficientNet-Lite0，"
                            "Swin-T 和 ViT-S 用内置的 ShapesWorld 模型。")
                stage = frame.param_slider(P["stage"], "阶段", "1 = 第一个特征阶段；0 = 最后一个。阶段较少的"
                                                             "模型用它的最后一个。")
                frame.examples(image)
                with frame.more_settings():
                    weights = frame.weights_radio(info=P["weights"].help)
                    i18n.tr(weights, info="auto：在线用预训练权重；离线用安装包里的 ImageNet CNN 或内置的 "
                                          "ShapesWorld "
                                          "模型，否则用随机权重（并标注）。")
                    random_init = i18n.tr(gr.Checkbox(value=P["random_init"].default,
                                                      label=P["random_init"].label,
                                                      info=P["random_init"].help),
                                          "在训练过的旁边显示随机初始化", "同时显示每个架构的随机权重版本："
                                                            "训练会不会扩大有效感受野（Luo 等人发现会；"
                                                            "随包的 EfficientNet-Lite0 不会）？")
                    scale = i18n.tr(gr.Radio(choices=list(receptive.SCALES), value=P["scale"].default,
                                             label=P["scale"].label, info=P["scale"].help),
                                    "有效感受野的色标", "linear：|梯度| / 最大值；log：跨 4 个数量级的 "
                                                "log10（显示整个支撑）。")
                    frame.markdown("**Building blocks: C, H = W**", "**构件：C，H = W**")
                    block_channels = frame.param_slider(P["block_channels"], "构件：通道数 C")
                    block_size = frame.param_slider(P["block_size"], "构件：H = W")
                roadmap_flag = gr.Checkbox(value=P["roadmap"].default, label=P["roadmap"].label,
                                           info=P["roadmap"].help, visible=False)
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                frame.markdown("### Effective receptive field of the clicked unit — click a map to move it",
                               "### 所点单元的有效感受野——点击图可以移动它")
                erf_img = frame.figure("ERF", "有效感受野", show_label=False, elem_id="receptive-erf")
                with gr.Row():  # where the unit is (a click on the maps sets it)
                    query_x = frame.param_slider(P["query_x"], "点击位置 x", "0 = 左边缘，1 = 右边缘。")
                    query_y = frame.param_slider(P["query_y"], "点击位置 y", "0 = 上边缘，1 = 下边缘。")
                frame.markdown("### How far each stage sees", "### 每个阶段能看多远")
                growth_img = frame.figure("Growth per stage", "逐阶段的增长", show_label=False)
                frame.markdown("### One block of each family: what it costs", "### 每个家族的一个构件：代价是"
                                                                              "多少")
                blocks_img = frame.figure("Building blocks", "构件", show_label=False)
                frame.markdown("### HRNet: parallel streams, exchanged at every stage",
                               "### HRNet：并行的多条分支，每个阶段互相交换")
                hrnet_img = frame.figure("HRNet", "HRNet", show_label=False)
                frame.markdown("### ConvNeXt's roadmap: from ResNet-50 to ConvNeXt-T",
                               "### ConvNeXt 的路线图：从 ResNet-50 到 ConvNeXt-T")
                roadmap_btn = i18n.tr(gr.Button("Build the 16 networks of the roadmap (once, ~10–30 s)",
                                                variant="secondary"), value="构建路线图的 16 个网络（只需一次"
                                                                            "，约 10–30 秒）")
                roadmap_img = frame.figure("ConvNeXt roadmap", "ConvNeXt 路线图", show_label=False)
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("receptive")

        lang = i18n.page_lang()
        inputs = [image, models, weights, random_init, stage, query_x, query_y, scale, block_channels,
                  block_size, roadmap_flag]
        kept = frame.kept_result()
        outputs = [erf_img, growth_img, blocks_img, hrnet_img, roadmap_img, status, summary, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("receptive")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        texts = dict(fn=_status_in, inputs=[summary, lang], outputs=status, api_visibility="private",
                     show_progress="hidden")
        i18n.on_language(_status_in, [summary], [status])
        frame.stale_on_edit(*inputs[:-1])

        def computed(event: Any) -> None:
            frame.fresh(event)
            event.then(**texts).then(**sheet)

        # the figures' text follows the page's language: the radio is every run's last input
        computed(run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], outputs, api_name="receptive",
                           **frame.RAW_INPUTS))
        rerun = dict(fn=i18n.in_figures(frame.guard(_maybe_run)), inputs=[*inputs, lang], outputs=outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal",
                     **frame.RAW_INPUTS)
        computed(image.change(**rerun))
        computed(lang.change(**rerun))  # a language switch redraws what is shown
        computed(erf_img.select(_click, [models], [query_x, query_y], api_visibility="private").then(**rerun))
        for control in (stage, query_x, query_y, block_channels, block_size):
            computed(control.release(**rerun))
        for control in (scale, random_init, weights):
            computed(control.change(**rerun))
        # the roadmap is drawn in the page's language too
        roadmap_btn.click(i18n.in_figures(frame.guard(_roadmap)), [lang], roadmap_img,
                          api_visibility="private", concurrency_limit=1)
    classroom.attach(demo, "receptive")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
