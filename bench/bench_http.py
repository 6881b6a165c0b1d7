"""Officers registering households through gunicorn, as in production: throughput, latency and server CPU.

Run: .venv/bin/python bench/bench_http.py [--officers 8] [--seconds 20] [--stalls 2000] [--registered 1000]
                                         [--database-url postgresql://…/empty_db] [--workers 2 --threads 4]

Starts ``gunicorn "app:create_app()"`` (this folder's gunicorn.conf.py, on a free loopback port) against a
temporary SQLite file, or an EMPTY database given with --database-url. Seeds one market of --stalls stalls,
--registered of them with a household and a QR, and one commune officer per simulated tablet. Each officer
signs in, then until the time is up: opens the market page, opens the registration form, registers a
household at one of its free stalls with the form's own CSRF token, and lands on the household page.
Traffic goes to 127.0.0.1 only; every loop is bounded by time and by the officer's share of free stalls.
Prints registrations/s, p50/p95/p99 per page and the gunicorn processes' CPU time per request (/proc).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "mat-khau-ban-do-123"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_STALL_OPTION = re.compile(r'<option[^>]*value="(\d+)"[^>]*>\s*([A-Z]-\d{4})')
PAGES = ("market", "register_form", "register_post", "household")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMALL_STALLS = 40  # the second market: a page's cost at 40 stalls is the baseline for "flat in market size"


def stall_code(i: int) -> str:
    """The code of a seeded market's i-th stall (1-based), in zones Dãy A–D; the first ``registered`` are taken."""
    return f"{'ABCD'[i % 4]}-{i:04d}"


def seed(url: str, *, stalls: int, registered: int, officers: int) -> tuple[int, int]:
    """The schema, one market of ``stalls`` stalls (``registered`` with a household), a small market of
    ``SMALL_STALLS`` (half registered), and the officers, who serve both. Returns both markets' ids."""
    from sqlmodel import select

    from app import create_app
    from merchants import db
    from merchants.models import Commune, Market, Province, Stall
    from merchants.scope import SYSTEM
    from merchants.services import households as hs
    from merchants.services import users
    from merchants.services.registry_queries import get_market

    db.upgrade(url)
    cheap = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 8 * 1024, "PASSWORD_HASH_PARALLELISM": 1}
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "TESTING": True, **cheap})  # cheap for seeding only
    with db.session_scope(app.extensions["choqr.engine"]) as s:
        if s.exec(select(Market)).first() is not None:
            raise SystemExit(f"{url} is not empty: give an empty database")
        province = Province(code="22", name="Quảng Ninh")
        s.add(province)
        s.flush()
        commune = Commune(code="06994", name="Đặc khu Vân Đồn", type="Đặc khu", province_id=province.id)
        s.add(commune)
        s.flush()
        market = Market(code="BENCH", name="Chợ Bến Bench", commune_id=commune.id)
        small = Market(code="NHO", name="Chợ Nhỏ", commune_id=commune.id)
        s.add_all([market, small])
        s.flush()
        start, n = time.perf_counter(), 0
        for m, size, filled in ((market, stalls, registered), (small, SMALL_STALLS, SMALL_STALLS // 2)):
            s.add_all(
                [Stall(market_id=m.id, code=stall_code(i), zone=f"Dãy {'ABCD'[i % 4]}") for i in range(1, size + 1)]
            )
            s.commit()
            free = s.exec(select(Stall.id).where(Stall.market_id == m.id).order_by(Stall.id)).all()
            info = get_market(s, SYSTEM, m.id)
            for stall_id in free[:filled]:
                hs.register_household(
                    s,
                    info,
                    stall_ids=[stall_id],
                    household=hs.HouseholdInput("Trần Thị Mai", f"0913{n:06d}", f"0221{n % 100:02d}{n:06d}", "Rau"),
                    account=hs.AccountInput("970436", f"00120{n:08d}", ""),
                )
                n += 1
        print(f"seeded {stalls} stalls, {registered} households in {time.perf_counter() - start:.1f} s", flush=True)
        for i in range(officers):
            users.create_user(
                s,
                username=f"canbo{i}",
                full_name=f"Cán bộ {i}",
                password=PASSWORD,
                role="commune_officer",
                market_codes=["BENCH", "NHO"],
            )
        ids = (market.id, small.id)
    app.extensions["choqr.engine"].dispose()
    return ids


class Client:
    """One tablet: a keep-alive connection and its session cookie."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed an idle keep-alive connection (gunicorn's keepalive is 2 s): reconnect and
            # send again, as a browser does when a reused connection turns out closed before any answer.
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.conn.host, self.conn.port, timeout=60)
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, resp.headers.get("Location", ""), text


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    registered: int = 0
    deadline: float = float("inf")  # set once every officer has signed in
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, seconds: float) -> None:
        with self.lock:
            self.times[page].append(seconds)


def officer(
    index: int, codes: list[str], port: int, market_id: int, results: Results, ready: threading.Barrier
) -> None:
    """Sign in, then register households at this officer's share of the free stalls (``codes``) until the deadline,
    each opening the form from the stall as the market page links it (``?stall=CODE``)."""
    client = Client(port)
    _, _, page = client.request("GET", "/login")
    status, _, _ = client.request(
        "POST",
        "/login",
        [("csrf_token", _CSRF.search(page).group(1)), ("username", f"canbo{index}"), ("password", PASSWORD)],
    )
    if status != 302:
        results.errors.append(f"officer {index}: sign-in answered {status}")
    ready.wait()
    n = 0
    while time.monotonic() < results.deadline and n < len(codes):
        start = time.perf_counter()
        status, _, _ = client.request("GET", f"/markets/{market_id}")
        results.add("market", time.perf_counter() - start)
        start = time.perf_counter()
        status, _, page = client.request("GET", f"/markets/{market_id}/register?stall={codes[n]}")
        results.add("register_form", time.perf_counter() - start)
        mine = [sid for sid, code in _STALL_OPTION.findall(page) if code == codes[n]]
        if status != 200 or not mine:
            results.errors.append(f"officer {index}: form {status}, stall {codes[n]} not offered")
            break
        seq = 500_000 + index * 10_000 + n
        form = [
            ("csrf_token", _CSRF.search(page).group(1)),
            ("owner_name", "Nguyễn Thị Đào"),
            ("phone", f"0912{seq:06d}"),
            ("citizen_id", f"0221{seq % 100:02d}{seq:06d}"),
            ("goods", "Cá tươi"),
            ("bin", "970436"),
            ("account_number", f"00110{seq:08d}"),
            ("holder_name", ""),
            ("stall_ids", mine[0]),
        ]
        start = time.perf_counter()
        status, location, _ = client.request("POST", f"/markets/{market_id}/register", form)
        results.add("register_post", time.perf_counter() - start)
        if status != 302:
            results.errors.append(f"officer {index}: register answered {status}")
            continue
        start = time.perf_counter()
        client.request("GET", urllib.parse.urlsplit(location).path)
        results.add("household", time.perf_counter() - start)
        with results.lock:
            results.registered += 1
        n += 1


def sign_in(client: Client, username: str) -> int:
    _, _, page = client.request("GET", "/login")
    status, _, _ = client.request(
        "POST", "/login", [("csrf_token", _CSRF.search(page).group(1)), ("username", username), ("password", PASSWORD)]
    )
    return status


def page_cpu(
    port: int, master: int, market_id: int, small_id: int, repeat: int, stalls: int
) -> list[tuple[str, float]]:
    """Server CPU per request of each page alone, one tablet asking ``repeat`` times in a row (no contention):
    what each page costs, and whether it stays flat in market size (the same page at a 40-stall market)."""
    signed_out, client = Client(port), Client(port)
    sign_in(client, "canbo0")
    household = urllib.parse.urlsplit(client.request("GET", f"/markets/{market_id}/stalls/A-0004")[1]).path
    pages = [
        ("sign-in page (baseline)", signed_out, "/login"),
        ("market, 40 stalls", client, f"/markets/{small_id}"),
        ("market, 2,000 stalls", client, f"/markets/{market_id}"),
        ("register form, 40 stalls", client, f"/markets/{small_id}/register"),
        ("register form, 2,000", client, f"/markets/{market_id}/register"),
        ("register ?stall=, 40", client, f"/markets/{small_id}/register?stall={stall_code(SMALL_STALLS)}"),
        ("register ?stall=, 2,000", client, f"/markets/{market_id}/register?stall={stall_code(stalls)}"),
        ("household", client, household),
    ]
    out = []
    for name, who, path in pages:
        for _ in range(5):  # warm: templates compiled, connections open, in both workers
            who.request("GET", path)
        before = cpu_seconds(master)
        for _ in range(repeat):
            status, _, _ = who.request("GET", path)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
        out.append((name, (cpu_seconds(master) - before) / repeat))
    return out


def cpu_seconds(master: int) -> float:
    """User + system CPU of the gunicorn master and its workers (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == master or ppid == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_gunicorn(url: str, port: int, work: Path, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHOQR_SECRET_KEY": "bench-http",
        "CHOQR_RATELIMIT_ENABLED": "false",
        "CHOQR_BATCH_DIR": str(work / "batches"),
        "CHOQR_JOBS_URL": f"sqlite:///{work / 'jobs.db'}",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "app:create_app()",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--access-logfile",
            str(work / "access.log"),
            "--error-logfile",
            str(work / "error.log"),
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if Client(port).request("GET", "/login")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer on 127.0.0.1:{port}; see {work / 'error.log'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--stalls", type=int, default=2000)
    parser.add_argument("--registered", type=int, default=1000)
    parser.add_argument("--database-url", default="", help="an EMPTY database (default: a temporary SQLite file)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=200, help="requests per page when measuring each page alone")
    args = parser.parse_args()
    if args.registered >= args.stalls:
        parser.error("--registered must leave free stalls")

    with tempfile.TemporaryDirectory(prefix="choqr-bench-http-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'choqr.db'}"
        market_id, small_id = seed(url, stalls=args.stalls, registered=args.registered, officers=args.officers)
        port = free_port()
        server = start_gunicorn(url, port, work, args.workers, args.threads)
        try:
            results = Results()
            ready = threading.Barrier(args.officers + 1)
            free = range(args.registered + 1, args.stalls)  # the last stall is left for the per-page phase
            threads = [
                threading.Thread(
                    target=officer,
                    args=(i, [stall_code(k) for k in free if k % args.officers == i], port, market_id, results, ready),
                )
                for i in range(args.officers)
            ]
            for t in threads:
                t.start()
            ready.wait()
            cpu_before, start = cpu_seconds(server.pid), time.monotonic()
            results.deadline = start + args.seconds
            for t in threads:
                t.join(timeout=args.seconds + 120)
            elapsed, cpu = time.monotonic() - start, cpu_seconds(server.pid) - cpu_before
            per_page = page_cpu(port, server.pid, market_id, small_id, args.repeat, args.stalls)
        finally:
            server.terminate()
            server.wait(timeout=30)
    kind = url.split(":", 1)[0]
    requests = sum(len(v) for v in results.times.values())
    print(
        f"{kind}, gunicorn {args.workers} workers x {args.threads} threads, {args.officers} officers, "
        f"{args.stalls} stalls ({args.registered} registered before), {elapsed:.1f} s"
    )
    print(
        f"registrations: {results.registered} ({results.registered / elapsed:.1f}/s), requests: {requests} "
        f"({requests / elapsed:.1f}/s), errors: {len(results.errors)}"
    )
    print(f"{'page':14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for page in PAGES:
        values = results.times.get(page, [])
        if values:
            p50, p95, p99 = (percentile(values, q) * 1000 for q in (0.5, 0.95, 0.99))
            print(f"{page:14} {len(values):5d} {p50:8.0f} {p95:8.0f} {p99:8.0f} {statistics.fmean(values) * 1000:8.0f}")
    print(
        f"server CPU: {cpu:.1f} s over {elapsed:.1f} s ({cpu / elapsed * 100:.0f}% of one core), "
        f"{cpu / max(requests, 1) * 1000:.1f} ms per request, {cpu / max(results.registered, 1) * 1000:.0f} ms "
        "per registration (its four requests)"
    )
    for error in results.errors[:5]:
        print("  error:", error)
    base = per_page[0][1]
    print(f"server CPU per request, each page alone ({args.repeat} requests, one tablet):")
    for name, seconds in per_page:
        print(f"  {name:26} {seconds * 1000:6.1f} ms  {seconds / base:5.1f}x the sign-in page")
    flat = dict(per_page)
    print(
        f"  flat in market size: market page at 2,000 stalls / at 40 = "
        f"{flat['market, 2,000 stalls'] / flat['market, 40 stalls']:.2f}"
    )


if __name__ == "__main__":
    main()
