"""Credits as Vietnamese transaction-notification services send them: parsing and verification only.

No Flask and no database: a body (already decoded from JSON) becomes typed ``Credit`` values, and Casso's signature
is checked against a clock passed in, so both are tested on raw data.

What the providers' public documentation says (developer.sepay.vn "Tích hợp webhook", developer.casso.vn
"Webhook v2"):

- SePay posts one transaction per call, ``Authorization: Apikey <key>``, fields ``id`` (number, unique: the
  deduplication key), ``gateway`` (bank name), ``transactionDate`` ("2023-03-25 14:02:37", Vietnam time),
  ``accountNumber``, ``code``, ``content``, ``transferType`` ("in"/"out"), ``transferAmount``, ``accumulated``,
  ``subAccount``, ``referenceCode``; it expects a 2xx answer with ``{"success": true}`` and retries otherwise.
- Casso v2 posts ``{"error": 0, "data": {...}}`` with ``data`` holding ``id``, ``reference``, ``description``,
  ``amount`` (negative for money out), ``runningBalance``, ``transactionDateTime`` (Vietnam time),
  ``accountNumber``, ``bankName``, ``bankAbbreviation``, ``virtualAccount*`` and ``counterAccount*``. The header
  ``X-Casso-Signature: t=<timestamp>,v1=<hex>`` is HMAC-SHA512 under the webhook's key over
  ``"<timestamp>." + JSON of data with keys sorted`` (JavaScript ``JSON.stringify``: no spaces, UTF-8 as is).
  Casso's own example carries the timestamp in milliseconds; seconds are accepted too. Casso's PHP sample signs the
  whole body instead of ``data``: both are accepted, each needs the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from merchants.clock import VN_TZ
from merchants.errors import N_, DomainError

STALE_AFTER: Final = timedelta(minutes=5)
PROVIDER_ID_MAX: Final = 64
REFERENCE_MAX: Final = 64
ACCOUNT_MAX: Final = 19  # as ``BankAccount.account_number``
AMOUNT_MAX: Final = 10**13  # VND: a credit above ten trillion is a typo or an attack, never a market stall's sale
_SIGNATURE: Final = re.compile(r"\At=(\d{1,16}),v1=([0-9a-fA-F]{128})\Z")
_TIME_FORMATS: Final = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")
_ISO_LIKE: Final = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?\Z")
_VN_LIKE: Final = re.compile(r"\A(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?\Z")
_GROUPED: Final = re.compile(r"\A\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*\Z")  # 1.500.000 or 1,500,000

Direction = Literal["in", "out"]


class PaymentRefused(DomainError):
    """A body or signature the webhook cannot accept; ``code`` is the API's error code, ``field`` the JSON field."""

    def __init__(self, code: str, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message, field=field, **params)
        self.code = code


@dataclass(frozen=True)
class Credit:
    """A transaction as one provider reported it, reduced to what ChoQR may keep (plus the bank, to find the
    account when one number exists at two banks; it is not stored)."""

    provider_id: str
    account_number: str
    amount: int
    occurred_at: datetime  # UTC
    reference: str
    direction: Direction
    bank: str = ""


def _field(body: dict[str, Any], name: str, *, where: str = "") -> Any:
    if name not in body or body[name] is None:
        raise PaymentRefused("missing_field", N_("Thiếu trường '%(name)s'."), field=where + name, name=where + name)
    return body[name]


def parse_amount(value: Any, *, field: str = "amount") -> int:
    """Whole VND from a JSON number or a statement cell: '2277000', 2277000.0 and '2.277.000' are 2277000.

    A fraction of a dong, a word, a boolean or an empty cell is refused naming the field and the value.
    """
    if isinstance(value, bool) or value is None:
        raise _not_a_number(field, value)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float | Decimal):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().replace(" ", "").removesuffix("VND").removesuffix("đ")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        match = _GROUPED.match(text)
        if match:
            text = text.replace(match.group(1), "")
        elif re.fullmatch(r"\d+(?:[.,]0+)?", text):
            text = re.split(r"[.,]", text)[0]
        else:
            raise _not_a_number(field, value)
        number = Decimal(text) * sign
    else:
        raise _not_a_number(field, value)
    try:
        whole = int(number)
    except (InvalidOperation, ValueError, OverflowError) as exc:
        raise _not_a_number(field, value) from exc
    if whole != number or abs(whole) > AMOUNT_MAX:
        raise _not_a_number(field, value)
    return whole


def _not_a_number(field: str, value: Any) -> PaymentRefused:
    shown = repr(value)[:40]
    return PaymentRefused(
        "invalid_amount",
        N_("Trường '%(name)s' phải là số tiền nguyên (đồng), nhận %(shown)s."),
        field=field,
        name=field,
        shown=shown,
    )


def parse_vn_time(value: Any, *, field: str) -> datetime:
    """A provider's local time ("2026-11-30 10:15:02", Vietnam) or an ISO time with its offset, as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        found: datetime | None = _quick_time(text)
        for fmt in () if found else _TIME_FORMATS:
            try:
                found = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if found is None:
            try:
                found = datetime.fromisoformat(text)
            except ValueError:
                raise PaymentRefused(
                    "invalid_time",
                    N_("Trường '%(name)s' không phải thời điểm (nhận '%(shown)s')."),
                    field=field,
                    name=field,
                    shown=text[:40],
                ) from None
        moment = found
    else:
        raise PaymentRefused("invalid_time", N_("Trường '%(name)s' không phải thời điểm."), field=field, name=field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(UTC)


def _quick_time(text: str) -> datetime | None:
    """The two shapes providers and statements use, read without strptime (a 100,000-row statement reads a time
    per row: trying formats one by one cost seconds)."""
    m = _ISO_LIKE.match(text)
    if m:
        y, mo, d, h, mi, sec = m.groups()
    else:
        m = _VN_LIKE.match(text)
        if not m:
            return None
        d, mo, y, h, mi, sec = m.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
    except ValueError:
        return None


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value).strip()[:limit]


def _provider_id(value: Any, field: str) -> str:
    text = _text(value, PROVIDER_ID_MAX + 1)
    if not text or len(text) > PROVIDER_ID_MAX:
        raise PaymentRefused(
            "invalid_id",
            N_("Trường '%(name)s' phải có từ 1 đến %(limit)d ký tự."),
            field=field,
            name=field,
            limit=PROVIDER_ID_MAX,
        )
    return text


def _account(value: Any, field: str) -> str:
    text = re.sub(r"\s", "", _text(value, 40))
    if not text:
        raise PaymentRefused("missing_field", N_("Thiếu trường '%(name)s'."), field=field, name=field)
    return text


def sepay_credit(body: Any) -> Credit:
    """One SePay webhook body as a ``Credit``."""
    if not isinstance(body, dict):
        raise PaymentRefused("invalid_body", N_("Nội dung gửi lên phải là một đối tượng JSON."))
    direction = _field(body, "transferType")
    if direction not in ("in", "out"):
        raise PaymentRefused(
            "invalid_direction",
            N_("Trường 'transferType' phải là 'in' hoặc 'out' (nhận %(shown)s)."),
            field="transferType",
            shown=repr(direction)[:40],
        )
    amount = parse_amount(_field(body, "transferAmount"), field="transferAmount")
    if amount < 0:
        raise _not_a_number("transferAmount", body["transferAmount"])
    return Credit(
        provider_id=_provider_id(_field(body, "id"), "id"),
        account_number=_account(_field(body, "accountNumber"), "accountNumber"),
        amount=amount,
        occurred_at=parse_vn_time(_field(body, "transactionDate"), field="transactionDate"),
        reference=_text(body.get("referenceCode"), REFERENCE_MAX),
        direction=direction,
        bank=_text(body.get("gateway"), 60),
    )


def casso_credits(body: Any) -> list[Credit]:
    """The transactions of one Casso v2 body (``data`` is one object; a list of them is read too)."""
    if not isinstance(body, dict):
        raise PaymentRefused("invalid_body", N_("Nội dung gửi lên phải là một đối tượng JSON."))
    data = _field(body, "data")
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        where = "data." if not isinstance(data, list) else f"data[{i}]."
        if not isinstance(item, dict):
            raise PaymentRefused(
                "invalid_body", N_("'%(name)s' phải là một đối tượng JSON."), field="data", name=where.rstrip(".")
            )
        amount = parse_amount(_field(item, "amount", where=where), field=where + "amount")
        out.append(
            Credit(
                provider_id=_provider_id(_field(item, "id", where=where), where + "id"),
                account_number=_account(_field(item, "accountNumber", where=where), where + "accountNumber"),
                amount=abs(amount),
                occurred_at=parse_vn_time(
                    _field(item, "transactionDateTime", where=where), field=where + "transactionDateTime"
                ),
                reference=_text(item.get("reference"), REFERENCE_MAX),
                direction="in" if amount > 0 else "out",
                bank=_text(item.get("bankName") or item.get("bankAbbreviation"), 60),
            )
        )
    return out


def casso_message(timestamp: str, value: Any) -> bytes:
    """What Casso signs: the timestamp, a dot and the value as compact JSON with every object's keys sorted."""
    return f"{timestamp}.{json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)}".encode()


def casso_signature(key: str, timestamp: str, value: Any) -> str:
    """The ``v1`` hex a sender with ``key`` puts in X-Casso-Signature (tests and the bench sign with it)."""
    return hmac.new(key.encode(), casso_message(timestamp, value), hashlib.sha512).hexdigest()


def signature_time(header: str) -> tuple[str, datetime]:
    """The timestamp of an X-Casso-Signature header, as written and as a UTC time (milliseconds or seconds)."""
    match = _SIGNATURE.match((header or "").strip())
    if not match:
        raise PaymentRefused("invalid_signature", N_("Thiếu chữ ký X-Casso-Signature dạng 't=<thời điểm>,v1=<hex>'."))
    raw = match.group(1)
    number = int(raw)
    seconds = number / 1000 if number >= 10**11 else number
    try:
        return raw, datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PaymentRefused("invalid_signature", N_("Thời điểm trong chữ ký không hợp lệ.")) from None


def casso_signature_ok(header: str, body: dict[str, Any], key: str) -> bool:
    """Whether the header's ``v1`` is Casso's HMAC of ``data`` (or of the whole body) under ``key``, compared in
    constant time."""
    match = _SIGNATURE.match((header or "").strip())
    if not match:
        return False
    raw, given = match.group(1), match.group(2).lower()
    candidates = [body.get("data"), body] if "data" in body else [body]
    ok = False
    for value in candidates:
        ok |= hmac.compare_digest(casso_signature(key, raw, value), given)
    return ok


def check_fresh(moment: datetime, now: datetime, window: timedelta = STALE_AFTER) -> None:
    """A signature older (or further in the future) than the window is a replay: refused."""
    if abs(now - moment) > window:
        minutes = int(window.total_seconds() // 60)
        raise PaymentRefused(
            "stale_signature",
            N_("Chữ ký đã quá %(minutes)d phút (hoặc đồng hồ bên gửi lệch); bị từ chối."),
            minutes=minutes,
        )
