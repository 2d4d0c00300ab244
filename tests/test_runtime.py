"""core.runtime: the server-side process settings do what their docstrings promise.

Each check runs in a fresh interpreter, so neither the settings nor the test process's own history
of allocations can decide the outcome.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Allocate 8 figure-sized buffers (3.3 MB each) and free them together, four times over; print the
# page faults each round cost. Freeing 26 MB at once is more than glibc's default (dynamic) trim
# threshold, so by default every round gives the pages back and faults them in again.
_FAULTS = """
import resource, sys
import numpy as np
from core import runtime
if sys.argv[1] == "tuned":
    assert runtime.keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds = []
for _ in range(4):
    before = faults()
    blocks = [np.full((980, 1124, 3), 255, np.uint8) for _ in range(8)]
    del blocks
    rounds.append(faults() - before)
print(*rounds)
"""


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_kept_memory_is_reused_without_page_faults():
    pages = 8 * 980 * 1124 * 3 // 4096
    default = [int(v) for v in _run(_FAULTS, "default").split()]
    tuned = [int(v) for v in _run(_FAULTS, "tuned").split()]
    assert min(default[1:]) > pages // 2  # the default gives the pages back: every round faults again
    assert tuned[0] > pages // 2 and max(tuned[1:]) < pages // 50  # tuned: faulted in once, then reused


def test_frozen_heap_still_collects_new_garbage():
    out = _run("""
        import gc, weakref
        from core import runtime
        frozen = runtime.freeze_heap()
        assert frozen == gc.get_freeze_count() > 10_000  # torch and numpy alone are this many objects
        class Node:
            pass
        a, b = Node(), Node()
        a.other, b.other = b, a  # a reference cycle: only the collector can free it
        gone = []
        weakref.finalize(a, gone.append, True)
        del a, b
        gc.collect()
        print(gone == [True], gc.get_freeze_count() == frozen)
    """)
    assert out.split() == ["True", "True"]
