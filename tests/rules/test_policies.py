"""The city's rule tests (content/qingdao/policies/tests), one pytest case per YAML case."""

from __future__ import annotations

import pytest

from shuhui.rules import testing
from shuhui.rules.loader import TESTS_DIR, RuleBook
from tests.rules.conftest import POLICIES, SPECS

CASES = [
    case
    for path in testing.rule_test_files(POLICIES / TESTS_DIR)
    for case in testing.load_cases(path)
]


def test_every_policy_has_tests(book: RuleBook) -> None:
    assert {case.rule for case in CASES} == set(book.rules)
    assert len(book.rules) >= 4


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_policy_case(book: RuleBook, case: testing.Case) -> None:
    result = testing.run_case(book, SPECS, case)
    assert result.passed, "\n".join(result.failures)


def test_a_wrong_expectation_fails(book: RuleBook) -> None:
    case = next(c for c in CASES if c.rule == "elderly-allowance")
    key = next(iter(case.expect))
    wrong = testing.Case(
        case.file,
        0,
        "wrong",
        case.rule,
        case.on,
        case.tables,
        {key: {**case.expect[key], "outcome": "not_eligible", "amount": 1}},
    )
    result = testing.run_case(book, SPECS, wrong)
    assert not result.passed
    assert any("outcome" in f for f in result.failures)
