"""Segmenters of the zoo: LensLab's embedded PointRend model for ShapesWorld."""

from core.zoo import ModelEntry, register

POINTREND_SHAPES = register(ModelEntry(
    name="pointrend-shapes", task="segment", title="PointRend · ShapesWorld", family="pointrend",
    arch="pointrend-shapes", builder="core.nets.pointrend_net:pointrend_shapes",
    kwargs=dict(num_classes=9, widths=(32, 64, 96, 128), fc_dim=256, num_fc=3, num_points=2048),
    embedded="pointrend-shapes.safetensors", labels="shapes+background", input_size=256,
    mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
    description="A small residual CNN with fine features at stride 4, a coarse head at stride 16 and a "
                "PointRend point head (3×256 MLP), trained on ShapesWorld semantic segmentation.",
))
