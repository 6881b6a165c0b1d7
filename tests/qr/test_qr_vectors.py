"""The vietqr.md test vectors, field by field: the spec's own worked examples are the ground truth."""

from __future__ import annotations

import pytest

from qr import PayloadFormatError, build_payload, parse_payload

V1_STATIC_CARD = (
    "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52"
)
V2_DYNAMIC_ACCOUNT = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
)
V3_DYNAMIC_CARD = (
    "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203"
)
V4_STATIC_ACCOUNT = (
    "00020101021138570010A00000072701270006970436011300110019324180208QRIBFTTA53037045802VN6304E0BB"
)
V5_VNPAY = (
    "00020101021126280010A000000775011001087990425204597753037045802VN5909MYPHAMHER6005HANOI"
    "62260311MY PHAM HER0707MPHER0163041C50"
)
V6_LENGTH_ERRATUM = (
    "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5"
)


def test_vector_1_static_card_builds_byte_identical() -> None:
    assert build_payload(bin="970403", account="9704031101234567", service="card") == V1_STATIC_CARD


def test_vector_4_static_account_builds_byte_identical() -> None:
    assert build_payload(bin="970436", account="0011001932418") == V4_STATIC_ACCOUNT


@pytest.mark.parametrize("payload", [V1_STATIC_CARD, V2_DYNAMIC_ACCOUNT, V3_DYNAMIC_CARD, V4_STATIC_ACCOUNT])
def test_every_napas_vector_parses_with_a_good_crc(payload: str) -> None:
    parsed = parse_payload(payload)
    assert parsed.scheme == "vietqr"
    assert parsed.crc_ok


def test_vector_6_reports_the_lying_length_instead_of_a_truncated_account() -> None:
    with pytest.raises(PayloadFormatError, match="38/01") as caught:
        parse_payload(V6_LENGTH_ERRATUM)
    assert caught.value.position == 60
