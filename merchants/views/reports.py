"""Coverage reports: drill-down pages from the country to the households still missing, and their exports.

Each page and its CSV, XLSX (and for a market or commune, PDF) come from the same view and the same
service call, so an export holds exactly what the screen shows.
"""

from __future__ import annotations

import io
import re
from datetime import date

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from merchants import charts, exports, identity
from merchants import status as st
from merchants.clock import vn_today
from merchants.coverage import Coverage
from merchants.db import get_session
from merchants.services import reports as rs
from merchants.services.registry_queries import get_market
from merchants.services.settings import target_for
from merchants.views.downloads import download
from merchants.views.helpers import requires, settings_defaults, viewer
from printouts.report import ReportPage, render_report

bp = Blueprint("reports", __name__, url_prefix="/reports")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ENDPOINTS = {
    "country": "reports.country",
    "province": "reports.province",
    "commune": "reports.commune",
    "market": "reports.market",
}
ID_ARG = {"province": "province_id", "commune": "commune_id", "market": "market_id"}


def _today() -> date:
    return vn_today()


def _target(market_id: int | None = None) -> rs.Target:
    """The programme's target (its settings page), or a market's own target on that market's pages."""
    percent, by = target_for(get_session(), market_id, settings_defaults())
    return rs.Target(percent, by)


@bp.app_template_global()
def report_url(level: str, area_id: int | str | None, **kwargs: str) -> str:
    """Link to an area's report page (or export, with fmt=...)."""
    ids = {ID_ARG[level]: area_id} if level in ID_ARG else {}
    return url_for(ENDPOINTS[level], **ids, **kwargs)


@bp.app_template_filter("thousands")
def thousands(n: int | None) -> str:
    return "—" if n is None else charts.thousands(n)


def _download(data: bytes, name: str, fmt: str) -> Response:
    slug = re.sub(r"[^a-z0-9]+", "-", identity.search_key(name)).strip("-") or "bao-cao"
    return download(data, f"phu-qr-{slug}-{_today():%Y%m%d}.{fmt}", MIMETYPES[fmt])


def _chart_words() -> charts.ChartWords:
    return charts.ChartWords(
        added=_("Hộ mới có QR trong tuần"),
        total=_("Cộng dồn"),
        weeks_from=_("Tuần bắt đầu từ %(date)s", date="{date}"),
        empty=_("Chưa có hộ nào được cấp mã QR."),
        summary=_("Số hộ có mã QR cộng dồn theo tuần, từ %(date)s: %(n)s hộ.", date="{date}", n="{n}"),
    )


def _target_text(progress: rs.Progress) -> str:
    t = progress.target
    text = _("Mục tiêu %(p)s%% (%(n)s hộ)", p=t.percent, n=progress.households)
    if t.by:
        text += " " + _("trước %(d)s", d=t.by.strftime("%d/%m/%Y"))
    if not progress.short:
        return text + " · " + _("đã đạt")
    text += " · " + _("còn thiếu %(n)s hộ", n=progress.short)
    if progress.per_week:
        text += " · " + _("cần %(n)s hộ/tuần trong %(w)s tuần", n=progress.per_week, w=progress.weeks_left)
    return text


def _respond(report: rs.Report, fmt: str) -> Response | str:
    target = _target(report.id if report.level == "market" else None)
    progress = target.progress(report.coverage, _today())
    table = exports.report_table(report)
    trend = exports.trend_table(report.trend, report.coverage.total)
    active_trend = exports.active_trend_table(report.active_trend)
    if fmt == "csv":
        return _download(exports.csv_bytes(table), report.name, fmt)
    if fmt == "xlsx":
        return _download(exports.xlsx_bytes([table, trend, active_trend]), report.name, fmt)
    layout = charts.trend_layout(
        report.trend,
        target_count=progress.households,
        target_date=target.by,
        target_label=_("Mục tiêu %(p)s%%: %(n)s hộ", p=target.percent, n=progress.households),
        words=_chart_words(),
    )
    funnel = [(step, n, Coverage(n, report.funnel.registered).percent) for step, n in report.funnel.steps()]
    place = ", ".join(c.name for c in reversed(report.crumbs) if c.level != "country")
    if fmt == "pdf":
        return _download(_pdf(report, table, layout, target, _target_text(progress), place), report.name, fmt)
    return render_template(
        "reports/area.html",
        report=report,
        table=table,
        trend=trend,
        place=place,
        chart=Markup(charts.svg(layout)),
        funnel=funnel,
        band=report.coverage.band(target.percent),
        target_text=_target_text(progress),
        target=target,
        active_trend=active_trend,
        active_chart=Markup(charts.svg(_active_layout(report))),
    )


def _active_layout(report: rs.Report) -> charts.ChartLayout:
    """The weekly households-receiving chart, drawn by the coverage chart's code (bars and a line per week)."""
    points = tuple(rs.TrendPoint(p.week, p.households, p.households) for p in report.active_trend)
    words = charts.ChartWords(
        added=_("Hộ nhận thanh toán trong tuần"),
        total=_("Hộ nhận thanh toán trong tuần"),
        weeks_from=_("Tuần bắt đầu từ %(date)s", date="{date}"),
        empty=_("Chưa có khoản thanh toán nào được ghi nhận."),
        summary=_("Số hộ nhận thanh toán mỗi tuần, từ %(date)s: %(n)s hộ tuần gần nhất.", date="{date}", n="{n}"),
    )
    return charts.trend_layout(points, target_count=None, target_date=None, target_label="", words=words)


def _pdf(
    report: rs.Report, table: exports.Table, layout: charts.ChartLayout, target: rs.Target, target_text: str, place: str
) -> bytes:
    cells = lambda row: tuple("—" if c is None else thousands(c) if isinstance(c, int) else str(c) for c in row)  # noqa: E731
    cov = report.coverage
    page = ReportPage(
        title=report.name,
        place=place,
        percent="—" if cov.percent is None else f"{cov.percent}%",
        band=cov.band(target.percent),
        headline=_("%(c)s/%(t)s hộ đã có mã QR", c=thousands(cov.covered), t=thousands(cov.total)),
        target=target_text,
        funnel=tuple((st.LABELS_VI[s], n) for s, n in report.funnel.steps()),
        chart=layout,
        headers=table.headers,
        rows=tuple(cells(r) for r in table.rows),
        total=cells(table.total),
        footer=_("ChoQR · báo cáo phủ mã QR · lập ngày %(d)s", d=_today().strftime("%d/%m/%Y")),
        note=_("Chỉ gồm các chợ bạn phụ trách.") if report.partial else "",
        figures=len(exports.FIGURE_HEADERS),
    )
    buf = io.BytesIO()
    render_report(page, buf)
    return buf.getvalue()


@bp.get("/")
@requires("view")
def index():  # noqa: ANN201
    level, area_id = rs.home(get_session(), viewer())
    return redirect(report_url(level, area_id))


@bp.get("/country")
@bp.get("/country/export.<any(csv, xlsx):fmt>")
@requires("view")
def country(fmt: str = "html"):  # noqa: ANN201
    return _respond(rs.area_report(get_session(), viewer(), "country", None, today=_today()), fmt)


@bp.get("/provinces/<int:province_id>")
@bp.get("/provinces/<int:province_id>/export.<any(csv, xlsx):fmt>")
@requires("view")
def province(province_id: int, fmt: str = "html"):  # noqa: ANN201
    return _respond(rs.area_report(get_session(), viewer(), "province", province_id, today=_today()), fmt)


@bp.get("/communes/<int:commune_id>")
@bp.get("/communes/<int:commune_id>/export.<any(csv, xlsx, pdf):fmt>")
@requires("view")
def commune(commune_id: int, fmt: str = "html"):  # noqa: ANN201
    return _respond(rs.area_report(get_session(), viewer(), "commune", commune_id, today=_today()), fmt)


@bp.get("/markets/<int:market_id>")
@bp.get("/markets/<int:market_id>/export.<any(csv, xlsx, pdf):fmt>")
@requires("view")
def market(market_id: int, fmt: str = "html"):  # noqa: ANN201
    session = get_session()
    return _respond(rs.market_report(session, get_market(session, viewer(), market_id), today=_today()), fmt)


@bp.get("/markets/<int:market_id>/missing")
@bp.get("/markets/<int:market_id>/missing/export.<any(csv, xlsx):fmt>")
@requires("view")
def missing(market_id: int, fmt: str = "html"):  # noqa: ANN201
    v = viewer()
    result = rs.missing_households(
        get_session(), v, market_id, zone=request.args.get("zone"), show_pii=v.can("pii"), today=_today()
    )
    table = exports.missing_table(result)
    if fmt == "csv":
        return _download(exports.csv_bytes(table), table.title, fmt)
    if fmt == "xlsx":
        return _download(exports.xlsx_bytes([table]), table.title, fmt)
    return render_template(
        "reports/missing.html", result=result, table=table, band=result.coverage.band(_target(market_id).percent)
    )
