"""The web edge: extensions, blueprints and the translation of domain errors into HTTP."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask, g, render_template, request, session
from flask_babel import get_locale, gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from merchants import roles
from merchants.clock import to_vn
from merchants.errors import N_, DomainError, Forbidden, NotFound
from merchants.services import audit, batch_queries
from merchants.views.extensions import babel, compress, csrf
from merchants.views.helpers import api_error, audit_denial, role_text, status_text, translated
from qr import strip_edges

LOCALES = ("vi", "en")
SCANNED_FIELDS = frozenset({"payload"})  # form fields holding text a scanner read from a QR
# Scripts only from our own files (there are no inline scripts); photos are shrunk in the browser via blob URLs.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates shared by every app built in this process. Jinja compiles per environment, so each
    ``create_app`` (every test, the demo's in-process worker, each CLI command) paid ~50 ms per page template again;
    a bucket is keyed by the template's name and source checksum, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


def select_locale() -> str:
    """The signed-in user's choice, else a bearer token's user's (an API call has no session), else the visitor's
    choice this session; an API call with none of these may say it with Accept-Language; else Vietnamese."""
    if getattr(current_user, "is_authenticated", False):
        return current_user.locale
    if token_locale := g.get("token_locale"):
        return token_locale
    if chosen := session.get("locale"):
        return chosen
    if request.path.startswith("/api/"):  # a program, not a person at a tablet: it may ask for English
        return request.accept_languages.best_match(LOCALES) or "vi"
    return "vi"  # Vietnamese first, whatever the tablet's system language


# The names services give a row no user made; every other name is a person's, shown as stored.
SYSTEM_NAMES = frozenset({audit.SYSTEM_NAME, batch_queries.SYSTEM_NAME})


def actor_name(who: str | None) -> str:
    """Who made a row, as the reader says it: a user's name as stored, the system in the page's language."""
    if not who or who in SYSTEM_NAMES:
        return gettext(who or audit.SYSTEM_NAME)
    return who


def vn_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """Show a stored UTC time in Vietnam time, the way users read it."""
    return "" if value is None else to_vn(value).strftime(fmt)


def init_web(app: Flask) -> None:
    from merchants.views import (
        account,
        admin,
        admin_markets,
        admin_users,
        api,
        api_registrations,  # noqa: F401  (its routes join the api blueprint)
        auth,
        households,
        imports,
        markets,
        offline,
        placards,
        reports,
    )

    csrf.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    auth.login_manager.init_app(app)
    app.session_interface = auth.SessionCookies()
    for bp in (
        auth.bp,
        account.bp,
        markets.bp,
        households.bp,
        placards.bp,
        reports.bp,
        imports.bp,
        admin.bp,
        admin_markets.bp,
        admin_users.bp,
        api.bp,
        offline.bp,
    ):
        app.register_blueprint(bp)
    csrf.exempt(api.bp)
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    app.jinja_env.filters["vn_time"] = vn_time
    app.jinja_env.filters["actor"] = actor_name
    app.jinja_env.globals["url_map_endpoints"] = app.view_functions
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals.update(
        status_text=status_text,
        role_text=role_text,
        translated=translated,
        can=lambda cap: current_user.is_authenticated and roles.can(current_user.role, cap),
    )

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):  # noqa: ANN202
        """A record that does not exist or lies outside the viewer's areas (the same answer): audited."""
        audit_denial(404)
        return render_template("error.html", code=404, message=exc.message), 404

    @app.errorhandler(404)
    def _http_404(_exc: Exception):  # noqa: ANN202
        if request.path.startswith("/api/"):
            return api_error(404, "not_found", N_("Không có đường dẫn API này."))
        return render_template("error.html", code=404, message="Không tìm thấy trang."), 404

    @app.errorhandler(DomainError)
    def _refused(exc: DomainError):  # noqa: ANN202
        """A rule a view did not map onto a form: the rule's own message, and nothing was stored."""
        return render_template("error.html", code=400, message=exc.message), 400

    @app.errorhandler(Forbidden)
    def _forbidden(exc: Forbidden):  # noqa: ANN202
        audit_denial(403)
        return render_template("error.html", code=403, message=exc.message), 403

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError):  # noqa: ANN202
        return render_template(
            "error.html", code=400, message="Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang."
        ), 400

    @app.errorhandler(429)
    def _too_many(_exc: Exception):  # noqa: ANN202
        return render_template(
            "error.html", code=429, message="Đăng nhập sai quá nhiều lần. Hãy thử lại sau ít phút."
        ), 429

    @app.url_defaults
    def _static_version(endpoint: str, values: dict) -> None:
        """Static URLs carry the file's mtime, so browsers may cache them for long and still see updates."""
        if endpoint == "static" and "filename" in values:
            path = Path(app.static_folder or "") / values["filename"]
            if path.is_file():
                values.setdefault("v", int(path.stat().st_mtime))

    @app.before_request
    def _refuse_nul():  # noqa: ANN202 - a response or None
        """A NUL character is never part of what a person types; PostgreSQL refuses it in text, SQLite stores it.
        Refused once here for every query string and form, so no page can fail on it. Scanned QR text is the one
        exception: some scanner apps end it with a NUL, which the QR reader strips (``qr.strip_edges``)."""
        query = request.query_string.decode("latin-1", "replace")
        form = request.form.items(multi=True) if request.method == "POST" else ()
        if (
            "\x00" in query
            or "%00" in query
            or any("\x00" in (strip_edges(v) if k in SCANNED_FIELDS else v) for k, v in form)
        ):
            message = N_("Dữ liệu gửi lên có ký tự không hợp lệ (NUL). Hãy nhập lại.")
            if request.path.startswith("/api/"):
                return api_error(400, "invalid_characters", message)
            return render_template("error.html", code=400, message=message), 400
        return None

    @app.after_request
    def _headers(resp):  # noqa: ANN001, ANN202
        if request.endpoint != "static":
            # Pages, QR images, exports and the API carry names, CCCD, phones and account numbers: never kept
            # by a shared tablet's browser cache or a proxy. Static files are versioned and cached (see above).
            resp.headers["Cache-Control"] = "no-store"
            resp.headers["Pragma"] = "no-cache"
        if request.is_secure:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp
