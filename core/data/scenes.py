"""The held-out ShapesWorld worlds: seeds that training never uses, shared by lessons and trainers.

A trainer evaluates on these worlds and a lesson's "scene" button shows them, so the scenes a page
offers are scenes its model never trained on, and the numbers on its model card were measured on
the same worlds.
"""

from __future__ import annotations

from core.data.shapesworld import ShapesWorld

__all__ = ["DETECT_EVAL_SEED", "SEGMENT_EVAL_SIZE", "SEGMENT_HELDOUT_SEED", "detect_world", "segment_scene"]

DETECT_EVAL_SEED = 10_000   # the detector's held-out detection scenes (core/train/detector.py)
SEGMENT_HELDOUT_SEED = 1    # the segmenter's held-out scenes, in the held-out render style
SEGMENT_EVAL_SIZE = 256

_WORLDS: dict[tuple, ShapesWorld] = {}


def _world(**kwargs) -> ShapesWorld:
    key = tuple(sorted(kwargs.items()))
    if key not in _WORLDS:
        _WORLDS[key] = ShapesWorld(**kwargs)
    return _WORLDS[key]


def detect_world(size: int = 192, style: str = "train") -> ShapesWorld:
    """The held-out detection world (seed :data:`DETECT_EVAL_SEED`) at ``size`` px."""
    return _world(size=int(size), mode="detect", seed=DETECT_EVAL_SEED, style=style)


def segment_scene(index: int, size: int = SEGMENT_EVAL_SIZE):
    """Held-out segmentation scene ``index`` (1–6 shapes, held-out style), as PointRend evaluates."""
    world = _world(size=int(size), mode="detect", style="heldout", seed=SEGMENT_HELDOUT_SEED, min_objects=1,
                   max_objects=6)
    return world[int(index)]
