"""End-to-end in Chromium, as a new user would: the person approaching retirement finds the
reminder in their messages, its button opens 退休一件事, they file the one form once; each
department decides its sub-case; one result notice arrives and the filing reads 已全部办结."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in

OFFICERS = {
    "青岛市人力资源和社会保障局": "officer",
    "青岛市医疗保障局": "medical",
    "青岛住房公积金管理中心": "fund",
}


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    return context.new_page()


def decide(page: Page, server_url: str, case_code: str) -> None:
    """The department's officer takes the case through its steps (their own session)."""
    for _ in range(6):
        tasks = [
            t
            for t in page.request.get(f"{server_url}/api/v1/approval/tasks").json()
            if t["case"]["code"] == case_code
        ]
        if not tasks:
            return
        task = tasks[0]
        token = page.evaluate(
            "() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"
        )
        headers = {"x-csrf-token": token}
        if task["role"] == "issue":
            done = page.request.post(
                f"{server_url}/api/v1/approval/cases/{case_code}/issue", headers=headers
            )
        else:
            outcome = {"accept": "accept", "review": "pass", "decide": "approve"}[task["role"]]
            done = page.request.post(
                f"{server_url}/api/v1/approval/tasks/{task['id']}",
                data={"outcome": outcome},
                headers=headers,
            )
            if done.status == 422 and task["role"] == "accept":  # an instant item decides
                done = page.request.post(
                    f"{server_url}/api/v1/approval/tasks/{task['id']}",
                    data={"outcome": "approve"},
                    headers=headers,
                )
        assert done.ok, done.text()


def fill(page: Page, field: dict[str, Any]) -> None:
    box = page.locator(f"#bundle-form [name='{field['name']}']")
    example = (field["schema"].get("examples") or [None])[0]
    if example is None:
        return
    if box.evaluate("e => e.tagName") == "SELECT":
        box.select_option(str(example).lower() if isinstance(example, bool) else str(example))
    else:
        box.fill(str(example))


@pytest.mark.browser
def test_reminded_files_retirement_once_and_gets_one_notice(
    browser: Browser, server_url: str
) -> None:
    retiree = new_page(browser)
    log_in(retiree, server_url, "retiree", DEMO_PASSWORD)
    retiree.goto(f"{server_url}/messages")
    retiree.get_by_role("link", name=re.compile("即将达到法定退休年龄")).first.click()
    retiree.locator("#message-action").click()
    expect(retiree).to_have_url(re.compile(r"/hrss/bundles/retirement$"))
    expect(retiree.locator("h1")).to_have_text("退休一件事")

    # What the platform filled is there; the person fills in the rest once.
    form = retiree.request.get(f"{server_url}/api/v1/hrss/bundles/retirement/form").json()
    assert any(f["value"] for f in form["form"])
    for field in form["form"]:
        if field["value"] is None and field["required"]:
            fill(retiree, field)
    retiree.get_by_role("button", name="一次提交").click()
    expect(retiree).to_have_url(re.compile(r"/hrss/bundle-cases/YJS-\d{8}-\d{6}$"))
    expect(retiree.locator("#overall")).to_have_text("办理中")
    rows = retiree.locator("#parts tbody tr")
    expect(rows).to_have_count(4)
    parts = [
        (
            rows.nth(i).locator("td").nth(1).inner_text(),
            rows.nth(i).locator("td").nth(2).inner_text(),
        )
        for i in range(4)
    ]

    # Each department decides its own part.
    desks: dict[str, Page] = {}
    for department, case_code in parts:
        if department not in desks:
            desks[department] = new_page(browser)
            log_in(desks[department], server_url, OFFICERS[department], DEMO_PASSWORD)
        decide(desks[department], server_url, case_code)

    retiree.reload()
    expect(retiree.locator("#overall")).to_have_text("已全部办结")
    retiree.goto(f"{server_url}/messages")
    notices = retiree.get_by_role("link", name=re.compile("退休一件事.*已全部办结"))
    expect(notices).to_have_count(1)
