"""The two trained models of the RepMLP locality experiment (see assets/weights/repmlp-locality.md).

Both are a stem → one 64×10×10 → 64×10×10 FC → classifier on ShapesWorld, from the same data and
initial weights; the second was trained with conv branches (1, 3, 5, 7) that are merged into its FC.
"""

from core.zoo import ModelEntry, register

_COMMON = dict(task="classify", family="repmlp", builder="core.repmlp:locality_net", labels="shapes",
               input_size=80, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))

REPMLP_LOCALITY_FC = register(ModelEntry(
    name="repmlp-locality-fc", title="Locality FC (plain) · ShapesWorld", arch="locality-fc",
    kwargs=dict(kernels=()), embedded="repmlp-locality-fc.safetensors",
    description="Stem → one plain 64×10×10 FC → classifier, trained on ShapesWorld.", **_COMMON))
REPMLP_LOCALITY_REP = register(ModelEntry(
    name="repmlp-locality-rep", title="Locality FC + conv 1/3/5/7 · ShapesWorld", arch="locality-rep",
    kwargs=dict(kernels=(1, 3, 5, 7)), embedded="repmlp-locality-rep.safetensors",
    description="The same FC trained with conv branches (1,3,5,7), merged into it after training.",
    **_COMMON))
