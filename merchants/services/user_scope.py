"""Who may manage whom: the areas a user is granted, as official codes, and the checks on granting them.

A programme-wide administrator (an admin with no area rows) manages everyone; an admin given provinces manages
only users whose every area row lies inside those provinces, grants only areas inside them, and never makes a
programme-wide administrator. Users outside are "not found", as in every other list. Payment sources are granted
areas the same way (``services.payment_sources``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func
from sqlmodel import Session, col, select

from merchants import roles
from merchants.errors import Forbidden, InvalidField, NotFound
from merchants.models import Commune, Market, Province, User, UserScope
from merchants.scope import Viewer

_CODE_SPLIT = re.compile(r"[,;\s]+")
LEVELS: Final = ("provinces", "communes", "markets")
_WIDTH: Final = {"provinces": 2, "communes": 5}  # official codes have fixed widths: '6994' typed in Excel is 06994


@dataclass(frozen=True)
class AreaGrant:
    """Areas by official code: provinces ('22'), communes ('06994') and markets ('CAIRONG')."""

    provinces: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()

    @classmethod
    def of(cls, provinces: Iterable[str] = (), communes: Iterable[str] = (), markets: Iterable[str] = ()) -> AreaGrant:
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


def resolve_scope(session: Session, grant: AreaGrant) -> tuple[ScopeItem, ...]:
    """Each code's area; an unknown code is refused under its own field, naming it."""
    items = []
    for level in LEVELS:
        for code in getattr(grant, level):
            item = _lookup(session, level, code)
            if item is None:
                raise NotFound(_UNKNOWN_AREA[level] % {"code": code}, field=level)
            items.append(item)
    return tuple(dict.fromkeys(items))


def scope_of(items: Iterable[ScopeItem]) -> AreaGrant:
    """The canonical codes of resolved areas (as stored), to compare and to audit."""
    items = list(items)
    return AreaGrant(*(tuple(sorted(i.code for i in items if i.level == level)) for level in LEVELS))


def area_items(
    session: Session, table: Any, owner: Any, owner_ids: Iterable[int] | None = None
) -> dict[int, list[ScopeItem]]:
    """The areas granted in a grant table (``UserScope`` by ``user_id``, ``PaymentSourceScope`` by ``source_id``:
    one row per area, exactly one of province, commune or market set), by owner id, in level and code order."""
    ids = None if owner_ids is None else list(owner_ids)
    stmts = [
        (
            "provinces",
            select(owner, Province.id, Province.code, Province.name, Province.id).join(
                Province, col(Province.id) == table.province_id
            ),
        ),
        (
            "communes",
            select(owner, Commune.id, Commune.code, Commune.name, Commune.province_id).join(
                Commune, col(Commune.id) == table.commune_id
            ),
        ),
        (
            "markets",
            select(owner, Market.id, Market.code, Market.name, Commune.province_id)
            .join(Market, col(Market.id) == table.market_id)
            .join(Commune, col(Commune.id) == Market.commune_id),
        ),
    ]
    out: dict[int, list[ScopeItem]] = {}
    for level, stmt in stmts:
        if ids is not None:
            stmt = stmt.where(col(owner).in_(ids))
        for owner_id, *area in session.exec(stmt):
            out.setdefault(owner_id, []).append(ScopeItem(level, *area))
    for items in out.values():
        items.sort(key=lambda i: (LEVELS.index(i.level), i.code))
    return out


def scope_items(session: Session, user_ids: Iterable[int] | None = None) -> dict[int, list[ScopeItem]]:
    """The areas of these users (all users when None), by user id, in code order."""
    return area_items(session, UserScope, UserScope.user_id, user_ids)


# --- who may manage whom ---------------------------------------------------------------------------------------


def require_manager(actor: Viewer) -> None:
    """Only roles with the ``users`` capability manage users (and payment sources)."""
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
        raise InvalidField(
            "role",
            "Vai trò '%(role)s' không tồn tại; chọn một trong: %(roles)s.",
            role=role,
            roles=", ".join(roles.ROLES),
        )
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


def find_user(session: Session, username: str) -> User | None:
    """The user of a username as typed (surrounding spaces and capitals do not matter), or None."""
    return session.exec(select(User).where(User.username == (username or "").strip().lower())).first()


def managed_user(session: Session, actor: Viewer, username: str) -> tuple[User, list[ScopeItem]]:
    """The user, if the actor manages them; anybody else is 'not found', as elsewhere outside one's areas."""
    require_manager(actor)
    user = find_user(session, username)
    items = scope_items(session, [user.id]).get(user.id, []) if user else []
    if user is None or not manages(actor, items):
        raise NotFound("Không có người dùng '%(username)s'.", username=username)
    return user, items
