"""Summary numbers of the lessons checked against what they mean: the clicked Swin token is the query of
its own window row, the mask blocks exactly the other regions' keys, entropies are in bits, the ERF's
mass outside the box, MACs of a grouped conv, Imagen's thresholds, Grad-CAM maps at a non-square size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core import attention, blocks, cam, imagen, receptive, swin, zoo
from core.receptive_lesson import _outside


@pytest.fixture(scope="module")
def swin_model():
    loaded = zoo.load_model("swin-tiny", "auto")
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
    return loaded, attention.extract(loaded.model, zoo.preprocess(loaded, photo))


@pytest.mark.parametrize(("ty", "tx"), [(1, 14), (14, 1), (0, 0), (6, 9)])
def test_the_clicked_token_is_the_query_of_its_own_window_row(swin_model, ty, tx):
    """Whatever the roll, the key at the query's place in the window is the clicked token itself, and
    the window's keys are its M² neighbours in the rolled frame, put back where they are in the photo."""
    loaded, ex = swin_model
    info = swin.block_info(loaded.model, 1, 2)
    assert info.shift > 0
    row = attention.swin_window_row(loaded.model, ex, 1, 2, 1, ty, tx)
    assert row.keys_yx[row.query].tolist() == [ty, tx]
    rolled_window = swin.window_partition(
        swin.cyclic_shift(np.arange(info.height * info.width).reshape(1, info.height, info.width, 1),
                          info.shift), info.window).reshape(-1, info.window ** 2)[row.window]
    keys = row.keys_yx[:, 0] * info.width + row.keys_yx[:, 1]
    assert sorted(keys.tolist()) == sorted(rolled_window.tolist())


def test_the_mask_blocks_the_other_regions_keys_only(swin_model):
    loaded, ex = swin_model
    info = swin.block_info(loaded.model, 1, 2)
    row = attention.swin_window_row(loaded.model, ex, 1, 2, 1, 0, 0)  # (0, 0): in the wrapping corner window
    regions = swin.region_ids(info.height, info.width, info.window, info.shift)
    rolled = [((y - info.shift) % info.height, (x - info.shift) % info.width) for y, x in row.keys_yx]
    own = regions[(0 - info.shift) % info.height, (0 - info.shift) % info.width]
    other = np.array([regions[y, x] != own for y, x in rolled])
    # (0, 0) rolls to (H − s, W − s): region 8, the corner's s × s tokens; the other M² − s² keys are blocked
    assert other.sum() == info.window ** 2 - info.shift ** 2
    assert row.masked[other].sum() < 1e-6 and row.unmasked[other].sum() > 1e-3
    summary = attention.run(np.zeros((64, 64, 3), np.uint8), query_x=0.0, query_y=0.0).summary["swin"]
    assert summary["token"] == [0, 0] and summary["masked_keys"] == int(other.sum())
    assert summary["weight_on_masked_keys_with_mask"] < 1e-6 < summary["weight_on_masked_keys_without_mask"]


def test_clicked_vit_patch_is_floored_and_row_major():
    res = attention.run(np.zeros((64, 64, 3), np.uint8), query_x=0.93, query_y=0.1)
    s = res.summary
    gh, gw = s["model"]["grid"]
    row, col = int(0.1 * gh), int(0.93 * gw)
    assert (s["query_patch"]["row"], s["query_patch"]["col"]) == (row, col) and row != col
    assert s["query_patch"]["token"] == s["model"]["prefix_tokens"] + row * gw + col


def test_head_entropy_is_in_bits():
    uniform = np.full((2, 5, 5), 0.2)
    uniform[1, 0] = [1.0, 0.0, 0.0, 0.0, 0.0]
    stats = attention.head_stats(uniform, prefix=1)
    assert stats["cls_entropy"] == pytest.approx([np.log2(5), 0.0], abs=1e-9)
    assert stats["effective"] == pytest.approx([5.0, 1.0], abs=1e-9)


def test_erf_mass_outside_the_box_counts_the_box_inclusively():
    erf = np.ones((5, 5))
    assert _outside(erf, (1, 1, 3, 3)) == pytest.approx(1 - 9 / 25)
    assert _outside(erf, (0, 0, 4, 4)) == pytest.approx(0.0) and _outside(erf, None) is None


def test_erf_spread_square_and_mass_radius():
    erf = np.zeros((5, 5))
    erf[0, 0] = erf[0, 2] = 1.0  # σ_y = 0, σ_x = 1
    assert receptive.spread(erf) == pytest.approx(0.5)
    assert receptive.square_side((2, 2), 1, (5, 5)) == 3 and receptive.square_side((0, 0), 1, (5, 5)) == 2
    impulse = np.zeros((9, 9))
    impulse[4, 4], impulse[4, 6] = 1.0, 1.0
    assert receptive.mass_radius(impulse, (4, 4), 0.5) == 0
    assert receptive.mass_radius(impulse, (4, 4), 1.0) == 2


def test_grouped_conv_macs_count_in_channels_per_group():
    conv = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
    assert blocks.count_macs(conv, torch.zeros(1, 8, 4, 4)) == 8 * 16 * 1 * 9
    assert blocks._bottleneck(64).conv1.out_channels == 16  # ResNet's bottleneck: C/4


def test_imagen_thresholds():
    small = torch.full((1, 3, 4, 4), 0.5)
    assert torch.equal(imagen.dynamic_threshold(small), small)  # s = max(1, q) = 1: nothing to stretch
    big = torch.full((1, 3, 4, 4), 3.0)
    assert torch.allclose(imagen.dynamic_threshold(big, 0.995, 2.0), torch.ones_like(big))  # s = 2
    assert imagen.static_threshold(torch.tensor([-2.0, 0.3, 2.0])).tolist() == pytest.approx([-1.0, 0.3, 1.0])


def test_cam_map_at_a_non_square_size():
    rng = np.random.default_rng(0)
    a = rng.random((1, 4, 3, 5)).astype(np.float32)
    g = rng.random((1, 4, 3, 5)).astype(np.float32)
    out = cam.cam_map(a, g, (10, 6))  # (width, height)
    assert out.shape == (1, 6, 10) and out.min() == pytest.approx(0.0, abs=1e-6)
    assert out.max() == pytest.approx(1.0, abs=1e-5)


def test_attention_overlays_span_the_maps_own_range():
    """Each overlay's colour scale runs from the map's minimum to its maximum: on a black photo the
    rollout's weakest patch shows the darkest colour and its strongest the brightest (at 60 %)."""
    from core.viz.draw import _colour_table

    black = np.zeros((96, 96, 3), np.uint8)
    res = attention.run(black)
    loaded = zoo.load_model("vit-small", "auto")
    ex = attention.extract(loaded.model, zoo.preprocess(loaded, black))
    prefix = res.summary["model"]["prefix_tokens"]
    gh, gw = res.summary["model"]["grid"]
    roll = attention.rollout(ex.maps)[0, prefix:].reshape(gh, gw)
    assert roll.min() > 0.2 * roll.max()  # far from 0: a scale that started at 0 would not show it dark
    assert res.summary["rollout"]["peak_patch"] == list(np.unravel_index(int(roll.argmax()), roll.shape))
    img = res.images["rollout"]
    cell = attention.VIEW / gh
    table = _colour_table("inferno")
    for idx, level in ((roll.argmin(), 0), (roll.argmax(), 255)):
        r, c = np.unravel_index(int(idx), roll.shape)
        got = img[int((r + 0.5) * cell), int((c + 0.5) * cell)].astype(int)
        assert np.abs(got - np.rint(0.6 * table[level])).max() <= 2, (level, got)


def test_swin_rows_with_and_without_the_mask_share_one_scale():
    """The masked and the unmasked window maps use one scale, 0 … the larger maximum of the two rows.
    The click is the one (of every head and token of this photo) where a blocked key holds the largest
    unmasked weight by the widest margin, so the masked row's strongest key must be drawn at its share
    of that maximum, not at the brightest colour. (Chosen by search, not fixed: a retrained embedded
    Swin moves it.)"""
    from core.viz.draw import colorize

    photo = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    sw = zoo.load_model("swin-tiny", "auto")
    ex = attention.extract(sw.model, zoo.preprocess(sw, photo))
    info = swin.block_info(sw.model, 1, 2)
    rows = {(h, r, c): attention.swin_window_row(sw.model, ex, 1, 2, h, r, c)
            for h in range(1, info.heads + 1) for r in range(info.height) for c in range(info.width)}
    def margin(item):
        return item[1].unmasked.max() / max(item[1].masked.max(), 1e-12)

    (head, r, c), row = max(rows.items(), key=margin)
    assert row.unmasked.max() > 1.3 * row.masked.max()  # the two maxima differ clearly
    res = attention.run(photo, query_x=(c + 0.5) / info.width, query_y=(r + 0.5) / info.height,
                        swin_head=head)
    assert res.summary["swin"]["token"] == [r, c]
    vmax = max(row.masked.max(), row.unmasked.max())
    view = attention.model_view(photo, sw)[0]
    k = int(row.masked.argmax())
    y, x = row.keys_yx[k]
    cell = res.images["swin_masked"].shape[0] / info.height
    py, px = int((y + 0.5) * cell), int((x + 0.5) * cell)
    colour = colorize(np.array([[row.masked[k]]]), "inferno", 0.0, vmax)[0, 0]
    want = np.rint(0.25 * view[py, px] + 0.75 * colour)
    assert np.abs(res.images["swin_masked"][py, px].astype(int) - want).max() <= 2


def test_model_view_crop_rounds_its_offset_like_torchvision():
    """timm's eval crop is torchvision's CenterCrop: offset round((259 − 224) / 2) = round(17.5) = 18."""
    from torchvision.transforms import functional as TF

    config = {"input_size": (3, 224, 224), "crop_pct": 0.875}  # resize to 256 on the short side
    box = attention.crop_box(259, 256, config)
    rows = torch.arange(259, dtype=torch.float32)[:, None].expand(259, 256)[None]
    top = int(TF.center_crop(rows, [224, 224])[0, 0, 0])
    assert top == 18 and box == pytest.approx((16.0, 18.0, 240.0, 242.0))


def test_traced_box_of_adaptive_pooling_equals_the_gradient_support():
    """Adaptive pooling of 5 cells into 3 bins: bin i covers floor(5i/3) … ceil(5(i+1)/3) − 1, so the middle
    bin reads 3 cells (1…3); the tracer's box is exactly where the gradient reaches."""
    from core import rftrace

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AdaptiveAvgPool2d(3)).double()
    x = torch.randn(1, 1, 5, 5, dtype=torch.float64)
    out, mode = rftrace.trace(net, x)
    field = mode.field(out)
    for i, j in ((0, 0), (1, 1), (2, 1), (0, 2)):
        erf = np.abs(receptive.effective_rf(net, x, (i, j)))
        ys, xs = np.nonzero(erf.sum(-1) if erf.ndim == 3 else erf)
        assert field.box(i, j) == (ys.min(), xs.min(), ys.max(), xs.max()), (i, j)


def test_repvgg_identity_share_and_correlation_are_what_they_say():
    """The identity branch is an affine copy of the shortcut per channel (|correlation| = 1 on every
    channel that varies; a constant channel has none and is left out of the mean), and its share is
    ‖identity‖ / ‖block before the activation‖ = ‖identity‖ / ‖identity + convs‖."""
    from timm.models.byobnet import RepVggBlock

    from core.repvgg_lesson import _paths

    torch.manual_seed(0)
    blk = RepVggBlock(6, 6).eval()
    for bn in (m for m in blk.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.weight.data.uniform_(0.5, 1.5)
        bn.running_var.data.uniform_(0.5, 2.0)
        bn.running_mean.data.uniform_(-0.2, 0.2)
    x = torch.randn(1, 6, 5, 5)
    x[:, 2] = 0.7  # a constant channel: no correlation to speak of
    p = _paths(blk, x, channel=1)
    assert p["correlation"] == pytest.approx(1.0) and p["correlation_abs_mean"] == pytest.approx(1.0)
    with torch.inference_mode():
        ident = blk.identity(x)[0].double()
        pre = (blk.conv_kxk(x) + blk.conv_1x1(x) + blk.identity(x))[0].double()
    assert p["identity_share"] == pytest.approx(float(ident.norm() / pre.norm()), rel=1e-6)
