"""The web shell: pages, static assets served locally, health, docs, language, request ids, logs."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from shuhui.web.nav import MODULES
from tests.fixtures import login

NAV_ZH = ["数据目录", "数据通道", "智慧审批", "智慧人社", "企业服务", "安全监测", "领导驾驶舱"]


def test_home_page_is_chinese_with_the_module_navigation(client: TestClient) -> None:
    page = client.get("/", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    nav = re.search(r'<nav class="modules".*?</nav>', page.text, re.S)
    assert nav is not None
    assert [m for m in NAV_ZH if m in nav.group(0)] == NAV_ZH
    assert [m.zh for m in MODULES] == NAV_ZH
    assert "市南区" in page.text and "370285" in page.text


def test_english_is_available_and_remembered(client: TestClient) -> None:
    page = client.get("/?lang=en")
    assert '<html lang="en">' in page.text
    assert "Data catalog" in page.text
    assert "数据目录" not in page.text
    # The choice is kept in a cookie, so the next page stays English without the parameter.
    assert '<html lang="en">' in client.get("/login").text
    assert '<html lang="zh-CN">' in client.get("/?lang=zh-CN").text


def test_unknown_language_falls_back_to_chinese(client: TestClient) -> None:
    assert '<html lang="zh-CN">' in client.get("/?lang=tlh").text


def test_elder_mode_is_switched_from_the_header_and_remembered(client: TestClient) -> None:
    page = client.get("/login?next=%2Fadmin%2Fusers")
    assert '<html lang="zh-CN">' in page.text
    # The switch keeps the address, like the language link.
    assert 'href="/login?next=%2Fadmin%2Fusers&amp;elder=on"' in page.text
    assert ">长者模式</a>" in page.text

    on = client.get("/?elder=on")
    assert '<html lang="zh-CN" class="elder">' in on.text
    assert on.cookies.get("shuhui_elder") == "on"
    assert 'href="/?elder=off"' in on.text and ">标准版</a>" in on.text
    # Kept in a cookie: the next page is large too, and so is an error page.
    assert 'class="elder"' in client.get("/login").text
    assert 'class="elder"' in client.get("/no/such/page", headers={"accept": "text/html"}).text
    # Nonsense changes nothing; "off" switches it off for good.
    assert 'class="elder"' in client.get("/?elder=maybe").text
    assert 'class="elder"' not in client.get("/?elder=off").text
    assert 'class="elder"' not in client.get("/login").text


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        ("/static/vendor/htmx.min.js", b"htmx"),
        ("/static/vendor/echarts.min.js", b"echarts"),
        ("/static/css/shuhui.css", b"--blue"),
        ("/static/js/shuhui.js", b"aria-expanded"),
        ("/static/docs/swagger-ui-bundle.js", b"SwaggerUI"),
    ],
)
def test_assets_are_served_locally(client: TestClient, path: str, marker: bytes) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert marker in response.content[:200_000] or marker in response.content


def test_pages_reference_no_external_hosts(client: TestClient) -> None:
    # The machine is offline: every script and stylesheet must come from this server.
    for path in ("/", "/login", "/docs"):
        html = client.get(path).text
        for ref in re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html):
            assert not re.match(r"^(https?:)?//", ref), f"{path} loads {ref}"


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "data_dir": "ok"}


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    for path in ("/api/v1/me", "/api/v1/ids/check", "/api/v1/regions", "/healthz"):
        assert path in spec["paths"]
    assert "/login" not in spec["paths"]  # pages are not API
    assert "SwaggerUIBundle" in client.get("/docs").text


def test_request_id_is_echoed_or_minted(client: TestClient) -> None:
    given = client.get("/healthz", headers={"x-request-id": "abc12345-trace"})
    assert given.headers["x-request-id"] == "abc12345-trace"
    minted = client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", minted.headers["x-request-id"])


def test_access_log_is_json_with_request_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.get("/healthz", headers={"x-request-id": "log-check-0001"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    entry = next(e for e in lines if e.get("request_id") == "log-check-0001")
    assert entry["logger"] == "shuhui.access"
    assert entry["path"] == "/healthz"
    assert entry["status"] == 200


def test_navigation_shows_who_is_logged_in(client: TestClient) -> None:
    login(client, "citizen")
    page = client.get("/")
    assert "张小青" in page.text
    assert 'action="/logout"' in page.text
    account = client.get("/account").text
    assert "370202********1233" in account  # the ID is masked on screen


def test_identifier_check_api(client: TestClient) -> None:
    response = client.post(
        "/api/v1/ids/check", json={"values": ["11010519491231002X", "110105194912310021"]}
    )
    assert response.status_code == 200
    good, bad = response.json()
    assert good == {
        "value": "11010519491231002X",
        "valid": True,
        "kind": "citizen_id",
        "reason": None,
    }
    assert bad["valid"] is False
    assert "校验位" in bad["reason"]


def test_regions_api_lists_the_ten_districts(client: TestClient) -> None:
    regions = client.get("/api/v1/regions").json()
    assert len(regions) == 10
    assert regions[0] == {
        "code": "370202",
        "name": "市南区",
        "name_en": "Shinan District",
        "kind": "district",
    }


def test_problem_types_are_documented(client: TestClient) -> None:
    page = client.get("/problems/validation")
    assert page.status_code == 200
    assert "输入校验失败" in page.text
    assert client.get("/problems/no-such-thing").status_code == 404


def test_responses_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_error_page_still_knows_who_is_logged_in(client: TestClient) -> None:
    login(client, "citizen")
    page = client.get("/no/such/page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "张小青" in page.text


def test_language_link_keeps_the_rest_of_the_address(client: TestClient) -> None:
    page = client.get("/login?next=%2Fadmin%2Fusers")
    assert 'href="/login?next=%2Fadmin%2Fusers&amp;lang=en"' in page.text
