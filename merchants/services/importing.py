"""Importing a household list into one market: every row checked with the registration form's own rules.

This module reads, checks and verifies; ``import_store`` writes; ``import_types`` holds the report and plans.

Reading and checking finish before anything is written, so a malformed file or a refused row under
``all_or_nothing`` stores nothing. Good rows are then written in batches with the same records
``register_household`` leaves (audit rows, status events, a QR verified by decoding it back).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from merchants import identity, stallcodes
from merchants.errors import N_, DomainError, InvalidField
from merchants.models import BankAccount, Household, Market, Stall
from merchants.scope import Viewer
from merchants.services import households as hs
from merchants.services.households import (
    AccountInput,
    HouseholdInput,
    clean_account,
    clean_household,
    require,
)
from merchants.services.import_store import new_stall_count, record_import
from merchants.services.import_store import store as _store
from merchants.services.import_types import (
    ZONE_MAX,
    Check,
    ImportReport,
    Known,
    Plan,
    Refusal,
    RowProblem,
    SkippedRow,
    chunks,
    problems_of,
)
from merchants.services.issuing import verified_qr
from merchants.services.registry_queries import get_market
from merchants.spreadsheet import Row, Table, read_table, resolve_bank

__all__ = ["ImportReport", "RowProblem", "SkippedRow", "import_households"]


CHECKING, VERIFYING, STORING = "checking", "verifying", "storing"
PROGRESS_EVERY = 50


def import_households(
    session: Session,
    actor: Viewer,
    *,
    market_id: int,
    data: bytes,
    filename: str = "",
    dry_run: bool = False,
    all_or_nothing: bool = False,
    sheet: str | None = None,
) -> ImportReport:
    """Check every row of an XLSX/CSV household list, then store the good ones (unless told not to).

    Of a workbook only a visible sheet is read: ``sheet`` by name, else the first visible one.
    """
    market = open_market(session, actor, market_id)
    return import_table(
        session,
        actor,
        market.id,
        read_table(data, sheet=sheet),
        filename=filename,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
    )


def open_market(session: Session, actor: Viewer, market_id: int) -> Market:
    """The market a list is imported into: the actor may register there and it takes new households."""
    require(actor, "register")
    market = get_market(session, actor, market_id).market
    if market.closed_at is not None:
        raise InvalidField("market", "Chợ %(name)s đã đóng; không nhận đăng ký hộ mới.", name=market.name)
    return market


def import_table(
    session: Session,
    actor: Viewer,
    market_id: int,
    table: Table,
    *,
    filename: str = "",
    dry_run: bool = False,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """``import_households`` on a table already read (a job reads its file once; ``progress`` follows it)."""
    check = Check(table, _load_known(session, market_id, table.rows))
    for n, row in enumerate(table.rows, 1):
        _check_row(check, row)
        if progress and n % (PROGRESS_EVERY * 10) == 0:
            progress(CHECKING, n, len(table.rows))
    _verify_payloads(check, progress)
    store = not dry_run and not (all_or_nothing and check.problems) and bool(check.plans)
    stored_progress = (lambda done, total: progress(STORING, done, total)) if progress else None
    late = _store(session, actor, market_id, check, atomic=all_or_nothing, progress=stored_progress) if store else []
    problems = sorted(check.problems + late, key=lambda p: (p.row, _position(table, p.column)))
    late_rows = {p.row for p in late}
    stored = [p for p in check.plans if p.row not in late_rows] if store else []
    if store:
        record_import(session, actor, market_id, filename, len(stored), len(check.skipped), problems)
    return ImportReport(
        filename,
        market_id,
        len(table.rows),
        len(check.plans),
        len(stored),
        new_stall_count(stored if store else check.plans, check.known),
        tuple(check.skipped),
        tuple(problems),
        tuple(table.ignored),
        dry_run,
        all_or_nothing,
        store,
        table.sheet,
        table.sheets,
    )


def _position(table: Table, column: str) -> int:
    return next((table.order[f] for f, header in table.columns.items() if header == column), 99)


def _load_known(session: Session, market_id: int, rows: list[Row]) -> Known:
    stalls = {
        code.upper(): (sid, code, hid)
        for sid, code, hid in session.exec(
            select(Stall.id, Stall.code, Stall.household_id).where(Stall.market_id == market_id)
        )
    }
    held = {hid for _, _, hid in stalls.values() if hid}
    holders = {
        hid: (identity.search_key(name), cccd, name)
        for hid, name, cccd in session.exec(
            select(Household.id, Household.owner_name, Household.citizen_id).where(Household.market_id == market_id)
        )
        if hid in held
    }
    ids = sorted({r.values.get("citizen_id", "").replace(" ", "") for r in rows} - {""})
    numbers = sorted(
        {
            identity.normalise_account_number(n, alias=True)
            for r in rows
            if (n := r.values.get("account_number", "")) and _account_like(n)
        }
    )
    citizen_ids, accounts = {}, {}
    for part in chunks(ids, 500):
        citizen_ids.update(
            {
                c: hid
                for hid, c in session.exec(
                    select(Household.id, Household.citizen_id).where(Household.citizen_id.in_(part))
                )
            }
        )
    for part in chunks(numbers, 500):
        accounts.update(
            {
                (b, n): hid
                for hid, b, n in session.exec(
                    select(BankAccount.household_id, BankAccount.bin, BankAccount.account_number).where(
                        BankAccount.active, BankAccount.account_number.in_(part)
                    )
                )
            }
        )
    closed = frozenset(
        code.upper()
        for code in session.exec(select(Stall.code).where(Stall.market_id == market_id, Stall.closed_at.is_not(None)))
    )
    return Known(stalls, holders, citizen_ids, accounts, closed)


YES = frozenset({"x", "co", "yes", "1", "true", "dung"})  # how a tick is written in a spreadsheet cell


def _account_like(text: str) -> bool:
    try:
        identity.normalise_account_number(text, alias=True)  # letters too: an alias row is looked up as well
    except InvalidField:
        return False
    return True


def _attempt(errors: list[Refusal], name: str, fn: Callable[[], object]) -> object:
    """Run one rule; on refusal remember (field, message) and carry on, so a row lists all its problems."""
    try:
        return fn()
    except InvalidField as exc:
        errors.append((exc.field or name, exc))
        return None


def _clean_row(row: Row) -> tuple[Plan | None, list[Refusal]]:
    """The row's values through the form's rules: a plan when all pass, else every (field, message)."""
    v, errors = row.values, []
    if row.dates:
        # Every household column is text: a date here is Excel's guess ('01/03' typed as a stall code),
        # and the text typed is gone. Refused by column, saying how to fix the sheet.
        return None, [
            (
                f,
                InvalidField(
                    f,
                    "Excel đã đổi ô này thành ngày (%(date)s); hãy định dạng cột là Văn bản (Text) "
                    "rồi gõ lại đúng như trên giấy tờ.",
                    date=v.get(f, ""),
                ),
            )
            for f in sorted(row.dates)
        ]
    if "stalls" in row.numeric:
        # A stall code stored as a number has lost what made it a code ('001' became 1): refused, not guessed.
        stalls = v.get("stalls", "")
        return None, [
            (
                "stalls",
                InvalidField(
                    "stalls",
                    "Excel đã lưu mã sạp '%(stalls)s' dạng số nên có thể mất số 0 ở đầu (001 thành 1); "
                    "hãy định dạng cột là Văn bản (Text) rồi gõ lại mã như trên sạp.",
                    stalls=stalls,
                ),
            )
        ]
    owner = _attempt(
        errors, "owner_name", lambda: clean_household(HouseholdInput(v.get("owner_name", "")))["owner_name"]
    )
    if v.get("phone"):
        _attempt(errors, "phone", lambda: identity.normalise_phone(v["phone"]))
    if v.get("citizen_id"):
        _attempt(errors, "citizen_id", lambda: identity.validate_citizen_id(v["citizen_id"]))
    codes = _stall_codes(v.get("stalls", ""), errors)
    zone = _zone(v, errors)
    account = _account_parts(row, owner, errors)
    if errors:
        return None, errors
    fields = _attempt(
        errors,
        "owner_name",
        lambda: clean_household(
            HouseholdInput(v["owner_name"], v.get("phone", ""), v.get("citizen_id", ""), v.get("goods", ""))
        ),
    )
    cleaned = (
        _attempt(errors, "account_number", lambda: clean_account(account, fields["owner_name"]))
        if account and fields
        else None
    )
    if errors:
        return None, errors
    return Plan(row.number, fields, codes, zone, cleaned), []


def _stall_codes(text: str, errors: list[Refusal]) -> list[str]:
    """The row's stall codes by the one stall-code rule (``stallcodes``): cleaned, upper-cased, duplicates folded."""
    try:
        codes = stallcodes.split_codes(text, field="stalls")
    except InvalidField as exc:
        errors.append((exc.field or "stalls", exc))
        return []
    if not codes:
        errors.append(("stalls", N_("Số sạp không được để trống.")))
    return codes


def _codes_as_far_as_valid(text: str) -> list[str]:
    """A refused row's codes, for the duplicate check against later rows (none when the codes are the fault)."""
    try:
        return stallcodes.split_codes(text, field="stalls")
    except InvalidField:
        return []


def _zone(values: dict[str, str], errors: list[Refusal]) -> str:
    """Khu and Dãy as one stall zone: 'Khu A, Dãy 3' when both columns are given, else the one given."""
    area, line = identity.clean_name(values.get("zone_area", "")), identity.clean_name(values.get("zone_row", ""))
    if area and line:
        area = area if identity.search_key(area).startswith("khu") else f"Khu {area}"
        line = line if identity.search_key(line).startswith("day") else f"Dãy {line}"
    zone = ", ".join(p for p in (area, line) if p)
    if len(zone) > ZONE_MAX:
        errors.append(
            ("zone", InvalidField("zone", "Khu/Dãy '%(zone)s' dài quá %(limit)s ký tự.", zone=zone, limit=ZONE_MAX))
        )
    return zone


def _account_parts(row: Row, owner: object, errors: list[Refusal]) -> AccountInput | None:
    bank_text, number = row.values.get("bank", ""), row.values.get("account_number", "")
    alias = identity.search_key(row.values.get("account_alias", "")) in YES
    if not bank_text and not number:
        return None
    bank = _attempt(errors, "bin", lambda: resolve_bank(bank_text)) if bank_text else None
    if not bank_text:
        errors.append(("bin", N_("Hãy ghi ngân hàng của tài khoản.")))
    if not number:
        errors.append(("account_number", N_("Hãy ghi số tài khoản của ngân hàng đã ghi.")))
    elif "account_number" in row.numeric:
        errors.append(
            (
                "account_number",
                N_(
                    "Số tài khoản đang ở dạng số trong Excel nên có thể đã mất số 0 ở đầu; "
                    "hãy định dạng cột là Văn bản (Text) rồi nhập lại số."
                ),
            )
        )
    else:
        _attempt(errors, "account_number", lambda: identity.normalise_account_number(number, alias=alias))
    holder = row.values.get("holder_name", "")
    if holder or owner:
        _attempt(errors, "holder_name", lambda: identity.normalise_holder_name(holder or str(owner)))
    return AccountInput(bank.bin, number, holder, alias=alias) if bank else None


def _check_row(check: Check, row: Row) -> None:
    plan, errors = _clean_row(row)
    errors += _duplicates_in_file(check, row, plan)
    if not errors and plan is not None:
        skipped = _already_registered(check.known, plan)
        if skipped:
            check.skipped.append(skipped)
            return
        errors += _taken(check.known, plan)
    if errors:
        check.problems += problems_of(row.number, check.column, errors)
    elif plan is not None:
        check.plans.append(plan)


def _duplicates_in_file(check: Check, row: Row, plan: Plan | None) -> list[Refusal]:
    """Compare with earlier rows of the same file; the first row that named a stall, CCCD or account keeps it."""
    v = row.values
    keys: list[tuple[str, tuple[str, str], str]] = []  # (field, what must be unique, the stall code or "")
    citizen_id = plan.household["citizen_id"] if plan else v.get("citizen_id", "").replace(" ", "")
    if citizen_id:
        keys.append(("citizen_id", ("cccd", citizen_id), ""))
    if plan and plan.account:
        keys.append(("account_number", ("account", plan.account[0] + plan.account[1]), ""))
    codes = plan.stall_codes if plan else _codes_as_far_as_valid(v.get("stalls", ""))
    keys += [("stalls", ("stall", c.upper()), c) for c in codes if c]
    errors: list[Refusal] = []
    for name, key, code in keys:
        first = check.first_seen.setdefault(key, row.number)
        if first != row.number:
            errors.append((name, InvalidField(name, _SAME_AS_ROW[name], first=first, code=code)))
    return errors


# One wording per thing a row repeats, so each says what it is in the reader's language.
_SAME_AS_ROW = {
    "citizen_id": N_("Số CCCD trùng với dòng %(first)s của tệp."),
    "account_number": N_("Tài khoản ngân hàng trùng với dòng %(first)s của tệp."),
    "stalls": N_("Sạp %(code)s trùng với dòng %(first)s của tệp."),
}


def _already_registered(known: Known, plan: Plan) -> SkippedRow | None:
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
    if name_key != identity.search_key(plan.household["owner_name"]) or (
        own_id and citizen_id and own_id != citizen_id
    ):
        return None
    return SkippedRow.of(
        plan.row,
        hid,
        N_("Đã đăng ký: %(owner)s, sạp %(codes)s."),
        owner=owner,
        codes=", ".join(known.stalls[c][1] for c in codes),
    )


def _taken(known: Known, plan: Plan) -> list[Refusal]:
    """Stalls, CCCD or account already belonging to another household (the form's own refusals)."""
    errors: list[Refusal] = [
        ("stalls", InvalidField("stalls", hs.STALL_TAKEN, code=known.stalls[c.upper()][1]))
        for c in plan.stall_codes
        if c.upper() in known.stalls and known.stalls[c.upper()][2] is not None
    ]
    errors += [
        ("stalls", InvalidField("stalls", hs.STALL_CLOSED, code=c))
        for c in plan.stall_codes
        if c.upper() in known.closed_stalls
    ]
    if plan.household["citizen_id"] in known.citizen_ids:
        errors.append(("citizen_id", InvalidField("citizen_id", hs.CITIZEN_ID_TAKEN)))
    if plan.account and plan.account[:2] in known.accounts:
        errors.append(("account_number", InvalidField("account_number", hs.ACCOUNT_TAKEN)))
    return errors


Progress = Callable[[str, int, int], None]  # (stage, done, total): checking, verifying, storing


def _verify_payloads(check: Check, progress: Progress | None = None) -> None:
    """Build, render and decode back every good row's QR; a row whose QR does not read back is refused.

    Long files are not verified in the request at all: they run as jobs (``import_jobs``), whose workers the
    job queue runs; in here the QRs are verified one after another.
    """
    todo = [p for p in check.plans if p.account]
    failed = set()
    for n, plan in enumerate(todo, 1):
        assert plan.account is not None
        try:
            verified = verified_qr(*plan.account[:2])
        except DomainError as exc:
            check.problems.append(RowProblem.of(plan.row, check.column(exc.field or "account_number"), exc))
            failed.add(plan.row)
        else:
            plan.payload, plan.modules = verified.payload, verified.modules
        if progress and (n % PROGRESS_EVERY == 0 or n == len(todo)):
            progress(VERIFYING, n, len(todo))
    check.plans = [p for p in check.plans if p.row not in failed]
