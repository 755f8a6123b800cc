"""End-to-end in Chromium (the enterprise platform's "done when"): as a new user would, the demo
enterprise logs in, sees its file (一企一档) with its headcount chart, completes the digital-level
assessment with most answers pre-filled from what the platform knows, posts a need and sees the
ranked solutions, platforms and policies that match it, each with its reasons; then the
industry bureau's officer finds the need on the desk. Every page passes axe at desktop and phone
width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import _context, check_page


@pytest.mark.browser
def test_an_enterprise_sees_its_file_assesses_itself_and_posts_a_need(
    browser: Browser, server_url: str
) -> None:
    context = _context(browser)
    page = context.new_page()
    log_in(page, server_url, "enterprise", DEMO_PASSWORD)
    problems: list[str] = []

    page.goto(f"{server_url}/enterprise")
    expect(page.locator("h1")).not_to_be_empty()
    name = page.locator("h1").inner_text()  # the home itself is checked by test_layout's crawl
    page.get_by_role("link", name="查看一企一档").click()
    expect(page.locator("h1")).to_have_text(f"一企一档：{name}")
    expect(page.locator("#headcount-chart svg")).to_have_count(1)  # ECharts drew it
    assert int(page.locator("#staff").inner_text()) > 0
    problems += check_page(page, "enterprise-profile")

    # The assessment: most answers already there, each saying where from.
    page.goto(f"{server_url}/enterprise/assessment")
    summary = page.locator("#fill-summary")
    filled = int(summary.get_attribute("data-filled") or 0)
    total = int(summary.get_attribute("data-total") or 0)
    assert total and filled * 2 > total, f"pre-filled {filled} of {total}"
    expect(page.locator("fieldset.prefilled .source").first).to_contain_text("来自：")
    problems += check_page(page, "enterprise-assessment")
    for question in page.locator("fieldset.question[data-applicable='true']").all():
        if question.locator("input:checked").count() == 0:
            question.locator("input[type=radio]").first.check()
    page.locator("#submit-button").click()
    result = page.locator("#result")
    expect(result).to_be_visible()
    assert (result.get_attribute("data-level") or "") in {"0", "1", "2", "3", "4"}
    expect(page.locator("#radar-chart svg, #radar-chart canvas")).not_to_have_count(0)
    problems += check_page(page, "enterprise-assessment-result")

    # A need: the matches before posting, then posted and routed.
    page.goto(f"{server_url}/enterprise/needs")
    form = page.locator("#need-form")
    form.get_by_label("诉求类型").select_option("digital")
    form.get_by_label("诉求标题").fill("车间设备联网和质量追溯")
    form.get_by_label("具体情况").fill(
        "想把数控设备联网，做生产计划排产和质量追溯，减少停机和交期延误。"
    )
    form.get_by_role("button", name="先看看匹配结果").click()
    expect(page.locator("#matched-solutions > li")).not_to_have_count(0)
    page.locator("#need-form").get_by_role("button", name="提交诉求").click()
    expect(page).to_have_url(re.compile(r"/enterprise/needs/SQ-\d{8}-\d{6}\?posted=1$"))
    expect(page.locator("#posted")).to_contain_text("青岛市工业和信息化局")
    solutions = page.locator("#matched-solutions > li")
    expect(solutions).not_to_have_count(0)
    scores = [
        int(re.sub(r"\D", "", t)) for t in page.locator("#matched-solutions .tag").all_inner_texts()
    ]
    assert scores == sorted(scores, reverse=True)
    expect(solutions.first.locator(".reasons li")).not_to_have_count(0)
    expect(solutions.first).to_contain_text("相关")
    expect(page.locator("#matched-policies > li")).not_to_have_count(0)
    expect(
        page.locator("#matched-policies > li").first.locator(".reasons li").first
    ).to_contain_text(re.compile("符合条件|暂不符合|还需补充信息"))
    code = page.url.split("/")[-1].split("?")[0]
    problems += check_page(page, "enterprise-need")

    desk = _context(browser)
    officer = desk.new_page()
    log_in(officer, server_url, "industry", DEMO_PASSWORD)
    officer.goto(f"{server_url}/enterprise/desk")
    expect(officer.locator("#desk")).to_contain_text("车间设备联网和质量追溯")
    officer.get_by_role("link", name="车间设备联网和质量追溯").click()
    expect(officer).to_have_url(f"{server_url}/enterprise/needs/{code}")
    officer.locator("#take-form").get_by_role("button", name="开始办理").click()
    expect(officer.locator("#state")).to_have_text("办理中")  # the page checked above
    officer.goto(f"{server_url}/enterprise/console")
    expect(officer.locator("#console-needs")).to_be_visible()
    problems += check_page(officer, "industry-console")
    assert not problems, "\n".join(problems)
    context.close()
    desk.close()
