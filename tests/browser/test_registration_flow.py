"""What field staff do on a tablet, end to end in Chromium: sign in, register, prefill from a QR photo,
see duplicates while typing, change an account, switch language."""

import io
import re
import time

import pytest
from conftest import LANDSCAPE, PORTRAIT, assert_accessible, assert_fits_width, shot, sign_in
from flask import request
from sqlmodel import select

from merchants.models import AuditLog, BankAccount, Household, Stall
from merchants.scope import SYSTEM
from merchants.services import stalls as stall_service
from qr import build_payload, png_bytes

pytestmark = pytest.mark.browser


def test_an_officer_signs_in_registers_a_household_and_sees_it_listed(open_page, live, world):
    page = open_page(PORTRAIT)
    sign_in(page, world.officer)
    assert page.url.endswith(f"/markets/{world.market_id}")  # one market: straight to it
    assert_fits_width(page)
    page.get_by_role("link", name="+ Đăng ký hộ").click()
    page.fill("#owner_name", "Phạm Văn Toàn")
    page.fill("#phone", "0398 765 432")
    page.fill("#citizen_id", "022090123456")
    page.fill("#goods", "Gà vịt")
    page.select_option("#stall_ids", label="A-004 – Nhà chợ chính")
    page.select_option("#bin", "970422")
    page.fill("#account_number", "0398765432")
    assert page.get_attribute("#holder_name", "placeholder") == "PHAM VAN TOAN"  # live preview, bank style
    assert_fits_width(page)
    shot(page, "flow-register-filled-768")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và cấp mã QR").click()

    assert "Đã đăng ký hộ Phạm Văn Toàn." in page.inner_text(".flash")
    assert page.inner_text("h1") == "Phạm Văn Toàn"
    qr_width = page.eval_on_selector(".qr img", "img => img.complete && img.naturalWidth")
    assert qr_width and qr_width > 100
    shot(page, "flow-household-768")
    page.get_by_role("link", name=re.compile("Chợ Cái Rồng")).click()
    row = page.locator("table.stalls tr", has_text="A-004")
    assert "Phạm Văn Toàn" in row.inner_text() and "MBBank" in row.inner_text()
    assert "Đã cấp QR" in row.inner_text()
    with live.session() as s:
        assert s.exec(select(Household.phone).where(Household.owner_name == "Phạm Văn Toàn")).one() == "+84398765432"


def test_a_photo_of_the_households_bank_qr_fills_in_bank_and_account(open_page, live, world):
    page = open_page(LANDSCAPE)
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register?stall=A-005")
    page.fill("#owner_name", "Đỗ Thị Hạnh")
    with page.expect_navigation():  # choosing the photo reads it at once
        page.set_input_files(
            "#qr-photo",
            files=[
                {
                    "name": "qr-ngan-hang.png",
                    "mimeType": "image/png",
                    "buffer": png_bytes(build_payload(bin="970422", account="0301011234")),
                }
            ],
        )
    assert "Đã điền ngân hàng và số tài khoản từ mã QR" in page.inner_text(".flash")
    assert page.input_value("#bin") == "970422"
    assert page.input_value("#account_number") == "0301011234"
    assert page.input_value("#owner_name") == "Đỗ Thị Hạnh"  # typed before the photo, kept
    assert page.locator("#stall_ids option:checked").inner_text().startswith("A-005")
    shot(page, "flow-prefill-1280")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và cấp mã QR").click()
    assert page.inner_text("h1") == "Đỗ Thị Hạnh"
    with live.session() as s:
        acc = s.exec(select(BankAccount).where(BankAccount.account_number == "0301011234")).one()
        assert (acc.bin, acc.holder_name, acc.active) == ("970422", "DO THI HANH", True)


def _camera_photo(payload: str) -> bytes:
    """A 2400×1800 camera-like JPEG (grainy, over a megabyte) with the bank QR in the middle."""
    from PIL import Image

    photo = Image.effect_noise((2400, 1800), 40).convert("RGB")
    qr_img = Image.open(io.BytesIO(png_bytes(payload))).convert("RGB").resize((700, 700), Image.NEAREST)
    photo.paste(qr_img, (850, 550))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_a_big_camera_photo_is_shrunk_before_it_crosses_a_weak_link(open_page, live, world):
    uploads = []
    live.app.before_request(lambda: uploads.append(request.content_length) if request.files else None)
    page = open_page(PORTRAIT)
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register")
    photo = _camera_photo(build_payload(bin="970415", account="108001234567"))
    assert len(photo) > 1_000_000
    with page.expect_navigation():
        page.set_input_files("#qr-photo", files=[{"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    assert len(uploads) == 1 and uploads[0] < 450 * 1024, uploads
    assert page.input_value("#bin") == "970415" and page.input_value("#account_number") == "108001234567"


def test_the_duplicate_warning_appears_while_the_officer_types(open_page, live, world):
    page = open_page(PORTRAIT)
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register")
    assert page.locator("#dupes").is_hidden()
    page.locator("#owner_name").press_sequentially("nguyen thi dao", delay=20)
    warning = page.locator("#dupes")
    warning.wait_for(state="visible")
    link = warning.get_by_role("link", name="Nguyễn Thị Đào")
    assert link.get_attribute("href") == f"/households/{world.household_id}"
    assert "Chợ Cái Rồng" in warning.inner_text() and "0912 000 001" in warning.inner_text()
    shot(page, "flow-duplicate-warning-768")

    page.fill("#owner_name", "")
    page.locator("#account_number").press_sequentially("0011 0019 32418", delay=10)
    page.wait_for_function("document.querySelector('#dupes li a')?.textContent === 'Nguyễn Thị Đào'")
    assert_fits_width(page)


def test_an_account_change_needs_a_reason_and_shows_in_the_history(open_page, live, world):
    page = open_page(LANDSCAPE)
    sign_in(page, world.officer)
    page.goto(f"/households/{world.household_id}")
    page.get_by_role("link", name="Đổi tài khoản").click()
    page.select_option("#bin", "970422")
    page.fill("#account_number", "0912000001")
    with page.expect_navigation():
        page.get_by_role("button", name="Đổi tài khoản và cấp mã QR mới").click()
    assert "Trường này không được để trống." in page.inner_text(".field:has(#reason)")
    page.fill("#reason", "Chủ hộ chuyển sang nhận tiền qua MBBank")
    shot(page, "flow-account-change-1280")
    with page.expect_navigation():
        page.get_by_role("button", name="Đổi tài khoản và cấp mã QR mới").click()
    assert "Mã QR cũ đã bị thu hồi" in page.inner_text(".flash")
    assert page.locator(".status.warn", has_text="Cần in lại bảng QR").is_visible()
    page.get_by_role("link", name="Lịch sử").click()
    history = page.inner_text("main")
    assert "Chủ hộ chuyển sang nhận tiền qua MBBank" in history
    assert "Vietcombank •••• 2418 → MBBank •••• 0001" in history  # the log keeps account numbers masked
    assert_fits_width(page)
    shot(page, "flow-history-1280")
    with live.session() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "account.change")).one()


def test_an_officer_switches_to_english_and_back(open_page, live, world):
    page = open_page(PORTRAIT)
    sign_in(page, world.officer)
    page.goto(f"/households/{world.household_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.url.endswith(f"/households/{world.household_id}")  # stays on the same page
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.get_by_role("link", name="Change account").is_visible()
    shot(page, "flow-english-768")
    page.goto(f"/markets/{world.market_id}")
    assert "Households with a QR code" in page.inner_text("main")
    assert_fits_width(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Tiếng Việt").click()
    assert page.get_by_role("button", name="Đăng xuất").is_visible()


def test_tapping_save_twice_on_a_slow_link_registers_once(open_page, live, world, monkeypatch):
    from merchants.services import households as hs

    register = hs.register_household

    def slow_register(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - a slow uplink
        time.sleep(1.0)
        return register(*args, **kwargs)

    monkeypatch.setattr(hs, "register_household", slow_register)
    page = open_page(PORTRAIT)
    sign_in(page, world.officer)
    page.goto(f"{live.url}/markets/{world.market_id}/register")
    page.fill("#owner_name", "Lý Thị Thơm")
    page.select_option("#stall_ids", label="A-004 – Nhà chợ chính")
    button = page.locator("#register-form button[type=submit]")
    assert button.inner_text() == "Lưu và cấp mã QR"
    with page.expect_navigation():
        # two taps 100 ms apart while the first save is still on its way
        state = page.evaluate("""() => new Promise(done => {
            const b = document.querySelector('#register-form button[type=submit]');
            b.click();
            setTimeout(() => { const seen = [b.disabled, b.textContent]; b.click(); done(seen); }, 100);
        })""")
    assert state == [True, "Đang xử lý…"]
    assert page.inner_text("h1") == "Lý Thị Thơm"
    with live.session() as s:
        assert len(s.exec(select(Household).where(Household.owner_name == "Lý Thị Thơm")).all()) == 1


def _second_zone(live, world) -> None:  # noqa: ANN001
    """'Dãy Z' (listed first, by name) with 60 free stalls: more than one page of the stall list."""
    with live.session() as s:
        stall_service.add_stalls(s, SYSTEM, world.market_id, codes="Z-001..Z-060", zone="Dãy Z")


def _codes(page) -> list[str]:  # noqa: ANN001
    return [t.split()[0] for t in page.locator("#stall_ids option").all_inner_texts()]


def test_the_officer_picks_stalls_zone_by_zone_without_the_page_reloading(open_page, live, world):
    _second_zone(live, world)
    page = open_page(PORTRAIT)
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register")
    assert _codes(page) == [f"Z-{i:03d}" for i in range(1, 51)]  # one page of the first zone, not the market
    assert page.locator("[data-zone-show]").count() == 0  # with JavaScript the zone loads as it changes
    page.fill("#owner_name", "Phạm Văn Toàn")
    page.evaluate("() => { window.stillHere = true; }")
    page.select_option("#stall_ids", label="Z-002 – Dãy Z")
    page.select_option("#zone", "Nhà chợ chính")
    page.wait_for_function("() => document.querySelectorAll('#stall_ids option').length === 6")
    assert _codes(page) == ["Z-002", "A-004", "A-005", "A-006", "A-007", "A-008"]  # the chosen stall stays
    page.locator("#stall_ids option", has_text="A-004").evaluate("o => { o.selected = true; }")
    page.select_option("#zone", "Dãy Z")
    page.get_by_role("button", name="Xem thêm sạp trống").click()
    page.wait_for_function("() => document.querySelectorAll('#stall_ids option').length === 61")
    assert page.locator("#stall-more button").count() == 0  # the zone's last page
    assert page.evaluate("() => window.stillHere") is True and page.input_value("#owner_name") == "Phạm Văn Toàn"
    shot(page, "flow-register-zones-768")
    assert_accessible(page, "register form with a zone's stalls loaded")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu và cấp mã QR").click()
    assert page.inner_text("h1") == "Phạm Văn Toàn"
    with live.session() as s:
        hid = s.exec(select(Household.id).where(Household.owner_name == "Phạm Văn Toàn")).one()
        assert sorted(s.exec(select(Stall.code).where(Stall.household_id == hid))) == ["A-004", "Z-002"]


def test_with_no_signal_the_kept_form_lists_another_zone_from_the_tablets_copy(open_page, live, world):
    _second_zone(live, world)
    page = open_page(LANDSCAPE)
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register")
    page.wait_for_function(  # the service worker has kept the form and the free stalls
        "() => document.documentElement.dataset.offlineReady === '1' && navigator.serviceWorker.controller !== null"
    )
    page.context.set_offline(True)
    page.reload()  # the kept form
    page.wait_for_function("() => window.choqrOffline !== undefined")
    page.select_option("#zone", "Nhà chợ chính")
    page.wait_for_function("() => document.querySelector('#stall_ids option')?.textContent.startsWith('A-')")
    assert _codes(page) == ["A-004", "A-005", "A-006", "A-007", "A-008"]
    page.select_option("#zone", "Dãy Z")
    page.wait_for_function("() => document.querySelectorAll('#stall_ids option').length === 60")  # the whole zone
    page.fill("#owner_name", "Võ Thị Lan")
    page.select_option("#stall_ids", label="Z-055 – Dãy Z")
    page.get_by_role("button", name="Lưu và cấp mã QR").click()
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '1'")
    shot(page, "flow-register-offline-zone-1280")
    page.context.set_offline(False)
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '0'", timeout=20_000)
    with live.session() as s:
        hid = s.exec(select(Household.id).where(Household.owner_name == "Võ Thị Lan")).one()
        assert s.exec(select(Stall.code).where(Stall.household_id == hid)).all() == ["Z-055"]
