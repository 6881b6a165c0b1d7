"""Sessions live on the server (issue 10): a copied cookie stops working when its session ends, whatever ends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import CHEAP_HASHING, PASSWORD, login, make_market, make_user
from flask.testing import FlaskClient
from sqlmodel import select

from app import create_app
from merchants import models
from merchants.models import UserSession
from merchants.scope import SYSTEM
from merchants.services import password_links, sessions, users

NEW = "Cho-Cai-Rong-2026"
REAL_UTCNOW = models.utcnow


def _cookie(client: FlaskClient) -> str:
    return client.get_cookie("session").value


def _replay(client: FlaskClient, cookie: str, path: str) -> int | str:
    """Send a request with an old session cookie put back, as an attacker who copied it would."""
    client.set_cookie("session", cookie)
    resp = client.get(path)
    return resp.headers["Location"] if resp.status_code == 302 else resp.status_code


@pytest.fixture
def market(session):  # noqa: ANN001, ANN201
    return make_market(session)


@pytest.fixture
def officer(session, market):  # noqa: ANN001, ANN201
    return make_user(session, markets=[market], username="canbo.thu")


def _page(market) -> str:  # noqa: ANN001
    return f"/markets/{market.id}"


def test_a_cookie_copied_before_sign_out_is_refused_after_it(client, session, market, officer):
    login(client, officer)
    copied = _cookie(client)
    assert client.get(_page(market)).status_code == 200
    client.post("/logout")
    assert _replay(client, copied, _page(market)).startswith("/login")
    row = session.exec(select(UserSession).where(UserSession.user_id == officer.id)).one()
    assert row.end_reason == sessions.SIGNED_OUT and row.ended_at is not None


def test_a_cookie_of_a_disabled_user_is_refused(app, client, session, market, officer):
    login(client, officer)
    copied = _cookie(client)
    users.disable_user(session, officer.username, actor=SYSTEM)
    assert _replay(client, copied, _page(market)).startswith("/login")
    users.enable_user(session, officer.username, actor=SYSTEM)  # enabling again revives no old session
    assert _replay(client, copied, _page(market)).startswith("/login")


def test_a_password_change_ends_every_other_session_and_the_old_cookie_of_this_one(app, market, officer):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, officer)
    login(elsewhere, officer)
    here_before, elsewhere_cookie = _cookie(here), _cookie(elsewhere)
    resp = here.post("/account/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW})
    assert resp.status_code == 302
    assert here.get(_page(market)).status_code == 200  # this browser continues, on a new session
    assert _replay(elsewhere, elsewhere_cookie, _page(market)).startswith("/login")
    assert _replay(app.test_client(), here_before, _page(market)).startswith("/login")


def test_a_password_set_through_a_link_ends_the_sessions_opened_before(app, session, market, officer):
    signed_in = app.test_client()
    login(signed_in, officer)
    copied = _cookie(signed_in)
    link = password_links.create_password_link(session, officer.username, actor=SYSTEM)
    resp = app.test_client().post(f"/set-password/{link.token}", data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 302
    assert _replay(signed_in, copied, _page(market)).startswith("/login")


def _move_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    """Sessions read the time through models.utcnow (the clock seam): set it ``by`` ahead of the real time."""
    monkeypatch.setattr(models, "utcnow", lambda: REAL_UTCNOW() + by)


def test_an_idle_session_ends_after_the_configured_time(client, session, market, officer, monkeypatch):
    login(client, officer)
    idle = sessions.Lifetime.from_config(client.application.config).idle
    _move_clock(monkeypatch, idle - timedelta(minutes=5))
    assert client.get(_page(market)).status_code == 200  # used in time: still signed in, and seen now
    _move_clock(monkeypatch, (idle - timedelta(minutes=5)) + idle + timedelta(minutes=1))
    assert client.get(_page(market)).headers["Location"].startswith("/login")
    row = session.exec(select(UserSession).where(UserSession.user_id == officer.id)).one()
    assert row.end_reason == sessions.IDLE


def test_a_session_in_daily_use_still_ends_at_its_absolute_lifetime(
    database_url, tmp_path, session, market, officer, monkeypatch
):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "BATCH_DIR": str(tmp_path / "b"),
            "SESSION_IDLE_MINUTES": 120,
            "SESSION_ABSOLUTE_HOURS": 10,
            **CHEAP_HASHING,
        }
    )
    client = app.test_client()
    login(client, officer)
    for hours in range(1, 10):  # every hour for nine hours: never idle
        _move_clock(monkeypatch, timedelta(hours=hours))
        assert client.get(_page(market)).status_code == 200, hours
    _move_clock(monkeypatch, timedelta(hours=10, minutes=1))
    assert client.get(_page(market)).headers["Location"].startswith("/login")
    row = session.exec(select(UserSession).where(UserSession.user_id == officer.id)).one()
    assert row.end_reason == sessions.EXPIRED
    app.extensions["choqr.engine"].dispose()


def test_last_seen_is_written_at_most_once_a_minute(client, session, market, officer, monkeypatch):
    login(client, officer)
    first = session.exec(select(UserSession)).one().last_seen_at
    _move_clock(monkeypatch, timedelta(seconds=30))
    client.get(_page(market))
    session.expire_all()
    assert session.exec(select(UserSession)).one().last_seen_at == first
    _move_clock(monkeypatch, timedelta(seconds=61))
    client.get(_page(market))
    session.expire_all()
    assert session.exec(select(UserSession)).one().last_seen_at > first


def test_the_session_row_records_where_from_but_never_the_token(client, session, officer):
    client.post(
        "/login",
        data={"username": officer.username, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "14.161.0.9"},
        headers={"User-Agent": "Tablet/1.0 " + "x" * 300},
    )
    token = _session_token(client)
    row = session.exec(select(UserSession)).one()
    assert (row.ip, row.user_agent[:10], len(row.user_agent)) == ("14.161.0.9", "Tablet/1.0", 120)
    assert token not in row.token_hash and row.token_hash == sessions.digest(token)


def _session_token(client: FlaskClient) -> str:
    with client.session_transaction() as sess:
        return sess["_user_id"]


def test_cookies_are_secure_httponly_and_samesite_when_configured(database_url, tmp_path, session, officer):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "BATCH_DIR": str(tmp_path / "b"),
            "SESSION_COOKIE_SECURE": True,
            **CHEAP_HASHING,
        }
    )
    assert app.config["REMEMBER_COOKIE_SECURE"] is True  # follows the session cookie unless set on its own
    client = app.test_client()
    resp = client.post(
        "/login", data={"username": officer.username, "password": PASSWORD}, base_url="https://choqr.example"
    )
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Path=/" in cookie and "Domain" not in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    home = client.get("/", base_url="https://choqr.example")  # the prefixed cookie is sent back and signs in
    assert home.status_code == 200 or not home.headers["Location"].startswith("/login")
    app.extensions["choqr.engine"].dispose()


def test_sign_out_tells_the_browser_to_drop_its_cache_and_storage(client, officer):
    login(client, officer)
    resp = client.post("/logout")
    assert resp.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_the_session_cookie_is_signed_with_hmac_sha256(client, officer):
    import hashlib

    from itsdangerous import BadSignature, URLSafeTimedSerializer

    login(client, officer)
    cookie, key = _cookie(client), client.application.secret_key

    def signer(digest):  # noqa: ANN001, ANN202 - Flask's own serializer settings, with the digest to try
        return URLSafeTimedSerializer(
            key, salt="cookie-session", signer_kwargs={"key_derivation": "hmac", "digest_method": digest}
        )

    assert signer(hashlib.sha256).loads(cookie)["_user_id"] == _session_token(client)
    with pytest.raises(BadSignature):
        signer(hashlib.sha1).loads(cookie)


def test_old_sessions_are_deleted_at_the_next_sign_in(client, session, officer, monkeypatch):
    login(client, officer)
    client.post("/logout")
    other = client.application.test_client()
    login(other, officer)  # never signed out: abandoned on a lost tablet
    _move_clock(monkeypatch, sessions.KEEP_ENDED + timedelta(days=8))
    login(client, officer)
    session.expire_all()
    assert len(session.exec(select(UserSession)).all()) == 1  # only the session just opened
