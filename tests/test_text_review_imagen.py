"""The diffusion lesson's Imagen tab keeps its texts correct: one guard per correction of the text review
(/tmp/review/imagen.md, to be merged into docs/text-review.md). Where the texts quote what the page shows
(the default guidance sweep) or a number of LensLab's own models, the number is recomputed here from
LensLab's code or parsed from the model card, not copied.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TEXT = ROOT / "core" / "text"
CARD = ROOT / "assets" / "weights" / "sr-shapes.md"
APP = ROOT / "apps" / "diffusion.py"


def text(lang: str) -> str:
    return (TEXT / f"diffusion.{lang}.md").read_text(encoding="utf-8")


def flat(markdown: str) -> str:
    """The text with its hard line breaks turned into spaces (the English is wrapped)."""
    return re.sub(r"\s*\n\s*", " ", markdown)


def imagen_part(lang: str) -> str:
    """The Imagen tab's section and the common mistakes and errata written with it."""
    body = flat(text(lang))
    start = body.index("#### Imagen")
    return body[start:]


@pytest.fixture(scope="module")
def default_sweep():
    """The page's default guidance sweep (class circle, seed 0, w = 1 … 10, 25 DDIM steps, p = 99.5)."""
    from core import imagen_lesson

    return imagen_lesson.sweep().summary


# --------------------------------------------------------------------------------------------- #
# the three rows


def test_static_row_is_described_as_the_page_measures_it_not_as_still_saturated(default_sweep):
    """At HEAD: "the saturation stays" — but on ddpm-shapes static clipping leaves ≤ 2 % of the final
    values at 0 or 255 at every w; the over-saturation is Imagen's finding (§2.3, Fig. A.10)."""
    static = default_sweep["saturated"]["static"]
    en, zh = imagen_part("en"), imagen_part("zh")
    assert "the saturation stays" not in en and "饱和依旧" not in zh
    hit = re.search(r"static clipping leaves at most (\d+(?:\.\d+)?) % of the final values", en)
    share = float(hit.group(1))
    assert re.search(rf"不超过 {share:g} %", zh)
    assert max(static) <= share / 100 and max(static) > 0.5 * share / 100  # the bound is tight, not loose
    assert "over-saturated and less detailed as $w$ grows (§2.3" in en and "过饱和、细节变少（§2.3" in zh


def test_dynamic_row_pays_in_contrast_and_the_text_quotes_the_default_run(default_sweep):
    """At HEAD the text promised only "detail survives"; the page's dynamic row has no saturated value but
    its last x̂0 shrinks: the quoted 99.5th percentiles are the default run's."""
    p_abs = default_sweep["final_p_abs"]["dynamic"]
    assert max(default_sweep["saturated"]["dynamic"]) == 0.0
    en, zh = imagen_part("en"), imagen_part("zh")
    hit = re.search(r"falls from (\d\.\d\d) at \$w = 1\$ to (\d\.\d\d) at \$w = 10\$", en)
    assert hit, "the English no longer quotes the dynamic row's contrast"
    lo1, lo10 = float(hit.group(1)), float(hit.group(2))
    assert f"从 $w = 1$ 时的 {hit.group(1)} 降到 $w = 10$ 时的 {hit.group(2)}" in zh
    assert default_sweep["guidance_scales"][0] == 1.0 and default_sweep["guidance_scales"][-1] == 10.0
    assert p_abs[0] == pytest.approx(lo1, abs=0.006) and p_abs[-1] == pytest.approx(lo10, abs=0.006)
    assert "Imagen reports" in en and "Imagen 报告说" in zh


def test_s_equal_one_is_static_clipping_not_no_change():
    """At HEAD: "When the prediction stays inside the range (s = 1) nothing changes". s = 1 whenever at
    most 1 − p of the values leave [−1, 1]; those are then clipped, as static thresholding does."""
    from core.imagen import dynamic_threshold, static_threshold

    x = torch.zeros(1, 3, 32, 32)
    x.view(-1)[:3] = 3.0  # 0.1 % of the values far outside: the 99.5th percentile stays 0
    assert torch.equal(dynamic_threshold(x, 0.995, float("inf")), static_threshold(x))
    assert not torch.equal(static_threshold(x), x)
    en, zh = imagen_part("en"), imagen_part("zh")
    assert "stays inside the range ($s = 1$) nothing changes" not in en
    assert "预测仍在范围内时（$s = 1$）什么都不变" not in zh
    assert "$s = 1$ and the rule is plain static clipping" in en and "这条规则就是普通的静态截断" in zh


def test_diffusers_thresholding_cap_defaults_to_one_which_is_static_clipping():
    """diffusers' ``thresholding=True`` with its default ``sample_max_value`` (1.0) clamps s to 1: static
    clipping. At HEAD the text named the cap but not that its default switches the rule off."""
    from diffusers import DDPMScheduler

    defaults = inspect.signature(DDPMScheduler.__init__).parameters
    cap, ratio = defaults["sample_max_value"].default, defaults["dynamic_thresholding_ratio"].default
    x = torch.linspace(-4, 4, 2 * 3 * 8 * 8).reshape(2, 3, 8, 8)
    assert torch.equal(DDPMScheduler(thresholding=True)._threshold_sample(x), x.clamp(-1, 1))  # noqa: SLF001
    en, zh = imagen_part("en"), imagen_part("zh")
    assert f"`dynamic_thresholding_ratio` $= p$ (default {ratio:g})" in en
    assert f"`dynamic_thresholding_ratio` $= p$（默认 {ratio:g}）" in zh
    assert f"that cap defaults to {cap:.1f}, which makes the rule plain static clipping" in en
    assert f"这个上限默认是 {cap:.1f}，规则就退化成普通的静态截断" in zh


def test_the_percentile_99_5_is_attributed_to_imagens_fig_a10():
    """The paper's §2.3 says only "a certain percentile"; p = 99.5 is its Fig. A.10. At HEAD the texts and
    help strings said just "Imagen: 99.5"."""
    from core.imagen import IMAGEN_PARAMS

    en, zh = imagen_part("en"), imagen_part("zh")
    assert "Imagen's Fig. A.10 uses $p = 99.5\\,\\%$" in en and "Imagen 的图 A.10 用 $p = 99.5\\,\\%$" in zh
    helps = {p.name: p.help for p in IMAGEN_PARAMS}
    assert "Fig. A.10: 99.5" in helps["percentile"]
    assert "Imagen 图 A.10 用 99.5" in APP.read_text(encoding="utf-8")


def test_percentile_help_says_s_is_never_below_one():
    """The common mistakes warn that dynamic thresholding does not always divide by the percentile; at
    HEAD the slider's help (EN and 中文) said s = the percentile."""
    from core.imagen import IMAGEN_PARAMS

    helps = {p.name: p.help for p in IMAGEN_PARAMS}
    assert helps["percentile"].startswith("s = max(1, q), q = the p-th percentile")
    source = APP.read_text(encoding="utf-8")
    assert '"s = max(1, q)，q 是每个样本 |x̂₀| 的第 p 百分位"' in source
    assert "s = 每个样本 |x̂₀| 的第 p 百分位" not in source


def test_max_guidance_help_says_the_value_itself_is_swept():
    """``guidance_scales`` always ends with ``max_guidance``, also when it is not one of SCALES."""
    from core.imagen import IMAGEN_PARAMS
    from core.imagen_lesson import SCALES, guidance_scales

    assert 12.5 not in SCALES and guidance_scales(12.5) == (1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 12.5)
    helps = {p.name: p.help for p in IMAGEN_PARAMS}
    assert helps["max_guidance"].endswith("below this value, then this value itself")
    assert "再加上这个值本身" in APP.read_text(encoding="utf-8")


def test_clip_sample_is_a_sampling_setting_and_the_caveats_numbers_are_measured(default_sweep):
    """At HEAD: "ddpm-shapes was trained and is sampled with clip_sample=True". Clipping is a step of the
    sampler (the model's scheduler has it on); the training loss never clips. The caveat's 42 % (raw
    samples at w = 1) and "under 1 %" (real scenes) are measured here."""
    from core import zoo
    from core.data.shapesworld import ShapesWorld, to_tensor
    from core.imagen import saturation
    from core.train.diffusion import diffusion_loss, smooth_scenes, take

    assert zoo.load_model("ddpm-shapes", "embedded").extras["scheduler"].config.clip_sample is True
    assert "clip" not in inspect.getsource(diffusion_loss)
    en, zh = imagen_part("en"), imagen_part("zh")
    assert "was trained and is sampled with" not in en and "的训练和采样都用了" not in zh
    assert "its training never clips" in en and "训练从不截断" in zh
    raw = round(100 * default_sweep["saturated"]["none"][0])
    assert f"({raw} % in the default run; real ShapesWorld scenes have under 1 %)" in en
    assert f"（默认运行中为 {raw} %；真实的 ShapesWorld 场景不到 1 %）" in zh
    world = ShapesWorld(size=32, mode="classify", seed=1000, max_distractors=0, hollow_prob=0.0,
                        backgrounds=("flat", "linear", "radial"))
    images, _ = take(smooth_scenes(world), 32)
    assert saturation(to_tensor(images).numpy()).mean() < 0.01


# --------------------------------------------------------------------------------------------- #
# the cascade


def test_the_cascade_is_imagens_section_2_4():
    """Imagen §2.4 is "Robust cascaded diffusion models" (§2.5 is the network architecture)."""
    from core import cascade

    assert "Imagen §2.4" in cascade.__doc__ and "§2.5" not in cascade.__doc__
    assert "64² → 256² → 1024², §2.4" in imagen_part("en") and "64² → 256² → 1024²，§2.4" in imagen_part("zh")


def test_the_augmentation_range_is_the_codes():
    """0 … AUG_MAX timesteps of the SR model's schedule; ᾱ at AUG_MAX is what the texts print."""
    from core.cascade import AUG_MAX, sr_scheduler

    alpha = float(sr_scheduler().alphas_cumprod[AUG_MAX])
    en, zh = imagen_part("en"), imagen_part("zh")
    abar = "$\\bar\\alpha_a$"
    assert f"from 0 … {AUG_MAX} (timesteps of the 1000-step linear schedule, {abar} from 1 down to " \
           f"{alpha:.2f})" in en
    assert f"0 … {AUG_MAX} 中均匀抽取（1000 步线性调度的时间步，{abar} 从 1 降到 {alpha:.2f}）" in zh


def test_the_photo_sentence_quotes_the_card_and_says_the_photo_is_at_the_sliders_level():
    """At HEAD: "expect it to be about level with bicubic", with no number, and no word on the level the
    photo is enlarged at (the slider's: ``levels = [0, aug, aug]``). The numbers are the card's; so are
    the held-out ones the paragraph quotes."""
    from core import imagen_lesson

    assert "levels = [0, aug, aug]" in inspect.getsource(imagen_lesson.cascade_stream)
    card = CARD.read_text(encoding="utf-8")
    cat_sr, cat_bic, cof_sr, cof_bic = re.search(
        r"the cat (\d+\.\d\d) dB\s+against (\d+\.\d\d) dB, the coffee (\d+\.\d\d) against (\d+\.\d\d)",
        card).groups()
    en, zh = imagen_part("en"), imagen_part("zh")
    assert f"the cat {cat_sr} dB against bicubic's {cat_bic}, the coffee {cof_sr} against {cof_bic}" in en
    assert f"猫 {cat_sr} dB 对双三次的 {cat_bic}，咖啡 {cof_sr} 对 {cof_bic}" in zh
    assert "at the slider's $a$, on a crop of your photo" in en and "在滑块所选的 $a$ 下放大你照片" in zh
    rows = dict(re.findall(r"^\|\s*([a-z_= 0-9]+?)\s*\|\s*(\d+\.\d+)\s*\|$", card, flags=re.M))
    m = {k: float(v) for k, v in rows.items()}
    quoted = (f"PSNR {m['psnr sr aug=0']:.1f} dB against {m['psnr bicubic']:.1f} dB and SSIM "
              f"{m['ssim sr aug=0']:.3f} against {m['ssim bicubic']:.3f} at $a = 0$")
    assert quoted in en
    assert f"lead in PSNR ({m['psnr sr aug=100']:.1f} dB) but falls just under bicubic in SSIM" in en
    assert m["psnr sr aug=100"] > m["psnr bicubic"] and m["ssim sr aug=100"] < m["ssim bicubic"]
