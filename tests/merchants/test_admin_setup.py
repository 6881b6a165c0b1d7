"""The administrator's set-up pages: getting started, programme settings, the audit page; province admins."""

from datetime import date

import pytest
from factories import login, make_household, make_market, make_user
from sqlmodel import select

from merchants import roles
from merchants.models import AuditLog, Province
from merchants.services import areas as area_service
from merchants.services.settings import get_settings


def test_a_new_admin_lands_on_the_getting_started_checklist_not_an_empty_list(client, session):
    area_service.load_shipped_if_empty(session)
    login(client, make_user(session, "admin", username="quantri"))
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin")
    page = client.get("/admin").get_data(as_text=True)
    assert "Các bước bắt đầu" in page and "3321 xã/phường/đặc khu" in page
    assert "Bạn chưa được giao chợ nào" not in page


def test_an_officer_with_no_market_still_sees_the_contact_your_admin_line(client, session):
    area_service.load_shipped_if_empty(session)
    login(client, make_user(session, "commune_officer", communes=["06994"]))
    page = client.get("/").get_data(as_text=True)
    assert "Bạn chưa được giao chợ nào" in page
    assert client.get("/admin").status_code == 403


def test_programme_settings_are_saved_audited_and_a_stale_form_conflicts(client, session):
    admin = make_user(session, "admin", username="quantri")
    login(client, admin)
    form = {"name": "Chợ 4.0 Quảng Ninh", "target_percent": "95", "target_date": "2027-06-30", "version": "0"}
    assert client.post("/admin/settings", data=form).status_code == 302
    saved = get_settings(session)
    assert (saved.name, saved.target_percent, saved.target_date, saved.version) == (
        "Chợ 4.0 Quảng Ninh",
        95,
        date(2027, 6, 30),
        1,
    )
    row = session.exec(select(AuditLog).where(AuditLog.action == "settings.update")).one()
    assert row.subject == "settings" and '"target_percent": [100, 95]' in row.detail
    stale = client.post("/admin/settings", data={**form, "target_percent": "80"})
    assert stale.status_code == 409 and "người khác" in stale.get_data(as_text=True)
    assert get_settings(session).target_percent == 95
    bad = client.post("/admin/settings", data={**form, "target_percent": "140", "version": "1"})
    assert bad.status_code == 400 and "từ 1 đến 100" in bad.get_data(as_text=True)


def test_reports_use_the_programme_target_and_a_market_its_own(client, session):
    market = make_market(session, stalls=4)
    make_household(session, market)
    admin = make_user(session, "admin", username="quantri")
    login(client, admin)
    client.post("/admin/settings", data={"name": "Chợ 4.0", "target_percent": "60", "version": "0"})
    assert "Mục tiêu 60%" in client.get("/reports/country").get_data(as_text=True)
    market.target_percent = 90
    session.add(market)
    session.commit()
    assert "Mục tiêu 90%" in client.get(f"/reports/markets/{market.id}").get_data(as_text=True)


def test_a_province_admin_sees_only_its_province_and_cannot_change_programme_settings(client, session):
    area_service.load_shipped_if_empty(session)
    ours = make_market(session, code="CAIRONG", commune_code="06994")
    theirs = make_market(session, code="DONGBA", commune_code="00004", province_code="01")
    make_household(session, ours)
    make_household(session, theirs)
    boss = make_user(session, "admin", provinces=["22"], username="qt.quangninh")
    login(client, boss)
    assert client.get(f"/markets/{ours.id}").status_code == 200
    assert client.get(f"/markets/{theirs.id}").status_code == 404
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Chỉ quản trị toàn chương trình" in page
    assert client.post("/admin/settings", data={"name": "X", "target_percent": "50", "version": "0"}).status_code == 400
    assert get_settings(session).version == 0
    provinces = client.get("/admin/areas").get_data(as_text=True)
    assert "Tỉnh Quảng Ninh" in provinces and "Thành phố Hà Nội" not in provinces


def test_the_audit_page_lists_who_did_what_and_a_province_admin_only_its_own(client, session):
    area_service.load_shipped_if_empty(session)
    admin = make_user(session, "admin", username="quantri")
    login(client, admin)
    client.post("/admin/settings", data={"name": "Chợ 4.0", "target_percent": "90", "version": "0"})
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "settings.update" in page and "quantri" in page and "areas.load" in page
    assert "target_percent: 100 → <b>90</b>" in page
    province = session.exec(select(Province).where(Province.code == "22")).one()
    assert province.id
    client.post("/logout")
    login(client, make_user(session, "admin", provinces=["22"], username="qt.quangninh"))
    theirs = client.get("/admin/audit").get_data(as_text=True)
    assert "settings.update" not in theirs


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize("scope", ["province", "commune", "market"])
def test_scope_by_official_code_works_for_every_role(client, session, role, scope):
    area_service.load_shipped_if_empty(session)
    ours = make_market(session, code="CAIRONG", commune_code="06994")
    neighbour = make_market(session, code="HALONG1", commune_code="06685")
    elsewhere = make_market(session, code="DONGBA", commune_code="00004", province_code="01")
    codes = {"province": {"provinces": ["22"]}, "commune": {"communes": ["06994"]}, "market": {"markets": [ours]}}
    login(client, make_user(session, role, **codes[scope]))
    assert client.get(f"/markets/{ours.id}").status_code == 200
    assert client.get(f"/markets/{elsewhere.id}").status_code == 404
    assert client.get(f"/markets/{neighbour.id}").status_code == (200 if scope == "province" else 404)
