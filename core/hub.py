"""Bounded access to the Hugging Face Hub: a broken network must never hang a lesson.

School networks often have proxies that accept a connection and then never answer. A TCP probe
says "reachable" to those, and huggingface_hub's downloads then wait and retry (10-s timeouts, five
resumes, two file names tried by timm): minutes before a lesson could fall back. This module bounds
every hub access in three ways, in one place for the whole zoo:

* :func:`health` asks the endpoint one real HTTP question (a ``HEAD`` of the file about to be
  downloaded) with a short timeout. A timeout, a refused connection or a 5xx answer marks the hub
  *failed*, and that is remembered for :data:`FAIL_TTL_S`, so later calls do not wait again. One
  probe runs at a time; concurrent first calls wait for its answer instead of each probing.
* :func:`bounded_download` runs the library's own download code (timm's, diffusers') in a worker
  thread and watches the bytes arriving in the cache. A download that makes no progress for
  :data:`STALL_S` is abandoned (and the hub marked failed); a slow one that keeps moving goes on.
  The worker carries on in the background: huggingface_hub writes ``*.incomplete`` files and renames
  them only once complete, so an abandoned download never leaves a file that looks finished.
* :func:`purge` deletes a repository's cached files after they failed to load (a garbled
  safetensors file), so the next start downloads them again instead of failing the same way.

Nothing here imports timm or diffusers; the zoo hands in the load function.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

__all__ = [
    "FAIL_TTL_S",
    "PROBE_TIMEOUT_S",
    "STALL_S",
    "HubFailure",
    "bounded_download",
    "cache_dir",
    "downloading",
    "endpoint",
    "forget",
    "health",
    "incomplete_bytes",
    "mark_failed",
    "offline",
    "purge",
    "state",
]

PROBE_TIMEOUT_S = 3.0   # one HTTP answer from the endpoint, or the hub counts as failed
STALL_S = 3.0           # a download with no new bytes for this long has failed
FAIL_TTL_S = 300.0      # a failed hub is not asked again for this long (per process)
OK_TTL_S = 120.0        # a healthy answer is trusted this long before the next probe

T = TypeVar("T")


class HubFailure(RuntimeError):
    """The hub did not answer in time, answered with an error, or a download stalled."""


@dataclass(frozen=True)
class HubState:
    """What LensLab last learned about the endpoint: ``ok`` is None when it was never asked."""

    endpoint: str
    ok: bool | None
    reason: str
    checked_at: float

    def as_json(self) -> dict[str, object]:
        state = "offline" if offline() else {None: "not asked yet", True: "ok", False: "failed"}[self.ok]
        return {"endpoint": self.endpoint, "state": state, "reason": self.reason}


_STATES: dict[str, HubState] = {}
_PROBE_LOCK = threading.Lock()
_ACTIVE: dict[str, int] = {}  # repo id -> number of downloads in flight
_ACTIVE_LOCK = threading.Lock()


def offline() -> bool:
    """``HF_HUB_OFFLINE`` is set: never touch the network."""
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


def endpoint() -> str:
    """The hub's base URL as huggingface_hub uses it (``HF_ENDPOINT``, else huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def state() -> HubState:
    """The remembered state of the current endpoint (never probes)."""
    url = endpoint()
    return _STATES.get(url, HubState(url, None, "", 0.0))


def mark_failed(reason: str) -> None:
    """Remember that the hub failed (for :data:`FAIL_TTL_S`), e.g. after a stalled download."""
    url = endpoint()
    _STATES[url] = HubState(url, False, reason, time.monotonic())


def forget() -> None:
    """Forget every remembered answer (tests; a teacher's 'try the hub again')."""
    _STATES.clear()


def health(probe_url: str | None = None) -> HubState:
    """Whether the hub answers, asking at most once per TTL; ``probe_url`` is what to ``HEAD``.

    Offline (``HF_HUB_OFFLINE``) answers "failed" without any network access.
    """
    url = endpoint()
    if offline():
        return HubState(url, False, "HF_HUB_OFFLINE is set", time.monotonic())
    fresh = _fresh(url)
    if fresh is not None:
        return fresh
    with _PROBE_LOCK:  # one probe at a time: the others wait for its answer
        fresh = _fresh(url)
        if fresh is not None:
            return fresh
        ok, reason = _probe(probe_url or url + "/api/models")
        result = HubState(url, bool(ok), reason, time.monotonic())
        if ok is not None:  # a missing file is that repository's problem, not the hub's
            _STATES[url] = result
        return result


def _fresh(url: str) -> HubState | None:
    known = _STATES.get(url)
    if known is None or known.ok is None:
        return None
    ttl = OK_TTL_S if known.ok else FAIL_TTL_S
    return known if time.monotonic() - known.checked_at < ttl else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect (the hub sends weights to its CDN) already proves the hub answered: do not follow."""

    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - urllib's signature
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _probe(url: str) -> tuple[bool | None, str]:
    """One ``HEAD`` request. ``(True, …)``: answered; ``(False, …)``: the hub is broken or silent
    (remembered); ``(None, …)``: it answered that this file is missing or refused (not remembered:
    another repository may be fine)."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "lenslab"})
    start = time.monotonic()
    try:
        with _OPENER.open(request, timeout=PROBE_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:  # refused, unreachable, timed out, bad URL
        seconds = time.monotonic() - start
        kind = "no answer" if "timed out" in str(exc).lower() else type(exc).__name__
        return False, f"{kind} from {urllib.parse.urlparse(url).netloc} after {seconds:.1f} s"
    if status >= 500:
        return False, f"the hub answered HTTP {status}"
    if status >= 400:
        return None, f"the hub answered HTTP {status} for {urllib.parse.urlparse(url).path}"
    return True, f"answered HTTP {status}"


# --------------------------------------------------------------------------------------------- #
# the cache


def cache_dir() -> Path:
    """huggingface_hub's cache folder (``HF_HUB_CACHE`` / ``HF_HOME`` / ``~/.cache``), as it computes it."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _repo_dir(repo_id: str) -> Path:
    return cache_dir() / ("models--" + repo_id.replace("/", "--"))


def incomplete_bytes(repo_id: str) -> int:
    """Bytes received so far by the downloads of ``repo_id`` in flight (its ``*.incomplete`` blobs)."""
    total = 0
    blobs = _repo_dir(repo_id) / "blobs"
    try:
        for path in blobs.glob("*.incomplete"):
            try:
                total += path.stat().st_size
            except OSError:  # renamed under our feet: the file just completed
                continue
    except OSError:
        return 0
    return total


def downloading(repo_id: str) -> bool:
    """Whether a download of ``repo_id`` started by LensLab is in flight in this process."""
    with _ACTIVE_LOCK:
        return _ACTIVE.get(repo_id, 0) > 0


def purge(repo_id: str) -> None:
    """Delete the cached files of ``repo_id`` (after they failed to load), so they are fetched anew."""
    shutil.rmtree(_repo_dir(repo_id), ignore_errors=True)


def bounded_download(load: Callable[[], T], repo_id: str, *, stall_s: float | None = None,
                     on_progress: Callable[[int], None] | None = None) -> T:
    """Run ``load`` (a library's own download-and-build code) with a stall watchdog.

    Returns what ``load`` returns; raises its exception; raises :class:`HubFailure` (and marks the
    hub failed) when no new bytes arrive for ``stall_s`` seconds. ``on_progress`` gets the bytes
    received so far whenever they change. The worker runs in a copy of the caller's context.
    """
    stall = STALL_S if stall_s is None else stall_s
    outcome: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        with _ACTIVE_LOCK:
            _ACTIVE[repo_id] = _ACTIVE.get(repo_id, 0) + 1
        try:
            outcome["value"] = load()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            outcome["error"] = exc
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE[repo_id] -= 1
            done.set()

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name=f"hub:{repo_id}", daemon=True).start()
    seen, last_change = -1, time.monotonic()
    while not done.wait(0.1):
        received = incomplete_bytes(repo_id)
        now = time.monotonic()
        if received != seen:
            seen, last_change = received, now
            if on_progress is not None:
                on_progress(received)
        elif now - last_change > stall:
            reason = (f"download of {repo_id} stalled ({received / 1e6:.1f} MB received, nothing new for "
                      f"{stall:.0f} s)")
            mark_failed(reason)
            raise HubFailure(reason)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]

