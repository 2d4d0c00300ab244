"""What Compare measures of one classifier, exact to the reference: size, cost, heatmaps, faithfulness.

Kept apart from the lesson's orchestration (:mod:`core.compare`): parameter and fvcore FLOP counts,
latency, Grad-CAM / Grad-CAM++ (through :mod:`core.cam`, equal to pytorch-grad-cam's maps), the ViT's
attention and rollout, and the faithfulness check (hide the hottest share of the heatmap and measure
the probability drop against a random blob map of the same area). Nothing here draws a card.
"""

from __future__ import annotations

import copy
import importlib
import logging
import statistics
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch

from core import cam, zoo

log = logging.getLogger("lenslab.compare")

# --------------------------------------------------------------------------------------------- #
# cost: parameters, multiply-adds, latency


def count_parameters(model: torch.nn.Module) -> int:
    """All parameters of the model (heads included), counted once each."""
    return sum(p.numel() for p in model.parameters())


_FLOPS: dict[str, int] = {}


def count_flops(name: str, model: torch.nn.Module | None = None) -> int:
    """Multiply-adds of one forward pass at the entry's input size, counted by fvcore (cached per name).

    FLOPs do not depend on the weights, so the count runs on a private copy of ``model`` (or a fresh
    random instance) — with timm's fused attention switched off on that copy only, because fvcore
    cannot see inside ``scaled_dot_product_attention`` and would miss the attention matmuls.
    """
    if name not in _FLOPS:
        from fvcore.nn import FlopCountAnalysis

        entry = zoo.get_entry(name)
        if model is not None:
            private = copy.deepcopy(model)
        elif entry.builder == "timm":
            private = _private_timm(entry)
        else:
            private = copy.deepcopy(zoo.load_model(name, "random").model)
        for module in private.modules():
            if hasattr(module, "fused_attn"):
                module.fused_attn = False
        analysis = FlopCountAnalysis(private.eval(), torch.zeros(1, 3, entry.input_size, entry.input_size))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        with torch.no_grad():
            _FLOPS[name] = int(analysis.total())
    return _FLOPS[name]


def _private_timm(entry: zoo.ModelEntry) -> torch.nn.Module:
    import timm

    return timm.create_model(entry.arch, pretrained=False, **entry.kwargs).eval()


def measure_latency(model: torch.nn.Module, size: int, runs: int = 3) -> float:
    """Median seconds of ``runs`` batch-1 forward passes at ``size``² after one warm-up pass."""
    x = torch.zeros(1, 3, size, size)
    times = []
    with _lock(model), torch.inference_mode():
        model(x)
        for _ in range(max(1, runs)):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


_MODEL_LOCKS: weakref.WeakKeyDictionary[torch.nn.Module, threading.Lock] = weakref.WeakKeyDictionary()
_MODEL_LOCKS_GUARD = threading.Lock()


def _lock(model: torch.nn.Module) -> threading.Lock:
    """One lock per shared model: timings (and rollout's per-call qkv hooks) must not interleave."""
    with _MODEL_LOCKS_GUARD:
        return _MODEL_LOCKS.setdefault(model, threading.Lock())


# --------------------------------------------------------------------------------------------- #
# heatmaps


@dataclass(frozen=True)
class CamSpec:
    """Where Grad-CAM looks in a model and how that layer's output becomes an NCHW map."""

    family: str  # "cnn" | "vit" | "swin" | "mlp"
    layer_name: str
    layer: torch.nn.Module = field(compare=False, repr=False)
    reshape: Callable[[torch.Tensor], torch.Tensor] | None = field(compare=False, repr=False, default=None)


def tokens_to_nchw(prefix: int, grid: tuple[int, int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """(B, prefix + h·w, C) tokens, row-major over the patch grid → (B, C, h, w)."""
    h, w = grid

    def reshape(x: torch.Tensor) -> torch.Tensor:
        b, _, c = x.shape
        return x[:, prefix:, :].reshape(b, h, w, c).permute(0, 3, 1, 2)

    return reshape


def nhwc_to_nchw(x: torch.Tensor) -> torch.Tensor:
    """timm's Swin stages output (B, H, W, C); Grad-CAM wants (B, C, H, W)."""
    return x.permute(0, 3, 1, 2)


def cam_spec(model: torch.nn.Module, input_size: int = 224) -> CamSpec:
    """The Grad-CAM target layer of a timm classifier and its reshape transform.

    * ViT/DeiT: the input of the last block's attention (``blocks[-1].norm1``): the class token reads
      the patch tokens there; after the last block only the class token reaches the head, so the
      patch tokens' gradients would be zero.
    * Swin (v1/v2): the last stage (``layers[-1]``), channels-last.
    * gMLP/ResMLP (timm's MlpMixer): the last block's tokens.
    * CNNs: the last top-level child whose output is still a spatial map (layer4, features,
      stages/norm_pre, bn2, s4 …), found by one probing forward pass.
    """
    from timm.models import MlpMixer, SwinTransformer, SwinTransformerV2, VisionTransformer

    if isinstance(model, VisionTransformer):
        grid = tuple(model.patch_embed.grid_size)
        return CamSpec("vit", "blocks[-1].norm1", model.blocks[-1].norm1,
                       tokens_to_nchw(model.num_prefix_tokens, grid))
    if isinstance(model, (SwinTransformer, SwinTransformerV2)):
        return CamSpec("swin", "layers[-1]", model.layers[-1], nhwc_to_nchw)
    if isinstance(model, MlpMixer):
        return CamSpec("mlp", "blocks[-1]", model.blocks[-1], tokens_to_nchw(0, tuple(model.stem.grid_size)))
    name = _last_spatial_child(model, input_size)
    return CamSpec("cnn", name, getattr(model, name), None)


# keyed by the model object (weakly), so a freed model's id reused by another never returns a stale layer
_SPATIAL_CHILD: weakref.WeakKeyDictionary[torch.nn.Module, dict[int, str]] = weakref.WeakKeyDictionary()


def _last_spatial_child(model: torch.nn.Module, size: int) -> str:
    known = _SPATIAL_CHILD.setdefault(model, {})
    if size not in known:
        shapes: dict[str, tuple[int, ...]] = {}
        # a per-call view with every top-level child wrapped: the shared model gets no hooks
        view = cam.view_with(model, {name: _ShapeProbe(child, name, shapes)
                                     for name, child in model.named_children()})
        with torch.inference_mode():
            view(torch.zeros(1, 3, size, size))
        spatial = [n for n, s in shapes.items() if len(s) == 4 and s[2] > 1 and s[3] > 1]
        if not spatial:
            raise ValueError(f"{type(model).__name__} has no spatial feature map for Grad-CAM.")
        known[size] = spatial[-1]  # dicts keep execution order
    return known[size]


class _ShapeProbe(torch.nn.Module):
    """Runs one child of a model and records the shape of what it returns."""

    def __init__(self, child: torch.nn.Module, name: str, shapes: dict[str, tuple[int, ...]]):
        super().__init__()
        self.child, self.name, self.shapes = child, name, shapes

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.child(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            self.shapes[self.name] = tuple(out.shape)
        return out


def grad_cam(model: torch.nn.Module, x: torch.Tensor, class_index: int, method: str = "gradcam",
             spec: CamSpec | None = None) -> np.ndarray:
    """Grad-CAM (or Grad-CAM++) of ``class_index`` for a (1, 3, S, S) input: (S, S) in [0, 1].

    :func:`core.cam.grad_cam`: the network up to the target layer runs without autograd and the
    class score is differentiated back to that layer only; the shared model is not touched (no
    hooks), so no lock is needed. The maps equal pytorch-grad-cam's.
    """
    spec = spec or cam_spec(model, x.shape[-1])
    return cam.grad_cam(model, x, int(class_index), spec.layer, spec.reshape, method)[0]


def vit_attentions(model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Softmax attention (B, heads, N, N) of every block of a timm ViT, without changing the model.

    timm's fused attention never forms the matrix, so we read each block's ``qkv`` projection with a
    forward hook and form ``softmax(q·kᵀ/√d)`` ourselves, exactly as timm's unfused path does
    (including its optional q/k norms).
    """
    captured: list[torch.Tensor] = []
    handles = []
    for block in model.blocks:
        attn = block.attn

        def hook(_m: Any, _i: Any, out: torch.Tensor, attn: Any = attn) -> None:
            b, n, _ = out.shape
            qkv = out.reshape(b, n, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
            q, k = attn.q_norm(qkv[0]), attn.k_norm(qkv[1])
            captured.append(((q * attn.scale) @ k.transpose(-2, -1)).softmax(dim=-1))

        handles.append(attn.qkv.register_forward_hook(hook))
    try:
        with _lock(model), torch.inference_mode():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return captured


def attention_rollout(attentions: Sequence[Any], head_fusion: str = "mean",
                      discard_ratio: float = 0.0) -> np.ndarray:
    """Abnar & Zuidema's rollout: fuse heads, A′ = (A + I)/2 row-normalised, multiply over layers.

    ``attentions``: per layer (heads, N, N) or (1, heads, N, N). Returns the (N, N) joint attention;
    row 0 is the class token's attention to every token. ``discard_ratio`` zeroes that fraction of
    the weakest fused weights per layer (never the class token's own column).
    """
    result = None
    for a in attentions:
        a = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a).double()
        a = a[0] if a.dim() == 4 else a
        fused = {"mean": a.mean(0), "max": a.amax(0), "min": a.amin(0)}[head_fusion]
        if discard_ratio > 0:
            flat = fused.flatten().clone()
            k = int(flat.numel() * discard_ratio)
            if k:
                idx = flat.topk(k, largest=False).indices
                idx = idx[idx % fused.shape[-1] != 0]  # keep the class-token column
                flat[idx] = 0
            fused = flat.view_as(fused)
        eye = torch.eye(fused.shape[-1], dtype=fused.dtype)
        step = (fused + eye) / 2
        step = step / step.sum(dim=-1, keepdim=True)
        result = step if result is None else step @ result
    if result is None:
        raise ValueError("attention_rollout needs at least one layer")
    return result.numpy()


def rollout_map(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """Rollout of a timm ViT's class token over the patch grid, resized to the input: (S, S) in [0, 1].

    Uses the attention lesson's rollout when ``core.attention`` provides one, else our own.
    """
    atts = [a[0].double().numpy() for a in vit_attentions(model, x)]  # per layer (heads, N, N)
    rollout_fn = _attention_lesson_rollout() or attention_rollout
    joint = np.asarray(rollout_fn(atts))
    prefix = model.num_prefix_tokens
    h, w = model.patch_embed.grid_size
    grid = joint[0, prefix:].reshape(h, w).astype(np.float32)
    return _normalise(cv2.resize(grid, (x.shape[-1], x.shape[-2]), interpolation=cv2.INTER_LINEAR))


def _attention_lesson_rollout() -> Callable[..., Any] | None:
    """``core.attention.rollout`` (mean head fusion, no discard) when the attention lesson exists.

    One formula, one implementation on the pages; :func:`attention_rollout` here is the stand-in for
    installations without that lesson, and the tests check that both agree.
    """
    try:
        module = importlib.import_module("core.attention")
    except ImportError:
        return None
    fn = getattr(module, "rollout", None)
    return fn if callable(fn) else None


def _normalise(heat: np.ndarray) -> np.ndarray:
    lo, hi = float(heat.min()), float(heat.max())
    return np.zeros_like(heat) if hi <= lo else (heat - lo) / (hi - lo)


# --------------------------------------------------------------------------------------------- #
# faithfulness


class _MeanImputer:
    """Replace removed pixels by 0 in normalised space, i.e. by the dataset's mean colour."""

    def __call__(self, tensor: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return tensor * keep.to(tensor.dtype)


def blob_map(size: int, grid: int = 7, seed: int = 0) -> np.ndarray:
    """A random smooth map (a grid² of uniform noise, bilinearly upsampled) — the 'random heatmap'."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((grid, grid)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_LINEAR)


def faithfulness(model: torch.nn.Module, x: torch.Tensor, heat: np.ndarray, class_index: int,
                 method: str = "drop20", seed: int = 0) -> dict[str, float]:
    """Probability drop of ``class_index`` when the hottest 20 % of ``heat`` is removed.

    ``drop20`` replaces those pixels by the mean colour; ``road20`` uses ROAD's noisy linear
    imputation (Rong et al. 2022), which leaks less shape information through the mask. The same is
    done for a random smooth map of the same area as the baseline. Returns ``p`` (before),
    ``p_removed``, ``drop`` and ``random_drop`` (positive = the probability fell).
    """
    from pytorch_grad_cam.metrics.perturbation_confidence import (
        PerturbationConfidenceMetric,
        RemoveMostRelevantFirst,
    )
    from pytorch_grad_cam.metrics.road import NoisyLinearImputer
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    if float(np.max(heat)) <= float(np.min(heat)):
        raise ValueError("A constant heatmap has no hottest 20 %: nothing to test.")
    imputer = {"drop20": _MeanImputer, "road20": NoisyLinearImputer}[method]()
    metric = PerturbationConfidenceMetric(RemoveMostRelevantFirst(80, imputer))
    target = [ClassifierOutputSoftmaxTarget(int(class_index))]
    random_heat = blob_map(x.shape[-1], seed=seed)
    with _lock(model), torch.inference_mode():
        p = float(torch.softmax(model(x).float(), -1)[0, int(class_index)])
        diff = metric(x, heat[None], target, model, return_diff=False)
        diff_random = metric(x, random_heat[None], target, model, return_diff=False)
    p_removed = float(np.asarray(diff).ravel()[0])
    p_random = float(np.asarray(diff_random).ravel()[0])
    return {"p": p, "p_removed": p_removed, "drop": p - p_removed, "random_drop": p - p_random}
