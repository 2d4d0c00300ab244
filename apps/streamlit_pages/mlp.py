"""Streamlit page: MLP family (the lesson's core and text, shared with the Gradio page)."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # `streamlit run` puts only the script's folder on the path
    sys.path.insert(0, ROOT)

from apps.streamlit_pages._lesson import render  # noqa: E402

render("mlp")
