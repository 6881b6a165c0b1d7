"""Zones and stalls of a market: ranges in one go, rename, move, close, reopen, delete, and what is refused."""

import html
import json

import pytest
from factories import login, make_household, make_market, make_user
from sqlmodel import func, select

from merchants.errors import InvalidField
from merchants.models import AuditLog, Household, IssuedQR, Placard, Stall
from merchants.scope import SYSTEM
from merchants.services import stalls as st
from merchants.services.areas import load_shipped_if_empty


@pytest.fixture
def market(session):  # noqa: ANN001, ANN201
    load_shipped_if_empty(session)
    return make_market(session, code="CAIRD", commune_code="06994", stalls=0)


@pytest.fixture
def admin(client, session, market):  # noqa: ANN001, ANN201
    user = make_user(session, "admin", provinces=["22"])
    login(client, user)
    return user


def _stalls(session, market) -> dict[str, Stall]:  # noqa: ANN001
    return {s.code: s for s in session.exec(select(Stall).where(Stall.market_id == market.id))}


def _audits(session, action: str) -> list[dict]:  # noqa: ANN001
    rows = session.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))
    return [{"subject": a.subject, **json.loads(a.detail)} for a in rows]


def _text(resp) -> str:  # noqa: ANN001
    return html.unescape(resp.get_data(as_text=True))


def test_a_range_of_120_stalls_is_created_in_one_go_and_the_same_range_again_adds_nothing(
    client, session, market, admin
):
    resp = client.post(f"/admin/markets/{market.id}/stalls", data={"codes": "A-001..A-120", "zone": "Khu A"})
    assert resp.status_code == 302
    stalls = _stalls(session, market)
    assert len(stalls) == 120 and {s.zone for s in stalls.values()} == {"Khu A"}
    assert "A-001" in stalls and "A-120" in stalls
    again = client.post(
        f"/admin/markets/{market.id}/stalls", data={"codes": "a-001..a-120", "zone": "Khu A"}, follow_redirects=True
    )
    assert "120 mã đã có trong chợ, bỏ qua: A-001, A-002" in _text(again)
    assert session.exec(select(func.count()).select_from(Stall)).one() == 120
    assert _audits(session, "stall.create") == [
        {"subject": "market:CAIRD", "count": 120, "first": "A-001", "last": "A-120", "zone": "Khu A", "source": "form"}
    ]


def test_a_range_overlapping_existing_stalls_adds_only_the_missing_ones(session, market):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001..A-010")
    added = st.add_stalls(session, SYSTEM, market.id, codes="A-005..A-015, K-01", zone="Khu A")
    assert added.created == [f"A-{n:03d}" for n in range(11, 16)] + ["K-01"]
    assert added.existing == [f"A-{n:03d}" for n in range(5, 11)]


def test_the_stalls_page_counts_free_occupied_and_closed_per_zone_and_pages_the_list(client, session, market, admin):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001..A-120", zone="Khu A")
    st.add_stalls(session, SYSTEM, market.id, codes="B-01..B-03", zone="Khu B")
    make_household(session, market)
    make_household(session, market)
    st.set_stall_closed(session, SYSTEM, market.id, _stalls(session, market)["B-02"].id, closed=True)
    text = _text(client.get(f"/admin/markets/{market.id}/stalls"))
    assert '<td class="num">118</td><td class="num">2</td><td class="num">0</td><td class="num"><b>120</b>' in text
    assert '<td class="num">2</td><td class="num">0</td><td class="num">1</td><td class="num"><b>3</b>' in text
    assert "Sạp 1–100 trong 123" in text
    page2 = _text(client.get(f"/admin/markets/{market.id}/stalls?page=2"))
    assert "A-101" in page2 and "A-100" not in page2
    closed = _text(client.get(f"/admin/markets/{market.id}/stalls?state=closed"))
    assert "B-02" in closed and "B-01" not in closed and "1 sạp" in closed
    zone_b = _text(client.get(f"/admin/markets/{market.id}/stalls", query_string={"zone": "Khu B"}))
    assert "B-01" in zone_b and "A-001</b>" not in zone_b


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ("A 01", "dấu cách"),
        ("A'01", 'ký tự không dùng được ("\'")'),
        ("-A01", "phải bắt đầu bằng chữ hoặc số"),
        ("A-001..B-010", "hai đầu phải cùng phần đầu"),
        ("A-0001..A-3000", "tối đa 2000 sạp một lần"),
    ],
)
def test_bad_codes_are_refused_under_the_field_and_nothing_is_created(client, session, market, admin, codes, message):
    resp = client.post(f"/admin/markets/{market.id}/stalls", data={"codes": codes, "zone": ""})
    assert resp.status_code == 422
    assert message in _text(resp)
    assert session.exec(select(func.count()).select_from(Stall)).one() == 0


def test_codes_with_vietnamese_letters_follow_the_stall_code_rule(session, market):
    assert st.add_stalls(session, SYSTEM, market.id, codes="đ-01, T1/12").created == ["Đ-01", "T1/12"]


def test_renaming_to_an_existing_code_is_refused_with_a_link_and_renaming_to_a_free_one_is_audited(
    client, session, market, admin
):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001..A-003", zone="Khu A")
    h = make_household(session, market)
    stalls = _stalls(session, market)
    taken = client.post(
        f"/admin/markets/{market.id}/stalls/{stalls['A-001'].id}", data={"code": "a-002", "zone": "Khu A"}
    )
    assert taken.status_code == 422
    assert "Sạp A-002 đã có trong danh sách của chợ." in _text(taken)
    assert f"/admin/markets/{market.id}/stalls/{stalls['A-002'].id}" in _text(taken)
    moved = client.post(
        f"/admin/markets/{market.id}/stalls/{stalls['A-001'].id}", data={"code": "A-001B", "zone": "Khu B"}
    )
    assert moved.status_code == 302
    session.refresh(stalls["A-001"])
    assert (stalls["A-001"].code, stalls["A-001"].zone) == ("A-001B", "Khu B")
    session.expire_all()
    assert session.get(Household, h.id).needs_reprint  # its placard shows the old code
    assert _audits(session, "stall.rename") == [
        {
            "subject": "market:CAIRD",
            "stall": "A-001B",
            "changes": {"code": ["A-001", "A-001B"], "zone": ["Khu A", "Khu B"]},
        }
    ]


def test_a_whole_zone_is_renamed_in_one_statement(client, session, market, admin):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001..A-040", zone="Day A")
    resp = client.post(
        f"/admin/markets/{market.id}/zones/rename", data={"rename-zone": "Day A", "rename-new_zone": "Dãy A"}
    )
    assert resp.status_code == 302
    assert {s.zone for s in _stalls(session, market).values()} == {"Dãy A"}
    assert _audits(session, "zone.rename") == [{"subject": "market:CAIRD", "old": "Day A", "new": "Dãy A", "count": 40}]
    missing = client.post(
        f"/admin/markets/{market.id}/zones/rename", data={"rename-zone": "Khu Z", "rename-new_zone": "Khu Y"}
    )
    assert missing.status_code == 422 and "Chợ không có khu 'Khu Z'." in _text(missing)


def test_a_stall_with_an_active_household_cannot_be_closed_and_the_page_says_why(client, session, market, admin):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001..A-002")
    h = make_household(session, market)
    held = _stalls(session, market)["A-001"]
    resp = client.post(f"/admin/markets/{market.id}/stalls/{held.id}/close")
    assert resp.status_code == 409
    assert "Sạp A-001 đang có hộ Nguyễn Thị Đào kinh doanh" in _text(resp)
    assert f"/households/{h.id}" in _text(resp)
    session.refresh(held)
    assert held.closed_at is None


def test_an_english_speaking_admin_reads_why_a_stall_cannot_be_closed_or_a_range_added(client, session, market, admin):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001")
    make_household(session, market)
    client.post("/language/en")
    held = _stalls(session, market)["A-001"]
    resp = client.post(f"/admin/markets/{market.id}/stalls/{held.id}/close")
    assert resp.status_code == 409
    assert "Household Nguyễn Thị Đào trades at stall A-001; a stall cannot be closed while" in _text(resp)
    resp = client.post(f"/admin/markets/{market.id}/stalls", data={"codes": "C 1", "zone": ""})
    assert resp.status_code == 422 and "space" in _text(resp) and "dấu cách" not in _text(resp)
    resp = client.post(f"/admin/markets/{market.id}/stalls", data={"codes": "A-001..B-010", "zone": ""})
    assert "Range 'A-001..B-010': both ends must share their prefix ('A-' differs from 'B-')." in _text(resp)


def test_a_free_stall_is_closed_and_reopened_and_both_are_audited(client, session, market, admin):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001")
    stall = _stalls(session, market)["A-001"]
    assert client.post(f"/admin/markets/{market.id}/stalls/{stall.id}/close").status_code == 302
    session.refresh(stall)
    assert stall.closed_at is not None
    assert client.post(f"/admin/markets/{market.id}/stalls/{stall.id}/close").status_code == 409
    assert client.post(f"/admin/markets/{market.id}/stalls/{stall.id}/reopen").status_code == 302
    session.refresh(stall)
    assert stall.closed_at is None
    assert [a["stall"] for a in _audits(session, "stall.close") + _audits(session, "stall.reopen")] == ["A-001"] * 2


def test_a_stall_that_never_held_anything_is_deleted_and_one_that_did_never_is(client, session, market, admin):
    st.add_stalls(session, SYSTEM, market.id, codes="A-001..A-003")
    h = make_household(session, market)
    stalls = _stalls(session, market)
    held = client.post(f"/admin/markets/{market.id}/stalls/{stalls['A-001'].id}/delete")
    assert held.status_code == 409 and "không xoá được; chỉ có thể đóng sạp" in _text(held)
    qr_id = session.exec(select(IssuedQR.id).where(IssuedQR.household_id == h.id)).one()
    placard = Placard(serial="S-1", household_id=h.id, stall_id=stalls["A-002"].id, qr_id=qr_id)
    session.add(placard)
    session.commit()
    assert client.post(f"/admin/markets/{market.id}/stalls/{stalls['A-002'].id}/delete").status_code == 409
    page = _text(client.get(f"/admin/markets/{market.id}/stalls/{stalls['A-003'].id}"))
    assert "Xoá sạp" in page
    assert client.post(f"/admin/markets/{market.id}/stalls/{stalls['A-003'].id}/delete").status_code == 302
    assert set(_stalls(session, market)) == {"A-001", "A-002"}
    assert _audits(session, "stall.delete") == [{"subject": "market:CAIRD", "stall": "A-003", "zone": ""}]


def test_no_stall_is_added_to_a_closed_market(session, market):
    from merchants.services.setup_markets import set_closed

    set_closed(session, SYSTEM, market.id, closed=True)
    with pytest.raises(InvalidField) as err:
        st.add_stalls(session, SYSTEM, market.id, codes="A-001")
    assert err.value.field == "codes"


def test_a_province_admin_cannot_touch_the_stalls_of_another_province(client, session, market, admin):
    hanoi = make_market(session, code="HN1", commune_code="00004", stalls=1)
    stall = _stalls(session, hanoi)["A-001"]
    assert client.get(f"/admin/markets/{hanoi.id}/stalls").status_code == 404
    assert client.post(f"/admin/markets/{hanoi.id}/stalls", data={"codes": "B-01"}).status_code == 404
    assert client.post(f"/admin/markets/{hanoi.id}/stalls/{stall.id}/delete").status_code == 404
    assert client.get(f"/admin/markets/{market.id}/stalls/{stall.id}").status_code == 404
    assert session.exec(select(func.count()).select_from(Stall)).one() == 1


def test_the_cli_adds_ranges_and_single_codes_and_refuses_a_bad_code(app, session, market):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "stalls",
            "add",
            "--market",
            "caird",
            "--zone",
            "Khu A",
            "--range",
            "A-001..A-120",
            "--code",
            "K-01",
            "--code",
            "K-02",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Đã thêm 122 sạp (A-001 → K-02)." in result.output
    again = runner.invoke(args=["stalls", "add", "--market", "CAIRD", "--range", "A-001..A-120"])
    assert again.exit_code == 0 and "120 mã đã có, bỏ qua" in again.output
    bad = runner.invoke(args=["stalls", "add", "--market", "CAIRD", "--code", "K 03"])
    assert bad.exit_code == 2 and "dấu cách" in bad.output
    assert session.exec(select(func.count()).select_from(Stall)).one() == 122
    assert _audits(session, "stall.create")[0]["source"] == "cli"
