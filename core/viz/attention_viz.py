"""Drawing helpers for the attention and Swin lessons (OpenCV, RGB uint8 in, new RGB uint8 out).

They draw token grids, highlighted cells, Swin windows (which wrap around the image edge in shifted
blocks), categorical region maps and small annotated matrices (index tables, masks, bias tables)
that stay readable on a classroom projector.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from core.viz.draw import PALETTE, add_colorbar, caption_bar, colorize, put_text

__all__ = [
    "annotated_matrix",
    "ascii_text",
    "draw_cell",
    "draw_lines",
    "grid_click",
    "grid_figure",
    "label_image",
    "pad_top",
    "tint_labels",
    "title_above",
]

FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_lines(image: np.ndarray, rows: int, cols: int, offset: tuple[float, float] = (0.0, 0.0),
               color: tuple[int, int, int] = (255, 255, 255), thickness: int = 1,
               alpha: float = 1.0, cells: tuple[int, int] | None = None) -> np.ndarray:
    """Lines every ``cells`` grid units (in a ``rows``×``cols`` grid), shifted by ``offset`` units.

    With ``cells=(M, M)`` and ``offset=(s, s)`` this draws the window boundaries of a shifted Swin
    block in the original (un-rolled) frame: windows start at rows ``s, s+M, …`` and the last window
    wraps around the edge. The lines are anti-aliased and blended with opacity ``alpha``.
    """
    h, w = image.shape[:2]
    rows, row_cover, cols, col_cover = _line_stencil(h, w, rows, cols, tuple(offset), cells or (1, 1),
                                                     thickness)
    out = image.copy()
    paint = np.asarray(color, np.float32)

    def blend(under: np.ndarray, cover: np.ndarray) -> np.ndarray:
        under = under.astype(np.float32)
        return (under + (alpha * cover)[..., None] * (paint - under) + 0.5).astype(np.uint8)

    if len(rows):
        out[rows] = blend(image[rows], row_cover)
    if len(cols):
        out[:, cols] = blend(image[:, cols], col_cover)
    if len(rows) and len(cols):  # where lines cross, both cover the pixel: 1 − (1 − a)(1 − b) of it
        across, down = row_cover[:, cols], col_cover[rows, :]
        out[np.ix_(rows, cols)] = blend(image[np.ix_(rows, cols)], across + down - across * down)
    return out


@lru_cache(maxsize=64)
def _line_stencil(h: int, w: int, rows: int, cols: int, offset: tuple[float, float], cells: tuple[int, int],
                  thickness: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The image rows and columns a grid of lines touches, and how much (anti-aliased coverage, 0–1).

    Returns ``(rows, row_cover (len(rows), w), cols, col_cover (h, len(cols)))``, read off OpenCV's own
    anti-aliased lines drawn on one canvas per direction. Why: the same grid is drawn on every map of
    a page, and axis-aligned lines touch only a few whole rows and columns, so blending those with a
    cached stencil replaces drawing and blending a whole layer per map.
    """
    across, down = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    (step_r, step_c), (oy, ox) = cells, offset
    for k in range(-1, rows // step_r + 2):
        pos = oy + k * step_r
        if 0 < pos < rows:
            y = round(pos * h / rows)
            cv2.line(across, (0, y), (w - 1, y), 255, thickness, cv2.LINE_AA)
    for k in range(-1, cols // step_c + 2):
        pos = ox + k * step_c
        if 0 < pos < cols:
            x = round(pos * w / cols)
            cv2.line(down, (x, 0), (x, h - 1), 255, thickness, cv2.LINE_AA)
    touched_rows, touched_cols = np.flatnonzero(across.any(1)), np.flatnonzero(down.any(0))
    stencil = (touched_rows, across[touched_rows].astype(np.float32) / 255.0,
               touched_cols, down[:, touched_cols].astype(np.float32) / 255.0)
    for array in stencil:
        array.flags.writeable = False
    return stencil


def draw_cell(image: np.ndarray, row: int, col: int, rows: int, cols: int,
              color: tuple[int, int, int] = (0, 255, 255), thickness: int = 3) -> np.ndarray:
    """Outline one cell of a ``rows``×``cols`` grid (e.g. the clicked patch)."""
    out = image.copy()
    h, w = image.shape[:2]
    x1, y1 = round(col * w / cols), round(row * h / rows)
    x2, y2 = round((col + 1) * w / cols) - 1, round((row + 1) * h / rows) - 1
    cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
    return out


def tint_labels(image: np.ndarray, labels: np.ndarray, alpha: float = 0.45,
                palette: Sequence[tuple[int, int, int]] = PALETTE) -> np.ndarray:
    """Blend one palette colour per integer label (a small grid, upscaled with hard edges)."""
    h, w = image.shape[:2]
    lab = cv2.resize(np.asarray(labels, np.int32), (w, h), interpolation=cv2.INTER_NEAREST)
    colors = np.asarray(palette, np.uint8)[lab % len(palette)]
    return cv2.addWeighted(image, 1.0 - alpha, colors, alpha, 0.0)


def label_image(labels: np.ndarray, cell: int = 44, annotate: bool = True,
                palette: Sequence[tuple[int, int, int]] = PALETTE,
                window: int | None = None) -> np.ndarray:
    """A categorical grid (e.g. Swin's region ids) as coloured cells with the label written inside."""
    lab = np.asarray(labels, np.int64)
    rows, cols = lab.shape
    colors = np.asarray(palette, np.uint8)[lab % len(palette)]
    img = cv2.resize(colors, (cols * cell, rows * cell), interpolation=cv2.INTER_NEAREST)
    img = draw_lines(img, rows, cols, color=(255, 255, 255), thickness=1, alpha=0.8)
    if window:
        img = draw_lines(img, rows, cols, color=(20, 20, 20), thickness=3, cells=(window, window))
    if annotate and cell >= 14:
        scale = cell / 60
        for r in range(rows):
            for c in range(cols):
                _centered(img, str(int(lab[r, c])), c * cell + cell / 2, r * cell + cell / 2, scale,
                          _ink(tuple(int(v) for v in colors[r, c])))
    return img


def annotated_matrix(values: np.ndarray, cell: int = 36, cmap: str = "viridis", fmt: str = "{:.0f}",
                     annotate: bool | None = None, vmin: float | None = None, vmax: float | None = None,
                     colorbar: bool = True, label: str = "", blocks: int | None = None) -> np.ndarray:
    """A small matrix as coloured cells, values written inside when they fit, with a colour bar.

    ``blocks`` draws darker lines every ``blocks`` cells (e.g. every M tokens in an M²×M² matrix, so
    the rows of the window are visible).
    """
    v = np.asarray(values, np.float64)
    rows, cols = v.shape
    lo = float(np.nanmin(v)) if vmin is None else vmin
    hi = float(np.nanmax(v)) if vmax is None else vmax
    img = cv2.resize(colorize(v, cmap, lo, hi), (cols * cell, rows * cell), interpolation=cv2.INTER_NEAREST)
    if cell >= 6:
        img = draw_lines(img, rows, cols, color=(255, 255, 255), thickness=1, alpha=0.35)
    if blocks:
        img = draw_lines(img, rows, cols, color=(255, 255, 255), thickness=2, alpha=0.9,
                         cells=(blocks, blocks))
    if annotate is None:
        annotate = cell >= 22
    if annotate:
        scale = cell / 70
        small = colorize(v, cmap, lo, hi)
        for r in range(rows):
            for c in range(cols):
                if np.isfinite(v[r, c]):
                    _centered(img, fmt.format(v[r, c]), c * cell + cell / 2, r * cell + cell / 2, scale,
                              _ink(tuple(int(x) for x in small[r, c])))
    if colorbar:
        img = add_colorbar(img, lo, hi, cmap=cmap, label=label)
    return img


GRID_GAP = 16  # white pixels between the panels of a grid figure (and between its rows)
GRID_TITLE = 34  # height of the title strip above each panel

Panel = tuple[np.ndarray, str]  # a picture and its title


def grid_figure(rows: Sequence[Sequence[Panel]]) -> np.ndarray:
    """Titled panels in rows, as one picture: one figure for one comparison (or a family of them).

    The attention page shows its four ViT maps as a 2×2 grid ("one head | mean of heads" over
    "rollout | clicked patch") and its Swin comparison as "with | without the shift mask" above the
    window-rows table: on a projector or full screen the views stay together, and the page ships two
    figures instead of seven. Panels of a row share its height; rows are left-aligned, ``GRID_GAP``
    apart. :func:`grid_click` maps a click back into a panel. Every pixel is written once into one
    white canvas (this runs on every click of the page).
    """
    if not rows or not all(rows):
        raise ValueError("a grid figure needs at least one panel in every row")
    heights = [max(img.shape[0] for img, _ in row) for row in rows]
    widths = [sum(img.shape[1] for img, _ in row) + GRID_GAP * (len(row) - 1) for row in rows]
    total = sum(heights) + GRID_TITLE * len(rows) + GRID_GAP * (len(rows) - 1)
    canvas = np.full((total, max(widths), 3), 255, np.uint8)
    y = 0
    for row, h in zip(rows, heights, strict=True):
        x = 0
        for img, title in row:
            w = img.shape[1]
            canvas[y:y + GRID_TITLE, x:x + w] = _title_bar(title, w)
            canvas[y + GRID_TITLE:y + GRID_TITLE + img.shape[0], x:x + w] = img
            x += w + GRID_GAP
        y += GRID_TITLE + h + GRID_GAP
    return canvas


@lru_cache(maxsize=256)
def _title_bar(title: str, width: int) -> np.ndarray:
    """A panel's title strip; cached, because a click changes one or two of a figure's titles."""
    bar = caption_bar(title, width, height=GRID_TITLE, scale=0.7)
    bar.flags.writeable = False
    return bar


def grid_click(x: float, y: float, panel_width: int, panel_height: int,
               map_rows: int = 1) -> tuple[float, float] | None:
    """Pixel ``(x, y)`` clicked on a :func:`grid_figure` → the same point inside its map panel.

    The first ``map_rows`` rows hold equal ``panel_width``×``panel_height`` maps of one image, so a
    click on any of them picks the same spot of the image. A click on a title strip lands on the map's
    top edge, one on a gap on the nearest map; a click below the maps (e.g. on a table drawn under
    them) returns ``None``.
    """
    row_pitch = GRID_TITLE + panel_height + GRID_GAP
    row = int(y // row_pitch)
    if y < 0 or row >= map_rows:
        return None
    col_pitch = panel_width + GRID_GAP
    x_in = min(x - (x // col_pitch) * col_pitch, panel_width - 1)
    y_in = min(max(0.0, y - row * row_pitch - GRID_TITLE), panel_height - 1)
    return float(max(0.0, x_in)), float(y_in)


def title_above(image: np.ndarray, text: str, height: int = 30, scale: float = 0.6) -> np.ndarray:
    """A white title bar above an image (for composite figures that are also downloaded)."""
    bar = np.full((height, image.shape[1], 3), 255, np.uint8)
    put_text(bar, text, (6, height - 9), scale, (30, 30, 30))  # OpenCV for ASCII, the CJK subset for 中文
    return np.concatenate([bar, image], axis=0)


_ASCII = str.maketrans({"→": "->", "×": "x", "−": "-", "Δ": "d", "²": "^2", "⌊": "floor(", "⌋": ")",
                        "σ": "sigma", "·": "*", "…": "...", "✕": "x", "↓": "v", "≈": "~"})


def ascii_text(text: str) -> str:
    """OpenCV's Hershey fonts draw only ASCII: transliterate the symbols LensLab's captions use."""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def pad_top(image: np.ndarray, height: int | None = None) -> np.ndarray:
    """White space above a composite figure, so a front end's caption badge does not cover its titles.

    The default grows with the width, because pages scale wide figures down to the column width.
    """
    height = height if height is not None else max(36, round(0.09 * image.shape[1]))
    return np.concatenate([np.full((height, image.shape[1], 3), 255, np.uint8), image], axis=0)


def _centered(img: np.ndarray, text: str, cx: float, cy: float, scale: float,
              color: tuple[int, int, int]) -> None:
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
    cv2.putText(img, text, (round(cx - tw / 2), round(cy + th / 2)), FONT, scale, color, 1, cv2.LINE_AA)


def _ink(color: Sequence[int]) -> tuple[int, int, int]:
    r, g, b = color[:3]
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)
