"""A page for a lesson that is not built yet: it says what the lesson will teach, and shows nothing fake."""

from __future__ import annotations

import gradio as gr

from apps.registry import PAGES


def pending_demo(lesson: str) -> gr.Blocks:
    page = next(p for p in PAGES if p.lesson == lesson)
    with gr.Blocks(title=f"LensLab · {page.title}") as demo:
        gr.Markdown(
            f"# {page.title}\n**This lesson is being built.** When it is ready it will show: "
            f"{page.teaches}\n\nNothing is computed on this page yet, so nothing here is made up."
        )
    return demo
