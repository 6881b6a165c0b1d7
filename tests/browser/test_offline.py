"""Registering with no signal, in Chromium: drafts kept encrypted on the tablet, sent once when the signal is back.

The connection is cut with ``context.set_offline(True)``; a lost answer is made by letting the server commit and
then aborting the response (``route.fetch()`` then ``route.abort()``).
"""

import json
import re

import pytest
from conftest import LANDSCAPE, PORTRAIT, assert_accessible, shot, sign_in
from factories import make_household, make_user
from sqlalchemy import func
from sqlmodel import select

from merchants.models import Household, IssuedQR, Market

pytestmark = pytest.mark.browser

API = "**/api/v1/registrations"
# Everything the tablet's IndexedDB holds, made printable: bytes become their length, a CryptoKey its flags.
DUMP_IDB = """() => new Promise((resolve) => {
  const req = indexedDB.open('choqr-offline');
  req.onupgradeneeded = () => req.transaction.abort();  // no database yet: create none (the app would see it)
  req.onerror = () => resolve({});
  req.onsuccess = () => {
    const db = req.result, out = {};
    const names = [...db.objectStoreNames];
    if (!names.length) { db.close(); resolve(out); return; }
    const tx = db.transaction(names);
    names.forEach((n) => { const r = tx.objectStore(n).getAll(); r.onsuccess = () => { out[n] = r.result; }; });
    tx.oncomplete = () => {
      db.close();
      resolve(JSON.parse(JSON.stringify(out, (k, v) =>
        v instanceof Uint8Array ? {bytes: v.length}
        : v instanceof CryptoKey ? {cryptoKey: true, extractable: v.extractable} : v)));
    };
  };
})"""


def _ready(page) -> None:  # noqa: ANN001
    """The outbox has its key and the service worker controls the page and has kept the register forms."""
    page.wait_for_function(
        "() => document.documentElement.dataset.offlineReady === '1' && navigator.serviceWorker.controller !== null"
    )


def _count(page) -> int:  # noqa: ANN001
    return int(page.evaluate("() => document.documentElement.dataset.outboxCount || '0'"))


def _fill(page, name: str, cccd: str, stall: str, phone: str) -> None:  # noqa: ANN001
    page.fill("#owner_name", name)
    page.fill("#phone", phone)
    page.fill("#citizen_id", cccd)
    page.fill("#goods", "Rau củ")
    page.select_option("#stall_ids", label=f"{stall} – Nhà chợ chính")
    page.select_option("#bin", "970436")
    page.fill("#account_number", "00110019" + phone[-5:])


def _save_offline(page, name: str, cccd: str, stall: str, phone: str) -> None:  # noqa: ANN001
    before = _count(page)
    _fill(page, name, cccd, stall, phone)
    page.get_by_role("button", name="Lưu và cấp mã QR").click()
    page.wait_for_function(f"() => Number(document.documentElement.dataset.outboxCount) === {before + 1}")
    assert page.locator("#offline-saved").inner_text() == "Đã lưu trên máy tính bảng, chưa gửi"
    assert page.input_value("#owner_name") == ""  # ready for the next household


def _stored(live, name: str) -> list[tuple[int, str | None]]:  # noqa: ANN001
    """Each household of that name and the payload of its active QR."""
    with live.session() as s:
        rows = s.exec(
            select(Household.id, IssuedQR.payload)
            .join(IssuedQR, IssuedQR.household_id == Household.id, isouter=True)
            .where(Household.owner_name == name)
        ).all()
        return [(r[0], r[1]) for r in rows]


def _open_register(page, world) -> None:  # noqa: ANN001
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register")
    _ready(page)


def test_three_households_registered_offline_survive_a_reload_and_are_each_stored_once_with_their_qr(
    open_page, live, world
):
    page = open_page(PORTRAIT)
    _open_register(page, world)
    page.context.set_offline(True)
    people = [
        ("Phạm Văn Toàn", "022090123456", "A-004", "0398765432"),
        ("Võ Thị Lan", "022190123457", "A-005", "0398765433"),
        ("Đặng Văn Bình", "022090123458", "A-006", "0398765434"),
    ]
    for person in people:
        _save_offline(page, *person)
    assert "3 hồ sơ đăng ký chưa gửi" in page.inner_text("#outbox")
    # a stall already given to a draft is not offered again
    assert page.locator("#stall_ids option", has_text="A-004").is_disabled()
    shot(page, "offline-unsent-768")
    assert_accessible(page, "register form with unsent drafts")

    raw = json.dumps(page.evaluate(DUMP_IDB), ensure_ascii=False)
    assert all(p[0] not in raw and p[1] not in raw for p in people), "drafts must be ciphertext at rest"

    page.reload()  # still no connection: the kept form, and the drafts
    assert page.inner_text("h1") == "Đăng ký hộ kinh doanh"
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '3'")
    for name, *_ in people:
        assert name in page.inner_text("#outbox-list")
    assert all(_stored(live, p[0]) == [] for p in people)

    page.context.set_offline(False)  # the 'online' event sends them
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '0'", timeout=20_000)
    page.wait_for_selector("#outbox-list li.sent >> nth=2")
    for name, *_ in people:
        (row,) = _stored(live, name)
        assert row[1] and row[1].startswith("000201")
        assert page.get_attribute(f"#outbox-list li.sent a:text-is('{name}')", "href") == f"/households/{row[0]}"
    with page.expect_navigation():
        page.click(f"#outbox-list a:text-is('{people[0][0]}')")
    assert page.inner_text("h1") == people[0][0]
    assert page.eval_on_selector(".qr img", "img => img.complete && img.naturalWidth") > 100


def test_a_sync_whose_answer_is_lost_after_the_server_committed_is_retried_without_a_duplicate(open_page, live, world):
    page = open_page(PORTRAIT)
    _open_register(page, world)
    page.context.set_offline(True)
    _save_offline(page, "Hồ Văn Mạnh", "022090123459", "A-004", "0398765435")
    answers: list[int] = []

    def cut_off(route) -> None:  # noqa: ANN001
        if not answers:
            answers.append(route.fetch().status)  # the server registers the household and answers...
            route.abort("connectionreset")  # ...but the tablet never hears it
        else:
            route.continue_()

    page.route(API, cut_off)
    page.context.set_offline(False)
    page.wait_for_function("() => document.getElementById('outbox-status').textContent.includes('Chưa gửi được')")
    assert answers == [201]
    assert _count(page) == 1 and len(_stored(live, "Hồ Văn Mạnh")) == 1
    page.get_by_role("button", name="Gửi lại").click()
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '0'")
    assert len(_stored(live, "Hồ Văn Mạnh")) == 1
    assert "Hồ Văn Mạnh" in page.inner_text("#outbox-list li.sent")


def test_a_draft_the_server_could_not_take_is_sent_by_the_minute_timer_without_a_tap(open_page, live, world):
    """The signal comes back but the server answers 503 (a restart): nobody taps "Gửi lại"; within the next
    minute the tablet tries again by itself. The page's clock is Playwright's, so the minute passes at once."""
    page = open_page(PORTRAIT)
    page.clock.install()
    _open_register(page, world)
    page.context.set_offline(True)
    _save_offline(page, "Tạ Văn Phúc", "022090123463", "A-004", "0398765438")
    tries: list[str] = []

    def restarting(route) -> None:  # noqa: ANN001
        tries.append("503" if not tries else "sent")
        if tries[-1] == "503":
            route.fulfill(status=503, content_type="application/json", body='{"error": {"code": "unavailable"}}')
        else:
            route.continue_()

    page.route(API, restarting)
    page.context.set_offline(False)
    page.wait_for_function("() => document.getElementById('outbox-status').textContent.includes('Chưa gửi được')")
    assert tries == ["503"] and _count(page) == 1 and _stored(live, "Tạ Văn Phúc") == []
    page.clock.run_for(30_000)  # half a minute: not yet
    assert tries == ["503"]
    page.clock.run_for(31_000)
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '0'")
    assert tries == ["503", "sent"] and len(_stored(live, "Tạ Văn Phúc")) == 1


def test_a_draft_refused_for_an_old_csrf_token_is_sent_again_once_with_a_fresh_one(open_page, live, world):
    """The form's CSRF token went stale while the tablet was offline (the server's secret was rotated): the
    first answer is 400 'csrf'; the tablet fetches a fresh token and sends the same draft once more."""
    page = open_page(PORTRAIT)
    _open_register(page, world)
    page.context.set_offline(True)
    _save_offline(page, "Kha Thị Yến", "022190123464", "A-004", "0398765439")
    tokens: list[str] = []

    def stale_once(route) -> None:  # noqa: ANN001
        tokens.append(route.request.headers.get("x-csrftoken", ""))
        if len(tokens) == 1:
            body = '{"error": {"code": "csrf", "message": "CSRF", "fields": {}}}'
            route.fulfill(status=400, content_type="application/json", body=body)
        else:
            route.continue_()

    page.route(API, stale_once)
    page.context.set_offline(False)
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '0'")
    assert len(tokens) == 2 and all(tokens)
    assert len(_stored(live, "Kha Thị Yến")) == 1


def test_a_draft_whose_cccd_was_taken_meanwhile_comes_back_with_its_error_and_is_fixed_and_sent(open_page, live, world):
    page = open_page(PORTRAIT)
    _open_register(page, world)
    page.context.set_offline(True)
    _save_offline(page, "Lý Thị Hoa", "022190123460", "A-004", "0398765436")
    with live.session() as s:  # another officer registers that CCCD while this tablet has no signal
        market = s.get(Market, world.other_market_id)
        make_household(s, market, owner_name="Lý Thị Hoa Khác", citizen_id="022190123460")
    page.context.set_offline(False)
    refused = page.locator("#outbox-list li.refused")
    refused.wait_for()
    assert "1 hồ sơ cần sửa" in page.inner_text("#outbox")
    assert "CCCD" in refused.locator(".error").inner_text()  # the server's own message, under its field
    shot(page, "offline-sync-error-768")
    assert_accessible(page, "outbox with a refused draft")

    refused.get_by_role("link", name="Sửa và gửi lại").click()
    page.wait_for_function("() => document.getElementById('citizen_id').value === '022190123460'")
    assert page.get_attribute("#citizen_id", "aria-invalid") == "true"
    assert page.locator("#citizen_id-error").inner_text()
    assert page.input_value("#owner_name") == "Lý Thị Hoa"
    shot(page, "offline-draft-fix-768")
    page.fill("#citizen_id", "022190123461")
    page.get_by_role("button", name="Lưu và cấp mã QR").click()
    page.wait_for_function("() => document.documentElement.dataset.outboxCount === '0'")
    page.wait_for_selector("#outbox-list li.sent")
    (row,) = _stored(live, "Lý Thị Hoa")
    assert row[1]
    with live.session() as s:
        assert s.get(Household, row[0]).citizen_id == "022190123461"
        assert s.exec(select(func.count()).where(Household.citizen_id == "022190123460")).one() == 1


def test_sign_out_leaves_no_readable_draft_and_another_user_sees_nothing(open_page, live, world):
    with live.session() as s:
        make_user(s, "commune_officer", communes=["VANDON"], username="canbo.khac")
    page = open_page(PORTRAIT)
    _open_register(page, world)
    page.context.set_offline(True)
    _save_offline(page, "Mai Văn Tư", "022090123462", "A-004", "0398765437")
    page.route(API, lambda route: route.abort())  # the signal is back for pages, not for sending: it stays unsent
    page.context.set_offline(False)
    before = page.evaluate(DUMP_IDB)
    assert before["keys"] == [
        {
            "user_id": before["keys"][0]["user_id"],
            "key_id": before["keys"][0]["key_id"],
            "key": {"cryptoKey": True, "extractable": False},
        }
    ]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    with page.expect_navigation(url=re.compile("/login")):
        page.get_by_role("button", name="Đăng xuất").click()
    assert dialogs and "Còn 1 hồ sơ chưa gửi" in dialogs[0]
    after = page.evaluate(DUMP_IDB)
    assert not after.get("keys")
    assert "Mai Văn Tư" not in json.dumps(after, ensure_ascii=False)
    assert page.evaluate("() => caches.keys()") == [] or not any(
        n.startswith("choqr-pages-") for n in page.evaluate("() => caches.keys()")
    )
    sign_in(page, "canbo.khac")
    page.goto(f"/markets/{world.market_id}/register")
    _ready(page)
    assert _count(page) == 0 and page.locator("#outbox").is_hidden()
    assert _stored(live, "Mai Văn Tư") == []


def test_a_session_that_ended_without_sign_out_leaves_its_drafts_hidden_from_the_next_user(open_page, live, world):
    with live.session() as s:
        make_user(s, "commune_officer", communes=["VANDON"], username="canbo.khac")
    page = open_page(PORTRAIT)
    _open_register(page, world)
    page.context.set_offline(True)
    _save_offline(page, "Mai Văn Năm", "022090123463", "A-004", "0398765438")
    page.context.set_offline(False)
    page.route(API, lambda route: route.abort())
    page.context.clear_cookies()  # the session is gone (idle, or the tablet was handed over) with no sign-out
    sign_in(page, "canbo.khac")
    page.goto(f"/markets/{world.market_id}/register")
    _ready(page)
    assert _count(page) == 0 and page.locator("#outbox").is_hidden()
    assert "Mai Văn Năm" not in page.content()


def test_the_offline_page_stands_in_for_a_page_not_kept(open_page, world):
    page = open_page(PORTRAIT)
    _open_register(page, world)
    page.context.set_offline(True)
    page.goto(f"/households/{world.household_id}")  # holds personal data: never kept
    assert page.inner_text("h1") == "Không có mạng"
    assert page.get_by_role("link", name=re.compile("Đăng ký hộ · Chợ Cái Rồng")).is_visible()
    assert_accessible(page, "offline fallback page")


def test_a_draft_older_than_three_days_is_pointed_out(open_page, world):
    page = open_page(LANDSCAPE)
    _open_register(page, world)
    page.context.set_offline(True)
    _save_offline(page, "Trương Văn Sáu", "022090123464", "A-004", "0398765439")
    page.evaluate("""() => new Promise((resolve) => {
      const req = indexedDB.open('choqr-offline');
      req.onsuccess = () => {
        const tx = req.result.transaction('drafts', 'readwrite'), store = tx.objectStore('drafts');
        store.getAll().onsuccess = (e) => e.target.result.forEach((r) => {
          r.created_at -= 4 * 24 * 3600 * 1000; store.put(r);
        });
        tx.oncomplete = () => { req.result.close(); resolve(); };
      };
    })""")
    page.reload()
    warning = page.locator("#outbox-list li.warning")
    warning.wait_for()
    assert warning.inner_text() == "Có hồ sơ đã lưu hơn 3 ngày. Hãy gửi sớm khi có mạng."
    shot(page, "offline-old-draft-1280")


def test_a_browser_without_service_workers_says_offline_needs_a_supported_browser(open_page, world):
    page = open_page(PORTRAIT)
    page.context.add_init_script("delete Navigator.prototype.serviceWorker")
    sign_in(page, world.officer)
    page.goto(f"/markets/{world.market_id}/register")
    line = page.locator("#offline-unsupported")
    line.wait_for()
    assert line.inner_text().startswith("Đăng ký khi không có mạng cần trình duyệt được hỗ trợ")
    assert page.locator("[data-offline-save]").is_hidden()
