"""Theoretical receptive fields of any convolutional network, read off one traced forward pass.

The textbook recursion (``rf += (k − 1)·d·jump``, ``jump *= s``; :func:`core.receptive.theoretical_rf`)
covers a chain of layers. Real networks are graphs: residual additions, concatenations (Inception,
DenseNet), squeeze-and-excitation gates, HRNet's exchange units with up-sampling. :func:`trace` runs a
forward pass under a :class:`torch.overrides.TorchFunctionMode` that follows every tensor and keeps,
for each of its two spatial axes,

* ``lo[i], hi[i]``: the first and last input pixel that output index ``i`` can depend on — exact and
  clipped at the border, because padding contributes nothing (a union over every path of the graph);
* ``jump, a, b``: the border-free (affine) form, index ``i`` covers ``[i·jump + a, i·jump + b]``, so
  ``b − a + 1`` is the classic receptive-field size (427 for ResNet-50, 196 for VGG-16's conv5_3).

Rules: convolutions, pooling (also adaptive), padding and interpolation move the fields; permutes move
the axes; anything elementwise or channel-wise (norms, activations, linear layers on channels, +, ×,
concatenation along channels) takes the union of its inputs; a spatial reduction that keeps its dims
(global pooling of an SE gate) makes the field global. An operation the tracer does not understand
drops the tensor's field instead of guessing (ViT token reshapes, Swin windows): those families get
their own reach rules in :mod:`core.receptive`.

Shapes are all it needs, so it runs on a model built on the ``meta`` device at no compute cost.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode
from torch.utils.weak import WeakTensorKeyDictionary

__all__ = ["Axis", "Field", "RFMode", "trace"]

_EMPTY = np.iinfo(np.int64).max // 4  # lo of an index that depends on no pixel (pure padding)


@dataclass(frozen=True)
class Axis:
    """The receptive field along one spatial axis of a feature map (see the module docstring)."""

    lo: np.ndarray
    hi: np.ndarray
    jump: float
    a: float
    b: float

    @property
    def size(self) -> float:
        """The border-free receptive-field size in input pixels (``inf`` once the field is global)."""
        return self.b - self.a + 1

    @staticmethod
    def identity(n: int) -> Axis:
        idx = np.arange(n, dtype=np.int64)
        return Axis(idx, idx.copy(), 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Field:
    """A tensor's receptive field: which of its dims are spatial (height, width) and their axes."""

    dims: tuple[int, int]
    axes: tuple[Axis, Axis]

    def box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """Input pixels ``(y0, x0, y1, x1)`` (inclusive) that output position ``(i, j)`` depends on."""
        h, w = self.axes
        return int(h.lo[i]), int(w.lo[j]), int(h.hi[i]), int(w.hi[j])

    @property
    def size(self) -> tuple[float, float]:
        return self.axes[0].size, self.axes[1].size

    @property
    def jump(self) -> tuple[float, float]:
        return self.axes[0].jump, self.axes[1].jump


# --------------------------------------------------------------------------------------------- #
# one axis through one operation


def _window(axis: Axis, out: int, starts: np.ndarray, taps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lo/hi of outputs that read input indices ``starts[o] + taps`` (out-of-range taps read padding)."""
    n = len(axis.lo)
    idx = starts[:, None] + taps[None, :]
    valid = (idx >= 0) & (idx < n)
    safe = np.clip(idx, 0, n - 1)
    lo = np.where(valid, axis.lo[safe], _EMPTY).min(axis=1)
    hi = np.where(valid, axis.hi[safe], -_EMPTY).max(axis=1)
    return lo[:out], hi[:out]


def _conv_axis(axis: Axis, out: int, k: int, s: int, p: int, d: int) -> Axis:
    lo, hi = _window(axis, out, np.arange(out) * s - p, np.arange(k) * d)
    j = axis.jump
    return Axis(lo, hi, j * s, axis.a - p * j, axis.b + ((k - 1) * d - p) * j)


def _adaptive_axis(axis: Axis, out: int) -> Axis:
    n = len(axis.lo)
    if out == 1:
        return _global_axis(axis)
    starts = (np.arange(out) * n) // out
    ends = -((-(np.arange(1, out + 1) * n)) // out)  # ceil
    width = int((ends - starts).max())
    # each bin reads only its own cells starts[o] … ends[o] − 1: a narrower bin must not take the widest
    # bin's taps (with 5 cells into 3 bins, bin 0 reads cells 0…1, not 0…2)
    idx = starts[:, None] + np.arange(width)[None, :]
    inside = idx < ends[:, None]
    safe = np.clip(idx, 0, n - 1)
    lo = np.where(inside, axis.lo[safe], _EMPTY).min(axis=1)
    hi = np.where(inside, axis.hi[safe], -_EMPTY).max(axis=1)
    # the bins overlap unevenly unless n is a multiple of out; the affine form bounds them
    k, s = width, n / out
    return Axis(lo, hi, axis.jump * s, axis.a, axis.b + (k - 1) * axis.jump)


def _global_axis(axis: Axis) -> Axis:
    valid = axis.lo < _EMPTY
    lo = np.array([axis.lo[valid].min() if valid.any() else _EMPTY])
    hi = np.array([axis.hi[valid].max() if valid.any() else -_EMPTY])
    return Axis(lo, hi, math.inf, -math.inf, math.inf)


def _pad_axis(axis: Axis, out: int, left: int, mode: str) -> Axis:
    n = len(axis.lo)
    src = np.arange(out) - left
    if mode == "replicate":
        src = np.clip(src, 0, n - 1)
    elif mode == "reflect":
        period = 2 * (n - 1) if n > 1 else 1
        src = np.abs((src + period) % period)
        src = np.where(src > n - 1, period - src, src)
    elif mode == "circular":
        src = src % n
    lo, hi = _window(axis, out, src, np.zeros(1, np.int64))
    j = axis.jump
    if mode == "constant":
        return Axis(lo, hi, j, axis.a - left * j, axis.b - left * j)
    return Axis(lo, hi, j, -math.inf, math.inf)  # wrapped/reflected indices: no affine form


def _interp_axis(axis: Axis, out: int, mode: str, align_corners: bool | None) -> Axis:
    n = len(axis.lo)
    o = np.arange(out, dtype=np.float64)
    if mode == "nearest":
        src0 = np.minimum(np.floor(o * n / out).astype(np.int64), n - 1)
        taps = np.zeros(1, np.int64)
    elif mode == "nearest-exact":
        src0 = np.minimum(np.floor((o + 0.5) * n / out).astype(np.int64), n - 1)
        taps = np.zeros(1, np.int64)
    else:  # linear family: the two neighbours of the sampling point (bicubic: four)
        if align_corners:
            pos = o * (n - 1) / max(out - 1, 1)
        else:
            pos = np.maximum((o + 0.5) * n / out - 0.5, 0.0)
        src0 = np.floor(pos).astype(np.int64)
        taps = np.arange(-1, 3) if mode == "bicubic" else np.arange(2)
        src0 = np.clip(src0, 0, n - 1)
    lo, hi = _window(axis, out, src0, taps)
    lo = np.where(lo == _EMPTY, axis.lo[np.clip(src0, 0, n - 1)], lo)
    hi = np.where(hi == -_EMPTY, axis.hi[np.clip(src0, 0, n - 1)], hi)
    f = out / n
    j = axis.jump / f
    reach = 0.0 if mode.startswith("nearest") else (2.0 if mode == "bicubic" else 1.0)
    return Axis(lo, hi, j, axis.a - max(f - 1, 0) * j - reach * axis.jump, axis.b + reach * axis.jump)


def _union(axes: Sequence[Axis], out: int) -> Axis:
    """Elementwise merge; an axis of size 1 broadcast over ``out`` positions covers all of them."""
    los, his, jumps, a, b = [], [], [], [], []
    for ax in axes:
        if len(ax.lo) == out:
            los.append(ax.lo)
            his.append(ax.hi)
            jumps.append(ax.jump)
            a.append(ax.a)
            b.append(ax.b)
        else:  # broadcast (len 1)
            g = _global_axis(ax) if len(ax.lo) > 1 else ax
            los.append(np.full(out, g.lo[0]))
            his.append(np.full(out, g.hi[0]))
            if out > 1 and not math.isinf(ax.a):
                a.append(-math.inf)
                b.append(math.inf)
            else:
                a.append(ax.a)
                b.append(ax.b)
            jumps.append(ax.jump)
    finite = [j for j in jumps if not math.isinf(j)]
    jump = min(finite) if finite else math.inf
    if any(abs(j - jump) > 1e-9 for j in finite):  # paths of different strides: no single affine form
        return Axis(np.min(los, axis=0), np.max(his, axis=0), jump, -math.inf, math.inf)
    return Axis(np.min(los, axis=0), np.max(his, axis=0), jump, min(a), max(b))


# --------------------------------------------------------------------------------------------- #
# argument parsing for the operations that move fields

_CONV = {"conv2d"}
_MAXPOOL = {"max_pool2d", "_max_pool2d", "max_pool2d_with_indices"}
_AVGPOOL = {"avg_pool2d", "lp_pool2d"}
_ADAPTIVE = {
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "_adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
}
_PAD = {"pad", "_pad"}
_INTERP = {"interpolate", "upsample", "upsample_nearest", "upsample_bilinear"}
_PERMUTE = {"permute"}
_TRANSPOSE = {"transpose", "swapaxes", "swapdims"}
_NO_FIELD = {
    "size",
    "dim",
    "numel",
    "__len__",
    "__get__",
    "shape",
    "stride",
    "is_contiguous",
    "item",
    "tolist",
    "__bool__",
    "__format__",
    "__repr__",
    "data_ptr",
}


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


def _arg(args: Sequence[Any], kwargs: dict[str, Any], i: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[i] if len(args) > i else default


class RFMode(TorchFunctionMode):
    """Follows receptive fields through every torch call made while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: WeakTensorKeyDictionary = WeakTensorKeyDictionary()

    def watch(self, x: torch.Tensor) -> None:
        """Make ``x`` (N, C, H, W) the input: each of its pixels is its own field."""
        self.fields[x] = Field((2, 3), (Axis.identity(x.shape[2]), Axis.identity(x.shape[3])))

    def field(self, t: torch.Tensor) -> Field | None:
        return self.fields.get(t)

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - torch's protocol
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name in _NO_FIELD:
            return out
        # an unexpected signature loses the field (never the forward pass)
        with contextlib.suppress(Exception):
            self._propagate(name, args, kwargs, out)
        return out

    def _propagate(self, name: str, args: Sequence[Any], kwargs: dict[str, Any], out: Any) -> None:
        first = out[0] if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor) else out
        if not isinstance(first, torch.Tensor):
            return
        inputs = [(t, self.fields[t]) for t in _tensors(args, kwargs) if t in self.fields]
        if not inputs:
            return
        src, fld = inputs[0]
        new = self._moved(name, args, kwargs, src, fld, first)
        if new is None and name not in (
            _CONV | _MAXPOOL | _AVGPOOL | _ADAPTIVE | _PAD | _INTERP | _PERMUTE | _TRANSPOSE
        ):
            new = _merge(inputs, first)
        if new is not None:
            self.fields[first] = new
        elif first in self.fields:  # an in-place op we could not follow: forget the stale field
            del self.fields[first]

    def _moved(
        self,
        name: str,
        args: Sequence[Any],
        kwargs: dict[str, Any],
        src: torch.Tensor,
        fld: Field,
        out: torch.Tensor,
    ) -> Field | None:
        if name in _PERMUTE:
            order = args[1:] if len(args) > 1 else kwargs.get("dims")
            if len(order) == 1 and isinstance(order[0], (tuple, list)):
                order = order[0]
            order = [int(o) % src.ndim for o in order]
            return Field((order.index(fld.dims[0]), order.index(fld.dims[1])), fld.axes)
        if name in _TRANSPOSE:
            d0, d1 = (
                int(_arg(args, kwargs, 1, "dim0", 0)) % src.ndim,
                int(_arg(args, kwargs, 2, "dim1", 0)) % src.ndim,
            )
            swap = {d0: d1, d1: d0}
            return Field(tuple(swap.get(d, d) for d in fld.dims), fld.axes)  # type: ignore[arg-type]
        spatial_last = src.ndim == 4 and fld.dims == (2, 3) and out.ndim == 4
        if not spatial_last:
            return None
        oh, ow = out.shape[2], out.shape[3]
        ah, aw = fld.axes
        if name in _CONV:
            weight = _arg(args, kwargs, 1, "weight", None)
            kh, kw = weight.shape[-2], weight.shape[-1]
            (sh, sw), (dh, dw) = (
                _pair(_arg(args, kwargs, 3, "stride", 1)),
                _pair(_arg(args, kwargs, 5, "dilation", 1)),
            )
            pad = _arg(args, kwargs, 4, "padding", 0)
            if isinstance(pad, str):
                ph, pw = ((dh * (kh - 1)) // 2, (dw * (kw - 1)) // 2) if pad == "same" else (0, 0)
            else:
                ph, pw = _pair(pad)
            return Field((2, 3), (_conv_axis(ah, oh, kh, sh, ph, dh), _conv_axis(aw, ow, kw, sw, pw, dw)))
        if name in _MAXPOOL or name in _AVGPOOL:
            offset = 1 if name == "lp_pool2d" else 0  # lp_pool2d(input, norm_type, kernel_size, ...)
            kh, kw = _pair(_arg(args, kwargs, 1 + offset, "kernel_size", 1))
            stride = _arg(args, kwargs, 2 + offset, "stride", None)
            (sh, sw) = _pair(stride) if stride not in (None, [], ()) else (kh, kw)
            ph, pw = _pair(_arg(args, kwargs, 3 + offset, "padding", 0)) if name != "lp_pool2d" else (0, 0)
            dh, dw = _pair(_arg(args, kwargs, 4, "dilation", 1)) if name in _MAXPOOL else (1, 1)
            return Field((2, 3), (_conv_axis(ah, oh, kh, sh, ph, dh), _conv_axis(aw, ow, kw, sw, pw, dw)))
        if name in _ADAPTIVE:
            return Field((2, 3), (_adaptive_axis(ah, oh), _adaptive_axis(aw, ow)))
        if name in _PAD:
            pad = list(_arg(args, kwargs, 1, "pad", ()))
            mode = _arg(args, kwargs, 2, "mode", "constant") or "constant"
            left_w = pad[0] if len(pad) >= 2 else 0
            top_h = pad[2] if len(pad) >= 4 else 0
            return Field((2, 3), (_pad_axis(ah, oh, top_h, mode), _pad_axis(aw, ow, left_w, mode)))
        if name in _INTERP:
            mode = _arg(args, kwargs, 3, "mode", "nearest")
            align = _arg(args, kwargs, 4, "align_corners", None)
            return Field((2, 3), (_interp_axis(ah, oh, mode, align), _interp_axis(aw, ow, mode, align)))
        return None


def _tensors(args: Iterable[Any], kwargs: dict[str, Any]) -> list[torch.Tensor]:
    found: list[torch.Tensor] = []

    def visit(v: Any) -> None:
        if isinstance(v, torch.Tensor):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            for item in v:
                visit(item)

    for v in args:
        visit(v)
    for v in kwargs.values():
        visit(v)
    return found


def _merge(inputs: Sequence[tuple[torch.Tensor, Field]], out: torch.Tensor) -> Field | None:
    """Elementwise or channel-wise op: the union of the inputs whose spatial dims line up with ``out``."""
    dims = inputs[0][1].dims
    per_axis: list[list[Axis]] = [[], []]
    for t, fld in inputs:
        if fld.dims != dims or t.ndim != out.ndim:
            return None
        for k, d in enumerate(dims):
            n_in, n_out = t.shape[d], out.shape[d]
            if n_in == n_out or n_in == 1:
                per_axis[k].append(fld.axes[k])
            elif n_out == 1:  # a reduction that keeps the dim (global pooling, an SE gate)
                per_axis[k].append(_global_axis(fld.axes[k]))
            else:
                return None
    axes = tuple(_union(per_axis[k], out.shape[d]) for k, d in enumerate(dims))
    return Field(dims, axes)  # type: ignore[arg-type]


def trace(model: torch.nn.Module, x: torch.Tensor, forward: Any = None) -> tuple[Any, RFMode]:
    """Run ``forward(model, x)`` (default ``model(x)``) under :class:`RFMode`; returns (output, mode).

    Read a result tensor's field with ``mode.field(tensor)``; ``None`` means the tracer lost it.
    """
    mode = RFMode()
    mode.watch(x)
    with torch.no_grad(), mode:
        out = forward(model, x) if forward is not None else model(x)
    return out, mode
