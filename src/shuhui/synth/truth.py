"""The ground truth of the synthetic city: which rows of its data are anomalous, and how.

The generator injects anomalies (pensions paid after death, double pensions, unemployment benefit
while employed, enterprises in distress, people with no record, one account paid several
unrelated people's pensions, pensions started before the statutory age, contributions on a base
below the floor) and writes what it injected into
these ``truth_*`` tables. They are ``truth=True``, so the data core keeps them apart; nothing in
a data table of the city's standard (:mod:`shuhui.standard.tables`) says which rows are
anomalous. They are the generator's, not the city's: a city loading real data has none.
"""

from __future__ import annotations

from shuhui.datacore.schema import Column, TableSpec
from shuhui.standard import columns, vocabularies

__all__ = [
    "TRUTH_DOUBLE_PENSION",
    "TRUTH_EARLY_RETIREMENT",
    "TRUTH_ENTERPRISE_DISTRESS",
    "TRUTH_LOW_CONTRIBUTION_BASE",
    "TRUTH_NO_RECORD",
    "TRUTH_PENSION_AFTER_DEATH",
    "TRUTH_SHARED_ACCOUNT",
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
    description=(
        "一年内在就诊、乘车、社保卡用卡、待遇柜面领取记录中都没有出现的人员；"
        "独居者的户无水电气抄表或抄表用量为零。"
    ),
    primary_key=("citizen_id",),
    columns=(columns.citizen(),),
)

TRUTH_SHARED_ACCOUNT = TableSpec(
    name="truth_shared_account",
    title="【真值】一个账户收取多名无关人员养老金",
    department=_TRUTH,
    truth=True,
    description="同一收款账户收取不同户的多名领取人的养老金（同户家庭成员共用账户不在此列）。",
    primary_key=("account_no",),
    columns=(
        Column("account_no", "string", "收款账号", personal=True),
        columns.citizen("holder_citizen_id", "账户持有人公民身份号码"),
        Column("citizen_count", "int16", "收取其养老金的人数"),
        Column("household_count", "int16", "这些人分属的户数"),
    ),
)

TRUTH_EARLY_RETIREMENT = TableSpec(
    name="truth_early_retirement",
    title="【真值】未到法定退休年龄领取养老金",
    department=_TRUTH,
    truth=True,
    description="待遇起始时未达所记退休类别的法定退休年龄（按出生年月计，含渐进式延迟）。",
    primary_key=("pension_id",),
    columns=(
        Column("pension_id", "string", "待遇编号"),
        columns.citizen(),
        Column("category", "string", "所记退休类别", values=vocabularies.RETIREMENT_CATEGORIES),
        Column("age_at_start", "int16", "待遇起始时周岁"),
        Column("age_at_start_months", "int16", "待遇起始时年龄（足月数）"),
        Column("statutory_age_months", "int16", "法定退休年龄（月数）"),
    ),
)

TRUTH_LOW_CONTRIBUTION_BASE = TableSpec(
    name="truth_low_contribution_base",
    title="【真值】低于缴费基数下限申报缴费",
    department=_TRUTH,
    truth=True,
    primary_key=("credit_code", "month"),
    columns=(
        columns.credit(),
        columns.month(),
        Column("employees", "int32", "低于下限申报的职工人数"),
        Column("floor_fen", "int64", "当年缴费基数下限（分）"),
    ),
)

TRUTH_TABLES: tuple[TableSpec, ...] = (
    TRUTH_PENSION_AFTER_DEATH,
    TRUTH_DOUBLE_PENSION,
    TRUTH_UNEMPLOYMENT_WHILE_EMPLOYED,
    TRUTH_ENTERPRISE_DISTRESS,
    TRUTH_NO_RECORD,
    TRUTH_SHARED_ACCOUNT,
    TRUTH_EARLY_RETIREMENT,
    TRUTH_LOW_CONTRIBUTION_BASE,
)
