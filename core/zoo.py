"""The model zoo: which models LensLab knows, and how each one gets its weights.

The registry is data (:data:`REGISTRY`, filled by :func:`register`), never an if-chain. An entry
names its architecture, the pretrained weights on the Hugging Face Hub, and the small embedded
checkpoint LensLab trains itself (``assets/weights/``). Four weight modes:

* ``"hub"``: pretrained weights through timm's or diffusers' own loaders; a clear error offline.
* ``"embedded"``: the bundled safetensors checkpoint (the entry's own, or its ``fallback``'s).
* ``"auto"``: hub when the weights are cached or the hub answers within ~2 s, otherwise embedded,
  otherwise random — quietly, and the result says which (:attr:`Loaded.source`, :attr:`Loaded.note`).
* ``"random"``: the architecture untrained, for parameter counts, FLOPs and latency.

Models are built once per process and shared read-only across threads (a lock per key prevents two
threads from loading the same model twice). Callers must not modify a shared model; they get it in
eval mode with gradients off by default.
"""

from __future__ import annotations

import importlib
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
from safetensors.torch import load_file

from core.images import load_image

__all__ = [
    "ASSETS",
    "Loaded",
    "ModelEntry",
    "REGISTRY",
    "WEIGHTS_DIR",
    "WeightsError",
    "classify",
    "get_entry",
    "hub_reachable",
    "list_models",
    "load_model",
    "preprocess",
    "register",
]

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
WEIGHTS_DIR = ASSETS / "weights"
TASKS = ("classify", "detect", "segment", "diffuse")
WEIGHT_MODES = ("auto", "hub", "embedded", "random")
HUB_TIMEOUT_S = 2.0

SHAPE_CLASSES = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "ring", "cross")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class WeightsError(RuntimeError):
    """The requested weights cannot be provided (e.g. ``weights="hub"`` while offline)."""


@dataclass(frozen=True)
class ModelEntry:
    """One model of the zoo, as data.

    ``builder`` selects how the architecture is made: ``"timm"`` (``timm.create_model(arch,
    **kwargs)``), ``"diffusers-unet"`` (``UNet2DModel(**kwargs)``) or ``"module:function"`` for
    LensLab's own networks (called with ``**kwargs``). ``hub_id`` is the timm model name with its
    pretrained tag, or a diffusers repo id. ``embedded`` is a file in ``assets/weights``.
    ``fallback`` names the entry whose embedded weights stand in when this one has none.
    """

    name: str
    task: str
    title: str
    family: str
    arch: str
    builder: str = "timm"
    kwargs: dict[str, Any] = field(default_factory=dict)
    hub_id: str | None = None
    embedded: str | None = None
    fallback: str | None = None
    labels: tuple[str, ...] | str = ()
    input_size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    crop_pct: float = 1.0
    description: str = ""

    def label_names(self) -> tuple[str, ...]:
        if isinstance(self.labels, str):
            return _named_labels(self.labels)
        return self.labels


@dataclass
class Loaded:
    """A ready model: ``.model`` is in eval mode; ``.source`` says where its weights came from."""

    model: torch.nn.Module
    source: str
    name: str
    labels: tuple[str, ...]
    entry: ModelEntry
    requested: str
    note: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """One line for the page: which weights produced what is shown."""
        what = {
            "hub": "pretrained weights from the Hugging Face Hub",
            "embedded": "embedded weights trained by LensLab on ShapesWorld",
            "random": "RANDOM weights — untrained, outputs are meaningless",
        }[self.source]
        text = f"{self.entry.title} · {what}"
        return f"{text} ({self.note})" if self.note else text

    @property
    def input_size(self) -> int:
        return self.entry.input_size


REGISTRY: dict[str, ModelEntry] = {}


def register(entry: ModelEntry) -> ModelEntry:
    """Add an entry to the registry (entries are immutable; names are unique)."""
    if entry.task not in TASKS:
        raise ValueError(f"unknown task {entry.task!r}; expected one of {TASKS}")
    if entry.name in REGISTRY and REGISTRY[entry.name] != entry:
        raise ValueError(f"model {entry.name!r} is already registered differently")
    REGISTRY[entry.name] = entry
    return entry


def list_models(task: str | None = None) -> list[str]:
    """Names of registered models, optionally of one task (``classify/detect/segment/diffuse``)."""
    _ensure_registry()
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    return [n for n, e in REGISTRY.items() if task is None or e.task == task]


ALLOW_HUB_IDS_ENV = "LENSLAB_ALLOW_HUB_IDS"


def get_entry(name: str) -> ModelEntry:
    """The registry entry called ``name``.

    Model names come only from the registry: a public app must not download whatever a request
    names. A teacher who wants other timm models can set ``LENSLAB_ALLOW_HUB_IDS=1`` and ask for
    ``"timm/<model>.<tag>"``; those load through timm's own loader (never ``trust_remote_code``).
    """
    _ensure_registry()
    if name in REGISTRY:
        return REGISTRY[name]
    if name.startswith("timm/") and os.environ.get(ALLOW_HUB_IDS_ENV, "0") == "1":
        return _adhoc_timm_entry(name[len("timm/"):])
    hint = f" (arbitrary timm ids need {ALLOW_HUB_IDS_ENV}=1)" if name.startswith("timm/") else ""
    raise KeyError(f"unknown model {name!r}{hint}; known: {', '.join(REGISTRY)}")


def _adhoc_timm_entry(model_id: str) -> ModelEntry:
    import timm

    arch = model_id.split(".", 1)[0]
    if arch not in timm.list_models():
        raise KeyError(f"timm has no architecture called {arch!r}")
    return ModelEntry(name=f"timm/{model_id}", task="classify", title=model_id, family=arch.split("_")[0],
                      arch=arch, hub_id=model_id, labels="imagenet-1k")


# --------------------------------------------------------------------------------------------- #
# loading

_CACHE: dict[tuple[str, str], Loaded] = {}
_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def load_model(name: str, weights: str = "auto") -> Loaded:
    """Load (once per process) the model ``name`` with ``weights`` in auto/hub/embedded/random."""
    if weights not in WEIGHT_MODES:
        raise ValueError(f"weights must be one of {WEIGHT_MODES}, not {weights!r}")
    entry = get_entry(name)
    key = (name, weights)
    if key in _CACHE:
        return _CACHE[key]
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:
        if key not in _CACHE:
            _CACHE[key] = _load_uncached(entry, weights)
        return _CACHE[key]


def clear_cache() -> None:
    """Forget loaded models (tests use it to exercise loading paths again)."""
    _CACHE.clear()


def _load_uncached(entry: ModelEntry, weights: str) -> Loaded:
    if weights == "hub":
        return _finish(entry, _load_hub(entry), "hub", entry, weights)
    if weights == "random":
        return _finish(entry, _create(entry), "random", entry, weights)
    if weights == "embedded":
        source_entry = _embedded_entry(entry)
        if source_entry is None:
            raise WeightsError(f"{entry.title} has no embedded weights in this installation.")
        return _finish(entry, _load_embedded(source_entry), "embedded", source_entry, weights)
    # auto: hub if possible, else embedded, else random
    note = ""
    if entry.hub_id:
        if hub_available(entry):
            try:
                return _finish(entry, _load_hub(entry), "hub", entry, weights)
            except Exception as exc:  # noqa: BLE001 - any hub failure falls back quietly
                note = f"hub failed: {type(exc).__name__}"
        else:
            note = "offline"
    source_entry = _embedded_entry(entry)
    if source_entry is not None:
        if source_entry is not entry and not note:
            note = "no hub weights"
        return _finish(entry, _load_embedded(source_entry), "embedded", source_entry, weights, note)
    return _finish(entry, _create(entry), "random", entry, weights, note or "no trained weights bundled")


def _finish(
    requested: ModelEntry, model: Any, source: str, actual: ModelEntry, weights: str, note: str = ""
) -> Loaded:
    extras: dict[str, Any] = {}
    if isinstance(model, tuple):  # builders may return (module, extras), e.g. a diffusion scheduler
        model, extras = model
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return Loaded(
        model=model,
        source=source,
        name=actual.name,
        labels=actual.label_names(),
        entry=actual,
        requested=requested.name,
        note=note,
        extras=extras,
    )


def _embedded_entry(entry: ModelEntry) -> ModelEntry | None:
    """The entry whose embedded file exists: this one, or the one it falls back to."""
    seen: set[str] = set()
    current: ModelEntry | None = entry
    while current is not None and current.name not in seen:
        seen.add(current.name)
        if current.embedded and (WEIGHTS_DIR / current.embedded).is_file():
            return current
        current = REGISTRY.get(current.fallback) if current.fallback else None
    return None


def _create(entry: ModelEntry) -> torch.nn.Module:
    return _builder(entry).create(entry)


def _load_embedded(entry: ModelEntry) -> torch.nn.Module:
    path = WEIGHTS_DIR / str(entry.embedded)
    built = _create(entry)
    module = built[0] if isinstance(built, tuple) else built
    state = load_file(str(path))
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{path.name} does not match {entry.title}: missing {list(missing)[:3]}, "
            f"unexpected {list(unexpected)[:3]}"
        )
    return built


def _load_hub(entry: ModelEntry, local_file: str | os.PathLike | None = None) -> Any:
    if not entry.hub_id:
        raise WeightsError(f"{entry.title} has no pretrained weights on the Hugging Face Hub.")
    try:
        return _builder(entry).load_hub(entry, local_file)
    except WeightsError:
        raise
    except Exception as exc:
        raise WeightsError(
            f"Could not load the pretrained weights of {entry.title} from the Hugging Face Hub "
            f"({type(exc).__name__}: {str(exc)[:200]}). Without internet, choose 'embedded' or 'auto'."
        ) from exc


# --------------------------------------------------------------------------------------------- #
# hub reachability


def hub_available(entry: ModelEntry) -> bool:
    """True when the entry's hub weights are in the local cache or the hub answers quickly."""
    return _hub_cached(entry) or (not _offline_env() and hub_reachable())


def _offline_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


@lru_cache(maxsize=1)
def _hub_probe() -> tuple[bool, float]:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    port = urlparse(endpoint).port or 443
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=HUB_TIMEOUT_S):
            return True, time.perf_counter() - start
    except OSError:
        return False, time.perf_counter() - start


def hub_reachable() -> bool:
    """Whether the Hugging Face Hub answers a TCP connection within ``HUB_TIMEOUT_S`` (cached)."""
    if _offline_env():
        return False
    return _hub_probe()[0]


def _hub_cached(entry: ModelEntry) -> bool:
    if not entry.hub_id:
        return False
    try:
        return bool(_builder(entry).hub_cached(entry))
    except Exception:  # noqa: BLE001 - a broken cache counts as not cached
        return False


# --------------------------------------------------------------------------------------------- #
# builders: how an architecture is made and how its hub weights are fetched


class _TimmBuilder:
    def create(self, entry: ModelEntry) -> torch.nn.Module:
        import timm

        return timm.create_model(entry.arch, pretrained=False, **entry.kwargs)

    def load_hub(self, entry: ModelEntry, local_file: Any = None) -> torch.nn.Module:
        import timm

        overlay = {"file": str(local_file)} if local_file is not None else None
        return timm.create_model(
            entry.hub_id, pretrained=True, pretrained_cfg_overlay=overlay, **entry.kwargs
        )

    def hub_cached(self, entry: ModelEntry) -> bool:
        import timm
        from huggingface_hub import try_to_load_from_cache

        cfg = timm.models.get_pretrained_cfg(entry.hub_id)
        repo = cfg.hf_hub_id if cfg is not None else None
        if not repo:
            return False
        for filename in ("model.safetensors", "open_clip_model.safetensors", "pytorch_model.bin"):
            if isinstance(try_to_load_from_cache(repo, filename), str):
                return True
        return False


class _DiffusersUNetBuilder:
    def create(self, entry: ModelEntry) -> Any:
        from diffusers import DDPMScheduler, UNet2DModel

        return UNet2DModel(**entry.kwargs), {"scheduler": DDPMScheduler(num_train_timesteps=1000)}

    def load_hub(self, entry: ModelEntry, local_file: Any = None) -> Any:
        from diffusers import DDPMScheduler, UNet2DModel

        repo = str(local_file) if local_file is not None else entry.hub_id
        unet = UNet2DModel.from_pretrained(repo, use_safetensors=None)
        scheduler = DDPMScheduler.from_pretrained(repo)
        return unet, {"scheduler": scheduler}

    def hub_cached(self, entry: ModelEntry) -> bool:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(str(entry.hub_id), "config.json"), str)


class _FunctionBuilder:
    """``builder="package.module:function"``: LensLab's own networks (detector, segmenter, …)."""

    def __init__(self, target: str):
        module, _, func = target.partition(":")
        self._fn: Callable[..., Any] = getattr(importlib.import_module(module), func)

    def create(self, entry: ModelEntry) -> Any:
        return self._fn(**entry.kwargs)

    def load_hub(self, entry: ModelEntry, local_file: Any = None) -> Any:
        raise WeightsError(f"{entry.title} exists only as embedded LensLab weights.")

    def hub_cached(self, entry: ModelEntry) -> bool:
        return False


_BUILDERS: dict[str, Any] = {"timm": _TimmBuilder(), "diffusers-unet": _DiffusersUNetBuilder()}


def _builder(entry: ModelEntry) -> Any:
    if entry.builder not in _BUILDERS:
        if ":" not in entry.builder:
            raise ValueError(f"unknown builder {entry.builder!r} for {entry.name}")
        _BUILDERS[entry.builder] = _FunctionBuilder(entry.builder)
    return _BUILDERS[entry.builder]


# --------------------------------------------------------------------------------------------- #
# preprocessing and classification


def preprocess(loaded: Loaded, image: Any) -> torch.Tensor:
    """The model's own preprocessing: resize the short side (by ``crop_pct``), centre crop, normalise.

    Hub timm models use timm's data config for their pretrained weights (its resize, crop and
    normalisation); embedded models use the settings in their entry, which are those they were
    trained with. Returns a ``(1, 3, S, S)`` float tensor.
    """
    import timm.data
    from PIL import Image

    rgb = load_image(image)
    if loaded.source == "hub" and loaded.entry.builder == "timm":
        config = timm.data.resolve_data_config({}, model=loaded.model)
    else:
        e = loaded.entry
        config = {
            "input_size": (3, e.input_size, e.input_size),
            "interpolation": "bilinear",
            "mean": e.mean,
            "std": e.std,
            "crop_pct": e.crop_pct,
            "crop_mode": "center",
        }
    key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(config.items()))
    return _transform(key)(Image.fromarray(rgb)).unsqueeze(0)


@lru_cache(maxsize=32)
def _transform(config: tuple[tuple[str, Any], ...]) -> Any:
    """timm's eval transform for one data config, built once (building it costs about a millisecond)."""
    import timm.data

    return timm.data.create_transform(**dict(config), is_training=False)


def classify(model_or_name: Loaded | str, image: Any, topk: int = 5) -> list[tuple[str, float]]:
    """Top-k ``(label, probability)`` pairs, best first, with the model's own preprocessing."""
    loaded = load_model(model_or_name) if isinstance(model_or_name, str) else model_or_name
    if loaded.entry.task != "classify":
        raise ValueError(f"{loaded.entry.title} is not a classifier")
    x = preprocess(loaded, image)
    with torch.inference_mode():
        probs = torch.softmax(loaded.model(x).float(), dim=-1)[0]
    k = min(topk, probs.numel())
    values, indices = probs.topk(k)
    labels = loaded.labels
    return [
        (labels[i] if i < len(labels) else f"class {i}", float(v))
        for v, i in zip(values.tolist(), indices.tolist(), strict=True)
    ]


def probabilities(loaded: Loaded, image: Any) -> np.ndarray:
    """The full softmax vector (numpy) for one image."""
    x = preprocess(loaded, image)
    with torch.inference_mode():
        return torch.softmax(loaded.model(x).float(), dim=-1)[0].numpy()


@lru_cache(maxsize=4)
def _named_labels(kind: str) -> tuple[str, ...]:
    if kind == "shapes":
        return SHAPE_CLASSES
    if kind == "shapes+background":
        return ("background", *SHAPE_CLASSES)
    if kind == "imagenet-1k":
        from timm.data import ImageNetInfo

        info = ImageNetInfo("imagenet-1k")
        return tuple(info.index_to_description(i) for i in range(info.num_classes()))
    raise ValueError(f"unknown label set {kind!r}")


# --------------------------------------------------------------------------------------------- #
# the registry's contents live in core.models (data only); imported lazily to avoid import cycles

_REGISTRY_LOADED = False


def _ensure_registry() -> None:
    global _REGISTRY_LOADED
    if not _REGISTRY_LOADED:
        _REGISTRY_LOADED = True
        importlib.import_module("core.models")


def entries(names: Sequence[str] | None = None) -> list[ModelEntry]:
    _ensure_registry()
    return [REGISTRY[n] for n in (names or REGISTRY)]
