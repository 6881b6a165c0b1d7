"""Bank statement files (XLSX/CSV) as credits: read like every other import, stored like every webhook credit.

The file is read by ``merchants.spreadsheet`` with its own ``TableSchema`` (the usual Vietnamese headers of a
statement export); each row becomes a ``Credit`` whose provider id is the row's reference number (Số tham chiếu),
so re-importing the same statement, or one that overlaps it, adds nothing. Rows that cannot be read are listed
with their row number and column (``RowProblem``), as the households import does. The transfer text (Diễn giải)
is never read: its column is listed as not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlmodel import Session

from merchants.payments_parse import Credit, PaymentRefused, parse_amount, parse_vn_time
from merchants.scope import Viewer
from merchants.services.import_types import RowProblem
from merchants.services.payment_ingest import store_credits
from merchants.services.payment_sources import get_statement_source
from merchants.spreadsheet import Row, TableSchema, read_table

STATEMENT_MAX_ROWS: Final = 200_000
STATEMENT: Final = TableSchema(
    aliases={
        "occurred_at": (
            "ngay giao dich",
            "ngay gd",
            "ngay gio giao dich",
            "thoi gian giao dich",
            "thoi gian",
            "ngay hach toan",
            "ngay",
            "transaction date",
        ),
        "reference": (
            "so tham chieu",
            "ma tham chieu",
            "ma giao dich",
            "so giao dich",
            "so but toan",
            "so chung tu",
            "so ct",
            "reference",
            "ref no",
        ),
        "credit": ("ghi co", "so tien ghi co", "phat sinh co", "tien vao", "so tien vao", "credit", "co"),
        "debit": ("ghi no", "so tien ghi no", "phat sinh no", "tien ra", "so tien ra", "debit", "no"),
        "account_number": ("so tai khoan", "stk", "so tk", "tai khoan", "tai khoan ghi co", "account number"),
    },
    labels={
        "occurred_at": "Ngày giao dịch",
        "reference": "Số tham chiếu",
        "credit": "Ghi có",
        "debit": "Ghi nợ",
        "account_number": "Số tài khoản",
    },
    required=("occurred_at", "reference", "credit", "account_number"),
    noun="giao dịch",
    max_rows=STATEMENT_MAX_ROWS,
)
_OUTCOME_TEXT: Final = {
    "unknown_account": "Tài khoản không có trong ChoQR: bỏ qua.",
    "out_of_scope": "Tài khoản của hộ ngoài địa bàn của nguồn này: bị từ chối.",
}


@dataclass(frozen=True)
class StatementReport:
    """What happened to each row of a statement; nothing was stored when ``dry_run``."""

    filename: str
    source: str
    rows: int
    stored: int
    duplicate: int
    ignored_out: int
    unknown_account: int
    out_of_scope: int
    refused: tuple[RowProblem, ...]
    skipped: tuple[RowProblem, ...]  # rows read but not kept: unknown account, outside the source's areas
    ignored_columns: tuple[str, ...]
    dry_run: bool

    @property
    def refused_rows(self) -> int:
        return len({p.row for p in self.refused})


def _credit(row: Row, columns: dict[str, str], account_max: int = 19) -> Credit | RowProblem:
    """A row as a credit, or the first problem found in it (named by the column as the file writes it)."""
    v = row.values

    def problem(field: str, text: str) -> RowProblem:
        return RowProblem(row.number, columns.get(field, STATEMENT.labels[field]), text)

    reference = v.get("reference", "").strip()
    if not reference:
        return problem("reference", "Thiếu số tham chiếu: không có nó, nhập lại tệp sẽ ghi trùng giao dịch.")
    if len(reference) > 64:
        return problem("reference", "Số tham chiếu dài quá 64 ký tự.")
    account = "".join(v.get("account_number", "").split())
    if not account or not account.isdigit() or len(account) > account_max:
        return problem("account_number", f"Số tài khoản phải là dãy số (tối đa {account_max} số), nhận '{account}'.")
    try:
        occurred_at = parse_vn_time(v.get("occurred_at", ""), field="occurred_at")
    except PaymentRefused:
        return problem("occurred_at", f"Ngày giao dịch '{v.get('occurred_at', '')}' không đọc được (dd/mm/yyyy).")
    credit_text, debit_text = v.get("credit", "").strip(), v.get("debit", "").strip()
    try:
        credit = parse_amount(credit_text, field="credit") if credit_text else 0
        debit = parse_amount(debit_text, field="debit") if debit_text else 0
    except PaymentRefused as exc:
        field = exc.field or "credit"
        shown = credit_text if field == "credit" else debit_text
        return problem(field, f"'{shown}' không phải số tiền (đồng).")
    if credit < 0 or debit < 0 or (credit and debit) or not (credit or debit):
        return problem("credit", "Mỗi dòng cần đúng một số tiền dương: Ghi có hoặc Ghi nợ.")
    return Credit(
        provider_id=reference,
        account_number=account,
        amount=credit or debit,
        occurred_at=occurred_at,
        reference=reference,
        direction="in" if credit else "out",
    )


def import_statement(
    session: Session,
    actor: Viewer,
    *,
    source_name: str,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    sheet: str | None = None,
) -> StatementReport:
    """Read a statement and store its credits through the one ingest path; a per-row report either way."""
    source = get_statement_source(session, actor, source_name)
    table = read_table(data, STATEMENT, sheet=sheet)
    credits: list[Credit] = []
    numbers: list[int] = []
    refused: list[RowProblem] = []
    for row in table.rows:
        got = _credit(row, table.columns)
        if isinstance(got, RowProblem):
            refused.append(got)
        else:
            credits.append(got)
            numbers.append(row.number)
    result = store_credits(session, source, credits, dry_run=dry_run)
    skipped = tuple(
        RowProblem(n, table.columns["account_number"], _OUTCOME_TEXT[o])
        for n, o in zip(numbers, result.outcomes, strict=True)
        if o in _OUTCOME_TEXT
    )
    return StatementReport(
        filename=filename,
        source=source.name,
        rows=len(table.rows),
        stored=result.stored,
        duplicate=result.duplicate,
        ignored_out=result.ignored_out,
        unknown_account=result.unknown_account,
        out_of_scope=result.out_of_scope,
        refused=tuple(refused),
        skipped=skipped,
        ignored_columns=tuple(table.ignored),
        dry_run=dry_run,
    )


def summary_lines(report: StatementReport, *, shown: int = 200) -> list[str]:
    """The report as the terminal prints it: totals, then one line per refused or skipped row (first ``shown``)."""
    lines = [
        f"{report.filename} → {report.source}: {report.rows} dòng · {report.stored} "
        f"{'sẽ thêm' if report.dry_run else 'đã thêm'} · {report.duplicate} đã có · {report.ignored_out} tiền ra "
        f"(bỏ qua) · {report.unknown_account} tài khoản lạ · {report.out_of_scope} ngoài địa bàn · "
        f"{report.refused_rows} dòng bị từ chối"
    ]
    if report.dry_run:
        lines.append("Chạy thử: không lưu gì.")
    lines += [f"Dòng {p.row} · {p.column}: {p.problem}" for p in report.refused[:shown]]
    lines += [f"Dòng {p.row} · {p.column}: {p.problem}" for p in report.skipped[:shown]]
    if report.ignored_columns:
        lines.append("Cột không dùng: " + ", ".join(report.ignored_columns))
    return lines
