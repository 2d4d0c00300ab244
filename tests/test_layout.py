"""The layout every lesson builds on (CONTRIBUTING.md): checked on the source, so it cannot drift."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from apps.registry import FAMILIES, PAGES
from core.lesson import LESSONS

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_a_ui_library_nor_the_trainers():
    for path in CORE.rglob("*.py"):
        if "train" in path.relative_to(CORE).parts[:1]:
            continue
        imported = _imports(path)
        ui = {n for n in imported if n.split(".")[0] in ("gradio", "streamlit")}
        trainers = {n for n in imported if n == "core.train" or n.startswith("core.train.")}
        assert not ui, f"{path.relative_to(ROOT)} imports {ui}"
        assert not trainers, f"{path.relative_to(ROOT)} imports the trainers: {trainers}"


def test_shapesworld_is_data_shared_by_lessons_and_trainers():
    assert (CORE / "data" / "shapesworld.py").is_file() and not (CORE / "train" / "shapesworld.py").exists()
    trainers = [p for p in (CORE / "train").glob("*.py") if "core.data.shapesworld" in _imports(p)]
    assert len(trainers) >= 4


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.lesson)
def test_every_page_is_registered_once_and_builds_fresh(page):
    assert page.lesson in LESSONS and page.group in FAMILIES
    module = importlib.import_module(page.module)
    assert callable(getattr(module, "build", None)), f"{page.module} has no build()"
    source = (ROOT / (page.module.replace(".", "/") + ".py")).read_text()
    assert "\nwith gr.Blocks(" not in source, f"{page.module} builds its Blocks at import"


def test_lessons_and_pages_name_each_other():
    assert {p.lesson for p in PAGES} == set(LESSONS)
    assert len({p.lesson for p in PAGES}) == len(PAGES)


def test_lesson_modules_stay_small_with_their_algorithms_apart():
    """A lesson module past ~600 lines splits its reference-exact algorithms into a module of their own."""
    for lesson, target in LESSONS.items():
        path = ROOT / (target.split(":")[0].replace(".", "/") + ".py")
        lines = len(path.read_text().splitlines())
        assert lines <= 700, f"{lesson}: {path.relative_to(ROOT)} has {lines} lines"
    for split in ("repmlp_ops", "assigners", "compare_ops"):
        assert (CORE / f"{split}.py").is_file()
