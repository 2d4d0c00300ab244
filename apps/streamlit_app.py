"""LensLab's second front end: `streamlit run apps/streamlit_app.py` (from the repository root).

One page per lesson (``apps/streamlit_pages/<lesson>.py``), in the teaching order of
:data:`apps.registry.PAGES`, all drawn from the same core as the Gradio app: controls from each
lesson's ``PARAMS``, results from its ``run``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only apps/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from apps.registry import PAGES  # noqa: E402

ICONS = {"attention": "🔍", "swin": "🪟", "repmlp": "🧮", "pointrend": "🎯", "simota": "📦",
         "diffusion": "🌫️", "compare": "⚖️"}
PAGES_DIR = Path(__file__).resolve().parent / "streamlit_pages"

st.set_page_config(page_title="LensLab — see inside vision models", page_icon="🔬", layout="wide")
pages = [
    st.Page(PAGES_DIR / f"{page.lesson}.py", title=page.title, icon=ICONS.get(page.lesson),
            url_path=page.lesson, default=i == 0)
    for i, page in enumerate(PAGES)
]
st.sidebar.markdown("## 🔬 LensLab\nUpload a photo and see what vision architectures do inside.")
st.navigation(pages).run()
