"""apps.frame: every callback's errors become student-readable messages, streaming ones included."""

from __future__ import annotations

import gradio as gr
import pytest

from apps import frame
from core.images import ImageError


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
