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
import tempfile
import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from apps import gradio_fixes
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


def header(title: str, tagline: str) -> gr.Markdown:
    return gr.Markdown(f"# {title}\n{tagline}", elem_classes=["lenslab-header"])


def image_input(label: str = "Your photo (or pick an example below)", height: int = 340,
                with_examples: bool = True) -> UploadImage:
    """The upload box with the bundled examples underneath."""
    box = UploadImage(label=label, type="filepath", height=height, sources=["upload", "clipboard", "webcam"],
                      buttons=["fullscreen"])
    if with_examples:
        gr.Examples(examples=sample_images(), inputs=box, label="Examples (public-domain photos)",
                    examples_per_page=8)
    return box


def model_picker(names: Sequence[str], default: str | None = None, label: str = "Model",
                 weights: str = "auto") -> tuple[gr.Dropdown, gr.Radio]:
    """A model dropdown (from the zoo) and a weights-mode radio."""
    choices = [(zoo.get_entry(n).title, n) for n in names]
    model = gr.Dropdown(choices=choices, value=default or names[0], label=label)
    mode = gr.Radio(choices=WEIGHT_CHOICES, value=weights, label="Weights")
    return model, mode


def param_slider(param: Param, **kwargs: Any) -> gr.Slider:
    """A slider built from a lesson's ``Param`` (range, step, default, label and help in one place)."""
    return gr.Slider(param.minimum, param.maximum, value=param.default, step=param.step or 1,
                     label=param.label or param.name, info=param.help or None, **kwargs)


def status_box() -> gr.Markdown:
    """Where the page states which weights produced what it shows."""
    return gr.Markdown("Weights: not loaded yet — press **Run**.", elem_classes=["lenslab-status"])


def weights_status(loaded: zoo.Loaded | Sequence[zoo.Loaded]) -> str:
    items = loaded if isinstance(loaded, Sequence) else [loaded]
    lines = []
    for item in items:
        icon = SOURCE_ICONS[item.source]
        lines.append(f"{icon} **{item.status}**")
    return "  \n".join(lines)


def explanation_panel(lesson: str) -> tuple[gr.Radio, gr.Markdown]:
    """The EN/中文 toggle and the lesson's explanation with formulas (LaTeX)."""
    lang = gr.Radio(choices=[(v, k) for k, v in LANGUAGES.items()], value="en", label="Language · 语言")
    text = gr.Markdown(
        explanation(lesson, "en"),
        latex_delimiters=[
            {"left": "$$", "right": "$$", "display": True},
            {"left": "$", "right": "$", "display": False},
        ],
        elem_classes=["lenslab-explain"],
    )
    lang.change(lambda code: explanation(lesson, code), lang, text, api_visibility="private",
                queue=False)
    return lang, text


def download_button() -> gr.DownloadButton:
    return gr.DownloadButton("Download figures (PNG)", visible=True, variant="secondary", size="sm")


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
        raise gr.Error(str(message), title="LensLab") from exc
    except Exception as exc:  # noqa: BLE001 - the server must keep serving
        log.error("lesson callback failed:\n%s", traceback.format_exc())
        raise gr.Error(
            f"Something went wrong inside LensLab ({type(exc).__name__}). "
            "Try another image or setting; the error was logged.",
            title="LensLab",
        ) from exc


def configure_queue(demo: gr.Blocks, concurrency: int = 4, max_size: int = 64) -> gr.Blocks:
    """Queue settings for a classroom: bounded queue, a few workers (heavy lessons set lower limits),
    and the process tuned to serve (:func:`core.runtime.configure`: torch threads sized so concurrent
    calls do not oversubscribe the cores, freed memory kept for reuse, the start-up heap frozen)."""
    runtime.configure(concurrency)
    return demo.queue(default_concurrency_limit=concurrency, max_size=max_size)


def launch_options(**overrides: Any) -> dict[str, Any]:
    """LensLab's launch settings (theme, CSS, upload limit; local-only unless on Spaces/Docker)."""
    options: dict[str, Any] = dict(theme=THEME, css=CSS, max_file_size=MAX_FILE_SIZE, footer_links=["api"],
                                   state_session_capacity=SESSIONS_KEPT)
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
