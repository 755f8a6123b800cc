"""Properties of the cycle's evidence over random small worlds (hypothesis): no pensioner with a
recorded death or cremation is ever certified; a pensioner is certified exactly when alive and
a source that counts was found within its recency; a trip not found (a sample) never counts
against anyone; a household's power alone is not enough; the overpayment is what was paid for
months after the month of death."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuhui.core.content import DEFAULT_DIR
from shuhui.programs.certification.config import Cycle, check_against, load_cycles
from shuhui.programs.certification.cycle import _evidence_sql, _people
from shuhui.programs.certification.windows import add_months
from shuhui.rules.language import Rule
from shuhui.rules.loader import load_book
from shuhui.rules.testing import input_tables
from shuhui.standard import TABLES

ON = date(2026, 10, 31)
SPECS = {spec.name: spec for spec in TABLES}


@cache
def rule_and_cycle() -> tuple[Rule, Cycle]:
    book = load_book(DEFAULT_DIR / "qingdao" / "policies", SPECS)
    rule = book.rules["pension-certification"]
    (cycle,) = load_cycles(DEFAULT_DIR / "qingdao")
    check_against(cycle, rule, ON)
    return rule, cycle


days = st.integers(-500, 60).map(lambda d: ON + timedelta(days=d))
person = st.fixed_dictionaries(
    {
        "pension": st.booleans(),
        "death": st.one_of(st.none(), days),
        "cremation": st.one_of(st.none(), days),
        "visits": st.lists(days, max_size=3),
        "trips": st.lists(days, max_size=3),
        "metered": st.lists(st.integers(0, 8), max_size=3),  # months back the household used power
    }
)


def world(people: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "residents",
            "pension_recipients",
            "death_registrations",
            "cremations",
            "medical_visits",
            "transit_trips",
            "pension_payments",
            "utility_usage",
        )
    }
    for i, p in enumerate(people):
        cid = f"3702{i:014d}"
        tables["residents"].append(
            {"citizen_id": cid, "birth_date": date(1950, 1 + i % 12, 1), "household_id": f"h{i}"}
        )
        if p["pension"]:
            pid = f"P{i}"
            tables["pension_recipients"].append(
                {
                    "pension_id": pid,
                    "citizen_id": cid,
                    "scheme": "城镇职工基本养老保险",
                    "start_date": date(2015, 1, 1),
                    "monthly_amount_fen": 300_000,
                    "status": "正常发放",
                    "district_code": "370202",
                }
            )
            for m in range(12):
                month = add_months(ON, -m)
                tables["pension_payments"].append(
                    {"pension_id": pid, "citizen_id": cid, "month": month, "amount_fen": 300_000}
                )
        if p["death"] is not None:
            tables["death_registrations"].append({"citizen_id": cid, "death_date": p["death"]})
        if p["cremation"] is not None:
            tables["cremations"].append({"citizen_id": cid, "cremation_date": p["cremation"]})
        for day in p["visits"]:
            tables["medical_visits"].append({"citizen_id": cid, "visit_date": day})
        for day in p["trips"]:
            tables["transit_trips"].append({"citizen_id": cid, "trip_date": day})
        for back in sorted(set(p["metered"])):
            tables["utility_usage"].append(
                {
                    "household_id": f"h{i}",
                    "month": add_months(ON, -back),
                    "water_m3": 2,
                    "electricity_kwh": 50,
                    "gas_m3": 0,
                }
            )
    return tables


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=st.lists(person, min_size=1, max_size=8))
def test_no_deceased_pensioner_is_ever_certified(people: list[dict[str, Any]]) -> None:
    rule, cycle = rule_and_cycle()
    tables = world(people)
    con = duckdb.connect()
    try:
        wanted = tuple(dict.fromkeys((*rule.tables, "pension_payments", "utility_usage")))
        input_tables(con, tables, wanted, SPECS)
        found = {
            p.citizen_id: p
            for p in _people(con.execute(_evidence_sql(con, rule, cycle, ON)).fetchall(), cycle)
        }
    finally:
        con.close()
    year_ago = add_months(ON, -12).replace(day=ON.day)  # the sources' 12-month window
    for i, p in enumerate(people):
        cid = f"3702{i:014d}"
        if not p["pension"]:
            assert cid not in found  # only pensions in payment are certified
            continue
        got = found[cid]
        dead_on = [d for d in (p["death"], p["cremation"]) if d is not None and d <= ON]
        seen = [d for d in p["visits"] + p["trips"] if year_ago <= d <= ON]
        assert got.died == bool(dead_on)
        if dead_on:
            assert not got.certified  # the property: never certified once dead
            died = p["death"] if p["death"] is not None and p["death"] <= ON else p["cremation"]
            assert got.died_on == died
            owed = sum(1 for m in range(12) if add_months(ON, -m) >= add_months(died, 1))
            assert got.pensions[0].paid_after_death == owed
            assert got.pensions[0].overpaid_fen == owed * 300_000
        else:
            # Alive: certified exactly when a visit or a trip was found in the window (the
            # household's power alone weighs too little); no trip found (a sample) is never
            # held against anyone.
            metered = any(back <= 2 for back in p["metered"])  # Aug–Oct: from 31 July on
            assert got.certified == bool(seen)
            assert set(got.fired) == {
                *(["medical"] if any(year_ago <= d <= ON for d in p["visits"]) else []),
                *(["transit"] if any(year_ago <= d <= ON for d in p["trips"]) else []),
                *(["utility"] if metered else []),
            }
