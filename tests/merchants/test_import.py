"""Importing a household list: the exact per-row report, duplicates, all-or-nothing and dry runs."""

import io
import json

import openpyxl
import pytest
from factories import make_household, make_market
from sqlmodel import Session, func, select

from merchants.models import AuditLog, BankAccount, Household, IssuedQR, Stall, StatusEvent
from merchants.scope import SYSTEM
from merchants.services.importing import RowProblem, import_households
from qr import parse_payload

HEADER = ["STT", "Họ tên chủ hộ", "CCCD/CMND", "SĐT", "Ki-ốt", "Khu", "Ngân hàng", "STK", "Tên chủ TK", "Ngành hàng"]


def xlsx(rows: list[list], header: list[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counts(session: Session) -> dict[str, int]:
    return {
        m.__name__: session.exec(select(func.count()).select_from(m)).one()
        for m in (Household, Stall, BankAccount, IssuedQR, StatusEvent, AuditLog)
    }


def run(session: Session, market_id: int, data: bytes, **kw):  # noqa: ANN201
    return import_households(session, SYSTEM, market_id=market_id, data=data, filename="ds.xlsx", **kw)


@pytest.fixture
def market(session):  # noqa: ANN001, ANN201
    """Stalls A-001…A-004; Nguyễn Thị Đào holds A-001 and Trần Văn Bình A-002."""
    m = make_market(session, stalls=4, zone="Nhà chợ chính")
    make_household(
        session, m, owner_name="Nguyễn Thị Đào", citizen_id="022185000001", bin="970436", account_number="0011000000001"
    )
    make_household(session, m, owner_name="Trần Văn Bình", citizen_id="022085000002", account=False)
    return m


MIXED = [
    [1, "Lê Thị Hoa", "022185001234", "0912 345 678", "A-003", "", "Vietcombank", "0011001932418", "", "Rau củ"],
    [2, "Phạm Thị Mai", "12345", "123", "A-004", "", "", "", "", "Cá"],
    [3, "Hoàng Thị Lan", "", "0988123456", "B-01", "Khu B", "MB Bank", "123456789", "", "Thịt lợn"],
    [4, "Vũ Văn Nam", "022185001234", "", "B-02", "Khu B", "", "", "", ""],
    [5, "", "", "", "B-03", "Khu B", "Ngân hàng XYZ", "999", "", ""],
    [6, "nguyen thi dao", "022185000001", "", "a-001", "", "", "", "", "Rau củ"],
    [7, "Đỗ Thị Yến", "", "", "A-002", "", "", "", "", ""],
    [8, "Bùi Văn Tâm", "", "", "B-04", "Khu B", "BIDV", 21510000123, "", ""],
    [None] * 10,
    [10, "Đặng Văn Sơn", "", "", "B-05", "Khu B", "VCB", "0011000000001", "", ""],
    [11, "Ngô Thị Hạnh", 22185009876, 912000111, "B-06", "Khu B", "970415", "100872345678", "NGO THI HANH", ""],
]


def test_mixed_file_stores_the_good_rows_and_reports_each_refused_one(session, market):
    report = run(session, market.id, xlsx(MIXED))
    assert report.refused == (
        RowProblem(3, "CCCD/CMND", "Số CCCD phải gồm đúng 12 chữ số."),
        RowProblem(3, "SĐT", "Số điện thoại '123' không phải số di động Việt Nam (10 số, bắt đầu 03, 05, 07, 08, 09)."),
        RowProblem(5, "CCCD/CMND", "Số CCCD trùng với dòng 2 của tệp."),
        RowProblem(6, "Họ tên chủ hộ", "Họ tên chủ hộ không được để trống."),
        RowProblem(
            6,
            "Ngân hàng",
            "Ngân hàng 'Ngân hàng XYZ' không có trong danh sách NAPAS; hãy ghi tên ngắn "
            "(Vietcombank), mã (VCB) hoặc BIN (970436).",
        ),
        RowProblem(8, "Ki-ốt", "Sạp A-002 đã có hộ kinh doanh."),
        RowProblem(
            9,
            "STK",
            "Số tài khoản đang ở dạng số trong Excel nên có thể đã mất số 0 ở đầu; hãy định dạng "
            "cột là Văn bản (Text) rồi nhập lại số.",
        ),
        RowProblem(11, "STK", "Tài khoản ngân hàng này đã gắn với một hộ khác."),
    )
    assert [(s.row, s.message) for s in report.skipped] == [(7, "Đã đăng ký: Nguyễn Thị Đào, sạp A-001.")]
    assert (report.rows, report.ready, report.created, report.new_stalls, report.stored) == (10, 3, 3, 2, True)
    assert report.ignored_columns == ("STT",)
    stored = {h.owner_name: h for h in session.exec(select(Household).where(Household.id > 2))}
    assert sorted(stored) == ["Hoàng Thị Lan", "Lê Thị Hoa", "Ngô Thị Hạnh"]
    assert (stored["Ngô Thị Hạnh"].citizen_id, stored["Ngô Thị Hạnh"].phone) == ("022185009876", "+84912000111")
    zones = dict(session.exec(select(Stall.code, Stall.zone).where(Stall.market_id == market.id)).all())
    assert (zones["B-01"], zones["B-06"], zones["A-003"]) == ("Khu B", "Khu B", "Nhà chợ chính")
    assert "B-02" not in zones  # a refused row creates no stall


def test_importing_the_same_file_again_adds_nothing(session, market):
    rows = [r for r in MIXED if r[0] in (1, 3, 11)]
    first = run(session, market.id, xlsx(rows))
    before = counts(session)
    again = run(session, market.id, xlsx(rows))
    assert (first.created, again.created, again.refused, again.stored) == (3, 0, (), False)
    assert [s.row for s in again.skipped] == [2, 3, 4]
    assert counts(session) == before


def test_the_mixed_file_a_second_time_skips_what_went_in_and_refuses_the_rest_again(session, market):
    first = run(session, market.id, xlsx(MIXED))
    before = counts(session)
    again = run(session, market.id, xlsx(MIXED))
    assert again.created == 0 and counts(session) == before
    assert [s.row for s in again.skipped] == [2, 4, 7, 12]
    assert [p.row for p in again.refused] == [p.row for p in first.refused]


def test_all_or_nothing_stores_nothing_when_one_row_fails(session, market):
    before = counts(session)
    report = run(session, market.id, xlsx(MIXED), all_or_nothing=True)
    assert (report.ready, report.created, report.stored) == (3, 0, False)
    assert len(report.refused) == 8
    assert counts(session) == before


def test_all_or_nothing_stores_everything_when_every_row_passes(session, market):
    report = run(session, market.id, xlsx([r for r in MIXED if r[0] in (1, 3)]), all_or_nothing=True)
    assert (report.created, report.stored) == (2, True)


def test_dry_run_checks_everything_and_stores_nothing(session, market):
    before = counts(session)
    report = run(session, market.id, xlsx(MIXED), dry_run=True)
    assert (report.ready, report.created, report.new_stalls, report.stored) == (3, 0, 2, False)
    assert len(report.refused) == 8
    assert counts(session) == before


def _rows(session: Session, hid: int) -> dict[str, list[dict]]:
    """Every row a household left, minus what naturally differs between two households (ids, names, times);
    the stored QR symbol differs with the payload, so only its presence is compared."""
    differs = {
        "id",
        "household_id",
        "bank_account_id",
        "owner_name",
        "search_text",
        "phone",
        "citizen_id",
        "goods",
        "account_number",
        "holder_name",
        "payload",
        "created_at",
        "updated_at",
        "issued_at",
        "at",
        "detail",
    }

    def dump(model, where) -> list[dict]:  # noqa: ANN001
        return [
            {k: bool(v) if k == "modules" else v for k, v in r.model_dump().items() if k not in differs}
            for r in session.exec(select(model).where(where).order_by(model.id))
        ]

    audit = session.exec(select(AuditLog).where(AuditLog.household_id == hid).order_by(AuditLog.id)).all()
    return {
        "household": dump(Household, Household.id == hid),
        "stalls": dump(Stall, Stall.household_id == hid) and [{"held": True}],
        "accounts": dump(BankAccount, BankAccount.household_id == hid),
        "qrs": dump(IssuedQR, IssuedQR.household_id == hid),
        "events": dump(StatusEvent, StatusEvent.household_id == hid),
        "audit": [(a.action, sorted(json.loads(a.detail))) for a in audit],
    }


def test_an_imported_household_leaves_the_rows_of_one_registered_through_the_form(session, market):
    run(session, market.id, xlsx(MIXED[:1]))
    h = session.exec(select(Household).where(Household.owner_name == "Lê Thị Hoa")).one()
    imported, form_made = _rows(session, h.id), _rows(session, 1)
    for audit in imported["audit"]:
        if audit[0] == "household.create":
            audit[1].remove("row")  # the import also says which row of the file it came from
    assert imported == form_made
    assert imported["audit"] == [
        ("household.create", ["citizen_id", "source", "stalls"]),
        ("account.open", ["account", "bin", "holder_name"]),
        ("qr.issue", ["qr_id", "revoked_placards"]),
    ]
    assert [e["status"] for e in imported["events"]] == ["account_opened", "qr_issued"]
    acc = session.exec(select(BankAccount).where(BankAccount.household_id == h.id)).one()
    assert (acc.bin, acc.account_number, acc.holder_name) == ("970436", "0011001932418", "LE THI HOA")
    payload = session.exec(select(IssuedQR.payload).where(IssuedQR.household_id == h.id)).one()
    assert (parse_payload(payload).bin, parse_payload(payload).account) == ("970436", "0011001932418")
    assert h.search_text == "le thi hoa rau cu 0912345678 022185001234 0011001932418"


def test_a_household_at_several_stalls_takes_them_all(session, market):
    report = run(session, market.id, xlsx([[1, "Lý Thị Thơm", "", "", "A-003; A-004", "", "", "", "", ""]]))
    assert report.created == 1
    hid = session.exec(select(Household.id).where(Household.owner_name == "Lý Thị Thơm")).one()
    assert session.exec(select(Stall.code).where(Stall.household_id == hid).order_by(Stall.code)).all() == [
        "A-003",
        "A-004",
    ]


def test_the_command_line_import_prints_the_report_and_exits_1_when_rows_were_refused(app, session, market, tmp_path):
    path = tmp_path / "ds.xlsx"
    path.write_bytes(xlsx(MIXED[:2]))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["import", str(path), "--market", market.code, "--dry-run"])
    assert dry.exit_code == 1
    assert dry.output.splitlines() == [
        "ds.xlsx: 2 dòng · 1 hợp lệ · 0 đã có (bỏ qua) · 1 dòng bị từ chối",
        "Chạy thử: không lưu gì (sẽ thêm 1 hộ, tạo 0 sạp mới).",
        "Dòng 3 · CCCD/CMND: Số CCCD phải gồm đúng 12 chữ số.",
        "Dòng 3 · SĐT: Số điện thoại '123' không phải số di động Việt Nam (10 số, bắt đầu 03, 05, 07, 08, 09).",
        "Cột không dùng: STT",
    ]
    assert session.exec(select(func.count()).select_from(Household)).one() == 2
    real = runner.invoke(args=["import", str(path), "--market", market.code])
    assert "Đã thêm 1 hộ, tạo 0 sạp mới." in real.output
    assert session.exec(select(func.count()).select_from(Household)).one() == 3


def test_the_command_line_refuses_a_malformed_file_with_exit_2(app, market, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    result = app.test_cli_runner().invoke(args=["import", str(path), "--market", market.code])
    assert result.exit_code == 2
    assert "Lỗi: Tệp không phải bảng tính XLSX hoặc CSV" in result.output
