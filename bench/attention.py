"""Attention: exact extraction and the page round trip, each against its baseline in the same run.

1. Extracting every block's attention (and the logits) from ``vit_small_patch16_224`` (random weights;
   timing does not depend on their values) costs at most 1.3× the model's plain *fused* forward —
   measured with one torch thread and with the default number.
2. A ``/attention`` call through ``gradio_client`` costs at most 1.3× the round trip of a trivial
   endpoint that takes the same image plus the core lesson call (so the page adds ≤ 30 % on top
   of the work itself). Both sides clear the extraction cache, so the full computation is timed.

Where the page's time goes (measured): the callback itself and Gradio's pre/post-processing are a few
tens of ms; gradio_client's sequential download of the JPEG figures is most of the rest. Of
that, most is not HTTP at all: by default gradio_client hands ``verify=True`` to a fresh httpx client
for every request and every file, and each one builds a new TLS context by loading the CA bundle
(~20–40 ms, even for plain ``http://``). A client made with one shared context,
``Client(url, ssl_verify=ssl.create_default_context())`` (the same certificate checks, built once),
does not pay it; the README recommends it, and the goal rows use it on both sides. The default
client's row is printed too. Each pair is warmed up three times before timing: a client's first
calls also create its download folders and Gradio's first answers fill its file cache.

``python -m bench.attention`` prints the table.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench import Row, compare  # noqa: E402

GOAL = 1.3
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.path.join(ROOT, "assets", "images", "chelsea-cat.jpg")


def extraction_row(repeat: int, threads: int | None = None) -> Row:
    import timm

    from core import attention

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _extraction_row(repeat, attention, timm, threads or previous)
    finally:
        torch.set_num_threads(previous)


def _extraction_row(repeat: int, attention, timm, threads: int) -> Row:
    model = timm.create_model("vit_small_patch16_224", pretrained=False).eval()
    x = torch.randn(1, 3, 224, 224)
    attention.extractor(model)  # built once per model (tracing), as in the app

    def baseline() -> object:
        with torch.inference_mode():
            return model(x)

    def ours() -> object:
        return attention.extract(model, x)

    t_ours, t_base = compare(ours, baseline, repeat=repeat, warmup=2)
    return Row("attention", f"extract 12×6 attention maps + logits (ViT-S/16, 224², {threads} thr)",
               "fused forward", t_base, t_ours, GOAL, note="(random weights)")


def endpoint_row(repeat: int) -> list[Row]:
    import gradio as gr
    from gradio_client import Client, handle_file

    from apps import attention as page
    from apps.frame import configure_queue
    from core import attention
    from core.images import load_image

    def trivial(path: str) -> str:
        return "ok" if path else "none"

    figures = list(page._figures(attention.run(load_image(IMAGE))))  # what the page ships

    def same_payload(path: str) -> list:
        return figures  # the lesson's own figures, precomputed: the cost of shipping them over HTTP

    import ssl

    with gr.Blocks() as demo:
        page.demo.render()
        box = gr.Image(type="filepath")
        out = gr.Textbox()
        gr.Button().click(trivial, box, out, api_name="trivial")
        shipped = [gr.Image(format="jpeg") for _ in figures]
        gr.Button().click(same_payload, box, shipped, api_name="same_payload")
    configure_queue(demo)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        shared = Client(url, verbose=False, ssl_verify=ssl.create_default_context())
        default = Client(url, verbose=False)

        def call(client: Client, endpoint: str) -> object:
            return client.predict(handle_file(IMAGE), api_name=endpoint)

        def core_run() -> object:
            attention.clear_cache()
            return attention.run(load_image(IMAGE))

        def timed(client: Client, baseline_endpoint: str) -> tuple[float, float]:
            def baseline() -> object:
                call(client, baseline_endpoint)
                return core_run()

            def ours() -> object:
                attention.clear_cache()
                return call(client, "/attention")

            return compare(ours, baseline, repeat=repeat, warmup=3)

        rows = []
        clients = ((shared, "one shared TLS context", GOAL), (default, "default client", None))
        for client, which, goal in clients:
            t_ours, t_base = timed(client, "/trivial")
            rows.append(Row("attention", f"/attention via gradio_client ({which})",
                            "trivial endpoint round trip + core run", t_base, t_ours, goal,
                            note="" if goal else "(a TLS context per request and per file)"))
        t_ours, t_payload = timed(shared, "/same_payload")
        rows.append(Row("attention", "/attention via gradio_client (one shared TLS context)",
                        f"trivial endpoint returning the same {len(figures)} figures + core run", t_payload,
                        t_ours, GOAL, note="(equal HTTP payload)"))
    finally:
        demo.close()
    return rows


def run(quick: bool = False) -> list[Row]:
    repeat = 5 if quick else 15
    # one torch thread is what a busy shared server gives each request; the default count is also shown
    return [extraction_row(repeat, threads=1), extraction_row(repeat), *endpoint_row(5 if quick else 9)]


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick=False)))
