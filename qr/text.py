"""Fold Vietnamese text to the uppercase printable ASCII that keeps a QR small and every bank app happy."""

from __future__ import annotations

import unicodedata

_D_STROKE = str.maketrans({"đ": "d", "Đ": "D"})
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


def fold_ascii(text: str) -> str:
    """Strip diacritics, map đ/Đ, uppercase and collapse whitespace; drop whatever is still not ASCII."""
    if not text.isascii():
        text = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    upper = text.upper()
    if upper.isascii() and upper.isprintable() and "  " not in upper and upper[:1] != " " != upper[-1:]:
        return upper
    kept = "".join(ch if ch in _PRINTABLE else " " if ch.isspace() else "" for ch in upper)
    return " ".join(kept.split())


def is_printable_ascii(text: str) -> bool:
    """Tell whether text fits object 62's character set (0x20..0x7E) unchanged."""
    return text.isascii() and text.isprintable()
