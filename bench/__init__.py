"""LensLab benchmarks: ratios against baselines measured in the same run, printed as one table.

Each lesson has ``bench/<lesson>.py`` with ``run(quick: bool) -> list[Row]``. Timings on a shared
2-core machine are noisy, so we report ratios (ours / baseline, same process, interleaved repeats,
median) rather than absolute goals, and never assert timings in tests.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One measured comparison. ``goal`` is the target ratio (``ours / baseline <= goal``), if any."""

    lesson: str
    what: str
    baseline: str
    baseline_s: float
    ours_s: float
    goal: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours_s / self.baseline_s if self.baseline_s > 0 else float("inf")

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        return "ok" if self.ratio <= self.goal else "MISSED"


def timeit(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs, in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(ours: Callable[[], object], baseline: Callable[[], object], repeat: int = 5,
            warmup: int = 1) -> tuple[float, float]:
    """Interleave runs of both functions (so load on the machine hits both alike); medians (ours, base)."""
    for _ in range(warmup):
        baseline()
        ours()
    t_ours, t_base = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        baseline()
        t_base.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours()
        t_ours.append(time.perf_counter() - start)
    return statistics.median(t_ours), statistics.median(t_base)
