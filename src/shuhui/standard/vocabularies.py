"""The closed vocabularies of the city's data standard: the value sets a column may hold.

A load refuses a value outside its column's vocabulary (``Column.values``), and the catalog and
the data-quality checks show and test the same sets. The order of each tuple is part of the
standard: the generator's weights (``shuhui.synth.vocab``) are given in it.
"""

from __future__ import annotations

# --- people --------------------------------------------------------------------------------

SEXES: tuple[str, ...] = ("男", "女")
RELATIONS: tuple[str, ...] = ("户主", "配偶", "子女", "父母", "其他")
HUKOU_TYPES: tuple[str, ...] = ("城镇", "农村")
EDUCATION_LEVELS: tuple[str, ...] = (
    "未上学", "小学", "初中", "高中", "中等职业教育", "大学专科", "大学本科", "硕士研究生",
    "博士研究生",
)  # fmt: skip
MARITAL_STATUSES: tuple[str, ...] = ("未婚", "已婚", "离婚", "丧偶")
DEATH_CAUSES: tuple[str, ...] = ("疾病", "意外", "其他")

# --- enterprises -----------------------------------------------------------------------------

# GB/T 4754-2017 sections: letter and Chinese name.
INDUSTRY_SECTIONS: tuple[tuple[str, str], ...] = (
    ("A", "农、林、牧、渔业"),
    ("B", "采矿业"),
    ("C", "制造业"),
    ("D", "电力、热力、燃气及水生产和供应业"),
    ("E", "建筑业"),
    ("F", "批发和零售业"),
    ("G", "交通运输、仓储和邮政业"),
    ("H", "住宿和餐饮业"),
    ("I", "信息传输、软件和信息技术服务业"),
    ("J", "金融业"),
    ("K", "房地产业"),
    ("L", "租赁和商务服务业"),
    ("M", "科学研究和技术服务业"),
    ("N", "水利、环境和公共设施管理业"),
    ("O", "居民服务、修理和其他服务业"),
    ("P", "教育"),
    ("Q", "卫生和社会工作"),
    ("R", "文化、体育和娱乐业"),
    ("S", "公共管理、社会保障和社会组织"),
    ("T", "国际组织"),
)
SIZE_CLASSES: tuple[str, ...] = ("大型", "中型", "小型", "微型")
ENTERPRISE_STATUSES: tuple[str, ...] = ("存续", "注销", "吊销")
# 纳税信用等级 of the State Taxation Administration.
CREDIT_GRADES: tuple[str, ...] = ("A", "B", "M", "C", "D")

# --- social insurance ----------------------------------------------------------------------

INSURANCE_TYPES: tuple[str, ...] = ("养老", "医疗", "失业", "工伤")
INSURANCE_SCHEMES: tuple[str, ...] = ("职工", "城乡居民")
ENROLMENT_STATUSES: tuple[str, ...] = ("参保缴费", "暂停缴费", "待遇领取", "终止参保")
PENSION_SCHEMES: tuple[str, ...] = ("城镇职工基本养老保险", "城乡居民基本养老保险")
PENSION_STATUSES: tuple[str, ...] = ("正常发放", "停发")
UNEMPLOYMENT_REASONS: tuple[str, ...] = ("劳动合同期满", "单位裁员", "单位解除劳动合同", "单位破产")
UNEMPLOYMENT_STATUSES: tuple[str, ...] = ("领取中", "已就业", "期满")
# 退休类别: what a pension's statutory starting age is read against (国发〔1978〕104号 and the
# 2024 decision on raising the statutory retirement age; 城乡居民 draw from 60).
RETIREMENT_CATEGORIES: tuple[str, ...] = (
    "男职工", "女干部", "女工人", "特殊工种", "因病完全丧失劳动能力", "城乡居民",
)  # fmt: skip
# What a social-security card was used for (社会保障卡用卡记录).
CARD_USE_PURPOSES: tuple[str, ...] = ("就医购药", "乘车", "金融缴费", "身份核验", "待遇领取")
# How a benefit was collected in person (待遇柜面领取记录).
COLLECTION_METHODS: tuple[str, ...] = ("柜面", "自助终端")

# --- health ----------------------------------------------------------------------------------

VISIT_TYPES: tuple[str, ...] = ("门诊", "急诊", "住院")
# ICD-10 chapters: roman numeral and Chinese title.
ICD10_CHAPTERS: tuple[tuple[str, str], ...] = (
    ("I", "某些传染病和寄生虫病"),
    ("II", "肿瘤"),
    ("III", "血液及造血器官疾病和某些涉及免疫机制的疾患"),
    ("IV", "内分泌、营养和代谢疾病"),
    ("V", "精神和行为障碍"),
    ("VI", "神经系统疾病"),
    ("VII", "眼和附器疾病"),
    ("VIII", "耳和乳突疾病"),
    ("IX", "循环系统疾病"),
    ("X", "呼吸系统疾病"),
    ("XI", "消化系统疾病"),
    ("XII", "皮肤和皮下组织疾病"),
    ("XIII", "肌肉骨骼系统和结缔组织疾病"),
    ("XIV", "泌尿生殖系统疾病"),
    ("XV", "妊娠、分娩和产褥期"),
    ("XVI", "起源于围生期的某些情况"),
    ("XVII", "先天性畸形、变形和染色体异常"),
    ("XVIII", "症状、体征和临床与实验室异常所见"),
    ("XIX", "损伤、中毒和外因的某些其他后果"),
    ("XX", "疾病和死亡的外因"),
    ("XXI", "影响健康状态和与保健机构接触的因素"),
    ("XXII", "用于特殊目的的编码"),
)

# --- transport -------------------------------------------------------------------------------

TRANSIT_MODES: tuple[str, ...] = ("公交", "地铁")

# --- education, certificates, disability -----------------------------------------------------

DEGREES: tuple[str, ...] = ("专科", "本科", "硕士", "博士")
GRADUATE_STATUSES: tuple[str, ...] = ("已就业", "待就业", "升学")

# The first five are the ones the synthetic city holds (``shuhui.synth`` names each type it
# writes, so adding types here does not change the generated city); the rest are issued by
# approvals (``content/<city>/approval``: an item's ``issues``) and then waive the material they
# replace in later applications.
CERTIFICATE_TYPES: tuple[str, ...] = (
    "营业执照", "毕业证书", "结婚证", "不动产权证书", "残疾人证",
    "食品经营许可证", "建设用地规划许可证", "建设工程规划许可证", "建筑工程施工许可证",
    "社会团体法人登记证书", "民办非企业单位登记证书", "危险化学品经营许可证",
    "烟花爆竹经营（零售）许可证", "医疗机构执业许可证", "放射诊疗许可证", "公共场所卫生许可证",
    "特种行业许可证", "人力资源服务许可证", "药品经营许可证", "第二类医疗器械经营备案凭证",
    "道路运输经营许可证", "就业创业证", "社会保障卡", "护士执业证书", "医师执业证书",
    "教师资格证书", "退休证",
)  # fmt: skip
CERTIFICATE_STATUSES: tuple[str, ...] = ("有效", "失效", "注销", "吊销")
HOLDER_TYPES: tuple[str, ...] = ("个人", "企业")

DISABILITY_TYPES: tuple[str, ...] = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
DISABILITY_LEVELS: tuple[str, ...] = ("一级", "二级", "三级", "四级")

# --- digital infrastructure (shuhui.monitor.registry) -----------------------------------------

# The registry's asset types, as content/<city>/monitor/asset-types.yaml names them.
ASSET_TYPES: tuple[str, ...] = (
    "5g-base-station",
    "pon-port-group",
    "dc-rack-group",
    "ev-charger",
    "smart-pole",
    "traffic-signal",
    "sensor",
)
ASSET_STATUSES: tuple[str, ...] = ("在用", "建设中", "停用")
