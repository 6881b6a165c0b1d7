"""Rules for the personal data a household gives: names, phone, CCCD, account numbers and masking."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from merchants.errors import InvalidField
from merchants.limits import max_length
from merchants.models import BankAccount
from qr import fold_ascii

_SPACES = re.compile(r"\s+")
_HOLDER_OK = re.compile(r"^[A-Z][A-Z ]*$")
_PHONE_PREFIXES = re.compile(r"^(3[2-9]|5[25689]|7[06-9]|8[1-9]|9\d)\d{7}$")
_ACCOUNT_OK = re.compile(r"^[A-Za-z0-9]{1,19}$")

# Province-of-birth codes on a CCCD (Circular 59/2021/TT-BCA; the 63 provinces before the 2025 merger,
# still valid on every card issued).
CCCD_PROVINCE_CODES: Final = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 "
    "038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 "
    "080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)


def clean_name(name: str) -> str:
    """Trim and collapse inner whitespace of a person's name, keeping its diacritics."""
    return _SPACES.sub(" ", name or "").strip()


def holder_name_from(owner_name: str) -> str:
    """The account holder name as Vietnamese banks show it: 'Nguyễn Thị Đào' → 'NGUYEN THI DAO'."""
    return _SPACES.sub(" ", fold_ascii(owner_name)).strip()


def normalise_holder_name(value: str) -> str:
    """Validate an account holder name typed or edited by an officer and return it in bank form."""
    folded = holder_name_from(value)
    if not folded:
        raise InvalidField("holder_name", "Tên chủ tài khoản không được để trống.")
    if not _HOLDER_OK.match(folded):
        raise InvalidField("holder_name", "Tên chủ tài khoản chỉ gồm chữ cái và dấu cách (như ngân hàng hiển thị).")
    limit = max_length(BankAccount, "holder_name")
    if len(folded) > limit:
        raise InvalidField("holder_name", "Tên chủ tài khoản dài quá %(limit)s ký tự.", limit=limit)
    return folded


def search_key(*parts: str | None) -> str:
    """Lowercase, accent-free text to match 'dao' against 'Đào' in one LIKE query."""
    return " ".join(fold_ascii(p).lower() for p in parts if p)


def normalise_phone(value: str) -> str:
    """A Vietnamese mobile number in +84 form: '0912 345 678' → '+84912345678'."""
    digits = re.sub(r"[\s.\-()]", "", value or "")
    if digits.startswith("+84"):
        digits = digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    if not digits.isdigit() or not _PHONE_PREFIXES.match(digits):
        raise InvalidField(
            "phone",
            "Số điện thoại '%(value)s' không phải số di động Việt Nam (10 số, bắt đầu 03, 05, 07, 08, 09).",
            value=value,
        )
    return "+84" + digits


def format_phone(stored: str | None) -> str:
    """'+84912345678' → '0912 345 678' for reading aloud at the stall."""
    if not stored:
        return ""
    local = "0" + stored[3:] if stored.startswith("+84") else stored
    return f"{local[:4]} {local[4:7]} {local[7:]}"


def validate_citizen_id(value: str, *, today: date | None = None) -> str:
    """A 12-digit CCCD with a real province-of-birth code and a century digit that fits a birth year."""
    digits = re.sub(r"\s", "", value or "")
    if re.fullmatch(r"\d{9}", digits):
        raise InvalidField(
            "citizen_id", "Số 9 chữ số là CMND cũ; hãy ghi số CCCD 12 chữ số (trên thẻ CCCD hoặc trong ứng dụng VNeID)."
        )
    if not re.fullmatch(r"\d{12}", digits):
        raise InvalidField("citizen_id", "Số CCCD phải gồm đúng 12 chữ số.")
    if digits[:3] not in CCCD_PROVINCE_CODES:
        raise InvalidField(
            "citizen_id", "Số CCCD: mã tỉnh nơi đăng ký khai sinh '%(code)s' không tồn tại.", code=digits[:3]
        )
    century = int(digits[3])
    if century > 3:
        raise InvalidField(
            "citizen_id", "Số CCCD: chữ số thế kỷ/giới tính '%(digit)s' không hợp lệ (0–3).", digit=digits[3]
        )
    year = (1900 if century < 2 else 2000) + int(digits[4:6])
    if year > (today or date.today()).year:
        raise InvalidField("citizen_id", "Số CCCD: năm sinh %(year)s nằm trong tương lai.", year=year)
    return digits


ALIAS_CONFIRM_FIELD: Final = "account_alias"


def normalise_account_number(value: str, *, alias: bool = False) -> str:
    """Bank account or card number without spaces: 1–19 digits.

    Letters are allowed only when the officer confirms that the bank issued an alias account (tài khoản định
    danh such as 'NGUYENVANA'): otherwise one O typed for a 0 prints a placard whose money goes nowhere.
    """
    compact = re.sub(r"[\s.\-]", "", value or "")
    if not _ACCOUNT_OK.match(compact):
        raise InvalidField("account_number", "Số tài khoản phải gồm 1–19 chữ số hoặc chữ cái, không dấu.")
    if not compact.isdigit() and not alias:
        raise InvalidField(
            "account_number",
            "Số tài khoản chỉ gồm chữ số. Nếu ngân hàng đã cấp tài khoản định danh "
            "có chữ, hãy đánh dấu ô xác nhận tài khoản định danh.",
        )
    return compact.upper() if alias else compact


def mask_tail(value: str | None, keep: int = 4, *, sep: str = " ") -> str:
    """Hide all but the last ``keep`` characters: '0011001932418' → '•••• 2418'. The one masking of personal
    numbers (pages, exports, audit trail, logs); a log line takes ``sep=""`` so the request stays one field."""
    if not value:
        return ""
    return "••••" + sep + value[-keep:]
