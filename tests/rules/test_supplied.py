"""Values from outside the data core (an applicant's answers): parsed by type, then used in place
of the variable's own value, in the evaluation and in its explanation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.rules.explain import explain
from shuhui.rules.language import NO, YES, Type, parse_value
from shuhui.rules.loader import TYPES, RuleBook
from shuhui.rules.service import evaluate, evaluate_one
from shuhui.rules.testing import input_tables
from tests.rules.conftest import SPECS

ON = date(2026, 10, 31)
RULE = "hardship-disability-living-subsidy"
TABLES = {
    "residents": [{"citizen_id": "D1"}, {"citizen_id": "D2"}, {"citizen_id": "H"}],
    "disabled_persons": [
        {"citizen_id": "D1", "disability_level": "一级", "disability_type": "肢体"},
        {"citizen_id": "D2", "disability_level": "二级", "disability_type": "视力"},
    ],
    "death_registrations": [],
}


@pytest.fixture
def con(book: RuleBook) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    input_tables(connection, TABLES, book.rules[RULE].tables, SPECS)
    yield connection
    connection.close()


def test_an_answer_decides_what_the_data_could_not(
    book: RuleBook, con: duckdb.DuckDBPyConnection
) -> None:
    rule = book.rules[RULE]
    alone = evaluate_one(con, rule, ON, "D1")
    assert alone.outcome == "undetermined" and alone.missing == ("minimum_living_allowance",)
    assert alone.amount is None

    yes = evaluate_one(con, rule, ON, "D1", {"minimum_living_allowance": True})
    assert yes.outcome == "eligible" and yes.amount == 10000 and yes.missing == ()
    assert yes.variables["minimum_living_allowance"] is True
    no = evaluate_one(con, rule, ON, "D1", {"minimum_living_allowance": False})
    assert no.outcome == "not_eligible" and no.amount is None
    # An answer does not make up for what the data says: H holds no disability certificate.
    assert evaluate_one(con, rule, ON, "H", {"minimum_living_allowance": True}).outcome == (
        "not_eligible"
    )
    # None is no answer: the input stays missing.
    assert evaluate_one(con, rule, ON, "D1", {"minimum_living_allowance": None}) == alone
    # Without a key the answers apply to everyone (a what-if over the table).
    everyone = {
        e.key: e.outcome for e in evaluate(con, rule, ON, None, {"minimum_living_allowance": True})
    }
    assert everyone == {"D1": "eligible", "D2": "eligible", "H": "not_eligible"}
    # The batch result is unchanged by the answered evaluations (no state is kept).
    assert {e.key: e.outcome for e in evaluate(con, rule, ON)}["D2"] == "undetermined"


def test_the_explanation_shows_the_answer_as_the_applicants(
    book: RuleBook, con: duckdb.DuckDBPyConnection
) -> None:
    rule = book.rules[RULE]
    found = explain(con, rule, ON, "D1", SPECS, supplied={"minimum_living_allowance": True})
    assert found.outcome == "eligible" and found.amount == 10000
    (answer,) = [i for i in found.inputs if i.name == "minimum_living_allowance"]
    assert answer.supplied and answer.value is True and not answer.missing
    assert all(not i.supplied for i in found.inputs if i.name != "minimum_living_allowance")
    assert "申请人提供" in found.text() and "given by the applicant" in found.text("en")
    assert found.as_dict()["inputs"][1]["supplied"] is True
    plain = explain(con, rule, ON, "D1", SPECS)
    assert plain.outcome == "undetermined" and not any(i.supplied for i in plain.inputs)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("bool", " 是 ", True),
        ("bool", "No", False),
        ("int", "1,200", 1200),
        ("int", "-7", -7),
        ("number", "2.5", 2.5),
        ("date", "2026-02-28", date(2026, 2, 28)),
        ("string", "  中级  证书 ", "中级 证书"),
    ],
)
def test_answers_are_read_by_type(kind: Type, text: str, value: object) -> None:
    assert parse_value(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("bool", "也许", "是 or 否"),
        ("int", "1.5", "whole number"),
        ("int", "1" * 19, "at most 18 digits"),
        ("number", "inf", "finite"),
        ("number", "三", "a number"),
        ("date", "2026/02/28", "YYYY-MM-DD"),
        ("date", "2026-02-30", "YYYY-MM-DD"),
        ("string", " \t", "required"),
    ],
)
def test_a_bad_answer_says_what_was_expected(kind: Type, text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_value(kind, text)


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_every_integer_reads_back_plain_or_grouped(n: int) -> None:
    assert parse_value("int", str(n)) == n
    assert parse_value("int", f"{n:,}") == n


@given(st.dates())
def test_every_date_reads_back(d: date) -> None:
    assert parse_value("date", d.isoformat()) == d


@given(st.sampled_from(TYPES), st.text(max_size=40))
def test_any_text_gives_a_value_of_the_type_or_a_value_error(kind: Type, text: str) -> None:
    try:
        value = parse_value(kind, text)
    except ValueError:
        return
    expected = {"bool": bool, "int": int, "number": float, "string": str, "date": date}[kind]
    assert type(value) is expected
    if kind == "bool":
        assert " ".join(text.split()).lower() in (YES | NO)
