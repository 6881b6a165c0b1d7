"""Read any EMVCo merchant-presented payload strictly and say what it is: VietQR transfer, VNPay or other."""

from __future__ import annotations

from binascii import crc_hqx

from .banks import get_bank
from .canonical import read_canonical
from .crc import CRC_INIT
from .errors import PayloadFormatError
from .parsed import ParsedPayload, make_parsed, name_additional
from .tags import (
    ADDITIONAL,
    AMOUNT,
    BENEFICIARY,
    BENEFICIARY_ACCOUNT,
    BENEFICIARY_BIN,
    CATEGORY,
    COUNTRY,
    CRC,
    CURRENCY,
    FORMAT_VERSION,
    GUID,
    INITIATION,
    INITIATION_NAMES,
    MERCHANT_ACCOUNT_IDS,
    MERCHANT_CITY,
    MERCHANT_NAME,
    NAPAS,
    NAPAS_GUID,
    PAYLOAD_FORMAT,
    SERVICE,
    SERVICE_NAMES,
    TEMPLATE_IDS,
    VNPAY_GUID,
)
from .tlv import read_objects, value_offset

__all__ = ["ParsedPayload", "parse_payload"]

_HEX = frozenset("0123456789abcdefABCDEF")
_BENEFICIARY = f"{NAPAS}/{BENEFICIARY}"
_TRANSFER_SERVICES = frozenset(("account", "card"))


def parse_payload(text: str, *, strict_crc: bool = True) -> ParsedPayload:
    """Parse and verify a payload; raise PayloadFormatError naming the position of the first fault."""
    if type(text) is not str:
        raise PayloadFormatError(0, f"payload must be text, not {type(text).__name__}")
    return read_canonical(text) or _read_general(text, strict_crc)


def _read_general(text: str, strict_crc: bool) -> ParsedPayload:
    """Read any tag order, unknown tags and other schemes, checking every template fully."""
    objects = read_objects(text)
    given = _check_frame(text, objects)
    computed = f"{crc_hqx(text[:-4].encode('utf-8', 'surrogatepass'), CRC_INIT):04X}"
    crc_ok = given.upper() == computed
    if not crc_ok and strict_crc:
        raise PayloadFormatError(len(text) - 4, "CRC mismatch", f": payload says {given}, computed {computed}")
    templates = _read_templates(text, objects)

    bin_ = account = service = merchant_id = None
    napas = templates.get(NAPAS)
    if napas is not None and napas.get(GUID) == NAPAS_GUID:
        scheme = "vietqr"
        beneficiary = templates.get(_BENEFICIARY, {})
        bin_, account = beneficiary.get(BENEFICIARY_BIN), beneficiary.get(BENEFICIARY_ACCOUNT)
        service = SERVICE_NAMES.get(napas.get(SERVICE, "QRPUSH"))  # no service code means a merchant payment
        if service in _TRANSFER_SERVICES and (bin_ is None or account is None):
            raise _fault(text, NAPAS, "NAPAS transfer lacks a BIN or an account in 38/01")
    else:
        scheme, merchant_id = _other_scheme(templates)
    additional = name_additional(templates.get(ADDITIONAL, {}))
    return make_parsed(
        {
            "scheme": scheme,
            "bin": bin_,
            "bank": get_bank(bin_) if bin_ else None,
            "account": account,
            "service": service,
            "initiation": _initiation(text, objects.get(INITIATION)),
            "amount": _amount(text, objects.get(AMOUNT)),
            "currency": objects.get(CURRENCY),
            "country": objects.get(COUNTRY),
            "purpose": additional.get("purpose"),
            "additional": additional,
            "merchant_name": objects.get(MERCHANT_NAME),
            "merchant_city": objects.get(MERCHANT_CITY),
            "crc": given.upper(),
            "crc_ok": crc_ok,
            "objects": tuple(objects.items()),
            "category": objects.get(CATEGORY),
            "merchant_id": merchant_id,
        }
    )


def _check_frame(text: str, objects: dict[str, str]) -> str:
    """Enforce 00 = '01' first and 63 (4 hex digits) last; return the CRC as written."""
    if not objects:
        raise PayloadFormatError(0, "empty payload: object 00 missing")
    if next(iter(objects)) != PAYLOAD_FORMAT:
        raise PayloadFormatError(0, "object 00 (payload format) must come first")
    if objects[PAYLOAD_FORMAT] != FORMAT_VERSION:
        raise PayloadFormatError(4, "payload format (object 00) must be '01'", f" (got {objects['00']!r})")
    if next(reversed(objects)) != CRC:
        if CRC in objects:
            raise PayloadFormatError(value_offset(text, (CRC,)) - 4, "object 63 (CRC) must be last, found")
        raise PayloadFormatError(len(text), "object 63 (CRC) missing: payload ends")
    given = objects[CRC]
    if len(given) != 4 or not _HEX.issuperset(given):
        raise PayloadFormatError(len(text) - len(given), "CRC must be 4 hex digits", f" (got {given!r})")
    return given


def _read_templates(text: str, objects: dict[str, str]) -> dict[str, dict[str, str]]:
    """Read every template fully (and NAPAS 38/01 inside it), so a lying length cannot hide a fault."""
    templates: dict[str, dict[str, str]] = {}
    path: tuple[str, ...] = ()
    try:
        for tag, value in objects.items():
            if tag in TEMPLATE_IDS:
                path = (tag,)
                templates[tag] = read_objects(value, path)
        napas = templates.get(NAPAS)
        if napas is not None and BENEFICIARY in napas and napas.get(GUID) == NAPAS_GUID:
            path = (NAPAS, BENEFICIARY)
            templates[_BENEFICIARY] = read_objects(napas[BENEFICIARY], path)
    except PayloadFormatError as exc:
        raise exc.shifted(value_offset(text, path)) from None
    return templates


def _other_scheme(templates: dict[str, dict[str, str]]) -> tuple[str, str | None]:
    """Tell VNPay (GUID A000000775, merchant id in 01) from every other merchant account scheme."""
    for tag, subs in templates.items():
        if tag in MERCHANT_ACCOUNT_IDS and subs.get(GUID) == VNPAY_GUID:
            return "vnpay", subs.get(BENEFICIARY)
    return "other", None


def _initiation(text: str, value: str | None) -> str | None:
    """Name object 01 ('11' static, '12' dynamic); any other value is a fault."""
    if value is None:
        return None
    name = INITIATION_NAMES.get(value)
    if name is None:
        raise _fault(text, INITIATION, "point of initiation must be 11 or 12", f" (got {value!r})")
    return name


def _amount(text: str, value: str | None) -> int | None:
    """Read object 54 as whole dong; VND has no decimals and this reader returns int only."""
    if value is None:
        return None
    if not (value.isdigit() and value.isascii()):
        raise _fault(text, AMOUNT, "amount must be digits only", f" (got {value!r})")
    return int(value)


def _fault(text: str, tag: str, head: str, tail: str = "") -> PayloadFormatError:
    """Word a fault in a top-level object's value, positioned at that value."""
    return PayloadFormatError(value_offset(text, (tag,)), head, tail)
