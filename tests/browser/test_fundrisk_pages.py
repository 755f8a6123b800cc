"""End-to-end in Chromium: the fund supervisor runs the detectors over the demo city, opens an
alert from the queue, reads the rows it rests on, checks and confirms it, and records the
recovery; every page passes axe and the layout checks at desktop and phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import _context, check_page

BOARD_DRAWN = (
    "() => typeof echarts === 'object' && "
    "!!echarts.getInstanceByDom(document.getElementById('board-chart'))"
)


def _step(page: Page, action: str) -> None:
    """Takes one lifecycle step from the alert page: the form, then the question it asks."""
    page.locator(f"form[data-action='{action}'] button[type=submit]").click()
    expect(page.locator("#confirm-summary")).to_be_visible()
    page.locator("#confirm-yes").click()


@pytest.mark.browser
def test_queue_alert_confirm_and_recover(browser: Browser, server_url: str) -> None:
    page = _context(browser).new_page()
    log_in(page, server_url, "auditor", DEMO_PASSWORD)
    page.goto(f"{server_url}/hrss/fundrisk")
    page.locator("#detect-form input[name=date]").fill("2026-10-31")
    page.locator("#detect-form button[type=submit]").click()
    expect(page.locator("#opened")).to_be_visible()
    page.wait_for_function(BOARD_DRAWN)
    problems = check_page(page, "auditor-fundrisk-queue")

    # Filter to the pensions paid after death and open the first.
    page.locator("#filter-form select[name=rule]").select_option("risk-pension-after-death")
    page.locator("#filter-form button[type=submit]").click()
    row = page.locator("#alert-table tbody tr[data-rule='risk-pension-after-death']").first
    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/hrss/fundrisk/alerts/FX-"))
    expect(page.locator("#state")).to_have_attribute("data-state", "new")
    expect(page.locator("#inputs tr[data-input='paid_after_death']")).to_contain_text(
        "pension_payments"
    )
    problems += check_page(page, "auditor-fundrisk-alert")

    _step(page, "check")
    expect(page.locator("#state")).to_have_attribute("data-state", "checking")
    _step(page, "confirm")
    expect(page.locator("#state")).to_have_attribute("data-state", "confirmed")

    # More than is owed is refused next to the field; the whole amount closes the alert.
    owed = page.locator("#amount").inner_text().replace(",", "")
    page.locator("form[data-action='recover'] input[name=amount]").fill("99999999")
    page.locator("form[data-action='recover'] button[type=submit]").click()
    expect(page.locator("#form-error")).to_be_visible()
    expect(page.locator("#state")).to_have_attribute("data-state", "confirmed")
    page.locator("form[data-action='recover'] input[name=amount]").fill(owed)
    _step(page, "recover")
    expect(page.locator("#state")).to_have_attribute("data-state", "recovered")
    expect(page.locator("#left")).to_have_text("0.00")
    # opened, checking, confirmed, recovered (the whole amount at once)
    expect(page.locator("#history-table tbody tr")).to_have_count(4)
    problems += check_page(page, "auditor-fundrisk-recovered")
    assert problems == [], "\n".join(problems)
