"""Models the receptive-field lesson needs beyond the classifiers of the other lessons.

HRNet keeps a high-resolution stream next to lower-resolution ones and exchanges information between
them; timm's ``hrnet_w18_small`` (HRNet-W18-C-Small-v1) is its smallest ImageNet classifier. LensLab
has no embedded HRNet: offline, ``weights="auto"`` gives the architecture with random weights, which the
zoo reports (``Loaded.source == "random"``) — its streams and shapes are real, its features are not
learned.
"""

from core.zoo import ModelEntry, register

HRNET_W18_SMALL = register(ModelEntry(
    name="hrnet-w18-small", task="classify", title="HRNet-W18-small · ImageNet", family="hrnet",
    arch="hrnet_w18_small", hub_id="hrnet_w18_small.ms_in1k", labels="imagenet-1k", input_size=224,
    description="HRNet-W18-C-Small-v1: four parallel streams at strides 4, 8, 16, 32 (16, 32, 64, 128 "
                "channels) with repeated multi-resolution fusion; pretrained weights from timm.",
))
