"""Injected anomalies: recorded only in truth tables, and visible in the data.

For the three person-level anomalies a plain detection rule over the data finds exactly the
truth rows — the truth tables are complete and the normal data has no false positives.
"""

from __future__ import annotations

import duckdb

from tests.synth.conftest import City


def _set(con: duckdb.DuckDBPyConnection, sql: str) -> set[tuple[object, ...]]:
    return set(con.execute(sql).fetchall())


def test_every_kind_of_anomaly_is_present(demo_city: City) -> None:
    for name in (
        "truth_pension_after_death",
        "truth_double_pension",
        "truth_unemployment_while_employed",
        "truth_enterprise_distress",
        "truth_no_record",
    ):
        assert demo_city.rows[name] > 0, name
    assert demo_city.rows["truth_no_record"] == round(demo_city.config.residents * 0.01)


def test_pension_after_death(demo_db: duckdb.DuckDBPyConnection) -> None:
    found = _set(
        demo_db,
        """SELECT p.citizen_id, p.pension_id, d.death_date, count(*), sum(p.amount_fen)
           FROM pension_payments p JOIN death_registrations d USING (citizen_id)
           WHERE p.pay_date > d.death_date GROUP BY ALL""",
    )
    truth = _set(demo_db, "SELECT * FROM truth_pension_after_death")
    assert found == truth
    # The register still says the pension is running.
    statuses = _set(
        demo_db,
        "SELECT status FROM pension_recipients WHERE pension_id IN"
        " (SELECT pension_id FROM truth_pension_after_death)",
    )
    assert statuses == {("正常发放",)}


def test_double_pension(demo_db: duckdb.DuckDBPyConnection) -> None:
    found = _set(
        demo_db,
        """SELECT citizen_id FROM pension_recipients WHERE status = '正常发放'
           GROUP BY 1 HAVING count(DISTINCT scheme) > 1""",
    )
    truth = _set(demo_db, "SELECT citizen_id FROM truth_double_pension")
    assert found == truth
    paid_twice = _set(
        demo_db,
        """SELECT t.citizen_id FROM truth_double_pension t
           JOIN pension_payments a ON a.pension_id = t.pension_id
           JOIN pension_payments b
             ON b.pension_id = t.duplicate_pension_id AND b.month = a.month""",
    )
    assert paid_twice == truth


def test_unemployment_while_employed(demo_db: duckdb.DuckDBPyConnection) -> None:
    found = _set(
        demo_db,
        """SELECT b.registration_id, c.credit_code, count(DISTINCT b.month)
           FROM unemployment_benefits b JOIN insurance_contributions c
             ON c.citizen_id = b.citizen_id AND c.month = b.month
           GROUP BY ALL""",
    )
    truth = _set(
        demo_db,
        "SELECT registration_id, credit_code, overlap_months"
        " FROM truth_unemployment_while_employed",
    )
    assert found == truth
    spells = _set(
        demo_db,
        """SELECT t.registration_id FROM truth_unemployment_while_employed t
           JOIN employment_spells s ON s.citizen_id = t.citizen_id AND s.credit_code = t.credit_code
            AND s.start_date = t.employment_start""",
    )
    assert spells == {(r[0],) for r in truth}


def test_no_record(demo_db: duckdb.DuckDBPyConnection) -> None:
    found = _set(
        demo_db,
        """SELECT citizen_id FROM residents r
           WHERE NOT EXISTS (SELECT 1 FROM medical_visits v WHERE v.citizen_id = r.citizen_id)
             AND NOT EXISTS (SELECT 1 FROM transit_trips t WHERE t.citizen_id = r.citizen_id)
             AND NOT EXISTS (SELECT 1 FROM utility_usage u
                             WHERE u.household_id = r.household_id)""",
    )
    assert found == _set(demo_db, "SELECT citizen_id FROM truth_no_record")
    # Some of them are pensioners: the people a certification campaign must reach.
    pensioners = _set(
        demo_db,
        "SELECT citizen_id FROM truth_no_record"
        " INTERSECT SELECT citizen_id FROM pension_recipients",
    )
    assert pensioners


def test_enterprise_distress(demo_db: duckdb.DuckDBPyConnection) -> None:
    # Before/after means per distressed enterprise, for tax, electricity, headcount and arrears.
    rows = demo_db.execute(
        """
        WITH d AS (SELECT credit_code, distress_start FROM truth_enterprise_distress),
        last AS (SELECT max(month) AS m FROM enterprise_tax),
        tax AS (
          SELECT d.credit_code,
                 avg(t.tax_fen) FILTER (t.month < d.distress_start) AS before,
                 avg(t.tax_fen)
                   FILTER (t.month >= (SELECT m FROM last) - INTERVAL 1 MONTH) AS after
          FROM d JOIN enterprise_tax t USING (credit_code) GROUP BY 1),
        power AS (
          SELECT d.credit_code,
                 avg(e.electricity_kwh) FILTER (e.month < d.distress_start) AS before,
                 avg(e.electricity_kwh)
                   FILTER (e.month >= (SELECT m FROM last) - INTERVAL 1 MONTH) AS after
          FROM d JOIN enterprise_electricity e USING (credit_code) GROUP BY 1),
        staff AS (
          SELECT d.credit_code,
                 count(DISTINCT c.citizen_id)
                   FILTER (c.month = d.distress_start - INTERVAL 1 MONTH) AS before,
                 count(DISTINCT c.citizen_id) FILTER (c.month = (SELECT m FROM last)) AS after,
                 count(*)
                   FILTER (c.month > d.distress_start AND c.paid_fen < c.amount_fen) AS unpaid
          FROM d LEFT JOIN insurance_contributions c USING (credit_code) GROUP BY 1)
        SELECT tax.before, tax.after, power.before, power.after,
               staff.before, staff.after, staff.unpaid
        FROM tax JOIN power USING (credit_code) JOIN staff USING (credit_code)
        """
    ).fetchall()
    assert rows
    for tax_before, tax_after, kwh_before, kwh_after, staff_before, staff_after, unpaid in rows:
        assert tax_after < tax_before
        assert kwh_after < kwh_before * 0.8
        assert staff_after <= staff_before
        if staff_after:
            assert unpaid > 0
    # Healthy enterprises do not, on the whole, decline.
    healthy = demo_db.execute(
        """
        SELECT avg(e.electricity_kwh) FILTER (e.month >= DATE '2026-09-01')
             / avg(e.electricity_kwh) FILTER (e.month < DATE '2026-05-01')
        FROM enterprise_electricity e JOIN enterprises x USING (credit_code)
        WHERE x.status = '存续'
          AND credit_code NOT IN (SELECT credit_code FROM truth_enterprise_distress)
        """
    ).fetchone()
    assert healthy is not None and healthy[0] > 0.85
    arrears_elsewhere = demo_db.execute(
        """SELECT avg((paid_fen < amount_fen)::INT) FROM insurance_contributions
           WHERE credit_code NOT IN (SELECT credit_code FROM truth_enterprise_distress)"""
    ).fetchone()
    assert arrears_elsewhere is not None and arrears_elsewhere[0] < 0.01
