"""The MLP family page (``/mlp``): MLP-Mixer, ResMLP, gMLP, CycleMLP and AS-MLP mixing tokens without
attention, on the photo, next to a ViT's attention.

Layout and wiring only: one call to :func:`core.mlp.run` per event. ``/mlp`` takes an image (everything
else defaulted) and returns the figures and the JSON summary; a click on the first figure picks the
patch; the status line, the Chinese captions and the PNG sheet come from private follow-up events.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import mlp as lesson
from core import zoo

IMAGE_KEYS = ("feeds", "locality", "matrices", "fixed", "cost")
P = {p.name: p for p in lesson.PARAMS}
LABELS = {  # figure: (English, 中文) before the first run
    "feeds": ("1 · Who feeds the clicked patch (click a photo)",
              "1 · 谁在为所点的 patch 提供输入（点击照片）"),
    "locality": ("2 · ResMLP's cross-patch weights, block by block", "2 · ResMLP 的跨 patch 权重，逐块"),
    "matrices": ("3 · The N×N mixing matrices side by side", "3 · 并排的 N×N 混合矩阵"),
    "fixed": ("4 · CycleMLP and AS-MLP: fixed reads, channel by channel",
              "4 · CycleMLP 与 AS-MLP：逐通道的固定读取"),
    "cost": ("5 · Resolution and cost", "5 · 分辨率与代价"),
}


def _int(value: Any, default: int) -> Any:
    """A number box's value as the whole number the lesson checks (an empty box: the default)."""
    if value is None or value == "":
        return default
    try:
        return int(value) if float(value) == int(float(value)) else value
    except (TypeError, ValueError):
        return value


def _run(path, model, weights, block, query_x, query_y, cycle_kernel, shift_size, dilation, channels):
    image = frame.read_upload(path)
    result = lesson.run(image, model=model, weights=weights, block=_int(block, 0), query_x=query_x,
                        query_y=query_y, cycle_kernel=cycle_kernel, shift_size=shift_size, dilation=dilation,
                        channels=channels)
    return (*(result.images.get(k) for k in IMAGE_KEYS), result.to_json(), frame.KEPT.keep(result))


def _maybe_run(path, *args):
    if not path:
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 2))
    return _run(path, *args)


def _click(evt: gr.SelectData):
    point = lesson.click_to_query(evt.index[0], evt.index[1])
    if point is None:  # a colour bar or a gap
        return gr.skip(), gr.skip()
    return point


def _captions(summary: dict[str, Any], lang: str) -> dict[str, str]:
    if lang != "zh":
        return summary["captions"]
    pr = summary["patch"]["resmlp"]
    g = summary["models"]["resmlp"]["grid"]
    learned = "学到的" if summary["models"]["resmlp"]["learned"] else "**不是**学到的（随机权重）"
    return {
        "feeds": f"谁在为所点的 patch 提供输入（ResMLP 的 {g[0]}×{g[1]} 网格中第 {pr['row']} 行、"
                 f"第 {pr['col']} 列）：学到的权重（ResMLP、gMLP），Mixer 的雅可比矩阵与 ViT 注意力"
                 "（二者都取决于照片）。红色为正，蓝色为负。",
        "locality": f"ResMLP 每一块 linear_tokens 中所点 patch 的那一行（权重是{learned}），"
                    "以及每块落在 3×3 与 5×5 邻域内的 |w| 占比",
        "matrices": "同一张照片上各混合器的 N×N token 混合矩阵（行 = 输出 patch，列 = 输入 patch，"
                    "按行优先）：稠密且学到的、取决于数据的、固定且稀疏的",
        "fixed": "CycleMLP 与 AS-MLP：一个输出位置的每个通道读取哪个位置，通道全连接之后的全部通道，"
                 "以及 1–3 个混合器后的范围",
        "cost": "图像变大时一个 token 混合层的参数量与乘加次数（步长 16）",
    }


def _status(summary: dict[str, Any], lang: str) -> str:
    m = summary["models"]
    r = summary["resmlp"]
    loc = r["locality_3x3"]
    early, late = loc[: max(1, len(loc) // 2)], loc[len(loc) // 2:]
    e, lt = sum(early) / len(early), sum(late) / len(late)
    u = r["locality_uniform"]["3x3"]
    if lang == "zh":
        return (f"ResMLP 落在 3×3 邻域内的 |w| 占比：前半部分的块 {e:.2f}，后半部分 {lt:.2f}"
                f"（不偏向任何 patch 时为 {u:.2f}）· 网格：ResMLP {m['resmlp']['grid'][0]}²，"
                f"gMLP {m['gmlp']['grid'][0]}²，Mixer "
                f"{m['mixer']['grid'][0]}²，ViT {m['vit']['grid'][0]}²")
    return (f"ResMLP share of |w| within 3×3: early blocks {e:.2f}, late blocks {lt:.2f} "
            f"(no preference: {u:.2f}) · "
            f"grids: ResMLP {m['resmlp']['grid'][0]}², gMLP {m['gmlp']['grid'][0]}², Mixer "
            f"{m['mixer']['grid'][0]}², ViT {m['vit']['grid'][0]}²")


def _extras(summary: dict[str, Any] | None, model, weights, lang="en"):
    if not summary:
        return tuple(gr.skip() for _ in range(1 + len(IMAGE_KEYS)))
    loaded = [zoo.load_model(model, weights), *(zoo.load_model(n, weights)
                                                for n in (lesson.GMLP, lesson.MIXER, lesson.VIT))]
    random = any(item.source == "random" for item in loaded)
    text = frame.weights_status(loaded, lang, details=[_status(summary, lang)])
    status = gr.update(value=text, elem_classes=frame.status_class(random))
    captions = _captions(summary, lang)
    return status, *(gr.update(label=captions.get(k, LABELS[k][lang == "zh"])) for k in IMAGE_KEYS)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · MLP family") as demo:
        frame.header("The MLP family: mixing tokens without attention",
                     "ResMLP and gMLP mix patches with learned N×N layers, MLP-Mixer with a learned "
                     "N → D_S → N MLP, CycleMLP and AS-MLP with fixed shifts: click a patch and see who "
                     "feeds it, next to a ViT's attention. "
                     "Convolutions merged into an FC: the [RepMLP page](/repmlp).",
                     zh=("MLP 家族：不用注意力混合 token",
                         "ResMLP 和 gMLP 用学到的 N×N 层混合 patch，MLP-Mixer 用学到的 N → D_S → N MLP，"
                         "CycleMLP 和 AS-MLP 用固定的平移：点击一个 patch，看看谁在为它提供输入，"
                         "并与 ViT 的注意力对比。把卷积合并进全连接层："
                         "见 [RepMLP 页面](/repmlp)。"),
                     first=("press **Run**, then click a patch on a photo in figure 1; set **Block** "
                            "to a later one and compare figure 2's early and late blocks.",
                            "按**运行**，再在图 1 的照片上点击一个 patch；把**块**改成后面的块，比较图 2 "
                            "中前面和后面的块。"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                model = frame.model_dropdown(list(P["model"].choices), default=P["model"].default,
                                             label="ResMLP", zh="ResMLP")
                block = i18n.tr(gr.Number(P["block"].default, precision=0, minimum=0, maximum=29,
                                          label=P["block"].label, info=P["block"].help),
                                "块", "每个网络的第几块（0 = 第一块）；块数较少的网络显示它的最后一块。")
                with gr.Row():
                    query_x = frame.param_slider(P["query_x"], "patch 的 x",
                                                 "所点 patch 的位置，占宽度的比例（0 = 左）。")
                    query_y = frame.param_slider(P["query_y"], "patch 的 y",
                                                 "所点 patch 的位置，占高度的比例（0 = 上）。")
                frame.examples(image, scenes=True)
                with frame.more_settings():
                    weights = frame.weights_radio(P["weights"].choices)
                    cycle_kernel = frame.param_slider(
                        P["cycle_kernel"], "Cycle FC 的伪卷积核",
                        "CycleMLP 阶梯式偏移的范围：1×k 与 k×1（官方代码：3）。")
                    shift_size = frame.param_slider(P["shift_size"], "AS-MLP 的平移大小",
                                                    "s 组通道，分别读取 ⌊s/2⌋ … −⌊s/2⌋ 格之外"
                                                    "（论文：5，即 +2 … −2）。")
                    dilation = frame.param_slider(
                        P["dilation"], "AS-MLP 的膨胀",
                        "每一步平移移动的格数（论文：1；2 或 3 让十字变宽并带空隙）。")
                    channels = frame.param_slider(P["channels"], "显示的通道数", "逐通道视图画出多少个通道。")
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                pictures = {}
                pictures["feeds"] = frame.figure(*LABELS["feeds"])
                pictures["locality"] = frame.figure(*LABELS["locality"])
                pictures["matrices"] = frame.figure(*LABELS["matrices"])
                pictures["fixed"] = frame.figure(*LABELS["fixed"])
                pictures["cost"] = frame.figure(*LABELS["cost"])
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("mlp")

        lang = i18n.page_lang()
        inputs = [image, model, weights, block, query_x, query_y, cycle_kernel, shift_size, dilation,
                  channels]
        figures = [pictures[k] for k in IMAGE_KEYS]
        kept = frame.kept_result()
        outputs = [*figures, summary, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("mlp")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        extras = dict(fn=frame.guard(_extras), inputs=[summary, model, weights, lang],
                      outputs=[status, *figures], api_visibility="private")
        i18n.on_language(frame.guard(_extras), [summary, model, weights], [status, *figures])
        frame.stale_on_edit(*inputs)

        # the figures' text follows the page's language: the radio is every run's last input
        clicked = run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], outputs, api_name="mlp",
                            **frame.RAW_INPUTS)
        frame.fresh(clicked)
        clicked.then(**extras).then(**sheet)
        rerun = dict(fn=i18n.in_figures(frame.guard(_maybe_run)), inputs=[*inputs, lang], outputs=outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal",
                     **frame.RAW_INPUTS)

        def computed(event: Any) -> None:
            frame.fresh(event)
            event.then(**extras).then(**sheet)

        # a language switch redraws what is shown too
        for event in (image.change, model.change, weights.change, block.submit, lang.change):
            computed(event(**rerun))
        for control in (query_x, query_y, cycle_kernel, shift_size, dilation, channels):
            computed(control.release(**rerun))
        computed(pictures["feeds"].select(_click, None, [query_x, query_y], api_visibility="private")
                 .then(**rerun))
    classroom.attach(demo, "mlp")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
