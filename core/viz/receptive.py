"""Drawing for the receptive-field lesson: ERF panels with their boxes, growth charts, block costs,
HRNet's streams and ConvNeXt's roadmap.

Colours: Okabe–Ito for categories (colour-blind safe), perceptually uniform colour maps (``inferno``
for the ERF, ``viridis`` for feature maps) with a colour bar on every map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from core.viz import fonts, words
from core.viz.attention_viz import grid_figure
from core.viz.draw import add_colorbar, caption_bar, colorbar_extra, colorize
from core.viz.palette import BLACK, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION, YELLOW

say = words.say  # every text drawn below, in the page's language (English outside words.language)

#: the Chinese of the text drawn into the receptive-field figures (core.viz.words)
ZH = words.register({
    "global": "全局",
    "{n:.0f} px": "{n:.0f} 像素",
    "stage {stage} (/{stride:g}) · reach {size} · ERF90 {erf} px":
        "阶段 {stage}（/{stride:g}）· 可达 {size} · ERF90 {erf} 像素",
    "RANDOM init": "随机初始化",
    "embedded": "内置",
    "package": "PyPI 包",
    "theoretical RF (conv)": "理论感受野（卷积）",
    "Swin window reach": "Swin 窗口可达范围",
    "ViT: whole image": "ViT：整张图",
    "ERF 50 % square": "ERF 50% 方框",
    "ERF 90 % square": "ERF 90% 方框",
    "colours": "颜色说明",
    "{name} ({size}² input)": "{name}（{size}² 输入）",
    "stage / stride": "阶段 / 步长",
    "side ÷ input side": "边长 ÷ 输入边长",
    "theoretical (∞ drawn at the top)": "理论值（∞ 画在最上方）",
    "random init": "随机初始化",
    "plain 3×3 stack at init: n vs √n": "初始化时的纯 3×3 堆叠：n 对 √n",
    "depth n (log)": "深度 n（对数）",
    "pixels": "像素",
    "theoretical 1 + 2n": "理论值 1 + 2n",
    "ERF 90 % side, random": "ERF 90% 边长，随机",
    "4σ all-ones = 4√(2n/3)": "4σ 全 1 权重 = 4√(2n/3)",
    "4σ random ≈ {c:.2f}√n": "4σ 随机 ≈ {c:.2f}√n",
    " {si} · out {c} ch · RF {rf}": " {si} · 输出 {c} 个通道 · 感受野 {rf}",
    "parameters": "参数量",
    "multiply-adds at {c}×{s}×{s}": "{c}×{s}×{s} 输入的乘加次数",
    "whole image": "整张图",
    "RF {rf:.0f} px": "感受野 {rf:.0f} 像素",
    "stride {s}: {h}×{w}, {reach}": "步长 {s}：{h}×{w}，{reach}",
    "input": "输入",
    "stride {s}": "步长 {s}",
    "HRNet streams (C×H×W); arrows: the exchange unit at the end of stages 2–4 sums every stream into every "
    "stream": "HRNet 的各分支（C×H×W）；箭头：阶段 2–4 末尾的交换单元把每个分支加到每个分支上",
    "{top1:.2f} · {params:.1f} M · {gmacs:.2f} G (paper {gflops:.2f} GFLOPs)":
        "{top1:.2f} · {params:.1f} M · {gmacs:.2f} G（论文 {gflops:.2f} GFLOPs）",
    "ImageNet-1K top-1 % reported by Liu et al. 2022, Table 10 (hatched: not adopted)":
        "Liu 等（2022）表 10 报告的 ImageNet-1K top-1 %（斜线：未采用）",
    "{key}\nERF 90 %: {n} px": "{key}\nERF 90%：{n} 像素",
    "log10 ERF/max · stage 3 (stride 16) · at init": "log10 ERF/max · 阶段 3（步长 16）· 初始化时",
})


def _matplotlib_language() -> Any:
    """matplotlib's font family for the current language: the CJK subset as DejaVu's fallback in 中文."""
    import matplotlib

    zh = words.current() == "zh"
    family = list(fonts.matplotlib_family()) if zh else matplotlib.rcParams["font.family"]
    return matplotlib.rc_context({"font.family": family})

# Okabe–Ito (RGB), from the shared palette
OKABE_ITO = (ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE, BLACK)
REACH_COLOURS = {"conv": ORANGE, "swin": SKY, "vit": GREEN}
ERF_CMAP = "inferno"
VIEW = 256
PANEL_WIDTH = VIEW + colorbar_extra()
LOG_DECADES = 4


def _hex(rgb: Sequence[int]) -> str:
    r, g, b = (int(v) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def erf_values(erf: np.ndarray, scale: str) -> np.ndarray:
    """The ERF as drawn: ``|g| / max`` (linear) or ``log10`` of it clipped at −4 (log)."""
    v = np.asarray(erf, np.float64)
    top = v.max()
    rel = v / top if top > 0 else v
    if scale == "log":
        return np.log10(np.maximum(rel, 10.0**-LOG_DECADES))
    return rel


def erf_panel(m: Any, scale: str) -> np.ndarray:
    """One model: its view of the photo, the ERF over it, the reach box, the ERF squares and the click."""
    values = erf_values(m.erf, scale)
    lo, hi = (-float(LOG_DECADES), 0.0) if scale == "log" else (0.0, 1.0)
    s = VIEW / m.size
    heat = cv2.resize(values.astype(np.float32), (VIEW, VIEW), interpolation=cv2.INTER_NEAREST)
    coloured = colorize(heat, ERF_CMAP, lo, hi)
    alpha = np.clip((heat - lo) / (hi - lo), 0, 1)[..., None] * 0.75 + 0.15
    out = (m.view.astype(np.float32) * (1 - alpha) + coloured.astype(np.float32) * alpha).astype(np.uint8)
    r = m.reach
    if r.kind in REACH_COLOURS and r.box is not None:
        y0, x0, y1, x1 = r.box
        _rect(out, (x0 * s, y0 * s, (x1 + 1) * s - 1, (y1 + 1) * s - 1), REACH_COLOURS[r.kind], 3)
    cy, cx = r.centre
    for radius, colour in ((m.r50, YELLOW), (m.r90, PURPLE)):
        _rect(
            out,
            ((cx - radius) * s, (cy - radius) * s, (cx + radius + 1) * s - 1, (cy + radius + 1) * s - 1),
            colour,
            2,
            dashed=True,
        )
    px, py = round((cx + 0.5) * s), round((cy + 0.5) * s)
    cv2.drawMarker(out, (px, py), (0, 0, 0), cv2.MARKER_CROSS, 16, 4, cv2.LINE_AA)
    cv2.drawMarker(out, (px, py), (255, 255, 255), cv2.MARKER_CROSS, 14, 2, cv2.LINE_AA)
    size = (
        say("global")
        if r.size is not None and math.isinf(r.size)
        else (say("{n:.0f} px", n=r.size) if r.size is not None else "n/a")
    )
    bar = caption_bar(
        say("stage {stage} (/{stride:g}) · reach {size} · ERF90 {erf} px", stage=m.stage, stride=m.stride,
            size=size, erf=m.side(m.r90)),
        VIEW,
        22,
        0.4,
    )
    out[-22:] = (0.25 * out[-22:] + 0.75 * bar).astype(np.uint8)
    label = "log10 ERF/max" if scale == "log" else "ERF / max"
    return add_colorbar(out, lo, hi, ERF_CMAP, label)


def _rect(
    img: np.ndarray, box: Sequence[float], colour: Sequence[int], thickness: int, dashed: bool = False
) -> None:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
    if x1 <= x0 or y1 <= y0:
        return
    if not dashed:
        cv2.rectangle(img, (x0, y0), (x1, y1), (0, 0, 0), thickness + 2, cv2.LINE_AA)
        cv2.rectangle(img, (x0, y0), (x1, y1), tuple(int(c) for c in colour), thickness, cv2.LINE_AA)
        return
    dash = 7
    edges = [((x, y0), (min(x + dash, x1), y0)) for x in range(x0, x1, 2 * dash)]
    edges += [((x, y1), (min(x + dash, x1), y1)) for x in range(x0, x1, 2 * dash)]
    edges += [((x0, y), (x0, min(y + dash, y1))) for y in range(y0, y1, 2 * dash)]
    edges += [((x1, y), (x1, min(y + dash, y1))) for y in range(y0, y1, 2 * dash)]
    for p, q in edges:
        cv2.line(img, p, q, tuple(int(c) for c in colour), thickness, cv2.LINE_AA)


def panel_title(m: Any) -> str:
    src = {"random": "RANDOM init"}.get(m.loaded.source, m.loaded.source)
    return f"{m.loaded.name} · {say(src)}"


def legend(width: int) -> np.ndarray:
    """Which colour is which, drawn once under the maps."""
    items = [
        ("theoretical RF (conv)", ORANGE),
        ("Swin window reach", SKY),
        ("ViT: whole image", GREEN),
        ("ERF 50 % square", YELLOW),
        ("ERF 90 % square", PURPLE),
    ]
    per_row = max(1, (width - 8) // 200)
    rows = -(-len(items) // per_row)
    bar = np.full((rows * 30 + 6, width, 3), 255, np.uint8)
    for k, (text, colour) in enumerate(items):
        r, c = divmod(k, per_row)
        x, y = 8 + c * 200, 6 + r * 30
        cv2.rectangle(bar, (x, y + 6), (x + 22, y + 20), colour, -1)
        cv2.rectangle(bar, (x, y + 6), (x + 22, y + 20), (0, 0, 0), 1)
        bar[y : y + 26, x + 26 : x + 196] = caption_bar(say(text), 170, 26, 0.42)
    return bar


def erf_grid(rows: Sequence[Sequence[Any]], scale: str) -> np.ndarray:
    """One row per model: trained weights | random initialisation (clicks map back via grid_click)."""
    panels = [[(erf_panel(m, scale), panel_title(m)) for m in row] for row in rows]
    width = max(len(r) for r in panels) * (PANEL_WIDTH + 16) - 16
    panels.append([(legend(max(width, 2 * PANEL_WIDTH)), say("colours"))])
    return grid_figure(panels)


# --------------------------------------------------------------------------------------------- #
# matplotlib charts


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _to_array(fig: Any) -> np.ndarray:
    plt = _plt()
    try:
        fig.canvas.draw()
        return np.ascontiguousarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
    finally:
        plt.close(fig)


class LogChart:
    """A small line chart drawn with PIL (log-scaled y, optionally log x): ~100× faster than matplotlib
    for the one chart that changes with every click."""

    def __init__(
        self,
        width: int,
        height: int,
        title: str,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        x_log: bool = False,
        xlabel: str = "",
        ylabel: str = "",
    ):
        from PIL import Image, ImageDraw

        self.img = Image.new("RGB", (width, height), "white")
        self.draw = ImageDraw.Draw(self.img)
        self.box = (58, 46, width - 14, height - 128)  # plot area: left, top, right, bottom
        self.x_range, self.y_range, self.x_log = x_range, y_range, x_log
        self.legend_top, self.entries = height - 72, 0
        x0, y0, x1, y1 = self.box
        self.draw.text((8, 6), title, fill=(20, 20, 20), font=_face(title, 13))
        self.draw.rectangle(self.box, outline=(120, 120, 120))
        lo, hi = math.floor(math.log10(y_range[0])), math.ceil(math.log10(y_range[1]))
        for e in range(lo, hi + 1):
            for m in (1, 2, 5):
                v = m * 10.0**e
                if y_range[0] <= v <= y_range[1]:
                    y = self.py(v)
                    self.draw.line([(x0, y), (x1, y)], fill=(225, 225, 225) if m > 1 else (200, 200, 200))
                    if m == 1 or hi - lo <= 2:
                        self.draw.text((x0 - 6, y), _tick(v), fill=(60, 60, 60), font=_font(10), anchor="rm")
        self.draw.text((x1, y1 + 32), xlabel, fill=(60, 60, 60), font=_face(xlabel, 10), anchor="ra")
        self.draw.text((8, y0 - 16), ylabel, fill=(60, 60, 60), font=_face(ylabel, 10))

    def px(self, v: float) -> float:
        a, b = self.x_range
        x0, _, x1, _ = self.box
        if self.x_log:
            return x0 + (math.log10(v) - math.log10(a)) / (math.log10(b) - math.log10(a)) * (x1 - x0)
        return x0 + (v - a) / (b - a) * (x1 - x0)

    def py(self, v: float) -> float:
        a, b = self.y_range
        _, y0, _, y1 = self.box
        v = min(max(v, a), b)
        return y1 - (math.log10(v) - math.log10(a)) / (math.log10(b) - math.log10(a)) * (y1 - y0)

    def xtick(self, v: float, text: str) -> None:
        x = self.px(v)
        self.draw.line([(x, self.box[3]), (x, self.box[3] + 4)], fill=(120, 120, 120))
        self.draw.multiline_text(
            (x, self.box[3] + 6), text, fill=(60, 60, 60), font=_font(10), anchor="ma", align="center"
        )

    def hline(self, v: float, colour: Sequence[int]) -> None:
        y = self.py(v)
        for x in range(int(self.box[0]), int(self.box[2]), 8):
            self.draw.line([(x, y), (min(x + 4, self.box[2]), y)], fill=tuple(colour), width=1)

    def series(
        self,
        xs: Sequence[float],
        ys: Sequence[float | None],
        colour: Sequence[int],
        label: str,
        style: str = "solid",
        marker: str = "o",
    ) -> None:
        pts = [
            (self.px(x), self.py(y))
            for x, y in zip(xs, ys, strict=True)
            if y is not None and not math.isnan(y) and not math.isinf(y) and y > 0
        ]
        c = tuple(int(v) for v in colour)
        for p, q in zip(pts, pts[1:], strict=False):
            if style == "solid":
                self.draw.line([p, q], fill=c, width=2)
            else:
                _dash(self.draw, p, q, c, 3 if style == "dotted" else 7)
        for x, y in pts:
            if marker == "o":
                self.draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=c)
            elif marker == "s":
                self.draw.rectangle([x - 3, y - 3, x + 3, y + 3], outline=c, width=2)
        if label:  # legend under the plot, three entries per column
            col, row = divmod(self.entries, 3)
            lx, y = 12 + col * 205, self.legend_top + row * 17
            self.entries += 1
            if style == "solid":
                self.draw.line([(lx, y), (lx + 22, y)], fill=c, width=2)
            else:
                _dash(self.draw, (lx, y), (lx + 22, y), c, 3 if style == "dotted" else 7)
            self.draw.text((lx + 28, y), label, fill=(40, 40, 40), font=_face(label, 10), anchor="lm")

    def array(self) -> np.ndarray:
        return np.asarray(self.img)


def _dash(
    draw: Any, p: tuple[float, float], q: tuple[float, float], colour: tuple[int, ...], step: int
) -> None:
    (x0, y0), (x1, y1) = p, q
    n = max(int(math.hypot(x1 - x0, y1 - y0) / step), 1)
    for k in range(0, n, 2):
        a, b = k / n, min((k + 1) / n, 1.0)
        draw.line(
            [(x0 + a * (x1 - x0), y0 + a * (y1 - y0)), (x0 + b * (x1 - x0), y0 + b * (y1 - y0))],
            fill=colour,
            width=2,
        )


def _tick(v: float) -> str:
    return f"{v:g}" if 1e-3 <= v < 1e5 else f"1e{int(round(math.log10(v)))}"


def _font(size: int) -> Any:
    from core.viz.draw import _font as font  # DejaVu Sans from matplotlib's data: draws ×, √, σ, →

    return font(size)


def _face(text: str, size: int) -> Any:
    """:func:`_font`, or the bundled CJK subset for a Chinese text (DejaVu Sans has no Chinese)."""
    return fonts.pil_font(size, cjk=True) if fonts.has_cjk(text) else _font(size)


def growth_figure(rows: Sequence[Sequence[Any]], plain: dict[str, Any]) -> np.ndarray:
    """Small multiples: per model, sizes per stage as a fraction of its input side (theoretical,
    ERF 90 % and 50 % squares, trained and random); last, the plain stack at init: n against √n."""
    charts = []
    for row in rows:
        first = row[0]
        ks = [s["stage"] for s in first.per_stage]
        values = [s["theoretical"] for s in first.per_stage]
        chart = LogChart(
            420,
            380,
            say("{name} ({size}² input)", name=first.loaded.name, size=first.size),
            (0.6, len(ks) + 0.4),
            (0.01, 12.0),
            xlabel=say("stage / stride"),
            ylabel=say("side ÷ input side"),
        )
        chart.hline(1.0, (150, 150, 150))
        for k, s in zip(ks, first.per_stage, strict=True):
            chart.xtick(k, f"{k}\n/{s['stride']:g}")
        theo = [None if v is None else (12.0 if math.isinf(v) else v / first.size) for v in values]
        chart.series(ks, theo, BLACK, say("theoretical (∞ drawn at the top)"))
        for m, colour in zip(row, (BLUE, VERMILLION), strict=False):
            tag = say("random init" if m.loaded.source == "random" else m.loaded.source)
            chart.series(
                ks,
                [s["erf_side90"] / m.size for s in m.per_stage],
                colour,
                f"ERF 90 % · {tag}",
                "dashed",
                "s",
            )
            chart.series(
                ks,
                [s["erf_side50"] / m.size for s in m.per_stage],
                colour,
                f"ERF 50 % · {tag}",
                "dotted",
                "o",
            )
        charts.append(chart.array())
    d = [float(v) for v in plain["depth"]]
    chart = LogChart(
        420,
        380,
        say("plain 3×3 stack at init: n vs √n"),
        (1, max(d)),
        (1, 100),
        x_log=True,
        xlabel=say("depth n (log)"),
        ylabel=say("pixels"),
    )
    for v in (1, 2, 5, 10, 20):
        if v <= max(d):
            chart.xtick(v, str(v))
    sigma = np.asarray(plain["sigma_random"])
    c = float((sigma * np.sqrt(d)).sum() / np.sum(d))
    chart.series(d, plain["theoretical"], BLACK, say("theoretical 1 + 2n"), marker="")
    chart.series(d, plain["side90_random"], BLUE, say("ERF 90 % side, random"), "dashed", "s")
    chart.series(d, [4 * v for v in plain["sigma_ones"]], VERMILLION, say("4σ all-ones = 4√(2n/3)"), "dotted",
                 "")
    chart.series(d, list(4 * sigma), GREEN, say("4σ random ≈ {c:.2f}√n", c=4 * c), "solid", "o")
    charts.append(chart.array())
    cols = min(len(charts), 3)
    h, w = charts[0].shape[:2]
    canvas = np.full((-(-len(charts) // cols) * (h + 8), cols * (w + 8), 3), 255, np.uint8)
    for k, img in enumerate(charts):
        r, c = divmod(k, cols)
        canvas[r * (h + 8) : r * (h + 8) + h, c * (w + 8) : c * (w + 8) + w] = img
    return canvas


def _frac(size: float | None, side: int) -> float:
    if size is None:
        return float("nan")
    return float("nan") if math.isinf(size) else size / side


def blocks_figure(rows: Sequence[dict[str, Any]], channels: int, size: int) -> np.ndarray:
    """Parameters and multiply-adds per block (log scale), with output channels and one block's RF."""
    key = (words.current(), channels, size, tuple((r["key"], r["params"], r["macs"]) for r in rows))
    if key not in _BLOCK_FIGURES:
        if len(_BLOCK_FIGURES) > 16:
            _BLOCK_FIGURES.clear()
        with _matplotlib_language():
            _BLOCK_FIGURES[key] = _blocks_figure(rows, channels, size)
        _BLOCK_FIGURES[key].flags.writeable = False
    return _BLOCK_FIGURES[key]


_BLOCK_FIGURES: dict[Any, np.ndarray] = {}


def _blocks_figure(rows: Sequence[dict[str, Any]], channels: int, size: int) -> np.ndarray:
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8), dpi=100, sharey=True)
    names = [f"{r['family']}: {r['title']}" for r in rows]
    y = np.arange(len(rows))[::-1]
    colours = [_hex(OKABE_ITO[i % 7]) for i in range(len(rows))]
    params = [r["params"] for r in rows]
    macs = [r["macs"] for r in rows]
    a1.barh(y, params, color=colours, edgecolor="black", lw=0.5)
    a2.barh(y, macs, color=colours, edgecolor="black", lw=0.5)
    for yy, r in zip(y, rows, strict=True):
        rf = (
            say("global")
            if r["rf"] is not None and math.isinf(r["rf"])
            else (f"{r['rf']:.0f}" if r["rf"] is not None else "?")
        )
        a1.text(r["params"], yy, f" {_si(r['params'])}", va="center", fontsize=7)
        a2.text(
            r["macs"],
            yy,
            say(" {si} · out {c} ch · RF {rf}", si=_si(r["macs"]), c=r["out_channels"], rf=rf),
            va="center",
            fontsize=7,
        )
    a1.set_yticks(y, names, fontsize=7.5)
    for ax, title in ((a1, say("parameters")), (a2, say("multiply-adds at {c}×{s}×{s}", c=channels, s=size))):
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, axis="x", which="both")
    a2.set_xlim(right=max(macs) * 400)
    a1.set_xlim(right=max(params) * 8)
    a1.set_axisbelow(True)
    a2.set_axisbelow(True)
    fig.subplots_adjust(left=0.30, right=0.99, top=0.92, bottom=0.08, wspace=0.04)
    return _to_array(fig)


def _si(v: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= div:
            return f"{v / div:.3g} {unit}"
    return f"{v:.0f}"


def hrnet_figure(h: dict[str, Any]) -> np.ndarray:
    """HRNet's streams (one row per resolution, one column per stage) above the stage-4 feature maps."""
    diagram = hrnet_diagram(h["structure"])
    tiles = []
    side = 180
    for fmap, rf in zip(h["maps"], h["stream_rf"], strict=True):
        tile = cv2.resize(colorize(fmap, "viridis"), (side, side), interpolation=cv2.INTER_NEAREST)
        tile = add_colorbar(tile, float(fmap.min()), float(fmap.max()), "viridis", "mean |a|")
        reach = say("whole image") if rf["rf"] is None else say("RF {rf:.0f} px", rf=rf["rf"])
        tiles.append(
            np.concatenate(
                [
                    caption_bar(
                        say("stride {s}: {h}×{w}, {reach}", s=rf["stride"], h=fmap.shape[0], w=fmap.shape[1],
                            reach=reach),
                        tile.shape[1],
                        24,
                        0.42,
                    ),
                    tile,
                ],
                0,
            )
        )
    photo = cv2.resize(h["input"], (side, side), interpolation=cv2.INTER_AREA)
    photo = np.concatenate([caption_bar(say("input"), side, 24, 0.42), photo], 0)
    gap = np.full((photo.shape[0], 10, 3), 255, np.uint8)
    row = np.concatenate(sum(([t, gap] for t in [photo, *tiles]), [])[:-1], 1)
    width = max(row.shape[1], diagram.shape[1])
    return np.concatenate(
        [_pad_to(diagram, width), np.full((8, width, 3), 255, np.uint8), _pad_to(row, width)], 0
    )


def hrnet_diagram(structure: dict[str, Any]) -> np.ndarray:
    """The streams as boxes (C×H×W) per stage and the exchange arrows (cached: architecture only)."""
    key = words.current() + repr(structure)
    if key not in _DIAGRAMS:
        _DIAGRAMS.clear()
        with _matplotlib_language():
            _DIAGRAMS[key] = _hrnet_diagram(structure)
        _DIAGRAMS[key].flags.writeable = False
    return _DIAGRAMS[key]


_DIAGRAMS: dict[str, np.ndarray] = {}


def _hrnet_diagram(structure: dict[str, Any]) -> np.ndarray:
    plt = _plt()
    streams = structure["streams"]
    fig, ax = plt.subplots(figsize=(10, 3.4), dpi=100)
    names = [s["stage"] for s in streams]
    for col, s in enumerate(streams):
        for b in s["branches"]:
            row = int(round(math.log2(b["stride"])))
            ax.add_patch(
                plt.Rectangle(
                    (col - 0.38, -row - 0.3), 0.76, 0.6, color=_hex(OKABE_ITO[(row - 1) % 7]), alpha=0.85
                )
            )
            ax.text(
                col,
                -row,
                f"{b['channels']}×{b['height']}×{b['width']}",
                ha="center",
                va="center",
                fontsize=7.5,
                color="black",
            )
    for f in structure["fusions"]:
        col = names.index(f["stage"])
        rows = [int(round(math.log2(b["stride"]))) for b in streams[col]["branches"]]
        for r_in in rows:
            for r_out in rows:
                ax.annotate(
                    "",
                    xy=(col + 0.6, -r_out),
                    xytext=(col + 0.38, -r_in),
                    arrowprops=dict(arrowstyle="->", lw=0.6, color="#555555"),
                )
    ax.set_xlim(-0.6, len(streams) - 0.4)
    ax.set_ylim(-5.6, -0.4)
    ax.set_xticks(range(len(streams)), names)
    ax.set_yticks([-1, -2, -3, -4, -5], [say("stride {s}", s=2 ** k) for k in range(1, 6)])
    ax.set_title(
        say("HRNet streams (C×H×W); arrows: the exchange unit at the end of stages 2–4 sums every "
            "stream into every stream"),
        fontsize=9,
    )
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.subplots_adjust(left=0.08, right=0.99, top=0.9, bottom=0.1)
    return _to_array(fig)


def _pad_to(img: np.ndarray, width: int) -> np.ndarray:
    if img.shape[1] >= width:
        return img
    return np.concatenate([img, np.full((img.shape[0], width - img.shape[1], 3), 255, np.uint8)], 1)


def roadmap_figure(steps: Sequence[dict[str, Any]]) -> np.ndarray:
    """Top-1 per step (paper), measured params and GFLOPs; ERF at initialisation of each step below."""
    with _matplotlib_language():
        return _roadmap_figure(steps)


def _roadmap_figure(steps: Sequence[dict[str, Any]]) -> np.ndarray:
    plt = _plt()
    fig = plt.figure(figsize=(12, 8.2), dpi=100)
    grid = fig.add_gridspec(2, 1, height_ratios=(1.35, 1.0))
    ax = fig.add_subplot(grid[0])
    y = np.arange(len(steps))[::-1]
    top1 = [s["paper_top1"] for s in steps]
    colours = [_hex(BLUE if s["adopted"] else SKY) for s in steps]
    ax.barh(y, top1, color=colours, edgecolor="black", lw=0.5, hatch=None)
    for yy, s in zip(y, steps, strict=True):
        if not s["adopted"]:
            ax.barh(yy, s["paper_top1"], color="none", edgecolor="black", hatch="///", lw=0.5)
        ax.text(
            s["paper_top1"] + 0.05,
            yy,
            say("{top1:.2f} · {params:.1f} M · {gmacs:.2f} G (paper {gflops:.2f} GFLOPs)",
                top1=s["paper_top1"], params=s["params"] / 1e6, gmacs=s["gmacs"], gflops=s["paper_gflops"]),
            va="center",
            fontsize=7,
        )
    ax.axvline(81.30, color=_hex(VERMILLION), lw=1, ls="--")
    ax.text(81.32, y[0] + 0.4, "Swin-T 81.3", color=_hex(VERMILLION), fontsize=7)
    ax.set_yticks(y, [s["title"] for s in steps], fontsize=7.5)
    ax.set_xlim(75.5, 85.5)
    ax.set_xlabel(
        say("ImageNet-1K top-1 % reported by Liu et al. 2022, Table 10 (hatched: not adopted)"), fontsize=8
    )
    ax.grid(alpha=0.3, axis="x")
    per_row = (len(steps) + 1) // 2
    sub = grid[1].subgridspec(2, per_row + 1, width_ratios=[1] * per_row + [0.12])
    image = None
    for k, s in enumerate(steps):
        a = fig.add_subplot(sub[k // per_row, k % per_row])
        if "erf" in s:
            e = np.log10(np.maximum(s["erf"] / max(float(s["erf"].max()), 1e-30), 1e-3))
            image = a.imshow(e, cmap="inferno", vmin=-3, vmax=0)
            a.set_title(say("{key}\nERF 90 %: {n} px", key=s["key"], n=2 * s["erf_r90"] + 1), fontsize=6.5)
        a.set_xticks([])
        a.set_yticks([])
    if image is not None:
        fig.colorbar(
            image, cax=fig.add_subplot(sub[:, per_row]),
            label=say("log10 ERF/max · stage 3 (stride 16) · at init"),
        )
    fig.subplots_adjust(left=0.2, right=0.92, top=0.97, bottom=0.03, hspace=0.35)
    return _to_array(fig)
