"""ShapesWorld: seeded synthetic scenes of eight shape classes with labels, boxes and masks.

Every embedded LensLab model is trained on ShapesWorld, so the generator has to teach *shape*, not
renderer artefacts. Each scene varies size, rotation, position, colour, fill (solid, gradient, noisy),
outline (hollow stroke, bordered fill), antialiasing, background (flat, gradients, smooth noise,
stripes/checks, crops of the bundled photos) and occlusion; the colour of every shape is chosen to
contrast in luminance with the background under it, so a shape is always visible.

Styles (render families):

* ``"train"`` — the family above; the scenes of the detector, PointRend and diffusion trainings.
* ``"diverse"`` — the classifiers' training style: ``"train"`` plus thin geometric outlines of every
  class (one stroke along the region's boundary: a ring is two concentric circles), strong synthetic
  texture fills (value noise over four octaves), photo backgrounds up to full contrast, and
  whole-image recolourings that keep the luminance structure or flip it (negative, grey, duotone
  ramps, YIQ hue rotation, contrast fades) with heavier noise and blur.
* ``"heldout"`` — hatched and checked fills on dotted, woven or tiled backgrounds.
* ``"sketch"`` — hand-drawn pen or pencil outlines on paper: each edge a separate wobbly stroke that
  overshoots its corners, one or two passes, dark ink on off-white paper that is plain, ruled (with a
  margin line) or squared, with grain and uneven lighting.
* ``"collage"`` — shapes cut out of photos (a photo crop tinted to contrast with what is under it),
  pasted over a full-contrast photo with a drop shadow and often a paper-white rim.

The last three are never used in training (no trainer renders them, and ``"diverse"`` draws none of
their elements: no hatching, dots, weave, tiles, paper, ruling, wobbly or overshooting strokes,
photo-textured fills, shadows or rims; the one element shared is the bundled photos as backgrounds,
which "diverse" and "train" also use), so a classifier's accuracy on them measures generalisation
to render families it never saw.

A scene is a pure function of ``(seed, index)`` (and the constructor's options): ``world[i]`` always
returns the same pixels. Rendering uses numpy and OpenCV only; a 96-px scene takes about a millisecond.

Conventions
-----------
* ``labels`` index :data:`CLASSES`; in ``mode="classify"`` object 0 is the dominant shape (the label
  of the scene, :attr:`Scene.label`), the others are small distractors.
* ``masks`` are the *visible* pixels of each object after occlusion by the objects drawn above it (the
  pixels where the object's coverage is at least one half and no later object covers them).
* ``boxes`` are ``xyxy`` in pixel-edge coordinates: the tight box of the mask, ``x1 = min col`` and
  ``x2 = max col + 1`` (so ``x2 - x1`` is the width in pixels).
* ``semantic`` is 0 for background and ``1 + class id`` on each object's mask.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "CLASSES",
    "MODES",
    "STYLES",
    "Scene",
    "ShapesWorld",
    "classify_batches",
    "to_tensor",
]

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "ring", "cross")
MODES = ("classify", "detect")
STYLES = ("train", "heldout", "diverse", "sketch", "collage")
TRAIN_STYLES = ("train", "diverse")  # the only styles any trainer renders
EVAL_STYLES = ("heldout", "sketch", "collage")  # render families kept out of training
IMAGES_DIR = Path(__file__).resolve().parents[2] / "assets" / "images"

_SHIFT = 4  # OpenCV sub-pixel bits for polygon and circle vertices
_ONE = 1 << _SHIFT
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass
class Scene:
    """One rendered scene (see the module docstring for the conventions)."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    labels: np.ndarray  # (N,) int64
    boxes: np.ndarray  # (N, 4) float32 xyxy
    masks: np.ndarray  # (N, H, W) bool, visible part
    semantic: np.ndarray  # (H, W) int64
    index: int = 0
    mode: str = "classify"
    style: str = "train"

    @property
    def label(self) -> int:
        """The class of the dominant shape (object 0) — the scene's label in classify mode."""
        return int(self.labels[0])

    @property
    def names(self) -> list[str]:
        return [CLASSES[i] for i in self.labels]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class _Shape:
    cls: int
    cx: float
    cy: float
    r: float
    theta: float
    hollow: bool  # drawn as a stroke only
    thickness: int  # stroke width when hollow or bordered
    aa: bool  # antialiased edges
    aux: float  # class-specific: star inner ratio, ring hole ratio, cross arm half-width
    cover: np.ndarray | None = None  # (H, W) uint8 coverage 0..255
    outline: bool = False  # 'diverse' style: a thin stroke along the region's whole boundary


class ShapesWorld:
    """A deterministic, indexable stream of ShapesWorld scenes.

    Args:
        size: image side in pixels (scenes are square).
        mode: ``"classify"`` (one dominant shape, optional small distractors) or ``"detect"``
            (``min_objects``..``max_objects`` shapes of similar scale, for detection and segmentation).
        seed: the world's seed; scene ``i`` depends only on ``(seed, i)`` and the options below.
        style: one of :data:`STYLES` (see the module docstring); ``"heldout"``, ``"sketch"`` and
            ``"collage"`` are render families never used in training.
        min_objects, max_objects: object count range in detect mode.
        max_distractors: in classify mode, up to this many small distractor shapes (0 disables).
        classes: restrict to these class ids (default: all eight).
        hollow_prob: probability that a (non circle/ring) shape is drawn as an outline only.
        backgrounds: restrict the background families (train and diverse styles: ``flat linear radial
            noise stripes photo``; held-out style: ``dots woven tiles``; sketch: ``paper ruled graph``;
            collage: ``photo``), e.g. for an easy first phase of training.
        length: ``len(world)``, for samplers and data loaders; indexing is not limited by it.
        scene_fills: 'diverse' style only: the share of shapes filled with another ShapesWorld scene
            (style 'train' on flat, gradient or noise backgrounds, tinted to contrast): fills with
            edges and shapes inside them, so a classifier learns that the outline names the class.
    """

    def __init__(self, size: int = 96, mode: str = "classify", seed: int = 0, style: str = "train",
                 min_objects: int = 1, max_objects: int = 6, max_distractors: int = 2,
                 classes: Sequence[int] | None = None, hollow_prob: float = 0.2,
                 backgrounds: Sequence[str] | None = None, length: int = 1_000_000,
                 scene_fills: float = 0.0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, not {style!r}")
        if size < 24:
            raise ValueError(f"size must be at least 24 pixels, not {size}")
        if not 1 <= min_objects <= max_objects:
            raise ValueError(f"need 1 <= min_objects <= max_objects, got {min_objects}, {max_objects}")
        if seed < 0:
            raise ValueError("seed must be non-negative")
        self.size = int(size)
        self.mode = mode
        self.seed = int(seed)
        self.style = style
        self.min_objects = int(min_objects)
        self.max_objects = int(max_objects)
        self.max_distractors = int(max_distractors)
        self.classes = tuple(range(len(CLASSES))) if classes is None else tuple(int(c) for c in classes)
        if not self.classes or not all(0 <= c < len(CLASSES) for c in self.classes):
            raise ValueError(f"classes must be ids in 0..{len(CLASSES) - 1}")
        self.hollow_prob = float(hollow_prob)
        family = _BACKGROUNDS[style]
        self.backgrounds = family if backgrounds is None else tuple(backgrounds)
        if not self.backgrounds or not set(self.backgrounds) <= set(family):
            raise ValueError(f"backgrounds for style {style!r} must be among {sorted(set(family))}")
        self.length = int(length)
        if scene_fills and style != "diverse":
            raise ValueError("scene_fills is an option of style 'diverse' only")
        if not 0.0 <= scene_fills <= 1.0:
            raise ValueError(f"scene_fills must be a share in [0, 1], not {scene_fills}")
        self.scene_fills = float(scene_fills)
        yy, xx = np.mgrid[0:self.size, 0:self.size].astype(np.float32)
        self._grid = (xx, yy)

    # ------------------------------------------------------------------------------------------ #
    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Scene:
        return self.scene(index)

    def __iter__(self) -> Iterator[Scene]:
        for i in range(self.length):
            yield self.scene(i)

    def scene(self, index: int) -> Scene:
        """Render scene ``index`` (deterministic for this world's seed and options)."""
        index = int(index)
        if index < 0:
            raise IndexError("scene index must be non-negative")
        rng = np.random.default_rng([self.seed, index, MODES.index(self.mode), STYLES.index(self.style)])
        shapes = self._plan(rng)
        background = self._background(rng)
        if self.style == "sketch":
            image, owner = self._render_sketch(rng, background, shapes)
        elif self.style == "collage":
            image, owner = self._render_collage(rng, background, shapes)
        else:
            image, owner = self._render(rng, background, shapes)
        if self.style == "diverse":
            image = self._restyle(rng, image)
        return self._finish(image, owner, shapes, index)

    def images_labels(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(B, H, W, 3)`` uint8 images and ``(B,)`` int64 scene labels (dominant class) for indices."""
        scenes = [self.scene(i) for i in indices]
        images = np.stack([s.image for s in scenes])
        labels = np.array([s.label for s in scenes], dtype=np.int64)
        return images, labels

    def batch(self, indices: Sequence[int], mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
        """Torch tensors for classification: ``x`` (B, 3, H, W) float normalised, ``y`` (B,) int64."""
        import torch

        images, labels = self.images_labels(indices)
        return to_tensor(images, mean, std), torch.from_numpy(labels)

    def detection_batch(self, indices: Sequence[int], mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
        """``x`` (B, 3, H, W) and a list of target dicts (``boxes``, ``labels``, ``masks`` tensors)."""
        import torch

        scenes = [self.scene(i) for i in indices]
        x = to_tensor(np.stack([s.image for s in scenes]), mean, std)
        targets = [
            {
                "boxes": torch.from_numpy(s.boxes),
                "labels": torch.from_numpy(s.labels),
                "masks": torch.from_numpy(s.masks),
                "semantic": torch.from_numpy(s.semantic),
            }
            for s in scenes
        ]
        return x, targets

    # ------------------------------------------------------------------------------------------ #
    # planning: geometry first, so occlusion can be controlled before any colour is chosen

    def _plan(self, rng: np.random.Generator) -> list[_Shape]:
        s = self.size
        shapes: list[_Shape] = []
        if self.mode == "classify":
            dominant = self._new_shape(rng, rng.uniform(0.2, 0.42) * s, dominant=True)
            shapes.append(dominant)
            n_extra = int(rng.integers(0, self.max_distractors + 1)) if self.max_distractors > 0 else 0
            for _ in range(n_extra):
                for _attempt in range(6):
                    small = self._new_shape(rng, rng.uniform(0.05, 0.1) * s, dominant=False)
                    # the dominant shape is drawn first (below every distractor); this draw only
                    # orders the distractors among themselves
                    last = bool(rng.random() < 0.5)
                    trial = [*shapes, small] if last else [shapes[0], small, *shapes[1:]]
                    # keep the dominant shape almost whole, every distractor mostly visible
                    need = {id(dominant): 0.9}
                    if _visible_enough(trial, need, default=0.6):
                        shapes = trial
                        break
            return shapes
        n = int(rng.integers(self.min_objects, self.max_objects + 1))
        lo, hi = (0.08, 0.22) if n > 2 else (0.1, 0.3)
        for _ in range(n):
            for _attempt in range(10):
                shape = self._new_shape(rng, rng.uniform(lo, hi) * s, dominant=False)
                trial = [*shapes, shape]
                if _visible_enough(trial, {}, default=0.5):
                    shapes = trial
                    break
        if not shapes:  # cannot happen for one object, but be explicit
            raise RuntimeError("could not place any object")
        return shapes

    def _new_shape(self, rng: np.random.Generator, r: float, dominant: bool) -> _Shape:
        s = self.size
        cls = int(self.classes[int(rng.integers(len(self.classes)))])
        margin = 1.5
        r = min(r, s / 2 - margin - 1)
        cx = rng.uniform(r + margin, s - r - margin)
        cy = rng.uniform(r + margin, s - r - margin)
        theta = rng.uniform(0, 2 * math.pi)
        hollowable = cls not in (0, 6) and r >= 6
        hollow = bool(hollowable and rng.random() < self.hollow_prob)
        thickness = int(max(2, round(r * rng.uniform(0.12, 0.25)))) if hollow else int(rng.integers(1, 3))
        aux_range = _AUX_RANGE.get(cls)
        aux = rng.uniform(*aux_range) if aux_range else 0.0
        shape = _Shape(cls, cx, cy, r, theta, hollow, thickness, bool(rng.random() < 0.8), float(aux))
        if self.style == "diverse" and r >= 5 and rng.random() < _OUTLINE_PROB:
            shape.hollow, shape.outline = False, True
            shape.thickness = int(max(1, round(s / 96 * rng.uniform(0.8, 2.6))))
        shape.cover = _coverage(shape, s)
        return shape

    # ------------------------------------------------------------------------------------------ #
    # backgrounds

    def _background(self, rng: np.random.Generator) -> np.ndarray:
        kinds = self.backgrounds
        kind = kinds[int(rng.integers(len(kinds)))]
        bg = getattr(self, f"_bg_{kind}")(rng)
        return np.clip(bg, 0, 255).astype(np.float32)

    def _colour(self, rng: np.random.Generator, sat=(0.0, 1.0), val=(0.1, 1.0)) -> np.ndarray:
        h = rng.uniform(0, 180)
        sv = [rng.uniform(*sat) * 255, rng.uniform(*val) * 255]
        hsv = np.array([[[h, *sv]]], dtype=np.float32)
        return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)

    def _bg_flat(self, rng):
        return np.broadcast_to(self._colour(rng), (self.size, self.size, 3)).copy()

    def _bg_linear(self, rng):
        xx, yy = self._grid
        a = rng.uniform(0, 2 * math.pi)
        t = (xx * math.cos(a) + yy * math.sin(a))
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
        c0, c1 = self._colour(rng), self._colour(rng)
        return c0 + (c1 - c0) * t[..., None]

    def _bg_radial(self, rng):
        xx, yy = self._grid
        cx, cy = rng.uniform(0, self.size, 2)
        t = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / (self.size * rng.uniform(0.6, 1.4))
        t = np.clip(t, 0, 1)
        c0, c1 = self._colour(rng), self._colour(rng)
        return c0 + (c1 - c0) * t[..., None]

    def _bg_noise(self, rng):
        cells = int(rng.integers(3, 12))
        small = rng.uniform(-1, 1, (cells, cells, 1)).astype(np.float32)
        field = cv2.resize(small, (self.size, self.size), interpolation=cv2.INTER_CUBIC)[..., None]
        base, tint = self._colour(rng, val=(0.2, 0.9)), self._colour(rng)
        amp = rng.uniform(15, 45)
        grain = rng.normal(0, rng.uniform(0, 8), (self.size, self.size, 1)).astype(np.float32)
        return base + amp * field * (tint / 255.0 * 2 - 0.5) + grain

    def _bg_stripes(self, rng):
        xx, yy = self._grid
        a = rng.uniform(0, math.pi)
        period = rng.uniform(6, 24)
        u = (xx * math.cos(a) + yy * math.sin(a)) / period
        if rng.random() < 0.5:
            t = 0.5 + 0.5 * np.sin(2 * math.pi * u)
        else:  # checks
            v = (-xx * math.sin(a) + yy * math.cos(a)) / period
            t = ((np.floor(u) + np.floor(v)) % 2).astype(np.float32)
        c0 = self._colour(rng)
        c1 = c0 + rng.uniform(-40, 40, 3).astype(np.float32)  # low contrast: texture, not shapes
        return c0 + (c1 - c0) * t[..., None]

    def _bg_photo(self, rng):
        photos = _photos()
        photo = photos[int(rng.integers(len(photos)))]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(h, w) // 4, min(h, w) + 1))
        y0, x0 = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = photo[y0:y0 + side, x0:x0 + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        bg = cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.float32)
        mean = bg.mean(axis=(0, 1), keepdims=True)
        # tame the photo so it stays a background (a collage pastes its pieces over the photo as it is)
        keep = rng.uniform(*_PHOTO_KEEP.get(self.style, (0.3, 0.8)))
        return mean + (bg - mean) * keep

    # held-out backgrounds: dot lattices, woven bands, tiles — none of these families occur in training
    def _bg_dots(self, rng):
        xx, yy = self._grid
        period = rng.uniform(5, 12)
        a = rng.uniform(0, math.pi / 2)
        u = (xx * math.cos(a) + yy * math.sin(a)) / period
        v = (-xx * math.sin(a) + yy * math.cos(a)) / period
        d = np.sqrt((u - np.round(u)) ** 2 + (v - np.round(v)) ** 2)
        t = (d < rng.uniform(0.15, 0.3)).astype(np.float32)
        c0 = self._colour(rng)
        c1 = c0 + rng.choice([-1, 1]) * rng.uniform(25, 50)
        return c0 + (c1 - c0) * t[..., None]

    def _bg_woven(self, rng):
        xx, yy = self._grid
        period = rng.uniform(6, 14)
        a = (np.floor(xx / period) + np.floor(yy / period)) % 2
        phase_x = np.sin(2 * math.pi * yy / (period / 2))
        phase_y = np.sin(2 * math.pi * xx / (period / 2))
        t = np.where(a > 0, phase_x, phase_y) * 0.5 + 0.5
        c0 = self._colour(rng)
        c1 = c0 + rng.uniform(-45, 45, 3).astype(np.float32)
        return c0 + (c1 - c0) * t[..., None]

    def _bg_tiles(self, rng):
        xx, yy = self._grid
        period = rng.uniform(10, 24)
        ix, iy = np.floor(xx / period).astype(int), np.floor(yy / period).astype(int)
        n = int(self.size / period) + 2
        shades = rng.uniform(-30, 30, (n, n, 3)).astype(np.float32)
        grout = ((xx % period) < 1) | ((yy % period) < 1)
        base = self._colour(rng)
        bg = base + shades[iy, ix]
        bg[grout] = base * 0.7
        return bg

    # sketch backgrounds: paper — plain, ruled (with a margin line) or squared; never used in training
    def _bg_paper(self, rng):
        s = self.size
        xx, yy = self._grid
        tint = np.array([[[rng.uniform(12, 32), rng.uniform(0, 0.12) * 255, rng.uniform(0.86, 0.99) * 255]]])
        base = cv2.cvtColor(tint.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)
        a = rng.uniform(0, 2 * math.pi)
        light = (xx * math.cos(a) + yy * math.sin(a)) / s  # uneven lighting across the sheet
        light = (light - light.min()) * rng.uniform(0, 22)
        cells = int(rng.integers(4, 10))
        fibres = cv2.resize(rng.uniform(-1, 1, (cells, cells)).astype(np.float32), (s, s),
                            interpolation=cv2.INTER_CUBIC) * rng.uniform(2, 6)
        grain = rng.normal(0, rng.uniform(1.5, 4), (s, s)).astype(np.float32)
        return base - (light - fibres - grain)[..., None]

    def _ruling(self, u: np.ndarray, period: float, colour: np.ndarray, strength: float, paper: np.ndarray):
        """Thin printed lines where ``u`` (in line periods) is near an integer, blended into ``paper``."""
        d = np.abs(u - np.round(u)) * period
        t = np.clip(1.0 - d / (0.45 * max(1.0, self.size / 96)), 0, 1)[..., None] * strength
        return paper * (1 - t) + colour * t

    def _bg_ruled(self, rng):
        s = self.size
        paper = self._bg_paper(rng)
        xx, yy = self._grid
        a = rng.uniform(-0.12, 0.12)
        period = s / 96 * rng.uniform(7, 12)
        u = (yy * math.cos(a) - xx * math.sin(a)) / period + rng.uniform(0, 1)
        blue = np.array([rng.uniform(120, 170), rng.uniform(160, 200), rng.uniform(210, 240)], np.float32)
        paper = self._ruling(u, period, blue, rng.uniform(0.4, 0.8), paper)
        if rng.random() < 0.6:  # the red margin line
            x0 = rng.uniform(0.06, 0.22) * s
            v = (xx * math.cos(a) + yy * math.sin(a) - x0) / period
            d = np.abs(v) * period
            t = np.clip(1.0 - d / (0.6 * max(1.0, s / 96)), 0, 1)[..., None] * rng.uniform(0.4, 0.7)
            paper = paper * (1 - t) + np.array([225, 120, 120], np.float32) * t
        return paper

    def _bg_graph(self, rng):
        s = self.size
        paper = self._bg_paper(rng)
        xx, yy = self._grid
        a = rng.uniform(-0.12, 0.12)
        period = s / 96 * rng.uniform(5, 10)
        colour = [np.array([140, 180, 225], np.float32), np.array([150, 200, 160], np.float32),
                  np.array([170, 170, 170], np.float32)][int(rng.integers(3))]
        strength = rng.uniform(0.3, 0.6)
        u = (yy * math.cos(a) - xx * math.sin(a)) / period + rng.uniform(0, 1)
        v = (xx * math.cos(a) + yy * math.sin(a)) / period + rng.uniform(0, 1)
        paper = self._ruling(u, period, colour, strength, paper)
        return self._ruling(v, period, colour, strength, paper)

    # ------------------------------------------------------------------------------------------ #
    # rendering

    def _render(self, rng: np.random.Generator, bg: np.ndarray, shapes: list[_Shape]):
        image = bg.copy()
        owner = np.full((self.size, self.size), -1, dtype=np.int64)
        for k, shape in enumerate(shapes):
            cover = shape.cover
            assert cover is not None
            alpha = cover.astype(np.float32)[..., None] / 255.0
            sel = cover >= 128
            under = image[sel] if sel.any() else image.reshape(-1, 3)
            base = self._contrasting(rng, under)
            fill = self._fill(rng, shape, base, under)
            image = image * (1 - alpha) + fill * alpha
            if not shape.hollow and shape.cls not in (6,) and not shape.outline and rng.random() < 0.3:
                border_cover = _border(shape, self.size)
                b_alpha = border_cover.astype(np.float32)[..., None] / 255.0
                border_colour = self._contrasting(rng, under)
                image = image * (1 - b_alpha) + border_colour * b_alpha
                cover = np.maximum(cover, border_cover)
                shape.cover = cover
                sel = cover >= 128
            owner[sel] = k
        return _degrade(rng, image), owner

    def _render_sketch(self, rng: np.random.Generator, bg: np.ndarray, shapes: list[_Shape]):
        """Pen or pencil outlines on paper: one pen per drawing, each shape drawn stroke by stroke."""
        s = self.size
        image = bg.copy()
        owner = np.full((s, s), -1, dtype=np.int64)
        inks = ((20, 20, 28), (28, 42, 125), (62, 62, 68), (120, 22, 28), (22, 70, 40))
        ink = np.array(inks[int(rng.integers(len(inks)))], np.float32)
        ink = ink + rng.uniform(-10, 10, 3).astype(np.float32)
        width = int(max(1, round(s / 96 * rng.uniform(0.9, 2.2))))
        pencil = rng.random() < 0.4
        for k, shape in enumerate(shapes):
            cover = _sketch_coverage(rng, shape, s, width)
            shape.cover = cover
            alpha = cover.astype(np.float32)[..., None] / 255.0
            if pencil:  # graphite leaves a grainy, lighter line
                alpha = alpha * rng.uniform(0.55, 1.0, (s, s, 1)).astype(np.float32)
            image = image * (1 - alpha) + ink * alpha
            owner[cover >= 128] = k
        return _degrade(rng, image), owner

    def _render_collage(self, rng: np.random.Generator, bg: np.ndarray, shapes: list[_Shape]):
        """Pieces cut out of photos, tinted to contrast, pasted with a drop shadow and maybe a white rim."""
        s = self.size
        image = bg.copy()
        owner = np.full((s, s), -1, dtype=np.int64)
        light = rng.uniform(0, 2 * math.pi)  # one light for the whole table
        for k, shape in enumerate(shapes):
            if shape.hollow:  # a cut-out piece is solid
                shape.hollow = False
                shape.cover = _coverage(shape, s)
            cover = shape.cover
            assert cover is not None
            piece = cover
            if rng.random() < 0.6:
                t = int(max(1, round(s / 96 * rng.uniform(1.0, 2.2))))
                disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * t + 1, 2 * t + 1))
                piece = cv2.dilate(cover, disc)
            off = s * rng.uniform(0.015, 0.04)
            shift = np.float32([[1, 0, off * math.cos(light)], [0, 1, off * math.sin(light)]])
            shadow = cv2.warpAffine(piece.astype(np.float32) / 255.0, shift, (s, s))
            shadow = cv2.GaussianBlur(shadow, (0, 0), s / 96 * rng.uniform(0.8, 2.0))
            image = image * (1 - rng.uniform(0.35, 0.6) * shadow[..., None])
            sel = cover >= 128
            under = image[sel] if sel.any() else image.reshape(-1, 3)
            base = self._contrasting(rng, under)
            texture = self._photo_crop(rng)
            fill = base + (texture - texture.mean(axis=(0, 1), keepdims=True)) * rng.uniform(0.5, 0.9)
            rim = np.full(3, rng.uniform(228, 252), np.float32) + rng.uniform(-6, 6, 3).astype(np.float32)
            a_piece = piece.astype(np.float32)[..., None] / 255.0
            a_cover = cover.astype(np.float32)[..., None] / 255.0
            image = image * (1 - a_piece) + rim * a_piece
            image = image * (1 - a_cover) + fill * a_cover
            shape.cover = piece
            owner[piece >= 128] = k
        return _degrade(rng, image), owner

    def _photo_crop(self, rng: np.random.Generator) -> np.ndarray:
        """A random square crop of a bundled photo, resized to the scene (float RGB)."""
        photos = _photos()
        photo = photos[int(rng.integers(len(photos)))]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(h, w) // 5, min(h, w) // 2 + 1))
        y0, x0 = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = photo[y0:y0 + side, x0:x0 + side]
        return cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.float32)

    def _restyle(self, rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
        """'diverse' style: a whole-image recolouring, maybe a negative, a fade, blur and heavy noise."""
        img = image.astype(np.float32)
        kind = rng.random()
        if kind < 0.12:  # grey
            img = np.repeat((img @ _LUMA)[..., None], 3, axis=-1)
        elif kind < 0.3:  # duotone: luminance mapped onto a ramp between two contrasting colours
            for _ in range(20):
                c0, c1 = self._colour(rng), self._colour(rng)
                if abs(float((c1 - c0) @ _LUMA)) >= 120:
                    break
            else:
                c0, c1 = np.zeros(3, np.float32), np.full(3, 255.0, np.float32)
            img = c0 + (c1 - c0) * (img @ _LUMA)[..., None] / 255.0
        elif kind < 0.5:  # YIQ hue rotation and saturation change: luminance (Y) is unchanged
            yiq = img @ _RGB2YIQ.T
            a, sat = rng.uniform(0, 2 * math.pi), rng.uniform(0.4, 1.8)
            rot = np.array([[1, 0, 0], [0, math.cos(a) * sat, -math.sin(a) * sat],
                            [0, math.sin(a) * sat, math.cos(a) * sat]], np.float32)
            img = yiq @ rot.T @ np.linalg.inv(_RGB2YIQ).T.astype(np.float32)
        if rng.random() < 0.3:  # negative
            img = 255.0 - img
        if rng.random() < 0.2:  # faded contrast
            m = img.mean(axis=(0, 1), keepdims=True)
            img = m + (img - m) * rng.uniform(0.5, 0.8)
        if rng.random() < 0.2:
            img = cv2.GaussianBlur(img, (0, 0), self.size / 96 * rng.uniform(0.7, 1.4))
        if rng.random() < 0.35:
            img = img + rng.normal(0, rng.uniform(6, 22), img.shape).astype(np.float32)
        return np.clip(img + 0.5, 0, 255).astype(np.uint8)

    def _contrasting(self, rng: np.random.Generator, under: np.ndarray, like: np.ndarray | None = None):
        """A colour whose luminance differs clearly from the pixels it will cover.

        With ``like``, the colour is on the same side (darker or lighter) as ``like``, so a two-colour
        fill never averages out to the background's luminance.
        """
        luma_under = under.astype(np.float32) @ _LUMA
        ref = float(np.median(luma_under))
        spread = float(np.percentile(luma_under, 90) - np.percentile(luma_under, 10))
        need = 70.0 + 0.5 * spread
        side = None if like is None else float(like @ _LUMA) > ref
        best, best_gap = None, -math.inf
        for _ in range(24):
            c = self._colour(rng)
            signed = float(c @ _LUMA) - ref
            gap = abs(signed) if side is None else (signed if side else -signed)
            if gap >= need:
                return c
            if gap > best_gap:
                best, best_gap = c, gap
        # no random colour was far enough: push the best one towards black or white
        assert best is not None
        lighter = ref <= 127 if side is None else side
        target = 255.0 if lighter else 0.0
        return best + (target - best) * 0.7

    def _fill(self, rng: np.random.Generator, shape: _Shape, base: np.ndarray, under: np.ndarray):
        """The colour field a shape is painted with (broadcastable to the image)."""
        xx, yy = self._grid
        if self.scene_fills and rng.random() < self.scene_fills:
            return self._scene_texture(rng, base)
        if self.style == "diverse" and rng.random() < _TEXTURE_PROB:
            return self._texture(rng, base)
        if self.style == "heldout":
            second = self._contrasting(rng, under, like=base)
            # hatching (parallel bars) or checks inside the shape — never used in training
            a = rng.uniform(0, math.pi)
            period = rng.uniform(3, 6)
            u = ((xx - shape.cx) * math.cos(a) + (yy - shape.cy) * math.sin(a)) / period
            if rng.random() < 0.6:
                t = (u - np.floor(u) < 0.5).astype(np.float32)
            else:
                v = (-(xx - shape.cx) * math.sin(a) + (yy - shape.cy) * math.cos(a)) / period
                t = ((np.floor(u) + np.floor(v)) % 2).astype(np.float32)
            return base + (second - base) * t[..., None]
        kind = rng.random()
        if kind < 0.55:
            return base
        if kind < 0.8:  # gradient across the shape, both ends still contrasting
            second = self._contrasting(rng, under, like=base)
            a = rng.uniform(0, 2 * math.pi)
            t = ((xx - shape.cx) * math.cos(a) + (yy - shape.cy) * math.sin(a)) / (2 * shape.r) + 0.5
            return base + (second - base) * np.clip(t, 0, 1)[..., None]
        # smooth noise texture around the base colour
        cells = int(rng.integers(2, 6))
        small = rng.uniform(-1, 1, (cells, cells, 3)).astype(np.float32)
        field = cv2.resize(small, (self.size, self.size), interpolation=cv2.INTER_CUBIC)
        return base + field * rng.uniform(10, 30)

    def _texture(self, rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
        """'diverse' style: a strong synthetic texture around ``base`` — value noise summed over octaves
        (cells of 3 to 24 across the image), partly shared by the three channels."""
        s = self.size
        field = np.zeros((s, s, 3), np.float32)
        for cells, weight in ((3, 1.0), (6, 0.7), (12, 0.5), (24, 0.35)):
            small = rng.uniform(-1, 1, (cells, cells, 3)).astype(np.float32)
            small = 0.6 * small.mean(axis=-1, keepdims=True) + 0.4 * small
            field += weight * cv2.resize(small, (s, s), interpolation=cv2.INTER_CUBIC)
        return base + field * rng.uniform(25, 60)

    def _scene_texture(self, rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
        """``scene_fills``: a whole 'train' scene (its own shapes and distractors on a flat, gradient or
        noise background, never a photo) around ``base``, as a collage tints its photo pieces — but
        synthetic, so the collage family's photo pieces stay unseen."""
        inner = ShapesWorld(self.size, "classify", seed=int(rng.integers(1 << 30)), style="train",
                            backgrounds=("flat", "linear", "radial", "noise"), max_distractors=3)
        tex = inner.scene(int(rng.integers(1 << 20))).image.astype(np.float32)
        return base + (tex - tex.mean(axis=(0, 1), keepdims=True)) * rng.uniform(0.5, 0.9)

    def _finish(self, image: np.ndarray, owner: np.ndarray, shapes: list[_Shape], index: int) -> Scene:
        labels, boxes, masks = [], [], []
        semantic = np.zeros(owner.shape, dtype=np.int64)
        for k, shape in enumerate(shapes):
            mask = owner == k
            if not mask.any():
                continue
            ys = np.flatnonzero(mask.any(axis=1))
            xs = np.flatnonzero(mask.any(axis=0))
            boxes.append((xs[0], ys[0], xs[-1] + 1, ys[-1] + 1))
            labels.append(shape.cls)
            masks.append(mask)
            semantic[mask] = shape.cls + 1
        return Scene(
            image=image,
            labels=np.asarray(labels, dtype=np.int64),
            boxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
            masks=np.stack(masks) if masks else np.zeros((0, *owner.shape), dtype=bool),
            semantic=semantic,
            index=index,
            mode=self.mode,
            style=self.style,
        )


# star inner/outer radius, ring hole/outer radius, cross arm half-width/radius
_AUX_RANGE = {5: (0.38, 0.52), 6: (0.45, 0.68), 7: (0.26, 0.38)}
_TRAIN_BACKGROUNDS = ("flat", "linear", "radial", "noise", "stripes", "photo", "photo")
_HELDOUT_BACKGROUNDS = ("dots", "woven", "tiles")
_BACKGROUNDS = {"train": _TRAIN_BACKGROUNDS, "diverse": _TRAIN_BACKGROUNDS, "heldout": _HELDOUT_BACKGROUNDS,
                "sketch": ("paper", "ruled", "graph"), "collage": ("photo",)}
_PHOTO_KEEP = {"collage": (0.85, 1.0), "diverse": (0.3, 1.0)}  # share of a photo background's contrast kept
_OUTLINE_PROB = 0.3  # 'diverse' style: share of shapes drawn as a thin outline of their region
_TEXTURE_PROB = 0.3  # 'diverse' style: share of fills that are a strong multi-octave noise texture
_RGB2YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)


# ---------------------------------------------------------------------------------------------- #
# geometry


def _outline(shape: _Shape) -> np.ndarray:
    """Polygon vertices (float, image coordinates) of a polygonal class."""
    c, r, th = shape.cls, shape.r, shape.theta
    if c in (1, 2, 3, 4):  # regular polygons
        n = {1: 4, 2: 3, 3: 5, 4: 6}[c]
        ang = th + 2 * math.pi * np.arange(n) / n
        pts = np.stack([np.cos(ang), np.sin(ang)], axis=1) * r
    elif c == 5:  # five-pointed star
        ang = th + math.pi * np.arange(10) / 5
        rad = np.where(np.arange(10) % 2 == 0, r, r * shape.aux)
        pts = np.stack([np.cos(ang) * rad, np.sin(ang) * rad], axis=1)
    elif c == 7:  # plus-shaped cross, arm half-width aux * r
        w = shape.aux * r
        base = np.array([(w, r), (w, w), (r, w), (r, -w), (w, -w), (w, -r),
                         (-w, -r), (-w, -w), (-r, -w), (-r, w), (-w, w), (-w, r)], dtype=np.float64)
        rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
        pts = base @ rot.T
    else:
        raise ValueError(f"class {c} is not polygonal")
    return pts + np.array([shape.cx, shape.cy])


def _degrade(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Whole-image blur and sensor noise, so no model can rely on perfectly crisp synthetic edges."""
    if rng.random() < 0.3:
        sigma = rng.uniform(0.3, 0.9)
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    if rng.random() < 0.5:
        image = image + rng.normal(0, rng.uniform(1, 7), image.shape).astype(np.float32)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def _boundaries(shape: _Shape, points: int = 64) -> list[np.ndarray]:
    """The closed boundary curves of a shape's region (a ring has two), as float vertex arrays."""
    if shape.cls in (0, 6):
        ang = shape.theta + 2 * math.pi * np.arange(points) / points
        unit = np.stack([np.cos(ang), np.sin(ang)], axis=1)
        radii = [shape.r] if shape.cls == 0 else [shape.r, shape.r * shape.aux]
        return [unit * rad + np.array([shape.cx, shape.cy]) for rad in radii]
    return [_outline(shape)]


def _wobble(rng: np.random.Generator, pts: np.ndarray, amp: float, closed: bool) -> np.ndarray:
    """Densify a path to ~1 px steps and displace it sideways by a smooth random wobble of ``amp`` px."""
    seq = np.vstack([pts, pts[:1]]) if closed else pts
    seg = np.linalg.norm(np.diff(seq, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(8, int(arc[-1]))
    t = np.linspace(0, arc[-1], n)
    path = np.stack([np.interp(t, arc, seq[:, 0]), np.interp(t, arc, seq[:, 1])], axis=1)
    tangent = np.gradient(path, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-6)
    u = t / max(arc[-1], 1e-6)
    offset = sum(rng.uniform(-1, 1) * np.sin(2 * math.pi * (f * u + rng.uniform(0, 1)))
                 for f in (rng.uniform(0.5, 1.5), rng.uniform(2, 4), rng.uniform(5, 9)))
    return path + normal * (amp / 2 * offset)[:, None]


def _sketch_coverage(rng: np.random.Generator, shape: _Shape, size: int, width: int) -> np.ndarray:
    """A hand-drawn outline: wobbly strokes (straight edges one by one, overshooting the corners, or a
    circle closed with an overlap), one or two passes."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    amp = min(1.8 * size / 96, 0.045 * shape.r)
    for _pass in range(1 if rng.random() < 0.65 else 2):
        strokes = []
        for curve in _boundaries(shape):
            if shape.cls in (0, 6):  # a loop, started anywhere, closed with a small overlap
                loop = np.roll(curve, -int(rng.integers(len(curve))), axis=0)
                loop = np.vstack([loop, loop[:int(len(curve) * rng.uniform(0.03, 0.12)) + 1]])
                strokes.append(_wobble(rng, loop, amp, closed=False))
            elif rng.random() < 0.4:  # the polygon in one closed stroke
                strokes.append(_wobble(rng, curve, amp, closed=True))
            else:  # edge by edge, each overshooting its corners a little
                for i in range(len(curve)):
                    a, b = curve[i], curve[(i + 1) % len(curve)]
                    d = b - a
                    a = a - d * rng.uniform(0.0, 0.08)
                    b = b + d * rng.uniform(0.0, 0.08)
                    bow = rng.uniform(-0.04, 0.04) * np.linalg.norm(d)
                    mid = (a + b) / 2 + np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-6) * bow
                    strokes.append(_wobble(rng, np.stack([a, mid, b]), amp, closed=False))
        cv2.polylines(canvas, [_fixed(p) for p in strokes], False, 255, width, cv2.LINE_AA, _SHIFT)
    return canvas


def _fixed(pts: np.ndarray) -> np.ndarray:
    return np.round(pts * _ONE).astype(np.int32).reshape(-1, 1, 2)


def _coverage(shape: _Shape, size: int) -> np.ndarray:
    """Coverage 0..255 of the shape on a ``size``² canvas (antialiased or hard-edged)."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    line = cv2.LINE_AA if shape.aa else cv2.LINE_8
    centre = (round(shape.cx * _ONE), round(shape.cy * _ONE))
    if shape.outline:  # a thin stroke along every boundary curve of the region
        curves = [_fixed(p) for p in _boundaries(shape)]
        cv2.polylines(canvas, curves, True, 255, shape.thickness, line, _SHIFT)
    elif shape.cls == 0:
        cv2.circle(canvas, centre, round(shape.r * _ONE), 255, -1, line, _SHIFT)
    elif shape.cls == 6:
        cv2.circle(canvas, centre, round(shape.r * _ONE), 255, -1, line, _SHIFT)
        hole = np.zeros_like(canvas)
        cv2.circle(hole, centre, round(shape.r * shape.aux * _ONE), 255, -1, line, _SHIFT)
        canvas = cv2.subtract(canvas, hole)
    elif shape.hollow:
        cv2.polylines(canvas, [_fixed(_outline(shape))], True, 255, shape.thickness, line, _SHIFT)
    else:
        cv2.fillPoly(canvas, [_fixed(_outline(shape))], 255, line, _SHIFT)
    return canvas


def _border(shape: _Shape, size: int) -> np.ndarray:
    """A thin stroke along the outline of a filled shape (drawn in a second colour)."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    line = cv2.LINE_AA if shape.aa else cv2.LINE_8
    if shape.cls == 0:
        centre = (round(shape.cx * _ONE), round(shape.cy * _ONE))
        cv2.circle(canvas, centre, round(shape.r * _ONE), 255, shape.thickness, line, _SHIFT)
    else:
        cv2.polylines(canvas, [_fixed(_outline(shape))], True, 255, shape.thickness, line, _SHIFT)
    return canvas


def _visible_enough(shapes: list[_Shape], need: dict[int, float], default: float) -> bool:
    """Whether every shape keeps at least its required fraction of pixels after occlusion."""
    owner = np.full(shapes[0].cover.shape, -1, dtype=np.int16)  # type: ignore[union-attr]
    areas = []
    for k, shape in enumerate(shapes):
        sel = shape.cover >= 128  # type: ignore[operator]
        owner[sel] = k
        areas.append(int(sel.sum()))
    counts = np.bincount(owner.ravel() + 1, minlength=len(shapes) + 1)[1:]
    for k, shape in enumerate(shapes):
        if areas[k] == 0 or counts[k] < need.get(id(shape), default) * areas[k]:
            return False
    return True


# ---------------------------------------------------------------------------------------------- #
# assets and torch helpers


@lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    """The bundled photos, RGB, shrunk to a long side of 320 px (loaded once per process)."""
    photos = []
    for path in sorted(IMAGES_DIR.glob("*.jpg")):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        h, w = bgr.shape[:2]
        scale = 320 / max(h, w)
        if scale < 1:
            bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        photos.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if not photos:
        raise FileNotFoundError(f"no photos in {IMAGES_DIR} for ShapesWorld backgrounds")
    return tuple(photos)


def to_tensor(images: np.ndarray, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
    """``(B, H, W, 3)`` uint8 → ``(B, 3, H, W)`` float32 tensor, normalised with ``mean``/``std``."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - m) / s


def classify_batches(world: ShapesWorld, batch_size: int, start: int = 0, steps: int | None = None,
                     mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
    """Yield ``(x, y)`` batches of consecutive fresh scenes ``start, start+1, …`` (``steps`` batches)."""
    step = 0
    while steps is None or step < steps:
        first = start + step * batch_size
        yield world.batch(range(first, first + batch_size), mean, std)
        step += 1
