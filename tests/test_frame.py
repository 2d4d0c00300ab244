"""apps.frame: every callback's errors become student-readable messages, streaming ones included."""

from __future__ import annotations

import os

import gradio as gr
import numpy as np
import pytest

from apps import frame
from core.images import ImageError
from core.lesson import LessonResult


def test_guard_translates_expected_and_unexpected_errors():
    def bad_image():
        raise ImageError("The file is empty: it contains 0 bytes.")

    def bug():
        raise ZeroDivisionError("oops")

    with pytest.raises(gr.Error, match="0 bytes"):
        frame.guard(bad_image)()
    with pytest.raises(gr.Error, match="ZeroDivisionError"):
        frame.guard(bug)()
    assert frame.guard(lambda x: x + 1)(1) == 2


def test_guard_keeps_generators_streaming_and_translates_their_errors():
    def stream(n):
        yield from range(n)
        raise ValueError("Steps must be between 1 and 50; got 99.")

    guarded = frame.guard(stream)
    it = guarded(3)
    assert [next(it), next(it), next(it)] == [0, 1, 2]  # results arrive before the error
    with pytest.raises(gr.Error, match="between 1 and 50"):
        next(it)


def test_read_upload_without_a_file_asks_for_one():
    with pytest.raises(ImageError, match="upload a photo"):
        frame.read_upload(None)
    with pytest.raises(ImageError, match="upload a photo"):
        frame.read_upload({"path": None, "meta": {"_type": "gradio.FileData"}})


def test_read_upload_takes_a_path_or_gradios_raw_file_payload(cat_path, cat):
    """Events registered with frame.RAW_INPUTS hand the callback Gradio's file dict, not a path."""
    np.testing.assert_array_equal(frame.read_upload(str(cat_path)), cat)
    np.testing.assert_array_equal(frame.read_upload({"path": str(cat_path), "orig_name": "cat.jpg"}), cat)


def _result(tag: str) -> LessonResult:
    return LessonResult(images={"map": np.full((8, 8, 3), 40, np.uint8)}, summary={"tag": tag},
                        captions={"map": f"map {tag}"})


def test_kept_results_are_bounded_for_the_whole_server():
    kept = frame.KeptResults(capacity=3)
    tokens = [kept.keep(_result(str(i))) for i in range(5)]
    assert len(kept) == 3 and len(set(tokens)) == 5
    assert kept.get(tokens[0]) is None and kept.get(tokens[1]) is None  # the oldest went first
    assert [kept.get(t).summary["tag"] for t in tokens[2:]] == ["2", "3", "4"]
    assert kept.get(None) is None and kept.get("not-a-token") is None


def test_sheet_follow_up_never_offers_another_runs_sheet(monkeypatch):
    kept = frame.KeptResults(capacity=1)
    monkeypatch.setattr(frame, "KEPT", kept)
    sheet = frame.sheet_of_kept("attention")
    first = kept.keep(_result("first"))
    path = sheet(first)
    assert path.endswith(".png") and os.path.isfile(path) and os.path.basename(path).startswith("attention-")
    kept.keep(_result("second"))  # pushes the first result out
    assert sheet(first) is None  # no sheet rather than a stale one
    assert isinstance(sheet(None), type(gr.skip()))  # nothing run yet: leave the button alone


def test_sessions_keep_tokens_not_results(client, cat_path):
    """Many API sessions must not each keep a ~5 MB result: sessions hold tokens, KEPT is bounded."""
    from gradio_client import Client, handle_file

    from apps.app import demo

    for _ in range(3):
        Client(client.src, verbose=False).predict(handle_file(str(cat_path)), api_name="/attention")
    held = [value for session in demo.state_holder.session_data.values()
            for value in session.state_data.values()]
    assert held and not any(isinstance(value, LessonResult) for value in held)
    assert any(isinstance(value, str) and frame.KEPT.get(value) is not None for value in held)
    assert len(frame.KEPT) <= frame.KEPT.capacity


def test_gradio_queue_does_not_recompute_its_usage_summary_after_every_event():
    """frame sets GRADIO_ANALYTICS_CACHE_FREQUENCY before any page builds its queue (see frame.py)."""
    from apps import attention

    assert attention.demo._queue.ANAYLTICS_CACHE_FREQUENCY >= 1000
