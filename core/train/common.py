"""What every trainer shares: seeding, a progress bar, safetensors checkpoints and model cards."""

from __future__ import annotations

import platform
import random
import shlex
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm.auto import tqdm

MAX_CHECKPOINT_MB = 15.0


@dataclass
class TrainReport:
    """What a training run produced and measured (also rendered into the model card)."""

    model: str
    steps: int
    seconds: float
    weights: Path
    card: Path
    metrics: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return f"{self.model}: {self.steps} steps in {self.seconds / 60:.1f} min → {self.weights} ({metrics})"


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds legacy global users (timm, libraries)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def progress(iterable: Iterable[Any], total: int | None = None, desc: str = "train") -> Iterator[Any]:
    """A tqdm progress bar that also reads well in a log file (``nohup … > log``)."""
    return iter(tqdm(iterable, total=total, desc=desc, mininterval=5.0, dynamic_ncols=False, ncols=100,
                     file=sys.stdout))


def save_weights(module: torch.nn.Module | dict[str, torch.Tensor], path: Path,
                 metadata: dict[str, str] | None = None, max_mb: float = MAX_CHECKPOINT_MB) -> Path:
    """Save a state dict as safetensors (contiguous CPU tensors) and check the size budget."""
    state = module.state_dict() if isinstance(module, torch.nn.Module) else module
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={k: str(v) for k, v in (metadata or {}).items()})
    size_mb = path.stat().st_size / 1e6
    if size_mb > max_mb:
        raise RuntimeError(f"{path.name} is {size_mb:.1f} MB, over the {max_mb} MB budget")
    return path


def reproduce_command(model: str, steps: int | None, seed: int, extra_args: str = "") -> str:
    """The CLI line that repeats a run; ``steps=None`` means the recipe's own steps and time guard.

    ``extra_args`` are further options of the run (e.g. ``--init W --lr LR`` of a continued one).
    """
    threads = torch.get_num_threads()
    step_arg = f" --steps {steps}" if steps is not None else ""
    extra = f" {extra_args}" if extra_args else ""
    return f"python -m core.train {shlex.quote(model)}{step_arg} --seed {seed} --threads {threads}{extra}"


def write_card(path: Path, *, model: str, title: str, summary: str, data: str, architecture: str,
               steps: int, seed: int, seconds: float, metrics: dict[str, Any], extra: str = "",
               params: int | None = None, time_limited: bool = False, extra_args: str = "") -> Path:
    """Write the model card: data, architecture, steps, wall time, held-out metrics, how to reproduce.

    ``time_limited``: the run was ended by its wall-clock guard, whose schedule follows elapsed time;
    the reproducing command is then the recipe's own (``--steps <done>`` would give another schedule).
    """
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in metrics.items())
    machine = f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    text = f"""# {title}

{summary}

| | |
|---|---|
| model | `{model}` |
| parameters | {params if params is not None else 'see architecture'} |
| training steps | {steps} |
| wall time | {seconds / 60:.1f} min on {machine} |
| seed | {seed} |
| trained | {time.strftime('%Y-%m-%d')} |

## Data
{data}

## Architecture
{architecture}

## Held-out metrics
| metric | value |
|---|---|
{rows}

{extra}

## Reproduce
```bash
{reproduce_command(model, None if time_limited else steps, seed, extra_args)}
```
Weights: `{model}.safetensors` (safetensors; loaded by `core.zoo.load_model("{model}", "embedded")`).
"""
    path.write_text(text, encoding="utf-8")
    return path


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)
