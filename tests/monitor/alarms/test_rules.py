"""The rule and unit files are read strictly: the city's load, and any broken rule refuses the
whole file naming the item and the field (hypothesis feeds the parser)."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.core.content import DEFAULT_DIR, ContentError
from shuhui.monitor.alarms.rules import KINDS, RULES_FILE, load_rules, load_units, parse_rules
from tests.monitor.alarms.conftest import TYPES

TEXT = (DEFAULT_DIR / "qingdao" / RULES_FILE).read_text(encoding="utf-8")
DOC: dict[str, Any] = yaml.safe_load(TEXT)
UNITS = set(load_units(DEFAULT_DIR, "qingdao"))
PATH = Path("alarm-rules.yaml")


def _parse(doc: dict[str, Any]) -> dict[str, Any]:
    return parse_rules(PATH, yaml.safe_dump(doc, allow_unicode=True), TYPES, UNITS)


def test_the_city_rules_cover_every_kind_scenario_and_level() -> None:
    rules = load_rules(DEFAULT_DIR, "qingdao", TYPES)
    assert {r.kind for r in rules.values()} == set(KINDS)
    assert {r.scenario for r in rules.values()} == {"high_rise", "forest", "hazchem"}
    assert {r.level for r in rules.values()} == {1, 2, 3, 4}
    assert all(r.reference for r in rules.values())
    gas = rules["hz-gas-first"].conditions[0]
    assert (gas.metric, gas.op, gas.value) == ("gas_lel", ">=", 25.0)
    units = load_units(DEFAULT_DIR, "qingdao")
    assert units["command-centre"].department == "青岛市应急管理局指挥中心"
    assert units["fire-rescue"].scenarios == ("high_rise",)


# (item index, field path, a bad value): each must be refused naming the item and the field.
BREAKS = [
    ("kind", "hourly"),
    ("level", 5),
    ("level", 0),
    ("level", True),
    ("scenario", "ocean"),
    ("metric", "radiation"),
    ("sensor_type", "toaster"),
    ("op", "=="),
    ("value", "high"),
    ("value", float("nan")),
    ("clear", {"after": -1, "then": "close"}),
    ("clear", {"after": 5, "then": "forget"}),
    ("escalate_after", 0),
    ("unit", "police"),
    ("surprise", 1),
]


@given(
    index=st.integers(min_value=0, max_value=len(DOC["items"]) - 1),
    broken=st.sampled_from(BREAKS),
)
@settings(max_examples=60, deadline=None)
def test_a_broken_rule_refuses_the_whole_file_naming_it(
    index: int, broken: tuple[str, Any]
) -> None:
    doc = copy.deepcopy(DOC)
    item = doc["items"][index]
    field, value = broken
    kind = item["kind"]
    if field in ("metric", "op", "value") and kind in ("silence", "correlation", "rate"):
        item = item["conditions"][0] if kind == "correlation" else item
        if kind == "silence" or (kind == "rate" and field == "value"):
            field = "intervals" if kind == "silence" else "per_minute"
            value = "fast"
    item[field] = value
    with pytest.raises(ContentError) as refused:
        _parse(doc)
    assert refused.value.where.startswith(doc["items"][index]["code"])


@given(st.text(max_size=200))
@settings(max_examples=100, deadline=None)
def test_any_text_is_read_or_refused_never_crashes(text: str) -> None:
    with contextlib.suppress(ContentError):
        parse_rules(PATH, text, TYPES, UNITS)


def test_a_correlation_needs_more_than_it_has_conditions() -> None:
    doc = copy.deepcopy(DOC)
    fire = next(i for i in doc["items"] if i["code"] == "hr-fire-confirmed")
    fire["need"] = 3
    with pytest.raises(ContentError, match=r"hr-fire-confirmed\.need"):
        _parse(doc)
    fire["need"] = 2
    fire["within_m"] = 100  # both a site and a distance
    with pytest.raises(ContentError, match=r"hr-fire-confirmed\.group"):
        _parse(doc)
