"""Reading the audit trail: who did what, when, to which record — newest first, paged in SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, or_
from sqlmodel import Session, select

from merchants.models import AuditLog, Household, Market, User
from merchants.scope import Viewer, visible_market_ids
from merchants.services.audit import SYSTEM_NAME


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    who: str
    action: str
    subject: str
    household_id: int | None
    detail: dict
    source_ip: str | None


def _visible(viewer: Viewer):  # noqa: ANN202 - a SQL condition
    """A province's administrator reads its own actions and those on its markets and their households."""
    markets = visible_market_ids(viewer)
    codes = select(literal("market:") + Market.code).where(Market.id.in_(markets))
    return or_(
        AuditLog.user_id == viewer.user_id,
        AuditLog.subject.in_(codes),
        AuditLog.household_id.in_(select(Household.id).where(Household.market_id.in_(markets))),
    )


def audit_entries(
    session: Session, viewer: Viewer, *, offset: int = 0, limit: int = 50, action: str = ""
) -> tuple[list[AuditEntry], int]:
    """One page of audit rows the viewer may read and how many there are in all."""
    stmt = select(AuditLog, User.username).join(User, User.id == AuditLog.user_id, isouter=True)
    count = select(func.count(AuditLog.id))
    conditions = []
    if not viewer.sees_everything:
        conditions.append(_visible(viewer))
    if action:
        conditions.append(AuditLog.action.like(action.replace("%", "") + "%"))
    for c in conditions:
        stmt, count = stmt.where(c), count.where(c)
    total = session.exec(count).one()
    rows = session.exec(stmt.order_by(AuditLog.id.desc()).offset(offset).limit(limit)).all()
    return [
        AuditEntry(
            a.id,
            a.at,
            name or SYSTEM_NAME,
            a.action,
            a.subject,
            a.household_id,
            json.loads(a.detail or "{}"),
            a.source_ip,
        )
        for a, name in rows
    ], total
