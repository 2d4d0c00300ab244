"""A classroom at once: 16 clients call /attention concurrently; all succeed and every answer equals
the serial one (models are shared read-only across threads, nothing leaks between requests).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from gradio_client import Client, handle_file
from PIL import Image

CLIENTS = 16


def _summary_and_pixels(result) -> tuple[dict, list[np.ndarray]]:
    items = result if isinstance(result, (list, tuple)) else [result]
    summary = next(item for item in items if isinstance(item, dict))
    images = [np.asarray(Image.open(item)) for item in items
              if isinstance(item, str) and Path(item).suffix.lower() in (".png", ".webp", ".jpg", ".jpeg")]
    return summary, images


def test_sixteen_concurrent_clients_get_the_serial_answer(app_url, cat_path, tmp_path):
    serial_summary, serial_images = _summary_and_pixels(
        Client(app_url, verbose=False, download_files=str(tmp_path / "serial")).predict(
            handle_file(str(cat_path)), api_name="/attention"))
    assert serial_images, "the endpoint returned no images"

    def one_call(i: int):
        # each student has their own machine: separate download folders, as real clients would
        client = Client(app_url, verbose=False, download_files=str(tmp_path / f"client{i}"))
        return _summary_and_pixels(client.predict(handle_file(str(cat_path)), api_name="/attention"))

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(one_call, range(CLIENTS)))
    assert len(results) == CLIENTS
    for summary, images in results:
        assert summary == serial_summary
        assert len(images) == len(serial_images)
        for ours, theirs in zip(images, serial_images, strict=True):
            np.testing.assert_array_equal(ours, theirs)
