"""What the tablet reads to work with no signal: its service worker, its session's draft key, its markets."""

import base64

from factories import login, make_household, make_market, make_user

from merchants.services.offline import draft_key


def test_the_service_worker_is_served_from_the_root_with_the_whole_site_as_its_scope(client):
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert resp.headers["Cache-Control"] == "no-store"  # the browser checks for a new worker on every load
    assert b'addEventListener("fetch"' in resp.data


def test_state_without_a_session_is_a_401_in_json_so_the_tablet_keeps_its_drafts(client):
    resp = client.get("/offline/state.json")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "not_signed_in"


def test_state_gives_the_user_a_csrf_token_and_a_32_byte_key_that_stays_the_same_within_the_session(client, session):
    make_market(session, code="NHA", commune_code="XA-NHA", stalls=1)
    officer = make_user(session, "commune_officer", communes=["XA-NHA"])
    login(client, officer)
    first, again = client.get("/offline/state.json"), client.get("/offline/state.json")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert first.json["user_id"] == officer.id and first.json["can_register"] is True
    assert first.json["csrf_token"]
    assert len(base64.b64decode(first.json["key"])) == 32
    assert again.json["key"] == first.json["key"] and again.json["key_id"] == first.json["key_id"]


def test_a_new_sign_in_gets_a_new_key_and_after_sign_out_the_key_is_not_handed_out(client, session):
    make_market(session, code="NHA", commune_code="XA-NHA", stalls=1)
    officer = make_user(session, "commune_officer", communes=["XA-NHA"])
    login(client, officer)
    before = client.get("/offline/state.json").json["key"]
    client.post("/logout")
    assert client.get("/offline/state.json").status_code == 401
    login(client, officer)
    assert client.get("/offline/state.json").json["key"] != before


def test_the_draft_key_is_derived_from_the_secret_and_the_session_token_and_differs_per_session():
    assert draft_key("secret", "token-a") == draft_key(b"secret", "token-a")
    assert len(draft_key("secret", "token-a")) == 32
    assert draft_key("secret", "token-a") != draft_key("secret", "token-b")
    assert draft_key("secret", "token-a") != draft_key("other", "token-a")


def test_markets_lists_only_the_officers_open_markets_with_their_free_open_stalls_and_the_banks(client, session):
    home = make_market(session, code="NHA", name="Chợ Nhà", commune_code="XA-NHA", stalls=3, zone="Khu A")
    make_market(session, code="XA", name="Chợ Xa", commune_code="XA-XA", stalls=2)
    make_household(session, home)  # takes the first stall
    officer = make_user(session, "commune_officer", communes=["XA-NHA"])
    login(client, officer)
    resp = client.get("/offline/markets.json")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    (market,) = resp.json["markets"]
    assert (market["code"], market["name"]) == ("NHA", "Chợ Nhà")
    assert market["register_url"] == f"/markets/{home.id}/register"
    assert [s["code"] for s in market["stalls"]] == ["A-002", "A-003"]
    assert {s["zone"] for s in market["stalls"]} == {"Khu A"}
    assert {"bin": "970436", "short_name": "Vietcombank"}.items() <= next(
        b for b in resp.json["banks"] if b["bin"] == "970436"
    ).items()
    assert resp.json["offline_page"] == "/offline/page"


def test_markets_and_the_offline_page_need_the_register_capability(client, session):
    make_market(session, code="NHA", commune_code="XA-NHA", stalls=1)
    manager = make_user(session, "market_manager", communes=["XA-NHA"])
    login(client, manager)
    assert client.get("/offline/markets.json").status_code == 403
    assert client.get("/offline/page").status_code == 403
    assert client.get("/offline/state.json").json["can_register"] is False


def test_the_offline_page_links_the_register_form_of_each_market_served(client, session):
    home = make_market(session, code="NHA", name="Chợ Nhà", commune_code="XA-NHA", stalls=1)
    login(client, make_user(session, "commune_officer", communes=["XA-NHA"]))
    html = client.get("/offline/page").get_data(as_text=True)
    assert "Không có mạng" in html and f'href="/markets/{home.id}/register"' in html
    assert 'id="outbox"' in html and 'id="offline-boot"' in html


def test_every_signed_in_page_carries_the_outbox_and_a_signed_out_one_does_not(client, session):
    assert 'id="outbox"' not in client.get("/login").get_data(as_text=True)
    make_market(session, code="NHA", commune_code="XA-NHA", stalls=1)
    officer = make_user(session, "commune_officer", communes=["XA-NHA"])
    login(client, officer)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'id="outbox"' in html and f'data-user-id="{officer.id}"' in html
    assert "Gửi lại" in html
