"""The ``lenslab`` command: ``lenslab serve`` starts the workbench; ``lenslab export`` renders a lesson's
figures for slides without any UI (``lenslab export swin --image cat.jpg --out swin.png``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _parse_params(pairs: list[str], lesson: str) -> dict[str, Any]:
    from core.lesson import get_params

    spec = {p.name: p for p in get_params(lesson)}
    params: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--param takes name=value, not {pair!r}")
        name, value = pair.split("=", 1)
        if name not in spec:
            raise SystemExit(f"{lesson} has no parameter {name!r}; it has: {', '.join(spec) or 'none'}")
        p = spec[name]
        if p.kind == "bool":
            value = value.lower() in ("1", "true", "yes", "on")
        try:
            params[name] = p.check(value)
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
    return params


def export(lesson: str, image: str, out: Path, pairs: list[str], cols: int = 3) -> Path:
    """Run one lesson on one image and write all its figures as one captioned PNG (+ JSON summary)."""
    from core.images import load_image
    from core.lesson import get_runner
    from core.viz import montage, to_png_bytes

    result = get_runner(lesson)(load_image(image), **_parse_params(pairs, lesson))
    titles = [result.captions.get(k, k.replace("_", " ")) for k in result.images]
    sheet = montage(result.image_list(), titles=titles, cols=min(cols, len(result.images)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(to_png_bytes(sheet))
    out.with_suffix(".json").write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    return out


def serve(lesson: str | None, port: int | None, host: str | None) -> None:
    import importlib

    from apps.frame import launch
    from apps.registry import PAGES

    if lesson is None:
        module = "apps.app"
    else:
        page = next((p for p in PAGES if lesson in (p.lesson, p.module.rsplit(".", 1)[-1])), None)
        if page is None:
            raise SystemExit(f"unknown lesson {lesson!r}; choose from {', '.join(p.lesson for p in PAGES)}")
        module = page.module
    demo = importlib.import_module(module).demo
    kwargs: dict[str, Any] = {}
    if port:
        kwargs["server_port"] = port
    if host:
        kwargs["server_name"] = host
    launch(demo, **kwargs)


def main(argv: list[str] | None = None) -> None:
    from core.lesson import LESSONS

    parser = argparse.ArgumentParser(prog="lenslab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="start the workbench (all lessons, or one)")
    p_serve.add_argument("lesson", nargs="?", default=None)
    p_serve.add_argument("--port", type=int, default=None)
    p_serve.add_argument("--host", default=None, help="e.g. 0.0.0.0 to serve a classroom network")
    p_export = sub.add_parser("export", help="render a lesson's figures to a PNG for slides")
    p_export.add_argument("lesson", choices=sorted(LESSONS))
    p_export.add_argument("--image", required=True)
    p_export.add_argument("--out", type=Path, required=True)
    p_export.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p_export.add_argument("--cols", type=int, default=3)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.lesson, args.port, args.host)
    else:
        from core.images import ImageError

        try:
            path = export(args.lesson, args.image, args.out, args.param, args.cols)
        except ImageError as exc:
            raise SystemExit(f"lenslab: {exc}") from None
        print(f"wrote {path} and {path.with_suffix('.json')}")


if __name__ == "__main__":
    main(sys.argv[1:])
