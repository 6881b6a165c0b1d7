"""Read side of the registry for pages: lists, details and search, always filtered by the viewer's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from merchants import identity
from merchants.errors import NotFound
from merchants.models import (
    AuditLog,
    BankAccount,
    Commune,
    Household,
    IssuedQR,
    Market,
    Placard,
    Province,
    Stall,
    StatusEvent,
    User,
    stall_in_state,
)
from merchants.scope import Viewer, market_column_visible, market_condition
from merchants.services.audit import SYSTEM_NAME
from qr import get_bank


@dataclass(frozen=True)
class StallRow:
    stall_id: int
    code: str
    zone: str
    household_id: int | None
    owner_name: str
    goods: str
    bank: str
    account: str
    status: str
    needs_reprint: bool


@dataclass(frozen=True)
class MarketInfo:
    """A market checked to lie in ``viewer``'s areas, with its commune and province: the scope as an object.

    Services that read or change one market's data take this, never a bare market id, so the check cannot be
    forgotten and is made once per request; the only ways to get one are :func:`get_market` and its siblings."""

    market: Market
    commune: Commune
    province: Province
    viewer: Viewer

    @property
    def id(self) -> int:
        return self.market.id


def _market_in_scope(session: Session, viewer: Viewer, which: ColumnElement[bool]) -> MarketInfo | None:
    row = session.exec(
        select(Market, Commune, Province)
        .join(Commune, Commune.id == Market.commune_id)
        .join(Province, Province.id == Commune.province_id)
        .where(which, market_condition(viewer))
    ).first()
    return None if row is None else MarketInfo(*row, viewer)


def get_market(session: Session, viewer: Viewer, market_id: int) -> MarketInfo:
    """The market with this id if the viewer serves it; NotFound otherwise (never a hint it exists elsewhere)."""
    found = _market_in_scope(session, viewer, col(Market.id) == market_id)
    if found is None:
        raise NotFound("Không tìm thấy chợ.")
    return found


def get_market_by_code(session: Session, viewer: Viewer, code: str) -> MarketInfo:
    """The market with this code if the viewer serves it: one query, and the same NotFound for a code that exists
    in another area as for one that exists nowhere (the API and CLI name markets by code)."""
    found = _market_in_scope(session, viewer, col(Market.code) == code)
    if found is None:
        raise NotFound("Không tìm thấy chợ '%(code)s'.", code=code)
    return found


def _like(q: str) -> str:
    return "%" + identity.search_key(q).replace("%", "").replace("_", "") + "%"


def searches_personal_numbers(q: str, show_pii: bool) -> bool:
    """Whether ``q`` may be matched against the household search text, which holds phone, CCCD and account
    digits: a role that sees them masked must not recover them digit by digit through search ('0221' finds…,
    '02218' finds…), so for it a query with any digit matches stall codes only."""
    return show_pii or not any(ch.isdigit() for ch in q)


_STALL_COLUMNS = (
    col(Stall.id),
    Stall.code,
    Stall.zone,
    col(Household.id),
    Household.owner_name,
    Household.goods,
    Household.status,
    Household.needs_reprint,
    BankAccount.bin,
    BankAccount.account_number,
)


def _stall_select(market_id: int, q: str, status: str, show_pii: bool):  # noqa: ANN202 - a Select
    """The stall list's columns, not ORM objects: a page of 50 stalls built 150 model instances (~5 ms)."""
    stmt = (
        select(*_STALL_COLUMNS)
        .join(Household, col(Household.id) == Stall.household_id, isouter=True)
        .join(BankAccount, (BankAccount.household_id == Household.id) & BankAccount.active, isouter=True)
        .where(Stall.market_id == market_id)
    )
    if q.strip():
        code_matches = Stall.code.ilike(f"%{q.strip()}%")
        stmt = stmt.where(
            or_(Household.search_text.like(_like(q)), code_matches)
            if searches_personal_numbers(q, show_pii)
            else code_matches
        )
    if status:
        stmt = stmt.where(Household.status == status)
    return stmt


def _stall_row(row: tuple, show_pii: bool) -> StallRow:  # type: ignore[type-arg]
    stall_id, code, zone, household_id, owner, goods, status, needs_reprint, bin_, account_number = row
    bank = get_bank(bin_) if bin_ else None
    account = "" if account_number is None else account_number if show_pii else identity.mask_tail(account_number)
    return StallRow(
        stall_id,
        code,
        zone,
        household_id,
        owner or "",
        goods or "",
        bank.short_name if bank else "",
        account,
        status or "",
        bool(needs_reprint),
    )


def stall_rows(
    session: Session, market: MarketInfo, *, q: str = "", show_pii: bool = False, status: str = ""
) -> list[StallRow]:
    """Every stall of a market with its household, bank and status; one query, masked unless allowed."""
    stmt = _stall_select(market.id, q, status, show_pii).order_by(Stall.zone, Stall.code)
    return [_stall_row(row, show_pii) for row in session.exec(stmt)]


def stall_page(
    session: Session,
    market: MarketInfo,
    *,
    q: str = "",
    show_pii: bool = False,
    status: str = "",
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[StallRow], int]:
    """One page of a market's stalls and how many match, both in SQL: the page costs the same at 2,000 stalls."""
    stmt = _stall_select(market.id, q, status, show_pii)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    page = stmt.order_by(Stall.zone, Stall.code).offset(offset).limit(limit)
    return [_stall_row(row, show_pii) for row in session.exec(page)], total


@dataclass(frozen=True)
class HouseholdView:
    household: Household
    market: MarketInfo
    stalls: list[Stall]
    account: BankAccount | None
    qr: IssuedQR | None
    placards: list[Placard]


def household_view(session: Session, viewer: Viewer, household_id: int) -> HouseholdView:
    h = session.exec(
        select(Household).where(Household.id == household_id, market_column_visible(viewer, Household.market_id))
    ).first()
    if h is None:
        raise NotFound("Không tìm thấy hộ kinh doanh.")
    stalls = list(session.exec(select(Stall).where(Stall.household_id == h.id).order_by(Stall.code)))
    acc = session.exec(select(BankAccount).where(BankAccount.household_id == h.id, BankAccount.active)).first()
    qr = session.exec(
        select(IssuedQR)
        .where(IssuedQR.household_id == h.id, IssuedQR.revoked_at.is_(None))
        .order_by(IssuedQR.id.desc())
    ).first()
    placards = list(session.exec(select(Placard).where(Placard.household_id == h.id).order_by(Placard.id.desc())))
    return HouseholdView(h, get_market(session, viewer, h.market_id), stalls, acc, qr, placards)


def stall_by_code(session: Session, market: MarketInfo, code: str) -> Stall:
    stall = session.exec(select(Stall).where(Stall.market_id == market.id, Stall.code == code)).first()
    if stall is None:
        raise NotFound("Không có sạp '%(code)s' trong chợ này.", code=code)
    return stall


FreeStall = tuple[int, str, str]  # (id, code, zone): plain rows, not ORM objects
STALL_CHOICES = 50  # free stalls the register form lists at a time: a page like the market page's, flat in size


def _free(market: MarketInfo) -> tuple[ColumnElement[bool], ...]:
    """A stall the register form may offer: this market's and free (``models.stall_in_state``)."""
    return (col(Stall.market_id) == market.id, stall_in_state("free"))


def _free_rows(session: Session, stmt: Any) -> list[FreeStall]:
    return [(sid, code, zone) for sid, code, zone in session.exec(stmt) if sid]


def free_stalls(
    session: Session, market: MarketInfo, *, ids: Sequence[int] = (), codes: Sequence[str] = ()
) -> list[FreeStall]:
    """Those of ``ids`` or ``codes`` (at most 100 of each) that are still free stalls of the market: the stalls a
    form already names, never the whole market's list."""
    which = [col(Stall.id).in_(ids[:100])] if ids else []
    which += [col(Stall.code).in_(codes[:100])] if codes else []
    if not which:
        return []
    stmt = select(col(Stall.id), Stall.code, Stall.zone).where(*_free(market), or_(*which))
    return _free_rows(session, stmt.order_by(Stall.zone, Stall.code))


@dataclass(frozen=True)
class FreeZone:
    name: str  # "" for stalls given no zone
    free: int


@dataclass(frozen=True)
class StallChoice:
    """What the register form offers: the zones that have free stalls, the zone listed, the stalls already chosen
    (first) followed by one page of that zone's free stalls in code order, and the code the next page starts after
    when the zone has more."""

    zones: list[FreeZone]
    zone: str | None  # None: the market has no free stall
    stalls: list[FreeStall]
    more_after: str | None

    @property
    def free_in_zone(self) -> int:
        return next((z.free for z in self.zones if z.name == self.zone), 0)


def free_zones(session: Session, market: MarketInfo) -> list[FreeZone]:
    """The market's zones that have a free stall, with how many, by name."""
    zone = col(Stall.zone)
    stmt = select(zone, func.count()).where(*_free(market)).group_by(zone).order_by(zone)
    return [FreeZone(zone, n) for zone, n in session.exec(stmt)]


def stall_choice(
    session: Session,
    market: MarketInfo,
    *,
    chosen: Sequence[int] = (),
    named: str = "",
    zone: str | None = None,
    after: str = "",
    limit: int = STALL_CHOICES,
) -> StallChoice:
    """The register form's stall choice in the same two or three small queries at 40 stalls or 2,000 (it listed
    every free stall: 1,000 options, 60 KB at 2,000 stalls). ``chosen`` ids and the ``named`` code (the market
    page's link to a stall) stay offered while free; the zone listed is ``zone`` if it has free stalls, else the
    chosen stall's, else the first; its page starts after the code ``after``."""
    picked = free_stalls(session, market, ids=chosen, codes=[named] if named else ())
    zones = free_zones(session, market)
    if zone not in {z.name for z in zones}:
        zone = picked[0][2] if picked else zones[0].name if zones else None
    page: list[FreeStall] = []
    if zone is not None:
        stmt = select(col(Stall.id), Stall.code, Stall.zone).where(*_free(market), col(Stall.zone) == zone)
        if after:
            stmt = stmt.where(col(Stall.code) > after)
        page = _free_rows(session, stmt.order_by(col(Stall.code)).limit(limit + 1))
    more_after = page[limit - 1][1] if len(page) > limit else None
    seen = {sid for sid, _, _ in picked}
    return StallChoice(zones, zone, picked + [row for row in page[:limit] if row[0] not in seen], more_after)


@dataclass(frozen=True)
class HistoryEntry:
    at: object
    who: str
    action: str
    detail: str


def household_history(session: Session, hv: HouseholdView) -> tuple[list[HistoryEntry], list[BankAccount]]:
    """Audit rows, status moves and every account the household ever had (newest first), of a household the
    viewer was shown (``hv`` comes from :func:`household_view`, the scope check)."""
    household_id = hv.household.id
    audits = list(session.exec(select(AuditLog).where(AuditLog.household_id == household_id)))
    events = list(session.exec(select(StatusEvent).where(StatusEvent.household_id == household_id)))
    who = {r.user_id for r in audits + events if r.user_id}  # only the people in this history, not every user
    names = dict(session.exec(select(User.id, User.full_name).where(User.id.in_(who))).all()) if who else {}
    entries = [HistoryEntry(a.at, names.get(a.user_id, SYSTEM_NAME), a.action, a.detail) for a in audits]
    entries += [HistoryEntry(e.at, names.get(e.user_id, SYSTEM_NAME), "status", e.status) for e in events]
    entries.sort(key=lambda e: e.at, reverse=True)
    accounts = list(
        session.exec(
            select(BankAccount).where(BankAccount.household_id == household_id).order_by(BankAccount.id.desc())
        )
    )
    return entries, accounts


@dataclass(frozen=True)
class SearchHit:
    household_id: int
    owner_name: str
    market_name: str
    stalls: str
    phone: str


def search_households(
    session: Session, viewer: Viewer, q: str, *, limit: int = 8, show_pii: bool = False
) -> list[SearchHit]:
    """Households matching name, phone, CCCD or account number without diacritics: 'dao' finds 'Đào'.

    Without ``show_pii`` only names and goods are searched and phones come back masked.
    """
    key = identity.search_key(q)
    if len(key.replace(" ", "")) < 2 or not searches_personal_numbers(q, show_pii):
        return []
    stmt = (
        select(Household, Market.name)
        .join(Market, Market.id == Household.market_id)
        .where(Household.search_text.like(_like(q)), market_column_visible(viewer, Household.market_id))
        .order_by(Household.owner_name)
        .limit(limit)
    )
    hits = []
    rows = list(session.exec(stmt))
    ids = [h.id for h, _ in rows]
    codes: dict[int, list[str]] = {}
    for hid, code in session.exec(select(Stall.household_id, Stall.code).where(Stall.household_id.in_(ids))):
        codes.setdefault(hid, []).append(code)
    for h, market_name in rows:
        hits.append(
            SearchHit(
                h.id,
                h.owner_name,
                market_name,
                ", ".join(sorted(codes.get(h.id, []))),
                identity.format_phone(h.phone) if show_pii else identity.mask_tail(h.phone),
            )
        )
    return hits
