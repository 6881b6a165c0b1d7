"""Building transfer payloads: field rules that name the field, folding, object order and initiation."""

from __future__ import annotations

from typing import Any

import pytest
from qr_vectors import V4_STATIC_ACCOUNT, reference_crc, tlv

from qr import FieldError, TransferData, VietQRError, build_payload, parse_payload, transfer_data

GOOD: dict[str, Any] = {"bin": "970436", "account": "0011001932418"}


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"bin": "123456"}, "bin", "NAPAS directory"),
        ({"bin": "97043"}, "bin", "NAPAS directory"),
        ({"bin": 970436}, "bin", "NAPAS directory"),
        ({"account": "12-34"}, "account", "1-19 characters of A-Z, a-z, 0-9"),
        ({"account": ""}, "account", "1-19 characters"),
        ({"account": "1" * 20}, "account", "1-19 characters"),
        ({"account": "0011 0019"}, "account", "A-Z, a-z, 0-9"),
        ({"account": "００１１"}, "account", "A-Z, a-z, 0-9"),
        ({"account": "Đ123"}, "account", "A-Z, a-z, 0-9"),
        ({"account": None}, "account", "1-19 characters"),
        ({"service": "wallet"}, "service", "'account' or 'card'"),
        ({"service": "QRPUSH"}, "service", "'account' or 'card'"),
        ({"service": ["card"]}, "service", "'account' or 'card'"),
        ({"bin": ["970436"]}, "bin", "NAPAS directory"),
        ({"purpose": ["x"]}, "purpose", "must be text"),
        ({"store": 12}, "store", "must be text"),
        ({"amount": 0}, "amount", "whole number of dong"),
        ({"amount": -5}, "amount", "whole number of dong"),
        ({"amount": 10**13}, "amount", "13 digits"),
        ({"amount": 1.5}, "amount", "whole number"),
        ({"amount": "50000"}, "amount", "whole number"),
        ({"amount": True}, "amount", "whole number"),
        ({"purpose": "x" * 26}, "purpose", "at most 25 characters after folding"),
        ({"purpose": "Thanh toán tiền hàng tháng mười"}, "purpose", "at most 25 characters"),
        ({"purpose": 42}, "purpose", "must be text"),
        ({"customer": "y" * 26}, "customer", "at most 25"),
        ({"bill_number": "HĐ-001"}, "bill_number", "printable ASCII"),
        ({"bill_number": "B" * 26}, "bill_number", "at most 25"),
        ({"reference": "tab\there"}, "reference", "printable ASCII"),
        ({"store": "s" * 26}, "store", "at most 25"),
        ({"terminal": "t" * 26}, "terminal", "at most 25"),
        ({"mobile": "0903\n123456"}, "mobile", "printable ASCII"),
        (
            {"bill_number": "B" * 25, "store": "S" * 25, "terminal": "T" * 25, "purpose": "P" * 25},
            "additional_data",
            "99 characters",
        ),
    ],
)
def test_bad_input_raises_a_field_error_naming_the_field_rule_and_value(
    overrides: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(FieldError) as caught:
        build_payload(**{**GOOD, **overrides})
    error = caught.value
    assert error.field == field
    assert str(error).startswith(f"{field}: ")
    assert fragment in str(error)
    assert isinstance(error, VietQRError) and isinstance(error, ValueError)


def test_field_error_message_shows_the_value_received() -> None:
    with pytest.raises(FieldError, match=r"^account: must be 1-19 characters of A-Z, a-z, 0-9 \(got '12-34'\)$"):
        build_payload(bin="970436", account="12-34")


def test_transfer_data_folds_purpose_and_customer_and_keeps_identifiers_as_written() -> None:
    data = transfer_data(**GOOD, purpose="Tiền chợ", customer="Nguyễn Thị Đào", bill_number="hd-01", store=" Sap 12 ")
    assert (data.purpose, data.customer) == ("TIEN CHO", "NGUYEN THI DAO")
    assert (data.bill_number, data.store) == ("hd-01", "Sap 12")


@pytest.mark.parametrize("blank", ["", "   ", "☕☕"])
def test_purpose_that_folds_to_nothing_is_left_out_of_the_payload(blank: str) -> None:
    assert build_payload(**GOOD, purpose=blank, customer=blank) == V4_STATIC_ACCOUNT


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_identifiers_are_left_out_of_the_payload(blank: str) -> None:
    assert build_payload(**GOOD, bill_number=blank, store=blank, mobile=blank) == V4_STATIC_ACCOUNT


def test_purpose_of_exactly_25_characters_after_folding_is_accepted() -> None:
    purpose = "Thanh toán tiền hàng T12"  # 24 characters folded
    assert parse_payload(build_payload(**GOOD, purpose=purpose + "!")).purpose == "THANH TOAN TIEN HANG T12!"


def test_amount_makes_a_dynamic_qr_and_no_amount_a_static_one() -> None:
    assert transfer_data(**GOOD).initiation == "static"
    assert transfer_data(**GOOD, amount=50_000).initiation == "dynamic"
    assert build_payload(**GOOD).startswith("000201010211")
    assert build_payload(**GOOD, amount=50_000).startswith("000201010212")


def test_largest_13_digit_amount_is_written_whole() -> None:
    payload = build_payload(**GOOD, amount=9_999_999_999_999)
    assert "54139999999999999" in payload
    assert parse_payload(payload).amount == 9_999_999_999_999


def test_objects_are_written_in_ascending_id_order_with_no_merchant_name_or_category() -> None:
    payload = build_payload(**GOOD, amount=1000, purpose="x", bill_number="B1")
    ids = [tag for tag, _ in parse_payload(payload).objects]
    assert ids == ["00", "01", "38", "53", "54", "58", "62", "63"]


def test_additional_data_sub_fields_are_written_in_ascending_id_order() -> None:
    payload = build_payload(
        **GOOD, purpose="P", terminal="T", customer="C", reference="R", store="S", mobile="M", bill_number="B"
    )
    expected = "".join(tlv(tag, v) for tag, v in [("01", "B"), ("02", "M"), ("03", "S"), ("05", "R"), ("06", "C")])
    expected += tlv("07", "T") + tlv("08", "P")
    assert tlv("62", expected) in payload
    assert payload[-4:] == reference_crc(payload[:-4])


def test_transfer_data_payload_equals_build_payload() -> None:
    kwargs = {**GOOD, "amount": 25_000, "purpose": "rau"}
    assert transfer_data(**kwargs).payload == build_payload(**kwargs)


def test_transfer_data_is_frozen() -> None:
    data = transfer_data(**GOOD)
    with pytest.raises(AttributeError):
        data.account = "999"  # type: ignore[misc]
    assert isinstance(data, TransferData)


def test_uppercase_payload_stays_in_qr_alphanumeric_mode() -> None:
    payload = build_payload(**GOOD, amount=120_000, purpose="Tiền rau muống", bill_number="B12")
    alphanumeric = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert set(payload) <= alphanumeric
