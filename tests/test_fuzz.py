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

import concurrent.futures
import json
import logging
import math
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.lesson import LESSONS, MAX_ITEMS, MAX_TEXT, Param, brief, json_depth

ROOT = Path(__file__).resolve().parent.parent
CAT = ROOT / "assets" / "images" / "chelsea-cat.jpg"
FILE = {"_type": "gradio.FileData"}
NULL_ERROR = "verbose error reporting"
#: words that betray Python internals or a crash instead of a message written for the client
LEAKS = ("Traceback", "cannot convert", "invalid literal", "has no attribute", "not supported between",
         "NoneType", "object is not", "unhashable", "pydantic", "validation error", "Could not preprocess",
         "Something went wrong", "Errno", "line ", "Exception", NULL_ERROR)
TIMEOUT = 60.0  # seconds a single refusal may take before the test calls it a hang
RSS_GROWTH_MB = 300  # the 10 000-box request of the issue grew the server by 11 GB


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


# --------------------------------------------------------------------------------------------- #
# Hostile values, by kind of parameter


def _deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


HUGE = "x" * 100_000
NUMBER = [("text", "abc"), ("NaN", math.nan), ("+inf", math.inf), ("-inf", -math.inf), ("huge", 1e308),
          ("huge integer", 10**40), ("object", {"x": 1}), ("bool", True), ("null", None),
          ("deep JSON", _deep(50)), ("100 kB text", HUGE)]
CHOICE = [("unknown, path-like", "../../etc/passwd"), ("number", 123456), ("list", ["x"]),
          ("object", {"x": 1}), ("100 kB text", HUGE), ("null", None), ("bool", True),
          ("file payload", {"path": "/etc/passwd", "meta": FILE})]
FLAG = [("text", "abc"), ("number", 2), ("NaN", math.nan), ("list", [True]), ("object", {"x": 1}),
        ("path", "../../etc/passwd"), ("null", None)]
TEXT = [("100 kB text", HUGE), ("path", "../../etc/passwd"), ("absolute path", "/etc/passwd"),
        ("number", 12345), ("list of numbers", [1, 2]), ("object", {"x": 1}),
        ("deep JSON text", "[" * 3000 + "]" * 3000), ("control characters", "a\x00b"), ("NaN", math.nan)]
UPLOAD = [("path string", "../../etc/passwd"),
          ("file outside the app", {"path": "/etc/passwd", "meta": FILE}),
          ("relative path", {"path": "../../../../etc/passwd", "meta": FILE}),
          ("web address", {"path": "http://169.254.169.254/latest/meta-data/", "meta": FILE}),
          ("number", 5), ("object", {"x": 1}), ("deep JSON", _deep(50)), ("100 kB path", {"path": HUGE})]
GENERIC = [("deep JSON", _deep(50)), ("100 kB text", "x" * 200_000), ("many values", list(range(20_000)))]


def hostile_values(param: Param | None, component: str) -> list[tuple[str, Any]]:
    """The type-appropriate hostile set of one endpoint input (plus its limits + 1 where it has some)."""
    if component in ("Image", "File"):
        return UPLOAD
    if param is None:
        return GENERIC
    if param.kind in ("int", "float"):
        values = list(NUMBER)
        if param.kind == "int":
            values.append(("fraction", (param.minimum or 0) + 0.5))
        if param.minimum is not None:
            values.append(("below the minimum", param.minimum - (param.step or 1)))
        if param.maximum is not None:
            values.append(("above the maximum", param.maximum + (param.step or 1)))
        return values
    if param.kind == "choice":
        return CHOICE
    if param.kind == "bool":
        return FLAG
    values = list(TEXT)
    syntax = param.syntax or ("list" if param.choices else "")
    limit = param.max_items or MAX_ITEMS
    if syntax == "list":
        name = str(param.choices[0]) if param.choices else "model"
        values.append(("too many items", ",".join([name] * (limit + 1))))
        values.append(("too many items (list)", [name] * (limit + 1)))
    elif syntax == "json":
        values.append(("too many entries", json.dumps([[0, 0, 9, 9, 0]] * (limit + 1))))
        values.append(("the issue's 10 000 boxes", json.dumps([{"box": [1, 2, 30, 40], "label": "circle"}]
                                                               * 10_000)))
    return values


# --------------------------------------------------------------------------------------------- #
# Calling the app


def lesson_params(endpoint: str) -> dict[str, Param]:
    from apps.frame import endpoint_params

    return endpoint_params(endpoint.lstrip("/"))


@pytest.fixture(scope="module")
def endpoints(client) -> dict[str, list[dict[str, Any]]]:
    """Every named endpoint of the app and its parameters (name, component, label, default)."""
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    return {name: info["parameters"] for name, info in api.items()}


@pytest.fixture(scope="module")
def uploaded(app_url) -> dict[str, Any]:
    """The cat, uploaded once the way any client must first upload a file."""
    with CAT.open("rb") as fh:
        paths = httpx.post(f"{app_url}gradio_api/upload", files={"files": fh}, timeout=TIMEOUT).json()
    return {"path": paths[0], "meta": FILE, "orig_name": CAT.name}


def request_data(parameters: list[dict[str, Any]], upload: Any, **override: Any) -> list[Any]:
    return [override[p["parameter_name"]] if p["parameter_name"] in override
            else upload if p["component"] in ("Image", "File") else p["parameter_default"]
            for p in parameters]


def call_raw(http: httpx.Client, app_url: str, endpoint: str, data: list[Any],
             session: str | None = None) -> tuple[str, Any]:
    """One raw HTTP call: ``("complete", outputs)`` or ``("error", message)``; NaN and inf are sent
    as JavaScript writes them (``NaN``, ``Infinity``), which Python's JSON reader accepts.

    Without ``session`` every call is a new Gradio session (what a script does); the sweep passes one
    per worker thread, because Gradio builds a copy of the whole app's component config for every new
    session (~0.15 s and ~1.5 MB, kept for up to frame.SESSIONS_KEPT sessions), which would measure
    Gradio's session cache rather than what the hostile values cost."""
    body = json.dumps({"data": data, "session_hash": session}, allow_nan=True)
    posted = http.post(f"{app_url}gradio_api/call{endpoint}", content=body,
                       headers={"content-type": "application/json"})
    if posted.status_code != 200:
        return "http", f"{posted.status_code} {posted.text[:300]}"
    event_id = posted.json()["event_id"]
    stream = http.get(f"{app_url}gradio_api/call{endpoint}/{event_id}").text
    kind, payload = "none", None
    for line in stream.splitlines():
        if line.startswith("event: "):
            kind = line[len("event: "):]
        elif line.startswith("data: ") and kind in ("complete", "error"):
            payload = json.loads(line[len("data: "):])
    if kind == "error":
        return "error", payload.get("error") if isinstance(payload, dict) else payload
    return kind, payload


def names_of(parameter: dict[str, Any], param: Param | None) -> list[str]:
    """The words a message may name this parameter with."""
    if parameter["component"] in ("Image", "File"):
        return ["photo", "upload", "file"]
    name = parameter["parameter_name"]
    words = [name, name.replace("_", " "), parameter.get("label") or ""]
    if param is not None:
        words += [param.label, param.name]
    return [w for w in words if w]


def assert_clear_refusal(where: str, kind: str, message: Any, names: list[str]) -> None:
    assert kind == "error", f"{where}: accepted (or answered {kind}): {str(message)[:200]}"
    assert isinstance(message, str) and message.strip(), f"{where}: Gradio's null error"
    assert len(message) < 1500, f"{where}: the answer echoes the request ({len(message)} characters)"
    leaked = [word for word in LEAKS if word.lower() in message.lower()]
    assert not leaked, f"{where}: {leaked} in {message!r}"
    assert any(n.lower() in message.lower() for n in names), f"{where}: names none of {names}: {message!r}"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class FileWatch:
    """Records every file the process opens under watched prefixes (an audit hook: PIL, Gradio and the
    lessons all open files through Python), to prove that no request reads a file outside the app."""

    installed: FileWatch | None = None

    def __init__(self, prefixes: tuple[str, ...]):
        self.prefixes, self.opened, self.active = prefixes, [], False
        if FileWatch.installed is None:
            sys.addaudithook(FileWatch._hook)
        FileWatch.installed = self

    @staticmethod
    def _hook(event: str, args: tuple[Any, ...]) -> None:
        watch = FileWatch.installed
        if watch is None or not watch.active or event != "open" or not args:
            return
        path = args[0]
        if isinstance(path, (str, bytes)):
            text = path.decode(errors="replace") if isinstance(path, bytes) else path
            if text.startswith(watch.prefixes) or "passwd" in text:
                watch.opened.append(text)


# --------------------------------------------------------------------------------------------- #
# The endpoints


def test_every_lesson_has_an_endpoint_and_every_endpoint_belongs_to_a_lesson(endpoints):
    missing = [lesson for lesson in LESSONS if f"/{lesson}" not in endpoints]
    assert not missing, f"lessons without an endpoint: {missing}"
    for endpoint, parameters in endpoints.items():
        params = lesson_params(endpoint)
        assert params, f"{endpoint} belongs to no lesson of core.lesson.LESSONS"
        unchecked = [p["parameter_name"] for p in parameters
                     if p["component"] not in ("Image", "File") and p["parameter_name"] not in params]
        assert not unchecked, f"{endpoint}: inputs no lesson Param checks: {unchecked}"


def test_an_image_alone_is_enough_over_raw_http(app_url, endpoints, uploaded, tmp_path):
    """README: every endpoint is callable with only an image. Gradio wants every input, so a raw
    ``/call/<name>`` with one value was a null error on every endpoint; LensLab now fills in the page's
    defaults. A web page sent as the photo proves it cheaply for all of them (the answer is LensLab's
    image message, so the defaults reached the lesson's checks), two cheap lessons run in full."""
    page = tmp_path / "page.jpg"
    page.write_bytes(b"<!DOCTYPE html><html><body>not a cat</body></html>")
    with page.open("rb") as fh:
        bad = {"path": httpx.post(f"{app_url}gradio_api/upload", files={"files": fh}).json()[0], "meta": FILE}
    with httpx.Client(timeout=TIMEOUT) as http:
        for endpoint, parameters in endpoints.items():
            if not parameters or parameters[0]["component"] != "Image":
                continue  # /diffusion_generate takes no photo (gradio_client's own calls cover it)
            kind, message = call_raw(http, app_url, endpoint, [bad])
            assert kind == "error" and "web page" in str(message), (endpoint, kind, message)
            kind, message = call_raw(http, app_url, endpoint, [])  # nothing at all: asks for the photo
            assert kind == "error" and "upload a photo" in str(message), (endpoint, kind, message)
        for endpoint in ("/diffusion_forward", "/pointrend"):
            kind, outputs = call_raw(http, app_url, endpoint, [uploaded])
            assert kind == "complete", (endpoint, outputs)
            summary = next(item for item in outputs if isinstance(item, dict) and "url" not in item)
            assert summary, endpoint
    forward = next(o for o in outputs if isinstance(o, dict) and "url" in o)
    assert forward["url"].endswith(".png") or forward["url"].endswith(".webp")


def test_every_parameter_of_every_endpoint_refuses_hostile_values_over_raw_http(
        app_url, endpoints, uploaded, tmp_path, caplog, capfd):
    canary = tmp_path / "outside-the-app.png"
    canary.write_bytes(CAT.read_bytes())
    watch = FileWatch((str(tmp_path), "/etc/"))
    jobs = []
    for endpoint, parameters in endpoints.items():
        params = lesson_params(endpoint)
        for parameter in parameters:
            param = params.get(parameter["parameter_name"])
            values = hostile_values(param, parameter["component"])
            if parameter["component"] in ("Image", "File"):
                values = [*values, ("a file never uploaded", {"path": str(canary), "meta": FILE})]
            for label, value in values:
                data = request_data(parameters, uploaded, **{parameter["parameter_name"]: value})
                jobs.append((f"{endpoint} {parameter['parameter_name']} = {label}", endpoint, data,
                             names_of(parameter, param)))
    caplog.set_level(logging.WARNING, logger="lenslab")
    capfd.readouterr()
    before, start = rss_mb(), time.perf_counter()
    watch.active = True
    try:
        with httpx.Client(timeout=TIMEOUT) as http, concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda job: call_raw(http, app_url, job[1], job[2],
                                                         f"fuzz-{threading.get_ident()}"), jobs))
    finally:
        watch.active = False
    grown, seconds = rss_mb() - before, time.perf_counter() - start
    failures = []
    for (where, _, _, names), (kind, message) in zip(jobs, answers, strict=True):
        try:
            assert_clear_refusal(where, kind, message, names)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, f"{len(failures)} of {len(jobs)} hostile requests:\n" + "\n".join(failures[:40])
    assert not watch.opened, f"files outside the app were opened: {watch.opened}"
    assert grown < RSS_GROWTH_MB, f"{len(jobs)} refused requests grew the server by {grown:.0f} MB"
    # logs: one line per refusal, no traceback (Gradio printed one per error: 408 lines in one run)
    refused = [r for r in caplog.records if r.name == "lenslab" and r.getMessage().startswith("refused")]
    assert len(refused) == len(jobs), (len(refused), len(jobs))
    assert all("\n" not in r.getMessage() and r.exc_info is None for r in refused)
    assert "Traceback" not in capfd.readouterr().err
    with capfd.disabled():
        print(f"\n{len(jobs)} hostile requests to {len(endpoints)} endpoints in {seconds:.1f} s; "
              f"server RSS {before:.0f} MB -> {before + grown:.0f} MB")
    # and the server still serves a real request
    with httpx.Client(timeout=TIMEOUT) as http:
        kind, outputs = call_raw(http, app_url, "/diffusion_forward", [uploaded])
    assert kind == "complete" and any(isinstance(o, dict) and "url" in o for o in outputs)


def test_gradio_client_gets_the_same_clear_messages(client, endpoints):
    """Through gradio_client (which cannot send NaN): one hostile value per parameter, taken in turn
    from its type's set so that every kind of value reaches every endpoint."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    failures = []
    turn = 0
    for endpoint, parameters in endpoints.items():
        params = lesson_params(endpoint)
        for parameter in parameters:
            if parameter["component"] in ("Image", "File"):
                continue
            param = params.get(parameter["parameter_name"])
            values = [(label, v) for label, v in hostile_values(param, parameter["component"])
                      if not (isinstance(v, float) and not math.isfinite(v))]
            label, value = values[turn % len(values)]
            turn += 1
            where = f"{endpoint} {parameter['parameter_name']} = {label}"
            kwargs = {p["parameter_name"]: p["parameter_default"] for p in parameters}
            kwargs.update({p["parameter_name"]: handle_file(str(CAT)) for p in parameters
                           if p["component"] in ("Image", "File")})
            kwargs[parameter["parameter_name"]] = value
            try:
                client.predict(**kwargs, api_name=endpoint)
                failures.append(f"{where}: accepted")
            except AppError as exc:
                try:
                    assert_clear_refusal(where, "error", exc.message, names_of(parameter, param))
                except AssertionError as problem:
                    failures.append(str(problem))
    assert not failures, "\n".join(failures)
    assert client.predict(handle_file(str(CAT)), api_name="/diffusion_forward")  # still serving


def test_expected_errors_log_one_line_real_failures_their_traceback_once(app_url, uploaded, caplog, capfd,
                                                                          monkeypatch):
    from core import diffusion

    caplog.set_level(logging.WARNING, logger="lenslab")
    capfd.readouterr()
    with httpx.Client(timeout=TIMEOUT) as http:
        kind, message = call_raw(http, app_url, "/diffusion_forward", [uploaded, 5000])
        assert kind == "error" and "between 0 and 999" in message
        records = [r for r in caplog.records if r.name == "lenslab"]
        assert len(records) == 1 and records[0].levelno == logging.WARNING
        assert "\n" not in records[0].getMessage() and records[0].exc_info is None
        assert "Traceback" not in capfd.readouterr().err

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise ZeroDivisionError("a real bug")

        caplog.clear()
        monkeypatch.setattr(diffusion, "forward", broken)
        kind, message = call_raw(http, app_url, "/diffusion_forward", [uploaded])
    assert kind == "error" and "Something went wrong inside LensLab (ZeroDivisionError)" in message
    errors = [r for r in caplog.records if r.name == "lenslab" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "Traceback" in errors[0].getMessage()
    assert "a real bug" in errors[0].getMessage()
    assert "Traceback" not in capfd.readouterr().err  # logged once, by LensLab; Gradio prints nothing

    # a result Gradio cannot send (here a JSON key that is not text) was a null error too
    monkeypatch.undo()

    def unsendable(*args: Any, **kwargs: Any) -> Any:
        result = forward(*args, **kwargs)
        result.summary[(1, 2)] = "a tuple key"
        return result

    forward = diffusion.forward
    monkeypatch.setattr(diffusion, "forward", unsendable)
    caplog.clear()
    with httpx.Client(timeout=TIMEOUT) as http:
        kind, message = call_raw(http, app_url, "/diffusion_forward", [uploaded])
    assert kind == "error" and "Something went wrong inside LensLab (TypeError) while sending" in message
    errors = [r for r in caplog.records if r.name == "lenslab" and r.levelno == logging.ERROR]
    assert len(errors) == 1 and "Traceback" in errors[0].getMessage()
    assert "Traceback" not in capfd.readouterr().err
