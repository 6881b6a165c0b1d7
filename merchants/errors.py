"""Domain errors as data: a code, the field, the value, and a Vietnamese message template with its parameters.

A rule raises ``InvalidField("phone", "Số điện thoại '%(value)s' không phải …", value=typed)``: ``message`` is
the Vietnamese sentence (logs, the CLI, tests), ``template`` and ``params`` let an edge say it in the user's
language (``views.helpers.translated``) without parsing the sentence back. Templates are literals, so
``pybabel extract`` (babel.cfg) collects them for the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the gettext convention pybabel extracts by default
    """Mark a message template for the catalog without translating it here (rules run outside requests)."""
    return message


class Phrase:
    """A part of a message that is translated with it: a Vietnamese template and its params.

    A rule passes one as a param when the part is words, not data: a column's label, one of several faults of a
    file (``Phrase.joined``). ``str()`` gives the Vietnamese text (the filled ``message``); ``translated`` at the
    web edge says each phrase in the user's language before putting it into the message that holds it.
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params = params

    @classmethod
    def joined(cls, parts: Sequence[Phrase | str], sep: str = ", ") -> Phrase:
        """Several parts as one ('Tên chợ, Địa chỉ'): each phrase translated on its own, plain text kept."""
        return cls(sep.join(f"%(p{i})s" for i in range(len(parts))), **{f"p{i}": p for i, p in enumerate(parts)})

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.template, self.params) == (other.template, other.params)

    __hash__ = None  # type: ignore[assignment]  # params are a dict

    def __repr__(self) -> str:
        return f"Phrase({self.template!r}, **{self.params!r})"

    @classmethod
    def of(cls, exc: DomainError) -> Phrase:
        """A rule's refusal as a phrase, to keep (a failed job's reason) and say later."""
        return cls(exc.template, **exc.params)

    @classmethod
    def loads(cls, text: str | None) -> Phrase | None:
        """A phrase ``to_json`` stored; None for an empty column (a row written before reasons were data)."""
        found = from_json(text) if text else None
        return found if isinstance(found, Phrase) else None


def to_json(value: Any) -> str:
    """JSON of a value that may hold phrases (a reason stored now and said in the reader's language later, an
    import's report); ``from_json`` gives the phrases back."""
    return json.dumps(value, ensure_ascii=False, default=_plain)


def from_json(text: str) -> Any:
    return json.loads(text, object_hook=_phrase)


def _plain(value: Any) -> Any:
    return {"phrase": value.template, "params": value.params} if isinstance(value, Phrase) else str(value)


def _phrase(data: dict[str, Any]) -> Any:
    return Phrase(data["phrase"], **data["params"]) if data.keys() == {"phrase", "params"} else data


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
