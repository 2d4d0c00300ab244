"""The RoI lesson's texts stay correct: each test guards one correction of the text review of
``core/text/roi.{en,zh}.md``, the lesson's help strings and the page's paper table, so that it cannot
come back. Where the text quotes a number that LensLab's code (or torchvision) computes, the test
computes it rather than hard-coding it.
"""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT / "core" / "text"
IMAGES = ROOT / "assets" / "images"


def text(lang: str) -> str:
    return (TEXT / f"roi.{lang}.md").read_text(encoding="utf-8")


def flat(markdown: str) -> str:
    """The text with every run of whitespace (line breaks included) turned into one space."""
    return re.sub(r"\s+", " ", markdown)


def _input_box(photo: str, box: str, input_size: int = 512) -> np.ndarray:
    """An example box in network-input pixels, as ``roi_lesson.run`` scales it."""
    from core import roi_lesson as lesson
    from core.images import load_image

    rgb = load_image(IMAGES / photo)
    h, w = rgb.shape[:2]
    scale = input_size / max(h, w)
    win, hin = max(1, round(w * scale)), max(1, round(h * scale))
    b = lesson.parse_box(box, w, h)
    return b * np.array([win / w, hin / h, win / w, hin / h])


# --------------------------------------------------------------------------------------------- #
# RoIPool


def test_roipool_snap_moves_top_left_by_half_a_cell_and_gains_half_to_one_and_a_half_at_the_end():
    """Was: "the snapped box gains or loses up to half a cell on each side". The inclusive end (+1
    cell) makes the bottom/right edge always gain ½ … 1½ cells; only the top/left edge moves ±½."""
    from core import roi

    rng = np.random.default_rng(0)
    s = 16
    for _ in range(300):
        x0 = rng.uniform(0, 400)
        b = np.array([x0, x0, x0 + rng.uniform(20, 300), x0 + rng.uniform(20, 300)])
        y0c, y1c, x0c, x1c = roi.roi_pool_bins(b, 1, 1 / s, (1 << 20, 1 << 20))[0, 0]
        start, end = x0c * s - b[0], x1c * s - b[2]  # cells span [c·s, (c+1)·s)
        assert -s / 2 - 1e-3 <= start <= s / 2 + 1e-3
        assert s / 2 - 1e-3 <= end <= 1.5 * s + 1e-3
    en, zh = flat(text("en")), text("zh")
    assert "gains or loses up to half a cell on each side" not in en
    assert "half a cell to a cell and a half" in en
    assert "半个到一个半格子" in zh


def test_roipool_worst_edges_are_the_ones_the_code_measures():
    """Was: "RoIPool's worst edge at stride 16 is 8–24 px off" — true of the box snap only; the bins
    add more (the cat's-eye example: 32 px). Both are measured with ``core.roi.misalignment``."""
    from core import roi
    from core import roi_lesson as lesson

    rng = np.random.default_rng(1)
    snaps = []
    for _ in range(400):
        x0, y0 = rng.uniform(0, 300, 2)
        w, h = rng.uniform(48, 400, 2)
        m = roi.misalignment([x0, y0, x0 + w, y0 + h], 7, 16, 2, (64, 64))
        snaps.append(m["roi_pool_box_snap"]["px"])
    assert min(snaps) >= 8 - 0.5 and max(snaps) <= 24 + 1e-6
    photo, box, label = lesson.EXAMPLES[0]
    assert "eye" in label
    m = roi.misalignment(_input_box(photo, box), 7, 16, 2, (64, 64))
    bins = round(m["roi_pool"]["px"])
    assert bins > 24  # the bins do add to the snap
    en, zh = flat(text("en")), text("zh")
    assert "worst edge at stride 16 is 8–24 px off" not in en
    assert "8–24 px off (half-pixel model)" in en and f"{bins} px on the cat's-eye example" in en
    assert "8–24 像素（半像素模型）" in zh and f"在猫眼示例上是 {bins} 像素" in zh


# --------------------------------------------------------------------------------------------- #
# RoIAlign


def test_roialign_sample_formula_carries_the_half_cell_shift():
    """Was: samples at x0·σ + (j + (m + ½)/s_w)·b, without the −½ of aligned=True. The code's points
    are at x0·σ − o + …, o = ½ with aligned=True."""
    from core import roi

    box, k, s = np.array([37.0, 21.0, 141.0, 99.0]), 3, 1 / 16
    for aligned in (False, True):
        o = 0.5 if aligned else 0.0
        pts = roi.roi_align_points(box, k, s, 2, aligned, np.float64)
        b = (box[2] - box[0]) * s / k
        want = box[0] * s - o + (np.arange(k)[:, None] + (np.arange(2)[None, :] + 0.5) / 2) * b
        assert np.allclose(pts[0, :, 0, :, 1], want)
    for lang in ("en", "zh"):
        assert r"x_0\sigma - o + (j + (m + \tfrac12)/s_w)\,b" in text(lang), lang


def test_torchvision_detection_models_pool_with_aligned_false():
    """Added: the ratio 2 of torchvision's Faster/Mask R-CNN comes with aligned=False (MultiScaleRoIAlign
    never passes `aligned`, and roi_align defaults to False); detectron2's default is aligned=True."""
    import torchvision.ops as ops
    from torchvision.ops import poolers

    assert inspect.signature(ops.roi_align).parameters["aligned"].default is False
    assert "aligned" not in inspect.getsource(poolers._multiscale_roi_align)
    en, zh = flat(text("en")), text("zh")
    assert "which calls `roi_align` with `aligned=False`" in en
    assert "以 `aligned=False` 调用 `roi_align`" in zh


def test_roialign_clamps_samples_within_a_cell_of_either_border():
    """Was: only "one in [−1, 0] is clamped"; torchvision clamps [H−1, H] to the last cell as well."""
    import torchvision.ops as ops

    f = torch.arange(20.0).reshape(1, 1, 5, 4)  # H = 5, W = 4

    def read(y: float, x: float = 1.0, d: float = 1e-3) -> float:
        """One bilinear sample at feature coordinate (y, x): a tiny aligned=True box centred there."""
        box = torch.tensor([[0.0, x + 0.5 - d, y + 0.5 - d, x + 0.5 + d, y + 0.5 + d]])
        return ops.roi_align(f, box, 1, 1.0, 1, True).item()

    assert read(5 - 0.4) == pytest.approx(f[0, 0, 4, 1].item(), abs=1e-3)  # in [H − 1, H]: the last row
    assert read(-0.7) == pytest.approx(f[0, 0, 0, 1].item(), abs=1e-3)  # in [−1, 0]: the first row
    assert read(5.3) == 0.0 and read(-1.2) == 0.0  # more than a cell outside
    for lang in ("en", "zh"):
        assert "$[H-1, H]$" in text(lang), lang


def test_pixel_model_and_the_measured_cell_centres():
    """Was: "15.5 px at stride 16 on a 512-px side" (an offset from what?) and the pixel model as an
    average of pixels; the text now places cell c at 16c + δ, δ measured on EfficientNet-Lite0."""
    en, zh = flat(text("en")), text("zh")
    assert r"index $i$ is sampled at continuous coordinate $i + \tfrac12$" in en
    assert r"连续坐标 $i + \tfrac12$" in zh
    assert "stands for the average of pixels" not in en
    from core import roi, zoo

    loaded = zoo.load_model("efficientnet-lite0", "auto")
    assert loaded.source == "package"  # the packaged ImageNet weights (a dependency), offline
    lite = loaded.model
    centre = roi.cell_centre(lite, 16, (341, 512))
    for value in (centre["x"], centre["y"]):
        assert f"$16c + {value:g}$" in en and f"$16c + {value:g}$" in zh


# --------------------------------------------------------------------------------------------- #
# R-FCN


def test_ps_layout_is_the_caffe_layers_and_the_papers_i_runs_along_x():
    """Was: "(torchvision's and R-FCN's layout, i = row)": R-FCN's Caffe layer is row-major
    ((ctop·k + gh)·k + gw), but the paper's Eq. 1 lets i run along x."""
    import torchvision.ops as ops

    k, c_out = 3, 2
    f = torch.arange(c_out * k * k, dtype=torch.float64)[None, :, None, None].expand(1, -1, 8, 8).contiguous()
    out = ops.ps_roi_pool(f, torch.tensor([[0.0, 0.0, 0.0, 6.0, 6.0]], dtype=torch.float64), k, 1.0)[0]
    assert out[1, 2, 0].item() == (1 * k + 2) * k + 0  # class 1, row 2, column 0
    en, zh = flat(text("en")), text("zh")
    assert "R-FCN's Caffe layer, $i$ = row; the paper's Eq. 1 lets $i$ run along $x$" in en
    assert "R-FCN 的 Caffe 层的排列，$i$ 为行；论文的式 1 让 $i$ 沿 $x$ 方向" in zh


def test_rfcn_vote_sum_in_eq2_average_in_the_models():
    """Added: the paper's Eq. 2 prints r_c = Σ r_c(i, j) though it says "averaging"; the text's 1/k²
    is what its models do (average pooling over the k×k scores)."""
    en, zh = flat(text("en")), text("zh")
    assert "Eq. 2 prints a plain sum but calls it averaging" in en
    assert "式 2 印的是直接求和" in zh
    for t in (en, zh):
        assert r"r_c = \frac{1}{k^2}\sum_{i,j} r_c(i, j)" in t


def test_rfcn_table2_setting_is_stated():
    """Was: "R-FCN (ResNet-101, VOC 2007)": Table 2 trains on VOC 07+12, tests on VOC 2007 test,
    without hard example mining."""
    en, zh = flat(text("en")), text("zh")
    for number in ("76.6 %", "75.5 %"):
        assert number in en and number in zh
    assert "trained on VOC 07+12, VOC 2007 test, no hard example mining; Table 2" in en
    assert "在 VOC 07+12 上训练，VOC 2007 测试集，不做难例挖掘；表 2" in zh


def test_ps_roi_pool_never_reads_the_last_row_unlike_rfcns_layer():
    """Added: torchvision clamps PS-RoIPool bins to H − 1 (the last row is never read); R-FCN's own
    layer clamps to H and reads it."""
    import torchvision.ops as ops

    f = torch.zeros(1, 1, 6, 6)
    f[0, 0, 5, :] = 1.0
    assert ops.ps_roi_pool(f, torch.tensor([[0.0, 0.0, 0.0, 6.0, 6.0]]), 1, 1.0).item() == 0.0
    en, zh = flat(text("en")), text("zh")
    assert "R-FCN's own layer clamps to $H$, $W$ and reads them" in en
    assert "R-FCN 自己的层裁剪到 $H$、$W$，会读到它们" in zh


# --------------------------------------------------------------------------------------------- #
# FPN


def test_fpn_eps_example_is_a_box_that_really_needs_it():
    """Was: "such as √(wh) = 112": log2(112/224) = −1 is exact, the 1e−6 changes nothing there. A
    float32 112×112 box at (195.8, 445.1) does need it: P3 in torchvision, P2 without eps and in
    detectron2 (which adds 1e−8 to the ratio inside the log)."""
    from torchvision.ops.poolers import LevelMapper

    from core import roi

    assert roi.fpn_level(np.array([[0, 0, 112, 112]]), eps=0.0)[0] == 3  # exact without eps
    b = torch.tensor([[195.8, 445.1, 195.8 + 112, 445.1 + 112]], dtype=torch.float32)
    s = torch.sqrt((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))
    assert f"{s.item():.5f}" == "111.99998"
    assert int(LevelMapper(2, 5)([b]).item()) + 2 == 3
    assert roi.fpn_level(b, eps=0.0)[0] == 2
    detectron2 = torch.clamp(torch.floor(4 + torch.log2(s / 224 + 1e-8)), 2, 5)
    assert int(detectron2.item()) == 2
    en, zh = flat(text("en")), text("zh")
    assert r"such as $\sqrt{wh} = 112$" not in en
    for t in (en, zh):
        assert "$(195.8, 445.1)$" in t and "111.99998" in t and "$P_3$" in t and "$P_2$" in t


def test_fpn_levels_at_mask_rcnn_scale_on_the_bundled_photos():
    """Was: "lands one or two levels higher" at Mask R-CNN's 800-px scale — on the square astronaut
    the scale is 1.56× (log2 0.64), so zero or one. The text quotes the range of scales, computed
    here as the lesson computes it."""
    from core.images import load_image

    scales = {}
    for path in sorted(IMAGES.glob("*.jpg")):
        h, w = load_image(path).shape[:2]
        r = 512 / max(h, w)
        hin, win = round(h * r), round(w * r)
        scales[path.name] = min(800.0 / min(hin, win), 1333.0 / max(hin, win))
    lo, hi = min(scales.values()), max(scales.values())
    assert math.floor(math.log2(scales["astronaut.jpg"])) == 0 and math.floor(math.log2(hi)) == 1
    en, zh = flat(text("en")), text("zh")
    assert "lands one or two levels higher than on this page" not in en
    assert f"{lo:.1f}–{hi:.1f}× the bundled photos" in en
    assert f"{lo:.1f}–{hi:.1f} 倍" in zh
    assert "zero or one on the square astronaut" in en and "高零到一层" in zh


# --------------------------------------------------------------------------------------------- #
# errata of the notes, as the text presents them


def test_xywh_is_not_called_an_error_of_the_notes():
    """Was: the ops "take boxes as (x1, y1, x2, y2), not [x, y, w, h]" listed as an error of the notes;
    Fast R-CNN itself writes an RoI as (r, c, h, w). The text now says the description is fair and the
    operators take corners."""
    en, zh = flat(text("en")), text("zh")
    assert r"not $[x, y, w, h]$" not in en and r"而不是 $[x, y, w, h]$" not in zh
    assert "$(r, c, h, w)$" in en and "$(r, c, h, w)$" in zh


def test_a_trous_on_all_conv5_filters_is_not_an_error_of_the_notes():
    """Was: "à trous changes only conv5 …, not all convolutions" listed as an error; the notes'
    "所有的conv改成空洞卷积" sits under "block5" and R-FCN's paper dilates all conv5 filters."""
    en, zh = flat(text("en")), text("zh")
    assert "not all convolutions" not in en
    assert "并非“所有的 conv”" not in zh and '并非"所有的 conv"' not in zh
    assert "is right: the paper dilates every filter of conv5" in en
    assert "是对的：论文把 conv5 的每个滤波器都改成空洞的" in zh


# --------------------------------------------------------------------------------------------- #
# help strings, the page's paper table, the first paragraph, 中文 typography


def test_stride_help_does_not_put_rfcn_on_c4():
    """Was: "16: ResNet's C4 (Faster R-CNN, R-FCN)": R-FCN pools stride-16 score maps made from a
    dilated conv5 (à trous), not C4."""
    from apps import roi as page
    from core import roi_lesson as lesson

    helps = {p.name: p.help for p in lesson.PARAMS}
    assert "R-FCN" in helps["stride"] and "dilated C5" in helps["stride"]
    assert "C4 (Faster R-CNN, R-FCN)" not in helps["stride"]
    assert helps["ps_size"] == "R-FCN's figures use 3×3, its main results 7×7."
    source = inspect.getsource(page)
    assert "C4（Faster R-CNN、R-FCN）" not in source and "空洞化的 C5" in source


def test_paper_table_says_roipool_is_max_and_roialign_average():
    """Was: "(Table 2c, average pooling)" on a row whose RoIPool number (26.9) is max pooling."""
    from apps import roi as page
    from core import roi_lesson as lesson

    c4 = lesson.PAPER["c4_stride16"]
    for table in (page.PAPER_TABLE, page.PAPER_TABLE_ZH):
        row = next(line for line in table.splitlines() if line.startswith("| ResNet-50-C4"))
        assert f"{c4['RoIPool'][0]} ({c4['RoIPool'][1]} / {c4['RoIPool'][2]})" in row
        assert f"{c4['RoIAlign (ave)'][0]} ({c4['RoIAlign (ave)'][1]} / {c4['RoIAlign (ave)'][2]})" in row
        assert "RoIPool max" in row or "RoIPool 取最大值" in row
    assert "Table 2c, average pooling" not in page.PAPER_TABLE


def test_first_paragraph_claims_only_the_pooled_values_are_torchvisions():
    """Was: "Every number on this page is the value torchvision computes" — the misalignment and the
    cell centres are LensLab's own measurements."""
    en, zh = flat(text("en")), text("zh")
    assert "Every number on this page is the value torchvision computes" not in en
    assert "Every pooled value on this page" in en and "本页池化出的每个值" in zh


def test_chinese_text_follows_the_reviewed_typography():
    """roi.zh.md broke lines between Chinese characters (rendered as spaces) and put straight quotes
    around Chinese; the checks of test_texts' REVIEWED texts, run on it."""
    import test_texts

    test_texts.test_chinese_lines_never_break_between_two_chinese_characters("roi")
    test_texts.test_chinese_prose_uses_full_width_punctuation("roi")
