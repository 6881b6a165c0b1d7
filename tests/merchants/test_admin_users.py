"""The Users pages and `choqr users`: who manages whom, set-password links instead of typed passwords, edits that
never overwrite a newer save, disabling, API tokens, and an audit row for every action."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from factories import CHEAP_HASHING, PASSWORD, login, make_market, make_user
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from app import create_app
from merchants import models, passwords
from merchants.errors import EditConflict, Forbidden, NotFound
from merchants.identity import search_key
from merchants.models import ApiToken, AuditLog, Commune, PasswordLink, Province, User, UserScope, utcnow
from merchants.scope import SYSTEM, viewer_for
from merchants.services import api_tokens, password_links, sessions, user_passwords, user_scope, users
from qr import decode_image

LINK = re.compile(r"/set-password/([A-Za-z0-9_-]{20,})")
QR_IMG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
NEW_PASSWORD = "Cho-Van-Don-2026"


@dataclass
class World:
    admin: User  # programme-wide
    qn_admin: User  # administrator of province 22 (Quảng Ninh)
    qn_officer: User  # commune officer of 06994
    hn_officer: User  # commune officer of 00004, in province 01 (Hà Nội)


def _area(session: Session, province: tuple[str, str], commune: tuple[str, str]) -> None:
    """Official-looking units with their search text, so the commune search finds them without diacritics."""
    p = session.exec(select(Province).where(Province.code == province[0])).first()
    if p is None:
        p = Province(code=province[0], name=province[1], search_text=search_key(province[1], province[0]))
        session.add(p)
        session.flush()
    session.add(Commune(code=commune[0], name=commune[1], province_id=p.id, search_text=search_key(*commune[::-1])))
    session.commit()


@pytest.fixture
def world(session: Session) -> World:
    _area(session, ("22", "Quảng Ninh"), ("06994", "Đặc khu Vân Đồn"))
    _area(session, ("22", "Quảng Ninh"), ("06985", "Phường Hồng Gai"))
    _area(session, ("01", "Hà Nội"), ("00004", "Phường Ba Đình"))
    make_market(session, code="CAIRONG", commune_code="06994", province_code="22")
    make_market(session, code="HONGGAI", commune_code="06985", province_code="22")
    make_market(session, code="DONGXUAN", commune_code="00004", province_code="01")
    return World(
        admin=make_user(session, "admin", username="admin"),
        qn_admin=make_user(session, "admin", provinces=["22"], username="qt.quangninh"),
        qn_officer=make_user(session, communes=["06994"], username="canbo.vandon"),
        hn_officer=make_user(session, communes=["00004"], username="canbo.badinh"),
    )


def _new_user_form(**overrides: str) -> dict[str, str]:
    return {
        "username": "Dao.Nguyen",
        "full_name": "Nguyễn Thị Đào",
        "role": "commune_officer",
        "communes": "06994",
        "markets": "",
        **overrides,
    }


def _token_from(page: str) -> str:
    match = LINK.search(page)
    assert match, page[:2000]
    return match.group(1)


def _user(session: Session, username: str) -> User | None:
    session.expire_all()
    return session.exec(select(User).where(User.username == username)).first()


def _actions(session: Session, subject: str) -> list[str]:
    """The administration rows about a user (their own sign-ins and sign-outs, also audited, left out)."""
    rows = session.exec(
        select(AuditLog).where(AuditLog.subject == subject, AuditLog.action.not_like("auth.%")).order_by(AuditLog.id)
    )
    return [a.action for a in rows]


def _signed_in(client: FlaskClient) -> bool:
    resp = client.get("/")
    return resp.status_code == 200 or not resp.headers["Location"].startswith("/login")


def _error_under(page: str, field: str) -> str:
    """The text of the error block tied to a field (the macro gives it the id '<field>-error')."""
    match = re.search(rf'id="{field}-error">(.*?)</div>', page, re.S)
    assert match, f"no error under {field}: " + page[:3000]
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# --- creating a user hands out a link, never a typed password ---------------------------------------------------


def test_a_new_user_gets_a_link_and_qr_then_chooses_a_password_and_signs_in(client, session, world):
    login(client, world.admin)
    resp = client.post("/admin/users/new", data=_new_user_form(), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 201, page[:2000]
    assert resp.headers["Cache-Control"] == "no-store"
    token = _token_from(page)
    url = LINK.search(page).group(0)
    assert decode_image(base64.b64decode(QR_IMG.search(page).group(1))) == [f"http://localhost{url}"]
    user = _user(session, "dao.nguyen")
    assert (user.full_name, user.role, users.has_password(user)) == ("Nguyễn Thị Đào", "commune_officer", False)
    stored = session.exec(select(PasswordLink).where(PasswordLink.user_id == user.id)).one()
    assert stored.token_hash == sessions.digest(token) and token not in stored.token_hash
    client.post("/logout")

    assert client.get(f"/set-password/{token}").status_code == 200
    resp = client.post(f"/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert _signed_in(client)
    client.post("/logout")
    login(client, user, NEW_PASSWORD)

    other = "Mot-Mat-Khau-Khac"
    again = client.post(f"/set-password/{token}", data={"password": other, "confirm": other})
    assert again.status_code == 410
    assert "đã được dùng" in again.get_data(as_text=True)
    session.expire_all()
    assert user_passwords.authenticate(session, "dao.nguyen", NEW_PASSWORD) is not None
    assert _actions(session, "user:dao.nguyen") == ["user.create", "user.password_link", "user.password_set"]
    create = session.exec(select(AuditLog).where(AuditLog.action == "user.create")).one()
    assert create.source_ip == "10.1.2.3" and create.user_id == world.admin.id
    assert json.loads(create.detail)["changes"]["communes"] == [None, ["06994"]]
    assert all(token not in a.detail for a in session.exec(select(AuditLog)))


def test_a_user_created_without_a_password_can_never_sign_in(session, world):
    new = users.NewUser("moi", "Người Mới", "commune_officer", user_scope.AreaGrant.of(communes=["06994"]))
    users.invite_user(session, viewer_for(session, world.admin), new)
    user = _user(session, "moi")
    assert user.password_hash.startswith(passwords.UNUSABLE_PREFIX)
    for guess in ("", "choqr-no-such-user", user.password_hash, user.password_hash[1:]):
        assert user_passwords.authenticate(session, "moi", guess) is None


def test_an_expired_link_is_refused_with_410_and_nothing_changes(client, session, world, monkeypatch):
    link = password_links.create_password_link(session, world.qn_officer.username, hours=2)
    before = _user(session, world.qn_officer.username).password_hash
    later = utcnow() + timedelta(hours=2, seconds=1)
    monkeypatch.setattr(models, "utcnow", lambda: later)
    page = client.get(f"/set-password/{link.token}")
    assert page.status_code == 410 and "hết hạn" in page.get_data(as_text=True)
    resp = client.post(f"/set-password/{link.token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 410
    assert _user(session, world.qn_officer.username).password_hash == before
    assert session.exec(select(PasswordLink)).one().used_at is None


def test_an_unknown_link_is_404_and_a_newer_link_retires_the_older_one(client, session, world):
    assert client.get("/set-password/not-a-real-token").status_code == 404
    assert "không đúng" in client.get("/set-password/" + "x" * 400).get_data(as_text=True)
    first = password_links.create_password_link(session, world.qn_officer.username)
    second = password_links.create_password_link(session, world.qn_officer.username)
    assert client.get(f"/set-password/{first.token}").status_code == 410
    assert client.get(f"/set-password/{second.token}").status_code == 200


def test_the_link_lasts_as_long_as_the_setting_says(app, client, session, world):
    app.config["PASSWORD_LINK_HOURS"] = 5
    login(client, world.admin)
    resp = client.post(f"/admin/users/{world.qn_officer.id}/link")
    assert resp.status_code == 200 and LINK.search(resp.get_data(as_text=True))
    row = session.exec(select(PasswordLink)).one()
    assert timedelta(hours=4, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=5)


def test_a_disabled_users_link_does_not_work(client, session, world):
    link = password_links.create_password_link(session, world.qn_officer.username)
    users.disable_user(session, world.qn_officer.username)
    resp = client.post(f"/set-password/{link.token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 410 and "bị khóa" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("ngan123", "ít nhất 8 ký tự"),
        ("x" * 129, "tối đa 128 ký tự"),
        ("Password123", "quá phổ biến"),
        ("MATKHAU123", "quá phổ biến"),
        ("123456aA", "quá phổ biến"),
        ("canbo.vandon", "trùng với tên đăng nhập"),
    ],
)
def test_a_weak_password_is_refused_under_its_field_and_the_link_stays_usable(
    client, session, world, password, message
):
    link = password_links.create_password_link(session, world.qn_officer.username)
    resp = client.post(f"/set-password/{link.token}", data={"password": password, "confirm": password})
    assert resp.status_code == 422
    assert message in _error_under(resp.get_data(as_text=True), "password")
    assert session.exec(select(PasswordLink)).one().used_at is None


def test_two_different_passwords_are_refused_under_the_second(client, session, world):
    link = password_links.create_password_link(session, world.qn_officer.username)
    resp = client.post(f"/set-password/{link.token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert resp.status_code == 422
    assert "không giống nhau" in _error_under(resp.get_data(as_text=True), "confirm")


# --- a province's administrator manages only its province ---------------------------------------------------------


def test_a_province_admin_lists_only_users_wholly_inside_its_province(client, session, world):
    mixed = make_user(session, communes=["06994"], username="hai.tinh")
    session.add(
        UserScope(user_id=mixed.id, commune_id=session.exec(select(Commune.id).where(Commune.code == "00004")).one())
    )
    session.commit()
    login(client, world.qn_admin)
    page = client.get("/admin/users/").get_data(as_text=True)
    assert "canbo.vandon" in page and "qt.quangninh" in page
    for hidden in ("canbo.badinh", ">admin<", "hai.tinh"):
        assert hidden not in page
    assert "06994" in page and "Đặc khu Vân Đồn" in page
    assert client.get(f"/admin/users/{world.hn_officer.id}").status_code == 404
    assert client.get(f"/admin/users/{world.admin.id}/edit").status_code == 404
    assert client.get(f"/admin/users/{mixed.id}").status_code == 404
    assert client.post(f"/admin/users/{world.hn_officer.id}/disable").status_code == 404
    assert client.post(f"/admin/users/{world.admin.id}/link").status_code == 404
    assert _user(session, "canbo.badinh").active and session.exec(select(PasswordLink)).all() == []


def test_the_search_finds_users_without_diacritics(client, session, world):
    login(client, world.admin)
    page = client.get("/admin/users/", query_string={"q": "can bo xa"}).get_data(as_text=True)
    assert "canbo.vandon" in page and "canbo.badinh" in page and "qt.quangninh" not in page
    page = client.get("/admin/users/", query_string={"q": "van don"}).get_data(as_text=True)
    assert "canbo.vandon" in page and "canbo.badinh" not in page


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"communes": "00004"}, "communes", "nằm ngoài"),
        ({"communes": "", "markets": "DONGXUAN"}, "markets", "nằm ngoài"),
        ({"communes": "", "provinces": "01"}, "provinces", "nằm ngoài"),
        ({"role": "admin", "communes": ""}, "role", "Chỉ quản trị toàn chương trình"),
    ],
)
def test_a_province_admin_cannot_grant_outside_its_province_nor_make_a_programme_admin(
    client, session, world, form, field, message
):
    login(client, world.qn_admin)
    resp = client.post("/admin/users/new", data=_new_user_form(**form))
    assert resp.status_code == 403
    assert message in _error_under(resp.get_data(as_text=True), field)
    assert _user(session, "dao.nguyen") is None
    assert session.exec(select(PasswordLink)).all() == []


def test_the_service_refuses_the_same_grants_whatever_the_page_sends(session, world):
    qn = viewer_for(session, world.qn_admin)
    with pytest.raises(Forbidden):
        users.create_user(session, username="x1", full_name="X", role="admin", actor=qn)
    with pytest.raises(Forbidden):
        users.invite_user(
            session, qn, users.NewUser("x2", "X", "bank_officer", user_scope.AreaGrant.of(markets=["DONGXUAN"]))
        )
    with pytest.raises(NotFound):
        users.update_user(
            session,
            qn,
            "canbo.badinh",
            full_name="X",
            role="commune_officer",
            scope=user_scope.AreaGrant.of(communes=["06994"]),
            expected_version=1,
        )
    with pytest.raises(Forbidden):
        users.update_user(
            session,
            qn,
            "canbo.vandon",
            full_name="X",
            role="commune_officer",
            scope=user_scope.AreaGrant.of(communes=["00004"]),
            expected_version=1,
        )
    with pytest.raises(NotFound):
        api_tokens.create_api_token(session, "admin", "lấy quyền", actor=qn)
    assert session.exec(select(User.username).where(User.username.in_(["x1", "x2"]))).all() == []
    assert session.exec(select(ApiToken)).all() == []


def test_a_province_admin_creates_officers_and_co_admins_inside_its_province(client, session, world):
    login(client, world.qn_admin)
    assert client.post("/admin/users/new", data=_new_user_form(communes="06994, 06985")).status_code == 201
    resp = client.post(
        "/admin/users/new", data=_new_user_form(username="qt2", role="admin", communes="", provinces="22")
    )
    assert resp.status_code == 201
    assert users.get_user(session, SYSTEM, _user(session, "dao.nguyen").id).scope.communes == ("06985", "06994")
    assert users.get_user(session, SYSTEM, _user(session, "qt2").id).scope.provinces == ("22",)


@pytest.mark.parametrize(
    ("form", "field", "message", "status"),
    [
        ({"username": "Đào"}, "username", "chữ không dấu", 422),
        ({"username": "canbo.vandon"}, "username", "đã có", 422),
        ({"communes": "99999"}, "communes", "99999", 422),
        ({"communes": ""}, "scope", "ít nhất một tỉnh", 422),
    ],
)
def test_a_bad_new_user_is_refused_under_the_field_and_nothing_is_stored(
    client, session, world, form, field, message, status
):
    login(client, world.admin)
    before = len(session.exec(select(User)).all())
    resp = client.post("/admin/users/new", data=_new_user_form(**form))
    assert resp.status_code == status
    assert message in _error_under(resp.get_data(as_text=True), field)
    session.expire_all()
    assert len(session.exec(select(User)).all()) == before


def test_communes_are_found_by_a_name_typed_without_diacritics_and_ticked(client, session, world):
    login(client, world.qn_admin)
    resp = client.post(
        "/admin/users/new", data=_new_user_form(communes="06985", commune_query="van don", find_communes="1")
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="06994"' in page and "Đặc khu Vân Đồn" in page
    assert "Phường Ba Đình" not in client.post(
        "/admin/users/new", data=_new_user_form(commune_query="ba dinh", find_communes="1")
    ).get_data(as_text=True)  # outside the admin's province
    assert _user(session, "dao.nguyen") is None  # searching saves nothing
    resp = client.post("/admin/users/new", data={**_new_user_form(communes="06985"), "picked_communes": "06994"})
    assert resp.status_code == 201
    assert users.get_user(session, SYSTEM, _user(session, "dao.nguyen").id).scope.communes == ("06985", "06994")


# --- editing -----------------------------------------------------------------------------------------------------


def test_editing_role_and_scope_saves_and_audits_old_and_new_codes(client, session, world):
    login(client, world.admin)
    page = client.get(f"/admin/users/{world.qn_officer.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page and 'value="06994"' in page
    resp = client.post(
        f"/admin/users/{world.qn_officer.id}/edit",
        data={
            "full_name": "Phạm Thu Trang",
            "role": "bank_officer",
            "provinces": "22",
            "communes": "",
            "markets": "CAIRONG",
            "version": "1",
        },
    )
    assert resp.status_code == 302
    session.expire_all()
    row = users.get_user(session, SYSTEM, world.qn_officer.id)
    assert (row.role, row.full_name, row.version) == ("bank_officer", "Phạm Thu Trang", 2)
    assert row.scope == user_scope.AreaGrant(("22",), (), ("CAIRONG",))
    entry = session.exec(select(AuditLog).where(AuditLog.action == "user.update")).one()
    assert json.loads(entry.detail)["changes"] == {
        "communes": [["06994"], []],
        "full_name": ["Cán Bộ Thử", "Phạm Thu Trang"],
        "markets": [[], ["CAIRONG"]],
        "provinces": [[], ["22"]],
        "role": ["commune_officer", "bank_officer"],
    }
    assert entry.subject == "user:canbo.vandon"


def test_a_stale_edit_is_a_visible_409_conflict_and_never_overwrites(client, session, world):
    login(client, world.admin)
    client.get(f"/admin/users/{world.qn_officer.id}/edit")
    users.update_user(
        session,
        SYSTEM,
        "canbo.vandon",
        full_name="Người Khác Sửa",
        role="print_staff",
        scope=user_scope.AreaGrant.of(markets=["CAIRONG"]),
        expected_version=1,
    )
    resp = client.post(
        f"/admin/users/{world.qn_officer.id}/edit",
        data={"full_name": "Tôi Sửa", "role": "bank_officer", "communes": "06985", "version": "1"},
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "Giá trị hiện tại" in page and "Người Khác Sửa" in page and "CAIRONG" in page
    assert 'value="Tôi Sửa"' in page and 'name="version" type="hidden" value="2"' in page
    row = users.get_user(session, SYSTEM, world.qn_officer.id)
    assert (row.full_name, row.role, row.scope.markets) == ("Người Khác Sửa", "print_staff", ("CAIRONG",))
    with pytest.raises(EditConflict):
        users.update_user(
            session,
            SYSTEM,
            "canbo.vandon",
            full_name="X",
            role="print_staff",
            scope=user_scope.AreaGrant.of(markets=["CAIRONG"]),
            expected_version=1,
        )


def test_an_admin_cannot_change_their_own_role_or_disable_themselves(client, session, world):
    login(client, world.qn_admin)
    resp = client.post(
        f"/admin/users/{world.qn_admin.id}/edit",
        data={"full_name": "QT", "role": "commune_officer", "communes": "06994", "version": "1"},
    )
    assert resp.status_code == 422 and "tự đổi vai trò" in _error_under(resp.get_data(as_text=True), "role")
    resp = client.post(f"/admin/users/{world.qn_admin.id}/disable", follow_redirects=True)
    assert "tự khóa" in resp.get_data(as_text=True)
    assert _user(session, "qt.quangninh").active and _user(session, "qt.quangninh").role == "admin"


# --- disabling ----------------------------------------------------------------------------------------------------


def test_disabling_ends_the_users_sessions_and_enabling_lets_them_back(app, session, world):
    admin, officer = app.test_client(), app.test_client()
    login(admin, world.admin)
    login(officer, world.qn_officer)
    resp = admin.post(f"/admin/users/{world.qn_officer.id}/disable")
    assert resp.status_code == 302
    assert not _signed_in(officer)
    assert officer.post("/login", data={"username": "canbo.vandon", "password": PASSWORD}).status_code == 401
    assert "Đã khóa" in admin.get(f"/admin/users/{world.qn_officer.id}").get_data(as_text=True)
    admin.post(f"/admin/users/{world.qn_officer.id}/enable")
    login(officer, world.qn_officer)
    assert _actions(session, "user:canbo.vandon") == ["user.disable", "user.enable"]


def test_the_users_pages_are_for_administrators_only(client, session, world):
    login(client, world.qn_officer)
    for url in ("/admin/users/", "/admin/users/new", f"/admin/users/{world.qn_officer.id}", "/admin/users/import"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/users/{world.hn_officer.id}/disable").status_code == 403
    assert _user(session, "canbo.badinh").active


# --- API tokens ---------------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_listed_on_the_users_page_and_revoked(client, session, world):
    login(client, world.admin)
    resp = client.post(f"/admin/users/{world.qn_officer.id}/tokens", data={"label": "đồng bộ ngân hàng", "days": "30"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(choqr_[^"]+)"', page).group(1)
    row = session.exec(select(ApiToken)).one()
    assert row.token_hash == sessions.digest(token) and row.created_by_id == world.admin.id
    assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30)
    api = client.application.test_client()
    assert api.get("/api/v1/markets/CAIRONG/stalls", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    show = client.get(f"/admin/users/{world.qn_officer.id}").get_data(as_text=True)
    assert "đồng bộ ngân hàng" in show and ">admin<" in show and token not in show and "<td>chưa dùng</td>" not in show
    resp = client.post(f"/admin/users/{world.qn_officer.id}/tokens/{row.id}/revoke")
    assert resp.status_code == 302
    assert api.get("/api/v1/markets/CAIRONG/stalls", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "Đã thu hồi" in client.get(f"/admin/users/{world.qn_officer.id}").get_data(as_text=True)
    entries = session.exec(select(AuditLog).where(AuditLog.action.in_(["token.create", "token.revoke"]))).all()
    assert [e.action for e in entries] == ["token.create", "token.revoke"]
    assert all(json.loads(e.detail)["token_id"] == row.id and token not in e.detail for e in entries)


def test_a_bad_token_form_is_refused_under_its_field(client, session, world):
    login(client, world.admin)
    resp = client.post(f"/admin/users/{world.qn_officer.id}/tokens", data={"label": "x", "days": "0"})
    assert resp.status_code == 422 and "từ 1 đến 3650" in _error_under(resp.get_data(as_text=True), "days")
    resp = client.post(f"/admin/users/{world.qn_officer.id}/tokens", data={"label": ""})
    assert resp.status_code == 422 and _error_under(resp.get_data(as_text=True), "label")
    assert session.exec(select(ApiToken)).all() == []


def test_an_expired_token_is_refused_and_use_is_noted_at_most_once_a_minute(session, world):
    token = api_tokens.create_api_token(session, "canbo.vandon", "thử", days=1)
    start = utcnow()
    assert api_tokens.user_for_token(session, token, now=start).username == "canbo.vandon"
    first = session.exec(select(ApiToken.last_used_at)).one()
    api_tokens.user_for_token(session, token, now=start + timedelta(seconds=30))
    assert session.exec(select(ApiToken.last_used_at)).one() == first
    api_tokens.user_for_token(session, token, now=start + timedelta(seconds=61))
    assert session.exec(select(ApiToken.last_used_at)).one() > first
    assert api_tokens.user_for_token(session, token, now=start + timedelta(days=1, seconds=1)) is None


def test_a_user_cannot_see_another_users_token_by_its_id(client, session, world):
    api_tokens.create_api_token(session, "canbo.badinh", "hà nội")
    other = session.exec(select(ApiToken)).one()
    login(client, world.admin)
    assert client.post(f"/admin/users/{world.qn_officer.id}/tokens/{other.id}/revoke").status_code == 404
    session.expire_all()
    assert session.get(ApiToken, other.id).revoked_at is None


# --- the command line ---------------------------------------------------------------------------------------------


def _cli(app: Flask, *args: str):  # noqa: ANN202
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def test_cli_adds_a_user_with_a_link_under_the_base_url(app, client, session, world):
    result = _cli(
        app,
        "users",
        "add",
        "thu.ngan",
        "--name",
        "Lê Thu Ngân",
        "--role",
        "bank_officer",
        "--province",
        "22",
        "--market",
        "CAIRONG",
        "--link",
        "--base-url",
        "https://choqr.example.vn",
    )
    assert result.exit_code == 0, result.output
    url = re.search(r"https://choqr\.example\.vn/set-password/\S+", result.output).group(0)
    token = url.rsplit("/", 1)[1]
    assert client.get(f"/set-password/{token}").status_code == 200
    assert users.get_user(session, SYSTEM, _user(session, "thu.ngan").id).scope == user_scope.AreaGrant(
        ("22",), (), ("CAIRONG",)
    )
    assert _actions(session, "user:thu.ngan") == ["user.create", "user.password_link"]


def test_cli_link_urls_default_to_the_base_url_setting(app, world):
    app.config["BASE_URL"] = "https://cho40.quangninh.gov.vn"
    result = _cli(app, "users", "reset-password", "canbo.vandon", "--link")
    assert result.exit_code == 0, result.output
    assert "https://cho40.quangninh.gov.vn/set-password/" in result.output
    del app.config["BASE_URL"]
    assert (
        "http://127.0.0.1:5000/set-password/" in _cli(app, "users", "reset-password", "canbo.vandon", "--link").output
    )


def test_cli_disable_enable_and_the_password_rule(app, session, world):
    assert _cli(app, "users", "disable", "canbo.vandon").exit_code == 0
    assert not _user(session, "canbo.vandon").active
    assert _cli(app, "users", "enable", "canbo.vandon").exit_code == 0
    assert _user(session, "canbo.vandon").active
    for weak, message in (("password123", "quá phổ biến"), ("canbo.vandon", "trùng"), ("y" * 129, "tối đa 128")):
        result = _cli(app, "users", "reset-password", "canbo.vandon", "--password", weak)
        assert result.exit_code == 2 and message in result.output
    assert user_passwords.authenticate(session, "canbo.vandon", PASSWORD) is not None


def test_cli_tokens_are_created_listed_and_revoked(app, session, world):
    result = _cli(app, "users", "token", "canbo.vandon", "--label", "máy chủ", "--days", "7")
    assert result.exit_code == 0 and result.output.startswith("choqr_")
    token = result.output.strip()
    row = session.exec(select(ApiToken)).one()
    listing = _cli(app, "users", "tokens", "canbo.vandon").output
    assert f"{row.id}\tmáy chủ" in listing and "đang dùng được" in listing and token not in listing
    assert _cli(app, "users", "revoke-token", "canbo.vandon", "--id", str(row.id)).exit_code == 0
    assert "thu hồi" in _cli(app, "users", "tokens", "canbo.vandon").output
    assert api_tokens.user_for_token(session, token) is None
    missing = _cli(app, "users", "revoke-token", "canbo.vandon", "--id", "999")
    assert missing.exit_code == 2 and "999" in missing.output


# --- every form carries a CSRF token -------------------------------------------------------------------------------


def test_the_users_forms_refuse_a_post_without_csrf_token(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": False,
            "BATCH_DIR": str(tmp_path),
            **CHEAP_HASHING,
        }
    )
    try:
        from merchants import db

        with db.session_scope(app.extensions["choqr.engine"]) as s:
            admin = make_user(s, "admin", username="admin")
            officer = make_user(s, markets=[make_market(s)])
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"username": admin.username, "password": PASSWORD, "csrf_token": csrf})
        for url in (
            "/admin/users/new",
            f"/admin/users/{officer.id}/disable",
            f"/admin/users/{officer.id}/link",
            f"/admin/users/{officer.id}/tokens",
            "/admin/users/import",
            "/account/password",
        ):
            assert client.post(url, data={"username": "x"}).status_code == 400, url
        for url in (
            "/admin/users/new",
            f"/admin/users/{officer.id}",
            f"/admin/users/{officer.id}/edit",
            "/admin/users/import",
            "/account/password",
        ):
            page = client.get(url).get_data(as_text=True)
            assert page.count('method="post"') == page.count('name="csrf_token"') > 2, url
    finally:
        app.extensions["choqr.engine"].dispose()
