"""The diffusion lesson's Imagen tab: the cascade (core.cascade, sr-shapes), the lesson runs, the endpoints.

The SR model trains and samples with the base model's functions (one loss, one sampler), its shipped card
states what re-measuring it gives, and it beats bicubic upsampling on held-out scenes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel

from core import cascade, diffusion, imagen, imagen_lesson, zoo
from core.models.diffusers_models import SR_SHAPES_CONFIG
from core.viz import imagen as viz

CARD = zoo.WEIGHTS_DIR / "sr-shapes.md"


@pytest.fixture(scope="module")
def sr():
    return zoo.load_model("sr-shapes", "embedded").model


def tiny_sr(prediction: str = "sample") -> tuple[UNet2DModel, DDPMScheduler]:
    torch.manual_seed(0)
    unet = UNet2DModel(**{**SR_SHAPES_CONFIG, "sample_size": 16, "block_out_channels": (8, 16, 16)})
    return unet.eval(), DDPMScheduler(num_train_timesteps=1000, prediction_type=prediction)


# --------------------------------------------------------------------------------------------- #
# one loss, one sampler


def test_the_sr_trainer_uses_the_base_models_loss_and_optimiser_step():
    from core.train import cascade as sr_train
    from core.train import diffusion as base_train

    assert sr_train.diffusion_loss is base_train.diffusion_loss
    assert sr_train.optimise is base_train.optimise
    assert cascade.denoise is diffusion.denoise  # and the SR sampler is the base model's loop
    for module in (sr_train, base_train, cascade):  # no second copy of the loss or of a DDIM update
        source = Path(module.__file__).read_text()
        assert source.count("mse_loss(") <= (1 if module is base_train else 0), module.__name__
        assert ".step(" not in source.replace("opt.step(", ""), module.__name__


@pytest.mark.parametrize("prediction", ["epsilon", "sample", "v_prediction"])
def test_diffusion_loss_is_the_simple_loss_on_the_schedulers_target(prediction):
    from core.train.diffusion import diffusion_loss

    unet, sched = tiny_sr(prediction)
    x0 = torch.rand(3, 3, 16, 16) * 2 - 1
    cond = torch.rand(3, 3, 16, 16) * 2 - 1
    aug = torch.tensor([0, 40, 250])
    loss = diffusion_loss(unet, sched, x0, torch.Generator().manual_seed(5), class_labels=aug, cond=cond)
    g = torch.Generator().manual_seed(5)  # the same draws, in the documented order: t, then ε
    t = torch.randint(0, 1000, (3,), generator=g)
    noise = torch.randn(x0.shape, generator=g)
    xt = sched.add_noise(x0, noise, t)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        pred = unet(torch.cat([xt, cond], 1), t, class_labels=aug).sample.float()
    target = {"epsilon": noise, "sample": x0, "v_prediction": sched.get_velocity(x0, noise, t)}[prediction]
    assert float(loss.detach()) == pytest.approx(float(F.mse_loss(pred, target)), rel=1e-6)


def test_the_sr_sampler_is_diffusers_ddim_on_x_t_and_the_condition():
    unet, sched = tiny_sr()
    low = torch.rand(2, 3, 8, 8) * 2 - 1
    out = cascade.super_resolve(unet, sched, low, aug=[0, 120], steps=5, seed=3)
    g = torch.Generator().manual_seed(3)  # augmentation noise first, then x_T
    noise = torch.randn(low.shape, generator=g)
    levels = torch.tensor([0, 120])
    noisy = diffusion.add_noise(low, levels, noise, sched)
    cond = F.interpolate(noisy, size=(16, 16), mode="bicubic", align_corners=False)
    ref = DDIMScheduler.from_config(sched.config)
    ref.set_timesteps(5)
    x = torch.randn((2, 3, 16, 16), generator=g)
    for t in ref.timesteps:
        with torch.no_grad():
            x = ref.step(unet(torch.cat([x, cond], 1), t, class_labels=levels).sample, t, x,
                         generator=g).prev_sample
    # the sample is the residual over bicubic
    want = (F.interpolate(low, size=(16, 16), mode="bicubic", align_corners=False) + x).clamp(-1, 1)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-6)


def test_condition_noises_then_upsamples_and_refuses_negative_levels():
    _, sched = tiny_sr()
    low = torch.rand(2, 3, 8, 8) * 2 - 1
    noise = torch.randn(low.shape, generator=torch.Generator().manual_seed(0))
    got = cascade.condition(low, 200, noise, sched, size=16)
    a = sched.alphas_cumprod[200]
    want = F.interpolate(a.sqrt() * low + (1 - a).sqrt() * noise, size=(16, 16), mode="bicubic",
                         align_corners=False)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    near = cascade.condition(low, 0, noise, sched, size=8)
    # level 0: ᾱ_0 = 1 − 1e-4, so the condition is the image plus 1 % of the noise
    assert float((near - low).abs().max()) <= 0.0101 * float(noise.abs().max())
    with pytest.raises(ValueError, match="augmentation level"):
        cascade.condition(low, -1, noise, sched)
    assert cascade.sr_scheduler().config.prediction_type == "sample"


def test_training_crops_are_the_candidates_where_bicubic_misses_most():
    from core.train.cascade import random_crops

    high = torch.rand(5, 3, 64, 64) * 2 - 1
    high[:, :, :, 40:] = 0.3  # a flat part: crops there score low
    for tries in (1, 4):
        crops = random_crops(high, torch.Generator().manual_seed(3), size=24, tries=tries)
        # the same candidates, drawn again, scored one by one
        gen = torch.Generator().manual_seed(3)
        ys = torch.randint(0, 21, (5, tries), generator=gen) * 2
        xs = torch.randint(0, 21, (5, tries), generator=gen) * 2
        energy = cascade.residual(high, cascade.downsample(high, 32)).square().sum(1)
        for i in range(5):
            scores = [float(energy[i, y:y + 24, x:x + 24].sum()) for y, x in zip(ys[i], xs[i], strict=True)]
            k = int(np.argmax(scores))
            y, x = int(ys[i, k]), int(xs[i, k])
            assert y % 2 == 0 and x % 2 == 0
            assert torch.equal(crops[i], high[i, :, y:y + 24, x:x + 24]), (tries, i)


def test_sr_smoke_training_writes_weights_and_a_card(tmp_path):
    from core.train.cascade import train

    report = train("sr-shapes", out=tmp_path, smoke=True)
    assert report.weights.is_file() and report.steps == 3
    card = report.card.read_text()
    assert "psnr bicubic" in card and "ssim sr aug=0" in card and "SSIM" in card


# --------------------------------------------------------------------------------------------- #
# the shipped SR model


def card_metrics() -> dict[str, float]:
    rows = re.findall(r"^\| (psnr [^|]+|ssim [^|]+) \| ([-\d.]+) \|$", CARD.read_text(), flags=re.M)
    return {k.strip(): float(v) for k, v in rows}


@pytest.fixture(scope="module")
def measured(sr):
    from core.train.cascade import EVAL_SCENES, EVAL_STEPS, held_out_pairs, measure

    high, low = held_out_pairs(0, EVAL_SCENES)
    return measure(sr, cascade.sr_scheduler(), high, low, steps=EVAL_STEPS)


def test_the_card_states_what_re_measuring_the_shipped_model_gives(measured):
    card = card_metrics()
    assert set(card) == set(measured) and len(card) == 6
    for key, value in measured.items():
        assert card[key] == pytest.approx(value, abs=2e-4), key  # the card rounds to 4 places


def test_the_lesson_texts_quote_the_sr_cards_numbers():
    card = card_metrics()
    root = Path(__file__).resolve().parent.parent / "core" / "text"
    for lang in ("en", "zh"):
        words = (root / f"diffusion.{lang}.md").read_text(encoding="utf-8")
        for key, fmt in (("psnr sr aug=0", ".1f"), ("psnr bicubic", ".1f"), ("ssim sr aug=0", ".3f"),
                         ("ssim bicubic", ".3f"), ("psnr sr aug=100", ".1f")):
            assert f"{card[key]:{fmt}}" in words, (lang, key)
    assert card["ssim sr aug=100"] < card["ssim bicubic"]  # what the texts say of a = 100


def test_the_sr_model_beats_bicubic_on_held_out_scenes(measured):
    assert measured["psnr sr aug=0"] > measured["psnr bicubic"]
    assert measured["ssim sr aug=0"] > measured["ssim bicubic"]


# --------------------------------------------------------------------------------------------- #
# the lesson runs and their pictures


def test_the_sweep_grid_shows_the_sweeps_samples_where_it_says(sr):
    results = list(imagen_lesson.sweep_stream(shape="triangle", max_guidance=8, percentile=95, sweep_steps=4,
                                              sweep_seed=2, every=2))
    assert [r.summary["step"] for r in results] == [1, 3, 4]
    last = results[-1]
    s = last.summary
    assert s["guidance_scales"] == [1.0, 2.0, 3.0, 5.0, 7.0, 8.0] and s["percentile"] == 95
    loaded = zoo.load_model("ddpm-shapes", "auto")
    ref = imagen.sweep(loaded.model, loaded.extras["scheduler"], label=2, null_class=8,
                       scales=s["guidance_scales"], steps=4, seed=2, ratio=0.95, max_value=float("inf"))
    assert s["saturated"]["dynamic"] == pytest.approx(list(ref.saturated[2]))
    assert s["saturated_vs_w1"]["none"][0] == 0.0
    grid = last.images["sweep"]
    for m in range(3):
        for c in range(6):
            y, x = viz.grid_cell(m, c, imagen_lesson.TILE)
            want = viz.tile(diffusion.from_unit(ref.samples[m, c]), imagen_lesson.TILE)
            assert (grid[y:y + imagen_lesson.TILE, x:x + imagen_lesson.TILE] == want).all(), (m, c)
    assert "stats" in last.images and "stats" not in results[0].images
    stats = last.images["stats"]
    assert stats.shape == (320, 1080, 3) and stats.std() > 10  # drawn, not blank
    with pytest.raises(ValueError, match="Class"):
        imagen_lesson.sweep(shape="none")
    with pytest.raises(ValueError, match="Largest guidance"):
        imagen_lesson.sweep(max_guidance=50)


def test_dynamic_thresholding_tames_the_saturation_of_high_guidance():
    """The default sweep (circle, seed 0, w up to 10, 25 steps): guidance drives x̂0 out of range and, with
    no thresholding, saturates more pixels than at w = 1; dynamic thresholding keeps the image unsaturated."""
    s = imagen_lesson.sweep(sweep_steps=25).summary
    assert s["class"] == "circle" and s["guidance_scales"][-1] == 10.0
    assert s["saturated_vs_w1"]["none"][-1] > 0.1  # w = 10 saturates ≥ 10 % more of the image than w = 1
    assert max(s["saturated"]["dynamic"]) < 0.01 < min(s["saturated"]["none"])
    assert s["max_p_abs"]["none"][-1] > 1.5 * s["max_p_abs"]["none"][0]  # x̂0 leaves [−1, 1] further at w = 10
    assert s["mean_beyond"]["none"][-1] > s["mean_beyond"]["none"][0]


def test_the_cascade_strips_show_base_bicubic_and_sr_and_score_the_photo(cat, sr):
    results = list(imagen_lesson.cascade_stream(cat, base_class="ring", aug=100, sr_steps=4, crop=0.6,
                                                cascade_seed=1, every=2))
    stages = [r.summary["stage"] for r in results]
    assert stages[0] == "base" and stages[-1] == "sr" and stages.index("sr") > 0
    assert np.all(np.diff([r.summary["progress"] for r in results]) > 0)
    assert results[-1].summary["progress"] == 1
    last = results[-1]
    s = last.summary
    assert s["aug"] == 100
    assert s["aug_alpha_bar"] == pytest.approx(float(cascade.sr_scheduler().alphas_cumprod[100]))
    # the base sample, again: ddpm-shapes, DDIM 25 steps, seed 1, class ring at w = 2
    loaded = zoo.load_model("ddpm-shapes", "auto")
    *_, base = diffusion.denoise(loaded.model, DDIMScheduler.from_config(loaded.extras["scheduler"].config),
                                 num_inference_steps=25, generator=torch.Generator().manual_seed(1),
                                 class_labels=6, guidance_scale=2.0, null_class=8)
    low = torch.from_numpy(base.sample).clamp(-1, 1)
    strip = last.images["cascade"]
    size = imagen_lesson.VIEW

    def cell(image: np.ndarray, i: int) -> np.ndarray:
        y, x = viz.strip_cell(i, size)
        return image[y:y + size, x:x + size]

    assert (cell(strip, 0) == viz.tile(diffusion.from_unit(low), size)).all()
    bicubic = cascade.upsample(low).clamp(-1, 1)
    assert (cell(strip, 1) == viz.tile(diffusion.from_unit(bicubic), size)).all()
    photo_high, photo_low = imagen_lesson._photo_pair(cat, 0.6)  # noqa: SLF001 - the crop it shows
    sr_all = cascade.super_resolve(sr, cascade.sr_scheduler(), torch.cat([low, low, photo_low]),
                                   aug=[0, 100, 100], steps=4, seed=1)
    for i, k in ((2, 0), (3, 1)):
        assert np.abs(cell(strip, i).astype(int) - viz.tile(diffusion.from_unit(sr_all[k]), size)).max() <= 1
    photo = last.images["photo"]
    assert (cell(photo, 0) == viz.tile(diffusion.from_unit(photo_high), size)).all()
    photo_bicubic = cascade.upsample(photo_low).clamp(-1, 1)
    assert (cell(photo, 2) == viz.tile(diffusion.from_unit(photo_bicubic), size)).all()
    from torchmetrics.functional.image import peak_signal_noise_ratio

    want = float(peak_signal_noise_ratio((sr_all[2:3] + 1) / 2, (photo_high + 1) / 2, data_range=1.0))
    assert s["photo_psnr_sr"] == pytest.approx(want, abs=1e-3)
    assert s["aug_signal_scale"] ** 2 + s["aug_noise_scale"] ** 2 == pytest.approx(1.0)  # √ᾱ x0 + √(1−ᾱ) ε
    assert s["aug_noise_scale"] == pytest.approx((1 - s["aug_alpha_bar"]) ** 0.5)
    assert s["sr_aug0_vs_aug_mean_abs"] > 0  # the augmentation level changes the SR output
    assert last.images["sr_film"].shape[0] > 100
    with pytest.raises(ValueError, match="upload"):
        imagen_lesson.cascade(None)
    with pytest.raises(ValueError, match="Noise augmentation level"):
        imagen_lesson.cascade(cat, aug=400)


def test_the_photo_strips_titles_print_bicubics_and_srs_psnr(cat):
    """The shipped SR model scores within a dB of bicubic on the photos (its card), so the titles are told
    apart with random SR weights: each title prints its own image's PSNR from the summary."""
    s = (last := imagen_lesson.cascade(cat, weights="random", aug=50, sr_steps=2, crop=0.5, every=99)).summary
    assert f"{s['photo_psnr_bicubic']:.1f}" != f"{s['photo_psnr_sr']:.1f}"
    size = imagen_lesson.VIEW
    titles = ["your crop, 64²", "its 32²", f"bicubic {s['photo_psnr_bicubic']:.1f} dB",
              f"SR {s['photo_psnr_sr']:.1f} dB"]
    heads = viz.labelled_strip([np.zeros((size, size, 3), np.uint8)] * 4, titles, size)[:viz.HEAD]
    assert (last.images["photo"][:viz.HEAD] == heads).all()
    assert f"bicubic PSNR {s['photo_psnr_bicubic']:.2f} dB" in last.captions["photo"]
    assert f"SR (aug 50) {s['photo_psnr_sr']:.2f} dB" in last.captions["photo"]


def test_enlarged_tiles_keep_the_model_images_pixels():
    """A 2×2 image at 4 px: every pixel a 2×2 block of exactly its colour (nearest, not smoothed); a 4×4
    one at 2 px: the area mean of each 2×2 block."""
    img = np.array([[[0, 0, 0], [255, 0, 0]], [[0, 255, 0], [0, 0, 255]]], np.uint8)
    big = viz.tile(img, 4)
    assert (big == img.repeat(2, 0).repeat(2, 1)).all()
    small = viz.tile(big, 2)
    assert (small == img).all()


def test_the_sweeps_columns_are_distinct_scales_ending_at_the_largest():
    assert imagen_lesson.guidance_scales(10) == (1.0, 2.0, 3.0, 5.0, 7.0, 10.0)
    assert imagen_lesson.guidance_scales(8) == (1.0, 2.0, 3.0, 5.0, 7.0, 8.0)
    assert imagen_lesson.guidance_scales(1) == (1.0,)
    for top in imagen_lesson.SCALES:
        scales = imagen_lesson.guidance_scales(top)
        assert len(set(scales)) == len(scales) and scales[-1] == top


@pytest.mark.parametrize("shape", [(90, 160), (160, 90)])
def test_the_photo_pair_is_the_centre_crop_at_64_and_its_area_downsampling(shape):
    """crop 0.5 of a 90-px short side: a 45-px square at the photo's centre (rows and columns counted by
    hand), enlarged to 64² as to_unit does (bicubic); its 32² half is the area average of that."""
    import cv2

    rgb = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    high, low = imagen_lesson._photo_pair(rgb, 0.5)  # noqa: SLF001 - the crop the photo strip shows
    y, x = (22, 57) if shape[0] < shape[1] else (57, 22)
    crop = cv2.resize(rgb[y:y + 45, x:x + 45], (64, 64), interpolation=cv2.INTER_CUBIC)
    want = torch.from_numpy(crop).permute(2, 0, 1).float() / 127.5 - 1.0
    assert high.shape == (1, 3, 64, 64) and torch.equal(high[0], want)
    assert torch.allclose(low, F.avg_pool2d(high, 2), atol=1e-6)


# --------------------------------------------------------------------------------------------- #
# the page


def test_the_imagen_endpoints_stream_through_gradio_client(client, cat_path):
    from gradio_client import handle_file

    job = client.submit(handle_file(str(cat_path)), api_name="/diffusion_cascade")
    updates = list(job)
    assert len(updates) >= 3
    final = job.outputs()[-1]
    summary = next(x for x in final if isinstance(x, dict) and "progress" in x)
    assert summary["progress"] == 1.0 and summary["stage"] == "sr" and "photo_psnr_sr" in summary
    assert any(isinstance(x, str) and x.endswith(".png") for x in final)  # the figure sheet
    job = client.submit(sweep_steps=6, api_name="/diffusion_imagen")  # no photo needed
    updates = list(job)
    assert len(updates) >= 2
    summary = next(x for x in job.outputs()[-1] if isinstance(x, dict) and "saturated" in x)
    assert summary["guidance_scales"][-1] == 10.0 and set(summary["saturated"]) == set(imagen.METHODS)


def test_the_imagen_tab_runs_in_the_browser(app_url, cat_path, tmp_path, chromium):
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS

    upload = tmp_path / "imagen-cat.jpg"
    shutil.copy(cat_path, upload)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{app_url.rstrip('/')}/diffusion", wait_until="domcontentloaded")
        page.locator("input[type=file]").first.wait_for(state="attached", timeout=60_000)
        page.locator("input[type=file]").first.set_input_files(str(upload))
        page.get_by_role("tab", name=re.compile("Imagen")).click()
        page.get_by_role("button", name="Run cascade").click()
        page.get_by_text(re.compile(r"your crop: bicubic [\d.]+ dB, SR [\d.]+ dB")).wait_for(timeout=180_000)
        assert page.locator(".toast-body.error").count() == 0
        shown = page.evaluate("""() => [...document.querySelectorAll('img')].filter(i => i.complete
                                 && i.naturalWidth > 600 && i.getClientRects().length > 0).length""")
        assert shown >= 2  # the cascade strip and the photo strip (each 4 × 160 px wide)
        page.get_by_role("button", name="Run guidance sweep").click()
        page.get_by_text(re.compile(r"saturated pixels \(w = 1 → w = 10\)")).wait_for(timeout=180_000)
        assert page.locator(".toast-body.error").count() == 0
        browser.close()
