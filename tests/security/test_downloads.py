"""Downloads (issue 10): a file name from data cannot break the header or cause a 500 ('"' in a stall code,
'Đ-01'), every download is kept by no cache, and batch PDFs are readable by the app's own user only."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import unquote

import pytest
from factories import login, make_household, make_market, make_user
from sqlmodel import select

from merchants import stallcodes
from merchants.errors import InvalidField
from merchants.models import PrintBatch, Stall
from merchants.views.downloads import ascii_name, content_disposition

SAFE_ASCII = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _filenames(header: str) -> tuple[str, str | None]:
    """(filename, filename* decoded) of an 'attachment; …' header, read the way RFC 6266 defines them."""
    parts = [p.strip() for p in header.split(";")]
    assert parts[0] == "attachment", header
    values = dict(p.split("=", 1) for p in parts[1:])
    plain = values["filename"].strip('"')
    star = values.get("filename*")
    if star is not None:
        assert star.startswith("UTF-8''"), star
        star = unquote(star[len("UTF-8''") :], encoding="utf-8", errors="strict")
    return plain, star


def test_a_quote_in_a_stall_code_is_refused_where_codes_are_made():
    with pytest.raises(InvalidField) as refused:
        stallcodes.clean_stall_code('A"1')
    assert refused.value.field == "stall_code" and "'\"'" in refused.value.message


@pytest.mark.parametrize(
    "name",
    [
        'bang-qr-CHO-A"1.pdf',
        "bang qr;\r\nSet-Cookie: x=1.pdf",
        "../../etc/passwd",
        "bang-qr-CHO-T1/12.pdf",
        "Đ-01 Chợ Cái Rồng.pdf",
        "\u202eevil.pdf",
        "",
    ],
)
def test_any_name_makes_one_well_formed_header(name):
    header = content_disposition(name)
    header.encode("latin-1")  # a header that is not Latin-1 cannot be sent at all
    assert "\r" not in header and "\n" not in header and '"' not in header
    plain, star = _filenames(header)
    assert plain and set(plain) <= SAFE_ASCII and not plain.startswith(".")
    assert star is None or ("/" not in star and '"' not in star and "\u202e" not in star)


def test_a_placard_for_stall_D01_downloads_with_a_folded_and_a_utf8_name(client, session):
    market = make_market(session, stalls=0)
    session.add(Stall(market_id=market.id, code="Đ-01"))
    session.commit()
    h = make_household(session, market)
    login(client, make_user(session, markets=[market]))
    resp = client.post(f"/households/{h.id}/placard", data={"layout": "a6"})
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    plain, star = _filenames(resp.headers["Content-Disposition"])
    assert plain == f"bang-qr-{market.code}-D-01.pdf" and star == f"bang-qr-{market.code}-Đ-01.pdf"
    assert resp.headers["Cache-Control"] == "no-store"


def test_every_download_is_an_attachment_no_cache_keeps(client, session):
    market = make_market(session, name="Chợ Đông Hà")
    make_household(session, market)
    login(client, make_user(session, "admin", username="quantri"))
    for path in (
        f"/reports/markets/{market.id}/export.csv",
        f"/reports/markets/{market.id}/export.xlsx",
        f"/reports/markets/{market.id}/export.pdf",
        f"/reports/markets/{market.id}/missing/export.csv",
        f"/markets/{market.id}/import/mau-danh-sach.xlsx",
        "/admin/users/import/mau-nguoi-dung.xlsx",
    ):
        resp = client.get(path)
        assert resp.status_code == 200, path
        plain, _ = _filenames(resp.headers["Content-Disposition"])
        assert set(plain) <= SAFE_ASCII, path
        assert resp.headers["Cache-Control"] == "no-store", path


def test_a_batch_pdf_is_private_on_disk_and_not_cached_when_served(client, session, app):
    market = make_market(session, stalls=2)
    for _ in range(2):
        make_household(session, market)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    resp = client.post(
        f"/markets/{market.id}/placards", data={"layout": "a4-4up", "selection": "all", "zone": "", "stall_codes": ""}
    )
    assert resp.status_code == 302
    batch = session.exec(select(PrintBatch)).one()
    path = Path(app.config["BATCH_DIR"]) / f"{batch.id}.pdf"
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, oct(path.stat().st_mode)  # no group, no others
    pdf = client.get(f"/markets/{market.id}/placards/batches/{batch.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store" and "public" not in pdf.headers["Cache-Control"]
    assert "ETag" not in pdf.headers
    assert _filenames(pdf.headers["Content-Disposition"])[0] == f"bang-qr-{market.code}-lo{batch.id}-a4-4up.pdf"


def test_ascii_names_fold_vietnamese_letters():
    assert ascii_name("Chợ Đông Hà – báo cáo.csv") == "Cho-Dong-Ha-bao-cao.csv"
