"""Errors raised by the qr package: every one is a ValueError that names what was wrong and where."""

from __future__ import annotations


class VietQRError(ValueError):
    """Base of every error the package raises, so callers can catch one type."""


class FieldError(VietQRError):
    """An input field broke a rule; the message names the field, the rule and the value received."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}: {rule} (got {value!r})")


class PayloadFormatError(VietQRError):
    """A payload could not be read; the message names the 0-based character position of the fault."""

    def __init__(self, position: int, head: str, tail: str = "") -> None:
        self.position = position
        self.head = head
        self.tail = tail
        super().__init__(f"{head} at position {position}{tail}")

    def shifted(self, offset: int) -> PayloadFormatError:
        """Re-anchor an error found inside a template's value to a position in the whole payload."""
        return PayloadFormatError(self.position + offset, self.head, self.tail)


class ImageError(VietQRError):
    """An image was refused before or while decoding; code names the rule, the message says it in Vietnamese.

    Codes are stable machine strings (not_bytes, too_many_bytes, too_many_pixels, not_an_image, unreadable),
    so the web edge and the API can react to the rule without parsing the sentence back.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)
