"""Setting up a programme (administrators): getting started, programme settings, official units, audit."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from merchants import areas
from merchants.db import get_session
from merchants.errors import DomainError, EditConflict
from merchants.forms_admin import AreaLoadForm, SettingsForm
from merchants.services import areas as area_service
from merchants.services.audit_queries import audit_entries
from merchants.services.settings import get_settings, update_settings
from merchants.services.setup_status import setup_status
from merchants.views.helpers import attach_error, paginate, requires, settings_defaults, translated, viewer

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PER_PAGE = 50
UPLOAD_MAX = areas.MAX_BYTES


@bp.get("")
@requires("users")
def home():  # noqa: ANN201
    """The getting-started checklist: what a new programme still has to set up, each step one link away."""
    status = setup_status(get_session(), viewer())
    return render_template("admin/home.html", status=status, programme=get_settings(get_session(), settings_defaults()))


@bp.route("/settings", methods=["GET", "POST"])
@requires("users")
def settings():  # noqa: ANN201
    session, v = get_session(), viewer()
    current = get_settings(session, settings_defaults())
    form = SettingsForm(
        data={
            "name": current.name,
            "target_percent": current.target_percent,
            "target_date": current.target_date,
            "version": current.version,
        }
        if request.method == "GET"
        else None
    )
    status = 200
    if form.validate_on_submit():
        try:
            update_settings(
                session,
                v,
                name=form.name.data,
                target_percent=form.target_percent.data,
                target_date=form.target_date.data,
                expected_version=int(form.version.data or 0),
                defaults=settings_defaults(),
            )
        except EditConflict as exc:
            session.rollback()
            form.form_errors.append(translated(exc))
            form.version.data = current.version
            status = 409
        except DomainError as exc:
            session.rollback()
            attach_error(form, exc)
            status = 400
        else:
            flash(_("Đã lưu cài đặt chương trình."), "info")
            return redirect(url_for("admin.home"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/settings.html", form=form, current=current, editable=v.sees_everything), status


@bp.get("/areas")
@requires("users")
def area_list():  # noqa: ANN201
    """The official units: provinces, one province's communes, or a search without diacritics."""
    session, v = get_session(), viewer()
    q = request.args.get("q", "")[:80].strip()
    province = request.args.get("province", "")[:2]
    limit_to = None if v.sees_everything else v.province_ids
    provinces = area_service.list_provinces(session, include_closed=True, ids=limit_to)
    communes, chosen = [], None
    if q:
        communes = area_service.search_communes(session, q, province_ids=limit_to, limit=100)
    elif province:
        chosen = next((p for p in provinces if p.code == province), None)
        if chosen is not None:
            communes = area_service.list_communes(session, province, include_closed=True)
    return render_template(
        "admin/areas.html", provinces=provinces, communes=communes, chosen=chosen, q=q, can_load=v.sees_everything
    )


@bp.route("/areas/load", methods=["GET", "POST"])
@requires("users")
def area_load():  # noqa: ANN201
    """Load a newer official list: a dry run shows what would change; only a programme-wide admin applies it."""
    session, v = get_session(), viewer()
    form = AreaLoadForm()
    changes, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(UPLOAD_MAX + 1) if upload else areas.SHIPPED.read_bytes()
        name = upload.filename if upload else areas.SHIPPED.name
        try:
            changes = area_service.load_units(
                session, v, areas.parse_units(data), dry_run=form.dry_run.data, source=name
            )
        except DomainError as exc:
            session.rollback()
            attach_error(form, exc)
            status = 400
        else:
            if not form.dry_run.data and not changes.empty:
                flash(_("Đã nạp danh sách địa bàn mới."), "info")
    elif request.method == "POST":
        status = 400
    return render_template("admin/area_load.html", form=form, changes=changes, can_load=v.sees_everything), status


@bp.get("/audit")
@requires("users")
def audit():  # noqa: ANN201
    """Who did what and when: every set-up action and every change to a household, newest first."""
    session, v = get_session(), viewer()
    action = request.args.get("action", "")[:40]
    total = audit_entries(session, v, limit=0, action=action)[1]
    pager = paginate(total, request.args.get("page", 1, type=int), AUDIT_PER_PAGE)
    entries, _total = audit_entries(session, v, offset=pager.start, limit=AUDIT_PER_PAGE, action=action)
    return render_template("admin/audit.html", entries=entries, pager=pager, action=action)
