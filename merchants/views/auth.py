"""Sign in and out, and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from merchants.db import get_session
from merchants.forms import LoginForm
from merchants.models import User
from merchants.services import users
from merchants.views.extensions import limiter

bp = Blueprint("auth", __name__)
LOCALES = ("vi", "en")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Hãy đăng nhập để tiếp tục.")
login_manager.localize_callback = str  # evaluate the lazy message in the request, so the flash can be stored
# "basic", not "strong": a tablet on mobile data changes IP address often (carrier NAT), and "strong" would sign
# the officer out mid-registration each time. Sessions are still cleared at sign-in and end when the user's
# session version changes (disable, password reset).
login_manager.session_protection = "basic"


class SignedIn(UserMixin):
    """The user as Flask-Login sees it; the id carries the session version so disabling logs out."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.role, self.locale, self.full_name, self.username = user.role, user.locale, user.full_name, user.username
        self.db_id = user.id

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"

    def __getattr__(self, name: str):  # noqa: ANN204 - proxy the rest to the row
        return getattr(self.user, name)


@login_manager.user_loader
def _load(token: str) -> SignedIn | None:
    try:
        user_id, version = (int(p) for p in token.split(":"))
    except ValueError:
        return None
    user = get_session().get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return SignedIn(user)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot send a user elsewhere after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("markets.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"],
               deduct_when=lambda resp: resp.status_code != 302)
def login():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(url_for("markets.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(get_session(), form.username.data, form.password.data)
        if user is None:
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
    if chosen in LOCALES and chosen != user.locale:
        users.set_locale(get_session(), user, chosen)
    login_user(SignedIn(user))


@bp.post("/logout")
@login_required
def logout():  # noqa: ANN201
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language/<locale>")
def language(locale: str):  # noqa: ANN201
    """Switch between Vietnamese and English; a signed-in user's choice is stored with their account."""
    if locale not in LOCALES:
        return redirect(url_for("markets.index"))
    if current_user.is_authenticated:
        users.set_locale(get_session(), current_user.user, locale)
    session["locale"] = locale
    return redirect(_safe_next(request.form.get("next")))
