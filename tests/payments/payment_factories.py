"""Factories for payments tests: sources, provider-shaped bodies (made-up values) and signed Casso calls."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlmodel import Session

from merchants.clock import VN_TZ
from merchants.models import Household
from merchants.payments_parse import casso_signature
from merchants.services import payment_sources
from merchants.services.user_scope import AreaGrant

_seq = itertools.count(1)


def make_source(
    session: Session,
    kind: str = "sepay",
    *,
    markets: list[str] = (),
    communes: list[str] = (),
    provinces: list[str] = (),
    name: str | None = None,
) -> tuple[Any, str | None]:
    """A source over the given areas; returns it and its key (shown once in real life)."""
    return payment_sources.add_source(
        session,
        name=name or f"Nguồn {kind} {next(_seq)}",
        kind=kind,
        scope=AreaGrant.of(provinces=provinces, communes=communes, markets=markets),
    )


def account_of(session: Session, household: Household) -> str:
    from sqlmodel import select

    from merchants.models import BankAccount

    return session.exec(
        select(BankAccount.account_number).where(BankAccount.household_id == household.id, BankAccount.active)
    ).one()


def vn_text(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M:%S")


def sepay_body(account: str, *, amount: Any = 50_000, at: datetime | None = None, **over: Any) -> dict[str, Any]:
    """A body in SePay's documented shape (values made up)."""
    n = next(_seq)
    body = {
        "id": 90_000 + n,
        "gateway": "Vietcombank",
        "transactionDate": vn_text(at or datetime.now(UTC) - timedelta(hours=1)),
        "accountNumber": account,
        "code": None,
        "content": "CT DEN:0123 NGUYEN VAN KHACH chuyen tien rau",
        "transferType": "in",
        "transferAmount": amount,
        "accumulated": 19_077_000,
        "subAccount": None,
        "referenceCode": f"MBVCB.{3_278_900_000 + n}",
        "description": "BankAPINotify CT DEN:0123 NGUYEN VAN KHACH",
    }
    body.update(over)
    return body


def casso_body(account: str, *, amount: Any = 75_000, at: datetime | None = None, **over: Any) -> dict[str, Any]:
    """A body in Casso v2's documented shape (values made up)."""
    n = next(_seq)
    data = {
        "id": 218_000 + n,
        "reference": f"FT2436403{n:07d}",
        "description": "NGUYEN VAN KHACH chuyen tien mua ca",
        "amount": amount,
        "runningBalance": 16_775_000,
        "transactionDateTime": vn_text(at or datetime.now(UTC) - timedelta(hours=1)),
        "accountNumber": account,
        "bankName": "Vietcombank",
        "bankAbbreviation": "VCB",
        "virtualAccountNumber": "",
        "virtualAccountName": "",
        "counterAccountName": "NGUYEN VAN KHACH",
        "counterAccountNumber": "8888888888",
        "counterAccountBankId": "970415",
        "counterAccountBankName": "VietinBank",
    }
    data.update(over)
    return {"error": 0, "data": data}


def post_sepay(client: FlaskClient, key: str | None, body: Any):  # noqa: ANN201
    headers = {"Authorization": f"Apikey {key}"} if key is not None else {}
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/api/v1/payments/sepay", data=data, headers=headers, content_type="application/json")


def post_casso(client: FlaskClient, key: str, body: Any, *, t: int | None = None, signature: str | None = None):  # noqa: ANN201
    """A Casso call signed with ``key`` at ``t`` (milliseconds, as Casso's example; now by default)."""
    stamp = str(t if t is not None else int(time.time() * 1000))
    sig = signature or casso_signature(key, stamp, body["data"])
    return client.post(
        "/api/v1/payments/casso",
        data=json.dumps(body, ensure_ascii=False),
        headers={"X-Casso-Signature": f"t={stamp},v1={sig}"},
        content_type="application/json",
    )
