"""Zones and stalls of a market (administrators): add a range at once, rename, move, close, reopen, delete.

Codes go through ``merchants.stallcodes`` at every entry point. A stall that holds or ever held a household
(a household link, a placard, a placard check) is never deleted, only closed: its history points at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from merchants import identity, stallcodes
from merchants.errors import N_, DomainError, Duplicate, InvalidField, NotFound
from merchants.models import STALL_STATES, Household, Market, Placard, PlacardCheck, Stall, stall_in_state, utcnow
from merchants.scope import Viewer
from merchants.services import audit
from merchants.services.setup_markets import get_managed_market, max_length

ZONE_MAX = max_length(Stall, "zone")
_LIST_SEPARATORS = re.compile(r"[,;\n]")


class StallInUse(DomainError):
    """The stall's household or history forbids the action (close, delete); ``household_id`` is the holder."""

    field = "stall"

    def __init__(self, message: str, *, household_id: int | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        self.household_id = household_id


def clean_zone(text: str, *, field: str = "zone") -> str:
    """A zone (khu / dãy) as stored: whitespace collapsed, at most the model's length; empty means none."""
    zone = identity.clean_name(text)
    if len(zone) > ZONE_MAX:
        raise InvalidField(field, "Tên khu '%(zone)s' dài quá %(ZONE_MAX)s ký tự.", zone=zone, ZONE_MAX=ZONE_MAX)
    return zone


def parse_codes(text: str, *, field: str = "codes") -> list[str]:
    """'A-001..A-120, K-01' → the 121 codes: each comma-separated part a code or a range (``stallcodes``)."""
    codes: dict[str, None] = {}
    for part in _LIST_SEPARATORS.split(text or ""):
        if part.strip():
            codes.update(dict.fromkeys(stallcodes.expand_range(part, field=field)))
    if not codes:
        raise InvalidField(field, "Mã sạp không được để trống.")
    if len(codes) > stallcodes.MAX_RANGE:
        raise InvalidField(
            field,
            "Tối đa %(MAX_RANGE)s sạp một lần (đang có %(n_codes)s).",
            MAX_RANGE=stallcodes.MAX_RANGE,
            n_codes=len(codes),
        )
    return list(codes)


def existing_codes(session: Session, market_id: int) -> dict[str, tuple[int, str]]:
    """CODE → (stall id, zone) of every stall of a market: one narrow query, for ranges and imports."""
    return {
        code.upper(): (sid, zone)
        for sid, code, zone in session.exec(
            select(Stall.id, Stall.code, Stall.zone).where(Stall.market_id == market_id)
        )
    }


def check_new_code(
    session: Session, market_id: int, text: str, *, field: str = "code", own_id: int | None = None
) -> str:
    """A cleaned code no other stall of the market has (case folded), or a Duplicate pointing at that stall."""
    code = stallcodes.clean_stall_code(text, field=field)
    other = session.exec(select(Stall.id).where(Stall.market_id == market_id, func.upper(Stall.code) == code)).first()
    if other is not None and other != own_id:
        raise Duplicate(field, "Sạp %(code)s đã có trong danh sách của chợ.", existing_id=other, code=code)
    return code


def record_created(
    session: Session,
    actor: Viewer,
    market: Market,
    codes: list[str],
    zone: str,
    *,
    source: str,
    source_ip: str | None = None,
    **extra: object,
) -> None:
    """One stall.create row for a whole range: how many, the first and last code, the zone and where from."""
    audit.record(
        session,
        actor,
        "stall.create",
        subject=f"market:{market.code}",
        source_ip=source_ip,
        count=len(codes),
        first=codes[0],
        last=codes[-1],
        zone=zone,
        source=source,
        **extra,
    )


def create_stall(
    session: Session, actor: Viewer, market: Market, code: str, zone: str, *, source: str, source_ip: str | None = None
) -> Stall:
    """Insert one checked stall and audit it; the caller commits (registration creates it with its household)."""
    stall = Stall(market_id=market.id, code=code, zone=zone)
    session.add(stall)
    session.flush()
    record_created(session, actor, market, [code], zone, source=source, source_ip=source_ip)
    return stall


@dataclass(frozen=True)
class Added:
    created: list[str]
    existing: list[str]  # codes of the range the market already had: reported, skipped


def add_stalls(
    session: Session,
    actor: Viewer,
    market_id: int,
    *,
    codes: str,
    zone: str = "",
    source: str = "form",
    source_ip: str | None = None,
) -> Added:
    """Create the stalls of a range or list in one go; codes the market already has are skipped, not doubled."""
    market = get_managed_market(session, actor, market_id).market
    wanted, zone = parse_codes(codes), clean_zone(zone)
    if market.closed_at is not None:
        raise InvalidField("codes", "Chợ %(name)s đã đóng; không thêm sạp mới.", name=market.name)
    have = existing_codes(session, market_id)
    new = [c for c in wanted if c not in have]
    if new:
        try:
            session.execute(insert(Stall), [{"market_id": market_id, "code": c, "zone": zone} for c in new])
            record_created(session, actor, market, new, zone, source=source, source_ip=source_ip)
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise InvalidField("codes", "Có người vừa thêm sạp trùng mã trong lúc lưu; hãy thử lại.") from exc
    return Added(new, [c for c in wanted if c in have])


def get_stall(session: Session, actor: Viewer, market_id: int, stall_id: int) -> Stall:
    get_managed_market(session, actor, market_id)
    stall = session.exec(select(Stall).where(Stall.id == stall_id, Stall.market_id == market_id)).first()
    if stall is None:
        raise NotFound("Không tìm thấy sạp.")
    return stall


def ever_held(session: Session, stall: Stall) -> bool:
    """Whether a household holds the stall or ever had a placard at it (or one was checked there)."""
    if stall.household_id is not None:
        return True
    for model in (Placard, PlacardCheck):
        if session.exec(select(model.id).where(model.stall_id == stall.id).limit(1)).first() is not None:
            return True
    return False


@dataclass(frozen=True)
class StallDetail:
    stall: Stall
    holder: Household | None
    ever_held: bool  # then it can only be closed, never deleted


def stall_detail(session: Session, actor: Viewer, market_id: int, stall_id: int) -> StallDetail:
    stall = get_stall(session, actor, market_id, stall_id)
    holder = session.get(Household, stall.household_id) if stall.household_id else None
    return StallDetail(stall, holder, ever_held(session, stall))


def edit_stall(
    session: Session,
    actor: Viewer,
    market_id: int,
    stall_id: int,
    *,
    code: str,
    zone: str,
    source_ip: str | None = None,
) -> Stall:
    """Rename a stall's code (refused when the market has it already) or move it to another zone."""
    market = get_managed_market(session, actor, market_id).market
    stall = get_stall(session, actor, market_id, stall_id)
    new_code = check_new_code(session, market_id, code, own_id=stall.id)
    new_zone = clean_zone(zone)
    old = {"code": stall.code, "zone": stall.zone}
    if old == {"code": new_code, "zone": new_zone}:
        return stall
    if new_code != stall.code and stall.household_id is not None:
        holder = session.get(Household, stall.household_id)
        holder.needs_reprint = True  # the placard shows the stall code
        session.add(holder)
    stall.code, stall.zone = new_code, new_zone
    session.add(stall)
    audit.record_change(
        session,
        actor,
        "stall.rename",
        f"market:{market.code}",
        old,
        {"code": new_code, "zone": new_zone},
        stall=new_code,
        source_ip=source_ip,
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        check_new_code(session, market_id, code, own_id=stall_id)
        raise
    return stall


def rename_zone(
    session: Session, actor: Viewer, market_id: int, *, zone: str, new_zone: str, source_ip: str | None = None
) -> int:
    """Give every stall of a zone the new zone name (an existing name merges the two); returns how many moved."""
    market = get_managed_market(session, actor, market_id).market
    target = clean_zone(new_zone, field="new_zone")
    if not target:
        raise InvalidField("new_zone", "Tên khu mới không được để trống.")
    if target == zone:
        raise InvalidField("new_zone", "Tên khu mới trùng với tên hiện tại.")
    moved = session.exec(
        update(Stall).where(Stall.market_id == market_id, Stall.zone == zone).values(zone=target)
    ).rowcount
    if not moved:
        session.rollback()
        raise InvalidField("zone", "Chợ không có khu '%(zone)s'.", zone=zone)
    audit.record(
        session,
        actor,
        "zone.rename",
        subject=f"market:{market.code}",
        source_ip=source_ip,
        old=zone,
        new=target,
        count=moved,
    )
    session.commit()
    return moved


def set_stall_closed(
    session: Session, actor: Viewer, market_id: int, stall_id: int, *, closed: bool, source_ip: str | None = None
) -> Stall:
    """Close a stall (refused while an active household trades at it) or reopen it."""
    market = get_managed_market(session, actor, market_id).market
    stall = get_stall(session, actor, market_id, stall_id)
    if (stall.closed_at is not None) == closed:
        message = N_("Sạp %(code)s đã đóng.") if closed else N_("Sạp %(code)s đang mở.")
        raise InvalidField("stall", message, code=stall.code)
    holder = session.get(Household, stall.household_id) if stall.household_id else None
    if closed and holder is not None and holder.active:
        raise StallInUse(
            N_("Sạp %(code)s đang có hộ %(owner)s kinh doanh; không đóng được sạp khi hộ còn hoạt động."),
            household_id=holder.id,
            code=stall.code,
            owner=holder.owner_name,
        )
    stall.closed_at = utcnow() if closed else None
    session.add(stall)
    audit.record(
        session,
        actor,
        "stall.close" if closed else "stall.reopen",
        subject=f"market:{market.code}",
        source_ip=source_ip,
        stall=stall.code,
    )
    session.commit()
    return stall


def delete_stall(
    session: Session, actor: Viewer, market_id: int, stall_id: int, *, source_ip: str | None = None
) -> str:
    """Delete a stall that never held anything (a typo in a range); one with any history can only be closed."""
    market = get_managed_market(session, actor, market_id).market
    stall = get_stall(session, actor, market_id, stall_id)
    if ever_held(session, stall):
        raise StallInUse(
            N_("Sạp %(code)s có hoặc đã từng có hộ kinh doanh, bảng QR nên không xoá được; chỉ có thể đóng sạp."),
            household_id=stall.household_id,
            code=stall.code,
        )
    code, zone = stall.code, stall.zone
    session.delete(stall)
    audit.record(
        session, actor, "stall.delete", subject=f"market:{market.code}", source_ip=source_ip, stall=code, zone=zone
    )
    session.commit()
    return code


@dataclass(frozen=True)
class ZoneCount:
    zone: str
    free: int
    occupied: int
    closed: int

    @property
    def total(self) -> int:
        return self.free + self.occupied + self.closed


def zone_counts(session: Session, actor: Viewer, market_id: int) -> list[ZoneCount]:
    """Free / occupied / closed stalls per zone, counted by the database (a market can have 2,000 stalls)."""
    get_managed_market(session, actor, market_id)
    sums = [func.coalesce(func.sum(case((stall_in_state(s), 1), else_=0)), 0) for s in STALL_STATES]
    rows = session.exec(
        select(Stall.zone, *sums).where(Stall.market_id == market_id).group_by(Stall.zone).order_by(Stall.zone)
    ).all()
    return [ZoneCount(zone, int(f), int(o), int(c)) for zone, f, o, c in rows]


@dataclass(frozen=True)
class StallItem:
    id: int
    code: str
    zone: str
    household_id: int | None
    owner_name: str | None
    closed: bool


def stall_page(
    session: Session,
    actor: Viewer,
    market_id: int,
    *,
    zone: str | None = None,
    state: str = "",
    q: str = "",
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[StallItem], int]:
    """One page of a market's stalls (by zone and code), filtered, and how many match in all."""
    get_managed_market(session, actor, market_id)
    stmt = (
        select(Stall.id, Stall.code, Stall.zone, Stall.household_id, Household.owner_name, Stall.closed_at.is_not(None))
        .join(Household, Household.id == Stall.household_id, isouter=True)
        .where(Stall.market_id == market_id)
    )
    if zone is not None:
        stmt = stmt.where(Stall.zone == zone)
    if state in STALL_STATES:
        stmt = stmt.where(stall_in_state(state))
    if q.strip():
        stmt = stmt.where(Stall.code.ilike(f"%{q.strip().replace('%', '').replace('_', '')}%"))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(Stall.zone, Stall.code).offset(offset).limit(limit)).all()
    return [StallItem(*r) for r in rows], total
