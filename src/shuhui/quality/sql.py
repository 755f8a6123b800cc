"""The identifier checks of GB 11643 (citizen ID), GB 32100 (unified social credit code) and
GB/T 2260 (division codes) as DuckDB SQL expressions, so a check runs set-based over a column."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from shuhui.core.ids import (
    AUTHORITIES,
    CENTRAL_DIVISION_PREFIX,
    CITIZEN_CHECK_CHARS,
    CITIZEN_WEIGHTS,
    CREDIT_CODE_CHARSET,
    CREDIT_WEIGHTS,
    MIN_BIRTH_YEAR,
)
from shuhui.core.regions import PROVINCE_CODES


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def in_list(values: Iterable[str]) -> str:
    return ", ".join(sql_string(v) for v in sorted(values))


_PROVINCES = in_list(PROVINCE_CODES)
_CREDIT_PROVINCES = in_list({*PROVINCE_CODES, CENTRAL_DIVISION_PREFIX})
_CREDIT_PAIRS = in_list(a + c for a, (_name, cats) in AUTHORITIES.items() for c in cats)
# The credit-code character set as a regular-expression class: no I, O, S, V, Z.
_CREDIT_CLASS = "[" + "".join(sorted(set(CREDIT_CODE_CHARSET))) + "]"


def citizen_id_digits_sql(x: str) -> str:
    """The first 17 characters of ``x`` as a BIGINT (NULL unless they are all digits)."""
    return f"try_cast(substr({x}, 1, 17) AS BIGINT)"


def citizen_id_sql(x: str, today: date, digits: str | None = None) -> str:
    """A SQL boolean: ``x`` is a valid GB 11643 citizen identity number (as ``ids`` decides).

    ``x`` is a SQL expression of type VARCHAR; the result is never NULL (NULL in is false). The
    17 digits are read as one BIGINT and taken apart arithmetically, for the MOD 11-2 sum and
    the birth date: six times faster in DuckDB than 17 ``substr`` calls. DuckDB does not share
    that cast between the 20-odd places that use it, so a query over many values should
    project :func:`citizen_id_digits_sql` as a column once and pass its name as ``digits``.
    """
    n = digits or citizen_id_digits_sql(x)
    total = " + ".join(
        f"{n} // {10 ** (17 - i)} % 10 * {w}" for i, w in enumerate(CITIZEN_WEIGHTS, 1)
    )
    ymd = f"({n} // 1000 % 100000000)"
    y, m, d = f"({ymd} // 10000)", f"({ymd} // 100 % 100)", f"({ymd} % 100)"
    leap = f"({y} % 4 = 0 AND {y} % 100 <> 0 OR {y} % 400 = 0)"
    days = f"([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][{m}] + ({m} = 2 AND {leap})::INT)"
    checks = sql_string(CITIZEN_CHECK_CHARS)
    return (
        f"coalesce(regexp_full_match({x}, '[0-9]{{17}}[0-9X]')"
        f" AND substr({x}, 1, 2) IN ({_PROVINCES})"
        f" AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days}"
        f" AND {y} >= {MIN_BIRTH_YEAR}"
        f" AND {ymd} <= {today:%Y%m%d}"
        f" AND substr({x}, 18, 1) = substr({checks}, (12 - ({total}) % 11) % 11 + 1, 1), false)"
    )


def credit_code_sql(x: str) -> str:
    """A SQL boolean: ``x`` is a valid GB 32100 unified social credit code (never NULL)."""
    charset = sql_string(CREDIT_CODE_CHARSET)
    total = " + ".join(
        f"(instr({charset}, {x}[{i}]) - 1) * {w}" for i, w in enumerate(CREDIT_WEIGHTS, 1)
    )
    return (
        f"coalesce(regexp_full_match({x}, '{_CREDIT_CLASS}{{18}}')"
        f" AND substr({x}, 1, 2) IN ({_CREDIT_PAIRS})"
        f" AND regexp_full_match(substr({x}, 3, 6), '[0-9]{{6}}')"
        f" AND substr({x}, 3, 2) IN ({_CREDIT_PROVINCES})"
        f" AND instr({charset}, {x}[18]) - 1 = (31 - ({total}) % 31) % 31, false)"
    )


def division_sql(x: str) -> str:
    """A SQL boolean: ``x`` is a 6-digit GB/T 2260 code under a known province (never NULL)."""
    return (
        f"coalesce(regexp_full_match({x}, '[0-9]{{6}}') AND substr({x}, 1, 2) IN ({_PROVINCES}),"
        " false)"
    )


def identifier_sql(check: str, x: str, today: date, digits: str | None = None) -> str:
    if check == "citizen_id":
        return citizen_id_sql(x, today, digits)
    if check == "credit_code":
        return credit_code_sql(x)
    if check == "division":
        return division_sql(x)
    raise ValueError(f"unknown identifier check {check!r}")
