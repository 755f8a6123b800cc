"""The forged-consent path of issue 17 in Chromium, on the served demo: the admin creates an
account with a citizen ID and a password of their choosing, cannot approve the binding themself,
the identity reviewer approves it from their workbench (asked first), and the account, logged in
with the admin's password, is refused when it signs: the page says to set one's own password."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PERSON = "11010519491231002X"  # nobody's in the demo city
AGENT_ID = "370212193805117155"
ADMIN_CHOSEN = "Admin-knows-1"


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


def test_an_admin_made_account_is_bound_by_a_second_person_and_cannot_sign(
    browser: Browser, server_url: str
) -> None:
    admin = new_page(browser)
    log_in(admin, server_url, "admin", DEMO_PASSWORD)
    admin.goto(f"{server_url}/admin/users")
    form = admin.locator("#new-user")
    form.get_by_label("用户名").fill("forged.one")
    form.get_by_label("名称", exact=True).fill("冒用测试")
    form.get_by_label("初始密码").fill(ADMIN_CHOSEN)
    form.get_by_label("身份证号（可选）").fill(PERSON)
    form.get_by_label("市民").check()
    form.get_by_role("button", name="创建").click()
    expect(admin.locator("main")).to_contain_text("尚未绑定")
    # The admin's own request offers them no approval.
    admin.goto(f"{server_url}/admin/bindings")
    row = admin.locator("#bindings tr[data-status='pending']").filter(has_text="冒用测试")
    expect(row).to_contain_text("您提出的申请，须由他人审批")
    expect(row.get_by_role("button", name="批准…")).to_have_count(0)

    reviewer = new_page(browser)
    log_in(reviewer, server_url, "registrar", DEMO_PASSWORD)
    card = reviewer.locator("li[data-todo='identity.bindings']")
    expect(card.locator(".todo-count")).not_to_have_attribute("data-count", "0")
    card.get_by_role("link").click()
    row = reviewer.locator("#bindings tr[data-status='pending']").filter(has_text="冒用测试")
    row.get_by_role("button", name="批准…").click()
    expect(reviewer.locator("#confirm-summary")).to_contain_text("冒用测试")
    reviewer.get_by_role("button", name="确认批准").click()
    expect(reviewer.locator("#done")).to_contain_text("已批准")

    forger = new_page(browser)
    log_in(forger, server_url, "forged.one", ADMIN_CHOSEN)
    forger.goto(f"{server_url}/me/authorisations/new")
    form = forger.locator("#authorisation-form")
    form.get_by_label("证件号码").fill(AGENT_ID)
    form.get_by_label("名称").fill("李代办")
    form.get_by_label("失业保险金申领").check()
    form.get_by_role("button", name="保存，去签署").click()
    expect(forger).to_have_url(re.compile(r"/me/authorisations/WT\d{4}-"))
    expect(forger.locator("#own-password-first")).to_contain_text("自行设置密码")
    forger.locator("#sign-form").get_by_label("输入登录密码以确认签署").fill(ADMIN_CHOSEN)
    forger.locator("#sign-form").get_by_role("button", name="签署").click()
    expect(forger.locator("#notice")).to_contain_text("请先自行设置密码")
    expect(forger.locator("h1 [data-status]")).to_have_text("待签署")
    for page in (admin, reviewer, forger):
        page.context.close()
