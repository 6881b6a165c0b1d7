"""Browser tests: the app served from a thread on a fresh database, driven by the Debian Chromium at tablet sizes.

Only /usr/bin/chromium is used (never a downloaded browser); without it these tests are skipped.
Screenshots go to /tmp/shots/ for a person to look at.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import CHEAP_HASHING, PASSWORD, make_household, make_market, make_user
from flask import Flask
from sqlmodel import Session
from werkzeug.serving import make_server

from app import create_app
from merchants import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PORTRAIT = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1280, "height": 800}
TABLETS = {"768x1024": PORTRAIT, "1280x800": LANDSCAPE}
SHOTS = Path("/tmp/shots")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def browser():  # noqa: ANN201
    if not CHROMIUM.exists():
        pytest.skip("browser tests need the Debian chromium package at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass(frozen=True)
class Live:
    """The running app: its base URL and a way to read or seed its database."""

    url: str
    app: Flask

    def session(self) -> Session:
        return db.session_scope(self.app.extensions["choqr.engine"])


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    """The app as deployed (CSRF on), served by werkzeug on 127.0.0.1 with a free port, in a thread."""
    app = create_app(
        {
            "SECRET_KEY": "browser-tests",
            "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": False,
            "BATCH_DIR": str(tmp_path / "batches"),
            "JOBS_IMMEDIATE": True,
            **CHEAP_HASHING,
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["choqr.engine"].dispose()


@dataclass(frozen=True)
class World:
    """A market in Vân Đồn with a few households and an officer who serves it."""

    market_id: int
    other_market_id: int
    household_id: int
    officer: str
    admin: str


@pytest.fixture
def world(live: Live) -> World:
    with live.session() as s:
        market = make_market(s, name="Chợ Cái Rồng", commune_code="VANDON", stalls=8, zone="Nhà chợ chính")
        other = make_market(s, name="Chợ Hạ Long I", commune_code="HONGGAI", stalls=2)
        h = make_household(
            s,
            market,
            owner_name="Nguyễn Thị Đào",
            goods="Rau củ quả",
            phone="0912000001",
            citizen_id="022185000001",
            bin="970436",
            account_number="0011001932418",
        )
        make_household(s, market, owner_name="Lê Văn Hùng", goods="Hải sản tươi sống", phone="0987000002")
        make_household(s, market, owner_name="Trần Thị Mai", goods="Tạp hóa", account=False)
        officer = make_user(s, "commune_officer", communes=["VANDON"], username="canbo.vandon")
        admin = make_user(s, "admin", username="quantri")
        return World(market.id, other.id, h.id, officer.username, admin.username)


@pytest.fixture
def open_page(browser, live: Live) -> Iterator[Callable]:  # noqa: ANN001
    """Open a tab at a tablet size, in a browser set to Vietnamese as the officers' tablets are."""
    contexts = []

    def _open(viewport: dict = PORTRAIT):  # noqa: ANN202
        context = browser.new_context(viewport=viewport, locale="vi-VN", base_url=live.url, has_touch=True)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def sign_in(page, username: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/login" not in page.url, page.content()[:500]


def assert_fits_width(page) -> None:  # noqa: ANN001
    """No sideways scrolling: the page is never wider than the tablet's screen."""
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{page.url}: content is {width}px wide on a {inner}px screen"


def small_touch_targets(page) -> list[str]:  # noqa: ANN001
    """Buttons and form controls shorter than 44 CSS px (the usual minimum for a finger)."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'button, .btn, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea')]
      .filter(el => el.offsetParent !== null)
      .map(el => [el, el.getBoundingClientRect()])
      .filter(([el, r]) => r.height < 44)
      .map(([el, r]) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} '${(el.innerText || el.name || '')
        .trim().slice(0, 30)}' ${Math.round(r.height)}px`)""")


def shot(page, name: str) -> None:  # noqa: ANN001
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


_AXE_TABS: weakref.WeakSet = weakref.WeakSet()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


_AXE_RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n =>
    ({target: n.target.flat().join(' '), html: n.html.replace(/\\s+/g, ' ').slice(0, 160)}))})))"""


def accessibility_report(page, name: str, tags: list[str] = WCAG_22_AA) -> str:  # noqa: ANN001, B006
    """What axe-core finds against WCAG 2.2 AA on the page as it is now, element by element; "" when nothing."""
    # The app's CSP (script-src 'self') refuses the inline <script> that add_script_tag(path=...) inserts, so
    # axe's source goes in through the DevTools protocol instead: the page keeps its real CSP (no bypass_csp).
    # Once per tab as an init script, so the next pages of a sweep have it without sending 500 KB again.
    if not page.evaluate("() => 'axe' in window"):
        if page not in _AXE_TABS:
            page.add_init_script(script=_axe_source())
            _AXE_TABS.add(page)
        page.evaluate(_axe_source())
    found = [
        f"  {v['id']} ({v['impact']}): {v['help']}" + "".join(f"\n    {n['target']}  {n['html']}" for n in nodes)
        for v in page.evaluate(_AXE_RUN, tags)
        if (nodes := v["nodes"])
    ]
    return "\n".join([f"{name} ({page.url}):", *found]) if found else ""


def assert_accessible(page, name: str) -> None:  # noqa: ANN001
    """Fail, listing each violation (rule, impact, elements and their HTML), when axe finds one on the page."""
    report = accessibility_report(page, name)
    assert not report, report


def turned(page) -> Iterator[str]:  # noqa: ANN001
    """The tab at each tablet size in turn, the page kept as it is (a tablet turned in the hand), then back at the
    size it had. One page load checked at both sizes costs a layout per size; loading it again at the other size
    would cost a navigation, about 150 ms of Chromium's CPU on this machine."""
    start = page.viewport_size
    try:
        for size, viewport in TABLETS.items():
            page.set_viewport_size(viewport)
            yield size
    finally:
        page.set_viewport_size(start)


def assert_accessible_turned(page, name: str, shot_name: str | None = None, *, fits: bool = False) -> None:  # noqa: ANN001
    """``assert_accessible`` at each tablet size on one load of the page, every violation at either size listed;
    with ``shot_name``, a screenshot ``<shot_name>-<size>.png`` at each for a person to look at; with ``fits``,
    no sideways scrolling at either size."""
    found = []
    for size in turned(page):
        if fits:
            assert_fits_width(page)
        found.append(accessibility_report(page, f"{name} at {size}"))
        if shot_name:
            shot(page, f"{shot_name}-{size}")
    assert not any(found), "\n".join(filter(None, found))
