"""Every demo account's main flow in Chromium, from the page its login lands on, in the demo
`shuhui demo` prepared (shuhui.demo): the citizen and the enterprise accept the offer waiting
for them, the bank issues a key for its grant and makes a call the enterprise authorised, the
insurer onboards, operator and operator2 complete a four-eyes registration, the officers run and
confirm campaigns or review channel applications, the approver verifies an authorisation, the
administrator manages an account.

One served demo and one Chromium for the file (the session's); each test stands alone on it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.core.display import mask_citizen_id
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import demo_identity, log_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BUREAU_CODE = "11370200MADD272H4P"  # the data bureau's credit code, as the holder of an asset


@pytest.fixture
def people(browser: Browser, server_url: str) -> Iterator[dict[str, Page]]:
    """Each demo account logged in at a browser of its own, as asked for: ``people["citizen"]``."""
    contexts = []

    class Logins(dict[str, Page]):
        def __missing__(self, username: str) -> Page:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            contexts.append(context)
            page = context.new_page()
            log_in(page, server_url, username, DEMO_PASSWORD)
            expect(page).to_have_url(f"{server_url}/")
            self[username] = page
            return page

    yield Logins()
    for context in contexts:
        context.close()


def todo(page: Page, key: str) -> int:
    """A to-do card of the workbench the login landed on: its count, then the card followed."""
    page.locator("header.topbar .brand").click()
    expect(page.locator("h1")).to_have_text("工作台")
    card = page.locator(f"li[data-todo='{key}']")
    count = int(card.locator(".todo-count").get_attribute("data-count") or "0")
    card.get_by_role("link").click()
    return count


def module(page: Page, name: str) -> None:
    """A module of the header's navigation, as a person clicks it."""
    page.locator("nav.modules").get_by_role("link", name=name).click()


def accept_offer(page: Page, policy: str) -> None:
    """From the workbench's card of offers waiting to 为我推荐的政策, where the offer of
    ``policy`` waits: accepted. Its message is unread in the header until then."""
    expect(page.locator("header.topbar #nav-messages")).to_contain_text(re.compile(r"\d"))
    assert todo(page, "programs.offers") >= 1
    expect(page.locator("h1")).to_have_text("为我推荐的政策")
    offer = page.locator("section.offer", has=page.locator("h2", has_text=policy))
    expect(offer).to_have_count(1)
    expect(offer).to_have_attribute("data-status", "offered")
    expect(offer.locator(".amount")).to_have_text(re.compile(r"^\d[\d,]*\.\d\d$"))
    offer.get_by_role("button", name="确认领取").click()
    expect(offer).to_have_attribute("data-status", "granted")
    expect(page.locator("#grants tbody tr")).to_have_count(1)


def test_the_citizen_is_a_resident_and_accepts_her_waiting_offer(
    people: dict[str, Page], server_dir: Path
) -> None:
    name, citizen_id, _ = demo_identity(server_dir, "citizen")
    assert citizen_id is not None and citizen_id != "370202199003151233"
    citizen = people["citizen"]
    expect(citizen.locator("header.topbar .who")).to_have_text(name)
    accept_offer(citizen, "一次性创业补贴")
    # Her account shows whom she is in the city, masked.
    citizen.locator("header.topbar .who").click()
    expect(citizen.locator("main")).to_contain_text(mask_citizen_id(citizen_id))


def test_the_enterprise_is_a_live_company_and_accepts_its_policy(
    people: dict[str, Page], server_dir: Path
) -> None:
    name, _, credit_code = demo_identity(server_dir, "enterprise")
    assert credit_code is not None and credit_code != "91370202MA3C4D5E6T"
    enterprise = people["enterprise"]
    expect(enterprise.locator("header.topbar .who")).to_have_text(name)
    accept_offer(enterprise, "失业保险稳岗返还")


def test_the_bank_issues_a_key_for_its_grant_and_calls_with_the_enterprises_consent(
    people: dict[str, Page], browser: Browser, server_url: str, server_dir: Path
) -> None:
    _, _, credit_code = demo_identity(server_dir, "enterprise")
    bank = people["bank"]
    module(bank, "数据通道")
    expect(bank.locator("#consumer-name")).to_have_text("青岛示范银行")
    grant = bank.locator("#grant-list tbody tr", has_text="小微企业信贷审批")
    expect(grant.locator("[data-status]")).to_have_text("有效")
    grant_code = grant.get_attribute("data-code")
    assert grant_code is not None
    issue = bank.locator("#key-form")
    issue.get_by_label(grant_code).check()
    issue.get_by_label("密钥名称").fill("信贷审批系统")
    issue.get_by_role("button", name="签发密钥").click()
    expect(bank.locator("#secret-warning")).to_contain_text("此密钥只显示这一次")
    secret = bank.locator("#secret").inner_text().strip()
    bank.get_by_role("link", name="我已保存，返回控制台").click()

    # The enterprise authorises the bank to read its tax credit for this purpose (用证授权).
    enterprise = people["enterprise"]
    enterprise.locator("header.topbar").get_by_role("link", name="我的授权").click()
    enterprise.get_by_role("link", name="新建用证授权").click()
    form = enterprise.locator("#authorisation-form")
    form.get_by_label("授权人身份").select_option("enterprise")
    # The bank's approved purpose is offered word for word: picked, not typed.
    form.get_by_role("radio", name=re.compile("青岛示范银行.*小微企业信贷审批")).check()
    form.get_by_label("纳税及社保缴费信息").check()
    form.get_by_role("button", name="保存，去签署").click()
    enterprise.locator("#sign-form").get_by_label("输入登录密码以确认签署").fill(DEMO_PASSWORD)
    enterprise.locator("#sign-form").get_by_role("button", name="签署").click()
    expect(enterprise.locator("h1 [data-status]")).to_have_text("生效中")

    # The bank's credit system calls with the key (no browser session, just the key); the bank
    # sees the call on its console (counted with any other call of its this month: another
    # test may have called hosted data with another of its keys).
    bank.reload()
    before = int(bank.locator("#usage-answered").inner_text())
    shown = bank.locator("#statement-calls")  # no statement before the month's first call
    billed = int(shown.inner_text()) if shown.count() else 0
    system = browser.new_context()
    answered = system.request.post(
        f"{server_url}/api/v1/channel/products/enterprise-credit-check",
        headers={"X-API-Key": secret},
        data={"purpose": "小微企业信贷审批", "params": {"credit_code": credit_code}},
    )
    assert answered.status == 200, answered.text()
    assert answered.json()["grant"] == grant_code
    system.close()
    bank.reload()
    expect(bank.locator("#usage-answered")).to_have_text(str(before + 1))
    expect(bank.locator("#statement-calls")).to_have_text(str(billed + 1))


def test_the_insurer_starts_onboarding_from_its_workbench(people: dict[str, Page]) -> None:
    """The insurer's whole onboarding (register, join the finance zone, apply, key, a call) is
    tests/browser/test_channel_pages.py's walk on this same demo; here its workbench leads to
    it, whichever of the two runs first, and nothing is changed for the other."""
    insurer = people["insurer"]
    insurer.locator("header.topbar .brand").click()
    cards = insurer.locator("li[data-todo='channel.register'], li[data-todo='channel.grants']")
    expect(cards).to_have_count(1)
    cards.get_by_role("link").click()
    expect(insurer.locator("h1")).to_have_text(re.compile("登记数据使用方|使用方控制台"))
    if insurer.locator("#register-form").count():
        register = insurer.locator("#register-form")
        expect(register.get_by_label("机构名称")).to_have_value("青岛示范人寿保险股份有限公司")
    else:
        expect(insurer.locator("#consumer-name")).to_have_text("青岛示范人寿保险股份有限公司")


def test_operator_registers_an_asset_and_operator2_completes_the_review(
    people: dict[str, Page],
) -> None:
    operator = people["operator"]
    module(operator, "数据目录")
    operator.locator("main").get_by_role("link", name="数据资产登记").click()
    operator.get_by_role("link", name="申请登记").click()
    form = operator.locator("#asset-form")
    form.get_by_label("数据集（登记数据集时）").select_option("utility_usage")
    for label, value in {
        "资产名称": "居民水电气用量数据资产",
        "持有者统一社会信用代码": BUREAU_CODE,
        "数据来源": "供水、供电、燃气企业按月汇交的用量数据",
        "加工处理过程": "去除户号与姓名，按区县与月份汇总",
        "应用场景": "城市能源规划；困难家庭识别核对",
    }.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("数据资源持有权").check()
    form.get_by_role("button", name="提交申请").click()
    expect(operator).to_have_url(re.compile(r"/catalog/assets/QDZCSQ-\d{4}-\d{6}$"))
    code = operator.url.rsplit("/", 1)[1]
    expect(operator.locator("#review-by-another")).to_contain_text("须由其他运营人员审核")

    # The second operator finds it in the registry and accepts it: a sealed certificate.
    reviewer = people["operator2"]
    assert todo(reviewer, "assets.review") >= 1  # the workbench says a review waits for them
    reviewer.locator(f"#assets tr[data-code='{code}']").get_by_role("link").first.click()
    reviewer.locator("#review-form").get_by_role("button", name="通过并颁发证书").click()
    expect(reviewer.locator("#status")).to_have_text("已登记")
    operator.reload()
    expect(operator.locator("#status")).to_have_text("已登记")
    expect(operator.locator("#certificate strong")).to_have_text(re.compile(r"^QDSJZC-\d{4}-"))


def run_and_confirm(page: Page, policy: str) -> None:
    """An officer runs a policy's campaign from the console and confirms one candidate (the
    last of the first page: the first are those other walk-throughs take)."""
    module(page, "智慧人社")
    expect(page.locator("h1")).to_have_text("政策找人")
    page.locator("#run-form").get_by_label("政策").select_option(label=policy)
    page.locator("#run-form").get_by_role("button", name="运行").click()
    expect(page).to_have_url(re.compile(r"/hrss/campaigns/ZC-"))
    expect(page.locator("h1")).to_contain_text(policy)
    assert int(page.locator("#count-eligible").inner_text()) > 0
    row = page.locator("#candidate-table tbody tr[data-status='pending']").last
    chosen = row.get_attribute("data-id")
    row.locator("input[name=ids]").check()
    page.get_by_role("button", name="确认所选并推送").click()
    # Offers cannot be withdrawn: the page says to how many first.
    expect(page.locator("#confirm-summary")).to_contain_text("将向 1 位")
    page.locator("#confirm-yes").click()
    expect(page.locator(f"#candidate-table tr[data-id='{chosen}']")).to_have_attribute(
        "data-status", "offered"
    )
    expect(page.locator("#funnel-table tr[data-stage='confirmed'] .num")).to_have_text("1")


def test_the_hrss_officer_finds_the_demo_campaigns_and_runs_one(people: dict[str, Page]) -> None:
    officer = people["officer"]
    module(officer, "智慧人社")
    # The campaigns `shuhui demo` ran for the citizen and the enterprise are the bureau's.
    campaigns = officer.locator("#campaigns tbody")
    expect(campaigns).to_contain_text("一次性创业补贴")
    expect(campaigns).to_contain_text("失业保险稳岗返还")
    run_and_confirm(officer, "失业保险金领取资格")


@pytest.mark.parametrize(
    ("username", "policy"),
    [("civil", "高龄津贴"), ("disability", "重度残疾人护理补贴")],
)
def test_a_department_runs_its_policy(people: dict[str, Page], username: str, policy: str) -> None:
    run_and_confirm(people[username], policy)


@pytest.mark.parametrize(
    ("username", "product", "department"),
    [
        ("health", "保险核保健康核验", "青岛市卫生健康委员会"),
        ("tax", "企业信贷综合核验", "国家税务总局青岛市税务局"),
    ],
)
def test_a_providing_department_approves_the_banks_application(
    people: dict[str, Page], username: str, product: str, department: str
) -> None:
    bank = people["bank"]
    module(bank, "数据通道")
    purpose = f"信贷风险评估（{username}）"
    apply = bank.locator("#application-form")
    apply.get_by_label(product).check()
    # A purpose not yet approved is proposed as new, for the departments to review.
    apply.get_by_role("radio", name=re.compile("^新的用途")).check()
    apply.get_by_role("textbox", name="新的用途").fill(purpose)
    apply.get_by_label("法律依据").fill("《征信业管理条例》第十四条；信息主体本人授权")
    apply.get_by_label("使用类别").select_option("industry")
    apply.get_by_role("button", name="提交申请").click()
    application = bank.locator("#application-list tr", has_text=purpose)
    expect(application.locator("[data-status]")).to_have_text("待提供部门审核")
    code = application.get_attribute("data-code")

    reviewer = people[username]
    assert todo(reviewer, "channel.department_review") >= 1
    expect(reviewer.locator("#reviewer")).to_contain_text(department)
    step = reviewer.locator(f"article[data-code='{code}']")
    expect(step).to_have_attribute("data-step", "department")
    step.get_by_role("button", name="同意").click()
    expect(reviewer.locator(f"article[data-code='{code}']")).to_have_count(0)
    bank.reload()
    expect(application.locator("[data-status]")).to_have_text("待大数据局审核")


def test_the_approver_verifies_the_enterprises_signed_mandate(people: dict[str, Page]) -> None:
    enterprise = people["enterprise"]
    enterprise.locator("header.topbar").get_by_role("link", name="我的授权").click()
    enterprise.get_by_role("link", name="新建委托授权").click()
    form = enterprise.locator("#authorisation-form")
    form.get_by_label("授权人身份").select_option("enterprise")
    form.get_by_label("证件号码").fill("370212193805117155")
    form.get_by_label("名称").fill("李代办")
    form.get_by_label("企业变更登记").check()
    form.get_by_role("button", name="保存，去签署").click()
    enterprise.locator("#sign-form").get_by_label("输入登录密码以确认签署").fill(DEMO_PASSWORD)
    enterprise.locator("#sign-form").get_by_role("button", name="签署").click()
    expect(enterprise.locator("h1 [data-status]")).to_have_text("生效中")
    code = enterprise.locator("#code").inner_text()

    # At the 审批局 counter the agent shows the code; the approver checks it.
    approver = people["approver"]
    approver.locator("header.topbar").get_by_role("link", name="核验").click()
    approver.locator("#verify-form").get_by_label("授权码").fill(code)
    approver.locator("#verify-form").get_by_role("button", name="核验").click()
    expect(approver.locator("#verdict")).to_have_attribute("data-valid", "true")
    expect(approver.locator("#verdict")).to_contain_text("授权有效")
    expect(approver.locator("main")).to_contain_text("企业变更登记")
    expect(approver.locator("#signature-valid")).to_have_text("SM2 签名有效")


def test_the_administrator_creates_and_disables_an_account(
    people: dict[str, Page], server_url: str
) -> None:
    admin = people["admin"]
    admin.locator("header.topbar .brand").click()
    admin.locator("main").get_by_role("link", name="账户管理").click()
    form = admin.locator("#new-user")
    form.get_by_label("用户名").fill("clerk-demo")
    form.get_by_label("名称", exact=True).fill("民政局 孙科员")
    form.get_by_label("初始密码").fill(DEMO_PASSWORD)
    form.get_by_label("单位").fill("青岛市民政局")
    form.get_by_label("部门工作人员").check()
    form.get_by_role("button", name="创建").click()
    expect(admin).to_have_url(re.compile(r"/admin/users\?created=clerk-demo$"))
    admin.locator("tr[data-username='clerk-demo']").get_by_role("link", name="管理").click()
    admin.locator("#disable-user").click()
    # A risky action asks first.
    admin.locator("#confirm-disable").click()
    expect(admin.locator("#account-status")).to_contain_text("停用")
