"""The MLP-family lesson: token-mixing weights read from timm's modules, Cycle FC against
``torchvision.ops.deform_conv2d`` with the official CycleMLP offsets, AS-MLP's shift against a hand
computation and the official PyTorch form, the Mixer's Jacobian against autograd, ViT attention against
timm's own, the costs against torch's counters, the pictures' content, the endpoint and the browser.
"""

from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from timm.models.mlp_mixer import MixerBlock
from torchvision.ops import deform_conv2d

from core import mlp as lesson
from core import mlp_ops as ops
from core.viz import mlp as draw
from core.viz.repvgg import diverging


@pytest.fixture(scope="module")
def result(cat):
    return lesson.run(cat)


@pytest.fixture(scope="module")
def loaded():
    from core import zoo

    names = (("resmlp", "resmlp-12-mlp"), ("gmlp", lesson.GMLP), ("mixer", lesson.MIXER), ("vit", lesson.VIT))
    return {k: zoo.load_model(n, "auto") for k, n in names}


# --------------------------------------------------------------------------------------------- #
# the contract: weights read from timm's modules, index for index


def test_token_mixing_weights_are_timms_layers(loaded):
    res, gm = loaded["resmlp"].model, loaded["gmlp"].model
    for b in (0, len(res.blocks) - 1):
        w = lesson.token_mixing_weights(loaded["resmlp"], b)
        assert torch.equal(w, res.blocks[b].linear_tokens.weight)
        assert w.shape == (res.blocks[b].linear_tokens.in_features,) * 2
    w = lesson.token_mixing_weights(gm, 3)
    assert torch.equal(w, gm.blocks[3].mlp_channels.gate.proj.weight) and w.shape == (196, 196)
    w.zero_()  # a copy: the network is untouched
    assert gm.blocks[3].mlp_channels.gate.proj.weight.abs().sum() > 0
    with pytest.raises(ValueError, match="block must be between 0 and 29"):
        lesson.token_mixing_weights(gm, 30)
    with pytest.raises(ValueError, match="no learned N×N"):
        lesson.token_mixing_weights(loaded["mixer"], 0)


def test_the_page_shows_the_modules_weights_index_for_index(result, loaded):
    s = result.summary
    res, gm = loaded["resmlp"].model, loaded["gmlp"].model
    i = s["patch"]["resmlp"]["index"]
    rows, cols = s["models"]["resmlp"]["grid"]
    assert i == s["patch"]["resmlp"]["row"] * cols + s["patch"]["resmlp"]["col"]
    assert (s["patch"]["resmlp"]["row"], s["patch"]["resmlp"]["col"]) == (int(0.5 * rows), int(0.5 * cols))
    np.testing.assert_array_equal(s["resmlp"]["row"], res.blocks[0].linear_tokens.weight[i].double().numpy())
    g = s["patch"]["gmlp"]["index"]
    gate = gm.blocks[0].mlp_channels.gate.proj
    np.testing.assert_array_equal(s["gmlp"]["row"], gate.weight[g].double().numpy())
    assert s["gmlp"]["bias"] == pytest.approx(float(gm.blocks[0].mlp_channels.gate.proj.bias[g]))
    # every block's locality, from the same matrices
    for b, blk in enumerate(res.blocks):
        assert s["resmlp"]["locality_3x3"][b] == pytest.approx(
            ops.locality(blk.linear_tokens.weight, (rows, cols), 1), abs=1e-6)


def test_a_clicked_corner_patch_and_a_later_block(cat, loaded):
    out = lesson.run(cat, block=2, query_x=0.99, query_y=0.0).summary
    res = loaded["resmlp"].model
    rows, cols = out["models"]["resmlp"]["grid"]
    assert out["patch"]["resmlp"] == {"row": 0, "col": cols - 1, "index": cols - 1}
    np.testing.assert_array_equal(out["resmlp"]["row"],
                                  res.blocks[2].linear_tokens.weight[cols - 1].double().numpy())
    vit_blocks = out["models"]["vit"]["blocks"]
    assert out["vit"]["block"] == min(2, vit_blocks - 1)
    late = lesson.run(cat, block=29).summary  # more than some networks have: each shows its last block
    assert late["gmlp"]["block"] == 29 and late["resmlp"]["block"] == out["models"]["resmlp"]["blocks"] - 1


def test_the_feeds_panel_colours_each_patch_by_its_weight():
    grid, cell = (4, 4), (1, 2)
    values = np.zeros(16)
    values[0], values[5], values[cell[0] * 4 + cell[1]] = -1.0, 0.5, 1.0
    grey = np.full((64, 64, 3), 128, np.uint8)
    img, vmax = draw.weights_on_photo(grey, values, grid, cell, side=80, alpha=0.7)
    assert vmax == 1.0 and img.shape == (80, 80, 3)

    def centre(r, c):
        return img[r * 20 + 10, c * 20 + 10].astype(int)

    expect = lambda v: (0.3 * 128 + 0.7 * diverging(np.array([v]), 1.0)[0]).astype(int)  # noqa: E731
    assert np.abs(centre(0, 0) - expect(-1.0)).max() <= 2  # blue: feeds negatively
    assert np.abs(centre(1, 1) - expect(0.5)).max() <= 2
    assert np.abs(centre(3, 3) - expect(0.0)).max() <= 2  # white blend: no weight
    assert centre(1, 2)[0] > centre(1, 2)[2]  # the clicked patch is red inside its box
    assert tuple(img[20, 50]) == draw.YELLOW and tuple(img[39, 50]) == draw.YELLOW  # its box, top and bottom
    assert tuple(img[30, 40]) == draw.YELLOW and tuple(img[30, 59]) == draw.YELLOW


def test_colour_scales_are_set_by_the_largest_magnitude():
    """A map whose strongest entry is negative: the scale (and the bar's ±vmax) is its |value|, so that
    entry is full blue and a positive half as large is half red; an all-negative map is not scaled by 1."""
    grid, cell = (2, 2), (0, 0)
    values = np.array([-2.0, 1.0, 0.0, 0.0])
    grey = np.full((40, 40, 3), 128, np.uint8)
    img, vmax = draw.weights_on_photo(grey, values, grid, cell, side=40, alpha=1.0)
    assert vmax == 2.0
    assert tuple(img[10, 30]) == tuple(diverging(np.array([1.0]), 2.0)[0])  # patch (0, 1)
    assert tuple(img[30, 30]) == tuple(diverging(np.array([0.0]), 2.0)[0])
    m = np.array([[-4.0, 0.0], [0.0, -1.0]])
    mimg, mvmax = draw.matrix_image(m, side=8)
    assert mvmax == 4.0
    assert tuple(mimg[1, 1]) == tuple(diverging(np.array([-1.0]), 1.0)[0])  # full blue at −4
    assert tuple(mimg[5, 5]) == tuple(diverging(np.array([-0.25]), 1.0)[0])


def test_matrix_pictures_are_the_matrices():
    m = np.zeros((8, 8))
    m[2, 5] = 3.0
    m[6, 1] = -1.5
    img, vmax = draw.matrix_image(m, side=64)
    assert vmax == 3.0
    assert tuple(img[2 * 8 + 4, 5 * 8 + 4]) == tuple(diverging(np.array([3.0]), 3.0)[0])
    assert tuple(img[6 * 8 + 4, 1 * 8 + 4]) == tuple(diverging(np.array([-1.5]), 3.0)[0])
    assert tuple(img[0, 0]) == tuple(diverging(np.array([0.0]), 3.0)[0])


def test_locality_is_one_for_a_convolution_and_the_baseline_for_no_preference():
    from core.repmlp import conv_to_fc

    kernel = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    w_fc, _ = conv_to_fc(kernel, torch.zeros(1, dtype=torch.float64), 6, 6)
    assert ops.locality(w_fc, (6, 6), 1) == pytest.approx(1.0)
    assert ops.locality(torch.ones(36, 36), (6, 6), 1) == pytest.approx(ops.locality_baseline((6, 6), 1))
    # 6×6 grid: interior patches have 9 neighbours within 3×3, edges 6, corners 4 → (16·9 + 16·6 + 4·4)/36
    assert ops.locality_baseline((6, 6), 1) == pytest.approx((16 * 9 + 16 * 6 + 4 * 4) / 36 / 36)
    with pytest.raises(ValueError, match="N = 6×6"):
        ops.locality(torch.ones(35, 35), (6, 6), 1)


# --------------------------------------------------------------------------------------------- #
# Cycle FC and the axial shift


def _official_offset(channels: int, kernel_size: tuple[int, int]) -> torch.Tensor:
    """The offsets of the official CycleMLP code (``CycleFC.gen_offset``), written from it: ``(1, 2C, 1,
    1)``, (dy, dx) per input channel (one deform_conv2d offset group per channel, a 1×1 kernel)."""
    offset = torch.empty(1, channels * 2, 1, 1)
    start_idx = (kernel_size[0] * kernel_size[1]) // 2
    for i in range(channels):
        if kernel_size[0] == 1:
            offset[0, 2 * i + 0, 0, 0] = 0
            offset[0, 2 * i + 1, 0, 0] = (i + start_idx) % kernel_size[1] - (kernel_size[1] // 2)
        else:
            offset[0, 2 * i + 0, 0, 0] = (i + start_idx) % kernel_size[0] - (kernel_size[0] // 2)
            offset[0, 2 * i + 1, 0, 0] = 0
    return offset


@pytest.mark.parametrize("kernel", [(1, 3), (3, 1), (1, 7), (7, 1), (1, 5)])
@pytest.mark.parametrize("seed", [0, 1])
def test_cycle_fc_equals_deform_conv2d_with_the_official_offsets(kernel, seed):
    g = torch.Generator().manual_seed(seed)
    b, c, o, h, w = 2, 11, 6, 7, 9
    x = torch.randn(b, c, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(o, c, 1, 1, generator=g, dtype=torch.float64)
    bias = torch.randn(o, generator=g, dtype=torch.float64)
    offset = _official_offset(c, kernel).double().expand(b, -1, h, w)
    ref = deform_conv2d(x, offset, weight, bias)
    got = ops.cycle_fc(x, weight, bias, kernel)
    assert (got - ref).abs().max() <= 1e-12
    off = ops.cycle_offsets(c, kernel)
    assert torch.equal(off.double(), offset[0, :, 0, 0].view(c, 2))


def test_cycle_offsets_step_through_the_pseudo_kernel_and_dilate():
    assert ops.cycle_offsets(7, (1, 3))[:, 1].tolist() == [0, 1, -1, 0, 1, -1, 0]
    assert ops.cycle_offsets(8, (1, 7))[:, 1].tolist() == [0, 1, 2, 3, -3, -2, -1, 0]
    assert ops.cycle_offsets(4, (3, 1))[:, 0].tolist() == [0, 1, -1, 0]
    assert ops.cycle_offsets(4, (1, 3), dilation=2)[:, 1].tolist() == [0, 2, -2, 0]
    x = torch.randn(1, 5, 6, 6, dtype=torch.float64)
    w = torch.randn(3, 5, 1, 1, dtype=torch.float64)
    off = _official_offset(5, (1, 3)).double() * 2  # the dilated variant is deform_conv2d with 2× offsets
    ref = deform_conv2d(x, off.expand(1, -1, 6, 6), w, None)
    assert (ops.cycle_fc(x, w, None, (1, 3), dilation=2) - ref).abs().max() <= 1e-12
    with pytest.raises(ValueError, match="1×k or k×1"):
        ops.cycle_offsets(4, (3, 3))


def test_axial_shift_on_a_hand_computed_example():
    # 3 channels, shift size 3: groups of one channel; group g reads pad − g = 1, 0, −1 cells away
    x = torch.arange(1.0, 28.0).view(1, 3, 3, 3)  # channel c holds 9c+1 … 9c+9, row-major
    down = ops.axial_shift(x, 3, dim=2)  # along the height
    assert down[0, 0].tolist() == [[4, 5, 6], [7, 8, 9], [0, 0, 0]]  # reads the row below
    assert down[0, 1].tolist() == [[10, 11, 12], [13, 14, 15], [16, 17, 18]]  # unshifted
    assert down[0, 2].tolist() == [[0, 0, 0], [19, 20, 21], [22, 23, 24]]  # reads the row above
    side = ops.axial_shift(x, 3, dim=3)  # along the width
    assert side[0, 0].tolist() == [[2, 3, 0], [5, 6, 0], [8, 9, 0]]
    assert side[0, 2].tolist() == [[0, 19, 20], [0, 22, 23], [0, 25, 26]]
    wide = ops.axial_shift(x, 3, dim=3, dilation=2)
    assert wide[0, 0].tolist() == [[3, 0, 0], [6, 0, 0], [9, 0, 0]]


def _official_torch_shift(x: torch.Tensor, shift_size: int, dim: int) -> torch.Tensor:
    """The PyTorch form kept (commented out) in the official AS-MLP ``AxialShift.forward``: pad, split
    the channels into ``shift_size`` chunks, roll chunk g by g − pad, crop."""
    pad = shift_size // 2
    _, _, h, w = x.shape
    x = F.pad(x, (pad, pad, pad, pad), "constant", 0)
    xs = torch.chunk(x, shift_size, 1)
    x_shift = [torch.roll(x_c, shift, dim) for x_c, shift in zip(xs, range(-pad, pad + 1), strict=False)]
    x_cat = torch.cat(x_shift, 1)
    x_cat = torch.narrow(x_cat, 2, pad, h)
    return torch.narrow(x_cat, 3, pad, w)


@pytest.mark.parametrize("channels, shift_size", [(10, 5), (12, 3), (14, 5), (21, 7), (13, 3)])
def test_axial_shift_equals_the_official_torch_form_on_random_inputs(channels, shift_size):
    # channel counts where torch.chunk makes shift_size chunks of ceil(C/s), the CUDA kernel's groups
    assert math.ceil(channels / math.ceil(channels / shift_size)) == shift_size
    x = torch.randn(2, channels, 6, 5, dtype=torch.float64)
    for dim in (2, 3):
        assert torch.equal(ops.axial_shift(x, shift_size, dim), _official_torch_shift(x, shift_size, dim))


def test_the_mixers_run_at_any_resolution_and_the_flat_ones_do_not():
    cyc, asm = ops.CycleMixer(16).eval(), ops.AxialShiftMixer(16).eval()
    for side in (5, 9):
        assert cyc(torch.randn(1, side, side, 16)).shape == (1, side, side, 16)
        assert asm(torch.randn(1, 16, side, side)).shape == (1, 16, side, side)
    block = MixerBlock(16, seq_len=25)
    block(torch.randn(1, 25, 16))
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        block(torch.randn(1, 81, 16))


def test_fixed_reads_fields_and_matrices(result):
    s = result.summary
    cyc, asm = s["cyclemlp"], s["asmlp"]
    assert cyc["union_cells"] == 5 and cyc["field_cells"] == [5, 13, 25]  # a cross, then diamonds
    assert asm["union_cells"] == 9 and asm["field_cells"][0] == 9  # ±2 along each axis
    assert cyc["branches"][0] == [[0, 0], [0, 1], [0, -1], [0, 0], [0, 1], [0, -1], [0, 0], [0, 1]]
    assert asm["channels_shown"][0] == 0 and asm["branches"][0][0] == [0, 2]  # group 0 reads +2 cells
    assert asm["branches"][1][-1] == [-2, 0]  # the last group along the height: −2
    assert 4.5 < cyc["nonzero_per_row"] <= 5 and 8 < asm["nonzero_per_row"] <= 9  # fewer at the borders
    dil = lesson.run(result_image(), shift_size=3, dilation=2, cycle_kernel=5).summary
    assert dil["asmlp"]["union_cells"] == 5 and dil["asmlp"]["field_cells"][1] == 13
    assert dil["cyclemlp"]["union_cells"] == 9


def test_the_fixed_mixers_matrix_is_the_share_of_channels_read():
    """M[i, j] is the share of all channels of all branches that output i reads from input j: an inside
    patch's row sums to 1; CycleMLP k = 3 (width, height, channel FC; 384 channels, a third per offset)
    reads itself with 5/9 (⅓ + ⅓ + 1 of the three branches) and each of its 4 neighbours with 1/9."""
    g = lesson.FIELD_GRID
    fixed = lesson._fixed_mixers(3, 5, 1, 8, (7, 7))
    for name in ("cyclemlp", "asmlp"):
        mat = fixed[name]["matrix"]
        inner = [r * g + c for r in range(2, g - 2) for c in range(2, g - 2)]
        assert mat[inner].sum(1) == pytest.approx(np.ones(len(inner))), name
        assert (mat.sum(1) <= 1 + 1e-12).all() and mat[0].sum() < 1  # a corner reads outside the grid
    cyc = fixed["cyclemlp"]["matrix"]
    i = 7 * g + 7
    assert cyc[i, i] == pytest.approx(5 / 9)
    for j in (i - 1, i + 1, i - g, i + g):
        assert cyc[i, j] == pytest.approx(1 / 9)


def result_image():
    from core.images import load_image
    from core.zoo import ROOT

    return load_image(ROOT / "assets" / "images" / "chelsea-cat.jpg")


# --------------------------------------------------------------------------------------------- #
# data dependent: the Mixer's Jacobian and ViT attention


def test_token_mlp_jacobian_equals_autograd_on_a_small_block():
    torch.manual_seed(0)
    block = MixerBlock(8, seq_len=12).double().eval()
    u = torch.randn(12, 8, dtype=torch.float64)
    f = lambda v: block.mlp_tokens(v.T).T  # noqa: E731 - (N, C) → (N, C), the token MLP alone
    full = torch.autograd.functional.jacobian(f, u)  # (N, C, N, C)
    ours = ops.token_mlp_jacobian(block.mlp_tokens, u)  # (N, N, C)
    diag = torch.diagonal(full, dim1=1, dim2=3)  # ∂y[i, c]/∂u[j, c] → (N, N, C)
    assert (ours - diag).abs().max() <= 1e-12
    off = full.clone()
    for c in range(8):
        off[:, c, :, c] = 0
    assert off.abs().max() == 0  # the token MLP never mixes channels
    assert (ops.token_mlp_mean_jacobian(block.mlp_tokens, u) - diag.mean(-1)).abs().max() <= 1e-12


def test_the_pages_jacobian_is_autograd_on_the_same_block(result, loaded, cat):
    from core import zoo

    s = result.summary
    net = loaded["mixer"].model
    x = zoo.preprocess(loaded["mixer"], cat)
    blk = net.blocks[s["mixer"]["block"]]
    with torch.no_grad():
        tokens = net.stem(x)[0]
        u = blk.norm1(tokens).double().requires_grad_(True)
    mlp64 = lesson._double_mlp(blk.mlp_tokens)
    i = s["patch"]["mixer"]["index"]
    y = mlp64(u.T).T[i]  # (C,) output patch i
    (grad,) = torch.autograd.grad(y.sum(), u)  # Σ_c ∂y[i, c]/∂u[j, c'] = ∂y[i, c]/∂u[j, c]
    np.testing.assert_allclose(s["mixer"]["jacobian_row_mean"], grad.mean(1).numpy(), atol=1e-12)
    lo, hi = s["mixer"]["gelu_slope_range"]
    assert -0.2 < lo < hi < 1.2  # GELU' lies in about [−0.17, 1.13]


def test_vit_attention_row_equals_timms_attention(result, loaded, cat):
    import copy

    from core import zoo

    s = result.summary
    vt = loaded["vit"]
    net = copy.deepcopy(vt.model)
    maps = []
    for blk in net.blocks:
        blk.attn.fused_attn = False
        blk.attn.attn_drop.register_forward_hook(lambda m, i, o: maps.append(i[0]))
    with torch.inference_mode():
        net(zoo.preprocess(vt, cat))
    a = maps[s["vit"]["block"]][0].mean(0).double()
    p = s["vit"]["prefix_tokens"]
    row = a[p + s["patch"]["vit"]["index"]]
    np.testing.assert_allclose(s["vit"]["attention_row"], row[p:].numpy(), atol=1e-6)
    assert s["vit"]["cls_share"] == pytest.approx(float(row[:p].sum()), abs=1e-6)
    assert sum(s["vit"]["attention_row"]) + s["vit"]["cls_share"] == pytest.approx(1.0, abs=1e-5)


# --------------------------------------------------------------------------------------------- #
# resolution and cost


def test_costs_are_the_layers_own_parameters_and_the_formulas():
    costs = lesson.mixer_costs((224, 448))
    by = {r["mixer"].split(" ")[0]: r for r in costs["rows"]}
    for size_i, n in ((0, 196), (1, 784)):
        res, gm, mx = (by[k]["costs"][size_i] for k in ("ResMLP-12", "gMLP-S", "Mixer-B/16"))
        assert res["params"] == n * n + n and res["macs"] == n * n * 384
        assert gm["params"] == n * n + n + 2 * 768 and gm["macs"] == n * n * 768
        assert mx["params"] == 2 * n * 384 + n + 384 and mx["macs"] == 2 * n * 384 * 768
        vit = by["ViT-S"]["costs"][size_i]
        assert vit["params"] == 4 * 384 * 384 + 4 * 384 and vit["macs"] == 4 * n * 384 ** 2 + 2 * n * n * 384
        asm = by["AS-MLP"]["costs"][size_i]
        assert asm["params"] == 4 * (384 * 384 + 384) + 4 * 384 and asm["macs"] == 4 * n * 384 ** 2
        cyc = by["CycleMLP"]["costs"][size_i]
        c = 320
        assert cyc["macs"] == 4 * n * c * c + c * (c // 4) + (c // 4) * 3 * c
    # the real (CPU) modules have the parameters counted on the meta device
    real, _ = lesson._mixer_module("CycleMLP (C = 320)", 320, 196, device="cpu")
    assert sum(p.numel() for p in real.parameters()) == by["CycleMLP"]["costs"][0]["params"]
    for label in ("ResMLP-12 (C = 384)", "gMLP-S (gate 768)", "Mixer-B/16 (C = 768, D_S = 384)"):
        assert "shapes cannot be multiplied" in costs["token_layer_errors"][label]
        assert "784" in costs["token_layer_errors"][label]


def test_the_page_prints_the_errors_of_a_larger_image(result):
    s = result.summary
    (title, entry), = s["network_errors"].items()
    assert entry["size"] == 2 * s["models"]["resmlp"]["input_size"]
    assert f"Input height ({entry['size']})" in entry["error"]
    assert s["cost"]["token_layer_errors"]["ResMLP-12 (C = 384)"].startswith("mat1 and mat2 shapes")
    sizes = [c["size"] for c in s["cost"]["rows"][0]["costs"]]
    assert sizes == list(lesson.COST_SIZES)
    flat = [r for r in s["cost"]["rows"] if r["tied_to_tokens"]]
    assert {r["mixer"].split(" ")[0] for r in flat} == {"ResMLP-12", "gMLP-S", "Mixer-B/16"}


# --------------------------------------------------------------------------------------------- #
# the lesson's pictures, refusals and the page


def test_every_picture_is_drawn(result):
    imgs = result.images
    assert set(imgs) == {"feeds", "locality", "matrices", "fixed", "cost"}
    for key, img in imgs.items():
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3, key
        assert img.std() > 10, f"{key} is blank"
    # the feeds figure: 2×2 panels of SIDE px photos with their colour bars
    from core.viz.attention_viz import GRID_GAP, GRID_TITLE

    h, w = imgs["feeds"].shape[:2]
    assert h == 2 * (GRID_TITLE + draw.SIDE) + GRID_GAP and w == 2 * draw.PANEL_WIDTH + GRID_GAP


def test_a_click_on_the_feeds_figure_picks_the_patch():
    from core.viz.attention_viz import GRID_GAP, GRID_TITLE

    assert lesson.click_to_query(112, GRID_TITLE + 56) == (0.5, 0.25)
    x = draw.PANEL_WIDTH + GRID_GAP + 56
    y = 2 * GRID_TITLE + draw.SIDE + GRID_GAP + 168
    assert lesson.click_to_query(x, y) == (0.25, 0.75)
    assert lesson.click_to_query(draw.SIDE + 10, 100) is None  # on a colour bar
    assert lesson.click_to_query(50, 10) is None  # on a title


# --------------------------------------------------------------------------------------------- #
# the locality chart, the cost chart and the fixed reads, read back from their pixels


def _bar_tops(chart: np.ndarray, axes, radius: int, colour) -> list[int]:
    """The top row of each block's bar, read up from the x axis in a column between the baseline's dashes
    (drawn over columns left + 8k … left + 8k + 4)."""
    tops = []
    for b in range(axes.blocks):
        x0, x1 = axes.bar_x(b, radius)
        col = next(x for x in range(x0, x1 + 1) if (x - axes.left) % 8 > 4)
        assert tuple(chart[axes.floor, col]) == colour, f"block {b}'s bar does not stand on the axis"
        y = axes.floor
        while tuple(chart[y - 1, col]) == colour:
            y -= 1
        tops.append(y)
    return tops


def _baseline_rows(chart: np.ndarray, axes, colour) -> list[int]:
    """Rows of ``colour`` in a dash column between block 0's bars and block 1's (no bar there)."""
    start, stop = axes.bar_x(0, 2)[1] + 1, axes.bar_x(1, 1)[0]
    col = next(x for x in range(start, stop) if (x - axes.left) % 8 <= 4)
    return [y for y in range(axes.top, axes.floor) if tuple(chart[y, col]) == colour]


def test_the_locality_chart_draws_each_blocks_shares_and_the_baselines():
    loc = {1: [0.2, 0.8, 0.5, 0.05], 2: [0.6, 0.9, 0.7, 0.3]}
    uniform = {1: 0.1, 2: 0.25}
    chart = draw._locality_chart(loc, uniform, "embedded")
    axes = draw.LocalityAxes(4)
    assert chart.shape == (axes.height, axes.width, 3)
    for r, colour in ((1, draw.READ), (2, draw.FIELD)):
        tops = _bar_tops(chart, axes, r, colour)
        heights = [axes.floor - t for t in tops]
        assert tops == [axes.value_y(v) for v in loc[r]]
        assert heights == pytest.approx([v * axes.plot_h for v in loc[r]], abs=1.0)  # heights ∝ shares
        assert np.argsort(heights).tolist() == np.argsort(loc[r]).tolist()
        assert _baseline_rows(chart, axes, colour) == [axes.value_y(uniform[r])]
    # other numbers, another chart: blocks 0 and 1 swapped read back swapped
    swapped = draw._locality_chart({1: [0.8, 0.2, 0.5, 0.05], 2: loc[2]}, uniform, "embedded")
    assert _bar_tops(swapped, axes, 1, draw.READ) == [axes.value_y(v) for v in (0.8, 0.2, 0.5, 0.05)]


def test_the_pages_locality_chart_is_the_summarys_locality(result):
    from core.viz.attention_viz import GRID_GAP, GRID_TITLE

    s = result.summary
    blocks = s["models"]["resmlp"]["blocks"]
    side = 120 if blocks <= 8 else 112
    tile_rows = math.ceil(blocks / 6)
    axes = draw.LocalityAxes(blocks)
    y0 = tile_rows * (GRID_TITLE + side + GRID_GAP) + GRID_TITLE  # the chart is the figure's last row
    chart = result.images["locality"][y0:y0 + axes.height, :axes.width]
    for r, key, colour in ((1, "3x3", draw.READ), (2, "5x5", draw.FIELD)):
        values = s["resmlp"][f"locality_{key}"]
        assert _bar_tops(chart, axes, r, colour) == [axes.value_y(v) for v in values], key
        assert _baseline_rows(chart, axes, colour) == [axes.value_y(s["resmlp"]["locality_uniform"][key])]


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def _colour_near(img: np.ndarray, xy: tuple[int, int], colour: np.ndarray, radius: int = 6,
                 tol: int = 40) -> bool:
    x, y = xy
    window = img[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1].astype(int)
    return bool((np.abs(window - colour).max(-1) <= tol).any())


def test_the_cost_chart_marks_each_mixers_costs_where_its_axes_put_them(result):
    costs = result.summary["cost"]
    chart, marks = draw.render_cost_chart(costs)
    assert np.array_equal(result.images["cost"][:chart.shape[0]], chart)  # the page's chart is this one
    rows = costs["rows"]
    exponent = {}
    for key in ("params", "macs"):
        pts = [(xy, c[key], c["tokens"]) for r in rows for xy, c in zip(marks[r["mixer"]][key], r["costs"],
                                                                          strict=True)]
        # log–log: a mark's column is linear in log(size), its row in log(value), one line per panel
        xs, ys = np.array([p[0] for p in pts], float).T
        ly = np.polyfit(np.log10([p[1] for p in pts]), ys, 1)
        lx = np.polyfit(np.log10([p[2] for p in pts]), xs, 1)
        assert np.abs(np.polyval(ly, np.log10([p[1] for p in pts])) - ys).max() <= 1.0
        assert np.abs(np.polyval(lx, np.log10([p[2] for p in pts])) - xs).max() <= 1.0
        for r, colour in zip(rows, draw.COST_PALETTE, strict=True):
            at = marks[r["mixer"]][key]
            for (x, y), c in zip(at, r["costs"], strict=True):
                assert _colour_near(chart, (x, y), _hex(colour)), (r["mixer"], key, c["size"])
                # and not a quarter of the value lower (inside the panel): the mark is at the value
                y4 = int(round(np.polyval(ly, np.log10(c[key] / 4))))
                if y4 <= ys.max():
                    assert not _colour_near(chart, (x, y4), _hex(colour), radius=2), (r["mixer"], key)
            # the slope the reader sees, in decades of value per decade of tokens
            (x0, y0), (x1, y1) = at[0], at[-1]
            exponent[r["mixer"].split(" ")[0], key] = ((y1 - y0) / ly[0]) / ((x1 - x0) / lx[0])
    for name in ("ResMLP-12", "gMLP-S"):  # one token-mixing matrix of N² entries
        assert exponent[name, "params"] == pytest.approx(2, abs=0.05)
        assert exponent[name, "macs"] == pytest.approx(2, abs=0.05)
    assert exponent["Mixer-B/16", "params"] == pytest.approx(1, abs=0.05)
    for name in ("Mixer-B/16", "CycleMLP", "AS-MLP"):  # linear in the tokens
        assert exponent[name, "macs"] == pytest.approx(1, abs=0.05)
    for name in ("CycleMLP", "AS-MLP", "ViT-S"):  # no layer of the token count: flat
        assert exponent[name, "params"] == pytest.approx(0, abs=0.01)
    assert 1.05 < exponent["ViT-S", "macs"] < 2  # N·C² projections plus N²·C attention


def test_the_cost_chart_prints_the_errors_of_the_token_bound_mixers_only(result):
    from core.viz.draw import caption_bar

    s = result.summary
    costs = s["cost"]
    chart, _ = draw.render_cost_chart(costs)
    tied = [r["mixer"] for r in costs["rows"] if r["tied_to_tokens"]]
    assert [label for label, m in costs["token_layer_errors"].items() if m] == tied
    (title, entry), = s["network_errors"].items()
    n = (costs["error_size"] // costs["patch"]) ** 2
    lines = [f"A {costs['error_size']}-px image is {n} tokens. What the layers built for 196 say:"]
    lines += [f"  {label.split(' ')[0]}: {costs['token_layer_errors'][label]}" for label in tied]
    lines += [f"  the page's {title.split(' · ')[0]} on a {entry['size']}-px image: {entry['error']}",
              "  CycleMLP and AS-MLP: any size (their layers act on channels; the shifts are fixed)"]
    img = result.images["cost"]
    assert img.shape[0] == chart.shape[0] + 24 * len(lines)
    for i, line in enumerate(lines):
        strip = img[chart.shape[0] + 24 * i:chart.shape[0] + 24 * (i + 1)]
        assert np.array_equal(strip, caption_bar(line, img.shape[1], height=24, scale=0.5)), line


FIXED_TILE = 112  # core.viz.mlp._cells_on_photo's side


def _fixed_tile(img: np.ndarray, row: int, col: int) -> np.ndarray:
    from core.viz.attention_viz import GRID_GAP, GRID_TITLE

    y = row * (GRID_TITLE + FIXED_TILE + GRID_GAP) + GRID_TITLE
    x = col * (FIXED_TILE + GRID_GAP)
    return img[y:y + FIXED_TILE, x:x + FIXED_TILE]


def _marked(tile: np.ndarray, colour, grid: int = lesson.FIELD_GRID) -> np.ndarray:
    """The cells a reader sees in ``colour``: most of the cell is the colour blended at 0.75 over the
    faded photo (whose channels are ≥ 0.45·255), so the channel the colour lacks stays low."""
    c = np.asarray(colour, float)
    lo, hi = 0.75 * c + 0.25 * 0.45 * 255 - 2, 0.75 * c + 0.25 * 255 + 2
    fill = ((tile >= lo) & (tile <= hi)).all(-1)
    step = FIXED_TILE // grid
    return fill.reshape(grid, step, grid, step).mean((1, 3)) >= 0.4


def _expected_field(offsets: list[torch.Tensor], position: tuple[int, int], depth: int,
                    grid: int = lesson.FIELD_GRID) -> np.ndarray:
    reach = {tuple(o) for s in offsets for o in s.tolist()}
    field = {position}
    for _ in range(depth):
        field = {(y + dy, x + dx) for y, x in field for dy, dx in reach
                 if 0 <= y + dy < grid and 0 <= x + dx < grid}
    mask = np.zeros((grid, grid), bool)
    for y, x in field:
        mask[y, x] = True
    return mask


def _check_fixed_picture(img: np.ndarray, position: tuple[int, int], kernel: int, shift: int,
                         dilation: int, shown: dict[str, list[int]],
                         field_cells: dict[str, list[int]] | None = None) -> None:
    g, dim = lesson.FIELD_GRID, 384
    sets = {"cyclemlp": [ops.cycle_offsets(dim, (1, kernel)), ops.cycle_offsets(dim, (kernel, 1)),
                         torch.zeros(dim, 2, dtype=torch.long)],
            "asmlp": [ops.axial_offsets(dim, shift, 3, dilation), ops.axial_offsets(dim, shift, 2, dilation)]}
    row = 0
    for name in ("cyclemlp", "asmlp"):
        for branch in sets[name][:2]:  # the channel FC (reads the position itself) has no row
            for i, ch in enumerate(shown[name]):
                dy, dx = branch[ch].tolist()
                want = np.zeros((g, g), bool)
                if 0 <= position[0] + dy < g and 0 <= position[1] + dx < g:
                    want[position[0] + dy, position[1] + dx] = True
                got = _marked(_fixed_tile(img, row, i), draw.READ)
                assert np.array_equal(got, want), (name, row, ch, (dy, dx), np.argwhere(got).tolist())
            row += 1
        for d in range(3):
            want = _expected_field(sets[name], position, d + 1)
            got = _marked(_fixed_tile(img, row, d), draw.READ if d == 0 else draw.FIELD)
            assert np.array_equal(got, want), (name, d + 1, np.argwhere(got ^ want).tolist())
            if field_cells is not None:
                assert int(got.sum()) == field_cells[name][d]
                # the tile's title states that count whole ("×2 → 13"; "2 mixers: 13" was cut to "2 mixer…")
                from core.viz.attention_viz import GRID_GAP, GRID_TITLE
                from core.viz.draw import _fit, caption_bar

                y, x = row * (GRID_TITLE + FIXED_TILE + GRID_GAP), d * (FIXED_TILE + GRID_GAP)
                title = caption_bar(f"×{d + 1} → {field_cells[name][d]}", FIXED_TILE, GRID_TITLE, 0.7)
                assert np.array_equal(img[y:y + GRID_TITLE, x:x + FIXED_TILE], title), (name, d)
                assert "…" not in _fit(f"×{d + 1} → {field_cells[name][d]}", FIXED_TILE - 12, 0.7)
        row += 1
    # the output position's box: yellow just outside its cell, in every tile
    step = FIXED_TILE // g
    tile = _fixed_tile(img, 0, 0)
    r, c = position
    y0, x0 = r * step - 1, c * step - 1
    if y0 >= 0 and x0 >= 0:
        assert tuple(tile[y0, x0 + step // 2]) == draw.YELLOW
        assert tuple(tile[y0 + step // 2, x0]) == draw.YELLOW


def test_the_fixed_picture_marks_the_cells_each_channel_reads_and_the_grown_field(result):
    s = result.summary
    position = lesson._cell((lesson.FIELD_GRID,) * 2, s["query"]["x"], s["query"]["y"])
    shown = {name: s[name]["channels_shown"] for name in ("cyclemlp", "asmlp")}
    cells = {name: s[name]["field_cells"] for name in ("cyclemlp", "asmlp")}
    _check_fixed_picture(result.images["fixed"], position, s["cyclemlp"]["kernel"], s["asmlp"]["shift_size"],
                         s["asmlp"]["dilation"], shown, cells)


@pytest.mark.parametrize("position, kernel, shift, dilation", [((0, 13), 3, 5, 1), ((12, 1), 5, 3, 2)])
def test_the_fixed_picture_at_the_border_drops_the_cells_outside(position, kernel, shift, dilation):
    rng = np.random.default_rng(0)
    view = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)  # any photo: the marks must still read back
    fixed = lesson._fixed_mixers(kernel, shift, dilation, 8, position)
    img = draw.fixed_picture(view, fixed, (lesson.FIELD_GRID,) * 2, position)
    shown = {name: fixed[name]["channels_shown"] for name in ("cyclemlp", "asmlp")}
    _check_fixed_picture(img, position, kernel, shift, dilation, shown,
                         {name: fixed[name]["field_cells"] for name in ("cyclemlp", "asmlp")})


@pytest.mark.parametrize("kwargs, message", [
    (dict(block=30), "Block must be between 0 and 29"),
    (dict(query_x=1.5), "Patch x must be between"),
    (dict(cycle_kernel=4), "Cycle FC pseudo-kernel must be odd"),
    (dict(shift_size=0), "AS-MLP shift size must be between 1 and 9"),
    (dict(model="mixer-b16"), "ResMLP must be one of"),
    (dict(dilation="two"), "AS-MLP dilation must be a number"),
])
def test_bad_parameters_get_messages_naming_them(cat, kwargs, message):
    with pytest.raises(ValueError, match=message):
        lesson.run(cat, **kwargs)


def test_pages_link_each_other():
    import gradio as gr

    from apps import mlp, repmlp

    def texts(blocks: gr.Blocks) -> str:
        return " ".join(str(b.value) for b in blocks.blocks.values() if isinstance(b, gr.Markdown))

    assert "](/repmlp)" in texts(mlp.build())
    assert "](/mlp)" in texts(repmlp.build())


def test_page_status_and_chinese_captions(result):
    from apps import mlp as page

    summary = result.to_json()
    status, *labels = page._extras(summary, "resmlp-12-mlp", "auto", "en")
    assert "share of |w| within 3×3" in status["value"] and labels[0]["label"] == summary["captions"]["feeds"]
    status_zh, *labels_zh = page._extras(summary, "resmlp-12-mlp", "auto", "zh")
    assert "邻域" in status_zh["value"] and "patch" in labels_zh[0]["label"]
    random = lesson.run(result_image(), model="resmlp-shapes", weights="random").to_json()
    status_r, *_ = page._extras(random, "resmlp-shapes", "random", "en")
    assert "random" in status_r["elem_classes"]


def test_endpoint_with_only_an_image(client, cat_path):
    from gradio_client import handle_file

    from apps.mlp import IMAGE_KEYS

    *images, summary = client.predict(handle_file(str(cat_path)), api_name="/mlp")
    assert len(images) == len(IMAGE_KEYS) and all(os.path.isfile(p) for p in images)
    assert summary["resmlp"]["block"] == 0 and summary["patch"]["resmlp"]["index"] >= 0
    assert summary["cyclemlp"]["union_cells"] == 5
    with pytest.raises(Exception, match="Block"):
        client.predict(handle_file(str(cat_path)), api_name="/mlp", block=31)


@pytest.mark.browser
def test_browser_click_a_patch_reruns_with_it(app_url, cat_path, tmp_path):
    """In chromium: Run on the cat, then a click on the first figure's top-left photo moves the patch
    sliders to the clicked point and re-runs (the figure changes), without an error."""
    from tests.test_browser import CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    from core.viz.attention_viz import GRID_TITLE

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{app_url.rstrip('/')}/mlp", wait_until="domcontentloaded")
            run = page.locator("button.lenslab-run").first
            run.wait_for(state="visible", timeout=60_000)
            photo = tmp_path / "mlp-cat.jpg"
            shutil.copy(cat_path, photo)
            page.locator("input[type=file]").first.set_input_files(str(photo))
            page.locator(f"img[src*='{photo.name}']").first.wait_for(state="visible", timeout=30_000)
            run.click()
            figure = page.locator(".lenslab-outputs img").first
            page.wait_for_function("""() => [...document.querySelectorAll('.lenslab-outputs img')]
                .filter(i => i.complete && i.naturalWidth > 0).length >= 5""", timeout=180_000)
            assert page.locator(".toast-body.error").count() == 0
            first_src = figure.get_attribute("src")
            figure.scroll_into_view_if_needed()
            box = figure.bounding_box()
            natural = figure.evaluate("i => [i.naturalWidth, i.naturalHeight]")
            sx, sy = box["width"] / natural[0], box["height"] / natural[1]
            # the top-left photo's point (0.25, 0.75)
            page.mouse.click(box["x"] + 0.25 * draw.SIDE * sx,
                             box["y"] + (GRID_TITLE + 0.75 * draw.SIDE) * sy)
            page.wait_for_function("s => document.querySelector('.lenslab-outputs img').src !== s",
                                   arg=first_src, timeout=180_000)
            values = [float(v) for v in page.locator("input[type=number]").evaluate_all(
                "els => els.map(e => e.value)") if v]
            assert any(abs(v - 0.25) < 0.02 for v in values) and any(abs(v - 0.75) < 0.02 for v in values)
            assert page.locator(".toast-body.error").count() == 0
        finally:
            browser.close()


# --------------------------------------------------------------------------------------------- #
# the embedded ShapesWorld ResMLP: trainer, weights, card, offline default


def test_trainer_smoke(tmp_path):
    from safetensors.torch import load_file

    from core.train import TRAINERS, get_trainer

    assert TRAINERS["resmlp-shapes"] == "core.train.mlp:train"
    report = get_trainer("resmlp-shapes")("resmlp-shapes", steps=2, out=tmp_path, smoke=True)
    net = ops.shapes_resmlp()
    missing, unexpected = net.load_state_dict(load_file(str(report.weights)), strict=False)
    assert not missing and not unexpected
    card = report.card.read_text(encoding="utf-8")
    assert "Locality of the cross-patch layers" in card and "distillation from `resnet-shapes`" in card
    assert report.metrics["locality_3x3_uniform"] == pytest.approx(ops.locality_baseline((12, 12), 1))


def test_patch_targets_name_the_class_under_most_of_each_patch():
    from core.train.mlp import _patch_targets

    sem = torch.zeros(2, 16, 16, dtype=torch.uint8)
    sem[0, :8, :5] = 3  # 40 of the first patch's 64 pixels: the patch is class 3 (id 2 + 1)
    sem[0, 8:, 8:] = 8
    sem[1, 8:, :8] = 1
    sem[1, 8:12, :8] = 2  # 32 : 32 — the tie goes to the lower id, as argmax does
    got = _patch_targets(sem, 8)
    assert got.tolist() == [[3, 0, 0, 8], [0, 0, 1, 0]]


def test_the_resmlp_trainers_scenes_carry_their_semantic_map_as_a_fourth_channel():
    from core.data.shapesworld import ShapesWorld
    from core.train.mlp import scenes_with_semantic

    world = ShapesWorld(96, "classify", seed=4)
    images, labels = scenes_with_semantic(world, range(3))
    assert images.shape == (3, 96, 96, 4) and images.dtype == np.uint8
    for i in range(3):
        scene = world.scene(i)
        assert np.array_equal(images[i, ..., :3], scene.image)
        assert np.array_equal(images[i, ..., 3], scene.semantic) and labels[i] == scene.label
        assert (scene.semantic == scene.label + 1).sum() > 0


def test_embedded_resmlp_is_trained_its_card_is_honest_and_the_offline_page_uses_it(result):
    import re

    from safetensors import safe_open

    from core import zoo
    from core.train.classifiers import heldout_worlds

    loaded = zoo.load_model("resmlp-shapes", "embedded")
    world = heldout_worlds(96)["top1_heldout_scenes"]
    x, y = world.batch(range(200), loaded.entry.mean, loaded.entry.std)
    with torch.inference_mode():
        accuracy = float((loaded.model(x).argmax(-1) == y).float().mean())
    card = (zoo.WEIGHTS_DIR / "resmlp-shapes.md").read_text(encoding="utf-8")
    with safe_open(str(zoo.WEIGHTS_DIR / "resmlp-shapes.safetensors"), "pt") as f:
        meta = f.metadata()

    def stated(name: str) -> float:
        return float(re.search(rf"\| {name} \| ([\d.]+) \|", card).group(1))

    assert stated("top1_heldout_scenes") == pytest.approx(float(meta["top1_heldout_scenes"]), abs=1e-3)
    assert abs(stated("top1_heldout_scenes") - accuracy) <= 0.1  # 200 of the card's 1000 scenes
    assert accuracy > 0.3  # chance is 1/8
    # the locality the card states is the shipped weights' own
    loc = ops.resmlp_locality(loaded.model)
    early = sum(loc[1][:3]) / 3
    assert stated("locality_3x3_early_blocks") == pytest.approx(early, abs=1e-3)
    assert stated("locality_3x3_uniform") == pytest.approx(ops.locality_baseline((12, 12), 1), abs=1e-3)
    # issue 19: the offline ResMLP's cross-patch rows are local — every block keeps clearly more of |w|
    # near the output patch than a matrix with no preference (0.056 within 3×3, 0.141 within 5×5)
    assert min(loc[1]) > 1.3 * ops.locality_baseline((12, 12), 1)
    assert min(loc[2]) > 1.25 * ops.locality_baseline((12, 12), 2)
    # and the lesson text's numbers are these weights' own
    top1 = round(100 * stated("top1_heldout_scenes"))
    for lang, accuracy_words in (("en", f"{top1} % of held-out"), ("zh", f"分类对 {top1}%")):
        words = (zoo.ROOT / "core" / "text" / f"mlp.{lang}.md").read_text(encoding="utf-8")
        for r in (1, 2):
            assert f"{min(loc[r]):.2f}–{max(loc[r]):.2f}" in words, (lang, r)
        assert accuracy_words in words, lang
    s = result.summary  # offline, the page's ResMLP-12 is this model
    assert s["models"]["resmlp"]["source"] == "embedded" and s["models"]["resmlp"]["arch"] == "resmlp-shapes"
    assert s["models"]["resmlp"]["grid"] == [12, 12]
    assert s["resmlp"]["locality_3x3"] == pytest.approx(loc[1], abs=1e-6)
