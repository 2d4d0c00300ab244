"""core.zoo: registry as data, the five weight modes, offline fallback, hub loading from a local file."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import timm
import torch
from safetensors.torch import save_file

from core import hub as core_hub
from core import zoo
from core.zoo import ModelEntry

TINY_VIT = dict(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2)


@pytest.fixture
def tiny_entries(tmp_path, monkeypatch):
    """A tiny hub-style ViT entry and an embedded one, registered only for the test."""
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    hub = ModelEntry(name="test-tiny-hub", task="classify", title="Tiny test ViT (hub)", family="vit",
                     arch="vit_tiny_patch16_224", kwargs=TINY_VIT,
                     hub_id="vit_tiny_patch16_224.augreg_in21k_ft_in1k",
                     fallback="test-tiny-embedded", labels="imagenet-1k", input_size=32)
    emb = ModelEntry(name="test-tiny-embedded", task="classify", title="Tiny test ViT (embedded)",
                     family="vit", arch="vit_tiny_patch16_224", kwargs={**TINY_VIT, "num_classes": 8},
                     embedded="test-tiny.safetensors", labels="shapes", input_size=32)
    model = timm.create_model(emb.arch, **emb.kwargs)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "test-tiny.safetensors"))
    for e in (hub, emb):
        zoo.register(e)
    zoo.clear_cache()
    yield hub, emb, model
    for e in (hub, emb):
        zoo.REGISTRY.pop(e.name, None)
    zoo.clear_cache()


def test_registry_is_data_and_tasks_are_checked():
    names = zoo.list_models()
    assert {"vit-small", "swin-tiny", "vit-shapes", "swin-shapes"} <= set(names)
    assert all(zoo.get_entry(n).task == "classify" for n in zoo.list_models("classify"))
    with pytest.raises(ValueError, match="unknown task"):
        zoo.list_models("dance")
    with pytest.raises(KeyError, match="unknown model"):
        zoo.get_entry("no-such-model")
    with pytest.raises(ValueError, match="weights must be"):
        zoo.load_model("vit-small", "pretty")


def test_every_classifier_entry_can_be_built_with_random_weights():
    for name in ("vit-shapes", "swin-shapes", "resnet-shapes"):
        entry = zoo.get_entry(name)
        model = zoo._create(entry)
        x = torch.zeros(1, 3, entry.input_size, entry.input_size)
        with torch.no_grad():
            assert model(x).shape == (1, len(entry.label_names()))


def test_embedded_mode_loads_the_bundled_file_exactly(tiny_entries):
    _, emb, model = tiny_entries
    loaded = zoo.load_model(emb.name, "embedded")
    assert loaded.source == "embedded" and loaded.labels == zoo.SHAPE_CLASSES
    assert not loaded.model.training
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[key], value, rtol=0, atol=0)


def test_auto_offline_falls_back_to_embedded_quietly_and_fast(tiny_entries, monkeypatch):
    hub, emb, _ = tiny_entries
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    probe_calls = []
    monkeypatch.setattr(core_hub, "_probe", lambda url: probe_calls.append(url) or (False, "test"))
    start = time.perf_counter()
    loaded = zoo.load_model(hub.name, "auto")
    assert time.perf_counter() - start < 5.0
    assert loaded.source == "embedded" and loaded.name == emb.name and loaded.requested == hub.name
    assert loaded.note == "offline" and "embedded" in loaded.status
    assert probe_calls == []  # HF_HUB_OFFLINE means: do not even try the network


def test_auto_without_offline_flag_gives_up_on_an_unreachable_hub_within_seconds(tiny_entries, monkeypatch):
    hub, _, _ = tiny_entries
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://10.255.255.1:9")  # unroutable: a lookup that would hang
    core_hub.forget()
    try:
        start = time.perf_counter()
        loaded = zoo.load_model(hub.name, "auto")
        assert time.perf_counter() - start < core_hub.PROBE_TIMEOUT_S + 2.0
        assert loaded.source == "embedded" and loaded.note.startswith("hub unavailable")
    finally:
        core_hub.forget()


def test_hub_mode_offline_raises_a_clear_error(tiny_entries, monkeypatch):
    hub, emb, _ = tiny_entries
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(zoo.WeightsError, match="Hugging Face Hub"):
        zoo.load_model(hub.name, "hub")
    with pytest.raises(zoo.WeightsError, match="no pretrained weights"):
        zoo.load_model(emb.name, "hub")


def test_random_mode_and_random_fallback_are_labelled():
    loaded = zoo.load_model("swin-tiny", "random")
    assert loaded.source == "random" and "RANDOM" in loaded.status
    assert sum(p.numel() for p in loaded.model.parameters()) == 28_288_354  # Swin-T, 1000 classes


def test_hub_loading_code_round_trips_a_local_checkpoint(tiny_entries, tmp_path):
    """The real timm hub path (pretrained=True) fed a local safetensors file instead of a download."""
    hub, _, _ = tiny_entries
    source = timm.create_model(hub.arch, **hub.kwargs)
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.01)
    path = tmp_path / "local-hub.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    model = zoo._load_hub(hub, local_file=path)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=0, atol=0)


def test_models_load_once_and_are_shared_across_threads(tiny_entries, monkeypatch):
    _, emb, _ = tiny_entries
    calls = []
    original = zoo._load_embedded

    def counting(entry):
        calls.append(entry.name)
        time.sleep(0.2)  # widen the race window
        return original(entry)

    monkeypatch.setattr(zoo, "_load_embedded", counting)
    results = []
    threads = [threading.Thread(target=lambda: results.append(zoo.load_model(emb.name, "embedded")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [emb.name]
    assert len({id(r) for r in results}) == 1


def test_classify_returns_sorted_probabilities_with_labels(tiny_entries, cat):
    _, emb, _ = tiny_entries
    loaded = zoo.load_model(emb.name, "embedded")
    top = zoo.classify(loaded, cat, topk=5)
    assert len(top) == 5
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6
    assert {label for label, _ in top} <= set(zoo.SHAPE_CLASSES)
    full = zoo.probabilities(loaded, cat)
    assert full.shape == (8,) and np.isclose(full.sum(), 1.0, atol=1e-5)
    assert np.isclose(full.max(), top[0][1], atol=1e-6)


def test_preprocessing_matches_timm_for_hub_models(cat):
    """Hub models use timm's own data config; we compare with timm's transform built independently."""
    import timm.data
    from PIL import Image

    loaded = zoo.load_model("deit-small", "random")
    fake_hub = zoo.Loaded(model=loaded.model, source="hub", name=loaded.name, labels=loaded.labels,
                          entry=loaded.entry, requested=loaded.requested)
    ours = zoo.preprocess(fake_hub, cat)
    cfg = timm.data.resolve_data_config({}, model=loaded.model)
    theirs = timm.data.create_transform(**cfg)(Image.fromarray(cat)).unsqueeze(0)
    torch.testing.assert_close(ours, theirs)
    assert ours.shape == (1, 3, 224, 224)


def test_imagenet_labels_come_from_timm():
    labels = zoo.get_entry("resnet50").label_names()
    assert len(labels) == 1000 and "tabby" in labels[281].lower()


def test_arbitrary_hub_ids_need_an_explicit_opt_in(monkeypatch):
    monkeypatch.delenv(zoo.ALLOW_HUB_IDS_ENV, raising=False)
    with pytest.raises(KeyError, match="LENSLAB_ALLOW_HUB_IDS"):
        zoo.load_model("timm/resnet18.a1_in1k", "random")
    monkeypatch.setenv(zoo.ALLOW_HUB_IDS_ENV, "1")
    loaded = zoo.load_model("timm/resnet18.a1_in1k", "random")
    assert loaded.source == "random" and sum(p.numel() for p in loaded.model.parameters()) == 11_689_512
    with pytest.raises(KeyError, match="no architecture"):
        zoo.get_entry("timm/not_a_real_net.tag")


def test_no_code_path_trusts_remote_code_or_unpickles_weights():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for path in [*root.glob("core/**/*.py"), *root.glob("apps/**/*.py")]:
        text = path.read_text()
        assert "trust_remote_code=True" not in text, path
        for line in text.splitlines():
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{path}: {line.strip()}"


def test_random_weights_are_the_same_in_every_process_and_leave_the_callers_rng_alone():
    """A random model is drawn from a seed fixed by its name: the pictures of an untrained model (and a
    link to them) do not change between processes or with what ran before, and the caller's random
    stream continues as if nothing had been drawn."""
    import subprocess
    import sys

    code = ("from core import zoo; m = zoo.load_model('resnet-shapes', 'random').model; "
            "print(float(sum(p.double().sum() for p in m.parameters())))")
    sums = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=str(zoo.ROOT) if hasattr(zoo, "ROOT") else None).stdout.strip()
            for _ in range(2)}
    assert len(sums) == 1
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    zoo.clear_cache()
    here = zoo.load_model("resnet-shapes", "random").model
    assert torch.equal(torch.rand(3), expected)
    assert float(sum(p.double().sum() for p in here.parameters())) == float(sums.pop())
    other = zoo.load_model("vit-shapes", "random").model
    assert not torch.equal(next(here.parameters()).flatten()[:8], next(other.parameters()).flatten()[:8])
