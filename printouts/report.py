"""The one-page coverage report for a market or commune: plain data in, an A4 PDF out (reportlab only).

The trend chart arrives as a ready layout of rectangles, lines and texts (y grows downwards, as in SVG),
the same shapes the web page draws, so paper and screen show one chart. Tables longer than the page are
cut with a line saying how many rows the spreadsheet export holds in addition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeAlias

from reportlab.lib.colors import Color, HexColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from .fonts import BOLD, REGULAR, register_fonts

if TYPE_CHECKING:  # annotations only (postponed), so no runtime dependency on typing_extensions
    from typing_extensions import TypeIs

MM = 72 / 25.4
PAGE = (210 * MM, 297 * MM)  # A4 portrait
MARGIN = 15 * MM
INK, MUTED, LINE = HexColor("#1d2430"), HexColor("#5d6776"), HexColor("#d9dee6")
BAND = {"good": "#0b6e4f", "fair": "#a15c00", "low": "#b3261e", "none": "#5d6776"}
ROW_H, HEAD_SIZE, BODY_SIZE = 13.0, 7.5, 8.5
FIGURE_W, CODE_W = 45.0, 48.0


# The chart's shapes, as read here: merchants.charts.Rect, Line, Text and ChartLayout satisfy these structurally
# (read-only properties, so frozen dataclasses fit), and printouts keeps no import of merchants.
class ChartRect(Protocol):
    """A filled rectangle, y growing downwards."""

    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def w(self) -> float: ...
    @property
    def h(self) -> float: ...
    @property
    def fill(self) -> str: ...


class ChartLine(Protocol):
    """A polyline through ``points``, optionally dashed."""

    @property
    def points(self) -> Sequence[tuple[float, float]]: ...
    @property
    def stroke(self) -> str: ...
    @property
    def width(self) -> float: ...
    @property
    def dashed(self) -> bool: ...


class ChartText(Protocol):
    """A label anchored at (x, y): anchor is start, middle or end, as in SVG."""

    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def size(self) -> float: ...
    @property
    def anchor(self) -> str: ...
    @property
    def fill(self) -> str: ...
    @property
    def bold(self) -> bool: ...


ChartShape: TypeAlias = ChartRect | ChartLine | ChartText


class ChartLayout(Protocol):
    """Shapes in drawing order inside a ``width`` × ``height`` box (merchants.charts.ChartLayout)."""

    @property
    def width(self) -> float: ...
    @property
    def height(self) -> float: ...
    @property
    def shapes(self) -> Sequence[ChartShape]: ...


@dataclass(frozen=True)
class ReportPage:
    """What the page shows, already worded: the caller decides every figure and label."""

    title: str
    place: str
    percent: str  # '97%' or '—'
    band: str  # good, fair, low or none (merchants.coverage.Coverage.band)
    headline: str  # '356/364 hộ đã có mã QR'
    target: str
    funnel: tuple[tuple[str, int], ...]
    chart: ChartLayout  # merchants.charts.ChartLayout: width, height and shapes (rects, polylines, texts) in order
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total: tuple[str, ...] | None
    footer: str
    note: str = ""
    figures: int = 7  # how many trailing columns hold numbers (right-aligned)


def _text(
    c: Canvas,
    x: float,
    y: float,
    s: str,
    size: float,
    *,
    font: str = REGULAR,
    color: Color = INK,
    anchor: str = "start",
) -> None:
    c.setFont(font, size)
    c.setFillColor(color)
    {"start": c.drawString, "middle": c.drawCentredString, "end": c.drawRightString}[anchor](x, y, s)


def _wrap(s: str, width: float, size: float, font: str = BOLD) -> list[str]:
    lines: list[str] = []
    for word in s.split():
        if lines and pdfmetrics.stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _is_text(s: ChartShape) -> TypeIs[ChartText]:
    return hasattr(s, "text")


def _is_line(s: ChartShape) -> TypeIs[ChartLine]:
    return hasattr(s, "points")


def _chart(c: Canvas, chart: ChartLayout, x0: float, top: float, width: float) -> float:
    """Draw the shared chart layout scaled to ``width`` (shapes: rects, polylines, texts); returns its height."""
    k = width / chart.width
    c.saveState()
    for s in chart.shapes:
        if _is_text(s):
            _text(
                c,
                x0 + s.x * k,
                top - s.y * k,
                s.text,
                s.size * k,
                font=BOLD if s.bold else REGULAR,
                color=HexColor(s.fill),
                anchor=s.anchor,
            )
        elif _is_line(s):
            c.setStrokeColor(HexColor(s.stroke))
            c.setLineWidth(s.width * k)
            c.setDash(4, 3) if s.dashed else c.setDash()
            path = c.beginPath()
            for i, (px, py) in enumerate(s.points):
                (path.lineTo if i else path.moveTo)(x0 + px * k, top - py * k)
            c.drawPath(path, stroke=1, fill=0)
        else:
            c.setFillColor(HexColor(s.fill))
            c.rect(x0 + s.x * k, top - (s.y + s.h) * k, s.w * k, s.h * k, stroke=0, fill=1)
    c.restoreState()
    return chart.height * k


def _columns(headers: Sequence[str], width: float, figures: int) -> list[float]:
    """Figure columns are narrow, a leading code column too; the name column takes the rest."""
    lead = len(headers) - figures
    widths = [FIGURE_W] * figures
    return [*([CODE_W] if lead == 2 else []), width - FIGURE_W * figures - CODE_W * (lead == 2), *widths]


def _row(c: Canvas, row: Sequence[str], widths: list[float], figures: int, x0: float, y: float, font: str) -> float:
    c.setStrokeColor(LINE)
    c.setLineWidth(0.5)
    c.line(x0, y, x0 + sum(widths), y)
    x = x0
    for i, (cell, w) in enumerate(zip(row, widths, strict=True)):
        right = i >= len(widths) - figures
        _text(
            c,
            x + w - 2 if right else x + 2,
            y - ROW_H + 3.5,
            _fit(cell, w - 4, font),
            BODY_SIZE,
            font=font,
            anchor="end" if right else "start",
        )
        x += w
    return y - ROW_H


def _table(c: Canvas, page: ReportPage, x0: float, top: float, width: float, bottom: float) -> None:
    """Header (wrapped), as many rows as fit, a line saying how many were left out, then the total."""
    widths = _columns(page.headers, width, page.figures)
    head = [_wrap(h, w - 4, HEAD_SIZE) for h, w in zip(page.headers, widths, strict=True)]
    x = x0
    for i, (lines, w) in enumerate(zip(head, widths, strict=True)):
        right = i >= len(widths) - page.figures
        for j, ln in enumerate(lines):
            _text(
                c,
                x + w - 2 if right else x + 2,
                top - (j + 1) * (HEAD_SIZE + 1.5),
                ln,
                HEAD_SIZE,
                font=BOLD,
                color=MUTED,
                anchor="end" if right else "start",
            )
        x += w
    y = top - max(len(h) for h in head) * (HEAD_SIZE + 1.5) - 4
    room = int((y - bottom) // ROW_H) - (1 if page.total else 0)
    rows = page.rows if len(page.rows) <= room else page.rows[: max(room - 1, 0)]
    for row in rows:
        y = _row(c, row, widths, page.figures, x0, y, REGULAR)
    if len(rows) < len(page.rows):
        _text(
            c,
            x0 + 2,
            y - ROW_H + 3.5,
            f"… và {len(page.rows) - len(rows)} dòng nữa (xem bản CSV hoặc XLSX).",
            BODY_SIZE,
            color=MUTED,
        )
        y -= ROW_H
    if page.total:
        _row(c, page.total, widths, page.figures, x0, y, BOLD)


def _fit(s: str, width: float, font: str) -> str:
    if pdfmetrics.stringWidth(s, font, BODY_SIZE) <= width:
        return s
    while s and pdfmetrics.stringWidth(s + "…", font, BODY_SIZE) > width:
        s = s[:-1]
    return s + "…"


def render_report(page: ReportPage, out: BinaryIO) -> None:
    """Write one A4 page: title, headline figure, target, funnel, trend chart, table, footer."""
    register_fonts()
    c = Canvas(out, pagesize=PAGE, invariant=1)
    c.setTitle(f"Báo cáo phủ QR – {page.title}")
    c.setAuthor("ChoQR")
    w, h = PAGE
    x0, width, y = MARGIN, w - 2 * MARGIN, h - MARGIN
    _text(c, x0, y - 16, page.title, 18, font=BOLD)
    _text(c, x0, y - 31, page.place, 10, color=MUTED)
    y -= 44
    _text(c, x0, y - 30, page.percent, 32, font=BOLD, color=HexColor(BAND.get(page.band, BAND["none"])))
    _text(c, x0 + 100, y - 14, page.headline, 12, font=BOLD)
    _text(c, x0 + 100, y - 30, page.target, 9.5, color=MUTED)
    y -= 44
    if page.note:
        _text(c, x0, y - 10, page.note, 9, color=MUTED)
        y -= 16
    top_n = max((n for _, n in page.funnel), default=0) or 1
    for label, n in page.funnel:
        _text(c, x0, y - 9, label, 9)
        c.setFillColor(HexColor("#9fd3bf"))
        c.rect(x0 + 110, y - 10, (width - 160) * n / top_n, 8, stroke=0, fill=1)
        _text(c, x0 + width, y - 9, f"{n}", 9, font=BOLD, anchor="end")
        y -= 13
    y -= 8
    y -= _chart(c, page.chart, x0, y, width) + 10
    _table(c, page, x0, y, width, MARGIN + 16)
    c.setStrokeColor(LINE)
    c.line(x0, MARGIN + 10, x0 + width, MARGIN + 10)
    _text(c, x0, MARGIN, page.footer, 8, color=MUTED)
    c.showPage()
    c.save()
