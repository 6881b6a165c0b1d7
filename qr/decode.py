"""Read QR payloads back from images with zxing-cpp, to prove a rendered placard scans."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import zxingcpp
from PIL import Image, UnidentifiedImageError

from .errors import VietQRError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage


def _open(data: bytes) -> PILImage:
    """Open image bytes, turning Pillow's many failure types into one VietQRError."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise VietQRError(f"image: cannot read the image data ({exc})") from exc
    return image


def _on_white(image: PILImage) -> PILImage:
    """Flatten to grey on white: a QR drawn on a transparent background would otherwise read as black on black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return image.convert("L")


def decode_image(data: bytes | PILImage) -> list[str]:
    """Return the text of every QR code found (empty list if none); only QR, so no barcode noise."""
    if isinstance(data, bytes | bytearray | memoryview):
        image = _open(bytes(data))
    elif isinstance(data, Image.Image):
        image = data
    else:
        raise VietQRError(f"image: expected PNG/JPEG bytes or a PIL image (got {type(data).__name__})")
    image = _on_white(image)
    barcodes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)
    return [barcode.text for barcode in barcodes]
