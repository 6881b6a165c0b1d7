"""Importing a household list into a market: the upload page, the per-row report, and a template file."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from merchants.db import get_session
from merchants.errors import DomainError
from merchants.services.importing import import_households
from merchants.services.registry_queries import get_market
from merchants.spreadsheet import template_xlsx
from merchants.views.downloads import download
from merchants.views.helpers import attach_error, requires, viewer

bp = Blueprint("imports", __name__)
SHOWN_PROBLEMS, SHOWN_SKIPPED = 1000, 200
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp danh sách (.xlsx hoặc .csv)"), validators=[FileRequired(_l("Hãy chọn tệp cần nhập."))])
    dry_run = BooleanField(_l("Chạy thử: chỉ kiểm tra, không lưu gì"))
    all_or_nothing = BooleanField(_l("Chỉ lưu khi mọi dòng đều hợp lệ"))
    sheet = StringField(_l("Trang tính (khi tệp có nhiều trang)"), validators=[Optional(), Length(max=100)])


@bp.route("/markets/<int:market_id>/import", methods=["GET", "POST"])
@requires("register")
def upload(market_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = import_households(
                session,
                v,
                market_id=market_id,
                data=upload.read(),
                filename=upload.filename or "",
                dry_run=form.dry_run.data,
                all_or_nothing=form.all_or_nothing.data,
                sheet=(form.sheet.data or "").strip() or None,
            )
        except DomainError as exc:
            attach_error(form, exc)
        else:
            return render_template(
                "imports/result.html",
                info=info,
                report=report,
                shown_problems=SHOWN_PROBLEMS,
                shown_skipped=SHOWN_SKIPPED,
            )
    status = 422 if form.is_submitted() else 200
    return render_template("imports/upload.html", info=info, form=form), status


@bp.get("/markets/<int:market_id>/import/mau-danh-sach.xlsx")
@requires("register")
def template(market_id: int):  # noqa: ANN201
    get_market(get_session(), viewer(), market_id)
    return download(template_xlsx(), "mau-danh-sach-ho.xlsx", XLSX_MIME)
