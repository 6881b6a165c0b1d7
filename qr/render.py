"""Turn a payload into QR modules, PNG bytes or SVG text; knows nothing about what the payload means."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.constants
import qrcode.exceptions
from PIL import Image

from .errors import FieldError, VietQRError
from .matrix import build_matrix

QUIET_ZONE = 4
EC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
Matrix = tuple[tuple[bool, ...], ...]
_MODULE_TO_PIXEL = bytes.maketrans(b"\x00\x01", b"\xff\x00")  # light module white, dark black


def _check_render_args(ec: str, border: int, scale: int = 1) -> None:
    """Reject settings that would draw an unreadable or nonsensical symbol."""
    if ec not in EC_LEVELS:
        raise FieldError("ec", ec, "must be one of L, M, Q, H")
    if type(border) is not int or border < 0:
        raise FieldError("border", border, "must be a whole number of modules, 0 or more")
    if type(scale) is not int or not 1 <= scale <= 100:
        raise FieldError("scale", scale, "must be a whole number of pixels per module from 1 to 100")


def qr_matrix(payload: str, *, ec: str = "Q") -> Matrix:
    """Encode once per payload and level (a market's batch re-renders hundreds); dark = True, no quiet zone."""
    _check_render_args(ec, 0)
    return _encoded(payload, ec)


@lru_cache(maxsize=256)
def _encoded(payload: str, ec: str) -> Matrix:
    """The cache behind ``qr_matrix``, keyed positionally so every caller's spelling shares one entry.

    Small on purpose (a symbol is about 13 KB as tuples): placards print their stored symbol, so this only
    spares the issue step and the screen from encoding the same payload twice in a row.
    """
    try:
        return build_matrix(payload, EC_LEVELS[ec])
    except (ValueError, qrcode.exceptions.DataOverflowError) as exc:
        raise VietQRError(f"payload does not fit in a QR code at level {ec}: {exc}") from exc


def qr_image(payload: str, *, scale: int = 8, ec: str = "Q", border: int = QUIET_ZONE) -> Image.Image:
    """The symbol as a 1-bit PIL image, `scale` pixels per module, with a white quiet zone of `border` modules."""
    _check_render_args(ec, border, scale)
    matrix = qr_matrix(payload, ec=ec)
    size = len(matrix) + 2 * border
    blank = b"\xff" * size
    pad = b"\xff" * border
    rows = [blank] * border
    rows += [pad + bytes(row).translate(_MODULE_TO_PIXEL) + pad for row in matrix]
    rows += [blank] * border
    image = Image.frombytes("L", (size, size), b"".join(rows))
    if scale != 1:
        image = image.resize((size * scale, size * scale), Image.Resampling.NEAREST)
    return image.convert("1", dither=Image.Dither.NONE)


def png_bytes(payload: str, *, scale: int = 8, ec: str = "Q", border: int = QUIET_ZONE) -> bytes:
    """Draw a 1-bit PNG, `scale` pixels per module, with a white quiet zone of `border` modules."""
    out = io.BytesIO()
    qr_image(payload, scale=scale, ec=ec, border=border).save(out, format="PNG", optimize=True)
    return out.getvalue()


def svg_text(payload: str, *, ec: str = "Q", border: int = QUIET_ZONE) -> str:
    """Draw a white square over the whole viewBox (quiet zone included), then the dark modules as one path.

    The background is a shape, not a CSS style, so the symbol and its quiet zone stay light wherever the SVG is
    drawn: an image viewer, a PDF tool or a dark page ignore a style background and would show black on black.
    Runs of modules are written in module units, so it prints crisp at any size.
    """
    _check_render_args(ec, border)
    matrix = qr_matrix(payload, ec=ec)
    size = len(matrix) + 2 * border
    runs = []
    for y, row in enumerate(matrix, start=border):
        x = 0
        width = len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                runs.append(f"M{start + border} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect x="0" y="0" width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )
