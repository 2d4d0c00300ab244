"""LensLab: every lesson in one app — the entry point for `gradio apps/app.py` and Hugging Face Spaces.

Each lesson page is its own module exporting ``demo`` (so ``gradio apps/<lesson>.py`` also works);
here they are rendered as tabs of one Blocks, keeping their endpoint names (``/attention`` …).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script (Spaces, Docker, `gradio apps/app.py`) without install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradio as gr  # noqa: E402

from apps.frame import DELETE_CACHE, launch  # noqa: E402
from apps.registry import PAGES  # noqa: E402
from core.zoo import hub_reachable  # noqa: E402


def build() -> gr.Blocks:
    # Import every page BEFORE opening the app's Blocks: a page module builds its own `gr.Blocks` at
    # import, and inside an open Blocks context that would render it into the tab a second time.
    pages = [(page, importlib.import_module(page.module).demo) for page in PAGES]
    with gr.Blocks(title="LensLab — see inside vision models", delete_cache=DELETE_CACHE) as app:
        gr.Markdown(
            "# 🔬 LensLab\nUpload a photo and see what vision architectures do inside — attention, "
            "shifted windows, re-parameterised kernels, uncertain points, label assignment, denoising.",
            elem_classes=["lenslab-header"],
        )
        gr.Markdown(_weights_banner(), elem_classes=["lenslab-status"])
        with gr.Tabs():
            for page, lesson_demo in pages:
                with gr.Tab(page.title, id=page.lesson):
                    lesson_demo.render()
    return app


def _weights_banner() -> str:
    if hub_reachable():
        return "🌐 The Hugging Face Hub is reachable: pretrained ImageNet weights are used where chosen."
    return ("📦 Offline: lessons use LensLab's embedded models trained on ShapesWorld (synthetic shapes). "
            "Every page states which weights produced what it shows.")


demo = build()

if __name__ == "__main__":
    launch(demo)
