"""Benchmark the coverage reports on a country-scale registry, on SQLite and on PostgreSQL, in one run.

Generates 1,000,000 households (and a stall each) in 10,000 markets across 3,321 communes and 34 provinces,
builds the schema with ``merchants.db.upgrade`` (so the indexes are the migrations' own), then times every
report level both as a service call and as the full page through the app, against a 300 ms target:

    .venv/bin/python bench/bench_coverage.py                        # SQLite and PostgreSQL, full size
    .venv/bin/python bench/bench_coverage.py --households 100000 --markets 1000 --skip-pg

Baselines measured in the same run: a naive loop of two COUNT queries per market, a GROUP BY over the
households (what the 0005 tally replaces), every market's row at once (the old unpaged markets list), and
the trend without the 0002 index.
PostgreSQL uses its own database (default ``choqr_bench``, dropped and recreated); never a shared one.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app import create_app  # noqa: E402
from merchants import db, roles  # noqa: E402
from merchants import status as st  # noqa: E402
from merchants.models import Household, Market  # noqa: E402
from merchants.scope import SYSTEM, Viewer  # noqa: E402
from merchants.services import reports as rs  # noqa: E402
from merchants.services.coverage_queries import market_coverage  # noqa: E402
from merchants.services.registry_queries import get_market
from merchants.services.users import create_user  # noqa: E402

TARGET_MS = 300
PROTECTED = {"test", "choqr_test", "postgres", "template0", "template1"}
STATUSES = [
    (st.REGISTERED, 6),
    (st.ACCOUNT_OPENED, 4),
    (st.QR_ISSUED, 22),
    (st.PLACARD_PRINTED, 48),
    (st.PLACARD_VERIFIED, 20),
]
MIGRATION_0002 = "ix_household_covered_on"  # dropped and rebuilt once to time the trend without it
FAMILY = "Nguyễn Trần Lê Phạm Hoàng Vũ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
GIVEN = "Thị Đào|Văn Hùng|Thị Hoa|Minh Tuấn|Thu Hương|Đức Long|Thị Yến|Quang Hải|Ngọc Lan|Xuân Bình".split("|")
TODAY = date(2026, 11, 22)
START = date(2025, 1, 6)


def generate(n_households: int, n_markets: int, n_communes: int, n_provinces: int, seed: int = 7) -> dict:
    """Rows for every table, as tuples in column order; ids are explicit so children can point at them."""
    rng = random.Random(seed)
    provinces = [(i, f"P{i:02d}", f"Tỉnh {i:02d}") for i in range(1, n_provinces + 1)]
    communes = [
        (i, f"X{i:05d}", f"Xã {i:05d}", rng.randint(1, n_provinces) if i > n_provinces else i)
        for i in range(1, n_communes + 1)
    ]
    markets = [
        (i, f"M{i:05d}", f"Chợ {i:05d}", rng.randint(1, n_communes) if i > n_communes else i)
        for i in range(1, n_markets + 1)
    ]
    weights = [rng.uniform(0.2, 1.8) for _ in markets]
    owners = rng.choices(range(1, n_markets + 1), weights, k=n_households)
    owners.sort()
    names = [f"{f} {g}" for f in FAMILY for g in GIVEN]
    status_pool = [s for s, w in STATUSES for _ in range(w)]
    span = (TODAY - START).days
    households, stalls, seq, last = [], [], 0, 0
    for hid, market_id in enumerate(owners, 1):
        seq = seq + 1 if market_id == last else 1
        last = market_id
        status = rng.choice(status_pool)
        issued = None
        if st.is_covered(status):  # onboarding speeds up over the programme: more recent days are likelier
            issued = (START + timedelta(days=int(span * rng.random() ** 0.6))).isoformat()
        households.append((hid, market_id, rng.choice(names), status, rng.random() > 0.03, issued))
        stalls.append((hid, market_id, f"{'ABCD'[seq % 4]}-{seq:04d}", f"Dãy {'ABCD'[seq % 4]}", hid))
    return {"province": provinces, "commune": communes, "market": markets, "household": households, "stall": stalls}


def load_sqlite(path: Path, data: dict) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with con:
        con.executemany("INSERT INTO province (id, code, name) VALUES (?, ?, ?)", data["province"])
        con.executemany("INSERT INTO commune (id, code, name, province_id) VALUES (?, ?, ?, ?)", data["commune"])
        con.executemany(
            "INSERT INTO market (id, code, name, commune_id, is_demo) VALUES (?, ?, ?, ?, 0)", data["market"]
        )
        con.executemany(
            "INSERT INTO household (id, market_id, owner_name, search_text, goods, status, active, "
            "needs_reprint, qr_issued_on, version, created_at, updated_at) "
            f"VALUES (?, ?, ?, '', '', ?, ?, 0, ?, 1, '{now}', '{now}')",
            data["household"],
        )
        con.executemany(
            "INSERT INTO stall (id, market_id, code, zone, household_id) VALUES (?, ?, ?, ?, ?)", data["stall"]
        )
    con.execute("ANALYZE")
    con.close()


def pg_admin_url(url: str) -> tuple[str, str]:
    base, name = url.rsplit("/", 1)
    if name in PROTECTED:
        raise SystemExit(f"refusing to use PostgreSQL database '{name}': pick a bench database of your own")
    return base.replace("+psycopg", "") + "/postgres", name


def reset_pg(url: str) -> None:
    import psycopg

    admin, name = pg_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')


def load_pg(url: str, data: dict) -> None:
    import psycopg

    columns = {
        "province": "id, code, name",
        "commune": "id, code, name, province_id",
        "market": "id, code, name, commune_id",
        "household": "id, market_id, owner_name, status, active, qr_issued_on",
        "stall": "id, market_id, code, zone, household_id",
    }
    with psycopg.connect(url.replace("+psycopg", "")) as con:
        for table in ("province", "commune", "market", "household", "stall"):
            if table == "market":
                con.execute("ALTER TABLE market ALTER COLUMN is_demo SET DEFAULT false")
            if table == "household":
                for col, default in (
                    ("search_text", "''"),
                    ("goods", "''"),
                    ("needs_reprint", "false"),
                    ("version", "1"),
                    ("created_at", "now()"),
                    ("updated_at", "now()"),
                ):
                    con.execute(f"ALTER TABLE household ALTER COLUMN {col} SET DEFAULT {default}")
            with con.cursor().copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                for row in data[table]:
                    copy.write_row(row)
            con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as con:
        con.execute("VACUUM ANALYZE")


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time in ms after one warm-up call."""
    return statistics.median(runs(fn, repeat))


def runs(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def naive_country(session: Session) -> dict[int, tuple[int, int]]:
    """The obvious first version: two COUNT queries per market, then sum in Python."""
    out = {}
    for market_id in session.exec(select(Market.id).order_by(Market.id)).all():
        base = select(func.count()).where(Household.market_id == market_id, Household.active)
        total = session.exec(base).one()
        covered = session.exec(base.where(Household.status.in_(st.COVERED))).one()
        out[market_id] = (covered, total)
    return out


def run(label: str, url: str, repeat: int, data_args: tuple, data: dict | None = None) -> None:
    print(f"\n== {label}: {url}")
    t = time.perf_counter()
    db.upgrade(url)
    if data is None:
        data = generate(*data_args)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    if url.startswith("sqlite"):
        load_sqlite(Path(url.removeprefix("sqlite:///")), data)
    else:
        load_pg(url, data)
    print(
        f"schema + data generated in {gen:.1f} s, loaded in {time.perf_counter() - t:.1f} s "
        f"({len(data['household']):,} households, {len(data['market']):,} markets, "
        f"{len(data['commune']):,} communes, {len(data['province']):,} provinces)"
    )

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
        }
    )
    engine = app.extensions["choqr.engine"]
    with Session(engine) as s:
        create_user(s, username="bench.admin", full_name="Bench", password="bench-password-1", role=roles.ADMIN)
        busiest = s.exec(
            select(Household.market_id, func.count()).group_by(Household.market_id).order_by(func.count().desc())
        ).first()[0]
    market = next(m for m in data["market"] if m[0] == busiest)
    commune = next(c for c in data["commune"] if c[0] == market[3])
    province_id = commune[3]
    officer = Viewer(None, roles.COMMUNE_OFFICER, province_ids=frozenset({province_id}))
    manager = Viewer(None, roles.MARKET_MANAGER, market_ids=frozenset({market[0]}))
    client = app.test_client()
    client.post("/login", data={"username": "bench.admin", "password": "bench-password-1"})

    def page(path: str) -> Callable[[], object]:
        def get() -> None:
            resp = client.get(path)
            assert resp.status_code == 200, (path, resp.status_code)

        return get

    with Session(engine) as s:
        levels = [
            (
                "province list (country)",
                lambda: rs.area_report(s, SYSTEM, "country", None, today=TODAY),
                "/reports/country",
            ),
            (
                "one province's communes",
                lambda: rs.area_report(s, SYSTEM, "province", province_id, today=TODAY),
                f"/reports/provinces/{province_id}",
            ),
            (
                "  same, province officer",
                lambda: rs.area_report(s, officer, "province", province_id, today=TODAY),
                None,
            ),
            (
                "one commune's markets",
                lambda: rs.area_report(s, SYSTEM, "commune", commune[0], today=TODAY),
                f"/reports/communes/{commune[0]}",
            ),
            (
                "one market's zones",
                lambda: rs.market_report(s, get_market(s, SYSTEM, market[0]), today=TODAY),
                f"/reports/markets/{market[0]}",
            ),
            (
                "  same, market manager",
                lambda: rs.market_report(s, get_market(s, manager, market[0]), today=TODAY),
                None,
            ),
            (
                "one market's missing list",
                lambda: rs.missing_households(s, SYSTEM, market[0], today=TODAY),
                f"/reports/markets/{market[0]}/missing",
            ),
            ("trend, country", lambda: rs.trend(s, SYSTEM, "country", None, TODAY), None),
            ("trend, province", lambda: rs.trend(s, SYSTEM, "province", province_id, TODAY), None),
            ("trend, market", lambda: rs.trend(s, SYSTEM, "market", market[0], TODAY), None),
            ("markets list, page 1 of all", None, "/"),
            ("country CSV export", None, "/reports/country/export.csv"),
            ("commune PDF export", None, f"/reports/communes/{commune[0]}/export.pdf"),
        ]
        print(
            f"{'level':<28}{'query ms':>10}{'page ms':>10}{'best':>8}   (medians of {repeat} after a warm-up; "
            f"target {TARGET_MS} ms a page)"
        )
        for name, query, path in levels:
            q = timed(query, repeat) if query else None
            p = runs(page(path), repeat) if path else None
            mark = "" if p is None else ("  ok" if statistics.median(p) < TARGET_MS else "  OVER TARGET")
            page_ms = "" if p is None else f"{statistics.median(p):>10.1f}{min(p):>8.1f}"
            print(f"{name:<28}{'' if q is None else f'{q:.1f}':>10}{page_ms:>18}{mark}")

        print("baselines, same data:")
        t = time.perf_counter()
        naive = naive_country(s)
        naive_ms = (time.perf_counter() - t) * 1000
        ours = rs.area_report(s, SYSTEM, "country", None, today=TODAY)
        assert sum(c for c, _ in naive.values()) == ours.coverage.covered, "naive and grouped totals disagree"
        print(f"{'  naive 2 COUNTs per market':<28}{naive_ms:>10.1f}   ({2 * len(naive):,} queries, 1 run)")
        grouped = (
            select(Household.market_id, Household.status, func.count())
            .where(Household.active)
            .group_by(Household.market_id, Household.status)
        )
        print(
            f"{'  GROUP BY households':<28}{timed(lambda: s.exec(grouped).all(), repeat):>10.1f}"
            "   (what the tally replaces: counting a million rows per view)"
        )
        print(
            f"{'  market_coverage(), all':<28}{timed(lambda: market_coverage(s, SYSTEM), 1):>10.1f}"
            "   (every market's row, as the old unpaged markets list built)"
        )
        lookup = (
            "SELECT sql FROM sqlite_master WHERE name = :n"
            if url.startswith("sqlite")
            else "SELECT indexdef FROM pg_indexes WHERE indexname = :n"
        )
        ddl = s.exec(text(lookup), params={"n": MIGRATION_0002}).one()[0]
        s.exec(text(f"DROP INDEX {MIGRATION_0002}"))
        s.commit()
        for lvl, area in (("country", None), ("province", province_id)):
            ms = timed(lambda lvl=lvl, area=area: rs.trend(s, SYSTEM, lvl, area, TODAY), 1)
            print(f"{f'  trend, {lvl}, w/o 0002':<28}{ms:>10.1f}   ({MIGRATION_0002} dropped)")
        s.exec(text(ddl))
        s.commit()
    engine.dispose()


def main(argv: Iterator[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--markets", type=int, default=10_000)
    ap.add_argument("--communes", type=int, default=3_321)
    ap.add_argument("--provinces", type=int, default=34)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sqlite", default="/tmp/choqr_bench.db")
    ap.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/choqr_bench")
    )
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    args = ap.parse_args(argv)
    print(
        f"ChoQR coverage benchmark · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"{platform.machine()} · {os.cpu_count()} CPUs"
    )
    shape = (args.households, args.markets, args.communes, args.provinces)
    t = time.perf_counter()
    data = generate(*shape)
    print(f"generated {args.households:,} households in {time.perf_counter() - t:.1f} s")
    if not args.skip_sqlite:
        path = Path(args.sqlite)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        run("SQLite", f"sqlite:///{path}", args.repeat, shape, data)
    if not args.skip_pg:
        pg_admin_url(args.pg)
        reset_pg(args.pg)
        run("PostgreSQL", args.pg, args.repeat, shape, data)


if __name__ == "__main__":
    main()
