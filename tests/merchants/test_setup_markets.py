"""Setting up markets: create, edit, close and reopen from the pages and the CLI, in the official communes."""

import html
import json

import pytest
from factories import free_stall, login, make_household, make_market, make_user
from sqlmodel import func, select

from merchants.errors import InvalidField
from merchants.models import AuditLog, Commune, Household, Market
from merchants.scope import SYSTEM
from merchants.services import households as hs
from merchants.services import setup_markets as sm
from merchants.services.areas import load_shipped_if_empty
from merchants.services.registry_queries import get_market


@pytest.fixture
def units(session):  # noqa: ANN001, ANN201
    load_shipped_if_empty(session)


@pytest.fixture
def admin(client, session, units):  # noqa: ANN001, ANN201
    user = make_user(session, "admin", username="quantri")
    login(client, user)
    return user


def _form(**overrides: str) -> dict:
    data = {
        "code": "caird",
        "name": "Chợ Cái Rồng Mới",
        "province": "22",
        "commune_code": "06994",
        "address": "Đường Cái Rồng",
        "target_percent": "",
        "target_date": "",
    }
    data.update(overrides)
    return data


def _audits(session, action: str) -> list[AuditLog]:  # noqa: ANN001
    return list(session.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_searching_van_don_without_diacritics_offers_dac_khu_van_don_and_keeps_what_was_typed(client, admin):
    page = client.get(
        "/admin/markets/new",
        query_string={"code": "VD1", "name": "Chợ Thử Vân Đồn", "commune_q": "van don", "pick": "search"},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<option value="06994">Đặc khu Vân Đồn (06994) – Tỉnh Quảng Ninh</option>' in text
    assert 'value="VD1"' in text and 'value="Chợ Thử Vân Đồn"' in text


def test_choosing_a_province_lists_its_communes_only(client, admin):
    text = client.get("/admin/markets/new?province=22&pick=province").get_data(as_text=True)
    assert "Phường Hồng Gai (06685)" in text and "Đặc khu Vân Đồn (06994)" in text
    assert "Phường Ba Đình" not in text


def test_an_admin_creates_a_market_in_an_official_commune_and_it_is_audited(client, session, admin):
    resp = client.post("/admin/markets/new", data=_form(is_demo="y", target_percent="95", target_date="2026-12-31"))
    assert resp.status_code == 302
    market = session.exec(select(Market).where(Market.code == "CAIRD")).one()
    assert resp.headers["Location"].endswith(f"/admin/markets/{market.id}/stalls")
    commune = session.get(Commune, market.commune_id)
    assert (
        commune.code,
        market.name,
        market.is_demo,
        market.target_percent,
        market.target_date.isoformat(),
        market.closed_at,
    ) == ("06994", "Chợ Cái Rồng Mới", True, 95, "2026-12-31", None)
    (row,) = _audits(session, "market.create")
    assert row.subject == "market:CAIRD" and row.user_id == admin.id and row.source_ip == "127.0.0.1"
    assert json.loads(row.detail)["changes"]["commune"] == [None, "06994"]


def test_the_target_field_shows_the_programme_default_as_its_hint(client, app, admin):
    app.config["COVERAGE_TARGET_PERCENT"] = 90
    text = client.get("/admin/markets/new").get_data(as_text=True)
    assert 'placeholder="90 %"' in text and "theo mục tiêu chung của chương trình (90 %)" in text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "CHỢ 1", "chỉ được gồm chữ A–Z không dấu"),
        ("code", "A" * 21, "Tối đa 20 ký tự."),
        ("commune_code", "99999", "Không có xã/phường mã '99999'"),
        ("commune_code", "", "Hãy chọn xã/phường trong danh sách địa bàn chính thức."),
        ("target_percent", "150", "Mục tiêu bao phủ phải từ 1 đến 100 %."),
        ("target_date", "31/02/2026", "không phải ngày hợp lệ"),
    ],
)
def test_bad_values_are_refused_under_their_field_and_nothing_is_stored(client, session, admin, field, value, message):
    resp = client.post("/admin/markets/new", data=_form(**{field: value}))
    assert resp.status_code == 422
    assert message in html.unescape(resp.get_data(as_text=True))
    assert session.exec(select(func.count()).select_from(Market)).one() == 0


def test_a_date_without_a_target_is_refused(session, units):
    with pytest.raises(InvalidField) as err:
        sm.create_market(session, SYSTEM, sm.MarketInput("X1", "Chợ X", "06994", target_date="31/12/2026"))
    assert err.value.field == "target_percent"


def test_a_code_already_used_is_refused_with_a_link_to_that_market(client, session, admin):
    other = make_market(session, code="CAIRD", commune_code="06994")
    resp = client.post("/admin/markets/new", data=_form())
    assert resp.status_code == 422
    assert f"/admin/markets/{other.id}/edit" in resp.get_data(as_text=True)


def test_an_edit_is_saved_and_audited_old_to_new(client, session, admin):
    market = make_market(session, code="CHOA", name="Chợ A", commune_code="06994")
    assert "Chợ A" in client.get(f"/admin/markets/{market.id}/edit").get_data(as_text=True)
    resp = client.post(
        f"/admin/markets/{market.id}/edit", data=_form(code="CHOA", name="Chợ A Mới", commune_code="06685", version="1")
    )
    assert resp.status_code == 302
    session.refresh(market)
    assert (market.name, session.get(Commune, market.commune_id).code, market.version) == ("Chợ A Mới", "06685", 2)
    (row,) = _audits(session, "market.update")
    changes = json.loads(row.detail)["changes"]
    assert changes["name"] == ["Chợ A", "Chợ A Mới"] and changes["commune"] == ["06994", "06685"]


def test_a_stale_edit_is_a_409_with_the_current_values_and_overwrites_nothing(client, session, admin):
    market = make_market(session, code="CHOA", name="Chợ A", commune_code="06994")
    sm.update_market(
        session, SYSTEM, market.id, sm.MarketInput("CHOA", "Chợ A (tablet 1)", "06994"), expected_version=1
    )
    resp = client.post(
        f"/admin/markets/{market.id}/edit", data=_form(code="CHOA", name="Chợ A (tablet 2)", version="1")
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "Chợ này vừa được người khác sửa" in text and "Chợ A (tablet 1)" in text
    assert 'value="Chợ A (tablet 2)"' in text and 'name="version" type="hidden" value="2"' in text
    session.refresh(market)
    assert market.name == "Chợ A (tablet 1)"


def test_a_closed_market_keeps_its_households_and_takes_no_new_registration(client, session, admin):
    market = make_market(session, code="CHOA", commune_code="06994", stalls=3)
    make_household(session, market)
    resp = client.post(f"/admin/markets/{market.id}/close")
    assert resp.status_code == 302
    session.refresh(market)
    assert market.closed_at is not None
    assert session.exec(select(func.count()).select_from(Household)).one() == 1
    with pytest.raises(InvalidField) as err:
        hs.register_household(
            session,
            get_market(session, SYSTEM, market.id),
            stall_ids=[free_stall(session, market).id],
            household=hs.HouseholdInput("Lê Văn Nam"),
            account=None,
        )
    assert err.value.field == "market" and "đã đóng" in err.value.message
    page = client.post(
        f"/markets/{market.id}/register",
        data={"owner_name": "Lê Văn Nam", "stall_ids": str(free_stall(session, market).id)},
    )
    assert page.status_code == 422 and "không nhận đăng ký hộ mới" in page.get_data(as_text=True)
    assert client.post(f"/admin/markets/{market.id}/reopen").status_code == 302
    session.refresh(market)
    assert market.closed_at is None
    assert [a.subject for a in _audits(session, "market.close") + _audits(session, "market.reopen")] == [
        "market:CHOA",
        "market:CHOA",
    ]


def test_a_province_admin_cannot_create_in_another_province_nor_see_its_markets(client, session, units):
    hanoi = make_market(session, code="HANOI1", name="Chợ Hà Nội", commune_code="00004")
    mine = make_market(session, code="QN1", name="Chợ Quảng Ninh", commune_code="06994")
    login(client, make_user(session, "admin", provinces=["22"]))
    resp = client.post("/admin/markets/new", data=_form(code="HN2", province="01", commune_code="00004"))
    assert resp.status_code == 422
    assert "không thuộc tỉnh bạn phụ trách" in resp.get_data(as_text=True)
    assert session.exec(select(Market.id).where(Market.code == "HN2")).first() is None
    index = client.get("/admin/markets/").get_data(as_text=True)
    assert "Chợ Quảng Ninh" in index and "Chợ Hà Nội" not in index
    for path in (f"/admin/markets/{hanoi.id}/edit", f"/admin/markets/{hanoi.id}/stalls"):
        assert client.get(path).status_code == 404
    assert client.post(f"/admin/markets/{hanoi.id}/close").status_code == 404
    assert client.get(f"/admin/markets/{mine.id}/edit").status_code == 200
    provinces = client.get("/admin/markets/new").get_data(as_text=True)
    assert "Tỉnh Quảng Ninh" in provinces and "Thành phố Hà Nội" not in provinces


def test_officers_cannot_open_the_set_up_pages(client, session, units):
    market = make_market(session, commune_code="06994")
    login(client, make_user(session, markets=[market]))
    assert client.get("/admin/markets/").status_code == 403
    assert client.post("/admin/markets/new", data=_form()).status_code == 403


def test_the_list_is_paged_and_filtered_by_state(client, session, admin):
    make_market(session, code="OPEN1", name="Chợ Mở", commune_code="06994")
    closed = make_market(session, code="SHUT1", name="Chợ Đóng", commune_code="06685")
    sm.set_closed(session, SYSTEM, closed.id, closed=True)
    text = client.get("/admin/markets/?state=closed").get_data(as_text=True)
    assert "Chợ Đóng" in text and "Chợ Mở" not in text and "1 chợ" in text


def test_the_cli_adds_a_market_that_coverage_lists_at_once_and_closes_it(app, session, units):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "markets",
            "add",
            "tienyen",
            "--name",
            "Chợ Tiên Yên",
            "--commune",
            "06994",
            "--demo",
            "--target",
            "95",
            "--target-date",
            "2026-12-31",
        ]
    )
    assert result.exit_code == 0, result.output
    market = session.exec(select(Market).where(Market.code == "TIENYEN")).one()
    assert (market.is_demo, market.target_percent, str(market.target_date)) == (True, 95, "2026-12-31")
    rows = {r["code"]: r for r in json.loads(runner.invoke(args=["coverage", "--json"]).output)}
    assert rows["TIENYEN"] == {
        "code": "TIENYEN",
        "name": "Chợ Tiên Yên",
        "covered": 0,
        "total": 0,
        "percent": None,
        "active": 0,
    }
    assert runner.invoke(args=["markets", "close", "TIENYEN"]).exit_code == 0
    session.refresh(market)
    assert market.closed_at is not None
    assert [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))][-2:] == [
        "market.create",
        "market.close",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["markets", "add", "X 1", "--name", "Chợ", "--commune", "06994"], "chỉ được gồm chữ A–Z"),
        (["markets", "add", "X1", "--name", "Chợ", "--commune", "12345"], "Không có xã/phường mã '12345'"),
        (["markets", "close", "KHONGCO"], "KHONGCO"),
    ],
)
def test_the_cli_refuses_bad_input_with_exit_2(app, session, units, args, message):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (sm.MarketInput("A" * 21, "Chợ", "06994"), "code", "dài quá 20 ký tự"),
        (sm.MarketInput("", "Chợ", "06994"), "code", "Mã chợ không được để trống."),
        (sm.MarketInput("X1", " ", "06994"), "name", "Tên chợ không được để trống."),
        (sm.MarketInput("X1", "Chợ", "06994", target_percent="95,5"), "target_percent", "số nguyên"),
        (sm.MarketInput("X1", "Chợ", "06994", is_demo="có lẽ"), "is_demo", "không rõ"),
    ],
)
def test_every_entry_point_shares_the_market_rules_naming_the_field(session, units, data, field, message):
    with pytest.raises(InvalidField) as err:
        sm.create_market(session, SYSTEM, data)
    assert err.value.field == field and message in err.value.message
