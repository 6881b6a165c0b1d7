"""Writing an import's checked rows: many households per statement, the same rows the form leaves.

Bulk inserts bypass the ORM (building 90,000 objects cost more than the SQL), so every column is written
here; a test compares an imported household's rows with a form-registered one's, column by column.
"""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from merchants import identity
from merchants import status as st
from merchants.clock import vn_date
from merchants.models import AuditLog, BankAccount, Household, IssuedQR, Stall, StatusEvent, utcnow
from merchants.scope import Viewer
from merchants.services.audit import record
from merchants.services.households import search_text_for
from merchants.services.import_types import BATCH, CONFLICT, Check, ImportConflict, Known, Plan, RowProblem, chunks


def new_stall_count(plans: list[Plan], known: Known) -> int:
    return sum(c.upper() not in known.stalls for p in plans for c in p.stall_codes)


def store(session: Session, actor: Viewer, market_id: int, check: Check, *, atomic: bool) -> list[RowProblem]:
    """Write the plans BATCH at a time; a batch that meets a concurrent change is retried row by row."""
    late: list[RowProblem] = []
    try:
        for batch in chunks(check.plans, BATCH):
            try:
                _write(session, actor, market_id, batch, check.known)
                if not atomic:
                    session.commit()
            except (IntegrityError, _StallTaken):
                session.rollback()
                if atomic:
                    raise
                late += _write_one_by_one(session, actor, market_id, batch, check)
        if atomic:
            session.commit()
    except (IntegrityError, _StallTaken) as exc:
        raise ImportConflict(
            "Trong lúc lưu, có người vừa đăng ký một sạp, số CCCD hoặc tài khoản trong tệp; "
            "không có gì được lưu. Hãy nhập lại tệp."
        ) from exc
    except Exception:
        session.rollback()
        raise
    return late


def _write_one_by_one(
    session: Session, actor: Viewer, market_id: int, batch: list[Plan], check: Check
) -> list[RowProblem]:
    late = []
    for plan in batch:
        try:
            _write(session, actor, market_id, [plan], check.known)
            session.commit()
        except (IntegrityError, _StallTaken):
            session.rollback()
            late.append(RowProblem(plan.row, check.column("stalls"), CONFLICT))
    return late


class _StallTaken(Exception):
    """A stall the checks saw free was taken before this batch claimed it."""


def _insert(session: Session, model: type, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """One multi-row INSERT (no ORM objects: building 90,000 of them costs more than the SQL); ids in row order."""
    if not rows:
        return []
    table = model.__table__
    if not ids:
        session.exec(insert(table), params=rows)
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.exec(stmt, params=rows).scalars())


def _audit(actor: Viewer, action: str, household_id: int, at: datetime, **detail: Any) -> dict[str, Any]:
    """An audit row exactly as ``audit.record`` writes it."""
    return {
        "at": at,
        "user_id": actor.user_id,
        "action": action,
        "household_id": household_id,
        "detail": json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
    }


def _write(session: Session, actor: Viewer, market_id: int, plans: list[Plan], known: Known) -> None:
    """The rows ``register_household`` leaves, for many households at once; the caller commits.

    Every column is given here because table defaults live on the models, which bulk inserts bypass; a test
    compares an imported household's rows with a form-registered one's, column by column.
    """
    now, user = utcnow(), actor.user_id
    homes = []
    for plan in plans:
        status = st.REGISTERED
        if plan.account:  # the moves register_household makes, checked the same way
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
    _attach_stalls(session, market_id, plans, home_ids, known)
    audit = [
        _audit(
            actor,
            "household.create",
            hid,
            now,
            stalls=p.stall_codes,
            citizen_id=identity.mask_tail(p.household["citizen_id"]),
            source="import",
            row=p.row,
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
        audit.append(
            _audit(
                actor,
                "account.open",
                hid,
                now,
                bin=p.account[0],
                account=identity.mask_tail(p.account[1]),
                holder_name=p.account[2],
            )
        )
        events += [
            {"household_id": hid, "status": s, "at": now, "user_id": user} for s in (st.ACCOUNT_OPENED, st.QR_ISSUED)
        ]
    audit += [
        _audit(actor, "qr.issue", hid, now, qr_id=qid, revoked_placards=0)
        for (_, hid), qid in zip(paired, qr_ids, strict=True)
    ]
    _insert(session, StatusEvent, events)
    _insert(session, AuditLog, audit)


def _attach_stalls(session: Session, market_id: int, plans: list[Plan], home_ids: list[int], known: Known) -> None:
    """New stalls are created at their household; existing ones are claimed only if still free."""
    claims, new = [], []
    for plan, hid in zip(plans, home_ids, strict=True):
        for code in plan.stall_codes:
            if code.upper() in known.stalls:
                claims.append({"sid": known.stalls[code.upper()][0], "hid": hid})
            else:
                new.append({"market_id": market_id, "code": code, "zone": plan.zone, "household_id": hid})
    _insert(session, Stall, new)
    if not claims:
        return
    table = Stall.__table__
    session.exec(
        update(table)
        .where(table.c.id == bindparam("sid"), table.c.household_id.is_(None))
        .values(household_id=bindparam("hid")),
        params=claims,
    )
    wanted = {c["sid"]: c["hid"] for c in claims}
    for part in chunks(list(wanted), 500):
        for sid, hid in session.exec(select(Stall.id, Stall.household_id).where(Stall.id.in_(part))):
            if wanted[sid] != hid:
                raise _StallTaken(sid)


def record_import(
    session: Session,
    actor: Viewer,
    market_id: int,
    filename: str,
    created: int,
    skipped: int,
    problems: list[RowProblem],
) -> None:
    record(
        session,
        actor,
        "import.file",
        market_id=market_id,
        filename=filename[:200],
        created=created,
        skipped=skipped,
        refused_rows=len({p.row for p in problems}),
    )
    session.commit()
