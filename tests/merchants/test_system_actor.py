"""Rows no user made (command line, jobs) name the system in the reader's language; people keep their own names."""

from __future__ import annotations

import re

import pytest
from factories import login, make_household, make_market, make_user

from merchants.scope import SYSTEM
from merchants.services import api_tokens, user_passwords
from merchants.services import batches as bs
from merchants.services import verification as vs
from merchants.services.placards import single_placard_pdf
from merchants.services.registry_queries import get_market

NEW = "Mot-Mat-Khau-Moi-9"


@pytest.fixture
def world(app, session):  # noqa: ANN001, ANN201
    """A market whose household, placard, check, print batch and a user's password and token are the system's."""
    market = make_market(session, stalls=2)
    household = make_household(session, market)  # registered by the system, as the factories do
    single_placard_pdf(session, SYSTEM, household.id)
    info = get_market(session, SYSTEM, market.id)
    vs.verify_placard(session, info, "A-001", "not a placard")
    batch = bs.start_batch(session, info, bs.BatchRequest("a6"), batch_dir=app.config["BATCH_DIR"])
    admin = make_user(session, "admin", username="quantri")
    officer = make_user(session, markets=[market])
    user_passwords.reset_password(session, officer.username, NEW)
    api_tokens.create_api_token(session, officer.username, "dong bo")
    pages = {
        "audit": "/admin/audit",
        "history": f"/households/{household.id}/history",
        "checks": f"/markets/{market.id}/verify",
        "user": f"/admin/users/{officer.id}",
        "batches": f"/markets/{market.id}/placards",
        "batch": f"/markets/{market.id}/placards/batches/{batch.batch_id}",
    }
    return admin, pages


def _names(page: str, words: str) -> int:
    return len(re.findall(rf"(?<![\w ]){re.escape(words)}(?![\w])", page))


@pytest.mark.parametrize("name", ["audit", "history", "checks", "user", "batches", "batch"])
def test_an_english_page_names_the_system_in_english(client, world, name):
    admin, pages = world
    login(client, admin)
    client.post("/language/en")
    page = client.get(pages[name]).get_data(as_text=True)
    assert "hệ thống" not in page
    expected = "system (command line)" if name.startswith("batch") else "system"
    assert _names(page, expected) >= 1, page


@pytest.mark.parametrize("name", ["audit", "history", "checks", "user", "batches", "batch"])
def test_a_vietnamese_page_names_it_in_vietnamese(client, world, name):
    admin, pages = world
    login(client, admin)
    page = client.get(pages[name]).get_data(as_text=True)
    assert "hệ thống" in page


def test_a_person_is_shown_by_their_own_name_on_an_english_page(client, world):
    admin, pages = world
    login(client, admin)
    client.post("/language/en")
    page = client.get(pages["audit"]).get_data(as_text=True)
    assert "<b>quantri</b>" in page and "<b>system</b>" in page  # the admin's sign-in, the system's rows
