"""Where a programme stands in its set-up, for the administrator's getting-started checklist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from merchants.models import Commune, Market, ProgrammeSettings, Stall, User, UserScope
from merchants.scope import Viewer, market_condition


@dataclass(frozen=True)
class Step:
    key: str  # areas | settings | markets | stalls | users
    done: bool
    count: int


@dataclass(frozen=True)
class SetupStatus:
    steps: tuple[Step, ...]

    @property
    def complete(self) -> bool:
        return all(s.done for s in self.steps)

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)


def setup_status(session: Session, viewer: Viewer) -> SetupStatus:
    """Counts within the viewer's areas: units loaded, settings saved, markets, stalls, officers with a scope."""
    communes = session.exec(select(func.count(Commune.id)).where(Commune.closed_at.is_(None))).one()
    settings_saved = session.get(ProgrammeSettings, 1) is not None
    visible = (
        select(Market.id)
        .join(Commune, Commune.id == Market.commune_id)
        .where(market_condition(viewer), Market.closed_at.is_(None))
    )
    markets = session.exec(select(func.count()).select_from(visible.subquery())).one()
    stalls = session.exec(
        select(func.count(Stall.id)).where(Stall.market_id.in_(visible), Stall.closed_at.is_(None))
    ).one()
    officers = session.exec(
        select(func.count(func.distinct(User.id)))
        .join(UserScope, UserScope.user_id == User.id)
        .where(User.active, User.id != viewer.user_id)
    ).one()
    return SetupStatus(
        (
            Step("areas", communes > 0, communes),
            Step("settings", settings_saved, int(settings_saved)),
            Step("markets", markets > 0, markets),
            Step("stalls", stalls > 0, stalls),
            Step("users", officers > 0, officers),
        )
    )
