"""An account's password: checked at sign-in, changed by its user, set at the command line.

The rule and the hashes are ``merchants.passwords``; this module stores them and ends the sessions a new
password must end. Links that let a user choose a password are ``services.password_links``.
"""

from __future__ import annotations

from sqlmodel import Session

from merchants import passwords
from merchants.errors import InvalidField, NotFound
from merchants.models import User
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit, sessions
from merchants.services.user_scope import find_user, managed_user


def store_password(session: Session, user: User, password: str) -> None:
    """Hash and keep a password that passed the rule; the caller audits and commits."""
    user.password_hash = passwords.hash_password(password)
    # A new password ends every session opened with the old one; the view then opens a fresh one for the
    # browser that changed it (``auth.start_session``), so only that browser stays signed in.
    sessions.end_user_sessions(session, user.id, reason=sessions.PASSWORD)
    session.add(user)


def reset_password(
    session: Session, username: str, password: str, *, actor: Viewer = SYSTEM, source_ip: str | None = None
) -> User:
    """Set a password typed at the command line (the pages only hand out links) and end existing sessions."""
    user, _items = managed_user(session, actor, username)
    passwords.check_password(password, username=user.username)
    store_password(session, user, password)
    audit.record(session, actor, "user.password_set", subject=f"user:{user.username}", source_ip=source_ip, via="admin")
    session.commit()
    return user


def change_password(session: Session, user_id: int, current: str, new: str, *, source_ip: str | None = None) -> User:
    """A signed-in user's own change: the current password first, then the rule; other sessions end."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("Không tìm thấy người dùng.")
    if not passwords.verify_password(user.password_hash, current or ""):
        raise InvalidField("current_password", "Mật khẩu hiện tại không đúng.")
    passwords.check_new_password(current, new, username=user.username)
    store_password(session, user, new)
    audit.record(
        session,
        Viewer(user.id, user.role),
        "user.password_change",
        subject=f"user:{user.username}",
        source_ip=source_ip,
    )
    session.commit()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None; rehashes when the configured argon2 cost changed."""
    user = find_user(session, username)
    if not passwords.verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.add(user)
        session.commit()
    return user
