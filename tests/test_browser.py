"""End to end in a real browser: Playwright drives Debian's chromium on apps/app.py — for every lesson,
open its tab, upload a bundled photo, press the lesson's main button, wait for the output images, and
take a screenshot. Skipped (with the reason) only when no chromium binary is installed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from apps.registry import PAGES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None,
                       reason="Debian's chromium is not installed (apt-get install chromium)"),
]
SHOTS = Path(os.environ.get("LENSLAB_SCREENSHOTS", "")) if os.environ.get("LENSLAB_SCREENSHOTS") else None
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        page = context.new_page()
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_role("tab").first.wait_for(timeout=60_000)
        yield page
        context.close()
        browser.close()


def _output_images(panel) -> int:
    """Images served by the app inside this tab (uploads, outputs), excluding example thumbnails."""
    return panel.evaluate(
        """el => [...el.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth > 0
              && !i.closest('.gallery, [class*="example"]')).length"""
    )


@pytest.mark.parametrize("lesson", [p.lesson for p in PAGES])
def test_each_lesson_runs_in_the_browser(page, lesson, cat_path, tmp_path):
    info = next(p for p in PAGES if p.lesson == lesson)
    page.get_by_role("tab", name=info.title, exact=True).click()
    panel = page.locator(f"#{lesson}-panel, [role='tabpanel']:visible").first
    panel.wait_for(state="visible")
    before = _output_images(panel) + 1  # + the preview of the upload itself
    upload = tmp_path / f"upload-{lesson}.jpg"  # a unique name, unlike the example thumbnails
    shutil.copy(cat_path, upload)
    # Gradio keeps other tabs' components in the DOM (hidden): use the first *visible* image upload
    upload_block = panel.locator(".block:visible:has(> * input[accept='image/*']), "
                                 ".block:visible:has(input[accept='image/*'])").first
    upload_block.locator("input[type=file]").first.set_input_files(str(upload))
    panel.locator(f"img[src*='{upload.name}']:visible").first.wait_for(state="visible", timeout=30_000)
    run = panel.locator("button.primary:visible")
    if run.count():  # otherwise the upload itself runs the lesson (e.g. diffusion's forward tab)
        run.first.click()
    page.wait_for_function(
        """([el, n]) => document.querySelector('.toast-body.error') !== null
              || [...el.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth > 0
                  && !i.closest('.gallery, [class*="example"]')).length > n""",
        arg=[panel.element_handle(), before], timeout=120_000)
    error = page.locator(".toast-body.error")
    assert error.count() == 0, f"{lesson}: the page shows an error: {error.first.inner_text()}"
    page.wait_for_timeout(1500)  # let follow-up events (captions, figure sheet) land
    heights = panel.evaluate(
        """el => [...el.querySelectorAll('.block')]
              .filter(b => b.querySelector('img') && !b.closest('.gallery'))
              .map(b => b.getBoundingClientRect().height)""")
    collapsed = [h for h in heights if h < 20]
    assert not collapsed, f"{lesson}: {len(collapsed)} of {len(heights)} figures are collapsed at 1280 px"
    shot = (SHOTS or tmp_path) / f"app-{lesson}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
