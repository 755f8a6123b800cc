"""End-to-end in Chromium: the demo citizen opens 我的社保 from the workbench, reads the record,
issues a 参保证明, downloads it with its seal file, and a visitor (who received it) checks it at
/seals/verify; the bureau's officer looks the citizen up at the counter with a purpose, which
the citizen then sees in 谁用了我的数据."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import demo_identity, log_in


def new_page(browser: Browser) -> Page:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(20_000)
    return context.new_page()


@pytest.mark.browser
def test_a_citizen_gets_a_certificate_that_a_visitor_verifies(
    browser: Browser, server_url: str, server_dir: Path, tmp_path: Path
) -> None:
    name, citizen_id, _ = demo_identity(server_dir, "citizen")
    assert citizen_id is not None
    citizen = new_page(browser)
    log_in(citizen, server_url, "citizen", DEMO_PASSWORD)
    citizen.get_by_role("link", name="我的社保").first.click()
    expect(citizen).to_have_url(re.compile(r"/hrss/record$"))
    expect(citizen.locator("h1")).to_have_text("我的社保")
    expect(citizen.locator("#summary tbody tr")).to_have_count(4)
    # The page masks the ID (as lists do); the name is the member's of the demo city.
    expect(citizen.locator("main section.panel p").first).to_contain_text(citizen_id[:6] + "****")

    citizen.locator("#issue-certificate button[type=submit]").click()
    expect(citizen).to_have_url(re.compile(r"/hrss/certificates/SBCBZM-\d{4}-\d{6}$"))
    number = citizen.locator("#number").inner_text()
    with citizen.expect_download() as got:
        citizen.locator("#envelope").click()
    envelope = tmp_path / f"{number}.pdf.seal.json"
    got.value.save_as(envelope)
    answer = citizen.request.get(server_url + (citizen.locator("#pdf").get_attribute("href") or ""))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    document = tmp_path / f"{number}.pdf"
    document.write_bytes(answer.body())

    # Whoever receives it checks it, logged in or not.
    visitor = new_page(browser)
    visitor.goto(f"{server_url}/seals/verify")
    visitor.locator("input[name=document]").set_input_files(str(document))
    visitor.locator("input[name=envelope]").set_input_files(str(envelope))
    visitor.locator("main form button[type=submit]").click()
    expect(visitor.locator("main")).to_contain_text("青岛市社会保险事业中心社会保险业务专用章")
    expect(visitor.locator("main")).to_contain_text("有效")

    # The bureau looks the citizen up at the counter, saying why.
    officer = new_page(browser)
    log_in(officer, server_url, "officer", DEMO_PASSWORD)
    officer.goto(f"{server_url}/hrss/counter")
    officer.locator("#lookup input[name=citizen_id]").fill("12345")
    officer.locator("#lookup input[name=purpose]").fill("本人来电咨询缴费年限")
    officer.locator("#lookup button[type=submit]").first.click()
    expect(officer.locator("#form-error")).to_contain_text("公民身份号码")
    officer.locator("#lookup input[name=citizen_id]").fill(citizen_id)
    officer.locator("#lookup button[type=submit]").first.click()
    expect(officer.locator("#person")).to_contain_text(name)
    expect(officer.locator("#summary tbody tr")).to_have_count(4)

    citizen.goto(f"{server_url}/me/data-uses")
    expect(citizen.locator("main")).to_contain_text("人社工作人员查询了我的社保记录")
    expect(citizen.locator("main")).to_contain_text("本人来电咨询缴费年限")
