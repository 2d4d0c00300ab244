"""Pictures of the MLP-family lesson (``/mlp``): who feeds a clicked patch, ResMLP's locality per block,
the mixers' N×N matrices side by side, CycleMLP's and AS-MLP's fixed reads, and the cost chart.

Signed numbers use the Okabe–Ito diverging ramp of :mod:`core.viz.repvgg` (blue − … white 0 … vermillion +),
each map scaled to its own largest |value| and drawn with its colour bar, so a random network's tiny
weights are still visible and labelled as such by the title.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from core.viz import fonts, words
from core.viz.attention_viz import grid_figure
from core.viz.draw import caption_bar, put_text
from core.viz.repvgg import diverging, diverging_bar

SIDE = 224  # side of a photo panel
MATRIX_SIDE = 256  # side of an N×N matrix panel
BAR_WIDTH = 6 + 18 + 70  # gap and colour bar right of a panel (core.viz.repvgg.diverging_bar)
PANEL_WIDTH = SIDE + BAR_WIDTH  # one "who feeds" panel
YELLOW, INK = (240, 228, 66), (20, 20, 20)
READ = (213, 94, 0)  # vermillion: a cell that is read
FIELD = (0, 114, 178)  # blue: the grown field

say = words.say  # every text drawn below, in the page's language (English outside words.language)

#: the Chinese of the text drawn into the MLP figures (core.viz.words; the titles core.mlp composes too)
ZH = words.register({
    "weight": "权重",
    "attention": "注意力",
    " (random)": "（随机）",
    "ResMLP {b}: weights": "ResMLP {b}：权重",
    "gMLP {b}: gate weights": "gMLP {b}：门控权重",
    "Mixer {b}: Jacobian": "Mixer {b}：Jacobian",
    "ViT {b}: attention": "ViT {b}：注意力",
    "ResMLP {b}: learned": "ResMLP {b}：学到的",
    "gMLP {b}: learned": "gMLP {b}：学到的",
    "Mixer {b}: Jacobian (photo)": "Mixer {b}：Jacobian（随照片而变）",
    "CycleMLP k={k}: fixed": "CycleMLP k={k}：固定",
    "AS-MLP s={s} d={d}: fixed": "AS-MLP s={s} d={d}：固定",
    "ViT {b}: attention (photo)": "ViT {b}：注意力（随照片而变）",
    "block {b}": "第 {b} 块",
    "Share of |w| near the output patch, per block": "每一块里输出 patch 附近的 |w| 占比",
    "block": "块",
    "within 3x3": "3×3 以内",
    "within 5x5": "5×5 以内",
    "- - no preference": "- - 无偏好",
    "random weights": "随机权重",
    "A {size}-px image is {n} tokens. What the layers built for 196 say:":
        "{size} 像素的图是 {n} 个 token。为 196 个 token 建的层报的错：",
    "  the page's {name} on a {size}-px image: {error}": "  本页的 {name} 用在 {size} 像素的图上：{error}",
    "  CycleMLP and AS-MLP: any size (their layers act on channels; the shifts are fixed)":
        "  CycleMLP 和 AS-MLP：任意尺寸（它们的层作用在通道上，移位是固定的）",
    " — a new layer per size": "——每个尺寸都要一个新层",
    "parameters of one token mixer": "一个 token 混合层的参数量",
    "multiply-accumulates of one token mixer": "一个 token 混合层的乘加次数",
    "image side (px), stride {p}": "图像边长（像素），步长 {p}",
})


def _vmax(values: np.ndarray) -> float:
    top = float(np.abs(values).max()) if np.size(values) else 0.0
    return top if top > 0 else 1.0


def _cell_box(img: np.ndarray, grid: tuple[int, int], cell: tuple[int, int], colour=YELLOW, thick=2) -> None:
    h, w = img.shape[:2]
    r, c = cell
    y0, y1 = round(r * h / grid[0]), round((r + 1) * h / grid[0])
    x0, x1 = round(c * w / grid[1]), round((c + 1) * w / grid[1])
    cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), (0, 0, 0), thick + 2)
    cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), colour, thick)


def _grid_lines(img: np.ndarray, grid: tuple[int, int], alpha: float = 0.25) -> np.ndarray:
    out = img.copy()
    h, w = img.shape[:2]
    for r in range(1, grid[0]):
        y = round(r * h / grid[0])
        out[y, :] = (255, 255, 255)
    for c in range(1, grid[1]):
        x = round(c * w / grid[1])
        out[:, x] = (255, 255, 255)
    return cv2.addWeighted(img, 1 - alpha, out, alpha, 0)


def weights_on_photo(view: np.ndarray, values: np.ndarray, grid: tuple[int, int], cell: tuple[int, int],
                     side: int = SIDE, alpha: float = 0.7) -> tuple[np.ndarray, float]:
    """A token row (N values) as coloured patches over the photo, the clicked patch boxed; and its scale."""
    vmax = _vmax(values)
    colours = diverging(np.asarray(values, np.float64).reshape(grid), vmax)
    photo = cv2.resize(view, (side, side), interpolation=cv2.INTER_AREA)
    heat = cv2.resize(colours, (side, side), interpolation=cv2.INTER_NEAREST)
    img = cv2.addWeighted(photo, 1 - alpha, heat, alpha, 0)
    img = _grid_lines(img, grid)
    _cell_box(img, grid, cell)
    return img, vmax


def _with_bar(img: np.ndarray, vmax: float, label: str) -> np.ndarray:
    bar = diverging_bar(img.shape[0], vmax, label=label)
    return np.concatenate([img, np.full((img.shape[0], 6, 3), 255, np.uint8), bar], axis=1)


def feeds_picture(views: dict[str, np.ndarray], feeds: Sequence[tuple],
                  sources: dict[str, str]) -> np.ndarray:
    """One panel per mixer: what feeds the clicked patch, over the photo as that network sees it."""
    panels = []
    for key, title, values, grid, cell, unit in feeds:
        img, vmax = weights_on_photo(views[key], values, grid, cell)
        tag = say(" (random)") if sources.get(key) == "random" else ""
        panels.append((_with_bar(img, vmax, say(unit)), _short(title + tag, 60)))
    return grid_figure([panels[:2], panels[2:]])


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _tile(values: np.ndarray, grid: tuple[int, int], cell: tuple[int, int], side: int) -> np.ndarray:
    colours = diverging(np.asarray(values, np.float64).reshape(grid), _vmax(values))
    img = cv2.resize(colours, (side, side), interpolation=cv2.INTER_NEAREST)
    _cell_box(img, grid, cell, thick=1)
    return img


def locality_picture(view: np.ndarray, mats: Sequence[Any], grid: tuple[int, int], cell: tuple[int, int],
                     loc: dict[int, list[float]], uniform: dict[int, float], source: str) -> np.ndarray:
    """The clicked patch's ``linear_tokens`` row in every block (each on its own scale), then a bar
    chart of the share of |w| within 3×3 and 5×5 per block against a matrix that prefers no patch."""
    index = cell[0] * grid[1] + cell[1]
    side = 120 if len(mats) <= 8 else 112
    tiles = [(_tile(np.asarray(m[index]), grid, cell, side), say("block {b}", b=b))
             for b, m in enumerate(mats)]
    per_row = 6
    rows = [tiles[i:i + per_row] for i in range(0, len(tiles), per_row)]
    chart = _locality_chart(loc, uniform, source)
    return grid_figure([*rows, [(chart, say("Share of |w| near the output patch, per block"))]])


class LocalityAxes:
    """Where the locality chart draws: its plot box, each block's two bars, a share's height. The chart
    uses it and a test reads the chart's pixels back through it."""

    left, right, top, bottom = 60, 150, 14, 36

    def __init__(self, blocks: int, width: int = 720, height: int = 230):
        self.blocks, self.width, self.height = blocks, width, height
        self.plot_w, self.plot_h = width - self.left - self.right, height - self.top - self.bottom
        self.slot = self.plot_w / blocks
        self.bar = max(3, int(self.slot * 0.35))

    @property
    def floor(self) -> int:
        """The row of the x axis: every bar ends on it."""
        return self.top + self.plot_h

    def bar_x(self, block: int, radius: int) -> tuple[int, int]:
        """First and last column of block ``block``'s bar for the (2·radius + 1)² share."""
        x0 = int(self.left + block * self.slot + self.slot * 0.1 + (radius - 1) * self.bar)
        return x0, x0 + self.bar - 1

    def value_y(self, share: float) -> int:
        """The row a share in [0, 1] is drawn at (1 at the top of the plot)."""
        return int(self.top + self.plot_h * (1 - share))


def _locality_chart(loc: dict[int, list[float]], uniform: dict[int, float], source: str,
                    width: int = 720, height: int = 230) -> np.ndarray:
    img = np.full((height, width, 3), 255, np.uint8)
    ax = LocalityAxes(len(loc[1]), width, height)
    left, right, top, plot_w = ax.left, ax.right, ax.top, ax.plot_w
    cv2.line(img, (left, ax.floor), (left + plot_w, ax.floor), INK, 1)
    cv2.line(img, (left, top), (left, ax.floor), INK, 1)
    colours = {1: READ, 2: FIELD}
    for r, vals in loc.items():
        for b, v in enumerate(vals):
            x0, x1 = ax.bar_x(b, r)
            cv2.rectangle(img, (x0, ax.value_y(v)), (x1, ax.floor), colours[r], -1)
        yu = ax.value_y(uniform[r])
        for x in range(left, left + plot_w, 8):
            cv2.line(img, (x, yu), (x + 4, yu), colours[r], 1)
    for b in range(ax.blocks):
        cv2.putText(img, str(b), (int(left + b * ax.slot + ax.slot * 0.3), height - 18),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, INK, 1, cv2.LINE_AA)
    for t in (0.0, 0.5, 1.0):
        y = ax.value_y(t)
        cv2.putText(img, f"{t:.1f}", (22, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, INK, 1, cv2.LINE_AA)
    put_text(img, say("block"), (left + plot_w // 2 - 20, height - 4), 0.4, INK)  # OpenCV for ASCII
    legend = [("within 3x3", READ), ("within 5x5", FIELD), ("- - no preference", INK)]
    for i, (text, col) in enumerate(legend):
        y = top + 14 + 18 * i
        cv2.rectangle(img, (width - right + 10, y - 9), (width - right + 20, y), col, -1)
        put_text(img, say(text), (width - right + 26, y), 0.4, INK)
    if source == "random":
        put_text(img, say("random weights"), (width - right + 10, top + 80), 0.4, READ)
    return img


def matrix_image(mat: np.ndarray, side: int = MATRIX_SIDE) -> tuple[np.ndarray, float]:
    """An N×N matrix as a picture (nearest-neighbour, each entry a block of pixels), own scale."""
    m = np.asarray(mat, np.float64)
    vmax = _vmax(m)
    img = cv2.resize(diverging(m, vmax), (side, side), interpolation=cv2.INTER_NEAREST if m.shape[0] <= side
                     else cv2.INTER_AREA)
    return img, vmax


def matrices_picture(items: Sequence[tuple[str, np.ndarray]]) -> np.ndarray:
    """The mixers' N×N matrices side by side, three per row, each with its colour bar."""
    panels = []
    for title, mat in items:
        img, vmax = matrix_image(mat)
        panels.append((_with_bar(img, vmax, f"N = {mat.shape[0]}"), _short(title, 44)))
    return grid_figure([panels[:3], panels[3:]])


def _cells_on_photo(view: np.ndarray, mask: np.ndarray, grid: tuple[int, int], cell: tuple[int, int],
                    colour: tuple[int, int, int], side: int = 112) -> np.ndarray:
    photo = cv2.resize(view, (side, side), interpolation=cv2.INTER_AREA)
    photo = (photo.astype(np.float32) * 0.55 + 255 * 0.45).astype(np.uint8)  # faded: the cells stand out
    over = np.zeros_like(photo)
    over[:] = colour
    m = cv2.resize(mask.astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST).astype(bool)
    photo[m] = (0.25 * photo[m] + 0.75 * over[m]).astype(np.uint8)
    photo = _grid_lines(photo, grid, 0.35)
    # the output position's box goes just outside its cell: a box inside an 8-px cell hid its fill, so a
    # channel that reads its own position looked like one that reads nothing
    r, c = cell
    y0, y1 = round(r * side / grid[0]), round((r + 1) * side / grid[0])
    x0, x1 = round(c * side / grid[1]), round((c + 1) * side / grid[1])
    cv2.rectangle(photo, (x0 - 2, y0 - 2), (x1 + 1, y1 + 1), (0, 0, 0), 1)
    cv2.rectangle(photo, (x0 - 1, y0 - 1), (x1, y1), YELLOW, 1)
    return photo


def fixed_picture(view: np.ndarray, fixed: dict[str, Any], grid: tuple[int, int],
                  cell: tuple[int, int]) -> np.ndarray:
    """Rows: CycleMLP's width branch, height branch, AS-MLP's two shifts — one tile per channel showing
    the one cell it reads — then all channels after the channel FC, then the field after 1–3 mixers."""
    rows = []
    names = {"cyclemlp": ("1×k", "k×1", "FC"), "asmlp": ("W", "H")}
    for key in ("cyclemlp", "asmlp"):
        f = fixed[key]
        for b, reads in enumerate(f["reads"]):
            if key == "cyclemlp" and b == 2:
                continue  # the channel FC reads the output position itself, in every channel
            branch = names[key][b]
            row = []
            for i in range(reads.shape[0]):
                ch = f["channels_shown"][i]
                dy, dx = f["branches"][b][i]
                step = dx if dx else dy
                title = f"{branch} c{ch}" if i == 0 else f"c{ch}: {step:+d}"
                row.append((_cells_on_photo(view, reads[i], grid, cell, READ), title))
            rows.append(row)
        rows.append([(_cells_on_photo(view, fld, grid, cell, READ if d == 0 else FIELD),
                      say("×{d} → {n}", d=d + 1, n=n))  # k mixers → cells read (fits a 112-px title)
                     for d, (fld, n) in enumerate(zip(f["fields"], f["field_cells"], strict=True))])
    return grid_figure(rows)


@lru_cache(maxsize=4)
def _cost_chart_cached(key: str, lang: str) -> np.ndarray:
    import json

    with words.language(lang):
        return _draw_cost_chart(json.loads(key))


def cost_chart(costs: dict[str, Any], errors: dict[str, Any] | None = None) -> np.ndarray:
    """Parameters and MACs of each token mixer against the image side, log–log (matplotlib; drawn once
    per set of numbers: the costs do not depend on the photo), and under it what torch says when a
    layer built for 196 tokens, or the page's ResMLP, gets a larger image."""
    import json

    chart = _cost_chart_cached(json.dumps(costs, sort_keys=True, default=str), words.current())
    width = chart.shape[1]
    n = (costs["error_size"] // costs["patch"]) ** 2
    lines = [say("A {size}-px image is {n} tokens. What the layers built for 196 say:",
                 size=costs["error_size"], n=n)]
    lines += [f"  {label.split(' ')[0]}: {message}" for label, message in costs["token_layer_errors"].items()
              if message]
    for title, entry in (errors or {}).items():
        if entry and entry.get("error"):
            name = title.split(" · ")[0]
            lines.append(say("  the page's {name} on a {size}-px image: {error}", name=name,
                             size=entry["size"], error=entry["error"]))
    lines.append(say("  CycleMLP and AS-MLP: any size (their layers act on channels; the shifts are fixed)"))
    strips = [caption_bar(text, width, height=24, scale=0.5) for text in lines]
    return np.concatenate([chart, *strips], axis=0)


_CHART_LOCK = threading.Lock()


#: the cost chart's colour per mixer, in the order of ``costs["rows"]`` (Okabe–Ito)
COST_PALETTE = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
#: each row's marks: shapes and sizes that stay visible where two rows' marks coincide (ResMLP's circle
#: around gMLP's square, the Mixer's triangle and ViT's diamond around AS-MLP's dot); ViT's wide line
#: shows as a band around AS-MLP's, whose parameters it matches within 0.3 %
COST_MARKS = (dict(marker="o", ms=9, markerfacecolor="none", markeredgewidth=1.2),
              dict(marker="s", ms=6, markerfacecolor="none", markeredgewidth=1.2),
              dict(marker="^", ms=7, markerfacecolor="none", markeredgewidth=1.2),
              dict(marker="D", ms=7, markerfacecolor="none", markeredgewidth=1.2, lw=3.0),
              dict(marker="o", ms=3), dict(marker="o", ms=3))


def _draw_cost_chart(costs: dict[str, Any]) -> np.ndarray:
    """The chart itself (:func:`render_cost_chart` without the marks' pixels)."""
    return render_cost_chart(costs)[0]


Marks = dict[str, dict[str, list[tuple[int, int]]]]


def render_cost_chart(costs: dict[str, Any]) -> tuple[np.ndarray, Marks]:
    """The chart, and the (column, row) pixel of every mark: ``marks[mixer]["params" | "macs"]``, one per
    image size, through the axes' own transforms (so a test can read the drawn marks back).

    Curves that coincide stay visible: ResMLP's and gMLP's parameters differ by the gate's 1,536, the
    Mixer's MACs equal AS-MLP's (2·N·384·768 = 4·N·384²) and ViT's parameters are AS-MLP's within 0.3 %,
    so the token-bound (dashed) curves are drawn on top with interleaved dashes, and marks are hollow
    shapes of their own around the dots (:data:`COST_MARKS`).

    A pyplot-free Figure and plain-text tick labels (matplotlib's mathtext parser, which its default
    log-axis labels use, is not safe when two requests draw at once), under a lock."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

    zh = words.current() == "zh"
    family = list(fonts.matplotlib_family()) if zh else matplotlib.rcParams["font.family"]
    with _CHART_LOCK, matplotlib.rc_context({"font.family": family}):  # the CJK subset as the fallback
        fig = Figure(figsize=(11, 3.8), dpi=100)
        canvas = FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2)
        sizes: list[int] = []
        tied = 0
        for i, (row, colour) in enumerate(zip(costs["rows"], COST_PALETTE, strict=False)):
            sizes = [c["size"] for c in row["costs"]]
            style = dict(COST_MARKS[i % len(COST_MARKS)])
            if row["tied_to_tokens"]:  # dashes interleaved with the other token-bound rows', on top
                style.update(linestyle=(3 * tied, (3, 6)), zorder=3)
                tied += 1
            else:
                style.update(linestyle="-", zorder=2 if style.get("lw") is None else 1.5)
            for ax, key in zip(axes, ("params", "macs"), strict=True):
                ax.plot(sizes, [c[key] for c in row["costs"]], color=colour, **style,
                        label=row["mixer"] + (say(" — a new layer per size") if row["tied_to_tokens"]
                                              else ""))
        plain = FuncFormatter(lambda v, _: f"{v:.0e}".replace("e+0", "e").replace("e+", "e"))
        titles = (say("parameters of one token mixer"), say("multiply-accumulates of one token mixer"))
        for ax, title in zip(axes, titles, strict=True):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_major_locator(FixedLocator(sizes))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_locator(LogLocator(base=10))
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_locator(NullLocator())
            ax.set_xlabel(say("image side (px), stride {p}", p=costs["patch"]))
            ax.set_title(title, fontsize=10)
            ax.grid(True, alpha=0.25)
        axes[1].legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        canvas.draw()
        img = np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])
        height = img.shape[0]
        marks = {row["mixer"]: {key: [(int(round(px)), int(round(height - py))) for px, py in
                                      ax.transData.transform([(c["size"], c[key]) for c in row["costs"]])]
                                for ax, key in zip(axes, ("params", "macs"), strict=True)}
                 for row in costs["rows"]}
        return img, marks


def title_strip(text: str, width: int) -> np.ndarray:
    return caption_bar(text, width, height=26, scale=0.5)
