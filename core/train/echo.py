"""Data echoing for the ShapesWorld classifiers: reuse each rendered scene a few times.

On two CPU cores a training step competes with the scene renderer (≈3 ms per 128 px scene) and the
teacher's forward pass for the same cores. Choi et al. (2019, "Faster Neural Network Training with
Data Echoing") show that repeating each example a small number of times, shuffled and freshly
augmented, costs almost nothing in what a network learns per step while cutting the upstream work
by the echo factor. :class:`EchoPool` keeps the most recent scenes (uint8 images, labels and the
teacher's logits, computed once per scene) and hands out uniformly sampled batches; every sampled
scene gets its own random flip and quarter turn (:func:`dihedral`), so an echo is rarely the same
picture twice.
"""

from __future__ import annotations

import torch

__all__ = ["EchoPool", "dihedral"]


def dihedral(x: torch.Tensor, gen: torch.Generator, dims: tuple[int, int] = (-2, -1)) -> torch.Tensor:
    """A random element of the square's symmetry group (flip, then 0–3 quarter turns) per image.

    Every ShapesWorld class is invariant under it. ``x`` is a batch (first dimension) of square images
    whose rows and columns are ``dims``: ``(-2, -1)`` for ``(B, C, H, W)``, ``(1, 2)`` for
    ``(B, H, W, C)`` — the training turns the uint8 images, a quarter of the bytes of the float ones.
    """
    if x.shape[dims[0]] != x.shape[dims[1]]:
        raise ValueError("dihedral augmentation needs square images")
    n = x.shape[0]
    flip = torch.rand(n, generator=gen) < 0.5
    turns = torch.randint(0, 4, (n,), generator=gen)
    x = torch.where(flip.view(-1, *([1] * (x.ndim - 1))), x.flip(dims[1]), x)
    out = x.clone()
    for k in (1, 2, 3):
        pick = turns == k
        if pick.any():
            out[pick] = torch.rot90(x[pick], k, dims=dims)
    return out


class EchoPool:
    """A ring buffer of the ``capacity`` most recent scenes, sampled uniformly with replacement.

    With one fresh batch of ``B`` scenes added every ``echo`` steps and ``B`` scenes sampled per step,
    each scene is used ``echo`` times on average, whatever the capacity; the capacity only sets how
    long a scene stays available (``capacity / (B / echo)`` steps).
    """

    def __init__(self, capacity: int, image_shape: tuple[int, int, int], n_classes: int):
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = int(capacity)
        self.images = torch.empty((self.capacity, *image_shape), dtype=torch.uint8)
        self.labels = torch.empty(self.capacity, dtype=torch.int64)
        self.logits = torch.zeros((self.capacity, n_classes), dtype=torch.float32)
        self.size = 0
        self._next = 0

    def __len__(self) -> int:
        return self.size

    def add(self, images: torch.Tensor, labels: torch.Tensor, logits: torch.Tensor | None = None) -> None:
        """Store a batch (``(B, H, W, 3)`` uint8, ``(B,)`` labels, optional ``(B, K)`` teacher logits)."""
        n = images.shape[0]
        if n > self.capacity:
            raise ValueError(f"a batch of {n} does not fit a pool of {self.capacity}")
        slots = (torch.arange(n) + self._next) % self.capacity
        self.images[slots] = images
        self.labels[slots] = labels
        if logits is not None:
            self.logits[slots] = logits.float()
        self._next = (self._next + n) % self.capacity
        self.size = min(self.capacity, self.size + n)

    def sample(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``n`` scenes drawn uniformly (with replacement): uint8 images, labels and teacher logits."""
        if self.size == 0:
            raise ValueError("the pool is empty")
        idx = torch.randint(0, self.size, (n,), generator=gen)
        return self.images[idx], self.labels[idx], self.logits[idx]
