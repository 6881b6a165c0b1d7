"""Benchmark payments received: webhook handling, a statement import and the country report with "active".

Seeds the coverage benchmark's registry (``bench_coverage.generate``: households, stalls, markets, communes and
provinces) plus a bank account per household and a month of credit events with their tallies, then measures:

- SePay webhook handling through the app (in-process client): p50/p95 of new credits and of retries, against a
  baseline in the same run (the API description, the cheapest request the app answers), target p95 < 20 ms;
- a 100,000-row bank statement (CSV, and XLSX unless --skip-xlsx) through ``import_statement``, against reading
  the same file alone, target < 20 s; for XLSX also our reader alone against openpyxl's read-only one (the reader
  it replaced) on the same file, rows/s and the ratio;
- the country report with the active column, service and page, against the same report's coverage part alone
  (what it cost before payments), target < 300 ms.

    .venv/bin/python bench/bench_payments.py --households 200000 --markets 2000 --events 200000 --skip-pg
    .venv/bin/python bench/bench_payments.py                     # 1,000,000 households and events, both databases
    .venv/bin/python bench/bench_payments.py --only statement    # the statement part alone (seeding as always)
PostgreSQL uses its own database (default ``choqr_bench_pay``, dropped and recreated); never a shared one.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_coverage import generate, load_pg, load_sqlite, pg_admin_url, reset_pg, runs, timed  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app import create_app  # noqa: E402
from merchants import db, xlsx_book, xlsx_read  # noqa: E402
from merchants import status as st  # noqa: E402
from merchants.clock import VN_TZ, vn_date  # noqa: E402
from merchants.scope import SYSTEM  # noqa: E402
from merchants.services import payment_sources  # noqa: E402
from merchants.services import reports as rs  # noqa: E402
from merchants.services.payment_ingest import week_of  # noqa: E402
from merchants.services.statement_import import STATEMENT, import_statement  # noqa: E402
from merchants.services.user_scope import AreaGrant  # noqa: E402
from merchants.spreadsheet import read_table  # noqa: E402

WEBHOOK_P95_MS, STATEMENT_S, REPORT_MS = 20, 20, 300
PARTS = ("webhooks", "statement", "report")
NOW = datetime.now(UTC).replace(microsecond=0)


def account(hid: int) -> str:
    return f"9{hid:012d}"


def payments_data(data: dict, n_events: int, seed: int = 11) -> dict:
    """A bank account per household and ``n_events`` credits over the last 30 days, with their tallies."""
    rng = random.Random(seed)
    households = data["household"]
    covered = [h for h in households if h[4] and st.is_covered(h[3])]
    market_of = {h[0]: h[1] for h in households}
    accounts = [(h[0], h[0], "970436", account(h[0])) for h in households]
    events, span, weeks, summary = [], {}, set(), {}
    for i in range(1, n_events + 1):
        hid = rng.choice(covered)[0]
        at = NOW - timedelta(seconds=rng.randint(3600, 30 * 86400))
        events.append((i, 1, f"seed{i}", hid, hid, rng.randint(1, 400) * 1000, at, f"REF{i}", NOW))
        lo, hi = summary.get(hid, (at, at))
        summary[hid] = (min(lo, at), max(hi, at))
        weeks.add((hid, week_of(at)))
    span = [(hid, market_of[hid], lo, hi) for hid, (lo, hi) in summary.items()]
    per_market_week = Counter((market_of[h], w) for h, w in weeks)
    per_market_day = Counter((market_of[h], vn_date(hi)) for h, (_lo, hi) in summary.items())
    return {
        "bankaccount": accounts,
        "payment_event": events,
        "household_payment": span,
        "payment_week": sorted(weeks),
        "payment_market_week": [(m, w, n) for (m, w), n in per_market_week.items()],
        "payment_market_day": [(m, d, n) for (m, d), n in per_market_day.items()],
    }


def load_payments_sqlite(path: Path, pay: dict) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    now = NOW.strftime(fmt)
    with con:
        con.executemany(
            "INSERT INTO bankaccount (id, household_id, bin, account_number, holder_name, active, created_at) "
            f"VALUES (?, ?, ?, ?, '', 1, '{now}')",
            pay["bankaccount"],
        )
        con.executemany(
            "INSERT INTO payment_event (id, source_id, provider_id, bank_account_id, household_id, amount, "
            "occurred_at, reference, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*e[:6], e[6].strftime(fmt), e[7], e[8].strftime(fmt)) for e in pay["payment_event"]],
        )
        con.executemany(
            "INSERT INTO household_payment (household_id, market_id, first_at, last_at) VALUES (?, ?, ?, ?)",
            [(h, m, lo.strftime(fmt), hi.strftime(fmt)) for h, m, lo, hi in pay["household_payment"]],
        )
        con.executemany(
            "INSERT INTO payment_week (household_id, week) VALUES (?, ?)",
            [(h, w.isoformat()) for h, w in pay["payment_week"]],
        )
        for table, column in (("payment_market_week", "week"), ("payment_market_day", "day")):
            con.executemany(
                f"INSERT INTO {table} (market_id, {column}, households) VALUES (?, ?, ?)",
                [(m, w.isoformat(), n) for m, w, n in pay[table]],
            )
    con.execute("ANALYZE")
    con.close()


def load_payments_pg(url: str, pay: dict) -> None:
    import psycopg

    columns = {
        "bankaccount": "id, household_id, bin, account_number",
        "payment_event": "id, source_id, provider_id, bank_account_id, household_id, amount, occurred_at, "
        "reference, received_at",
        "household_payment": "household_id, market_id, first_at, last_at",
        "payment_week": "household_id, week",
        "payment_market_week": "market_id, week, households",
        "payment_market_day": "market_id, day, households",
    }
    with psycopg.connect(url.replace("+psycopg", "")) as con:
        for col, default in (("holder_name", "''"), ("active", "true"), ("created_at", "now()")):
            con.execute(f"ALTER TABLE bankaccount ALTER COLUMN {col} SET DEFAULT {default}")
        for table, cols in columns.items():
            with con.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in pay[table]:
                    copy.write_row(row)
        for table in ("bankaccount", "payment_event"):
            con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as con:
        con.execute("VACUUM ANALYZE")


def statement_csv(rows: int, accounts: list[str], seed: int = 5) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Diễn giải,Số tài khoản\n")
    for i in range(rows):
        at = (NOW - timedelta(seconds=rng.randint(0, 30 * 86400))).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S")
        out.write(f"{at},FT{i:010d},,{rng.randint(1, 500) * 1000},chuyen tien,{rng.choice(accounts)}\n")
    return out.getvalue().encode()


def statement_xlsx(csv_bytes: bytes) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sao ke")
    for line in csv_bytes.decode().splitlines():
        sheet.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def load() -> str:
    """The machine's load average, printed with the figures: on shared cores a busy neighbour stretches them."""
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


def run(label: str, url: str, args: argparse.Namespace, data: dict, pay: dict) -> None:
    print(f"\n== {label}: {url} ({load()})")
    t = time.perf_counter()
    db.upgrade(url)
    if url.startswith("sqlite"):
        load_sqlite(Path(url.removeprefix("sqlite:///")), data)
    else:
        load_pg(url, data)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "TESTING": True})
    engine = app.extensions["choqr.engine"]
    provinces = [p[1] for p in data["province"]]
    with Session(engine) as s:
        sepay, key = payment_sources.add_source(s, name="bench sepay", kind="sepay", scope=AreaGrant.of(provinces))
        statement, _ = payment_sources.add_source(
            s, name="bench sao ke", kind="statement", scope=AreaGrant.of(provinces)
        )
        assert sepay.id == 1
        statement_name = statement.name
    if url.startswith("sqlite"):
        load_payments_sqlite(Path(url.removeprefix("sqlite:///")), pay)
    else:
        load_payments_pg(url, pay)
    print(
        f"loaded in {time.perf_counter() - t:.1f} s: {len(data['household']):,} households and accounts, "
        f"{len(pay['payment_event']):,} credit events, {len(pay['household_payment']):,} households receiving"
    )
    client = app.test_client()
    covered = [h[0] for h in data["household"] if h[4] and st.is_covered(h[3])]
    if args.only in (None, "webhooks"):
        bench_webhooks(client, key, covered, args)
    if args.only in (None, "statement"):
        bench_statement(engine, statement_name, statement_accounts(covered, args), args)
    if args.only in (None, "report"):
        bench_report(engine, client, args)
    print(f"  ({load()} at the end)")
    engine.dispose()


def statement_accounts(covered: list[int], args: argparse.Namespace) -> list[str]:
    """The statement's accounts, drawn after the webhook bodies' draws: the same file with or without --only."""
    rng = random.Random(3)
    for _ in range(args.webhooks + 1):
        rng.choice(covered)
    return [account(h) for h in rng.sample(covered, min(len(covered), 50_000))]


def bench_webhooks(client: Any, key: str, covered: list[int], args: argparse.Namespace) -> None:
    rng = random.Random(3)

    def body(i: int) -> str:
        hid = rng.choice(covered)
        return json.dumps(
            {
                "id": 10_000_000 + i,
                "gateway": "Vietcombank",
                "transactionDate": (NOW - timedelta(minutes=i % 600)).astimezone(VN_TZ).strftime("%Y-%m-%d %H:%M:%S"),
                "accountNumber": account(hid),
                "code": None,
                "content": "chuyen tien mua hang",
                "transferType": "in",
                "transferAmount": 50_000,
                "accumulated": 0,
                "subAccount": None,
                "referenceCode": f"MBVCB.{i}",
            }
        )

    headers = {"Authorization": f"Apikey {key}"}
    bodies = [body(i) for i in range(args.webhooks)]

    def post(b: str) -> float:
        t0 = time.perf_counter()
        resp = client.post("/api/v1/payments/sepay", data=b, headers=headers, content_type="application/json")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return (time.perf_counter() - t0) * 1000

    client.get("/api/v1/openapi.json")
    post(body(-1))
    new = [post(b) for b in bodies]
    retries = [post(b) for b in bodies[: len(bodies) // 2]]
    base = runs(lambda: client.get("/api/v1/openapi.json"), args.webhooks // 2)
    print(f"{'webhook':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}   target p95 < {WEBHOOK_P95_MS} ms")
    for name, values in (
        ("SePay, new credit", new),
        ("SePay, retry (duplicate)", retries),
        ("baseline GET openapi", base),
    ):
        mark = "" if name.startswith("baseline") else ("  ok" if p(values, 0.95) < WEBHOOK_P95_MS else "  OVER")
        print(f"  {name:<32}{p(values, 0.5):>9.2f}{p(values, 0.95):>9.2f}{max(values):>9.2f}{mark}")
    print(f"  ratio new/baseline p95: {p(new, 0.95) / p(base, 0.95):.1f}x")


def reader_alone(blob: bytes) -> None:
    """Our XLSX reader against openpyxl's read-only one (what read statements before), rows only, same file."""
    import openpyxl

    def ours() -> int:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            book = xlsx_book.read_book(archive)
            return sum(1 for _ in xlsx_read.iter_rows(archive, book, book.visible()[0]))

    def theirs() -> int:
        book = openpyxl.load_workbook(io.BytesIO(blob), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        n = sum(1 for _ in sheet.iter_rows(values_only=True))
        book.close()
        return n

    took = {}
    for name, fn in (("ours", ours), ("openpyxl", theirs)):
        t0, c0 = time.perf_counter(), time.process_time()
        took[name] = (fn(), time.perf_counter() - t0, time.process_time() - c0)
    (n, ours_s, ours_cpu), (_, theirs_s, theirs_cpu) = took["ours"], took["openpyxl"]
    print(
        f"    reader alone: ours {ours_s:.2f} s ({n / ours_s:,.0f} rows/s), openpyxl read-only {theirs_s:.2f} s "
        f"({n / theirs_s:,.0f} rows/s): {theirs_s / ours_s:.1f}x; CPU {ours_cpu:.2f} s against {theirs_cpu:.2f} s: "
        f"{theirs_cpu / ours_cpu:.1f}x"
    )


def bench_statement(engine: Any, statement_name: str, accounts: list[str], args: argparse.Namespace) -> None:
    csv_data = statement_csv(args.statement_rows, accounts)
    files = [("CSV", csv_data)]
    if not args.skip_xlsx:
        files.append(("XLSX", statement_xlsx(csv_data)))
    print(f"statement of {args.statement_rows:,} rows{'':<10}read s   import s   target < {STATEMENT_S} s")
    for kind, blob in files:
        t0 = time.perf_counter()
        read_table(blob, STATEMENT)
        read_s = time.perf_counter() - t0
        with Session(engine) as s:
            t0, c0 = time.perf_counter(), time.process_time()
            report = import_statement(s, SYSTEM, source_name=statement_name, data=blob, filename=f"sk.{kind}")
            import_s, import_cpu = time.perf_counter() - t0, time.process_time() - c0
        again_note = ""
        if kind == "CSV":
            with Session(engine) as s:
                t0 = time.perf_counter()
                again = import_statement(s, SYSTEM, source_name=statement_name, data=blob, filename="sk.csv")
                again_note = f"; re-import {time.perf_counter() - t0:.1f} s, added {again.stored}"
        mark = "ok" if import_s < STATEMENT_S else "OVER"
        print(
            f"  {kind:<6} ({len(blob) / 1e6:.1f} MB){'':<14}{read_s:>6.1f}{import_s:>10.1f}  {mark}  "
            f"(stored {report.stored:,}, duplicates {report.duplicate:,}; reading is {read_s / import_s:.0%} of it"
            f"{again_note}; this process's CPU {import_cpu:.1f} s)"
        )
        if kind == "XLSX":
            reader_alone(blob)


def bench_report(engine: Any, client: Any, args: argparse.Namespace) -> None:
    from merchants.services.users import create_user

    with Session(engine) as s:
        create_user(s, username="bench.admin", full_name="Bench", password="bench-password-1", role="admin")
    client.post("/login", data={"username": "bench.admin", "password": "bench-password-1"})
    today = vn_date(NOW)
    with Session(engine) as s:
        with_active = timed(lambda: rs.area_report(s, SYSTEM, "country", None, today=today), args.repeat)
        active_only = timed(lambda: rs._active_by_child(s, SYSTEM, "country", None, NOW), args.repeat)
        trend_only = timed(lambda: rs._active_trend(s, SYSTEM, "country", None, today), args.repeat)
        report = rs.area_report(s, SYSTEM, "country", None, today=today)
    page = runs(lambda: client.get("/reports/country"), args.repeat)
    assert client.get("/reports/country").status_code == 200
    coverage_part = with_active - active_only - trend_only
    print(f"country report{'':<20}{'ms':>9}   target < {REPORT_MS} ms  ({report.active.label('hộ đang dùng')})")
    print(f"  {'service, with active':<32}{with_active:>9.1f}  {'ok' if with_active < REPORT_MS else 'OVER'}")
    print(
        f"  {'page /reports/country':<32}{statistics.median(page):>9.1f}  "
        f"{'ok' if statistics.median(page) < REPORT_MS else 'OVER'}"
    )
    print(f"  {'  active counts alone':<32}{active_only:>9.1f}")
    print(f"  {'  active weekly trend alone':<32}{trend_only:>9.1f}")
    print(
        f"  {'  baseline: coverage part':<32}{coverage_part:>9.1f}   "
        f"(with active / coverage only: {with_active / max(coverage_part, 0.1):.1f}x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--markets", type=int, default=10_000)
    ap.add_argument("--communes", type=int, default=3_321)
    ap.add_argument("--provinces", type=int, default=34)
    ap.add_argument("--events", type=int, default=1_000_000, help="credit events in the last 30 days")
    ap.add_argument("--webhooks", type=int, default=1000)
    ap.add_argument("--statement-rows", type=int, default=100_000)
    ap.add_argument("--skip-xlsx", action="store_true")
    ap.add_argument("--only", choices=PARTS, help="measure one part (the registry is seeded all the same)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sqlite", default="/tmp/choqr_bench_pay.db")
    ap.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/choqr_bench_pay")
    )
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    args = ap.parse_args()
    print(
        f"ChoQR payments benchmark · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"{platform.machine()} · {os.cpu_count()} CPUs · {load()}"
    )
    t = time.perf_counter()
    data = generate(args.households, args.markets, args.communes, args.provinces)
    pay = payments_data(data, args.events)
    print(f"generated {args.households:,} households and {args.events:,} events in {time.perf_counter() - t:.1f} s")
    if not args.skip_sqlite:
        path = Path(args.sqlite)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        run("SQLite", f"sqlite:///{path}", args, data, pay)
    if not args.skip_pg:
        pg_admin_url(args.pg)
        reset_pg(args.pg)
        run("PostgreSQL", args.pg, args, data, pay)


if __name__ == "__main__":
    main()
