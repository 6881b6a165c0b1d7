"""The XLSX reader: every workbook reads as openpyxl's read-only reader read it, and hostile ones are refused.

The reference below is the reader ``spreadsheet`` used before it had its own: openpyxl, read-only, values only.
Workbooks are written by openpyxl (inline strings, as our templates and exports are) and rewritten the way Excel
saves them (shared strings with rich-text runs and phonetic guides, prefixed XML), or hand-made for sparse rows.
"""

from __future__ import annotations

import io
import random
import re
import time
import zipfile
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from merchants import spreadsheet, xlsx_book, xlsx_guard
from merchants.spreadsheet import SpreadsheetError, read_table, sheet_names

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TIME_LIMIT = 2.0


def reference_rows(data: bytes, sheet: str | None = None) -> list[tuple[Any, ...]]:
    """The rows as openpyxl's read-only reader gives them (the first visible sheet, or ``sheet``)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        shown = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
        ws = next(ws for ws in shown if ws.title == sheet) if sheet else shown[0]
        ws.reset_dimensions()
        return [tuple(row) for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()


def reference_names(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    finally:
        book.close()


def rows(data: bytes, sheet: str | None = None) -> list[tuple[Any, ...]]:
    return list(spreadsheet._xlsx_records(data, sheet))


WORDS = ["Nguyễn Thị Đào", "Lê Văn Hùng", "Chợ Cái Rồng", "Sạp A-001", "  khoảng trắng  ", "R&D <x> \"q\" 'a'", ""]
FORMATS = ["dd/mm/yyyy", "d-mmm-yy", '"Ngày "dd', "yyyy-mm-dd hh:mm", "[h]:mm:ss", "mm:ss", "h:mm AM/PM", "14"]
PLAIN_FORMATS = ["0.00", '#,##0 "đ"', "[Red]0.00", "General", "@", "0%", "#,##0;[Red]-#,##0"]


def _value(rng: random.Random, first_year: int) -> Any:
    kind = rng.randrange(10)
    if kind < 3:
        return rng.choice(WORDS) + (str(rng.randrange(1000)) if rng.random() < 0.5 else "")
    if kind == 3:
        return rng.choice(["0912345678", "022185001234", "=SUM(A1:A2)", "TRUE", "1.5e3", "x" * rng.randrange(300)])
    if kind == 4:
        return rng.choice([0, 1, -7, 123456789, 22185001234, 10**15, rng.randrange(-(10**6), 10**6)])
    if kind == 5:
        return rng.choice([0.1, -2.5, 1e20, 1e-7, 12.0, round(rng.uniform(-1e6, 1e6), 3)])
    if kind == 6:
        return rng.choice([True, False])
    if kind == 7:
        return datetime(rng.randint(first_year, 2100), rng.randint(1, 12), rng.randint(1, 28), rng.randrange(24), 5, 7)
    if kind == 8:
        early = [date(first_year, 1, 15), date(first_year, 3, 1)]
        return rng.choice([*early, date(2026, 11, 30), clock(10, 30), timedelta(hours=30)])
    return None


def random_book(seed: int) -> bytes:
    """A workbook of a few sheets (some hidden), rows of mixed values with gaps, some numbers given formats.

    Its dates are ones Excel shows: in the 1904 date system none before 1904 (openpyxl writes them as negative
    serials, which Excel shows as ####; the reader refuses them, see the date test below)."""
    rng = random.Random(seed)
    book = openpyxl.Workbook()
    book.remove(book.active)
    first_year = 1900
    if rng.random() < 0.3:
        book.epoch, first_year = CALENDAR_MAC_1904, 1904
    for n in range(rng.randint(1, 3)):
        ws = book.create_sheet(f"{rng.choice(['Danh sách', 'Khu Đông', 'Sheet'])} {n}")
        ws.sheet_state = "visible" if n == 0 else rng.choice(["visible", "hidden", "veryHidden"])
        for r in range(1, rng.randint(1, 14)):
            if rng.random() < 0.15:
                continue  # a row with nothing in it
            for c in range(1, rng.randint(1, 9)):
                value = _value(rng, first_year)
                if value is None:
                    continue
                cell = ws.cell(r, c, value)
                if type(value) in (int, float) and rng.random() < 0.4:
                    in_dates = 0 <= value < 2_958_465
                    cell.number_format = rng.choice(FORMATS + PLAIN_FORMATS if in_dates else PLAIN_FORMATS)
    if rng.random() < 0.5:
        book.move_sheet(book.worksheets[0], offset=len(book.worksheets) - 1)  # the first tab may be a hidden one
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_excel_saves(data: bytes) -> bytes:
    """The same workbook with shared strings, as Excel writes it: some as rich-text runs, some with a phonetic
    guide that is not part of the text; the sheets rewritten with namespace prefixes (``ns0:c``)."""
    ns = {"m": MAIN}
    parts = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    strings: dict[str, int] = {}
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        root = ElementTree.fromstring(parts[name])
        for cell in root.iterfind(".//m:c[@t='inlineStr']", ns):
            text = "".join(t.text or "" for t in cell.iter(f"{{{MAIN}}}t"))
            for child in list(cell):
                cell.remove(child)
            cell.set("t", "s")
            ElementTree.SubElement(cell, f"{{{MAIN}}}v").text = str(strings.setdefault(text, len(strings)))
        parts[name] = ElementTree.tostring(root)
    sst = ElementTree.Element(f"{{{MAIN}}}sst")
    for text, index in strings.items():
        si = ElementTree.SubElement(sst, f"{{{MAIN}}}si")
        if index % 3 == 1 and len(text) > 2:
            for piece, bold in ((text[:2], True), (text[2:], False)):
                run = ElementTree.SubElement(si, f"{{{MAIN}}}r")
                if bold:
                    ElementTree.SubElement(ElementTree.SubElement(run, f"{{{MAIN}}}rPr"), f"{{{MAIN}}}b")
                ElementTree.SubElement(run, f"{{{MAIN}}}t").text = piece
        else:
            ElementTree.SubElement(si, f"{{{MAIN}}}t").text = text
            if index % 4 == 2:
                guide = ElementTree.SubElement(si, f"{{{MAIN}}}rPh", sb="0", eb="1")
                ElementTree.SubElement(guide, f"{{{MAIN}}}t").text = "ふりがな"
    parts["xl/sharedStrings.xml"] = ElementTree.tostring(sst)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSST" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    )
    return _zip(parts)


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in parts.items():
            archive.writestr(name, blob)
    return out.getvalue()


@pytest.mark.parametrize("seed", range(40))
def test_openpyxl_written_workbooks_read_as_openpyxl_read_them(seed):
    data = random_book(seed)
    names = reference_names(data)
    assert sheet_names(data) == names
    for name in names:
        assert rows(data, name) == reference_rows(data, name), name
    assert rows(data) == reference_rows(data)


@pytest.mark.parametrize("seed", range(40, 60))
def test_workbooks_saved_with_shared_strings_read_as_openpyxl_read_them(seed):
    data = as_excel_saves(random_book(seed))
    assert b"sharedStrings" in data
    for name in reference_names(data):
        assert rows(data, name) == reference_rows(data, name), name


def test_rich_text_runs_are_joined_and_a_phonetic_guide_left_out():
    book = openpyxl.Workbook()
    book.active.append(["Nguyễn Thị Đào", "Chợ Cái Rồng", "Khu"])
    book.active.append(["Lê Văn Hùng", "Sạp A-001", "Dãy"])
    out = io.BytesIO()
    book.save(out)
    assert rows(as_excel_saves(out.getvalue())) == [
        ("Nguyễn Thị Đào", "Chợ Cái Rồng", "Khu"),
        ("Lê Văn Hùng", "Sạp A-001", "Dãy"),
    ]


def _dated_book(epoch: datetime | None, *values: Any) -> bytes:
    book = openpyxl.Workbook()
    if epoch:
        book.epoch = epoch
    book.active.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("epoch", "year"), [(None, 1900), (CALENDAR_MAC_1904, 1904)])
def test_dates_in_the_1900_and_1904_systems_and_text_that_only_looks_like_one(epoch, year):
    data = _dated_book(epoch, datetime(2026, 11, 30, 10, 15, 2), date(year, 2, 1), "30/11/2026", 45000, clock(7, 30))
    [row] = rows(data)
    assert row == (datetime(2026, 11, 30, 10, 15, 2), datetime(year, 2, 1), "30/11/2026", 45000, clock(7, 30))
    assert row == reference_rows(data)[0]


def test_a_date_before_1904_in_a_1904_workbook_is_refused_as_excel_cannot_show_it():
    data = _dated_book(CALENDAR_MAC_1904, date(2026, 1, 1), date(1903, 12, 31))
    with pytest.raises(SpreadsheetError) as refused:
        rows(data)
    assert refused.value.message.startswith("Ô B1 có định dạng ngày nhưng giá trị -1 ")


def _package(sheet_xml: str, *, styled: bool = False) -> bytes:
    """A one-sheet workbook whose sheet part is ``sheet_xml`` (inside <sheetData>); with ``styled`` its style 1
    shows dates (dd/mm/yyyy)."""
    book = openpyxl.Workbook()
    if styled:
        book.active["A1"] = datetime(2026, 1, 1)
        book.active["A1"].number_format = "dd/mm/yyyy"
    parts = _parts(book)
    parts["xl/worksheets/sheet1.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{MAIN}"><sheetData>{sheet_xml}</sheetData>'
        "</worksheet>"
    ).encode()
    return _zip(parts)


def _parts(book: openpyxl.Workbook | None = None) -> dict[str, bytes]:
    """The parts of a saved workbook (an empty one by default), to tamper with."""
    out = io.BytesIO()
    (book or openpyxl.Workbook()).save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_sparse_rows_and_cells_keep_their_places():
    data = _package(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c><c r="C1"><v>3</v></c></row>'
        '<row r="4"><c r="B4" t="b"><v>1</v></c></row>'
        '<row r="5"/>'
        '<row><c><v>1</v></c><c><v>2.5</v></c><c t="e"><v>#N/A</v></c></row>'
        '<row r="8"><c r="B8" t="str"><v>công thức</v></c><c r="D8"/></row>'
    )
    expected = [("Họ và tên", None, 3), (), (), (None, True), (), (1, 2.5, "#N/A"), (), (None, "công thức", None, None)]
    assert rows(data) == expected
    assert rows(data) == reference_rows(data)


def test_a_row_number_sends_the_officer_to_the_spreadsheets_line_after_gaps():
    data = _package(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Họ và tên</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Số sạp</t></is></c></row>'
        '<row r="7"><c r="A7" t="inlineStr"><is><t>Nguyễn Thị Đào</t></is></c>'
        '<c r="B7" t="inlineStr"><is><t>A-001</t></is></c></row>'
    )
    [row] = read_table(data).rows
    assert (row.number, row.values) == (7, {"owner_name": "Nguyễn Thị Đào", "stalls": "A-001"})


def test_rows_come_out_before_the_rest_of_the_sheet_is_parsed():
    """The sheet is streamed: its first row is read while a broken end of the part is still unread."""
    body = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 5001))
    data = _package(body + "<row><c><v>broken")
    records = spreadsheet._xlsx_records(data)
    assert next(records) == (1,)
    with pytest.raises(SpreadsheetError) as refused:
        list(records)
    assert refused.value.message == xlsx_book.BROKEN


HOSTILE = {
    "malformed XML": ('<row r="1"><c r="A1"><v>1</v></row>', xlsx_book.BROKEN),
    "a column past ZZZ": ('<row r="1"><c r="ZZZZZZ1"><v>1</v></c></row>', "ô 'ZZZZZZ1' nằm ngoài giới hạn"),
    "the column after XFD": ('<row r="1"><c r="XFE1"><v>1</v></c></row>', "ô 'XFE1' nằm ngoài giới hạn"),
    "a reference without a row": ('<row r="1"><c r="AB"><v>1</v></c></row>', "ô 'AB' nằm ngoài giới hạn"),
    "a row past 1048576": ('<row r="99999999999"><c><v>1</v></c></row>', "ô 'A99999999999' nằm ngoài"),
    "16385 cells in a row": ("<row>" + "<c/>" * 16_385 + "</row>", "ô 'XFE1' nằm ngoài giới hạn"),
    "an enormous shared string index": (
        '<row r="1"><c r="A1" t="s"><v>1000000000000000000000000000000</v></c></row>',
        "bị hỏng ở ô A1: không đọc được giá trị '10000000000000000000'",
    ),
    "a negative shared string index": ('<row r="1"><c r="B1" t="s"><v>-1</v></c></row>', "bị hỏng ở ô B1"),
    "a number that is not one": ('<row r="1"><c r="A1"><v>12abc</v></c></row>', "giá trị '12abc'"),
    "NaN": ('<row r="1"><c r="A1" s="1"><v>NaN</v></c></row>', "giá trị 'NaN'"),
    "a boolean that is not one": ('<row r="1"><c r="C1" t="b"><v>yes</v></c></row>', "bị hỏng ở ô C1"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_sheet_is_refused_with_a_message_naming_the_cell(case):
    sheet_xml, message = HOSTILE[case]
    start = time.perf_counter()
    with pytest.raises(SpreadsheetError) as refused:
        read_table(_package(sheet_xml, styled=True))
    assert time.perf_counter() - start < TIME_LIMIT
    assert message in refused.value.message
    assert refused.value.field == "file"


def test_a_row_counted_on_past_1048576_is_refused():
    data = _package('<row r="1048576"><c><v>1</v></c></row><row><c><v>2</v></c></row>')
    with pytest.raises(SpreadsheetError) as refused:
        rows(data)
    assert "ô 'A1048577' nằm ngoài giới hạn" in refused.value.message


@pytest.mark.parametrize("serial", ["-1", "-0.5", "2958466", "1E+308", "1E999"])
def test_a_date_cell_outside_1900_to_9999_is_refused_naming_the_cell(serial):
    data = _package(
        f'<row r="1"><c r="A1" s="1"><v>45000</v></c><c r="B1" s="1"><v>{serial}</v></c></row>', styled=True
    )
    with pytest.raises(SpreadsheetError) as refused:
        read_table(data)
    assert refused.value.message.startswith("Ô B1 có định dạng ngày nhưng giá trị ")
    assert "không phải ngày Excel hiển thị được" in refused.value.message


def test_a_doctype_that_reaches_the_parser_is_refused_there_too():
    parts = _parts()
    root = parts["xl/workbook.xml"][parts["xl/workbook.xml"].index(b"<workbook") :]
    parts["xl/workbook.xml"] = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + root
    with zipfile.ZipFile(io.BytesIO(_zip(parts))) as archive:  # not through check_archive, which refuses it first
        with pytest.raises(xlsx_book.WorkbookUnreadable) as refused:
            xlsx_book.read_book(archive)
    assert refused.value.template == xlsx_guard.DOCTYPE


def test_a_sheet_whose_relationship_is_missing_is_a_broken_file_and_lists_no_sheets():
    book = openpyxl.Workbook()
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/_rels/workbook.xml.rels"] = re.sub(
        rb"<Relationship [^>]*worksheet\"?[^>]*/>", b"", parts["xl/_rels/workbook.xml.rels"]
    )
    data = _zip(parts)
    assert sheet_names(data) == []
    with pytest.raises(SpreadsheetError) as refused:
        read_table(data)
    assert refused.value.message == xlsx_book.BROKEN


def test_built_in_date_formats_are_the_ones_excel_shows_as_dates():
    """The rule is openpyxl's own (``is_date_format``); this pins which built-in formats it marks."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    assert sorted(i for i, code in BUILTIN_FORMATS.items() if is_date_format(code)) == [
        *range(14, 23),
        45,
        46,
        47,
    ]
