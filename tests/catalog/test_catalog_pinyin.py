"""Searching the catalog as people type: pinyin, initials, mixed queries, and suggestions when
nothing is found."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin
from sqlalchemy import select, update

from shuhui.catalog import pinyin, search
from shuhui.catalog.models import Dataset

# Common characters, each with a plain reading (no ê, no character pypinyin cannot read).
HANZI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(
    lambda c: re.fullmatch("[a-z]+", lazy_pinyin(c, style=Style.NORMAL)[0]) is not None
)


def index_of(app: FastAPI) -> search.SearchIndex:
    with app.state.session_factory() as db:
        return search.SearchIndex.build(db, app.state.city_catalog.synonyms)


def finder(index: search.SearchIndex) -> tuple[list[int], dict[int, str]]:
    ids = [int(i) for i in index.ids]
    return ids, dict(zip(ids, index.names, strict=True))


def names(index: search.SearchIndex, q: str, rows: int = 1000) -> list[str]:
    _, name_of = finder(index)
    return [name_of[i] for i in index.search(search.Query(q=q, rows=rows)).dataset_ids]


def test_pinyin_reads_phrases_and_initials() -> None:
    assert (pinyin.full("社保"), pinyin.initials("社保")) == ("shebao", "sb")
    assert pinyin.full("公积金") == "gongjijin" and pinyin.initials("公积金") == "gjj"
    assert pinyin.full("银行") == "yinhang" and pinyin.full("行政") == "xingzheng"
    assert pinyin.full("绿地") == "lvdi"
    assert pinyin.full("社保card卡") == "shebaoka"
    known = {"xi", "an", "xian", "she", "bao", "xin"}
    assert pinyin.syllable_ends("xian", known)[0][0] == [2, 4]
    assert pinyin.syllable_ends("shebaoq", known)[0][0] == []
    ends, begun = pinyin.syllable_ends("shebaox", known, pinyin.prefixes(known))
    assert ends[0] == [3] and begun[6] and not begun[3]
    assert pinyin.latin_letters("SheBao") == "shebao"
    assert pinyin.latin_letters("s") is None and pinyin.latin_letters("2024") is None


def test_pinyin_and_initials_find_social_insurance(catalogued: FastAPI) -> None:
    index = index_of(catalogued)
    social = set(names(index, "社保"))
    for typed in ("shebao", "sb", "SheBao", "shehuibaoxian", "shbx"):
        found = set(names(index, typed))
        assert {"insurance_enrolments", "insurance_contributions"} <= found, typed
        assert "transit_trips" not in found, typed
    assert set(names(index, "shebao")) == social
    # Two syllables read as one word, as people type them.
    assert set(names(index, "yanglao")) >= {"pension_recipients", "pension_payments"}
    # One letter or one syllable alone is not read as pinyin.
    assert names(index, "bao") == []


def test_gongjijin_and_gjj_find_the_housing_fund(scaled: FastAPI) -> None:
    index = index_of(scaled)
    with scaled.state.session_factory() as db:
        fund = set(db.scalars(select(Dataset.name).where(Dataset.title.contains("公积金"))))
    assert fund
    chinese = set(names(index, "公积金", rows=2000))
    assert chinese >= fund
    assert set(names(index, "gongjijin", rows=2000)) == chinese
    assert set(names(index, "gjj", rows=2000)) >= fund
    # As it is being typed: the last syllable only begun.
    for typed in ("gongj", "gongjij", "gongjiji", "zhufanggongjij"):
        assert set(names(index, typed, rows=2000)) >= fund, typed


def test_mixed_queries_take_each_part_as_a_word(scaled: FastAPI) -> None:
    index = index_of(scaled)
    assert names(index, "qiye yongdian") == ["enterprise_electricity"]
    assert names(index, "enterprise yongdian") == ["enterprise_electricity"]
    district = names(index, "市南区shebao", rows=2000)
    assert district == names(index, "市南区 shebao", rows=2000)
    with scaled.state.session_factory() as db:
        titles = {n: t for n, t in db.execute(select(Dataset.name, Dataset.title))}
    assert district and all("市南区" in titles[n] for n in district)
    assert search.split_words("市南shebao 2024年") == ["市南", "shebao", "2024年"]


def test_a_word_hit_ranks_above_pinyin_hits(catalogued: FastAPI) -> None:
    assert names(index_of(catalogued), "shebao 缴费")[:1] == ["insurance_contributions"]
    with catalogued.state.session_factory() as db, db.begin():
        db.execute(
            update(Dataset)
            .where(Dataset.name == "transit_trips")
            .values(description="Rides with a card named baoxian.")
        )
    index = index_of(catalogued)
    found = names(index, "baoxian")
    # The English word in one description comes first; the titles and keywords reading
    # 保险 follow.
    assert found[0] == "transit_trips"
    assert {"insurance_enrolments", "insurance_contributions"} <= set(found[1:])
    # A word with no pinyin reading finds what it found before.
    assert set(names(index, "enterprise")) == {
        "enterprises",
        "enterprise_tax",
        "enterprise_electricity",
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.text(HANZI, min_size=2, max_size=12), tail=st.sampled_from(["", "（2024年）", " data"])
)
def test_the_pinyin_of_any_indexed_title_finds_it(
    catalogued: FastAPI, title: str, tail: str
) -> None:
    """Two characters or more: one syllable alone is not read as pinyin."""
    with catalogued.state.session_factory() as db:
        db.execute(
            update(Dataset).where(Dataset.name == "transit_trips").values(title=title + tail)
        )
        db.flush()
        index = search.SearchIndex.build(db, catalogued.state.city_catalog.synonyms)
        db.rollback()
    syllables = lazy_pinyin(title, style=Style.NORMAL)
    for typed in ("".join(syllables), "".join(s[0] for s in syllables)):
        assert "transit_trips" in names(index, typed), typed
        assert "transit_trips" in names(index, typed.upper()), typed


def page_of(app: FastAPI, q: str) -> str:
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/catalog", params={"q": q})
    assert response.status_code == 200
    return response.text


def suggestions_on(page: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" class="suggestion">([^<]+)</a>', page)


def test_a_search_with_no_result_suggests_near_terms(catalogued: FastAPI) -> None:
    # A wrong character of the same sound, a typo in an English word, a typo in pinyin,
    # two words that are never together.
    for typed, near in (
        ("养老报险", "养老保险"),
        ("enterprize", "enterprise"),
        ("shebap", "社保"),
        ("残疾人 地铁", "残疾人"),
    ):
        page = page_of(catalogued, typed)
        assert f"没有找到“{typed}”。您是不是要找：" in page, typed
        shown = suggestions_on(page)
        assert near in shown, (typed, shown)
        # Every suggestion finds something, and the empty facet headings are gone.
        for suggestion in shown:
            assert re.search(r'<li data-name="', page_of(catalogued, suggestion)), suggestion
        assert 'data-facet="groups"' not in page and 'id="result-count"' not in page
    nothing = page_of(catalogued, "zzzzqqqq")
    assert "没有找到“zzzzqqqq”。请换一个词" in nothing and not suggestions_on(nothing)
    found = page_of(catalogued, "shebao")
    assert 'id="result-count"' in found and 'data-facet="groups"' in found
    assert "没有找到" not in found


def test_the_ckan_api_answers_pinyin_and_keeps_its_shape(catalogued: FastAPI) -> None:
    client = TestClient(catalogued, raise_server_exceptions=False)
    found = client.get("/api/3/action/package_search", params={"q": "sb", "rows": 100}).json()[
        "result"
    ]
    assert {"insurance_enrolments", "insurance_contributions"} <= {
        p["name"] for p in found["results"]
    }
    empty = client.get("/api/3/action/package_search", params={"q": "养老报险"}).json()
    assert set(empty["result"]) == {"count", "facets", "results", "sort", "search_facets"}
    assert empty["result"]["count"] == 0
