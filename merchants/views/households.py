"""Households: register at a stall, view with its QR, edit, change the bank account, history."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import Session
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from merchants import identity, scan_warnings, stallcodes
from merchants.db import get_session
from merchants.errors import DomainError, Duplicate, EditConflict, Forbidden, NotFound
from merchants.forms import ChangeAccountForm, EditHouseholdForm, QRPhotoForm, RegisterForm
from merchants.services import households as hs
from merchants.services import payment_stats
from merchants.services.placards import single_placard_pdf
from merchants.services.registry_queries import (
    MarketInfo,
    StallChoice,
    get_market,
    household_history,
    household_view,
    search_households,
    stall_choice,
)
from merchants.views.downloads import download
from merchants.views.helpers import attach_error, client_ip, requires, search_terms, translated, viewer
from qr import VietQRError, decode_image, get_bank, parse_payload, png_bytes, svg_text

bp = Blueprint("households", __name__)


def _duplicate_link(exc: DomainError) -> str | None:
    if isinstance(exc, Duplicate) and exc.existing_id:
        return url_for("households.show", household_id=exc.existing_id)
    return None


def _prefill_from_photo(form: RegisterForm, photo_form: QRPhotoForm) -> str | None:
    """Decode the household's existing bank-app QR and fill bank and account; returns an error or None."""
    data = photo_form.photo.data.read() if photo_form.photo.data else b""
    if not data:
        return _("Hãy chọn hoặc chụp ảnh mã QR.")
    try:
        texts = decode_image(data)
    except VietQRError as exc:
        return _("Không đọc được ảnh: %(error)s", error=exc)
    for text in texts:
        try:
            parsed = parse_payload(text)
        except VietQRError:
            continue
        if parsed.scheme == "vietqr" and parsed.service == "account" and parsed.bin and parsed.account:
            if get_bank(parsed.bin) is None:
                return _("Mã QR thuộc ngân hàng có mã BIN %(bin)s, chưa có trong danh sách NAPAS.", bin=parsed.bin)
            form.bin.data, form.account_number.data = parsed.bin, parsed.account
            if parsed.merchant_name and not (form.holder_name.data or "").strip():
                form.holder_name.data = identity.holder_name_from(parsed.merchant_name)
            if not parsed.account.isdigit():
                flash(
                    _(
                        "Tài khoản trong mã QR có chữ (tài khoản định danh). Hãy đối chiếu với chủ hộ rồi đánh "
                        "dấu ô xác nhận tài khoản định danh."
                    ),
                    "warning",
                )
            if parsed.warnings:
                # Read whole (the CRC is right); what did not follow the standard is only shown, never used.
                flash(
                    _(
                        "Mã QR có trường không đúng chuẩn, đã bỏ qua: %(w)s",
                        w="; ".join(translated(scan_warnings.phrase(w)) for w in parsed.warnings[:5]),
                    ),
                    "info",
                )
            return None
    if not texts:
        return _("Không tìm thấy mã QR trong ảnh. Hãy chụp gần hơn, đủ sáng, không lóa.")
    return _("Mã QR trong ảnh không phải mã VietQR chuyển khoản đến tài khoản (có thể là VNPay-QR hoặc ví).")


@bp.route("/markets/<int:market_id>/register", methods=["GET", "POST"])
@requires("register")
def register(market_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    form, photo_form = RegisterForm(), QRPhotoForm(prefix="qr")
    form.fill_banks()
    posted = request.method == "POST"
    # Another zone or the next page of stalls, asked for without JavaScript: the form comes back as typed.
    browsing = posted and (request.form.get("action") == "zone" or "stall_after" in request.form)
    duplicate_url = stall_url = None
    if posted and request.form.get("action") == "prefill":
        browsing = True
        if photo_form.validate():
            error = _prefill_from_photo(form, photo_form)
            if error:
                photo_form.photo.errors = [error]
            else:
                flash(_("Đã điền ngân hàng và số tài khoản từ mã QR. Hãy xác nhận tên chủ tài khoản."), "success")
    elif not browsing and form.validate_on_submit():
        account = (
            hs.AccountInput(
                form.bin.data,
                form.account_number.data,
                form.holder_name.data or "",
                alias=bool(form.account_alias.data),
            )
            if form.bin.data
            else None
        )
        new_stall = (
            hs.NewStall(form.new_stall_code.data, form.new_stall_zone.data or "")
            if (form.new_stall_code.data or "").strip()
            else None
        )
        try:
            h = hs.register_household(
                session,
                info,
                stall_ids=form.stall_ids.data or [],
                household=hs.HouseholdInput(
                    form.owner_name.data, form.phone.data or "", form.citizen_id.data or "", form.goods.data or ""
                ),
                account=account,
                new_stall=new_stall,
                source_ip=client_ip(),
            )
        except DomainError as exc:
            _attach_register_error(form, exc)
            stall_url = _existing_stall_link(exc, market_id, form.new_stall_code.data)
            duplicate_url = None if stall_url else _duplicate_link(exc)
        else:
            flash(_("Đã đăng ký hộ %(name)s.", name=h.owner_name), "success")
            return redirect(url_for("households.show", household_id=h.id))
    choice = _offer_stalls(form, session, info)
    return render_template(
        "households/register.html",
        form=form,
        photo_form=photo_form,
        info=info,
        choice=choice,
        duplicate_url=duplicate_url,
        stall_url=stall_url,
    ), 422 if posted and not browsing else 200


@bp.get("/markets/<int:market_id>/register/stalls")
@requires("register")
def register_stalls(market_id: int) -> Response:
    """One page of a zone's free stalls as JSON: what the register form's script loads when the zone changes or
    "more" is tapped, the same page the form's own buttons show without JavaScript."""
    session = get_session()
    zone, after = _stall_page_asked(request.args)
    choice = stall_choice(session, get_market(session, viewer(), market_id), zone=zone, after=after)
    return jsonify(
        zone=choice.zone,
        free=choice.free_in_zone,
        stalls=[{"id": sid, "code": code, "label": _stall_label(code, z)} for sid, code, z in choice.stalls],
        more_after=choice.more_after,
    )


def _stall_label(code: str, zone: str) -> str:
    return f"{code} – {zone}" if zone else code


def _stall_page_asked(values: MultiDict[str, str]) -> tuple[str | None, str]:
    """The zone and the code its page starts after, as a link, a button or the script asked."""
    return values.get("zone"), values.get("stall_after", "")


def _offer_stalls(form: RegisterForm, session: Session, info: MarketInfo) -> StallChoice:
    """Put the stalls the form offers into its choices: those chosen (or named by the market page's link to a
    stall, ``?stall=CODE``, then chosen), then one page of a zone's free stalls; never the whole market."""
    values = request.form if request.method == "POST" else request.args
    named = "" if request.method == "POST" else request.args.get("stall", "")
    zone, after = _stall_page_asked(values)
    chosen = (form.stall_ids.data or []) if request.method == "POST" else []
    choice = stall_choice(session, info, chosen=chosen, named=named, zone=zone, after=after)
    if named:
        form.stall_ids.data = [sid for sid, code, _ in choice.stalls if code == named]
    form.stall_ids.choices = [SelectChoice(sid, _stall_label(code, zone)) for sid, code, zone in choice.stalls]
    return choice


def _attach_register_error(form: RegisterForm, exc: DomainError) -> None:
    """The service names the stalls a household takes ``stalls`` (as the API and the import do); here they are
    the stall list's field."""
    if exc.field == "stalls":
        form.stall_ids.errors = [*form.stall_ids.errors, translated(exc)]
    else:
        attach_error(form, exc)


def _existing_stall_link(exc: DomainError, market_id: int, typed: str | None) -> str | None:
    """The stall an officer tried to add although the market lists it: its page (household or registration)."""
    if not (isinstance(exc, Duplicate) and exc.field == "new_stall_code"):
        return None
    return url_for("markets.stall", market_id=market_id, code=stallcodes.clean_stall_code(typed or ""))


@bp.get("/households/<int:household_id>")
@requires("view")
def show(household_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    hv = household_view(session, v, household_id)
    bank = get_bank(hv.account.bin) if hv.account else None
    now = datetime.now(UTC)
    return render_template(
        "households/show.html",
        hv=hv,
        bank=bank,
        show_pii=v.can("pii"),
        mask=identity.mask_tail,
        phone=identity.format_phone,
        payments=payment_stats.household_payments(session, household_id, now=now),
        payments_stopped=payment_stats.stopped_flag(session, v, household_id, hv.market.market.id, now=now),
    )


@bp.get("/households/<int:household_id>/qr.<fmt>")
@requires("view")
def qr_image(household_id: int, fmt: str):  # noqa: ANN201
    hv = household_view(get_session(), viewer(), household_id)
    if hv.qr is None or fmt not in ("png", "svg"):
        abort(404)
    if fmt == "svg":
        return Response(svg_text(hv.qr.payload), mimetype="image/svg+xml")
    resp = Response(png_bytes(hv.qr.payload, scale=6), mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


@bp.post("/households/<int:household_id>/placard")
@requires("print")
def placard(household_id: int):  # noqa: ANN201
    layout = request.form.get("layout", "a6")
    try:
        pdf, filename = single_placard_pdf(get_session(), viewer(), household_id, layout=layout)
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        flash(translated(exc), "error")
        return redirect(url_for("households.show", household_id=household_id))
    return download(pdf, filename, "application/pdf")


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
@requires("edit")
def edit(household_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    hv = household_view(session, v, household_id)
    form = EditHouseholdForm(obj=None)
    if request.method == "GET":
        h = hv.household
        form.owner_name.data, form.phone.data = h.owner_name, identity.format_phone(h.phone)
        form.citizen_id.data, form.goods.data, form.version.data = h.citizen_id, h.goods, str(h.version)
    current, duplicate_url = None, None
    if form.validate_on_submit():
        try:
            hs.update_household(
                session,
                v,
                household_id,
                expected_version=_form_version(form),
                household=hs.HouseholdInput(
                    form.owner_name.data, form.phone.data or "", form.citizen_id.data or "", form.goods.data or ""
                ),
                source_ip=client_ip(),
            )
        except EditConflict as exc:
            attach_error(form, exc)
            current = household_view(session, v, household_id).household
            form.version.data = str(current.version)
        except DomainError as exc:
            attach_error(form, exc)
            duplicate_url = _duplicate_link(exc)
        else:
            flash(_("Đã lưu thông tin hộ."), "success")
            return redirect(url_for("households.show", household_id=household_id))
    status = 409 if current else 422 if request.method == "POST" else 200
    return render_template(
        "households/edit.html",
        form=form,
        hv=hv,
        current=current,
        duplicate_url=duplicate_url,
        phone=identity.format_phone,
        show_pii=v.can("pii"),
        mask=identity.mask_tail,
    ), status


def _form_version(form: EditHouseholdForm | ChangeAccountForm) -> int:
    """The version the form was opened at; a tampered value counts as stale (a conflict), never a crash."""
    value = (form.version.data or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else 0


@bp.route("/households/<int:household_id>/account", methods=["GET", "POST"])
@requires("edit")
def change_account(household_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    hv = household_view(session, v, household_id)
    form = ChangeAccountForm()
    form.fill_banks()
    if request.method == "GET":
        form.version.data = str(hv.household.version)
        form.holder_name.data = (
            hv.account.holder_name if hv.account else identity.holder_name_from(hv.household.owner_name)
        )
    current, duplicate_url = None, None
    if form.validate_on_submit():
        try:
            hs.change_account(
                session,
                v,
                household_id,
                expected_version=_form_version(form),
                account=hs.AccountInput(
                    form.bin.data or "",
                    form.account_number.data or "",
                    form.holder_name.data or "",
                    alias=bool(form.account_alias.data),
                ),
                reason=form.reason.data,
                source_ip=client_ip(),
            )
        except EditConflict as exc:
            attach_error(form, exc)
            current = hv = household_view(session, v, household_id)
            form.version.data = str(current.household.version)
        except DomainError as exc:
            attach_error(form, exc)
            duplicate_url = _duplicate_link(exc)
        else:
            flash(_("Đã đổi tài khoản. Mã QR cũ đã bị thu hồi; bảng QR cần in lại."), "warning")
            return redirect(url_for("households.show", household_id=household_id))
    status = 409 if current else 422 if request.method == "POST" else 200
    bank = get_bank(hv.account.bin) if hv.account else None
    return render_template(
        "households/account.html",
        form=form,
        hv=hv,
        bank=bank,
        current=current,
        duplicate_url=duplicate_url,
        show_pii=v.can("pii"),
        mask=identity.mask_tail,
    ), status


@bp.get("/households/<int:household_id>/history")
@requires("view")
def history(household_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    hv = household_view(session, v, household_id)
    entries, accounts = household_history(session, hv)
    return render_template(
        "households/history.html",
        hv=hv,
        entries=entries,
        accounts=accounts,
        details=[_detail(e.detail) for e in entries],
        show_pii=v.can("pii"),
        mask=identity.mask_tail,
        get_bank=get_bank,
    )


def _detail(text: str) -> dict:
    """An audit row's JSON detail as a dict for the page; anything else is shown as it is."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"": text} if text else {}
    return value if isinstance(value, dict) else {"": text}


@bp.get("/households/search")
@requires("view")
def search():  # noqa: ANN201
    v = viewer()
    hits = search_households(get_session(), v, search_terms(request.args.get("q", "")), show_pii=v.can("pii"))
    return jsonify(
        [
            {
                "id": h.household_id,
                "owner_name": h.owner_name,
                "market": h.market_name,
                "stalls": h.stalls,
                "phone": h.phone,
                "url": url_for("households.show", household_id=h.household_id),
            }
            for h in hits
        ]
    )
