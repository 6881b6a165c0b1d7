"""Check an uploaded XLSX package before any XML parser sees it: no Flask, no database.

An .xlsx is a zip of XML parts. A reader (ours in ``merchants/xlsx_read.py``, or openpyxl) would inflate and parse
whatever it holds, so a few hundred kilobytes can expand to gigabytes (a zip bomb, often in
``xl/sharedStrings.xml``, which every reader keeps whole), and a part
may declare a DOCTYPE with entities (XXE, "billion laughs"). Excel never writes either. Checked here, from the
zip's directory and the first bytes of each part only:

- at most ``MAX_ENTRIES`` parts;
- each part at most ``MAX_PART_BYTES`` uncompressed, all of them at most ``MAX_TOTAL_BYTES``;
- no part larger than ``RATIO_FROM`` inflating more than ``MAX_RATIO`` times;
- no DOCTYPE or ENTITY declaration before a part's root element.

Python's zipfile never inflates an entry past the size its directory declares (it fails the CRC instead), so
the declared sizes are a real bound, not a claim to trust.
"""

from __future__ import annotations

import re
import zipfile
from typing import Final

MAX_ENTRIES: Final = 1000
MAX_PART_BYTES: Final = 50 * 1024 * 1024  # a 20,000-row sheet or its shared strings is about 15 MB of XML
MAX_TOTAL_BYTES: Final = 100 * 1024 * 1024
MAX_RATIO: Final = 200  # spreadsheet XML inflates 5-30 times; hundreds of times is padding made to expand
RATIO_FROM: Final = 1024 * 1024
PROLOG_BYTES: Final = 64 * 1024
_ROOT: Final = re.compile(r"<[A-Za-z_]")
_DECLARATION: Final = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention pybabel extracts by default
    """Mark a message for the catalog (the import page translates it when it shows it); no Flask here."""
    return message


TOO_BIG: Final = N_(
    "Tệp .xlsx khi giải nén quá lớn hoặc có quá nhiều phần, không phải một bảng tính bình "
    "thường. Hãy mở bằng Excel, kiểm tra rồi lưu lại, hoặc chia thành nhiều tệp nhỏ hơn."
)
DOCTYPE: Final = N_(
    "Tệp .xlsx có khai báo DOCTYPE/ENTITY trong nội dung XML, điều Excel không bao giờ ghi. "
    "Hãy mở bằng Excel rồi lưu lại dạng .xlsx."
)


class UnsafeArchive(ValueError):
    """The package is refused as a whole; ``message`` says why in the words the import page shows."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(f"{part}: {message}")
        self.message, self.part = message, part


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a package too large, too many-parted, too compressible or declaring a DOCTYPE; see the module."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UnsafeArchive(TOO_BIG, f"{len(infos)} parts")
    total = 0
    for info in infos:
        if info.file_size > MAX_PART_BYTES or _inflates_too_much(info):
            raise UnsafeArchive(TOO_BIG, info.filename)
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise UnsafeArchive(TOO_BIG, info.filename)
    for info in infos:
        if not info.is_dir() and _declares_doctype(archive, info):
            raise UnsafeArchive(DOCTYPE, info.filename)


def _inflates_too_much(info: zipfile.ZipInfo) -> bool:
    if info.file_size < RATIO_FROM:
        return False
    return info.compress_size == 0 or info.file_size / info.compress_size > MAX_RATIO


def _declares_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the part's prolog (before its root element) declares a DOCTYPE or an entity.

    A prolog longer than ``PROLOG_BYTES`` counts as one: Excel's are a single XML declaration line.
    """
    with archive.open(info) as part:
        head = part.read(PROLOG_BYTES)
    text = _text(head)
    if not text.lstrip("\ufeff \t\r\n").startswith("<"):
        return False  # not XML (an image, a printer setting): no parser reads it as such
    root = _ROOT.search(text)
    prolog = text[: root.start()] if root else text
    return bool(_DECLARATION.search(prolog)) or (root is None and len(head) == PROLOG_BYTES)


def _text(head: bytes) -> str:
    """The start of a part as text, also when it is UTF-16 (with or without a BOM), so no encoding hides a DOCTYPE."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4]:
        codec = (
            "utf-16"
            if head.startswith((b"\xff\xfe", b"\xfe\xff"))
            else ("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be")
        )
        return head.decode(codec, errors="ignore")
    return head.decode("utf-8", errors="ignore")
