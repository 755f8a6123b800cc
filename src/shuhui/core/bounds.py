"""The ranges every number and date a client sends is checked against, one set for all domains.

A value outside them is a 422 naming the field, never a database overflow (a 500): an id fits
the id columns (INTEGER, 32 bits in PostgreSQL), a position or size a JSON number read as a
double, a page starts and ends within what anyone pages through, a date lies in 1900–2100
(policies, campaigns, validity periods), and a time's offset can be converted to UTC. The
bounds are in the OpenAPI document too (``minimum``/``maximum``, a ``pattern`` on the year), so
a client or a fuzzer knows them.

The types are ``Annotated`` with ``annotated_types`` constraints rather than ``Field`` or
``Query``, so one type serves a pydantic field, a path parameter and a query parameter alike.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, WithJsonSchema

from shuhui.core.errors import invalid
from shuhui.core.i18n import Text

# The largest id taken: what the id columns hold (INTEGER, 32 bits in PostgreSQL). Ids are
# counted from 1, so this is never in the way.
MAX_ID = 2**31 - 1
# The largest position or size taken: the largest integer a JSON client carries exactly
# (JavaScript, and any tool reading JSON numbers as doubles, rounds 2^63−1 up to 2^63, which the
# databases' signed 64-bit integers cannot hold).
MAX_INDEX = 2**53 - 1
# Where a page may start: more rows than any table here holds, and far below MAX_ID.
MAX_OFFSET = 1_000_000_000
# The most rows one page may hold unless an endpoint says fewer.
MAX_LIMIT = 1_000
# The last page number a page's ``?page=`` may ask for.
MAX_PAGE = 1_000_000

FIRST_YEAR = 1900
LAST_YEAR = 2100
# The year window as JSON Schema says it (a format has no minimum): 1900–2099 and 2100.
YEAR_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|2100)-"

OUT_OF_RANGE = Text(
    f"日期超出允许范围（{FIRST_YEAR}–{LAST_YEAR} 年）",
    f"the date is outside the allowed range ({FIRST_YEAR}–{LAST_YEAR})",
)

# A database row's id: 1 … 2^31−1.
Id = Annotated[int, Ge(1), Le(MAX_ID)]
# A position counted from 0 (a ledger entry's index, a tree size): 0 … 2^53−1.
Index = Annotated[int, Ge(0), Le(MAX_INDEX)]
# Where a page starts, and how many rows it holds.
Offset = Annotated[int, Ge(0), Le(MAX_OFFSET)]
Limit = Annotated[int, Ge(1), Le(MAX_LIMIT)]
# A page's number, from 1.
Page = Annotated[int, Ge(1), Le(MAX_PAGE)]


def id_from(field: str, raw: str) -> int:
    """An id typed into a form (a checkbox's value), or the refusal naming ``field``."""
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise invalid(field, Text("应为有效编号", "a valid id number"))
    return int(raw)


def day_in_window(field: str, value: date) -> date:
    """``value`` when it lies in the date window, or the refusal naming ``field``."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise invalid(field, OUT_OF_RANGE)
    return value


def _in_window(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(OUT_OF_RANGE)
    return value


_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_day(value: object) -> object:
    """A date as people and clients write one, ``YYYY-MM-DD``: not a number of seconds, not a
    date and time (pydantic would read ``0`` as 1970-01-01 and drop a midnight time)."""
    if isinstance(value, datetime) or (isinstance(value, str) and not _ISO_DAY.fullmatch(value)):
        raise ValueError(Text("不是有效日期（年-月-日）", "not a valid date (YYYY-MM-DD)"))
    if isinstance(value, (int, float)):
        raise ValueError(Text("不是有效日期（年-月-日）", "not a valid date (YYYY-MM-DD)"))
    return value


def _moment_in_window(value: datetime) -> datetime:
    _in_window(value.date())
    # Within the window an offset of up to ±23:59 cannot overflow; converting here keeps it so
    # should the window ever widen to year 1 or 9999.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None
    return value


def _month(value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise ValueError(Text("应写成“年-月”，如 2024-05", "YYYY-MM, as 2024-05"))
    return value


MONTH_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)
# A month as ``YYYY-MM`` in the window (a statement's month), as a path or a query has it.
Month = Annotated[
    str, AfterValidator(_month), WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN})
]
# A calendar date in 1900–2100 (a policy's evaluation date, a campaign's, a month).
Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    AfterValidator(_in_window),
    WithJsonSchema({"type": "string", "format": "date", "pattern": YEAR_PATTERN}),
]
# A moment with its offset, in 1900–2100 (validity periods).
Moment = Annotated[
    AwareDatetime,
    AfterValidator(_moment_in_window),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": YEAR_PATTERN}),
]
