"""Printable VietQR placards for market stalls: plain data in, one print-ready PDF out (no Flask, no DB)."""

from .data import PlacardData
from .errors import ModuleTooSmall, PlacardFieldError, PrintoutError, UnknownLayout
from .layouts import (
    A4,
    A5,
    A6,
    GAP,
    LAYOUTS,
    MARK_LENGTH,
    MARK_OFFSET,
    MIN_MODULE,
    MM,
    PRINTER_MARGIN,
    SHEET_MARGIN,
    Layout,
)
from .render import get_layout, qr_module_mm, render_placards

__all__ = [
    "A4",
    "A5",
    "A6",
    "GAP",
    "LAYOUTS",
    "MARK_LENGTH",
    "MARK_OFFSET",
    "MIN_MODULE",
    "MM",
    "PRINTER_MARGIN",
    "SHEET_MARGIN",
    "Layout",
    "ModuleTooSmall",
    "PlacardData",
    "PlacardFieldError",
    "PrintoutError",
    "UnknownLayout",
    "get_layout",
    "qr_module_mm",
    "render_placards",
]
