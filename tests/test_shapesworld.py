"""ShapesWorld: determinism, and labels / boxes / masks / semantic map that agree with the pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.data.shapesworld import CLASSES, EVAL_STYLES, STYLES, TRAIN_STYLES, ShapesWorld, classify_batches
from core.zoo import SHAPE_CLASSES

CASES = [(mode, style) for mode in ("classify", "detect") for style in STYLES]


def test_classes_match_the_zoo_label_set():
    assert CLASSES == SHAPE_CLASSES
    assert CLASSES == ("circle", "square", "triangle", "pentagon", "hexagon", "star", "ring", "cross")


@pytest.mark.parametrize(("mode", "style"), CASES)
def test_deterministic_per_seed_and_index(mode, style):
    a = ShapesWorld(64, mode, seed=3, style=style)
    b = ShapesWorld(64, mode, seed=3, style=style)
    for i in (0, 7, 12345):
        sa, sb = a[i], b.scene(i)
        np.testing.assert_array_equal(sa.image, sb.image)
        np.testing.assert_array_equal(sa.labels, sb.labels)
        np.testing.assert_array_equal(sa.boxes, sb.boxes)
        np.testing.assert_array_equal(sa.masks, sb.masks)
    # order of access does not matter, other seeds and indices give other scenes
    np.testing.assert_array_equal(a[7].image, ShapesWorld(64, mode, seed=3, style=style)[7].image)
    assert not np.array_equal(a[0].image, a[1].image)
    assert not np.array_equal(a[0].image, ShapesWorld(64, mode, seed=4, style=style)[0].image)


@pytest.mark.parametrize(("mode", "style"), CASES)
def test_scene_fields_are_consistent(mode, style):
    world = ShapesWorld(80, mode, seed=11, style=style)
    for i in range(40):
        s = world[i]
        n = len(s.labels)
        assert s.image.shape == (80, 80, 3) and s.image.dtype == np.uint8
        assert s.labels.dtype == np.int64 and s.boxes.dtype == np.float32
        assert s.masks.shape == (n, 80, 80) and s.masks.dtype == bool
        assert s.semantic.shape == (80, 80) and s.semantic.dtype == np.int64
        assert n >= 1 and ((s.labels >= 0) & (s.labels < len(CLASSES))).all()
        if mode == "detect":
            assert 1 <= n <= 6
        # visible masks are disjoint and non-empty
        assert (s.masks.sum(axis=0) <= 1).all()
        assert s.masks.reshape(n, -1).any(axis=1).all()
        # semantic: 0 outside every mask, 1 + class on each mask
        expected = np.zeros((80, 80), dtype=np.int64)
        for m, c in zip(s.masks, s.labels, strict=True):
            expected[m] = c + 1
        np.testing.assert_array_equal(s.semantic, expected)
        # boxes: the tight box of each mask (pixel-edge xyxy), within ±1 px
        for m, box in zip(s.masks, s.boxes, strict=True):
            ys, xs = np.nonzero(m)
            tight = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float32)
            assert np.abs(box - tight).max() <= 1.0
            assert 0 <= box[0] < box[2] <= 80 and 0 <= box[1] < box[3] <= 80


def test_classify_mode_has_one_dominant_shape():
    world = ShapesWorld(96, "classify", seed=5)
    for i in range(60):
        s = world[i]
        areas = s.masks.reshape(len(s.labels), -1).sum(axis=1)
        # the label is object 0, clearly the largest visible object
        assert s.label == s.labels[0]
        assert areas[0] > 2 * areas[1:].max(initial=0)
        assert len(s.labels) <= 3


def test_all_classes_appear_roughly_uniformly():
    for mode in ("classify", "detect"):
        world = ShapesWorld(64, mode, seed=2)
        labels = [world[i].label for i in range(400)] if mode == "classify" else \
            np.concatenate([world[i].labels for i in range(150)])
        counts = np.bincount(labels, minlength=len(CLASSES))
        assert (counts > 0.4 * counts.mean()).all(), counts


def test_shapes_contrast_with_their_surroundings():
    """Inside each dominant shape, mean luminance differs clearly from a band just outside it."""
    world = ShapesWorld(96, "classify", seed=9, max_distractors=0)
    kernel = np.ones((5, 5), np.uint8)
    gaps = []
    for i in range(60):
        s = world[i]
        luma = cv2.cvtColor(s.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        inner = cv2.erode(s.masks[0].astype(np.uint8), kernel) > 0
        band = (cv2.dilate(s.masks[0].astype(np.uint8), kernel, iterations=2) > 0) & ~s.masks[0]
        if inner.sum() < 10:  # a thin outline: compare the stroke itself
            inner = s.masks[0]
        gaps.append(abs(luma[inner].mean() - luma[band].mean()))
    assert np.median(gaps) > 50 and np.min(gaps) > 15, (np.median(gaps), np.min(gaps))


def test_heldout_style_renders_differently():
    """The held-out style's shapes are hatched/checked: far more internal edges than training fills."""
    def inner_edge_density(style):
        world = ShapesWorld(96, "classify", seed=1, style=style, max_distractors=0, hollow_prob=0.0)
        dens = []
        for i in range(30):
            s = world[i]
            edges = cv2.Canny(s.image, 60, 150) > 0
            inner = cv2.erode(s.masks[0].astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
            if inner.sum() > 50:
                dens.append(edges[inner].mean())
        return float(np.mean(dens))

    assert inner_edge_density("heldout") > 3 * inner_edge_density("train")


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def test_style_sets_split_training_from_evaluation():
    assert set(TRAIN_STYLES) | set(EVAL_STYLES) == set(STYLES)
    assert not set(TRAIN_STYLES) & set(EVAL_STYLES)
    # the training styles draw no background of an evaluation family
    for style in EVAL_STYLES:
        for kind in {"heldout": ["dots"], "sketch": ["paper", "ruled", "graph"], "collage": []}[style]:
            with pytest.raises(ValueError, match="backgrounds"):
                ShapesWorld(64, style="diverse", backgrounds=[kind])


def test_sketch_style_is_dark_thin_strokes_on_light_paper():
    """Each shape is an outline of dark ink a few pixels wide; everything else is bright paper."""
    world = ShapesWorld(96, "classify", seed=4, style="sketch", max_distractors=0)
    for i in range(30):
        s = world[i]
        luma, stroke = _luma(s.image), s.masks[0]
        assert np.median(luma[~stroke]) > 180  # paper
        assert np.median(luma[stroke]) < np.median(luma[~stroke]) - 60  # ink
        # an outline: a thin band (few pixels from its edge), far fewer pixels than the area it spans
        depth = cv2.distanceTransform(stroke.astype(np.uint8), cv2.DIST_L2, 3)[stroke]
        assert np.percentile(depth, 90) <= 3.0, i  # a filled shape this large reaches 10+
        hull = cv2.convexHull(np.argwhere(stroke)[:, ::-1].astype(np.int32))
        assert stroke.sum() < 0.6 * cv2.contourArea(hull), i
        assert s.boxes[0, 2] - s.boxes[0, 0] > 0.3 * 96 * 0.9  # still the dominant, large shape


def test_sketch_strokes_are_hand_drawn_not_geometric():
    """Pen strokes wobble off the exact outline that the diverse style draws for the same geometry."""
    from core.data.shapesworld import _boundaries, _Shape, _sketch_coverage

    rng = np.random.default_rng(0)
    shape = _Shape(cls=1, cx=48, cy=48, r=30, theta=0.3, hollow=False, thickness=1, aa=True, aux=0.0,
                   outline=True)
    from core.data.shapesworld import _coverage

    exact = _coverage(shape, 96) >= 128
    dist = cv2.distanceTransform((~exact).astype(np.uint8), cv2.DIST_L2, 3)
    off_line, furthest = [], []
    for _ in range(8):
        off = dist[_sketch_coverage(rng, shape, 96, 1) >= 128]
        assert np.median(off) < 1.5  # the drawing follows the square...
        off_line.append(np.mean(off > 0))
        furthest.append(off.max())
    # ...but wobble and corner overshoot leave the geometric line (a geometric 1-px stroke: 0 and 0)
    assert np.mean(off_line) > 0.3 and max(furthest) > 2.0, (off_line, furthest)
    corners = _boundaries(shape)[0]
    assert len(corners) == 4


def test_ring_outline_is_two_circles_and_circle_outline_one():
    from core.data.shapesworld import _coverage, _Shape

    for cls, loops in ((0, 1), (6, 2)):
        shape = _Shape(cls=cls, cx=48, cy=48, r=30, theta=0.0, hollow=False, thickness=2, aa=True, aux=0.5,
                       outline=True)
        mask = (_coverage(shape, 96) >= 128).astype(np.uint8)
        n, _ = cv2.connectedComponents(mask)
        assert n - 1 == loops, cls


def test_collage_pieces_are_photo_textured():
    """Collage fills carry photo texture, unlike the flat, gradient or smooth-noise training fills."""
    collage = ShapesWorld(96, "classify", seed=6, style="collage", max_distractors=0)
    train = ShapesWorld(96, "classify", seed=6, style="train", max_distractors=0, hollow_prob=0.0)

    def inner_std(world):
        out = []
        for i in range(30):
            s = world[i]
            inner = cv2.erode(s.masks[0].astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
            if inner.sum() > 50:
                out.append(_luma(s.image)[inner].std())
        return float(np.median(out))

    assert inner_std(collage) > 2 * inner_std(train)


def test_scene_fills_put_a_synthetic_scene_inside_the_shapes_of_diverse_only():
    """``scene_fills``: fills with edges inside (another 'train' scene, tinted), never a photo piece."""
    with pytest.raises(ValueError, match="diverse"):
        ShapesWorld(64, "classify", style="train", scene_fills=0.3)
    with pytest.raises(ValueError, match="share"):
        ShapesWorld(64, "classify", style="diverse", scene_fills=1.5)
    filled = ShapesWorld(96, "classify", seed=6, style="diverse", max_distractors=0, scene_fills=1.0)
    plain = ShapesWorld(96, "classify", seed=6, style="diverse", max_distractors=0)
    assert np.array_equal(filled[3].image, ShapesWorld(96, "classify", seed=6, style="diverse",
                                                       max_distractors=0, scene_fills=1.0)[3].image)

    def inner_edges(world):
        """Median share of a dominant shape's inside with a strong edge once the pixel noise is blurred
        away (the style's own textures are smooth value noise: no such edges)."""
        out = []
        for i in range(30):
            s = world[i]
            inner = cv2.erode(s.masks[0].astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
            if inner.sum() > 50:
                luma = cv2.GaussianBlur(_luma(s.image).astype(np.float32), (0, 0), 1.5)
                grad = np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))
                out.append((grad[inner] > 40).mean())
        return float(np.median(out))

    assert inner_edges(filled) > 0.05 and inner_edges(plain) < 0.01


def test_diverse_style_adds_outlines_and_recolourings_to_training():
    """'diverse' keeps the training geometry but draws some shapes as outlines and recolours images."""
    diverse = ShapesWorld(64, "classify", seed=8, style="diverse", max_distractors=0)
    train = ShapesWorld(64, "classify", seed=8, style="train", max_distractors=0)
    outline = grey = 0
    for i in range(200):
        s = diverse[i]
        filled = np.zeros((64, 64), np.uint8)
        contours, _ = cv2.findContours(s.masks[0].astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(filled, contours, -1, 1, -1)
        outline += s.masks[0].sum() < 0.4 * filled.sum() and s.label not in (6,)
        grey += float(np.abs(s.image.astype(int) - s.image.mean(axis=-1, keepdims=True)).max()) < 12
    assert 0.15 < outline / 200 < 0.45, outline
    assert grey > 0
    assert not np.array_equal(diverse[0].image, train[0].image)


def test_batches_for_torch():
    import torch

    world = ShapesWorld(48, "classify", seed=0)
    x, y = world.batch(range(4))
    assert x.shape == (4, 3, 48, 48) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    np.testing.assert_array_equal(y.numpy(), [world[i].label for i in range(4)])
    batches = list(classify_batches(world, 3, start=10, steps=2))
    assert len(batches) == 2
    np.testing.assert_array_equal(batches[1][1].numpy(), [world[i].label for i in range(13, 16)])
    xd, targets = ShapesWorld(48, "detect", seed=0).detection_batch([0, 1])
    assert xd.shape == (2, 3, 48, 48) and targets[0]["masks"].dtype == torch.bool
    assert targets[0]["boxes"].shape == (len(targets[0]["labels"]), 4)


def test_options_are_validated():
    with pytest.raises(ValueError, match="mode"):
        ShapesWorld(mode="segment")
    with pytest.raises(ValueError, match="style"):
        ShapesWorld(style="test")
    with pytest.raises(ValueError, match="min_objects"):
        ShapesWorld(mode="detect", min_objects=3, max_objects=2)
    world = ShapesWorld(64, "detect", seed=0, classes=[0, 6], min_objects=3, max_objects=3)
    labels = np.concatenate([world[i].labels for i in range(20)])
    assert set(labels.tolist()) == {0, 6}


def test_scenes_are_frozen():
    """The embedded models' cards reproduce only if scenes never change: guard the exact pixels."""
    import hashlib

    for mode, expected in (("classify", "22910fb6414454f0"), ("detect", "49e6a80e92860278")):
        world = ShapesWorld(64, mode, seed=0)
        digest = hashlib.sha256()
        for i in range(4):
            s = world[i]
            digest.update(s.image.tobytes())
            digest.update(s.labels.tobytes())
            digest.update(s.masks.tobytes())
        assert digest.hexdigest()[:16] == expected, mode


def test_background_families_can_be_restricted():
    world = ShapesWorld(64, "classify", seed=0, backgrounds=["flat"], max_distractors=0)
    for i in range(10):
        s = world[i]
        outside = s.image[~s.masks[0]].astype(float)
        assert outside.std(axis=0).max() < 12  # flat colour plus mild sensor noise
    with pytest.raises(ValueError, match="backgrounds"):
        ShapesWorld(64, backgrounds=["dots"])  # a held-out family is not a training background


def test_two_colour_fill_on_a_saturated_background_does_not_fail():
    """Regression: asking for a colour lighter than a white background has no candidate; fall back."""
    world = ShapesWorld(32, "classify", seed=0)
    rng = np.random.default_rng(0)
    white = np.full((50, 3), 255.0, dtype=np.float32)
    colour = world._contrasting(rng, white, like=np.array([250.0, 250.0, 250.0], dtype=np.float32))
    assert colour.shape == (3,) and np.isfinite(colour).all()
