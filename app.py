"""ChoQR: the Flask app factory and the ``choqr`` command line."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from flask.cli import FlaskGroup

from merchants import passwords

ROOT = Path(__file__).resolve().parent


def _secret_key(instance: Path) -> str:
    """A per-installation secret kept in instance/ so sessions survive restarts without a config step.

    Several gunicorn workers start at once: the key is written to a private temporary file and linked into
    place, which fails if another worker got there first, so every worker reads the same key.
    """
    path = instance / "secret_key"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.close(fd)
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def _secure_cookies(app: Flask) -> None:
    """Cookie settings that follow SESSION_COOKIE_SECURE, so one switch protects both cookies.

    Flask-Login's remember cookie (unused today, but never less protected than the session) takes the session
    cookie's Secure flag unless set on its own. Over HTTPS both get the ``__Host-`` prefix (ASVS 3.3.1): a browser
    then accepts them only with Secure, Path=/ and no Domain, so neither plain HTTP nor a sibling subdomain can
    plant or overwrite them. A configured cookie domain or name is left as it is.
    """
    config = app.config
    config.setdefault("REMEMBER_COOKIE_SECURE", config["SESSION_COOKIE_SECURE"])
    if not config["SESSION_COOKIE_SECURE"] or config.get("SESSION_COOKIE_DOMAIN"):
        return
    if config["SESSION_COOKIE_NAME"] == "session":
        config["SESSION_COOKIE_NAME"] = "__Host-session"
    if config.get("REMEMBER_COOKIE_NAME", "remember_token") == "remember_token" and not config.get(
        "REMEMBER_COOKIE_DOMAIN"
    ):
        config["REMEMBER_COOKIE_NAME"] = "__Host-remember_token"


def _password_hashing(app: Flask) -> None:
    """Hash passwords at the configured cost in this process: the pages, the ``choqr`` commands and the worker."""
    passwords.configure(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost=app.config["PASSWORD_HASH_MEMORY_KIB"],
        parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
    )


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment (or the test config), then extensions and blueprints."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{instance / 'choqr.db'}",
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "merchants" / "translations"),
        COVERAGE_TARGET_PERCENT=100,
        COVERAGE_TARGET_DATE="2026-12-31",
        BATCH_DIR=str(instance / "batches"),
        # Sign-in throttling, counted in the database (merchants/services/signin.py): failures per window.
        LOGIN_WINDOW_MINUTES=15,
        LOGIN_MAX_FAILURES_ACCOUNT_IP=5,
        LOGIN_MAX_FAILURES_ACCOUNT=20,
        LOGIN_MAX_FAILURES_IP=100,  # generous: a market's tablets may share one carrier-NAT address
        # Argon2id cost of new password hashes (merchants/passwords.py); older hashes are redone at sign-in.
        PASSWORD_HASH_TIME_COST=passwords.DEFAULT_TIME_COST,
        PASSWORD_HASH_MEMORY_KIB=passwords.DEFAULT_MEMORY_KIB,
        PASSWORD_HASH_PARALLELISM=passwords.DEFAULT_PARALLELISM,
        # Server-side sessions (merchants/services/sessions.py says why these defaults).
        SESSION_IDLE_MINUTES=8 * 60,
        SESSION_ABSOLUTE_HOURS=7 * 24,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,  # production over HTTPS: CHOQR_SESSION_COOKIE_SECURE=true (README)
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PROXY_FIX=0,  # hops of trusted reverse proxies (CHOQR_PROXY_FIX=1 behind one nginx)
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=30 * 24 * 3600,  # static URLs are versioned by mtime (see views.init_web)
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "image/svg+xml",
            "text/csv",
        ],
        COMPRESS_MIN_SIZE=500,
    )
    if test_config is None:
        app.config.from_prefixed_env("CHOQR")
        if os.environ.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        app.config.update(test_config)
    _secure_cookies(app)
    _password_hashing(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    hops = int(app.config.get("PROXY_FIX", 0) or 0)
    if hops:
        # Behind a TLS-terminating reverse proxy: trust its X-Forwarded-For/-Proto/-Host for this many hops, so
        # request.remote_addr is the tablet's address (sign-in throttling, audit) and HTTPS is recognised.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from merchants import db, logmask
    from merchants.views import init_web

    logmask.install("werkzeug")
    db.init_app(app)
    init_web(app)
    from merchants.views import payments

    payments.init_app(app)

    from merchants.cli import register_commands

    register_commands(app)
    return app


cli = FlaskGroup(create_app=lambda: create_app(), help="ChoQR: VietQR placards and coverage for market stalls.")
