"""The one Streamlit page every lesson uses, built from the lesson contract alone.

Controls come from the lesson's ``PARAMS`` (:class:`core.lesson.Param`), the result from its
``run(image, **params) -> LessonResult`` (:func:`core.lesson.get_runner`): nothing is computed here
that the Gradio page does not get from the same core call. A lesson whose core module does not exist
yet shows what it will teach and says that it is being built — never a made-up output.

Links (design doc *API*, "Links"): a page opened as ``/<lesson>?<query>`` reads its settings, a bundled
``example=`` photo or a ``scene=`` from the query once per session, with the same checks and messages as
the Gradio pages (:func:`core.links.parse`), runs that view, and keeps the address bar on the view shown.

Control conventions (data in ``Param``):

* ``int``/``float`` with both bounds → a slider, otherwise a number box;
* ``choice`` → a select box (zoo model names are shown by their titles);
* ``bool`` → a toggle;
* ``text`` with ``choices`` → a multi-select whose selection is passed as ``"a,b,c"``;
  ``text`` without → a text box.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import streamlit as st

from apps.registry import PAGES
from core import lesson as contract
from core import links
from core.images import ImageError, load_image
from core.text import LANGUAGES, explanation
from core.viz import montage, to_png_bytes
from core.zoo import WeightsError

ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = ROOT / "assets" / "images"
BUILDING = "This lesson is being built"


# --------------------------------------------------------------------------------------------- #
# lesson discovery


def lesson_state(lesson: str) -> tuple[str, str]:
    """``("ready" | "building" | "broken", detail)`` for a lesson id.

    "building": its core module (or a ``core`` module it needs) does not exist yet, or it has no
    ``run`` — other engineers are writing it. "broken": it exists but fails to import; the page shows
    the error instead of hiding it.
    """
    module_name, _, func = contract.LESSONS[lesson].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or exc.name.startswith("core.")):
            return "building", f"{exc.name} does not exist yet"
        return "broken", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - shown on the page, not swallowed
        return "broken", f"{type(exc).__name__}: {exc}"
    if not callable(getattr(module, func, None)):
        return "building", f"{module_name} has no {func}() yet"
    return "ready", ""


def page_info(lesson: str) -> Any:
    return next(p for p in PAGES if p.lesson == lesson)


# --------------------------------------------------------------------------------------------- #
# cached work: bundled examples and lesson results


@st.cache_resource(show_spinner=False)
def sample_bytes() -> dict[str, bytes]:
    """The bundled photos and ShapesWorld examples by file name — the names a link's ``example=`` takes."""
    return {name: path.read_bytes() for name, path in links.bundled_photos().items()}


@st.cache_resource(show_spinner=False, max_entries=24)
def run_lesson(lesson: str, image_digest: str, _image: np.ndarray, params: tuple[tuple[str, Any], ...]
               ) -> contract.LessonResult:
    """One core call per (lesson, image, parameters); results are shared read-only between sessions."""
    return contract.get_runner(lesson)(_image, **dict(params))


# --------------------------------------------------------------------------------------------- #
# widgets


def language() -> str:
    """The EN/中文 toggle, shared by every page of the session."""
    st.session_state.setdefault("lang", "en")
    choice = st.sidebar.segmented_control("Language · 语言", list(LANGUAGES), format_func=LANGUAGES.get,
                                          key="lang", required=True)
    return choice or "en"


def read_link(lesson: str) -> links.LinkState | None:
    """The view the page's address names, read once per session and page (later reruns keep what the
    visitor changed). Its settings go into the widgets' state before they are drawn; a refused value
    keeps its default and its message is shown, as on the Gradio page."""
    done = f"{lesson}:link-read"
    if st.session_state.get(done):
        return None
    st.session_state[done] = True
    state = links.parse(lesson, st.query_params.to_dict())
    params = {p.name: p for p in contract.get_params(lesson)}
    for name, value in state.run_params().items():
        if name not in state.params and name not in state.implied():
            continue
        p = params[name]
        if p.kind == "text" and p.choices:
            value = [v for v in str(value).split(",") if v in p.choices]
        st.session_state[f"{lesson}-{name}"] = value
    if state.example is not None:
        st.session_state[f"{lesson}:image-example"] = state.example
    if state.scene is not None:
        st.session_state[f"{lesson}:link-scene"] = (state.scene, state.style)
    return state


def image_picker(lesson: str) -> tuple[np.ndarray | None, str, links.ImageRef]:
    """A bundled example, the ShapesWorld scene a link named, or an upload, decoded by core.images
    (errors are shown, not raised); also where the image came from, for the page's link."""
    samples = sample_bytes()
    names = list(samples)
    scene = st.session_state.get(f"{lesson}:link-scene")
    scene_name = None
    if scene is not None:
        scene_name = links.SCENES[lesson].file_name(*scene)
        names.insert(0, scene_name)
    default = 0 if scene_name else (names.index("chelsea-cat.jpg") if "chelsea-cat.jpg" in names else 0)
    example = st.selectbox("Example photo", names, index=default, key=f"{lesson}:image-example")
    upload = st.file_uploader("…or upload your own", type=["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif",
                                                            "tiff"], key=f"{lesson}:image-upload")
    if upload is not None:
        data, ref = upload.getvalue(), links.ImageRef("upload")
    elif example == scene_name:
        data, ref = links.scene_png(lesson, *scene), links.ImageRef("scene", index=scene[0], style=scene[1])
    else:
        data, ref = samples[example], links.ImageRef("example", name=example)
    try:
        image = load_image(data)
    except ImageError as exc:
        st.error(str(exc))
        return None, "", ref
    st.image(image, caption="Input", width="stretch")
    return image, hashlib.sha1(data).hexdigest(), ref


def show_link(lesson: str, values: dict[str, Any], ref: links.ImageRef) -> None:
    """The link of the view on screen: written into the address bar and shown to copy."""
    query, note = links.link_for(lesson, links.values_from_page(lesson, values), ref)
    st.query_params.from_dict(dict(parse_qsl(query, keep_blank_values=True)))
    st.caption("Link to this view (bundled photos and settings travel with it):")
    st.code(f"/{lesson}" + (f"?{query}" if query else ""), language=None)
    if note:
        st.caption(note)


def _zoo_title(value: Any) -> str:
    from core import zoo

    try:
        return f"{zoo.get_entry(str(value)).title} ({value})"
    except (KeyError, ValueError):
        return str(value)


def control(lesson: str, p: contract.Param) -> Any:
    """A widget for one Param (see the module docstring for the conventions)."""
    key = f"{lesson}-{p.name}"  # parameter keys; page widgets use "<lesson>:…"
    label = p.label or p.name.replace("_", " ")
    help_ = p.help or None
    if p.kind in ("int", "float"):
        cast = int if p.kind == "int" else float
        step = cast(p.step) if p.step is not None else (1 if p.kind == "int" else None)
        if p.minimum is not None and p.maximum is not None:
            return st.slider(label, cast(p.minimum), cast(p.maximum), cast(p.default), step=step, help=help_,
                             key=key)
        return st.number_input(label, value=cast(p.default), step=step, help=help_, key=key,
                               min_value=None if p.minimum is None else cast(p.minimum),
                               max_value=None if p.maximum is None else cast(p.maximum))
    if p.kind == "choice":
        options = list(p.choices)
        return st.selectbox(label, options, index=options.index(p.default) if p.default in options else 0,
                            format_func=_zoo_title, help=help_, key=key)
    if p.kind == "bool":
        return st.toggle(label, value=bool(p.default), help=help_, key=key)
    if p.kind == "text" and p.choices:
        default = [v.strip() for v in str(p.default).split(",") if v.strip() in p.choices]
        picked = st.multiselect(label, list(p.choices), default=default, format_func=_zoo_title, help=help_,
                                key=key)
        return ",".join(picked)
    return st.text_input(label, value="" if p.default is None else str(p.default), help=help_, key=key)


# --------------------------------------------------------------------------------------------- #
# rendering a result


def show_result(lesson: str, result: contract.LessonResult) -> None:
    """Images (wide ones full width, others in a grid), plots, the JSON summary and the PNG sheet."""
    items = list(result.images.items())
    for group in _layout_groups(items):
        if len(group) == 1 and _is_sheet(group[0][1]):
            key, img = group[0]
            st.image(img, caption=result.captions.get(key, key.replace("_", " ")), width="stretch")
            continue
        cols = st.columns(3)
        for col, (key, img) in zip(cols, group, strict=False):
            col.image(img, caption=result.captions.get(key, key.replace("_", " ")), width="stretch")
    for name, fig in result.figures.items():
        if hasattr(fig, "to_plotly_json"):
            st.plotly_chart(fig, key=f"{lesson}:figure-{name}")
        elif hasattr(fig, "savefig"):
            st.pyplot(fig)
    with st.expander("Result (JSON)"):
        st.json(result.to_json())
    titles = [result.captions.get(k, k.replace("_", " ")) for k in result.images]
    sheet = montage(result.image_list(), titles=titles, cols=min(3, len(items)))
    st.download_button("Download figures (PNG)", to_png_bytes(sheet), file_name=f"lenslab-{lesson}.png",
                       mime="image/png", key=f"{lesson}:download")


def _is_sheet(img: np.ndarray) -> bool:
    """A composed sheet (side-by-side panels) or a panorama gets the full width."""
    return img.shape[1] >= 640 or img.shape[1] >= 1.6 * img.shape[0]


def _layout_groups(items: list[tuple[str, np.ndarray]]) -> list[list[tuple[str, np.ndarray]]]:
    """Keep the lesson's order: sheets alone, runs of smaller images in rows of three."""
    groups: list[list[tuple[str, np.ndarray]]] = []
    for key, img in items:
        if _is_sheet(img):
            groups.append([(key, img)])
        elif groups and not _is_sheet(groups[-1][0][1]) and len(groups[-1]) < 3:
            groups[-1].append((key, img))
        else:
            groups.append([(key, img)])
    return groups


def display_math_blocks(markdown: str) -> str:
    """Put every ``$$…$$`` on lines of its own: Streamlit's Markdown only renders display math that way
    (Gradio accepts both), so the shared explanation files need no Streamlit-specific form."""
    return re.sub(r"\$\$(.+?)\$\$", lambda m: "\n$$\n" + m.group(1).strip() + "\n$$\n", markdown,
                  flags=re.DOTALL)


def show_explanation(lesson: str, lang: str) -> None:
    st.divider()
    try:
        st.markdown(display_math_blocks(explanation(lesson, lang)))
    except FileNotFoundError:
        st.info("The explanation of this lesson is being written.")


# --------------------------------------------------------------------------------------------- #
# the page


def render(lesson: str) -> None:
    """Draw the page of ``lesson`` (called by ``apps/streamlit_pages/<lesson>.py``)."""
    info = page_info(lesson)
    lang = language()
    st.title(info.title)
    st.caption(info.teaches)
    state, detail = lesson_state(lesson)
    if state == "building":
        st.info(f"**{BUILDING}.** When it is ready it will show: {info.teaches}\n\n"
                f"Nothing is computed on this page yet, so nothing here is made up. ({detail})")
        show_explanation(lesson, lang)
        return
    if state == "broken":
        st.error(f"This lesson failed to load: {detail}")
        return

    params = contract.get_params(lesson)
    link = read_link(lesson)
    if link is not None and link.problems:
        st.warning("This link has values the page cannot use (their defaults are shown):\n\n"
                   + "\n".join(f"- {problem}" for problem in link.problems))
    left, right = st.columns([1, 2.4], gap="large")
    with left:
        image, digest, ref = image_picker(lesson)
        with st.form(f"{lesson}:form"):
            values = {p.name: control(lesson, p) for p in params}
            submitted = st.form_submit_button("Run", type="primary")
        show_link(lesson, values, ref)
    if link is not None and link.given:
        submitted = True  # a link opens its view, not an empty page
    with right:
        if submitted and image is not None:
            try:
                checked = tuple((p.name, p.check(values[p.name])) for p in params)
                with st.spinner("Running the lesson…"):
                    st.session_state[f"{lesson}:result"] = run_lesson(lesson, digest, image, checked)
            except (ValueError, KeyError, ImageError, WeightsError) as exc:
                st.error(str(exc.args[0]) if exc.args else str(exc))
        result = st.session_state.get(f"{lesson}:result")
        if result is None:
            st.info("Choose a photo and settings, then press **Run**.")
        else:
            show_result(lesson, result)
    show_explanation(lesson, lang)
