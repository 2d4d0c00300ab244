"""RepMLP lesson page: a convolution is a sparse FC; conv branches merge into one FC after training.

Layout and wiring only: one call to ``core.repmlp.run`` per Run (the ``/repmlp`` endpoint), one call
to ``core.repmlp.parameter_calculator`` per change of the calculator's inputs.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import frame
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


def _extras(token: str | None) -> tuple[Any, Any, str]:
    result = frame.KEPT.get(token)
    if result is None:
        return None, None, "Press **Run**."
    steps = [[row["step"], row["value"]] for row in result.summary["bn_fusion"]]
    loc = result.summary["locality"]
    icon = frame.SOURCE_ICONS
    status = "  \n".join(
        f"{icon[src]} {name}: **{src}** weights"
        + (" — untrained, the map is meaningless" if src == "random" else "")
        for name, src in (("plain FC", loc["weights"]["fc"]), ("FC + conv", loc["weights"]["rep"])))
    return result.figures["fc_structure"], steps or None, status


def _calc(c_in: float, size_in: float, c_out: float, size_out: float, parts: float, groups: float) -> str:
    r = repmlp.parameter_calculator(int(c_in), int(size_in), int(c_out), int(size_out), int(parts),
                                    int(groups))
    return (f"**{r['layer']}**\n\n| FC | parameters |\n|---|---:|\n"
            f"| one FC over the whole map | {r['full_fc']:,} |\n"
            f"| {r['partitions']} partitions ({r['partition_in']} → {r['partition_out']}), one shared FC | "
            f"{r['partitioned_fc']:,} (÷{r['saving_partition']:,.0f}) |\n"
            f"| … and grouped FC, g = {r['groups']} | {r['partitioned_grouped_fc']:,} "
            f"(÷{r['saving_total']:,.0f}) |")


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · RepMLP") as demo:
        frame.header("RepMLP: convolutions inside a fully-connected layer",
                     "A conv is a sparse, weight-shared FC. Train FC + conv branches, then merge them into "
                     "one FC — and see where a trained FC puts its weight.")
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input(height=260)
                weights = gr.Radio(WEIGHTS, value=P["weights"].default, label=P["weights"].label)
                with gr.Accordion("Demo block", open=True):
                    kernels = gr.Dropdown(list(P["kernels"].choices), value=P["kernels"].default,
                                          label=P["kernels"].label)
                    channels = frame.param_slider(P["channels"])
                    groups = frame.param_slider(P["groups"])
                    partition_h = frame.param_slider(P["partition_h"])
                    partition_w = frame.param_slider(P["partition_w"])
                    parts = frame.param_slider(P["parts"])
                    seed = gr.Number(P["seed"].default, precision=0, label=P["seed"].label)
                with gr.Accordion("Trained 10×10 FC", open=True):
                    pixel_row = frame.param_slider(P["pixel_row"])
                    pixel_col = frame.param_slider(P["pixel_col"])
                run = gr.Button("Run", variant="primary")
            with gr.Column(scale=2):
                status = gr.Markdown("Weights: not loaded yet — press **Run**.",
                                     elem_classes=["lenslab-status"])
                gr.Markdown("### Trained locality experiment: weights from output (ch 0, pixel) to "
                            "input ch 0")
                with gr.Row():
                    loc_fc = gr.Image(label="plain FC", show_label=False, buttons=["fullscreen", "download"])
                    loc_rep = gr.Image(label="FC + conv 1/3/5/7, merged", show_label=False,
                                       buttons=["fullscreen", "download"])
                with gr.Row():
                    loc_fc_mean = gr.Image(label="plain FC, all channel pairs", show_label=False,
                                           buttons=["fullscreen", "download"])
                    loc_rep_mean = gr.Image(label="merged FC, all channel pairs", show_label=False,
                                            buttons=["fullscreen", "download"])
                gr.Markdown("### The FC matrix: each contribution and their sum (zoom with the mouse)")
                plot = gr.Plot(label="FC matrix", show_label=False)
                merged = gr.Image(label="merged FC", show_label=False, buttons=["fullscreen", "download"])
                gr.Markdown("### Your photo through the block, before and after conversion")
                inp = gr.Image(label="input feature map", show_label=False, buttons=["fullscreen"])
                out_train = gr.Image(label="training-time block", show_label=False, buttons=["fullscreen"])
                out_deploy = gr.Image(label="deployed block (one FC)", show_label=False,
                                      buttons=["fullscreen"])
                diff = gr.Image(label="|difference|", show_label=False, buttons=["fullscreen"])
                trained = gr.Image(label="trained 64×10×10 block on your photo", show_label=False,
                                   buttons=["fullscreen"])
                gr.Markdown("### BN fusion, step by step")
                bn_table = gr.Dataframe(headers=["step", "value"], label="BN fusion", interactive=False,
                                        wrap=True)
                summary = gr.JSON(label="Result (JSON)")
                download = frame.download_button()
        gr.Markdown("### Parameter calculator: one FC on a feature map")
        with gr.Row():
            c_in = gr.Number(3, precision=0, label="input channels", minimum=1)
            size_in = gr.Number(112, precision=0, label="input side", minimum=1)
            c_out = gr.Number(32, precision=0, label="output channels", minimum=1)
            size_out = gr.Number(56, precision=0, label="output side", minimum=1)
            calc_parts = gr.Number(2, precision=0, label="partitions per side", minimum=1)
            calc_groups = gr.Number(1, precision=0, label="groups", minimum=1)
        calc_out = gr.Markdown(_calc(3, 112, 32, 56, 2, 1))
        frame.explanation_panel("repmlp")

        state = frame.kept_result()
        images = [inp, out_train, out_deploy, diff, merged, loc_fc, loc_rep, loc_fc_mean, loc_rep_mean,
                  trained]
        run.click(frame.guard(_run), [image, channels, partition_h, partition_w, parts, kernels, groups, seed,
                                      pixel_row, pixel_col, weights],
                  [*images, summary, download, state], api_name="repmlp").then(
            _extras, state, [plot, bn_table, status], api_visibility="private")
        calc_inputs = [c_in, size_in, c_out, size_out, calc_parts, calc_groups]
        for box in calc_inputs:
            box.change(frame.guard(_calc), calc_inputs, calc_out, api_visibility="private", queue=False)
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
