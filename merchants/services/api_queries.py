"""Read side of the JSON API: coverage by area, households page by page, stalls and their payloads.

Everything is filtered by the viewer's scope; a market outside it answers exactly like one that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, true
from sqlmodel import Session, select

from merchants import identity
from merchants.coverage import Coverage, Funnel, coverage_from_status_counts, funnel_from_status_counts
from merchants.models import BankAccount, Commune, Household, IssuedQR, Market, Province, Stall, utcnow
from merchants.scope import Viewer, market_column_visible, market_condition
from merchants.services import payment_stats
from merchants.services.coverage_queries import status_counts_by_area
from merchants.services.registry_queries import get_market_by_code, stall_by_code
from qr import get_bank

LEVELS = ("provinces", "communes", "markets")


@dataclass(frozen=True)
class AreaCoverage:
    code: str
    name: str
    parents: dict[str, str]  # e.g. {"province": "22", "commune": "VANDON"} for a market
    markets: int
    coverage: Coverage
    funnel: Funnel
    active: Coverage  # households with a credit in 30 days over households with a QR (``payment_stats``)


_ROLLUP_KEY = {"provinces": Commune.province_id, "communes": Market.commune_id, "markets": Market.id}


def coverage_by_area(
    session: Session,
    viewer: Viewer,
    level: str,
    *,
    province: str = "",
    commune: str = "",
    now: datetime | None = None,
) -> list[AreaCoverage]:
    """Coverage of each province, commune or market the viewer serves, summed over visible markets only, with its
    households actively receiving payments (as of ``now``, the current time by default).

    The figures come from ``coverage_queries.status_counts_by_area`` and ``payment_stats.active_by_area``, the
    roll-ups the reports use too; here only the areas are listed, with their names, parents and how many visible
    markets each has."""
    where = true()
    if province:
        where = and_(
            where, Commune.province_id == select(Province.id).where(Province.code == province).scalar_subquery()
        )
    if commune:
        where = and_(where, Commune.code == commune)
    stmt = (
        select(
            Market.id,
            Market.code,
            Market.name,
            Commune.id,
            Commune.code,
            Commune.name,
            Province.id,
            Province.code,
            Province.name,
        )
        .join(Commune, Commune.id == Market.commune_id)
        .join(Province, Province.id == Commune.province_id)
        .where(market_condition(viewer), where)
        .order_by(Province.name, Commune.name, Market.name)
    )
    areas: dict[int, tuple[str, str, dict[str, str]]] = {}
    markets: dict[int, int] = defaultdict(int)
    for mid, m_code, m_name, cid, c_code, c_name, pid, p_code, p_name in session.exec(stmt):
        area_id, code, name, parents = {
            "provinces": (pid, p_code, p_name, {}),
            "communes": (cid, c_code, c_name, {"province": p_code}),
            "markets": (mid, m_code, m_name, {"province": p_code, "commune": c_code}),
        }[level]
        areas.setdefault(area_id, (code, name, parents))
        markets[area_id] += 1
    counts = status_counts_by_area(session, viewer, _ROLLUP_KEY[level], where)
    narrowed = where if province or commune else None
    active = payment_stats.active_by_area(session, viewer, _ROLLUP_KEY[level], narrowed, now=now or utcnow())
    out = []
    for area_id, (code, name, parents) in areas.items():
        cov = coverage_from_status_counts(counts.get(area_id, {}))
        out.append(
            AreaCoverage(
                code,
                name,
                parents,
                markets[area_id],
                cov,
                funnel_from_status_counts(counts.get(area_id, {})),
                payment_stats.active_figure(active.get(area_id, 0), cov.covered),
            )
        )
    return out


@dataclass(frozen=True)
class AccountView:
    bin: str
    bank: str
    account_number: str
    holder_name: str


@dataclass(frozen=True)
class HouseholdItem:
    id: int
    market: str
    owner_name: str
    phone: str | None
    citizen_id: str | None
    goods: str
    status: str
    active: bool
    needs_reprint: bool
    qr_issued_on: date | None
    stalls: list[str]
    account: AccountView | None


def _account_view(acc: BankAccount | None, show_pii: bool) -> AccountView | None:
    if acc is None:
        return None
    bank = get_bank(acc.bin)
    number = acc.account_number if show_pii else identity.mask_tail(acc.account_number)
    return AccountView(acc.bin, bank.short_name if bank else "", number, acc.holder_name)


def households_page(
    session: Session,
    viewer: Viewer,
    *,
    market: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 50,
    show_pii: bool = False,
) -> tuple[list[HouseholdItem], int]:
    """One page of households (by id) and the total; phone, CCCD and account numbers masked unless ``show_pii``.

    No payload: a list of them would be every account number in the viewer's scope in one call.
    """
    where = [market_column_visible(viewer, Household.market_id)]
    if market:
        where.append(Household.market_id == get_market_by_code(session, viewer, market).id)
    if status:
        where.append(Household.status == status)
    total = session.exec(select(func.count()).select_from(Household).where(*where)).one()
    rows = list(
        session.exec(
            select(Household, Market.code)
            .join(Market, Market.id == Household.market_id)
            .where(*where)
            .order_by(Household.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    ids = [h.id for h, _ in rows]
    accounts = {
        a.household_id: a
        for a in session.exec(select(BankAccount).where(BankAccount.household_id.in_(ids), BankAccount.active))
    }
    stalls: dict[int, list[str]] = defaultdict(list)
    for hid, code in session.exec(
        select(Stall.household_id, Stall.code).where(Stall.household_id.in_(ids)).order_by(Stall.code)
    ):
        stalls[hid].append(code)
    items = [
        HouseholdItem(
            h.id,
            code,
            h.owner_name,
            h.phone if show_pii else identity.mask_tail(h.phone) or None,
            h.citizen_id if show_pii else identity.mask_tail(h.citizen_id) or None,
            h.goods,
            h.status,
            h.active,
            h.needs_reprint,
            h.qr_issued_on,
            stalls[h.id],
            _account_view(accounts.get(h.id), show_pii),
        )
        for h, code in rows
    ]
    return items, total


@dataclass(frozen=True)
class StallPayload:
    market: str
    stall: str
    zone: str
    household_id: int | None
    owner_name: str | None
    status: str | None
    account: AccountView | None
    payload: str | None
    issued_at: datetime | None


def stall_payload(
    session: Session, viewer: Viewer, market_code: str, stall_code: str, *, show_pii: bool = False
) -> StallPayload:
    """The VietQR payload printed for a stall: its household's current verified QR, if it has one."""
    info = get_market_by_code(session, viewer, market_code)
    market, stall = info.market, stall_by_code(session, info, stall_code)
    h = session.get(Household, stall.household_id) if stall.household_id else None
    acc = qr = None
    if h is not None:
        acc = session.exec(select(BankAccount).where(BankAccount.household_id == h.id, BankAccount.active)).first()
        qr = session.exec(
            select(IssuedQR)
            .where(IssuedQR.household_id == h.id, IssuedQR.revoked_at.is_(None))
            .order_by(IssuedQR.id.desc())
        ).first()
    return StallPayload(
        market.code,
        stall.code,
        stall.zone,
        h.id if h else None,
        h.owner_name if h else None,
        h.status if h else None,
        _account_view(acc, show_pii),
        qr.payload if qr else None,
        qr.issued_at if qr else None,
    )
