"""Classroom mode on every lesson page: links that reopen the exact view, a projector layout,
predict-then-reveal and a one-click slide — the Gradio glue; the logic lives in ``core``.

A page opts in with one call at the end of its ``build()``::

    classroom.attach(demo, "swin")

:func:`attach` reads the page it is given instead of asking the page to list its parts: the event
named like the lesson (``api_name="swin"``) is the lesson's endpoint; its first input is the image,
its other inputs are the lesson's ``PARAMS`` by the names of the callback's arguments; the button
that fires it is the Run button; its ``gr.JSON`` output is the result's summary and its ``gr.Image``
outputs the figures. So a new lesson whose page follows CONTRIBUTING's pattern gets classroom mode
from that one line, and a page whose layout changes keeps it. (A page can still pass ``controls=``,
``image=``, ``run=`` or ``summary=`` when its callback's names differ from its ``PARAMS``.)

What it adds, in a sidebar ("Classroom · 课堂") that leaves the page's layout alone:

* **Links** (:mod:`core.links`): on load, the URL's query (``?stage=2&example=chelsea-cat.jpg``) sets
  the controls and the image, invalid values are refused with the API's messages (``gr.Warning``) and
  keep their defaults, and the lesson runs; after every result the page's address and the "link to
  this view" box hold the link of what is shown. An upload cannot travel in a link, and the box says so.
* **Presenter view** (a switch, or ``?present=1``): the controls fold away, the figures take the full
  width one under another, type is larger and captions high-contrast (:data:`CSS`).
* **Predict first** (a switch, or ``?predict=1``): the figures are hidden until the class answers a
  question generated from the result being shown (:mod:`core.quiz`); then they are revealed, with
  whether the guess was right and why.
* **Slide**: one click downloads a 1920×1080 PNG of the figures on screen with the lesson's title, key
  formula, the settings and the weights used (:mod:`core.viz.slide`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from core import links, quiz
from core.lesson import get_params
from core.viz import slide as slides

log = logging.getLogger("lenslab")

LINK_DIR = Path(tempfile.gettempdir()) / "lenslab-links"
SCENE_DIR = Path(tempfile.gettempdir()) / "lenslab-scenes"  # where the pages write their scenes too
SLIDE_DIR = Path(tempfile.gettempdir()) / "lenslab-slides"
MAX_SLIDES = 64
SETTLE_S = 20.0  # the longest a restored link waits for the page's own start-up events

PRESENT, PREDICT, REVEALED = "lenslab-present", "lenslab-predict", "lenslab-revealed"
CONTROLS, FIGURE, HIDEABLE = "lenslab-controls", "lenslab-figure", "lenslab-hideable"
FIGURE_COLUMN, FIGURE_ROW = "lenslab-figure-column", "lenslab-figure-row"
#: the header's button that opens the sidebar (Gradio's own toggle floats over the page's controls)
OPEN_BUTTON = "lenslab-classroom-open"

#: the projector layout and the hidden figures; LensLab's launch CSS includes it (apps.frame)
CSS = f"""
body.{PRESENT} .{CONTROLS} {{ display: none !important; }}
body.{PRESENT} .gradio-container {{ max-width: 100% !important; --text-xxs: 13px; --text-xs: 15px;
  --text-sm: 17px; --text-md: 20px; --text-lg: 24px; --text-xl: 28px; --text-xxl: 34px;
  --block-label-text-size: 18px; --block-info-text-size: 17px; --block-title-text-size: 20px;
  --section-header-text-size: 20px; --body-text-size: 20px; font-size: 20px; }}
body.{PRESENT} .gradio-container .prose {{ font-size: 20px; line-height: 1.45; }}
body.{PRESENT} .{FIGURE}, body.{PRESENT} .{FIGURE_COLUMN} {{ min-width: 100% !important;
  flex: 1 1 100% !important; }}
body.{PRESENT} .{FIGURE_ROW} {{ flex-wrap: wrap !important; }}
body.{PRESENT} .{FIGURE}, body.{PRESENT} .{FIGURE} .image-container, body.{PRESENT} .{FIGURE} .image-frame,
body.{PRESENT} .{FIGURE} button {{ height: auto !important; max-height: none !important; }}
body.{PRESENT} .{FIGURE} img {{ width: 100% !important; height: auto !important;
  object-fit: contain !important;
  max-height: calc(100vh - 170px) !important; }}
body.{PRESENT} .{FIGURE} > label, body.{PRESENT} .{HIDEABLE} > label {{ color: #ffffff !important;
  background: #111111 !important; font-weight: 600 !important; opacity: 1 !important; }}
body.{PRESENT} .{FIGURE} > label *, body.{PRESENT} .{HIDEABLE} > label * {{ color: #ffffff !important; }}
body.{PRESENT} .lenslab-caption, body.{PRESENT} .lenslab-caption * {{ color: #111111 !important;
  font-weight: 600; opacity: 1 !important; }}
body.{PRESENT} .lenslab-header p {{ opacity: 1 !important; color: #111111; }}
body.{PRESENT} .lenslab-site, body.{PRESENT} .lenslab-lang {{ display: none !important; }}
body.{PREDICT}:not(.{REVEALED}) .{HIDEABLE} {{ visibility: hidden !important; position: relative; }}
body.{PREDICT}:not(.{REVEALED}) .{HIDEABLE}::after {{
  content: "Hidden until the class answers · 回答后显示"; visibility: visible; position: absolute;
  inset: 0; min-height: 2.5em; display: flex; align-items: center; justify-content: center;
  text-align: center; color: #111111; font-weight: 600; border-radius: 8px;
  background: repeating-linear-gradient(45deg, #e5e7eb 0 14px, #f3f4f6 14px 28px); }}
.lenslab-classroom .lenslab-question {{ font-size: 1.05em; }}
.lenslab-classroom > .toggle-button {{ width: auto !important; gap: 6px; padding: 0 10px 0 6px !important;
  top: auto !important; bottom: 16px; }}
.lenslab-classroom:not(.open) > .toggle-button::after {{ content: "Classroom · 课堂"; font-size: 14px;
  font-weight: 600; white-space: nowrap; color: var(--body-text-color); }}
body:has(.{OPEN_BUTTON}) .lenslab-classroom:not(.open) > .toggle-button {{ display: none !important; }}
.{OPEN_BUTTON} {{ flex-grow: 0 !important; align-self: flex-start; white-space: nowrap; }}
.lenslab-classroom-hidden {{ display: none !important; }}
"""

_JS_PRESENT = f"(on) => {{ document.body.classList.toggle('{PRESENT}', !!on); }}"
_JS_PREDICT = (
    f"(on) => {{ document.body.classList.toggle('{PREDICT}', !!on); "
    f"document.body.classList.remove('{REVEALED}'); }}"
)
_JS_HIDE = f"() => {{ document.body.classList.remove('{REVEALED}'); }}"
# the sidebar's own toggle does the opening (it keeps Gradio's state), pressed from the header's button
_JS_OPEN = """() => { const t = document.querySelector('.lenslab-classroom:not(.open) > .toggle-button');
  if (t) t.click(); }"""
_JS_REVEAL = f"(flag) => {{ if (flag === '1') document.body.classList.add('{REVEALED}'); }}"
# the absolute link of the view, also written to the address bar (a reload reopens what is shown)
_JS_LINK = """(q) => { const url = window.location.origin + window.location.pathname + (q ? '?' + q : '');
  try { window.history.replaceState(window.history.state, '', url); } catch (e) {}
  return url; }"""
_JS_DOWNLOAD = """(f) => { if (!f || !f.url) return;
  const a = document.createElement('a'); a.href = f.url; a.download = f.orig_name || 'lenslab-slide.png';
  document.body.appendChild(a); a.click(); a.remove(); }"""
_PRIVATE: dict[str, Any] = dict(api_visibility="private", show_progress="hidden")
#: the latest page built for each lesson, as attached (for tests and for scripts that drive a page)
BOUND: dict[str, Binding] = {}


@dataclass
class Binding:
    """What :func:`attach` found on a page (and tests inspect)."""

    lesson: str
    image: Any
    controls: dict[str, Any]
    run: Any
    summary: Any
    figures: list[Any]
    hideable: list[Any] = field(default_factory=list)
    endpoint: Any = None  # the lesson's BlockFunction (its callback, inputs and outputs)
    ui: dict[str, Any] = field(default_factory=dict)


def attach(
    demo: gr.Blocks,
    lesson: str,
    *,
    controls: Mapping[str, Any] | None = None,
    image: Any = None,
    run: Any = None,
    summary: Any = None,
) -> Binding | None:
    """Add classroom mode to a page's Blocks (call once, at the end of its ``build()``).

    Returns what it bound, or None (and logs why) when the page has no endpoint named ``lesson``.
    """
    if getattr(demo, "_lenslab_classroom", None) is not None:
        return demo._lenslab_classroom
    endpoint = next((fn for fn in demo.fns.values() if fn.api_name == lesson), None)
    if endpoint is None:
        log.warning("classroom: the page has no event with api_name=%r; no classroom mode", lesson)
        return None
    names = _argument_names(endpoint)
    params = {p.name for p in get_params(lesson)}
    found = dict(zip(names, endpoint.inputs, strict=False))
    bound = {name: comp for name, comp in found.items() if name in params}
    bound.update(controls or {})
    image = (
        image
        if image is not None
        else next((comp for comp in endpoint.inputs if isinstance(comp, gr.Image)), None)
    )
    if run is None:
        first = endpoint  # the event that starts the chain the endpoint is in (a .then of a click)
        while first.targets and first.targets[0][0] is None and first.trigger_after in demo.fns:
            first = demo.fns[first.trigger_after]
        block = demo.blocks.get(first.targets[0][0]) if first.targets else None
        run = block if isinstance(block, gr.Button) else None
    if run is not None and not run.elem_id:
        run.elem_id = f"lenslab-run-{lesson}"
    summary = (
        summary
        if summary is not None
        else next((comp for comp in endpoint.outputs if isinstance(comp, gr.JSON)), None)
    )
    figures = [comp for comp in endpoint.outputs if isinstance(comp, gr.Image)]
    chain = _chain(demo, endpoint)
    inputs = {id(c) for c in endpoint.inputs}
    hideable = [
        c
        for c in _unique(c for fn in chain for c in fn.outputs)
        if id(c) not in inputs
        and isinstance(c, gr.components.Component)
        and not isinstance(c, (gr.State, gr.DownloadButton, gr.Button))
    ]
    binding = Binding(lesson, image, bound, run, summary, figures, hideable, endpoint)
    _mark(demo, binding, endpoint)
    with demo:
        opener = _header_button(demo, lesson)
        _build_ui(demo, binding)
    if opener is not None:
        binding.ui["open"] = opener
    demo._lenslab_classroom = binding
    BOUND[lesson] = binding
    return binding


def _header_button(demo: gr.Blocks, lesson: str) -> gr.Button | None:
    """"Classroom · 课堂" in the header row, next to the language switch (``frame.header``).

    Gradio's sidebar toggle is fixed to the window's left edge, where at 1280×720 it covered the first
    controls of the pages; in the header it takes space of its own and scrolls away with the page. A page
    without ``frame.header`` keeps Gradio's toggle (the CSS hides that one only where this button is).
    """
    lang = getattr(getattr(demo, "_lenslab_texts", None), "lang", None)
    row = getattr(lang, "parent", None)
    if row is None:
        return None
    with row:
        button = gr.Button("Classroom · 课堂", size="sm", scale=0, min_width=150,
                           elem_id=f"{OPEN_BUTTON}-{lesson}", elem_classes=[OPEN_BUTTON])
    button.click(None, None, None, js=_JS_OPEN, **_PRIVATE)
    return button


# ------------------------------------------------------------------------------- page reading


def _argument_names(endpoint: Any) -> list[str]:
    """The endpoint callback's argument names, in input order (progress trackers and requests left out)."""
    try:
        signature = inspect.signature(endpoint.fn)
    except (TypeError, ValueError):
        return []
    names = []
    for p in signature.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or isinstance(p.default, gr.Progress):
            continue
        if p.annotation in (gr.Request, "gr.Request", gr.SelectData, "gr.SelectData"):
            continue
        names.append(p.name)
    return names[: len(endpoint.inputs)]


def _chain(demo: gr.Blocks, endpoint: Any) -> list[Any]:
    """The endpoint and every event chained after it (``.then``/``.success``), transitively."""
    chain, frontier = [endpoint], {endpoint._id}
    while frontier:
        nxt = [fn for fn in demo.fns.values() if fn.trigger_after in frontier and fn not in chain]
        chain.extend(nxt)
        frontier = {fn._id for fn in nxt}
    return chain


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for item in items:
        seen.setdefault(id(item), item)
    return list(seen.values())


def _add_class(block: Any, name: str) -> None:
    classes = block.elem_classes or []
    classes = [classes] if isinstance(classes, str) else list(classes)
    if name not in classes:
        block.elem_classes = [*classes, name]


def _descendants(block: Any) -> set[int]:
    out = {id(block)}
    for child in getattr(block, "children", []) or []:
        out |= _descendants(child)
    return out


def _mark(demo: gr.Blocks, binding: Binding, endpoint: Any) -> None:
    """CSS hooks: the figures, what predict-first hides, and the controls the projector layout folds
    away — for each input, its largest enclosing container that holds no result."""
    for comp in binding.figures:
        _add_class(comp, FIGURE)
        parent = getattr(comp, "parent", None)
        while parent is not None and not isinstance(parent, gr.Blocks):  # one figure per line when presenting
            if isinstance(parent, gr.Column):
                _add_class(parent, FIGURE_COLUMN)
            elif isinstance(parent, gr.Row):
                _add_class(parent, FIGURE_ROW)
            parent = getattr(parent, "parent", None)
    for comp in binding.hideable:
        _add_class(comp, HIDEABLE)
    results = {id(c) for c in binding.hideable} | {id(c) for c in binding.figures}
    for comp in [*endpoint.inputs, binding.run]:
        if comp is None:
            continue
        target = comp
        parent = getattr(comp, "parent", None)
        while parent is not None and parent is not demo and not (_descendants(parent) & results):
            if isinstance(parent, gr.Blocks):
                break
            target, parent = parent, getattr(parent, "parent", None)
        _add_class(target, CONTROLS)


# ------------------------------------------------------------------------------------ the UI


def _build_ui(demo: gr.Blocks, b: Binding) -> None:
    lesson = b.lesson
    names = list(b.controls)
    comps = [b.controls[n] for n in names]
    has_quiz = quiz.has_questions(lesson) and b.summary is not None
    figure_labels = _figure_labels(b.figures)
    with gr.Sidebar(
        label="Classroom · 课堂", open=False, position="left", width=400, elem_classes=["lenslab-classroom"]
    ) as sidebar:
        gr.Markdown(
            "### Classroom · 课堂\nA link to this view, the projector layout, predict-then-reveal "
            "and a slide of the figures. · 链接、投影模式、先预测再揭晓、导出幻灯片。"
        )
        present = gr.Checkbox(
            False,
            label="Presenter view · 投影模式",
            info="Controls folded away, figures full width, large type (or ?present=1).",
            elem_id=f"lenslab-present-{lesson}",
        )
        predict = gr.Checkbox(
            False,
            label="Predict first · 先预测",
            interactive=has_quiz,
            info=(
                "Hide the figures until the class answers a question about them."
                if has_quiz
                else "This lesson has no questions yet."
            ),
            elem_id=f"lenslab-predict-{lesson}",
        )
        with gr.Group(visible=has_quiz):
            question = gr.Markdown(
                "Run the lesson: a question about its result appears here. · "
                "运行后这里出现一道关于结果的题。",
                elem_classes=["lenslab-question"],
            )
            choices = gr.Radio([], label="Your answer · 你的答案", elem_id=f"lenslab-choices-{lesson}")
            with gr.Row():
                check = gr.Button(
                    "Check · 核对", variant="primary", size="sm", elem_id=f"lenslab-check-{lesson}"
                )
                show = gr.Button("Show answer · 看答案", size="sm")
                another = gr.Button("Another · 换一题", size="sm")
            feedback = gr.Markdown("", elem_id=f"lenslab-feedback-{lesson}")
        link = gr.Textbox(
            "",
            label="Link to this view · 本视图链接",
            buttons=["copy"],
            interactive=False,
            lines=2,
            elem_id=f"lenslab-link-{lesson}",
        )
        note = gr.Markdown("", elem_id=f"lenslab-note-{lesson}")
        pick = gr.Dropdown(
            [label for label, _ in figure_labels],
            value=[label for label, _ in figure_labels[:2]],
            multiselect=True,
            label="Figures on the slide · 幻灯片上的图",
            max_choices=slides.MAX_FIGURES,
            visible=bool(figure_labels),
        )
        make = gr.Button("Slide (PNG 1920×1080) · 导出幻灯片", elem_id=f"lenslab-slide-{lesson}")
        slide_file = gr.File(
            label="Last slide · 最近的幻灯片", interactive=False, elem_id=f"lenslab-slidefile-{lesson}"
        )
    hidden = ["lenslab-classroom-hidden"]
    query = gr.Textbox("", visible=True, elem_classes=hidden, label="query")
    autorun = gr.Textbox("", visible=True, elem_classes=hidden, label="autorun")
    revealed = gr.Textbox("", visible=True, elem_classes=hidden, label="revealed")
    token = gr.Textbox("", visible=True, elem_classes=hidden, label="question")
    # how many results this page has shown: a signal for tests and scripts ("the next result is in")
    counter = gr.Number(
        0, visible=True, elem_classes=hidden, label="results", elem_id=f"lenslab-results-{lesson}"
    )
    restored = gr.State(None)
    asked = gr.State(None)  # (key, Question): kept on the server, so the answer is not in the page
    seed = gr.State(0)
    b.ui.update(
        sidebar=sidebar,
        present=present,
        predict=predict,
        question=question,
        choices=choices,
        check=check,
        show=show,
        another=another,
        feedback=feedback,
        link=link,
        note=note,
        pick=pick,
        make=make,
        slide_file=slide_file,
        query=query,
        autorun=autorun,
    )

    # --- links: restore on load, then keep the link of what is shown
    restore_outputs = [
        restored,
        present,
        predict,
        sidebar,
        *([b.image] if b.image is not None else []),
        *comps,
    ]

    def restore(request: gr.Request) -> tuple[Any, ...]:
        return _restore(lesson, b, names, dict(request.query_params) if request else {})

    def reapply(state: links.LinkState | None) -> tuple[Any, ...]:
        return _reapply(lesson, b, names, state)

    load = demo.load(restore, None, restore_outputs, **_PRIVATE)
    load = load.then(_settle, restored, None, **_PRIVATE)
    load = load.then(reapply, restored, [autorun, *comps], **_PRIVATE)
    load = load.then(_settle, restored, None, **_PRIVATE)
    # press Run (when the link names an image) and note how many results there were before it
    run_id = b.run.elem_id if b.run is not None else ""
    click = (
        f"(go, n) => {{ const b = document.getElementById('{run_id}'); if (go === '1' && b) b.click(); "
        "document.body.dataset.lenslabRestored = (go === '1' && b) ? String(n) : 'idle'; }"
    )
    load.then(None, [autorun, counter], None, js=click, **_PRIVATE)
    _after_results(demo, b, fn=_count, inputs=counter, outputs=counter, queue=False, **_PRIVATE)

    link_inputs = [*([b.image] if b.image is not None else []), present, predict, *comps]

    def make_link(*values: Any) -> tuple[str, str]:
        return _link(lesson, b, names, values)

    refresh = dict(
        fn=make_link, inputs=link_inputs, outputs=[query, note], trigger_mode="always_last", **_PRIVATE
    )
    for dep in [*_after_results(demo, b, **refresh), present.change(**refresh), predict.change(**refresh)]:
        dep.then(None, query, link, js=_JS_LINK, **_PRIVATE)
    present.change(None, present, None, js=_JS_PRESENT, **_PRIVATE)

    # --- predict, then reveal
    if has_quiz:
        ask_inputs = [b.summary, seed, asked, *link_inputs]

        def ask(summary: Any, n: int, current: Any, *values: Any) -> tuple[Any, ...]:
            return _ask(lesson, b, names, summary, n, current, values)

        def another_question(n: int) -> int:
            return int(n or 0) + 1

        asking = dict(
            fn=ask,
            inputs=ask_inputs,
            outputs=[asked, question, choices, feedback, token],
            trigger_mode="always_last",
            **_PRIVATE,
        )
        _after_results(demo, b, **asking)
        predict.change(None, predict, None, js=_JS_PREDICT, **_PRIVATE).then(**asking)
        another.click(another_question, seed, seed, **_PRIVATE).then(**asking)
        token.change(None, None, None, js=_JS_HIDE, **_PRIVATE)
        check.click(_check, [asked, choices], [feedback, revealed], **_PRIVATE).then(
            None, revealed, None, js=_JS_REVEAL, **_PRIVATE
        )
        show.click(_show, asked, [feedback, revealed], **_PRIVATE).then(
            None, revealed, None, js=_JS_REVEAL, **_PRIVATE
        )
        _hide_on_recompute(demo, b)
    else:
        predict.change(None, predict, None, js=_JS_PREDICT, **_PRIVATE)

    # --- slide export
    slide_inputs = [*([b.summary] if b.summary is not None else []), pick, link, *b.figures, *comps]

    def export(*values: Any) -> str:
        return _slide(lesson, b, names, values)

    make.click(export, slide_inputs, slide_file, api_visibility="private").then(
        None, slide_file, None, js=_JS_DOWNLOAD, **_PRIVATE
    )


def _after_results(demo: gr.Blocks, b: Binding, **event: Any) -> list[Any]:
    """Register ``event`` to run after every event that produces a new result (each event writing the
    summary, else the figures): the Run button, the re-runs a slider sets off, a scene button.

    (A ``.change`` of the summary is not enough: a ``gr.JSON`` inside a closed accordion is not mounted
    in the browser, and its change is never reported.)"""
    from gradio.events import EventListener

    targets = [b.summary] if b.summary is not None else b.figures
    wanted = {id(c) for c in targets}
    producers = [
        fn for fn in list(demo.fns.values()) if fn.fn is not None and any(id(c) in wanted for c in fn.outputs)
    ]
    return [
        EventListener(
            "success", trigger_after=fn._id, trigger_only_on_success=True, has_trigger=False
        ).listener(None, **event)
        for fn in producers
    ]


def _count(n: Any) -> int:
    return int(n or 0) + 1


def _figure_labels(figures: Sequence[Any]) -> list[tuple[str, Any]]:
    labels: list[tuple[str, Any]] = []
    for i, comp in enumerate(figures):
        label = str(comp.label or f"figure {i + 1}")
        if any(label == existing for existing, _ in labels):
            label = f"{label} ({i + 1})"
        labels.append((label, comp))
    return labels


def _hide_on_recompute(demo: gr.Blocks, b: Binding) -> None:
    """Hide the figures again, in the browser at once, whenever a control starts a new computation of
    them while predict-first is on — before the new figures arrive, not after."""
    results = {id(c) for c in b.hideable}
    hide = (f"() => {{ if (document.body.classList.contains('{PREDICT}')) "
            f"document.body.classList.remove('{REVEALED}'); }}")
    done: set[tuple[int, str]] = set()
    for fn in list(demo.fns.values()):
        if fn.fn is None or not any(id(c) in results for c in fn.outputs):
            continue
        for block_id, event in fn.targets:
            if (
                block_id is None
                or event in ("load", "then", "success", "failure")
                or (block_id, event) in done
            ):
                continue
            block = demo.blocks.get(block_id)
            listener = getattr(block, event, None)
            if block is None or not callable(listener):
                continue
            done.add((block_id, event))
            listener(None, None, None, js=hide, queue=False, **_PRIVATE)


# --------------------------------------------------------------------------------- callbacks


def _restore(lesson: str, b: Binding, names: list[str], query: Mapping[str, str]) -> tuple[Any, ...]:
    state = links.parse(lesson, query)
    for message in state.problems:
        gr.Warning(message, title="LensLab · link")
    skip_all = (gr.skip(),) * (3 + (b.image is not None) + len(names))
    if not state.given:
        return (None, *skip_all)
    image_value: Any = gr.skip()
    if b.image is not None:
        try:
            image_value = _image_file(lesson, state) or gr.skip()
        except (ValueError, OSError) as exc:  # a scene that cannot be rendered: say so, open the page
            gr.Warning(str(exc), title="LensLab · link")
    defaults = {p.name: p.default for p in get_params(lesson)}
    missing = [n for n, v in state.params.items() if n not in b.controls and v != defaults.get(n)]
    if missing:
        gr.Warning(
            f"This page shows no control for {', '.join(missing)}: the link's value is not used here.",
            title="LensLab · link",
        )
    if (
        state.params
        and b.image is not None
        and state.example is None
        and state.scene is None
        and not _runs_without_image(state)
    ):
        gr.Info(
            "This link names no photo (an uploaded photo cannot travel in a link): pick one — the "
            "settings are set.",
            title="LensLab · link",
        )
    updates = _control_updates(b, names, state, first=True)
    sidebar = gr.update(open=True) if state.predict else gr.skip()
    image_part = (image_value,) if b.image is not None else ()
    return (
        state,
        state.present if state.present else gr.skip(),
        state.predict if state.predict else gr.skip(),
        sidebar,
        *image_part,
        *updates,
    )


def _reapply(lesson: str, b: Binding, names: list[str], state: links.LinkState | None) -> tuple[Any, ...]:
    """Set the link's values again once the page's own start-up events are done (a model change may have
    reset a layer slider), and say whether to press Run."""
    if state is None:
        return ("", *(gr.skip() for _ in names))
    go = (
        state.example is not None or state.scene is not None or _runs_without_image(state)
    ) and b.run is not None
    return ("1" if go else "", *_control_updates(b, names, state, first=False))


def _runs_without_image(state: links.LinkState) -> bool:
    """A scenario that needs no photo (SimOTA's worked example from the notes)."""
    defaults = {p.name: p.default for p in get_params(state.lesson)}
    return "example" in state.params and state.params["example"] != defaults.get("example")


def _control_updates(b: Binding, names: list[str], state: links.LinkState, first: bool) -> list[Any]:
    try:
        implied = state.implied()
    except (ValueError, OSError):  # a scene that cannot be rendered (already reported): its own values only
        implied = {}
    values = {**implied, **state.params}
    out: list[Any] = []
    for name in names:
        if name not in values:
            out.append(gr.skip())
            continue
        comp, value = b.controls[name], values[name]
        if isinstance(comp, gr.Dropdown) and comp.multiselect and isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if first and isinstance(comp, gr.Slider) and isinstance(value, (int, float)):
            extra: dict[str, Any] = {}
            if comp.maximum is not None and value > comp.maximum:
                extra["maximum"] = value
            if comp.minimum is not None and value < comp.minimum:
                extra["minimum"] = value
            out.append(gr.update(value=value, **extra))
        else:
            out.append(value)
    return out


def _image_file(lesson: str, state: links.LinkState) -> str | None:
    """A file for the image the link names: a copy of the bundled photo under its own name, or the
    scene's PNG named as the page names it (how the next link recognises it)."""
    if state.example is not None:
        LINK_DIR.mkdir(parents=True, exist_ok=True)
        target = LINK_DIR / state.example
        if not target.is_file():
            tmp = LINK_DIR / f".{state.example}.{os.getpid()}.tmp"
            shutil.copyfile(links.bundled_photos()[state.example], tmp)
            os.replace(tmp, target)
        return str(target)
    if state.scene is not None:
        source = links.SCENES[lesson]
        SCENE_DIR.mkdir(parents=True, exist_ok=True)
        target = SCENE_DIR / source.file_name(state.scene, state.style)
        data = links.scene_png(lesson, state.scene, state.style)
        if not target.is_file() or target.read_bytes() != data:
            fd, tmp = tempfile.mkstemp(suffix=".png", dir=SCENE_DIR)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        return str(target)
    return None


async def _settle(state: Any, request: gr.Request) -> None:
    """Wait until this browser session has no other event queued or running (the page's own start-up
    events and what a restored value set off), so the link's values are applied last."""
    if state is None:
        return
    queue = _queue_of(request)
    session = getattr(request, "session_hash", None)
    if queue is None or session is None:  # not under Gradio's queue: give the page a moment instead
        await asyncio.sleep(1.0)
        return
    await asyncio.sleep(0.3)
    deadline, quiet = time.monotonic() + SETTLE_S, 0
    while time.monotonic() < deadline and quiet < 2:
        quiet = quiet + 1 if not _busy(queue, session) else 0
        await asyncio.sleep(0.15)


def _queue_of(request: gr.Request) -> Any:
    try:
        return request.request.app.get_blocks()._queue
    except AttributeError:
        return None


def _busy(queue: Any, session: str) -> bool:
    """Whether ``session`` has an event waiting or running, other than the classroom's own waits."""
    try:
        waiting = [e for q in queue.event_queue_per_concurrency_id.values() for e in q.queue]
        running = [e for job in queue.active_jobs if job for e in job]
    except AttributeError:
        return False
    return any(
        e.session_hash == session and getattr(e.fn, "name", "") != "_settle" for e in [*waiting, *running]
    )


def _params_from(b: Binding, names: list[str], values: Sequence[Any]) -> dict[str, Any]:
    return links.values_from_page(b.lesson, dict(zip(names, values, strict=False)))


def _split(b: Binding, values: Sequence[Any]) -> tuple[Any, bool, bool, Sequence[Any]]:
    values = list(values)
    image = values.pop(0) if b.image is not None else None
    present, predict = bool(values[0]), bool(values[1])
    return image, present, predict, values[2:]


def _link(lesson: str, b: Binding, names: list[str], values: Sequence[Any]) -> tuple[str, str]:
    image, present, predict, controls = _split(b, values)
    params = _params_from(b, names, controls)
    ref = links.identify_image(lesson, _path(image))
    query, note = links.link_for(lesson, params, ref, present=present, predict=predict)
    return query, (f"*{note}*" if note else "")


def _path(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("path")
    return None if value in (None, "") else str(value)


def _ask(
    lesson: str, b: Binding, names: list[str], summary: Any, n: Any, current: Any, values: Sequence[Any]
) -> tuple[Any, ...]:
    image, _, _, controls = _split(b, values)
    params = _params_from(b, names, controls)
    key = json.dumps([_path(image), params, int(n or 0)], sort_keys=True, default=str)
    if current is not None and current[0] == key and current[1] is not None:
        return (gr.skip(),) * 5  # the same view (a streaming update, a repeated run): keep the question
    q = quiz.ask(lesson, summary, params, seed=int(n or 0))
    if q is None and not summary:
        return (
            None,
            "Run the lesson: a question about its result appears here. · 运行后这里出现一道关于结果的题。",
            gr.update(choices=[], value=None),
            "",
            "",
        )
    if q is None:
        return (
            (key, None),
            "No question fits this result. · 这个结果没有合适的题。",
            gr.update(choices=[], value=None),
            "",
            key,
        )
    text = f"**Predict · 预测** — {q.prompt}\n\n{q.prompt_zh}"
    return (key, q), text, gr.update(choices=list(q.choices), value=None), "", key


def _check(asked: Any, choice: Any) -> tuple[str, str]:
    q = asked[1] if asked else None
    if q is None:
        return "Run the lesson first. · 请先运行。", ""
    if choice in (None, ""):
        return "Pick an answer first. · 请先选一个答案。", ""
    _, text = q.feedback(str(choice))
    return text, "1"


def _show(asked: Any) -> tuple[str, str]:
    q = asked[1] if asked else None
    if q is None:
        return "", "1"
    return q.feedback(None)[1], "1"


def _slide(lesson: str, b: Binding, names: list[str], values: Sequence[Any]) -> str:
    values = list(values)
    summary = values.pop(0) if b.summary is not None else None
    pick, link = values.pop(0), values.pop(0)
    images, controls = values[: len(b.figures)], values[len(b.figures) :]
    labels = [label for label, _ in _figure_labels(b.figures)]
    chosen = set(pick or labels[:2])
    figures = slides.figure_list(
        (img, label) for img, label in zip(images, labels, strict=True) if label in chosen
    )
    params = _params_from(b, names, controls)
    title, subtitle = _titles(lesson)
    picture = slides.render_slide(
        title,
        figures,
        params,
        lesson=lesson,
        subtitle=subtitle,
        weights=slides.weights_lines(summary),
        link=str(link or ""),
    )
    data = slides.slide_png(picture, title=title, link=str(link or ""), summary=summary, params=params)
    SLIDE_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fd, path = tempfile.mkstemp(prefix=f"lenslab-{lesson}-{stamp}-", suffix=".png", dir=SLIDE_DIR)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    old = sorted(SLIDE_DIR.glob("*.png"), key=lambda p: p.stat().st_mtime if p.exists() else 0.0)
    for stale in old[:-MAX_SLIDES]:
        stale.unlink(missing_ok=True)
    return path


def _titles(lesson: str) -> tuple[str, str]:
    from apps.registry import PAGES

    page = next((p for p in PAGES if p.lesson == lesson), None)
    return (page.title, page.teaches) if page else (lesson, "")
