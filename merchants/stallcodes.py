"""Stall codes (mã sạp / ki-ốt): one rule for every entry point — forms, imports, the API and the CLI.

A code is what is painted on the stall ("A-001", "K-65", "T1/12"): letters, digits and the separators
``-``, ``.`` and ``/``, at most the model's length. Codes are compared and stored in upper case, so "a-001"
typed on a tablet is the stall "A-001" and a spreadsheet cannot create both.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from merchants.errors import N_, InvalidField, Phrase
from merchants.models import Stall

MAX_RANGE: Final = 2000  # one range is a market's row of stalls, not a typo of an extra digit
SEPARATORS: Final = "-./"
_RANGE = re.compile(r"^\s*(?P<a>\S+?)\s*(?:\.\.|…|–|—)\s*(?P<b>\S+)\s*$")
_TRAILING_NUMBER = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def _max_length() -> int:
    for item in Stall.model_fields["code"].metadata:
        if getattr(item, "max_length", None):
            return int(item.max_length)
    return 20


def clean_stall_code(text: str, *, field: str = "stall_code") -> str:
    """The stored form of a stall code, or an ``InvalidField`` naming what is wrong with it."""
    code = unicodedata.normalize("NFC", (text or "").strip()).upper()
    if not code:
        raise InvalidField(field, "Mã sạp không được để trống.")
    limit = _max_length()
    if len(code) > limit:
        raise InvalidField(field, "Mã sạp '%(code)s' dài quá %(limit)s ký tự.", code=code, limit=limit)
    bad = sorted({ch for ch in code if not (ch.isalnum() or ch in SEPARATORS)})
    if bad:
        shown = Phrase.joined([Phrase(N_("dấu cách")) if ch.isspace() else repr(ch) for ch in bad], " ")
        raise InvalidField(
            field,
            "Mã sạp '%(code)s' có ký tự không dùng được (%(shown)s); chỉ dùng chữ, số và các dấu - . /",
            code=code,
            shown=shown,
        )
    if not code[0].isalnum():
        raise InvalidField(field, "Mã sạp '%(code)s' phải bắt đầu bằng chữ hoặc số.", code=code)
    return code


def split_codes(text: str, *, field: str = "stall_code") -> list[str]:
    """'A-001, A-002; a-002' → ['A-001', 'A-002']: a list typed or imported, cleaned, duplicates folded."""
    out: list[str] = []
    for part in re.split(r"[,;\n]", text or ""):
        if part.strip():
            code = clean_stall_code(part, field=field)
            if code not in out:
                out.append(code)
    return out


def expand_range(text: str, *, field: str = "range") -> list[str]:
    """'A-001..A-120' (or 'A-001…A-120') → the 120 codes, keeping the zero padding; a single code → [code].

    Both ends share their prefix; the numbers are counted up, at most ``MAX_RANGE`` codes at once.
    """
    match = _RANGE.match(text or "")
    if not match:
        return [clean_stall_code(text, field=field)]
    first, last = clean_stall_code(match["a"], field=field), clean_stall_code(match["b"], field=field)
    a, b = _TRAILING_NUMBER.match(first), _TRAILING_NUMBER.match(last)
    if not a or not b:
        raise InvalidField(
            field,
            "Dãy '%(first)s..%(last)s': cả hai đầu phải kết thúc bằng số (ví dụ A-001..A-120).",
            first=first,
            last=last,
        )
    if a["prefix"] != b["prefix"]:
        raise InvalidField(
            field,
            "Dãy '%(first)s..%(last)s': hai đầu phải cùng phần đầu ('%(a)s' khác '%(b)s').",
            first=first,
            last=last,
            a=a["prefix"],
            b=b["prefix"],
        )
    start, end = int(a["number"]), int(b["number"])
    if end < start:
        raise InvalidField(field, "Dãy '%(first)s..%(last)s': số cuối nhỏ hơn số đầu.", first=first, last=last)
    if end - start + 1 > MAX_RANGE:
        raise InvalidField(
            field,
            "Dãy '%(first)s..%(last)s' có %(count)s sạp; tối đa %(limit)s sạp một lần.",
            first=first,
            last=last,
            count=end - start + 1,
            limit=MAX_RANGE,
        )
    width = len(a["number"]) if a["number"].startswith("0") else 0
    codes = [f"{a['prefix']}{n:0{width}d}" for n in range(start, end + 1)]
    return [clean_stall_code(c, field=field) for c in codes]
