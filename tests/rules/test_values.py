"""``values_sql``: a batch of named variables' values, for every entity or only ``among`` some,
and ``known()`` counting evidence: what a program joins to its own tables in SQL."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from shuhui.core.content import DEFAULT_DIR
from shuhui.rules.loader import load_book
from shuhui.rules.service import values_sql
from shuhui.rules.testing import input_tables
from shuhui.standard import TABLES

SPECS = {spec.name: spec for spec in TABLES}
ON = date(2026, 10, 31)


def test_values_among_some_entities_are_theirs_of_all() -> None:
    rule = load_book(DEFAULT_DIR / "qingdao" / "policies", SPECS).rules["pension-certification"]
    people = [
        {"citizen_id": f"P{i}", "birth_date": date(1950, 1, 1), "household_id": f"H{i}"}
        for i in range(6)
    ]
    tables = {
        "residents": people,
        "pension_recipients": [
            {"pension_id": f"Y{i}", "citizen_id": f"P{i}", "status": "正常发放"} for i in (1, 2, 4)
        ],
        "medical_visits": [{"citizen_id": "P1", "visit_date": date(2026, 5, 1)}],
        "transit_trips": [{"citizen_id": "P4", "trip_date": date(2026, 5, 1)}],
    }
    con = duckdb.connect()
    try:
        input_tables(con, tables, rule.tables, SPECS)
        names = ["medical", "transit", "evidence"]
        every = {r[0]: r for r in con.execute(values_sql(con, rule, ON, names)).fetchall()}
        among = "SELECT citizen_id FROM pension_recipients"
        some = con.execute(values_sql(con, rule, ON, names, among=among)).fetchall()
        with pytest.raises(ValueError, match="no variable"):
            values_sql(con, rule, ON, ["nothing"])
    finally:
        con.close()
    assert len(every) == 6 and {r[0] for r in some} == {"P1", "P2", "P4"}
    assert all(every[r[0]] == r for r in some)
    # known(): a trip found counts 2; no trip found (a sample: unknown) counts 0, not unknown.
    assert every["P4"][2:] == (False, True, 2)
    assert every["P2"][2:] == (False, None, 0)
    assert every["P1"][1] == "eligible" and every["P2"][1] == "not_eligible"
