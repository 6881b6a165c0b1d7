"""Registering a household through the web form: what the officer sees and what is stored."""

from factories import free_stall, login, make_household, make_market, make_user
from sqlmodel import select

from merchants.models import AuditLog, BankAccount, Household, IssuedQR
from qr import decode_image, parse_payload


def _form(stall_id: int, **overrides: str) -> dict:
    data = {
        "owner_name": "Nguyễn Thị Đào",
        "phone": "0912 345 678",
        "citizen_id": "022185001234",
        "goods": "Rau củ quả",
        "stall_ids": str(stall_id),
        "bin": "970436",
        "account_number": "0011001932418",
        "holder_name": "",
    }
    data.update(overrides)
    return data


def test_officer_registers_a_household_and_sees_its_qr(client, session):
    market = make_market(session, name="Chợ Cái Rồng")
    officer = make_user(session, markets=[market])
    login(client, officer)
    stall = free_stall(session, market)
    resp = client.post(f"/markets/{market.id}/register", data=_form(stall.id))
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Nguyễn Thị Đào" in page and "NGUYEN THI DAO" in page and "A-001" in page
    assert "00020101021138570010A00000072701270006970436011300110019324180208QRIBFTTA53037045802VN6304E0BB" in page
    h = session.exec(select(Household)).one()
    assert (h.phone, h.citizen_id, h.status) == ("+84912345678", "022185001234", "qr_issued")
    acc = session.exec(select(BankAccount)).one()
    assert (acc.bin, acc.account_number, acc.holder_name) == ("970436", "0011001932418", "NGUYEN THI DAO")
    rows = session.exec(select(AuditLog).order_by(AuditLog.id))
    actions = [a.action for a in rows if not a.action.startswith("auth.")]  # the officer's sign-in is audited too
    assert actions == ["household.create", "account.open", "qr.issue"]


def test_the_qr_image_on_the_stall_page_decodes_to_the_stored_payload(client, session):
    market = make_market(session)
    h = make_household(session, market)
    login(client, make_user(session, markets=[market]))
    png = client.get(f"/households/{h.id}/qr.png")
    assert png.mimetype == "image/png"
    payload = session.exec(select(IssuedQR.payload)).one()
    assert decode_image(png.data) == [payload]
    assert parse_payload(payload).account == session.exec(select(BankAccount.account_number)).one()


def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    resp = client.post(
        f"/markets/{market.id}/register",
        data=_form(
            free_stall(session, market).id, owner_name="", phone="123", citizen_id="12345", account_number="12-34 ?"
        ),
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Trường này không được để trống." in page
    assert "không phải số di động Việt Nam" in page
    assert "Số CCCD phải gồm đúng 12 chữ số." in page
    assert "Số tài khoản phải gồm 1–19 chữ số" in page
    assert session.exec(select(Household)).all() == []


def test_holder_name_can_be_edited_and_is_stored_in_bank_form(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    client.post(
        f"/markets/{market.id}/register",
        data=_form(free_stall(session, market).id, holder_name="Nguyễn T. Đào".replace(".", "")),
    )
    assert session.exec(select(BankAccount.holder_name)).one() == "NGUYEN T DAO"


def test_market_page_shows_floored_coverage_and_lists_stalls(client, session):
    market = make_market(session, stalls=4)
    for _ in range(2):
        make_household(session, market)
    make_household(session, market, account=False, owner_name="Trần Văn Hùng")
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert "2/3 hộ (66%)" in page
    assert "Trần Văn Hùng" in page and "Chưa đăng ký" in page
    assert "0011001932418" not in page  # account numbers are masked in lists


def test_search_matches_names_without_diacritics(client, session):
    market = make_market(session)
    make_household(session, market, owner_name="Nguyễn Thị Đào")
    make_household(session, market, owner_name="Lê Văn Hùng")
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}?q=dao").get_data(as_text=True)
    assert "Nguyễn Thị Đào" in page and "Lê Văn Hùng" not in page
    hits = client.get("/households/search?q=hung").get_json()
    assert [h["owner_name"] for h in hits] == ["Lê Văn Hùng"]


def test_a_tampered_version_field_is_a_conflict_not_a_crash(client, session):
    market = make_market(session)
    h = make_household(session, market)
    login(client, make_user(session, markets=[market]))
    resp = client.post(f"/households/{h.id}/edit", data={"owner_name": "Tên Mới", "version": "abc"})
    assert resp.status_code == 409
    session.refresh(h)
    assert h.owner_name == "Nguyễn Thị Đào"


def test_an_unknown_placard_size_is_refused_with_a_message(client, session):
    market = make_market(session)
    h = make_household(session, market)
    login(client, make_user(session, markets=[market]))
    resp = client.post(f"/households/{h.id}/placard", data={"layout": "a3"}, follow_redirects=True)
    assert resp.status_code == 200
    assert "Khổ in &#39;a3&#39; không có." in resp.get_data(as_text=True)
    assert client.post("/households/999999/placard", data={"layout": "a6"}).status_code == 404
