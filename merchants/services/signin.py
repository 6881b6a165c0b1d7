"""Signing in: throttled in the database, audited, and silent about which accounts exist.

Failed attempts are rows (``LoginAttempt``), so every gunicorn worker and every server behind the proxy counts
the same failures. Three limits apply within a sliding window:

- per account and address (5): one tablet guessing one account is stopped early;
- per account (20): guessing one account from many addresses is stopped too, and a success resets it;
- per address (100): generous on purpose, since a whole market's tablets may share one carrier-NAT address;
  it only stops one address from trying account after account.

An attempt over a limit is refused before its password is checked (a right password gets the same answer),
neither counted nor audited: the failures before it are, and they are bounded by the limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, func
from sqlmodel import Session, select

from merchants.errors import DomainError, InvalidField
from merchants.models import LoginAttempt, User
from merchants.scope import Viewer
from merchants.services import audit, sessions, user_passwords
from merchants.services.sessions import aware, now_utc

KEEP: Final = timedelta(days=1)  # attempts older than this are deleted as new ones come in
NAME_MAX: Final = LoginAttempt.__table__.c.username.type.length
ANONYMOUS: Final = Viewer(user_id=None, role="")
THROTTLED_MESSAGE: Final = "Đăng nhập sai quá nhiều lần. Hãy thử lại sau ít phút."
WRONG_MESSAGE: Final = "Sai tên đăng nhập hoặc mật khẩu."


class Throttled(DomainError):
    """Too many failures for this account or address lately; nothing was checked."""


class WrongCredentials(DomainError):
    """The username and password do not match an active account (which of the two is never said)."""


@dataclass(frozen=True)
class Limits:
    """Failures allowed within ``window`` per account and address, per account, and per address."""

    window: timedelta = timedelta(minutes=15)
    per_account_ip: int = 5
    per_account: int = 20
    per_ip: int = 100

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> Limits:
        """LOGIN_WINDOW_MINUTES, LOGIN_MAX_FAILURES_ACCOUNT_IP, LOGIN_MAX_FAILURES_ACCOUNT, LOGIN_MAX_FAILURES_IP."""
        default = cls()

        def value(key: str, fallback: int) -> int:
            number = int(config.get(key) or fallback)
            if number < 1:
                raise ValueError(f"{key} must be ≥ 1 (got {number})")
            return number

        return cls(
            timedelta(minutes=value("LOGIN_WINDOW_MINUTES", int(default.window.total_seconds() // 60))),
            value("LOGIN_MAX_FAILURES_ACCOUNT_IP", default.per_account_ip),
            value("LOGIN_MAX_FAILURES_ACCOUNT", default.per_account),
            value("LOGIN_MAX_FAILURES_IP", default.per_ip),
        )


def typed_name(raw: str | None) -> str:
    """The username as typed, the way accounts are looked up (trimmed, lowercase), cut to what is stored."""
    return (raw or "").strip().lower()[:NAME_MAX]


def _failures(
    session: Session,
    since: datetime,
    *,
    username: str | None = None,
    ip: str | None = None,
    reset_by_success: bool = True,
) -> int:
    """Failures since ``since`` for this key; a success for the same key starts the count afresh."""
    key = []
    if username is not None:
        key.append(LoginAttempt.username == username)
    if ip is not None:
        key.append(LoginAttempt.ip == ip)
    start = since
    if reset_by_success:
        last_ok = session.exec(select(func.max(LoginAttempt.at)).where(*key, LoginAttempt.success)).one()
        if last_ok is not None:
            start = max(start, aware(last_ok))
    return session.exec(
        select(func.count()).select_from(LoginAttempt).where(*key, ~LoginAttempt.success, LoginAttempt.at >= start)
    ).one()


def is_throttled(
    session: Session, username: str, ip: str | None, limits: Limits, *, now: datetime | None = None
) -> bool:
    """Whether an attempt for this account from this address must be refused unchecked."""
    name, ip, since = typed_name(username), ip or "", (now or now_utc()) - limits.window
    return (
        _failures(session, since, username=name, ip=ip) >= limits.per_account_ip
        or _failures(session, since, username=name) >= limits.per_account
        or _failures(session, since, ip=ip, reset_by_success=False) >= limits.per_ip
    )


def record_attempt(
    session: Session, username: str, ip: str | None, *, success: bool, now: datetime | None = None
) -> None:
    """Note an attempt and forget those older than ``KEEP``; the caller commits."""
    now = now or now_utc()
    session.exec(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
    session.add(LoginAttempt(at=now, username=typed_name(username), ip=(ip or "")[:45], success=success))


def sign_in(
    session: Session, username: str, password: str, *, ip: str | None, limits: Limits, now: datetime | None = None
) -> User:
    """The active user with these credentials; ``Throttled`` or ``WrongCredentials`` otherwise. Audited."""
    name = typed_name(username)
    if is_throttled(session, name, ip, limits, now=now):
        raise Throttled(THROTTLED_MESSAGE)
    user = user_passwords.authenticate(session, name, password or "")
    record_attempt(session, name, ip, success=user is not None, now=now)
    if user is None:
        # The name as typed (an account or not) and never the password: who tried what, from where.
        audit.record(session, ANONYMOUS, "auth.sign_in_failed", subject=f"user:{name}", source_ip=ip, username=name)
        session.commit()
        raise WrongCredentials(WRONG_MESSAGE)
    audit.record(session, Viewer(user.id, user.role), "auth.sign_in", subject=f"user:{user.username}", source_ip=ip)
    session.commit()
    return user


def sign_out(session: Session, user: User, token: str, *, ip: str | None) -> None:
    """End this browser's session on the server (a copy of its cookie is worth nothing after) and audit it."""
    sessions.end_session(session, token)
    audit.record(session, Viewer(user.id, user.role), "auth.sign_out", subject=f"user:{user.username}", source_ip=ip)
    session.commit()


def change_password(session: Session, user: User, current: str, new: str, *, ip: str | None, limits: Limits) -> User:
    """``user_passwords.change_password`` under the same throttle: a wrong current password counts as a failed sign-in,
    so a session left open on a tablet cannot be used to guess the password at leisure."""
    if is_throttled(session, user.username, ip, limits):
        raise Throttled(THROTTLED_MESSAGE, field="current_password")
    try:
        return user_passwords.change_password(session, user.id, current, new, source_ip=ip)
    except InvalidField as exc:
        if exc.field == "current_password":
            record_attempt(session, user.username, ip, success=False)
            audit.record(
                session,
                Viewer(user.id, user.role),
                "auth.password_check_failed",
                subject=f"user:{user.username}",
                source_ip=ip,
            )
            session.commit()
        raise
