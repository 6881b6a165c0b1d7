"""Which communes and markets a user may see. Every query of the registry filters through here."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, select

from merchants import roles
from merchants.models import Commune, Market, User, UserScope


@dataclass(frozen=True)
class Viewer:
    """The acting user reduced to what rules need: id, role and the areas they serve."""

    user_id: int | None
    role: str
    province_ids: frozenset[int] = field(default_factory=frozenset)
    commune_ids: frozenset[int] = field(default_factory=frozenset)
    market_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        """A programme-wide administrator: an admin with no area rows. An admin given provinces (a province's
        programme team) manages only those, like any other role."""
        return self.role == roles.ADMIN and not (self.province_ids or self.commune_ids or self.market_ids)

    def serves_province(self, province_id: int) -> bool:
        """Whether the viewer's whole scope covers this province (to set up its communes' markets and users)."""
        return self.sees_everything or province_id in self.province_ids

    def can(self, capability: str) -> bool:
        return roles.can(self.role, capability)


SYSTEM = Viewer(user_id=None, role=roles.ADMIN)


def viewer_for(session: Session, user: User) -> Viewer:
    """Load a user's scope rows once per request."""
    rows = session.exec(select(UserScope).where(UserScope.user_id == user.id)).all()
    return Viewer(
        user_id=user.id,
        role=user.role,
        province_ids=frozenset(r.province_id for r in rows if r.province_id),
        commune_ids=frozenset(r.commune_id for r in rows if r.commune_id),
        market_ids=frozenset(r.market_id for r in rows if r.market_id),
    )


def market_condition(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Market`` (joined to ``Commune``) for the markets the viewer serves."""
    if viewer.sees_everything:
        return true()
    parts = []
    if viewer.market_ids:
        parts.append(Market.id.in_(viewer.market_ids))
    if viewer.commune_ids:
        parts.append(Market.commune_id.in_(viewer.commune_ids))
    if viewer.province_ids:
        parts.append(Commune.province_id.in_(viewer.province_ids))
    return or_(*parts) if parts else false()


def visible_market_ids(viewer: Viewer):  # noqa: ANN201 - a SQLAlchemy Select of ids
    """A sub-select of the market ids the viewer may see, to use as ``col.in_(...)``."""
    return select(Market.id).join(Commune, Commune.id == Market.commune_id).where(market_condition(viewer))


def market_column_visible(viewer: Viewer, market_id_column) -> ColumnElement[bool]:  # noqa: ANN001
    """``market_id_column IN (visible markets)``, or TRUE for an administrator."""
    if viewer.sees_everything:
        return true()
    return market_id_column.in_(visible_market_ids(viewer))
