"""An account's password: checked at sign-in, changed by its user, set at the command line.

The rule and the hashes are ``merchants.passwords``; this module stores them and ends the sessions a new
password must end. Links that let a user choose a password are ``services.password_links``.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from sqlmodel import Session

from merchants import passwords
from merchants.errors import InvalidField, NotFound
from merchants.models import User
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit, sessions
from merchants.services.user_scope import find_user, managed_user

Via = Literal["admin", "link", "self"]
# A user's own change is "user.password_change"; a password chosen for them (command line) or through a
# one-time link is "user.password_set" with ``via`` saying which.
_ACTIONS: Final[dict[str, str]] = {
    "admin": "user.password_set",
    "link": "user.password_set",
    "self": "user.password_change",
}


def set_password(
    session: Session, actor: Viewer, user: User, password: str, *, via: Via, source_ip: str | None, **detail: Any
) -> None:
    """Hash and keep a password that passed the rule, end the user's sessions and write the audit line; the caller
    commits. Every way of setting a password comes through here, so none can store one without its line."""
    user.password_hash = passwords.hash_password(password)
    # A new password ends every session opened with the old one; the view then opens a fresh one for the
    # browser that changed it (``auth.start_session``), so only that browser stays signed in.
    sessions.end_user_sessions(session, user.id, reason=sessions.PASSWORD)
    session.add(user)
    if via != "self":
        detail = {"via": via, **detail}
    audit.record(session, actor, _ACTIONS[via], subject=f"user:{user.username}", source_ip=source_ip, **detail)


def reset_password(
    session: Session, username: str, password: str, *, actor: Viewer = SYSTEM, source_ip: str | None = None
) -> User:
    """Set a password typed at the command line (the pages only hand out links) and end existing sessions."""
    user, _items = managed_user(session, actor, username)
    passwords.check_password(password, username=user.username)
    set_password(session, actor, user, password, via="admin", source_ip=source_ip)
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
    set_password(session, Viewer(user.id, user.role), user, new, via="self", source_ip=source_ip)
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
