"""The official list of administrative units (GSO codes) and what loading a newer one changes: pure, no database.

Units are matched by code, never by name (the list keeps changing: mergers and renamings were decided again in
2026). A unit missing from a newer list is closed, not deleted: markets and history stay where they were.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

from merchants.errors import N_, DomainError, Phrase

SHIPPED: Final = Path(__file__).resolve().parent / "data" / "admin_units_2025.csv"
COLUMNS: Final = ("province_code", "province_name", "commune_code", "commune_name", "commune_type")
COMMUNE_TYPES: Final = ("Xã", "Phường", "Đặc khu")
MAX_BYTES: Final = 5 * 1024 * 1024  # the 2025 list is 200 KB; a list of every unit ever would still fit
NAME_MAX: Final = 80


class AreaListError(DomainError):
    """The file is not a list of units in the official columns; nothing was loaded."""

    field = "file"


@dataclass(frozen=True)
class Unit:
    level: str  # province | commune
    code: str
    name: str
    type: str
    province_code: str | None = None  # the commune's province


@dataclass(frozen=True)
class Rename:
    level: str
    code: str
    old_name: str
    new_name: str


@dataclass(frozen=True)
class Move:
    code: str
    name: str
    old_province: str
    new_province: str


@dataclass
class AreaChanges:
    """What loading a list would do; ``empty`` when the database already holds exactly that list."""

    added: list[Unit] = field(default_factory=list)
    renamed: list[Rename] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    retyped: list[Unit] = field(default_factory=list)
    reopened: list[Unit] = field(default_factory=list)
    closed: list[Unit] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.renamed or self.moved or self.retyped or self.reopened or self.closed)

    def counts(self) -> dict[str, int]:
        return {
            name: len(getattr(self, name)) for name in ("added", "renamed", "moved", "retyped", "reopened", "closed")
        }


def province_type(name: str) -> str:
    """'Thành phố Hà Nội' → 'Thành phố', 'Tỉnh Quảng Ninh' → 'Tỉnh' (the list has no province type column)."""
    return "Thành phố" if name.startswith("Thành phố") else "Tỉnh"


def _text(value: str | None) -> str:
    return unicodedata.normalize("NFC", " ".join((value or "").split()))


@cache
def shipped_units() -> tuple[Unit, ...]:
    """The official list shipped with ChoQR, parsed once per process (each new database loads it: 3,300 units)."""
    return tuple(parse_units(SHIPPED.read_bytes()))


def parse_units(data: bytes) -> list[Unit]:
    """Read a list in the official columns (UTF-8, with or without BOM) into provinces then communes.

    Every row is checked; the first faults are named by row number so the file can be fixed and loaded again.
    """
    if not data:
        raise AreaListError(N_("Tệp danh sách địa bàn trống (0 byte)."))
    if len(data) > MAX_BYTES:
        raise AreaListError(N_("Tệp danh sách địa bàn lớn quá %(mb)s MB."), mb=MAX_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AreaListError(N_("Tệp danh sách địa bàn phải là CSV mã hoá UTF-8.")) from exc
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header) != COLUMNS:
        raise AreaListError(
            N_("Dòng 1 phải có đúng các cột: %(columns)s (tệp có: %(header)s)."),
            columns=", ".join(COLUMNS),
            header=", ".join(header),
        )
    provinces: dict[str, Unit] = {}
    communes: dict[str, Unit] = {}
    errors: list[Phrase] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            errors.append(
                Phrase(
                    N_("dòng %(row)s: cần %(count)s cột, có %(have)s"), row=number, count=len(COLUMNS), have=len(cells)
                )
            )
            continue
        pcode, pname, ccode, cname, ctype = (_text(c) for c in cells)
        problem = _row_problem(pcode, pname, ccode, cname, ctype)
        if problem:
            errors.append(Phrase(N_("dòng %(row)s: %(problem)s"), row=number, problem=problem))
        elif pcode in provinces and provinces[pcode].name != pname:
            errors.append(
                Phrase(
                    N_("dòng %(row)s: tỉnh %(code)s mang tên '%(name)s', các dòng trên là '%(earlier)s'"),
                    row=number,
                    code=pcode,
                    name=pname,
                    earlier=provinces[pcode].name,
                )
            )
        elif ccode in communes:
            errors.append(
                Phrase(N_("dòng %(row)s: mã xã/phường %(code)s đã có ở một dòng trên"), row=number, code=ccode)
            )
        else:
            provinces.setdefault(pcode, Unit("province", pcode, pname, province_type(pname)))
            communes[ccode] = Unit("commune", ccode, cname, ctype, pcode)
        if len(errors) >= 20:
            break
    if errors:
        raise AreaListError(
            N_("Danh sách địa bàn có lỗi, chưa nạp gì: %(faults)s."), faults=Phrase.joined(errors, "; ")
        )
    if not communes:
        raise AreaListError(N_("Tệp danh sách địa bàn chỉ có dòng tiêu đề."))
    return [*provinces.values(), *communes.values()]


def _row_problem(pcode: str, pname: str, ccode: str, cname: str, ctype: str) -> Phrase | None:
    if not (pcode.isdigit() and len(pcode) == 2):
        return Phrase(N_("mã tỉnh '%(code)s' phải gồm 2 chữ số"), code=pcode)
    if not (ccode.isdigit() and len(ccode) == 5):
        return Phrase(N_("mã xã/phường '%(code)s' phải gồm 5 chữ số"), code=ccode)
    if not pname or not cname:
        return Phrase(N_("thiếu tên tỉnh hoặc tên xã/phường"))
    if len(pname) > NAME_MAX or len(cname) > NAME_MAX:
        return Phrase(N_("tên dài quá %(limit)s ký tự"), limit=NAME_MAX)
    if ctype not in COMMUNE_TYPES:
        # The types are the values the file must hold (Vietnamese in the official list), not words to translate.
        return Phrase(N_("loại '%(type)s' phải là một trong: %(types)s"), type=ctype, types=", ".join(COMMUNE_TYPES))
    return None


@dataclass(frozen=True)
class Known:
    """A unit as the database holds it."""

    level: str
    code: str
    name: str
    type: str
    province_code: str | None
    closed: bool


def diff(units: list[Unit], known: list[Known]) -> AreaChanges:
    """What loading ``units`` into a database holding ``known`` changes (matched by level and code)."""
    changes = AreaChanges()
    have = {(k.level, k.code): k for k in known}
    listed = {(u.level, u.code) for u in units}
    for u in units:
        k = have.get((u.level, u.code))
        if k is None:
            changes.added.append(u)
            continue
        if k.closed:
            changes.reopened.append(u)
        if k.name != u.name:
            changes.renamed.append(Rename(u.level, u.code, k.name, u.name))
        if k.type != u.type:
            changes.retyped.append(u)
        if u.level == "commune" and k.province_code != u.province_code:
            changes.moved.append(Move(u.code, u.name, k.province_code or "", u.province_code or ""))
    for key, k in have.items():
        if key not in listed and not k.closed:
            changes.closed.append(Unit(k.level, k.code, k.name, k.type, k.province_code))
    return changes
