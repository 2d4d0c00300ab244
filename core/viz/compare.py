"""Drawing for the compare lesson: one "model card" per classifier, detection tiles, and a sheet of them.

A card stacks, at one width, what a student compares across models: the heatmap on the model's own
input view, the top-k bars, and the cost line (parameters, multiply-adds, latency). Text is drawn
with Pillow's bundled scalable font (no system font needed, readable when projected); untrained
models get a red header that says so, because their predictions mean nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.viz import fonts, words
from core.viz.draw import colorize, fit_text
from core.viz.palette import BLUE, ORANGE, VERMILLION

INK = (30, 34, 44)
MUTED = (96, 104, 120)
HEADER = (49, 46, 129)  # indigo, the page's primary hue (chrome, not a category)
WARN = VERMILLION  # an untrained model's header; categories in Okabe–Ito (core.viz.palette)
BAR = BLUE
BAR_TOP = ORANGE
TRACK = (228, 231, 240)
SCALE_H = 28  # the colour scale under a card's heatmap


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (matplotlib's, always installed): Pillow's default font has no ×, ≈ or Greek, which
    the zoo's titles use ("ViT-Micro/16 (4 × 128)" drew an empty box)."""
    from core.viz.draw import _font

    return _font(size)


@dataclass
class Card:
    """What one classifier card shows (all strings already formatted by the lesson)."""

    title: str
    subtitle: str
    view: np.ndarray  # (S, S, 3) uint8: the heatmap over the model's input view
    heat_caption: str
    top: Sequence[tuple[str, float]]
    stats: Sequence[str] = field(default_factory=list)
    warning: bool = False
    scale: bool = False  # the view carries a heatmap: draw its colour scale under it


def face(text: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """:func:`font`, or the bundled CJK subset for a Chinese text (core.viz.words), which DejaVu lacks."""
    return fonts.pil_font(size, cjk=True) if fonts.has_cjk(text) else font(size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width`` pixels."""
    f = face(text, size)
    return fit_text(text, width, lambda t: draw.textlength(t, font=f))


def _write(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill: tuple[int, ...],
           **kwargs) -> None:
    """``draw.text`` in the face that has every character of ``text``."""
    draw.text(xy, text, font=face(text, size), fill=fill, **kwargs)


def render_card(card: Card, width: int = 300) -> np.ndarray:
    """One card as an RGB uint8 image of the given width."""
    pad = 10
    view = cv2.resize(card.view, (width, width), interpolation=cv2.INTER_LINEAR)
    rows = max(1, len(card.top))
    header_h, caption_h, row_h = 52, 40, 24
    scale_h = SCALE_H if card.scale else 0
    stats_h = 8 + 20 * len(card.stats)
    height = header_h + width + scale_h + caption_h + rows * row_h + 8 + stats_h + pad
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)

    draw.rectangle([0, 0, width, header_h], fill=WARN if card.warning else HEADER)
    _write(draw, (pad, 6), _fit(draw, card.title, 18, width - 2 * pad), 18, (255, 255, 255))
    _write(draw, (pad, 30), _fit(draw, card.subtitle, 13, width - 2 * pad), 13,
           (255, 236, 200) if card.warning else (214, 218, 255))
    img.paste(Image.fromarray(view), (0, header_h))
    if card.scale:  # the heatmap's colour scale: the map is relative, from none to the most evidence
        ramp = colorize(np.linspace(0.0, 1.0, width - 2 * pad)[None].repeat(8, 0), "jet", 0.0, 1.0)
        img.paste(Image.fromarray(ramp), (pad, header_h + width + 4))
        top = header_h + width + 13
        _write(draw, (pad, top), "0", 11, MUTED)
        _write(draw, (width // 2, top), words.say("heatmap, relative to its max"), 11, MUTED, anchor="ma")
        _write(draw, (width - pad, top), words.say("max"), 11, MUTED, anchor="ra")
    header_h += scale_h  # what follows moves down by the scale's height

    y = header_h + width + 4
    for line in card.heat_caption.split("\n")[:2]:
        _write(draw, (pad, y), _fit(draw, line, 12, width - 2 * pad), 12, MUTED)
        y += 17
    y = header_h + width + caption_h
    label_w = int(width * 0.52)
    bar_x0, bar_x1 = pad + label_w + 4, width - 52
    for i, (label, prob) in enumerate(card.top):
        yy = y + i * row_h
        label = words.say(label)  # ShapesWorld's class names in the page's language (ImageNet's stay English)
        _write(draw, (pad, yy + 3), _fit(draw, label, 14, label_w), 14, INK)
        draw.rounded_rectangle([bar_x0, yy + 5, bar_x1, yy + 18], radius=4, fill=TRACK)
        filled = bar_x0 + max(2.0, (bar_x1 - bar_x0) * float(np.clip(prob, 0, 1)))
        draw.rounded_rectangle([bar_x0, yy + 5, filled, yy + 18], radius=4, fill=BAR_TOP if i == 0 else BAR)
        draw.text((bar_x1 + 5, yy + 3), f"{100 * prob:.1f}%", font=font(13), fill=INK)
    y += rows * row_h + 8
    draw.line([pad, y - 4, width - pad, y - 4], fill=TRACK, width=1)
    for line in card.stats:
        _write(draw, (pad, y), _fit(draw, line, 14, width - 2 * pad), 14, INK)
        y += 20
    return np.asarray(img)


def message_tile(title: str, lines: Sequence[str], size: tuple[int, int] = (300, 300),
                 warning: bool = True) -> np.ndarray:
    """A labelled tile for something that cannot be shown (e.g. a detector whose weights are missing)."""
    w, h = size
    img = Image.new("RGB", (w, h), (246, 247, 251))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, w, 40], fill=WARN if warning else HEADER)
    _write(draw, (10, 10), _fit(draw, title, 17, w - 20), 17, (255, 255, 255))
    y = 56
    for line in lines:
        for chunk in _wrap(draw, line, 14, w - 20):
            _write(draw, (10, y), chunk, 14, INK)
            y += 19
        y += 6
    return np.asarray(img)


def titled(image: np.ndarray, title: str, subtitle: str = "", warning: bool = False,
           width: int | None = None) -> np.ndarray:
    """Put a header (title + small subtitle) above an image, scaled to ``width`` if given."""
    if width is not None and image.shape[1] != width:
        scale = width / image.shape[1]
        size = (width, max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    w = image.shape[1]
    head_h = 48 if subtitle else 30
    head = Image.new("RGB", (w, head_h), WARN if warning else HEADER)
    draw = ImageDraw.Draw(head)
    _write(draw, (8, 5), _fit(draw, title, 17, w - 16), 17, (255, 255, 255))
    if subtitle:
        _write(draw, (8, 27), _fit(draw, subtitle, 13, w - 16), 13, (214, 218, 255))
    return np.concatenate([np.asarray(head), image], axis=0)


def side_by_side(tiles: Sequence[np.ndarray], per_row: int = 4, gap: int = 12) -> np.ndarray:
    """Tiles left to right (top-aligned, white gaps), wrapping after ``per_row``."""
    if not tiles:
        raise ValueError("side_by_side needs at least one tile")
    rows = [tiles[i:i + per_row] for i in range(0, len(tiles), per_row)]
    tile_w = max(t.shape[1] for t in tiles)
    width = gap + per_row * (tile_w + gap) if len(tiles) > per_row else gap + sum(
        t.shape[1] + gap for t in tiles)
    blocks = []
    for row in rows:
        h = max(t.shape[0] for t in row)
        canvas = np.full((h + gap, width, 3), 255, np.uint8)
        x = gap
        for t in row:
            canvas[gap:gap + t.shape[0], x:x + t.shape[1]] = t
            x += t.shape[1] + gap
        blocks.append(canvas)
    return np.concatenate([*blocks, np.full((gap, width, 3), 255, np.uint8)], axis=0)


def _wrap(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> list[str]:
    if fonts.has_cjk(text):  # Chinese breaks between any two characters, not at spaces
        return _wrap_chars(draw, text, size, width)
    pieces, lines, line = text.split(), [], ""
    for word in pieces:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font(size)) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _wrap_chars(draw: ImageDraw.ImageDraw, text: str, size: int, width: int) -> list[str]:
    f = face(text, size)
    lines, line = [], ""
    for ch in text:
        if line and draw.textlength(line + ch, font=f) > width:
            lines.append(line.rstrip())
            line = ch.lstrip()
        else:
            line += ch
    return [*lines, line] if line else lines
