"""The market's list of stalls and households: paged so a big market stays light on a weak link."""

import re

import pytest
from factories import login, make_household, make_market, make_user

from merchants.models import Stall
from merchants.views.helpers import paginate
from merchants.views.markets import STALLS_PER_PAGE


@pytest.mark.parametrize(
    ("total", "page", "expected"),
    [
        (0, 1, (1, 1, 0, 0)),
        (1, 1, (1, 1, 0, 1)),
        (100, 1, (1, 1, 0, 100)),
        (101, 2, (2, 2, 100, 101)),
        (370, 4, (4, 4, 300, 370)),
        (370, 9, (4, 4, 300, 370)),  # past the end: the last page
        (370, -3, (1, 4, 0, 100)),  # before the start: the first page
    ],
)
def test_pages_are_clamped_into_range(total, page, expected):
    p = paginate(total, page, 100)
    assert (p.page, p.pages, p.start, p.end) == expected
    assert p.prev == (p.page - 1 if p.page > 1 else None)
    assert p.next == (p.page + 1 if p.page < p.pages else None)


def _stall_codes(page: str) -> list[str]:
    return re.findall(r'/stalls/([A-Z]-\d{3})"', page)


def test_a_big_market_is_listed_a_page_at_a_time_with_links_between_pages(client, session):
    market = make_market(session, stalls=STALLS_PER_PAGE + 30)
    login(client, make_user(session, markets=[market]))
    first = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert len(_stall_codes(first)) == STALLS_PER_PAGE
    assert f"Sạp 1–{STALLS_PER_PAGE} trong {STALLS_PER_PAGE + 30}" in first
    assert f'href="/markets/{market.id}?page=2"' in first and 'rel="prev"' not in first
    second = client.get(f"/markets/{market.id}?page=2").get_data(as_text=True)
    assert _stall_codes(second)[0] == f"A-{STALLS_PER_PAGE + 1:03d}" and len(_stall_codes(second)) == 30
    assert 'rel="next"' not in second and f'href="/markets/{market.id}?page=1"' in second


def test_paging_keeps_the_search_and_status_filter(client, session):
    market = make_market(session, stalls=STALLS_PER_PAGE + 30)
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}?q=A-&status=").get_data(as_text=True)
    assert f'href="/markets/{market.id}?page=2&amp;q=A-"' in page


def test_a_small_market_has_no_page_links(client, session):
    market = make_market(session, stalls=3)
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}").get_data(as_text=True)
    assert "3 sạp" in page and 'class="pager"' not in page


@pytest.mark.parametrize("q", ["0912 345 678", "+84912345678", "dao", "A-001"])
def test_the_market_search_finds_a_household_by_phone_however_it_is_typed(client, session, q):
    market = make_market(session, stalls=3)
    make_household(session, market, owner_name="Nguyễn Thị Đào", phone="0912345678")
    make_household(session, market, owner_name="Lê Văn Hùng", phone="0987654321")
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}", query_string={"q": q}).get_data(as_text=True)
    assert "Nguyễn Thị Đào" in page and "Lê Văn Hùng" not in page


def test_each_stall_on_the_market_page_links_to_its_own_stall_even_with_vietnamese_letters(client, session):
    market = make_market(session, stalls=1)
    session.add(Stall(market_id=market.id, code="KIỐT-Đ.2", zone="Mặt đường"))
    session.commit()
    login(client, make_user(session, markets=[market]))
    page = client.get(f"/markets/{market.id}").get_data(as_text=True)
    links = re.findall(rf'href="(/markets/{market.id}/stalls/[^"]+)"', page)
    assert len(links) == 2
    answers = {link: client.get(link) for link in links}
    assert all(r.status_code == 302 for r in answers.values())
    stalls = sorted(r.headers["Location"].split("stall=")[-1] for r in answers.values())
    assert stalls == ["A-001", "KI%E1%BB%90T-%C4%90.2"]
