"""End-to-end in Chromium: 民政局 runs the elderly allowance over the demo city, reads why a
candidate qualifies, confirms and offers; the resident (an account the administrator creates)
sees the offer with its explanation in 为我推荐的政策 and accepts; the funnel counts it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, log_in

ARTIFACTS = REPO_ROOT / "test-artifacts"
FUNNEL_DRAWN = (
    "() => typeof echarts === 'object' && "
    "!!echarts.getInstanceByDom(document.getElementById('funnel-chart'))"
)


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.mark.browser
def test_a_campaign_runs_in_the_pages_and_the_resident_sees_why(
    browser: Browser, server_url: str
) -> None:
    civil = new_page(browser)
    log_in(civil, server_url, "civil", DEMO_PASSWORD)
    civil.goto(f"{server_url}/hrss")
    expect(civil).to_have_url(re.compile(r"/hrss/campaigns$"))
    civil.locator("#run-form select[name=rule]").select_option("elderly-allowance")
    civil.locator("#run-form button[type=submit]").click()
    expect(civil).to_have_url(re.compile(r"/hrss/campaigns/ZC-"))
    expect(civil.locator("h1")).to_contain_text("高龄津贴")
    eligible = int(civil.locator("#count-eligible").inner_text())
    assert eligible > 0
    expect(civil.locator("#funnel-table tr[data-stage='found'] .num")).to_have_text(str(eligible))
    civil.wait_for_function(FUNNEL_DRAWN)

    # Why the first candidate qualifies, in plain Chinese, with the data and the parameters.
    first = civil.locator("#candidate-table tbody tr[data-status='pending']").first
    civil_id = first.get_attribute("data-id")
    first.get_by_role("link", name="依据").click()
    expect(
        civil.locator("#explanation [data-condition='old_enough'] [data-value]")
    ).to_have_attribute("data-value", "true")
    expect(civil.locator("#inputs tr[data-input='birth_date']")).to_contain_text("residents")
    expect(civil.locator("#parameters tr[data-param='min_age']")).to_contain_text("80")
    subject = civil.locator("h1").inner_text().split("·")[-1].strip()
    assert re.fullmatch(r"\d{17}[\dX]", subject)
    civil.go_back()

    # Confirm that one and offer it.
    civil.locator(f"#candidate-table input[name=ids][value='{civil_id}']").check()
    civil.get_by_role("button", name="确认所选并推送").click()
    expect(civil.locator("#confirm-summary")).to_contain_text("将向 1 位居民")
    civil.locator("#confirm-yes").click()
    expect(civil.locator(f"#candidate-table tr[data-id='{civil_id}']")).to_have_attribute(
        "data-status", "offered"
    )
    expect(civil.locator("#funnel-table tr[data-stage='confirmed'] .num")).to_have_text("1")
    ARTIFACTS.mkdir(exist_ok=True)
    civil.screenshot(path=str(ARTIFACTS / "hrss-campaign.png"), full_page=True)

    # The administrator opens an account for the resident.
    admin = new_page(browser)
    log_in(admin, server_url, "admin", DEMO_PASSWORD)
    admin.goto(f"{server_url}/admin/users")
    admin.fill("input[name=username]", "elder")
    admin.fill("input[name=display_name]", "高龄老人")
    admin.fill("input[name=password]", DEMO_PASSWORD)
    admin.fill("input[name=citizen_id]", subject)
    admin.check("input[name=roles][value=citizen]")
    admin.locator("form:has(input[name=username]) button[type=submit]").click()
    expect(admin).to_have_url(re.compile(r"created=elder"))
    admin.context.close()

    # Binding the resident's ID to the account takes a second person: the identity reviewer.
    reviewer = new_page(browser)
    log_in(reviewer, server_url, "registrar", DEMO_PASSWORD)
    reviewer.goto(f"{server_url}/admin/bindings")
    row = reviewer.locator("#bindings tr[data-status='pending']").filter(has_text="高龄老人")
    row.get_by_role("button", name="批准…").click()
    reviewer.get_by_role("button", name="确认批准").click()
    expect(reviewer.locator("#done")).to_contain_text("已批准")
    reviewer.context.close()

    # The resident sees the offer with why they qualify, and accepts.
    elder = new_page(browser)
    log_in(elder, server_url, "elder", DEMO_PASSWORD)
    elder.goto(f"{server_url}/hrss")
    expect(elder).to_have_url(re.compile(r"/hrss/offers$"))
    offer = elder.locator(f"#offer-{civil_id}")
    expect(offer.locator("h2")).to_contain_text("高龄津贴")
    expect(offer.locator("[data-condition='old_enough']")).to_contain_text("年满起领年龄")
    expect(offer.locator("[data-condition='old_enough'] [data-value]")).to_have_attribute(
        "data-value", "true"
    )
    expect(offer.locator(".amount")).to_have_text(re.compile(r"^\d[\d,]*\.\d\d$"))
    elder.screenshot(path=str(ARTIFACTS / "hrss-offers.png"), full_page=True)
    offer.get_by_role("button", name="确认领取").click()
    expect(elder.locator(f"#offer-{civil_id}")).to_have_attribute("data-status", "granted")
    expect(elder.locator("#grants")).to_contain_text("elderly-allowance")
    elder.context.close()

    civil.reload()
    expect(civil.locator("#funnel-table tr[data-stage='granted'] .num")).to_have_text("1")
    civil.context.close()
