"""Read the cell values of an XLSX package as a stream of rows: no openpyxl parser, no tree, no Flask.

openpyxl's read-only reader builds a cell object per cell and a hundred thousand of them cost seconds (a month
of bank statement). Here expat, the parser under ElementTree, calls three small functions per element and keeps
only the row being read. ElementTree's ``iterparse`` was tried first: building an Element for every ``<c>``,
``<v>``, ``<is>`` and ``<t>`` costs more than reading them (bench/bench_payments.py prints the ratios).

Values are the ones ``openpyxl.load_workbook(read_only=True, data_only=True)`` gives, so a table read before
reads the same: shared and inline strings (rich-text runs joined, phonetic runs left out), numbers as int or
float, booleans, and dates where the cell's style has a date format, by openpyxl's own rule (``is_date_format``,
``from_excel``, the 1904 flag). Rows are numbered by their ``r``: a missing row is an empty row, a missing cell an
empty cell. What openpyxl would crash on, or warn about and turn into '#VALUE!' (a date before 1900 or after
9999), is refused here by a ``WorkbookUnreadable`` that names the cell.

The package must have passed ``xlsx_guard.check_archive`` (sizes, ratio, DOCTYPE); a DOCTYPE that reaches the
parser anyway is refused by it too.
"""

from __future__ import annotations

import posixpath
import pyexpat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from math import isfinite
from typing import Any, Final

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format  # type: ignore[import-untyped]
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601  # type: ignore[import-untyped]

from merchants import xlsx_guard
from merchants.errors import N_, DomainError

MAX_COLUMN: Final = 16_384  # XFD, Excel's last column
MAX_ROW: Final = 1_048_576
MAX_DATE_SERIAL: Final = 2_958_466  # 1 January 10000: Excel's last day is 31/12/9999
CHUNK: Final = 64 * 1024
_MAIN: Final = (
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
OUT_OF_SHEET: Final = N_(
    "Tệp .xlsx có ô '%(cell)s' nằm ngoài giới hạn của Excel (cột XFD, dòng 1048576): tệp bị hỏng hoặc không do "
    "Excel tạo. Hãy mở bằng Excel, kiểm tra rồi lưu lại dạng .xlsx."
)
BAD_CELL: Final = N_(
    "Tệp .xlsx bị hỏng ở ô %(cell)s: không đọc được giá trị '%(value)s'. Hãy mở bằng Excel, kiểm tra rồi lưu lại "
    "dạng .xlsx."
)
BAD_DATE: Final = N_(
    "Ô %(cell)s có định dạng ngày nhưng giá trị %(value)s không phải ngày Excel hiển thị được (từ 1900 đến 9999). "
    "Hãy sửa ô này, hoặc đổi định dạng của ô sang Số hay Văn bản, rồi lưu lại."
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

    for _ in _parse(archive, path, start):
        yield from found
        found.clear()


def _parse(
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


# Element kinds of the sheet and shared strings parts, by expat's "namespace local" name; any other name is 0.
_T, _V, _C, _IS, _ROW, _SI, _RPH = range(1, 8)
_KINDS: Final = {
    f"{ns} {local}": kind
    for ns in _MAIN
    for local, kind in (("c", _C), ("v", _V), ("t", _T), ("is", _IS), ("row", _ROW), ("si", _SI), ("rPh", _RPH))
}


class _Kinds(dict[str, int]):
    """``_KINDS`` with 0 for any other name, looked up by subscript: the parser asks twice for every element."""

    def __missing__(self, name: str) -> int:
        self[name] = 0
        return 0


def shared_strings(archive: zipfile.ZipFile, path: str | None) -> list[str]:
    """The shared string table: each <si>'s text, rich-text runs joined and phonetic guides left out."""
    strings: list[str] = []
    if path is None:
        return strings
    texts: list[str] = []
    kinds = _Kinds(_KINDS)
    collect = in_phonetic = False

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal collect, in_phonetic
        kind = kinds[name]
        if kind == _T:
            collect = not in_phonetic
        elif kind == _SI:
            texts.clear()
        elif kind == _RPH:
            in_phonetic = True

    def end(name: str) -> None:
        nonlocal collect, in_phonetic
        collect = False
        kind = kinds[name]
        if kind == _SI:
            joined = "".join(texts)
            strings.append(joined.replace("x005F_", "") if "x005F_" in joined else joined)  # as openpyxl does
        elif kind == _RPH:
            in_phonetic = False

    def text(data: str) -> None:
        if collect:
            texts.append(data)

    for _ in _parse(archive, path, start, end, text):
        pass
    return strings


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


def column_letter(column: int) -> str:
    """1 → 'A', 28 → 'AB': a cell named in a message as Excel names it."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_COLUMNS: Final = {column_letter(n): n for n in range(1, MAX_COLUMN + 1)}
_DIGITS: Final = "0123456789"


def _column(ref: str) -> int:
    """'AB12' → 28; refused when it is no cell of an Excel sheet ('ZZZZZZ1', 'A', '$A$1')."""
    letters = ref.rstrip(_DIGITS)
    column = _COLUMNS.get(letters) or _COLUMNS.get(letters.upper())
    if column is None or len(letters) == len(ref):
        raise WorkbookUnreadable(OUT_OF_SHEET, cell=ref[:20])
    return column


def _row_number(text: str) -> int:
    """A row's r= as openpyxl takes it (an integer, also written '5.0'); past Excel's last row it is refused."""
    try:
        number = int(text)
    except ValueError:
        as_float = float(text)  # ValueError: a broken package
        if not as_float.is_integer():
            raise
        number = int(as_float)
    if number > MAX_ROW:
        raise WorkbookUnreadable(OUT_OF_SHEET, cell=f"A{number}"[:20])
    return number


def _date(serial: float, epoch: datetime, duration: bool, cell: str) -> Any:
    """A date cell's serial as openpyxl gives it (datetime, time of day or timedelta); refused outside 1900-9999."""
    if not isfinite(serial) or (not duration and not 0 <= serial < MAX_DATE_SERIAL):
        raise WorkbookUnreadable(BAD_DATE, cell=cell, value=str(serial)[:20])
    try:
        return from_excel(serial, epoch, timedelta=duration)
    except (OverflowError, ValueError) as exc:
        raise WorkbookUnreadable(BAD_DATE, cell=cell, value=str(serial)[:20]) from exc


def iter_rows(archive: zipfile.ZipFile, book: Book, sheet: Sheet) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows from row 1, as openpyxl's ``iter_rows(values_only=True)`` after ``reset_dimensions``:
    a row is as wide as its last cell, a row missing from the file is ``()``."""
    try:
        strings = shared_strings(archive, book.strings)
        dates, durations = date_styles(archive, book.styles)
    except WorkbookUnreadable:
        raise
    except Exception as exc:  # expat, zipfile, zlib and int() raise many types on a damaged part
        raise WorkbookUnreadable(BROKEN) from exc
    epoch = book.epoch
    out: list[tuple[Any, ...]] = []  # rows finished in the chunk being parsed
    values: list[Any] = []  # the row being read, by column
    texts: list[str] = []  # the cell being read: its <v>, or its <is> text pieces
    next_row, number, column, last = 1, 0, 0, 0
    kinds, columns, digits = _Kinds(_KINDS), _COLUMNS.get, _DIGITS
    cell_type: str | None = None
    style: str | None = None
    ref: str | None = None
    in_row = in_cell = collect = inline = in_string = has_string = in_phonetic = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal collect, in_cell, cell_type, inline, in_string, has_string, style, ref, column
        nonlocal in_row, number, last, in_phonetic
        kind = kinds[name]
        if kind == _C:
            if not in_row:
                return
            in_cell, has_string = True, False
            texts.clear()
            cell_type, ref = attrs.get("t"), attrs.get("r")
            style = attrs.get("s") if cell_type is None or cell_type == "n" else None  # only numbers show dates
            inline = cell_type == "inlineStr"
            if ref:
                letters = ref.rstrip(digits)
                found = columns(letters)
                column = found if found and len(letters) < len(ref) else _column(ref)
            else:
                column += 1
                if column > MAX_COLUMN:
                    raise WorkbookUnreadable(OUT_OF_SHEET, cell=f"{column_letter(column)}{number}")
        elif kind == _T:
            collect = in_string and not in_phonetic
        elif kind == _V:
            collect = in_cell and not inline
        elif kind == _IS:
            in_string = in_cell and inline
            has_string = has_string or in_string
        elif kind == _ROW:
            row_ref = attrs.get("r")
            number = _row_number(row_ref) if row_ref else number + 1
            if number > MAX_ROW:  # counted on from rows without r=
                raise WorkbookUnreadable(OUT_OF_SHEET, cell=f"A{number}")
            in_row, column, last = True, 0, 0
            values.clear()
        elif kind == _RPH:
            in_phonetic = True

    def end(name: str) -> None:
        nonlocal collect, in_cell, in_string, in_row, next_row, last, in_phonetic
        collect = False
        kind = kinds[name]
        if kind < _C:  # the end of a <t>, a <v> or an element we do not read
            return
        if kind == _C and in_cell:
            in_cell = False
            if inline:
                value = "".join(texts) if has_string else None
            elif texts:
                value = _value("".join(texts), cell_type, style)
            else:
                value = None
            width = len(values)
            if column == width + 1:
                values.append(value)
            elif column <= width:
                values[column - 1] = value
            else:
                values.extend([None] * (column - 1 - width))
                values.append(value)
            last = column
        elif kind == _ROW and in_row:
            in_row = False
            if number > next_row:
                out.extend([()] * (number - next_row))
                next_row = number
            if number == next_row:  # a row that goes back or repeats is left out, as openpyxl does
                out.append(tuple(values[:last]) if last < len(values) else tuple(values))
                next_row += 1
        elif kind == _IS:
            in_string = False
        elif kind == _RPH:
            in_phonetic = False

    def text(data: str) -> None:
        if collect:
            texts.append(data)

    def _value(raw: str, kind: str | None, style: str | None) -> Any:
        try:
            if kind is None or kind == "n":
                num = float(raw) if "." in raw or "e" in raw or "E" in raw else int(raw)
                if style is not None and style != "0" and int(style) in dates:
                    return _date(num, epoch, int(style) in durations, ref or f"{column_letter(column)}{number}")
                return num
            if kind == "s":
                index = int(raw)
                if index < 0:
                    raise IndexError(index)
                return strings[index]
            if kind == "b":
                return bool(int(raw))
            if kind == "d":
                return from_ISO8601(raw)
        except (ValueError, IndexError, TypeError) as exc:
            raise WorkbookUnreadable(BAD_CELL, cell=ref or f"{column_letter(column)}{number}", value=raw[:20]) from exc
        return raw  # 'str' (a formula's text), 'e' (an error such as #N/A): the text as written

    try:
        for _ in _parse(archive, sheet.path, start, end, text):
            yield from out
            out.clear()
    except WorkbookUnreadable:
        raise
    except Exception as exc:  # malformed XML, a damaged zip entry
        raise WorkbookUnreadable(BROKEN) from exc
