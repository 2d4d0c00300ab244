"""Structural re-parameterisation, conv → conv: RepVGG, MobileOne, YOLOv6's RepBlock, YOLOv7's RepConv.

At training time a block sums parallel branches, each followed by its own BatchNorm::

    y = act( BN₃(W₃ ∗ x) + BN₁(W₁ ∗ x) + BN_id(x) )          (RepVGG; MobileOne has k 3×3 branches)

In eval mode each BN is an affine map per output channel, so every branch folds into a conv with a
bias (``W' = W·γ/σ``, ``b' = β − μ·γ/σ``, ``σ = √(var + eps)``); the 1×1 kernel is a 3×3 kernel that
is zero except at its centre; the identity is a 3×3 conv whose kernel is a centred Dirac delta from
each channel to itself (for grouped convs: to its own position inside its group); and convolution is
linear in its kernel, so the sum of the branches is *one* 3×3 conv with the summed kernels and biases.
The deployed network is a plain stack of 3×3 convs and ReLUs (VGG-like), computing the same function.

:func:`merge_branches` is the public form (API.md); :func:`merge_convs` takes any number of branches
of any odd size (MobileOne's k branches), :func:`block_branches` reads them out of timm's
``RepVggBlock`` / ``MobileOneBlock`` and LensLab's :class:`RepConv`, and :func:`deployed_copy` turns a
whole network into its deployed form with *our* merge (the timm blocks' own ``reparameterize()`` is
the reference the tests hold it to). :class:`ResidualRep` and :class:`ConcatRep` are YOLOv7's two
placements of a RepConv; RepConvN is a :class:`RepConv` without its identity branch.

The lesson that shows all of it on a photo is :mod:`core.repvgg_lesson` (pictures in
:mod:`core.viz.repvgg`).
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.repmlp_ops import _bn_stats, fuse_bn_tensor, pad_kernel

__all__ = [
    "Branches",
    "ConcatRep",
    "DeployedBlock",
    "PeakMemory",
    "RepBlock",
    "RepConv",
    "ResidualRep",
    "block_branches",
    "bn_numbers",
    "deployed_copy",
    "dirac_kernel",
    "fold_bn",
    "merge_block",
    "merge_branches",
    "merge_convs",
    "rep_blocks",
    "repconv_from",
    "shapes_net",
    "topology",
]


def _tensor(x: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if dtype is not None:
        return t.to(dtype)
    return t if t.is_floating_point() else t.to(torch.float64)


# --------------------------------------------------------------------------------------------- #
# the merge


def dirac_kernel(channels: int, groups: int = 1, kernel: int = 3,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The identity as a ``kernel×kernel`` conv: ``(C, C/groups, k, k)``, 1 at ``[i, i mod C/g, k//2, k//2]``.

    In a grouped conv output channel ``i`` only sees the ``C/g`` input channels of its own group, where
    input channel ``i`` sits at position ``i mod C/g`` — so the Dirac of channel ``i`` is there.
    """
    if groups < 1 or channels % groups:
        raise ValueError(f"groups must divide the {channels} channels; got groups={groups}.")
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be odd (the Dirac sits at the centre); got {kernel}.")
    per = channels // groups
    w = torch.zeros(channels, per, kernel, kernel, dtype=dtype)
    idx = torch.arange(channels)
    w[idx, idx % per, kernel // 2, kernel // 2] = 1.0
    return w


def fold_bn(weight: Any, bn: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """One branch folded into a conv with bias: ``(W·γ/σ, β − μ·γ/σ)``; ``bn=None``: ``(W, 0)``."""
    w = _tensor(weight)
    if bn is None:
        return w, torch.zeros(w.shape[0], dtype=w.dtype)
    return fuse_bn_tensor(w, None, bn)


def _bn_channels(bn: Any) -> int:
    return int(_bn_stats(bn, torch.float64)[0].numel())


def merge_convs(convs: Sequence[tuple[Any, Any]], bn_id: Any = None, groups: int = 1,
                kernel: int | None = None, identity_channels: int | None = None,
                dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The single conv equal to ``Σ BNᵢ(Wᵢ ∗ x) + BN_id(x)`` in eval mode (torch tensors).

    ``convs``: ``(weight (O, C/g, k, k), bn)`` pairs of odd, possibly different sizes (a ``bn`` of
    ``None`` is a conv without BN); ``bn_id``: the identity branch's BN, ``True`` for a plain identity
    (``x`` itself), ``None`` for none. The result has the largest kernel size (or ``kernel``); smaller
    kernels are zero-padded around their centre.
    """
    if not convs and bn_id is None:
        raise ValueError("merge needs at least one branch (a conv or the identity).")
    if dtype is None:
        dtype = next((_tensor(w).dtype for w, _ in convs), torch.float32)
    folded = [tuple(t.to(dtype) for t in fold_bn(w, bn)) for w, bn in convs]
    for w, _ in folded:
        if w.ndim != 4 or w.shape[-1] != w.shape[-2] or w.shape[-1] % 2 == 0:
            raise ValueError(f"a branch's weight must be (O, C/groups, k, k) with odd k; "
                             f"got {tuple(w.shape)}.")
    size = max([w.shape[-1] for w, _ in folded] + [kernel or 1, 1 if folded else 3])
    shapes = {tuple(w.shape[:2]) for w, _ in folded}
    if len(shapes) > 1:
        raise ValueError(f"branches disagree on (out, in/groups) channels: {sorted(shapes)}.")
    if folded:
        out_ch, per = folded[0][0].shape[:2]
        if groups < 1 or out_ch % groups:
            raise ValueError(f"groups must divide the {out_ch} output channels; got groups={groups}.")
    else:
        out_ch = identity_channels or (_bn_channels(bn_id) if bn_id is not True else None)
        if out_ch is None:
            raise ValueError("a plain identity alone needs identity_channels.")
        if out_ch % groups:
            raise ValueError(f"groups must divide the {out_ch} channels; got groups={groups}.")
        per = out_ch // groups
    weight = torch.zeros(out_ch, per, size, size, dtype=dtype)
    bias = torch.zeros(out_ch, dtype=dtype)
    for w, b in folded:
        weight = weight + pad_kernel(w, size)
        bias = bias + b
    if bn_id is not None:
        if per * groups != out_ch:
            raise ValueError(f"an identity branch needs as many input as output channels: {per * groups} "
                             f"inputs (groups={groups}) vs {out_ch} outputs.")
        delta = dirac_kernel(out_ch, groups, size, dtype)
        if bn_id is True:
            w_id, b_id = delta, torch.zeros(out_ch, dtype=dtype)
        else:
            if _bn_channels(bn_id) != out_ch:
                raise ValueError(f"bn_id has {_bn_channels(bn_id)} channels, the block {out_ch}.")
            w_id, b_id = fuse_bn_tensor(delta, None, bn_id)
        weight = weight + w_id
        bias = bias + b_id
    return weight, bias


def merge_branches(w3: Any, bn3: Any, w1: Any = None, bn1: Any = None, bn_id: Any = None,
                   groups: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The single 3×3 conv equal to ``BN3(conv3x3) + BN1(conv1x1) + BN_id(x)`` in eval mode.

    Returns ``(weight (O, C/g, 3, 3), bias (O,))`` as numpy arrays (the dtype of the weights). Any
    branch may be absent: ``w3=None`` or ``w1=None`` drops that conv, ``bn_id=None`` the identity;
    a ``bn`` of ``None`` next to a weight means a conv without BN. BNs are modules or mappings with
    ``weight/bias/running_mean/running_var/eps`` (or ``gamma/beta/mean/var``).
    """
    with torch.no_grad():
        convs = [(w, bn) for w, bn in ((w3, bn3), (w1, bn1)) if w is not None]
        for w, _ in convs:
            if _tensor(w).ndim != 4:
                raise ValueError(f"w3 and w1 must be (O, C/groups, k, k); "
                                 f"got shape {tuple(_tensor(w).shape)}.")
        if w3 is not None and _tensor(w3).shape[-1] != 3:
            raise ValueError(f"w3 must be a 3×3 kernel; got {tuple(_tensor(w3).shape[-2:])}.")
        if w1 is not None and _tensor(w1).shape[-1] != 1:
            raise ValueError(f"w1 must be a 1×1 kernel; got {tuple(_tensor(w1).shape[-2:])}.")
        weight, bias = merge_convs(convs, bn_id, groups, kernel=3)
    return weight.cpu().numpy(), bias.cpu().numpy()


# --------------------------------------------------------------------------------------------- #
# blocks: reading timm's and our own, building YOLOv7's placements


@dataclass
class Branches:
    """A re-parameterisable block's train-time branches (its own tensors, not copies)."""

    convs: list[tuple[str, torch.Tensor, Any]]  # (name, weight (O, C/g, k, k), its BN)
    identity: Any  # the identity branch's BN, or None
    groups: int
    stride: int
    in_channels: int
    out_channels: int
    kind: str  # "RepVGG", "MobileOne" or "RepConv"
    kernel: int = 3  # the block's (largest) kernel size: 3, or 1 for MobileOne's pointwise blocks

    @property
    def has_identity(self) -> bool:
        return self.identity is not None

    def merged(self, dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The deployed k×k kernel and bias (our merge)."""
        with torch.no_grad():
            return merge_convs([(w, bn) for _, w, bn in self.convs], self.identity, self.groups,
                               kernel=self.kernel, dtype=dtype)


def block_branches(block: nn.Module) -> Branches:
    """The branches of a timm ``RepVggBlock`` / ``MobileOneBlock`` or a :class:`RepConv` (train-time)."""
    from timm.models.byobnet import MobileOneBlock, RepVggBlock

    if isinstance(block, RepConv):
        if block.fused is not None:
            raise ValueError("this RepConv is already deployed; its branches are gone.")
        convs = [("3×3", block.conv3.weight, block.bn3), ("1×1", block.conv1.weight, block.bn1)]
        conv, kind, identity = block.conv3, "RepConv", block.bn_id
    elif isinstance(block, RepVggBlock):
        if block.reparam_conv is not None:
            raise ValueError("this RepVGG block is already deployed (reparameterize() ran).")
        convs = [("3×3", block.conv_kxk.conv.weight, block.conv_kxk.bn)]
        if block.conv_1x1 is not None:
            convs.append(("1×1", block.conv_1x1.conv.weight, block.conv_1x1.bn))
        conv, kind, identity = block.conv_kxk.conv, "RepVGG", block.identity
    elif isinstance(block, MobileOneBlock):
        if block.reparam_conv is not None:
            raise ValueError("this MobileOne block is already deployed (reparameterize() ran).")
        n = len(block.conv_kxk)
        k = block.conv_kxk[0].conv.kernel_size[0]  # 3, or 1 in MobileOne's pointwise blocks
        convs = [(f"{k}×{k} #{i + 1}" if n > 1 else f"{k}×{k}", c.conv.weight, c.bn)
                 for i, c in enumerate(block.conv_kxk)]
        if block.conv_scale is not None:
            convs.append(("1×1", block.conv_scale.conv.weight, block.conv_scale.bn))
        conv, kind, identity = block.conv_kxk[0].conv, "MobileOne", block.identity
    else:
        raise TypeError(f"{type(block).__name__} is not a re-parameterisable block.")
    k = conv.kernel_size[0]
    if conv.kernel_size != (k, k) or k % 2 == 0 or conv.dilation != (1, 1):
        raise ValueError(f"only square odd kernels without dilation are handled; got {conv.kernel_size}.")
    return Branches(convs=list(convs), identity=identity, groups=conv.groups, stride=conv.stride[0],
                    in_channels=conv.in_channels, out_channels=conv.out_channels, kind=kind, kernel=k)


def merge_block(block: nn.Module, dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A block's deployed kernel and bias, by our merge (not the block's ``reparameterize``)."""
    return block_branches(block).merged(dtype)


def _block_act(block: nn.Module) -> nn.Module:
    """What follows the branch sum: timm's blocks apply ``attn`` (identity here) then ``act`` (in place,
    as in the block: the conv's output is not needed afterwards)."""
    act = copy.deepcopy(block.act)
    attn = getattr(block, "attn", None)
    return act if attn is None or isinstance(attn, nn.Identity) else nn.Sequential(copy.deepcopy(attn), act)


class DeployedBlock(nn.Module):
    """A merged block: one conv (3×3, or 1×1 for MobileOne's pointwise blocks) with bias, then the
    block's activation."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, stride: int, groups: int, act: nn.Module):
        super().__init__()
        out_ch, per, k, _ = weight.shape
        self.conv = nn.Conv2d(per * groups, out_ch, k, stride, k // 2, groups=groups, bias=True,
                              dtype=weight.dtype)
        with torch.no_grad():
            self.conv.weight.copy_(weight)
            self.conv.bias.copy_(bias)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))

    @classmethod
    def of(cls, block: nn.Module, dtype: torch.dtype | None = None) -> DeployedBlock:
        b = block_branches(block)
        weight, bias = b.merged(dtype)
        return cls(weight, bias, b.stride, b.groups, _block_act(block))


def _is_rep_block(module: nn.Module) -> bool:
    from timm.models.byobnet import MobileOneBlock, RepVggBlock

    if isinstance(module, RepConv):
        return module.fused is None
    return isinstance(module, (RepVggBlock, MobileOneBlock)) and module.reparam_conv is None


def rep_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every train-time re-parameterisable block of ``model``, in module order (named)."""
    return [(name, m) for name, m in model.named_modules() if _is_rep_block(m)]


def deployed_copy(model: nn.Module, dtype: torch.dtype | None = None) -> nn.Module:
    """A copy of ``model`` with every re-parameterisable block replaced by its :class:`DeployedBlock`
    (our merge); ``model`` itself is not touched (the zoo's models are shared)."""
    out = copy.deepcopy(model)
    if dtype is not None:
        out = out.to(dtype)
    for name, block in rep_blocks(out):
        parent = out.get_submodule(name.rpartition(".")[0]) if "." in name else out
        replacement = DeployedBlock.of(block, dtype)
        if name:
            setattr(parent, name.rpartition(".")[2], replacement)
        else:
            return replacement
    return out.eval()


class RepConv(nn.Module):
    """RepVGG's block, which is YOLOv7's ``RepConv``: ``act(BN(conv3×3 x) + BN(conv1×1 x) + BN(x))``.

    ``identity=False`` (or a change of channels or stride) drops the identity branch: YOLOv7's
    RepConvN. ``reparameterize()`` merges the branches into ``fused`` in place (for LensLab's own
    fresh modules; shared models are deployed with :func:`deployed_copy`).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, groups: int = 1, identity: bool = True,
                 act: str = "relu"):
        super().__init__()
        self.conv3 = nn.Conv2d(c_in, c_out, 3, stride, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.conv1 = nn.Conv2d(c_in, c_out, 1, stride, 0, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.bn_id = nn.BatchNorm2d(c_in) if identity and c_in == c_out and stride == 1 else None
        self.act = {"relu": nn.ReLU(), "silu": nn.SiLU(), "none": nn.Identity()}[act]
        self.fused: nn.Conv2d | None = None

    def branch_outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each branch's contribution (before the sum and the activation)."""
        out = {"3×3": self.bn3(self.conv3(x)), "1×1": self.bn1(self.conv1(x))}
        if self.bn_id is not None:
            out["identity"] = self.bn_id(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused is not None:
            return self.act(self.fused(x))
        return self.act(sum(self.branch_outputs(x).values()))

    def reparameterize(self) -> RepConv:
        if self.fused is None:
            b = block_branches(self)
            weight, bias = b.merged()
            self.fused = nn.Conv2d(b.in_channels, b.out_channels, 3, b.stride, 1, groups=b.groups, bias=True,
                                   dtype=weight.dtype)
            with torch.no_grad():
                self.fused.weight.copy_(weight)
                self.fused.bias.copy_(bias)
            del self.conv3, self.bn3, self.conv1, self.bn1
            self.bn_id = None
        return self


def repconv_from(block: nn.Module, identity: bool = True, act: str = "relu",
                 dtype: torch.dtype = torch.float32) -> RepConv:
    """A :class:`RepConv` carrying ``block``'s trained 3×3, 1×1 and identity branches (a copy), with or
    without the identity (RepConv vs RepConvN). MobileOne's k 3×3 branches are summed into one 3×3
    branch — exactly, because each is a BN-folded conv (the BN of the sum is taken as the identity)."""
    b = block_branches(block)
    if b.kernel != 3:
        raise ValueError(f"a RepConv is a 3×3 block; this {b.kind} block is {b.kernel}×{b.kernel}.")
    threes = [(w, bn) for name, w, bn in b.convs if w.shape[-1] == 3]
    ones = [(w, bn) for name, w, bn in b.convs if w.shape[-1] == 1]
    rep = RepConv(b.in_channels, b.out_channels, b.stride, b.groups, identity=identity and b.has_identity,
                  act=act).to(dtype)
    with torch.no_grad():
        for conv, bn, parts in ((rep.conv3, rep.bn3, threes), (rep.conv1, rep.bn1, ones)):
            if len(parts) == 1 and parts[0][1] is not None:
                conv.weight.copy_(parts[0][0])
                bn.load_state_dict(parts[0][1].state_dict())
            else:  # k branches (or none): their folded sum, behind a BN that does nothing
                w, bias = merge_convs(parts, None, b.groups, dtype=dtype) if parts else (
                    torch.zeros_like(conv.weight), torch.zeros(b.out_channels, dtype=dtype))
                conv.weight.copy_(w)
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
                bn.weight.fill_(1.0)
                bn.bias.copy_(bias)
        if rep.bn_id is not None:
            rep.bn_id.load_state_dict(b.identity.state_dict())
    return rep.eval()


class ResidualRep(nn.Module):
    """YOLOv7's residual placement: ``y = x + RepConv(x)`` — the block sits on a shortcut."""

    def __init__(self, rep: RepConv):
        super().__init__()
        self.rep = rep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.rep(x)


class ConcatRep(nn.Module):
    """YOLOv7's concatenation placement (ELAN/DenseNet style): ``y = [x ‖ RepConv(x)]`` along channels."""

    def __init__(self, rep: RepConv):
        super().__init__()
        self.rep = rep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.rep(x)], dim=1)


class RepBlock(nn.Sequential):
    """YOLOv6's RepBlock: ``n`` RepVGG blocks (the first may change the channels); deployed, a stack of
    ``n`` 3×3 convs with ReLU (YOLOv6's "RepConv")."""

    def __init__(self, c_in: int, c_out: int, n: int = 2, groups: int = 1):
        super().__init__(*(RepConv(c_in if i == 0 else c_out, c_out, groups=groups) for i in range(n)))


# --------------------------------------------------------------------------------------------- #
# numbers for the page


def bn_numbers(bn: Any, channel: int) -> dict[str, float]:
    """γ, β, μ, var, eps of one channel and what folding makes of them: σ, γ/σ and β − μγ/σ."""
    gamma, beta, mean, var, eps = (t.double() for t in _bn_stats(bn, torch.float64))
    sigma = torch.sqrt(var[channel] + eps)
    scale = gamma[channel] / sigma
    return {"gamma": float(gamma[channel]), "beta": float(beta[channel]), "mean": float(mean[channel]),
            "var": float(var[channel]), "eps": float(eps), "sigma": float(sigma), "scale": float(scale),
            "bias": float(beta[channel] - mean[channel] * scale)}


def topology(model: nn.Module) -> dict[str, int]:
    """How many of each operator the network runs: 3×3 and 1×1 convs, BatchNorms, branch additions."""
    counts = {"conv3x3": 0, "conv1x1": 0, "batchnorm": 0, "branch_adds": 0, "parameters": 0}
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            counts["conv3x3" if m.kernel_size == (3, 3) else "conv1x1"] += 1
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            counts["batchnorm"] += 1
    for _, block in rep_blocks(model):
        b = block_branches(block)
        counts["branch_adds"] += len(b.convs) - 1 + int(b.has_identity)
    counts["parameters"] = sum(p.numel() for p in model.parameters())
    return counts


class PeakMemory:
    """The most bytes of tensors alive at once while the wrapped code runs (activations, not weights).

    A ``TorchDispatchMode`` sees every tensor an operator returns; a storage is counted from the op
    that creates it until its last tensor is freed. Weights and the input, created outside, are not
    counted. Use: ``with PeakMemory() as m: net(x)``, then ``m.peak`` (bytes).
    """

    def __init__(self) -> None:
        self.peak = 0
        self._now = 0
        self._live: dict[int, int] = {}
        self._lock = threading.Lock()
        self._mode: Any = None

    def _free(self, key: int) -> None:
        with self._lock:
            self._now -= self._live.pop(key, 0)

    def _track(self, out: Any) -> None:
        from torch.utils._pytree import tree_flatten

        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                storage = t.untyped_storage()
                key = storage.data_ptr()
                with self._lock:
                    if not key or key in self._live:
                        continue
                    self._live[key] = storage.nbytes()
                    self._now += storage.nbytes()
                    self.peak = max(self.peak, self._now)
                weakref.finalize(t, self._free, key)

    def __enter__(self) -> PeakMemory:
        from torch.utils._python_dispatch import TorchDispatchMode

        tracker = self

        class _Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
                out = func(*args, **(kwargs or {}))
                tracker._track(out)
                return out

        self._mode = _Mode()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._mode.__exit__(*exc)


# --------------------------------------------------------------------------------------------- #
# LensLab's embedded RepVGG-style ShapesWorld net


SHAPES_WIDTHS = (32, 48, 96, 192)  # stem, then three stages (each stride 2)
SHAPES_DEPTHS = (2, 3, 2)
SHAPES_GROUP_SIZE = (0, 24, 0)  # stage 2's blocks are grouped convs (4 groups of 24), like RepVGG-B1g4


def shapes_net(num_classes: int = 8, widths: Sequence[int] = SHAPES_WIDTHS,
               depths: Sequence[int] = SHAPES_DEPTHS, group_sizes: Sequence[int] = SHAPES_GROUP_SIZE,
               global_pool: str = "max") -> nn.Module:
    """A small RepVGG (timm's ``ByobNet`` of ``RepVggBlock``\\ s) for 64-px ShapesWorld scenes: a rep stem
    (stride 2) and three stages of stride 2 — 32 → 16 → 8 → 4 px — then global max pooling (a shape
    is found by local edge evidence wherever it is) and a linear classifier."""
    from timm.models.byobnet import ByoBlockCfg, ByobNet, ByoModelCfg

    blocks = tuple(ByoBlockCfg(type="rep", d=d, c=c, s=2, gs=g, br=1.0)
                   for d, c, g in zip(depths, widths[1:], group_sizes, strict=True))
    cfg = ByoModelCfg(blocks=blocks, stem_type="rep", stem_chs=widths[0], num_features=0)
    return ByobNet(cfg, num_classes=num_classes, global_pool=global_pool)


def conv_output(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int,
                groups: int) -> torch.Tensor:
    """The deployed conv on ``x`` (padding k//2), before the activation."""
    return F.conv2d(x, weight, bias, stride, weight.shape[-1] // 2, 1, groups)
