"""Signing in and out: argon2 hashes, a fresh session on sign-in, sessions that end when they must."""

import re
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from factories import CHEAP_HASHING, PASSWORD, login, make_market, make_user
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from app import cli, create_app
from merchants import db, passwords
from merchants.models import PlacardCheck, PrintBatch, User, UserScope, UserSession
from merchants.services import sessions, user_passwords, users


def _cli(app: Flask, *args: str):  # noqa: ANN202
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def _is_signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code != 302 or not client.get("/").headers["Location"].startswith("/login")


def test_passwords_are_stored_as_argon2id_hashes_at_the_rfc_9106_cost_unless_configured(database_url, tmp_path):
    """An installation that sets nothing hashes at argon2-cffi's RFC 9106 low-memory profile (t=3, 64 MiB, p=4)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url, "BATCH_DIR": str(tmp_path)})
    try:
        with db.session_scope(app.extensions["choqr.engine"]) as s:
            user = make_user(s, markets=[make_market(s)])
            assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
            assert PASSWORD not in user.password_hash
            assert user_passwords.authenticate(s, user.username, PASSWORD).id == user.id
            assert user_passwords.authenticate(s, user.username, PASSWORD + "x") is None
    finally:
        app.extensions["choqr.engine"].dispose()


def test_the_choqr_commands_hash_at_the_cost_set_in_the_environment(database_url, session):
    env = {
        "DATABASE_URL": database_url,
        "CHOQR_SECRET_KEY": "t",
        "CHOQR_PASSWORD_HASH_TIME_COST": "2",
        "CHOQR_PASSWORD_HASH_MEMORY_KIB": "16",
        "CHOQR_PASSWORD_HASH_PARALLELISM": "1",
    }
    args = ["users", "add", "quantri.tinh", "--name", "Quản Trị", "--role", "admin", "--password", PASSWORD]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "$m=16,t=2,p=1$" in session.exec(select(User.password_hash).where(User.username == "quantri.tinh")).one()


def test_a_hash_with_old_parameters_is_upgraded_at_the_next_sign_in(app, session, tmp_path):
    user = make_user(session, markets=[make_market(session)])
    old_hash = user.password_hash
    assert "$m=8,t=1,p=1$" in old_hash  # the tests' cheap setting
    stronger = create_app({**app.config, "PASSWORD_HASH_TIME_COST": 2, "PASSWORD_HASH_MEMORY_KIB": 16})
    try:
        with db.session_scope(stronger.extensions["choqr.engine"]) as s:
            assert user_passwords.authenticate(s, user.username, PASSWORD) is not None
            upgraded = s.exec(select(User.password_hash).where(User.id == user.id)).one()
            assert upgraded != old_hash and "$m=16,t=2,p=1$" in upgraded
            assert user_passwords.authenticate(s, user.username, PASSWORD) is not None
            assert s.exec(select(User.password_hash).where(User.id == user.id)).one() == upgraded  # once only
    finally:
        stronger.extensions["choqr.engine"].dispose()


def test_an_unknown_name_or_an_account_without_password_costs_as_long_as_a_wrong_password(session):
    """Sign-in timing must not tell which accounts exist: without a usable hash a dummy one is verified instead."""
    user = make_user(session, markets=[make_market(session)])
    invited = users.create_user(session, username="moi.moi", full_name="Mới", role="admin")  # no password yet
    passwords.configure(time_cost=2, memory_cost=16 * 1024, parallelism=1)  # ~50 ms a verify: timing stands out
    try:
        user.password_hash = passwords.hash_password(PASSWORD)
        session.add(user)
        session.commit()

        def cost(username: str) -> float:
            start = time.perf_counter()
            assert user_passwords.authenticate(session, username, "sai-mat-khau") is None
            return time.perf_counter() - start

        wrong = min(cost(user.username) for _ in range(3))
        assert min(cost("khong-co-ai") for _ in range(3)) > wrong / 3
        assert min(cost(invited.username) for _ in range(3)) > wrong / 3
    finally:
        passwords.configure(time_cost=1, memory_cost=8, parallelism=1)


def test_a_mistyped_hash_cost_stops_the_app_at_start(database_url, tmp_path):
    config = {"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url, **CHEAP_HASHING}
    with pytest.raises(ValueError, match="memory_cost=4"):
        create_app({**config, "PASSWORD_HASH_MEMORY_KIB": 4})


def test_wrong_password_and_unknown_user_get_the_same_answer(client, session):
    user = make_user(session, markets=[make_market(session)])
    wrong = client.post("/login", data={"username": user.username, "password": "sai-mat-khau"})
    unknown = client.post("/login", data={"username": "khong-co", "password": "sai-mat-khau"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in wrong.get_data(as_text=True)
    assert "Sai tên đăng nhập hoặc mật khẩu." in unknown.get_data(as_text=True)
    assert not _is_signed_in(client)


def test_sign_in_starts_a_fresh_session_so_nothing_from_before_survives(client, session):
    user = make_user(session, markets=[make_market(session)])
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
        sess["_user_id"] = "999:1"
    before = client.get_cookie("session").value
    login(client, user)
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        token = sess["_user_id"]
    row = session.exec(select(UserSession).where(UserSession.token_hash == sessions.digest(token))).one()
    assert (row.user_id, row.ended_at) == (user.id, None)
    assert str(user.id) not in token.split(":")  # a random session id, not the user's number


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(client, session):
    market = make_market(session)
    user = make_user(session, markets=[market])
    resp = client.post(f"/login?next=/markets/{market.id}", data={"username": user.username, "password": PASSWORD})
    assert resp.headers["Location"] == f"/markets/{market.id}"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = client.post(
            "/login", query_string={"next": evil}, data={"username": user.username, "password": PASSWORD}
        )
        assert resp.headers["Location"] == "/", evil
        client.post("/logout")


def test_sign_out_ends_the_session(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    assert client.get(f"/markets/{market.id}").status_code == 200
    resp = client.post("/logout")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    resp = client.get(f"/markets/{market.id}")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_sign_out_needs_a_post_so_a_link_cannot_sign_you_out(client, session):
    login(client, make_user(session, markets=[make_market(session)]))
    assert client.get("/logout").status_code == 405
    assert _is_signed_in(client)


def test_a_disabled_users_open_session_stops_working_at_once(app, client, session):
    market = make_market(session)
    user = make_user(session, markets=[market])
    login(client, user)
    assert client.get(f"/markets/{market.id}").status_code == 200
    result = _cli(app, "users", "disable", user.username)
    assert result.exit_code == 0, result.output
    resp = client.get(f"/markets/{market.id}")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 401


def test_reset_password_ends_sessions_and_only_the_new_password_works(app, client, session):
    market = make_market(session)
    user = make_user(session, markets=[market])
    login(client, user)
    result = _cli(app, "users", "reset-password", user.username, "--password", "mat-khau-moi-456")
    assert result.exit_code == 0, result.output
    assert client.get(f"/markets/{market.id}").headers["Location"].startswith("/login")
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 401
    login(client, user, "mat-khau-moi-456")
    assert client.get(f"/markets/{market.id}").status_code == 200


def test_cli_adds_a_scoped_user_who_can_sign_in(app, client, session):
    make_market(session, commune_code="XA-CAIRONG")
    result = _cli(
        app,
        "users",
        "add",
        "Dao.Nguyen",
        "--name",
        "Nguyễn Thị Đào",
        "--role",
        "commune_officer",
        "--commune",
        "XA-CAIRONG",
        "--password",
        "mat-khau-123",
    )
    assert result.exit_code == 0, result.output
    assert "dao.nguyen" in result.output.lower()
    user = session.exec(select(User).where(User.username == "dao.nguyen")).one()
    assert (user.full_name, user.role, user.active) == ("Nguyễn Thị Đào", "commune_officer", True)
    assert user.password_hash.startswith("$argon2id$")
    assert len(session.exec(select(UserScope).where(UserScope.user_id == user.id)).all()) == 1
    assert client.post("/login", data={"username": "DAO.NGUYEN", "password": "mat-khau-123"}).status_code == 302


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "commune_officer", "--commune", "KHONG-CO", "--password", "mat-khau-123"], "KHONG-CO"),
        (["--role", "commune_officer", "--password", "mat-khau-123"], "ít nhất một tỉnh"),
        (["--role", "admin", "--password", "ngan"], "ít nhất 8 ký tự"),
    ],
)
def test_cli_refuses_a_bad_user_and_stores_nothing(app, session, args, message):
    result = _cli(app, "users", "add", "moi", "--name", "Người Mới", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert session.exec(select(User)).all() == []


def test_cli_refuses_a_username_taken_and_unknown_users(app, session):
    make_user(session, "admin", username="dao")
    assert (
        "đã có"
        in _cli(app, "users", "add", "dao", "--name", "X", "--role", "admin", "--password", "mat-khau-123").output
    )
    for args in (["disable", "ai-do"], ["reset-password", "ai-do", "--password", "mat-khau-123"]):
        result = _cli(app, "users", *args)
        assert result.exit_code == 2 and "ai-do" in result.output


# --- rate limiting and CSRF need their own app: the shared fixture switches both off -------------------------


@pytest.fixture
def strict_app(database_url: str, tmp_path) -> Iterator[Flask]:  # noqa: ANN001
    """The app as deployed: CSRF on, sign-in throttling after 3 failures per account and address (kept short)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "LOGIN_MAX_FAILURES_ACCOUNT_IP": 3,
            "BATCH_DIR": str(tmp_path / "batches"),
            **CHEAP_HASHING,
        }
    )
    yield app
    app.extensions["choqr.engine"].dispose()


@pytest.fixture
def strict_session(strict_app: Flask) -> Iterator[Session]:
    with db.session_scope(strict_app.extensions["choqr.engine"]) as s:
        yield s


def _csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = CSRF_INPUT.search(page)
    assert match, page[:400]
    return match.group(1)


CSRF_INPUT = re.compile(r'name="(?:[\w-]+-)?csrf_token"(?: type="hidden")? value="([^"]+)"')


def _strict_login(client: FlaskClient, username: str, password: str):  # noqa: ANN202
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": _csrf_token(client, "/login")}
    )


def test_failed_sign_ins_are_throttled_and_a_success_starts_the_count_afresh(strict_app, strict_session):
    user = make_user(strict_session, markets=[make_market(strict_session)])
    client = strict_app.test_client()
    assert _strict_login(client, user.username, "sai-1").status_code == 401
    assert _strict_login(client, user.username, "sai-2").status_code == 401
    for _ in range(4):  # more successes than the limit allows failures: none of them counts
        assert _strict_login(client, user.username, PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": _csrf_token(client, "/")})
    for n in (3, 4, 5):
        assert _strict_login(client, user.username, f"sai-{n}").status_code == 401
    blocked = _strict_login(client, user.username, PASSWORD)
    assert blocked.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in blocked.get_data(as_text=True)
    assert not _is_signed_in(client)


def test_the_sign_in_page_itself_is_never_rate_limited(strict_app):
    client = strict_app.test_client()
    for _ in range(6):
        assert client.get("/login").status_code == 200


def test_a_post_without_csrf_token_is_refused_and_nothing_is_stored(strict_app, strict_session):
    from factories import make_household

    from merchants.models import Household

    market = make_market(strict_session)
    h = make_household(strict_session, market)
    user = make_user(strict_session, markets=[market])
    client = strict_app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 400
    assert _strict_login(client, user.username, PASSWORD).status_code == 302
    posts = {
        f"/markets/{market.id}/register": {"owner_name": "Kẻ Giả Mạo", "stall_ids": "2"},
        f"/households/{h.id}/edit": {"owner_name": "Kẻ Giả Mạo", "version": "1"},
        f"/households/{h.id}/account": {
            "bin": "970422",
            "account_number": "999999",
            "reason": "giả mạo yêu cầu",
            "version": "1",
        },
        f"/households/{h.id}/placard": {"layout": "a6"},
        "/language/en": {},
        "/logout": {},
        f"/markets/{market.id}/import": {"dry_run": "y"},
        f"/markets/{market.id}/placards": {"layout": "a4-4up", "selection": "all"},
        f"/markets/{market.id}/stalls/A-001/verify": {"payload": "000201"},
    }
    for url, data in posts.items():
        resp = client.post(url, data=data)
        assert resp.status_code == 400, url
        assert "biểu mẫu không hợp lệ" in resp.get_data(as_text=True)
        resp = client.post(url, data={**data, "csrf_token": "sai"})
        assert resp.status_code == 400, url
    strict_session.expire_all()
    assert [x.owner_name for x in strict_session.exec(select(Household))] == [h.owner_name]
    assert strict_session.exec(select(PrintBatch)).all() == strict_session.exec(select(PlacardCheck)).all() == []
    assert strict_session.get(Household, h.id).version == 1
    assert strict_session.get(User, user.id).locale == "vi"
    assert _is_signed_in(client)


def test_every_form_page_carries_a_csrf_token(strict_app, strict_session):
    from factories import make_household

    market = make_market(strict_session)
    h = make_household(strict_session, market)
    client = strict_app.test_client()
    assert _csrf_token(client, "/login")
    _strict_login(client, make_user(strict_session, markets=[market]).username, PASSWORD)
    for url in (
        f"/markets/{market.id}/register",
        f"/households/{h.id}/edit",
        f"/households/{h.id}/account",
        f"/households/{h.id}",
        f"/markets/{market.id}",
    ):
        page = client.get(url).get_data(as_text=True)
        forms = page.count('method="post"')
        assert forms and len(CSRF_INPUT.findall(page)) == forms, url


def test_a_tablet_whose_ip_address_changes_stays_signed_in(client, session):
    from factories import login, make_market, make_user

    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert page.status_code == 200
