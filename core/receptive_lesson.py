"""The receptive-field lesson: ERF panels, growth per stage, block costs, HRNet, ConvNeXt's roadmap.

Orchestration only: the algorithms live in :mod:`core.receptive` (theoretical and effective receptive
fields, reaches, the plain stack), :mod:`core.rftrace` (fields of any conv graph) and :mod:`core.blocks`
(blocks, roadmap, HRNet); the pictures in :mod:`core.viz.receptive`. :func:`run` is what ``/receptive``
answers with only an image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core import zoo
from core.images import load_image
from core.lesson import LessonResult, Param
from core.receptive import (
    Reach,
    effective_rfs_where,
    family,
    mass_radius,
    meta_skeleton,
    plain_stack_growth,
    reach,
    square_side,
    stages,
    traced_fields,
)
from core.viz.receptive import VIEW

__all__ = ["DEFAULT_MODELS", "ERF_MODELS", "PARAMS", "analyse", "click_to_query", "roadmap_lesson", "run"]

# --------------------------------------------------------------------------------------------- #
# the lesson


def _erf_models() -> tuple[str, ...]:
    preferred = (
        "efficientnet-lite0",
        "resnet-shapes",
        "swin-shapes",
        "vit-shapes",
        "resnet50",
        "convnext-tiny",
        "resnet18",
        "mobilenetv2",
        "mobilenetv3",
        "efficientnet-b0",
        "densenet121",
        "regnety-008",
        "swin-tiny",
        "vit-small",
        "vit-tiny",
        "deit-small",
    )
    known = set(zoo.list_models("classify"))
    return tuple(n for n in preferred if n in known)


ERF_MODELS = _erf_models()
# the pretrained member of each family (the zoo's rule); offline ResNet-50 and ConvNeXt-T both resolve to
# the packaged EfficientNet-Lite0 (shown once), Swin-T and ViT-S to the embedded ShapesWorld models
DEFAULT_MODELS = tuple(n for n in ("resnet50", "convnext-tiny", "swin-tiny", "vit-small") if n in ERF_MODELS)
MAX_MODELS = 4
SCALES = ("linear", "log")
HRNET_MODEL = "hrnet-w18-small"

PARAMS: list[Param] = [
    Param(
        "models",
        "text",
        ",".join(DEFAULT_MODELS),
        "Models",
        f"Comma-separated zoo names (up to {MAX_MODELS}), side by side.",
        choices=ERF_MODELS,
    ),
    Param(
        "weights",
        "choice",
        "auto",
        "Weights",
        "auto: pretrained online; offline the packaged ImageNet CNN or the embedded ShapesWorld model, "
        "else random (labelled).",
        choices=zoo.WEIGHT_MODES,
    ),
    Param(
        "random_init",
        "bool",
        True,
        "Random init next to trained",
        "Also show each architecture with random weights: does training widen the ERF (as Luo et al. "
        "found) or not (the packaged EfficientNet-Lite0)?",
    ),
    Param(
        "stage",
        "int",
        3,
        "Stage",
        "1 = the first feature stage; 0 = the last. A model with fewer stages uses its last.",
        0,
        8,
        1,
    ),
    Param("query_x", "float", 0.5, "Clicked x", "0 = left edge, 1 = right edge.", 0.0, 1.0, 0.001),
    Param("query_y", "float", 0.5, "Clicked y", "0 = top, 1 = bottom.", 0.0, 1.0, 0.001),
    Param(
        "scale",
        "choice",
        "linear",
        "ERF colour scale",
        "linear: |gradient| / max; log: log10 of it over 4 decades (shows the whole support).",
        choices=SCALES,
    ),
    Param("block_channels", "int", 64, "Blocks: channels C", "", 8, 1024, 8),
    Param("block_size", "int", 56, "Blocks: H = W", "", 7, 224, 1),
    Param(
        "roadmap",
        "bool",
        False,
        "ConvNeXt roadmap",
        "Build the 16 networks of the 17 steps from ResNet-50 to ConvNeXt-T (once per process, ~10–30 s "
        "the first time).",
    ),
]
_P = {p.name: p for p in PARAMS}


@dataclass
class ModelERF:
    """One model with one set of weights: its ERF and reach at the clicked position, and per stage."""

    name: str
    loaded: zoo.Loaded
    stage: int
    stage_name: str
    stride: float
    grid: tuple[int, int]
    position: tuple[int, int]
    size: int
    erf: np.ndarray
    reach: Reach
    view: np.ndarray
    per_stage: list[dict[str, Any]] = field(default_factory=list)

    @property
    def r50(self) -> int:
        return mass_radius(self.erf, self.reach.centre, 0.5)

    @property
    def r90(self) -> int:
        return mass_radius(self.erf, self.reach.centre, 0.9)

    def side(self, radius: int) -> int:
        """Side of the ERF square of half-width ``radius`` around the unit, clipped to the input."""
        return square_side(self.reach.centre, radius, self.erf.shape)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "architecture": self.loaded.name,
            "source": self.loaded.source,
            "status": self.loaded.status,
            "stage": self.stage,
            "stage_module": self.stage_name,
            "stride": self.stride,
            "grid": list(self.grid),
            "position": list(self.position),
            "input_size": self.size,
            "reach": {
                "kind": self.reach.kind,
                "box": None if self.reach.box is None else list(self.reach.box),
                "size": self.reach.size,
                "jump": self.reach.jump,
            },
            "erf_side50": self.side(self.r50),
            "erf_side90": self.side(self.r90),
            "erf_outside_reach": _outside(self.erf, self.reach.box),
            "per_stage": self.per_stage,
        }


def _outside(erf: np.ndarray, box: tuple[int, int, int, int] | None) -> float | None:
    """Fraction of the ERF's mass outside the theoretical box (0 for a conv net, by construction)."""
    if box is None or erf.sum() <= 0:
        return None
    y0, x0, y1, x1 = box
    return float(1 - erf[y0 : y1 + 1, x0 : x1 + 1].sum() / erf.sum())


def _parse_models(spec: str) -> list[str]:
    names = list(dict.fromkeys(n.strip() for n in str(spec).split(",") if n.strip()))
    if not names:
        raise ValueError("Models: choose at least one model.")
    if len(names) > MAX_MODELS:
        raise ValueError(f"Models: at most {MAX_MODELS} side by side (got {len(names)}).")
    for n in names:
        if n not in ERF_MODELS:
            raise ValueError(f"Models: {n!r} is not offered here; choose from {', '.join(ERF_MODELS)}.")
    return names


def analyse(loaded: zoo.Loaded, rgb: np.ndarray, stage: int, qx: float, qy: float) -> ModelERF:
    """ERF and reach at the clicked point, at ``stage`` (0 = last) and at every stage (for the growth)."""
    from core.attention import model_view

    model = loaded.model
    st = stages(model)
    n = len(st)
    chosen = n if stage == 0 else min(stage, n)
    x = zoo.preprocess(loaded, rgb)
    size = int(x.shape[-1])
    skeleton = meta_skeleton(loaded)
    fields = (
        traced_fields(loaded.entry.name, size) if skeleton is not None and family(model) == "conv" else None
    )
    maps, where = effective_rfs_where(
        model,
        x,
        list(range(1, n + 1)),
        lambda k, hw: (min(int(qy * hw[0]), hw[0] - 1), min(int(qx * hw[1]), hw[1] - 1)),
    )
    per_stage = []
    for k, (erf, (hw, pos)) in enumerate(zip(maps, where, strict=True), start=1):
        stride = size / hw[0]
        r = reach(model, k, pos, size, stride, fields)
        per_stage.append(
            {
                "stage": k,
                "module": st[k - 1].get("module", ""),
                "stride": stride,
                "theoretical": r.size,
                "reach_box": None if r.box is None else list(r.box),
                "erf_side50": square_side(r.centre, mass_radius(erf, r.centre, 0.5), erf.shape),
                "erf_side90": square_side(r.centre, mass_radius(erf, r.centre, 0.9), erf.shape),
            }
        )
    hw, pos = where[chosen - 1]
    stride = size / hw[0]
    view, _ = model_view(rgb, loaded, VIEW)
    return ModelERF(
        loaded.requested,
        loaded,
        chosen,
        st[chosen - 1].get("module", ""),
        stride,
        hw,
        pos,
        size,
        maps[chosen - 1],
        reach(model, chosen, pos, size, stride, fields),
        view,
        per_stage,
    )


def run(
    image: Any,
    models: str = PARAMS[0].default,
    weights: str = "auto",
    random_init: bool = True,
    stage: int = 3,
    query_x: float = 0.5,
    query_y: float = 0.5,
    scale: str = "linear",
    block_channels: int = 64,
    block_size: int = 56,
    roadmap: bool = False,
) -> LessonResult:
    """The receptive-field lesson on one photo (see the module docstring)."""
    from core import blocks
    from core.viz import receptive as viz

    v = {
        p.name: p.check(val)
        for p, val in zip(
            PARAMS,
            (
                models,
                weights,
                random_init,
                stage,
                query_x,
                query_y,
                scale,
                block_channels,
                block_size,
                roadmap,
            ),
            strict=True,
        )
    }
    names = _parse_models(v["models"])
    rgb = load_image(image)
    rows: list[list[ModelERF]] = []
    seen: set[tuple[str, str]] = set()
    shared: list[dict[str, str]] = []
    for name in names:
        loaded = zoo.load_model(name, v["weights"])
        if (loaded.name, loaded.source) in seen:  # an offline stand-in shared by two requests: once
            shared.append({"model": name, "same_as": loaded.name, "source": loaded.source})
            continue
        seen.add((loaded.name, loaded.source))
        row = [analyse(loaded, rgb, v["stage"], v["query_x"], v["query_y"])]
        if v["random_init"] and loaded.source != "random":  # the same architecture as the trained panel
            row.append(
                analyse(zoo.load_model(loaded.name, "random"), rgb, v["stage"], v["query_x"], v["query_y"])
            )
        rows.append(row)
    growth = plain_stack_growth()
    block_rows = blocks.block_costs(v["block_channels"], v["block_size"])
    hrnet = _hrnet(rgb, v["weights"])

    images = {
        "erf": viz.erf_grid(rows, v["scale"]),
        "growth": viz.growth_figure(rows, growth),
        "blocks": viz.blocks_figure(block_rows, v["block_channels"], v["block_size"]),
        "hrnet": viz.hrnet_figure(hrnet),
    }
    captions = {
        "erf": f"Effective receptive field of the clicked unit ({v['scale']} scale) with the theoretical "
        "reach as a box",
        "growth": "Growth per stage: theoretical size vs. the ERF's 50 % / 90 % square; a plain stack: "
        "n vs. √n",
        "blocks": f"One block of each family at C = {v['block_channels']}, "
        f"{v['block_size']}×{v['block_size']}: parameters and multiply-adds",
        "hrnet": f"HRNet-W18-small: parallel streams and their feature maps ({hrnet['source']} weights)",
    }
    summary: dict[str, Any] = {
        "models": [[m.summary() for m in row] for row in rows],
        "query": {"x": v["query_x"], "y": v["query_y"]},
        "shared_stand_in": shared,
        "plain_stack": growth,
        "blocks": block_rows,
        "hrnet": {k: hrnet[k] for k in ("name", "source", "status", "structure", "stream_rf")},
    }
    if v["roadmap"]:
        road = roadmap_lesson()
        images.update(road.images)
        captions.update(road.captions)
        summary["roadmap"] = road.summary["roadmap"]
    summary["captions"] = captions
    return LessonResult(images=images, summary=summary, captions=captions)


def roadmap_lesson() -> LessonResult:
    """ConvNeXt's roadmap alone (model-free: the 16 networks of its 17 steps are built once per process)."""
    from core import blocks
    from core.viz import receptive as viz

    steps = blocks.roadmap()
    caption = (
        "ConvNeXt's roadmap (Liu et al. 2022, Table 10): reported top-1, our networks' params and "
        "GFLOPs, and each one's ERF at initialisation"
    )
    rows = [{k: val for k, val in s.items() if k != "erf"} for s in steps]
    return LessonResult(
        images={"roadmap": viz.roadmap_figure(steps)},
        summary={"roadmap": rows},
        captions={"roadmap": caption},
    )


def _hrnet(rgb: np.ndarray, weights: str) -> dict[str, Any]:
    from core import blocks

    # HRNet has hub weights only: "embedded" and "package" show its architecture untrained (labelled)
    loaded = zoo.load_model(HRNET_MODEL, weights if weights in ("auto", "hub", "random") else "random")
    model = loaded.model
    x = zoo.preprocess(loaded, rgb)
    with torch.no_grad():
        feats = blocks.hrnet_streams(model, x)["stage4"]
    maps = [f[0].abs().mean(0).numpy() for f in feats]
    structure, stream_rf = _hrnet_static(loaded)
    return {
        "name": HRNET_MODEL,
        "source": loaded.source,
        "status": loaded.status,
        "maps": maps,
        "structure": structure,
        "stream_rf": stream_rf,
        "input": _crop_view(rgb, loaded),
    }


_HRNET_STATIC: dict[str, Any] = {}


def _hrnet_static(loaded: zoo.Loaded) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """HRNet's structure and stream fields depend on the architecture only: computed once, on meta."""
    from core import blocks

    name = loaded.entry.name
    if name not in _HRNET_STATIC:
        skeleton = meta_skeleton(loaded)
        _HRNET_STATIC[name] = (blocks.hrnet_structure(skeleton), blocks.stream_rf(skeleton))
    return _HRNET_STATIC[name]


def _crop_view(rgb: np.ndarray, loaded: zoo.Loaded) -> np.ndarray:
    from core.attention import model_view

    return model_view(rgb, loaded, VIEW)[0]


def click_to_query(x: float, y: float, rows: int) -> tuple[float, float] | None:
    """A click on the ERF figure (pixel ``x, y``) → ``(query_x, query_y)`` in [0, 1), or None."""
    from core.viz.attention_viz import grid_click
    from core.viz.receptive import PANEL_WIDTH

    point = grid_click(x, y, PANEL_WIDTH, VIEW, rows)
    if point is None:
        return None
    return tuple(min(max(v / VIEW, 0.0), 0.999) for v in point)  # type: ignore[return-value]
