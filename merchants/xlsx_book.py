"""What an XLSX package says about itself: its worksheets, where its strings and styles are, which styles show
dates. Read with expat a chunk at a time, nothing kept but what is asked for; no Flask.

Parts are found as openpyxl finds them: the package's relationships name the workbook, the workbook's name its
sheets (in tab order, with their hidden state), shared strings and styles. The package must have passed
``xlsx_guard.check_archive`` (sizes, ratio, DOCTYPE); a DOCTYPE that reaches the parser anyway is refused here too.
Anything broken is a ``WorkbookUnreadable``, never another exception.
"""

from __future__ import annotations

import posixpath
import pyexpat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format  # type: ignore[import-untyped]
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH  # type: ignore[import-untyped]

from merchants import xlsx_guard
from merchants.errors import N_, DomainError

CHUNK: Final = 64 * 1024
MAIN_NAMESPACES: Final = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_REL_IDS: Final = tuple(
    f"{ns} id"
    for ns in (
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    )
)
_OFFICE_DOCUMENT: Final = "/officeDocument"

BROKEN: Final = N_(
    "Tệp .xlsx bị hỏng hoặc không phải bảng tính Excel. Hãy mở bằng Excel, kiểm tra rồi lưu lại dạng .xlsx."
)


class WorkbookUnreadable(DomainError):
    """The package cannot be read as a workbook; nothing of it is used. ``template``/``params`` say why."""

    field = "file"


@dataclass(frozen=True)
class Sheet:
    name: str
    state: str  # 'visible', 'hidden' or 'veryHidden', as workbook.xml has it
    path: str  # the worksheet part inside the package


@dataclass(frozen=True)
class Book:
    """What workbook.xml and its relationships say: the worksheets in tab order, where the strings and styles are."""

    sheets: tuple[Sheet, ...]  # chartsheets and sheets whose part is missing are left out, as openpyxl does
    epoch: datetime  # 1900 or 1904 date system
    strings: str | None
    styles: str | None

    def visible(self) -> list[Sheet]:
        """The sheets a person sees in Excel: hidden and 'very hidden' ones hold lookups and old copies."""
        return [s for s in self.sheets if s.state == "visible"]


def read_book(archive: zipfile.ZipFile) -> Book:
    """The workbook's sheets and parts, from the package's relationships (as openpyxl finds them)."""
    try:
        return _read_book(archive)
    except WorkbookUnreadable:
        raise
    except Exception as exc:  # a part missing or damaged, malformed XML, a sheet without its relationship
        raise WorkbookUnreadable(BROKEN) from exc


def _read_book(archive: zipfile.ZipFile) -> Book:
    names = set(archive.namelist())
    main = next((t for kind, t in _relations(archive, "_rels/.rels", "") if kind.endswith(_OFFICE_DOCUMENT)), None)
    main = main or "xl/workbook.xml"
    folder, base = posixpath.split(main)
    rels = dict(_relations(archive, posixpath.join(folder, "_rels", base + ".rels"), folder, by_id=True))
    sheets, date1904 = [], False
    for name, attrs in _elements(archive, main, {"sheet", "workbookPr"}):
        if name == "workbookPr":
            date1904 = attrs.get("date1904", "").lower() in ("1", "true")
            continue
        rid = next((attrs[k] for k in _REL_IDS if k in attrs), None)
        if rid is None:
            continue  # openpyxl drops such a sheet with a warning
        kind, target = rels[rid]  # a sheet without its relationship: a broken package (KeyError)
        if target in names and "chartsheet" not in kind:
            sheets.append(Sheet(attrs.get("name", ""), attrs.get("state", "visible"), target))
    parts = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values() if target in names}
    return Book(
        tuple(sheets), MAC_EPOCH if date1904 else WINDOWS_EPOCH, parts.get("sharedStrings"), parts.get("styles")
    )


def _relations(archive: zipfile.ZipFile, path: str, folder: str, *, by_id: bool = False) -> Iterator[tuple[str, Any]]:
    """(type, target) of a .rels part, or (id, (type, target)) with ``by_id``; targets as paths in the zip."""
    if path not in archive.namelist():
        return
    for _name, attrs in _elements(archive, path, {"Relationship"}):
        if attrs.get("TargetMode") == "External":
            continue
        target = attrs.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        kind, target = attrs.get("Type", ""), posixpath.normpath(target)
        yield (attrs.get("Id", ""), (kind, target)) if by_id else (kind, target)


def _elements(archive: zipfile.ZipFile, path: str, wanted: set[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """The attributes of each element named in ``wanted`` (local names, any namespace), in document order."""
    found: list[tuple[str, dict[str, str]]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local in wanted:
            found.append((local, attrs))

    for _ in parse_part(archive, path, start):
        yield from found
        found.clear()


def parse_part(
    archive: zipfile.ZipFile,
    path: str,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Feed a part to expat a chunk at a time, pausing after each so the caller hands on what its handlers kept."""
    parser = pyexpat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    with archive.open(path) as part:
        while chunk := part.read(CHUNK):
            parser.Parse(chunk, False)
            yield
    parser.Parse(b"", True)
    yield


def _no_doctype(*_args: Any) -> None:
    raise WorkbookUnreadable(xlsx_guard.DOCTYPE)


def date_styles(archive: zipfile.ZipFile, path: str | None) -> tuple[frozenset[int], frozenset[int]]:
    """The cell styles (indexes into cellXfs) whose number format shows a date, and those that show a duration."""
    if path is None:
        return frozenset(), frozenset()
    custom: dict[int, str] = {}
    formats: list[int] = []
    in_xfs = False
    for name, attrs in _elements(archive, path, {"numFmt", "cellXfs", "xf"}):
        if name == "cellXfs":
            in_xfs = True
        elif name == "xf" and in_xfs:  # cellStyleXfs come before, and are not what a cell's s= counts
            formats.append(int(attrs.get("numFmtId", "0")))
        elif name == "numFmt" and not in_xfs:  # numFmts; those after cellXfs belong to conditional formats
            custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
    codes = [custom[f] if f in custom else BUILTIN_FORMATS.get(f) for f in formats]
    dates = frozenset(i for i, code in enumerate(codes) if is_date_format(code))
    return dates, frozenset(i for i in dates if is_timedelta_format(codes[i]))
