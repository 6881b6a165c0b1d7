"""Every page a person can open, as each role that sees it, at both tablet sizes: axe-core finds no WCAG 2.2 AA
violation. The pages come from the app's URL map, so a page is checked as soon as its route exists."""

import re

import pytest
from conftest import (
    TABLETS,
    accessibility_report,
    assert_accessible_turned,
    assert_fits_width,
    sign_in,
    turned,
)
from factories import make_market, make_user
from flask import Flask
from sqlmodel import select
from werkzeug.routing import Rule

from merchants.models import Commune, Market, Stall, User
from merchants.scope import SYSTEM, viewer_for
from merchants.services import batches as bs
from merchants.services import import_jobs, password_links
from merchants.services.registry_queries import get_market
from qr import build_payload

pytestmark = pytest.mark.browser

ROLES = ("admin", "commune_officer", "print_staff", "market_manager")

# GET routes that send a file or JSON, not a page: nothing for axe to read. (The reports' CSV/XLSX/PDF exports
# share their page's endpoint; their rules end in /export.<fmt> and are left out by _is_page.)
NOT_PAGES = {
    "households.qr_image": "the QR code as PNG or SVG",
    "households.search": "JSON for the duplicate hints on the register form",
    "households.register_stalls": "JSON for the register form's list of a zone's free stalls",
    "imports.template": "the XLSX template",
    "placards.batch_progress": "JSON for the progress bar",
    "imports.job_progress": "JSON for the progress bar of a long import",
    "placards.batch_pdf": "the batch's PDF",
    "admin_users.import_template": "the XLSX template of a user list",
    "offline.service_worker": "the service worker's JavaScript",
    "offline.state": "JSON for the tablet's outbox",
    "offline.markets": "JSON for the tablet's outbox",
}

# Rules of pages still being built that answer 500 today; the lead empties this list as they land.
PAGES_UNDER_CONSTRUCTION: set[str] = set()

# The same pages with a search, a filter or a zone chosen (they show more: counts, chips, search boxes).
WITH_QUERIES = (
    "/?q=ch",
    "/markets/{market_id}?q=dao&status=qr_issued",
    "/reports/markets/{market_id}/missing?zone=Nhà chợ chính",
)


def _url_args(live, world) -> dict[str, object]:  # noqa: ANN001
    """A value for every URL argument a page takes: the world's market, its first household and a printed batch."""
    with live.session() as s:
        market = s.get(Market, world.market_id)
        commune = s.get(Commune, market.commune_id)
        make_market(s, name="Chợ Đông Nhiều Sạp", commune_code="CAMPHA", stalls=101)  # a market with a pager
        job = bs.start_batch(
            s,
            get_market(s, SYSTEM, market.id),
            bs.build_request(layout="a4-4up", selection="all"),
            batch_dir=live.app.config["BATCH_DIR"],
        )
        stall_id = s.exec(select(Stall.id).where(Stall.market_id == market.id).order_by(Stall.id)).first()
        officer = s.exec(select(User).where(User.username == world.officer)).one()
        token = password_links.create_password_link(s, world.officer).token
        long_list = import_jobs.start(  # a long list waiting for the queue: its page shows the progress bar
            s, viewer_for(s, officer), market_id=market.id, data=IMPORT_CSV.encode(), filename="dai.csv", inline_rows=0
        )
        args = {
            "market_id": market.id,
            "household_id": world.household_id,
            "code": "A-001",
            "batch_id": job.batch_id,
            "commune_id": commune.id,
            "province_id": commune.province_id,
            "stall_id": stall_id,
            "user_id": officer.id,
            "token": token,
            "job_id": long_list.job_id,
        }
    bs.run_batch(live.app.extensions["choqr.engine"], job)
    return args


def _is_page(rule: Rule) -> bool:
    return (
        "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and "/export." not in rule.rule
        and not rule.rule.startswith(("/static/", "/api/"))
        and rule.rule not in PAGES_UNDER_CONSTRUCTION
    )


def _pages(app: Flask, args: dict[str, object]) -> tuple[list[str], list[str]]:
    """The paths of the app's pages filled in from ``args``, and the rules ``args`` has no value for."""
    paths, unfilled = [], []
    for rule in filter(_is_page, app.url_map.iter_rules()):
        if missing := sorted(rule.arguments - args.keys()):
            unfilled.append(f"{rule.rule} (needs {', '.join(missing)})")
        else:
            paths.append(re.sub(r"<(?:[^>]*:)?(\w+)>", lambda m: str(args[m[1]]), rule.rule))
    return sorted(paths) + [q.format(**args) for q in WITH_QUERIES], unfilled


def _username(live, world, role: str) -> str:  # noqa: ANN001
    if role == "admin":
        return world.admin
    if role == "commune_officer":
        return world.officer
    with live.session() as s:
        return make_user(s, role, markets=[s.get(Market, world.market_id)]).username


def test_the_url_map_holds_no_page_this_file_cannot_open(live, world):
    _, unfilled = _pages(live.app, _url_args(live, world))
    assert not unfilled, (
        "New pages that test_accessibility.py cannot open: give their URL arguments a value in "
        "_url_args (or, if they send a file or JSON, add them to NOT_PAGES): " + "; ".join(unfilled)
    )


# Every page as every role (what a role sees differs) at the portrait size; the administrator, who can open them
# all, sees each page also turned to landscape (what differs with the width is the layout, not the role) and
# narrowed to what 400% zoom leaves, on the same load. A page a role may not open is asked for without rendering
# it (the browser's own request, same cookies): the 403 page itself is checked below, once.
ZOOMED_400 = {"width": 320, "height": 256}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_can_open_meets_wcag_22_aa(open_page, live, world, role):
    paths, _ = _pages(live.app, _url_args(live, world))
    page = open_page(TABLETS["768x1024"])
    sign_in(page, _username(live, world, role))
    found, opened = [], 0
    for path in paths:
        if role != "admin" and page.request.get(path, max_redirects=0).status == 403:
            continue
        response = page.goto(path)
        if response.status == 403:  # not this role's page
            continue
        kind = response.headers.get("content-type", "").split(";")[0]
        if (response.status, kind) != (200, "text/html"):
            found.append(
                f"{path} as {role}: {response.status} {kind} (a route that sends a file belongs in NOT_PAGES;"
                " a half-built page that fails, in PAGES_UNDER_CONSTRUCTION)"
            )
            continue
        opened += 1
        if role != "admin":
            found.append(accessibility_report(page, f"{path} as {role}"))
            continue
        for size in turned(page):
            found.append(accessibility_report(page, f"{path} as {role} at {size}"))
            if size == "1280x800":  # WCAG 1.4.10: this screen at 400% zoom is 320 CSS px wide
                found.append(_reflow_report(page, path))
    assert not any(found), "\n".join(filter(None, found))
    assert opened >= {"admin": 40}.get(role, 10), f"only {opened} pages opened as {role}"


def _reflow_report(page, path: str) -> str:  # noqa: ANN001
    """WCAG 1.4.10 on the page as it is: 1280 px at 400% zoom is 320 CSS px, where nothing but a wide table may
    scroll sideways. The tab is narrowed and widened again, which costs a layout, not another page load."""
    page.set_viewport_size(ZOOMED_400)
    try:
        assert_fits_width(page)
    except AssertionError as exc:
        return f"{path} at 400% zoom: {exc}"
    finally:
        page.set_viewport_size(TABLETS["1280x800"])
    return ""


def test_sign_in_and_error_pages_meet_wcag_22_aa(open_page, live, world):
    page = open_page(TABLETS["768x1024"])
    page.goto("/login")
    assert_accessible_turned(page, "sign-in")
    page.fill("#username", world.officer)
    page.fill("#password", "not-the-password")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator(".flash.error").count() == 1
    assert_accessible_turned(page, "sign-in with a wrong password", "a11y-login-error")
    page.goto("/no-such-page")
    assert_accessible_turned(page, "404 signed out")
    sign_in(page, _username(live, world, "market_manager"))
    assert page.goto(f"/markets/{world.market_id}/register").status == 403
    assert_accessible_turned(page, "403", "a11y-403")
    assert page.goto("/households/9999").status == 404
    assert_accessible_turned(page, "404 of a household")
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng xuất").click()
    assert_accessible_turned(page, "sign-in after signing out")


def _submit(page, button: str) -> None:  # noqa: ANN001
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def test_forms_with_errors_meet_wcag_22_aa(open_page, world):
    page = open_page(TABLETS["768x1024"])
    sign_in(page, world.officer)
    m, h = world.market_id, world.household_id
    page.goto(f"/markets/{m}/register")
    page.fill("#phone", "0212 345 678")
    page.fill("#account_number", "12-34 ?")
    _submit(page, "Lưu và cấp mã QR")
    assert page.locator(".field.has-error").count() >= 2
    assert_accessible_turned(page, "register with errors")
    page.goto(f"/households/{h}/edit")
    page.fill("#owner_name", "")
    _submit(page, "Lưu")
    assert_accessible_turned(page, "edit with errors")
    page.goto(f"/households/{h}/account")
    page.fill("#account_number", "12")
    _submit(page, "Đổi tài khoản và cấp mã QR mới")
    assert_accessible_turned(page, "account change with errors")
    page.goto(f"/markets/{m}/import")
    _submit(page, "Kiểm tra và nhập")
    assert_accessible_turned(page, "import without a file")
    page.goto(f"/markets/{m}/placards")
    page.check("input[value=picked]")
    _submit(page, "Tạo PDF và ghi nhận lô in")
    assert_accessible_turned(page, "print batch with errors")
    page.goto(f"/markets/{m}/verify?stall=Z-999")
    assert_accessible_turned(page, "verify an unknown stall", "a11y-verify-unknown")


IMPORT_CSV = """Họ và tên,Số sạp,Số điện thoại,Ngân hàng,Số tài khoản
Phạm Văn Toàn,B-001,0398765432,970422,0398765432
,B-002,0398765433,970422,0398765433
Nguyễn Thị Đào,A-001,0912000001,970436,0011001932418
"""


def test_results_of_imports_prints_and_checks_meet_wcag_22_aa(open_page, world):
    page = open_page(TABLETS["768x1024"])
    sign_in(page, world.officer)
    m = world.market_id
    page.goto(f"/markets/{m}/import")
    page.set_input_files(
        "#file", files=[{"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": IMPORT_CSV.encode()}]
    )
    _submit(page, "Kiểm tra và nhập")
    assert page.locator("h1").inner_text().startswith("Kết quả nhập")
    assert_accessible_turned(page, "import result", "a11y-import-result")
    page.goto(f"/markets/{m}/placards")
    _submit(page, "Tạo PDF và ghi nhận lô in")
    assert_accessible_turned(page, "batch status while printing")
    page.goto(f"/households/{world.household_id}")
    ours, foreign = page.text_content("#payload"), build_payload(bin="970422", account="0301011234")
    for stall, payload in [("A-001", ours), ("A-002", ours), ("A-003", foreign)]:  # match, other stall, foreign
        page.goto(f"/markets/{m}/stalls/{stall}/verify")
        page.fill("#payload", payload)
        _submit(page, "Kiểm tra")
        assert page.locator("#verdict").count() == 1
        assert_accessible_turned(page, f"verdict at {stall}", f"a11y-verdict-{stall}")
    page.goto(f"/markets/{m}/verify")
    assert_accessible_turned(page, "recent checks")


def test_pages_in_english_meet_wcag_22_aa(open_page, world):
    page = open_page(TABLETS["768x1024"])
    sign_in(page, world.admin)
    _submit(page, "English")
    assert page.get_attribute("html", "lang") == "en"
    m = world.market_id
    for path in [
        "/",
        f"/markets/{m}",
        f"/households/{world.household_id}",
        f"/markets/{m}/register",
        f"/reports/markets/{m}",
        f"/markets/{m}/placards",
    ]:
        page.goto(path)
        assert_accessible_turned(page, f"{path} in English", "a11y-en-placards" if "placards" in path else None)
