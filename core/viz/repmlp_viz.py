"""Drawing for the RepMLP lesson: feature-map strips with partition grids, signed matrices, the 10×10
locality maps with their k×k box, and the zoomable plotly view of the FC matrix's contributions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from core.viz import words
from core.viz.draw import add_colorbar, colorize, label_strip

_INK = (30, 30, 30)


def signed_colors(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Diverging blue–white–red RGB for signed values (0 → white), symmetric around zero."""
    from matplotlib import colormaps

    v = np.asarray(values, dtype=np.float64)
    top = float(np.abs(v).max()) if vmax is None else float(vmax)
    top = top if top > 0 else 1.0
    rgba = colormaps["RdBu_r"](np.clip(0.5 + 0.5 * v / top, 0.0, 1.0))
    return (rgba[..., :3] * 255 + 0.5).astype(np.uint8)


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45,
          color: tuple[int, int, int] = _INK, thickness: int = 1) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)


def map_strip(maps: np.ndarray, names: Sequence[str], partition: tuple[int, int], tile: int = 200,
              cmap: str = "viridis", vmin: float | None = None, vmax: float | None = None,
              signed: bool = False, colorbar: str | None = None) -> np.ndarray:
    """Channels of a (C, H, W) map side by side, nearest-upscaled, with the h×w partition grid drawn.

    With ``colorbar`` (its label) the strip ends in a colour bar with the numbers of its range, so a
    map of 1e-7 noise reads as such and not as structure."""
    maps = np.asarray(maps, dtype=np.float32)
    c, hh, ww = maps.shape
    scale = max(1, tile // max(hh, ww))
    lo = float(maps.min()) if vmin is None else vmin
    hi = float(maps.max()) if vmax is None else vmax
    tiles = []
    for i in range(c):
        rgb = signed_colors(maps[i], max(abs(lo), abs(hi))) if signed else colorize(maps[i], cmap, lo, hi)
        big = cv2.resize(rgb, (ww * scale, hh * scale), interpolation=cv2.INTER_NEAREST)
        ph, pw = partition
        for y in range(ph, hh, ph):
            cv2.line(big, (0, y * scale), (ww * scale - 1, y * scale), (255, 255, 255), 2)
        for x in range(pw, ww, pw):
            cv2.line(big, (x * scale, 0), (x * scale, hh * scale - 1), (255, 255, 255), 2)
        tiles.append(label_strip(big, names[i] if i < len(names) else f"ch {i}", height=22))
    gap = np.full((tiles[0].shape[0], 8, 3), 255, np.uint8)
    row = tiles[0]
    for t in tiles[1:]:
        row = np.concatenate([row, gap, t], axis=1)
    if colorbar is None:
        return row
    top = max(abs(lo), abs(hi))
    body = row[22:]  # the colour bar spans the maps, not their name strip
    low, high = (-top, top) if signed else (lo, hi)
    out = add_colorbar(body, low, high, "coolwarm" if signed else cmap, label=colorbar)
    if signed:  # the same diverging colours as the maps
        ramp = np.linspace(top, -top, body.shape[0])[:, None].repeat(22, axis=1)
        out[:, body.shape[1] + 6:body.shape[1] + 28] = signed_colors(ramp, top)
    head = np.full((22, out.shape[1], 3), 255, np.uint8)
    head[:, :row.shape[1]] = row[:22]
    return np.concatenate([head, out], axis=0)


def matrix_image(matrix: np.ndarray, block: int, size: int = 560, title: str = "") -> np.ndarray:
    """A signed matrix as an image (blue < 0 < red), thin lines between the (h·w × h·w) channel blocks."""
    m = np.asarray(matrix, dtype=np.float64)
    rgb = signed_colors(m)
    scale = max(1, size // max(m.shape))
    big = cv2.resize(rgb, (m.shape[1] * scale, m.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
    for r in range(block, m.shape[0], block):
        cv2.line(big, (0, r * scale), (big.shape[1] - 1, r * scale), (120, 120, 120), 1)
    for c in range(block, m.shape[1], block):
        cv2.line(big, (c * scale, 0), (c * scale, big.shape[0] - 1), (120, 120, 120), 1)
    top = float(np.abs(m).max()) or 1.0
    out = add_colorbar(big, -top, top, "coolwarm")
    # add_colorbar uses an OpenCV map; redraw its bar with the same diverging colours as the matrix
    bar_x = big.shape[1] + 6
    ramp = np.linspace(top, -top, big.shape[0])[:, None].repeat(22, axis=1)
    out[:, bar_x:bar_x + 22] = signed_colors(ramp, top)
    return label_strip(out, title) if title else out


def locality_image(values: np.ndarray, box: tuple[int, int, int, int], pixel: tuple[int, int],
                   title: str, cell: int = 34, vmax: float | None = None, subtitle: str = "") -> np.ndarray:
    """A small weight map |w| (inferno) with the receptive-field box (cyan) and the output pixel (white)."""
    a = np.abs(np.asarray(values, dtype=np.float64))
    h, w = a.shape
    top = float(a.max()) if vmax is None else vmax
    rgb = colorize(a, "inferno", 0.0, top if top > 0 else 1.0)
    big = cv2.resize(rgb, (w * cell, h * cell), interpolation=cv2.INTER_NEAREST)
    for i in range(1, h):
        cv2.line(big, (0, i * cell), (w * cell - 1, i * cell), (60, 60, 60), 1)
    for j in range(1, w):
        cv2.line(big, (j * cell, 0), (j * cell, h * cell - 1), (60, 60, 60), 1)
    r0, r1, c0, c1 = box
    cv2.rectangle(big, (c0 * cell, r0 * cell), ((c1 + 1) * cell - 1, (r1 + 1) * cell - 1), (0, 220, 255), 3)
    py, px = pixel
    cv2.rectangle(big, (px * cell + 2, py * cell + 2), ((px + 1) * cell - 3, (py + 1) * cell - 3),
                  (0, 0, 0), 4)  # dark rim, so the marker shows on a bright cell too
    cv2.rectangle(big, (px * cell + 3, py * cell + 3), ((px + 1) * cell - 4, (py + 1) * cell - 4),
                  (255, 255, 255), 2)
    for j in range(w):
        _text(big, str(j), (j * cell + cell // 2 - 4, h * cell - 4), 0.35, (200, 200, 200))
    out = add_colorbar(big, 0.0, top, "inferno", label="|w|")
    if subtitle:
        out = label_strip(out, subtitle, height=22)
    return label_strip(out, title, height=26)


def tiles_row(images: Sequence[np.ndarray], titles: Sequence[str], height: int = 240) -> np.ndarray:
    """Images scaled to one height, captioned, side by side."""
    parts = []
    for img, title in zip(images, titles, strict=True):
        s = height / img.shape[0]
        interp = cv2.INTER_NEAREST if s >= 1 else cv2.INTER_AREA
        scaled = cv2.resize(img, (max(1, round(img.shape[1] * s)), height), interpolation=interp)
        parts.append(label_strip(scaled, title, height=24) if title else scaled)
    gap = np.full((parts[0].shape[0], 10, 3), 255, np.uint8)
    row = parts[0]
    for p in parts[1:]:
        row = np.concatenate([row, gap, p], axis=1)
    return row


def fc_structure_figure(matrices: Mapping[str, np.ndarray], block: int, titles: Mapping[str, str]):
    """A zoomable plotly heatmap of each contribution to the merged FC, switchable with buttons."""
    import plotly.graph_objects as go

    names = list(matrices)
    top = max(float(np.abs(m).max()) for m in matrices.values()) or 1.0
    fig = go.Figure()
    for i, name in enumerate(names):
        m = np.asarray(matrices[name], dtype=np.float32)
        fig.add_trace(go.Heatmap(
            z=m, zmin=-top, zmax=top, zmid=0.0, colorscale="RdBu", reversescale=True,
            visible=(i == len(names) - 1),
            name=titles.get(name, name), colorbar=dict(title=words.say("weight")),
            hovertemplate=words.say("out %{y} · in %{x}<br>w = %{z:.4f}") + "<extra>" + titles.get(name, name)
            + "</extra>",
        ))
    n = next(iter(matrices.values())).shape[0]
    lines = [dict(type="line", x0=k - 0.5, x1=k - 0.5, y0=-0.5, y1=n - 0.5, line=dict(color="#999", width=1))
             for k in range(block, n, block)]
    lines += [dict(type="line", y0=k - 0.5, y1=k - 0.5, x0=-0.5, x1=n - 0.5, line=dict(color="#999", width=1))
              for k in range(block, n, block)]
    buttons = [dict(label=titles.get(name, name), method="update",
                    args=[{"visible": [j == i for j in range(len(names))]},
                          {"title.text": words.say("FC matrix — {name}", name=titles.get(name, name))}])
               for i, name in enumerate(names)]
    fig.update_layout(
        title=dict(text=words.say("FC matrix — {name}", name=titles.get(names[-1], names[-1])), y=0.98,
                   yanchor="top"),
        shapes=lines, height=660, margin=dict(l=60, r=20, t=110, b=50),
        xaxis=dict(title=words.say("input index c·h·w + y·w + x"), constrain="domain"),
        yaxis=dict(title=words.say("output index o·h·w + y·w + x"), autorange="reversed", scaleanchor="x"),
        updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0.0, y=1.09,
                          xanchor="left", yanchor="top", active=len(names) - 1)],
    )
    return fig
