"""Text inside figures in the page's language (issue 26): the bundled CJK subset draws every Chinese figure
text as glyphs (not the empty ".notdef" box), the language travels through core.viz.words only inside
``language()`` (per request, English by default), English figures are exactly what OpenCV drew before,
and the RoI page's figures carry Chinese when the page is in 中文.
"""

from __future__ import annotations

import importlib
import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.lesson import LESSONS
from core.viz import fonts, words
from core.viz.draw import _text, put_text


@pytest.fixture(scope="module")
def templates() -> list[str]:
    found = fonts.all_templates()  # each lesson and drawing module registers its figure texts on import
    assert all(importlib.import_module(t.split(":")[0]) for t in LESSONS.values())
    return found


def _ink(text: str, font) -> np.ndarray:
    canvas = Image.new("L", (8 + int(font.getlength(text)) + 8, font.size * 2), 0)
    ImageDraw.Draw(canvas).text((8, font.size // 2), text, font=font, fill=255)
    return np.asarray(canvas) > 96


def test_the_subset_font_holds_every_character_of_every_chinese_figure_text(templates):
    assert templates and all(fonts.has_cjk(t) for t in templates if t != words.ZH.get("  <- k"))
    for template in templates:
        assert fonts.missing(template) == "", f"rebuild the subset (python -m core.viz.fonts): {template!r}"
    assert fonts.missing(fonts.EXTRA) == ""
    assert fonts.CJK_FONT.stat().st_size < 300_000  # a subset, not the 16 MB font
    assert (fonts.FONT_DIR / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") == 1
    assert fonts.missing("龘") == "龘"  # a character no figure uses is not in it (the check can fail)


def test_every_chinese_character_is_drawn_as_its_glyph_not_the_notdef_box(templates):
    font = fonts.pil_font(24, cjk=True)
    notdef = _ink("\U000f0000", font)  # a private-use character: no font has it, the .notdef box
    assert notdef.sum() > 20  # the subset keeps its .notdef outline, so a missing glyph is visible
    chars = sorted({c for t in templates for c in t if fonts.has_cjk(c)})
    assert len(chars) > 30
    for ch in chars:
        ink = _ink(ch, font)
        assert ink.sum() > 0 and (ink.shape != notdef.shape or not np.array_equal(ink, notdef)), ch
    # DejaVu Sans has no Chinese: what it draws for a Chinese character is its own .notdef box
    dejavu = fonts.pil_font(24)
    assert np.array_equal(_ink("像", dejavu), _ink("\U000f0000", dejavu))
    assert fonts.font_for("像素", 24).path == str(fonts.CJK_FONT)
    assert fonts.font_for("pixels ×½", 24).path == str(fonts.dejavu_path())


def test_the_language_is_english_outside_language_and_belongs_to_one_thread():
    template = "{px:.1f} px = {cells:.1f} mask cells"
    assert words.current() == "en" and words.say(template, px=1, cells=2) == "1.0 px = 2.0 mask cells"
    with words.language("zh"):
        assert words.say(template, px=1, cells=2) == "1.0 像素 = 2.0 个掩码格子"
        assert words.say("no Chinese for this one") == "no Chinese for this one"
        seen = []
        thread = threading.Thread(target=lambda: seen.append(words.current()))
        thread.start()
        thread.join()
        assert seen == ["en"]  # another request's figures are not drawn in this one's language
        with words.language("fr"):
            assert words.current() == "en"
    assert words.current() == "en"
    with pytest.raises(ValueError, match="already has the Chinese"):
        words.register({template: "别的译文"})


def test_a_streamed_event_draws_every_step_in_the_language_and_leaves_the_caller_english():
    import inspect

    import gradio as gr

    from apps import i18n

    def stream(n, progress=gr.Progress()):  # noqa: B008 - Gradio's way of asking for a tracker
        for i in range(n):
            yield i, words.current(), words.say("circle")
        return "done"

    wrapped = i18n.in_figures(stream)
    assert inspect.isgeneratorfunction(wrapped)  # gradio must still see a streaming event
    # the language before the tracker, which Gradio inserts at its own place (classroom mode leaves it out)
    assert list(inspect.signature(wrapped).parameters) == ["n", "lang", "progress"]
    assert [c for _, c, _ in wrapped(1, "zh")] == ["zh"]
    steps = wrapped(3, "zh", None)
    seen = []
    while True:
        assert words.current() == "en"  # between steps the caller's context is its own
        try:
            seen.append(next(steps))
        except StopIteration as stop:
            assert stop.value == "done"  # the generator's return value comes through
            break
    assert seen == [(0, "zh", "圆"), (1, "zh", "圆"), (2, "zh", "圆")]
    assert list(wrapped(2)) == [(0, "en", "circle"), (1, "en", "circle")]  # no language: English
    with words.language("zh"):  # a caller in Chinese asking for English gets English in every step
        assert [c for _, c, _ in wrapped(2, "en", None)] == ["en", "en"] and words.current() == "zh"


def test_put_text_keeps_opencv_for_english_and_draws_chinese_in_the_subset():
    import cv2

    a = np.full((30, 300, 3), 255, np.uint8)
    b = a.copy()
    cv2.putText(a, "vote = mean = 0.125", (2, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    put_text(b, "vote = mean = 0.125", (2, 18), 0.42, (0, 0, 0))
    assert np.array_equal(a, b)  # English pictures are exactly what they were
    c = np.full((30, 300, 3), 255, np.uint8)
    d = c.copy()
    put_text(c, "投票 = 均值 = 0.125", (2, 18), 0.42, (0, 0, 0))
    _text(d, "投票 = 均值 = 0.125", (2, 18), 0.42, (0, 0, 0))
    assert np.array_equal(c, d) and (c < 128).sum() > 100


def test_matplotlib_draws_chinese_with_the_subset_as_its_fallback():
    import warnings

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def draw(family):
        fig = Figure(figsize=(2, 0.6), dpi=100)
        fig.text(0.05, 0.3, "偏移 (px)", family=list(family), fontsize=14)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            FigureCanvasAgg(fig).draw()
        return [str(w.message) for w in caught if "missing from font" in str(w.message)]

    assert draw(("DejaVu Sans",))  # DejaVu alone has no Chinese: matplotlib says so (the check can fail)
    assert draw(fonts.matplotlib_family()) == []


def _strip(img: np.ndarray, text: str, org: tuple[int, int], scale: float) -> np.ndarray:
    """``text`` drawn alone where a picture draws it, on white: what that part of the picture must be."""
    out = np.full_like(img, 255)
    put_text(out, text, org, scale, (0, 0, 0))
    return out


def test_the_roi_figures_carry_chinese_when_the_page_is_in_chinese(cat_path):
    from apps import roi as page

    demo = page.build()
    endpoint = next(f for f in demo.fns.values() if f.api_name == "roi")
    args = [str(cat_path), "resnet50", "auto", "", 16, 512, 7, 2, True, "", -1, 3, -1]
    en = dict(zip(page.IMAGE_KEYS, endpoint.fn(*args, "en"), strict=False))
    zh = dict(zip(page.IMAGE_KEYS, endpoint.fn(*args, "zh"), strict=False))
    api = dict(zip(page.IMAGE_KEYS, endpoint.fn(*args), strict=False))  # a call without the language
    for key in page.IMAGE_KEYS:
        assert np.array_equal(api[key], en[key]), key
    for key in ("overview", "roi_pool", "roi_align", "aligned", "ps_maps"):  # no words in these
        assert np.array_equal(en[key], zh[key]), key
    # the bilinear read: its bottom line is the Chinese sentence, drawn in the subset, and nothing else moved
    summary = endpoint.fn(*args, "zh")[len(page.IMAGE_KEYS)]
    probe = summary["roi_align"]["probe"]
    y, x = probe["point_yx"]
    with words.language("zh"):
        line = words.say("value = sum w*v = {value:.4f}   (point y={y:.3f}, x={x:.3f})", value=probe["value"],
                         y=y, x=x)
    assert fonts.has_cjk(line) and fonts.missing(line) == ""
    b_en, b_zh = en["bilinear"], zh["bilinear"]
    rows = slice(b_zh.shape[0] - 34, b_zh.shape[0])
    assert np.array_equal(b_en[: rows.start], b_zh[: rows.start])
    assert np.array_equal(b_zh[rows], _strip(b_zh, line, (8, b_zh.shape[0] - 14), 0.45)[rows])
    # the misalignment chart's words and the FPN tags change too
    assert not np.array_equal(en["misalignment"], zh["misalignment"])
    assert not np.array_equal(en["fpn"][:26], zh["fpn"][:26])
    assert np.array_equal(en["fpn"][30:], zh["fpn"][30:])  # the panels themselves are the same


def test_the_simota_figures_carry_chinese_when_the_page_is_in_chinese():
    from apps import detect as page

    demo = page.build()
    endpoint = next(f for f in demo.fns.values() if f.api_name == "simota")
    args = [None, "yolox-shapes", "auto", "", "yolox-0.3", "SimOTA", 1, 0.3, "notes"]  # the notes' example
    en, zh = endpoint.fn(*args, "en"), endpoint.fn(*args, "zh")
    assert len(en) == len(endpoint.outputs) == 10
    for a, b in zip(en[:7], zh[:7], strict=True):  # all seven figures have words, and they change
        assert a.ndim == b.ndim == 3 and not np.array_equal(a, b)
    with words.language("zh"):
        title = words.say("before: each GT takes its k cheapest candidates (cell text = cost)")
    assert fonts.has_cjk(title) and fonts.missing(title) == ""
    matching = zh[5]  # the matching chart: its first 30 rows are the upper panel's title and nothing else
    strip = np.full((30, matching.shape[1], 3), 255, np.uint8)
    put_text(strip, title, (8, 22), 0.6, (20, 20, 20))
    assert np.array_equal(matching[:30], strip)


def test_the_repvgg_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import repvgg_lesson
    from core.viz import repvgg as pictures
    from core.viz.draw import caption_bar

    en = repvgg_lesson.run(cat, speed=False).images
    with words.language("zh"):
        zh = repvgg_lesson.run(cat, speed=False).images
        title = caption_bar(words.say("network input"), pictures.TILE, 22, 0.4)
    assert set(en) == set(zh) and len(en) >= 5
    for key in en:  # every figure of the page has words, and they change
        assert not np.array_equal(en[key], zh[key]), key
    assert fonts.has_cjk(words.ZH["network input"])
    # the branches picture's first tile is titled in Chinese (the subset's glyphs); its map did not move
    assert np.array_equal(zh["branches"][:22, :pictures.TILE], title)
    assert np.array_equal(zh["branches"][22:22 + pictures.TILE, :pictures.TILE],
                          en["branches"][22:22 + pictures.TILE, :pictures.TILE])


def test_the_pointrend_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import pointrend
    from core.viz import pointrend as pictures

    en = pointrend.run(cat).images
    with words.language("zh"):
        zh = pointrend.run(cat).images
        legend = pictures.legend(["circle", "square"], pictures.class_colors(3)[1:], 300)
    for key in en:  # every figure has words (titles, legends), and they change
        assert not np.array_equal(en[key], zh[key]), key
    assert words.ZH["circle"] == "圆" and fonts.missing("圆正方形") == ""
    # the legend of the comparison: the class names in Chinese, drawn in the subset (not the .notdef box)
    english = pictures.legend(["circle", "square"], pictures.class_colors(3)[1:], 300)
    assert legend.shape == english.shape and not np.array_equal(legend, english)
    assert (legend < 100).any(axis=2).sum() > 60


def test_the_attention_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from apps import attention as page
    from core import attention
    from core.viz.attention_viz import GRID_GAP, GRID_TITLE
    from core.viz.draw import caption_bar

    en = attention.run(cat)
    with words.language("zh"):
        zh = attention.run(cat)
        vit, swin = page._figures(zh)
    for key in en.images:  # the colour bars' "weight" (rollout keeps its name) and the window-rows titles
        assert np.array_equal(en.images[key], zh.images[key]) == (key == "rollout"), key
    assert zh.captions["cls_attention"] == "CLS → patch · 第 4 层，第 1 个头"
    # the window-rows table: its first tile's title is "加掩码" drawn alone, in the subset's glyphs
    m = zh.summary["swin"]["window"]
    width = max(24, 280 // m) * m
    title = np.full((30, width, 3), 255, np.uint8)
    put_text(title, "加掩码", (6, 21), 0.6, (30, 30, 30))
    rows = zh.images["swin_rows"]
    assert np.array_equal(rows[:30, :width], title) and (title < 128).any(axis=2).sum() > 40
    assert np.array_equal(rows[30:, :width], en.images["swin_rows"][30:, :width])  # the cells did not move
    # the page's grid: the Swin pair's right panel is titled in Chinese
    right = swin[:GRID_TITLE, attention.PANEL_WIDTH + GRID_GAP:2 * attention.PANEL_WIDTH + GRID_GAP]
    expected = caption_bar("不加掩码：其他区域的 key 混了进来", attention.PANEL_WIDTH, GRID_TITLE, 0.7)
    assert np.array_equal(right, expected)
    assert vit.shape == page._figures(en)[0].shape


def test_the_swin_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import swin

    en = swin.run(cat)
    with words.language("zh"):
        zh = swin.run(cat)
    wordless = ("window_grid", "shifted_regions", "region_map")  # photos and region ids: no words in them
    for key in en.images:  # colour bars, head titles, the v2 chart and tile titles change
        assert np.array_equal(en.images[key], zh.images[key]) == (key in wordless), key
    assert "掩码" in zh.figures["window_mask"].layout.title.text
    # Swin v2's left tile is titled "训练时的窗口 8：15×15", drawn alone in the subset; its map did not move
    trained = zh.summary["v2"]["trained_window"]
    v2, v2_en = zh.images["v2_bias"], en.images["v2_bias"]
    top = v2.shape[0] - 330  # pad_top's white strip, then the 30-row title above the 300-px tiles
    title = np.full((30, 300, 3), 255, np.uint8)
    n = 2 * trained - 1
    put_text(title, f"训练时的窗口 {trained}：{n}×{n}", (6, 21), 0.6, (30, 30, 30))
    assert np.array_equal(v2[top:top + 30, :300], title) and (title < 128).any(axis=2).sum() > 60
    assert np.array_equal(v2[top + 30:, :300], v2_en[top + 30:, :300])


def test_the_repmlp_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import repmlp
    from core.viz.draw import caption_bar

    en = repmlp.run(cat)
    with words.language("zh"):
        zh = repmlp.run(cat)
    for key in en.images:  # every picture has words (captions, tile names, titles), and they change
        assert not np.array_equal(en.images[key], zh.images[key]), key
    # the training-time outputs: the caption above them is the Chinese sentence drawn alone, the tile names
    # below it are Chinese, and the maps themselves did not move
    picture, english = zh.images["output_train"], en.images["output_train"]
    caption = "训练时的块：FC+BN 加上 conv+BN 分支（eval 模式）"
    assert zh.captions["output_train"] == caption and fonts.missing(caption) == ""
    assert np.array_equal(picture[:28], caption_bar(caption, picture.shape[1], 28, 0.5))
    assert not np.array_equal(picture[28:50], english[28:50])  # "输出 0" instead of "out 0"
    assert np.array_equal(picture[50:], english[50:])
    assert zh.figures["fc_structure"].layout.title.text.startswith("FC 矩阵 — ")


def test_the_compare_cards_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import compare
    from core.viz import compare as cards

    args = dict(models="resnet-shapes", weights="embedded", latency_runs=1, detectors="none")
    en = compare.run(cat, **args)
    with words.language("zh"):
        zh = compare.run(cat, **args)
    top = zh.summary["models"][0]["top"][0][0]
    assert top in words.ZH and fonts.has_cjk(words.ZH[top])  # a ShapesWorld class: drawn in Chinese
    # the card's header: the model's title (English) over "resnet-shapes · 内置 · ShapesWorld", drawn alone
    header = Image.new("RGB", (300, 52), cards.HEADER)
    draw = ImageDraw.Draw(header)
    title = zh.summary["models"][0]["title"]
    draw.text((10, 6), cards._fit(draw, title, 18, 280), font=cards.font(18), fill=(255, 255, 255))  # "…"
    draw.text((10, 30), "resnet-shapes · 内置 · ShapesWorld", font=fonts.pil_font(13, cjk=True),
              fill=(214, 218, 255))
    card, english = zh.images["classifiers"], en.images["classifiers"]
    gap = 12  # side_by_side's white border
    assert np.array_equal(card[gap:gap + 52, gap:gap + 300], np.asarray(header))
    assert not np.array_equal(card[gap + 30:gap + 52], english[gap + 30:gap + 52])
    assert np.array_equal(card[gap:gap + 28], english[gap:gap + 28])  # the title row is the same
    assert "延迟" in zh.figures["cost"].layout.yaxis.title.text


def test_the_losses_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import losses_lesson

    en = losses_lesson.run(cat)
    with words.language("zh"):
        zh = losses_lesson.run(cat)
    for key in en.images:  # every figure has words (legends, axes, notes), and they change
        assert not np.array_equal(en.images[key], zh.images[key]), key
    assert zh.summary["dfl"]["detection"] == en.summary["dfl"]["detection"]  # the API's words stay English
    # the loss-share chart's legend: "正样本" (positives) drawn alone right of its colour swatch
    chart, english = zh.images["loss_shares"], en.images["loss_shares"]
    alone = np.full((30, 300, 3), 255, np.uint8)
    _text(alone, "正样本", (166, 21), 0.38)
    assert np.array_equal(chart[:30, 163:300], alone[:, 163:300]) and (alone < 128).any(axis=2).sum() > 30
    assert np.array_equal(chart[:30, :163], english[:30, :163])  # the swatch did not move
    assert words.ZH["left_knee"] == "左膝" and fonts.missing("左膝") == ""


def test_the_receptive_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import receptive_lesson
    from core.viz.draw import caption_bar

    en = receptive_lesson.run(cat)
    with words.language("zh"):
        zh = receptive_lesson.run(cat)
    for key in en.images:  # ERF captions and legend, the growth charts, the block costs, HRNet's streams
        assert not np.array_equal(en.images[key], zh.images[key]), key
    assert zh.summary == en.summary  # the API's numbers and words are the same
    # HRNet: the photo under the streams diagram is titled "输入" (input), drawn alone; the photo did not move
    hrnet, english = zh.images["hrnet"], en.images["hrnet"]
    assert np.array_equal(hrnet[-204:-180, :180], caption_bar("输入", 180, 24, 0.42))
    assert np.array_equal(hrnet[-180:, :180], english[-180:, :180])


def test_the_mlp_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from core import mlp
    from core.viz import mlp as pictures
    from core.viz.attention_viz import GRID_TITLE
    from core.viz.draw import caption_bar

    en = mlp.run(cat)
    with words.language("zh"):
        zh = mlp.run(cat)
    for key in en.images:  # panel titles, colour-bar units, the locality legend, the cost chart's words
        if key == "fixed":  # titled in symbols only ("1×k c0", "c3: +1", "×2 → 13"): no words to translate
            assert np.array_equal(en.images[key], zh.images[key]), key
        else:
            assert not np.array_equal(en.images[key], zh.images[key]), key
    # the "who feeds" figure: ResMLP's panel is titled in Chinese, drawn alone; its map did not move
    info = zh.summary["models"]["resmlp"]
    title = f"ResMLP {info['block']}：权重" + ("" if info["learned"] else "（随机）")
    feeds, english = zh.images["feeds"], en.images["feeds"]
    width = pictures.PANEL_WIDTH
    assert np.array_equal(feeds[:GRID_TITLE, :width], caption_bar(title, width, GRID_TITLE, 0.7))
    assert np.array_equal(feeds[GRID_TITLE:GRID_TITLE + pictures.SIDE, :pictures.SIDE],
                          english[GRID_TITLE:GRID_TITLE + pictures.SIDE, :pictures.SIDE])


def test_the_diffusion_figures_carry_chinese_when_the_page_is_in_chinese(cat):
    from apps import i18n
    from core import imagen_lesson
    from core.viz import imagen as pictures

    def sweep(lang):  # streamed as the page streams it (i18n.in_figures): the language in every step
        *_, last = i18n.in_figures(_sweep)(lang)
        return last

    en, zh = sweep("en"), sweep("zh")
    for key in en.images:  # the rows' names and the notes; the charts' titles, axes and legends
        assert not np.array_equal(en.images[key], zh.images[key]), key
    assert zh.summary == en.summary
    # the first row is named "不处理" (no thresholding), drawn alone left of its tiles; the tiles did not move
    grid, english, size = zh.images["sweep"], en.images["sweep"], imagen_lesson.TILE
    y, x = pictures.grid_cell(0, 0, size)
    alone = np.full((size, x, 3), 255, np.uint8)
    _text(alone, "不处理", (4, size // 2 + 5), 0.55, pictures.METHOD_COLORS["none"])
    assert np.array_equal(grid[y:y + size, :x], alone) and (alone < 128).any(axis=2).sum() > 30
    assert np.array_equal(grid[y:y + size, x:x + size], english[y:y + size, x:x + size])


def _sweep():
    """The Imagen tab's guidance sweep, short (2 steps, w = 1 and 2)."""
    from core import imagen_lesson

    yield from imagen_lesson.sweep_stream(max_guidance=2, sweep_steps=2, every=1)


def test_a_language_switch_marks_the_streamed_diffusion_figures_out_of_date():
    """The diffusion page does not re-run its sampler when the language changes, so the switch marks its
    figures stale (the badge and dimming of apps.frame) until Run, like any other edit."""
    from apps import diffusion, frame

    config = diffusion.build().get_config_file()
    lang_ids = {c["id"] for c in config["components"] if c.get("props", {}).get("choices") and
                any("中文" in str(ch) for ch in c["props"]["choices"])}
    assert lang_ids, "the page has its language switch"
    marks = [d for d in config["dependencies"] if d.get("js") == frame.MARK_STALE and
             any(t[0] in lang_ids and t[1] == "input" for t in d["targets"])]
    assert marks, "a language switch marks the figures out of date"
