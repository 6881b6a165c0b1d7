"""Spreadsheets as Excel leaves them: hidden sheets, text that Excel turned into dates or numbers, old CMND."""

import io
from datetime import datetime

import openpyxl
import pytest

from merchants import identity
from merchants.errors import InvalidField
from merchants.spreadsheet import SpreadsheetError, read_table, resolve_bank, sheet_names

HEADER = ["Họ tên chủ hộ", "Số sạp", "Số CCCD", "Ngân hàng", "Số tài khoản"]


def _book(*sheets: tuple[str, str, list[list]]) -> bytes:
    """A workbook of (title, state, rows) sheets, made the way Excel saves them."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, state, rows in sheets:
        ws = book.create_sheet(title)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_hidden_first_sheet_is_not_imported_the_visible_one_is():
    data = _book(
        ("Tra cứu", "hidden", [HEADER, ["Bảng cũ", "Z-999", "", "", ""]]),
        ("Danh sách", "visible", [HEADER, ["Nguyễn Thị Đào", "A-001", "", "", ""]]),
    )
    table = read_table(data)
    assert table.sheet == "Danh sách" and [r.values["owner_name"] for r in table.rows] == ["Nguyễn Thị Đào"]
    assert sheet_names(data) == ["Danh sách"]


def test_with_several_visible_sheets_the_first_is_read_and_another_can_be_chosen():
    data = _book(
        ("Khu A", "visible", [HEADER, ["Nguyễn Thị Đào", "A-001", "", "", ""]]),
        ("Khu B", "visible", [HEADER, ["Lê Văn Hùng", "B-001", "", "", ""]]),
        ("Ẩn", "veryHidden", [HEADER, ["X", "C-1", "", "", ""]]),
    )
    assert read_table(data).sheets == ("Khu A", "Khu B")
    assert read_table(data, sheet="Khu B").rows[0].values["owner_name"] == "Lê Văn Hùng"
    with pytest.raises(SpreadsheetError, match="trang này đang bị ẩn"):
        read_table(data, sheet="Ẩn")


def test_a_stall_cell_excel_turned_into_a_date_is_flagged_not_read_as_text():
    data = _book(("Danh sách", "visible", [HEADER, ["Nguyễn Thị Đào", datetime(2024, 3, 1), "", "", ""]]))
    row = read_table(data).rows[0]
    assert row.dates == frozenset({"stalls"})


def test_a_nine_digit_number_in_the_cccd_column_is_named_as_an_old_cmnd():
    data = _book(("Danh sách", "visible", [HEADER, ["Nguyễn Thị Đào", "A-001", 123456789, "", ""]]))
    row = read_table(data).rows[0]
    assert row.values["citizen_id"] == "123456789"  # not padded into a 12-digit number with province '000'
    with pytest.raises(InvalidField, match="CMND cũ"):
        identity.validate_citizen_id(row.values["citizen_id"])


def test_a_cccd_typed_as_a_number_gets_back_its_leading_zero():
    data = _book(("Danh sách", "visible", [HEADER, ["Nguyễn Thị Đào", "A-001", 22185001234, "", ""]]))
    assert read_table(data).rows[0].values["citizen_id"] == "022185001234"


@pytest.mark.parametrize(
    "written, bin",
    [
        ("Ngân hàng Ngoại thương", "970436"),
        ("Công thương", "970415"),
        ("Liên Việt", "970449"),
        ("Viettel Money", "971005"),
        ("Ngân hàng Chính sách Xã hội", "999888"),
        ("VietCapitalBank", "970454"),
    ],
)
def test_banks_as_people_write_them_are_recognised(written, bin):
    assert resolve_bank(written).bin == bin


def test_import_refuses_date_cells_by_row_and_column_and_reads_the_visible_sheet(session):
    from factories import make_market

    from merchants.scope import SYSTEM
    from merchants.services.importing import import_households

    market = make_market(session, stalls=0)
    data = _book(
        ("Cũ", "hidden", [HEADER, ["Người Cũ", "Z-1", "", "", ""]]),
        (
            "Danh sách",
            "visible",
            [HEADER, ["Nguyễn Thị Đào", datetime(2024, 3, 1), "", "", ""], ["Lê Văn Hùng", "A-002", "", "", ""]],
        ),
        ("Khu B", "visible", [HEADER, ["Trần Thị Mai", "B-001", "", "", ""]]),
    )
    report = import_households(session, SYSTEM, market_id=market.id, data=data, dry_run=True)
    assert (report.sheet, report.sheets, report.ready) == ("Danh sách", ("Danh sách", "Khu B"), 1)
    [problem] = report.refused
    assert (problem.row, problem.column) == (
        2,
        "Số sạp",
    ) and "Excel đã đổi ô này thành ngày (01/03/2024)" in problem.problem
    other = import_households(session, SYSTEM, market_id=market.id, data=data, dry_run=True, sheet="Khu B")
    assert other.ready == 1 and other.sheet == "Khu B"


def test_a_closed_market_takes_no_import(session):
    from factories import make_market

    from merchants.models import utcnow
    from merchants.scope import SYSTEM
    from merchants.services.importing import import_households

    market = make_market(session)
    market.closed_at = utcnow()
    session.add(market)
    session.commit()
    data = _book(("Danh sách", "visible", [HEADER, ["Nguyễn Thị Đào", "A-001", "", "", ""]]))
    with pytest.raises(InvalidField, match="đã đóng"):
        import_households(session, SYSTEM, market_id=market.id, data=data)


def test_a_stall_code_excel_stored_as_a_number_is_refused_saying_why(session):
    from factories import make_market

    from merchants.scope import SYSTEM
    from merchants.services.importing import import_households

    market = make_market(session, stalls=0)
    data = _book(("Danh sách", "visible", [HEADER, ["Nguyễn Thị Đào", 1, "", "", ""]]))
    [problem] = import_households(session, SYSTEM, market_id=market.id, data=data, dry_run=True).refused
    assert problem.column == "Số sạp" and "dạng số" in problem.problem and "Văn bản (Text)" in problem.problem
