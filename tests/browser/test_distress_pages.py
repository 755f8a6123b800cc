"""End-to-end in Chromium: the HR bureau's officer opens the list of struggling enterprises the
demo's run found (reasons and figures, the chart), opens one enterprise (its signals, the source
rows, the measures), and starts a measure's campaign from the measure's list, asked first; the
campaign opens with its candidates limited to the struggling. Each page passes axe-core and
the layout checks at desktop and phone width (``test_layout.check_page``)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import _context, check_page

CHART_DRAWN = (
    "() => typeof echarts === 'object' && "
    "!!echarts.getInstanceByDom(document.getElementById('reasons-chart'))"
)


@pytest.mark.browser
def test_the_officer_opens_the_list_an_enterprise_and_starts_a_measure(
    browser: Browser, server_url: str
) -> None:
    page = _context(browser).new_page()
    log_in(page, server_url, "officer", DEMO_PASSWORD)
    page.goto(f"{server_url}/hrss/campaigns")
    page.get_by_role("link", name="困难企业").first.click()
    expect(page).to_have_url(re.compile(r"/hrss/distress$"))
    expect(page.locator("#run")).to_be_visible()  # the demo ran the score for today
    found = int(page.locator("#found").inner_text())
    assert found > 0
    page.wait_for_function(CHART_DRAWN)
    rows = page.locator("#findings tbody tr[data-code]")
    expect(rows).to_have_count(min(found, 50))
    expect(rows.first.locator("[data-reason]").first).to_be_visible()
    problems = check_page(page, "officer-distress-list")

    # One enterprise: its signals with the figures, the rows behind them, the measures.
    code = rows.first.get_attribute("data-code")
    rows.first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/hrss/distress/enterprises/{code}"))
    expect(page.locator("#enterprise")).to_have_attribute("data-struggling", "yes")
    expect(page.locator("#evidence details").first).to_be_visible()
    expect(page.locator("#measures tr[data-measure]")).to_have_count(5)
    problems += check_page(page, "officer-distress-enterprise")

    # A measure's list, and starting it: asked first, then its policy's campaign.
    page.locator("#measures tr[data-measure='contribution-relief'] a").first.click()
    expect(page.locator("#measure")).to_have_attribute("data-measure", "contribution-relief")
    waiting = int(page.locator("#waiting").inner_text())
    assert waiting > 0
    problems += check_page(page, "officer-distress-measure")
    page.locator("#start-form button[type=submit]").click()
    expect(page.locator("#confirm-summary")).to_contain_text(f"{waiting} 家困难企业")
    page.locator("#confirm-yes").click()
    expect(page).to_have_url(re.compile(r"/hrss/campaigns/ZC-"))
    expect(page.locator("h1")).to_contain_text("缓缴")
    # The campaign took only struggling enterprises the measure suits (those the policy finds).
    assert int(page.locator("#candidates h2 .tag").inner_text()) <= waiting
    page.goto(f"{server_url}/hrss/distress/measures/contribution-relief")
    expect(page.locator("#waiting")).to_have_text("0")
    assert not problems, "\n".join(problems)
