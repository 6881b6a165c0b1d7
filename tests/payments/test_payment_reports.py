"""What users see: active households in reports and exports recomputed from the events, the weekly trend, the
to-visit list with the stopped-placard flag, the household page per role and the sources admin page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from factories import login, make_household, make_market, make_user
from payment_factories import account_of, make_source
from sqlmodel import select

from merchants.clock import vn_date
from merchants.models import Commune, Stall
from merchants.payments_parse import Credit
from merchants.scope import SYSTEM
from merchants.services import payment_ingest, payment_stats
from merchants.services import reports as rs
from merchants.services.registry_queries import get_market

NOW = datetime.now(UTC).replace(microsecond=0)


def _credit(session, household, days_ago: float, amount: int, n: list[int]) -> Credit:
    n[0] += 1
    return Credit(f"T{n[0]}", account_of(session, household), amount, NOW - timedelta(days=days_ago), f"R{n[0]}", "in")


@pytest.fixture
def market_with_payments(session):
    """Chợ Cái Rồng: 8 stalls in two zones, 7 households with a QR (one without), credits at chosen days.

    Dãy A: a (2 days ago), b (1), c (3), d (10 days ago: stopped while a, b, c receive); Dãy B: e (40 days: not
    active), f (never), g (5), and h without an account (no QR).
    """
    market = make_market(session, code="CAIRONG", commune_code="06994", stalls=8, zone="Dãy A")
    for stall in session.exec(select(Stall).where(Stall.market_id == market.id, Stall.code >= "A-005")):
        stall.zone = "Dãy B"
        session.add(stall)
    session.commit()
    hh = {k: make_household(session, market, owner_name=f"Hộ {k.upper()}") for k in "abcdefg"}
    hh["h"] = make_household(session, market, account=False, owner_name="Hộ H")
    source, _key = make_source(session, "statement", markets=["CAIRONG"])
    n = [0]
    plan = {"a": [2, 20], "b": [1], "c": [3, 3.5], "d": [10, 15], "e": [40], "g": [5]}
    events = [(k, d, 10_000 * (i + 1)) for k, days in plan.items() for i, d in enumerate(days)]
    credits = [_credit(session, hh[k], d, amount, n) for k, d, amount in events]
    result = payment_ingest.store_credits(session, source, credits)
    assert result.stored == len(events)
    return market, hh, events


def _expected_active(events, hh, keys) -> set[str]:
    return {k for k, d, _a in events if d <= 30 and k in keys}


def test_active_figures_are_recomputed_from_the_events(session, market_with_payments):
    market, hh, events = market_with_payments
    active = _expected_active(events, hh, set("abcdefg"))
    assert active == set("abcdg")
    report = rs.market_report(session, get_market(session, SYSTEM, market.id), today=vn_date(NOW), now=NOW)
    assert (report.active.covered, report.active.total, report.active.percent) == (5, 7, 71)
    assert payment_stats.active_label(report.active) == "5/7 hộ đang dùng (71%)"
    zones = {r.name: (r.active.covered, r.active.total) for r in report.rows}
    assert zones == {"Dãy A": (len(active & set("abcd")), 4), "Dãy B": (len(active & set("efg")), 3)}
    commune = session.exec(select(Commune).where(Commune.code == "06994")).one()
    up = rs.area_report(session, SYSTEM, "commune", commune.id, today=vn_date(NOW), now=NOW)
    assert [(r.code, r.active.covered, r.active.total) for r in up.rows] == [("CAIRONG", 5, 7)]
    country = rs.area_report(session, SYSTEM, "country", None, today=vn_date(NOW), now=NOW)
    assert (country.active.covered, country.active.total) == (5, 7)
    for days_on in (20, 27, 28.5, 35):  # "the last 30 days": today and the 29 Vietnam days before
        later_now = NOW + timedelta(days=days_on)
        first_day = vn_date(later_now) - timedelta(days=29)
        expected = {k for k, d, _a in events if vn_date(NOW - timedelta(days=d)) >= first_day}
        later = rs.market_report(
            session, get_market(session, SYSTEM, market.id), today=vn_date(later_now), now=later_now
        )
        assert later.active.covered == len(expected)
        assert bool(expected) is (days_on == 20) or days_on in (27, 28.5)


def test_weekly_trend_counts_households_receiving_each_week(session, market_with_payments):
    market, _hh, events = market_with_payments
    report = rs.market_report(session, get_market(session, SYSTEM, market.id), today=vn_date(NOW), now=NOW)
    expected: dict = {}
    for k, d, _a in events:
        day = vn_date(NOW - timedelta(days=d))
        expected.setdefault(day - timedelta(days=day.weekday()), set()).add(k)
    got = {p.week: p.households for p in report.active_trend if p.households}
    assert got == {w: len(ks) for w, ks in expected.items() if w in {p.week for p in report.active_trend}}
    assert len(report.active_trend) == 12


def test_to_visit_lists_silent_placards_and_flags_one_that_stopped(session, market_with_payments):
    market, hh, _events = market_with_payments
    rows = payment_stats.to_visit(session, SYSTEM, market.id, now=NOW)
    assert [(r.owner_name, r.stopped) for r in rows] == [("Hộ D", True), ("Hộ E", False), ("Hộ F", False)]
    assert rows[2].last_at is None
    assert not payment_stats.stopped_flag(session, SYSTEM, hh["a"].id, market.id, now=NOW)


def test_report_page_and_exports_show_the_active_figures(client, session, market_with_payments):
    market, _hh, _events = market_with_payments
    login(client, make_user(session, "market_manager", markets=[market]))
    page = client.get(f"/reports/markets/{market.id}").get_data(as_text=True)
    assert "5/7 hộ đang dùng (71%)" in page and "Số hộ nhận thanh toán theo tuần" in page
    resp = client.get(f"/reports/markets/{market.id}/export.csv")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))
    head, total = rows[0], rows[-1]
    assert head[-2:] == ["Đang nhận thanh toán", "Tỷ lệ đang dùng (%)"] and total[-2:] == ["5", "71"]
    visit = client.get(f"/reports/markets/{market.id}/to-visit")
    assert visit.status_code == 200 and "kiểm tra bảng QR có bị dán đè" in visit.get_data(as_text=True)
    exported = client.get(f"/reports/markets/{market.id}/to-visit/export.csv")
    lines = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"), newline="")))
    assert [r[1] for r in lines[1:]] == ["Hộ D", "Hộ E", "Hộ F"] and lines[1][4] == "Có"
    assert client.get(f"/reports/markets/{market.id}/to-visit/export.xlsx").status_code == 200


def test_to_visit_is_scoped_like_every_report(client, session, market_with_payments):
    elsewhere = make_market(session, code="BENDOAN", commune_code="06985")
    market, _hh, _events = market_with_payments
    login(client, make_user(session, "commune_officer", markets=[elsewhere]))
    assert client.get(f"/reports/markets/{market.id}/to-visit").status_code == 404


@pytest.mark.parametrize(
    ("role", "sees_amounts"), [("admin", True), ("bank_officer", True), ("commune_officer", False)]
)
def test_household_page_shows_amounts_only_to_roles_with_the_right(
    client, session, market_with_payments, role, sees_amounts
):
    market, hh, events = market_with_payments
    login(client, make_user(session, role, markets=[market] if role != "admin" else []))
    page = client.get(f"/households/{hh['c'].id}").get_data(as_text=True)
    amount = sum(a for k, d, a in events if k == "c" and d <= 30)
    assert amount == 30_000
    assert ("30.000 đ" in page) is sees_amounts
    assert ("Đang nhận thanh toán" in page) is not sees_amounts
    if not sees_amounts:
        assert "<b>Có</b>" in page
    stopped = client.get(f"/households/{hh['d'].id}").get_data(as_text=True)
    assert "ngừng nhận tiền" in stopped


def test_sources_admin_page_shows_a_key_once_and_rotates_and_revokes(client, session):
    make_market(session, code="CAIRONG", commune_code="06994")
    login(client, make_user(session, "admin"))
    resp = client.post(
        "/admin/payments",
        data={"name": "SePay Cái Rồng", "kind": "sepay", "markets": "CAIRONG", "communes": "", "provinces": ""},
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "chỉ hiện một lần" in page
    key = page.split('id="source-key">')[1].split("<")[0]
    assert key.startswith("choqr_sepay_")
    listing = client.get("/admin/payments").get_data(as_text=True)
    assert "SePay Cái Rồng" in listing and key not in listing
    from merchants.payment_models import PaymentSource

    source = session.exec(select(PaymentSource)).one()
    rotated = client.post(f"/admin/payments/{source.id}/rotate").get_data(as_text=True)
    assert "choqr_sepay_" in rotated and key not in rotated
    assert client.post(f"/admin/payments/{source.id}/revoke").status_code == 302
    assert "Đã thu hồi" in client.get("/admin/payments").get_data(as_text=True)
    bad = client.post("/admin/payments", data={"name": "X", "kind": "casso", "communes": "99999"})
    assert bad.status_code == 422 and "99999" in bad.get_data(as_text=True)


def test_only_administrators_manage_sources(client, session):
    market = make_market(session)
    login(client, make_user(session, "bank_officer", markets=[market]))
    assert client.get("/admin/payments").status_code == 403
    assert client.get("/admin/payments/statements").status_code == 403


def test_statement_upload_page_reports_rows(client, session, market_with_payments):
    _market, hh, _events = market_with_payments
    login(client, make_user(session, "admin"))
    from merchants.payment_models import PaymentSource

    source = session.exec(select(PaymentSource)).one()
    body = (
        "Ngày giao dịch,Số tham chiếu,Ghi có,Ghi nợ,Số tài khoản\n"
        f"30/11/2026,FT1,150000,,{account_of(session, hh['f'])}\n"
        f"30/11/2026,FT2,abc,,{account_of(session, hh['f'])}\n"
    ).encode()
    resp = client.post(
        "/admin/payments/statements",
        data={"source": source.name, "file": (io.BytesIO(body), "sao-ke.csv"), "dry_run": "y"},
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Chạy thử" in page and "&#39;abc&#39; không phải số tiền" in page


def test_the_day_tally_follows_each_households_last_credit_whatever_the_order(session):
    """Credits one by one, out of order and repeated: the per-day tally always equals the households by their last
    credit's day, recomputed here from the events."""
    from merchants.payment_models import PaymentEvent, PaymentMarketDay

    market = make_market(session, code="CAIRONG", commune_code="06994", stalls=3)
    hh = [make_household(session, market) for _ in range(3)]
    source, _ = make_source(session, "statement", markets=["CAIRONG"])
    n = [0]
    for h, days in ((0, 5), (1, 9), (0, 12), (0, 1), (2, 3), (1, 2), (2, 20)):
        credit = _credit(session, hh[h], days, 1000, n)
        payment_ingest.store_credits(session, source, [credit])
        payment_ingest.store_credits(session, source, [credit])  # a retry moves nothing
    session.expire_all()
    last: dict[int, datetime] = {}
    for e in session.exec(select(PaymentEvent)):
        at = e.occurred_at.replace(tzinfo=UTC) if e.occurred_at.tzinfo is None else e.occurred_at
        last[e.household_id] = max(last.get(e.household_id, at), at)
    expected: dict = {}
    for at in last.values():
        expected[vn_date(at)] = expected.get(vn_date(at), 0) + 1
    tally = {r.day: r.households for r in session.exec(select(PaymentMarketDay)) if r.households}
    assert tally == expected
