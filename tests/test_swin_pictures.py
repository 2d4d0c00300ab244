"""What the Swin page's pictures show, read back from their pixels.

A photo whose top-left quadrant is white and the rest black makes every token's origin visible: the
rolled picture must show the white tokens where ``torch.roll(x, (−s, −s))`` puts them, the photo-space
window colouring must give each token the colour of the window it falls in after that roll, and the
yellow window lines must sit ``s`` tokens in from the edge. The clicked query's row of the index comes
from the definition of the index (Δy, Δx shifted by M − 1), not from the lesson's own lookup.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core import swin
from core.viz import draw
from core.viz.draw import PALETTE


def _quadrant_photo(side: int = 320) -> np.ndarray:
    img = np.zeros((side, side, 3), np.uint8)
    img[: side // 2, : side // 2] = 255
    return img


@pytest.fixture(scope="module")
def grey_run():
    return swin.run(np.full((300, 300, 3), 128, np.uint8), query_row=1, query_col=3)


@pytest.fixture(scope="module")
def quadrant_run():
    return swin.run(_quadrant_photo())


def _token_centre(img: np.ndarray, y: int, x: int, rows: int, cols: int) -> np.ndarray:
    ch, cw = img.shape[0] / rows, img.shape[1] / cols
    return img[int((y + 0.5) * ch), int((x + 0.5) * cw)].astype(int)


def _rolled_windows(h: int, w: int, m: int, s: int) -> np.ndarray:
    """Window index (row-major over the rolled map) of every token of the original frame, derived with
    the tested cyclic_shift and window_partition: roll a map of token numbers, cut it into windows."""
    numbers = torch.arange(h * w).reshape(1, h, w, 1)
    windows = swin.window_partition(swin.cyclic_shift(numbers, s), m).reshape(-1, m * m)
    out = np.empty(h * w, np.int64)
    for k, tokens in enumerate(windows.numpy()):
        out[tokens] = k
    return out.reshape(h, w)


def test_block_summary_counts_windows(grey_run):
    b = grey_run.summary["block"]
    assert b["shift"] == b["window"] // 2 > 0  # the default block shifts: the tests below need s > 0
    assert b["windows"] == len(np.ravel(b["masked_counts"])) == (b["height"] // b["window"]) ** 2


def test_photo_window_colour_is_the_window_after_the_roll(grey_run):
    """On a uniform grey photo each token's tint is 0.78·grey + 0.22·PALETTE[window]; the window is the
    one the token lands in after rolling by (−s, −s) — so the tokens of the first s rows and columns
    share the wrapping corner window, the last one (the most masked)."""
    b = grey_run.summary["block"]
    h, w, m, s = b["height"], b["width"], b["window"], b["shift"]
    img = grey_run.images["window_grid"]
    expected = _rolled_windows(h, w, m, s)
    assert expected[0, 0] == expected[-1, -1] == (h // m) * (w // m) - 1  # the corner window wraps
    assert np.ravel(b["masked_counts"])[expected[0, 0]] == max(np.ravel(b["masked_counts"]))
    for y in range(h):
        for x in range(w):
            tint = 0.78 * 128 + 0.22 * np.asarray(PALETTE[expected[y, x] % len(PALETTE)])
            got = _token_centre(img, y, x, h, w)
            assert np.abs(got - tint).max() <= 2, (y, x, got, tint)


def test_window_lines_sit_s_tokens_in(grey_run):
    """Yellow lines where the shifted windows start (token rows s, s + M, …), none at multiples of M."""
    b = grey_run.summary["block"]
    h, m, s = b["height"], b["window"], b["shift"]
    img = grey_run.images["window_grid"].astype(int)
    cell = img.shape[0] / h
    x = int(0.5 * cell)  # the middle of the first column of tokens
    for k in range(h):
        px = img[round(k * cell), x]
        yellow = px[0] > 200 and px[1] > 200 and px[2] < 90
        assert yellow == (k % m == s % m and k > 0), (k, px)


def test_rolled_photo_moves_up_left_by_s(quadrant_run):
    """The white quadrant (tokens 0…H/2−1) rolled by (−s, −s): its first s rows and columns wrap to the
    bottom and the right. Under the 45 % region tint a white token reads > 135 in every channel, a black
    one < 120."""
    b = quadrant_run.summary["block"]
    h, w, s = b["height"], b["width"], b["shift"]
    img = quadrant_run.images["shifted_regions"]
    cell = img.shape[0] / h

    def bright(y: int, x: int) -> bool:
        # 3 px in from the token's bottom-right corner: clear of the window lines and the region numbers
        px = img[int((y + 1) * cell) - 4, int((x + 1) * cell) - 4].astype(int)
        assert px.min() > 135 or px.max() < 120, (y, x, px)
        return bool(px.min() > 135)

    view_white = np.zeros((h, w), bool)
    view_white[: h // 2, : w // 2] = True
    rolled = np.roll(view_white, (-s, -s), axis=(0, 1))
    for y, x in [(h - 1, w - 1), (0, 0), (h // 2 - s - 1, w // 2 - s - 1), (h // 2 - s, w // 2 - s),
                 (h - 1, 0), (0, w - 1), (h // 2, w // 2), (h - s, w - s)]:
        assert bright(y, x) == rolled[y, x], (y, x)
    assert bright(h - 1, w - 1)  # the photo's top-left corner now sits at the bottom-right


def test_query_row_of_the_index_for_a_query_off_the_diagonal(grey_run):
    """Query (row 1, column 3): key (r, c) sits at Δ = (1 − r, 3 − c);
    index = (Δy + M − 1)(2M − 1) + Δx + M − 1."""
    m = grey_run.summary["block"]["window"]
    assert grey_run.summary["query"]["row"] == 1 and grey_run.summary["query"]["col"] == 3
    row = grey_run.summary["query"]["index_row"]
    expected = [(1 - r + m - 1) * (2 * m - 1) + (3 - c + m - 1) for r in range(m) for c in range(m)]
    assert row == expected


def test_the_query_cell_is_outlined_at_its_row_and_column():
    tile = np.full((40, 40, 3), 255, np.uint8)
    out = swin._mark_cell(tile, 0, 1, 2)  # row 0, column 1 of a 2×2 window: the top-right cell
    dark = out.min(-1) < 50
    assert dark[0, 20:].all() and dark[:20, 20].all() and dark[:20, 39].all()
    assert not dark[21:, :19].any() and not dark[25:, 25:35].any()



def _bar_labels(img: np.ndarray) -> np.ndarray:
    """The tick-label column of a figure that ends in add_colorbar, without pad_top's white band."""
    top = max(36, round(0.09 * img.shape[1]))
    return img[top:, -draw._BAR_LABELS:]


def _expected_labels(height: int, lo: float, hi: float, cmap: str) -> np.ndarray:
    return draw.add_colorbar(np.zeros((height, 1, 3), np.uint8), lo, hi, cmap, "bias")[:, -draw._BAR_LABELS:]


def test_bias_colour_bar_is_symmetric_about_zero(grey_run):
    """The learned biases are drawn on a scale from −max|B| to +max|B|, so 0 is the middle colour."""
    from core import zoo

    bias = swin.learned_bias(zoo.load_model("swin-tiny", "auto").model, 1, 2)
    v = float(np.abs(bias).max())
    assert -bias.min() != bias.max()  # the test needs a bias table whose extremes differ in size
    for key in ("bias_tables", "query_bias"):
        labels = _bar_labels(grey_run.images[key])
        assert np.array_equal(labels, _expected_labels(labels.shape[0], -v, v, "coolwarm")), key


def test_v2_maps_share_one_colour_scale(grey_run):
    """Both CPB maps are coloured on one scale from the smaller to the larger of their ranges: when the
    enlarged window goes lower, the trained window's minimum is not the darkest colour — its map shows
    the colour of its minimum on the shared scale and nowhere the scale's darkest colour."""
    v2 = grey_run.summary["v2"]
    lo = min(v2["bias_range_trained"][0], v2["bias_range_enlarged"][0])
    hi = max(v2["bias_range_trained"][1], v2["bias_range_enlarged"][1])
    assert v2["bias_range_trained"][0] > lo  # the enlarged window reaches lower
    img = grey_run.images["v2_bias"]
    top = max(36, round(0.09 * img.shape[1])) + 30  # pad_top, then the map's title
    left = img[top:top + 300, :300].reshape(-1, 3).astype(int)
    darkest = draw._colour_table("magma")[0].astype(int)
    own_min = draw.colorize(np.array([[v2["bias_range_trained"][0]]]), "magma", lo, hi)[0, 0].astype(int)
    assert not np.array_equal(own_min, darkest)
    assert (np.abs(left - own_min).max(-1) == 0).any()
    assert not (np.abs(left - darkest).max(-1) == 0).any()
