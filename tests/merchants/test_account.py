"""A user's own account: the one password rule, and changing one's password (other sessions end, this one stays)."""

from __future__ import annotations

import re

import pytest
from factories import PASSWORD, login, make_market, make_user
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlmodel import select

from merchants import passwords
from merchants.errors import InvalidField
from merchants.models import AuditLog, User
from merchants.views.helpers import translated

NEW = "Cho-Cai-Rong-2026"


@pytest.fixture
def officer(session):  # noqa: ANN001, ANN201
    return make_user(session, markets=[make_market(session)], username="canbo.thu")


def _signed_in(client: FlaskClient) -> bool:
    resp = client.get("/")
    return resp.status_code == 200 or not resp.headers["Location"].startswith("/login")


def _error_under(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">(.*?)</div>', page, re.S)
    assert match, f"no error under {field}: " + page[:3000]
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# --- the rule ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("1234567", "too_short"),
        ("matkhau", "too_short"),  # on the common list too, but 7 characters are refused first
        ("", "too_short"),
        ("a" * 129, "too_long"),
        *[
            (p, "common")
            for p in (
                "password",
                "password123",
                "12345678",
                "123456789",
                "qwertyui",
                "qwerty123",
                "11111111",
                "00000000",
                "iloveyou",
                "matkhau123",
                "123456aA",
                "abc12345",
            )
        ],
        ("PassWord123", "common"),
        ("MatKhau123", "common"),
        ("Canbo.Thu", "username"),
    ],
)
def test_the_password_rule_refuses_short_long_common_and_username_passwords(password, code):
    with pytest.raises(passwords.PasswordRefused) as refused:
        passwords.check_password(password, username="canbo.thu")
    assert refused.value.reason == code and refused.value.field == "password"
    assert isinstance(refused.value, InvalidField)


@pytest.mark.parametrize("password", ["Ab3$Ab3$", "b" * 128, "Cho-Ben-Thanh-1", "mat-khau-123", "choqr-demo"])
def test_the_password_rule_accepts_8_to_128_uncommon_characters(password):
    passwords.check_password(password, username="canbo.thu")


def test_the_common_list_is_lowercase_one_per_line_without_repeats():
    lines = passwords.COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 3000 and len(set(lines)) == len(lines)
    assert all(line == line.lower() == line.strip() and line for line in lines)


def test_every_refusal_is_said_in_the_users_language_from_its_own_template(app):
    refusals = []
    for bad, username in (("x", ""), ("x" * 200, ""), ("password", ""), ("canbo.thu", "canbo.thu")):
        with pytest.raises(passwords.PasswordRefused) as refused:
            passwords.check_password(bad, username=username)
        refusals.append(refused.value)
    with pytest.raises(passwords.PasswordRefused) as refused:
        passwords.check_new_password(NEW, NEW, username="canbo.thu")
    refusals.append(refused.value)
    assert [r.reason for r in refusals] == ["too_short", "too_long", "common", "username", "same"]
    assert refusals[0].message == "Mật khẩu phải có ít nhất 8 ký tự."
    with app.test_request_context(), force_locale("en"):
        assert [translated(r) for r in refusals] == [
            "The password must have at least 8 characters.",
            "The password may have at most 128 characters.",
            "This password is too common and easy to guess. Choose another one.",
            "The password must not be the same as the username.",
            "The new password must differ from the current one.",
        ]


def test_the_forms_read_the_limit_from_the_service(client, session, officer, monkeypatch):
    monkeypatch.setattr(passwords, "MAX_PASSWORD", 20)
    login(client, officer)
    page = client.get("/account/password").get_data(as_text=True)
    assert 'maxlength="20"' in page and "đến 20 ký tự" in page
    resp = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": "x" * 21 + "Aa1", "confirm": "x" * 21 + "Aa1"},
    )
    assert resp.status_code == 422 and "tối đa 20 ký tự" in _error_under(resp.get_data(as_text=True), "password")


# --- changing one's own password ----------------------------------------------------------------------------------


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app, session, officer):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, officer)
    login(elsewhere, officer)
    resp = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW, "confirm": NEW},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert resp.status_code == 302
    assert _signed_in(here) and not _signed_in(elsewhere)
    assert here.post("/logout").status_code == 302
    assert here.post("/login", data={"username": officer.username, "password": PASSWORD}).status_code == 401
    login(here, officer, NEW)
    entry = session.exec(select(AuditLog).where(AuditLog.action == "user.password_change")).one()
    assert (entry.subject, entry.user_id, entry.source_ip) == ("user:canbo.thu", officer.id, "10.9.8.7")
    assert NEW not in entry.detail and PASSWORD not in entry.detail


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"current_password": "sai-mat-khau", "password": NEW, "confirm": NEW}, "current_password", "không đúng"),
        ({"current_password": PASSWORD, "password": "iloveyou", "confirm": "iloveyou"}, "password", "quá phổ biến"),
        ({"current_password": PASSWORD, "password": "ngan", "confirm": "ngan"}, "password", "ít nhất 8"),
        ({"current_password": PASSWORD, "password": "canbo.thu", "confirm": "canbo.thu"}, "password", "trùng"),
        (
            {"current_password": PASSWORD, "password": PASSWORD, "confirm": PASSWORD},
            "password",
            "khác mật khẩu hiện tại",
        ),
        ({"current_password": PASSWORD, "password": NEW, "confirm": NEW + "!"}, "confirm", "không giống nhau"),
    ],
)
def test_a_refused_change_says_why_under_the_field_and_changes_nothing(client, session, officer, form, field, message):
    login(client, officer)
    before = officer.password_hash
    resp = client.post("/account/password", data=form)
    assert resp.status_code == 422
    assert message in _error_under(resp.get_data(as_text=True), field)
    session.expire_all()
    assert session.get(User, officer.id).password_hash == before
    assert _signed_in(client)


def test_the_password_page_needs_a_sign_in(client):
    resp = client.get("/account/password")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
