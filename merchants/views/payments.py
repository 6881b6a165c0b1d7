"""Webhooks of transaction-notification services: SePay and Casso post each credit here.

Thin edge: find the source (SePay by its API key, Casso by whose key verifies the signature), bound and parse
the body, and hand the credits to ``payment_ingest``. A retry or a credit ChoQR does not keep is answered 200, so
the provider stops retrying; only a call that cannot be trusted or read gets a 4xx, with the API's error shape.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Final

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from merchants.db import get_session
from merchants.errors import N_
from merchants.payment_models import PaymentSource
from merchants.payments_parse import (
    PaymentRefused,
    casso_credits,
    casso_signature_ok,
    check_fresh,
    sepay_credit,
    signature_time,
)
from merchants.services import payment_ingest, payment_sources
from merchants.views.helpers import api_error

bp = Blueprint("payment_webhooks", __name__, url_prefix="/api/v1/payments")
log = logging.getLogger(__name__)
MAX_BODY: Final = 32 * 1024  # one transaction is under 1 KiB; anything this large is not a notification


class _TooLarge(Exception):
    pass


def _raw_body() -> bytes:
    """The body, read no further than the bound (a declared or streamed body over it is refused)."""
    limit = int(current_app.config.get("PAYMENT_WEBHOOK_MAX_BODY", MAX_BODY))
    if request.content_length is not None and request.content_length > limit:
        raise _TooLarge
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise _TooLarge
    return data


def _json(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PaymentRefused("invalid_json", N_("Nội dung gửi lên không phải JSON (UTF-8).")) from None


def _too_large() -> Response:
    limit = int(current_app.config.get("PAYMENT_WEBHOOK_MAX_BODY", MAX_BODY))
    refusal = PaymentRefused("body_too_large", N_("Nội dung gửi lên vượt quá %(kib)d KiB."), kib=limit // 1024)
    return api_error(413, refusal.code, refusal)


def _refused(source: PaymentSource, exc: PaymentRefused, status: int = 400) -> Response:
    payment_ingest.reject(get_session(), source)
    log.warning("payment webhook from source %s refused: %s", source.id, exc.code)
    return api_error(status, exc.code, exc)


def _answer(result: payment_ingest.IngestResult) -> Response:
    outcome = result.outcomes[0] if len(result.outcomes) == 1 else None
    return jsonify(success=True, result=outcome, stored=result.stored)


@bp.post("/sepay")
def sepay() -> Response:
    """SePay: ``Authorization: Apikey <key>``, one transaction per call."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    session = get_session()
    source = payment_sources.sepay_source(session, key.strip()) if scheme.lower() == "apikey" else None
    if source is None:
        log.warning("payment webhook refused: unknown or revoked SePay key")
        return api_error(
            401, "invalid_key", N_("Khóa API không hợp lệ hoặc đã bị thu hồi: gửi 'Authorization: Apikey <khóa>'.")
        )
    try:
        credit = sepay_credit(_json(_raw_body()))
    except _TooLarge:
        payment_ingest.reject(session, source)
        return _too_large()
    except PaymentRefused as exc:
        return _refused(source, exc)
    return _answer(payment_ingest.store_credits(session, source, [credit]))


@bp.post("/casso")
def casso() -> Response:
    """Casso v2: ``X-Casso-Signature: t=<time>,v1=<hmac-sha512>``; the source is the one whose key verifies it."""
    try:
        raw = _raw_body()
    except _TooLarge:
        return _too_large()
    header = request.headers.get("X-Casso-Signature", "")
    try:
        body = _json(raw)
        signed_at = signature_time(header)[1]
    except PaymentRefused as exc:
        return api_error(401 if exc.code == "invalid_signature" else 400, exc.code, exc)
    session = get_session()
    source = None
    if isinstance(body, dict):
        for candidate in payment_sources.casso_sources(session):
            if casso_signature_ok(header, body, candidate.hmac_key or ""):
                source = candidate
    if source is None:
        log.warning("payment webhook refused: Casso signature matches no source")
        return api_error(401, "invalid_signature", N_("Chữ ký X-Casso-Signature không khớp khóa của nguồn nào."))
    try:
        check_fresh(signed_at, datetime.now(UTC))
        credits = casso_credits(body)
    except PaymentRefused as exc:
        return _refused(source, exc, 401 if exc.code == "stale_signature" else 400)
    return _answer(payment_ingest.store_credits(session, source, credits))


def init_app(app: Flask) -> None:
    """Register the webhooks (no CSRF: providers sign or key each call) and the payments pages."""
    from merchants.views import payments_admin
    from merchants.views.extensions import csrf

    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.register_blueprint(payments_admin.bp)
