"""Hostile spreadsheet uploads (issue 10): zip bombs and DOCTYPEs are refused before openpyxl reads a byte.

Every file is built here with zipfile. A refusal must be a SpreadsheetError saying what to do, come within two
seconds, and leave openpyxl untouched; the same page answers 422, never a 500.
"""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest
from factories import login, make_market, make_user

from merchants import spreadsheet, xlsx_guard
from merchants.spreadsheet import SpreadsheetError, read_table, template_xlsx

TIME_LIMIT = 2.0


def _workbook_parts() -> dict[str, bytes]:
    """The parts of a real one-sheet workbook, to tamper with one at a time."""
    with zipfile.ZipFile(io.BytesIO(template_xlsx())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(parts: dict[str, bytes], *, big: dict[str, tuple[bytes, int]] | None = None) -> bytes:
    """A package of ``parts``, plus ``big`` parts written as ``chunk`` repeated ``n`` times (streamed: a bomb
    of hundreds of megabytes costs a few hundred kilobytes and no memory to build)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        for name, (chunk, n) in (big or {}).items():
            with archive.open(name, "w", force_zip64=True) as part:
                for _ in range(n):
                    part.write(chunk)
    return buf.getvalue()


def _refused(data: bytes, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("openpyxl opened a refused file"))
    start = time.perf_counter()
    with pytest.raises(SpreadsheetError) as refused:
        read_table(data)
    assert time.perf_counter() - start < TIME_LIMIT
    return refused.value.message


def test_shared_strings_that_inflate_to_hundreds_of_megabytes_are_refused(monkeypatch):
    row = b"<si><t>Nguyen Thi Dao</t></si>" * 32768  # 1 MiB of shared strings, repeated 300 times
    bomb = _zip(_workbook_parts(), big={"xl/sharedStrings.xml": (row, 300)})
    assert len(bomb) < 2 * 1024 * 1024  # about a megabyte on the wire, 300 MB inflated
    assert "quá lớn" in _refused(bomb, monkeypatch)


def test_a_part_that_inflates_hundreds_of_times_is_refused_even_under_the_size_limit(monkeypatch):
    parts = _workbook_parts()
    bomb = _zip(parts, big={"xl/media/padding.bin": (b"\0" * 1024 * 1024, 8)})  # 8 MB of zeros: ratio ~1000
    assert "quá lớn" in _refused(bomb, monkeypatch)


def test_thousands_of_parts_are_refused(monkeypatch):
    parts = _workbook_parts()
    parts.update({f"customXml/item{n}.xml": b"<a/>" for n in range(xlsx_guard.MAX_ENTRIES + 1)})
    assert "quá nhiều phần" in _refused(_zip(parts), monkeypatch)


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml"])
@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        b'<!doctype x SYSTEM "http://evil.example/x.dtd">',
    ],
)
def test_a_doctype_in_any_part_is_refused(monkeypatch, part, doctype):
    parts = _workbook_parts()
    parts[part] = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + doctype + parts[part]
    assert "DOCTYPE" in _refused(_zip(parts), monkeypatch)


def test_a_doctype_hidden_in_utf16_is_refused_too(monkeypatch):
    parts = _workbook_parts()
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + parts[
        "xl/workbook.xml"
    ].decode("utf-8")
    parts["xl/workbook.xml"] = text.encode("utf-16")
    assert "DOCTYPE" in _refused(_zip(parts), monkeypatch)


def test_a_real_workbook_still_reads():
    table = read_table(template_xlsx())
    assert table.rows and table.rows[0].values["owner_name"] == "Nguyễn Thị Đào"


def test_the_import_page_answers_a_bomb_with_its_message_not_a_500(client, session, monkeypatch):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    bomb = _zip(_workbook_parts(), big={"xl/sharedStrings2.xml": (b"<si><t>x</t></si>" * 65536, 64)})
    resp = client.post(
        f"/markets/{market.id}/import",
        data={"file": (io.BytesIO(bomb), "danh-sach.xlsx"), "dry_run": "y"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422, resp.status_code
    assert "quá lớn" in resp.get_data(as_text=True)


def test_the_guard_runs_before_sheet_names_too(monkeypatch):
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("openpyxl opened a refused file"))
    parts = _workbook_parts()
    parts["xl/workbook.xml"] = b"<!DOCTYPE x>" + parts["xl/workbook.xml"]
    assert spreadsheet.sheet_names(_zip(parts)) == []
