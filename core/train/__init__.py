"""Training of LensLab's embedded models: ``python -m core.train <model> [--steps N] [--out DIR] [--seed S]``.

Each embedded model has one trainer function (``TRAINERS``: model name → ``"module:function"``),
called as ``train(model, steps=..., out=..., seed=..., smoke=...) -> TrainReport``. Trainers write
``<out>/<model>.safetensors`` and the model card ``<out>/<model>.md`` through :mod:`core.train.common`.
Training never runs in CI; a smoke run of a few steps per model does (``smoke=True``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

TRAINERS: dict[str, str] = {
    "vit-shapes": "core.train.classifiers:train",
    "swin-shapes": "core.train.classifiers:train",
    "resnet-shapes": "core.train.classifiers:train",
    "pointrend-shapes": "core.train.pointrend:train",
    "yolox-shapes": "core.train.detector:train",
    "gfl-shapes": "core.train.detector:train",
    "ddpm-shapes": "core.train.diffusion:train",
    "sr-shapes": "core.train.cascade:train",
    "repmlp-locality": "core.train.repmlp:train",
    "repvgg-shapes": "core.train.repvgg:train",
    "resmlp-shapes": "core.train.mlp:train",
}


def get_trainer(model: str) -> Callable[..., object]:
    try:
        target = TRAINERS[model]
    except KeyError:
        raise SystemExit(f"unknown model {model!r}; trainable models: {', '.join(TRAINERS)}") from None
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)
