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

from apps import frame
from core import diffusion

P = {p.name: p for p in diffusion.PARAMS}
F = {p.name: p for p in diffusion.FORWARD_PARAMS}
MODELS = list(diffusion.MODELS)
CONCURRENCY = 2
def _params(model: str, weights: str, sampler: str, steps: Any, eta: Any, seed: Any, every: Any,
            label: str, guidance: Any, strength: Any, mode: str) -> dict[str, Any]:
    return dict(model=model, weights=weights, sampler=sampler, steps=int(steps), eta=float(eta),
                seed=int(seed), every=int(every), label=label, guidance=float(guidance),
                strength=float(strength), mode=mode)


def _status(summary: dict[str, Any]) -> str:
    icon = frame.SOURCE_ICONS[summary["weights_source"]]
    done = summary["step"] == summary["total_steps"]
    bar = _bar(summary["progress"])
    start = ("pure noise" if summary["mode"] == "generate"
             else f"your image noised to t = {summary['start_t']} (ᾱ = {summary['start_alpha_bar']:.3f})")
    sampler = summary["sampler"].upper()
    if summary["sampler"] == "ddim":
        sampler += f", η = {summary['eta']:g}"
    return (f"{icon} **{summary['weights_status']}**  \n"
            f"{bar} step **{summary['step']} / {summary['total_steps']}** · t = {summary['t']} · {sampler} · "
            f"start: {start} · {summary['conditioning']}" + (" · ✅ done" if done else ""))


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
    facts = (f"**t = {s['t']}** ({schedule}) · β_t = {s['beta']:.3g} · ᾱ_t = {s['alpha_bar']:.4g} · "
             f"SNR = {s['snr']:.3g}  \n"
             f"x_t = **{s['signal_scale']:.3f}**·x₀ + **{s['noise_scale']:.3f}**·ε  ·  "
             f"at t = T−1: ᾱ = {s['alpha_bar_T']:.2g} (never exactly 0), β only goes "
             f"{s['beta_1']:.1e} → {s['beta_T']:.3g}")
    return (gr.update(value=result.images["x_t"], label=result.captions["x_t"]), result.images["schedule"],
            result.images["forward_strip"], facts, s, frame.save_figures(result, "diffusion-forward"))


def _forward_live(path: str | None, t: int, schedule: str, seed: int) -> tuple[Any, ...]:
    """The forward view follows the controls; with no image yet (or a cleared one) it just waits."""
    if not path:
        return tuple(gr.skip() for _ in range(6))
    return _forward(path, t, schedule, seed)


def _view(label: str, height: int = 300) -> gr.Image:
    return gr.Image(label=label, type="numpy", height=height, interactive=False, format="png",
                    buttons=["download", "fullscreen"])


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Diffusion") as demo:
        frame.header("Diffusion: destroy an image with noise, then rebuild one",
                     "The forward process adds Gaussian noise in 1000 tiny steps; a UNet learns to predict "
                     "that "
                     "noise, and the reverse process removes it a step at a time: from pure noise x_T back "
                     "to "
                     "a clean x₀.")
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=260)
                model, weights = frame.model_picker(MODELS, default=P["model"].default)
                with gr.Group():
                    sampler = gr.Radio([("DDIM", "ddim"), ("DDPM", "ddpm")], value=P["sampler"].default,
                                       label=P["sampler"].label, info=P["sampler"].help)
                    steps = frame.param_slider(P["steps"])
                    eta = frame.param_slider(P["eta"])
                    with gr.Row():
                        seed = gr.Number(P["seed"].default, precision=0, minimum=0, maximum=P["seed"].maximum,
                                         label=P["seed"].label, min_width=100)
                        every = gr.Number(P["every"].default, precision=0, minimum=1, maximum=100,
                                          label=P["every"].label, min_width=100)
            with gr.Column(scale=2):
                with gr.Tabs():
                    with gr.Tab("① Forward: add noise"):
                        with gr.Row():
                            t = frame.param_slider(F["t"], scale=3)
                            schedule = gr.Radio(list(F["schedule"].choices), value=F["schedule"].default,
                                                label=F["schedule"].label, scale=2)
                        facts = gr.Markdown("Move **t** to noise your image.",
                                            elem_classes=["lenslab-status"])
                        with gr.Row():
                            fwd_xt = _view("x_t", height=300)
                            fwd_curves = gr.Image(label="β_t, ᾱ_t and SNR of three schedules (t marked)",
                                                  type="numpy", interactive=False, height=300, format="png",
                                                  buttons=["download", "fullscreen"], scale=2)
                        fwd_strip = gr.Image(label="the same ε at growing t", show_label=False, type="numpy",
                                             interactive=False,
                                             format="png", buttons=["download", "fullscreen"], height=200)
                        fwd_download = frame.download_button()
                        with gr.Accordion("Forward (JSON)", open=False):
                            fwd_json = gr.JSON(label="Forward (JSON)")
                    with gr.Tab("② Reverse: generate from noise"):
                        with gr.Row():
                            label = gr.Dropdown(list(P["label"].choices), value=P["label"].default,
                                                label=P["label"].label, info=P["label"].help)
                            guidance = frame.param_slider(P["guidance"])
                        generate = gr.Button("Generate (stream every k steps)", variant="primary", size="lg")
                        with gr.Row():
                            gen_xt = _view("x_t (current sample)")
                            gen_x0 = _view("x̂₀ (the model's guess of the clean image)")
                    with gr.Tab("③ SDEdit: from your image"):
                        with gr.Row():
                            strength = frame.param_slider(P["strength"], scale=3)
                            sdedit = gr.Button("Run SDEdit", variant="primary", size="lg", scale=1)
                        with gr.Row():
                            sd_xt = _view("x_t (current sample)", height=260)
                            sd_x0 = _view("x̂₀ (predicted clean image)", height=260)
                        sd_result = _view("input → result", height=260)
                status = gr.Markdown("Weights: not loaded yet — press **Generate** or **Run SDEdit**.",
                                     elem_classes=["lenslab-status"])
                gr.Markdown("**Trajectory filmstrip** — the sample x_t (top row) and the model's guess x̂₀ "
                            "(bottom row), every k steps, left to right")
                film = gr.Image(label="Trajectory filmstrip", show_label=False, type="numpy",
                                interactive=False,
                                format="png", buttons=["download", "fullscreen"])
                download = frame.download_button()
                with gr.Accordion("Result (JSON)", open=False):
                    summary = gr.JSON(label="Result (JSON)")
        frame.explanation_panel("diffusion")

        common = [model, weights, sampler, steps, eta]
        streaming = dict(concurrency_limit=CONCURRENCY, concurrency_id="diffusion", show_progress_on=[status])
        sdedit.click(frame.guard(_sdedit), [image, *common, strength, seed, every, label, guidance],
                     [sd_xt, sd_x0, sd_result, film, status, summary, download], api_name="diffusion",
                     **streaming)
        generate.click(frame.guard(_generate), [*common, seed, every, label, guidance],
                       [gen_xt, gen_x0, film, status, summary, download], api_name="diffusion_generate",
                       **streaming)
        fwd_inputs = [image, t, schedule, seed]
        fwd_outputs = [fwd_xt, fwd_curves, fwd_strip, facts, fwd_json, fwd_download]
        t.release(frame.guard(_forward), fwd_inputs, fwd_outputs, api_name="diffusion_forward",
                  show_progress="minimal")
        for trigger in (schedule.change, image.change):
            trigger(frame.guard(_forward_live), fwd_inputs, fwd_outputs, api_visibility="private",
                    show_progress="minimal")
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
