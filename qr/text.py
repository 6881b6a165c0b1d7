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


# What surrounds a payload without being part of it: every character str.isspace() knows (listed, so strip
# stays one C call), NUL from scanners that hand over C strings, and U+FEFF, the BOM Windows editors write.
EDGE_CHARACTERS = (
    "\x00\ufeff\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def strip_edges(text: str) -> str:
    """Drop surrounding whitespace, NULs and BOMs, which scanners, files and shells add around a payload."""
    return text.strip(EDGE_CHARACTERS)
