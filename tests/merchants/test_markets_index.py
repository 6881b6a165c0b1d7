"""The markets list: one page of markets with their coverage, searchable, for staff who serve many."""

from factories import login, make_household, make_market, make_user


def test_a_province_officer_with_many_markets_gets_pages_and_search(client, session):
    markets = [
        make_market(session, code=f"M{i:02d}", name=f"Chợ Số {i:02d}", commune_code=f"X{i % 3}", stalls=1)
        for i in range(55)
    ]
    make_household(session, markets[0])
    login(client, make_user(session, provinces=["22"]))
    first = client.get("/").get_data(as_text=True)
    assert "55 chợ" in first
    assert first.count('href="/markets/') == 50
    assert "page=2" in first
    second = client.get("/?page=2").get_data(as_text=True)
    assert second.count('href="/markets/') == 5
    found = client.get("/?q=Số 07").get_data(as_text=True)
    assert "Chợ Số 07" in found and "Chợ Số 08" not in found
    assert "Không có chợ nào khớp." in client.get("/?q=khongco").get_data(as_text=True)


def test_an_officer_with_one_market_lands_on_it(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/markets/{market.id}")


def test_every_json_refusal_has_the_one_error_shape(client, session):
    """An unknown API path, a NUL in an API query, a call without a token, a webhook with a bad key and the
    tablet's sync signed out: a client reads ``error.code``, ``error.message`` and ``error.fields`` from each."""
    answers = {
        "unknown path": client.get("/api/v1/khong-co"),
        "NUL": client.get("/api/v1/households?q=a%00b", headers={"Authorization": "Bearer x"}),
        "no token": client.get("/api/v1/households"),
        "webhook key": client.post("/api/v1/payments/sepay", json={}, headers={"Authorization": "Apikey sai"}),
        "sync signed out": client.post("/api/v1/registrations", json={}),
    }
    statuses = {name: resp.status_code for name, resp in answers.items()}
    assert statuses == {"unknown path": 404, "NUL": 400, "no token": 401, "webhook key": 401, "sync signed out": 401}
    for name, resp in answers.items():
        error = resp.get_json()["error"]
        assert set(error) == {"code", "message", "fields"}, name
        assert error["code"] and error["message"], name
    assert answers["unknown path"].get_json()["error"]["message"] == "Không có đường dẫn API này."


def test_pages_are_gzipped_and_static_files_carry_a_version(client, session):
    market = make_market(session)
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    plain = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert "/static/app.css?v=" in plain


def test_pages_forbid_foreign_scripts_and_framing(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
