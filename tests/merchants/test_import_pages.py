"""The import pages: an officer uploads a list and reads the per-row report; others cannot."""

import html
import io

from factories import login, make_household, make_market, make_user
from sqlmodel import func, select
from test_import import MIXED, xlsx

from merchants.models import Household
from merchants.spreadsheet import read_table


def _upload(client, market_id: int, data: bytes, name: str = "ds.xlsx", **flags: str):  # noqa: ANN001, ANN202
    return client.post(
        f"/markets/{market_id}/import",
        data={"file": (io.BytesIO(data), name), **flags},
        content_type="multipart/form-data",
    )


def test_officer_uploads_a_mixed_list_and_sees_what_went_in_and_each_refused_row(client, session):
    market = make_market(session, stalls=4)
    make_household(
        session,
        market,
        owner_name="Nguyễn Thị Đào",
        citizen_id="022185000001",
        bin="970436",
        account_number="0011000000001",
    )
    make_household(session, market, owner_name="Trần Văn Bình", account=False)
    login(client, make_user(session, markets=[market]))
    assert "Nhập từ Excel" in client.get(f"/markets/{market.id}").get_data(as_text=True)
    resp = _upload(client, market.id, xlsx(MIXED))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Đã thêm 3 hộ và tạo 2 sạp mới." in page
    assert '<td class="num"><b>9</b></td><td>STK</td>' in page
    assert "Đã đăng ký: Nguyễn Thị Đào, sạp A-001." in page
    assert session.exec(select(func.count()).select_from(Household)).one() == 5


def test_a_dry_run_upload_says_what_would_happen_and_stores_nothing(client, session):
    market = make_market(session, stalls=4)
    login(client, make_user(session, markets=[market]))
    page = _upload(client, market.id, xlsx(MIXED[:1]), dry_run="y").get_data(as_text=True)
    assert "Chạy thử: chưa lưu gì. Nếu nhập thật sẽ thêm 1 hộ và tạo 0 sạp mới." in page
    assert session.exec(select(func.count()).select_from(Household)).one() == 0


def test_a_file_that_is_not_a_spreadsheet_is_refused_under_the_file_field(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    resp = _upload(client, market.id, b"%PDF-1.7\n\x00\x01\x02 binary", name="hop-dong.pdf")
    assert resp.status_code == 422
    assert "Tệp không phải bảng tính XLSX hoặc CSV" in resp.get_data(as_text=True)
    assert session.exec(select(func.count()).select_from(Household)).one() == 0


def test_an_english_speaking_officer_reads_why_a_file_or_a_row_was_refused_in_english(client, session):
    market = make_market(session, stalls=4)
    login(client, make_user(session, markets=[market]))
    client.post("/language/en")
    no_columns = "Ghi chú,Điện thoại\nx,0912345678\n".encode()
    page = html.unescape(_upload(client, market.id, no_columns, name="ds.csv").get_data(as_text=True))
    assert "Row 1 (the header) lacks the column(s) 'Họ và tên' and 'Số sạp'. Row 1 has: 'Ghi chú'." in page
    two_phones = "Họ và tên,Số sạp,SĐT,Điện thoại\nĐào,A-9,0912345678,\n".encode()
    page = html.unescape(_upload(client, market.id, two_phones, name="ds.csv").get_data(as_text=True))
    assert "The columns 'SĐT' and 'Điện thoại' are both the Phone number column; keep only one of them." in page
    rows = "Họ và tên,Số sạp,Số CCCD\nĐào Thị Mai,A-9,022185000001\nLê Văn Tám,A-10,022185000001\n".encode()
    page = html.unescape(_upload(client, market.id, rows, name="ds.csv").get_data(as_text=True))
    assert "The citizen ID (CCCD) number is the same as in row 2 of the file." in page


def test_the_template_file_downloads_and_imports_cleanly(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    resp = client.get(f"/markets/{market.id}/import/mau-danh-sach.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert read_table(resp.data).columns["stalls"] == "Số sạp"


def test_import_is_404_outside_the_officers_area_and_403_for_a_role_that_cannot_register(client, session):
    own, other = make_market(session), make_market(session)
    login(client, make_user(session, markets=[own]))
    assert client.get(f"/markets/{other.id}/import").status_code == 404
    assert _upload(client, other.id, xlsx(MIXED[:1])).status_code == 404
    client.post("/logout")
    login(client, make_user(session, "market_manager", markets=[own]))
    assert client.get(f"/markets/{own.id}/import").status_code == 403
    assert session.exec(select(func.count()).select_from(Household)).one() == 0
