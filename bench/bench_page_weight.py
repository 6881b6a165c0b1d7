"""Page weight for a weak 3G link: the bytes each main page costs (HTML + CSS + JS + images), at tablet size.

    .venv/bin/python bench/bench_page_weight.py [--budget-kb 100] [--shots DIR]

Builds a throwaway database with the demo markets (Chợ Cái Rồng: 370 stalls, 364 households), serves the app on
127.0.0.1 from a thread, opens every page an officer uses in headless Chromium (the Debian /usr/bin/chromium,
never a downloaded one) and adds up the body of every response the page loads (the app sends them uncompressed), and
what gzip at a proxy would make of them. The 3G estimate assumes 400 kbit/s and a 300 ms round trip per request batch.
Exits 1 when a page is over budget.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from merchants import db  # noqa: E402
from merchants.demo import DEMO_PASSWORD, seed  # noqa: E402
from merchants.models import Household, Market, User  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"width": 768, "height": 1024}
LINK_BYTES_PER_S = 400_000 / 8
ROUND_TRIP_S = 0.3
TEXT_KINDS = ("document", "stylesheet", "script", "xhr", "fetch")
VERBOSE = "-v" in sys.argv


@dataclass
class Weight:
    page: str
    path: str
    requests: int = 0
    sent: int = 0
    gzipped: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def seconds_on_3g(self) -> float:
        """Two round trips (document, then its assets in parallel) plus the bytes over the link."""
        return 2 * ROUND_TRIP_S + self.sent / LINK_BYTES_PER_S


def _serve(database_url: str, instance: Path):  # noqa: ANN202
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": False,
            "BATCH_DIR": str(instance / "batches"),
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server


def _pages(session) -> list[tuple[str, str]]:  # noqa: ANN001
    market = session.exec(select(Market).where(Market.code == "CAIRONG")).one()
    h = session.exec(
        select(Household)
        .where(Household.market_id == market.id, Household.status == "placard_printed")
        .order_by(Household.id)
    ).first()
    return [
        ("sign-in", "/login"),
        ("markets", "/"),
        ("market, 370 stalls", f"/markets/{market.id}"),
        ("market, search", f"/markets/{market.id}?q=dao"),
        ("register", f"/markets/{market.id}/register"),
        ("household", f"/households/{h.id}"),
        ("edit", f"/households/{h.id}/edit"),
        ("change account", f"/households/{h.id}/account"),
        ("history", f"/households/{h.id}/history"),
        ("search as you type", "/households/search?q=nguyen"),
        ("not found", "/households/999999"),
    ]


def measure(shots: Path | None) -> list[Weight]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        db.upgrade(url)
        started = time.perf_counter()
        with db.session_scope(db.make_engine(url)) as session:
            seed(session)
            pages = _pages(session)
            admin = session.exec(select(User.username).where(User.role == "admin")).first()
        print(f"demo data ready in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        app, server = _serve(url, Path(tmp))
        base = f"http://127.0.0.1:{server.server_port}"
        weights = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                context = browser.new_context(viewport=TABLET, locale="vi-VN")
                weights.append(_weigh(context, base, *pages[0], shots))
                page = context.new_page()
                page.goto(base + "/login")
                page.fill("#username", admin)
                page.fill("#password", DEMO_PASSWORD)
                with page.expect_navigation():
                    page.press("#password", "Enter")
                for name, path in pages[1:]:
                    weights.append(_weigh(context, base, name, path, shots))
                browser.close()
        finally:
            server.shutdown()
            app.extensions["choqr.engine"].dispose()
    return weights


def _weigh(context, base: str, name: str, path: str, shots: Path | None) -> Weight:  # noqa: ANN001
    """Open the page in a fresh tab with the cache off, so every asset counts as on a first visit."""
    weight = Weight(name, path)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def on_finished(request) -> None:  # noqa: ANN001
        response = request.response()
        if response is None or request.url.startswith("data:"):
            return
        body = b"" if 300 <= response.status < 400 else response.body()
        kind = request.resource_type
        weight.requests += 1
        weight.sent += len(body)
        weight.gzipped += len(gzip.compress(body, 6)) if kind in TEXT_KINDS else len(body)
        weight.by_type[kind] = weight.by_type.get(kind, 0) + len(body)
        if VERBOSE:
            print(f"  {response.status} {kind:<10} {len(body):>8,} {request.url}", file=sys.stderr)

    page.on("requestfinished", on_finished)
    page.goto(base + path, wait_until="networkidle")
    if shots:
        page.screenshot(path=str(shots / f"weight-{name.replace(' ', '-').replace(',', '')}.png"), full_page=False)
    page.close()
    return weight


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-kb", type=int, default=100)
    parser.add_argument("--shots", type=Path, default=None, help="Save a screenshot of each page here.")
    parser.add_argument("-v", action="store_true", help="List every response.")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("needs the Debian chromium package at /usr/bin/chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    weights = measure(args.shots)
    kinds = ("document", "stylesheet", "script", "image", "fetch")
    print(
        f"{'page':<22}{'reqs':>5}" + "".join(f"{k[:6]:>9}" for k in kinds) + f"{'total KB':>10}{'gzip KB':>9}"
        f"{'3G s':>7}"
    )
    over = 0
    for w in weights:
        flag = ""
        if w.sent > args.budget_kb * 1024:
            flag, over = "  OVER BUDGET", over + 1
        print(
            f"{w.page:<22}{w.requests:>5}"
            + "".join(f"{w.by_type.get(k, 0):>9,}" for k in kinds)
            + f"{w.sent / 1024:>10.1f}{w.gzipped / 1024:>9.1f}{w.seconds_on_3g:>7.1f}{flag}"
        )
    print(
        f"budget {args.budget_kb} KB per page (first visit, cache off): {len(weights) - over} of {len(weights)} "
        "pages within it"
    )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
