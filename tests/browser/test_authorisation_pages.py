"""End-to-end in Chromium: a citizen grants and signs a mandate, an officer verifies its code,
the citizen revokes it and sees every check in 谁用了我的数据."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, log_in

AGENT_ID = "370212193805117155"
ARTIFACTS = REPO_ROOT / "test-artifacts"


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.mark.browser
def test_grant_sign_verify_and_revoke_a_mandate(
    page: Page, browser: Browser, server_url: str
) -> None:
    log_in(page, server_url, "citizen", DEMO_PASSWORD)
    page.get_by_role("link", name="我的授权").first.click()
    expect(page.locator("h1")).to_have_text("我的授权")
    page.get_by_role("link", name="新建委托授权").click()

    form = page.locator("#authorisation-form")
    form.get_by_label("证件号码").fill(AGENT_ID)
    form.get_by_label("名称").fill("李代办")
    form.get_by_label("失业保险金申领").check()
    form.get_by_role("button", name="保存，去签署").click()
    expect(page).to_have_url(re.compile(r"/me/authorisations/WT\d{4}-"))
    expect(page.locator("h1 [data-status]")).to_have_text("待签署")

    page.locator("#sign-form").get_by_label("输入登录密码以确认签署").fill(DEMO_PASSWORD)
    page.locator("#sign-form").get_by_role("button", name="签署").click()
    expect(page.locator("h1 [data-status]")).to_have_text("生效中")
    expect(page.locator("#signature")).to_contain_text("SM2 ✓")
    code = page.locator("#code").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mandate-signed.png"), full_page=True)

    officer = new_page(browser)
    log_in(officer, server_url, "officer", DEMO_PASSWORD)
    officer.locator("header.topbar").get_by_role("link", name="核验").click()
    officer.locator("#verify-form").get_by_label("授权码").fill(code)
    officer.locator("#verify-form").get_by_role("button", name="核验").click()
    expect(officer.locator("#verdict")).to_have_attribute("data-valid", "true")
    expect(officer.locator("main")).to_contain_text("失业保险金申领")
    officer.context.close()

    page.locator("#revoke-form").get_by_label("撤销原因（可选）").fill("已自行办理")
    page.locator("#revoke-form").get_by_role("button", name="撤销授权").click()
    expect(page.locator("#confirm-summary")).to_contain_text("撤销后不能恢复")
    page.get_by_role("button", name="确认撤销").click()
    expect(page.locator("h1 [data-status]")).to_have_text("已撤销")
    expect(page.locator("#events tr[data-action='mandate.verified']")).to_have_count(1)

    page.goto(f"{server_url}/me/data-uses")
    expect(page.locator("#uses")).to_contain_text("工作人员核验授权码")
    expect(page.locator("#uses")).to_contain_text("撤销委托授权")


@pytest.mark.browser
def test_the_demo_enterprise_grants_through_its_legal_representative(
    page: Page, server_url: str
) -> None:
    log_in(page, server_url, "enterprise", DEMO_PASSWORD)
    page.goto(f"{server_url}/me/authorisations/new?kind=mandate")
    form = page.locator("#authorisation-form")
    form.get_by_label("授权人身份").select_option("enterprise")
    form.get_by_label("证件号码").fill(AGENT_ID)
    form.get_by_label("名称").fill("李代办")
    form.get_by_label("企业变更登记").check()
    form.get_by_role("button", name="保存，去签署").click()
    expect(page.locator("h1 [data-status]")).to_have_text("待签署")
    page.locator("#sign-form").get_by_label("输入登录密码以确认签署").fill(DEMO_PASSWORD)
    page.locator("#sign-form").get_by_role("button", name="签署").click()
    expect(page.locator("h1 [data-status]")).to_have_text("生效中")
    expect(page.locator("main dl")).to_contain_text("单位")
