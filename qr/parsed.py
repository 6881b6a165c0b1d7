"""The result of reading a payload: one frozen record both readers (canonical and general) fill alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .banks import Bank
from .tags import ADDITIONAL_NAMES


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something a payload bends that does not decide who is paid: reported with its position, never refused.

    position is the 0-based index in the payload once surrounding whitespace, NULs and BOM are dropped; tag is
    the object path ("80", "62/08"); code is a stable machine string. The words are data too: ``template`` (a
    Vietnamese ``%(name)s`` sentence, one per code) and ``params`` fill ``message``, so an application can say
    the same warning in its own words and language, keyed by code, without parsing the sentence back.
    """

    position: int
    tag: str
    code: str
    template: str
    params: Mapping[str, str | int] = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        """The warning in Vietnamese: the template with its params put in."""
        return self.template % dict(self.params) if self.params else self.template

    def to_dict(self) -> dict[str, Any]:
        """Give a JSON-ready view, keys as the attribute names."""
        return {"position": self.position, "tag": self.tag, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class ParsedPayload:
    """What a payload says, in the API's names, with the raw top-level objects kept for display."""

    scheme: str
    bin: str | None
    bank: Bank | None
    account: str | None
    service: str | None
    initiation: str | None
    amount: int | None
    currency: str | None
    country: str | None
    purpose: str | None
    additional: dict[str, str]
    merchant_name: str | None
    merchant_city: str | None
    crc: str
    crc_ok: bool
    objects: tuple[tuple[str, str], ...]
    category: str | None = None
    merchant_id: str | None = None
    warnings: tuple[ParseWarning, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Give a JSON-ready view: the bank by short name, objects as [id, value] pairs."""
        return {
            "scheme": self.scheme,
            "bin": self.bin,
            "bank": self.bank.short_name if self.bank else None,
            "account": self.account,
            "service": self.service,
            "initiation": self.initiation,
            "amount": self.amount,
            "currency": self.currency,
            "country": self.country,
            "purpose": self.purpose,
            "additional": dict(self.additional),
            "merchant_name": self.merchant_name,
            "merchant_city": self.merchant_city,
            "category": self.category,
            "merchant_id": self.merchant_id,
            "crc": self.crc,
            "crc_ok": self.crc_ok,
            "objects": [list(pair) for pair in self.objects],
            "warnings": [warning.to_dict() for warning in self.warnings],
        }


_new = object.__new__


def make_parsed(fields: dict[str, Any]) -> ParsedPayload:
    """Build a ParsedPayload from every field by name, skipping the frozen __init__'s per-field setattr.

    Those object.__setattr__ calls cost more than the whole TLV walk; the result equals ParsedPayload(**fields).
    """
    parsed = _new(ParsedPayload)
    parsed.__dict__.update(fields)
    return parsed


def name_additional(subs: dict[str, str]) -> dict[str, str]:
    """Key object 62's sub-fields by API name (bill_number, purpose, ...); unknown ids become tag_NN."""
    return {ADDITIONAL_NAMES.get(tag) or f"tag_{tag}": value for tag, value in subs.items()}
