"""Every lesson page usable by a class at 1280×720 (issue 26).

In a real browser (Playwright driving Debian's chromium, 1280×720, the whole app): the main action is in
the first screen; a typed value re-runs the lesson or marks the figures out of date; every figure has its
own download; the 中文 switch changes control labels, captions and status lines; then a screenshot of
the first screen (``LENSLAB_SCREENSHOTS=docs/screenshots`` retakes the home page's thumbnails). Without
a browser: every page's Chinese texts, the status lines' words, the bounded controls, the glosses next to
numbers, the figure sheet's titles, the colour scales and the instructors' fold.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from apps import frame, i18n
from apps.registry import PAGES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(os.environ["LENSLAB_SCREENSHOTS"]) if os.environ.get("LENSLAB_SCREENSHOTS") else None
VIEW = {"width": 1280, "height": 720}
CJK = re.compile(r"[\u3400-\u9fff]")
PUNCT = set("，。：；！？、（）“”《》—…")
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]")
LABELLED = (gr.Button, gr.Slider, gr.Dropdown, gr.Radio, gr.Checkbox, gr.Number, gr.Textbox, gr.Image,
            gr.Accordion, gr.Tab, gr.Dataframe, gr.Label, gr.Plot, gr.DownloadButton, gr.JSON)


@pytest.fixture(scope="module")
def built():
    """Every page's Blocks, built once (what the app renders on its routes)."""
    return {p.lesson: importlib.import_module(p.module).build() for p in PAGES}


def bad_bold(text: str) -> bool:
    """A bold run closed right after Chinese punctuation and followed by a letter is not closed at all in
    CommonMark ("**已过期：**生成" shows its asterisks): the punctuation belongs outside the stars."""
    closers = [m.start() for m in re.finditer(r"\*\*", text)][1::2]
    return any(p > 0 and text[p - 1] in PUNCT and p + 2 < len(text) and not text[p + 2].isspace()
               and text[p + 2] not in PUNCT for p in closers)


def _texts(demo: gr.Blocks):
    return demo._lenslab_texts  # noqa: SLF001 - what apps.i18n keeps per page


# --------------------------------------------------------------------------------------------- #
# without a browser


@pytest.mark.parametrize("lesson", [p.lesson for p in PAGES])
def test_every_figure_has_its_own_download(built, lesson):
    figures = [b for b in built[lesson].blocks.values()
               if isinstance(b, gr.Image) and not isinstance(b, frame.UploadImage) and b.interactive is False]
    assert figures, f"{lesson}: no output figures found"
    lacking = [b.label for b in figures if "download" not in (b.buttons or [])]
    assert not lacking, f"{lesson}: figures without a download button: {lacking}"


@pytest.mark.parametrize("lesson", [p.lesson for p in PAGES])
def test_every_label_of_the_page_has_its_chinese(built, lesson):
    """Each control, figure, fold and tab the page shows with an English label is registered with its
    Chinese (bilingual labels such as "Language · 语言" are both already)."""
    demo = built[lesson]
    texts = _texts(demo)
    registered = {id(c) for c, _, _ in texts.items} | {id(c) for _, _, outs in texts.renders for c in outs}
    missing = []
    for block in demo.blocks.values():
        if not isinstance(block, LABELLED) or id(block) in registered or block.visible is False:
            continue
        hidden = any("hidden" in c for c in block.elem_classes or [])
        if getattr(block, "show_label", True) is False or hidden:
            continue
        text = block.value if isinstance(block, gr.Button) else getattr(block, "label", None)
        if isinstance(text, str) and len(re.findall("[A-Za-z]", text)) > 2 and not CJK.search(text):
            missing.append(f"{type(block).__name__} {text!r}")
    assert not missing, f"{lesson}: no Chinese for {missing}"


@pytest.mark.parametrize("lesson", [p.lesson for p in PAGES])
def test_the_chinese_texts_have_no_stray_spaces_and_close_their_bold(built, lesson):
    texts = _texts(built[lesson])
    assert texts.wired and texts.lang is not None, f"{lesson}: the page's language switch is not wired"
    assert len(texts.items) >= 10
    for _, en, zh in texts.items:
        for key, value in zh.items():
            values = [n for n, _ in value] if key == "choices" else value if key == "headers" else [value]
            for text in values:
                if not isinstance(text, str):
                    continue
                assert not i18n.STRAY_SPACE.search(text), f"{lesson}: stray space in {text!r}"
                assert not bad_bold(text), f"{lesson}: unclosed bold in {text!r}"
                assert not EMOJI.search(text), f"{lesson}: emoji in {text!r}"
                if key in ("label", "value") and isinstance(en.get(key), str) and CJK.search(text) is None:
                    # a Chinese text must be Chinese, unless it is a formula or a name kept as is
                    assert not re.search("[a-z]{4,} [a-z]{4,}", text), f"{lesson}: English left in {text!r}"


def test_the_instructors_notes_fold_away_in_both_languages():
    from core.text import LANGUAGES

    for page in PAGES:
        lesson = page.lesson
        blocks = {}
        for lang in LANGUAGES:
            student, notes = frame.explanation_parts(lesson, lang)
            assert "<!--" not in student
            blocks[lang] = notes.count("\n\n") if notes else -1
            if lesson in ("attention", "swin", "simota", "pointrend", "roi", "receptive", "repmlp", "losses"):
                assert notes, f"{lesson}/{lang}: no notes for instructors"
        assert (blocks["en"] < 0) == (blocks["zh"] < 0), f"{lesson}: instructors' notes in one language only"
    student, notes = frame.explanation_parts("attention", "en")
    assert "attn_drop" in notes and "attn_drop" not in student  # the hooks are an instructor's matter
    assert "*Which weights?*" in student
    for lang in LANGUAGES:
        for page in PAGES:
            assert "until those are trained" not in frame.explanation_parts(page.lesson, lang)[0]


def test_status_lines_name_each_source_in_words_and_never_contradict():
    line = frame.model_line("ViT-Micro/16 · ShapesWorld", "embedded", "en", stand_in_for="ViT-S/16")
    assert line == ("**ViT-Micro/16 · ShapesWorld** · trained by LensLab on synthetic shapes · standing in "
                    "for ViT-S/16")
    assert "**RANDOM" in frame.model_line("Swin-T", "random")
    assert "代替 ViT-S/16" in frame.model_line("X", "embedded", "zh", stand_in_for="ViT-S/16")
    text = frame.status_text(["a", "b"], ["c"], "zh")
    assert text.startswith("a  \nb") and "<summary>详情</summary>" in text
    assert frame.note_in("hub unavailable: timeout", "zh") == "Hub 不可用：timeout"
    for words in frame.SOURCE_WORDS.values():
        assert not any(EMOJI.search(w) for w in words)

    from apps import detect

    summary = {"model": "yolox-shapes-0pct", "weights": "embedded", "gt": [{}],
               "weights_status": "YOLOX-Tiny-style · ShapesWorld · 0 % of training · embedded weights",
               "gt_source": "detections", "anchors": 756,
               "anchors_per_stride": {"8": 576, "16": 144, "32": 36},
               "simota": {"preset": "yolox-0.3", "center_radius_strides": 2.5, "penalty": 1e5,
                          "candidates": 9, "dynamic_k": [1], "positives_per_gt": [0], "unmatched_gt": [0],
                          "conflicts": []}}
    for lang in ("en", "zh"):
        first = detect._status(summary, lang).split("\n")[0]
        assert ("UNTRAINED" in first) if lang == "en" else ("未训练" in first)
        assert "trained by LensLab" not in first and not EMOJI.search(detect._status(summary, lang))
    assert "**Warning:**" in detect._status(summary, "en")


def test_controls_are_bounded_by_the_result():
    from apps import detect, diffusion

    one = detect._bounds({"gt": [{"id": 0}]}, 5)
    assert one["value"] == 1 and one["interactive"] is False
    gr.Slider(1, one["maximum"])  # what Gradio builds from the update: minimum < maximum
    three = detect._bounds({"gt": [{"id": i} for i in range(3)]}, 7)
    assert three["maximum"] == 3 and three["value"] == 3 and three["interactive"] is True
    label, guidance, eta = diffusion._bounds({"conditioning": "class 'star'"}, "none", "ddpm")
    assert label["interactive"] and not guidance["interactive"] and not eta["interactive"]
    label, guidance, eta = diffusion._bounds({"conditioning": "class 'star'"}, "star", "ddim")
    assert guidance["interactive"] and eta["interactive"]
    label, guidance, _ = diffusion._bounds({"conditioning": "unconditional model"}, "star", "ddim")
    assert not label["interactive"] and not guidance["interactive"]


def test_numbers_come_with_plain_words():
    from apps import compare, repmlp

    models = [{"title": "A", "faithfulness": {"p": 0.82, "p_removed": 0.30, "drop": 0.52,
                                              "random_drop": 0.05}},
              {"title": "B", "faithfulness": {"p": 0.388, "p_removed": 0.459, "drop": -0.071,
                                              "random_drop": -0.104}}]
    text = compare._gloss({"models": models}, "en")
    assert "from 82.0 % to 30.0 % (-52.0 points)" in text and "does point at evidence" in text
    assert "from 38.8 % to 45.9 % (+7.1 points)" in text and "no more telling than a random one" in text
    assert "从 82.0% 变为 30.0%" in compare._gloss({"models": models}, "zh")
    loc = {"cells_in_box": 49, "uniform_share": 0.49, "mass_in_box_plain_fc": 0.62,
           "mass_in_box_rep_fc": 0.95,
           "mass_in_window_all_outputs_plain_fc": 0.34, "mass_in_window_all_outputs_rep_fc": 0.61,
           "mass_in_window_all_outputs_even_spread": 0.34}
    gloss = repmlp._gloss({"locality": loc}, "en")
    assert "put 49% of it in the box" in gloss and "puts 62% there — about what an even spread gives" in gloss
    assert "puts 95% — more than an even spread" in gloss and "34% and 61%, against 34%" in gloss


def test_a_photo_the_embedded_model_never_learned_says_so():
    top = [{"label": "star", "probability": 0.76}]
    photo = frame.fit_note("embedded", 8, top, "/tmp/x/chelsea-cat.jpg")
    assert photo.startswith("**Not a ShapesWorld scene.**") and "“star 76%”" in photo
    scene = frame.fit_note("embedded", 8, top, {"path": "/tmp/gradio/abc/shapesworld-star-7.png"})
    assert scene.startswith("A ShapesWorld scene")
    assert "置信度低" in frame.fit_note("embedded", 8, [{"label": "star", "probability": 0.2}], "a.jpg", "zh")
    assert frame.fit_note("package", 1000, top, "a.jpg") == ""  # an ImageNet model on a photo: nothing to add
    assert frame.fit_note("random", 8, top, "a.jpg") == ""  # the status line already says RANDOM


def test_the_shapesworld_examples_are_scenes_the_embedded_transformers_know():
    from core import zoo
    from core.images import load_image

    scenes = frame.shapes_examples()
    assert len(scenes) >= 3 and all(frame.is_shapes_scene(s) for s in scenes)
    for name in ("vit-shapes", "swin-shapes"):
        model = zoo.load_model(name, "embedded")
        for path in scenes:
            label = Path(path).stem.split("-")[1]
            assert zoo.classify(model, load_image(path), 1)[0][0] == label, f"{name} on {Path(path).name}"


def test_the_figure_sheet_keeps_long_titles_whole():
    from core.viz.draw import _font, _font_size, montage, wrap_text

    font = _font(_font_size(0.5))
    title = "Window 3: M²×M² mask (dark = −100), 192 masked entries of the sixteen windows"
    lines = wrap_text(title, 320, font.getlength)
    assert len(lines) == 2 and " ".join(lines) == title and all(font.getlength(x) <= 320 for x in lines)
    assert wrap_text("x" * 10_000, 320, font.getlength)[-1].endswith("…")
    tile = np.zeros((40, 40, 3), np.uint8)
    short, long = montage([tile, tile], ["a", "b"]), montage([tile, tile], ["a", title])
    assert long.shape[0] - short.shape[0] == font.size + 4  # one more line of caption band
    band = long[8:8 + 2 * (font.size + 4), 8 + 320 + 8:]
    ink_rows = np.flatnonzero((band < 100).any(axis=(1, 2)))
    assert ink_rows.min() < font.size + 4 <= ink_rows.max()  # the second line is drawn


def test_the_repmlp_difference_maps_carry_a_colour_scale(cat):
    from core import repmlp
    from core.viz.draw import _BAR_GAP, _BAR_LABELS
    from core.viz.repmlp_viz import map_strip

    maps = np.random.default_rng(0).random((2, 6, 6)) * 1e-7
    plain, barred = map_strip(maps, ["a", "b"], (3, 3)), map_strip(maps, ["a", "b"], (3, 3), colorbar="|d|")
    assert barred.shape[0] == plain.shape[0]
    assert barred.shape[1] == plain.shape[1] + _BAR_GAP + 22 + _BAR_LABELS
    ramp = barred[22:, plain.shape[1] + _BAR_GAP + 11].astype(int)
    assert np.abs(ramp[0] - ramp[-1]).sum() > 200  # top and bottom of the bar differ: a real ramp
    result = repmlp.run(cat, weights="random")
    assert result.images["difference"].shape[1] == result.images["output_train"].shape[1]


def test_a_compare_card_with_a_heatmap_shows_its_colour_scale():
    from core.viz.compare import SCALE_H, Card, render_card

    view = np.full((64, 64, 3), 128, np.uint8)
    plain = render_card(Card("A", "a", view, "Grad-CAM", [("cat", 0.9)]))
    card = render_card(Card("A", "a", view, "Grad-CAM", [("cat", 0.9)], scale=True))
    assert card.shape[0] == plain.shape[0] + SCALE_H
    bar = card[52 + 300 + 8].astype(int)  # the ramp's middle row, under the 300-px view
    assert bar[12, 2] > bar[12, 0] and bar[-12, 0] > bar[-12, 2]  # jet: blue (none) … red (max)


# --------------------------------------------------------------------------------------------- #
# in a real browser


@pytest.fixture(scope="module")
def browser_page(app_url):
    from tests.test_browser import require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEW, device_scale_factor=1)
        page = context.new_page()
        yield page
        context.close()
        browser.close()


_FIGURES = """el => [...el.querySelectorAll('.lenslab-outputs img')]
                        .filter(i => i.complete && i.naturalWidth > 0).map(i => i.src)"""


#: the visible labels of the page's own controls and figures (the classroom tools are bilingual already)
LABELS = """() => [...document.querySelectorAll('[data-testid=block-label], [data-testid=block-info]')]
    .filter(l => l.offsetParent !== null && !l.closest('.lenslab-classroom, .lenslab-question'))
    .map(l => l.textContent.trim()).filter(t => /[A-Za-z]{3}/.test(t) || /[\u3400-\u9fff]/.test(t))"""


def _wait_for_figures(page, before: int) -> None:
    page.wait_for_function(
        """n => document.querySelector('.toast-body.error') !== null
               || [...document.querySelectorAll('.lenslab-outputs img')]
                    .filter(i => i.complete && i.naturalWidth > 0).length > n""", arg=before, timeout=180_000)


def _number_box(page):
    """A number box among the page's controls (a slider's or a Number), opening More settings if need be."""
    def first():
        boxes = page.locator("input[type=number]:visible")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            if box.evaluate("b => !b.closest('.lenslab-outputs, .lenslab-classroom, .lenslab-question')"):
                return box
        return None

    box = first()
    if box is None:
        page.get_by_text("More settings", exact=True).first.click()
        page.wait_for_timeout(400)
        box = first()
    if box is None:
        pytest.fail("no number box among the page's controls")
    return box


def _another_value(box) -> str:
    """A value other than the box's own, inside its bounds (its minimum, maximum or a step away)."""
    low, high, step = (box.get_attribute(a) for a in ("min", "max", "step"))
    now = box.input_value()
    now_f, step_f = float(now or 0), float(step) if step not in (None, "", "any") else 1.0
    options = [low, high, str(now_f + step_f), str(now_f - step_f)]
    for option in options:
        if option in (None, "") or float(option) == now_f:
            continue
        if (low not in (None, "") and float(option) < float(low)) or (high not in (None, "") and
                                                                     float(option) > float(high)):
            continue
        value = float(option)
        return str(int(value)) if value.is_integer() else f"{value:g}"
    pytest.fail(f"no other value for a box at {now} in [{low}, {high}]")


@pytest.mark.browser
@pytest.mark.parametrize("page_info", PAGES, ids=[p.lesson for p in PAGES])
def test_the_page_works_for_a_class_at_1280x720(browser_page, app_url, page_info, cat_path, tmp_path):
    page = browser_page
    page.goto(f"{app_url.rstrip('/')}/{page_info.lesson}", wait_until="domcontentloaded")
    run = page.locator("button.lenslab-run").first
    run.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(500)

    # the main action, and the photo it acts on, are in the first screen
    box = run.bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] >= 0 and box["y"] + box["height"] <= VIEW["height"], f"Run at {box}: off the first screen"
    upload = page.locator("input[type=file]").first
    assert upload.evaluate("i => i.closest('.block').getBoundingClientRect().top") < VIEW["height"] / 2

    photo = tmp_path / f"class-{page_info.lesson}.jpg"
    shutil.copy(cat_path, photo)
    upload.set_input_files(str(photo))
    page.locator(f"img[src*='{photo.name}']").first.wait_for(state="visible", timeout=30_000)
    before = len(page.evaluate(f"() => ({_FIGURES})(document)"))
    run.click()
    _wait_for_figures(page, before)
    error = page.locator(".toast-body.error")
    assert error.count() == 0, f"{page_info.lesson}: {error.first.inner_text()}"
    page.wait_for_timeout(1500)  # the follow-ups: status, captions, sheet

    # every figure shown has its own download
    lacking = page.evaluate("""() => [...document.querySelectorAll('.lenslab-outputs .block')]
        .filter(b => b.querySelector(':scope img') && !b.closest('.gallery') && b.offsetParent !== null
                     && b.querySelector('.image-container'))
        .filter(b => !b.querySelector('[data-testid=download-link], a[download], button[title=Download]'))
        .map(b => (b.querySelector('[data-testid=block-label]') || {}).textContent || b.id)""")
    assert not lacking, f"{page_info.lesson}: figures without a download: {lacking}"

    assert error.count() == 0, f"{page_info.lesson}: {error.first.inner_text()}"  # nor from a follow-up

    # the first screen, as the home page's thumbnail and for review
    page.evaluate("window.scrollTo(0, 0)")
    shot = (SHOTS or tmp_path) / f"{page_info.module.rsplit('.', 1)[-1]}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))

    # 中文 all the way: labels, the Run button, the status line
    labels = page.evaluate(LABELS)
    english = run.inner_text()
    page.locator("#lenslab-lang label", has_text="中文").click()
    page.wait_for_function("old => document.querySelector('button.lenslab-run').innerText !== old",
                           arg=english, timeout=30_000)
    page.wait_for_timeout(1500)
    assert CJK.search(run.inner_text()), run.inner_text()
    chinese = page.evaluate(LABELS)
    changed = sum(a != b for a, b in zip(labels, chinese, strict=False))
    assert changed >= 2 and sum(bool(CJK.search(t)) for t in chinese) >= 0.8 * len(chinese), chinese
    status = page.locator(".lenslab-outputs .lenslab-status").first
    page.wait_for_function("el => /[\\u3400-\\u9fff]/.test(el.innerText)", arg=status.element_handle(),
                           timeout=60_000)  # the status line follows the switch
    shown = page.evaluate("() => [...document.querySelectorAll('.lenslab-header, .lenslab-status, "
                          "[data-testid=block-label], [data-testid=block-info], .lenslab-run')]"
                          ".map(e => e.innerText).join('\\n')")
    assert not i18n.STRAY_SPACE.search(shown), i18n.STRAY_SPACE.search(shown).group()
    assert not EMOJI.search(page.locator(".lenslab-outputs .lenslab-status").first.inner_text())
    page.locator("#lenslab-lang label", has_text="English").click()
    page.wait_for_function("old => document.querySelector('button.lenslab-run').innerText === old",
                           arg=english, timeout=30_000)

    # a typed value (and Enter) re-runs the lesson or marks the figures out of date until Run
    figures = page.evaluate(f"() => ({_FIGURES})(document)")
    number = _number_box(page)
    number.fill(_another_value(number))
    number.press("Enter")
    page.wait_for_timeout(700)
    stale = page.locator(".lenslab-outputs.lenslab-stale").count() > 0
    if stale:
        assert page.locator(".lenslab-stale .lenslab-stale-badge").first.is_visible()
        if page_info.lesson == "attention":  # Run clears the mark once the new figures are there
            run.click()
            page.wait_for_function("() => !document.querySelector('.lenslab-stale')", timeout=120_000)
    else:  # it re-ran: new figures arrive, and nothing is left marked
        page.wait_for_function("old => [...document.querySelectorAll('.lenslab-outputs img')]"
                               ".some(i => i.complete && i.naturalWidth > 0 && !old.includes(i.src))",
                               arg=figures, timeout=120_000)
    error = page.locator(".toast-body.error")
    assert error.count() == 0, f"{page_info.lesson}, after the typed value: {error.first.inner_text()}"


#: every visible thing a student clicks or reads on the page: controls, links, figures, blocks
_OVERLAPS = """() => {
  const openers = [...document.querySelectorAll(
      '.lenslab-classroom-open, .lenslab-classroom > .toggle-button')]
      .filter(e => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')
      .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
  const targets = [...document.querySelectorAll('button, input:not([type=hidden]), select, textarea, '
      + 'a[href], [role=button], [role=slider], [role=radio], [role=tab], img, canvas, .block')]
      .filter(e => e.offsetParent !== null && !e.closest('.lenslab-classroom'));
  const hits = [];
  for (const o of openers) {
    const a = o.getBoundingClientRect();
    for (const t of targets) {
      if (t === o || o.contains(t) || t.contains(o)) continue;
      const b = t.getBoundingClientRect();
      if (b.width === 0 || b.height === 0) continue;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 0.5 && y > 0.5) hits.push(`${o.className} over ${t.tagName}.${t.className} `
          + `"${(t.innerText || t.alt || '').trim().slice(0, 30)}" (${x.toFixed(0)}×${y.toFixed(0)} px)`);
    }
  }
  return {openers: openers.map(o => { const r = o.getBoundingClientRect();
      return [o.className, r.left, r.top, r.width, r.height]; }), hits};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("view", [(1280, 720), (1440, 900)], ids=["1280x720", "1440x900"])
def test_the_classroom_button_covers_nothing_on_any_lesson_page(browser_page, app_url, view):
    """The classroom opener sits in the header row next to the language switch, in space of its own:
    at both projector sizes its box meets no control, link, figure or block of any lesson page, it is
    the only classroom opener shown (Gradio's window-fixed toggle is hidden), and it scrolls away with
    the page instead of floating over what scrolls under it."""
    page, (width, height) = browser_page, view
    page.set_viewport_size({"width": width, "height": height})
    try:  # the shared tab of this module's browser tests, back at 1280×720 afterwards
        for info in PAGES:
            page.goto(f"{app_url.rstrip('/')}/{info.lesson}", wait_until="domcontentloaded")
            page.locator("button.lenslab-run").first.wait_for(state="visible", timeout=60_000)
            opener = page.locator(f"#lenslab-classroom-open-{info.lesson}")
            opener.wait_for(state="visible", timeout=30_000)
            page.wait_for_timeout(600)
            found = page.evaluate(_OVERLAPS)
            assert [o[0] for o in found["openers"]] == [opener.get_attribute("class")], found["openers"]
            assert not found["hits"], f"{info.lesson} at {width}×{height}: {found['hits']}"
            lang = page.locator("#lenslab-lang").bounding_box()
            box = opener.bounding_box()
            assert box["y"] + box["height"] <= height / 4 and box["x"] > lang["x"], (box, lang)
            more = page.get_by_text("More settings", exact=True)  # folded controls, unfolded
            if more.count():
                more.first.click()
                page.wait_for_timeout(400)
                assert not page.evaluate(_OVERLAPS)["hits"], info.lesson
            page.mouse.wheel(0, height)
            page.wait_for_timeout(300)
            moved = opener.bounding_box()
            assert moved is None or moved["y"] < box["y"] - 0.5 * height + 1, (box, moved)
            # it opens the sidebar, whose own toggle then closes it
            page.evaluate("window.scrollTo(0, 0)")
            opener.click()
            side = page.locator(".lenslab-classroom").first
            page.wait_for_function("el => el.getBoundingClientRect().left >= 0",
                                   arg=side.element_handle(), timeout=10_000)
            side.locator(".toggle-button").first.click()
            page.wait_for_function("el => el.getBoundingClientRect().right <= 1",
                                   arg=side.element_handle(), timeout=10_000)
    finally:
        page.set_viewport_size(VIEW)
