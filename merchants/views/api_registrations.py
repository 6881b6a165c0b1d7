"""``POST /api/v1/registrations``: register a household once per client-made id (the tablet's outbox, any client)."""

from __future__ import annotations

from flask import Response, g, jsonify, request, url_for

from merchants.db import get_session
from merchants.errors import N_, DomainError
from merchants.services import client_registrations as cr
from merchants.views.api import bp
from merchants.views.helpers import api_error


def _answer(answer: cr.Answer) -> dict[str, object]:
    return {
        "household_id": answer.household_id,
        "url": url_for("households.show", household_id=answer.household_id),
        "payload": answer.payload,
        "status": answer.status,
    }


@bp.post("/registrations")
def register() -> Response:
    """201 the first time, 200 on a replay, 409 for other content under a known id, 422 per field."""
    body = request.get_json(silent=True)
    if body is None:
        return api_error(400, "bad_request", N_("Nội dung gửi lên phải là JSON (Content-Type: application/json)."))
    answer = cr.register_from_client(get_session(), g.api_viewer, body)
    resp = jsonify(_answer(answer))
    resp.status_code = 201 if answer.created else 200
    return resp


@bp.errorhandler(cr.FieldErrors)
def _field_errors(exc: cr.FieldErrors) -> Response:
    return api_error(422, "invalid", exc.message, exc.fields)


@bp.errorhandler(cr.ClientIdConflict)
def _conflict(exc: cr.ClientIdConflict) -> Response:
    return api_error(409, "client_id_conflict", exc.message, **(_answer(exc.answer) if exc.answer else {}))


@bp.errorhandler(DomainError)
def _rule(exc: DomainError) -> Response:
    """Any other rule a registration broke (a QR that did not read back): 422, under its field when it has one."""
    return api_error(422, "invalid", exc.message, {exc.field: exc.message} if exc.field else None)
