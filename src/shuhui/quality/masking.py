"""How a failing value is shown in a quality report: as it is, or masked when personal."""

from __future__ import annotations

from datetime import date, datetime

from shuhui.datacore.schema import Column


def mask(value: object, column: Column) -> str:
    """How a failing value is shown: as it is, or masked when the column is personal.

    Citizen identity numbers keep the division code and the last four characters
    (``370202********123X``, the usual public form); other text keeps its first and last
    character; dates keep the year; numbers are hidden.
    """
    if value is None:
        return "NULL"
    if isinstance(value, datetime | date):
        text = value.isoformat()
        return text[:4] + "-**-**" if column.personal else _show(text)
    if not column.personal:
        return _show(str(value))
    if isinstance(value, bool | int | float):
        return "***"
    text = str(value)
    n = len(text)
    if column.check == "citizen_id" and n == 18:
        return text[:6] + "*" * 8 + text[14:]
    if n <= 1:
        return "*"
    if n == 2:
        return text[0] + "*"
    return _show(text[0] + "*" * (n - 2) + text[-1])


def _show(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "…"
