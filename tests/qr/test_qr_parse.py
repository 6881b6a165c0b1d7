"""Reading payloads: lenient where the standard allows (order, unknown tags, lowercase CRC), strict elsewhere."""

from __future__ import annotations

import json

import pytest
from qr_vectors import V2_DYNAMIC_ACCOUNT, V4_STATIC_ACCOUNT, V5_VNPAY, tlv, with_crc

from qr import PayloadFormatError, VietQRError, parse_payload

BENEFICIARY = tlv("00", "970436") + tlv("01", "0011001932418")
NAPAS_ACCOUNT = tlv("00", "A000000727") + tlv("01", BENEFICIARY) + tlv("02", "QRIBFTTA")


def payload(*objects: tuple[str, str]) -> str:
    """Assemble objects in the order given and close with a correct CRC."""
    return with_crc("".join(tlv(tag, value) for tag, value in objects))


def test_objects_in_any_order_between_00_and_63_are_accepted() -> None:
    shuffled = payload(("00", "01"), ("58", "VN"), ("38", NAPAS_ACCOUNT), ("53", "704"), ("01", "11"))
    parsed = parse_payload(shuffled)
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.initiation) == (
        "vietqr",
        "970436",
        "0011001932418",
        "static",
    )
    assert [tag for tag, _ in parsed.objects] == ["00", "58", "38", "53", "01", "63"]


def test_unknown_tags_are_kept_in_objects_and_ignored_otherwise() -> None:
    text = payload(("00", "01"), ("01", "11"), ("38", NAPAS_ACCOUNT), ("58", "VN"), ("65", "hi"), ("99", "0001x"))
    parsed = parse_payload(text)
    assert parsed.account == "0011001932418"
    assert ("65", "hi") in parsed.objects
    assert ("99", "0001x") in parsed.objects


def test_a_lowercase_crc_is_accepted_and_reported_in_uppercase() -> None:
    parsed = parse_payload(V2_DYNAMIC_ACCOUNT[:-4] + V2_DYNAMIC_ACCOUNT[-4:].lower())
    assert (parsed.crc, parsed.crc_ok) == ("2E2E", True)


def test_merchant_name_city_and_category_are_read_when_present() -> None:
    text = payload(
        ("00", "01"), ("01", "11"), ("38", NAPAS_ACCOUNT), ("52", "5411"), ("53", "704"), ("58", "VN"),
        ("59", "CHO BEN THANH"), ("60", "HO CHI MINH"),
    )  # fmt: skip
    parsed = parse_payload(text)
    assert (parsed.category, parsed.merchant_name, parsed.merchant_city) == ("5411", "CHO BEN THANH", "HO CHI MINH")


@pytest.mark.parametrize(
    ("service_object", "service"), [(tlv("02", "QRPUSH"), "push"), (tlv("02", "QRCASH"), "cash"), ("", "push")]
)
def test_napas_push_cash_and_missing_service_are_vietqr_but_not_transfers(service_object: str, service: str) -> None:
    napas = tlv("00", "A000000727") + tlv("01", BENEFICIARY) + service_object
    parsed = parse_payload(payload(("00", "01"), ("01", "11"), ("38", napas), ("53", "704"), ("58", "VN")))
    assert (parsed.scheme, parsed.service) == ("vietqr", service)


def test_other_merchant_account_schemes_are_reported_as_other() -> None:
    wallet = tlv("00", "vn.momo") + tlv("01", "0903123456")
    parsed = parse_payload(payload(("00", "01"), ("01", "11"), ("27", wallet), ("53", "704"), ("58", "VN")))
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.merchant_id) == ("other", None, None, None)


def test_vnpay_wins_over_nothing_but_napas_wins_when_both_are_present() -> None:
    vnpay = tlv("00", "A000000775") + tlv("01", "0108799042")
    both = payload(("00", "01"), ("01", "11"), ("26", vnpay), ("38", NAPAS_ACCOUNT), ("53", "704"), ("58", "VN"))
    assert parse_payload(both).scheme == "vietqr"
    assert parse_payload(V5_VNPAY).scheme == "vnpay"


def test_unknown_additional_data_ids_are_named_by_tag() -> None:
    extra = tlv("08", "RAU") + tlv("50", "x")
    parsed = parse_payload(payload(("00", "01"), ("01", "11"), ("38", NAPAS_ACCOUNT), ("58", "VN"), ("62", extra)))
    assert parsed.additional == {"purpose": "RAU", "tag_50": "x"}


def test_to_dict_is_json_ready_and_names_the_bank() -> None:
    data = parse_payload(V2_DYNAMIC_ACCOUNT).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["bank"] == "Sacombank"
    assert data["objects"][0] == ["00", "01"]
    assert {"scheme", "bin", "account", "service", "initiation", "amount", "purpose", "crc_ok"} <= data.keys()


def test_crc_mismatch_names_the_position_and_both_values() -> None:
    broken = V4_STATIC_ACCOUNT[:-4] + "E0BC"
    with pytest.raises(PayloadFormatError, match=r"^CRC mismatch at position 90: payload says E0BC, computed E0BB$"):
        parse_payload(broken)


def test_crc_mismatch_is_reported_not_raised_when_strict_crc_is_off() -> None:
    parsed = parse_payload(V4_STATIC_ACCOUNT[:-4] + "E0BC", strict_crc=False)
    assert (parsed.crc, parsed.crc_ok, parsed.account) == ("E0BC", False, "0011001932418")


BODY = "0002010102113857" + NAPAS_ACCOUNT + "5303704" + "5802VN"


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 0, "empty payload"),
        ("000", 0, "truncated data object in payload"),
        (V4_STATIC_ACCOUNT[:50], 16, "object 38 in payload at position 16 says 57 characters but only 34 remain"),
        (V4_STATIC_ACCOUNT[:-2], 90, "object 63 in payload at position 90 says 4 characters but only 2 remain"),
        (V4_STATIC_ACCOUNT + "0", 94, "truncated data object"),
        ("00020101AB11" + V4_STATIC_ACCOUNT[12:], 8, "length of object 01 must be 01-99 in payload at position 8"),
        ("0002010100" + V4_STATIC_ACCOUNT[10:], 8, "length of object 01 must be 01-99"),
        ("000201011X11" + V4_STATIC_ACCOUNT[12:], 8, "(got '1X')"),
        ("00020101+211" + V4_STATIC_ACCOUNT[12:], 8, "(got '+2')"),
        ("00020101²11" + V4_STATIC_ACCOUNT[11:], 8, "length of object 01 must be 01-99"),
        ("0002010A0211" + V4_STATIC_ACCOUNT[12:], 6, "object id must be two digits"),
        ("000201٠١0211" + V4_STATIC_ACCOUNT[12:], 6, "object id must be two digits"),
        (with_crc(BODY[6:]), 0, "object 00 (payload format) must come first"),
        (with_crc("000202" + BODY[6:]), 4, "payload format (object 00) must be '01'"),
        (BODY, 86, "object 63 (CRC) missing"),
        (BODY[:12] + "6304ABCD" + BODY[12:], 12, "object 63 (CRC) must be last"),
        (BODY + "6304E0BG", 90, "CRC must be 4 hex digits"),
        (BODY + "6303E0B", 90, "CRC must be 4 hex digits"),
        (with_crc(BODY + tlv("01", "12")), 86, "object 01 appears twice in payload at position 86"),
        (with_crc(BODY + tlv("54", "10.50")), 90, "amount must be digits only"),
        (with_crc(BODY + tlv("54", "１２")), 90, "amount must be digits only"),
        (payload(("00", "01"), ("38", NAPAS_ACCOUNT + "01")), 67, "truncated data object in object 38 at position 67"),
        (payload(("00", "01"), ("38", NAPAS_ACCOUNT + "99")), 67, "in object 38 at position 67"),
    ],
)
def test_malformed_payloads_raise_naming_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(PayloadFormatError) as caught:
        parse_payload(text)
    assert fragment in str(caught.value)
    assert f"at position {position}" in str(caught.value)
    assert caught.value.position == position


def test_a_transfer_without_beneficiary_account_is_rejected() -> None:
    napas = tlv("00", "A000000727") + tlv("01", tlv("00", "970436")) + tlv("02", "QRIBFTTA")
    with pytest.raises(PayloadFormatError, match="lacks a BIN or an account"):
        parse_payload(payload(("00", "01"), ("01", "11"), ("38", napas), ("53", "704"), ("58", "VN")))


def test_a_broken_template_of_another_scheme_is_a_warning_at_its_position_not_an_error() -> None:
    parsed = parse_payload(payload(("00", "01"), ("01", "11"), ("27", "0010vn.momo"), ("58", "VN")))
    assert parsed.scheme == "other"
    assert ("27", "0010vn.momo") in parsed.objects
    assert [(w.position, w.tag, w.code) for w in parsed.warnings] == [(20, "27", "not_a_template")]


@pytest.mark.parametrize("value", [None, 42, b"000201", ["000201"]])
def test_non_text_input_raises_a_vietqr_error(value: object) -> None:
    with pytest.raises(VietQRError, match="payload must be text"):
        parse_payload(value)  # type: ignore[arg-type]
