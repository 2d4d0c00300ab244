"""The RepMLP locality experiment, trained: the same FC on ShapesWorld features, with and without conv.

``python -m core.train repmlp-locality`` trains two :class:`core.repmlp.LocalityNet` classifiers on
the same pre-rendered ShapesWorld scenes from the same initial stem: one whose 64×10×10 → 64×10×10
FC is plain (``repmlp-locality-fc``) and one whose FC is trained together with conv+BN branches of
kernels 1, 3, 5, 7 (``repmlp-locality-rep``), which are merged into the FC afterwards
(``locality_injection``). The lesson then compares the FC weights from output (channel 0, pixel
(6, 6)) to input channel 0: does the FC concentrate its weight near the output pixel?

The rep checkpoint stores the TRAINING-time block (FC, BNs and conv branches), so the lesson can show
the conversion itself on a student's photo; the grouped FC weights are stored in float16 (the size
budget), everything else in float32.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.data.shapesworld import ShapesWorld, to_tensor
from core.repmlp import (
    LOCALITY_GROUPS,
    LOCALITY_KERNELS,
    LOCALITY_MODELS,
    LOCALITY_SIZE,
    LocalityNet,
    _mean_weight_map,
    locality_box,
    locality_map,
    locality_share,
    mass_inside,
)
from core.train.common import TrainReport, progress, save_weights, seed_everything, write_card

DEFAULT_STEPS = 800
BATCH = 64
TRAIN_SCENES = 6000
EVAL_SCENES = 1000
EVAL_OFFSET = 5_000_000  # train-style scenes never used for training
LR = 3e-3
WEIGHT_DECAY = 0.01


def _render(world: ShapesWorld, indices: range) -> tuple[np.ndarray, np.ndarray]:
    images, labels = world.images_labels(list(indices))
    return images, labels


@torch.no_grad()
def _accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(images), 250):
        logits = model(to_tensor(images[i:i + 250]))
        correct += int((logits.argmax(1).numpy() == labels[i:i + 250]).sum())
    return correct / max(1, len(images))


def _train_one(kernels: tuple[int, ...], steps: int, images: np.ndarray, labels: np.ndarray,
               seed: int, tag: str) -> tuple[LocalityNet, float]:
    gen = seed_everything(seed)  # same seed → same stem and FC initialisation for both variants
    model = LocalityNet(kernels=kernels, groups=LOCALITY_GROUPS)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    model.train()
    start = time.perf_counter()
    running = 0.0
    for step in progress(range(steps), total=steps, desc=tag):
        idx = torch.randint(0, len(images), (BATCH,), generator=gen).numpy()
        x = to_tensor(images[idx])
        flip = torch.rand(BATCH, generator=gen) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
        y = torch.from_numpy(labels[idx])
        loss = F.cross_entropy(model(x), y, label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        value = float(loss.detach())
        running = 0.98 * running + 0.02 * value if step else value
        if step % 100 == 0 or step == steps - 1:
            print(f"[{tag}] step {step}/{steps} loss {running:.3f} ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    model.eval()
    return model, time.perf_counter() - start


def _state(model: LocalityNet) -> dict[str, torch.Tensor]:
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    key = "block.partition_fc.weight"
    state[key] = state[key].half()  # the 6400×800 grouped FC: float16 keeps the file under budget
    return state


def train(model: str = "repmlp-locality", steps: int | None = None, out: Path | str = "assets/weights",
          seed: int = 0, smoke: bool = False) -> TrainReport:
    """Train both locality models; write their safetensors and one model card; return the report."""
    out = Path(out)
    steps = int(steps or (3 if smoke else DEFAULT_STEPS))
    n_train, n_eval = (32, 16) if smoke else (TRAIN_SCENES, EVAL_SCENES)
    t0 = time.perf_counter()
    world = ShapesWorld(size=LOCALITY_SIZE, mode="classify", seed=seed)
    heldout_world = ShapesWorld(size=LOCALITY_SIZE, mode="classify", seed=seed, style="heldout")
    print(f"rendering {n_train} training and {2 * n_eval} evaluation scenes …", flush=True)
    images, labels = _render(world, range(n_train))
    val_images, val_labels = _render(world, range(EVAL_OFFSET, EVAL_OFFSET + n_eval))
    ho_images, ho_labels = _render(heldout_world, range(n_eval))
    print(f"rendered in {time.perf_counter() - t0:.0f} s", flush=True)

    box = locality_box((6, 6), max(LOCALITY_KERNELS))
    metrics: dict[str, float] = {}
    paths: dict[str, Path] = {}
    params = 0
    for variant, kernels in (("fc", ()), ("rep", LOCALITY_KERNELS)):
        net, seconds = _train_one(kernels, steps, images, labels, seed, variant)
        metrics[f"{variant}_val_accuracy"] = _accuracy(net, val_images, val_labels)
        metrics[f"{variant}_heldout_accuracy"] = _accuracy(net, ho_images, ho_labels)
        metrics[f"{variant}_mass_in_7x7"] = mass_inside(locality_map(net.block), box)
        metrics[f"{variant}_mass_in_7x7_all_pixels"], metrics["chance_mass_in_7x7_all_pixels"] = \
            locality_share(net.block, max(LOCALITY_KERNELS))
        with torch.no_grad():
            mean_map = _mean_weight_map(net.block.equivalent_fc()[0], (6, 6))
        metrics[f"{variant}_mass_in_7x7_mean_over_channel_pairs"] = mass_inside(mean_map, box)
        metrics[f"{variant}_train_minutes"] = seconds / 60
        if kernels:
            deployed = copy.deepcopy(net)
            deployed.block.locality_injection()
            with torch.no_grad():
                x = to_tensor(val_images[:200])
                metrics["rep_max_abs_logit_change_after_merge"] = float((net(x) - deployed(x)).abs().max())
            metrics["rep_deployed_val_accuracy"] = _accuracy(deployed, val_images, val_labels)
            params = sum(p.numel() for p in net.parameters())
        name = LOCALITY_MODELS[variant]
        paths[variant] = save_weights(_state(net), out / f"{name}.safetensors", metadata={
            "model": name, "kernels": ",".join(map(str, kernels)), "groups": str(LOCALITY_GROUPS),
            "steps": str(steps), "seed": str(seed), "smoke": str(smoke)})
        print({k: round(v, 4) for k, v in metrics.items()}, flush=True)

    seconds = time.perf_counter() - t0
    card = _card(out, model, steps, seed, seconds, metrics, params, n_train, n_eval, paths)
    return TrainReport(model=model, steps=steps, seconds=seconds, weights=paths["rep"], card=card,
                       metrics=metrics)


def _card(out: Path, model: str, steps: int, seed: int, seconds: float, metrics: dict[str, float],
          params: int, n_train: int, n_eval: int, paths: dict[str, Path]) -> Path:
    sizes = ", ".join(f"`{p.name}` ({p.stat().st_size / 1e6:.1f} MB)" for p in paths.values())
    card = write_card(
        out / f"{model}.md", model=model, title="RepMLP locality experiment (plain FC vs FC + conv branches)",
        summary=("Two tiny ShapesWorld classifiers that differ only in how their 64×10×10 → 64×10×10 FC "
                 "is trained: plain, or together with conv+BN branches of kernels 1, 3, 5, 7 that are "
                 "merged into the FC afterwards (RepMLP, arXiv 2105.01883). The lesson compares the "
                 "FC weights from output (channel 0, pixel (6, 6)) to input channel 0."),
        data=(f"ShapesWorld classify mode, {LOCALITY_SIZE}×{LOCALITY_SIZE} px, 8 classes: {n_train} "
              f"pre-rendered training scenes (seed {seed}, random horizontal flips), the same scenes "
              f"for both models. Evaluation: {n_eval} unseen train-style scenes and {n_eval} scenes of "
              "the held-out render style."),
        architecture=("Stem: 4×4/4 conv (3→32) + BN + ReLU, 3×3/2 conv (32→64) + BN + ReLU → 64×10×10. "
                      "RepMLP block (one 10×10 partition): FC over 6400 features, "
                      f"grouped {LOCALITY_GROUPS}× over channels (a grouped 1×1 conv), + BatchNorm1d; "
                      "the rep model adds conv+BN "
                      f"branches {LOCALITY_KERNELS} (groups {LOCALITY_GROUPS}). ReLU, global average "
                      f"pool, linear 64→8. AdamW lr {LR}, weight decay {WEIGHT_DECAY}, batch {BATCH}, "
                      "cosine schedule with warm-up, label smoothing 0.05; the same seed initialises "
                      "both models."),
        steps=steps, seed=seed, seconds=seconds, metrics=metrics, params=params,
        extra=("## Files\n"
               f"{sizes}. `repmlp-locality-fc` is the plain FC; `repmlp-locality-rep` stores the "
               "training-time block (FC, BNs, conv branches) so the conversion can be shown live; "
               "the FC weight is stored in float16 to stay under the size budget.\n\n"
               "`*_mass_in_7x7`: share of Σ|w| of the 10×10 map (output channel 0, pixel (6, 6) → input "
               "channel 0) inside the 7×7 box around (6, 6); 49 of the 100 pixels are inside, so an "
               "FC without any preference for nearby pixels scores about 0.49. "
               "`*_all_pixels`: the same share averaged over every output channel and pixel and every "
               "input channel of its group (windows clipped at the edges); `chance_*` is what evenly "
               "spread weights would score."),
    )
    text = card.read_text(encoding="utf-8")
    text = text.replace(f"Weights: `{model}.safetensors` (safetensors; loaded by "
                        f"`core.zoo.load_model(\"{model}\", \"embedded\")`).",
                        "Weights: " + " and ".join(f"`{p.name}`" for p in paths.values())
                        + " (safetensors; loaded by `core.zoo.load_model(\"repmlp-locality-fc\" | "
                        "\"repmlp-locality-rep\", \"embedded\")`). One command trains both.")
    card.write_text(text, encoding="utf-8")
    return card
