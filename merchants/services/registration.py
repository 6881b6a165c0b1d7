"""The registration plan: what registering a household writes, in one place for the form, the import and the API.

Every way a household comes in (the register form, a spreadsheet import, ``POST /api/v1/registrations``) first
turns its input into :class:`RegistrationPlan` objects, each cleaned by the form's rules and carrying a QR that was
already decoded back, then hands them to :func:`write_registrations`. That one writer leaves every row a
registration leaves (household, stalls, account, issued QR, status events, audit), so the three doors cannot drift
apart, and the slow part (rendering and decoding the QR) happens before the write transaction starts.

Rows are written with multi-row INSERTs (no ORM objects: building 90,000 of them costs more than the SQL), so every
column is given here: table defaults live on the models, which bulk inserts bypass. A test compares an imported
household's rows with a form-registered one's, column by column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from merchants import identity
from merchants import status as st
from merchants.clock import vn_date
from merchants.models import AuditLog, BankAccount, Household, IssuedQR, Market, Stall, StatusEvent, utcnow
from merchants.scope import Viewer

# Where a registration came from, as its household.create audit row says.
FORM, IMPORT, API = "form", "import", "api"
# A stall added on the register form is audited as the stall pages always called it.
_STALL_SOURCE = {FORM: "register"}


@dataclass
class RegistrationPlan:
    """One household that passed every check, cleaned exactly as the form cleans it, ready to be written.

    ``stall_codes`` are the stalls it takes, as stored; a code the market does not have yet is created with the
    household in ``zone``. ``payload``/``modules`` are the verified QR (``issuing.verified_qr``) when there is an
    account. ``row`` is the spreadsheet row an import plan came from.
    """

    row: int
    household: dict[str, str | None]
    stall_codes: list[str]
    zone: str
    account: tuple[str, str, str] | None
    payload: str | None = None
    modules: str = ""


StallMap = dict[str, tuple[int, str, int | None]]  # CODE → (stall id, code as stored, household id)


class StallTaken(Exception):
    """A stall the checks saw free was taken (by another tablet) before this write claimed it."""

    def __init__(self, stall_id: int) -> None:
        super().__init__(stall_id)
        self.stall_id = stall_id


def write_registrations(
    session: Session,
    actor: Viewer,
    market_id: int,
    plans: list[RegistrationPlan],
    stalls: StallMap,
    *,
    source: str,
    source_ip: str | None = None,
) -> list[int]:
    """Write the households of ``plans`` at ``market_id``; their ids in plan order. The caller commits.

    ``stalls`` maps the market's existing stalls by upper-cased code; codes missing from it are created. A stall
    that is no longer free raises :class:`StallTaken`, and a unique index refusing a CCCD, an account or a new
    stall code raises ``IntegrityError``: either way the caller rolls back and explains.
    """
    now, user = utcnow(), actor.user_id
    homes = []
    for plan in plans:
        status = st.REGISTERED
        if plan.account:  # the moves a registration makes, each checked by the one transition rule
            status = st.check_transition(st.check_transition(status, st.ACCOUNT_OPENED), st.QR_ISSUED)
        homes.append(
            {
                "market_id": market_id,
                **plan.household,
                "status": status,
                "active": True,
                "needs_reprint": False,
                "qr_issued_on": vn_date(now) if plan.account else None,
                "version": 1,
                "created_at": now,
                "created_by_id": user,
                "updated_at": now,
                "search_text": search_text_for(
                    SimpleNamespace(**plan.household), plan.account[1] if plan.account else None
                ),
            }
        )
    home_ids = _insert(session, Household, homes, ids=True)
    created = _attach_stalls(session, market_id, plans, home_ids, stalls)
    audit = []
    if created:
        first, last = created[0], created[-1]
        audit.append(
            _audit(actor, "stall.create", None, now, source_ip, subject=_market_subject(session, market_id))
            | {
                "detail": _detail(
                    count=len(created),
                    first=first,
                    last=last,
                    zone=plans[0].zone,
                    source=_STALL_SOURCE.get(source, source),
                )
            }
        )
    audit += [
        _audit(
            actor,
            "household.create",
            hid,
            now,
            source_ip,
            stalls=p.stall_codes,
            citizen_id=identity.mask_tail(p.household["citizen_id"]),
            source=source,
            **_row_of(p, source),
        )
        for p, hid in zip(plans, home_ids, strict=True)
    ]
    paired = [(p, hid) for p, hid in zip(plans, home_ids, strict=True) if p.account]
    account_ids = _insert(
        session,
        BankAccount,
        [
            {
                "household_id": hid,
                "bin": p.account[0],
                "account_number": p.account[1],
                "holder_name": p.account[2],
                "active": True,
                "created_at": now,
                "created_by_id": user,
                "closed_at": None,
                "closed_reason": None,
            }
            for p, hid in paired
            if p.account
        ],
        ids=True,
    )
    qr_ids = _insert(
        session,
        IssuedQR,
        [
            {
                "household_id": hid,
                "bank_account_id": aid,
                "payload": p.payload,
                "modules": p.modules,
                "issued_at": now,
                "issued_by_id": user,
                "revoked_at": None,
            }
            for (p, hid), aid in zip(paired, account_ids, strict=True)
        ],
        ids=True,
    )
    events = []
    for p, hid in paired:
        assert p.account is not None and p.payload, "a plan with an account carries its verified QR"
        audit.append(
            _audit(
                actor,
                "account.open",
                hid,
                now,
                source_ip,
                bin=p.account[0],
                account=identity.mask_tail(p.account[1]),
                holder_name=p.account[2],
            )
        )
        events += [
            {"household_id": hid, "status": s, "at": now, "user_id": user} for s in (st.ACCOUNT_OPENED, st.QR_ISSUED)
        ]
    audit += [
        _audit(actor, "qr.issue", hid, now, source_ip, qr_id=qid, revoked_placards=0)
        for (_, hid), qid in zip(paired, qr_ids, strict=True)
    ]
    _insert(session, StatusEvent, events)
    _insert(session, AuditLog, audit)
    return home_ids


def _row_of(plan: RegistrationPlan, source: str) -> dict[str, Any]:
    """An import's household.create row also says which row of the file it came from."""
    return {"row": plan.row} if source == IMPORT else {}


def search_text_for(h: Any, account_number: str | None) -> str:
    """The accent-free text that search-as-you-type matches: name, goods, phone, CCCD, account."""
    phone_local = identity.format_phone(h.phone).replace(" ", "")
    return identity.search_key(h.owner_name, h.goods, phone_local, h.citizen_id, account_number)[:400]


def _insert(session: Session, model: Any, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """One multi-row INSERT; the new ids in row order when asked."""
    if not rows:
        return []
    table = model.__table__
    if not ids:
        session.exec(insert(table), params=rows)  # type: ignore[call-overload]
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.exec(stmt, params=rows).scalars())  # type: ignore[call-overload]


def _detail(**detail: Any) -> str:
    return json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)


def _audit(
    actor: Viewer,
    action: str,
    household_id: int | None,
    at: datetime,
    source_ip: str | None,
    *,
    subject: str = "",
    **detail: Any,
) -> dict[str, Any]:
    """An audit row exactly as ``audit.record`` writes it."""
    return {
        "at": at,
        "user_id": actor.user_id,
        "action": action,
        "household_id": household_id,
        "subject": subject[:80],
        "source_ip": source_ip,
        "detail": _detail(**detail),
    }


def _market_subject(session: Session, market_id: int) -> str:
    return f"market:{session.exec(select(Market.code).where(Market.id == market_id)).one()}"


def _attach_stalls(
    session: Session, market_id: int, plans: list[RegistrationPlan], home_ids: list[int], stalls: StallMap
) -> list[str]:
    """New stalls are created at their household; existing ones are claimed only if still free. The new codes."""
    claims: list[dict[str, int]] = []
    new: list[dict[str, Any]] = []
    for plan, hid in zip(plans, home_ids, strict=True):
        for code in plan.stall_codes:
            if code.upper() in stalls:
                claims.append({"sid": stalls[code.upper()][0], "hid": hid})
            else:
                new.append({"market_id": market_id, "code": code, "zone": plan.zone, "household_id": hid})
    _insert(session, Stall, new)
    if len({c["hid"] for c in claims}) == 1:
        _claim_for_one(session, claims[0]["hid"], [c["sid"] for c in claims])
    elif claims:
        table = Stall.__table__  # type: ignore[attr-defined]
        session.exec(  # type: ignore[call-overload]
            update(table)
            .where(table.c.id == bindparam("sid"), table.c.household_id.is_(None))
            .values(household_id=bindparam("hid")),
            params=claims,
        )
        _check_claims(session, {c["sid"]: c["hid"] for c in claims})
    return [row["code"] for row in new]


def _claim_for_one(session: Session, household_id: int, stall_ids: list[int]) -> None:
    """One household's stalls (the form, the API) in one UPDATE whose count tells whether each was still free:
    no second read inside the write transaction unless one was taken."""
    table = Stall.__table__  # type: ignore[attr-defined]
    claimed = session.exec(  # type: ignore[call-overload]
        update(table).where(table.c.id.in_(stall_ids), table.c.household_id.is_(None)).values(household_id=household_id)
    ).rowcount
    if claimed != len(set(stall_ids)):
        _check_claims(session, dict.fromkeys(stall_ids, household_id))


def _check_claims(session: Session, wanted: dict[int, int]) -> None:
    """Raise :class:`StallTaken` for the first stall that another household holds after the claims."""
    ids = list(wanted)
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        for sid, holder in session.exec(select(col(Stall.id), Stall.household_id).where(col(Stall.id).in_(part))):
            if sid is not None and wanted[sid] != holder:
                raise StallTaken(sid)
