"""Users, their roles and areas, set-password links and API tokens (administrators).

Which users an administrator sees and what they may grant is decided by ``services.user_scope``; these views parse
the forms, call one service function and put its refusal under the field it names.
"""

from __future__ import annotations

import base64

from flask import Blueprint, Response, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

import qr
from merchants.db import get_session
from merchants.errors import DomainError, EditConflict, Forbidden, NotFound
from merchants.forms_users import EditUserForm, NewUserForm, TokenForm, UserFields, UserImportForm
from merchants.scope import Viewer
from merchants.services import api_tokens, password_links, sessions, user_import, users
from merchants.services.areas import list_provinces, search_communes
from merchants.views.account import set_password_url
from merchants.views.downloads import download
from merchants.views.helpers import attach_error, client_ip, paginate, requires, translated, viewer

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")
PAGE_SIZE = 50
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _no_store(resp: Response) -> Response:
    """A page showing a link or token once: the browser must not keep a copy to show again."""
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _refusal(form: UserFields | TokenForm | UserImportForm, exc: DomainError) -> int:
    """Put a refusal under its field and say which status the page answers; 'not yours' stays a 404/403 page."""
    if exc.field is None and isinstance(exc, NotFound | Forbidden):
        raise exc
    attach_error(form, exc)
    return 409 if isinstance(exc, EditConflict) else 403 if isinstance(exc, Forbidden) else 422


def _qr_src(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr.png_bytes(text, scale=5)).decode()


def _handover(link: password_links.IssuedLink) -> dict[str, str | object]:
    url = set_password_url(link.token)
    return {"link": link, "url": url, "qr": _qr_src(url)}


def _hours() -> int:
    return password_links.link_hours(current_app.config)


def _province_choices(v: Viewer, row: users.UserRow | None = None) -> list[tuple[str, str]]:
    """The provinces the viewer may grant; one the user already has stays listed (closed or not)."""
    provinces = list_provinces(get_session(), ids=None if v.sees_everything else v.province_ids)
    choices = [(p.code, f"{p.code} – {p.name}") for p in provinces]
    listed = {code for code, _label in choices}
    for item in row.items if row else ():
        if item.level == "provinces" and item.code not in listed:
            choices.append((item.code, item.label))
    return choices


def _search(form: UserFields, v: Viewer) -> bool:
    """The 'find commune' button: list matches to tick, keep everything typed, save nothing."""
    if "find_communes" not in request.form:
        return False
    form.merge_picked()
    found = search_communes(
        get_session(), form.commune_query.data or "", province_ids=None if v.sees_everything else v.province_ids
    )
    form.picked_communes.choices = [(c.code, f"{c.code} – {c.name} ({c.province_name})") for c in found]
    return True


@bp.get("/")
@requires("users")
def index() -> str:
    v = viewer()
    q = request.args.get("q", "")[:100]
    rows = users.list_users(get_session(), v, q=q)
    pager = paginate(len(rows), request.args.get("page", 1, type=int), PAGE_SIZE)
    own = [] if v.sees_everything else list_provinces(get_session(), ids=v.province_ids)
    return render_template(
        "admin/users/index.html",
        rows=rows[pager.start : pager.end],
        q=q,
        pager=pager,
        own_provinces=own,
        sees_everything=v.sees_everything,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires("users")
def create() -> Response | tuple[str, int]:
    v, status = viewer(), 200
    form = NewUserForm()
    form.fill(_province_choices(v))
    if request.method == "GET":
        form.role.data = "commune_officer"
    searching = _search(form, v)
    if not searching and form.validate_on_submit():
        form.merge_picked()
        new = users.NewUser(form.username.data, form.full_name.data, form.role.data, form.scope_input())
        try:
            link = users.invite_user(get_session(), v, new, hours=_hours(), source_ip=client_ip())
        except DomainError as exc:
            status = _refusal(form, exc)
        else:
            page = render_template("admin/users/link.html", created=True, **_handover(link))
            return _no_store(make_response(page, 201))
    elif request.method == "POST" and not searching:
        status = 422
    return render_template("admin/users/form.html", form=form, row=None, current=None), status


def _fill_from(form: EditUserForm, row: users.UserRow) -> None:
    scope = row.scope
    form.full_name.data, form.role.data, form.version.data = row.full_name, row.role, str(row.version)
    form.provinces.data = list(scope.provinces)
    form.communes.data, form.markets.data = ", ".join(scope.communes), ", ".join(scope.markets)


def _form_version(form: EditUserForm) -> int:
    """The version the form was opened at; a tampered value counts as stale (a conflict), never a crash."""
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else 0


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@requires("users")
def edit(user_id: int) -> Response | tuple[str, int]:
    session, v, status, current = get_session(), viewer(), 200, None
    row = users.get_user(session, v, user_id)
    form = EditUserForm()
    form.fill(_province_choices(v, row))
    if request.method == "GET":
        _fill_from(form, row)
    searching = _search(form, v)
    if not searching and form.validate_on_submit():
        form.merge_picked()
        try:
            users.update_user(
                session,
                v,
                row.username,
                full_name=form.full_name.data,
                role=form.role.data,
                scope=form.scope_input(),
                expected_version=_form_version(form),
                source_ip=client_ip(),
            )
        except DomainError as exc:
            status = _refusal(form, exc)
            if status == 409:
                current = users.get_user(session, v, user_id)
                form.version.data = str(current.version)
        else:
            flash(_("Đã lưu người dùng %(name)s.", name=row.username), "success")
            return redirect(url_for("admin_users.show", user_id=user_id))
    elif request.method == "POST" and not searching:
        status = 422
    return render_template("admin/users/form.html", form=form, row=row, current=current), status


def _show(row: users.UserRow, token_form: TokenForm, status: int = 200) -> tuple[str, int]:
    tokens = api_tokens.list_tokens(get_session(), viewer(), row.username)
    return render_template(
        "admin/users/show.html",
        row=row,
        tokens=tokens,
        token_form=token_form,
        now=sessions.now_utc(),
        is_self=row.id == viewer().user_id,
    ), status


@bp.get("/<int:user_id>")
@requires("users")
def show(user_id: int) -> tuple[str, int]:
    return _show(users.get_user(get_session(), viewer(), user_id), TokenForm())


def _act(user_id: int, action, done: str) -> Response:  # noqa: ANN001 - a service function
    """Disable or enable: the service's refusal (e.g. disabling oneself) is flashed on the user's page."""
    session, v = get_session(), viewer()
    row = users.get_user(session, v, user_id)
    try:
        action(session, row.username, actor=v, source_ip=client_ip())
    except DomainError as exc:
        if exc.field is None and isinstance(exc, NotFound | Forbidden):
            raise
        flash(translated(exc), "error")
    else:
        flash(done % {"name": row.username}, "success")
    return redirect(url_for("admin_users.show", user_id=user_id))


@bp.post("/<int:user_id>/disable")
@requires("users")
def disable(user_id: int) -> Response:
    return _act(user_id, users.disable_user, _("Đã khóa %(name)s; mọi phiên đăng nhập của người này đã kết thúc."))


@bp.post("/<int:user_id>/enable")
@requires("users")
def enable(user_id: int) -> Response:
    return _act(user_id, users.enable_user, _("Đã mở khóa %(name)s."))


@bp.post("/<int:user_id>/link")
@requires("users")
def new_link(user_id: int) -> Response:
    session, v = get_session(), viewer()
    row = users.get_user(session, v, user_id)
    try:
        link = password_links.create_password_link(
            session, row.username, actor=v, hours=_hours(), source_ip=client_ip()
        )
    except DomainError as exc:
        if exc.field is None and isinstance(exc, NotFound | Forbidden):
            raise
        flash(translated(exc), "error")
        return redirect(url_for("admin_users.show", user_id=user_id))
    return _no_store(make_response(render_template("admin/users/link.html", created=False, **_handover(link))))


@bp.post("/<int:user_id>/tokens")
@requires("users")
def create_token(user_id: int) -> Response | tuple[str, int]:
    session, v = get_session(), viewer()
    row = users.get_user(session, v, user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        return _show(row, form, 422)
    try:
        token = api_tokens.create_api_token(
            session, row.username, form.label.data, actor=v, days=form.days.data, source_ip=client_ip()
        )
    except DomainError as exc:
        return _show(row, form, _refusal(form, exc))
    page = render_template("admin/users/token.html", row=row, token=token, label=form.label.data)
    return _no_store(make_response(page, 201))


@bp.post("/<int:user_id>/tokens/<int:token_id>/revoke")
@requires("users")
def revoke_token(user_id: int, token_id: int) -> Response:
    session, v = get_session(), viewer()
    row = users.get_user(session, v, user_id)
    api_tokens.revoke_token(session, row.username, token_id, actor=v, source_ip=client_ip())
    flash(_("Đã thu hồi mã truy cập; các lệnh gọi dùng mã này bị từ chối từ bây giờ."), "success")
    return redirect(url_for("admin_users.show", user_id=user_id))


@bp.route("/import", methods=["GET", "POST"])
@requires("users")
def import_file() -> Response | tuple[str, int]:
    form = UserImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = user_import.import_users(
                get_session(),
                viewer(),
                data=upload.read(),
                filename=upload.filename or "",
                dry_run=form.dry_run.data,
                hours=_hours(),
                source_ip=client_ip(),
            )
        except DomainError as exc:
            attach_error(form, exc)
        else:
            page = render_template(
                "admin/users/import_result.html", result=result, handovers=[_handover(link) for link in result.links]
            )
            return _no_store(make_response(page, 201 if result.stored else 200))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/users/import.html", form=form, schema=user_import.USERS), status


@bp.get("/import/mau-nguoi-dung.xlsx")
@requires("users")
def import_template() -> Response:
    return download(user_import.template_xlsx(), "mau-nguoi-dung.xlsx", XLSX_MIME)
