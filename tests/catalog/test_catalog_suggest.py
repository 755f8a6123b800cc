"""The catalog search box's suggestions as people type: GET /api/v1/catalog/suggest answers up to
eight dataset titles for Chinese, pinyin (also half-typed) and initials, nothing for nothing, and
a problem naming the field for a query too long to be one."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient


def suggest(client: TestClient, q: str) -> list[str]:
    answer = client.get("/api/v1/catalog/suggest", params={"q": q})
    assert answer.status_code == 200, answer.text
    assert answer.json()["q"] == q
    return [s["title"] for s in answer.json()["suggestions"]]


def test_chinese_pinyin_and_initials_suggest_the_same_titles(catalogued: FastAPI) -> None:
    client = TestClient(catalogued)
    chinese = suggest(client, "社保")
    assert chinese and len(chinese) <= 8 and len(set(chinese)) == len(chinese)
    assert all(isinstance(t, str) and t for t in chinese)
    assert "社会保险缴费明细" in chinese
    # Pinyin and its initials find it too (ranked by the page's search); half-typed pinyin
    # finds titles among the same ones (社保待遇发放账户 spells 社保 itself, and comes first),
    # and those of 设备 (shebei), which "sheb" begins as well.
    for typed in ("shebao", "sb"):
        assert "社会保险缴费明细" in suggest(client, typed), typed
    half = suggest(client, "sheb")
    assert half and set(half) & set(chinese)
    assert set(half) <= set(chinese) | set(suggest(client, "设备"))
    # Each suggestion is a dataset the page finds and links.
    first = client.get("/api/v1/catalog/suggest", params={"q": "社保"}).json()["suggestions"][0]
    assert client.get(f"/catalog/datasets/{first['name']}").status_code == 200


def test_at_most_eight_and_nothing_for_nothing(catalogued: FastAPI) -> None:
    client = TestClient(catalogued)
    assert suggest(client, "") == [] and suggest(client, "   ") == []
    assert suggest(client, "qzxqzxqzx") == []
    many = client.get("/catalog").text.count('<li data-name="')
    assert many > 8  # the catalog has more datasets than a list shows
    assert len(suggest(client, "数据")) <= 8


def test_a_query_too_long_is_refused_as_a_problem(catalogued: FastAPI) -> None:
    client = TestClient(catalogued)
    refused = client.get("/api/v1/catalog/suggest", params={"q": "社" * 41})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert any(e["field"] in ("q", "query.q") for e in body["errors"]), body


def test_the_search_box_asks_for_suggestions_and_the_facets_do_not_skip_a_level(
    catalogued: FastAPI,
) -> None:
    page = TestClient(catalogued).get("/catalog").text
    assert 'list="catalog-suggestions"' in page and 'data-suggest="/api/v1/catalog/suggest"' in page
    assert '<datalist id="catalog-suggestions">' in page
    # h1, then the facet headings (h2), then each dataset (h3): no level skipped.
    h1, h2, h3 = page.index("<h1"), page.index("<h2"), page.index("<h3")
    assert h1 < h2 < h3
