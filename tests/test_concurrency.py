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

    # each student has their own machine: separate download folders, as real clients would. They
    # connect first (a client's start fetches the whole multi-page app's API description, which is
    # not what this test is about and, sixteen at once in this one process, can outlast httpx's
    # 5-s default); then all sixteen calls go in at once, each allowed to wait its turn in the queue
    clients = [Client(app_url, verbose=False, download_files=str(tmp_path / f"client{i}"),
                      httpx_kwargs={"timeout": 120}) for i in range(CLIENTS)]

    def one_call(i: int):
        return _summary_and_pixels(clients[i].predict(handle_file(str(cat_path)), api_name="/attention"))

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(one_call, range(CLIENTS)))
    assert len(results) == CLIENTS
    for summary, images in results:
        assert summary == serial_summary
        assert len(images) == len(serial_images)
        for ours, theirs in zip(images, serial_images, strict=True):
            np.testing.assert_array_equal(ours, theirs)
