"""The cycle's content: loaded from the city's content, refused whole when broken (naming the
file, the item and the field), and refused where it disagrees with the evidence rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from shuhui.core.content import DEFAULT_DIR, ContentError
from shuhui.programs.certification.config import FILE, check_against, cycle_on, load_cycles
from shuhui.programs.certification.windows import add_months, months_between, window_of
from shuhui.rules.language import Rule
from shuhui.rules.loader import load_book
from shuhui.standard import TABLES

CITY = DEFAULT_DIR / "qingdao"


def rule() -> Rule:
    return load_book(CITY / "policies", {s.name: s for s in TABLES}).rules["pension-certification"]


def broken(tmp_path: Path, change: dict[str, object]) -> Path:
    doc = yaml.safe_load((CITY / FILE).read_text(encoding="utf-8"))
    doc["items"][0].update(change)
    folder = tmp_path / "city"
    (folder / "programs").mkdir(parents=True)
    (folder / FILE).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


def test_the_city_cycle_loads_and_agrees_with_its_rule() -> None:
    (cycle,) = load_cycles(CITY)
    check_against(cycle, rule(), date(2026, 10, 31))
    assert cycle.anchor == "birthday_month" and cycle.threshold >= 1
    assert {s.code for s in cycle.sources} >= {"medical", "transit"}
    assert cycle_on([cycle], date(2026, 1, 1)) is cycle


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"anchor": "new_moon"}, "items (cycle).anchor"),
        ({"window_months": 0}, "items (cycle).window_months"),
        ({"sources": []}, "items (cycle).sources"),
        ({"notice": {"channels": ["fax"]}}, "items (cycle).notice.channels"),
    ],
)
def test_a_broken_file_is_refused_naming_item_and_field(
    tmp_path: Path, change: dict[str, object], field: str
) -> None:
    with pytest.raises(ContentError) as refused:
        load_cycles(broken(tmp_path, change))
    assert refused.value.where == field
    assert refused.value.path.name == "certification.yaml"


def test_a_source_disagreeing_with_the_rule_is_refused(tmp_path: Path) -> None:
    doc = yaml.safe_load((CITY / FILE).read_text(encoding="utf-8"))
    sources = doc["items"][0]["sources"]
    sources[0]["weight"] = sources[0]["weight"] + 5
    sources[1]["recency_months"] = 6
    (cycle,) = load_cycles(broken(tmp_path, {"sources": sources}))
    with pytest.raises(ContentError) as refused:
        check_against(cycle, rule(), date(2026, 10, 31))
    assert refused.value.where == "items (cycle).sources[0].weight"
    sources[0]["weight"] -= 5
    (cycle,) = load_cycles(broken(tmp_path / "b", {"sources": sources}))
    with pytest.raises(ContentError) as refused:
        check_against(cycle, rule(), date(2026, 10, 31))
    assert refused.value.where == "items (cycle).sources[1].recency_months"


def test_the_window_and_the_months() -> None:
    (cycle,) = load_cycles(CITY)
    # Born in March: the window opens on 1 March and lasts window_months (3): to 31 May.
    assert window_of(cycle, date(1950, 3, 17), date(2026, 4, 2)) == (
        2026,
        date(2026, 3, 1),
        date(2026, 5, 31),
    )
    # Before this year's birth month: last year's window is the one that opened.
    assert window_of(cycle, date(1950, 11, 2), date(2026, 4, 2))[:2] == (2025, date(2025, 11, 1))
    assert add_months(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert months_between(date(2026, 3, 1), date(2026, 5, 20)) == 3
    assert months_between(date(2026, 11, 1), date(2027, 1, 2)) == 3
