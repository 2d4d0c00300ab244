"""The drawing helpers every lesson shares, and each lesson's own, read back from their pixels: colour
scales and their bars, grids and cell outlines at the right rows and columns, diverging colours that
put 0 at white, markers where the data says, clicks mapped back to photo pixels."""

from __future__ import annotations

import numpy as np
import pytest

from core.viz import attention_viz as av
from core.viz import draw
from core.viz import pointrend as vpr
from core.viz import receptive as vrf
from core.viz import repmlp_viz as vrm
from core.viz import repvgg as vrv
from core.viz import roi as vroi

# --------------------------------------------------------------------------------------------- #
# core.viz.draw


def test_colorize_maps_vmin_to_the_first_and_vmax_to_the_last_colour():
    table = draw._colour_table("viridis")
    out = draw.colorize(np.array([[5.0, 7.5, 10.0]]), "viridis", vmin=5.0, vmax=10.0)
    assert out[0].tolist() == table[[0, 128, 255]].tolist()  # 0.5 · 255 = 127.5 rounds to 128


def test_colour_bar_has_its_max_at_the_top_and_labels_in_place():
    img = np.zeros((200, 10, 3), np.uint8)
    bar = draw.add_colorbar(img, 0.0, 1.0, "viridis")
    x = 10 + draw._BAR_GAP + 5
    table = draw._colour_table("viridis")
    assert bar[0, x].tolist() == table[255].tolist() and bar[-1, x].tolist() == table[0].tolist()
    pad = slice(10 + draw.colorbar_extra() - draw._BAR_LABELS, None)

    def top(b):
        return b[:20, pad]

    def bottom(b):
        return b[-20:, pad]

    ranges = ((0.0, 1000.0), (7.0, 1000.0), (0.0, 9.0))
    a, b, c = (draw.add_colorbar(img, lo, hi, "viridis") for lo, hi in ranges)
    assert np.array_equal(top(a), top(b)) and not np.array_equal(bottom(a), bottom(b))  # max on top
    assert np.array_equal(bottom(a), bottom(c)) and not np.array_equal(top(a), top(c))  # min below


def test_overlay_blends_the_heatmap_at_alpha():
    black = np.zeros((20, 20, 3), np.uint8)
    out = draw.overlay_heatmap(black, np.zeros((4, 4)), alpha=0.8, cmap="jet")
    expected = np.rint(0.8 * draw._colour_table("jet")[0]).astype(int)
    assert np.abs(out[10, 10].astype(int) - expected).max() <= 1


def test_draw_grid_rows_follow_the_height():
    out = draw.draw_grid(np.zeros((100, 200, 3), np.uint8), rows=2, cols=1, alpha=1.0)
    assert out[50, 100].min() > 200 and out[100 - 1, 100].max() == 0 and out[25, 100].max() == 0


# --------------------------------------------------------------------------------------------- #
# core.viz.attention_viz


def test_lines_are_drawn_inside_not_on_the_picture_edge():
    out = av.draw_lines(np.zeros((40, 40, 3), np.uint8), 4, 4, color=(255, 255, 255))
    assert out[0, 3:8].max() == 0 and out[3:8, 0].max() == 0  # no line on the top or left edge
    assert out[10, 5].min() > 100 and out[5, 20].min() > 100


def test_cell_outline_at_row_and_column():
    out = av.draw_cell(np.zeros((40, 80, 3), np.uint8), row=0, col=3, rows=2, cols=4, color=(0, 255, 0),
                       thickness=1)
    green = (out[..., 1] > 150) & (out[..., 0] < 100)
    assert green[0:20, 60].any() and green[10, 60:80].any()
    assert not green[:, :55].any() and not green[25:, :].any()


def test_tint_blends_the_label_colour_at_alpha():
    out = av.tint_labels(np.zeros((10, 10, 3), np.uint8), np.array([[0, 1]]), alpha=0.45)
    for x, label in ((2, 0), (7, 1)):
        want = np.rint(0.45 * np.asarray(draw.PALETTE[label])).astype(int)
        assert np.abs(out[5, x].astype(int) - want).max() <= 1


# --------------------------------------------------------------------------------------------- #
# core.viz.pointrend


def test_point_coordinates_map_to_display_pixels_and_drop_padding():
    coords = np.array([[0.5, 0.5], [0.8, 0.25]])  # x, y on the padded 32×64 map; the image is 32×48
    px = vpr._to_pixels(coords, (32, 64), (32, 48), (64, 96))
    assert px.tolist() == [[64.0, 32.0]]  # x = 0.5·64 = 32 → ×2; the second point (x = 51.2) is padding


def test_label_grid_is_cropped_to_the_image():
    labels = np.zeros((8, 16), np.int64)
    assert vpr._crop_labels(labels, (32, 64), (24, 48)).shape == (6, 12)


def test_background_is_the_dark_slate_and_classes_follow_the_palette():
    colours = vpr.class_colors(3)
    assert colours.tolist() == [list(vpr.BACKGROUND), list(draw.PALETTE[0]), list(draw.PALETTE[1])]


def test_uncertainty_scale_ends_at_the_tie():
    """−(top1 − top2) ≤ 0: the colour scale runs from the most certain cell to 0 (a tie), so a map whose
    least certain cell is −1 shows it half-way, not at the brightest colour."""
    unc = np.array([[-2.0, -1.0]], np.float32)
    panel = vpr.uncertainty_panel(np.zeros((16, 32, 3), np.uint8), unc, (16, 32))
    disp = vpr._display_hw(16, 32)
    table = draw._colour_table("inferno")
    got = panel[disp[0] // 2, disp[1] * 3 // 4].astype(int)
    assert np.abs(got - np.rint(0.78 * table[128])).max() <= 2


# --------------------------------------------------------------------------------------------- #
# core.viz.roi and the RoI lesson's clicks


def test_view_maps_picture_pixels_back_to_input_below_its_title_band():
    view = vroi.View(10.0, 20.0, 2.0, 100, 100, top=30)
    assert view.to_input(40.0, 70.0) == (30.0, 40.0)
    u, v = view.to_px(30.0, 40.0)
    assert (float(u), float(v)) == (40.0, 70.0)


def test_click_to_photo_pixels_uses_each_axis_scale():
    from core.roi_lesson import photo_point

    summary = {"views": {"p": vroi.View(0.0, 0.0, 1.0, 50, 50).as_dict()}, "input": {"scale": [2.0, 4.0]}}
    assert photo_point(summary, "p", (10.0, 20.0)) == (5.0, 5.0)


def test_crop_view_covers_the_box_with_whole_cells():
    _, cells = vroi.crop_view((0.0, 0.0, 33.0, 17.0), 16, (10, 10), margin=0)
    assert cells == (0, 2, 0, 3)  # rows 0…1, columns 0…2: the box ends inside cell 2


def test_grey_cells_dark_is_low():
    view, cells = vroi.crop_view((0.0, 0.0, 32.0, 16.0), 16, (1, 2), margin=0)
    img = vroi.grey_cells(np.array([[0.0, 1.0]]), view, 16, cells)
    assert img[2, 2, 0] == 40 and img[2, -3, 0] == 225


def test_value_numbers_are_dark_on_bright_cells():
    tile = vroi.value_tile(np.array([[0.0, 1.0]]), cell=48, vmin=0.0, vmax=1.0)
    dark_cell, bright_cell = tile[:, :47].astype(int), tile[:, 49:].astype(int)
    assert (dark_cell.min(-1) > 200).any() and not (dark_cell.max(-1) < 40).any()
    assert (bright_cell.max(-1) < 60).any()


# --------------------------------------------------------------------------------------------- #
# core.viz.repvgg


def test_diverging_colours_put_zero_at_white():
    out = vrv.diverging(np.array([-2.0, 0.0, 2.0]), 2.0).astype(int)
    assert out[0].tolist() == list(vrv.BLUE) and out[2].tolist() == list(vrv.VERMILLION)
    assert np.abs(out[1] - np.asarray(vrv.WHITE)).max() <= 1  # the 256-step ramp has no exact 0: 1/255 off


def test_diverging_bar_bottom_tick_is_minus_vmax():
    h, width = 200, 18
    plus, minus = vrv.diverging_bar(h, 1.0, width), vrv.diverging_bar(h, -1.0, width)
    cols = slice(width + 2, None)
    # "-1" at the bottom of the +1 bar is the same text as at the top of the −1 bar (its top tick)
    assert np.array_equal(plus[h - 4 - 12: h - 4 + 3, cols], minus[12 - 12: 12 + 3, cols])


def test_kernel_numbers_keep_three_significant_digits():
    assert vrv._num(0.04213) == "0.0421" and vrv._num(-0.3149) == "−0.315" and vrv._num(0.0) == "0"


# --------------------------------------------------------------------------------------------- #
# core.viz.repmlp_viz


def test_signed_colours_zero_is_white_plus_red_minus_blue():
    out = vrm.signed_colors(np.array([0.0, 1.0, -1.0])).astype(int)
    assert out[0].min() > 240
    assert out[1, 0] > out[1, 2] + 50 and out[2, 2] > out[2, 0] + 50


def test_partition_lines_at_multiples_of_the_partition():
    strip = vrm.map_strip(np.zeros((1, 4, 4)), ["a"], (2, 2), tile=40, cmap="viridis", vmin=0.0, vmax=1.0)
    body = strip[22:]  # below the name strip; scale 10 px per map pixel
    assert body[20, 5].min() == 255 and body[5, 20].min() == 255
    assert body[10, 5].max() < 255 and body[30, 5].max() < 255


def test_locality_box_and_pixel_marker_land_on_their_cells():
    values = np.zeros((5, 5))
    img = vrm.locality_image(values, (1, 2, 1, 2), (0, 3), "t", cell=34)
    body = img[26:]
    cyan = (body[..., 0] < 60) & (body[..., 1] > 180) & (body[..., 2] > 220)
    assert cyan[51, 3 * 34 - 1] or cyan[51, 3 * 34 - 2]  # the box's right edge: end of column 2
    assert not cyan[51, 2 * 34 + 10]
    white = body.min(-1) > 240
    assert white[4, 3 * 34 + 10] and not white[3 * 34 + 10, 4]  # the marker: row 0, column 3


def test_signed_strip_colour_bar_is_symmetric():
    """A signed strip of values in [−1, 3] gets the bar of [−3, 3], as a strip of [−3, 3] does."""
    a = vrm.map_strip(np.array([[[-1.0, 3.0]]]), ["a"], (1, 1), tile=40, signed=True, colorbar="w")
    b = vrm.map_strip(np.array([[[-3.0, 3.0]]]), ["a"], (1, 1), tile=40, signed=True, colorbar="w")
    c = vrm.map_strip(np.array([[[-1.0, 2.0]]]), ["a"], (1, 1), tile=40, signed=True, colorbar="w")
    labels = slice(-draw._BAR_LABELS, None)
    assert a.shape == b.shape and np.array_equal(a[:, labels], b[:, labels])
    assert not np.array_equal(a[:, labels], c[:, labels])


# --------------------------------------------------------------------------------------------- #
# core.viz.receptive


def test_log_view_clips_at_the_bars_decades():
    erf = np.array([[0.0, 1e-9, 1.0]])
    assert vrf.erf_values(erf, "log").tolist() == [[-vrf.LOG_DECADES, -vrf.LOG_DECADES, 0.0]]
    assert vrf.erf_values(erf, "linear").tolist() == [[0.0, 1e-9, 1.0]]


def test_blocks_share_of_the_input():
    assert vrf._frac(112, 224) == 0.5 and np.isnan(vrf._frac(float("inf"), 224))
    assert np.isnan(vrf._frac(None, 224))


@pytest.mark.parametrize("n", [1, 3])
def test_compare_cards_wrap_after_four(n):
    from core.viz.compare import side_by_side

    out = side_by_side([np.zeros((10, 10, 3), np.uint8)] * (4 * n), gap=2)
    assert out.shape[0] == n * 12 + 2


def _inference(height: int, width: int, changed: tuple[int, int]):
    from types import SimpleNamespace

    import torch

    before = np.zeros((height, width), np.int64)
    after = before.copy()
    after[changed] = 1
    coords = torch.tensor([[[0.5 / width, 0.5 / height]]])  # the centre of cell (0, 0)
    step = SimpleNamespace(height=height, width=width, coords=coords, num_points=8)
    return SimpleNamespace(image=np.zeros((32, 64, 3), np.uint8), coarse=torch.zeros(1, 3, 4, 8),
                           padded_hw=(32, 64), steps=[step], step_labels=[(before, after)])


def test_step_panel_marks_each_changed_cell_at_its_centre():
    inf = _inference(8, 16, (2, 5))
    panel = vpr.step_panel(inf, 0)
    half = vpr._display_hw(32, 64, long_side=vpr.DISPLAY - 40)
    right = panel[36:, half[1] + 10:]  # under the title bar, right of the gap
    cy, cx = (2 + 0.5) * half[0] / 8, (5 + 0.5) * half[1] / 16
    assert _near_colour(right[round(cy), round(cx)], vpr.CHANGED_YELLOW)
    assert not _near_colour(right[round(cy - 0.5 * half[0] / 8) + 1, round(cx - 0.5 * half[1] / 16) + 1],
                            vpr.CHANGED_YELLOW)


def test_step_panel_title_gives_the_share_of_points():
    inf = _inference(8, 16, (2, 5))
    panel = vpr.step_panel(inf, 0)
    half = vpr._display_hw(32, 64, long_side=vpr.DISPLAY - 40)
    want = vpr.title_bar("2x bilinear to 8x16 + 8 most uncertain (6.25%)", half[1], scale=0.5)
    assert np.array_equal(panel[:36, : half[1]], want)  # 8 of 8·16 = 128 cells


def _near_colour(px: np.ndarray, colour, tol: int = 8) -> bool:
    return int(np.abs(px.astype(int) - np.asarray(colour)).max()) <= tol
