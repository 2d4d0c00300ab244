"""Drawing primitives: the fast paths draw what the straightforward recipes draw.

The overlays are drawn on every lesson call, so they take shortcuts (colour the token grid before
blowing it up, blend only the pixels a grid of lines touches, build the colour bar once). Each test
here compares a shortcut with the plain OpenCV recipe it replaces.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.lesson import LazyFigures
from core.viz.attention_viz import draw_lines
from core.viz.draw import add_colorbar, colorbar_extra, colorize, overlay_heatmap


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (224, 200, 3), dtype=np.uint8)


def _reference_overlay(image, heat, alpha, cmap, smooth, vmin=None, vmax=None):
    h, w = image.shape[:2]
    interp = cv2.INTER_LINEAR if smooth else cv2.INTER_NEAREST
    big = cv2.resize(np.asarray(heat, np.float32), (w, h), interpolation=interp)
    return cv2.addWeighted(image, 1.0 - alpha, colorize(big, cmap, vmin, vmax), alpha, 0.0)


@pytest.mark.parametrize("smooth", [False, True])
@pytest.mark.parametrize("limits", [(None, None), (0.1, 0.6)])
def test_overlay_equals_colouring_the_blown_up_map(photo, smooth, limits):
    heat = np.random.default_rng(1).random((7, 9))
    got = overlay_heatmap(photo, heat, alpha=0.6, cmap="inferno", smooth=smooth, vmin=limits[0],
                          vmax=limits[1])
    np.testing.assert_array_equal(got, _reference_overlay(photo, heat, 0.6, "inferno", smooth, *limits))


def _reference_lines(image, rows, cols, offset=(0, 0), color=(255, 255, 255), thickness=1, alpha=1.0,
                     cells=None):
    """The recipe draw_lines replaces: draw the lines on a copy, blend the whole copy."""
    layer = image.copy()
    h, w = image.shape[:2]
    (step_r, step_c), (oy, ox) = cells or (1, 1), offset
    for k in range(-1, rows // step_r + 2):
        if 0 < oy + k * step_r < rows:
            y = round((oy + k * step_r) * h / rows)
            cv2.line(layer, (0, y), (w - 1, y), color, thickness, cv2.LINE_AA)
    for k in range(-1, cols // step_c + 2):
        if 0 < ox + k * step_c < cols:
            x = round((ox + k * step_c) * w / cols)
            cv2.line(layer, (x, 0), (x, h - 1), color, thickness, cv2.LINE_AA)
    return cv2.addWeighted(layer, alpha, image, 1.0 - alpha, 0.0)


@pytest.mark.parametrize("kwargs", [
    dict(rows=8, cols=8, alpha=0.18),
    dict(rows=16, cols=16, offset=(2, 2), cells=(4, 4), color=(255, 255, 0), thickness=2, alpha=0.8),
    dict(rows=14, cols=14, color=(20, 20, 20), thickness=3, cells=(7, 7)),
])
def test_lines_blend_only_where_the_reference_draws(photo, kwargs):
    got = draw_lines(photo, **kwargs)
    want = _reference_lines(photo, **kwargs)
    diff = np.abs(got.astype(int) - want.astype(int))
    # the same pixels touched, each within rounding of the anti-aliased reference
    assert diff.max() <= 2 and (diff > 1).mean() < 1e-3
    touched = (want != photo).any(-1)
    assert (got != photo).any(-1)[~touched].sum() == 0
    assert touched.sum() > photo.shape[0] * 2  # lines were drawn at all
    assert got is not photo and not np.shares_memory(got, photo)


def test_line_grid_respects_the_shift_and_leaves_the_input_alone(photo):
    before = photo.copy()
    shifted = draw_lines(photo, 8, 8, offset=(2, 2), cells=(4, 4), color=(255, 0, 0), thickness=1)
    np.testing.assert_array_equal(photo, before)
    # windows start at grid rows 2 and 6: lines at y = 2·224/8 = 56 and 6·224/8 = 168, none at 112
    red = (shifted[:, 100, 0] > 200) & (shifted[:, 100, 1] < 80)
    assert red[56] and red[168] and not red[112]


def test_colorbar_ramp_is_shared_but_never_written_through(photo):
    a = add_colorbar(photo, 0.0, 1.0, "inferno", "weight")
    b = add_colorbar(photo, 0.5, 2.0, "viridis")
    assert a.shape == (photo.shape[0], photo.shape[1] + colorbar_extra(), 3)
    bar = slice(photo.shape[1] + 6, photo.shape[1] + 6 + 22)
    np.testing.assert_array_equal(a[:, bar], colorize(np.linspace(1, 0, photo.shape[0])[:, None]
                                                      .repeat(22, 1), "inferno", 0.0, 1.0))
    a[:, bar] = 0  # the result is the caller's own array
    np.testing.assert_array_equal(add_colorbar(photo, 0.0, 1.0, "inferno", "weight")[:, bar][0, 0],
                                  colorize(np.ones((1, 1)), "inferno", 0.0, 1.0)[0, 0])
    assert not np.array_equal(a[:, bar], b[:, bar])


def test_lazy_figures_build_each_figure_once_and_only_when_read():
    calls = []

    def build(name):
        def make():
            calls.append(name)
            return {"figure": name}
        return make

    figures = LazyFigures(entropy=build("entropy"), heads=build("heads"))
    assert calls == [] and len(figures) == 2 and list(figures) == ["entropy", "heads"]
    assert figures["entropy"] == {"figure": "entropy"} and figures["entropy"] is figures["entropy"]
    assert calls == ["entropy"]
    assert dict(figures.items()) == {"entropy": {"figure": "entropy"}, "heads": {"figure": "heads"}}
    assert calls == ["entropy", "heads"]
    assert "entropy" in figures and "missing" not in figures
    with pytest.raises(KeyError):
        figures["missing"]
