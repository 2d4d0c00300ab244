"""RepMLP speed: converting a 64-channel 10×10 block, and deploy vs training-time forward.

``python -m bench.repmlp [--quick]`` prints the table. Goals: the conversion of a 64-channel 10×10
block with kernels (1, 3, 5, 7) under 1 s (reported against a fixed 1-s budget), and the deployed
block (one FC) faster than the training-time block (FC + BN + four conv+BN branches).
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import nn

from bench import Row, compare
from core.repmlp import RepMLPBlock, _grouped_fc_kernel, _grouped_fc_kernel_fast

LESSON = "repmlp"


def _block(groups: int, H: int = 10, W: int = 10) -> RepMLPBlock:
    torch.manual_seed(0)
    block = RepMLPBlock(64, 10, 10, kernels=(1, 3, 5, 7), groups=groups, H=H, W=W)
    for m in block.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.uniform_(m.running_mean, -0.5, 0.5)
            nn.init.uniform_(m.running_var, 0.5, 2.0)
    return block.eval()


def _conversion_seconds(groups: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        block = _block(groups)
        start = time.perf_counter()
        block.locality_injection()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def run(quick: bool = False, threads: int | None = 1) -> list[Row]:
    """Measured with ``threads`` torch threads (1 by default: on a shared 2-core box, intra-op threads
    wait for each other and the numbers say more about the neighbours than about the code)."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _run(quick)
    finally:
        torch.set_num_threads(previous)


def _run(quick: bool) -> list[Row]:
    repeat = 3 if quick else 5
    rows = []
    print(f"torch threads: {torch.get_num_threads()}")

    seconds = _conversion_seconds(1, repeat)
    print(f"conversion of a 64-channel 10×10 block, kernels (1, 3, 5, 7), groups 1: {seconds:.3f} s")
    rows.append(Row(LESSON, "locality_injection: 64×10×10 block, k=1,3,5,7, g=1 (6400×6400 FC)",
                    "1-second budget", 1.0, seconds, goal=1.0, note=f"{seconds:.3f} s"))

    kernel = torch.randn(64, 8, 7, 7)
    ours, base = compare(lambda: _grouped_fc_kernel_fast(kernel, None, 10, 10, 8),
                         lambda: _grouped_fc_kernel(kernel, None, 10, 10, 8), repeat=repeat)
    rows.append(Row(LESSON, "conv→FC of a 64-ch 7×7 kernel, g=8: tap gather (im2col of spatial identity)",
                    "full per-group identity through conv2d", base, ours, goal=1.0))

    for groups, batch in ((1, 16), (8, 64)):
        train = _block(groups, 20, 20)
        deploy = copy.deepcopy(train).locality_injection()
        x = torch.randn(batch, 64, 20, 20)
        with torch.no_grad():
            ours, base = compare(lambda d=deploy, x=x: d(x), lambda t=train, x=x: t(x), repeat=repeat)
        print(f"forward g={groups}: deploy/train = {ours / base:.2f}")
        rows.append(Row(LESSON, f"forward 64×20×20 (4 partitions), batch {batch}, g={groups}: deployed",
                        "training-time block (FC+BN + 4 conv+BN)", base, ours, goal=1.0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    for row in run(args.quick, args.threads or None):
        print(f"{row.what:75s} {row.ours_s * 1e3:9.1f} ms vs {row.baseline_s * 1e3:9.1f} ms "
              f"({row.baseline}) ratio {row.ratio:.2f} {row.verdict}")


if __name__ == "__main__":
    main()
