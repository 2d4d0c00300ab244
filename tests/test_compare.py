"""Compare lesson: costs against published counts, Grad-CAM orientation, rollout, faithfulness, detectors,
and the /compare endpoint with only an image."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from core import compare, zoo
from core.lesson import LessonResult

# --------------------------------------------------------------------------------------------- #
# cost


def test_convnext_tiny_has_the_published_parameter_count_and_macs():
    model = zoo.load_model("convnext-tiny", "random").model
    assert compare.count_parameters(model) == 28_589_128
    # 4.47 GMACs at 224 px (the "FLOPs" of the paper and of timm's model card)
    assert compare.count_flops("convnext-tiny", model) == pytest.approx(4.47e9, rel=2e-3)
    assert all(m.fused_attn for m in model.modules() if hasattr(m, "fused_attn"))  # shared model untouched


def test_fvcore_counts_include_the_attention_matmuls():
    # ViT-Ti/16: the attention matmuls (q·kᵀ and attn·v: 2·L·N²·D MACs) must be counted, which fvcore
    # cannot do through the fused scaled_dot_product_attention kernel.
    from fvcore.nn import FlopCountAnalysis

    fused = copy.deepcopy(zoo.load_model("vit-tiny", "random").model)
    analysis = FlopCountAnalysis(fused, torch.zeros(1, 3, 224, 224))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    layers, tokens, width = 12, 197, 192
    assert compare.count_flops("vit-tiny", fused) - analysis.total() == 2 * layers * tokens**2 * width


def test_latency_is_positive_and_finite():
    model = zoo.load_model("resnet-shapes", "random").model
    seconds = compare.measure_latency(model, 96, runs=2)
    assert 0 < seconds < 60


# --------------------------------------------------------------------------------------------- #
# heatmaps


def test_gradcam_shapes_for_a_cnn_and_a_swin(cat):
    for name, layer in (("resnet-shapes", "layer4"), ("swin-shapes", "layers[-1]")):
        loaded = zoo.load_model(name, "random")
        x = zoo.preprocess(loaded, cat)
        spec = compare.cam_spec(loaded.model, x.shape[-1])
        assert spec.layer_name == layer
        with torch.inference_mode():
            top1 = int(loaded.model(x).argmax())
        heat = compare.grad_cam(loaded.model, x, top1)
        assert heat.shape == x.shape[-2:]
        # normalised to [0, 1]; a random net may have no positive evidence at all (then all zeros)
        assert heat.dtype == np.float32 and heat.min() >= 0 and heat.max() <= 1 + 1e-6


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_lesson_heatmap_is_pytorch_grad_cams_map(cat, method):
    """The card's heatmap (core.cam, backward stopped at layer4) equals the library's map for the
    model's own top-1 class on the cat (≤ 1e-5)."""
    from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    loaded = zoo.load_model("resnet-shapes", "auto")
    report = compare.analyse_classifier(loaded, cat, heatmap=method, faith="off", latency_runs=1)
    assert report.heatmap == {"gradcam": "Grad-CAM · layer4", "gradcam++": "Grad-CAM++ · layer4"}[method]
    ref = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus}[method](
        model=loaded.model, target_layers=[loaded.model.layer4])
    ref.compute_input_gradient = True
    try:
        with torch.enable_grad():
            theirs = ref(input_tensor=zoo.preprocess(loaded, cat),
                         targets=[ClassifierOutputTarget(report.class_index)])[0]
    finally:
        ref.activations_and_grads.release()
    assert float(theirs.max() - theirs.min()) > 0.5
    np.testing.assert_allclose(report.heat, theirs, rtol=0, atol=1e-5)


def test_cnn_target_is_the_last_spatial_map_not_a_head_after_pooling():
    # MobileNetV3 applies a 1×1 conv_head *after* global pooling: Grad-CAM must use the 7×7 blocks.
    model = zoo.load_model("mobilenetv3", "random").model
    assert compare.cam_spec(model, 224).layer_name == "blocks"


def _reference_swin_cams(model, x, classes):
    """Grad-CAM written out with explicit NHWC indices, independent of any reshape transform."""
    from pytorch_grad_cam.utils.image import scale_cam_image

    store = {}

    def hook(_m, _i, out):
        out.retain_grad()
        store["A"] = out

    handle = model.layers[-1].register_forward_hook(hook)
    try:
        with torch.enable_grad():
            logits = model(x.clone().requires_grad_(True))
    finally:
        handle.remove()
    a = store["A"]  # (1, H, W, C): timm's Swin is channels-last
    for cls in classes:
        (g,) = torch.autograd.grad(logits[0, cls], a, retain_graph=True)
        weights = g[0].mean(dim=(0, 1))  # α_c: average over H and W
        cam = torch.relu((a.detach()[0] * weights).sum(-1)).numpy()  # cam[h, w]
        yield cls, cam, scale_cam_image(cam[None], (x.shape[-1], x.shape[-2]))[0]


def test_swin_heatmap_is_not_transposed():
    """One bright 32×32 patch at grid cell (row 1, col 5) of Swin-T's 7×7 map.

    We choose a class whose (explicitly indexed) reference CAM peaks at that cell; the library heatmap
    must then peak inside the patch — a transposed reshape would put the peak at (row 5, col 1), a raw
    NCHW reshape of the NHWC tensor would scramble it — and equal the reference everywhere.
    """
    torch.manual_seed(0)
    model = zoo.load_model("swin-tiny", "random").model
    row, col = 1, 5
    x = torch.full((1, 3, 224, 224), -1.5)
    x[:, :, row * 32:(row + 1) * 32, col * 32:(col + 1) * 32] = 2.5
    found = None
    for cls, cam, reference in _reference_swin_cams(model, x, range(100)):
        if cam.max() > 0 and np.unravel_index(cam.argmax(), cam.shape) == (row, col) and \
                not np.allclose(cam, cam.T, atol=1e-3 * cam.max()):
            found = cls, reference
            break
    assert found is not None, "no class of the random Swin responds most to the bright patch"
    cls, reference = found
    heat = compare.grad_cam(model, x, cls)
    peak = np.unravel_index(heat.argmax(), heat.shape)
    assert row * 32 <= peak[0] < (row + 1) * 32 and col * 32 <= peak[1] < (col + 1) * 32
    assert np.abs(heat - reference).max() < 0.05
    assert np.abs(heat - reference.T).max() > 0.5


def test_vit_reshape_drops_the_class_token_and_keeps_row_major_order():
    tokens = torch.arange(1 + 6, dtype=torch.float32).reshape(1, 7, 1)  # CLS + a 2×3 grid, C = 1
    grid = compare.tokens_to_nchw(prefix=1, grid=(2, 3))(tokens)
    assert grid.shape == (1, 1, 2, 3)
    assert grid[0, 0].tolist() == [[1, 2, 3], [4, 5, 6]]


def test_vit_attentions_equal_timms_own_extraction(cat):
    from timm.utils import AttentionExtract

    loaded = zoo.load_model("vit-shapes", "random")
    x = zoo.preprocess(loaded, cat)
    ours = compare.vit_attentions(loaded.model, x)
    unfused = copy.deepcopy(loaded.model)
    for module in unfused.modules():
        if hasattr(module, "fused_attn"):
            module.fused_attn = False
    theirs = list(AttentionExtract(unfused, method="fx")(x).values())
    assert len(ours) == len(theirs) == len(loaded.model.blocks)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_attention_rollout_on_a_hand_computed_example():
    uniform = np.full((1, 2, 2), 0.5)  # one head, two tokens attending equally
    one = compare.attention_rollout([uniform])
    np.testing.assert_allclose(one, [[0.75, 0.25], [0.25, 0.75]])
    two = compare.attention_rollout([uniform, uniform])
    np.testing.assert_allclose(two, np.array([[0.75, 0.25], [0.25, 0.75]]) @ [[0.75, 0.25], [0.25, 0.75]])
    heads = np.stack([np.eye(2), np.full((2, 2), 0.5)])  # mean over heads = [[.75,.25],[.25,.75]]
    np.testing.assert_allclose(compare.attention_rollout([heads]), [[0.875, 0.125], [0.125, 0.875]])


def test_rollout_agrees_with_the_attention_lessons_and_is_used_by_the_page(cat):
    attention = pytest.importorskip("core.attention", reason="the attention lesson is not in this checkout")
    loaded = zoo.load_model("vit-shapes", "random")
    x = zoo.preprocess(loaded, cat)
    maps = [a[0].double().numpy() for a in compare.vit_attentions(loaded.model, x)]
    np.testing.assert_allclose(compare.attention_rollout(maps), attention.rollout(maps), rtol=1e-10)
    assert compare._attention_lesson_rollout() is attention.rollout
    heat = compare.rollout_map(loaded.model, x)
    assert heat.shape == x.shape[-2:] and heat.min() == 0 and heat.max() == pytest.approx(1)


def test_faithfulness_is_the_probability_after_hiding_the_hottest_fifth(cat):
    loaded = zoo.load_model("resnet-shapes", "random")
    x = zoo.preprocess(loaded, cat)
    heat = np.zeros(x.shape[-2:], np.float32)
    heat[:48, :] = np.linspace(0, 1, 48 * 96, dtype=np.float32).reshape(48, 96)
    result = compare.faithfulness(loaded.model, x, heat, class_index=3)
    keep = torch.from_numpy((heat < np.percentile(heat, 80)).astype(np.float32))
    with torch.inference_mode():
        p = torch.softmax(loaded.model(x), -1)[0, 3].item()
        p_hidden = torch.softmax(loaded.model(x * keep), -1)[0, 3].item()
    assert result["p"] == pytest.approx(p, abs=1e-6)
    assert result["p_removed"] == pytest.approx(p_hidden, abs=1e-6)
    assert result["drop"] == pytest.approx(p - p_hidden, abs=1e-6)
    road = compare.faithfulness(loaded.model, x, heat, class_index=3, method="road20")
    assert road["p"] == pytest.approx(p, abs=1e-6) and 0 <= road["p_removed"] <= 1
    assert road["p_removed"] != pytest.approx(p_hidden, abs=1e-9)  # a different imputation, not the mean fill
    with pytest.raises(ValueError, match="constant"):
        compare.faithfulness(loaded.model, x, np.zeros_like(heat), class_index=3)


def test_model_view_is_what_the_model_saw():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    loaded = zoo.load_model("resnet-shapes", "random")
    view = compare.model_view(loaded, zoo.preprocess(loaded, image))
    assert view.shape == image.shape
    assert np.abs(view.astype(int) - image).max() <= 1


# --------------------------------------------------------------------------------------------- #
# detectors


def _det(name, boxes, labels, scores=None):
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    scores = np.ones(len(boxes), np.float32) if scores is None else np.asarray(scores, np.float32)
    return compare.DetectorReport(name, name, True, "embedded", "", boxes, scores, list(labels))


def test_disagreement_matches_boxes_by_class_and_iou():
    a = _det("a", [[0, 0, 10, 10], [50, 50, 60, 60]], ["circle", "star"])
    b = _det("b", [[1, 0, 11, 10], [50, 50, 60, 60], [80, 80, 90, 90]], ["circle", "ring", "ring"])
    result = compare.disagreement([a, b])
    assert result["agreed"]["a"].tolist() == [True, False]  # the star is a ring for b
    assert result["agreed"]["b"].tolist() == [True, False, False]
    assert result["pairs"][0]["f1"] == pytest.approx(2 * 1 / 5)
    c = _det("c", [[51, 49, 61, 59]], ["star"])  # agrees with a's star only
    result = compare.disagreement([a, b, c])
    assert result["support"]["a"].tolist() == [1, 1] and result["support"]["b"].tolist() == [1, 0, 0]
    assert result["agreed"]["a"].tolist() == [False, False] and result["others"] == 2


def test_missing_detector_is_labelled_not_faked(cat):
    reports = compare.compare_detectors(cat, ["no-such-detector"])
    assert not reports[0].available and len(reports[0].boxes) == 0 and reports[0].status
    tiles = compare.detector_tiles(cat, reports, {}, 0)
    assert tiles[0].ndim == 3 and tiles[0].dtype == np.uint8


def test_embedded_detectors_run_exactly_when_their_weights_exist(cat):
    names = compare._detector_names("auto")
    assert names[0] == "yolox-shapes" and all(n.startswith("yolox-shapes") for n in names)
    for report in compare.compare_detectors(cat, names):
        has_weights = (zoo.WEIGHTS_DIR / zoo.get_entry(report.name).embedded).is_file()
        assert report.available == has_weights, report.status
        if has_weights:
            n = len(report.boxes)
            assert report.boxes.shape[1] == 4 and n == len(report.scores) == len(report.labels)
            h, w = cat.shape[:2]  # boxes are mapped back from the letterboxed input to image pixels
            assert (report.boxes[:, 2] <= w * 1.5).all() and (report.boxes[:, 3] <= h * 1.5).all()


# --------------------------------------------------------------------------------------------- #
# the lesson


def test_run_defaults_label_weights_and_measure_everything(cat):
    result = compare.run(cat, latency_runs=1)
    assert isinstance(result, LessonResult)
    summary = result.to_json()
    json.dumps(summary)
    names = [m["name"] for m in summary["models"]]
    assert compare.DEFAULT_MODELS == ("resnet50", "convnext-tiny", "vit-small")
    # offline, ResNet-50 and ConvNeXt-T both stand in as the packaged ImageNet Lite0: shown once
    assert names == ["resnet50", "vit-small"]
    cnn = summary["models"][0]
    assert cnn["weights"] == "package" and cnn["title"].startswith("EfficientNet-Lite0")
    assert "cat" in cnn["top"][0][0] and cnn["heatmap"].startswith("Grad-CAM")
    for m in summary["models"]:
        assert m["untrained"] == (m["weights"] == "random")
        assert m["params"] > 0 and m["gmacs"] > 0 and m["latency_ms"] > 0
        assert len(m["top"]) == 5 and sum(p for _, p in m["top"]) <= 1.0 + 1e-6
        assert m["faithfulness"] is not None
    vit = summary["models"][1]
    assert vit["heatmap"].startswith("attention rollout")
    assert result.images["classifiers"].dtype == np.uint8


def test_run_rejects_bad_parameters_with_clear_messages(cat):
    with pytest.raises(ValueError, match="Unknown classifier"):
        compare.run(cat, models="resnet-shapes,not-a-model")
    with pytest.raises(ValueError, match="Heatmap"):
        compare.run(cat, heatmap="magic")
    with pytest.raises(ValueError, match="at most"):
        compare.run(cat, models=",".join(["resnet-shapes"] * 9 + ["vit-shapes"]))


def test_params_match_run_defaults():
    import inspect

    signature = inspect.signature(compare.run)
    for p in compare.PARAMS:
        assert signature.parameters[p.name].default == p.default, p.name


def test_compare_endpoint_answers_an_image_alone(client, cat_path):
    from gradio_client import handle_file

    classifiers, _detections, _cost, status, summary, download = client.predict(
        handle_file(str(cat_path)), api_name="/compare")
    from core.images import load_image

    sheet = load_image(classifiers)
    assert sheet.shape[0] > 300 and sheet.shape[1] > 600
    data = summary if isinstance(summary, dict) else json.loads(summary)
    assert [m["name"] for m in data["models"]] == ["resnet50", "vit-small"]  # offline stand-ins, once each
    assert "EfficientNet-Lite0" in status and "PyPI" in status
    assert str(download).endswith(".png")


def test_detector_tiles_colour_boxes_by_agreement():
    image = np.full((200, 300, 3), 255, np.uint8)
    a = _det("a", [[20, 20, 120, 120], [160, 40, 280, 160], [140, 170, 190, 195]], ["circle", "star", "ring"])
    b = _det("b", [[20, 20, 120, 120], [160, 40, 280, 160]], ["circle", "star"])
    c = _det("c", [[20, 20, 120, 120]], ["circle"])
    dis = compare.disagreement([a, b, c])
    tile = compare.detector_tiles(image, [a, b, c], dis["support"], dis["others"], width=300)[0]
    body = tile[tile.shape[0] - 200:]  # below the title bar, same scale as the image
    orange, blue, green = compare.AGREE_COLOURS  # none, some, all
    assert tuple(body[70, 20]) == green  # the circle every detector found (RGB, not BGR)
    assert tuple(body[100, 160]) == blue  # the star that b found too, c did not
    assert tuple(body[182, 140]) == orange  # the ring only a found
