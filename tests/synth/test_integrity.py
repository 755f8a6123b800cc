"""Every reference points at something that exists, and dates are in order."""

from __future__ import annotations

import duckdb
import pytest

from tests.synth.conftest import City

# (table, column) -> (table, column) it refers to.
REFERENCES = [
    ("households", "head_citizen_id", "residents", "citizen_id"),
    ("residents", "household_id", "households", "household_id"),
    ("death_registrations", "citizen_id", "residents", "citizen_id"),
    ("cremations", "citizen_id", "death_registrations", "citizen_id"),
    ("enterprises", "legal_rep_citizen_id", "residents", "citizen_id"),
    ("employment_spells", "citizen_id", "residents", "citizen_id"),
    ("employment_spells", "credit_code", "enterprises", "credit_code"),
    ("insurance_enrolments", "citizen_id", "residents", "citizen_id"),
    ("insurance_enrolments", "credit_code", "enterprises", "credit_code"),
    ("insurance_contributions", "citizen_id", "residents", "citizen_id"),
    ("insurance_contributions", "credit_code", "enterprises", "credit_code"),
    ("pension_recipients", "citizen_id", "residents", "citizen_id"),
    ("pension_payments", "pension_id", "pension_recipients", "pension_id"),
    ("unemployment_registrations", "citizen_id", "residents", "citizen_id"),
    ("unemployment_benefits", "registration_id", "unemployment_registrations", "registration_id"),
    ("medical_visits", "citizen_id", "residents", "citizen_id"),
    ("transit_trips", "citizen_id", "residents", "citizen_id"),
    ("utility_usage", "household_id", "households", "household_id"),
    ("enterprise_tax", "credit_code", "enterprises", "credit_code"),
    ("enterprise_electricity", "credit_code", "enterprises", "credit_code"),
    ("e_certificates", "holder_citizen_id", "residents", "citizen_id"),
    ("e_certificates", "holder_credit_code", "enterprises", "credit_code"),
    ("college_graduates", "citizen_id", "residents", "citizen_id"),
    ("disabled_persons", "citizen_id", "residents", "citizen_id"),
    ("truth_pension_after_death", "pension_id", "pension_recipients", "pension_id"),
    ("truth_double_pension", "duplicate_pension_id", "pension_recipients", "pension_id"),
    (
        "truth_unemployment_while_employed",
        "registration_id",
        "unemployment_registrations",
        "registration_id",
    ),
    ("truth_enterprise_distress", "credit_code", "enterprises", "credit_code"),
    ("truth_no_record", "citizen_id", "residents", "citizen_id"),
    ("pension_payments", "payee_account", "benefit_accounts", "account_no"),
    ("benefit_accounts", "holder_citizen_id", "residents", "citizen_id"),
    ("social_security_card_uses", "citizen_id", "residents", "citizen_id"),
    ("benefit_collections", "pension_id", "pension_recipients", "pension_id"),
    ("truth_shared_account", "account_no", "benefit_accounts", "account_no"),
    ("truth_early_retirement", "pension_id", "pension_recipients", "pension_id"),
    ("truth_low_contribution_base", "credit_code", "enterprises", "credit_code"),
]


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def small_db(small_city: City) -> duckdb.DuckDBPyConnection:
    return small_city.connect()


@pytest.mark.parametrize(("table", "column", "target", "key"), REFERENCES, ids=lambda v: str(v))
def test_references_resolve(
    small_db: duckdb.DuckDBPyConnection, table: str, column: str, target: str, key: str
) -> None:
    dangling = _count(
        small_db,
        f"SELECT count(*) FROM {table} a WHERE a.{column} IS NOT NULL"
        f" AND NOT EXISTS (SELECT 1 FROM {target} b WHERE b.{key} = a.{column})",
    )
    assert dangling == 0


def test_references_agree_beyond_keys(small_db: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "payments carry their recipient's citizen": """
            SELECT count(*) FROM pension_payments p JOIN pension_recipients r USING (pension_id)
            WHERE p.citizen_id <> r.citizen_id""",
        "benefits carry their registration's citizen": """
            SELECT count(*) FROM unemployment_benefits b
            JOIN unemployment_registrations r USING (registration_id)
            WHERE b.citizen_id <> r.citizen_id""",
        "heads belong to their household": """
            SELECT count(*) FROM households h JOIN residents r ON r.citizen_id = h.head_citizen_id
            WHERE r.household_id <> h.household_id OR r.relation <> '户主'""",
        "household sizes count members": """
            SELECT count(*) FROM households h
            WHERE members <> (SELECT count(*) FROM residents r
                              WHERE r.household_id = h.household_id)""",
        "one head per household": """
            SELECT count(*) FROM (SELECT household_id FROM residents WHERE relation = '户主'
            GROUP BY 1 HAVING count(*) <> 1)""",
        "names of the dead match the register": """
            SELECT count(*) FROM death_registrations d JOIN residents r USING (citizen_id)
            WHERE d.name <> r.name""",
        "spells end after they start": """
            SELECT count(*) FROM employment_spells WHERE end_date < start_date""",
        "nobody works before 16": """
            SELECT count(*) FROM employment_spells s JOIN residents r USING (citizen_id)
            WHERE s.start_date < r.birth_date + INTERVAL 16 YEAR""",
        "contributions fall inside a spell": """
            SELECT count(*) FROM insurance_contributions c WHERE NOT EXISTS (
              SELECT 1 FROM employment_spells s WHERE s.citizen_id = c.citizen_id
              AND s.credit_code = c.credit_code AND s.start_date <= c.month + 14
              AND coalesce(s.end_date, DATE '9999-12-31') >= c.month + 14)""",
        "nothing happens to the dead": """
            SELECT count(*) FROM death_registrations d WHERE EXISTS (
              SELECT 1 FROM medical_visits v
              WHERE v.citizen_id = d.citizen_id AND v.visit_date > d.death_date)
              OR EXISTS (SELECT 1 FROM transit_trips t
                         WHERE t.citizen_id = d.citizen_id AND t.trip_date > d.death_date)
              OR EXISTS (SELECT 1 FROM employment_spells s WHERE s.citizen_id = d.citizen_id
                         AND coalesce(s.end_date, DATE '9999-12-31') > d.death_date)""",
        "collections carry their pension's citizen": """
            SELECT count(*) FROM benefit_collections b JOIN pension_recipients r USING (pension_id)
            WHERE b.citizen_id <> r.citizen_id""",
        "a pension is collected only after a payment of it that month": """
            SELECT count(*) FROM benefit_collections b WHERE NOT EXISTS (
              SELECT 1 FROM pension_payments p WHERE p.pension_id = b.pension_id
              AND p.month = date_trunc('month', b.collected_on)
              AND p.pay_date <= b.collected_on)""",
        "no card use or collection after death or before birth": """
            SELECT count(*) FROM residents r LEFT JOIN death_registrations d USING (citizen_id)
            WHERE EXISTS (SELECT 1 FROM social_security_card_uses u
                          WHERE u.citizen_id = r.citizen_id
                          AND (u.used_on < r.birth_date OR u.used_on > d.death_date))
               OR EXISTS (SELECT 1 FROM benefit_collections b WHERE b.citizen_id = r.citizen_id
                          AND b.collected_on > d.death_date)""",
        "accounts open before the payments into them": """
            SELECT count(*) FROM pension_payments p
            JOIN benefit_accounts a ON a.account_no = p.payee_account
            WHERE a.opened_on > p.pay_date""",
        "accounts are opened by adults": """
            SELECT count(*) FROM benefit_accounts a
            JOIN residents r ON r.citizen_id = a.holder_citizen_id
            WHERE a.opened_on < r.birth_date + INTERVAL 18 YEAR""",
        "a pension goes into one account": """
            SELECT count(*) FROM (SELECT pension_id FROM pension_payments
            GROUP BY 1 HAVING count(DISTINCT payee_account) > 1)""",
        "cremation follows death": """
            SELECT count(*) FROM cremations c JOIN death_registrations d USING (citizen_id)
            WHERE c.cremation_date <= d.death_date""",
        "nothing before birth": """
            SELECT count(*) FROM medical_visits v JOIN residents r USING (citizen_id)
            WHERE v.visit_date < r.birth_date""",
        "enterprise months only while it exists": """
            SELECT count(*) FROM enterprise_tax t JOIN enterprises e USING (credit_code)
            WHERE e.established_date > last_day(t.month)
               OR coalesce(e.deregistered_date, DATE '9999-12-31') <= t.month""",
        "trip dates are local dates of the UTC boarding time": """
            SELECT count(*) FROM transit_trips
            WHERE CAST(timezone('Asia/Shanghai', boarded_at) AS DATE) <> trip_date""",
    }
    failures = {name: n for name, sql in checks.items() if (n := _count(small_db, sql))}
    assert not failures


def test_events_stay_in_the_window(small_city: City, small_db: duckdb.DuckDBPyConnection) -> None:
    as_of = small_city.config.as_of
    for table, column in [
        ("medical_visits", "visit_date"),
        ("transit_trips", "trip_date"),
        ("pension_payments", "pay_date"),
        ("unemployment_benefits", "pay_date"),
        ("insurance_contributions", "month"),
        ("utility_usage", "month"),
        ("death_registrations", "death_date"),
        ("social_security_card_uses", "used_on"),
        ("benefit_collections", "collected_on"),
    ]:
        row = small_db.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
        assert row is not None
        assert row[0] >= as_of.replace(year=as_of.year - 1, day=1), table
        assert row[1] <= as_of, table
