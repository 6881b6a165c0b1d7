"""Importing a household list into a market: the upload page, the per-row report, and a template file."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from merchants.db import get_session
from merchants.errors import DomainError
from merchants.jobs import enqueue_import
from merchants.models import ImportJob
from merchants.services import batch_queries as bq
from merchants.services import import_jobs
from merchants.services.registry_queries import get_market
from merchants.spreadsheet import template_xlsx
from merchants.views.downloads import download
from merchants.views.helpers import attach_error, requires, translated, viewer

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
            started = import_jobs.start(
                session,
                v,
                market_id=market_id,
                data=upload.read(),
                filename=upload.filename or "",
                dry_run=form.dry_run.data,
                all_or_nothing=form.all_or_nothing.data,
                sheet=(form.sheet.data or "").strip() or None,
                inline_rows=int(current_app.config.get("IMPORT_INLINE_ROWS", import_jobs.INLINE_ROWS)),
            )
        except DomainError as exc:
            attach_error(form, exc)
        else:
            if started.job_id is not None:
                enqueue_import(current_app._get_current_object(), started.job_id)
                return redirect(url_for(".job", market_id=market_id, job_id=started.job_id), 303)
            report = started.report
            return render_template(
                "imports/result.html",
                info=info,
                report=report,
                shown_problems=SHOWN_PROBLEMS,
                shown_skipped=SHOWN_SKIPPED,
            )
    status = 422 if form.is_submitted() else 200
    return render_template("imports/upload.html", info=info, form=form), status


@bp.get("/markets/<int:market_id>/import/jobs/<int:job_id>")
@requires("register")
def job(market_id: int, job_id: int):  # noqa: ANN201
    """A long list being imported by the job queue: its progress, then the same report as a short list gets."""
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    found = import_jobs.get_job(session, info, job_id)
    report = import_jobs.report_of(found)
    if report is not None:
        return render_template(
            "imports/result.html", info=info, report=report, shown_problems=SHOWN_PROBLEMS, shown_skipped=SHOWN_SKIPPED
        )
    return render_template("imports/job.html", info=info, job=found, progress=_progress(found))


@bp.get("/markets/<int:market_id>/import/jobs/<int:job_id>.json")
@requires("register")
def job_progress(market_id: int, job_id: int):  # noqa: ANN201
    session = get_session()
    found = import_jobs.get_job(session, get_market(session, viewer(), market_id), job_id)
    return jsonify(_progress(found))


STAGES = {
    "": _l("Đang chờ tiến trình nền…"),
    "checking": _l("Đang kiểm tra các dòng"),
    "verifying": _l("Đang tạo và đọc lại mã QR"),
    "storing": _l("Đang lưu các hộ"),
}


def _progress(found: ImportJob) -> dict[str, object]:
    return {
        "status": found.status,
        "done": found.done,
        "total": found.total,
        "percent": bq.percent(found.done, found.total),
        "text": f"{STAGES.get(found.stage, '')}: {found.done}/{found.total}" if found.stage else str(STAGES[""]),
        "error": translated(reason) if (reason := import_jobs.failure(found)) else None,
    }


@bp.get("/markets/<int:market_id>/import/mau-danh-sach.xlsx")
@requires("register")
def template(market_id: int):  # noqa: ANN201
    get_market(get_session(), viewer(), market_id)
    return download(template_xlsx(), "mau-danh-sach-ho.xlsx", XLSX_MIME)
