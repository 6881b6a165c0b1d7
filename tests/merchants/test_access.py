"""Who may see and do what: every role is kept inside its own area (404) and inside its role (403)."""

from dataclasses import dataclass

import pytest
from factories import login, make_household, make_market, make_user
from sqlmodel import Session, select

from merchants import roles
from merchants.models import Commune, Household, Market, PrintBatch, Stall, UserScope
from merchants.services import api_tokens

SCOPED_ROLES = [r for r in roles.ROLES if r != roles.ADMIN]


SCOPE_KINDS = ["market", "commune", "province"]


@dataclass(frozen=True)
class World:
    """Two markets: ``own`` inside the user's area and ``other`` in another commune (and province)."""

    own_market: int
    own_household: int
    other_market: int
    other_household: int
    other_stall: str
    other_market_code: str
    other_commune: int
    other_province: int
    other_batch: int


def _world(session: Session) -> World:
    own = make_market(session, name="Chợ Nhà", province_code="22", commune_code="XA-NHA")
    other = make_market(session, name="Chợ Xa", province_code="79", commune_code="XA-XA")
    own_h = make_household(session, own, owner_name="Phạm Thị Gần")
    other_h = make_household(session, other, owner_name="Võ Văn Xaxa")
    stall = session.exec(select(Stall.code).where(Stall.household_id == other_h.id)).one()
    commune = session.get(Commune, other.commune_id)
    batch = PrintBatch(market_id=other.id, layout="a4-4up", selection="all", status="done", total=1, done=1)
    session.add(batch)
    session.commit()
    return World(own.id, own_h.id, other.id, other_h.id, stall, other.code, commune.id, commune.province_id, batch.id)


def _user_in(session: Session, role: str, kind: str, world: World):  # noqa: ANN202
    if kind == "market":
        return make_user(session, role, markets=[session.get(Market, world.own_market)])
    if kind == "commune":
        return make_user(session, role, communes=["XA-NHA"])
    return make_user(session, role, provinces=["22"])


# (method, url template, capability the route needs)
ROUTES = [
    ("GET", "/markets/{market}", "view"),
    ("GET", "/markets/{market}/stalls/{stall}", "view"),
    ("GET", "/households/{household}", "view"),
    ("GET", "/households/{household}/qr.png", "view"),
    ("GET", "/households/{household}/qr.svg", "view"),
    ("GET", "/households/{household}/edit", "edit"),
    ("POST", "/households/{household}/edit", "edit"),
    ("GET", "/households/{household}/account", "edit"),
    ("POST", "/households/{household}/account", "edit"),
    ("GET", "/households/{household}/history", "view"),
    ("POST", "/households/{household}/placard", "print"),
    ("GET", "/markets/{market}/register", "register"),
    ("POST", "/markets/{market}/register", "register"),
]
# Pages other issues added (spreadsheet import, placard printing and checks, reports): the same rule holds.
OTHER_ISSUES_ROUTES = [
    ("GET", "/markets/{market}/import", "register"),
    ("POST", "/markets/{market}/import", "register"),
    ("GET", "/markets/{market}/import/mau-danh-sach.xlsx", "register"),
    ("GET", "/markets/{market}/placards", "print"),
    ("POST", "/markets/{market}/placards", "print"),
    ("GET", "/markets/{market}/placards/batches/{batch}", "print"),
    ("GET", "/markets/{market}/placards/batches/{batch}.json", "print"),
    ("GET", "/markets/{market}/placards/batches/{batch}/pdf", "print"),
    ("GET", "/markets/{own_market}/placards/batches/{batch}", "print"),  # another market's batch by id
    ("GET", "/markets/{market}/verify", "verify"),
    ("GET", "/markets/{market}/stalls/{stall}/verify", "verify"),
    ("POST", "/markets/{market}/stalls/{stall}/verify", "verify"),
    ("GET", "/reports/markets/{market}", "view"),
    ("GET", "/reports/markets/{market}/export.csv", "view"),
    ("GET", "/reports/markets/{market}/missing", "view"),
    ("GET", "/reports/markets/{market}/missing/export.csv", "view"),
    ("GET", "/reports/communes/{commune}", "view"),
    ("GET", "/reports/provinces/{province}", "view"),
]


def _url(template: str, world: World, *, own: bool) -> str:
    return template.format(
        market=world.own_market if own else world.other_market,
        household=world.own_household if own else world.other_household,
        stall="A-001" if own else world.other_stall,
        own_market=world.own_market,
        commune=world.other_commune,
        province=world.other_province,
        batch=world.other_batch,
    )


def _call(client, method: str, url: str):  # noqa: ANN001, ANN202
    if method == "GET":
        return client.get(url)
    data = {
        "owner_name": "Kẻ Lạ",
        "version": "1",
        "reason": "thử đổi tài khoản",
        "bin": "970436",
        "account_number": "123456789",
        "stall_ids": "1",
        "layout": "a6",
        "selection": "all",
        "payload": "00020101021138570010A000000727",
    }
    return client.post(url, data=data)


@pytest.mark.parametrize("kind", SCOPE_KINDS)
@pytest.mark.parametrize("role", SCOPED_ROLES)
def test_records_of_another_commune_are_not_found_for_every_role_and_route(client, session, role, kind):
    world = _world(session)
    login(client, _user_in(session, role, kind, world))
    before = session.exec(select(Household.version).where(Household.id == world.other_household)).one()
    seen = {}
    for method, template, capability in ROUTES + OTHER_ISSUES_ROUTES:
        resp = _call(client, method, _url(template, world, own=False))
        expected = 404 if roles.can(role, capability) else 403
        seen[(method, template)] = (resp.status_code, expected)
        assert "Võ Văn Xaxa" not in resp.get_data(as_text=True)
    assert {k: v for k, v in seen.items() if v[0] != v[1]} == {}
    session.expire_all()
    assert session.exec(select(Household.version).where(Household.id == world.other_household)).one() == before


@pytest.mark.parametrize("kind", SCOPE_KINDS)
@pytest.mark.parametrize("role", SCOPED_ROLES)
def test_search_lists_only_households_of_the_users_own_area(client, session, role, kind):
    world = _world(session)
    login(client, _user_in(session, role, kind, world))
    for q in ("xaxa", "vo van", "Võ Văn Xaxa", "0912"):
        names = [h["owner_name"] for h in client.get("/households/search", query_string={"q": q}).get_json()]
        assert "Võ Văn Xaxa" not in names, q
    assert [h["owner_name"] for h in client.get("/households/search?q=pham thi").get_json()] == ["Phạm Thị Gần"]


@pytest.mark.parametrize("role", SCOPED_ROLES)
def test_the_own_area_is_reachable_for_what_the_role_may_do(client, session, role):
    world = _world(session)
    login(client, _user_in(session, role, "commune", world))
    for method, template, capability in ROUTES:
        if method != "GET":
            continue
        resp = client.get(_url(template, world, own=True))
        expected = {200, 302} if roles.can(role, capability) else {403}
        assert resp.status_code in expected, (template, resp.status_code)


@pytest.mark.parametrize(
    ("role", "method", "template"),
    [
        (roles.MARKET_MANAGER, "GET", "/markets/{market}/register"),
        (roles.MARKET_MANAGER, "POST", "/markets/{market}/register"),
        (roles.MARKET_MANAGER, "GET", "/households/{household}/edit"),
        (roles.MARKET_MANAGER, "POST", "/households/{household}/edit"),
        (roles.MARKET_MANAGER, "GET", "/households/{household}/account"),
        (roles.MARKET_MANAGER, "POST", "/households/{household}/account"),
        (roles.MARKET_MANAGER, "POST", "/households/{household}/placard"),
        (roles.PRINT_STAFF, "GET", "/markets/{market}/register"),
        (roles.PRINT_STAFF, "POST", "/markets/{market}/register"),
        (roles.PRINT_STAFF, "POST", "/households/{household}/edit"),
        (roles.PRINT_STAFF, "POST", "/households/{household}/account"),
    ],
)
def test_a_role_without_the_capability_is_refused_with_403_and_nothing_changes(client, session, role, method, template):
    world = _world(session)
    login(client, _user_in(session, role, "commune", world))
    resp = _call(client, method, _url(template, world, own=True))
    assert resp.status_code == 403
    session.expire_all()
    h = session.get(Household, world.own_household)
    assert (h.owner_name, h.version) == ("Phạm Thị Gần", 1)
    assert len(session.exec(select(Household)).all()) == 2


def test_market_page_hides_buttons_the_role_cannot_use(client, session):
    world = _world(session)
    login(client, _user_in(session, roles.MARKET_MANAGER, "commune", world))
    page = client.get(f"/markets/{world.own_market}").get_data(as_text=True)
    assert f"/markets/{world.own_market}/register" not in page
    page = client.get(f"/households/{world.own_household}").get_data(as_text=True)
    hid = world.own_household
    assert f"/households/{hid}/edit" not in page and f"/households/{hid}/account" not in page
    assert f"/households/{hid}/placard" not in page


def test_an_administrator_sees_every_commune(client, session):
    world = _world(session)
    login(client, make_user(session, roles.ADMIN))
    assert client.get(f"/households/{world.other_household}").status_code == 200
    assert client.get(f"/markets/{world.other_market}").status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/", "/markets/1", "/households/1", "/households/search?q=dao", "/markets/1/register", "/households/1/history"],
)
def test_pages_need_sign_in(client, url):
    resp = client.get(url)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_a_user_without_any_scope_sees_no_market(client, session):
    world = _world(session)
    user = make_user(session, roles.COMMUNE_OFFICER, communes=["XA-NHA"])
    for row in session.exec(select(UserScope).where(UserScope.user_id == user.id)):
        session.delete(row)
    session.commit()
    login(client, user)
    assert client.get(f"/markets/{world.own_market}").status_code == 404
    assert client.get("/households/search?q=pham").get_json() == []


@pytest.mark.parametrize("role", SCOPED_ROLES)
def test_the_json_api_keeps_each_token_inside_its_users_area(client, session, role):
    world = _world(session)
    user = _user_in(session, role, "commune", world)
    token = api_tokens.create_api_token(session, user.username, "thử")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/markets/{world.other_market_code}/stalls", headers=auth).status_code == 404
    assert (
        client.get(f"/api/v1/markets/{world.other_market_code}/stalls/{world.other_stall}", headers=auth).status_code
        == 404
    )
    listed = client.get(f"/api/v1/households?market={world.other_market_code}", headers=auth)
    assert listed.status_code in (200, 404)
    assert "Võ Văn Xaxa" not in listed.get_data(as_text=True)
    assert "Võ Văn Xaxa" not in client.get("/api/v1/households?per_page=200", headers=auth).get_data(as_text=True)
