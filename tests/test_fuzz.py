"""A hostile client against every endpoint and every parameter (issue 25, section 3).

Every named endpoint of the running workbench (each lesson in ``core.lesson.LESSONS`` has one, and
a lesson added there is fuzzed without touching this file) gets, parameter by parameter, the values a
hostile or careless client sends: wrong types, NaN and ±inf, huge and negative numbers, 100 kB strings,
deep JSON, unknown choices, too many items, paths such as ``../../etc/passwd`` and files that were never
uploaded. Over raw HTTP (``POST /gradio_api/call/<name>``, the way a script without gradio_client calls
the app) and through gradio_client, each must come back as LensLab's own message that names the
parameter — never Gradio's null error ("… has not enabled verbose error reporting"), never Python's
words ("cannot convert float NaN to integer") — within a bounded time, without growing the server, without
reading any file outside the app, with one log line per refusal and no traceback; and the server still
answers a real request at the end.

The central mechanism under test: ``core.lesson.Param.check`` (finite, in range, bounded lengths, item
counts and nesting) and ``apps.frame.check_inputs``, which runs it on every endpoint input before Gradio
or a page touches it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.lesson import MAX_ITEMS, MAX_TEXT, Param, brief, json_depth

# --------------------------------------------------------------------------------------------- #
# The central limits (core.lesson.Param), without a server


def test_numbers_are_finite_whole_and_in_range_or_refused_by_name():
    layer = Param("layer", "int", 0, "Layer", minimum=0, maximum=24)
    assert [layer.check(v) for v in (3, "3", 3.0, " 7 ", "1e1")] == [3, 3, 3, 7, 10]
    refusals = {float("nan"): "finite", float("inf"): "finite", "-inf": "finite", 2.5: "whole",
                1e308: "between 0 and 24", 10**400: "between 0 and 24", -1: "between 0 and 24",
                "abc": "must be a number", True: "must be a number", None: "must be a number",
                (1,): "must be a number", "x" * 100_000: "100,000 characters"}
    for value, words in refusals.items():
        with pytest.raises(ValueError, match="^Layer ") as info:
            layer.check(value)
        assert words in str(info.value), (value, str(info.value))
        assert len(str(info.value)) < 200  # a 100 kB value is never echoed back
    unbounded = Param("seed", "float", 0.0)  # no range of its own: still bounded
    assert unbounded.check(1e9) == 1e9
    with pytest.raises(ValueError, match="between -1e"):
        unbounded.check(1e300)


def test_choices_and_flags_take_only_their_own_values():
    size = Param("size", "choice", 256, "Working size", choices=(128, 256))
    assert [size.check(v) for v in (256, 256.0, "256")] == [256, 256, 256]
    for value in (True, "../../etc/passwd", [256], {"path": "/etc/passwd"}, None, float("nan"), "x" * 10**5):
        with pytest.raises(ValueError, match="^Working size must be one of 128, 256"):
            size.check(value)
    smooth = Param("smooth", "bool", False, "Smooth overlays")
    flags = [smooth.check(v) for v in (True, 0, 1, "true", "Off", 1.0)]
    assert flags == [True, False, True, True, False, True]
    for value in ("abc", 2, None, float("nan"), [True], {"x": 1}):  # bool("abc") used to be True
        with pytest.raises(ValueError, match="^Smooth overlays must be true or false"):
            smooth.check(value)


def test_texts_are_bounded_in_length_items_and_nesting():
    models = Param("models", "text", "a,b", "Classifiers", choices=("a", "b"), max_items=8)
    assert models.check(["a", "b"]) == "a,b" and models.check(" a , b ") == " a , b "
    cases = {"x" * (MAX_TEXT + 1): f"at most {MAX_TEXT:,}", ",".join(["a"] * 9): "at most 8",
             ("a",) * 9: "at most 8", "../../etc/passwd": "not a model name", "a\x00": "control characters",
             5: "must be text", (1, 2): "list of names", "/etc/passwd": "not a model name"}
    for value, words in cases.items():
        with pytest.raises(ValueError, match="^Classifiers") as info:
            models.check(value)
        assert words in str(info.value), (value, str(info.value))
    assert Param("names", "text", "", syntax="list").check(",".join(["n"] * MAX_ITEMS))  # the default cap
    boxes = Param("gt", "text", "", "GT boxes", syntax="json", max_items=50, max_depth=3, max_length=20_000)
    assert boxes.check('[{"box": [1, 2, 3, 4], "label": "circle"}]') and boxes.check("") == ""
    cases = {"[" * 5000 + "]" * 5000: "nested too deeply", "[[[[1]]]]": "at most 3 levels",
             json.dumps([[0, 0, 9, 9, 0]] * 51): "at most 50 entries", "[{": "not valid JSON",
             json.dumps([[0, 0, 9, 9, 0]] * 10_000): "at most 20,000"}
    for value, words in cases.items():
        with pytest.raises(ValueError, match="^GT boxes") as info:
            boxes.check(value)
        assert words in str(info.value), (value[:20], str(info.value))


def test_json_depth_reads_nesting_without_parsing_and_ignores_brackets_in_strings():
    assert json_depth("") == 0 and json_depth("[1, 2]") == 1
    assert json_depth('[{"a": [1]}, []]') == 3
    assert json_depth('["[[[[", "\\"[[["]') == 1
    assert json_depth("[" * 100_000) == 100_000  # no recursion, no RecursionError


def test_brief_shows_any_value_short():
    assert brief("abc") == "'abc'" and brief(None) == "None" and brief([1, 2]) == "a list of 2 items"
    assert len(brief("y" * 10**6)) < 80 and "1,000,000 characters" in brief("y" * 10**6)
    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    assert brief(deep) == "a list of 1 item"  # repr would raise RecursionError


def test_caption_fitter_measures_a_logarithmic_number_of_times():
    """The fitter used to trim one character and measure again: quadratic, hours for a 100 kB name."""
    from core.viz.draw import _fit, fit_text

    calls: list[int] = []

    def measure(text: str) -> float:
        calls.append(len(text))
        return 7.0 * len(text)

    assert fit_text("short", 100, measure) == "short"
    for n in (50, 1000, 100_000):
        calls.clear()
        fitted = fit_text("x" * n, 100, measure)
        assert fitted == "x" * 13 + "…" and measure(fitted) <= 100 < measure("x" * 14 + "…")
        assert len(calls) <= 12 and max(calls) <= 101 + 1  # never the whole 100 kB text
    text = "a detector name that is far too long for its tile"
    fitted = _fit(text, 120)
    assert fitted.endswith("…") and text.startswith(fitted[:-1]) and len(fitted) > 5
