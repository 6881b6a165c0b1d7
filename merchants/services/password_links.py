"""One-time links with which a user chooses their password: issued by a manager, used once, expiring.

The plain token exists only in the link handed over; the database keeps its SHA-256 digest (as for sessions),
so a copy of the database opens no account.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlmodel import Session, select

from merchants import passwords
from merchants.errors import DomainError, InvalidField, NotFound
from merchants.models import PasswordLink, User
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit, sessions
from merchants.services.user_passwords import set_password
from merchants.services.user_scope import managed_user

DEFAULT_LINK_HOURS: Final = 72
MAX_LINK_HOURS: Final = 24 * 30
MAX_URL_TOKEN: Final = 100  # secrets.token_urlsafe(32) is 43 characters; anything much longer is not ours


class LinkGone(DomainError):
    """A set-password link that was ours but can no longer be used: ``reason`` is used, expired or disabled."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="link")
        self.reason = reason


@dataclass(frozen=True)
class IssuedLink:
    """A link just made: the plain token exists only here, to be shown once; the database keeps its hash."""

    username: str
    full_name: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkInfo:
    """A usable link's account, for the page where its user chooses a password."""

    link_id: int
    username: str
    full_name: str
    expires_at: datetime


def link_hours(config: Mapping[str, object]) -> int:
    """How long a new link lasts: the PASSWORD_LINK_HOURS setting, 72 hours when unset."""
    return int(config.get("PASSWORD_LINK_HOURS") or DEFAULT_LINK_HOURS)


def issue_link(
    session: Session,
    actor: Viewer,
    user: User,
    *,
    hours: int = DEFAULT_LINK_HOURS,
    now: datetime | None = None,
    source_ip: str | None = None,
) -> IssuedLink:
    """Add a one-time link for the user and end their older unused ones; the caller commits."""
    if not user.active:
        raise InvalidField("user", "Tài khoản đang bị khóa; hãy mở khóa trước khi tạo liên kết đặt mật khẩu.")
    if not 1 <= int(hours) <= MAX_LINK_HOURS:
        raise InvalidField(
            "hours", "Thời hạn liên kết phải từ 1 đến %(MAX_LINK_HOURS)s giờ.", MAX_LINK_HOURS=MAX_LINK_HOURS
        )
    now = now or sessions.now_utc()
    for older in session.exec(
        select(PasswordLink).where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
    ):
        if sessions.aware(older.expires_at) > now:
            older.expires_at = now
            session.add(older)
    token = secrets.token_urlsafe(32)
    row = PasswordLink(
        user_id=user.id,
        token_hash=sessions.digest(token),
        created_at=now,
        created_by_id=actor.user_id,
        expires_at=now + timedelta(hours=int(hours)),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "user.password_link",
        subject=f"user:{user.username}",
        source_ip=source_ip,
        link_id=row.id,
        expires_at=row.expires_at.isoformat(),
    )
    return IssuedLink(user.username, user.full_name, token, row.expires_at)


def create_password_link(
    session: Session,
    username: str,
    *,
    actor: Viewer = SYSTEM,
    hours: int = DEFAULT_LINK_HOURS,
    now: datetime | None = None,
    source_ip: str | None = None,
) -> IssuedLink:
    """A new set-password link for a user the actor manages (their current password keeps working until used)."""
    user, _items = managed_user(session, actor, username)
    link = issue_link(session, actor, user, hours=hours, now=now, source_ip=source_ip)
    session.commit()
    return link


def _link(session: Session, token: str, now: datetime) -> tuple[PasswordLink, User]:
    row = None
    if token and len(token) <= MAX_URL_TOKEN:
        row = session.exec(select(PasswordLink).where(PasswordLink.token_hash == sessions.digest(token))).first()
    if row is None:
        raise NotFound("Liên kết đặt mật khẩu không đúng hoặc không tồn tại.", field="link")
    user = session.get(User, row.user_id)
    if row.used_at is not None:
        raise LinkGone("used", "Liên kết này đã được dùng để đặt mật khẩu.")
    if sessions.aware(row.expires_at) <= now:
        raise LinkGone("expired", "Liên kết này đã hết hạn hoặc đã được thay bằng liên kết mới hơn.")
    if user is None or not user.active:
        raise LinkGone("disabled", "Tài khoản của liên kết này đang bị khóa.")
    return row, user


def check_link(session: Session, token: str, *, now: datetime | None = None) -> LinkInfo:
    """Whose link this is, if it can still be used: NotFound (not ours) or LinkGone (used, expired, disabled)."""
    row, user = _link(session, token, now or sessions.now_utc())
    return LinkInfo(row.id, user.username, user.full_name, row.expires_at)


def set_password_from_link(
    session: Session, token: str, password: str, *, now: datetime | None = None, source_ip: str | None = None
) -> User:
    """Use a link once: the password is checked, the link claimed (a second use loses the race), sessions end."""
    now = now or sessions.now_utc()
    row, user = _link(session, token, now)
    passwords.check_password(password, username=user.username)
    claimed = session.exec(
        update(PasswordLink).where(PasswordLink.id == row.id, PasswordLink.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise LinkGone("used", "Liên kết này đã được dùng để đặt mật khẩu.")
    set_password(session, Viewer(user.id, user.role), user, password, via="link", source_ip=source_ip, link_id=row.id)
    session.commit()
    return user
