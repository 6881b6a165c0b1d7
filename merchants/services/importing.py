"""Importing a household list into one market: every row checked with the registration form's own rules.

Reading and checking finish before anything is written, so a malformed file or a refused row under
``all_or_nothing`` stores nothing. Good rows are then written in batches with the same records
``register_household`` leaves (audit rows, status events, a QR verified by decoding it back).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from merchants import identity
from merchants import status as st
from merchants.clock import vn_date
from merchants.errors import DomainError, InvalidField
from merchants.models import AuditLog, BankAccount, Household, IssuedQR, Stall, StatusEvent, utcnow
from merchants.scope import Viewer
from merchants.services.audit import record
from merchants.services.households import (
    AccountInput,
    HouseholdInput,
    clean_account,
    clean_household,
    require,
    search_text_for,
)
from merchants.services.issuing import verified_qr
from merchants.services.registry_queries import get_market
from merchants.spreadsheet import Row, Table, read_table, resolve_bank

BATCH = 500
POOL_MIN = 200  # fewer QRs than this are verified in-process: starting workers costs more than it saves
STALL_CODE_MAX, ZONE_MAX = 20, 40
CONFLICT = "Dữ liệu của dòng này vừa được người khác đăng ký trong lúc nhập; hãy nhập lại tệp để kiểm tra."
# Which column a rule's field is reported under; holder and zone fall back to the column they came from.
_COLUMN_OF = {"bin": "bank", "stalls": "stalls", "zone": "zone_area"}


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    problem: str


@dataclass(frozen=True)
class SkippedRow:
    row: int
    household_id: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What happened to each row. ``ready`` rows passed every check; ``created`` of them were stored."""

    filename: str
    market_id: int
    rows: int
    ready: int
    created: int
    new_stalls: int
    skipped: tuple[SkippedRow, ...]
    refused: tuple[RowProblem, ...]
    ignored_columns: tuple[str, ...]
    dry_run: bool
    all_or_nothing: bool
    stored: bool

    @property
    def refused_rows(self) -> int:
        return len({p.row for p in self.refused})


class ImportConflict(DomainError):
    """Under all-or-nothing, somebody registered a row's stall, CCCD or account while the file was stored."""


@dataclass
class _Plan:
    """A row that passed every check, cleaned exactly as ``register_household`` cleans the form."""

    row: int
    household: dict[str, str | None]
    stall_codes: list[str]
    zone: str
    account: tuple[str, str, str] | None
    payload: str | None = None
    modules: str = ""


@dataclass
class _Known:
    """What the database already holds for this file: the market's stalls and the CCCDs and accounts named."""

    stalls: dict[str, tuple[int, str, int | None]]  # CODE → (stall id, code, household id)
    holders: dict[int, tuple[str, str | None, str]]  # household id → (name key, CCCD, owner name)
    citizen_ids: dict[str, int]
    accounts: dict[tuple[str, str], int]


@dataclass
class _Check:
    table: Table
    known: _Known
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    plans: list[_Plan] = field(default_factory=list)
    first_seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def column(self, field_name: str) -> str:
        columns = self.table.columns
        key = _COLUMN_OF.get(field_name, field_name)
        if key == "zone_area" and key not in columns:
            key = "zone_row"
        return columns.get(key) or columns["owner_name"]


def import_households(session: Session, actor: Viewer, *, market_id: int, data: bytes, filename: str = "",
                      dry_run: bool = False, all_or_nothing: bool = False, workers: int | None = None) -> ImportReport:
    """Check every row of an XLSX/CSV household list, then store the good ones (unless told not to)."""
    require(actor, "register")
    get_market(session, actor, market_id)
    table = read_table(data)
    check = _Check(table, _load_known(session, market_id, table.rows))
    for row in table.rows:
        _check_row(check, row)
    _verify_payloads(check, workers)
    store = not dry_run and not (all_or_nothing and check.problems) and bool(check.plans)
    late = _store(session, actor, market_id, check, atomic=all_or_nothing) if store else []
    problems = sorted(check.problems + late, key=lambda p: (p.row, _position(table, p.column)))
    late_rows = {p.row for p in late}
    stored = [p for p in check.plans if p.row not in late_rows] if store else []
    if store:
        _record_import(session, actor, market_id, filename, len(stored), len(check.skipped), problems)
    return ImportReport(filename, market_id, len(table.rows), len(check.plans), len(stored),
                        _new_stall_count(stored if store else check.plans, check.known), tuple(check.skipped),
                        tuple(problems), tuple(table.ignored), dry_run, all_or_nothing, store)


def _position(table: Table, column: str) -> int:
    return next((table.order[f] for f, header in table.columns.items() if header == column), 99)


def _chunks(items: list, size: int) -> Iterable[list]:
    return (items[i:i + size] for i in range(0, len(items), size))


def _load_known(session: Session, market_id: int, rows: list[Row]) -> _Known:
    stalls = {code.upper(): (sid, code, hid) for sid, code, hid in session.exec(
        select(Stall.id, Stall.code, Stall.household_id).where(Stall.market_id == market_id))}
    held = {hid for _, _, hid in stalls.values() if hid}
    holders = {hid: (identity.search_key(name), cccd, name) for hid, name, cccd in session.exec(
        select(Household.id, Household.owner_name, Household.citizen_id).where(Household.market_id == market_id))
        if hid in held}
    ids = sorted({r.values.get("citizen_id", "").replace(" ", "") for r in rows} - {""})
    numbers = sorted({identity.normalise_account_number(n) for r in rows
                      if (n := r.values.get("account_number", "")) and _account_like(n)})
    citizen_ids, accounts = {}, {}
    for part in _chunks(ids, 500):
        citizen_ids.update({c: hid for hid, c in session.exec(
            select(Household.id, Household.citizen_id).where(Household.citizen_id.in_(part)))})
    for part in _chunks(numbers, 500):
        accounts.update({(b, n): hid for hid, b, n in session.exec(
            select(BankAccount.household_id, BankAccount.bin, BankAccount.account_number)
            .where(BankAccount.active, BankAccount.account_number.in_(part)))})
    return _Known(stalls, holders, citizen_ids, accounts)


def _account_like(text: str) -> bool:
    try:
        identity.normalise_account_number(text)
    except InvalidField:
        return False
    return True


def _attempt(errors: list[tuple[str, str]], name: str, fn: Callable[[], object]) -> object:
    """Run one rule; on refusal remember (field, message) and carry on, so a row lists all its problems."""
    try:
        return fn()
    except InvalidField as exc:
        errors.append((exc.field or name, exc.message))
        return None


def _clean_row(row: Row) -> tuple[_Plan | None, list[tuple[str, str]]]:
    """The row's values through the form's rules: a plan when all pass, else every (field, message)."""
    v, errors = row.values, []
    owner = _attempt(errors, "owner_name", lambda: clean_household(HouseholdInput(v.get("owner_name", "")))[
        "owner_name"])
    if v.get("phone"):
        _attempt(errors, "phone", lambda: identity.normalise_phone(v["phone"]))
    if v.get("citizen_id"):
        _attempt(errors, "citizen_id", lambda: identity.validate_citizen_id(v["citizen_id"]))
    codes = _stall_codes(v.get("stalls", ""), errors)
    zone = _zone(v, errors)
    account = _account_parts(row, owner, errors)
    if errors:
        return None, errors
    fields = _attempt(errors, "owner_name", lambda: clean_household(HouseholdInput(
        v["owner_name"], v.get("phone", ""), v.get("citizen_id", ""), v.get("goods", ""))))
    cleaned = _attempt(errors, "account_number", lambda: clean_account(account, fields["owner_name"])) \
        if account and fields else None
    if errors:
        return None, errors
    return _Plan(row.number, fields, codes, zone, cleaned), []


def _stall_codes(text: str, errors: list[tuple[str, str]]) -> list[str]:
    codes = [identity.clean_name(c) for c in text.replace(";", ",").split(",") if c.strip()]
    if not codes:
        errors.append(("stalls", "Số sạp không được để trống."))
    for code in codes:
        if len(code) > STALL_CODE_MAX:
            errors.append(("stalls", f"Mã sạp '{code}' dài quá {STALL_CODE_MAX} ký tự."))
    unique: dict[str, str] = {}
    for code in codes:
        unique.setdefault(code.upper(), code)  # 'a-001, A-001' is one stall
    return list(unique.values())


def _zone(values: dict[str, str], errors: list[tuple[str, str]]) -> str:
    """Khu and Dãy as one stall zone: 'Khu A, Dãy 3' when both columns are given, else the one given."""
    area, line = identity.clean_name(values.get("zone_area", "")), identity.clean_name(values.get("zone_row", ""))
    if area and line:
        area = area if identity.search_key(area).startswith("khu") else f"Khu {area}"
        line = line if identity.search_key(line).startswith("day") else f"Dãy {line}"
    zone = ", ".join(p for p in (area, line) if p)
    if len(zone) > ZONE_MAX:
        errors.append(("zone", f"Khu/Dãy '{zone}' dài quá {ZONE_MAX} ký tự."))
    return zone


def _account_parts(row: Row, owner: object, errors: list[tuple[str, str]]) -> AccountInput | None:
    bank_text, number = row.values.get("bank", ""), row.values.get("account_number", "")
    if not bank_text and not number:
        return None
    bank = _attempt(errors, "bin", lambda: resolve_bank(bank_text)) if bank_text else None
    if not bank_text:
        errors.append(("bin", "Hãy ghi ngân hàng của tài khoản."))
    if not number:
        errors.append(("account_number", "Hãy ghi số tài khoản của ngân hàng đã ghi."))
    elif "account_number" in row.numeric:
        errors.append(("account_number", "Số tài khoản đang ở dạng số trong Excel nên có thể đã mất số 0 ở đầu; "
                                         "hãy định dạng cột là Văn bản (Text) rồi nhập lại số."))
    else:
        _attempt(errors, "account_number", lambda: identity.normalise_account_number(number))
    holder = row.values.get("holder_name", "")
    if holder or owner:
        _attempt(errors, "holder_name", lambda: identity.normalise_holder_name(holder or str(owner)))
    return AccountInput(bank.bin, number, holder) if bank else None


def _check_row(check: _Check, row: Row) -> None:
    plan, errors = _clean_row(row)
    errors += _duplicates_in_file(check, row, plan)
    if not errors and plan is not None:
        skipped = _already_registered(check.known, plan)
        if skipped:
            check.skipped.append(skipped)
            return
        errors += _taken(check.known, plan)
    if errors:
        check.problems += [RowProblem(row.number, check.column(f), m) for f, m in dict.fromkeys(errors)]
    elif plan is not None:
        check.plans.append(plan)


def _duplicates_in_file(check: _Check, row: Row, plan: _Plan | None) -> list[tuple[str, str]]:
    """Compare with earlier rows of the same file; the first row that named a stall, CCCD or account keeps it."""
    v = row.values
    keys: list[tuple[str, tuple[str, str], str]] = []
    citizen_id = plan.household["citizen_id"] if plan else v.get("citizen_id", "").replace(" ", "")
    if citizen_id:
        keys.append(("citizen_id", ("cccd", citizen_id), "Số CCCD"))
    if plan and plan.account:
        keys.append(("account_number", ("account", plan.account[0] + plan.account[1]), "Tài khoản ngân hàng"))
    codes = plan.stall_codes if plan else [c.strip() for c in v.get("stalls", "").replace(";", ",").split(",")]
    keys += [("stalls", ("stall", c.upper()), f"Sạp {c}") for c in codes if c]
    errors = []
    for name, key, label in keys:
        first = check.first_seen.setdefault(key, row.number)
        if first != row.number:
            errors.append((name, f"{label} trùng với dòng {first} của tệp."))
    return errors


def _already_registered(known: _Known, plan: _Plan) -> SkippedRow | None:
    """The row's stalls are all held by one household with the same owner (and CCCD): nothing to add."""
    codes = [c.upper() for c in plan.stall_codes]
    if not all(c in known.stalls for c in codes):
        return None
    holders = {known.stalls[c][2] for c in codes}
    if len(holders) != 1 or None in holders:
        return None
    hid = holders.pop()
    name_key, citizen_id, owner = known.holders.get(hid, ("", None, ""))
    own_id = plan.household["citizen_id"]
    if name_key != identity.search_key(plan.household["owner_name"]) or (own_id and citizen_id
                                                                         and own_id != citizen_id):
        return None
    return SkippedRow(plan.row, hid, f"Đã đăng ký: {owner}, sạp {', '.join(known.stalls[c][1] for c in codes)}.")


def _taken(known: _Known, plan: _Plan) -> list[tuple[str, str]]:
    """Stalls, CCCD or account already belonging to another household (the service's own messages)."""
    errors = [("stalls", f"Sạp {known.stalls[c.upper()][1]} đã có hộ kinh doanh.") for c in plan.stall_codes
              if c.upper() in known.stalls and known.stalls[c.upper()][2] is not None]
    if plan.household["citizen_id"] in known.citizen_ids:
        errors.append(("citizen_id", "Số CCCD này đã được đăng ký cho một hộ khác."))
    if plan.account and plan.account[:2] in known.accounts:
        errors.append(("account_number", "Tài khoản ngân hàng này đã gắn với một hộ khác."))
    return errors


def _verify_one(account: tuple[str, str]) -> tuple[str | None, str, str, str]:
    """``verified_qr`` in a form a worker process can send back (domain errors do not pickle)."""
    try:
        verified = verified_qr(*account)
    except DomainError as exc:
        return None, "", exc.field or "account_number", exc.message
    return verified.payload, verified.modules, "", ""


def _pool_context() -> multiprocessing.context.BaseContext:
    """Fork (instant, nothing to re-import) when this process runs one thread; spawn otherwise, as forking
    a threaded web server can copy a lock held by another thread."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _verify_payloads(check: _Check, workers: int | None) -> None:
    """Build, render and decode back every good row's QR; a row whose QR does not read back is refused."""
    todo = [p for p in check.plans if p.account]
    accounts = [p.account[:2] for p in todo]
    workers = workers if workers is not None else (os.cpu_count() or 1) if len(todo) >= POOL_MIN else 1
    results = None
    if workers > 1:
        try:
            with ProcessPoolExecutor(workers, mp_context=_pool_context()) as pool:
                results = list(pool.map(_verify_one, accounts, chunksize=max(1, len(todo) // (workers * 8))))
        except (OSError, BrokenProcessPool):
            results = None  # no worker processes here: do it in this one
    results = results or [_verify_one(a) for a in accounts]
    failed = set()
    for plan, (payload, modules, name, message) in zip(todo, results, strict=True):
        if payload is None:
            check.problems.append(RowProblem(plan.row, check.column(name), message))
            failed.add(plan.row)
        plan.payload, plan.modules = payload, modules
    check.plans = [p for p in check.plans if p.row not in failed]


def _new_stall_count(plans: list[_Plan], known: _Known) -> int:
    return sum(c.upper() not in known.stalls for p in plans for c in p.stall_codes)


def _store(session: Session, actor: Viewer, market_id: int, check: _Check, *, atomic: bool) -> list[RowProblem]:
    """Write the plans BATCH at a time; a batch that meets a concurrent change is retried row by row."""
    late: list[RowProblem] = []
    try:
        for batch in _chunks(check.plans, BATCH):
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
        raise ImportConflict("Trong lúc lưu, có người vừa đăng ký một sạp, số CCCD hoặc tài khoản trong tệp; "
                             "không có gì được lưu. Hãy nhập lại tệp.") from exc
    except Exception:
        session.rollback()
        raise
    return late


def _write_one_by_one(session: Session, actor: Viewer, market_id: int, batch: list[_Plan],
                      check: _Check) -> list[RowProblem]:
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
    return {"at": at, "user_id": actor.user_id, "action": action, "household_id": household_id,
            "detail": json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)}


def _write(session: Session, actor: Viewer, market_id: int, plans: list[_Plan], known: _Known) -> None:
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
        homes.append({"market_id": market_id, **plan.household, "status": status, "active": True,
                      "needs_reprint": False, "qr_issued_on": vn_date(now) if plan.account else None, "version": 1,
                      "created_at": now, "created_by_id": user, "updated_at": now,
                      "search_text": search_text_for(SimpleNamespace(**plan.household),
                                                  plan.account[1] if plan.account else None)})
    home_ids = _insert(session, Household, homes, ids=True)
    _attach_stalls(session, market_id, plans, home_ids, known)
    audit = [_audit(actor, "household.create", hid, now, stalls=p.stall_codes,
                    citizen_id=identity.mask_tail(p.household["citizen_id"]), source="import", row=p.row)
             for p, hid in zip(plans, home_ids, strict=True)]
    paired = [(p, hid) for p, hid in zip(plans, home_ids, strict=True) if p.account]
    account_ids = _insert(session, BankAccount, [
        {"household_id": hid, "bin": p.account[0], "account_number": p.account[1], "holder_name": p.account[2],
         "active": True, "created_at": now, "created_by_id": user, "closed_at": None, "closed_reason": None}
        for p, hid in paired], ids=True)
    qr_ids = _insert(session, IssuedQR, [
        {"household_id": hid, "bank_account_id": aid, "payload": p.payload, "modules": p.modules, "issued_at": now,
         "issued_by_id": user, "revoked_at": None}
        for (p, hid), aid in zip(paired, account_ids, strict=True)], ids=True)
    events = []
    for p, hid in paired:
        audit.append(_audit(actor, "account.open", hid, now, bin=p.account[0],
                            account=identity.mask_tail(p.account[1]), holder_name=p.account[2]))
        events += [{"household_id": hid, "status": s, "at": now, "user_id": user}
                   for s in (st.ACCOUNT_OPENED, st.QR_ISSUED)]
    audit += [_audit(actor, "qr.issue", hid, now, qr_id=qid, revoked_placards=0)
              for (_, hid), qid in zip(paired, qr_ids, strict=True)]
    _insert(session, StatusEvent, events)
    _insert(session, AuditLog, audit)


def _attach_stalls(session: Session, market_id: int, plans: list[_Plan], home_ids: list[int],
                   known: _Known) -> None:
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
    session.exec(update(table).where(table.c.id == bindparam("sid"), table.c.household_id.is_(None))
                 .values(household_id=bindparam("hid")), params=claims)
    wanted = {c["sid"]: c["hid"] for c in claims}
    for part in _chunks(list(wanted), 500):
        for sid, hid in session.exec(select(Stall.id, Stall.household_id).where(Stall.id.in_(part))):
            if wanted[sid] != hid:
                raise _StallTaken(sid)


def _record_import(session: Session, actor: Viewer, market_id: int, filename: str, created: int, skipped: int,
                   problems: list[RowProblem]) -> None:
    record(session, actor, "import.file", market_id=market_id, filename=filename[:200], created=created,
           skipped=skipped, refused_rows=len({p.row for p in problems}))
    session.commit()
