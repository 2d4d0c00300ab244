"""The contract between a lesson's core and every front end (Gradio, Streamlit, CLI, notebooks).

A lesson is a function ``run(image, **params) -> LessonResult`` in ``core/<lesson>.py``; every
parameter has a default, so ``run(image)`` alone works (that is what the HTTP endpoint answers with
only an image). The result carries rendered images (RGB ``uint8``, in display order) and a
JSON-serialisable summary; optional plotly figures are for small interactive matrices.

:data:`LESSONS` maps lesson ids to ``"module:function"`` strings, so a front end can list and run
lessons without importing every model up front.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LESSONS", "LazyFigures", "LessonResult", "Param", "brief", "get_params", "get_runner",
           "json_depth", "jsonable"]

LESSONS: dict[str, str] = {
    "attention": "core.attention:run",
    "swin": "core.swin:run",
    "repmlp": "core.repmlp:run",
    "pointrend": "core.pointrend:run",
    "simota": "core.assign:run",
    "diffusion": "core.diffusion:run",
    "compare": "core.compare:run",
    "receptive": "core.receptive_lesson:run",
    "roi": "core.roi_lesson:run",
    "repvgg": "core.repvgg_lesson:run",
    "losses": "core.losses_lesson:run",
    "mlp": "core.mlp:run",
}


#: limits every parameter gets unless its ``Param`` sets its own (a request must never be able to ask
#: for unbounded work): characters of a text, items of a comma-separated list, levels of JSON nesting,
#: and the magnitude of a number that has no range of its own
MAX_TEXT = 1000
MAX_ITEMS = 16
MAX_DEPTH = 4
MAX_MAGNITUDE = 1e12
#: what an item of a list of names (models, detectors) may look like: a zoo name, never a path or URL
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
_INTEGER = re.compile(r"[+-]?\d+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Param:
    """One lesson parameter, described as data so any front end can build a control for it.

    ``kind`` is ``"int"``, ``"float"``, ``"choice"``, ``"bool"`` or ``"text"``. A lesson module lists
    its parameters in ``PARAMS`` (same names and defaults as ``run``'s keyword arguments); Streamlit
    pages and ``lenslab export`` build their controls from it, and :meth:`check` validates a value
    with a message a student understands.

    :meth:`check` is also the server's first line of defence against hostile requests (the Gradio app
    runs it on every endpoint input before any lesson code), so every value it lets through is bounded:
    numbers are finite and inside ``minimum``/``maximum`` (or ±:data:`MAX_MAGNITUDE`), texts are at
    most ``max_length`` characters (:data:`MAX_TEXT`). A text's ``syntax`` adds structure: ``"list"``
    (implied by ``choices`` on a text) is comma-separated names (:data:`NAME`), at most ``max_items``
    (:data:`MAX_ITEMS`) of them; ``"json"`` is JSON nested at most ``max_depth`` levels
    (:data:`MAX_DEPTH`) whose top-level list holds at most ``max_items`` entries. Every refusal names
    the parameter and, for a limit, says what the limit is.
    """

    name: str
    kind: str
    default: Any
    label: str = ""
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()
    max_length: int | None = None
    max_items: int | None = None
    syntax: str = ""
    max_depth: int | None = None

    @property
    def title(self) -> str:
        """How messages name the parameter."""
        return self.label or self.name

    def check(self, value: Any) -> Any:
        if self.kind in ("int", "float"):
            return self._number(value)
        if self.kind == "choice":
            return self._choice(value)
        if self.kind == "bool":
            return self._bool(value)
        return self._text(value)

    def _number(self, value: Any) -> int | float:
        label = self.title
        number: int | float
        if isinstance(value, str) and 0 < len(value.strip()) <= 40:
            text = value.strip()
            try:
                number = int(text) if _INTEGER.fullmatch(text) else float(text)
            except ValueError:
                raise ValueError(f"{label} must be a number, not {brief(value)}.") from None
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            number = int(value)
        elif isinstance(value, (float, np.floating)):
            number = float(value)
        else:
            raise ValueError(f"{label} must be a number, not {brief(value)}.")
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"{label} must be a finite number, not {brief(value)}.")
        if self.kind == "int" and isinstance(number, float) and not number.is_integer():
            raise ValueError(f"{label} must be a whole number, not {brief(value)}.")
        low = self.minimum if self.minimum is not None else -MAX_MAGNITUDE
        high = self.maximum if self.maximum is not None else MAX_MAGNITUDE
        if not low <= number <= high:
            raise ValueError(f"{label} must be between {_bound(low)} and {_bound(high)}; got {brief(value)}.")
        return int(number) if self.kind == "int" else float(number)

    def _choice(self, value: Any) -> Any:
        for option in self.choices:
            if _same(option, value):
                return option
        if isinstance(value, str) and len(value) <= 100:  # a number chosen as text ("256"), a URL query
            for option in self.choices:
                if not isinstance(option, str) and str(option) == value.strip():
                    return option
        options = ", ".join(map(str, self.choices))
        raise ValueError(f"{self.title} must be one of {options}; got {brief(value)}.")

    def _bool(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(f"{self.title} must be true or false, not {brief(value)}.")

    def _text(self, value: Any) -> str:
        label = self.title
        syntax = self.syntax or ("list" if self.choices else "")
        if value is None:
            return ""
        if syntax == "list" and isinstance(value, (list, tuple)):  # a multiselect's raw value
            limit = self.max_items or MAX_ITEMS
            if len(value) > limit:
                raise ValueError(f"{label}: at most {limit} at once; got {len(value):,}.")
            for item in value:
                if not isinstance(item, str):
                    raise ValueError(f"{label} must be a list of names, not one holding {brief(item)}.")
            value = ",".join(item.strip() for item in value)
        if not isinstance(value, str):
            raise ValueError(f"{label} must be text, not {brief(value)}.")
        limit = self.max_length or MAX_TEXT
        if len(value) > limit:
            raise ValueError(f"{label} is too long: {len(value):,} characters (at most {limit:,}).")
        if _CONTROL.search(value):
            raise ValueError(f"{label} must not contain control characters; got {brief(value)}.")
        if syntax == "list":
            self._names(value)
        elif syntax == "json" and value.strip():
            self._json(value)
        return value

    def _names(self, text: str) -> None:
        label, limit = self.title, self.max_items or MAX_ITEMS
        items = [item.strip() for item in text.split(",") if item.strip()]
        if len(items) > limit:
            raise ValueError(f"{label}: at most {limit} at once; got {len(items):,}.")
        for item in items:
            if not NAME.fullmatch(item):
                raise ValueError(f"{label}: {brief(item)} is not a model name (letters, digits and . _ + -, "
                                 "at most 64 characters).")

    def _json(self, text: str) -> None:
        label = self.title
        depth_limit, item_limit = self.max_depth or MAX_DEPTH, self.max_items or MAX_ITEMS
        if json_depth(text) > depth_limit:
            raise ValueError(f"{label} is nested too deeply: at most {depth_limit} levels of lists and "
                             "objects.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{label} is not valid JSON ({exc.msg} at character {exc.pos}).") from None
        if isinstance(data, list) and len(data) > item_limit:
            raise ValueError(f"{label}: at most {item_limit} entries; got {len(data):,}.")


def _same(option: Any, value: Any) -> bool:
    """Whether ``value`` is the choice ``option``: numbers by value (256 and 256.0, numpy or not), but
    never a bool for a number (True is not 1 here), and a text only as that text."""
    flags = (bool, np.bool_)
    if isinstance(option, flags) or isinstance(value, flags):
        return isinstance(option, flags) and isinstance(value, flags) and bool(option) == bool(value)
    numbers = (int, float, np.integer, np.floating)
    if isinstance(option, numbers) or isinstance(value, numbers):
        return isinstance(option, numbers) and isinstance(value, numbers) and bool(option == value)
    return type(option) is type(value) and option == value


def _bound(x: float) -> str:
    """A range limit as messages show it: as the lesson wrote it, the default magnitude compactly."""
    return f"{x:g}" if abs(x) == MAX_MAGNITUDE else str(x)


def json_depth(text: str) -> int:
    """How deeply lists and objects nest in JSON ``text``, read without parsing (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def brief(value: Any, limit: int = 60) -> str:
    """A value as a message may show it: short, whatever its size or nesting (never the whole of a
    100 kB string or a 1000-level list, which ``repr`` would copy or fail on)."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[: limit - 20]!r}… ({len(value):,} characters)"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value):,} item{'s' if len(value) != 1 else ''}" if value else "an empty list"
    if isinstance(value, dict):
        return "a JSON object"
    if value is None or isinstance(value, (bool, int, float, np.generic)):
        text = repr(value.item() if isinstance(value, np.generic) else value)
        return text if len(text) <= limit else f"a number of {len(text):,} digits"
    return f"a {type(value).__name__}"


def get_params(lesson: str) -> list[Param]:
    """The ``PARAMS`` list of a lesson module."""
    module = importlib.import_module(LESSONS[lesson].partition(":")[0])
    return list(getattr(module, "PARAMS", []))


class LazyFigures(Mapping[str, Any]):
    """Figures built on first access, each once: ``LazyFigures(entropy=lambda: make_figure(...))``.

    Why: a plotly figure costs milliseconds to build, and an HTTP answer or a slider drag that never
    shows it should not pay for it. Reading ``figures[name]`` (or iterating the items) builds it.
    """

    def __init__(self, **builders: Callable[[], Any]):
        self._builders = builders
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


@dataclass
class LessonResult:
    """What a lesson returns: images to show, a summary to print or return as JSON, optional plots."""

    images: dict[str, np.ndarray]
    summary: dict[str, Any]
    figures: Mapping[str, Any] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)

    def image_list(self) -> list[np.ndarray]:
        return list(self.images.values())

    def to_json(self) -> dict[str, Any]:
        return jsonable(self.summary)


def get_runner(lesson: str) -> Callable[..., LessonResult]:
    """Import and return ``run`` of a lesson by id (e.g. ``"attention"``)."""
    try:
        target = LESSONS[lesson]
    except KeyError:
        raise KeyError(f"unknown lesson {lesson!r}; known: {', '.join(LESSONS)}") from None
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and dataclasses into plain JSON types (NaN/inf → None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if np.isfinite(value) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if hasattr(obj, "__dataclass_fields__"):
        return jsonable({k: getattr(obj, k) for k in obj.__dataclass_fields__})
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return json.loads(json.dumps(obj, default=str))
