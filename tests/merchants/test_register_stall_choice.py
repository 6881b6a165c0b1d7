"""The register form's stall choice: one zone's page of free stalls, never the whole market, with and without
JavaScript (the zone and "more" buttons post the form back as typed; the script reads the same pages as JSON)."""

import html
import re

import pytest
from factories import free_stall, login, make_household, make_market, make_user
from sqlalchemy import event
from sqlmodel import func, select

from merchants.models import Household, Stall
from merchants.scope import SYSTEM
from merchants.services import stalls as st
from merchants.services.registry_queries import STALL_CHOICES


@pytest.fixture
def market(session):  # noqa: ANN001, ANN201
    """Khu A with 60 free stalls (more than a page), Khu B with 5."""
    m = make_market(session, code="CAIRD", stalls=60, zone="Khu A")
    st.add_stalls(session, SYSTEM, m.id, codes="B-001..B-005", zone="Khu B")
    return m


@pytest.fixture
def officer(client, session, market):  # noqa: ANN001, ANN201
    user = make_user(session, markets=[market])
    login(client, user)
    return user


def _stall_id(session, market, code: str) -> int:  # noqa: ANN001
    return session.exec(select(Stall.id).where(Stall.market_id == market.id, Stall.code == code)).one()


def _offered(page: str) -> list[str]:
    """The stall codes the stall list offers, in order."""
    block = re.search(r'<select id="stall_ids".*?</select>', page, re.S)
    return re.findall(r"<option [^>]*>([^ <]+)", block.group(0)) if block else []


def _chosen(page: str) -> list[str]:
    block = re.search(r'<select id="stall_ids".*?</select>', page, re.S)
    return re.findall(r"<option [^>]*selected>([^ <]+)", block.group(0)) if block else []


def _text(resp) -> str:  # noqa: ANN001
    return html.unescape(resp.get_data(as_text=True))


def _form(**overrides: object) -> dict:
    data: dict[str, object] = {
        "owner_name": "Lê Thị Hoa",
        "phone": "0912 345 678",
        "citizen_id": "022185001234",
        "goods": "Cá",
        "bin": "970436",
        "account_number": "0011001932418",
        "holder_name": "",
    }
    data.update(overrides)
    return data


def test_the_form_lists_the_first_zones_first_page_and_every_zone_with_its_free_count(client, market, officer):
    page = _text(client.get(f"/markets/{market.id}/register"))
    assert _offered(page) == [f"A-{i:03d}" for i in range(1, STALL_CHOICES + 1)]
    assert "Khu A · 60 sạp trống" in page and "Khu B · 5 sạp trống" in page
    assert f'name="stall_after" value="A-{STALL_CHOICES:03d}"' in page  # the next page, without JavaScript


def test_a_stall_named_by_the_market_page_is_chosen_with_its_zones_other_free_stalls(client, market, officer):
    page = _text(client.get(f"/markets/{market.id}/register?stall=B-003"))
    assert _chosen(page) == ["B-003"]
    assert _offered(page) == ["B-003", "B-001", "B-002", "B-004", "B-005"]  # the chosen one first
    assert re.search(r'<option value="Khu B" selected>', page)


def test_a_named_stall_that_is_taken_is_not_chosen(client, session, market, officer):
    make_household(session, market)  # takes A-001
    page = _text(client.get(f"/markets/{market.id}/register?stall=A-001"))
    assert _chosen(page) == [] and "A-001" not in _offered(page)


def test_the_zone_button_brings_the_form_back_as_typed_with_that_zones_stalls(client, session, market, officer):
    a2 = _stall_id(session, market, "A-002")
    resp = client.post(f"/markets/{market.id}/register", data=_form(action="zone", zone="Khu B", stall_ids=str(a2)))
    page = _text(resp)
    assert resp.status_code == 200
    assert 'value="Lê Thị Hoa"' in page and 'value="0011001932418"' in page
    assert _chosen(page) == ["A-002"]  # chosen in Khu A, still chosen while Khu B is listed
    assert _offered(page) == ["A-002", "B-001", "B-002", "B-003", "B-004", "B-005"]
    assert "has-error" not in page  # only shown again, not checked
    assert session.exec(select(func.count()).select_from(Household)).one() == 0


def test_the_more_button_lists_the_zones_next_page(client, market, officer):
    resp = client.post(f"/markets/{market.id}/register", data=_form(zone="Khu A", stall_after=f"A-{STALL_CHOICES:03d}"))
    assert resp.status_code == 200
    assert _offered(_text(resp)) == [f"A-{i:03d}" for i in range(STALL_CHOICES + 1, 61)]
    assert 'name="stall_after"' not in _text(resp)  # the last page


def test_the_script_reads_the_same_pages_as_json(client, market, officer):
    first = client.get(f"/markets/{market.id}/register/stalls", query_string={"zone": "Khu A"}).get_json()
    assert (first["zone"], first["free"], first["more_after"]) == ("Khu A", 60, f"A-{STALL_CHOICES:03d}")
    assert first["stalls"][0]["label"] == "A-001 – Khu A" and len(first["stalls"]) == STALL_CHOICES
    rest = client.get(
        f"/markets/{market.id}/register/stalls", query_string={"zone": "Khu A", "stall_after": first["more_after"]}
    ).get_json()
    assert [s["code"] for s in rest["stalls"]] == [f"A-{i:03d}" for i in range(STALL_CHOICES + 1, 61)]
    assert rest["more_after"] is None
    unknown = client.get(f"/markets/{market.id}/register/stalls", query_string={"zone": "Khu Z"}).get_json()
    assert unknown["zone"] == "Khu A"  # a zone with no free stall: the first zone


def test_the_stall_json_needs_the_register_right_and_the_market_in_scope(app, client, session, market, officer):
    other = make_market(session, code="KHAC")
    assert client.get(f"/markets/{other.id}/register/stalls").status_code == 404
    printer = app.test_client()
    login(printer, make_user(session, "print_staff", markets=[market]))
    assert printer.get(f"/markets/{market.id}/register/stalls").status_code == 403


def test_a_market_with_no_free_stall_says_so_and_still_takes_a_new_stall(client, session):
    full = make_market(session, stalls=1)
    make_household(session, full)
    login(client, make_user(session, markets=[full]))
    page = _text(client.get(f"/markets/{full.id}/register"))
    assert _offered(page) == [] and "Chợ chưa có sạp trống: hãy ghi mã sạp mới bên dưới." in page
    resp = client.post(f"/markets/{full.id}/register", data=_form(new_stall_code="K-65"))
    assert resp.status_code == 302


def test_a_stall_taken_since_the_form_opened_is_refused_by_name_under_the_stall_list(client, session, market, officer):
    a1 = _stall_id(session, market, "A-001")
    holder = make_household(session, market)  # another tablet took A-001
    resp = client.post(f"/markets/{market.id}/register", data=_form(stall_ids=str(a1)))
    page = _text(resp)
    assert resp.status_code == 422
    errors = re.search(r'<div id="stall_ids-error">(.*?)</div>', page, re.S)
    assert errors and "Sạp A-001 đã có hộ kinh doanh." in errors.group(1)
    assert f'href="/households/{holder.id}"' in page
    assert session.exec(select(func.count()).select_from(Household)).one() == 1


def test_a_stall_of_another_market_is_refused_under_the_stall_list(client, session, market, officer):
    elsewhere = free_stall(session, make_market(session, code="KHAC"))
    resp = client.post(f"/markets/{market.id}/register", data=_form(stall_ids=str(elsewhere.id)))
    errors = re.search(r'<div id="stall_ids-error">(.*?)</div>', _text(resp), re.S)
    assert resp.status_code == 422 and errors and "Hãy chọn ít nhất một sạp của chợ này." in errors.group(1)
    assert session.exec(select(Stall.household_id).where(Stall.id == elsewhere.id)).one() is None


def test_more_stalls_than_a_household_takes_are_refused(client, session, market, officer):
    ids = session.exec(select(Stall.id).where(Stall.market_id == market.id).limit(21)).all()
    resp = client.post(f"/markets/{market.id}/register", data=_form(stall_ids=[str(i) for i in ids]))
    assert resp.status_code == 422 and "Một hộ đăng ký tối đa 20 sạp một lần." in _text(resp)
    assert session.exec(select(func.count()).select_from(Household)).one() == 0


def _statements(app, fn) -> list[str]:  # noqa: ANN001
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(" ".join(statement.split()))

    engine = app.extensions["choqr.engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def test_the_form_costs_the_same_queries_and_options_at_8_stalls_as_at_300(app, client, session):
    small, big = make_market(session, stalls=8), make_market(session, stalls=300)
    st.add_stalls(session, SYSTEM, big.id, codes="B-001..B-300", zone="Dãy B")
    login(client, make_user(session, markets=[small, big]))
    cost = {}
    for m in (small, big):
        client.get(f"/markets/{m.id}/register")  # warm
        sql = _statements(app, lambda m=m: client.get(f"/markets/{m.id}/register"))
        cost[m.id] = (len(sql), len(_offered(_text(client.get(f"/markets/{m.id}/register")))))
    assert cost[small.id] == (cost[big.id][0], 8)
    assert cost[big.id][1] == STALL_CHOICES


def test_registering_reads_the_market_and_the_stalls_once_and_claims_without_reading_back(
    app, client, session, market, officer
):
    a3 = _stall_id(session, market, "A-003")
    resp = []
    sql = _statements(
        app, lambda: resp.append(client.post(f"/markets/{market.id}/register", data=_form(stall_ids=str(a3))))
    )
    assert resp[0].status_code == 302
    assert len([s for s in sql if s.startswith("SELECT") and " FROM market" in s]) == 1
    assert len([s for s in sql if s.startswith("SELECT") and " FROM stall" in s]) == 1
    assert session.exec(select(Stall.household_id).where(Stall.id == a3)).one() is not None
