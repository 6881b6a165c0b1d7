"""Account numbers are digits, unless the officer confirms a bank-issued alias account with letters."""

import io

import openpyxl
import pytest
from factories import free_stall, login, make_market, make_user
from sqlmodel import select

from merchants import identity
from merchants.errors import InvalidField
from merchants.models import BankAccount, Household
from merchants.scope import SYSTEM
from merchants.services.importing import import_households


def _form(stall_id: int, **overrides: str) -> dict:
    data = {
        "owner_name": "Trần Văn Hùng",
        "phone": "0987 654 321",
        "citizen_id": "079090001234",
        "goods": "Cá",
        "stall_ids": str(stall_id),
        "bin": "970405",
        "account_number": "44002ABC67891",
        "holder_name": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("typed", ["44002ABC67891", "1O23456789", "O123"])
def test_letters_in_an_account_number_are_refused_without_the_alias_tick(typed):
    with pytest.raises(InvalidField, match="chỉ gồm chữ số"):
        identity.normalise_account_number(typed)
    assert identity.normalise_account_number(typed, alias=True) == typed.upper()


def test_the_register_form_refuses_letters_and_stores_nothing_until_the_alias_is_confirmed(client, session):
    market = make_market(session, stalls=2)
    login(client, make_user(session, markets=[market]))
    refused = client.post(f"/markets/{market.id}/register", data=_form(free_stall(session, market).id))
    assert refused.status_code == 422 and "tài khoản định danh" in refused.get_data(as_text=True)
    assert session.exec(select(Household)).all() == []
    ok = client.post(
        f"/markets/{market.id}/register",
        data=_form(free_stall(session, market).id, account_alias="y", account_number="nguyenvana"),
    )
    assert ok.status_code == 302
    assert session.exec(select(BankAccount.account_number)).one() == "NGUYENVANA"


def _sheet(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_import_refuses_letters_unless_its_alias_column_says_so(session):
    market = make_market(session, stalls=0)
    data = _sheet(
        [
            ["Họ tên", "Số sạp", "Ngân hàng", "Số tài khoản", "Tài khoản định danh"],
            ["Nguyễn Thị Đào", "A-001", "Agribank", "44002ABC67891", ""],
            ["Lê Văn Hùng", "A-002", "Agribank", "HUNGLEVAN", "x"],
        ]
    )
    report = import_households(session, SYSTEM, market_id=market.id, data=data, dry_run=True)
    assert [(p.row, p.column) for p in report.refused] == [(2, "Số tài khoản")]
    assert report.ready == 1
