"""RoI operators: core.roi against torchvision's ops, the lesson's values and pictures, the endpoint.

Exactness: every value the lesson shows is recomputed here with ``torchvision.ops.roi_pool``,
``roi_align`` (both ``aligned`` settings, sampling ratios −1 … 3 incl. adaptive), ``ps_roi_pool`` and
``ps_roi_align`` on random maps and boxes — on the border, outside the map and smaller than a cell —
and must agree to 1e-6; the FPN level must equal torchvision's ``LevelMapper``. Pictures are checked
pixel by pixel where the geometry says something is drawn.
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest
import torch
import torchvision.ops as ops
from torch import nn
from torchvision.ops.poolers import LevelMapper

from core import roi
from core import roi_lesson as lesson
from core.viz import roi as draw

SCALES = (1 / 16, 1 / 32, 1 / 8, 0.5, 1.0)


def _cases(n: int, seed: int = 0):
    """Random maps and boxes: boxes smaller than one cell, arbitrary ones (also past the border), and the
    whole map; float32 and float64; several output sizes and scales."""
    rng = np.random.default_rng(seed)
    for t in range(n):
        h, w = (int(v) for v in rng.integers(1, 20, 2))
        dtype = (torch.float32, torch.float64)[t % 2]
        scale = SCALES[t % len(SCALES)]
        x0, y0 = rng.uniform(-20, w / scale + 10), rng.uniform(-20, h / scale + 10)
        kind = t % 3
        if kind == 0:
            bw, bh = rng.uniform(0, 0.9 / scale, 2)  # smaller than one cell
        elif kind == 1:
            bw, bh = rng.uniform(0, w / scale), rng.uniform(0, h / scale)
        else:
            x0, y0, bw, bh = 0.0, 0.0, w / scale, h / scale  # the whole map: every border
        box = np.array([x0, y0, x0 + bw, y0 + bh])
        k = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        yield h, w, dtype, scale, box, k


def _rois(box: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor([[0.0, *box.tolist()]], dtype=dtype)


def test_roi_pool_values_and_argmax_equal_torchvision():
    for h, w, dtype, scale, box, k in _cases(90):
        f = torch.randn(1, 5, h, w, dtype=dtype)
        ref = ops.roi_pool(f, _rois(box, dtype), k, scale)[0].numpy()
        ours, arg = roi.roi_pool(f[0].numpy(), box, k, scale)
        assert np.abs(ours - ref).max() <= 1e-6, (box, k, scale)
        ok = arg[..., 0] >= 0  # every non-empty bin's maximum is the value at its argmax cell
        c = np.broadcast_to(np.arange(5)[:, None, None], ok.shape)
        assert np.array_equal(f[0].numpy()[c[ok], arg[..., 0][ok], arg[..., 1][ok]], ours[ok])


def test_roi_pool_bins_oracle_and_c_rounding():
    # box 100×60 px at stride 16: corners round to cells 0 … 6 and 0 … 4, the end is inclusive: 7×5 cells
    bins = roi.roi_pool_bins([0, 0, 100, 60], 3, 1 / 16, (50, 50))
    assert bins[0, :, 2:].tolist() == [[0, 3], [2, 5], [4, 7]]  # 7/3 = 2.33: ⌊0⌋,⌈2.33⌉ … overlapping
    assert bins[:, 0, :2].tolist() == [[0, 2], [1, 4], [3, 5]]  # 5/3 = 1.67
    # torch tensors work as well as arrays (and give arrays)
    assert np.array_equal(roi.roi_pool_bins(torch.tensor([0.0, 0, 100, 60]), 3, 1 / 16, (50, 50)), bins)
    # 40/16 = 2.5 rounds away from zero (C's round) to 3, not to the even 2 (numpy's round)
    assert roi.roi_pool_bins([40, 40, 90, 90], 1, 1 / 16, (20, 20))[0, 0].tolist() == [3, 7, 3, 7]
    f = torch.zeros(1, 1, 20, 20)
    f[0, 0, 2, 2] = 5.0  # only cell (2, 2) is positive: it is outside the rounded box
    assert ops.roi_pool(f, torch.tensor([[0.0, 40, 40, 90, 90]]), 1, 1 / 16).item() == 0.0
    # boxes past the map are clamped; a bin left with no cell gives 0
    bins = roi.roi_pool_bins([-100, -100, -60, -60], 2, 1 / 16, (10, 10))
    assert (bins[..., 1] <= bins[..., 0]).all()
    assert np.all(roi.roi_pool(np.ones((1, 10, 10), np.float32), [-100, -100, -60, -60], 2, 1 / 16)[0] == 0)


@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_values_equal_torchvision(aligned):
    for h, w, dtype, scale, box, k in _cases(60, seed=1):
        f = torch.randn(1, 4, h, w, dtype=dtype)
        for ratio in (-1, 0, 1, 2, 3):
            ref = ops.roi_align(f, _rois(box, dtype), k, scale, ratio, aligned)[0].numpy()
            ours = roi.roi_align(f[0].numpy(), box, k, scale, ratio, aligned)
            assert np.abs(ours - ref).max() <= 1e-6, (box, k, scale, ratio)


@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_points_are_where_torchvision_samples(aligned):
    """On the maps f(r, c) = c and f(r, c) = r bilinear reads are exact, so a 1-sample-per-bin RoIAlign
    returns each sample's coordinates: they must be ours (inside the map, where no clamping applies)."""
    h, w = 12, 15
    cols = torch.arange(w, dtype=torch.float64).expand(h, w)
    rows = torch.arange(h, dtype=torch.float64)[:, None].expand(h, w)
    f = torch.stack([cols, rows])[None].contiguous()
    rng = np.random.default_rng(2)
    for _ in range(40):
        x0, y0 = rng.uniform(0, 8 * 16, 2)
        box = np.array([x0, y0, x0 + rng.uniform(1, 90), y0 + rng.uniform(1, 60)])
        k = int(rng.integers(1, 6))
        ref = ops.roi_align(f, _rois(box, torch.float64), k, 1 / 16, 1, aligned)[0].numpy()
        pts = roi.roi_align_points(box, k, 1 / 16, 1, aligned, np.float64)[:, :, 0, 0]
        inside = (pts[..., 1] >= 0) & (pts[..., 1] <= w - 1) & (pts[..., 0] >= 0) & (pts[..., 0] <= h - 1)
        assert np.allclose(ref[0][inside], pts[..., 1][inside], atol=1e-9)
        assert np.allclose(ref[1][inside], pts[..., 0][inside], atol=1e-9)
    # the adaptive grid is ⌈bin size⌉ per axis: a 5.5 × 2.2-cell box in 2×2 bins → 3 × 2 samples
    assert roi.roi_align_points([0, 0, 2.2 * 16, 5.5 * 16], 2, 1 / 16, 0, True).shape == (2, 2, 3, 2, 2)


def test_bilinear_taps_follow_torchvision_borders():
    rows, cols, wts = roi.bilinear_taps(np.array([[2.25, 3.5], [-0.5, -0.5], [-1.5, 2.0], [9.7, 4.0]]),
                                        (10, 6))
    assert np.allclose(wts[0], [0.75 * 0.5, 0.75 * 0.5, 0.25 * 0.5, 0.25 * 0.5])
    assert rows[0].tolist() == [2, 2, 3, 3] and cols[0].tolist() == [3, 4, 3, 4]
    assert np.allclose(wts[1], [1, 0, 0, 0]) and rows[1, 0] == 0 and cols[1, 0] == 0  # clamped to 0
    assert np.all(wts[2] == 0)  # more than one cell outside: reads nothing
    assert rows[3].tolist() == [9, 9, 9, 9] and np.isclose(wts[3].sum(), 1)  # past the last row


def test_ps_roi_pool_and_align_equal_torchvision():
    for h, w, dtype, scale, box, k in _cases(60, seed=3):
        kk = (k[0], k[0])
        f = torch.randn(1, 2 * kk[0] * kk[1], h, w, dtype=dtype)
        ref = ops.ps_roi_pool(f, _rois(box, dtype), kk, scale)[0].numpy()
        assert np.abs(roi.ps_roi_pool(f[0].numpy(), box, kk, scale) - ref).max() <= 1e-6, (box, kk)
        for ratio in (-1, 0, 2):
            ref = ops.ps_roi_align(f, _rois(box, dtype), kk, scale, ratio)[0].numpy()
            ours = roi.ps_roi_align(f[0].numpy(), box, kk, scale, ratio)
            both_nan = np.isnan(ref) & np.isnan(ours)  # a zero-size box with an adaptive grid: 0/0 in both
            assert np.abs(np.where(both_nan, 0, ours - ref)).max() <= 1e-6, (box, kk, ratio)
    assert roi.ps_channels(2, 3)[1].tolist() == [[9, 10, 11], [12, 13, 14], [15, 16, 17]]


def test_ps_roi_pool_never_reads_the_last_row_and_column():
    """torchvision clamps PS-RoIPool's bins to H − 1 and W − 1 (RoIPool clamps to H and W)."""
    f = torch.zeros(1, 4, 6, 6)
    f[:, :, -1, :] = 1e6
    f[:, :, :, -1] = 1e6
    rois = torch.tensor([[0.0, 0, 0, 96, 96]])  # the whole 6×6 map at stride 16
    assert ops.ps_roi_pool(f, rois, 2, 1 / 16).abs().max() == 0
    assert ops.roi_pool(f[:, :1], rois, 2, 1 / 16).max() == 1e6
    bins = roi.ps_roi_pool_bins([0, 0, 96, 96], 2, 1 / 16, (6, 6))
    assert bins[..., 1].max() == 5 and bins[..., 3].max() == 5


def test_fpn_level_equals_torchvision_level_mapper():
    rng = np.random.default_rng(4)
    sides = [1, 27.9, 56, 111.99, 112, 112.01, 224, 447.9, 448, 896, 2000]
    boxes = [[10, 10, 10 + s, 10 + s] for s in sides]
    wh = rng.uniform(1, 1200, (300, 2))
    xy = rng.uniform(0, 800, (300, 2))
    boxes += np.concatenate([xy, xy + wh], 1).tolist()
    b = torch.tensor(boxes, dtype=torch.float32)
    for k_min, k_max in ((2, 5), (3, 6)):
        mapper = LevelMapper(k_min, k_max)
        assert np.array_equal(roi.fpn_level(b, k_min, k_max), mapper([b]).numpy() + k_min)
    assert roi.fpn_level(b[:11]).tolist() == [2, 2, 2, 2, 3, 3, 4, 4, 5, 5, 5]


def test_misalignment_under_both_pixel_models():
    box = [32.0, 48.0, 144.0, 160.0]  # 112 × 112 px: a 28×28 mask has 4-px cells
    half = roi.misalignment(box, 7, 16, 2, (40, 40))
    assert half["roi_align_aligned_true"]["px"] < 1e-4  # exact in the half-pixel model
    assert abs(half["roi_align_aligned_false"]["px"] - 8.0) < 1e-4  # half a cell off
    assert abs(half["roi_align_aligned_false"]["mask_cells"] - 2.0) < 1e-4
    # the corners are on cell edges (2, 3 … 9, 10): the inclusive end still pools one more cell (16 px)
    assert half["roi_pool_box_snap"]["px"] == pytest.approx(16.0)
    resnet = roi.misalignment(box, 7, 16, 2, (40, 40), centre=(0.5, 0.5))
    assert resnet["roi_align_aligned_false"]["px"] == pytest.approx(0.5, abs=1e-4)
    assert resnet["roi_align_aligned_true"]["px"] == pytest.approx(7.5, abs=1e-4)


def test_ps_roi_pool_misalignment_uses_r_fcn_k_not_the_roi_pool_k():
    box, fs = [37.3, 51.9, 201.4, 170.2], (40, 40)
    both = roi.misalignment(box, 7, 16, 2, fs, ps_size=3)
    assert both["ps_roi_pool"] == roi.misalignment(box, 3, 16, 2, fs)["ps_roi_pool"]
    assert both["roi_pool"] == roi.misalignment(box, 7, 16, 2, fs)["roi_pool"]
    assert both["ps_roi_pool"] != roi.misalignment(box, 7, 16, 2, fs)["ps_roi_pool"]  # k matters here


class _Strided(nn.Module):
    """A minimal timm-like backbone with known geometry (feature_info + forward_intermediates)."""

    def __init__(self, layers: list[nn.Module], strides: list[int]):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.feature_info = [{"reduction": s, "module": f"layers.{i}"} for i, s in enumerate(strides)]

    def forward_intermediates(self, x, indices, intermediates_only=True, stop_early=True):
        out = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in indices:
                out.append(x)
        return out


def test_cell_centre_measures_the_padding():
    torch.manual_seed(0)
    area = _Strided([nn.AvgPool2d(16)], [16])  # cell c = mean of pixels [16c, 16c + 16): centre 16c + 8
    assert roi.cell_centre(area, 16, (200, 300), min_length=256) == {"x": 8.0, "y": 8.0, "field": [16, 16]}
    convs = [nn.Sequential(nn.Conv2d(3 if i == 0 else 4, 4, 3, 2, 1), nn.ReLU()) for i in range(4)]
    padded = _Strided([nn.Sequential(*convs)], [16])  # symmetric padding: centred on pixel 16c
    centre = roi.cell_centre(padded, 16, (256, 256), min_length=256)
    assert centre["x"] == 0.5 and centre["y"] == 0.5 and centre["field"] == [31, 31]


def test_cell_centre_of_the_zoo_backbones():
    from core import zoo

    shapes = zoo.load_model("resnet-shapes", "embedded").model
    assert roi.cell_centre(shapes, 16, (341, 512))["x"] == 0.5
    if "efficientnet-lite0" in zoo.list_models():  # TF "same" padding: depends on the size's parity
        lite = zoo.load_model("efficientnet-lite0", "auto").model
        centre = roi.cell_centre(lite, 16, (341, 512))
        assert (centre["x"], centre["y"]) == (15.5, 4.5)


# --------------------------------------------------------------------------------------------- #
# the lesson


@pytest.fixture(scope="module")
def result(cat):
    return lesson.run(cat, box="131,79,211,151")


def test_every_value_shown_equals_torchvision(result, cat):
    s = result.summary
    loaded = __import__("core.zoo", fromlist=["zoo"]).load_model("resnet50", "auto")
    net, feats, energy = lesson.backbone_features(loaded, cat, 512)
    assert sorted(feats) == [16, 32] and sorted(energy) == [4, 8, 16, 32]
    stride, ch, k = s["feature"]["stride"], s["feature"]["channel"], 7
    f = torch.from_numpy(feats[stride])[None]
    rois = torch.tensor([[0.0, *s["box"]["input"]]], dtype=torch.float32)
    pool = ops.roi_pool(f, rois, k, 1 / stride)[0, ch].numpy()
    assert np.abs(np.array(s["roi_pool"]["values"]) - pool).max() <= 1e-6
    align = ops.roi_align(f, rois, k, 1 / stride, 2, True)[0, ch].numpy()
    assert np.abs(np.array(s["roi_align"]["values"]) - align).max() <= 1e-6
    other = ops.roi_align(f, rois, k, 1 / stride, 2, False)[0, ch].numpy()
    assert np.abs(np.array(s["roi_align"]["values_other"]) - other).max() <= 1e-6
    kp, pc = s["ps"]["k"], s["ps"]["class"]
    c_out = s["ps"]["channels_out"]
    maps = f[:, : c_out * kp * kp]
    ps_align = ops.ps_roi_align(maps, rois, kp, 1 / stride, 2)[0, pc].numpy()
    ps_pool = ops.ps_roi_pool(maps, rois, kp, 1 / stride)[0, pc].numpy()
    assert np.abs(np.array(s["ps"]["align"]) - ps_align).max() <= 1e-6
    assert np.abs(np.array(s["ps"]["pool"]) - ps_pool).max() <= 1e-6
    assert s["ps"]["vote"] == pytest.approx(float(ps_align.mean()), abs=1e-6)
    assert s["ps"]["channels"] == (pc * kp * kp + np.arange(kp * kp)).reshape(kp, kp).tolist()
    assert max(s["torchvision_max_abs_difference"].values()) <= 1e-6
    # the probed sample: its value is torchvision's bilinear read there (a 1-sample RoIAlign centred on it)
    probe = s["roi_align"]["probe"]
    y, x = probe["point_yx"]
    cx, cy, d = (x + 0.5) * stride, (y + 0.5) * stride, 1e-3
    one = ops.roi_align(f[:, ch: ch + 1], torch.tensor([[0.0, cx - d, cy - d, cx + d, cy + d]]), 1,
                        1 / stride, 1, True).item()
    assert probe["value"] == pytest.approx(one, abs=1e-4)
    assert sum(probe["weights"]) == pytest.approx(1.0, abs=1e-6)
    # the level is torchvision's for the box in network-input pixels
    mapper = LevelMapper(2, 5)
    assert s["fpn"]["level"] == int(mapper([torch.tensor([s["box"]["input"]])]).item()) + 2


def test_run_summary_and_defaults(result, cat):
    s = result.summary
    assert list(result.images) == ["overview", "roi_pool", "roi_align", "bilinear", "aligned", "ps_bins",
                                   "ps_maps", "fpn", "misalignment"]
    for img in result.images.values():
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert s["model"]["source"] in ("hub", "package", "embedded")
    assert s["box"]["photo"] == [131, 79, 211, 151]
    sx, sy = s["input"]["scale"]
    assert s["box"]["input"] == pytest.approx([131 * sx, 79 * sy, 211 * sx, 151 * sy])
    assert max(s["input"]["size"]) == 512 and s["feature"]["stride"] == 16
    default = lesson.run(cat, output_size=3, stride=32)  # only the image: a default box inside it
    d = default.summary
    assert d["box"]["default"] and 0 < d["box"]["photo"][0] < d["box"]["photo"][2] <= cat.shape[1]
    assert np.array(d["roi_pool"]["values"]).shape == (3, 3) and d["feature"]["stride"] == 32


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(box="1,2,3"), "four numbers"),
    (dict(box="10,10,5,20"), "x1 > x0"),
    (dict(box="0,0,9999,10"), "inside the photo"),
    (dict(box="a,b,c,d"), "four numbers"),
    (dict(probe="12"), "probe"),
    (dict(channel=100000), "channel"),
    (dict(stride=8), "Feature stride"),
    (dict(output_size=0), "Output"),
])
def test_bad_parameters_get_messages_naming_them(cat, kwargs, message):
    with pytest.raises(ValueError, match=message):
        lesson.run(cat, **kwargs)


def test_clicks_map_back_to_photo_pixels(result):
    s = result.summary
    view = draw.View(**s["views"]["overview"])
    x, y = 150.0, 100.0
    sx, sy = s["input"]["scale"]
    u, v = view.to_px(x * sx, y * sy)
    assert lesson.photo_point(s, "overview", (float(u), float(v))) == pytest.approx((x, y))


# --------------------------------------------------------------------------------------------- #
# what the pictures show


def _is(img: np.ndarray, colour, ys, xs) -> np.ndarray:
    return np.all(img[ys, xs] == np.array(colour, np.uint8), axis=-1)


def test_overview_shows_box_snap_and_shading(result):
    s = result.summary
    img, view = result.images["overview"], draw.View(**s["views"]["overview"])
    stride = s["feature"]["stride"]
    y0c, y1c, x0c, x1c = s["roi_pool"]["snapped_cells"]
    (u0, u1), (v0, v1) = view.to_px(np.array([x0c, x1c]) * stride, np.array([y0c, y1c]) * stride)
    mid_u = int((u0 + u1) / 2)
    assert _is(img, draw.ORANGE, int(round(v0)), mid_u)  # the snapped region's top edge
    b = s["box"]["input"]
    (bu0, bu1), (bv0, bv1) = view.to_px(np.array([b[0], b[2]]), np.array([b[1], b[3]]))
    assert _is(img, draw.WHITE, int(round(bv0)), int((bu0 + bu1) / 2))  # the box's top edge
    # between the box's bottom and the snapped region's bottom: gained area, tinted towards green
    if v1 - bv1 > 6:
        band = img[int(bv1) + 3: int(v1) - 3, int(bu0) + 4: int(bu1) - 4].reshape(-1, 3).astype(float)
        assert band[:, 1].mean() > band[:, 0].mean() and band[:, 1].mean() > band[:, 2].mean()


def test_roi_pool_picture_draws_bin_edges_on_the_computed_rows(result):
    s = result.summary
    img, view = result.images["roi_pool"], draw.View(**s["views"]["roi_pool"])
    stride = s["feature"]["stride"]
    bins = np.array(s["roi_pool"]["bins"])
    tops = np.rint((bins[:, 0, 0] * stride - view.y0) * view.zoom).astype(int)
    bottoms = np.rint((bins[:, 0, 1] * stride - view.y0) * view.zoom).astype(int)
    lefts = np.rint((bins[0, :, 2] * stride - view.x0) * view.zoom).astype(int)
    rights = np.rint((bins[0, :, 3] * stride - view.x0) * view.zoom).astype(int)
    for i in range(bins.shape[0]):
        for j in range(bins.shape[1]):
            mid_u, mid_v = (lefts[j] + rights[j]) // 2, (tops[i] + bottoms[i]) // 2
            assert _is(img, draw.ORANGE, tops[i], mid_u) or _is(img, draw.ORANGE, tops[i] + 1, mid_u)
            assert _is(img, draw.ORANGE, bottoms[i], mid_u)
            assert _is(img, draw.ORANGE, mid_v, lefts[j]) or _is(img, draw.ORANGE, mid_v, lefts[j] + 1)
    assert sorted(set(s["roi_pool_edges_px"]["top_rows"])) == sorted(set(tops.tolist()))
    # the maximum of each bin is marked at its cell's centre (sky-blue dot)
    arg = np.array(s["roi_pool"]["argmax_rc"])
    u, v = view.to_px((arg[..., 1] + 0.5) * stride, (arg[..., 0] + 0.5) * stride)
    assert _is(img, draw.SKY, np.rint(v).astype(int), np.rint(u).astype(int)).all()


def test_roi_align_picture_puts_every_sample_where_it_reads(result):
    s = result.summary
    img, view = result.images["roi_align"], draw.View(**s["views"]["roi_align"])
    stride = s["feature"]["stride"]
    pts = roi.roi_align_points(s["box"]["input"], 7, 1 / stride, 2, True)
    u, v = view.to_px((pts[..., 1] + 0.5) * stride, (pts[..., 0] + 0.5) * stride)
    pu, pv = view.to_px(*s["roi_align"]["probe"]["point_input_px"])
    far = np.hypot(u - pu, v - pv) > 1.5 * stride * view.zoom + 12  # clear of the probe's lines and ring
    hits = _is(img, draw.SKY, np.rint(v[far]).astype(int), np.rint(u[far]).astype(int))
    assert hits.all() and hits.size > 120
    # aligned=False: the same grid half a cell down-right, drawn as vermillion crosses
    cmp_img, cmp_view = result.images["aligned"], draw.View(**s["views"]["aligned"])
    off = roi.roi_align_points(s["box"]["input"], 7, 1 / stride, 2, False)
    fu, fv = cmp_view.to_px((off[..., 1] + 0.5) * stride, (off[..., 0] + 0.5) * stride)
    tu, tv = cmp_view.to_px((pts[..., 1] + 0.5) * stride, (pts[..., 0] + 0.5) * stride)
    assert np.allclose(fu - tu, stride / 2 * cmp_view.zoom, atol=1e-3)
    assert _is(cmp_img, draw.VERMILLION, np.rint(fv).astype(int), np.rint(fu).astype(int)).mean() > 0.95


def test_bilinear_picture_areas_are_the_weights(result):
    probe = result.summary["roi_align"]["probe"]
    img = result.images["bilinear"]
    colours = (draw.ORANGE, draw.SKY, draw.GREEN, draw.PURPLE)
    counts = []
    for c in colours:
        tinted = (np.full(3, 255, np.float32) * 0.45 + np.asarray(c, np.float32) * 0.55).astype(np.uint8)
        counts.append(int(np.all(img == tinted, axis=-1).sum()))
    share = np.array(counts) / sum(counts)
    assert np.allclose(share, probe["weights"], atol=0.03)


def test_ps_and_fpn_pictures(result):
    s = result.summary
    kp = s["ps"]["k"]
    maps = result.images["ps_maps"]
    stride = s["feature"]["stride"]
    b = s["box"]["input"]
    tile_side = int(np.clip(600 // kp, 60, 200))
    view, _ = draw.crop_view(b, stride, (s["feature"]["height"], s["feature"]["width"]), margin=1,
                             max_side=tile_side)
    gap = 6
    th, tw = view.height, view.width
    ys = b[1] + np.arange(kp + 1) * (b[3] - b[1]) / kp
    xs = b[0] + np.arange(kp + 1) * (b[2] - b[0]) / kp
    for g in range(kp * kp):
        i, j = divmod(g, kp)
        (u0, u1), (v0, _) = view.to_px(xs[[j, j + 1]], ys[[i, i]])
        top, left = gap + i * (th + gap), gap + j * (tw + gap)
        assert _is(maps, draw.GROUP_COLOURS[g], top + int(round(v0)), left + int((u0 + u1) / 2))
    fpn = result.images["fpn"]
    width = fpn.shape[1] // 4
    framed = [bool(_is(fpn[30:, n * width: (n + 1) * width], draw.ORANGE, slice(None), slice(None)).any())
              for n in range(4)]
    assert framed == [level == s["fpn"]["level"] for level in (2, 3, 4, 5)]


def test_the_misalignment_rows_and_the_fpn_caption_follow_the_page(cat, result):
    """The chart's PS-RoIPool row is measured with the page's PS k; the FPN caption's floor reads as the
    level even for a box just under a boundary (√(wh) = 223.9 px: 3.999, not 4 + log2(224/224))."""
    s = result.summary
    b, st, k = s["box"]["input"], s["feature"]["stride"], s["ps"]["k"]
    fs = (s["feature"]["height"], s["feature"]["width"])
    want = roi.misalignment(b, 7, st, s["roi_align"]["sampling_ratio"], fs, ps_size=k)
    assert s["misalignment"]["half_pixel_model"] == want
    sx, sy = s["input"]["scale"]
    side = 223.9
    box = f"100,60,{100 + side / sx:.6f},{60 + side / sy:.6f}"
    r = lesson.run(cat, box=box)
    assert r.summary["fpn"]["level"] == 3 and 223.85 < r.summary["fpn"]["sqrt_wh"] < 223.95
    assert "⌊4 + log2(223.9/224)⌋ = ⌊3.999⌋ → 3 (clamped to 2…5)" in r.captions["fpn"]
    shown = float(re.search(r"= ⌊([\d.]+)⌋ →", result.captions["fpn"]).group(1))
    assert math.floor(shown) == s["fpn"]["level"]


def test_misalignment_chart_bin_rows_name_their_k(result):
    """Each row label is drawn where the chart puts it, and the bin rows carry their own k×k: RoIPool's
    output size and the page's PS k (7 and 3 by default), in English and in Chinese."""
    from PIL import Image, ImageDraw

    from core.viz import words

    s = result.summary
    k, kp = len(s["roi_pool"]["values"]), s["ps"]["k"]
    assert (k, kp) == (7, 3)
    errors, box = s["misalignment"]["half_pixel_model"], s["box"]["input"]
    box_wh = (box[2] - box[0], box[3] - box[1])
    labels = {"en": ["RoIPool: 7×7 bins", "PS-RoIPool: 3×3 bins"],
              "zh": ["RoIPool：7×7 个 bin", "PS-RoIPool：3×3 个 bin"]}
    for lang, (pool, ps) in labels.items():
        with words.language(lang):
            img, _ = draw.misalignment_chart(errors, None, (None, None), 16, box_wh, 28, k=k, ps_k=kp)
        for n, want in ((1, pool), (2, ps)):
            y = draw.CHART_TOP + n * draw.CHART_ROW
            ref = Image.new("RGB", (draw.CHART_LEFT, draw.CHART_ROW), draw.WHITE)
            ImageDraw.Draw(ref).text((draw.CHART_LEFT - 8, draw.CHART_ROW / 2), want, fill=draw.BLACK,
                                     font=draw._font(12, "中" if lang == "zh" else ""), anchor="rm")
            region = img[y: y + draw.CHART_ROW, : draw.CHART_LEFT - 2]
            assert np.array_equal(region, np.asarray(ref)[:, : draw.CHART_LEFT - 2]), (lang, want)
            assert (region != 255).any()


def test_misalignment_chart_bars_are_as_long_as_the_numbers(result):
    s = result.summary
    img, scale = result.images["misalignment"], s["misalignment_chart"]
    for n, (key, _) in enumerate(draw.CHART_ROWS):
        for m, (model, colour) in enumerate((("half_pixel_model", draw.SKY), ("this_backbone", draw.ORANGE))):
            px = s["misalignment"][model][key]["px"]
            y = draw.CHART_TOP + n * draw.CHART_ROW + 6 + m * (draw.CHART_BAR + 3) + 3  # inside the bar
            coloured = np.nonzero(_is(img, colour, y, slice(None)))[0]
            if px * scale["px_per_px"] < 3:
                assert coloured.size == 0 or coloured.max() - coloured.min() < 4
                continue
            assert coloured.min() <= scale["x0"] + 2
            # the outline is black at the bar's end; on the hatched bar a hatch line may also take the
            # last inner column on this row
            assert abs(coloured.max() - (scale["x0"] + px * scale["px_per_px"])) <= 2 + m, (key, model)


# --------------------------------------------------------------------------------------------- #
# over HTTP and in a browser


def test_endpoint_with_only_an_image(client, cat_path):
    from gradio_client import handle_file

    out = client.predict(handle_file(str(cat_path)), api_name="/roi")
    *images, summary, status = out
    assert len(images) == 9 and all(os.path.isfile(p) for p in images)
    assert summary["box"]["default"] and max(summary["torchvision_max_abs_difference"].values()) <= 1e-6
    assert summary["model"]["source"] in status or "package" in status or "embedded" in status
    with pytest.raises(Exception, match="box"):
        client.predict(handle_file(str(cat_path)), api_name="/roi", box="5,5,1,1")


def test_summary_is_plain_json(result):
    import json

    text = json.dumps(result.to_json())
    assert math.isfinite(json.loads(text)["fpn"]["raw"])


def _click_at(img, fx: float, fy: float) -> None:
    """Click at a fraction of the *picture* inside an <img> (which letterboxes it: object-fit contain)."""
    box = img.bounding_box()
    nw, nh = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    scale = min(box["width"] / nw, box["height"] / nh)
    left, top = (box["width"] - nw * scale) / 2, (box["height"] - nh * scale) / 2
    img.click(position={"x": left + fx * nw * scale, "y": top + fy * nh * scale})


@pytest.mark.browser
def test_the_page_draws_a_box_from_two_clicks_and_probes_a_sample(app_url, cat_path, tmp_path):
    """In chromium: upload, run, click two corners on the first picture → the box field and every
    picture follow; click the RoIAlign picture → the probe field is set and the page reruns."""
    import re
    import shutil

    from playwright.sync_api import expect, sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    upload = tmp_path / "roi-cat.jpg"
    shutil.copy(cat_path, upload)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        try:
            import apps.app

            if hasattr(apps.app, "home_html"):  # one page per lesson, at /<lesson>
                page.goto(f"{app_url.rstrip('/')}/roi", wait_until="domcontentloaded")
            else:  # the workbench with one tab per lesson
                page.goto(app_url, wait_until="domcontentloaded")
                page.get_by_role("tab", name="RoI operators", exact=True).click(timeout=60_000)
            overview = page.locator("#roi-overview")
            overview.wait_for(state="attached", timeout=60_000)
            page.locator("input[type=file]:visible, input[type=file]").first.set_input_files(str(upload))
            picture = overview.locator("img")
            picture.first.wait_for(state="visible", timeout=120_000)  # the upload runs the lesson
            expect(page.locator(".toast-body.error")).to_have_count(0)
            first = picture.first.get_attribute("src")
            picture.first.scroll_into_view_if_needed()
            _click_at(picture.first, 0.30, 0.25)
            page.wait_for_timeout(800)
            _click_at(picture.first, 0.60, 0.75)
            box = page.locator("#roi-box textarea, #roi-box input").first
            expect(box).to_have_value(re.compile(r"^\d+,\d+,\d+,\d+$"), timeout=60_000)
            x0, y0, x1, y1 = (int(v) for v in box.input_value().split(","))
            assert abs(x0 - 0.30 * 451) < 8 and abs(y0 - 0.25 * 300) < 8
            assert abs(x1 - 0.60 * 451) < 8 and abs(y1 - 0.75 * 300) < 8
            page.wait_for_function("([el, old]) => el.querySelector('img')?.src !== old",
                                   arg=[overview.element_handle(), first], timeout=120_000)
            align = page.locator("#roi-align img").first
            align.scroll_into_view_if_needed()
            _click_at(align, 0.35, 0.4)
            probe = page.locator("#roi-probe textarea, #roi-probe input").first
            expect(probe).to_have_value(re.compile(r"^[\d.]+,[\d.]+$"), timeout=60_000)
            expect(page.locator(".toast-body.error")).to_have_count(0)
        finally:
            browser.close()


# --------------------------------------------------------------------------------------------- #
# the sampling-point picture drawn faster, pixel for pixel as before (bench/roi.py measures the speed)


def _dots_one_by_one(img, u, v, color, radius, outline=draw.BLACK):
    """How the pictures drew their dots before: two OpenCV discs per dot, in order."""
    import cv2

    for a, b in zip(np.rint(u).astype(int).ravel().tolist(), np.rint(v).astype(int).ravel().tolist(),
                    strict=True):
        cv2.circle(img, (a, b), radius + 1, outline, -1, cv2.LINE_8)
        cv2.circle(img, (a, b), radius, color, -1, cv2.LINE_8)


@pytest.mark.parametrize("layout", ["grid", "random", "crowded"])
def test_dots_stamp_exactly_the_pixels_opencv_draws_one_by_one(layout):
    rng = np.random.default_rng({"grid": 0, "random": 1, "crowded": 2}[layout])
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(12, 160, 2))
        radius = int(rng.integers(1, 7))
        if layout == "grid":  # RoIAlign's samples: a regular grid, partly off the picture
            n = int(rng.integers(1, 12))
            u, v = np.meshgrid(np.linspace(-8, w + 8, n), np.linspace(-8, h + 8, n))
        else:  # "crowded": discs overlap, so the order in which they are drawn shows
            n = int(rng.integers(1, 40 if layout == "random" else 200))
            u, v = rng.uniform(-10, w + 10, n), rng.uniform(-10, h + 10, n)
        base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        want, got = base.copy(), base.copy()
        _dots_one_by_one(want, u, v, draw.SKY, radius)
        draw.dots(got, u, v, draw.SKY, radius)
        assert np.array_equal(want, got), (layout, h, w, radius)


def test_grey_cells_blow_each_cell_up_to_the_picture_edges_of_the_grid():
    rng = np.random.default_rng(3)
    for _ in range(30):
        h, w, stride = int(rng.integers(2, 30)), int(rng.integers(2, 30)), int(rng.choice([4, 8, 16, 32]))
        values = rng.standard_normal((h, w)).astype(np.float32)
        x0, y0 = rng.uniform(0, w * stride - 1), rng.uniform(0, h * stride - 1)
        box = (x0, y0, rng.uniform(x0 + 0.5, w * stride), rng.uniform(y0 + 0.5, h * stride))
        view, cells = draw.crop_view(box, stride, (h, w), margin=1)
        img = draw.grey_cells(values, view, stride, cells)
        r0, r1, c0, c1 = cells
        xs = np.rint((np.arange(c0, c1 + 1) * stride - view.x0) * view.zoom).astype(int)
        ys = np.rint((np.arange(r0, r1 + 1) * stride - view.y0) * view.zoom).astype(int)
        v = values[r0:r1, c0:c1]
        grey = (40 + 185 * np.clip((v - v.min()) / (v.max() - v.min()), 0, 1)).astype(np.uint8)
        assert img.shape == (ys[-1], xs[-1], 3)
        for i in range(r1 - r0):  # every picture pixel of cell (i, j) holds that cell's grey, in R, G and B
            for j in range(c1 - c0):
                patch = img[ys[i]:ys[i + 1], xs[j]:xs[j + 1]]
                assert patch.size == 0 or (patch == grey[i, j]).all()


def test_value_tile_colours_are_colorize_byte_for_byte():
    """The tile's cells looked up in colorize's own 256-colour table give colorize's bytes: random
    values, NaN and ±inf among them, a flat range (vmax ≤ vmin), two colour maps."""
    from core.viz.draw import colorize

    rng = np.random.default_rng(11)
    for t in range(120):
        v = rng.standard_normal((int(rng.integers(1, 9)), int(rng.integers(1, 9)))) * 3
        v.flat[rng.integers(0, v.size, 2)] = (np.nan, np.inf, -np.inf)[t % 3]
        lo, hi = sorted(float(x) for x in rng.standard_normal(2))
        hi = lo if t % 5 == 0 else hi
        for cmap in ("cividis", "inferno"):
            with np.errstate(over="ignore", invalid="ignore"):
                want = colorize(v, cmap, lo, hi)
            assert np.array_equal(draw._cell_colours(v, cmap, lo, hi), want), (t, cmap)


def _roi_align_picture_as_before(channel, stride, box, points, aligned, values, probe, taps):
    """The sampling-point picture as it was drawn before it was drawn straight into its canvas: grey
    cells by two repeats and cvtColor, cell lines, the bin lines and box, dots one by one, the probe,
    and a value tile blown up by cv2.resize with cv2.putText numbers, put side by side."""
    import cv2

    x0, y0, x1, y1 = (float(v) for v in box)
    kh, kw = points.shape[:2]
    px, py = (points[..., 1] + 0.5) * stride, (points[..., 0] + 0.5) * stride
    reach = (min(x0, px.min()), min(y0, py.min()), max(x1, px.max()), max(y1, py.max()))
    view, cells = draw.crop_view(reach, stride, channel.shape, margin=1)
    r0, r1, c0, c1 = cells
    block = channel[r0:r1, c0:c1].astype(np.float32)
    lo, hi = float(block.min()), float(block.max())
    g = np.zeros_like(block) if hi <= lo else (block - lo) / (hi - lo)
    g = (40 + 185 * np.clip(np.nan_to_num(g), 0, 1)).astype(np.uint8)
    xs = np.rint((np.arange(c0, c1 + 1) * stride - view.x0) * view.zoom).astype(int)
    ys = np.rint((np.arange(r0, r1 + 1) * stride - view.y0) * view.zoom).astype(int)
    img = cv2.cvtColor(np.repeat(np.repeat(g, np.diff(ys), axis=0), np.diff(xs), axis=1), cv2.COLOR_GRAY2RGB)
    img[:, xs[xs < img.shape[1]]] = (20, 20, 20)
    img[ys[ys < img.shape[0]], :] = (20, 20, 20)
    us, vs = view.to_px(x0 + np.arange(kw + 1) * (x1 - x0) / kw, y0 + np.arange(kh + 1) * (y1 - y0) / kh)
    us, vs = np.rint(us).astype(int).tolist(), np.rint(vs).astype(int).tolist()
    for va in vs[1:-1]:
        draw.hline(img, va, us[0], us[-1], draw.WHITE, 1)
    for ua in us[1:-1]:
        draw.vline(img, ua, vs[0], vs[-1], draw.WHITE, 1)
    draw.rect(img, view, x0, y0, x1, y1, draw.WHITE, 2)
    u, v = view.to_px(px, py)
    radius = max(2, min(4, int(stride * view.zoom / 8)))
    _dots_one_by_one(img, u, v, draw.SKY if aligned else draw.VERMILLION, radius)
    pu, pv = int(round(float(u[probe]))), int(round(float(v[probe])))
    nu, nv = view.to_px((taps[1] + 0.5) * stride, (taps[0] + 0.5) * stride)
    for cu, cv_ in zip(np.rint(nu).astype(int).tolist(), np.rint(nv).astype(int).tolist(), strict=True):
        cv2.line(img, (pu, pv), (cu, cv_), draw.YELLOW, 2, cv2.LINE_8)
        cv2.rectangle(img, (cu - 4, cv_ - 4), (cu + 4, cv_ + 4), draw.BLACK, -1)
        cv2.rectangle(img, (cu - 3, cv_ - 3), (cu + 3, cv_ + 3), draw.YELLOW, -1)
    cv2.circle(img, (pu, pv), radius + 6, draw.BLACK, 3, cv2.LINE_8)
    cv2.circle(img, (pu, pv), radius + 6, draw.YELLOW, 2, cv2.LINE_8)
    cell = draw.tile_cell(max(kh, kw), img.shape[0])
    tile = cv2.resize(draw.colorize(values, "cividis", lo, hi), (kw * cell, kh * cell),
                      interpolation=cv2.INTER_NEAREST)
    tile[np.arange(1, kh) * cell, :] = draw.WHITE
    tile[:, np.arange(1, kw) * cell] = draw.WHITE
    if cell >= 30:
        scale = 0.33 if cell < 44 else 0.42
        (w4, th), _ = cv2.getTextSize("0.00", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        for i in range(kh):
            for j in range(kw):
                value = float(values[i, j])
                s = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
                ink = draw.BLACK if value > (lo + hi) / 2 else draw.WHITE
                cv2.putText(tile, s, (j * cell + (cell - w4 // 4 * len(s)) // 2, i * cell + (cell + th) // 2),
                            cv2.FONT_HERSHEY_SIMPLEX, scale, ink, 1, cv2.LINE_AA)
    border = draw.SKY if aligned else draw.VERMILLION
    cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, tile.shape[0] - 1), border, 2)
    return draw.side_by_side(img, tile), view


def test_roi_align_picture_draws_the_same_pixels_as_before():
    """Drawn straight into its canvas (bands of rows, stamped dots, the tile in place), the picture
    is the previous drawing pixel for pixel: random maps, boxes (also past the border and tiny), output
    sizes, sampling ratios and both alignments, incl. values of 100 and more (other number format)."""
    rng = np.random.default_rng(7)
    for t in range(80):
        h, w = (int(v) for v in rng.integers(3, 36, 2))
        stride = int(rng.choice([4, 8, 16, 32]))
        channel = rng.standard_normal((h, w)).astype(np.float32) * (1 if t % 4 else 400)
        x0, y0 = rng.uniform(-20, w * stride), rng.uniform(-20, h * stride)
        box = np.array([x0, y0, x0 + rng.uniform(1, w * stride), y0 + rng.uniform(1, h * stride)])
        k, ratio, aligned = int(rng.integers(1, 9)), int(rng.integers(1, 4)), bool(t % 2)
        points = roi.roi_align_points(box, k, 1 / stride, ratio, aligned)
        values = roi.roi_align(channel[None], box, k, 1 / stride, ratio, aligned)[0]
        probe = (k // 2, k // 2, 0, 0)
        rows, cols, _ = roi.bilinear_taps(points[probe][None], channel.shape)
        taps = (rows[0], cols[0])
        want, want_view = _roi_align_picture_as_before(channel, stride, box, points, aligned, values, probe,
                                                       taps)
        got, view = draw.roi_align_picture(channel, stride, box, points, aligned, values, probe, taps)
        assert view == want_view
        assert got.shape == want.shape and np.array_equal(got, want), (t, int((got != want).any(-1).sum()))


def test_roi_align_gathering_every_sample_at_once_adds_in_the_loops_order(monkeypatch):
    """The one-gather path of a small read (the sampling-point picture's) gives the loop's values bit
    for bit, signs of zero included, on random maps and boxes (also past the border: masked taps)."""
    for h, w, dtype, scale, box, k in _cases(60, seed=5):
        rng = np.random.default_rng(h * 31 + w)
        f = rng.standard_normal((3, h, w)).astype(np.float32 if dtype == torch.float32 else np.float64)
        for ratio, aligned in ((-1, False), (2, True)):
            fast = roi.roi_align(f, box, k, scale, ratio, aligned)
            monkeypatch.setattr(roi, "_AT_ONCE", 0)
            slow = roi.roi_align(f, box, k, scale, ratio, aligned)
            monkeypatch.undo()
            assert np.array_equal(fast, slow) and np.array_equal(np.signbit(fast), np.signbit(slow))


# --------------------------------------------------------------------------------------------- #
# the geometry's edge cases (mutation pass, second round)


def test_a_sample_exactly_on_the_far_border_reads_the_last_cell():
    """torchvision reads a point with y = H (x = W) as the last row (column), not as 0: ``y ≤ H`` is
    inside, only ``y > H`` is more than a cell out."""
    rows, cols, wts = roi.bilinear_taps(np.array([[10.0, 6.0], [10.0, 2.5]]), (10, 6))
    assert rows.tolist() == [[9, 9, 9, 9], [9, 9, 9, 9]]
    assert cols[0].tolist() == [5, 5, 5, 5] and cols[1].tolist() == [2, 3, 2, 3]
    assert wts[0].tolist() == [1, 0, 0, 0] and wts[1].tolist() == [0.5, 0.5, 0, 0]
    # one sample per bin at (y, x) = (4, 0.5) on a 4×5 map, and at (0.5, 5) on the right border
    f = torch.randn(1, 1, 4, 5, dtype=torch.float64)
    cases = (([0.0, 3.5, 1.0, 4.5], f[0, 0, 3, 0:2].mean()), ([4.5, 0.0, 5.5, 1.0], f[0, 0, 0:2, 4].mean()))
    for box, want in cases:
        ref = ops.roi_align(f, _rois(np.array(box), torch.float64), 1, 1.0, 1, False)[0, 0, 0, 0].item()
        ours = float(roi.roi_align(f[0].numpy(), box, 1, 1.0, 1, False)[0, 0, 0])
        assert ref == pytest.approx(float(want), abs=1e-12) and ours == pytest.approx(ref, abs=1e-12)


def test_position_sensitive_pooling_with_a_rectangular_grid_equals_torchvision():
    """k_h ≠ k_w: bin (i, j) of class c reads channel (c·k_h + i)·k_w + j (R-FCN's layout)."""
    rng = np.random.default_rng(7)
    for kk in ((2, 3), (3, 2), (1, 4)):
        f = torch.randn(1, 2 * kk[0] * kk[1], 9, 11, dtype=torch.float64)
        for _ in range(5):
            x0, y0 = rng.uniform(0, 80, 2)
            box = np.array([x0, y0, x0 + rng.uniform(20, 90), y0 + rng.uniform(20, 70)])
            ref = ops.ps_roi_pool(f, _rois(box, torch.float64), kk, 1 / 8)[0].numpy()
            assert np.abs(roi.ps_roi_pool(f[0].numpy(), box, kk, 1 / 8) - ref).max() <= 1e-12, (kk, box)
            for ratio in (-1, 2):
                ref = ops.ps_roi_align(f, _rois(box, torch.float64), kk, 1 / 8, ratio)[0].numpy()
                ours = roi.ps_roi_align(f[0].numpy(), box, kk, 1 / 8, ratio)
                assert np.abs(ours - ref).max() <= 1e-12, (kk, box, ratio)
    assert roi.ps_channels(2, (2, 3))[1].tolist() == [[6, 7, 8], [9, 10, 11]]


def test_misalignment_uses_each_axis_own_cell_centre():
    """δx = 0.5 (ResNet-like padding) and δy = s/2 (the half-pixel model) on one box: x reads as the
    ResNet rows of test_misalignment_under_both_pixel_models, y as the half-pixel ones."""
    box = [32.0, 48.0, 144.0, 160.0]
    m = roi.misalignment(box, 7, 16, 2, (40, 40), centre=(0.5, 8.0))
    assert m["roi_align_aligned_false"]["x_px"] == pytest.approx(0.5, abs=1e-4)
    assert m["roi_align_aligned_false"]["y_px"] == pytest.approx(8.0, abs=1e-4)
    assert m["roi_align_aligned_true"]["x_px"] == pytest.approx(7.5, abs=1e-4)
    assert m["roi_align_aligned_true"]["y_px"] == pytest.approx(0.0, abs=1e-4)


def test_bench_floor_leaves_out_exactly_the_numbers_and_the_points():
    """bench/roi.py's floor row draws the sampling-point picture without the tile's numbers and the
    sampling points: the map keeps no sky-blue dot pixel, every tile cell is one colour inside its white
    lines, and after the context the picture is again the page's (with its dots and numbers)."""
    from bench import roi as bench_roi

    channel = torch.randn(112, 22, 32, generator=torch.Generator().manual_seed(0))[5].numpy()
    with bench_roi._without_numbers_and_points():
        floor = bench_roi._picture(channel)
    full = bench_roi._picture(channel)
    assert floor.shape == full.shape
    sky = np.asarray(draw.SKY, np.uint8)
    border = np.nonzero((floor == sky).all(-1).any(0))[0]  # the tile's sky border: all the sky left
    tile_x0, cell = int(border.min()), int(border.max() - border.min() + 1) // 7
    assert not (floor[:, :tile_x0] == sky).all(-1).any()  # no dot on the map
    assert (full[:, :tile_x0] == sky).all(-1).sum() > 196 * 20  # the page's picture has its 196 dots
    tile, full_tile = floor[:7 * cell, tile_x0:], full[:7 * cell, tile_x0:]
    for i in range(7):
        for j in range(7):
            inner = (slice(i * cell + 3, (i + 1) * cell - 2), slice(j * cell + 3, (j + 1) * cell - 2))
            assert (tile[inner] == tile[inner][0, 0]).all(), (i, j)  # no number in the floor's cell
            assert (full_tile[inner] != tile[inner][0, 0]).any(-1).sum() > 20, (i, j)  # the page's has one
