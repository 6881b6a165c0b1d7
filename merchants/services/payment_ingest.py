"""Storing credits: once per (source, provider id), only "in" to accounts registered here, only inside the scope.

Every path — the SePay and Casso webhooks and statement files — hands its ``Credit`` values to ``store_credits``,
which decides for each one, in batches of a few queries whatever the count:

- money out is ignored (a placard receives; it never pays);
- an account ChoQR does not hold is dropped and counted on the source ("dropped, unknown account");
- an account of a household outside the source's areas is refused and counted as rejected;
- a provider id the source already sent is a retry: nothing changes;
- everything else is stored with the per-household and per-week tallies the reports read, in the same commit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from merchants.clock import vn_date
from merchants.errors import DomainError
from merchants.models import BankAccount, Commune, Household, Market, utcnow
from merchants.payment_models import HouseholdPayment, PaymentEvent, PaymentMarketWeek, PaymentSource, PaymentWeek
from merchants.payments_parse import Credit
from merchants.services.payment_sources import count, scope_condition
from merchants.spreadsheet import resolve_bank

BATCH: Final = 500


@dataclass
class IngestResult:
    """What became of each credit handed in; ``outcomes`` keeps each one's fate in order (for per-row reports)."""

    stored: int = 0
    duplicate: int = 0
    ignored_out: int = 0
    unknown_account: int = 0
    out_of_scope: int = 0
    outcomes: list[str] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        for name in ("stored", "duplicate", "ignored_out", "unknown_account", "out_of_scope"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes.extend(other.outcomes)


def week_of(moment: datetime) -> date:
    """The Monday (Vietnam calendar) of the week a credit happened in."""
    day = vn_date(moment)
    return day - timedelta(days=day.weekday())


def _insert(session: Session):  # noqa: ANN202 - the dialect's insert construct
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _bin_of(bank: str) -> str | None:
    try:
        return resolve_bank(bank).bin if bank else None
    except DomainError:
        return None


def _accounts(session: Session, numbers: set[str]) -> dict[str, list[tuple[int, str, int, int]]]:
    """Active accounts by number: (account id, BIN, household id, market id); one number may exist at two banks."""
    out: dict[str, list[tuple[int, str, int, int]]] = defaultdict(list)
    stmt = (
        select(
            BankAccount.account_number, BankAccount.id, BankAccount.bin, BankAccount.household_id, Household.market_id
        )
        .join(Household, Household.id == BankAccount.household_id)
        .where(BankAccount.active, BankAccount.account_number.in_(numbers))
    )
    for number, *row in session.exec(stmt):
        out[number].append(tuple(row))  # type: ignore[arg-type]
    return out


def _pick(matches: list[tuple[int, str, int, int]], bank: str) -> tuple[int, str, int, int] | None:
    if len(matches) == 1:
        return matches[0]
    wanted = _bin_of(bank)
    chosen = [m for m in matches if m[1] == wanted]
    return chosen[0] if len(chosen) == 1 else None


def _allowed_markets(session: Session, source_id: int, market_ids: set[int]) -> set[int]:
    if not market_ids:
        return set()
    stmt = (
        select(Market.id)
        .join(Commune, Commune.id == Market.commune_id)
        .where(Market.id.in_(market_ids), scope_condition(session, source_id))
    )
    return set(session.exec(stmt))


def _known(session: Session, source_id: int, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    stmt = select(PaymentEvent.provider_id).where(
        PaymentEvent.source_id == source_id, PaymentEvent.provider_id.in_(ids)
    )
    return set(session.exec(stmt))


def _tallies(session: Session, rows: list[dict[str, Any]], markets: dict[int, int]) -> None:
    """First/last credit per household and receiving households per market and week, for the stored rows."""
    insert = _insert(session)
    pg = session.get_bind().dialect.name == "postgresql"
    least, greatest = (func.least, func.greatest) if pg else (func.min, func.max)
    span: dict[int, list[datetime]] = {}
    weeks: set[tuple[int, date]] = set()
    for r in rows:
        hid, at = r["household_id"], r["occurred_at"]
        lo_hi = span.setdefault(hid, [at, at])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], at), max(lo_hi[1], at)
        weeks.add((hid, week_of(at)))
    hp = insert(HouseholdPayment)
    session.exec(
        hp.on_conflict_do_update(
            index_elements=["household_id"],
            set_={
                "first_at": least(HouseholdPayment.first_at, hp.excluded.first_at),
                "last_at": greatest(HouseholdPayment.last_at, hp.excluded.last_at),
                "market_id": hp.excluded.market_id,
            },
        ),
        params=[
            {"household_id": h, "market_id": markets[h], "first_at": lo, "last_at": hi} for h, (lo, hi) in span.items()
        ],
    )
    existing = set(
        session.exec(
            select(PaymentWeek.household_id, PaymentWeek.week).where(
                tuple_(PaymentWeek.household_id, PaymentWeek.week).in_(list(weeks))
            )
        )
    )
    new = sorted(weeks - existing)
    if not new:
        return
    session.exec(insert(PaymentWeek).on_conflict_do_nothing(), params=[{"household_id": h, "week": w} for h, w in new])
    per_market = Counter((markets[h], w) for h, w in new)
    mw = insert(PaymentMarketWeek)
    session.exec(
        mw.on_conflict_do_update(
            index_elements=["market_id", "week"],
            set_={"households": PaymentMarketWeek.households + mw.excluded.households},
        ),
        params=[{"market_id": m, "week": w, "households": n} for (m, w), n in sorted(per_market.items())],
    )


def _store_batch(session: Session, source: PaymentSource, credits: Sequence[Credit]) -> IngestResult:
    result = IngestResult()
    incoming = [c for c in credits if c.direction == "in"]
    accounts = _accounts(session, {c.account_number for c in incoming})
    picked = {c.provider_id: _pick(accounts.get(c.account_number, []), c.bank) for c in incoming}
    allowed = _allowed_markets(session, source.id, {p[3] for p in picked.values() if p})
    known = _known(session, source.id, {c.provider_id for c in incoming})
    rows, markets, seen = [], {}, set()
    for c in credits:
        match = picked.get(c.provider_id) if c.direction == "in" else None
        if c.direction != "in":
            outcome = "ignored_out"
        elif match is None:
            outcome = "unknown_account"
        elif match[3] not in allowed:
            outcome = "out_of_scope"
        elif c.provider_id in known or c.provider_id in seen:
            outcome = "duplicate"
        else:
            outcome = "stored"
            seen.add(c.provider_id)
            account_id, _bin, household_id, market_id = match
            markets[household_id] = market_id
            rows.append(
                {
                    "source_id": source.id,
                    "provider_id": c.provider_id,
                    "bank_account_id": account_id,
                    "household_id": household_id,
                    "amount": c.amount,
                    "occurred_at": c.occurred_at,
                    "reference": c.reference,
                }
            )
        setattr(result, outcome, getattr(result, outcome) + 1)
        result.outcomes.append(outcome)
    if rows:
        stmt = _insert(session)(PaymentEvent).on_conflict_do_nothing(index_elements=["source_id", "provider_id"])
        now = utcnow()
        session.exec(stmt, params=[{**r, "received_at": now} for r in rows])
        _tallies(session, rows, markets)
    return result


def store_credits(
    session: Session, source: PaymentSource, credits: Sequence[Credit], *, dry_run: bool = False
) -> IngestResult:
    """Decide and store each credit (see the module docstring); counters updated and committed together.

    With ``dry_run`` every decision is made and nothing is written.
    """
    total = IngestResult()
    for start in range(0, len(credits), BATCH):
        total.add(_store_batch(session, source, credits[start : start + BATCH]))
    if dry_run:
        session.rollback()
        return total
    count(
        session,
        source.id,
        stored=total.stored,
        rejected=total.out_of_scope,
        unknown=total.unknown_account,
    )
    session.commit()
    return total


def reject(session: Session, source: PaymentSource) -> None:
    """A call of a known source that could not be read (a bad body, a stale signature): counted, committed."""
    session.rollback()
    count(session, source.id, rejected=1)
    session.commit()
