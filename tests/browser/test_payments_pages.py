"""Payments pages in the browser: the sources admin page (add, key shown once, rotate) and the report with
"active", at both tablet sizes, checked by axe-core against WCAG 2.2 AA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import TABLETS, assert_accessible_turned, sign_in

from merchants.models import BankAccount
from merchants.payments_parse import Credit
from merchants.services import payment_ingest, payment_sources
from merchants.services.user_scope import AreaGrant

pytestmark = pytest.mark.browser


def _credit_first_household(live, world) -> None:  # noqa: ANN001
    with live.session() as s:
        from sqlmodel import select

        source, _ = payment_sources.add_source(
            s, name="Sao kê Vân Đồn", kind="statement", scope=AreaGrant.of(communes=["VANDON"])
        )
        number = s.exec(select(BankAccount.account_number).where(BankAccount.household_id == world.household_id)).one()
        when = datetime.now(UTC) - timedelta(days=2)
        payment_ingest.store_credits(s, source, [Credit("FT1", number, 150_000, when, "FT1", "in")])


def test_sources_page_and_report_are_accessible_and_fit(open_page, live, world):
    _credit_first_household(live, world)
    page = open_page(TABLETS["768x1024"])
    sign_in(page, world.admin)
    page.goto("/admin/payments")
    page.fill("#name", "SePay Cái Rồng")
    page.select_option("#kind", "sepay")
    page.fill("#communes", "VANDON")
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo nguồn").click()
    key = page.locator("#source-key").inner_text()
    assert key.startswith("choqr_sepay_")
    assert_accessible_turned(page, "payments-sources-key", "payments-sources", fits=True)
    page.goto("/admin/payments")
    assert key not in page.content()
    page.goto(f"/reports/markets/{world.market_id}")
    assert "1/2 hộ đang dùng (50%)" in page.content()
    assert_accessible_turned(page, "payments-report", "payments-report", fits=True)
    page.goto(f"/reports/markets/{world.market_id}/to-visit")
    assert "Lê Văn Hùng" in page.content()
    assert_accessible_turned(page, "payments-to-visit", "payments-to-visit")
    page.goto(f"/households/{world.household_id}")
    assert "150.000 đ" in page.content()
    assert_accessible_turned(page, "payments-household", "payments-household")
