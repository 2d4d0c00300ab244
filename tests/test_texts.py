"""The lesson texts (core/text/*.md) stay correct: each test guards one correction of the text review
(docs/text-review.md) so that it cannot come back, and the numbers the texts quote from LensLab's
embedded models are parsed from the model cards, so a retrained model cannot leave a stale number.
"""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT / "core" / "text"
CARDS = ROOT / "assets" / "weights"
#: the texts the review owns (every lesson text; the Imagen section of the diffusion texts has its own guards)
REVIEWED = ("attention", "swin", "repmlp", "pointrend", "simota", "diffusion", "compare", "losses", "mlp",
            "receptive", "roi", "repvgg")
CJK = "\u3400-\u4dbf\u4e00-\u9fff"


def text(lesson: str, lang: str) -> str:
    return (TEXT / f"{lesson}.{lang}.md").read_text(encoding="utf-8")


def prose(markdown: str) -> str:
    """The text without display math, inline math and code spans (each replaced by one symbol)."""
    markdown = re.sub(r"\$\$.*?\$\$", "§", markdown, flags=re.S)
    markdown = re.sub(r"\$[^$\n]*\$", "§", markdown)
    return re.sub(r"`[^`\n]*`", "§", markdown)


def card_metrics(name: str) -> dict[str, float]:
    """The rows ``| key | number |`` of a model card (its metric tables)."""
    out = {}
    for key, value in re.findall(r"^\|\s*([^|]+?)\s*\|\s*(-?\d+(?:\.\d+)?)\s*\|\s*$",
                                 (CARDS / f"{name}.md").read_text(encoding="utf-8"), flags=re.M):
        out[key] = float(value)
    return out


def table_row(markdown: str, label: str) -> list[float]:
    """The numbers of the Markdown table row that starts with ``label``."""
    match = re.search(rf"^\|\s*{re.escape(label)}\s*\|(.+)\|\s*$", markdown, flags=re.M)
    assert match, f"no table row {label!r}"
    return [float(v) for v in re.findall(r"-?\d+\.\d+", match.group(1))]


def test_the_helpers_read_what_they_should():
    assert card_metrics("pointrend-shapes")["heldout_refined_miou"] == pytest.approx(0.3624)
    assert table_row("| a | b |\n|---|---|\n| mIoU | 0.1 | 0.25 |\n", "mIoU") == [0.1, 0.25]
    assert prose("x $a, b$ y `c, d` z") == "x § y § z"


# --------------------------------------------------------------------------------------------- #
# 中文: typography and terminology


@pytest.mark.parametrize("path", sorted(TEXT.glob("*.zh.md")), ids=lambda p: p.name)
def test_no_half_width_space_between_two_cjk_characters(path):
    bad = re.findall(rf"[{CJK}][ \t]+[{CJK}]", prose(path.read_text(encoding="utf-8")))
    assert not bad, f"{path.name}: stray spaces inside Chinese words: {bad[:5]}"


@pytest.mark.parametrize("lesson", REVIEWED)
def test_chinese_prose_uses_full_width_punctuation(lesson):
    body = prose(text(lesson, "zh"))
    bad = re.findall(rf"[{CJK}][,;:?!()]|[,;:?!()][{CJK}]", body)
    assert not bad, f"{lesson}.zh.md: half-width punctuation next to Chinese: {bad[:5]}"
    quotes = re.findall(rf'"[^"\n]*[{CJK}][^"\n]*"', body)
    assert not quotes, f"{lesson}.zh.md: straight quotes around Chinese (use “…”): {quotes[:3]}"


WIDE = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2014\u2026\u201c\u201d"


@pytest.mark.parametrize("lesson", REVIEWED)
def test_chinese_lines_never_break_between_two_chinese_characters(lesson):
    """A browser renders a line break inside a paragraph as a space, also between two CJK characters
    (Chromium does; measured: 中文⏎字符 is as wide as 中文 字符). So a wrapped Chinese line must end or
    continue with something that wants a space anyway (Latin, a number, a formula)."""
    lines = text(lesson, "zh").split("\n")
    bad = []
    for before, after in zip(lines, lines[1:], strict=False):
        a, b = before.rstrip().rstrip("*_"), after.lstrip()
        if not a or not b or a.startswith("|") or re.match(r"([-*+]|\d+\.)\s|[#|>]|\$\$", b):
            continue
        if re.match(rf"[{WIDE}]", a[-1]) and re.match(rf"[{WIDE}]", b.lstrip("*_")[:1] or " "):
            bad.append(a[-8:] + "⏎" + b[:8])
    assert not bad, f"{lesson}.zh.md: line breaks that render as spaces inside Chinese: {bad[:4]}"


@pytest.mark.parametrize("lesson", [p.name.split(".")[0] for p in sorted(TEXT.glob("*.zh.md"))])
def test_stem_is_not_rendered_as_backbone_and_depthwise_not_as_separable(lesson):
    en, zh = text(lesson, "en"), text(lesson, "zh")
    if "主干" in zh:  # 主干 is "backbone"
        assert "backbone" in en.lower(), f"{lesson}.zh.md says 主干 where the English has no backbone"
    if re.search(r"\bstem\b", en):
        assert "stem" in zh, f"{lesson}.zh.md drops 'stem' (render it 茎/stem 层, not 主干)"
    if "深度可分离" in zh:  # depthwise-*separable*; a depthwise conv alone is 逐通道/深度卷积
        assert re.search(r"depthwise[- ]separable", en, flags=re.I), \
            f"{lesson}.zh.md says 深度可分离 where the English means depthwise"


# --------------------------------------------------------------------------------------------- #
# PointRend


def test_pointrend_coverage_points_are_fresh_uniform_never_unused_candidates():
    en, zh = text("pointrend", "en"), text("pointrend", "zh")
    assert not re.search(r"unused candidates|unselected candidates|remaining candidates", en)
    assert "未被选中的候选" not in zh and "未被\n选中的候选" not in zh
    assert "torch.rand" in en and "torch.rand" in zh


def test_pointrend_coverage_points_are_fresh_in_the_code_too():
    """What the text says is what the lesson does: coverage points are not drawn from the pool."""
    import torch

    from core import pointrend as pr

    logits = torch.zeros(1, 2, 8, 8)
    logits[:, 0, :, :4], logits[:, 1, :, 4:] = 3.0, 3.0
    sample = pr.sample_training_points_t(logits, 64, 3, 0.75, torch.Generator().manual_seed(0))
    pool = sample.pool[0]
    for point in sample.coverage[0]:
        assert torch.min((pool - point).abs().sum(-1)) > 0  # never a copy of a candidate


def test_pointrend_embedded_model_numbers_are_the_cards():
    m = card_metrics("pointrend-shapes")
    steps = int(m["training steps"])
    kinds = ("coarse", "bilinear", "refined")
    for lang, biou, step_word in (("en", "boundary IoU", "steps"), ("zh", "边界 IoU", "步")):
        t = text("pointrend", lang)
        assert table_row(t, "mIoU") == [round(m[f"heldout_{k}_miou"], 3) for k in kinds]
        assert table_row(t, biou) == [round(m[f"heldout_{k}_boundary_iou"], 3) for k in kinds]
        assert f"{steps} {step_word}" in t
        for key in ("bilinear_miou", "refined_miou", "bilinear_boundary_iou", "refined_boundary_iou"):
            assert f"{m['unseen_train_style_' + key]:.3f}" in t, (lang, key)
    for stale in ("1000 steps", "0.167", "0.207", "0.102", "0.169", "16 minutes"):
        assert stale not in text("pointrend", "en")


def test_pointrend_uncertainty_paper_probabilities_code_logits():
    en, zh = text("pointrend", "en"), text("pointrend", "zh")
    assert "probabilities" in en and "logits" in en and "calculate_uncertainty" in en
    assert "概率" in zh and "calculate_uncertainty" in zh
    # the old erratum claimed the notes were wrong to speak of probabilities — the paper does
    assert "computed on **logits**, not probabilities" not in en


def test_pointrend_8096_is_the_papers_slip_and_the_help_does_not_mix_settings():
    from core import pointrend as pr

    help_text = {p.name: p.help for p in pr.PARAMS}["num_points"]
    assert "768" not in help_text and "8192" in help_text and "1024×2048" in help_text
    for lang in ("en", "zh"):
        t = text("pointrend", lang)
        assert "64 \\times 128 = 8192" in t and "8196" in t
    assert (1024 // 16) * (2048 // 16) == 8192


def test_pointrend_stride_16_is_per_side():
    en = text("pointrend", "en")
    assert "16× smaller" not in en and "16 times smaller in each direction" in en
    assert "小 16 倍" not in text("pointrend", "zh")
    page = (ROOT / "apps" / "pointrend.py").read_text(encoding="utf-8")
    assert "1/16-size" not in page
    from core import pointrend as pr

    assert "each side" in {p.name: p.help for p in pr.PARAMS}["size"]


# --------------------------------------------------------------------------------------------- #
# SimOTA / TAL


def test_tal_constants_are_attributed_and_match_the_code():
    from core import assign

    defaults = {k: v.default for k, v in inspect.signature(assign.tal).parameters.items()
                if v.default is not inspect.Parameter.empty}
    assert (defaults["alpha"], defaults["beta"], defaults["topk"]) == (1.0, 6.0, 13)
    for lang in ("en", "zh"):
        t = text("simota", lang)
        assert "YOLOv8" in t and "\\alpha = 0.5" in t and "10" in t
        assert "TOOD" in t and "YOLOv6" in t and "\\alpha = 1" in t and "13" in t
        assert "mmdetection" in t  # the order of 'inside the GT' and top-k differs between implementations


def test_simota_losses_are_normalised_per_batch():
    assert "per image, divided by the number of positives" not in text("simota", "en")
    assert "batch" in text("simota", "en") and "batch" in text("simota", "zh")


# --------------------------------------------------------------------------------------------- #
# Attention / Swin


def test_rollout_extras_are_attributed_to_vit_explain():
    from core import attention

    helps = {p.name: p.help for p in attention.PARAMS}
    assert "vit-explain" in helps["fusion"] and "vit-explain" in helps["discard_ratio"]
    for lang in ("en", "zh"):
        t = text("attention", lang)
        assert "vit-explain" in t and "Abnar" in t
    en = text("attention", "en")
    assert "Per layer, fuse the heads (mean, max or min)" not in en


def test_the_embedded_vit_is_not_called_vit_tiny():
    from core.models import classifiers

    assert "Tiny" not in classifiers.VIT_SHAPES.title
    for lang in ("en", "zh"):
        assert "*ViT-Tiny/16*" not in text("attention", lang)
    kw = classifiers.VIT_SHAPES.kwargs
    assert (kw["depth"], kw["embed_dim"], kw["num_heads"]) == (4, 128, 4)
    assert "4 blocks of width 128" in text("attention", "en")


def test_shifted_edge_windows_reach_two_opposite_edges_only_the_corner_four():
    """The geometry behind the sentence: unroll the windows of a shifted 8×8 map (M = 4, s = 2)."""
    import numpy as np

    h = w = 8
    m, s = 4, 2
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    rolled_r, rolled_c = np.roll(rows, (-s, -s), (0, 1)), np.roll(cols, (-s, -s), (0, 1))

    def edges(wy, wx):
        r = rolled_r[wy * m:(wy + 1) * m, wx * m:(wx + 1) * m]
        c = rolled_c[wy * m:(wy + 1) * m, wx * m:(wx + 1) * m]
        return {("top" if r.min() == 0 else None), ("bottom" if r.max() == h - 1 else None),
                ("left" if c.min() == 0 else None), ("right" if c.max() == w - 1 else None)} - {None}

    assert edges(0, 1) == {"left", "right"}  # an edge window of the last column: two opposite edges
    assert edges(1, 0) == {"top", "bottom"}
    assert edges(1, 1) == {"top", "bottom", "left", "right"}  # only the corner window: four corners
    for lang in ("en", "zh"):
        t = text("attention", lang)
        assert "two or four corners" not in t and "两个或四个角" not in t
    assert "two opposite edges" in text("attention", "en")


@pytest.mark.parametrize("lesson", ("attention", "swin"))
def test_the_embedded_transformers_are_not_called_untrained(lesson):
    assert "until those are trained" not in text(lesson, "en")
    assert "random until trained" not in text(lesson, "en")
    assert "未训练时为随机权重" not in text(lesson, "zh")


# --------------------------------------------------------------------------------------------- #
# RepMLP, Compare


def test_repmlp_locality_numbers_are_the_cards():
    card = (CARDS / "repmlp-locality.md").read_text(encoding="utf-8")
    number = r"\| ([\d.]+) "
    label = r"^\| share of Σ\\\|w\\\| inside the 7×7 window[^|]*"
    row = re.search(label + 3 * number + r"\|", card, flags=re.M)
    assert row, "the card's locality table"
    plain, merged, even = (100 * float(v) for v in row.groups())
    for lang, sep in (("en", " "), ("zh", "")):
        t = text("repmlp", lang)
        for value in (plain, merged, even):
            assert f"{value:.1f}{sep}%" in t, (lang, value)
    assert "which is exactly what evenly spread weights give" not in text("repmlp", "en")


def test_convnext_roadmap_has_every_step_of_the_paper():
    steps = ("76.1", "78.8", "79.4", "79.5", "78.3", "80.5", "80.6", "79.9", "81.3", "81.4", "81.5", "82.0")
    for lang in ("en", "zh"):
        t = text("compare", lang)
        assert all(s in t for s in steps), lang
        assert "28,589,128" in t and "4.47 G" in t


# --------------------------------------------------------------------------------------------- #
# Detection losses (focal loss, GFL, OKS)


def test_mmdetection_clamps_dfl_targets_to_reg_max_minus_a_tenth():
    """mmdetection's bbox2distance / DistancePointBBoxCoder.encode default ``eps=0.1``; the texts once
    said 0.01 (LensLab's own trainer's value)."""
    from core import losses

    assert "n − 0.1``" in losses.distribution_focal_loss.__doc__
    assert "n − 0.01``" not in losses.distribution_focal_loss.__doc__
    for lang in ("en", "zh"):
        t = text("losses", lang)
        assert "mmdetection" in t and "$n - 0.1$" in t and "bbox2distance" in t
        assert not re.search(r"mmdetection[^$]*\$n - 0\.01\$", t.split("$n - 0.1$")[0])


def test_tolerance_circles_are_stated_in_units_of_the_scale_not_a_few_pixels():
    from core.losses import COCO_KEYPOINTS, COCO_SIGMAS
    from core.losses_lesson import DEFAULT_AREA_FRACTION, tolerance_radius

    nose, hip = COCO_SIGMAS[COCO_KEYPOINTS.index("nose")], COCO_SIGMAS[COCO_KEYPOINTS.index("left_hip")]
    assert round(float(tolerance_radius(nose, 1.0)), 2) == 0.06
    assert round(float(tolerance_radius(hip, 1.0)), 2) == 0.25
    area = DEFAULT_AREA_FRACTION * 512 * 512  # the default photo, astronaut.jpg, is 512 × 512
    scale = math.sqrt(area)
    r_nose, r_hip = float(tolerance_radius(nose, area)), float(tolerance_radius(hip, area))
    assert (round(scale), round(r_nose), round(r_hip)) == (316, 19, 80)
    for lang, px in (("en", " px"), ("zh", " 像素")):
        t = text("losses", lang)
        assert "0.06\\,s" in t and "0.25\\,s" in t and "s \\approx 316" in t
        assert f"19{px}" in t and f"80{px}" in t
    assert "within a few pixels" not in text("losses", "en")
    assert "几个像素之内" not in text("losses", "zh")


def test_qfl_is_zero_at_its_minimum_and_the_text_does_not_call_it_positive():
    import torch

    from core.losses import quality_focal_loss

    y = torch.tensor([0.0, 0.3, 0.75, 1.0])
    sigma = y.clamp(1e-6, 1 - 1e-6)
    assert torch.allclose(quality_focal_loss(torch.logit(sigma), y), torch.zeros(4), atol=1e-6)
    assert "It is positive and smallest" not in text("losses", "en")
    assert "它是正数" not in text("losses", "zh")
    assert "0 exactly at $\\sigma = y$" in text("losses", "en")


def test_edge_distributions_numbers_are_what_the_embedded_detector_gives():
    """The text once said a clear edge comes out sharp (almost all mass on two bins); the embedded
    gfl-shapes does not: its numbers on the four example scenes, at blur 0 and σ = 4, are recomputed."""
    import numpy as np
    import torch

    from core import losses_lesson

    torch.set_num_threads(1)
    scenes = sorted((ROOT / "assets" / "images" / "shapesworld").glob("*.png"))
    assert len(scenes) == 4
    measured = {}
    for blur in (0.0, 4.0):
        two, bits, peaked = [], [], 0
        for scene in scenes:
            edges = losses_lesson.run(str(scene), weights="embedded", blur=blur).summary["dfl"]["edges"]
            for e in edges:
                pk = np.asarray(e["probabilities"])
                two.append(float(max(pk[i] + pk[i + 1] for i in range(len(pk) - 1))))
                bits.append(e["entropy_bits"])
                peaked += e["shape"] == "two-peaked"
        assert len(two) == 16
        measured[blur] = (f"{np.mean(two):.0%}".replace("%", " %"), f"{np.mean(bits):.1f}", peaked)
    (sharp_mass, sharp_bits, sharp_peaks), (blur_mass, blur_bits, blur_peaks) = measured[0.0], measured[4.0]
    en, zh = text("losses", "en"), text("losses", "zh")
    assert f"on average {sharp_mass} of their" in en
    assert f"({sharp_bits} bits of entropy), and {sharp_peaks}" in en
    assert f"σ = 4 px, {blur_mass} ({blur_bits} bits) and {blur_peaks} two-peaked" in en.replace("\n", " ")
    zh_sharp, zh_blur = sharp_mass.replace(" ", ""), blur_mass.replace(" ", "")  # 中文: 63%, no space
    assert f"平均把 {zh_sharp} 的质量" in zh and f"熵 {sharp_bits} 比特），其中 {sharp_peaks} 条" in zh
    assert f"σ = 4 像素时为 {zh_blur}（{blur_bits} 比特），{blur_peaks} 条双峰" in zh
    assert "almost all mass on two neighbouring bins), while" not in en


def test_the_easy_negatives_factor_includes_alpha_in_text_and_classroom_answer():
    import random

    from core import quiz

    summary = {"focal": {"alpha": 0.25, "gamma": 2.0, "easy_threshold": 0.1,
                         "total": {"BCE": {"easy negatives": 0.6}, "FL": {"easy negatives": 0.02}}}}
    q = quiz._losses_easy_share(summary, {}, random.Random(0))
    assert "(1 − α)(1 − p_t)^γ" in q.why and f"{0.75 * 0.01 ** 2:.1e}" in q.why
    assert "\\alpha_t = 0.75" in text("losses", "en") and "\\alpha_t = 0.75" in text("losses", "zh")
    assert "keeps $(0.01)^2 = 10^{-4}$ of its BCE at $\\gamma = 2$; a" not in text("losses", "en")


def test_pycocotools_no_visible_keypoint_box_is_three_times_the_gt_box():
    """What core.losses.oks says about the case it refuses, read against pycocotools itself: with no
    visible GT keypoint, a predicted keypoint anywhere inside the GT box grown by its width and height on
    every side costs nothing (so a prediction just inside x0 − w scores 1, just outside less)."""
    import numpy as np
    from pycocotools.cocoeval import COCOeval

    from core import losses

    doc = losses.oks.__doc__
    assert "twice the object's size" not in doc and "three times as wide and tall" in doc

    def computed(x: float) -> float:
        ev = COCOeval(iouType="keypoints")
        bbox = [100.0, 100.0, 50.0, 80.0]
        ev._gts = {(1, 1): [{"keypoints": [0, 0, 0] * 17, "bbox": bbox, "area": 4000.0}]}
        ev._dts = {(1, 1): [{"keypoints": [x, 150.0, 1] * 17, "score": 1.0}]}
        return float(np.asarray(ev.computeOks(1, 1))[0, 0])

    assert computed(100.0 - 50.0 + 0.5) == pytest.approx(1.0)  # inside the grown box
    assert computed(100.0 + 2 * 50.0 - 0.5) == pytest.approx(1.0)
    assert computed(100.0 - 50.0 - 20.0) < 0.99  # outside it


def test_losses_errata_attribute_what_the_notes_took_from_papers_and_code():
    import numpy as np

    from core.losses import COCO_SIGMAS, keypoint_similarity

    # the quoted code's exponent d / (s·4σ²) with s = w·h, against COCO's (core.losses = pycocotools)
    gt = np.zeros((17, 3))
    gt[:, 2] = 2
    pred = np.full((17, 2), 7.0)
    area, w, h = 6000.0, 80.0, 120.0
    coco = -np.log(keypoint_similarity(gt, pred, area))
    code = (pred**2).sum(1) / (w * h * 4 * COCO_SIGMAS**2)
    assert np.allclose(code / coco, 2 * area / (w * h))
    en, zh = text("losses", "en"), text("losses", "zh")
    for t in (en, zh):
        assert "edgeai-yolov5" in t  # the YOLO-pose loss the notes quote is the authors' code
        assert "2\\,\\text{area}/(w\\,h)" in t  # its exponent vs COCO's: the factor 2 and the box area
        assert "a surrogate L1 loss" in t  # the L1 sentence is the YOLO-pose paper's own
        assert "48.2" in t and "10 FPS" in t  # 10 FPS is GFL's best model, not the R-101 45.0 AP one
        assert "43.5" in t  # SAPD, named with ATSS in the paper's abstract
        assert "\\{0, 1\\}" in t  # focal loss supports only the two labels
    assert "(at 10 FPS, ahead of" not in en and "（10 FPS，高于" not in zh
    assert "stricter loss" not in en and "更严" not in zh  # the box area can undo the factor 2
    # dropped: the YOLOv6 report's focal-loss sentence is the RetinaNet paper's framing, and the
    # paper's "infinitely close" is true of a softmax, which never reaches the minimiser
    assert "Focal loss addresses the imbalance between positive and negative samples" not in en
    assert "approaches the true value infinitely" not in en
    assert "infinitely" in en and "无限接近" in zh


# --------------------------------------------------------------------------------------------- #
# MLP family


def test_as_mlp_shift_size_help_gives_the_real_range():
    from core import mlp
    from core.mlp_ops import axial_offsets

    help_text = {p.name: p.help for p in mlp.PARAMS}["shift_size"]
    assert "−s…+s" not in help_text and "⌊s/2⌋" in help_text and "+2 … −2" in help_text
    page = (ROOT / "apps" / "mlp.py").read_text(encoding="utf-8")
    assert "−s…+s" not in page and "+2 … −2" in page
    steps = axial_offsets(10, 5, 3)[:, 1].tolist()  # along the width: 5 groups of 2 channels
    assert steps == [2, 2, 1, 1, 0, 0, -1, -1, -2, -2]
    for lang in ("en", "zh"):
        assert "+2 … −2" in text("mlp", lang)


def test_the_page_header_does_not_call_the_mixers_token_mlp_an_n_by_n_layer():
    page = (ROOT / "apps" / "mlp.py").read_text(encoding="utf-8")
    assert "MLP-Mixer, ResMLP and gMLP mix patches with learned N×N layers" not in page
    assert "MLP-Mixer、ResMLP 和 gMLP 用学到的 N×N 层" not in page
    assert page.count("N → D_S → N") == 2


def test_resmlp_cross_patch_layer_has_a_bias_in_the_formula():
    from timm.models.mlp_mixer import ResBlock

    block = ResBlock(dim=8, seq_len=4)
    assert block.linear_tokens.bias is not None and block.linear_tokens.weight.shape == (4, 4)
    for lang in ("en", "zh"):
        assert "A\\,\\mathrm{Aff}(x) + b\\big)" in text("mlp", lang)


def test_the_resolution_sentence_names_the_sizes_figure_five_prints():
    from core.mlp import COST_PATCH, COST_SIZES

    assert (448 // COST_PATCH) ** 2 == 784 and COST_SIZES[-1] == 1024
    en, zh = text("mlp", "en"), text("mlp", "zh")
    assert "784 tokens" in en and "1024-px" in en and "patch" in en
    assert "784 个 token" in zh and "1024 像素" in zh
    assert "a 448-px image and the token layer fails" not in en.replace("\n", " ")


def test_mlp_errata_say_the_notes_call_as_mlps_list_grouped():
    assert "成组" in text("mlp", "en") and "成组" in text("mlp", "zh")


def test_the_pure_fc_weight_count_is_rounded_not_truncated():
    n = 3 * 112**2 * 32 * 56**2
    assert n == 3_776_446_464
    for lang in ("en", "zh"):
        assert f"\\approx {n / 1e9:.2f}\\cdot10^9" in text("mlp", lang)


def test_the_mlp_text_does_not_say_imagenet_is_enough_for_an_fc_to_learn_locality():
    """The notes' RepMLP chapter counts ImageNet as the limited data with which an FC hardly learns
    locality; ResMLP's token layer did learn it there. The text once said locality 'takes ImageNet-sized
    training', as if that sufficed."""
    assert "ImageNet-sized training" not in text("mlp", "en")
    assert "ImageNet 规模的训练" not in text("mlp", "zh")
    assert "they count ImageNet as\nlimited" in text("mlp", "en")
    assert "把 ImageNet 也算作有限" in text("mlp", "zh")

