"""Administrative units in the database: loading an official list, listing and searching them.

Provinces and communes are identified by their official codes everywhere (CLI, scopes, API, exports).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import insert, literal, null
from sqlmodel import Session, select

from merchants import areas
from merchants.errors import Forbidden, NotFound
from merchants.identity import search_key
from merchants.models import AreaRename, Commune, Province, utcnow
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit

SEARCH_LIMIT = 30


@dataclass(frozen=True)
class AreaRow:
    """A unit as lists and pickers show it."""

    id: int
    level: str
    code: str
    name: str
    type: str
    province_code: str | None
    province_name: str | None
    closed: bool

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "name": self.name, "type": self.type, "closed": self.closed}
        if self.level == "commune":
            out["province_code"] = self.province_code
        return out


@lru_cache(maxsize=8192)  # the official list's 3,300 units, loaded into every new database
def _unit_search_text(name: str, code: str) -> str:
    return search_key(name, code)[:200]


def known_units(session: Session) -> list[areas.Known]:
    provinces = {p.id: p for p in session.exec(select(Province))}
    out = [areas.Known("province", p.code, p.name, p.type, None, p.closed_at is not None) for p in provinces.values()]
    for c in session.exec(select(Commune)):
        out.append(
            areas.Known("commune", c.code, c.name, c.type, provinces[c.province_id].code, c.closed_at is not None)
        )
    return out


def load_units(
    session: Session, actor: Viewer, units: list[areas.Unit], *, dry_run: bool = False, source: str = ""
) -> areas.AreaChanges:
    """Bring the units in the database to ``units``: add, rename (former name kept), move, close, reopen.

    Only a programme-wide administrator loads the national list. A dry run reports and changes nothing.
    """
    if not actor.sees_everything:
        raise Forbidden("Chỉ quản trị toàn chương trình được nạp danh sách địa bàn.")
    changes = areas.diff(units, known_units(session))
    if dry_run or changes.empty:
        return changes
    now = utcnow()
    listed = {(u.level, u.code): u for u in units}
    new_provinces = [u for u in changes.added if u.level == "province"]
    if new_provinces:
        session.execute(
            insert(Province.__table__),  # Core: one executemany, no ORM bulk bookkeeping per row
            [
                {"code": u.code, "name": u.name, "type": u.type, "search_text": _unit_search_text(u.name, u.code)}
                for u in new_provinces
            ],
        )
    province_ids = dict(session.exec(select(Province.code, Province.id)).all())
    new_communes = [u for u in changes.added if u.level == "commune"]
    if new_communes:
        session.execute(
            insert(Commune.__table__),
            [
                {
                    "code": u.code,
                    "name": u.name,
                    "type": u.type,
                    "province_id": province_ids[u.province_code],
                    "search_text": _unit_search_text(u.name, u.code),
                }
                for u in new_communes
            ],
        )
    touched = {(u.level, u.code) for u in changes.renamed + changes.retyped + changes.reopened}
    touched |= {("commune", m.code) for m in changes.moved}
    for level, code in touched:
        u = listed[(level, code)]
        row = _row(session, level, code)
        if row.name != u.name:
            session.add(AreaRename(level=level, code=code, old_name=row.name, new_name=u.name, user_id=actor.user_id))
        row.name, row.type, row.closed_at = u.name, u.type, None
        row.search_text = _unit_search_text(u.name, u.code)
        if level == "commune":
            row.province_id = province_ids[u.province_code]
        session.add(row)
    for u in changes.closed:
        row = _row(session, u.level, u.code)
        row.closed_at = now
        session.add(row)
    audit.record(session, actor, "areas.load", subject="areas", source=source, **changes.counts())
    session.commit()
    return changes


def _row(session: Session, level: str, code: str) -> Province | Commune:
    model = Province if level == "province" else Commune
    return session.exec(select(model).where(model.code == code)).one()


def load_shipped_if_empty(session: Session) -> int:
    """On a new database, load the shipped official list; returns the number of communes loaded (0 if any exist)."""
    if session.exec(select(Commune.id).limit(1)).first() is not None:
        return 0
    changes = load_units(session, SYSTEM, list(areas.shipped_units()), source=areas.SHIPPED.name)
    return sum(1 for u in changes.added if u.level == "commune")


def _rows(session: Session, stmt) -> list[AreaRow]:  # noqa: ANN001 - a Select
    return [AreaRow(*r) for r in session.exec(stmt).all()]


def list_provinces(
    session: Session, *, include_closed: bool = False, ids: frozenset[int] | None = None
) -> list[AreaRow]:
    """The provinces by code; ``ids`` limits them to those a province-scoped administrator serves."""
    stmt = select(
        Province.id,
        literal("province"),
        Province.code,
        Province.name,
        Province.type,
        null(),
        null(),
        Province.closed_at.is_not(None),
    ).order_by(Province.code)
    if not include_closed:
        stmt = stmt.where(Province.closed_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Province.id.in_(ids))
    return _rows(session, stmt)


def _commune_select():  # noqa: ANN202
    return select(
        Commune.id,
        literal("commune"),
        Commune.code,
        Commune.name,
        Commune.type,
        Province.code,
        Province.name,
        Commune.closed_at.is_not(None),
    ).join(Province, Province.id == Commune.province_id)


def list_communes(session: Session, province_code: str, *, include_closed: bool = False) -> list[AreaRow]:
    """A province's communes in the official order (by code)."""
    province = session.exec(select(Province).where(Province.code == province_code.strip())).first()
    if province is None:
        raise NotFound("Không có tỉnh/thành phố mã '%(province_code)s'.", province_code=province_code)
    stmt = _commune_select().where(Commune.province_id == province.id).order_by(Commune.code)
    if not include_closed:
        stmt = stmt.where(Commune.closed_at.is_(None))
    return _rows(session, stmt)


def search_communes(
    session: Session, q: str, *, province_ids: frozenset[int] | None = None, limit: int = SEARCH_LIMIT
) -> list[AreaRow]:
    """Open communes whose name or code contains every word of ``q``, diacritics ignored: 'cam lo' → Xã Cam Lộ."""
    words = search_key(q).replace("%", "").replace("_", "").split()
    if not words:
        return []
    stmt = _commune_select().where(Commune.closed_at.is_(None))
    for word in words[:6]:
        stmt = stmt.where(Commune.search_text.like(f"%{word}%"))
    if province_ids is not None:
        stmt = stmt.where(Commune.province_id.in_(province_ids))
    return _rows(session, stmt.order_by(Commune.code).limit(limit))


def commune_by_code(session: Session, code: str, *, open_only: bool = True) -> Commune:
    """The commune with this official code; a closed one is refused for new markets."""
    commune = session.exec(select(Commune).where(Commune.code == (code or "").strip())).first()
    if commune is None:
        raise NotFound("Không có xã/phường mã '%(code)s' trong danh sách địa bàn.", code=code)
    if open_only and commune.closed_at is not None:
        raise NotFound(
            "Xã/phường mã '%(code)s' (%(name)s) đã không còn trong danh sách địa bàn hiện hành.",
            code=code,
            name=commune.name,
        )
    return commune


def renames(session: Session, code: str) -> list[AreaRename]:
    """Former names of a unit, oldest first."""
    return list(session.exec(select(AreaRename).where(AreaRename.code == code).order_by(AreaRename.id)))
