"""Classroom mode: links that reopen the exact view, predict-then-reveal questions answered by the result,
slides of the view, the colour-blind-safe palette, and the whole loop in a real browser at 1280×720.

Most of it runs without a browser: a link's query string → ``core.links.parse`` → the page's own
endpoint callback (found by ``apps.classroom``) gives the same summary as ``core``'s ``run`` with the
link's parameters, for every lesson. The browser part opens three lessons by link (a photo, two
ShapesWorld scenes), checks the warning for a bad value, the projector layout, predict-then-reveal and
the slide download.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core import links, quiz
from core.lesson import LESSONS, get_params
from core.viz import slide as slides

CHEAP = {  # one non-default view per lesson, cheap enough for a test
    "attention": "model=vit-shapes&swin_model=swin-shapes&layer=2&head=2&query_x=0.25&query_y=0.5"
                 "&example=chelsea-cat.jpg",
    "swin": "model=swin-shapes&stage=2&block=2&query_row=1&mask_window=2&example=chelsea-cat.jpg",
    "repmlp": "parts=2&kernels=1,3&seed=3&pixel_row=4&example=coffee.jpg",
    "pointrend": "num_points=512&scene=3",
    "simota": "preset=yolox-main&focus_gt=2&scene=13&style=train",
    "diffusion": "model=ddpm-shapes&steps=4&strength=0.5&seed=3&every=2&example=rocket.jpg",
    "compare": "models=resnet-shapes,vit-shapes&heatmap=none&faithfulness=off&latency_runs=1&detectors=none"
               "&example=chelsea-cat.jpg",
    "roi": "model=resnet-shapes&box=40,30,200,180&output_size=5&example=grace-hopper.jpg",
    "receptive": "models=resnet-shapes,vit-shapes&random_init=0&stage=2&query_x=0.3&example=chelsea-cat.jpg",
    "losses": "gamma=1&alpha=0.5&detection=2&blur=1&example=astronaut.jpg",
}
TIMINGS = ("seconds", "latency_ms", "heatmap_ms")


def _query(lesson: str) -> str:
    return CHEAP.get(lesson) or f"example={next(iter(links.bundled_photos()))}"


def _untimed(node):
    """A summary without its wall-clock measurements (the only values two equal runs may differ in)."""
    if isinstance(node, dict):
        return {k: _untimed(v) for k, v in node.items() if k not in TIMINGS}
    if isinstance(node, list):
        return [_untimed(v) for v in node]
    return node


_RESULTS: dict[str, dict] = {}


def core_summary(lesson: str) -> dict:
    """``core``'s summary for the lesson's cheap link (computed once per test session)."""
    if lesson not in _RESULTS:
        _RESULTS[lesson] = links.run(links.parse(lesson, _query(lesson))).to_json()
    return _RESULTS[lesson]


# ------------------------------------------------------------------------------------ links, no UI


def _other_value(p):
    """A valid value different from the default (the default itself when there is no other)."""
    if p.kind == "bool":
        return not p.default
    if p.kind == "choice":
        return next((c for c in p.choices if c != p.default), p.default)
    if p.kind in ("int", "float"):
        lo = p.minimum if p.minimum is not None else p.default - 10
        hi = p.maximum if p.maximum is not None else p.default + 10
        for value in ((p.default + hi) / 2, (p.default + lo) / 2, hi, lo):
            value = int(value) if p.kind == "int" else float(value)
            if value != p.default:
                return value
    return p.default


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_every_parameter_survives_a_link(lesson):
    params = {p.name: _other_value(p) for p in get_params(lesson) if p.kind != "text"}
    photo = next(iter(links.bundled_photos()))
    query = links.to_query(lesson, params, example=photo if "example" not in params else None, present=True,
                           predict=True)
    state = links.parse(lesson, query)
    assert state.problems == []
    expected = {p.name: p.default for p in get_params(lesson)} | params
    assert state.run_params() == expected
    assert (state.present, state.predict) == (True, True)
    assert state.query() == query  # written again exactly as it was read
    # only what differs from the defaults is written, so a default view has a bare link
    assert links.to_query(lesson, {p.name: p.default for p in get_params(lesson)}) == ""


def test_link_values_are_written_shortest_and_read_back_exactly():
    state = links.parse("attention", "query_x=0.123456789&discard_ratio=1e-05&smooth=1&fusion=max")
    assert state.params == {"query_x": 0.123456789, "discard_ratio": 1e-05, "smooth": True, "fusion": "max"}
    assert state.query() == "fusion=max&discard_ratio=1e-05&query_x=0.123456789&smooth=1"
    pointrend = links.parse("pointrend", "size=384&scene=-1")  # a choice that is a number; -1 = no scene
    assert pointrend.params == {"size": 384} and pointrend.scene is None
    assert links.parse("roi", "stride=32&aligned=false").params == {"stride": 32, "aligned": False}


def test_bad_link_values_get_the_apis_messages_and_keep_their_defaults():
    p = {q.name: q for q in get_params("swin")}
    state = links.parse("swin", "stage=9&block=two&model=vit-huge&example=chelsea-cat.jpg&foo=1&__theme=dark")
    for name, value in (("stage", "9"), ("block", "two"), ("model", "vit-huge")):
        with pytest.raises(ValueError) as api:
            p[name].check(value)
        assert str(api.value) in state.problems
    assert any("no setting called 'foo'" in m and "stage" in m for m in state.problems)
    assert state.params == {} and state.example == "chelsea-cat.jpg"  # the rest of the link still works
    assert state.run_params()["stage"] == p["stage"].default
    assert not any("__theme" in m for m in state.problems)  # Gradio's own keys are not ours to judge


@pytest.mark.parametrize("value", ["../../etc/passwd", "/etc/hostname", "assets/images/chelsea-cat.jpg",
                                   ".hidden.jpg", "not-bundled.jpg", "CHELSEA-CAT.JPG"])
def test_only_a_bundled_photo_by_file_name_travels_in_a_link(value):
    state = links.parse("swin", {"example": value})
    assert state.example is None and state.image() is None
    assert len(state.problems) == 1 and "chelsea-cat.jpg" in state.problems[0]
    if "/" in value:
        assert "not a path" in state.problems[0]


def test_scenes_are_linkable_and_bring_what_they_imply():
    from core import assign, pointrend

    image, gt = assign.shapes_scene(13, "heldout")
    state = links.parse("simota", "scene=13&style=heldout")
    assert np.array_equal(state.image(), image) and state.run_params()["gt_boxes"] == gt
    assert state.query() == "scene=13&style=heldout"  # the scene's own GT is not repeated in the link
    edited = links.to_query("simota", {"gt_boxes": "[]"}, scene=13, style="heldout")
    assert links.parse("simota", edited).run_params()["gt_boxes"] == "[]"
    pr = links.parse("pointrend", "scene=3")
    assert pr.run_params()["scene"] == 3 and np.array_equal(pr.image(), pointrend.scene_image(3, 256))
    assert "scene must be" in links.parse("simota", "scene=-4").problems[0]
    assert "style must be" in links.parse("simota", "scene=2&style=fancy").problems[0]
    assert "no setting called 'scene'" in links.parse("swin", "scene=2").problems[0]
    # SimOTA's own "example" parameter (the notes' worked example) keeps its meaning in a link
    notes = links.parse("simota", "example=notes")
    assert notes.params == {"example": "notes"} and notes.example is None


def test_a_page_image_is_recognised_by_content_and_an_upload_is_named_as_such(tmp_path):
    renamed = tmp_path / "IMG_2024.jpg"  # a bundled photo under another name is still that photo
    shutil.copy(links.bundled_photos()["coffee.jpg"], renamed)
    assert links.identify_image("swin", renamed) == links.ImageRef("example", name="coffee.jpg")
    scene = tmp_path / "shapesworld-detect-train-13.png"
    scene.write_bytes(links.scene_png("simota", 13, "train"))
    assert links.identify_image("simota", scene) == links.ImageRef("scene", index=13, style="train")
    fake = tmp_path / "shapesworld-detect-train-14.png"  # the name of a scene, other pixels: an upload
    fake.write_bytes(links.scene_png("simota", 13, "train"))
    upload = links.identify_image("simota", fake)
    assert upload.kind == "upload"
    query, note = links.link_for("simota", {"preset": "yolox-main"}, upload)
    assert query == "preset=yolox-main" and "cannot travel in a link" in note
    assert links.link_for("simota", {}, links.identify_image("simota", scene))[0] == "scene=13&style=train"


# ------------------------------------------------------------- the pages: link → page → same summary


@pytest.fixture(scope="module")
def bound():
    """Every lesson page as the workbench builds it, with what classroom mode found on it."""
    import apps.app  # noqa: F401 - builds every page (classroom.attach runs in each build())
    from apps import classroom

    return classroom.BOUND


def test_classroom_finds_every_lesson_page_and_its_parameters(bound):
    from apps.registry import PAGES

    for page in PAGES:
        b = bound[page.lesson]
        params = {p.name for p in get_params(page.lesson)}
        # the controls are the endpoint's inputs by name, and every one of them is a lesson parameter
        assert set(b.controls) <= params and b.image is not None and b.run is not None
        unbound = params - set(b.controls)
        assert unbound <= {"mode", "model"}, f"{page.lesson}: no control found for {unbound}"
        assert b.summary is not None and b.figures
        assert all("lenslab-hideable" in c.elem_classes for c in b.hideable)
        assert b.summary in b.hideable  # the JSON would give a prediction's answer away
        assert not set(map(id, b.controls.values())) & set(map(id, b.hideable))


def _page_summary(binding, lesson: str, state: links.LinkState) -> dict:
    """What the page's endpoint callback returns for the values a link sets on its controls."""
    from apps import classroom

    fn = binding.endpoint
    updates = classroom._control_updates(binding, list(binding.controls), state, first=False)
    by_comp = {id(binding.controls[n]): u for n, u in zip(binding.controls, updates, strict=True)}
    values = []
    for comp in fn.inputs:
        if comp is binding.image:
            values.append(classroom._image_file(lesson, state))
        elif id(comp) in by_comp and not isinstance(by_comp[id(comp)], dict):
            values.append(by_comp[id(comp)])
        else:
            values.append(comp.value)
    out = fn.fn(*values)
    if hasattr(out, "__next__"):  # a streaming page: its last answer is the result
        *_, out = out
    return out[fn.outputs.index(binding.summary)]


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_a_link_reopens_the_same_result_on_its_page(bound, lesson):
    assert lesson in bound, f"{lesson} is a lesson without a page bound to classroom mode"
    state = links.parse(lesson, _query(lesson))
    assert state.problems == [] and state.given
    page = _page_summary(bound[lesson], lesson, state)
    assert _untimed(page) == _untimed(core_summary(lesson))


# ------------------------------------------------------------------ predict, then reveal: the questions


def _questions(lesson: str, seeds: int = 6) -> list[quiz.Question]:
    summary = core_summary(lesson)
    params = links.parse(lesson, _query(lesson)).run_params()
    found = [quiz.ask(lesson, summary, params, seed) for seed in range(seeds)]
    assert all(q is not None for q in found), f"{lesson}: no question for its result"
    return found


def _window(prompt: str) -> int:
    import re

    return int(re.search(r"window (\d+)", prompt).group(1))


def _anchor(prompt: str) -> int:
    import re

    return int(re.search(r"#(\d+)", prompt).group(1))


@pytest.mark.parametrize("lesson", sorted(quiz.QUESTIONS))
def test_every_question_is_answered_by_the_result_it_is_about(lesson):
    from core import roi, swin

    summary = core_summary(lesson)
    kinds = set()
    for q in _questions(lesson):
        kinds.add(q.kind)
        assert len(set(q.choices)) == len(q.choices) >= 2 and 0 <= q.answer < len(q.choices)
        wrong = next(c for c in q.choices if c != q.right_choice)
        assert q.feedback(q.right_choice)[0] and "Right" in q.feedback(q.right_choice)[1]
        right, text = q.feedback(wrong)
        assert not right and q.right_choice in text and q.prompt and q.prompt_zh
        if q.kind == "masked_count":  # equals the summary's count and the API's mask for that window
            b, k = summary["block"], _window(q.prompt)
            counts = np.asarray(b["masked_counts"])
            assert q.value == counts.ravel()[k]
            mask = swin.shifted_window_mask(*b["padded"], b["window"], b["shift"])
            assert q.value == int((mask[k] != 0).sum()) and q.right_choice == f"{q.value:,}"
        elif q.kind == "rollout_peak":
            assert q.value == summary["rollout"]["peak_patch"]
            assert q.right_choice == f"row {q.value[0] + 1}, column {q.value[1] + 1}"
        elif q.kind == "swin_masked_keys":
            sw = summary["swin"]
            mask = swin.shifted_window_mask(*sw["grid"], sw["window"], sw["shift"])
            row = mask[sw["window_index"], sw["query_in_window"]]
            assert q.value == sw["masked_keys"] == int((row != 0).sum())
        elif q.kind == "step_points":
            from core import pointrend

            k = int(q.prompt.split("step ")[-1].split("**")[0])
            n = summary["num_points"]
            schedule = pointrend.subdivision_schedule(summary["coarse_size"], summary["working_size"], n)
            assert q.value == summary["steps"][k - 1]["points"] == schedule[k - 1][2]
        elif q.kind in ("conflict_winner", "anchor_gt"):  # the GT the assignment really gave the anchor
            assert q.value == summary["simota"]["matched_gt"][_anchor(q.prompt)]
            assert q.right_choice.startswith(f"GT {q.value + 1}")
        elif q.kind == "fpn_level":
            box = np.asarray([summary["box"]["input"]], np.float64)
            assert q.value == summary["fpn"]["level"] == int(roi.fpn_level(box)[0])
            assert q.right_choice == f"P{q.value}"
        elif q.kind == "most_macs":
            best = max(summary["models"], key=lambda m: m["gmacs"])
            assert q.value == (best["title"] or best["name"])
        elif q.kind == "widest_erf":
            best = max((row[0] for row in summary["models"]), key=lambda m: m["erf_side90"])
            assert q.value == best["model"]
        elif q.kind == "theoretical_rf":
            m = next(row[0] for row in summary["models"] if row[0]["model"] in q.prompt)
            assert q.value == m["reach"]["size"] == m["per_stage"][m["stage"] - 1]["theoretical"]
        elif q.kind == "sdedit_start":
            assert q.value == summary["start_t"] == summary["timesteps"][0]
        elif q.kind == "locality":
            loc = summary["locality"]
            plain, rep = loc["mass_in_box_plain_fc"], loc["mass_in_box_rep_fc"]
            assert q.value == [plain, rep]
            assert q.right_choice.startswith("the plain" if plain > rep + 0.02 else "the FC trained"
                                             if rep > plain + 0.02 else "about")
        elif q.kind == "deploy_params":
            assert q.value == summary["demo_block"]["params_deploy"]
        elif q.kind == "axial_field":  # the union of the page's fixed reads of one output position
            from core import mlp_ops

            asm = summary["asmlp"]
            cell = (min(13, int(summary["query"]["y"] * 14)), min(13, int(summary["query"]["x"] * 14)))
            sets = [mlp_ops.axial_offsets(384, asm["shift_size"], dim, asm["dilation"]) for dim in (2, 3)]
            union = sum(mlp_ops.support(o, (14, 14), cell).any(0) for o in sets).bool()
            assert q.value == asm["union_cells"] == int(union.sum()) and q.right_choice == str(q.value)
        elif q.kind == "easy_share":  # the focal-loss share of the easy negatives, as the summary has it
            total = summary["focal"]["total"]
            assert q.value == total["FL"]["easy negatives"] and q.right_choice == f"{q.value:.0%}"
            assert f"{total['BCE']['easy negatives']:.0%}" in q.prompt
        elif q.kind == "merged_centre":
            merged = np.asarray(summary["kernel"]["merged"])
            assert q.value == merged[1, 1] and q.right_choice == f"{q.value:.4f}"
            pieces = [np.asarray(r["folded"])[1, 1] for r in summary["kernel"]["rows"]]
            assert q.value == pytest.approx(sum(pieces))
        else:
            raise AssertionError(f"untested question kind {q.kind}")
    assert kinds, lesson


def test_questions_follow_the_result_not_a_script():
    """Another result, another answer: SimOTA's notes example, a Swin block without a shift."""
    notes = links.run(links.parse("simota", "example=notes")).to_json()
    q = quiz.ask("simota", notes, {}, seed=0)
    assert q.kind == "notes_dynamic_k" and q.value == notes["dynamic_k"][int(q.prompt.split("GT ")[1][0]) - 1]
    summary = json.loads(json.dumps(core_summary("swin")))
    summary["block"].update(shift=0, masked_counts=np.zeros_like(summary["block"]["masked_counts"]).tolist())
    q = quiz.ask("swin", summary, {}, seed=0)
    assert q.value == 0 and q.right_choice == "0" and "not shifted" in q.prompt
    assert quiz.ask("swin", None) is None and quiz.ask("no-such-lesson", summary) is None


def test_every_lesson_has_questions_and_a_formula():
    for lesson in LESSONS:
        assert quiz.has_questions(lesson), f"{lesson}: add a question generator to core.quiz.QUESTIONS"
        assert lesson in slides.FORMULAS, f"{lesson}: add its key formula to core.viz.slide.FORMULAS"


# --------------------------------------------------------------------------------------------- slides


def _ink(region: np.ndarray, light: bool = False) -> int:
    """Pixels of text in a region: light on the title band, dark (or coloured) on white elsewhere."""
    if light:
        return int((region.min(axis=2) > 200).sum())
    return int((region.min(axis=2) < 140).sum())


def test_the_slide_is_1920_by_1080_with_its_text_burned_in(cat):
    link = "http://127.0.0.1:7860/swin?stage=2&example=chelsea-cat.jpg"
    weights = ["Swin-Micro/W4 · ShapesWorld · embedded weights", "Swin V2-T/W8 · RANDOM weights — untrained"]
    picture = slides.render_slide("Swin windows", [(cat, "Token grid"), (cat[:, ::-1], "Cyclic shift")],
                                  {"stage": 2, "block": 2, "model": "swin-tiny"}, lesson="swin",
                                  subtitle="How Swin splits the image", weights=weights, link=link)
    bare = slides.render_slide("", [], {}, formula=("", ""))
    assert picture.shape == bare.shape == (1080, 1920, 3) and picture.dtype == np.uint8
    L = slides.LAYOUT

    def crop(img, box):
        x0, y0, x1, y1 = box
        return img[y0:y1, x0:x1]

    assert _ink(crop(picture, L.title), light=True) > 3000  # the title in white on the band
    assert _ink(crop(bare, (0, 0, 1700, 120)), light=True) == 0
    for box, least in ((L.formula, 3000), (L.params, 800), (L.weights, 1500), (L.footer, 800)):
        assert _ink(crop(picture, box)) > _ink(crop(bare, box)) + least, box  # more than the headings
    for box in (L.formula, L.footer):
        assert _ink(crop(bare, box)) == 0
    # the untrained model's line is in vermillion, the trained one's in ink
    weights_region = crop(picture, L.weights).reshape(-1, 3).astype(int)
    assert (np.abs(weights_region - (213, 94, 0)).sum(1) < 60).sum() > 200
    # the figures are the photo, scaled to fit (not stretched): the left cell's picture is the cat
    x0, y0, x1, y1 = L.figures
    left = picture[y0 + 34: y1, x0: (x0 + x1) // 2 - 12]  # under the caption strip
    rows = np.where(left.min(axis=(1, 2)) < 250)[0]
    cols = np.where(left.min(axis=(0, 2)) < 250)[0]
    drawn = left[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    assert abs(drawn.shape[1] / drawn.shape[0] - cat.shape[1] / cat.shape[0]) < 0.02
    import cv2

    small = cv2.resize(cat, (drawn.shape[1], drawn.shape[0]), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(small - drawn).mean() < 12


def test_the_slide_png_carries_the_link_and_the_results_digest(cat):
    from PIL import Image

    summary = {"block": {"masked_counts": [[0, 128]]}, "x": 0.1}
    data = slides.slide_png(slides.render_slide("T", [(cat, "c")], {"a": 1}), title="T", link="http://h/swin?a=1",
                            summary=summary, params={"a": 1})
    png = Image.open(io.BytesIO(data))
    assert png.size == (1920, 1080) and png.info["LensLab-Link"] == "http://h/swin?a=1"
    assert png.info["LensLab-Summary-SHA256"] == slides.summary_digest(json.loads(json.dumps(summary)))
    assert json.loads(png.info["LensLab-Params"]) == {"a": 1}


def test_the_weights_used_are_read_from_any_lessons_summary():
    assert slides.weights_lines(core_summary("swin")) == [core_summary("swin")["model"]["status"],
                                                          core_summary("swin")["v2"]["status"]]
    assert slides.weights_lines({"locality": {"weights": {"fc": "embedded", "rep": "random"}}}) == [
        "locality.weights.fc: embedded", "locality.weights.rep: random"]
    assert slides.weights_lines(None) == []


def test_every_formula_is_valid_mathtext():
    from matplotlib.mathtext import MathTextParser

    for lesson, (expr, gloss) in slides.FORMULAS.items():
        MathTextParser("agg").parse(expr, dpi=100)
        assert gloss, lesson


# --------------------------------------------------------------------------------------------- colours


def test_every_categorical_colour_table_is_colour_blind_safe():
    import inspect

    from core import compare
    from core.viz import assign, attention_viz, draw, palette, pointrend, receptive, roi
    from core.viz import compare as compare_viz
    from core.viz import diffusion as diffusion_viz

    tables = {
        "draw.PALETTE": draw.PALETTE,
        "attention_viz labels": inspect.signature(attention_viz.label_image).parameters["palette"].default,
        "assign.STATE_COLOURS": list(assign.STATE_COLOURS.values()),
        "assign.GT_COLOURS": assign.GT_COLOURS, "assign.CONFLICT": [assign.CONFLICT],
        "pointrend points": [pointrend.IMPORTANCE_RED, pointrend.COVERAGE_BLUE, pointrend.CHANGED_YELLOW],
        "pointrend classes": pointrend.class_colors(9)[1:].tolist(),
        "compare.AGREE_COLOURS": compare.AGREE_COLOURS,
        "compare cards": [compare_viz.BAR, compare_viz.BAR_TOP, compare_viz.WARN],
        "roi.GROUP_COLOURS": roi.GROUP_COLOURS,
        "receptive": [*receptive.OKABE_ITO, *receptive.REACH_COLOURS.values()],
        "diffusion schedules": list(diffusion_viz._SCHEDULE_COLORS.values()),
    }
    for name, colours in tables.items():
        assert palette.is_colour_blind_safe(colours), f"{name}: {colours}"
    assert not palette.is_colour_blind_safe([(148, 103, 189)])  # the Tableau purple of the old palette
    assert len(set(palette.CATEGORICAL)) == len(palette.CATEGORICAL) == 9


# ---------------------------------------------------------------------------- in a browser, 1280×720

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def projector(app_url):
    """A 1280×720 browser tab (a classroom projector) on the workbench."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1,
                                      accept_downloads=True)
        page = context.new_page()
        yield page, app_url.rstrip("/")
        context.close()
        browser.close()


def _open(page, base: str, lesson: str, query: str) -> None:
    """Open a lesson by link and wait until the link's run (if any) has delivered its result."""
    page.goto(f"{base}/{lesson}?{query}", wait_until="domcontentloaded")
    page.wait_for_function("() => document.body.dataset.lenslabRestored !== undefined", timeout=180_000)
    before = page.evaluate("document.body.dataset.lenslabRestored")
    if before != "idle":
        _wait_result(page, lesson, int(before))


def _results(page, lesson: str) -> int:
    return int(float(page.input_value(f"#lenslab-results-{lesson} input") or 0))


def _wait_result(page, lesson: str, before: int) -> None:
    page.wait_for_function(
        "([id, n]) => Number(document.querySelector('#' + id + ' input').value) > n",
        arg=[f"lenslab-results-{lesson}", before], timeout=180_000)
    page.wait_for_timeout(500)  # the link and the question follow the result


def _link(page, lesson: str) -> str:
    return page.input_value(f"#lenslab-link-{lesson} textarea")


def _sidebar(page, lesson: str, open_: bool) -> None:
    side = page.locator(".lenslab-classroom").first
    is_open = side.bounding_box()["x"] >= 0
    if is_open != open_:  # opened from the header's button, closed by the sidebar's own toggle
        opener = page.locator(f"#lenslab-classroom-open-{lesson}")
        (side.locator(".toggle-button").first if is_open else opener).click()
        page.wait_for_timeout(400)


def _slide(page, lesson: str, tmp_path: Path):
    from PIL import Image

    _sidebar(page, lesson, True)
    with page.expect_download(timeout=120_000) as download:
        page.locator(f"#lenslab-slide-{lesson}").click()
    path = tmp_path / f"{lesson}-slide.png"
    download.value.save_as(path)
    png = Image.open(path)
    png.load()
    return png


@pytest.mark.browser
@pytest.mark.usefixtures("chromium")
def test_a_link_reopens_swin_warns_about_a_bad_value_and_the_slide_carries_it(projector, tmp_path):
    page, base = projector
    stage = {p.name: p for p in get_params("swin")}["stage"]
    with pytest.raises(ValueError) as api:
        stage.check("9")
    page.goto(f"{base}/swin?stage=9&block=1&example=chelsea-cat.jpg", wait_until="domcontentloaded")
    page.locator(".toast-body", has_text=str(api.value)).first.wait_for(timeout=120_000)  # the API's words
    page.wait_for_function("() => document.body.dataset.lenslabRestored !== undefined", timeout=180_000)
    _wait_result(page, "swin", int(page.evaluate("document.body.dataset.lenslabRestored")))
    # the page opened with the link's block and photo, and stage at its default: the link says so
    assert _link(page, "swin") == f"{base}/swin?block=1&example=chelsea-cat.jpg"
    assert page.url == _link(page, "swin")
    png = _slide(page, "swin", tmp_path)
    assert png.size == (1920, 1080) and png.info["LensLab-Link"] == _link(page, "swin")
    reopened = links.run(links.parse("swin", "block=1&example=chelsea-cat.jpg")).to_json()
    assert png.info["LensLab-Summary-SHA256"] == slides.summary_digest(reopened)  # the same result
    assert json.loads(png.info["LensLab-Params"])["block"] == 1
    # an upload cannot travel: the link keeps the settings and the page says why the photo is missing
    from core.images import load_image
    from core.viz import to_png_bytes

    upload = tmp_path / "my-own-photo.png"
    upload.write_bytes(to_png_bytes(load_image(links.bundled_photos()["chelsea-cat.jpg"])[::2, ::2]))
    before = _results(page, "swin")
    page.locator("input[type=file]").first.set_input_files(str(upload))
    _wait_result(page, "swin", before)
    assert _link(page, "swin") == f"{base}/swin?block=1"
    assert "cannot travel in a link" in page.locator("#lenslab-note-swin").inner_text()


def _contrast(fg: str, bg: str) -> float:
    import re

    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.browser
@pytest.mark.usefixtures("chromium")
def test_presenter_view_and_predict_then_reveal_on_a_pointrend_scene(projector, tmp_path):
    page, base = projector
    query = "num_points=512&scene=3"
    _open(page, base, "pointrend", f"{query}&present=1&predict=1")
    body = page.evaluate("document.body.className")
    assert "lenslab-present" in body and "lenslab-predict" in body
    # predict first: every result on the page is hidden, and the question is about this result
    visibility = "els => els.map(e => getComputedStyle(e).visibility)"
    hidden = page.eval_on_selector_all(".lenslab-hideable.block", visibility)
    assert hidden and set(hidden) == {"hidden"}
    params = links.parse("pointrend", query).run_params()
    question = quiz.ask("pointrend", core_summary("pointrend"), params, seed=0)
    assert question.prompt.split("**")[1] in page.locator(".prose.lenslab-question").inner_text()
    page.locator("#lenslab-choices-pointrend label", has_text=question.right_choice).first.click()
    page.locator("#lenslab-check-pointrend").click()
    page.wait_for_function("() => document.body.classList.contains('lenslab-revealed')", timeout=60_000)
    assert "Right" in page.locator("#lenslab-feedback-pointrend").inner_text()
    shown = page.eval_on_selector_all(".lenslab-hideable.block", visibility)
    assert set(shown) == {"visible"}
    # the projector layout at 1280×720: controls folded away, figures full width, large, high-contrast
    _sidebar(page, "pointrend", False)
    controls = page.eval_on_selector_all(".lenslab-controls",
                                         "els => els.map(e => getComputedStyle(e).display)")
    assert controls and set(controls) == {"none"}
    assert not page.locator("input[type=file]").first.is_visible()
    width = page.evaluate("() => document.querySelector('.lenslab-figure').getBoundingClientRect().width")
    assert width > 0.9 * 1280 - 80
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.lenslab-header p')).fontSize)")
    assert size >= 19.5
    label = page.evaluate("""() => { const l = document.querySelector('.lenslab-figure > label');
        const s = getComputedStyle(l); return [s.color, s.backgroundColor]; }""")
    assert _contrast(*label) >= 7.0
    shot = tmp_path / "pointrend-presenter-1280x720.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.usefixtures("chromium")
def test_a_shapesworld_scene_link_reopens_simota_and_its_slide(projector, tmp_path):
    page, base = projector
    query = CHEAP["simota"]
    _open(page, base, "simota", query)
    assert _link(page, "simota") == f"{base}/simota?{query}"
    png = _slide(page, "simota", tmp_path)
    assert png.size == (1920, 1080)
    assert png.info["LensLab-Summary-SHA256"] == slides.summary_digest(core_summary("simota"))
