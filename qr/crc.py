"""CRC-16/CCITT-FALSE, the checksum that closes every EMVCo payload (object 63)."""

from __future__ import annotations

from binascii import crc_hqx

CRC_INIT = 0xFFFF


def crc16(data: str) -> int:
    """Checksum a payload prefix; binascii's crc_hqx is this exact CRC (poly 0x1021, no reflection) in C."""
    return crc_hqx(data.encode("utf-8", "surrogatepass"), CRC_INIT)


def crc16_hex(data: str) -> str:
    """Format the checksum as object 63 wants it: four uppercase hex digits, leading zeros kept."""
    return f"{crc_hqx(data.encode('utf-8', 'surrogatepass'), CRC_INIT):04X}"
