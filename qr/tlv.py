"""Read EMVCo data objects (ID, LEN, VALUE) strictly, reporting the exact position of any fault."""

from __future__ import annotations

from .errors import PayloadFormatError

_DIGITS = frozenset("0123456789")
# Valid 4-character headers seen so far -> (id, length); at most 100 x 99 entries, filled on first sight,
# so the hot loop does one dict probe instead of isdigit/isascii/int per object.
_HEADERS: dict[str, tuple[str, int]] = {}


def _header(text: str) -> tuple[str, int] | None:
    """Decode 'IDLL' (two ASCII digits each, length 01-99) once, or return None if it is not a header."""
    if len(text) != 4 or not _DIGITS.issuperset(text) or text[2:] == "00":
        return None
    decoded = _HEADERS[text] = (text[:2], int(text[2:]))
    return decoded


def read_objects(text: str, path: tuple[str, ...] = ()) -> dict[str, str]:
    """Split text into data objects that consume it exactly, in order; path names the template for errors."""
    objects: dict[str, str] = {}
    headers = _HEADERS
    pos = 0
    end = len(text)
    while pos < end:
        raw = text[pos : pos + 4]
        header = headers.get(raw) or _header(raw)
        if header is None:
            raise _header_fault(text, pos, _where(path))
        tag, length = header
        start = pos + 4
        pos = start + length
        if pos > end:
            raise PayloadFormatError(
                start,
                f"object {tag} in {_where(path)}",
                f" says {length} characters but only {end - start} remain",
            )
        if tag in objects:
            raise PayloadFormatError(start - 4, f"object {tag} appears twice in {_where(path)}")
        objects[tag] = text[start:pos]
    return objects


def _where(path: tuple[str, ...]) -> str:
    """Name the payload or template an error is in, e.g. 'object 38/01'."""
    return f"object {'/'.join(path)}" if path else "payload"


def _header_fault(text: str, pos: int, where: str) -> PayloadFormatError:
    """Explain why the 4 characters at pos are not an id and a length."""
    left = len(text) - pos
    if left < 4:
        return PayloadFormatError(pos, f"truncated data object in {where}", f": {left} character(s) left")
    tag = text[pos : pos + 2]
    if not _DIGITS.issuperset(tag):
        return PayloadFormatError(pos, f"object id must be two digits in {where}", f" (got {tag!r})")
    length = text[pos + 2 : pos + 4]
    return PayloadFormatError(pos + 2, f"length of object {tag} must be 01-99 in {where}", f" (got {length!r})")


def value_offset(text: str, path: tuple[str, ...]) -> int:
    """Find where a (nested) object's value starts; only called to word an error, after a clean read."""
    offset = 0
    for tag in path:
        pos = 0
        while text[pos : pos + 2] != tag:
            pos += 4 + int(text[pos + 2 : pos + 4])
        length = int(text[pos + 2 : pos + 4])
        offset += pos + 4
        text = text[pos + 4 : pos + 4 + length]
    return offset
