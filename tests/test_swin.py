"""core.swin against timm's own buffers and forward pass, the LESSONS.md oracles, and the /swin endpoint."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
from timm.models import swin_transformer as tswin
from timm.models import swin_transformer_v2 as tswin2

from core import swin

# (H, W, M, s): the three Swin-T stage sizes with a shift at 224 and the teaching case
CASES = [(56, 56, 7, 3), (28, 28, 7, 3), (14, 14, 7, 3), (8, 8, 4, 2)]


def _timm_block(h: int, w: int, m: int, s: int) -> tswin.SwinTransformerBlock:
    torch.manual_seed(0)
    return tswin.SwinTransformerBlock(dim=12, input_resolution=(h, w), num_heads=3, window_size=m,
                                      shift_size=s).eval()


@pytest.mark.parametrize("h,w,m,s", CASES)
def test_mask_equals_timm_attn_mask(h, w, m, s):
    block = _timm_block(h, w, m, s)
    ours = swin.shifted_window_mask(h, w, m, s)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, block.attn_mask.numpy())


@pytest.mark.parametrize("m", [7, 4, 2, 12])
def test_relative_position_index_equals_timm(m):
    attn = tswin.WindowAttention(dim=8, num_heads=2, window_size=m)
    np.testing.assert_array_equal(swin.relative_position_index(m), attn.relative_position_index.numpy())


def test_region_rows_oracle():
    ids = swin.region_ids(8, 8, 4, 2)
    for r in range(4):
        assert ids[r].tolist() == [0, 0, 0, 0, 1, 1, 2, 2]
    for r in (4, 5):
        assert ids[r].tolist() == [3, 3, 3, 3, 4, 4, 5, 5]
    for r in (6, 7):
        assert ids[r].tolist() == [6, 6, 6, 6, 7, 7, 8, 8]
    assert not swin.region_ids(8, 8, 4, 0).any()


def test_masked_counts_oracles():
    assert swin.masked_counts(8, 8, 4, 2).tolist() == [0, 128, 128, 192]
    counts = swin.masked_counts(56, 56, 7, 3).reshape(8, 8)
    assert counts.size == 64
    assert counts[-1, -1] == 1776
    assert (counts[:-1, -1] == 1176).all() and (counts[-1, :-1] == 1176).all()
    assert (counts[:-1, :-1] == 0).all()
    # N² − Σ n_k² over the region sizes inside each window
    ids = swin.region_ids(56, 56, 7, 3)
    windows = swin.window_partition(ids[None, :, :, None], 7).reshape(64, 49)
    expected = [49 * 49 - sum(n * n for n in np.bincount(win)) for win in windows]
    assert counts.reshape(-1).tolist() == expected
    assert not swin.shifted_window_mask(56, 56, 7, 0).any()


def test_mask_values_and_symmetry():
    mask = swin.shifted_window_mask(8, 8, 4, 2)
    assert set(np.unique(mask).tolist()) == {0.0, -100.0}
    np.testing.assert_array_equal(mask, mask.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="divisible"):
        swin.shifted_window_mask(6, 6, 4, 2)
    with pytest.raises(ValueError, match="shift"):
        swin.region_ids(8, 8, 4, 4)


@pytest.mark.parametrize("m", [2, 4, 7])
def test_index_oracles(m):
    idx = swin.relative_position_index(m)
    assert idx.min() == 0 and idx.max() == (2 * m - 1) ** 2 - 1
    assert (np.diag(idx) == 2 * m * (m - 1)).all()
    assert (idx + idx.T == 4 * m * (m - 1)).all()
    assert len(np.unique(idx)) == (2 * m - 1) ** 2
    # Δ = query − key, tokens row-major
    yy, xx = np.divmod(np.arange(m * m), m)
    i, j = 1, m * m - 1
    assert idx[i, j] == (yy[i] - yy[j] + m - 1) * (2 * m - 1) + (xx[i] - xx[j] + m - 1)


def test_index_row0_for_m2_and_m7_max():
    assert swin.relative_position_index(2)[0].tolist() == [4, 3, 1, 0]
    assert swin.relative_position_index(7).max() == 168


def test_partition_and_shift_equal_timm():
    x = torch.randn(2, 8, 12, 5)
    ours = swin.window_partition(x, 4)
    torch.testing.assert_close(ours, tswin.window_partition(x, (4, 4)))
    torch.testing.assert_close(swin.window_reverse(ours, 4, 8, 12), x)
    np.testing.assert_array_equal(swin.window_partition(x.numpy(), 4), ours.numpy())
    rolled = swin.cyclic_shift(x, 2)
    torch.testing.assert_close(rolled, torch.roll(x, (-2, -2), (1, 2)))
    torch.testing.assert_close(swin.cyclic_shift(rolled, 2, reverse=True), x)


@pytest.mark.parametrize("h,w,m,s", [(8, 8, 4, 2), (14, 14, 7, 3)])
def test_shifted_window_attention_rebuilt_from_our_functions(h, w, m, s):
    """Roll, partition, W-MSA with our index and mask, reverse, roll back == timm's block._attn."""
    block = _timm_block(h, w, m, s)
    x = torch.randn(1, h, w, 12)
    attn = block.attn
    with torch.no_grad():
        want = block._attn(x)
        rolled = swin.cyclic_shift(x, s)
        win = swin.window_partition(rolled, m).reshape(-1, m * m, 12)
        qkv = attn.qkv(win).reshape(win.shape[0], m * m, 3, 3, 4).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        index = torch.from_numpy(swin.relative_position_index(m))
        bias = attn.relative_position_bias_table[index.reshape(-1)].reshape(m * m, m * m, 3).permute(2, 0, 1)
        mask = torch.from_numpy(swin.shifted_window_mask(h, w, m, s))
        logits = (q * attn.scale) @ k.transpose(-2, -1) + bias[None] + mask[:, None]
        out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(win.shape[0], m * m, 12)
        out = attn.proj(out).reshape(-1, m, m, 12)
        got = swin.cyclic_shift(swin.window_reverse(out, m, h, w), s, reverse=True)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_swin_t_masks_five_of_twelve_blocks_and_bias_table_shape():
    import timm

    model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False)
    infos = [swin.block_info(model, i + 1, j + 1) for i, layer in enumerate(model.layers)
             for j in range(len(layer.blocks))]
    assert len(infos) == 12
    assert sum(1 for i in infos if i.shift) == 5
    assert [(i.height, i.window, i.shift) for i in infos if i.stage == 4] == [(7, 7, 0), (7, 7, 0)]
    assert [i.heads for i in infos if i.block == 1] == [3, 6, 12, 24]
    table = model.layers[0].blocks[0].attn.relative_position_bias_table
    assert tuple(table.shape) == (169, 3)
    bias = swin.learned_bias(model, 1, 1)
    assert bias.shape == (3, 13, 13)
    # entry (Δy, Δx) = (1, -2) lives at row 1 + 6, column -2 + 6 of head 2's table
    assert bias[1, 7, 4] == pytest.approx(float(table[7 * 13 + 4, 1].detach()))


def test_patch_merging_order_tl_bl_tr_br():
    merge = tswin.PatchMerging(dim=1).eval()
    grid = torch.arange(16, dtype=torch.float32).reshape(1, 4, 4, 1)  # value = 4·row + col
    captured = {}
    merge.norm.register_forward_hook(lambda m, i, o: captured.setdefault("x", i[0]))
    with torch.no_grad():
        merge(grid)
    # the first merged token gathers (0,0), (1,0), (0,1), (1,1): TL, BL, TR, BR
    assert captured["x"][0, 0, 0].tolist() == [0.0, 4.0, 1.0, 5.0]


@pytest.mark.parametrize("window,trained", [(8, None), (16, 8), (12, 8)])
def test_v2_coords_and_cpb_bias_equal_timm(window, trained):
    torch.manual_seed(0)
    attn = tswin2.WindowAttention(dim=12, window_size=(window, window), num_heads=3,
                                  pretrained_window_size=(trained or 0, trained or 0)).eval()
    ours = swin.v2_relative_coords(window, trained)
    np.testing.assert_allclose(ours, attn.relative_coords_table[0].numpy(), atol=1e-6)
    with torch.no_grad():
        table = attn.cpb_mlp(attn.relative_coords_table).view(-1, 3)
        want = 16 * torch.sigmoid(table)  # what forward adds, before indexing by relative_position_index
    got = swin.cpb_bias(attn, window, trained)
    np.testing.assert_allclose(got, want.view(2 * window - 1, 2 * window - 1, 3).permute(2, 0, 1).numpy(),
                               atol=1e-5)
    lin = swin.v2_relative_coords(window, trained, log_spaced=False)
    base = (trained or window) - 1
    assert lin.max() == pytest.approx(8 * (window - 1) / base)
    assert ours.max() == pytest.approx(math.log2(1 + lin.max()) / 3)


def test_complexity_numbers():
    r = swin.complexity(56, 56, 96, 7)
    assert round(r["msa"] / 1e9, 2) == 2.00
    assert round(r["wmsa"] / 1e9, 3) == 0.145
    with pytest.raises(ValueError):
        swin.complexity(0, 56, 96, 7)


def test_teaching_case_summary():
    res = swin.teaching_case(8, 8, 4, 2, 3)
    assert res.summary["masked_counts"] == [[0, 128], [128, 192]]
    assert res.summary["region_rows"] == [0, 0, 0, 0, 3, 3, 6, 6]
    assert res.summary["index_row0"][:2] == [24, 23] and res.summary["index_max"] == 48
    assert res.summary["mask_window_regions"] == [4, 5, 7, 8]
    assert set(res.images) == {"region_map", "window_mask", "position_index"}
    with pytest.raises(ValueError, match="windows"):
        swin.teaching_case(8, 8, 4, 2, 4)
    with pytest.raises(ValueError, match="multiples"):
        swin.teaching_case(9, 8, 4, 2, 0)


def test_run_defaults(cat):
    res = swin.run(cat)
    keys = ["window_grid", "shifted_regions", "region_map", "window_mask", "position_index", "bias_tables",
            "query_bias", "v2_coords", "v2_bias"]
    assert list(res.images) == keys
    for img in res.images.values():
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    s = res.to_json()
    assert s["block"]["shift"] == s["block"]["window"] // 2 > 0
    assert s["model"]["source"] in ("embedded", "random")
    assert s["v2"]["source"] == "random"  # offline: no hub weights for Swin v2, and it says so
    m = s["block"]["window"]
    # query (0, 0) only sees keys below/right of it: Δ ≤ 0, so its largest index is the diagonal 2M(M−1)
    assert s["query"]["index_row"] == swin.relative_position_index(m)[0].tolist()
    assert max(s["query"]["index_row"]) == 2 * m * (m - 1)
    with pytest.raises(ValueError, match="block"):
        swin.run(cat, block=9)


def test_endpoint(client, cat_path):
    from gradio_client import handle_file

    out = client.predict(handle_file(str(cat_path)), api_name="/swin")
    *images, summary = out
    assert len(images) == 9
    assert summary["teaching"]["masked_counts"] == [[0, 128], [128, 192]]
    assert summary["complexity"]["msa"] > summary["complexity"]["wmsa"]
    assert all(os.path.isfile(p) for p in images)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(stage=7), "between 1 and 4"),
    (dict(height=2.5), "whole number"),
    (dict(model="vit-shapes"), "must be one of"),
    (dict(window=12, shift=11, height=8), "multiples of M"),
])
def test_endpoint_checks_every_raw_value_itself(client, cat_path, kwargs, message):
    """Like /attention, /swin takes Gradio's raw input values (frame.RAW_INPUTS): the lesson checks them."""
    from gradio_client import handle_file

    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(cat_path)), api_name="/swin", **kwargs)
