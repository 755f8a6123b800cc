"""End-to-end: a person's view of the pages, through headless Chromium against a real server."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Response, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, demo_identity, log_in, submit
from tests.fixtures import DEMO_ACCOUNTS

MODULES_ZH = ["数据目录", "数据通道", "智慧审批", "智慧人社", "企业服务", "安全监测", "领导驾驶舱"]
ARTIFACTS = REPO_ROOT / "test-artifacts"


def _path(url: str) -> str:
    return urlsplit(url).path


@pytest.mark.browser
def test_home_page_shows_the_modules_and_loads_its_assets(page: Page, server_url: str) -> None:
    failed: list[str] = []

    def on_failed(request: Request) -> None:
        if request.url.startswith(server_url):
            failed.append(f"{request.url}: {request.failure}")

    def on_response(response: Response) -> None:
        same_origin = response.url.startswith(server_url)
        if same_origin and _path(response.url).startswith("/static/") and response.status >= 400:
            failed.append(f"{response.url}: HTTP {response.status}")

    page.on("requestfailed", on_failed)
    page.on("response", on_response)

    response = page.goto(f"{server_url}/", wait_until="load")
    assert response is not None and response.status == 200
    expect(page).to_have_title(re.compile("数慧"))
    nav = page.locator("nav.modules")
    for name in MODULES_ZH:
        expect(nav.get_by_text(name, exact=True)).to_be_visible()
    assert nav.locator("a, span").all_inner_texts() == MODULES_ZH
    assert page.evaluate("typeof htmx") == "object"
    assert failed == []
    # `shuhui demo` built the demo city; the home page counts its tables and rows.
    expect(page.locator("#table-count")).to_have_text("29")
    rows = int(page.locator("#row-total").inner_text().replace(",", ""))
    assert rows > 500_000


@pytest.mark.browser
def test_login_account_and_logout(page: Page, server_url: str, server_dir: Path) -> None:
    # `shuhui demo` made the citizen account a resident of the demo city: her name and ID.
    name, citizen_id, _ = demo_identity(server_dir, "citizen")
    assert citizen_id is not None
    header = page.locator("header.topbar")

    page.goto(f"{server_url}/login")
    submit(page, "citizen", DEMO_PASSWORD)
    expect(page).to_have_url(f"{server_url}/")
    expect(header.locator(".who")).to_have_text(name)
    expect(header.get_by_role("button", name="退出")).to_be_visible()
    expect(header.get_by_role("link", name="登录")).to_have_count(0)
    session = [c for c in page.context.cookies() if c["name"] == "shuhui_session"]
    assert len(session) == 1 and session[0]["secure"] and session[0]["httpOnly"]

    page.goto(f"{server_url}/account")
    expect(page.locator("main .tag", has_text="市民")).to_be_visible()
    masked = f"{citizen_id[:6]}********{citizen_id[-4:]}"
    expect(page.locator("main")).to_contain_text(masked)
    expect(page.locator("main")).not_to_contain_text(citizen_id)

    page.goto(f"{server_url}/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home-logged-in.png"), full_page=True)

    header.get_by_role("button", name="退出").click()
    expect(header.get_by_role("link", name="登录")).to_be_visible()
    expect(header.locator(".who")).to_have_count(0)
    page.goto(f"{server_url}/account")
    expect(page).to_have_url(f"{server_url}/login?next=%2Faccount")


@pytest.mark.browser
def test_wrong_password_is_refused(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/login")
    with page.expect_response(
        lambda r: _path(r.url) == "/login" and r.request.method == "POST"
    ) as posted:
        submit(page, "citizen", "not-the-password")
    assert posted.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    expect(page).to_have_url(f"{server_url}/login")
    expect(page.get_by_label("用户名")).to_have_value("citizen")
    expect(page.locator("header.topbar").get_by_role("link", name="登录")).to_be_visible()


@pytest.mark.browser
def test_admin_page_asks_for_login_then_lists_the_accounts(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/admin/users")
    expect(page).to_have_url(f"{server_url}/login?next=%2Fadmin%2Fusers")

    submit(page, "admin", DEMO_PASSWORD)
    expect(page).to_have_url(f"{server_url}/admin/users")
    usernames = page.locator("table.grid tbody tr td:first-child")
    expect(usernames.filter(has_text=re.compile(r"^operator$"))).to_have_count(1)
    listed = usernames.all_inner_texts()
    # Every demo account, once; other browser tests on this server may have opened more
    # (the 政策找人 walk-through opens one for a resident).
    assert {a.username for a in DEMO_ACCOUNTS} <= set(listed)
    assert len(listed) == len(set(listed))


@pytest.mark.browser
def test_admin_page_is_forbidden_to_a_citizen(page: Page, server_url: str) -> None:
    log_in(page, server_url, "citizen", DEMO_PASSWORD)
    response = page.goto(f"{server_url}/admin/users")
    assert response is not None and response.status == 403
    expect(page).to_have_url(f"{server_url}/admin/users")
    expect(page.get_by_role("heading", level=1)).to_contain_text("无权访问")
    expect(page.locator("table.grid")).to_have_count(0)


@pytest.mark.browser
def test_language_switch_persists(page: Page, server_url: str) -> None:
    nav = page.locator("nav.modules")
    page.goto(f"{server_url}/")
    expect(nav.get_by_text("数据目录", exact=True)).to_be_visible()

    page.locator("header.topbar").get_by_role("link", name="English").click()
    expect(nav.get_by_text("Data catalog", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.goto(f"{server_url}/login")  # no ?lang= any more: the choice is remembered
    expect(nav.get_by_text("Data catalog", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Shuhui")

    page.locator("header.topbar").get_by_role("link", name="中文").click()
    expect(nav.get_by_text("数据目录", exact=True)).to_be_visible()
    page.goto(f"{server_url}/")
    expect(nav.get_by_text("数据目录", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


@pytest.mark.browser
def test_unknown_address_is_an_html_404_page(page: Page, server_url: str) -> None:
    response = page.goto(f"{server_url}/no-such-page")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("heading", level=1)).to_contain_text("未找到")
    expect(page.locator("header.topbar nav.modules")).to_be_visible()


def _rgba_pixels(png: bytes) -> list[bytes]:
    """The pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        chunk, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if chunk == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 4 if colour == 6 else 3
        elif chunk == b"IDAT":
            idat += data
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filt, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    return [bytes(r[x : x + channels]) for r in rows for x in range(0, stride, channels)]


def _cjk_families() -> set[str]:
    """Font families fontconfig says cover Chinese; the CSS font stack as a fallback."""
    families = {"PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei"}
    if shutil.which("fc-list"):
        listing = subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True
        ).stdout
        families |= {name.strip() for line in listing.splitlines() for name in line.split(",")}
    return families


@pytest.mark.browser
def test_chinese_renders_with_a_cjk_font(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/")
    brand = page.locator("header .brand-name")
    expect(brand).to_have_text("数慧")

    # The glyphs paint pixels: the element looks different once its text is made invisible.
    with_text = _rgba_pixels(brand.screenshot())
    brand.evaluate("el => { el.style.color = 'transparent'; }")
    without_text = _rgba_pixels(brand.screenshot())
    assert len(with_text) == len(without_text) > 0
    changed = sum(a != b for a, b in zip(with_text, without_text, strict=True))
    assert changed > len(with_text) * 0.05, f"only {changed} of {len(with_text)} pixels are text"

    # And they come from a font with Chinese glyphs, not from boxes of a last-resort font.
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "header .brand-name"})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    used = {f["familyName"] for f in fonts if f["glyphCount"] > 0}
    assert used, fonts
    assert used <= _cjk_families(), f"rendered with {used}"
