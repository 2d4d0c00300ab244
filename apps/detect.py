"""Lesson page placeholder (replaced when the lesson is built)."""

from apps.frame import launch
from apps.pending import pending_demo

demo = pending_demo("simota")

if __name__ == "__main__":
    launch(demo)
