"""A fix for a race in Gradio's output-image cache that a classroom triggers (Gradio 6.31).

Gradio stores each output image at ``<cache>/<sha256 of its bytes>/image.<fmt>`` and writes it with
``Path.write_bytes``. When several students get the *same* figure at once (everyone clicks the same
example — the common case in class), one request truncates and rewrites the file while another is
streaming it, and that student's browser receives a cut-off image ("peer closed connection without
sending complete message body" in our 16-client test). Gradio's own ``save_file_to_cache`` already
avoids this by writing to a staging file and renaming it into place; :func:`install` applies the same
pattern to ``save_pil_to_cache`` (used for numpy and PIL outputs). Same paths, same bytes, same
signature — only the write becomes atomic, and an existing identical file is reused.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils

_original = processing_utils.save_pil_to_cache


def _save_pil_to_cache_atomically(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    if target.exists() and target.stat().st_size == len(data):
        return str(target)  # the same bytes are already there (same hash): reuse, never rewrite
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(staging, target)
    return str(target)


def install() -> None:
    """Patch Gradio once per process (idempotent)."""
    if processing_utils.save_pil_to_cache is _original:
        processing_utils.save_pil_to_cache = _save_pil_to_cache_atomically
