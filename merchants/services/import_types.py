"""What an import works with: the report it returns and the plan of each row that passed its checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from merchants.errors import DomainError
from merchants.services.registration import RegistrationPlan as Plan
from merchants.services.registration import StallMap
from merchants.spreadsheet import Table

BATCH = 500
STALL_CODE_MAX, ZONE_MAX = 20, 40
CONFLICT = "Dữ liệu của dòng này vừa được người khác đăng ký trong lúc nhập; hãy nhập lại tệp để kiểm tra."
# Which column a rule's field is reported under; holder and zone fall back to the column they came from.
_COLUMN_OF = {"bin": "bank", "stalls": "stalls", "zone": "zone_area"}


@dataclass(frozen=True)
class RowProblem:
    """One refused cell of any import: the row number as the spreadsheet shows it and the column header as written.

    ``problem`` is the Vietnamese sentence; ``template`` and ``params`` let a page say it in the user's language.
    """

    row: int
    column: str
    problem: str
    template: str = field(default="", compare=False)
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, row: int, column: str, refusal: str | DomainError) -> RowProblem:
        """A problem from a rule's refusal (its message as data) or from a plain message."""
        if isinstance(refusal, DomainError):
            return cls(row, column, refusal.message, refusal.template, tuple(refusal.params.items()))
        return cls(row, column, refusal)


Refusal = tuple[str, "str | DomainError"]  # (field, what the rule said) while a row is being checked


def problems_of(row: int, column: Callable[[str], str], refusals: list[Refusal]) -> list[RowProblem]:
    """A row's refusals as problems, each (field, sentence) once, in the order the rules found them."""
    seen = {(f, str(m) if not isinstance(m, DomainError) else m.message): (f, m) for f, m in refusals}
    return [RowProblem.of(row, column(f), m) for f, m in seen.values()]


@dataclass(frozen=True)
class SkippedRow:
    """A row already in the registry; ``message`` in Vietnamese, ``template`` and ``params`` for the page."""

    row: int
    household_id: int
    message: str
    template: str = field(default="", compare=False)
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, row: int, household_id: int, template: str, **params: Any) -> SkippedRow:
        return cls(row, household_id, template % params, template, tuple(params.items()))


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
    sheet: str = ""  # the worksheet read ('' for CSV)
    sheets: tuple[str, ...] = ()  # every visible worksheet of the file

    @property
    def refused_rows(self) -> int:
        return len({p.row for p in self.refused})


class ImportConflict(DomainError):
    """Under all-or-nothing, somebody registered a row's stall, CCCD or account while the file was stored."""


@dataclass
class Known:
    """What the database already holds for this file: the market's stalls and the CCCDs and accounts named."""

    stalls: StallMap  # CODE → (stall id, code, household id)
    holders: dict[int, tuple[str, str | None, str]]  # household id → (name key, CCCD, owner name)
    citizen_ids: dict[str, int]
    accounts: dict[tuple[str, str], int]
    closed_stalls: frozenset[str] = frozenset()  # CODEs of closed stalls: they take no new household


@dataclass
class Check:
    table: Table
    known: Known
    problems: list[RowProblem] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    first_seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def column(self, field_name: str) -> str:
        columns = self.table.columns
        key = _COLUMN_OF.get(field_name, field_name)
        if key == "zone_area" and key not in columns:
            key = "zone_row"
        return columns.get(key) or columns["owner_name"]


def chunks(items: list, size: int) -> Iterable[list]:
    """Consecutive slices of ``size`` items."""
    return (items[i : i + size] for i in range(0, len(items), size))
