"""Verifying the placard hanging at a stall: the four outcomes, what is recorded, and who may do it."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from factories import login, make_household, make_market, make_user
from PIL import Image
from sqlmodel import select

from merchants import status as st
from merchants.models import AuditLog, Household, IssuedQR, Placard, PlacardCheck, StatusEvent
from merchants.scope import SYSTEM, viewer_for
from merchants.services import households as hs
from merchants.services import verification as vs
from merchants.services.placards import single_placard_pdf
from merchants.services.registry_queries import get_market
from qr import build_payload


def photo_of(pdf: bytes) -> bytes:
    """A phone-like photo of the first placard: rasterised, slightly rotated, JPEG-compressed."""
    image = pdfium.PdfDocument(pdf)[0].render(scale=150 / 72).to_pil().convert("RGB")
    image = image.rotate(4, expand=True, fillcolor=(200, 190, 170))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.fixture
def stall(session):
    """Market with two printed households at A-001 and A-002; returns (market, household at A-001, its PDF)."""
    market = make_market(session, stalls=3)
    first, second = make_household(session, market), make_household(session, market)
    pdf, _ = single_placard_pdf(session, SYSTEM, first.id)
    single_placard_pdf(session, SYSTEM, second.id)
    return market, first, pdf


def _verify(client, market, code="A-001", **data):
    return client.post(f"/markets/{market.id}/stalls/{code}/verify", data=data, content_type="multipart/form-data")


def _checks(session):
    session.expire_all()
    return list(session.exec(select(PlacardCheck).order_by(PlacardCheck.id)))


def _payload(session, household):
    return session.exec(
        select(IssuedQR.payload).where(IssuedQR.household_id == household.id, IssuedQR.revoked_at.is_(None))
    ).one()


def test_a_photo_of_the_right_placard_matches_and_the_household_becomes_verified(client, session, stall):
    market, h, pdf = stall
    staff = make_user(session, "print_staff", provinces=["22"])
    login(client, staff)
    resp = _verify(client, market, photo=(io.BytesIO(photo_of(pdf)), "bang.jpg"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Khớp: đúng bảng QR của sạp này" in page and "Đã kiểm tra bảng" in page
    live = session.exec(select(Placard).where(Placard.household_id == h.id)).one()
    (check,) = _checks(session)
    assert (check.result, check.placard_id, check.payload, check.checked_by_id) == (
        "match",
        live.id,
        _payload(session, h),
        staff.id,
    )
    assert session.get(Household, h.id).status == st.PLACARD_VERIFIED
    assert session.exec(select(StatusEvent.status).order_by(StatusEvent.id.desc())).first() == st.PLACARD_VERIFIED
    audit = session.exec(select(AuditLog).where(AuditLog.action == "placard.check")).one()
    assert '"result": "match"' in audit.detail and live.serial in audit.detail


def test_an_old_placard_after_an_account_change_is_reported_as_revoked(client, session, stall):
    market, h, old_pdf = stall
    old_payload = _payload(session, h)
    old_placard = session.exec(select(Placard).where(Placard.household_id == h.id)).one()
    hs.change_account(
        session,
        SYSTEM,
        h.id,
        expected_version=h.version,
        account=hs.AccountInput("970415", "101234567890", ""),
        reason="Đổi sang VietinBank",
    )
    login(client, make_user(session, "print_staff", provinces=["22"]))
    page = _verify(client, market, photo=(io.BytesIO(photo_of(old_pdf)), "bang.jpg")).get_data(as_text=True)
    assert "Mã cũ đã thu hồi" in page and old_placard.serial in page
    (check,) = _checks(session)
    assert (check.result, check.placard_id, check.payload) == ("revoked", old_placard.id, old_payload)
    assert session.get(Household, h.id).status == st.QR_ISSUED


def test_a_placard_of_another_stall_names_where_it_belongs(client, session, stall):
    market, h, _ = stall
    neighbour = session.exec(select(Household).where(Household.id != h.id)).one()
    login(client, make_user(session, "print_staff", provinces=["22"]))
    page = _verify(client, market, payload=_payload(session, neighbour)).get_data(as_text=True)
    assert "Mã của sạp khác" in page and "sạp A-002" in page and neighbour.owner_name in page
    (check,) = _checks(session)
    neighbour_placard = session.exec(select(Placard).where(Placard.household_id == neighbour.id)).one()
    assert (check.result, check.placard_id) == ("other_stall", neighbour_placard.id)


def test_a_foreign_sticker_is_flagged_loudly_and_undoes_an_earlier_verification(client, session, stall):
    market, h, pdf = stall
    login(client, make_user(session, "print_staff", provinces=["22"]))
    _verify(client, market, photo=(io.BytesIO(photo_of(pdf)), "bang.jpg"))
    session.expire_all()
    assert session.get(Household, h.id).status == st.PLACARD_VERIFIED
    fraud = build_payload(bin="970422", account="0999888777666")
    resp = _verify(client, market, payload=fraud + "\n")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Không phải mã của ChoQR – có thể gian lận" in page and 'class="verdict foreign"' in page
    assert "MB" in page and "0999888777666" in page  # the account the sticker pays, as evidence
    assert [c.result for c in _checks(session)] == ["match", "foreign"]
    assert _checks(session)[1].payload == fraud and _checks(session)[1].placard_id is None
    session.expire_all()
    assert session.get(Household, h.id).status == st.PLACARD_PRINTED


def test_text_that_is_not_a_vietqr_is_not_ours_either(client, session, stall):
    market, _, _ = stall
    login(client, make_user(session, "print_staff", provinces=["22"]))
    page = _verify(client, market, payload="https://vi-dien-tu.example/pay?to=123").get_data(as_text=True)
    assert "có thể gian lận" in page
    assert [c.result for c in _checks(session)] == ["foreign"]


def test_a_live_qr_without_a_recorded_placard_matches_but_does_not_move_the_status(client, session):
    market = make_market(session, stalls=1)
    h = make_household(session, market)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    page = _verify(client, market, payload=_payload(session, h)).get_data(as_text=True)
    assert "Khớp" in page and "Chưa có bảng in được ghi nhận cho hộ này" in page
    assert [(c.result, c.placard_id) for c in _checks(session)] == [("match", None)]
    assert session.get(Household, h.id).status == st.QR_ISSUED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Hãy chụp ảnh bảng QR hoặc dán nội dung mã đã quét."),
        ({"photo": (io.BytesIO(b"not an image"), "bang.jpg")}, "Không đọc được ảnh"),
        ({"photo": (io.BytesIO(b""), "bang.pdf")}, "Chỉ nhận ảnh PNG, JPEG hoặc WEBP."),
    ],
)
def test_an_unreadable_scan_is_refused_and_nothing_is_recorded(client, session, stall, data, message):
    market, _, _ = stall
    login(client, make_user(session, "print_staff", provinces=["22"]))
    resp = _verify(client, market, **data)
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert _checks(session) == []


def test_a_photo_without_any_qr_asks_for_a_closer_shot(client, session, stall):
    market, _, _ = stall
    login(client, make_user(session, "print_staff", provinces=["22"]))
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(blank, "PNG")
    blank.seek(0)
    resp = _verify(client, market, photo=(blank, "bang.png"))
    assert resp.status_code == 422 and "Không tìm thấy mã QR trong ảnh" in resp.get_data(as_text=True)


def test_the_stall_page_has_a_camera_input_and_the_market_page_picks_a_stall(client, session, stall):
    market, _, _ = stall
    login(client, make_user(session, "print_staff", provinces=["22"]))
    page = client.get(f"/markets/{market.id}/stalls/A-001/verify").get_data(as_text=True)
    assert 'capture="environment"' in page and 'accept="image/*"' in page and 'enctype="multipart/form-data"' in page
    assert f"/markets/{market.id}/verify" in client.get(f"/markets/{market.id}").get_data(as_text=True)
    picker = client.get(f"/markets/{market.id}/verify?stall=A-002")
    assert picker.status_code == 302 and picker.headers["Location"] == f"/markets/{market.id}/stalls/A-002/verify"
    missing = client.get(f"/markets/{market.id}/verify?stall=Z-9").get_data(as_text=True)
    assert "Không có sạp &#39;Z-9&#39; trong chợ này." in missing or "Không có sạp 'Z-9' trong chợ này." in missing
    _verify(client, market, payload="rubbish")
    listing = client.get(f"/markets/{market.id}/verify").get_data(as_text=True)
    assert "Không phải mã của ChoQR" in listing and 'class="alarm"' in listing


def test_verification_is_scoped_to_the_staff_area_and_role(client, session, stall):
    market, h, _ = stall
    make_market(session, province_code="01")
    login(client, make_user(session, "print_staff", provinces=["01"]))
    assert client.get(f"/markets/{market.id}/verify").status_code == 404
    assert client.get(f"/markets/{market.id}/stalls/A-001/verify").status_code == 404
    assert _verify(client, market, payload=_payload(session, h)).status_code == 404
    client.post("/logout")
    login(client, make_user(session, "market_manager", markets=[market]))
    assert client.get(f"/markets/{market.id}/stalls/A-001/verify").status_code == 403
    assert "Kiểm tra bảng QR" not in client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert _checks(session) == []


def test_another_stall_outside_the_viewer_area_is_not_named(session):
    ours = make_market(session, stalls=1)
    theirs = make_market(session, stalls=1, province_code="01")
    make_household(session, ours)
    stranger = make_household(session, theirs, owner_name="Trần Văn Khác")
    staff = make_user(session, "print_staff", provinces=["22"])
    result = vs.verify_placard(
        session, get_market(session, viewer_for(session, staff), ours.id), "A-001", _payload(session, stranger)
    )
    assert result.outcome == "other_stall" and result.elsewhere == vs.Elsewhere(visible=False)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [("LIVE", "match"), ("OLD", "revoked"), ("ELSEWHERE", "other_stall"), ("STRANGER", "foreign")],
)
def test_classify_reads_the_outcome_from_what_the_stall_should_show(payload, expected):
    ours = payload != "STRANGER"
    assert vs.classify(payload, live="LIVE", old_here={"OLD"}, ours=ours) == expected
    assert vs.classify("LIVE", live=None, old_here=set(), ours=True) == "other_stall"


def test_after_a_reprint_with_the_same_payload_the_older_card_still_pays_the_household(client, session, stall):
    market, h, old_pdf = stall
    old = session.exec(select(Placard).where(Placard.household_id == h.id)).one()
    single_placard_pdf(session, SYSTEM, h.id)  # same account, so the same QR on a new serial
    session.expire_all()
    new = session.exec(select(Placard).where(Placard.household_id == h.id, Placard.revoked_at.is_(None))).one()
    login(client, make_user(session, "print_staff", provinces=["22"]))
    photo = photo_of(old_pdf)
    assert "Khớp" in _verify(client, market, photo=(io.BytesIO(photo), "a.jpg")).get_data(as_text=True)
    page = _verify(client, market, photo=(io.BytesIO(photo), "a.jpg"), serial=old.serial.lower()).get_data(as_text=True)
    # The same payload on a replaced card still pays this household: no alarm, just the older serial.
    assert "Vẫn trả tiền cho hộ này" in page and old.serial in page and new.serial in page
    assert "Mã cũ đã thu hồi" not in page
    assert "Khớp" in _verify(client, market, payload=_payload(session, h), serial=new.serial).get_data(as_text=True)
    assert [(c.result, c.placard_id) for c in _checks(session)] == [
        ("match", new.id),
        ("older_print", old.id),
        ("match", new.id),
    ]
    wrong = _verify(client, market, payload=_payload(session, h), serial=f"{market.code}-999999")
    assert wrong.status_code == 422 and "Không có bảng QR nào số phiếu" in wrong.get_data(as_text=True)
    assert len(_checks(session)) == 3


def test_a_scanned_payload_with_a_newline_or_bom_from_the_scanner_still_matches(client, session, stall):
    market, h, _pdf = stall
    login(client, make_user(session, "print_staff", provinces=["22"]))
    page = _verify(client, market, payload="\ufeff" + _payload(session, h) + "\r\n").get_data(as_text=True)
    assert "Khớp" in page


def test_a_scanned_payload_ending_in_nul_is_read_but_a_nul_typed_elsewhere_is_refused(client, session, stall):
    market, h, _pdf = stall
    login(client, make_user(session, "print_staff", provinces=["22"]))
    assert "Khớp" in _verify(client, market, payload=_payload(session, h) + "\x00").get_data(as_text=True)
    assert _verify(client, market, payload=_payload(session, h), serial="A\x00B").status_code == 400
