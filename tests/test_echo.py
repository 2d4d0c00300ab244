"""core.train.echo: per-image square symmetries and the data-echoing pool of the classifier training."""

from __future__ import annotations

import pytest
import torch

from core.train.echo import EchoPool, dihedral


def _symmetries(img: torch.Tensor) -> list[torch.Tensor]:
    """The 8 elements of the square's symmetry group applied to one (C, H, W) image."""
    out = []
    for flipped in (img, img.flip(-1)):
        out += [torch.rot90(flipped, k, dims=(-2, -1)) for k in range(4)]
    return out


def test_dihedral_maps_each_image_to_one_of_its_eight_symmetries_independently():
    gen = torch.Generator().manual_seed(0)
    x = torch.arange(64 * 2 * 5 * 5, dtype=torch.float32).reshape(64, 2, 5, 5)  # no symmetric image
    y = dihedral(x, gen)
    assert y.shape == x.shape
    seen = set()
    for i in range(len(x)):
        matches = [k for k, s in enumerate(_symmetries(x[i])) if torch.equal(s, y[i])]
        assert len(matches) == 1, i
        seen.add(matches[0])
    assert len(seen) == 8  # per image, not one transform for the whole batch (64 draws: P(miss) < 1e-3)
    assert torch.equal(dihedral(x, torch.Generator().manual_seed(0)), y)  # seeded: reproducible
    # channels last (how the training turns its uint8 images): the same transforms
    nhwc = dihedral(x.permute(0, 2, 3, 1), torch.Generator().manual_seed(0), dims=(1, 2))
    assert torch.equal(nhwc.permute(0, 3, 1, 2), y)


def test_dihedral_refuses_non_square_images():
    with pytest.raises(ValueError, match="square"):
        dihedral(torch.zeros(1, 3, 4, 5), torch.Generator())


def _batch(start: int, n: int = 4):
    images = torch.arange(start, start + n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 2, 2, 3).clone()
    labels = torch.arange(start, start + n) % 8
    logits = torch.nn.functional.one_hot(labels, 8).float() * (start + 1)
    return images, labels, logits


def test_echo_pool_keeps_the_most_recent_scenes_with_their_labels_and_logits():
    pool = EchoPool(capacity=10, image_shape=(2, 2, 3), n_classes=8)
    with pytest.raises(ValueError, match="empty"):
        pool.sample(1, torch.Generator())
    for start in (0, 4, 8):  # 12 scenes into 10 slots: scenes 0 and 1 are overwritten
        pool.add(*_batch(start))
    assert len(pool) == 10
    ids = sorted(int(v) for v in pool.images[:, 0, 0, 0])
    assert ids == list(range(2, 12))
    images, labels, logits = pool.sample(500, torch.Generator().manual_seed(1))
    scene = images[:, 0, 0, 0].long()
    assert set(scene.tolist()) == set(range(2, 12))  # uniform over what is kept (500 draws of 10)
    assert torch.equal(labels, scene % 8)  # each image still carries its own label …
    assert torch.equal(logits.argmax(-1), labels)  # … and its own teacher logits
    assert torch.equal(logits.max(-1).values, (scene // 4 * 4 + 1).float())


def test_echo_pool_without_teacher_logits_and_with_a_batch_too_large():
    pool = EchoPool(capacity=4, image_shape=(2, 2, 3), n_classes=8)
    images, labels, _ = _batch(0)
    pool.add(images, labels)
    assert torch.equal(pool.logits, torch.zeros(4, 8))
    with pytest.raises(ValueError, match="does not fit"):
        pool.add(*_batch(0, n=5))
    with pytest.raises(ValueError, match="positive"):
        EchoPool(0, (2, 2, 3), 8)
