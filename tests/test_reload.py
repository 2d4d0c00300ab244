"""`gradio apps/app.py` — the README's main command — starts cleanly and reloads when a page changes.

Gradio's reload mode runs the app file, then executes it again in its watcher thread and once more
after every change. The test runs the real CLI on a copy of ``apps/`` (``core``, ``assets`` and
``docs`` linked, so nothing in the repository is edited), waits for the server, checks that its
output holds no traceback, edits a page file and waits for the reload.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
GRADIO = Path(sys.executable).with_name("gradio")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Output:
    """Collects a process's merged output on a thread, so waiting never blocks on a full pipe."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text:
                return True
            time.sleep(0.5)
        return False


@pytest.mark.skipif(not GRADIO.exists(), reason="the gradio command is not installed next to python")
def test_gradio_cli_starts_without_a_traceback_and_reloads_an_edited_page(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "apps", project / "apps", ignore=shutil.ignore_patterns("__pycache__", "*.pyi"))
    for name in ("core", "assets", "docs"):
        (project / name).symlink_to(ROOT / name)
    port = _free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    # its own process group: the gradio command starts the app as a child, and both must end
    proc = subprocess.Popen([str(GRADIO), "apps/app.py"], cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = _Output(proc)
    try:
        assert out.wait_for(f"127.0.0.1:{port}", timeout=240), out.text[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/swin", timeout=30) as response:
            assert response.status == 200
        time.sleep(5)  # the watcher's own first execution of the app file happens after the start
        assert "Traceback" not in out.text and "Error" not in out.text, out.text[-3000:]

        # The watcher starts watching only after its own first execution of the app file, which takes a
        # while on a busy machine; an edit before that is part of its first snapshot. Edit until seen.
        page = project / "apps" / "swin.py"
        for i in range(24):
            page.write_text(page.read_text() + f"\n# edit {i} by tests/test_reload.py\n")
            if out.wait_for("Changes detected in", timeout=10):
                break
        assert "Changes detected in" in out.text, out.text[-3000:]
        time.sleep(15)  # the app is rebuilt in the watcher thread
        assert "Traceback" not in out.text and "failed" not in out.text, out.text[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/swin", timeout=30) as response:
            assert response.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
