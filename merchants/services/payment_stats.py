"""Are the placards taking money? Payment figures per household and "active" households per area.

Active = households that received at least one credit in the last 30 days (today and the 29 Vietnam days before),
over households with a QR, floored like coverage and never above it: "212/356 hộ đang dùng (59%)" is a
``Coverage(212, 356)`` with its unit. An area's count sums ``payment_market_day`` (households by the day of their
last credit, per market), a market's zones count its ``household_payment`` rows, the trend reads
``payment_market_week``: never a month of events, so a country's report stays as fast as coverage.

A placard that stopped receiving while its neighbours (the same market and zone) still receive is flagged for a
verification visit: a sticker pasted over it sends the money elsewhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, func, true
from sqlmodel import Session, col, select

from merchants import identity
from merchants import status as st
from merchants.clock import VN_TZ, vn_date
from merchants.coverage import Coverage
from merchants.errors import NotFound
from merchants.models import Commune, Household, Market, Stall
from merchants.payment_models import HouseholdPayment, PaymentEvent, PaymentMarketDay, PaymentMarketWeek
from merchants.scope import Viewer, market_column_visible, market_condition

ACTIVE_DAYS: Final = 30
STOPPED_DAYS: Final = 7  # no credit for a week at a placard that used to receive...
NEIGHBOURS_MIN: Final = 3  # ...while at least this many neighbours with a QR...
NEIGHBOURS_SHARE: Final = 0.5  # ...and more than half of them received in that week
ACTIVE_UNIT: Final = "hộ đang dùng"
COVERED_IN_ORDER: Final = [s for s in st.ORDER if st.is_covered(s)]


def first_active_day(now: datetime, days: int = ACTIVE_DAYS) -> date:
    """The first Vietnam day of the window: today and the 29 days before it are "the last 30 days"."""
    return vn_date(now) - timedelta(days=days - 1)


def active_since(now: datetime, days: int = ACTIVE_DAYS) -> datetime:
    """The window's start as a UTC time: midnight in Vietnam of its first day."""
    return datetime.combine(first_active_day(now, days), time(0), VN_TZ).astimezone(UTC)


def active_figure(active: int, with_qr: int) -> Coverage:
    """Active over households with a QR, floored as coverage is (never more active than with a QR)."""
    return Coverage(min(active, with_qr), with_qr)


def active_label(figure: Coverage) -> str:
    return figure.label(ACTIVE_UNIT)


# --- per household -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdPayments:
    """What the household page shows: first and last credit, count and amount in the last 30 days."""

    first_at: datetime | None
    last_at: datetime | None
    count_30d: int
    amount_30d: int
    receiving: bool  # at least one credit in the last 30 days: "đang nhận thanh toán"


def household_payments(session: Session, household_id: int, *, now: datetime) -> HouseholdPayments:
    summary = session.get(HouseholdPayment, household_id)
    since = active_since(now)
    n, amount = session.exec(
        select(func.count(), func.coalesce(func.sum(PaymentEvent.amount), 0)).where(
            col(PaymentEvent.household_id) == household_id, col(PaymentEvent.occurred_at) >= since
        )
    ).one()
    return HouseholdPayments(
        summary.first_at if summary else None,
        summary.last_at if summary else None,
        int(n),
        int(amount),
        bool(n),
    )


# --- per area ----------------------------------------------------------------------------------------------


def _covered() -> ColumnElement[bool]:
    covered = bindparam("covered_statuses", COVERED_IN_ORDER, expanding=True, literal_execute=True)
    return col(Household.active) & col(Household.status).in_(covered)


def active_counts(
    session: Session,
    key: ColumnElement,
    market_filter: ColumnElement[bool],
    *,
    now: datetime,
    joins: Callable[[ColumnElement], Iterable] = lambda _m: (),
) -> dict[object, int]:
    """Active households grouped by ``key``, a column of the tables ``joins`` gives ((table, on-clause) pairs built
    on the market id column it is handed), among the markets ``market_filter`` keeps (a condition on
    ``PaymentMarketDay.market_id``).

    Sums the households whose last credit fell in the window (``PaymentMarketDay``); the caller caps each figure
    at the area's households with a QR (``active_figure``).
    """
    day = PaymentMarketDay
    per_market = (
        select(day.market_id, func.sum(day.households).label("n"))
        .where(col(day.day) >= first_active_day(now), market_filter)
        .group_by(day.market_id)
        .subquery()
    )
    stmt = select(key, func.sum(per_market.c.n)).select_from(per_market)
    for table, on in joins(per_market.c.market_id):
        stmt = stmt.join(table, on)
    return {k: int(n) for k, n in session.exec(stmt.group_by(key)) if n}


def active_by_zone(session: Session, market_id: int, zone_of, *, now: datetime) -> dict[str, int]:  # noqa: ANN001
    """Active households of one market per zone (``zone_of``: a household id → zone subquery): the market's own
    rows of ``household_payment``, counted by the same window."""
    zone = func.coalesce(zone_of.c.zone, "")
    stmt = (
        select(zone, func.count())
        .select_from(HouseholdPayment)
        .join(zone_of, zone_of.c.household_id == HouseholdPayment.household_id, isouter=True)
        .where(col(HouseholdPayment.market_id) == market_id, col(HouseholdPayment.last_at) >= active_since(now))
        .group_by(zone)
    )
    return {z: int(n) for z, n in session.exec(stmt)}


def _market_and_commune(market_id: ColumnElement) -> tuple:
    return ((Market, Market.id == market_id), (Commune, Commune.id == Market.commune_id))


def active_by_area(
    session: Session, viewer: Viewer, key: Any, where: ColumnElement[bool] | None = None, *, now: datetime
) -> dict[int, int]:
    """Active households summed by ``key`` (``Commune.province_id``, ``Market.commune_id`` or ``Market.id``) over the
    markets the viewer serves, optionally narrowed by ``where`` on Market/Commune: the counterpart, for "active", of
    ``coverage_queries.status_counts_by_area`` (the API's coverage by area reads both)."""
    if where is None and viewer.sees_everything:
        markets: ColumnElement[bool] = true()
    else:
        ids = (
            select(Market.id)
            .join(Commune, col(Commune.id) == Market.commune_id)
            .where(market_condition(viewer), where if where is not None else true())
        )
        markets = col(PaymentMarketDay.market_id).in_(ids)
    found = active_counts(session, key, markets, now=now, joins=_market_and_commune)
    return {int(k): n for k, n in found.items()}  # type: ignore[call-overload]


def active_by_market(
    session: Session, viewer: Viewer, market_ids: list[int] | None = None, *, now: datetime
) -> dict[int, int]:
    """Active households per market the viewer serves (``choqr coverage --json``)."""
    cond = market_column_visible(viewer, PaymentMarketDay.market_id)
    if market_ids is not None:
        cond = cond & col(PaymentMarketDay.market_id).in_(market_ids)
    found = active_counts(session, Market.id, cond, now=now, joins=lambda m: ((Market, Market.id == m),))
    return {int(k): n for k, n in found.items()}  # type: ignore[call-overload]


@dataclass(frozen=True)
class ActivePoint:
    week: date
    households: int  # households that received at least once that week


def active_trend(
    session: Session, market_filter: ColumnElement[bool], *, today: date, weeks: int = 12
) -> tuple[ActivePoint, ...]:
    """Households receiving per week (Monday to Sunday, Vietnam), the last ``weeks`` weeks up to this one."""
    this_monday = today - timedelta(days=today.weekday())
    start = this_monday - timedelta(weeks=weeks - 1)
    stmt = (
        select(PaymentMarketWeek.week, func.sum(PaymentMarketWeek.households))
        .where(PaymentMarketWeek.week >= start, market_filter)
        .group_by(PaymentMarketWeek.week)
    )
    got = {w: int(n) for w, n in session.exec(stmt)}
    if not got:
        return ()
    return tuple(ActivePoint(start + timedelta(weeks=i), got.get(start + timedelta(weeks=i), 0)) for i in range(weeks))


# --- households to visit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitRow:
    household_id: int
    stalls: str
    owner_name: str
    zone: str
    last_at: datetime | None  # None: never received
    stopped: bool  # stopped while most neighbours receive: check the placard for a sticker pasted over


def _zones(session: Session, market_id: int) -> dict[int, tuple[str, str]]:
    """Each household's first stall (zone, codes) in the market."""
    stalls: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for hid, code, zone in session.exec(
        select(Stall.household_id, Stall.code, Stall.zone).where(
            col(Stall.market_id) == market_id, col(Stall.household_id).is_not(None)
        )
    ):
        stalls[hid].append((code, zone))
    return {h: (min(z for _c, z in s), ", ".join(sorted(c for c, _z in s))) for h, s in stalls.items()}


def to_visit(
    session: Session, viewer: Viewer, market_id: int, *, now: datetime, zone: str | None = None
) -> tuple[VisitRow, ...]:
    """Households of a market with a QR but no credit in 30 days, plus those flagged as stopped; by stall."""
    stmt = (
        select(Household.id, Household.owner_name, HouseholdPayment.last_at)
        .outerjoin(HouseholdPayment, col(HouseholdPayment.household_id) == Household.id)
        .where(Household.market_id == market_id, _covered(), market_column_visible(viewer, Household.market_id))
    )
    households = list(session.exec(stmt))
    if not households and zone is not None:
        raise NotFound("Chợ này không có khu/dãy đó.")
    zones = _zones(session, market_id)
    recent = now - timedelta(days=STOPPED_DAYS)
    by_zone: dict[str, list[bool]] = defaultdict(list)
    for hid, _name, last in households:
        by_zone[zones.get(hid, ("", ""))[0]].append(last is not None and _aware(last) >= recent)
    since = active_since(now)
    rows = []
    for hid, name, last in households:
        z, codes = zones.get(hid, ("", ""))
        if zone is not None and z != zone:
            continue
        last_aware = _aware(last) if last is not None else None
        received_recently = last_aware is not None and last_aware >= recent
        peers = by_zone[z]
        others_recent = sum(peers) - (1 if received_recently else 0)
        others = len(peers) - 1
        stopped = (
            last_aware is not None
            and not received_recently
            and others >= NEIGHBOURS_MIN
            and others_recent > others * NEIGHBOURS_SHARE
        )
        if last_aware is None or last_aware < since or stopped:
            rows.append(VisitRow(hid, codes, name, z, last_aware, stopped))
    rows.sort(key=lambda r: (not r.stopped, r.stalls == "", r.stalls, identity.search_key(r.owner_name)))
    return tuple(rows)


def stopped_flag(session: Session, viewer: Viewer, household_id: int, market_id: int, *, now: datetime) -> bool:
    """Whether this household's placard is flagged as stopped (for its page).

    Only a household that received before but not lately can be flagged, so the rest (nearly all) are answered
    from its own payment row; the neighbours are compared (``to_visit``, the one rule) only for those."""
    last = session.exec(
        select(HouseholdPayment.last_at).where(col(HouseholdPayment.household_id) == household_id)
    ).first()
    if last is None or _aware(last) >= now - timedelta(days=STOPPED_DAYS):
        return False
    return any(r.household_id == household_id and r.stopped for r in to_visit(session, viewer, market_id, now=now))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
