"""User accounts: who may manage whom, the one password rule, set-password links and API tokens.

Every path (the Users pages, the spreadsheet import, the ``choqr users`` commands) goes through these functions,
so limits, scope rules, messages and audit rows are the same wherever a user is made or changed.

Who manages whom: a programme-wide administrator (an admin with no area rows) manages everyone; an admin given
provinces manages only users whose every area row lies inside those provinces, grants only areas inside them,
and never makes a programme-wide administrator. Users outside are "not found", as in every other list.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Final

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from merchants import models, passwords, roles
from merchants.errors import DomainError, Duplicate, EditConflict, Forbidden, InvalidField, NotFound
from merchants.identity import search_key
from merchants.models import ApiToken, Commune, Market, PasswordLink, Province, User, UserScope
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit, sessions

MIN_PASSWORD: Final = 8
MAX_PASSWORD: Final = 128  # argon2 takes any length; a cap keeps a huge form field from costing a worker
COMMON_PASSWORDS: Final = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
USERNAME_MAX: Final = User.__table__.c.username.type.length
FULL_NAME_MAX: Final = User.__table__.c.full_name.type.length
LABEL_MAX: Final = ApiToken.__table__.c.label.type.length
DEFAULT_LINK_HOURS: Final = 72
MAX_LINK_HOURS: Final = 24 * 30
MAX_TOKEN_DAYS: Final = 3650
LAST_USED_EVERY: Final = timedelta(minutes=1)  # a token in use writes its last-use time at most once a minute
MAX_URL_TOKEN: Final = 100  # secrets.token_urlsafe(32) is 43 characters; anything much longer is not ours
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._]*")
_CODE_SPLIT = re.compile(r"[,;\s]+")
LEVELS: Final = ("provinces", "communes", "markets")
_WIDTH: Final = {"provinces": 2, "communes": 5}  # official codes have fixed widths: '6994' typed in Excel is 06994


class PasswordRefused(InvalidField):
    """A password the rule refuses; ``code`` and ``values`` let each edge say it in the user's language."""

    def __init__(self, code: str, message: str, **values: object) -> None:
        super().__init__("password", message, **values)
        self.code = code
        self.values = values


class LinkGone(DomainError):
    """A set-password link that was ours but can no longer be used: ``reason`` is used, expired or disabled."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="link")
        self.reason = reason


# --- the password rule ---------------------------------------------------------------------------------------


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords, lowercase, read once per process."""
    return frozenset(line.strip() for line in COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines() if line.strip())


def check_password(password: str, *, username: str = "") -> None:
    """The one password rule for forms, links, the CLI and self-service; raises ``PasswordRefused``."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise PasswordRefused(
            "too_short",
            "Mật khẩu phải có ít nhất %(count)s ký tự.",
            count=MIN_PASSWORD,
        )
    if len(password) > MAX_PASSWORD:
        raise PasswordRefused("too_long", "Mật khẩu dài tối đa %(count)s ký tự.", count=MAX_PASSWORD)
    if password.lower() in common_passwords():
        raise PasswordRefused("common", "Mật khẩu này quá phổ biến nên rất dễ bị đoán. Hãy chọn mật khẩu khác.")
    if username and password.lower() == username.strip().lower():
        raise PasswordRefused("username", "Mật khẩu không được trùng với tên đăng nhập.")


def has_password(user: User) -> bool:
    """False for a user created without one, until they use their set-password link."""
    return passwords.is_usable(user.password_hash)


# --- areas a user serves, as official codes --------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Areas by official code: provinces ('22'), communes ('06994') and markets ('CAIRONG')."""

    provinces: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()

    @classmethod
    def of(cls, provinces: Iterable[str] = (), communes: Iterable[str] = (), markets: Iterable[str] = ()) -> Scope:
        """Codes cleaned (stripped, blanks and repeats dropped); a text may hold several: '06994, 06985'."""
        return cls(*(_codes(texts) for texts in (provinces, communes, markets)))

    @property
    def empty(self) -> bool:
        return not (self.provinces or self.communes or self.markets)

    def as_dict(self) -> dict[str, list[str]]:
        """Sorted codes per level: what audit rows store and what an import compares."""
        return {level: sorted(getattr(self, level)) for level in LEVELS}


def _codes(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for text in texts for c in split_codes(text)))


def split_codes(text: str) -> list[str]:
    """'06994, 06985;CAIRONG' → ['06994', '06985', 'CAIRONG']."""
    return [c for c in _CODE_SPLIT.split(text or "") if c]


@dataclass(frozen=True)
class ScopeItem:
    """One area row as pages show it, with the province it lies in (which decides who may manage it)."""

    level: str
    id: int
    code: str
    name: str
    province_id: int

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


def _padded(level: str, code: str) -> str:
    width = _WIDTH.get(level)
    return code.zfill(width) if width and code.isdigit() and len(code) < width else code


def _lookup(session: Session, level: str, code: str) -> ScopeItem | None:
    code = _padded(level, code.strip()).upper()
    if level == "provinces":
        stmt = select(Province.id, Province.code, Province.name, Province.id).where(func.upper(Province.code) == code)
    elif level == "communes":
        stmt = select(Commune.id, Commune.code, Commune.name, Commune.province_id).where(
            func.upper(Commune.code) == code
        )
    else:
        stmt = (
            select(Market.id, Market.code, Market.name, Commune.province_id)
            .join(Commune, Commune.id == Market.commune_id)
            .where(func.upper(Market.code) == code)
        )
    row = session.exec(stmt).first()
    return ScopeItem(level, *row) if row else None


# Worded as the areas and markets services word them, so one translated template serves every page.
_UNKNOWN_AREA: Final = {
    "provinces": "Không có tỉnh/thành phố mã '%(code)s'.",
    "communes": "Không có xã/phường mã '%(code)s' trong danh sách địa bàn.",
    "markets": "Không có chợ mã '%(code)s'.",
}


def resolve_scope(session: Session, scope: Scope) -> tuple[ScopeItem, ...]:
    """Each code's area; an unknown code is refused under its own field, naming it."""
    items = []
    for level in LEVELS:
        for code in getattr(scope, level):
            item = _lookup(session, level, code)
            if item is None:
                raise NotFound(_UNKNOWN_AREA[level] % {"code": code}, field=level)
            items.append(item)
    return tuple(dict.fromkeys(items))


def scope_of(items: Iterable[ScopeItem]) -> Scope:
    """The canonical codes of resolved areas (as stored), to compare and to audit."""
    items = list(items)
    return Scope(*(tuple(sorted(i.code for i in items if i.level == level)) for level in LEVELS))


def scope_items(session: Session, user_ids: Iterable[int] | None = None) -> dict[int, list[ScopeItem]]:
    """The areas of these users (all users when None), by user id, in code order."""
    ids = None if user_ids is None else list(user_ids)
    stmts = [
        (
            "provinces",
            select(UserScope.user_id, Province.id, Province.code, Province.name, Province.id).join(
                Province, Province.id == UserScope.province_id
            ),
        ),
        (
            "communes",
            select(UserScope.user_id, Commune.id, Commune.code, Commune.name, Commune.province_id).join(
                Commune, Commune.id == UserScope.commune_id
            ),
        ),
        (
            "markets",
            select(UserScope.user_id, Market.id, Market.code, Market.name, Commune.province_id)
            .join(Market, Market.id == UserScope.market_id)
            .join(Commune, Commune.id == Market.commune_id),
        ),
    ]
    out: dict[int, list[ScopeItem]] = {}
    for level, stmt in stmts:
        if ids is not None:
            stmt = stmt.where(UserScope.user_id.in_(ids))
        for user_id, *area in session.exec(stmt):
            out.setdefault(user_id, []).append(ScopeItem(level, *area))
    for items in out.values():
        items.sort(key=lambda i: (LEVELS.index(i.level), i.code))
    return out


# --- who may manage whom ---------------------------------------------------------------------------------------


def require_manager(actor: Viewer) -> None:
    if not actor.can("users"):
        raise Forbidden("Vai trò của bạn không được phép thực hiện thao tác này.")


def manages(actor: Viewer, items: Iterable[ScopeItem]) -> bool:
    """Whether the actor manages a user with these areas: each must lie in one of the actor's provinces."""
    if actor.sees_everything:
        return True
    items = list(items)
    return bool(items) and all(i.province_id in actor.province_ids for i in items)


def check_grant(actor: Viewer, role: str, items: tuple[ScopeItem, ...]) -> None:
    """The role and areas a user is given: a scope is needed below admin, and only inside the actor's provinces."""
    if role not in roles.ROLES:
        raise InvalidField("role", f"Vai trò '{role}' không tồn tại; chọn một trong: {', '.join(roles.ROLES)}.")
    if role != roles.ADMIN and not items:
        raise InvalidField("scope", "Người dùng không phải quản trị cần ít nhất một tỉnh, xã/phường hoặc chợ.")
    if actor.sees_everything:
        return
    if not items:
        raise Forbidden(
            "Chỉ quản trị toàn chương trình được tạo quản trị toàn chương trình; "
            "hãy giao cho quản trị này tỉnh của bạn.",
            field="role",
        )
    outside = next((i for i in items if i.province_id not in actor.province_ids), None)
    if outside is not None:
        where = f"'{outside.code}' ({outside.name})"
        raise Forbidden(
            "Bạn chỉ được giao địa bàn trong tỉnh mình quản lý; %(where)s nằm ngoài.", field=outside.level, where=where
        )


def _find(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == (username or "").strip().lower())).first()


def _managed(session: Session, actor: Viewer, username: str) -> tuple[User, list[ScopeItem]]:
    """The user, if the actor manages them; anybody else is 'not found', as elsewhere outside one's areas."""
    require_manager(actor)
    user = _find(session, username)
    items = scope_items(session, [user.id]).get(user.id, []) if user else []
    if user is None or not manages(actor, items):
        raise NotFound("Không có người dùng '%(username)s'.", username=username)
    return user, items


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
    def scope(self) -> Scope:
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
    scope: Scope = field(default_factory=Scope)
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
        check_password(new.password, username=username)
    items = resolve_scope(session, new.scope)
    if actor is not None:
        require_manager(actor)
        check_grant(actor, new.role, items)
    else:
        check_grant(SYSTEM, new.role, items)
    if _find(session, username) is not None:
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
    new = NewUser(username, full_name, role, Scope.of(province_codes, commune_codes, market_codes), password, locale)
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
    scope: Scope,
    expected_version: int,
    source_ip: str | None = None,
) -> User:
    """Change a user's name, role and areas; a stale form is an EditConflict, never an overwrite."""
    user, old_items = _managed(session, actor, username)
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
    user, _items = _managed(session, actor, username)
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


# --- passwords -------------------------------------------------------------------------------------------------


def current_time() -> datetime:
    """The time rules compare against; read through ``models`` so a test can freeze it in one place."""
    return models.utcnow()


def _now(now: datetime | None) -> datetime:
    return now or current_time()


def _aware(value: datetime) -> datetime:
    """SQLite hands stored UTC times back without their zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _store_password(session: Session, user: User, password: str) -> None:
    user.password_hash = passwords.hash_password(password)
    # A new password ends every session opened with the old one; the view then opens a fresh one for the
    # browser that changed it (``auth.start_session``), so only that browser stays signed in.
    sessions.end_user_sessions(session, user.id, reason=sessions.PASSWORD)
    session.add(user)


def reset_password(
    session: Session, username: str, password: str, *, actor: Viewer = SYSTEM, source_ip: str | None = None
) -> User:
    """Set a password typed at the command line (the pages only hand out links) and end existing sessions."""
    user, _items = _managed(session, actor, username)
    check_password(password, username=user.username)
    _store_password(session, user, password)
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
    check_password(new, username=user.username)
    if new == current:
        raise PasswordRefused("same", "Mật khẩu mới phải khác mật khẩu hiện tại.")
    _store_password(session, user, new)
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
    """The active user with these credentials, or None; rehashes when argon2 parameters change."""
    user = _find(session, username)
    if not passwords.verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.add(user)
        session.commit()
    return user


def set_locale(session: Session, user: User, locale: str) -> None:
    if locale not in ("vi", "en"):
        raise InvalidField("locale", "Ngôn ngữ phải là 'vi' hoặc 'en'.")
    user.locale = locale
    session.add(user)
    session.commit()


# --- set-password links ----------------------------------------------------------------------------------------


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


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    now = _now(now)
    for older in session.exec(
        select(PasswordLink).where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
    ):
        if _aware(older.expires_at) > now:
            older.expires_at = now
            session.add(older)
    token = secrets.token_urlsafe(32)
    row = PasswordLink(
        user_id=user.id,
        token_hash=token_digest(token),
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
    user, _items = _managed(session, actor, username)
    link = issue_link(session, actor, user, hours=hours, now=now, source_ip=source_ip)
    session.commit()
    return link


def _link(session: Session, token: str, now: datetime) -> tuple[PasswordLink, User]:
    row = None
    if token and len(token) <= MAX_URL_TOKEN:
        row = session.exec(select(PasswordLink).where(PasswordLink.token_hash == token_digest(token))).first()
    if row is None:
        raise NotFound("Liên kết đặt mật khẩu không đúng hoặc không tồn tại.", field="link")
    user = session.get(User, row.user_id)
    if row.used_at is not None:
        raise LinkGone("used", "Liên kết này đã được dùng để đặt mật khẩu.")
    if _aware(row.expires_at) <= now:
        raise LinkGone("expired", "Liên kết này đã hết hạn hoặc đã được thay bằng liên kết mới hơn.")
    if user is None or not user.active:
        raise LinkGone("disabled", "Tài khoản của liên kết này đang bị khóa.")
    return row, user


def check_link(session: Session, token: str, *, now: datetime | None = None) -> LinkInfo:
    """Whose link this is, if it can still be used: NotFound (not ours) or LinkGone (used, expired, disabled)."""
    row, user = _link(session, token, _now(now))
    return LinkInfo(row.id, user.username, user.full_name, row.expires_at)


def set_password_from_link(
    session: Session, token: str, password: str, *, now: datetime | None = None, source_ip: str | None = None
) -> User:
    """Use a link once: the password is checked, the link claimed (a second use loses the race), sessions end."""
    now = _now(now)
    row, user = _link(session, token, now)
    check_password(password, username=user.username)
    claimed = session.exec(
        update(PasswordLink).where(PasswordLink.id == row.id, PasswordLink.used_at.is_(None)).values(used_at=now)
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise LinkGone("used", "Liên kết này đã được dùng để đặt mật khẩu.")
    _store_password(session, user, password)
    audit.record(
        session,
        Viewer(user.id, user.role),
        "user.password_set",
        subject=f"user:{user.username}",
        source_ip=source_ip,
        via="link",
        link_id=row.id,
    )
    session.commit()
    return user


# --- API tokens ------------------------------------------------------------------------------------------------


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
        return self.expires_at is not None and _aware(self.expires_at) <= now


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
    user, _items = _managed(session, actor, username)
    label = " ".join((label or "").split())
    if not label or len(label) > LABEL_MAX:
        raise InvalidField(
            "label", "Hãy ghi mã truy cập dùng để làm gì (tối đa %(LABEL_MAX)s ký tự).", LABEL_MAX=LABEL_MAX
        )
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidField("days", "Số ngày hiệu lực phải từ 1 đến %(MAX_TOKEN_DAYS)s.", MAX_TOKEN_DAYS=MAX_TOKEN_DAYS)
    if not user.active:
        raise InvalidField("user", "Tài khoản đang bị khóa; không tạo được mã truy cập.")
    now = _now(now)
    token = "choqr_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        label=label,
        token_hash=token_digest(token),
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
    user, _items = _managed(session, actor, username)
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
    user, _items = _managed(session, actor, username)
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(
            "Người dùng '%(username)s' không có mã truy cập số %(token_id)s.",
            field="token",
            username=user.username,
            token_id=token_id,
        )
    _revoke(session, actor, user, row, _now(now), source_ip)


def revoke_api_token(session: Session, token: str) -> None:
    """Revoke a token known by its plain value (a leaked token someone reports)."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
    if row:
        _revoke(session, SYSTEM, session.get(User, row.user_id), row, _now(None), None)


def user_for_token(session: Session, token: str, *, now: datetime | None = None) -> User | None:
    """The active user of a live token (not revoked, not expired); notes its use at most once a minute."""
    row = session.exec(
        select(ApiToken).where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
    ).first()
    now = _now(now)
    if row is None or (row.expires_at is not None and _aware(row.expires_at) <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - _aware(row.last_used_at) >= LAST_USED_EVERY:
        session.exec(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        session.commit()
    return user
