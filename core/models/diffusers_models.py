"""Diffusion models of the zoo (task ``"diffuse"``): the embedded ShapesWorld DDPM and the CIFAR-10 DDPM.

Both are diffusers ``UNet2DModel`` noise predictors (ε-prediction) with a 1000-step linear β schedule.
The zoo's ``"diffusers-unet"`` builder returns ``(unet, {"scheduler": DDPMScheduler})``; the scheduler
lands in ``Loaded.extras["scheduler"]``. The hub model falls back to the embedded one offline.
"""

from core.zoo import ModelEntry, register

#: ShapesWorld classes 0..7 condition the embedded UNet; this extra id means "no class" (it is what
#: classifier-free guidance uses for the unconditional prediction ε(x)).
NULL_CLASS = 8

DDPM_SHAPES_CONFIG = dict(
    sample_size=32,
    in_channels=3,
    out_channels=3,
    layers_per_block=1,
    block_out_channels=(32, 64, 128),
    down_block_types=("DownBlock2D", "DownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "UpBlock2D", "UpBlock2D"),   # self-attention only in the 8×8 mid block
    norm_num_groups=8,
    attention_head_dim=32,
    num_class_embeds=NULL_CLASS + 1,
)

DDPM_SHAPES = register(ModelEntry(
    name="ddpm-shapes", task="diffuse", title="DDPM UNet 32² · ShapesWorld", family="ddpm",
    arch="UNet2DModel", builder="diffusers-unet", kwargs=DDPM_SHAPES_CONFIG,
    embedded="ddpm-shapes.safetensors", labels="shapes", input_size=32,
    mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
    description="A small class-conditional UNet (ε-prediction, linear β 1e-4→0.02, T = 1000) trained "
                "by LensLab on 32×32 ShapesWorld scenes; class id 8 is the unconditional 'null' class.",
))

#: The architecture of google/ddpm-cifar10-32 (its config.json), so weights="random" builds the same net;
#: hub loading reads the repository's own config.
DDPM_CIFAR10_CONFIG = dict(
    sample_size=32, in_channels=3, out_channels=3, layers_per_block=2,
    block_out_channels=(128, 256, 256, 256),
    down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
    downsample_padding=0, flip_sin_to_cos=False, freq_shift=1, norm_eps=1e-6, attention_head_dim=None,
)

DDPM_CIFAR10 = register(ModelEntry(
    name="ddpm-cifar10", task="diffuse", title="DDPM 32² · CIFAR-10 (Ho et al.)", family="ddpm",
    arch="UNet2DModel", builder="diffusers-unet", kwargs=DDPM_CIFAR10_CONFIG, hub_id="google/ddpm-cifar10-32",
    fallback="ddpm-shapes", input_size=32, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
    description="The original DDPM CIFAR-10 model (35.7 M parameters, unconditional), from the Hub.",
))

#: The cascade's super-resolution stage (Imagen §2.5 in miniature): a 64² UNet that sees x_t and the
#: (noise-augmented, bicubic-upsampled) 32² image as 3 + 3 input channels and predicts the clean residual
#: over bicubic (core.cascade); the augmentation level (a timestep of the same β schedule) enters through
#: a timestep-type class embedding.
SR_SHAPES_CONFIG = dict(
    sample_size=64,
    in_channels=6,
    out_channels=3,
    layers_per_block=1,
    block_out_channels=(32, 64, 96),
    down_block_types=("DownBlock2D", "DownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "UpBlock2D", "UpBlock2D"),
    norm_num_groups=8,
    add_attention=False,
    class_embed_type="timestep",
)

SR_SHAPES = register(ModelEntry(
    name="sr-shapes", task="diffuse", title="SR UNet 32²→64² · ShapesWorld", family="ddpm",
    arch="UNet2DModel", builder="diffusers-unet", kwargs=SR_SHAPES_CONFIG,
    embedded="sr-shapes.safetensors", labels="shapes", input_size=64,
    mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
    description="The cascade's super-resolution diffusion model (32² → 64²), conditioned on the "
                "upsampled low-resolution image and on its noise-augmentation level; trained by LensLab "
                "on ShapesWorld with noise conditioning augmentation.",
))
