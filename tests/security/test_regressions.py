"""Attacks that already fail, kept failing (issue 10): XSS, formula injection, CSRF, scope, weak passwords and
internal object text in messages. Broader versions live in tests/merchants (named in each docstring)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from factories import CHEAP_HASHING, PASSWORD, free_stall, login, make_household, make_market, make_user
from flask import Flask
from sqlmodel import select

import printouts
from app import create_app
from merchants.models import Household, IssuedQR, PrintBatch
from merchants.services import issuing

SCRIPT = "<script>alert(1)</script>"


def test_an_owner_name_with_a_script_is_escaped_on_every_page(client, session):
    """Also tests/merchants/test_robustness.py (junk queries)."""
    market = make_market(session)
    h = make_household(
        session, market, owner_name=f"Bà {SCRIPT}", goods="<img src=x onerror=alert(1)>", holder_name="BA NGUYEN"
    )
    login(client, make_user(session, "admin", username="quantri"))
    payload = session.exec(select(IssuedQR.payload).where(IssuedQR.household_id == h.id)).one()
    pages = [
        client.get(p)
        for p in (
            f"/markets/{market.id}",
            f"/markets/{market.id}?q=ba",
            f"/households/{h.id}",
            f"/households/{h.id}/history",
            f"/households/{h.id}/edit",
            f"/reports/markets/{market.id}/missing",
            f"/markets/{market.id}/verify",
        )
    ]
    pages.append(client.post(f"/markets/{market.id}/stalls/A-001/verify", data={"payload": payload}))
    for resp in pages:
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200, resp.request.path
        assert SCRIPT not in text and "<img src=x" not in text, resp.request.path
    assert "&lt;script&gt;" in pages[2].get_data(as_text=True)
    hits = client.get("/households/search?q=ba").get_json()  # JSON, read by script as text, never as HTML
    assert hits[0]["owner_name"] == f"Bà {SCRIPT}"
    assert client.get("/households/search?q=ba").mimetype == "application/json"


def test_an_owner_name_that_is_a_formula_exports_as_text(client, session):
    """Also tests/merchants/test_reports.py::test_csv_reads_back_with_vietnamese_intact_and_formulas_neutralised."""
    import openpyxl

    market = make_market(session)
    make_household(session, market, account=False, owner_name='=HYPERLINK("http://evil.example","Bấm")')
    login(client, make_user(session, "admin", username="quantri"))
    text = client.get(f"/reports/markets/{market.id}/missing/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/markets/{market.id}/missing/export.xlsx").data))
    cells = [c for row in book.active.iter_rows() for c in row if str(c.value or "").endswith('"Bấm")')]
    assert cells and all(c.data_type == "s" for c in cells)  # a string cell, never a formula


@pytest.fixture
def csrf_app(database_url: str, tmp_path) -> Iterator[Flask]:  # noqa: ANN001
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": database_url,
            "BATCH_DIR": str(tmp_path / "b"),
            **CHEAP_HASHING,
        }
    )
    yield app
    app.extensions["choqr.engine"].dispose()


def test_a_cross_site_post_without_the_csrf_token_changes_nothing(csrf_app):
    """Also tests/merchants/test_auth.py::test_a_post_without_csrf_token_is_refused_and_nothing_is_stored."""
    from merchants import db

    with db.session_scope(csrf_app.extensions["choqr.engine"]) as session:
        market = make_market(session)
        h = make_household(session, market, owner_name="Nguyễn Thị Đào")
        user = make_user(session, markets=[market])
        client = csrf_app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert (
            client.post(
                "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
            ).status_code
            == 302
        )
        resp = client.post(
            f"/households/{h.id}/edit",
            data={"owner_name": "Kẻ Giả Mạo", "version": "1"},
            headers={"Origin": "https://evil.example"},
        )
        assert resp.status_code == 400
        session.expire_all()
        assert session.get(Household, h.id).owner_name == "Nguyễn Thị Đào"


def test_another_communes_household_is_not_found_for_page_and_api(client, session):
    """Also tests/merchants/test_access.py (every role and route)."""
    mine, theirs = make_market(session), make_market(session, province_code="23")
    other = make_household(session, theirs)
    login(client, make_user(session, markets=[mine]))
    for path in (
        f"/households/{other.id}",
        f"/households/{other.id}/history",
        f"/households/{other.id}/qr.png",
        f"/markets/{theirs.id}",
        f"/reports/markets/{theirs.id}/missing/export.csv",
    ):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("weak", ["password123", "12345678", "matkhau123", "canbo.thu", "ngan"])
def test_a_weak_password_is_refused_when_changing_it(client, session, weak):
    """Also tests/merchants/test_account.py (the whole rule)."""
    user = make_user(session, markets=[make_market(session)], username="canbo.thu")
    login(client, user)
    resp = client.post("/account/password", data={"current_password": PASSWORD, "password": weak, "confirm": weak})
    assert resp.status_code == 422
    client.post("/logout")
    assert client.post("/login", data={"username": user.username, "password": weak}).status_code == 401


INTERNAL = ("<_io.", "object at 0x", "Traceback", "['")


def test_a_photo_that_is_not_an_image_gets_a_plain_message(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    for url, data in (
        (f"/markets/{market.id}/register", {"action": "prefill"}),
        (f"/markets/{market.id}/stalls/A-001/verify", {}),
    ):
        field = "qr-photo" if "register" in url else "photo"
        resp = client.post(
            url,
            data={**data, field: (io.BytesIO(b"%!PS-Adobe-3.0\n{ } loop\n"), "anh.jpg")},
            content_type="multipart/form-data",
        )
        text = resp.get_data(as_text=True)
        assert resp.status_code in (200, 422) and "Không đọc được ảnh" in text, url
        assert not any(marker in text for marker in INTERNAL), url


def test_a_qr_that_does_not_read_back_is_refused_without_internal_text(client, session, monkeypatch):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    monkeypatch.setattr(issuing, "decode_image", lambda _image: ["00020101021138570010A000000727…"])
    resp = client.post(
        f"/markets/{market.id}/register",
        data={
            "owner_name": "Nguyễn Thị Đào",
            "stall_ids": str(free_stall(session, market).id),
            "bin": "970436",
            "account_number": "0011001932418",
        },
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "không khớp nội dung" in text
    assert not any(marker in text for marker in INTERNAL) and "0011001932418…" not in text


def test_a_failed_batch_shows_no_internal_object_text(client, session, monkeypatch):
    market = make_market(session, stalls=1)
    make_household(session, market)
    login(client, make_user(session, "print_staff", provinces=["22"]))

    def broken(*_args, **_options):
        raise OSError(f"cannot identify image file {io.BytesIO()!r}")

    monkeypatch.setattr(printouts, "render_placards", broken)
    client.post(
        f"/markets/{market.id}/placards", data={"layout": "a4-4up", "selection": "all", "zone": "", "stall_codes": ""}
    )
    batch = session.exec(select(PrintBatch)).one()
    assert batch.status == "failed"
    assert not any(marker in batch.error for marker in INTERNAL), batch.error


def test_every_response_names_its_content_type_and_text_its_charset(client, session):
    """ASVS 4.1.1: a body without the right Content-Type (and charset for text) may be sniffed as something else."""
    market = make_market(session)
    h = make_household(session, market)
    login(client, make_user(session, "admin", username="quantri"))
    expected = {
        f"/markets/{market.id}": "text/html; charset=utf-8",
        f"/reports/markets/{market.id}/missing/export.csv": "text/csv; charset=utf-8",
        f"/households/{h.id}/qr.svg": "image/svg+xml; charset=utf-8",
        f"/households/{h.id}/qr.png": "image/png",
        "/households/search?q=dao": "application/json",
        "/api/v1/openapi.json": "application/json",
    }
    for path, content_type in expected.items():
        resp = client.get(path)
        assert resp.headers["Content-Type"] == content_type, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path


def test_source_control_and_instance_files_are_not_served(client):
    """ASVS 13.4.1: only /static and the app's routes answer; .git, the instance folder and code are never files."""
    for path in (
        "/.git/config",
        "/.git/HEAD",
        "/static/../.git/config",
        "/static/%2e%2e/.git/config",
        "/instance/secret_key",
        "/static/../instance/secret_key",
        "/app.py",
        "/constraints.txt",
    ):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert b"[core]" not in resp.data and b"ref:" not in resp.data, path


def test_no_cross_origin_read_is_allowed(client, session):
    """ASVS 3.4.2: no Access-Control-Allow-Origin at all, so no other site's script may read a response."""
    for path in ("/api/v1/openapi.json", "/login"):
        resp = client.get(path, headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in resp.headers, path


def test_password_fields_are_masked_and_let_password_managers_fill_them(client, session):
    """ASVS 6.2.6 and 6.2.7: type=password, an autocomplete hint, nothing that blocks paste."""
    login(client, make_user(session, markets=[make_market(session)]))
    page = client.get("/account/password").get_data(as_text=True)
    assert page.count('type="password"') == 3 and 'autocomplete="new-password"' in page
    assert "onpaste" not in page and 'autocomplete="off"' not in page


def test_the_common_password_list_covers_at_least_the_top_3000_that_meet_the_minimum_length():
    from merchants import passwords

    listed = passwords.common_passwords()
    assert sum(1 for p in listed if len(p) >= 8) >= 3000
    for weak in ("matkhau123", "anhyeuem2024", "vietcombank@123", "password123", "qwertyui"):
        assert weak in listed, weak
