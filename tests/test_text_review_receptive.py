"""The receptive-field lesson's texts stay correct: one guard per correction of the text review
(/tmp/review/receptive.md, to be merged into docs/text-review.md). Where the texts quote a number of
LensLab's own networks, the number is recomputed here from LensLab's code (the tracer, the roadmap
builds, the lesson's ERF on the first bundled photo), not copied.
"""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT / "core" / "text"
CJK = "\u3400-\u4dbf\u4e00-\u9fff"
PHOTO = ROOT / "assets" / "images" / "astronaut.jpg"  # the first of the bundled photos


def text(lang: str) -> str:
    return (TEXT / f"receptive.{lang}.md").read_text(encoding="utf-8")


def flat(markdown: str) -> str:
    """The text with its hard line breaks turned into spaces (the English is wrapped)."""
    return re.sub(r"\s*\n\s*", " ", markdown)


def _meta(arch: str, **kwargs):
    import timm

    with torch.device("meta"):
        return timm.create_model(arch, pretrained=False, **kwargs).eval()


def _last_field(model, size: int = 224):
    from core import rftrace

    x = torch.empty(1, 3, size, size, device="meta")
    outs, mode = rftrace.trace(model, x, lambda m, t: m.forward_intermediates(t, intermediates_only=True))
    return [mode.field(o) for o in outs]


# --------------------------------------------------------------------------------------------- #
# §1 theoretical fields


def test_vgg16_fields_fit_inside_a_224_input_and_the_text_no_longer_says_all_exceed_it():
    vgg = _last_field(_meta("vgg16"))
    conv5_3, pool5 = vgg[4].size[0], vgg[5].size[0]
    assert (conv5_3, pool5) == (196, 212) and pool5 < 224
    en, zh = flat(text("en")), text("zh")
    assert "all far beyond a 224 px input" not in en and "都远大于 224 像素的输入" not in zh
    assert "VGG's still inside a 224 px input" in en and "VGG 的仍在 224 像素的输入之内" in zh


def test_resnet50_v1_reaches_483_v1_5_427_and_the_text_names_both():
    from core.receptive import theoretical_rf

    def chain(stride_in_1x1: bool) -> list[tuple[int, int, int]]:
        layers = [(7, 2, 1), (3, 2, 1)]
        for depth, stride in ((3, 1), (4, 2), (6, 2), (3, 2)):
            for b in range(depth):
                s = stride if b == 0 else 1
                layers += [(1, s, 1), (3, 1, 1)] if stride_in_1x1 else [(1, 1, 1), (3, s, 1)]
                layers.append((1, 1, 1))
        return layers

    assert theoretical_rf(chain(True))[-1][0] == 483  # v1 (and TF-Slim's resnet_v1_50 table entry)
    assert theoretical_rf(chain(False))[-1][0] == 427 == _last_field(_meta("resnet50"))[-1].size[0]
    for lang in ("en", "zh"):
        t = text(lang)
        assert "483" in t and "resnet_v1_50" in t and "427" in t, lang


# --------------------------------------------------------------------------------------------- #
# §2 effective fields


def test_all_ones_stack_variance_is_exact_and_the_english_says_exactly():
    from core.receptive import effective_rf, plain_stack, spread

    n, k = 5, 3
    size = 2 * n * (k // 2) + 9
    erf = effective_rf(plain_stack(n, k, 2, "ones").double(), torch.zeros(1, 2, size, size).double(),
                       (size // 2, size // 2))
    assert spread(erf) == pytest.approx(math.sqrt(n * (k**2 - 1) / 12), rel=1e-9)
    assert "variance exactly" in flat(text("en")) and "方差恰为" in text("zh")


@pytest.fixture(scope="module")
def erf_pairs():
    """Stage-3 ERF 50 % squares at the centre of the first bundled photo, trained vs random twin, for
    the models the page shows by default offline (what the text now quotes)."""
    from core import receptive_lesson as lesson
    from core import zoo
    from core.images import load_image

    torch.set_num_threads(1)
    rgb = load_image(str(PHOTO))
    out = {}
    for name in ("resnet50", "swin-tiny", "vit-small"):
        trained = zoo.load_model(name, "auto")
        # offline (conftest) every default has real weights: the packaged Lite0 or an embedded model
        assert trained.source != "random", f"{name} resolved to random weights: {trained.note}"
        random = zoo.load_model(trained.name, "random")
        out[name] = (trained.name, *(lesson.analyse(m, rgb, 3, 0.5, 0.5) for m in (trained, random)))
    return out


def test_training_does_not_always_widen_the_erf_and_the_texts_say_where(erf_pairs):
    from core import receptive_lesson as lesson

    arch, trained, random = erf_pairs["resnet50"]
    assert arch == "efficientnet-lite0"  # offline, ResNet-50 resolves to the packaged Lite0 (a dependency)
    t50, r50 = trained.side(trained.r50), random.side(random.r50)
    assert t50 < r50  # the packaged ImageNet EfficientNet-Lite0: narrower after training
    for name in ("swin-tiny", "vit-small"):  # the embedded ShapesWorld models: wider
        _, tr, rn = erf_pairs[name]
        assert tr.side(tr.r50) > rn.side(rn.r50), name
    en, zh = flat(text("en")), text("zh")
    assert f"stage 3 on the astronaut photo, {t50} px against {r50} px" in en
    assert f"astronaut 照片上为 {t50} 像素对 {r50} 像素" in zh
    assert "embedded Swin and ViT come out wider" in en and "内置的 Swin 和 ViT 训练后比随机版本更宽" in zh
    help_text = {p.name: p.help for p in lesson.PARAMS}["random_init"]
    assert "to see how training widens the ERF" not in help_text and "EfficientNet-Lite0" in help_text
    page = (ROOT / "apps" / "receptive.py").read_text(encoding="utf-8")
    joined = re.sub(r'"\s*\n\s*"', "", page)  # adjacent string literals, as Python joins them
    assert "看训练怎样扩大有效感受野" not in joined and "随包的 EfficientNet-Lite0 不会" in joined


def test_untrained_residual_nets_start_as_their_shortcuts_not_only_the_stem():
    resnet = _meta("resnet50")
    assert resnet.layer2[0].downsample[0].kernel_size == (1, 1)  # a 1×1 projection shortcut
    convnext = _meta("convnext_tiny")
    ds = convnext.stages[1].downsample[1]
    assert (ds.kernel_size, ds.stride) == ((2, 2), (2, 2))  # down-sampling convs outside the blocks
    # timm's defaults behind the sentence: zero last BN, layer scale 1e-6
    assert inspect.signature(type(resnet)).parameters["zero_init_last"].default is True
    assert inspect.signature(type(convnext)).parameters["ls_init_value"].default == 1e-6
    en, zh = flat(text("en")), text("zh")
    assert "essentially its stem's" not in en and "基本就是 stem 的。" not in zh
    assert "essentially that of its stem and down-sampling layers" in en and "stem 和下采样层的" in zh


# --------------------------------------------------------------------------------------------- #
# §3 blocks, §4 roadmap, §5 HRNet


def test_the_charted_inception_block_keeps_a_5x5_branch_and_the_text_says_so():
    from core import blocks

    inception = next(b for b in blocks.BLOCKS if b.key == "inception").build(64)
    kernels = sorted({m.kernel_size for m in inception.modules() if isinstance(m, torch.nn.Conv2d)})
    assert (5, 5) in kernels and (3, 3) in kernels
    en, zh = flat(text("en")), text("zh")
    assert "(in v3: two 3×3)" not in en and "（v3 中为两个 3×3）" not in zh
    assert "keeps a 5×5 branch beside the double 3×3" in en and "保留了一个 5×5 分支" in zh


def test_the_roadmap_has_17_steps_but_16_networks():
    from core import blocks
    from core import receptive_lesson as lesson

    configs = {repr(sorted(s.config.items())) for s in blocks.ROADMAP}
    assert (len(blocks.ROADMAP), len(configs)) == (17, 16)
    assert "16 networks of the 17 steps" in {p.name: p.help for p in lesson.PARAMS}["roadmap"]
    page = (ROOT / "apps" / "receptive.py").read_text(encoding="utf-8")
    assert "17 networks" not in page and "16 networks" in page and "16 个网络" in page
    en, zh = flat(text("en")), text("zh")
    assert "17 steps are 16 networks" in en and "17 步共 16 个网络" in zh
    assert "compositions of timm layers" not in en and "用 timm 的层拼成" not in zh
    assert "RoadmapNet" in en and "RoadmapNet" in zh


def test_parameter_counts_are_ours_and_convnext_t_82_1_is_not_a_longer_training():
    from core import blocks

    counts = {k: blocks.count_parameters(_skeleton(k)) for k in ("resnet50", "convnext_t")}
    assert counts == {"resnet50": 25_557_032, "convnext_t": 28_589_128}
    assert round(counts["resnet50"] / 1e6, 1) == 25.6 and round(counts["convnext_t"] / 1e6, 1) == 28.6
    en, zh = flat(text("en")), text("zh")
    assert "match the paper's two" not in en and "与论文给出的两个数一致" not in zh
    assert "25,557,032 and 28,589,128, are the 25.6 M and 28.6 M of the table" in en
    assert "Trained further" not in en and "训练得更久时" not in zh
    assert "after the same 300 epochs" in en and "EMA" in en
    assert "只训练了 300 个 epoch" in zh and "EMA" in zh


def _skeleton(key: str):
    from core import blocks

    with torch.device("meta"):
        return blocks.build_step(key)


def test_hrnet_exchanges_after_every_module_not_once_per_stage():
    from timm.models.hrnet import cfg_cls

    def modules(variant: str) -> tuple[int, ...]:
        return tuple(cfg_cls[variant][f"stage{s}"]["num_modules"] for s in (2, 3, 4))

    assert modules("hrnet_w18_small") == (1, 1, 1)
    assert modules("hrnet_w18") == modules("hrnet_w32") == (1, 4, 3)
    model = _meta("hrnet_w18")
    assert all(hasattr(m, "fuse_layers") for m in model.stage3)  # each module ends with a fusion
    en, zh = flat(text("en")), text("zh")
    assert "ends each stage with an **exchange unit**" not in en
    assert "每个 stage 结束时有一个**交换单元**" not in zh
    assert "1, 4 and 3 modules in stages 2, 3 and 4" in en and "分别有 1、4、3 个模块" in zh


# --------------------------------------------------------------------------------------------- #
# errata of the notes


def test_the_fewer_activations_erratum_is_gone_the_notes_have_it_right():
    seed = ROOT.parent / "shared" / "seeds" / "000_bbaad10165cc3b5d.txt"
    if seed.exists():  # the notes themselves (outside the repository): one activation between the 1×1s
        notes = seed.read_text(encoding="utf-8").replace("\u00a0", " ")  # the notes use no-break spaces
        assert "仅在1 × 1卷积之间使用激活函数" in notes
    assert "removes all GELUs of the block **but one**" not in text("en")
    assert "除一个之外" not in text("zh")


def test_hrnet_new_stream_erratum_follows_the_code_and_cites_the_authors():
    from timm.models.hrnet import HighResolutionNet

    assert "t(yl[-1])" in inspect.getsource(HighResolutionNet.stages)  # from the last, fused stream
    en, zh = flat(text("en")), text("zh")
    assert "the new stream *is* made from all streams" not in en and "新分支*确实*由所有分支生成" not in zh
    for t in (en, zh):
        assert "HRNet-Object-Detection issue #3" in t and "almost the same" in t


def test_inception_input_erratum_names_the_table_of_the_v3_paper():
    en, zh = flat(text("en")), text("zh")
    assert "- Inception-v3's input is 299×299" not in en
    assert "which the paper calls Inception-v2" in en and "论文称之为 Inception-v2" in zh
    assert "299×299" in en and "299×299" in zh


def test_chinese_errata_quote_chinese_with_curly_quotes():
    zh = re.sub(r"`[^`\n]*`", "§", re.sub(r"\$[^$\n]*\$", "§", text("zh")))
    assert not re.findall(rf'"[^"\n]*[{CJK}][^"\n]*"', zh)
    assert "“在 144×144 的输入上 … 7.89 % → 4.2 %”" in zh
