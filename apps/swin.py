"""Swin windows page: window grid, cyclic shift and its nine regions, masks, relative position bias, v2 CPB.

Layout and wiring only. ``/swin`` takes an image (everything else defaulted) and returns the nine
figures and the JSON summary (the PNG sheet is made by a private follow-up event). The teaching
case (H, W, M, s) and the complexity calculator are model-free: they call
:func:`core.swin.teaching_case` and :func:`core.swin.complexity`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps import frame
from core import swin, zoo

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


def _counts_table(teaching: dict[str, Any]) -> dict[str, Any]:
    counts = teaching["masked_counts"]
    headers = ["window row ↓ / col →", *(str(c) for c in range(len(counts[0])))]
    return {"headers": headers, "data": [[r, *row] for r, row in enumerate(counts)]}


def _extras(summary: dict[str, Any] | None, model, weights):
    if not summary:
        return tuple(gr.skip() for _ in range(2 + len(IMAGE_KEYS)))
    v2_weights = summary["v2"]["requested_weights"]
    loaded = [zoo.load_model(model, weights), zoo.load_model(swin.V2_MODEL, v2_weights)]
    random = any(item.source == "random" for item in loaded)
    status = gr.update(value=frame.weights_status(loaded),
                       elem_classes=["lenslab-status", "random"] if random else ["lenslab-status"])
    labels = [gr.update(label=summary["captions"][k]) for k in IMAGE_KEYS]
    return status, _counts_table(summary["teaching"]), *labels


def _teach(height, width, window, shift, mask_window):
    result = swin.teaching_case(height, width, window, shift, mask_window)
    images = [gr.update(value=result.images[k], label=result.captions[k]) for k in TEACH_KEYS]
    return (*images, result.figures["window_mask"], result.figures["position_index"],
            _counts_table(result.summary))


def _teach_figures(height, width, window, shift, mask_window):
    result = swin.teaching_case(height, width, window, shift, mask_window)
    return result.figures["window_mask"], result.figures["position_index"], _counts_table(result.summary)


def _teach_limits(height, width, window, shift, mask_window):
    window = int(window)
    n = (int(height) // window) * (int(width) // window)
    return (gr.update(maximum=max(window - 1, 0), value=min(int(shift), window - 1)),
            gr.update(maximum=max(n - 1, 0), value=min(int(mask_window), max(n - 1, 0))))


def _complexity(h, w, c, m):
    r = swin.complexity(int(h), int(w), int(c), int(m))
    return (f"**MSA** $4hwC^2 + 2(hw)^2C$ = **{r['msa'] / 1e9:.3f} G** multiply-adds  \n"
            f"**W-MSA** $4hwC^2 + 2M^2hwC$ = **{r['wmsa'] / 1e9:.3f} G**  \n"
            f"(projections alone {r['projections'] / 1e9:.3f} G) — window attention is "
            f"**{r['ratio']:.1f}×** cheaper here, and linear instead of quadratic in $hw$.")


def _dims(model, weights, stage, block, query_row, query_col):
    d = swin.dims(model, weights, stage)
    top = d["window"] - 1
    return (gr.update(maximum=d["stages"], value=d["stage"]),
            gr.update(maximum=d["blocks"], value=min(int(block), d["blocks"])),
            gr.update(maximum=top, value=min(int(query_row), top)),
            gr.update(maximum=top, value=min(int(query_col), top)))


def build() -> gr.Blocks:
    """The page as a fresh Blocks: the app renders it on its own route, a reload builds it anew."""
    with gr.Blocks(title="LensLab · Swin windows") as demo:
        frame.header("Swin: shifted windows and relative position bias",
                     "How Swin splits the image into windows, rolls them to let neighbouring windows talk, "
                     "masks "
                     "what the roll brought together, and biases attention by relative position.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                image = frame.image_input()
                model, weights = frame.model_picker(list(swin.SWIN_MODELS), default=P["model"].default,
                                                    label="Swin model")
                with gr.Row():
                    stage = gr.Slider(1, 4, value=1, step=1, label="Stage")
                    block = gr.Slider(1, 2, value=2, step=1, label="Block (even = shifted)")
                with gr.Row():
                    qrow = gr.Slider(0, 3, value=0, step=1, label="Query row in window")
                    qcol = gr.Slider(0, 3, value=0, step=1, label="Query column in window")
                v2w = gr.Slider(2, 32, value=16, step=1, label="Swin v2: enlarged window for the CPB-MLP")
                run = gr.Button("Run", variant="primary")
                with gr.Accordion("Teaching case (no model): H, W, M, s", open=True):
                    with gr.Row():
                        t_h = gr.Slider(2, 32, value=8, step=1, label="H (tokens)")
                        t_w = gr.Slider(2, 32, value=8, step=1, label="W (tokens)")
                    with gr.Row():
                        t_m = gr.Slider(1, 12, value=4, step=1, label="Window M")
                        t_s = gr.Slider(0, 3, value=2, step=1, label="Shift s (Swin: ⌊M/2⌋)")
                    t_win = gr.Slider(0, 3, value=3, step=1, label="Window to inspect (row-major)")
                with gr.Accordion("Complexity: MSA vs W-MSA", open=True):
                    with gr.Row():
                        c_h = gr.Number(56, label="h", precision=0, minimum=1)
                        c_w = gr.Number(56, label="w", precision=0, minimum=1)
                        c_c = gr.Number(96, label="C", precision=0, minimum=1)
                        c_m = gr.Number(7, label="M", precision=0, minimum=1)
                    calc = gr.Markdown(_complexity(56, 56, 96, 7),
                                       latex_delimiters=[{"left": "$", "right": "$", "display": False}])
            with gr.Column(scale=2):
                status = frame.status_box()
                with gr.Row():
                    grid_img = gr.Image(label="Token grid and windows", interactive=False,
                                        buttons=["fullscreen"])
                    shifted_img = gr.Image(label="Cyclic shift: the nine regions", interactive=False,
                                           buttons=["fullscreen"])
                gr.Markdown("### Teaching case: region ids, one window's mask, relative position index")
                with gr.Row():
                    region_img = gr.Image(label="Region ids", interactive=False, buttons=["fullscreen"])
                    mask_img = gr.Image(label="Window mask", interactive=False, buttons=["fullscreen"])
                with gr.Row():
                    mask_plot = gr.Plot(label="Window mask (hover for query, key, value)")
                    counts = gr.Dataframe(label="Masked entries per window (window grid)", interactive=False)
                with gr.Row():
                    index_img = gr.Image(label="Relative position index", interactive=False,
                                         buttons=["fullscreen"])
                    index_plot = gr.Plot(label="Relative position index (hover)")
                gr.Markdown("### The loaded model's relative position bias")
                bias_img = gr.Image(label="Learned bias tables", interactive=False, buttons=["fullscreen"])
                query_img = gr.Image(label="Bias received by the query token", interactive=False,
                                     buttons=["fullscreen"])
                gr.Markdown("### Swin v2: log-spaced continuous position bias")
                with gr.Row():
                    coords_img = gr.Image(label="Linear vs log-spaced coordinates", interactive=False,
                                          buttons=["fullscreen"])
                    v2_img = gr.Image(label="CPB bias", interactive=False, buttons=["fullscreen"])
                with gr.Accordion("Result (JSON)", open=False):
                    summary = gr.JSON(label="Result (JSON)")
                download = frame.download_button()
        frame.explanation_panel("swin")

        teach_inputs = [t_h, t_w, t_m, t_s, t_win]
        inputs = [image, model, weights, stage, block, qrow, qcol, *teach_inputs, v2w]
        images = [grid_img, shifted_img, region_img, mask_img, index_img, bias_img, query_img, coords_img,
                  v2_img]
        kept = frame.kept_result()
        outputs = [*images, summary, kept]
        sheet = dict(fn=frame.guard(frame.sheet_of_kept("swin")), inputs=kept, outputs=download,
                     api_visibility="private", show_progress="hidden")
        extras = dict(fn=frame.guard(_extras), inputs=[summary, model, weights],
                      outputs=[status, counts, *images], api_visibility="private")
        teach = dict(fn=frame.guard(_teach), inputs=teach_inputs,
                     outputs=[region_img, mask_img, index_img, mask_plot, index_plot, counts],
                     api_visibility="private", trigger_mode="always_last", show_progress="minimal")

        figures = dict(fn=frame.guard(_teach_figures), inputs=teach_inputs,
                       outputs=[mask_plot, index_plot,
                                counts], api_visibility="private", show_progress="hidden")
        run.click(frame.guard(_run), inputs, outputs, api_name="swin", **frame.RAW_INPUTS).then(
            **extras).then(**figures).then(**sheet)
        rerun = dict(fn=frame.guard(_maybe_run), inputs=inputs, outputs=outputs, api_visibility="private",
                     trigger_mode="always_last", show_progress="minimal", **frame.RAW_INPUTS)
        image.change(**rerun).then(**extras).then(**figures).then(**sheet)
        for control in (block, qrow, qcol, v2w):
            control.release(**rerun).then(**extras).then(**sheet)
        geometry = [stage, block, qrow, qcol]
        for control in (model, stage):
            control.change(frame.guard(_dims), [model, weights, *geometry], geometry,
                           api_visibility="private").then(**rerun).then(**extras).then(**sheet)
        for control in teach_inputs:
            control.release(frame.guard(_teach_limits), teach_inputs, [t_s, t_win], api_visibility="private",
                            ).then(**teach)
        for control in (c_h, c_w, c_c, c_m):
            control.change(frame.guard(_complexity), [c_h, c_w, c_c, c_m], calc, api_visibility="private")
        demo.load(**teach)
        demo.load(frame.guard(_dims), [model, weights, *geometry], geometry, api_visibility="private")
    return demo


__getattr__ = frame.lazy_demo(build)  # the module's `demo`, built on first use

if __name__ == "__main__":
    frame.launch(build())
