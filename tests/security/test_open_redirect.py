"""After sign-in the app follows ``next`` only to its own paths (issue 10: open redirect)."""

from __future__ import annotations

import pytest
from factories import PASSWORD, make_market, make_user

from merchants.urls import same_site_path

# Each as it would appear in the query string of a crafted link (percent-encoding included).
EVIL = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example/phish",
    "/%09/evil.example/phish",  # tab: browsers drop it and read //evil.example
    "/%0a/evil.example/phish",
    "/%0d/evil.example/phish",
    "/%0D%0A/evil.example/phish",
    "/%2F/evil.example/phish",  # decodes to //evil.example
    "/%2f%2fevil.example",
    "/%5Cevil.example",  # backslash
    "/%252F/evil.example/phish",  # double-encoded slash
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "evil.example/phish",
    "",
]


@pytest.mark.parametrize("target", EVIL)
def test_a_crafted_next_lands_on_the_default_page(client, session, target):
    user = make_user(session, markets=[make_market(session)])
    resp = client.post(f"/login?next={target}", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/", target


def test_a_nul_in_next_is_refused_before_sign_in_and_redirects_nowhere(client, session):
    user = make_user(session, markets=[make_market(session)])
    resp = client.post("/login?next=/markets%00/evil", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_the_language_switch_does_not_redirect_off_site_either(client):
    resp = client.post("/language/en", data={"next": "/\t/evil.example"})
    assert resp.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/markets/3", "/markets/3?q=dao&page=2", "/reports/", "/households/7/history"])
def test_a_same_site_path_is_followed(target):
    assert same_site_path(target) == target


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\n/evil", "//evil", "/\\evil", "/%2F/evil", "http://x/", "/ok\x7f", "/" + "a" * 3000],
)
def test_decoded_forms_are_checked_too(target):
    assert same_site_path(target) is None
