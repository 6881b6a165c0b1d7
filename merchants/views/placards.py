"""Placards: print a batch for a market and follow it to the download; verify a placard hanging at a stall."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from wtforms import BooleanField, SelectField
from wtforms.fields import SelectChoice

from merchants import jobs
from merchants.db import get_session
from merchants.errors import DomainError
from merchants.forms import PrintForm, VerifyForm
from merchants.services import batch_queries as bq
from merchants.services import batches as bs
from merchants.services import verification as vs
from merchants.services.registry_queries import get_market, stall_by_code
from merchants.views.downloads import download
from merchants.views.helpers import attach_error, requires, translated, viewer

bp = Blueprint("placards", __name__)
log = logging.getLogger(__name__)


def _select_choices(unbound):  # noqa: ANN001, ANN202 - a WTForms UnboundField
    """The same SelectField with its (value, label) tuples as SelectChoice: tuples warn since WTForms 3.3."""
    kwargs = dict(unbound.kwargs, choices=[SelectChoice(v, label) for v, label in unbound.kwargs["choices"]])
    return SelectField(*unbound.args, **kwargs)


class _PrintForm(PrintForm):
    """``forms.PrintForm`` as is, minus the deprecated tuple choices; drop once forms.py uses SelectChoice."""

    layout = _select_choices(PrintForm.layout)
    selection = _select_choices(PrintForm.selection)
    confirm_replace = BooleanField()  # ticked on the confirmation step: yes, revoke the placards now hanging


def _batch_dir() -> Path:
    return Path(current_app.config["BATCH_DIR"])


@bp.route("/markets/<int:market_id>/placards", methods=["GET", "POST"])
@requires("print")
def batch(market_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    form = _PrintForm()
    if form.validate_on_submit():
        try:
            req = bs.build_request(
                layout=form.layout.data,
                selection=form.selection.data,
                zone=form.zone.data or "",
                stall_codes=form.stall_codes.data or "",
            )
            replacing = 0 if form.confirm_replace.data else bs.hanging_placards(session, info, req)
            job = None if replacing else bs.start_batch(session, info, req, batch_dir=_batch_dir())
        except DomainError as exc:
            attach_error(form, exc)
        else:
            if job is None:  # ask first: how many placards hanging in the market this batch would revoke
                return render_template(
                    "placards/batch.html",
                    info=info,
                    form=form,
                    replacing=replacing,
                    counts=bq.printable_counts(session, info),
                    rows=bq.list_batches(session, info, batch_dir=_batch_dir()),
                    label=bq.selection_label,
                ), 409
            _enqueue(job.batch_id)
            return redirect(url_for(".batch_status", market_id=market_id, batch_id=job.batch_id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "placards/batch.html",
        info=info,
        form=form,
        counts=bq.printable_counts(session, info),
        rows=bq.list_batches(session, info, batch_dir=_batch_dir()),
        label=bq.selection_label,
    ), status


def _enqueue(batch_id: int) -> None:
    """Hand the batch to the job queue; if the queue is down the batch stays queued and the reaper resends it."""
    try:
        jobs.enqueue_batch(current_app._get_current_object(), batch_id)
    except Exception:  # the batch row is committed; its page shows it waiting
        log.exception("could not queue print batch %s", batch_id)


@bp.get("/markets/<int:market_id>/placards/batches/<int:batch_id>")
@requires("print")
def batch_status(market_id: int, batch_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    b = bq.get_batch(session, info, batch_id)
    state = bs.state_of(b)
    placards = bq.batch_placards(session, b.id) if state == bs.DONE else []
    return render_template(
        "placards/status.html",
        info=info,
        b=b,
        state=state,
        placards=placards,
        percent=bq.percent(b.done, b.total),
        sheets=bq.sheets(b.layout, b.total),
        label=bq.selection_label,
        who=bq.creator_name(session, b),
        has_file=bs.pdf_path(_batch_dir(), b.id).exists(),
        reason=bq.failure(b),
    )


@bp.get("/markets/<int:market_id>/placards/batches/<int:batch_id>.json")
@requires("print")
def batch_progress(market_id: int, batch_id: int):  # noqa: ANN201
    session = get_session()
    b = bq.get_batch(session, get_market(session, viewer(), market_id), batch_id)
    state = bs.state_of(b)
    done = state == bs.DONE
    return jsonify(
        id=b.id,
        status=state,
        done=b.done,
        total=b.total,
        percent=bq.percent(b.done, b.total),
        error=translated(reason) if state == bs.FAILED and (reason := bq.failure(b)) else None,
        download=url_for(".batch_pdf", market_id=market_id, batch_id=b.id) if done else None,
    )


@bp.get("/markets/<int:market_id>/placards/batches/<int:batch_id>/pdf")
@requires("print")
def batch_pdf(market_id: int, batch_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    code = info.market.code
    b = bq.get_batch(session, info, batch_id)
    path = bs.pdf_path(_batch_dir(), b.id)
    if bs.state_of(b) != bs.DONE or not path.exists():
        abort(404)
    return download(path, f"bang-qr-{code}-lo{b.id}-{b.layout}.pdf", "application/pdf")


@bp.get("/markets/<int:market_id>/verify")
@requires("verify")
def verify_market(market_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    code, error = request.args.get("stall", "").strip(), None
    if code:
        try:
            stall = stall_by_code(session, info, code)
        except DomainError as exc:
            error = translated(exc)
        else:
            return redirect(url_for(".verify", market_id=market_id, code=stall.code))
    return render_template(
        "placards/verify_market.html",
        info=info,
        code=code,
        error=error,
        stall_codes=vs.stall_codes(session, info),
        checks=vs.recent_checks(session, info),
    )


@bp.route("/markets/<int:market_id>/stalls/<code>/verify", methods=["GET", "POST"])
@requires("verify")
def verify(market_id: int, code: str):  # noqa: ANN201
    session = get_session()
    info = get_market(session, viewer(), market_id)
    ctx = vs.stall_context(session, info, code)
    form, result = VerifyForm(), None
    if form.validate_on_submit():
        try:
            photo = form.photo.data.read() if form.photo.data else b""
            payload = vs.payload_from_photo(photo) if photo else (form.payload.data or "")
            result = vs.verify_placard(session, info, code, payload, serial=request.form.get("serial", "")[:32])
        except DomainError as exc:
            attach_error(form, exc)
        else:
            ctx = vs.stall_context(session, info, code)
            form.payload.data = ""  # ready for the next scan; the verdict shows what was checked
    status = 422 if request.method == "POST" and result is None else 200
    return render_template(
        "placards/verify.html",
        ctx=ctx,
        form=form,
        result=result,
        checks=vs.recent_checks(session, info, stall_id=ctx.stall.id, limit=10),
    ), status
