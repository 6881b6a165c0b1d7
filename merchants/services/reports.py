"""Coverage reports: country → province → commune → market → zone → the households still missing.

Every query is limited to the viewer's markets (``merchants.scope``) and every figure goes through
``merchants.coverage``. A page and its exports render the same ``Report``, so a spreadsheet holds what the
screen showed. Counts are grouped per market in SQL (an index-only scan of ix_household_market_status) and
rolled up to communes and provinces here, which keeps the country page fast without joins per household.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, func, true
from sqlmodel import Session, select

from merchants import identity
from merchants import status as st
from merchants.coverage import Coverage, Funnel, coverage_from_status_counts, funnel_from_status_counts
from merchants.errors import NotFound
from merchants.models import Commune, Household, Market, Province, Stall, utcnow
from merchants.payment_models import PaymentMarketDay, PaymentMarketWeek
from merchants.scope import Viewer, market_column_visible, market_condition
from merchants.services import payment_stats as ps
from merchants.services.coverage_queries import status_counts_by_area
from merchants.services.registry_queries import MarketInfo, get_market

CHILD = {"country": "province", "province": "commune", "commune": "market", "market": "zone"}
_CHILD_KEY = {"province": Commune.province_id, "commune": Market.commune_id, "market": Market.id}
COVERED_IN_ORDER = [s for s in st.ORDER if st.is_covered(s)]  # as written in migration 0002's partial index
NO_ZONE = "Chưa gắn khu"


@dataclass(frozen=True)
class Target:
    """The programme's goal: ``percent`` of active households covered by ``by`` (a date, or open-ended)."""

    percent: int
    by: date | None = None

    def households(self, total: int) -> int:
        """Fewest covered households whose floored percentage reaches the target."""
        return -(-total * self.percent // 100)

    def progress(self, coverage: Coverage, today: date) -> Progress:
        """How far an area is from the target: households short, weeks left, households needed per week."""
        short = max(self.households(coverage.total) - coverage.covered, 0)
        weeks = None if self.by is None else max((self.by - today).days, 0) // 7
        per_week = None if not weeks or not short else -(-short // weeks)
        return Progress(self, self.households(coverage.total), short, weeks, per_week)


@dataclass(frozen=True)
class Progress:
    target: Target
    households: int
    short: int
    weeks_left: int | None
    per_week: int | None


@dataclass(frozen=True)
class Crumb:
    level: str
    id: int | None
    name: str


@dataclass(frozen=True)
class AreaRow:
    """One line of a report table: a province, commune, market or zone with its figures."""

    level: str
    key: str
    code: str
    name: str
    coverage: Coverage
    funnel: Funnel
    active: Coverage = Coverage(0, 0)  # households with a credit in 30 days over households with a QR


@dataclass(frozen=True)
class TrendPoint:
    week: date
    added: int
    cumulative: int


@dataclass(frozen=True)
class Report:
    level: str
    id: int | None
    name: str
    crumbs: tuple[Crumb, ...]
    coverage: Coverage
    funnel: Funnel
    rows: tuple[AreaRow, ...]
    trend: tuple[TrendPoint, ...]
    partial: bool
    active: Coverage = Coverage(0, 0)
    active_trend: tuple[ps.ActivePoint, ...] = ()

    @property
    def child_level(self) -> str:
        return CHILD[self.level]


def weekly(day_counts: Mapping[date, int], today: date) -> tuple[TrendPoint, ...]:
    """Households first given a QR per week (weeks start on Monday) and the running total, up to ``today``."""
    if not day_counts:
        return ()
    monday = lambda d: d - timedelta(days=d.weekday())  # noqa: E731
    per_week = Counter()
    for day, n in day_counts.items():
        per_week[monday(day)] += n
    week, last, total, points = min(per_week), monday(max(today, max(day_counts))), 0, []
    while week <= last:
        total += per_week[week]
        points.append(TrendPoint(week, per_week[week], total))
        week += timedelta(days=7)
    return tuple(points)


def _area_condition(level: str, area_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause on Market joined to Commune for one area."""
    return {
        "country": lambda: true(),
        "province": lambda: Commune.province_id == area_id,
        "commune": lambda: Market.commune_id == area_id,
        "market": lambda: Market.id == area_id,
    }[level]()


def _household_filter(
    viewer: Viewer, level: str, area_id: int | None, market_column: ColumnElement[int] = Household.market_id
) -> ColumnElement[bool]:
    """A market id column restricted to the area and the viewer's scope (nothing for an admin's country)."""
    if level == "country" and viewer.sees_everything:
        return true()
    ids = (
        select(Market.id)
        .join(Commune, Commune.id == Market.commune_id)
        .where(market_condition(viewer), _area_condition(level, area_id))
    )
    return market_column.in_(ids)


def _child_counts(session: Session, viewer: Viewer, level: str, area_id: int | None) -> dict[int, dict[str, int]]:
    """Active households per child area and status: the per-market tally rolled up in SQL."""
    return status_counts_by_area(session, viewer, _CHILD_KEY[CHILD[level]], _area_condition(level, area_id))


def trend(session: Session, viewer: Viewer, level: str, area_id: int | None, today: date) -> tuple[TrendPoint, ...]:
    """Weekly onboarding of an area's active households (by the day each first got a QR), scoped to the viewer.

    The covered statuses are inlined in a fixed order so the planner can use the partial index
    ix_household_covered_on (migration 0002), whose WHERE clause is written the same way.
    """
    covered = bindparam("covered", COVERED_IN_ORDER, expanding=True, literal_execute=True)
    stmt = (
        select(Household.qr_issued_on, func.count())
        .where(
            Household.active,
            Household.status.in_(covered),
            Household.qr_issued_on.is_not(None),
            _household_filter(viewer, level, area_id),
        )
        .group_by(Household.qr_issued_on)
    )
    return weekly(dict(session.exec(stmt).all()), today)


def _merge(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return dict(total)


def _row(level: str, key: object, code: str, name: str, counts: Mapping[str, int], active: int = 0) -> AreaRow:
    cov = coverage_from_status_counts(counts)
    return AreaRow(
        level, str(key), code, name, cov, funnel_from_status_counts(counts), ps.active_figure(active, cov.covered)
    )


def _active_by_child(
    session: Session, viewer: Viewer, level: str, area_id: int | None, now: datetime
) -> dict[object, int]:
    """Active households per child area (``merchants.services.payment_stats`` says what counts as active)."""
    return ps.active_counts(
        session,
        _CHILD_KEY[CHILD[level]],
        _household_filter(viewer, level, area_id, PaymentMarketDay.market_id),
        now=now,
        joins=lambda market_id: ((Market, Market.id == market_id), (Commune, Commune.id == Market.commune_id)),
    )


def _active_trend(session: Session, viewer: Viewer, level: str, area_id: int | None, today: date):  # noqa: ANN202
    return ps.active_trend(session, _household_filter(viewer, level, area_id, PaymentMarketWeek.market_id), today=today)


def _children(session: Session, viewer: Viewer, level: str, area_id: int | None) -> list[tuple[int, str, str]]:
    """(id, code, name) of the areas one level down that hold at least one market the viewer serves."""
    child = CHILD[level]
    table = {"province": Province, "commune": Commune, "market": Market}[child]
    ids = (
        select(_CHILD_KEY[child])
        .select_from(Market)
        .join(Commune, Commune.id == Market.commune_id)
        .where(market_condition(viewer), _area_condition(level, area_id))
    )
    return list(session.exec(select(table.id, table.code, table.name).where(table.id.in_(ids))).all())


def area_report(
    session: Session, viewer: Viewer, level: str, area_id: int | None, *, today: date, now: datetime | None = None
) -> Report:
    """Coverage of a country, province or commune and of each visible area one level down (0/0 if empty),
    with the households actively receiving payments (as of ``now``, the current time by default)."""
    children = _children(session, viewer, level, area_id)
    if level != "country" and not children:
        raise NotFound("Không tìm thấy địa bàn này trong phạm vi bạn phụ trách.")
    counts = _child_counts(session, viewer, level, area_id)
    active = _active_by_child(session, viewer, level, area_id, now or utcnow())
    rows = tuple(
        sorted(
            (_row(CHILD[level], i, code, name, counts.get(i, {}), active.get(i, 0)) for i, code, name in children),
            key=lambda r: (identity.search_key(r.name), r.name, r.code),
        )
    )
    total = _merge(counts.values())
    crumbs, name, partial = _place(session, viewer, level, area_id)
    coverage = coverage_from_status_counts(total)
    return Report(
        level,
        area_id,
        name,
        crumbs,
        coverage,
        funnel_from_status_counts(total),
        rows,
        trend(session, viewer, level, area_id, today),
        partial,
        ps.active_figure(sum(r.active.covered for r in rows), coverage.covered),
        _active_trend(session, viewer, level, area_id, today),
    )


def _place(session: Session, viewer: Viewer, level: str, area_id: int | None) -> tuple[tuple[Crumb, ...], str, bool]:
    """Breadcrumbs above the area, its name, and whether the viewer sees only part of it."""
    country = Crumb("country", None, "Toàn quốc")
    if level == "country":
        return (), country.name, not viewer.sees_everything
    if level == "province":
        p = session.get(Province, area_id)
        return (country,), p.name, not (viewer.sees_everything or p.id in viewer.province_ids)
    c = session.get(Commune, area_id)
    p = session.get(Province, c.province_id)
    whole = viewer.sees_everything or p.id in viewer.province_ids or c.id in viewer.commune_ids
    return (country, Crumb("province", p.id, p.name)), c.name, not whole


def market_report(session: Session, info: MarketInfo, *, today: date, now: datetime | None = None) -> Report:
    """One market's coverage and each of its zones (rows); a household counts in the first zone it trades in."""
    viewer, market_id = info.viewer, info.id
    visible = market_column_visible(viewer, Household.market_id)
    zone = (
        select(Stall.household_id, func.min(Stall.zone).label("zone"))
        .where(Stall.market_id == market_id, Stall.household_id.is_not(None))
        .group_by(Stall.household_id)
        .subquery()
    )
    zone_name = func.coalesce(zone.c.zone, "")
    stmt = (
        select(zone_name, Household.status, func.count())
        .join(zone, zone.c.household_id == Household.id, isouter=True)
        .where(Household.market_id == market_id, Household.active, visible)
        .group_by(zone_name, Household.status)
    )
    by_zone: dict[str, dict[str, int]] = defaultdict(dict)
    for z, status, n in session.exec(stmt):
        by_zone[z][status] = n
    order = dict(
        session.exec(
            select(Stall.zone, func.min(Stall.code)).where(Stall.market_id == market_id).group_by(Stall.zone)
        ).all()
    )
    zones = sorted(set(order) | set(by_zone), key=lambda z: (z not in order, order.get(z, ""), z))
    active = ps.active_by_zone(session, market_id, zone, now=now or utcnow())
    rows = tuple(_row("zone", z, "", z or NO_ZONE, by_zone.get(z, {}), active.get(z, 0)) for z in zones)
    total = _merge(by_zone.values())
    crumbs = (
        Crumb("country", None, "Toàn quốc"),
        Crumb("province", info.province.id, info.province.name),
        Crumb("commune", info.commune.id, info.commune.name),
    )
    coverage = coverage_from_status_counts(total)
    return Report(
        "market",
        market_id,
        info.market.name,
        crumbs,
        coverage,
        funnel_from_status_counts(total),
        rows,
        trend(session, viewer, "market", market_id, today),
        False,
        ps.active_figure(sum(r.active.covered for r in rows), coverage.covered),
        ps.active_trend(session, PaymentMarketWeek.market_id == market_id, today=today),
    )


@dataclass(frozen=True)
class MissingRow:
    household_id: int
    stalls: str
    owner_name: str
    zone: str
    status: str
    goods: str
    phone: str


@dataclass(frozen=True)
class MissingList:
    market: Report
    zone: str | None
    coverage: Coverage
    rows: tuple[MissingRow, ...]


def missing_households(
    session: Session, viewer: Viewer, market_id: int, *, zone: str | None = None, show_pii: bool = False, today: date
) -> MissingList:
    """Active households of a market (or one zone) without an issued QR yet, by name, in stall order."""
    report = market_report(session, get_market(session, viewer, market_id), today=today)
    if zone is not None and zone not in {r.key for r in report.rows}:
        raise NotFound("Chợ này không có khu/dãy đó.")
    stmt = select(Household).where(
        Household.market_id == market_id,
        Household.active,
        Household.status.not_in(st.COVERED),
        market_column_visible(viewer, Household.market_id),
    )
    households = list(session.exec(stmt))
    stalls: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for hid, code, z in session.exec(
        select(Stall.household_id, Stall.code, Stall.zone).where(Stall.household_id.in_([h.id for h in households]))
    ):
        stalls[hid].append((code, z))
    rows = []
    for h in households:
        mine = sorted(stalls[h.id])
        z = min((s[1] for s in mine), default="")
        if zone is not None and z != zone:
            continue
        phone = identity.format_phone(h.phone) if show_pii else identity.mask_tail(h.phone)
        rows.append(
            MissingRow(h.id, ", ".join(c for c, _ in mine), h.owner_name, z or NO_ZONE, h.status, h.goods, phone)
        )
    rows.sort(key=lambda r: (r.stalls == "", r.stalls, identity.search_key(r.owner_name)))
    cov = report.coverage if zone is None else next(r.coverage for r in report.rows if r.key == zone)
    return MissingList(report, zone, cov, tuple(rows))


def home(session: Session, viewer: Viewer) -> tuple[str, int | None]:
    """The narrowest area holding all of the viewer's markets: where their reports page opens."""
    if viewer.sees_everything:
        return "country", None
    markets = session.exec(
        select(Market.id, Market.commune_id, Commune.province_id)
        .join(Commune, Commune.id == Market.commune_id)
        .where(market_condition(viewer))
    ).all()
    for level, index in (("market", 0), ("commune", 1), ("province", 2)):
        ids = {m[index] for m in markets}
        if len(ids) == 1:
            return level, ids.pop()
    return "country", None
