"""The lessons the workbench shows, in teaching order: id, tab title, page module, one-line promise."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    lesson: str
    title: str
    module: str
    teaches: str


PAGES: tuple[Page, ...] = (
    Page("attention", "Attention maps", "apps.attention",
         "What a ViT/DeiT looks at: CLS attention per layer and head, attention rollout, clicked "
         "patches, and Swin's window attention with and without the shift mask."),
    Page("swin", "Swin windows", "apps.swin",
         "How Swin splits the image into windows, shifts them cyclically, masks attention across "
         "regions and biases it by relative position."),
    Page("repmlp", "RepMLP", "apps.repmlp",
         "Why a convolution is a sparse fully-connected layer, and how RepMLP merges conv branches "
         "into one FC kernel after training."),
    Page("pointrend", "PointRend", "apps.pointrend",
         "How PointRend spends computation only on uncertain boundary points to sharpen a coarse mask."),
    Page("simota", "SimOTA (detect)", "apps.detect",
         "How YOLOX decides which anchor points learn which object: candidates, costs, dynamic k and "
         "conflicts — next to ATSS and TAL."),
    Page("diffusion", "Diffusion", "apps.diffusion",
         "How diffusion models destroy an image with noise and rebuild one step by step "
         "(DDPM, DDIM, SDEdit)."),
    Page("compare", "Compare models", "apps.compare",
         "Several architectures on one image: predictions, heatmaps, size, speed and disagreement."),
)
