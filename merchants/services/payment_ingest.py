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

from sqlalchemy import ARRAY, Connection, String, any_, bindparam, func, or_, text
from sqlalchemy.dialects import sqlite
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

BATCH: Final = 5000  # per statement: one array a column on PostgreSQL; SQLite splits its VALUES itself
FILE_SIZED: Final = 100  # more credits than a notification carries: a statement file
# For this transaction only, on a file's worth of credits: each batch planned for its own arrays (psycopg prepares a
# statement run five times, and PostgreSQL's generic plan of these guesses 10-row arrays: a 100,000-row statement
# spent 45 s in the events statement instead of 9 s); no JIT (its compilation cost more than the batch saved); and
# the pages a batch reads priced as the cached pages they are (the default 4 made the planner scan all of
# bankaccount and household_payment rather than look up 5,000 keys in their indexes).
_PG_PLAN_EACH_BATCH: Final = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true),"
    " set_config('random_page_cost', '1.1', true)"
)

# PostgreSQL gets a batch as one array per column (``unnest``): one parameter each instead of one per value, so a
# 5,000-row statement is parsed and planned like a single row (a VALUES list of 40,000 parameters was not).
#
# The households of a batch (``batch``: household, market, first and last credit), written, answering each row as it
# was before: an existing row is locked first (FOR UPDATE: a concurrent writer's newer version is what comes back)
# and updated from the lock's view; a missing one is inserted. Answers (household, market, last credit) before the
# batch, or (household, NULL, NULL) when inserted; a household in neither lost a race (see ``_write_pg``). The
# household ids are also given to ``moved`` as an array: the planner then reads household_payment by its key
# instead of hashing all of it.
_PG_HOUSEHOLDS: Final = """
    batch AS (
        SELECT * FROM unnest(CAST(:households AS integer[]), CAST(:markets AS integer[]),
                             CAST(:firsts AS timestamptz[]), CAST(:lasts AS timestamptz[]))
             AS b(household_id, market_id, first_at, last_at)
        {only_new}
    ), before AS (
        SELECT household_id, market_id, last_at FROM household_payment
        WHERE household_id IN (SELECT household_id FROM batch)
        ORDER BY household_id
        FOR UPDATE
    ), moved AS (
        UPDATE household_payment AS hp
        SET first_at = least(hp.first_at, b.first_at), last_at = greatest(hp.last_at, b.last_at),
            market_id = b.market_id
        FROM before JOIN batch AS b ON b.household_id = before.household_id
        WHERE hp.household_id = before.household_id AND hp.household_id = ANY(CAST(:households AS integer[]))
        RETURNING hp.household_id, before.market_id, before.last_at
    ), added AS (
        INSERT INTO household_payment (household_id, market_id, first_at, last_at)
        SELECT b.household_id, b.market_id, b.first_at, b.last_at FROM batch AS b
        WHERE b.household_id NOT IN (SELECT household_id FROM before)
        ORDER BY b.household_id
        ON CONFLICT (household_id) DO NOTHING
        RETURNING household_id
    )
    SELECT household_id, market_id, last_at, NULL AS provider_id FROM moved
    UNION ALL
    SELECT household_id, NULL, NULL, NULL FROM added
"""
_PG_HOUSEHOLDS_AGAIN: Final = text("WITH" + _PG_HOUSEHOLDS.format(only_new=""))
# The events and their households' rows in one statement. A provider id the source sent before conflicts and
# returns nothing, so a retry costs no query of its own; a household whose credits were all retries is left alone.
# Answers the new provider ids (household NULL) along with the households' rows.
_PG_EVENTS: Final = text(
    """
    WITH new_events AS (
        INSERT INTO payment_event
            (source_id, provider_id, bank_account_id, household_id, amount, occurred_at, reference, received_at)
        SELECT CAST(:source_id AS integer), e.provider_id, e.account_id, e.household_id, e.amount, e.occurred_at,
               e.reference, CAST(:received_at AS timestamptz)
        FROM unnest(CAST(:provider_ids AS varchar[]), CAST(:account_ids AS integer[]),
                    CAST(:household_ids AS integer[]), CAST(:amounts AS bigint[]), CAST(:times AS timestamptz[]),
                    CAST(:references AS varchar[]))
             AS e(provider_id, account_id, household_id, amount, occurred_at, reference)
        ON CONFLICT (source_id, provider_id) DO NOTHING
        RETURNING provider_id, household_id
    ),"""
    + _PG_HOUSEHOLDS.format(only_new="WHERE b.household_id IN (SELECT household_id FROM new_events)")
    + """
    UNION ALL
    SELECT NULL, NULL, NULL, provider_id FROM new_events
    """
)
# The market tallies in one statement: households moved between days, the (household, week) pairs (each counted
# once: only the pairs that were new reach the market's week).
_PG_TALLIES: Final = text(
    """
    WITH day_moves AS (
        INSERT INTO payment_market_day (market_id, day, households)
        SELECT * FROM unnest(CAST(:move_markets AS integer[]), CAST(:move_days AS date[]),
                             CAST(:move_counts AS integer[]))
        ON CONFLICT (market_id, day) DO UPDATE SET households = payment_market_day.households + excluded.households
    ), new_weeks AS (
        INSERT INTO payment_week (household_id, week)
        SELECT * FROM unnest(CAST(:week_households AS integer[]), CAST(:weeks AS date[]))
        ON CONFLICT DO NOTHING
        RETURNING household_id, week
    )
    INSERT INTO payment_market_week (market_id, week, households)
    SELECT m.market_id, w.week, count(*)
    FROM new_weeks AS w
    JOIN unnest(CAST(:households AS integer[]), CAST(:markets AS integer[])) AS m(household_id, market_id)
         ON m.household_id = w.household_id
    GROUP BY m.market_id, w.week
    ORDER BY m.market_id, w.week
    ON CONFLICT (market_id, week) DO UPDATE SET households = payment_market_week.households + excluded.households
    """
)


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
def _accounts_statement(dialect: str) -> Any:
    """Active accounts by number with their household's market and whether the source's areas hold it: one query
    whatever the batch (built once per dialect: SQLAlchemy's construction costs more than running it)."""
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
    numbers = (  # one array parameter on PostgreSQL, not 5,000 of them
        col(BankAccount.account_number) == any_(bindparam("numbers", type_=ARRAY(String)))
        if dialect == "postgresql"
        else col(BankAccount.account_number).in_(bindparam("numbers", expanding=True))
    )
    return (
        select(
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
        .where(BankAccount.active, numbers)
    )


@cache
def _sqlite_writes() -> dict[str, Any]:
    """The SQLite writes, built once. Each returns its key only so that SQLAlchemy sends a batch as multi-row
    VALUES ("insertmanyvalues") rather than one statement per row."""
    hp = sqlite.insert(HouseholdPayment)
    mw = sqlite.insert(PaymentMarketWeek)
    md = sqlite.insert(PaymentMarketDay)
    return {
        "event": sqlite.insert(PaymentEvent)
        .on_conflict_do_nothing(index_elements=["source_id", "provider_id"])
        .returning(PaymentEvent.provider_id),
        "household": hp.on_conflict_do_update(
            index_elements=["household_id"],
            set_={
                "first_at": func.min(HouseholdPayment.first_at, hp.excluded.first_at),
                "last_at": func.max(HouseholdPayment.last_at, hp.excluded.last_at),
                "market_id": hp.excluded.market_id,
            },
        ).returning(HouseholdPayment.household_id),
        "previous": select(HouseholdPayment.household_id, HouseholdPayment.market_id, HouseholdPayment.last_at).where(
            col(HouseholdPayment.household_id).in_(bindparam("households", expanding=True))
        ),
        "market_day": md.on_conflict_do_update(
            index_elements=["market_id", "day"],
            set_={"households": PaymentMarketDay.households + md.excluded.households},
        ).returning(PaymentMarketDay.market_id),
        "week": sqlite.insert(PaymentWeek)
        .on_conflict_do_nothing()
        .returning(PaymentWeek.household_id, PaymentWeek.week),
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
        _accounts_statement(_dialect(session)), params={"numbers": list(numbers), "source_id": source_id}
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


Span = dict[int, list[datetime]]  # household id -> [first, last] credit of the batch
Previous = dict[int, tuple[int, datetime] | None]  # household id -> (market, last credit) before it, None if none


def _weeks(rows: list[dict[str, Any]]) -> list[tuple[int, date]]:
    """The (household, week) pairs of the stored rows, in key order (concurrent writers then lock alike)."""
    return sorted({(r["household_id"], week_of(r["occurred_at"])) for r in rows})


def _moved(span: Span, markets: dict[int, int], previous: Previous) -> list[tuple[tuple[int, date], int]]:
    """How the households-by-day-of-last-credit tally moves, as ((market, day), change) in key order: a household
    counts once, on the Vietnam day of its last credit, in its market; ``previous`` is its row before this batch
    (``None``: its first credit ever)."""
    moves: Counter[tuple[int, date]] = Counter()
    for h, (_lo, hi) in span.items():
        old = previous.get(h)
        if old is None:
            moves[(markets[h], vn_date(hi))] += 1
            continue
        old_market, old_last = old[0], _aware(old[1])
        last = max(old_last, hi)
        if (old_market, vn_date(old_last)) != (markets[h], vn_date(last)):
            moves[(old_market, vn_date(old_last))] -= 1
            moves[(markets[h], vn_date(last))] += 1
    return sorted((key, n) for key, n in moves.items() if n)


def _span(rows: list[dict[str, Any]]) -> Span:
    span: Span = {}
    for r in rows:
        at = r["occurred_at"]
        lo_hi = span.setdefault(r["household_id"], [at, at])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], at), max(lo_hi[1], at)
    return span


def _write_sqlite(conn: Connection, source_id: int, rows: list[dict[str, Any]], markets: dict[int, int]) -> set[str]:
    """The events, then each new one's household read and written: SQLite already holds its one write lock (the
    event insert took it), so no other writer can move a household between the read and the write."""
    stmts = _sqlite_writes()
    now = utcnow()
    new = set(conn.execute(stmts["event"], [{**r, "source_id": source_id, "received_at": now} for r in rows]).scalars())
    rows = [r for r in rows if r["provider_id"] in new]
    if not rows:
        return new
    span = _span(rows)
    previous: Previous = dict.fromkeys(span)
    for h, m, last in conn.execute(stmts["previous"], {"households": sorted(span)}):
        previous[h] = (m, last)
    conn.execute(
        stmts["household"],
        [{"household_id": h, "market_id": markets[h], "first_at": lo, "last_at": hi} for h, (lo, hi) in span.items()],
    )
    moved = _moved(span, markets, previous)
    if moved:
        conn.execute(stmts["market_day"], [{"market_id": m, "day": d, "households": n} for (m, d), n in moved])
    weeks = list(conn.execute(stmts["week"], [{"household_id": h, "week": w} for h, w in _weeks(rows)]))
    if weeks:
        per_market = Counter((markets[h], w) for h, w in weeks)
        conn.execute(
            stmts["market_week"],
            [{"market_id": m, "week": w, "households": n} for (m, w), n in sorted(per_market.items())],
        )
    return new


def _pg_arrays(params: dict[str, Any]) -> dict[str, Any]:
    """The lists among ``params`` as PostgreSQL array literals, each built with one join: psycopg dumps a list
    element by element in Python (3 s of a 100,000-row statement). Numbers, dates and ISO 8601 times hold no
    character the array syntax reserves; text is quoted, its backslashes and quotes escaped."""
    out = dict(params)
    for key, values in params.items():
        if not isinstance(values, list):
            continue
        if not values:
            out[key] = "{}"
        elif isinstance(values[0], str):
            out[key] = "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
        elif isinstance(values[0], date):  # a date, or a datetime with its offset
            out[key] = "{" + ",".join(v.isoformat() for v in values) + "}"
        else:
            out[key] = "{" + ",".join(map(str, values)) + "}"
    return out


def _write_pg(conn: Connection, source_id: int, rows: list[dict[str, Any]], markets: dict[int, int]) -> set[str]:
    """The events with their households' rows in one statement (``_PG_EVENTS``), the market tallies in another.

    A household whose row another transaction inserted after the statement began is in neither part of the answer
    (its insert met the other's row and did nothing): ``_PG_HOUSEHOLDS_AGAIN`` runs for those, which then find the
    row and lock it, as any other. So two first credits of one household at once count it once."""
    span = _span(rows)  # over every row: a retry's time is already in its household's row, so it changes nothing
    households = sorted(span)
    figures = {
        "households": households,
        "markets": [markets[h] for h in households],
        "firsts": [span[h][0] for h in households],
        "lasts": [span[h][1] for h in households],
    }
    params = {
        "source_id": source_id,
        "received_at": utcnow(),
        "provider_ids": [r["provider_id"] for r in rows],
        "account_ids": [r["bank_account_id"] for r in rows],
        "household_ids": [r["household_id"] for r in rows],
        "amounts": [r["amount"] for r in rows],
        "times": [r["occurred_at"] for r in rows],
        "references": [r["reference"] for r in rows],
        **figures,
    }
    new: set[str] = set()
    previous: Previous = {}
    for h, m, last, provider_id in conn.execute(_PG_EVENTS, _pg_arrays(params)):
        if provider_id is not None:
            new.add(provider_id)
        else:
            previous[h] = None if m is None else (m, last)
    rows = [r for r in rows if r["provider_id"] in new]
    if not rows:
        return new
    span = {r["household_id"]: span[r["household_id"]] for r in rows}  # households with a new credit
    for _attempt in range(3):
        lost = {h for h in span if h not in previous}
        if not lost:
            break
        again = {
            key: [v for h, v in zip(households, values, strict=True) if h in lost] for key, values in figures.items()
        }
        for h, m, last, _none in conn.execute(_PG_HOUSEHOLDS_AGAIN, _pg_arrays(again)):
            previous[h] = None if m is None else (m, last)
    else:  # pragma: no cover - a third race for the same household within one call
        raise RuntimeError(f"household_payment rows of {sorted(lost)[:5]} neither found nor inserted")
    moved, weeks = _moved(span, markets, previous), _weeks(rows)
    tallies = {
        "move_markets": [m for (m, _d), _n in moved],
        "move_days": [d for (_m, d), _n in moved],
        "move_counts": [n for _k, n in moved],
        "week_households": [h for h, _w in weeks],
        "weeks": [w for _h, w in weeks],
        "households": figures["households"],
        "markets": figures["markets"],
    }
    conn.execute(_PG_TALLIES, _pg_arrays(tallies))
    return new


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
        write = _write_pg if _dialect(session) == "postgresql" else _write_sqlite
        new = write(session.connection(), source.id, rows, markets)  # Core: these tables hold no ORM objects
        if len(new) < len(rows):  # sent before: a retry, nothing changes
            for i, outcome in enumerate(result.outcomes):
                if outcome == "stored" and credits[i].provider_id not in new:
                    result.outcomes[i] = "duplicate"
            result.duplicate += len(rows) - len(new)
            result.stored = len(new)
    return result


def store_credits(
    session: Session, source: PaymentSource, credits: Sequence[Credit], *, dry_run: bool = False
) -> IngestResult:
    """Decide and store each credit (see the module docstring); counters updated and committed together.

    With ``dry_run`` every decision is made and nothing is written.
    """
    total = IngestResult()
    if len(credits) > FILE_SIZED and _dialect(session) == "postgresql":
        session.connection().execute(_PG_PLAN_EACH_BATCH)
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
