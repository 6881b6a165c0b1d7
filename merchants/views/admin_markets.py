"""Markets, zones and stalls of a programme (administrators): list, create, edit, close; stalls by zone; imports.

Views parse, call one service and put its error under the field it names. The commune picker works without
JavaScript: its buttons submit the form with GET, which re-renders it with everything typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from merchants import roles
from merchants.db import get_session
from merchants.errors import DomainError, Duplicate, EditConflict, Forbidden, NotFound
from merchants.forms_setup import (
    STALL_STATE_CHOICES,
    AddStallsForm,
    MarketForm,
    SetupImportForm,
    StallForm,
    ZoneRenameForm,
)
from merchants.models import STALL_STATES
from merchants.services import areas
from merchants.services import market_import as mi
from merchants.services import setup_markets as sm
from merchants.services import stalls as st
from merchants.services.settings import get_settings
from merchants.views.helpers import (
    N_,
    ROLE_REFUSED,
    attach_error,
    client_ip,
    paginate,
    settings_defaults,
    translated,
    viewer,
)

bp = Blueprint("admin_markets", __name__, url_prefix="/admin/markets")
MARKETS_PER_PAGE, STALLS_PER_PAGE, SHOWN_NOTES = 50, 100, 500
ALL_ZONES = "*"


def admin_only(fn: Callable) -> Callable:
    """Sign-in and the administrator role; which markets they manage is the services' business."""

    @wraps(fn)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if viewer().role != roles.ADMIN:
            raise Forbidden(ROLE_REFUSED)
        return fn(*args, **kwargs)

    return wrapper


def _page() -> int:
    """The page asked for, within what any list can hold (a huge number would overflow the SQL offset)."""
    return max(1, min(request.args.get("page", 1, type=int), 1_000_000))


@bp.get("/")
@admin_only
def index():  # noqa: ANN201
    q, state = request.args.get("q", "")[:100], request.args.get("state", "")
    state = state if state in ("open", "closed") else ""
    rows, total = sm.list_markets(
        get_session(),
        viewer(),
        q=q,
        state=state,
        offset=(max(_page(), 1) - 1) * MARKETS_PER_PAGE,
        limit=MARKETS_PER_PAGE,
    )
    return render_template(
        "admin/markets/index.html", rows=rows, pager=paginate(total, _page(), MARKETS_PER_PAGE), q=q, state=state
    )


def _picking() -> bool:
    """The form came back through one of the picker's GET buttons (province shown, commune searched)."""
    return request.method == "GET" and ("commune_q" in request.args or "province" in request.args)


def _fill_areas(form: MarketForm, province_code: str = "") -> str | None:
    """Province choices (the viewer's), then that province's communes or the search's; returns the search note."""
    session, v = get_session(), viewer()
    scope = None if v.sees_everything else v.province_ids
    provinces = areas.list_provinces(session, ids=scope)
    form.province.choices = [("", _("— Chọn tỉnh / thành phố —"))] + [(p.code, p.name) for p in provinces]
    codes = {p.code for p in provinces}
    chosen = form.province.data if form.province.data in codes else province_code if province_code in codes else ""
    form.province.data = chosen or (provinces[0].code if len(provinces) == 1 else "")
    q, note = (form.commune_q.data or "").strip(), None
    if q:
        rows = areas.search_communes(session, q, province_ids=scope)
        note = (
            _("%(n)s xã/phường khớp '%(q)s'; chọn trong danh sách bên dưới.", n=len(rows), q=q)
            if rows
            else _("Không có xã/phường nào khớp '%(q)s'.", q=q)
        )
        if len(rows) == 1 and not form.commune_code.data:
            form.commune_code.data, form.province.data = rows[0].code, rows[0].province_code
    else:
        rows = areas.list_communes(session, form.province.data) if form.province.data else []
    choices = [(r.code, f"{r.name} ({r.code})" + (f" – {r.province_name}" if q else "")) for r in rows]
    picked = form.commune_code.data
    if picked and picked not in {c for c, _label in choices}:
        try:
            commune = areas.commune_by_code(session, picked, open_only=False)
            choices.insert(0, (picked, f"{commune.name} ({picked})"))
        except NotFound:
            form.commune_code.data = ""
    form.commune_code.choices = [("", _("— Chọn xã / phường —"))] + choices
    return note


def _market_input(form: MarketForm) -> sm.MarketInput:
    return sm.MarketInput(
        form.code.data or "",
        form.name.data or "",
        form.commune_code.data or "",
        form.address.data or "",
        bool(form.is_demo.data),
        form.target_percent.data or "",
        form.target_date.data or "",
    )


def _render_form(
    form: MarketForm,
    status: int,
    *,
    info: Any = None,
    current: Any = None,
    province_code: str = "",
    duplicate_url: str | None = None,
):  # noqa: ANN202
    note = _fill_areas(form, province_code)
    return render_template(
        "admin/markets/form.html",
        form=form,
        info=info,
        current=current,
        search_note=note,
        programme=get_settings(get_session(), settings_defaults()),
        duplicate_url=duplicate_url,
    ), status


def _duplicate_market(exc: DomainError) -> str | None:
    if isinstance(exc, Duplicate) and exc.existing_id:
        return url_for("admin_markets.edit", market_id=exc.existing_id)
    return None


@bp.route("/new", methods=["GET", "POST"])
@admin_only
def create():  # noqa: ANN201
    form = MarketForm(formdata=request.args) if _picking() else MarketForm()
    duplicate_url = None
    if form.validate_on_submit():
        try:
            market = sm.create_market(get_session(), viewer(), _market_input(form), source_ip=client_ip())
        except DomainError as exc:
            attach_error(form, exc)
            duplicate_url = _duplicate_market(exc)
        else:
            flash(_("Đã tạo chợ %(name)s. Hãy thêm các sạp của chợ.", name=market.name), "success")
            return redirect(url_for("admin_markets.stalls", market_id=market.id))
    return _render_form(form, 422 if request.method == "POST" else 200, duplicate_url=duplicate_url)


def _fill_from(form: MarketForm, info: Any) -> None:
    m = info.market
    form.code.data, form.name.data, form.address.data, form.is_demo.data = m.code, m.name, m.address, m.is_demo
    form.province.data, form.commune_code.data = info.province.code, info.commune.code
    form.target_percent.data = str(m.target_percent) if m.target_percent else ""
    form.target_date.data = m.target_date.isoformat() if m.target_date else ""
    form.version.data = str(m.version)


@bp.route("/<int:market_id>/edit", methods=["GET", "POST"])
@admin_only
def edit(market_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = sm.get_managed_market(session, v, market_id)
    form = MarketForm(formdata=request.args) if _picking() else MarketForm()
    if request.method == "GET" and not _picking():
        _fill_from(form, info)
    current = duplicate_url = None
    if form.validate_on_submit():
        version = (form.version.data or "").strip()
        try:
            sm.update_market(
                session,
                v,
                market_id,
                _market_input(form),
                source_ip=client_ip(),
                expected_version=int(version) if version.isdigit() and len(version) < 10 else 0,
            )
        except EditConflict as exc:
            attach_error(form, exc)
            current = info = sm.get_managed_market(session, v, market_id)
            form.version.data = str(current.market.version)
        except DomainError as exc:
            attach_error(form, exc)
            duplicate_url = _duplicate_market(exc)
        else:
            flash(_("Đã lưu thông tin chợ."), "success")
            return redirect(url_for("admin_markets.index"))
    status = 409 if current else 422 if request.method == "POST" else 200
    return _render_form(
        form, status, info=info, current=current, province_code=info.province.code, duplicate_url=duplicate_url
    )


def _set_market_closed(market_id: int, closed: bool):  # noqa: ANN202
    try:
        market = sm.set_closed(get_session(), viewer(), market_id, closed=closed, source_ip=client_ip())
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        flash(translated(exc), "error")
    else:
        flash(
            _("Đã đóng chợ %(name)s. Hộ, sạp và lịch sử vẫn được giữ.", name=market.name)
            if closed
            else _("Đã mở lại chợ %(name)s.", name=market.name),
            "success",
        )
    return redirect(url_for("admin_markets.edit", market_id=market_id))


@bp.post("/<int:market_id>/close")
@admin_only
def close(market_id: int):  # noqa: ANN201
    return _set_market_closed(market_id, True)


@bp.post("/<int:market_id>/reopen")
@admin_only
def reopen(market_id: int):  # noqa: ANN201
    return _set_market_closed(market_id, False)


def _stall_filters() -> dict[str, Any]:
    zone = request.args.get("zone", ALL_ZONES)
    state = request.args.get("state", "")
    return {"zone": zone, "state": state if state in STALL_STATES else "", "q": request.args.get("q", "")[:40]}


def _render_stalls(market_id: int, add_form: AddStallsForm, zone_form: ZoneRenameForm, status: int = 200):  # noqa: ANN202
    session, v = get_session(), viewer()
    info = sm.get_managed_market(session, v, market_id)
    zones = st.zone_counts(session, v, market_id)
    zone_form.zone.choices = [(z.zone, z.zone or _("(không có khu)")) for z in zones]
    f = _stall_filters()
    kwargs = {"zone": None if f["zone"] == ALL_ZONES else f["zone"], "state": f["state"], "q": f["q"]}
    rows, total = st.stall_page(
        session, v, market_id, offset=(max(_page(), 1) - 1) * STALLS_PER_PAGE, limit=STALLS_PER_PAGE, **kwargs
    )
    pager = paginate(total, _page(), STALLS_PER_PAGE)
    if pager.start != (max(_page(), 1) - 1) * STALLS_PER_PAGE:
        rows, _total = st.stall_page(session, v, market_id, offset=pager.start, limit=STALLS_PER_PAGE, **kwargs)
    params = {
        "market_id": market_id,
        "q": f["q"] or None,
        "state": f["state"] or None,
        "zone": None if f["zone"] == ALL_ZONES else f["zone"],
    }
    return render_template(
        "admin/markets/stalls.html",
        info=info,
        zones=zones,
        rows=rows,
        pager=pager,
        filters=f,
        params=params,
        states=STALL_STATE_CHOICES,
        all_zones=ALL_ZONES,
        add_form=add_form,
        zone_form=zone_form,
    ), status


@bp.route("/<int:market_id>/stalls", methods=["GET", "POST"])
@admin_only
def stalls(market_id: int):  # noqa: ANN201
    form = AddStallsForm()
    if form.validate_on_submit():
        try:
            added = st.add_stalls(
                get_session(),
                viewer(),
                market_id,
                codes=form.codes.data,
                zone=form.zone.data or "",
                source_ip=client_ip(),
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            attach_error(form, exc)
        else:
            if added.created:
                flash(
                    _(
                        "Đã thêm %(n)s sạp (%(first)s → %(last)s).",
                        n=len(added.created),
                        first=added.created[0],
                        last=added.created[-1],
                    ),
                    "success",
                )
            if added.existing:
                shown = ", ".join(added.existing[:10]) + ("…" if len(added.existing) > 10 else "")
                flash(_("%(n)s mã đã có trong chợ, bỏ qua: %(codes)s", n=len(added.existing), codes=shown), "warning")
            return redirect(
                url_for("admin_markets.stalls", market_id=market_id, zone=st.clean_zone(form.zone.data or ""))
            )
    return _render_stalls(market_id, form, ZoneRenameForm(prefix="rename"), 422 if request.method == "POST" else 200)


@bp.post("/<int:market_id>/zones/rename")
@admin_only
def rename_zone(market_id: int):  # noqa: ANN201
    form = ZoneRenameForm(prefix="rename")
    if form.validate_on_submit():
        try:
            moved = st.rename_zone(
                get_session(),
                viewer(),
                market_id,
                zone=form.zone.data or "",
                new_zone=form.new_zone.data,
                source_ip=client_ip(),
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            attach_error(form, exc)
        else:
            flash(_("Đã đổi tên khu cho %(n)s sạp.", n=moved), "success")
            return redirect(
                url_for("admin_markets.stalls", market_id=market_id, zone=st.clean_zone(form.new_zone.data))
            )
    return _render_stalls(market_id, AddStallsForm(formdata=None), form, 422)


def _render_stall(
    market_id: int,
    stall_id: int,
    form: StallForm,
    status: int = 200,
    *,
    action_error: DomainError | None = None,
    duplicate_url: str | None = None,
):  # noqa: ANN202
    session, v = get_session(), viewer()
    info = sm.get_managed_market(session, v, market_id)
    detail = st.stall_detail(session, v, market_id, stall_id)
    if request.method == "GET" or action_error:
        form.code.data, form.zone.data = detail.stall.code, detail.stall.zone
    return render_template(
        "admin/markets/stall.html",
        info=info,
        detail=detail,
        form=form,
        action_error=action_error,
        duplicate_url=duplicate_url,
    ), status


@bp.route("/<int:market_id>/stalls/<int:stall_id>", methods=["GET", "POST"])
@admin_only
def stall(market_id: int, stall_id: int):  # noqa: ANN201
    form, duplicate_url = StallForm(), None
    if form.validate_on_submit():
        try:
            s = st.edit_stall(
                get_session(),
                viewer(),
                market_id,
                stall_id,
                code=form.code.data,
                zone=form.zone.data or "",
                source_ip=client_ip(),
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            attach_error(form, exc)
            if isinstance(exc, Duplicate):
                duplicate_url = url_for("admin_markets.stall", market_id=market_id, stall_id=exc.existing_id)
        else:
            flash(_("Đã lưu sạp %(code)s.", code=s.code), "success")
            return redirect(url_for("admin_markets.stalls", market_id=market_id, zone=s.zone))
    return _render_stall(
        market_id, stall_id, form, 422 if request.method == "POST" else 200, duplicate_url=duplicate_url
    )


def _stall_action(market_id: int, stall_id: int, action: Callable[..., Any], done: str):  # noqa: ANN202
    """Close, reopen or delete: on refusal the stall page says why (409), else back with a message."""
    try:
        result = action(get_session(), viewer(), market_id, stall_id, source_ip=client_ip())
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        return _render_stall(market_id, stall_id, StallForm(formdata=None), 409, action_error=exc)
    code = result if isinstance(result, str) else result.code
    flash(_(done, code=code), "success")
    if isinstance(result, str):
        return redirect(url_for("admin_markets.stalls", market_id=market_id))
    return redirect(url_for("admin_markets.stall", market_id=market_id, stall_id=stall_id))


@bp.post("/<int:market_id>/stalls/<int:stall_id>/close")
@admin_only
def stall_close(market_id: int, stall_id: int):  # noqa: ANN201
    return _stall_action(
        market_id, stall_id, lambda *a, **k: st.set_stall_closed(*a, closed=True, **k), N_("Đã đóng sạp %(code)s.")
    )


@bp.post("/<int:market_id>/stalls/<int:stall_id>/reopen")
@admin_only
def stall_reopen(market_id: int, stall_id: int):  # noqa: ANN201
    return _stall_action(
        market_id, stall_id, lambda *a, **k: st.set_stall_closed(*a, closed=False, **k), N_("Đã mở lại sạp %(code)s.")
    )


@bp.post("/<int:market_id>/stalls/<int:stall_id>/delete")
@admin_only
def stall_delete(market_id: int, stall_id: int):  # noqa: ANN201
    return _stall_action(market_id, stall_id, st.delete_stall, N_("Đã xoá sạp %(code)s."))


def _import_page(kind: str, info: Any = None):  # noqa: ANN202
    session, v, form = get_session(), viewer(), SetupImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        options = {
            "data": upload.read(),
            "filename": upload.filename or "",
            "dry_run": form.dry_run.data,
            "all_or_nothing": form.all_or_nothing.data,
            "source_ip": client_ip(),
        }
        try:
            report = (
                mi.import_markets(session, v, update_existing=form.update_existing.data, **options)
                if kind == "markets"
                else mi.import_stalls(session, v, market_id=info.market.id if info else None, **options)
            )
        except (NotFound, Forbidden):
            raise
        except DomainError as exc:
            attach_error(form, exc)
        else:
            return render_template("admin/markets/import_result.html", report=report, info=info, shown=SHOWN_NOTES)
    return render_template(
        "admin/markets/import.html",
        form=form,
        kind=kind,
        info=info,
        schema=mi.MARKETS if kind == "markets" else mi.STALLS,
    ), 422 if form.is_submitted() else 200


@bp.route("/import", methods=["GET", "POST"])
@admin_only
def import_markets():  # noqa: ANN201
    return _import_page("markets")


@bp.route("/import/stalls", methods=["GET", "POST"])
@admin_only
def import_stalls():  # noqa: ANN201
    return _import_page("stalls")


@bp.route("/<int:market_id>/stalls/import", methods=["GET", "POST"])
@admin_only
def import_market_stalls(market_id: int):  # noqa: ANN201
    return _import_page("stalls", sm.get_managed_market(get_session(), viewer(), market_id))
