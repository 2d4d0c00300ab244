"""Swin windows page: window grid, cyclic shift and its nine regions, masks, relative position bias, v2 CPB.

Layout and wiring only. ``/swin`` takes an image (everything else defaulted) and returns the nine
figures and the JSON summary (the PNG sheet is made by a private follow-up event). The teaching
case (H, W, M, s) and the complexity calculator are model-free: they call
:func:`core.swin.teaching_case` and :func:`core.swin.complexity`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import swin, zoo
from core.viz import words

IMAGE_KEYS = ("window_grid", "shifted_regions", "region_map", "window_mask", "position_index", "bias_tables",
              "query_bias", "v2_coords", "v2_bias")
TEACH_KEYS = ("region_map", "window_mask", "position_index")
P = {p.name: p for p in swin.PARAMS}


def _run(path, model, weights, stage, block, query_row, query_col, height, width, window, shift, mask_window,
         v2_window):
    image = frame.read_upload(path)
    result = swin.run(image, model=model, weights=weights, stage=stage, block=block, query_row=query_row,
                      query_col=query_col, height=height, width=width, window=window, shift=shift,
                      mask_window=mask_window, v2_window=v2_window)
    # the PNG sheet is written by a private follow-up event from the kept result, so API answers stay lean
    return (*(result.images[k] for k in IMAGE_KEYS), result.to_json(), frame.KEPT.keep(result))


def _maybe_run(path, *args):
    if not path:
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 2))
    return _run(path, *args)


def _counts_table(teaching: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    counts = teaching["masked_counts"]
    corner = i18n.pick(lang, "window row ↓ / col →", "窗口行 ↓ / 列 →")
    headers = [corner, *(str(c) for c in range(len(counts[0])))]
    return {"headers": headers, "data": [[r, *row] for r, row in enumerate(counts)]}


def _teach_captions_zh(t: dict[str, Any]) -> dict[str, str]:
    """The teaching case's captions in Chinese, with the same numbers as the English ones."""
    h, w, m, s, k = t["height"], t["width"], t["window"], t["shift"], t["mask_window"]
    masked = [c for row in t["masked_counts"] for c in row][k]
    return {"region_map": f"移位后的区域编号（{h}×{w}，M = {m}，s = {s}）；黑线 = 窗口边界",
            "window_mask": f"窗口 {k} 的 M²×M² 掩码（深色 = −100），被屏蔽 {masked} 项",
            "position_index": f"相对位置索引（M = {m}）：0 … {t['index_max']}"}


def _captions(summary: dict[str, Any], lang: str) -> dict[str, str]:
    """Every figure's caption in ``lang`` (English: the lesson's own)."""
    if lang != "zh":
        return summary["captions"]
    b, q, v2 = summary["block"], summary["query"], summary["v2"]
    m, s = b["window"], b["shift"]
    shift = f"移位 s = {s}" if s else "不移位"
    return {
        "window_grid": f"阶段 {b['stage']}，块 {b['block']}：{b['height']}×{b['width']} 个 token，"
                       f"{m}×{m} 窗口，{shift}",
        "shifted_regions": (f"循环移位 (−{s}, −{s}) 个 token：9 个区域，窗口画在移位后的图上" if s
                            else "这个块不移位：只有一个区域，没有掩码"),
        **_teach_captions_zh(summary["teaching"]),
        "bias_tables": f"学到的偏置表，每个头 {2 * m - 1}×{2 * m - 1}（行 Δy，列 Δx）",
        "query_bias": f"查询 ({q['row']}, {q['col']}) 从窗口内每个 key 得到的偏置",
        "v2_coords": "Swin v2：线性与对数间隔的相对坐标",
        "v2_bias": f"Swin v2 的 CPB 偏置，第 1 个头（{frame.SOURCE_WORDS[v2['source']][1]}）",
    }


def _extras(summary: dict[str, Any] | None, model, weights, lang="en"):
    if not summary:
        return tuple(gr.skip() for _ in range(2 + len(IMAGE_KEYS)))
    v2_weights = summary["v2"]["requested_weights"]
    loaded = [zoo.load_model(model, weights), zoo.load_model(swin.V2_MODEL, v2_weights)]
    random = any(item.source == "random" for item in loaded)
    status = gr.update(value=frame.weights_status(loaded, lang), elem_classes=frame.status_class(random))
    captions = _captions(summary, lang)
    labels = [gr.update(label=captions[k]) for k in IMAGE_KEYS]
    return status, _counts_table(summary["teaching"], lang), *labels


def _teach(height, width, window, shift, mask_window, lang="en"):
    with words.language(lang):  # the colour bars' and the heatmaps' words in the page's language
        result = swin.teaching_case(height, width, window, shift, mask_window)
    captions = _teach_captions_zh(result.summary) if lang == "zh" else result.captions
    images = [gr.update(value=result.images[k], label=captions[k]) for k in TEACH_KEYS]
    return (*images, result.figures["window_mask"], result.figures["position_index"],
            _counts_table(result.summary, lang))


def _teach_figures(height, width, window, shift, mask_window, lang="en"):
    with words.language(lang):
        result = swin.teaching_case(height, width, window, shift, mask_window)
    return (result.figures["window_mask"], result.figures["position_index"],
            _counts_table(result.summary, lang))


def _teach_limits(height, width, window, shift, mask_window):
    window = int(window)
    n = (int(height) // window) * (int(width) // window)
    return (gr.update(maximum=max(window - 1, 0), value=min(int(shift), window - 1)),
            gr.update(maximum=max(n - 1, 0), value=min(int(mask_window), max(n - 1, 0))))


def _complexity(h, w, c, m, lang="en"):
    r = swin.complexity(int(h), int(w), int(c), int(m))
    msa, wmsa, proj = r["msa"] / 1e9, r["wmsa"] / 1e9, r["projections"] / 1e9
    if lang == "zh":
        return (f"**MSA** $4hwC^2 + 2(hw)^2C$ = **{msa:.3f} G** 次乘加  \n"
                f"**W-MSA** $4hwC^2 + 2M^2hwC$ = **{wmsa:.3f} G**  \n"
                f"（其中投影 {proj:.3f} G）——这里窗口注意力便宜 **{r['ratio']:.1f}×**，"
                "而且随 $hw$ 线性增长，而不是平方增长。")
    return (f"**MSA** $4hwC^2 + 2(hw)^2C$ = **{msa:.3f} G** multiply-adds  \n"
            f"**W-MSA** $4hwC^2 + 2M^2hwC$ = **{wmsa:.3f} G**  \n"
            f"(projections alone {proj:.3f} G) — window attention is "
            f"**{r['ratio']:.1f}×** cheaper here, and linear instead of quadratic in $hw$.")


def _dims(model, weights, stage, block, query_row, query_col):
    d = swin.dims(model, weights, stage)
    top = d["window"] - 1
    return (gr.update(maximum=d["stages"], value=d["stage"]),
            gr.update(maximum=d["blocks"], value=min(int(block), d["blocks"])),
            gr.update(maximum=top, value=min(int(query_row), top)),
            gr.update(maximum=top, value=min(int(query_col), top)))


def _picture(label: str, zh: str) -> gr.Image:
    return frame.figure(label, zh)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Swin windows") as demo:
        frame.header("Swin: shifted windows and relative position bias",
                     "How Swin splits the image into windows, rolls them to let neighbouring windows talk, "
                     "masks what the roll brought together, and biases attention by relative position.",
                     zh=("Swin：移位窗口与相对位置偏置",
                         "Swin 怎样把图像切成窗口、循环移位让相邻窗口交流、屏蔽移位后拼到一起的部分，"
                         "并按相对位置给注意力加偏置。"),
                     first=("press **Run**, then set **Block** to 1 (no shift) and back to 2 (shifted): "
                            "watch the nine regions and the mask appear.",
                            "按**运行**，再把**块**设为 1（不移位）再改回 2（移位）："
                            "看九个区域和掩码怎样出现。"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                model = frame.model_dropdown(list(swin.SWIN_MODELS), default=P["model"].default,
                                             label="Swin model", zh="Swin 模型")
                with gr.Row():
                    stage = i18n.tr(gr.Slider(1, 4, value=1, step=1, label="Stage"))
                    block = i18n.tr(gr.Slider(1, 2, value=2, step=1, label="Block (even = shifted)"),
                                    "块（偶数 = 移位）")
                frame.examples(image, scenes=True)
                with frame.more_settings():
                    weights = frame.weights_radio()
                    with gr.Row():
                        qrow = i18n.tr(gr.Slider(0, 3, value=0, step=1, label="Query row in window"),
                                       "查询在窗口内的行")
                        qcol = i18n.tr(gr.Slider(0, 3, value=0, step=1, label="Query column in window"),
                                       "查询在窗口内的列")
                    v2w = i18n.tr(gr.Slider(2, 32, value=16, step=1,
                                            label="Swin v2: enlarged window for the CPB-MLP"),
                                  "Swin v2：给 CPB-MLP 的放大窗口")
                with i18n.tr(gr.Accordion("Teaching case (no model): H, W, M, s", open=False),
                             "教学示例（不用模型）：H、W、M、s"):
                    with gr.Row():
                        t_h = i18n.tr(gr.Slider(2, 32, value=8, step=1, label="H (tokens)"), "H（token 数）")
                        t_w = i18n.tr(gr.Slider(2, 32, value=8, step=1, label="W (tokens)"), "W（token 数）")
                    with gr.Row():
                        t_m = i18n.tr(gr.Slider(1, 12, value=4, step=1, label="Window M"), "窗口 M")
                        t_s = i18n.tr(gr.Slider(0, 3, value=2, step=1, label="Shift s (Swin: ⌊M/2⌋)"),
                                      "移位 s（Swin：⌊M/2⌋）")
                    t_win = i18n.tr(gr.Slider(0, 3, value=3, step=1, label="Window to inspect (row-major)"),
                                    "要查看的窗口（按行编号）")
                with i18n.tr(gr.Accordion("Complexity: MSA vs W-MSA", open=False), "计算量：MSA 与 W-MSA"):
                    with gr.Row():
                        c_h = gr.Number(56, label="h", precision=0, minimum=1)
                        c_w = gr.Number(56, label="w", precision=0, minimum=1)
                        c_c = gr.Number(96, label="C", precision=0, minimum=1)
                        c_m = gr.Number(7, label="M", precision=0, minimum=1)
                    calc = gr.Markdown(_complexity(56, 56, 96, 7),
                                       latex_delimiters=[{"left": "$", "right": "$", "display": False}])
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                with gr.Row():
                    grid_img = _picture("Token grid and windows", "token 网格与窗口")
                    shifted_img = _picture("Cyclic shift: the nine regions", "循环移位：九个区域")
                frame.markdown("### Teaching case: region ids, one window's mask, relative position index",
                               "### 教学示例：区域编号、一个窗口的掩码、相对位置索引")
                with gr.Row():
                    region_img = _picture("Region ids", "区域编号")
                    mask_img = _picture("Window mask", "窗口掩码")
                with gr.Row():
                    mask_plot = i18n.tr(gr.Plot(label="Window mask (hover for query, key, value)"),
                                        "窗口掩码（悬停查看 query、key 和值）")
                    counts = i18n.tr(gr.Dataframe(label="Masked entries per window (window grid)",
                                                  interactive=False),
                                     "每个窗口被屏蔽的项数（按窗口网格）")
                with gr.Row():
                    index_img = _picture("Relative position index", "相对位置索引")
                    index_plot = i18n.tr(gr.Plot(label="Relative position index (hover)"),
                                         "相对位置索引（可悬停）")
                frame.markdown("### The loaded model's relative position bias",
                               "### 所加载模型的相对位置偏置")
                bias_img = _picture("Learned bias tables", "学到的偏置表")
                query_img = _picture("Bias received by the query token", "查询 token 得到的偏置")
                frame.markdown("### Swin v2: log-spaced continuous position bias",
                               "### Swin v2：对数间隔的连续位置偏置")
                with gr.Row():
                    coords_img = _picture("Linear vs log-spaced coordinates", "线性与对数间隔的坐标")
                    v2_img = _picture("CPB bias", "CPB 偏置")
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("swin")

        lang = i18n.page_lang()
        teach_inputs = [t_h, t_w, t_m, t_s, t_win]
        inputs = [image, model, weights, stage, block, qrow, qcol, *teach_inputs, v2w]
        images = [grid_img, shifted_img, region_img, mask_img, index_img, bias_img, query_img, coords_img,
                  v2_img]
        kept = frame.kept_result()
        outputs = [*images, summary, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("swin")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        extras = dict(fn=frame.guard(_extras), inputs=[summary, model, weights, lang],
                      outputs=[status, counts, *images], api_visibility="private")
        i18n.on_language(frame.guard(_extras), [summary, model, weights], [status, counts, *images])
        teach_outputs = [region_img, mask_img, index_img, mask_plot, index_plot, counts]
        teach = dict(fn=frame.guard(_teach), inputs=[*teach_inputs, lang], outputs=teach_outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal")
        calc_inputs = [c_h, c_w, c_c, c_m]
        i18n.on_language(frame.guard(_complexity), calc_inputs, [calc])
        frame.stale_on_edit(image, model, weights, stage, block, qrow, qcol, v2w)

        figures = dict(fn=frame.guard(_teach_figures), inputs=[*teach_inputs, lang],
                       outputs=[mask_plot, index_plot, counts], api_visibility="private",
                       show_progress="hidden")
        # the figures' text follows the page's language: the radio is every run's last input
        clicked = run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], outputs, api_name="swin",
                            **frame.RAW_INPUTS)
        frame.fresh(clicked)
        clicked.then(**extras).then(**figures).then(**sheet)
        rerun = dict(fn=i18n.in_figures(frame.guard(_maybe_run)), inputs=[*inputs, lang], outputs=outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal",
                     **frame.RAW_INPUTS)
        for event in (image.change, lang.change):  # a language switch redraws what is shown
            changed = event(**rerun)
            frame.fresh(changed)
            changed.then(**extras).then(**figures).then(**sheet)
        lang.change(**teach)  # the teaching case too (it is drawn without a photo)
        for control in (block, qrow, qcol, v2w):
            released = control.release(**rerun)
            frame.fresh(released)
            released.then(**extras).then(**sheet)
        geometry = [stage, block, qrow, qcol]
        for control in (model, stage):
            again = control.change(frame.guard(_dims), [model, weights, *geometry], geometry,
                                   api_visibility="private").then(**rerun)
            frame.fresh(again)
            again.then(**extras).then(**sheet)
        for control in teach_inputs:
            control.release(frame.guard(_teach_limits), teach_inputs, [t_s, t_win], api_visibility="private",
                            ).then(**teach)
        for control in calc_inputs:
            control.change(frame.guard(_complexity), [*calc_inputs, lang], calc, api_visibility="private")
        demo.load(**teach)
        demo.load(frame.guard(_dims), [model, weights, *geometry], geometry, api_visibility="private")
    classroom.attach(demo, "swin")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
