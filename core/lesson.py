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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LESSONS", "LazyFigures", "LessonResult", "Param", "get_params", "get_runner", "jsonable"]

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
}


@dataclass(frozen=True)
class Param:
    """One lesson parameter, described as data so any front end can build a control for it.

    ``kind`` is ``"int"``, ``"float"``, ``"choice"``, ``"bool"`` or ``"text"``. A lesson module lists
    its parameters in ``PARAMS`` (same names and defaults as ``run``'s keyword arguments); Streamlit
    pages and ``lenslab export`` build their controls from it, and :meth:`check` validates a value
    with a message a student understands.
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

    def check(self, value: Any) -> Any:
        label = self.label or self.name
        if self.kind in ("int", "float"):
            try:
                number = int(value) if self.kind == "int" else float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{label} must be a number, not {value!r}.") from None
            if self.kind == "int" and float(value) != number:
                raise ValueError(f"{label} must be a whole number, not {value!r}.")
            if (self.minimum is not None and number < self.minimum) or (
                self.maximum is not None and number > self.maximum
            ):
                raise ValueError(f"{label} must be between {self.minimum} and {self.maximum}; got {value}.")
            return number
        if self.kind == "choice":
            if value not in self.choices:
                options = ", ".join(map(str, self.choices))
                raise ValueError(f"{label} must be one of {options}; got {value!r}.")
            return value
        if self.kind == "bool":
            return bool(value)
        return "" if value is None else str(value)


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
