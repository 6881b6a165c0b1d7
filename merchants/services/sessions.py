"""Server-side sign-in sessions: the cookie carries a random id, the database says whether it is still live.

Flask's signed cookie alone cannot be taken back: a copy made before sign-out would keep working until the
secret key changes. Here the cookie holds only a random token; its SHA-256 names a ``UserSession`` row that
sign-out, disabling the user and every new password end, and that also ends after ``idle`` without use or
``absolute`` after sign-in, whichever comes first.

Defaults, for market officers on shared tablets: 8 hours idle covers a market day with its long midday pause,
but not the night (a tablet left at the market office is signed out by morning); 7 days absolute means a
weekly sign-in even for a tablet used every day, so a lost or copied session ends within a week at most.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from merchants import models
from merchants.models import User, UserSession

IDLE_MINUTES: Final = 8 * 60
ABSOLUTE_HOURS: Final = 7 * 24
SEEN_EVERY: Final = timedelta(minutes=1)  # last_seen_at is written at most once a minute per session
KEEP_ENDED: Final = timedelta(days=30)  # ended rows stay this long (who was signed in from where), then go
USER_AGENT_MAX: Final = UserSession.__table__.c.user_agent.type.length
MAX_TOKEN: Final = 100  # secrets.token_urlsafe(32) is 43 characters; anything much longer is not ours

SIGNED_OUT, DISABLED, PASSWORD, IDLE, EXPIRED = "signed_out", "disabled", "password", "idle", "expired"


@dataclass(frozen=True)
class Lifetime:
    """How long a session lives: ``idle`` without a request, ``absolute`` from sign-in at most."""

    idle: timedelta = timedelta(minutes=IDLE_MINUTES)
    absolute: timedelta = timedelta(hours=ABSOLUTE_HOURS)

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> Lifetime:
        """SESSION_IDLE_MINUTES and SESSION_ABSOLUTE_HOURS (environment: CHOQR_SESSION_IDLE_MINUTES, …)."""
        idle = int(config.get("SESSION_IDLE_MINUTES") or IDLE_MINUTES)
        absolute = int(config.get("SESSION_ABSOLUTE_HOURS") or ABSOLUTE_HOURS)
        if idle < 1 or absolute < 1:
            raise ValueError(f"SESSION_IDLE_MINUTES ({idle}) and SESSION_ABSOLUTE_HOURS ({absolute}) must be ≥ 1")
        return cls(timedelta(minutes=idle), timedelta(hours=absolute))


@dataclass(frozen=True)
class Live:
    """A live session and its user, as the request that presented its token sees them."""

    row: UserSession
    user: User


def now_utc() -> datetime:
    """The time sessions are judged by; read through ``models`` so a test can move the clock in one place."""
    return models.utcnow()


def aware(value: datetime) -> datetime:
    """SQLite hands stored UTC times back without their zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session,
    user: User,
    *,
    ip: str | None,
    user_agent: str = "",
    lifetime: Lifetime | None = None,
    now: datetime | None = None,
) -> str:
    """Start a session for a user who just proved who they are; returns the token for the cookie (only here).

    On the way, the user's sessions that ended more than ``KEEP_ENDED`` ago are deleted, and so are those never
    seen again that are that long past their absolute lifetime: the table stays small without a cleanup job.
    """
    now, lifetime = now or now_utc(), lifetime or Lifetime()
    session.exec(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at < now - KEEP_ENDED, UserSession.created_at < now - lifetime.absolute - KEEP_ENDED),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip=(ip or None) and ip[:45],
            user_agent=(user_agent or "")[:USER_AGENT_MAX],
        )
    )
    session.commit()
    return token


def _end(session: Session, row: UserSession, reason: str, now: datetime) -> None:
    session.exec(
        update(UserSession)
        .where(UserSession.id == row.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    session.commit()


def live_session(session: Session, token: str, lifetime: Lifetime, *, now: datetime | None = None) -> Live | None:
    """The live session a cookie's token names, or None; an idle or too old one is ended here and then."""
    if not token or len(token) > MAX_TOKEN:
        return None
    found = session.exec(  # the session and its user in one query: this runs before every signed-in request
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id, isouter=True)
        .where(UserSession.token_hash == digest(token))
    ).first()
    if found is None or found[0].ended_at is not None:
        return None
    row, user = found
    now = now or now_utc()
    if user is None or not user.active:
        _end(session, row, DISABLED, now)
        return None
    if now - aware(row.created_at) >= lifetime.absolute:
        _end(session, row, EXPIRED, now)
        return None
    if now - aware(row.last_seen_at) >= lifetime.idle:
        _end(session, row, IDLE, now)
        return None
    if now - aware(row.last_seen_at) >= SEEN_EVERY:
        session.exec(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
        session.commit()
    return Live(row, user)


def end_session(session: Session, token: str, *, reason: str = SIGNED_OUT, now: datetime | None = None) -> None:
    """End the session of this token (sign-out); the caller commits. Ended or unknown tokens stay as they are."""
    session.exec(
        update(UserSession)
        .where(UserSession.token_hash == digest(token or ""), UserSession.ended_at.is_(None))
        .values(ended_at=now or now_utc(), end_reason=reason)
    )


def end_user_sessions(session: Session, user_id: int, *, reason: str, now: datetime | None = None) -> int:
    """End every open session of a user (disabled, new password); the caller commits with its own change."""
    return session.exec(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now or now_utc(), end_reason=reason)
    ).rowcount
