"""A catalog of realistic size for scale tests: thousands of resource classes and tens of
thousands of datasets of metadata (Qingdao's catalog holds 5,115 classes), deterministic per seed.

Only metadata: these datasets have no data-core table behind them. Their codes start with
``GEN-`` and their names with ``gen-``, so a real registration never collides with them.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shuhui.catalog import service
from shuhui.catalog.models import (
    FREQUENCIES,
    DataItem,
    Dataset,
    Distribution,
    Organisation,
    ResourceClass,
)
from shuhui.catalog.service import RESOURCE_NAMESPACE, CityCatalog
from shuhui.core.regions import qingdao_districts

SUBJECTS: Final[dict[str, tuple[str, ...]]] = {
    "01": (
        "市场主体",
        "个体工商户",
        "食品经营许可",
        "特种设备",
        "广告经营",
        "商标注册",
        "产品质量抽检",
    ),
    "02": (
        "医疗机构",
        "执业医师",
        "传染病报告",
        "疫苗接种",
        "妇幼保健",
        "医疗保险结算",
        "药品零售",
    ),
    "03": ("中小学校", "学籍", "教师资格", "高校毕业生", "职业培训", "校外培训机构", "科研项目"),
    "04": ("养老保险", "医疗保险", "失业保险", "工伤保险", "社会保险缴费", "社保卡", "养老金发放"),
    "05": ("就业登记", "失业登记", "招聘岗位", "人才引进", "职业技能等级", "劳动仲裁", "创业补贴"),
    "06": ("婚姻登记", "低保对象", "养老机构", "社会组织", "殡葬服务", "残疾人补贴", "临时救助"),
    "07": ("交通事故", "消防检查", "治安案件", "出入境证件", "户籍迁移", "机动车登记", "驾驶证"),
    "08": (
        "公交线路",
        "地铁客流",
        "出租汽车",
        "停车场",
        "道路运输许可",
        "港口吞吐量",
        "公共自行车",
    ),
    "09": (
        "商品房预售",
        "建设工程规划",
        "施工许可",
        "物业企业",
        "住房公积金",
        "保障性住房",
        "老旧小区改造",
    ),
    "10": ("空气质量", "水质监测", "排污许可", "固体废物", "土地利用", "海洋环境", "噪声监测"),
    "11": ("财政预算", "政府采购", "税收收入", "企业纳税", "金融机构", "融资担保", "非税收入"),
    "12": ("行政许可", "行政处罚", "守信激励", "失信惩戒", "信用承诺", "纳税信用等级", "信用修复"),
    "13": (
        "旅游景区",
        "文物保护单位",
        "公共图书馆",
        "体育场馆",
        "演出场所",
        "星级饭店",
        "非遗项目",
    ),
    "14": (
        "农业经营主体",
        "农产品质量",
        "渔船",
        "农村土地承包",
        "动物防疫",
        "农机购置补贴",
        "种子经营",
    ),
    "15": ("居民用水", "居民用电", "燃气用户", "供热", "垃圾分类", "公共厕所", "菜市场"),
    "16": ("气象观测", "天气预报", "台风路径", "降水量", "气象灾害预警", "海雾", "空气温度"),
    "17": ("行政区划", "地名地址", "基础测绘", "遥感影像", "不动产单元", "城市部件", "道路中心线"),
    "18": ("机关单位", "事业单位", "人民团体", "社会团体", "基金会", "民办非企业单位", "行业协会"),
    "19": (
        "危险化学品企业",
        "安全生产许可",
        "事故隐患",
        "应急物资",
        "应急预案",
        "矿山企业",
        "特种作业人员",
    ),
    "20": ("常住人口", "户籍人口", "流动人口", "出生登记", "死亡登记", "人口变动", "居住证"),
}
FORMS: Final = (
    "基本信息",
    "登记信息",
    "名录",
    "明细",
    "变更记录",
    "年度统计",
    "月度汇总",
    "许可信息",
    "检查结果",
    "公示信息",
    "备案信息",
    "评价结果",
    "补贴发放",
    "分布情况",
    "监测数据",
)
ITEM_POOL: Final = (
    ("record_id", "记录编号", "string", False),
    ("name", "名称", "string", False),
    ("credit_code", "统一社会信用代码", "string", False),
    ("citizen_id", "公民身份号码", "string", True),
    ("person_name", "姓名", "string", True),
    ("phone", "联系电话", "string", True),
    ("address", "地址", "string", False),
    ("district", "行政区划代码", "string", False),
    ("status", "状态", "string", False),
    ("event_date", "发生日期", "date", False),
    ("amount_fen", "金额（分）", "int64", False),
    ("count", "数量", "int64", False),
    ("issuer", "发证机关", "string", False),
    ("valid_to", "有效期至", "date", False),
    ("longitude", "经度", "string", False),
    ("latitude", "纬度", "string", False),
)
USES: Final = ("监管", "统计分析", "公共服务", "政策制定")
SHARE_WEIGHTS: Final = (("unconditional", 0.35), ("conditional", 0.55), ("none", 0.10))
OPEN_WEIGHTS: Final = (("open", 0.30), ("conditional", 0.30), ("closed", 0.40))


@dataclass(frozen=True)
class Generated:
    classes: int
    datasets: int
    distributions: int


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def generate_catalog(
    db: Session,
    catalog: CityCatalog,
    *,
    classes: int = 5_200,
    datasets: int = 50_000,
    seed: int = 2026,
    batch: int = 5_000,
    progress: Callable[[str, int, int], None] | None = None,
) -> Generated:
    """Adds ``classes`` classes and ``datasets`` datasets of generated metadata.

    ``progress`` is told (stage, done, total) as each stage goes — ``classes`` and ``datasets``
    made, then ``writing`` the rows — for a command's progress bars.
    """
    tell = progress or _silent
    rng = random.Random(seed)
    for department in catalog.departments:
        service.ensure_organisation(db, catalog, str(department.attrs["short"]))
    orgs = list(db.scalars(select(Organisation).order_by(Organisation.id)))
    districts = [(r.code, r.name) for r in qingdao_districts()]
    categories = [c.code for c in catalog.categories]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    start_id = (db.scalar(select(ResourceClass.id).order_by(ResourceClass.id.desc())) or 0) + 1

    class_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    for n in range(classes):
        if n % PROGRESS_EVERY == 0:
            tell("classes", n, classes)
        category = categories[n % len(categories)]
        subject = rng.choice(SUBJECTS[category])
        form = rng.choice(FORMS)
        org = orgs[rng.randrange(len(orgs))]
        title = f"{subject}{form}"
        open_level = _pick(rng, OPEN_WEIGHTS)
        picked = rng.sample(ITEM_POOL, rng.randint(4, 9))
        class_id = start_id + n
        class_rows.append(
            {
                "id": class_id,
                "code": f"GEN-{category}-{n:06d}",
                "title": title,
                "title_en": f"{subject} {form} (generated)",
                "summary": f"{org.title}汇集的{title}，用于{rng.choice(USES)}。",
                "category": category,
                "organisation_id": org.id,
                "share_type": _pick(rng, SHARE_WEIGHTS),
                "share_condition": None,
                "open_level": open_level,
                "open_condition": None,
                "frequency": rng.choice(list(FREQUENCIES)),
                "formats": json.dumps(["CSV", "JSON", "API"] if open_level == "open" else ["API"]),
                "keywords": json.dumps([subject, form], ensure_ascii=False),
                "related": "[]",
                "release_date": date(2019, 1, 1) + timedelta(days=rng.randrange(2_500)),
                "record_count": rng.randrange(100, 5_000_000),
                "has_personal": any(p for *_, p in picked),
                "created_at": now,
                "updated_at": now,
            }
        )
        for position, (name, item_title, kind, personal) in enumerate(picked):
            item_rows.append(
                {
                    "class_id": class_id,
                    "position": position,
                    "name": name,
                    "title": item_title,
                    "type": kind,
                    "description": "",
                    "personal": personal,
                    "required": position == 0,
                }
            )
    tell("classes", classes, classes)

    dataset_rows: list[dict[str, Any]] = []
    dist_rows: list[dict[str, Any]] = []
    start_ds = (db.scalar(select(Dataset.id).order_by(Dataset.id.desc())) or 0) + 1
    for n in range(datasets):
        if n % PROGRESS_EVERY == 0:
            tell("datasets", n, datasets)
        cls = class_rows[n % len(class_rows)]
        year = 2019 + rng.randrange(8)
        district_code, district_name = rng.choice(districts)
        name = f"gen-{cls['code'][4:].lower()}-{n:06d}"
        title = f"{district_name}{cls['title']}（{year}年）"
        modified = now - timedelta(days=rng.randrange(1_500), seconds=rng.randrange(86_400))
        ds_id = start_ds + n
        dataset_rows.append(
            {
                "id": ds_id,
                "name": name,
                "title": title,
                "title_en": f"{cls['title_en']}, {district_code}, {year}",
                "description": f"{cls['summary']}范围：{district_name}，{year}年。",
                "class_id": cls["id"],
                "table_name": None,
                "version": None,
                "rows": rng.randrange(10, 2_000_000),
                "issued": date(year, 1, 1),
                "modified": modified,
                "temporal_start": date(year, 1, 1),
                "temporal_end": date(year, 12, 31),
                "spatial": district_code,
                "quality_score": None,
                "quality": None,
            }
        )
        kinds = (("csv", "download", "CSV", "text/csv"), ("api", "api", "JSON", "application/json"))
        for kind, dist_kind, fmt, media in kinds if cls["open_level"] == "open" else kinds[1:]:
            dist_rows.append(
                {
                    "uid": str(uuid.uuid5(RESOURCE_NAMESPACE, f"{name}/{kind}")),
                    "dataset_id": ds_id,
                    "kind": dist_kind,
                    "title": f"{title}（{fmt}）",
                    "format": fmt,
                    "media_type": media,
                    "url": f"/catalog/datasets/{name}",
                }
            )
    tell("datasets", datasets, datasets)
    # Written at the end, parents first, a batch at a time so the bar moves as the rows go in.
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (ResourceClass, class_rows),
        (DataItem, item_rows),
        (Dataset, dataset_rows),
        (Distribution, dist_rows),
    ]
    total = sum(len(rows) for _, rows in tables)
    written = 0
    tell("writing", 0, total)
    for model, rows in tables:
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            db.execute(insert(model), chunk)
            written += len(chunk)
            tell("writing", written, total)
    service.bump(db)
    return Generated(len(class_rows), len(dataset_rows), len(dist_rows))


PROGRESS_EVERY = 1_000


def _silent(_stage: str, _done: int, _total: int) -> None:
    """No one is watching."""
