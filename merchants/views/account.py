"""A user's own account: set a password from a one-time link (no sign-in needed), change it when signed in."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    has_request_context,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from merchants import passwords
from merchants.db import get_session
from merchants.errors import DomainError, NotFound
from merchants.forms_users import ChangePasswordForm, SetPasswordForm, password_hint
from merchants.services import password_links, signin
from merchants.views.auth import start_session
from merchants.views.helpers import attach_error, client_ip

bp = Blueprint("account", __name__)
UNKNOWN_LINK = _l(
    "Liên kết đặt mật khẩu không đúng. Hãy kiểm tra lại đường dẫn, hoặc xin quản trị viên một liên kết mới."
)
LINK_GONE = {
    "used": _l(
        "Liên kết này đã được dùng để đặt mật khẩu. Nếu bạn quên mật khẩu, hãy xin quản trị viên một liên kết mới."
    ),
    "expired": _l(
        "Liên kết này đã hết hạn hoặc đã được thay bằng một liên kết mới hơn. Hãy xin quản trị viên một liên kết mới."
    ),
    "disabled": _l("Tài khoản của liên kết này đang bị khóa. Hãy liên hệ quản trị viên."),
}


DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def set_password_url(token: str, base_url: str | None = None) -> str:
    """The link to hand over: under ``base_url`` or the BASE_URL setting (the address users reach) when given,
    else this request's own address; a command outside any request falls back to the local server."""
    base = base_url or current_app.config.get("BASE_URL")
    if not base and has_request_context():
        return url_for("account.set_password", token=token, _external=True)
    with current_app.test_request_context("/", base_url=base or DEFAULT_BASE_URL):
        return url_for("account.set_password", token=token, _external=True)


def _private(resp: Response) -> Response:
    """The page's address holds the token: no cache keeps it, no Referer carries it anywhere."""
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _link_refused(code: int, message: str) -> Response:
    """An unknown (404) or spent (410) link: a plain page saying what to do; nothing was changed."""
    return _private(make_response(render_template("account/link_refused.html", code=code, message=message), code))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response:
    """Opening the link only shows the form (chat apps fetch links for previews); the POST uses it up."""
    session = get_session()
    try:
        info = password_links.check_link(session, token)
    except NotFound:
        return _link_refused(404, UNKNOWN_LINK)
    except password_links.LinkGone as exc:
        return _link_refused(410, LINK_GONE[exc.reason])
    form = SetPasswordForm()
    form.rule_username = info.username
    if form.validate_on_submit():
        try:
            user = password_links.set_password_from_link(session, token, form.password.data, source_ip=client_ip())
        except password_links.LinkGone as exc:
            return _link_refused(410, LINK_GONE[exc.reason])
        except DomainError as exc:
            attach_error(form, exc)
        else:
            start_session(user)
            flash(_("Đã đặt mật khẩu. Chào mừng %(name)s!", name=user.full_name), "success")
            return redirect(url_for("markets.index"))
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "account/set_password.html",
        form=form,
        info=info,
        max_password=passwords.MAX_PASSWORD,
        password_hint=password_hint(),
    )
    return _private(make_response(page, status))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str | tuple[str, int]:
    """Change one's own password; every other session of the user ends, this one continues signed in."""
    form = ChangePasswordForm()
    form.rule_username = current_user.username
    if form.validate_on_submit():
        try:
            user = signin.change_password(
                get_session(),
                current_user.user,
                form.current_password.data,
                form.password.data,
                ip=client_ip(),
                limits=signin.Limits.from_config(current_app.config),
            )
        except signin.Throttled as exc:
            attach_error(form, exc)
            return render_template(
                "account/password.html", form=form, max_password=passwords.MAX_PASSWORD, password_hint=password_hint()
            ), 429
        except DomainError as exc:
            attach_error(form, exc)
        else:
            start_session(user)
            flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc."), "success")
            return redirect(url_for("markets.index"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "account/password.html", form=form, max_password=passwords.MAX_PASSWORD, password_hint=password_hint()
    ), status
