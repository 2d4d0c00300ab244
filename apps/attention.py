"""Attention maps page: ViT/DeiT CLS attention, rollout, a clicked patch, and Swin window attention.

Layout and wiring only: every event makes one call into :mod:`core.attention` and renders it.
The endpoint ``/attention`` takes an image (everything else defaulted) and returns two figures —
the ViT's four maps as a 2×2 grid ("one head | mean of heads" over "rollout | clicked patch") and
the Swin comparison ("with | without the shift mask" above the window rows) — and the JSON summary;
status, top-5, the head table, the entropy chart and the PNG sheet are rendered by private
follow-up events.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import attention, zoo
from core.viz import words
from core.viz.attention_viz import grid_click, grid_figure

FIGURES = 2  # the ViT grid (four maps) and the Swin figure (pair + window rows)
P = {p.name: p for p in attention.PARAMS}


Titles = tuple[str, str]


def _panel_titles(summary: dict[str, Any]) -> tuple[Titles, Titles, Titles]:
    """Panel titles: (one head, mean of heads), (rollout, clicked patch), (with, without the Swin mask)."""
    cap, swin, roll = summary["captions"], summary["swin"], summary["rollout"]
    say = words.say  # drawn into the figures: in the page's language (the captions already are)
    shift = say("shift {shift}", shift=swin["shift"]) if swin["shift"] else say("no shift")
    where = say("stage {stage}, block {block} ({shift})", stage=swin["stage"], block=swin["block"],
                shift=shift)
    rollout = say("rollout · head {fusion}, discard {ratio:.2f}", fusion=roll["fusion"],
                  ratio=roll["discard_ratio"])
    return ((cap["cls_attention"], cap["head_mean"].split(" · ")[-1]),
            (rollout, cap["patch_attention"]),
            (say("with the mask · {where}", where=where), say("without the mask: other regions leak in")))


def _figures(result) -> tuple:
    """The lesson's seven pictures as the page's two figures (each a grid of titled panels)."""
    im = result.images
    (cls_t, mean_t), (roll_t, patch_t), (masked_t, unmasked_t) = _panel_titles(result.summary)
    vit = grid_figure([[(im["cls_attention"], cls_t), (im["head_mean"], mean_t)],
                       [(im["rollout"], roll_t), (im["patch_attention"], patch_t)]])
    swin = grid_figure([[(im["swin_masked"], masked_t), (im["swin_unmasked"], unmasked_t)],
                        [(im["swin_rows"], result.summary["captions"]["swin_rows"])]])
    return vit, swin


def _labels(summary: dict[str, Any]) -> list[str]:
    """What screen readers announce for the two figures (their panel titles)."""
    vit, maps, swin = _panel_titles(summary)
    return [" | ".join((*vit, *maps)), " | ".join((*swin, summary["captions"]["swin_rows"]))]


def _run(path, model, weights, layer, head, fusion, discard_ratio, query_x, query_y, swin_model,
         swin_weights, swin_stage, swin_block, swin_head, smooth):
    image = frame.read_upload(path)
    result = attention.run(image, model=model, weights=weights, layer=layer, head=head, fusion=fusion,
                           discard_ratio=discard_ratio, query_x=query_x, query_y=query_y,
                           swin_model=swin_model, swin_weights=swin_weights, swin_stage=swin_stage,
                           swin_block=swin_block, swin_head=swin_head, smooth=smooth)
    # the PNG sheet is written by a private follow-up event from the kept result, so API answers stay lean
    return (*_figures(result), result.to_json(), frame.KEPT.keep(result))


def _maybe_run(path, *args):
    if not path:  # the upload was cleared: keep the page as it is
        return tuple(gr.skip() for _ in range(FIGURES + 2))
    return _run(path, *args)


HEAD_COLUMNS = ("#", "CLS entropy (bits)", "≈ tokens attended", "max CLS→patch weight", "mean entropy (bits)")
HEAD_COLUMNS_ZH = ("#", "CLS 熵（比特）", "≈ 关注的 token 数", "最大 CLS→patch 权重", "平均熵（比特）")


def _extras(summary: dict[str, Any] | None, model, weights, swin_model, swin_weights, path=None, lang="en"):
    if not summary:
        return tuple(gr.skip() for _ in range(7 + FIGURES))
    with words.language(lang):  # the figures' labels and the entropy chart in the page's language
        return _extras_in(summary, model, weights, swin_model, swin_weights, path, lang)


def _extras_in(summary: dict[str, Any], model, weights, swin_model, swin_weights, path, lang):
    loaded = [zoo.load_model(model, weights), zoo.load_model(swin_model, swin_weights)]
    random = any(item.source == "random" for item in loaded)
    status = gr.update(value=frame.weights_status(loaded, lang), elem_classes=frame.status_class(random))
    top5 = {t["label"]: t["probability"] for t in summary["top5"]}
    swin_top5 = {t["label"]: t["probability"] for t in summary["swin"]["top5"]}
    rows = [[r["head"], round(r["cls_entropy_bits"], 3), round(r["effective_tokens"], 1),
             round(r["max_weight"], 4), round(r["mean_entropy_bits"], 3)] for r in summary["heads_table"]]
    labels = [gr.update(label=text) for text in _labels(summary)]
    fits = [frame.fit_note(item.source, len(item.labels), top, path, lang)
            for item, top in zip(loaded, (summary["top5"], summary["swin"]["top5"]), strict=True)]
    return status, top5, swin_top5, rows, attention.entropy_figure(summary), *labels, *fits


def _dims(model, weights):
    d = attention.dims(model, weights)
    return gr.update(maximum=d["layers"], value=0), gr.update(maximum=d["heads"], value=1)


def _swin_dims(model, weights, stage, block, head):
    d = attention.dims(model, weights)
    stage = min(int(stage), len(d["stages"]))
    blocks, heads = d["stages"][stage - 1], d["heads"][stage - 1]
    return (gr.update(maximum=len(d["stages"]), value=stage),
            gr.update(maximum=blocks, value=min(int(block), blocks)),
            gr.update(maximum=heads, value=min(int(head), heads)))


def _figure(label: str, height: int) -> gr.Image:
    # JPEG: encoding the figures of every answer as PNG would cost more than computing them
    # an explicit height: without it Gradio 6 collapsed wide figures to 0 px at 1280-1440 px widths
    return gr.Image(label=label, interactive=False, buttons=["download", "fullscreen"], format="jpeg",
                    height=height,
                    show_label=False)


def _click_on(map_rows: int):
    """A select handler for a grid figure whose first ``map_rows`` rows are maps of the image."""
    def clicked(evt: gr.SelectData):
        point = grid_click(evt.index[0], evt.index[1], attention.PANEL_WIDTH, attention.VIEW, map_rows)
        if point is None:  # the window-rows table under the Swin maps
            return gr.skip(), gr.skip()
        return tuple(min(max(v / attention.VIEW, 0.0), 0.999) for v in point)
    return clicked


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Attention maps") as demo:
        frame.header("Attention maps",
                     "Where does a Vision Transformer look? CLS attention per layer and head, attention "
                     "rollout, the attention of any patch you click — and Swin's attention inside one "
                     "(shifted) window.",
                     zh=("注意力图", "Vision Transformer 在看哪里？每层每个头的 CLS 注意力、注意力 rollout、"
                         "你点击的任意 patch 的注意力，以及 Swin 在一个（移位）窗口内的注意力。"),
                     first=("pick an example, press **Run**, then click the cat's eye on a map; move "
                            "**Layer** from 1 to the last and watch the attention gather.",
                            "选一个示例，按**运行**，再在图上点猫的眼睛；把**层**从 1 拖到最后一层，"
                            "看注意力如何聚拢。"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                model = frame.model_dropdown(list(attention.VIT_MODELS), default=P["model"].default,
                                             label="ViT / DeiT model", zh="ViT / DeiT 模型")
                with gr.Row():
                    layer = i18n.tr(gr.Slider(0, 12, value=0, step=1, label="Layer (0 = last)"),
                                    "层（0 = 最后一层）")
                    head = i18n.tr(gr.Slider(1, 12, value=1, step=1, label="Head"))
                frame.examples(image, scenes=True)
                with frame.more_settings():
                    weights = frame.weights_radio(label="Weights (ViT / DeiT)", zh="权重（ViT / DeiT）")
                    fusion = i18n.tr(gr.Radio(list(attention.FUSIONS), value="mean",
                                              label="Rollout: head fusion"), "Rollout：多头的融合方式")
                    discard = i18n.tr(gr.Slider(0.0, 0.95, value=0.0, step=0.05,
                                                label="Rollout: discard ratio",
                                                info="Zero the smallest weights of every layer before "
                                                     "multiplying."),
                                      "Rollout：丢弃比例", "每层先把最小的权重置零，再相乘。")
                    with gr.Row():
                        qx = i18n.tr(gr.Slider(0.0, 0.999, value=P["query_x"].default, step=0.001,
                                               label="Clicked x"), "点击位置 x")
                        qy = i18n.tr(gr.Slider(0.0, 0.999, value=P["query_y"].default, step=0.001,
                                               label="Clicked y"), "点击位置 y")
                    smooth = i18n.tr(gr.Checkbox(value=False,
                                                 label="Smooth overlays (bilinear instead of patch cells)"),
                                     "平滑叠加（双线性插值，而不是整格 patch）")
                    frame.markdown("**Swin window attention**", "**Swin 窗口注意力**")
                    swin_model, swin_weights = frame.model_picker(list(attention.SWIN_MODELS),
                                                                  default=P["swin_model"].default,
                                                                  label="Swin model", zh="Swin 模型")
                    with gr.Row():
                        swin_stage = i18n.tr(gr.Slider(1, 4, value=1, step=1, label="Stage"))
                        swin_block = i18n.tr(gr.Slider(1, 2, value=2, step=1, label="Block (even = shifted)"),
                                             "块（偶数 = 移位）")
                        swin_head = i18n.tr(gr.Slider(1, 3, value=1, step=1, label="Head"))
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                frame.markdown("**Click any attention map** to choose the query patch (and the Swin token).",
                               "**点击任意一张注意力图**，选择查询 patch（以及 Swin 的 token）。")
                # the grids carry their titles inside the picture; Gradio's label badge would cover them
                vit_grid = _figure("CLS → patches: one head | mean of all heads; rollout | clicked patch",
                                   height=720)
                with gr.Row():
                    with gr.Column():
                        top5 = i18n.tr(gr.Label(num_top_classes=5, label="Top-5 (ViT / DeiT)"),
                                       "前 5 类（ViT / DeiT）")
                        fit = gr.Markdown("", elem_classes=["lenslab-fit"])
                    heads = i18n.tr(gr.Dataframe(headers=list(HEAD_COLUMNS), interactive=False, wrap=True,
                                                 label="Heads of the chosen layer"),
                                    "所选层的各个头", headers=list(HEAD_COLUMNS_ZH))
                entropy = i18n.tr(gr.Plot(label="Entropy of the CLS row, every layer and head"),
                                  "CLS 行的熵：每一层、每一个头")
                frame.markdown("### Swin: one token's window attention, with and without the shift mask",
                               "### Swin：一个 token 的窗口注意力，有无移位掩码对比")
                swin_fig = _figure("One token's window row: with | without the mask; the window rows",
                                   height=640)
                with gr.Column():
                    swin_top5 = i18n.tr(gr.Label(num_top_classes=5, label="Top-5 (Swin)"), "前 5 类（Swin）")
                    swin_fit = gr.Markdown("", elem_classes=["lenslab-fit"])
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("attention")

        inputs = [image, model, weights, layer, head, fusion, discard, qx, qy, swin_model, swin_weights,
                  swin_stage, swin_block, swin_head, smooth]
        images = [vit_grid, swin_fig]
        kept = frame.kept_result()
        outputs = [*images, summary, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("attention")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        lang = i18n.page_lang()
        extras_inputs = [summary, model, weights, swin_model, swin_weights, image]
        extras_outputs = [status, top5, swin_top5, heads, entropy, *images, fit, swin_fit]
        extras = dict(fn=frame.guard(_extras), inputs=[*extras_inputs, lang], outputs=extras_outputs,
                      api_visibility="private")
        i18n.on_language(frame.guard(_extras), extras_inputs, extras_outputs)
        frame.stale_on_edit(image, model, weights, layer, head, fusion, discard, qx, qy, smooth, swin_model,
                            swin_weights, swin_stage, swin_block, swin_head)

        def refresh(event: Any) -> Any:
            """After any computation: status, top-5, head table, entropy chart, captions, the PNG sheet."""
            frame.fresh(event)
            return event.then(**extras).then(**sheet)

        # the figures' text follows the page's language: the radio is every run's last input
        refresh(run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], outputs, api_name="attention",
                          **frame.RAW_INPUTS))
        rerun = dict(fn=i18n.in_figures(frame.guard(_maybe_run)), inputs=[*inputs, lang], outputs=outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal",
                     **frame.RAW_INPUTS)
        refresh(image.change(**rerun))
        refresh(lang.change(**rerun))  # a language switch redraws what is shown
        for control in (layer, head, discard, qx, qy, swin_block, swin_head):
            refresh(control.release(**rerun))
        for control in (fusion, smooth):
            refresh(control.change(**rerun))
        for figure, map_rows in ((vit_grid, 2), (swin_fig, 1)):
            refresh(figure.select(_click_on(map_rows), None, [qx, qy],
                                  api_visibility="private").then(**rerun))
        demo.load(frame.guard(_dims), [model, weights], [layer, head], api_visibility="private")
        swin_controls = [swin_stage, swin_block, swin_head]
        demo.load(frame.guard(_swin_dims), [swin_model, swin_weights, *swin_controls], swin_controls,
                  api_visibility="private")
        refresh(model.change(frame.guard(_dims), [model, weights], [layer, head], api_visibility="private")
                .then(**rerun))
        for control in (swin_model, swin_stage):
            refresh(control.change(frame.guard(_swin_dims), [swin_model, swin_weights, *swin_controls],
                                   swin_controls, api_visibility="private").then(**rerun))
    classroom.attach(demo, "attention")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
