"""Labour-capacity assessment done remotely, in Chromium with its fake camera and microphone:
the demo worker's application (accepted, its panel drawn, its examination arranged by the
demo) — the examining expert opens the call, the worker joins from the assessment's page and
the media flow peer to peer, recorded for the panel; the expert ends the call (the recording
saved) and writes the findings; the panel signs its opinions; the office concludes after
confirming; the worker reads the grade and the benefits, and the sealed conclusion is served."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import _context, check_page

PLAYING = "(id) => { const v = document.getElementById(id); return v && v.videoWidth > 0; }"


def new_page(browser: Browser, username: str, server_url: str) -> Page:
    context = _context(browser)  # axe-core in every page it opens
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page, server_url, username, DEMO_PASSWORD)
    return page


@pytest.mark.browser
def test_the_panel_examines_over_video_and_the_office_concludes(
    browser: Browser, server_url: str
) -> None:
    office = new_page(browser, "officer", server_url)
    office.goto(f"{server_url}/hrss/assessments")
    row = office.locator("#worklist tr[data-state='scheduled']").first
    code = row.get_attribute("data-case")
    assert code
    page_url = f"{server_url}/hrss/assessments/{code}"
    office.goto(page_url)
    panel = office.locator("#panel-members li").evaluate_all(
        "(items) => items.map((li) => li.getAttribute('data-expert'))"
    )
    assert len(panel) == 3
    lead = panel[0]

    expert = new_page(browser, lead, server_url)
    expert.goto(page_url)
    expert.locator("#exam-start").click()
    expect(expert).to_have_url(re.compile(r"/hrss/help/SLB-\d{8}-\d{4,}$"))

    person = new_page(browser, "worker", server_url)
    person.goto(page_url)
    expect(person.locator("#summary")).to_have_attribute("data-side", "worker")
    person.locator("#exam-join").click()
    expert.wait_for_function(PLAYING, arg="help-remote")
    person.wait_for_function(PLAYING, arg="help-remote")
    expect(person.locator("#help-panel")).to_have_attribute("data-state", "connected")

    # The call is recorded for the panel; ending it saves the recording, then the call page
    # returns to the assessment.
    expect(expert.locator("#help-agent")).to_have_attribute("data-recording", "true")
    expert.wait_for_timeout(1500)  # a second or two of video
    expert.locator("#help-end button[type=submit]").click()
    expect(expert).to_have_url(page_url)
    expect(person.locator("#help-panel")).to_have_attribute("data-state", "ended")
    recorded = expert.request.get(f"{server_url}/api/v1/hrss/assessments/{code}/recording")
    assert recorded.ok and recorded.body().startswith(b"\x1a\x45\xdf\xa3")  # WebM
    expect(expert.locator("#exam-recording")).to_be_visible()
    expert.locator("#findings-form textarea[name=findings]").fill(
        "右手食指末节缺失，掌指关节屈伸功能部分受限。"
    )
    expert.locator("#findings-form button[type=submit]").click()
    expect(expert.locator("#stage")).to_have_text("专家出具意见")

    for username in panel:
        member = expert if username == lead else new_page(browser, username, server_url)
        member.goto(page_url)
        member.locator("#opinion-form select[name=grade]").select_option("7")
        member.locator("#opinion-form textarea[name=basis]").fill("GB/T 16180-2014 5.7.2")
        member.locator("#opinion-form button[type=submit]").click()
        expect(member.locator(f"#opinions tr[data-expert='{username}']")).to_contain_text(
            "七级伤残"
        )
    problems = check_page(expert, "expert-assessment")

    office.goto(page_url)
    expect(office.locator("#majority")).to_contain_text("七级伤残")
    problems += check_page(office, "officer-assessment")
    office.locator("#conclude summary").click()
    office.locator("#conclude input[type=checkbox]").check()
    office.get_by_role("button", name="确认作出结论").click()
    expect(office.locator("#conclusion")).to_have_attribute("data-grade", "7")

    person.goto(page_url)
    expect(person.locator("#conclusion")).to_contain_text("七级伤残")
    # The worker has a wage on record: the one-time subsidy, 13 months of it (第三十七条).
    expect(person.locator("#benefits")).to_contain_text("13 个月本人工资")
    expect(person.locator("#records")).to_have_count(0)  # the worker does not see the file
    problems += check_page(person, "worker-assessment")
    assert not problems, problems
    pdf = person.request.get(f"{server_url}/api/v1/hrss/assessments/{code}/conclusion.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
