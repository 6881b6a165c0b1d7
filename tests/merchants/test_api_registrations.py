"""POST /api/v1/registrations: one household per client-made id, the form's rules, one error shape."""

from __future__ import annotations

import re
import threading
import uuid

import pytest
from factories import login, make_household, make_market, make_user
from sqlmodel import func, select

from merchants.models import AuditLog, Household, IssuedQR, RegistrationRequest, Stall
from merchants.services import api_tokens
from qr import parse_payload


@pytest.fixture
def market(session):  # noqa: ANN001, ANN201
    return make_market(session, code="CAIRONG", name="Chợ Cái Răng", commune_code="XA-CR", stalls=6)


@pytest.fixture
def token(session, market):  # noqa: ANN001, ANN201
    officer = make_user(session, "bank_officer", markets=[market], username="canbo.api")
    return api_tokens.create_api_token(session, officer.username, "tablet")


def body(**overrides: object) -> dict:
    b = {
        "client_id": str(uuid.uuid4()),
        "market": "CAIRONG",
        "stalls": ["A-002"],
        "owner_name": "Trần Thị Bé",
        "phone": "0912 345 678",
        "citizen_id": "022185001234",
        "goods": "Trái cây",
        "bank_bin": "970436",
        "account_number": "0011001932418",
        "captured_at": "2026-12-01T08:30:00+07:00",
    }
    b.update(overrides)
    return b


def post(client, token: str, data: object):  # noqa: ANN001, ANN202
    return client.post("/api/v1/registrations", json=data, headers={"Authorization": f"Bearer {token}"})


def households(session) -> int:  # noqa: ANN001
    session.expire_all()
    return session.exec(select(func.count()).select_from(Household)).one()


def test_the_first_time_registers_with_a_decoded_back_qr_and_a_replay_gets_the_same_answer(client, session, token):
    data = body()
    first = post(client, token, data)
    assert first.status_code == 201, first.json
    answer = first.json
    assert answer["status"] == "qr_issued" and answer["url"] == f"/households/{answer['household_id']}"
    parsed = parse_payload(answer["payload"])
    assert (parsed.bin, parsed.account) == ("970436", "0011001932418")
    h = session.get(Household, answer["household_id"])
    assert (h.owner_name, h.phone, h.citizen_id) == ("Trần Thị Bé", "+84912345678", "022185001234")
    assert session.exec(select(Stall.code).where(Stall.household_id == h.id)).all() == ["A-002"]
    stored = session.exec(select(IssuedQR.payload).where(IssuedQR.household_id == h.id)).one()
    assert stored == answer["payload"]
    audit = session.exec(select(AuditLog.action, AuditLog.detail).where(AuditLog.household_id == h.id)).all()
    assert [a for a, _ in audit] == ["household.create", "account.open", "qr.issue"]
    assert '"source": "api"' in audit[0][1]
    for _ in range(3):
        again = post(client, token, data)
        assert again.status_code == 200 and again.json == answer
    assert households(session) == 1


def test_concurrent_retries_of_one_client_id_make_one_household(app, session, token):
    data, answers = body(), []

    def send() -> None:
        resp = post(app.test_client(), token, data)
        answers.append((resp.status_code, resp.json))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in answers)
    assert codes == [200] * 7 + [201], answers
    assert len({a["household_id"] for _, a in answers}) == 1
    assert households(session) == 1
    assert session.exec(select(func.count()).select_from(RegistrationRequest)).one() == 1


def test_a_known_client_id_with_other_content_changes_nothing_and_returns_the_stored_record(client, session, token):
    data = body()
    first = post(client, token, data).json
    changed = post(client, token, {**data, "owner_name": "Người Khác", "stalls": ["A-003"]})
    assert changed.status_code == 409
    assert changed.json["error"]["code"] == "client_id_conflict"
    assert changed.json["household_id"] == first["household_id"] and changed.json["payload"] == first["payload"]
    assert households(session) == 1
    assert session.get(Household, first["household_id"]).owner_name == "Trần Thị Bé"
    assert session.exec(select(Stall.household_id).where(Stall.code == "A-003")).one() is None


def test_bad_fields_are_each_named_and_nothing_is_stored(client, session, token):
    resp = post(
        client,
        token,
        body(owner_name=" ", phone="12345", citizen_id="0221850012", bank_bin="123456", stalls=["Z-999"]),
    )
    assert resp.status_code == 422
    error = resp.json["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"owner_name", "phone", "citizen_id", "bank_bin", "stalls"}
    assert "Z-999" in error["fields"]["stalls"]
    assert households(session) == 0


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"account_number": "0099887766"}, "citizen_id", "CCCD"),
        ({"citizen_id": "022085004321"}, "account_number", "Tài khoản"),
        ({"citizen_id": "022085004321", "account_number": "0099887766", "stalls": ["A-001"]}, "stalls", "A-001"),
    ],
)
def test_a_cccd_account_or_stall_already_taken_is_refused_under_its_field(
    client, session, market, token, change, field, words
):
    make_household(session, market, citizen_id="022185001234", account_number="0011001932418")  # takes A-001
    resp = post(client, token, body(**change))
    assert resp.status_code == 422, resp.json
    assert list(resp.json["error"]["fields"]) == [field]
    assert words in resp.json["error"]["fields"][field]
    assert households(session) == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([1, 2], "body"),
        ({**body(), "client_id": "not-a-uuid"}, "client_id"),
        ({**body(), "stalls": "A-002"}, "stalls"),
        ({**body(), "owner_name": 42}, "owner_name"),
        ({**body(), "captured_at": "01/12/2026 08:30"}, "captured_at"),
        ({**body(), "captured_at": "2026-12-01T08:30:00"}, "captured_at"),
        ({**body(), "market": "XA-LA"}, "market"),
    ],
)
def test_a_malformed_body_is_refused_by_field(client, session, token, data, field):
    resp = post(client, token, data)
    assert resp.status_code == 422 and field in resp.json["error"]["fields"], resp.json
    assert households(session) == 0


def test_a_market_outside_the_callers_areas_is_refused_like_one_that_does_not_exist(client, session, token):
    make_market(session, code="XA", province_code="79", commune_code="XA-XA")
    elsewhere = post(client, token, body(market="XA")).json["error"]["fields"]["market"]
    nowhere = post(client, token, body(market="KHONGCO")).json["error"]["fields"]["market"]
    assert elsewhere.replace("XA", "?") == nowhere.replace("KHONGCO", "?")
    assert households(session) == 0


def test_a_role_that_does_not_register_gets_403(client, session, market):
    printer = make_user(session, "print_staff", markets=[market])
    resp = post(client, api_tokens.create_api_token(session, printer.username, "x"), body())
    assert resp.status_code == 403 and resp.json["error"]["code"] == "forbidden"


def test_a_body_that_is_not_json_gets_400(client, token):
    resp = client.post("/api/v1/registrations", data="owner=x", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "bad_request"


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_a_signed_in_page_registers_with_its_session_and_csrf_header(app, client, session, market):
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/api/v1/registrations", json=body()).json["error"]["code"] == "not_signed_in"
    officer = make_user(session, "commune_officer", markets=[market])
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={"username": officer.username, "password": "mat-khau-123", "csrf_token": CSRF_INPUT.search(page)[1]},
    )
    token = CSRF_INPUT.search(client.get("/", follow_redirects=True).get_data(as_text=True))[1]
    without = client.post("/api/v1/registrations", json=body())
    assert without.status_code == 400 and without.json["error"]["code"] == "csrf"
    made = client.post("/api/v1/registrations", json=body(), headers={"X-CSRFToken": token})
    assert made.status_code == 201, made.json
    assert households(session) == 1


def test_messages_follow_the_users_language(client, session, market):
    officer = make_user(session, "commune_officer", markets=[market])
    officer.locale = "en"
    session.add(officer)
    session.commit()
    login(client, officer)
    resp = client.post("/api/v1/registrations", json=body(phone="123"))
    assert resp.status_code == 422
    assert resp.json["error"]["fields"]["phone"].startswith("The phone number '123'"), resp.json
