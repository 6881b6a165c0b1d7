"""Domain errors as data: a code, the field, the value, and a Vietnamese message template with its parameters.

A rule raises ``InvalidField("phone", "Số điện thoại '%(value)s' không phải …", value=typed)``: ``message`` is
the Vietnamese sentence (logs, the CLI, tests), ``template`` and ``params`` let an edge say it in the user's
language (``views.helpers.translated``) without parsing the sentence back. Templates are literals, so
``pybabel extract`` (babel.cfg) collects them for the catalog.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the gettext convention pybabel extracts by default
    """Mark a message template for the catalog without translating it here (rules run outside requests)."""
    return message


class DomainError(Exception):
    """Base of every rule the registry refuses; ``field`` is the form field it belongs to, if any.

    ``code`` names the kind of refusal for machines (the API's ``error.code``); ``value`` is the offending
    value when the rule is about one (never put into logs: it may be a CCCD).
    """

    code: str = "refused"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        self.template = message
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)
        self.value = params.get("value")
        if field is not None:
            self.field = field


class InvalidField(DomainError):
    """A value breaks a rule of its field (format, length, checksum)."""

    code = "invalid"

    def __init__(self, field: str, message: str, **params: Any) -> None:
        super().__init__(message, field=field, **params)


class Duplicate(DomainError):
    """The value already belongs to another record; ``existing_id`` lets the page link to it."""

    code = "duplicate"

    def __init__(self, field: str, message: str, *, existing_id: int, **params: Any) -> None:
        super().__init__(message, field=field, **params)
        self.existing_id = existing_id


class EditConflict(DomainError):
    """Somebody saved the record after this form was opened; nothing was overwritten."""

    code = "edit_conflict"


class NotFound(DomainError):
    """The record does not exist or lies outside the user's communes and markets."""

    code = "not_found"


class Forbidden(DomainError):
    """The user's role does not allow the action."""

    code = "forbidden"


class QRNotVerified(DomainError):
    """The rendered QR did not decode back to the payload; it is not counted as issued."""

    code = "qr_not_verified"
