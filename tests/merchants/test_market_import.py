"""Markets and stalls from a spreadsheet: per-row report by row and column, dry run, idempotent re-import."""

import html
import io
import json

import openpyxl
import pytest
from factories import login, make_market, make_user
from sqlmodel import func, select

from merchants.models import AuditLog, Commune, Market, Stall
from merchants.scope import SYSTEM
from merchants.services.areas import load_shipped_if_empty
from merchants.services.market_import import import_markets, import_stalls

MARKET_HEADER = ["Mã chợ", "Tên chợ", "Mã xã", "Địa chỉ", "Mục tiêu (%)", "Hạn", "Mẫu"]
MARKET_ROWS = [
    ["CAIRONG2", "Chợ Cái Rồng 2", "06994", "Cái Rồng", 95, "31/12/2026", ""],
    ["HONGGAI", "Chợ Hồng Gai", 6685, "", "", "", "x"],
    ["CHỢ 3", "Chợ Ba", "06994", "", "", "", ""],
    ["BAD4", "Chợ Bốn", "99999", "", 150, "31/02/2026", "có lẽ"],
    ["CAIRONG2", "Chợ Trùng", "06994", "", "", "", ""],
]


def xlsx(header: list[str], rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


@pytest.fixture
def units(session):  # noqa: ANN001, ANN201
    load_shipped_if_empty(session)


def _count(session, model) -> int:  # noqa: ANN001
    return session.exec(select(func.count()).select_from(model)).one()


def _problems(report) -> list[tuple[int, str, str]]:  # noqa: ANN001
    return [(p.row, p.column, p.problem) for p in report.refused]


def test_a_market_list_stores_the_good_rows_and_names_each_bad_cell_by_row_and_column(session, units):
    report = import_markets(session, SYSTEM, data=xlsx(MARKET_HEADER, MARKET_ROWS), filename="cho.xlsx")
    assert (report.rows, report.created, report.stored) == (5, 2, True)
    problems = _problems(report)
    assert (4, "Mã chợ", "Mã chợ 'CHỢ 3' chỉ được gồm chữ A–Z không dấu, số 0–9, dấu - và _.") in problems
    assert (5, "Mã xã", "Không có xã/phường mã '99999' trong danh sách địa bàn.") in problems
    assert (5, "Mục tiêu (%)", "Mục tiêu bao phủ phải từ 1 đến 100 %.") in problems
    assert [p[1] for p in problems if p[0] == 5] == ["Mã xã", "Mục tiêu (%)", "Hạn", "Mẫu"]
    assert (6, "Mã chợ", "Mã chợ 'CAIRONG2' trùng với dòng 2 của tệp.") in problems
    hong_gai = session.exec(select(Market).where(Market.code == "HONGGAI")).one()
    assert session.get(Commune, hong_gai.commune_id).code == "06685"  # 6685 typed as a number lost its zero
    assert hong_gai.is_demo and hong_gai.target_percent is None
    cai_rong = session.exec(select(Market).where(Market.code == "CAIRONG2")).one()
    assert (cai_rong.target_percent, str(cai_rong.target_date), cai_rong.address) == (95, "2026-12-31", "Cái Rồng")
    actions = [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions == ["areas.load", "market.create", "market.create", "markets.import"]
    summary = json.loads(session.exec(select(AuditLog).where(AuditLog.action == "markets.import")).one().detail)
    assert (summary["created"], summary["refused_rows"]) == (2, 3)


def test_the_same_market_list_again_adds_nothing_and_says_they_are_there(session, units):
    data = xlsx(MARKET_HEADER, MARKET_ROWS[:2])
    import_markets(session, SYSTEM, data=data)
    again = import_markets(session, SYSTEM, data=data)
    assert (again.created, again.updated, again.stored, len(again.already)) == (0, 0, False, 2)
    assert again.already[0].message == "Đã có chợ CAIRONG2 (Chợ Cái Rồng 2)."
    assert _count(session, Market) == 2


def test_a_row_that_changes_an_existing_market_is_reported_unless_updating_is_asked_for(session, units):
    import_markets(session, SYSTEM, data=xlsx(MARKET_HEADER, MARKET_ROWS[:1]))
    changed = xlsx(MARKET_HEADER, [["CAIRONG2", "Chợ Cái Rồng Mới", "06994", "Cái Rồng", 90, "31/12/2026", ""]])
    report = import_markets(session, SYSTEM, data=changed)
    assert [(n.row, n.message) for n in report.differs] == [
        (2, "Chợ CAIRONG2 đã có nhưng khác ở: Tên chợ, Mục tiêu; chưa thay đổi (chọn 'cập nhật chợ đã có' để áp dụng).")
    ]
    market = session.exec(select(Market)).one()
    assert market.name == "Chợ Cái Rồng 2"
    updated = import_markets(session, SYSTEM, data=changed, update_existing=True)
    assert (updated.updated, updated.stored) == (1, True)
    session.refresh(market)
    assert (market.name, market.target_percent, market.version) == ("Chợ Cái Rồng Mới", 90, 2)
    row = session.exec(select(AuditLog).where(AuditLog.action == "market.update")).one()
    assert json.loads(row.detail)["changes"] == {
        "name": ["Chợ Cái Rồng 2", "Chợ Cái Rồng Mới"],
        "target_percent": [95, 90],
    }


def test_a_dry_run_and_all_or_nothing_store_nothing(session, units):
    data = xlsx(MARKET_HEADER, MARKET_ROWS)
    dry = import_markets(session, SYSTEM, data=data, dry_run=True)
    strict = import_markets(session, SYSTEM, data=data, all_or_nothing=True)
    assert (dry.created, dry.stored, strict.stored) == (2, False, False)
    assert _count(session, Market) == 0
    assert _count(session, AuditLog) == 1  # the official units' load only


def test_a_province_admin_imports_only_into_its_provinces(session, units):
    make_market(session, code="HANOI1", commune_code="00004")
    admin = make_user(session, "admin", provinces=["22"])
    from merchants.scope import viewer_for

    rows = [["HN2", "Chợ Hà Nội 2", "00004"], ["HANOI1", "Chợ Hà Nội", "00004"], ["QN2", "Chợ Quảng Ninh", "06994"]]
    report = import_markets(session, viewer_for(session, admin), data=xlsx(MARKET_HEADER[:3], rows))
    assert _problems(report) == [
        (2, "Mã xã", "Xã/phường Phường Ba Đình (00004) không thuộc tỉnh bạn phụ trách."),
        (3, "Mã chợ", "Mã chợ 'HANOI1' đã được dùng cho một chợ khác."),
    ]
    assert sorted(session.exec(select(Market.code))) == ["HANOI1", "QN2"]


STALL_CSV = [
    "Mã chợ,Mã sạp,Khu",
    "CAIRD,A-001..A-120,Khu A",
    "CAIRD,K-01,Ki-ốt",
    "CAIRD,K 02,Ki-ốt",
    "KHONGCO,B-01,",
    "CAIRD,A-100,Khu A",
    ",C-01,",
]


def test_a_stall_list_creates_ranges_and_names_each_bad_row(session, units):
    market = make_market(session, code="CAIRD", commune_code="06994", stalls=0)
    report = import_stalls(session, SYSTEM, data=csv_bytes(STALL_CSV), filename="sap.csv")
    assert (report.created, report.stored) == (121, True)
    assert _problems(report) == [
        (4, "Mã sạp", "Mã sạp 'K 02' có ký tự không dùng được (dấu cách); chỉ dùng chữ, số và các dấu - . /"),
        (5, "Mã chợ", "Không có chợ mã 'KHONGCO'."),
        (6, "Mã sạp", "Sạp A-100 trùng với dòng 2 của tệp."),
        (7, "Mã chợ", "Mã chợ không được để trống."),
    ]
    zones = dict(session.exec(select(Stall.code, Stall.zone).where(Stall.market_id == market.id)).all())
    assert len(zones) == 121 and zones["A-120"] == "Khu A" and zones["K-01"] == "Ki-ốt"
    audits = {a.action: json.loads(a.detail) for a in session.exec(select(AuditLog))}
    assert audits["stalls.import"]["created"] == 121
    assert (audits["stall.create"]["source"], audits["stall.create"]["row"]) == ("import", 3)


def test_the_same_stall_list_again_adds_nothing(session, units):
    make_market(session, code="CAIRD", commune_code="06994", stalls=0)
    import_stalls(session, SYSTEM, data=csv_bytes(STALL_CSV[:3]))
    again = import_stalls(session, SYSTEM, data=csv_bytes(STALL_CSV[:3]))
    assert (again.created, again.stored, [n.message for n in again.already]) == (
        0,
        False,
        ["120 sạp đã có ở chợ CAIRD, bỏ qua.", "1 sạp đã có ở chợ CAIRD, bỏ qua."],
    )
    assert _count(session, Stall) == 121


def test_stalls_imported_into_one_market_need_no_market_column_and_a_dry_run_stores_nothing(session, units):
    market = make_market(session, code="CAIRD", commune_code="06994", stalls=0)
    make_market(session, code="OTHER", commune_code="06685", stalls=0)
    data = csv_bytes(["Mã sạp", "A-001..A-010"])
    dry = import_stalls(session, SYSTEM, data=data, market_id=market.id, dry_run=True)
    assert (dry.created, dry.stored, _count(session, Stall)) == (10, False, 0)
    mixed = csv_bytes(["Mã chợ,Mã sạp", "CAIRD,A-001", "OTHER,A-002"])
    report = import_stalls(session, SYSTEM, data=mixed, market_id=market.id)
    assert _problems(report) == [(3, "Mã chợ", "Dòng này ghi chợ 'OTHER', không phải chợ CAIRD đang nhập.")]
    assert _count(session, Stall) == 1


def test_a_stall_list_without_a_market_column_needs_a_market(session, units):
    from merchants.spreadsheet import SpreadsheetError

    with pytest.raises(SpreadsheetError, match="Mã chợ"):
        import_stalls(session, SYSTEM, data=csv_bytes(["Mã sạp", "A-001"]))


def test_the_upload_pages_show_the_per_row_report(client, session, units):
    make_market(session, code="CAIRD", commune_code="06994", stalls=0)
    login(client, make_user(session, "admin"))
    markets = client.post(
        "/admin/markets/import", data={"file": (io.BytesIO(xlsx(MARKET_HEADER, MARKET_ROWS)), "cho.xlsx")}
    )
    text = html.unescape(markets.get_data(as_text=True))
    assert markets.status_code == 200
    assert "Đã thêm 2 chợ, cập nhật 0 chợ." in text and "Mã chợ 'CAIRONG2' trùng với dòng 2 của tệp." in text
    market = session.exec(select(Market).where(Market.code == "CAIRD")).one()
    stalls = client.post(
        f"/admin/markets/{market.id}/stalls/import",
        data={"file": (io.BytesIO(csv_bytes(["Mã sạp,Khu", "A-001..A-050,Khu A"])), "sap.csv"), "dry_run": "y"},
    )
    assert "Chạy thử: chưa lưu gì. Nếu nhập thật sẽ thêm 50 sạp." in html.unescape(stalls.get_data(as_text=True))
    assert _count(session, Stall) == 0
    broken = client.post("/admin/markets/import/stalls", data={"file": (io.BytesIO(b""), "x.csv")})
    assert broken.status_code == 422


def test_an_english_speaking_admin_reads_the_market_reports_notes_in_english(client, session, units):
    import_markets(session, SYSTEM, data=xlsx(MARKET_HEADER, MARKET_ROWS[:1]))
    login(client, make_user(session, "admin"))
    client.post("/language/en")
    rows = [["CAIRONG2", "Chợ Cái Rồng Mới", "06994", "Cái Rồng", 90, "31/12/2026", ""], MARKET_ROWS[1], MARKET_ROWS[1]]
    resp = client.post("/admin/markets/import", data={"file": (io.BytesIO(xlsx(MARKET_HEADER, rows)), "cho.xlsx")})
    text = html.unescape(resp.get_data(as_text=True))
    assert "Market CAIRONG2 exists but differs in: Market, Target; not changed" in text
    assert "Market code 'HONGGAI' is the same as in row 3 of the file." in text
    again = client.post(
        "/admin/markets/import", data={"file": (io.BytesIO(xlsx(MARKET_HEADER, MARKET_ROWS[1:2])), "cho.xlsx")}
    )
    assert "Market HONGGAI (Chợ Hồng Gai) exists already." in html.unescape(again.get_data(as_text=True))


def test_the_cli_imports_markets_and_stalls_and_exits_1_when_rows_were_refused(app, session, units, tmp_path):
    runner = app.test_cli_runner()
    good, mixed = tmp_path / "cho.xlsx", tmp_path / "sap.csv"
    good.write_bytes(xlsx(MARKET_HEADER, MARKET_ROWS[:2]))
    dry = runner.invoke(args=["markets", "import", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "Chạy thử: không lưu gì (sẽ thêm 2 chợ, cập nhật 0 chợ)." in dry.output
    assert _count(session, Market) == 0
    result = runner.invoke(args=["markets", "import", str(good)])
    assert result.exit_code == 0 and "Đã thêm 2 chợ" in result.output
    mixed.write_bytes(csv_bytes(["Mã sạp,Khu", "A-001..A-120,Khu A", "A'01,"]))
    stalls = runner.invoke(args=["stalls", "import", str(mixed), "--market", "CAIRONG2"])
    assert stalls.exit_code == 1
    assert "Đã thêm 120 sạp." in stalls.output and "Dòng 3 · Mã sạp: Mã sạp 'A'01'" in stalls.output
    again = runner.invoke(args=["stalls", "import", str(mixed), "--market", "CAIRONG2"])
    assert "Bỏ qua dòng 2: 120 sạp đã có ở chợ CAIRONG2, bỏ qua." in again.output
    assert _count(session, Stall) == 120
    missing = runner.invoke(args=["stalls", "import", str(mixed), "--market", "KHONGCO"])
    assert missing.exit_code == 2 and "KHONGCO" in missing.output


def test_the_household_import_checks_stall_codes_by_the_same_rule(session, units):
    from merchants.services.importing import import_households

    market = make_market(session, code="CAIRD", commune_code="06994", stalls=0)
    data = csv_bytes(["Họ và tên,Số sạp", "Lê Thị Hoa,K 01", "Trần Văn Bình,k-02"])
    report = import_households(session, SYSTEM, market_id=market.id, data=data, filename="ho.csv")
    assert [(p.row, p.column) for p in report.refused] == [(2, "Số sạp")]
    assert "dấu cách" in report.refused[0].problem
    assert list(session.exec(select(Stall.code))) == ["K-02"]  # stored as the rule writes it
