"""Re-parameterisation speed: ``python -m bench.repvgg`` (or ``python -m bench --only repvgg``).

* Why it pays: the deployed forward (every block merged into one 3×3 conv by :func:`core.repvgg.
  deployed_copy`) against the training-time forward of the same RepVGG-A0-sized stack (timm's
  ``repvgg_a0`` features, random weights: timing does not depend on the values), batch 1, 224², two
  torch threads (the machine's 2 cores), interleaved repeats; goal ≤ 0.8×. The same at one thread
  (what each of the app's concurrent calls gets on 2 cores) and for MobileOne-S0 (k = 4 branches per
  block), without goals. The notes carry the peak activation memory of both forms.
* The default ``/repvgg`` computation (the cat photo, only the image) on a new photo, against a
  2-second budget; goal ≤ 1×. The stacks' costs (measured once per process) and the model are already
  there, as in a running app.
"""

from __future__ import annotations

import sys

import torch

from bench import Row, compare, timeit


def _stack_rows(quick: bool) -> list[Row]:
    import timm

    from core.repvgg import PeakMemory, deployed_copy

    rows = []
    repeat = 5 if quick else 15
    threads = torch.get_num_threads()
    try:
        cases = (("repvgg_a0", 2, 0.8), ("repvgg_a0", 1, None), ("mobileone_s0", 2, None))
        for arch, n_threads, goal in cases:
            torch.set_num_threads(n_threads)
            with torch.random.fork_rng():
                torch.manual_seed(0)
                train = timm.create_model(arch, pretrained=False).eval()
            deployed = deployed_copy(train).eval()
            x = torch.randn(1, 3, 224, 224)
            with torch.inference_mode():
                ours, base = compare(lambda d=deployed, x=x: d.forward_features(x),
                                     lambda t=train, x=x: t.forward_features(x), repeat=repeat, warmup=2)
                peaks = []
                for net in (train, deployed):
                    with PeakMemory() as mem:
                        net.forward_features(x)
                    peaks.append(mem.peak / 1e6)
            params = [sum(p.numel() for p in m.parameters()) / 1e6 for m in (train, deployed)]
            rows.append(Row("repvgg", f"{arch} deployed forward (batch 1, 224²)", "training-time forward",
                            base, ours, goal=goal,
                            note=f"{n_threads} torch thread(s); peak activations {peaks[0]:.1f} → "
                                 f"{peaks[1]:.1f} MB; parameters {params[0]:.2f} → {params[1]:.2f} M"))
    finally:
        torch.set_num_threads(threads)
    return rows


def run(quick: bool = False) -> list[Row]:
    from core import repvgg_lesson
    from core.images import load_image
    from core.zoo import ROOT

    rows = _stack_rows(quick)
    photo = load_image(ROOT / "assets" / "images" / "chelsea-cat.jpg")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the app serves 4 calls at once with cores // 4 threads: 1 on 2 cores
    try:
        first = repvgg_lesson.run(photo)  # loads the model, its deployed copy and the stacks' costs
        m = first.summary["model"]
        rows.append(Row("repvgg", "default /repvgg computation on a new photo (cat, only the image)",
                        "budget 2 s", 2.0,
                        timeit(lambda: repvgg_lesson.run(photo), repeat=3 if quick else 7, warmup=1),
                        goal=1.0, note=f"{m['name']} → {m['arch']}, {m['source']}; 1 torch thread"))
    finally:
        torch.set_num_threads(threads)
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))
