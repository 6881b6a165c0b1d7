"""Read any EMVCo merchant-presented payload and say what it is: VietQR transfer, VNPay or other.

The reading rule (issue 11): a payload whose frame and CRC are right is read whole. What decides who is paid
(object 38: GUID, BIN, account, service code) and a VietQR's amount are checked strictly and refused with a
PayloadFormatError naming the position; every other oddity becomes a ParseWarning (see lenient.py).
"""

from __future__ import annotations

from .banks import get_bank
from .canonical import read_canonical
from .crc import crc16_hex
from .errors import PayloadFormatError
from .lenient import note_decimal_amount, note_display_fields, note_unknown_bin, read_initiation, read_template
from .parsed import ParsedPayload, ParseWarning, make_parsed, name_additional
from .rules import MAX_ACCOUNT
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
from .text import strip_edges
from .tlv import read_objects, value_offset

__all__ = ["ParsedPayload", "parse_payload"]

_HEX = frozenset("0123456789abcdefABCDEF")
_BENEFICIARY = f"{NAPAS}/{BENEFICIARY}"
_TRANSFER_SERVICES = frozenset(("account", "card"))
_BIN_PATH = (NAPAS, BENEFICIARY, BENEFICIARY_BIN)
_ACCOUNT_PATH = (NAPAS, BENEFICIARY, BENEFICIARY_ACCOUNT)
SERVICE_RULE = "service code in 38/02 must be QRIBFTTA, QRIBFTTC, QRPUSH or QRCASH"
BIN_RULE = "BIN in 38/01/00 must be 6 digits"
ACCOUNT_RULE = f"account in 38/01/01 must be 1-{MAX_ACCOUNT} letters or digits"


def parse_payload(text: str, *, strict_crc: bool = True) -> ParsedPayload:
    """Parse and verify a payload; raise PayloadFormatError naming the position of the first fault.

    Surrounding whitespace, NULs and a BOM are dropped first (scanners, files and shells add them), so
    positions count from the first character kept.
    """
    if type(text) is not str:
        raise PayloadFormatError(0, f"payload must be text, not {type(text).__name__}")
    text = strip_edges(text)
    return read_canonical(text) or _read_general(text, strict_crc)


def _read_general(text: str, strict_crc: bool) -> ParsedPayload:
    """Read any tag order, unknown tags and other schemes; strict on the payee, lenient (noted) elsewhere."""
    objects = read_objects(text)
    given = _check_frame(text, objects)
    computed = crc16_hex(text[:-4])
    crc_ok = given.upper() == computed
    if not crc_ok and strict_crc:
        raise PayloadFormatError(len(text) - 4, "CRC mismatch", f": payload says {given}, computed {computed}")
    notes: list[ParseWarning] = []
    templates = _read_templates(text, objects, notes)

    bin_ = account = service = merchant_id = None
    napas = templates.get(NAPAS)
    if napas is not None and napas.get(GUID) == NAPAS_GUID:
        scheme = "vietqr"
        bin_, account, service = _payee(text, napas, templates.get(_BENEFICIARY, {}), notes)
    else:
        scheme, merchant_id = _other_scheme(templates)
    subs = templates.get(ADDITIONAL)
    note_display_fields(text, objects, subs, notes)
    additional = name_additional(subs or {})
    return make_parsed(
        {
            "scheme": scheme,
            "bin": bin_,
            "bank": get_bank(bin_) if bin_ else None,
            "account": account,
            "service": service,
            "initiation": read_initiation(text, objects.get(INITIATION), notes),
            "amount": _amount(text, objects.get(AMOUNT), scheme, notes),
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
            "warnings": tuple(sorted(notes, key=lambda note: note.position)),
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


def _read_templates(text: str, objects: dict[str, str], notes: list[ParseWarning]) -> dict[str, dict[str, str]]:
    """Read every template; 38 and NAPAS 38/01 strictly (a lying length there could hide the payee), others noted."""
    templates: dict[str, dict[str, str]] = {}
    for tag, value in objects.items():
        if tag == NAPAS:
            templates[tag] = _read_strictly(text, value, (NAPAS,))
        elif tag in TEMPLATE_IDS:
            subs = read_template(text, tag, value, notes)
            if subs is not None:
                templates[tag] = subs
    napas = templates.get(NAPAS)
    if napas is not None and BENEFICIARY in napas and napas.get(GUID) == NAPAS_GUID:
        templates[_BENEFICIARY] = _read_strictly(text, napas[BENEFICIARY], (NAPAS, BENEFICIARY))
    return templates


def _read_strictly(text: str, value: str, path: tuple[str, ...]) -> dict[str, str]:
    """Read a template that names the payee; a fault in it refuses the payload, positioned in the whole text."""
    try:
        return read_objects(value, path)
    except PayloadFormatError as exc:
        raise exc.shifted(value_offset(text, path)) from None


def _payee(
    text: str, napas: dict[str, str], beneficiary: dict[str, str], notes: list[ParseWarning]
) -> tuple[str | None, str | None, str | None]:
    """Check who a NAPAS QR pays: a known service code and, for a transfer, a 6-digit BIN and a plain account."""
    code = napas.get(SERVICE, "QRPUSH")  # no service code means a merchant payment
    service = SERVICE_NAMES.get(code)
    if service is None:
        raise _fault(text, (NAPAS, SERVICE), SERVICE_RULE, f" (got {code!r})")
    bin_, account = beneficiary.get(BENEFICIARY_BIN), beneficiary.get(BENEFICIARY_ACCOUNT)
    if service in _TRANSFER_SERVICES:
        if bin_ is None or account is None:
            raise _fault(text, (NAPAS,), "NAPAS transfer lacks a BIN or an account in 38/01")
        if not (len(bin_) == 6 and bin_.isascii() and bin_.isdigit()):
            raise _fault(text, _BIN_PATH, BIN_RULE, f" (got {bin_!r})")
        if not (len(account) <= MAX_ACCOUNT and account.isascii() and account.isalnum()):
            raise _fault(text, _ACCOUNT_PATH, ACCOUNT_RULE, f" (got {account!r})")
        if get_bank(bin_) is None:
            note_unknown_bin(text, bin_, notes)
    return bin_, account, service


def _other_scheme(templates: dict[str, dict[str, str]]) -> tuple[str, str | None]:
    """Tell VNPay (GUID A000000775, merchant id in 01) from every other merchant account scheme."""
    for tag, subs in templates.items():
        if tag in MERCHANT_ACCOUNT_IDS and subs.get(GUID) == VNPAY_GUID:
            return "vnpay", subs.get(BENEFICIARY)
    return "other", None


def _amount(text: str, value: str | None, scheme: str, notes: list[ParseWarning]) -> int | None:
    """Read object 54 as whole dong; decimals refuse a VietQR (VND has none) but are only noted elsewhere."""
    if value is None:
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    if scheme == "vietqr":
        raise _fault(text, (AMOUNT,), "amount must be digits only", f" (got {value!r})")
    note_decimal_amount(text, value, notes)
    return None


def _fault(text: str, path: tuple[str, ...], head: str, tail: str = "") -> PayloadFormatError:
    """Word a fault in an object's value (nested by path), positioned at that value."""
    return PayloadFormatError(value_offset(text, path), head, tail)
