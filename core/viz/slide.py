"""A slide of the current view: one 16:9 PNG (1920×1080) with the lesson's title, its key formula, the
figures on screen, and the parameters and weights that produced them burned in.

A teacher prepares views before class and puts them on slides; a slide must say what it shows without
the workbench next to it (which settings, which weights — trained or not), and it carries the link that
reopens the view (as text in the footer and in the PNG's metadata). Drawn with matplotlib's object API
(no pyplot state, safe in server threads); formulas are matplotlib mathtext, so nothing needs LaTeX.
"""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.viz.palette import BLUE, VERMILLION, hex_colour

WIDTH, HEIGHT = 1920, 1080
DPI = 100
FONTS = ["DejaVu Sans", "Noto Sans CJK SC", "sans-serif"]
INK, MUTED, BAND = "#111827", "#4b5563", "#1e1b4b"
MAX_FIGURES = 4
#: weight sources as the workbench names them (SOURCE_ICONS' words); "random" is flagged on the slide
SOURCES = ("hub", "package", "embedded", "random")

#: each lesson's key formula (mathtext) and what its symbols are, for the slide's second line
FORMULAS: dict[str, tuple[str, str]] = {
    "attention": (
        r"$\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\left(\frac{QK^{\top}}{\sqrt{d}}\right)V,"
        r"\quad \tilde{A}=\prod_{l}\,\left(\frac{A_l+I}{2}\right)$",
        "attention of one head; rollout multiplies every layer's attention with the residual",
    ),
    "swin": (
        r"$\mathrm{softmax}\left(\frac{QK^{\top}}{\sqrt{d}}+B+M\right)V,\quad M_{ij}\in\{0,-100\}$",
        "window attention with relative position bias B and the shifted-window mask M",
    ),
    "repmlp": (
        r"$y=W_{\mathrm{FC}}\,x+\sum_k \mathrm{BN}_k(\mathrm{conv}_k(x))"
        r"\;\Rightarrow\;W'=W_{\mathrm{FC}}+\sum_k \mathcal{T}(\frac{\gamma_k}{\sigma_k}W_k)$",
        "conv branches become sparse FC matrices and merge into one FC after training",
    ),
    "pointrend": (
        r"$u(p)=-\left(\ell_{(1)}(p)-\ell_{(2)}(p)\right),\quad n_{\mathrm{step}}=\min(HW,\,N)$",
        "uncertainty of the top-2 logits; each step re-predicts the N most uncertain cells",
    ),
    "simota": (
        r"$c_{ij}=L^{\mathrm{cls}}_{ij}+3\,L^{\mathrm{IoU}}_{ij}+10^{5}\,[\mathrm{outside}],\quad "
        r"k_i=\max\left(1,\left\lfloor\sum\mathrm{top}_{10}\,\mathrm{IoU}_i\right\rfloor\right)$",
        "the cost of anchor j for object i; each object takes its k_i cheapest anchors",
    ),
    "diffusion": (
        r"$x_t=\sqrt{\bar{\alpha}_t}\,x_0+\sqrt{1-\bar{\alpha}_t}\,\epsilon,\quad "
        r"\hat{x}_0=\frac{x_t-\sqrt{1-\bar{\alpha}_t}\,\epsilon_\theta(x_t,t)}{\sqrt{\bar{\alpha}_t}}$",
        "the forward process in one jump, and the model's guess of the clean image",
    ),
    "compare": (
        r"$L^{c}_{\mathrm{Grad\text{-}CAM}}=\mathrm{ReLU}\left(\sum_k \alpha^{c}_k A^{k}\right),\quad "
        r"\alpha^{c}_k=\frac{1}{Z}\sum_{i,j}\frac{\partial y^{c}}{\partial A^{k}_{ij}}$",
        "where each model's evidence for its top class lies",
    ),
    "roi": (
        r"$f(x,y)=\sum_{i,j} f_{ij}\,\max(0,1-|x-x_i|)\,\max(0,1-|y-y_j|),\quad "
        r"k=\left\lfloor 4+\log_2\frac{\sqrt{wh}}{224}\right\rfloor$",
        "RoIAlign's bilinear read of a sampling point, and the FPN level of a box",
    ),
    "receptive": (
        r"$r_l=r_{l-1}+(k_l-1)\,d_l\prod_{i<l}s_i,\quad "
        r"\mathrm{ERF}(x)=\left|\frac{\partial\,y_{c,i,j}}{\partial x}\right|$",
        "the theoretical receptive field, and the effective one (a gradient)",
    ),
    "mlp": (
        r"$Y=X+W_2\,\sigma\!\left(W_1\,\mathrm{LN}(X)^{\top}\right)^{\top}$",
        "token mixing: one MLP across the patches, shared by every channel",
    ),
    "repvgg": (
        r"$W'=\frac{\gamma_3}{\sigma_3}W_3+\frac{\gamma_1}{\sigma_1}\mathrm{pad}(W_1)+\frac{\gamma_0}{\sigma_0}I,"
        r"\quad b'=\sum_k \left(\beta_k-\frac{\gamma_k\mu_k}{\sigma_k}\right)$",
        "three branches with BatchNorm become one 3×3 convolution",
    ),
    "losses": (
        r"$\mathrm{FL}(p_t)=-\alpha_t\,(1-p_t)^{\gamma}\,\log p_t$",
        "the focal loss: confident, easy examples weigh less",
    ),
}


@dataclass(frozen=True)
class Layout:
    """Where the slide draws each part (pixels, ``(x0, y0, x1, y1)``); tests read the regions back."""

    title: tuple[int, int, int, int] = (0, 0, WIDTH, 120)
    formula: tuple[int, int, int, int] = (40, 130, WIDTH - 40, 240)
    figures: tuple[int, int, int, int] = (40, 250, 1400, 1000)
    params: tuple[int, int, int, int] = (1440, 250, WIDTH - 40, 700)
    weights: tuple[int, int, int, int] = (1440, 720, WIDTH - 40, 1000)
    footer: tuple[int, int, int, int] = (40, 1020, WIDTH - 40, 1070)


LAYOUT = Layout()


def weights_lines(summary: Mapping[str, Any] | None, limit: int = 6) -> list[str]:
    """Which weights produced a result, read from its summary: every ``status``/``weights_status``
    text (one per model), else the bare sources (``weights``/``source`` fields naming hub, package,
    embedded or random)."""
    statuses: list[str] = []
    sources: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                where = f"{path}.{key}" if path else str(key)
                if key in ("status", "weights_status") and isinstance(value, str) and value:
                    statuses.append(value)
                elif (
                    isinstance(value, str)
                    and value in SOURCES
                    and key in ("weights", "source", "fc", "rep", "weights_source")
                ):
                    sources.append(f"{where}: {value}")
                else:
                    walk(value, where)
        elif isinstance(node, list):
            for i, value in enumerate(node[:32]):
                walk(value, f"{path}[{i}]")

    walk(summary or {}, "")
    lines = list(dict.fromkeys(statuses)) or list(dict.fromkeys(sources))
    return lines[:limit] + ([f"… and {len(lines) - limit} more"] if len(lines) > limit else [])


def render_slide(
    title: str,
    figures: Sequence[tuple[np.ndarray, str]],
    params: Mapping[str, Any],
    *,
    lesson: str = "",
    subtitle: str = "",
    weights: Sequence[str] = (),
    link: str = "",
    formula: tuple[str, str] | None = None,
) -> np.ndarray:
    """The slide as a (1080, 1920, 3) uint8 RGB array.

    ``figures`` are ``(image, caption)`` pairs (the first :data:`MAX_FIGURES` are drawn, each scaled
    to fit its cell, never stretched); ``params`` are written as ``name = value``; ``weights`` are the
    lines of :func:`weights_lines`. ``formula`` defaults to the lesson's entry in :data:`FORMULAS`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    L = LAYOUT

    def fx(x: float) -> float:
        return x / WIDTH

    def fy(y: float) -> float:
        return 1.0 - y / HEIGHT

    def px(size: float) -> float:  # a text size given in pixels, as points
        return size * 72.0 / DPI

    band = fig.add_axes((0, fy(L.title[3]), 1, L.title[3] / HEIGHT))
    band.set_axis_off()
    band.add_patch(_rect(band, BAND))
    fig.text(
        fx(48),
        fy(52),
        _clip(title, 70),
        fontsize=px(46),
        color="white",
        fontweight="bold",
        va="center",
        family=FONTS,
    )
    if subtitle:
        fig.text(
            fx(48), fy(98), _clip(subtitle, 150), fontsize=px(21), color="#c7d2fe", va="center", family=FONTS
        )
    fig.text(
        fx(WIDTH - 40),
        fy(52),
        "LensLab",
        fontsize=px(26),
        color="#c7d2fe",
        ha="right",
        va="center",
        family=FONTS,
    )

    formula = formula if formula is not None else FORMULAS.get(lesson)
    if formula:
        expr, gloss = formula
        y = (L.formula[1] + L.formula[3]) / 2 - 14
        try:
            _draw_math(fig, expr, fx(L.formula[0] + 8), fy(y), px(38))
        except ValueError:  # a formula mathtext cannot parse is written as text rather than lost
            fig.text(fx(L.formula[0] + 8), fy(y), expr.strip("$"), fontsize=px(30), color=INK, va="center")
        fig.text(
            fx(L.formula[0] + 8),
            fy(L.formula[3] - 12),
            gloss,
            fontsize=px(20),
            color=MUTED,
            va="center",
            family=FONTS,
        )

    _draw_figures(fig, list(figures)[:MAX_FIGURES], L.figures, px)

    x0, y0, x1, y1 = L.params
    fig.text(
        fx(x0),
        fy(y0 + 14),
        "Settings",
        fontsize=px(26),
        fontweight="bold",
        color=INK,
        va="center",
        family=FONTS,
    )
    lines = [f"{k} = {_value(v)}" for k, v in params.items()]
    size = 19 if len(lines) <= 14 else 16
    step = size * 1.45
    room = int((y1 - y0 - 44) // step)
    if len(lines) > room:
        lines = lines[: room - 1] + [f"… {len(lines) - room + 1} more"]
    for i, line in enumerate(lines):
        fig.text(
            fx(x0),
            fy(y0 + 50 + i * step),
            _clip(line, 44 if size == 19 else 52),
            fontsize=px(size),
            color=INK,
            va="center",
            family=["DejaVu Sans Mono", "monospace"],
        )

    x0, y0, x1, y1 = L.weights
    fig.text(
        fx(x0),
        fy(y0 + 14),
        "Weights used",
        fontsize=px(26),
        fontweight="bold",
        color=INK,
        va="center",
        family=FONTS,
    )
    y = y0 + 50
    for line in weights or ["(not stated by this result)"]:
        untrained = "random" in line.lower() or "untrained" in line.lower()
        for part in textwrap.wrap(line, 46)[:3]:
            if y > y1 - 12:
                break
            fig.text(
                fx(x0),
                fy(y),
                part,
                fontsize=px(18),
                va="center",
                family=FONTS,
                color=hex_colour(VERMILLION) if untrained else INK,
            )
            y += 26
        y += 8

    if link:
        fig.text(
            fx(L.footer[0]),
            fy((L.footer[1] + L.footer[3]) / 2),
            _clip(f"Reopen this view: {link}", 170),
            fontsize=px(18),
            color=hex_colour(BLUE),
            va="center",
            family=FONTS,
        )

    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    out = np.ascontiguousarray(rgba[..., :3])
    fig.clear()
    if out.shape != (HEIGHT, WIDTH, 3):  # matplotlib rounds the canvas; the slide is exactly 16:9
        import cv2

        out = cv2.resize(out, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    return out


def slide_png(
    slide: np.ndarray,
    *,
    title: str = "",
    link: str = "",
    summary: Any = None,
    params: Mapping[str, Any] | None = None,
) -> bytes:
    """The slide as PNG bytes with its text in the metadata: title, the link that reopens the view, the
    parameters, and the SHA-256 of the result's summary (:func:`summary_digest`)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "LensLab")
    if title:
        info.add_itxt("Title", title)
    if link:
        info.add_itxt("LensLab-Link", link)
    if params is not None:
        info.add_itxt("LensLab-Params", json.dumps(dict(params), default=str, ensure_ascii=False))
    if summary is not None:
        info.add_text("LensLab-Summary-SHA256", summary_digest(summary))
    buffer = io.BytesIO()
    Image.fromarray(slide).save(buffer, format="PNG", pnginfo=info, compress_level=6)
    return buffer.getvalue()


def summary_digest(summary: Any) -> str:
    """SHA-256 of a summary's canonical JSON (sorted keys, no spaces, whole floats as integers — a
    browser writes 3.0 back as 3): equal for equal results, wherever the summary has travelled."""
    text = json.dumps(_canonical(summary), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _canonical(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_canonical(v) for v in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def _draw_math(fig: Any, expr: str, x: float, y: float, size: float) -> None:
    from matplotlib.mathtext import MathTextParser

    MathTextParser("agg").parse(expr, dpi=DPI)  # raises ValueError on a formula it cannot read
    fig.text(x, y, expr, fontsize=size, color=INK, va="center", math_fontfamily="dejavusans")


def _draw_figures(
    fig: Any, figures: list[tuple[np.ndarray, str]], box: tuple[int, int, int, int], px: Any
) -> None:
    if not figures:
        fig.text(
            (box[0] + box[2]) / 2 / WIDTH,
            1 - (box[1] + box[3]) / 2 / HEIGHT,
            "(no figure yet: run the lesson)",
            fontsize=px(26),
            color=MUTED,
            ha="center",
            va="center",
            family=FONTS,
        )
        return
    cells = _cells(figures, box)
    for (image, caption), (x0, y0, x1, y1) in zip(figures, cells, strict=True):
        cap = 34
        h, w = image.shape[:2]
        scale = min((x1 - x0) / w, (y1 - y0 - cap) / h)
        dw, dh = w * scale, h * scale
        left = x0 + (x1 - x0 - dw) / 2
        top = y0 + cap
        ax = fig.add_axes((left / WIDTH, 1 - (top + dh) / HEIGHT, dw / WIDTH, dh / HEIGHT))
        ax.imshow(np.asarray(image, np.uint8), interpolation="antialiased")
        ax.set_axis_off()
        chars = max(20, int((x1 - x0) / 11))
        fig.text(
            (x0 + x1) / 2 / WIDTH,
            1 - (y0 + cap / 2) / HEIGHT,
            _clip(caption, chars),
            fontsize=px(20),
            color=INK,
            ha="center",
            va="center",
            fontweight="bold",
            family=FONTS,
        )


def _cells(
    figures: Sequence[tuple[np.ndarray, str]], box: tuple[int, int, int, int]
) -> list[tuple[float, ...]]:
    """Grid cells for 1–4 figures: one fills the area; two sit side by side when they are tall and one
    above the other when they are wide; three or four make a 2×2 grid."""
    x0, y0, x1, y1 = box
    w, h, gap = x1 - x0, y1 - y0, 24
    n = len(figures)
    if n == 1:
        return [(x0, y0, x1, y1)]
    if n == 2:
        wide = all(img.shape[1] / img.shape[0] > 1.6 for img, _ in figures)
        if wide:
            half = (h - gap) / 2
            return [(x0, y0, x1, y0 + half), (x0, y0 + half + gap, x1, y1)]
        half = (w - gap) / 2
        return [(x0, y0, x0 + half, y1), (x0 + half + gap, y0, x1, y1)]
    hw, hh = (w - gap) / 2, (h - gap) / 2
    grid = [
        (x0, y0, x0 + hw, y0 + hh),
        (x0 + hw + gap, y0, x1, y0 + hh),
        (x0, y0 + hh + gap, x0 + hw, y1),
        (x0 + hw + gap, y0 + hh + gap, x1, y1),
    ]
    return grid[:n]


def _rect(ax: Any, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor=colour, edgecolor="none")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def _clip(text: str, chars: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def figure_list(images: Iterable[tuple[Any, str]]) -> list[tuple[np.ndarray, str]]:
    """The usable ``(image, caption)`` pairs of a page's outputs (RGB uint8; empty ones dropped)."""
    out = []
    for image, caption in images:
        if image is None:
            continue
        array = np.asarray(image)
        if array.ndim == 2:
            array = np.repeat(array[..., None], 3, axis=2)
        if array.ndim != 3 or array.shape[0] < 2 or array.shape[1] < 2:
            continue
        out.append((np.ascontiguousarray(array[..., :3]).astype(np.uint8), caption))
    return out
