"""The ground truth of the synthetic city: which rows of its data are anomalous, and how.

The generator injects anomalies (pensions paid after death, double pensions, unemployment benefit
while employed, enterprises in distress, people with no record) and writes what it injected into
these ``truth_*`` tables. They are ``truth=True``, so the data core keeps them apart; nothing in
a data table of the city's standard (:mod:`shuhui.standard.tables`) says which rows are
anomalous. They are the generator's, not the city's: a city loading real data has none.
"""

from __future__ import annotations

from shuhui.datacore.schema import Column, TableSpec
from shuhui.standard import columns, vocabularies

__all__ = [
    "TRUTH_DOUBLE_PENSION",
    "TRUTH_ENTERPRISE_DISTRESS",
    "TRUTH_NO_RECORD",
    "TRUTH_PENSION_AFTER_DEATH",
    "TRUTH_TABLES",
    "TRUTH_UNEMPLOYMENT_WHILE_EMPLOYED",
]

_TRUTH = "数慧合成城市（评测真值）"


TRUTH_PENSION_AFTER_DEATH = TableSpec(
    name="truth_pension_after_death",
    title="【真值】死亡后继续发放养老金",
    department=_TRUTH,
    truth=True,
    primary_key=("pension_id",),
    columns=(
        columns.citizen(),
        Column("pension_id", "string", "待遇编号"),
        Column("death_date", "date", "死亡日期"),
        Column("payments_after_death", "int16", "死亡后发放次数"),
        Column("amount_after_death_fen", "int64", "死亡后发放金额（分）"),
    ),
)

TRUTH_DOUBLE_PENSION = TableSpec(
    name="truth_double_pension",
    title="【真值】重复领取养老金",
    department=_TRUTH,
    truth=True,
    primary_key=("duplicate_pension_id",),
    columns=(
        columns.citizen(),
        Column("pension_id", "string", "正常待遇编号"),
        Column("duplicate_pension_id", "string", "重复待遇编号"),
        Column(
            "duplicate_scheme",
            "string",
            "重复领取的养老保险类别",
            values=vocabularies.PENSION_SCHEMES,
        ),
    ),
)

TRUTH_UNEMPLOYMENT_WHILE_EMPLOYED = TableSpec(
    name="truth_unemployment_while_employed",
    title="【真值】就业期间领取失业保险金",
    department=_TRUTH,
    truth=True,
    primary_key=("registration_id",),
    columns=(
        columns.citizen(),
        Column("registration_id", "string", "失业登记编号"),
        columns.credit(title="同期用人单位统一社会信用代码"),
        Column("employment_start", "date", "同期就业入职日期"),
        Column("overlap_months", "int16", "重叠月数"),
    ),
)

TRUTH_ENTERPRISE_DISTRESS = TableSpec(
    name="truth_enterprise_distress",
    title="【真值】经营困难企业",
    department=_TRUTH,
    truth=True,
    primary_key=("credit_code",),
    columns=(
        columns.credit(),
        Column("distress_start", "date", "困难起始月份（当月1日）"),
    ),
)

TRUTH_NO_RECORD = TableSpec(
    name="truth_no_record",
    title="【真值】无任何行为记录人员",
    department=_TRUTH,
    truth=True,
    description="在就诊、乘车、水电气记录中都没有出现的人员。",
    primary_key=("citizen_id",),
    columns=(columns.citizen(),),
)

TRUTH_TABLES: tuple[TableSpec, ...] = (
    TRUTH_PENSION_AFTER_DEATH,
    TRUTH_DOUBLE_PENSION,
    TRUTH_UNEMPLOYMENT_WHILE_EMPLOYED,
    TRUTH_ENTERPRISE_DISTRESS,
    TRUTH_NO_RECORD,
)
