"""Known payloads shared by the qr tests: the vietqr.md vectors and a bitwise CRC to check ours against."""

from __future__ import annotations

V1_STATIC_CARD = "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52"
V2_DYNAMIC_ACCOUNT = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
)
V3_DYNAMIC_CARD = (
    "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203"
)
V4_STATIC_ACCOUNT = "00020101021138570010A00000072701270006970436011300110019324180208QRIBFTTA53037045802VN6304E0BB"
V5_VNPAY = (
    "00020101021126280010A000000775011001087990425204597753037045802VN5909MYPHAMHER6005HANOI"
    "62260311MY PHAM HER0707MPHER0163041C50"
)
V6_LENGTH_ERRATUM = "00020101021138570010A00000072701270006970403011200110123456780208QRIBFTTA53037045802VN6304F4E5"
# Built by ChoQR for BIN 970436, account 1000016: its CRC is 0x01D5, so the leading zero matters.
LEADING_ZERO_CRC = "00020101021138510010A00000072701210006970436010710000160208QRIBFTTA53037045802VN630401D5"


def reference_crc(text: str) -> str:
    """CRC-16/CCITT-FALSE bit by bit, straight from the definition, independent of qr.crc."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def with_crc(body: str) -> str:
    """Close a payload body (ending before 6304) with a correct CRC, to craft test payloads."""
    body += "6304"
    return body + reference_crc(body)


def tlv(tag: str, value: str) -> str:
    """Write one data object, to assemble test payloads by hand."""
    return f"{tag}{len(value):02d}{value}"
