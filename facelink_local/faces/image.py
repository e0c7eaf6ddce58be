"""Turn uploaded bytes into an upright RGB array, refusing what is not a photo.

Pillow reads the header first, so a decompression bomb (a small file whose
header claims a huge size) is refused before any pixel is decoded. EXIF
orientation is applied, palettes, grey and CMYK become RGB, transparency is laid
on white, and animated formats give their first frame.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # over 40 megapixels is refused from the header alone
# A truncated JPEG that still decodes in part is better than nothing from a camera.
ImageFile.LOAD_TRUNCATED_IMAGES = True
# Pillow's own bomb guard, kept just above ours so ours answers first.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS + 1


class InvalidImage(ValueError):
    """The bytes are not an image we can read (empty, unknown, broken, too large)."""


def decode_image(data: bytes, max_side: int | None = None) -> NDArray[np.uint8]:
    """Decode `data` to an upright (H, W, 3) uint8 RGB array.

    `max_side` shrinks large photos while decoding (JPEG's DCT scaling makes
    that much cheaper than decoding at full size and resizing).
    """
    if not data:
        raise InvalidImage("empty body")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise InvalidImage(f"image of {width}x{height} pixels is not accepted")
            if max_side and max(width, height) > max_side and image.format == "JPEG":
                scale = max_side / max(width, height)
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.seek(0)  # first frame of GIF/WebP/TIFF
            image.load()
            image = ImageOps.exif_transpose(image) or image
            rgb = _to_rgb(image)
    except InvalidImage:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as exc:
        raise InvalidImage(str(exc) or type(exc).__name__) from exc
    if max_side and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    array = np.asarray(rgb, dtype=np.uint8)
    if array.ndim != 3 or array.shape[2] != 3 or array.size == 0:
        raise InvalidImage("decoded image has no pixels")
    return np.ascontiguousarray(array)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def encode_jpeg(rgb: NDArray[np.uint8], quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def encode_png(rgb: NDArray[np.uint8]) -> bytes:
    """Lossless: stored chips can be re-embedded by a later engine exactly."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def decode_png(data: bytes) -> NDArray[np.uint8]:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
