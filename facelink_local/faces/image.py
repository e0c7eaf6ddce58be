"""Turn uploaded bytes into an upright RGB array, refusing what is not a photo.

Pillow reads the header first, so a decompression bomb (a small file whose
header claims a huge size) is refused before any pixel is decoded. EXIF
orientation is applied, palettes, grey and CMYK become RGB, transparency is laid
on white, and animated formats give their first frame.

Memory stays bounded: at most MAX_PIXELS are decoded, JPEGs are decoded already
scaled down (DCT scaling), and any other large photo is shrunk in its own mode
before conversion or rotation. The full-size picture (at most 4 bytes a pixel:
160 MB at the limit) then exists once, or twice for a transparent one (Pillow
premultiplies alpha to resample it), instead of once per conversion step.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # over 40 megapixels is refused from the header alone
# A truncated JPEG that still decodes in part is better than nothing from a camera.
ImageFile.LOAD_TRUNCATED_IMAGES = True
# Pillow's own bomb guard, kept just above ours so ours answers first.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS + 1

# EXIF orientation -> the transposition that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class InvalidImage(ValueError):
    """The bytes are not an image we can read (empty, unknown, broken, too large)."""


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the header alone, as stored (before EXIF orientation)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # only the header is read
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except (Image.DecompressionBombError, UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(str(exc) or type(exc).__name__) from exc


def decode_image(data: bytes, max_side: int | None = None, max_pixels: int = MAX_PIXELS) -> NDArray[np.uint8]:
    """Decode `data` to an upright (H, W, 3) uint8 RGB array.

    `max_side` shrinks large photos while decoding (JPEG's DCT scaling makes
    that much cheaper than decoding at full size and resizing). Larger than
    `max_pixels` is refused from the header alone.
    """
    if not data:
        raise InvalidImage("empty body")
    try:
        with warnings.catch_warnings():
            # Above MAX_PIXELS only for a caller's own files (the camera's); Pillow stops at twice it.
            warnings.simplefilter("error" if max_pixels <= MAX_PIXELS else "ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on broken metadata
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise InvalidImage(f"image of {width}x{height} pixels is not accepted")
            if max_side and max(width, height) > max_side and image.format == "JPEG":
                scale = max_side / max(width, height)
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.seek(0)  # first frame of GIF/WebP/TIFF
            orientation = _orientation(image)
            image.load()
            if max_side and max(image.size) > max_side:
                image = _shrink(image, max_side)
            rgb = _to_rgb(image)
            if orientation in _UPRIGHT:
                rgb = rgb.transpose(_UPRIGHT[orientation])
    except InvalidImage:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as exc:
        raise InvalidImage(str(exc) or type(exc).__name__) from exc
    array = np.asarray(rgb, dtype=np.uint8)
    if array.ndim != 3 or array.shape[2] != 3 or array.size == 0:
        raise InvalidImage("decoded image has no pixels")
    return np.ascontiguousarray(array)


def _orientation(image: Image.Image) -> int:
    """The EXIF (or XMP) orientation; metadata too broken to read counts as upright."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # noqa: BLE001 - any failure in untrusted metadata means "no orientation"
        return 1
    return value if isinstance(value, int) else 1


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    """A copy at most `max_side` pixels on its longer side, made before any conversion.

    Palette and 1-bit pictures cannot be resampled smoothly, so they become
    RGB(A) first (at most 4 bytes a pixel, like any other full-size decode).
    `reducing_gap` lets Pillow first reduce by a whole factor (a cheap box
    filter), then resample the small copy.
    """
    if image.mode in ("P", "PA", "1"):
        image = image.convert("RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB")
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    try:
        return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    except ValueError:  # a mode Pillow cannot resample (rare 16-bit layouts): convert first
        return _to_rgb(image).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


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
