"""The JSON API: bearer tokens, the same scope as the pages, masking without 'pii', and a complete OpenAPI file."""

import re

import pytest
from factories import make_household, make_market, make_user
from sqlmodel import select

from merchants.models import IssuedQR, Market, Stall
from merchants.services import api_tokens, users


@pytest.fixture
def world(session):  # noqa: ANN001, ANN201
    """Two communes of province 22 and one of 79; two households at home, one far away."""
    home = make_market(session, code="NHA", name="Chợ Nhà", commune_code="XA-NHA", stalls=3)
    near = make_market(session, code="GAN", name="Chợ Gần", commune_code="XA-GAN", stalls=1)
    far = make_market(session, code="XA", name="Chợ Xa", province_code="79", commune_code="XA-XA", stalls=2)
    make_household(
        session, home, owner_name="Nguyễn Thị Đào", citizen_id="022185001234", account_number="0011001932418"
    )
    make_household(session, home, owner_name="Trần Văn Hùng", citizen_id="022085004321", account=False)
    make_household(session, far, owner_name="Võ Văn Xa")
    return {"home": home, "near": near, "far": far}


def _token(session, role: str = "commune_officer", **scope) -> str:  # noqa: ANN001
    user = make_user(session, role, **scope)
    return api_tokens.create_api_token(session, user.username, "test")


def _get(client, url: str, token: str | None):  # noqa: ANN001, ANN202
    return client.get(url, headers={"Authorization": f"Bearer {token}"} if token else {})


def test_calls_without_a_usable_token_get_401_json(client, session, world):
    token = _token(session, communes=["XA-NHA"])
    missing = client.get("/api/v1/households")
    assert missing.status_code == 401 and missing.json["error"]["code"] == "missing_token"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/households", headers={"Authorization": token}).status_code == 401  # no scheme
    assert _get(client, "/api/v1/households", "choqr_not-a-token").json["error"]["code"] == "invalid_token"
    assert _get(client, "/api/v1/households", token).status_code == 200
    api_tokens.revoke_api_token(session, token)
    assert _get(client, "/api/v1/households", token).status_code == 401


def test_a_disabled_users_token_stops_working(client, session, world):
    user = make_user(session, communes=["XA-NHA"])
    token = api_tokens.create_api_token(session, user.username, "test")
    users.disable_user(session, user.username)
    assert _get(client, "/api/v1/coverage/markets", token).status_code == 401


def test_a_commune_officer_sees_only_their_commune_and_gets_404_elsewhere(client, session, world):
    token = _token(session, communes=["XA-NHA"])
    markets = _get(client, "/api/v1/coverage/markets", token).json["items"]
    assert [m["code"] for m in markets] == ["NHA"]
    for url in (
        "/api/v1/markets/XA/stalls",
        "/api/v1/markets/XA/stalls/A-001",
        "/api/v1/households?market=XA",
        "/api/v1/markets/KHONGCO/stalls",
    ):
        resp = _get(client, url, token)
        assert resp.status_code == 404, url
        assert resp.json["error"]["code"] == "not_found"
    # elsewhere and nowhere read alike, so a token cannot probe which market codes exist
    assert [
        _get(client, f"/api/v1/markets/{code}/stalls", token).json["error"]["message"] for code in ("XA", "KHONGCO")
    ] == ["Không tìm thấy chợ 'XA'.", "Không tìm thấy chợ 'KHONGCO'."]
    names = [h["owner_name"] for h in _get(client, "/api/v1/households", token).json["items"]]
    assert names == ["Nguyễn Thị Đào", "Trần Văn Hùng"]


def test_coverage_is_given_by_province_commune_and_market_with_the_funnel(client, session, world):
    token = _token(session, "admin")
    provinces = {p["code"]: p for p in _get(client, "/api/v1/coverage/provinces", token).json["items"]}
    assert provinces["22"] | {"name": ""} == {
        "code": "22",
        "name": "",
        "markets": 2,
        "covered": 1,
        "total": 2,
        "percent": 50,
        "funnel": {"registered": 2, "account_opened": 1, "qr_issued": 1, "placard_printed": 0, "placard_verified": 0},
        "active": {"households": 0, "with_qr": 1, "percent": 0},
    }
    communes = _get(client, "/api/v1/coverage/communes?province=22", token).json["items"]
    assert [(c["code"], c["province"], c["total"], c["percent"]) for c in communes] == [
        ("XA-GAN", "22", 0, None),
        ("XA-NHA", "22", 2, 50),
    ]
    market = _get(client, "/api/v1/coverage/markets?commune=XA-XA", token).json["items"]
    assert [
        (m["code"], m["name"], m["province"], m["commune"], m["covered"], m["total"], m["percent"]) for m in market
    ] == [("XA", "Chợ Xa", "79", "XA-XA", 1, 1, 100)]
    assert _get(client, "/api/v1/coverage/districts", token).status_code == 404


def test_cccd_and_account_are_masked_unless_the_role_holds_pii(client, session, world):
    masked = _get(
        client, "/api/v1/households?market=NHA", _token(session, "market_manager", markets=[world["home"]])
    ).json["items"][0]
    full = _get(client, "/api/v1/households?market=NHA", _token(session, communes=["XA-NHA"])).json["items"][0]
    assert (masked["citizen_id"], masked["account"]["account_number"]) == ("•••• 1234", "•••• 2418")
    assert (full["citizen_id"], full["account"]["account_number"]) == ("022185001234", "0011001932418")
    assert full | {"id": 0, "qr_issued_on": ""} == {
        "id": 0,
        "market": "NHA",
        "owner_name": "Nguyễn Thị Đào",
        "phone": full["phone"],
        "citizen_id": "022185001234",
        "goods": "Rau củ",
        "status": "qr_issued",
        "active": True,
        "needs_reprint": False,
        "qr_issued_on": "",
        "stalls": ["A-001"],
        "account": {
            "bin": "970436",
            "bank": "Vietcombank",
            "account_number": "0011001932418",
            "holder_name": "NGUYEN THI DAO",
        },
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", full["qr_issued_on"])
    stalls = _get(
        client, "/api/v1/markets/NHA/stalls", _token(session, "market_manager", markets=[world["home"]])
    ).json["items"]
    assert [(s["code"], s["owner_name"], s["account_number"]) for s in stalls] == [
        ("A-001", "Nguyễn Thị Đào", "•••• 2418"),
        ("A-002", "Trần Văn Hùng", None),
        ("A-003", None, None),
    ]


def test_a_stalls_payload_is_its_households_issued_qr(client, session, world):
    token = _token(session, "print_staff", markets=[world["home"]])
    body = _get(client, "/api/v1/markets/NHA/stalls/A-001", token).json
    stall = session.exec(select(Stall).where(Stall.code == "A-001", Stall.market_id == world["home"].id)).one()
    assert (
        body["payload"]
        == session.exec(select(IssuedQR.payload).where(IssuedQR.household_id == stall.household_id)).one()
    )
    assert (body["owner_name"], body["status"], body["account"]["account_number"]) == (
        "Nguyễn Thị Đào",
        "qr_issued",
        "•••• 2418",
    )
    empty = _get(client, "/api/v1/markets/NHA/stalls/A-003", token).json
    assert (empty["household_id"], empty["payload"], empty["account"]) == (None, None, None)
    assert _get(client, "/api/v1/markets/NHA/stalls/Z-999", token).status_code == 404


def test_households_come_in_pages_with_a_link_to_the_next(client, session, world):
    token = _token(session, "admin")
    first = _get(client, "/api/v1/households?per_page=2", token).json
    assert (first["total"], first["page"], len(first["items"])) == (3, 1, 2)
    second = _get(client, first["next"], token).json
    assert ([h["owner_name"] for h in second["items"]], second["next"]) == (["Võ Văn Xa"], None)
    bad = _get(client, "/api/v1/households?per_page=500", token)
    assert bad.status_code == 400 and "per_page" in bad.json["error"]["message"]
    assert _get(client, "/api/v1/households?status=paid", token).status_code == 400


def _rule_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.removeprefix("/api/v1"))


def test_every_api_route_is_in_the_openapi_file_and_nothing_else_is(app, client):
    doc = client.get("/api/v1/openapi.json")
    assert doc.status_code == 200  # public: no token needed to read the description
    spec = doc.json
    assert spec["openapi"].startswith("3.1") and spec["servers"] == [{"url": "/api/v1"}]
    routes = {
        (_rule_path(r.rule), m.lower())
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith(("api.", "payment_webhooks."))  # the webhooks live on a blueprint of their own
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert routes == documented
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert "200" in op["responses"]
            assert path == "/openapi.json" or "401" in op["responses"]
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == set(re.findall(r"{(\w+)}", path))


def test_the_api_and_the_reports_give_each_commune_the_same_figures(client, session, world):
    from datetime import date

    from merchants.scope import viewer_for
    from merchants.services import reports

    user = make_user(session, "market_manager", provinces=["22"])
    token = api_tokens.create_api_token(session, user.username, "test")
    api = {
        c["code"]: (c["covered"], c["total"]) for c in _get(client, "/api/v1/coverage/communes", token).json["items"]
    }
    province_id = session.get(Market, world["home"].id).commune_id
    report = reports.area_report(
        session, viewer_for(session, user), "province", _province_of(session, province_id), today=date.today()
    )
    assert {r.code: (r.coverage.covered, r.coverage.total) for r in report.rows} == api
    assert api == {"XA-NHA": (1, 2), "XA-GAN": (0, 0)}


def _province_of(session, commune_id: int) -> int:  # noqa: ANN001
    from merchants.models import Commune

    return session.get(Commune, commune_id).province_id
