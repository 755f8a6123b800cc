"""Layout and accessibility in Chromium. Every page each demo role reaches from its home page,
followed link by link, is checked at desktop (1280 px) and phone (375 px) width: axe-core finds
no serious or critical violation, the page does not scroll sideways as a whole, nothing spills
out of its card, no table cell is squeezed below two characters and no header link wraps. The
phone header folds into a menu button (and stays a plain list without scripts), the funnel's
labels do not overlap, the asset page's accounting box stays in its card, and the elder-friendly
mode (适老化) is switched from the header and remembered.

The screenshots are saved as ``var/screenshots/<role>-<page>-<width>.png`` for a reviewer: of
every page with a problem, and with ``SHUHUI_SCREENSHOTS=all`` of every page checked here and by
the flows' own tests (a full-page picture at each width: some seventy pages, which the suite's
time can do without; the flows keep their one picture of a step worth seeing in
``test-artifacts/``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import Counter, deque
from collections.abc import Iterator
from html import unescape
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, demo_identity, log_in
from tests.fixtures import DEMO_ACCOUNTS

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
ALL_SCREENSHOTS = os.environ.get("SHUHUI_SCREENSHOTS") == "all"
DESKTOP, PHONE = 1280, 375
HEIGHT = 800
# axe-core as the axe-playwright-python package ships it (pinned in constraints.txt): no network.
AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")
# Not pages of ours (API answers, downloads, the third-party API explorer) or not a page at all.
SKIPPED_PREFIXES = ("/static/", "/api/", "/docs", "/openapi.json", "/logout", "/healthz", "/readyz")
DOWNLOADS = re.compile(r"\.(json|jsonld|ttl|csv|rdf|xml|svg|png|pem|zip)$")
# Many pages of one kind (datasets, campaigns, applications): a couple of each are enough.
PER_KIND = 2
MAX_PAGES = 30
# Pages whose own browser test checks each of them at both widths (tests/browser/test_insight.py:
# the dashboard and every map, heavy with charts): the crawl reaches them but does not check them
# again for every role that can.
CHECKED_ELSEWHERE = ("/dashboard", "/insight")
# The pages checked so far, by any role, by the address a link ended on (a page a visitor may not
# open ends on the login page). The home page is checked for each role, as each role's differs;
# any other page has one template whoever opens it, so the first role to reach it checks it (and
# a role's test run alone checks all it reaches). This keeps the walk near 35 checks, not 100.
CHECKED: set[str] = set()


def _one_account_per_role_set() -> list[str | None]:
    """A visitor (not logged in), then the first demo account of each set of roles."""
    chosen: dict[frozenset[str], str] = {}
    for account in DEMO_ACCOUNTS:
        chosen.setdefault(frozenset(str(r) for r in account.roles), account.username)
    return [None, *chosen.values()]


# Problems a person sees though axe cannot: returns short descriptions, empty when all is well.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth + 1) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth} px wide`);
  }
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (typeof el.className === "string" && el.className.trim()
       ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const clipped = (el, box) => {
    for (let p = el.parentElement; p && p !== box; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") { return true; }
    }
    return false;
  };
  document.querySelectorAll("main .panel, main .card, main .hero, main fieldset").forEach(box => {
    const edge = box.getBoundingClientRect().right + 1;
    for (const el of box.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > edge && !clipped(el, box)) {
        problems.push(`${name(el)} spills ${Math.round(r.right - edge)} px out of ${name(box)}`);
        break;
      }
    }
  });
  for (const cell of document.querySelectorAll("table.grid th, table.grid td")) {
    const text = cell.textContent.trim();
    if (text.length < 2 || cell.getClientRects().length === 0) { continue; }
    const style = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (inner < 1.9 * parseFloat(style.fontSize)) {
      const table = name(cell.closest("table"));
      problems.push(`a cell of ${table} is ${Math.round(inner)} px wide: “${text.slice(0, 16)}”`);
      break;
    }
  }
  // A header text on more than one line is how "one character per line" starts.
  const texts = document.createTreeWalker(document.querySelector("header"), NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    if (node.textContent.trim().length < 2) { continue; }
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
    if (lines.size > 1) {
      problems.push(`the header's “${node.textContent.trim()}” wraps over ${lines.size} lines`);
    }
  }
  return problems;
}"""

# Whether shuhui.js has marked each table that scrolls sideways as a region one can scroll by
# keyboard (and only those): its resize handler runs 150 ms after the last resize.
TABLES_MARKED = """() => Array.from(document.querySelectorAll(".table-wrap")).every(
  w => (w.scrollWidth > w.clientWidth + 1) === (w.getAttribute("tabindex") === "0"))"""

# The bounding boxes of the funnel chart's label texts (SVG), and of the chart.
FUNNEL_LABELS = """() => {
  const chart = document.getElementById("funnel-chart");
  const boxes = Array.from(chart.querySelectorAll("text"), t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  }).filter(b => b.text.trim() && b.right > b.left);
  const c = chart.getBoundingClientRect();
  return {chart: {left: c.left, right: c.right, top: c.top, bottom: c.bottom}, labels: boxes};
}"""


def _context(browser: Browser, width: int = DESKTOP, *, scripts: bool = True) -> BrowserContext:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": HEIGHT}, java_script_enabled=scripts
    )
    context.set_default_timeout(15_000)
    # axe-core in every page the context opens, before the page's own scripts run.
    context.add_init_script(AXE_SCRIPT)
    return context


def _axe_problems(page: Page) -> list[str]:
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(json.dumps(n["target"], ensure_ascii=False) for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def _screenshot_name(role: str, path: str) -> str:
    page_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", path).strip("-") or "home"
    return f"{role}-{page_name}"


def check_page(page: Page, name: str) -> list[str]:
    """axe and the layout checks at desktop then phone width, with a screenshot of a width with
    problems (of each width with ``SHUHUI_SCREENSHOTS=all``: dozens of full pages are not
    pictures anyone looks at unless something is wrong)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width in (DESKTOP, PHONE):
        if page.viewport_size != {"width": width, "height": HEIGHT}:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            # The scripts' resize handlers (tables, charts) run after a short pause; on a busy
            # machine the tables' later than that, so the check waits (a few seconds at most)
            # until each table that scrolls sideways is marked so — or axe says it is not.
            page.wait_for_timeout(250)
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(TABLES_MARKED, timeout=3_000)
        found = _axe_problems(page) + page.evaluate(LAYOUT_PROBLEMS)
        problems += [f"{name} at {width} px: {p}" for p in found]
        if found or ALL_SCREENSHOTS:
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})
    return problems


LINK = re.compile(r"<a\b[^>]*?\shref=\"([^\"]*)\"", re.IGNORECASE)


def _links(page: Page, path: str, server_url: str) -> tuple[str | None, list[str]]:
    """Where ``path`` lands and the links on it, as absolute addresses: a page to check is
    opened in Chromium (its links as the scripts leave them); a page already checked is only
    fetched over HTTP in the same session (its links as the server sends them): rendering it
    again, charts and all, is a second or two for nothing new. ``None``: not a page."""
    if _needs_check(path):
        response = page.goto(f"{server_url}{path}", wait_until="load")
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            return None, []
        hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        return urlsplit(page.url).path, hrefs
    # As a browser asks: the server answers problems as a page only to those who take HTML.
    fetched = page.request.get(f"{server_url}{path}", headers={"Accept": "text/html"})
    if not fetched.headers.get("content-type", "").startswith("text/html"):
        return None, []
    body = fetched.text()
    return urlsplit(fetched.url).path, [
        urljoin(fetched.url, unescape(h)) for h in LINK.findall(body)
    ]


def _needs_check(path: str) -> bool:
    return path == "/" or not (path in CHECKED or path.startswith(CHECKED_ELSEWHERE))


def reachable(page: Page, server_url: str) -> Iterator[str]:
    """The pages reachable by links from the home page, breadth first: each path once, at most
    a couple of each kind (``/catalog/datasets/…``), leaving out API answers and downloads.
    Yields the path each visit ended on, after any redirect; a page yielded to be checked is
    the one open in ``page``."""
    origin = urlsplit(server_url)
    queue: deque[str] = deque(["/"])
    seen = {"/"}
    per_kind: Counter[str] = Counter()
    shown = 0
    while queue and shown < MAX_PAGES:
        path = queue.popleft()
        landed, hrefs = _links(page, path, server_url)
        if landed is None:
            continue
        shown += 1
        seen.add(landed)
        yield landed
        for href in hrefs:
            target = urlsplit(href)
            found = target.path or "/"
            if (target.scheme, target.netloc) != (origin.scheme, origin.netloc) or found in seen:
                continue
            if found.startswith(SKIPPED_PREFIXES) or DOWNLOADS.search(found):
                continue
            kind = found.rsplit("/", 1)[0]
            if found.count("/") >= 3 or kind == "/problems":
                if per_kind[kind] >= PER_KIND:
                    continue
                per_kind[kind] += 1
            seen.add(found)
            queue.append(found)


@pytest.mark.browser
@pytest.mark.parametrize("username", _one_account_per_role_set(), ids=lambda u: u or "visitor")
def test_every_page_a_role_reaches_passes_axe_at_desktop_and_phone_width(
    browser: Browser, server_url: str, username: str | None
) -> None:
    context = _context(browser)
    page = context.new_page()
    if username is not None:
        log_in(page, server_url, username, DEMO_PASSWORD)
    problems: list[str] = []
    visited = []
    for path in reachable(page, server_url):
        visited.append(path)
        if not _needs_check(path):
            continue
        CHECKED.add(path)
        problems += check_page(page, _screenshot_name(username or "visitor", path))
    context.close()
    assert len(visited) >= 3, visited
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_phone_header_folds_into_a_menu(
    browser: Browser, server_url: str, server_dir: Path
) -> None:
    context = _context(browser, PHONE)
    page = context.new_page()
    log_in(page, server_url, "citizen", DEMO_PASSWORD)
    header = page.locator("header.topbar")
    toggle = header.get_by_role("button", name="菜单")
    nav = header.locator("nav.modules")

    # Folded: the brand and the button on one row, the modules and the account out of sight.
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(header.locator(".who")).to_be_hidden()
    box = header.bounding_box()
    assert box is not None and box["height"] < 70, box

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="数据目录")).to_be_visible()
    expect(header.locator(".who")).to_have_text(demo_identity(server_dir, "citizen")[0])
    assert page.evaluate(LAYOUT_PROBLEMS) == []
    page.screenshot(path=str(SCREENSHOTS / "citizen-menu-open-375.png"))

    # Escape folds it again and gives the focus back to the button.
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(nav).to_be_hidden()

    toggle.click()
    nav.get_by_role("link", name="数据目录").click()
    expect(page).to_have_url(f"{server_url}/catalog")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    context.close()

    # Without scripts there is no button: the modules are a plain list, each on one line.
    plain = _context(browser, PHONE, scripts=False).new_page()
    plain.goto(f"{server_url}/")
    expect(plain.locator("header .menu-toggle")).to_be_hidden()
    expect(plain.locator("nav.modules").get_by_role("link", name="数据目录")).to_be_visible()
    assert plain.evaluate(LAYOUT_PROBLEMS) == []
    plain.screenshot(path=str(SCREENSHOTS / "visitor-no-scripts-375.png"))
    plain.context.close()


@pytest.mark.browser
def test_elder_mode_is_switched_from_the_header_and_remembered(
    browser: Browser, server_url: str
) -> None:
    context = _context(browser)
    page = context.new_page()
    root_size = "() => getComputedStyle(document.documentElement).fontSize"
    page.goto(f"{server_url}/catalog")
    assert page.evaluate(root_size) == "16px"

    page.locator("header.topbar").get_by_role("link", name="长者模式").click()
    expect(page).to_have_url(re.compile(r"/catalog\?elder=on$"))
    expect(page.locator("html")).to_have_class("elder")
    assert page.evaluate(root_size) == "20px"
    assert {c["name"]: c["value"] for c in context.cookies()}.get("shuhui_elder") == "on"

    # Remembered on the next page; larger type still fits the phone and passes axe.
    page.goto(f"{server_url}/login")
    expect(page.locator("html")).to_have_class("elder")
    problems = check_page(page, "visitor-login-elder")
    page.goto(f"{server_url}/catalog")
    problems += check_page(page, "visitor-catalog-elder")
    assert not problems, "\n".join(problems)

    page.locator("header.topbar").get_by_role("link", name="标准版").click()
    expect(page.locator("html")).not_to_have_class("elder")
    page.goto(f"{server_url}/")
    assert page.evaluate(root_size) == "16px"
    context.close()


def _csrf(page: Page) -> str:
    token: str = page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))")[
        "X-CSRF-Token"
    ]
    return token


@pytest.mark.browser
def test_campaign_funnel_labels_do_not_overlap(browser: Browser, server_url: str) -> None:
    context = _context(browser)
    page = context.new_page()
    log_in(page, server_url, "civil", DEMO_PASSWORD)
    page.goto(f"{server_url}/hrss/campaigns")
    page.locator("#run-form select[name=rule]").select_option("elderly-allowance")
    page.locator("#run-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/hrss/campaigns/ZC-"))
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.wait_for_function("() => document.querySelectorAll('#funnel-chart text').length >= 4")
        page.wait_for_timeout(250)
        drawn = page.evaluate(FUNNEL_LABELS)
        labels, chart = drawn["labels"], drawn["chart"]
        assert len(labels) == 4, labels
        for i, a in enumerate(labels):
            # Inside the chart, and clear of every other label.
            assert chart["left"] <= a["left"] and a["right"] <= chart["right"] + 1, (width, a)
            for b in labels[i + 1 :]:
                apart = (
                    a["right"] <= b["left"]
                    or b["right"] <= a["left"]
                    or a["bottom"] <= b["top"]
                    or b["bottom"] <= a["top"]
                )
                assert apart, (width, a, b)
    page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})
    problems = check_page(page, "officer-hrss-campaign")
    assert not problems, "\n".join(problems)
    context.close()


@pytest.mark.browser
def test_the_asset_page_accounting_box_stays_in_its_card(browser: Browser, server_url: str) -> None:
    """A registered asset as its operator sees it: the valuation form with the accounting box,
    and the workings of a valuation, at both widths."""
    operator_context = _context(browser)
    operator = operator_context.new_page()
    log_in(operator, server_url, "operator", DEMO_PASSWORD)
    applied = operator.request.post(
        f"{server_url}/api/v1/assets",
        headers={"X-CSRF-Token": _csrf(operator)},
        data={
            "kind": "dataset",
            "dataset": "enterprise_electricity",
            "title": "企业月度用电量数据资源",
            "holder_name": "青岛市大数据发展管理局",
            "holder_code": "11370200MA69M3DT40",
            "rights": ["holding", "processing"],
            "sources": "国网青岛供电公司按月汇交的企业用电量。",
            "processing": "统一社会信用代码校验、去重、按月汇总。",
            "scenarios": "企业经营状况监测，普惠金融风险评估。",
        },
    )
    assert applied.status == 201, applied.text()
    code = applied.json()["code"]

    reviewer_context = _context(browser)
    reviewer = reviewer_context.new_page()
    # The demo's second operator reviews (nobody reviews their own application).
    log_in(reviewer, server_url, "operator2", DEMO_PASSWORD)
    accepted = reviewer.request.post(
        f"{server_url}/api/v1/assets/{code}/review",
        headers={"X-CSRF-Token": _csrf(reviewer)},
        data={"decision": "accept"},
    )
    assert accepted.status == 200, accepted.text()
    reviewer_context.close()

    operator.goto(f"{server_url}/catalog/assets/{code}")
    expect(operator.locator("#valuation-form")).to_be_visible()
    problems = check_page(operator, "operator-asset-registered")
    valued = operator.request.post(
        f"{server_url}/api/v1/assets/{code}/valuation",
        headers={"X-CSRF-Token": _csrf(operator)},
        data={"cost": {"acquisition": "100000", "processing": "50000"}, "useful_life_years": 5},
    )
    assert valued.status == 200, valued.text()
    operator.goto(f"{server_url}/catalog/assets/{code}")
    expect(operator.locator("#valuation-result")).to_be_visible()
    problems += check_page(operator, "operator-asset-valued")
    assert not problems, "\n".join(problems)
    operator_context.close()
