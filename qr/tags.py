"""Named EMVCo/NAPAS object ids and constant values, so builders and readers share one vocabulary."""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

PAYLOAD_FORMAT: Final = "00"
INITIATION: Final = "01"
NAPAS: Final = "38"
CATEGORY: Final = "52"
CURRENCY: Final = "53"
AMOUNT: Final = "54"
COUNTRY: Final = "58"
MERCHANT_NAME: Final = "59"
MERCHANT_CITY: Final = "60"
POSTAL_CODE: Final = "61"
ADDITIONAL: Final = "62"
CRC: Final = "63"

# Sub-objects of a merchant account template (26..51) and of NAPAS 38/01.
GUID: Final = "00"
BENEFICIARY: Final = "01"  # NAPAS beneficiary template; the merchant id in VNPay's 26
SERVICE: Final = "02"
BENEFICIARY_BIN: Final = "00"
BENEFICIARY_ACCOUNT: Final = "01"

FORMAT_VERSION: Final = "01"
STATIC: Final = "11"
DYNAMIC: Final = "12"
NAPAS_GUID: Final = "A000000727"
VNPAY_GUID: Final = "A000000775"
VND: Final = "704"
VIETNAM: Final = "VN"
CRC_HEADER: Final = "6304"

Service: TypeAlias = Literal["account", "card"]  # the transfer services a builder writes into 38/02
SERVICE_CODES: Final[dict[Service, str]] = {"account": "QRIBFTTA", "card": "QRIBFTTC"}
SERVICE_NAMES: Final = {"QRIBFTTA": "account", "QRIBFTTC": "card", "QRPUSH": "push", "QRCASH": "cash"}
INITIATION_NAMES: Final = {STATIC: "static", DYNAMIC: "dynamic"}

# Object 62 sub-fields, by id, with the names the API uses.
ADDITIONAL_NAMES: Final = {
    "01": "bill_number",
    "02": "mobile",
    "03": "store",
    "04": "loyalty",
    "05": "reference",
    "06": "customer",
    "07": "terminal",
    "08": "purpose",
    "09": "consumer_data_request",
}

# Objects whose value is itself a list of data objects.
TEMPLATE_IDS: Final = frozenset(
    [f"{n:02d}" for n in range(26, 52)] + [ADDITIONAL, "64"] + [f"{n:02d}" for n in range(80, 100)]
)
MERCHANT_ACCOUNT_IDS: Final = frozenset(f"{n:02d}" for n in range(26, 52))

MAX_SUBFIELD: Final = 25
MAX_VALUE: Final = 99
MAX_AMOUNT_DIGITS: Final = 13
