"""Read an uploaded list (XLSX or CSV) into rows keyed by our field names: no database, no Flask.

Households, markets, stalls and users are each read by a ``TableSchema`` (which headers name which field);
the rules for files — formats, size, merged cells, header row, encodings — are the same for all of them.

Row numbers are the ones the spreadsheet shows (the header is row 1), so a report can send an officer to the
exact line. Anything that is not a clean one-table sheet is refused as a whole with a message saying what to fix.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any, Final

import openpyxl

from merchants import xlsx_book, xlsx_guard, xlsx_read
from merchants.errors import N_, DomainError, InvalidField, Phrase
from merchants.identity import search_key
from qr import Bank, all_banks, bank_aliases, get_bank, search_banks

MAX_ROWS: Final = 20_000
MAX_SHEET_BYTES: Final = 200 * 1024 * 1024
MERGE_SCAN_CHUNK: Final = 1024 * 1024
HEADER_SEARCH_ROWS: Final = 10
REQUIRED: Final = ("owner_name", "stalls")

# Header text, folded by ``header_key`` (lowercase, no diacritics, punctuation as spaces) → our field.
ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "owner_name": (
        "ho va ten",
        "ho ten",
        "ho ten chu ho",
        "ho va ten chu ho",
        "ten chu ho",
        "chu ho",
        "ho ten chu ho kinh doanh",
        "ten chu ho kinh doanh",
        "ten ho kinh doanh",
        "ho kinh doanh",
    ),
    "citizen_id": (
        "so cccd",
        "cccd",
        "cccd cmnd",
        "cmnd cccd",
        "so cccd cmnd",
        "so cmnd cccd",
        "cmnd",
        "so cmnd",
        "so dinh danh",
        "so dinh danh ca nhan",
        "ma dinh danh",
        "can cuoc",
        "can cuoc cong dan",
        "so can cuoc",
        "so can cuoc cong dan",
    ),
    "phone": (
        "so dien thoai",
        "sdt",
        "so dt",
        "dien thoai",
        "dt",
        "di dong",
        "so di dong",
        "dien thoai lien he",
        "sdt lien he",
    ),
    "stalls": (
        "so sap",
        "ma sap",
        "sap",
        "ki ot",
        "kiot",
        "so ki ot",
        "ma ki ot",
        "so kiot",
        "ma kiot",
        "sap ki ot",
        "so sap ki ot",
        "ma sap ki ot",
        "quay",
        "so quay",
        "so lo",
        "lo sap",
    ),
    "bank": ("ngan hang", "ten ngan hang", "ngan hang thu huong", "ngan hang mo tai khoan", "ma ngan hang"),
    "account_number": ("so tai khoan", "stk", "so tk", "tai khoan", "so tai khoan ngan hang", "tai khoan ngan hang"),
    "account_alias": ("tai khoan dinh danh", "tk dinh danh", "dinh danh", "tai khoan co chu", "alias"),
    "holder_name": ("ten chu tai khoan", "chu tai khoan", "ten tai khoan", "ten chu tk", "chu tk", "ten tk"),
    "goods": (
        "mat hang",
        "nganh hang",
        "mat hang kinh doanh",
        "nganh hang kinh doanh",
        "nganh nghe",
        "nganh nghe kinh doanh",
        "hang hoa",
        "loai hang",
    ),
    "zone_area": ("khu", "khu vuc", "khu cho", "khu day", "day khu"),
    "zone_row": ("day", "day sap", "day ki ot", "day quay"),
}
FIELD_LABELS: Final = {
    "owner_name": N_("Họ và tên"),
    "citizen_id": N_("Số CCCD"),
    "phone": N_("Số điện thoại"),
    "stalls": N_("Số sạp"),
    "bank": N_("Ngân hàng"),
    "account_number": N_("Số tài khoản"),
    "account_alias": N_("Tài khoản định danh"),
    "holder_name": N_("Tên chủ tài khoản"),
    "goods": N_("Mặt hàng"),
    "zone_area": N_("Khu"),
    "zone_row": N_("Dãy"),
}


@dataclass(frozen=True)
class TableSchema:
    """What one kind of list holds: header aliases (folded by ``header_key``) per field, labels, required fields.

    ``pairs`` are fields that only make sense together (a bank without an account number); ``noun`` names a row
    in messages ("hộ", "chợ", "sạp", "người dùng"; a catalog msgid, like the labels).
    """

    aliases: dict[str, tuple[str, ...]]
    labels: dict[str, str]  # catalog msgids: a message translates the label when it names a field in words
    required: tuple[str, ...]
    noun: str
    pairs: tuple[tuple[str, str], ...] = ()
    max_rows: int = MAX_ROWS  # a bank statement holds a month of credits: more rows than a list of households

    def field_for(self, key: str) -> str | None:
        """The field whose aliases hold this folded header text."""
        index = _INDEXES.get(id(self))
        if index is None:
            index = _INDEXES[id(self)] = {a: f for f, aliases in self.aliases.items() for a in aliases}
        return index.get(key)


_INDEXES: dict[int, dict[str, str]] = {}  # schemas are module constants: indexed once per process


HOUSEHOLDS: Final = TableSchema(ALIASES, FIELD_LABELS, REQUIRED, N_("hộ"), (("bank", "account_number"),))
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]")
_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z0-9:$]+)\"")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
XLSX_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0"


class SpreadsheetError(DomainError):
    """The file as a whole cannot be read as one household table; nothing in it is imported."""

    field = "file"


@dataclass(frozen=True)
class Row:
    """One data row: ``number`` as the spreadsheet shows it, ``values`` by field, and which were numeric cells."""

    number: int
    values: dict[str, str]
    numeric: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()  # cells Excel turned into dates: the text typed is lost


@dataclass(frozen=True)
class Table:
    columns: dict[str, str]  # field → the header exactly as written in the file
    order: dict[str, int]  # field → column position, to list a row's problems left to right
    rows: list[Row]
    ignored: list[str]  # headers we did not recognise (left out of the import)
    sheet: str = ""  # the worksheet read ('' for CSV)
    sheets: tuple[str, ...] = ()  # every visible worksheet, so a page can offer the others


def header_key(text: str) -> str:
    """'Số CCCD/CMND' → 'so cccd cmnd': case, diacritics and punctuation do not matter."""
    return " ".join(_NON_ALNUM.sub(" ", search_key(text)).split())


def field_for_header(text: str, schema: TableSchema = HOUSEHOLDS) -> str | None:
    """The field a column header names, also when it carries a note: 'Số điện thoại (Zalo)'."""
    return schema.field_for(header_key(text)) or schema.field_for(header_key(_BRACKETS.sub(" ", search_key(text))))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


_NONE: Final[frozenset[str]] = frozenset()


def _values(cells: tuple[Any, ...], positions: dict[str, int]) -> tuple[dict[str, str], frozenset[str], frozenset[str]]:
    values, numeric, dates = {}, set(), set()
    width = len(cells)
    for field, pos in positions.items():
        raw = cells[pos] if pos < width else None
        if type(raw) is str:  # nearly every cell (all of a CSV): text needs none of the checks below
            values[field] = raw.strip()
            continue
        text = _cell_text(raw)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            numeric.add(field)
            if field == "citizen_id" and text.isdigit() and len(text) in (10, 11):
                # A CCCD typed as a number lost its leading zero(s): every CCCD has 12 digits and starts with 0.
                # Nine digits stay nine: that is an old CMND, named as such by the CCCD rule.
                text = text.zfill(12)
            elif field == "phone" and text.isdigit() and len(text) == 9:
                text = "0" + text  # a mobile number typed as a number lost its leading 0 (they all have 10 digits)
        elif isinstance(raw, datetime | date):
            dates.add(field)
        values[field] = text
    return values, frozenset(numeric) if numeric else _NONE, frozenset(dates) if dates else _NONE


def _map_header(cells: tuple[Any, ...], schema: TableSchema) -> tuple[dict[str, str], dict[str, int], list[str]]:
    columns: dict[str, str] = {}
    order: dict[str, int] = {}
    ignored = []
    for pos, raw in enumerate(cells):
        text = _cell_text(raw)
        if not text:
            continue
        field = field_for_header(text, schema)
        if field is None:
            ignored.append(text)
        elif field in columns:
            raise SpreadsheetError(
                N_("Hai cột '%(first)s' và '%(second)s' cùng là cột %(label)s; hãy giữ lại một cột."),
                first=columns[field],
                second=text,
                label=Phrase(schema.labels[field]),
            )
        else:
            columns[field], order[field] = text, pos
    return columns, order, ignored


def _check_columns(columns: dict[str, str], ignored: list[str], schema: TableSchema) -> None:
    # A missing column is named by the header to write (Vietnamese, as the file's headers are), not translated.
    missing = [schema.labels[f] for f in schema.required if f not in columns]
    if missing and ignored:
        raise SpreadsheetError(
            N_("Không tìm thấy cột %(columns)s ở dòng 1 (tiêu đề). Dòng 1 có: %(seen)s."),
            columns=_and(missing),
            seen=", ".join(repr(h) for h in ignored[:8]),
        )
    if missing:
        raise SpreadsheetError(N_("Không tìm thấy cột %(columns)s ở dòng 1 (tiêu đề)."), columns=_and(missing))
    for a, b in schema.pairs:
        if (a in columns) != (b in columns):
            have, need = (a, b) if a in columns else (b, a)
            raise SpreadsheetError(
                N_("Có cột '%(have)s' nhưng thiếu cột '%(need)s'; cần cả hai cột."),
                have=columns[have],
                need=schema.labels[need],
            )


def _and(headers: list[str]) -> Phrase | str:
    """'A' và 'B': quoted headers, the word between them in the reader's language."""
    quoted = [f"'{h}'" for h in headers]
    out: Phrase | str = quoted[-1]
    for first in reversed(quoted[:-1]):
        out = Phrase(N_("%(first)s và %(second)s"), first=first, second=out)
    return out


def _scan_below(it: Iterator[tuple[Any, ...]], schema: TableSchema) -> tuple[int | None, bool]:
    """When row 1 names no column: the first of the next rows that does, and whether anything is below."""
    content = False
    for number, cells in enumerate(it, start=2):
        texts = [t for t in map(_cell_text, cells) if t]
        content = content or bool(texts)
        if any(field_for_header(t, schema) for t in texts):
            return number, True
        if number >= HEADER_SEARCH_ROWS:
            break
    return None, content


def build_table(records: Iterable[tuple[Any, ...]], schema: TableSchema = HOUSEHOLDS) -> Table:
    """Map the header (row 1) to fields and collect the non-empty data rows with their spreadsheet numbers."""
    it: Iterator[tuple[Any, ...]] = iter(records)
    header = next(it, None)
    columns, order, ignored = _map_header(header or (), schema)
    if not columns:
        later, content = _scan_below(it, schema)
        if later:
            raise SpreadsheetError(
                N_("Tiêu đề cột phải nằm ở dòng 1 (tìm thấy ở dòng %(row)s); hãy xoá các dòng phía trên tiêu đề."),
                row=later,
            )
        if not ignored and not content:
            raise SpreadsheetError(N_("Tệp không có dữ liệu: trang tính đầu tiên trống."))
    _check_columns(columns, ignored, schema)
    rows: list[Row] = []
    for number, cells in enumerate(it, start=2):
        values, numeric, dates = _values(cells, order)
        if any(values.values()):
            rows.append(Row(number, values, numeric, dates))
            if len(rows) > schema.max_rows:
                raise SpreadsheetError(
                    N_("Tệp có hơn %(limit)s dòng; hãy chia thành nhiều tệp nhỏ hơn."), limit=schema.max_rows
                )
    if not rows:
        raise SpreadsheetError(N_("Tệp chỉ có dòng tiêu đề, không có %(noun)s nào để nhập."), noun=Phrase(schema.noun))
    return Table(columns, order, rows, ignored)


def read_table(data: bytes, schema: TableSchema = HOUSEHOLDS, *, sheet: str | None = None) -> Table:
    """Read XLSX or CSV, told apart by their bytes (a renamed file still works), into a ``Table``.

    Of a workbook only a visible sheet is read: ``sheet`` by name, else the first visible one.
    """
    if not data:
        raise SpreadsheetError(N_("Tệp trống (0 byte)."))
    if data.startswith(XLSX_MAGIC):
        check_package(data)
        names = tuple(sheet_names(data))
        table = build_table(_xlsx_records(data, sheet), schema)
        return replace(table, sheet=sheet or (names[0] if names else ""), sheets=names)
    if data.startswith(OLE_MAGIC):
        raise SpreadsheetError(
            N_("Tệp Excel 97–2003 (.xls) không được hỗ trợ; hãy mở bằng Excel và lưu lại dạng .xlsx.")
        )
    return build_table(_csv_records(data), schema)


def check_package(data: bytes) -> None:
    """Refuse a zip bomb or a DOCTYPE in an XLSX before any XML parser inflates or reads a part (``xlsx_guard``)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xlsx_guard.check_archive(archive)
    except xlsx_guard.UnsafeArchive as exc:
        raise SpreadsheetError(exc.message) from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise _broken_xlsx() from exc


def _broken_xlsx() -> SpreadsheetError:
    return SpreadsheetError(xlsx_book.BROKEN)


def _check_merged(archive: zipfile.ZipFile, path: str) -> None:
    """Merged cells hide values (only the top-left cell keeps one), so a sheet with any is refused.

    Looked for before the first row is read (a sheet lists its merged cells after its rows), a chunk at a time.
    """
    if archive.getinfo(path).file_size > MAX_SHEET_BYTES:
        raise SpreadsheetError(N_("Trang tính quá lớn; hãy chia thành nhiều tệp nhỏ hơn."))
    refs = list(dict.fromkeys(_merge_refs(archive, path)))
    if not refs:
        return
    header = [r for r in refs if re.fullmatch(r"\$?[A-Z]+\$?1(:\$?[A-Z]+\$?\d+)?", r)]
    shown = ", ".join((header or refs)[:5]) + ("…" if len(header or refs) > 5 else "")
    raise SpreadsheetError(
        N_(
            "Dòng tiêu đề có ô gộp (%(cells)s). Hãy bỏ gộp ô (Unmerge Cells), để tiêu đề cột ở dòng 1 "
            "và mỗi hộ trên một dòng, điền đủ giá trị từng ô."
        )
        if header
        else N_(
            "Bảng tính có ô gộp (%(cells)s). Hãy bỏ gộp ô (Unmerge Cells), để tiêu đề cột ở dòng 1 "
            "và mỗi hộ trên một dòng, điền đủ giá trị từng ô."
        ),
        cells=shown,
    )


def _merge_refs(archive: zipfile.ZipFile, path: str) -> Iterator[str]:
    """The ref= of each <mergeCell> in the sheet part; a tag cut by a chunk's end is carried to the next chunk."""
    carry = b""
    with archive.open(path) as part:
        while chunk := part.read(MERGE_SCAN_CHUNK):
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut == -1 or data.find(b">", cut) != -1 or len(data) - cut > MERGE_SCAN_CHUNK:
                cut = len(data)  # no tag left open (or an absurd one, which no mergeCell is)
            if b"mergeCell" in data:
                yield from (m.decode() for m in _MERGE_REF.findall(data, 0, cut))
            carry = data[cut:]
    if carry:
        yield from (m.decode() for m in _MERGE_REF.findall(carry))


def sheet_names(data: bytes) -> list[str]:
    """The visible sheets of an XLSX file (empty for CSV), so a page can offer a choice when there are several."""
    if not data.startswith(XLSX_MAGIC):
        return []
    try:
        check_package(data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [s.name for s in xlsx_book.read_book(archive).visible()]
    except (SpreadsheetError, xlsx_book.WorkbookUnreadable, zipfile.BadZipFile, OSError):
        return []  # a broken file is reported when it is read


def _pick_sheet(book: xlsx_book.Book, name: str | None) -> xlsx_book.Sheet:
    shown = book.visible()
    if not shown:
        raise SpreadsheetError(N_("Tệp .xlsx không có trang tính nào đang hiện."))
    if not name:
        return shown[0]
    for sheet in shown:
        if sheet.name == name:
            return sheet
    hidden = any(s.name == name for s in book.sheets)
    raise SpreadsheetError(
        N_("Không có trang tính '%(name)s' (trang này đang bị ẩn); các trang đang hiện: %(shown)s.")
        if hidden
        else N_("Không có trang tính '%(name)s'; các trang đang hiện: %(shown)s."),
        name=name,
        shown=", ".join(f"'{s.name}'" for s in shown),
    )


def _xlsx_records(data: bytes, sheet_name: str | None = None) -> Iterator[tuple[Any, ...]]:
    """The rows of the chosen visible sheet as cell values (str, int, float, bool, datetime, time, timedelta, None)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "mimetype" in archive.namelist() and b"opendocument" in archive.read("mimetype"):
                raise SpreadsheetError(
                    N_("Tệp OpenDocument (.ods) không được hỗ trợ; hãy lưu lại dạng .xlsx hoặc .csv.")
                )
            book = xlsx_book.read_book(archive)
            sheet = _pick_sheet(book, sheet_name)
            _check_merged(archive, sheet.path)
            yield from xlsx_read.iter_rows(archive, book, sheet)
    except xlsx_book.WorkbookUnreadable as exc:
        raise SpreadsheetError(exc.template, **exc.params) from exc
    except SpreadsheetError:
        raise
    except Exception as exc:  # zipfile and zlib raise many types on a damaged or foreign file
        raise _broken_xlsx() from exc


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    return b"\x00" in head or len(_CONTROL.findall(head.decode("latin-1"))) > len(head) // 100


def _decode_csv(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")  # Excel's "Unicode Text" export
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(N_("Tệp không phải bảng tính XLSX hoặc CSV.")) from exc
    if _looks_binary(data):
        raise SpreadsheetError(
            N_("Tệp không phải bảng tính XLSX hoặc CSV (có vẻ là tệp nhị phân: ảnh, PDF, tệp nén…).")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpreadsheetError(
            N_(
                "Tệp CSV không dùng bảng mã UTF-8 (ký tự lạ ở dòng %(line)s); có thể tệp đang ở mã Windows-1258, "
                "TCVN3 hoặc Latin-1 nên chữ có dấu sẽ bị sai. Hãy mở bằng Excel và lưu lại dạng "
                "'CSV UTF-8 (Comma delimited)' hoặc .xlsx."
            ),
            line=line,
        ) from exc


def _csv_records(data: bytes) -> Iterator[tuple[Any, ...]]:
    text = _decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first.count) if any(d in first for d in ",;\t|") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield tuple(record)
    except csv.Error as exc:
        raise SpreadsheetError(
            N_("Tệp CSV không đọc được ở dòng %(line)s: %(error)s."), line=reader.line_num, error=str(exc)
        ) from exc


@cache
def _compact_aliases() -> dict[str, tuple[Bank, ...]]:
    """Every short name, code, full name and former or everyday name without spaces or hyphens: 'MB Bank' and
    'MBBank' meet, and 'Ngân hàng Công thương' names VietinBank exactly."""
    out: dict[str, list[Bank]] = {}
    for bank in all_banks():
        for alias in {bank.code, bank.short_name, bank.name, *bank_aliases(bank.bin)}:
            out.setdefault(_compact(alias), []).append(bank)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def _compact(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", header_key(text).upper())


def resolve_bank(text: str) -> Bank:
    """The bank a cell names by BIN, code, short or full name; refused when unknown or ambiguous."""
    value = " ".join(text.split())
    if value.isdigit() and get_bank(value):
        return get_bank(value)
    exact = _compact_aliases().get(_compact(value), ())
    if len(exact) == 1:
        return exact[0]
    found = list(exact) or search_banks(value)
    if len(found) == 1:
        return found[0]
    if not found:
        raise InvalidField(
            "bin",
            "Ngân hàng '%(value)s' không có trong danh sách NAPAS; "
            "hãy ghi tên ngắn (Vietcombank), mã (VCB) hoặc BIN (970436).",
            value=value,
        )
    names = ", ".join(b.short_name for b in found[:4]) + ("…" if len(found) > 4 else "")
    raise InvalidField(
        "bin",
        "Ngân hàng '%(value)s' khớp nhiều ngân hàng (%(names)s); hãy ghi rõ tên ngắn hoặc BIN.",
        value=value,
        names=names,
    )


TEMPLATE_HEADERS: Final = (
    "STT",
    "Họ và tên",
    "Số CCCD",
    "Số điện thoại",
    "Số sạp",
    "Khu",
    "Ngân hàng",
    "Số tài khoản",
    "Tên chủ tài khoản",
    "Mặt hàng",
)
TEMPLATE_EXAMPLE: Final = (
    "1",
    "Nguyễn Thị Đào",
    "022185001234",
    "0912345678",
    "A-001",
    "Nhà chợ chính",
    "Vietcombank",
    "0011001932418",
    "",
    "Rau củ quả",
)


def template_book(title: str, headers: tuple[str, ...], example: tuple[str, ...]) -> bytes:
    """An empty list with our headers and one example row, every column Text so codes keep their leading zeros.

    One writer for every import's template (households, users…), so they all survive Excel the same way.
    """
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    sheet.append(example)
    for pos, header in enumerate(headers, start=1):
        letter = openpyxl.utils.get_column_letter(pos)
        sheet.column_dimensions[letter].width = max(10, len(header) + 4)
        sheet.column_dimensions[letter].number_format = "@"
        for row in (1, 2):
            sheet.cell(row, pos).number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_xlsx() -> bytes:
    """The household list template."""
    return template_book("Danh sách hộ", TEMPLATE_HEADERS, TEMPLATE_EXAMPLE)
