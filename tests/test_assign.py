"""core.assign against an independent loop-by-loop YOLOX oracle, the notes' worked example, and
hand-made ATSS / TAL cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.assign import (
    anchor_grid,
    atss,
    dynamic_k_matching,
    geometry,
    pair_cls_cost,
    parse_gt_json,
    simota,
    tal,
    worked_example,
)
from tests._simota_reference import reference_simota

NAMES = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "ring", "cross")



def test_anchor_grid_640_is_8400_stride8_first_row_major():
    points, strides = anchor_grid(640)
    assert points.shape == (8400, 2) and strides.shape == (8400,)
    assert [(strides == s).sum() for s in (8, 16, 32)] == [6400, 1600, 400]
    assert points[0].tolist() == [4, 4] and points[1].tolist() == [12, 4] and points[80].tolist() == [4, 12]
    assert points[6400].tolist() == [8, 8] and points[8000].tolist() == [16, 16]
    assert points[-1].tolist() == [624, 624]
    assert np.all(np.diff(strides) >= 0)


def _random_case(rng, size=128, n_cls=4, max_gt=6, jitter=4.0):
    points, strides = anchor_grid(size)
    a = len(points)
    g = int(rng.integers(1, max_gt + 1))
    xy = rng.uniform(0, size - 20, (g, 2))
    wh = rng.uniform(4, 70, (g, 2))
    gt = np.concatenate([xy, np.minimum(xy + wh, size)], 1)
    labels = rng.integers(0, n_cls, g)
    centre = points + rng.normal(0, jitter, (a, 2))
    pwh = np.exp(rng.normal(3.0, 0.6, (a, 2)))
    pred = np.concatenate([centre - pwh / 2, centre + pwh / 2], 1)
    cls = rng.normal(0, 2, (a, n_cls))
    obj = rng.normal(0, 2, a)
    return gt, labels, pred, cls, obj, points, strides


@pytest.mark.parametrize("preset", ["yolox-0.3", "yolox-main"])
def test_simota_equals_loop_reference_on_random_cases(preset):
    rng = np.random.default_rng(7 if preset == "yolox-0.3" else 8)
    conflicts = 0
    for _ in range(25):
        gt, labels, pred, cls, obj, points, strides = _random_case(rng)
        ours = simota(gt, labels, pred, cls, obj, points, strides, preset=preset)
        ref = reference_simota(gt, labels, pred, cls, obj, points, strides, preset=preset)
        cand = np.asarray(ref["candidates"])
        assert np.array_equal(np.flatnonzero(ours.candidates), cand)
        assert ours.dynamic_k.tolist() == ref["dynamic_k"]
        np.testing.assert_allclose(ours.cost[:, cand], np.asarray(ref["cost"]), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ours.ious[:, cand], np.asarray(ref["ious"]), rtol=1e-9, atol=1e-12)
        assert np.array_equal(ours.matched_gt, ref["matched_gt"])
        assert np.isinf(ours.cost[:, ~ours.candidates]).all()
        assert (ours.ious[:, ~ours.candidates] == 0).all()
        assert np.array_equal(ours.fg_mask, ours.matched_gt >= 0)
        conflicts += int(ours.conflicts.sum())
    assert conflicts > 0  # the cases exercise conflict resolution


@pytest.mark.parametrize("preset", ["yolox-0.3", "yolox-main"])
def test_simota_ties_and_crowds_follow_the_reference(preset):
    # identical predictions everywhere → many exactly equal costs; many overlapping same-class GTs
    points, strides = anchor_grid(96)
    a = len(points)
    pred = np.tile([[30.0, 30.0, 70.0, 70.0]], (a, 1))
    cls, obj = np.zeros((a, 3)), np.zeros(a)
    gt = np.array([[28, 28, 72, 72], [32, 26, 68, 74], [10, 10, 40, 40], [50, 50, 90, 90]], float)
    labels = np.array([0, 0, 1, 2])
    ours = simota(gt, labels, pred, cls, obj, points, strides, preset=preset)
    ref = reference_simota(gt, labels, pred, cls, obj, points, strides, preset=preset)
    assert ours.dynamic_k.tolist() == ref["dynamic_k"]
    assert np.array_equal(ours.matched_gt, ref["matched_gt"])


def test_presets_differ_exactly_as_documented():
    points, strides = anchor_grid(256)
    gt = np.array([[40.0, 50.0, 200.0, 130.0]])
    kw = dict(gt_boxes=gt, gt_labels=[0], pred_boxes=np.tile(gt, (len(points), 1)),
              cls_logits=np.zeros((len(points), 2)), obj_logits=np.zeros(len(points)), points=points,
              strides=strides)
    old, new = simota(**kw, preset="yolox-0.3"), simota(**kw, preset="yolox-main")
    cx, cy = 120.0, 90.0
    for res, r in ((old, 2.5), (new, 1.5)):
        expect = (np.abs(points[:, 0] - cx) < r * strides) & (np.abs(points[:, 1] - cy) < r * strides)
        assert np.array_equal(res.in_center[0], expect)
    inside = (points[:, 0] > 40) & (points[:, 0] < 200) & (points[:, 1] > 50) & (points[:, 1] < 130)
    assert np.array_equal(old.in_box[0], inside)
    assert np.array_equal(old.candidates, inside | old.in_center[0])  # box ∪ centre
    assert np.array_equal(new.candidates, new.in_center[0])  # centre only
    assert old.penalty == 1e5 and new.penalty == 1e6 and (old.center_radius, new.center_radius) == (2.5, 1.5)
    pen_old = old.cost[0][old.candidates & ~(old.in_box[0] & old.in_center[0])]
    assert (pen_old > 1e5).all() and (pen_old < 1e5 + 100).all()


def test_inside_tests_are_strict():
    points = np.array([[4.0, 4.0], [12.0, 4.0], [4.0, 12.0], [12.0, 12.0]])
    strides = np.full(4, 8.0)
    in_box, in_ctr = geometry(np.array([[4.0, 0.0, 20.0, 20.0]]), points, strides, radius=1.0)
    assert in_box[0].tolist() == [False, True, False, True]  # x == x1 is not inside
    # centre (12, 10), half-side 8: x in (4, 20), y in (2, 18) → the points at x = 4 are on the edge
    assert in_ctr[0].tolist() == [False, True, False, True]


def test_cls_cost_matches_torch_bce_on_the_gt_by_anchor_by_class_tensor():
    rng = np.random.default_rng(0)
    cls = torch.tensor(rng.normal(0, 4, (50, 6)))
    obj = torch.tensor(rng.normal(0, 4, 50))
    labels = torch.tensor([0, 5, 2, 2])
    p = (cls.sigmoid() * obj.sigmoid()[:, None]).sqrt()
    onehot = F.one_hot(labels, 6).double()
    ref = F.binary_cross_entropy(p[None].repeat(4, 1, 1), onehot[:, None].repeat(1, 50, 1),
                                 reduction="none").sum(-1)
    np.testing.assert_allclose(pair_cls_cost(cls, obj, labels).numpy(), ref.numpy(), rtol=1e-10)


def test_dynamic_k_truncates_and_is_at_least_one():
    ious = np.zeros((3, 20))
    ious[0, :10] = 0.2999  # sum 2.999 → 2, not 3
    ious[1, :3] = 0.1  # sum 0.3 → 1 (at least one)
    ious[2, :12] = 0.5  # only the top 10 count: 5.0 → 5
    m = dynamic_k_matching(np.arange(60, dtype=float).reshape(3, 20), ious, topk=10)
    assert m["dynamic_k"].tolist() == [2, 1, 5]
    assert m["before"].sum(1).tolist() == [2, 1, 5]
    few = dynamic_k_matching(np.ones((1, 4)), np.full((1, 4), 0.9), topk=10)  # fewer than 10 candidates
    assert few["topk_ious"].shape == (1, 4) and few["dynamic_k"].tolist() == [3]


def test_conflict_goes_to_lowest_cost_over_all_gts_as_in_yolox():
    cost = np.array([[0.5, 1.0, 9.0],
                     [0.4, 2.0, 9.0],
                     [0.1, 0.05, 9.0]])  # GT 3 picks only anchor 1 (k = 1) yet is cheapest on anchor 0
    ious = np.array([[0.9, 0.5, 0.0], [0.9, 0.4, 0.0], [0.2, 0.9, 0.0]])
    m = dynamic_k_matching(cost, ious, topk=10)
    assert m["dynamic_k"].tolist() == [1, 1, 1]
    assert m["before"].numpy().tolist() == [[True, False, False], [True, False, False], [False, True, False]]
    assert m["conflicts"].tolist() == [True, False, False]
    assert m["after"][:, 0].tolist() == [False, False, True]


def test_worked_example_of_the_notes():
    ex = worked_example()
    assert ex["cost"].shape == (3, 1000)
    np.testing.assert_allclose(ex["cost"], ex["cls_cost"] + 3 * -np.log(ex["ious"] + 1e-8))
    m = dynamic_k_matching(ex["cost"], ex["ious"], topk=10)
    assert m["dynamic_k"].tolist() == [3, 4, 3]
    assert np.flatnonzero(m["conflicts"]).tolist() == [4]  # the notes' "fifth column"
    np.testing.assert_allclose(ex["cost"][:2, 4], [0.4, 0.3])
    assert m["after"][:, 4].tolist() == [False, True, False]  # 0.3 < 0.4: GT 2 keeps it
    assert m["after"].sum(1).tolist() == [2, 4, 3]


def test_atss_hand_made():
    points, strides = anchor_grid(32, strides=(8,))  # 4×4 anchors at 4, 12, 20, 28
    gt = np.array([[6.0, 6.0, 18.0, 18.0]])
    res = atss(gt, points, strides, k=9, anchor_scale=2.0)  # anchor boxes of side 16
    block = [0, 1, 2, 4, 5, 6, 8, 9, 10]  # the 3×3 anchors nearest to the centre (12, 12)
    assert np.flatnonzero(res.candidate_mask[0]).tolist() == block
    expected = [144 / 256] + [72 / 328] * 4 + [36 / 364] * 4
    cand_ious = np.sort(res.ious[0, block])[::-1]
    np.testing.assert_allclose(cand_ious, expected)
    thr = np.mean(expected) + np.std(expected, ddof=1)
    np.testing.assert_allclose(res.thresholds[0], thr)
    assert np.flatnonzero(res.fg_mask).tolist() == [5] and res.matched_gt[5] == 0


def test_atss_conflict_goes_to_the_higher_iou():
    points, strides = anchor_grid(32, strides=(8,))
    gt = np.array([[2.0, 2.0, 22.0, 22.0], [6.0, 6.0, 18.0, 18.0]])
    res = atss(gt, points, strides, k=9, anchor_scale=2.0)
    both = res.positive_mask[0] & res.positive_mask[1]
    assert both.any()
    for a in np.flatnonzero(both):
        assert res.matched_gt[a] == int(np.argmax(res.ious[:, a]))


def test_tal_hand_made():
    points = np.array([[10.0, 10.0], [20.0, 10.0], [30.0, 10.0], [60.0, 10.0]])
    gt = np.array([[0.0, 0.0, 40.0, 20.0]])
    pred = np.array([[0, 0, 40, 20], [2, 0, 40, 20], [0, 0, 30, 20], [0, 0, 40, 20]], float)
    cls = np.array([[0.0], [3.0], [3.0], [5.0]])  # class-0 logits
    res = tal(gt, [0], pred, cls, None, points, topk=2)
    s = 1 / (1 + np.exp(-cls[:, 0]))
    u = np.array([1.0, 38 / 40, 30 / 40, 1.0])
    np.testing.assert_allclose(res.metric[0], s * u**6)
    # anchor 3 has the best t but lies outside the GT; of the others, t ranks 1 > 0 > 2
    assert res.in_gt[0].tolist() == [True, True, True, False]
    assert np.flatnonzero(res.fg_mask).tolist() == [0, 1]
    t = s * u**6
    np.testing.assert_allclose(res.target_score[[0, 1]], t[[0, 1]] * u[[0, 1]].max() / t[[0, 1]].max())
    with_obj = tal(gt, [0], pred, cls, np.zeros(4), points, topk=2)
    np.testing.assert_allclose(with_obj.scores[0], s * 0.5)


def test_tal_conflict_goes_to_the_higher_iou():
    points = np.array([[20.0, 20.0]])
    gt = np.array([[0.0, 0.0, 40.0, 40.0], [10.0, 10.0, 30.0, 30.0]])
    pred = np.array([[8.0, 8.0, 32.0, 32.0]])
    res = tal(gt, [0, 0], pred, np.zeros((1, 1)), None, points, topk=13)
    assert res.positive_mask[:, 0].tolist() == [True, True]
    assert res.matched_gt[0] == int(np.argmax(res.ious[:, 0])) == 1


def test_common_result_fields():
    rng = np.random.default_rng(3)
    gt, labels, pred, cls, obj, points, strides = _random_case(rng)
    results = [simota(gt, labels, pred, cls, obj, points, strides), atss(gt, points, strides),
               tal(gt, labels, pred, cls, obj, points)]
    for r in results:
        assert r.fg_mask.shape == r.candidates.shape == r.matched_gt.shape == (len(points),)
        assert r.metric.shape == (len(gt), len(points))
        assert np.array_equal(r.fg_mask, r.matched_gt >= 0)
        assert r.positives_per_gt().sum() == r.fg_mask.sum()


def test_bad_inputs_raise_clear_errors():
    points, strides = anchor_grid(64)
    a = len(points)
    with pytest.raises(ValueError, match="preset"):
        simota(np.zeros((1, 4)), [0], np.zeros((a, 4)), np.zeros((a, 2)), np.zeros(a), points, strides,
               preset="yolox-2")
    with pytest.raises(ValueError, match="labels"):
        simota([[0, 0, 10, 10]], [5], np.zeros((a, 4)), np.zeros((a, 2)), np.zeros(a), points, strides)
    with pytest.raises(ValueError, match="all .* anchors"):
        simota([[0, 0, 10, 10]], [0], np.zeros((3, 4)), np.zeros((a, 2)), np.zeros(a), points, strides)


def test_parse_gt_json():
    boxes, labels = parse_gt_json(json.dumps([{"box": [1, 2, 30, 40], "label": "Star"},
                                              [5, 5, 9, 9, 2]]), NAMES)
    assert boxes.tolist() == [[1, 2, 30, 40], [5, 5, 9, 9]] and labels.tolist() == [5, 2]
    for text, match in [("[{", "not valid JSON"), ("[]", "non-empty"),
                        ('[{"box": [1, 2, 3], "label": 0}]', "four numbers"),
                        ('[{"box": [10, 2, 3, 40], "label": 0}]', "x1 < x2"),
                        ('[{"box": [1, 2, 30, 40], "label": "dog"}]', "label must be one of"),
                        ('[{"box": [1, 2, 30, 40], "label": 8}]', "label must be one of"),
                        ('["circle"]', "expected an object")]:
        with pytest.raises(ValueError, match=match):
            parse_gt_json(text, NAMES)


def test_run_on_typed_gt_and_the_notes_preset(cat):
    from core.assign import PARAMS, run

    assert [p.name for p in PARAMS][:3] == ["model", "weights", "gt_boxes"]
    gt = json.dumps([{"box": [100, 60, 300, 250], "label": "circle"}])
    res = run(cat, weights="random", gt_boxes=gt, assigner="ATSS", preset="yolox-main")
    assert list(res.images) == ["detections", "positives", "anchors", "cost", "dynamic_k", "matching",
                                "compare"]
    assert all(v.dtype == np.uint8 and v.ndim == 3 for v in res.images.values())
    js = res.to_json()
    assert js["gt_source"] == "typed JSON" and js["simota"]["preset"] == "yolox-main"
    assert js["gt"][0]["box"] == [100, 60, 300, 250]
    assert len(js["simota"]["matched_gt"]) == js["anchors"]
    notes = run(cat, example="notes").to_json()
    assert notes["dynamic_k"] == [3, 4, 3] and notes["conflicts"][0]["winner_gt"] == 1
    with pytest.raises(ValueError, match="not valid JSON"):
        run(cat, weights="random", gt_boxes="{oops")
    with pytest.raises(ValueError, match="Assigner"):
        run(cat, weights="random", assigner="OTA")


def test_two_clicks_make_a_gt_box_in_original_pixels():
    from core.assign import add_clicked_box
    from core.viz.assign import DISPLAY, STRIP

    image = np.zeros((100, 200, 3), np.uint8)  # letterboxed: the long side (200) spans DISPLAY pixels
    f = DISPLAY / 200
    text, pending, _ = add_clicked_box(image, "", None, [100 * f, STRIP + 50 * f], "star")
    assert text == "" and pending == [100.0, 50.0]
    text, pending, message = add_clicked_box(image, text, pending, [20 * f, STRIP + 10 * f], "star")
    assert pending is None and json.loads(text) == [{"box": [20.0, 10.0, 100.0, 50.0], "label": "star"}]
    boxes, labels = parse_gt_json(text, NAMES)
    assert labels.tolist() == [5] and "Added GT 1" in message


def test_no_gt_means_all_background():
    points, strides = anchor_grid(64)
    a = len(points)
    args = (np.zeros((0, 4)), [], np.zeros((a, 4)) + [0, 0, 8, 8], np.zeros((a, 3)), np.zeros(a), points)
    for res in (simota(*args, strides), tal(*args), atss(np.zeros((0, 4)), points, strides)):
        assert not res.fg_mask.any() and (res.matched_gt == -1).all() and res.metric.shape == (0, a)
