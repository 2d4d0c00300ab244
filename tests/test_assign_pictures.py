"""What the label-assignment page draws, read back from its pixels: anchor states, the SimOTA cost map's
direction (bright = cheap), the 'no positive anchor!' flag under the right GT, the threshold in the
detections strip, and the anchors counted per stride."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from core.viz import assign as V

IMAGE = np.full((64, 64, 3), 128, np.uint8)  # zoom 512 / 64 = 8
Z = V.DISPLAY / 64


def _near(px: np.ndarray, colour, tol: int = 6) -> bool:
    return int(np.abs(px.astype(int) - np.asarray(colour)).max()) <= tol


def test_anchor_states_are_coloured_by_box_and_centre_square():
    points = np.array([[12.0, 12.0], [20.0, 4.0], [44.0, 44.0], [60.0, 20.0]])
    strides = np.full(4, 8.0)
    res = SimpleNamespace(in_box=np.array([[True, True, False, False]]),
                          in_center=np.array([[True, False, True, False]]),
                          candidates=np.array([True, True, True, False]), center_radius=2.5)
    gt = np.array([[0.0, 0.0, 24.0, 24.0]])
    out = V.anchors_view(IMAGE, points, strides, res, gt, ["a"], np.array([0]))
    body = out[30:]  # under the panel's caption strip
    for (x, y), state in zip(points, ["both", "box", "centre", "neither"], strict=True):
        assert _near(body[round(y * Z), round(x * Z)], V.STATE_COLOURS[state]), state


def _shown_simota(costs):
    n = len(costs)
    return SimpleNamespace(method="SimOTA", metric=np.array([costs], float), penalty=1e5,
                           geometry_ok=np.ones((1, n), bool), fg_mask=np.zeros(n, bool),
                           matched_gt=np.full(n, -1), preset="yolox-main")


def test_simota_cost_map_is_bright_where_the_cost_is_low():
    points = np.array([[16.0, 40.0], [48.0, 40.0]])
    shown = _shown_simota([1.0, 10.0])
    out = V.metric_view(IMAGE, points, np.full(2, 8.0), shown, 0, np.array([[0.0, 0.0, 63.0, 30.0]]), ["a"],
                        np.array([0]))
    body = out[60:]  # the view's strip and the panel's strip
    cheap = body[round(40 * Z), round(16 * Z)].astype(int)
    dear = body[round(40 * Z), round(48 * Z)].astype(int)
    assert cheap.sum() > dear.sum() + 200  # viridis: yellow for the cheapest, dark purple for the dearest


def test_a_gt_without_positives_is_flagged_under_its_own_box():
    points = np.array([[12.0, 12.0], [48.0, 48.0]])
    res = SimpleNamespace(method="TAL", fg_mask=np.array([True, False]), matched_gt=np.array([0, -1]),
                          conflicts=None, positives_per_gt=lambda: np.array([1, 0]))
    gt = np.array([[0.0, 0.0, 24.0, 24.0], [36.0, 36.0, 60.0, 56.0]])
    out = V.positives_view(IMAGE, points, np.full(2, 8.0), res, gt, ["a", "b"], np.array([0, 1]))
    body = out[30:].astype(int)
    flag = np.all(np.abs(body - np.asarray(V.CONFLICT)) <= 4, axis=-1)
    below_first = flag[round(24 * Z) + 4: round(24 * Z) + 24, 0:150]
    below_second = flag[round(56 * Z) + 4: round(56 * Z) + 24, round(36 * Z): round(36 * Z) + 150]
    assert below_second.sum() > 200 and below_first.sum() == 0


def test_detections_strip_prints_the_threshold_to_two_decimals():
    dets = SimpleNamespace(boxes=np.zeros((0, 4)), labels=np.zeros(0, int), scores=np.zeros(0))
    gt = np.zeros((0, 4))
    a = V.detections_view(IMAGE, dets, ["a"], gt, np.zeros(0, int), 0.35)
    b = V.detections_view(IMAGE, dets, ["a"], gt, np.zeros(0, int), 0.30)
    assert not np.array_equal(a[: V.STRIP], b[: V.STRIP]) and np.array_equal(a[V.STRIP:], b[V.STRIP:])


def test_anchors_per_stride_add_up_to_all_anchors():
    from core.assign import run

    gt = json.dumps([{"box": [20, 20, 90, 90], "label": "circle"}])
    s = run(np.full((128, 128, 3), 100, np.uint8), weights="random", gt_boxes=gt).to_json()
    per = {int(k): v for k, v in s["anchors_per_stride"].items()}
    size = s["anchors"]
    assert sum(per.values()) == size
    assert per[8] == 4 * per[16] == 16 * per[32]  # a square input: (side / stride)² per level


def test_anchor_grid_of_a_size_not_divisible_by_the_strides_matches_a_conv_pyramid():
    """A stride-s level has as many cells as a pyramid of stride-2 convs (k 3, padding 1): ceil(side / s)."""
    import torch
    from torch import nn

    from core.assigners import anchor_grid

    points, strides = anchor_grid((100, 70))
    x = torch.zeros(1, 1, 100, 70)
    down = nn.Conv2d(1, 1, 3, stride=2, padding=1)
    for s in (2, 4, 8, 16, 32):
        x = down(x)
        if s >= 8:
            rows, cols = x.shape[-2:]
            level = points[strides == s]
            assert len(level) == rows * cols, s
            assert level[-1].tolist() == [(cols - 0.5) * s, (rows - 0.5) * s]
