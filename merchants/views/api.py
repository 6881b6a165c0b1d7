"""JSON API under /api/v1: bearer-token auth, the same scope rules as the pages, documented in openapi.json."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import refresh
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from merchants import status as st
from merchants.coverage import Coverage, Funnel
from merchants.db import get_session
from merchants.errors import N_, DomainError, Forbidden, NotFound
from merchants.scope import viewer_for
from merchants.services import api_queries as aq
from merchants.services.api_tokens import user_for_token
from merchants.services.registry_queries import get_market_by_code, stall_rows
from merchants.views.helpers import api_error, audit_denial

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPENAPI = Path(__file__).resolve().parent.parent / "openapi.json"
PUBLIC = {"api.openapi"}
# Endpoints a signed-in browser may also call with its session cookie and an X-CSRFToken header (the tablet).
SESSION_OK = {"api.register"}
MAX_PER_PAGE = 200


class BadRequest(DomainError):
    """A query parameter the API cannot use; answered 400 with the parameter named."""

    code = "bad_request"


@bp.before_request
def _authenticate() -> Response | None:
    """Every call but the API description needs 'Authorization: Bearer <token>' of an active user."""
    if request.endpoint in PUBLIC:
        return None
    if request.endpoint in SESSION_OK and "Authorization" not in request.headers:
        return _session_caller()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return api_error(401, "missing_token", N_("Thiếu mã truy cập: hãy gửi 'Authorization: Bearer <token>'."))
    session = get_session()
    user = user_for_token(session, token.strip())
    if user is None:
        return api_error(
            401, "invalid_token", N_("Mã truy cập không hợp lệ, đã bị thu hồi, hoặc người dùng đã bị khóa.")
        )
    g.token_locale = user.locale  # answers in the token's user's language (``views.select_locale``) ...
    refresh()  # ... even if something was translated before the token was read
    g.api_viewer = viewer_for(session, user)
    if not g.api_viewer.can("view"):
        audit_denial(403, g.api_viewer)
        return api_error(403, "forbidden", N_("Vai trò của bạn không được xem dữ liệu này."))
    return None


def _session_caller() -> Response | None:
    """A signed-in browser: its session is the credential, and an X-CSRFToken header proves the page is ours."""
    if not current_user.is_authenticated:
        return api_error(401, "not_signed_in", N_("Phiên đăng nhập đã hết. Hãy đăng nhập lại."))
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):  # off only in tests, as for every form
            validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError:
        return api_error(400, "csrf", N_("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang."))
    g.api_viewer = viewer_for(get_session(), current_user._get_current_object())
    return None


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    audit_denial(404, g.get("api_viewer"))
    return api_error(404, "not_found", exc)


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden) -> Response:
    audit_denial(403, g.get("api_viewer"))
    return api_error(403, "forbidden", exc)


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Response:
    return api_error(400, "bad_request", exc)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(
            N_("Tham số '%(name)s' phải là số nguyên từ %(low)s đến %(high)s (nhận '%(value)s')."),
            field=name,
            name=name,
            low=low,
            high=high,
            value=raw,
        )
    return int(raw)


def _plain(value: Any) -> Any:
    """Dates as ISO 8601 (Flask would write HTTP dates), inside dicts and lists too."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _figures(cov: Coverage, funnel: Funnel) -> dict[str, Any]:
    return {"covered": cov.covered, "total": cov.total, "percent": cov.percent, "funnel": dict(funnel.steps())}


@bp.get("/openapi.json")
def openapi() -> Response:
    return Response(_openapi_text(), mimetype="application/json")


@cache
def _openapi_text() -> str:
    return json.dumps(json.loads(OPENAPI.read_text(encoding="utf-8")), ensure_ascii=False)


@bp.get("/coverage/<level>")
def coverage(level: str) -> Response:
    if level not in aq.LEVELS:
        raise NotFound(
            "Không có cấp '%(level)s'; dùng một trong: %(levels)s.", level=level, levels=", ".join(aq.LEVELS)
        )
    rows = aq.coverage_by_area(
        get_session(),
        g.api_viewer,
        level,
        province=request.args.get("province", ""),
        commune=request.args.get("commune", ""),
    )
    return jsonify(
        items=[
            {
                "code": r.code,
                "name": r.name,
                **r.parents,
                "markets": r.markets,
                **_figures(r.coverage, r.funnel),
                "active": {"households": r.active.covered, "with_qr": r.active.total, "percent": r.active.percent},
            }
            for r in rows
        ]
    )


@bp.get("/households")
def households() -> Response:
    page, per_page = _int_arg("page", 1, 1, 1_000_000), _int_arg("per_page", 50, 1, MAX_PER_PAGE)
    status = request.args.get("status", "")
    if status and status not in st.ORDER:
        raise BadRequest(
            N_("Tham số '%(name)s' phải là một trong: %(choices)s (nhận '%(value)s')."),
            field="status",
            name="status",
            choices=", ".join(st.ORDER),
            value=status,
        )
    v = g.api_viewer
    items, total = aq.households_page(
        get_session(),
        v,
        market=request.args.get("market", ""),
        status=status,
        page=page,
        per_page=per_page,
        show_pii=v.can("pii"),
    )
    more = page * per_page < total
    nxt = url_for("api.households", **{**request.args.to_dict(), "page": page + 1}) if more else None
    return jsonify(items=[_plain(asdict(i)) for i in items], page=page, per_page=per_page, total=total, next=nxt)


@bp.get("/markets/<code>/stalls")
def stalls(code: str) -> Response:
    session, v = get_session(), g.api_viewer
    info = get_market_by_code(session, v, code)
    market = info.market
    rows = stall_rows(session, info, show_pii=v.can("pii"))
    return jsonify(
        market=market.code,
        items=[
            {
                "code": r.code,
                "zone": r.zone,
                "household_id": r.household_id,
                "owner_name": r.owner_name or None,
                "goods": r.goods or None,
                "bank": r.bank or None,
                "account_number": r.account or None,
                "status": r.status or None,
                "needs_reprint": r.needs_reprint,
            }
            for r in rows
        ],
    )


@bp.get("/markets/<code>/stalls/<stall_code>")
def stall(code: str, stall_code: str) -> Response:
    v = g.api_viewer
    found = aq.stall_payload(get_session(), v, code, stall_code, show_pii=v.can("pii"))
    return jsonify(_plain(asdict(found)))
