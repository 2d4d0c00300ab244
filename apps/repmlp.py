"""RepMLP lesson page: a convolution is a sparse FC; conv branches merge into one FC after training.

Layout and wiring only: one call to ``core.repmlp.run`` per Run (the ``/repmlp`` endpoint), one call
to ``core.repmlp.parameter_calculator`` per change of the calculator's inputs.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import repmlp

P = {p.name: p for p in repmlp.PARAMS}
WEIGHTS = [(label, value) for label, value in frame.WEIGHT_CHOICES if value in P["weights"].choices]


def _run(path: str | None, channels: int = 3, partition_h: int = 6, partition_w: int = 6, parts: int = 3,
         kernels: str = "1,3,5", groups: int = 1, seed: int = 0, pixel_row: int = 6, pixel_col: int = 6,
         weights: str = "auto") -> tuple[Any, ...]:
    image = frame.read_upload(path)
    result = repmlp.run(image, channels=channels, partition_h=partition_h, partition_w=partition_w,
                        parts=parts, kernels=kernels, groups=groups, seed=seed, pixel_row=pixel_row,
                        pixel_col=pixel_col, weights=weights)
    sheet = frame.save_figures(result, "repmlp")
    return (*result.image_list(), result.to_json(), sheet, frame.KEPT.keep(result))


def _redraw(path: str | None, *args: Any) -> tuple[Any, ...]:
    """:func:`_run` again for the language switch, when a photo is there to redraw."""
    return _run(path, *args) if path else tuple(gr.skip() for _ in range(13))  # 10 pictures and 3 more


def _extras(token: str | None, lang: str = "en") -> tuple[Any, Any, str, str]:
    result = frame.KEPT.get(token)
    if result is None:
        return None, None, i18n.say("Weights: not loaded yet — press **Run**.", lang), ""
    steps = [[row["step"], row["value"]] for row in result.summary["bn_fusion"]]
    return result.figures["fc_structure"], steps or None, _status(result.summary, lang), _gloss(
        result.summary, lang)


def _status(s: dict[str, Any], lang: str) -> str:
    loc, demo = s["locality"], s["demo_block"]
    names = {"fc": ("Locality net, plain FC", "局部性实验：纯 FC"),
             "rep": ("Locality net, FC + conv (merged)", "局部性实验：FC + 卷积（合并后）")}
    lines = [frame.model_line(names[v][lang == "zh"], loc["weights"][v], lang) for v in ("fc", "rep")]
    detail = i18n.pick(
        lang,
        "The demo block (photo through the block, FC matrix) is random by design (its seed is under More "
        f"settings): it shows that training-time and deployed blocks compute the same, max |Δ| "
        f"{demo['max_abs_diff_float32']:.1e} in float32.",
        "演示块（照片经过该块、FC 矩阵）的权重本来就是随机的：它只用来说明训练时的块和部署后的块"
        f"算出同样的结果，float32 下最大 |Δ| 为 {demo['max_abs_diff_float32']:.1e}。")
    return frame.status_text(lines, [detail], lang)


def _share(mass: float, even: float, lang: str) -> str:
    ratio = mass / max(even, 1e-9)
    if ratio > 1.3:
        return i18n.pick(lang, "more than an even spread: it prefers nearby pixels",
                         "比平均分布多：它偏爱附近的像素")
    if ratio < 0.77:
        return i18n.pick(lang, "less than an even spread", "比平均分布少")
    return i18n.pick(lang, "about what an even spread gives: no preference for nearby pixels",
                     "与平均分布差不多：对附近像素没有偏好")


def _gloss(s: dict[str, Any], lang: str) -> str:
    """The locality numbers in plain words (what "62 % of |w| in the 7×7 box" means)."""
    loc = s["locality"]
    cells, even = loc["cells_in_box"], loc["uniform_share"]
    fc, rep = loc["mass_in_box_plain_fc"], loc["mass_in_box_rep_fc"]
    fc_all = loc["mass_in_window_all_outputs_plain_fc"]
    rep_all = loc["mass_in_window_all_outputs_rep_fc"]
    even_all = loc["mass_in_window_all_outputs_even_spread"]
    if lang == "zh":
        return (f"**怎么读这些数**：青色框是白色输出像素周围 7×7 的邻域（{cells} 个像素，占 10×10 输入的 "
                f"{even:.0%}）。如果一层不在乎距离，把权重平均分给所有输入像素，"
                f"框里就正好有 {even:.0%} 的 |w|。纯 FC 在框里放了 {fc:.0%}，{_share(fc, even, lang)}；"
                f"带卷积分支训练再合并的 FC 放了 {rep:.0%}，{_share(rep, even, lang)}。"
                f"对全部 6400 个输出：{fc_all:.0%} 和 {rep_all:.0%}，"
                f"平均分布是 {even_all:.0%}（边缘的框被裁掉一部分，所以低于 49%）。")
    return (f"**How to read the numbers.** The cyan box is the 7×7 neighbourhood of the white output "
            f"pixel ({cells} pixels, {even:.0%} of the 10×10 input). A layer that ignored distance would "
            f"spread |w| evenly and put {even:.0%} of it in the box. The plain FC puts {fc:.0%} there — "
            f"{_share(fc, even, lang)}; the FC trained with conv branches and merged puts {rep:.0%} — "
            f"{_share(rep, even, lang)}. Over all 6400 outputs: {fc_all:.0%} and {rep_all:.0%}, against "
            f"{even_all:.0%} for an even spread (boxes at the border are cut, hence below 49 %).")


def _calc(c_in: float, size_in: float, c_out: float, size_out: float, parts: float, groups: float,
          lang: str = "en") -> str:
    r = repmlp.parameter_calculator(int(c_in), int(size_in), int(c_out), int(size_out), int(parts),
                                    int(groups))
    if lang == "zh":
        return (f"**{r['layer']}**\n\n| FC | 参数量 |\n|---|---:|\n"
                f"| 整张特征图一个 FC | {r['full_fc']:,} |\n"
                f"| {r['partitions']} 个分块（{r['partition_in']} → {r['partition_out']}），共享一个 FC | "
                f"{r['partitioned_fc']:,}（÷{r['saving_partition']:,.0f}）|\n"
                f"| ……再用分组 FC，g = {r['groups']} | {r['partitioned_grouped_fc']:,}"
                f"（÷{r['saving_total']:,.0f}）|")
    return (f"**{r['layer']}**\n\n| FC | parameters |\n|---|---:|\n"
            f"| one FC over the whole map | {r['full_fc']:,} |\n"
            f"| {r['partitions']} partitions ({r['partition_in']} → {r['partition_out']}), one shared FC | "
            f"{r['partitioned_fc']:,} (÷{r['saving_partition']:,.0f}) |\n"
            f"| … and grouped FC, g = {r['groups']} | {r['partitioned_grouped_fc']:,} "
            f"(÷{r['saving_total']:,.0f}) |")


def _picture(label: str, zh: str) -> gr.Image:
    # the lesson draws each title inside its picture; the label is what screen readers announce
    return frame.figure(label, zh, show_label=False)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · RepMLP") as demo:
        frame.header("RepMLP: convolutions inside a fully-connected layer",
                     "A conv is a sparse, weight-shared FC. Train FC + conv branches, then merge them into "
                     "one FC — and see where a trained FC puts its weight. Conv branches merged into one "
                     "conv instead: the [RepVGG page](/repvgg); the rest of the MLP family (Mixer, ResMLP, "
                     "gMLP, CycleMLP, AS-MLP): the [MLP page](/mlp).",
                     zh=("RepMLP：全连接层里的卷积",
                         "卷积是稀疏、共享权重的全连接层。先训练 FC 加卷积分支，再把它们合并成一个 FC——"
                         "看训练好的 FC 把权重放在哪里。卷积分支合并成一个卷积：见 [RepVGG 页面](/repvgg)；"
                         "MLP 家族的其他成员（Mixer、ResMLP、gMLP、CycleMLP、AS-MLP）："
                         "见 [MLP 页面](/mlp)。"),
                     first=("press **Run**, then move the **output pixel** and compare the plain FC's map "
                            "with the merged FC's: which one keeps its weight inside the cyan box?",
                            "按**运行**，再移动**输出像素**，比较纯 FC 和合并后 FC 的权重图：哪一个把权重留在"
                            "青色框里？"))
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                with gr.Row():
                    pixel_row = frame.param_slider(P["pixel_row"], "输出像素：行", label="Output pixel: row")
                    pixel_col = frame.param_slider(P["pixel_col"], "输出像素：列",
                                                   label="Output pixel: column")
                frame.examples(image)
                with frame.more_settings():
                    weights = frame.weights_radio(P["weights"].choices, P["weights"].default,
                                                  P["weights"].label,
                                                  zh="训练好的局部性模型的权重")
                    frame.markdown("**Demo block** (random weights by design)", "**演示块**（权重本来就是随机"
                                                                                "的）")
                    kernels = i18n.tr(gr.Dropdown(list(P["kernels"].choices), value=P["kernels"].default,
                                                  label=P["kernels"].label), "卷积分支（局部感知）")
                    channels = frame.param_slider(P["channels"], "特征图的通道数",
                                                  "1 灰度 · 2 灰度+边缘 · 3 RGB · 4 RGB+边缘")
                    groups = frame.param_slider(P["groups"], "分组数 g", "分组 FC 与分组卷积；必须整除通道数")
                    partition_h = frame.param_slider(P["partition_h"], "分块高 h", "一个分块的行数")
                    partition_w = frame.param_slider(P["partition_w"], "分块宽 w", "一个分块的列数（h ≠ w 也"
                                                                                "可以）")
                    parts = frame.param_slider(P["parts"], "每边的分块数", "特征图大小为 (parts·h) × "
                                                                     "(parts·w)")
                    seed = i18n.tr(gr.Number(P["seed"].default, precision=0, label=P["seed"].label,
                                             minimum=P["seed"].minimum, maximum=P["seed"].maximum),
                                   "演示块权重的随机种子")
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                frame.markdown("### Trained locality experiment: weights from output (ch 0, pixel) to input "
                               "ch 0", "### 训练好的局部性实验：从输出（通道 0，像素）到输入通道 0 的权重")
                with gr.Row():
                    loc_fc = _picture("plain FC", "纯 FC")
                    loc_rep = _picture("FC + conv 1/3/5/7, merged", "FC + 卷积 1/3/5/7，合并后")
                gloss = gr.Markdown("", elem_classes=["lenslab-gloss"])
                with gr.Row():
                    loc_fc_mean = _picture("plain FC, all channel pairs", "纯 FC，所有通道对")
                    loc_rep_mean = _picture("merged FC, all channel pairs", "合并后的 FC，所有通道对")
                frame.markdown("### The FC matrix: each contribution and their sum (zoom with the mouse)",
                               "### FC 矩阵：每一部分的贡献与它们的和（可用鼠标缩放）")
                plot = gr.Plot(label="FC matrix", show_label=False)
                merged = _picture("merged FC", "合并后的 FC")
                frame.markdown("### Your photo through the block, before and after conversion",
                               "### 你的照片经过该块：转换前与转换后")
                inp = _picture("input feature map", "输入特征图")
                out_train = _picture("training-time block", "训练时的块")
                out_deploy = _picture("deployed block (one FC)", "部署后的块（一个 FC）")
                diff = _picture("|difference|", "|差|")
                trained = _picture("trained 64×10×10 block on your photo", "训练好的 64×10×10 块作用在你的照"
                                                                           "片上")
                frame.markdown("### BN fusion, step by step", "### BN 融合，一步一步")
                bn_table = i18n.tr(gr.Dataframe(headers=["step", "value"], label="BN fusion",
                                                interactive=False,
                                                wrap=True), "BN 融合", headers=["步骤", "值"])
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.markdown("### Parameter calculator: one FC on a feature map", "### 参数计算器：特征图上的一个 "
                                                                            "FC")
        with gr.Row():
            c_in = i18n.tr(gr.Number(3, precision=0, label="input channels", minimum=1), "输入通道")
            size_in = i18n.tr(gr.Number(112, precision=0, label="input side", minimum=1), "输入边长")
            c_out = i18n.tr(gr.Number(32, precision=0, label="output channels", minimum=1), "输出通道")
            size_out = i18n.tr(gr.Number(56, precision=0, label="output side", minimum=1), "输出边长")
            calc_parts = i18n.tr(gr.Number(2, precision=0, label="partitions per side", minimum=1),
                                 "每边分块数")
            calc_groups = i18n.tr(gr.Number(1, precision=0, label="groups", minimum=1), "分组数")
        calc_out = gr.Markdown(_calc(3, 112, 32, 56, 2, 1))
        frame.explanation_panel("repmlp")

        lang = i18n.page_lang()
        state = frame.kept_result()
        images = [inp, out_train, out_deploy, diff, merged, loc_fc, loc_rep, loc_fc_mean, loc_rep_mean,
                  trained]
        inputs = [image, channels, partition_h, partition_w, parts, kernels, groups, seed, pixel_row,
                  pixel_col, weights]
        frame.stale_on_edit(*inputs)
        # the figures' text follows the page's language: the radio is every run's last input
        run_outputs = [*images, summary, download, state]
        clicked = run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], run_outputs,
                            api_name="repmlp", **frame.RAW_INPUTS)
        frame.fresh(clicked)
        clicked.then(_extras, [state, lang], [plot, bn_table, status, gloss], api_visibility="private")
        redrawn = lang.change(i18n.in_figures(frame.guard(_redraw)), [*inputs, lang], run_outputs,
                              api_visibility="private", **frame.RAW_INPUTS)  # what is shown, redrawn
        redrawn.then(_extras, [state, lang], [plot, bn_table, status, gloss], api_visibility="private")
        i18n.on_language(_extras, [state], [plot, bn_table, status, gloss])
        calc_inputs = [c_in, size_in, c_out, size_out, calc_parts, calc_groups]
        for box in calc_inputs:
            box.change(frame.guard(_calc), [*calc_inputs, lang], calc_out, api_visibility="private",
                       queue=False)
        i18n.on_language(frame.guard(_calc), calc_inputs, [calc_out])
    classroom.attach(demo, "repmlp")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
