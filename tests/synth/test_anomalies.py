"""Injected anomalies: recorded only in truth tables, and visible in the data.

For the person-level anomalies, the shared account and the low contribution base a plain
detection rule over the data finds exactly the truth rows — the truth tables are complete and the
normal data has no false positives.
"""

from __future__ import annotations

import duckdb
import numpy as np

from shuhui.standard.vocabularies import RETIREMENT_CATEGORIES
from shuhui.synth.context import day_number
from shuhui.synth.retirement import statutory_start
from shuhui.synth.vocab import CONTRIBUTION_BASE_FLOOR_YUAN
from tests.synth.conftest import City

LIVING_PENSIONERS = """
    SELECT DISTINCT p.citizen_id FROM pension_recipients p
    WHERE NOT EXISTS (SELECT 1 FROM death_registrations d WHERE d.citizen_id = p.citizen_id)"""
PERSONAL_RECORDS = """
    EXISTS (SELECT 1 FROM medical_visits v WHERE v.citizen_id = r.citizen_id)
    OR EXISTS (SELECT 1 FROM transit_trips t WHERE t.citizen_id = r.citizen_id)
    OR EXISTS (SELECT 1 FROM social_security_card_uses u WHERE u.citizen_id = r.citizen_id)
    OR EXISTS (SELECT 1 FROM benefit_collections b WHERE b.citizen_id = r.citizen_id)"""


def _set(con: duckdb.DuckDBPyConnection, sql: str) -> set[tuple[object, ...]]:
    return set(con.execute(sql).fetchall())


def test_every_kind_of_anomaly_is_present(demo_city: City) -> None:
    for name in (
        "truth_pension_after_death",
        "truth_double_pension",
        "truth_unemployment_while_employed",
        "truth_enterprise_distress",
        "truth_no_record",
        "truth_shared_account",
        "truth_early_retirement",
        "truth_low_contribution_base",
    ):
        assert demo_city.rows[name] > 0, name


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
    # Nobody in the truth leaves a personal record, and those living alone no meter reading
    # above zero either.
    leaky = _set(
        demo_db,
        f"""SELECT citizen_id FROM truth_no_record JOIN residents r USING (citizen_id)
            WHERE {PERSONAL_RECORDS}
               OR (EXISTS (SELECT 1 FROM utility_usage u WHERE u.household_id = r.household_id
                           AND u.water_m3 + u.electricity_kwh + u.gas_m3 > 0)
                   AND (SELECT count(*) FROM residents o
                        WHERE o.household_id = r.household_id) = 1)""",
    )
    assert not leaky
    # Among living pensioners (whom a certification reads) the rule finds exactly the truth.
    found = _set(
        demo_db,
        f"""SELECT citizen_id FROM residents r WHERE citizen_id IN ({LIVING_PENSIONERS})
            AND NOT ({PERSONAL_RECORDS})""",
    )
    truth = _set(
        demo_db, f"SELECT citizen_id FROM truth_no_record WHERE citizen_id IN ({LIVING_PENSIONERS})"
    )
    assert found == truth
    assert truth
    # The residents' own draw (adults with no trace, registered here and living elsewhere) is
    # still there beside the pensioners.
    others = _set(
        demo_db,
        f"SELECT citizen_id FROM truth_no_record WHERE citizen_id NOT IN ({LIVING_PENSIONERS})",
    )
    assert others


def test_no_record_share_of_living_pensioners(demo_city: City) -> None:
    con = demo_city.connect()
    living = len(_set(con, LIVING_PENSIONERS))
    silent = len(
        _set(
            con, f"SELECT citizen_id FROM truth_no_record WHERE citizen_id IN ({LIVING_PENSIONERS})"
        )
    )
    share = demo_city.config.no_record_pensioner_share
    assert abs(silent / living - share) < 0.002
    # So 99 % of living pensioners leave some record in the year.
    assert abs((living - silent) / living - (1 - share)) < 0.002


def test_shared_account(demo_db: duckdb.DuckDBPyConnection) -> None:
    found = _set(
        demo_db,
        """SELECT p.payee_account, count(DISTINCT p.citizen_id), count(DISTINCT r.household_id)
           FROM pension_payments p JOIN residents r USING (citizen_id)
           GROUP BY 1 HAVING count(DISTINCT r.household_id) > 1""",
    )
    truth = _set(
        demo_db, "SELECT account_no, citizen_count, household_count FROM truth_shared_account"
    )
    assert found == truth
    # Sharing within a household is normal and common: counting recipients alone over-reports.
    naive = _set(
        demo_db,
        "SELECT payee_account FROM pension_payments"
        " GROUP BY 1 HAVING count(DISTINCT citizen_id) > 1",
    )
    assert len(naive) > 10 * len(truth)
    # The holder of a shared account is none of the people paid into it.
    holders = _set(
        demo_db,
        """SELECT t.account_no FROM truth_shared_account t JOIN pension_payments p
           ON p.payee_account = t.account_no WHERE p.citizen_id = t.holder_citizen_id""",
    )
    assert not holders


def test_early_retirement(demo_db: duckdb.DuckDBPyConnection) -> None:
    rows = demo_db.execute(
        """SELECT p.pension_id, r.birth_date, r.sex = '男', p.retirement_category, p.start_date
           FROM pension_recipients p JOIN residents r USING (citizen_id)"""
    ).fetchall()
    birth = np.array([day_number(row[1]) for row in rows])
    male = np.array([row[2] for row in rows])
    category = np.array([RETIREMENT_CATEGORIES.index(row[3]) for row in rows])
    start = np.array([day_number(row[4]) for row in rows])
    early = start < statutory_start(birth, male, category)
    found = {rows[i][0] for i in np.flatnonzero(early)}
    truth = {r[0] for r in _set(demo_db, "SELECT pension_id FROM truth_early_retirement")}
    assert found == truth
    # Special job types and illness retire early lawfully: their starts are not in the truth.
    lawful_early = _set(
        demo_db,
        """SELECT pension_id FROM pension_recipients
           WHERE retirement_category IN ('特殊工种', '因病完全丧失劳动能力')
           AND pension_id NOT IN (SELECT pension_id FROM truth_early_retirement)""",
    )
    assert len(lawful_early) > 20


def test_low_contribution_base(demo_db: duckdb.DuckDBPyConnection) -> None:
    floors = " ".join(
        f"WHEN {year} THEN {yuan * 100}" for year, yuan in CONTRIBUTION_BASE_FLOOR_YUAN.items()
    )
    found = _set(
        demo_db,
        f"""SELECT credit_code, month, count(DISTINCT citizen_id)
            FROM insurance_contributions
            WHERE base_fen < CASE year(month) {floors} END GROUP BY ALL""",
    )
    truth = _set(demo_db, "SELECT credit_code, month, employees FROM truth_low_contribution_base")
    assert found == truth
    # Only some enterprises, and only some of their staff.
    firms = {row[0] for row in truth}
    total = _set(demo_db, "SELECT credit_code FROM enterprises")
    assert 0 < len(firms) < 0.03 * len(total)


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
