"""Vietnamese first, English second: the catalog is complete and each user's choice follows them."""

import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from factories import PASSWORD, free_stall, login, make_household, make_market, make_user
from sqlmodel import select

from merchants.models import User

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "merchants" / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sd]|%%")


def _po():  # noqa: ANN202
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f)


def _source_msgids() -> set[str]:
    """What ``pybabel extract -F babel.cfg`` would collect from the code and templates right now."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {
        msg if isinstance(msg, str) else msg[0]
        for _file, _line, msg, _comments, _ctx in extract_from_dir(str(ROOT), method_map, options_map)
        if not str(_file).startswith((".venv", "tests"))
    }


def test_every_message_in_the_code_has_an_english_translation():
    translated = {m.id for m in _po() if m.id and m.string and not m.fuzzy}
    missing = sorted(_source_msgids() - translated)
    assert missing == [], (
        "untranslated msgids; run pybabel extract/update, translate, compile (see babel.cfg): " + repr(missing[:20])
    )


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = [
        (m.id, m.string)
        for m in _po()
        if m.id and m.string and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert wrong == []


def test_the_compiled_catalog_matches_the_po_file():
    with open(CATALOG / "messages.mo", "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == {m.id: m.string for m in _po() if m.id and m.string and not m.fuzzy}


def test_the_officer_pages_have_no_unwrapped_vietnamese():
    """Every Vietnamese word a user reads in these templates goes through ``_()``."""
    allowed = {"Chợ<b>QR</b>", "Tiếng Việt", "'hệ thống'"}
    folders = ["base.html", "macros.html", "error.html", "auth", "markets", "households"]
    found = []
    for name in folders:
        path = ROOT / "templates" / name
        for tpl in [path] if path.is_file() else sorted(path.glob("*.html")):
            text = re.sub(r"""_\((['"])(?:(?!\1).)*\1""", "", tpl.read_text())
            for word in allowed:
                text = text.replace(word, "")
            found += [f"{tpl.name}: {line.strip()}" for line in text.splitlines() if re.search("[À-ỹĐđ]", line)]
    assert found == []


def test_vietnamese_is_the_default(client, session):
    page = client.get("/login", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page and "Tên đăng nhập" in page
    login(client, make_user(session, markets=[make_market(session)]))
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Đăng xuất" in page and "Sign out" not in page


def test_a_user_switches_to_english_and_the_choice_follows_them_to_the_next_sign_in(client, session):
    market = make_market(session, name="Chợ Cái Rồng")
    make_household(session, market)
    user = make_user(session, markets=[market])
    login(client, user)
    resp = client.post("/language/en", data={"next": f"/markets/{market.id}"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/markets/{market.id}"
    session.expire_all()
    assert session.get(User, user.id).locale == "en"
    page = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert '<html lang="en">' in page
    for english in ("Sign out", "Register household", "QR issued", "1/1 households (100%)", "Tiếng Việt"):
        assert english in page, english
    for vietnamese in ("Đăng xuất", "Đăng ký hộ", "Đã cấp QR", "Trạng thái"):
        assert vietnamese not in page, vietnamese

    client.post("/logout")
    other_browser = client.application.test_client()
    login(other_browser, user)
    assert "Sign out" in other_browser.get(f"/markets/{market.id}").get_data(as_text=True)
    other_browser.post("/language/vi", data={"next": "/"})
    session.expire_all()
    assert session.get(User, user.id).locale == "vi"


def test_a_language_picked_on_the_sign_in_page_is_kept_after_signing_in(client, session):
    user = make_user(session, markets=[make_market(session)])
    client.post("/language/en", data={"next": "/login"})
    assert "Username" in client.get("/login").get_data(as_text=True)
    login(client, user)
    assert session.exec(select(User.locale).where(User.id == user.id)).one() == "en"


def test_an_unknown_language_changes_nothing(client, session):
    user = make_user(session, markets=[make_market(session)])
    login(client, user)
    client.post("/language/fr")
    assert session.exec(select(User.locale).where(User.id == user.id)).one() == "vi"


def _english(client, session):  # noqa: ANN001, ANN202
    market = make_market(session)
    user = make_user(session, markets=[market])
    login(client, user)
    client.post("/language/en")
    return market


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("phone", "0123 456", "The phone number '0123 456' is not a Vietnamese mobile number"),
        ("citizen_id", "12345", "The citizen ID (CCCD) number must have exactly 12 digits."),
        ("citizen_id", "999185001234", "there is no birth-registration province with code '999'."),
        ("citizen_id", "022585001234", "the century/sex digit '5' is not valid (0–3)."),
        ("citizen_id", "022399001234", "the birth year 2099 is in the future."),
        ("owner_name", "", "This field is required."),
        ("account_number", "12-34 ?", "The account number must be 1–19 digits or letters"),
    ],
)
def test_form_errors_are_shown_in_english_with_the_value_typed(client, session, field, typed, message):
    market = _english(client, session)
    data = {
        "owner_name": "Trần Văn Hùng",
        "stall_ids": str(free_stall(session, market).id),
        "bin": "970422",
        "account_number": "0123456789",
        field: typed,
    }
    page = client.post(f"/markets/{market.id}/register", data=data).get_data(as_text=True)
    assert message in html.unescape(page)


def test_domain_errors_flashes_and_error_pages_are_in_english(client, session):
    market = _english(client, session)
    existing = make_household(session, market, bin="970422", account_number="0123456789")
    data = {
        "owner_name": "Trần Văn Hùng",
        "stall_ids": str(free_stall(session, market).id),
        "bin": "970422",
        "account_number": "0123456789",
    }
    page = client.post(f"/markets/{market.id}/register", data=data).get_data(as_text=True)
    assert "This bank account is already linked to another household." in page
    assert "Open the existing record" in page

    resp = client.post(
        f"/markets/{market.id}/register", data={**data, "account_number": "5556667778"}, follow_redirects=True
    )
    assert "Household Trần Văn Hùng registered." in resp.get_data(as_text=True)

    resp = client.get("/households/99999")
    assert resp.status_code == 404 and "Household business not found." in resp.get_data(as_text=True)
    assert "Page not found." in client.get("/no-such-page").get_data(as_text=True)
    history = client.get(f"/households/{existing.id}/history").get_data(as_text=True)
    assert "Household registered" in history and "QR code issued" in history and "Change log" in history


def test_a_refused_role_reads_why_in_its_own_language(client, session):
    market = make_market(session)
    login(client, make_user(session, "market_manager", markets=[market]))
    resp = client.get(f"/markets/{market.id}/register")
    assert resp.status_code == 403 and "Vai trò của bạn không được phép" in resp.get_data(as_text=True)
    client.post("/language/en")
    resp = client.get(f"/markets/{market.id}/register")
    assert resp.status_code == 403 and "Your role is not allowed to do this." in resp.get_data(as_text=True)


def test_the_sign_in_reminder_is_translated(client):
    client.post("/language/en", data={"next": "/login"})
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Please sign in to continue." in page
    assert PASSWORD not in page
