"""Fit text into a box: shrink, then wrap into balanced lines, and as a last resort cut with an ellipsis."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from reportlab.pdfgen.canvas import Canvas

from .fonts import em_width

# Vertical ink extents of Be Vietnam Pro in em, measured on its glyphs: capitals with stacked Vietnamese marks
# (Ễ, Ằ) reach 1.18 above the baseline, descenders and the dot below (ỵ, Ị) 0.25 under it.
TOP = 1.18
BOTTOM = 0.25
CAP = 0.74
PITCH = 1.22  # baseline to baseline when a text wraps
STEP = 0.25  # font-size step while shrinking, in points
ELLIPSIS = "…"

Color = tuple[float, float, float]
INK: Color = (0.10, 0.11, 0.13)


@dataclass(frozen=True)
class TextBox:
    """Where a text may go and how big it may be; x, y is the lower-left corner, lengths in points."""

    x: float
    y: float
    w: float
    h: float
    font: str
    max_size: float
    min_size: float
    max_lines: int = 1
    align: str = "center"  # left | center | right
    valign: str = "middle"  # top | middle | bottom
    color: Color = INK

    def height_for(self, lines: int, size: float) -> float:
        """Ink height of `lines` lines at `size`."""
        return (TOP + BOTTOM + (lines - 1) * PITCH) * size


def _greedy(words: tuple[str, ...], font: str, width_em: float) -> list[str]:
    """Fill lines word by word up to width_em (a word longer than a line gets a line of its own)."""
    space = em_width(" ", font)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in words:
        word_w = em_width(word, font)
        if current and used + space + word_w > width_em:
            lines.append(" ".join(current))
            current, used = [word], word_w
        else:
            used = used + space + word_w if current else word_w
            current.append(word)
    if current:
        lines.append(" ".join(current))
    return lines


def _widest(lines: list[str], font: str) -> float:
    return max(em_width(line, font) for line in lines)


def _balanced(words: tuple[str, ...], font: str, width_em: float, count: int) -> list[str]:
    """The narrowest wrap into `count` lines, so a two-line name breaks near its middle, not at its end."""
    low, high = max(em_width(word, font) for word in words), width_em
    for _ in range(16):
        middle = (low + high) / 2
        if len(_greedy(words, font, middle)) <= count:
            high = middle
        else:
            low = middle
    return _greedy(words, font, high)


def _cut(text: str, font: str, width_em: float) -> str:
    """Shorten text with an ellipsis until it fits width_em."""
    if em_width(text, font) <= width_em:
        return text
    while text and em_width(text.rstrip() + ELLIPSIS, font) > width_em:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


@lru_cache(maxsize=8192)
def fit(text: str, box: TextBox) -> tuple[float, tuple[str, ...]]:
    """Largest size from max_size down to min_size at which text fits in max_lines; else cut at min_size."""
    words = tuple(unicodedata.normalize("NFC", text).split())
    if not words:
        return box.max_size, ()
    size = box.max_size
    while size >= box.min_size - 1e-9:
        width_em = box.w / size
        lines = _greedy(words, box.font, width_em)
        if (
            len(lines) <= box.max_lines
            and _widest(lines, box.font) <= width_em
            and box.height_for(len(lines), size) <= box.h
        ):
            if len(lines) > 1:
                lines = _balanced(words, box.font, width_em, len(lines))
            return size, tuple(lines)
        size -= STEP
    return _overflow(words, box)


def _overflow(words: tuple[str, ...], box: TextBox) -> tuple[float, tuple[str, ...]]:
    """At min_size, keep as many whole lines as fit the box and cut the last one with an ellipsis."""
    size = box.min_size
    width_em = box.w / size
    room = max(1, min(box.max_lines, int((box.h / size - TOP - BOTTOM) / PITCH) + 1))
    lines = _greedy(words, box.font, width_em)
    kept = lines[:room]
    if len(lines) > room:
        kept[-1] = kept[-1] + " " + " ".join(lines[room:])
    kept = [_cut(line, box.font, width_em) for line in kept]
    return size, tuple(kept)


def draw_text(canv: Canvas, text: str, box: TextBox) -> None:
    """Draw text fitted into box; capitals are centred optically when valign is middle."""
    size, lines = fit(text, box)
    if not lines:
        return
    step = PITCH * size
    span = (len(lines) - 1) * step
    if box.valign == "top":
        first = box.y + box.h - TOP * size
    elif box.valign == "bottom":
        first = box.y + BOTTOM * size + span
    else:
        first = box.y + (box.h + span - CAP * size) / 2
        first = min(first, box.y + box.h - TOP * size)
        first = max(first, box.y + BOTTOM * size + span)
    canv.setFillColorRGB(*box.color)
    canv.setFont(box.font, size)
    for index, line in enumerate(lines):
        x = box.x
        if box.align != "left":
            slack = box.w - em_width(line, box.font) * size
            x += slack if box.align == "right" else slack / 2
        canv.drawString(x, first - index * step, line)
