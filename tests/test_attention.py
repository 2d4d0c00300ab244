"""core.attention: extraction equals recomputation from each block's q and k, rollout, geometry, endpoint."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import timm
import torch

from core import attention, zoo
from core.viz.attention_viz import GRID_GAP, GRID_TITLE, grid_click, grid_figure


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    return timm.create_model("vit_small_patch16_224", pretrained=False).eval()


@pytest.fixture(scope="module")
def swin_micro():
    torch.manual_seed(0)
    return timm.create_model("swin_tiny_patch4_window7_224", img_size=64, patch_size=4, window_size=4,
                             embed_dim=24, depths=(2, 2), num_heads=(2, 4), num_classes=8).eval()


def _qkv_capture(module: torch.nn.Module, store: dict, key: str):
    return module.register_forward_hook(lambda m, i, o: store.__setitem__(key, o.detach().clone()))


def test_vit_is_fused_and_extraction_equals_recomputation(vit):
    """The shared model keeps fused attention; the maps equal softmax(q·kᵀ·scale) of its own q, k."""
    assert vit.blocks[0].attn.fused_attn  # timm's default: the matrix never exists in its forward
    x = torch.randn(1, 3, 224, 224)
    store: dict = {}
    hooks = [_qkv_capture(vit.blocks[i].attn.qkv, store, f"qkv{i}") for i in (0, 5, 11)]
    try:
        with torch.no_grad():
            logits = vit(x)
    finally:
        for h in hooks:
            h.remove()
    ex = attention.extract(vit, x)
    assert len(ex.maps) == 12 and ex.maps[0].shape == (6, 197, 197)
    np.testing.assert_allclose(ex.logits, logits[0].numpy(), atol=1e-4)
    for i in (0, 5, 11):
        attn = vit.blocks[i].attn
        q, k, _ = store[f"qkv{i}"].reshape(1, 197, 3, 6, 64).permute(2, 0, 3, 1, 4)
        want = torch.softmax((q * attn.scale) @ k.transpose(-2, -1), dim=-1)[0]
        np.testing.assert_allclose(ex.maps[i], want.numpy(), atol=1e-6)
        np.testing.assert_allclose(ex.maps[i].sum(-1), 1.0, atol=1e-5)
    # nothing was switched on the shared model, and the extractor shares its weights
    assert all(b.attn.fused_attn for b in vit.blocks)
    ext = attention.extractor(vit)
    assert attention.extractor(vit) is ext
    ptrs = {p.data_ptr() for p in vit.parameters()}
    assert {p.data_ptr() for p in ext.net.parameters()} <= ptrs


def test_swin_extraction_equals_recomputation_with_bias_and_mask(swin_micro):
    block = swin_micro.layers[0].blocks[1]
    assert block.shift_size == (2, 2) and block.attn_mask is not None
    x = torch.randn(1, 3, 64, 64)
    store: dict = {}
    hook = block.attn.register_forward_hook(
        lambda m, args, kwargs, out: store.update(x=args[0].clone(), mask=kwargs["mask"].clone()),
        with_kwargs=True)
    try:
        with torch.no_grad():
            logits = swin_micro(x)
    finally:
        hook.remove()
    ex = attention.extract(swin_micro, x)
    np.testing.assert_allclose(ex.logits, logits[0].numpy(), atol=1e-4)
    attn = block.attn
    with torch.no_grad():
        qkv = attn.qkv(store["x"]).reshape(-1, 16, 3, 2, 12).permute(2, 0, 3, 1, 4)
        q, k = qkv[0], qkv[1]
        table = attn.relative_position_bias_table
        index = attn.relative_position_index.reshape(-1)
        bias = table[index].reshape(16, 16, 2).permute(2, 0, 1)
        logits_w = (q * attn.scale) @ k.transpose(-2, -1) + bias[None] + store["mask"][:, None]
        want = torch.softmax(logits_w, -1)
        want_unmasked = torch.softmax((q * attn.scale) @ k.transpose(-2, -1) + bias[None], -1)
    got = ex.maps[ex.names.index("layers.0.blocks.1.attn")]
    assert got.shape == (16, 2, 16, 16)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-6)

    # the clicked-token row: token (15, 15) lands in the bottom-right (corner) window after the roll
    row = attention.swin_window_row(swin_micro, ex, 1, 2, head=2, ty=15, tx=15)
    sy, sx = (15 - 2) % 16, (15 - 2) % 16
    assert row.window == (sy // 4) * 4 + sx // 4 == 15
    assert row.query == (sy % 4) * 4 + sx % 4
    np.testing.assert_allclose(row.masked, want[row.window, 1, row.query].numpy(), atol=1e-6)
    np.testing.assert_allclose(row.unmasked, want_unmasked[row.window, 1, row.query].numpy(), atol=1e-5)
    blocked = row.regions != row.regions[row.query]
    assert blocked.sum() == 12  # corner window: the query's region holds 4 of 16 tokens
    assert row.masked[blocked].sum() < 1e-30 and row.unmasked[blocked].sum() > 1e-3
    # keys go back to where they are in the photo: the corner window wraps to all four corners
    corners = {(int(y) // 8, int(x) // 8) for y, x in row.keys_yx}
    assert corners == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_extractor_is_thread_safe():
    torch.manual_seed(0)
    vit = timm.create_model("vit_small_patch16_224", img_size=64, depth=4, num_classes=8).eval()
    xs = [torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    serial = [attention.extract(vit, x).maps[3] for x in xs]
    results: list = [None] * 4

    def work(i: int) -> None:
        results[i] = attention.extract(vit, xs[i]).maps[3]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, serial, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


def _rollout_reference(maps, fusion, discard):
    """Direct transcription of Abnar & Zuidema with head fusion and discard (torch, per layer)."""
    result = torch.eye(maps[0].shape[-1], dtype=torch.float64)
    for a in maps:
        t = torch.from_numpy(np.asarray(a, np.float64))
        fused = {"mean": t.mean(0), "max": t.max(0).values, "min": t.min(0).values}[fusion]
        flat = fused.flatten().clone()
        k = int(flat.numel() * discard)
        if k:
            idx = torch.sort(flat, stable=True).indices[:k]
            idx = idx[idx != 0]
            flat[idx] = 0
        fused = flat.view_as(fused)
        a2 = (fused + torch.eye(fused.shape[0], dtype=torch.float64)) / 2
        a2 = a2 / a2.sum(dim=-1, keepdim=True)
        result = a2 @ result
    return result.numpy()


@pytest.mark.parametrize("fusion,discard", [("mean", 0.0), ("max", 0.5), ("min", 0.9)])
def test_rollout_matches_reference(fusion, discard):
    rng = np.random.default_rng(0)
    maps = []
    for _ in range(3):
        logits = rng.normal(size=(4, 10, 10))
        e = np.exp(logits)
        maps.append(e / e.sum(-1, keepdims=True))
    got = attention.rollout(maps, fusion, discard)
    np.testing.assert_allclose(got, _rollout_reference(maps, fusion, discard), atol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-12)
    # attention that only looks at itself leaves the identity
    eye = [np.broadcast_to(np.eye(10), (4, 10, 10))] * 3
    np.testing.assert_allclose(attention.rollout(eye), np.eye(10), atol=1e-12)
    with pytest.raises(ValueError, match="fusion"):
        attention.rollout(maps, "sum")


def test_head_stats_uniform_and_peaked():
    n = 17
    uniform = np.full((2, n, n), 1.0 / n)
    peaked = np.zeros((2, n, n))
    peaked[..., 3] = 1.0
    s = attention.head_stats(np.concatenate([uniform[:1], peaked[:1]]))
    np.testing.assert_allclose(s["cls_entropy"], [np.log2(n), 0.0], atol=1e-6)
    np.testing.assert_allclose(s["effective"], [n, 1.0], atol=1e-5)
    np.testing.assert_allclose(s["max_weight"], [1.0 / n, 1.0])


@pytest.mark.parametrize("name,weights", [("vit-small", "random"), ("vit-shapes", "auto")])
def test_model_view_is_what_the_model_sees(cat, name, weights):
    """The rendered view, downsized, matches the de-normalised tensor zoo.preprocess feeds the model."""
    import cv2

    loaded = zoo.load_model(name, weights)
    x = zoo.preprocess(loaded, cat)[0]
    cfg = attention.data_config(loaded)
    mean, std = torch.tensor(cfg["mean"])[:, None, None], torch.tensor(cfg["std"])[:, None, None]
    seen = ((x * std + mean).clamp(0, 1) * 255).permute(1, 2, 0).numpy()
    view, box = attention.model_view(cat, loaded, 448)
    small = cv2.resize(view, seen.shape[1::-1], interpolation=cv2.INTER_AREA).astype(np.float64)
    assert np.abs(small - seen).mean() < 6.0  # interpolation differences only (0..255 scale)
    shifted = np.roll(small, 3, axis=1)  # a crop three model pixels off would be visibly worse
    assert np.abs(shifted - seen).mean() > np.abs(small - seen).mean() + 1.0
    h, w = cat.shape[:2]
    assert 0 <= box[0] < box[2] <= w + 1e-6 and 0 <= box[1] < box[3] <= h + 1e-6


def test_run_defaults_and_errors(cat):
    res = attention.run(cat)
    assert list(res.images) == ["cls_attention", "head_mean", "rollout", "patch_attention", "swin_masked",
                                "swin_unmasked", "swin_rows"]
    s = res.to_json()
    gh, gw = s["model"]["grid"]
    assert s["layer"] == s["model"]["layers"] and len(s["top5"]) == 5
    assert abs(sum(t["probability"] for t in s["top5"])) <= 1.0 + 1e-9
    assert len(s["heads_table"]) == s["model"]["heads"]
    qr = int(0.97 * gh)
    assert s["query_patch"] == {"row": qr, "col": gw // 2, "token": 1 + qr * gw + gw // 2}
    # the default point sits in a wrapped-around window: part of its keys are masked
    assert s["swin"]["masked_keys"] > 0 and s["swin"]["weight_on_masked_keys_without_mask"] > 0.05
    assert s["swin"]["weight_on_masked_keys_with_mask"] < 1e-30
    assert s["model"]["source"] in ("embedded", "random")
    assert "entropy" in res.figures
    with pytest.raises(ValueError, match="layers"):
        attention.run(cat, layer=24)
    with pytest.raises(ValueError, match="fusion"):
        attention.run(cat, fusion="sum")
    with pytest.raises(ValueError, match="heads"):
        attention.run(cat, head=16)


def test_click_moves_the_query(cat):
    a = attention.run(cat, query_x=0.0, query_y=0.0).to_json()
    b = attention.run(cat, query_x=0.99, query_y=0.99).to_json()
    assert a["query_patch"]["token"] == 1
    gh, gw = b["model"]["grid"]
    assert b["query_patch"]["token"] == gh * gw
    # in a shifted block the top-left and bottom-right tokens share the wrapped-around corner window
    n_win = (b["swin"]["grid"][0] // b["swin"]["window"]) ** 2
    assert a["swin"]["window_index"] == b["swin"]["window_index"] == n_win - 1
    c = attention.run(cat, query_x=0.5, query_y=0.5).to_json()
    assert c["swin"]["masked_keys"] == 0  # the middle of the image lies inside one region
    assert c["swin"]["window_index"] != n_win - 1


def test_endpoint(client, cat_path):
    from gradio_client import handle_file

    *images, summary = client.predict(handle_file(str(cat_path)), api_name="/attention")
    assert len(images) == 2  # the ViT grid (four maps) and the Swin figure (pair + window rows)
    assert summary["top5"] and summary["swin"]["shift"] > 0
    assert all(os.path.isfile(p) for p in images)
    from PIL import Image

    vit_size, swin_size = (Image.open(p).size for p in images)
    panel, view = attention.PANEL_WIDTH, attention.VIEW
    assert vit_size == (2 * panel + GRID_GAP, 2 * (view + GRID_TITLE) + GRID_GAP)
    assert swin_size[0] == 2 * panel + GRID_GAP and swin_size[1] > view + GRID_TITLE + GRID_GAP


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(layer=40), "between 0 and 24"),  # past the slider's range
    (dict(layer=20), r"has \d+ layers"),  # inside it, but the embedded ViT is shallower
    (dict(head=1.5), "whole number"),
    (dict(fusion="sum"), "must be one of"),
    (dict(swin_model="vit-shapes"), "must be one of"),
])
def test_endpoint_checks_every_raw_value_itself(client, cat_path, kwargs, message):
    """The page takes Gradio's raw input values (no per-component preprocessing, see frame.RAW_INPUTS),
    so the lesson's own checks must catch what the components' checks would have caught."""
    from gradio_client import handle_file

    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(cat_path)), api_name="/attention", **kwargs)


def test_grid_figures_keep_every_map_and_map_clicks_back_into_any_map_panel(cat):
    from apps import attention as page

    result = attention.run(cat, query_x=0.8, query_y=0.3)
    vit, swin = page._figures(result)
    im, panel, view = result.images, attention.PANEL_WIDTH, attention.VIEW
    assert im["cls_attention"].shape[:2] == (view, panel)  # what the click maths assumes
    right, below = panel + GRID_GAP, view + 2 * GRID_TITLE + GRID_GAP
    np.testing.assert_array_equal(vit[GRID_TITLE:GRID_TITLE + view, :panel], im["cls_attention"])
    np.testing.assert_array_equal(vit[GRID_TITLE:GRID_TITLE + view, right:], im["head_mean"])
    np.testing.assert_array_equal(vit[below:, :panel], im["rollout"])
    np.testing.assert_array_equal(vit[below:, right:], im["patch_attention"])
    left, h = im["swin_masked"], im["swin_masked"].shape[0]
    np.testing.assert_array_equal(swin[GRID_TITLE:GRID_TITLE + h, :left.shape[1]], left)
    np.testing.assert_array_equal(swin[GRID_TITLE:GRID_TITLE + h, left.shape[1] + GRID_GAP:],
                                  im["swin_unmasked"])
    rows = im["swin_rows"]
    top = h + 2 * GRID_TITLE + GRID_GAP
    np.testing.assert_array_equal(swin[top:top + rows.shape[0], :rows.shape[1]], rows)
    assert (swin[top:, rows.shape[1]:] == 255).all()  # the narrower bottom row is padded with white
    # a click at map pixel (300, 120) of any of the four ViT maps selects the same point
    for x0 in (0, right):
        for y0 in (GRID_TITLE, below):
            assert grid_click(x0 + 300, y0 + 120, panel, view, map_rows=2) == (300.0, 120.0)
    assert grid_click(5, 3, panel, view) == (5.0, 0.0)  # on the title strip: the top edge
    assert grid_click(panel + 3, 50, panel, view) == (panel - 1.0, 50 - GRID_TITLE)  # the gap: nearest map
    assert grid_click(10, top + 10, panel, view, map_rows=1) is None  # the table under the Swin maps
    with pytest.raises(ValueError, match="panel"):
        grid_figure([[]])
