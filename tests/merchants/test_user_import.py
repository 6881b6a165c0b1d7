"""Users from a spreadsheet: rows checked by the Users page's own rules, stored only when all pass, a link for each
new user, never a password column, and a re-import that adds nothing."""

from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from factories import login, make_market, make_user
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, select

from merchants.errors import DomainError
from merchants.identity import search_key
from merchants.models import AuditLog, Commune, PasswordLink, Province, User
from merchants.scope import SYSTEM, viewer_for
from merchants.services import password_links, user_import, users
from merchants.spreadsheet import SpreadsheetError

HEADER = ("Tên đăng nhập", "Họ tên", "Vai trò", "Tỉnh", "Xã/phường", "Chợ")
GOOD = [
    ("canbo.vandon", "Phạm Thu Trang", "Cán bộ xã/phường", "", "06994", ""),
    ("nganhang.qn", "Đỗ Minh Khoa", "can bo ngan hang", "22", "", ""),
    ("bql.cairong", "Ban quản lý chợ Cái Rồng", "market_manager", "", "", "CAIRONG, HONGGAI"),
]
LINK = re.compile(r"/set-password/([A-Za-z0-9_-]{20,})")


def _area(session: Session, province: tuple[str, str], commune: tuple[str, str]) -> None:
    p = session.exec(select(Province).where(Province.code == province[0])).first()
    if p is None:
        p = Province(code=province[0], name=province[1], search_text=search_key(province[1], province[0]))
        session.add(p)
        session.flush()
    session.add(Commune(code=commune[0], name=commune[1], province_id=p.id, search_text=search_key(*commune[::-1])))
    session.commit()


@pytest.fixture
def areas(session: Session) -> None:
    _area(session, ("22", "Quảng Ninh"), ("06994", "Đặc khu Vân Đồn"))
    _area(session, ("22", "Quảng Ninh"), ("06985", "Phường Hồng Gai"))
    _area(session, ("01", "Hà Nội"), ("00004", "Phường Ba Đình"))
    make_market(session, code="CAIRONG", commune_code="06994", province_code="22")
    make_market(session, code="HONGGAI", commune_code="06985", province_code="22")
    make_market(session, code="DONGXUAN", commune_code="00004", province_code="01")


def csv_bytes(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> bytes:
    lines = [",".join(f'"{c}"' for c in header)] + [",".join(f'"{c}"' for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def xlsx_bytes(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> bytes:
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(session: Session, data: bytes, actor=SYSTEM, **kw):  # noqa: ANN001, ANN003, ANN201
    return user_import.import_users(session, actor, data=data, filename="nguoi-dung.csv", **kw)


def count(session: Session, model) -> int:  # noqa: ANN001
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_a_valid_list_creates_every_user_with_their_areas_and_a_link_each(session, areas):
    result = run(session, csv_bytes(HEADER, GOOD))
    assert result.stored and not result.problems and len(result.links) == 3
    assert [link.username for link in result.links] == ["canbo.vandon", "nganhang.qn", "bql.cairong"]
    rows = {r.username: r for r in users.list_users(session, SYSTEM)}
    assert rows["canbo.vandon"].role == "commune_officer" and rows["canbo.vandon"].scope.communes == ("06994",)
    assert rows["nganhang.qn"].role == "bank_officer" and rows["nganhang.qn"].scope.provinces == ("22",)
    assert rows["bql.cairong"].scope.markets == ("CAIRONG", "HONGGAI")
    assert not any(r.has_password for r in rows.values())
    for link in result.links:
        assert password_links.check_link(session, link.token).username == link.username
    entry = session.exec(select(AuditLog).where(AuditLog.action == "users.import")).one()
    assert json.loads(entry.detail) == {
        "created": 3,
        "filename": "nguoi-dung.csv",
        "refused": 0,
        "rows": 3,
        "skipped": 0,
    }
    assert count(session, PasswordLink) == 3
    assert len(session.exec(select(AuditLog).where(AuditLog.action == "user.create")).all()) == 3


def test_reimporting_the_same_list_adds_nothing(session, areas):
    data = xlsx_bytes(HEADER, GOOD)
    run(session, data)
    before = (count(session, User), count(session, PasswordLink), count(session, AuditLog))
    again = run(session, data)
    assert not again.stored and not again.problems and again.links == ()
    assert [s.username for s in again.skipped] == ["canbo.vandon", "nganhang.qn", "bql.cairong"]
    assert [s.row for s in again.skipped] == [2, 3, 4]
    assert (count(session, User), count(session, PasswordLink), count(session, AuditLog)) == before


def test_an_existing_user_with_other_role_or_areas_is_reported_not_changed(session, areas):
    make_user(session, "print_staff", communes=["06994"], username="canbo.vandon")
    result = run(session, csv_bytes(HEADER, GOOD))
    assert not result.stored and count(session, PasswordLink) == 0
    assert [(p.row, p.column) for p in result.problems] == [(2, "Tên đăng nhập")]
    assert "vai trò hoặc địa bàn khác" in result.problems[0].problem
    session.expire_all()
    assert session.exec(select(User.role).where(User.username == "canbo.vandon")).one() == "print_staff"


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_stored(session, areas):
    rows = [
        GOOD[0],
        ("Trần Văn Bình", "Trần Văn Bình", "Cán bộ xã/phường", "", "06994", ""),
        ("in.an", "Bùi Văn In", "thủ kho", "", "", "CAIRONG"),
        ("moi.1", "Người Mới", "commune_officer", "", "99999, 06994", "KHONGCO"),
        ("moi.2", "Người Mới", "bank_officer", "", "", ""),
        ("CANBO.VANDON", "Trùng", "commune_officer", "", "06994", ""),
    ]
    result = run(session, csv_bytes(HEADER, rows))
    assert not result.stored and result.links == ()
    assert [(p.row, p.column) for p in result.problems] == [
        (3, "Tên đăng nhập"),
        (4, "Vai trò"),
        (5, "Xã/phường"),
        (5, "Chợ"),
        (6, "Tỉnh / Xã/phường / Chợ"),
        (7, "Tên đăng nhập"),
    ]
    messages = [p.problem for p in result.problems]
    assert "chữ không dấu" in messages[0] and "thủ kho" in messages[1] and "99999" in messages[2]
    assert "KHONGCO" in messages[3] and "ít nhất một tỉnh" in messages[4] and "dòng 2" in messages[5]
    assert result.refused_rows == 5 and len(result.planned) == 1
    assert count(session, User) == 0 and count(session, AuditLog) == 0


@pytest.mark.parametrize("header", ["Mật khẩu", "password", "Pass", "MK ban đầu", "Mật mã"])
def test_a_list_with_a_password_column_is_refused_as_a_whole(session, areas, header):
    with pytest.raises(SpreadsheetError) as refused:
        run(session, csv_bytes((*HEADER, header), [(*GOOD[0], "bimat123")]))
    assert header in refused.value.message and "mật khẩu" in refused.value.message
    assert count(session, User) == 0


def test_a_password_column_is_named_first_even_when_a_required_column_is_missing(session, areas):
    with pytest.raises(SpreadsheetError, match="Mật khẩu"):
        run(session, csv_bytes(("username", "Mật khẩu"), [("a.b", "bimat123")]))


def test_a_dry_run_reports_what_it_would_create_and_stores_nothing(session, areas):
    result = run(session, csv_bytes(HEADER, GOOD), dry_run=True)
    assert result.dry_run and not result.stored and len(result.planned) == 3 and result.links == ()
    assert count(session, User) == count(session, PasswordLink) == count(session, AuditLog) == 0


def test_english_headers_role_codes_and_numbers_that_lost_their_zeros_are_understood(session, areas):
    header = ("username", "name", "role", "province", "commune", "market")
    result = run(
        session,
        xlsx_bytes(
            header, [("qt.qn", "QT", "Quan tri", 22, None, None), ("cb.vd", "CB", "COMMUNE_OFFICER", None, 6994, None)]
        ),
    )
    assert result.stored, result.problems
    rows = {r.username: r for r in users.list_users(session, SYSTEM)}
    assert rows["qt.qn"].role == "admin" and rows["qt.qn"].scope.provinces == ("22",)
    assert rows["cb.vd"].scope.communes == ("06994",)


def test_a_province_admin_imports_only_inside_its_province(session, areas):
    qn = viewer_for(session, make_user(session, "admin", provinces=["22"], username="qt.qn"))
    result = run(
        session,
        csv_bytes(
            HEADER,
            [
                GOOD[0],
                ("cb.hn", "CB", "commune_officer", "", "00004", ""),
                ("qt.toanquoc", "QT", "Quản trị", "", "", ""),
            ],
        ),
        actor=qn,
    )
    assert not result.stored
    assert [(p.row, p.column) for p in result.problems] == [(3, "Xã/phường"), (4, "Vai trò")]
    assert "nằm ngoài" in result.problems[0].problem and "toàn chương trình" in result.problems[1].problem


def test_a_file_that_is_not_a_user_list_is_refused_saying_what_is_missing(session, areas):
    with pytest.raises(DomainError, match="Vai trò"):
        run(session, csv_bytes(("Tên đăng nhập", "Họ tên"), [("a.b", "A B")]))


# --- the page -----------------------------------------------------------------------------------------------------


def test_the_upload_page_creates_users_and_lists_each_link_with_its_qr(client, session, areas):
    login(client, make_user(session, "admin", username="admin"))
    page = client.get("/admin/users/import").get_data(as_text=True)
    assert "Tên đăng nhập" in page and 'type="file"' in page
    resp = client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(xlsx_bytes(HEADER, GOOD)), "ds.xlsx")},
        content_type="multipart/form-data",
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    assert len(set(LINK.findall(page))) == 3 and page.count("data:image/png;base64,") == 3
    assert "Phạm Thu Trang" in page
    again = client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(xlsx_bytes(HEADER, GOOD)), "ds.xlsx")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 200 and not LINK.search(again.get_data(as_text=True))
    assert count(session, User) == 4


def test_the_upload_page_shows_a_refused_file_under_the_file_field(client, session, areas):
    login(client, make_user(session, "admin", username="admin"))
    data = csv_bytes((*HEADER, "Mật khẩu"), [(*GOOD[0], "x")])
    resp = client.post(
        "/admin/users/import", data={"file": (io.BytesIO(data), "ds.csv")}, content_type="multipart/form-data"
    )
    assert resp.status_code == 422
    assert "Mật khẩu" in re.search(r'id="file-error">(.*?)</div>', resp.get_data(as_text=True), re.S).group(1)
    dry = client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(csv_bytes(HEADER, GOOD)), "ds.csv"), "dry_run": "y"},
        content_type="multipart/form-data",
    )
    assert dry.status_code == 200 and "Chạy thử" in dry.get_data(as_text=True)
    assert count(session, User) == 1


def test_the_template_is_a_list_the_import_reads(client, session, areas):
    login(client, make_user(session, "admin", username="admin"))
    resp = client.get("/admin/users/import/mau-nguoi-dung.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    result = run(session, resp.data, dry_run=True)
    assert [p.new.username for p in result.planned] == ["canbo.vandon"] and not result.problems


# --- the command line ---------------------------------------------------------------------------------------------


def _cli(app: Flask, *args: str):  # noqa: ANN202
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def test_cli_import_prints_one_line_per_new_user_with_its_url_and_adds_nothing_the_second_time(
    app, session, areas, tmp_path
):
    path = tmp_path / "ds.xlsx"
    path.write_bytes(xlsx_bytes(HEADER, GOOD))
    result = _cli(app, "users", "import", str(path), "--base-url", "https://choqr.example.vn")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "https://choqr.example.vn/set-password/" in line]
    assert [line.split("\t")[0] for line in lines] == ["canbo.vandon", "nganhang.qn", "bql.cairong"]
    again = _cli(app, "users", "import", str(path))
    assert again.exit_code == 0 and "set-password" not in again.output and "đã có" in again.output
    assert count(session, User) == 3


def test_cli_import_dry_run_bad_rows_and_password_columns(app, session, areas, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_bytes(csv_bytes(HEADER, GOOD))
    dry = _cli(app, "users", "import", str(path), "--dry-run")
    assert dry.exit_code == 0 and "Chạy thử" in dry.output and count(session, User) == 0
    path.write_bytes(csv_bytes(HEADER, [("x", "X", "khong-co", "", "06994", "")]))
    bad = _cli(app, "users", "import", str(path))
    assert bad.exit_code == 1 and "Dòng 2 · Vai trò" in bad.output
    path.write_bytes(csv_bytes((*HEADER, "password"), [(*GOOD[0], "x")]))
    refused = _cli(app, "users", "import", str(path))
    assert refused.exit_code == 2 and "password" in refused.output
    assert count(session, User) == 0
