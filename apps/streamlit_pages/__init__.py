"""Streamlit pages, one file per lesson, all drawn by :func:`apps.streamlit_pages._lesson.render`."""
