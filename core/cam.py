"""Grad-CAM whose backward pass stops at the target layer.

Grad-CAM (Selvaraju et al., 2017) needs two things at one layer: its activation ``A`` and the
gradient of the class score ``y_c`` with respect to it, ``∂y_c/∂A``. Nothing before that layer takes
part, so it needs no autograd graph and no backward pass. pytorch-grad-cam hooks the layer and runs
the whole network with autograd (and, for a frozen model, from the input on), which costs a
forward with a graph plus a backward through every layer — about 3× a plain forward on ResNet-50.

Here the network runs in three parts, in one forward call:

1. up to and including the target layer with autograd off (no graph is recorded);
2. the layer's output becomes a fresh leaf tensor that requires grad, and autograd is switched on;
3. the rest of the network (for a CNN: pooling and the classifier) records a small graph, and
   ``torch.autograd.grad`` takes ``∂y_c/∂A`` from it — a backward through the head only.

The cut is made in a **per-call view** of the model, never in the model itself: the modules on
the path from the root to the target layer are shallow-copied (their parameters, buffers and every
other submodule are the shared ones) and the target layer is wrapped in the copy. No hook is
registered, no flag is set, no parameter changes, so the shared, read-only models of
:mod:`core.zoo` can run this from many threads at once while other threads use them normally.
Autograd's on/off switch is per thread in PyTorch, so flipping it inside the view affects only
the calling thread.

From ``A`` and ``∂y_c/∂A`` the maps are computed exactly as pytorch-grad-cam computes them (same
weights, same ReLU, the same min-max scaling and OpenCV bilinear resize), so the two agree to
float rounding (the tests check ≤ 1e-5 against ``pytorch_grad_cam.GradCAM``):

* ``gradcam``: channel weights α_k = mean over positions of ∂y_c/∂A_k; map = ReLU(Σ_k α_k A_k).
* ``gradcam++`` (Chattopadhay et al., 2018, eq. 19): α_k = Σ_ij relu(g_ij) · a_ij with
  a_ij = g² / (2g² + Σ_ij A · g³), g = ∂y_c/∂A_k at (i, j).
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

__all__ = ["METHODS", "LayerGradient", "cam_map", "grad_cam", "layer_gradient", "scale_maps", "view_with"]

EPS = 1e-7  # pytorch-grad-cam's guard in its min-max scaling


# --------------------------------------------------------------------------------------------- #
# a per-call view of a shared model


def view_with(model: nn.Module, replacements: dict[str, nn.Module]) -> nn.Module:
    """A view of ``model`` in which the submodules at the given dotted paths are replaced.

    Only the modules on the paths to the replaced ones are copied, shallowly (a copy gets its own
    child table; everything else — parameters, buffers, hooks, other children — is shared). The
    model itself is left exactly as it was, so the view can be used while other threads run it.
    """
    if "" in replacements:
        return replacements[""]
    by_child: dict[str, dict[str, nn.Module]] = {}
    for path, module in replacements.items():
        head, _, rest = path.partition(".")
        if head not in model._modules:
            raise KeyError(f"{type(model).__name__} has no submodule {head!r}")
        by_child.setdefault(head, {})[rest] = module
    view = copy.copy(model)
    children = dict(model._modules)
    for head, below in by_child.items():
        children[head] = view_with(children[head], below)
    view.__dict__["_modules"] = children
    return view


_PATHS: weakref.WeakKeyDictionary[nn.Module, dict[int, str]] = weakref.WeakKeyDictionary()
_PATHS_GUARD = threading.Lock()


def _path_of(model: nn.Module, layer: nn.Module) -> str:
    """The dotted path of ``layer`` inside ``model`` (cached per model); it must occur exactly once."""
    with _PATHS_GUARD:
        known = _PATHS.setdefault(model, {})
        if id(layer) not in known:
            paths = [name for name, m in model.named_modules(remove_duplicate=False) if m is layer]
            if not paths:
                raise ValueError(f"the target layer {type(layer).__name__} is not a submodule of "
                                 f"{type(model).__name__}")
            if len(paths) > 1:
                raise ValueError(f"the target layer occurs {len(paths)} times in {type(model).__name__} "
                                 f"({', '.join(paths)}); Grad-CAM needs one place")
            if paths[0] == "":
                raise ValueError("the target layer is the whole model; choose a layer inside it")
            known[id(layer)] = paths[0]
        return known[id(layer)]


class _Cut(nn.Module):
    """Stands in for the target layer in a view: runs it, hands on a leaf copy of its output and
    switches autograd on (for this thread) for everything after it."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer
        self.leaves: list[torch.Tensor] = []

    def forward(self, *args: object, **kwargs: object) -> torch.Tensor:
        out = self.layer(*args, **kwargs)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the target layer returns {type(out).__name__}, not a tensor")
        leaf = out.detach().requires_grad_(True)
        self.leaves.append(leaf)
        torch.set_grad_enabled(True)
        return leaf


# --------------------------------------------------------------------------------------------- #
# activation and gradient at one layer


@dataclass
class LayerGradient:
    """What one cut forward gives: the logits, the target layer's output and ∂score/∂output."""

    logits: torch.Tensor  # (B, classes), detached
    activation: torch.Tensor  # the target layer's output, as the layer returns it
    gradient: torch.Tensor  # same shape


def layer_gradient(model: nn.Module, x: torch.Tensor, class_index: int | Sequence[int],
                   layer: nn.Module) -> LayerGradient:
    """Activation of ``layer`` and the gradient of the logit(s) ``class_index`` with respect to it.

    ``x``: (B, 3, H, W); ``class_index``: one class for the whole batch or one per image (the
    scores are summed, as pytorch-grad-cam does; images do not mix, so each gets its own gradient).
    Only the part of the network after ``layer`` records a graph; ``model`` is not modified.
    """
    cut = _Cut(layer)
    view = view_with(model, {_path_of(model, layer): cut})
    # inference_mode(False): a caller inside inference_mode still gets a graph after the cut
    with torch.inference_mode(False):
        before = torch.is_grad_enabled()
        torch.set_grad_enabled(False)  # up to the cut: no graph
        try:
            logits = view(x)
        finally:
            torch.set_grad_enabled(before)
        if len(cut.leaves) != 1:
            raise RuntimeError(f"the target layer ran {len(cut.leaves)} times in one forward pass of "
                               f"{type(model).__name__}; Grad-CAM needs exactly one activation")
        if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
            raise TypeError(f"{type(model).__name__} must return (batch, classes) logits for Grad-CAM")
        leaf = cut.leaves[0]
        batch = logits.shape[0]
        classes = [int(class_index)] * batch if isinstance(class_index, (int, np.integer)) else \
            [int(c) for c in class_index]
        if len(classes) != batch:
            raise ValueError(f"class_index: {len(classes)} classes for a batch of {batch}")
        for c in classes:
            if not 0 <= c < logits.shape[1]:
                raise ValueError(f"class_index {c} is out of range: the model has {logits.shape[1]} classes")
        grad = None  # stays None when the classes do not depend on this layer's output at all
        if logits.requires_grad:
            with torch.enable_grad():  # the caller's mode is back: it may be no_grad
                score = logits[torch.arange(batch), torch.tensor(classes)].sum()
                (grad,) = torch.autograd.grad(score, leaf, allow_unused=True)
        if grad is None:
            grad = torch.zeros_like(leaf)
    return LayerGradient(logits.detach(), leaf.detach(), grad)


# --------------------------------------------------------------------------------------------- #
# the maps


def _gradcam_weights(activations: np.ndarray, grads: np.ndarray) -> np.ndarray:
    return np.mean(grads, axis=(2, 3))


def _gradcam_pp_weights(activations: np.ndarray, grads: np.ndarray) -> np.ndarray:
    g2 = grads**2
    g3 = g2 * grads
    total = np.sum(activations, axis=(2, 3))[:, :, None, None]
    alpha = g2 / (2 * g2 + total * g3 + 0.000001)
    alpha = np.where(grads != 0, alpha, 0)  # no evidence where the gradient is exactly zero
    return np.sum(np.maximum(grads, 0) * alpha, axis=(2, 3))


METHODS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "gradcam": _gradcam_weights,
    "gradcam++": _gradcam_pp_weights,
}
"""Channel weights (B, C) from activations and gradients (B, C, h, w), per method."""


def scale_maps(maps: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Each (h, w) map shifted to min 0 and divided by (1e-7 + max), then resized to ``size``
    = (width, height) with OpenCV's bilinear resize — pytorch-grad-cam's ``scale_cam_image``."""
    out = []
    for m in maps:
        m = m - np.min(m)
        m = m / (EPS + np.max(m))
        if size is not None:
            m = cv2.resize(np.float32(m), size)
        out.append(m)
    return np.float32(out)


def cam_map(activations: np.ndarray, grads: np.ndarray, size: tuple[int, int],
            method: str = "gradcam") -> np.ndarray:
    """(B, C, h, w) activations and gradients → (B, H, W) maps in [0, 1] at ``size`` = (W, H)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, not {method!r}")
    if activations.ndim != 4 or grads.shape != activations.shape:
        raise ValueError(f"Grad-CAM needs (B, C, h, w) activations and gradients, got {activations.shape} "
                         f"and {grads.shape}; pass a reshape for token or channels-last layers")
    weights = METHODS[method](activations, grads)
    raw = np.maximum((weights[:, :, None, None] * activations).sum(axis=1), 0)
    # pytorch-grad-cam scales once per layer (with the resize) and once more after averaging layers
    return scale_maps(np.maximum(scale_maps(raw, size), 0))


def grad_cam(model: nn.Module, x: torch.Tensor, class_index: int | Sequence[int], layer: nn.Module,
             reshape: Callable[[torch.Tensor], torch.Tensor] | None = None,
             method: str = "gradcam") -> np.ndarray:
    """Grad-CAM (or Grad-CAM++) maps of ``class_index`` at ``layer`` for ``x`` (B, 3, H, W).

    ``reshape`` turns the layer's output into (B, C, h, w) (token grids, channels-last stages); it is
    applied to the activation and to its gradient, like pytorch-grad-cam's ``reshape_transform``.
    Returns (B, H, W) float32 maps in [0, 1].
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, not {method!r}")
    got = layer_gradient(model, x, class_index, layer)
    a, g = got.activation, got.gradient
    if reshape is not None:
        a, g = reshape(a), reshape(g)
    return cam_map(a.numpy(), g.numpy(), (x.shape[-1], x.shape[-2]), method)
