"""The YOLOX-style detector: head layout and decoding, a smoke training, the shipped checkpoints, and
the /simota endpoint with only an image."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from core.assign import anchor_grid, run, shapes_scene, simota
from core.nets.yolox import DecoupledHead, YOLOXShapes, decode, letterbox, yolox_shapes
from core.train.detector import ARCH, EVAL_SEED, evaluate, train


def test_head_layout_and_8400_outputs_at_640():
    net = yolox_shapes(num_classes=80, image_size=640).eval()
    with torch.inference_mode():
        out = net(torch.zeros(1, 3, 640, 640))
    assert out.shape == (1, 8400, 4 + 1 + 80)  # outputs per image, not parameters
    head = net.heads[0]
    assert isinstance(head, DecoupledHead)
    assert head.stem.conv.kernel_size == (1, 1)
    assert [m.conv.kernel_size for m in head.cls_convs] == [(3, 3), (3, 3)]
    assert [m.conv.kernel_size for m in head.reg_convs] == [(3, 3), (3, 3)]
    assert (head.cls_pred.out_channels, head.reg_pred.out_channels, head.obj_pred.out_channels) == (80, 4, 1)
    assert head.cls_pred.kernel_size == head.reg_pred.kernel_size == head.obj_pred.kernel_size == (1, 1)


def test_grid_order_matches_anchor_grid_and_decoding_formula():
    net = YOLOXShapes(image_size=192)
    cells, strides = net.grid(192, 192)
    points, st = anchor_grid(192)
    np.testing.assert_allclose(((cells + 0.5) * strides[:, None]).numpy(), points)
    np.testing.assert_allclose(strides.numpy(), st)
    raw = torch.zeros(len(cells), 13)
    raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3] = 0.5, -0.25, np.log(2.0), 0.0
    boxes = decode(raw, cells, strides)
    cx = (cells[:, 0] + 0.5) * strides
    cy = (cells[:, 1] - 0.25) * strides
    expect = torch.stack([cx - strides, cy - strides / 2, cx + strides, cy + strides / 2], 1)
    torch.testing.assert_close(boxes, expect)


def test_letterbox_keeps_aspect_and_pads_bottom_right():
    img = np.full((100, 200, 3), 7, np.uint8)
    out, scale, (h, w) = letterbox(img, 192)
    assert out.shape == (192, 192, 3) and scale == pytest.approx(0.96) and (h, w) == (96, 192)
    assert (out[:96] == 7).all() and (out[96:] == 114).all()


def test_smoke_training_writes_loadable_checkpoints_and_cards(tmp_path):
    report = train("yolox-shapes", smoke=True, out=tmp_path)
    names = ["yolox-shapes", "yolox-shapes-0pct", "yolox-shapes-5pct", "yolox-shapes-30pct"]
    for name in names:
        state = load_file(str(tmp_path / f"{name}.safetensors"))
        net = yolox_shapes(num_classes=8, image_size=128, **ARCH)
        net.load_state_dict(state, strict=True)
        card = (tmp_path / f"{name}.md").read_text(encoding="utf-8")
        assert "python -m core.train yolox-shapes --steps 4" in card and "mAP@0.5" in card
    assert report.steps == 4 and all(np.isfinite(v) for v in report.metrics.values())
    init = load_file(str(tmp_path / "yolox-shapes-0pct.safetensors"))
    final = load_file(str(tmp_path / "yolox-shapes.safetensors"))
    assert any(not torch.equal(init[k], final[k]) for k in init)  # training changed the weights


def _scene_inputs(index: int):
    image, gt_json = shapes_scene(index)
    gt = json.loads(gt_json)
    return image, gt_json, gt


def test_shipped_detector_map_on_held_out_scenes():
    """COCO mAP (torchmetrics) of the shipped weights on scenes never seen in training.

    The model card reports 0.846 mAP@0.5 on 300 held-out scenes; here 40 other held-out scenes (fixed,
    so the number is deterministic: 0.847 when written) must meet the project's target of 0.8.
    """
    from core import zoo
    from core.data.shapesworld import ShapesWorld

    loaded = zoo.load_model("yolox-shapes", "embedded")
    assert loaded.source == "embedded"
    world = ShapesWorld(size=192, mode="detect", seed=EVAL_SEED + 1, style="train")
    scenes = [world[i] for i in range(40)]
    targets = [{"boxes": torch.from_numpy(s.boxes), "labels": torch.from_numpy(s.labels)} for s in scenes]
    metrics = evaluate(loaded.model, np.stack([s.image for s in scenes]), targets)
    assert metrics["mAP@0.5"] >= 0.8


def test_assignment_changes_as_predictions_improve():
    """Same GT, two checkpoints: trained predictions overlap the objects, so dynamic k grows."""
    from core import zoo
    from core.assign import predict

    ks = {}
    for name in ("yolox-shapes-0pct", "yolox-shapes"):
        loaded = zoo.load_model(name, "embedded")
        total = 0
        for index in range(4):
            image, _, gt = _scene_inputs(index)
            pred = predict(loaded, image)
            boxes = np.array([g["box"] for g in gt])
            labels = [loaded.labels.index(g["label"]) for g in gt]
            res = simota(boxes, labels, pred.boxes, pred.cls_logits, pred.obj_logits, pred.points,
                         pred.strides)
            total += int(res.dynamic_k.sum())
        ks[name] = total
    assert ks["yolox-shapes"] > 1.5 * ks["yolox-shapes-0pct"]


def test_run_with_only_an_image_uses_the_detectors_own_detections():
    image, _, gt = _scene_inputs(5)
    res = run(image).to_json()
    assert res["weights"] == "embedded" and res["gt_source"].startswith("detections")
    assert len(res["gt"]) == len(res["detections"]) >= 1
    assert sum(res["simota"]["positives_per_gt"]) == sum(1 for m in res["simota"]["matched_gt"] if m >= 0)


def test_endpoint_with_only_an_image(client, cat_path):
    from gradio_client import handle_file

    out = client.predict(handle_file(str(cat_path)), api_name="/simota")
    images, summary = out[:7], out[7]
    assert all(isinstance(p, str) and p.endswith((".png", ".webp", ".jpg", ".jpeg")) for p in images)
    assert summary["anchors"] == 756 and summary["simota"]["preset"] == "yolox-0.3"
    assert len(summary["simota"]["dynamic_k"]) == len(summary["gt"]) >= 1
    assert min(summary["simota"]["dynamic_k"]) >= 1
