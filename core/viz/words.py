"""The language of the text drawn *inside* figures (titles, tags, legends), chosen by the page.

The page's 中文 switch lives in the UI (``apps.i18n``), which ``core`` must not import, and a lesson's
``run`` keeps the parameters of its API. So the language travels as a context variable: a front end
wraps its call in :func:`language` and every drawing helper below it asks :func:`say` for its words::

    with words.language("zh"):
        result = roi_lesson.run(image)        # the figures' labels are Chinese

    label = words.say("vote = mean = {v:.3f}", v=0.25)   # in a core.viz drawing function

A context variable, unlike a module global, belongs to the one request (thread or task) that set it,
so two students on two languages never draw into each other's figures. Outside :func:`language` it is
English, which is what the HTTP API and ``run(image)`` return.

The Chinese of each template lives in :data:`ZH` (one table for every lesson, so the font subset can be
built from it: ``python -m core.viz.fonts``); a lesson module adds its own with :func:`register`. Text
with Chinese is drawn in the bundled CJK subset (:mod:`core.viz.fonts`); a test holds that the subset
draws every character of every template.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

from core.lesson import Param

LANGS = ("en", "zh")
_LANG: ContextVar[str] = ContextVar("lenslab_figure_language", default="en")
#: the ``lang`` input of an endpoint whose page draws its figures in the page's language
LANG_PARAM = Param("lang", "choice", "en", "Language of the text inside the figures", choices=LANGS)

#: English template → Chinese template (``str.format`` fields are kept as they are)
ZH: dict[str, str] = {
    # RoI operators (core.viz.roi)
    "value = sum w*v = {value:.4f}   (point y={y:.3f}, x={x:.3f})":
        "值 = Σ w·v = {value:.4f}（采样点 y={y:.3f}，x={x:.3f}）",
    "{name}: vote = mean = {v:.3f}": "{name}：投票 = 均值 = {v:.3f}",
    "C{level} / stride {stride}: {w:.1f}x{h:.1f} cells": "C{level} / 步长 {stride}：{w:.1f}×{h:.1f} 个格子",
    "  <- k": "  ← k",
    "RoIPool: box snapped": "RoIPool：框取整",
    "RoIPool: {k}×{k} bins": "RoIPool：{k}×{k} 个 bin",
    "PS-RoIPool: {ps_k}×{ps_k} bins": "PS-RoIPool：{ps_k}×{ps_k} 个 bin",
    "RoIAlign aligned=False": "RoIAlign，aligned=False",
    "RoIAlign aligned=True, PS-RoIAlign": "RoIAlign，aligned=True；PS-RoIAlign",
    "half-pixel model: cells centred at (c + ½)·{stride}": "半像素模型：格子中心在 (c + ½)·{stride}",
    "this backbone: centred at {stride}·c + ({dx:g}, {dy:g}) px, measured":
        "这个骨干网络：中心在 {stride}·c + ({dx:g}, {dy:g}) 像素（实测）",
    "{px:.1f} px = {cells:.1f} mask cells": "{px:.1f} 像素 = {cells:.1f} 个掩码格子",
    "worst offset from the box, input pixels (stride {stride})": "离框最远的偏移，输入像素（步长 {stride}）",
    "1 cell of a {mask}×{mask} mask (short side) = {cell:.1f} px":
        "{mask}×{mask} 掩码的一个格子（短边）= {cell:.1f} 像素",
    # ShapesWorld's class names (core.data.shapesworld.CLASSES), drawn by several lessons' figures
    "background": "背景",
    "circle": "圆",
    "square": "正方形",
    "triangle": "三角形",
    "pentagon": "五边形",
    "hexagon": "六边形",
    "star": "星形",
    "ring": "圆环",
    "cross": "十字",
}


def register(table: Mapping[str, str]) -> Mapping[str, str]:
    """Add a lesson's templates to :data:`ZH` (at import of its drawing module); returns ``table``.

    A template already there must keep its Chinese: two lessons may share words, not redefine them."""
    for en, zh in table.items():
        if ZH.get(en, zh) != zh:
            raise ValueError(f"figure text {en!r} already has the Chinese {ZH[en]!r}, not {zh!r}")
        ZH[en] = zh
    return table


@contextlib.contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Draw the figures made inside this block in ``lang`` (``"en"`` or ``"zh"``; anything else: en)."""
    token = _LANG.set(lang if lang in LANGS else "en")
    try:
        yield _LANG.get()
    finally:
        _LANG.reset(token)


def current() -> str:
    """The language figures are being drawn in (``"en"`` outside :func:`language`)."""
    return _LANG.get()


def say(template: str, **values: object) -> str:
    """``template`` in the current language, formatted with ``values`` (English when :data:`ZH` has no
    Chinese for it: a missing translation shows English, never a broken label)."""
    text = ZH.get(template, template) if _LANG.get() == "zh" else template
    return text.format(**values) if values else text


def chinese_templates() -> list[str]:
    """Every Chinese template (what the bundled font subset must cover)."""
    return list(ZH.values())
