"""The columns every table of the city's standard writes the same way.

A natural person is keyed by the 公民身份号码 (``citizen_id``), an enterprise by its
统一社会信用代码 (``credit_code``), a place by its GB/T 2260 division code; ``month`` columns hold
the first day of the month. Declaring these once keeps their types, titles, checks and
personal-information flags alike in every table that has them, the generator's ground-truth tables
included.
"""

from __future__ import annotations

from shuhui.datacore.schema import Column

__all__ = ["citizen", "credit", "district", "month", "person_name"]


def citizen(
    name: str = "citizen_id", title: str = "公民身份号码", *, required: bool = True
) -> Column:
    return Column(name, "string", title, required=required, personal=True, check="citizen_id")


def credit(
    name: str = "credit_code", title: str = "统一社会信用代码", *, required: bool = True
) -> Column:
    return Column(name, "string", title, required=required, check="credit_code")


def district(title: str = "行政区划代码") -> Column:
    return Column("district_code", "string", title, check="division")


def person_name(name: str = "name", title: str = "姓名") -> Column:
    return Column(name, "string", title, personal=True)


def month() -> Column:
    return Column("month", "date", "所属月份（当月1日）")
