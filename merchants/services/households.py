"""Registering a household, editing it, and changing its bank account (the dangerous operation)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from merchants import identity
from merchants import status as st
from merchants.errors import N_, Duplicate, EditConflict, Forbidden, InvalidField, NotFound
from merchants.limits import max_length
from merchants.models import BankAccount, Household, Market, Stall, utcnow
from merchants.scope import Viewer, market_column_visible
from merchants.services import registration as reg
from merchants.services import stalls as stall_service
from merchants.services.audit import changed, move_status, record
from merchants.services.issuing import issue_qr, verified_qr
from merchants.services.registration import search_text_for
from merchants.services.registry_queries import MarketInfo
from qr import get_bank

# The refusals every door (form, import, API) gives for what another household holds, in one place.
STALL_TAKEN = N_("Sạp %(code)s đã có hộ kinh doanh.")
STALL_CLOSED = N_("Sạp %(code)s đã đóng; hãy chọn sạp khác.")
CITIZEN_ID_TAKEN = N_("Số CCCD này đã được đăng ký cho một hộ khác.")
ACCOUNT_TAKEN = N_("Tài khoản ngân hàng này đã gắn với một hộ khác.")
MAX_STALLS = 20  # stalls one household takes at a time, by the form or the API
TOO_MANY_STALLS = N_("Một hộ đăng ký tối đa %(limit)s sạp một lần.")


@dataclass(frozen=True)
class HouseholdInput:
    """What the registration form collects, as typed by the officer."""

    owner_name: str
    phone: str = ""
    citizen_id: str = ""
    goods: str = ""


@dataclass(frozen=True)
class NewStall:
    """A stall not listed yet that the officer adds on the registration form, so its trader is not turned away."""

    code: str
    zone: str = ""


@dataclass(frozen=True)
class AccountInput:
    bin: str
    account_number: str
    holder_name: str = ""
    alias: bool = False  # the officer confirmed a bank-issued alias account with letters


def require(actor: Viewer, capability: str) -> None:
    """Refuse a use case the actor's role does not allow (services check, whatever the page showed)."""
    if not actor.can(capability):
        raise Forbidden("Vai trò của bạn không được phép thực hiện thao tác này.")


def get_household(session: Session, actor: Viewer, household_id: int) -> Household:
    """A household inside the actor's scope, or NotFound (never a hint that it exists elsewhere)."""
    row = session.exec(
        select(Household).where(Household.id == household_id, market_column_visible(actor, Household.market_id))
    ).first()
    if row is None:
        raise NotFound("Không tìm thấy hộ kinh doanh.")
    return row


def clean_household(data: HouseholdInput) -> dict[str, str | None]:
    """The owner fields as stored, by the form's rules; shared with the spreadsheet import."""
    owner = identity.clean_name(data.owner_name)
    if not owner:
        raise InvalidField("owner_name", "Họ tên chủ hộ không được để trống.")
    if len(owner) > (limit := max_length(Household, "owner_name")):
        raise InvalidField("owner_name", "Họ tên chủ hộ dài quá %(limit)s ký tự.", limit=limit)
    goods = identity.clean_name(data.goods)
    if len(goods) > (limit := max_length(Household, "goods")):
        raise InvalidField("goods", "Mặt hàng dài quá %(limit)s ký tự.", limit=limit)  # refused, never silently cut
    return {
        "owner_name": owner,
        "phone": identity.normalise_phone(data.phone) if data.phone.strip() else None,
        "citizen_id": identity.validate_citizen_id(data.citizen_id) if data.citizen_id.strip() else None,
        "goods": goods,
    }


def clean_account(data: AccountInput, owner_name: str) -> tuple[str, str, str]:
    """(BIN, account number, holder name) as stored; the holder defaults to the owner's name in bank form."""
    if get_bank(data.bin) is None:
        raise InvalidField("bin", "Hãy chọn ngân hàng trong danh sách NAPAS.")
    number = identity.normalise_account_number(data.account_number, alias=data.alias)
    holder = identity.normalise_holder_name(data.holder_name or owner_name)
    return data.bin, number, holder


def _check_citizen_id_free(session: Session, citizen_id: str | None, own_id: int | None = None) -> None:
    if not citizen_id:
        return
    other = session.exec(select(Household.id).where(Household.citizen_id == citizen_id)).first()
    if other is not None and other != own_id:
        raise Duplicate("citizen_id", CITIZEN_ID_TAKEN, existing_id=other)


def _check_account_free(session: Session, bin: str, number: str, own_id: int | None = None) -> None:
    other = session.exec(
        select(BankAccount.household_id).where(
            BankAccount.bin == bin, BankAccount.account_number == number, BankAccount.active
        )
    ).first()
    if other is not None and other != own_id:
        raise Duplicate("account_number", ACCOUNT_TAKEN, existing_id=other)


def explain_integrity_error(
    session: Session, *, citizen_id: str | None, account: tuple[str, str] | None, own_id: int | None = None
) -> None:
    """A unique index refused a save that passed the checks because another tablet saved first: say which."""
    session.rollback()
    _check_citizen_id_free(session, citizen_id, own_id)
    if account:
        _check_account_free(session, account[0], account[1], own_id)


def register_household(
    session: Session,
    market: MarketInfo,
    *,
    stall_ids: list[int],
    household: HouseholdInput,
    account: AccountInput | None,
    new_stall: NewStall | None = None,
    source_ip: str | None = None,
    source: str = reg.FORM,
) -> Household:
    """Create a household at its stalls and, with an account, issue its verified QR: all or nothing.

    ``market`` is the scope checked once for the request (``registry_queries.get_market``); its viewer registers.
    The stalls are checked here, not by the form: each must be one of this market's, open and still free.
    ``new_stall`` is created in the same transaction (checked by ``stallcodes``, refused if the market has it).
    A closed market or stall takes no new household.
    """
    open_market = _open_market(market)
    wanted = set(stall_ids)
    if len(wanted) > MAX_STALLS:
        raise InvalidField("stalls", TOO_MANY_STALLS, limit=MAX_STALLS)
    stalls = (
        list(session.exec(select(Stall).where(col(Stall.id).in_(sorted(wanted)), Stall.market_id == market.id)))
        if wanted
        else []
    )
    if len(stalls) != len(wanted):
        raise InvalidField("stalls", "Hãy chọn ít nhất một sạp của chợ này.")
    return register_planned(
        session,
        market.viewer,
        plan_registration(session, open_market, stalls, household=household, account=account, new_stall=new_stall),
        source=source,
        source_ip=source_ip,
    )


def _open_market(market: MarketInfo) -> Market:
    """The market to register in, if its viewer may register and it is not closed (its scope was checked when
    ``market`` was made, in this request: it is not read again)."""
    require(market.viewer, "register")
    if market.market.closed_at is not None:
        raise InvalidField("market", "Chợ %(name)s đã đóng; không nhận đăng ký hộ mới.", name=market.market.name)
    return market.market


def plan_registration(
    session: Session,
    market: Market,
    stalls: list[Stall],
    *,
    household: HouseholdInput,
    account: AccountInput | None,
    new_stall: NewStall | None = None,
) -> Planned:
    """Check one registration by the form's rules and verify its QR; nothing is written yet.

    The QR is rendered and decoded back here, before any write, so the database is locked only for the inserts.
    """
    fields = clean_household(household)
    if not (stalls or new_stall):
        raise InvalidField("stalls", "Hãy chọn ít nhất một sạp của chợ này.")
    for stall in stalls:
        if stall.household_id is not None:
            raise Duplicate("stalls", STALL_TAKEN, existing_id=stall.household_id, code=stall.code)
        if stall.closed_at is not None:
            raise InvalidField("stalls", STALL_CLOSED, code=stall.code)
    codes, zone = [s.code for s in stalls], ""
    if new_stall:
        codes.append(stall_service.check_new_code(session, market.id, new_stall.code, field="new_stall_code"))
        zone = stall_service.clean_zone(new_stall.zone, field="new_stall_zone")
    cleaned = clean_account(account, fields["owner_name"] or "") if account else None
    _check_citizen_id_free(session, fields["citizen_id"])
    if cleaned:
        _check_account_free(session, cleaned[0], cleaned[1])
    plan = reg.RegistrationPlan(0, fields, codes, zone, cleaned)
    if cleaned:
        verified = verified_qr(cleaned[0], cleaned[1])
        plan.payload, plan.modules = verified.payload, verified.modules
    return Planned(market, plan, {s.code.upper(): (s.id, s.code, None) for s in stalls}, new_stall is not None)


@dataclass(frozen=True)
class Planned:
    """A checked registration and the free stalls it claims, ready for ``register_planned``."""

    market: Market
    plan: reg.RegistrationPlan
    stalls: reg.StallMap
    adds_stall: bool


def register_planned(
    session: Session, actor: Viewer, planned: Planned, *, source: str, source_ip: str | None = None
) -> Household:
    """Write one planned registration and commit; a race lost to another tablet is explained by field."""
    plan = planned.plan
    try:
        (hid,) = reg.write_registrations(
            session, actor, planned.market.id, [plan], planned.stalls, source=source, source_ip=source_ip
        )
        session.commit()
    except reg.StallTaken as exc:
        session.rollback()
        holder = session.exec(select(Stall.household_id).where(Stall.id == exc.stall_id)).one()
        code = next(c for sid, c, _ in planned.stalls.values() if sid == exc.stall_id)
        raise Duplicate("stalls", STALL_TAKEN, existing_id=holder or 0, code=code) from None
    except IntegrityError:
        explain_integrity_error(
            session, citizen_id=plan.household["citizen_id"], account=plan.account[:2] if plan.account else None
        )
        if planned.adds_stall:  # another tablet added the same stall a moment earlier
            stall_service.check_new_code(session, planned.market.id, plan.stall_codes[-1], field="new_stall_code")
        raise
    except Exception:
        session.rollback()
        raise
    return session.get_one(Household, hid)


def _open_account(
    session: Session, actor: Viewer, h: Household, bin: str, number: str, holder: str, *, source_ip: str | None = None
) -> BankAccount:
    acc = BankAccount(
        household_id=h.id, bin=bin, account_number=number, holder_name=holder, created_by_id=actor.user_id
    )
    session.add(acc)
    session.flush()
    record(
        session,
        actor,
        "account.open",
        household_id=h.id,
        source_ip=source_ip,
        bin=bin,
        account=identity.mask_tail(number),
        holder_name=holder,
    )
    if h.status == st.REGISTERED:
        move_status(session, actor, h, st.ACCOUNT_OPENED)
    issue_qr(session, actor, h, acc)
    return acc


def active_account(session: Session, household_id: int) -> BankAccount | None:
    return session.exec(select(BankAccount).where(BankAccount.household_id == household_id, BankAccount.active)).first()


def _bump_version(session: Session, h: Household, expected_version: int) -> None:
    """Claim the row for this save: refused if anybody saved since the form was opened."""
    claimed = session.exec(
        update(Household)
        .where(Household.id == h.id, Household.version == expected_version)
        .values(version=expected_version + 1, updated_at=utcnow())
    ).rowcount
    if claimed != 1:
        session.rollback()
        raise EditConflict(
            "Hộ này vừa được người khác sửa. Dữ liệu hiện tại được hiển thị bên dưới; hãy kiểm tra rồi lưu lại."
        )
    session.refresh(h)


PERSONAL_FIELDS = ("citizen_id", "phone")  # masked in the audit trail: its readers need not have the pii right


def _masked(values: dict[str, str | None]) -> dict[str, str | None]:
    """Owner fields as the audit trail keeps them: CCCD and phone to their last four digits."""
    return {k: (identity.mask_tail(v) or None) if k in PERSONAL_FIELDS else v for k, v in values.items()}


def update_household(
    session: Session,
    actor: Viewer,
    household_id: int,
    *,
    expected_version: int,
    household: HouseholdInput,
    source_ip: str | None = None,
) -> Household:
    """Edit owner details; a stale form is refused with EditConflict instead of overwriting.

    The audit row keeps each changed field as old → new (``{field: [old, new]}``), CCCD and phone masked.
    """
    require(actor, "edit")
    h = get_household(session, actor, household_id)
    fields = clean_household(household)
    _check_citizen_id_free(session, fields["citizen_id"], own_id=h.id)
    try:
        _bump_version(session, h, expected_version)
        before = {k: getattr(h, k) for k in fields}
        for k, v in fields.items():
            setattr(h, k, v)
        acc = active_account(session, h.id)
        h.search_text = search_text_for(h, acc.account_number if acc else None)
        session.add(h)
        record(
            session,
            actor,
            "household.update",
            household_id=h.id,
            source_ip=source_ip,
            changes=changed(_masked(before), _masked(fields)),
        )
        session.commit()
    except EditConflict:
        raise
    except IntegrityError:
        explain_integrity_error(session, citizen_id=fields["citizen_id"], account=None, own_id=h.id)
        raise
    except Exception:
        session.rollback()
        raise
    return h


def change_account(
    session: Session,
    actor: Viewer,
    household_id: int,
    *,
    expected_version: int,
    account: AccountInput,
    reason: str,
    source_ip: str | None = None,
) -> BankAccount:
    """Replace the active account: needs a reason, keeps history, revokes the old QR and placards."""
    require(actor, "edit")
    h = get_household(session, actor, household_id)
    reason = identity.clean_name(reason)
    if len(reason) < 5:
        raise InvalidField("reason", "Hãy ghi rõ lý do đổi tài khoản (ít nhất 5 ký tự).")
    bin, number, holder = clean_account(account, h.owner_name)
    old = active_account(session, h.id)
    if old and (old.bin, old.account_number, old.holder_name) == (bin, number, holder):
        raise InvalidField("account_number", "Tài khoản mới trùng với tài khoản đang dùng.")
    _check_account_free(session, bin, number, own_id=h.id)
    had_qr = st.reached(h.status, st.QR_ISSUED)
    try:
        _bump_version(session, h, expected_version)
        if old:
            old.active, old.closed_at, old.closed_reason = False, utcnow(), reason[:300]
            session.add(old)
            session.flush()
        record(
            session,
            actor,
            "account.change",
            household_id=h.id,
            source_ip=source_ip,
            reason=reason,
            old_bin=old.bin if old else None,
            old_account=identity.mask_tail(old.account_number if old else None),
            new_bin=bin,
            new_account=identity.mask_tail(number),
            holder_name=holder,
        )
        acc = _open_account(session, actor, h, bin, number, holder, source_ip=source_ip)
        h.needs_reprint = h.needs_reprint or had_qr  # the old QR may be on paper or a screen somewhere
        h.search_text = search_text_for(h, number)
        session.add(h)
        session.commit()
    except EditConflict:
        raise
    except IntegrityError:
        explain_integrity_error(session, citizen_id=None, account=(bin, number), own_id=h.id)
        raise
    except Exception:
        session.rollback()
        raise
    return acc


def count_households(session: Session, actor: Viewer) -> int:
    return session.exec(
        select(func.count()).select_from(Household).where(market_column_visible(actor, Household.market_id))
    ).one()
