"""Safe image input: every picture a lesson sees passes through here.

Why a module of its own: uploads come from students, so anything can arrive — a photo from a phone
(rotated by EXIF), a transparent PNG, a CMYK scan, a 16-bit microscope frame, an animated GIF, an
empty file, an HTML page saved as ``.jpg``, or a decompression bomb. Lessons must only ever see an
``(H, W, 3)`` RGB ``uint8`` array, and a bad upload must become one clear :class:`ImageError`.

Size policy (documented in the README):

* ``MAX_BYTES`` (50 MB) and ``MAX_PIXELS`` (40 megapixels) are hard limits. Both are checked
  *before* any pixel is decoded — the pixel count comes from the file header — so a bomb costs
  microseconds, not gigabytes.
* ``WORK_LONG_SIDE`` (1024 px) caps the long side of the copy used for inference and display
  (:func:`fit_long_side`). The array returned by :func:`load_image` is the full-resolution
  original, and no function in this module modifies its input in place.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError

__all__ = [
    "ImageError",
    "MAX_BYTES",
    "MAX_PIXELS",
    "WORK_LONG_SIDE",
    "fit_long_side",
    "load_image",
    "to_uint8_rgb",
]

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 40_000_000
WORK_LONG_SIDE = 1024


class ImageError(ValueError):
    """A bad image input, with a message written for a student, not for a developer."""


def load_image(src: Any) -> np.ndarray:
    """Read ``src`` into an ``(H, W, 3)`` RGB ``uint8`` array.

    ``src`` may be a path (``str``/``Path``), ``bytes``, a binary file-like object, a PIL image, a
    numpy array or a torch tensor. EXIF orientation is applied; grayscale, palette, RGBA (composited
    on white), CMYK, 16-bit and float images become RGB ``uint8``; animations give their first frame.
    Raises :class:`ImageError` for anything that is not a readable image within the limits.
    """
    if isinstance(src, Image.Image):
        return _from_pil(src)
    if isinstance(src, np.ndarray) or _is_tensor(src):
        return to_uint8_rgb(src)
    data = _read_bytes(src)
    return _decode(data)


def fit_long_side(image: np.ndarray, max_side: int = WORK_LONG_SIDE) -> np.ndarray:
    """Return a copy whose long side is at most ``max_side`` (area interpolation), aspect kept.

    Images already small enough come back as a copy too, so callers may draw on the result
    without touching the original.
    """
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return image.copy()
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def to_uint8_rgb(array: Any) -> np.ndarray:
    """Convert an array-like image (HW, HW1, HW3, HW4, CHW or 1CHW; any dtype) to RGB ``uint8``."""
    channels_first = _is_tensor(array)  # torch images are (C, H, W); numpy ones (H, W, C)
    if channels_first:
        array = array.detach().cpu().float().numpy()
    arr = np.asarray(array)
    if arr.size == 0:
        raise ImageError("The image is empty (it has no pixels).")
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and (channels_first or arr.shape[-1] > 4):
        arr = np.moveaxis(arr, 0, -1)  # CHW -> HWC
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (2, 3, 4)):
        raise ImageError(
            f"An image must have height, width and 1 to 4 colour channels; got shape {arr.shape}."
        )
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise ImageError(_too_many_pixels(arr.shape[1], arr.shape[0]))
    arr = _to_uint8(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    elif arr.shape[-1] == 2:  # gray + alpha
        arr = _composite_on_white(arr[..., [0, 0, 0, 1]])
    elif arr.shape[-1] == 4:
        arr = _composite_on_white(arr)
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------------------------- #
# internals


def _is_tensor(obj: Any) -> bool:
    return type(obj).__module__.startswith("torch") and hasattr(obj, "detach")


def _read_bytes(src: Any) -> bytes:
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        if not path.is_file():
            raise ImageError(f"No image file was found at '{path.name}'.")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImageError(_too_big(size))
        data = path.read_bytes()
    elif isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
    elif hasattr(src, "read"):
        data = src.read(MAX_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise ImageError("The upload could not be read as binary data.")
        data = bytes(data)
    else:
        raise ImageError(f"LensLab cannot read an image from a {type(src).__name__}.")
    if not data:
        raise ImageError("The file is empty: it contains 0 bytes. Please choose a photo and upload it again.")
    if len(data) > MAX_BYTES:
        raise ImageError(_too_big(len(data)))
    return data


def _decode(data: bytes) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))  # reads the header only, no pixels yet
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" of {int(claimed.group(1)) / 1e6:,.0f} megapixels" if claimed else ""
        raise ImageError(
            f"This file claims an enormous picture{size} (a 'decompression bomb'); it was not opened. "
            f"The limit is {MAX_PIXELS / 1e6:.0f} megapixels."
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageError(_not_an_image(data)) from exc
    except Exception as exc:  # noqa: BLE001 - PIL raises many types on garbage headers
        raise ImageError(f"The file looks damaged and could not be read ({type(exc).__name__}).") from exc
    with im:
        width, height = im.size
        if width < 1 or height < 1:
            raise ImageError("The image has no pixels (its width or height is 0).")
        if width * height > MAX_PIXELS:
            raise ImageError(_too_many_pixels(width, height))
        return _from_pil(im, from_file=True)


def _from_pil(im: Image.Image, from_file: bool = False) -> np.ndarray:
    """Decode (if needed), orient and convert a PIL image; all decoding errors become ImageError."""
    if im.width * im.height > MAX_PIXELS:
        raise ImageError(_too_many_pixels(im.width, im.height))
    if getattr(im, "is_animated", False):
        im = next(iter(ImageSequence.Iterator(im)))  # first frame
    strict = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        # A library elsewhere in the process may have switched truncation tolerance on; a cut-off
        # upload must still be reported, so insist on complete files while we decode.
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        im.load()
        im = ImageOps.exif_transpose(im)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        if from_file and "truncated" in str(exc).lower():
            raise ImageError(
                "The image file is incomplete (truncated) — the upload was probably cut off. "
                "Please upload it again."
            ) from exc
        raise ImageError(f"The image could not be decoded; the file seems damaged ({exc}).") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = strict
    return _pil_to_rgb(im)


def _pil_to_rgb(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im, dtype=np.uint8).copy()
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return to_uint8_rgb(np.asarray(im))
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode == "P" and "transparency" in im.info
    ) or (mode in ("L", "RGB") and "transparency" in im.info)
    if has_alpha:
        return _composite_on_white(np.asarray(im.convert("RGBA")))
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale any numeric dtype to uint8 the way a viewer would show it."""
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(finite.min()), float(finite.max())
        if lo >= 0.0 and hi <= 1.0:
            scaled = finite * 255.0
        elif lo >= 0.0 and hi <= 255.0:
            scaled = finite
        else:  # arbitrary range (e.g. a normalised tensor): stretch to the full range
            scaled = (finite - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(finite)
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        as_int = arr.astype(np.int64)
        hi = int(as_int.max())
        if int(as_int.min()) >= 0 and hi <= 255 and arr.dtype.itemsize == 1:
            return as_int.astype(np.uint8)
        if arr.dtype in (np.uint16, np.int16) or hi <= 65535:
            # 16-bit data (even when stored as int32, as PIL does for 16-bit PNGs): full range 0..65535
            return np.clip(np.rint(as_int / 257.0), 0, 255).astype(np.uint8)
        return np.clip(np.rint(as_int / (hi / 255.0)), 0, 255).astype(np.uint8)
    raise ImageError(f"Pixels of type {arr.dtype} cannot be shown as an image.")


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    out = rgb * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _not_an_image(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return (
            "This file is a web page (HTML), not an image. Save the picture itself "
            "(right-click it → 'Save image as…') and upload that file."
        )
    if head.startswith((b"<svg", b"<?xml")):
        return "SVG drawings are not supported; please export it as PNG or JPEG first."
    if head.startswith(b"%pdf"):
        return "This is a PDF document, not an image; please upload a PNG, JPEG, WebP, GIF, BMP or TIFF."
    return (
        "This file is not an image LensLab can read. Please upload a PNG, JPEG, WebP, GIF, BMP or TIFF."
    )


def _too_many_pixels(width: int, height: int) -> str:
    mpx = width * height / 1e6
    return (
        f"The image is {width}×{height} pixels ({mpx:,.1f} megapixels); the limit is "
        f"{MAX_PIXELS / 1e6:.0f} megapixels. Please resize it and upload it again."
    )


def _too_big(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:,.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. "
        "Please upload a smaller image."
    )
