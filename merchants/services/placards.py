"""Printing placards: which stalls, the data each placard shows, serials, and the status they move."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from merchants import identity
from merchants import status as st
from merchants.clock import vn_date
from merchants.errors import Forbidden, InvalidField
from merchants.models import BankAccount, Household, IssuedQR, Market, Placard, PrintBatch, Stall, utcnow
from merchants.scope import Viewer
from merchants.services.audit import move_status, record
from merchants.services.households import get_household
from merchants.services.registry_queries import MarketInfo, get_market
from qr import get_bank

if TYPE_CHECKING:
    from printouts import PlacardData


@dataclass(frozen=True)
class PrintItem:
    """One placard to print: a stall of a household with its current QR."""

    stall: Stall
    household: Household
    account: BankAccount
    qr: IssuedQR


def serial_for(market_code: str, placard_id: int) -> str:
    """Placard serial printed on the card: market code and a running number, e.g. 'CAIRONG-000123'."""
    return f"{market_code}-{placard_id:06d}"


def batch_serial(market_code: str, batch_id: int, index: int) -> str:
    """Serial of the ``index``-th placard (from 1) of a batch, e.g. 'CAIRONG-0012-0042'.

    Known before anything is recorded, so a batch can be rendered first and recorded only once whole.
    """
    return f"{market_code}-{batch_id:04d}-{index:04d}"


def needs_print() -> ColumnElement[bool]:
    """The one definition of "needs a print", for a stall of a household holding a live QR: no placard of it
    hangs, or the one that hangs shows what has changed since (``Household.needs_reprint``: its account or the
    stall's code). Printing clears both: the new placard is live and the flag is reset."""
    live = select(Placard.stall_id).where(col(Placard.revoked_at).is_(None))
    return or_(col(Stall.id).not_in(live), col(Household.needs_reprint))


def printable_items(
    session: Session,
    market: MarketInfo,
    *,
    selection: str = "all",
    zone: str = "",
    stall_codes: list[str] | None = None,
) -> list[PrintItem]:
    """Stalls of a market whose household holds a live QR, filtered by the print selection."""
    stmt = (
        select(Stall, Household, BankAccount, IssuedQR)
        .join(Household, Household.id == Stall.household_id)
        .join(BankAccount, (BankAccount.household_id == Household.id) & BankAccount.active)
        .join(IssuedQR, (IssuedQR.household_id == Household.id) & IssuedQR.revoked_at.is_(None))
        .where(Stall.market_id == market.id, Household.active)
        .order_by(Stall.zone, Stall.code)
    )
    if selection == "zone":
        stmt = stmt.where(Stall.zone == zone)
    elif selection == "picked":
        stmt = stmt.where(Stall.code.in_(stall_codes or []))
    elif selection == "needed":
        stmt = stmt.where(needs_print())
    elif selection != "all":
        raise InvalidField("selection", "Lựa chọn in '%(selection)s' không tồn tại.", selection=selection)
    return [PrintItem(*row) for row in session.exec(stmt)]


def placard_data(item: PrintItem, market: Market, serial: str) -> PlacardData:
    from printouts import PlacardData  # reportlab loads only when something is printed

    bank = get_bank(item.account.bin)
    return PlacardData(
        market_name=market.name,
        stall_code=item.stall.code,
        holder_name=item.account.holder_name,
        bank_short_name=bank.short_name if bank else item.account.bin,
        account_masked=identity.mask_tail(item.account.account_number),
        payload=item.qr.payload,
        serial=serial,
        issued_on=vn_date(item.qr.issued_at),
        owner_name=item.household.owner_name,
        goods=item.household.goods,
        qr_modules=item.qr.modules,
        sample=market.is_demo,
    )


def record_prints(
    session: Session,
    actor: Viewer,
    market: Market,
    items: list[PrintItem],
    batch: PrintBatch | None = None,
    *,
    serials: list[str] | None = None,
) -> list[str]:
    """Give each item a new serial (or the given ``serials``), revoke the previous placard of that stall,
    move status; returns the serials in item order; caller commits."""
    if not actor.can("print"):
        raise Forbidden("Vai trò của bạn không được in bảng QR.")
    if serials is not None and len(serials) != len(items):
        raise InvalidField(
            "serials", "Cần %(n_items)s số phiếu, nhận %(n_serials)s.", n_items=len(items), n_serials=len(serials)
        )
    out = []
    now = utcnow()
    stall_ids = [i.stall.id for i in items]
    if stall_ids:
        session.exec(
            update(Placard).where(Placard.stall_id.in_(stall_ids), Placard.revoked_at.is_(None)).values(revoked_at=now)
        )
    for n, item in enumerate(items):
        p = Placard(
            serial=serials[n] if serials else f"tmp-{item.stall.id}-{now.timestamp()}",
            household_id=item.household.id,
            stall_id=item.stall.id,
            qr_id=item.qr.id,
            batch_id=batch.id if batch else None,
            printed_by_id=actor.user_id,
        )
        session.add(p)
        session.flush()
        if not serials:
            p.serial = serial_for(market.code, p.id)
            session.add(p)
        h = item.household
        if h.status != st.PLACARD_PRINTED:
            move_status(session, actor, h, st.PLACARD_PRINTED)
        h.needs_reprint = False
        session.add(h)
        out.append(p.serial)
    record(session, actor, "placards.print", batch_id=batch.id if batch else None, market=market.code, serials=out)
    return out


def single_placard_pdf(session: Session, actor: Viewer, household_id: int, *, layout: str = "a6") -> tuple[bytes, str]:
    """Print the placards of one household's stalls now; returns the PDF and a file name."""
    from printouts import LAYOUTS, render_placards

    if layout not in LAYOUTS:
        raise InvalidField("layout", "Khổ in '%(layout)s' không có.", layout=layout)
    h = get_household(session, actor, household_id)
    info = get_market(session, actor, h.market_id)
    market = info.market
    items = [i for i in printable_items(session, info) if i.household.id == h.id]
    if not items:
        raise InvalidField("placard", "Hộ này chưa có mã QR hợp lệ để in.")
    try:
        serials = record_prints(session, actor, market, items)
        data = [placard_data(item, market, serial) for item, serial in zip(items, serials, strict=True)]
        buf = io.BytesIO()
        render_placards(data, buf, layout=layout, title=f"{market.name} – {items[0].stall.code}")
        session.commit()
    except Exception:
        session.rollback()
        raise
    return buf.getvalue(), f"bang-qr-{market.code}-{items[0].stall.code}.pdf"
