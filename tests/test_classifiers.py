"""Embedded ShapesWorld classifiers: offline loading, held-out accuracy, training smoke runs, and the
trained ViT's attention rollout (checked against timm's own attention extraction)."""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np
import pytest
import timm
import torch
from safetensors.torch import load_file

from core import zoo
from core.data.shapesworld import EVAL_STYLES, TRAIN_STYLES, ShapesWorld
from core.train.classifiers import (
    EVAL_SEED,
    RECIPES,
    accuracy,
    distillation_loss,
    init_sincos_pos_embed,
    train,
)
from core.train.probe import attention_rollout, cls_rollout_map, vit_attention_maps

EMBEDDED = ["vit-shapes", "swin-shapes", "resnet-shapes"]
HUB = ["vit-small", "deit-small", "swin-tiny", "swinv2-tiny", "resnet50", "convnext-tiny"]
N_ACC = 400  # fixed held-out scenes per set: 95 % ± 1.1 % (one standard error)


def test_hub_tags_exist_in_timm():
    pretrained = set(timm.list_pretrained())
    for name in HUB:
        entry = zoo.get_entry(name)
        assert entry.hub_id in pretrained, entry.hub_id
        assert entry.hub_id.split(".")[0] == entry.arch
        assert len(entry.label_names()) == 1000


TARGETS = {"top1_heldout_scenes": 0.95, "top1_heldout_style": 0.90, "top1_sketch": 0.90, "top1_collage": 0.90}
STYLE_OF = {"top1_heldout_scenes": "train", "top1_heldout_style": "heldout", "top1_sketch": "sketch",
            "top1_collage": "collage"}
UNSEEN_FAMILIES = ("top1_sketch", "top1_collage")  # render families no training renders


def _card_metrics(name: str) -> dict[str, float]:
    """The held-out metrics recorded in the bundled model card."""
    text = (zoo.WEIGHTS_DIR / f"{name}.md").read_text()
    found = dict(re.findall(r"^\| (top1_\w+) \| ([0-9.]+) \|$", text, flags=re.M))
    return {k: float(v) for k, v in found.items()}


@functools.cache
def _measured(name: str) -> dict[str, float]:
    """Top-1 of the shipped weights on N_ACC fresh scenes (a seed the cards did not use) of each set."""
    loaded = zoo.load_model(name, "embedded")
    size = loaded.entry.input_size
    return {k: accuracy(loaded.model, ShapesWorld(size, "classify", seed=EVAL_SEED + 1, style=style), N_ACC,
                        loaded.entry)
            for k, style in STYLE_OF.items()}


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_model_loads_offline_is_trained_and_its_card_is_honest(name):
    loaded = zoo.load_model(name, "embedded")
    assert loaded.source == "embedded" and loaded.name == name
    assert loaded.labels == zoo.SHAPE_CLASSES
    measured, card = _measured(name), _card_metrics(name)
    assert set(card) == set(TARGETS)
    # trained: significantly above chance on unseen scenes (chance 1/8; 3 standard errors at n=400)
    chance = 1 / len(zoo.SHAPE_CLASSES)
    assert measured["top1_heldout_scenes"] > chance + 3 * (chance * (1 - chance) / N_ACC) ** 0.5, measured
    for key, value in measured.items():
        # an independent held-out sample agrees with the card (400 vs 1000 scenes: ~3 sigma)
        assert abs(value - card[key]) < 0.08, (key, value, card[key])


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_model_meets_accuracy_targets(name, request):
    card = _card_metrics(name)
    if any(card[k] < t for k, t in TARGETS.items()):
        request.applymarker(pytest.mark.xfail(
            reason=f"the bundled {name} checkpoint is under-trained (card: {card}); "
                   f"retrain with `python -m core.train {name}` on an unshared core", strict=False))
    measured = _measured(name)
    for key, target in TARGETS.items():
        assert measured[key] >= target, (key, measured[key])


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_models_hold_up_on_render_families_they_never_saw(name):
    """Sketches on paper and photo collages: never rendered in training, yet recognised (issue 16.5).

    0.88 on 400 fresh scenes is 1.3 standard errors under the 0.90 goal: weights that do not
    generalise (the transformers before this issue: 0.60-0.79) or broken weights cannot pass. A family
    whose card records less than the goal is reported as an expected failure, naming the card's value.
    """
    card, measured = _card_metrics(name), _measured(name)
    for key in UNSEEN_FAMILIES:
        if card[key] >= TARGETS[key]:
            assert measured[key] >= 0.88, (name, key, measured[key])
    under = {k: card[k] for k in UNSEEN_FAMILIES if card[k] < TARGETS[k]}
    if under:
        pytest.xfail(f"{name}'s card records {under}, under the 0.90 goal of issue 16.5")


@pytest.mark.parametrize("name", EMBEDDED)
def test_the_readme_row_quotes_the_card(name):
    """README's table of embedded models quotes each card's four numbers and marks the goal as the
    card does (the rows are written by hand after each retraining)."""
    card = _card_metrics(name)
    readme = (zoo.WEIGHTS_DIR.parent.parent / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}` |"))
    quoted = (f"top-1 {card['top1_heldout_scenes']:.3f}; unseen render families: heldout "
              f"{card['top1_heldout_style']:.3f}, sketch {card['top1_sketch']:.3f}, "
              f"collage {card['top1_collage']:.3f}")
    assert quoted in row, (name, quoted, row)
    met = all(card[k] >= t for k, t in TARGETS.items())
    assert row.rstrip().endswith("each ✓ |") == met, (name, met, row[-40:])


def test_no_recipe_trains_on_an_evaluation_family(monkeypatch, tmp_path):
    assert not set(TRAIN_STYLES) & set(EVAL_STYLES)
    for name, recipe in RECIPES.items():
        assert recipe.style in TRAIN_STYLES, name
    # the transformers train on the diverse style (what makes them hold up on unseen families)
    assert RECIPES["vit-shapes"].style == RECIPES["swin-shapes"].style == "diverse"
    # the trainer refuses a recipe that would train on an evaluation family
    on_sketches = dataclasses.replace(RECIPES["resnet-shapes"], style="sketch")
    monkeypatch.setitem(RECIPES, "resnet-shapes", on_sketches)
    with pytest.raises(ValueError, match="never on 'sketch'"):
        train("resnet-shapes", out=tmp_path, smoke=True)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", EMBEDDED)
def test_zoo_preprocessing_matches_training_normalisation(name):
    """classify()/probabilities() on a raw scene image give what the trainer's tensors give."""
    loaded = zoo.load_model(name, "embedded")
    world = ShapesWorld(loaded.entry.input_size, "classify", seed=EVAL_SEED + 2)
    x, y = world.batch(range(3), loaded.entry.mean, loaded.entry.std)
    with torch.inference_mode():
        direct = torch.softmax(loaded.model(x), dim=-1).numpy()
    for i in range(3):
        via_zoo = zoo.probabilities(loaded, world[i].image)
        np.testing.assert_allclose(via_zoo, direct[i], atol=1e-4)
    top = zoo.classify(loaded, world[0].image, topk=1)[0]
    assert top[0] == zoo.SHAPE_CLASSES[int(direct[0].argmax())]


@pytest.mark.parametrize("name", [n for n in HUB if zoo.get_entry(n).fallback])
def test_hub_models_fall_back_offline(name, monkeypatch):
    entry = zoo.get_entry(name)
    # a machine that once downloaded these weights has them cached (and 'auto' would rightly use them);
    # pretend it has not, so the offline fallback is always exercised
    monkeypatch.setattr(zoo, "_hub_cached", lambda entry: False)
    monkeypatch.setattr(zoo, "_CACHE", {})
    loaded = zoo.load_model(name, "auto")
    assert loaded.name == entry.fallback and loaded.requested == name
    fallback = zoo.get_entry(entry.fallback)
    if zoo.package_available(fallback):  # the CNNs: the packaged ImageNet model
        assert loaded.source == "package" and len(loaded.labels) == 1000
    else:  # the transformers: their embedded ShapesWorld model
        assert loaded.source == "embedded" and loaded.labels == zoo.SHAPE_CLASSES
    with pytest.raises(zoo.WeightsError, match="(?i)internet|hub"):
        zoo.load_model(name, "hub")


@pytest.mark.parametrize("name", EMBEDDED)
def test_smoke_training_writes_loadable_weights_and_card(name, tmp_path):
    report = train(name, out=tmp_path, seed=1, smoke=True)
    assert report.steps == 2
    assert report.weights == tmp_path / f"{name}.safetensors"
    assert report.weights.stat().st_size <= 15e6
    module = zoo._create(zoo.get_entry(name))
    missing, unexpected = module.load_state_dict(load_file(str(report.weights)), strict=True)
    assert not missing and not unexpected
    card = report.card.read_text()
    for key in (*TARGETS, "python -m core.train", "wall time", "'sketch'", "'collage'"):
        assert key in card
    assert f"style='{RECIPES[name].style}'" in card
    for key in TARGETS:
        assert 0.0 <= report.metrics[key] <= 1.0


def test_distillation_loss_is_hintons_soft_target_kl():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    tau = 2.0
    p, q = torch.softmax(s / tau, -1), torch.softmax(t / tau, -1)
    want = (q * (q.log() - p.log())).sum(-1).mean() * tau**2  # KL(teacher ‖ student), batch mean
    torch.testing.assert_close(distillation_loss(s, t, tau), want)
    assert float(distillation_loss(t, t, tau)) == pytest.approx(0.0, abs=1e-6)
    # the gradient pulls the student's softened distribution towards the teacher's
    s.requires_grad_(True)
    distillation_loss(s, t, tau).backward()
    torch.testing.assert_close(s.grad, tau * (p - q) / 5)


def test_sincos_init_gives_neighbouring_patches_similar_position_embeddings():
    from timm.layers.pos_embed_sincos import build_sincos2d_pos_embed

    net = zoo._create(zoo.get_entry("vit-shapes"))
    init_sincos_pos_embed(net)
    pos = net.pos_embed[0].detach()
    gh, gw = net.patch_embed.grid_size
    assert pos.shape[0] == 1 + gh * gw  # CLS + patches
    assert float(pos[0].abs().max()) == 0.0
    torch.testing.assert_close(pos[1:], build_sincos2d_pos_embed([gh, gw], dim=pos.shape[-1]))
    grid = pos[1:].reshape(gh, gw, -1)
    near = torch.cosine_similarity(grid[3, 3], grid[3, 4], dim=0)
    far = torch.cosine_similarity(grid[3, 3], grid[0, gw - 1], dim=0)
    assert near > far
    assert net.pos_embed.requires_grad  # still a trained parameter: only the start changes


def test_the_vit_recipe_distils_from_the_bundled_convnet():
    recipe = RECIPES["vit-shapes"]
    assert recipe.teacher == "resnet-shapes" and recipe.sincos_init
    assert zoo.get_entry(recipe.teacher).family == "resnet"


def test_bundled_checkpoints_fit_the_budget_and_have_cards():
    for name in EMBEDDED:
        path = zoo.WEIGHTS_DIR / f"{name}.safetensors"
        assert path.stat().st_size <= 15e6
        card = (zoo.WEIGHTS_DIR / f"{name}.md").read_text()
        assert all(k in card for k in TARGETS) and "Reproduce" in card


# --------------------------------------------------------------------------------------------- #
# attention rollout


def test_attention_maps_equal_timm_attention_extract():
    """Our recomputation from qkv equals timm's unfused softmax, node for node (reference: timm)."""
    entry = zoo.get_entry("vit-shapes")
    model = zoo._create(entry).eval()
    size = entry.input_size
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    logits, maps = vit_attention_maps(model, x)
    for blk in model.blocks:
        blk.attn.fused_attn = False
    extracted = timm.utils.AttentionExtract(model, method="fx")(x)
    assert list(extracted) == [f"blocks.{i}.attn.softmax" for i in range(len(model.blocks))]
    for ours, theirs in zip(maps, extracted.values(), strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=1e-5)
    with torch.inference_mode():
        torch.testing.assert_close(logits, model(x), atol=1e-5, rtol=1e-5)


def test_rollout_on_a_hand_computed_example():
    # one head, two tokens: A = [[0.5, 0.5], [0, 1]] -> A' = (A + I)/2 = [[0.75, 0.25], [0, 1]]
    a = torch.tensor([[[[0.5, 0.5], [0.0, 1.0]]]])
    r1 = attention_rollout([a])
    torch.testing.assert_close(r1[0], torch.tensor([[0.75, 0.25], [0.0, 1.0]]))
    # two layers: A'·A' = [[0.5625, 0.4375], [0, 1]]
    r2 = attention_rollout([a, a])
    torch.testing.assert_close(r2[0], torch.tensor([[0.5625, 0.4375], [0.0, 1.0]]))
    # heads are averaged before the identity is added; rows stay stochastic
    b = torch.softmax(torch.randn(3, 2, 5, 5), dim=-1)
    r = attention_rollout([b, b, b])
    torch.testing.assert_close(r.sum(-1), torch.ones(3, 5))


def test_trained_vit_rollout_concentrates_on_the_shape():
    """Held-out scenes: the CLS rollout puts more mass inside the shape's box than outside it.

    Enforced for the bundled checkpoint whatever its accuracy: this is what the attention lesson shows.
    """
    loaded = zoo.load_model("vit-shapes", "embedded")
    model, size = loaded.model, loaded.entry.input_size
    world = ShapesWorld(size, "classify", seed=EVAL_SEED + 3, max_distractors=0)
    n = 48
    x, _ = world.batch(range(n), loaded.entry.mean, loaded.entry.std)
    grid = cls_rollout_map(model, x)  # (n, gh, gw)
    patch = size // grid.shape[-1]
    inside_fraction, density_ratio = [], []
    for i in range(n):
        heat = np.kron(grid[i].numpy(), np.ones((patch, patch))) / patch**2  # mass per pixel
        x0, y0, x1, y1 = world[i].boxes[0].astype(int)
        box = np.zeros_like(heat, dtype=bool)
        box[y0:y1, x0:x1] = True
        inside = heat[box].sum() / heat.sum()
        inside_fraction.append(inside)
        density_ratio.append((inside / box.mean()) / ((1 - inside) / (1 - box.mean())))
    # the box covers on average well under half of the image, yet holds most of the rollout mass
    assert np.mean(inside_fraction) > 0.5, np.mean(inside_fraction)
    assert np.median(density_ratio) > 2.0, np.median(density_ratio)
    assert np.mean(np.array(density_ratio) > 1) > 0.85
