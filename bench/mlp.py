"""MLP-family speed: ``python -m bench.mlp`` (or ``python -m bench --only mlp``).

* The Jacobian view (:func:`core.mlp.jacobian_view`: the Mixer token MLP's Jacobian row of the clicked
  patch over all channels and the channel-mean N×N matrix, closed form, float64) against one forward +
  backward of the same Mixer-B/16 block (timm ``MixerBlock``, batch 1, the photo's 196 tokens, float32);
  goal ≤ 2×. Random weights: the cost does not depend on the values.
* Cycle FC as shifts + one matrix product (:func:`core.mlp_ops.cycle_fc`) against the official
  ``torchvision.ops.deform_conv2d`` form, without a goal (the lesson uses ours; both are tested equal).
* The default ``/mlp`` computation (the cat photo, only the image) against a 2-second budget, one torch
  thread (what each of the app's concurrent calls gets on 2 cores); goal ≤ 1×. The models are already
  loaded, as in a running app.
"""

from __future__ import annotations

import sys

import torch

from bench import Row, compare, timeit


def _jacobian_row(quick: bool) -> Row:
    import timm

    from core.mlp import jacobian_view

    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = timm.create_model("mixer_b16_224").eval()
    block = net.blocks[0]
    with torch.inference_mode():
        tokens = net.stem(torch.randn(1, 3, 224, 224))
    x = tokens.clone().requires_grad_(True)

    def forward_backward():
        block.zero_grad(set_to_none=True)
        block(x).sum().backward()

    ours, base = compare(lambda: jacobian_view(block, tokens[0], 98), forward_backward,
                         repeat=5 if quick else 15, warmup=2)
    return Row("mlp", "Jacobian view of a Mixer-B/16 token MLP (row over all channels + N×N mean)",
               "one forward + backward of the block", base, ours, goal=2.0,
               note=f"{torch.get_num_threads()} torch thread(s); float64 closed form vs float32 autograd")


def _cycle_row(quick: bool) -> Row:
    from torchvision.ops import deform_conv2d

    from core.mlp_ops import cycle_fc, cycle_offsets

    c, side = 320, 28
    x = torch.randn(1, c, side, side)
    w, b = torch.randn(c, c, 1, 1), torch.randn(c)
    off = cycle_offsets(c, (1, 3)).float().reshape(1, 2 * c, 1, 1).expand(1, -1, side, side).contiguous()
    with torch.inference_mode():
        ours, base = compare(lambda: cycle_fc(x, w, b, (1, 3)), lambda: deform_conv2d(x, off, w, b),
                             repeat=5 if quick else 15, warmup=2)
    return Row("mlp", f"Cycle FC 1×3 as shifts + matmul ({c} ch, {side}²)", "torchvision deform_conv2d", base,
               ours, note="the official CycleMLP implementation; both tested equal")


def run(quick: bool = False) -> list[Row]:
    from core import mlp
    from core.images import load_image
    from core.zoo import ROOT

    rows = [_jacobian_row(quick), _cycle_row(quick)]
    photo = load_image(ROOT / "assets" / "images" / "chelsea-cat.jpg")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the app serves 4 calls at once with cores // 4 threads: 1 on 2 cores
    try:
        first = mlp.run(photo)  # loads the four models and counts the costs once
        m = first.summary["models"]
        sources = ", ".join(f"{k} {v['source']}" for k, v in m.items())
        rows.append(Row("mlp", "default /mlp computation on a new photo (cat, only the image)", "budget 2 s",
                        2.0, timeit(lambda: mlp.run(photo), repeat=3 if quick else 7, warmup=1), goal=1.0,
                        note=f"{sources}; 1 torch thread"))
    finally:
        torch.set_num_threads(threads)
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
