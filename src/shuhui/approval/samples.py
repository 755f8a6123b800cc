"""Test documents for the pre-check of materials: identity cards (both sides), business
licences, diplomas, a labour contract's first page, medical certificates and a site plan's title
block (图签), with the values of real city members or city-like ones.

Each document is a frozen dataclass of its values whose ``fields()`` is what a perfect reading
extracts (the pre-check's field names and normal forms, ``precheck.kinds``). ``render`` draws it
(``sample_pages``: laid out as the real ones are, in a Chinese font from Debian's packages),
``degrade`` spoils it as a phone photo or a poor scan does (skew, blur, crop, noise, low
contrast, JPEG), ``png``/``jpeg``/``pdf`` encode it. ``sample`` makes city-like values from a
seeded random generator, ``wrong_check_char`` an identifier whose check character does not fit;
``write_samples`` writes a set for the demo and for people to try (``shuhui approval samples``).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from shuhui.approval.fonts import FontMissing, font_path
from shuhui.approval.precheck import kinds
from shuhui.approval.precheck.values import capital_text
from shuhui.approval.sample_pages import (
    DEGRADATIONS,
    Degradation,
    degrade,
    jpeg,
    pdf,
    photo,
    png,
    render,
    render_back,
)
from shuhui.core import ids
from shuhui.core.clock import local_today
from shuhui.core.regions import qingdao_districts

__all__ = [
    "DEGRADATIONS",
    "BusinessLicence",
    "Degradation",
    "Diploma",
    "Document",
    "FontMissing",
    "IdCard",
    "LabourContract",
    "MedicalCertificate",
    "Person",
    "SitePlan",
    "degrade",
    "font_path",
    "jpeg",
    "pdf",
    "person",
    "photo",
    "png",
    "render",
    "render_back",
    "sample",
    "sample_set",
    "write_samples",
    "wrong_check_char",
]

# --- the documents ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IdCard:
    """居民身份证: the portrait side (人像面) and the emblem side (国徽面)."""

    name: str
    sex: str
    ethnicity: str
    birth: date
    address: str
    citizen_id: str
    authority: str = "青岛市公安局市南分局"
    valid_from: date = date(2016, 5, 10)
    valid_to: date | None = date(2036, 5, 10)  # None: 长期

    kind = kinds.ID_CARD

    def fields(self) -> dict[str, str]:
        return {
            "姓名": self.name,
            "性别": self.sex,
            "民族": self.ethnicity,
            "出生": self.birth.isoformat(),
            "住址": self.address,
            "公民身份号码": self.citizen_id,
        }

    def back_fields(self) -> dict[str, str]:
        end = self.valid_to.isoformat() if self.valid_to else "长期"
        return {"签发机关": self.authority, "有效期限": f"{self.valid_from.isoformat()}至{end}"}


@dataclass(frozen=True)
class BusinessLicence:
    """营业执照 (副本), the 2019 layout: two columns under the title."""

    name: str
    credit_code: str
    legal_rep: str
    type: str
    address: str
    capital_fen: int
    established: date
    term_to: date | None = None  # None: 长期
    scope: str = "一般项目：软件开发；信息技术咨询服务；技术服务、技术开发、技术咨询。"
    authority: str = "青岛市市南区市场监督管理局"
    issued: date | None = None

    kind = kinds.BUSINESS_LICENCE

    def fields(self) -> dict[str, str]:
        end = self.term_to.isoformat() if self.term_to else "长期"
        return {
            "名称": self.name,
            "统一社会信用代码": self.credit_code,
            "法定代表人": self.legal_rep,
            "类型": self.type,
            "住所": self.address,
            "注册资本": capital_text(self.capital_fen),
            "成立日期": self.established.isoformat(),
            "营业期限": f"{self.established.isoformat()}至{end}",
        }


@dataclass(frozen=True)
class Diploma:
    """毕业证书 of a Chinese university: the running text of the 学信网 format."""

    name: str
    sex: str
    birth: date
    school: str
    major: str
    level: Literal["本科", "专科"]
    entered: date
    graduated: date
    number: str
    principal: str = "李建华"

    kind = kinds.DIPLOMA

    def fields(self) -> dict[str, str]:
        return {
            "姓名": self.name,
            "性别": self.sex,
            "出生日期": self.birth.isoformat(),
            "专业": self.major,
            "层次": self.level,
            "毕业年月": f"{self.graduated:%Y-%m}",
            "学校": self.school,
            "证书编号": self.number,
        }


@dataclass(frozen=True)
class LabourContract:
    """劳动合同书, its first page: the two parties and the first clauses."""

    employer: str
    credit_code: str
    legal_rep: str
    employer_address: str
    employee: str
    sex: str
    citizen_id: str
    employee_address: str
    start: date
    end: date
    position: str
    workplace: str

    kind = kinds.LABOUR_CONTRACT

    def fields(self) -> dict[str, str]:
        return {
            "用人单位": self.employer,
            "统一社会信用代码": self.credit_code,
            "法定代表人": self.legal_rep,
            "劳动者": self.employee,
            "性别": self.sex,
            "公民身份号码": self.citizen_id,
            "起始日期": self.start.isoformat(),
            "终止日期": self.end.isoformat(),
            "工作岗位": self.position,
            "工作地点": self.workplace,
        }


@dataclass(frozen=True)
class MedicalCertificate:
    """诊断证明书 of a hospital (A5)."""

    hospital: str
    name: str
    sex: str
    age: int
    citizen_id: str
    department: str
    diagnosis: str
    advice: str
    doctor: str
    issued: date
    record_no: str = "MZ2024031200123"

    kind = kinds.MEDICAL_CERTIFICATE

    def fields(self) -> dict[str, str]:
        return {
            "医院": self.hospital,
            "姓名": self.name,
            "性别": self.sex,
            "年龄": f"{self.age}岁",
            "公民身份号码": self.citizen_id,
            "科别": self.department,
            "诊断": self.diagnosis,
            "医嘱": self.advice,
            "医师": self.doctor,
            "日期": self.issued.isoformat(),
        }


@dataclass(frozen=True)
class SitePlan:
    """A construction drawing (总平面图) with its title block (图签) at the lower right."""

    project: str
    builder: str
    designer: str
    title: str
    number: str
    scale: str
    drawn: date

    kind = kinds.SITE_PLAN

    def fields(self) -> dict[str, str]:
        return {
            "项目名称": self.project,
            "建设单位": self.builder,
            "设计单位": self.designer,
            "图名": self.title,
            "图号": self.number,
            "比例": self.scale,
            "日期": self.drawn.isoformat(),
        }


Document = IdCard | BusinessLicence | Diploma | LabourContract | MedicalCertificate | SitePlan


# --- city-like values ----------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史"
    "陶贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂文华建国志红玉萍晨宇浩然子涵欣怡"
    "梓萱诺思远佳琪雨泽俊婷海波立新春梅晓东鹏飞雪莉凯丹阳永辉慧颖瑞安振宁"
)
ETHNICITIES = ("汉",) * 18 + ("回", "满", "朝鲜", "蒙古")
ROADS = {
    "市南区": ("香港中路", "山东路", "延安三路", "福州南路", "宁夏路"),
    "市北区": ("辽宁路", "敦化路", "重庆南路", "延吉路", "台东一路"),
    "黄岛区": ("长江中路", "井冈山路", "珠江路", "紫金山路"),
    "崂山区": ("海尔路", "松岭路", "株洲路", "深圳路"),
    "李沧区": ("九水东路", "书院路", "京口路", "夏庄路"),
    "城阳区": ("正阳路", "春阳路", "长城路", "文阳路"),
    "即墨区": ("鹤山路", "蓝鳌路", "烟青路", "振华街"),
    "胶州市": ("扬州路", "福州支路", "广州北路", "郑州东路"),
    "平度市": ("红旗路", "杭州路", "胜利路"),
    "莱西市": ("烟台路", "上海路", "石岛路"),
}
TRADE_NAMES = (
    "海润",
    "恒达",
    "金鼎",
    "瑞丰",
    "华信",
    "鑫源",
    "蓝海",
    "德立",
    "宏远",
    "正和",
    "泰安",
    "汇通",
    "远航",
    "博源",
    "启明",
    "天诚",
    "青禾",
    "海纳",
    "崂顺",
    "东方",
)
INDUSTRIES = (
    "信息技术",
    "科技",
    "商贸",
    "建筑工程",
    "餐饮管理",
    "物流",
    "机械制造",
    "食品",
    "医疗器械",
    "文化传媒",
    "置业",
    "海洋生物",
)
COMPANY_TYPES = (
    "有限责任公司（自然人投资或控股）",
    "有限责任公司（自然人独资）",
    "股份有限公司（非上市、自然人投资或控股）",
    "有限责任公司（非自然人投资或控股的法人独资）",
)
SCOPES = (
    "一般项目：软件开发；信息技术咨询服务；技术服务、技术开发、技术咨询、技术交流、技术转让、"
    "技术推广；计算机系统服务。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
    "许可项目：餐饮服务；食品经营。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
    "一般项目：餐饮管理；外卖递送服务。",
    "一般项目：国内贸易代理；五金产品批发；建筑材料销售；日用百货销售。",
)
# Universities in Qingdao with their codes (学校代码) for the diploma's number.
SCHOOLS = (
    ("中国海洋大学", "10423"),
    ("山东科技大学", "10424"),
    ("青岛科技大学", "10426"),
    ("青岛理工大学", "10429"),
    ("青岛农业大学", "10435"),
    ("青岛大学", "11065"),
)
MAJORS = (
    "计算机科学与技术",
    "软件工程",
    "会计学",
    "临床医学",
    "土木工程",
    "汉语言文学",
    "护理学",
    "机械设计制造及其自动化",
    "海洋科学",
    "国际经济与贸易",
)
POSITIONS = ("软件工程师", "会计", "销售代表", "行政专员", "护士", "厨师", "质检员", "设计师")
HOSPITALS = (
    "青岛市市立医院",
    "青岛大学附属医院",
    "青岛市中心医院",
    "青岛市第八人民医院",
    "青岛市妇女儿童医院",
    "青岛市城阳区人民医院",
)
DEPARTMENTS = ("骨科", "内科", "普外科", "呼吸内科", "心内科", "眼科", "皮肤科", "神经内科")
DIAGNOSES = (
    "右踝关节扭伤",
    "急性支气管炎",
    "腰椎间盘突出症",
    "2型糖尿病",
    "高血压病2级",
    "左桡骨远端骨折",
    "社区获得性肺炎",
    "颈椎病",
)
ADVICE = (
    "建议休息两周，避免剧烈运动。",
    "建议休息三天，按时服药，不适随诊。",
    "建议全休一个月，定期复查。",
    "建议住院治疗。",
)
DESIGNERS = (
    "青岛市建筑设计研究院集团股份有限公司",
    "青岛腾远设计事务所有限公司",
    "青岛北洋建筑设计有限公司",
)
DRAWINGS = (("总平面图", "总施-01"), ("一层平面图", "建施-03"), ("场地竖向设计图", "总施-02"))


@dataclass(frozen=True)
class Person:
    name: str
    sex: str
    ethnicity: str
    birth: date
    address: str
    citizen_id: str


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _address(rng: random.Random, district: str) -> str:
    road = rng.choice(ROADS.get(district, ("人民路",)))
    building = (
        f"{rng.randint(1, 30)}号楼{rng.randint(1, 4)}单元{rng.randint(1, 28)}0{rng.randint(1, 4)}户"
    )
    return f"山东省青岛市{district}{road}{rng.randint(1, 300)}号{building}"


def person(
    rng: random.Random, *, born_from: date = date(1960, 1, 1), born_to: date = date(2003, 12, 31)
) -> Person:
    """A city-like resident: a valid citizen ID issued in a Qingdao district, an address there."""
    region = rng.choice(qingdao_districts())
    sex = rng.choice(("M", "F"))
    number = ids.generate_citizen_ids(
        rng, 1, divisions=[region.code], born_from=born_from, born_to=born_to, sex=sex
    )[0]
    birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return Person(
        _name(rng),
        "男" if sex == "M" else "女",
        rng.choice(ETHNICITIES),
        birth,
        _address(rng, region.name),
        number,
    )


def id_card(who: Person, rng: random.Random, *, today: date) -> IdCard:
    region = next(r for r in qingdao_districts() if r.code == who.citizen_id[:6])
    issued = today - timedelta(days=rng.randint(200, 3000))
    age = (issued - who.birth).days // 365
    # A card is valid 5 years before 16, 10 to 25, 20 to 45, then for life (长期).
    years = 5 if age < 16 else 10 if age < 26 else 20 if age < 46 else None
    end = issued.replace(year=issued.year + years) if years else None
    if issued.month == 2 and issued.day == 29:
        issued = issued.replace(day=28)
        end = end.replace(day=28) if end else None
    authority = f"青岛市公安局{region.name.removesuffix('区').removesuffix('市')}分局"
    return IdCard(
        who.name,
        who.sex,
        who.ethnicity,
        who.birth,
        who.address,
        who.citizen_id,
        authority,
        issued,
        end,
    )


def _company(rng: random.Random, district: str) -> str:
    return f"青岛{rng.choice(TRADE_NAMES)}{rng.choice(INDUSTRIES)}有限公司"


def licence(rng: random.Random, rep: Person, *, today: date) -> BusinessLicence:
    region = rng.choice(qingdao_districts())
    code = ids.generate_credit_codes(rng, 1, divisions=[region.code])[0]
    established = today - timedelta(days=rng.randint(30, 6000))
    if established.month == 2 and established.day == 29:
        established = established.replace(day=28)
    term = None if rng.random() < 0.7 else established.replace(year=established.year + 30)
    return BusinessLicence(
        name=_company(rng, region.name),
        credit_code=code,
        legal_rep=rep.name,
        type=rng.choice(COMPANY_TYPES),
        address=_address(rng, region.name).split("号楼")[0].rsplit("号", 1)[0] + "号",
        capital_fen=rng.choice((10, 50, 100, 200, 300, 500, 1000, 1205, 3000)) * 10**6,
        established=established,
        term_to=term,
        scope=rng.choice(SCOPES),
        authority=f"青岛市{region.name}市场监督管理局",
    )


def diploma(rng: random.Random, who: Person) -> Diploma:
    school, code = rng.choice(SCHOOLS)
    level: Literal["本科", "专科"] = "本科" if rng.random() < 0.7 else "专科"
    years = 4 if level == "本科" else 3
    entered = date(who.birth.year + 18, 9, 1)
    graduated = date(entered.year + years, 6, 30)
    number = f"{code}1{graduated.year}{'5' if level == '本科' else '6'}{rng.randint(1, 9999):06d}"
    return Diploma(
        who.name,
        who.sex,
        who.birth,
        school,
        rng.choice(MAJORS),
        level,
        entered,
        graduated,
        number,
        _name(rng),
    )


def contract(
    rng: random.Random, employer: BusinessLicence, who: Person, *, today: date
) -> LabourContract:
    start = (today - timedelta(days=rng.randint(0, 700))).replace(day=1)
    end = start.replace(year=start.year + 3) - timedelta(days=1)
    district = rng.choice(list(ROADS))
    return LabourContract(
        employer.name,
        employer.credit_code,
        employer.legal_rep,
        employer.address,
        who.name,
        who.sex,
        who.citizen_id,
        who.address,
        start,
        end,
        rng.choice(POSITIONS),
        f"青岛市{district}",
    )


def medical(rng: random.Random, who: Person, *, today: date) -> MedicalCertificate:
    issued = today - timedelta(days=rng.randint(1, 40))
    age = (
        issued.year
        - who.birth.year
        - ((issued.month, issued.day) < (who.birth.month, who.birth.day))
    )
    return MedicalCertificate(
        rng.choice(HOSPITALS),
        who.name,
        who.sex,
        age,
        who.citizen_id,
        rng.choice(DEPARTMENTS),
        rng.choice(DIAGNOSES),
        rng.choice(ADVICE),
        _name(rng),
        issued,
        f"MZ{issued:%Y%m%d}{rng.randint(1, 99999):05d}",
    )


def site_plan(rng: random.Random, builder: BusinessLicence, *, today: date) -> SitePlan:
    title, number = rng.choice(DRAWINGS)
    road = rng.choice([r for roads in ROADS.values() for r in roads])
    project = f"{road}{rng.choice(('综合楼', '研发中心', '住宅小区', '商业综合体'))}项目"
    return SitePlan(
        project,
        builder.name,
        rng.choice(DESIGNERS),
        title,
        number,
        rng.choice(("1:500", "1:1000", "1:100")),
        today - timedelta(days=rng.randint(10, 400)),
    )


def sample(kind: str, rng: random.Random, *, today: date | None = None) -> Document:
    """A document of ``kind`` with city-like values."""
    return sample_set(rng, today=today, only=kind)[0]


def sample_set(
    rng: random.Random, *, today: date | None = None, only: str | None = None
) -> list[Document]:
    """One document of each kind (or of ``only``), about the same people: the card's holder is
    the licence's legal representative, the contract is between that company and a second
    person, who holds the diploma and the medical certificate."""
    today = today or local_today()
    holder, employee = person(rng), person(rng, born_from=date(1975, 1, 1))
    card = id_card(holder, rng, today=today)
    company = licence(rng, holder, today=today)
    made: dict[str, Document] = {
        kinds.ID_CARD: card,
        kinds.BUSINESS_LICENCE: company,
        kinds.DIPLOMA: diploma(rng, employee),
        kinds.LABOUR_CONTRACT: contract(rng, company, employee, today=today),
        kinds.MEDICAL_CERTIFICATE: medical(rng, employee, today=today),
        kinds.SITE_PLAN: site_plan(rng, company, today=today),
    }
    return [made[only]] if only else list(made.values())


# --- wrong documents -----------------------------------------------------------------------------


def wrong_check_char(identifier: str) -> str:
    """``identifier`` (a citizen ID or credit code) with a check character that does not fit."""
    kind = ids.check(identifier).kind
    alphabet = ids.CITIZEN_CHECK_CHARS if kind == "citizen_id" else ids.CREDIT_CODE_CHARSET
    choices = [c for c in alphabet if c != identifier[17]]
    return identifier[:17] + random.Random(identifier).choice(choices)  # noqa: S311


def write_samples(folder: Path, *, seed: int = 18, today: date | None = None) -> list[Path]:
    """A set of sample documents in ``folder`` (made if missing): each kind clean (PNG), as a
    phone photo (JPEG), the licence as a PDF, the card's emblem side, and wrong ones (a licence
    uploaded as an identity card, a check character that does not fit, an expired card, a page
    cut off), with ``samples.json`` saying what each is and what a reading should find."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 (sample values, not secrets)
    documents = sample_set(rng, today=today)
    written: list[Path] = []
    index: list[dict[str, object]] = []

    def save(name: str, data: bytes, kind: str, fields: dict[str, str], note: str) -> None:
        path = folder / name
        path.write_bytes(data)
        written.append(path)
        index.append({"file": name, "material": kind, "fields": fields, "note": note})

    for doc in documents:
        page = render(doc)
        save(f"{doc.kind}.png", png(page), doc.kind, doc.fields(), "清晰的扫描件")
        save(
            f"{doc.kind}-photo.jpg",
            jpeg(photo(page, seed=seed)),
            doc.kind,
            doc.fields(),
            "手机拍摄：略有倾斜、模糊和噪点",
        )
    card = next(d for d in documents if isinstance(d, IdCard))
    licence = next(d for d in documents if isinstance(d, BusinessLicence))
    save("id-card-back.png", png(render_back(card)), card.kind, card.back_fields(), "身份证国徽面")
    save(
        "business-licence.pdf",
        pdf([render(licence)]),
        licence.kind,
        licence.fields(),
        "PDF 格式的营业执照",
    )
    save(
        "wrong-licence-as-id-card.png",
        png(render(licence)),
        card.kind,
        licence.fields(),
        "要求身份证，上传的却是营业执照",
    )
    bad = replace(card, citizen_id=wrong_check_char(card.citizen_id))
    save(
        "wrong-id-check-char.png",
        png(render(bad)),
        card.kind,
        bad.fields(),
        "公民身份号码校验位错误",
    )
    expired = replace(card, valid_from=date(2005, 3, 1), valid_to=date(2015, 3, 1))
    save(
        "wrong-id-card-expired.png",
        png(render_back(expired)),
        card.kind,
        expired.back_fields(),
        "身份证已过有效期限",
    )
    cut = degrade(render(card), "crop", strength=1.0)
    save(
        "wrong-id-card-cut-off.png",
        png(cut),
        card.kind,
        card.fields(),
        "下方被裁掉，缺少公民身份号码",
    )
    (folder / "samples.json").write_text(
        json.dumps(
            {"documents": [asdict(d) | {"kind": d.kind} for d in documents], "files": index},
            ensure_ascii=False,
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    return written
