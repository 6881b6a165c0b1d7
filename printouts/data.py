"""The plain data one stall placard shows, kept free of the database so the renderer stays pure."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields

from .errors import PlacardFieldError

_REQUIRED = ("market_name", "stall_code", "holder_name", "bank_short_name", "account_masked", "payload", "serial")


@dataclass(frozen=True)
class PlacardData:
    """Everything printed on one placard; holder_name exactly as the bank shows it (e.g. "NGUYEN THI DAO")."""

    market_name: str
    stall_code: str
    holder_name: str
    bank_short_name: str
    account_masked: str
    payload: str
    serial: str
    issued_on: datetime.date
    owner_name: str = ""
    goods: str = ""
    sample: bool = False
    qr_modules: str = ""  # the issued symbol packed by qr.pack_matrix; empty: encode the payload here

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "issued_on":
                if not isinstance(value, datetime.date):
                    raise PlacardFieldError("issued_on", value, "must be a date")
            elif field.name == "sample":
                if not isinstance(value, bool):
                    raise PlacardFieldError("sample", value, "must be True or False")
            elif not isinstance(value, str):
                raise PlacardFieldError(field.name, value, "must be text")
            elif field.name in _REQUIRED and not value.strip():
                raise PlacardFieldError(field.name, value, "must not be blank")
