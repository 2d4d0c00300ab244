"""What the diffusion page's conversions and pictures mean: pixels ↔ [−1, 1], the SDEdit input shown
next to its result, the forward strip's tiles, the filmstrip's columns and labels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from core import diffusion as D
from core import zoo
from core.viz import diffusion as V


def test_to_unit_maps_0_255_to_minus_one_one_and_crops_the_centre():
    img = np.zeros((4, 8, 3), np.uint8)
    img[:, :, 0] = np.arange(8, dtype=np.uint8)[None, :] * 30  # columns 0, 30, …, 210
    img[:, :, 1] = 255
    x = D.to_unit(img)
    assert x.shape == (1, 3, 4, 4) and x.dtype == torch.float32
    # the centre 4×4 square: columns 2…5
    assert torch.allclose(x[0, 0, 0], torch.tensor([60, 90, 120, 150]) / 127.5 - 1.0)
    assert torch.all(x[0, 1] == 1.0) and torch.all(x[0, 2] == -1.0)


def test_from_unit_maps_back_rounds_and_clamps():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 2.5, 0.79]).reshape(1, 1, 6).expand(3, 1, 6)
    out = D.from_unit(x)
    assert out.shape == (1, 6, 3) and out.dtype == np.uint8
    # −3 and 2.5 lie outside [−1, 1]: clamped, not wrapped; 0.79 → 228.2 rounds to 228, 0 → 127.5 → 128
    assert out[0, :, 0].tolist() == [0, 0, 128, 255, 255, 228]
    assert D.from_unit(torch.full((1, 3, 2, 2), 0.6))[0, 0].tolist() == [204, 204, 204]  # 0.8·255


def test_every_byte_survives_the_round_trip():
    values = np.arange(256, dtype=np.uint8)
    img = np.stack([np.tile(values, (256, 1))] * 3, axis=-1)
    assert np.array_equal(D.from_unit(D.to_unit(img)), img)


@pytest.fixture(scope="module")
def sdedit():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    return photo, D.run(photo, weights="random", steps=6, every=2)


def test_sdedit_result_shows_the_input_on_the_left(sdedit):
    photo, res = sdedit
    size = D.zoo.load_model("ddpm-cifar10", "random").model.config.sample_size
    shown = D.from_unit(D.to_unit(photo, size))
    left = res.images["result"][:, : D.DISPLAY]
    assert np.array_equal(left, cv2.resize(shown, (D.DISPLAY, D.DISPLAY), interpolation=cv2.INTER_NEAREST))


def test_sdedit_summary_alpha_bar_is_the_start_timesteps(sdedit):
    _, res = sdedit
    s = res.summary
    sched = zoo.load_model("ddpm-cifar10", "random").extras["scheduler"]
    assert s["start_t"] == s["timesteps"][0]
    assert s["start_alpha_bar"] == pytest.approx(float(sched.alphas_cumprod[s["start_t"]]), rel=1e-6)


def test_forward_strip_tiles_are_x_t_at_their_timesteps():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    strip = D.forward(photo, t=0, size=64).images["forward_strip"]
    head, gap, tile = 40, 6, 128
    for i, t in enumerate([0, 50, 100, 250, 500, 750, 999]):
        x_t = D.forward(photo, t=t, size=64).images["x_t"]
        x = gap + i * (tile + gap)
        want = cv2.resize(x_t, (tile, tile), interpolation=cv2.INTER_NEAREST)
        assert np.array_equal(strip[head:head + tile, x:x + tile], want), t


def test_filmstrip_keeps_first_and_last_frames_when_thinned():
    n, tile = 20, 32
    frames = [np.full((8, 8, 3), 10 * i, np.uint8) for i in range(n)]
    strip = V.filmstrip(frames, frames, list(range(n, 0, -1)), tile=tile, max_tiles=12)
    label_w, head, gap = 44, 24, 4
    assert strip.shape[1] == label_w + 12 * (tile + gap) + gap
    first_x, last_x = label_w + gap, label_w + gap + 11 * (tile + gap)
    y = head + gap + tile // 2
    assert strip[y, first_x + tile // 2, 0] == 0 and strip[y, last_x + tile // 2, 0] == 190


def test_filmstrip_labels_t0_and_the_final_sample_differently():
    frames = [np.zeros((8, 8, 3), np.uint8)] * 3
    strip = V.filmstrip(frames, frames, [5, 0, -1], tile=64)
    label_w, head, gap = 44, 24, 4
    starts = [label_w + gap + i * (64 + gap) for i in range(3)]
    cols = [strip[:head, x:x + 64] for x in starts]
    assert not np.array_equal(cols[1], cols[2])  # "t=0" is not "final"
    assert not np.array_equal(cols[0], cols[1])


def test_upscale_uses_the_long_side():
    img = np.zeros((32, 64, 3), np.uint8)
    assert V.upscale(img, 256).shape == (128, 256, 3)  # ×4: the long side reaches 256, not 512
    assert V.upscale(np.zeros((300, 10, 3), np.uint8), 256).shape == (300, 10, 3)


def test_schedule_figure_titles_give_the_values_at_t(monkeypatch):
    """Each panel's title reads 't = t: value' with β_t, ᾱ_t and SNR_t of the chosen schedule at t itself."""
    from matplotlib.axes import Axes

    titles: list[str] = []
    original = Axes.set_title

    def record(ax, text, *args, **kwargs):
        titles.append(text)
        return original(ax, text, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_title", record)
    V._schedule_figure.cache_clear()
    V.schedule_figure("cosine", 300)
    V._schedule_figure.cache_clear()
    curves = D.schedule_curves("cosine")
    values = [curves.beta[300], curves.alpha_bar[300], curves.snr[300]]
    assert [t.rsplit("\n", 1)[1] for t in titles] == [f"t = 300: {v:.3g}" for v in values]
