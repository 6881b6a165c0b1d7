"""Sign in and out, and the language switch."""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from merchants.db import get_session
from merchants.forms import LoginForm
from merchants.models import User
from merchants.services import sessions, signin, users
from merchants.urls import same_site_path
from merchants.views.helpers import client_ip

bp = Blueprint("auth", __name__)
LOCALES = ("vi", "en")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Hãy đăng nhập để tiếp tục.")
login_manager.localize_callback = str  # evaluate the lazy message in the request, so the flash can be stored
# "basic", not "strong": a tablet on mobile data changes IP address often (carrier NAT), and "strong" would sign
# the officer out mid-registration each time. Sessions are still new at every sign-in, and end on the server
# (merchants/services/sessions.py): sign-out, disabling, a new password, idle time and absolute lifetime.
login_manager.session_protection = "basic"


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, with HMAC-SHA-256 instead of its default SHA-1 (ASVS 11.4.1). It carries
    the session's random id, the CSRF secret and flashed messages; whether the session is live is the server's
    to say (``sessions.live_session``), never the cookie's."""

    digest_method = staticmethod(hashlib.sha256)


class SignedIn(UserMixin):
    """The user as Flask-Login sees it; the id is the session's random token, checked against its row."""

    def __init__(self, user: User, token: str) -> None:
        self.user, self.token = user, token
        self.role, self.locale, self.full_name, self.username = user.role, user.locale, user.full_name, user.username
        self.db_id = user.id

    def get_id(self) -> str:
        return self.token

    def __getattr__(self, name: str):  # noqa: ANN204 - proxy the rest to the row
        return getattr(self.user, name)


def lifetime() -> sessions.Lifetime:
    return sessions.Lifetime.from_config(current_app.config)


@login_manager.user_loader
def _load(token: str) -> SignedIn | None:
    live = sessions.live_session(get_session(), token, lifetime())
    return SignedIn(live.user, token) if live else None


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot send a user elsewhere after sign-in."""
    return same_site_path(target) or url_for("markets.index")


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(url_for("markets.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = signin.sign_in(
                get_session(),
                form.username.data,
                form.password.data,
                ip=client_ip(),
                limits=signin.Limits.from_config(current_app.config),
            )
        except signin.Throttled:
            form.form_errors.append(_("Đăng nhập sai quá nhiều lần. Hãy thử lại sau ít phút."))
            return render_template("auth/login.html", form=form), 429
        except signin.WrongCredentials:
            form.form_errors.append(_("Sai tên đăng nhập hoặc mật khẩu."))
            return render_template("auth/login.html", form=form), 401
        next_url = _safe_next(request.args.get("next"))
        start_session(user)
        return redirect(next_url)
    return render_template("auth/login.html", form=form)


def start_session(user: User) -> None:
    """Sign the user in on a fresh session (sign-in, a set-password link, a password change): nothing from
    before survives (no fixation), except a language picked just now, kept as the user's choice."""
    chosen = session.get("locale")
    session.clear()
    db = get_session()
    if chosen in LOCALES and chosen != user.locale:
        users.set_locale(db, user, chosen)
    token = sessions.open_session(db, user, ip=client_ip(), user_agent=request.user_agent.string, lifetime=lifetime())
    login_user(SignedIn(user, token))


@bp.post("/logout")
@login_required
def logout():  # noqa: ANN201
    signin.sign_out(get_session(), current_user.user, current_user.token, ip=client_ip())
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    resp = redirect(url_for("auth.login"))
    # A shared tablet keeps nothing of the session: the browser drops its cache and any storage of this site
    # (not its cookies: the fresh one carries the message above).
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    return resp


@bp.post("/language/<locale>")
def language(locale: str):  # noqa: ANN201
    """Switch between Vietnamese and English; a signed-in user's choice is stored with their account."""
    if locale not in LOCALES:
        return redirect(url_for("markets.index"))
    if current_user.is_authenticated:
        users.set_locale(get_session(), current_user.user, locale)
    session["locale"] = locale
    return redirect(_safe_next(request.form.get("next")))
