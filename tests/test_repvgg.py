"""Re-parameterisation: core.repvgg against timm's own ``reparameterize()``, the contract of
``merge_branches``, YOLOv7's placements, the lesson's numbers and pictures, the trainer, the endpoint.

Exactness: our merged kernels and biases equal those of timm's ``RepVggBlock`` / ``MobileOneBlock``
``reparameterize()`` and the merged conv's output equals the training-time block's, ≤ 1e-5 in float32
and ≤ 1e-10 in float64 — for dense and grouped (incl. depthwise) blocks, with and without the identity
branch, MobileOne's k-branch 3×3 and 1×1 blocks, whole networks, and RepConv / RepConvN on a shortcut
and in a concatenation. BatchNorm statistics are randomised so that folding is not trivial.
"""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from timm.models.byobnet import MobileOneBlock, RepVggBlock
from torch import nn

from core import repvgg as rv
from core import repvgg_lesson as lesson
from core.viz import repvgg as draw

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def _random_bn_(module: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            n = bn.num_features
            with torch.no_grad():
                bn.weight.copy_(torch.rand(n, generator=g) + 0.5)
                bn.bias.copy_(torch.randn(n, generator=g) * 0.3)
                bn.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                bn.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
    return module.eval()


BLOCKS = {
    "repvgg identity": lambda: RepVggBlock(16, 16),
    "repvgg no identity (stride 2)": lambda: RepVggBlock(16, 24, stride=2),
    "repvgg no identity (channels)": lambda: RepVggBlock(16, 24),
    "repvgg grouped g4": lambda: RepVggBlock(16, 16, group_size=4),
    "repvgg grouped no identity": lambda: RepVggBlock(16, 32, stride=2, group_size=8),
    "mobileone k=4 depthwise": lambda: MobileOneBlock(16, 16, group_size=1, num_conv_branches=4),
    "mobileone k=3 dense": lambda: MobileOneBlock(16, 16, num_conv_branches=3),
    "mobileone k=4 pointwise 1x1": lambda: MobileOneBlock(16, 16, kernel_size=1, num_conv_branches=4),
    "mobileone k=2 stride 2": lambda: MobileOneBlock(16, 32, stride=2, num_conv_branches=2),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("name", list(BLOCKS))
def test_our_merge_equals_timm_reparameterize(name, dtype):
    block = _random_bn_(BLOCKS[name]().to(dtype), seed=len(name))
    x = torch.randn(2, 16, 11, 9, dtype=dtype, generator=torch.Generator().manual_seed(1))
    ref = copy.deepcopy(block)
    ref.reparameterize()
    weight, bias = rv.merge_block(block)
    assert weight.dtype == dtype
    assert (weight - ref.reparam_conv.weight).abs().max() <= TOL[dtype]
    assert (bias - ref.reparam_conv.bias).abs().max() <= TOL[dtype]
    with torch.no_grad():
        train = block(x)
        ours = rv.DeployedBlock.of(block)(x)
        theirs = ref(x)
    assert (ours - train).abs().max() <= TOL[dtype] * max(1.0, float(train.abs().max()))
    assert (ours - theirs).abs().max() <= TOL[dtype] * max(1.0, float(train.abs().max()))
    info = rv.block_branches(block)
    assert info.has_identity == (block.identity is not None)
    # each branch is named by its own kernel size ("3×3 #2", "1×1"; a pointwise block's are "1×1 #k")
    sizes = [f"{w.shape[-1]}×{w.shape[-1]}" for _, w, _ in info.convs]
    assert [n.split(" ")[0] for n, _, _ in info.convs] == sizes


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("groups,identity,w1", [(1, True, True), (4, True, True), (1, False, True),
                                                 (4, False, True), (1, True, False), (2, False, False)])
def test_merge_branches_is_the_sum_of_the_three_branches(groups, identity, w1, dtype):
    """API.md: weight (O, C/g, 3, 3), bias (O,) equal to BN3(conv3x3) + BN1(conv1x1) + BN_id(x)."""
    g = torch.Generator().manual_seed(groups)
    c = 8
    conv3 = nn.Conv2d(c, c, 3, padding=1, groups=groups, bias=False).to(dtype)
    conv1 = nn.Conv2d(c, c, 1, groups=groups, bias=False).to(dtype)
    bn3, bn1, bnid = (_random_bn_(nn.BatchNorm2d(c).to(dtype), s) for s in (3, 4, 5))
    x = torch.randn(1, c, 7, 6, dtype=dtype, generator=g)
    with torch.no_grad():
        ref = bn3(conv3(x)) + (bn1(conv1(x)) if w1 else 0) + (bnid(x) if identity else 0)
    weight, bias = rv.merge_branches(conv3.weight, bn3, conv1.weight if w1 else None, bn1 if w1 else None,
                                     bnid if identity else None, groups=groups)
    assert isinstance(weight, np.ndarray) and weight.shape == (c, c // groups, 3, 3) and bias.shape == (c,)
    out = F.conv2d(x, torch.from_numpy(weight), torch.from_numpy(bias), padding=1, groups=groups)
    assert (out - ref).abs().max() <= TOL[dtype]


def test_merge_branches_absent_branches_mappings_and_plain_convs():
    c = 6
    bn = _random_bn_(nn.BatchNorm2d(c), 7)
    stats = {"gamma": bn.weight.detach().numpy(), "beta": bn.bias.detach().numpy(),
             "mean": bn.running_mean.numpy(), "var": bn.running_var.numpy(), "eps": bn.eps}
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().numpy()
    shift = (bn.bias - bn.running_mean * bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().numpy()
    # only the identity: a centred Dirac times γ/σ per channel, bias β − μγ/σ
    w, b = rv.merge_branches(None, None, bn_id=stats)
    expect = np.zeros((c, c, 3, 3), np.float32)
    expect[np.arange(c), np.arange(c), 1, 1] = scale
    np.testing.assert_allclose(w, expect, atol=1e-7)
    np.testing.assert_allclose(b, shift, atol=1e-6)
    # only a 1×1 without BN: the kernel sits at the centre of a zero 3×3, no bias
    w1 = np.random.default_rng(0).normal(size=(4, c, 1, 1)).astype(np.float64)
    w, b = rv.merge_branches(None, None, w1, None)
    assert w.shape == (4, c, 3, 3) and np.all(b == 0)
    np.testing.assert_array_equal(w[:, :, 1, 1], w1[:, :, 0, 0])
    assert np.count_nonzero(w) == np.count_nonzero(w1)
    # torch tensors and numpy arrays give the same answer
    w3 = torch.randn(c, c, 3, 3)
    a = rv.merge_branches(w3, bn)
    b2 = rv.merge_branches(w3.numpy(), stats)
    np.testing.assert_allclose(a[0], b2[0], atol=1e-7)
    np.testing.assert_allclose(a[1], b2[1], atol=1e-6)


@pytest.mark.parametrize("kwargs,message", [
    (dict(w3=np.zeros((4, 6, 3, 3)), bn3=None, bn_id=nn.BatchNorm2d(4).eval()), "identity branch needs"),
    (dict(w3=np.zeros((4, 4, 5, 5)), bn3=None), "w3 must be a 3×3"),
    (dict(w3=np.zeros((4, 4, 3, 3)), bn3=None, w1=np.zeros((4, 4, 3, 3)), bn1=None), "w1 must be a 1×1"),
    (dict(w3=None, bn3=None), "at least one branch"),
    (dict(w3=np.zeros((4, 4, 3, 3)), bn3=None, bn_id=nn.BatchNorm2d(6).eval()), "bn_id has 6 channels"),
    (dict(w3=np.zeros((4, 2, 3, 3)), bn3=None, groups=3), "cannot|groups"),
])
def test_merge_branches_refuses_with_a_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rv.merge_branches(**kwargs)


def test_dirac_kernel_per_group_is_the_identity():
    k = rv.dirac_kernel(6, groups=3)
    assert k.shape == (6, 2, 3, 3)
    assert [tuple(int(v) for v in idx) for idx in torch.nonzero(k)] == [
        (0, 0, 1, 1), (1, 1, 1, 1), (2, 0, 1, 1), (3, 1, 1, 1), (4, 0, 1, 1), (5, 1, 1, 1)]
    x = torch.randn(1, 6, 5, 5)
    assert torch.equal(F.conv2d(x, k, padding=1, groups=3), x)
    assert torch.equal(F.conv2d(x, rv.dirac_kernel(6, 6), padding=1, groups=6), x)  # depthwise


@pytest.mark.parametrize("arch", ["repvgg_a0", "mobileone_s0"])
def test_deployed_copy_of_a_whole_network(arch):
    import timm

    torch.manual_seed(0)
    net = _random_bn_(timm.create_model(arch, pretrained=False), 11)
    deployed = rv.deployed_copy(net)
    assert not rv.rep_blocks(deployed) and rv.rep_blocks(net)  # the original is untouched
    ref = copy.deepcopy(net)
    for _, block in rv.rep_blocks(ref):
        block.reparameterize()
    ours = {n: m.conv for n, m in deployed.named_modules() if isinstance(m, rv.DeployedBlock)}
    for name, block in ref.named_modules():
        if getattr(block, "reparam_conv", None) is not None:
            assert torch.equal(ours[name].weight, block.reparam_conv.weight), name
            assert (ours[name].bias - block.reparam_conv.bias).abs().max() <= 1e-6
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        a, b = net(x), deployed(x)
    assert (a - b).abs().max() <= 1e-5 * float(a.abs().max())
    topo = rv.topology(deployed)
    assert topo["batchnorm"] == 0 and topo["branch_adds"] == 0
    if arch == "repvgg_a0":
        assert topo["conv1x1"] == 0 and topo["conv3x3"] == 22 == rv.topology(net)["conv3x3"]
        assert rv.topology(net)["conv1x1"] == 22 and topo["parameters"] == 8_309_384


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
def test_yolov7_placements_merge_exactly_and_repconvn_drops_the_identity(dtype):
    block = _random_bn_(RepVggBlock(12, 12).to(dtype), 3)
    x = torch.randn(1, 12, 9, 9, dtype=dtype)
    rep = rv.repconv_from(block, identity=True, dtype=dtype)
    repn = rv.repconv_from(block, identity=False, dtype=dtype)
    assert rep.bn_id is not None and repn.bn_id is None
    with torch.no_grad():
        assert (rep(x) - block(x)).abs().max() <= TOL[dtype]  # the same block, LensLab's module
        pre = block.conv_kxk(x) + block.conv_1x1(x)
        assert (repn(x) - F.relu(pre)).abs().max() <= TOL[dtype]  # RepConvN = without the identity
        for wrap in (lambda r: r, rv.ResidualRep, rv.ConcatRep):
            for r in (rep, repn):
                train = wrap(r)
                deployed = wrap(copy.deepcopy(r).reparameterize())
                inner = deployed.rep if hasattr(deployed, "rep") else deployed
                assert inner.fused is not None
                assert (train(x) - deployed(x)).abs().max() <= TOL[dtype]
        assert rv.ConcatRep(rep)(x).shape == (1, 24, 9, 9)
        assert torch.equal(rv.ConcatRep(rep)(x)[:, :12], x)
    # MobileOne's k branches become one 3×3 branch of a RepConv, exactly
    mob = _random_bn_(MobileOneBlock(12, 12, num_conv_branches=4).to(dtype), 9)
    with torch.no_grad():
        assert (rv.repconv_from(mob, dtype=dtype)(x) - mob(x)).abs().max() <= TOL[dtype] * 10
    # YOLOv6's RepBlock: n blocks → n 3×3 convs
    rb = _random_bn_(rv.RepBlock(6, 12, n=3).to(dtype), 2)
    dep = rv.deployed_copy(rb)
    with torch.no_grad():
        z = torch.randn(1, 6, 8, 8, dtype=dtype)
        assert (rb(z) - dep(z)).abs().max() <= TOL[dtype]
    assert rv.topology(dep)["conv3x3"] == 3 and rv.topology(dep)["conv1x1"] == 0


def test_peak_memory_counts_live_tensors():
    with rv.PeakMemory() as mem:
        a = torch.empty(1000)  # 4000 bytes
        b = torch.empty(2000)  # 8000 bytes: 12000 alive
        del a
        c = torch.empty(500)  # 2000 bytes: 10000 alive
        del b, c
        d = torch.empty(100)
    assert mem.peak == 12000
    del d
    import timm

    net = timm.create_model("repvgg_a0", pretrained=False).eval()
    dep = rv.deployed_copy(net)
    x = torch.randn(1, 3, 64, 64)
    peaks = []
    for model in (net, dep):
        with torch.inference_mode(), rv.PeakMemory() as mem:
            model.forward_features(x)
        peaks.append(mem.peak)
    # deployed: input and output of one conv (+ its in-place ReLU); training-time: three branch outputs
    assert peaks[1] < 0.75 * peaks[0]
    # at least the stem's output (48×32×32) alive with the next block's (48×16×16), in float32
    assert peaks[1] >= (48 * 32 * 32 + 48 * 16 * 16) * 4


# --------------------------------------------------------------------------------------------- #
# the lesson


@pytest.fixture(scope="module")
def result(cat):
    return lesson.run(cat)


def test_lesson_numbers(result):
    s = result.summary
    b = s["block"]
    assert b["default"] and b["branches"] == ["3×3", "1×1", "identity"] and b["stride"] == 1
    d = s["train_vs_deployed"]["block"]
    assert d["float32"]["output"] <= 1e-5 * max(1.0, d["float32"]["output_scale"])
    assert d["float64"]["output"] <= 1e-10 * max(1.0, d["float64"]["output_scale"])
    assert s["timm_reparameterize"]["kernel_max_abs_difference"] <= 1e-7
    assert s["train_vs_deployed"]["top3_train"][0][0] == s["train_vs_deployed"]["top3_deployed"][0][0]
    for place, v in s["placements"]["max_abs_difference"].items():
        assert v["float32"] <= 1e-5 and v["float64"] <= 1e-10, place
    paths = s["placements"]["paths"]
    assert abs(abs(paths["correlation"]) - 1) <= 1e-9  # the identity branch is an affine copy of x
    k = s["kernel"]
    assert k["pieces_max_abs_difference"] <= 1e-12 and k["bias_pieces_abs_difference"] <= 1e-9
    names = [r["branch"] for r in k["rows"]]
    assert names == ["3×3", "1×1", "identity"]
    ident = k["rows"][-1]
    assert ident["dirac_here"] and s["in_channel_in_group"] == s["channel"]  # dense: input c ↔ output c
    raw = np.asarray(ident["raw"])
    assert raw[1, 1] == 1 and np.count_nonzero(raw) == 1
    for row in k["rows"]:
        bn = row["bn"]
        assert bn["scale"] == pytest.approx(bn["gamma"] / np.sqrt(bn["var"] + bn["eps"]), rel=1e-12)
        assert row["folded_bias"] == pytest.approx(bn["beta"] - bn["mean"] * bn["scale"], abs=1e-12)
    assert s["speed"][0]["arch"] == "repvgg_a0" and s["speed"][0]["topology"]["deployed"]["conv1x1"] == 0
    json.dumps(result.to_json())


def test_lesson_kernel_steps_equal_the_block(cat):
    """The numbers of figure 1 are the block's: recomputed here from the module itself."""
    from core import zoo

    r = lesson.run(cat, model="repvgg-a0", weights="random", block=4, channel=5, in_channel=7, speed=False)
    s = r.summary
    blk = dict(rv.rep_blocks(zoo.load_model("repvgg-a0", "random").model))[s["block"]["name"]]
    w3 = blk.conv_kxk.conv.weight.double()[5, 7]
    bn = blk.conv_kxk.bn
    scale = float(bn.weight[5] / torch.sqrt(bn.running_var[5] + bn.eps))
    np.testing.assert_allclose(s["kernel"]["rows"][0]["raw"], w3.numpy(), rtol=0, atol=1e-7)
    np.testing.assert_allclose(s["kernel"]["rows"][0]["folded"], w3.numpy() * scale, rtol=1e-6, atol=1e-9)
    assert not s["kernel"]["rows"][-1]["dirac_here"]  # input 7 is not output 5's own channel
    assert np.asarray(s["kernel"]["rows"][-1]["folded"]).sum() == 0


def test_merge_captions_name_only_the_branches_the_block_has(cat, result):
    """Block 0 of RepVGG-A0 has stride 2 (no identity); the default block has all three branches."""
    assert result.summary["block"]["branches"] == ["3×3", "1×1", "identity"]
    assert "the 1×1 put at the centre, the identity a centred Dirac, summed." in result.captions["merge"]
    assert "the identity adds γ/σ at [c, c mod" in result.captions["centre"]
    r = lesson.run(cat, model="repvgg-a0", weights="random", block=0, speed=False)
    assert r.summary["block"]["branches"] == ["3×3", "1×1"] and r.summary["block"]["stride"] == 2
    merge, centre = r.captions["merge"], r.captions["centre"]
    assert "Dirac" not in merge and "(this block has no identity branch)" in merge
    assert "the 1×1 put at the centre" in merge
    assert "identity adds" not in centre and "no identity branch in this block" in centre


def test_grouped_and_depthwise_blocks(cat):
    r = lesson.run(cat, model="mobileone-s0", weights="random", speed=False)
    s = r.summary
    assert s["block"]["kind"] == "MobileOne" and s["block"]["groups"] == s["block"]["in_channels"]
    assert s["block"]["branches"] == ["3×3 #1", "3×3 #2", "3×3 #3", "3×3 #4", "1×1", "identity"]
    assert s["in_channel_in_group"] == 0 and s["in_channel"] == s["channel"]
    d = s["train_vs_deployed"]["block"]
    assert d["float64"]["output"] <= 1e-10 * max(1.0, d["float64"]["output_scale"])
    with pytest.raises(ValueError, match="not in output channel 0's group"):
        lesson.run(cat, model="mobileone-s0", weights="random", channel=0, in_channel=3, speed=False)
    # a grouped block (4 groups of 24 channels): the identity's Dirac sits at c mod 24 in c's group
    g = lesson.run(cat, model="repvgg-shapes", weights="random", block=4, channel=30, speed=False).summary
    assert g["block"]["groups"] == 4 and g["block"]["in_channels"] == 96
    assert "identity" in g["block"]["branches"] and g["kernel"]["rows"][-1]["dirac_here"]
    assert g["in_channel"] == 30 and g["in_channel_in_group"] == 30 % 24
    assert g["kernel"]["pieces_max_abs_difference"] <= 1e-12
    with pytest.raises(ValueError, match=r"input channels 24…47"):
        lesson.run(cat, model="repvgg-shapes", weights="random", block=4, channel=30, in_channel=50,
                   speed=False)


@pytest.mark.parametrize("kwargs,message", [
    (dict(block=40), "block must be below 22"),
    (dict(channel=999), "channel must be below 48"),
    (dict(model="resnet50"), "Network must be one of"),
    (dict(block=-2), "between -1 and 63"),
])
def test_bad_parameters_get_messages_naming_them(cat, kwargs, message):
    with pytest.raises(ValueError, match=message):
        lesson.run(cat, weights="random", speed=False, **kwargs)


# --------------------------------------------------------------------------------------------- #
# pictures


def _cell(img, y, x):
    return tuple(int(v) for v in img[y, x])


def test_merge_picture_cells_are_the_numbers(result):
    s = result.summary["kernel"]
    img = result.images["merge"]
    size = len(s["merged"])
    k3 = max(size * draw.CELL + 1, 3 * draw.CELL + 1)
    vmax = max(max(np.abs(np.asarray(r["folded"])).max() for r in s["rows"]),
               np.abs(np.asarray(s["merged"])).max())
    x_folded = k3 + 8 + 150 + 8  # raw kernels, gap, the "× γ/σ" column, gap
    row_h = 22 + k3 + 12
    for i, row in enumerate(s["rows"] + [{"folded": s["merged"]}]):
        folded = np.asarray(row["folded"])
        for r in range(size):
            for q in range(size):
                y = i * row_h + 22 + r * draw.CELL + 4  # the cell's top, above its number
                x = x_folded + q * draw.CELL + 4
                expect = tuple(int(v) for v in draw.diverging(np.array([folded[r, q]]), vmax)[0])
                assert _cell(img, y, x) == expect, (i, r, q)


def test_branches_picture_shows_the_same_map_before_and_after_the_merge(result):
    img = result.images["branches"]
    n = len(result.summary["block"]["branches"])
    row1_h = draw.TILE + 22
    y0 = row1_h + 10 + 22  # second row, below its tile titles
    sum_tile = img[y0:y0 + draw.TILE, 0:draw.TILE]
    merged_tile = img[y0:y0 + draw.TILE, draw.TILE + 8:2 * draw.TILE + 8]
    assert np.array_equal(sum_tile, merged_tile)
    assert img.shape[1] >= (2 + n) * (draw.TILE + 8)


def test_centre_and_stem_pictures(result):
    from core import zoo

    s = result.summary
    loaded = zoo.load_model("repvgg-a0")
    blk = dict(rv.rep_blocks(loaded.model))[s["block"]["name"]]
    w, _ = rv.merge_block(blk, torch.float64)
    centre = w[:, :, 1, 1].numpy()
    img = result.images["centre"]
    o = centre.shape[0]
    cell = int(np.clip(420 // o, 2, 40))
    c = s["channel"]
    assert _cell(img, c * cell + cell // 2, c * cell) == (0, 0, 0)  # the framed cell
    other = (c + 1) % o
    expect = tuple(int(v) for v in draw.diverging(np.array([centre[other, other]]), np.abs(centre).max())[0])
    assert _cell(img, other * cell + cell // 2, other * cell + cell // 2) == expect
    stem = result.images["stem_kernels"]
    ws, _ = rv.merge_block(rv.rep_blocks(loaded.model)[0][1], torch.float64)
    k = ws[0].numpy().transpose(1, 2, 0)
    rgb = np.clip((0.5 + 0.5 * k / np.abs(k).max()) * 255 + 0.5, 0, 255).astype(np.uint8)
    assert _cell(stem, 26 + 4 + 14, 4 + 14) == tuple(int(v) for v in rgb[0, 0])
    title = stem[:26]
    assert (title < 128).any()  # the title line says which weights (RANDOM offline)


def test_exactness_and_speed_charts_draw_their_values(result):
    rows = [("a", 1e-7, 1e-16), ("b", 0.0, None)]
    img = draw.exactness_chart(rows, width=860)
    left, right, top = 230, 70, 34  # the chart's margins
    span = 860 - left - right
    x = left + int(round((np.log10(1e-7) + 18) / 18 * span))
    y = top + 3 + 6
    assert _cell(img, y, x - 2) == draw.BLUE and _cell(img, y, x + 2) != draw.BLUE
    x64 = left + int(round((np.log10(1e-16) + 18) / 18 * span))
    assert _cell(img, top + 17 + 6, x64 - 2) == draw.ORANGE
    costs = result.summary["speed"]
    chart = result.images["speed"]
    a0 = costs[0]["latency_ms"]
    heights = []
    base = 300 - 46
    group = (1020 // 3 - 60) / len(costs)  # panel 0 (latency), stack 0 (RepVGG-A0)
    gx, bw = 40 + int(group * 0.15), int(group * 0.33)
    for col in (gx + bw // 2, gx + bw + 4 + bw // 2):
        column = chart[50:base, col]
        filled = [i for i in range(column.shape[0]) if tuple(column[i]) in (draw.VERMILLION, draw.BLUE)]
        heights.append(len(filled))
    vmax = max(max(c["latency_ms"].values()) for c in costs)
    assert abs(heights[0] - round(a0["train"] / vmax * (base - 50 - 24))) <= 1
    assert abs(heights[1] - round(a0["deployed"] / vmax * (base - 50 - 24))) <= 1


def test_placements_picture_shows_x_and_its_copy(result):
    """Shortcut and identity branch each on their own symmetric scale: an affine copy y = a·x (a > 0)
    draws the same picture; the text states the correlation the lesson measured."""
    ramp = np.linspace(-1, 1, 64).reshape(8, 8)
    paths = {"shortcut": ramp, "identity": 0.3 * ramp, "convs": -ramp, "channel": 3, "correlation": 1.0,
             "correlation_abs_mean": 1.0, "identity_scale": 0.3, "identity_bias": 0.0, "identity_share": 0.5}
    img = draw.placements_picture(paths, "stages.0.1")
    step = draw.TILE + 2 + draw.diverging_bar(10, 1.0).shape[1] + 8
    shortcut = img[22:22 + draw.TILE, :draw.TILE]
    ident = img[22:22 + draw.TILE, step:step + draw.TILE]
    convs = img[22:22 + draw.TILE, 2 * step:2 * step + draw.TILE]
    assert np.array_equal(shortcut, ident) and not np.array_equal(shortcut, convs)
    assert _cell(shortcut, 2, 2) == tuple(int(v) for v in draw.diverging(np.array([-1.0]), 1.0)[0])
    live = result.summary["placements"]["paths"]
    assert abs(live["identity_share"] - 0.5) < 0.5 and live["channel"] >= 0


# --------------------------------------------------------------------------------------------- #
# trainer, pages, endpoint


def test_trainer_smoke(tmp_path):
    from safetensors.torch import load_file

    from core.train import TRAINERS, get_trainer

    assert TRAINERS["repvgg-shapes"] == "core.train.repvgg:train"
    report = get_trainer("repvgg-shapes")("repvgg-shapes", steps=2, out=tmp_path, smoke=True)
    net = rv.shapes_net()
    missing, unexpected = net.load_state_dict(load_file(str(report.weights)), strict=False)
    assert not missing and not unexpected
    assert len(rv.rep_blocks(net)) == 8  # the checkpoint is the training-time form
    assert report.metrics["deployed_max_abs_logit_change"] <= 1e-4
    assert "Training-time and deployed forms" in report.card.read_text(encoding="utf-8")


def test_pages_link_each_other():
    import gradio as gr

    from apps import repmlp, repvgg

    def texts(blocks: gr.Blocks) -> str:
        return " ".join(str(b.value) for b in blocks.blocks.values() if isinstance(b, gr.Markdown))

    assert "](/repmlp)" in texts(repvgg.build())
    assert "](/repvgg)" in texts(repmlp.build())


def test_endpoint_with_only_an_image(client, cat_path):
    from gradio_client import handle_file

    out = client.predict(handle_file(str(cat_path)), api_name="/repvgg")
    *images, summary = out
    from apps.repvgg import IMAGE_KEYS

    assert len(images) == len(IMAGE_KEYS)
    assert all(os.path.isfile(p) for p in images)
    assert summary["block"]["default"] and summary["train_vs_deployed"]["block"]["float64"]["output"] <= 1e-10
    with pytest.raises(Exception, match="block"):
        client.predict(handle_file(str(cat_path)), api_name="/repvgg", block=40)


def test_page_status_says_when_kernels_are_not_learned(cat):
    from apps import repvgg as page

    summary = lesson.run(cat, weights="random", speed=False).to_json()
    status, *labels = page._extras(summary, "repvgg-a0", "random", "en")
    assert "RANDOM weights: these kernels are not learned" in status["value"]
    assert labels[0]["label"] == summary["captions"]["merge"]
    status_zh, *labels_zh = page._extras(summary, "repvgg-a0", "random", "zh")
    assert "这些卷积核不是学到的" in status_zh["value"] and "块" in labels_zh[0]["label"]


def test_embedded_repvgg_is_trained_its_card_is_honest_and_the_offline_page_uses_it(result):
    """The shipped ShapesWorld RepVGG (assets/weights/repvgg-shapes.*): learned, merged exactly, and what
    the offline page shows (RepVGG-A0 falls back to it)."""
    import re

    from safetensors import safe_open

    from core import zoo
    from core.train.classifiers import heldout_worlds

    loaded = zoo.load_model("repvgg-shapes", "embedded")
    assert loaded.source == "embedded" and len(rv.rep_blocks(loaded.model)) == 8  # the training-time form
    world = heldout_worlds(64)["top1_heldout_scenes"]
    x, y = world.batch(range(100), loaded.entry.mean, loaded.entry.std)
    with torch.inference_mode():
        logits = loaded.model(x)
        deployed = rv.deployed_copy(loaded.model)(x)
    accuracy = float((logits.argmax(-1) == y).float().mean())
    assert accuracy >= 0.85  # chance is 1/8
    assert torch.equal(logits.argmax(-1), deployed.argmax(-1)) and (logits - deployed).abs().max() <= 1e-4
    card = (zoo.WEIGHTS_DIR / "repvgg-shapes.md").read_text(encoding="utf-8")
    with safe_open(str(zoo.WEIGHTS_DIR / "repvgg-shapes.safetensors"), "pt") as f:
        meta = f.metadata()
    stated = float(re.search(r"\| top1_heldout_scenes \| ([\d.]+) \|", card).group(1))
    assert stated == pytest.approx(float(meta["top1_heldout_scenes"]), abs=1e-4)
    assert abs(stated - accuracy) <= 0.1  # 100 of the card's 1000 scenes
    s = result.summary  # the default page offline: RepVGG-A0 → the embedded RepVGG, learned kernels
    assert s["model"]["source"] == "embedded" and s["model"]["learned"]
    assert s["model"]["arch"] == "repvgg-shapes"


def test_bn_numbers_are_the_fold_of_that_channel(result):
    """σ = √(var + eps), γ/σ and β − μγ/σ of one channel, recomputed from the module; the page's rows
    show the same folded bias as the merge uses."""
    bn = _random_bn_(nn.Sequential(nn.BatchNorm2d(6, eps=1e-3)), seed=3)[0]
    for c in range(6):
        n = rv.bn_numbers(bn, c)
        g, b, m, v = (float(t.detach()[c]) for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var))
        sigma = (v + 1e-3) ** 0.5
        assert n["sigma"] == pytest.approx(sigma, rel=1e-12)
        assert n["scale"] == pytest.approx(g / sigma, rel=1e-12)
        assert n["bias"] == pytest.approx(b - m * g / sigma, rel=1e-12, abs=1e-15)
        w, bias = rv.fold_bn(torch.ones(6, 1, 1, 1, dtype=torch.float64), bn)
        assert float(bias[c]) == pytest.approx(n["bias"], rel=1e-12, abs=1e-15)
        assert float(w[c, 0, 0, 0]) == pytest.approx(n["scale"], rel=1e-12)
    for row in result.summary["kernel"]["rows"]:
        assert row["bn"]["bias"] == pytest.approx(row["folded_bias"], rel=1e-9, abs=1e-12), row["branch"]


def test_kernel_cells_write_each_number_in_its_own_cell():
    """An off-diagonal kernel: the long number of cell (row 0, col 2) is written there, not in the
    transposed cell (row 2, col 0), which shows a lone 0."""
    kernel = np.zeros((3, 3))
    kernel[0, 2] = -0.123
    img = draw._kernel_cells(kernel, 0.2)
    colours = draw.diverging(kernel, 0.2)
    c = draw.CELL

    def ink(r, q):
        inner = img[r * c + 2: (r + 1) * c - 1, q * c + 2: (q + 1) * c - 1].astype(int)
        return int((np.abs(inner - colours[r, q].astype(int)).sum(-1) > 60).sum())

    assert ink(0, 2) > 2 * ink(2, 0) > 0
    assert ink(0, 2) > 2 * max(ink(r, q) for r in range(3) for q in range(3) if (r, q) != (0, 2))
