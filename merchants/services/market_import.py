"""Markets and stalls from a spreadsheet: every row checked with the form's rules, reported by row and column.

Checking finishes before anything is written; then all good rows are stored in one transaction (or none, with
``all_or_nothing``). Importing the same file again adds nothing: rows already there are reported as such, and a
row that would change an existing market is reported, not applied, unless ``update_existing`` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from merchants.errors import N_, DomainError, InvalidField, NotFound, Phrase
from merchants.models import Commune, Market, Stall
from merchants.scope import Viewer
from merchants.services import audit
from merchants.services import setup_markets as sm
from merchants.services import stalls as stall_service
from merchants.services.import_types import Refusal, RowProblem, chunks, problems_of
from merchants.services.registry_queries import MarketInfo
from merchants.spreadsheet import Row, SpreadsheetError, Table, TableSchema, read_table

MARKETS: Final = TableSchema(
    aliases={
        "code": ("ma cho", "ma", "code", "market code"),
        "name": ("ten cho", "ten", "name", "market name"),
        "commune_code": (
            "ma xa",
            "ma xa phuong",
            "ma phuong",
            "ma xa phuong dac khu",
            "ma don vi",
            "ma dia ban",
            "commune code",
            "commune",
        ),
        "address": ("dia chi", "dia chi cho", "address"),
        "target_percent": ("muc tieu", "muc tieu bao phu", "muc tieu phu qr", "target", "target percent"),
        "target_date": ("han", "han muc tieu", "han hoan thanh", "thoi han", "target date"),
        "is_demo": ("mau", "cho mau", "demo"),
    },
    labels={
        "code": N_("Mã chợ"),
        "name": N_("Tên chợ"),
        "commune_code": N_("Mã xã"),
        "address": N_("Địa chỉ"),
        "target_percent": N_("Mục tiêu"),
        "target_date": N_("Hạn"),
        "is_demo": N_("Mẫu"),
    },
    required=("code", "name", "commune_code"),
    noun=N_("chợ"),
)
STALLS: Final = TableSchema(
    aliases={
        "market_code": ("ma cho", "cho", "market code", "market"),
        "codes": (
            "ma sap",
            "so sap",
            "sap",
            "ma ki ot",
            "ki ot",
            "kiot",
            "day ma sap",
            "ma sap day",
            "stall code",
            "stall",
            "stalls",
            "range",
        ),
        "zone": ("khu", "khu vuc", "day", "zone"),
    },
    labels={"market_code": N_("Mã chợ"), "codes": N_("Mã sạp"), "zone": N_("Khu")},
    required=("codes",),
    noun=N_("sạp"),
)
MAX_NEW_STALLS: Final = 50_000
SAME_STALL: Final = N_("Sạp %(code)s trùng với dòng %(first)s của tệp.")  # the household import's wording


@dataclass(frozen=True)
class RowNote:
    """A row already there or differing: ``message`` in Vietnamese, ``template`` and ``params`` for the page."""

    row: int
    message: str
    template: str = field(default="", compare=False)
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, row: int, template: str, **params: Any) -> RowNote:
        return cls(row, template % params, template, tuple(params.items()))


@dataclass
class SetupReport:
    """What happened to each row; on a dry run ``created``/``updated`` are what storing would do."""

    kind: str  # markets | stalls
    filename: str
    rows: int
    ignored_columns: tuple[str, ...]
    dry_run: bool
    all_or_nothing: bool
    created: int = 0
    updated: int = 0
    already: list[RowNote] = field(default_factory=list)
    differs: list[RowNote] = field(default_factory=list)  # would change an existing market: not applied
    refused: list[RowProblem] = field(default_factory=list)
    stored: bool = False

    @property
    def refused_rows(self) -> int:
        return len({p.row for p in self.refused})


def _report(kind: str, table: Table, filename: str, dry_run: bool, all_or_nothing: bool) -> SetupReport:
    return SetupReport(kind, filename, len(table.rows), tuple(table.ignored), dry_run, all_or_nothing)


def _column(table: Table, name: str) -> str:
    return table.columns.get(name) or next(iter(table.columns.values()))


def _commune_code(row: Row) -> str:
    """An official commune code; a code that lost its leading zero in Excel (6994) has it back (06994)."""
    code = row.values.get("commune_code", "").strip()
    return code.zfill(5) if code.isdigit() and len(code) < 5 else code


def import_markets(
    session: Session,
    actor: Viewer,
    *,
    data: bytes,
    filename: str = "",
    dry_run: bool = False,
    update_existing: bool = False,
    all_or_nothing: bool = False,
    source_ip: str | None = None,
) -> SetupReport:
    """Check every market row, then create the new markets (and, if asked, update the changed ones)."""
    sm.require_admin(actor)
    table = read_table(data, MARKETS)
    report = _report("markets", table, filename, dry_run, all_or_nothing)
    known = _known_markets(session, table)
    plans: list[tuple[Row, dict, Commune, Market | None]] = []
    first_seen: dict[str, int] = {}
    for row in table.rows:
        errors, fields, commune = _check_market_row(row, actor, known)
        code = fields["code"] if fields else row.values.get("code", "").strip().upper()
        if code and first_seen.setdefault(code, row.number) != row.number:
            errors.append(
                (
                    "code",
                    InvalidField(
                        "code", "Mã chợ '%(code)s' trùng với dòng %(first)s của tệp.", code=code, first=first_seen[code]
                    ),
                )
            )
        if errors:
            report.refused += problems_of(row.number, lambda f: _column(table, f), errors)
            continue
        market = known.markets.get(code)
        changes = audit.changed(known.snapshot(market), sm.snapshot(fields, commune.code)) if market else None
        if market is None or (changes and update_existing):
            plans.append((row, fields, commune, market))
        elif not changes:
            report.already.append(
                RowNote.of(row.number, N_("Đã có chợ %(code)s (%(name)s)."), code=market.code, name=market.name)
            )
        else:
            named = Phrase.joined([Phrase(MARKETS.labels[_FIELD_OF.get(k, k)]) for k in changes])
            report.differs.append(
                RowNote.of(
                    row.number,
                    N_(
                        "Chợ %(code)s đã có nhưng khác ở: %(fields)s; chưa thay "
                        "đổi (chọn 'cập nhật chợ đã có' để áp dụng)."
                    ),
                    code=market.code,
                    fields=named,
                )
            )
    report.created = sum(1 for p in plans if p[3] is None)
    report.updated = len(plans) - report.created
    if dry_run or not plans or (all_or_nothing and report.refused):
        return report
    try:
        for row, fields, commune, market in plans:
            if market is None:
                session.add(Market(**fields))
                audit.record_change(
                    session,
                    actor,
                    "market.create",
                    f"market:{fields['code']}",
                    {},
                    sm.snapshot(fields, commune.code),
                    source="import",
                    row=row.number,
                    source_ip=source_ip,
                )
            else:
                market.version += 1
                sm.apply_fields(
                    session,
                    actor,
                    market,
                    known.snapshot(market),
                    fields,
                    commune.code,
                    source="import",
                    row=row.number,
                    source_ip=source_ip,
                )
        audit.record(
            session,
            actor,
            "markets.import",
            subject="markets",
            source_ip=source_ip,
            filename=filename[:200],
            created=report.created,
            updated=report.updated,
            already=len(report.already),
            differs=len(report.differs),
            refused_rows=report.refused_rows,
        )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise DomainError(
            N_("Trong lúc lưu, có người vừa tạo chợ trùng mã với tệp; không có gì được lưu. Hãy nhập lại tệp."),
            field="file",
        ) from exc
    report.stored = True
    return report


_FIELD_OF = {"commune": "commune_code"}


@dataclass
class _Known:
    """The communes a file names and the markets whose codes it uses, loaded once for all rows."""

    communes: dict[str, Commune]
    markets: dict[str, Market]
    market_communes: dict[int, Commune]

    def snapshot(self, market: Market) -> dict:
        return sm.market_snapshot(market, self.market_communes[market.commune_id].code)


def _known_markets(session: Session, table: Table) -> _Known:
    codes = sorted({r.values.get("code", "").strip().upper() for r in table.rows} - {""})
    communes = {
        c.code: c
        for part in chunks(sorted({_commune_code(r) for r in table.rows}), 500)
        for c in session.exec(select(Commune).where(Commune.code.in_(part)))
    }
    markets = {
        m.code: m for part in chunks(codes, 500) for m in session.exec(select(Market).where(Market.code.in_(part)))
    }
    ids = sorted({m.commune_id for m in markets.values()})
    own = {c.id: c for part in chunks(ids, 500) for c in session.exec(select(Commune).where(Commune.id.in_(part)))}
    return _Known(communes, markets, own)


def _attempt(errors: list[Refusal], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one field rule; on refusal remember (field, message) and carry on, so a row lists all its problems."""
    try:
        return fn(*args, **kwargs)
    except InvalidField as exc:
        errors.append((exc.field or "", exc))
        return None


def _check_market_row(row: Row, actor: Viewer, known: _Known) -> tuple[list[Refusal], dict | None, Commune | None]:
    """Every problem of a row as (field, message), or its cleaned fields and commune."""
    v = row.values
    errors: list[Refusal] = []
    code = _attempt(errors, sm.clean_market_code, v.get("code", ""))
    market = known.markets.get(code)
    if market is not None and not actor.serves_province(known.market_communes[market.commune_id].province_id):
        return (
            [("code", InvalidField("code", "Mã chợ '%(code)s' đã được dùng cho một chợ khác.", code=code))],
            None,
            None,
        )
    name = _attempt(
        errors, sm.clean_text, v.get("name", ""), field="name", label=N_("Tên chợ"), limit=sm.NAME_MAX, required=True
    )
    ccode = _commune_code(row)
    commune = _attempt(
        errors,
        sm.check_commune,
        known.communes.get(ccode),
        ccode,
        actor,
        current_id=market.commune_id if market else None,
    )
    address = _attempt(
        errors,
        sm.clean_text,
        v.get("address", ""),
        field="address",
        label=N_("Địa chỉ"),
        limit=sm.ADDRESS_MAX,
        required=False,
    )
    target = _attempt(errors, sm.parse_target_percent, v.get("target_percent", ""))
    by = _attempt(errors, sm.parse_target_date, v.get("target_date", ""))
    demo = _attempt(errors, sm.parse_flag, v.get("is_demo", ""))
    if by and target is None and not any(f == "target_percent" for f, _ in errors):
        errors.append(("target_date", N_("Có hạn thì cần ghi mục tiêu (%); để trống cả hai để theo mục tiêu chung.")))
    if errors:
        return errors, None, None
    return (
        [],
        {
            "code": code,
            "name": name,
            "commune_id": commune.id,
            "address": address or None,
            "is_demo": demo,
            "target_percent": target,
            "target_date": by,
        },
        commune,
    )


def import_stalls(
    session: Session,
    actor: Viewer,
    *,
    data: bytes,
    filename: str = "",
    market_id: int | None = None,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    source_ip: str | None = None,
) -> SetupReport:
    """Check every stall row (a code or a range per row), then create the stalls the markets do not have yet."""
    sm.require_admin(actor)
    target = sm.get_managed_market(session, actor, market_id) if market_id else None
    table = read_table(data, STALLS)
    if target is None and "market_code" not in table.columns:
        raise SpreadsheetError(N_("Không tìm thấy cột 'Mã chợ' ở dòng 1; hãy thêm cột này hoặc nhập vào một chợ."))
    report = _report("stalls", table, filename, dry_run, all_or_nothing)
    markets: dict[str, MarketInfo | DomainError] = {}
    have: dict[int, dict[str, tuple[int, str]]] = {}
    seen: dict[tuple[int, str], int] = {}
    plans: list[tuple[Row, Market, list[str], str]] = []
    for row in table.rows:
        errors: list[Refusal] = []
        info = _row_market(session, actor, row, target, markets, errors)
        codes, zone, known = None, "", {}
        try:
            codes = stall_service.parse_codes(row.values.get("codes", ""), field="codes")
        except InvalidField as exc:
            errors.append(("codes", exc))
        try:
            zone = stall_service.clean_zone(row.values.get("zone", ""))
        except InvalidField as exc:
            errors.append(("zone", exc))
        if info is not None and codes:
            known = have.setdefault(info.market.id, stall_service.existing_codes(session, info.market.id))
            errors += [
                ("codes", InvalidField("codes", SAME_STALL, code=c, first=seen[(info.market.id, c)]))
                for c in codes
                if (info.market.id, c) in seen
            ][:5]
        if errors or info is None:
            report.refused += problems_of(row.number, lambda f: _column(table, f), errors)
            continue
        seen.update({(info.market.id, c): row.number for c in codes})
        new = [c for c in codes if c not in known]
        if new:
            plans.append((row, info.market, new, zone))
        if len(new) < len(codes):
            report.already.append(
                RowNote.of(
                    row.number,
                    N_("%(count)s sạp đã có ở chợ %(code)s, bỏ qua."),
                    count=len(codes) - len(new),
                    code=info.market.code,
                )
            )
    report.created = sum(len(p[2]) for p in plans)
    if report.created > MAX_NEW_STALLS:
        raise SpreadsheetError(
            N_("Tệp tạo %(count)s sạp; tối đa %(limit)s sạp một lần."), count=report.created, limit=MAX_NEW_STALLS
        )
    if dry_run or not plans or (all_or_nothing and report.refused):
        return report
    try:
        per_market: dict[str, int] = {}
        for row, market, new, zone in plans:
            session.execute(insert(Stall), [{"market_id": market.id, "code": c, "zone": zone} for c in new])
            stall_service.record_created(
                session, actor, market, new, zone, source="import", row=row.number, source_ip=source_ip
            )
            per_market[market.code] = per_market.get(market.code, 0) + len(new)
        for code, n in per_market.items():
            audit.record(
                session,
                actor,
                "stalls.import",
                subject=f"market:{code}",
                source_ip=source_ip,
                filename=filename[:200],
                created=n,
                already_rows=len(report.already),
                refused_rows=report.refused_rows,
            )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise DomainError(
            N_("Trong lúc lưu, có người vừa thêm sạp trùng mã với tệp; không có gì được lưu. Hãy nhập lại tệp."),
            field="file",
        ) from exc
    report.stored = True
    return report


def _row_market(
    session: Session,
    actor: Viewer,
    row: Row,
    target: MarketInfo | None,
    markets: dict[str, MarketInfo | DomainError],
    errors: list[Refusal],
) -> MarketInfo | None:
    """The market a stall row belongs to: its own code column, else the market being imported into."""
    code = row.values.get("market_code", "").strip().upper()
    if target is not None and code and code != target.market.code:
        errors.append(
            (
                "market_code",
                InvalidField(
                    "market_code",
                    "Dòng này ghi chợ '%(code)s', không phải chợ %(target)s đang nhập.",
                    code=code,
                    target=target.market.code,
                ),
            )
        )
        return None
    if target is None and not code:
        errors.append(("market_code", N_("Mã chợ không được để trống.")))
        return None
    if code and code not in markets:
        try:
            markets[code] = sm.managed_market_by_code(session, actor, code)
        except NotFound as exc:
            markets[code] = exc
    info = markets[code] if code else target
    if isinstance(info, DomainError):
        errors.append(("market_code", info))
        return None
    if info is None:
        return None
    if info.market.closed_at is not None:
        errors.append(
            (
                "market_code",
                InvalidField("market_code", "Chợ %(code)s đã đóng; không thêm sạp mới.", code=info.market.code),
            )
        )
        return None
    return info
