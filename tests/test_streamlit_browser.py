"""The Streamlit front end in a real browser: every page opens, nothing is fetched from outside.

``streamlit run apps/streamlit_app.py`` from the repository root (so ``.streamlit/config.toml``
applies: no usage statistics, the app's 20 MB upload limit), then Debian's chromium through Playwright
opens each lesson's page and records every request to a host other than the app's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

import pytest

from apps.registry import PAGES
from tests.conftest import ROOT
from tests.test_browser import CHROMIUM_ARGS
from tests.test_reload import _free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.usefixtures("chromium")]


@pytest.fixture(scope="module")
def streamlit_url():
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "apps/streamlit_app.py",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_every_streamlit_page_opens_with_nothing_from_outside(streamlit_url):
    from playwright.sync_api import sync_playwright

    host = urlparse(streamlit_url).netloc
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: None if urlparse(r.url).netloc == host
                or r.url.startswith(("data:", "blob:")) else outside.append(r.url))
        for lesson in PAGES:
            page.goto(f"{streamlit_url}/{lesson.lesson}", wait_until="domcontentloaded")
            page.get_by_role("heading", name=lesson.title).first.wait_for(timeout=120_000)
            uploader = page.locator("[data-testid='stFileUploaderDropzoneInstructions']")
            if uploader.count():
                text = uploader.first.inner_text()
                assert "20MB" in text.replace(" ", "") and "200MB" not in text.replace(" ", ""), text
        page.wait_for_timeout(2000)
        browser.close()
    assert outside == [], outside[:5]
