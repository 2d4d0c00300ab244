"""RoI operators — RoIPool, RoIAlign, position-sensitive RoIPool/RoIAlign (R-FCN) and FPN levels.

The geometry functions reproduce torchvision's CPU kernels step by step, in the same floating-point
type and the same order of operations, so the cells, bins and sampling points they return are the
ones ``torchvision.ops.roi_pool`` / ``roi_align`` / ``ps_roi_pool`` / ``ps_roi_align`` read:

* RoIPool: the box corners are rounded to cells (C's ``round``: halves away from zero), the end is
  inclusive (+1 cell), a box under one cell is forced to 1×1, bin ``i`` spans
  ``[⌊i·b⌋, ⌈(i+1)·b⌉)`` cells from the snapped start (``b`` = snapped size / k), clamped to the map;
  an empty bin gives 0, others the maximum.
* RoIAlign: no rounding; ``aligned=True`` shifts the box by −0.5 cell (detectron2's fix), ``aligned=False``
  forces the box to at least 1×1 cell; each bin averages ``s_h × s_w`` bilinear samples at
  ``start + (i + (iy + ½)/s_h)·b``, with ``s = sampling_ratio`` or the adaptive ``⌈size / k⌉`` per axis.
  A sample more than one cell outside the map reads 0; others are clamped to the border.
* PS-RoIPool: like RoIPool but without the +1 cell, bins clamped to ``H − 1`` / ``W − 1`` (so the last
  row and column of the map are never read), averages instead of maxima; bin ``(i, j)`` of output
  channel ``c`` reads input channel ``(c·k_h + i)·k_w + j``. PS-RoIAlign: RoIAlign with ``aligned=True``
  sampling, the same channel rule.
* FPN level: ``⌊k0 + log2(√(wh)/s0) + 1e−6⌋`` clamped to ``[k_min, k_max]``, as torchvision's
  ``LevelMapper`` (the FPN paper's Eq. 1).

The lesson that shows them on a photo is :mod:`core.roi_lesson` (pictures in :mod:`core.viz.roi`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = [
    "AlignGeometry",
    "align_geometry",
    "bilinear_taps",
    "cell_centre",
    "fpn_level",
    "misalignment",
    "ps_channels",
    "ps_roi_align",
    "ps_roi_pool",
    "ps_roi_pool_bins",
    "roi_align",
    "roi_align_points",
    "roi_pool",
    "roi_pool_bins",
]

MASK_SIZE = 28  # Mask R-CNN's FPN mask head predicts 28×28 per RoI (the C4 head 14×14)


# --------------------------------------------------------------------------------------------- #
# the operators' geometry, as torchvision computes it


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        kh = kw = int(size)
    else:
        kh, kw = (int(v) for v in size)
    if kh < 1 or kw < 1:
        raise ValueError(f"output_size must be at least 1×1, not {kh}×{kw}.")
    return kh, kw


def _box(box: Any, dtype: Any) -> np.ndarray:
    if isinstance(box, torch.Tensor):
        box = box.detach().cpu().numpy()
    b = np.asarray(box, dtype=dtype).reshape(-1)
    if b.shape != (4,):
        raise ValueError(f"A box is four numbers x0, y0, x1, y1; got {b.size}.")
    return b


def _c_round(value: np.floating) -> int:
    """C's ``round``: halves away from zero (numpy's ``round`` sends halves to even)."""
    return int(math.copysign(math.floor(abs(float(value)) + 0.5), float(value)))


def _quantised_bins(box: Any, output_size: Any, spatial_scale: float, feature_size: Sequence[int],
                    dtype: Any, inclusive_end: bool, clamp_to_last: bool) -> np.ndarray:
    t = np.dtype(dtype).type
    kh, kw = _pair(output_size)
    height, width = (int(v) for v in feature_size)
    b = _box(box, t)
    s = t(spatial_scale)
    start_w, start_h, end_w, end_h = (_c_round(v * s) for v in b)
    extra = 1 if inclusive_end else 0
    roi_w = max(end_w - start_w + extra, 1)
    roi_h = max(end_h - start_h + extra, 1)
    bin_h = t(roi_h) / t(kh)
    bin_w = t(roi_w) / t(kw)
    top_h, top_w = (height - 1, width - 1) if clamp_to_last else (height, width)

    def edges(k: int, size: t, start: int, top: int) -> tuple[np.ndarray, np.ndarray]:
        lo = np.floor(np.arange(k, dtype=t) * size).astype(np.int64) + start
        hi = np.ceil(np.arange(1, k + 1, dtype=t) * size).astype(np.int64) + start
        return np.clip(lo, 0, top), np.clip(hi, 0, top)

    y0, y1 = edges(kh, bin_h, start_h, top_h)
    x0, x1 = edges(kw, bin_w, start_w, top_w)
    out = np.empty((kh, kw, 4), np.int64)
    out[..., 0], out[..., 1] = y0[:, None], y1[:, None]
    out[..., 2], out[..., 3] = x0[None, :], x1[None, :]
    return out


def roi_pool_bins(box: Any, output_size: Any, spatial_scale: float, feature_size: Sequence[int],
                  dtype: Any = np.float32) -> np.ndarray:
    """For each of the k×k bins the cells ``[y0, y1) × [x0, x1)`` that ``torchvision.ops.roi_pool``
    max-pools: ``(kh, kw, 4)`` int64 rows ``(y0, y1, x0, x1)`` (``y1 ≤ y0`` or ``x1 ≤ x0``: empty bin, 0).

    ``box`` is ``(x0, y0, x1, y1)`` in input pixels; ``dtype`` is the feature map's (float32 or 64),
    because torchvision rounds and splits in that type.
    """
    return _quantised_bins(box, output_size, spatial_scale, feature_size, dtype, inclusive_end=True,
                           clamp_to_last=False)


def ps_roi_pool_bins(box: Any, output_size: Any, spatial_scale: float, feature_size: Sequence[int],
                     dtype: Any = np.float32) -> np.ndarray:
    """The cells each bin of ``torchvision.ops.ps_roi_pool`` averages, like :func:`roi_pool_bins`.

    Two differences from RoIPool, both torchvision's: the snapped end is not inclusive, and bin
    edges are clamped to ``H − 1`` / ``W − 1``, so the map's last row and column are never read.
    """
    return _quantised_bins(box, output_size, spatial_scale, feature_size, dtype, inclusive_end=False,
                           clamp_to_last=True)


@dataclass(frozen=True)
class AlignGeometry:
    """The continuous RoI of RoIAlign in feature-map coordinates, and its sampling grid."""

    start: tuple[float, float]  # (y, x) of the RoI's top-left corner after the optional −0.5 shift
    size: tuple[float, float]  # (h, w) after the optional 1×1 minimum
    bin_size: tuple[float, float]
    grid: tuple[int, int]  # samples per bin (s_h, s_w)
    count: int  # the divisor of the average


def align_geometry(box: Any, output_size: Any, spatial_scale: float, sampling_ratio: int,
                    aligned: bool, dtype: Any, minimum_one: bool) -> tuple[AlignGeometry, np.ndarray]:
    t = np.dtype(dtype).type
    kh, kw = _pair(output_size)
    b = _box(box, t)
    s = t(spatial_scale)
    offset = t(0.5) if aligned else t(0.0)
    start_w, start_h, end_w, end_h = (v * s - offset for v in b)
    roi_w, roi_h = end_w - start_w, end_h - start_h
    if minimum_one:
        roi_w, roi_h = max(roi_w, t(1.0)), max(roi_h, t(1.0))
    bin_h, bin_w = roi_h / t(kh), roi_w / t(kw)
    grid_h = int(sampling_ratio) if sampling_ratio > 0 else math.ceil(float(roi_h / t(kh)))
    grid_w = int(sampling_ratio) if sampling_ratio > 0 else math.ceil(float(roi_w / t(kw)))

    def axis(k: int, start: t, size: t, grid: int) -> np.ndarray:
        base = start + np.arange(k, dtype=t) * size
        frac = (np.arange(grid, dtype=t) + t(0.5)) * size / t(max(grid, 1))
        return base[:, None] + frac[None, :]  # (k, grid)

    ys = axis(kh, start_h, bin_h, grid_h)
    xs = axis(kw, start_w, bin_w, grid_w)
    points = np.empty((kh, kw, grid_h, grid_w, 2), t)
    points[..., 0] = ys[:, None, :, None]
    points[..., 1] = xs[None, :, None, :]
    geometry = AlignGeometry((float(start_h), float(start_w)), (float(roi_h), float(roi_w)),
                             (float(bin_h), float(bin_w)), (grid_h, grid_w), grid_h * grid_w)
    return geometry, points


def roi_align_points(box: Any, output_size: Any, spatial_scale: float, sampling_ratio: int = -1,
                     aligned: bool = False, dtype: Any = np.float32) -> np.ndarray:
    """The sampling points ``(y, x)`` (feature-map coordinates) that ``torchvision.ops.roi_align``
    averages in each bin: ``(kh, kw, s_h, s_w, 2)``, ``s`` = ``sampling_ratio`` or, when it is ≤ 0,
    the adaptive ``⌈bin size⌉`` of each axis (0 for a box of zero size: that bin gives 0)."""
    return align_geometry(box, output_size, spatial_scale, sampling_ratio, aligned, dtype,
                           minimum_one=not aligned)[1]


def bilinear_taps(points: Any, feature_size: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torchvision's bilinear read of each point: ``(rows, cols, weights)``, each ``(..., 4)``.

    The four taps are (low, low), (low, high), (high, low), (high, high) in (y, x); a point more than
    one cell outside the map gets four zero weights; points in ``[-1, 0]`` are clamped to 0 and points
    past the last cell to it (then two or four taps coincide).
    """
    height, width = (int(v) for v in feature_size)
    p = np.asarray(points)
    t = p.dtype.type if p.dtype.kind == "f" else np.float64
    # y and x side by side in the last axis, so every step is one numpy call for both (each call
    # costs ~2 µs, more than its arithmetic on a RoIAlign grid)
    q = p.astype(t)  # (..., 2): a copy, written in place below
    size = np.array([height, width])
    valid = ((q >= -1.0) & (q <= size)).all(axis=-1)
    every = bool(valid.all())  # the usual case: no point to mask
    np.copyto(q, t(0), where=q <= 0)  # = np.where(q <= 0, 0, q): NaN stays, −0 becomes +0
    low = (q if every else np.where(valid[..., None], q, 0)).astype(np.int64)
    edge = low >= size - 1
    np.minimum(low, size - 1, out=low)  # = size − 1 on the edge
    np.copyto(q, low, where=edge, casting="unsafe")
    frac = np.empty((*q.shape, 2), t)  # (..., y/x, high weight/low weight)
    np.subtract(q, low, out=frac[..., 1], casting="unsafe")  # q − low in t (low is exact in t)
    np.subtract(t(1.0), frac[..., 1], out=frac[..., 0])
    # (hy, ly) × (hx, lx) = hy·hx, hy·lx, ly·hx, ly·lx: the four products in one broadcast
    weights = (frac[..., 0, :, None] * frac[..., 1, None, :]).reshape(*q.shape[:-1], 4)
    taps = np.empty((*q.shape, 2), np.int64)  # (..., y/x, low/high)
    taps[..., 0] = low
    np.add(low, ~edge, out=taps[..., 1])  # low + 1, or low itself on the edge
    rows = taps[..., 0, _ROW_TAP]
    cols = taps[..., 1, _COL_TAP]
    if not every:
        weights[~valid] = 0
        rows[~valid] = 0
        cols[~valid] = 0
    return rows, cols, weights


_ROW_TAP, _COL_TAP = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])  # (low, low), (low, high), (high, low), …


def _as_map(feature: Any) -> np.ndarray:
    f = feature.detach().cpu().numpy() if isinstance(feature, torch.Tensor) else np.asarray(feature)
    if f.ndim == 4 and f.shape[0] == 1:
        f = f[0]
    if f.ndim == 2:
        f = f[None]
    if f.ndim != 3:
        raise ValueError(f"A feature map is (C, H, W); got shape {tuple(f.shape)}.")
    return f


def roi_pool(feature: Any, box: Any, output_size: Any, spatial_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """RoIPool of one box on a ``(C, H, W)`` map: ``(values (C, kh, kw), argmax (C, kh, kw, 2))``.

    ``argmax`` is the (row, col) of the cell each maximum came from, ``(-1, -1)`` for an empty bin.
    """
    f = _as_map(feature)
    bins = roi_pool_bins(box, output_size, spatial_scale, f.shape[1:], f.dtype)
    c = f.shape[0]
    kh, kw = bins.shape[:2]
    values = np.zeros((c, kh, kw), f.dtype)
    arg = np.full((c, kh, kw, 2), -1, np.int64)
    for i in range(kh):
        for j in range(kw):
            y0, y1, x0, x1 = bins[i, j]
            if y1 <= y0 or x1 <= x0:
                continue
            patch = f[:, y0:y1, x0:x1].reshape(c, -1)
            best = np.argmax(patch, axis=1)
            values[:, i, j] = patch[np.arange(c), best]
            arg[:, i, j, 0] = y0 + best // (x1 - x0)
            arg[:, i, j, 1] = x0 + best % (x1 - x0)
    return values, arg


def _sample_mean(f: np.ndarray, points: np.ndarray, count: int) -> np.ndarray:
    """``Σ_samples (w1·v1 + w2·v2 + w3·v3 + w4·v4) / count`` per channel, ``(C, kh, kw)``, accumulated
    in the map's type and in torchvision's order (samples row-major), so the values are its values.

    A small read (one channel, a few bins: the sampling-point picture's) gathers every sample at once
    and sums them with ``cumsum``, which adds one after the other as the loop does (``sum`` would add
    pairwise and round differently); a large one loops over the samples to keep memory to one step's.
    """
    rows, cols, weights = bilinear_taps(points, f.shape[1:])
    t = f.dtype.type
    kh, kw, gh, gw = points.shape[:4]
    if f.shape[0] * kh * kw * gh * gw <= _AT_ONCE and gh * gw > 0:
        n = gh * gw
        v = f[:, rows.reshape(kh, kw, n, 4), cols.reshape(kh, kw, n, 4)]  # (C, kh, kw, samples, 4)
        w = weights.reshape(kh, kw, n, 4).astype(f.dtype)
        term = w[..., 0] * v[..., 0] + w[..., 1] * v[..., 1]
        term = term + w[..., 2] * v[..., 2]
        term = term + w[..., 3] * v[..., 3]
        term[..., 0] += t(0)  # the loop's first step is 0 + term (which turns −0 into +0)
        acc = np.cumsum(term, axis=-1)[..., -1]
    else:
        acc = np.zeros((f.shape[0], kh, kw), f.dtype)
        for a in range(gh):
            for b in range(gw):
                v = f[:, rows[:, :, a, b], cols[:, :, a, b]]  # (C, kh, kw, 4)
                w = weights[:, :, a, b].astype(f.dtype)
                term = w[..., 0] * v[..., 0] + w[..., 1] * v[..., 1]
                term = term + w[..., 2] * v[..., 2]
                acc += term + w[..., 3] * v[..., 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        return acc / t(count)


_AT_ONCE = 1 << 14  # samples × channels × bins gathered at once (×4 taps; a few hundred kB at most)


def roi_align(feature: Any, box: Any, output_size: Any, spatial_scale: float, sampling_ratio: int = -1,
              aligned: bool = False) -> np.ndarray:
    """RoIAlign of one box on a ``(C, H, W)`` map from :func:`roi_align_points`: ``(C, kh, kw)``."""
    f = _as_map(feature)
    geometry, points = align_geometry(box, output_size, spatial_scale, sampling_ratio, aligned, f.dtype,
                                       minimum_one=not aligned)
    return _sample_mean(f, points, max(geometry.count, 1))


def ps_channels(channels_out: int, output_size: Any) -> np.ndarray:
    """``(C_out, kh, kw)`` input channel of each output channel and bin: ``(c·kh + i)·kw + j``."""
    kh, kw = _pair(output_size)
    return np.arange(channels_out * kh * kw, dtype=np.int64).reshape(channels_out, kh, kw)


def _ps_split(f: np.ndarray, output_size: Any) -> tuple[int, int, int]:
    kh, kw = _pair(output_size)
    if f.shape[0] % (kh * kw):
        raise ValueError(f"Position-sensitive pooling needs a multiple of k² = {kh * kw} channels; "
                         f"the map has {f.shape[0]}.")
    return f.shape[0] // (kh * kw), kh, kw


def ps_roi_pool(feature: Any, box: Any, output_size: Any, spatial_scale: float) -> np.ndarray:
    """PS-RoIPool (R-FCN) of one box: bin (i, j) of output channel c averages its own input channel
    (:func:`ps_channels`) over :func:`ps_roi_pool_bins`; ``(C_out, kh, kw)``."""
    f = _as_map(feature)
    c_out, kh, kw = _ps_split(f, output_size)
    bins = ps_roi_pool_bins(box, (kh, kw), spatial_scale, f.shape[1:], f.dtype)
    maps = f.reshape(c_out, kh * kw, *f.shape[1:])
    t = f.dtype.type
    out = np.zeros((c_out, kh, kw), f.dtype)
    for i in range(kh):
        for j in range(kw):
            y0, y1, x0, x1 = bins[i, j]
            if y1 > y0 and x1 > x0:  # a running sum, row by row, in the map's type (as torchvision adds)
                total = np.cumsum(maps[:, i * kw + j, y0:y1, x0:x1].reshape(c_out, -1), axis=1, dtype=f.dtype)
                out[:, i, j] = total[:, -1] / t((y1 - y0) * (x1 - x0))
    return out


def ps_roi_align(feature: Any, box: Any, output_size: Any, spatial_scale: float,
                 sampling_ratio: int = -1) -> np.ndarray:
    """PS-RoIAlign of one box: RoIAlign's ``aligned=True`` samples, bin (i, j) reading its own input
    channel; ``(C_out, kh, kw)``. (torchvision divides by s_h·s_w without a floor of 1, so an adaptive
    grid on a box of zero size gives NaN, as there.)"""
    f = _as_map(feature)
    c_out, kh, kw = _ps_split(f, output_size)
    geometry, points = align_geometry(box, (kh, kw), spatial_scale, sampling_ratio, True, f.dtype,
                                       minimum_one=False)
    maps = f.reshape(c_out, kh * kw, *f.shape[1:])
    out = np.zeros((c_out, kh, kw), f.dtype)
    for i in range(kh):
        for j in range(kw):
            # bin (i, j) of every output channel reads its own input channel (c·kh + i)·kw + j
            one = _sample_mean(maps[:, i * kw + j], points[i: i + 1, j: j + 1], geometry.count)
            out[:, i, j] = one[:, 0, 0]
    return out


FPN_EPS = 1e-6  # torchvision's LevelMapper: added inside the floor so a box meant for a boundary stays up


def fpn_level(boxes: Any, k_min: int = 2, k_max: int = 5, canonical_scale: int = 224,
              canonical_level: int = 4, eps: float = FPN_EPS) -> np.ndarray:
    """The FPN level of each box (``(R, 4)`` xyxy): ``⌊k0 + log2(√(wh)/s0) + eps⌋`` clamped to
    ``[k_min, k_max]`` — the level itself (torchvision's ``LevelMapper`` returns it minus ``k_min``)."""
    b = boxes if isinstance(boxes, torch.Tensor) else torch.as_tensor(np.asarray(boxes, dtype=np.float32))
    b = b.reshape(-1, 4)
    s = torch.sqrt((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))
    level = torch.floor(canonical_level + torch.log2(s / canonical_scale) + torch.tensor(eps, dtype=s.dtype))
    return torch.clamp(level, min=k_min, max=k_max).to(torch.int64).numpy()


def misalignment(box: Any, output_size: Any, stride: int, sampling_ratio: int, feature_size: Sequence[int],
                 centre: Sequence[float] | None = None,
                 dtype: Any = np.float32, ps_size: Any = None) -> dict[str, dict[str, float]]:
    """How far each operator reads from where the box says, in input pixels (worst edge or sample).

    Pixel model: cell ``c`` of the stride-``s`` map is centred on input pixel ``s·c + δ`` and spans
    ``±s/2`` around it; ``centre = (δx, δy)``, by default ``(s/2, s/2)`` — the half-pixel model in which
    ``aligned=True`` is exact (a map that averages pixels ``[c·s, (c+1)·s)``). A bin should cover
    ``x0 + [j, j+1)·w/k``; RoIPool's error is how far the cells it pools end from those edges (the box
    snap alone: the snapped region's edges from the box's). A RoIAlign sample at feature coordinate
    ``u`` reads the map as if it were at ``s·u + δ``; it should be at its regular point in the box.
    Per axis (``x_px``, ``y_px``), the worse of both (``px``), and in cells of a 28×28 mask of the box
    (``mask_cells``: the larger of the two axes' offsets divided by that axis' mask cell).
    PS-RoIPool's bins are ``ps_size``×``ps_size`` (R-FCN's k, by default ``output_size``).
    """
    b = _box(box, np.float64)
    kh, kw = _pair(output_size)
    s = float(stride)
    dx, dy = (s / 2, s / 2) if centre is None else (float(centre[0]), float(centre[1]))
    w, h = b[2] - b[0], b[3] - b[1]
    out: dict[str, dict[str, float]] = {}

    def record(name: str, ex: float, ey: float) -> None:
        cells = max(ex / (w / MASK_SIZE) if w > 0 else math.inf,
                    ey / (h / MASK_SIZE) if h > 0 else math.inf)
        out[name] = {"px": float(max(ex, ey)), "x_px": float(ex), "y_px": float(ey),
                     "mask_cells": float(cells)}

    def cell_edges(cells: np.ndarray, delta: float) -> np.ndarray:
        return cells.astype(np.float64) * s + delta - s / 2

    snap = roi_pool_bins(b, 1, 1.0 / s, (1 << 30, 1 << 30), dtype)[0, 0]
    snapped = np.array([cell_edges(snap[2], dx), cell_edges(snap[0], dy), cell_edges(snap[3], dx),
                        cell_edges(snap[1], dy)])
    err = np.abs(snapped - b)
    record("roi_pool_box_snap", max(err[0], err[2]), max(err[1], err[3]))
    ph, pw = (kh, kw) if ps_size is None else _pair(ps_size)
    for name, fn, (nh, nw) in (("roi_pool", roi_pool_bins, (kh, kw)),
                               ("ps_roi_pool", ps_roi_pool_bins, (ph, pw))):
        bins = fn(b, (nh, nw), 1.0 / s, feature_size, dtype)
        edges_y = b[1] + np.arange(nh + 1) * h / nh
        edges_x = b[0] + np.arange(nw + 1) * w / nw
        ey = np.maximum(np.abs(cell_edges(bins[:, 0, 0], dy) - edges_y[:-1]),
                        np.abs(cell_edges(bins[:, 0, 1], dy) - edges_y[1:]))
        ex = np.maximum(np.abs(cell_edges(bins[0, :, 2], dx) - edges_x[:-1]),
                        np.abs(cell_edges(bins[0, :, 3], dx) - edges_x[1:]))
        record(name, ex.max(), ey.max())
    for name, aligned in (("roi_align_aligned_false", False), ("roi_align_aligned_true", True)):
        geometry, points = align_geometry(b, (kh, kw), 1.0 / s, sampling_ratio, aligned, dtype,
                                           minimum_one=not aligned)
        gh, gw = geometry.grid
        if gh * gw == 0:
            record(name, 0.0, 0.0)
            continue
        want_y = b[1] + (np.arange(kh)[:, None] + (np.arange(gh)[None, :] + 0.5) / gh) / kh * h  # (kh, gh)
        want_x = b[0] + (np.arange(kw)[:, None] + (np.arange(gw)[None, :] + 0.5) / gw) / kw * w
        got_y = points[:, 0, :, 0, 0].astype(np.float64) * s + dy
        got_x = points[0, :, 0, :, 1].astype(np.float64) * s + dx
        record(name, np.abs(got_x - want_x).max(), np.abs(got_y - want_y).max())
    return out


_CENTRES: dict[tuple[Any, ...], tuple[float | None, int | None]] = {}
_CENTRES_LOCK = threading.Lock()


def cell_centre(model: torch.nn.Module, stride: int, input_hw: Sequence[int], key: Any = None,
                min_length: int = 1280) -> dict[str, Any]:
    """Where a backbone's stride-``s`` cells really sit: cell ``c`` is centred on input pixel ``s·c + δ``.

    Measured, not assumed: the support of ``∂ feature[:, c] / ∂ input`` (the theoretical receptive
    field, on a random input) along a strip as long as the network input's side plus a multiple of
    32 px — so every stride-2 layer up to stride 32 sees the same parity, hence the same "same"-style
    padding, as on the real input — and at least ``min_length`` long so the field fits. ``δ`` is the
    support's centre (continuous coordinates: pixel ``p`` spans ``[p, p+1)``); ``None`` where the
    field does not fit. Padding is the same for both axes, so ``δ`` depends only on the side's length
    modulo 32: one strip per length class, cached per ``key`` (the model). Returns
    ``{"x": δx, "y": δy, "field": [width_x, width_y]}``.
    """
    height, width = (int(v) for v in input_hw)
    x, fx = _axis_centre(model, int(stride), width, key, min_length)
    y, fy = _axis_centre(model, int(stride), height, key, min_length)
    return {"x": x, "y": y, "field": [fx, fy]}


def _axis_centre(model: torch.nn.Module, stride: int, size: int, key: Any,
                 min_length: int) -> tuple[float | None, int | None]:
    cache_key = None if key is None else (key, stride, size % 32, min_length)
    if cache_key is not None:
        with _CENTRES_LOCK:
            if cache_key in _CENTRES:
                return _CENTRES[cache_key]
    reductions = [int(f["reduction"]) for f in model.feature_info]
    index = reductions.index(stride)
    length = size + 32 * max(0, math.ceil((min_length - size) / 32))
    x = torch.randn(1, 3, 64, length, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    with torch.enable_grad():
        fmap = model.forward_intermediates(x, indices=[index], intermediates_only=True, stop_early=True)[0]
        c = fmap.shape[-1] // 2
        fmap[0, :, :, c].float().sum().backward()
    profile = x.grad[0].abs().sum(dim=(0, 1)).double().numpy()
    support = np.nonzero(profile > 0)[0]
    if support.size == 0 or support[0] == 0 or support[-1] == length - 1:
        result: tuple[float | None, int | None] = (None, None)
    else:
        result = (float((support[0] + support[-1] + 1) / 2 - stride * c), int(support[-1] - support[0] + 1))
    if cache_key is not None:
        with _CENTRES_LOCK:
            _CENTRES[cache_key] = result
    return result
