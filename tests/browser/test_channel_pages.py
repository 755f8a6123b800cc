"""End-to-end in Chromium: an insurer joins the finance zone and is granted the underwriting
health check after two reviews, issues a key, a citizen authorises it, the call is answered, and
the citizen, the insurer and the data bureau each see it on their pages."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.channel.common import month_of
from shuhui.core.clock import utcnow
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, demo_identity, log_in

INSURER_CODE = "91370200MA3R7B9K1L"
INSURER_NAME = "青岛示范人寿保险股份有限公司"
PURPOSE = "人身保险投保核保"
PRODUCT = "underwriting-health-check"
ARTIFACTS = REPO_ROOT / "test-artifacts"
DRAWN = (
    "id => typeof echarts === 'object' && !!echarts.getInstanceByDom(document.getElementById(id))"
)
SERIES_SUMS = """id => echarts.getInstanceByDom(document.getElementById(id)).getOption().series
  .map(s => s.data.reduce((sum, x) => sum + (typeof x === "object" ? x.value : x), 0))"""


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context.new_page()


def as_person(browser: Browser, server_url: str, username: str) -> Page:
    person = new_page(browser)
    log_in(person, server_url, username, DEMO_PASSWORD)
    return person


def chart_sums(page: Page, chart_id: str) -> list[int]:
    """What an ECharts chart on the page draws: the sum of each of its series."""
    page.wait_for_function(DRAWN, arg=chart_id)
    sums: list[int] = page.evaluate(SERIES_SUMS, chart_id)
    return sums


def call(api: Page, server_url: str, key: str, purpose: str, citizen_id: str) -> Any:
    """A call as the insurer's underwriting system makes it: no browser session, just the key."""
    return api.request.post(
        f"{server_url}/api/v1/channel/products/{PRODUCT}",
        headers={"X-API-Key": key},
        data={"purpose": purpose, "params": {"citizen_id": citizen_id, "years": 5}},
    )


def history(server_dir: Path) -> tuple[int, int]:
    """The answered and refused calls of the bureau's 30-day dashboard before this test's: the
    demo's history (``shuhui.demo.channel``), which the figures below come on top of."""
    since = (utcnow() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(server_dir / "shuhui.db", timeout=30) as db:
        counts = dict(
            db.execute(
                "SELECT status = 200, count(*) FROM channel_calls WHERE at >= ? GROUP BY 1",
                (since,),
            ).fetchall()
        )
    return counts.get(1, 0), counts.get(0, 0)


@pytest.mark.browser
def test_an_insurer_is_granted_a_product_and_its_call_is_seen_by_everyone(
    page: Page, browser: Browser, server_url: str, server_dir: Path
) -> None:
    # The citizen account is a resident of the demo city (`shuhui demo` bound it).
    _, citizen_id, _ = demo_identity(server_dir, "citizen")
    assert citizen_id is not None
    answered_before, refused_before = history(server_dir)

    # The insurer registers its organisation and applies to join the finance zone.
    insurer = page
    log_in(insurer, server_url, "insurer", DEMO_PASSWORD)
    insurer.locator("nav.modules").get_by_role("link", name="数据通道").click()
    expect(insurer.locator("h1")).to_have_text("登记数据使用方")
    register = insurer.locator("#register-form")
    expect(register.locator("#credit-code")).to_have_value(INSURER_CODE)
    expect(register.get_by_label("机构名称")).to_have_value(INSURER_NAME)
    register.get_by_label("机构类型").select_option(label="保险机构")
    register.get_by_label("联系人").fill("王经理")
    register.get_by_label("联系电话").fill("0532-88886666")
    register.get_by_label("电子邮箱").fill("api@insurer.example.cn")
    register.get_by_role("button", name="登记").click()
    expect(insurer.locator("#consumer-name")).to_have_text(INSURER_NAME)
    join = insurer.locator("#membership-form")
    join.get_by_label("专区").select_option(label="金融专区")
    join.get_by_label("申请说明").fill("人身保险线上核保，数据仅用于核保决策")
    join.get_by_role("button", name="申请加入").click()
    finance = insurer.locator("#zone-list tr[data-zone='finance'] [data-status]")
    expect(finance).to_have_text("待审核")

    # The data bureau admits it (its module link leads to the review queue).
    operator = as_person(browser, server_url, "operator")
    operator.locator("nav.modules").get_by_role("link", name="数据通道").click()
    expect(operator.locator("h1")).to_have_text("数据通道 · 审核")
    membership = operator.locator("article[data-zone='finance']", has_text=INSURER_NAME)
    membership.get_by_role("button", name="准予加入").click()
    expect(operator.locator("#decided-memberships")).to_contain_text("已加入")

    # The insurer applies for the underwriting health check.
    insurer.reload()
    expect(finance).to_have_text("已加入")
    apply = insurer.locator("#application-form")
    apply.get_by_label("保险核保健康核验").check()
    apply.get_by_label("用途").fill(PURPOSE)
    apply.get_by_label("法律依据").fill("《个人信息保护法》第十三条、第二十九条；投保人单独同意")
    apply.get_by_label("使用类别").select_option("industry")
    apply.get_by_role("button", name="提交申请").click()
    application = insurer.locator("#application-list tr", has_text=PURPOSE)
    expect(application.locator("[data-status]")).to_have_text("待提供部门审核")
    code = application.get_attribute("data-code")
    assert code is not None and code.startswith("SQ-")

    # The providing department (卫健委) approves its step; the bureau grants.
    health = as_person(browser, server_url, "health")
    health.goto(f"{server_url}/channel/review")
    expect(health.locator("#reviewer")).to_contain_text("青岛市卫生健康委员会")
    step = health.locator(f"article[data-code='{code}']")
    expect(step).to_have_attribute("data-step", "department")
    expect(step).to_contain_text("市卫生健康委员会")
    step.get_by_role("button", name="同意").click()
    expect(health.locator("#queue-empty")).to_be_visible()
    health.context.close()

    operator.goto(f"{server_url}/channel/review")
    final = operator.locator(f"article[data-code='{code}']")
    expect(final).to_have_attribute("data-step", "bureau")
    expect(final.get_by_label("每分钟调用上限")).to_have_value("600")
    final.get_by_role("button", name="批准并授权").click()
    expect(operator.locator("#grant-list tr", has_text=INSURER_NAME)).to_contain_text("有效")

    # The insurer sees its grant and issues a key: the secret is shown once.
    insurer.reload()
    expect(application.locator("[data-status]")).to_have_text("已批准")
    grant = insurer.locator("#grant-list tbody tr").first
    expect(grant).to_contain_text(PURPOSE)
    expect(grant.locator("[data-status]")).to_have_text("有效")
    grant_code = grant.get_attribute("data-code")
    assert grant_code is not None
    issue = insurer.locator("#key-form")
    issue.get_by_label(grant_code).check()
    issue.get_by_label("密钥名称").fill("核保系统")
    issue.get_by_role("button", name="签发密钥").click()
    expect(insurer.locator("h1")).to_have_text("API 密钥已签发")
    expect(insurer.locator("#secret-warning")).to_contain_text("此密钥只显示这一次")
    secret = insurer.locator("#secret").inner_text().strip()
    assert re.fullmatch(r"shk_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", secret), secret
    prefix = insurer.locator("#key-prefix").inner_text()
    insurer.get_by_role("link", name="我已保存，返回控制台").click()
    expect(insurer.locator(f"#key-list tr[data-prefix='{prefix}']")).to_contain_text(
        f"shk_{prefix}_…"
    )
    expect(insurer.locator("main")).not_to_contain_text(secret)

    # Without the citizen's authorisation the call is refused.
    api = new_page(browser)
    refused = call(api, server_url, secret, PURPOSE, citizen_id)
    assert refused.status == 403 and refused.json()["reason"] == "consent-refused"

    # The citizen authorises the insurer (用证授权) for this purpose, and signs.
    citizen = as_person(browser, server_url, "citizen")
    citizen.goto(f"{server_url}/me/authorisations/new?kind=cert_use")
    form = citizen.locator("#authorisation-form")
    # The insurer's approved purpose is offered word for word; the person picks it, not types it.
    expect(form.locator("#purpose-rule")).to_contain_text("一字不差")
    form.get_by_role("radio", name=re.compile(f"青岛示范人寿.*{PURPOSE}")).check()
    form.get_by_label("医疗就诊记录").check()
    form.get_by_role("button", name="保存，去签署").click()
    citizen.locator("#sign-form").get_by_label("输入登录密码以确认签署").fill(DEMO_PASSWORD)
    citizen.locator("#sign-form").get_by_role("button", name="签署").click()
    expect(citizen.locator("h1 [data-status]")).to_have_text("生效中")
    authorisation = citizen.locator("#code").inner_text()

    # Now the underwriting system's call is answered, under that authorisation.
    answered = call(api, server_url, secret, PURPOSE, citizen_id)
    assert answered.status == 200, answered.text()
    body = answered.json()
    assert body["authorisation"] == authorisation and body["grant"] == grant_code
    assert body["result"]["risk_tier"] in ("A", "B", "C")

    # 谁用了我的数据: the citizen sees who, which product, under which authorisation.
    citizen.goto(f"{server_url}/me/data-uses")
    used = citizen.locator("#uses tr[data-action='cert_use.used']")
    expect(used).to_have_count(1)
    expect(used).to_contain_text(INSURER_NAME)
    expect(used).to_contain_text("保险核保健康核验")
    expect(used).to_contain_text(authorisation)
    expect(used).to_contain_text(PURPOSE)

    # The insurer's usage chart and statement count one answered call (2.00 yuan).
    insurer.goto(f"{server_url}/channel")
    expect(insurer.locator("#usage-answered")).to_have_text("1")
    expect(insurer.locator("#statement-calls")).to_have_text("1")
    expect(insurer.locator("#statement-total")).to_have_text("2.00")
    line = insurer.locator(f"#statement-lines tr[data-product='{PRODUCT}'][data-band]")
    expect(line.locator(".calls")).to_have_text("1")
    expect(line.locator(".amount")).to_have_text("2.00")
    answered_sum, refused_sum = chart_sums(insurer, "usage-chart")
    assert answered_sum == 1 and refused_sum == 1  # the call before the authorisation
    ARTIFACTS.mkdir(exist_ok=True)
    insurer.screenshot(path=str(ARTIFACTS / "channel-console.png"), full_page=True)

    # A call for another purpose is refused; the bureau's dashboard counts both, by reason.
    other = call(api, server_url, secret, "营销推广", citizen_id)
    assert other.status == 403 and other.json()["reason"] == "purpose-mismatch"
    api.context.close()
    operator.get_by_role("link", name="运行看板").click()
    expect(operator.locator("h1")).to_have_text("数据通道 · 运行看板")
    expect(operator.locator("#answered")).to_have_text(str(answered_before + 1))
    expect(operator.locator("#refused")).to_have_text(str(refused_before + 2))
    product_row = operator.locator(f"#by-product-table tr[data-key='{PRODUCT}']")
    expect(product_row).to_contain_text("保险核保健康核验")
    expect(product_row.locator(".num")).to_have_text("1")
    expect(operator.locator("#by-zone-table tr[data-key='finance'] .num")).to_have_text("1")
    expect(
        operator.locator("#by-consumer-table tr", has_text=INSURER_NAME).locator(".num")
    ).to_have_text("1")
    mismatch = operator.locator("#refusals-table tr[data-key='purpose-mismatch']")
    expect(mismatch).to_contain_text("用途与批准的用途不符")
    expect(mismatch.locator(".num")).to_have_text("1")
    expect(operator.locator("#refusals-table tr[data-key='consent-refused'] .num")).to_have_text(
        "1"
    )
    assert chart_sums(operator, "by-product-chart") == [answered_before + 1]
    assert chart_sums(operator, "refusals-chart") == [refused_before + 2]
    operator.screenshot(path=str(ARTIFACTS / "channel-dashboard.png"), full_page=True)
    operator.context.close()

    insurer.reload()
    expect(insurer.locator("#statement-refused")).to_have_text("2")
    expect(insurer.locator("#statement-total")).to_have_text("2.00")
    expect(insurer.locator("#statement-open")).to_be_visible()  # not issued: the month runs

    # The month ends (its calls moved to last month), and the bureau issues its statements.
    last = (month_of(utcnow()) - timedelta(days=1)).replace(day=1)
    with sqlite3.connect(server_dir / "shuhui.db", timeout=30) as db:
        db.execute(
            "UPDATE channel_calls SET month = ?, at = ? WHERE month = ?",
            (
                last.isoformat(),
                f"{last.isoformat()} 04:00:00.000000",
                month_of(utcnow()).isoformat(),
            ),
        )
    bureau = as_person(browser, server_url, "operator")
    bureau.goto(f"{server_url}/channel/dashboard")
    # The demo's consumer with a history was billed for that month already; the insurer not.
    expect(bureau.locator("#billing-table")).not_to_contain_text(INSURER_NAME)
    bureau.get_by_role("button", name=f"出具 {last:%Y-%m} 对账单").click()
    expect(bureau.locator("#confirm-summary")).to_contain_text("将为 1 家机构出具")
    bureau.get_by_role("button", name="确认出具").click()
    expect(bureau.locator("#billing-done")).to_have_text("本次出具 1 份对账单。")
    issued = bureau.locator("#billing-table tbody tr", has_text=INSURER_NAME)
    expect(issued).to_contain_text("2.00")
    code = issued.get_attribute("data-code")
    assert code is not None and code.startswith("ZD-")
    bureau.context.close()
    insurer.goto(f"{server_url}/channel?month={last:%Y-%m}")
    expect(insurer.locator("#statement-issued")).to_contain_text(code)
    expect(insurer.locator("#statement-issued")).to_contain_text("数据通道结算专用章")
    expect(insurer.locator("#statement-total")).to_have_text("2.00")
    sealed = insurer.request.get(f"{server_url}/api/v1/channel/statements/{last:%Y-%m}/sealed")
    assert sealed.status == 200 and sealed.json()["code"] == code
