"""The material kinds the pre-check reads and the fields it extracts from each, in the order a
page shows them.

The identity card's and the business licence's field names are their printed labels (姓名, 性别,
民族, 出生, 住址, 公民身份号码; 名称, 统一社会信用代码, 法定代表人, 类型, 住所, 注册资本, 成立日期),
so a person reads the result against the document itself. The other kinds use their printed
label where the document has one (证书编号, 科别, 图号…) and a plain name where the value sits in
running text (a diploma's 专业, a contract's 起始日期).

Values are normalised: dates as ISO ``YYYY-MM-DD`` (a year and month alone as ``YYYY-MM``),
identifiers in upper case without spaces, other text without the spaces OCR puts between
Chinese characters.
"""

from __future__ import annotations

from typing import Final

ID_CARD: Final = "id-card"
BUSINESS_LICENCE: Final = "business-licence"
DIPLOMA: Final = "diploma"
LABOUR_CONTRACT: Final = "labour-contract"
MEDICAL_CERTIFICATE: Final = "medical-certificate"
SITE_PLAN: Final = "site-plan"

KINDS: Final = (
    ID_CARD,
    BUSINESS_LICENCE,
    DIPLOMA,
    LABOUR_CONTRACT,
    MEDICAL_CERTIFICATE,
    SITE_PLAN,
)

KIND_NAMES: Final[dict[str, str]] = {
    ID_CARD: "居民身份证",
    BUSINESS_LICENCE: "营业执照",
    DIPLOMA: "毕业证书",
    LABOUR_CONTRACT: "劳动合同",
    MEDICAL_CERTIFICATE: "诊断证明",
    SITE_PLAN: "建设工程图纸（图签）",
}

# The identity card has two sides: the portrait side (人像面) carries the person, the emblem side
# (国徽面) the issuing authority and the validity. Either may be uploaded as the id-card material.
ID_CARD_FRONT: Final = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
ID_CARD_BACK: Final = ("签发机关", "有效期限")

FIELDS: Final[dict[str, tuple[str, ...]]] = {
    ID_CARD: ID_CARD_FRONT + ID_CARD_BACK,
    BUSINESS_LICENCE: (
        "名称",
        "统一社会信用代码",
        "法定代表人",
        "类型",
        "住所",
        "注册资本",
        "成立日期",
        "营业期限",
    ),
    DIPLOMA: ("姓名", "性别", "出生日期", "专业", "层次", "毕业年月", "学校", "证书编号"),
    LABOUR_CONTRACT: (
        "用人单位",
        "统一社会信用代码",
        "法定代表人",
        "劳动者",
        "性别",
        "公民身份号码",
        "起始日期",
        "终止日期",
        "工作岗位",
        "工作地点",
    ),
    MEDICAL_CERTIFICATE: (
        "医院",
        "姓名",
        "性别",
        "年龄",
        "公民身份号码",
        "科别",
        "诊断",
        "医嘱",
        "医师",
        "日期",
    ),
    SITE_PLAN: ("项目名称", "建设单位", "设计单位", "图名", "图号", "比例", "日期"),
}


def required_fields(kind: str, found: dict[str, str]) -> tuple[str, ...]:
    """The fields a document of ``kind`` must show. An identity card's side is told by what was
    read: the emblem side alone (no portrait-side field but its own) needs only its own."""
    if kind == ID_CARD:
        front = any(name in found for name in ID_CARD_FRONT)
        back = any(name in found for name in ID_CARD_BACK)
        return ID_CARD_BACK if back and not front else ID_CARD_FRONT
    return FIELDS[kind]
