"""A statement as a bank's Excel export has it (dates as date cells, amounts as numbers, a blank line) is read
by the XLSX reader and reported row by row, with the row numbers the spreadsheet shows."""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
from factories import make_household, make_market
from payment_factories import account_of, make_source
from sqlmodel import select

from merchants.clock import vn_date
from merchants.payment_models import PaymentEvent
from merchants.scope import SYSTEM
from merchants.services.statement_import import import_statement

HEADER = ("STT", "Ngày giao dịch", "Số tham chiếu", "Ghi nợ", "Ghi có", "Diễn giải", "Số tài khoản")


def _export(rows: list[tuple | None]) -> bytes:
    """A workbook with typed cells; ``None`` leaves the line blank."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row or (), start=1):
            cell = sheet.cell(number, column, value)
            if isinstance(value, datetime):
                cell.number_format = "dd/mm/yyyy hh:mm:ss"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_statement_is_reported_row_by_row(session):
    market = make_market(session, code="CAIRONG", commune_code="06994")
    a, b = make_household(session, market), make_household(session, market)
    source, _key = make_source(session, "statement", markets=["CAIRONG"])
    at = datetime(2026, 11, 30, 10, 15, 2)
    data = _export(
        [
            (1, at, "FT26334001", None, 150_000, "CT tu NGUYEN VAN KHACH", account_of(session, a)),
            (2, at, "FT26334002", 50_000, None, "rut tien", account_of(session, a)),
            None,
            (3, 46_000.5, "FT26334003", None, 10_000, "ngay go thanh so", account_of(session, a)),
            (4, at, None, None, 10_000, "", account_of(session, b)),
            (5, at, "FT26334005", None, 2_277_000.0, "mua ca", account_of(session, b)),
        ]
    )
    report = import_statement(session, SYSTEM, source_name=source.name, data=data, filename="sao-ke.xlsx")
    assert (report.rows, report.stored, report.ignored_out, report.refused_rows) == (5, 2, 1, 2)
    assert {(p.row, p.column) for p in report.refused} == {(5, "Ngày giao dịch"), (6, "Số tham chiếu")}
    [bad_date] = [p for p in report.refused if p.row == 5]
    assert "'46000.5'" in bad_date.problem  # a number without a date format is not taken for a date
    events = session.exec(select(PaymentEvent).order_by(PaymentEvent.amount)).all()
    assert [(e.amount, e.reference) for e in events] == [(150_000, "FT26334001"), (2_277_000, "FT26334005")]
    assert {vn_date(e.occurred_at) for e in events} == {date(2026, 11, 30)}
