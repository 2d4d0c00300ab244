"""RepMLP's reference-exact algebra: a conv as an FC matrix, BN folding, the RepMLP block and its merge.

Kept apart from the lesson's orchestration (:mod:`core.repmlp`), as diffusers keeps its schedulers
apart from its pipelines: everything here is an algorithm with a test against a reference (conv2d,
eval-mode BatchNorm, the RepMLP paper's equations), nothing here draws or summarises. The LocalityNet
is the small network of the trained locality experiment (trained by ``core/train/repmlp.py``).
Flattening is channel-major everywhere: index ``c·h·w + y·w + x``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------------------------- #
# conv → FC, BN fusion


def _tensor(x: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if dtype is not None:
        t = t.to(dtype)
    elif not t.is_floating_point():
        t = t.to(torch.float64)
    return t


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _check_conv(weight: torch.Tensor, groups: int) -> tuple[int, int, int, int]:
    if weight.ndim != 4:
        raise ValueError(f"conv weight must be (O, C/groups, kh, kw), got shape {tuple(weight.shape)}")
    out_ch, cg, kh, kw = weight.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel sizes must be odd (padding k//2 keeps the size); got {kh}×{kw}")
    if groups < 1 or out_ch % groups:
        raise ValueError(f"{out_ch} output channels cannot be split into {groups} groups")
    return out_ch, cg, kh, kw


def _fc_bias(bias: torch.Tensor | None, out_ch: int, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    if bias is None:
        return torch.zeros(out_ch * h * w, dtype=like.dtype, device=like.device)
    return bias.to(like.dtype).repeat_interleave(h * w)  # one bias per output pixel


def _grouped_fc_kernel(weight: torch.Tensor, bias: torch.Tensor | None, h: int, w: int,
                       groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The FC kernel of a (grouped) conv as the weight of a grouped FC: (O·h·w, C/g·h·w), bias (O·h·w,).

    Convolving the identity, literally: the ``n = C/g·h·w`` basis vectors of ONE group (the
    "per-group identity"), each copied into every group so one batch of ``n`` images probes all
    groups at once. A grouped conv keeps the groups apart, so output channel ``o`` of group ``g``
    responds only to the copy in group ``g``: the response to basis vector ``j`` is column ``j`` of
    that group's FC block. Cost: n·O·h·w·(C/g)·k² multiply-adds.
    """
    out_ch, cg, kh, kw = _check_conv(weight, groups)
    n = cg * h * w
    eye = torch.eye(n, dtype=weight.dtype, device=weight.device).reshape(n, cg, h, w)
    probe = eye.repeat(1, groups, 1, 1)  # (n, C, h, w): basis vector j in every group
    response = F.conv2d(probe, weight, None, padding=(kh // 2, kw // 2), groups=groups)  # (n, O, h, w)
    grouped = response.reshape(n, out_ch * h * w).t().contiguous()  # row = output index (o, y, x)
    return grouped, _fc_bias(bias, out_ch, h, w, weight)


def _tap_index(h: int, w: int, kh: int, kw: int, device: torch.device | None = None) -> torch.Tensor:
    """(q, j) → the kernel tap (0..k²−1) with which output pixel q reads input pixel j, or k² if none.

    Read off the im2col of the SPATIAL identity: unfolding the h·w one-pixel images with the conv's
    window and padding marks, for every input pixel j, tap t and output pixel q, whether tap t of
    q lands on j (at most one tap does).
    """
    hw, n_taps = h * w, kh * kw
    eye = torch.eye(hw, dtype=torch.float32, device=device).reshape(hw, 1, h, w)
    taps = F.unfold(eye, (kh, kw), padding=(kh // 2, kw // 2))  # (j, t, q) of 0/1
    numbered = torch.arange(1, n_taps + 1, dtype=torch.float32, device=device).reshape(1, -1, 1)
    tap = (taps * numbered).sum(1).round().long() - 1  # (j, q), −1 where no tap reads j
    return torch.where(tap < 0, torch.full_like(tap, n_taps), tap).t().contiguous()  # (q, j)


def add_conv_to_fc_(fc_weight: torch.Tensor, kernel: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Add a conv's FC matrix to a grouped FC weight (O·h·w, C/g·h·w) in place; returns it.

    A basis vector that is 1 at (channel c, pixel j) meets only the kernel slice ``kernel[:, c]``,
    so the channel part of the identity needs no convolution: entry ((o, q), (c, j)) of the conv's
    FC matrix is ``kernel[o, c, tap(q, j)]`` (0 if no tap of q reads j). One row-gather of the
    (O·C/g)-vectors of kernel taps builds every entry at once; one strided add puts them in place.
    This is what makes merging a 64-channel 10×10 block take a fraction of a second.
    """
    out_ch, cg, kh, kw = _check_conv(kernel, 1)
    hw, n_taps = h * w, kh * kw
    table = torch.cat([kernel.reshape(out_ch * cg, n_taps).t(),
                       kernel.new_zeros(1, out_ch * cg)]).to(fc_weight.dtype)  # (k² + 1, O·C/g)
    entries = F.embedding(_tap_index(h, w, kh, kw, kernel.device), table)  # (q, j, O·C/g)
    fc_weight.view(out_ch, hw, cg, hw).add_(entries.view(hw, hw, out_ch, cg).permute(2, 0, 3, 1))
    return fc_weight


def _grouped_fc_kernel_fast(weight: torch.Tensor, bias: torch.Tensor | None, h: int, w: int,
                            groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same matrix as :func:`_grouped_fc_kernel`, built by scattering taps (:func:`add_conv_to_fc_`)."""
    out_ch, cg, kh, kw = _check_conv(weight, groups)
    zeros = weight.new_zeros(out_ch * h * w, cg * h * w)
    return add_conv_to_fc_(zeros, weight, h, w), _fc_bias(bias, out_ch, h, w, weight)


def _dense_from_grouped(grouped: torch.Tensor, groups: int) -> torch.Tensor:
    """The full (O·h·w, C·h·w) matrix of a grouped FC: its group blocks on the block diagonal."""
    return torch.block_diag(*grouped.chunk(groups, dim=0))


def conv_to_fc_tensor(weight: Any, bias: Any, h: int, w: int, groups: int = 1,
                      dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`conv_to_fc` on tensors, returning tensors (kept differentiable if ``weight`` is)."""
    weight = weight if isinstance(weight, torch.Tensor) else _tensor(weight, dtype)
    if dtype is not None:
        weight = weight.to(dtype)
    elif not weight.is_floating_point():
        weight = weight.to(torch.float64)
    bias_t = None if bias is None else (bias if isinstance(bias, torch.Tensor) else _tensor(bias))
    grouped, fc_bias = _grouped_fc_kernel(weight, bias_t, int(h), int(w), int(groups))
    return _dense_from_grouped(grouped, int(groups)), fc_bias


def conv_to_fc(weight: Any, bias: Any, h: int, w: int, groups: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The FC layer equal to ``conv2d(x, weight, bias, padding=k//2, groups=groups)`` on (C, h, w) maps.

    Returns ``W_fc`` of shape (O·h·w, C·h·w) and ``b_fc`` of shape (O·h·w,) with
    ``W_fc @ x.reshape(-1) + b_fc == conv(x).reshape(-1)``. ``W_fc`` is doubly block-Toeplitz:
    (O × C) blocks, each block (h × h) blocks of (w × w) banded Toeplitz matrices, zero where the
    kernel would reach into the padding. With groups it is block-diagonal over the groups.
    """
    with torch.no_grad():
        W, b = conv_to_fc_tensor(weight, bias, h, w, groups)
    return _numpy(W), _numpy(b)


def _bn_stats(bn: Any, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    """(γ, β, μ, var, eps) of a BatchNorm module or of a mapping with those entries."""
    if isinstance(bn, nn.modules.batchnorm._BatchNorm):
        if bn.running_mean is None or bn.running_var is None:
            raise ValueError("BatchNorm without running statistics cannot be folded")
        n = bn.num_features
        gamma = bn.weight if bn.weight is not None else torch.ones(n)
        beta = bn.bias if bn.bias is not None else torch.zeros(n)
        stats = (gamma, beta, bn.running_mean, bn.running_var)
        eps = float(bn.eps)
    elif isinstance(bn, Mapping):
        def pick(*names: str) -> Any:
            for name in names:
                if name in bn:
                    return bn[name]
            raise KeyError(f"BatchNorm statistics need one of {names}")

        stats = (pick("weight", "gamma"), pick("bias", "beta"), pick("running_mean", "mean"),
                 pick("running_var", "var"))
        eps = float(bn.get("eps", 1e-5))
    else:
        raise TypeError("bn must be a torch BatchNorm module or a mapping of its statistics")
    return (*(_tensor(s, dtype) for s in stats), torch.tensor(eps, dtype=dtype))


def fuse_bn_tensor(weight: torch.Tensor, bias: torch.Tensor | None, bn: Any
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold an eval-mode BN into the layer before it: W' = W·γ/σ, b' = β + (b − μ)·γ/σ, σ = √(var+eps)."""
    dtype = weight.dtype
    gamma, beta, mean, var, eps = _bn_stats(bn, dtype)
    scale = gamma / torch.sqrt(var + eps)
    if scale.numel() != weight.shape[0]:
        raise ValueError(f"BN has {scale.numel()} channels but the layer has {weight.shape[0]} outputs")
    w_fused = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    b0 = torch.zeros_like(mean) if bias is None else bias.to(dtype)
    return w_fused, beta + (b0 - mean) * scale


def fuse_bn(weight: Any, bias: Any, bn: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fold an eval-mode BatchNorm into the conv/FC before it; returns (W', b') as numpy arrays.

    ``W' = W·γ/σ`` (per output channel) and ``b' = β − μ·γ/σ`` (plus ``b·γ/σ`` if the layer had a
    bias ``b``), with ``σ = √(var + eps)``. ``bn``: a BatchNorm module or a mapping with
    ``weight/bias/running_mean/running_var/eps`` (or ``gamma/beta/mean/var``).
    """
    with torch.no_grad():
        w_t = _tensor(weight)
        b_t = None if bias is None else _tensor(bias, w_t.dtype)
        w_fused, b_fused = fuse_bn_tensor(w_t, b_t, bn)
    return _numpy(w_fused), _numpy(b_fused)


def pad_kernel(kernel: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad a centred odd ``k×k`` kernel to ``size×size`` (the same conv with padding size//2)."""
    k = kernel.shape[-1]
    if k > size or (size - k) % 2:
        raise ValueError(f"cannot centre a {k}×{k} kernel in {size}×{size}")
    p = (size - k) // 2
    return F.pad(kernel, [p, p, p, p])


# --------------------------------------------------------------------------------------------- #
# the block


class RepMLPBlock(nn.Module):
    """The RepMLP block of arXiv 2105.01883 (channels in = channels out), on (N, C, H, W) maps.

    * Global perceptron: average-pool each ``h×w`` partition → BN → FC → ReLU → FC, and add the
      result to every pixel of its partition (so partitions learn about each other). With ``H, W``
      given, the FCs see all partitions at once (C·H/h·W/w features, as in the paper); without, the
      block accepts any H, W (multiples of h, w) and the FCs act on each partition's C-vector.
      There is no global perceptron when H, W equal h, w (a single partition), as in the paper.
    * Partition perceptron: one FC from C·h·w to C·h·w features per partition, shared by all
      partitions, grouped (``groups``) — implemented as a grouped 1×1 conv over C·h·w channels —
      then BatchNorm1d(C·h·w).
    * Local perceptron: conv(k×k, groups) + BN branches on each partition (zero-padded at its
      edges), one per kernel in ``kernels``, added to the partition perceptron's output.

    :meth:`locality_injection` folds every BN and every conv branch into the partition FC (and the
    pooled BN into the first global FC), in place; afterwards the block is an MLP: one grouped FC.
    """

    def __init__(self, channels: int, h: int, w: int, kernels: Sequence[int] = (1, 3), groups: int = 1,
                 reduction: int = 4, *, H: int | None = None, W: int | None = None):
        super().__init__()
        kernels = tuple(sorted({int(k) for k in (kernels or ())}))
        if channels < 1 or h < 1 or w < 1:
            raise ValueError("channels, h and w must be positive")
        if groups < 1 or channels % groups:
            raise ValueError(f"channels ({channels}) must be divisible by groups ({groups})")
        if any(k < 1 or k % 2 == 0 for k in kernels):
            raise ValueError(f"conv kernels must be odd and positive, got {kernels}")
        if reduction < 1:
            raise ValueError("reduction must be at least 1")
        if (H is None) != (W is None):
            raise ValueError("give both H and W, or neither")
        if H is not None and (H % h or W % w):
            raise ValueError(f"H×W = {H}×{W} is not a multiple of the partition {h}×{w}")
        self.channels, self.h, self.w = int(channels), int(h), int(w)
        self.groups, self.kernels, self.reduction = int(groups), kernels, int(reduction)
        self.H, self.W = H, W
        self.deploy = False
        c, n = self.channels, self.channels * self.h * self.w

        parts = (H // h) * (W // w) if H is not None else None
        self.has_global = parts is None or parts > 1
        if self.has_global:
            features = c * parts if parts is not None else c
            hidden = max(1, features // self.reduction)
            self.global_bn: nn.Module = nn.BatchNorm2d(c)
            self.global_fc1 = nn.Linear(features, hidden)
            self.global_fc2 = nn.Linear(hidden, features)

        self.partition_fc = nn.Conv2d(n, n, 1, groups=self.groups, bias=False)
        self.partition_bn: nn.Module = nn.BatchNorm1d(n)
        self.local = nn.ModuleDict({
            f"conv{k}": nn.Sequential(OrderedDict(
                conv=nn.Conv2d(c, c, k, padding=k // 2, groups=self.groups, bias=False),
                bn=nn.BatchNorm2d(c),
            ))
            for k in kernels
        })

    # -- forward ------------------------------------------------------------------------------ #
    def _global(self, x: torch.Tensor) -> torch.Tensor:
        n, c, hp, wp = x.shape[0], self.channels, x.shape[2] // self.h, x.shape[3] // self.w
        v = self.global_bn(F.avg_pool2d(x, (self.h, self.w)))  # (N, C, hp, wp)
        if self.H is not None:
            v = self.global_fc2(F.relu(self.global_fc1(v.reshape(n, c * hp * wp)))).reshape(n, c, hp, wp)
        else:
            v = self.global_fc2(F.relu(self.global_fc1(v.permute(0, 2, 3, 1)))).permute(0, 3, 1, 2)
        return v

    def partitions(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) → (N·H/h·W/w, C, h, w), partitions row-major."""
        n, c, hh, ww = x.shape
        hp, wp = hh // self.h, ww // self.w
        return (x.reshape(n, c, hp, self.h, wp, self.w).permute(0, 2, 4, 1, 3, 5)
                .reshape(n * hp * wp, c, self.h, self.w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"expected (N, {self.channels}, H, W), got {tuple(x.shape)}")
        n, c, hh, ww = x.shape
        if hh % self.h or ww % self.w:
            raise ValueError(f"H×W = {hh}×{ww} must be a multiple of the partition {self.h}×{self.w}")
        if self.H is not None and (hh, ww) != (self.H, self.W):
            raise ValueError(f"this block was built for {self.H}×{self.W} inputs, got {hh}×{ww}")
        hp, wp = hh // self.h, ww // self.w
        if self.has_global:
            v = self._global(x)
            x = x.reshape(n, c, hp, self.h, wp, self.w) + v.reshape(n, c, hp, 1, wp, 1)
            x = x.reshape(n, c, hh, ww)
        parts = self.partitions(x)
        size = c * self.h * self.w
        out = self.partition_fc(parts.reshape(-1, size, 1, 1)).reshape(-1, size)
        out = self.partition_bn(out)
        if not self.deploy:
            for branch in self.local.values():
                out = out + branch(parts).reshape(-1, size)
        out = out.reshape(n, hp, wp, c, self.h, self.w).permute(0, 3, 1, 4, 2, 5)
        return out.reshape(n, c, hh, ww)

    # -- re-parameterisation ------------------------------------------------------------------ #
    def branch_kernels(self) -> OrderedDict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Each local branch as one conv kernel with its BN folded in: name → (kernel, bias)."""
        out: OrderedDict[str, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()
        for name, branch in self.local.items():
            out[name] = fuse_bn_tensor(branch.conv.weight, None, branch.bn)
        return out

    def merged_kernel(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """All branches summed into one kernel of the largest size (small kernels zero-padded)."""
        kernels = self.branch_kernels()
        if not kernels:
            return None
        size = max(self.kernels)
        total = sum(pad_kernel(k, size) for k, _ in kernels.values())
        bias = sum(b for _, b in kernels.values())
        return total, bias

    def partition_fc_fused(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The partition FC with its BN folded in, as a grouped FC weight (C·h·w, C/g·h·w) and bias."""
        weight = self.partition_fc.weight.reshape(self.partition_fc.out_channels, -1)
        bias = self.partition_fc.bias
        if isinstance(self.partition_bn, nn.Identity):
            return weight, bias if bias is not None else torch.zeros_like(weight[:, 0])
        return fuse_bn_tensor(weight, bias, self.partition_bn)

    def equivalent_fc(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The one grouped FC (weight (C·h·w, C/g·h·w), bias) equal to FC+BN plus every conv branch."""
        weight, bias = self.partition_fc_fused()
        merged = None if self.deploy else self.merged_kernel()
        if merged is not None:
            weight = add_conv_to_fc_(weight.clone() if weight is self.partition_fc.weight else weight,
                                     merged[0], self.h, self.w)
            bias = bias + merged[1].repeat_interleave(self.h * self.w)
        return weight, bias

    def dense_matrices(self) -> OrderedDict[str, np.ndarray]:
        """Full (C·h·w × C·h·w) matrices for teaching: fused FC, each conv branch, and the merged sum."""
        with torch.no_grad():
            out: OrderedDict[str, np.ndarray] = OrderedDict()
            fc_w, _ = self.partition_fc_fused()
            out["fc"] = _numpy(_dense_from_grouped(fc_w, self.groups))
            if not self.deploy:
                for name, (kernel, bias) in self.branch_kernels().items():
                    grouped, _ = _grouped_fc_kernel_fast(kernel, bias, self.h, self.w, self.groups)
                    out[name] = _numpy(_dense_from_grouped(grouped, self.groups))
            merged, _ = self.equivalent_fc()
            out["merged"] = _numpy(_dense_from_grouped(merged, self.groups))
        return out

    @torch.no_grad()
    def locality_injection(self) -> RepMLPBlock:
        """Convert the training-time block into the deploy block, in place (eval outputs unchanged).

        Partition FC + BN + every conv+BN branch → one grouped FC with bias; the BN after the
        average pool → folded into the first global FC. Returns ``self``.
        """
        if self.deploy:
            return self
        weight, bias = self.equivalent_fc()
        size = self.partition_fc.out_channels
        grad = self.partition_fc.weight.requires_grad
        self.partition_fc.weight = nn.Parameter(weight.reshape(size, -1, 1, 1).detach(), requires_grad=grad)
        self.partition_fc.bias = nn.Parameter(bias.detach(), requires_grad=grad)
        self.partition_bn = nn.Identity()
        self.local = nn.ModuleDict()
        if self.has_global and not isinstance(self.global_bn, nn.Identity):
            gamma, beta, mean, var, eps = _bn_stats(self.global_bn, weight.dtype)
            scale = gamma / torch.sqrt(var + eps)
            shift = beta - mean * scale
            fc1 = self.global_fc1
            repeat = fc1.in_features // self.channels  # inputs are channel-major (c, partition)
            fc1.bias.add_(fc1.weight @ shift.repeat_interleave(repeat))
            fc1.weight.mul_(scale.repeat_interleave(repeat).reshape(1, -1))
            self.global_bn = nn.Identity()
        self.deploy = True
        return self


# --------------------------------------------------------------------------------------------- #
# parameter arithmetic of the notes


def fc_parameter_count(c_in: int, h_in: int, w_in: int, c_out: int, h_out: int, w_out: int,
                       parts: int = 1, groups: int = 1) -> int:
    """Weights of an FC from (c_in, h_in, w_in) to (c_out, h_out, w_out) (no bias).

    ``parts`` splits each side of the map into ``parts`` equal pieces (``parts²`` partitions sharing
    one FC); ``groups`` makes the FC grouped over channels (1/g of the weights).
    """
    values = dict(c_in=c_in, h_in=h_in, w_in=w_in, c_out=c_out, h_out=h_out, w_out=w_out, parts=parts,
                  groups=groups)
    for name, v in values.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive whole number, got {v}")
    if any(side % parts for side in (h_in, w_in, h_out, w_out)):
        raise ValueError(f"every side must be divisible by {parts} partitions per side")
    if c_in % groups or c_out % groups:
        raise ValueError(f"channels ({c_in} → {c_out}) must be divisible by groups ({groups})")
    n_in = c_in * (h_in // parts) * (w_in // parts)
    n_out = c_out * (h_out // parts) * (w_out // parts)
    return n_in * n_out // groups


def parameter_calculator(c_in: int = 3, size_in: int = 112, c_out: int = 32, size_out: int = 56,
                         parts: int = 2, groups: int = 1) -> dict[str, Any]:
    """The notes' arithmetic for one FC layer on square maps: full, partitioned, and grouped FC."""
    full = fc_parameter_count(c_in, size_in, size_in, c_out, size_out, size_out)
    part = fc_parameter_count(c_in, size_in, size_in, c_out, size_out, size_out, parts=parts)
    both = fc_parameter_count(c_in, size_in, size_in, c_out, size_out, size_out, parts=parts, groups=groups)
    return {
        "layer": f"{c_in}×{size_in}×{size_in} → {c_out}×{size_out}×{size_out}",
        "full_fc": full,
        "partitioned_fc": part,
        "partitioned_grouped_fc": both,
        "partitions": parts * parts,
        "partition_in": f"{c_in}×{size_in // parts}×{size_in // parts}",
        "partition_out": f"{c_out}×{size_out // parts}×{size_out // parts}",
        "groups": groups,
        "saving_partition": full / part,
        "saving_total": full / both,
    }


# --------------------------------------------------------------------------------------------- #
# the locality experiment: a tiny ShapesWorld classifier around one 64×10×10 → 64×10×10 FC

LOCALITY_SIZE = 80  # input pixels; the stem turns 80×80 into the 64×10×10 map the FC transforms
LOCALITY_CHANNELS = 64
LOCALITY_SIDE = 10
LOCALITY_GROUPS = 8
LOCALITY_KERNELS = (1, 3, 5, 7)
LOCALITY_MODELS = {"fc": "repmlp-locality-fc", "rep": "repmlp-locality-rep"}


class LocalityNet(nn.Module):
    """Stem (4×4/4 patchify conv, 3×3/2 conv) → RepMLP FC on 64×10×10 → ReLU → pool → 8 classes.

    The FC is one partition (h = w = H = W = 10), grouped ``groups`` over channels (8 channels per
    group) so each checkpoint stays under the size budget; spatially it is complete: every output
    pixel is connected to all 100 input pixels of its group's channels. ``kernels=()`` is the plain
    FC of the experiment; ``kernels=(1, 3, 5, 7)`` trains conv branches that are merged after training.
    """

    def __init__(self, kernels: Sequence[int] = (), groups: int = LOCALITY_GROUPS, num_classes: int = 8):
        super().__init__()
        c, side = LOCALITY_CHANNELS, LOCALITY_SIDE
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 4, stride=4, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.Conv2d(32, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
        )
        self.block = RepMLPBlock(c, side, side, kernels=kernels, groups=groups, H=side, W=side)
        self.head = nn.Linear(c, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stem(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.block(self.stem(x)))
        return self.head(y.mean(dim=(2, 3)))


def locality_net(kernels: Sequence[int] = (), groups: int = LOCALITY_GROUPS) -> LocalityNet:
    """Builder for the zoo (``core.repmlp:locality_net``)."""
    return LocalityNet(kernels=tuple(kernels), groups=groups)


def locality_box(center: tuple[int, int] = (6, 6), kernel: int = 7, side: int = LOCALITY_SIDE
                 ) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1), inclusive, of the k×k receptive field around ``center``, clipped."""
    r = kernel // 2
    cy, cx = center
    return max(0, cy - r), min(side - 1, cy + r), max(0, cx - r), min(side - 1, cx + r)


def locality_map(block: RepMLPBlock, out_channel: int = 0, pixel: tuple[int, int] = (6, 6),
                 in_channel: int = 0) -> np.ndarray:
    """The deployed FC's weights from output (channel, pixel) to every pixel of one input channel.

    A (h, w) map. The block may be in training form: its equivalent FC is computed without changing
    it. The input channel must be in the output channel's group.
    """
    c, h, w, g = block.channels, block.h, block.w, block.groups
    per = c // g
    if out_channel // per != in_channel // per:
        raise ValueError(f"input channel {in_channel} is not in output channel {out_channel}'s group")
    with torch.no_grad():
        weight, _ = block.equivalent_fc()  # (C·h·w, C/g·h·w)
    row = out_channel * h * w + pixel[0] * w + pixel[1]
    local_in = in_channel % per
    return _numpy(weight[row, local_in * h * w:(local_in + 1) * h * w].reshape(h, w)).astype(np.float64)


def locality_share(block: RepMLPBlock, kernel: int = 7) -> tuple[float, float]:
    """Share of Σ|w| within the k×k window around each output pixel, over all outputs and inputs.

    Averages :func:`mass_inside` over every output channel and pixel and every input channel of its
    group: a steadier number than one pixel's map. Returns (share, chance), where chance is the
    share a weight spread evenly over the map would give (windows are clipped at the edges).
    """
    h, w, per = block.h, block.w, block.channels // block.groups
    with torch.no_grad():
        weight, _ = block.equivalent_fc()
    a = weight.abs().double().reshape(block.channels, h, w, per, h, w)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    r = kernel // 2
    near = ((yy.reshape(h, w, 1, 1) - yy).abs() <= r) & ((xx.reshape(h, w, 1, 1) - xx).abs() <= r)
    inside = (a * near.reshape(1, h, w, 1, h, w)).sum(dim=(3, 4, 5))
    share = float((inside / a.sum(dim=(3, 4, 5)).clamp_min(1e-30)).mean())
    chance = float(near.reshape(h * w, h * w).double().mean())
    return share, chance


def mass_inside(values: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Fraction of Σ|w| that lies inside the (inclusive) box."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    r0, r1, c0, c1 = box
    total = a.sum()
    return float(a[r0:r1 + 1, c0:c1 + 1].sum() / total) if total > 0 else 0.0
