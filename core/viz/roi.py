"""Pictures of the RoI lesson: cells, bins, sampling points and levels drawn where they are read.

Everything is drawn in *input pixels* of the network input: feature cell ``(r, c)`` of a stride-``s``
map covers ``[c·s, (c+1)·s) × [r·s, (r+1)·s)`` and its value is shown as the cell's grey level; a
RoIAlign sample at feature coordinate ``u`` is drawn at ``(u + ½)·s``, where it reads the map (so
``aligned=False`` visibly sits half a cell off). A :class:`View` maps input pixels to picture pixels
(and back, for clicks). Lines are drawn with numpy slices or ``cv2.LINE_8`` so the tests can find
them on the exact pixel rows the geometry gives.

Categorical colours are Okabe–Ito (colour-blind safe); feature values are grey levels, so every
coloured mark stands out on them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import cv2
import numpy as np

from core.viz import fonts, words
from core.viz.draw import colorize, put_text
from core.viz.palette import BLACK, BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION, WHITE, YELLOW  # noqa: F401

# Okabe & Ito (2008), "Color Universal Design": the shared palette (core.viz.palette)
# position-sensitive groups: the seven Okabe–Ito hues, black and grey; every bin also carries its number
GROUP_COLOURS = (ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE, BLACK, GREY)

MAX_VIEW = 460  # the long side of a zoomed view, in picture pixels
MAX_CELL = 64  # a zoomed feature cell is at most this many picture pixels


@dataclass(frozen=True)
class View:
    """Picture pixel = ``(input − origin)·zoom`` (+ ``top`` rows); ``width × height`` picture pixels."""

    x0: float
    y0: float
    zoom: float
    width: int
    height: int
    top: int = 0

    def to_px(self, x: float | np.ndarray, y: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(x, np.float64) - self.x0) * self.zoom, \
            (np.asarray(y, np.float64) - self.y0) * self.zoom + self.top

    def to_input(self, u: float, v: float) -> tuple[float, float]:
        return self.x0 + u / self.zoom, self.y0 + (v - self.top) / self.zoom

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _r(v: float | np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(v, np.float64)).astype(np.int64)


def crop_view(box: Sequence[float], stride: int, map_hw: Sequence[int], margin: int = 1,
              max_side: int = MAX_VIEW) -> tuple[View, tuple[int, int, int, int]]:
    """A view of whole cells around ``box`` (``margin`` cells each side), and its cell range
    ``(r0, r1, c0, c1)``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    h, w = (int(v) for v in map_hw)
    c0 = max(math.floor(x0 / stride) - margin, 0)
    r0 = max(math.floor(y0 / stride) - margin, 0)
    c1 = min(math.ceil(x1 / stride) + margin, w)
    r1 = min(math.ceil(y1 / stride) + margin, h)
    c1, r1 = max(c1, c0 + 1), max(r1, r0 + 1)
    span_w, span_h = (c1 - c0) * stride, (r1 - r0) * stride
    zoom = min(max_side / max(span_w, span_h), MAX_CELL / stride)
    view = View(c0 * stride, r0 * stride, zoom, int(round(span_w * zoom)), int(round(span_h * zoom)))
    return view, (r0, r1, c0, c1)


def grey_cells(values: np.ndarray, view: View, stride: int, cells: tuple[int, int, int, int],
               vmin: float | None = None, vmax: float | None = None, out: np.ndarray | None = None,
               lines: tuple[int, int, int] | None = None) -> np.ndarray:
    """The feature values of the view's cells as grey levels (dark = low), blown up to the view.

    With ``out`` the cells are written into it (a view of a larger canvas: no picture-sized temporary
    and no copy afterwards); with ``lines`` the cell edges are drawn too, as :func:`cell_lines` draws
    them, while each band of rows is written (the edge columns cost nothing extra then).
    """
    r0, r1, c0, c1 = cells
    v = np.asarray(values, np.float32)[r0:r1, c0:c1]
    lo = float(np.nanmin(v)) if vmin is None else vmin
    hi = float(np.nanmax(v)) if vmax is None else vmax
    g = np.zeros_like(v) if hi <= lo else (v - lo) / (hi - lo)
    # = clip(nan_to_num(g), 0, 1): fmax/fmin send NaN to the bound, ±inf to 0 or 1 (nan_to_num's
    # infinity checks cost more than the rest of the cells)
    g = (40 + 185 * np.fmin(np.fmax(g, 0), 1)).astype(np.uint8)
    # cell edges at the rounded picture positions the line helpers use
    xs = _r((np.arange(c0, c1 + 1) * stride - view.x0) * view.zoom)
    ys = _r((np.arange(r0, r1 + 1) * stride - view.y0) * view.zoom)
    if lines is not None and view.top:
        raise ValueError("grey_cells draws cell lines only on a view without a top margin (top=0).")
    if out is None:
        out = np.empty((int(ys[-1]), int(xs[-1]), 3), np.uint8)
    _blow_up(g, np.diff(ys), np.diff(xs), out, None if lines is None else xs, lines)
    return out


def _blow_up(small: np.ndarray, row_runs: np.ndarray, col_runs: np.ndarray, out: np.ndarray,
             edges: np.ndarray | None = None, color: tuple[int, int, int] | None = None) -> None:
    """``out`` = each pixel of ``small`` (rows × cols × 3, or rows × cols grey levels) repeated
    ``row_runs[i] × col_runs[j]`` times; with ``edges`` (the cells' picture edges) the first row of
    every band and the edge columns are drawn in ``color``, as :func:`cell_lines` draws them.

    One row of the result is built per band of equal rows and broadcast over the band, as bytes (a
    band copied row by row; broadcasting 3-byte pixels goes byte by byte and costs three times as
    much): the picture is written once, where ``np.repeat`` twice (and ``cv2.cvtColor``) wrote it
    three times, and the grid's lines cost nothing (writing rows through a row index array cost as
    much as all the cells).
    """
    if small.ndim == 2:  # grey levels: a pixel is its level three times, repeated as single bytes
        # (np.repeat copies 1-byte items several times faster than 3-byte pixels)
        rows = np.repeat(small, np.asarray(col_runs) * 3, axis=1).reshape(small.shape[0], -1, 3)
    else:
        rows = np.repeat(small, col_runs, axis=1)  # (bands, picture width, 3): a few kB
    if edges is not None:
        rows[:, edges[(edges >= 0) & (edges < rows.shape[1])]] = color
    h, w = out.shape[:2]
    if out.strides[1:] == (3, 1):  # rows of bytes (also a view of a wider canvas)
        lines = np.lib.stride_tricks.as_strided(out, shape=(h, w * 3), strides=(out.strides[0], 1))
        rows = rows.reshape(rows.shape[0], w * 3)
        edge = np.tile(np.asarray(color, np.uint8), w) if edges is not None else None
    else:
        lines = out
        edge = np.asarray(color, np.uint8) if edges is not None else None
    y = 0
    for band, n in zip(rows, row_runs.tolist(), strict=True):
        lines[y: y + n] = band
        if edge is not None and n > 0:
            lines[y] = edge  # the band's first row is the cell edge above it
        y += n


def cell_lines(img: np.ndarray, view: View, stride: int, cells: tuple[int, int, int, int],
               color: tuple[int, int, int] = (20, 20, 20)) -> None:
    """Thin lines on every cell edge of the view (in place)."""
    r0, r1, c0, c1 = cells
    h, w = img.shape[:2]
    xs = _r((np.arange(c0, c1 + 1) * stride - view.x0) * view.zoom)
    ys = _r((np.arange(r0, r1 + 1) * stride - view.y0) * view.zoom) + view.top
    img[view.top:, xs[(xs >= 0) & (xs < w)]] = color
    img[ys[(ys >= 0) & (ys < h)], :] = color


def hline(img: np.ndarray, y: int, x0: int, x1: int, color: tuple[int, int, int], width: int = 2) -> None:
    """Rows ``y … y + width − 1`` from ``x0`` to ``x1`` (inclusive), clipped to the picture."""
    h, w = img.shape[:2]
    lo, hi = max(min(x0, x1), 0), min(max(x0, x1) + 1, w)
    top, bottom = max(y, 0), min(y + width, h)
    if top < bottom and lo < hi:
        _fill(img, slice(top, bottom), slice(lo, hi), color)


def vline(img: np.ndarray, x: int, y0: int, y1: int, color: tuple[int, int, int], width: int = 2) -> None:
    """Columns ``x … x + width − 1`` from ``y0`` to ``y1`` (inclusive), clipped to the picture."""
    h, w = img.shape[:2]
    lo, hi = max(min(y0, y1), 0), min(max(y0, y1) + 1, h)
    left, right = max(x, 0), min(x + width, w)
    if left < right and lo < hi:
        _fill(img, slice(lo, hi), slice(left, right), color)


def _fill(img: np.ndarray, rows: slice | np.ndarray, cols: slice | np.ndarray,
          color: tuple[int, int, int]) -> None:
    """``img[rows, cols] = color``, written as whole 3-byte pixels where the picture allows it (numpy
    broadcasts a colour over an RGB picture byte by byte: two to three times slower)."""
    if img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.strides[2] == 1:
        img.view(_RGB)[..., 0][rows, cols] = _pixel(tuple(color))
    else:
        img[rows, cols] = color


def _square(img: np.ndarray, x: int, y: int, half: int, color: tuple[int, int, int]) -> None:
    """The filled square ``x ± half, y ± half`` (inclusive), clipped: ``cv2.rectangle``'s filled pixels."""
    h, w = img.shape[:2]
    top, bottom, left, right = max(y - half, 0), min(y + half + 1, h), max(x - half, 0), min(x + half + 1, w)
    if top < bottom and left < right:
        _fill(img, slice(top, bottom), slice(left, right), color)


def _hlines(img: np.ndarray, ys: np.ndarray, x0: int, x1: int, color: tuple[int, int, int]) -> None:
    """:func:`hline` of width 1 on every row of ``ys`` (the same clipping), in one numpy write."""
    h, w = img.shape[:2]
    lo, hi = max(min(x0, x1), 0), min(max(x0, x1) + 1, w)
    ys = ys[(ys >= 0) & (ys < h)]
    if lo < hi and ys.size:
        _fill(img, ys, slice(lo, hi), color)


def _vlines(img: np.ndarray, xs: np.ndarray, y0: int, y1: int, color: tuple[int, int, int]) -> None:
    """:func:`vline` of width 1 on every column of ``xs`` (the same clipping), in one numpy write."""
    h, w = img.shape[:2]
    lo, hi = max(min(y0, y1), 0), min(max(y0, y1) + 1, h)
    xs = xs[(xs >= 0) & (xs < w)]
    if lo < hi and xs.size:
        _fill(img, slice(lo, hi), xs, color)


def rect(img: np.ndarray, view: View, x0: float, y0: float, x1: float, y1: float,
         color: tuple[int, int, int], width: int = 2) -> tuple[int, int, int, int]:
    """An outline of the input-pixel rectangle; returns its picture edges ``(left, top, right, bottom)``."""
    # View.to_px and _r in Python floats: the same double arithmetic and round-half-to-even, without
    # the five numpy calls (a quarter of the outline's cost)
    left, right = (round((float(x) - view.x0) * view.zoom) for x in (x0, x1))
    top, bottom = (round((float(y) - view.y0) * view.zoom + view.top) for y in (y0, y1))
    hline(img, top, left, right, color, width)
    hline(img, bottom - width + 1, left, right, color, width)
    vline(img, left, top, bottom, color, width)
    vline(img, right - width + 1, top, bottom, color, width)
    return left, top, right, bottom


def dashed_rect(img: np.ndarray, view: View, x0: float, y0: float, x1: float, y1: float,
                color: tuple[int, int, int], dash: int = 5) -> None:
    (u0, u1), (v0, v1) = view.to_px(np.array([x0, x1]), np.array([y0, y1]))
    left, right, top, bottom = (int(v) for v in _r([u0, u1, v0, v1]))
    for u in range(left, right, 2 * dash):
        hline(img, top, u, min(u + dash, right), color, 1)
        hline(img, bottom, u, min(u + dash, right), color, 1)
    for v in range(top, bottom, 2 * dash):
        vline(img, left, v, min(v + dash, bottom), color, 1)
        vline(img, right, v, min(v + dash, bottom), color, 1)


def dots(img: np.ndarray, u: np.ndarray, v: np.ndarray, color: tuple[int, int, int], radius: int = 3,
         outline: tuple[int, int, int] = BLACK) -> None:
    """Filled discs with a one-pixel outline at every (u, v), in place (``img`` may be a view).

    The same pixels as drawing, dot after dot, ``cv2.circle`` of radius ``radius + 1`` in ``outline``
    then of ``radius`` in ``color`` (a later dot covers an earlier one), but stamped at once: a RoIAlign
    picture has hundreds of samples, and two OpenCV calls per dot cost more than the torchvision ops
    the picture explains. Discs that overlap are drawn one by one, since then the order decides.
    """
    h, w = img.shape[:2]
    a, b = _r(u).ravel(), _r(v).ravel()
    if a.size == 0:
        return
    ab = np.sort(np.stack([a, b]), axis=1)  # x and y sorted, each in one call for both
    apart = _apart(ab, 2 * radius + 2)  # no two discs share a pixel: the order cannot show
    (lo_x, lo_y), (hi_x, hi_y) = ab[:, 0].tolist(), ab[:, -1].tolist()
    whole = lo_x > radius and lo_y > radius and hi_x < w - radius - 1 and hi_y < h - radius - 1
    if apart and whole and (line := _pixel_line(img)) is not None:  # the usual case: no masks, no sort
        pixels, pitch = line
        base = b * pitch + a
        ring, fill = _disc_offsets(radius, pitch)
        # ndarray.put: the same scattered write as pixels[index] = …, a third cheaper (no indexing set-up)
        pixels.put((base[:, None] + ring).ravel(), _pixel(tuple(outline)))
        pixels.put((base[:, None] + fill).ravel(), _pixel(tuple(color)))
        return
    dy, dx, inner = _disc(radius)
    ys, xs = b[:, None] + dy[None, :], a[:, None] + dx[None, :]  # (dots, disc pixels)
    inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    if not apart:
        ordered = np.sort((ys * w + xs)[inside])
        if (ordered[1:] == ordered[:-1]).any():  # discs overlap: the order decides, draw them one by one
            for p, q in zip(a.tolist(), b.tolist(), strict=True):
                cv2.circle(img, (p, q), radius + 1, outline, -1, cv2.LINE_8)
                cv2.circle(img, (p, q), radius, color, -1, cv2.LINE_8)
            return
    fill = np.broadcast_to(inner[None, :], inside.shape)
    img[ys[inside & ~fill], xs[inside & ~fill]] = outline
    img[ys[inside & fill], xs[inside & fill]] = color


def _pixel_line(img: np.ndarray) -> tuple[np.ndarray, int] | None:
    """An RGB picture (or a view of a wider one) as one line of 3-byte pixels, and its row pitch.

    Writing whole pixels at flat indices is the cheapest way numpy has to set scattered pixels (a
    third of the cost of ``img[ys, xs] = color``, which writes byte by byte). ``None`` for a layout
    it cannot be done on.
    """
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 or img.strides[1:] != (3, 1) \
            or img.strides[0] % 3 or not img.flags.writeable:
        return None
    h, w = img.shape[:2]
    pitch = img.strides[0] // 3
    line = np.lib.stride_tricks.as_strided(img.view(_RGB), shape=((h - 1) * pitch + w,), strides=(3,))
    return line, pitch


_RGB = np.dtype("V3")  # one RGB pixel as a unit


@lru_cache(maxsize=64)
def _pixel(color: tuple[int, int, int]) -> np.void:
    """A colour as one 3-byte pixel (for :func:`_pixel_line`)."""
    return np.asarray(color, np.uint8).view(_RGB)[0]


@lru_cache(maxsize=64)
def _disc_offsets(radius: int, pitch: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat offsets of the outline ring and of the filled disc of :func:`_disc`, rows ``pitch`` apart."""
    dy, dx, inner = _disc(radius)
    flat = dy * pitch + dx
    return flat[~inner], flat[inner]


def _apart(coords: np.ndarray, reach: int) -> bool:
    """Whether points with the sorted coordinates ``coords`` (x in row 0, y in row 1) are certainly
    more than ``reach`` apart along x or along y, pairwise.

    Two different points differ in x or in y; if the distinct x values are all more than ``reach``
    apart and so are the distinct y values, they differ by more than ``reach`` there. Sorting the
    ~200 coordinates of a RoIAlign grid is far cheaper than sorting its ~10 000 disc pixels
    (coinciding points draw the same disc twice, which the order cannot show either).
    """
    gaps = np.diff(coords, axis=1)
    return bool(((gaps == 0) | (gaps > reach)).all())


@lru_cache(maxsize=16)
def _disc(radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixel offsets of OpenCV's filled disc of ``radius + 1`` and which of them lie in the disc
    of ``radius`` (drawn once by ``cv2.circle`` itself, so the stamped shape is OpenCV's)."""
    size = 2 * radius + 5
    c = size // 2
    outer = np.zeros((size, size), np.uint8)
    fill = np.zeros((size, size), np.uint8)
    cv2.circle(outer, (c, c), radius + 1, 1, -1, cv2.LINE_8)
    cv2.circle(fill, (c, c), radius, 1, -1, cv2.LINE_8)
    dy, dx = np.nonzero(outer)
    return dy - c, dx - c, fill[dy, dx].astype(bool)


def crosses(img: np.ndarray, u: np.ndarray, v: np.ndarray, color: tuple[int, int, int],
            size: int = 4) -> None:
    for a, b in zip(_r(u).ravel().tolist(), _r(v).ravel().tolist(), strict=True):
        cv2.line(img, (a - size, b - size), (a + size, b + size), BLACK, 4, cv2.LINE_8)
        cv2.line(img, (a - size, b + size), (a + size, b - size), BLACK, 4, cv2.LINE_8)
        cv2.line(img, (a - size, b - size), (a + size, b + size), color, 2, cv2.LINE_8)
        cv2.line(img, (a - size, b + size), (a + size, b - size), color, 2, cv2.LINE_8)


def tint(img: np.ndarray, mask: np.ndarray, color: tuple[int, int, int], alpha: float) -> None:
    if mask.any():
        img[mask] = (img[mask] * (1 - alpha) + np.asarray(color, np.float32) * alpha).astype(np.uint8)


def value_tile(values: np.ndarray, cell: int, vmin: float, vmax: float, cmap: str = "cividis",
               text: bool = True, border: tuple[int, int, int] | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
    """A k×k output as coloured cells of ``cell`` pixels, each with its value when there is room.

    With ``out`` (``k·cell`` square, e.g. a view of the canvas the tile ends up in) it is drawn there.
    The cells are blown up with the row and column runs of OpenCV's nearest-neighbour resize (the
    same pixels as ``cv2.resize``, which cost more than the rest of the tile but the numbers).
    """
    v = np.asarray(values, np.float64)
    kh, kw = v.shape
    if out is None:
        out = np.empty((kh * cell, kw * cell, 3), np.uint8)
    tile = out
    _blow_up(_cell_colours(v, cmap, vmin, vmax), _nearest_runs(kh, kh * cell), _nearest_runs(kw, kw * cell),
             tile)
    _fill(tile, slice(cell, kh * cell, cell), slice(None), WHITE)
    _fill(tile, slice(None), slice(cell, kw * cell, cell), WHITE)
    if text and cell >= 30:
        scale = 0.33 if cell < 44 else 0.42
        char_w, th = _char_size(scale)
        mid = 0.5 * (vmin + vmax)
        put, font, aa = cv2.putText, cv2.FONT_HERSHEY_SIMPLEX, cv2.LINE_AA
        for i, row in enumerate(v.tolist()):
            y = i * cell + (cell + th) // 2
            for j, value in enumerate(row):
                s = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
                put(tile, s, (j * cell + (cell - char_w * len(s)) // 2, y), font, scale,
                    BLACK if value > mid else WHITE, 1, aa)
    if border is not None:
        cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, tile.shape[0] - 1), border, 2)
    return tile


def _cell_colours(v: np.ndarray, cmap: str, vmin: float, vmax: float) -> np.ndarray:
    """:func:`colorize` of a k×k output, byte for byte, as one table look-up (its ``nan_to_num`` and
    ``clip`` cost more than the rest of it on 49 values): ``fmax`` sends NaN and −∞ to 0, ``fmin``
    +∞ to 255, as ``nan_to_num`` then ``clip`` do."""
    x = np.asarray(v, np.float32)
    scaled = np.zeros_like(x) if vmax <= vmin else (x - vmin) / (vmax - vmin)
    with np.errstate(over="ignore", invalid="ignore"):
        u8 = np.fmin(np.fmax(scaled * 255.0 + 0.5, 0), 255).astype(np.uint8)
    return _colour_table(cmap)[u8]


@lru_cache(maxsize=8)
def _colour_table(cmap: str) -> np.ndarray:
    """The 256 colours :func:`colorize` gives the bytes 0…255 (its own output, so the same map)."""
    table = colorize(np.arange(256, dtype=np.float32).reshape(16, 16), cmap, 0.0, 255.0).reshape(256, 3)
    table.flags.writeable = False
    return table


@lru_cache(maxsize=64)
def _nearest_runs(n: int, size: int) -> np.ndarray:
    """How many of ``size`` output pixels ``cv2.resize(..., INTER_NEAREST)`` gives each of ``n`` inputs
    (it is not always ``size / n`` each: OpenCV's fixed-point source positions)."""
    ramp = np.arange(n, dtype=np.int32).reshape(1, n)
    source = cv2.resize(ramp, (size, 1), interpolation=cv2.INTER_NEAREST)
    runs = np.bincount(source[0], minlength=n)
    runs.flags.writeable = False
    return runs


@lru_cache(maxsize=8)
def _char_size(scale: float) -> tuple[int, int]:
    """Width of one digit and the height of a number in OpenCV's simplex font (for centring)."""
    (w, h), _ = cv2.getTextSize("0.00", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    return w // 4, h


def side_by_side(left: np.ndarray, *tiles: np.ndarray, gap: int = 12) -> np.ndarray:
    """``left`` with small tiles stacked on its right (white background, top aligned)."""
    width = max(t.shape[1] for t in tiles)
    column_h = sum(t.shape[0] for t in tiles) + gap * (len(tiles) - 1)
    h = max(left.shape[0], column_h)
    out = np.full((h, left.shape[1] + gap + width, 3), 255, np.uint8)
    out[: left.shape[0], : left.shape[1]] = left
    y = 0
    for t in tiles:
        out[y: y + t.shape[0], left.shape[1] + gap: left.shape[1] + gap + t.shape[1]] = t
        y += t.shape[0] + gap
    return out


def tile_cell(k: int, height: int) -> int:
    """Cell size for a k×k output tile next to a picture of ``height`` pixels."""
    return max(10, min(56, min(int(height), 300) // max(int(k), 1)))  # (np.clip: 10 µs for two ints)


def hatch(shape: tuple[int, int], period: int = 8) -> np.ndarray:
    """Diagonal stripes (a second cue besides colour)."""
    v, u = np.indices(shape)
    return ((u + v) // (period // 2)) % 2 == 0


# --------------------------------------------------------------------------------------------- #
# the lesson's pictures


def _label(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45,
           color: tuple[int, int, int] = WHITE, bg: tuple[int, int, int] = BLACK) -> None:
    """ASCII text on a filled box (OpenCV: fast, for numbers and short tags on pictures)."""
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = org
    cv2.rectangle(img, (x - 2, y - th - 3), (x + tw + 2, y + base), bg, -1)
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def overview_picture(rgb: np.ndarray, stride: int, box: Sequence[float], snapped: Sequence[int],
                     max_side: int = 640) -> tuple[np.ndarray, View]:
    """The network input with its stride-``s`` cell grid, the box (white) and RoIPool's snapped region
    (orange): what the snap gains is tinted green, what it loses vermillion and hatched."""
    h, w = rgb.shape[:2]
    zoom = min(1.0, max_side / max(h, w))
    view = View(0.0, 0.0, zoom, int(round(w * zoom)), int(round(h * zoom)))
    if zoom == 1.0:
        img = rgb.copy()
    else:
        img = cv2.resize(rgb, (view.width, view.height), interpolation=cv2.INTER_AREA)
    img = np.ascontiguousarray(img)
    xs = _r(np.arange(1, int(np.ceil(w / stride))) * stride * zoom)
    ys = _r(np.arange(1, int(np.ceil(h / stride))) * stride * zoom)
    xs, ys = xs[xs < view.width], ys[ys < view.height]
    img[:, xs] = (img[:, xs] * 0.45).astype(np.uint8)
    img[ys, :] = (img[ys, :] * 0.45).astype(np.uint8)
    x0, y0, x1, y1 = (float(v) for v in box)
    sy0, sy1, sx0, sx1 = (int(v) * stride for v in snapped)
    cx = (np.arange(view.width) + 0.5) / zoom
    cy = (np.arange(view.height) + 0.5) / zoom
    in_box = ((cy >= y0) & (cy < y1))[:, None] & ((cx >= x0) & (cx < x1))[None, :]
    in_snap = ((cy >= sy0) & (cy < sy1))[:, None] & ((cx >= sx0) & (cx < sx1))[None, :]
    lost, gained = in_box & ~in_snap, in_snap & ~in_box
    tint(img, gained, GREEN, 0.55)
    tint(img, lost & hatch(lost.shape), VERMILLION, 0.85)
    tint(img, lost & ~hatch(lost.shape), VERMILLION, 0.45)
    rect(img, view, sx0, sy0, sx1, sy1, ORANGE, 2)
    rect(img, view, x0, y0, x1, y1, WHITE, 2)
    return img, view


def roi_pool_picture(channel_map: np.ndarray, stride: int, box: Sequence[float], bins: np.ndarray,
                     argmax: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, View, dict[str, list[int]]]:
    """RoIPool's bins on the feature map: the ideal bins of the box (white dashes), the floor/ceil
    cells each bin really pools (orange outlines), cells read by two bins (yellow hatch), the cell
    each maximum comes from (sky-blue dot) — and the k×k output on the right."""
    x0, y0, x1, y1 = (float(v) for v in box)
    kh, kw = bins.shape[:2]
    reach = (min(x0, bins[..., 2].min() * stride), min(y0, bins[..., 0].min() * stride),
             max(x1, bins[..., 3].max() * stride), max(y1, bins[..., 1].max() * stride))
    view, cells = crop_view(reach, stride, channel_map.shape, margin=1)
    r0, r1, c0, c1 = cells
    lo, hi = float(channel_map[r0:r1, c0:c1].min()), float(channel_map[r0:r1, c0:c1].max())
    img = grey_cells(channel_map, view, stride, cells, lo, hi)
    count = np.zeros(channel_map.shape, np.int64)
    for i in range(kh):
        for j in range(kw):
            a, b, c, d = bins[i, j]
            count[a:b, c:d] += 1
    twice = count[r0:r1, c0:c1] >= 2
    if twice.any():
        xs = _r((np.arange(c0, c1 + 1) * stride - view.x0) * view.zoom)
        ys = _r((np.arange(r0, r1 + 1) * stride - view.y0) * view.zoom)
        mask = np.zeros(img.shape[:2], bool)
        for r, c in zip(*np.nonzero(twice), strict=True):
            mask[ys[r]: ys[r + 1], xs[c]: xs[c + 1]] = True
        tint(img, mask & hatch(mask.shape), YELLOW, 0.6)
    cell_lines(img, view, stride, cells)
    for i in range(1, kh):
        yy = y0 + i * (y1 - y0) / kh
        dashed_rect(img, view, x0, yy, x1, yy, WHITE)
    for j in range(1, kw):
        xx = x0 + j * (x1 - x0) / kw
        dashed_rect(img, view, xx, y0, xx, y1, WHITE)
    dashed_rect(img, view, x0, y0, x1, y1, WHITE)
    edges: dict[str, list[int]] = {"top_rows": [], "bottom_rows": [], "left_cols": [], "right_cols": []}
    for i in range(kh):
        for j in range(kw):
            a, b, c, d = (int(v) for v in bins[i, j])
            if b <= a or d <= c:
                continue
            left, top, right, bottom = rect(img, view, c * stride, a * stride, d * stride, b * stride,
                                            ORANGE, 2)
            edges["top_rows"].append(top)
            edges["bottom_rows"].append(bottom)
            edges["left_cols"].append(left)
            edges["right_cols"].append(right)
    ok = argmax[..., 0] >= 0
    if ok.any():
        u, v = view.to_px((argmax[..., 1][ok] + 0.5) * stride, (argmax[..., 0][ok] + 0.5) * stride)
        dots(img, u, v, SKY, radius=max(2, min(5, int(stride * view.zoom / 6))))
    tile = value_tile(values, tile_cell(max(kh, kw), img.shape[0]), lo, hi, border=ORANGE)
    return side_by_side(img, tile), view, edges


def _sample_px(points: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each RoIAlign sample reads the map, in input pixels: ``(u + ½)·s``."""
    p = np.asarray(points, np.float64)
    return (p[..., 1] + 0.5) * stride, (p[..., 0] + 0.5) * stride


def roi_align_picture(channel_map: np.ndarray, stride: int, box: Sequence[float], points: np.ndarray,
                      aligned: bool, values: np.ndarray, probe: tuple[int, int, int, int] | None = None,
                      taps: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, View]:
    """RoIAlign's sampling points (sky blue for ``aligned=True``, vermillion for ``False``) over the
    map, the box and its exact bins (white), the probed point with lines to its four neighbours'
    cell centres (yellow), and the averaged k×k output on the right."""
    x0, y0, x1, y1 = (float(v) for v in box)
    kh, kw = points.shape[:2]
    # where each sample reads, (x, y) = (u + ½)·s in input pixels, as _sample_px computes it but
    # both coordinates in each step (a dozen numpy calls fewer: each costs ~2 µs)
    xy = np.asarray(points, np.float64).reshape(-1, 2)[:, ::-1] + 0.5
    xy *= stride
    if xy.size:
        (lo_x, lo_y), (hi_x, hi_y) = xy.min(axis=0).tolist(), xy.max(axis=0).tolist()
        reach = (min(x0, lo_x), min(y0, lo_y), max(x1, hi_x), max(y1, hi_y))
    else:
        reach = (x0, y0, x1, y1)
    view, cells = crop_view(reach, stride, channel_map.shape, margin=1)
    r0, r1, c0, c1 = cells
    block = channel_map[r0:r1, c0:c1]
    lo, hi = float(block.min()), float(block.max())
    # the picture is drawn straight into its canvas, laid out as side_by_side lays it out: the map on
    # the left, the tile on the right, white elsewhere (no picture-sized temporaries, no copies)
    map_h = int(_r((r1 - r0) * stride * view.zoom))
    map_w = int(_r((c1 - c0) * stride * view.zoom))
    cell = tile_cell(max(kh, kw), map_h)
    gap, tile_h, tile_w = 12, kh * cell, kw * cell
    canvas = np.empty((max(map_h, tile_h), map_w + gap + tile_w, 3), np.uint8)
    canvas[map_h:, :map_w] = 255
    canvas[:, map_w: map_w + gap] = 255
    canvas[tile_h:, map_w + gap:] = 255
    img = canvas[:map_h, :map_w]
    grey_cells(channel_map, view, stride, cells, lo, hi, out=img, lines=(20, 20, 20))
    # the exact bin edges, converted once: View.to_px and _r in Python floats (the same doubles,
    # rounded half to even) for the few edges
    us = [round((x0 + j * (x1 - x0) / kw - view.x0) * view.zoom) for j in range(kw + 1)]
    vs = [round((y0 + i * (y1 - y0) / kh - view.y0) * view.zoom + view.top) for i in range(kh + 1)]
    _hlines(img, np.array(vs[1:-1], np.int64), us[0], us[-1], WHITE)
    _vlines(img, np.array(us[1:-1], np.int64), vs[0], vs[-1], WHITE)
    rect(img, view, x0, y0, x1, y1, WHITE, 2)
    xy -= (view.x0, view.y0)  # View.to_px of every sample at once
    xy *= view.zoom
    xy[:, 1] += view.top
    u, v = xy[:, 0].reshape(points.shape[:4]), xy[:, 1].reshape(points.shape[:4])
    radius = max(2, min(4, int(stride * view.zoom / 8)))
    dots(img, u, v, SKY if aligned else VERMILLION, radius=radius)
    if probe is not None and taps is not None:
        i, j, a, b = probe
        rows, cols = taps
        pu, pv = float(u[i, j, a, b]), float(v[i, j, a, b])
        # the four cells' centres: View.to_px and _r in Python floats (the same doubles, half to even)
        for r, c in zip(np.asarray(rows).tolist(), np.asarray(cols).tolist(), strict=True):
            cu = round(((c + 0.5) * stride - view.x0) * view.zoom)
            cv_ = round(((r + 0.5) * stride - view.y0) * view.zoom + view.top)
            cv2.line(img, (int(round(pu)), int(round(pv))), (cu, cv_), YELLOW, 2, cv2.LINE_8)
            _square(img, cu, cv_, 4, BLACK)  # = cv2.rectangle(..., -1) of (cu ± 4, cv ± 4)
            _square(img, cu, cv_, 3, YELLOW)
        cv2.circle(img, (int(round(pu)), int(round(pv))), radius + 6, BLACK, 3, cv2.LINE_8)
        cv2.circle(img, (int(round(pu)), int(round(pv))), radius + 6, YELLOW, 2, cv2.LINE_8)
    value_tile(values, cell, lo, hi, border=SKY if aligned else VERMILLION,
               out=canvas[:tile_h, map_w + gap:])
    return canvas, view


def bilinear_picture(point: Sequence[float], rows: np.ndarray, cols: np.ndarray, weights: np.ndarray,
                     tap_values: np.ndarray, value: float, size: int = 300) -> np.ndarray:
    """One sample's bilinear read: the four neighbour cells' centres at the corners, the point inside,
    and each corner's weight as the area of the rectangle opposite it (same colour)."""
    pad = 60
    img = np.full((size + 2 * pad + 40, size + 2 * pad, 3), 255, np.uint8)
    y, x = (float(v) for v in point)
    y_low, x_low = int(rows[0]), int(cols[0])
    ly = 0.0 if rows[2] == rows[0] else float(np.clip(max(y, 0.0) - y_low, 0, 1))
    lx = 0.0 if cols[1] == cols[0] else float(np.clip(max(x, 0.0) - x_low, 0, 1))
    px, py = pad + lx * size, pad + ly * size
    corners = [(pad, pad), (pad + size, pad), (pad, pad + size), (pad + size, pad + size)]
    colours = (ORANGE, SKY, GREEN, PURPLE)
    # corner k's weight is the area between the point and the opposite corner
    for k in range(4):
        ox, oy = corners[3 - k]
        a0, a1 = sorted((px, ox))
        b0, b1 = sorted((py, oy))
        sub = img[int(round(b0)): int(round(b1)), int(round(a0)): int(round(a1))]
        sub[:] = (sub * 0.45 + np.asarray(colours[k], np.float32) * 0.55).astype(np.uint8)
        if (a1 - a0) > 34 and (b1 - b0) > 16:
            s = f"w{k + 1}={float(weights[k]):.3f}"
            (tw, th), _ = cv2.getTextSize(s, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
            cv2.putText(img, s, (int((a0 + a1 - tw) / 2), int((b0 + b1 + th) / 2)), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, BLACK, 1, cv2.LINE_AA)
    cv2.rectangle(img, (pad, pad), (pad + size, pad + size), BLACK, 1)
    for k, (cx, cy) in enumerate(corners):
        cv2.circle(img, (cx, cy), 7, BLACK, -1)
        cv2.circle(img, (cx, cy), 5, colours[k], -1)
        tag = f"({int(rows[k])},{int(cols[k])}) v={float(tap_values[k]):.3f}"
        (tw, _), _ = cv2.getTextSize(tag, cv2.FONT_HERSHEY_SIMPLEX, 0.42, 1)
        tx = int(np.clip(cx - tw / 2, 2, img.shape[1] - tw - 2))
        ty = cy - 14 if k < 2 else cy + 24
        cv2.putText(img, tag, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, 0.42, BLACK, 1, cv2.LINE_AA)
    cv2.circle(img, (int(round(px)), int(round(py))), 8, BLACK, 3)
    cv2.circle(img, (int(round(px)), int(round(py))), 8, YELLOW, 2)
    line = words.say("value = sum w*v = {value:.4f}   (point y={y:.3f}, x={x:.3f})", value=value, y=y, x=x)
    put_text(img, line, (8, img.shape[0] - 14), 0.45, BLACK)
    return img


def aligned_picture(channel_map: np.ndarray, stride: int, box: Sequence[float], points_false: np.ndarray,
                    points_true: np.ndarray, values_false: np.ndarray, values_true: np.ndarray
                    ) -> tuple[np.ndarray, View]:
    """``aligned=False`` (vermillion crosses) against ``aligned=True`` (sky-blue dots) on one map, with
    both k×k outputs on the right (borders in the same colours)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    fu, fv = _sample_px(points_false, stride)
    tu, tv = _sample_px(points_true, stride)
    reach = (min(x0, fu.min(initial=x0), tu.min(initial=x0)), min(y0, fv.min(initial=y0), tv.min(initial=y0)),
             max(x1, fu.max(initial=x1), tu.max(initial=x1)), max(y1, fv.max(initial=y1), tv.max(initial=y1)))
    view, cells = crop_view(reach, stride, channel_map.shape, margin=1)
    r0, r1, c0, c1 = cells
    lo, hi = float(channel_map[r0:r1, c0:c1].min()), float(channel_map[r0:r1, c0:c1].max())
    img = grey_cells(channel_map, view, stride, cells, lo, hi)
    cell_lines(img, view, stride, cells)
    rect(img, view, x0, y0, x1, y1, WHITE, 2)
    radius = max(2, min(4, int(stride * view.zoom / 8)))
    dots(img, *view.to_px(tu, tv), SKY, radius=radius)
    crosses(img, *view.to_px(fu, fv), VERMILLION, size=radius + 2)
    k = max(values_true.shape)
    cell = tile_cell(k, img.shape[0] // 2)
    lo_v = float(min(values_false.min(), values_true.min()))
    hi_v = float(max(values_false.max(), values_true.max()))
    return side_by_side(img, value_tile(values_false, cell, lo_v, hi_v, border=VERMILLION),
                        value_tile(values_true, cell, lo_v, hi_v, border=SKY)), view


def ps_bins_picture(rgb: np.ndarray, stride: int, box: Sequence[float], k: int, channels: np.ndarray,
                    values: np.ndarray, vote: float, values_pool: np.ndarray | None = None,
                    vote_pool: float | None = None) -> tuple[np.ndarray, View]:
    """The photo around the box with its k×k position-sensitive bins, each tinted with its group's
    colour and labelled with its group number and the input channel it reads; on the right the
    PS-RoIAlign output (bins framed in the same colours) and its vote, then PS-RoIPool's."""
    x0, y0, x1, y1 = (float(v) for v in box)
    h, w = rgb.shape[:2]
    view, _ = crop_view(box, stride, (int(np.ceil(h / stride)), int(np.ceil(w / stride))), margin=1)
    a, b = int(view.y0), int(min(view.y0 + view.height / view.zoom, h))
    c, d = int(view.x0), int(min(view.x0 + view.width / view.zoom, w))
    crop = rgb[a:b, c:d]
    img = np.ascontiguousarray(cv2.resize(crop, (max(1, int(round((d - c) * view.zoom))),
                                                 max(1, int(round((b - a) * view.zoom)))),
                                          interpolation=cv2.INTER_LINEAR))
    view = View(view.x0, view.y0, view.zoom, img.shape[1], img.shape[0])
    ys = y0 + np.arange(k + 1) * (y1 - y0) / k
    xs = x0 + np.arange(k + 1) * (x1 - x0) / k
    for i in range(k):
        for j in range(k):
            g = i * k + j
            (ua, ub), (va, vb) = view.to_px(xs[[j, j + 1]], ys[[i, i + 1]])
            ua, ub, va, vb = (int(v) for v in _r([ua, ub, va, vb]))
            sub = img[max(va, 0): vb, max(ua, 0): ub]
            sub[:] = (sub * 0.5 + np.asarray(GROUP_COLOURS[g % len(GROUP_COLOURS)], np.float32) * 0.5
                      ).astype(np.uint8)
            if ub - ua >= 26 and vb - va >= 18:
                _label(img, f"{g}", (ua + 3, va + 15), 0.42)
                if ub - ua >= 54 and vb - va >= 36:
                    _label(img, f"ch{int(channels[i, j])}", (ua + 3, va + 32), 0.36)
    for yy in ys:
        (ua, ub), (va, _) = view.to_px(xs[[0, -1]], np.array([yy, yy]))
        hline(img, int(_r(va)), int(_r(ua)), int(_r(ub)), WHITE, 1)
    for xx in xs:
        (ua, _), (va, vb) = view.to_px(np.array([xx, xx]), ys[[0, -1]])
        vline(img, int(_r(ua)), int(_r(va)), int(_r(vb)), WHITE, 1)
    outputs = [("PS-RoIAlign", values, vote)]
    if values_pool is not None and vote_pool is not None:
        outputs.append(("PS-RoIPool", values_pool, vote_pool))
    cell = tile_cell(k, (img.shape[0] - 60 * len(outputs)) // len(outputs))
    every = np.concatenate([np.ravel(v) for _, v, _ in outputs])
    lo, hi = float(np.nanmin(every)), float(np.nanmax(every))
    column = []
    for name, vals, v in outputs:
        tile = value_tile(vals, cell, lo, hi)
        for i in range(k):
            for j in range(k):
                colour = GROUP_COLOURS[(i * k + j) % len(GROUP_COLOURS)]
                cv2.rectangle(tile, (j * cell + 1, i * cell + 1), ((j + 1) * cell - 2, (i + 1) * cell - 2),
                              colour, 2)
        strip = np.full((26, max(tile.shape[1], 190), 3), 255, np.uint8)
        put_text(strip, words.say("{name}: vote = mean = {v:.3f}", name=name, v=v), (2, 18), 0.42, BLACK)
        column += [tile, strip]
    return side_by_side(img, *column), view


def ps_maps_picture(maps: np.ndarray, stride: int, box: Sequence[float], bins: np.ndarray) -> np.ndarray:
    """The k² score maps of one output channel side by side (tile (i, j) = the map bin (i, j) reads),
    each with only its own bin outlined in its group colour: the bin reads nothing else."""
    k = int(round(np.sqrt(maps.shape[0])))
    hw = maps.shape[1:]
    tile_side = int(np.clip(600 // k, 60, 200))
    view, cells = crop_view(box, stride, hw, margin=1, max_side=tile_side)
    r0, r1, c0, c1 = cells
    lo, hi = float(maps[:, r0:r1, c0:c1].min()), float(maps[:, r0:r1, c0:c1].max())
    gap = 6
    tiles = []
    for g in range(k * k):
        t = grey_cells(maps[g], view, stride, cells, lo, hi)
        i, j = divmod(g, k)
        y0, y1, x0, x1 = bins[i, j]
        pad = 1 / view.zoom
        rect(t, view, x0 - pad, y0 - pad, x1 + pad, y1 + pad, BLACK, 5)
        rect(t, view, x0, y0, x1, y1, GROUP_COLOURS[g % len(GROUP_COLOURS)], 3)
        tiles.append(t)
    th, tw = tiles[0].shape[:2]
    out = np.full((k * th + (k + 1) * gap, k * tw + (k + 1) * gap, 3), 255, np.uint8)
    for g, t in enumerate(tiles):
        i, j = divmod(g, k)
        top, left = gap + i * (th + gap), gap + j * (tw + gap)
        out[top: top + th, left: left + tw] = t
    return out


def fpn_picture(levels: Sequence[tuple[int, np.ndarray]], box: Sequence[float], assigned: int, k: int,
                panel: int = 260) -> np.ndarray:
    """The box on each backbone level C2…C5 (strides 4…32): the level's activation energy, the box and
    its k×k bins; the level the FPN rule picks is framed in orange."""
    x0, y0, x1, y1 = (float(v) for v in box)
    panels = []
    for stride, energy in levels:
        h, w = energy.shape
        zoom = panel / max(h * stride, w * stride)
        view = View(0.0, 0.0, zoom, int(round(w * stride * zoom)), int(round(h * stride * zoom)))
        img = grey_cells(energy, view, stride, (0, h, 0, w))
        if stride * zoom >= 6:
            cell_lines(img, view, stride, (0, h, 0, w), (70, 70, 70))
        for i in range(1, k):
            yy = y0 + i * (y1 - y0) / k
            (ua, ub), (va, _) = view.to_px(np.array([x0, x1]), np.array([yy, yy]))
            hline(img, int(_r(va)), int(_r(ua)), int(_r(ub)), SKY, 1)
            xx = x0 + i * (x1 - x0) / k
            (ua, _), (va, vb) = view.to_px(np.array([xx, xx]), np.array([y0, y1]))
            vline(img, int(_r(ua)), int(_r(va)), int(_r(vb)), SKY, 1)
        rect(img, view, x0, y0, x1, y1, WHITE, 2)
        level = int(round(np.log2(stride)))
        framed = np.full((img.shape[0] + 34, panel + 8, 3), 255, np.uint8)
        framed[30: 30 + img.shape[0], 4: 4 + img.shape[1]] = img
        tag = words.say("C{level} / stride {stride}: {w:.1f}x{h:.1f} cells", level=level, stride=stride,
                        w=(x1 - x0) / stride, h=(y1 - y0) / stride)
        tag += words.say("  <- k") if level == assigned else ""
        put_text(framed, tag, (4, 20), 0.42, BLACK)
        if level == assigned:
            cv2.rectangle(framed, (0, 26), (framed.shape[1] - 1, framed.shape[0] - 1), ORANGE, 4)
        panels.append(framed)
    height = max(p.shape[0] for p in panels)
    row = [np.pad(p, ((0, height - p.shape[0]), (0, 8), (0, 0)), constant_values=255) for p in panels]
    return np.concatenate(row, axis=1)


def _font(size: int, text: str = ""):
    """DejaVu Sans (draws ×, ½, Greek), or the bundled CJK subset when ``text`` is Chinese."""
    return fonts.font_for(text, size)


CHART_ROWS = (("roi_pool_box_snap", "RoIPool: box snapped"), ("roi_pool", "RoIPool: {k}×{k} bins"),
              ("ps_roi_pool", "PS-RoIPool: {ps_k}×{ps_k} bins"),
              ("roi_align_aligned_false", "RoIAlign aligned=False"),
              ("roi_align_aligned_true", "RoIAlign aligned=True, PS-RoIAlign"))
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_ROW, CHART_BAR = 230, 600, 34, 50, 17


def misalignment_chart(half_pixel: dict[str, dict[str, float]], measured: dict[str, dict[str, float]] | None,
                       delta: Sequence[float | None], stride: int, box_wh: tuple[float, float],
                       mask: int = 28, k: int = 7, ps_k: int | None = None
                       ) -> tuple[np.ndarray, dict[str, float]]:
    """Each operator's worst offset from the box in input pixels, under the half-pixel model (cells
    centred at ``(c + ½)·s``: sky blue) and under this backbone's measured cell centres (``s·c + δ``:
    orange, hatched), each bar labelled in pixels and in cells of a ``mask``×``mask`` mask of the box;
    a dotted line marks one mask cell; the bin rows name their k×k (RoIPool's ``k``, PS-RoIPool's
    ``ps_k``, by default ``k``). Returns the picture and its scale (``x0``, ``px_per_px``)."""
    from PIL import Image, ImageDraw

    model = words.say("half-pixel model: cells centred at (c + ½)·{stride}", stride=stride)
    series = [(half_pixel, model, SKY)]
    if measured is not None:
        this = words.say("this backbone: centred at {stride}·c + ({dx:g}, {dy:g}) px, measured",
                         stride=stride, dx=delta[0], dy=delta[1])
        series.append((measured, this, ORANGE))
    cell = min(box_wh) / mask
    top = max([cell] + [errors[key]["px"] for errors, _, _ in series for key, _ in CHART_ROWS])
    xmax = top * 1.25 + 1e-9
    scale = (CHART_RIGHT - CHART_LEFT) / xmax
    height = CHART_TOP + CHART_ROW * len(CHART_ROWS) + 80
    canvas = Image.new("RGB", (CHART_RIGHT + 160, height), WHITE)
    pen = ImageDraw.Draw(canvas)
    zh = words.current() == "zh"
    small, label = _font(11, "中" if zh else ""), _font(12, "中" if zh else "")
    bottom = CHART_TOP + CHART_ROW * len(CHART_ROWS)
    for n, (key, name) in enumerate(CHART_ROWS):
        y = CHART_TOP + n * CHART_ROW
        pen.text((CHART_LEFT - 8, y + CHART_ROW / 2), words.say(name, k=k, ps_k=k if ps_k is None else ps_k),
                 fill=BLACK, font=label, anchor="rm")
        for m, (errors, _, colour) in enumerate(series):
            v = errors[key]["px"]
            y0 = y + 6 + m * (CHART_BAR + 3)
            x1 = CHART_LEFT + v * scale
            pen.rectangle([CHART_LEFT, y0, max(CHART_LEFT, x1), y0 + CHART_BAR], fill=colour, outline=BLACK)
            if m == 1:  # hatched: a second cue besides colour
                for hx in range(CHART_LEFT - CHART_BAR, int(x1), 6):
                    a, b = max(hx, CHART_LEFT), min(hx + CHART_BAR, int(x1))
                    if b > a:
                        pen.line([(a, y0 + CHART_BAR - (a - hx)), (b, y0 + CHART_BAR - (b - hx))], fill=BLACK)
            pen.text((x1 + 4, y0 + CHART_BAR / 2),
                     words.say("{px:.1f} px = {cells:.1f} mask cells", px=v, cells=errors[key]["mask_cells"]),
                     fill=BLACK, font=small, anchor="lm")
    pen.line([(CHART_LEFT, CHART_TOP - 4), (CHART_LEFT, bottom)], fill=BLACK)
    pen.line([(CHART_LEFT, bottom), (CHART_RIGHT, bottom)], fill=BLACK)
    step = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500) if xmax / t <= 8][0]
    for t in np.arange(0, xmax, step):
        x = CHART_LEFT + t * scale
        pen.line([(x, bottom), (x, bottom + 4)], fill=BLACK)
        pen.text((x, bottom + 6), f"{t:g}", fill=BLACK, font=small, anchor="mt")
    pen.text(((CHART_LEFT + CHART_RIGHT) / 2, bottom + 22),
             words.say("worst offset from the box, input pixels (stride {stride})", stride=stride),
             fill=BLACK, font=small, anchor="mt")
    xc = CHART_LEFT + cell * scale
    for yy in range(CHART_TOP - 4, bottom, 6):
        pen.line([(xc, yy), (xc, yy + 2)], fill=BLACK)
    pen.text((xc + 3, CHART_TOP - 8),
             words.say("1 cell of a {mask}×{mask} mask (short side) = {cell:.1f} px", mask=mask, cell=cell),
             fill=BLACK, font=small, anchor="ls")
    for m, (_, name, colour) in enumerate(series):
        yy = bottom + 42 + m * 16
        pen.rectangle([CHART_LEFT, yy, CHART_LEFT + 18, yy + 11], fill=colour, outline=BLACK)
        pen.text((CHART_LEFT + 24, yy + 6), name, fill=BLACK, font=small, anchor="lm")
    return np.asarray(canvas).copy(), {"x0": float(CHART_LEFT), "px_per_px": float(scale)}
