"""File downloads: a Content-Disposition no file name can break (RFC 6266), and never kept by a cache.

Names come from data (market and stall codes, area names): 'Đ-01' is not Latin-1 and cannot go into a header
as it is, and a '"' or ';' would end the parameter early. Every download gets an ASCII ``filename`` made of
``[A-Za-z0-9._-]`` only (diacritics folded, 'Đ' → 'D') for old clients, and ``filename*`` with the name in
UTF-8, percent-encoded, where anything but letters, digits and ``._-`` became '-'.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Final
from urllib.parse import quote

from flask import Response, send_file

FALLBACK: Final = "tai-ve"
MAX_NAME: Final = 150
_D_STROKE: Final = str.maketrans("đĐ", "dD")
_NOT_ASCII_SAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_DASHES: Final = re.compile(r"-{2,}")


def _tidy(name: str) -> str:
    """Runs of '-' made one, no '-' or '.' at either end (no hidden file, no empty stem), cut to MAX_NAME."""
    name = _DASHES.sub("-", name).strip("-.")
    return name[:MAX_NAME].strip("-.")


def ascii_name(name: str) -> str:
    """'bang-qr-CHO/Đ-01 "x".pdf' → 'bang-qr-CHO-D-01-x.pdf': what a header's plain ``filename`` may carry."""
    folded = unicodedata.normalize("NFKD", (name or "").translate(_D_STROKE))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _tidy(_NOT_ASCII_SAFE.sub("-", folded)) or FALLBACK


def unicode_name(name: str) -> str:
    """The name with its Vietnamese letters kept: letters and digits of any script, '.', '_' and '-'."""
    text = unicodedata.normalize("NFC", name or "")
    return _tidy("".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in text)) or FALLBACK


def content_disposition(name: str) -> str:
    """``attachment; filename=…; filename*=UTF-8''…`` for any name, safe in a header as it is."""
    plain, full = ascii_name(name), unicode_name(name)
    value = f"attachment; filename={plain}"  # [A-Za-z0-9._-] are all token characters: no quoting needed
    if full != plain:
        value += f"; filename*=UTF-8''{quote(full, safe='')}"
    return value


def download(body: bytes | Path, name: str, mimetype: str) -> Response:
    """Send bytes or a file as an attachment called ``name``; personal data inside, so no cache may keep it."""
    if isinstance(body, Path):
        resp = send_file(body, mimetype=mimetype, max_age=0, conditional=False, etag=False)
    else:  # a full content type ('text/csv; charset=utf-8') as it is; a bare one gets its charset from Werkzeug
        resp = Response(body, content_type=mimetype) if ";" in mimetype else Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = content_disposition(name)
    resp.headers["Cache-Control"] = "no-store"
    return resp
