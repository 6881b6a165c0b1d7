"""Reading household lists: tolerant headers, and whole-file refusals that name the problem and store nothing."""

import codecs
import io
import random
import unicodedata
import zipfile

import openpyxl
import pytest
from factories import make_market
from sqlmodel import func, select

from merchants.models import AuditLog, Household, Stall
from merchants.scope import SYSTEM
from merchants.services.importing import import_households
from merchants.spreadsheet import SpreadsheetError, field_for_header, read_table, resolve_bank, template_xlsx


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Họ và tên", "owner_name"),
        ("HỌ TÊN CHỦ HỘ", "owner_name"),
        ("Tên chủ hộ", "owner_name"),
        ("ho va ten", "owner_name"),
        ("Số CCCD", "citizen_id"),
        ("CCCD/CMND", "citizen_id"),
        ("Số điện thoại", "phone"),
        ("SĐT", "phone"),
        ("sdt", "phone"),
        ("Điện thoại", "phone"),
        ("Số điện thoại (Zalo)", "phone"),
        ("Số sạp", "stalls"),
        ("Mã sạp", "stalls"),
        ("Ki-ốt", "stalls"),
        ("KIOT", "stalls"),
        ("Ngân hàng", "bank"),
        ("Số tài khoản", "account_number"),
        ("STK", "account_number"),
        ("Tên chủ tài khoản", "holder_name"),
        ("Mặt hàng", "goods"),
        ("Ngành hàng", "goods"),
        ("Khu", "zone_area"),
        ("Dãy", "zone_row"),
        ("  Số   sạp * ", "stalls"),
        ("STT", None),
        ("Ghi chú", None),
    ],
)
def test_headers_are_matched_whatever_their_case_accents_or_punctuation(header, field):
    assert field_for_header(header) == field


@pytest.mark.parametrize(
    ("text", "bin"),
    [
        ("Vietcombank", "970436"),
        ("VCB", "970436"),
        ("970436", "970436"),
        ("ngoại thương", "970436"),
        ("MB Bank", "970422"),
        ("mbbank", "970422"),
        ("Agribank", "970405"),
        ("VietinBank", "970415"),
    ],
)
def test_a_bank_cell_may_name_the_bank_by_short_name_code_bin_or_full_name(text, bin):
    assert resolve_bank(text).bin == bin


def _book(rows, merge: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if merge:
        book.active.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


HEAD = ["Họ và tên", "Số sạp", "Khu"]


def cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: â/ê/ô/ơ/ư/ă precomposed, tone marks as combining bytes."""
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            if marks and marks[0] in "\u0302\u0306\u031b":
                base, marks = unicodedata.normalize("NFC", base + marks[0]), marks[1:]
            out.append((base + "".join(marks)).encode("cp1258"))
    return b"".join(out)


CP1258 = cp1258("Họ và tên,Số sạp\nNguyễn Thị Đào,A-009\n")


def test_csv_in_utf8_with_semicolons_utf16_and_the_template_are_read():
    semi = read_table(_csv("\ufeffHọ và tên;Số sạp;SĐT\nNguyễn Thị Đào;A-009;0912345678\n"))
    utf16 = read_table(codecs.BOM_UTF16_LE + "Họ và tên\tSố sạp\r\nNguyễn Thị Đào\tA-009\r\n".encode("utf-16-le"))
    assert semi.rows[0].values == {"owner_name": "Nguyễn Thị Đào", "stalls": "A-009", "phone": "0912345678"}
    assert utf16.rows[0].values == {"owner_name": "Nguyễn Thị Đào", "stalls": "A-009"}
    assert read_table(template_xlsx()).rows[0].values["account_number"] == "0011001932418"


def _zip_of_text() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "không phải bảng tính")
    return out.getvalue()


MALFORMED = {
    "empty xlsx": (_book([]), "Tệp không có dữ liệu: trang tính đầu tiên trống."),
    "header only": (_book([HEAD]), "Tệp chỉ có dòng tiêu đề, không có hộ nào để nhập."),
    "binary junk": (
        random.Random(6).randbytes(3000),
        "Tệp không phải bảng tính XLSX hoặc CSV (có vẻ là tệp nhị phân: ảnh, PDF, tệp nén…).",
    ),
    "empty file": (b"", "Tệp trống (0 byte)."),
    "merged-cell header": (
        _book([["DANH SÁCH HỘ KINH DOANH"], HEAD, ["Nguyễn Thị Đào", "A-009", "Khu A"]], merge="A1:C1"),
        "Dòng tiêu đề có ô gộp (A1:C1). Hãy bỏ gộp ô (Unmerge Cells), để tiêu đề cột ở dòng 1 "
        "và mỗi hộ trên một dòng, điền đủ giá trị từng ô.",
    ),
    "merged data cells": (
        _book([HEAD, ["Lê Thị Hoa", "A-009", "Khu A"], ["Lê Văn Ba", "A-010"]], merge="C2:C3"),
        "Bảng tính có ô gộp (C2:C3). Hãy bỏ gộp ô (Unmerge Cells), để tiêu đề cột ở dòng 1 "
        "và mỗi hộ trên một dòng, điền đủ giá trị từng ô.",
    ),
    "title rows above the header": (
        _book([["Danh sách"], [], HEAD, ["Nguyễn Thị Đào", "A-009"]]),
        "Tiêu đề cột phải nằm ở dòng 1 (tìm thấy ở dòng 3); hãy xoá các dòng phía trên tiêu đề.",
    ),
    "cp1258 csv": (
        CP1258,
        "Tệp CSV không dùng bảng mã UTF-8 (ký tự lạ ở dòng 1); có thể tệp đang ở mã "
        "Windows-1258, TCVN3 hoặc Latin-1 nên chữ có dấu sẽ bị sai. Hãy mở bằng Excel và lưu "
        "lại dạng 'CSV UTF-8 (Comma delimited)' hoặc .xlsx.",
    ),
    "latin-1 csv": (
        _csv("Ho va ten,So sap,Ghi chú\nDao,A-009,café\n", "latin-1"),
        "Tệp CSV không dùng bảng mã UTF-8 (ký tự lạ ở dòng 1); có thể tệp đang ở mã Windows-1258, TCVN3 "
        "hoặc Latin-1 nên chữ có dấu sẽ bị sai. Hãy mở bằng Excel và lưu lại dạng "
        "'CSV UTF-8 (Comma delimited)' hoặc .xlsx.",
    ),
    "zip that is not a workbook": (
        _zip_of_text(),
        "Tệp .xlsx bị hỏng hoặc không phải bảng tính Excel. Hãy mở bằng Excel, kiểm tra rồi lưu lại dạng .xlsx.",
    ),
    "truncated xlsx": (
        _book([HEAD, ["Nguyễn Thị Đào", "A-009"]])[:900],
        "Tệp .xlsx bị hỏng hoặc không phải bảng tính Excel. Hãy mở bằng Excel, kiểm tra rồi lưu lại dạng .xlsx.",
    ),
    "old xls": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
        "Tệp Excel 97–2003 (.xls) không được hỗ trợ; hãy mở bằng Excel và lưu lại dạng .xlsx.",
    ),
    "no stall column": (
        _csv("Họ và tên,Điện thoại,Ghi chú\nNguyễn Thị Đào,0912345678,\n"),
        "Không tìm thấy cột 'Số sạp' ở dòng 1 (tiêu đề). Dòng 1 có: 'Ghi chú'.",
    ),
    "account without bank": (
        _csv("Họ và tên,Số sạp,STK\nNguyễn Thị Đào,A-009,0011001932418\n"),
        "Có cột 'STK' nhưng thiếu cột 'Ngân hàng'; cần cả hai cột.",
    ),
    "two phone columns": (
        _csv("Họ và tên,Số sạp,SĐT,Điện thoại\nĐào,A-9,0912345678,\n"),
        "Hai cột 'SĐT' và 'Điện thoại' cùng là cột Số điện thoại; hãy giữ lại một cột.",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_gets_one_clear_message_and_stores_nothing(session, case):
    data, message = MALFORMED[case]
    market = make_market(session, stalls=2)

    def count(model) -> int:  # noqa: ANN001
        return session.exec(select(func.count()).select_from(model)).one()

    before = [count(m) for m in (Household, Stall, AuditLog)]
    with pytest.raises(SpreadsheetError) as caught:
        import_households(session, SYSTEM, market_id=market.id, data=data, filename=f"{case}.xlsx")
    assert caught.value.message == message
    assert caught.value.field == "file"
    assert [count(m) for m in (Household, Stall, AuditLog)] == before
