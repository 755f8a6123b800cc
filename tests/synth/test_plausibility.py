"""The demo city looks like a city: tolerant bounds on the shapes everyone knows."""

from __future__ import annotations

import duckdb

from tests.synth.conftest import City


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0])


AGE = "date_diff('year', birth_date, DATE '2026-10-31')"


def test_population_shape(demo_db: duckdb.DuckDBPyConnection) -> None:
    over_60 = _one(demo_db, f"SELECT avg(({AGE} >= 60)::INT) FROM residents")
    assert 0.15 <= over_60 <= 0.30
    children = _one(demo_db, f"SELECT avg(({AGE} < 15)::INT) FROM residents")
    assert 0.08 <= children <= 0.20
    sex_ratio = _one(
        demo_db, "SELECT sum((sex = '男')::INT) / sum((sex = '女')::INT) FROM residents"
    )
    assert 0.9 <= sex_ratio <= 1.1
    # Women outlive men.
    old_ratio = _one(
        demo_db,
        f"SELECT sum((sex = '男')::INT) / sum((sex = '女')::INT) FROM residents WHERE {AGE} >= 80",
    )
    assert old_ratio < 0.9


def test_places_and_registration(demo_db: duckdb.DuckDBPyConnection) -> None:
    rows = dict(
        demo_db.execute(
            "SELECT district_code, avg((hukou_type = '农村')::INT) FROM residents GROUP BY 1"
        ).fetchall()
    )
    assert len(rows) == 10
    assert rows["370202"] < 0.1 < 0.4 < rows["370283"]  # 市南区 is urban, 平度市 rural
    biggest = demo_db.execute(
        "SELECT district_code FROM residents GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    assert biggest == ("370211",)  # 黄岛区 (West Coast New Area)


def test_deaths_and_cremations(demo_city: City, demo_db: duckdb.DuckDBPyConnection) -> None:
    rate = _one(demo_db, "SELECT count(*) FROM death_registrations") / demo_city.config.residents
    assert 0.004 <= rate <= 0.011
    cremated = _one(demo_db, "SELECT count(*) FROM cremations") / _one(
        demo_db, "SELECT count(*) FROM death_registrations"
    )
    assert 0.8 <= cremated <= 1.0
    mean_age = _one(
        demo_db,
        "SELECT avg(date_diff('year', r.birth_date, d.death_date)) FROM death_registrations d"
        " JOIN residents r USING (citizen_id)",
    )
    assert mean_age > 65


def test_employment_by_age(demo_db: duckdb.DuckDBPyConnection) -> None:
    rates = dict(
        demo_db.execute(
            f"""
            SELECT CASE WHEN {AGE} < 16 THEN 'child' WHEN {AGE} BETWEEN 30 AND 44 THEN 'prime'
                        WHEN {AGE} >= 65 THEN 'old' ELSE 'other' END AS band,
                   avg((EXISTS (SELECT 1 FROM employment_spells s WHERE s.citizen_id = r.citizen_id
                                AND s.end_date IS NULL))::INT)
            FROM residents r GROUP BY 1"""
        ).fetchall()
    )
    assert rates["child"] == 0
    assert rates["old"] == 0
    assert 0.5 <= rates["prime"] <= 0.9


def test_wages_by_industry(demo_db: duckdb.DuckDBPyConnection) -> None:
    wage = dict(
        demo_db.execute(
            "SELECT e.industry_code, median(s.monthly_wage_fen) FROM employment_spells s"
            " JOIN enterprises e USING (credit_code) GROUP BY 1"
        ).fetchall()
    )
    assert min(wage["I"], wage["J"]) > max(wage["A"], wage["H"]) * 1.5
    minimum = _one(demo_db, "SELECT min(monthly_wage_fen) FROM employment_spells")
    assert minimum >= 220_000  # the minimum wage


def test_retirement_and_pensions(demo_db: duckdb.DuckDBPyConnection) -> None:
    # Nobody starts before 45 (the earliest lawful age: women in special job types or retired
    # through illness), and men before 60 only in those two categories — but for the injected
    # early retirements (truth_early_retirement).
    lawful = "pension_id NOT IN (SELECT pension_id FROM truth_early_retirement)"
    young = _one(
        demo_db,
        "SELECT count(*) FROM pension_recipients p JOIN residents r USING (citizen_id)"
        f" WHERE p.start_date < r.birth_date + INTERVAL 45 YEAR AND {lawful}",
    )
    assert young == 0
    men_early = _one(
        demo_db,
        "SELECT count(*) FROM pension_recipients p JOIN residents r USING (citizen_id)"
        " WHERE r.sex = '男' AND p.start_date < r.birth_date + INTERVAL 60 YEAR"
        f" AND retirement_category NOT IN ('特殊工种', '因病完全丧失劳动能力') AND {lawful}",
    )
    assert men_early == 0
    # Categories: 城乡居民 is exactly the residents' scheme; special job types and illness are
    # a small part of employee pensions, women cadres fewer than women workers.
    shares = dict(
        demo_db.execute(
            "SELECT retirement_category, count(*) / sum(count(*)) OVER ()"
            " FROM pension_recipients WHERE scheme = '城镇职工基本养老保险' GROUP BY 1"
        ).fetchall()
    )
    assert set(shares) == {"男职工", "女干部", "女工人", "特殊工种", "因病完全丧失劳动能力"}
    assert 0.03 < shares["特殊工种"] < 0.1
    assert 0.003 < shares["因病完全丧失劳动能力"] < 0.03
    assert shares["女干部"] < shares["女工人"]
    mismatched = _one(
        demo_db,
        "SELECT count(*) FROM pension_recipients"
        " WHERE (scheme = '城乡居民基本养老保险') <> (retirement_category = '城乡居民')",
    )
    assert mismatched == 0
    employee, resident = demo_db.execute(
        "SELECT median(monthly_amount_fen) FILTER (scheme = '城镇职工基本养老保险'),"
        " median(monthly_amount_fen) FILTER (scheme = '城乡居民基本养老保险')"
        " FROM pension_recipients"
    ).fetchone() or (0, 0)
    assert 250_000 <= employee <= 600_000 and 15_000 <= resident <= 80_000
    share = _one(
        demo_db,
        "SELECT avg((citizen_id IN (SELECT citizen_id FROM pension_recipients))::INT)"
        f" FROM residents WHERE {AGE} >= 65",
    )
    assert share > 0.85


def test_pensioners_leave_traces(demo_db: duckdb.DuckDBPyConnection) -> None:
    active = _one(
        demo_db,
        """
        SELECT avg((EXISTS (SELECT 1 FROM medical_visits v WHERE v.citizen_id = r.citizen_id)
                 OR EXISTS (SELECT 1 FROM transit_trips t WHERE t.citizen_id = r.citizen_id)
                 OR EXISTS (SELECT 1 FROM utility_usage u
                            WHERE u.household_id = r.household_id))::INT)
        FROM residents r WHERE r.citizen_id IN (SELECT citizen_id FROM pension_recipients)""",
    )
    assert active > 0.95
    visited = _one(
        demo_db,
        "SELECT avg((citizen_id IN (SELECT citizen_id FROM medical_visits))::INT)"
        " FROM pension_recipients",
    )
    assert visited > 0.8


def test_card_uses_and_collections(demo_db: duckdb.DuckDBPyConnection) -> None:
    pensioners = "(SELECT citizen_id FROM pension_recipients)"
    per_pensioner, per_other = demo_db.execute(
        f"""SELECT count(*) FILTER (citizen_id IN {pensioners})
                     / (SELECT count(DISTINCT citizen_id) FROM pension_recipients),
                   count(*) FILTER (citizen_id NOT IN {pensioners})
                     / (SELECT count(*) FROM residents
                        WHERE citizen_id NOT IN {pensioners})
            FROM social_security_card_uses"""
    ).fetchone() or (0, 0)
    # Pensioners use the card far more (pharmacy, senior bus pass, bank) than others.
    assert 12 <= per_pensioner <= 40 and 2 <= per_other <= 8
    bus_riders = _one(
        demo_db,
        f"""SELECT min({AGE}) FROM social_security_card_uses JOIN residents USING (citizen_id)
            WHERE purpose = '乘车'""",
    )
    assert bus_riders >= 60
    # A minority of pensioners collect in person, most of them several times a year.
    collectors, times = demo_db.execute(
        "SELECT count(DISTINCT citizen_id) / (SELECT count(DISTINCT citizen_id)"
        " FROM pension_recipients), count(*) / count(DISTINCT citizen_id)"
        " FROM benefit_collections"
    ).fetchone() or (0, 0)
    assert 0.1 <= collectors <= 0.35 and 3 <= times <= 10
    # Most in-person collections also show as a card use that day at that branch.
    matched = _one(
        demo_db,
        """SELECT avg((EXISTS (SELECT 1 FROM social_security_card_uses u
                   WHERE u.citizen_id = b.citizen_id AND u.used_on = b.collected_on
                   AND u.purpose = '待遇领取' AND u.place = b.branch))::INT)
           FROM benefit_collections b""",
    )
    assert 0.8 <= matched <= 0.97


def test_seasons(demo_db: duckdb.DuckDBPyConnection) -> None:
    winter, summer = demo_db.execute(
        "SELECT count(*) FILTER (month(visit_date) IN (12, 1, 2)),"
        " count(*) FILTER (month(visit_date) IN (6, 7, 8)) FROM medical_visits"
    ).fetchone() or (0, 0)
    assert winter > summer * 1.2
    respiratory = demo_db.execute(
        "SELECT count(*) FILTER (icd10_chapter = 'X' AND month(visit_date) IN (12, 1, 2)),"
        " count(*) FILTER (icd10_chapter = 'X' AND month(visit_date) IN (6, 7, 8))"
        " FROM medical_visits"
    ).fetchone() or (0, 0)
    assert respiratory[0] > respiratory[1] * 1.5
    gas = demo_db.execute(
        "SELECT sum(gas_m3) FILTER (month(month) = 1), sum(gas_m3) FILTER (month(month) = 7)"
        " FROM utility_usage"
    ).fetchone() or (0, 0)
    assert gas[0] > gas[1] * 1.5


def test_households(demo_db: duckdb.DuckDBPyConnection) -> None:
    mean_size = _one(demo_db, "SELECT avg(members) FROM households")
    assert 2.0 <= mean_size <= 3.2
    # Children live with an adult.
    alone = _one(
        demo_db,
        f"SELECT count(*) FROM households h JOIN residents r ON r.citizen_id = h.head_citizen_id"
        f" WHERE {AGE.replace('birth_date', 'r.birth_date')} < 16",
    )
    assert alone / _one(demo_db, "SELECT count(*) FROM households") < 0.01
    spouses = _one(
        demo_db,
        "SELECT count(*) FROM residents s JOIN households h USING (household_id)"
        " JOIN residents head ON head.citizen_id = h.head_citizen_id"
        " WHERE s.relation = '配偶' AND (s.sex = head.sex OR s.marital_status <> '已婚')",
    )
    assert spouses == 0


def test_enterprises(demo_db: duckdb.DuckDBPyConnection) -> None:
    sections = _one(demo_db, "SELECT count(DISTINCT industry_code) FROM enterprises")
    assert sections >= 15
    top = demo_db.execute(
        "SELECT industry_code FROM enterprises GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    assert top == ("F",)  # wholesale and retail
    micro = _one(demo_db, "SELECT avg((size_class = '微型')::INT) FROM enterprises")
    assert micro > 0.8
    big_capital = demo_db.execute(
        "SELECT median(registered_capital_fen) FILTER (size_class = '小型') >"
        " median(registered_capital_fen) FILTER (size_class = '微型') FROM enterprises"
    ).fetchone()
    assert big_capital == (True,)
    names = _one(
        demo_db, "SELECT avg((name LIKE '青岛%' OR name LIKE '%专业合作社')::INT) FROM enterprises"
    )
    assert names == 1.0
