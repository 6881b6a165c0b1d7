"""Read EMVCo data objects (ID, LEN, VALUE) strictly, reporting the exact position of any fault."""

from __future__ import annotations

from .errors import PayloadFormatError

# (id, value, position of the value's first character in the whole payload)
DataObject = tuple[str, str, int]


def _two_digits(text: str) -> bool:
    """Check an id or length field; str.isdigit alone would accept '²' or Arabic-Indic digits."""
    return text.isdigit() and text.isascii()


def read_objects(text: str, start: int, end: int, where: str) -> list[DataObject]:
    """Split text[start:end] into data objects that consume it exactly, or raise at the faulty position."""
    objects: list[DataObject] = []
    seen: set[str] = set()
    pos = start
    while pos < end:
        if end - pos < 4:
            raise PayloadFormatError(
                pos,
                f"truncated data object in {where} at position {pos}: "
                f"{end - pos} character(s) left where an id and a length need 4",
            )
        tag = text[pos : pos + 2]
        if not _two_digits(tag):
            raise PayloadFormatError(
                pos, f"object id must be two digits in {where} at position {pos} (got {tag!r})"
            )
        length_text = text[pos + 2 : pos + 4]
        if not _two_digits(length_text) or length_text == "00":
            raise PayloadFormatError(
                pos + 2,
                f"length of object {tag} must be 01-99 in {where} at position {pos + 2} "
                f"(got {length_text!r})",
            )
        if tag in seen:
            raise PayloadFormatError(pos, f"object {tag} appears twice in {where} at position {pos}")
        seen.add(tag)
        value_start = pos + 4
        pos = value_start + int(length_text)
        if pos > end:
            raise PayloadFormatError(
                value_start,
                f"object {tag} in {where} at position {value_start} says {int(length_text)} characters "
                f"but only {end - value_start} remain",
            )
        objects.append((tag, text[value_start:pos], value_start))
    return objects
