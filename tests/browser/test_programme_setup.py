"""A real programme sets itself up: from an empty database to its first placard, in the web app.

After the two commands of the README's "Start your own programme" (init-db loads the official units; users add
makes the first administrator with a set-password link), everything happens in the browser: programme settings,
a market in an official commune with 20 stalls in two zones, a commune officer and the link to hand over, the
officer's first sign-in, two registrations (one at a stall that was not listed), a placard downloaded and its QR
decoded, the market report at 2/2, and the audit page listing every step.
"""

import re

import pypdfium2
import pytest
from conftest import PORTRAIT, shot
from PIL import Image

from qr import decode_image, parse_payload

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "Quang-Ninh-2026!"
OFFICER_PASSWORD = "Cho-Van-Don-365"


def _set_password_path(text: str) -> str:
    """The path of the one set-password link in a command's output or a page's text."""
    return re.search(r"/set-password/[A-Za-z0-9_\-]+", text).group(0)


def _choose_password(page, path: str, password: str) -> None:  # noqa: ANN001
    page.goto(path)
    page.fill("#password", password)
    page.fill("#confirm", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def _pdf_qr_payloads(data: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(data)
    found = []
    for i in range(len(pdf)):
        bitmap = pdf[i].render(scale=150 / 72).to_pil()
        found += decode_image(bitmap.convert("L") if isinstance(bitmap, Image.Image) else bitmap)
    return found


def test_a_programme_goes_from_an_empty_database_to_its_first_placard_in_the_web_app(live, open_page):
    runner = live.app.test_cli_runner()
    loaded = runner.invoke(args=["init-db"])
    assert loaded.exit_code == 0 and "3321" in loaded.output
    created = runner.invoke(
        args=[
            "users",
            "add",
            "quantri",
            "--name",
            "Quản trị Quảng Ninh",
            "--role",
            "admin",
            "--link",
            "--base-url",
            live.url,
        ]
    )
    assert created.exit_code == 0, created.output

    page = open_page(PORTRAIT)
    _choose_password(page, _set_password_path(created.output), ADMIN_PASSWORD)
    page.goto("/")
    assert page.url.endswith("/admin")  # a new programme's admin gets the checklist, not an empty list
    assert "Các bước bắt đầu" in page.content()
    shot(page, "setup-01-checklist-768x1024")

    page.goto("/admin/settings")
    page.fill("#name", "Chợ 4.0 Quảng Ninh")
    page.fill("#target_percent", "95")
    shot(page, "setup-02-settings-768x1024")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu cài đặt").click()

    page.goto("/admin/areas?q=van+don")
    assert "Đặc khu Vân Đồn" in page.content() and "06994" in page.content()
    shot(page, "setup-03-areas-768x1024")

    page.goto("/admin/markets/new")
    page.fill("#code", "CHOVANDON")
    page.fill("#name", "Chợ Vân Đồn Mới")
    with page.expect_navigation():
        page.select_option("#province", "22")  # the script shows that province's communes at once
    assert page.input_value("#code") == "CHOVANDON"  # what was typed survives the re-render
    page.select_option("#commune_code", "06994")
    shot(page, "setup-04-market-768x1024")
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo chợ").click()
    market_id = int(re.search(r"/admin/markets/(\d+)/stalls", page.url).group(1))

    for codes, zone in (("A-001..A-010", "Khu A"), ("B-001..B-010", "Khu B")):
        page.fill("#codes", codes)
        page.fill("#zone", zone)
        with page.expect_navigation():
            page.get_by_role("button", name="Thêm sạp").click()
        assert "Đã thêm 10 sạp" in page.content()
    shot(page, "setup-05-stalls-768x1024")

    page.goto("/admin/users/new")
    page.fill("#username", "canbo.vandon")
    page.fill("#full_name", "Phạm Thu Trang")
    page.select_option("#role", "commune_officer")
    page.fill("#communes", "06994")
    shot(page, "setup-06-user-768x1024")
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo người dùng và liên kết đặt mật khẩu").click()
    assert page.locator(".handover img").count() == 1  # the link as a QR to scan from a phone, and as text
    officer_link = _set_password_path(page.locator(".handover .link-text").inner_text())
    shot(page, "setup-07-handover-768x1024")
    page.goto("/admin")
    assert page.locator(".checklist li.done").count() == 5
    shot(page, "setup-08-checklist-done-768x1024")
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng xuất").click()

    _choose_password(page, officer_link, OFFICER_PASSWORD)
    page.goto(f"/markets/{market_id}/register")
    page.fill("#owner_name", "Nguyễn Thị Đào")
    page.fill("#phone", "0912345678")
    page.fill("#citizen_id", "022185001234")
    page.select_option("#stall_ids", page.locator("#stall_ids option", has_text="A-001").get_attribute("value"))
    page.select_option("#bin", "970436")
    page.fill("#account_number", "0011001932418")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và cấp mã QR").click()
    first_household = page.url
    assert re.search(r"/households/\d+$", first_household), page.content()[:800]

    page.goto(f"/markets/{market_id}/register")
    page.fill("#owner_name", "Lê Văn Hùng")
    page.fill("#new_stall_code", "c-001")
    page.fill("#new_stall_zone", "Khu C")
    page.select_option("#bin", "971005")  # Viettel Money
    page.fill("#account_number", "0987654321")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và cấp mã QR").click()
    assert re.search(r"/households/\d+$", page.url), page.content()[:800]
    assert "C-001" in page.content()

    page.goto(first_household)
    with page.expect_download() as download:
        page.locator("form[data-download] button[type=submit]").click()
    pdf = open(download.value.path(), "rb").read()
    payloads = _pdf_qr_payloads(pdf)
    assert len(payloads) == 1
    parsed = parse_payload(payloads[0])
    assert (parsed.bin, parsed.account) == ("970436", "0011001932418")

    page.goto(f"/reports/markets/{market_id}")
    assert "2/2" in page.inner_text("main")
    shot(page, "setup-09-report-768x1024")

    with page.expect_navigation():
        page.get_by_role("button", name="Đăng xuất").click()
    page.goto("/login")
    page.fill("#username", "quantri")
    page.fill("#password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    page.goto("/admin/audit")
    audit = page.inner_text("main")
    for action in (
        "user.password_set",
        "settings.update",
        "market.create",
        "stall.create",
        "user.create",
        "user.password_link",
        "household.create",
        "qr.issue",
        "placards.print",
    ):
        assert action in audit, action
    shot(page, "setup-10-audit-768x1024")
