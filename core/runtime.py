"""Process-wide runtime settings that every front end applies once at start-up.

Why each one (all measured on a 2-core cloud VM serving the attention page):

- **Torch threads.** The app serves several requests at once (Gradio's queue runs up to 4 lesson
  calls), and each torch call would otherwise use all cores for itself; on a 2-core laptop that
  oversubscription made a small forward 50× slower. One intra-op thread per concurrent call is the
  better trade for a classroom; ``LENSLAB_TORCH_THREADS`` overrides it (e.g. one user, big machine).
- **Keep freed memory (glibc).** Every lesson call allocates a few megabytes of images and frees them
  again. By default glibc hands large blocks back to the operating system, so the next call touches
  fresh pages and takes a page fault for every 4 KB: ~3 ms for one 3 MB figure, ~7 ms of a 35 ms
  attention call. Raising the mmap and trim thresholds keeps those pages in the process for reuse.
  The cost is bounded: the process keeps at most what its busiest moment used.
- **Freeze the start-up heap.** With torch, timm, plotly and Gradio imported, a full garbage
  collection walks millions of long-lived objects: 235–390 ms pauses, each one a frozen page for a
  student. ``gc.freeze()`` once everything is loaded moves those objects out of the collector's
  sight; objects made later are collected as usual.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc
import os
import sys

import torch

# mallopt() parameters (glibc's malloc.h) and the values LensLab uses
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit: blocks up to 32 MB come from the heap
TRIM_THRESHOLD = 256 << 20  # give memory back only when 256 MB at the top of the heap are free


def configure_threads(concurrency: int = 4) -> int:
    """Set torch's intra-op threads to ``cores // concurrency`` (at least 1) unless overridden."""
    override = os.environ.get("LENSLAB_TORCH_THREADS")
    threads = int(override) if override else max(1, (os.cpu_count() or 1) // max(1, concurrency))
    torch.set_num_threads(threads)
    return threads


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed blocks instead of returning them to the OS (see above).

    Returns whether the settings took effect: ``False`` off Linux/glibc (macOS, Windows, musl),
    where nothing is changed.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    kept = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(kept) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def freeze_heap() -> int:
    """Collect garbage once, then exempt every surviving object from later collections.

    Call it when the app is built and about to serve. Returns how many objects were frozen. At exit
    the objects are handed back to the collector, so extension modules that check for leaks at
    shutdown (torch's triton bindings do) see them freed as usual.
    """
    gc.collect()
    gc.freeze()
    atexit.unregister(gc.unfreeze)  # once, however often the app is configured
    atexit.register(gc.unfreeze)
    return gc.get_freeze_count()


def configure(concurrency: int = 4) -> int:
    """Everything above, for a server about to take requests; returns the torch thread count."""
    keep_freed_memory()
    freeze_heap()
    return configure_threads(concurrency)
