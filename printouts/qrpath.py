"""The QR as vector PDF operators: runs of dark modules merged into rectangles of one filled path.

Paths are cached by the symbol they draw (its packed modules), never by the payload: two symbols of one
payload (another mask, another level, the one decoded back when the QR was issued) are two entries, so the
cache can only hand back the very symbol it is asked for.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable

from reportlab.pdfgen.canvas import Canvas

from qr import QUIET_ZONE, pack_matrix, qr_matrix, unpack_matrix

EC_LEVEL = "Q"  # survives a torn corner, dirt or glare on a laminated placard at a market stall
_DARK_RUN = re.compile(rb"\x01+")

QrPath = tuple[int, str]  # modules across with both quiet zones, and the path in module units
_PATHS: OrderedDict[str, QrPath] = OrderedDict()
_PATHS_MAX = 256  # one market's batch re-printed after a paper jam; a path is 5-15 KB


def symbol_path(packed: str) -> QrPath:
    """The path of exactly this packed symbol (``qr.pack_matrix``), from a small cache keyed by the symbol."""
    cached = _PATHS.get(packed)
    if cached is None:
        cached = _PATHS[packed] = _build_path(unpack_matrix(packed))
        while len(_PATHS) > _PATHS_MAX:
            _PATHS.popitem(last=False)
    else:
        _PATHS.move_to_end(packed)
    return cached


def qr_path(payload: str, packed: str = "") -> QrPath:
    """Module count across the symbol with its quiet zones, and the path in module units (origin lower-left).

    ``packed`` is the symbol stored when the QR was issued (and decoded back): drawn as is, not re-encoded.
    Without it the payload is encoded here. Each horizontal run of dark modules is one rectangle; identical
    runs in consecutive rows merge into one taller rectangle.
    """
    return symbol_path(packed or pack_matrix(qr_matrix(payload, ec=EC_LEVEL)))


def _build_path(matrix: tuple[tuple[bool, ...], ...]) -> QrPath:
    size = len(matrix)
    total = size + 2 * QUIET_ZONE
    parts: list[str] = []
    open_runs: dict[tuple[int, int], int] = {}  # (start column, length) -> first row
    for row_index, row in enumerate((*matrix, ())):
        runs = {(m.start(), m.end() - m.start()) for m in _DARK_RUN.finditer(bytes(row))}
        for run in [run for run in open_runs if run not in runs]:
            first = open_runs.pop(run)
            y = total - QUIET_ZONE - row_index  # PDF y grows upwards; matrix rows grow downwards
            parts.append(f"{run[0] + QUIET_ZONE} {y} {run[1]} {row_index - first} re")
        for run in runs:
            open_runs.setdefault(run, row_index)
    return total, "\n".join(parts)


def module_count(payload: str, packed: str = "") -> int:
    """Modules across the printed symbol including both quiet zones."""
    return qr_path(payload, packed)[0]


def draw_path(canv: Canvas, path: QrPath, x: float, y: float, side: float) -> None:
    """Draw a symbol's path with its white quiet zone filling the square (x, y, side) as one black filled path."""
    total, operators = path
    scale = side / total
    canv.addLiteral(f"q 1 g {x:.3f} {y:.3f} {side:.3f} {side:.3f} re f")
    canv.addLiteral(f"{scale:.5f} 0 0 {scale:.5f} {x:.3f} {y:.3f} cm 0 g\n{operators}\nf Q")


def paint_qr(canv: Canvas, payload: str, x: float, y: float, side: float) -> None:
    """Encode ``payload`` and draw it; placards with a stored symbol are drawn by ``stored_painter`` instead."""
    draw_path(canv, qr_path(payload), x, y, side)


def stored_painter(path: QrPath) -> Callable[[Canvas, str, float, float, float], None]:
    """A painter bound to one placard's own symbol: whatever payload it is handed, it draws ``path``."""

    def paint(canv: Canvas, _payload: str, x: float, y: float, side: float) -> None:
        draw_path(canv, path, x, y, side)

    return paint
