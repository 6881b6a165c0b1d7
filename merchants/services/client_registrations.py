"""Registrations sent by a client under an id it made (the tablet's offline outbox, or any other client).

The same ``client_id`` arriving again, however often and however concurrently, gets the first answer back and
registers nothing; a different body under a known id is refused with the stored record. Everything else is the
register form's path: ``households.plan_registration`` checks and verifies, ``registration.write_registrations``
writes, in one transaction with the ``RegistrationRequest`` row that makes the retry safe.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from merchants import identity, stallcodes
from merchants.errors import N_, DomainError, InvalidField, NotFound
from merchants.models import Household, IssuedQR, Market, RegistrationRequest, Stall
from merchants.scope import Viewer, market_column_visible
from merchants.services import households as hs
from merchants.services import registration as reg
from merchants.services import stalls as stall_service
from merchants.services.households import AccountInput, HouseholdInput, NewStall

TEXT_FIELDS = ("market", "owner_name", "phone", "citizen_id", "goods", "bank_bin", "account_number", "holder_name")
OPTIONAL_TEXT = ("new_stall_code", "new_stall_zone", "captured_at")
MAX_TEXT = 200  # longer than any field's own limit: a longer value is refused before any rule runs
MAX_STALLS = hs.MAX_STALLS  # the stalls one household takes at a time: the same limit as the form
# The service's field names where the API's differ (the body says bank_bin; the rules say bin).
API_FIELD = {"bin": "bank_bin"}


class FieldErrors(DomainError):
    """The body broke rules of several fields; ``fields`` maps each API field to its (Vietnamese) message."""

    def __init__(self, fields: dict[str, str | DomainError]) -> None:
        super().__init__(N_("Dữ liệu đăng ký chưa hợp lệ; xem từng trường."))
        self.fields = fields


class ClientIdConflict(DomainError):
    """The client id is known with other content: nothing changed; ``answer`` is the stored record, if visible."""

    def __init__(self, answer: Answer | None) -> None:
        super().__init__(N_("Mã hồ sơ (client_id) này đã được gửi với nội dung khác; không có gì thay đổi."))
        self.answer = answer


@dataclass(frozen=True)
class Answer:
    """What the client is told about its registration, the first time and on every replay."""

    household_id: int
    payload: str | None
    status: str
    created: bool  # False on a replay


def register_from_client(session: Session, actor: Viewer, body: Any) -> Answer:
    """Register the body's household once per ``client_id``; see the module docstring for replays and conflicts."""
    hs.require(actor, "register")
    if actor.user_id is None:
        raise DomainError(N_("Chỉ người dùng đã đăng nhập mới gửi được hồ sơ đăng ký."))
    user_id = actor.user_id
    client_id, fields = _read_body(body)
    digest = content_hash(body)
    known = _known(session, actor, client_id, digest)
    if known is not None:
        return known
    try:
        planned = _plan(session, actor, fields)
    except FieldErrors:
        # A concurrent retry of this very registration may have been stored since the look above: its CCCD,
        # account or stall now read as taken. Then this one is its replay, not a refusal.
        session.rollback()
        known = _known(session, actor, client_id, digest)
        if known is not None:
            return known
        raise
    try:
        (hid,) = reg.write_registrations(
            session, actor, market_id_of(planned.market), [planned.plan], planned.stalls, source=reg.API
        )
        session.add(
            RegistrationRequest(
                client_id=client_id,
                user_id=user_id,
                content_hash=digest,
                household_id=hid,
                captured_at=fields["captured_at"],
            )
        )
        session.commit()
    except (IntegrityError, reg.StallTaken):
        session.rollback()
        # A concurrent retry of this very registration may have won: then this one is its replay.
        known = _known(session, actor, client_id, digest)
        if known is not None:
            return known
        raise FieldErrors(_lost_race(session, planned)) from None
    except Exception:
        session.rollback()
        raise
    return _answer(session, hid, created=True)


def content_hash(body: Any) -> str:
    """What "the same content" means: the body's JSON with sorted keys, hashed."""
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _known(session: Session, actor: Viewer, client_id: str, digest: str) -> Answer | None:
    row = session.exec(select(RegistrationRequest).where(RegistrationRequest.client_id == client_id)).first()
    if row is None:
        return None
    visible = session.exec(
        select(Household.id).where(Household.id == row.household_id, market_column_visible(actor, Household.market_id))
    ).first()
    answer = _answer(session, row.household_id, created=False) if visible else None
    if row.content_hash != digest or row.user_id != actor.user_id or answer is None:
        raise ClientIdConflict(answer)
    return answer


def _answer(session: Session, household_id: int, *, created: bool) -> Answer:
    status = session.exec(select(Household.status).where(Household.id == household_id)).one()
    payload = session.exec(
        select(IssuedQR.payload).where(IssuedQR.household_id == household_id, col(IssuedQR.revoked_at).is_(None))
    ).first()
    return Answer(household_id, payload, status, created)


def _text(body: dict[str, Any], name: str, errors: dict[str, str | DomainError]) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = N_("Giá trị phải là chuỗi ký tự.")
        return ""
    if len(value) > MAX_TEXT:
        errors[name] = InvalidField(name, "Giá trị dài quá %(limit)s ký tự.", limit=MAX_TEXT)
        return ""
    return value


def _read_body(body: Any) -> tuple[str, dict[str, Any]]:
    """The body's shape: a JSON object with a UUID client id, text fields and a list of stall codes."""
    if not isinstance(body, dict):
        raise FieldErrors({"body": N_("Nội dung gửi lên phải là một đối tượng JSON.")})
    errors: dict[str, str | DomainError] = {}
    raw_id = body.get("client_id")
    client_id = ""
    try:
        client_id = str(uuid.UUID(raw_id)) if isinstance(raw_id, str) and len(raw_id) <= 36 else ""
    except ValueError:
        pass
    if not client_id:
        errors["client_id"] = N_("Mã hồ sơ (client_id) phải là một UUID do máy tính bảng tạo.")
    fields: dict[str, Any] = {name: _text(body, name, errors) for name in TEXT_FIELDS + OPTIONAL_TEXT}
    stalls = body.get("stalls", [])
    if not isinstance(stalls, list) or not all(isinstance(s, str) for s in stalls) or len(stalls) > MAX_STALLS:
        errors["stalls"] = InvalidField(
            "stalls", "Danh sách sạp phải là tối đa %(limit)s mã sạp (chuỗi ký tự).", limit=MAX_STALLS
        )
        stalls = []
    fields["stalls"] = stalls
    alias = body.get("account_alias", False)
    if not isinstance(alias, bool):
        errors["account_alias"] = N_("Giá trị phải là true hoặc false.")
    fields["account_alias"] = alias is True
    fields["captured_at"] = _captured_at(fields["captured_at"], errors)
    if not fields["market"].strip():
        errors["market"] = N_("Hãy ghi mã chợ.")
    if errors:
        raise FieldErrors(errors)
    return client_id, fields


def _captured_at(text: str, errors: dict[str, str | DomainError]) -> datetime | None:
    """When the officer saved it on the tablet: ISO 8601 with its offset, kept in UTC."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        errors["captured_at"] = N_("Thời điểm lưu phải theo ISO 8601 kèm múi giờ, ví dụ 2026-12-01T08:30:00+07:00.")
        return None
    return at.astimezone(UTC)


def _plan(session: Session, actor: Viewer, fields: dict[str, Any]) -> hs.Planned:
    """Every field checked by the form's rules, all problems at once; then the conflicts the form checks."""
    errors: dict[str, str | DomainError] = {}
    market = session.exec(
        select(Market).where(Market.code == fields["market"].strip().upper(), market_column_visible(actor, Market.id))
    ).first()
    if market is None:
        raise FieldErrors(
            {
                "market": NotFound(
                    "Không tìm thấy chợ '%(code)s' trong địa bàn của bạn.",
                    field="market",
                    code=fields["market"].strip(),
                )
            }
        )
    household = HouseholdInput(fields["owner_name"], fields["phone"], fields["citizen_id"], fields["goods"])
    for name, check in (
        ("owner_name", lambda: hs.clean_household(HouseholdInput(household.owner_name, goods=household.goods))),
        ("phone", lambda: household.phone.strip() and identity.normalise_phone(household.phone)),
        ("citizen_id", lambda: household.citizen_id.strip() and identity.validate_citizen_id(household.citizen_id)),
    ):
        _collect(errors, name, check)
    account = None
    if fields["bank_bin"] or fields["account_number"]:
        account = AccountInput(
            fields["bank_bin"], fields["account_number"], fields["holder_name"], alias=fields["account_alias"]
        )
        owner = household.owner_name or "x"
        _collect(errors, "account_number", lambda: hs.clean_account(account, owner))
    stalls = _stalls(session, market, fields["stalls"], errors)
    new_stall = NewStall(fields["new_stall_code"], fields["new_stall_zone"]) if fields["new_stall_code"] else None
    if errors:
        raise FieldErrors(errors)
    try:
        return hs.plan_registration(session, market, stalls, household=household, account=account, new_stall=new_stall)
    except InvalidField as exc:
        raise FieldErrors({_api_field(exc.field): exc}) from None
    except DomainError as exc:
        if exc.field:
            raise FieldErrors({_api_field(exc.field): exc}) from None
        raise


def _collect(errors: dict[str, str | DomainError], name: str, check: Any) -> None:
    try:
        check()
    except DomainError as exc:
        errors.setdefault(_api_field(exc.field or name), exc)


def _api_field(field: str | None) -> str:
    return API_FIELD.get(field or "", field or "body")


def _stalls(session: Session, market: Market, codes: list[str], errors: dict[str, str | DomainError]) -> list[Stall]:
    """The market's stalls by code, by the one stall-code rule; an unknown code is refused, never created here."""
    try:
        cleaned = [stallcodes.clean_stall_code(c, field="stalls") for c in codes]
    except DomainError as exc:
        errors["stalls"] = exc
        return []
    if not cleaned:
        return []
    rows = {
        s.code.upper(): s
        for s in session.exec(select(Stall).where(Stall.market_id == market.id, col(Stall.code).in_(cleaned)))
    }
    missing = [c for c in cleaned if c.upper() not in rows]
    if missing:
        errors["stalls"] = InvalidField(
            "stalls",
            "Chợ %(market)s không có sạp %(codes)s; hãy chọn sạp trong danh sách.",
            market=market.name,
            codes=", ".join(missing),
        )
    return [rows[c.upper()] for c in dict.fromkeys(cleaned) if c.upper() in rows]


def _lost_race(session: Session, planned: hs.Planned) -> dict[str, str | DomainError]:
    """Another tablet saved first: which of the CCCD, the account, a stall or the new stall's code it took."""
    plan = planned.plan
    try:
        hs.explain_integrity_error(
            session, citizen_id=plan.household["citizen_id"], account=plan.account[:2] if plan.account else None
        )
        if planned.adds_stall:
            stall_service.check_new_code(
                session, market_id_of(planned.market), plan.stall_codes[-1], field="new_stall_code"
            )
    except DomainError as exc:
        return {_api_field(exc.field): exc}
    taken = [code for sid, code, _ in planned.stalls.values() if _holder(session, sid) is not None]
    return {"stalls": InvalidField("stalls", hs.STALL_TAKEN, code=", ".join(taken or plan.stall_codes))}


def market_id_of(market: Market) -> int:
    assert market.id is not None, "a market read from the database has its id"
    return market.id


def _holder(session: Session, stall_id: int) -> int | None:
    return session.exec(select(Stall.household_id).where(Stall.id == stall_id)).one()
