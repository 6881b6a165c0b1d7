"""Sign-in throttling lives in the database (issue 10: 'throttling per worker'): every worker and every address
counts the same failures; a shared carrier-NAT address does not lock a whole market out."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from factories import CHEAP_HASHING, PASSWORD, make_market, make_user
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from app import create_app
from merchants.models import LoginAttempt

NAT = "113.185.0.1"  # one carrier-NAT address for a whole market's tablets
BLOCKED = "Đăng nhập sai quá nhiều lần"


def _app(database_url: str, tmp_path, **config) -> Flask:  # noqa: ANN001
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "BATCH_DIR": str(tmp_path / "b"),
            **CHEAP_HASHING,
            **config,
        }
    )


@pytest.fixture
def workers(database_url: str, tmp_path) -> Iterator[tuple[Flask, Flask]]:  # noqa: ANN001
    """Two app instances on one database: what two gunicorn workers (or two servers) are."""
    apps = (_app(database_url, tmp_path), _app(database_url, tmp_path))
    yield apps
    for a in apps:
        a.extensions["choqr.engine"].dispose()


def _try(client: FlaskClient, username: str, password: str, ip: str = NAT) -> int:
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip}
    ).status_code


def test_failures_on_different_workers_add_up(workers, session):
    user = make_user(session, markets=[make_market(session)])
    one, two = (w.test_client() for w in workers)
    statuses = [_try(one if n % 2 else two, user.username, f"sai-{n}") for n in range(5)]
    assert statuses == [401] * 5
    for client in (one, two):  # the right password now gets the same refusal on either worker
        resp = client.post(
            "/login", data={"username": user.username, "password": PASSWORD}, environ_base={"REMOTE_ADDR": NAT}
        )
        assert resp.status_code == 429 and BLOCKED in resp.get_data(as_text=True)


def test_guessing_one_account_from_many_addresses_is_stopped_too(client, session):
    user = make_user(session, markets=[make_market(session)])
    assert {_try(client, user.username, "sai", ip=f"10.0.{n}.1") for n in range(20)} == {401}
    assert _try(client, user.username, PASSWORD, ip="10.9.9.9") == 429


def test_one_locked_account_does_not_lock_the_others_behind_the_same_address(client, session):
    market = make_market(session)
    guessed, colleague = make_user(session, markets=[market]), make_user(session, markets=[market])
    for _ in range(5):
        _try(client, guessed.username, "sai")
    assert _try(client, guessed.username, PASSWORD) == 429
    assert _try(client, colleague.username, PASSWORD) == 302


def test_one_address_trying_account_after_account_is_stopped_by_a_generous_limit(database_url, tmp_path, session):
    app = _app(database_url, tmp_path, LOGIN_MAX_FAILURES_IP=8)
    client = app.test_client()
    user = make_user(session, markets=[make_market(session)])
    assert {_try(client, f"khong-co-{n}", "sai") for n in range(8)} == {401}
    assert _try(client, user.username, PASSWORD) == 429
    assert _try(client, user.username, PASSWORD, ip="14.161.0.9") == 302  # another address is not affected
    app.extensions["choqr.engine"].dispose()


def test_the_refusal_says_nothing_about_whether_the_account_exists(client, session):
    user = make_user(session, markets=[make_market(session)])
    pages = {}
    for name in (user.username, "khong-ai-co-ten-nay"):
        for _ in range(5):
            assert _try(client, name, "sai") == 401
        resp = client.post("/login", data={"username": name, "password": "sai"}, environ_base={"REMOTE_ADDR": NAT})
        assert resp.status_code == 429
        page = re.sub(r'name="csrf_token"[^>]*>', "", resp.get_data(as_text=True))
        pages[name] = page.replace(name, "NAME")
    assert pages[user.username] == pages["khong-ai-co-ten-nay"]


def test_a_throttled_attempt_is_not_checked_and_not_counted(client, session, monkeypatch):
    from merchants.services import user_passwords

    user = make_user(session, markets=[make_market(session)])
    for _ in range(5):
        _try(client, user.username, "sai")
    monkeypatch.setattr(user_passwords, "authenticate", lambda *a, **k: pytest.fail("password checked while throttled"))
    assert _try(client, user.username, PASSWORD) == 429
    assert len(session.exec(select(LoginAttempt)).all()) == 5


def test_guessing_the_current_password_on_an_open_session_is_throttled_too(client, session):
    from factories import login

    user = make_user(session, markets=[make_market(session)])
    login(client, user)
    form = {"password": "Cho-Cai-Rong-2026", "confirm": "Cho-Cai-Rong-2026"}
    for n in range(5):
        resp = client.post("/account/password", data={"current_password": f"sai-{n}", **form})
        assert resp.status_code == 422
    resp = client.post("/account/password", data={"current_password": PASSWORD, **form})
    assert resp.status_code == 429 and BLOCKED in resp.get_data(as_text=True)
