"""Shared fixtures. Every test runs offline: the hub is never contacted (HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TQDM_DISABLE", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

# Small CPU models are 10-20x faster with one intra-op thread when tests and servers share 2 cores.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "assets" / "images"


@pytest.fixture(scope="session")
def cat_path() -> Path:
    return IMAGES / "chelsea-cat.jpg"


@pytest.fixture(scope="session")
def cat(cat_path: Path) -> np.ndarray:
    from core.images import load_image

    return load_image(cat_path)


@pytest.fixture(scope="session")
def app_url():
    """The whole workbench (apps/app.py) served in-process on a free local port."""
    from apps.app import demo
    from apps.frame import configure_queue, launch_options

    configure_queue(demo)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **launch_options(server_name="127.0.0.1"))
    yield url
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    """A gradio_client connected to the in-process workbench."""
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium: a skip where it is not installed, a failure where CI says it is."""
    from tests.test_browser import require_chromium

    return require_chromium()
