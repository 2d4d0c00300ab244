"""LensLab core: images, the model zoo, one module per lesson, rendering. Never imports a UI library."""

__version__ = "0.1.0"
