"""The diffusion lesson against diffusers itself: add_noise, the schedules, the DDPM/DDIM pipelines'
outputs, SDEdit's starting timestep, classifier-free guidance, the hub path and the streaming endpoint."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from diffusers import DDIMPipeline, DDIMScheduler, DDPMPipeline, DDPMScheduler, UNet2DModel

from core import diffusion as D
from core import zoo


def tiny_unet(seed: int = 0, num_class_embeds: int | None = None) -> UNet2DModel:
    torch.manual_seed(seed)
    unet = UNet2DModel(sample_size=8, in_channels=3, out_channels=3, layers_per_block=1,
                       block_out_channels=(8, 16), down_block_types=("DownBlock2D", "AttnDownBlock2D"),
                       up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=4,
                       attention_head_dim=8, num_class_embeds=num_class_embeds)
    with torch.no_grad():  # diffusers zero-initialises nothing here, but make sure ε is far from 0
        unet.conv_out.weight.mul_(4.0)
    return unet.eval()


# --- the forward process and the schedules ------------------------------------------------------- #

@pytest.mark.parametrize("schedule", list(D.SCHEDULES))
def test_add_noise_equals_scheduler(schedule):
    sched = D.make_scheduler(schedule)
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    noise = torch.randn(4, 3, 8, 8, generator=g)
    t = torch.tensor([0, 10, 500, 999])
    ours = D.add_noise(x0, t, noise, sched)
    assert torch.equal(ours, sched.add_noise(x0, noise, t))
    # numpy in, numpy out, same numbers; and the formula itself
    ours_np = D.add_noise(x0.numpy(), t.numpy(), noise.numpy(), sched)
    assert isinstance(ours_np, np.ndarray)
    np.testing.assert_array_equal(ours_np, ours.numpy())
    a = sched.alphas_cumprod[500].item()
    expected = math.sqrt(a) * x0[2].numpy() + math.sqrt(1 - a) * noise[2].numpy()
    np.testing.assert_allclose(ours[2].numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="between 0 and 999"):
        D.add_noise(x0, 1000, noise, sched)


def test_linear_schedule_facts():
    c = D.schedule_curves("linear")
    assert c.beta[0] == pytest.approx(1e-4) and c.beta[-1] == pytest.approx(0.02)
    assert c.alpha_bar[-1] == pytest.approx(4.04e-5, rel=0.02)     # ᾱ_T ≈ 4.0e−5, not 0; β ≪ 1
    assert c.beta.max() < 0.021
    assert np.all(np.diff(c.alpha_bar) < 0) and np.all(np.diff(c.snr) < 0)
    np.testing.assert_allclose(c.snr, c.alpha_bar / (1 - c.alpha_bar))


def test_cosine_schedule_is_nichol_dhariwal():
    T, s = 1000, 0.008
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    betas = np.array([min(1 - f(i + 1) / f(i), 0.999) for i in range(T)])
    np.testing.assert_allclose(D.schedule_curves("cosine").beta, betas, rtol=1e-5, atol=1e-7)
    assert D.make_scheduler("cosine").config.beta_schedule == "squaredcos_cap_v2"


# --- the reverse loop equals diffusers' pipelines ------------------------------------------------ #

def _last(unet, sched, **kw):
    steps = list(D.denoise(unet, sched, **kw))
    return steps, torch.from_numpy(steps[-1].sample)


@pytest.mark.parametrize("steps", [10, 25])
def test_ddpm_loop_equals_pipeline(steps):
    unet, sched = tiny_unet(), DDPMScheduler(num_train_timesteps=1000)
    ref = DDPMPipeline(unet=unet, scheduler=sched)(generator=torch.Generator().manual_seed(3),
                                                    num_inference_steps=steps, output_type="pt").images
    out, last = _last(unet, sched, num_inference_steps=steps, generator=torch.Generator().manual_seed(3))
    assert len(out) == steps and [s.t for s in out] == sched.timesteps.tolist()
    assert torch.equal((last / 2 + 0.5).clamp(0, 1), ref)
    assert float(ref.std()) > 0.05                                     # a real picture, not a constant


@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_ddim_loop_equals_pipeline(eta):
    unet, sched = tiny_unet(1), DDPMScheduler(num_train_timesteps=1000)   # the pipeline converts it
    ref = DDIMPipeline(unet=unet, scheduler=sched)(generator=torch.Generator().manual_seed(5), eta=eta,
                                                    num_inference_steps=12, output_type="pt").images
    ddim = D.sampler_scheduler(sched, "ddim")
    out, last = _last(unet, ddim, num_inference_steps=12, eta=eta, generator=torch.Generator().manual_seed(5))
    assert torch.equal((last / 2 + 0.5).clamp(0, 1), ref)
    # each step's x̂0 is the scheduler's own: x̂0 = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t (clipped to [−1, 1])
    s = out[3]
    eps = unet(torch.from_numpy(s.x_t), s.t).sample.detach()
    a = ddim.alphas_cumprod[s.t]
    x0 = ((torch.from_numpy(s.x_t) - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
    np.testing.assert_allclose(s.pred_original, x0.numpy(), rtol=1e-4, atol=1e-5)


def test_ddim_eta_zero_is_deterministic_and_eta_changes_noise_not_steps():
    unet, sched = tiny_unet(2), DDIMScheduler(num_train_timesteps=1000)
    g = lambda: torch.Generator().manual_seed(0)
    a = [s.sample for s in D.denoise(unet, sched, num_inference_steps=8, generator=g())]
    b = [s.sample for s in D.denoise(unet, sched, num_inference_steps=8, generator=g())]
    start = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(a[-1], b[-1])
    c = list(D.denoise(unet, sched, num_inference_steps=8, eta=1.0, generator=g()))
    assert len(c) == len(a) == 8                                        # η does not change the step count
    np.testing.assert_array_equal(c[0].x_t, start.numpy())              # same start noise…
    assert not np.allclose(c[-1].sample, a[-1])                         # …different (stochastic) path


def test_shared_scheduler_is_not_modified_and_bad_arguments_are_clear():
    unet, sched = tiny_unet(), DDPMScheduler(num_train_timesteps=1000)
    before = sched.timesteps.clone()
    list(D.denoise(unet, sched, num_inference_steps=3))
    assert torch.equal(sched.timesteps, before) and sched.num_inference_steps is None
    with pytest.raises(ValueError, match="DDIM"):
        next(D.denoise(unet, sched, num_inference_steps=3, eta=0.5))
    with pytest.raises(ValueError, match="init image"):
        next(D.denoise(unet, sched, num_inference_steps=3, strength=0.5))


# --- SDEdit --------------------------------------------------------------------------------------- #

def test_sdedit_starts_at_the_right_timestep():
    unet, sched = tiny_unet(), DDIMScheduler(num_train_timesteps=1000)
    init = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(9)) * 2 - 1
    steps = list(D.denoise(unet, sched, num_inference_steps=50, strength=0.6, init=init,
                           generator=torch.Generator().manual_seed(4)))
    # diffusers' img2img rule: int(50·0.6) = 30 steps from index 20 of 980, 960, …  →  t = 580
    assert len(steps) == 30 and steps[0].t == 580 and steps[-1].t == 0
    noise = torch.randn(init.shape, generator=torch.Generator().manual_seed(4))
    np.testing.assert_array_equal(steps[0].x_t, sched.add_noise(init, noise, torch.tensor([580])).numpy())
    assert D.sdedit_start(50, 1.0) == 0 and D.sdedit_start(1000, 0.25) == 750
    ddpm = list(D.denoise(unet, DDPMScheduler(), num_inference_steps=20, strength=0.5, init=init[0]))
    assert [s.t for s in ddpm][0] == 450 and len(ddpm) == 10
    with pytest.raises(ValueError, match="no step"):
        D.sdedit_start(10, 0.05)


def test_classifier_free_guidance_combines_both_predictions():
    unet, sched = tiny_unet(3, num_class_embeds=9), DDIMScheduler(num_train_timesteps=1000)
    g = lambda: torch.Generator().manual_seed(1)
    s = 3.0
    step = next(D.denoise(unet, sched, num_inference_steps=10, generator=g(), class_labels=2,
                          guidance_scale=s, null_class=8))
    x, t = torch.from_numpy(step.x_t), step.t
    e_c = unet(x, t, class_labels=torch.tensor([2])).sample.detach()
    e_u = unet(x, t, class_labels=torch.tensor([8])).sample.detach()
    ref = DDIMScheduler(num_train_timesteps=1000)
    ref.set_timesteps(10)
    expected = ref.step(e_u + s * (e_c - e_u), t, x).prev_sample
    np.testing.assert_allclose(step.sample, expected.numpy(), rtol=1e-4, atol=1e-5)
    plain = next(D.denoise(unet, sched, num_inference_steps=10, generator=g(), class_labels=2))
    np.testing.assert_allclose(plain.sample, ref.step(e_c, t, x).prev_sample.numpy(), rtol=1e-4, atol=1e-5)
    assert not np.allclose(plain.sample, step.sample)


# --- models: hub path with a local checkpoint, the embedded entry -------------------------------- #

def test_hub_path_with_a_locally_saved_unet(tmp_path):
    unet, sched = tiny_unet(7), DDPMScheduler(num_train_timesteps=1000)
    unet.save_pretrained(tmp_path)
    sched.save_pretrained(tmp_path)
    entry = zoo.get_entry("ddpm-cifar10")
    model, extras = zoo._load_hub(entry, local_file=tmp_path)
    # the hub path loads exactly the saved weights and scheduler...
    saved, loaded = unet.state_dict(), model.state_dict()
    assert saved.keys() == loaded.keys() and all(torch.equal(saved[k], loaded[k]) for k in saved)
    assert extras["scheduler"].betas.equal(sched.betas)
    # ...and our loop on the loaded model equals diffusers' pipeline on it. (Not bit-equal to the
    # pipeline on the *original* module: without `accelerate`, from_pretrained builds new parameter
    # tensors and oneDNN may pick another kernel for them; outputs then differ by ~1e-6.)
    model.eval()
    ref = DDIMPipeline(unet=model, scheduler=extras["scheduler"])(
        generator=torch.Generator().manual_seed(0), num_inference_steps=6, output_type="pt").images
    _, last = _last(model, D.sampler_scheduler(extras["scheduler"], "ddim"), num_inference_steps=6,
                    generator=torch.Generator().manual_seed(0))
    assert torch.equal((last / 2 + 0.5).clamp(0, 1), ref)
    with torch.no_grad():
        x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(model(x, 10).sample, unet.eval()(x, 10).sample, rtol=1e-4, atol=1e-5)


def test_hub_offline_is_a_clear_error_and_auto_falls_back():
    with pytest.raises(zoo.WeightsError, match="Hugging Face Hub"):
        zoo.load_model("ddpm-cifar10", "hub")
    loaded = zoo.load_model("ddpm-cifar10", "auto")
    assert loaded.source in ("embedded", "random") and loaded.note
    assert "scheduler" in loaded.extras
    assert zoo.get_entry("ddpm-shapes").task == "diffuse" and "ddpm-cifar10" in zoo.list_models("diffuse")


@pytest.mark.skipif(not (zoo.WEIGHTS_DIR / "ddpm-shapes.safetensors").is_file(), reason="weights not trained")
def test_embedded_weights_load_and_denoise_better_than_chance():
    loaded = zoo.load_model("ddpm-shapes", "embedded")
    assert loaded.source == "embedded" and loaded.model.config.num_class_embeds == 9
    from core.train.diffusion import evaluate

    metrics = evaluate(loaded.model, loaded.extras["scheduler"], seed=0, n=64)
    assert metrics["eps_mse"] < 0.2                         # predicting ε = 0 would score 1.0


def test_embedded_samples_show_the_class_asked_for(tmp_path):
    """Class-conditional samples are visibly shapes: the ResNet judge names the requested class far
    more often than chance (1/8). The bundled card reports 0.54 on its 48-sample grid; 24 samples of
    a different seed must clear 0.3 (a judge guessing at random would pass with probability 0.7 %)."""
    from core.train import diffusion as T

    loaded = zoo.load_model("ddpm-shapes", "embedded")
    accuracy = T.sample_grid(loaded.model, loaded.extras["scheduler"], tmp_path / "grid.png", per_class=3,
                             steps=25, seed=7)
    assert accuracy is not None and accuracy >= 0.3, accuracy
    assert (tmp_path / "grid.png").stat().st_size > 5_000


# --- the lesson ----------------------------------------------------------------------------------- #

def test_forward_view(cat):
    res = D.forward(cat, t=0, schedule="linear", size=64)
    diff = abs(res.images["x_t"].astype(int) - res.images["x0"].astype(int))
    assert diff.mean() < 1.5 and diff.max() <= 8               # t = 0: √(1−ᾱ_0) = 0.01, almost x0
    assert res.summary["alpha_bar_T"] == pytest.approx(4.04e-5, rel=0.02)
    late = D.forward(cat, t=999, schedule="linear", size=64)
    assert late.summary["noise_scale"] > 0.9999 and late.images["schedule"].shape[2] == 3


def test_run_defaults_and_params(cat):
    names = [p.name for p in D.PARAMS]
    assert len(names) == len(set(names))
    res = D.run(cat, weights="random", steps=6, every=2)
    assert list(res.images) == ["x_t", "x0_pred", "start", "result", "filmstrip"]
    assert all(im.dtype == np.uint8 and im.ndim == 3 for im in res.images.values())
    s = res.to_json()
    assert s["progress"] == 1.0 and s["mode"] == "sdedit" and s["start_t"] == 332   # int(6·0.6) = 3 steps
    assert s["timesteps"] == [332, 166, 0] and s["weights_source"] == "random"
    streamed = list(D.run_stream(cat, weights="random", steps=6, every=2))
    assert [r.summary["step"] for r in streamed] == [1, 3]
    with pytest.raises(ValueError, match="Steps"):
        D.run(cat, steps=0)
    with pytest.raises(ValueError, match="unknown parameter"):
        D.run(cat, stepz=3)
    with pytest.raises(ValueError, match="upload"):
        D.run(None)
    gen = D.run(None, mode="generate", weights="random", steps=3, sampler="ddpm")
    assert gen.summary["timesteps"] == [666, 333, 0] and gen.summary["strength"] == 1.0


def test_smoke_training(tmp_path):
    from core.train.diffusion import train

    report = train("ddpm-shapes", out=tmp_path, smoke=True)
    assert report.weights.is_file() and (tmp_path / "ddpm-shapes-samples.png").is_file()
    assert "eps_mse" in report.metrics and "ddpm-shapes-samples.png" in report.card.read_text()


def test_a_continued_training_starts_from_its_init_weights(tmp_path):
    """``--init W --lr LR`` continues from W: with a vanishing learning rate the saved EMA stays at W."""
    from safetensors.torch import load_file

    from core.train.diffusion import train

    first = train("ddpm-shapes", out=tmp_path / "a", smoke=True)
    again = train("ddpm-shapes", out=tmp_path / "b", smoke=True, init=first.weights, lr=1e-12)
    fresh = train("ddpm-shapes", out=tmp_path / "c", smoke=True, seed=1, lr=1e-12)
    w0, w1, w2 = (load_file(str(r.weights)) for r in (first, again, fresh))
    assert all(torch.allclose(w0[k], w1[k], atol=1e-7) for k in w0)
    assert not all(torch.allclose(w0[k], w2[k], atol=1e-3) for k in w0)  # not an accident of seeding
    card = again.card.read_text()
    assert "## Continued run" in card and "lr 1e-12" in card
    assert f"--init {first.weights} --lr 1e-12" in card  # the reproduce line repeats the continuation


def test_init_and_lr_are_refused_for_the_classifiers(capsys):
    from core.train.__main__ import main

    with pytest.raises(SystemExit):
        main(["vit-shapes", "--smoke", "--lr", "1e-3"])
    assert "ddpm-shapes only" in capsys.readouterr().err


def test_endpoint_streams(client, cat_path):
    from gradio_client import handle_file

    job = client.submit(handle_file(str(cat_path)), api_name="/diffusion")
    updates = list(job)
    assert len(updates) >= 2
    final = job.outputs()[-1]
    summary = next(x for x in final if isinstance(x, dict) and "progress" in x)
    assert summary["progress"] == 1.0 and summary["mode"] == "sdedit" and summary["start_t"] == 580
