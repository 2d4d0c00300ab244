"""The MLP-family lesson's models (``/mlp``): timm's ResMLP-12, gMLP-S and Mixer-B/16 with their ImageNet
weights, LensLab's small ResMLP trained on ShapesWorld (``python -m core.train resmlp-shapes``; see
assets/weights/resmlp-shapes.md), and the ViT whose attention the page sets beside the mixers.

Online, ``weights="auto"`` gives the timm models their ImageNet weights. Offline, ResMLP-12 falls back to
the embedded ShapesWorld ResMLP (learned ``linear_tokens`` of the same block type, on a 12×12 grid);
gMLP-S and Mixer-B/16 have no offline stand-in of their own block type, so they are shown with random
weights and the page says so (their *structure* — the N×N shapes, the Jacobian — is still exact).
"""

from core.models.classifiers import SHAPES_MEAN, SHAPES_STD
from core.zoo import ModelEntry, register

RESMLP_SHAPES = register(ModelEntry(
    name="resmlp-shapes", task="classify", title="ResMLP-Shapes (6 blocks, 12×12 patches) · ShapesWorld",
    family="resmlp", arch="resmlp-shapes", builder="core.mlp_ops:shapes_resmlp",
    embedded="resmlp-shapes.safetensors", labels="shapes", input_size=96, mean=SHAPES_MEAN, std=SHAPES_STD,
    description="A small ResMLP (timm MlpMixer with ResBlocks: 8-px patches of a 96-px scene, 12×12 = 144 "
                "tokens, width 128, 6 blocks of Affine → cross-patch linear 144×144 → Affine → channel MLP "
                "×4, with LayerScale; average pooling), trained by LensLab on ShapesWorld.",
))
# "resmlp-12" and "gmlp-s16" of the compare lesson have no fallback (there a stand-in would mislead);
# this lesson's ResMLP-12 falls back to the embedded ResMLP, because what it shows — learned
# cross-patch weights of a ResBlock — is the same thing on either
RESMLP_12 = register(ModelEntry(
    name="resmlp-12-mlp", task="classify", title="ResMLP-12 · ImageNet", family="resmlp",
    arch="resmlp_12_224", hub_id="resmlp_12_224.fb_in1k", labels="imagenet-1k", input_size=224,
    fallback="resmlp-shapes",
    description="ResMLP-12 (Touvron et al., 2021): 12 residual blocks of width 384 on 14×14 patches of "
                "16 px, each a cross-patch linear layer (196×196) and a channel MLP; 76.6 % ImageNet top-1 "
                "as published; timm's weights.",
))
GMLP_S16 = "gmlp-s16"  # core.models.compare_zoo's entry: timm's weights online, random offline
MIXER_B16 = register(ModelEntry(
    name="mixer-b16", task="classify", title="Mixer-B/16 · ImageNet", family="mixer", arch="mixer_b16_224",
    hub_id="mixer_b16_224.goog_in21k_ft_in1k", labels="imagenet-1k", input_size=224,
    description="MLP-Mixer B/16 (Tolstikhin et al., 2021): 12 blocks of width 768, each a token-mixing MLP "
                "(196 → 384 → 196, GELU) and a channel-mixing MLP; timm's weights.",
))
