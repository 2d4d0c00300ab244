"""The re-parameterisation lesson's models: timm's RepVGG-A0 and MobileOne-S0, and LensLab's small
RepVGG trained on ShapesWorld (``python -m core.train repvgg-shapes``; see assets/weights/repvgg-shapes.md).

Online, ``weights="auto"`` gives the timm models their ImageNet weights (the *training-time* networks,
with every branch, which is what the lesson merges). Offline, RepVGG-A0 falls back to the embedded
ShapesWorld RepVGG (learned kernels, another architecture of the same family); MobileOne-S0 has no
offline stand-in with its k-branch blocks, so it is shown with random weights and the page says so.
"""

from core.models.classifiers import SHAPES_MEAN, SHAPES_STD
from core.zoo import ModelEntry, register

REPVGG_SHAPES = register(ModelEntry(
    name="repvgg-shapes", task="classify", title="RepVGG-Shapes (7 blocks + stem) · ShapesWorld",
    family="repvgg", arch="repvgg-shapes", builder="core.repvgg:shapes_net",
    embedded="repvgg-shapes.safetensors", labels="shapes", input_size=64, mean=SHAPES_MEAN, std=SHAPES_STD,
    description="A small RepVGG (timm RepVggBlocks: a rep stem of 32 channels, then stages of 2, 3 and 2 "
                "blocks of 48, 96 (grouped, 24 channels per group) and 192 channels, each stage stride 2; "
                "global max pooling) on 64-px scenes, trained by LensLab on ShapesWorld.",
))
REPVGG_A0 = register(ModelEntry(
    name="repvgg-a0", task="classify", title="RepVGG-A0 · ImageNet", family="repvgg", arch="repvgg_a0",
    hub_id="repvgg_a0.rvgg_in1k", labels="imagenet-1k", input_size=224, fallback="repvgg-shapes",
    description="RepVGG-A0 (Ding et al., CVPR 2021): 22 RepVGG blocks (stem, then 2, 4, 14, 1 blocks of "
                "48, 96, 192, 1280 channels); 72.41 % ImageNet top-1 as published; timm's weights.",
))
MOBILEONE_S0 = register(ModelEntry(
    name="mobileone-s0", task="classify", title="MobileOne-S0 · ImageNet", family="mobileone",
    arch="mobileone_s0", hub_id="mobileone_s0.apple_in1k", labels="imagenet-1k", input_size=224,
    description="MobileOne-S0 (Vasu et al., CVPR 2023): depthwise 3×3 and pointwise 1×1 MobileOne blocks, "
                "each with k = 4 over-parameterised conv branches at training time; timm's weights.",
))
