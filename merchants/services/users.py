"""User accounts: create, invite, edit, enable and disable them, and list the ones a manager manages.

Every path (the Users pages, the spreadsheet import, the ``choqr users`` commands) goes through these functions,
so limits, grant rules, messages and audit rows are the same wherever a user is made or changed. Who may manage
whom is ``services.user_scope``; passwords are ``merchants.passwords`` (the rule, the hashes) and
``services.user_passwords``; set-password links ``services.password_links``; API tokens ``services.api_tokens``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from merchants import passwords, roles
from merchants.errors import Duplicate, EditConflict, InvalidField, NotFound
from merchants.identity import search_key
from merchants.models import User, UserScope
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit, sessions
from merchants.services.password_links import DEFAULT_LINK_HOURS, IssuedLink, issue_link
from merchants.services.user_scope import (
    AreaGrant,
    ScopeItem,
    check_grant,
    find_user,
    managed_user,
    manages,
    require_manager,
    resolve_scope,
    scope_items,
    scope_of,
)

USERNAME_MAX: Final = User.__table__.c.username.type.length
FULL_NAME_MAX: Final = User.__table__.c.full_name.type.length
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._]*")


def has_password(user: User) -> bool:
    """False for a user created without one, until they use their set-password link."""
    return passwords.is_usable(user.password_hash)


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """A user as the Users pages list them."""

    id: int
    username: str
    full_name: str
    role: str
    active: bool
    has_password: bool
    version: int
    created_at: datetime
    items: tuple[ScopeItem, ...] = ()

    @property
    def scope(self) -> AreaGrant:
        return scope_of(self.items)


def _row(user: User, items: Iterable[ScopeItem]) -> UserRow:
    return UserRow(
        user.id,
        user.username,
        user.full_name,
        user.role,
        user.active,
        has_password(user),
        user.version,
        user.created_at,
        tuple(items),
    )


def _matches(row: UserRow, words: list[str]) -> bool:
    text = search_key(
        row.username, row.full_name, roles.LABELS_VI.get(row.role, row.role), *(i.label for i in row.items)
    )
    return all(w in text for w in words)


def list_users(session: Session, actor: Viewer, *, q: str = "") -> list[UserRow]:
    """The users the actor manages, by username; ``q`` matches name, username, role or area without diacritics."""
    require_manager(actor)
    items = scope_items(session)
    rows = [_row(u, items.get(u.id, [])) for u in session.exec(select(User).order_by(User.username))]
    words = search_key(q[:100]).split()
    return [r for r in rows if manages(actor, r.items) and _matches(r, words)]


def get_user(session: Session, actor: Viewer, user_id: int) -> UserRow:
    """One user the actor manages, else NotFound."""
    require_manager(actor)
    user = session.get(User, user_id)
    items = scope_items(session, [user_id]).get(user_id, []) if user else []
    if user is None or not manages(actor, items):
        raise NotFound("Không tìm thấy người dùng.")
    return _row(user, items)


# --- creating and editing --------------------------------------------------------------------------------------


def clean_username(raw: str) -> str:
    """Lowercase ASCII letters, digits, dots and underscores: typed the same on any tablet keyboard."""
    username = (raw or "").strip().lower()
    if not username:
        raise InvalidField("username", "Hãy nhập tên đăng nhập.")
    if len(username) > USERNAME_MAX:
        raise InvalidField("username", "Tên đăng nhập tối đa %(USERNAME_MAX)s ký tự.", USERNAME_MAX=USERNAME_MAX)
    if not _USERNAME.fullmatch(username):
        raise InvalidField("username", "Tên đăng nhập chỉ gồm chữ không dấu (a–z), số, dấu chấm và gạch dưới.")
    return username


def clean_full_name(raw: str, username: str) -> str:
    name = " ".join((raw or "").split()) or username
    if len(name) > FULL_NAME_MAX:
        raise InvalidField("full_name", "Họ tên tối đa %(FULL_NAME_MAX)s ký tự.", FULL_NAME_MAX=FULL_NAME_MAX)
    return name


@dataclass(frozen=True)
class NewUser:
    """What it takes to create a user; ``password`` None leaves the account without one until a link is used."""

    username: str
    full_name: str
    role: str
    scope: AreaGrant = field(default_factory=AreaGrant)
    password: str | None = None
    locale: str = "vi"


def _snapshot(user: User, items: Iterable[ScopeItem]) -> dict[str, object]:
    """Role, name and areas as codes: what user.create and user.update rows compare."""
    return {"full_name": user.full_name, "role": user.role, **scope_of(items).as_dict()}


def insert_user(session: Session, actor: Viewer | None, new: NewUser, *, source_ip: str | None = None) -> User:
    """Check and add a user with their areas; the caller commits. Nothing is added when a rule refuses.

    ``actor`` None is trusted set-up code (demo data, test factories): no manager check and no audit row.
    """
    username = clean_username(new.username)
    full_name = clean_full_name(new.full_name, username)
    if new.password is not None:
        passwords.check_password(new.password, username=username)
    items = resolve_scope(session, new.scope)
    if actor is not None:
        require_manager(actor)
        check_grant(actor, new.role, items)
    else:
        check_grant(SYSTEM, new.role, items)
    if find_user(session, username) is not None:
        raise Duplicate("username", "Tên đăng nhập '%(username)s' đã có.", existing_id=0, username=username)
    user = User(
        username=username,
        full_name=full_name,
        role=new.role,
        locale=new.locale,
        password_hash=passwords.hash_password(new.password) if new.password is not None else passwords.unusable_hash(),
    )
    session.add(user)
    session.flush()
    _add_scope_rows(session, user.id, items)
    if actor is not None:
        audit.record_change(
            session,
            actor,
            "user.create",
            f"user:{username}",
            {},
            _snapshot(user, items),
            source_ip=source_ip,
            has_password=new.password is not None,
        )
    return user


_COLUMNS: Final = {"provinces": "province_id", "communes": "commune_id", "markets": "market_id"}


def _add_scope_rows(session: Session, user_id: int, items: Iterable[ScopeItem]) -> None:
    session.add_all([UserScope(user_id=user_id, **{_COLUMNS[i.level]: i.id}) for i in items])


def _commit_new(session: Session, username: str) -> None:
    """Commit, turning a lost race for the same username into the same refusal as the check before."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Duplicate("username", "Tên đăng nhập '%(username)s' đã có.", existing_id=0, username=username) from exc


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: str,
    password: str | None = None,
    province_codes: Iterable[str] = (),
    commune_codes: Iterable[str] = (),
    market_codes: Iterable[str] = (),
    locale: str = "vi",
    actor: Viewer | None = None,
    source_ip: str | None = None,
) -> User:
    """Create a user serving the given areas (an administrator may have none); see ``insert_user``."""
    new = NewUser(
        username, full_name, role, AreaGrant.of(province_codes, commune_codes, market_codes), password, locale
    )
    user = insert_user(session, actor, new, source_ip=source_ip)
    _commit_new(session, user.username)
    return user


def invite_user(
    session: Session,
    actor: Viewer,
    new: NewUser,
    *,
    hours: int = DEFAULT_LINK_HOURS,
    now: datetime | None = None,
    source_ip: str | None = None,
) -> IssuedLink:
    """Create a user without a password and the one-time link with which they choose one, in one transaction."""
    user = insert_user(
        session, actor, NewUser(new.username, new.full_name, new.role, new.scope, None, new.locale), source_ip=source_ip
    )
    link = issue_link(session, actor, user, hours=hours, now=now, source_ip=source_ip)
    _commit_new(session, user.username)
    return link


def update_user(
    session: Session,
    actor: Viewer,
    username: str,
    *,
    full_name: str,
    role: str,
    scope: AreaGrant,
    expected_version: int,
    source_ip: str | None = None,
) -> User:
    """Change a user's name, role and areas; a stale form is an EditConflict, never an overwrite."""
    user, old_items = managed_user(session, actor, username)
    name = clean_full_name(full_name, user.username)
    items = resolve_scope(session, scope)
    check_grant(actor, role, items)
    if actor.user_id == user.id and (role != user.role or scope_of(items) != scope_of(old_items)):
        raise InvalidField("role", "Bạn không thể tự đổi vai trò hoặc địa bàn của mình; hãy nhờ một quản trị khác.")
    old = _snapshot(user, old_items)
    claimed = session.exec(
        update(User).where(User.id == user.id, User.version == expected_version).values(version=expected_version + 1)
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise EditConflict(
            "Người dùng này vừa được người khác sửa. Giá trị hiện tại được hiển thị bên dưới; hãy kiểm tra rồi lưu lại."
        )
    session.refresh(user)
    user.full_name, user.role = name, role
    session.add(user)
    for row in session.exec(select(UserScope).where(UserScope.user_id == user.id)):
        session.delete(row)
    session.flush()
    _add_scope_rows(session, user.id, items)
    audit.record_change(
        session, actor, "user.update", f"user:{user.username}", old, _snapshot(user, items), source_ip=source_ip
    )
    session.commit()
    return user


def _set_active(session: Session, actor: Viewer, username: str, active: bool, source_ip: str | None) -> User:
    user, _items = managed_user(session, actor, username)
    if not active and actor.user_id == user.id:
        raise InvalidField("user", "Bạn không thể tự khóa tài khoản của mình.")
    if user.active == active:
        return user
    user.active = active
    if not active:
        sessions.end_user_sessions(session, user.id, reason=sessions.DISABLED)  # every browser, at once
    session.add(user)
    audit.record(
        session,
        actor,
        "user.enable" if active else "user.disable",
        subject=f"user:{user.username}",
        source_ip=source_ip,
    )
    session.commit()
    return user


def disable_user(session: Session, username: str, *, actor: Viewer = SYSTEM, source_ip: str | None = None) -> User:
    """Disable a user; every browser they are signed in on is signed out at its next request."""
    return _set_active(session, actor, username, False, source_ip)


def enable_user(session: Session, username: str, *, actor: Viewer = SYSTEM, source_ip: str | None = None) -> User:
    """Let a disabled user sign in again (with their old password, or a new link)."""
    return _set_active(session, actor, username, True, source_ip)


def set_locale(session: Session, user: User, locale: str) -> None:
    if locale not in ("vi", "en"):
        raise InvalidField("locale", "Ngôn ngữ phải là 'vi' hoặc 'en'.")
    user.locale = locale
    session.add(user)
    session.commit()
