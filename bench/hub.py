"""What a broken or slow hub costs a lesson: ``auto`` under each fault, online vs offline first calls.

Every number comes from a fresh process (huggingface_hub reads its settings once, at import) with
``HF_ENDPOINT`` pointing at tests.hubserver on 127.0.0.1, serving the default models' repositories
in their real layouts with random weights made here. The baseline of every row is the same first
attention call made offline (``HF_HUB_OFFLINE=1``, embedded models) in the same run; the note says
the seconds ``auto`` added (the goal: ≤ 5 s under any fault).

A second group times the offline Compare call with its new default (the packaged ImageNet
EfficientNet-Lite0 standing in for the CNNs, the embedded ViT) against the former all-embedded default.

``python -m bench.hub [--quick]``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import Row, compare

LESSON = "hub"
ROOT = Path(__file__).resolve().parent.parent
IMAGE = ROOT / "assets" / "images" / "chelsea-cat.jpg"
FAULTS = ("error500", "hang", "garbled", "vanish")


def _scenario(name: str, endpoint: str | None, cache: Path) -> dict:
    env = {**os.environ, "HF_HOME": str(cache), "TQDM_DISABLE": "1", "HF_HUB_DISABLE_XET": "1",
           "PYTHONPATH": str(ROOT)}
    if endpoint is None:
        env["HF_HUB_OFFLINE"] = "1"
    else:
        env.update(HF_HUB_OFFLINE="0", HF_ENDPOINT=endpoint)
    done = subprocess.run([sys.executable, "-m", "tests._hub_scenario", name, str(IMAGE)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def fault_rows(repeat: int) -> list[Row]:
    from tests.hubserver import HubServer
    from tests.test_hub import _make_repos

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repos"
        _make_repos(root)

        def first(fault: str | None) -> dict:
            results = []
            for i in range(repeat):
                server = HubServer(root).start()  # a fresh one each time: "vanish" stops its server
                server.fault = fault or "ok"
                try:
                    cache = Path(tmp) / f"hf-{fault}-{i}"
                    results.append(_scenario("first_call", None if fault is None else server.url, cache))
                finally:
                    server.close()
            return sorted(results, key=lambda r: r["s"])[len(results) // 2]

        offline = first(None)
        for fault in FAULTS:
            result = first(fault)
            added = result["s"] - offline["s"]
            rows.append(Row(LESSON, f"first /attention call, hub fault '{fault}'", "same call offline",
                            offline["s"], result["s"], note=f"auto added {added:.1f} s (goal ≤ 5 s); "
                            f"weights {'/'.join(result['sources'] or ['?'])}"))
        online = first("ok")
        sources = "/".join(online["sources"] or ["?"])
        rows.append(Row(LESSON, "first /attention call online (downloads ViT-S + Swin-T)",
                        "same call offline", offline["s"], online["s"],
                        note=f"weights {sources}; loopback download, random weights"))
    return rows


def compare_rows(repeat: int) -> list[Row]:
    from core import compare as lesson
    from core.images import load_image

    image = load_image(IMAGE)
    new = lambda: lesson.run(image, latency_runs=1)  # noqa: E731
    old = lambda: lesson.run(image, models="resnet-shapes,vit-shapes,swin-shapes", latency_runs=1)  # noqa: E731
    ours, base = compare(new, old, repeat=repeat)
    return [Row("compare", "offline run() default (packaged Lite0 + embedded ViT)",
                "former default (3 embedded models)", base, ours,
                note="real ImageNet CNN with Grad-CAM and faithfulness, offline")]


def run(quick: bool = False) -> list[Row]:
    return fault_rows(1 if quick else 3) + compare_rows(2 if quick else 5)


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
