"""The re-parameterisation texts (core/text/repvgg.*.md) stay correct: one guard per correction of the
text review of the RepVGG lesson. Where a sentence describes what LensLab's or timm's code does, the test
computes it from that code (no numbers hard-coded that the code can give).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT / "core" / "text"


def text(lang: str) -> str:
    return (TEXT / f"repvgg.{lang}.md").read_text(encoding="utf-8")


def flat(markdown: str) -> str:
    """The text with every run of whitespace (line breaks, list indents) turned into one space."""
    return re.sub(r"\s+", " ", markdown)


def test_not_every_repvgg_block_has_an_identity_branch():
    """RepVGG's identity branch exists only where the block keeps its shape (stride 1, c_in = c_out):
    the text once said every block has three branches."""
    from core import repvgg as rv
    from core import zoo

    blocks = [rv.block_branches(b) for _, b in rv.rep_blocks(zoo.load_model("repvgg-a0", "random").model)]
    with_identity = sum(b.has_identity for b in blocks)
    assert all(b.has_identity == (b.stride == 1 and b.in_channels == b.out_channels) for b in blocks)
    assert len(blocks) - with_identity == 5  # the stem and the first block of each of the 4 stages
    en, zh = flat(text("en")), text("zh")
    assert "whose every block has three parallel branches" not in en
    assert f"{with_identity} of its {len(blocks)} blocks have the identity" in en
    assert "每个块都有三条并行分支" not in zh
    assert f"{len(blocks)} 个块中有 {with_identity} 个带恒等分支" in zh


def test_mobileone_blocks_have_the_branches_timm_builds():
    """MobileOne's 1×1 'scale' branch exists only in its k×k (depthwise) blocks; the pointwise blocks have
    k 1×1 branches and no scale branch, and the stem has k = 1. The text once gave every block all three."""
    from timm.models.byobnet import MobileOneBlock

    from core import repvgg as rv
    from core import zoo

    assert MobileOneBlock(8, 8, kernel_size=1, num_conv_branches=4).conv_scale is None
    assert MobileOneBlock(8, 8, kernel_size=3, num_conv_branches=4).conv_scale is not None
    blocks = [rv.block_branches(b) for _, b in rv.rep_blocks(zoo.load_model("mobileone-s0", "random").model)]
    stem, rest = blocks[0], blocks[1:]
    assert [n for n, _, _ in stem.convs] == ["3×3", "1×1"]  # k = 1: one 3×3 branch and the scale branch
    pointwise = [b for b in rest if b.kernel == 1]
    depthwise = [b for b in rest if b.kernel == 3]
    assert pointwise and all(len(b.convs) == 4 and all(w.shape[-1] == 1 for _, w, _ in b.convs)
                             for b in pointwise)  # k = 4 1×1 branches, no separate scale branch
    assert depthwise and all(b.groups == b.in_channels and len(b.convs) == 5 for b in depthwise)
    assert any(not b.has_identity for b in pointwise)  # where the channels change
    en, zh = flat(text("en")), text("zh")
    assert "each block has $k$ parallel 3×3 (or 1×1) conv+BN branches" not in en
    assert "no scale branch" in en and "`conv_scale`" in en and "$k = 1$" in en
    assert "每个块有 $k$ 条并行的 3×3（或 1×1）卷积" not in zh
    assert "没有 scale 分支" in zh and "`conv_scale`" in zh and "$k = 1$" in zh


def test_timm_reparameterize_gives_the_same_kernels_and_the_biases_to_rounding():
    """On the embedded repvgg-shapes, our merge and timm's reparameterize() agree bit for bit in the
    kernels and to float32 rounding in the biases (the text once mentioned only the kernels)."""
    import copy

    from core import repvgg as rv
    from core import zoo

    net = zoo.load_model("repvgg-shapes", "embedded").model
    kernel_gaps, bias_gaps = [], []
    for _, block in rv.rep_blocks(net):
        weight, bias = rv.merge_block(block)
        ref = copy.deepcopy(block)
        ref.reparameterize()
        with torch.no_grad():
            kernel_gaps.append(float((ref.reparam_conv.weight - weight).abs().max()))
            bias_gaps.append(float((ref.reparam_conv.bias - bias).abs().max()))
    assert max(kernel_gaps) == 0.0
    assert 0.0 < max(bias_gaps) <= 1e-6  # not bit-identical, one or two float32 ulps
    assert "the kernels agree exactly, the biases to float32 rounding" in flat(text("en"))
    assert "卷积核完全一致，偏置只差 float32 的舍入" in text("zh")


def test_the_identity_gradient_term_on_a_shortcut_is_masked_by_the_relu():
    """y = x + ReLU(s), s = convs(x) + BN_id(x): ∂y/∂x = I + D (J_convs + diag(γ/σ)) with D = diag(ReLU′(s)),
    so the identity branch adds D·diag(γ/σ), not diag(γ/σ) (where s < 0 the term vanishes)."""
    from core.repvgg import RepConv, ResidualRep

    torch.manual_seed(0)
    rep = RepConv(2, 2).eval()
    with torch.no_grad():
        for bn in (rep.bn3, rep.bn1, rep.bn_id):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.5)
            bn.running_mean.normal_(0, 0.3)
            bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    rep = rep.double()
    block = ResidualRep(rep).eval()
    n = x.numel()
    jac = torch.autograd.functional.jacobian(lambda v: block(v.view_as(x)).flatten(), x.flatten())
    def conv_branches(v: torch.Tensor) -> torch.Tensor:
        v = v.view_as(x)
        return (rep.bn3(rep.conv3(v)) + rep.bn1(rep.conv1(v))).flatten()

    convs = torch.autograd.functional.jacobian(conv_branches, x.flatten())
    with torch.no_grad():
        pre = sum(rep.branch_outputs(x).values()).flatten()
        scale = (rep.bn_id.weight / torch.sqrt(rep.bn_id.running_var + rep.bn_id.eps))
    mask = (pre > 0).double()
    per_element = scale.repeat_interleave(x.shape[-1] * x.shape[-2])
    identity_term = jac - torch.eye(n, dtype=torch.float64) - mask[:, None] * convs
    assert torch.allclose(identity_term, torch.diag(mask * per_element), atol=1e-12)
    assert 0 < int(mask.sum()) < n  # the mask really removes some of diag(γ/σ)
    assert "masked by the derivative of the block's ReLU" in flat(text("en"))
    assert "ReLU 的导数作为掩码" in text("zh")


def test_repconv_names_and_the_released_yolov7_code():
    """'RepConv' is YOLOv6's name for the deployed conv and YOLOv7's for the three-branch training block;
    YOLOv7's repository has no RepConvN class and uses RepConv only in three channel-doubling head convs."""
    en, zh = flat(text("en")), text("zh")
    assert "YOLOv7's code gives that name to the training-time three-branch block" in en
    assert "YOLOv7 的代码却把这个名字给了训练时的三分支块" in zh
    assert "no class of that name" in en and "cfg/training/yolov7.yaml" in en and "IDetect" in en
    assert "没有叫这个名字的类" in zh and "cfg/training/yolov7.yaml" in zh


def test_the_quantisation_remark_cites_repvgg_readme():
    en, zh = flat(text("en")), text("zh")
    assert "README" in en and "INT8" in en and "FP16" in en
    assert "README" in zh and "INT8" in zh and "FP16" in zh


def test_repvgg_errata_say_what_the_notes_took_from_the_papers():
    """The 'exponential growth' is the YOLOv6 report's own wording; the plain layer's weights grow as r²
    with the width (computed here) and linearly with the depth."""
    from torch import nn

    def weights(width: int, depth: int) -> int:
        return sum(nn.Conv2d(width, width, 3, bias=False).weight.numel() for _ in range(depth))

    assert weights(64, 4) == 4 * weights(32, 4) and weights(32, 8) == 2 * weights(32, 4)
    en, zh = flat(text("en")), text("zh")
    assert "YOLOv6 report's own wording" in en and "YOLOv6 报告自己的措辞" in zh
    assert "$r^2$" in en and "$r^2$" in zh
    assert "is not the report's claim either" not in en and "也不是报告的说法" not in zh
    assert "which provides more diversity of gradients" in en.split("Errata")[1]
    assert "which provides more diversity of gradients" in zh.split("勘误")[1]


@pytest.mark.parametrize("lang", ["zh"])
def test_display_math_has_no_full_width_punctuation(lang):
    """A full-width comma inside $$…$$ is typeset as a text glyph in math mode (KaTeX warns)."""
    for block in re.findall(r"\$\$.*?\$\$", text(lang), flags=re.S):
        assert not re.search(r"[，。；：、]", block), block
