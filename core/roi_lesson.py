"""The RoI lesson (``/roi``): RoIPool, RoIAlign, PS-RoIPool/Align and the FPN level of one box, drawn
on a real backbone's stride-16 or stride-32 feature map of the student's photo.

The operators' geometry and values come from :mod:`core.roi` (reference-exact to torchvision, and
checked against it on every call: ``summary["torchvision_max_abs_difference"]``); the pictures from
:mod:`core.viz.roi`. Boxes and probe points are in photo pixels; the lesson works on the photo resized
to ``input_size`` on its long side (the network input), where all geometry is reported.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from core.lesson import LessonResult, Param
from core.roi import (
    FPN_EPS,
    MASK_SIZE,
    align_geometry,
    bilinear_taps,
    cell_centre,
    fpn_level,
    misalignment,
    ps_channels,
    ps_roi_align,
    ps_roi_pool,
    ps_roi_pool_bins,
    roi_align,
    roi_align_points,
    roi_pool,
    roi_pool_bins,
)

__all__ = ["EXAMPLES", "PAPER", "PARAMS", "ROI_MODELS", "backbone_features", "parse_box", "photo_point",
           "run"]

ROI_MODELS = ("resnet50", "efficientnet-lite0", "resnet-shapes")
FPN_STRIDES = (4, 8, 16, 32)  # C2 … C5, the levels Mask R-CNN's FPN pools from (P2 … P5)

# Mask R-CNN (He et al., ICCV 2017 / arXiv 1703.06870), Table 2c and 2d: mask AP, AP50, AP75 on COCO
# minival (2d also box AP); RoIAlign with FPN: +1.5 mask AP, +0.5 box AP (§4.2).
PAPER = {
    "c4_stride16": {"backbone": "ResNet-50-C4 (stride 16)", "table": "2c",
                    "RoIPool": (26.9, 48.8, 26.4), "RoIWarp (max)": (27.2, 49.2, 27.1),
                    "RoIWarp (ave)": (27.1, 48.9, 27.1), "RoIAlign (max)": (30.2, 51.0, 31.8),
                    "RoIAlign (ave)": (30.3, 51.2, 31.5)},
    "c5_stride32": {"backbone": "ResNet-50-C5 (stride 32)", "table": "2d",
                    "RoIPool": (23.6, 46.5, 21.6), "RoIAlign": (30.9, 51.8, 32.1),
                    "box RoIPool": (28.2, 52.7, 26.9), "box RoIAlign": (34.0, 55.3, 36.4)},
}


def _available_models() -> tuple[str, ...]:
    from core import zoo

    known = set(zoo.list_models())
    return tuple(name for name in ROI_MODELS if name in known) or ("resnet-shapes",)


def _weight_modes() -> tuple[str, ...]:
    from core import zoo

    return tuple(zoo.WEIGHT_MODES)


PARAMS: list[Param] = [
    Param("model", "choice", "resnet50", "Backbone", choices=_available_models(),
          help="A CNN from the zoo; its stride-16 or stride-32 feature map is what the RoI operators read."),
    Param("weights", "choice", "auto", "Weights", choices=_weight_modes()),
    Param("box", "text", "", "Box x0, y0, x1, y1 (photo pixels)",
          help="Type it, click two corners on the first picture, or leave empty for a default box."),
    Param("stride", "choice", 16, "Feature stride", choices=(16, 32),
          help="16: ResNet's C4, where a ResNet Faster R-CNN pools (R-FCN's stride-16 maps come from a "
               "dilated C5); 32: C5."),
    Param("input_size", "int", 512, "Network input, long side (px)", "", 224, 1024, 32),
    Param("output_size", "int", 7, "Output k×k (RoIPool, RoIAlign)", "7 in Faster / Mask R-CNN's box heads.",
          1, 14, 1),
    Param("sampling_ratio", "int", 2, "RoIAlign sampling ratio",
          "Samples per bin and axis; 0 = adaptive ⌈bin size⌉ (detectron2's default).", 0, 8, 1),
    Param("aligned", "bool", True, "aligned=True (−½ cell shift)",
          help="detectron2's half-pixel fix; False is the original RoIAlign of the Mask R-CNN code."),
    Param("probe", "text", "", "Probe point x, y (photo pixels)",
          help="The sample nearest to it is taken apart; click the RoIAlign picture, or leave empty."),
    Param("channel", "int", -1, "Feature channel shown", "−1: the channel most active in the box.",
          -1, 4095, 1),
    Param("ps_size", "int", 3, "PS-RoI k (R-FCN)", "R-FCN's figures use 3×3, its main results 7×7.", 1, 7, 1),
    Param("ps_class", "int", -1, "PS output channel",
          "Which block of k² channels votes; −1: the highest vote.", -1, 4095, 1),
]
_P = {p.name: p for p in PARAMS}

# bundled photos with a box worth looking at (photo pixels) and what it shows
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("chelsea-cat.jpg", "131,79,211,151", "the cat's eye"),
    ("coffee.jpg", "172,18,412,305", "an espresso cup (large)"),
    ("rocket.jpg", "305,125,341,402", "a rocket (2 cells wide)"),
    ("astronaut.jpg", "180,48,292,172", "an astronaut's face"),
    ("astronaut.jpg", "133,345,213,425", "a mission patch (small)"),
)
DEFAULT_BOX = (0.27, 0.21, 0.71, 0.83)  # fractions of the photo: off the cell grid on purpose


def parse_box(text: str, width: int, height: int) -> np.ndarray:
    """``"x0, y0, x1, y1"`` in photo pixels (brackets and spaces allowed) → float64 (4,), checked."""
    if text is None or not str(text).strip():
        return np.array([DEFAULT_BOX[0] * width, DEFAULT_BOX[1] * height,
                         DEFAULT_BOX[2] * width, DEFAULT_BOX[3] * height])
    parts = [p for p in re.split(r"[\s,;()\[\]]+", str(text)) if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"box must be four numbers x0, y0, x1, y1 in photo pixels; got {text!r}.") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"box must be four numbers x0, y0, x1, y1 in photo pixels; got {text!r}.")
    x0, y0, x1, y1 = values
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"box needs x1 > x0 and y1 > y0 (the top-left corner first); got {text!r}.")
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        raise ValueError(f"box must lie inside the photo (0 ≤ x ≤ {width}, 0 ≤ y ≤ {height}); got {text!r}.")
    return np.array(values)


def _parse_point(text: str, label: str = "probe") -> tuple[float, float] | None:
    if text is None or not str(text).strip():
        return None
    parts = [p for p in re.split(r"[\s,;()\[\]]+", str(text)) if p]
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{label} must be two numbers x, y in photo pixels; got {text!r}.") from None
    return x, y


def photo_point(summary: dict[str, Any], picture: str, xy: Sequence[float]) -> tuple[float, float]:
    """A click ``(u, v)`` on a picture of :func:`run`'s result, in photo pixels (for the page)."""
    from core.viz.roi import View

    views = summary.get("views", {})
    if picture not in views:
        raise ValueError(f"No picture called {picture!r} to click on; run the lesson first.")
    view = View(**views[picture])
    x, y = view.to_input(float(xy[0]), float(xy[1]))
    sx, sy = summary["input"]["scale"]
    return x / sx, y / sy


class _FeatureCache:
    """The last few (photo, model, size) → backbone maps: moving a slider does not rerun the CNN."""

    def __init__(self, capacity: int = 4):
        self.capacity = capacity
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


_FEATURES = _FeatureCache()


def _normalisation(loaded: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if loaded.source == "hub" and loaded.entry.builder == "timm":
        import timm.data

        config = timm.data.resolve_data_config({}, model=loaded.model)
        return tuple(config["mean"]), tuple(config["std"])
    return tuple(loaded.entry.mean), tuple(loaded.entry.std)


def backbone_features(loaded: Any, rgb: np.ndarray,
                      input_size: int) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """The photo resized to ``input_size`` on its long side, the backbone's maps at strides 16 and 32
    (``{stride: (C, h, w) float32}``, what the operators read) and the activation energy
    ``‖f(r, c)‖₂`` of every level C2…C5 (``{stride: (h, w)}``, for the FPN picture), through timm's
    ``forward_intermediates``. Only these are kept: C2 and C3 of a ResNet-50 at 1024 px are ~70 MB."""
    import cv2

    h, w = rgb.shape[:2]
    scale = input_size / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    key = (hashlib.sha1(np.ascontiguousarray(rgb).data).hexdigest(), rgb.shape, loaded.name, loaded.source,
           loaded.requested, int(input_size))
    hit = _FEATURES.get(key)
    if hit is not None:
        return hit
    net = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    model = loaded.model
    info = getattr(model, "feature_info", None)
    if not hasattr(model, "forward_intermediates") or not info:
        raise ValueError(f"{loaded.entry.title} does not expose its feature maps; choose a CNN backbone.")
    reductions = [int(f["reduction"]) for f in info]
    indices = [i for i, r in enumerate(reductions) if r in FPN_STRIDES]
    if sorted(reductions[i] for i in indices) != list(FPN_STRIDES):
        raise ValueError(f"{loaded.entry.title} has no maps at strides 4, 8, 16 and 32.")
    mean, std = _normalisation(loaded)
    x = torch.from_numpy(np.ascontiguousarray(net)).permute(2, 0, 1).float().div_(255.0)
    x = ((x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None])[None]
    with torch.inference_mode():
        maps = model.forward_intermediates(x, indices=indices, intermediates_only=True)
    by_stride = {reductions[i]: m[0].float() for i, m in zip(indices, maps, strict=True)}
    feats = {st: by_stride[st].numpy() for st in (16, 32)}
    energy = {st: by_stride[st].double().square().sum(0).sqrt().numpy() for st in FPN_STRIDES}
    value = (net, feats, energy)
    _FEATURES.put(key, value)
    return value


def _nearest_sample(points: np.ndarray, stride: int,
                    target: tuple[float, float] | None) -> tuple[int, ...] | None:
    """Index ``(i, j, a, b)`` of the sample nearest to ``target`` (input pixels, x then y) — by default
    the first sample of the centre bin."""
    kh, kw, gh, gw = points.shape[:4]
    if gh * gw == 0:
        return None
    if target is None:
        return kh // 2, kw // 2, 0, 0
    px = (points[..., 1].astype(np.float64) + 0.5) * stride
    py = (points[..., 0].astype(np.float64) + 0.5) * stride
    d = (px - target[0]) ** 2 + (py - target[1]) ** 2
    return tuple(int(v) for v in np.unravel_index(int(np.argmin(d)), d.shape))


def _torchvision_check(fmap: np.ndarray, box: np.ndarray, k: int, scale: float, sampling_ratio: int,
                       ps_maps: np.ndarray, ps_k: int, ours: dict[str, np.ndarray]) -> dict[str, float]:
    """The largest |ours − torchvision| over every channel of each operator shown (float32 maps)."""
    import torchvision.ops as ops

    f = torch.from_numpy(fmap)[None]
    rois = torch.tensor([[0.0, *box.tolist()]], dtype=torch.float32)
    p = torch.from_numpy(np.ascontiguousarray(ps_maps))[None]
    ref = {
        "roi_pool": ops.roi_pool(f, rois, k, scale),
        "roi_align_aligned_false": ops.roi_align(f, rois, k, scale, sampling_ratio, False),
        "roi_align_aligned_true": ops.roi_align(f, rois, k, scale, sampling_ratio, True),
        "ps_roi_pool": ops.ps_roi_pool(p, rois, ps_k, scale),
        "ps_roi_align": ops.ps_roi_align(p, rois, ps_k, scale, sampling_ratio),
    }
    return {name: float(np.nanmax(np.abs(ref[name][0].double().numpy() - ours[name]))) for name in ref}


def run(image: Any, model: str = "resnet50", weights: str = "auto", box: str = "", stride: int = 16,
        input_size: int = 512, output_size: int = 7, sampling_ratio: int = 2, aligned: bool = True,
        probe: str = "", channel: int = -1, ps_size: int = 3, ps_class: int = -1) -> LessonResult:
    """RoIPool, RoIAlign, PS-RoIPool/Align and the FPN level of one box on a real backbone's map."""
    from core import zoo
    from core.images import load_image
    from core.viz import roi as draw

    values = dict(model=model, weights=weights, box=box, stride=stride, input_size=input_size,
                  output_size=output_size, sampling_ratio=sampling_ratio, aligned=aligned, probe=probe,
                  channel=channel, ps_size=ps_size, ps_class=ps_class)
    p = {name: _P[name].check(v) for name, v in values.items()}
    s, k, sr, al, kp = p["stride"], p["output_size"], p["sampling_ratio"], p["aligned"], p["ps_size"]
    rgb = load_image(image)
    h, w = rgb.shape[:2]
    box_photo = parse_box(p["box"], w, h)
    probe_photo = _parse_point(p["probe"])
    loaded = zoo.load_model(p["model"], p["weights"])
    net, feats, energy = backbone_features(loaded, rgb, p["input_size"])
    hin, win = net.shape[:2]
    sx, sy = win / w, hin / h
    b = box_photo * np.array([sx, sy, sx, sy])
    fmap = feats[s]
    c_all, fh, fw = fmap.shape
    scale = 1.0 / s

    # RoIAlign first: it picks the channel (the most active one inside the box, unless chosen)
    align_all = roi_align(fmap, b, k, scale, sr, al)
    ch = int(np.argmax(align_all.mean(axis=(1, 2)))) if p["channel"] < 0 else p["channel"]
    if ch >= c_all:
        raise ValueError(f"channel must be below {c_all} (the stride-{s} map of {loaded.entry.title} "
                         f"has {c_all} channels); got {ch}.")
    cmap = fmap[ch]
    other_all = roi_align(fmap, b, k, scale, sr, not al)
    pool_all, argmax_all = roi_pool(fmap, b, k, scale)
    bins = roi_pool_bins(b, k, scale, (fh, fw))
    geometry, points = align_geometry(b, k, scale, sr, al, np.float32, minimum_one=not al)
    other_points = roi_align_points(b, k, scale, sr, not al)

    # the probed sample: its four neighbours and weights
    target = None if probe_photo is None else (probe_photo[0] * sx, probe_photo[1] * sy)
    index = _nearest_sample(points, s, target)
    probe_info: dict[str, Any] | None = None
    taps = None
    if index is not None:
        rows, cols, wts = bilinear_taps(points[index][None], (fh, fw))
        rows, cols, wts = rows[0], cols[0], wts[0]
        tap_values = cmap[rows, cols].astype(np.float64)
        taps = (rows, cols)
        point = points[index].astype(np.float64)
        probe_info = {"bin": list(index[:2]), "sample": list(index[2:]), "point_yx": point.tolist(),
                      "point_input_px": [float((point[1] + 0.5) * s), float((point[0] + 0.5) * s)],
                      "neighbours_rc": np.stack([rows, cols], 1).tolist(),
                      "weights": wts.astype(np.float64).tolist(),
                      "neighbour_values": tap_values.tolist(),
                      "value": float((wts.astype(np.float64) * tap_values).sum())}

    # position-sensitive pooling on the first k²·C_out channels
    c_out = c_all // (kp * kp)
    if c_out == 0:
        raise ValueError(f"ps_size {kp} needs at least k² = {kp * kp} channels; the stride-{s} map of "
                         f"{loaded.entry.title} has {c_all}.")
    ps_maps = fmap[: c_out * kp * kp]
    ps_align = ps_roi_align(ps_maps, b, kp, scale, sr)
    ps_pool = ps_roi_pool(ps_maps, b, kp, scale)
    votes = ps_align.mean(axis=(1, 2))
    pc = int(np.nanargmax(votes)) if p["ps_class"] < 0 else p["ps_class"]
    if pc >= c_out:
        raise ValueError(f"ps_class must be below {c_out} ({c_all} channels / k² = {kp * kp}); got {pc}.")
    ps_chan = ps_channels(c_out, kp)[pc]
    ps_bins = ps_roi_pool_bins(b, kp, scale, (fh, fw))

    # FPN level of the box (network-input pixels), and at Mask R-CNN's test scale
    level = int(fpn_level(b[None])[0])
    sqrt_wh = float(np.sqrt((b[2] - b[0]) * (b[3] - b[1])))
    raw = 4 + math.log2(sqrt_wh / 224)  # parse_box refuses empty boxes
    # the value inside the floor, cut (never rounded up) to 3 decimals with torchvision's eps in it, so
    # the caption's ⌊…⌋ reads as the level (√(wh) = 223.96 shows ⌊3.999⌋ → 3, not ⌊4 + log2(224/224)⌋)
    raw_shown = math.floor((raw + FPN_EPS) * 1000) / 1000
    coco = min(800.0 / min(hin, win), 1333.0 / max(hin, win))
    level_coco = int(fpn_level(b[None] * coco)[0])
    centre = cell_centre(loaded.model, s, (hin, win), key=(loaded.name, loaded.source, loaded.requested))
    errors = misalignment(b, k, s, sr, (fh, fw), ps_size=kp)
    delta = (centre["x"], centre["y"])
    measured = misalignment(b, k, s, sr, (fh, fw), centre=delta, ps_size=kp) if None not in delta else None

    shown = {"roi_pool": pool_all, "roi_align_aligned_false": other_all if al else align_all,
             "roi_align_aligned_true": align_all if al else other_all, "ps_roi_pool": ps_pool,
             "ps_roi_align": ps_align}
    checks = _torchvision_check(fmap, b, k, scale, sr, ps_maps, kp, shown)

    # pictures
    snapped = roi_pool_bins(b, 1, scale, (fh, fw))[0, 0]
    over, over_view = draw.overview_picture(net, s, b, snapped)
    pool_img, pool_view, pool_edges = draw.roi_pool_picture(cmap, s, b, bins, argmax_all[ch], pool_all[ch])
    align_img, align_view = draw.roi_align_picture(cmap, s, b, points, al, align_all[ch], index, taps)
    pf, pt = (other_points, points) if al else (points, other_points)
    vf, vt = (other_all[ch], align_all[ch]) if al else (align_all[ch], other_all[ch])
    cmp_img, cmp_view = draw.aligned_picture(cmap, s, b, pf, pt, vf, vt)
    images = {"overview": over, "roi_pool": pool_img, "roi_align": align_img}
    if probe_info is not None:
        images["bilinear"] = draw.bilinear_picture(
            probe_info["point_yx"], taps[0], taps[1], np.asarray(probe_info["weights"]),
            np.asarray(probe_info["neighbour_values"]), probe_info["value"])
    images["aligned"] = cmp_img
    ys = b[1] + np.arange(kp + 1) * (b[3] - b[1]) / kp
    xs = b[0] + np.arange(kp + 1) * (b[2] - b[0]) / kp
    ps_rects = np.array([[[ys[i], ys[i + 1], xs[j], xs[j + 1]] for j in range(kp)] for i in range(kp)])
    ps_img, ps_view = draw.ps_bins_picture(net, s, b, kp, ps_chan, ps_align[pc], float(votes[pc]),
                                           ps_pool[pc], float(ps_pool[pc].mean()))
    images["ps_bins"] = ps_img
    images["ps_maps"] = draw.ps_maps_picture(ps_maps.reshape(c_out, kp * kp, fh, fw)[pc], s, b, ps_rects)
    images["fpn"] = draw.fpn_picture([(st, energy[st]) for st in FPN_STRIDES], b, level, k)
    box_wh = (b[2] - b[0], b[3] - b[1])
    images["misalignment"], chart = draw.misalignment_chart(errors, measured, delta, s, box_wh, MASK_SIZE,
                                                            k=k, ps_k=kp)

    src = loaded.source
    mask_cell = min(b[2] - b[0], b[3] - b[1]) / MASK_SIZE
    captions = {
        "overview": f"Stride-{s} cells on the {win}×{hin} input; box (white) snapped by RoIPool (orange): "
                    f"green = gained, hatched vermillion = lost. Click two corners for a new box.",
        "roi_pool": f"RoIPool {k}×{k}, channel {ch}: white dashes = exact bins, orange = the floor/ceil "
                    f"cells each bin max-pools, yellow hatch = read by two bins, blue dot = each maximum",
        "roi_align": f"RoIAlign {k}×{k}, aligned={al}, {geometry.grid[0]}×{geometry.grid[1]} samples per bin "
                     f"({'adaptive' if sr <= 0 else 'ratio ' + str(sr)}); yellow = the probed sample and its "
                     f"4 neighbours. Click a sample to probe it.",
        "bilinear": "The probed sample: each neighbour's weight is the area opposite it; value = Σ w·v",
        "aligned": f"aligned=False (vermillion ×) reads every sample ½ cell = {s / 2:g} px down-right of "
                   f"aligned=True (blue •); outputs: False, True",
        "ps_bins": f"PS-RoIAlign {kp}×{kp}: bin (i, j) reads only channel {pc}·{kp * kp} + i·{kp} + j "
                   f"(colour = group); PS-RoIAlign's vote r = mean = {float(votes[pc]):.3f}, "
                   f"PS-RoIPool's {float(ps_pool[pc].mean()):.3f}",
        "ps_maps": f"The {kp * kp} score maps of output channel {pc}: each tile's outlined bin is all "
                   f"that bin reads",
        "fpn": f"FPN level k = ⌊4 + log2(√(wh)/224)⌋ = ⌊4 + log2({sqrt_wh:.1f}/224)⌋ = ⌊{raw_shown:.3f}⌋ → "
               f"{level} (clamped to 2…5); at Mask R-CNN's 800-px scale: {level_coco}",
        "misalignment": f"How far each operator reads from the box (stride {s}); a {MASK_SIZE}×{MASK_SIZE} "
                        f"mask cell here is {mask_cell:.1f} px",
    }
    summary = {
        "model": {"name": loaded.requested, "source": src, "status": loaded.status,
                  "arch": loaded.entry.arch},
        "input": {"photo_size": [w, h], "size": [win, hin], "scale": [sx, sy]},
        "feature": {"stride": s, "spatial_scale": scale, "channels": c_all, "height": fh, "width": fw,
                    "channel": ch, "levels_hw": {str(st): list(energy[st].shape) for st in FPN_STRIDES}},
        "box": {"photo": box_photo.tolist(), "input": b.tolist(), "cells": (b / s).tolist(),
                "default": not str(p["box"]).strip()},
        "roi_pool": {"snapped_cells": snapped.tolist(), "bins": bins.tolist(),
                     "values": pool_all[ch].tolist(), "argmax_rc": argmax_all[ch].tolist()},
        "roi_align": {"aligned": al, "sampling_ratio": sr, "grid": list(geometry.grid),
                      "start_yx": list(geometry.start), "size_hw": list(geometry.size),
                      "bin_size_hw": list(geometry.bin_size), "values": align_all[ch].tolist(),
                      "values_other": other_all[ch].tolist(),
                      "max_abs_difference_aligned": float(np.abs(align_all[ch] - other_all[ch]).max()),
                      "probe": probe_info},
        "ps": {"k": kp, "channels_out": c_out, "class": pc, "channels": ps_chan.tolist(),
               "align": ps_align[pc].tolist(), "pool": ps_pool[pc].tolist(), "pool_bins": ps_bins.tolist(),
               "vote": float(votes[pc]), "vote_pool": float(ps_pool[pc].mean()),
               "votes_top": [[int(i), float(votes[i])] for i in np.argsort(-votes)[:5]]},
        "fpn": {"level": level, "sqrt_wh": sqrt_wh, "raw": raw, "k_min": 2,
                "k_max": 5, "coco_scale": coco, "level_at_coco_scale": level_coco},
        "misalignment": {"half_pixel_model": errors, "this_backbone": measured},
        "cell_centre": {"x": centre["x"], "y": centre["y"], "half_pixel_model": s / 2,
                        "receptive_field_px": centre["field"]},
        "mask_size": MASK_SIZE,
        "paper": PAPER,
        "torchvision_max_abs_difference": checks,
        "views": {"overview": over_view.as_dict(), "roi_pool": pool_view.as_dict(),
                  "roi_align": align_view.as_dict(), "aligned": cmp_view.as_dict(),
                  "ps_bins": ps_view.as_dict()},
        "roi_pool_edges_px": pool_edges,
        "misalignment_chart": chart,
        "captions": captions,
    }
    return LessonResult(images=images, summary=summary, captions=captions)
