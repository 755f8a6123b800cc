"""End-to-end in Chromium: a data operator finds the registry from the catalog and applies to
register a catalogued dataset from its page, sees its quality assessment; another operator accepts
the application (nobody reviews their own), a visitor verifies the sealed certificate, and the
operator values the asset with the workings shown, a refused valuation keeping what was typed; an
enterprise's application is refused a bad or foreign credit code, then returned with a reason the
enterprise reads, corrects and resubmits, and which other applicants cannot see."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from shuhui.assets.valuation.bands import load_quality_bands
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, log_in, running_server

ARTIFACTS = REPO_ROOT / "test-artifacts"
CITY_CONTENT = REPO_ROOT / "content" / "qingdao"

DATASET = "cremations"
DATASET_OPTION = "遗体火化信息"
# A well-formed unified social credit code (GB 32100) for the bureau as the holder.
BUREAU_CODE = "11370200MADD272H4P"
# A well-formed enterprise code: the demo enterprise's until `shuhui demo` binds it to a
# synthetic company of the data core.
ENTERPRISE_CODE = "91370202MA3C4D5E6T"
OTHER_CODE = "9137021460181590X0"  # another company's (the demo bank's) code
REVIEWER = "reviewer2"  # a second operator, created by the administrator
REGISTRY_SEAL = "青岛市大数据发展管理局数据资产登记专用章（QDSJJ-ZCDJ-0001）"

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory, prepared_demo: Path) -> Iterator[str]:
    """A server of this module's own: these tests add an operator account, which tests elsewhere
    that count the demo accounts must not see. One worker process (the shared servers have two,
    and check that a request may land in either): a second is seconds of CPU to start."""
    with running_server(
        tmp_path_factory.mktemp("shuhui-assets"), workers=1, prepared=prepared_demo
    ) as url:
        yield url


def yuan(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@contextlib.contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """Another person at another browser: own cookies, closed when done."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def create_operator(browser: Browser, server_url: str, username: str) -> None:
    """The administrator creates a second data-bureau operator account."""
    with fresh_page(browser) as admin:
        log_in(admin, server_url, "admin", DEMO_PASSWORD)
        admin.goto(f"{server_url}/admin/users")
        form = admin.locator("#new-user")
        form.get_by_label("用户名").fill(username)
        form.get_by_label("名称", exact=True).fill("大数据局 陈审核")
        form.get_by_label("初始密码").fill(DEMO_PASSWORD)
        form.get_by_label("单位").fill("青岛市大数据发展管理局")
        form.get_by_label("大数据局运营人员").check()
        form.get_by_role("button", name="创建").click()
        expect(admin).to_have_url(re.compile(rf"/admin/users\?created={username}$"))


def fill_application(form: Locator, fields: dict[str, str], rights: list[str]) -> None:
    for label, value in fields.items():
        form.get_by_label(label, exact=True).fill(value)
    for right in rights:
        form.get_by_label(right).check()


def workings(page: Page, method: str) -> Locator:
    """The table of workings under the valuation heading that starts with ``method``."""
    heading = page.locator("#valuation h3").filter(has_text=re.compile(f"^{method}"))
    # The table, or the scrolling wrapper around it, comes right after the heading.
    return heading.locator("xpath=following-sibling::*[1]/descendant-or-self::table[1]")


def amount(table: Locator, label: str | re.Pattern[str]) -> Decimal:
    """The figure on the line of ``table`` whose description is ``label``."""
    cell = table.page.get_by_role("cell", name=label, exact=isinstance(label, str))
    row = table.locator("tr").filter(has=cell)
    expect(row).to_have_count(1)
    return Decimal(row.locator("td.num").inner_text())


@pytest.mark.browser
def test_operator_registers_verifies_and_values_a_dataset(
    page: Page, browser: Browser, server_url: str, tmp_path: Path
) -> None:
    log_in(page, server_url, "operator", DEMO_PASSWORD)
    # The catalog leads to the registry …
    page.goto(f"{server_url}/catalog")
    page.locator("main").get_by_role("link", name="数据资产登记").click()
    expect(page.locator("h1")).to_have_text("数据资产登记")
    expect(page.get_by_role("link", name="申请登记")).to_be_visible()
    # … and a dataset's page to an application for that dataset.
    page.goto(f"{server_url}/catalog/datasets/{DATASET}")
    page.get_by_role("link", name="申请登记为数据资产").click()
    expect(page.locator("h1")).to_have_text("申请数据资产登记")

    form = page.locator("#asset-form")
    # The operator's department is offered as the holder, the dataset is already chosen.
    expect(form.get_by_label("持有者名称")).to_have_value("青岛市大数据发展管理局")
    expect(form.get_by_label("登记对象")).to_have_value("dataset")
    expect(form.get_by_label("数据集（登记数据集时）")).to_have_value(DATASET)
    expect(form.get_by_label("数据集（登记数据集时）").locator("option:checked")).to_have_text(
        DATASET_OPTION
    )
    fill_application(
        form,
        {
            "资产名称": "遗体火化信息数据资产",
            "持有者统一社会信用代码": BUREAU_CODE,
            "数据来源": "市民政局殡葬管理系统每日汇聚至公共数据平台",
            "加工处理过程": "去除个人身份信息字段，按火化日期与区县汇总",
            "应用场景": "殡葬服务设施规划；人口死亡统计核对",
        },
        ["数据资源持有权", "数据加工使用权"],
    )
    form.get_by_role("button", name="提交申请").click()

    expect(page).to_have_url(re.compile(r"/catalog/assets/QDZCSQ-\d{4}-\d{6}$"))
    code = page.url.rsplit("/", 1)[1]
    expect(page.locator("#status")).to_have_text("待审核")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(f"青岛市大数据发展管理局 {BUREAU_CODE}")
    expect(facts).to_contain_text("数据资源持有权")
    expect(facts).to_contain_text("数据加工使用权")
    expect(facts).not_to_contain_text("数据产品经营权")
    expect(facts).to_contain_text("按火化日期与区县汇总")
    expect(page.locator("#certificate")).to_have_count(0)
    expect(page.locator("#valuation")).to_have_count(0)
    # Separation of duties: the applicant is not offered the review, and is told why.
    expect(page.locator("#review-form")).to_have_count(0)
    expect(page.locator("#review-by-another")).to_contain_text("须由其他运营人员审核")

    # The dataset's quality assessment, one link away; the valuation will rest on its score.
    facts.get_by_role("link", name="遗体火化信息").click()
    expect(page.locator("h1")).to_have_text("遗体火化信息")
    expect(page.locator("#quality h2")).to_contain_text("综合得分")
    expect(page.locator("#quality tr[data-dimension]")).to_have_count(5)
    quality_score = page.locator("#quality-score").inner_text()
    assert 0 <= int(quality_score) <= 100
    page.go_back()

    # Another operator reviews and accepts it.
    create_operator(browser, server_url, REVIEWER)
    with fresh_page(browser) as reviewer:
        log_in(reviewer, server_url, REVIEWER, DEMO_PASSWORD)
        reviewer.goto(f"{server_url}/catalog/assets/{code}")
        reviewer.locator("#review-form").get_by_role("button", name="通过并颁发证书").click()
        expect(reviewer.locator("#status")).to_have_text("已登记")
        expect(reviewer.locator("#review-form")).to_have_count(0)
    page.reload()
    expect(page.locator("#status")).to_have_text("已登记")
    expect(page.locator("dl.facts")).to_contain_text(f"{REVIEWER} · ")
    certificate_no = page.locator("#certificate strong").inner_text()
    assert re.fullmatch(r"QDSJZC-\d{4}-\d{6}", certificate_no)

    # The registry lists it as registered, with its certificate number.
    page.goto(f"{server_url}/catalog/assets")
    listed = page.locator(f"#assets tr[data-code='{code}']")
    expect(listed.locator("[data-status]")).to_have_text("已登记")
    expect(listed).to_contain_text(certificate_no)
    listed.get_by_role("link", name=code).click()

    # The certificate and its seal envelope, downloaded as a person would.
    with page.expect_download() as certificate_download:
        page.locator("#certificate").get_by_role("link", name="证书文件").click()
    certificate_path = tmp_path / certificate_download.value.suggested_filename
    certificate_download.value.save_as(certificate_path)
    with page.expect_download() as seal_download:
        page.locator("#certificate").get_by_role("link", name="电子签章文件").click()
    seal_path = tmp_path / seal_download.value.suggested_filename
    seal_download.value.save_as(seal_path)
    assert certificate_path.name == f"{certificate_no}.json"
    assert seal_path.name == f"{certificate_no}.json.seal.json"

    certificate = json.loads(certificate_path.read_bytes())
    assert certificate["format"] == "shuhui-asset-certificate-v1"
    assert certificate["certificate_no"] == certificate_no
    assert certificate["application"] == code
    assert certificate["holder"] == {"name": "青岛市大数据发展管理局", "credit_code": BUREAU_CODE}
    assert certificate["rights"] == ["holding", "processing"]
    assert certificate["dataset"]["name"] == DATASET
    envelope = json.loads(seal_path.read_bytes())
    assert envelope["seal"]["code"] == "QDSJJ-ZCDJ-0001"
    assert envelope["signer"] == REVIEWER

    # Whoever relies on the certificate verifies it without an account: the page the
    # certificate links to, then a tampered copy, then the same check through the API.
    verify_href = page.locator("#certificate").get_by_role("link", name="验证证书")
    expect(verify_href).to_have_attribute("href", "/seals/verify")
    with fresh_page(browser) as visitor:
        visitor.goto(f"{server_url}/seals/verify")
        expect(visitor.locator("h1")).to_have_text("电子印章验证")
        visitor.get_by_label("文件", exact=True).set_input_files(certificate_path)
        visitor.get_by_label("签章文件").set_input_files(seal_path)
        visitor.get_by_role("button", name="验证").click()
        expect(visitor.locator("#verdict")).to_have_attribute("data-valid", "true")
        expect(visitor.locator("#verdict")).to_have_text("验证通过")
        verdict_facts = visitor.locator("dl.facts")
        expect(verdict_facts).to_contain_text(REGISTRY_SEAL)
        expect(verdict_facts).to_contain_text("青岛市大数据发展管理局")
        expect(verdict_facts).to_contain_text(REVIEWER)
        ARTIFACTS.mkdir(exist_ok=True)
        visitor.screenshot(path=str(ARTIFACTS / "asset-certificate-verified.png"), full_page=True)

        forged = dict(certificate, holder={"name": "冒名公司", "credit_code": ENTERPRISE_CODE})
        forged_path = tmp_path / "forged" / certificate_path.name
        forged_path.parent.mkdir()
        forged_path.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
        visitor.get_by_label("文件", exact=True).set_input_files(forged_path)
        visitor.get_by_label("签章文件").set_input_files(seal_path)
        visitor.get_by_role("button", name="验证").click()
        expect(visitor.locator("#verdict")).to_have_attribute("data-valid", "false")
        expect(visitor.locator("#verdict")).to_contain_text("验证失败")

        answer = visitor.request.post(
            f"{server_url}/api/v1/seals/verify",
            data={
                "document_base64": base64.b64encode(certificate_path.read_bytes()).decode(),
                "envelope": envelope,
            },
        )
        assert answer.status == 200, answer.text()
        verdict = answer.json()
        assert verdict["valid"] is True, verdict
        assert verdict["seal"]["code"] == "QDSJJ-ZCDJ-0001"
        assert verdict["signer"] == REVIEWER

    # Valuation: bad values first, refused naming the field by its label, the reason next to
    # it, everything typed kept, and nothing stored. Costs not incurred are left blank.
    valuation = page.locator("#valuation")
    expect(valuation.locator("h2")).to_have_text("价值评估")
    expect(valuation.locator("#valuation-result")).to_have_count(0)
    value_form = page.locator("#valuation-form")
    expect(value_form.locator("#cost-blank-hint")).to_contain_text("按 0 计")
    typed = {
        "数据获取成本（元）": "-120000",
        "数据加工成本（元）": "80,000",
        "质量成本（元）": "25000元",
        "安全成本（元）": "15000",
        "合理利润率（%）": "10",
        "贬值率（%）": "5%",
        "各年预期收益（元，逗号分隔）": "100000,110000,120000",
        "折现率（%）": "百分之十",
        "使用寿命（年）": "5",
    }
    comparables = "某市殡葬数据产品,260000,0.9,1,1,1,1\n某省民政数据集,300000,0.8,1,1,1,1"
    for label, figure in typed.items():
        value_form.get_by_label(label, exact=True).fill(figure)
    value_form.get_by_label(re.compile("^可比案例")).fill(comparables)
    value_form.get_by_label("持有目的").select_option(label="企业内部使用（无形资产）")
    value_form.get_by_role("button", name="评估").click()
    not_a_rate = "不是有效的百分数，请填写数字，如 8 或 8.5%"
    expect(page.locator("#form-error")).to_have_text(f"折现率：{not_a_rate}")
    expect(value_form.locator("[data-field='discount_rate']")).to_have_text(not_a_rate)
    for label, figure in typed.items():
        expect(value_form.get_by_label(label, exact=True)).to_have_value(figure)
    expect(value_form.get_by_label(re.compile("^可比案例"))).to_have_value(comparables)
    expect(valuation.locator("#valuation-result")).to_have_count(0)

    # A rate typed as a fraction (0.1 meant as 10 %) is read as the percentage it says: 0.1 %,
    # outside the usual range, so nothing is saved before it is confirmed or corrected.
    value_form.get_by_label("折现率（%）", exact=True).fill("0.1")
    value_form.get_by_role("button", name="评估").click()
    expect(value_form.locator("[data-warning='discount_rate']")).to_contain_text("0.1%")
    expect(valuation.locator("#valuation-result")).to_have_count(0)
    value_form.get_by_label("折现率（%）", exact=True).fill("10%")
    value_form.get_by_role("button", name="确认无误，按此评估").click()
    expect(page.locator("#form-error")).to_have_text("数据获取成本：不能为负数")
    acquisition_error = value_form.locator("[data-field='cost.acquisition']")
    expect(acquisition_error).to_have_text("不能为负数")
    expect(value_form.get_by_label("数据获取成本（元）", exact=True)).to_have_attribute(
        "aria-describedby", "error-cost-acquisition"
    )
    expect(value_form.get_by_label("折现率（%）", exact=True)).to_have_value("10%")
    expect(valuation.locator("#valuation-result")).to_have_count(0)
    valuation.screenshot(path=str(ARTIFACTS / "asset-valuation-refused.png"))

    # Corrected, every method the form offers runs: cost, income, market, and the books.
    value_form.get_by_label("数据获取成本（元）", exact=True).fill("120,000")
    value_form.get_by_role("button", name="评估").click()
    expect(valuation.locator("#valuation-result")).to_be_visible()
    expect(page.locator("#form-error")).to_have_count(0)

    # Cost method: 240,000 of costs, +10 % profit, −5 % devaluation, × the quality coefficient
    # that the dataset's assessed score takes in the city's bands.
    cost = workings(page, "成本法")
    # The costs left blank count as 0, and the workings say so.
    assert amount(cost, "登记与合规成本") == Decimal("0.00")
    assert amount(cost, "其他直接成本") == Decimal("0.00")
    blank = cost.get_by_role("cell", name="未填写的成本项按 0 计：登记与合规成本、其他直接成本")
    expect(blank).to_have_count(1)
    assert amount(cost, "成本合计") == Decimal("240000.00")
    assert amount(cost, "含利润的重置成本") == Decimal("264000.00")
    assert amount(cost, "贬值额") == Decimal("13200.00")
    assert amount(cost, "扣除贬值后的价值") == Decimal("250800.00")
    band = load_quality_bands(CITY_CONTENT, datetime.now(UTC).date()).band_for(
        Decimal(quality_score)
    )
    quality_line = re.compile(f"^数据质量评分 {quality_score}，档次「{band.name_zh}」")
    assert amount(cost, quality_line) == Decimal(quality_score)
    assert amount(cost, "质量调整系数") == band.coefficient
    cost_value = yuan(Decimal("250800.00") * band.coefficient)
    assert amount(cost, "评估值（成本法）") == cost_value

    # Income method: each year's income discounted at 10 %.
    income = workings(page, "收益法")
    income_value = sum(
        (yuan(Decimal(x) / Decimal("1.1") ** t) for t, x in enumerate((100000, 110000, 120000), 1)),
        Decimal(0),
    )
    assert amount(income, "第1年 现值 100000.00 ÷ (1+0.1)^1") == Decimal("90909.09")
    assert amount(income, "评估值（收益法，各年现值之和）") == income_value

    # Market method: the mean of the comparables' adjusted prices.
    market = workings(page, "市场法")
    assert amount(market, "调整后价值 260000.00 × 0.9") == Decimal("234000.00")
    assert amount(market, "调整后价值 300000.00 × 0.8") == Decimal("240000.00")
    assert amount(market, "评估值（市场法，算术平均）") == Decimal("237000.00")

    # The conclusion weighs the three methods equally, and is the figure shown on top.
    concluded = yuan((cost_value + income_value + Decimal("237000.00")) / 3)
    reconciled = workings(page, "综合结论")
    assert amount(reconciled, "收益法 结果") == income_value
    assert amount(reconciled, "评估结论") == concluded
    expect(valuation.locator("#valuation-result strong")).to_have_text(f"{concluded:,.2f}")
    for method, result in (
        ("成本法", cost_value),
        ("收益法", income_value),
        ("综合结论", concluded),
    ):
        shown = f"{method} · {result:,.2f} 元"  # in 元, with thousands separators
        expect(valuation.locator("h3", has_text=method)).to_have_text(shown)

    # The books carry what the resource cost, amortised over its useful life.
    books = workings(page, "会计处理")
    assert amount(books, "确认为无形资产，按成本初始计量") == Decimal("240000.00")
    assert amount(books, "第1年 摊销额") == Decimal("48000.00")
    assert amount(books, "第5年末 账面价值") == Decimal("0.00")
    page.screenshot(path=str(ARTIFACTS / "asset-valuation.png"), full_page=True)

    # The valuation is kept: it is there when the page is opened again.
    page.goto(f"{server_url}/catalog/assets/{code}")
    expect(page.locator("#valuation-result strong")).to_have_text(f"{concluded:,.2f}")


@pytest.mark.browser
def test_a_bad_application_is_refused_and_a_returned_one_says_why(
    page: Page, browser: Browser, server_url: str
) -> None:
    log_in(page, server_url, "enterprise", DEMO_PASSWORD)
    # `shuhui demo` binds the demo enterprise to a synthetic company: its code, as the API says.
    own_code = page.request.get(f"{server_url}/api/v1/me").json()["credit_code"]
    assert own_code and own_code != OTHER_CODE
    page.goto(f"{server_url}/catalog/assets")
    page.get_by_role("link", name="申请登记").click()
    form = page.locator("#asset-form")
    # An enterprise applies for itself: its own credit code is offered, and the form says why.
    expect(form.get_by_label("持有者统一社会信用代码")).to_have_value(own_code)
    expect(form.locator("#own-code")).to_contain_text(own_code)
    form.get_by_label("登记对象").select_option(label="数据产品")
    wrong_check_character = own_code[:-1] + ("X" if own_code[-1] != "X" else "Y")
    check_reason = f"校验位是“{wrong_check_character[-1]}”，应为“{own_code[-1]}”"
    fill_application(
        form,
        {
            "资产名称": "区域客流热力数据产品",
            "持有者统一社会信用代码": wrong_check_character,
            "数据来源": "自有门店客流计数设备",
            "加工处理过程": "按小时、按网格汇总",
            "应用场景": "商圈选址",
        },
        ["数据产品经营权"],
    )
    form.get_by_role("button", name="提交申请").click()

    # Refused on the page, naming the field by its label and why; what was typed is kept.
    expect(page.locator("#form-error")).to_have_text(f"持有者统一社会信用代码：{check_reason}")
    expect(page).to_have_url(f"{server_url}/catalog/assets/new")
    form = page.locator("#asset-form")
    expect(form.locator("[data-field='holder_code']")).to_have_text(check_reason)
    expect(form.get_by_label("资产名称")).to_have_value("区域客流热力数据产品")
    expect(form.get_by_label("数据产品经营权")).to_be_checked()
    expect(form.get_by_label("数据资源持有权")).not_to_be_checked()

    # Another company's code, well-formed, is refused too: an enterprise registers its own.
    form.get_by_label("持有者统一社会信用代码").fill(OTHER_CODE)
    form.get_by_role("button", name="提交申请").click()
    expect(page.locator("#form-error")).to_have_text(
        f"持有者统一社会信用代码：must be your account's own credit code {own_code}"
    )

    form = page.locator("#asset-form")
    form.get_by_label("持有者统一社会信用代码").fill(own_code)
    form.get_by_role("button", name="提交申请").click()
    expect(page.locator("#status")).to_have_text("待审核")
    code = page.url.rsplit("/", 1)[1]
    # An applicant who is not the bureau's operator is not offered the review.
    expect(page.locator("#review-form")).to_have_count(0)

    with fresh_page(browser) as operator:
        log_in(operator, server_url, "operator", DEMO_PASSWORD)
        operator.goto(f"{server_url}/catalog/assets")
        row = operator.locator(f"#assets tr[data-code='{code}']")
        expect(row.locator("[data-status]")).to_have_text("待审核")
        row.get_by_role("link", name=code).click()

        review = operator.locator("#review-form")
        # Returning needs a reason: without one the page says so and nothing changes.
        review.get_by_role("button", name="退回修改").click()
        expect(operator.locator("#form-error")).to_have_text("审核意见：请说明原因")
        expect(operator.locator("#review-form [data-field='reason']")).to_have_text("请说明原因")
        expect(operator.locator("#status")).to_have_text("待审核")

        reason = "请补充客流计数设备的数据采集授权说明"
        review = operator.locator("#review-form")
        review.get_by_label("审核意见（退回或不予登记时必填）").fill(reason)
        review.get_by_role("button", name="退回修改").click()
        expect(operator.locator("#status")).to_have_text("退回修改")
        expect(operator.locator("#review-form")).to_have_count(0)
        expect(operator.locator("#certificate")).to_have_count(0)

    # The applicant sees it returned, who returned it, and why; no certificate was issued.
    page.reload()
    expect(page.locator("#status")).to_have_text("退回修改")
    expect(page.locator("dl.facts")).to_contain_text("operator · ")
    expect(page.locator("dl.facts")).to_contain_text(reason)
    expect(page.locator("#certificate")).to_have_count(0)
    expect(page.locator("#valuation")).to_have_count(0)
    page.goto(f"{server_url}/catalog/assets")
    expect(page.locator(f"#assets tr[data-code='{code}'] [data-status]")).to_have_text("退回修改")

    # The applicant corrects it as asked and resubmits; it goes back for review.
    page.locator(f"#assets tr[data-code='{code}']").get_by_role("link", name=code).click()
    resubmit = page.locator("#resubmit-form")
    expect(resubmit.get_by_label("资产名称")).to_have_value("区域客流热力数据产品")
    expect(resubmit.get_by_label("持有者统一社会信用代码")).to_have_value(own_code)
    expect(resubmit.get_by_label("数据产品经营权")).to_be_checked()
    authorised = "自有门店客流计数设备；采集经顾客告知同意，授权书编号 SQ-2026-001"
    resubmit.get_by_label("数据来源").fill(authorised)
    resubmit.get_by_role("button", name="重新提交").click()
    expect(page.locator("#status")).to_have_text("待审核")
    expect(page.locator("#resubmit-form")).to_have_count(0)
    expect(page.locator("dl.facts")).to_contain_text("SQ-2026-001")

    # Another applicant neither finds it in the registry nor opens it.
    with fresh_page(browser) as officer:
        log_in(officer, server_url, "officer", DEMO_PASSWORD)
        officer.goto(f"{server_url}/catalog/assets")
        expect(officer.locator("#own-only")).to_be_visible()
        expect(officer.locator(f"#assets tr[data-code='{code}']")).to_have_count(0)
        officer.goto(f"{server_url}/catalog/assets/{code}")
        expect(officer.locator("h1")).to_have_text("403 · 无权访问")
        expect(officer.locator("body")).not_to_contain_text("区域客流热力数据产品")
