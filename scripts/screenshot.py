"""Saves the README's picture of the home page, as the demo officer sees it.

    .venv/bin/python -m scripts.screenshot [OUTPUT]      (default: docs/images/home.png)

Run from the repository root (``make screenshot``), so the browser tests' helpers import.

Starts a throwaway demo server in a temporary data directory, logs in as ``officer`` through
the login form in headless Chromium, and saves a 1280x800 screenshot of the home page.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import ViewportSize, sync_playwright
from tests.browser.server import launch_chromium, log_in, running_server

from shuhui.trust.identity.demo import DEMO_PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "images" / "home.png"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


def main(output: Path = DEFAULT_OUTPUT) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="shuhui-screenshot-") as data_dir,
        running_server(Path(data_dir)) as base_url,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
            page = context.new_page()
            log_in(page, base_url, "officer", DEMO_PASSWORD)
            page.goto(f"{base_url}/", wait_until="networkidle")
            if page.locator("header .who").count() == 0:
                raise SystemExit("the home page does not show the officer as logged in")
            page.evaluate("document.fonts.ready.then(() => true)")
            page.screenshot(path=str(output))
        finally:
            browser.close()
    print(output)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUTPUT)
