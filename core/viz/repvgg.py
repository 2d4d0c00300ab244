"""Drawing for the re-parameterisation lesson: the kernel arithmetic of one merge, the branches' maps on
the photo, the merged kernels' centre taps, the stem's kernels, YOLOv7's two copies of the input, and
the exactness and speed charts.

Colours are colour-blind safe: signed values on a blue–white–vermillion ramp between Okabe–Ito blue
(#0072B2) and vermillion (#D55E00), magnitudes on ``cividis``, categories in Okabe–Ito; every map has
a colour bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from core.viz import words
from core.viz.draw import _fit, _ink, _text, add_colorbar, caption_bar, colorize

BLUE, VERMILLION, ORANGE = (0, 114, 178), (213, 94, 0), (230, 159, 0)  # Okabe–Ito
WHITE, INK, GRID = (255, 255, 255), (30, 30, 30), (200, 200, 200)
TILE = 150  # side of one feature-map tile
CELL = 56  # side of one kernel cell in the merge picture


def _ramp() -> np.ndarray:
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    lo, hi, mid = np.array(BLUE, float), np.array(VERMILLION, float), np.array(WHITE, float)
    rgb = np.where(t < 0, mid + (lo - mid) * (-t), mid + (hi - mid) * t)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


_RAMP = _ramp()


def diverging(values: np.ndarray, vmax: float) -> np.ndarray:
    """Signed values → RGB: Okabe–Ito blue (−vmax) … white (0) … vermillion (+vmax)."""
    v = np.asarray(values, dtype=np.float64)
    top = vmax if vmax > 0 else 1.0
    idx = np.clip(np.rint((v / top + 1.0) * 127.5), 0, 255).astype(np.int64)
    return _RAMP[idx]


def diverging_bar(height: int, vmax: float, width: int = 18, label: str = "") -> np.ndarray:
    """A vertical bar for :func:`diverging` with ticks −vmax, 0, +vmax."""
    bar = np.full((height, width + 70, 3), 255, np.uint8)
    ramp = np.linspace(vmax, -vmax, height)[:, None].repeat(width, axis=1)
    bar[:, :width] = diverging(ramp, vmax)
    cv2.rectangle(bar, (0, 0), (width - 1, height - 1), GRID, 1)
    scale = 0.36
    _text(bar, f"{vmax:+.3g}", (width + 4, 12), scale)
    _text(bar, "0", (width + 4, height // 2 + 4), scale)
    _text(bar, f"{-vmax:+.3g}", (width + 4, height - 4), scale)
    if label:
        label = words.say(label)
        _text(bar, _fit(label, 66, 0.32), (width + 4, height // 2 + 20), 0.32)
    return bar


def _sym(*arrays: np.ndarray) -> float:
    top = max(float(np.abs(a).max()) if np.size(a) else 0.0 for a in arrays)
    return top if top > 0 else 1.0


def _tile(rgb: np.ndarray, title: str, side: int = TILE) -> np.ndarray:
    """A map blown up (nearest) into a ``side``-px square tile with a title above it."""
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    interp = cv2.INTER_NEAREST if s >= 1 else cv2.INTER_AREA
    small = cv2.resize(rgb, (nw, nh), interpolation=interp)
    canvas = np.full((side, side, 3), 255, np.uint8)
    y0, x0 = (side - nh) // 2, (side - nw) // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = small
    return np.concatenate([caption_bar(words.say(title), side, 22, 0.4), canvas], axis=0)


def _row(tiles: Sequence[np.ndarray], gap: int = 8) -> np.ndarray:
    h = max(t.shape[0] for t in tiles)
    parts = []
    for i, t in enumerate(tiles):
        if t.shape[0] < h:
            t = np.concatenate([t, np.full((h - t.shape[0], t.shape[1], 3), 255, np.uint8)], axis=0)
        parts.append(t)
        if i < len(tiles) - 1:
            parts.append(np.full((h, gap, 3), 255, np.uint8))
    return np.concatenate(parts, axis=1)


def _stack(rows: Sequence[np.ndarray], gap: int = 10) -> np.ndarray:
    w = max(r.shape[1] for r in rows)
    parts = []
    for i, r in enumerate(rows):
        if r.shape[1] < w:
            r = np.concatenate([r, np.full((r.shape[0], w - r.shape[1], 3), 255, np.uint8)], axis=1)
        parts.append(r)
        if i < len(rows) - 1:
            parts.append(np.full((gap, w, 3), 255, np.uint8))
    return np.concatenate(parts, axis=0)


def denormalised(x: Any, loaded: Any) -> np.ndarray:
    """The network's input (3, S, S) back to an RGB uint8 picture (undoing the normalisation)."""
    import timm.data

    if loaded.source == "hub" and loaded.entry.builder == "timm":
        cfg = timm.data.resolve_data_config({}, model=loaded.model)
        mean, std = cfg["mean"], cfg["std"]
    else:
        mean, std = loaded.entry.mean, loaded.entry.std
    arr = x.detach().double().numpy().transpose(1, 2, 0) * np.array(std) + np.array(mean)
    return np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------- #
# the merge, number by number


def _num(v: float) -> str:
    """A kernel value in at most ~6 characters: 0, 0.0421, −0.31, 1.5e-05."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e3:
        return f"{v:.3g}".replace("-", "−")
    return f"{v:.1e}".replace("-", "−")


def _kernel_cells(kernel: np.ndarray, vmax: float, cell: int = CELL) -> np.ndarray:
    k = kernel.shape[0]
    img = np.full((k * cell + 1, k * cell + 1, 3), 255, np.uint8)
    colours = diverging(kernel, vmax)
    for r in range(k):
        for q in range(k):
            y0, x0 = r * cell, q * cell
            col = tuple(int(v) for v in colours[r, q])
            cv2.rectangle(img, (x0, y0), (x0 + cell, y0 + cell), col, -1)
            cv2.rectangle(img, (x0, y0), (x0 + cell, y0 + cell), GRID, 1)
            text = _num(kernel[r, q])
            _text(img, _fit(text, cell - 2, 0.36), (x0 + 3, y0 + cell // 2 + 5), 0.36, _ink(col))
    return img


def _label(text: str, width: int, height: int, scale: float = 0.42) -> np.ndarray:
    img = np.full((height, width, 3), 255, np.uint8)
    _text(img, _fit(text, width - 6, scale), (4, height // 2 + 6), scale)
    return img


def merge_picture(steps: dict[str, Any], channel: int, in_channel: int, groups: int) -> np.ndarray:
    """Branch by branch: the raw kernel, ×γ/σ, the folded 3×3 (1×1 at the centre, the identity a Dirac),
    then Σ = the merged kernel and Σ of the folded biases; each BN's numbers written out."""
    rows = steps["rows"]
    vmax_raw = _sym(*[r["raw"] for r in rows])
    vmax = _sym(*[r["folded"] for r in rows], steps["merged"])
    lines = []
    size = steps["merged"].shape[0]
    k3 = max(size * CELL + 1, 3 * CELL + 1)  # row height (and the raw kernels' column width)

    def padded(img: np.ndarray) -> np.ndarray:
        """A kernel's cells on a white k3×k3 square (a 1×1 kernel in its top-left corner)."""
        out = np.full((max(k3, img.shape[0]), max(k3, img.shape[1]), 3), 255, np.uint8)
        out[:img.shape[0], :img.shape[1]] = img
        return out
    for r in rows:
        bn = r["bn"]
        raw = padded(_kernel_cells(r["raw"], vmax_raw))
        name = r["branch"] + (" (Dirac)" if r["branch"] == "identity" else "")
        left = _stack([caption_bar(words.say(name), k3, 22, 0.42), raw], gap=0)
        arrow = _label(f"× γ/σ = {bn['scale']:.4g}  →", 150, k3)
        folded = padded(_kernel_cells(r["folded"], vmax))
        text = np.full((k3, 430, 3), 255, np.uint8)
        for i, t in enumerate((
                f"γ = {bn['gamma']:.4g},  β = {bn['beta']:.4g}",
                f"μ = {bn['mean']:.4g},  σ² = {bn['var']:.4g},  ε = {bn['eps']:.0e}",
                f"σ = √(σ² + ε) = {bn['sigma']:.4g}",
                f"W' = W·γ/σ;  b' = β − μ·γ/σ = {r['folded_bias']:.4g}")):
            _text(text, t, (8, 26 + 30 * i), 0.42)
        lines.append(_row([left, _stack([caption_bar("", 150, 22), arrow], 0),
                           _stack([caption_bar(words.say("folded, {n}×{n}", n=size), folded.shape[1], 22,
                                               0.42), folded],
                                  0),
                           _stack([caption_bar("", 430, 22), text], 0)]))
    merged = padded(_kernel_cells(steps["merged"], vmax))
    total = np.full((k3, 430, 3), 255, np.uint8)
    _text(total, f"bias = Σ b' = {steps['merged_bias']:.4g}", (8, 40), 0.46)
    gap = steps["pieces_max_abs_difference"]
    _text(total, words.say("|Σ of the pieces − merge_branches| = {d:.1e}", d=gap), (8, 74), 0.4)
    where = words.say("(output {o} ← input {i}, groups {g})", o=channel, i=in_channel, g=groups)
    _text(total, where, (8, 104), 0.4)
    lines.append(_row([_stack([caption_bar(words.say("Σ of the folded kernels"), k3 + 8 + 150, 22, 0.42),
                               _label("", k3 + 8 + 150, k3)], 0),
                       _stack([caption_bar(words.say("merged"), merged.shape[1], 22, 0.42), merged], 0),
                       _stack([caption_bar("", 430, 22), total], 0)]))
    body = _stack(lines, gap=12)
    bar = diverging_bar(body.shape[0], vmax, label="folded")
    return _row([body, bar], gap=10)


# --------------------------------------------------------------------------------------------- #
# maps on the photo


def branches_picture(photo: np.ndarray, inp: np.ndarray, in_channel: int,
                     branches: Sequence[tuple[str, np.ndarray]], pre: np.ndarray, pre_deployed: np.ndarray,
                     delta: np.ndarray, channel: int) -> np.ndarray:
    """Row 1: the network's input, the block's input channel, each branch's output channel; row 2: their
    sum, the merged conv's output (one shared signed scale) and |Δ| between the two (cividis)."""
    vin = _sym(inp)
    first = [_tile(photo, "network input"),
             _tile(diverging(inp, vin), words.say("block input, ch {c}", c=in_channel))]
    vmax = _sym(*[m for _, m in branches], pre, pre_deployed)
    tiles = [_tile(diverging(m, vmax), words.say("{name} branch, ch {c}", name=words.say(name), c=channel))
             for name, m in branches]
    row1 = _row(first + tiles)
    dmax = float(delta.max()) if delta.size else 0.0
    dtile = _tile(colorize(delta, "cividis", 0.0, dmax if dmax > 0 else 1.0), "|Δ| (float64)")
    dtile = add_colorbar(dtile, 0.0, dmax, "cividis")
    row2 = _row([_tile(diverging(pre, vmax), "Σ branches (train)"),
                 _tile(diverging(pre_deployed, vmax), "one merged 3×3 (deploy)"),
                 diverging_bar(TILE + 22, vmax, label="shared"), dtile])
    legend = _row([diverging_bar(TILE + 22, vin, label="input")])
    return _stack([_row([row1, legend]), row2])


def centre_picture(centre: np.ndarray, groups: int, has_identity: bool, channel: int, jj: int,
                   limit: int = 96) -> np.ndarray:
    """The merged kernels' centre taps W[o, i, 1, 1] (output rows × input-in-group columns, the first
    ``limit`` of each), the chosen (channel, jj) framed."""
    m = np.asarray(centre, dtype=np.float64)[:limit, :limit]
    o, i = m.shape
    cell = int(np.clip(420 // max(o, i), 2, 40))
    vmax = _sym(m)
    img = cv2.resize(diverging(m, vmax), (i * cell, o * cell), interpolation=cv2.INTER_NEAREST)
    if channel < o and jj < i:
        cv2.rectangle(img, (jj * cell, channel * cell), ((jj + 1) * cell - 1, (channel + 1) * cell - 1),
                      (0, 0, 0), max(1, cell // 6))
    pad = np.full((img.shape[0] + 40, max(img.shape[1], 300), 3), 255, np.uint8)
    pad[:img.shape[0], :img.shape[1]] = img
    note = (words.say("{o} outputs × {i} inputs per group", o=o, i=i)
            + (words.say(" (first {n})", n=limit) if max(centre.shape[:2]) > limit else "")
            + words.say("; identity on [c, c mod C/g]" if has_identity else "; no identity branch"))
    _text(pad, _fit(note, pad.shape[1] - 8, 0.4), (4, img.shape[0] + 24), 0.4)
    return _row([pad, diverging_bar(pad.shape[0], vmax, label="centre tap")])


def stem_kernels_picture(stem: Any, source: str, per_row: int = 12) -> np.ndarray:
    """The stem block's merged 3×3 kernels over the RGB input, one colour tile each (0.5 + 0.5·w/max|w|)."""
    import torch

    from core.repvgg import merge_block

    weight, _ = merge_block(stem, torch.float64)
    w = weight.detach().double().numpy()
    if w.shape[1] != 3:
        return caption_bar(words.say("the stem does not read RGB directly"), 360, 40)
    n = w.shape[0]
    scale = 28
    rows = -(-n // per_row)
    gap = 4
    img = np.full((rows * (3 * scale + gap) + gap, per_row * (3 * scale + gap) + gap, 3), 255, np.uint8)
    for idx in range(n):
        k = w[idx].transpose(1, 2, 0)
        top = np.abs(k).max()
        rgb = np.clip((0.5 + 0.5 * k / (top if top > 0 else 1.0)) * 255 + 0.5, 0, 255).astype(np.uint8)
        r, q = divmod(idx, per_row)
        y0, x0 = gap + r * (3 * scale + gap), gap + q * (3 * scale + gap)
        img[y0:y0 + 3 * scale, x0:x0 + 3 * scale] = cv2.resize(rgb, (3 * scale, 3 * scale),
                                                                 interpolation=cv2.INTER_NEAREST)
    title = (words.say("RANDOM weights: these kernels are not learned") if source == "random"
             else words.say("{source} weights: learned kernels", source=source))
    return np.concatenate([caption_bar(title, img.shape[1], 26, 0.46), img], axis=0)


def placements_picture(paths: dict[str, Any], name: str) -> np.ndarray:
    """The shortcut ``x`` and the identity branch ``BN(x)`` of one channel side by side (the same signal,
    affinely rescaled), next to what the conv branches add."""
    c = paths["channel"]
    tiles = []
    for key, title in (("shortcut", words.say("shortcut x, ch {c}", c=c)),
                       ("identity", words.say("identity branch BN(x), ch {c}", c=c)),
                       ("convs", words.say("3×3 + 1×1 branches, ch {c}", c=c))):
        vmax = _sym(paths[key])
        tiles.append(_row([_tile(diverging(paths[key], vmax), title), diverging_bar(TILE + 22, vmax)], gap=2))
    text = np.full((TILE + 22, 360, 3), 255, np.uint8)
    corr = paths["correlation"]
    mean = paths["correlation_abs_mean"]
    lines = [words.say("block {name}, channel {c}", name=name, c=c),
             f"corr(x, BN(x)) = {corr:+.6f}",
             f"BN(x) = {paths['identity_scale']:.4g}·x + {paths['identity_bias']:.4g}",
             words.say("|corr| over all channels: {m:.6f}", m=mean) if mean is not None else "",
             words.say("identity's share of the branch sum: {s:.1%}", s=paths["identity_share"]),
             words.say("on a shortcut or in a concatenation"),
             words.say("x already reaches the output: the identity"),
             words.say("branch is a second copy (RepConvN drops it)")]
    for i, t in enumerate(lines):
        _text(text, _fit(t, 352, 0.4), (6, 24 + 21 * i), 0.4)
    return _row(tiles + [text])


# --------------------------------------------------------------------------------------------- #
# charts (drawn with OpenCV: a matplotlib figure costs several times the whole lesson)

FLOOR = 1e-18  # where an exact 0 is drawn on the log axis


def _hline_text(img: np.ndarray, text: str, x: int, y: int, scale: float = 0.38) -> None:
    _text(img, _fit(words.say(text), img.shape[1] - x - 4, scale), (x, y), scale)


def exactness_chart(rows: Sequence[tuple[str, float | None, float | None]], width: int = 860) -> np.ndarray:
    """Horizontal bars on a log axis (1e−18 … 1): the largest |training-time − deployed| of each comparison
    in float32 (blue) and float64 (orange); dashed lines at the tests' tolerances 1e−5 and 1e−10."""
    left, right, top, row_h = 230, 70, 34, 34
    height = top + row_h * len(rows) + 44
    img = np.full((height, width, 3), 255, np.uint8)
    lo, hi = np.log10(FLOOR), 0.0
    span = width - left - right

    def xpos(v: float) -> int:
        return left + int(round((np.log10(max(v, FLOOR)) - lo) / (hi - lo) * span))

    for e in range(-18, 1, 2):
        x = xpos(10.0 ** e)
        cv2.line(img, (x, top - 6), (x, height - 40), (235, 235, 235), 1)
        _text(img, f"1e{e}", (x - 14, height - 22), 0.33)
    for tol in (1e-5, 1e-10):
        x = xpos(tol)
        for y in range(top - 6, height - 40, 8):
            cv2.line(img, (x, y), (x, y + 4), (90, 90, 90), 1)
    for i, (name, v32, v64) in enumerate(rows):
        y = top + i * row_h
        _hline_text(img, name, 6, y + 20, 0.38)
        for off, v, colour in ((3, v32, BLUE), (17, v64, ORANGE)):
            if v is None:
                continue
            x1 = xpos(v)
            cv2.rectangle(img, (left, y + off), (max(left + 1, x1), y + off + 12), colour, -1)
            _text(img, "0" if v == 0 else f"{v:.1e}", (x1 + 4, y + off + 11), 0.32)
    cv2.line(img, (left, top - 6), (left, height - 40), INK, 1)
    cv2.rectangle(img, (left + 4, 6), (left + 16, 18), BLUE, -1)
    _text(img, "float32", (left + 20, 17), 0.36)
    cv2.rectangle(img, (left + 94, 6), (left + 106, 18), ORANGE, -1)
    _text(img, "float64", (left + 110, 17), 0.36)
    _text(img, words.say("dashed: 1e−10 and 1e−5"), (left + 190, 17), 0.34)
    _text(img, words.say("max |training-time − deployed|"), (left + span // 2 - 90, height - 6), 0.36)
    return img


def speed_chart(costs: Sequence[dict[str, Any]], width: int = 1020) -> np.ndarray:
    """Three panels of grouped bars (latency, peak activation memory, parameters): training-time
    (vermillion) and deployed (blue) per stack, the deployed/training ratio above each pair."""
    metrics = (("latency (ms)", lambda c, t: c["latency_ms"][t]),
               ("peak activations (MB)", lambda c, t: c["peak_activation_mb"][t]),
               ("parameters (M)", lambda c, t: c["topology"][t]["parameters"] / 1e6))
    panel_w, height, top, bottom = width // 3, 300, 50, 46
    extra = 22 * len(costs)
    img = np.full((height + 30 + extra, width, 3), 255, np.uint8)
    for k, (title, get) in enumerate(metrics):
        x0 = k * panel_w + 40
        plot_w = panel_w - 60
        vals = [(get(c, "train"), get(c, "deployed")) for c in costs]
        vmax = max(max(v) for v in vals) if vals else 1.0
        vmax = vmax if vmax > 0 else 1.0
        base = height - bottom
        _text(img, words.say(title), (x0, 34), 0.42)
        cv2.line(img, (x0, base), (x0 + plot_w, base), INK, 1)
        group = plot_w / max(1, len(costs))
        for i, (c, (a, b)) in enumerate(zip(costs, vals, strict=True)):
            gx = x0 + int(i * group + group * 0.15)
            bw = int(group * 0.33)
            for j, (v, colour) in enumerate(((a, VERMILLION), (b, BLUE))):
                h = int(round(v / vmax * (base - top - 24)))
                bx = gx + j * (bw + 4)
                cv2.rectangle(img, (bx, base - h), (bx + bw, base), colour, -1)
                _text(img, f"{v:.3g}", (bx, base - h - 4), 0.32)
            _text(img, _fit(c["arch"], int(group) - 4, 0.36), (gx, base + 18), 0.36)
            if a > 0:
                _text(img, words.say("deployed ×{r:.2f}", r=b / a), (gx, base + 36), 0.34)
    threads = costs[0]["threads"] if costs else 1
    size = costs[0]["size"] if costs else 0
    cv2.rectangle(img, (40, height + 6), (52, height + 18), VERMILLION, -1)
    _text(img, words.say("training-time"), (56, height + 17), 0.36)
    cv2.rectangle(img, (170, height + 6), (182, height + 18), BLUE, -1)
    _text(img, words.say("deployed (one conv + ReLU per block)"), (186, height + 17), 0.36)
    setting = words.say("batch 1, {size}² px, {n} torch thread(s), this CPU", size=size, n=threads)
    _text(img, setting, (500, height + 17), 0.36)
    for i, c in enumerate(costs):
        t, d = c["topology"]["train"], c["topology"]["deployed"]
        line = words.say(_TOPOLOGY, arch=c["arch"], t3=t["conv3x3"], t1=t["conv1x1"], tb=t["batchnorm"],
                         ta=t["branch_adds"], d3=d["conv3x3"], d1=d["conv1x1"], db=d["batchnorm"],
                         da=d["branch_adds"])
        _text(img, _fit(line, width - 50, 0.36), (40, height + 40 + 22 * i), 0.36)
    return img


_TOPOLOGY = ("{arch}: training-time {t3} 3×3 + {t1} 1×1 convs, {tb} BatchNorms, {ta} branch additions → "
             "deployed {d3} 3×3 + {d1} 1×1 convs, {db} BatchNorms, {da} additions")

#: the Chinese of the figures' texts (core.viz.words; the bundled font subset covers them)
FIGURE_ZH = words.register({
    "folded": "折叠后",
    "shared": "共用刻度",
    "input": "输入",
    "centre tap": "中心抽头",
    "network input": "网络输入",
    "block input, ch {c}": "块的输入，通道 {c}",
    "{name} branch, ch {c}": "{name}分支，通道 {c}",
    "identity": "恒等",
    "identity (Dirac)": "恒等（Dirac）",
    "|Δ| (float64)": "|Δ|（float64）",
    "Σ branches (train)": "各分支之和（训练时）",
    "one merged 3×3 (deploy)": "合并后的一个 3×3（部署时）",
    "folded, {n}×{n}": "折叠后，{n}×{n}",
    "|Σ of the pieces − merge_branches| = {d:.1e}": "|各部分之和 − merge_branches| = {d:.1e}",
    "(output {o} ← input {i}, groups {g})": "（输出 {o} ← 输入 {i}，分组 {g}）",
    "Σ of the folded kernels": "折叠后各卷积核之和",
    "merged": "合并后",
    "{o} outputs × {i} inputs per group": "{o} 个输出 × 每组 {i} 个输入",
    " (first {n})": "（前 {n} 个）",
    "; identity on [c, c mod C/g]": "；恒等分支在 [c, c mod C/g]",
    "; no identity branch": "；没有恒等分支",
    "the stem does not read RGB directly": "stem 不直接读取 RGB",
    "RANDOM weights: these kernels are not learned": "随机权重：这些卷积核不是学出来的",
    "{source} weights: learned kernels": "{source} 权重：学到的卷积核",
    "shortcut x, ch {c}": "捷径 x，通道 {c}",
    "identity branch BN(x), ch {c}": "恒等分支 BN(x)，通道 {c}",
    "3×3 + 1×1 branches, ch {c}": "3×3 + 1×1 分支，通道 {c}",
    "block {name}, channel {c}": "块 {name}，通道 {c}",
    "|corr| over all channels: {m:.6f}": "所有通道上的 |corr|：{m:.6f}",
    "identity's share of the branch sum: {s:.1%}": "恒等分支在分支之和中的占比：{s:.1%}",
    "on a shortcut or in a concatenation": "在捷径上或拼接里",
    "x already reaches the output: the identity": "x 已经直接到达输出：恒等",
    "branch is a second copy (RepConvN drops it)": "分支是第二份拷贝（RepConvN 去掉了它）",
    "this block": "这个块",
    "whole network (logits)": "整个网络（logits）",
    "dashed: 1e−10 and 1e−5": "虚线：1e−10 和 1e−5",
    "max |training-time − deployed|": "最大 |训练时 − 部署时|",
    "latency (ms)": "延迟（毫秒）",
    "peak activations (MB)": "激活峰值（MB）",
    "parameters (M)": "参数量（百万）",
    "deployed ×{r:.2f}": "部署时 ×{r:.2f}",
    "training-time": "训练时",
    "deployed (one conv + ReLU per block)": "部署时（每块一个卷积 + ReLU）",
    "batch 1, {size}² px, {n} torch thread(s), this CPU":
        "批大小 1，{size}² 像素，{n} 个 torch 线程，这台 CPU",
    _TOPOLOGY: "{arch}：训练时 {t3} 个 3×3 + {t1} 个 1×1 卷积、{tb} 个 BatchNorm、{ta} 次分支相加 → "
               "部署时 {d3} 个 3×3 + {d1} 个 1×1 卷积、{db} 个 BatchNorm、{da} 次相加",
})
