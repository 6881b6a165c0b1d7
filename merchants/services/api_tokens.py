"""API tokens: made for a user by one who manages them, shown once, stored as a digest, expiring and revocable.

A token acts as its user, in that user's areas; its last use is noted (at most once a minute) so a manager can
see which tokens are still in use before revoking one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from merchants.errors import InvalidField, NotFound
from merchants.models import ApiToken, User
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit, sessions
from merchants.services.user_scope import managed_user

LABEL_MAX: Final = ApiToken.__table__.c.label.type.length
MAX_TOKEN_DAYS: Final = 3650
LAST_USED_EVERY: Final = timedelta(minutes=1)  # a token in use writes its last-use time at most once a minute


@dataclass(frozen=True)
class TokenRow:
    """A token as the user's page lists it (never the token itself)."""

    id: int
    label: str
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and sessions.aware(self.expires_at) <= now


def create_api_token(
    session: Session,
    username: str,
    label: str,
    *,
    actor: Viewer = SYSTEM,
    days: int | None = None,
    now: datetime | None = None,
    source_ip: str | None = None,
) -> str:
    """A new API token for a user; only its hash is stored, the plain token is returned to be shown once."""
    user, _items = managed_user(session, actor, username)
    label = " ".join((label or "").split())
    if not label or len(label) > LABEL_MAX:
        raise InvalidField(
            "label", "Hãy ghi mã truy cập dùng để làm gì (tối đa %(LABEL_MAX)s ký tự).", LABEL_MAX=LABEL_MAX
        )
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidField("days", "Số ngày hiệu lực phải từ 1 đến %(MAX_TOKEN_DAYS)s.", MAX_TOKEN_DAYS=MAX_TOKEN_DAYS)
    if not user.active:
        raise InvalidField("user", "Tài khoản đang bị khóa; không tạo được mã truy cập.")
    now = now or sessions.now_utc()
    token = "choqr_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        label=label,
        token_hash=sessions.digest(token),
        created_at=now,
        created_by_id=actor.user_id,
        expires_at=now + timedelta(days=days) if days else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "token.create",
        subject=f"user:{user.username}",
        source_ip=source_ip,
        token_id=row.id,
        label=label,
        expires_at=row.expires_at.isoformat() if row.expires_at else None,
    )
    session.commit()
    return token


def list_tokens(session: Session, actor: Viewer, username: str) -> list[TokenRow]:
    """A user's tokens, newest first, with who created each."""
    user, _items = managed_user(session, actor, username)
    creator = aliased(User)
    stmt = (
        select(
            ApiToken.id,
            ApiToken.label,
            ApiToken.created_at,
            creator.username,
            ApiToken.last_used_at,
            ApiToken.expires_at,
            ApiToken.revoked_at,
        )
        .outerjoin(creator, creator.id == ApiToken.created_by_id)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.id.desc())
    )
    return [TokenRow(*r) for r in session.exec(stmt)]


def _revoke(session: Session, actor: Viewer, user: User, row: ApiToken, now: datetime, source_ip: str | None) -> None:
    if row.revoked_at is not None:
        return
    row.revoked_at = now
    session.add(row)
    audit.record(
        session,
        actor,
        "token.revoke",
        subject=f"user:{user.username}",
        source_ip=source_ip,
        token_id=row.id,
        label=row.label,
    )
    session.commit()


def revoke_token(
    session: Session,
    username: str,
    token_id: int,
    *,
    actor: Viewer = SYSTEM,
    now: datetime | None = None,
    source_ip: str | None = None,
) -> None:
    """Revoke one of a user's tokens by its id; calls with it fail from the next request on."""
    user, _items = managed_user(session, actor, username)
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(
            "Người dùng '%(username)s' không có mã truy cập số %(token_id)s.",
            field="token",
            username=user.username,
            token_id=token_id,
        )
    _revoke(session, actor, user, row, now or sessions.now_utc(), source_ip)


def revoke_api_token(session: Session, token: str) -> None:
    """Revoke a token known by its plain value (a leaked token someone reports)."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == sessions.digest(token))).first()
    if row:
        _revoke(session, SYSTEM, session.get(User, row.user_id), row, sessions.now_utc(), None)


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    """The active user of a live token (not revoked, not expired); notes its use at most once a minute."""
    row = session.exec(
        select(ApiToken).where(ApiToken.token_hash == sessions.digest(token), ApiToken.revoked_at.is_(None))
    ).first()
    now = now or sessions.now_utc()
    if row is None or (row.expires_at is not None and sessions.aware(row.expires_at) <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - sessions.aware(row.last_used_at) >= LAST_USED_EVERY:
        session.exec(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        session.commit()
    return user
