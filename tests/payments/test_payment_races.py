"""Credits for one household arriving at the same moment (two webhook workers, or a webhook and a statement
import) still count the household once in the daily "active" tally.

PostgreSQL only: SQLite lets one writer at a time in, so there the two calls cannot interleave.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_household, make_market
from payment_factories import account_of, make_source
from sqlalchemy import event, func, text
from sqlmodel import Session, select

from merchants.clock import vn_date
from merchants.payment_models import HouseholdPayment, PaymentEvent, PaymentMarketDay, PaymentSource
from merchants.payments_parse import Credit
from merchants.services import payment_ingest

NOW = datetime.now(UTC).replace(microsecond=0)


def _hold_the_first_commit(engine) -> dict[str, bool]:  # noqa: ANN001
    """Hold the first call to commit until the second is inside its own transaction and waiting on a row the first
    wrote (or committing too): the interleaving in which both decide about the household with neither committed.
    ``interleaved`` tells whether it happened (else the test would prove nothing)."""
    state = {"interleaved": False}
    arrived: list[str] = []
    guard = threading.Lock()
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )

    @event.listens_for(engine, "commit")
    def _hold(_conn) -> None:  # noqa: ANN001
        name = threading.current_thread().name
        if not name.startswith("credit-"):
            return
        with guard:
            arrived.append(name)
            if len(arrived) > 1:
                state["interleaved"] = True
                return
        deadline = time.monotonic() + 20
        with engine.connect() as watch:
            while time.monotonic() < deadline and not state["interleaved"]:
                state["interleaved"] = bool(watch.execute(waiting).scalar())
                time.sleep(0.02)

    return state


@pytest.mark.parametrize("received_before", [False, True], ids=["first-credits-ever", "already-receiving"])
def test_two_credits_for_one_household_at_once_count_it_once(session, received_before):
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite lets one writer in at a time")
    market = make_market(session, code="CAIRONG", commune_code="06994", stalls=2)
    household, _other = make_household(session, market), make_household(session, market)
    account = account_of(session, household)
    source, _key = make_source(session, "sepay", markets=["CAIRONG"])
    if received_before:
        payment_ingest.store_credits(
            session, source, [Credit("T0", account, 1000, NOW - timedelta(days=9), "R0", "in")]
        )
    credits = [
        Credit("T1", account, 20_000, NOW - timedelta(days=3), "R1", "in"),
        Credit("T2", account, 30_000, NOW - timedelta(days=1), "R2", "in"),
    ]
    state = _hold_the_first_commit(engine)
    errors: list[BaseException] = []

    def send(credit: Credit) -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                result = payment_ingest.store_credits(own, own.get(PaymentSource, source.id), [credit])
                assert result.stored == 1
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(c,), name=f"credit-{c.provider_id}") for c in credits]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert state["interleaved"], "the two calls ran one after the other"
    session.expire_all()
    assert session.exec(select(func.count()).select_from(PaymentEvent)).one() == (3 if received_before else 2)
    summary = session.get(HouseholdPayment, household.id)
    assert summary.last_at == NOW - timedelta(days=1)
    tally = {r.day: r.households for r in session.exec(select(PaymentMarketDay)) if r.households}
    assert tally == {vn_date(NOW - timedelta(days=1)): 1}
