"""One-regex reader for the canonical transfer layout (what ChoQR and the banks write); None means 'not sure'.

Every length the payload states is checked against what the match captured, so when this reader answers,
the general TLV reader would have segmented the payload identically; anything else falls through to it,
including whatever the general reader would warn about (an unknown BIN, a sub-field of 62 over 25 characters),
so this reader's answer never carries warnings.
"""

from __future__ import annotations

import re
from binascii import crc_hqx

from .banks import get_bank
from .crc import CRC_INIT
from .parsed import ParsedPayload, make_parsed
from .tags import ADDITIONAL, ADDITIONAL_NAMES, MAX_SUBFIELD

_CANONICAL = re.compile(
    r"000201"
    r"0102(1[12])"
    r"38([0-9]{2})0010A00000072701([0-9]{2})0006([0-9]{6})01([0-9]{2})([A-Za-z0-9]{1,19})0208(QRIBFTT[AC])"
    r"5303704"
    r"(?:54([0-9]{2})([0-9]{1,13}))?"
    r"5802VN"
    r"(?:62([0-9]{2})([ -~]+))?"
    r"6304([0-9A-F]{4})",
    re.ASCII,
)
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))
_LENGTHS = {text: n for n, text in enumerate(_TWO_DIGITS) if n}
_INITIATION = {"11": "static", "12": "dynamic"}
_SERVICE = {"QRIBFTTA": "account", "QRIBFTTC": "card"}
_NAPAS_FIXED = 44  # 38's value = GUID object (14) + "01LL" (4) + "0006"+BIN+"01LL" (14) + service object (12)


def read_canonical(text: str) -> ParsedPayload | None:
    """Parse a canonical, CRC-correct transfer payload in one pass, or return None to defer to the general reader."""
    match = _CANONICAL.fullmatch(text)
    if match is None:
        return None
    init, len38, len01, bin_, len_account, account, code, len54, amount, len62, extra, crc = match.groups()
    size = len(account)
    bank = get_bank(bin_)
    if (
        bank is None
        or len_account != _TWO_DIGITS[size]
        or len01 != _TWO_DIGITS[size + 14]
        or len38 != _TWO_DIGITS[size + _NAPAS_FIXED]
        or (amount is not None and len54 != _TWO_DIGITS[len(amount)])
        or (extra is not None and len62 != _TWO_DIGITS[len(extra)])
        or crc_hqx(text[:-4].encode(), CRC_INIT) != int(crc, 16)
    ):
        return None
    head: tuple[tuple[str, str], ...] = (
        ("00", "01"),
        ("01", init),
        ("38", text[16 : 16 + size + _NAPAS_FIXED]),
        ("53", "704"),
    )
    if amount is not None:
        head += (("54", amount),)
    additional: dict[str, str] = {}
    objects: tuple[tuple[str, str], ...]
    if extra is None:
        objects = (*head, ("58", "VN"), ("63", crc))
    else:
        named = _additional(extra)
        if named is None:
            return None
        additional = named
        objects = (*head, ("58", "VN"), (ADDITIONAL, extra), ("63", crc))
    return make_parsed(
        {
            "scheme": "vietqr",
            "bin": bin_,
            "bank": bank,
            "account": account,
            "service": _SERVICE[code],
            "initiation": _INITIATION[init],
            "amount": int(amount) if amount is not None else None,
            "currency": "704",
            "country": "VN",
            "purpose": additional.get("purpose"),
            "additional": additional,
            "merchant_name": None,
            "merchant_city": None,
            "crc": crc,
            "crc_ok": True,
            "objects": objects,
            "category": None,
            "merchant_id": None,
            "warnings": (),
        }
    )


def _additional(extra: str) -> dict[str, str] | None:
    """Name object 62's standard sub-fields; None for anything unusual (unknown id, repeat, bad or long length)."""
    named: dict[str, str] = {}
    pos = 0
    end = len(extra)
    while pos < end:
        name = ADDITIONAL_NAMES.get(extra[pos : pos + 2])
        length = _LENGTHS.get(extra[pos + 2 : pos + 4])
        if name is None or length is None or length > MAX_SUBFIELD or name in named or pos + 4 + length > end:
            return None
        pos += 4 + length
        named[name] = extra[pos - length : pos]
    return named
