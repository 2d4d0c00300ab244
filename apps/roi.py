"""RoI operators page (``/roi``): RoIPool, RoIAlign, PS-RoIPool/Align and the FPN level of one box.

Layout and wiring only: one call to :func:`core.roi_lesson.run` per event. ``/roi`` takes an image
(everything else defaulted) and returns the nine figures and the JSON summary. Two clicks on the
first picture make a box, a click on the RoIAlign picture probes the nearest sample
(:func:`core.roi_lesson.photo_point` turns a click into photo pixels); the PNG sheet and the figure
captions come from private follow-up events.
"""

from __future__ import annotations

import re
from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
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
| ResNet-50-C4, stride 16 (Table 2c; RoIPool max, RoIAlign ave) | 26.9 (48.8 / 26.4) | 30.3 (51.2 / 31.5) |
| ResNet-50-C5, stride 32 (Table 2d) | 23.6 (46.5 / 21.6) | 30.9 (51.8 / 32.1) |
| ResNet-50-C5, stride 32, **box** AP (Table 2d) | 28.2 (52.7 / 26.9) | 34.0 (55.3 / 36.4) |

He et al., *Mask R-CNN*, ICCV 2017 (arXiv 1703.06870). RoIWarp (bilinear, but the RoI still
quantised) scores like RoIPool: 27.2 / 27.1 AP. With FPN's finer strides RoIAlign still adds 1.5 mask AP
and 0.5 box AP, and 4.4 keypoint AP (Table 6).
"""
PAPER_TABLE_ZH = (
    "| Mask R-CNN，COCO minival，掩码 AP（AP50 / AP75） | RoIPool | RoIAlign |\n|---|---|---|\n"
    "| ResNet-50-C4，步长 16（表 2c；RoIPool 取最大值，RoIAlign 取平均） "
    "| 26.9 (48.8 / 26.4) | 30.3 (51.2 / 31.5) |\n"
    "| ResNet-50-C5，步长 32（表 2d） | 23.6 (46.5 / 21.6) | 30.9 (51.8 / 32.1) |\n"
    "| ResNet-50-C5，步长 32，**框** AP（表 2d） | 28.2 (52.7 / 26.9) | 34.0 (55.3 / 36.4) |\n\n"
    "He 等，*Mask R-CNN*，ICCV 2017（arXiv 1703.06870）。RoIWarp（双线性插值，但 RoI 仍然取整）的成绩和 "
    "RoIPool 差不多：27.2 / 27.1 AP。换成 FPN 更细的步长后，RoIAlign 仍能多出 1.5 掩码 AP、0.5 框 AP，"
    "以及 4.4 关键点 AP（表 6）。\n")


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


def _status(s: dict[str, Any], lang: str = "en") -> str:
    """One line for the backbone, one for the box and what it is checked against; the rest folded."""
    title = s["model"]["status"].split(" · ")[0]
    f, b, fpn = s["feature"], s["box"], s["fpn"]
    x0, y0, x1, y1 = b["photo"]
    worst = max(v for v in s["torchvision_max_abs_difference"].values())
    centre = s["cell_centre"]
    known = centre["x"] is not None and centre["y"] is not None
    if lang == "zh":
        box = (f"框 ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) 照片像素{'（默认）' if b['default'] else ''} · "
               f"{f['height']}×{f['width']}×{f['channels']} 特征图（步长 {f['stride']}）· "
               f"FPN 层级 **{fpn['level']}** · 显示的每个值都与 torchvision 的算子相等"
               f"（最大 |Δ| = {worst:.1g}）")
        where = (f"这个骨干网络步长 {f['stride']} 的格子中心在 {f['stride']}·c + "
                 f"({centre['x']:g}, {centre['y']:g}) 像素（实测；半像素模型给出 "
                 f"{centre['half_pixel_model']:g}）" if known else "感受野比用来测格子中心的条带还宽")
        more = [f"显示通道 {f['channel']} · 在 Mask R-CNN 的 800 像素尺度下，FPN 层级为 "
                f"{fpn['level_at_coco_scale']}", where + "。"]
    else:
        box = (f"Box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) photo px{' (default)' if b['default'] else ''} "
               f"· {f['height']}×{f['width']}×{f['channels']} map (stride {f['stride']}) · FPN level "
               f"**{fpn['level']}** · every value shown equals torchvision's ops (largest |Δ| = {worst:.1g})")
        where = (f"this backbone's stride-{f['stride']} cells are centred at {f['stride']}·c + "
                 f"({centre['x']:g}, {centre['y']:g}) px (measured; the half-pixel model says "
                 f"{centre['half_pixel_model']:g})" if known
                 else "the receptive field is wider than the strip used to measure where cells are centred")
        more = [f"channel {f['channel']} shown · FPN level at Mask R-CNN's 800-px scale: "
                f"{fpn['level_at_coco_scale']}", where[0].upper() + where[1:] + "."]
    line = frame.model_line(title, s["model"]["source"], lang,
                            stand_in_for=frame.stand_in(s["model"]["name"], title))
    return frame.status_text([line, box], [s["model"]["status"], *more], lang)


#: the lesson's captions in Chinese: each English caption's pattern and its translation (None: a function)
_CAPTIONS_ZH: dict[str, tuple[str, str | None]] = {
    "overview": (r"Stride-(\d+) cells on the (\d+)×(\d+) input; box \(white\) snapped by RoIPool "
                 r"\(orange\): green = gained, hatched vermillion = lost\. Click two corners for a new box\.",
                 r"步长 \1 的格子，画在 \2×\3 的输入上；白框是原来的框，橙框是 RoIPool 取整后的框："
                 r"绿色 = 多出的部分，朱红斜线 = 丢掉的部分。点击两个对角可以画新框。"),
    "roi_pool": (r"RoIPool (\d+)×\d+, channel (\d+): white dashes = exact bins, orange = the floor/ceil "
                  "cells "
                 r"each bin max-pools, yellow hatch = read by two bins, blue dot = each maximum",
                 r"RoIPool \1×\1，通道 \2：白色虚线 = 精确的 bin，橙色 = 每个 bin 向下或向上取整后"
                 r"做最大池化的格子，黄色斜线 = 被两个 bin 读到，蓝点 = 每个最大值"),
    "roi_align": (r"RoIAlign (\d+)×\d+, aligned=(\w+), (\d+)×(\d+) samples per bin "
                  r"\((?:adaptive|ratio (\d+))\); yellow = the probed sample and its 4 neighbours\. "
                  r"Click a sample to probe it\.", None),
    "bilinear": (r"The probed sample: each neighbour's weight is the area opposite it; value = Σ w·v",
                 r"被查看的采样点：每个邻居的权重是它对面那块的面积；值 = Σ w·v"),
    "aligned": (r"aligned=False \(vermillion ×\) reads every sample ½ cell = ([\d.]+) px down-right of "
                r"aligned=True \(blue •\); outputs: False, True",
                r"aligned=False（朱红 ×）读的每个采样点都比 aligned=True（蓝 •）往右下偏半个格子"
                r" = \1 像素；输出：False、True"),
    "ps_bins": (r"PS-RoIAlign (\d+)×\d+: bin \(i, j\) reads only channel (\d+)·(\d+) \+ i·(\d+) \+ j "
                r"\(colour = group\); PS-RoIAlign's vote r = mean = ([-\d.]+), PS-RoIPool's ([-\d.]+)",
                r"PS-RoIAlign \1×\1：bin (i, j) 只读通道 \2·\3 + i·\4 + j（颜色 = 组）；"
                r"PS-RoIAlign 的投票 r = 均值 = \5，PS-RoIPool 的是 \6"),
    "ps_maps": (r"The (\d+) score maps of output channel (\d+): each tile's outlined bin is all that bin "
                 "reads",
                r"输出通道 \2 的 \1 张得分图：每块上描了边的 bin 就是那个 bin 读取的全部内容"),
    "fpn": (r"FPN level k = (.*) → (\d+) \(clamped to 2…5\); at Mask R-CNN's 800-px scale: (\d+)",
            r"FPN 层级 k = \1 → \2（限制在 2…5）；在 Mask R-CNN 的 800 像素尺度下：\3"),
    "misalignment": (r"How far each operator reads from the box \(stride (\d+)\); a (\d+)×(\d+) mask cell "
                     r"here is ([\d.]+) px",
                     r"每种算子读的位置离框有多远（步长 \1）；这里一个 \2×\3 的掩码格子是 \4 像素"),
}


def _align_zh(m: re.Match) -> str:
    ratio = f"比例 {m.group(5)}" if m.group(5) else "自适应"
    return (f"RoIAlign {m.group(1)}×{m.group(1)}，aligned={m.group(2)}，每个 bin {m.group(3)}×{m.group(4)} "
            f"个采样点（{ratio}）；黄色 = 被查看的采样点及其 4 个邻居。点击一个采样点来查看它。")


def caption_in(key: str, text: str, lang: str) -> str:
    """One of the lesson's captions in ``lang`` (the English one when its pattern no longer matches)."""
    if lang != "zh" or key not in _CAPTIONS_ZH:
        return text
    pattern, zh = _CAPTIONS_ZH[key]
    match = re.fullmatch(pattern, text)
    if match is None:
        return text
    return _align_zh(match) if zh is None else match.expand(zh)


def _captions(summary: dict[str, Any] | None, lang: str = "en"):
    """The nine captions and the status line, in the page's language."""
    if not summary:
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 1))
    captions = tuple(caption_in(k, summary["captions"].get(k, ""), lang) for k in IMAGE_KEYS)
    return (*captions, _status(summary, lang))


def _bounds(summary: dict[str, Any] | None) -> tuple[Any, Any]:
    """The channel boxes run to the map's channels and to the PS output channels there are."""
    if not summary:
        return gr.skip(), gr.skip()
    return (gr.update(maximum=summary["feature"]["channels"] - 1),
            gr.update(maximum=summary["ps"]["channels_out"] - 1))


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


def _picture(label: str, zh: str, height: int = 360,
             elem_id: str | None = None) -> tuple[gr.Image, gr.Markdown]:
    """A figure with a short label and, under it, the caption the lesson writes for this result."""
    with gr.Column(min_width=300):
        # an explicit height: without it Gradio 6 collapsed row-mates to 0 px at 1280-1440 px widths
        image = frame.figure(label, zh, height=height, elem_id=elem_id)
        caption = gr.Markdown("", elem_classes=["lenslab-caption"])
    return image, caption


def build() -> gr.Blocks:
    """The page as a fresh Blocks (the whole app renders one on its route; a reload builds it anew)."""
    with gr.Blocks(title="LensLab · RoI operators") as demo:
        frame.header("RoI operators: RoIPool, RoIAlign, position-sensitive pooling, FPN levels",
                     "A two-stage detector cuts a fixed k×k feature out of every box. How it snaps, splits "
                     "and samples the feature map decides whether a 28×28 mask lines up with the object.",
                     zh=("RoI 算子：RoIPool、RoIAlign、位置敏感池化与 FPN 层级",
                         "两阶段检测器从每个框里切出固定 k×k 的特征。它怎样取整、分格、采样，决定了 28×28 的"
                         "掩码"
                         "能不能和物体对齐。"),
                     first=("pick an example (photo and box) and press **Run**; then compare RoIPool's "
                            "orange "
                            "cells with RoIAlign's sample points, and click a sample to take it apart.",
                            "选一个示例（照片和框）并按**运行**；比较 RoIPool 的橙色格子和 RoIAlign 的采样点"
                            "，"
                            "再点击一个采样点把它拆开看。"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=330):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                box = i18n.tr(gr.Textbox("", label=P["box"].label, info=P["box"].help,
                                         placeholder="131,79,211,151", elem_id="roi-box"),
                              "框 x0, y0, x1, y1（照片像素）", "直接输入，或在第一张图上点击两个对角；留空则"
                                                        "用默认框。")
                examples = gr.Examples(examples=EXAMPLES, inputs=[image, box], label="Examples (photo and "
                                                                                     "box)",
                                       example_labels=EXAMPLE_LABELS, examples_per_page=6)
                i18n.tr(examples.dataset, "示例（照片和框）")
                click_info = frame.markdown("Tip: click two opposite corners on the first picture to draw a "
                                            "box.",
                                            "提示：在第一张图上点击两个对角，就能画一个框。")
                with frame.more_settings():
                    model = i18n.tr(gr.Dropdown([(zoo.get_entry(n).title, n) for n in P["model"].choices],
                                                value=P["model"].default, label=P["model"].label,
                                                info=P["model"].help),
                                    "骨干网络", "动物园里的一个 CNN；RoI 算子读取的是它步长 16 或 32 的特征图"
                                            "。")
                    weights = frame.weights_radio(P["weights"].choices, P["weights"].default,
                                                  P["weights"].label)
                    stride = i18n.tr(gr.Radio(list(P["stride"].choices), value=P["stride"].default,
                                              label=P["stride"].label, info=P["stride"].help),
                                     "特征步长", "16：ResNet 的 C4，ResNet 版 Faster R-CNN 在这里池化"
                                                 "（R-FCN 步长 16 的得分图来自空洞化的 C5）；32：C5。")
                    with gr.Row():
                        input_size = frame.param_slider(P["input_size"], "网络输入的长边（像素）")
                        output_size = frame.param_slider(P["output_size"], "输出 k×k（RoIPool、RoIAlign）",
                                                         "Faster / Mask R-CNN 的框头里是 7。")
                    with gr.Row():
                        sampling = frame.param_slider(P["sampling_ratio"], "RoIAlign 采样比例",
                                                      "每个 bin 每个方向的采样点数；0 = 自适应 ⌈bin 大小⌉"
                                                      "（detectron2 的默认）。")
                        ps_size = frame.param_slider(P["ps_size"], "PS-RoI 的 k（R-FCN）",
                                                     "R-FCN 的示意图用 3×3，主要结果用 7×7。")
                    aligned = i18n.tr(gr.Checkbox(P["aligned"].default, label=P["aligned"].label,
                                                  info=P["aligned"].help),
                                      "aligned=True（−½ 格的平移）",
                                      "detectron2 的半像素修正；False 是 Mask R-CNN 代码里原来的 RoIAlign。")
                    with gr.Row():
                        channel = i18n.tr(gr.Number(P["channel"].default, precision=0, minimum=-1,
                                                    label=P["channel"].label, info=P["channel"].help),
                                          "显示的特征通道", "−1：框里最活跃的通道。")
                        ps_class = i18n.tr(gr.Number(P["ps_class"].default, precision=0, minimum=-1,
                                                     label=P["ps_class"].label, info=P["ps_class"].help),
                                           "PS 输出通道", "哪一组 k² 个通道投票；−1：投票最高的那组。")
                pending = gr.State(None)
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                with gr.Row():
                    overview, c1 = _picture("1 · the box on the cell grid (click two corners)",
                                            "1 · 格子网格上的框（点击两个对角）", elem_id="roi-overview")
                    pool_img, c2 = _picture("2 · RoIPool", "2 · RoIPool")
                with gr.Row():
                    align_img, c3 = _picture("3 · RoIAlign (click a sample)",
                                             "3 · RoIAlign（点击一个采样点）",
                                             elem_id="roi-align")
                    bilinear, c4 = _picture("4 · one sample's bilinear read", "4 · 一个采样点的双线性读取")
                # the probed point sits by the pictures it explains (a click on picture 3 fills it)
                probe = i18n.tr(gr.Textbox("", label=P["probe"].label, info=P["probe"].help,
                                           placeholder="170,130", elem_id="roi-probe"),
                                "查看点 x, y（照片像素）",
                                "离它最近的采样点会被拆开看；点击 RoIAlign 图，或留空。")
                aligned_img, c5 = _picture("5 · aligned=False vs aligned=True",
                                           "5 · aligned=False 与 aligned=True")
                with gr.Row():
                    ps_img, c6 = _picture("6 · PS-RoIAlign bins (R-FCN)", "6 · PS-RoIAlign 的 bin（R-FCN）")
                    ps_maps, c7 = _picture("7 · the score map each bin reads", "7 · 每个 bin 读取的得分图")
                fpn, c8 = _picture("8 · FPN level", "8 · FPN 层级", height=240)
                misalign, c9 = _picture("9 · misalignment", "9 · 错位", height=340)
                frame.markdown(PAPER_TABLE, PAPER_TABLE_ZH)
                with i18n.tr(gr.Accordion("Result (JSON) and figures", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                    download = frame.download_button()
        frame.explanation_panel("roi")

        lang = i18n.page_lang()
        inputs = [image, model, weights, box, stride, input_size, output_size, sampling, aligned, probe,
                  channel, ps_size, ps_class]
        pictures = [overview, pool_img, align_img, bilinear, aligned_img, ps_img, ps_maps, fpn, misalign]
        captions = [c1, c2, c3, c4, c5, c6, c7, c8, c9]
        kept = frame.kept_result()
        outputs = [*pictures, summary, status, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("roi")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        labels = dict(fn=frame.guard(_captions), inputs=[summary, lang], outputs=[*captions, status],
                      api_visibility="private", show_progress="hidden", queue=False)
        bounds = dict(fn=_bounds, inputs=summary, outputs=[channel, ps_class], api_visibility="private",
                      show_progress="hidden", queue=False)
        i18n.on_language(frame.guard(_captions), [summary], [*captions, status])
        frame.stale_on_edit(*inputs)

        def computed(event: Any) -> None:
            frame.fresh(event)
            event.then(**labels).then(**bounds).then(**sheet)

        # the text inside the figures follows the page's language (the radio is the last input)
        computed(run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], outputs, api_name="roi",
                           **frame.RAW_INPUTS))
        rerun = dict(fn=i18n.in_figures(frame.guard(_maybe_run)), inputs=[*inputs, lang], outputs=outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal",
                     **frame.RAW_INPUTS)
        computed(lang.change(**rerun))  # figures already shown are redrawn in the new language
        computed(image.change(**rerun))
        for control in (input_size, output_size, sampling, ps_size):
            computed(control.release(**rerun))
        for control in (model, weights, stride, aligned):
            computed(control.change(**rerun))
        for control in (box, probe, channel, ps_class):
            computed(control.submit(**rerun))
        computed(overview.select(frame.guard(_click_box), [summary, box, pending], [box, pending, click_info],
                                 api_visibility="private").then(
            i18n.in_figures(frame.guard(_run_if_box)), [pending, *inputs, lang], outputs,
            api_visibility="private", **frame.RAW_INPUTS))
        computed(align_img.select(frame.guard(_click_probe), summary, probe, api_visibility="private").then(
            **rerun))

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
