"""Be Vietnam Pro, registered with reportlab once and lazily, plus cached text widths."""

from __future__ import annotations

from functools import cache, lru_cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "ChoQR-BeVietnamPro"
BOLD = "ChoQR-BeVietnamPro-Bold"
_FILES = {REGULAR: "BeVietnamPro-Regular.ttf", BOLD: "BeVietnamPro-Bold.ttf"}


@cache
def register_fonts() -> None:
    """Load the TTFs from their installed package on first use (not at import: the web app may never print)."""
    import fontpkg_be_vietnam_pro

    root = fontpkg_be_vietnam_pro.ROOT / "files"
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(root / filename)))


@lru_cache(maxsize=16384)
def em_width(text: str, font: str) -> float:
    """Advance width of `text` at 1 pt; cached because labels, market names and words repeat in a batch."""
    register_fonts()
    width: float = pdfmetrics.stringWidth(text, font, 1.0)  # reportlab is untyped
    return width
