"""Every way a password is set leaves one audit line saying who set it, from where and how (never the password)."""

from __future__ import annotations

import json

import pytest
from factories import PASSWORD, login, make_market, make_user
from sqlmodel import select

from merchants.errors import InvalidField
from merchants.models import AuditLog
from merchants.scope import SYSTEM
from merchants.services import password_links, user_passwords

NEW = "Mot-Mat-Khau-Moi-9"
IP = "10.4.5.6"
PASSWORD_ACTIONS = ("user.password_set", "user.password_change")


def _password_lines(session, username):  # noqa: ANN001, ANN202
    session.expire_all()
    stmt = select(AuditLog).where(AuditLog.subject == f"user:{username}", AuditLog.action.in_(PASSWORD_ACTIONS))
    return list(session.exec(stmt))


def _at_the_command_line(app, session, user):  # noqa: ANN001, ANN202
    user_passwords.reset_password(session, user.username, NEW, actor=SYSTEM, source_ip=IP)
    return "user.password_set", None, {"via": "admin"}


def _through_a_link(app, session, user):  # noqa: ANN001, ANN202
    link = password_links.create_password_link(session, user.username)
    client = app.test_client()
    resp = client.post(
        f"/set-password/{link.token}", data={"password": NEW, "confirm": NEW}, environ_base={"REMOTE_ADDR": IP}
    )
    assert resp.status_code == 302
    link_id = json.loads(session.exec(select(AuditLog.detail).where(AuditLog.action == "user.password_link")).one())
    return "user.password_set", user.id, {"via": "link", "link_id": link_id["link_id"]}


def _by_its_user(app, session, user):  # noqa: ANN001, ANN202
    client = app.test_client()
    login(client, user)
    resp = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW, "confirm": NEW},
        environ_base={"REMOTE_ADDR": IP},
    )
    assert resp.status_code == 302
    return "user.password_change", user.id, {}


@pytest.mark.parametrize("path", [_at_the_command_line, _through_a_link, _by_its_user], ids=lambda f: f.__name__[1:])
def test_every_way_of_setting_a_password_writes_one_audit_line(app, session, path):
    user = make_user(session, markets=[make_market(session)])
    action, actor_id, detail = path(app, session, user)
    session.expire_all()
    assert user_passwords.authenticate(session, user.username, NEW) is not None
    (line,) = _password_lines(session, user.username)
    assert (line.action, line.user_id, line.source_ip, json.loads(line.detail)) == (action, actor_id, IP, detail)
    assert NEW not in line.detail and PASSWORD not in line.detail


def test_a_refused_password_writes_no_line(session):
    user = make_user(session, markets=[make_market(session)])
    with pytest.raises(InvalidField, match="phổ biến"):
        user_passwords.reset_password(session, user.username, "iloveyou", source_ip=IP)
    assert _password_lines(session, user.username) == []
