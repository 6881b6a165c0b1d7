"""SePay and Casso webhooks: keys and signatures, retries, unknown and out-of-scope accounts, bad bodies."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_household, make_market
from payment_factories import account_of, casso_body, make_source, post_casso, post_sepay, sepay_body
from sqlmodel import func, select

from merchants.payment_models import HouseholdPayment, PaymentEvent, PaymentSource
from merchants.services import payment_sources


@pytest.fixture
def paying(session):
    """A market with one household (and its account) and a SePay and a Casso source for that market."""
    market = make_market(session, code="CAIRONG", commune_code="06994")
    household = make_household(session, market)
    sepay, sepay_key = make_source(session, "sepay", markets=["CAIRONG"], name="SePay Cái Rồng")
    casso, casso_key = make_source(session, "casso", communes=["06994"], name="Casso Vân Đồn")
    return market, household, account_of(session, household), (sepay, sepay_key), (casso, casso_key)


def _events(session) -> list[PaymentEvent]:
    session.expire_all()
    return list(session.exec(select(PaymentEvent).order_by(PaymentEvent.id)))


def _source(session, source_id: int) -> PaymentSource:
    session.expire_all()
    return session.get(PaymentSource, source_id)


def test_sepay_credit_is_stored_with_only_what_reports_need(client, session, paying):
    _market, household, account, (sepay, key), _ = paying
    body = sepay_body(account, amount=2_277_000, transactionDate="2026-11-30 10:15:02")
    resp = post_sepay(client, key, body)
    assert resp.status_code == 200 and resp.get_json() == {"success": True, "result": "stored", "stored": 1}
    (event,) = _events(session)
    assert (event.household_id, event.amount, event.provider_id, event.reference) == (
        household.id,
        2_277_000,
        str(body["id"]),
        body["referenceCode"],
    )
    assert event.occurred_at.replace(tzinfo=UTC) == datetime(2026, 11, 30, 3, 15, 2, tzinfo=UTC)  # 10:15 in Vietnam
    columns = set(PaymentEvent.__table__.columns.keys())
    assert not columns & {"content", "description", "payer", "counter_account", "gateway"}
    assert _source(session, sepay.id).stored_total == 1


def test_a_retry_is_answered_200_and_changes_nothing(client, session, paying):
    _m, _h, account, (sepay, key), _ = paying
    body = sepay_body(account)
    assert post_sepay(client, key, body).status_code == 200
    again = post_sepay(client, key, body)
    assert again.status_code == 200 and again.get_json()["result"] == "duplicate"
    assert len(_events(session)) == 1
    assert _source(session, sepay.id).stored_total == 1


@pytest.mark.parametrize(
    "header",
    ["", "Apikey ", "Apikey choqr_sepay_wrong", "Bearer {key}", "Apikey {key}x"],
)
def test_sepay_without_the_right_key_is_refused(client, session, paying, header):
    _m, _h, account, (_sepay, key), _ = paying
    resp = client.post(
        "/api/v1/payments/sepay",
        data=json.dumps(sepay_body(account)),
        headers={"Authorization": header.format(key=key)} if header else {},
        content_type="application/json",
    )
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_key"
    assert _events(session) == []


def test_a_rotated_or_revoked_key_stops_working(client, session, paying):
    _m, _h, account, (sepay, key), _ = paying
    new_key = payment_sources.rotate_source(session, sepay.name)
    assert post_sepay(client, key, sepay_body(account)).status_code == 401
    assert post_sepay(client, new_key, sepay_body(account)).status_code == 200
    payment_sources.revoke_source(session, sepay.name)
    assert post_sepay(client, new_key, sepay_body(account)).status_code == 401
    assert len(_events(session)) == 1


def test_money_out_and_unknown_accounts_are_dropped_and_counted(client, session, paying):
    _m, _h, account, (sepay, key), _ = paying
    out = post_sepay(client, key, sepay_body(account, transferType="out"))
    assert out.status_code == 200 and out.get_json()["result"] == "ignored_out"
    unknown = post_sepay(client, key, sepay_body("9999000011112222"))
    assert unknown.status_code == 200 and unknown.get_json()["result"] == "unknown_account"
    assert _events(session) == []
    s = _source(session, sepay.id)
    assert (s.unknown_today, s.unknown_total, s.stored_total, s.last_event_at is not None) == (1, 1, 0, True)


def test_a_source_cannot_credit_a_household_outside_its_areas(client, session, paying):
    _m, _h, _account, (sepay, key), _ = paying
    elsewhere = make_market(session, code="BENDOAN", commune_code="06985")
    other = make_household(session, elsewhere)
    resp = post_sepay(client, key, sepay_body(account_of(session, other)))
    assert resp.status_code == 200 and resp.get_json()["result"] == "out_of_scope"
    assert _events(session) == []
    s = _source(session, sepay.id)
    assert (s.rejected_today, s.rejected_total) == (1, 1)
    assert payment_sources.list_sources(session, payment_sources.SYSTEM)[1].rejected_today == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"transferAmount": "năm mươi nghìn"}, "invalid_amount"),
        ({"transferAmount": 12.5}, "invalid_amount"),
        ({"transferAmount": True}, "invalid_amount"),
        ({"transferAmount": None}, "missing_field"),
        ({"transferType": "sideways"}, "invalid_direction"),
        ({"transactionDate": "hôm qua"}, "invalid_time"),
        ({"id": ""}, "invalid_id"),
    ],
)
def test_a_body_that_is_not_a_credit_is_refused_naming_the_field(client, session, paying, change, code):
    _m, _h, account, (sepay, key), _ = paying
    resp = post_sepay(client, key, sepay_body(account, **change))
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == code and list(change)[0] in error["message"]
    assert _events(session) == [] and _source(session, sepay.id).rejected_today == 1


def test_not_json_and_too_large_bodies_are_refused(client, session, paying):
    _m, _h, account, (sepay, key), _ = paying
    assert post_sepay(client, key, b"{not json").get_json()["error"]["code"] == "invalid_json"
    huge = sepay_body(account, content="x" * 40_000)
    resp = post_sepay(client, key, huge)
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "body_too_large"
    assert _events(session) == [] and _source(session, sepay.id).rejected_today == 2


def test_refusals_are_worded_in_the_language_the_sender_asks_for(client, session, paying):
    """A provider's integrator reading the answer in English gets English; the field and value stay named."""
    _m, _h, account, (_sepay, key), _ = paying
    body = json.dumps(sepay_body(account, transferAmount="năm mươi nghìn"))
    headers = {"Authorization": f"Apikey {key}", "Accept-Language": "en"}
    en = client.post("/api/v1/payments/sepay", data=body, headers=headers, content_type="application/json")
    assert en.get_json()["error"]["message"] == (
        "The field 'transferAmount' must be a whole amount in dong, got 'năm mươi nghìn'."
    )
    vi = post_sepay(client, key, json.loads(body)).get_json()["error"]["message"]
    assert vi == "Trường 'transferAmount' phải là số tiền nguyên (đồng), nhận 'năm mươi nghìn'."
    wrong = client.post("/api/v1/payments/sepay", data=body, headers={**headers, "Authorization": "Apikey x"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["message"].startswith("The API key is not valid")


def test_casso_signed_credit_is_stored(client, session, paying):
    _m, household, account, _, (casso, key) = paying
    body = casso_body(account, amount=599_000)
    resp = post_casso(client, key, body)
    assert resp.status_code == 200 and resp.get_json()["result"] == "stored"
    (event,) = _events(session)
    assert (event.source_id, event.amount, event.reference) == (casso.id, 599_000, body["data"]["reference"])
    assert post_casso(client, key, body).get_json()["result"] == "duplicate"  # a retry, newly signed
    assert len(_events(session)) == 1
    summary = session.get(HouseholdPayment, household.id)
    assert summary is not None and summary.first_at == summary.last_at


def test_casso_signature_in_seconds_is_accepted_too(client, session, paying):
    _m, _h, account, _, (_casso, key) = paying
    assert post_casso(client, key, casso_body(account), t=int(time.time())).status_code == 200


def test_casso_negative_amount_is_money_out(client, session, paying):
    _m, _h, account, _, (_casso, key) = paying
    assert post_casso(client, key, casso_body(account, amount=-20_000)).get_json()["result"] == "ignored_out"


def test_casso_bad_signatures_are_refused(client, session, paying):
    _m, _h, account, _, (casso, key) = paying
    body = casso_body(account)
    wrong = post_casso(client, "not-the-key", body)
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_signature"
    tampered = dict(body, data={**body["data"], "amount": 9_999_999})
    stamp = str(int(time.time() * 1000))
    from merchants.payments_parse import casso_signature

    sig = casso_signature(key, stamp, body["data"])
    resp = client.post(
        "/api/v1/payments/casso",
        data=json.dumps(tampered),
        headers={"X-Casso-Signature": f"t={stamp},v1={sig}"},
        content_type="application/json",
    )
    assert resp.status_code == 401
    missing = client.post("/api/v1/payments/casso", data=json.dumps(body), content_type="application/json")
    assert missing.status_code == 401
    assert _events(session) == []


def test_casso_stale_timestamp_is_refused_and_counted(client, session, paying):
    _m, _h, account, _, (casso, key) = paying
    old = int((datetime.now(UTC) - timedelta(minutes=6)).timestamp() * 1000)
    resp = post_casso(client, key, casso_body(account), t=old)
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "stale_signature"
    future = int((datetime.now(UTC) + timedelta(minutes=6)).timestamp() * 1000)
    assert post_casso(client, key, casso_body(account), t=future).status_code == 401
    assert _events(session) == [] and _source(session, casso.id).rejected_today == 2


def test_casso_non_numeric_amount_is_refused(client, session, paying):
    _m, _h, account, _, (_casso, key) = paying
    resp = post_casso(client, key, casso_body(account, amount="75k"))
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_amount"
    assert "data.amount" in resp.get_json()["error"]["message"]


def test_events_are_unique_per_source_not_across_sources(client, session, paying):
    _m, _h, account, (_sepay, sepay_key), (_casso, casso_key) = paying
    post_sepay(client, sepay_key, sepay_body(account, id=777))
    post_casso(client, casso_key, casso_body(account, id=777))
    assert session.exec(select(func.count()).select_from(PaymentEvent)).one() == 2
