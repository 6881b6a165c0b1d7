"""Households through the officer's forms: duplicates, QR-photo prefill, account changes, audit and conflicts."""

import re

import pytest
from factories import free_stall, login, make_household, make_market, make_user
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from merchants import status as st
from merchants.models import AuditLog, BankAccount, Household, IssuedQR, Placard, Stall
from merchants.scope import SYSTEM
from merchants.services import households as hs
from merchants.services.audit import move_status
from merchants.services.registry_queries import get_market
from qr import build_payload, png_bytes


@pytest.fixture
def market(session):  # noqa: ANN001, ANN201
    return make_market(session, name="Chợ Cái Rồng", stalls=6)


@pytest.fixture
def officer(client, session, market):  # noqa: ANN001, ANN201
    user = make_user(session, markets=[market])
    login(client, user)
    return user


def _form(stall_id: int, **overrides: str) -> dict:
    data = {
        "owner_name": "Trần Văn Hùng",
        "phone": "0987 654 321",
        "citizen_id": "079090001234",
        "goods": "Cá",
        "stall_ids": str(stall_id),
        "bin": "970422",
        "account_number": "0123456789",
        "holder_name": "",
    }
    data.update(overrides)
    return data


def _field_errors(page: str, field: str) -> list[str]:
    """The error lines under one field of a rendered form."""
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page, re.S)
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', block.group(0)) if block else []


# --- duplicates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("account_number", "0011 0019 32418"),
        ("account_number", "0011001932418"),
        ("citizen_id", "022185001234"),
        ("citizen_id", "022 185 001 234"),
    ],
)
def test_an_exact_duplicate_is_refused_with_a_link_to_the_existing_household(
    client, session, market, officer, field, typed
):
    existing = make_household(
        session,
        market,
        owner_name="Nguyễn Thị Đào",
        bin="970436",
        account_number="0011001932418",
        citizen_id="022185001234",
    )
    overrides = {field: typed}
    if field == "account_number":
        overrides["bin"] = "970436"
    resp = client.post(f"/markets/{market.id}/register", data=_form(free_stall(session, market).id, **overrides))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _field_errors(page, field) and "hộ khác" in _field_errors(page, field)[0]
    assert f'href="/households/{existing.id}"' in page
    assert len(session.exec(select(Household)).all()) == 1
    assert len(session.exec(select(BankAccount)).all()) == 1


def test_the_same_account_number_at_another_bank_is_not_a_duplicate(client, session, market, officer):
    make_household(session, market, bin="970436", account_number="0123456789")
    resp = client.post(f"/markets/{market.id}/register", data=_form(free_stall(session, market).id, bin="970422"))
    assert resp.status_code == 302


def test_an_account_given_up_by_one_household_may_be_used_by_another(client, session, market, officer):
    first = make_household(session, market, bin="970422", account_number="0123456789")
    hs.change_account(
        session,
        SYSTEM,
        first.id,
        expected_version=first.version,
        reason="chủ hộ đổi ngân hàng",
        account=hs.AccountInput("970436", "0011001932418"),
    )
    resp = client.post(f"/markets/{market.id}/register", data=_form(free_stall(session, market).id))
    assert resp.status_code == 302


def _other_tablet_saves_during(monkeypatch, check_name: str, save) -> dict:  # noqa: ANN001
    """Run ``save`` right after the form's own duplicate check passed, as a faster second tablet would."""
    real, done = getattr(hs, check_name), {}

    def check_then_race(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        real(*args, **kwargs)
        if not done:
            done["racing"] = True
            done["household"] = save()

    monkeypatch.setattr(hs, check_name, check_then_race)
    return done


def _second_tablet_registers(session, market, stall_code: str, **account: str):  # noqa: ANN001, ANN202
    stall = session.exec(select(Stall).where(Stall.market_id == market.id, Stall.code == stall_code)).one()
    return hs.register_household(
        session,
        get_market(session, SYSTEM, market.id),
        stall_ids=[stall.id],
        household=hs.HouseholdInput("Lê Văn Nhanh"),
        account=hs.AccountInput(**account) if account else None,
    )


def test_an_account_saved_by_another_tablet_a_moment_earlier_is_still_refused_with_a_link(
    client, session, market, officer, monkeypatch
):
    race = _other_tablet_saves_during(
        monkeypatch,
        "_check_account_free",
        lambda: _second_tablet_registers(session, market, "A-006", bin="970422", account_number="0123456789"),
    )
    resp = client.post(f"/markets/{market.id}/register", data=_form(free_stall(session, market).id))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "hộ khác" in _field_errors(page, "account_number")[0]
    assert f'href="/households/{race["household"].id}"' in page
    assert [h.owner_name for h in session.exec(select(Household))] == ["Lê Văn Nhanh"]


def test_a_stall_taken_by_another_tablet_a_moment_earlier_is_refused_not_overwritten(
    client, session, market, officer, monkeypatch
):
    race = _other_tablet_saves_during(
        monkeypatch, "_check_citizen_id_free", lambda: _second_tablet_registers(session, market, "A-001")
    )
    resp = client.post(f"/markets/{market.id}/register", data=_form(free_stall(session, market).id))
    assert resp.status_code == 422
    assert "Sạp A-001 đã có hộ kinh doanh." in resp.get_data(as_text=True)
    session.expire_all()
    stall = session.exec(select(Stall).where(Stall.code == "A-001")).one()
    assert stall.household_id == race["household"].id
    assert len(session.exec(select(Household)).all()) == 1


def test_a_stall_already_taken_is_refused_with_a_link(client, session, market, officer):
    existing = make_household(session, market)
    taken = session.exec(select(Stall).where(Stall.household_id == existing.id)).one()
    resp = client.post(f"/markets/{market.id}/register", data=_form(taken.id))
    assert resp.status_code == 422
    assert len(session.exec(select(Household)).all()) == 1


def test_editing_to_another_households_citizen_id_is_refused_with_a_link(client, session, market, officer):
    other = make_household(session, market, citizen_id="022185001234")
    h = make_household(session, market, citizen_id="079090001234")
    resp = client.post(
        f"/households/{h.id}/edit",
        data={"owner_name": h.owner_name, "citizen_id": "022185001234", "version": str(h.version)},
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert _field_errors(page, "citizen_id")
    assert f'href="/households/{other.id}"' in page


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("dao", True),
        ("Đào", True),
        ("nguyen thi", True),
        ("NGUYEN THI DAO", True),
        ("Nguyễn Thị", True),
        ("0912345678", True),
        ("0912 345 678", True),
        ("+84 912 345 678", True),
        ("022185001234", True),
        ("0011001932418", True),
        ("hung", False),
        ("d", False),
    ],
)
def test_search_as_you_type_matches_without_diacritics(client, session, market, officer, q, found):
    h = make_household(
        session,
        market,
        owner_name="Nguyễn Thị Đào",
        phone="0912345678",
        citizen_id="022185001234",
        bin="970436",
        account_number="0011001932418",
    )
    hits = client.get("/households/search", query_string={"q": q}).get_json()
    assert ([x["id"] for x in hits] == [h.id]) is found
    if found:
        assert hits[0]["url"] == f"/households/{h.id}" and hits[0]["market"] == "Chợ Cái Rồng"


# --- prefill from a photo of the household's own bank QR ---------------------------------------------------


def _prefill(client, market, file_bytes: bytes, name: str = "qr.png", **kept: str):  # noqa: ANN001, ANN202
    import io

    data = {"action": "prefill", "qr-photo": (io.BytesIO(file_bytes), name), **kept}
    return client.post(f"/markets/{market.id}/register", data=data, content_type="multipart/form-data")


def test_a_photo_of_the_households_bank_qr_fills_bank_and_account(client, session, market, officer):
    png = png_bytes(build_payload(bin="970422", account="0123456789"))
    stall = free_stall(session, market)
    resp = _prefill(client, market, png, owner_name="Trần Văn Hùng", stall_ids=str(stall.id))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(r'<option selected value="970422">|<option value="970422" selected>', page)
    assert 'value="0123456789"' in page
    assert 'value="Trần Văn Hùng"' in page  # what was typed before the photo survives
    assert re.search(rf'<option selected value="{stall.id}">|<option value="{stall.id}" selected>', page)
    assert "Đã điền ngân hàng và số tài khoản" in page
    assert session.exec(select(Household)).all() == []


@pytest.mark.parametrize(
    ("file_bytes", "name", "message"),
    [
        (None, "qr.png", "không phải mã VietQR chuyển khoản"),
        (b"", "qr.png", "Hãy chọn hoặc chụp ảnh"),
        (b"not an image", "qr.png", "Không đọc được ảnh"),
        (b"%PDF-1.4", "qr.pdf", "Chỉ nhận ảnh PNG, JPEG hoặc WEBP."),
    ],
)
def test_a_photo_that_is_not_a_bank_transfer_qr_is_explained(client, market, officer, file_bytes, name, message):
    if file_bytes is None:
        file_bytes = png_bytes("https://example.com/not-a-payment")
    page = _prefill(client, market, file_bytes, name).get_data(as_text=True)
    assert message in page
    assert "Đã điền ngân hàng" not in page


# --- changing the bank account -----------------------------------------------------------------------------


def _printed(session, h: Household) -> Placard:  # noqa: ANN001
    """Give a household a printed placard, as the print run would."""
    qr = session.exec(select(IssuedQR).where(IssuedQR.household_id == h.id)).one()
    stall = session.exec(select(Stall).where(Stall.household_id == h.id)).one()
    p = Placard(serial=f"T-{h.id}", household_id=h.id, stall_id=stall.id, qr_id=qr.id)
    session.add(p)
    move_status(session, SYSTEM, h, st.PLACARD_PRINTED)
    session.commit()
    return p


def _change(client, h: Household, **overrides: str):  # noqa: ANN001, ANN202
    data = {
        "bin": "970422",
        "account_number": "0123456789",
        "holder_name": "NGUYEN THI DAO",
        "reason": "Chủ hộ chuyển sang tài khoản MB",
        "version": str(h.version),
    }
    data.update(overrides)
    return client.post(f"/households/{h.id}/account", data=data)


@pytest.mark.parametrize("reason", ["", "   ", "đổi"])
def test_an_account_change_needs_a_reason(client, session, market, officer, reason):
    h = make_household(session, market)
    resp = _change(client, h, reason=reason)
    assert resp.status_code == 422
    assert _field_errors(resp.get_data(as_text=True), "reason")
    assert len(session.exec(select(BankAccount)).all()) == 1


def test_an_account_change_keeps_history_revokes_the_qr_and_placard_and_is_audited(client, session, market, officer):
    h = make_household(session, market, bin="970436", account_number="0011001932418")
    placard = _printed(session, h)
    old_qr = session.exec(select(IssuedQR)).one()
    resp = _change(client, h)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/households/{h.id}"
    session.expire_all()

    old, new = session.exec(select(BankAccount).order_by(BankAccount.id)).all()
    assert (old.active, old.closed_reason) == (False, "Chủ hộ chuyển sang tài khoản MB") and old.closed_at
    assert (new.active, new.bin, new.account_number) == (True, "970422", "0123456789")
    qrs = session.exec(select(IssuedQR).order_by(IssuedQR.id)).all()
    assert qrs[0].id == old_qr.id and qrs[0].revoked_at is not None
    assert qrs[1].revoked_at is None and qrs[1].bank_account_id == new.id
    assert qrs[1].payload == build_payload(bin="970422", account="0123456789")
    assert session.get(Placard, placard.id).revoked_at is not None
    h = session.get(Household, h.id)
    assert (h.needs_reprint, h.status, h.version) == (True, st.QR_ISSUED, 2)

    audit = session.exec(select(AuditLog).where(AuditLog.action == "account.change")).one()
    assert audit.user_id == officer.id and audit.household_id == h.id
    assert "Chủ hộ chuyển sang tài khoản MB" in audit.detail
    assert "0011001932418" not in audit.detail and "2418" in audit.detail  # masked

    page = client.get(f"/households/{h.id}").get_data(as_text=True)
    assert "Cần in lại bảng QR" in page and qrs[1].payload in page and old_qr.payload not in page
    history = client.get(f"/households/{h.id}/history").get_data(as_text=True)
    assert "Chủ hộ chuyển sang tài khoản MB" in history
    assert "0011001932418" in history and "0123456789" in history
    assert "Cán Bộ Thử" in history


def test_changing_to_the_same_account_or_another_households_account_is_refused(client, session, market, officer):
    other = make_household(session, market, bin="970422", account_number="0123456789")
    h = make_household(session, market, bin="970436", account_number="0011001932418")
    resp = _change(client, h)
    assert resp.status_code == 422 and f'href="/households/{other.id}"' in resp.get_data(as_text=True)
    resp = _change(client, h, bin="970436", account_number="0011001932418", holder_name="NGUYEN THI DAO")
    assert resp.status_code == 422 and "trùng với tài khoản đang dùng" in resp.get_data(as_text=True)
    assert len(session.exec(select(BankAccount)).all()) == 2


def test_a_household_without_an_account_gets_its_first_one_here(client, session, market, officer):
    h = make_household(session, market, account=False)
    resp = _change(client, h, reason="Chủ hộ mới mở tài khoản")
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(Household, h.id).status == st.QR_ISSUED
    assert session.get(Household, h.id).needs_reprint is False


def test_the_audit_log_cannot_be_changed_or_deleted_even_by_the_database_user(session, market):
    make_household(session, market)
    row = session.exec(select(AuditLog)).first()
    with pytest.raises(DBAPIError, match="append-only"):
        session.exec(update(AuditLog).where(AuditLog.id == row.id).values(detail="{}"))
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.exec(delete(AuditLog).where(AuditLog.id == row.id))
    session.rollback()
    assert session.get(AuditLog, row.id).detail == row.detail


# --- two officers, one household ---------------------------------------------------------------------------


def test_the_second_of_two_edits_is_refused_and_shown_the_current_values(client, session, market, officer):
    h = make_household(session, market, owner_name="Nguyễn Thị Đào", goods="Rau")
    other_officer = make_user(session, markets=[market])
    from app import create_app  # noqa: F401 - the second tablet is just another client of the same app

    second = client.application.test_client()
    login(second, other_officer)
    form_a = client.get(f"/households/{h.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form_a
    resp = second.post(
        f"/households/{h.id}/edit", data={"owner_name": "Nguyễn Thị Đào", "goods": "Rau và trái cây", "version": "1"}
    )
    assert resp.status_code == 302

    resp = client.post(
        f"/households/{h.id}/edit", data={"owner_name": "Nguyễn Thị Đào", "goods": "Thịt heo", "version": "1"}
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "vừa được người khác sửa" in page
    assert "Rau và trái cây" in page  # the current value
    assert 'value="Thịt heo"' in page  # what this officer typed is kept to re-apply
    assert 'name="version" type="hidden" value="2"' in page
    session.expire_all()
    assert session.get(Household, h.id).goods == "Rau và trái cây"

    resp = client.post(
        f"/households/{h.id}/edit", data={"owner_name": "Nguyễn Thị Đào", "goods": "Thịt heo", "version": "2"}
    )
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(Household, h.id).goods == "Thịt heo"


def test_the_second_of_two_account_changes_is_refused_and_shown_the_current_account(client, session, market, officer):
    h = make_household(session, market, bin="970436", account_number="0011001932418")
    second = client.application.test_client()
    login(second, make_user(session, markets=[market]))
    assert 'value="1"' in client.get(f"/households/{h.id}/account").get_data(as_text=True)
    assert _change(second, h, bin="970422", account_number="0123456789").status_code == 302

    resp = _change(client, h, bin="970418", account_number="5556667778", reason="Chủ hộ dùng tài khoản BIDV")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "vừa được người khác sửa" in page
    assert "MBBank" in page and "0123456789" in page  # the account now in use
    assert 'name="version" type="hidden" value="2"' in page
    session.expire_all()
    active = session.exec(select(BankAccount).where(BankAccount.active)).one()
    assert (active.bin, active.account_number) == ("970422", "0123456789")
    assert len(session.exec(select(IssuedQR).where(IssuedQR.revoked_at.is_(None))).all()) == 1
