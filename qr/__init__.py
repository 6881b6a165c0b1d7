"""ChoQR's pure VietQR core: build, parse, render and decode transfer payloads (no Flask, no database)."""

from .banks import Bank, all_banks, bank_aliases, get_bank, search_banks
from .decode import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_MEGAPIXELS, decode_image
from .errors import FieldError, ImageError, PayloadFormatError, VietQRError
from .matrix import pack_matrix, unpack_matrix
from .parse import parse_payload
from .parsed import ParsedPayload, ParseWarning
from .payload import TransferData, build_payload, transfer_data
from .render import QUIET_ZONE, png_bytes, qr_image, qr_matrix, svg_text
from .text import fold_ascii, strip_edges

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_MEGAPIXELS",
    "QUIET_ZONE",
    "Bank",
    "FieldError",
    "ImageError",
    "ParseWarning",
    "ParsedPayload",
    "PayloadFormatError",
    "TransferData",
    "VietQRError",
    "all_banks",
    "bank_aliases",
    "build_payload",
    "decode_image",
    "fold_ascii",
    "get_bank",
    "pack_matrix",
    "parse_payload",
    "png_bytes",
    "qr_image",
    "qr_matrix",
    "search_banks",
    "strip_edges",
    "svg_text",
    "transfer_data",
    "unpack_matrix",
]
