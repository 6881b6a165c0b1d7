"""Coverage reports: the floor rule, the drill-down pages, the trend, and exports scoped like the pages."""

import csv
import io
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
from factories import login, make_household, make_market, make_user
from openpyxl import load_workbook
from sqlmodel import select

from merchants import charts, exports
from merchants.coverage import Coverage, floor_percent
from merchants.models import Commune, Household, Province
from merchants.services.reports import Target, TrendPoint, weekly


def _csv(resp) -> list[list[str]]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "text/csv"
    assert resp.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))


def _two_markets(session):
    """Market A (3 households, 2 with a QR) and market B (1 household with a QR) in one commune."""
    a = make_market(session, code="CHOA", name="Chợ Cái Rồng", commune_code="VANDON", stalls=4, zone="Dãy hải sản")
    b = make_market(session, code="CHOB", name="Chợ Bến Đoan", commune_code="VANDON", stalls=2)
    make_household(session, a, owner_name="Nguyễn Thị Đào")
    make_household(session, a, owner_name="Phạm Văn Hùng")
    make_household(session, a, account=False, owner_name="Trần Thị Ánh Tuyết")
    make_household(session, b, owner_name="Đặng Thị Bích Ngọc")
    make_household(session, b, account=False, owner_name="Lý Văn Sáu")
    return a, b


def test_coverage_is_floored_and_absent_without_households():
    assert floor_percent(356, 364) == 97
    assert Coverage(356, 364).label() == "356/364 hộ (97%)"
    assert Coverage(0, 0).percent is None and Coverage(0, 0).label() == "0/0 hộ"
    assert exports.report_table  # the pages use these figures unchanged


@pytest.mark.parametrize(("percent", "total", "needed"), [(100, 364, 364), (97, 364, 354), (80, 5, 4), (90, 0, 0)])
def test_target_needs_the_fewest_households_whose_floored_percent_reaches_it(percent, total, needed):
    assert Target(percent).households(total) == needed
    if total:
        assert floor_percent(needed, total) >= percent > floor_percent(needed - 1, total)


def test_progress_says_how_many_households_per_week_are_still_needed():
    p = Target(100, date(2026, 12, 31)).progress(Coverage(356, 364), date(2026, 11, 22))
    assert (p.households, p.short, p.weeks_left, p.per_week) == (364, 8, 5, 2)
    assert Target(90).progress(Coverage(356, 364), date(2026, 11, 22)).short == 0


def test_weekly_trend_fills_empty_weeks_and_runs_to_today():
    days = {date(2026, 11, 2): 3, date(2026, 11, 4): 2, date(2026, 11, 17): 1}  # Mondays: 2/11, 16/11
    assert weekly(days, date(2026, 11, 25)) == (
        TrendPoint(date(2026, 11, 2), 5, 5),
        TrendPoint(date(2026, 11, 9), 0, 5),
        TrendPoint(date(2026, 11, 16), 1, 6),
        TrendPoint(date(2026, 11, 23), 0, 6),
    )
    assert weekly({}, date(2026, 11, 25)) == ()


def test_chart_is_plain_svg_with_the_target_line_and_a_readable_summary():
    points = weekly({date(2026, 11, 2): 300, date(2026, 11, 10): 56}, date(2026, 11, 22))
    layout = charts.trend_layout(points, target_count=364, target_date=date(2026, 12, 31), target_label="Mục tiêu")
    svg = charts.svg(layout)
    assert (
        svg.startswith("<svg")
        and "<script" not in svg
        and "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "356 hộ" in layout.summary and "31/12/2026" in svg and "stroke-dasharray" in svg
    assert "Chưa có hộ nào" in charts.svg(charts.trend_layout([]))
    assert [charts.tick_step(v) for v in (8, 364, 424, 1_000_000)] == [2, 100, 100, 200_000]


def test_drill_down_from_province_to_the_missing_households_by_name(client, session):
    a, b = _two_markets(session)
    login(client, make_user(session, "admin"))
    commune = session.exec(select(Commune).where(Commune.code == "VANDON")).one()
    province = session.get(Province, commune.province_id)
    assert client.get("/reports/").headers["Location"].endswith("/reports/country")
    page = client.get("/reports/country").get_data(as_text=True)
    assert f"/reports/provinces/{province.id}" in page and "3/5 hộ đã có mã QR" in page
    page = client.get(f"/reports/provinces/{province.id}").get_data(as_text=True)
    assert f"/reports/communes/{commune.id}" in page and "Tổng" in page
    page = client.get(f"/reports/communes/{commune.id}").get_data(as_text=True)
    assert "Chợ Cái Rồng" in page and "Chợ Bến Đoan" in page and 'class="cov low">50%' in page
    page = client.get(f"/reports/markets/{a.id}").get_data(as_text=True)
    assert "2/3 hộ đã có mã QR" in page and 'class="cov low">66%' in page and "Dãy hải sản" in page
    page = client.get(f"/reports/markets/{a.id}/missing", query_string={"zone": "Dãy hải sản"}).get_data(as_text=True)
    assert "Trần Thị Ánh Tuyết" in page and "Nguyễn Thị Đào" not in page and "Lý Văn Sáu" not in page


def test_market_without_households_shows_counts_but_no_percentage(client, session):
    m = make_market(session, name="Chợ Mới")
    login(client, make_user(session, "admin"))
    page = client.get(f"/reports/markets/{m.id}").get_data(as_text=True)
    assert "0/0 hộ đã có mã QR" in page and "Chưa có hộ nào được cấp mã QR." in page
    total = ["Tổng", "0", "0", "0", "", "0", "0", "0", "0", ""]  # ... and 0 receiving payments, no percentage
    assert _csv(client.get(f"/reports/markets/{m.id}/export.csv"))[-1] == total


def test_trend_counts_households_by_the_week_they_first_got_a_qr(client, session):
    m = make_market(session, stalls=3)
    for h, day in zip([make_household(session, m) for _ in range(3)], (1, 2, 9), strict=True):
        h.qr_issued_on = date(2026, 6, day)
        session.add(h)
    session.commit()
    login(client, make_user(session, "admin"))
    wb = load_workbook(io.BytesIO(client.get(f"/reports/markets/{m.id}/export.xlsx").data))
    weeks = [[c.value for c in row] for row in wb["Theo tuần"].iter_rows()]
    assert weeks[0] == ["Tuần bắt đầu", "Hộ mới có QR", "Cộng dồn", "Tỷ lệ (%)"]
    assert [r[1:] for r in weeks[1:3]] == [[2, 2, 66], [1, 3, 100]]
    assert weeks[1][0].date() == date(2026, 6, 1) and weeks[-1][2] == 3


def test_market_manager_opens_on_their_market_and_gets_404_for_another(client, session):
    a, b = _two_markets(session)
    login(client, make_user(session, "market_manager", markets=[a]))
    assert client.get("/reports/").headers["Location"].endswith(f"/reports/markets/{a.id}")
    for url in (
        f"/reports/markets/{b.id}",
        f"/reports/markets/{b.id}/missing",
        *(f"/reports/markets/{b.id}/export.{f}" for f in ("csv", "xlsx", "pdf")),
        *(f"/reports/markets/{b.id}/missing/export.{f}" for f in ("csv", "xlsx")),
    ):
        assert client.get(url).status_code == 404, url
    other = make_market(session, code="CHOC", commune_code="HALONG", province_code="33")
    assert client.get(f"/reports/communes/{other.commune_id}/export.csv").status_code == 404


def test_exports_above_a_market_never_include_markets_outside_the_viewer_scope(client, session):
    a, b = _two_markets(session)
    login(client, make_user(session, "market_manager", markets=[a]))
    commune = session.get(Commune, a.commune_id)
    urls = [
        "/reports/country",
        f"/reports/provinces/{commune.province_id}",
        f"/reports/communes/{commune.id}",
        f"/reports/markets/{a.id}",
        f"/reports/markets/{a.id}/missing",
    ]
    for url in urls:
        page = client.get(url).get_data(as_text=True)
        csv_text = client.get(f"{url}/export.csv").data.decode("utf-8-sig")
        xlsx = load_workbook(io.BytesIO(client.get(f"{url}/export.xlsx").data))
        xlsx_text = " ".join(str(c.value) for ws in xlsx for row in ws.iter_rows() for c in row)
        for text in (page, csv_text, xlsx_text):
            assert "Bến Đoan" not in text and "CHOB" not in text and "Lý Văn Sáu" not in text, url
    rows = _csv(client.get(f"/reports/communes/{commune.id}/export.csv"))
    assert rows[1][:5] == ["CHOA", "Chợ Cái Rồng", "3", "2", "2"] and rows[-1][2] == "3"
    assert "Số liệu chỉ gồm các chợ bạn phụ trách." in client.get(f"/reports/communes/{commune.id}").get_data(
        as_text=True
    )


def test_csv_reads_back_with_vietnamese_intact_and_formulas_neutralised(client, session):
    m = make_market(session, name="Chợ Hạ Long I", stalls=3)
    make_household(session, m, account=False, owner_name="Đỗ Thị Huyền", goods="Chả mực Hạ Long")
    make_household(session, m, account=False, owner_name='=HYPERLINK("http://x")', goods="-1+2 @cmd")
    login(client, make_user(session, "admin"))
    rows = _csv(client.get(f"/reports/markets/{m.id}/missing/export.csv"))
    assert rows[0] == ["Sạp", "Chủ hộ", "Khu/dãy", "Trạng thái", "Mặt hàng", "Điện thoại"]
    assert rows[1][1:5] == ["Đỗ Thị Huyền", "Dãy A", "Đã đăng ký", "Chả mực Hạ Long"]
    assert rows[2][1] == '\'=HYPERLINK("http://x")' and rows[2][4] == "'-1+2 @cmd"
    ws = load_workbook(io.BytesIO(client.get(f"/reports/markets/{m.id}/missing/export.xlsx").data)).active
    assert ws["B3"].value == '=HYPERLINK("http://x")' and ws["B3"].data_type == "s"
    assert ws["B2"].value == "Đỗ Thị Huyền"


@pytest.mark.parametrize("value", ["=1+1", "+84912", "-3", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_gets_an_apostrophe(value):
    assert exports.neutralise(value) == "'" + value
    assert exports.neutralise("Chợ 1") == "Chợ 1" and exports.neutralise(-3) == -3


def test_phone_numbers_are_masked_in_the_missing_list_without_pii_rights(client, session):
    m = make_market(session)
    make_household(session, m, account=False, phone="0912 345 678")
    login(client, make_user(session, "market_manager", markets=[m]))
    assert _csv(client.get(f"/reports/markets/{m.id}/missing/export.csv"))[1][5] == "•••• 5678"


def test_market_pdf_is_one_page_with_the_figures_and_the_chart(client, session):
    m = make_market(session, name="Chợ Cái Rồng", stalls=3)
    make_household(session, m)
    make_household(session, m, account=False)
    for h in session.exec(select(Household).where(Household.qr_issued_on.is_not(None))):
        h.qr_issued_on = date.today() - timedelta(days=20)
        session.add(h)
    session.commit()
    login(client, make_user(session, markets=[m]))
    resp = client.get(f"/reports/markets/{m.id}/export.pdf")
    assert resp.mimetype == "application/pdf" and "attachment" in resp.headers["Content-Disposition"]
    pdf = pdfium.PdfDocument(resp.data)
    assert len(pdf) == 1
    text = pdf[0].get_textpage().get_text_range()
    for expected in ("Chợ Cái Rồng", "1/2 hộ đã có mã QR", "50%", "Mục tiêu 100%", "Cộng dồn", "Dãy A", "Tổng"):
        assert expected in text, expected


def test_inactive_households_and_households_without_a_zone_are_counted_the_way_coverage_defines(client, session):
    m = make_market(session, name="Chợ Cái Rồng", stalls=3, zone="")
    make_household(session, m)
    gone = make_household(session, m, account=False, owner_name="Hộ Đã Nghỉ")
    make_household(session, m, account=False, owner_name="Bùi Thị Thơm")
    gone.active = False
    session.add(gone)
    session.commit()
    login(client, make_user(session, "admin"))
    rows = _csv(client.get(f"/reports/markets/{m.id}/export.csv"))
    assert rows[1][:5] == ["Chưa gắn khu", "2", "1", "1", "50"]
    resp = client.get(f"/reports/markets/{m.id}/missing/export.csv", query_string={"zone": ""})
    assert [r[1] for r in _csv(resp)[1:]] == ["Bùi Thị Thơm"]
    assert "phu-qr-chua-co-qr-cho-cai-rong-chua-gan-khu-" in resp.headers["Content-Disposition"]
    assert client.get(f"/reports/markets/{m.id}/missing", query_string={"zone": "Dãy Z"}).status_code == 404
