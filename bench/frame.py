"""The frame: one page per lesson (Blocks.route) against the former single page of tabs, in one run.

Two servers in their own processes, the same page modules and queue settings:

* ``tabs``: every lesson rendered into one Blocks as tabs (the layout before workbench v2);
* ``pages``: ``apps.app`` — a home page and one route per lesson.

Measured: what a student's browser receives and waits for when opening a lesson (the HTML with the
embedded page config: ``/`` for ``tabs``, ``/attention`` for ``pages``), and the server's memory
over many new sessions, each a page load plus one ``/attention`` run from a fresh session hash.

``python -m bench.frame [--quick]``; ``python -m bench.frame --serve tabs|pages`` starts one server.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench import Row

LESSON = "frame"
ROOT = Path(__file__).resolve().parent.parent


def _tabs_app():
    import gradio as gr

    from apps.app import _page_blocks
    from apps.frame import DELETE_CACHE
    from apps.registry import PAGES

    pages = [(page, _page_blocks(page)) for page in PAGES]
    with gr.Blocks(title="LensLab (tabs)", delete_cache=DELETE_CACHE) as app, gr.Tabs():
        for page, blocks in pages:
            with gr.Tab(page.title, id=page.lesson):
                blocks.render()
    return app


def serve(layout: str) -> None:
    from apps.frame import configure_queue, launch_options

    if layout == "tabs":
        app = _tabs_app()
    else:
        from apps.app import demo as app
    configure_queue(app)
    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True, **launch_options(server_name="127.0.0.1"))
    print(f"SERVING {url}", flush=True)
    while True:
        time.sleep(3600)


def _server(layout: str) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "bench.frame", "--serve", layout], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("SERVING "):
            return proc, line.split()[1].rstrip("/")
    raise RuntimeError(f"the {layout} server did not start (exit code {proc.wait()})")


def measure(layout: str, repeat: int, sessions: tuple[int, int]) -> dict[str, float]:
    import httpx

    from bench.attention import IMAGE, PushedClient
    from bench.system import rss_mb

    proc, url = _server(layout)
    try:
        page_url = url + ("/" if layout == "tabs" else "/attention")
        http = httpx.Client(timeout=120)
        times, size = [], 0
        for _ in range(repeat + 1):
            start = time.perf_counter()
            body = http.get(page_url).content
            times.append(time.perf_counter() - start)
            size = len(body)
        client = PushedClient(url)
        rss, made = [], 0
        for total in sessions:
            for _ in range(total - made):
                client.session = uuid.uuid4().hex  # a new visitor: a page load and one run
                http.get(page_url)
                client.predict(IMAGE, "/attention")
            made = total
            rss.append(rss_mb(proc.pid))
        return {"load_s": statistics.median(times[1:]), "bytes": size,
                "rss_first": rss[0], "rss_last": rss[1]}
    finally:
        proc.kill()
        proc.wait()


def run(quick: bool = False) -> list[Row]:
    repeat, sessions = (5, (10, 40)) if quick else (15, (20, 120))
    old = measure("tabs", repeat, sessions)
    new = measure("pages", repeat, sessions)
    per_old = (old["rss_last"] - old["rss_first"]) / (sessions[1] - sessions[0])
    per_new = (new["rss_last"] - new["rss_first"]) / (sessions[1] - sessions[0])
    return [
        Row(LESSON, "open the attention lesson (HTML + page config)", "one page of 7+ tabs", old["load_s"],
            new["load_s"], note=f"{new['bytes'] / 1e3:.0f} kB vs {old['bytes'] / 1e3:.0f} kB"),
        Row(LESSON, "server memory per new session (MB, page load + one run)", "one page of tabs",
            max(per_old, 1e-9), max(per_new, 1e-9),
            note=f"RSS {new['rss_first']:.0f}→{new['rss_last']:.0f} MB vs {old['rss_first']:.0f}→"
                 f"{old['rss_last']:.0f} MB over {sessions[1] - sessions[0]} sessions"),
    ]


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve(sys.argv[sys.argv.index("--serve") + 1])
    else:
        from bench.__main__ import table

        print(table(run(quick="--quick" in sys.argv)))
