"""Which candidates a batch returns: the outcomes asked for and at most ``limit`` of them, the
lowest keys, filtered and cut in DuckDB (a campaign's scope and limit)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from shuhui.rules import service
from shuhui.rules.loader import RuleBook
from shuhui.rules.service import CANDIDATE_OUTCOMES, candidates, evaluate
from tests.rules.test_service import ON

ELIGIBLE = ["P105", "P85", "P95"]
UNDETERMINED = ["NEITHER", "NOBIRTH", "NOHUKOU"]


def keys(found: list[service.Evaluation]) -> list[str]:
    return [e.key for e in found]


def test_outcomes_choose_whom(book: RuleBook, con: duckdb.DuckDBPyConnection) -> None:
    rule = book.rules["elderly-allowance"]
    everyone = {e.key: e for e in evaluate(con, rule, ON)}
    assert CANDIDATE_OUTCOMES == ("eligible", "undetermined")
    assert keys(candidates(con, rule, ON)) == sorted(ELIGIBLE + UNDETERMINED)
    eligible = candidates(con, rule, ON, outcomes=["eligible"])
    assert keys(eligible) == ELIGIBLE
    assert eligible == [everyone[k] for k in ELIGIBLE]  # the whole row, as evaluated
    undetermined = candidates(con, rule, ON, outcomes=("undetermined",))
    assert keys(undetermined) == UNDETERMINED
    assert undetermined[0].missing == ("birth_date", "hukou_type")
    assert keys(candidates(con, rule, ON, outcomes=("not_eligible",))) == ["YOUNG"]
    # Named twice or in another order: the same rows, still in key order.
    assert keys(
        candidates(con, rule, ON, outcomes=("undetermined", "eligible", "eligible"))
    ) == sorted(ELIGIBLE + UNDETERMINED)


def test_a_limit_takes_the_lowest_keys(book: RuleBook, con: duckdb.DuckDBPyConnection) -> None:
    rule = book.rules["elderly-allowance"]
    assert keys(candidates(con, rule, ON, limit=2)) == ["NEITHER", "NOBIRTH"]
    assert keys(candidates(con, rule, ON, outcomes=["eligible"], limit=2)) == ["P105", "P85"]
    assert keys(candidates(con, rule, ON, outcomes=["undetermined"], limit=1)) == ["NEITHER"]
    assert keys(candidates(con, rule, ON, limit=100)) == sorted(ELIGIBLE + UNDETERMINED)
    assert candidates(con, rule, ON, limit=0) == []


def test_the_filter_and_the_limit_are_in_the_query(
    book: RuleBook, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB itself returns only the rows asked for: nothing is filtered or cut in Python."""
    rule = book.rules["elderly-allowance"]
    seen: list[str] = []
    rows = service._rows

    def spy(
        c: duckdb.DuckDBPyConnection, r: Any, sql: str, params: list[Any] | None = None
    ) -> list[service.Evaluation]:
        seen.append(sql)
        return rows(c, r, sql, params)

    monkeypatch.setattr(service, "_rows", spy)
    got = candidates(con, rule, ON, outcomes=["eligible"], limit=2)
    (sql,) = seen
    assert sql.endswith(""" AS r WHERE "r"."outcome" IN ('eligible') ORDER BY "r"."k" LIMIT 2""")
    fetched = con.execute(sql).fetchall()
    assert len(fetched) == 2 == len(got)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"outcomes": ()},
        {"outcomes": ("maybe",)},
        {"outcomes": ("eligible", "unknown")},
        {"limit": -1},
        {"limit": True},
        {"limit": 2.0},
    ],
)
def test_bad_outcomes_or_limits_are_refused(
    book: RuleBook, con: duckdb.DuckDBPyConnection, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=r"^(outcomes|limit): "):
        candidates(con, book.rules["elderly-allowance"], ON, **kwargs)
