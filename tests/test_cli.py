"""The lenslab console script: `export` renders a lesson's figures for slides without any UI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from apps.cli import main


def test_export_writes_a_figure_sheet_and_its_json(tmp_path, cat_path):
    out = tmp_path / "swin.png"
    main(["export", "swin", "--image", str(cat_path), "--out", str(out)])
    sheet = np.asarray(Image.open(out))
    assert sheet.ndim == 3 and min(sheet.shape[:2]) > 300
    assert sheet.std() > 10  # real figures, not a blank canvas
    summary = json.loads(out.with_suffix(".json").read_text())
    assert isinstance(summary, dict) and summary


def test_export_rejects_bad_parameters_and_images_with_clear_messages(tmp_path, cat_path):
    with pytest.raises(SystemExit, match="has no parameter"):
        main(["export", "swin", "--image", str(cat_path), "--out", str(tmp_path / "x.png"),
              "--param", "no_such_thing=1"])
    bad = tmp_path / "page.png"
    bad.write_text("<html>not an image</html>")
    with pytest.raises(SystemExit, match="web page"):
        main(["export", "swin", "--image", str(bad), "--out", str(tmp_path / "y.png")])
