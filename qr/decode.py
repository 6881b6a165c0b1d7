"""Read QR payloads back from images with zxing-cpp: to prove a rendered placard scans, and to read uploads.

Uploaded bytes are hostile until proven otherwise (issue 10). They are opened only as PNG, JPEG or WebP, so a
PostScript file named .png never reaches Pillow's EPS plugin and Ghostscript; their size is checked in bytes
before opening and in pixels from the header before any pixel is decoded; big photos are decoded small (JPEG
draft mode, then Image.reduce). Every refusal is an ImageError with a Vietnamese message, never a Pillow error.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import TYPE_CHECKING, Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from .errors import ImageError
from .text import strip_edges

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

ALLOWED_FORMATS: Final = ("PNG", "JPEG", "WEBP")
MAX_IMAGE_BYTES: Final = 10 * 1024 * 1024  # a 12 MP phone JPEG is 2-6 MB, a 4000x3000 screenshot PNG less
MAX_MEGAPIXELS: Final = 40  # above a phone's default photo (12-24 MP); 48-200 MP modes are not for placards
MAX_IMAGE_PIXELS: Final = MAX_MEGAPIXELS * 1_000_000
# Photos are reduced by the largest whole factor that keeps their long side at least this many pixels: a placard
# QR filling a fifth of a 4000-pixel photo keeps about 7 pixels a module, and zxing needs 2 or 3.
DECODE_SIDE: Final = 2000
# Only QR symbols are looked for (what zxing-cpp would convert a bare BarcodeFormat to, done once and typed).
_QR_ONLY: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
# What Pillow's decoders raise on damaged data; all of them become one ImageError.
_DECODE_FAILURES: Final = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error, zlib.error)


def decode_image(data: bytes | bytearray | memoryview | PILImage) -> list[str]:
    """Return the text of every QR code found (empty list if none), edges stripped; only QR, so no barcode noise."""
    if isinstance(data, bytes | bytearray | memoryview):
        image = _open(bytes(data))
    elif isinstance(data, Image.Image):
        image = data
    else:
        raise ImageError(
            "not_bytes",
            f"Ảnh phải là dữ liệu PNG, JPEG hay WebP (bytes) hoặc ảnh PIL, không phải {type(data).__name__}.",
        )
    try:
        image = _shrink(_on_white(image))
    except _DECODE_FAILURES as exc:  # a mode Pillow cannot convert to grey
        raise _unreadable() from exc
    barcodes = zxingcpp.read_barcodes(image, formats=_QR_ONLY, text_mode=zxingcpp.TextMode.Plain)
    return [strip_edges(barcode.text) for barcode in barcodes]


def _open(data: bytes) -> PILImage:
    """Open image bytes within the limits, decoding JPEG straight to a reduced grey image."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(
            "too_many_bytes", f"Ảnh quá nặng: {_decimal(len(data) / 2**20)} MB; tối đa {MAX_IMAGE_BYTES // 2**20} MB."
        )
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)  # reads the header only
    except UnidentifiedImageError as exc:
        raise ImageError("not_an_image", "Tệp không phải ảnh PNG, JPEG hay WebP.") from exc
    except Image.DecompressionBombError as exc:  # Pillow's own ceiling, twice its MAX_IMAGE_PIXELS
        raise _too_large(f"hơn {_decimal(2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6)}") from exc
    except Image.DecompressionBombWarning as exc:  # raised where warnings are errors (tests); else printed, and
        # the header check below refuses the image
        raise _too_large(f"hơn {_decimal((Image.MAX_IMAGE_PIXELS or 0) / 1e6)}") from exc
    except _DECODE_FAILURES as exc:
        raise _unreadable() from exc
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_large(f"{width}×{height} điểm ảnh = {_decimal(width * height / 1e6)}")
    if image.format in ("JPEG", "MPO"):  # MPO: the multi-picture JPEG some phones write
        factor = _factor(max(width, height))
        image.draft("L", (max(1, width // factor), max(1, height // factor)))  # DCT scaling: 1/2, 1/4 or 1/8
    try:
        image.load()
    except _DECODE_FAILURES as exc:
        raise _unreadable() from exc
    return image


def _factor(long_side: int) -> int:
    """The whole reduction that keeps the long side at or above DECODE_SIDE (1 for anything smaller)."""
    return max(1, long_side // DECODE_SIDE)


def _shrink(image: PILImage) -> PILImage:
    """Reduce what is still big after the JPEG draft (PNG, WebP, large PIL images) by box averaging."""
    factor = _factor(max(image.size))
    return image.reduce(factor) if factor > 1 else image


def _on_white(image: PILImage) -> PILImage:
    """Flatten to grey on white: a QR drawn on a transparent background would otherwise read as black on black.

    Grey is pasted through the alpha channel onto a white grey image (one byte a pixel), rather than composited
    in RGBA, so a 40-megapixel transparent PNG costs about 280 MB at the peak instead of 520.
    """
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        flat = Image.new("L", rgba.size, 255)
        flat.paste(rgba.convert("L"), mask=rgba.getchannel("A"))
        return flat
    return image.convert("L")


def _too_large(pixels: str) -> ImageError:
    """Word the pixel limit the same way whoever found it (our header check or Pillow's own)."""
    return ImageError("too_many_pixels", f"Ảnh quá lớn: {pixels} megapixel; tối đa {MAX_MEGAPIXELS}.")


def _unreadable() -> ImageError:
    """Word a damaged or truncated file; Pillow's own message stays in __cause__ for the log."""
    return ImageError("unreadable", "Ảnh bị hỏng hoặc không đầy đủ, không giải mã được.")


def _decimal(value: float) -> str:
    """Write a number with one decimal and a Vietnamese decimal comma (169,0)."""
    return f"{value:.1f}".replace(".", ",")
