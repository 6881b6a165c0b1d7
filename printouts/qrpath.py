"""The QR as vector PDF operators: runs of dark modules merged into rectangles of one filled path."""

from __future__ import annotations

import re
from collections import OrderedDict

from reportlab.pdfgen.canvas import Canvas

from qr import QUIET_ZONE, qr_matrix, unpack_matrix

EC_LEVEL = "Q"  # survives a torn corner, dirt or glare on a laminated placard at a market stall
_DARK_RUN = re.compile(rb"\x01+")


_PATHS: OrderedDict[str, tuple[int, str]] = OrderedDict()
_PATHS_MAX = 4096


def qr_path(payload: str, packed: str = "") -> tuple[int, str]:
    """Module count across the symbol with its quiet zones, and the path in module units (origin lower-left).

    Each horizontal run of dark modules is one rectangle; identical runs in consecutive rows merge into one
    taller rectangle. Cached per payload: a re-print of the same batch skips encoding and path building.
    ``packed`` is the symbol stored when the QR was issued (and decoded back): drawn as is, not re-encoded.
    """
    cached = _PATHS.get(payload)
    if cached is None:
        cached = _PATHS[payload] = _build_path(unpack_matrix(packed) if packed else qr_matrix(payload, ec=EC_LEVEL))
        while len(_PATHS) > _PATHS_MAX:
            _PATHS.popitem(last=False)
    return cached


def _build_path(matrix: tuple[tuple[bool, ...], ...]) -> tuple[int, str]:
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


def paint_qr(canv: Canvas, payload: str, x: float, y: float, side: float) -> None:
    """Draw the symbol with its white quiet zone filling the square (x, y, side) as one black filled path."""
    total, path = qr_path(payload)
    scale = side / total
    canv.addLiteral(f"q 1 g {x:.3f} {y:.3f} {side:.3f} {side:.3f} re f")
    canv.addLiteral(f"{scale:.5f} 0 0 {scale:.5f} {x:.3f} {y:.3f} cm 0 g\n{path}\nf Q")
