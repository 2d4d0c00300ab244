"""The zoo's contents, as data. One module per task; importing this package registers every entry.

A module here only calls :func:`core.zoo.register` with :class:`core.zoo.ModelEntry` values; the
networks LensLab defines itself live in ``core/nets/``.
"""

from core.models import (
    classifiers,  # noqa: F401
    compare_zoo,  # noqa: F401
    detectors,  # noqa: F401
    diffusers_models,  # noqa: F401
    mlp_models,  # noqa: F401
    receptive_models,  # noqa: F401
    repmlp_models,  # noqa: F401
    repvgg_models,  # noqa: F401
    segmenters,  # noqa: F401
)
