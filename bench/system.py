"""Whole-app measurements: cold start (process start → first answer) and memory (RSS) over many calls."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "assets" / "images" / "chelsea-cat.jpg"

_COLD_START = r"""
import time, os, sys
t0 = float(sys.argv[1])
from gradio_client import Client, handle_file
from apps.app import demo
from apps.frame import configure_queue
configure_queue(demo)
_, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
t_up = time.time()
Client(url, verbose=False).predict(handle_file(sys.argv[2]), api_name="/attention")
print(f"COLDSTART {t_up - t0:.3f} {time.time() - t0:.3f}", flush=True)
demo.close()
"""


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process (this one by default) in MB (Linux /proc; no extra dependency)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cold_start() -> tuple[float, float]:
    """Seconds from `python` start to the server listening, and to the first /attention answer."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    out = subprocess.run([sys.executable, "-c", _COLD_START, str(time.time()), str(SAMPLE)], env=env,
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("COLDSTART "))
    up, first = (float(v) for v in line.split()[1:])
    return up, first


def memory_growth(lessons: list[str], calls: tuple[int, int] = (10, 200)) -> dict[str, tuple[float, float]]:
    """RSS after ``calls[0]`` and after ``calls[1]`` runs of each lesson on the sample photo (MB)."""
    from core.images import load_image
    from core.lesson import get_runner

    image = load_image(SAMPLE)
    out = {}
    for lesson in lessons:
        run = get_runner(lesson)
        for _ in range(calls[0]):
            run(image)
        gc.collect()
        after_first = rss_mb()
        for _ in range(calls[1] - calls[0]):
            run(image)
        gc.collect()
        out[lesson] = (after_first, rss_mb())
    return out


def server_memory_growth(calls: tuple[int, int] = (40, 200)) -> tuple[float, float]:
    """RSS (MB) of a running app after ``calls[0]`` and ``calls[1]`` ``/attention`` calls, each from
    a new API session: what a server keeps per session shows up here (core-level runs cannot see it)."""
    import uuid

    from bench.attention import IMAGE, PushedClient, _server

    proc, url = _server()
    try:
        client = PushedClient(url)
        made, sizes = 0, []
        for total in calls:
            for _ in range(total - made):
                client.session = uuid.uuid4().hex  # a new visitor each time
                client.predict(IMAGE, "/attention")
            made = total
            sizes.append(rss_mb(proc.pid))
        first, last = sizes
        return first, last
    finally:
        proc.kill()
        proc.wait()
