"""Batch results for programs and benchmarks: candidates filtered in SQL, and a whole run stored
as Parquet by DuckDB, agreeing with the row-by-row evaluation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from shuhui.rules.loader import RuleBook
from shuhui.rules.service import candidates, evaluate, store
from shuhui.rules.testing import input_tables
from tests.rules.conftest import SPECS
from tests.rules.test_engine import ELDERS

ON = date(2026, 10, 31)
# The elders, and one person with neither a birth date nor a household registration type.
PEOPLE = {"residents": [*ELDERS["residents"], {"citizen_id": "NEITHER"}]}


def test_candidates_are_the_eligible_and_undetermined_in_key_order(
    book: RuleBook, con: duckdb.DuckDBPyConnection
) -> None:
    rule = book.rules["elderly-allowance"]
    everyone = evaluate(con, rule, ON)
    expected = sorted(
        (e for e in everyone if e.outcome in ("eligible", "undetermined")), key=lambda e: e.key
    )
    got = candidates(con, rule, ON)
    assert got == expected
    assert [e.key for e in got] == ["NEITHER", "NOBIRTH", "NOHUKOU", "P105", "P85", "P95"]
    assert "YOUNG" not in {e.key for e in got}


@pytest.mark.parametrize("locked", ["open", "locked", "writable"])
def test_store_writes_every_result_to_parquet(
    book: RuleBook, con: duckdb.DuckDBPyConnection, tmp_path: Path, locked: str
) -> None:
    rule = book.rules["elderly-allowance"]
    if locked == "writable":  # as DataCore.connect(writable=folder) leaves it
        con.execute(f"SET allowed_directories = ['{tmp_path}/runs/']")
    if locked != "open":  # as DataCore.connect() leaves it: tables readable, no file writable
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    path = tmp_path / "runs" / "elderly's.parquet"  # a quote in the name is escaped
    stored = store(con, rule, ON, path)
    assert stored.rule == "elderly-allowance" and stored.on == ON and stored.path == path
    assert stored.rows == 7
    assert stored.counts == {"eligible": 3, "not_eligible": 1, "undetermined": 3}
    assert stored.seconds >= 0
    rows = duckdb.sql(
        "SELECT key, outcome, amount, missing FROM read_parquet(?)", params=[str(path)]
    ).fetchall()
    written = {key: (outcome, amount, tuple(missing)) for key, outcome, amount, missing in rows}
    assert written == {e.key: (e.outcome, e.amount, e.missing) for e in evaluate(con, rule, ON)}
    assert written["NOBIRTH"] == ("undetermined", None, ("birth_date",))
    assert written["NEITHER"] == ("undetermined", None, ("birth_date", "hukou_type"))
    assert written["YOUNG"] == ("not_eligible", None, ())


def test_store_for_an_enterprise_rule_agrees_with_evaluate(book: RuleBook, tmp_path: Path) -> None:
    rule = book.rules["job-stabilisation-refund"]
    tables = {
        "enterprises": [
            {"credit_code": "E1", "status": "存续", "size_class": "小型"},
            {"credit_code": "E2", "status": "注销", "size_class": "小型"},
            {"credit_code": "E3", "status": "存续", "size_class": "小型"},
        ],
        "insurance_contributions": [
            {
                "citizen_id": "A",
                "credit_code": "E1",
                "month": "2025-11-01",
                "insurance_type": "失业",
                "amount_fen": 1000,
                "paid_fen": 1000,
            },
            {
                "citizen_id": "B",
                "credit_code": "E3",
                "insurance_type": "失业",
                "amount_fen": 100,
                "paid_fen": 100,
            },
        ],
    }
    con = duckdb.connect()
    try:
        input_tables(con, tables, rule.tables, SPECS)
        stored = store(con, rule, ON, tmp_path / "refund.parquet")
        expected = {e.key: (e.outcome, e.amount, e.missing) for e in evaluate(con, rule, ON)}
        assert [e.key for e in candidates(con, rule, ON)] == ["E1", "E3"]
    finally:
        con.close()
    rows = duckdb.sql(
        "SELECT key, outcome, amount, missing FROM read_parquet(?)", params=[str(stored.path)]
    ).fetchall()
    assert {k: (o, a, tuple(m)) for k, o, a, m in rows} == expected
    assert expected["E3"] == ("undetermined", None, ("insured_staff",))
    assert stored.counts == {"eligible": 1, "not_eligible": 1, "undetermined": 1}


def test_one_entity_from_the_compiled_query_equals_its_row_in_the_batch(
    book: RuleBook, con: duckdb.DuckDBPyConnection
) -> None:
    """Explanations reuse one compiled query per rule and date, the key a parameter."""
    rule = book.rules["elderly-allowance"]
    for on in (ON, date(2013, 6, 1)):
        everyone = {e.key: e for e in evaluate(con, rule, on)}
        for key, row in everyone.items():
            assert evaluate(con, rule, on, key) == [row]
            assert evaluate(con, rule, on, key) == [row]  # from the cache, the same
    assert evaluate(con, rule, ON, "NOBODY") == []
    # A quote in a key is a parameter's value, never SQL.
    assert evaluate(con, rule, ON, "x' OR '1'='1") == []
