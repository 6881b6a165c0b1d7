"""Small helpers every blueprint shares: the acting viewer, capability guards, form error mapping."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError

from merchants import roles
from merchants import status as st
from merchants.db import get_session
from merchants.errors import N_, DomainError, Forbidden, Phrase
from merchants.scope import Viewer, viewer_for
from merchants.services import audit
from merchants.services.settings import Defaults

log = logging.getLogger(__name__)


ROLE_REFUSED = N_("Vai trò của bạn không được phép thực hiện thao tác này.")
# Messages the app-wide error handlers pass to error.html, which shows them through ``translated``.
ERROR_PAGES: tuple[str, ...] = (
    N_("Không tìm thấy trang."),
    N_("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang."),
    N_("Đăng nhập sai quá nhiều lần. Hãy thử lại sau ít phút."),
    ROLE_REFUSED,
    N_("Dữ liệu gửi lên có ký tự không hợp lệ (NUL). Hãy nhập lại."),
)

# The labels ``status`` and ``roles`` keep as data, marked here so the catalog has them.
LABELS: tuple[str, ...] = (
    N_("Đã đăng ký"),
    N_("Đã có tài khoản"),
    N_("Đã cấp QR"),
    N_("Đã in bảng QR"),
    N_("Đã kiểm tra bảng"),
    N_("Quản trị"),
    N_("Cán bộ ngân hàng"),
    N_("Cán bộ xã/phường"),
    N_("Nhân viên in"),
    N_("Ban quản lý chợ"),
)


def translated(message: str | DomainError | Any, **params: Any) -> str:
    """A rule's Vietnamese message in the user's language; unchanged when the catalog lacks it.

    Takes a plain message, or anything that carries its template and parameters (a ``DomainError``, an import's
    ``RowProblem``, a ``Phrase``): the template is translated and the values put in, never parsed back out of the
    sentence; a param that is a ``Phrase`` is translated first.
    """
    if not isinstance(message, str):
        params = {**dict(getattr(message, "params", ()) or ()), **params}
        message = getattr(message, "template", "") or getattr(message, "problem", "") or getattr(message, "message", "")
    if not message:
        return message
    params = {k: translated(v) if isinstance(v, Phrase) else v for k, v in params.items()}
    return gettext(message, **params) if params else gettext(message)


def status_text(status: str) -> str:
    """An onboarding status as the user reads it, in their language."""
    return gettext(st.LABELS_VI[status]) if status in st.LABELS_VI else status


def role_text(role: str) -> str:
    return gettext(roles.LABELS_VI[role]) if role in roles.LABELS_VI else role


def viewer() -> Viewer:
    """The signed-in user's scope, loaded once per request."""
    if "viewer" not in g:
        g.viewer = viewer_for(get_session(), current_user._get_current_object())
    return g.viewer


def requires(capability: str) -> Callable:
    """Sign-in plus a capability of the user's role; a 403 page in the user's language otherwise."""

    def deco(fn: Callable) -> Callable:
        @wraps(fn)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not viewer().can(capability):
                raise Forbidden(ROLE_REFUSED)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def attach_error(form: FlaskForm, exc: DomainError) -> None:
    """Show a domain error under the form field it names, or at the top of the form."""
    message = translated(exc)
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
    else:
        form.form_errors.append(message)


_NUMBER_TYPED = re.compile(r"[\d\s.+()-]+")


def search_terms(q: str) -> str:
    """What the officer typed, with a phone or account number reduced to the digits stored: '+84 912…' → '0912…'."""
    q = q.strip()[:100]
    if not _NUMBER_TYPED.fullmatch(q):
        return q
    digits = re.sub(r"\D", "", q)
    if q.startswith("+84") or (q.startswith("84") and len(digits) == 11):
        digits = "0" + digits[2:]
    return digits


@dataclass(frozen=True)
class Pager:
    """One page of a long list: rows ``start``..``end`` (0-based, end exclusive) of ``total``."""

    page: int
    pages: int
    start: int
    end: int
    total: int

    @property
    def first(self) -> int:
        """The 1-based number of the first row shown, as a person counts."""
        return self.start + 1 if self.total else 0

    @property
    def prev(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def paginate(total: int, page: int, size: int) -> Pager:
    """Page ``page`` (1-based, clamped into range) of ``total`` rows, ``size`` at a time."""
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    start = (page - 1) * size
    return Pager(page, pages, start, min(start + size, total), total)


def settings_defaults() -> Defaults:
    """The programme settings an installation has before its administrators save their own (from the config)."""
    by = current_app.config.get("COVERAGE_TARGET_DATE")
    return Defaults(
        name=current_app.config.get("PROGRAMME_NAME", "Chợ 4.0"),
        target_percent=int(current_app.config["COVERAGE_TARGET_PERCENT"]),
        target_date=date.fromisoformat(by) if by else None,
    )


def client_ip() -> str | None:
    """The address the request came from (behind a proxy: as ProxyFix, when configured, says)."""
    return request.remote_addr


NOBODY = Viewer(user_id=None, role="")


def audit_denial(status: int, actor: Viewer | None = None) -> None:
    """Note a refused request (who, from where, which page) in the audit trail; a failure to write it is logged
    and never turns the refusal into a server error."""
    if actor is None:
        actor = viewer() if getattr(current_user, "is_authenticated", False) else NOBODY
    session = get_session()
    try:
        audit.record_denial(
            session, actor, status=status, method=request.method, path=request.path, source_ip=client_ip()
        )
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not audit a refused request to %s", request.path)


def api_error(
    http_status: int, code: str, message: str | DomainError, fields: dict[str, Any] | None = None, **extra: Any
) -> Response:
    """The API's one error shape, ``{"error": {"code", "message", "fields"}}``, messages in the user's language,
    for every JSON answer that refuses (the API, the webhooks, the tablet's sync, the app-wide 400/404);
    ``extra`` goes beside it (a 409 carries the stored record)."""
    texts = {k: translated(v) for k, v in (fields or {}).items()}
    resp = jsonify(error={"code": code, "message": translated(message), "fields": texts}, **extra)
    resp.status_code = http_status
    if http_status == 401:
        resp.headers["WWW-Authenticate"] = f'Bearer realm="choqr", error="{code}"'
    return resp
