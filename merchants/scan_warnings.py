"""A scanned QR's warnings in the reader's language.

The ``qr`` library is pure (no catalog): each ``ParseWarning`` carries a code, a Vietnamese template and params.
Here each code has its catalog template, so the web edge says it with ``translated`` like any rule's message; a
code this table does not know yet keeps the library's own (Vietnamese) sentence rather than failing.
"""

from __future__ import annotations

from typing import Final

from merchants.errors import N_, Phrase
from qr import ParseWarning
from qr.lenient import (
    AMOUNT_NOT_WHOLE,
    INITIATION_UNKNOWN,
    LENGTH_OUT_OF_RANGE,
    NOT_A_TEMPLATE,
    NOT_DIGITS,
    UNKNOWN_BIN,
)

# The params are the library's (see ``qr.lenient.TEMPLATES``): the same names, whatever the wording.
TEMPLATES: Final[dict[str, str]] = {
    NOT_A_TEMPLATE: N_(
        "Trường %(tag)s không chia được thành các trường con (ID, độ dài, giá trị) từ vị trí %(position)s; "
        "giữ nguyên giá trị %(value)s."
    ),
    INITIATION_UNKNOWN: N_("Trường 01 (cách khởi tạo) là %(value)s, không phải 11 (mã tĩnh) hay 12 (mã động); bỏ qua."),
    AMOUNT_NOT_WHOLE: N_(
        "Số tiền (trường 54) là %(value)s, không phải số đồng nguyên; mã này không phải VietQR nên số tiền "
        "chỉ được giữ nguyên, không đọc thành số."
    ),
    UNKNOWN_BIN: N_(
        "BIN %(bin)s (trường %(tag)s) không có trong danh sách ngân hàng NAPAS của ChoQR; hãy kiểm tra ngân hàng."
    ),
    NOT_DIGITS: N_("Trường %(tag)s (%(label)s) phải là chữ số, nhận %(value)s; vẫn đọc nguyên văn."),
    LENGTH_OUT_OF_RANGE: N_(
        "Trường %(tag)s (%(label)s) dài %(length)s ký tự, EMVCo quy định %(limit)s; vẫn đọc nguyên văn."
    ),
}
# The objects' names the library puts in a warning's ``label`` (``qr.lenient.DISPLAY_RULES``), for the catalog.
LABELS: Final = (
    N_("mã ngành hàng"),
    N_("mã tiền tệ"),
    N_("mã quốc gia"),
    N_("tên đơn vị nhận"),
    N_("thành phố"),
    N_("mã bưu chính"),
    N_("dữ liệu bổ sung"),
)


def phrase(warning: ParseWarning) -> Phrase:
    """The warning as a catalog phrase (its object's name a phrase of its own), to be said in the reader's language."""
    params: dict[str, object] = dict(warning.params)
    if isinstance(label := params.get("label"), str):
        params["label"] = Phrase(label)
    return Phrase(TEMPLATES.get(warning.code, warning.template), **params)
