"""The service-item catalogue: the seeded content (16 scenarios in 10 domains, forms that accept
their own examples, zero-submission items), the loader's refusal of broken content naming the
file, item and field, and the search in Chinese, abbreviations and pinyin."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from shuhui.approval.items import PROCESSES, Catalogue, ServiceItem, load_catalogue
from shuhui.core.content import ContentError, load_items
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.standard import TABLES
from shuhui.standard.vocabularies import CERTIFICATE_TYPES
from tests.fixtures import Templates

CITY = Settings().city_content
ON = date(2026, 1, 15)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CITY)


def example(item: ServiceItem) -> dict[str, Any]:
    return {f.name: f.schema["examples"][0] for f in item.form.fields}


# --- the seeded catalogue ---------------------------------------------------------------------


def test_the_seeded_catalogue_has_16_scenarios_in_10_domains(catalogue: Catalogue) -> None:
    assert len(catalogue.domains) == 10
    assert len(catalogue.scenarios) == 16
    assert {s.domain for s in catalogue.scenarios.values()} == set(catalogue.domains)
    for code in ("enterprise", "construction", "social-org", "work-safety", "health", "hr"):
        assert code in catalogue.domains
    assert "qualification" in catalogue.domains
    # Every item is in a scenario that lists it; every listed item exists.
    for item in catalogue.items.values():
        assert item.scenario is not None and item.code in catalogue.scenarios[item.scenario].items
        assert item.in_force(ON)
    assert len(catalogue.items) >= 40
    assert catalogue.of_scenario("open-restaurant", ON)[1].name_zh == "食品经营许可"


def test_the_existing_items_keep_what_mandates_rely_on(catalogue: Catalogue) -> None:
    items = load_items(CITY / "service-items.yaml", "service-items")
    assert set(items.by_code) == set(catalogue.items)
    for entry in items:
        item = catalogue.items[entry.code]
        assert (item.holder, item.delegable) == (entry.attrs["holder"], entry.attrs["delegable"])
        assert (item.reference, item.valid_from) == (entry.reference, entry.valid_from)
    pension = catalogue.items["QD-RS-0006"]
    assert pension.name_zh == "领取养老金资格认证" and not pension.delegable


def test_every_form_accepts_its_own_examples_and_refuses_a_missing_required_field(
    catalogue: Catalogue,
) -> None:
    for item in catalogue.items.values():
        assert 6 <= len(item.form.fields) <= 15, item.code
        validator = Draft202012Validator(
            item.form.schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        values = example(item)
        assert list(validator.iter_errors(values)) == [], item.code
        required = [f.name for f in item.form.fields if f.required]
        assert required, item.code
        del values[required[0]]
        assert not validator.is_valid(values), item.code
        for f in item.form.fields:
            assert f.title_zh and f.title_en and f.group and f.width in ("full", "half")


def test_statutory_and_promised_limits_are_the_real_ones(catalogue: Catalogue) -> None:
    statutory = {
        "QD-SP-0003": 20,  # 食品经营许可
        "QD-SP-0004": 20,  # 建设工程规划许可证核发
        "QD-SP-0011": 60,  # 民办非企业单位成立登记
        "QD-SP-0015": 45,  # 医疗机构执业登记
        "QD-RS-0003": 60,  # 工伤认定
        "QD-SP-0019": 20,  # 护士执业注册
    }
    for code, days in statutory.items():
        assert catalogue.items[code].statutory_days == days, code
    for item in catalogue.items.values():
        assert item.promised_days <= item.statutory_days
        assert (item.promised_days == 0) == (item.process == "approval-instant")
        assert item.process in PROCESSES
        assert (item.countersign is not None) == (item.process == "approval-countersign")
        assert item.countersign != item.department
        assert item.fee_fen >= 0
    assert catalogue.items["QD-GA-0001"].fee_fen == 2000  # 居民身份证工本费 20 元
    assert catalogue.items["QD-SP-0015"].countersign == "青岛市卫生健康委员会"


def test_zero_submission_items_exist_and_waive_real_materials(catalogue: Catalogue) -> None:
    zero = [i for i in catalogue.items.values() if i.zero_submission]
    assert len(zero) >= 5
    # Not only the ones that need no material at all: certificates really replace some.
    waiving = [i.code for i in zero if any(m.replaced_by for m in i.materials if m.required)]
    assert {"QD-MZ-0001", "QD-RS-0008", "QD-RS-0007"} <= set(waiving)
    food = catalogue.items["QD-SP-0003"]
    assert not food.zero_submission
    assert food.materials[0].replaced_by == "营业执照"


def test_certificate_types_used_are_in_the_content_and_the_standard(catalogue: Catalogue) -> None:
    types = load_items(CITY / "certificate-types.yaml", "certificate-types")
    used = {i.issues for i in catalogue.items.values() if i.issues}
    used |= {m.replaced_by for i in catalogue.items.values() for m in i.materials if m.replaced_by}
    assert {"食品经营许可证", "建设工程规划许可证", "医疗机构执业许可证"} <= used
    for kind in used:
        assert kind in CERTIFICATE_TYPES and types.get(kind) is not None, kind
    # An approval's licence waives a material of a later item (the once-only loop in content).
    issued = {i.issues for i in catalogue.items.values()}
    assert {"建设用地规划许可证", "道路运输经营许可证", "医疗机构执业许可证"} <= issued & used


def test_fills_read_columns_the_data_standard_has(catalogue: Catalogue) -> None:
    columns = {(t.name, c.name) for t in TABLES for c in t.columns}
    fills = [f.fill for i in catalogue.items.values() for f in i.form.fields if f.fill]
    assert len(fills) > 150
    for fill in fills:
        assert (fill.table, fill.column) in columns and (fill.table, fill.key) in columns
    shared = {f.table for f in fills if f.kind == "shared"}
    assert {"college_graduates", "employment_spells", "insurance_enrolments", "enterprise_tax"} <= (
        shared
    )
    history = [f for i in catalogue.items.values() for f in i.form.fields if f.history]
    assert {f.name for f in history} >= {"phone", "contact_phone", "address", "bank_account"}


def test_what_a_fill_reads_from_the_synthetic_city_is_what_its_field_accepts(
    catalogue: Catalogue, templates: Templates
) -> None:
    """A pre-filled value the form then refuses would make the applicant correct the
    platform: every column a field is filled from holds only values the field accepts."""
    city = templates.city()
    con = DataCore(city / "datacore", city / "truth").connect()
    checked: dict[tuple[str, str], list[Any]] = {}
    for item in catalogue.items.values():
        for f in item.form.fields:
            if f.fill is None:
                continue
            where = (f.fill.table, f.fill.column)
            if where not in checked:
                rows = con.execute(
                    f'SELECT DISTINCT "{f.fill.column}" FROM "{f.fill.table}"'
                    f' WHERE "{f.fill.column}" IS NOT NULL LIMIT 500'
                ).fetchall()
                checked[where] = [v.isoformat() if isinstance(v, date) else v for (v,) in rows]
            assert checked[where], where
            validator = Draft202012Validator(
                f.schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            for value in checked[where]:
                assert validator.is_valid(value), (item.code, f.name, value)
    con.close()


def test_another_holders_certificate_is_named_by_a_form_field(catalogue: Catalogue) -> None:
    permit = catalogue.items["QD-SP-0007"]
    contractor = next(m for m in permit.materials if m.code == "contractor-licence")
    assert contractor.holder_field == "contractor_credit_code"
    assert permit.form.field("contractor_credit_code") is not None


def test_the_catalogue_is_read_once_per_directory(catalogue: Catalogue) -> None:
    assert load_catalogue(CITY) is catalogue
    assert load_catalogue() is catalogue  # the settings' city content


def test_the_app_checks_the_catalogue_at_startup(app: FastAPI) -> None:
    assert app.state.approval_catalogue.get("QD-SP-0003").name_zh == "食品经营许可"


# --- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("食品经营", "QD-SP-0003"),
        ("开饭店", "QD-SP-0003"),  # a keyword
        ("失业金", "QD-RS-0002"),  # an abbreviation of search-synonyms.yaml
        ("shipin", "QD-SP-0003"),  # pinyin
        ("shipinj", "QD-SP-0003"),  # pinyin still being typed
        ("spjy", "QD-SP-0003"),  # initials
        ("hushi zhuce", "QD-SP-0019"),
        ("yiliao jigou", "QD-SP-0015"),
        ("food business", "QD-SP-0003"),  # English
        ("qd-sp-0015", "QD-SP-0015"),
        ("医疗机构执业许可证", "QD-SP-0015"),  # the certificate it issues
        ("规划 许可", "QD-SP-0006"),
    ],
)
def test_search_finds_items_in_chinese_pinyin_and_english(
    catalogue: Catalogue, query: str, first: str
) -> None:
    found = catalogue.search(query, ON)
    assert found and found[0].code == first, [i.code for i in found]


def test_search_ranks_a_name_above_a_material_and_needs_every_word(catalogue: Catalogue) -> None:
    found = [i.code for i in catalogue.search("身份证", ON)]
    assert found[:2] == ["QD-GA-0001", "QD-GA-0004"]
    assert "QD-SP-0003" in found  # asks for the legal representative's 身份证
    assert [i.code for i in catalogue.search("身份证 换领", ON)] == ["QD-GA-0004"]
    sb = {i.code for i in catalogue.search("sb", ON)}  # 社保 → 社会保险, 社会保障卡…
    assert {"QD-RS-0005", "QD-RS-0007"} <= sb


def test_search_finds_nothing_for_nonsense_and_everything_for_nothing(catalogue: Catalogue) -> None:
    assert catalogue.search("量子纠缠", ON) == []
    assert catalogue.search("zzzqqq", ON) == []
    assert catalogue.search("q", ON) == []  # one letter is not read as initials
    assert [i.code for i in catalogue.search("x", ON)] == ["QD-SP-0016"]  # but is a word: X光
    assert len(catalogue.search("  ", ON)) == len(catalogue.in_force(ON))


def test_search_sees_only_items_in_force(catalogue: Catalogue) -> None:
    assert catalogue.search("食品经营", date(2023, 11, 30)) == []
    assert [i.code for i in catalogue.search("食品经营", date(2023, 12, 1))] == ["QD-SP-0003"]


@given(st.text(max_size=60))
def test_any_query_searches_without_error(text: str) -> None:
    found = load_catalogue(CITY).search(text, ON)
    assert all(item.in_force(ON) for item in found)
    assert len({item.code for item in found}) == len(found)


# --- refusals ---------------------------------------------------------------------------------


def _form(fields: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "测试申请表",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": fields,
    }


def _text_field(title: str, fill: dict[str, str] | None = None, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"title": title, "x-title-en": "x", "type": "string", "maxLength": 50}
    if fill:
        out["x-fill"] = fill
    out |= {"x-group": "申请人信息", "x-width": "half", "examples": ["示例"]}
    return out | more


def _material(code: str, replaced_by: str | None = None, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "name": {"zh": "材料", "en": "x"}, "kind": None}
    out |= {"required": True, "replaced_by": replaced_by}
    return out | more


SINCE = date(2024, 1, 1)


def small_city() -> dict[str, Any]:
    """A city of two items, a person's and an enterprise's, that loads."""
    cert = {"valid_from": SINCE, "reference": "测试"}
    person = _form(
        {
            "name": _text_field(
                "姓名",
                {"kind": "identity", "table": "residents", "column": "name", "key": "citizen_id"},
            ),
            "major": _text_field(
                "专业",
                {
                    "kind": "shared",
                    "table": "college_graduates",
                    "column": "major",
                    "key": "citizen_id",
                },
            ),
            "employer": _text_field(
                "单位",
                {
                    "kind": "shared",
                    "table": "employment_spells",
                    "column": "credit_code",
                    "key": "citizen_id",
                    "order_by": "start_date",
                },
            ),
            "phone": _text_field("电话", **{"x-history": True}),
        },
        ["name", "major"],
    )
    enterprise = _form(
        {
            "name": _text_field("单位名称", {"kind": "identity", "table": "enterprises",
                                           "column": "name", "key": "credit_code"}),
            "grade": {"title": "纳税信用等级", "x-title-en": "x", "type": "string",
                      "enum": ["A", "B", "M", "C", "D"],
                      "x-fill": {"kind": "shared", "table": "enterprise_tax",
                                 "column": "credit_grade", "key": "credit_code",
                                 "order_by": "month"},
                      "x-group": "单位信息", "x-width": "half", "examples": ["A"]},
            "owner_id": _text_field("产权人证件号码"),
        },
        ["name"],
    )  # fmt: skip
    item = {"valid_from": SINCE, "reference": "测试条例第一条", "conditions": ["条件"]}
    return {
        "certificate-types.yaml": {
            "kind": "certificate-types",
            "items": [
                {"code": code, "name": {"zh": code, "en": "x"}, "holder": holder, **cert}
                for code, holder in [
                    ("营业执照", "enterprise"),
                    ("毕业证书", "person"),
                    ("不动产权证书", "any"),
                    ("就业创业证", "person"),
                    ("食品经营许可证", "enterprise"),
                    ("就诊记录", "person"),  # a data-use type, not an e-certificate
                ]
            ],
        },
        "approval/domains.yaml": {
            "kind": "approval-domains",
            "items": [{"code": "d", "name": {"zh": "领域", "en": "D"}, **cert}],
        },
        "approval/scenarios.yaml": {
            "kind": "approval-scenarios",
            "items": [
                {
                    "code": "s",
                    "name": {"zh": "场景", "en": "S"},
                    "domain": "d",
                    "items": ["T-1", "T-2"],
                    "description": "说明",
                    **cert,
                },
            ],
        },
        "service-items.yaml": {
            "kind": "service-items",
            "items": [
                {
                    "code": "T-1",
                    "name": {"zh": "个人事项", "en": "P"},
                    "department": "甲局",
                    "holder": "person",
                    "delegable": True,
                    "domain": "d",
                    "scenario": "s",
                    "materials": [_material("diploma", "毕业证书", kind="diploma")],
                    "form": "forms/T-1.yaml",
                    "time_limit": {"statutory": 20, "promised": 5},
                    "fee_fen": 0,
                    "process": "approval-standard",
                    "issues": "就业创业证",
                    **item,
                },
                {
                    "code": "T-2",
                    "name": {"zh": "单位事项", "en": "E"},
                    "department": "甲局",
                    "holder": "enterprise",
                    "delegable": True,
                    "domain": "d",
                    "scenario": "s",
                    "materials": [
                        _material("licence", "营业执照"),
                        _material("premises", "不动产权证书", holder_field="owner_id"),
                    ],
                    "form": "forms/T-2.yaml",
                    "time_limit": {"statutory": 20, "promised": 10},
                    "fee_fen": 0,
                    "process": "approval-countersign",
                    "countersign": "乙局",
                    "issues": "食品经营许可证",
                    **item,
                },
            ],
        },
        "approval/forms/T-1.yaml": person,
        "approval/forms/T-2.yaml": enterprise,
    }


def write_city(root: Path, docs: dict[str, Any]) -> Path:
    for name, doc in docs.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return root


def _item(docs: dict[str, Any], n: int = 0) -> dict[str, Any]:
    found: dict[str, Any] = docs["service-items.yaml"]["items"][n]
    return found


def _prop(docs: dict[str, Any], form: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = docs[f"approval/forms/{form}.yaml"]["properties"][name]
    return found


def test_the_small_city_loads(tmp_path: Path) -> None:
    catalogue = load_catalogue(write_city(tmp_path, small_city()))
    person, enterprise = catalogue.items["T-1"], catalogue.items["T-2"]
    assert person.zero_submission  # both required fields are filled, the diploma is waived
    assert person.form.field("employer").fill.order_by == "start_date"  # type: ignore[union-attr]
    assert person.form.field("phone").history  # type: ignore[union-attr]
    assert enterprise.materials[1].holder_field == "owner_id"
    assert (enterprise.statutory_days, enterprise.promised_days) == (20, 10)


Change = Callable[[dict[str, Any]], None]
S = "service-items.yaml"
F1 = "T-1.yaml"
F2 = "T-2.yaml"
REFUSALS: list[tuple[str, Change, str, str]] = [
    ("unknown domain", lambda d: _item(d).update(domain="nowhere"), S, "items[0] (T-1).domain"),
    ("unknown scenario", lambda d: _item(d).update(scenario="x"), S, "items[0] (T-1).scenario"),
    ("unknown process", lambda d: _item(d).update(process="approval-fast"), S,
     "items[0] (T-1).process"),
    ("unknown key", lambda d: _item(d).update(proces="approval-standard"), S,
     "items[0] (T-1).proces"),
    ("issued type not in the content",
     lambda d: _item(d).update(issues="护士执业证书"), S, "items[0] (T-1).issues"),
    ("issued type not an e-certificate of the standard",
     lambda d: _item(d).update(issues="就诊记录"), S, "items[0] (T-1).issues"),
    ("issued to the wrong holder", lambda d: _item(d).update(issues="营业执照"), S,
     "items[0] (T-1).issues"),
    ("replacing type unknown", lambda d: _item(d)["materials"][0].update(replaced_by="学位证"), S,
     "items[0] (T-1).materials[0].replaced_by"),
    ("replacing type of another holder without holder_field",
     lambda d: _item(d, 1)["materials"][0].update(replaced_by="毕业证书"), S,
     "items[1] (T-2).materials[0].replaced_by"),
    ("unknown material kind", lambda d: _item(d)["materials"][0].update(kind="passport"), S,
     "items[0] (T-1).materials[0].kind"),
    ("duplicate material", lambda d: _item(d)["materials"].append(_material("diploma")), S,
     "items[0] (T-1).materials[1].code"),
    ("holder_field not a field", lambda d: _item(d, 1)["materials"][1].update(holder_field="x"),
     S, "items[1] (T-2).materials[1].holder_field"),
    ("promised beyond statutory",
     lambda d: _item(d).update(time_limit={"statutory": 5, "promised": 20}), S,
     "items[0] (T-1).time_limit.promised"),
    ("statutory zero", lambda d: _item(d).update(time_limit={"statutory": 0, "promised": 0}), S,
     "items[0] (T-1).time_limit.statutory"),
    ("instant with a promise of days",
     lambda d: _item(d).update(process="approval-instant"), S,
     "items[0] (T-1).time_limit.promised"),
    ("negative fee", lambda d: _item(d).update(fee_fen=-1), S, "items[0] (T-1).fee_fen"),
    ("fee in yuan with decimals", lambda d: _item(d).update(fee_fen=20.5), S,
     "items[0] (T-1).fee_fen"),
    ("countersign without a second department",
     lambda d: _item(d, 1).pop("countersign"), S, "items[1] (T-2).countersign"),
    ("countersign by the same department",
     lambda d: _item(d, 1).update(countersign="甲局"), S, "items[1] (T-2).countersign"),
    ("a second department on a standard item",
     lambda d: _item(d).update(countersign="乙局"), S, "items[0] (T-1).countersign"),
    ("form outside the approval directory",
     lambda d: _item(d).update(form="../service-items.yaml"), S, "items[0] (T-1).form"),
    ("holder neither person nor enterprise", lambda d: _item(d).update(holder="any"), S,
     "items[0] (T-1).holder"),
    ("scenario naming an unknown item",
     lambda d: d["approval/scenarios.yaml"]["items"][0]["items"].append("T-9"),
     "scenarios.yaml", "items[0] (s).items[2]"),
    ("scenario in an unknown domain",
     lambda d: d["approval/scenarios.yaml"]["items"][0].update(domain="x"), "scenarios.yaml",
     "items[0] (s).domain"),
    ("item's scenario not listing it",
     lambda d: d["approval/scenarios.yaml"]["items"][0]["items"].remove("T-2"), S,
     "items[1] (T-2).scenario"),
    ("form not a JSON Schema", lambda d: _prop(d, "T-1", "phone").update(type="strin"), F1,
     "T-1.form.properties.phone.type"),
    ("required field not a property",
     lambda d: d["approval/forms/T-1.yaml"]["required"].append("nickname"), F1,
     "T-1.form.required"),
    ("unknown fill table",
     lambda d: _prop(d, "T-1", "major")["x-fill"].update(table="graduates"), F1,
     "T-1.form.properties.major.x-fill.table"),
    ("unknown fill column",
     lambda d: _prop(d, "T-1", "major")["x-fill"].update(column="subject"), F1,
     "T-1.form.properties.major.x-fill.column"),
    ("fill keyed by a column that is not the applicant's ID",
     lambda d: _prop(d, "T-1", "major")["x-fill"].update(key="major"), F1,
     "T-1.form.properties.major.x-fill.key"),
    ("fill of several rows without order_by",
     lambda d: _prop(d, "T-1", "employer")["x-fill"].pop("order_by"), F1,
     "T-1.form.properties.employer.x-fill.order_by"),
    ("identity read from another table",
     lambda d: _prop(d, "T-1", "name")["x-fill"].update(kind="identity", table="college_graduates"),
     F1, "T-1.form.properties.name.x-fill"),
    ("a person's form keyed by credit code",
     lambda d: _prop(d, "T-2", "grade").update({"x-fill": {
         "kind": "shared", "table": "college_graduates", "column": "degree", "key": "citizen_id"}}),
     F2, "T-2.form.properties.grade.x-fill.key"),
    ("fill of a date into a text field",
     lambda d: _prop(d, "T-1", "major")["x-fill"].update(column="graduation_date"), F1,
     "T-1.form.properties.major.x-fill.column"),
    ("enum missing values the column holds",
     lambda d: _prop(d, "T-2", "grade").update(enum=["A", "B"], examples=["A"]), F2,
     "T-2.form.properties.grade.x-fill.column"),
    ("unknown fill kind", lambda d: _prop(d, "T-1", "major")["x-fill"].update(kind="guess"), F1,
     "T-1.form.properties.major.x-fill.kind"),
    ("misspelt platform keyword",
     lambda d: _prop(d, "T-1", "phone").update({"x-histroy": True}), F1,
     "T-1.form.properties.phone.x-histroy"),
    ("field without bounds", lambda d: _prop(d, "T-1", "phone").pop("maxLength"), F1,
     "T-1.form.properties.phone"),
    ("title not in Chinese", lambda d: _prop(d, "T-1", "phone").update(title="Phone"), F1,
     "T-1.form.properties.phone.title"),
    ("example the field refuses",
     lambda d: _prop(d, "T-1", "phone").update(pattern=r"^1\d{10}$"), F1,
     "T-1.form.properties.phone.examples[0]"),
    ("no example", lambda d: _prop(d, "T-1", "phone").pop("examples"), F1,
     "T-1.form.properties.phone.examples"),
    ("no layout width", lambda d: _prop(d, "T-1", "phone").update({"x-width": "wide"}), F1,
     "T-1.form.properties.phone.x-width"),
    ("extra properties allowed",
     lambda d: d["approval/forms/T-1.yaml"].update(additionalProperties=True), F1,
     "T-1.form.type"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "file", "where"),
    [pytest.param(c, f, w, id=name) for name, c, f, w in REFUSALS],
)
def test_broken_content_is_refused_naming_the_file_item_and_field(
    tmp_path: Path, change: Change, file: str, where: str
) -> None:
    docs = small_city()
    change(docs)
    with pytest.raises(ContentError) as refused:
        load_catalogue(write_city(tmp_path, docs))
    assert refused.value.path.name == file
    assert refused.value.where == where, refused.value.reason


def test_a_missing_process_file_is_refused_once_processes_are_content(tmp_path: Path) -> None:
    root = write_city(tmp_path, small_city())
    processes = root / "approval" / "processes"
    processes.mkdir()
    (processes / "approval-standard.bpmn").write_text("<definitions/>", "utf-8")
    with pytest.raises(ContentError) as refused:
        load_catalogue(root)
    assert refused.value.where == "items[1] (T-2).process"
    assert "approval-countersign.bpmn" in refused.value.reason


# Values people could write into the item's fields by mistake: numbers, texts, lists, nulls.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["approval-standard", "d", "s", "毕业证书", "营业执照", "diploma", 20, 0]),
    st.lists(st.integers(0, 30), max_size=3),
    st.dictionaries(st.sampled_from(["statutory", "promised"]), st.integers(-5, 400)),
)
# Per field, values that are right (so that examples also load, and what loads is checked).
GOOD: dict[str, list[Any]] = {
    "domain": ["d"],
    "scenario": ["s", None],
    "process": ["approval-standard"],
    "issues": [None, "就业创业证", "毕业证书"],
    "fee_fen": [0, 2000],
    "time_limit": [{"statutory": 60, "promised": 60}, {"statutory": 1, "promised": 1}],
    "holder": ["person"],
    "delegable": [True, False],
    "conditions": [[], ["条件"]],
    "materials": [[], [_material("diploma", "毕业证书", kind="diploma", required=False)]],
    "form": ["forms/T-1.yaml"],
    "countersign": [None],
}


@given(data=st.data(), field_name=st.sampled_from(sorted(GOOD)))
def test_any_value_of_an_items_field_loads_consistently_or_is_refused_naming_it(
    data: st.DataObject, field_name: str
) -> None:
    good = st.sampled_from(GOOD[field_name])
    # Right values three times in four, so that what loads is checked too.
    value = data.draw(st.one_of(good, good, good, VALUES), label="value")
    columns = st.sampled_from(["major", "university", "degree", "graduation_date"])
    fill_value = data.draw(st.one_of(columns, columns, VALUES), label="fill column")
    docs = small_city()
    _item(docs)[field_name] = copy.deepcopy(value)
    _prop(docs, "T-1", "major")["x-fill"]["column"] = fill_value
    with tempfile.TemporaryDirectory() as root:
        try:
            catalogue = load_catalogue(write_city(Path(root), docs))
        except ContentError as refused:
            assert refused.where.startswith(("items[0] (T-1).", "T-1.form.")), refused.where
            assert refused.reason
            return
    item = catalogue.items["T-1"]  # what loaded holds the catalogue's rules
    major = item.form.field("major")
    assert major is not None and major.fill is not None and major.fill.column == fill_value
    assert 0 <= item.promised_days <= item.statutory_days and item.fee_fen >= 0
    assert item.process in PROCESSES and item.domain in catalogue.domains
    assert item.issues is None or item.issues in CERTIFICATE_TYPES
