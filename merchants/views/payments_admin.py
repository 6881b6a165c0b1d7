"""Payments pages: the sources admin page, statement uploads and the households with a QR to visit.

A new or rotated key is shown once, in the page that answers the POST (never in a URL, a flash or a log).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from merchants import exports
from merchants.db import get_session
from merchants.errors import DomainError, NotFound
from merchants.payment_models import PaymentSource
from merchants.services import payment_sources, payment_stats
from merchants.services.registry_queries import get_market
from merchants.services.statement_import import import_statement
from merchants.services.user_scope import AreaGrant
from merchants.views.downloads import download
from merchants.views.helpers import attach_error, client_ip, requires, translated, viewer

bp = Blueprint("payments", __name__)
SHOWN_PROBLEMS = 1000
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
KIND_LABELS = {"sepay": "SePay (webhook)", "casso": "Casso (webhook)", "statement": _l("Tệp sao kê")}


class SourceForm(FlaskForm):
    name = StringField(_l("Tên nguồn"), validators=[DataRequired(_l("Hãy đặt tên cho nguồn.")), Length(max=60)])
    kind = SelectField(_l("Loại"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    provinces = StringField(_l("Mã tỉnh/thành phố"), validators=[Optional(), Length(max=200)])
    communes = StringField(_l("Mã xã/phường"), validators=[Optional(), Length(max=400)])
    markets = StringField(_l("Mã chợ"), validators=[Optional(), Length(max=400)])


class StatementForm(FlaskForm):
    source = SelectField(_l("Nguồn sao kê"), choices=[])
    file = FileField(_l("Tệp sao kê (.xlsx hoặc .csv)"), validators=[FileRequired(_l("Hãy chọn tệp cần nhập."))])
    dry_run = BooleanField(_l("Chạy thử: chỉ kiểm tra, không lưu gì"))
    sheet = StringField(_l("Trang tính (khi tệp có nhiều trang)"), validators=[Optional(), Length(max=100)])


def _page(form: SourceForm, *, key: str | None = None, keyed: str = "", status: int = 200):  # noqa: ANN202
    rows = payment_sources.list_sources(get_session(), viewer())
    return render_template(
        "payments/sources.html", rows=rows, form=form, key=key, keyed=keyed, kinds=KIND_LABELS
    ), status


@bp.route("/admin/payments", methods=["GET", "POST"])
@requires("users")
def sources():  # noqa: ANN201
    form = SourceForm()
    if form.validate_on_submit():
        try:
            source, key = payment_sources.add_source(
                get_session(),
                name=form.name.data,
                kind=form.kind.data,
                scope=AreaGrant.of([form.provinces.data or ""], [form.communes.data or ""], [form.markets.data or ""]),
                actor=viewer(),
                source_ip=client_ip(),
            )
        except DomainError as exc:
            get_session().rollback()
            attach_error(form, exc)
        else:
            if key is None:
                flash(_("Đã tạo nguồn sao kê %(name)s.", name=source.name), "success")
                return redirect(url_for("payments.sources"))
            return _page(SourceForm(formdata=None), key=key, keyed=source.name)
    return _page(form, status=422 if form.is_submitted() else 200)


def _source(source_id: int) -> PaymentSource:
    source = get_session().get(PaymentSource, source_id)
    if source is None:
        raise NotFound(_("Không có nguồn thanh toán này."))
    return source


@bp.post("/admin/payments/<int:source_id>/rotate")
@requires("users")
def rotate(source_id: int):  # noqa: ANN201
    source = _source(source_id)
    try:
        key = payment_sources.rotate_source(get_session(), source.name, actor=viewer(), source_ip=client_ip())
    except DomainError as exc:
        flash(translated(exc), "error")
        return redirect(url_for("payments.sources"))
    return _page(SourceForm(formdata=None), key=key, keyed=source.name)


@bp.post("/admin/payments/<int:source_id>/revoke")
@requires("users")
def revoke(source_id: int):  # noqa: ANN201
    source = _source(source_id)
    payment_sources.revoke_source(get_session(), source.name, actor=viewer(), source_ip=client_ip())
    flash(_("Đã thu hồi nguồn %(name)s; các khoản đã ghi nhận vẫn giữ.", name=source.name), "success")
    return redirect(url_for("payments.sources"))


@bp.route("/admin/payments/statements", methods=["GET", "POST"])
@requires("users")
def statements():  # noqa: ANN201
    session, v = get_session(), viewer()
    form = StatementForm()
    form.source.choices = [
        SelectChoice(r.name, r.name)
        for r in payment_sources.list_sources(session, v)
        if r.kind == "statement" and not r.revoked_at
    ]
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = import_statement(
                session,
                v,
                source_name=form.source.data,
                data=upload.read(),
                filename=upload.filename or "",
                dry_run=form.dry_run.data,
                sheet=(form.sheet.data or "").strip() or None,
            )
        except DomainError as exc:
            session.rollback()
            attach_error(form, exc)
        else:
            return render_template("payments/statement_result.html", report=report, shown=SHOWN_PROBLEMS)
    status = 422 if form.is_submitted() else 200
    return render_template("payments/statement_upload.html", form=form), status


@bp.get("/reports/markets/<int:market_id>/to-visit")
@bp.get("/reports/markets/<int:market_id>/to-visit/export.<any(csv, xlsx):fmt>")
@requires("view")
def to_visit(market_id: int, fmt: str = "html"):  # noqa: ANN201
    """Households with a QR and no payment in 30 days, and placards that stopped while neighbours receive."""
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    rows = payment_stats.to_visit(session, v, market_id, now=datetime.now(UTC), zone=request.args.get("zone"))
    table = exports.visit_table(info.market.name, rows)
    if fmt in ("csv", "xlsx"):
        data = exports.csv_bytes(table) if fmt == "csv" else exports.xlsx_bytes([table])
        return download(data, f"can-den-{info.market.code.lower()}.{fmt}", MIMETYPES[fmt])
    return render_template("payments/to_visit.html", info=info, rows=rows, table=table)
