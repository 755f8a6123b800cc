"""End-to-end in Chromium: the demo enterprise's operator opens 人社政企直连, pastes the HR
system's SM2 public key (a wrong one first, refused in Chinese) and gets the API key once; the
HR system sends a signed batch of hires with good and bad records (and later the corrected ones
with a good one again); the operator sees each batch, each refused record's reason in Chinese,
and every good record accepted exactly once."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.core.display import mask_citizen_id
from shuhui.core.settings import Settings
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, SECRET_KEY, log_in
from tests.browser.test_layout import _context, check_page
from tests.hrss.test_link import city, hire

SAMPLE_CLIENT = REPO_ROOT / "docs" / "hrss_link_client.py"


def english_words(text: str) -> list[str]:
    """Latin words a person would read as developer English (a batch id's two letters aside)."""
    return re.findall(r"[A-Za-z_]{3,}", text)


def send(
    browser: Browser, server_url: str, key: str, private_pem: Path, batch: dict[str, Any]
) -> tuple[int, Any]:
    """What the enterprise's HR system does: the batch signed by the OpenSSL CLI as the sample
    client signs it, posted with the key — from outside any login (a context of its own)."""
    body = json.dumps(batch, ensure_ascii=False).encode()
    request_for = runpy.run_path(str(SAMPLE_CLIENT))["request_for"]
    address, headers = request_for(server_url, key, private_pem, body)
    system = browser.new_context()
    try:
        answer = system.request.post(address, data=body, headers=headers)
        assert answer.status in (200, 201), answer.text()
        return answer.status, answer.json()
    finally:
        system.close()


def batch_row(page: Page, batch_id: str) -> list[str]:
    row = page.locator("#batches tbody tr").filter(has=page.get_by_role("link", name=batch_id))
    return [c.strip() for c in row.locator("td").all_inner_texts()]


@pytest.mark.browser
def test_the_operator_connects_and_sees_each_record_result_in_chinese(
    browser: Browser, server_url: str, server_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=server_dir, secret_key=SECRET_KEY)
    # Residents of the served demo city, as the API tests pick them.
    _, _, people = city(settings)
    private = SM2PrivateKey.generate()
    private_pem = tmp_path / "sm2.pem"
    private_pem.write_text(private.to_pem())

    context = _context(browser)  # axe-core in every page it opens
    operator = context.new_page()
    log_in(operator, server_url, "enterprise", DEMO_PASSWORD)
    operator.goto(f"{server_url}/hrss/link")
    expect(operator.locator("h1")).to_have_text("人社政企直连")
    expect(operator.locator("#connected")).to_have_count(0)
    expect(operator.locator("#batches")).to_contain_text("还没有收到批次")

    # Something that is not a public key is refused, the field named in Chinese.
    connect = operator.locator("#connect")
    connect.locator("textarea[name=public_key_pem]").fill("not a key")
    connect.get_by_role("button", name="接入并生成接口密钥").click()
    expect(connect.locator(".field-error")).to_have_text(
        "应为 SM2 公钥（PEM 格式，BEGIN PUBLIC KEY）"
    )
    expect(operator.locator("#new-key")).to_have_count(0)

    # The real one: the API key, shown this once, bound to the enterprise.
    connect.locator("textarea[name=public_key_pem]").fill(private.public_key.to_pem())
    connect.get_by_role("button", name="接入并生成接口密钥").click()
    key = operator.locator("#new-key code").inner_text().strip()
    assert re.fullmatch(r"hl_[A-Za-z0-9_-]{32}", key), key
    expect(operator.locator("#connected")).to_contain_text(key[:10])
    operator.goto(f"{server_url}/hrss/link")
    expect(operator.locator("#new-key")).to_have_count(0)
    expect(operator.locator("#connected")).to_contain_text(key[:10])
    expect(operator.locator("#connect button[type=submit]")).to_have_text("更换公钥并重新生成密钥")

    # The HR system sends hires: one good, a wrong check digit, the good one again, a bad wage.
    good, other, fixable = people[0], people[1], people[2]
    wrong_digit = other[:17] + ("0" if other[17] != "0" else "1")
    first = {
        "batch_id": "RZ-1",
        "kind": "hire",
        "records": [
            hire(good, name="甲"),
            hire(wrong_digit, name="乙"),
            hire(good, name="甲"),
            hire(fixable, name="丙", monthly_wage_yuan="-5"),
        ],
    }
    status, answer = send(browser, server_url, key, private_pem, first)
    assert status == 201
    assert [r["status"] for r in answer["results"]] == ["accepted", *["refused"] * 3]
    # The refused one corrected and sent alone, the accepted one sent again by mistake.
    second = {
        "batch_id": "RZ-2",
        "kind": "hire",
        "records": [hire(fixable, name="丙"), hire(good, name="甲")],
    }
    status, answer = send(browser, server_url, key, private_pem, second)
    assert status == 201
    assert [r["status"] for r in answer["results"]] == ["accepted", "refused"]
    # The first batch resent as it was: its stored result, no third batch.
    status, again = send(browser, server_url, key, private_pem, first)
    assert status == 200 and again["already_received"] is True

    operator.reload()
    rows = operator.locator("#batches tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("RZ-2")  # newest first
    assert batch_row(operator, "RZ-1")[1:5] == ["招用（就业登记、参保增员）", "4", "1", "3"]
    assert batch_row(operator, "RZ-2")[1:5] == ["招用（就业登记、参保增员）", "2", "1", "1"]
    assert not english_words(operator.locator("#batches").inner_text())
    problems = check_page(operator, "enterprise-hrss-link")

    # One batch: each refused record with its reason in Chinese; the good one is not among them.
    operator.get_by_role("link", name="RZ-1").click()
    expect(operator).to_have_url(re.compile(r"/hrss/link/batches/RZ-1$"))
    expect(operator.locator("#accepted")).to_have_text("1")
    expect(operator.locator("#refused")).to_have_text("3")
    refused = operator.locator("#batch tbody tr")
    expect(refused).to_have_count(3)
    expect(operator.locator("#batch tr[data-position='1']")).to_have_count(0)
    expect(operator.locator("#batch tr[data-position='2']")).to_contain_text("公民身份号码无效")
    expect(operator.locator("#batch tr[data-position='3']")).to_contain_text(
        "与本批次中前面的记录重复"
    )
    expect(operator.locator("#batch tr[data-position='3']")).to_contain_text(mask_citizen_id(good))
    expect(operator.locator("#batch tr[data-position='4']")).to_contain_text(
        "金额应大于 0 且不超过 1,000,000 元"
    )
    text = operator.locator("main").inner_text()
    assert good not in text  # IDs are masked, as lists show them
    assert not english_words(text.replace("RZ-1", "")), english_words(text)
    problems += check_page(operator, "enterprise-hrss-link-batch")

    # The corrected batch: the fixed record accepted; the good one, sent again, not twice.
    operator.goto(f"{server_url}/hrss/link/batches/RZ-2")
    expect(operator.locator("#accepted")).to_have_text("1")
    expect(operator.locator("#refused")).to_have_text("1")
    again_row = operator.locator("#batch tr[data-position='2']")
    expect(again_row).to_contain_text("该记录此前已受理，不必重复报送")
    expect(again_row).to_contain_text(mask_citizen_id(good))
    expect(operator.locator("#batch tr[data-position='1']")).to_have_count(0)
    assert not problems, "\n".join(problems)
    context.close()
