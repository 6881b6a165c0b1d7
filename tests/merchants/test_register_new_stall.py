"""Registering a trader at a stall the market does not list yet: the stall and the household in one go."""

import html
import json

import pytest
from factories import free_stall, login, make_household, make_market, make_user
from sqlmodel import func, select

from merchants.errors import InvalidField
from merchants.models import AuditLog, Household, Stall
from merchants.scope import SYSTEM
from merchants.services import households as hs
from merchants.services import stalls as st
from merchants.services.registry_queries import get_market


@pytest.fixture
def market(session):  # noqa: ANN001, ANN201
    return make_market(session, code="CAIRD", stalls=2, zone="Khu A")


@pytest.fixture
def officer(client, session, market):  # noqa: ANN001, ANN201
    user = make_user(session, markets=[market])
    login(client, user)
    return user


def _form(**overrides: str) -> dict:
    data = {
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


def _text(resp) -> str:  # noqa: ANN001
    return html.unescape(resp.get_data(as_text=True))


def _count(session, model) -> int:  # noqa: ANN001
    return session.exec(select(func.count()).select_from(model)).one()


def test_an_unlisted_stall_is_created_with_the_household_and_audited(client, session, market, officer):
    resp = client.post(
        f"/markets/{market.id}/register", data=_form(new_stall_code=" k-65 ", new_stall_zone="Ki-ốt mặt đường")
    )
    assert resp.status_code == 302, _text(resp)[:2000]
    stall = session.exec(select(Stall).where(Stall.code == "K-65")).one()
    h = session.exec(select(Household)).one()
    assert (stall.market_id, stall.zone, stall.household_id, h.status) == (
        market.id,
        "Ki-ốt mặt đường",
        h.id,
        "qr_issued",
    )
    rows = {a.action: a for a in session.exec(select(AuditLog))}
    created = rows["stall.create"]
    assert (created.subject, created.user_id, created.source_ip) == ("market:CAIRD", officer.id, "127.0.0.1")
    assert json.loads(created.detail) == {
        "count": 1,
        "first": "K-65",
        "last": "K-65",
        "zone": "Ki-ốt mặt đường",
        "source": "register",
    }
    assert json.loads(rows["household.create"].detail)["stalls"] == ["K-65"]


def test_a_listed_stall_and_a_new_one_are_both_taken(client, session, market, officer):
    listed = free_stall(session, market)
    resp = client.post(f"/markets/{market.id}/register", data=_form(stall_ids=str(listed.id), new_stall_code="K-66"))
    assert resp.status_code == 302
    h = session.exec(select(Household)).one()
    assert sorted(session.exec(select(Stall.code).where(Stall.household_id == h.id))) == ["A-001", "K-66"]


def test_a_code_the_market_already_lists_is_refused_with_a_link_to_it(client, session, market, officer):
    resp = client.post(f"/markets/{market.id}/register", data=_form(new_stall_code="a-002"))
    text = _text(resp)
    assert resp.status_code == 422
    assert "Sạp A-002 đã có trong danh sách của chợ." in text
    assert f'href="/markets/{market.id}/stalls/A-002"' in text
    assert _count(session, Household) == 0 and _count(session, Stall) == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("K 65", "dấu cách"),
        ('K"65', "ký tự không dùng được"),
        ("K" * 21, "dài quá 20 ký tự"),
    ],
)
def test_a_bad_new_code_is_refused_under_its_field(client, session, market, officer, code, message):
    resp = client.post(f"/markets/{market.id}/register", data=_form(new_stall_code=code))
    assert resp.status_code == 422 and message in _text(resp)
    assert _count(session, Household) == 0 and _count(session, Stall) == 2


def test_neither_a_listed_nor_a_new_stall_is_refused(client, session, market, officer):
    resp = client.post(f"/markets/{market.id}/register", data=_form())
    assert resp.status_code == 422 and "Hãy chọn ít nhất một sạp." in _text(resp)


def test_a_refused_registration_leaves_no_new_stall_behind(client, session, market, officer):
    make_household(session, market, citizen_id="022185001234")
    resp = client.post(f"/markets/{market.id}/register", data=_form(new_stall_code="K-70"))
    assert resp.status_code == 422 and "Số CCCD này đã được đăng ký" in _text(resp)
    assert session.exec(select(Stall).where(Stall.code == "K-70")).first() is None


def test_a_closed_stall_is_not_offered_and_is_refused_by_the_service(client, session, market, officer):
    closed = free_stall(session, market)
    st.set_stall_closed(session, SYSTEM, market.id, closed.id, closed=True)
    page = _text(client.get(f"/markets/{market.id}/register"))
    assert f'<option value="{closed.id}">' not in page
    with pytest.raises(InvalidField) as err:
        hs.register_household(
            session,
            get_market(session, SYSTEM, market.id),
            stall_ids=[closed.id],
            household=hs.HouseholdInput("Lê Văn Nam"),
            account=None,
        )
    assert (err.value.field, err.value.message) == ("stalls", "Sạp A-001 đã đóng; hãy chọn sạp khác.")


def test_the_service_refuses_a_new_stall_code_by_the_stall_code_rule(session, market):
    with pytest.raises(InvalidField) as err:
        hs.register_household(
            session,
            get_market(session, SYSTEM, market.id),
            stall_ids=[],
            household=hs.HouseholdInput("Lê Văn Nam"),
            account=None,
            new_stall=hs.NewStall("K'01"),
        )
    assert err.value.field == "new_stall_code"
    assert _count(session, Household) == 0
