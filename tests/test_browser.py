"""End to end in a real browser: Playwright drives Debian's chromium on apps/app.py — the home page,
then every lesson at its own URL: upload a bundled photo, press the lesson's main button, wait for the
output images, take a screenshot, and count the requests that went anywhere but the app (none may).
Skipped (with the reason) only when no chromium binary is installed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from apps.registry import PAGES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser]
REQUIRE_ENV = "LENSLAB_REQUIRE_BROWSER"  # .ci/run sets it once chromium is installed: no silent skip


def require_chromium() -> str:
    """The chromium binary; skips when there is none, but fails where CI promised one."""
    if CHROMIUM is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but no chromium binary is on PATH")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return CHROMIUM


SHOTS = Path(os.environ.get("LENSLAB_SCREENSHOTS", "")) if os.environ.get("LENSLAB_SCREENSHOTS") else None
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def browser_context(app_url):
    """One browser for the module; every request to a host other than the app's is recorded."""
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    require_chromium()
    app_host = urlparse(app_url).netloc
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        context.on("request", lambda r: None if urlparse(r.url).netloc in (app_host, "")
                   or r.url.startswith(("data:", "blob:")) else outside.append(r.url))
        yield context, outside
        context.close()
        browser.close()


@pytest.fixture(scope="module")
def page(browser_context):
    context, _ = browser_context
    page = context.new_page()
    yield page
    page.close()


def test_the_home_page_links_every_lesson_by_family_with_thumbnails(page, app_url, browser_context):
    from apps.registry import FAMILIES

    page.goto(app_url, wait_until="domcontentloaded")
    page.locator(".lenslab-card").first.wait_for(timeout=60_000)
    links = page.eval_on_selector_all(".lenslab-card", "els => els.map(e => e.getAttribute('href'))")
    assert links == [p.lesson for f in FAMILIES for p in PAGES if p.group == f]
    headings = page.eval_on_selector_all(".lenslab-family h2", "els => els.map(e => e.textContent)")
    assert headings == [f for f in FAMILIES if any(p.group == f for p in PAGES)]
    expected = sum(p.thumbnail is not None for p in PAGES)
    for card in page.locator(".lenslab-card img").all():  # thumbnails load lazily: bring each into view
        card.scroll_into_view_if_needed()
    page.wait_for_function("n => [...document.querySelectorAll('.lenslab-card img')]"
                           ".filter(i => i.complete && i.naturalWidth > 0).length >= n", arg=expected,
                           timeout=30_000)
    loaded = page.eval_on_selector_all(".lenslab-card img",
                                       "els => els.filter(i => i.naturalWidth > 0).length")
    assert loaded == expected > 0
    page.locator(".lenslab-card", has_text="Swin windows").click()
    page.wait_for_url("**/swin")
    page.get_by_role("button", name="Run").first.wait_for(timeout=60_000)
    assert browser_context[1] == []


def _output_images(panel) -> int:
    """Images served by the app inside this tab (uploads, outputs), excluding example thumbnails."""
    return panel.evaluate(
        """el => [...el.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth > 0
              && !i.closest('.gallery, [class*="example"]')).length"""
    )


@pytest.mark.parametrize("lesson", [p.lesson for p in PAGES])
def test_each_lesson_runs_in_the_browser(page, lesson, cat_path, tmp_path, app_url, browser_context):
    page.goto(f"{app_url.rstrip('/')}/{lesson}", wait_until="domcontentloaded")
    panel = page.locator("gradio-app, body").first
    panel.locator("input[type=file]").first.wait_for(state="attached", timeout=60_000)
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
              .filter(b => b.querySelector('img') && !b.closest('.gallery')
                      && b.getClientRects().length > 0)  // skip figures of tabs not shown
              .map(b => b.getBoundingClientRect().height)""")
    collapsed = [h for h in heights if h < 20]
    assert not collapsed, f"{lesson}: {len(collapsed)} of {len(heights)} figures are collapsed at 1280 px"
    shot = (SHOTS or tmp_path) / f"app-{lesson}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert browser_context[1] == [], f"{lesson}: requests outside the app: {browser_context[1][:5]}"
