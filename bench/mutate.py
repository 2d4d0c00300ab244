"""``python -m bench.mutate``: a curated mutation pass over the lesson code.

Every mutant in :mod:`bench.mutants` is one small, plausible bug (a flipped sign, an off-by-one, a
wrong clamp, a swapped axis, a wrong baseline) written as an exact source snippet and its
replacement. The pass copies the repository to a temporary directory (the files git knows, as
committed at ``HEAD`` by default, or as they are in the working tree with ``--source worktree``),
applies one mutant at a time there, runs only the test files mapped to that module with
``-x -q`` and a timeout, and restores the file. The checkout itself is never touched, so the pass
can run while others edit and test it.

A mutant is *caught* when its tests fail (or time out), *survived* when they pass. Mutants marked
``equivalent`` (no behaviour can change) are listed with the reason and not run. Before the
mutants, every distinct test selection runs once on the unmutated copy: a selection that already
fails would make every mutant look caught, so the pass stops there.

The table (module, mutant, result, seconds) and the score go to stdout and, with ``--out``, to a
Markdown file (``docs/mutation.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.mutants import MUTANTS, Mutant

ROOT = Path(__file__).resolve().parent.parent
MARKERS = "not browser and not slow"


@dataclass
class Outcome:
    mutant: Mutant
    result: str  # caught | survived | timeout | equivalent | error
    seconds: float
    detail: str = ""
    measured_at: str = ""  # the commit of an earlier pass this outcome was taken from (--previous)


def copy_tree(source: str, dest: Path) -> None:
    """The repository's files into ``dest``: ``HEAD`` (committed) or ``worktree`` (as on disk)."""
    if source == "HEAD":
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        return
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def pytest_command(m: Mutant) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", *m.tests, "-x", "-q", "-p", "no:cacheprovider", "-m", MARKERS]
    if m.k:
        cmd += ["-k", m.k]
    return cmd


def run_tests(cmd: list[str], cwd: Path, timeout: float) -> tuple[int | None, float, str]:
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", LENSLAB_MUTATION="1"
    )
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start, "timeout"
    lines = (done.stdout + done.stderr).strip().splitlines()
    # the first failing test names what caught the mutant; otherwise pytest's last line
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return done.returncode, time.perf_counter() - start, (failed or lines or [""])[0 if failed else -1]


def apply(tree: Path, m: Mutant) -> str:
    """Write the mutant into the copy; return the original text to restore."""
    path = tree / m.module
    text = path.read_text()
    count = text.count(m.old)
    if count != 1:
        raise LookupError(
            f"{m.module}: the snippet of mutant {m.ident!r} occurs {count} times (must be once)"
        )
    path.write_text(text.replace(m.old, m.new))
    return text


def check(mutants: list[Mutant], tree: Path) -> list[str]:
    """Every snippet must occur exactly once and every mapped test file must exist."""
    problems = []
    for m in mutants:
        text = (tree / m.module).read_text() if (tree / m.module).is_file() else ""
        if text.count(m.old) != 1:
            problems.append(f"{m.ident}: snippet occurs {text.count(m.old)} times in {m.module}")
        problems += [f"{m.ident}: no test file {t}" for t in m.tests if not (tree / t).is_file()]
    return problems


def _test_name(detail: str) -> str:
    """``FAILED tests/x.py::test_y[p] - AssertionError…`` → ``test_x.py::test_y[p]``."""
    if not detail.startswith(("FAILED ", "ERROR ")):
        return ""
    name = detail.split(" ", 1)[1].split(" - ", 1)[0]
    return f"`{name.removeprefix('tests/')}`"


def markdown(outcomes: list[Outcome], source: str, commit: str, total_s: float) -> str:
    run = [o for o in outcomes if o.result != "equivalent"]
    caught = sum(o.result in ("caught", "timeout") for o in run)
    per_module: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in run:
        per_module[o.mutant.module][1] += 1
        per_module[o.mutant.module][0] += o.result in ("caught", "timeout")
    score = 100.0 * caught / max(len(run), 1)
    carried = sorted({o.measured_at for o in run if o.measured_at and o.measured_at != commit})
    n_carried = sum(bool(o.measured_at and o.measured_at != commit) for o in run)
    note = (f" {n_carried} outcomes were carried over from earlier passes at `{'`, `'.join(carried)}` "
            "(their snippets unchanged; tests were only added since, and an added test cannot un-catch a "
            "mutant); the others ran at this commit." if carried else "")
    lines = [
        "# Mutation pass over the lesson code",
        "",
        "Generated by `python -m bench.mutate --out docs/mutation.md --json docs/mutation.json` (the "
        "mutants, their test selections and the tests left out of them — servers, browsers, and one test of "
        "`test_cam.py` that depends on a random ResNet-50's map — are listed in `bench/mutants.py`). Each "
        "mutant is one small bug applied to a temporary copy of the repository; its module's tests run with "
        f'`-x -q -m "{MARKERS}"`. Caught = the tests fail. After tests are added, '
        "`--only <survivors> --previous docs/mutation.json` reruns only the survivors and keeps the "
        "earlier catches.",
        "",
        f"Source: `{source}` at `{commit}`; {len(run)} mutants, this pass took {total_s / 60:.1f} min, "
        f"{sum(o.result == 'equivalent' for o in outcomes)} listed as equivalent.{note}",
        "",
        f"**Score: {caught} / {len(run)} caught ({score:.1f} %).**",
        "",
        "## Per module",
        "",
        "| module | caught | mutants |",
        "|---|---|---|",
    ]
    lines += [f"| `{mod}` | {c} | {n} |" for mod, (c, n) in sorted(per_module.items())]
    lines += [
        "",
        "## Every mutant",
        "",
        "| module | mutant | what it breaks | result | first failing test | s |",
        "|---|---|---|---|---|---|",
    ]
    for o in run:
        where = f" (at `{o.measured_at}`)" if o.measured_at else ""
        lines.append(
            f"| `{o.mutant.module}` | `{o.mutant.ident}` | {o.mutant.what} | {o.result}{where} "
            f"| {_test_name(o.detail)} | {o.seconds:.0f} |"
        )
    equivalent = [o for o in outcomes if o.result == "equivalent"]
    if equivalent:
        lines += [
            "",
            "## Equivalent mutants (not counted)",
            "",
            "| module | mutant | why it cannot change behaviour |",
            "|---|---|---|",
        ]
        lines += [f"| `{o.mutant.module}` | `{o.mutant.ident}` | {o.mutant.equivalent} |" for o in equivalent]
    survived = [o for o in run if o.result == "survived"]
    if survived:
        lines += ["", "## Survivors", ""]
        lines += [f"- `{o.mutant.ident}` ({o.mutant.module}): {o.mutant.what}" for o in survived]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source",
        choices=("HEAD", "worktree"),
        default="HEAD",
        help="mutate the committed tree (default) or the working tree as it is on disk",
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="only mutants whose id or module contains one of these words"
    )
    parser.add_argument("--timeout", type=float, default=420.0, help="seconds per test run")
    parser.add_argument("--out", default=None, help="write the Markdown report here (e.g. docs/mutation.md)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of each selection")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--baseline-only", action="store_true",
                        help="only run every selection once unmutated (each must pass) and exit")
    parser.add_argument("--json", default=None, help="also write every outcome as JSON here")
    parser.add_argument(
        "--previous",
        default=None,
        help="JSON of an earlier pass: with --only, the mutants not rerun keep the outcome recorded there "
        "(when their snippet is unchanged; tests that were only added cannot un-catch a mutant)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    parser.add_argument("--report-only", default=None, metavar="JSON",
                        help="rewrite --out from a JSON record of a pass (no test is run)")
    args = parser.parse_args(argv)
    # a kill (SIGTERM) unwinds like Ctrl-C: the running pytest is stopped and the temporary copy removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if args.report_only:
        by_ident = {m.ident: m for m in MUTANTS}
        rows = json.loads(Path(args.report_only).read_text())
        def depth(c: str) -> int:  # the newest commit of the record is the pass's own
            return int(subprocess.run(["git", "rev-list", "--count", c], cwd=ROOT, capture_output=True,
                                      text=True).stdout.strip() or 0)

        head = max({r["commit"] for r in rows}, key=depth)
        outcomes = [Outcome(by_ident[r["ident"]], r["result"], r["seconds"], r["detail"],
                            "" if r["commit"] == head else r["commit"])
                    for r in rows if r["ident"] in by_ident]
        rerun_s = sum(o.seconds for o in outcomes if not o.measured_at)
        Path(args.out or "docs/mutation.md").write_text(markdown(outcomes, "HEAD", head, rerun_s))
        return 0
    mutants = [m for m in MUTANTS if not args.only or any(w in m.ident or w in m.module for w in args.only)]
    previous = {}
    if args.previous:
        previous = {row["ident"]: row for row in json.loads(Path(args.previous).read_text())}
    if args.list:
        for m in mutants:
            print(f"{m.module:32} {m.ident:34} {'(equivalent) ' if m.equivalent else ''}{m.what}")
        print(f"{len(mutants)} mutants")
        return 0
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    tree = Path(tempfile.mkdtemp(prefix="lenslab-mutate-"))
    started = time.perf_counter()
    try:
        copy_tree(args.source, tree)
        problems = check(mutants, tree)
        if problems:
            print("Stale mutants (fix bench/mutants.py):\n  " + "\n  ".join(problems), file=sys.stderr)
            return 2
        if not args.no_baseline or args.baseline_only:
            failing = 0
            for cmd in sorted({tuple(pytest_command(m)) for m in mutants if not m.equivalent}):
                rc, secs, tail = run_tests(list(cmd), tree, args.timeout)
                print(f"baseline {secs:6.1f}s rc={rc} {' '.join(cmd[3:])}: {tail}", flush=True)
                failing += rc != 0
                if rc != 0 and not args.baseline_only:
                    print(
                        "An unmutated selection fails: every mutant would look caught. Stopping.",
                        file=sys.stderr,
                    )
                    return 3
            if args.baseline_only:
                print(f"{failing} selection(s) fail unmutated" if failing else "every selection passes")
                return 3 if failing else 0
        outcomes: list[Outcome] = []
        for i, m in enumerate(mutants, 1):
            if m.equivalent:
                outcomes.append(Outcome(m, "equivalent", 0.0, m.equivalent))
                continue
            original = apply(tree, m)
            try:
                rc, secs, tail = run_tests(pytest_command(m), tree, args.timeout)
            finally:
                (tree / m.module).write_text(original)
            # 1: a test failed; 2: collection failed (the mutant broke an import, which the tests notice);
            # anything else (no test collected, pytest's own error) is a fault of the table, not a catch
            result = (
                "timeout" if rc is None else "survived" if rc == 0 else "caught" if rc in (1, 2) else "error"
            )
            outcomes.append(Outcome(m, result, secs, tail))
            print(
                f"[{i:3}/{len(mutants)}] {m.module:30} {m.ident:34} {result:8} {secs:6.1f}s  {tail[:80]}",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"copy kept at {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)
    total = time.perf_counter() - started
    if previous:  # fill in the mutants this pass did not run from the earlier one
        ran = {o.mutant.ident for o in outcomes}
        kept = []
        for m in MUTANTS:
            row = previous.get(m.ident)
            same = (m.old, m.new)
            if m.ident in ran:
                kept.append(next(o for o in outcomes if o.mutant.ident == m.ident))
            elif m.equivalent:
                kept.append(Outcome(m, "equivalent", 0.0, m.equivalent))
            elif row and row["result"] != "error" and (row["old"], row["new"]) == same:
                # a survivor is carried as a survivor (pessimistic: rerun it to see if new tests catch it)
                kept.append(Outcome(m, row["result"], row["seconds"], row["detail"], row["commit"]))
            else:
                print(f"  not measured: {m.ident} (its snippet changed or it is new: rerun it)")
        outcomes = kept
    report = markdown(outcomes, args.source, commit, total)
    run = [o for o in outcomes if o.result != "equivalent"]
    caught = sum(o.result in ("caught", "timeout") for o in run)
    print(f"\nscore: {caught}/{len(run)} caught ({100.0 * caught / max(len(run), 1):.1f} %)")
    for o in run:
        if o.result == "survived":
            print(f"  survived: {o.mutant.ident} ({o.mutant.module}): {o.mutant.what}")
    if args.json:
        rows = [{"ident": o.mutant.ident, "module": o.mutant.module, "old": o.mutant.old, "new": o.mutant.new,
                 "result": o.result, "seconds": round(o.seconds, 1), "detail": o.detail,
                 "commit": o.measured_at or commit} for o in outcomes]
        Path(args.json).write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    if args.out:
        Path(args.out).write_text(report)
        print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
