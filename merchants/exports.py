"""Report tables and their spreadsheet files: pure functions over plain rows, no Flask, no database.

A page renders the same ``Table`` the exports write, so a CSV or XLSX holds exactly what was on screen.
CSV is UTF-8 with a byte-order mark (Excel then shows Vietnamese correctly) and text that a spreadsheet
would run as a formula gets a leading apostrophe. XLSX cells are typed: text is stored as text, never a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from merchants import status as st
from merchants.clock import to_vn
from merchants.coverage import Coverage

Cell = str | int | date | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHILD_HEADER = {"province": "Tỉnh/thành phố", "commune": "Xã/phường", "market": "Chợ", "zone": "Khu/dãy"}
FIGURE_HEADERS = (
    "Số hộ",
    "Đã có tài khoản",
    "Đã cấp QR",
    "Tỷ lệ (%)",
    "Chưa có QR",
    "Đã in bảng QR",
    "Đã kiểm tra bảng",
    "Đang nhận thanh toán",
    "Tỷ lệ đang dùng (%)",
)
MISSING_HEADERS = ("Sạp", "Chủ hộ", "Khu/dãy", "Trạng thái", "Mặt hàng", "Điện thoại")
TREND_HEADERS = ("Tuần bắt đầu", "Hộ mới có QR", "Cộng dồn", "Tỷ lệ (%)")
ACTIVE_TREND_HEADERS = ("Tuần bắt đầu", "Hộ nhận thanh toán trong tuần")
VISIT_HEADERS = ("Sạp", "Chủ hộ", "Khu/dãy", "Lần nhận tiền gần nhất", "Cần kiểm tra bảng QR")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Table:
    """A header row, body rows and an optional total row; cells are text, whole numbers, dates or empty."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None = None
    name_col: int = 0  # the column a page links from
    percent_col: int | None = None  # the column a page colours by coverage band

    def all_rows(self) -> list[tuple[Cell, ...]]:
        return [self.headers, *self.rows, *([self.total] if self.total else [])]


def _figures(coverage: Coverage, funnel, active: Coverage) -> tuple[Cell, ...]:  # noqa: ANN001 - a Funnel
    """The figures of one row; "active" is households with a credit in 30 days over those with a QR."""
    return (
        funnel.registered,
        funnel.account_opened,
        coverage.covered,
        coverage.percent,
        coverage.missing,
        funnel.placard_printed,
        funnel.placard_verified,
        active.covered,
        active.percent,
    )


def report_table(report) -> Table:  # noqa: ANN001 - a merchants.services.reports.Report
    """The table under a coverage page: one row per child area (or zone), then the total."""
    with_code = report.child_level != "zone"
    head = ("Mã",) if with_code else ()
    rows = tuple(
        (*((r.code,) if with_code else ()), r.name, *_figures(r.coverage, r.funnel, r.active)) for r in report.rows
    )
    total = (*(("",) if with_code else ()), "Tổng", *_figures(report.coverage, report.funnel, report.active))
    return Table(
        report.name,
        (*head, CHILD_HEADER[report.child_level], *FIGURE_HEADERS),
        rows,
        total,
        name_col=len(head),
        percent_col=len(head) + 1 + FIGURE_HEADERS.index("Tỷ lệ (%)"),
    )


def missing_table(missing) -> Table:  # noqa: ANN001 - a merchants.services.reports.MissingList
    """Households still without a QR, in stall order."""
    rows = tuple(
        (r.stalls, r.owner_name, r.zone, st.LABELS_VI.get(r.status, r.status), r.goods, r.phone) for r in missing.rows
    )
    title = missing.market.name + (f" – {missing.zone or 'Chưa gắn khu'}" if missing.zone is not None else "")
    return Table(f"Chưa có QR – {title}", MISSING_HEADERS, rows, name_col=1)


def trend_table(points: Sequence, total: int) -> Table:
    """The weekly figures behind the chart; the percentage is of today's households, by the one definition."""
    rows = tuple((p.week, p.added, p.cumulative, Coverage(p.cumulative, total).percent) for p in points)
    return Table("Theo tuần", TREND_HEADERS, rows)


def active_trend_table(points: Sequence) -> Table:
    """Households that received at least one payment, week by week (the report's second chart)."""
    return Table("Nhận thanh toán theo tuần", ACTIVE_TREND_HEADERS, tuple((p.week, p.households) for p in points))


def visit_table(title: str, rows: Sequence) -> Table:  # rows: merchants.services.payment_stats.VisitRow
    """Households with a QR and no payment in 30 days (or stopped while neighbours receive): to visit."""
    body = tuple(
        (
            r.stalls,
            r.owner_name,
            r.zone or "Chưa gắn khu",
            to_vn(r.last_at).date() if r.last_at else "Chưa nhận lần nào",
            "Có" if r.stopped else "",
        )
        for r in rows
    )
    return Table(f"Cần đến – {title}", VISIT_HEADERS, body, name_col=1)


def neutralise(value: Cell) -> Cell:
    """Text a spreadsheet would run as a formula ('=…', '+…', '-…', '@…', tab, CR) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_cell(value: Cell) -> Cell:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def csv_bytes(table: Table) -> bytes:
    """The table as CSV for Excel: UTF-8 with BOM, CRLF line ends, every text cell neutralised."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([_csv_cell(c) for c in row] for row in table.all_rows())
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """One sheet per table: bold frozen header, dates as dates, text typed as text so nothing is evaluated."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for n, table in enumerate(tables, 1):
        ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31] or f"Bảng {n}")
        widths: dict[int, int] = {}
        for r, row in enumerate(table.all_rows(), 1):
            for c, value in enumerate(row, 1):
                cell = ws.cell(r, c)
                if isinstance(value, str):
                    cell.value = _ILLEGAL_XML.sub("", value)
                    cell.data_type = "s"
                else:
                    cell.value = value
                    if isinstance(value, date):
                        cell.number_format = "DD/MM/YYYY"
                if r == 1 or (table.total and r == len(table.rows) + 2):
                    cell.font = Font(bold=True)
                widths[c] = max(widths.get(c, 0), len(str(value or "")))
        for c, w in widths.items():
            ws.column_dimensions[ws.cell(1, c).column_letter].width = min(max(w + 2, 8), 48)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
