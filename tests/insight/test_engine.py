"""The one engine of every figure: facts summed for a scope, broken down by district, month and
group, the previous period, the target, cells below k withheld, facts kept per source version
and refreshed by policy; the content checked whole."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from shuhui.core.content import DEFAULT_DIR, ContentError
from shuhui.core.facts import Fact
from shuhui.core.suppression import withheld
from shuhui.insight import content, engine
from shuhui.insight.content import Indicator
from shuhui.insight.engine import Computed, Scope, Sources

CITY_CONTENT = DEFAULT_DIR
SHINAN, SHIBEI = "370202", "370203"
NOW = datetime(2026, 12, 1, 8, 0)


def indicator(**changes: object) -> Indicator:
    base = content.indicators(CITY_CONTENT, "qingdao")["startups"]
    return replace(base, **changes)  # type: ignore[arg-type]


def kept(facts: list[Fact], sources: Sources | None = None) -> Computed:
    return Computed(tuple(facts), sources or Sources((("t", 1),), None), NOW, 0.01)


def test_a_sum_over_the_latest_twelve_months_against_the_twelve_before() -> None:
    facts = [Fact(1, district=SHINAN, month=date(2025, m, 1)) for m in range(1, 13)] + [
        Fact(2, district=SHIBEI, month=date(2026, m, 1)) for m in range(1, 13)
    ]
    f = engine.figure(indicator(), kept(facts), Scope())
    assert (f.start, f.end) == (date(2026, 1, 1), date(2026, 12, 1))
    assert f.value == 24 and f.previous == 12 and f.change == 1.0
    by = {c.key: c.value for c in f.by_district}
    assert by[SHIBEI] == 24 and by[SHINAN] is None  # nothing there in these months
    assert [c.value for c in f.by_month] == [2] * 12
    assert f.by_month[0].label == "2026年1月" and f.by_month[0].label.en == "Jan 2026"


def test_a_district_and_a_time_range() -> None:
    facts = [Fact(m, district=SHINAN, month=date(2026, m, 1)) for m in range(1, 13)] + [
        Fact(100, district=SHIBEI, month=date(2026, 3, 1))
    ]
    f = engine.figure(indicator(), kept(facts), Scope(date(2026, 3, 1), date(2026, 5, 1), SHINAN))
    assert f.value == 3 + 4 + 5
    assert f.previous == 1 + 2  # December to February: nothing, then January and February
    g = engine.figure(indicator(), kept(facts), Scope(date(2026, 4, 1), date(2026, 5, 1), SHINAN))
    assert g.value == 9 and g.previous == 2 + 3
    # The district map always shows every district, for the chosen months.
    assert {c.key: c.value for c in f.by_district}[SHIBEI] == 100


def test_a_ratio_with_its_scale_and_target() -> None:
    ind = content.indicators(CITY_CONTENT, "qingdao")["pension-coverage"]
    facts = [Fact(90, base=100, district=SHINAN), Fact(45, base=50, district=SHIBEI)]
    f = engine.figure(ind, kept(facts), Scope(), today=date(2026, 12, 6))
    assert f.value == pytest.approx(90.0)
    assert f.start is None and f.by_month == ()  # a stock: as of now
    assert f.target is not None and f.target.value == 95
    assert f.attainment == pytest.approx(90 / 95)


def test_cells_below_k_people_are_withheld_never_shown_as_zero() -> None:
    ind = content.indicators(CITY_CONTENT, "qingdao")["pension-coverage"]
    facts = [
        Fact(95, base=100, district=SHINAN),  # 5 not insured: withheld (the complement)
        Fact(30, base=30, district=SHIBEI),  # 0 not insured: shown
        Fact(4, base=9, district="370211"),  # a group of 9: withheld
    ]
    f = engine.figure(ind, kept(facts), Scope())
    cells = {c.key: c for c in f.by_district}
    assert cells[SHINAN].value is None and cells[SHINAN].withheld
    assert cells[SHIBEI].value == pytest.approx(100.0) and not cells[SHIBEI].withheld
    assert cells["370211"].withheld
    assert f.value == pytest.approx(129 / 139 * 100)  # the whole city is 139 people, 10 not
    alone = engine.figure(ind, kept(facts), Scope(district="370211"))
    assert alone.value is None and alone.withheld


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_withheld_is_the_channel_rule(count: int, extra: int) -> None:
    of = count + extra
    expected = 0 < count < 10 or 0 < of < 10 or 0 < of - count < 10
    assert withheld(count, of=of) is expected
    assert withheld(count) is (0 < count < 10)


def test_facts_are_kept_per_source_version_and_refreshed_by_policy() -> None:
    calls: list[int] = []
    version = [1]

    def sources(_: Indicator) -> Sources:
        return Sources((("t", version[0]),), None)

    def compute(_: Indicator) -> tuple[list[Fact], Sources]:
        calls.append(1)
        return [Fact(len(calls))], sources(_)

    place = f"test-{id(calls)}"
    live, daily = indicator(), indicator(code="daily-one", refresh="daily")
    for ind in (live, daily):
        engine.computed(place, ind, sources, compute, now=NOW)
        engine.computed(place, ind, sources, compute, now=NOW)
    assert len(calls) == 2  # once each
    version[0] = 2
    engine.computed(place, live, sources, compute, now=NOW)
    engine.computed(place, daily, sources, compute, now=NOW + timedelta(hours=2))
    assert len(calls) == 3  # the live one followed its table; the daily one waits a day
    engine.computed(place, daily, sources, compute, now=NOW + timedelta(days=1, minutes=1))
    assert len(calls) == 4
    engine.forget(place)
    engine.computed(place, live, sources, compute, now=NOW)
    assert len(calls) == 5


def _content_with(tmp_path: Path, change: dict[str, object]) -> Path:
    city = tmp_path / "qingdao" / "insight"
    (city / "indicators").mkdir(parents=True)
    source = CITY_CONTENT / "qingdao" / "insight"
    (city / "maps.yaml").write_text((source / "maps.yaml").read_text(encoding="utf-8"))
    doc = yaml.safe_load((source / "indicators" / "decisions.yaml").read_text(encoding="utf-8"))
    first = doc["items"][0]
    for key, value in change.items():
        if value is None:
            first.pop(key, None)
        else:
            first[key] = value
    (city / "indicators" / "decisions.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    content.maps.cache_clear()
    content.indicators.cache_clear()
    return tmp_path


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"owner": None}, "startups.owner"),
        ({"map": "nowhere"}, "startups.map"),
        ({"tables": None}, "startups.tables"),
        ({"measure": "x.y"}, "startups"),  # both a formula and a measure
        ({"aggregate": "median"}, "startups.aggregate"),
        ({"charts": ["pie"]}, "startups.charts"),
        ({"definition": {"zh": "只有中文"}}, "startups.definition"),
        ({"targets": [{"year": 2026, "value": "很多"}]}, "startups.targets[0].value"),
    ],
)
def test_content_that_breaks_a_rule_is_refused_naming_the_field(
    tmp_path: Path, change: dict[str, object], where: str
) -> None:
    folder = _content_with(tmp_path, change)
    try:
        with pytest.raises(ContentError) as refused:
            content.indicators(folder, "qingdao")
        assert refused.value.where == where
    finally:
        content.maps.cache_clear()
        content.indicators.cache_clear()


def test_every_indicator_of_the_city_loads_and_names_its_owner_department() -> None:
    every = content.indicators(CITY_CONTENT, "qingdao")
    departments = yaml.safe_load(
        (CITY_CONTENT / "qingdao" / "departments.yaml").read_text(encoding="utf-8")
    )
    units = yaml.safe_load(
        (CITY_CONTENT / "qingdao" / "monitor" / "units.yaml").read_text(encoding="utf-8")
    )
    # The departments of the city, the monitoring centre and responder units (the alarms'
    # figures are theirs) and the departments of the city's accounts (the approval bureau).
    names = {d["name"]["zh"] for d in departments["items"]}
    names |= {u["department"] for u in units["items"] if "department" in u}
    accounts = yaml.safe_load(
        (CITY_CONTENT / "qingdao" / "demo-accounts.yaml").read_text(encoding="utf-8")
    )
    names |= {a["department"] for a in accounts["items"] if "department" in a}
    assert every and all(ind.owner in names for ind in every.values()), [
        (i.code, i.owner) for i in every.values() if i.owner not in names
    ]
    maps = content.maps(CITY_CONTENT, "qingdao")
    assert list(maps)[:5] == ["data-assets", "services", "risk", "operations", "decisions"]


def test_a_forecast_of_the_shown_months_and_none_from_hidden_ones() -> None:
    ind = indicator(forecast=True)
    facts = [Fact(10 + m, district=SHINAN, month=date(2026, m, 1)) for m in range(1, 11)]
    facts.remove(facts[4])  # no enterprise set up in May: a 0, not a gap
    f = engine.figure(ind, kept(facts), Scope())
    assert f.forecast is not None
    assert [m for m, _ in f.forecast.points] == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
    assert f.forecast.mae is not None and len(f.forecast.backtest) == 6
    people = indicator(forecast=True, people=True)
    hidden = engine.figure(people, kept([*facts, Fact(3, month=date(2026, 5, 1))]), Scope())
    assert hidden.forecast is None and "不做预测" in hidden.notes[-1]
    plain = engine.figure(indicator(forecast=False), kept(facts), Scope())
    assert plain.forecast is None  # not asked for


def test_facts_of_one_district_month_and_group_are_kept_as_one() -> None:
    """A formula counting by day gives many facts a month; kept, they are one a month (a page
    then sums thousands, not hundreds of thousands), and every figure is the same."""
    by_day = [
        Fact(1, district=SHINAN, month=date(2026, 3, 1), group="a"),
        Fact(2, district=SHINAN, month=date(2026, 3, 1), group="a"),
        Fact(4, base=8, district=SHIBEI, month=date(2026, 3, 1)),
        Fact(5, base=10, district=SHIBEI, month=date(2026, 3, 1)),
        Fact(7, district=SHINAN, month=date(2026, 2, 1), group="a"),
    ]
    kept_facts = engine.merged(by_day)
    assert kept_facts == (
        Fact(7, None, SHINAN, date(2026, 2, 1), "a"),
        Fact(3, None, SHINAN, date(2026, 3, 1), "a"),
        Fact(9, 18, SHIBEI, date(2026, 3, 1), None),
    )
    ind = indicator(forecast=False)
    for scope in (Scope(), Scope(district=SHINAN), Scope(date(2026, 3, 1), date(2026, 3, 1))):
        assert engine.figure(ind, kept(list(by_day)), scope) == engine.figure(
            ind, kept(list(kept_facts)), scope
        )
