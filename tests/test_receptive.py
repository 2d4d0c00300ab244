"""Receptive fields: the recursion and the graph tracer against known sizes, the ERF against an
independent n-fold box convolution, gradient supports against the theoretical boxes (conv nets, timm
nets, Swin windows, ViT), block and roadmap costs against fvcore and the paper, HRNet's streams, the
pictures, bad parameters, the /receptive endpoint with only an image, and a click in the browser.
"""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
import timm
import torch
from scipy.signal import convolve2d
from torch import nn

from core import blocks, receptive, rftrace, zoo
from core import receptive_lesson as lesson
from core.viz import receptive as viz

# --------------------------------------------------------------------------------------------- #
# theoretical receptive fields

VGG16_TO_CONV5_3 = (
    [(3, 1, 1)] * 2
    + [(2, 2, 1)]
    + [(3, 1, 1)] * 2
    + [(2, 2, 1)]
    + [(3, 1, 1)] * 3
    + [(2, 2, 1)]
    + [(3, 1, 1)] * 3
    + [(2, 2, 1)]
    + [(3, 1, 1)] * 3
)


def _resnet50_main_path() -> list[tuple[int, int, int]]:
    layers = [(7, 2, 1), (3, 2, 1)]
    for depth, stride in ((3, 1), (4, 2), (6, 2), (3, 2)):
        for b in range(depth):  # v1.5: the stride sits in the 3×3; the 1×1s do not grow the field
            layers += [(1, 1, 1), (3, stride if b == 0 else 1, 1), (1, 1, 1)]
    return layers


def test_recursion_gives_the_textbook_sizes():
    assert receptive.theoretical_rf([(3, 1, 1)] * 3)[-1] == (7, 1)  # three 3×3 = one 7×7
    assert receptive.theoretical_rf([(3, 1, 2), (3, 1, 4)]) == [(5, 1), (13, 1)]  # dilation
    assert receptive.theoretical_rf(VGG16_TO_CONV5_3)[-1] == (196, 16)
    assert receptive.theoretical_rf([*VGG16_TO_CONV5_3, (2, 2, 1)])[-1] == (212, 32)
    assert receptive.theoretical_rf(_resnet50_main_path())[-1] == (427, 32)
    with pytest.raises(ValueError, match="kernel, stride, dilation"):
        receptive.theoretical_rf([(3, 1)])
    with pytest.raises(ValueError, match="at least 1"):
        receptive.theoretical_rf([(3, 0, 1)])


def _stage_fields(arch: str, size: int, **kwargs):
    with torch.device("meta"):
        model = timm.create_model(arch, **kwargs).eval()
    x = torch.empty(1, 3, size, size, device="meta")
    outs, mode = rftrace.trace(model, x, lambda m, t: m.forward_intermediates(t, intermediates_only=True))
    return [mode.field(o) for o in outs]


def test_tracer_reproduces_the_sizes_of_real_graphs():
    resnet = _stage_fields("resnet50", 224)
    assert [f.size[0] for f in resnet] == [7, 35, 91, 267, 427] and resnet[-1].jump == (32, 32)
    vgg = _stage_fields("vgg16", 224)
    assert vgg[4].size == (196, 196) and vgg[5].size == (212, 212)  # conv5_3 and pool5
    convnext = [(4, 4, 1)] + [(7, 1, 1)] * 3
    for depth in (3, 9, 3):
        convnext += [(2, 2, 1)] + [(7, 1, 1)] * depth
    assert (
        _stage_fields("convnext_tiny", 224)[-1].size[0] == receptive.theoretical_rf(convnext)[-1][0] == 1688
    )
    # squeeze-and-excitation pools the whole map: every unit after the first SE block sees everything
    se = _stage_fields("efficientnet_b0", 96)
    assert all(math.isinf(f.size[0]) for f in se)
    assert se[-1].box(0, 0) == (0, 0, 95, 95)
    # the same family without SE (Lite) keeps a local field
    assert not math.isinf(_stage_fields("tf_efficientnet_lite0", 96)[2].size[0])


@pytest.mark.parametrize("seed", range(6))
def test_tracer_equals_the_recursion_on_random_chains(seed):
    rng = np.random.default_rng(seed)
    layers, convs = [], []
    for _ in range(int(rng.integers(2, 6))):
        k, s, d = int(rng.choice([1, 2, 3, 5])), int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))
        layers.append((k, s, d))
        convs.append(nn.Conv2d(1, 1, k, s, padding=(d * (k - 1)) // 2, dilation=d))
    out, mode = rftrace.trace(nn.Sequential(*convs), torch.zeros(1, 1, 97, 97))
    fld = mode.field(out)
    rf, jump = receptive.theoretical_rf(layers)[-1]
    assert fld.size == (rf, rf) and fld.jump == (jump, jump)


# --------------------------------------------------------------------------------------------- #
# effective receptive field: exact against an independent box convolution


def _box_power(size: int, position: tuple[int, int], k: int, n: int) -> np.ndarray:
    """The gradient of one output unit of n zero-padded 'same' all-ones k×k convs, by scipy: the
    adjoint of a zero-padded 'same' box convolution is the same box convolution cropped to the image."""
    g = np.zeros((size, size))
    g[position] = 1.0
    for _ in range(n):
        g = convolve2d(g, np.ones((k, k)), mode="same")
    return g


@pytest.mark.parametrize("k,n,channels", [(3, 4, 1), (3, 3, 2), (5, 2, 3)])
@pytest.mark.parametrize("position", [(20, 20), (1, 2)])
def test_all_ones_stack_erf_is_the_n_fold_box_convolution(k, n, channels, position):
    model = receptive.plain_stack(n, k, channels, weights="ones").double()
    erf = receptive.effective_rf(model, torch.zeros(1, channels, 41, 41, dtype=torch.float64), position)
    # Σ_c over C output channels, each a sum over C inputs, n times, then Σ over the C input channels
    expected = channels ** (n + 1) * _box_power(41, position, k, n)
    np.testing.assert_array_equal(erf, expected)
    if position == (20, 20):  # away from the border: a discrete bell with σ² = n(k² − 1)/12 per axis
        assert receptive.spread(erf) == pytest.approx(math.sqrt(n * (k * k - 1) / 12), abs=1e-12)


def test_plain_stack_growth_is_linear_for_the_box_and_sqrt_n_for_the_erf():
    g = receptive.plain_stack_growth(max_depth=16)
    assert g["theoretical"] == [1 + 2 * n for n in g["depth"]]
    s = np.asarray(g["sigma_random"])
    ratio = s / np.sqrt(g["depth"])
    assert ratio.std() / ratio.mean() < 0.12  # σ ∝ √n for random weights ...
    assert s[-1] / s[3] == pytest.approx(2.0, rel=0.12)  # 16 layers vs 4: twice, not four times, as wide
    assert (np.asarray(g["side90_random"]) <= np.asarray(g["theoretical"])).all()


def test_mass_radius_oracles():
    delta = np.zeros((11, 11))
    delta[5, 5] = 3.0
    assert receptive.mass_radius(delta, (5, 5), 0.9) == 0
    box = np.zeros((21, 21))
    box[6:15, 6:15] = 1.0  # 9×9 uniform around (10, 10)
    assert receptive.mass_radius(box, (10, 10), 0.5) == 3  # 7×7 = 49 of 81 ≥ 50 %, 5×5 = 25 is not
    assert receptive.mass_radius(box, (10, 10), 1.0) == 4
    assert receptive.mass_radius(np.zeros((5, 5)), (2, 2), 0.5) == 0
    assert receptive.square_side((10, 10), 3, (21, 21)) == 7
    assert receptive.square_side((0, 20), 3, (21, 21)) == 4  # cut by the border: 0..3 and 17..20


# --------------------------------------------------------------------------------------------- #
# gradient support = theoretical box


def _support_box(erf: np.ndarray, rel: float = 0.0) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(erf > rel * erf.max())
    return int(ys.min()), int(xs.min()), int(ys.max()), int(xs.max())


def _random_contiguous_net(rng: np.random.Generator) -> nn.Sequential:
    """Random convs/avg-pools with tanh, chosen so that no layer's taps leave holes in the field."""
    layers, rf, jump, c = [], 1, 1, 3
    for _ in range(int(rng.integers(3, 7))):
        k, s, d = int(rng.choice([1, 2, 3, 5, 7])), int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))
        if k > 1 and d * jump > rf:  # taps farther apart than the field they read: holes; skip
            d = 1
        if k > 1 and jump > rf:
            continue
        if rng.random() < 0.25:
            layers.append(nn.AvgPool2d(k, s, padding=k // 2 if k % 2 else 0))
        else:
            out = int(rng.integers(2, 6))
            layers += [nn.Conv2d(c, out, k, s, padding=(d * (k - 1)) // 2, dilation=d), nn.Tanh()]
            c = out
        rf += (k - 1) * d * jump
        jump *= s
    torch.manual_seed(int(rng.integers(1 << 30)))
    return nn.Sequential(*layers).double()


@pytest.mark.parametrize("seed", range(8))
def test_random_conv_net_gradient_support_equals_the_traced_box(seed):
    rng = np.random.default_rng(100 + seed)
    net = _random_contiguous_net(rng)
    x = torch.randn(1, 3, 45, 45, dtype=torch.float64)
    out, mode = rftrace.trace(net, x)
    fld = mode.field(out)
    h, w = out.shape[-2:]
    for i, j in {(0, 0), (h // 2, w // 2), (h - 1, w - 1), (0, w - 1)}:
        erf = receptive.effective_rf(net, x, (i, j))
        assert _support_box(erf) == fld.box(i, j), (seed, i, j)


def _small_timm_nets() -> dict[str, nn.Module]:
    from timm.models.convnext import ConvNeXt
    from timm.models.resnet import BasicBlock, ResNet

    torch.manual_seed(0)
    return {
        # residual branches active from the start (no zero-init / tiny layer scale), smooth activations
        "resnet": ResNet(
            BasicBlock, [1, 1, 1, 1], channels=(8, 16, 16, 16), zero_init_last=False, act_layer=nn.SiLU
        ),
        "convnext": ConvNeXt(depths=(1, 1, 1, 1), dims=(8, 16, 16, 16), ls_init_value=1.0),
        "lite0": timm.create_model("tf_efficientnet_lite0", pretrained=False, act_layer=nn.SiLU),
    }


@pytest.mark.parametrize("name", ["resnet", "convnext", "lite0"])
def test_timm_net_gradient_support_equals_the_traced_box(name):
    net = _small_timm_nets()[name].eval().double()
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    n = len(receptive.stages(net))
    outs, mode = rftrace.trace(net, x, lambda m, t: m.forward_intermediates(t, intermediates_only=True))
    for stage in (2, n - 1):
        fld = mode.field(outs[stage - 1])
        h, w = outs[stage - 1].shape[-2:]
        for pos in ((h // 2, w // 2), (0, w - 1)):
            erf = receptive.effective_rf(net, x, pos, stage=stage)
            assert _support_box(erf) == fld.box(*pos), (name, stage, pos)


def test_swin_window_reach_equals_the_gradient_support():
    model = zoo.load_model("swin-shapes", "random").model
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for stage, pos in ((1, (0, 0)), (1, (7, 9)), (1, (15, 15)), (2, (3, 4)), (2, (0, 7))):
        erf = receptive.effective_rf(model, x, pos, stage=stage)
        # masked pairs get −100 before the softmax, e^−100 ≈ 4e−44: a float32 denormal, not a dependency
        assert _support_box(erf, rel=1e-30) == receptive.swin_reach(model, stage, pos), (stage, pos)
    assert receptive.swin_reach(model, 1, (0, 0)) == (0, 0, 15, 15)  # window 4 × patch 4
    # token 7 (and 9): shifted window 6–9 (grid offset 2), whose tokens reach regular windows 4–7 and 8–11
    assert receptive.swin_reach(model, 1, (7, 9)) == (16, 16, 47, 47)
    assert receptive.swin_reach(model, 3, (0, 0)) == (0, 0, 63, 63)


def test_vit_sees_the_whole_image_after_one_block():
    model = zoo.load_model("vit-shapes", "random").model
    x = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    erf = receptive.effective_rf(model, x, (0, 0), stage=1)
    assert _support_box(erf) == (0, 0, 127, 127)
    r = receptive.reach(model, 1, (0, 0), 128, 16.0)
    assert r.kind == "vit" and r.box == (0, 0, 127, 127) and math.isinf(r.size)


def test_effective_rf_checks_its_arguments():
    net = receptive.plain_stack(2)
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):
        receptive.effective_rf(net, torch.zeros(2, 8, 9, 9), (0, 0))
    with pytest.raises(ValueError, match="outside"):
        receptive.effective_rf(net, torch.zeros(1, 8, 9, 9), (9, 0))


# --------------------------------------------------------------------------------------------- #
# costs: blocks and the roadmap against fvcore and the paper


def test_block_costs_equal_fvcore_and_the_closed_forms():
    c, size = 32, 28
    rows = {r["key"]: r for r in blocks.block_costs(c, size)}
    assert list(rows) == [b.key for b in blocks.BLOCKS]
    for block in blocks.BLOCKS:
        torch.manual_seed(0)
        module = block.build(c).eval()
        counts = blocks.fvcore_counts(module, torch.zeros(1, c, size, size))
        assert rows[block.key]["macs"] == counts["weights"], block.key
        assert rows[block.key]["params"] == counts["params"], block.key
    hw = size * size
    assert rows["conv3x3"]["macs"] == 9 * c * c * hw
    assert rows["dwsep"]["macs"] == 9 * c * hw + c * c * hw
    assert rows["convnext"]["macs"] == 49 * c * hw + 8 * c * c * hw
    assert rows["se"]["macs"] == 2 * c * (c // 4)  # per image, not per pixel
    assert math.isinf(rows["se"]["rf"]) and rows["convnext"]["rf"] == 7 and rows["inception"]["rf"] == 5
    assert rows["inception"]["out_channels"] == 64 + 64 + 96 + 32 and rows["dense"]["out_channels"] == 32
    with pytest.raises(ValueError, match="Channels"):
        blocks.block_costs(2, 8)


def test_roadmap_networks_match_the_paper():
    macs = {}
    for step in blocks.ROADMAP:
        with torch.device("meta"):
            net = blocks.build_step(step).eval()
        params = blocks.count_parameters(net)
        macs[step.key] = blocks.count_macs(net, torch.empty(1, 3, 224, 224, device="meta")) / 1e9
        if step.key in blocks.PAPER_PARAMS:  # Table 9: 25.6 M and 28.6 M
            assert round(params / 1e6, 1) == blocks.PAPER_PARAMS[step.key] / 1e6
    assert blocks.count_parameters(blocks.build_step("resnet50")) == 25_557_032
    # our conv + linear multiply-adds equal the paper's GFLOPs (Table 10) to 0.01 G, except where the
    # paper's step changes no conv or linear layer (BN → LN) and for the final ConvNeXt-T
    for step in blocks.ROADMAP:
        if step.key in ("layernorm", "convnext_t"):
            continue
        assert macs[step.key] == pytest.approx(step.gflops, abs=0.01), step.key
    assert macs["layernorm"] == pytest.approx(macs["fewer_norms"], abs=1e-9)
    assert macs["convnext_t"] == pytest.approx(4.456, abs=1e-3)


@pytest.mark.parametrize("key", ["resnet50", "kernel7", "convnext_t"])
def test_roadmap_macs_equal_fvcore(key):
    torch.manual_seed(0)
    net = blocks.build_step(key).eval()
    x = torch.zeros(1, 3, 64, 64)
    assert blocks.count_macs(net, x) == blocks.fvcore_counts(net, x)["weights"]


def test_roadmap_blocks_follow_figure_3_and_4():
    cfg = blocks._step("move_up").config
    block = blocks.RoadmapBlock(96, 96, 1, cfg)
    convs = [m for m in block.body if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size[0], c.groups, c.in_channels, c.out_channels) for c in convs] == [
        (3, 96, 96, 96),
        (1, 1, 96, 384),
        (1, 1, 384, 96),
    ]
    final = blocks.RoadmapBlock(96, 96, 1, blocks._step("layernorm").config)
    kinds = [type(m).__name__ for m in final.body]
    assert kinds == ["Conv2d", "LayerNorm2d", "Conv2d", "GELU", "Conv2d"]  # one norm, one activation
    assert isinstance(final.out_act, nn.Identity)


# --------------------------------------------------------------------------------------------- #
# HRNet


def test_hrnet_streams_and_exchange_units():
    loaded = zoo.load_model(lesson.HRNET_MODEL, "random")
    skeleton = receptive.meta_skeleton(loaded)
    s = blocks.hrnet_structure(skeleton)
    last = s["streams"][-1]
    assert last["stage"] == "stage4"
    assert [(b["stride"], b["channels"], b["height"]) for b in last["branches"]] == [
        (4, 16, 56),
        (8, 32, 28),
        (16, 64, 14),
        (32, 128, 7),
    ]
    stage4 = next(f for f in s["fusions"] if f["stage"] == "stage4")
    to_first = stage4["units"][0]["sources"]
    assert [u["op"] for u in to_first] == [
        "identity",
        "1×1 conv + BN + nearest ×2",
        "1×1 conv + BN + nearest ×4",
        "1×1 conv + BN + nearest ×8",
    ]
    assert stage4["units"][3]["sources"][0]["op"] == "3× (3×3 conv stride 2)"
    rf = blocks.stream_rf(skeleton)
    assert [r["stride"] for r in rf] == [4, 8, 16, 32]
    assert all(r["box"] == [0, 0, 223, 223] for r in rf)  # fused with the coarse streams: the whole image
    with torch.no_grad():
        real = blocks.hrnet_streams(loaded.model, torch.zeros(1, 3, 224, 224))["stage4"]
    assert [tuple(t.shape[1:]) for t in real] == [(16, 56, 56), (32, 28, 28), (64, 14, 14), (128, 7, 7)]


# --------------------------------------------------------------------------------------------- #
# the lesson


@pytest.fixture(scope="module")
def result(cat):
    return lesson.run(cat)


def test_default_run_offline(result):
    assert list(result.images) == ["erf", "growth", "blocks", "hrnet"]
    rows = result.summary["models"]
    # offline: ResNet-50 and ConvNeXt-T share the packaged Lite0 (once), Swin-T / ViT-S the embedded models
    assert [[m["architecture"] for m in row] for row in rows] == [
        ["efficientnet-lite0"] * 2,
        ["swin-shapes"] * 2,
        ["vit-shapes"] * 2,
    ]
    assert [[m["source"] for m in row] for row in rows] == [
        ["package", "random"],
        ["embedded", "random"],
        ["embedded", "random"],
    ]
    for row in rows:
        for m in row:
            assert m["stage"] == 3 and m["erf_side50"] <= m["erf_side90"]
            if m["reach"]["kind"] in ("conv", "swin"):
                assert m["erf_outside_reach"] <= 1e-12  # no gradient outside the theoretical box
            assert len(m["per_stage"]) == len(zoo.load_model(m["architecture"], "random").model.feature_info)
    lite = rows[0][0]
    assert lite["reach"] == {"kind": "conv", "box": [86, 86, 152, 152], "size": 67.0, "jump": 8.0}
    assert result.summary["hrnet"]["source"] == "random"
    assert result.to_json()["models"][2][0]["reach"]["size"] is None  # ViT: global (inf → null)


def test_erf_panel_draws_the_reach_box_where_it_is(cat):
    m = lesson.analyse(zoo.load_model("resnet-shapes", "embedded"), cat, 3, 0.5, 0.5)
    panel = viz.erf_panel(m, "linear")
    assert panel.shape == (viz.VIEW, viz.PANEL_WIDTH, 3)
    y0, x0, y1, x1 = m.reach.box
    s = viz.VIEW / m.size
    top = round(y0 * s) if y0 > 0 else 1
    left, right = round(x0 * s) + 4, round((x1 + 1) * s) - 5
    row = panel[top, left:right].astype(int)
    assert (np.abs(row - np.array(viz.ORANGE)).sum(1) < 60).mean() > 0.5  # the orange box edge
    log = viz.erf_values(m.erf, "log")
    assert log.max() == 0.0 and log.min() >= -viz.LOG_DECADES


@pytest.mark.parametrize(
    "kwargs,words",
    [
        (dict(models="nope"), "Models"),
        (dict(models="a,b,c,d,e"), "at most 4"),
        (dict(stage=9), "Stage"),
        (dict(query_x=1.5), "Clicked x"),
        (dict(scale="cubic"), "colour scale"),
        (dict(block_channels=3), "channels"),
    ],
)
def test_bad_parameters_are_named(cat, kwargs, words):
    with pytest.raises(ValueError, match=words):
        lesson.run(cat, **kwargs)


def test_click_maps_back_into_the_panel():
    from core.viz.attention_viz import GRID_GAP, GRID_TITLE

    x = viz.PANEL_WIDTH + GRID_GAP + 64  # second column, 64 px into the map
    y = (GRID_TITLE + viz.VIEW + GRID_GAP) + GRID_TITLE + 128  # second row, half-way down
    assert lesson.click_to_query(x, y, rows=2) == (64 / viz.VIEW, 128 / viz.VIEW)
    assert lesson.click_to_query(10, 3 * (GRID_TITLE + viz.VIEW + GRID_GAP) + 5, rows=2) is None  # legend


def test_endpoint_with_only_an_image(client, cat_path):
    from gradio_client import handle_file

    outputs = client.predict(handle_file(str(cat_path)), api_name="/receptive")
    summary = next(o for o in outputs if isinstance(o, dict) and "models" in o)
    assert summary["models"][0][0]["architecture"] == "efficientnet-lite0"
    assert summary["models"][0][0]["source"] in {"package", "hub"}
    figures = [o for o in outputs if isinstance(o, str) and o.endswith((".png", ".webp", ".jpg", ".jpeg"))]
    assert len(figures) >= 4


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.usefixtures("chromium")
def test_clicking_the_erf_figure_moves_the_unit(app_url, cat_path):
    """In a real browser: run the page, click near the top-left of the first map, see the unit move."""
    from playwright.sync_api import sync_playwright

    from core.viz.attention_viz import GRID_TITLE
    from tests.test_browser import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{app_url.rstrip('/')}/receptive", wait_until="domcontentloaded")
        page.locator("input[type=file]").first.wait_for(state="attached", timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(str(cat_path))
        number = page.locator("input[aria-label='number input for Clicked x']").first
        erf = page.locator("#receptive-erf img").first
        erf.wait_for(state="visible", timeout=120_000)
        before = number.input_value()
        box = erf.bounding_box()
        scale = box["width"] / erf.evaluate("i => i.naturalWidth")
        page.mouse.click(box["x"] + 20 * scale, box["y"] + (GRID_TITLE + 30) * scale)
        page.wait_for_function(
            "([el, v]) => el.value !== v", arg=[number.element_handle(), before], timeout=30_000
        )
        assert float(number.input_value()) == pytest.approx(20 / viz.VIEW, abs=0.02)
        assert page.locator(".toast-body.error").count() == 0
        browser.close()


def test_roadmap_table_and_the_larger_kernel_widens_the_erf_at_init():
    rows = blocks.roadmap(with_erf=False)
    assert [r["paper_top1"] for r in rows] == [s.top1 for s in blocks.ROADMAP]
    assert (
        rows[0]["paper_top1"] == 76.13
        and rows[-1]["paper_top1"] == 81.97
        and rows[-1]["params"] == 28_589_128
    )
    assert [r["key"] for r in rows if not r["adopted"]] == ["kernel9", "kernel11"]
    small, large = (blocks._erf_at_init(blocks._step(k), 96) for k in ("move_up", "kernel7"))
    assert large["erf_r90"] > small["erf_r90"]


def test_weight_modes_without_hub(cat):
    r = lesson.run(cat, models="efficientnet-lite0", weights="package", random_init=False)
    assert [[m["source"] for m in row] for row in r.summary["models"]] == [["package"]]
    with pytest.raises(zoo.WeightsError, match="installed package"):  # a clear message, shown by the page
        lesson.run(cat, models="resnet-shapes", weights="package")
    rows = lesson.run(cat, models="resnet-shapes,swin-shapes", weights="random").summary["models"]
    assert [[m["source"] for m in row] for row in rows] == [["random"], ["random"]]  # no second random panel
    assert r.summary["hrnet"]["source"] == "random"


def test_log_chart_puts_points_where_their_values_are():
    chart = viz.LogChart(420, 380, "t", (1, 4), (0.01, 10.0))
    assert chart.py(1.0) - chart.py(10.0) == pytest.approx(chart.py(0.1) - chart.py(1.0))  # log scale
    chart.series([1, 2, 3], [0.05, 0.5, 5.0], viz.VERMILLION, "", marker="o")
    img = chart.array()
    for x, y in ((1, 0.05), (2, 0.5), (3, 5.0)):
        assert tuple(img[round(chart.py(y)), round(chart.px(x))]) == viz.VERMILLION


def test_hrnet_figure_shows_the_photo_and_one_map_per_stream(cat):
    import cv2

    h = lesson._hrnet(cat, "auto")
    assert [m.shape for m in h["maps"]] == [(56, 56), (28, 28), (14, 14), (7, 7)]
    fig = viz.hrnet_figure(h)
    top = viz.hrnet_diagram(h["structure"]).shape[0] + 8 + 24
    np.testing.assert_array_equal(
        fig[top : top + 180, :180], cv2.resize(h["input"], (180, 180), interpolation=cv2.INTER_AREA)
    )
    # the stride-4 tile: its map coloured with viridis, blown up with hard edges
    x0 = 180 + 10
    tile = cv2.resize(viz.colorize(h["maps"][0], "viridis"), (180, 180), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(fig[top : top + 180, x0 : x0 + 180], tile)


def test_roadmap_figure_draws_every_step():
    steps = [
        dict(r, erf=np.random.default_rng(0).random((32, 32)), erf_r90=5, erf_r50=2)
        for r in blocks.roadmap(with_erf=False)
    ]
    img = viz.roadmap_figure(steps)
    assert img.ndim == 3 and img.shape[1] == 1200 and img.dtype == np.uint8


def test_adaptive_pooling_with_even_bins_traces_like_the_fixed_pool():
    """16 cells into 4 adaptive bins are exactly AvgPool2d(4): the same field, 3 + (4 − 1) = 6 px wide,
    which is also the exact (clipped) extent of an interior output."""
    fields = []
    for pool in (nn.AdaptiveAvgPool2d(4), nn.AvgPool2d(4), nn.AdaptiveMaxPool2d((4, 4))):
        out, mode = rftrace.trace(nn.Sequential(nn.Conv2d(1, 1, 3, 1, 1), pool), torch.zeros(1, 1, 16, 16))
        fields.append(mode.field(out))
    for f in fields:
        assert f.size == (6.0, 6.0) and f.jump == (4.0, 4.0)
        y0, x0, y1, x1 = f.box(1, 2)
        assert (y0, y1, x0, x1) == (3, 8, 7, 12) and y1 - y0 + 1 == f.size[0]
        assert (f.axes[0].a, f.axes[0].b) == (-1.0, 4.0)
