"""The MLP family's token mixers as plain functions, so the lesson can show and test each one.

What lives here (the lesson's text and pictures are in :mod:`core.mlp`):

* :func:`shapes_resmlp` — the embedded ShapesWorld ResMLP (timm's ``MlpMixer`` with ``ResBlock``\\ s).
* Cycle FC (CycleMLP) and the axial shift (AS-MLP), written from the papers and the official code's
  offsets, checked in the tests against ``torchvision.ops.deform_conv2d`` and a hand-computed shift.
"""

from __future__ import annotations

import math

import torch
from torch import nn

SHAPES_IMG = 96
SHAPES_PATCH = 8
SHAPES_DIM = 128
SHAPES_BLOCKS = 6


def shapes_resmlp(num_classes: int = 8, img_size: int = SHAPES_IMG, patch_size: int = SHAPES_PATCH,
                  embed_dim: int = SHAPES_DIM, num_blocks: int = SHAPES_BLOCKS,
                  init_values: float = 0.1) -> nn.Module:
    """A small ResMLP for 96-px ShapesWorld scenes: 8-px patches (a 12×12 grid of 144 tokens, so a
    token-mixing row is big enough to show a local filter), width 128, six ``ResBlock``\\ s (Affine
    "norm", cross-patch ``linear_tokens`` N×N, channel MLP ×4, LayerScale), average pooling.

    LayerScale starts at 0.1, what the official ResMLP code uses for its 12-block model (timm's default
    1e-4 suits deep ones: with it a 6-block net barely used its cross-patch layers in a 24-minute run)."""
    from functools import partial

    from timm.models.mlp_mixer import Affine, MlpMixer, ResBlock

    return MlpMixer(num_classes=num_classes, img_size=img_size, patch_size=patch_size,
                    num_blocks=num_blocks, embed_dim=embed_dim, mlp_ratio=4,
                    block_layer=partial(ResBlock, init_values=init_values), norm_layer=Affine)


def grid_distance(grid: tuple[int, int]) -> torch.Tensor:
    """``(N, N)`` Chebyshev distance between patches of a row-major ``grid`` (rows, cols): the ring a
    patch sits on around another (1 = the 3×3 neighbourhood, 2 = the 5×5)."""
    rows, cols = grid
    r = torch.arange(rows).repeat_interleave(cols)
    c = torch.arange(cols).repeat(rows)
    return torch.maximum((r[:, None] - r[None, :]).abs(), (c[:, None] - c[None, :]).abs())


def locality(weight: torch.Tensor, grid: tuple[int, int], radius: int) -> float:
    """The share of ``|weight|`` of a token-mixing matrix (row = output patch) that falls within
    ``radius`` patches (Chebyshev) of the output patch, averaged over output patches.

    A matrix that mixes all patches alike scores the neighbourhood's share of the grid (see
    :func:`locality_baseline`); a local filter scores near 1."""
    w = torch.as_tensor(weight).detach().abs().double()
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] != grid[0] * grid[1]:
        raise ValueError(f"weight must be (N, N) with N = {grid[0]}×{grid[1]}, got {tuple(w.shape)}")
    near = grid_distance(grid) <= radius
    return float(((w * near).sum(1) / w.sum(1).clamp_min(1e-30)).mean())


def locality_baseline(grid: tuple[int, int], radius: int) -> float:
    """What :func:`locality` gives a matrix with equal ``|w|`` everywhere (no preference for neighbours)."""
    n = grid[0] * grid[1]
    return locality(torch.ones(n, n), grid, radius)


def resmlp_locality(model: nn.Module, radii: tuple[int, ...] = (1, 2)) -> dict[int, list[float]]:
    """radius → per-block :func:`locality` of every ``linear_tokens`` of a timm ResMLP."""
    grid = tuple(model.stem.grid_size)
    mats = [b.linear_tokens.weight for b in model.blocks]
    return {r: [locality(w, grid, r) for w in mats] for r in radii}


# --------------------------------------------------------------------------------------------- #
# Cycle FC (CycleMLP) and the axial shift (AS-MLP): fixed, sparse token mixing


def cycle_offsets(channels: int, kernel_size: tuple[int, int], dilation: int = 1) -> torch.Tensor:
    """``(C, 2)`` integer ``(dy, dx)`` each input channel of a Cycle FC reads from, as the official
    CycleMLP code builds its ``deform_conv2d`` offsets (``CycleFC.gen_offset``): along the kernel's long
    axis, channel ``i`` is offset by ``(i + ⌊kh·kw/2⌋) mod k − ⌊k/2⌋`` — the stepped "staircase"
    0, +1, −1, 0, +1, −1, … for k = 3 (k = 7: 0, 1, 2, 3, −3, −2, −1, 0, …).

    ``dilation`` multiplies the offsets (the notes' "interval sampling" [+4 +2 0 −2 −4 …] variant; the
    official code has none: there ``dilation`` of a 1×1 kernel changes nothing)."""
    kh, kw = int(kernel_size[0]), int(kernel_size[1])
    if kh != 1 and kw != 1:
        raise ValueError(f"kernel_size must be 1×k or k×1 (a Cycle FC runs along one axis), got {kh}×{kw}")
    if channels < 1 or dilation < 1:
        raise ValueError("channels and dilation must be positive")
    start = (kh * kw) // 2
    i = torch.arange(channels)
    k = kw if kh == 1 else kh
    step = ((i + start) % k - k // 2) * int(dilation)
    zero = torch.zeros_like(step)
    return torch.stack([zero, step], 1) if kh == 1 else torch.stack([step, zero], 1)


def shift_channels(x: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``out[:, c, h, w] = x[:, c, h + dy_c, w + dx_c]``, zero where that falls outside the map.

    ``x`` is ``(B, C, H, W)``, ``offsets`` ``(C, 2)`` integers. This is the sampling a 1×1
    ``deform_conv2d`` with one offset group per channel and integer offsets does, and the shift of AS-MLP
    (zero padding, no wrap-around)."""
    if x.ndim != 4 or offsets.shape != (x.shape[1], 2):
        raise ValueError(f"x must be (B, C, H, W) and offsets (C, 2); got {tuple(x.shape)}, "
                         f"{tuple(offsets.shape)}")
    _, _, h, w = x.shape
    out = torch.zeros_like(x)
    for dy, dx in {(int(a), int(b)) for a, b in offsets.tolist()}:
        sel = ((offsets[:, 0] == dy) & (offsets[:, 1] == dx)).nonzero().flatten()
        ys, ye = max(0, -dy), min(h, h - dy)  # output rows whose source row h+dy is inside
        xs, xe = max(0, -dx), min(w, w - dx)
        if ys < ye and xs < xe:
            out[:, sel, ys:ye, xs:xe] = x[:, sel, ys + dy:ye + dy, xs + dx:xe + dx]
    return out


def cycle_fc(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
             kernel_size: tuple[int, int], dilation: int = 1) -> torch.Tensor:
    """Cycle FC: every input channel read at its own fixed offset (:func:`cycle_offsets`), then a channel
    FC (``weight`` ``(O, C)`` or ``(O, C, 1, 1)``). Equal to the official ``deform_conv2d`` form."""
    shifted = shift_channels(x, cycle_offsets(x.shape[1], kernel_size, dilation))
    w = weight.reshape(weight.shape[0], -1)
    out = torch.einsum("oc,bchw->bohw", w, shifted)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def axial_offsets(channels: int, shift_size: int, dim: int, dilation: int = 1) -> torch.Tensor:
    """``(C, 2)`` ``(dy, dx)`` of AS-MLP's axial shift along ``dim`` (2 = height, 3 = width): the channels
    are split into ``shift_size`` contiguous groups of ``ceil(C / shift_size)`` and group ``g`` reads
    ``pad − g`` cells away (``pad = shift_size // 2``), times ``dilation`` — the official CUDA kernel's
    ``s = −(g − shift // 2)``."""
    if shift_size < 1 or dilation < 1 or channels < 1:
        raise ValueError("channels, shift_size and dilation must be positive")
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 (height) or 3 (width), got {dim}")
    group = math.ceil(channels / shift_size)
    g = torch.arange(channels) // group
    step = (shift_size // 2 - g) * int(dilation)
    zero = torch.zeros_like(step)
    return torch.stack([step, zero], 1) if dim == 2 else torch.stack([zero, step], 1)


def axial_shift(x: torch.Tensor, shift_size: int, dim: int, dilation: int = 1) -> torch.Tensor:
    """AS-MLP's shift of a ``(B, C, H, W)`` map along ``dim`` (zero padded)."""
    return shift_channels(x, axial_offsets(x.shape[1], shift_size, dim, dilation))


class CycleMixer(nn.Module):
    """CycleMLP's token mixer (the official ``CycleMLP`` module): a Cycle FC along the width (1×3), one
    along the height (3×1) and a plain channel FC, fused by split attention (``reweight``), then a
    projection. Input and output ``(B, H, W, C)``; any H and W."""

    def __init__(self, dim: int, kernel: int = 3, dilation: int = 1):
        super().__init__()
        from timm.layers import Mlp

        self.kernel, self.dilation = kernel, dilation
        self.mlp_c = nn.Linear(dim, dim, bias=False)
        self.sfc_h = nn.Conv2d(dim, dim, 1)  # 1×k along the width, as the official code names it
        self.sfc_w = nn.Conv2d(dim, dim, 1)  # k×1 along the height
        self.reweight = Mlp(dim, dim // 4, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        xc = x.permute(0, 3, 1, 2)
        k, d = self.kernel, self.dilation
        hh = cycle_fc(xc, self.sfc_h.weight, self.sfc_h.bias, (1, k), d).permute(0, 2, 3, 1)
        ww = cycle_fc(xc, self.sfc_w.weight, self.sfc_w.bias, (k, 1), d).permute(0, 2, 3, 1)
        cc = self.mlp_c(x)
        a = (hh + ww + cc).permute(0, 3, 1, 2).flatten(2).mean(2)
        a = self.reweight(a).reshape(b, c, 3).permute(2, 0, 1).softmax(dim=0)[:, :, None, None, :]
        return self.proj(hh * a[0] + ww * a[1] + cc * a[2])


class AxialShiftMixer(nn.Module):
    """AS-MLP's token mixer (the official ``AxialShift``): 1×1 conv, GroupNorm(1), GELU, a shift along
    the width and one along the height, a 1×1 conv on each, GELU, sum, GroupNorm(1), 1×1 conv. Input and
    output ``(B, C, H, W)``; any H and W."""

    def __init__(self, dim: int, shift_size: int = 5, dilation: int = 1):
        super().__init__()
        self.shift_size, self.dilation = shift_size, dilation
        self.conv1 = nn.Conv2d(dim, dim, 1)
        self.conv2_1 = nn.Conv2d(dim, dim, 1)
        self.conv2_2 = nn.Conv2d(dim, dim, 1)
        self.conv3 = nn.Conv2d(dim, dim, 1)
        self.norm1 = nn.GroupNorm(1, dim)
        self.norm2 = nn.GroupNorm(1, dim)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.norm1(self.conv1(x)))
        lr = self.act(self.conv2_1(axial_shift(x, self.shift_size, 3, self.dilation)))
        td = self.act(self.conv2_2(axial_shift(x, self.shift_size, 2, self.dilation)))
        return self.conv3(self.norm2(lr + td))


def support(offsets: torch.Tensor, grid: tuple[int, int], position: tuple[int, int]) -> torch.Tensor:
    """``(C, H, W)`` bool: for each channel, the one input cell an output ``position`` reads through
    ``offsets`` (none when it falls outside the map)."""
    rows, cols = grid
    out = torch.zeros(offsets.shape[0], rows, cols, dtype=torch.bool)
    r, c = position
    for ch, (dy, dx) in enumerate(offsets.tolist()):
        y, x = r + dy, c + dx
        if 0 <= y < rows and 0 <= x < cols:
            out[ch, y, x] = True
    return out


def grown_field(steps: list[torch.Tensor], grid: tuple[int, int], position: tuple[int, int],
                layers: int) -> list[torch.Tensor]:
    """The input cells an output ``position`` depends on after 1…``layers`` token mixers, each of which
    mixes all channels after reading through every offset set in ``steps`` (a channel FC after the
    shifts lets any channel's reach reach every channel): ``(H, W)`` bool per depth."""
    reach = {(int(dy), int(dx)) for s in steps for dy, dx in s.tolist()}
    rows, cols = grid
    field = torch.zeros(rows, cols, dtype=torch.bool)
    field[position] = True
    out = []
    for _ in range(layers):
        new = torch.zeros_like(field)
        ys, xs = field.nonzero(as_tuple=True)
        for dy, dx in reach:
            y, x = ys + dy, xs + dx
            ok = (y >= 0) & (y < rows) & (x >= 0) & (x < cols)
            new[y[ok], x[ok]] = True
        field = new
        out.append(field.clone())
    return out


# --------------------------------------------------------------------------------------------- #
# the Mixer's token-mixing MLP: its Jacobian in closed form


def _gelu_grad(h: torch.Tensor) -> torch.Tensor:
    """d GELU(h)/dh for the exact (erf) GELU: Φ(h) + h·φ(h)."""
    phi = torch.exp(-0.5 * h * h) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + torch.erf(h / math.sqrt(2)))
    return cdf + h * phi


def token_mlp_jacobian(mlp: nn.Module, u: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
    """``J[i, j, c] = ∂y[i, c] / ∂u[j, c]`` of a Mixer token-mixing MLP ``y[:, c] = W2·GELU(W1·u[:, c] + b1)
    + b2`` (timm ``Mlp`` on ``(C, N)``, i.e. ``mlp_tokens``), for its normalised input ``u`` ``(N, C)``.

    The MLP runs on each channel separately, so ∂y[i, c]/∂u[j, c'] is 0 for c ≠ c' and these N×N×C
    numbers are the whole Jacobian. Closed form ``Σ_k W2[i, k]·GELU'(h[k, c])·W1[k, j]``; ``rows`` picks
    output patches (all by default)."""
    w1, b1, w2 = mlp.fc1.weight, mlp.fc1.bias, mlp.fc2.weight
    h = w1 @ u + b1[:, None]  # (K, C)
    g = _gelu_grad(h)
    w2r = w2 if rows is None else w2[rows]
    return torch.einsum("ik,kc,kj->ijc", w2r, g, w1)


def token_mlp_mean_jacobian(mlp: nn.Module, u: torch.Tensor) -> torch.Tensor:
    """``(N, N)`` channel mean of :func:`token_mlp_jacobian`: ``W2·diag(mean_c GELU'(h))·W1`` — the Mixer's
    data-dependent stand-in for a token-mixing matrix."""
    w1, b1, w2 = mlp.fc1.weight, mlp.fc1.bias, mlp.fc2.weight
    g = _gelu_grad(w1 @ u + b1[:, None]).mean(1)
    return (w2 * g[None, :]) @ w1
