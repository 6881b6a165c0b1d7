"""The cell values of an XLSX worksheet as a stream of rows: no openpyxl parser, no tree, no Flask.

openpyxl's read-only reader builds a cell object per cell, and a month of bank statement has hundreds of thousands
of cells. Here expat, the parser under ElementTree, calls three small functions per element and only the row
being read is kept. ElementTree's ``iterparse`` was tried first: building an Element for every ``<c>``, ``<v>``,
``<is>`` and ``<t>`` cost more than reading them (bench/bench_payments.py prints our reader against openpyxl's).

Values are the ones ``openpyxl.load_workbook(read_only=True, data_only=True)`` gives, so a table reads as it did:
shared and inline strings (rich-text runs joined, phonetic guides left out), numbers as int or float, booleans,
and dates where the cell's style shows one (``xlsx_book.date_styles``, openpyxl's ``from_excel``, the 1904 flag).
Rows are placed by their ``r``: a missing row is an empty row, a missing cell an empty cell. What openpyxl would
crash on, or warn about and turn into '#VALUE!' (a date before 1900 or after 9999), is refused by a
``WorkbookUnreadable`` that names the cell. The package is found and checked by ``xlsx_book``.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import datetime
from math import isfinite
from typing import Any, Final

from openpyxl.utils.datetime import from_excel, from_ISO8601  # type: ignore[import-untyped]

from merchants.errors import N_
from merchants.xlsx_book import BROKEN, MAIN_NAMESPACES, Book, Sheet, WorkbookUnreadable, date_styles, parse_part

MAX_COLUMN: Final = 16_384  # XFD, Excel's last column
MAX_ROW: Final = 1_048_576
MAX_DATE_SERIAL: Final = 2_958_466  # 1 January 10000: Excel's last day is 31/12/9999
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


# Element kinds of the sheet and shared strings parts, by expat's "namespace local" name; any other name is 0.
_T, _V, _C, _IS, _ROW, _SI, _RPH = range(1, 8)
_KINDS: Final = {
    f"{ns} {local}": kind
    for ns in MAIN_NAMESPACES
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

    for _ in parse_part(archive, path, start, end, text):
        pass
    return strings


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
        for _ in parse_part(archive, sheet.path, start, end, text):
            yield from out
            out.clear()
    except WorkbookUnreadable:
        raise
    except Exception as exc:  # malformed XML, a damaged zip entry
        raise WorkbookUnreadable(BROKEN) from exc
