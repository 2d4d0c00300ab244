"""The one categorical palette of every LensLab picture: Okabe & Ito's colour-blind-safe colours.

Okabe, M. & Ito, K. (2008), *Color Universal Design*: eight colours that stay distinct for
deuteranopes, protanopes and tritanopes. Categories (classes, regions, GTs, series) take their colours
from :data:`CATEGORICAL` in this order; values (attention, cost, ERF…) keep the perceptually uniform
colour maps (viridis, inferno, magma, cividis) of :mod:`core.viz.draw`. Beyond nine categories colours
repeat, so every categorical picture also writes its labels or numbers (colour never carries meaning
alone).
"""

from __future__ import annotations

from collections.abc import Sequence

RGB = tuple[int, int, int]

BLACK: RGB = (0, 0, 0)
ORANGE: RGB = (230, 159, 0)
SKY: RGB = (86, 180, 233)  # "sky blue"
GREEN: RGB = (0, 158, 115)  # "bluish green"
YELLOW: RGB = (240, 228, 66)
BLUE: RGB = (0, 114, 178)
VERMILLION: RGB = (213, 94, 0)
PURPLE: RGB = (204, 121, 167)  # "reddish purple"
GREY: RGB = (153, 153, 153)  # the neutral commonly paired with the eight (not a category hue)
WHITE: RGB = (255, 255, 255)

#: Okabe & Ito's eight, in their paper's order
OKABE_ITO: tuple[RGB, ...] = (BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE)
#: the order categories take: the seven hues first (black reads badly on photos), then grey and black
CATEGORICAL: tuple[RGB, ...] = (ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE, GREY, BLACK)


def categorical(i: int) -> RGB:
    """The colour of category ``i`` (0-based), repeating after :data:`CATEGORICAL`."""
    return CATEGORICAL[int(i) % len(CATEGORICAL)]


def hex_colour(rgb: Sequence[int]) -> str:
    """``#rrggbb`` for matplotlib and plotly."""
    r, g, b = (int(v) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def is_colour_blind_safe(colours: Sequence[Sequence[int]]) -> bool:
    """True when every colour is one of Okabe–Ito's eight or the neutral grey/white."""
    allowed = {*OKABE_ITO, GREY, WHITE}
    return all(tuple(int(v) for v in c) in allowed for c in colours)
