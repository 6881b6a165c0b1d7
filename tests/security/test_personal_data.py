"""Personal data by role (issue 10): a role without 'pii' neither sees phone, CCCD and account numbers nor
recovers them by searching digits; lists carry no payloads; verification names nothing outside one's areas."""

from __future__ import annotations

import json

import pytest
from factories import login, make_household, make_market, make_user
from sqlmodel import select

from merchants.models import AuditLog, IssuedQR, Placard
from merchants.scope import SYSTEM
from merchants.services import api_tokens
from merchants.services.placards import single_placard_pdf

CCCD, PHONE, ACCOUNT = "022185001234", "0912345678", "0011001932418"


@pytest.fixture
def world(session):  # noqa: ANN001, ANN201
    market = make_market(session)
    h = make_household(
        session, market, owner_name="Nguyễn Thị Đào", citizen_id=CCCD, phone=PHONE, account_number=ACCOUNT
    )
    manager = make_user(session, "market_manager", markets=[market], username="bql")
    officer = make_user(session, "commune_officer", markets=[market], username="canbo")
    return market, h, manager, officer


@pytest.mark.parametrize("typed", [CCCD, CCCD[:6], "0221 8500", PHONE, "+84 912 345 678", ACCOUNT, ACCOUNT[:7]])
def test_searching_digits_finds_nothing_for_a_role_without_pii(client, session, world, typed):
    market, h, manager, officer = world
    login(client, manager)
    page = client.get(f"/markets/{market.id}", query_string={"q": typed}).get_data(as_text=True)
    assert "Nguyễn Thị Đào" not in page
    assert client.get("/households/search", query_string={"q": typed}).get_json() == []
    client.post("/logout")
    login(client, officer)  # the same search by a role that sees the numbers finds the household
    assert "Nguyễn Thị Đào" in client.get(f"/markets/{market.id}", query_string={"q": typed}).get_data(as_text=True)
    assert [x["id"] for x in client.get("/households/search", query_string={"q": typed}).get_json()] == [h.id]


def test_names_and_stall_codes_are_still_searchable_without_pii(client, session, world):
    market, h, manager, _ = world
    login(client, manager)
    assert "Nguyễn Thị Đào" in client.get(f"/markets/{market.id}?q=dao").get_data(as_text=True)
    assert "Nguyễn Thị Đào" in client.get(f"/markets/{market.id}?q=A-001").get_data(as_text=True)
    hits = client.get("/households/search?q=dao").get_json()
    assert [x["id"] for x in hits] == [h.id] and hits[0]["phone"] == "•••• 5678"


def test_pages_exports_and_the_api_mask_the_phone_like_the_other_numbers(client, session, world):
    market, h, manager, _ = world
    login(client, manager)
    for path in (
        f"/households/{h.id}",
        f"/households/{h.id}/history",
        f"/reports/markets/{market.id}/missing",
        f"/reports/markets/{market.id}/missing/export.csv",
        f"/markets/{market.id}",
    ):
        text = client.get(path).get_data(as_text=True)
        for number in (CCCD, PHONE, "0912 345 678", "+84912345678"):
            assert number not in text, (path, number)
    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "•••• 5678" in page and "•••• 1234" in page and "•••• 2418" in page
    # The one place the full account number shows is the household's own VietQR (image and payload text): the
    # placard hanging at the stall shows the same to anyone who scans it. Lists never carry it (below).
    token = api_tokens.create_api_token(session, manager.username, "thử", actor=SYSTEM)
    api = client.get("/api/v1/households", headers={"Authorization": f"Bearer {token}"}).get_json()
    item = api["items"][0]
    assert (item["phone"], item["citizen_id"], item["account"]["account_number"]) == (
        "•••• 5678",
        "•••• 1234",
        "•••• 2418",
    )


def test_api_lists_carry_no_payload_and_no_full_number(client, session, world):
    market, h, manager, _ = world
    payload = session.exec(select(IssuedQR.payload).where(IssuedQR.household_id == h.id)).one()
    token = api_tokens.create_api_token(session, manager.username, "thử", actor=SYSTEM)
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/households", f"/api/v1/markets/{market.code}/stalls"):
        body = client.get(path, headers=auth).get_data(as_text=True)
        assert payload not in body and ACCOUNT not in body, path


def test_verifying_another_markets_qr_names_neither_its_household_nor_its_placard_serial(client, session):
    here, there = make_market(session, name="Chợ Đây"), make_market(session, name="Chợ Kia", province_code="23")
    make_household(session, here)
    elsewhere = make_household(session, there, owner_name="Trần Văn Khác")
    single_placard_pdf(session, SYSTEM, elsewhere.id)
    serial = session.exec(select(Placard.serial).where(Placard.household_id == elsewhere.id)).one()
    payload = session.exec(select(IssuedQR.payload).where(IssuedQR.household_id == elsewhere.id)).one()
    login(client, make_user(session, "commune_officer", markets=[here]))
    resp = client.post(f"/markets/{here.id}/stalls/A-001/verify", data={"payload": payload})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "ngoài phạm vi của bạn" in page
    for secret in (serial, "Trần Văn Khác", "Chợ Kia", there.code):
        assert secret not in page, secret
    check = session.exec(select(AuditLog).where(AuditLog.action == "placard.check")).one()
    assert json.loads(check.detail)["serial"] is None
