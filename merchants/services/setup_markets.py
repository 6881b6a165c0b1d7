"""Setting up markets (administrators): create, edit, close and reopen, in the official communes they serve.

A province-scoped administrator manages only the markets of its provinces: every function here checks, whatever
the page offered. The field rules (code, name, target, date, demo flag) are shared by the form, the spreadsheet
import and the CLI, so each entry point refuses the same values with the same message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from merchants import identity, roles
from merchants.errors import N_, Duplicate, EditConflict, Forbidden, InvalidField, NotFound, Phrase
from merchants.models import Commune, Market, Province, Stall, utcnow
from merchants.scope import Viewer
from merchants.services import audit
from merchants.services.areas import commune_by_code
from merchants.services.registry_queries import MarketInfo
from merchants.services.settings import check_target_percent


def max_length(model: type, name: str) -> int:
    """A column's limit as its ``Field(max_length=…)`` declares it: forms and imports read it from here."""
    return next(int(m.max_length) for m in model.model_fields[name].metadata if getattr(m, "max_length", None))


CODE_MAX, NAME_MAX, ADDRESS_MAX = max_length(Market, "code"), max_length(Market, "name"), max_length(Market, "address")
_CODE = re.compile(r"[A-Z0-9_-]+")
_TRUE = {"x", "co", "yes", "y", "1", "true", "mau", "demo", "cho mau"}
_FALSE = {"", "khong", "no", "n", "0", "false"}


@dataclass(frozen=True)
class MarketInput:
    """A market as typed in the form, a spreadsheet row or the CLI; targets may still be text."""

    code: str
    name: str
    commune_code: str
    address: str = ""
    is_demo: bool | str = False
    target_percent: int | str | None = None
    target_date: date | str | None = None


def require_admin(actor: Viewer) -> None:
    """Markets and stalls are set up by administrators only (a province's team or the programme's)."""
    if actor.role != roles.ADMIN:
        raise Forbidden("Chỉ quản trị viên được thiết lập chợ và sạp.")


def managed_condition(actor: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Commune`` for the markets the actor manages: its provinces, or all for the programme."""
    if actor.sees_everything:
        return true()
    return Commune.province_id.in_(actor.province_ids) if actor.province_ids else false()


def get_managed_market(session: Session, actor: Viewer, market_id: int) -> MarketInfo:
    """A market the actor manages, or NotFound (never a hint that it exists in another province)."""
    require_admin(actor)
    row = session.exec(
        select(Market, Commune, Province)
        .join(Commune, Commune.id == Market.commune_id)
        .join(Province, Province.id == Commune.province_id)
        .where(Market.id == market_id, managed_condition(actor))
    ).first()
    if row is None:
        raise NotFound("Không tìm thấy chợ.")
    return MarketInfo(*row, actor)


def managed_market_by_code(session: Session, actor: Viewer, code: str) -> MarketInfo:
    market_id = session.exec(select(Market.id).where(Market.code == (code or "").strip().upper())).first()
    if market_id is None:
        raise NotFound("Không có chợ mã '%(code)s'.", code=code)
    return get_managed_market(session, actor, market_id)


def clean_market_code(text: str, *, field: str = "code") -> str:
    code = (text or "").strip().upper()
    if not code:
        raise InvalidField(field, "Mã chợ không được để trống.")
    if len(code) > CODE_MAX:
        raise InvalidField(field, "Mã chợ '%(code)s' dài quá %(CODE_MAX)s ký tự.", code=code, CODE_MAX=CODE_MAX)
    if not _CODE.fullmatch(code):
        raise InvalidField(field, "Mã chợ '%(code)s' chỉ được gồm chữ A–Z không dấu, số 0–9, dấu - và _.", code=code)
    return code


def clean_text(text: str, *, field: str, label: str, limit: int, required: bool) -> str:
    """A market's name or address as stored; ``label`` (a catalog msgid) names it in the user's language."""
    value = identity.clean_name(text)
    if required and not value:
        raise InvalidField(field, "%(label)s không được để trống.", label=Phrase(label))
    if len(value) > limit:
        raise InvalidField(field, "%(label)s dài quá %(limit)s ký tự.", label=Phrase(label), limit=limit)
    return value


def parse_target_percent(value: int | str | None, *, field: str = "target_percent") -> int | None:
    """'95', '95 %' or 95 → 95; empty → None (the programme's target). A spreadsheet's 0.95 (95 %) counts too."""
    if value is None or isinstance(value, int):
        return check_target_percent(value, field=field)
    text = value.strip().rstrip("%").strip().replace(",", ".")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InvalidField(field, "Mục tiêu '%(value)s' phải là một số phần trăm từ 1 đến 100.", value=value) from None
    if 0 < number <= 1 and "." in text:
        number *= 100  # a cell formatted as percent holds 0.95 for 95 %
    if abs(number - round(number)) > 1e-6:
        raise InvalidField(field, "Mục tiêu '%(value)s' phải là số nguyên phần trăm.", value=value)
    return check_target_percent(round(number), field=field)


def parse_target_date(value: date | str | None, *, field: str = "target_date") -> date | None:
    """'31/12/2026' (as typed and as spreadsheets show dates) or '2026-12-31' (date inputs); empty → None."""
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidField(
        field, "Hạn '%(text)s' không phải ngày hợp lệ; hãy ghi dạng ngày/tháng/năm, ví dụ 31/12/2026.", text=text
    )


def parse_flag(value: bool | str, *, field: str = "is_demo") -> bool:
    """A yes/no cell: 'x', 'có', 'yes', '1' or empty, 'không', 'no', '0'."""
    if isinstance(value, bool):
        return value
    key = identity.search_key(value.strip())
    if key in _TRUE or key in _FALSE:
        return key in _TRUE
    raise InvalidField(
        field, "Giá trị '%(value)s' không rõ; hãy ghi 'x' hoặc 'có' cho chợ mẫu, để trống nếu không.", value=value
    )


def check_commune(
    commune: Commune | None, code: str, actor: Viewer, *, current_id: int | None = None, field: str = "commune_code"
) -> Commune:
    """The official commune a market lies in: it exists, is in force (or is the market's own already) and lies
    in a province the actor serves."""
    if not (code or "").strip():
        raise InvalidField(field, "Hãy chọn xã/phường trong danh sách địa bàn chính thức.")
    if commune is None:
        raise InvalidField(field, "Không có xã/phường mã '%(code)s' trong danh sách địa bàn.", code=code)
    if commune.closed_at is not None and commune.id != current_id:
        raise InvalidField(
            field,
            "Xã/phường mã '%(code)s' (%(name)s) đã không còn trong danh sách địa bàn hiện hành.",
            code=code,
            name=commune.name,
        )
    if not actor.serves_province(commune.province_id):
        raise InvalidField(
            field, "Xã/phường %(name)s (%(code)s) không thuộc tỉnh bạn phụ trách.", name=commune.name, code=code
        )
    return commune


def _commune(session: Session, code: str) -> Commune | None:
    try:
        return commune_by_code(session, code, open_only=False)
    except NotFound:
        return None


def clean_market(
    session: Session, actor: Viewer, data: MarketInput, *, current_commune_id: int | None = None
) -> tuple[dict[str, Any], Commune]:
    """The market's columns as stored, by the one rule set; the first broken rule (in the form's order) is raised."""
    code = clean_market_code(data.code)
    name = clean_text(data.name, field="name", label=N_("Tên chợ"), limit=NAME_MAX, required=True)
    commune = check_commune(
        _commune(session, data.commune_code), (data.commune_code or "").strip(), actor, current_id=current_commune_id
    )
    address = clean_text(data.address, field="address", label=N_("Địa chỉ"), limit=ADDRESS_MAX, required=False)
    target = parse_target_percent(data.target_percent)
    by = parse_target_date(data.target_date)
    if by and target is None:
        raise InvalidField("target_percent", "Có hạn thì cần ghi mục tiêu (%); để trống cả hai để theo mục tiêu chung.")
    return {
        "code": code,
        "name": name,
        "commune_id": commune.id,
        "address": address or None,
        "is_demo": parse_flag(data.is_demo),
        "target_percent": target,
        "target_date": by,
    }, commune


def snapshot(fields: dict[str, Any], commune_code: str) -> dict[str, Any]:
    """What an audit row and an import compare: the market as people name it (its commune by official code)."""
    return {
        "code": fields["code"],
        "name": fields["name"],
        "commune": commune_code,
        "address": fields["address"],
        "is_demo": fields["is_demo"],
        "target_percent": fields["target_percent"],
        "target_date": fields["target_date"],
    }


def market_snapshot(market: Market, commune_code: str) -> dict[str, Any]:
    return snapshot(
        {k: getattr(market, k) for k in ("code", "name", "address", "is_demo", "target_percent", "target_date")},
        commune_code,
    )


def check_code_free(session: Session, code: str, own_id: int | None = None) -> None:
    other = session.exec(select(Market.id).where(Market.code == code)).first()
    if other is not None and other != own_id:
        raise Duplicate("code", "Mã chợ '%(code)s' đã được dùng cho một chợ khác.", existing_id=other, code=code)


def create_market(session: Session, actor: Viewer, data: MarketInput, *, source_ip: str | None = None) -> Market:
    """A new market in an official commune of the actor's provinces, audited as market.create."""
    require_admin(actor)
    fields, commune = clean_market(session, actor, data)
    check_code_free(session, fields["code"])
    market = Market(**fields)
    try:
        session.add(market)
        session.flush()
        audit.record_change(
            session,
            actor,
            "market.create",
            f"market:{market.code}",
            {},
            snapshot(fields, commune.code),
            source_ip=source_ip,
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        check_code_free(session, fields["code"])  # another tablet took the code a moment earlier
        raise
    return market


def update_market(
    session: Session,
    actor: Viewer,
    market_id: int,
    data: MarketInput,
    *,
    expected_version: int,
    source_ip: str | None = None,
) -> Market:
    """Edit a market; a stale form (somebody saved since it was opened) is an EditConflict, never an overwrite."""
    info = get_managed_market(session, actor, market_id)
    market = info.market
    fields, commune = clean_market(session, actor, data, current_commune_id=market.commune_id)
    check_code_free(session, fields["code"], own_id=market.id)
    old = market_snapshot(market, info.commune.code)
    claimed = session.exec(
        update(Market)
        .where(Market.id == market.id, Market.version == expected_version)
        .values(version=expected_version + 1)
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise EditConflict(
            "Chợ này vừa được người khác sửa. Giá trị hiện tại được hiển thị bên dưới; hãy kiểm tra rồi lưu lại."
        )
    try:
        session.refresh(market)
        apply_fields(session, actor, market, old, fields, commune.code, source_ip=source_ip)
        session.commit()
    except IntegrityError:
        session.rollback()
        check_code_free(session, fields["code"], own_id=market_id)
        raise
    return market


def apply_fields(
    session: Session,
    actor: Viewer,
    market: Market,
    old: dict[str, Any],
    fields: dict[str, Any],
    commune_code: str,
    **extra: Any,
) -> None:
    """Write cleaned fields onto a market and audit old → new as market.update; the caller commits."""
    for key, value in fields.items():
        setattr(market, key, value)
    session.add(market)
    audit.record_change(
        session, actor, "market.update", f"market:{market.code}", old, snapshot(fields, commune_code), **extra
    )


def set_closed(
    session: Session, actor: Viewer, market_id: int, *, closed: bool, source_ip: str | None = None
) -> Market:
    """Close a market (it keeps its households, stalls and history, and takes no new registration) or reopen it."""
    market = get_managed_market(session, actor, market_id).market
    if (market.closed_at is not None) == closed:
        message = N_("Chợ %(name)s đã đóng.") if closed else N_("Chợ %(name)s đang mở.")
        raise InvalidField("market", message, name=market.name)
    market.closed_at = utcnow() if closed else None
    session.add(market)
    audit.record(
        session,
        actor,
        "market.close" if closed else "market.reopen",
        subject=f"market:{market.code}",
        source_ip=source_ip,
    )
    session.commit()
    return market


@dataclass(frozen=True)
class MarketRow:
    id: int
    code: str
    name: str
    commune: str
    province: str
    closed: bool
    is_demo: bool
    stalls: int


def list_markets(
    session: Session, actor: Viewer, *, q: str = "", state: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[MarketRow], int]:
    """One page of the markets the actor manages and how many match in all; stalls counted for that page only."""
    require_admin(actor)
    stmt = (
        select(
            Market.id,
            Market.code,
            Market.name,
            Commune.name,
            Province.name,
            Market.closed_at.is_not(None),
            Market.is_demo,
        )
        .join(Commune, Commune.id == Market.commune_id)
        .join(Province, Province.id == Commune.province_id)
        .where(managed_condition(actor))
    )
    if q.strip():
        needle = f"%{q.strip()}%"
        stmt = stmt.where(Market.name.ilike(needle) | Market.code.ilike(needle) | Commune.name.ilike(needle))
    if state in ("open", "closed"):
        stmt = stmt.where(Market.closed_at.is_(None) if state == "open" else Market.closed_at.is_not(None))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(Province.name, Commune.name, Market.name).offset(offset).limit(limit)).all()
    ids = [r[0] for r in rows]
    counts = (
        dict(
            session.exec(
                select(Stall.market_id, func.count()).where(Stall.market_id.in_(ids)).group_by(Stall.market_id)
            ).all()
        )
        if ids
        else {}
    )
    return [MarketRow(*r, stalls=counts.get(r[0], 0)) for r in rows], total
