"""A scanned QR's warnings come from ``qr`` as a code and params; pages say them in the reader's language."""

from __future__ import annotations

import html
import io
import re

import pytest
from factories import login, make_household, make_market, make_user

from merchants import scan_warnings
from merchants.scope import SYSTEM
from merchants.services.placards import single_placard_pdf
from qr import lenient, parse_payload, png_bytes
from qr.crc import crc16_hex

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def _close(*objects: tuple[str, str]) -> str:
    body = "".join(_tlv(tag, value) for tag, value in objects) + "6304"
    return body + crc16_hex(body)


# A MoMo-like wallet QR: a plain "046" in template 80 and a 16-character city (EMVCo allows 15).
ACCOUNT = _tlv("00", "A000000727") + _tlv("01", _tlv("00", "970454") + _tlv("01", "99MM24011M34875080"))
SCANNED = _close(
    ("00", "01"),
    ("01", "11"),
    ("38", ACCOUNT + _tlv("02", "QRIBFTTA")),
    ("53", "704"),
    ("58", "VN"),
    ("60", "HO CHI MINH CITY"),
    ("80", "046"),
)
AT_80 = SCANNED.index("8003046") + 4
AT_60 = SCANNED.index("6016") + 4
ENGLISH = [
    f"Field 80 cannot be split into sub-fields (ID, length, value) from position {AT_80}; "
    f"its value '046' is kept as written. (position {AT_80}, field 80)",
    f"Field 60 (city) is 16 characters long, EMVCo allows 1–15; read as written anyway. (position {AT_60}, field 60)",
]
VIETNAMESE = "Trường 60 (thành phố) dài 16 ký tự, EMVCo quy định 1–15; vẫn đọc nguyên văn."


def test_the_scanned_payload_has_the_two_warnings_the_pages_show():
    assert [(w.code, w.position) for w in parse_payload(SCANNED).warnings] == [
        (lenient.LENGTH_OUT_OF_RANGE, AT_60),
        (lenient.NOT_A_TEMPLATE, AT_80),
    ]


@pytest.mark.parametrize("code", sorted(lenient.TEMPLATES))
def test_every_warning_of_the_library_has_a_catalog_template_with_the_same_params(code):
    assert code in scan_warnings.TEMPLATES, f"qr has a warning code the pages cannot translate: {code}"
    assert set(PLACEHOLDER.findall(scan_warnings.TEMPLATES[code])) == set(PLACEHOLDER.findall(lenient.TEMPLATES[code]))


def test_every_object_name_a_warning_may_carry_is_in_the_catalog():
    labels = {label for *_, label in lenient.DISPLAY_RULES.values()} | {lenient.ADDITIONAL_LABEL}
    assert labels <= set(scan_warnings.LABELS)


def _english(client, user):  # noqa: ANN001
    login(client, user)
    client.post("/language/en")


def _verify_page(client, session, *, english: bool) -> str:  # noqa: ANN001
    market = make_market(session, stalls=1)
    single_placard_pdf(session, SYSTEM, make_household(session, market).id)
    staff = make_user(session, "print_staff", provinces=["22"])
    if english:
        _english(client, staff)
    else:
        login(client, staff)
    resp = client.post(f"/markets/{market.id}/stalls/A-001/verify", data={"payload": SCANNED})
    assert resp.status_code == 200
    return html.unescape(resp.get_data(as_text=True))


def test_a_scanned_codes_warnings_are_in_english_on_an_english_verify_page(client, session):
    page = _verify_page(client, session, english=True)
    assert "The scanned code has 2 non-standard details" in page
    for sentence in ENGLISH:
        assert sentence in page
    assert "Trường" not in page and "vị trí" not in page and "thành phố" not in page


def test_they_stay_vietnamese_on_a_vietnamese_verify_page(client, session):
    page = _verify_page(client, session, english=False)
    assert f"{VIETNAMESE} (vị trí {AT_60}, trường 60)" in page


def test_a_photo_with_warnings_prefilled_on_an_english_register_page_says_them_in_english(client, session):
    market = make_market(session, stalls=2)
    _english(client, make_user(session, markets=[market]))
    data = {"action": "prefill", "qr-photo": (io.BytesIO(png_bytes(SCANNED)), "qr.png")}
    page = client.post(f"/markets/{market.id}/register", data=data, content_type="multipart/form-data")
    text = html.unescape(page.get_data(as_text=True))
    assert "The QR code has non-standard fields, which were ignored: Field 60 (city) is 16 characters long" in text
    assert "Field 80 cannot be split into sub-fields" in text
    assert "Trường" not in text
