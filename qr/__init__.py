"""ChoQR's pure VietQR core: build, parse, render and decode transfer payloads (no Flask, no database)."""

from .banks import Bank, all_banks, get_bank, search_banks
from .decode import decode_image
from .errors import FieldError, PayloadFormatError, VietQRError
from .matrix import pack_matrix, unpack_matrix
from .parse import parse_payload
from .parsed import ParsedPayload
from .payload import TransferData, build_payload, transfer_data
from .render import QUIET_ZONE, png_bytes, qr_image, qr_matrix, svg_text
from .text import fold_ascii

__all__ = [
    "QUIET_ZONE",
    "Bank",
    "FieldError",
    "ParsedPayload",
    "PayloadFormatError",
    "TransferData",
    "VietQRError",
    "all_banks",
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
    "svg_text",
    "transfer_data",
    "unpack_matrix",
]
