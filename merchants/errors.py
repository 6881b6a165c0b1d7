"""Domain errors. Each names the field and the rule in Vietnamese, so a view can put it under the field."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the registry refuses; ``field`` is the form field it belongs to, if any."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class InvalidField(DomainError):
    """A value breaks a rule of its field (format, length, checksum)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class Duplicate(DomainError):
    """The value already belongs to another record; ``existing_id`` lets the page link to it."""

    def __init__(self, field: str, message: str, *, existing_id: int) -> None:
        super().__init__(message, field=field)
        self.existing_id = existing_id


class EditConflict(DomainError):
    """Somebody saved the record after this form was opened; nothing was overwritten."""


class NotFound(DomainError):
    """The record does not exist or lies outside the user's communes and markets."""


class Forbidden(DomainError):
    """The user's role does not allow the action."""


class QRNotVerified(DomainError):
    """The rendered QR did not decode back to the payload; it is not counted as issued."""
