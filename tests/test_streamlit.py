"""The Streamlit front end: every lesson page, through streamlit.testing.v1.AppTest.

A page whose lesson core exists is run with its default parameters (the same ``PARAMS`` and ``run`` as
the Gradio page) and must show result images, the JSON summary and a download; a page whose core does
not exist yet must say that it is being built and show nothing computed. The state is decided at test
time, so these tests start checking real output as soon as a lesson lands.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apps.registry import PAGES
from apps.streamlit_pages._lesson import BUILDING, display_math_blocks, lesson_state
from core.text import explanation

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "apps" / "streamlit_app.py"
PAGES_DIR = ROOT / "apps" / "streamlit_pages"
TIMEOUT = 300  # first model loads and a diffusion run on a busy 2-core machine



def test_every_lesson_has_a_page_file():
    assert sorted(p.stem for p in PAGES_DIR.glob("[a-z]*.py")) == sorted(p.lesson for p in PAGES)


def test_navigation_lists_and_opens_every_lesson():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == PAGES[0].title
    for page in PAGES[1:]:
        at.switch_page(f"streamlit_pages/{page.lesson}.py").run()
        assert not at.exception, page.lesson
        assert at.title[0].value == page.title


@pytest.mark.parametrize("lesson", [p.lesson for p in PAGES])
def test_lesson_page(lesson):
    state, detail = lesson_state(lesson)
    assert state != "broken", f"{lesson}: {detail}"
    at = AppTest.from_file(str(PAGES_DIR / f"{lesson}.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    if state == "building":
        assert any(BUILDING in info.value for info in at.info)
        assert len(at.image) == 0 and len(at.download_button) == 0 and len(at.json) == 0
        return
    run = [b for b in at.button if b.label == "Run"]
    assert len(run) == 1
    assert not at.image[1:], "nothing is shown before Run"
    run[0].click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.image) >= 2  # the input and at least one result image
    assert len(at.json) == 1 and len(at.download_button) == 1


def test_compare_page_shows_the_cores_result():
    at = AppTest.from_file(str(PAGES_DIR / "compare.py"), default_timeout=TIMEOUT).run()
    models = at.multiselect(key="compare-models")
    assert models.value == ["resnet50", "convnext-tiny", "vit-small"]  # the core's defaults
    models.set_value(["resnet-shapes", "swin-shapes"])
    at.slider(key="compare-latency_runs").set_value(1)
    at.button[0].click().run()
    assert not at.exception and not at.error
    summary = at.json[0].value
    summary = summary if isinstance(summary, dict) else __import__("json").loads(summary)
    assert [m["name"] for m in summary["models"]] == ["resnet-shapes", "swin-shapes"]


def test_language_toggle_switches_the_explanation():
    at = AppTest.from_file(str(PAGES_DIR / "compare.py"), default_timeout=TIMEOUT).run()
    en, zh = (display_math_blocks(explanation("compare", lang)).strip() for lang in ("en", "zh"))
    texts = [m.value.strip() for m in at.markdown]
    assert en in texts
    at.button_group[0].set_value("zh").run()
    texts = [m.value.strip() for m in at.markdown]
    assert zh in texts and en not in texts


def test_display_math_gets_lines_of_its_own():
    text = "Before $x$ and\n\n$$a = b, \\qquad\nc = d.$$\nAfter."
    assert display_math_blocks(text) == "Before $x$ and\n\n\n$$\na = b, \\qquad\nc = d.\n$$\n\nAfter."


def test_a_lesson_without_its_core_says_it_is_being_built(monkeypatch):
    from core import lesson as contract

    monkeypatch.setitem(contract.LESSONS, "compare", "core.lesson_not_written_yet:run")
    assert lesson_state("compare")[0] == "building"
    at = AppTest.from_file(str(PAGES_DIR / "compare.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any(BUILDING in info.value for info in at.info)
    assert len(at.image) == 0 and len(at.json) == 0 and not [b for b in at.button if b.label == "Run"]


# --------------------------------------------------------------------------------------------- #
# links: the Streamlit pages read and write the same links as the Gradio pages (core.links)


def _page(lesson: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(PAGES_DIR / f"{lesson}.py"), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def test_a_link_opens_its_view_and_runs_it():
    at = _page("swin", {"example": "coffee.jpg", "stage": "2", "shift": "0"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="swin:image-example").value == "coffee.jpg"
    assert at.slider(key="swin-stage").value == 2
    assert at.slider(key="swin-shift").value == 0
    assert len(at.json) == 1, "a link runs its view without a click on Run"
    summary = at.json[0].value
    summary = summary if isinstance(summary, dict) else __import__("json").loads(summary)
    assert summary["block"]["stage"] == 2 and summary["teaching"]["shift"] == 0
    link = at.code[0].value
    assert link.startswith("/swin?") and "example=coffee.jpg" in link and "shift=0" in link
    assert "stage=2" in link
    assert at.query_params["example"] in ("coffee.jpg", ["coffee.jpg"])


def test_a_bad_link_value_is_named_and_the_page_still_opens():
    at = _page("swin", {"stage": "99", "example": "../../etc/passwd"})
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "stage" in warning.lower() and "example must be the file name of a bundled photo" in warning
    assert at.slider(key="swin-stage").value == 1  # the default, kept
    assert at.selectbox(key="swin:image-example").value == "chelsea-cat.jpg"


def test_a_scene_link_brings_its_scene_and_ground_truth():
    at = _page("simota", {"scene": "3", "style": "heldout"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="simota:image-example").value == "shapesworld-detect-heldout-3.png"
    from core import assign

    assert at.text_input(key="simota-gt_boxes").value == assign.shapes_scene(3, "heldout")[1]
    assert "scene=3" in at.code[0].value and "style=heldout" in at.code[0].value


def test_a_bare_page_waits_for_run_and_links_its_defaults():
    at = _page("swin", {})
    assert not at.json and not at.warning, "a bare page waits for Run"
    assert at.code[0].value == "/swin?example=chelsea-cat.jpg"
