"""Fields of each material kind from its OCR lines: by their printed labels (an identity card,
a licence, the header of a contract or a certificate, a drawing's title block) or, where the
value sits in running text (a diploma, a contract's clauses), by the words around it.

``extract(kind, lines)`` never raises on what OCR returns: any list of lines gives a
``Reading`` (possibly with no fields). ``evidence`` says which kind a page looks like, from
the words every document of a kind prints, so a wrong document is told from a poor one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shuhui.approval.precheck import kinds
from shuhui.approval.precheck.layout import Label, Row, page_text, read_labels, rows
from shuhui.approval.precheck.ocr import OcrLine
from shuhui.approval.precheck.values import (
    citizen_id,
    clean_value,
    credit_code,
    date_range,
    digits,
    iso_date,
    iso_month,
    normalise,
)

# --- how each value is read --------------------------------------------------------------------

# Characters OCR returns in their traditional form (the recogniser learnt both).
_SIMPLIFIED = str.maketrans({"漢": "汉", "滿": "满", "鮮": "鲜", "孫": "孙", "東": "东"})
# Chinese text is punctuated in full width; NFKC made it ASCII for matching.
_FULL_WIDTH = str.maketrans({"(": "（", ")": "）", ",": "，", ";": "；", ":": "：", "!": "！"})


def text(value: str) -> str:
    return clean_value(value).translate(_SIMPLIFIED).translate(_FULL_WIDTH)


def name(value: str) -> str:
    """A person's name: Chinese characters (and the middle dot of minority names)."""
    cleaned = clean_value(value).translate(_SIMPLIFIED)
    kept = "".join(c for c in cleaned if "\u4e00" <= c <= "\u9fff" or c in "·•")
    return kept.replace("•", "·") or cleaned


def sex(value: str) -> str:
    match = re.search(r"[男女]", value)
    return match.group(0) if match else clean_value(value)


def ethnicity(value: str) -> str:
    cleaned = name(value)
    return cleaned.removesuffix("族") if len(cleaned) > 1 else cleaned


def age(value: str) -> str:
    match = re.search(r"\d{1,3}", digits_in(value))
    return f"{match.group(0)}岁" if match else clean_value(value)


def digits_in(value: str) -> str:
    return normalise(value).replace("O", "0").replace("o", "0")


def scale(value: str) -> str:
    match = re.search(r"(\d+)\s*[:：]\s*(\d+)", digits_in(value))
    return f"{match[1]}:{match[2]}" if match else clean_value(value)


def number(value: str) -> str:
    """A document number: letters and digits as printed (MZ…, 总施-01)."""
    return clean_value(value).translate(_SIMPLIFIED)


Reader = Callable[[str], str]


@dataclass(frozen=True)
class Spec:
    """How a kind is read: its labels, each field's reader, and the fields found in running
    text (pattern over the page's text → reader)."""

    labels: tuple[Label, ...]
    readers: dict[str, Reader]
    prose: tuple[tuple[str, re.Pattern[str], Reader], ...] = ()


def _stop(*variants: str, multiline: bool = False, inline: bool = False) -> Label:
    return Label(None, variants, multiline=multiline, inline=inline)


_ID_LABEL = Label("公民身份号码", ("公民身份号码", "公民身份号", "身份号码"), inline=True)

SPECS: dict[str, Spec] = {
    kinds.ID_CARD: Spec(
        labels=(
            Label("姓名", ("姓名",)),
            Label("性别", ("性别",), inline=True),
            Label("民族", ("民族",), inline=True),
            Label("出生", ("出生",), inline=True),
            Label("住址", ("住址",), multiline=True),
            _ID_LABEL,
            Label("签发机关", ("签发机关",), multiline=True),
            Label("有效期限", ("有效期限", "有效期")),
        ),
        readers={
            "姓名": name,
            "性别": sex,
            "民族": ethnicity,
            "出生": iso_date,
            "住址": text,
            "公民身份号码": citizen_id,
            "签发机关": text,
            "有效期限": date_range,
        },
    ),
    kinds.BUSINESS_LICENCE: Spec(
        labels=(
            Label("名称", ("名称", "企业名称"), multiline=True, spread=True),
            Label(
                "统一社会信用代码",
                ("统一社会信用代码", "社会信用代码", "信用代码"),
                below=True,
                inline=True,
            ),
            Label(
                "法定代表人",
                ("法定代表人", "执行事务合伙人", "负责人", "经营者", "投资人"),
                multiline=True,
                inline=True,
            ),
            Label("类型", ("类型",), multiline=True, spread=True),
            Label("住所", ("住所", "主要经营场所", "经营场所"), multiline=True, spread=True),
            Label("注册资本", ("注册资本", "出资总额", "出资额"), multiline=True, inline=True),
            Label("成立日期", ("成立日期", "注册日期"), multiline=True, inline=True),
            Label("营业期限", ("营业期限", "合伙期限", "经营期限"), multiline=True, inline=True),
            _stop("经营范围", multiline=True, inline=True),
            _stop("登记机关", inline=True),
            _stop("组成形式"),
        ),
        readers={
            "名称": text,
            "统一社会信用代码": credit_code,
            "法定代表人": name,
            "类型": text,
            "住所": text,
            "注册资本": text,
            "成立日期": iso_date,
            "营业期限": date_range,
        },
    ),
    kinds.DIPLOMA: Spec(
        labels=(
            Label("学校", ("校名", "学校名称")),
            Label("证书编号", ("证书编号", "证书号")),
            _stop("校(院)长", "校长", "院长"),
        ),
        readers={"学校": text, "证书编号": digits},
        prose=(
            ("姓名", re.compile(r"学生(.{1,20}?),?性别"), name),
            ("性别", re.compile(r"性别([男女])"), sex),
            ("出生日期", re.compile(r"(\d{4}年\d{1,2}月\d{1,2}日)生"), iso_date),
            ("毕业年月", re.compile(r"至(\d{4}年\d{1,2}月)"), iso_month),
            ("专业", re.compile(r"在本校(.{1,30}?)专业"), text),
            ("层次", re.compile(r"年制(.{1,10}?)学习"), text),
        ),
    ),
    kinds.LABOUR_CONTRACT: Spec(
        labels=(
            Label("用人单位", ("甲方(用人单位)", "用人单位名称", "甲方名称", "用人单位")),
            Label("统一社会信用代码", ("统一社会信用代码", "社会信用代码", "信用代码")),
            Label("法定代表人", ("法定代表人(主要负责人)", "法定代表人", "主要负责人")),
            Label("劳动者", ("乙方(劳动者)", "劳动者姓名", "乙方姓名", "劳动者")),
            Label("性别", ("性别",), inline=True),
            Label("公民身份号码", ("公民身份号码", "居民身份证号码", "身份证号码"), inline=True),
            _stop("住所", "住址", "户籍地址", "现住址", "通讯地址", multiline=True),
            _stop("联系电话", "电话", inline=True),
        ),
        readers={
            "用人单位": text,
            "统一社会信用代码": credit_code,
            "法定代表人": name,
            "劳动者": name,
            "性别": sex,
            "公民身份号码": citizen_id,
        },
        prose=(
            ("起始日期", re.compile(r"自(\d{4}年\d{1,2}月\d{1,2}日)起"), iso_date),
            ("终止日期", re.compile(r"起至(\d{4}年\d{1,2}月\d{1,2}日)止"), iso_date),
            ("工作岗位", re.compile(r"工作岗位为(.{1,30}?)[,;。]"), text),
            ("工作地点", re.compile(r"工作地点为(.{1,40}?)[,;。]"), text),
        ),
    ),
    kinds.MEDICAL_CERTIFICATE: Spec(
        labels=(
            Label("姓名", ("姓名", "患者姓名")),
            Label("性别", ("性别",), inline=True),
            Label("年龄", ("年龄",), inline=True),
            Label("科别", ("科别", "科室", "就诊科室"), inline=True),
            _stop("门诊号", "住院号", "病历号", "病案号", "床号", inline=True),
            Label("公民身份号码", ("公民身份号码", "身份证号码", "身份证号"), inline=True),
            Label(
                "诊断", ("诊断", "临床诊断", "诊断意见"), multiline=True, not_before=("诊断证明",)
            ),
            Label("医嘱", ("医嘱", "处理意见"), multiline=True),
            Label("医师", ("医师", "医生", "主治医师", "医师签名", "医师签字"), inline=True),
            Label("日期", ("日期", "开具日期", "出具日期"), inline=True),
        ),
        readers={
            "姓名": name,
            "性别": sex,
            "年龄": age,
            "科别": text,
            "公民身份号码": citizen_id,
            "诊断": text,
            "医嘱": text,
            "医师": name,
            "日期": iso_date,
        },
        prose=(
            (
                "医院",
                re.compile(r"^(.{0,40}?(?:医院|卫生院|卫生服务中心|保健院|诊所|门诊部|医疗中心))"),
                text,
            ),
        ),
    ),
    kinds.SITE_PLAN: Spec(
        labels=(
            Label("项目名称", ("项目名称", "工程名称")),
            Label("建设单位", ("建设单位",)),
            Label("设计单位", ("设计单位",)),
            Label("图名", ("图名", "图纸名称")),
            Label("图号", ("图号",), inline=True),
            Label("比例", ("比例",), inline=True),
            Label("日期", ("日期", "出图日期"), inline=True),
            _stop("设计", "审核", "审定", "校对", "制图", "专业负责人", "项目负责人"),
        ),
        readers={
            "项目名称": text,
            "建设单位": text,
            "设计单位": text,
            "图名": text,
            "图号": number,
            "比例": scale,
            "日期": iso_date,
        },
    ),
}

# Words every document of a kind prints, with how strongly each says so.
EVIDENCE: dict[str, tuple[tuple[str, int], ...]] = {
    kinds.ID_CARD: (
        ("公民身份号码", 3),
        ("居民身份证", 3),
        ("签发机关", 3),
        ("有效期限", 2),
        ("民族", 2),
        ("住址", 1),
        ("出生", 1),
        ("姓名", 1),
    ),
    kinds.BUSINESS_LICENCE: (
        ("营业执照", 4),
        ("注册资本", 2),
        ("成立日期", 2),
        ("营业期限", 2),
        ("经营范围", 2),
        ("登记机关", 2),
        ("统一社会信用代码", 1),
        ("法定代表人", 1),
    ),
    kinds.DIPLOMA: (
        ("毕业证书", 4),
        ("准予毕业", 3),
        ("年制", 1),
        ("本校", 1),
        ("校名", 1),
        ("证书编号", 1),
    ),
    kinds.LABOUR_CONTRACT: (
        ("劳动合同", 4),
        ("用人单位", 2),
        ("劳动者", 2),
        ("工作岗位", 1),
        ("试用期", 1),
        ("甲方", 1),
        ("乙方", 1),
    ),
    kinds.MEDICAL_CERTIFICATE: (
        ("诊断证明", 4),
        ("医嘱", 2),
        ("科别", 2),
        ("门诊号", 1),
        ("医师", 1),
        ("医院", 1),
        ("诊断", 1),
    ),
    kinds.SITE_PLAN: (
        ("平面图", 2),
        ("图号", 2),
        ("图名", 2),
        ("建设单位", 2),
        ("设计单位", 2),
        ("项目名称", 1),
        ("比例", 1),
    ),
}
# A page scoring at least this for a kind looks like one.
LOOKS_LIKE = 4


@dataclass(frozen=True)
class Reading:
    """What was read from a page for ``kind``: the fields found, the page's text, and how much
    it looks like each kind."""

    kind: str
    fields: dict[str, str]
    text: str
    evidence: dict[str, int]
    lines: int

    @property
    def looks_like(self) -> str | None:
        """The kind the page looks most like, if it looks like any."""
        best = max(self.evidence.items(), key=lambda item: item[1], default=(None, 0))
        return best[0] if best[1] >= LOOKS_LIKE else None


def evidence(page: str) -> dict[str, int]:
    return {kind: sum(w for word, w in words if word in page) for kind, words in EVIDENCE.items()}


def _labelled(spec: Spec, page_rows: Sequence[Row]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for found in read_labels(page_rows, spec.labels):
        field = found.label.field
        if field is None or field in fields:
            continue
        value = spec.readers[field](found.value)
        if value:
            fields[field] = value
    return fields


def extract(kind: str, lines: Sequence[OcrLine]) -> Reading:
    """The fields of a ``kind`` document from its OCR lines."""
    spec = SPECS[kind]
    page_rows = rows(lines)
    page = page_text(page_rows)
    fields = _labelled(spec, page_rows)
    for field, pattern, reader in spec.prose:
        if field in fields:
            continue
        match = pattern.search(page)
        if match:
            value = reader(match.group(1))
            if value:
                fields[field] = value
    ordered = {f: fields[f] for f in kinds.FIELDS[kind] if f in fields}
    return Reading(kind, ordered, page, evidence(page), len(lines))
