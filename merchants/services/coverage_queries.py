"""Counting queries behind every coverage figure; the arithmetic lives in ``merchants.coverage``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, select

from merchants.coverage import Coverage, Funnel, coverage_from_status_counts, funnel_from_status_counts
from merchants.models import Commune, Market, MarketStatusCount, Province
from merchants.scope import Viewer, market_column_visible, market_condition


@dataclass(frozen=True)
class MarketCoverage:
    id: int
    code: str
    name: str
    commune: str
    province: str
    legacy_district: str | None
    coverage: Coverage
    funnel: Funnel


def status_counts_by_market(
    session: Session, viewer: Viewer, market_ids: list[int] | None = None
) -> dict[int, dict[str, int]]:
    """Active households per market and status, for the markets the viewer serves.

    Read from the tally the database keeps on every household change (``MarketStatusCount``): one row
    per market and status, so a country's figures cost tens of thousands of rows, not millions.
    """
    tally = MarketStatusCount
    stmt = select(tally.market_id, tally.status, tally.n).where(
        tally.n > 0, market_column_visible(viewer, tally.market_id)
    )
    if market_ids is not None:
        stmt = stmt.where(tally.market_id.in_(market_ids))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for market_id, status, n in session.exec(stmt):
        out[market_id][status] = n
    return out


def status_counts_by_area(
    session: Session, viewer: Viewer, key: Any, where: ColumnElement[bool] | None = None
) -> dict[int, dict[str, int]]:
    """Active households per status summed by ``key`` (``Commune.province_id``, ``Market.commune_id`` or
    ``Market.id``) over the markets the viewer serves, optionally narrowed by ``where`` on Market/Commune.

    The one roll-up of the tally, done in SQL: reports and the API both read their area figures from here.
    """
    tally = MarketStatusCount
    stmt = (
        select(key, tally.status, func.sum(tally.n))
        .select_from(tally)
        .join(Market, Market.id == tally.market_id)
        .join(Commune, Commune.id == Market.commune_id)
        .where(tally.n > 0, market_condition(viewer))
        .group_by(key, tally.status)
    )
    if where is not None:
        stmt = stmt.where(where)
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for area_id, status, n in session.exec(stmt):
        out[area_id][status] = int(n)
    return out


def market_coverage(session: Session, viewer: Viewer, market_ids: list[int] | None = None) -> list[MarketCoverage]:
    """Coverage of each visible market (markets with no households yet included, as 0/0)."""
    counts = status_counts_by_market(session, viewer, market_ids)
    stmt = (
        select(Market, Commune.name, Province.name)
        .join(Commune, Commune.id == Market.commune_id)
        .join(Province, Province.id == Commune.province_id)
        .where(market_condition(viewer))
        .order_by(Province.name, Commune.name, Market.name)
    )
    if market_ids is not None:
        stmt = stmt.where(Market.id.in_(market_ids))
    rows = []
    for market, commune, province in session.exec(stmt):
        c = counts.get(market.id, {})
        rows.append(
            MarketCoverage(
                market.id,
                market.code,
                market.name,
                commune,
                province,
                market.legacy_district,
                coverage_from_status_counts(c),
                funnel_from_status_counts(c),
            )
        )
    return rows


def market_page(
    session: Session, viewer: Viewer, *, q: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[int], int]:
    """One page of the viewer's market ids (by province, commune, name) and how many there are in all.

    A country-wide administrator serves 10,000 markets: the list counts coverage for one page of them,
    not for all (the reports pages give the totals).
    """
    stmt = (
        select(Market.id)
        .join(Commune, Commune.id == Market.commune_id)
        .join(Province, Province.id == Commune.province_id)
        .where(market_condition(viewer))
    )
    if q.strip():
        needle = f"%{q.strip()}%"
        stmt = stmt.where(Market.name.ilike(needle) | Market.code.ilike(needle) | Commune.name.ilike(needle))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    ids = list(
        session.exec(stmt.order_by(Province.name, Commune.name, Market.name, Market.id).offset(offset).limit(limit))
    )
    return ids, total
