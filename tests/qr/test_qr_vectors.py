"""The vietqr.md test vectors, field by field: the specification's own worked examples are the ground truth."""

from __future__ import annotations

import pytest
from qr_vectors import (
    V1_STATIC_CARD,
    V2_DYNAMIC_ACCOUNT,
    V3_DYNAMIC_CARD,
    V4_STATIC_ACCOUNT,
    V5_VNPAY,
    V6_LENGTH_ERRATUM,
    reference_crc,
    with_crc,
)

from qr import PayloadFormatError, build_payload, parse_payload, transfer_data


def test_vector_1_static_card_builds_byte_identical() -> None:
    assert build_payload(bin="970403", account="9704031101234567", service="card") == V1_STATIC_CARD


def test_vector_1_parses_to_a_static_card_transfer_at_sacombank() -> None:
    parsed = parse_payload(V1_STATIC_CARD)
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.service) == (
        "vietqr",
        "970403",
        "9704031101234567",
        "card",
    )
    assert parsed.bank is not None and parsed.bank.short_name == "Sacombank"
    assert (parsed.initiation, parsed.amount, parsed.purpose, parsed.additional) == ("static", None, None, {})
    assert (parsed.currency, parsed.country, parsed.merchant_name, parsed.merchant_city) == ("704", "VN", None, None)
    assert (parsed.crc, parsed.crc_ok) == ("4F52", True)
    assert parsed.objects == (
        ("00", "01"),
        ("01", "11"),
        ("38", "0010A00000072701300006970403011697040311012345670208QRIBFTTC"),
        ("53", "704"),
        ("58", "VN"),
        ("63", "4F52"),
    )


def test_vector_2_parses_purpose_exactly_as_written_in_lowercase() -> None:
    parsed = parse_payload(V2_DYNAMIC_ACCOUNT)
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.service) == (
        "vietqr",
        "970403",
        "0011012345678",
        "account",
    )
    assert (parsed.initiation, parsed.amount, parsed.currency, parsed.country) == ("dynamic", 180000, "704", "VN")
    assert parsed.purpose == "thanh toan don hang"
    assert parsed.additional == {"bill_number": "NPS6869", "purpose": "thanh toan don hang"}
    assert (parsed.crc, parsed.crc_ok) == ("2E2E", True)


def test_vector_3_parses_to_a_dynamic_card_transfer_with_bill_and_purpose() -> None:
    parsed = parse_payload(V3_DYNAMIC_CARD)
    assert (parsed.bin, parsed.account, parsed.service) == ("970403", "9704031101234567", "card")
    assert (parsed.initiation, parsed.amount) == ("dynamic", 180000)
    assert parsed.additional == {"bill_number": "NPS6869", "purpose": "thanh toan don hang"}
    assert (parsed.crc, parsed.crc_ok) == ("A203", True)


@pytest.mark.parametrize(
    ("vector", "account", "service"),
    [(V2_DYNAMIC_ACCOUNT, "0011012345678", "account"), (V3_DYNAMIC_CARD, "9704031101234567", "card")],
)
def test_vectors_2_and_3_build_with_the_purpose_folded_to_uppercase_and_a_fresh_crc(
    vector: str, account: str, service: str
) -> None:
    built = build_payload(
        bin="970403",
        account=account,
        service=service,
        amount=180000,
        bill_number="NPS6869",
        purpose="thanh toan don hang",
    )
    expected_body = vector[:-4].replace("thanh toan don hang", "THANH TOAN DON HANG")
    assert built == expected_body + reference_crc(expected_body)
    assert parse_payload(built).purpose == "THANH TOAN DON HANG"


def test_vector_4_static_account_at_vietcombank_builds_byte_identical() -> None:
    data = transfer_data(bin="970436", account="0011001932418")
    assert data.payload == V4_STATIC_ACCOUNT
    assert data.initiation == "static"


def test_vector_4_parses_back_to_the_fields_it_was_built_from() -> None:
    parsed = parse_payload(V4_STATIC_ACCOUNT)
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.service, parsed.initiation) == (
        "vietqr",
        "970436",
        "0011001932418",
        "account",
        "static",
    )
    assert parsed.bank is not None and parsed.bank.short_name == "Vietcombank"
    assert (parsed.amount, parsed.purpose, parsed.crc, parsed.crc_ok) == (None, None, "E0BB", True)


def test_vector_5_is_recognised_as_vnpay_not_as_a_vietqr_transfer() -> None:
    parsed = parse_payload(V5_VNPAY)
    assert parsed.scheme == "vnpay"
    assert (parsed.bin, parsed.bank, parsed.account, parsed.service) == (None, None, None, None)
    assert parsed.merchant_id == "0108799042"
    assert (parsed.initiation, parsed.amount, parsed.category) == ("static", None, "5977")
    assert (parsed.merchant_name, parsed.merchant_city) == ("MYPHAMHER", "HANOI")
    assert parsed.additional == {"store": "MY PHAM HER", "terminal": "MPHER01"}
    assert (parsed.crc, parsed.crc_ok) == ("1C50", True)


def test_vector_6_has_a_correct_crc_over_its_broken_length() -> None:
    assert reference_crc(V6_LENGTH_ERRATUM[:-4]) == "F4E5"


@pytest.mark.parametrize("strict_crc", [True, False])
def test_vector_6_reports_the_lying_length_instead_of_a_truncated_account(strict_crc: bool) -> None:
    with pytest.raises(PayloadFormatError, match=r"object 38/01 at position 60") as caught:
        parse_payload(V6_LENGTH_ERRATUM, strict_crc=strict_crc)
    assert caught.value.position == 60
    assert V6_LENGTH_ERRATUM[60:64] == "8020"  # the account's last digit, then object 02's id


def test_vector_6_with_its_length_corrected_parses_the_full_account() -> None:
    fixed = with_crc(V6_LENGTH_ERRATUM[:-8].replace("01120011012345678", "01130011012345678"))
    assert parse_payload(fixed).account == "0011012345678"
