"""The running workbench over HTTP (gradio_client): every lesson endpoint exists, bad uploads get a
specific message a student understands — not Gradio's generic "Error" — and the server keeps serving.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from apps.registry import PAGES

ENDPOINTS = [f"/{p.lesson}" for p in PAGES]


def _bomb() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


BAD_UPLOADS = {
    "empty.png": (b"", "empty"),
    "page.jpg": (b"<!DOCTYPE html><html><body>not a cat</body></html>", "web page"),
    "noise.png": (b"\x00\x01garbage" * 50, "not an image"),
    "bomb.png": (_bomb(), "megapixels"),
}


def test_every_lesson_endpoint_is_published(client):
    api = client.view_api(return_format="dict", print_info=False)
    named = set(api["named_endpoints"])
    assert set(ENDPOINTS) <= named, f"missing: {set(ENDPOINTS) - named}"
    for name in ENDPOINTS:
        params = api["named_endpoints"][name]["parameters"]
        required = [p for p in params if not p.get("parameter_has_default", False)]
        names = [p["parameter_name"] for p in required]
        assert len(required) <= 1, f"{name} needs more than an image: {names}"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_uploads_get_specific_messages_and_the_server_keeps_serving(client, tmp_path, endpoint):
    for filename, (payload, words) in BAD_UPLOADS.items():
        path = tmp_path / filename
        path.write_bytes(payload)
        with pytest.raises(AppError) as info:
            client.predict(handle_file(str(path)), api_name=endpoint)
        message = str(info.value)
        assert words.lower() in message.lower(), f"{endpoint} {filename}: {message!r}"


def test_uploads_over_the_size_limit_are_refused(client, tmp_path):
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (21 * 1024 * 1024))
    with pytest.raises(Exception) as info:  # refused by the upload route before any lesson code runs
        client.predict(handle_file(str(big)), api_name=ENDPOINTS[0])
    assert "size" in str(info.value).lower() or "413" in str(info.value)


def test_the_readme_client_example_runs_as_written(app_url, monkeypatch):
    """The README's HTTP API snippet, executed verbatim against the live app (only the URL differs)."""
    import re
    import ssl
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    section = readme.split("## HTTP API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "ssl_verify=ssl.create_default_context()" in code
    monkeypatch.chdir(root)
    namespace: dict = {}
    exec(compile(code.replace("http://127.0.0.1:7860/", app_url), "README.md", "exec"), namespace)
    summary, outputs = namespace["summary"], namespace["outputs"]
    assert summary["model"]["source"] in {"embedded", "hub"} and summary["top5"]
    figures = [item for item in outputs if isinstance(item, str)]
    assert len(figures) == 2 and all(Path(f).is_file() for f in figures)  # the ViT grid, the Swin figure
    assert isinstance(namespace["client"].ssl_verify, ssl.SSLContext)
