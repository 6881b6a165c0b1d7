"""Read any EMVCo merchant-presented payload strictly and say what it is: VietQR transfer, VNPay or other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .banks import Bank, get_bank
from .crc import crc16_hex
from .errors import PayloadFormatError
from .tags import (
    ADDITIONAL,
    ADDITIONAL_NAMES,
    AMOUNT,
    CATEGORY,
    COUNTRY,
    CRC,
    CURRENCY,
    FORMAT_VERSION,
    INITIATION,
    INITIATION_NAMES,
    MERCHANT_ACCOUNT_IDS,
    MERCHANT_CITY,
    MERCHANT_NAME,
    NAPAS,
    NAPAS_GUID,
    PAYLOAD_FORMAT,
    SERVICE_NAMES,
    TEMPLATE_IDS,
    VNPAY_GUID,
)
from .tlv import DataObject, read_objects

_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    """What a payload says, in the API's names, with the raw top-level objects kept for display."""

    scheme: str
    bin: str | None
    bank: Bank | None
    account: str | None
    service: str | None
    initiation: str | None
    amount: int | None
    currency: str | None
    country: str | None
    purpose: str | None
    additional: dict[str, str]
    merchant_name: str | None
    merchant_city: str | None
    crc: str
    crc_ok: bool
    objects: tuple[tuple[str, str], ...]
    category: str | None = None
    merchant_id: str | None = None
    templates: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Give a JSON-ready view: the bank by short name, objects as [id, value] pairs."""
        return {
            "scheme": self.scheme,
            "bin": self.bin,
            "bank": self.bank.short_name if self.bank else None,
            "account": self.account,
            "service": self.service,
            "initiation": self.initiation,
            "amount": self.amount,
            "currency": self.currency,
            "country": self.country,
            "purpose": self.purpose,
            "additional": dict(self.additional),
            "merchant_name": self.merchant_name,
            "merchant_city": self.merchant_city,
            "category": self.category,
            "merchant_id": self.merchant_id,
            "crc": self.crc,
            "crc_ok": self.crc_ok,
            "objects": [list(pair) for pair in self.objects],
        }


def _check_frame(text: str, objects: list[DataObject]) -> DataObject:
    """Enforce 00 = '01' first and 63 (4 hex digits) last; return the CRC object."""
    if not objects:
        raise PayloadFormatError(0, "empty payload: object 00 missing at position 0")
    tag, value, where = objects[0]
    if tag != PAYLOAD_FORMAT:
        raise PayloadFormatError(0, f"object 00 (payload format) must come first at position 0 (got {tag})")
    if value != FORMAT_VERSION:
        raise PayloadFormatError(where, f"payload format must be '01' at position {where} (got {value!r})")
    crc_object = objects[-1]
    for tag, _, where in objects[:-1]:
        if tag == CRC:
            raise PayloadFormatError(
                where - 4, f"object 63 (CRC) must be last, found at position {where - 4}"
            )
    tag, value, where = crc_object
    if tag != CRC:
        raise PayloadFormatError(len(text), f"object 63 (CRC) missing at position {len(text)}")
    if len(value) != 4 or not _HEX.issuperset(value):
        raise PayloadFormatError(where, f"CRC must be 4 hex digits at position {where} (got {value!r})")
    return crc_object


def _templates(text: str, objects: list[DataObject]) -> dict[str, dict[str, str]]:
    """Read every template object fully, and NAPAS 38/01 inside it, so a lying length cannot hide."""
    found: dict[str, dict[str, str]] = {}
    for tag, value, where in objects:
        if tag not in TEMPLATE_IDS:
            continue
        subs = read_objects(text, where, where + len(value), f"object {tag}")
        found[tag] = {sub: sub_value for sub, sub_value, _ in subs}
        if tag == NAPAS and found[tag].get("00") == NAPAS_GUID:
            for sub, sub_value, sub_where in subs:
                if sub == "01":
                    inner = read_objects(text, sub_where, sub_where + len(sub_value), "object 38/01")
                    found["38/01"] = {k: v for k, v, _ in inner}
    return found


def _amount(value: str | None, where: int) -> int | None:
    """Read object 54 as a whole number; VND has no decimals, and this reader returns int only."""
    if value is None:
        return None
    if not (value.isdigit() and value.isascii()):
        raise PayloadFormatError(where, f"amount must be digits at position {where} (got {value!r})")
    return int(value)


def _scheme(templates: dict[str, dict[str, str]]) -> tuple[str, str | None]:
    """Name the scheme from the merchant account templates; return the VNPay merchant id if any."""
    napas = templates.get(NAPAS)
    if napas is not None and napas.get("00") == NAPAS_GUID:
        return "vietqr", None
    accounts = [tag for tag in templates if tag in MERCHANT_ACCOUNT_IDS]
    for tag in accounts:
        if templates[tag].get("00") == VNPAY_GUID:
            return "vnpay", templates[tag].get("01")
    return "other", None


def parse_payload(text: str, *, strict_crc: bool = True) -> ParsedPayload:
    """Parse and verify a payload; raise PayloadFormatError naming the position of the first fault."""
    if not isinstance(text, str):
        raise PayloadFormatError(0, f"payload must be text at position 0 (got {type(text).__name__})")
    objects = read_objects(text, 0, len(text), "payload")
    _, given, crc_at = _check_frame(text, objects)
    computed = crc16_hex(text[:crc_at])
    crc_ok = given.upper() == computed
    if not crc_ok and strict_crc:
        raise PayloadFormatError(
            crc_at, f"CRC mismatch at position {crc_at}: payload says {given}, computed {computed}"
        )
    templates = _templates(text, objects)
    top = {tag: value for tag, value, _ in objects}
    positions = {tag: where for tag, _, where in objects}
    scheme, merchant_id = _scheme(templates)
    bin_ = account = service = None
    if scheme == "vietqr":
        napas = templates[NAPAS]
        beneficiary = templates.get("38/01", {})
        bin_, account = beneficiary.get("00"), beneficiary.get("01")
        service = SERVICE_NAMES.get(napas.get("02", "QRPUSH"))
        if service in ("account", "card") and (bin_ is None or account is None):
            where = positions[NAPAS]
            raise PayloadFormatError(
                where, f"NAPAS transfer at position {where} lacks a BIN or account in 38/01"
            )
    initiation = top.get(INITIATION)
    if initiation is not None and initiation not in INITIATION_NAMES:
        where = positions[INITIATION]
        raise PayloadFormatError(where, f"point of initiation must be 11 or 12 at position {where}")
    additional = {ADDITIONAL_NAMES.get(k, f"tag_{k}"): v for k, v in templates.get(ADDITIONAL, {}).items()}
    return ParsedPayload(
        scheme=scheme,
        bin=bin_,
        bank=get_bank(bin_) if bin_ else None,
        account=account,
        service=service,
        initiation=INITIATION_NAMES[initiation] if initiation else None,
        amount=_amount(top.get(AMOUNT), positions.get(AMOUNT, 0)),
        currency=top.get(CURRENCY),
        country=top.get(COUNTRY),
        purpose=additional.get("purpose"),
        additional=additional,
        merchant_name=top.get(MERCHANT_NAME),
        merchant_city=top.get(MERCHANT_CITY),
        crc=given.upper(),
        crc_ok=crc_ok,
        objects=tuple((tag, value) for tag, value, _ in objects),
        category=top.get(CATEGORY),
        merchant_id=merchant_id,
        templates=templates,
    )
