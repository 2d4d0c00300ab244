"""A local server that speaks the Hugging Face Hub's file protocol, with faults on demand.

huggingface_hub downloads a file in two requests: ``HEAD /{repo}/resolve/{revision}/{path}`` for the
metadata (``X-Repo-Commit``, ``ETag`` / ``X-Linked-Etag``, ``Content-Length`` / ``X-Linked-Size``;
a missing file is a 404 with ``X-Error-Code: EntryNotFound``), then ``GET`` of the same URL. The
model-info API (``/api/models/{repo}[/revision/{rev}]``) lists the files. That is all timm's and
diffusers' loaders need, so pointing ``HF_ENDPOINT`` here runs their real download code.

Repositories are folders on disk in their real layouts (what ``timm``'s ``save_for_hf`` and
diffusers' ``save_pretrained`` write). :attr:`HubServer.fault` selects a failure:

* ``"ok"``: serve normally;
* ``"error500"``: every request answers HTTP 500;
* ``"hang"``: accept the connection, never answer (a proxy that swallows traffic);
* ``"garbled"``: weight files (``*.safetensors``) are served as random bytes of the same length;
* ``"vanish"``: the first weights download stops half-way and the server stops listening;
* ``"slow"``: weight files trickle out at about 20 MB/s (a download that takes a while, but moves).

Run as a script (``python -m tests.hubserver ROOT [PORT]``) it serves ``ROOT`` for a manual check.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"
FAULTS = ("ok", "error500", "hang", "garbled", "vanish", "slow")
SLOW_CHUNK, SLOW_PAUSE_S = 1 << 20, 0.05


class HubServer:
    """A threaded Hub-protocol server on 127.0.0.1 serving the repositories under ``root``."""

    def __init__(self, root: Path, port: int = 0):
        self.root = Path(root)
        self.fault = "ok"
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request seen
        self._release = threading.Event()  # set on close: hung handlers return
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def repos(self) -> list[str]:
        return sorted(f"{p.parent.name}/{p.name}" for p in self.root.glob("*/*") if p.is_dir())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> HubServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _vanish(self) -> None:
        """Stop listening (from inside a handler: shutdown must run in another thread)."""
        threading.Thread(target=self.close, daemon=True).start()

    # ----------------------------------------------------------------------------------------- #

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
                self._serve(body=False)

            def do_GET(self) -> None:  # noqa: N802
                self._serve(body=True)

            def _serve(self, body: bool) -> None:
                path = unquote(urlparse(self.path).path)
                server.requests.append((self.command, path))
                if server.fault == "hang":
                    server._release.wait()
                    return
                if server.fault == "error500":
                    self._send(500, b'{"error": "Internal Error"}', "application/json", body)
                    return
                if path.rstrip("/") == "/api/models":  # the model list: the hub is up
                    listing = json.dumps([{"id": r} for r in server.repos()]).encode()
                    self._send(200, listing, "application/json", body)
                    return
                if path.startswith("/api/models/"):
                    self._model_info(path[len("/api/models/"):], body)
                    return
                parts = path.lstrip("/").split("/")
                if len(parts) < 5 or parts[2] != "resolve":
                    self._send(404, b"not found", "text/plain", body, error="RepoNotFound")
                    return
                repo, filename = "/".join(parts[:2]), "/".join(parts[4:])
                repo_dir = server.root / repo
                file = (repo_dir / filename).resolve()
                if not repo_dir.is_dir():
                    self._send(404, b"repo not found", "text/plain", body, error="RepoNotFound")
                    return
                if not file.is_file() or repo_dir.resolve() not in file.parents:
                    self._send(404, b"entry not found", "text/plain", body, error="EntryNotFound")
                    return
                data = file.read_bytes()
                weights = file.suffix in (".safetensors", ".bin")
                if weights and server.fault == "garbled":
                    data = hashlib.sha256(data[:64]).digest() * (len(data) // 32 + 1)
                    data = data[: file.stat().st_size]
                etag = hashlib.sha256(data).hexdigest() if weights else hashlib.sha1(data).hexdigest()
                headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"'}
                if weights:  # LFS files carry their own etag and size
                    headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
                if body and weights and server.fault == "vanish":
                    self._send_partial(data, headers)
                    return
                if body and weights and server.fault == "slow":
                    self._send(200, b"", "application/octet-stream", False,
                               headers={**headers, "Content-Length": str(len(data))}, length=len(data))
                    for start in range(0, len(data), SLOW_CHUNK):
                        self.wfile.write(data[start:start + SLOW_CHUNK])
                        time.sleep(SLOW_PAUSE_S)
                    return
                self._send(200, data, "application/octet-stream", body, headers=headers)

            def _model_info(self, rest: str, body: bool) -> None:
                repo = "/".join(rest.split("/")[:2])
                repo_dir = server.root / repo
                if not repo_dir.is_dir():
                    self._send(404, b"{}", "application/json", body, error="RepoNotFound")
                    return
                files = sorted(str(p.relative_to(repo_dir)) for p in repo_dir.rglob("*") if p.is_file())
                info = {"id": repo, "modelId": repo, "sha": COMMIT, "private": False,
                        "siblings": [{"rfilename": f} for f in files]}
                self._send(200, json.dumps(info).encode(), "application/json", body)

            def _send(self, status: int, data: bytes, ctype: str, body: bool, *,
                      headers: dict[str, str] | None = None, error: str | None = None,
                      length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                headers = dict(headers or {})
                self.send_header("Content-Length", headers.pop("Content-Length", str(length or len(data))))
                if error:
                    self.send_header("X-Error-Code", error)
                    self.send_header("X-Error-Message", error)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def _send_partial(self, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                server._vanish()

        return Handler


if __name__ == "__main__":  # pragma: no cover - a manual check
    hub = HubServer(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0).start()
    print(hub.url, flush=True)
    threading.Event().wait()
