"""The digital-level questionnaire as content: the city's file loads whole, with its edition, its
reference and what is still to be checked; a file with one fault is refused whole, naming the
edition, the place and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from shuhui.core.content import DEFAULT_DIR, ContentError, parse_items
from shuhui.enterprise import assessment_content as content
from shuhui.enterprise.platforms import CAPABILITY_CODES

CITY = DEFAULT_DIR / "qingdao"
SOURCE = CITY / content.FILE


def test_the_citys_questionnaire_loads_whole() -> None:
    q = content.in_force(CITY, date(2026, 12, 7))
    assert q is not None
    assert q.edition == "2024"
    assert q.number == "工信厅企业〔2024〕56号"
    assert q.issued == date(2024, 9, 4)
    assert "工信厅企业〔2024〕56号" in q.reference
    # What could not be confirmed is said, as 待核实, with the reference.
    assert q.unverified and all("待核实" in u for u in q.unverified)
    assert "待核实" in q.reference
    # The four official dimensions, scored, and the profile asked but not scored.
    scored = [d for d in q.dimensions if d.scored]
    assert [d.name for d in scored] == ["数字化基础", "数字化经营", "数字化管理", "数字化成效"]
    assert sum(d.weight for d in q.dimensions) == 100
    assert q.dimension("operation").judged_by == "scenario"
    # The official thresholds: 一级 20, 二级 40, 三级 60, 四级 80 points.
    assert [(lv.name, lv.min) for lv in q.levels] == [
        ("一级", 200),
        ("二级", 400),
        ("三级", 600),
        ("四级", 800),
    ]
    # Every capability of the platforms' vocabulary pre-fills something, and every question
    # says how it is pre-filled (at least from the enterprise's previous assessment).
    used = {r.capability for x in q.questions for r in x.prefill if r.capability}
    assert used == set(CAPABILITY_CODES)
    assert all(any(r.source == "history" for r in x.prefill) for x in q.questions)
    # Scenario options are the levels 0-4, one point a level.
    for x in q.dimension("operation").questions:
        assert [o.level for o in x.options] == [0, 1, 2, 3, 4]
        assert [o.points for o in x.options] == [0, 10, 20, 30, 40]
    assert content.edition(CITY, "2024") is q
    assert content.in_force(CITY, date(2024, 9, 3)) is None


def _doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    return loaded


def _edition(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["items"][0]
    return found


def _dim(doc: dict[str, Any], code: str) -> dict[str, Any]:
    return next(d for d in _edition(doc)["dimensions"] if d["code"] == code)


def _question(doc: dict[str, Any], code: str) -> dict[str, Any]:
    for d in _edition(doc)["dimensions"]:
        for x in d["questions"]:
            if x["code"] == code:
                found: dict[str, Any] = x
                return found
    raise KeyError(code)


def _parse(doc: dict[str, Any], path: Path) -> None:
    items = parse_items(path, yaml.safe_dump(doc, allow_unicode=True), content.KIND)
    for item in items:
        content.parse_edition(path, item)


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "weights not adding up",
        lambda d: _dim(d, "basis").__setitem__("weight", 25),
        "miit-2024.dimensions",
    ),
    (
        "a duplicated question",
        lambda d: _dim(d, "basis")["questions"].append(copy.deepcopy(_question(d, "B1"))),
        "miit-2024.dimensions",
    ),
    (
        "a capability outside the vocabulary",
        lambda d: _question(d, "B2")["prefill"][0].__setitem__("capability", "blockchain"),
        "B2).prefill[0].capability",
    ),
    (
        "a pre-fill option the question lacks",
        lambda d: _question(d, "O3")["prefill"][0].__setitem__("option", "L9"),
        "O3).prefill[0].option",
    ),
    (
        "bands out of order",
        lambda d: _question(d, "E1")["prefill"][0]["bands"][1].__setitem__("below", -20),
        "E1).prefill[0].bands[1].below",
    ),
    (
        "an unknown register measure",
        lambda d: _question(d, "E1")["prefill"][0].__setitem__("measure", "profit"),
        "E1).prefill[0].measure",
    ),
    (
        "a rule field its source does not use",
        lambda d: _question(d, "M1")["prefill"][0].__setitem__("option", "A"),
        "M1).prefill[0].option",
    ),
    (
        "an unknown pre-fill source",
        lambda d: _question(d, "M1")["prefill"][0].__setitem__("from", "guess"),
        "M1).prefill[0].from",
    ),
    (
        "options not rising",
        lambda d: _question(d, "B1")["options"][1].__setitem__("score", 4),
        "B1).options",
    ),
    (
        "a scenario without its levels",
        lambda d: _question(d, "O8")["options"][2].__setitem__("level", 3),
        "O8).options",
    ),
    (
        "more than one decimal",
        lambda d: _question(d, "B1")["options"][2].__setitem__("score", 3.55),
        "B1).options[2].score",
    ),
    (
        "thresholds not rising",
        lambda d: _edition(d)["levels"][2].__setitem__("min", 40),
        "miit-2024.levels[2].min",
    ),
    (
        "a condition on an unknown question",
        lambda d: _question(d, "O1")["applies"].__setitem__("question", "P9"),
        "miit-2024.O1.applies.question",
    ),
    (
        "a condition on an unknown answer",
        lambda d: _question(d, "O1")["applies"].__setitem__("options", ["mining"]),
        "miit-2024.O1.applies.options",
    ),
    ("no reference", lambda d: _edition(d).pop("reference"), "reference"),
    ("no issuing date", _set(["items", 0, "issued"], "soon"), "miit-2024.issued"),
    (
        "a profile question that scores",
        lambda d: _question(d, "P2")["options"][0].__setitem__("score", 1),
        "P2).options",
    ),
]


@pytest.mark.parametrize(("fault", "change", "where"), BAD, ids=[b[0] for b in BAD])
def test_a_file_with_one_fault_is_refused_whole(
    tmp_path: Path, fault: str, change: Callable[[dict[str, Any]], None], where: str
) -> None:
    doc = _doc()
    _parse(doc, tmp_path / "ok.yaml")  # the city's file as it is passes
    change(doc)
    with pytest.raises(ContentError) as refused:
        _parse(doc, tmp_path / "bad.yaml")
    assert where in refused.value.where, (fault, refused.value.where, refused.value.reason)
    assert refused.value.reason


def test_a_copy_of_the_file_loads_from_another_city(tmp_path: Path) -> None:
    city = tmp_path / "city"
    (city / "enterprise").mkdir(parents=True)
    (city / content.FILE).write_text(SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    (q,) = content.editions(city)
    assert q.edition == "2024" and len(q.questions) == 27
