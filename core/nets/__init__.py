"""LensLab's own networks (built by core.zoo through "core.nets.<module>:<function>" builders)."""
