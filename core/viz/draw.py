"""OpenCV drawing primitives (RGB uint8 in, new RGB uint8 out; inputs are never modified)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.viz import fonts
from core.viz.palette import CATEGORICAL

# The categorical palette (Okabe–Ito, colour-blind safe; core.viz.palette), RGB.
PALETTE: tuple[tuple[int, int, int], ...] = CATEGORICAL

_CMAPS = {
    "inferno": cv2.COLORMAP_INFERNO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "magma": cv2.COLORMAP_MAGMA,
    "jet": cv2.COLORMAP_JET,
    "turbo": cv2.COLORMAP_TURBO,
    "plasma": cv2.COLORMAP_PLASMA,
    "cividis": cv2.COLORMAP_CIVIDIS,
    "coolwarm": cv2.COLORMAP_TWILIGHT_SHIFTED,
}


def colorize(values: np.ndarray, cmap: str = "inferno", vmin: float | None = None,
             vmax: float | None = None) -> np.ndarray:
    """Map a 2-D float array to RGB with an OpenCV colormap (min→dark, max→bright)."""
    v = np.asarray(values, dtype=np.float32)
    lo = float(np.nanmin(v)) if vmin is None else vmin
    hi = float(np.nanmax(v)) if vmax is None else vmax
    scaled = np.zeros_like(v) if hi <= lo else (v - lo) / (hi - lo)
    u8 = np.clip(np.nan_to_num(scaled) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if u8.size <= _SMALL:  # a token grid: look the colours up (applyColorMap costs ~0.2 ms per call)
        return _colour_table(cmap)[u8]
    return cv2.cvtColor(cv2.applyColorMap(u8, _CMAPS[cmap]), cv2.COLOR_BGR2RGB)


_SMALL = 1 << 14  # up to this many values numpy's table lookup beats OpenCV's per-call set-up


@lru_cache(maxsize=len(_CMAPS))
def _colour_table(cmap: str) -> np.ndarray:
    """OpenCV's colormap as a 256×3 RGB table (exactly what applyColorMap maps each byte to)."""
    ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
    table = cv2.cvtColor(cv2.applyColorMap(ramp, _CMAPS[cmap]), cv2.COLOR_BGR2RGB).reshape(256, 3)
    table.flags.writeable = False
    return table


def upscale_nearest(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Blow a small grid (e.g. 14×14 attention) up to image size with hard cell edges."""
    return cv2.resize(np.asarray(values, dtype=np.float32), (width, height), interpolation=cv2.INTER_NEAREST)


def overlay_heatmap(image: np.ndarray, heat: np.ndarray, alpha: float = 0.55, cmap: str = "inferno",
                    smooth: bool = True, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Blend a heatmap of any grid size over ``image`` at the image's resolution.

    ``smooth`` resizes bilinearly (a soft map, as in most papers' figures); otherwise cells keep
    hard edges so a student can count patches.
    """
    h, w = image.shape[:2]
    grid = np.asarray(heat, dtype=np.float32)
    if smooth:
        colored = colorize(cv2.resize(grid, (w, h), interpolation=cv2.INTER_LINEAR), cmap, vmin, vmax)
    else:
        # colouring the grid and then blowing it up gives the same pixels as colouring the blown-up
        # grid, with a colormap lookup per cell instead of per pixel
        colored = cv2.resize(colorize(grid, cmap, vmin, vmax), (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.addWeighted(image, 1.0 - alpha, colored, alpha, 0.0)


_BAR_GAP, _BAR_LABELS = 6, 78  # white pixels before the colour bar, and for its tick labels


def add_colorbar(image: np.ndarray, vmin: float, vmax: float, cmap: str = "inferno",
                 label: str = "", width: int = 22) -> np.ndarray:
    """Append a vertical colour bar with min/max ticks to the right of ``image``.

    The result is :func:`colorbar_extra` (``width``) pixels wider than ``image``.
    """
    h = image.shape[0]
    bar = _colour_ramp(h, width, cmap)
    pad = np.full((h, _BAR_LABELS, 3), 255, np.uint8)
    scale = max(0.35, min(0.55, h / 700))
    _text(pad, _fmt(vmax), (4, 14), scale)
    _text(pad, _fmt(vmin), (4, h - 6), scale)
    if label:
        _text(pad, label, (4, h // 2), scale)
    return np.concatenate([image, np.full((h, _BAR_GAP, 3), 255, np.uint8), bar, pad], axis=1)


@lru_cache(maxsize=32)
def _colour_ramp(height: int, width: int, cmap: str) -> np.ndarray:
    """The bar itself (max at the top): the same for every map of one height, so drawn once."""
    ramp = np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None].repeat(width, axis=1)
    bar = colorize(ramp, cmap, 0.0, 1.0)
    bar.flags.writeable = False
    return bar


def colorbar_extra(width: int = 22) -> int:
    """How many pixels :func:`add_colorbar` adds to an image's width."""
    return _BAR_GAP + width + _BAR_LABELS


def draw_grid(image: np.ndarray, rows: int, cols: int, color: tuple[int, int, int] = (255, 255, 255),
              thickness: int = 1, alpha: float = 0.6) -> np.ndarray:
    """Draw a rows×cols grid of evenly spaced lines (patch or window grid) over the image."""
    out = image.copy()
    h, w = image.shape[:2]
    layer = out.copy()
    for r in range(1, rows):
        y = round(r * h / rows)
        cv2.line(layer, (0, y), (w - 1, y), color, thickness, cv2.LINE_AA)
    for c in range(1, cols):
        x = round(c * w / cols)
        cv2.line(layer, (x, 0), (x, h - 1), color, thickness, cv2.LINE_AA)
    return cv2.addWeighted(layer, alpha, out, 1.0 - alpha, 0.0)


def draw_boxes(image: np.ndarray, boxes: np.ndarray, labels: Sequence[str] | None = None,
               colors: Sequence[tuple[int, int, int]] | None = None, thickness: int = 2,
               dashed: Sequence[bool] | None = None) -> np.ndarray:
    """Draw xyxy boxes with optional text labels (one colour per box, palette by default)."""
    out = image.copy()
    for i, box in enumerate(np.asarray(boxes, dtype=np.float64).reshape(-1, 4)):
        color = tuple(int(c) for c in (colors[i] if colors is not None else PALETTE[i % len(PALETTE)]))
        x1, y1, x2, y2 = (round(v) for v in box)
        if dashed is not None and dashed[i]:
            _dashed_rect(out, (x1, y1), (x2, y2), color, thickness)
        else:
            cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        if labels is not None and labels[i]:
            scale = 0.45
            (tw, th), _ = cv2.getTextSize(labels[i], cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            y_text = max(th + 4, y1)
            cv2.rectangle(out, (x1, y_text - th - 4), (x1 + tw + 4, y_text), color, -1)
            cv2.putText(out, labels[i], (x1 + 2, y_text - 3), cv2.FONT_HERSHEY_SIMPLEX, scale,
                        _ink(color), 1, cv2.LINE_AA)
    return out


def draw_points(image: np.ndarray, xy: np.ndarray, color: tuple[int, int, int] = (255, 0, 0),
                radius: int = 2, outline: bool = True) -> np.ndarray:
    """Draw points given in pixel coordinates (x, y)."""
    out = image.copy()
    for x, y in np.asarray(xy, dtype=np.float64).reshape(-1, 2):
        c = (round(x), round(y))
        if outline:
            cv2.circle(out, c, radius + 1, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(out, c, radius, tuple(int(v) for v in color), -1, cv2.LINE_AA)
    return out


def caption_bar(text: str, width: int, height: int = 26, scale: float = 0.5) -> np.ndarray:
    """A white ``height``×``width`` bar with ``text`` in it; too long a caption ends in "…"."""
    bar = np.full((height, width, 3), 255, np.uint8)
    _text(bar, _fit(text, width - 12, scale), (6, height - 8), scale)
    return bar


def label_strip(image: np.ndarray, text: str, height: int = 26, scale: float = 0.5) -> np.ndarray:
    """Put a caption bar above an image (for figures exported to slides)."""
    return np.concatenate([caption_bar(text, image.shape[1], height, scale), image], axis=0)


def montage(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, cols: int = 3,
            tile: int = 320, gap: int = 8, title_lines: int = 3) -> np.ndarray:
    """Arrange images in a grid of equal tiles (aspect kept, white background) with captions.

    A title longer than its tile wraps onto up to ``title_lines`` lines (the last ends in "…" only if
    even those are not enough): the sheet goes on slides, so its titles must be readable whole.
    """
    if not images:
        raise ValueError("montage needs at least one image")
    rows = -(-len(images) // cols)
    font = fonts.font_for("".join(titles or ()), _font_size(0.5))
    lines = ([wrap_text(t, tile, font.getlength, title_lines) for t in titles] if titles
             else [[] for _ in images])
    line_h = font.size + 4
    caps = [max(len(x) for x in lines[r * cols:(r + 1) * cols]) * line_h + (8 if titles else 0)
            for r in range(rows)]
    tops = np.cumsum([gap] + [caps[r] + tile + gap for r in range(rows)])
    canvas = np.full((int(tops[-1]), cols * (tile + gap) + gap, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        h, w = img.shape[:2]
        s = tile / max(h, w)
        nh, nw = max(1, round(h * s)), max(1, round(w * s))
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_NEAREST if max(h, w) <= 64 else cv2.INTER_LINEAR
        small = cv2.resize(img, (nw, nh), interpolation=interp)
        y0 = int(tops[r])
        x0 = gap + c * (tile + gap)
        for j, line in enumerate(lines[i]):
            _text(canvas, line, (x0, y0 + 17 + j * line_h), 0.5)
        yy, xx = y0 + caps[r] + (tile - nh) // 2, x0 + (tile - nw) // 2
        canvas[yy:yy + nh, xx:xx + nw] = small
    return canvas


def wrap_text(text: str, width: float, measure: Callable[[str], float], max_lines: int = 3) -> list[str]:
    """``text`` broken at spaces into lines that ``measure`` fits in ``width``; at most ``max_lines``,
    the last one shortened with "…" (by :func:`fit_text`) when the text needs more. A word wider than a
    line is cut. Only the first 100 characters per line are considered (captions, not essays)."""
    words = text[:100 * max_lines].split()
    out: list[str] = []
    current = ""
    for k, word in enumerate(words):
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        current = word
        if len(out) == max_lines - 1:
            current = " ".join(words[k:])
            break
    if current:
        out.append(current)
    return [fit_text(line, width, measure) for line in out[:max_lines]] or [""]


def to_png_bytes(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans from matplotlib's own data (always installed): unlike OpenCV's Hershey fonts it
    draws →, ×, Δ, −, ², Greek letters and accents, which lesson captions need."""
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return ImageFont.truetype(str(path), size)


def put_text(img: np.ndarray, text: str, org: tuple[int, int], scale: float,
             color: tuple[int, int, int] = (30, 30, 30), thickness: int = 1) -> None:
    """``cv2.putText`` (Hershey simplex, anti-aliased) for ASCII, so English figures stay as they were;
    any other text (a Chinese label from :mod:`core.viz.words`) through Pillow in a font that has it."""
    if text.isascii():
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)
    else:
        _text(img, text, org, scale, tuple(int(c) for c in color))


def text_size(text: str, scale: float) -> tuple[tuple[int, int], int]:
    """``((width, height), baseline)`` of ``text`` as :func:`put_text` draws it (``cv2.getTextSize``'s
    answer for ASCII, the Pillow font's for anything else)."""
    if text.isascii():
        return cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    font = fonts.font_for(text, _font_size(scale))
    _, top, _, bottom = font.getbbox(text, anchor="ls")
    return (int(round(font.getlength(text))), int(-top)), int(max(bottom, 0))


def _font_size(scale: float) -> int:
    return max(8, round(scale * 28))


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float,
          color: tuple[int, int, int] = (30, 30, 30)) -> None:
    """Draw ``text`` in place with its baseline at ``org`` (like cv2.putText), via PIL."""
    font = fonts.font_for(text, _font_size(scale))  # DejaVu Sans, or the CJK subset for Chinese
    x, y = org
    top = max(0, y - font.size - 2)
    bottom = min(img.shape[0], y + font.size // 2 + 2)
    if bottom <= top:
        return
    region = Image.fromarray(img[top:bottom])
    ImageDraw.Draw(region).text((x, y - top), text, font=font, fill=color, anchor="ls")
    img[top:bottom] = np.asarray(region)


def _ink(color: Sequence[int]) -> tuple[int, int, int]:
    r, g, b = color[:3]
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _dashed_rect(img: np.ndarray, p1: tuple[int, int], p2: tuple[int, int], color: tuple[int, int, int],
                 thickness: int, dash: int = 6) -> None:
    (x1, y1), (x2, y2) = p1, p2
    for x in range(x1, x2, dash * 2):
        cv2.line(img, (x, y1), (min(x + dash, x2), y1), color, thickness)
        cv2.line(img, (x, y2), (min(x + dash, x2), y2), color, thickness)
    for y in range(y1, y2, dash * 2):
        cv2.line(img, (x1, y), (x1, min(y + dash, y2)), color, thickness)
        cv2.line(img, (x2, y), (x2, min(y + dash, y2)), color, thickness)


def _fit(text: str, width: int, scale: float = 0.5) -> str:
    """Shorten ``text`` with an ellipsis only if it does not fit ``width`` pixels at ``scale``."""
    font = fonts.font_for(text, _font_size(scale))
    return fit_text(text, width, font.getlength)


def fit_text(text: str, width: float, measure: Callable[[str], float]) -> str:
    """``text``, or its longest prefix plus "…", that ``measure`` (pixels) fits in ``width``.

    A binary search over the prefix length: about log2(len) measurements. (Trimming one character at a
    time and measuring again was quadratic: a 100 kB name held a worker for hours.) Nothing longer than
    ``width`` characters is measured: no printable glyph is narrower than a pixel.
    """
    if len(text) <= width and measure(text) <= width:
        return text
    low, high = 0, min(len(text), max(int(width), 0) + 1)  # the longest prefix that fits is in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if measure(text[:middle] + "…") <= width:
            low = middle
        else:
            high = middle
    return text[:low] + "…"
