"""Detectors of the zoo: LensLab's embedded YOLOX-style detector and its early training checkpoints.

The four YOLOX entries share one architecture (``core.nets.yolox:yolox_shapes``); the snapshots at 0 %, 5 %
and 30 % of training let the SimOTA lesson show how label assignment changes as predictions improve.
``python -m core.train yolox-shapes`` writes all of them (see ``assets/weights/yolox-shapes*.md``).
``gfl-shapes`` is the same body with a GFL head (edge distributions, joint quality score), for the losses
lesson; ``python -m core.train gfl-shapes`` writes it.
"""

from core.zoo import ModelEntry, register

SHAPES_MEAN = (0.5, 0.5, 0.5)
SHAPES_STD = (0.5, 0.5, 0.5)
YOLOX_KWARGS = dict(num_classes=8, image_size=192, neck=48, head=48)

YOLOX_SHAPES = register(ModelEntry(
    name="yolox-shapes", task="detect", title="YOLOX-Tiny-style · ShapesWorld", family="yolox",
    arch="yolox-shapes", builder="core.nets.yolox:yolox_shapes", kwargs=YOLOX_KWARGS,
    embedded="yolox-shapes.safetensors", labels="shapes", input_size=192, mean=SHAPES_MEAN, std=SHAPES_STD,
    description="An anchor-free YOLOX-style detector (CSP backbone, PAFPN, decoupled head, strides "
                "8/16/32) trained with SimOTA on ShapesWorld scenes.",
))

for _percent, _what in ((0, "the random initialisation"), (5, "early"), (30, "mid-training")):
    register(ModelEntry(
        name=f"yolox-shapes-{_percent}pct", task="detect",
        title=f"YOLOX-Tiny-style · ShapesWorld · {_percent} % of training", family="yolox",
        arch="yolox-shapes", builder="core.nets.yolox:yolox_shapes", kwargs=YOLOX_KWARGS,
        embedded=f"yolox-shapes-{_percent}pct.safetensors", labels="shapes", input_size=192,
        mean=SHAPES_MEAN, std=SHAPES_STD,
        description=f"The same detector at {_percent} % of its training ({_what}).",
    ))

GFL_KWARGS = dict(num_classes=8, image_size=192, neck=48, head=48, reg_max=16)

GFL_SHAPES = register(ModelEntry(
    name="gfl-shapes", task="detect", title="GFL-style · ShapesWorld", family="gfl",
    arch="gfl-shapes", builder="core.nets.yolox:gfl_shapes", kwargs=GFL_KWARGS,
    embedded="gfl-shapes.safetensors", labels="shapes", input_size=192, mean=SHAPES_MEAN, std=SHAPES_STD,
    description="The same body with a Generalized Focal Loss head: each box edge a distribution over 17 "
                "distances (DFL), a joint class–IoU score (QFL), trained with SimOTA on ShapesWorld "
                "(`python -m core.train gfl-shapes`, fine-tuned from yolox-shapes).",
))
