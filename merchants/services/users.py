"""User accounts: argon2 password hashes, scope rows, disabling (which ends every session at once)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from merchants import roles
from merchants.errors import Duplicate, InvalidField, NotFound
from merchants.models import ApiToken, Commune, Market, Province, User, UserScope, utcnow

_hasher = PasswordHasher()
# Verified against when the username does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("choqr-no-such-user")
MIN_PASSWORD = 8


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidField("password", f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.")


def create_user(session: Session, *, username: str, full_name: str, password: str, role: str,
                province_codes: list[str] = (), commune_codes: list[str] = (), market_codes: list[str] = (),
                locale: str = "vi") -> User:
    """Create a user serving the given areas (an administrator needs none)."""
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("_", "").isalnum():
        raise InvalidField("username", "Tên đăng nhập chỉ gồm chữ, số, dấu chấm và gạch dưới.")
    if role not in roles.ROLES:
        raise InvalidField("role", f"Vai trò '{role}' không tồn tại; chọn một trong: {', '.join(roles.ROLES)}.")
    _check_password(password)
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise Duplicate("username", f"Tên đăng nhập '{username}' đã có.", existing_id=0)
    user = User(username=username, full_name=full_name.strip() or username, role=role, locale=locale,
                password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    for model, codes, attr in ((Province, province_codes, "province_id"), (Commune, commune_codes, "commune_id"),
                               (Market, market_codes, "market_id")):
        for code in codes:
            row_id = session.exec(select(model.id).where(model.code == code)).first()
            if row_id is None:
                session.rollback()
                raise NotFound(f"Không có mã địa bàn '{code}'.")
            session.add(UserScope(user_id=user.id, **{attr: row_id}))
    if role != roles.ADMIN and not (province_codes or commune_codes or market_codes):
        session.rollback()
        raise InvalidField("scope", "Người dùng không phải quản trị cần ít nhất một tỉnh, xã/phường hoặc chợ.")
    session.commit()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None; rehashes when argon2 parameters change."""
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
        session.commit()
    return user


def _get(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFound(f"Không có người dùng '{username}'.")
    return user


def disable_user(session: Session, username: str) -> User:
    """Disable a user; bumping the session version logs out every browser they are signed in on."""
    user = _get(session, username)
    user.active = False
    user.session_version += 1
    session.add(user)
    session.commit()
    return user


def reset_password(session: Session, username: str, password: str) -> User:
    """Set a new password and end the user's existing sessions."""
    _check_password(password)
    user = _get(session, username)
    user.password_hash = _hasher.hash(password)
    user.session_version += 1
    session.add(user)
    session.commit()
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    if locale not in ("vi", "en"):
        raise InvalidField("locale", "Ngôn ngữ phải là 'vi' hoặc 'en'.")
    user.locale = locale
    session.add(user)
    session.commit()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, username: str, label: str) -> str:
    """A new API token for a user; only its hash is stored, the plain token is shown once."""
    user = _get(session, username)
    token = "choqr_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, label=label[:80], token_hash=token_digest(token)))
    session.commit()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token),
                                              ApiToken.revoked_at.is_(None))).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user and user.active else None


def revoke_api_token(session: Session, token: str) -> None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
    if row:
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()
