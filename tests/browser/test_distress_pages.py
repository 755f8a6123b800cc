"""End-to-end in Chromium: the HR bureau's officer opens the list of struggling enterprises the
demo's run found (reasons and figures, the chart), opens one enterprise (its signals, the source
rows, the measures), and starts a measure's campaign from the measure's list, asked first; the
campaign opens with its candidates limited to the struggling. Each page passes axe-core at
desktop and phone width."""

from __future__ import annotations

import contextlib
import json
import re
from importlib.resources import files
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import TABLES_MARKED

AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
CHART_DRAWN = (
    "() => typeof echarts === 'object' && "
    "!!echarts.getInstanceByDom(document.getElementById('reasons-chart'))"
)


def _page(browser: Browser) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(AXE_SCRIPT)
    return context.new_page()


def _problems(page: Page) -> list[str]:
    out: list[str] = []
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(250)
        with contextlib.suppress(PlaywrightTimeout):  # as test_layout.check_page waits
            page.wait_for_function(TABLES_MARKED, timeout=3_000)
        result: dict[str, Any] = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']})"
        )
        out += [
            f"{page.url} at {width}: axe {v['id']}: "
            + json.dumps([n["target"] for n in v["nodes"][:3]], ensure_ascii=False)
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if wide > width + 1:
            out.append(f"{page.url} at {width}: scrolls sideways ({wide} px)")
    page.set_viewport_size({"width": 1280, "height": 900})
    return out


@pytest.mark.browser
def test_the_officer_opens_the_list_an_enterprise_and_starts_a_measure(
    browser: Browser, server_url: str
) -> None:
    page = _page(browser)
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
    problems = _problems(page)

    # One enterprise: its signals with the figures, the rows behind them, the measures.
    code = rows.first.get_attribute("data-code")
    rows.first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/hrss/distress/enterprises/{code}"))
    expect(page.locator("#enterprise")).to_have_attribute("data-struggling", "yes")
    expect(page.locator("#evidence details").first).to_be_visible()
    expect(page.locator("#measures tr[data-measure]")).to_have_count(5)
    problems += _problems(page)

    # A measure's list, and starting it: asked first, then its policy's campaign.
    page.locator("#measures tr[data-measure='contribution-relief'] a").first.click()
    expect(page.locator("#measure")).to_have_attribute("data-measure", "contribution-relief")
    waiting = int(page.locator("#waiting").inner_text())
    assert waiting > 0
    problems += _problems(page)
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
