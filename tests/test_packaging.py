"""Packaging: requirements.txt (Spaces) equals pyproject's dependencies; README, CI and Spaces agree."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def _requirements(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            out[req.name.lower().replace("_", "-")] = str(req.specifier)
    return out


def test_requirements_txt_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = _requirements(project["dependencies"])
    spaces = _requirements((ROOT / "requirements.txt").read_text().splitlines())
    assert spaces == ours
    assert project["requires-python"] == ">=3.10"
    for needed in ("torch", "timm", "diffusers", "gradio", "gradio-client", "streamlit", "matplotlib",
                   "plotly", "opencv-python-headless", "safetensors", "huggingface-hub", "pillow", "numpy"):
        assert needed in ours, needed
    assert ours["gradio"].startswith(("<7,>=6", ">=6")) or "<7" in ours["gradio"]
    dev = _requirements(project["optional-dependencies"]["dev"])
    assert {"pytest", "ruff", "playwright"} <= set(dev)


def test_readme_quick_start_and_ci_run_the_same_test_command():
    readme = (ROOT / "README.md").read_text()
    start = 'pip install -e ".[dev]" && gradio apps/app.py'
    test = 'pip install -e ".[dev]" && pytest'
    assert start in readme and test in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and "HF_HUB_OFFLINE=1" in ci
    assert test in ci


def test_spaces_front_matter_points_at_the_app():
    readme = (ROOT / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", readme, re.S)
    assert match, "README must start with the Spaces front matter"
    meta = dict(line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
    meta = {k.strip(): v.strip().strip('"') for k, v in meta.items()}
    assert meta["sdk"] == "gradio" and meta["app_file"] == "apps/app.py"
    import gradio

    assert meta["sdk_version"] == gradio.__version__


def test_dockerfile_runs_the_app_as_uid_1000_on_7860():
    docker = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in docker and "apps/app.py" in docker
    assert re.search(r"USER\s+1000|--uid 1000|-u 1000", docker)
    assert "7860" in docker and "GRADIO_SERVER_NAME=0.0.0.0" in docker


def test_bundled_images_have_sources():
    sources = (ROOT / "assets" / "images" / "SOURCES.md").read_text()
    images = [p for p in (ROOT / "assets" / "images").iterdir() if p.suffix in (".jpg", ".png")]
    assert 5 <= len(images) <= 8
    for p in images:
        assert f"`{p.name}`" in sources, p.name


def test_weights_are_safetensors_with_model_cards():
    weights = ROOT / "assets" / "weights"
    pickles = [p for p in ROOT.rglob("*")
               if p.suffix in (".pt", ".pth", ".pkl", ".ckpt") and ".git" not in p.parts]
    assert pickles == []
    cards = {p.name: p.read_text() for p in weights.glob("*.md")}
    for f in weights.glob("*.safetensors"):
        assert f.stat().st_size <= 20e6, f.name
        # its own card (<name>.md), or a family card that names the file (early checkpoints)
        assert f.with_suffix(".md").name in cards or any(f.name in text for text in cards.values()), (
            f"no model card for {f.name}")
