"""Build VietQR transfer payloads: validated data first, the exact string second, rendering elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .crc import crc16_hex
from .errors import FieldError
from .rules import check_account, check_amount, check_ascii, check_bin, check_folded, check_service
from .tags import (
    COUNTRY,
    CRC_HEADER,
    CURRENCY,
    DYNAMIC,
    INITIATION,
    MAX_VALUE,
    NAPAS_GUID,
    SERVICE_CODES,
    STATIC,
    VIETNAM,
    VND,
    Service,
)

# Everything before object 38 and between 38 and 54 is constant for a transfer QR.
_HEAD_STATIC = f"000201{INITIATION}02{STATIC}"
_HEAD_DYNAMIC = f"000201{INITIATION}02{DYNAMIC}"
_GUID_OBJECT = f"0010{NAPAS_GUID}"
_SERVICE_OBJECTS = {name: f"02{len(code):02d}{code}" for name, code in SERVICE_CODES.items()}
_CURRENCY_OBJECT = f"{CURRENCY}03{VND}"
_COUNTRY_OBJECT = f"{COUNTRY}02{VIETNAM}"
# Object 62 sub-field ids for bill_number, mobile, store, reference, customer, terminal, purpose (loyalty
# and consumer data request are for merchants, not household transfers).
_SUB_IDS = ("01", "02", "03", "05", "06", "07", "08")
ADDITIONAL_RULE = f"sub-fields together must fit in {MAX_VALUE} characters of object 62"


@dataclass(frozen=True, slots=True)
class TransferData:
    """A validated transfer QR's content, kept apart from its payload string so tests can inspect it."""

    bin: str
    account: str
    service: Service = "account"
    amount: int | None = None
    purpose: str | None = None
    bill_number: str | None = None
    reference: str | None = None
    store: str | None = None
    terminal: str | None = None
    mobile: str | None = None
    customer: str | None = None

    @property
    def initiation(self) -> Literal["static", "dynamic"]:
        """Static QRs are reusable placards; an amount makes a one-payment dynamic QR."""
        return "static" if self.amount is None else "dynamic"

    @property
    def additional(self) -> str:
        """Object 62's value (sub-fields in ascending id order), empty when no sub-field is set."""
        values = (self.bill_number, self.mobile, self.store, self.reference, self.customer, self.terminal, self.purpose)
        return "".join([f"{tag}{len(value):02d}{value}" for tag, value in zip(_SUB_IDS, values, strict=True) if value])

    @property
    def payload(self) -> str:
        """The exact EMVCo string, objects in ascending id order, closed by its CRC."""
        account = self.account
        beneficiary = f"0006{self.bin}01{len(account):02d}{account}"
        napas = f"{_GUID_OBJECT}01{len(beneficiary):02d}{beneficiary}{_SERVICE_OBJECTS[self.service]}"
        amount = self.amount
        if amount is None:
            body = f"{_HEAD_STATIC}38{len(napas):02d}{napas}{_CURRENCY_OBJECT}{_COUNTRY_OBJECT}"
        else:
            digits = str(amount)
            body = (
                f"{_HEAD_DYNAMIC}38{len(napas):02d}{napas}{_CURRENCY_OBJECT}"
                f"54{len(digits):02d}{digits}{_COUNTRY_OBJECT}"
            )
        additional = self.additional
        if additional:
            body = f"{body}62{len(additional):02d}{additional}"
        body += CRC_HEADER
        return body + crc16_hex(body)


def transfer_data(
    *,
    bin: str,
    account: str,
    service: str = "account",
    amount: int | None = None,
    purpose: str | None = None,
    bill_number: str | None = None,
    reference: str | None = None,
    store: str | None = None,
    terminal: str | None = None,
    mobile: str | None = None,
    customer: str | None = None,
) -> TransferData:
    """Validate and fold every field, so a TransferData always yields a payload banks accept."""
    data = TransferData(
        bin=check_bin(bin),
        account=check_account(account),
        service=check_service(service),
        amount=check_amount(amount),
        purpose=check_folded("purpose", purpose),
        bill_number=check_ascii("bill_number", bill_number),
        reference=check_ascii("reference", reference),
        store=check_ascii("store", store),
        terminal=check_ascii("terminal", terminal),
        mobile=check_ascii("mobile", mobile),
        customer=check_folded("customer", customer),
    )
    if purpose or customer or bill_number or reference or store or terminal or mobile:
        additional = data.additional
        if len(additional) > MAX_VALUE:
            raise FieldError("additional_data", additional, ADDITIONAL_RULE)
    return data


def build_payload(
    *,
    bin: str,
    account: str,
    service: str = "account",
    amount: int | None = None,
    purpose: str | None = None,
    bill_number: str | None = None,
    reference: str | None = None,
    store: str | None = None,
    terminal: str | None = None,
    mobile: str | None = None,
    customer: str | None = None,
) -> str:
    """Validate the fields and return the payload string in one call."""
    return transfer_data(
        bin=bin,
        account=account,
        service=service,
        amount=amount,
        purpose=purpose,
        bill_number=bill_number,
        reference=reference,
        store=store,
        terminal=terminal,
        mobile=mobile,
        customer=customer,
    ).payload
