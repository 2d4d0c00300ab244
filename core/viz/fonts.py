"""Fonts for text drawn inside figures: DejaVu Sans for Latin, a bundled Noto Sans CJK SC subset for Chinese.

A server cannot count on a CJK font (``python:3.11-slim`` has none, nor does a classroom PC's Debian
without ``fonts-noto-cjk``), and Pillow, OpenCV and matplotlib draw a missing character as an empty
box. So LensLab ships ``assets/fonts/NotoSansCJKsc-LensLab.otf``: Noto Sans CJK SC (SIL Open Font
License 1.1, which allows subsetting; ``OFL.txt`` beside it) cut down with fontTools to printable ASCII
and the characters of the figure texts (:data:`core.viz.words.ZH`): a few hundred glyphs, not 65 000.

After adding Chinese figure texts, rebuild it from an installed Noto Sans CJK
(``apt-get install fonts-noto-cjk``) with ``python -m core.viz.fonts``; ``tests/test_figure_text.py``
fails while a character of a template is missing from the subset.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FONT_DIR = ROOT / "assets" / "fonts"
CJK_FONT = FONT_DIR / "NotoSansCJKsc-LensLab.otf"
CJK_FAMILY = "Noto Sans CJK SC"
#: where Debian's fonts-noto-cjk puts the full font (face 2 of the collection is Simplified Chinese)
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_FACE = 2
#: besides the templates' own characters: printable ASCII and the symbols numbers come with
EXTRA = "".join(chr(c) for c in range(0x20, 0x7F)) + "×·–—…←→↑↓≤≥±−½²√ΣσΔ°，。：；！？、（）“”《》"

_CJK = re.compile("[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    """Whether ``text`` has a character DejaVu Sans cannot draw (Chinese, full-width punctuation)."""
    return bool(_CJK.search(text))


def dejavu_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


@lru_cache(maxsize=32)
def pil_font(size: int, cjk: bool = False):
    """A Pillow font of ``size`` px: the CJK subset when ``cjk``, else DejaVu Sans."""
    from PIL import ImageFont

    return ImageFont.truetype(str(CJK_FONT if cjk else dejavu_path()), size)


def font_for(text: str, size: int):
    """The Pillow font that draws every character of ``text`` (Latin-only text stays in DejaVu Sans,
    so English figures are exactly what they were)."""
    return pil_font(size, has_cjk(text))


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """The code points the bundled subset has glyphs for (its cmap)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(CJK_FONT), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing(text: str) -> str:
    """The characters of ``text`` the bundled subset cannot draw (spaces and newlines aside)."""
    have = covered()
    return "".join(sorted({ch for ch in text if not ch.isspace() and ord(ch) not in have}))


@lru_cache(maxsize=1)
def matplotlib_family() -> tuple[str, ...]:
    """``font.family`` for matplotlib figures that may hold Chinese: DejaVu Sans first, the subset as
    the per-glyph fallback matplotlib (≥ 3.6) uses for what DejaVu lacks."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(CJK_FONT))
    return ("DejaVu Sans", CJK_FAMILY)


def characters(texts: Iterable[str]) -> str:
    """Every character a subset must hold to draw ``texts`` (format fields' names included: harmless)."""
    return "".join(sorted(set(EXTRA).union(*(set(t) for t in texts)) - {"\n"}))


def build_subset(texts: Iterable[str], source: Path = SOURCE, out: Path = CJK_FONT) -> Path:
    """Cut ``source`` (face :data:`SOURCE_FACE` of a collection) down to the glyphs ``texts`` need."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=SOURCE_FACE if source.suffix.lower() == ".ttc" else -1)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]  # keep the copyright, licence and font names the OFL asks to keep
    options.notdef_outline = True  # a character outside the subset shows the box, visibly
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters(texts))
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    return out


def all_templates() -> list[str]:
    """The Chinese figure templates of every lesson: importing each lesson and each ``core.viz`` module
    registers its own (drawing modules are often imported only when a lesson first draws)."""
    import importlib
    import pkgutil

    import core.viz
    from core.lesson import LESSONS
    from core.viz import words

    for target in LESSONS.values():
        importlib.import_module(target.split(":")[0])
    for module in pkgutil.iter_modules(core.viz.__path__):
        importlib.import_module(f"core.viz.{module.name}")
    return words.chinese_templates()


if __name__ == "__main__":
    path = build_subset(all_templates(), Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
    print(f"{path}: {path.stat().st_size / 1024:.0f} KiB, {len(characters(all_templates()))} characters")
