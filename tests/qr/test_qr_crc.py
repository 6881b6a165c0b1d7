"""CRC-16/CCITT-FALSE as object 63 needs it: the standard check value, zero padding, agreement with the definition."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from qr_vectors import LEADING_ZERO_CRC, reference_crc

from qr import build_payload, parse_payload
from qr.crc import crc16, crc16_hex


def test_crc_of_123456789_is_the_standard_check_value_29b1() -> None:
    assert crc16("123456789") == 0x29B1
    assert crc16_hex("123456789") == "29B1"


def test_crc_below_0x1000_keeps_its_leading_zero_in_the_payload() -> None:
    payload = build_payload(bin="970436", account="1000016")
    assert payload == LEADING_ZERO_CRC
    assert crc16(payload[:-4]) < 0x1000
    assert payload.endswith("630401D5")
    assert parse_payload(payload).crc == "01D5"


def test_crc_hex_is_always_four_uppercase_digits() -> None:
    assert crc16_hex("") == "FFFF"
    assert len({len(crc16_hex(str(n))) for n in range(2000)}) == 1


@given(st.text())
def test_crc_matches_the_bitwise_definition_for_any_text(text: str) -> None:
    assert crc16_hex(text) == reference_crc(text)
