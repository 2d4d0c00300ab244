"""Rendering helpers shared by every lesson: fast OpenCV overlays, grids, colour bars, montages.

Images in and out are RGB ``uint8`` numpy arrays. Heavy interactivity (plotly) is left to the
lessons for small matrices; everything drawn on photos is done here with OpenCV at image
resolution, because it is fast and identical in every front end.
"""

from core.viz.draw import (
    PALETTE,
    add_colorbar,
    colorize,
    draw_boxes,
    draw_grid,
    draw_points,
    label_strip,
    montage,
    overlay_heatmap,
    to_png_bytes,
    upscale_nearest,
)

__all__ = [
    "PALETTE",
    "add_colorbar",
    "colorize",
    "draw_boxes",
    "draw_grid",
    "draw_points",
    "label_strip",
    "montage",
    "overlay_heatmap",
    "to_png_bytes",
    "upscale_nearest",
]
