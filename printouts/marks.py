"""Cut marks for imposed sheets: short hairlines on each trim line, outside the placards and the printer margin."""

from __future__ import annotations

from functools import lru_cache

from .layouts import GAP, MARK_LENGTH, MARK_OFFSET, PRINTER_MARGIN, Layout

MARK_WIDTH = 0.3  # points: a hairline that still shows on a laser print


@lru_cache(maxsize=64)
def cut_marks(layout: Layout, count: int) -> str:
    """PDF operators marking the trim lines of the first `count` placards of a sheet (shared marks once)."""
    width, height = layout.placard
    sheet_w, sheet_h = layout.sheet
    segments: set[tuple[float, float, float, float]] = set()
    for index, (x, y) in enumerate(layout.cells()[:count]):
        col, row = index % layout.cols, index // layout.cols
        # corner x, outward direction, how far a mark may reach from the trim line
        for cx, dx, reach_x in (
            (x, -1, GAP - MARK_OFFSET if col > 0 else x - PRINTER_MARGIN),
            (x + width, 1, GAP - MARK_OFFSET if col < layout.cols - 1 else sheet_w - x - width - PRINTER_MARGIN),
        ):
            for cy, dy, reach_y in (
                (y, -1, GAP - MARK_OFFSET if row < layout.rows - 1 else y - PRINTER_MARGIN),
                (y + height, 1, GAP - MARK_OFFSET if row > 0 else sheet_h - y - height - PRINTER_MARGIN),
            ):
                end_x = min(MARK_OFFSET + MARK_LENGTH, reach_x)
                end_y = min(MARK_OFFSET + MARK_LENGTH, reach_y)
                segments.add(_segment(cx + dx * MARK_OFFSET, cy, cx + dx * end_x, cy))
                segments.add(_segment(cx, cy + dy * MARK_OFFSET, cx, cy + dy * end_y))
    lines = "\n".join(f"{x0} {y0} m {x1} {y1} l" for x0, y0, x1, y1 in sorted(segments))
    return f"q {MARK_WIDTH} w 0 G 0 J\n{lines}\nS Q"


def _segment(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """Round and order the end points so the mark two neighbours share is drawn once."""
    a, b = (round(x0, 2), round(y0, 2)), (round(x1, 2), round(y1, 2))
    return (*min(a, b), *max(a, b))
