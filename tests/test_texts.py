"""The lesson texts (core/text/*.md) stay correct: each test guards one correction of the text review
(docs/text-review.md) so that it cannot come back, and the numbers the texts quote from LensLab's
embedded models are parsed from the model cards, so a retrained model cannot leave a stale number.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT / "core" / "text"
CARDS = ROOT / "assets" / "weights"
#: the texts the review owns (receptive, roi and later lessons have their own authors)
REVIEWED = ("attention", "swin", "repmlp", "pointrend", "simota", "diffusion", "compare", "losses")
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
