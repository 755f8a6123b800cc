"""End-to-end in Chromium: a visitor searches the data catalog, narrows by a facet, opens a
dataset and sees its schema and open sample rows."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.mark.browser
def test_search_facet_and_open_a_dataset(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/")
    page.locator("nav.modules").get_by_role("link", name="数据目录").click()
    expect(page.locator("h1")).to_have_text("公共数据资源目录")
    page.get_by_label("搜索").fill("社保")
    page.locator("#catalog-search").get_by_role("button", name="搜索").click()
    expect(page.locator("li[data-name='insurance_enrolments']")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "catalog-search.png"), full_page=True)

    page.goto(f"{server_url}/catalog")
    page.locator("ul[data-facet='open_level']").get_by_role("link", name="无条件开放").click()
    expect(page.locator("#result-count")).to_have_text("找到 4 个数据集")
    page.get_by_role("link", name="企业登记信息").click()
    expect(page.locator("h1")).to_have_text("企业登记信息")
    expect(page.locator("#items tr[data-personal='true']")).to_have_count(2)
    expect(page.locator("#sample tbody tr")).to_have_count(10)
    expect(page.locator("#sample thead")).not_to_contain_text("legal_rep_citizen_id")
    page.screenshot(path=str(ARTIFACTS / "catalog-dataset.png"), full_page=True)
