"""A bearer-token call has no session: its answers follow the token's user's language, else Accept-Language."""

from __future__ import annotations

import pytest
from factories import make_market, make_user

from merchants.services import api_tokens, users

MISSING_EN = "Missing access token: send 'Authorization: Bearer <token>'."
MISSING_VI = "Thiếu mã truy cập: hãy gửi 'Authorization: Bearer <token>'."


def _token_of(session, locale: str) -> str:  # noqa: ANN001
    user = make_user(session, markets=[make_market(session, code="NHA")])
    users.set_locale(session, user, locale)
    return api_tokens.create_api_token(session, user.username, "test")


def _error(resp, status: int) -> dict:  # noqa: ANN001
    """The one JSON error shape (``views.helpers.api_error``), checked whole."""
    assert resp.status_code == status
    assert resp.json.keys() == {"error"} and resp.json["error"].keys() == {"code", "message", "fields"}
    return resp.json["error"]


@pytest.mark.parametrize(
    ("locale", "message"),
    [("en", "Market 'KHONGCO' was not found."), ("vi", "Không tìm thấy chợ 'KHONGCO'.")],
)
def test_a_token_users_errors_are_in_their_language_whatever_the_client_accepts(client, session, locale, message):
    token = _token_of(session, locale)
    other = "vi" if locale == "en" else "en"
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": other}
    error = _error(client.get("/api/v1/markets/KHONGCO/stalls", headers=headers), 404)
    assert (error["code"], error["message"]) == ("not_found", message)


def test_a_token_users_field_errors_are_in_their_language(client, session):
    token = _token_of(session, "en")
    resp = client.get("/api/v1/households?per_page=0", headers={"Authorization": f"Bearer {token}"})
    assert _error(resp, 400)["message"].startswith("Parameter 'per_page' must be a whole number"), resp.json


@pytest.mark.parametrize(
    ("accept", "message"),
    [
        ("en", MISSING_EN),
        ("en-GB,en;q=0.9", MISSING_EN),
        ("fr, en;q=0.5", MISSING_EN),
        ("vi", MISSING_VI),
        ("vi-VN,vi;q=0.9,en;q=0.8", MISSING_VI),
        ("fr", MISSING_VI),
        (None, MISSING_VI),
    ],
)
def test_without_a_token_the_answer_follows_accept_language_else_vietnamese(client, accept, message):
    resp = client.get("/api/v1/households", headers={"Accept-Language": accept} if accept else {})
    error = _error(resp, 401)
    assert (error["code"], error["message"]) == ("missing_token", message)


def test_a_token_that_is_no_good_is_refused_in_the_language_the_client_accepts(client):
    headers = {"Authorization": "Bearer choqr_not-a-token", "Accept-Language": "en"}
    error = _error(client.get("/api/v1/households", headers=headers), 401)
    assert error["message"] == "The access token is not valid, has been revoked, or its user is disabled."


def test_pages_stay_vietnamese_whatever_the_browser_accepts(client):
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page
