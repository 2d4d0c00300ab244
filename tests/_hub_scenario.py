"""Run in a fresh process by tests/test_hub.py, with ``HF_ENDPOINT`` pointing at tests.hubserver.

A fresh process because huggingface_hub reads ``HF_HUB_OFFLINE``, ``HF_ENDPOINT`` and the cache
folder once, at import: the suite's own process is offline for good. Prints one JSON object.

``python -m tests._hub_scenario pages IMAGE``: every hub-backed lesson's default call (``run(image)``).
``python -m tests._hub_scenario fault IMAGE``: ``auto`` and ``hub`` against a broken hub, then a lesson.
``python -m tests._hub_scenario prefetch IMAGE``: the background download at start, and a visitor.
``python -m tests._hub_scenario mlp IMAGE``: the MLP page's default call when the hub serves ResMLP-12.
"""

from __future__ import annotations

import json
import sys
import time

import torch


def _time(fn):
    start = time.perf_counter()
    try:
        return fn(), None, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - reported to the test
        return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - start


def pages(image) -> dict:
    from core import attention, compare, diffusion, imagen_lesson, swin

    out: dict = {}
    result, error, seconds = _time(lambda: attention.run(image))
    out["attention"] = {"error": error, "s": seconds,
                        "sources": [result.summary["model"]["source"], result.summary["swin"]["source"]],
                        "images": {k: list(v.shape) for k, v in result.images.items()}}
    result, error, seconds = _time(lambda: swin.run(image))
    out["swin"] = {"error": error, "s": seconds,
                   "sources": [result.summary["model"]["source"], result.summary["v2"]["source"]]}
    result, error, seconds = _time(lambda: compare.run(image, latency_runs=1, faithfulness="off"))
    out["compare"] = {"error": error, "s": seconds,
                      "sources": [m["weights"] for m in result.summary["models"]],
                      "names": [m["name"] for m in result.summary["models"]]}
    result, error, seconds = _time(lambda: diffusion.run(image, steps=4))
    out["diffusion"] = {"error": error, "s": seconds, "sources": [result.summary["weights_source"]]}
    # Imagen's cascade on the pretrained unconditional base (the SR stage is LensLab's own, embedded)
    result, error, seconds = _time(lambda: imagen_lesson.cascade(image, model="ddpm-cifar10", sr_steps=2))
    keys = ("weights_source", "sr_weights_source")
    out["cascade"] = {"error": error, "s": seconds, "sources": result and [result.summary[k] for k in keys],
                      "base": result and result.summary["base"],
                      "images": result and sorted(result.images)}
    return out


def fault(image) -> dict:
    from core import attention, hub, zoo

    out: dict = {}
    zoo.load_model("vit-shapes", "embedded")  # imports and the fallback's load: not the hub's cost
    zoo.load_model("swin-shapes", "embedded")
    loaded, error, seconds = _time(lambda: zoo.load_model("vit-small", "auto"))
    out["auto"] = {"s": seconds, "error": error, "source": loaded and loaded.source,
                   "name": loaded and loaded.name, "note": loaded and loaded.note}
    _, error, seconds = _time(lambda: zoo.load_model("vit-small", "hub"))
    out["hub"] = {"s": seconds, "error": error}
    result, error, seconds = _time(lambda: attention.run(image))  # a second model: the failure is remembered
    out["lesson"] = {"s": seconds, "error": error, "status": result.summary["model"]["status"],
                     "swin_status": result.summary["swin"]["status"],
                     "images": sorted(result.images),
                     "pixels_vary": bool(result.images["cls_attention"].std() > 0)}
    out["hub_state"] = hub.state().as_json()
    out["cached_after"] = zoo._hub_cached(zoo.get_entry("vit-small"))
    return out


def first_call(image) -> dict:
    """The first attention call of a fresh server (imports done): what a visitor waits for."""
    import timm  # noqa: F401 - imports outside the timing: a server has them loaded before a visitor

    from core import attention, zoo

    zoo.get_entry("vit-small")  # the registry, outside the timing
    result, error, seconds = _time(lambda: attention.run(image))
    return {"s": seconds, "error": error,
            "sources": None if result is None else [result.summary["model"]["source"],
                                                    result.summary["swin"]["source"]]}


def prefetch(image) -> dict:
    """A visitor arriving while the start-up download runs gets the offline model at once."""
    from core import zoo

    zoo.load_model("vit-shapes", "embedded")
    thread = zoo.prefetch(["vit-small"])
    time.sleep(0.5)  # the download is under way
    during, _, during_s = _time(lambda: zoo.load_model("vit-small", "auto"))
    thread.join(timeout=120)
    after = zoo.load_model("vit-small", "auto")
    return {"during": {"source": during.source, "note": during.note, "s": during_s},
            "after": {"source": after.source, "note": after.note}}


def mlp(image) -> dict:
    """``/mlp`` with only an image while the hub serves ResMLP-12, gMLP-S, Mixer-B/16 and ViT-S: the page's
    ResMLP is the hub's (not the embedded stand-in), and the row it shows is that model's."""
    from core import mlp as lesson
    from core import zoo

    result, error, seconds = _time(lambda: lesson.run(image))
    if result is None:
        return {"error": error, "s": seconds}
    s = result.summary
    res = zoo.load_model("resmlp-12-mlp", "auto").model
    row = res.blocks[0].linear_tokens.weight[s["patch"]["resmlp"]["index"]].double().tolist()
    return {"error": None, "s": seconds, "sources": {k: v["source"] for k, v in s["models"].items()},
            "arch": s["models"]["resmlp"]["arch"], "grid": s["models"]["resmlp"]["grid"],
            "row_matches": row == list(s["resmlp"]["row"])}


if __name__ == "__main__":
    torch.set_num_threads(1)
    from core.images import load_image

    scenario, path = sys.argv[1], sys.argv[2]
    scenarios = {"pages": pages, "fault": fault, "prefetch": prefetch, "first_call": first_call, "mlp": mlp}
    print(json.dumps(scenarios[scenario](load_image(path))))
