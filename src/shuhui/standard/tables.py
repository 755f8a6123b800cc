"""The city's data standard: the spec of every table of the data core.

Each table says its columns (types, Chinese titles, personal-information flags, identifier checks,
vocabularies), its primary key and the department that provides it. A load holds the incoming
data to these specs, rules are checked against them, the catalog describes them, and the
synthetic city (``shuhui.synth``) generates data that meets them.

Conventions that hold for all of them: money is integer fen (分) in columns ending ``_fen``; dates
are local (Asia/Shanghai) calendar dates and the only timestamp (``boarded_at``) is UTC; the
columns keyed by person, enterprise, place and month are in :mod:`shuhui.standard.columns`.
"""

from __future__ import annotations

from shuhui.datacore.schema import Column, TableSpec
from shuhui.standard import columns, vocabularies

__all__ = [
    "ADMINISTRATIVE_VILLAGES",
    "BENEFIT_ACCOUNTS",
    "BENEFIT_COLLECTIONS",
    "CARD_USES",
    "CERTIFICATES",
    "COLLEGE_GRADUATES",
    "CONTRIBUTIONS",
    "CREMATIONS",
    "DEATHS",
    "DIGITAL_ECONOMY_OUTPUT",
    "DISABLED_PERSONS",
    "DISTRICT_POPULATION",
    "EMPLOYMENT_SPELLS",
    "ENROLMENTS",
    "ENTERPRISES",
    "ENTERPRISE_ELECTRICITY",
    "ENTERPRISE_TAX",
    "HOUSEHOLDS",
    "INDUSTRY_PROJECTS",
    "INFRASTRUCTURE_ASSETS",
    "MEDICAL_VISITS",
    "PENSION_PAYMENTS",
    "PENSION_RECIPIENTS",
    "PLATFORM_ENABLEMENTS",
    "RESIDENTS",
    "TABLES",
    "TRANSIT_TRIPS",
    "UNEMPLOYMENT_BENEFITS",
    "UNEMPLOYMENT_REGISTRATIONS",
    "UTILITY_USAGE",
]

_POLICE = "市公安局"
_CIVIL = "市民政局"
_MARKET = "市市场监督管理局"
_HRSS = "市人力资源和社会保障局"
_NDRC = "市发展和改革委员会"
_STATS = "市统计局"
_INDUSTRY = "市工业和信息化局"


RESIDENTS = TableSpec(
    name="residents",
    title="常住人口基础信息",
    department=_POLICE,
    description="户籍与常住人口登记：每人一行，含生成窗口内死亡的人员。",
    primary_key=("citizen_id",),
    columns=(
        columns.citizen(),
        columns.person_name(),
        Column("sex", "string", "性别", personal=True, values=vocabularies.SEXES),
        Column("birth_date", "date", "出生日期", personal=True),
        columns.district("居住地行政区划代码"),
        Column("household_id", "string", "户号"),
        Column("relation", "string", "与户主关系", personal=True, values=vocabularies.RELATIONS),
        Column("hukou_type", "string", "户籍类型", values=vocabularies.HUKOU_TYPES),
        Column(
            "education", "string", "文化程度", personal=True, values=vocabularies.EDUCATION_LEVELS
        ),
        Column(
            "marital_status",
            "string",
            "婚姻状况",
            personal=True,
            values=vocabularies.MARITAL_STATUSES,
        ),
        Column("phone", "string", "手机号码", required=False, personal=True),
    ),
)

HOUSEHOLDS = TableSpec(
    name="households",
    title="户籍户信息",
    department=_POLICE,
    primary_key=("household_id",),
    columns=(
        Column("household_id", "string", "户号"),
        columns.citizen("head_citizen_id", "户主公民身份号码"),
        columns.district(),
        Column("address", "string", "住址", personal=True),
        Column("hukou_type", "string", "户籍类型", values=vocabularies.HUKOU_TYPES),
        Column("members", "int16", "户内人数"),
    ),
)

DEATHS = TableSpec(
    name="death_registrations",
    title="死亡登记信息",
    department=_CIVIL,
    kind="event",
    primary_key=("citizen_id",),
    columns=(
        columns.citizen(),
        columns.person_name(),
        Column("death_date", "date", "死亡日期", personal=True),
        Column("registered_date", "date", "登记日期"),
        columns.district("登记地行政区划代码"),
        Column("cause", "string", "死亡原因类别", personal=True, values=vocabularies.DEATH_CAUSES),
    ),
)

CREMATIONS = TableSpec(
    name="cremations",
    title="遗体火化信息",
    department=_CIVIL,
    kind="event",
    primary_key=("citizen_id",),
    columns=(
        columns.citizen(),
        columns.person_name(),
        Column("cremation_date", "date", "火化日期"),
        Column("funeral_home", "string", "殡仪馆"),
    ),
)

ENTERPRISES = TableSpec(
    name="enterprises",
    title="企业登记信息",
    department=_MARKET,
    description="注册资本以分计，与全库金额口径一致。",
    primary_key=("credit_code",),
    columns=(
        columns.credit(),
        Column("name", "string", "企业名称"),
        columns.citizen("legal_rep_citizen_id", "法定代表人公民身份号码"),
        columns.person_name("legal_rep_name", "法定代表人姓名"),
        Column(
            "industry_code",
            "string",
            "国民经济行业门类（GB/T 4754-2017）",
            values=tuple(code for code, _ in vocabularies.INDUSTRY_SECTIONS),
        ),
        Column("industry_name", "string", "行业门类名称"),
        Column("registered_capital_fen", "int64", "注册资本（分）"),
        Column("size_class", "string", "企业规模", values=vocabularies.SIZE_CLASSES),
        Column("status", "string", "登记状态", values=vocabularies.ENTERPRISE_STATUSES),
        Column("established_date", "date", "成立日期"),
        Column("deregistered_date", "date", "注销或吊销日期", required=False),
        columns.district("登记地行政区划代码"),
        Column("address", "string", "住所"),
    ),
)

EMPLOYMENT_SPELLS = TableSpec(
    name="employment_spells",
    title="就业登记（劳动关系）",
    department=_HRSS,
    primary_key=("citizen_id", "credit_code", "start_date"),
    columns=(
        columns.citizen(),
        columns.credit(title="用人单位统一社会信用代码"),
        Column("start_date", "date", "入职日期"),
        Column("end_date", "date", "离职日期", required=False),
        Column("monthly_wage_fen", "int64", "月工资（分）", personal=True),
    ),
)

ENROLMENTS = TableSpec(
    name="insurance_enrolments",
    title="社会保险参保登记",
    department=_HRSS,
    description="养老、医疗、失业、工伤四险参保状态；职工险种记录最近的参保单位。",
    primary_key=("citizen_id", "insurance_type", "scheme"),
    columns=(
        columns.citizen(),
        Column("insurance_type", "string", "险种", values=vocabularies.INSURANCE_TYPES),
        Column("scheme", "string", "参保类别", values=vocabularies.INSURANCE_SCHEMES),
        columns.credit(title="参保单位统一社会信用代码", required=False),
        Column("start_date", "date", "参保日期"),
        Column("status", "string", "参保状态", values=vocabularies.ENROLMENT_STATUSES),
    ),
)

CONTRIBUTIONS = TableSpec(
    name="insurance_contributions",
    title="社会保险缴费明细",
    department=_HRSS,
    kind="event",
    description="职工社会保险按月核定的应缴金额（单位与个人合计）与实缴金额。",
    primary_key=("citizen_id", "credit_code", "month", "insurance_type"),
    columns=(
        columns.citizen(),
        columns.credit(title="缴费单位统一社会信用代码"),
        columns.month(),
        Column("insurance_type", "string", "险种", values=vocabularies.INSURANCE_TYPES),
        Column("base_fen", "int64", "缴费基数（分）", personal=True),
        Column("amount_fen", "int64", "应缴金额（分）"),
        Column("paid_fen", "int64", "实缴金额（分）"),
    ),
)

PENSION_RECIPIENTS = TableSpec(
    name="pension_recipients",
    title="养老保险待遇领取人员",
    department=_HRSS,
    primary_key=("pension_id",),
    columns=(
        Column("pension_id", "string", "待遇编号"),
        columns.citizen(),
        Column("scheme", "string", "养老保险类别", values=vocabularies.PENSION_SCHEMES),
        Column("start_date", "date", "待遇起始日期"),
        Column("monthly_amount_fen", "int64", "月养老金（分）", personal=True),
        Column("status", "string", "发放状态", values=vocabularies.PENSION_STATUSES),
        Column("end_date", "date", "停发日期", required=False),
        columns.district("领取地行政区划代码"),
        Column(
            "retirement_category",
            "string",
            "退休类别",
            values=vocabularies.RETIREMENT_CATEGORIES,
        ),
    ),
)

PENSION_PAYMENTS = TableSpec(
    name="pension_payments",
    title="养老金发放明细",
    department=_HRSS,
    kind="event",
    primary_key=("pension_id", "month"),
    columns=(
        Column("pension_id", "string", "待遇编号"),
        columns.citizen(),
        columns.month(),
        Column("pay_date", "date", "发放日期"),
        Column("amount_fen", "int64", "发放金额（分）", personal=True),
        Column("payee_account", "string", "收款账号", personal=True),
    ),
)

BENEFIT_ACCOUNTS = TableSpec(
    name="benefit_accounts",
    title="社保待遇发放账户",
    department=_HRSS,
    description="社会保险待遇发放所用的银行账户（含社会保障卡金融账户），每个账户一行。",
    primary_key=("account_no",),
    columns=(
        Column("account_no", "string", "账号", personal=True),
        Column("bank", "string", "开户银行"),
        columns.citizen("holder_citizen_id", "账户持有人公民身份号码"),
        Column("opened_on", "date", "开户日期"),
    ),
)

BENEFIT_COLLECTIONS = TableSpec(
    name="benefit_collections",
    title="待遇柜面领取记录",
    department=_HRSS,
    kind="event",
    description="领取人本人持卡持证在银行柜面或自助终端领取养老金的记录。",
    columns=(
        columns.citizen(),
        Column("pension_id", "string", "待遇编号"),
        Column("collected_on", "date", "领取日期"),
        Column("branch", "string", "领取网点"),
        Column("method", "string", "领取方式", values=vocabularies.COLLECTION_METHODS),
    ),
)

UNEMPLOYMENT_REGISTRATIONS = TableSpec(
    name="unemployment_registrations",
    title="失业登记",
    department=_HRSS,
    primary_key=("registration_id",),
    columns=(
        Column("registration_id", "string", "失业登记编号"),
        columns.citizen(),
        Column("registered_date", "date", "登记日期"),
        columns.district("登记地行政区划代码"),
        Column("reason", "string", "失业原因", values=vocabularies.UNEMPLOYMENT_REASONS),
        Column("entitled_months", "int16", "可领取失业保险金月数"),
        Column("monthly_benefit_fen", "int64", "月失业保险金（分）"),
        Column("status", "string", "状态", values=vocabularies.UNEMPLOYMENT_STATUSES),
    ),
)

UNEMPLOYMENT_BENEFITS = TableSpec(
    name="unemployment_benefits",
    title="失业保险金发放明细",
    department=_HRSS,
    kind="event",
    primary_key=("registration_id", "month"),
    columns=(
        Column("registration_id", "string", "失业登记编号"),
        columns.citizen(),
        columns.month(),
        Column("pay_date", "date", "发放日期"),
        Column("amount_fen", "int64", "发放金额（分）"),
    ),
)

MEDICAL_VISITS = TableSpec(
    name="medical_visits",
    title="医疗机构就诊记录",
    department="市卫生健康委员会",
    kind="event",
    columns=(
        columns.citizen(),
        Column("hospital", "string", "医疗机构"),
        Column("visit_date", "date", "就诊日期"),
        Column("visit_type", "string", "就诊类型", values=vocabularies.VISIT_TYPES),
        Column(
            "icd10_chapter",
            "string",
            "疾病分类章（ICD-10）",
            personal=True,
            values=tuple(code for code, _ in vocabularies.ICD10_CHAPTERS),
        ),
        Column("diagnosis_category", "string", "疾病分类名称", personal=True),
        Column("total_cost_fen", "int64", "医疗总费用（分）"),
        Column("fund_paid_fen", "int64", "医保基金支付（分）"),
    ),
)

TRANSIT_TRIPS = TableSpec(
    name="transit_trips",
    title="公共交通实名刷卡记录",
    department="市交通运输局",
    kind="event",
    description="实名乘车卡刷卡记录（抽样）；乘车日期为本地日期，刷卡时间为 UTC 时间。",
    columns=(
        columns.citizen(),
        Column("trip_date", "date", "乘车日期"),
        Column("boarded_at", "timestamp", "刷卡时间（UTC）"),
        Column("mode", "string", "交通方式", values=vocabularies.TRANSIT_MODES),
        Column("line", "string", "线路"),
        columns.district("上车站所在行政区划代码"),
        Column("fare_fen", "int32", "票价（分）"),
    ),
)

UTILITY_USAGE = TableSpec(
    name="utility_usage",
    title="居民户水电气月度用量",
    department="市城市管理局",
    kind="event",
    description="按户号归集的自来水、电力、燃气抄表用量；未通燃气的户燃气用量为 0。",
    primary_key=("household_id", "month"),
    columns=(
        Column("household_id", "string", "户号"),
        columns.month(),
        Column("water_m3", "int32", "用水量（立方米）"),
        Column("electricity_kwh", "int32", "用电量（千瓦时）"),
        Column("gas_m3", "int32", "燃气用量（立方米）"),
    ),
)

CARD_USES = TableSpec(
    name="social_security_card_uses",
    title="社会保障卡用卡记录",
    department=_HRSS,
    kind="event",
    description="实体社会保障卡的用卡记录：就医购药、老年乘车、金融缴费、身份核验、待遇领取。",
    primary_key=("use_id",),
    columns=(
        Column("use_id", "string", "用卡流水号"),
        columns.citizen(),
        Column("used_on", "date", "用卡日期"),
        Column("purpose", "string", "用卡用途", values=vocabularies.CARD_USE_PURPOSES),
        Column("place", "string", "用卡地点"),
        columns.district("用卡地行政区划代码"),
    ),
)

ENTERPRISE_TAX = TableSpec(
    name="enterprise_tax",
    title="企业月度纳税及纳税信用等级",
    department="国家税务总局青岛市税务局",
    kind="event",
    primary_key=("credit_code", "month"),
    columns=(
        columns.credit(),
        columns.month(),
        Column("tax_fen", "int64", "当月入库税款（分）"),
        Column("credit_grade", "string", "纳税信用等级", values=vocabularies.CREDIT_GRADES),
    ),
)

ENTERPRISE_ELECTRICITY = TableSpec(
    name="enterprise_electricity",
    title="企业月度用电量",
    department="国网青岛供电公司",
    kind="event",
    primary_key=("credit_code", "month"),
    columns=(
        columns.credit(),
        columns.month(),
        Column("electricity_kwh", "int64", "用电量（千瓦时）"),
        Column("fee_fen", "int64", "电费（分）"),
    ),
)

CERTIFICATES = TableSpec(
    name="e_certificates",
    title="电子证照",
    department="市大数据发展管理局",
    description="持证主体为个人时填公民身份号码，为企业时填统一社会信用代码。",
    primary_key=("certificate_type", "certificate_no"),
    columns=(
        Column("certificate_no", "string", "证照编号"),
        Column("certificate_type", "string", "证照类型", values=vocabularies.CERTIFICATE_TYPES),
        Column("holder_type", "string", "持证主体类型", values=vocabularies.HOLDER_TYPES),
        columns.citizen("holder_citizen_id", "持证人公民身份号码", required=False),
        columns.credit("holder_credit_code", "持证单位统一社会信用代码", required=False),
        Column("holder_name", "string", "持证主体名称", personal=True),
        Column("issuer", "string", "发证机关"),
        Column("issue_date", "date", "发证日期"),
        Column("status", "string", "证照状态", values=vocabularies.CERTIFICATE_STATUSES),
    ),
)

COLLEGE_GRADUATES = TableSpec(
    name="college_graduates",
    title="高校毕业生信息",
    department="市教育局",
    description="近五年毕业、户籍或常住在青岛的高校毕业生，每人一行（最高学历）。",
    primary_key=("citizen_id",),
    columns=(
        columns.citizen(),
        columns.person_name(),
        Column("university", "string", "毕业院校"),
        Column("degree", "string", "学历层次", values=vocabularies.DEGREES),
        Column("major", "string", "专业"),
        Column("graduation_date", "date", "毕业日期"),
        Column("employment_status", "string", "就业状态", values=vocabularies.GRADUATE_STATUSES),
    ),
)

DISABLED_PERSONS = TableSpec(
    name="disabled_persons",
    title="持证残疾人信息",
    department="市残疾人联合会",
    primary_key=("citizen_id",),
    columns=(
        columns.citizen(),
        columns.person_name(),
        Column(
            "disability_type",
            "string",
            "残疾类别",
            personal=True,
            values=vocabularies.DISABILITY_TYPES,
        ),
        Column(
            "disability_level",
            "string",
            "残疾等级",
            personal=True,
            values=vocabularies.DISABILITY_LEVELS,
        ),
        Column("certificate_no", "string", "残疾人证号", personal=True),
        Column("issue_date", "date", "发证日期"),
        columns.district("户籍地行政区划代码"),
    ),
)

# --- digital infrastructure (shuhui.monitor.registry) -----------------------------------------

INFRASTRUCTURE_ASSETS = TableSpec(
    name="infrastructure_assets",
    title="数字基础设施及感知设备台账",
    department=_NDRC,
    description=(
        "5G基站、万兆无源光网络（10G-PON）端口组、数据中心机架组、电动汽车充电桩、多功能智能杆、"
        "智能交通信号灯和安全风险监测感知设备，每项一行；由运营商和主管部门报送，发改委汇总。"
        "未投用（建设中）的投用日期为空；停用的有停用日期。"
    ),
    primary_key=("asset_id",),
    columns=(
        Column("asset_id", "string", "设施编号"),
        Column("asset_type", "string", "设施类型", values=vocabularies.ASSET_TYPES),
        Column("name", "string", "设施名称"),
        columns.district("所在行政区划代码"),
        Column("street", "string", "所在街道（镇）或道路", required=False),
        Column("village_code", "string", "所在行政村代码", required=False),
        Column("lon", "float64", "经度（WGS-84）"),
        Column("lat", "float64", "纬度（WGS-84）"),
        Column("operator", "string", "运营单位"),
        Column("status", "string", "状态", values=vocabularies.ASSET_STATUSES),
        Column("commissioned_on", "date", "投用日期", required=False),
        Column("retired_on", "date", "停用日期", required=False),
        Column("capacity", "int32", "容量（端口数、机架数）", required=False),
        Column("sensor_type", "string", "感知设备类型", required=False),
        Column("site_id", "string", "监测对象编号（建筑、林区、化工企业）", required=False),
        Column("site_name", "string", "监测对象名称", required=False),
        columns.credit("site_credit_code", "监测对象统一社会信用代码（企业厂区）", required=False),
    ),
)

ADMINISTRATIVE_VILLAGES = TableSpec(
    name="administrative_villages",
    title="行政村名录",
    department=_CIVIL,
    description="行政村及其村委会位置；统计用区划代码12位（区县6位＋乡镇3位＋村3位）。",
    primary_key=("village_code",),
    columns=(
        Column("village_code", "string", "行政村代码"),
        Column("name", "string", "行政村名称"),
        columns.district(),
        Column("town", "string", "所属乡镇（街道）"),
        Column("lon", "float64", "村委会经度（WGS-84）"),
        Column("lat", "float64", "村委会纬度（WGS-84）"),
    ),
)

DISTRICT_POPULATION = TableSpec(
    name="district_population",
    title="分区（市）年末常住人口",
    department=_STATS,
    description="统计部门公布的年末常住人口（人），按区（市）和年份；每万人指标以此为分母。",
    primary_key=("year", "district_code"),
    columns=(
        Column("year", "int16", "年份"),
        columns.district(),
        Column("population", "int64", "年末常住人口（人）"),
    ),
)

# --- the digital economy (shuhui.enterprise) -------------------------------------------------
# Fields, parks, platforms and solutions are named by the codes of the city's content
# (content/<city>/enterprise/industry.yaml, platforms.yaml), not by a closed vocabulary here.

INDUSTRY_PROJECTS = TableSpec(
    name="industry_projects",
    title="数字经济重点项目库",
    department=_INDUSTRY,
    description=(
        "数字产业化重点项目，每项一行：签约 → 开工 → 竣工 → 投产。尚未到达的阶段日期为空；"
        "达产年产值在投产后填报。重点领域、园区按数字经济产业体系的编码。"
    ),
    primary_key=("project_code",),
    columns=(
        Column("project_code", "string", "项目编号"),
        Column("name", "string", "项目名称"),
        columns.credit(title="投资企业统一社会信用代码"),
        Column("field_code", "string", "重点领域编码"),
        Column("park_code", "string", "所在园区编码"),
        columns.district("项目所在行政区划代码"),
        Column("investment_fen", "int64", "计划总投资（分）"),
        Column("signed_date", "date", "签约日期"),
        Column("started_date", "date", "开工日期", required=False),
        Column("completed_date", "date", "竣工日期", required=False),
        Column("producing_date", "date", "投产日期", required=False),
        Column("annual_output_fen", "int64", "达产年产值（分）", required=False),
    ),
)

DIGITAL_ECONOMY_OUTPUT = TableSpec(
    name="digital_economy_output",
    title="数字经济核心产业企业月度主营业务收入",
    department=_STATS,
    kind="event",
    description="数字经济核心产业企业按月报送的主营业务收入，每企业每月一行，按企业所属重点领域归类。",
    primary_key=("credit_code", "month"),
    columns=(
        columns.credit(),
        columns.month(),
        Column("field_code", "string", "重点领域编码"),
        Column("revenue_fen", "int64", "当月主营业务收入（分）"),
    ),
)

PLATFORM_ENABLEMENTS = TableSpec(
    name="platform_enablements",
    title="工业互联网平台赋能企业记录",
    department=_INDUSTRY,
    kind="event",
    description="工业互联网平台以其解决方案赋能企业的记录：哪家平台、哪个方案、何时赋能哪家企业。",
    primary_key=("credit_code", "solution_code"),
    columns=(
        columns.credit(),
        Column("platform_code", "string", "平台编码"),
        Column("solution_code", "string", "解决方案编码"),
        Column("enabled_date", "date", "赋能日期"),
    ),
)

TABLES: tuple[TableSpec, ...] = (
    RESIDENTS,
    HOUSEHOLDS,
    DEATHS,
    CREMATIONS,
    ENTERPRISES,
    EMPLOYMENT_SPELLS,
    ENROLMENTS,
    CONTRIBUTIONS,
    PENSION_RECIPIENTS,
    PENSION_PAYMENTS,
    BENEFIT_ACCOUNTS,
    UNEMPLOYMENT_REGISTRATIONS,
    UNEMPLOYMENT_BENEFITS,
    MEDICAL_VISITS,
    TRANSIT_TRIPS,
    UTILITY_USAGE,
    CARD_USES,
    BENEFIT_COLLECTIONS,
    ENTERPRISE_TAX,
    ENTERPRISE_ELECTRICITY,
    CERTIFICATES,
    COLLEGE_GRADUATES,
    DISABLED_PERSONS,
    INFRASTRUCTURE_ASSETS,
    ADMINISTRATIVE_VILLAGES,
    DISTRICT_POPULATION,
    INDUSTRY_PROJECTS,
    DIGITAL_ECONOMY_OUTPUT,
    PLATFORM_ENABLEMENTS,
)
