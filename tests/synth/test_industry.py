"""The digital economy of the synthetic city: the project pipeline, the digital-economy
enterprises' revenue and the platforms' enablements — codes from the content, dates in order,
every enterprise real and alive when it acted, shares that look like a city."""

from __future__ import annotations

from datetime import date
from functools import cache

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.enterprise import platforms
from shuhui.synth import industry
from shuhui.synth.context import Window
from shuhui.synth.enterprises import Enterprises, build_enterprises
from tests.synth.conftest import City

CITY = DEFAULT_DIR / "qingdao"
AS_OF = date(2026, 10, 31)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


# --- one source of truth -----------------------------------------------------------------------


def test_the_codes_are_the_contents() -> None:
    cat = industry.catalogue(CITY)
    items = load_items(CITY / "enterprise" / "industry.yaml", "enterprise-industry")
    fields = {i.code for i in items if i.attrs.get("type") == "field"}
    parks = {i.code: str(i.attrs["district_code"]) for i in items if i.attrs.get("type") == "park"}
    assert set(cat.fields) == fields and len(fields) == 10
    assert dict(zip(cat.parks, cat.park_district, strict=True)) == parks
    listed = platforms.load(CITY)
    assert cat.platforms == tuple(p.code for p in listed.platforms)
    assert cat.solutions == tuple(s.code for s in listed.solutions())
    assert [cat.platforms[i] for i in cat.solution_platform] == [
        s.platform for s in listed.solutions()
    ]
    # The generator's parameters are keyed by the same field codes.
    assert set(industry.FIELD_GROWTH) == fields
    assert set(industry.FIELD_INVESTMENT) == fields
    assert set(industry.FIELD_OBJECTS) == fields
    assert set().union(*(set(w) for w in industry.SECTION_FIELDS.values())) <= fields
    # Every field has a park that hosts it.
    assert cat.park_hosts.any(axis=0).all()


# --- the tables of the demo city ---------------------------------------------------------------


@pytest.fixture(scope="module")
def db(demo_city: City) -> duckdb.DuckDBPyConnection:
    return demo_city.connect()


def test_projects_move_through_their_stages_in_order(db: duckdb.DuckDBPyConnection) -> None:
    assert _one(db, "SELECT count(*) FROM industry_projects") >= 20
    broken = {
        "a later stage without the one before": """
            SELECT count(*) FROM industry_projects
            WHERE (started_date IS NULL AND completed_date IS NOT NULL)
               OR (completed_date IS NULL AND producing_date IS NOT NULL)""",
        "a stage before the one it follows": """
            SELECT count(*) FROM industry_projects
            WHERE started_date <= signed_date OR completed_date < started_date
               OR producing_date < completed_date""",
        "output without production, or production without output": """
            SELECT count(*) FROM industry_projects
            WHERE (producing_date IS NULL) <> (annual_output_fen IS NULL)""",
        "a date after the as-of date": f"""
            SELECT count(*) FROM industry_projects
            WHERE greatest(signed_date, started_date, completed_date, producing_date)
                  > DATE '{AS_OF}'""",
        "nothing invested": "SELECT count(*) FROM industry_projects WHERE investment_fen <= 0",
        "a name without Chinese": """
            SELECT count(*) FROM industry_projects
            WHERE NOT regexp_matches(name, '^[一-龥0-9A-Z]+项目$')""",
        "a code not of its signing year": """
            SELECT count(*) FROM industry_projects
            WHERE project_code NOT LIKE 'SZXM' || year(signed_date) || '-%'""",
    }
    failures = {name: n for name, sql in broken.items() if (n := _one(db, sql))}
    assert not failures


def test_every_code_is_the_contents(db: duckdb.DuckDBPyConnection) -> None:
    cat = industry.catalogue(CITY)
    listed = platforms.load(CITY)
    parks = dict(zip(cat.parks, cat.park_district, strict=True))
    rows = db.execute("SELECT field_code, park_code, district_code FROM industry_projects")
    for field, park, district in rows.fetchall():
        assert field in cat.fields and parks[park] == district
    for (field,) in db.execute("SELECT DISTINCT field_code FROM digital_economy_output").fetchall():
        assert field in cat.fields
    owners = {s.code: s.platform for s in listed.solutions()}
    enabled = db.execute("SELECT DISTINCT platform_code, solution_code FROM platform_enablements")
    for platform, solution in enabled.fetchall():
        assert owners[solution] == platform


def test_every_enterprise_is_real_and_alive_when_it_acted(
    db: duckdb.DuckDBPyConnection,
) -> None:
    alive = "e.established_date <= {d} AND coalesce(e.deregistered_date, DATE '9999-12-31') > {d}"
    for table, when in (
        ("industry_projects", "t.signed_date"),
        ("platform_enablements", "t.enabled_date"),
        ("digital_economy_output", "last_day(t.month)"),
    ):
        dangling = _one(
            db,
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM enterprises e WHERE e.credit_code = t.credit_code)",
        )
        assert dangling == 0, table
        if table == "digital_economy_output":
            when_alive = (
                "e.established_date <= last_day(t.month) "
                "AND coalesce(e.deregistered_date, DATE '9999-12-31') > t.month"
            )
        else:
            when_alive = alive.format(d=when)
        dead = _one(
            db,
            f"SELECT count(*) FROM {table} t JOIN enterprises e USING (credit_code) "
            f"WHERE NOT ({when_alive})",
        )
        assert dead == 0, table


def test_keys_are_unique(db: duckdb.DuckDBPyConnection) -> None:
    for table, key in (
        ("industry_projects", "project_code"),
        ("digital_economy_output", "credit_code, month"),
        ("platform_enablements", "credit_code, solution_code"),
    ):
        twice = f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)"
        assert _one(db, twice) == 0, table


def test_enablements_come_late_enough(db: duckdb.DuckDBPyConnection) -> None:
    opened = {p.code: p.valid_from for p in platforms.load(CITY).platforms}
    rows = db.execute(
        "SELECT platform_code, min(enabled_date) FROM platform_enablements GROUP BY 1"
    )
    for platform, first in rows.fetchall():
        assert first >= opened[platform], platform
    per_firm = db.execute(
        "SELECT max(n), min(n) FROM"
        " (SELECT count(*) n FROM platform_enablements GROUP BY credit_code)"
    ).fetchone()
    assert per_firm is not None and per_firm[1] >= 1 and per_firm[0] <= 3
    # A register reported monthly: the newest rows are from the as-of month.
    newest = db.execute("SELECT max(enabled_date) FROM platform_enablements").fetchone()
    assert newest is not None and (AS_OF - newest[0]).days <= 14
    signed = db.execute("SELECT max(signed_date) FROM industry_projects").fetchone()
    assert signed is not None and (AS_OF - signed[0]).days <= 14


def test_revenue_covers_the_months_for_year_on_year_growth(db: duckdb.DuckDBPyConnection) -> None:
    row = db.execute(
        "SELECT min(month), max(month), min(revenue_fen) FROM digital_economy_output"
    ).fetchone()
    assert row is not None
    assert row[0] == date(AS_OF.year - 2, 1, 1) and row[1] == AS_OF.replace(day=1)
    assert row[2] > 0


# --- shares at a larger scale ---------------------------------------------------------------


@cache
def _register(count: int = 60_000, seed: int = 5) -> Enterprises:
    window = Window.ending(AS_OF, 12)
    return build_enterprises(
        count=count,
        seed=seed,
        window=window,
        distress_rate=0.03,
        chunk_sizes=np.array([count]),
    )


@cache
def _tables(seed: int = 5) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    batches: dict[str, list[pa.RecordBatch]] = {}
    ent = _register(seed=seed)
    for spec, rows in industry.generate(ent, seed, AS_OF, CITY):
        batches.setdefault(spec.name, []).append(rows)
    for name, parts in batches.items():
        con.register(name, pa.Table.from_batches(parts))
    con.register(
        "register",
        pa.table(
            {
                "credit_code": ent.credit_code,
                "section": np.array(industry._SECTIONS)[ent.section],
                "size": ent.size,
                "live": ent.deregistered == industry.NEVER,
            }
        ),
    )
    return con


def test_the_same_year_share_is_plausible_and_rises() -> None:
    con = _tables()
    shares = dict(
        con.execute(
            """SELECT year(signed_date), avg((year(started_date) = year(signed_date))::INT)
               FROM industry_projects GROUP BY 1"""
        ).fetchall()
    )
    assert set(range(2019, AS_OF.year + 1)) <= set(shares)
    early = np.mean([shares[y] for y in (2019, 2020, 2021)])
    late = np.mean([shares[y] for y in (2023, 2024, 2025)])
    assert 0.25 < early < 0.55 < late < 0.8, shares
    # Big projects are few and capital-heavy: a median of some 亿元, chips above software.
    medians = dict(
        con.execute(
            "SELECT field_code, median(investment_fen) / 1e10 FROM industry_projects GROUP BY 1"
        ).fetchall()
    )
    assert 0.5 < medians["software"] < 5 < medians["integrated-circuits"] < 80


def test_enablement_reaches_more_of_manufacturing_and_larger_firms() -> None:
    con = _tables()
    by = dict(
        con.execute(
            """SELECT section = 'C' AND size <= 1, avg((e.credit_code IS NOT NULL)::INT)
               FROM register r LEFT JOIN (SELECT DISTINCT credit_code FROM platform_enablements) e
                    USING (credit_code)
               WHERE live GROUP BY 1"""
        ).fetchall()
    )
    assert 0.05 < by[False] < 0.35 < by[True]
    sections = dict(
        con.execute(
            """SELECT section = 'C', avg((e.credit_code IS NOT NULL)::INT)
               FROM register r LEFT JOIN (SELECT DISTINCT credit_code FROM platform_enablements) e
                    USING (credit_code)
               WHERE live GROUP BY 1"""
        ).fetchall()
    )
    assert sections[True] > 1.5 * sections[False]
    new = dict(
        con.execute(
            """SELECT year(first), count(*) FROM
               (SELECT credit_code, min(enabled_date) AS first FROM platform_enablements GROUP BY 1)
               GROUP BY 1"""
        ).fetchall()
    )
    assert new[2019] < new[2021] < new[2023] <= new[2025] * 1.1
    # The super platform enables the most.
    top = con.execute(
        "SELECT platform_code FROM platform_enablements GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    assert top == ("cosmoplat",)


def test_growth_differs_by_field() -> None:
    con = _tables()
    yoy = """sum(revenue_fen) FILTER (WHERE year(month) = 2025)
             / sum(revenue_fen) FILTER (WHERE year(month) = 2024) - 1"""
    growth = dict(
        con.execute(f"SELECT field_code, {yoy} FROM digital_economy_output GROUP BY 1").fetchall()
    )
    assert len(growth) == 10
    assert max(growth.values()) - min(growth.values()) > 0.15
    assert all(-0.3 < g < 1.5 for g in growth.values())
    # A field's total swings with its few large firms; fields growing fast and fields growing
    # slowly, taken together, keep their order.
    fast = ("quantum", "virtual-reality", "artificial-intelligence")
    slow = ("smart-terminals", "new-display", "digital-creative")
    grouped = dict(
        con.execute(
            f"""SELECT field_code IN {fast}, {yoy} FROM digital_economy_output
                WHERE field_code IN {fast + slow} GROUP BY 1"""
        ).fetchall()
    )
    assert grouped[True] > grouped[False] + 0.08


def test_a_city_with_no_enterprise_to_act_writes_empty_tables() -> None:
    ent = _register(count=1, seed=1)
    early = date(2018, 6, 30)
    rows = {spec.name: b.num_rows for spec, b in industry.generate(ent, 1, early, CITY)}
    assert rows["industry_projects"] == rows["platform_enablements"] == 0
