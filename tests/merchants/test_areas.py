"""Official administrative units: the shipped list, loading a changed list, search, the CLI and the areas page."""

import html
import json

import pytest
from factories import login, make_user
from sqlmodel import select

from merchants import areas
from merchants.errors import Forbidden
from merchants.models import AreaRename, AuditLog, Commune, Market, Province
from merchants.scope import SYSTEM, Viewer
from merchants.services import areas as area_service

HEADER = "province_code,province_name,commune_code,commune_name,commune_type\n"
ORIGINAL = HEADER + (
    "22,Tỉnh Quảng Ninh,06994,Đặc khu Vân Đồn,Đặc khu\n"
    "22,Tỉnh Quảng Ninh,06685,Phường Hồng Gai,Phường\n"
    "44,Tỉnh Quảng Trị,19597,Xã Cam Lộ,Xã\n"
)
CHANGED = HEADER + (
    "22,Tỉnh Quảng Ninh,06994,Đặc khu Vân Đồn Mới,Đặc khu\n"  # renamed
    "44,Tỉnh Quảng Trị,19597,Xã Cam Lộ,Xã\n"
    "44,Tỉnh Quảng Trị,19600,Xã Cam Thành,Xã\n"
)  # new; Hồng Gai disappeared


def _load(session, text, **kw):  # noqa: ANN001, ANN202, ANN003
    return area_service.load_units(session, SYSTEM, areas.parse_units(text.encode()), **kw)


def test_the_shipped_list_has_34_provinces_and_3321_communes_with_official_codes(session):
    assert area_service.load_shipped_if_empty(session) == 3321
    provinces = area_service.list_provinces(session)
    assert len(provinces) == 34
    assert {p.type for p in provinces} == {"Tỉnh", "Thành phố"}
    van_don = area_service.commune_by_code(session, "06994")
    assert (van_don.name, van_don.type) == ("Đặc khu Vân Đồn", "Đặc khu")
    types = [c.type for c in session.exec(select(Commune))]
    assert (types.count("Xã"), types.count("Phường"), types.count("Đặc khu")) == (2621, 687, 13)
    assert area_service.load_shipped_if_empty(session) == 0  # never twice


def test_search_ignores_diacritics_and_case(session):
    area_service.load_shipped_if_empty(session)
    assert [c.code for c in area_service.search_communes(session, "cam lo")] == ["19597"]
    assert "06994" in [c.code for c in area_service.search_communes(session, "VAN DON")]
    assert area_service.search_communes(session, "   ") == []


def test_loading_a_changed_list_renames_adds_and_closes_keeping_markets_and_history(session):
    _load(session, ORIGINAL)
    hong_gai = area_service.commune_by_code(session, "06685")
    session.add(Market(code="HALONG1", name="Chợ Hạ Long I", commune_id=hong_gai.id))
    session.commit()
    dry = _load(session, CHANGED, dry_run=True)
    assert [r.new_name for r in dry.renamed] == ["Đặc khu Vân Đồn Mới"]
    assert [u.code for u in dry.added] == ["19600"] and [u.code for u in dry.closed] == ["06685"]
    assert area_service.commune_by_code(session, "06994").name == "Đặc khu Vân Đồn"  # a dry run changes nothing

    changes = _load(session, CHANGED)
    assert changes.counts() == {"added": 1, "renamed": 1, "moved": 0, "retyped": 0, "reopened": 0, "closed": 1}
    assert area_service.commune_by_code(session, "06994").name == "Đặc khu Vân Đồn Mới"
    assert [(r.old_name, r.new_name) for r in session.exec(select(AreaRename))] == [
        ("Đặc khu Vân Đồn", "Đặc khu Vân Đồn Mới")
    ]
    closed = area_service.commune_by_code(session, "06685", open_only=False)
    assert closed.closed_at is not None
    with pytest.raises(Exception, match="không còn"):
        area_service.commune_by_code(session, "06685")  # no new market in a closed unit
    assert session.exec(select(Market).where(Market.code == "HALONG1")).one().commune_id == closed.id
    assert _load(session, CHANGED).empty  # loading the same list again changes nothing
    reopened = _load(session, ORIGINAL)
    assert [u.code for u in reopened.reopened] == ["06685"] and [u.code for u in reopened.closed] == ["19600"]
    assert session.exec(select(AuditLog).where(AuditLog.action == "areas.load")).all()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "trống"),
        ("a,b,c\n1,2,3\n", "Dòng 1 phải có đúng các cột"),
        (HEADER + "2,Tỉnh X,06994,Xã Y,Xã\n", "dòng 2: mã tỉnh '2'"),
        (HEADER + "22,Tỉnh X,0699,Xã Y,Xã\n", "dòng 2: mã xã/phường '0699'"),
        (HEADER + "22,Tỉnh X,06994,Xã Y,Huyện\n", "dòng 2: loại 'Huyện'"),
        (HEADER + "22,Tỉnh X,06994,Xã Y,Xã\n22,Tỉnh X,06994,Xã Z,Xã\n", "dòng 3: mã xã/phường 06994 đã có"),
        (HEADER + "22,Tỉnh X,06994,Xã Y,Xã\n22,Tỉnh Z,06995,Xã Z,Xã\n", "dòng 3: tỉnh 22 mang tên 'Tỉnh Z'"),
    ],
)
def test_a_faulty_list_is_refused_whole_naming_the_row(session, text, message):
    _load(session, ORIGINAL)
    with pytest.raises(areas.AreaListError, match=message):
        areas.parse_units(text.encode())
    assert len(session.exec(select(Commune)).all()) == 3


def test_only_a_programme_wide_admin_loads_the_national_list(session):
    _load(session, ORIGINAL)
    province = session.exec(select(Province).where(Province.code == "22")).one()
    province_admin = Viewer(user_id=None, role="admin", province_ids=frozenset({province.id}))
    with pytest.raises(Forbidden):
        area_service.load_units(session, province_admin, areas.parse_units(CHANGED.encode()))
    assert area_service.commune_by_code(session, "06994").name == "Đặc khu Vân Đồn"


def test_cli_lists_provinces_and_communes_as_json_and_loads_with_dry_run(app, session, tmp_path):
    runner = app.test_cli_runner()
    assert "3321" in runner.invoke(args=["init-db"]).output
    provinces = json.loads(runner.invoke(args=["areas", "list", "--json"]).output)
    assert (
        len(provinces) == 34 and {"code": "22", "name": "Tỉnh Quảng Ninh", "type": "Tỉnh", "closed": False} in provinces
    )
    communes = json.loads(runner.invoke(args=["areas", "list", "--province", "22", "--json"]).output)
    assert {
        "code": "06994",
        "name": "Đặc khu Vân Đồn",
        "type": "Đặc khu",
        "closed": False,
        "province_code": "22",
    } in communes
    unknown = runner.invoke(args=["areas", "list", "--province", "99"])
    assert unknown.exit_code == 2 and "99" in unknown.output
    path = tmp_path / "moi.csv"
    path.write_text(CHANGED, encoding="utf-8")
    dry = runner.invoke(args=["areas", "load", str(path), "--dry-run"])
    assert (
        dry.exit_code == 0 and "Chạy thử" in dry.output and "đóng 3351" in dry.output
    )  # 3,319 communes and 32 provinces
    assert area_service.commune_by_code(session, "06685").closed_at is None


def test_the_areas_page_lists_provinces_a_province_and_search_results(client, session):
    area_service.load_shipped_if_empty(session)
    login(client, make_user(session, "admin", username="quantri"))
    assert "Tỉnh Quảng Ninh" in client.get("/admin/areas").get_data(as_text=True)
    page = client.get("/admin/areas?province=22").get_data(as_text=True)
    assert "Đặc khu Vân Đồn" in page and "06994" in page
    found = client.get("/admin/areas?q=cam+lo").get_data(as_text=True)
    assert "Xã Cam Lộ" in found and "Tỉnh Quảng Trị" in found


def test_the_load_page_dry_runs_an_uploaded_list_then_applies_it(client, session):
    import io

    _load(session, ORIGINAL)
    login(client, make_user(session, "admin", username="quantri"))
    resp = client.post(
        "/admin/areas/load",
        data={"file": (io.BytesIO(CHANGED.encode()), "moi.csv"), "dry_run": "y"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200 and "Đặc khu Vân Đồn Mới" in resp.get_data(as_text=True)
    assert area_service.commune_by_code(session, "06994").name == "Đặc khu Vân Đồn"
    resp = client.post(
        "/admin/areas/load",
        data={"file": (io.BytesIO(CHANGED.encode()), "moi.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    session.expire_all()
    assert area_service.commune_by_code(session, "06994").name == "Đặc khu Vân Đồn Mới"
    bad = client.post(
        "/admin/areas/load", data={"file": (io.BytesIO(b"x,y\n"), "x.csv")}, content_type="multipart/form-data"
    )
    assert bad.status_code == 400 and "Dòng 1 phải có đúng các cột" in bad.get_data(as_text=True)


def test_an_english_speaking_admin_reads_every_fault_of_a_list_in_english(client, session):
    import io

    _load(session, ORIGINAL)
    login(client, make_user(session, "admin", username="quantri"))
    client.post("/language/en")
    faulty = HEADER + "2,Tỉnh X,06994,Xã Y,Xã\n22,Tỉnh X,06995,Xã Z,Huyện\n"
    resp = client.post(
        "/admin/areas/load", data={"file": (io.BytesIO(faulty.encode()), "x.csv")}, content_type="multipart/form-data"
    )
    text = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 400
    assert (
        "The list of administrative units has errors; nothing was loaded: row 2: province code '2' must have 2 digits;"
        " row 3: type 'Huyện' must be one of: Xã, Phường, Đặc khu." in text
    )
