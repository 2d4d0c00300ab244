"""Drawing for the diffusion lesson: schedule curves, filmstrips of the trajectory, small-image views."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from core.viz import fonts, words
from core.viz.draw import PALETTE, _text
from core.viz.words import say

_SCHEDULE_COLORS = {"linear": PALETTE[4], "scaled-linear": PALETTE[0], "cosine": PALETTE[2]}
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_INK = (30, 30, 30)

words.register({
    "final": "最终",
    r"$\beta_t$ (noise added at step t)": "β_t（第 t 步加入的噪声）",
    r"$\bar\alpha_t = \prod_{s\leq t}(1-\beta_s)$ (signal kept)": "累积乘积 ∏(1 − β_s)，s ≤ t（保留的信号）",
    r"SNR$_t = \bar\alpha_t / (1-\bar\alpha_t)$": "信噪比 SNR_t：信号方差 / 噪声方差",
})


def label(canvas: np.ndarray, text: str, org: tuple[int, int], scale: float,
          color: tuple[int, int, int] = _INK, thickness: int = 1) -> None:
    """``cv2.putText`` for text without Chinese — byte for byte what the English figures always were, even
    for the ``²`` OpenCV cannot draw — and the CJK subset (Pillow) for a Chinese label."""
    if fonts.has_cjk(text):
        _text(canvas, text, org, scale, color)
    else:
        cv2.putText(canvas, text, org, _FONT, scale, color, thickness, cv2.LINE_AA)


def upscale(image: np.ndarray, size: int) -> np.ndarray:
    """Show a small model image large with hard pixel edges (nearest), so students see its real resolution."""
    h, w = image.shape[:2]
    if max(h, w) >= size:
        return image
    factor = max(1, size // max(h, w))
    return cv2.resize(image, (w * factor, h * factor), interpolation=cv2.INTER_NEAREST)


def side_by_side(left: np.ndarray, right: np.ndarray, size: int, gap: int = 8) -> np.ndarray:
    """Two images at the same displayed size with an arrow between them (input → result)."""
    a, b = _square(left, size), _square(right, size)
    arrow = np.full((size, 40, 3), 255, np.uint8)
    cv2.arrowedLine(arrow, (6, size // 2), (34, size // 2), _INK, 2, cv2.LINE_AA, tipLength=0.4)
    pad = np.full((size, gap, 3), 255, np.uint8)
    return np.concatenate([a, pad, arrow, pad, b], axis=1)


def filmstrip(top: Sequence[np.ndarray], bottom: Sequence[np.ndarray], ts: Sequence[int], tile: int = 96,
              max_tiles: int = 12) -> np.ndarray:
    """Two rows of tiles — x_t above, x̂0 below — labelled with their timestep (−1 = the final sample).

    Long trajectories are thinned evenly to ``max_tiles`` columns (first and last always kept).
    """
    n = len(ts)
    keep = list(range(n)) if n <= max_tiles else sorted({round(i * (n - 1) / (max_tiles - 1))
                                                         for i in range(max_tiles)})
    label_w, head, gap = 44, 24, 4
    width = label_w + len(keep) * (tile + gap) + gap
    canvas = np.full((head + 2 * (tile + gap) + gap, width, 3), 255, np.uint8)
    for row, name in enumerate(("x_t", "x0^")):
        y = head + gap + row * (tile + gap)
        cv2.putText(canvas, name, (4, y + tile // 2 + 6), _FONT, 0.55, _INK, 1, cv2.LINE_AA)
    for col, i in enumerate(keep):
        x = label_w + gap + col * (tile + gap)
        text = say("final") if ts[i] < 0 else f"t={ts[i]}"
        label(canvas, text, (x + 2, head - 7), 0.45)
        for row, source in enumerate((top, bottom)):
            y = head + gap + row * (tile + gap)
            canvas[y:y + tile, x:x + tile] = _square(source[i], tile)
    return canvas


def forward_strip(frames: Sequence[np.ndarray], infos: Sequence[dict[str, float]],
                  tile: int = 128) -> np.ndarray:
    """x_t for a few t with the same ε, each captioned with t and ᾱ_t."""
    head, gap = 40, 6
    canvas = np.full((head + tile + gap, len(frames) * (tile + gap) + gap, 3), 255, np.uint8)
    for i, (frame, info) in enumerate(zip(frames, infos, strict=True)):
        x = gap + i * (tile + gap)
        cv2.putText(canvas, f"t={info['t']}", (x + 2, 16), _FONT, 0.5, _INK, 1, cv2.LINE_AA)
        cv2.putText(canvas, f"abar={info['alpha_bar']:.2g}", (x + 2, 33), _FONT, 0.42, _INK, 1, cv2.LINE_AA)
        canvas[head:head + tile, x:x + tile] = _square(frame, tile)
    return canvas


def schedule_figure(schedule: str, t: int, width: int = 1080, height: int = 330) -> np.ndarray:
    """β_t, ᾱ_t and SNR_t (log) of the three schedules, the chosen one bold, with ``t`` marked."""
    return _schedule_figure(schedule, int(t), width, height, words.current()).copy()


@lru_cache(maxsize=64)
def _schedule_figure(schedule: str, t: int, width: int, height: int, lang: str) -> np.ndarray:
    """Cached per language (the titles are drawn in it)."""
    import matplotlib

    from core.diffusion import SCHEDULES, schedule_curves

    curves = {name: schedule_curves(name) for name in SCHEDULES}
    dpi = 100
    # Chinese titles are plain text (mathtext has no font fallback), the CJK subset behind DejaVu
    family = list(fonts.matplotlib_family()) if lang == "zh" else matplotlib.rcParams["font.family"]
    with matplotlib.rc_context({"font.family": family}):
        return _draw_schedules(curves, schedule, t, width, height, dpi)


def _draw_schedules(curves: dict, schedule: str, t: int, width: int, height: int, dpi: int) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    panels = [("beta", say(r"$\beta_t$ (noise added at step t)"), True),
              ("alpha_bar", say(r"$\bar\alpha_t = \prod_{s\leq t}(1-\beta_s)$ (signal kept)"), False),
              ("snr", say(r"SNR$_t = \bar\alpha_t / (1-\bar\alpha_t)$"), True)]
    for ax, (key, title, log) in zip(axes, panels, strict=True):
        for name, c in curves.items():
            chosen = name == schedule
            values = getattr(c, key)
            ax.plot(c.t, values, color=np.array(_SCHEDULE_COLORS[name]) / 255, lw=2.6 if chosen else 1.2,
                    alpha=1.0 if chosen else 0.55, label=name)
        value = float(getattr(curves[schedule], key)[t])
        ax.axvline(t, color="#d55e00", lw=1.2, ls="--")
        ax.plot([t], [value], "o", color="#d55e00", ms=6)
        ax.set_title(f"{title}\nt = {t}: {value:.3g}", fontsize=10)
        ax.set_xlabel("t", fontsize=9)
        ax.set_xlim(0, len(c.t) - 1)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.25)
        if log:
            ax.set_yscale("log")
        if key == "beta":
            ax.legend(fontsize=8, loc="upper left", frameon=False)
    fig.tight_layout()
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    fig.clear()
    return image


def _square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    interp = cv2.INTER_NEAREST if max(h, w) <= size // 2 else cv2.INTER_AREA if max(h, w) > size \
        else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interp)
