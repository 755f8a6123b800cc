"""The service hall (网上办事大厅) in Chromium, as the demo citizen uses it: search an item, read
its guide, apply, find the form filled with each value's source, upload someone else's identity
card and see it flagged, upload their own and see it pass, submit, and follow the case in 我的办件;
a visitor browses the hall and the guide. Every page passes axe-core and the layout checks at
desktop (1280 px) and phone (375 px) width.

The officer's side and the licence's way back into the next application are the end-to-end
test's (``test_approval_flow``); this file stays on the applicant's pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import _context, check_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ITEM = "QD-GA-0004"  # 居民身份证换领: a person's item; the old card is the one material


def _upload(page: Page, server_url: str, material: str, sample: str) -> None:
    """Downloads a sample document from its link, as a person would, and uploads it."""
    link = page.locator(f"#material-{material} a[data-sample='{sample}']")
    href = link.get_attribute("href")
    assert href is not None
    picture = page.request.get(server_url + href)
    assert picture.ok and picture.headers["content-type"] == "image/png"
    page.locator(f"#file-{material}").set_input_files(
        {"name": f"{sample}.png", "mimeType": "image/png", "buffer": picture.body()}
    )
    page.locator(f"#material-{material} button[data-upload='{material}']").click()
    expect(page).to_have_url(re.compile(rf"#material-{material}$"))


@pytest.mark.browser
def test_a_visitor_browses_the_hall_and_a_guide(browser: Browser, server_url: str) -> None:
    context = _context(browser)
    page = context.new_page()
    page.goto(f"{server_url}/approval")
    expect(page.locator("div[data-domain]")).to_have_count(10)
    expect(page.locator("li[data-scenario]")).to_have_count(16)
    problems = check_page(page, "visitor-approval-hall")
    page.locator("li[data-scenario='open-restaurant'] a").click()
    expect(page.locator("#item-list li[data-item='QD-SP-0003']")).to_be_visible()
    page.locator("#item-list li[data-item='QD-SP-0003'] h3 a").click()
    expect(page.locator("h1")).to_have_text("食品经营许可")
    expect(page.locator("#process-diagram svg")).to_be_visible()
    expect(page.locator("#apply-login a")).to_have_text("登录后在线申请")
    problems += check_page(page, "visitor-approval-item")
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_citizen_applies_with_a_prefilled_form_and_a_prechecked_card(
    browser: Browser, server_url: str
) -> None:
    context = _context(browser)
    page = context.new_page()
    log_in(page, server_url, "citizen", DEMO_PASSWORD)
    problems: list[str] = []

    # Search in pinyin initials, as people type on a phone.
    page.goto(f"{server_url}/approval")
    page.get_by_label("搜索事项").fill("sfzhl")
    page.get_by_role("button", name="搜索").click()
    found = page.locator(f"#item-list li[data-item='{ITEM}']")
    expect(found).to_be_visible()
    problems += check_page(page, "citizen-approval-search")
    found.locator("h3 a").click()
    expect(page.locator("h1")).to_have_text("居民身份证换领")
    problems += check_page(page, "citizen-approval-item")
    page.locator("#apply-button").click()

    # The form: identity fields filled from the register, each saying so in words.
    expect(page).to_have_url(re.compile(r"/approval/cases/SP\d+/form$"))
    code = page.locator("#case-code").inner_text()
    name = page.locator("#field-applicant_name")
    expect(name).to_have_attribute("data-fill", "identity")
    expect(name.locator("input")).not_to_have_value("")
    expect(name.locator(".source-text")).to_contain_text("常住人口基础信息")
    expect(name.locator(".src")).to_have_text("身份自动填")
    expect(page.locator("#fill-summary")).to_contain_text("已为您自动填写")
    page.locator("#f-reason").select_option("有效期满")
    page.locator("#f-delivery").select_option("窗口领取")
    if page.locator("#f-phone").input_value() == "":
        page.locator("#f-phone").fill("13805320000")
    problems += check_page(page, "citizen-approval-form")

    # Someone else's card: flagged before submitting, each issue with its reason.
    _upload(page, server_url, "old-card", "other")
    card = page.locator("#material-old-card")
    expect(card).to_have_attribute("data-precheck", "issues")
    expect(card.locator(".issues li").first).to_be_visible()
    # What was chosen before the upload went with it.
    expect(page.locator("#f-reason")).to_have_value("有效期满")
    problems += check_page(page, "citizen-approval-form-flagged")

    # Their own card, made out from the register: it passes.
    _upload(page, server_url, "old-card", "own")
    expect(card).to_have_attribute("data-precheck", "ok")
    page.locator("#submit-button").click()

    # The case: submitted, its current step named and drawn, and in 我的办件.
    expect(page).to_have_url(f"{server_url}/approval/cases/{code}?done=submitted")
    expect(page.locator("#case")).to_have_attribute("data-state", "submitted")
    expect(page.locator("#current-step")).to_contain_text("受理")
    expect(page.locator("#process-diagram svg")).to_be_visible()
    problems += check_page(page, "citizen-approval-case")
    page.locator("#nav-my-cases").click()
    expect(page.locator(f"#case-table tr[data-case='{code}']")).to_have_attribute(
        "data-state", "submitted"
    )
    problems += check_page(page, "citizen-approval-cases")
    context.close()
    assert not problems, "\n".join(problems)
