"""What the Compare page's numbers and pictures mean: the random-map baseline of the faithfulness score,
the card's caption, the agreement colours of the detector boxes, the card row."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core import compare, compare_ops, zoo


@pytest.fixture(scope="module")
def resnet():
    loaded = zoo.load_model("resnet-shapes", "random")
    return loaded


def test_random_drop_is_the_drop_after_hiding_the_hottest_fifth_of_the_blob_map(resnet, cat):
    """The baseline hides the hottest 20 % of a random smooth map (blob_map, same seed) by the mean
    colour, exactly as the heatmap's own 20 % is hidden, and reports p − p_after."""
    x = zoo.preprocess(resnet, cat)
    size = x.shape[-1]
    heat = np.zeros((size, size), np.float32)
    heat[size // 2:, :] = 1.0 + np.arange(size, dtype=np.float32)[None, :]  # the bottom half, graded
    result = compare.faithfulness(resnet.model, x, heat, class_index=2, seed=3)
    blob = compare.blob_map(size, seed=3)
    assert blob.shape == (size, size) and 0.0 <= blob.min() < blob.max() <= 1.0
    keep = torch.from_numpy((blob < np.percentile(blob, 80)).astype(np.float32))
    assert 0.19 < 1 - float(keep.mean()) < 0.21
    with torch.inference_mode():
        p = torch.softmax(resnet.model(x), -1)[0, 2].item()
        p_random = torch.softmax(resnet.model(x * keep), -1)[0, 2].item()
    assert result["random_drop"] == pytest.approx(p - p_random, abs=1e-6)
    assert result["random_drop"] != pytest.approx(result["drop"], abs=1e-9)  # a different map


def test_blob_map_is_smooth_seeded_noise():
    a, b, c = compare.blob_map(96, seed=0), compare.blob_map(96, seed=0), compare.blob_map(96, seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.abs(np.diff(a, axis=0)).max() < 0.1  # bilinear from a 7×7 grid: no jumps between pixels


def test_normalise_maps_min_to_0_and_max_to_1():
    out = compare_ops._normalise(np.array([[2.0, 4.0], [6.0, 6.0]]))
    assert out.tolist() == [[0.0, 0.5], [1.0, 1.0]]
    assert compare_ops._normalise(np.full((2, 2), 3.0)).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def _report(heat, faith):
    view = np.zeros((64, 64, 3), np.uint8)
    return compare.ModelReport(
        name="m", title="M", source="embedded", status="", top=[("a", 0.5)], class_index=0,
        heatmap="Grad-CAM · layer4", heat=heat, view=view, params=1_000_000, macs=2_000_000_000,
        input_size=64, latency_s=0.01, heatmap_s=0.002, faith=faith)


def test_card_caption_prints_the_probability_change_and_its_baseline(monkeypatch):
    cards = []
    monkeypatch.setattr(compare, "render_card", lambda card, width=300: cards.append(card) or card)
    faith = {"p": 0.82, "p_removed": 0.30, "drop": 0.52, "random_drop": 0.05}
    compare.classifier_card(_report(np.linspace(0, 1, 64 * 64).reshape(64, 64), faith))
    assert cards[-1].heat_caption == "Grad-CAM · layer4\nhide top 20%: p -52.0 pts (random: -5.0)"
    compare.classifier_card(_report(np.zeros((64, 64)), None))
    assert cards[-1].heat_caption == "Grad-CAM · layer4 · all 0: no positive evidence"
    compare.classifier_card(_report(np.eye(64), None))  # min 0, max 1: evidence, not 'all 0'
    assert cards[-1].heat_caption == "Grad-CAM · layer4"


def _det(name, boxes, labels):
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return compare.DetectorReport(name=name, title=name, available=True, source="embedded", status="",
                                  boxes=boxes, scores=np.full(len(boxes), 0.9), labels=list(labels))


def test_agreement_counts_and_f1():
    a = _det("a", [[10, 10, 50, 50], [60, 60, 90, 90]], ["cat", "dog"])
    b = _det("b", [[11, 10, 50, 51]], ["cat"])
    c = _det("c", [[10, 10, 50, 50], [61, 60, 90, 90]], ["cat", "dog"])
    d = compare.disagreement([a, b, c])
    assert d["others"] == 2
    assert d["support"]["a"].tolist() == [2, 1] and d["support"]["b"].tolist() == [2]
    assert d["agreed"]["a"].tolist() == [True, False] and d["agreed"]["c"].tolist() == [True, False]
    f1 = {(p["a"], p["b"]): p["f1"] for p in d["pairs"]}
    assert f1[("a", "b")] == pytest.approx(2 * 1 / 3) and f1[("a", "c")] == pytest.approx(1.0)


def test_box_colours_say_how_many_others_agree():
    """Green = every other detector found it, blue = some did, orange = none (on the box's left edge)."""
    image = np.full((200, 300, 3), 128, np.uint8)
    a = _det("a", [[20, 40, 80, 160], [120, 40, 180, 160], [220, 40, 280, 160]], ["x", "y", "z"])
    support = {"a": np.array([2, 1, 0])}
    tile = compare.detector_tiles(image, [a], support, others=2)[0]
    body = tile[tile.shape[0] - 200:]  # the header sits above the 300-px-wide picture
    green, blue, orange = (0, 158, 115), (86, 180, 233), (213, 94, 0)
    for x, colour in ((20, green), (120, blue), (220, orange)):
        assert tuple(int(v) for v in body[120, x]) == colour, x


def test_four_cards_sit_in_one_row():
    from core.viz.compare import side_by_side

    tiles = [np.zeros((50, 40, 3), np.uint8)] * 4
    out = side_by_side(tiles, gap=10)
    assert out.shape == (50 + 2 * 10, 10 + 4 * (40 + 10), 3)
    assert side_by_side(tiles * 2, gap=10).shape[0] == 2 * (50 + 10) + 10  # eight: two rows of four
