"""Insight's "done when" in Chromium, over the served demo: the demo leader opens the dashboard
and each of the maps, and every chart draws data from the live modules (a chart drawn with
shapes, not an empty frame), with a screenshot of each; the pages pass axe-core and the layout
checks at desktop and phone width; a chart downloads as a PNG."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from shuhui.core.content import DEFAULT_DIR
from shuhui.insight import content
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in
from tests.browser.test_layout import SCREENSHOTS, _context, check_page

pytestmark = [pytest.mark.browser]

MAPS = list(content.maps(DEFAULT_DIR, "qingdao"))

# Every chart that says it was drawn, and whether its SVG holds shapes (a map's districts, a
# line's path, bars): what an empty chart lacks.
CHARTS = """() => Array.from(document.querySelectorAll('[data-insight]')).map(el => ({
  id: el.id,
  drawn: el.getAttribute('data-drawn'),
  shapes: el.querySelectorAll('svg path, svg rect').length,
  cells: JSON.parse(el.getAttribute('data-insight')).cells.filter(c => c.value !== null).length,
}))"""


def _charts(page: Page) -> list[dict[str, object]]:
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-insight]'))"
        ".every(el => el.hasAttribute('data-drawn'))",
        timeout=20_000,
    )
    found: list[dict[str, object]] = page.evaluate(CHARTS)
    return found


def test_the_leader_sees_every_map_and_the_dashboard_drawn(
    browser: Browser, server_url: str
) -> None:
    context = _context(browser)
    page = context.new_page()
    try:
        log_in(page, server_url, "leader", DEMO_PASSWORD)
        page.goto(f"{server_url}/dashboard")
        assert page.get_by_role("heading", name="数字青岛 · 领导驾驶舱").is_visible()
        drawn = _charts(page)
        assert drawn, "the dashboard draws no chart"
        problems = check_page(page, "leader-dashboard")
        empty: list[str] = []
        for code in MAPS:
            page.goto(f"{server_url}/insight/maps/{code}")
            charts = _charts(page)
            assert charts, f"map {code} draws no chart"
            empty += [
                f"{code}: {c['id']}" for c in charts if not c["cells"] or int(c["shapes"]) < 2
            ]
            problems += check_page(page, f"leader-map-{code}")
        assert not empty, f"charts with no data: {empty}"
        assert not problems, "\n".join(problems)
        # A chart as a picture, from the button under it.
        page.goto(f"{server_url}/insight/maps/decisions")
        _charts(page)
        button = page.locator("[data-png]").first
        with page.expect_download() as download:
            button.click()
        saved = SCREENSHOTS / f"insight-{download.value.suggested_filename}"
        download.value.save_as(saved)
        assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # "How is this computed?" from a figure.
        page.get_by_role("link", name="怎么算的？").first.click()
        assert page.get_by_role("heading", name="怎么算的").is_visible()
        assert page.get_by_text("口径").first.is_visible()
    finally:
        context.close()
