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
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import bindparam, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from merchants.clock import vn_date
from merchants.errors import DomainError
from merchants.models import BankAccount, Commune, Household, Market, utcnow
from merchants.payment_models import (
    HouseholdPayment,
    PaymentEvent,
    PaymentMarketDay,
    PaymentMarketWeek,
    PaymentSource,
    PaymentSourceScope,
    PaymentWeek,
)
from merchants.payments_parse import Credit
from merchants.services.payment_sources import count
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


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@cache
def _statements(dialect: str) -> dict[str, Any]:
    """Every statement of the ingest path, built once per dialect: a webhook call then spends its time in the
    database, not in building SQL (SQLAlchemy's construction costs more than SQLite's execution here)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    least, greatest = (func.least, func.greatest) if dialect == "postgresql" else (func.min, func.max)
    scope = PaymentSourceScope
    in_scope = (
        select(scope.id)
        .where(
            scope.source_id == bindparam("source_id"),
            or_(
                scope.market_id == Market.id,
                scope.commune_id == Market.commune_id,
                scope.province_id == Commune.province_id,
            ),
        )
        .exists()
    )
    hp = insert(HouseholdPayment)
    mw = insert(PaymentMarketWeek)
    md = insert(PaymentMarketDay)
    # The upserts return their key only so that SQLAlchemy sends a batch as multi-row VALUES ("insertmanyvalues"):
    # without RETURNING, psycopg sends one statement per row (a 100,000-row statement: minutes on PostgreSQL).
    return {
        "accounts": select(
            BankAccount.account_number,
            BankAccount.id,
            BankAccount.bin,
            BankAccount.household_id,
            Household.market_id,
            in_scope,
        )
        .join(Household, col(Household.id) == BankAccount.household_id)
        .join(Market, col(Market.id) == Household.market_id)
        .join(Commune, col(Commune.id) == Market.commune_id)
        .where(BankAccount.active, col(BankAccount.account_number).in_(bindparam("numbers", expanding=True))),
        "known": select(PaymentEvent.provider_id).where(
            col(PaymentEvent.source_id) == bindparam("source_id"),
            col(PaymentEvent.provider_id).in_(bindparam("ids", expanding=True)),
        ),
        # What comes back is what was new: a provider id the source sent before conflicts and returns nothing, so
        # a retry costs no query of its own.
        "event": insert(PaymentEvent)
        .on_conflict_do_nothing(index_elements=["source_id", "provider_id"])
        .returning(PaymentEvent.provider_id),
        "household": hp.on_conflict_do_update(
            index_elements=["household_id"],
            set_={
                "first_at": least(HouseholdPayment.first_at, hp.excluded.first_at),
                "last_at": greatest(HouseholdPayment.last_at, hp.excluded.last_at),
                "market_id": hp.excluded.market_id,
            },
        ).returning(HouseholdPayment.household_id),
        # Locks the batch's summary rows (PostgreSQL; SQLite holds its one write lock already) before reading
        # them, so two calls for one household cannot both move it off the same day.
        "previous": select(HouseholdPayment.household_id, HouseholdPayment.market_id, HouseholdPayment.last_at)
        .where(col(HouseholdPayment.household_id).in_(bindparam("households", expanding=True)))
        .with_for_update(),
        "market_day": md.on_conflict_do_update(
            index_elements=["market_id", "day"],
            set_={"households": PaymentMarketDay.households + md.excluded.households},
        ).returning(PaymentMarketDay.market_id),
        "week": insert(PaymentWeek).on_conflict_do_nothing().returning(PaymentWeek.household_id, PaymentWeek.week),
        "market_week": mw.on_conflict_do_update(
            index_elements=["market_id", "week"],
            set_={"households": PaymentMarketWeek.households + mw.excluded.households},
        ).returning(PaymentMarketWeek.market_id),
    }


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC; PostgreSQL aware times."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _bin_of(bank: str) -> str | None:
    try:
        return resolve_bank(bank).bin if bank else None
    except DomainError:
        return None


Match = tuple[int, str, int, int, bool]  # account id, BIN, household id, market id, inside the source's areas


def _accounts(session: Session, source_id: int, numbers: set[str]) -> dict[str, list[Match]]:
    """Active accounts by number, with their household's market and whether the source may credit it (one
    query); one number may exist at two banks."""
    out: dict[str, list[Match]] = defaultdict(list)
    rows = session.exec(
        _statements(_dialect(session))["accounts"], params={"numbers": list(numbers), "source_id": source_id}
    )
    for number, *row in rows:
        out[number].append((row[0], row[1], row[2], row[3], bool(row[4])))
    return out


def _pick(matches: list[Match], bank: str) -> Match | None:
    if len(matches) == 1:
        return matches[0]
    wanted = _bin_of(bank)
    chosen = [m for m in matches if m[1] == wanted]
    return chosen[0] if len(chosen) == 1 else None


def _tallies(session: Session, rows: list[dict[str, Any]], markets: dict[int, int]) -> None:
    """First/last credit per household and receiving households per market and week, for the stored rows."""
    stmts = _statements(_dialect(session))
    conn = session.connection()  # Core execution: these tables hold no ORM objects to keep in step
    span: dict[int, list[datetime]] = {}
    weeks: set[tuple[int, date]] = set()
    for r in rows:
        hid, at = r["household_id"], r["occurred_at"]
        lo_hi = span.setdefault(hid, [at, at])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], at), max(lo_hi[1], at)
        weeks.add((hid, week_of(at)))
    previous = {h: (m, last) for h, m, last in conn.execute(stmts["previous"], {"households": sorted(span)})}
    moves: Counter[tuple[int, date]] = Counter()
    for h, (_lo, hi) in span.items():
        old = previous.get(h)
        old_last = _aware(old[1]) if old else None
        last = max(old_last, hi) if old_last else hi
        if old is None or (old[0], vn_date(old_last)) != (markets[h], vn_date(last)):
            if old is not None:
                moves[(old[0], vn_date(old_last))] -= 1
            moves[(markets[h], vn_date(last))] += 1
    moved = [{"market_id": m, "day": d, "households": n} for (m, d), n in sorted(moves.items()) if n]
    if moved:
        conn.execute(stmts["market_day"], moved)
    conn.execute(
        stmts["household"],
        [{"household_id": h, "market_id": markets[h], "first_at": lo, "last_at": hi} for h, (lo, hi) in span.items()],
    )
    new = list(conn.execute(stmts["week"], [{"household_id": h, "week": w} for h, w in sorted(weeks)]))
    if not new:
        return
    per_market = Counter((markets[h], w) for h, w in new)
    conn.execute(
        stmts["market_week"],
        [{"market_id": m, "week": w, "households": n} for (m, w), n in sorted(per_market.items())],
    )


def _store_batch(session: Session, source: PaymentSource, credits: Sequence[Credit]) -> IngestResult:
    result = IngestResult()
    incoming = [c for c in credits if c.direction == "in"]
    accounts = _accounts(session, source.id, {c.account_number for c in incoming}) if incoming else {}
    picked = {c.provider_id: _pick(accounts.get(c.account_number, []), c.bank) for c in incoming}
    rows, markets, seen = [], {}, set()
    for c in credits:
        match = picked.get(c.provider_id) if c.direction == "in" else None
        if c.direction != "in":
            outcome = "ignored_out"
        elif match is None:
            outcome = "unknown_account"
        elif not match[4]:
            outcome = "out_of_scope"
        elif c.provider_id in seen:
            outcome = "duplicate"
        else:
            outcome = "stored"
            seen.add(c.provider_id)
            account_id, _bin, household_id, market_id, _inside = match
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
        now = utcnow()
        stmt = _statements(_dialect(session))["event"]
        new = set(session.connection().execute(stmt, [{**r, "received_at": now} for r in rows]).scalars())
        if len(new) < len(rows):  # sent before: a retry, nothing changes
            for i, outcome in enumerate(result.outcomes):
                if outcome == "stored" and credits[i].provider_id not in new:
                    result.outcomes[i] = "duplicate"
            result.duplicate += len(rows) - len(new)
            result.stored = len(new)
            rows = [r for r in rows if r["provider_id"] in new]
        if rows:
            _tallies(session, rows, {r["household_id"]: markets[r["household_id"]] for r in rows})
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
