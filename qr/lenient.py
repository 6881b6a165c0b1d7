"""What the reader tolerates (issue 11): a fault that decides no payee becomes a ParseWarning, not an error.

Real QRs bend EMVCo where nothing is paid: MoMo writes a plain "046" in template 80, TPBank "CLASSIC" in 87,
other countries' schemes write decimal amounts, apps overfill display fields. Refusing those would refuse the
whole QR, so each is noted at its position and its value stays, as written, in ParsedPayload.objects.
"""

from __future__ import annotations

from typing import Final

from .errors import PayloadFormatError
from .parsed import ParseWarning
from .tags import (
    ADDITIONAL,
    ADDITIONAL_NAMES,
    AMOUNT,
    BENEFICIARY,
    BENEFICIARY_BIN,
    CATEGORY,
    COUNTRY,
    CURRENCY,
    INITIATION,
    INITIATION_NAMES,
    MAX_SUBFIELD,
    MERCHANT_CITY,
    MERCHANT_NAME,
    NAPAS,
    POSTAL_CODE,
)
from .tlv import read_objects, value_offset

NOT_A_TEMPLATE: Final = "not_a_template"
INITIATION_UNKNOWN: Final = "initiation_unknown"
AMOUNT_NOT_WHOLE: Final = "amount_not_whole"
LENGTH_OUT_OF_RANGE: Final = "length_out_of_range"
NOT_DIGITS: Final = "not_digits"
UNKNOWN_BIN: Final = "unknown_bin"

# What each warning says, by code; its params are named in the template. A value from the payload (``value``) is
# quoted as a Python literal, so a control character in it stays visible. ``label`` is an object's name below.
TEMPLATES: Final[dict[str, str]] = {
    NOT_A_TEMPLATE: (
        "Trường %(tag)s không chia được thành các trường con (ID, độ dài, giá trị) từ vị trí %(position)s; "
        "giữ nguyên giá trị %(value)s."
    ),
    INITIATION_UNKNOWN: "Trường 01 (cách khởi tạo) là %(value)s, không phải 11 (mã tĩnh) hay 12 (mã động); bỏ qua.",
    AMOUNT_NOT_WHOLE: (
        "Số tiền (trường 54) là %(value)s, không phải số đồng nguyên; mã này không phải VietQR nên số tiền "
        "chỉ được giữ nguyên, không đọc thành số."
    ),
    UNKNOWN_BIN: (
        "BIN %(bin)s (trường %(tag)s) không có trong danh sách ngân hàng NAPAS của ChoQR; hãy kiểm tra ngân hàng."
    ),
    NOT_DIGITS: "Trường %(tag)s (%(label)s) phải là chữ số, nhận %(value)s; vẫn đọc nguyên văn.",
    LENGTH_OUT_OF_RANGE: (
        "Trường %(tag)s (%(label)s) dài %(length)s ký tự, EMVCo quy định %(limit)s; vẫn đọc nguyên văn."
    ),
}
ADDITIONAL_LABEL: Final = "dữ liệu bổ sung"  # object 62's sub-fields, in a warning's ``label``

# Objects ChoQR only displays, with EMVCo's length range and whether they are numeric, and their Vietnamese name.
DISPLAY_RULES: Final = {
    CATEGORY: (4, 4, True, "mã ngành hàng"),
    CURRENCY: (3, 3, True, "mã tiền tệ"),
    COUNTRY: (2, 2, False, "mã quốc gia"),
    MERCHANT_NAME: (1, 25, False, "tên đơn vị nhận"),
    MERCHANT_CITY: (1, 15, False, "thành phố"),
    POSTAL_CODE: (1, 10, False, "mã bưu chính"),
}
# Object 62's text sub-fields (01 bill number .. 08 purpose) are ans..25; 09 and 50-99 follow other rules.
_TEXT_SUBFIELDS: Final = frozenset(tag for tag in ADDITIONAL_NAMES if tag <= "08")

Notes = list[ParseWarning]


def _note(notes: Notes, position: int, tag: str, code: str, /, **params: str | int) -> None:
    """Note one warning in the words of its code (positional-only, so a template may name ``tag`` as a param)."""
    notes.append(ParseWarning(position, tag, code, TEMPLATES[code], params))


def read_template(text: str, tag: str, value: str, notes: Notes) -> dict[str, str] | None:
    """Read a template that names no payee; if it is no list of data objects, note where it breaks and skip it."""
    try:
        return read_objects(value, (tag,))
    except PayloadFormatError as exc:
        position = exc.position + value_offset(text, (tag,))
        _note(notes, position, tag, NOT_A_TEMPLATE, tag=tag, position=position, value=repr(value))
        return None


def read_initiation(text: str, value: str | None, notes: Notes) -> str | None:
    """Name object 01 ('11' static, '12' dynamic); another value is noted and read as unknown (None)."""
    if value is None:
        return None
    name = INITIATION_NAMES.get(value)
    if name is None:
        _note(notes, value_offset(text, (INITIATION,)), INITIATION, INITIATION_UNKNOWN, value=repr(value))
    return name


def note_decimal_amount(text: str, value: str, notes: Notes) -> None:
    """Note an amount with decimals (EMVCo allows "100.00"), which only a scheme other than VietQR may carry."""
    _note(notes, value_offset(text, (AMOUNT,)), AMOUNT, AMOUNT_NOT_WHOLE, value=repr(value))


def note_unknown_bin(text: str, bin_: str, notes: Notes) -> None:
    """Note a well-formed BIN the directory does not know: the bank may be newer than ChoQR's list."""
    path = (NAPAS, BENEFICIARY, BENEFICIARY_BIN)
    tag = "/".join(path)
    _note(notes, value_offset(text, path), tag, UNKNOWN_BIN, bin=bin_, tag=tag)


def note_display_fields(text: str, objects: dict[str, str], additional: dict[str, str] | None, notes: Notes) -> None:
    """Note display-only objects outside their EMVCo length or character class; they are still read whole."""
    for tag, (shortest, longest, numeric, label) in DISPLAY_RULES.items():
        value = objects.get(tag)
        if value is None:
            continue
        if not shortest <= len(value) <= longest:
            _note_length(value_offset(text, (tag,)), tag, label, value, shortest, longest, notes)
        elif numeric and not (value.isascii() and value.isdigit()):
            _note(notes, value_offset(text, (tag,)), tag, NOT_DIGITS, tag=tag, label=label, value=repr(value))
    for sub, value in (additional or {}).items():
        if sub in _TEXT_SUBFIELDS and len(value) > MAX_SUBFIELD:
            position = value_offset(text, (ADDITIONAL, sub))
            _note_length(position, f"{ADDITIONAL}/{sub}", ADDITIONAL_LABEL, value, 1, MAX_SUBFIELD, notes)


def _note_length(position: int, tag: str, label: str, value: str, shortest: int, longest: int, notes: Notes) -> None:
    """Word one out-of-range length the same way for every display field."""
    limit = f"{longest}" if shortest == longest else f"{shortest}–{longest}"
    _note(notes, position, tag, LENGTH_OUT_OF_RANGE, tag=tag, label=label, length=len(value), limit=limit)
