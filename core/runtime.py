"""Process-wide runtime settings that every front end applies once at start-up.

Why: the app serves several requests at once (Gradio's queue runs up to 4 lesson calls), and each
torch call would otherwise use all cores for itself; on a 2-core laptop that oversubscription made a
small forward 50× slower in our measurements. One intra-op thread per concurrent call is the better
trade for a classroom; ``LENSLAB_TORCH_THREADS`` overrides it (e.g. a single user on a big machine).
"""

from __future__ import annotations

import os

import torch


def configure_threads(concurrency: int = 4) -> int:
    """Set torch's intra-op threads to ``cores // concurrency`` (at least 1) unless overridden."""
    override = os.environ.get("LENSLAB_TORCH_THREADS")
    threads = int(override) if override else max(1, (os.cpu_count() or 1) // max(1, concurrency))
    torch.set_num_threads(threads)
    return threads
