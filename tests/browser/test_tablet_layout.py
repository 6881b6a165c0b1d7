"""Every main page at both tablet sizes (each load turned from portrait to landscape): nothing wider than the
screen, controls big enough for a finger."""

import pytest
from conftest import TABLETS, assert_fits_width, shot, sign_in, small_touch_targets, turned

pytestmark = pytest.mark.browser


def _pages(world) -> list[tuple[str, str]]:  # noqa: ANN001
    h = world.household_id
    return [
        ("market", f"/markets/{world.market_id}"),
        ("market-search", f"/markets/{world.market_id}?q=dao"),
        ("register", f"/markets/{world.market_id}/register"),
        ("household", f"/households/{h}"),
        ("edit", f"/households/{h}/edit"),
        ("account", f"/households/{h}/account"),
        ("history", f"/households/{h}/history"),
        ("not-found", "/households/9999"),
    ]


def test_main_pages_fit_the_tablet_and_have_finger_sized_controls(open_page, world):
    page = open_page(TABLETS["768x1024"])
    page.goto("/login")
    for size in turned(page):
        assert_fits_width(page)
        assert small_touch_targets(page) == [], size
        shot(page, f"layout-login-{size}")
    sign_in(page, world.admin)  # two markets: the list of markets first
    pages = [("markets", "/"), *_pages(world)]
    problems = {}
    for name, path in pages:
        page.goto(path)
        for size in turned(page):
            assert_fits_width(page)
            if small := small_touch_targets(page):
                problems[f"{name} at {size}"] = small
            shot(page, f"layout-{name}-{size}")
    assert problems == {}


def test_forms_with_errors_still_fit(open_page, world):
    page = open_page(TABLETS["768x1024"])
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register")
    page.fill("#phone", "0212 345 678")
    page.fill("#citizen_id", "999185001234")
    page.fill("#account_number", "12-34 ?")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và cấp mã QR").click()
    assert page.locator(".field.has-error").count() >= 4
    for size in turned(page):
        assert_fits_width(page)
        shot(page, f"layout-register-errors-{size}")


def test_print_verify_import_and_report_pages_fit_the_tablet(open_page, world):
    page = open_page(TABLETS["768x1024"])
    sign_in(page, world.admin)
    m = world.market_id
    problems = {}
    for name, path in [
        ("reports-country", "/reports/country"),
        ("reports-market", f"/reports/markets/{m}"),
        ("reports-missing", f"/reports/markets/{m}/missing"),
        ("batch", f"/markets/{m}/placards"),
        ("verify", f"/markets/{m}/verify"),
        ("verify-stall", f"/markets/{m}/stalls/A-001/verify"),
        ("import", f"/markets/{m}/import"),
    ]:
        page.goto(path)
        assert page.locator("h1").count() == 1, name
        for size in turned(page):
            assert_fits_width(page)
            if small := small_touch_targets(page):
                problems[f"{name} at {size}"] = small
            shot(page, f"layout-{name}-{size}")
    assert problems == {}
