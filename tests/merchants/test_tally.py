"""The per-market status tally the database keeps stays equal to counting the households, whatever writes them."""

from factories import login, make_household, make_market, make_user
from sqlalchemy import delete, func, update
from sqlmodel import select

from merchants.models import Household, MarketStatusCount
from merchants.scope import SYSTEM
from merchants.services import households as hs
from merchants.services.placards import printable_items, record_prints
from merchants.services.registry_queries import get_market


def _tally(session) -> dict:
    return {
        (m, s): n
        for m, s, n in session.exec(select(MarketStatusCount.market_id, MarketStatusCount.status, MarketStatusCount.n))
        if n
    }


def _recount(session) -> dict:
    return {
        (m, s): n
        for m, s, n in session.exec(
            select(Household.market_id, Household.status, func.count())
            .where(Household.active)
            .group_by(Household.market_id, Household.status)
        )
    }


def test_the_tally_follows_registration_account_changes_printing_moves_and_deletes(session):
    a, b = make_market(session, stalls=6), make_market(session, stalls=3)
    homes = [make_household(session, a) for _ in range(4)] + [make_household(session, a, account=False)]
    make_household(session, b)
    assert (
        _tally(session)
        == _recount(session)
        == {(a.id, "qr_issued"): 4, (a.id, "registered"): 1, (b.id, "qr_issued"): 1}
    )
    record_prints(session, SYSTEM, a, printable_items(session, get_market(session, SYSTEM, a.id))[:3])
    session.commit()
    hs.change_account(
        session,
        SYSTEM,
        homes[0].id,
        expected_version=homes[0].version,
        account=hs.AccountInput("970422", "123456789"),
        reason="Chủ hộ đổi ngân hàng",
    )
    assert _tally(session) == _recount(session)
    session.exec(update(Household).where(Household.id == homes[1].id).values(active=False))
    session.exec(update(Household).where(Household.id == homes[2].id).values(market_id=b.id))
    bare = Household(market_id=b.id, owner_name="Hộ Nhập Tay", status="registered")
    session.add(bare)
    session.commit()
    assert _tally(session) == _recount(session)
    session.exec(delete(Household).where(Household.id == bare.id))
    session.commit()
    assert _tally(session) == _recount(session)


def test_the_tally_counts_households_written_by_the_bulk_import(session):
    from merchants.services.importing import import_households

    market = make_market(session, stalls=1)
    make_household(session, market)
    rows = "\n".join(
        ["Họ và tên,Số sạp,Ngân hàng,Số tài khoản"]
        + [
            f"Trần Thị {n},B-{i:03d},Vietcombank,00990{i:08d}"
            for i, n in enumerate(["An", "Bình", "Cúc", "Dung", "Én"], start=1)
        ]
        + [f"Lê Văn {n},C-{i:03d},," for i, n in enumerate(["Giang", "Hải"], start=1)]
    )
    report = import_households(session, SYSTEM, market_id=market.id, data=rows.encode(), filename="ds.csv")
    assert report.created == 7, report.refused
    assert _tally(session) == _recount(session) == {(market.id, "qr_issued"): 6, (market.id, "registered"): 2}


def test_coverage_pages_read_the_tally(client, session):
    market = make_market(session, stalls=4)
    for _ in range(3):
        make_household(session, market)
    make_household(session, market, account=False)
    login(client, make_user(session, markets=[market]))
    assert "3/4 hộ (75%)" in client.get(f"/markets/{market.id}").get_data(as_text=True)
