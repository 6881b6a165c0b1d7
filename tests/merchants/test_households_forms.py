"""Phone and CCCD rules as the officer meets them: through the register and edit forms, one row per case."""

import re

import pytest
from factories import free_stall, login, make_household, make_market, make_user
from sqlmodel import select

from merchants.models import Household


@pytest.fixture
def market(client, session):  # noqa: ANN001, ANN201
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    return market


def _register(client, session, market, **fields: str):  # noqa: ANN001, ANN202
    data = {"owner_name": "Trần Văn Hùng", "stall_ids": str(free_stall(session, market).id), **fields}
    return client.post(f"/markets/{market.id}/register", data=data)


def _errors_of(page: str, field: str) -> list[str]:
    block = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page, re.S)
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', block.group(0)) if block else []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("091-234-5678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("(039) 876 5432", "+84398765432"),
        ("0561234567", "+84561234567"),
        ("0701234567", "+84701234567"),
        ("0812345678", "+84812345678"),
        ("", None),
    ],
)
def test_a_vietnamese_mobile_is_stored_in_plus84_form(client, session, market, typed, stored):
    assert _register(client, session, market, phone=typed).status_code == 302
    assert session.exec(select(Household.phone)).one() == stored


@pytest.mark.parametrize(
    "typed",
    [
        "123",  # too short
        "09123456789",  # 11 digits
        "0212345678",  # landline prefix 02x
        "0112345678",  # no such prefix
        "0412345678",
        "0512345678",  # 051 is not a mobile range
        "+8512345678",  # not Vietnam
        "0912abc678",
        "++84912345678",
    ],
)
def test_anything_else_is_refused_under_the_phone_field(client, session, market, typed):
    resp = _register(client, session, market, phone=typed)
    errors = _errors_of(resp.get_data(as_text=True), "phone")
    assert resp.status_code == 422
    assert len(errors) == 1 and "không phải số di động Việt Nam" in errors[0]
    assert session.exec(select(Household)).all() == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("001090001234", "001090001234"),  # Hà Nội, born 1990, man
        ("079185001234", "079185001234"),  # TP.HCM, born 1985, woman
        ("022 305 001 234", "022305001234"),  # Quảng Ninh, born 2005, woman; spaces allowed
        ("096200001234", "096200001234"),  # Cà Mau, born 2000, man
        ("", None),
    ],
)
def test_a_valid_cccd_is_stored_as_12_digits(client, session, market, typed, stored):
    assert _register(client, session, market, citizen_id=typed).status_code == 302
    assert session.exec(select(Household.citizen_id)).one() == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("02218500123", "phải gồm đúng 12 chữ số"),  # 11 digits
        ("0221850012345", "phải gồm đúng 12 chữ số"),  # 13 digits
        ("02218500123a", "phải gồm đúng 12 chữ số"),
        ("000185001234", "mã tỉnh nơi đăng ký khai sinh &#39;000&#39; không tồn tại"),
        ("003185001234", "mã tỉnh nơi đăng ký khai sinh &#39;003&#39; không tồn tại"),  # gap in the code list
        ("097185001234", "mã tỉnh nơi đăng ký khai sinh &#39;097&#39; không tồn tại"),  # past the last code
        ("022485001234", "chữ số thế kỷ/giới tính &#39;4&#39; không hợp lệ"),
        ("022985001234", "chữ số thế kỷ/giới tính &#39;9&#39; không hợp lệ"),
        ("022299001234", "năm sinh 2099 nằm trong tương lai"),
    ],
)
def test_an_impossible_cccd_is_refused_and_the_message_says_which_part_is_wrong(
    client, session, market, typed, message
):
    resp = _register(client, session, market, citizen_id=typed)
    errors = _errors_of(resp.get_data(as_text=True), "citizen_id")
    assert resp.status_code == 422
    assert len(errors) == 1 and message in errors[0]
    assert session.exec(select(Household)).all() == []


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("phone", "0212345678", "không phải số di động Việt Nam"),
        ("citizen_id", "000185001234", "không tồn tại"),
        ("owner_name", "", "Trường này không được để trống."),
        ("owner_name", "x" * 101, "Tối đa 100 ký tự."),
    ],
)
def test_the_edit_form_applies_the_same_rules(client, session, market, field, typed, message):
    h = make_household(session, market)
    data = {
        "owner_name": h.owner_name,
        "phone": "0912345678",
        "citizen_id": "",
        "goods": "",
        "version": "1",
        field: typed,
    }
    resp = client.post(f"/households/{h.id}/edit", data=data)
    assert resp.status_code == 422
    assert message in _errors_of(resp.get_data(as_text=True), field)[0]
    session.expire_all()
    assert session.get(Household, h.id).version == 1


def test_the_edit_form_stores_a_new_phone_in_plus84_form(client, session, market):
    h = make_household(session, market)
    resp = client.post(
        f"/households/{h.id}/edit",
        data={
            "owner_name": "  Nguyễn   Thị Đào ",
            "phone": "0398 765 432",
            "citizen_id": "",
            "goods": "Rau",
            "version": "1",
        },
    )
    assert resp.status_code == 302
    session.expire_all()
    h = session.get(Household, h.id)
    assert (h.owner_name, h.phone, h.citizen_id, h.version) == ("Nguyễn Thị Đào", "+84398765432", None, 2)


@pytest.mark.parametrize(
    ("field", "mode"),
    [
        ("phone", "tel"),
        ("citizen_id", "numeric"),
        ("account_number", "numeric"),
    ],
)
def test_numeric_fields_open_the_numeric_keypad_on_a_tablet(client, market, field, mode):
    page = client.get(f"/markets/{market.id}/register").get_data(as_text=True)
    tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', page).group(0)
    assert f'inputmode="{mode}"' in tag
