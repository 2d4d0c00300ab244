"""core.images at its boundaries: the exact values at the edges of each dtype's range, the size limits
(one under, at, one over), compositing on white, and the working copy's size."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core import images
from core.images import ImageError, fit_long_side, load_image, to_uint8_rgb


def _gray(values, dtype) -> list[int]:
    return to_uint8_rgb(np.asarray([values], dtype=dtype))[0, :, 0].tolist()


def test_float_in_unit_range_including_exactly_one_is_scaled_by_255():
    assert _gray([0.0, 0.5, 0.999, 1.0], np.float32) == [0, 128, 255, 255]  # 127.5 and 254.7 round
    assert _gray([0.0, 0.25], np.float64) == [0, 64]


def test_float_in_byte_range_including_exactly_255_is_kept():
    assert _gray([10.0, 100.0, 254.6, 255.0], np.float32) == [10, 100, 255, 255]  # not stretched from 10
    assert _gray([-1.0, 0.0, 1.0, 3.0], np.float32) == [0, 64, 128, 255]  # any other range: stretched


def test_16_bit_divides_by_257():
    assert _gray([0, 257, 385, 641, 65535], np.uint16) == [0, 1, 1, 2, 255]
    assert _gray([0, 385, 65535], np.int32) == [0, 1, 255]  # PIL's 16-bit PNGs arrive as int32


def test_transparent_pixels_become_white():
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, :, :3] = 40
    rgba[0, :, 3] = [0, 255, 102]
    assert to_uint8_rgb(rgba)[0, :, 0].tolist() == [255, 40, 169]  # 40·0.4 + 255·0.6 = 16 + 153
    gray_alpha = np.zeros((1, 2, 2), np.uint8)
    gray_alpha[0, :, 0] = 100
    gray_alpha[0, :, 1] = [255, 0]
    assert to_uint8_rgb(gray_alpha).tolist() == [[[100, 100, 100], [255, 255, 255]]]


def test_numpy_chw_becomes_hwc():
    chw = np.zeros((3, 5, 6), np.uint8)
    chw[0] = 200
    out = to_uint8_rgb(chw)
    assert out.shape == (5, 6, 3) and out[..., 0].min() == 200 and out[..., 1].max() == 0


def test_pixel_limit_admits_exactly_the_limit(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    assert to_uint8_rgb(np.zeros((10, 10), np.uint8)).shape == (10, 10, 3)
    with pytest.raises(ImageError, match="limit"):
        to_uint8_rgb(np.zeros((10, 11), np.uint8))


def _png(h: int, w: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), 90, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_pixel_limit_of_a_file_admits_exactly_the_limit(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    assert load_image(_png(10, 10)).shape == (10, 10, 3)
    with pytest.raises(ImageError, match="10×11 pixels"):
        load_image(_png(11, 10))


def test_byte_limit_admits_exactly_the_limit(monkeypatch, tmp_path):
    data = _png(8, 8)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    monkeypatch.setattr(images, "MAX_BYTES", len(data))
    assert load_image(path).shape == (8, 8, 3)
    assert load_image(io.BytesIO(data)).shape == (8, 8, 3)
    monkeypatch.setattr(images, "MAX_BYTES", len(data) - 1)
    for src in (path, io.BytesIO(data), data):
        with pytest.raises(ImageError, match="the limit is"):
            load_image(src)


def test_working_copy_rounds_the_short_side():
    img = np.zeros((1000, 1500, 3), np.uint8)
    assert fit_long_side(img).shape == (683, 1024, 3)  # 1000 · 1024/1500 = 682.7
    assert fit_long_side(np.zeros((1024, 10, 3), np.uint8)).shape == (1024, 10, 3)
