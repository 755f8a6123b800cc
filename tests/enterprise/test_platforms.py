"""The platforms and solutions as content: the city's catalogue loads whole, a bad one is
refused naming the item and the field; the catalogue over the API and on its page."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.core.content import DEFAULT_DIR, ContentError, Items, load_items, parse_items
from shuhui.enterprise import platforms
from shuhui.enterprise.access import NEEDS_FILE, NEEDS_KIND
from shuhui.enterprise.platforms import CAPABILITY_CODES, NEED_KINDS, PlatformCatalogue
from shuhui.standard.vocabularies import INDUSTRY_SECTIONS
from tests.fixtures import as_user
from tests.test_plain_chinese import page_offences

CITY = DEFAULT_DIR / "qingdao"
API = "/api/v1/enterprise/platforms"
SECTIONS = {code for code, _ in INDUSTRY_SECTIONS}


# --- the city's catalogue ---------------------------------------------------------------------


def test_the_city_has_one_super_and_39_specialised_platforms() -> None:
    catalogue = platforms.load(CITY)
    assert len(catalogue.platforms) == 40
    assert [p.code for p in catalogue.platforms if p.kind == "super"] == ["cosmoplat"]
    assert catalogue.platform("cosmoplat") is catalogue.platforms[0]
    assert tuple(catalogue.capabilities) == CAPABILITY_CODES
    assert catalogue.capabilities["mes"] == "生产过程管控"
    solutions = catalogue.solutions()
    assert len({s.code for s in solutions}) == len(solutions) >= 80
    for p in catalogue.platforms:
        assert len(p.solutions) >= 2, p.code
        assert p.reference and p.operator and p.field
        assert set(p.industries) <= SECTIONS
        for s in p.solutions:
            assert s.platform == p.code and catalogue.solution(s.code) is s
            assert set(s.capabilities) <= set(CAPABILITY_CODES)
            assert set(s.need_kinds) <= set(NEED_KINDS)
            assert 0 <= s.price_min_fen <= s.price_max_fen
            assert s.customers and s.problem
    # Every need kind an enterprise may post has a solution that answers it.
    assert {k for s in solutions for k in s.need_kinds} == set(NEED_KINDS)
    assert catalogue.solution("nothing") is None and catalogue.platform("nothing") is None


def test_the_need_kinds_are_the_needs_contents() -> None:
    kinds = set(load_items(CITY / NEEDS_FILE, NEEDS_KIND).by_code) - {"bureau"}
    assert set(NEED_KINDS) == kinds


def test_the_targets_and_the_city_they_are_scaled_by() -> None:
    plan = platforms.enablement_plan(CITY)
    assert plan.real_enterprises == 600_000
    first = plan.target(2023)
    assert first is not None and first.newly_enabled == 20_000 and not first.inferred
    assert all(t.inferred for t in plan.targets if t.year > 2023)
    assert [(f.platform, f.value) for f in plan.figures] == [("cosmoplat", 900_000)]


def test_browsing_keeps_the_solutions_that_fit() -> None:
    catalogue = platforms.load(CITY)
    assert platforms.browse(catalogue) == catalogue.platforms
    shown = platforms.browse(catalogue, industry="C", capability="quality")
    assert shown and all(
        "C" in s.industries and "quality" in s.capabilities for p in shown for s in p.solutions
    )
    assert [p.code for p in platforms.browse(catalogue, kind="super")] == ["cosmoplat"]
    assert platforms.browse(catalogue, industry="T") == ()


# --- refusals -------------------------------------------------------------------------------


def _files() -> tuple[dict[str, Any], dict[str, Any]]:
    capabilities = yaml.safe_load((CITY / platforms.CAPABILITIES_FILE).read_text("utf-8"))
    listed = yaml.safe_load((CITY / platforms.PLATFORMS_FILE).read_text("utf-8"))
    return capabilities, listed


CAPABILITIES, PLATFORMS = _files()


def _build(capabilities: dict[str, Any], listed: dict[str, Any]) -> PlatformCatalogue:
    return platforms.build(
        _items(capabilities, platforms.CAPABILITIES_KIND), _items(listed, platforms.PLATFORMS_KIND)
    )


def _items(doc: dict[str, Any], kind: str) -> Items:
    return parse_items(Path(f"{kind}.yaml"), yaml.safe_dump(doc, allow_unicode=True), kind)


def _refused(capabilities: dict[str, Any], listed: dict[str, Any]) -> ContentError:
    with pytest.raises(ContentError) as refused:
        _build(capabilities, listed)
    return refused.value


def test_the_files_as_dumped_load() -> None:
    assert _build(CAPABILITIES, PLATFORMS) == platforms.load(CITY)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: p["items"][3]["capabilities"].append("magic"), "sailun-rubberlink.capabilities"),
        (
            lambda p: p["items"][0]["solutions"][1]["industries"].append("Z"),
            "cosmoplat.solutions.cosmoplat-smart-factory.industries",
        ),
        (
            lambda p: p["items"][1]["solutions"][0]["need_kinds"].append("luck"),
            "lemondou.solutions.lemondou-sourcing.need_kinds",
        ),
        (
            lambda p: p["items"][2]["solutions"][0].update(code="lemondou-sourcing"),
            "kute.solutions.lemondou-sourcing.code",
        ),
        (lambda p: p["items"][5].update(kind="giant"), "mesnac.kind"),
        (
            lambda p: p["items"][0]["solutions"][0].update(price_max_fen=1),
            "cosmoplat.solutions.cosmoplat-customisation.price_max_fen",
        ),
        (
            lambda p: p["items"][0]["solutions"][0].update(price_min_fen=True),
            "cosmoplat.solutions.cosmoplat-customisation.price_min_fen",
        ),
        (lambda p: p["items"][7].update(solutions=[]), "qingdao-port.solutions"),
        (lambda p: p["items"][8].pop("operator"), "crrc-sifang.operator"),
        (
            lambda p: p["items"][9]["solutions"][1].update(customers=[]),
            "teld.solutions.teld-plant-microgrid.customers",
        ),
        (
            lambda p: p["items"][4]["solutions"][0]["capabilities"].append("equipment"),
            "doublestar-tyre.solutions.doublestar-fleet-tyres.capabilities[3]",
        ),
    ],
)
def test_a_bad_catalogue_is_refused_naming_the_item_and_field(change: Any, where: str) -> None:
    listed = copy.deepcopy(PLATFORMS)
    change(listed)
    assert where in _refused(CAPABILITIES, listed).where


def test_a_duplicate_platform_is_refused() -> None:
    listed = copy.deepcopy(PLATFORMS)
    listed["items"].append(copy.deepcopy(listed["items"][1]))
    assert "duplicate code" in _refused(CAPABILITIES, listed).reason


def test_the_capability_vocabulary_is_fixed() -> None:
    fewer = copy.deepcopy(CAPABILITIES)
    fewer["items"] = [i for i in fewer["items"] if i["code"] != "talent"]
    assert "talent" in _refused(fewer, PLATFORMS).reason
    more = copy.deepcopy(CAPABILITIES)
    more["items"].append({**more["items"][0], "code": "telepathy"})
    assert _refused(more, PLATFORMS).where == "telepathy"


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=10**12),
    st.text(max_size=8),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
PLATFORM_KEYS = ("kind", "industries", "field", "operator", "capabilities", "solutions")
SOLUTION_KEYS = (
    "code", "name", "problem", "industries", "capabilities", "need_kinds", "price_band",
    "price_min_fen", "price_max_fen", "customers",
)  # fmt: skip


# Each example loads the whole catalogue of 40 platforms (about 0.2 s): 30 of them cover every
# key once or more, across platforms.
@settings(max_examples=30)
@given(
    platform=st.integers(min_value=0, max_value=39),
    key=st.sampled_from(PLATFORM_KEYS + SOLUTION_KEYS),
    value=JUNK,
)
def test_any_value_anywhere_loads_or_is_refused_by_name(
    platform: int, key: str, value: Any
) -> None:
    listed = copy.deepcopy(PLATFORMS)
    item = listed["items"][platform]
    target = item if key in PLATFORM_KEYS else item["solutions"][0]
    target[key] = value
    try:
        catalogue = _build(CAPABILITIES, listed)
    except ContentError as refused:
        assert refused.where.startswith(item["code"]) or refused.where == "items", refused
        return
    # What loads is whole: every code it holds is one of the vocabularies.
    for p in catalogue.platforms:
        assert set(p.industries) <= SECTIONS and set(p.capabilities) <= set(CAPABILITY_CODES)
        for s in p.solutions:
            assert set(s.need_kinds) <= set(NEED_KINDS) and s.price_min_fen <= s.price_max_fen


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def site(app: FastAPI) -> FastAPI:
    return app


def test_any_enterprise_or_officer_browses_the_platforms(site: FastAPI) -> None:
    enterprise = as_user(site, "enterprise")
    everything = enterprise.get(API)
    assert everything.status_code == 200, everything.text
    assert len(everything.json()) == 40
    first = everything.json()[0]
    assert first["code"] == "cosmoplat" and first["kind"] == "super"
    assert first["solutions"][0]["platform"] == "cosmoplat"
    fitting = enterprise.get(API, params={"industry": "C", "capability": "mes"}).json()
    assert fitting and all(
        "C" in s["industries"] and "mes" in s["capabilities"]
        for p in fitting
        for s in p["solutions"]
    )
    supers = enterprise.get(API, params={"kind": "super"}).json()
    assert [p["code"] for p in supers] == ["cosmoplat"]
    one = as_user(site, "industry").get(f"{API}/kute")
    assert one.status_code == 200 and one.json()["name_zh"] == "酷特智能个性化定制平台"


def test_bad_filters_and_codes_are_refused_by_name(site: FastAPI) -> None:
    officer = as_user(site, "officer")
    unknown = officer.get(API, params={"capability": "magic"})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["capability"]
    assert officer.get(API, params={"industry": "Z"}).status_code == 422
    assert officer.get(API, params={"kind": "giant"}).status_code == 422
    missing = officer.get(f"{API}/nothing-here")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "code"
    assert officer.get(f"{API}/Bad Code!").status_code == 422


def test_citizens_and_strangers_may_not(site: FastAPI) -> None:
    assert as_user(site, "citizen").get(API).status_code == 403
    stranger = TestClient(site, raise_server_exceptions=False)
    assert stranger.get(API).status_code == 401
    page = stranger.get(
        "/enterprise/platforms", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code in (303, 307, 401)


def test_the_page_lists_and_filters_in_plain_chinese(site: FastAPI) -> None:
    enterprise = as_user(site, "enterprise")
    page = enterprise.get("/enterprise/platforms")
    assert page.status_code == 200, page.text
    assert len(re.findall(r'data-platform="', page.text)) == 40
    assert '<th scope="col">' in page.text and "生产过程管控" in page.text
    offences, _ = page_offences("/enterprise/platforms", page)
    assert not offences
    narrowed = enterprise.get(
        "/enterprise/platforms", params={"industry": "G", "kind": "specialised"}
    )
    assert narrowed.status_code == 200
    shown = re.findall(r'data-platform="([^"]+)"', narrowed.text)
    assert shown and "cosmoplat" not in shown and "qingdao-port" in shown
    found = re.search(r'id="platform-count">(\d+)<', narrowed.text)
    assert found and int(found.group(1)) == len(shown)
    bad = enterprise.get("/enterprise/platforms", params={"capability": "magic"})
    assert bad.status_code == 422 and 'id="filter-error"' in bad.text
    assert len(re.findall(r'data-platform="', bad.text)) == 40
