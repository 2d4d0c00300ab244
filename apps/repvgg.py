"""Re-parameterisation page (``/repvgg``): a RepVGG / MobileOne block merged into one 3×3 conv on the
photo, YOLOv7's planned RepConv, and what deployment saves.

Layout and wiring only: one call to :func:`core.repvgg_lesson.run` per event. ``/repvgg`` takes an
image (everything else defaulted) and returns the figures and the JSON summary; the status line, the
Chinese captions and the PNG sheet come from private follow-up events.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import repvgg_lesson as lesson
from core import zoo

IMAGE_KEYS = ("merge", "branches", "centre", "stem_kernels", "placements", "exactness", "speed")
P = {p.name: p for p in lesson.PARAMS}
LABELS = {  # figure: (English, 中文) before the first run
    "merge": ("1 · The merge, number by number", "1 · 合并，逐个数字"),
    "branches": ("2 · The branches on your photo, and the one merged conv",
                 "2 · 照片上的各分支与合并后的一个卷积"),
    "centre": ("3 · Centre taps of the merged kernels", "3 · 合并后卷积核的中心抽头"),
    "stem_kernels": ("4 · The stem's merged kernels", "4 · stem 合并后的卷积核"),
    "placements": ("5 · YOLOv7: the identity branch on a shortcut", "5 · YOLOv7：捷径上的恒等分支"),
    "exactness": ("6 · Exactness: training-time vs deployed", "6 · 精确性：训练形式与部署形式"),
    "speed": ("7 · Why it pays", "7 · 为什么值得"),
}


def _yolov7_table(lang: str = "en") -> str:
    t = lesson.YOLOV7_TABLES
    cols = " | ".join(t["columns"])
    lines = []
    for key in ("concatenation", "residual"):
        rows = t[key]["rows"]
        lines.append(f"**{t[key]['table']}**\n\n| {'model' if lang == 'en' else '模型'} | {cols} |\n|---|"
                     + "---|" * len(t["columns"]))
        lines += [f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |" for name, values in rows]
        lines.append("")
    source = i18n.pick(lang, f"COCO val, from {t['source']}. The AP differences are tenths of a point.",
                       f"COCO val，摘自 {t['source']}。AP 差异只有零点几。")
    return "\n".join(lines) + "\n" + source


def _int(value: Any, default: int) -> Any:
    """A number box's value as the whole number the lesson checks (an empty box: the default)."""
    if value is None or value == "":
        return default
    try:
        return int(value) if float(value) == int(float(value)) else value
    except (TypeError, ValueError):
        return value


def _run(path, model, weights, block, channel, in_channel, speed):
    image = frame.read_upload(path)
    result = lesson.run(image, model=model, weights=weights, block=_int(block, -1), channel=_int(channel, -1),
                        in_channel=_int(in_channel, -1), speed=bool(speed))
    return (*(result.images.get(k) for k in IMAGE_KEYS), result.to_json(), frame.KEPT.keep(result))


def _maybe_run(path, *args):
    if not path:
        return tuple(gr.skip() for _ in range(len(IMAGE_KEYS) + 2))
    return _run(path, *args)


def _captions(summary: dict[str, Any], lang: str) -> dict[str, str]:
    if lang != "zh":
        return summary["captions"]
    b, c, j = summary["block"], summary["channel"], summary["in_channel"]
    learned = "学到的" if summary["model"]["learned"] else "**不是**学到的（随机权重）"
    place = summary.get("placements") or {}
    return {
        "merge": f"块 {b['index']}（{b['name']}）的输出通道 {c} ← 输入通道 {j}：每条分支的 BN 折叠进卷积核"
                 f"（×γ/σ），1×1 放到中心，恒等分支是中心的狄拉克冲激，相加。卷积核是{learned}。",
        "branches": f"照片经网络到块 {b['index']}；输入通道 {j}，以及各分支、它们的和、合并后的单个 3×3 卷积"
                    f"的输出通道 {c}，和 |Δ|（float64）",
        "centre": "合并后卷积核的中心抽头（输出 × 组内输入）；恒等分支在 [c, c mod C/g] 处加上 γ/σ",
        "stem_kernels": f"stem 合并后的 3×3 卷积核，按 RGB 显示（各自按最大权重缩放）——卷积核是{learned}",
        "placements": f"YOLOv7 的残差位置（块 {place.get('block', '')}）：捷径 x 与恒等分支 BN(x) "
                      "携带同一个信号"
                      "（每个通道的相关系数为 ±1）",
        "exactness": "训练形式与部署形式输出之差的最大值，float32 与 float64（对数坐标）",
        "speed": "为什么值得：这台 CPU 上训练形式与部署形式的前向（batch 1，224² 像素）",
    }


def _status(summary: dict[str, Any], lang: str) -> tuple[str, str]:
    """(what the kernels are, the block's exactness numbers) in ``lang``."""
    m = summary["model"]
    d = summary["train_vs_deployed"]["block"]
    timm = summary["timm_reparameterize"]["kernel_max_abs_difference"]
    b = summary["block"]
    if lang == "zh":
        kernels = "卷积核是学到的" if m["learned"] else "**随机权重：这些卷积核不是学到的**"
        line = (f"块 {b['index']}（{b['name']}，{b['kind']}，分支：{'、'.join(b['branches'])}，groups = "
                f"{b['groups']}）· 训练形式与合并后的差：float32 {d['float32']['output']:.1e}，float64 "
                f"{d['float64']['output']:.1e} · 与 timm 的 reparameterize() 卷积核之差 {timm:.1e}")
    else:
        kernels = "Learned kernels" if m["learned"] else "**RANDOM weights: these kernels are not learned**"
        line = (f"Block {b['index']} ({b['name']}, {b['kind']}, branches {', '.join(b['branches'])}, groups "
                f"{b['groups']}) · training-time vs merged: float32 {d['float32']['output']:.1e}, float64 "
                f"{d['float64']['output']:.1e} · kernels vs timm's reparameterize(): {timm:.1e}")
    return kernels, line


def _extras(summary: dict[str, Any] | None, model, weights, lang="en"):
    if not summary:
        return tuple(gr.skip() for _ in range(1 + len(IMAGE_KEYS)))
    loaded = zoo.load_model(model, weights)
    random = loaded.source == "random"
    kernels, line = _status(summary, lang)
    text = f"{kernels}  \n" + frame.weights_status(loaded, lang, details=[line])
    status = gr.update(value=text, elem_classes=frame.status_class(random))
    captions = _captions(summary, lang)
    return status, *(gr.update(label=captions.get(k, LABELS[k][lang == "zh"])) for k in IMAGE_KEYS)


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Re-parameterisation") as demo:
        frame.header("Re-parameterisation: RepVGG, MobileOne and YOLOv7's planned RepConv",
                     "Train with 3×3, 1×1 and identity branches, deploy one 3×3 conv that computes exactly "
                     "the same: the merge taken apart on your photo. Conv → FC instead: the "
                     "[RepMLP page](/repmlp).",
                     zh=("结构重参数化：RepVGG、MobileOne 与 YOLOv7 的计划型 RepConv",
                         "训练时用 3×3、1×1 和恒等分支，部署时只用一个计算结果完全相同的 3×3 卷积："
                         "在你的照片上把合并拆开来看。卷积合并进全连接层：见 [RepMLP 页面](/repmlp)。"),
                     first=("press **Run**: follow one output channel through the merge (figure 1), then set "
                            "**Block** to a later one.",
                            "按**运行**：在图 1 中跟着一个输出通道走完合并，再把**块**改成后面的块。"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                run = frame.run_button()
                model = frame.model_dropdown(list(P["model"].choices), default=P["model"].default,
                                             label="Network", zh="网络")
                block = i18n.tr(gr.Number(P["block"].default, precision=0, minimum=-1, label=P["block"].label,
                                          info=P["block"].help), "块（0 = stem）",
                                "要拆开的可重参数化块；−1：第一个三条分支（3×3、1×1、恒等）都有的块。")
                frame.examples(image, scenes=True)
                with frame.more_settings():
                    weights = frame.weights_radio(P["weights"].choices)
                    with gr.Row():
                        channel = i18n.tr(gr.Number(P["channel"].default, precision=0, minimum=-1,
                                                    label=P["channel"].label, info=P["channel"].help),
                                          "输出通道", "−1：这张照片上最活跃的通道。")
                        in_channel = i18n.tr(gr.Number(P["in_channel"].default, precision=0, minimum=-1,
                                                       label=P["in_channel"].label,
                                                       info=P["in_channel"].help),
                                             "所示卷积核的输入通道",
                                             "−1：恒等分支对应的那个输入通道（否则取最强的）。")
                    speed = i18n.tr(gr.Checkbox(P["speed"].default, label=P["speed"].label,
                                                info=P["speed"].help),
                                    "测量训练形式与部署形式的速度",
                                    "在这台 CPU 上测量 RepVGG-A0 与 MobileOne-S0 规模的网络的延迟和内存"
                                    "（每个服务器进程测一次）。")
            with frame.outputs_column(scale=2):
                status = frame.status_box()
                pictures = {}
                pictures["merge"] = frame.figure(*LABELS["merge"])
                pictures["branches"] = frame.figure(*LABELS["branches"])
                with gr.Row():
                    pictures["centre"] = frame.figure(*LABELS["centre"])
                    pictures["stem_kernels"] = frame.figure(*LABELS["stem_kernels"])
                frame.markdown("### YOLOv7's planned re-parameterised convolution",
                               "### YOLOv7 的计划型重参数化卷积")
                pictures["placements"] = frame.figure(*LABELS["placements"])
                pictures["exactness"] = frame.figure(*LABELS["exactness"])
                frame.markdown(_yolov7_table("en"), _yolov7_table("zh"))
                pictures["speed"] = frame.figure(*LABELS["speed"])
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
                download = frame.download_button()
        frame.explanation_panel("repvgg")

        lang = i18n.page_lang()
        inputs = [image, model, weights, block, channel, in_channel, speed]
        figures = [pictures[k] for k in IMAGE_KEYS]
        kept = frame.kept_result()
        outputs = [*figures, summary, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("repvgg")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        extras = dict(fn=frame.guard(_extras), inputs=[summary, model, weights, lang],
                      outputs=[status, *figures],
                      api_visibility="private")
        i18n.on_language(frame.guard(_extras), [summary, model, weights], [status, *figures])
        frame.stale_on_edit(image, model, weights, block, channel, in_channel, speed)

        # the figures' text follows the page's language: the radio is every run's last input
        clicked = run.click(i18n.in_figures(frame.guard(_run)), [*inputs, lang], outputs, api_name="repvgg",
                            **frame.RAW_INPUTS)
        frame.fresh(clicked)
        clicked.then(**extras).then(**sheet)
        rerun = dict(fn=i18n.in_figures(frame.guard(_maybe_run)), inputs=[*inputs, lang], outputs=outputs,
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal",
                     **frame.RAW_INPUTS)
        for event in (image.change, model.change, weights.change, speed.change, block.submit, channel.submit,
                      in_channel.submit, lang.change):  # a language switch redraws what is shown
            again = event(**rerun)
            frame.fresh(again)
            again.then(**extras).then(**sheet)
    classroom.attach(demo, "repvgg")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
