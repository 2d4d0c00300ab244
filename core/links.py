"""Links that reopen a lesson's exact view: the state of a page as URL query parameters, and back.

The contract (design doc *API*, "Links"): every lesson page lives at ``/<lesson>`` and reads its state
from query parameters named as the lesson's ``PARAMS``, plus

* ``example=<file name>`` — one of the bundled photos (``assets/images``), by file name only;
* ``scene=<n>`` (and ``style=`` where the lesson has several render styles) — a ShapesWorld scene, for
  the lessons whose page can load one (:data:`SCENES`); the scene also sets what it implies (SimOTA's
  true boxes become the GT, PointRend's scene number);
* ``present=1`` — the projector layout, ``predict=1`` — predict-then-reveal.

An uploaded photo cannot travel in a link (it exists only in the browser that uploaded it): a link of
an upload carries the settings, and :func:`identify_image` says so. Parsing never raises for a bad
value: it keeps the default and records the same message the lesson's ``Param.check`` gives the HTTP
API, so the page can warn and still open. Nothing here imports a front end: the Gradio glue is
``apps/classroom.py``; tests check the round trip here, without a browser.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np

from core.lesson import LESSONS, LessonResult, Param, get_params, get_runner

ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = ROOT / "assets" / "images"
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
#: link keys that are not lesson parameters (a lesson parameter of the same name keeps its meaning)
EXTRA_KEYS = ("example", "scene", "style", "present", "predict")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
_MAX_SCENE = 10**6


@dataclass(frozen=True)
class SceneSource:
    """A lesson whose page loads synthetic ShapesWorld scenes, which (unlike uploads) a link can name.

    ``render(index, style)`` gives the scene's image and the parameters it implies; ``file_name`` is
    the name the page gives the scene's PNG (how a page's image is recognised as that scene).
    """

    render: Callable[[int, str], tuple[np.ndarray, dict[str, Any]]]
    file_name: Callable[[int, str], str]
    styles: tuple[str, ...] = ("",)


def _simota_scene(index: int, style: str) -> tuple[np.ndarray, dict[str, Any]]:
    from core import assign

    image, gt_json = assign.shapes_scene(index, style)
    return image, {"gt_boxes": gt_json}


def _pointrend_scene(index: int, style: str) -> tuple[np.ndarray, dict[str, Any]]:
    from core import pointrend

    return pointrend.scene_image(index, 256), {"scene": index}


#: lessons whose pages load ShapesWorld scenes (same renderers and file names as their pages)
SCENES: dict[str, SceneSource] = {
    "simota": SceneSource(
        _simota_scene, lambda i, s: f"shapesworld-detect-{s}-{i}.png", ("train", "heldout")
    ),
    "pointrend": SceneSource(_pointrend_scene, lambda i, s: f"shapesworld-heldout-{i}.png"),
}


def bundled_photos() -> dict[str, Path]:
    """The bundled example images by file name, in a stable order: the photos, then the ShapesWorld
    scenes bundled as examples (``assets/images/shapesworld``; their names do not clash)."""
    found: dict[str, Path] = {}
    for folder in (IMAGES_DIR, IMAGES_DIR / "shapesworld"):
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file():
                    found.setdefault(p.name, p)
    return found


@dataclass
class LinkState:
    """A page's state as a link names it: the lesson parameters it sets and where the image comes from.

    ``params`` holds only the parameters the link gave (validated); :meth:`run_params` adds the
    defaults and what a scene implies. ``problems`` are the messages for values that were refused
    (each kept at its default).
    """

    lesson: str
    params: dict[str, Any] = field(default_factory=dict)
    example: str | None = None
    scene: int | None = None
    style: str = ""
    present: bool = False
    predict: bool = False
    problems: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def given(self) -> bool:
        """Whether the link set anything at all (a bare ``/<lesson>`` opens the page as it is)."""
        return bool(self.params or self.example or self.scene is not None or self.present or self.predict)

    def implied(self) -> dict[str, Any]:
        """The parameters the scene implies (empty without a scene)."""
        if self.scene is None:
            return {}
        return SCENES[self.lesson].render(self.scene, self.style)[1]

    def run_params(self) -> dict[str, Any]:
        """Every parameter of the lesson: defaults, then what the scene implies, then the link's own."""
        values = {p.name: p.default for p in get_params(self.lesson)}
        values.update(self.implied())
        values.update(self.params)
        return values

    def image(self) -> np.ndarray | None:
        """The image the link names (a bundled photo or a scene), or None."""
        if self.example is not None:
            from core.images import load_image

            return load_image(bundled_photos()[self.example])
        if self.scene is not None:
            return SCENES[self.lesson].render(self.scene, self.style)[0]
        return None

    def query(self) -> str:
        """The link's query string (without ``?``): what :func:`to_query` writes for this state."""
        return to_query(
            self.lesson,
            self.params,
            example=self.example,
            scene=self.scene,
            style=self.style,
            present=self.present,
            predict=self.predict,
        )


def parse(lesson: str, query: Mapping[str, Any] | str) -> LinkState:
    """Read a page's state from its URL query (a mapping, or the query string itself).

    Every value is checked as the HTTP API checks it (``Param.check``); a refused value keeps its
    default and its message goes to ``problems``. Keys starting with ``__`` (Gradio's own, such as
    ``__theme``) are ignored; other unknown keys are reported.
    """
    if lesson not in LESSONS:
        raise KeyError(f"unknown lesson {lesson!r}; known: {', '.join(LESSONS)}")
    if isinstance(query, str):
        query = dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    params = {p.name: p for p in get_params(lesson)}
    state = LinkState(lesson)
    for key, raw in query.items():
        value = raw[-1] if isinstance(raw, (list, tuple)) else raw
        value = "" if value is None else str(value)
        if key.startswith("__"):
            continue
        if key == "example" and not (key in params and _is_choice(params[key], value)):
            _read_example(state, value)
        elif key == "scene" and lesson in SCENES:
            _read_scene(state, value)
            if key in params and state.scene is not None:
                state.params[key] = state.scene
        elif key == "style" and lesson in SCENES and key not in params:
            _read_style(state, value)
        elif key in ("present", "predict") and key not in params:
            flag = _flag(value)
            if flag is None:
                state.problems.append(f"{key} must be 1 or 0 (on or off); got {_brief(value)}.")
            else:
                setattr(state, key, flag)
        elif key in params:
            try:
                state.params[key] = read_value(params[key], value)
            except ValueError as exc:
                state.problems.append(str(exc))
        else:
            state.unknown.append(key)
    if state.unknown:
        names = ", ".join(
            [*params, *(k for k in EXTRA_KEYS if k not in params and _extra_applies(lesson, k))]
        )
        state.problems.append(
            f"This page has no setting called {', '.join(map(repr, state.unknown))} "
            f"(ignored); it reads: {names}."
        )
    if state.scene is not None and state.example is not None:
        state.problems.append("A link names either an example photo or a scene, not both: the scene is used.")
        state.example = None
    if state.scene is not None and state.style == "" and SCENES[lesson].styles != ("",):
        state.style = SCENES[lesson].styles[0]
    return state


def read_value(param: Param, text: str) -> Any:
    """One query value as the lesson's parameter: the API's own check, after the URL's spellings of
    choices that are numbers ("256") and of booleans ("1", "false") are read."""
    if param.kind == "choice":
        for option in param.choices:
            if str(option) == text:
                return param.check(option)
    if param.kind == "bool":
        flag = _flag(text)
        if flag is None:
            raise ValueError(
                f"{param.label or param.name} must be true or false (1 or 0); got {_brief(text)}."
            )
        return param.check(flag)
    value = param.check(text)
    if param.kind == "float" and not math.isfinite(float(value)):
        raise ValueError(f"{param.label or param.name} must be a finite number; got {_brief(text)}.")
    return value


def to_query(
    lesson: str,
    params: Mapping[str, Any],
    *,
    example: str | None = None,
    scene: int | None = None,
    style: str = "",
    present: bool = False,
    predict: bool = False,
) -> str:
    """The query string of a view: every parameter that differs from its default (in ``PARAMS`` order;
    what the scene implies is left out, the scene brings it back), then the image and the modes."""
    names = {p.name: p for p in get_params(lesson)}
    own = names.get("scene")
    if scene is None and lesson in SCENES and own is not None and params.get("scene", own.default) not in (
            own.default, None):
        scene = int(params["scene"])  # a lesson whose own parameter names the scene (PointRend)
    implied = SCENES[lesson].render(int(scene), style)[1] if scene is not None and lesson in SCENES else {}
    if scene is not None:
        example = None  # the scene is the image
    pairs: list[tuple[str, str]] = []
    for p in get_params(lesson):
        if p.name not in params:
            continue
        value = params[p.name]
        if p.name in implied and _same_value(value, implied[p.name]):
            continue
        if _same_value(value, p.default) and p.name not in implied:
            continue
        pairs.append((p.name, format_value(p, value)))
    if example is not None and not {"scene", "example"} & set(dict(pairs)):
        pairs.append(("example", example))
    if scene is not None and "scene" not in dict(pairs):
        pairs.append(("scene", str(int(scene))))
        if lesson in SCENES and SCENES[lesson].styles != ("",) and "style" not in names:
            pairs.append(("style", style or SCENES[lesson].styles[0]))
    if present:
        pairs.append(("present", "1"))
    if predict:
        pairs.append(("predict", "1"))
    return urlencode(pairs, quote_via=quote, safe=",")


def format_value(param: Param, value: Any) -> str:
    """A parameter value as a link writes it (numbers shortest-exact, booleans 1/0)."""
    if param.kind == "bool":
        return "1" if value else "0"
    if param.kind == "float":
        return repr(float(value))
    if param.kind == "int":
        return str(int(value))
    return str(value)


def values_from_page(lesson: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The lesson parameters a page's controls hold, validated (a control's raw value — a slider's
    3.0, a multiselect's list — becomes what the lesson takes); a value the lesson refuses is left out."""
    params = {p.name: p for p in get_params(lesson)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in params:
            continue
        p = params[name]
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        if value is None:
            value = "" if p.kind == "text" else p.default
        try:
            if p.kind == "int" and isinstance(value, float) and value.is_integer():
                value = int(value)
            values[name] = (
                read_value(p, value) if isinstance(value, str) and p.kind != "text" else p.check(value)
            )
        except ValueError:
            continue
    return values


@dataclass(frozen=True)
class ImageRef:
    """Where a page's image came from: ``"example"`` (a bundled photo, by ``name``), ``"scene"``
    (``index``, ``style``), ``"upload"`` (cannot travel in a link) or ``"none"``."""

    kind: str
    name: str | None = None
    index: int | None = None
    style: str = ""


def identify_image(lesson: str, path: str | Path | None) -> ImageRef:
    """Recognise a page's image file by its content: a bundled photo (whatever the file is called now)
    or one of the lesson's ShapesWorld scenes (named as the page names them and identical to the
    render); anything else is an upload."""
    if path is None or str(path) == "":
        return ImageRef("none")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        return ImageRef("none")
    digest = hashlib.sha256(data).hexdigest()
    for name, photo in bundled_photos().items():
        if _digest(photo) == digest:
            return ImageRef("example", name=name)
    source = SCENES.get(lesson)
    if source is not None:
        for style in source.styles:
            for index in _scene_numbers(path.name, source, style):
                if scene_png_digest(lesson, index, style) == digest:
                    return ImageRef("scene", index=index, style=style)
    return ImageRef("upload")


def _scene_numbers(file_name: str, source: SceneSource, style: str) -> list[int]:
    pattern = re.escape(source.file_name(123456789, style)).replace("123456789", r"(\d{1,7})")
    match = re.fullmatch(pattern, file_name)
    return [int(match.group(1))] if match and int(match.group(1)) <= _MAX_SCENE else []


@functools.lru_cache(maxsize=64)
def scene_png(lesson: str, index: int, style: str = "") -> bytes:
    """The PNG a page writes for a scene (lossless, so its true boxes and masks still apply)."""
    from core.viz import to_png_bytes

    return to_png_bytes(SCENES[lesson].render(int(index), style)[0])


def scene_png_digest(lesson: str, index: int, style: str = "") -> str:
    return hashlib.sha256(scene_png(lesson, index, style)).hexdigest()


@functools.lru_cache(maxsize=32)
def _digest_of(path: str, size: int, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _digest(path: Path) -> str:
    st = path.stat()
    return _digest_of(str(path), st.st_size, st.st_mtime)


def link_for(
    lesson: str, params: Mapping[str, Any], image: ImageRef, *, present: bool = False, predict: bool = False
) -> tuple[str, str]:
    """``(query, note)`` for a page's current view; the note says what the link cannot carry."""
    note = ""
    example = image.name if image.kind == "example" else None
    scene = image.index if image.kind == "scene" else None
    if image.kind == "upload":
        note = (
            "Your uploaded photo cannot travel in a link (it exists only in this browser): the link "
            "reopens these settings, and whoever opens it picks a photo. Bundled examples"
            + (" and ShapesWorld scenes" if lesson in SCENES else "")
            + " travel with the link."
        )
    query = to_query(
        lesson, params, example=example, scene=scene, style=image.style, present=present, predict=predict
    )
    return query, note


def run(state: LinkState) -> LessonResult:
    """The lesson's result for a link's state: ``run(image, **run_params())`` (what the page shows)."""
    return get_runner(state.lesson)(state.image(), **state.run_params())


def _read_example(state: LinkState, value: str) -> None:
    photos = bundled_photos()
    if value in photos:
        state.example = value
        return
    options = ", ".join(photos)
    extra = ""
    if state.lesson in SCENES:
        extra = " (or scene=<number> for a ShapesWorld scene)"
    if "/" in value or "\\" in value or value.startswith("."):
        state.problems.append(
            f"example must be the file name of a bundled photo, not a path; one of: {options}"
            f"{extra}. Got {_brief(value)}."
        )
    else:
        state.problems.append(
            f"example must be one of the bundled photos: {options}{extra}; got {_brief(value)}."
        )


def _read_scene(state: LinkState, value: str) -> None:
    try:
        number = int(value)
    except ValueError:
        state.problems.append(
            f"scene must be a whole number between 0 and {_MAX_SCENE}; got {_brief(value)}."
        )
        return
    if number == -1 and "scene" in {p.name for p in get_params(state.lesson)}:
        return  # the lesson's own "no scene"
    if not 0 <= number <= _MAX_SCENE:
        state.problems.append(f"scene must be between 0 and {_MAX_SCENE}; got {number}.")
        return
    state.scene = number


def _read_style(state: LinkState, value: str) -> None:
    styles = SCENES[state.lesson].styles
    if value in styles:
        state.style = value
    else:
        state.problems.append(f"style must be one of {', '.join(styles)}; got {_brief(value)}.")


def _extra_applies(lesson: str, key: str) -> bool:
    if key in ("scene", "style"):
        return lesson in SCENES and (key == "scene" or SCENES[lesson].styles != ("",))
    return True


def _is_choice(param: Param, value: str) -> bool:
    return param.kind == "choice" and any(str(c) == value for c in param.choices)


def _flag(value: str) -> bool | None:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _brief(value: str, limit: int = 60) -> str:
    return repr(value) if len(value) <= limit else f"{value[: limit - 20]!r}… ({len(value):,} characters)"
