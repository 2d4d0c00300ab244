"""CLI: ``python -m core.train <model> [--steps N] [--out DIR] [--seed S] [--smoke] [--threads T]``
(``ddpm-shapes`` also takes ``--init WEIGHTS --lr LR`` to continue a run from its saved weights;
``--remeasure`` re-measures a shipped classifier's held-out metrics into its card without training)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import torch

from core.train import TRAINERS, get_trainer
from core.zoo import WEIGHTS_DIR


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.train", description=__doc__)
    parser.add_argument("model", choices=sorted(TRAINERS))
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the model's own)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="where weights and model card go")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a few steps on tiny data, to test the code")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--init", type=Path, default=None,
                        help="continue from these safetensors weights (ddpm-shapes and the classifiers)")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate override (ddpm-shapes; a classifier only with --init)")
    parser.add_argument("--remeasure", action="store_true",
                        help="re-measure the shipped weights' held-out metrics into the card, no training "
                             "(vit-shapes, swin-shapes, resnet-shapes)")
    args = parser.parse_args(argv)
    classifiers = ("vit-shapes", "swin-shapes", "resnet-shapes")
    if (args.init is not None or args.lr is not None) and args.model not in ("ddpm-shapes", *classifiers):
        parser.error("--init and --lr apply to ddpm-shapes and the classifiers only")
    if args.model in classifiers and args.lr is not None and args.init is None:
        # a classifier's recipe fixes its own rate; only a continued run (--init) may set another
        parser.error("--lr without --init applies to ddpm-shapes only (a classifier takes --lr with --init)")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.remeasure:
        from core.train.classifiers import RECIPES, remeasure_card

        if args.model not in RECIPES:
            parser.error(f"--remeasure applies to {', '.join(RECIPES)}")
        print(remeasure_card(args.model, out=args.out))
        return
    # `kill` (SIGTERM) ends a run like Ctrl-C does: the trainers' `finally` blocks run, so no scene
    # rendering process outlives its training
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args.out.mkdir(parents=True, exist_ok=True)
    extra = {k: v for k, v in (("init", args.init), ("lr", args.lr)) if v is not None}
    report = get_trainer(args.model)(args.model, steps=args.steps, out=args.out, seed=args.seed,
                                     smoke=args.smoke, **extra)
    print(report)


if __name__ == "__main__":
    main()
