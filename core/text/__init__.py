"""Lesson explanations in English and Chinese, as Markdown files with LaTeX (``$…$``, ``$$…$$``).

Files are ``core/text/<lesson>.en.md`` and ``core/text/<lesson>.zh.md``. Keeping prose out of code
lets a teacher edit an explanation without touching Python, and lets every front end show the same
text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "中文"}
_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=64)
def explanation(lesson: str, lang: str = "en") -> str:
    """The explanation of ``lesson`` in ``lang`` ("en" or "zh"); English when a translation is missing."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {list(LANGUAGES)}, not {lang!r}")
    path = _DIR / f"{lesson}.{lang}.md"
    if not path.is_file():
        path = _DIR / f"{lesson}.en.md"
    if not path.is_file():
        raise FileNotFoundError(f"no explanation written for lesson {lesson!r}")
    return path.read_text(encoding="utf-8")
