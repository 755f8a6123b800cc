"""What the synthetic Qingdao is drawn from: names, places, industries, hospitals, weights.

Everything here is data. Weights are relative (they need not sum to one); weights per value of a
closed vocabulary of the city's standard (:mod:`shuhui.standard.vocabularies`) are given in that
vocabulary's order. Place and institution names are real Qingdao ones where that helps a demo feel
familiar; figures (shares, wages, rates) are round approximations of published statistics, good
enough for plausibility, not for analysis.
"""

from __future__ import annotations

# --- people --------------------------------------------------------------------------------

# Surname and weight (per cent of the population). The national top 100 of the 2020 household
# register, reweighted towards Shandong (王 张 李 刘 孙 于 姜 are more common, 陈 黄 何 less) and
# completed with surnames typical of Jiaodong and Qingdao (曲, 隋, 逄, 矫, 修, 栾, 宫, 初…).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.6), ("李", 7.0), ("张", 6.9), ("刘", 5.6), ("孙", 2.9), ("杨", 2.9), ("陈", 2.8),
    ("赵", 2.3), ("于", 1.7), ("高", 1.7), ("徐", 1.6), ("马", 1.6), ("姜", 1.5), ("宋", 1.3),
    ("周", 1.3), ("朱", 1.3), ("郭", 1.2), ("吴", 1.2), ("韩", 1.0), ("董", 1.0), ("林", 1.0),
    ("胡", 0.9), ("黄", 0.9), ("郑", 0.9), ("崔", 0.9), ("曲", 0.8), ("吕", 0.8), ("丁", 0.8),
    ("曹", 0.8), ("许", 0.8), ("田", 0.8), ("杜", 0.8), ("梁", 0.8), ("任", 0.7), ("冯", 0.7),
    ("魏", 0.7), ("孟", 0.6), ("薛", 0.6), ("石", 0.6), ("范", 0.6), ("程", 0.6), ("谢", 0.6),
    ("贾", 0.5), ("闫", 0.5), ("姚", 0.5), ("卢", 0.5), ("秦", 0.5), ("苏", 0.5), ("金", 0.5),
    ("袁", 0.5), ("付", 0.5), ("侯", 0.5), ("肖", 0.5), ("唐", 0.5), ("何", 0.5), ("隋", 0.4),
    ("邵", 0.4), ("孔", 0.4), ("尹", 0.4), ("武", 0.4), ("史", 0.4), ("郝", 0.4), ("白", 0.4),
    ("夏", 0.4), ("邹", 0.4), ("罗", 0.4), ("潘", 0.4), ("蒋", 0.4), ("彭", 0.4), ("蔡", 0.4),
    ("纪", 0.3), ("毛", 0.3), ("贺", 0.3), ("段", 0.3), ("方", 0.3), ("戴", 0.3), ("邱", 0.3),
    ("江", 0.3), ("谭", 0.3), ("陆", 0.3), ("汪", 0.3), ("沈", 0.3), ("叶", 0.3), ("逄", 0.2),
    ("栾", 0.2), ("宫", 0.2), ("初", 0.2), ("迟", 0.2), ("鞠", 0.2), ("管", 0.2), ("滕", 0.2),
    ("臧", 0.2), ("柳", 0.2), ("牟", 0.2), ("顾", 0.2), ("陶", 0.2), ("万", 0.2), ("钱", 0.2),
    ("严", 0.2), ("汤", 0.2), ("熊", 0.2), ("雷", 0.2), ("曾", 0.2), ("余", 0.2), ("邓", 0.3),
    ("矫", 0.15), ("修", 0.15), ("仲", 0.1), ("匡", 0.1), ("钟", 0.2), ("廖", 0.1), ("龚", 0.1),
    ("黎", 0.1), ("龙", 0.1), ("莫", 0.1), ("向", 0.1), ("韦", 0.1), ("綦", 0.05),
    ("欧阳", 0.03), ("司马", 0.01), ("诸葛", 0.01), ("上官", 0.01),
)  # fmt: skip

# Characters for two-character (and one-character) given names.
GIVEN_CHARS_MALE = tuple(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳瑞峰建国志海东文博晨睿轩泽"
    "子豪铭一航天翔昊思成嘉佳新振永庆利兴德福宏坤亮雷晓洋毅锋彬琦廷昌盛"
)
GIVEN_CHARS_FEMALE = tuple(
    "芳娜敏静丽艳娟霞秀玲燕红梅琳雪婷慧莉颖倩洁璐欣怡悦萱涵雨梓诗琪佳晶丹萍兰凤英华云月晓"
    "淑蕾薇媛妍菲彤茜宁新瑶馨蓉晴楠爽岚琦"
)
# Whole given names typical of a generation: the 1940s-60s (建国, 秀英…) and the 2010s (子涵,
# 一诺…). Drawing part of a cohort from these makes a name hint at an age, as it does in life.
OLD_NAMES_MALE = (
    "建国", "建军", "国庆", "卫东", "红兵", "跃进", "志刚", "德胜", "永福", "振华", "玉山",
    "宝山", "金山", "长林", "国强", "建华", "建平", "福生", "树林", "立新",
)  # fmt: skip
OLD_NAMES_FEMALE = (
    "秀英", "桂英", "秀兰", "玉兰", "桂兰", "凤英", "玉珍", "淑珍", "秀珍", "玉梅", "桂芳",
    "美兰", "凤兰", "秀云", "玉英", "淑英", "桂珍", "秀芳", "翠英", "金凤",
)  # fmt: skip
NEW_NAMES_MALE = (
    "浩宇", "宇轩", "梓轩", "子轩", "俊熙", "沐宸", "一鸣", "浩然", "子墨", "奕辰", "宇航",
    "皓轩", "博文", "俊宇", "梓睿", "思远", "天佑", "铭泽", "睿哲", "子航",
)  # fmt: skip
NEW_NAMES_FEMALE = (
    "子涵", "梓涵", "一诺", "欣怡", "诗涵", "雨桐", "可馨", "梓萱", "语桐", "若汐", "依诺",
    "雨欣", "思涵", "佳怡", "梦瑶", "紫涵", "语嫣", "欣妍", "芷若", "艺涵",
)  # fmt: skip

# Age groups of five years (0-4, 5-9, …, 95-99, 100+) and their share of the population, shaped
# like Qingdao's ageing pyramid projected to the mid-2020s (about 22 % aged 60 and over).
AGE_GROUP_SHARES: tuple[float, ...] = (
    3.6, 4.6, 5.2, 4.8, 4.6, 5.6, 7.0, 8.2, 7.2, 7.0, 7.6, 8.4, 6.4, 5.4, 4.2, 2.8, 1.6, 0.8,
    0.3, 0.12, 0.02,
)  # fmt: skip

# Attained education of adults by birth decade (rows: born before 1950, 1950s, …, 1990s and
# later), in the order of EDUCATION_LEVELS.
EDUCATION_BY_COHORT: tuple[tuple[float, ...], ...] = (
    (18, 40, 25, 10, 3, 2, 1.8, 0.15, 0.05),
    (6, 28, 38, 17, 5, 3, 2.7, 0.25, 0.05),
    (2, 14, 44, 20, 8, 6, 5.4, 0.5, 0.1),
    (1, 8, 38, 18, 10, 11, 12.5, 1.3, 0.2),
    (0.5, 4, 26, 14, 12, 17, 22.5, 3.5, 0.5),
    (0.3, 2, 16, 12, 13, 22, 29, 5, 0.7),
)  # fmt: skip


# Mobile number prefixes in use in China (three digits).
MOBILE_PREFIXES: tuple[int, ...] = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158,
    159, 166, 170, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199,
)  # fmt: skip

# --- places ---------------------------------------------------------------------------------

# Resident population by district (2020 census, in ten thousands), in code order of
# shuhui.core.regions.qingdao_districts(); and the share of households registered as urban.
DISTRICT_POPULATION: dict[str, float] = {
    "370202": 51, "370203": 105, "370211": 190, "370212": 55, "370213": 74,
    "370214": 110, "370215": 134, "370281": 98, "370283": 120, "370285": 71,
}  # fmt: skip
DISTRICT_URBAN_SHARE: dict[str, float] = {
    "370202": 0.98, "370203": 0.97, "370211": 0.72, "370212": 0.85, "370213": 0.95,
    "370214": 0.75, "370215": 0.55, "370281": 0.5, "370283": 0.35, "370285": 0.38,
}  # fmt: skip

# Division codes that still appear in the identity numbers of people born before a district
# was merged or renamed: 四方区 (merged into 市北区 in 2012), 胶南市 (merged into 黄岛区 in
# 2012), 即墨市 (became 即墨区 in 2017). (current code, old code, share born there, until year).
RETIRED_BIRTH_CODES: tuple[tuple[str, str, float, int], ...] = (
    ("370203", "370205", 0.35, 2012),
    ("370211", "370284", 0.5, 2012),
    ("370215", "370282", 1.0, 2017),
)

# Birth places of residents born outside Qingdao: division code and weight. Mostly the rest of
# Shandong, then the north-east and the neighbouring provinces.
MIGRANT_BIRTH_DIVISIONS: tuple[tuple[str, float], ...] = (
    ("370102", 2.0), ("370302", 1.2), ("370602", 2.4), ("370702", 3.0), ("370883", 1.0),
    ("370902", 1.0), ("371002", 1.2), ("371302", 2.6), ("371502", 1.0), ("371602", 0.8),
    ("230102", 1.2), ("220102", 0.8), ("210102", 0.8), ("410102", 0.8), ("320102", 0.4),
    ("130102", 0.6), ("340102", 0.5), ("510104", 0.4), ("110105", 0.5), ("120101", 0.3),
)  # fmt: skip
QINGDAO_BORN_SHARE = 0.72

# Roads (urban) and towns (rural) used to write addresses, per district.
DISTRICT_ROADS: dict[str, tuple[str, ...]] = {
    "370202": (
        "香港中路",
        "山东路",
        "南京路",
        "燕儿岛路",
        "延安三路",
        "宁夏路",
        "江西路",
        "东海西路",
    ),
    "370203": (
        "辽宁路",
        "台东一路",
        "延吉路",
        "敦化路",
        "哈尔滨路",
        "福州北路",
        "长春路",
        "鞍山路",
    ),
    "370211": ("长江中路", "井冈山路", "江山中路", "珠江路", "香江路", "峨眉山路", "紫金山路"),
    "370212": ("海尔路", "松岭路", "秦岭路", "深圳路", "株洲路", "青大一路", "苗岭路"),
    "370213": ("京口路", "九水路", "书院路", "重庆中路", "金水路", "四流中路", "升平路"),
    "370214": ("正阳路", "春阳路", "长城路", "黑龙江中路", "崇阳路", "文阳路", "仙山东路"),
    "370215": ("蓝鳌路", "鹤山路", "烟青路", "振华街", "文化路", "嵩山二路", "长江二路"),
    "370281": ("扬州路", "福州路", "兰州路", "澳门路", "常州路", "广州北路", "杭州路"),
    "370283": ("红旗路", "胜利路", "人民路", "常州路", "杭州路", "扬州路", "苏州路"),
    "370285": ("烟台路", "石岛路", "威海路", "青岛路", "黄海路", "文化路", "上海路"),
}
DISTRICT_TOWNS: dict[str, tuple[str, ...]] = {
    "370202": ("八大湖街道", "金门路街道"),
    "370203": ("四方街道", "浮山新区街道"),
    "370211": ("泊里镇", "大场镇", "海青镇", "六汪镇", "宝山镇"),
    "370212": ("王哥庄街道", "北宅街道", "沙子口街道"),
    "370213": ("九水街道", "虎山路街道"),
    "370214": ("夏庄街道", "惜福镇街道", "上马街道", "河套街道"),
    "370215": ("蓝村街道", "田横镇", "金口镇", "移风店镇", "段泊岚镇"),
    "370281": ("李哥庄镇", "胶西街道", "铺集镇", "里岔镇"),
    "370283": ("南村镇", "蓼兰镇", "崔家集镇", "明村镇", "田庄镇", "大泽山镇"),
    "370285": ("姜山镇", "院上镇", "日庄镇", "南墅镇", "河头店镇"),
}
# Village names are a surname + 家 + one of these, the commonest pattern in Jiaodong.
VILLAGE_SUFFIXES: tuple[str, ...] = ("庄村", "村", "疃村", "屯村", "洼村", "泊村")

# --- enterprises -----------------------------------------------------------------------------

# Per GB/T 4754-2017 section (INDUSTRY_SECTIONS): share of enterprises, mean monthly wage
# (yuan), headcount multiplier, work-injury insurance rate, tax as a share of the wage bill,
# electricity (kWh per employee per month).
INDUSTRY_PROFILES: dict[str, tuple[float, int, float, float, float, float]] = {
    "A": (3.0, 4500, 0.8, 0.004, 0.05, 900),
    "B": (0.2, 8500, 3.0, 0.019, 0.35, 2500),
    "C": (12.0, 7200, 2.5, 0.010, 0.30, 1800),
    "D": (0.5, 10500, 3.0, 0.008, 0.45, 3000),
    "E": (6.0, 7000, 2.0, 0.016, 0.22, 400),
    "F": (30.0, 6500, 0.6, 0.004, 0.40, 350),
    "G": (4.0, 8200, 1.5, 0.010, 0.20, 600),
    "H": (5.0, 4800, 1.0, 0.004, 0.12, 700),
    "I": (6.0, 14000, 1.2, 0.002, 0.30, 300),
    "J": (1.5, 15500, 2.0, 0.002, 0.60, 250),
    "K": (3.0, 7800, 1.0, 0.004, 0.70, 300),
    "L": (14.0, 7500, 0.7, 0.002, 0.25, 200),
    "M": (7.0, 12000, 0.8, 0.002, 0.22, 350),
    "N": (0.8, 6200, 1.5, 0.008, 0.10, 500),
    "O": (4.0, 5000, 0.7, 0.006, 0.10, 300),
    "P": (1.0, 10000, 1.5, 0.002, 0.10, 250),
    "Q": (1.0, 10500, 2.0, 0.004, 0.12, 450),
    "R": (2.0, 8500, 0.8, 0.004, 0.15, 300),
    "S": (0.1, 10000, 1.0, 0.002, 0.05, 200),
    "T": (0.0, 12000, 1.0, 0.002, 0.05, 200),
}

# Words that follow the trade name (字号) in an enterprise name, per section.
INDUSTRY_NAME_WORDS: dict[str, tuple[str, ...]] = {
    "A": ("农业科技", "水产养殖", "果蔬种植", "畜牧"),
    "B": ("矿业", "石材开采"),
    "C": ("机械制造", "电子科技", "食品", "橡胶制品", "纺织服装", "家电", "新材料", "海洋生物"),
    "D": ("热电", "新能源", "燃气", "供水"),
    "E": ("建筑工程", "建设集团", "装饰工程", "市政工程"),
    "F": ("商贸", "贸易", "超市", "进出口", "医药连锁", "汽车销售"),
    "G": ("物流", "国际货运代理", "运输", "港口服务", "冷链物流"),
    "H": ("餐饮管理", "酒店管理", "海鲜餐饮", "啤酒屋"),
    "I": ("网络科技", "软件技术", "信息技术", "数据科技", "智能科技"),
    "J": ("融资租赁", "投资管理", "保险代理", "金融信息服务"),
    "K": ("置业", "房地产开发", "物业管理", "房产经纪"),
    "L": ("商务咨询", "企业管理咨询", "人力资源", "广告", "会展服务"),
    "M": ("检测技术", "工程设计", "生物科技", "海洋科技", "工程咨询"),
    "N": ("环保科技", "园林绿化", "环境工程"),
    "O": ("家政服务", "汽车维修", "洗染服务", "美容美发"),
    "P": ("教育科技", "职业培训", "教育咨询"),
    "Q": ("医疗管理", "健康管理", "养老服务", "康复医疗"),
    "R": ("文化传媒", "体育发展", "影视文化", "旅游文化"),
    "S": ("社会服务", "社区服务"),
    "T": ("国际交流",),
}
# Characters for trade names (字号): two of them, chosen for good luck, as real ones often are.
TRADE_NAME_CHARS = tuple(
    "海鑫华泰恒瑞丰盛德隆祥宏源通达信诚嘉润明远和顺兴利康宁安凯博创新锦辉腾飞龙汇金宝中天"
    "正阳光联众佳美怡乐青岛港湾蓝帆舟鲁东琴崂山胶澳昌荣晟卓越弘毅启航旭日辰星"
)
ORG_FORMS: tuple[str, ...] = ("有限公司", "有限责任公司", "股份有限公司")
# Share of enterprises by size class (in SIZE_CLASSES order) and the headcount each aims at.
SIZE_SHARES: tuple[float, ...] = (0.002, 0.013, 0.085, 0.9)
SIZE_HEADCOUNT: tuple[float, ...] = (1500.0, 200.0, 25.0, 2.5)
CREDIT_GRADE_SHARES: tuple[float, ...] = (0.25, 0.50, 0.15, 0.07, 0.03)

# --- social insurance ----------------------------------------------------------------------

# Employer + employee contribution rates for 养老, 医疗, 失业; 工伤 varies by industry.
CONTRIBUTION_RATES: tuple[float, float, float] = (0.24, 0.11, 0.01)
# Monthly contribution base floor and ceiling (yuan): 60 % and 300 % of the provincial average.
CONTRIBUTION_BASE_MIN_YUAN = 4416
# The legal floor of the monthly base by year (yuan), the synthetic city's values (the fund-risk
# rule's parameter holds the same): no normal declaration is below the year's floor, and the
# declared minimum is the higher of it and CONTRIBUTION_BASE_MIN_YUAN. Years outside the table
# take the nearest year's value.
CONTRIBUTION_BASE_FLOOR_YUAN: dict[int, int] = {
    2019: 3100, 2020: 3300, 2021: 3500, 2022: 3700, 2023: 3900, 2024: 4100, 2025: 4300, 2026: 4500,
}  # fmt: skip
CONTRIBUTION_BASE_MAX_YUAN = 22080
MINIMUM_WAGE_YUAN = 2200
UNEMPLOYMENT_BENEFIT_YUAN = 1980  # 90 % of the minimum wage

# --- health ----------------------------------------------------------------------------------

# Hospitals: name, district code ("" for the big city hospitals every district uses), weight.
HOSPITALS: tuple[tuple[str, str, float], ...] = (
    ("青岛大学附属医院", "", 5.0),
    ("青岛市市立医院", "", 4.0),
    ("青岛市中心医院", "", 2.0),
    ("青岛市海慈医疗集团", "", 2.0),
    ("青岛市妇女儿童医院", "", 1.5),
    ("青岛市第八人民医院", "370213", 2.0),
    ("青岛市第三人民医院", "370213", 1.5),
    ("青岛市胸科医院", "370213", 0.5),
    ("青岛市第五人民医院", "370202", 1.0),
    ("青岛市口腔医院", "370202", 0.8),
    ("青岛市第六人民医院", "370203", 0.6),
    ("青岛市精神卫生中心", "370203", 0.4),
    ("青岛大学附属医院崂山院区", "370212", 2.0),
    ("青岛市黄岛区人民医院", "370211", 2.0),
    ("青岛西海岸新区中心医院", "370211", 2.0),
    ("青岛大学附属医院西海岸院区", "370211", 1.5),
    ("青岛市城阳区人民医院", "370214", 2.5),
    ("青岛市即墨区人民医院", "370215", 3.0),
    ("胶州市人民医院", "370281", 2.5),
    ("胶州中心医院", "370281", 1.5),
    ("平度市人民医院", "370283", 3.0),
    ("平度市中医医院", "370283", 1.0),
    ("莱西市人民医院", "370285", 3.0),
    ("莱西市市立医院", "370285", 1.0),
)
# Every district also has community health centres (社区卫生服务中心); visits go there this often.
COMMUNITY_CLINIC_SHARE = 0.3
VISIT_TYPE_SHARES: tuple[float, ...] = (0.88, 0.08, 0.04)

# Per ICD-10 chapter (ICD10_CHAPTERS): weight for children (<15), adults, the elderly (65+),
# and how much winter raises the chapter (1.0: not seasonal).
ICD10_CHAPTER_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "I": (6, 2, 1, 1.3),
    "II": (0.3, 4, 8, 1.0),
    "III": (1, 1, 1.5, 1.0),
    "IV": (1, 6, 12, 1.0),
    "V": (1, 3, 2, 1.0),
    "VI": (2, 4, 6, 1.0),
    "VII": (5, 4, 5, 1.0),
    "VIII": (4, 2, 2, 1.1),
    "IX": (0.5, 8, 22, 1.2),
    "X": (35, 15, 12, 2.2),
    "XI": (10, 12, 9, 1.0),
    "XII": (5, 5, 3, 0.8),
    "XIII": (1, 10, 10, 1.1),
    "XIV": (2, 8, 6, 1.0),
    "XV": (0, 3, 0, 1.0),
    "XVI": (1, 0, 0, 1.0),
    "XVII": (1, 0.2, 0.1, 1.0),
    "XVIII": (8, 6, 5, 1.2),
    "XIX": (6, 6, 4, 0.9),
    "XX": (0.5, 0.5, 0.3, 1.0),
    "XXI": (8, 5, 4, 1.0),
    "XXII": (0.2, 0.2, 0.2, 1.0),
}

FUNERAL_HOMES: dict[str, str] = {
    "370202": "青岛市殡仪馆", "370203": "青岛市殡仪馆", "370212": "青岛市殡仪馆",
    "370213": "青岛市殡仪馆", "370211": "青岛市黄岛区殡仪馆", "370214": "青岛市城阳区殡仪馆",
    "370215": "青岛市即墨区殡仪馆", "370281": "胶州市殡仪馆", "370283": "平度市殡仪馆",
    "370285": "莱西市殡仪馆",
}  # fmt: skip

# --- transport -------------------------------------------------------------------------------

# Metro lines serving each district (none yet in 平度市 and 莱西市).
METRO_LINES: dict[str, tuple[str, ...]] = {
    "370202": ("地铁1号线", "地铁2号线", "地铁3号线"),
    "370203": ("地铁1号线", "地铁2号线", "地铁3号线", "地铁4号线"),
    "370211": ("地铁1号线", "地铁13号线"),
    "370212": ("地铁2号线", "地铁4号线", "地铁11号线"),
    "370213": ("地铁1号线", "地铁2号线", "地铁3号线"),
    "370214": ("地铁1号线", "地铁8号线"),
    "370215": ("地铁11号线",),
    "370281": ("地铁8号线",),
    "370283": (),
    "370285": (),
}

# --- education, certificates, disability -----------------------------------------------------

# Universities: name, Ministry of Education institution code, highest level it awards
# (0 专科, 1 本科, 2 硕士, 3 博士), weight among Qingdao residents' alma maters.
UNIVERSITIES: tuple[tuple[str, str, int, float], ...] = (
    ("中国海洋大学", "10423", 3, 5.0),
    ("青岛大学", "11065", 3, 8.0),
    ("山东科技大学", "10424", 3, 5.0),
    ("青岛科技大学", "10426", 3, 5.0),
    ("青岛理工大学", "10429", 2, 4.0),
    ("青岛农业大学", "10435", 2, 3.0),
    ("山东大学", "10422", 3, 3.0),
    ("山东师范大学", "10445", 3, 1.5),
    ("济南大学", "10427", 2, 1.5),
    ("山东财经大学", "10456", 2, 1.5),
    ("青岛滨海学院", "13994", 1, 2.0),
    ("青岛黄海学院", "13320", 1, 1.5),
    ("青岛职业技术学院", "12330", 0, 4.0),
    ("青岛酒店管理职业技术学院", "14075", 0, 2.0),
    ("青岛港湾职业技术学院", "13317", 0, 2.0),
    ("青岛远洋船员职业学院", "14076", 0, 1.0),
)
MAJORS: tuple[str, ...] = (
    "计算机科学与技术", "软件工程", "电子信息工程", "机械设计制造及其自动化", "土木工程", "会计学",
    "金融学", "国际经济与贸易", "市场营销", "汉语言文学", "英语", "法学", "临床医学", "护理学",
    "海洋科学", "船舶与海洋工程", "化学工程与工艺", "材料科学与工程", "自动化", "环境工程",
    "物流管理", "酒店管理", "港口与航运管理", "食品科学与工程", "数据科学与大数据技术",
)  # fmt: skip


DISABILITY_TYPE_SHARES: tuple[float, ...] = (0.12, 0.20, 0.02, 0.45, 0.07, 0.08, 0.06)
DISABILITY_LEVEL_SHARES: tuple[float, ...] = (0.12, 0.18, 0.30, 0.40)
