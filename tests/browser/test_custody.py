"""End-to-end in Chromium: the demo enterprise hosts a CSV of its own data from its page (a
file with a bad row first: refused, the row and column named, nothing published), the demo bank
applies for it on its console, the enterprise and then the data bureau approve, the bank issues
a key and its system calls the data, the enterprise sees the call on its statement, withdraws the
data (asked first), and the bank's next call is refused."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.channel.common import month_of
from shuhui.core.clock import utcnow
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import _context, check_page

SLUG = "orders_browser"
TITLE = "订单月度汇总（浏览器）"
PURPOSE = "贷前调查中核实借款企业托管的订单流水"
COLUMNS = (
    ("month", "所属月份", "date"),
    ("region", "区域代码", "string"),
    ("orders", "订单数", "int64"),
    ("amount", "金额（元）", "float64"),
    ("contact", "联系人", "string"),
)


def orders_csv(bad_row: int | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c[0] for c in COLUMNS])
    for i in range(12):
        amount = "12.5元" if i == bad_row else f"{1000 + i * 12.5:.2f}"
        writer.writerow(
            [f"2026-{1 + i:02d}-01", ("370202", "370203")[i % 2], 10 + i, amount, f"联系人{i}"]
        )
    return out.getvalue().encode("utf-8")


def person(browser: Browser, server_url: str, username: str) -> Page:
    context = _context(browser)  # axe-core in every page it opens
    page = context.new_page()
    log_in(page, server_url, username, DEMO_PASSWORD)
    return page


def fill_host_form(page: Page, data: bytes) -> None:
    form = page.locator("#host-form")
    form.locator("input[name=file]").set_input_files(
        files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": data}]
    )
    form.get_by_label("数据名称").fill(TITLE)
    form.locator("input[name=slug]").fill(SLUG)
    form.locator("textarea[name=description]").fill(
        "本企业各区域每月的订单数与金额，由销售系统导出。"
    )
    form.locator("select[name=zone]").select_option("finance")
    form.locator("textarea[name=condition]").fill("仅限金融机构信贷审批使用")
    form.locator("input[name=price]").fill("0.50")
    for i, (name, title, kind) in enumerate(COLUMNS):
        column = form.locator(f"fieldset[data-column='{i}']")
        column.get_by_label("列名").fill(name)
        column.get_by_label("中文名称").fill(title)
        column.get_by_label("类型").select_option(kind)
        if name == "contact":
            column.get_by_label("个人信息（提供时脱敏）").check()
        if name == "region":
            column.get_by_label("允许按此列筛选").check()


def call(browser: Browser, server_url: str, product: str, key: str, region: str) -> Any:
    """A call as the bank's credit system makes it: no session (a context of its own), just
    the key. Returns the status and the answer."""
    system = browser.new_context()
    try:
        answer = system.request.post(
            f"{server_url}/api/v1/channel/products/{product}",
            headers={"X-API-Key": key},
            data={"purpose": PURPOSE, "params": {"region": region}},
        )
        return answer.status, answer.json()
    finally:
        system.close()


def consumer_ready(bank: Page, browser: Browser, server_url: str) -> None:
    """The bank registered and a member of the finance zone (the demo has done both)."""
    bank.goto(f"{server_url}/channel")
    if bank.locator("#register-form").count():
        register = bank.locator("#register-form")
        register.get_by_label("机构类型").select_option(label="银行")
        register.get_by_label("联系人").fill("王经理")
        register.get_by_label("联系电话").fill("0532-88886666")
        register.get_by_label("电子邮箱").fill("api@bank.example.cn")
        register.get_by_role("button", name="登记").click()
    finance = bank.locator("#zone-list tr[data-zone='finance'] [data-status]")
    if finance.count() and finance.inner_text() == "已加入":
        return
    join = bank.locator("#membership-form")
    join.get_by_label("专区").select_option(label="金融专区")
    join.get_by_label("申请说明").fill("贷前调查核实借款企业订单流水")
    join.get_by_role("button", name="申请加入").click()
    operator = person(browser, server_url, "operator")
    operator.goto(f"{server_url}/channel/review")
    operator.locator("article[data-zone='finance']").first.get_by_role(
        "button", name="准予加入"
    ).click()
    operator.context.close()
    bank.reload()


def walk(browser: Browser, server_url: str) -> list[str]:
    """The whole flow; returns what axe and the layout checks found on the custody pages."""
    problems: list[str] = []
    enterprise = person(browser, server_url, "enterprise")
    enterprise.goto(f"{server_url}/enterprise/data")
    expect(enterprise.locator("h1")).to_have_text("数据托管")
    problems += check_page(enterprise, "enterprise-custody")

    # A bad row: refused with its row and column, the typed fields kept, nothing hosted.
    fill_host_form(enterprise, orders_csv(bad_row=2))
    enterprise.locator("#host-submit").click()
    errors = enterprise.locator("#file-errors")
    expect(errors).to_contain_text("第 4 行")
    expect(errors).to_contain_text("金额（元）")
    expect(enterprise.locator("#form-error")).to_contain_text("没有发布任何数据")
    expect(enterprise.locator("input[name=title]")).to_have_value(TITLE)
    expect(enterprise.locator(f"#hostings tr:has-text('{TITLE}')")).to_have_count(0)

    # The good file: hosted, listed, offered.
    fill_host_form(enterprise, orders_csv())
    enterprise.locator("#host-submit").click()
    enterprise.wait_for_url(re.compile(r"/enterprise/data/TG-"))
    expect(enterprise.locator("#state")).to_have_text("托管中")
    product = enterprise.locator("#hosting code").nth(1).inner_text().strip()
    assert product.startswith("hosted_") and product.endswith(SLUG), product
    problems += check_page(enterprise, "enterprise-custody-detail")

    # The bank applies for it on its console.
    bank = person(browser, server_url, "bank")
    consumer_ready(bank, browser, server_url)
    expect(bank.locator(f"article[data-product='{product}']")).to_contain_text("数据提供方")
    apply = bank.locator("#application-form")
    apply.get_by_label(TITLE).check()
    new_purpose = apply.locator("input[name=purpose_choice][value=new]")
    if new_purpose.count():
        new_purpose.check()
    apply.locator("input[name=purpose]").fill(PURPOSE)
    apply.get_by_label("法律依据").fill("《中华人民共和国商业银行法》第三十五条；借款人书面同意")
    apply.get_by_label("使用类别").select_option("industry")
    apply.get_by_role("button", name="提交申请").click()
    application = bank.locator("#application-list tr", has_text=PURPOSE).first
    expect(application.locator("[data-status]")).to_have_text("待数据提供方审核")
    code = application.get_attribute("data-code")
    assert code is not None

    # The enterprise agrees; the bureau grants.
    enterprise.goto(f"{server_url}/enterprise/data#applications")
    waiting = enterprise.locator(f"#applications article[data-code='{code}']")
    expect(waiting).to_contain_text(PURPOSE)
    waiting.get_by_role("button", name="同意", exact=True).click()
    expect(enterprise.locator(f"#applications article[data-code='{code}']")).to_have_count(0)
    operator = person(browser, server_url, "operator")
    operator.goto(f"{server_url}/channel/review")
    final = operator.locator(f"article[data-code='{code}']")
    expect(final).to_have_attribute("data-step", "bureau")
    final.get_by_role("button", name="批准并授权").click()
    operator.context.close()

    # The bank issues a key; its system calls the data: masked contacts, one region's rows.
    bank.goto(f"{server_url}/channel")
    grant = bank.locator("#grant-list tbody tr", has_text=PURPOSE).first
    grant_code = grant.get_attribute("data-code")
    assert grant_code is not None
    issue = bank.locator("#key-form")
    issue.get_by_label(grant_code).check()
    issue.get_by_label("密钥名称").fill("信贷系统")
    issue.get_by_role("button", name="签发密钥").click()
    secret = bank.locator("#secret").inner_text().strip()
    status, answered = call(browser, server_url, product, secret, "370203")
    assert status == 200, answered
    rows = answered["result"]["rows"]
    assert len(rows) == 6 and all("*" in r["contact"] for r in rows)

    # The enterprise sees the call on its statement, in 元.
    month = month_of(utcnow()).strftime("%Y-%m")
    enterprise.goto(f"{server_url}/enterprise/data?month={month}#statement")
    line = enterprise.locator(f"#statement-lines tr[data-product='{product}']")
    expect(line).to_contain_text("0.50")
    problems += check_page(enterprise, "enterprise-custody-statement")

    # It withdraws the data, asked first; the bank's next call is refused.
    enterprise.get_by_role("link", name=TITLE).click()
    withdraw = enterprise.locator("#withdraw-form")
    withdraw.get_by_label("撤回原因（必填）").fill("销售系统更换，数据停止更新")
    withdraw.get_by_role("button", name="撤回").click()
    expect(enterprise.locator("#confirm")).to_have_attribute("data-count", "1")
    problems += check_page(enterprise, "enterprise-custody-withdraw")
    enterprise.locator("#confirm-yes").click()
    expect(enterprise.locator("#state")).to_have_text("已撤回")
    status, refused = call(browser, server_url, product, secret, "370203")
    assert status == 403 and refused["reason"] == "product-withdrawn"
    enterprise.context.close()
    bank.context.close()
    return problems


@pytest.mark.browser
def test_an_enterprise_hosts_a_bank_uses_and_the_enterprise_withdraws(
    browser: Browser, server_url: str
) -> None:
    assert walk(browser, server_url) == []
