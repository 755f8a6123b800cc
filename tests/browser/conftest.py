"""Browser-test fixtures: one real server and one Chromium per session, a fresh page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.server import launch_chromium, running_server


@pytest.fixture(scope="session")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served data directory (for a test that makes time pass in the server's database)."""
    return tmp_path_factory.mktemp("shuhui-data")


@pytest.fixture(scope="session")
def server_url(server_dir: Path, prepared_demo: Path) -> Iterator[str]:
    with running_server(server_dir, prepared=prepared_demo) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context: no cookies, no language choice carried over from other tests."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
