"""``python -m bench [--quick] [--only LESSON ...]``: every lesson's benchmark, cold start and memory,
printed as one table of ratios against baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench import Row  # noqa: E402
from bench.system import cold_start, memory_growth, rss_mb, server_memory_growth  # noqa: E402
from core import runtime  # noqa: E402
from core.lesson import LESSONS  # noqa: E402

LESSON_BENCHES = ("attention", "repmlp", "pointrend", "simota", "diffusion", "compare", "roi", "losses",
                  "receptive", "repvgg", "mlp", "hub", "frame")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def table(rows: list[Row]) -> str:
    head = ("| lesson | what | baseline | baseline s | ours s | ratio | goal | |\n"
            "|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        goal = f"≤ {r.goal:g}×" if r.goal is not None else ""
        lines.append(f"| {r.lesson} | {r.what} | {r.baseline} | {r.baseline_s:.4f} | {r.ours_s:.4f} | "
                     f"{r.ratio:.2f}× | {goal} | {r.verdict} {r.note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    parser.add_argument("--only", nargs="*", default=None, help="only these lessons")
    parser.add_argument("--no-system", action="store_true", help="skip cold start and memory")
    args = parser.parse_args()
    runtime.keep_freed_memory()  # the app's memory setting: fresh-page faults would blur the ratios
    started = time.time()
    rows: list[Row] = []
    failures: list[str] = []
    for lesson in args.only or LESSON_BENCHES:
        try:
            module = importlib.import_module(f"bench.{lesson}")
        except ModuleNotFoundError:
            failures.append(f"{lesson}: no benchmark module")
            continue
        try:
            rows.extend(module.run(quick=args.quick))
        except Exception as exc:  # noqa: BLE001 - report and continue with the other lessons
            failures.append(f"{lesson}: {type(exc).__name__}: {exc}")
    print(f"\nLensLab benchmarks — {machine()}\n")
    print(table(rows))
    if not args.no_system:
        up, first = cold_start()
        print(f"\nCold start: server listening after {up:.1f} s, first /attention answer after {first:.1f} s")
        calls = (10, 60) if args.quick else (10, 200)
        lessons = list(args.only or LESSONS)  # every lesson, including those without a speed goal
        base = rss_mb()
        growth = memory_growth(lessons, calls)
        print(f"\nMemory (RSS, MB; process before lessons: {base:.0f})\n")
        print(f"| lesson | after {calls[0]} calls | after {calls[1]} calls | growth |\n|---|---|---|---|")
        for lesson, (a, b) in growth.items():
            print(f"| {lesson} | {a:.0f} | {b:.0f} | {100 * (b - a) / a:+.1f}% |")
        print(f"\nAll lessons loaded: {rss_mb():.0f} MB RSS (goal ≤ 2048 MB)")
        sessions = (40, 120) if args.quick else (40, 300)
        first, last = server_memory_growth(sessions)
        print(f"\nServer RSS after {sessions[0]} → {sessions[1]} /attention calls, each from a new API "
              f"session: {first:.0f} → {last:.0f} MB ({100 * (last - first) / first:+.1f}%)")
    if failures:
        print("\nNot measured:\n" + "\n".join(f"- {f}" for f in failures))
    print(f"\n(bench took {time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
