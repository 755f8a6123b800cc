"""Browser-test fixtures: one real server and one Chromium per session, a fresh page per test."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.server import launch_chromium, prepare_demo, running_server


@pytest.fixture(scope="session")
def prepared_demo(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The demo as ``shuhui demo`` leaves it, made once for the whole run — the first xdist
    worker to need it makes it, under a lock, in the folder the workers share — and copied for
    each server (the session's, and a module's own where its tests must not meet the others');
    nothing serves or changes it."""
    if worker_id == "master":
        made = tmp_path_factory.mktemp("shuhui-demo")
        prepare_demo(made)
        return made
    shared = tmp_path_factory.getbasetemp().parent
    made = shared / "shuhui-demo"
    with (shared / "shuhui-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "shuhui-demo.ready").exists():
            shutil.rmtree(made, ignore_errors=True)
            prepare_demo(made)
            (shared / "shuhui-demo.ready").touch()
    return made


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
