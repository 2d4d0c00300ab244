"""The lessons the workbench shows, in teaching order: id, title, page module, one-line promise, family.

``lesson`` is also the page's URL path and its endpoint name (``/simota`` is the SimOTA page and
the ``/simota`` API), so a link, a route and an API call name a lesson the same way. The home page
groups lessons by :data:`FAMILIES`, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FAMILIES = ("Transformers", "CNNs", "MLPs", "Detection", "Segmentation", "Generation")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
_FAMILY_OF = {"attention": "Transformers", "swin": "Transformers", "compare": "CNNs", "receptive": "CNNs",
              "repvgg": "CNNs", "repmlp": "MLPs", "mlp": "MLPs", "simota": "Detection", "roi": "Detection",
              "losses": "Detection", "pointrend": "Segmentation", "diffusion": "Generation"}


@dataclass(frozen=True)
class Page:
    lesson: str
    title: str
    module: str
    teaches: str
    family: str = ""

    @property
    def group(self) -> str:
        """The home page's group (the lesson's family)."""
        return self.family or _FAMILY_OF.get(self.lesson, "CNNs")

    @property
    def thumbnail(self) -> Path | None:
        """The lesson's screenshot in ``docs/screenshots`` (named like its page module), if taken."""
        path = SCREENSHOTS / f"{self.module.rsplit('.', 1)[-1]}.png"
        return path if path.is_file() else None


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
    Page("roi", "RoI operators", "apps.roi",
         "How a two-stage detector cuts a k×k feature out of a box: RoIPool's roundings, RoIAlign's "
         "sampling points, R-FCN's position-sensitive bins and the FPN level, on your photo."),
    Page("losses", "Detection losses", "apps.losses",
         "What the anchors are asked to learn: focal loss on every anchor of the photo, GFL's IoU-aware "
         "soft targets (QFL) and box edges as distributions (DFL), and keypoints scored by OKS.",
         family="Detection"),
    Page("diffusion", "Diffusion", "apps.diffusion",
         "How diffusion models destroy an image with noise and rebuild one step by step "
         "(DDPM, DDIM, SDEdit)."),
    Page("compare", "Compare models", "apps.compare",
         "Several architectures on one image: predictions, heatmaps, size, speed and disagreement."),
    Page("receptive", "Receptive fields", "apps.receptive",
         "How far each architecture sees, from VGG to ConvNeXt (and HRNet): the theoretical and the "
         "effective receptive field of a clicked pixel, trained vs. untrained, the blocks' costs and "
         "ConvNeXt's roadmap.", family="CNNs"),
    Page("repvgg", "Re-parameterisation (RepVGG)", "apps.repvgg",
         "How RepVGG, MobileOne and YOLOv6/v7 train with 3×3, 1×1 and identity branches and deploy one "
         "3×3 conv that computes exactly the same — the merge taken apart on your photo.", family="CNNs"),
    Page("mlp", "MLP family", "apps.mlp",
         "How MLPs mix tokens without attention: click a patch and see who feeds it in ResMLP, gMLP and "
         "MLP-Mixer next to a ViT's attention; CycleMLP's and AS-MLP's fixed shifts channel by channel; why "
         "the first ones are tied to one image size.", family="MLPs"),
)
