""" "Active" (a credit in the last 30 days, over households with a QR, floored) where coverage is listed outside
the reports: the JSON API's coverage by area and the markets list page, recomputed here from the credits stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import login, make_household, make_market, make_user
from payment_factories import account_of, make_source

from merchants.payments_parse import Credit
from merchants.services import api_tokens, payment_ingest

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def markets_receiving(session):
    """Chợ Nhà (province 22): three households with a QR, two of them paid lately and one 40 days ago, plus one
    without an account (no QR). Chợ Xa (province 79): one household with a QR, never paid."""
    home = make_market(session, code="NHA", name="Chợ Nhà", commune_code="XA-NHA", stalls=4)
    far = make_market(session, code="XA", name="Chợ Xa", province_code="79", commune_code="XA-XA", stalls=1)
    paid = {k: make_household(session, home, owner_name=f"Hộ {k}") for k in ("A", "B", "C")}
    make_household(session, home, owner_name="Hộ D", account=False)
    make_household(session, far, owner_name="Hộ Xa")
    source, _key = make_source(session, "statement", markets=["NHA", "XA"])
    days_ago = {"A": [1, 3], "B": [12], "C": [40]}
    credits = [
        Credit(f"T{k}{d}", account_of(session, paid[k]), 10_000, NOW - timedelta(days=d), f"R{k}{d}", "in")
        for k, days in days_ago.items()
        for d in days
    ]
    assert payment_ingest.store_credits(session, source, credits).stored == len(credits)
    # Recomputed from the credits: a household is active if one of its credits is within 30 days.
    active_home = len({k for k, days in days_ago.items() if min(days) < 30})
    return home, far, active_home


def _coverage(client, token: str, level: str) -> dict[str, dict]:  # noqa: ANN001
    resp = client.get(f"/api/v1/coverage/{level}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    return {item["code"]: item for item in resp.json["items"]}


def test_api_coverage_gives_active_households_per_area_floored_like_the_reports(client, session, markets_receiving):
    _home, _far, active_home = markets_receiving
    admin = make_user(session, "admin")
    token = api_tokens.create_api_token(session, admin.username, "test")
    markets = _coverage(client, token, "markets")
    assert active_home == 2
    assert markets["NHA"]["active"] == {"households": 2, "with_qr": 3, "percent": 66}
    assert markets["NHA"]["covered"] == markets["NHA"]["active"]["with_qr"]
    assert markets["XA"]["active"] == {"households": 0, "with_qr": 1, "percent": 0}
    provinces = _coverage(client, token, "provinces")
    assert provinces["22"]["active"] == {"households": 2, "with_qr": 3, "percent": 66}
    assert provinces["79"]["active"]["households"] == 0
    communes = client.get("/api/v1/coverage/communes?province=79", headers={"Authorization": f"Bearer {token}"})
    assert [(c["code"], c["active"]["households"]) for c in communes.json["items"]] == [("XA-XA", 0)]


def test_api_active_counts_only_the_markets_the_token_serves(client, session, markets_receiving):
    home, _far, _active = markets_receiving
    officer = make_user(session, "commune_officer", markets=[home])
    token = api_tokens.create_api_token(session, officer.username, "test")
    provinces = _coverage(client, token, "provinces")
    assert list(provinces) == ["22"] and provinces["22"]["active"]["households"] == 2
    assert list(_coverage(client, token, "markets")) == ["NHA"]


def test_markets_list_shows_each_markets_active_households(client, session, markets_receiving):
    login(client, make_user(session, "admin"))
    page = client.get("/").get_data(as_text=True)
    assert "Đang nhận thanh toán" in page
    assert "2/3 hộ đang dùng (66%)" in page
    assert "0/1 hộ đang dùng (0%)" in page
