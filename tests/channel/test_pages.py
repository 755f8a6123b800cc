"""The data channel's pages: the consumer console, the review queue and the dashboard, through
their forms as a browser posts them."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.channel.conftest import BANK, PURPOSE, Channel
from tests.channel.test_gateway import check, consent
from tests.fixtures import as_user

HTML = {"accept": "text/html"}
SECRET = re.compile(r'<code class="secret" id="secret">(shk_[0-9a-f]{8}_[A-Za-z0-9_-]+)</code>')


def page(client: TestClient, path: str) -> Response:
    return client.get(path, headers=HTML, follow_redirects=False)


def post(client: TestClient, path: str, data: dict[str, str | list[str]]) -> Response:
    return client.post(path, data=data, headers=HTML, follow_redirects=False)


def field_error(text: str, field: str) -> str:
    found = re.search(
        rf'<span class="field-error" id="[^"]+" data-field="{field}">([^<]*)</span>', text
    )
    assert found, f"no reason shown next to {field}"
    return found.group(1)


def queue_codes(text: str) -> list[str]:
    section = text.split('id="queue"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<article class="product" data-code="([^"]+)"', section)


def table_count(text: str, table: str, key: str) -> int:
    body = text.split(f'id="{table}-table"', 1)[1].split("</table>", 1)[0]
    found = re.search(
        rf'<tr data-key="{re.escape(key)}"><td>[^<]*</td><td class="num">(\d+)</td>', body
    )
    return int(found.group(1)) if found else 0


def apply_through_form(client: TestClient, product: str, purpose: str) -> str:
    applied = post(
        client,
        "/channel/applications",
        {
            "products": [product],
            "purpose": purpose,
            "legal_basis": "《个人信息保护法》第十三条；数据主体单独同意",
            "usage": "industry",
            "days": "180",
        },
    )
    assert applied.status_code == 303, applied.text
    console = page(client, "/channel").text
    rows = re.findall(r'<tr data-code="(SQ-[^"]+)">.*?</tr>', console, re.S)
    mine = [code for code in rows if purpose in console.split(code, 1)[1].split("</tr>", 1)[0]]
    assert mine, "the application is not listed"
    return mine[0]


def register_bank(app: FastAPI, bureau: TestClient) -> TestClient:
    """The bank registers and joins the finance zone through the pages."""
    bank = as_user(app, "bank")
    form = page(bank, "/channel")
    assert form.status_code == 200 and 'id="register-form"' in form.text
    assert BANK in form.text
    made = post(
        bank,
        "/channel/register",
        {
            "name": "青岛示范银行股份有限公司",
            "type": "bank",
            "contact_name": "赵经理",
            "contact_phone": "0532-80001234",
            "contact_email": "api@bank.example.cn",
        },
    )
    assert made.status_code == 303 and made.headers["location"] == "/channel"
    joined = post(
        bank, "/channel/memberships", {"zone": "finance", "statement": "小微企业信贷审批"}
    )
    assert joined.status_code == 303
    assert 'data-status="pending"' in page(bank, "/channel").text
    queue = page(bureau, "/channel/review").text
    found = re.search(
        r'<article class="product" data-membership="(\d+)" data-zone="finance">', queue
    )
    assert found and "青岛示范银行股份有限公司" in queue
    approved = post(
        bureau, f"/channel/review/memberships/{found.group(1)}", {"decision": "approve"}
    )
    assert approved.status_code == 303
    zones = page(bank, "/channel").text.split('id="zone-list"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'data-zone="finance">.*?data-status="approved">已加入', zones, re.S)
    return bank


def test_the_console_shows_a_registered_consumers_grants_and_keys(channel: Channel) -> None:
    ch = channel
    console = page(ch.insurer, "/channel")
    assert console.status_code == 200
    english = page(ch.insurer, "/channel?lang=en").text
    assert "Data channel · consumer console" in english and "Insurance underwriting" in english
    text = page(ch.insurer, "/channel?lang=zh-CN").text
    assert "使用方控制台" in text
    assert "青岛示范人寿保险股份有限公司" in text and 'id="register-form"' not in text
    grants = text.split('id="grant-list"', 1)[1].split("</table>", 1)[0]
    assert ch.grant in grants and PURPOSE in grants and "保险核保健康核验" in grants
    assert 'data-status="active">有效' in grants
    (key,) = ch.insurer.get("/api/v1/channel/keys").json()
    keys = text.split('id="key-list"', 1)[1].split("</table>", 1)[0]
    assert f"shk_{key['prefix']}_…" in keys and "核保系统" in keys
    assert ch.key not in text
    # The products are listed with their zone, provider, parameters, output and prices.
    product = text.split('data-product="underwriting-health-check"', 1)[1].split("</article>", 1)[0]
    for shown in (
        "金融专区",
        "市卫生健康委员会",
        "citizen_id",
        "risk_tier",
        "2.00",
        "1.20",
        "0.80",
    ):
        assert shown in product, shown
    assert "第 100,001 次起" in product
    # The application passed both steps; its history says who decided.
    history = text.split('id="application-list"', 1)[1].split("</table>", 1)[0]
    assert "提供部门审核" in history and "health" in history and "大数据局审核" in history
    assert 'data-status="approved"' in history


def test_a_key_issued_through_the_form_is_shown_once_then_only_its_prefix(
    channel: Channel,
) -> None:
    ch = channel
    issued = post(ch.insurer, "/channel/keys", {"grants": [ch.grant], "label": "理赔系统"})
    assert issued.status_code == 201
    assert issued.headers["cache-control"] == "no-store"
    assert "此密钥只显示这一次" in issued.text
    found = SECRET.search(issued.text)
    assert found is not None
    secret = found.group(1)
    prefix = secret.split("_")[1]
    console = page(ch.insurer, "/channel").text
    assert secret not in console and secret.split("_", 2)[2] not in console
    row = console.split(f'<tr data-prefix="{prefix}">', 1)[1].split("</tr>", 1)[0]
    assert f"shk_{prefix}_…" in row and "理赔系统" in row
    # The key works at the gateway (the patient authorises the insurer first).
    consent(ch)
    assert check(ch, key=secret).status_code == 200
    # Rotating shows the new secret once; the old one stops at once.
    # Rotating and revoking ask first; the question changes nothing.
    asked = post(ch.insurer, f"/channel/keys/{prefix}/rotate", {})
    assert (
        asked.status_code == 200
        and f"轮换后旧密钥 shk_{prefix}_…（理赔系统）立即停用" in asked.text
    )
    assert check(ch, key=secret).status_code == 200
    rotated = post(ch.insurer, f"/channel/keys/{prefix}/rotate", {"confirm": "yes"})
    assert rotated.status_code == 201 and 'id="rotated"' in rotated.text
    new = SECRET.search(rotated.text)
    assert new is not None and new.group(1) != secret
    assert check(ch, key=secret).json()["reason"] == "key-revoked"
    assert check(ch, key=new.group(1)).status_code == 200
    # Revoking through the page.
    new_prefix = new.group(1).split("_")[1]
    asked = post(ch.insurer, f"/channel/keys/{new_prefix}/revoke", {})
    assert asked.status_code == 200 and "撤销后不能恢复" in asked.text
    assert check(ch, key=new.group(1)).status_code == 200
    revoked = post(ch.insurer, f"/channel/keys/{new_prefix}/revoke", {"confirm": "yes"})
    assert revoked.status_code == 303
    row = page(ch.insurer, "/channel").text.split(f'<tr data-prefix="{new_prefix}">', 1)[1]
    assert 'data-status="revoked"' in row.split("</tr>", 1)[0]
    assert check(ch, key=new.group(1)).json()["reason"] == "key-revoked"
    twice = post(ch.insurer, f"/channel/keys/{new_prefix}/revoke", {})
    assert twice.status_code == 409
    assert re.search(r'id="form-error" data-form="keyrow:[0-9a-f]+">该密钥已撤销<', twice.text)
    unknown = post(ch.insurer, "/channel/keys/00000000/revoke", {})
    assert unknown.status_code == 404 and "没有密钥 00000000" in unknown.text


def test_the_review_queue_shows_an_officer_only_what_his_department_provides(
    channel: Channel,
) -> None:
    ch = channel
    bank = register_bank(ch.app, ch.bureau)
    health_code = apply_through_form(ch.insurer, "underwriting-health-check", "重大疾病保险核保")
    tax_code = apply_through_form(bank, "enterprise-credit-check", "小微企业流动资金贷款审批")
    tax = as_user(ch.app, "tax")
    officer = as_user(ch.app, "officer")  # 人社局: provides neither

    health_queue = page(ch.health, "/channel/review").text
    assert queue_codes(health_queue) == [health_code]
    assert tax_code not in health_queue
    assert 'data-step="department"' in health_queue
    assert 'name="rate_per_minute"' not in health_queue  # the department sets no limits
    assert queue_codes(page(tax, "/channel/review").text) == [tax_code]
    hrss = page(officer, "/channel/review").text
    assert queue_codes(hrss) == [] and health_code not in hrss and tax_code not in hrss
    # The bureau waits for the departments, but sees every application.
    bureau = page(ch.bureau, "/channel/review").text
    assert queue_codes(bureau) == []
    assert health_code in bureau and tax_code in bureau

    approved = post(
        ch.health, f"/channel/review/applications/{health_code}", {"decision": "approve"}
    )
    assert approved.status_code == 303
    after = page(ch.health, "/channel/review").text
    assert queue_codes(after) == [] and health_code in after  # under 我审核过的申请
    bureau = page(ch.bureau, "/channel/review").text
    assert queue_codes(bureau) == [health_code]
    assert 'data-step="bureau"' in bureau and 'name="monthly_quota"' in bureau
    granted = post(
        ch.bureau,
        f"/channel/review/applications/{health_code}",
        {"decision": "approve", "rate_per_minute": "12", "monthly_quota": "5,000"},
    )
    assert granted.status_code == 303
    grant = next(
        g
        for g in ch.insurer.get("/api/v1/channel/grants").json()
        if g["purpose"] == "重大疾病保险核保"
    )
    assert (grant["rate_per_minute"], grant["monthly_quota"]) == (12, 5000)

    # The tax officer returns the bank's application; the bank completes it and it comes back.
    returned = post(
        tax,
        f"/channel/review/applications/{tax_code}",
        {"decision": "return", "reason": "补充授权书"},
    )
    assert returned.status_code == 303
    console = page(bank, "/channel").text
    assert 'data-status="returned"' in console and "补充授权书" in console
    again = post(
        bank,
        f"/channel/applications/{tax_code}/resubmit",
        {"legal_basis": "《个人信息保护法》第十三条；企业授权书已上传", "note": "已补充"},
    )
    assert again.status_code == 303
    assert queue_codes(page(tax, "/channel/review").text) == [tax_code]

    # The bureau revokes a grant through its list.
    asked = post(
        ch.bureau, f"/channel/review/grants/{grant['code']}/revoke", {"reason": "业务终止"}
    )
    assert asked.status_code == 200
    assert "不能再以“重大疾病保险核保”调用" in asked.text and "业务终止" in asked.text
    assert ch.insurer.get("/api/v1/channel/grants").json()[0]["status"] == "active"
    revoked = post(
        ch.bureau,
        f"/channel/review/grants/{grant['code']}/revoke",
        {"reason": "业务终止", "confirm": "yes"},
    )
    assert revoked.status_code == 303
    grants = page(ch.insurer, "/channel").text.split('id="grant-list"', 1)[1]
    row = grants.split(f'<tr data-code="{grant["code"]}">', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="revoked"' in row and "业务终止" in row


def test_a_bad_form_value_comes_back_with_the_fields_reason(channel: Channel) -> None:
    ch = channel
    form = {
        "products": ["underwriting-health-check"],
        "purpose": "寿险核保",
        "legal_basis": "《个人信息保护法》第十三条",
        "usage": "industry",
        "days": "0",
    }
    refused = post(ch.insurer, "/channel/applications", form)
    assert refused.status_code == 422
    assert field_error(refused.text, "days") == "1-1098"
    assert 'data-form="application"' in refused.text and "使用期限（天）：1-1098" in refused.text
    assert 'name="purpose" value="寿险核保"' in refused.text  # what was typed stays
    assert 'value="underwriting-health-check" checked' in refused.text
    words = post(ch.insurer, "/channel/applications", {**form, "days": "三十"})
    assert words.status_code == 422
    assert field_error(words.text, "days") == "必须是整数"
    outside = post(
        ch.insurer,
        "/channel/applications",
        {**form, "days": "30", "products": ["district-statistics"]},
    )
    assert outside.status_code == 422
    assert "须先加入公共治理专区" in field_error(outside.text, "products")
    assert not [
        a
        for a in ch.insurer.get("/api/v1/channel/applications").json()
        if a["purpose"] == "寿险核保"
    ]

    nameless = post(ch.insurer, "/channel/keys", {"grants": [ch.grant], "label": " "})
    assert nameless.status_code == 422 and field_error(nameless.text, "label") == "1 到 64 个字"

    bank = as_user(ch.app, "bank")
    registration = {
        "name": "青岛示范银行",
        "type": "bank",
        "contact_name": "赵经理",
        "contact_phone": "0532-80001234",
        "contact_email": "not-an-address",
    }
    bad = post(bank, "/channel/register", registration)
    assert bad.status_code == 422
    assert field_error(bad.text, "contact_email") == "请填写电子邮箱地址"
    assert 'value="青岛示范银行"' in bad.text
    assert 'id="register-form"' in page(bank, "/channel").text  # nothing was registered

    # A review that rejects without a reason, or with a quota that is not a number.
    code = apply_through_form(ch.insurer, "underwriting-health-check", "团体保险核保")
    silent = post(ch.health, f"/channel/review/applications/{code}", {"decision": "reject"})
    assert silent.status_code == 422
    assert field_error(silent.text, "reason") == "请写明不予通过的理由"
    asked = post(
        ch.health,
        f"/channel/review/applications/{code}",
        {"decision": "reject", "reason": "用途过宽"},
    )
    assert asked.status_code == 200 and "以“团体保险核保”使用" in asked.text
    assert code in queue_codes(page(ch.health, "/channel/review").text)  # still to review
    assert (
        post(ch.health, f"/channel/review/applications/{code}", {"decision": "approve"}).status_code
        == 303
    )
    many = post(
        ch.bureau,
        f"/channel/review/applications/{code}",
        {"decision": "approve", "monthly_quota": "lots"},
    )
    assert many.status_code == 422
    assert field_error(many.text, "monthly_quota") == "必须是整数"
    assert 'value="lots"' in many.text

    month = page(ch.insurer, "/channel?month=2026-13")
    assert (
        month.status_code == 422 and field_error(month.text, "month") == "应写成“年-月”，如 2024-05"
    )
    days = page(ch.bureau, "/channel/dashboard?days=9999")
    assert days.status_code == 422 and field_error(days.text, "days") == "1-366"


def test_the_statement_usage_and_dashboard_count_the_calls(channel: Channel) -> None:
    ch = channel
    consent(ch)
    assert [check(ch).status_code for _ in range(2)] == [200, 200]
    assert check(ch, purpose="营销推广").json()["reason"] == "purpose-mismatch"
    console = page(ch.insurer, "/channel").text
    assert re.search(r'id="usage-answered">2<', console)
    assert re.search(r'id="usage-refused">1<', console)
    assert re.search(r'id="statement-calls">2<', console)
    assert re.search(r'id="statement-total">4.00<', console)
    assert re.search(r'id="statement-refused">1<', console)
    assert re.search(r'data-band="1–10000">.*?<td class="num amount">4.00</td>', console, re.S)
    assert 'id="usage-chart"' in console and "/static/vendor/echarts.min.js" in console
    empty = page(ch.insurer, "/channel?month=2020-01").text
    assert re.search(r'id="statement-total">0.00<', empty)

    dashboard = page(ch.bureau, "/channel/dashboard?days=7")
    assert dashboard.status_code == 200
    text = dashboard.text
    assert table_count(text, "by-zone", "finance") == 2
    assert table_count(text, "by-product", "underwriting-health-check") == 2
    assert table_count(text, "by-consumer", "青岛示范人寿保险股份有限公司") == 2
    assert table_count(text, "refusals", "purpose-mismatch") == 1
    assert table_count(text, "refusals", "consent-refused") == 0
    assert "用途与批准的用途不符" in text


def test_who_may_open_which_page(app: FastAPI) -> None:
    citizen = as_user(app, "citizen")
    assert page(citizen, "/channel").status_code == 403
    assert citizen.get("/channel").status_code == 403
    assert page(citizen, "/channel/review").status_code == 403
    anonymous = TestClient(app)
    to_login = page(anonymous, "/channel")
    assert to_login.status_code == 303 and to_login.headers["location"].startswith("/login")
    operator = as_user(app, "operator")
    sent = page(operator, "/channel")
    assert sent.status_code == 303 and sent.headers["location"] == "/channel/review"
    assert page(operator, "/channel/dashboard").status_code == 200
    assert page(as_user(app, "health"), "/channel/dashboard").status_code == 403
    insurer = as_user(app, "insurer")
    assert page(insurer, "/channel/review").status_code == 403
    assert page(insurer, "/channel/dashboard").status_code == 403
    # Every page speaks English too.
    english = page(as_user(app, "bank"), "/channel?lang=en")
    assert english.status_code == 200 and "Register as a data consumer" in english.text
    assert "Data channel · review queue" in page(operator, "/channel/review?lang=en").text
    assert "Data channel · dashboard" in page(operator, "/channel/dashboard?lang=en").text
    # The navigation links the module once its pages are mounted.
    assert 'href="/channel" data-module="channel"' in page(citizen, "/").text
