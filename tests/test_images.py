"""core.images: odd but valid images become correct RGB uint8; every bad input is one clear ImageError."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from core.images import MAX_PIXELS, WORK_LONG_SIDE, ImageError, fit_long_side, load_image


def _png(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _jpeg(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=95, **kw)
    return buf.getvalue()


def _gradient(w: int = 40, h: int = 30) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 128)], -1).astype(np.uint8)


# ------------------------------------------------------------------------------------------- valid


def test_rgb_png_round_trip_is_exact(tmp_path):
    arr = _gradient()
    path = tmp_path / "g.png"
    Image.fromarray(arr).save(path)
    for src in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes()), Image.open(path), arr):
        out = load_image(src)
        assert out.dtype == np.uint8 and out.shape == (30, 40, 3)
        np.testing.assert_array_equal(out, arr)


def test_exif_orientation_is_applied():
    # A 2×1 picture (red left, blue right) stored with EXIF orientation 6 ("rotate 90° CW to view").
    arr = np.zeros((1, 2, 3), np.uint8)
    arr[0, 0] = (255, 0, 0)
    arr[0, 1] = (0, 0, 255)
    im = Image.fromarray(arr).resize((20, 10), Image.NEAREST)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = load_image(_jpeg(im, exif=exif.tobytes()))
    assert out.shape == (20, 10, 3)  # rotated: now taller than wide
    top, bottom = out[2, 5].astype(int), out[17, 5].astype(int)
    assert top[0] > 200 and top[2] < 60  # red on top after a clockwise turn
    assert bottom[2] > 200 and bottom[0] < 60


def test_rgba_is_composited_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red
    rgba[:2, :, 3] = 255  # top half opaque, bottom transparent
    rgba[2, :, 3] = 128  # a half-transparent row
    out = load_image(_png(Image.fromarray(rgba, "RGBA")))
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(out[3, 0], [255, 255, 255])
    np.testing.assert_array_equal(out[2, 0], [255, 127, 127])  # 255·a + 255·(1−a) on R; 255·(1−a) on G, B


def test_palette_with_transparency_and_la():
    pal = Image.new("P", (3, 3), 0)
    pal.putpalette([0, 128, 0] + [255, 0, 0] * 255)
    pal.info["transparency"] = 0
    out = load_image(_png(pal, transparency=0))
    np.testing.assert_array_equal(out[1, 1], [255, 255, 255])
    la = Image.fromarray(np.stack([np.full((2, 2), 10, np.uint8), np.full((2, 2), 255, np.uint8)], -1), "LA")
    np.testing.assert_array_equal(load_image(_png(la))[0, 0], [10, 10, 10])


def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    out = load_image(_jpeg(cmyk))
    assert out.shape == (8, 8, 3)
    r, g, b = out[4, 4].astype(int)
    assert r > 200 and g < 60 and b < 60


def test_sixteen_bit_gray_png_is_scaled():
    arr16 = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    out = load_image(_png(Image.fromarray(arr16)))
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255])
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_grayscale_bilevel_and_float_arrays():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(load_image(_png(Image.fromarray(gray)))[..., 1], gray)
    bilevel = Image.new("1", (5, 5), 1)
    np.testing.assert_array_equal(load_image(_png(bilevel))[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(load_image(np.full((2, 2), 0.5))[0, 0], [128, 128, 128])
    np.testing.assert_array_equal(load_image(np.ones((2, 2, 1), bool))[0, 0], [255, 255, 255])


def test_torch_tensors_chw_and_batched():
    t = torch.zeros(1, 3, 5, 6)
    t[0, 2] = 1.0
    out = load_image(t)
    assert out.shape == (5, 6, 3)
    np.testing.assert_array_equal(out[0, 0], [0, 0, 255])


def test_first_frame_of_an_animation():
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out = load_image(buf.getvalue())
    r, g, b = out[3, 3].astype(int)
    assert r > 200 and g < 50 and b < 50


def test_one_by_one_pixel():
    out = load_image(_png(Image.new("RGB", (1, 1), (1, 2, 3))))
    assert out.shape == (1, 1, 3)
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3])


def test_bundled_examples_load(cat_path):
    out = load_image(cat_path)
    assert out.shape == (300, 451, 3) and out.dtype == np.uint8


def test_fit_long_side_caps_and_never_modifies_the_original():
    big = np.zeros((600, 2400, 3), np.uint8)
    big[:, :10] = 255
    before = big.copy()
    small = fit_long_side(big)
    assert max(small.shape[:2]) == WORK_LONG_SIDE and small.shape[0] == 256
    small[:] = 7
    np.testing.assert_array_equal(big, before)
    tiny = np.ones((5, 5, 3), np.uint8)
    copy = fit_long_side(tiny)
    assert copy is not tiny and np.array_equal(copy, tiny)


# --------------------------------------------------------------------------------------------- bad


def _huge_png_header(width: int, height: int) -> bytes:
    """A valid PNG that declares width×height pixels but holds only one tiny compressed row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + 3 * 16))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"", "empty"),
        (b"just some text, definitely not a picture", "not an image"),
        (b"<!DOCTYPE html><html><body>Oops</body></html>", "web page"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG"),
    ],
)
def test_bad_bytes_raise_clear_image_errors(payload, words):
    with pytest.raises(ImageError, match=f"(?i){words}"):
        load_image(payload)


def test_truncated_jpeg_and_png():
    jpeg = _jpeg(Image.fromarray(_gradient(200, 200)))
    with pytest.raises(ImageError, match="(?i)incomplete|truncated|damaged"):
        load_image(jpeg[: len(jpeg) // 2])
    png = _png(Image.fromarray(_gradient(200, 200)))
    with pytest.raises(ImageError, match="(?i)incomplete|truncated|damaged"):
        load_image(png[: len(png) // 2])


def test_truncated_image_still_refused_when_pil_tolerance_is_switched_on():
    jpeg = _jpeg(Image.fromarray(_gradient(200, 200)))
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(ImageError):
            load_image(jpeg[: len(jpeg) // 2])
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored for whoever set it
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


@pytest.mark.parametrize("side", [7000, 50_000, 65_000])
def test_decompression_bombs_are_refused_fast_without_decoding(side):
    bomb = _huge_png_header(side, side)
    assert len(bomb) < 200
    start = time.perf_counter()
    with pytest.raises(ImageError, match="(?i)megapixels|decompression bomb"):
        load_image(bomb)
    assert time.perf_counter() - start < 1.0


def test_just_over_the_pixel_limit_is_refused_with_the_numbers():
    w = 8000
    h = MAX_PIXELS // w + 1
    with pytest.raises(ImageError, match="40 megapixels"):
        load_image(_huge_png_header(w, h))
    with pytest.raises(ImageError, match="megapixels"):
        load_image(np.zeros((h, w), np.uint8)[:, :, None].repeat(1, axis=2))


def test_missing_file_and_unreadable_types(tmp_path):
    with pytest.raises(ImageError, match="No image file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageError):
        load_image(12345)
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros((5, 5, 7), np.uint8))
    gray_alpha = np.zeros((4, 4, 2), np.uint8)  # gray 0 with alpha 0 → white
    np.testing.assert_array_equal(load_image(gray_alpha)[0, 0], [255, 255, 255])
    with pytest.raises(ImageError, match="empty"):
        load_image(np.zeros((0, 4, 3), np.uint8))


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    import core.images as images

    monkeypatch.setattr(images, "MAX_BYTES", 1000)
    path = tmp_path / "big.png"
    path.write_bytes(b"\x89PNG" + b"\0" * 2000)
    with pytest.raises(ImageError, match="MB"):
        load_image(path)
    with pytest.raises(ImageError, match="MB"):
        load_image(io.BytesIO(b"x" * 2000))


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)


def test_every_lesson_decodes_an_upload_once(monkeypatch, cat_path):
    """A lesson reads the uploaded file once; every view after that works on the decoded array."""
    from core import images, lesson

    calls = []
    original = images._decode
    monkeypatch.setattr(images, "_decode", lambda data: calls.append(len(data)) or original(data))
    for name in lesson.LESSONS:
        calls.clear()
        kwargs = {"steps": 2} if name == "diffusion" else {}
        lesson.get_runner(name)(str(cat_path), **kwargs)
        assert len(calls) == 1, f"{name} decoded the upload {len(calls)} times"
