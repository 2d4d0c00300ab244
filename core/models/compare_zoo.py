"""Extra ImageNet classifiers for the compare lesson: one representative per family of the notes.

Every ``hub_id`` is a pretrained tag that exists in timm (``timm.list_pretrained``); labels are the
ImageNet-1k classes. These entries have no embedded ShapesWorld checkpoint and no ``fallback``: a
DenseNet must never silently stand in for a ResNet. Offline, ``weights="auto"`` therefore gives the
architecture with random weights, which the zoo reports (``Loaded.source == "random"``) and the
compare page labels as untrained — its parameters, FLOPs and latency are still real.

ResNet-50, ConvNeXt-T, ViT-S, DeiT-S and Swin-T are registered in :mod:`core.models.classifiers`.
"""

from core.zoo import ModelEntry, register

# name, title, family, timm architecture, pretrained tag
_FAMILIES = [
    ("resnet18", "ResNet-18 · ImageNet", "resnet", "resnet18", "resnet18.a1_in1k"),
    ("densenet121", "DenseNet-121 · ImageNet", "densenet", "densenet121", "densenet121.tv_in1k"),
    ("mobilenetv2", "MobileNetV2-1.0 · ImageNet", "mobilenet", "mobilenetv2_100", "mobilenetv2_100.ra_in1k"),
    ("mobilenetv3", "MobileNetV3-L · ImageNet", "mobilenet", "mobilenetv3_large_100",
     "mobilenetv3_large_100.ra_in1k"),
    ("efficientnet-b0", "EfficientNet-B0 · ImageNet", "efficientnet", "efficientnet_b0",
     "efficientnet_b0.ra_in1k"),
    ("regnety-008", "RegNetY-800MF · ImageNet", "regnet", "regnety_008", "regnety_008.pycls_in1k"),
    ("vit-tiny", "ViT-Ti/16 · ImageNet", "vit", "vit_tiny_patch16_224",
     "vit_tiny_patch16_224.augreg_in21k_ft_in1k"),
    ("gmlp-s16", "gMLP-S/16 · ImageNet", "mlp", "gmlp_s16_224", "gmlp_s16_224.ra3_in1k"),
    ("resmlp-12", "ResMLP-12 · ImageNet", "mlp", "resmlp_12_224", "resmlp_12_224.fb_in1k"),
]

for _name, _title, _family, _arch, _hub in _FAMILIES:
    register(ModelEntry(
        name=_name, task="classify", title=_title, family=_family, arch=_arch, hub_id=_hub,
        labels="imagenet-1k", input_size=224,
        description=f"{_title}: pretrained weights {_hub} from timm; random when offline.",
    ))

COMPARE_CLASSIFIERS: tuple[str, ...] = (
    "resnet-shapes", "vit-shapes", "swin-shapes", "efficientnet-lite0",
    "resnet18", "resnet50", "densenet121", "mobilenetv2", "mobilenetv3", "efficientnet-b0",
    "regnety-008", "convnext-tiny", "vit-tiny", "vit-small", "deit-small", "swin-tiny",
    "gmlp-s16", "resmlp-12",
)
"""The classifiers the compare lesson offers: offline ones first (embedded ShapesWorld, packaged Lite0)."""
