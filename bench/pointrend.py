"""PointRend: subdivision inference against the plain alternative, measured in the same run.

Goal: subdividing the coarse prediction of a 768² image to 768² with N = 8096 points per step (the
notes' semantic setting: 48² coarse, 4 steps) costs at most 3× the coarse forward pass followed by
plain bilinear upsampling. Also reported: the whole lesson (inference + every picture) against the
same baseline at the page's default 256 px. ``python -m bench.pointrend`` prints the table.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench import Row, compare

GOAL = 3.0


def _net() -> tuple[torch.nn.Module, str]:
    from core.zoo import load_model

    loaded = load_model("pointrend-shapes", "auto")  # timing does not depend on the weights' values
    return loaded.model, loaded.source


def run(quick: bool = False) -> list[Row]:
    from core import pointrend as pr

    net, source = _net()
    repeat = 3 if quick else 7
    rows = []
    size, n = 768, 8096
    x = torch.randn(1, 3, size, size)

    def baseline() -> torch.Tensor:
        with torch.inference_mode():
            _, coarse = net.features(x)
            return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)

    def ours() -> torch.Tensor:
        with torch.inference_mode():
            fine, coarse = net.features(x)
            return pr.subdivision_inference(coarse, fine, net.point_head, (size, size), n)[0]

    t_ours, t_base = compare(ours, baseline, repeat=repeat)
    steps = pr.subdivision_schedule((size // 16, size // 16), (size, size), n)
    rows.append(Row("pointrend", f"subdivision 48²→768², N={n} ×{len(steps)} steps",
                    "coarse forward + bilinear", t_base, t_ours, GOAL, note=f"({source} weights)"))

    image = pr.scene_image(0, 256)
    x256 = net.preprocess(image)

    def base256() -> torch.Tensor:
        with torch.inference_mode():
            _, coarse = net.features(x256)
            return F.interpolate(coarse, size=(256, 256), mode="bilinear", align_corners=False)

    def lesson() -> object:
        pr._CACHE.clear()  # measure the full lesson, not a cache hit
        return pr.run(image, scene=0)

    t_lesson, t_b = compare(lesson, base256, repeat=max(2, repeat // 2))
    rows.append(Row("pointrend", "whole lesson at 256 px (inference + 5 pictures + IoUs)",
                    "coarse forward + bilinear", t_b, t_lesson, None))
    return rows


if __name__ == "__main__":
    for row in run(quick=False):
        print(f"{row.what}: ours {row.ours_s * 1000:.1f} ms, baseline {row.baseline_s * 1000:.1f} ms, "
              f"ratio {row.ratio:.2f}× (goal ≤ {row.goal}×) {row.verdict}" if row.goal else
              f"{row.what}: ours {row.ours_s * 1000:.1f} ms, baseline {row.baseline_s * 1000:.1f} ms, "
              f"ratio {row.ratio:.2f}×")
