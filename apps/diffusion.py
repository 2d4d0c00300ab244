"""Diffusion lesson page: noise an image (forward), rebuild one step by step (reverse), SDEdit the upload.

Layout and wiring only. The forward tab calls ``core.diffusion.forward``; the reverse and SDEdit tabs
stream ``core.diffusion.run_stream`` (a result every k steps). ``/diffusion`` is the SDEdit run: with
only an image it noises the upload to the timestep of strength 0.6 and denoises it back with DDIM in
50 steps, streaming x_t and x̂0. Diffusion is heavy, so its streaming events share two workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from apps import classroom, frame, i18n
from core import diffusion, imagen_lesson

P = {p.name: p for p in diffusion.PARAMS}
F = {p.name: p for p in diffusion.FORWARD_PARAMS}
IM = {p.name: p for p in diffusion.IMAGEN_PARAMS}
CA = {p.name: p for p in diffusion.CASCADE_PARAMS}
MODELS = list(diffusion.MODELS)
CONCURRENCY = 2
CASCADE_VIEWS = ("cascade", "photo", "sr_film")
def _params(model: str, weights: str, sampler: str, steps: Any, eta: Any, seed: Any, every: Any,
            label: str, guidance: Any, strength: Any, mode: str) -> dict[str, Any]:
    return dict(model=model, weights=weights, sampler=sampler, steps=int(steps), eta=float(eta),
                seed=int(seed), every=int(every), label=label, guidance=float(guidance),
                strength=float(strength), mode=mode)


VIEW_LABELS = {"x_t": ("x_t (current sample)", "x_t（当前样本）"),
               "x0_pred": ("x̂₀ (the model's guess of the clean image)", "x̂₀（模型对干净图像的猜测）"),
               "result": ("input → result", "输入 → 结果")}
_CONDITIONING_ZH = {"unconditional model": "无条件模型",
                    "class-conditional model run with the null class (unconditional)": "类别条件模型，用空类"
                                                                                       "别运行（无条件）"}


def _status(summary: dict[str, Any], lang: str = "en") -> str:
    """One line for the model, one for where the sampler is; the full weights status in the fold."""
    zh = lang == "zh"
    done = summary["step"] == summary["total_steps"]
    title = summary["weights_status"].split(" · ")[0]
    sampler = summary["sampler"].upper()
    if summary["sampler"] == "ddim":
        sampler += f", η = {summary['eta']:g}"
    conditioning = summary["conditioning"]
    if summary["mode"] == "generate":
        start = i18n.pick(lang, "pure noise", "纯噪声")
    else:
        start = i18n.pick(lang, f"your image noised to t = {summary['start_t']} (ᾱ = "
                                f"{summary['start_alpha_bar']:.3f})",
                          f"你的图加噪到 t = {summary['start_t']}（ᾱ = {summary['start_alpha_bar']:.3f}）")
    if zh:
        conditioning = _CONDITIONING_ZH.get(conditioning, conditioning.replace("class", "类别"))
        where = (f"{_bar(summary['progress'])} 第 **{summary['step']} / {summary['total_steps']}** 步 · "
                 f"t = {summary['t']} · {sampler} · 起点：{start} · {conditioning}")
        where += " · 完成" if done else ""
    else:
        where = (f"{_bar(summary['progress'])} step **{summary['step']} / {summary['total_steps']}** · "
                 f"t = {summary['t']} · {sampler} · start: {start} · {conditioning}")
        where += " · done" if done else ""
    line = frame.model_line(title, summary["weights_source"], lang)
    detail = frame.model_detail(summary["weights_status"].split(" · ", 1)[0], summary["weights_source"], "",
                                lang)
    return frame.status_text([line, where], [detail, summary["weights_status"]], lang)


def _view_captions(summary: dict[str, Any], lang: str) -> dict[str, str]:
    """The captions of the streamed views (as the lesson writes them), in ``lang``."""
    last = summary["step"] == summary["total_steps"]
    step, total, t = summary["step"], summary["total_steps"], summary["t"]
    sdedit = summary["mode"] == "sdedit"
    if lang == "zh":
        where = "最终样本 x₀" if last else f"t = {t} 时的 x_t"
        return {"x_t": f"{where}（第 {step}/{total} 步）", "x0_pred": f"t = {t} 时预测的干净图像 x̂₀",
                "result": "输入 → 结果" if sdedit else "起始噪声 → 结果"}
    where = "final sample x₀" if last else f"x_t at t = {t}"
    return {"x_t": f"{where} (step {step}/{total})", "x0_pred": f"predicted clean image x̂₀ at t = {t}",
            "result": "input → result" if sdedit else "start noise → result"}


def _localized(summary: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """Status and view captions of the streamed run in the page's language (5 views: generate, SDEdit)."""
    if not summary or "total_steps" not in summary:  # nothing run yet: the views' plain names
        names = [VIEW_LABELS[k][lang == "zh"] for k in ("x_t", "x0_pred", "x_t", "x0_pred", "result")]
        return (gr.skip(), *(gr.update(label=n) for n in names))
    caps = _view_captions(summary, lang)
    generate = summary["mode"] == "generate"
    views = [(generate, "x_t"), (generate, "x0_pred"), (not generate, "x_t"), (not generate, "x0_pred"),
             (not generate, "result")]
    labels = [gr.update(label=caps[key]) if mine else gr.skip() for mine, key in views]
    return (_status(summary, lang), *labels)


def _facts(s: dict[str, Any], lang: str = "en") -> str:
    schedule = s.get("schedule", "")
    if lang == "zh":
        return (f"**t = {s['t']}**（{schedule}）· β_t = {s['beta']:.3g} · ᾱ_t = {s['alpha_bar']:.4g} · "
                f"SNR = {s['snr']:.3g}  \n"
                f"x_t = **{s['signal_scale']:.3f}**·x₀ + **{s['noise_scale']:.3f}**·ε  ·  "
                f"在 t = T−1 时 ᾱ = {s['alpha_bar_T']:.2g}（永远不会正好是 0），β 只从 "
                f"{s['beta_1']:.1e} 变到 {s['beta_T']:.3g}")
    return (f"**t = {s['t']}** ({schedule}) · β_t = {s['beta']:.3g} · ᾱ_t = {s['alpha_bar']:.4g} · "
            f"SNR = {s['snr']:.3g}  \n"
            f"x_t = **{s['signal_scale']:.3f}**·x₀ + **{s['noise_scale']:.3f}**·ε  ·  "
            f"at t = T−1: ᾱ = {s['alpha_bar_T']:.2g} (never exactly 0), β only goes "
            f"{s['beta_1']:.1e} → {s['beta_T']:.3g}")


def _facts_in(s: dict[str, Any] | None, lang: str) -> Any:
    if not s or "alpha_bar" not in s:
        return gr.skip(), gr.skip()
    label = f"t = {s['t']} 时的 x_t" if lang == "zh" else f"x_t at t = {s['t']}"
    return _facts(s, lang), gr.update(label=label)


def _bounds(summary: dict[str, Any] | None, label: str, sampler: str) -> tuple[Any, Any, Any]:
    """Class only for a class-conditional model, guidance only with a class, η only for DDIM."""
    unconditional = bool(summary) and summary.get("conditioning") == "unconditional model"
    return (gr.update(interactive=not unconditional),
            gr.update(interactive=not unconditional and label != diffusion.NONE_LABEL),
            gr.update(interactive=sampler == "ddim"))


def _bar(fraction: float, width: int = 20) -> str:
    filled = round(fraction * width)
    return "`" + "█" * filled + "░" * (width - filled) + f"` {100 * fraction:3.0f} %"


def _sdedit(path: str | None, model: str = "ddpm-shapes", weights: str = "auto", sampler: str = "ddim",
            steps: int = 50, eta: float = 0.0, strength: float = 0.6, seed: int = 0, every: int = 5,
            label: str = "none", guidance: float = 2.0,
            progress: gr.Progress = gr.Progress()) -> Iterator[Any]:
    image = frame.read_upload(path)
    params = _params(model, weights, sampler, steps, eta, seed, every, label, guidance, strength, "sdedit")
    yield from _stream(image, params, progress, "sdedit", ("x_t", "x0_pred", "result"))


def _generate(model: str = "ddpm-shapes", weights: str = "auto", sampler: str = "ddim", steps: int = 50,
              eta: float = 0.0, seed: int = 0, every: int = 5, label: str = "none", guidance: float = 2.0,
              progress: gr.Progress = gr.Progress()) -> Iterator[Any]:
    params = _params(model, weights, sampler, steps, eta, seed, every, label, guidance, 1.0, "generate")
    yield from _stream(None, params, progress, "generate", ("x_t", "x0_pred"))


def _stream(image: Any, params: dict[str, Any], progress: gr.Progress, name: str,
            keys: tuple[str, ...]) -> Iterator[Any]:
    result = None
    for result in diffusion.run_stream(image, **params):
        s = result.summary
        progress((s["step"], s["total_steps"]), desc=f"denoising · t = {s['t']}")
        yield (*_labelled(result, keys), result.images["filmstrip"], _status(s), result.to_json(), None)
    if result is not None:
        yield (*_labelled(result, keys), result.images["filmstrip"], _status(result.summary),
               result.to_json(), frame.save_figures(result, f"diffusion-{name}"))


def _labelled(result: Any, keys: tuple[str, ...]) -> list[Any]:
    return [gr.update(value=result.images[k], label=result.captions[k]) for k in keys]


def _forward(path: str | None, t: int = 500, schedule: str = "linear", seed: int = 0) -> tuple[Any, ...]:
    image = frame.read_upload(path)
    result = diffusion.forward(image, t=int(t), schedule=schedule, seed=int(seed))
    s = result.summary
    facts = _facts({"schedule": schedule, **s})
    return (gr.update(value=result.images["x_t"], label=result.captions["x_t"]), result.images["schedule"],
            result.images["forward_strip"], facts, s, frame.save_figures(result, "diffusion-forward"))


def _forward_live(path: str | None, t: int, schedule: str, seed: int) -> tuple[Any, ...]:
    """The forward view follows the controls; with no image yet (or a cleared one) it just waits."""
    if not path:
        return tuple(gr.skip() for _ in range(6))
    return _forward(path, t, schedule, seed)


def _imagen_status(summary: dict[str, Any], lang: str = "en") -> str:
    """The Imagen tab's lines: the model(s) used, where the run is, and (at the end) what it showed."""
    zh = lang == "zh"
    lines = [frame.model_line(summary["weights_status"].split(" · ")[0], summary["weights_source"], lang)]
    if "sr_weights_source" in summary:
        lines.append(frame.model_line(summary["sr_weights_status"].split(" · ")[0],
                                      summary["sr_weights_source"], lang))
    stage = {"base": i18n.pick(lang, "base model", "基础模型"),
             "sr": i18n.pick(lang, "super-resolution", "超分辨率"),
             None: i18n.pick(lang, "guidance sweep", "引导强度扫描")}[summary.get("stage")]
    count = f"**{summary['step']} / {summary['total_steps']}**"
    lines.append(f"{_bar(summary['progress'])} {stage} · 第 {count} 步" if zh
                 else f"{_bar(summary['progress'])} {stage} · step {count}")
    sat = summary.get("saturated")
    if sat:
        top = summary["guidance_scales"][-1]
        shares = " · ".join(f"{m} {100 * sat[m][0]:.0f} % → {100 * sat[m][-1]:.0f} %"
                            for m in summary["methods"])
        lines.append(f"饱和像素（w = 1 → w = {top:g}）：{shares}" if zh
                     else f"saturated pixels (w = 1 → w = {top:g}): {shares}")
    if "photo_psnr_sr" in summary:
        a, b = summary["photo_psnr_bicubic"], summary["photo_psnr_sr"]
        lines.append(f"你的裁剪：双三次 {a:.1f} dB，超分辨率 {b:.1f} dB（PSNR，越高越接近原图）" if zh
                     else f"your crop: bicubic {a:.1f} dB, SR {b:.1f} dB (PSNR, higher = closer to the "
                          "original)")
    return frame.status_text(lines, [summary["weights_status"]], lang)


def _imagen(shape: str = "circle", max_guidance: float = 10.0, percentile: float = 99.5,
            sweep_steps: int = 25,
            sweep_seed: int = 0, progress: gr.Progress = gr.Progress()) -> Iterator[Any]:
    result = None
    for result in imagen_lesson.sweep_stream(shape=shape, max_guidance=float(max_guidance),
                                             percentile=float(percentile), sweep_steps=int(sweep_steps),
                                             sweep_seed=int(sweep_seed)):
        s = result.summary
        progress((s["step"], s["total_steps"]), desc="guidance sweep")
        yield (result.images["sweep"], result.images.get("stats", gr.skip()), _imagen_status(s),
               result.to_json(), None)
    if result is not None:  # the last result again, with its figure sheet
        yield (result.images["sweep"], result.images["stats"], _imagen_status(result.summary),
               result.to_json(), frame.save_figures(result, "diffusion-imagen"))


def _cascade(path: str | None, model: str = "ddpm-shapes", weights: str = "auto", base_class: str = "star",
             guidance: float = 2.0, aug: int = 50, sr_steps: int = 20, crop: float = 0.5,
             cascade_seed: int = 0,
             progress: gr.Progress = gr.Progress()) -> Iterator[Any]:
    image = frame.read_upload(path)
    result = None
    for result in imagen_lesson.cascade_stream(image, model=model, weights=weights, base_class=base_class,
                                               guidance=float(guidance), aug=int(aug), sr_steps=int(sr_steps),
                                               crop=float(crop), cascade_seed=int(cascade_seed)):
        s = result.summary
        progress((s["step"], s["total_steps"]), desc=s["stage"])
        yield (*(result.images.get(k, gr.skip()) for k in CASCADE_VIEWS), _imagen_status(s), result.to_json(),
               None)
    if result is not None:  # the last result again, with its figure sheet
        yield (*(result.images[k] for k in CASCADE_VIEWS), _imagen_status(result.summary), result.to_json(),
               frame.save_figures(result, "diffusion-cascade"))


def _imagen_localized(summary: dict[str, Any] | None, lang: str) -> Any:
    if not summary or "total_steps" not in summary:
        return gr.skip()
    return _imagen_status(summary, lang)


def _view(label: str, height: int = 300) -> gr.Image:
    return gr.Image(label=label, type="numpy", height=height, interactive=False, format="png",
                    buttons=["download", "fullscreen"])


def _imagen_tab() -> dict[str, Any]:
    """The ④ tab's controls and figures: the guidance × thresholding sweep, then the cascade."""
    c: dict[str, Any] = {}
    frame.markdown("**Guidance sweep** — one seed, one class, guidance w from 1 up; rows: no thresholding, "
                   "static clipping of x̂₀ to [−1, 1], dynamic thresholding (percentile p)",
                   "**引导强度扫描**：同一个种子、同一个类别，引导强度 w 从 1 往上；三行分别是："
                   "不做阈值化、把 x̂₀ 静态截断到 [−1, 1]、动态阈值化（百分位 p）")
    with gr.Row():
        c["shape"] = i18n.tr(gr.Dropdown(list(IM["shape"].choices), value=IM["shape"].default,
                                         label=IM["shape"].label, info=IM["shape"].help, min_width=120),
                             "类别", "扫描里每个样本都被引导到这个 ShapesWorld 类别")
        c["max_guidance"] = frame.param_slider(IM["max_guidance"], "最大引导强度 w",
                                               "扫描 w = 1、2、3、5、7、10、15、20 中小于这个值的各项，"
                                               "再加上这个值本身",
                                               min_width=160)
        c["percentile"] = frame.param_slider(IM["percentile"], "动态阈值的百分位 p（%）",
                                             "s = max(1, q)，q 是每个样本 |x̂₀| 的第 p 百分位"
                                             "（Imagen 图 A.10 用 99.5）",
                                             min_width=160)
    with gr.Row():
        c["sweep_steps"] = frame.param_slider(IM["sweep_steps"], "DDIM 步数（扫描）", min_width=120)
        c["sweep_seed"] = i18n.tr(gr.Number(IM["sweep_seed"].default, precision=0, minimum=0,
                                            maximum=IM["sweep_seed"].maximum, label=IM["sweep_seed"].label,
                                            min_width=100), "种子（扫描）")
        c["run_sweep"] = i18n.tr(gr.Button("Run guidance sweep", variant="primary", size="lg"),
                                 value="运行引导扫描")
    c["status"] = i18n.tr(gr.Markdown("Press **Run guidance sweep** or **Run cascade**.",
                                      elem_classes=["lenslab-status"]),
                          value="请按**运行引导扫描**或**运行级联**。")
    c["sweep"] = frame.figure("methods × guidance scales (share of saturated values under each)",
                              "方法 × 引导强度（每格下方是饱和像素的比例）", type="numpy", format="png")
    c["stats"] = frame.figure("saturation and x̂₀ statistics per step", "饱和度与每一步 x̂₀ 的统计",
                              type="numpy", format="png")
    frame.markdown("**Cascade** — a 32² base sample, then the super-resolution model (32² → 64²) that "
                   "sees the low-resolution image noised to the **augmentation level**; below, the same "
                   "model on a crop of your photo next to bicubic upsampling",
                   "**级联**：先生成 32² 的基础样本，再由超分辨率模型（32² → 64²）放大，"
                   "它看到的低分辨率图先被加噪到"
                   "**增强强度**；下方是同一个模型放大你照片的一块裁剪，与双三次插值对比")
    with gr.Row():
        c["base_class"] = i18n.tr(gr.Dropdown(list(CA["base_class"].choices), value=CA["base_class"].default,
                                              label=CA["base_class"].label, info=CA["base_class"].help,
                                              min_width=120),
                                  "基础类别", "32² 基础样本的类别（ddpm-shapes）")
        c["aug"] = frame.param_slider(CA["aug"], "噪声增强强度",
                                      "低分辨率图在给超分辨率模型之前加噪到多远（一个时间步）", min_width=160)
        c["crop"] = frame.param_slider(CA["crop"], "照片裁剪", "照片中心裁剪的边长，占短边的比例",
                                       min_width=140)
    with gr.Row():
        c["sr_steps"] = frame.param_slider(CA["sr_steps"], "超分辨率步数", "超分辨率模型的 DDIM 步数",
                                           min_width=120)
        c["cascade_seed"] = i18n.tr(gr.Number(CA["cascade_seed"].default, precision=0, minimum=0,
                                              maximum=CA["cascade_seed"].maximum,
                                              label=CA["cascade_seed"].label, min_width=100), "种子（级联）")
        c["run_cascade"] = i18n.tr(gr.Button("Run cascade", variant="primary", size="lg"), value="运行级联")
    c["cascade"] = frame.figure("base 32² → bicubic → SR at aug 0 → SR at the chosen aug",
                                "基础 32² → 双三次 → 增强为 0 的超分辨率 → 所选增强的超分辨率", type="numpy",
                                format="png")
    c["photo"] = frame.figure("your crop: original 64², its 32², bicubic, SR",
                              "你的裁剪：原图 64²、32²、双三次、超分辨率", type="numpy", format="png")
    c["sr_film"] = frame.figure("SR trajectory: x_t (top) and x̂₀ (bottom)", "超分辨率轨迹：上 x_t，下 x̂₀",
                                type="numpy", format="png")
    c["download"] = frame.download_button()
    with i18n.tr(gr.Accordion("Imagen (JSON)", open=False), "Imagen（JSON）"):
        c["json"] = i18n.tr(gr.JSON(label="Imagen (JSON)"), "Imagen（JSON）")
    return c


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Diffusion") as demo:
        frame.header("Diffusion: destroy an image with noise, then rebuild one",
                     "The forward process adds Gaussian noise in 1000 tiny steps; a UNet learns to predict "
                     "that "
                     "noise, and the reverse process removes it a step at a time: from pure noise x_T back "
                     "to "
                     "a clean x₀.",
                     zh=("扩散模型：用噪声毁掉一张图，再重建一张",
                         "前向过程分 1000 小步加入高斯噪声；UNet 学会预测这些噪声，反向过程一步一步把噪声去掉"
                         "："
                         "从纯噪声 x_T 回到干净的 x₀。"),
                     first=("pick an example and move **t** (the forward view), then press **Run SDEdit** "
                            "and "
                            "watch the filmstrip; lower the **strength** to keep more of your photo.",
                            "选一个示例并拖动 **t**（前向视图），再按**运行 SDEdit** 看轨迹胶片；"
                            "把**强度**调低，照片保留得更多。"))
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=230, with_examples=False)
                with gr.Row():
                    sdedit = frame.run_button("Run SDEdit", "运行 SDEdit", scale=2)
                    generate = i18n.tr(gr.Button("Generate from noise", variant="secondary", size="lg",
                                                 scale=1), value="从噪声生成")
                strength = frame.param_slider(P["strength"], "SDEdit 强度", "上传的图沿噪声日程走多远")
                with gr.Row():
                    label = i18n.tr(gr.Dropdown(list(P["label"].choices), value=P["label"].default,
                                                label=P["label"].label, info=P["label"].help, min_width=140),
                                    "类别（类别条件模型）", "ShapesWorld 的一个类别；none 表示不加条件")
                    guidance = frame.param_slider(P["guidance"], "引导强度 s",
                                                  "无分类器引导；1 = 普通的条件生成；只在选了类别时可用",
                                                  interactive=False, min_width=140)
                frame.examples(image)
                with frame.more_settings():
                    model, weights = frame.model_picker(MODELS, default=P["model"].default)
                    sampler = i18n.tr(gr.Radio([("DDIM", "ddim"), ("DDPM", "ddpm")],
                                               value=P["sampler"].default,
                                               label=P["sampler"].label, info=P["sampler"].help),
                                      "采样器", "DDPM（祖先采样，随机）或 DDIM")
                    steps = frame.param_slider(P["steps"], "步数", "反向步数（1000 步中的一个子序列）")
                    eta = frame.param_slider(P["eta"], "η（DDIM）", "DDIM 的随机性：0 确定，1 接近 DDPM 的噪"
                                                                  "声")
                    with gr.Row():
                        seed = i18n.tr(gr.Number(P["seed"].default, precision=0, minimum=0,
                                                 maximum=P["seed"].maximum, label=P["seed"].label,
                                                 min_width=100))
                        every = i18n.tr(gr.Number(P["every"].default, precision=0, minimum=1, maximum=100,
                                                  label=P["every"].label, min_width=100), "每 k 步显示一次")
            with frame.outputs_column(scale=2):
                status = i18n.tr(gr.Markdown("Weights: not loaded yet — press **Run SDEdit** or **Generate "
                                             "from noise**.", elem_classes=["lenslab-status"]),
                                 value="权重：尚未加载——请按**运行 SDEdit**或**从噪声生成**。")
                with gr.Tabs(selected="forward") as tabs:
                    with i18n.tr(gr.Tab("① Forward: add noise", id="forward"), "① 前向：加噪声"):
                        with gr.Row():
                            t = frame.param_slider(F["t"], "时间步 t", "前向过程走了多远（0 … T−1）", scale=3)
                            schedule = i18n.tr(gr.Radio(list(F["schedule"].choices),
                                                        value=F["schedule"].default,
                                                        label=F["schedule"].label, scale=2), "β 日程")
                        facts = frame.markdown("Move **t** to noise your image.", "拖动 **t** 给你的图加噪声"
                                                                                  "。",
                                               elem_classes=["lenslab-status"])
                        with gr.Row():
                            fwd_xt = _view("x_t", height=300)
                            fwd_curves = frame.figure("β_t, ᾱ_t and SNR of three schedules (t marked)",
                                                      "三种日程的 β_t、ᾱ_t 与 SNR（标出 t）", type="numpy",
                                                      height=300, format="png", scale=2)
                        fwd_strip = frame.figure("the same ε at growing t", "同一个 ε，t 逐渐增大",
                                                 show_label=False,
                                                 type="numpy", format="png", height=200)
                        fwd_download = frame.download_button()
                        with i18n.tr(gr.Accordion("Forward (JSON)", open=False), "前向（JSON）"):
                            fwd_json = i18n.tr(gr.JSON(label="Forward (JSON)"), "前向（JSON）")
                    with i18n.tr(gr.Tab("② Reverse: generate from noise", id="reverse"),
                                 "② 反向：从噪声生成"), gr.Row():
                        gen_xt = _view(VIEW_LABELS["x_t"][0])
                        gen_x0 = _view(VIEW_LABELS["x0_pred"][0])
                    with i18n.tr(gr.Tab("③ SDEdit: from your image", id="sdedit"), "③ SDEdit：从你的图出发"):
                        with gr.Row():
                            sd_xt = _view(VIEW_LABELS["x_t"][0], height=260)
                            sd_x0 = _view(VIEW_LABELS["x0_pred"][0], height=260)
                        sd_result = _view(VIEW_LABELS["result"][0], height=260)
                    with i18n.tr(gr.Tab("④ Imagen", id="imagen"),
                                 "④ Imagen 技巧"):
                        im = _imagen_tab()
                frame.markdown("**Trajectory filmstrip** — the sample x_t (top row) and the model's guess "
                               "x̂₀ "
                               "(bottom row), every k steps, left to right",
                               "**轨迹胶片**：上一行是样本 x_t，下一行是模型对 x̂₀ 的猜测，每 k 步一格，从左"
                               "到右")
                film = frame.figure("Trajectory filmstrip", "轨迹胶片", show_label=False, type="numpy",
                                    format="png")
                download = frame.download_button()
                with i18n.tr(gr.Accordion("Result (JSON)", open=False)):
                    summary = i18n.tr(gr.JSON(label="Result (JSON)"))
        frame.explanation_panel("diffusion")

        lang = i18n.page_lang()
        common = [model, weights, sampler, steps, eta]
        streaming = dict(concurrency_limit=CONCURRENCY, concurrency_id="diffusion", show_progress_on=[status])
        views = [gen_xt, gen_x0, sd_xt, sd_x0, sd_result]
        frame.stale_on_edit(image, model, weights, sampler, steps, eta, strength, seed, every, label,
                            guidance)
        bounds = dict(fn=_bounds, inputs=[summary, label, sampler], outputs=[label, guidance, eta],
                      api_visibility="private", queue=False, show_progress="hidden")
        # the status and the captions follow every streamed step, in the page's language
        summary.change(_localized, [summary, lang], [status, *views], api_visibility="private", queue=False,
                       show_progress="hidden", trigger_mode="always_last")
        i18n.on_language(_localized, [summary], [status, *views])
        ran = sdedit.click(lambda: gr.Tabs(selected="sdedit"), None, tabs, api_visibility="private",
                           queue=False).then(
            i18n.in_figures(frame.guard(_sdedit)),
            [image, *common, strength, seed, every, label, guidance, lang],
            [sd_xt, sd_x0, sd_result, film, status, summary, download], api_name="diffusion",
            **streaming, **frame.RAW_INPUTS)
        frame.fresh(ran)
        ran.then(**bounds)
        ran = generate.click(lambda: gr.Tabs(selected="reverse"), None, tabs, api_visibility="private",
                             queue=False).then(
            i18n.in_figures(frame.guard(_generate)), [*common, seed, every, label, guidance, lang],
            [gen_xt, gen_x0, film, status, summary, download], api_name="diffusion_generate",
            **streaming, **frame.RAW_INPUTS)
        frame.fresh(ran)
        ran.then(**bounds)
        for control in (label, sampler):
            control.change(**bounds)
        fwd_inputs = [image, t, schedule, seed]
        fwd_outputs = [fwd_xt, fwd_curves, fwd_strip, facts, fwd_json, fwd_download]
        t.release(i18n.in_figures(frame.guard(_forward)), [*fwd_inputs, lang], fwd_outputs,
                  api_name="diffusion_forward", show_progress="minimal", **frame.RAW_INPUTS)
        forward_live = i18n.in_figures(frame.guard(_forward_live))
        for trigger in (schedule.change, image.change):
            trigger(forward_live, [*fwd_inputs, lang], fwd_outputs, api_visibility="private",
                    show_progress="minimal")
        i18n.on_language(forward_live, fwd_inputs, fwd_outputs)  # the forward figures are cheap: redrawn
        fwd_json.change(_facts_in, [fwd_json, lang], [facts, fwd_xt], api_visibility="private", queue=False,
                        show_progress="hidden")
        i18n.on_language(_facts_in, [fwd_json], [facts, fwd_xt])
        to_imagen = dict(fn=lambda: gr.Tabs(selected="imagen"), inputs=None, outputs=tabs,
                         api_visibility="private", queue=False)
        sweep_inputs = [im[k] for k in ("shape", "max_guidance", "percentile", "sweep_steps", "sweep_seed")]
        ran = im["run_sweep"].click(**to_imagen).then(
            i18n.in_figures(frame.guard(_imagen)), [*sweep_inputs, lang],
            [im["sweep"], im["stats"], im["status"], im["json"], im["download"]],
            api_name="diffusion_imagen", **streaming)
        frame.fresh(ran)
        cascade_inputs = [image, model, weights, im["base_class"], guidance, im["aug"], im["sr_steps"],
                          im["crop"], im["cascade_seed"]]
        ran = im["run_cascade"].click(**to_imagen).then(
            i18n.in_figures(frame.guard(_cascade)), [*cascade_inputs, lang],
            [im["cascade"], im["photo"], im["sr_film"], im["status"], im["json"], im["download"]],
            api_name="diffusion_cascade", **streaming, **frame.RAW_INPUTS)
        frame.fresh(ran)
        frame.stale_on_edit(*sweep_inputs, *cascade_inputs[3:])
        im["json"].change(_imagen_localized, [im["json"], lang], [im["status"]], api_visibility="private",
                          queue=False, show_progress="hidden", trigger_mode="always_last")
        i18n.on_language(_imagen_localized, [im["json"]], [im["status"]])
        # a streamed sample is not redrawn on a language switch (that would re-run the sampler): its
        # figures say they are out of date until Run, as after any other edit
        frame.stale_on_edit(lang)
    classroom.attach(demo, "diffusion")  # links, projector layout, predict-then-reveal, slide
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
