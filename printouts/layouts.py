"""Page sizes, printer margins and the sheet layouts placards print in; every length is in PDF points."""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
A4_LANDSCAPE = (A4[1], A4[0])
A5 = (148 * MM, 210 * MM)
A6 = (105 * MM, 148 * MM)

PRINTER_MARGIN = 5 * MM  # office printers leave this border of the sheet blank: nothing may be drawn there
MARK_OFFSET = 1.5 * MM  # cut marks stop short of the trim line so no stub is left on a cut placard
MARK_LENGTH = 3 * MM
SHEET_MARGIN = 10 * MM  # sheet edge to the trim line of the outer placards: printer margin, marks, 0.5 mm spare
GAP = 6 * MM  # between neighbouring placards on one sheet; the cut marks between them sit in it
MIN_MODULE = 1 * MM  # smallest printed QR module that phone cameras read at arm's length


@dataclass(frozen=True)
class Layout:
    """A sheet size and the grid of placards imposed on it (1 x 1 means the page is the placard)."""

    name: str
    sheet: tuple[float, float]
    cols: int = 1
    rows: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        if PRINTER_MARGIN + MARK_OFFSET + MARK_LENGTH >= SHEET_MARGIN or MARK_OFFSET * 2 >= GAP:
            raise ValueError(f"layout {self.name!r}: cut marks would reach the printer margin or a placard")
        width, height = self.placard
        if width <= 0 or height <= 0:
            raise ValueError(f"layout {self.name!r}: {self.cols} x {self.rows} placards do not fit the sheet")

    @property
    def per_sheet(self) -> int:
        """Placards on one sheet."""
        return self.cols * self.rows

    @property
    def imposed(self) -> bool:
        """Several placards share a sheet, so they carry cut marks."""
        return self.per_sheet > 1

    @property
    def placard(self) -> tuple[float, float]:
        """Trimmed size of one placard: the sheet, or an equal share of it inside margins and gaps."""
        sheet_w, sheet_h = self.sheet
        if not self.imposed:
            return self.sheet
        width = (sheet_w - 2 * SHEET_MARGIN - (self.cols - 1) * GAP) / self.cols
        height = (sheet_h - 2 * SHEET_MARGIN - (self.rows - 1) * GAP) / self.rows
        return width, height

    def cells(self) -> tuple[tuple[float, float], ...]:
        """Lower-left corners of the placards in reading order: top-left first, then along the row."""
        if not self.imposed:
            return ((0.0, 0.0),)
        width, height = self.placard
        top = self.sheet[1] - SHEET_MARGIN
        return tuple(
            (SHEET_MARGIN + col * (width + GAP), top - height - row * (height + GAP))
            for row in range(self.rows)
            for col in range(self.cols)
        )


LAYOUTS: dict[str, Layout] = {
    "a6": Layout("a6", A6, description="A6 page, one placard"),
    "a5": Layout("a5", A5, description="A5 page, one placard"),
    "a4": Layout("a4", A4, description="A4 page, one placard"),
    "a4-2up": Layout("a4-2up", A4_LANDSCAPE, cols=2, rows=1, description="two A5 placards on landscape A4"),
    "a4-4up": Layout("a4-4up", A4, cols=2, rows=2, description="four A6 placards on A4"),
    "a4-8up": Layout("a4-8up", A4, cols=2, rows=4, description="eight A7 placards (landscape) on A4"),
}
