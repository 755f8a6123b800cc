"""The engine's promises: unknown stays unknown and is named, parameters change results only
from their date, windows follow the entity's own dates, and the SQL is Spark SQL too."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from shuhui.core.i18n import english
from shuhui.rules.compiler import compile_rule
from shuhui.rules.explain import explain
from shuhui.rules.loader import RuleBook, check_on, load_book
from shuhui.rules.service import Evaluation, evaluate, run
from shuhui.rules.testing import input_tables
from tests.rules.conftest import POLICIES, RULE_HEAD, SPECS, write_book

ON = date(2026, 10, 31)


def evaluate_rows(
    book: RuleBook, code: str, on: date, tables: dict[str, list[dict[str, Any]]]
) -> dict[str, Evaluation]:
    rule = book.rules[code]
    con = duckdb.connect()
    try:
        input_tables(con, tables, rule.tables, SPECS)
        return {e.key: e for e in evaluate(con, rule, on)}
    finally:
        con.close()


ELDERS = {
    "residents": [
        {"citizen_id": "P85", "birth_date": "1941-05-01", "hukou_type": "城镇"},
        {"citizen_id": "P95", "birth_date": "1931-05-01", "hukou_type": "城镇"},
        {"citizen_id": "P105", "birth_date": "1921-05-01", "hukou_type": "城镇"},
        {"citizen_id": "NOBIRTH", "hukou_type": "城镇"},
        {"citizen_id": "NOHUKOU", "birth_date": "1941-05-01"},
        {"citizen_id": "YOUNG", "birth_date": "1990-05-01"},
    ]
}


def test_a_missing_input_is_undetermined_and_named_never_not_eligible(book: RuleBook) -> None:
    got = evaluate_rows(book, "elderly-allowance", ON, ELDERS)
    assert got["NOBIRTH"].outcome == "undetermined"
    assert got["NOBIRTH"].missing == ("birth_date",)
    assert got["NOBIRTH"].conditions["old_enough"] is None
    assert got["NOHUKOU"].outcome == "undetermined"
    assert got["NOHUKOU"].missing == ("hukou_type",)
    # A known false condition decides, whatever is missing beside it.
    assert got["YOUNG"].outcome == "not_eligible"
    assert got["YOUNG"].missing == ()
    assert [got[k].amount for k in ("P85", "P95", "P105")] == [10000, 20000, 50000]


def test_a_future_parameter_value_changes_results_only_from_its_date(
    book: RuleBook, tmp_path: Path
) -> None:
    changed = tmp_path / "policies"
    shutil.copytree(POLICIES, changed)
    path = changed / "elderly-allowance.yaml"
    text = path.read_text(encoding="utf-8")
    old = "          - {from: 2013-01-01, value: 10000}\n"
    assert text.count(old) == 1
    path.write_text(
        text.replace(old, old + "          - {from: 2027-01-01, value: 12000}\n"), encoding="utf-8"
    )
    future = load_book(changed, SPECS)
    for on in (date(2026, 12, 31), date(2027, 1, 1), date(2028, 6, 1)):
        before = evaluate_rows(book, "elderly-allowance", on, ELDERS)
        after = evaluate_rows(future, "elderly-allowance", on, ELDERS)
        differs = {k for k in before if before[k].amount != after[k].amount}
        if on < date(2027, 1, 1):
            assert differs == set()
        else:
            assert differs == {"P85"}
            assert after["P85"].amount == 12000
        # Only the amount moves; who is eligible does not.
        assert {k: e.outcome for k, e in before.items()} == {k: e.outcome for k, e in after.items()}


def test_a_parameter_with_no_value_on_the_date_is_refused(tmp_path: Path) -> None:
    directory = write_book(
        tmp_path / "book",
        RULE_HEAD
        + """
    parameters:
      threshold:
        zh: 门槛
        type: int
        reference: 测试
        values:
          - {from: 2027-01-01, value: 80}
    variables:
      birth_date: {zh: 出生日期, column: birth_date}
    conditions:
      id: old
      zh: 年龄达标
      test: "years_between(birth_date, eval_date) >= threshold"
""",
    )
    rule = load_book(directory, SPECS).rules["probe"]
    problems = check_on(rule, date(2026, 12, 31))
    assert [p.field for p in problems] == ["test-rules.yaml: probe.parameters.threshold.values"]
    assert "2026-12-31 时这一参数还没有生效的取值" in problems[0].reason
    assert "no value in force on 2026-12-31" in english(problems[0].reason)
    assert check_on(rule, date(2027, 1, 1)) == []
    assert check_on(rule, date(2019, 12, 31))[0].field == "test-rules.yaml: probe.valid_from"


def test_every_rule_compiles_to_spark_sql(book: RuleBook) -> None:
    for rule in book.rules.values():
        spark = compile_rule(rule, ON).sql("spark")
        parsed = sqlglot.parse_one(spark, read="spark")
        assert parsed.sql("spark") == spark
        assert "INTERVAL" not in spark  # DuckDB's date arithmetic did not leak through
    refund = compile_rule(book.rules["job-stabilisation-refund"], ON).sql("spark")
    assert "ADD_MONTHS(" in refund and "ROW_NUMBER()" not in refund
    assert "ROW_NUMBER() OVER" in compile_rule(
        book.rules["severe-disability-care-subsidy"], ON
    ).sql("spark")


def test_windows_follow_a_per_entity_date(tmp_path: Path) -> None:
    directory = write_book(
        tmp_path / "book",
        RULE_HEAD
        + """
    variables:
      graduated:
        zh: 毕业日期
        latest: {table: college_graduates, column: graduation_date, order_by: graduation_date}
      jobs_first_year:
        zh: 毕业一年内就业次数
        count:
          table: employment_spells
          window: {date: start_date, anchor: graduated, from: 0 days, to: 12 months}
    conditions:
      id: employed_soon
      zh: 毕业一年内就业
      test: "jobs_first_year >= 1"
""",
    )
    book = load_book(directory, SPECS)
    tables = {
        "residents": [{"citizen_id": p} for p in ("G1", "G2", "G3")],
        "college_graduates": [
            {"citizen_id": "G1", "graduation_date": "2025-06-30"},
            {"citizen_id": "G2", "graduation_date": "2023-06-30"},
        ],
        "employment_spells": [
            {"citizen_id": "G1", "credit_code": "E", "start_date": "2025-09-01"},
            {"citizen_id": "G2", "credit_code": "E", "start_date": "2025-09-01"},
            {"citizen_id": "G3", "credit_code": "E", "start_date": "2025-09-01"},
        ],
    }
    got = evaluate_rows(book, "probe", ON, tables)
    assert got["G1"].variables["jobs_first_year"] == 1
    assert got["G1"].outcome == "eligible"
    assert got["G2"].variables["jobs_first_year"] == 0
    assert got["G2"].outcome == "not_eligible"
    # No graduation date: the window cannot be placed, so the count is unknown even though
    # G3 has a job; the graduation date is what is missing.
    assert got["G3"].variables["jobs_first_year"] is None
    assert got["G3"].outcome == "undetermined"
    assert got["G3"].missing == ("graduated",)


def test_an_incomplete_source_proves_only_existence(tmp_path: Path) -> None:
    directory = write_book(
        tmp_path / "book",
        RULE_HEAD
        + """
    variables:
      rode:
        zh: 近一年乘坐过公共交通
        exists:
          table: transit_trips
          window: {date: trip_date, from: -12 months, to: 0 days}
    conditions:
      id: rider
      zh: 近一年乘坐过公共交通
      test: "rode"
""",
    )
    got = evaluate_rows(
        load_book(directory, SPECS),
        "probe",
        ON,
        {
            "residents": [{"citizen_id": "R1"}, {"citizen_id": "R2"}],
            "transit_trips": [{"citizen_id": "R1", "trip_date": "2026-05-01"}],
        },
    )
    assert got["R1"].outcome == "eligible"
    assert got["R2"].variables["rode"] is None
    assert got["R2"].outcome == "undetermined"
    assert got["R2"].missing == ("rode",)


def test_a_row_in_doubt_makes_an_aggregate_unknown_and_case_stays_strict(tmp_path: Path) -> None:
    directory = write_book(
        tmp_path / "book",
        RULE_HEAD
        + """
    variables:
      birth_date: {zh: 出生日期, column: birth_date}
      visits:
        zh: 近一年就诊次数
        count:
          table: medical_visits
          where: "visit_type = '住院'"
          window: {date: visit_date, from: -12 months, to: 0 days}
    conditions:
      id: few_visits
      zh: 近一年住院少于2次
      test: "visits < 2"
    amount:
      zh: 金额
      unit: 分
      expr: "CASE WHEN years_between(birth_date, eval_date) >= 60 THEN 200 ELSE 100 END"
""",
    )
    visit = {"hospital": "H", "visit_date": "2026-05-01", "visit_type": "住院"}
    got = evaluate_rows(
        load_book(directory, SPECS),
        "probe",
        ON,
        {
            "residents": [
                {"citizen_id": "A", "birth_date": "1950-01-01"},
                {"citizen_id": "B"},
                {"citizen_id": "C", "birth_date": "1990-01-01"},
            ],
            "medical_visits": [
                {**visit, "citizen_id": "C", "visit_type": None},  # a row nobody can place
                {**visit, "citizen_id": "A", "visit_date": "2024-01-01"},  # outside the window
            ],
        },
    )
    assert (got["A"].variables["visits"], got["A"].amount) == (0, 200)
    # Eligible, but the amount's CASE has an unknown condition: the amount is unknown, not 100.
    assert got["B"].outcome == "eligible"
    assert got["B"].amount is None
    assert got["C"].variables["visits"] is None
    assert got["C"].outcome == "undetermined"
    assert got["C"].missing == ("visits",)


def test_explanation_names_values_sources_parameters_and_references(book: RuleBook) -> None:
    rule = book.rules["elderly-allowance"]
    con = duckdb.connect()
    input_tables(con, ELDERS, rule.tables, SPECS)
    found = explain(con, rule, ON, "NOBIRTH", SPECS, {"residents": 7})
    con.close()
    data = found.as_dict()
    assert data["outcome"] == "undetermined"
    assert data["missing"] == ["birth_date"]
    birth = next(i for i in data["inputs"] if i["name"] == "birth_date")
    assert birth == {
        "name": "birth_date",
        "zh": "出生日期",
        "kind": "column",
        "value": None,
        "table": "residents",
        "version": 7,
        "rows": [{"citizen_id": "NOBIRTH"}],
        "row_count": 1,
        "how": "residents.birth_date",
        "missing": True,
        "supplied": False,
    }
    assert {p["name"]: p["value"] for p in data["parameters"]}["amount_80"] == 10000
    text = found.text()
    assert "结论: 待定" in text and "缺少的数据: 出生日期" in text
    assert "依据: 青岛市高龄津贴制度" in text
    assert "? 年满起领年龄（80周岁）：未知" in text
    assert "Outcome: undetermined" in found.text("en")


def test_a_batch_run_is_one_query_with_counts(book: RuleBook) -> None:
    rule = book.rules["elderly-allowance"]
    con = duckdb.connect()
    input_tables(con, ELDERS, rule.tables, SPECS)
    result = run(con, rule, ON)
    con.close()
    assert result.counts == {"eligible": 3, "not_eligible": 1, "undetermined": 2}
    assert result.missing == {"birth_date": 1, "hukou_type": 1}
    assert result.amount_total == 80000


def test_explanation_lists_the_source_rows_that_counted_or_were_in_doubt(book: RuleBook) -> None:
    """Rows are listed for a death that counts and for one in doubt (no date); none for a death
    registered after the evaluation date (it does not count), nor for no death at all."""
    rule = book.rules["elderly-allowance"]
    tables = {
        **ELDERS,
        "death_registrations": [
            {"citizen_id": "P85", "death_date": "2026-01-02"},
            {"citizen_id": "P95"},  # no date: in doubt
            {"citizen_id": "P105", "death_date": "2027-01-01"},  # after the evaluation date
        ],
    }
    con = duckdb.connect()
    input_tables(con, tables, rule.tables, SPECS)
    try:
        died = {
            key: next(i for i in explain(con, rule, ON, key, SPECS).inputs if i.name == "died")
            for key in ("P85", "P95", "P105", "YOUNG")
        }
    finally:
        con.close()
    assert (died["P85"].value, died["P85"].row_count) == (True, 1)
    assert died["P85"].rows == [{"citizen_id": "P85", "death_date": date(2026, 1, 2)}]
    assert (died["P95"].value, died["P95"].row_count, died["P95"].missing) == (None, 1, True)
    assert died["P95"].rows == [{"citizen_id": "P95", "death_date": None}]
    assert (died["P105"].value, died["P105"].rows, died["P105"].row_count) == (False, [], 0)
    assert (died["YOUNG"].value, died["YOUNG"].rows, died["YOUNG"].row_count) == (False, [], 0)
