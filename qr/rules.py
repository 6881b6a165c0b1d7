"""Field rules for a transfer QR: each check returns the clean value or raises a FieldError."""

from __future__ import annotations

from typing import Final

from .banks import get_bank
from .errors import FieldError
from .tags import MAX_AMOUNT_DIGITS, MAX_SUBFIELD, SERVICE_CODES, Service
from .text import fold_ascii

MAX_ACCOUNT = 19
MAX_AMOUNT = 10**MAX_AMOUNT_DIGITS - 1

ACCOUNT_RULE = f"must be 1-{MAX_ACCOUNT} characters of A-Z, a-z, 0-9"
BIN_RULE = "must be the 6-digit BIN of a bank in the NAPAS directory"
SERVICE_RULE = "must be 'account' or 'card'"
AMOUNT_RULE = f"must be a whole number of dong from 1 to {MAX_AMOUNT_DIGITS} digits"
TEXT_RULE = "must be text"
ASCII_RULE = "must be printable ASCII (space to ~)"
LENGTH_RULE = f"must be at most {MAX_SUBFIELD} characters"
FOLDED_LENGTH_RULE = f"must be at most {MAX_SUBFIELD} characters after folding to ASCII"

_SERVICES: Final[dict[str, Service]] = {name: name for name in SERVICE_CODES}  # a str lookup giving the literal


def check_bin(value: object) -> str:
    """Accept only BINs the directory knows: a typo here sends money to another bank's customer."""
    if type(value) is not str or get_bank(value) is None:
        raise FieldError("bin", value, BIN_RULE)
    return value


def check_account(value: object) -> str:
    """Accept 1-19 letters and digits, the only characters NAPAS allows in 38/01/01."""
    if type(value) is not str or not (0 < len(value) <= MAX_ACCOUNT and value.isascii() and value.isalnum()):
        raise FieldError("account", value, ACCOUNT_RULE)
    return value


def check_service(value: object) -> Service:
    """Accept the two transfer services; the parser alone knows push and cash."""
    service = _SERVICES.get(value) if type(value) is str else None
    if service is None:
        raise FieldError("service", value, SERVICE_RULE)
    return service


def check_amount(value: object) -> int | None:
    """Accept None or a positive int of at most 13 digits; 0 and floats are traps other libraries fell in."""
    if value is None:
        return None
    if type(value) is not int or not 0 < value <= MAX_AMOUNT:
        raise FieldError("amount", value, AMOUNT_RULE)
    return value


def check_ascii(field: str, value: object) -> str | None:
    """Accept an identifier (bill, store, ...) as printable ASCII of at most 25 characters; blank is none."""
    if value is None:
        return None
    if type(value) is not str:
        raise FieldError(field, value, TEXT_RULE)
    clean = value.strip()
    if not (clean.isascii() and clean.isprintable()):
        raise FieldError(field, value, ASCII_RULE)
    if len(clean) > MAX_SUBFIELD:
        raise FieldError(field, value, LENGTH_RULE)
    return clean or None


def check_folded(field: str, value: object) -> str | None:
    """Fold free text (purpose, customer) to uppercase ASCII, then hold it to 25 characters; blank is none."""
    if value is None:
        return None
    if type(value) is not str:
        raise FieldError(field, value, TEXT_RULE)
    folded = fold_ascii(value)
    if len(folded) > MAX_SUBFIELD:
        raise FieldError(field, value, FOLDED_LENGTH_RULE)
    return folded or None
