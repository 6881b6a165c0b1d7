"""The coverage trend chart: a pure layout of shapes, and an SVG rendering of it that prints well.

``trend_layout`` decides every position once; the page draws it as inline SVG and the PDF report draws the
same shapes with reportlab, so screen and paper show one chart. Colours are named here, not in CSS, so a
saved or printed SVG stands alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

BAR, LINE, TARGET, GRID, AXIS, INK, MUTED = "#9fd3bf", "#0b6e4f", "#a15c00", "#e3e7ed", "#5d6776", "#1d2430", "#5d6776"
WIDTH, HEIGHT = 720.0, 300.0
LEFT, RIGHT, TOP, BOTTOM = 52.0, 16.0, 34.0, 40.0
MAX_WEEKS_TO_TARGET = 26


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Line:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 1.0
    dashed: bool = False


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float = 11.0
    anchor: str = "start"  # start, middle or end, as in SVG
    fill: str = MUTED
    bold: bool = False


Shape = Rect | Line | Text


@dataclass(frozen=True)
class ChartLayout:
    """Shapes in drawing order inside a ``width`` × ``height`` box, y growing downwards (as in SVG)."""

    width: float
    height: float
    summary: str
    shapes: tuple[Shape, ...] = ()


@dataclass(frozen=True)
class ChartWords:
    """The chart's words, Vietnamese by default; a page passes them translated. Placeholders: {date}, {n}."""

    added: str = "Hộ mới có QR trong tuần"
    total: str = "Cộng dồn"
    weeks_from: str = "Tuần bắt đầu từ {date}"
    empty: str = "Chưa có hộ nào được cấp mã QR."
    summary: str = "Số hộ có mã QR cộng dồn theo tuần, từ {date}: {n} hộ."


def tick_step(value: int, most: int = 5) -> int:
    """The smallest round step (1, 2, 2.5 or 5 × 10ⁿ, whole) that reaches ``value`` in at most ``most`` ticks."""
    scale = 1
    while True:
        for m in (1, 2, 2.5, 5):
            step = m * scale
            if float(step).is_integer() and step * most >= value:
                return int(step)
        scale *= 10


def thousands(n: int) -> str:
    """1234567 → '1.234.567', as Vietnamese reports write numbers."""
    return f"{n:,}".replace(",", ".")


def trend_layout(
    points: Sequence,
    *,
    target_count: int | None = None,
    target_date: date | None = None,
    target_label: str = "",
    words: ChartWords = ChartWords(),
    width: float = WIDTH,
    height: float = HEIGHT,
) -> ChartLayout:
    """Bars of households onboarded per week and their cumulative line; target line and date when given.

    ``points`` are (week, added, cumulative) records, as ``merchants.services.reports.weekly`` returns. The
    axis runs on to the target date when that is at most MAX_WEEKS_TO_TARGET weeks after the last point.
    """
    if not points:
        return ChartLayout(width, height, words.empty, (Text(width / 2, height / 2, words.empty, 13, "middle"),))
    weeks = [p.week for p in points]
    if target_date and weeks[-1] < target_date <= weeks[-1] + timedelta(weeks=MAX_WEEKS_TO_TARGET):
        while weeks[-1] + timedelta(days=7) <= target_date:
            weeks.append(weeks[-1] + timedelta(days=7))
    peak = max([p.cumulative for p in points] + [target_count or 0])
    step = tick_step(peak)
    ticks = max(-(-peak // step), 1)
    plot_h, slot = height - TOP - BOTTOM, (width - LEFT - RIGHT) / len(weeks)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / (ticks * step))

    def x(i: float) -> float:
        return LEFT + slot * (i + 0.5)

    shapes: list[Shape] = []
    for k in range(ticks + 1):
        shapes += [
            Line(((LEFT, y(step * k)), (width - RIGHT, y(step * k))), GRID if k else AXIS),
            Text(LEFT - 6, y(step * k) + 4, thousands(step * k), 10, "end"),
        ]
    every = max(1, -(-len(weeks) // 8))
    shapes += [Text(x(i), height - BOTTOM + 16, f"{weeks[i]:%d/%m}", 10, "middle") for i in range(0, len(weeks), every)]
    shapes.append(Text(LEFT, height - 6, words.weeks_from.format(date=f"{weeks[0]:%d/%m/%Y}"), 10))
    bar_w = max(slot * 0.6, 1.0)
    shapes += [
        Rect(x(i) - bar_w / 2, y(p.added), bar_w, y(0) - y(p.added), BAR) for i, p in enumerate(points) if p.added
    ]
    if target_count:
        shapes += [
            Line(((LEFT, y(target_count)), (width - RIGHT, y(target_count))), TARGET, 1.5, True),
            Text(
                LEFT + 6,
                y(target_count) + (15 if y(target_count) < TOP + 14 else -5),
                target_label,
                11,
                "start",
                TARGET,
                True,
            ),
        ]
    if target_date and weeks[0] <= target_date < weeks[-1] + timedelta(days=7):
        tx = x((target_date - weeks[0]).days / 7 - 0.5)
        shapes += [
            Line(((tx, TOP), (tx, y(0))), TARGET, 1.5, True),
            Text(tx - 4, TOP + 12, f"{target_date:%d/%m/%Y}", 10, "end", TARGET, True),
        ]
    shapes.append(Line(tuple((x(i), y(p.cumulative)) for i, p in enumerate(points)), LINE, 2.5))
    if len(points) <= 26:
        shapes += [Rect(x(i) - 2.5, y(p.cumulative) - 2.5, 5, 5, LINE) for i, p in enumerate(points)]
    end = points[-1]
    second = LEFT + 17 + round(len(words.added) * 11 * 0.6) + 24  # after the first label, whatever its language
    shapes += [
        Text(x(len(points) - 1), y(end.cumulative) - 8, thousands(end.cumulative), 12, "middle", LINE, True),
        Rect(LEFT, 6, 12, 10, BAR),
        Text(LEFT + 17, 15, words.added, 11),
        Line(((second, 11), (second + 18, 11)), LINE, 2.5),
        Text(second + 24, 15, words.total, 11),
    ]
    summary = words.summary.format(date=f"{weeks[0]:%d/%m/%Y}", n=thousands(end.cumulative))
    summary += f" {target_label}." if target_label else ""
    return ChartLayout(width, height, summary, tuple(shapes))


def _svg_shape(s: Shape) -> str:
    if isinstance(s, Rect):
        return f'<rect x="{s.x:.1f}" y="{s.y:.1f}" width="{s.w:.1f}" height="{s.h:.1f}" fill="{s.fill}"/>'
    if isinstance(s, Line):
        pts = " ".join(f"{px:.1f},{py:.1f}" for px, py in s.points)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        return (
            f'<polyline points="{pts}" fill="none" stroke="{s.stroke}" stroke-width="{s.width:g}"'
            f' stroke-linejoin="round"{dash}/>'
        )
    weight = ' font-weight="700"' if s.bold else ""
    return (
        f'<text x="{s.x:.1f}" y="{s.y:.1f}" font-size="{s.size:g}" text-anchor="{s.anchor}" fill="{s.fill}"'
        f"{weight}>{escape(s.text)}</text>"
    )


def svg(layout: ChartLayout) -> str:
    """Inline SVG (scales to its container) with a text summary for screen readers."""
    summary = escape(layout.summary)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {layout.width:g} {layout.height:g}" role="img" '
        f'aria-label="{summary}" class="chart" font-family="system-ui, sans-serif"><title>{summary}</title>'
        + "".join(_svg_shape(s) for s in layout.shapes)
        + "</svg>"
    )
