"""The certification cycle's fast path (SQLite): the recipients simply certified by data —
nearly all of them — chosen and formatted in DuckDB and inserted with one ``executemany``;
everyone else goes back to the cycle's walk in Python (``cycle``). On another database every
row takes the walk."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.programs.certification.config import Cycle
from shuhui.programs.certification.models import Certification, PaymentHold
from shuhui.rules.language import Rule

# The columns a certification by data fills (the rest are NULL; run_id is the run's).
FAST_COLUMNS: Final = (
    "citizen_id",
    "year",
    "window_start",
    "window_end",
    "outcome",
    "method",
    "evidence",
    "score",
    "rule",
    "evaluated_on",
    "certified_on",
    "district_code",
    "updated_at",
)


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def split(
    con: Any,
    db: Session,
    evidence: str,
    cycle: Cycle,
    rule: Rule,
    on: date,
    now: datetime,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The evidence split in DuckDB: the recipients simply certified by data (alive, enough
    evidence, nothing held, no certification yet for the year — nearly all of them) as rows
    ready for SQLite's executemany, formatted in SQL; everyone else as evidence rows for the
    walk in Python. The years' certifications and the held pensions' recipients are handed to
    DuckDB as Arrow tables (registered under names of this run only)."""
    import uuid

    import pyarrow as pa

    tag = uuid.uuid4().hex[:12]
    ev, fast, known, held = (f"cert_{x}_{tag}" for x in ("ev", "fast", "known", "held"))
    keys = db.execute(
        select(Certification.citizen_id, Certification.year).where(
            Certification.year.in_((on.year - 1, on.year))
        )
    ).all()
    known_rows = pa.table(
        {
            "citizen_id": pa.array([k[0] for k in keys], pa.string()),
            "year": pa.array([k[1] for k in keys], pa.int32()),
        }
    )
    held_rows = pa.table(
        {
            "citizen_id": pa.array(
                list(db.scalars(select(PaymentHold.citizen_id).distinct())), pa.string()
            )
        }
    )
    con.register(known, known_rows)
    con.register(held, held_rows)
    day = sql_text(on.isoformat())
    stamp = sql_text(now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"))
    on_sql = f"DATE '{on.isoformat()}'"
    start = f"make_date({on.year}, month(birth_date), 1)"
    try:
        con.execute(f"CREATE TEMP TABLE {ev} AS {evidence}")
        con.execute(
            f"""
            CREATE TEMP TABLE {fast} AS
            WITH person AS (
                SELECT citizen_id, any_value(birth_date) AS birth_date,
                       arg_min(district_code, pension_id) AS district_code,
                       any_value(evidence) AS score, any_value(codes) AS codes
                FROM {ev}
                GROUP BY citizen_id
                HAVING bool_and(outcome = 'eligible' AND NOT died)
                   AND bool_and(birth_date IS NOT NULL)
            ),
            placed AS (
                SELECT *, CASE WHEN {start} <= {on_sql} THEN {start}
                               ELSE make_date({on.year - 1}, month(birth_date), 1) END AS ws
                FROM person
            )
            SELECT citizen_id, year(ws)::INTEGER AS year,
                   strftime(ws, '%Y-%m-%d') AS window_start,
                   strftime(ws + INTERVAL {cycle.window_months} MONTH - INTERVAL 1 DAY,
                            '%Y-%m-%d') AS window_end,
                   'certified' AS outcome, 'data' AS method, to_json(codes)::VARCHAR AS evidence,
                   score, {sql_text(rule.code)} AS rule, {day} AS evaluated_on,
                   {day} AS certified_on, district_code, {stamp} AS updated_at
            FROM placed p
            WHERE NOT EXISTS (SELECT 1 FROM {held} h WHERE h.citizen_id = p.citizen_id)
              AND NOT EXISTS (
                  SELECT 1 FROM {known} k
                  WHERE k.citizen_id = p.citizen_id AND k.year = year(p.ws)
              )
            """  # noqa: S608 - names of this run, checked codes, ISO dates
        )
        rows = con.execute(
            f"SELECT {', '.join(FAST_COLUMNS)} FROM {fast}"  # noqa: S608
        ).fetchall()
        rest = con.execute(
            f"SELECT * EXCLUDE (codes) FROM {ev} "  # noqa: S608
            f"WHERE citizen_id NOT IN (SELECT citizen_id FROM {fast}) "
            "ORDER BY citizen_id, pension_id"
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {ev}")
        con.execute(f"DROP TABLE IF EXISTS {fast}")
        con.unregister(known)
        con.unregister(held)
    return rows, rest


def insert_fast(db: Session, rows: list[tuple[Any, ...]], run_id: int) -> None:
    """The certifications by data, one executemany of rows DuckDB formatted (SQLite)."""
    marks = ", ".join("?" for _ in FAST_COLUMNS)
    db.connection().exec_driver_sql(
        f"INSERT INTO cert_certifications ({', '.join(FAST_COLUMNS)}, run_id) "  # noqa: S608
        f"VALUES ({marks}, {int(run_id)})",
        rows,
    )
