"""Pre-filled forms (身份自动填 / 历史选择填 / 共享系统填) on the small city: each value with its
source, history from earlier cases, materials waived by e-certificates, the ledger entry the
applicant sees, and the mandates and certificate-use authorisations that acting for someone else
and using another holder's certificate need.

The service items are built here (the catalogue's loader is ``approval.items``'s); their codes
are real items of ``content/qingdao/service-items.yaml``, which mandates must name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import routes
from shuhui.approval.items import Fill, Form, FormField, Material, ServiceItem
from shuhui.approval.lookups import Lookups, lookups_for
from shuhui.approval.models import Case, CaseField
from shuhui.approval.prefill import (
    R_NOT_DELEGABLE,
    prefill,
    read_form,
    record_form,
    waive_with_holder,
)
from shuhui.approval.provenance import Refusal
from shuhui.core.clock import utcnow
from shuhui.core.content import load_items
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from shuhui.standard.tables import RESIDENTS
from shuhui.trust.authorisations import service as authz
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.identity.service import get_user_by_username
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_PASSWORD, add_account, as_user

# --- the items ---------------------------------------------------------------------------------


def field(
    name: str,
    title: str,
    fill: Fill | None = None,
    *,
    history: bool = False,
    required: bool = True,
) -> FormField:
    return FormField(
        name=name,
        title_zh=title,
        title_en=name.replace("_", " "),
        schema={"type": "string", "title": title, "maxLength": 200},
        required=required,
        fill=fill,
        history=history,
        group="申请人信息",
    )


def form(*fields: FormField) -> Form:
    return Form(
        schema={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {f.name: f.schema for f in fields},
            "required": [f.name for f in fields if f.required],
        },
        fields=fields,
    )


def item(code: str, name: str, holder: str, the_form: Form, *materials: Material, **kw: Any) -> Any:
    return ServiceItem(
        code=code,
        name_zh=name,
        name_en=name,
        department=kw.get("department", "青岛市行政审批服务局"),
        holder=holder,  # type: ignore[arg-type]
        delegable=kw.get("delegable", True),
        domain=kw.get("domain", "civil"),
        scenario=None,
        conditions=(),
        materials=materials,
        form=the_form,
        statutory_days=20,
        promised_days=10,
        fee_fen=0,
        process="approval-standard",
        countersign=None,
        issues=None,
        reference="测试用事项",
        valid_from=date(2019, 1, 1),
    )


def identity(table: str, column: str, key: str) -> Fill:
    return Fill("identity", table, column, key)


def shared(table: str, column: str, key: str, order_by: str | None = None) -> Fill:
    return Fill("shared", table, column, key, order_by)


SUBSIDY = item(
    "QD-MZ-0001",
    "残疾人两项补贴申领",
    "person",
    form(
        field("applicant_name", "姓名", identity("residents", "name", "citizen_id")),
        field("sex", "性别", identity("residents", "sex", "citizen_id")),
        field("birth_date", "出生日期", identity("residents", "birth_date", "citizen_id")),
        field(
            "disability_level",
            "残疾等级",
            shared("disabled_persons", "disability_level", "citizen_id"),
        ),
        field(
            "employer",
            "最近就业单位",
            shared("employment_spells", "credit_code", "citizen_id", "start_date"),
            required=False,
        ),
        field("bank_account", "收款银行账号", history=True),
        field("address", "联系地址", history=True, required=False),
    ),
    Material("id-card", "居民身份证", "ID card", "id-card", True, None),
    Material("disability-card", "残疾人证", "Disability certificate", None, True, "残疾人证"),
    department="青岛市民政局",
)
FOOD = item(
    "QD-SP-0003",
    "食品经营许可",
    "enterprise",
    form(
        field("enterprise_name", "企业名称", identity("enterprises", "name", "credit_code")),
        field(
            "legal_rep_name", "法定代表人", identity("enterprises", "legal_rep_name", "credit_code")
        ),
        field(
            "legal_rep_id",
            "法定代表人身份证号",
            identity("enterprises", "legal_rep_citizen_id", "credit_code"),
        ),
        field(
            "credit_grade",
            "纳税信用等级",
            shared("enterprise_tax", "credit_grade", "credit_code", "month"),
        ),
        field("premises_owner_id", "经营场所产权人身份证号", history=True),
    ),
    Material(
        "business-licence", "营业执照", "Business licence", "business-licence", True, "营业执照"
    ),
    Material(
        "premises-title",
        "经营场所产权证明",
        "Title to the premises",
        None,
        True,
        "不动产权证书",
        holder_field="premises_owner_id",
    ),
    Material("site-plan", "经营场所平面图", "Site plan", "site-plan", True, None),
    domain="market",
)
CERTIFICATION = item(
    "QD-RS-0006",
    "领取养老金资格认证",
    "person",
    form(field("applicant_name", "姓名", identity("residents", "name", "citizen_id"))),
    delegable=False,
    department="青岛市人力资源和社会保障局",
)
ITEMS = {i.code: i for i in (SUBSIDY, FOOD, CERTIFICATION)}


# --- the people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    applicant: dict[str, Any]  # a disabled resident with a valid 残疾人证 and two jobs
    agent: dict[str, Any]
    enterprise: dict[str, Any]  # with a valid 营业执照
    owner: dict[str, Any]  # a resident holding a valid 不动产权证书


def one(core: DataCore, query: str) -> dict[str, Any]:
    rows = core.sql(query).to_pylist()
    assert rows, f"the small city has nobody for: {query}"
    return dict(rows[0])


@pytest.fixture
def city(city_app: FastAPI) -> tuple[FastAPI, People]:
    """The small city's app with the test items, and accounts for a citizen applicant, an
    agent and an enterprise."""
    core: DataCore = city_app.state.datacore
    people = People(
        applicant=one(
            core,
            "SELECT r.citizen_id, r.name FROM residents r "
            "JOIN disabled_persons USING (citizen_id) "
            "JOIN e_certificates c ON c.holder_citizen_id = r.citizen_id "
            "AND c.certificate_type = '残疾人证' AND c.status = '有效' "
            "WHERE r.citizen_id IN (SELECT citizen_id FROM employment_spells GROUP BY 1 "
            "HAVING count(DISTINCT start_date) > 1) ORDER BY r.citizen_id LIMIT 1",
        ),
        agent=one(  # whose marriage certificate is no longer valid (失效)
            core,
            "SELECT citizen_id, name FROM residents WHERE citizen_id NOT IN "
            "(SELECT citizen_id FROM disabled_persons) AND citizen_id IN (SELECT "
            "holder_citizen_id FROM e_certificates WHERE certificate_type = '结婚证' "
            "GROUP BY 1 HAVING bool_and(status = '失效')) ORDER BY citizen_id DESC LIMIT 1",
        ),
        enterprise=one(
            core,
            "SELECT e.credit_code, e.name, e.legal_rep_citizen_id FROM enterprises e "
            "JOIN e_certificates c ON c.holder_credit_code = e.credit_code "
            "AND c.certificate_type = '营业执照' AND c.status = '有效' "
            "WHERE e.credit_code IN (SELECT credit_code FROM enterprise_tax GROUP BY 1 "
            "HAVING count(DISTINCT credit_grade) > 1) ORDER BY e.credit_code LIMIT 1",
        ),
        owner=one(
            core,
            "SELECT r.citizen_id, r.name FROM residents r JOIN e_certificates c "
            "ON c.holder_citizen_id = r.citizen_id AND c.certificate_type = '不动产权证书' "
            "AND c.status = '有效' ORDER BY r.citizen_id LIMIT 1",
        ),
    )
    with transaction(city_app.state.session_factory) as db:
        for username, person, role in (
            ("applicant", people.applicant, Role.citizen),
            ("agent", people.agent, Role.citizen),
        ):
            add_account(
                db,
                UserCreate(
                    username=username,
                    display_name=person["name"],
                    password=DEMO_PASSWORD,
                    roles=[role],
                    citizen_id=person["citizen_id"],
                ),
            )
        add_account(
            db,
            UserCreate(
                username="firm",
                display_name=people.enterprise["name"],
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=people.enterprise["credit_code"],
                department=people.enterprise["name"],
            ),
        )
    city_app.dependency_overrides[routes.find_item] = lambda: ITEMS.get
    return city_app, people


def user(app: FastAPI, db: Session, username: str) -> User:
    found = get_user_by_username(db, username)
    assert found is not None
    return found


def entries(app: FastAPI, **where: Any) -> list[LedgerEntry]:
    with app.state.session_factory() as db:
        query = select(LedgerEntry).order_by(LedgerEntry.seq)
        for name, value in where.items():
            query = query.where(getattr(LedgerEntry, name) == value)
        return list(db.scalars(query))


def detail(entry: LedgerEntry) -> dict[str, Any]:
    return dict(json.loads(entry.leaf)["detail"])


def submitted_case(
    db: Session,
    code: str,
    item_: ServiceItem,
    applicant: str,
    values: dict[str, Any],
    at: datetime | None,
    *,
    kind: str = "person",
) -> None:
    """An earlier case of the applicant, submitted at ``at`` (None: a draft)."""
    case = Case(
        code=code,
        item_code=item_.code,
        item_name=item_.name_zh,
        department=item_.department,
        domain=item_.domain,
        scenario=None,
        applicant_kind=kind,
        applicant_id=applicant,
        applicant_name="",
        created_by="test",
        state="draft" if at is None else "submitted",
        process=item_.process,
        form=values,
        created_at=at or utcnow(),
        submitted_at=at,
    )
    db.add(case)
    db.flush()
    for name, value in values.items():
        db.add(CaseField(case_id=case.id, field=name, value=value, fill="typed", filled_value=None))


def mandate(
    app: FastAPI, principal: dict[str, Any], agent: dict[str, Any], scope: list[str]
) -> str:
    """The principal's signed mandate for the agent to apply for ``scope``."""
    settings = app.state.settings
    items = load_items(settings.city_content / "service-items.yaml", "service-items")
    now = utcnow()
    with transaction(app.state.session_factory) as db:
        drafted = authz.create_mandate(
            db,
            items,
            app.state.enterprise_registry,
            grantor=authz.Party("person", principal["citizen_id"], principal["name"]),
            signatory_id=principal["citizen_id"],
            agent=authz.Party("person", agent["citizen_id"], agent["name"]),
            scope=scope,
            actions=["apply", "query"],
            valid_from=now,
            valid_to=now + timedelta(days=30),
            actor="test",
        )
        authz.sign(
            db,
            settings.data_dir,
            drafted.code,
            signer_citizen_id=principal["citizen_id"],
            actor="t",
        )
        return drafted.code


def cert_use(app: FastAPI, holder: dict[str, Any], relying: authz.Party, purpose: str) -> str:
    settings = app.state.settings
    types = load_items(settings.city_content / "certificate-types.yaml", "certificate-types")
    now = utcnow()
    with transaction(app.state.session_factory) as db:
        drafted = authz.create_cert_use(
            db,
            types,
            app.state.enterprise_registry,
            holder=authz.Party("person", holder["citizen_id"], holder["name"]),
            signatory_id=holder["citizen_id"],
            relying_party=relying,
            certificate_types_wanted=["不动产权证书"],
            certificate_no=None,
            purpose=purpose,
            valid_from=now,
            valid_to=now + timedelta(days=30),
            max_uses=None,
            actor="test",
        )
        authz.sign(
            db, settings.data_dir, drafted.code, signer_citizen_id=holder["citizen_id"], actor="t"
        )
        return drafted.code


def fields_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in body["fields"]}


# --- identity and shared fields ----------------------------------------------------------------


def test_identity_and_shared_fields_carry_table_version_and_key(
    city: tuple[FastAPI, People],
) -> None:
    app, people = city
    core: DataCore = app.state.datacore
    me = people.applicant["citizen_id"]
    resident = one(core, f"SELECT * FROM residents WHERE citizen_id = '{me}'")
    disabled = one(core, f"SELECT * FROM disabled_persons WHERE citizen_id = '{me}'")
    latest_job = one(
        core,
        f"SELECT credit_code FROM employment_spells WHERE citizen_id = '{me}' "
        "ORDER BY start_date DESC LIMIT 1",
    )
    versions = {t.name: t.version for t in core.tables()}

    body = as_user(app, "applicant").get("/api/v1/approval/items/QD-MZ-0001/form")
    assert body.status_code == 200, body.text
    form_ = body.json()
    got = fields_of(form_)
    assert got["applicant_name"]["value"] == resident["name"]
    assert got["sex"]["value"] == resident["sex"]
    assert got["birth_date"]["value"] == resident["birth_date"].isoformat()
    assert got["disability_level"]["value"] == disabled["disability_level"]
    assert got["employer"]["value"] == latest_job["credit_code"]  # the latest of two spells
    masked = me[:6] + "********" + me[14:]
    for name, kind, table, title in (
        ("applicant_name", "identity", "residents", RESIDENTS.title),
        ("disability_level", "shared", "disabled_persons", "持证残疾人信息"),
        ("employer", "shared", "employment_spells", "就业登记（劳动关系）"),
    ):
        source = got[name]["source"]
        assert got[name]["fill"] == kind
        assert got[name]["fill_zh"] == {"identity": "身份自动填", "shared": "共享系统填"}[kind]
        assert (source["table"], source["table_title"]) == (table, title)
        assert source["version"] == versions[table]
        assert source["key"] == masked  # a citizen ID is shown masked
        assert source["at"]
    assert got["bank_account"]["value"] is None and got["bank_account"]["fill"] is None
    assert got["bank_account"]["fill_zh"] == "申请人填写"
    assert form_["applicant"] == {
        "kind": "person",
        "kind_zh": "个人",
        "id": masked,
        "name": resident["name"],
    }
    assert form_["schema"]["required"][0] == "applicant_name"
    assert form_["versions"]["residents"] == versions["residents"]
    assert form_["counts"] == {"fields": 7, "filled": 5, "materials": 2, "waived": 1}


def test_the_service_reports_the_raw_key_and_a_shared_field_takes_the_latest_row(
    city: tuple[FastAPI, People],
) -> None:
    app, people = city
    core: DataCore = app.state.datacore
    code = people.enterprise["credit_code"]
    grade = one(
        core,
        f"SELECT credit_grade FROM enterprise_tax WHERE credit_code = '{code}' "
        "ORDER BY month DESC LIMIT 1",
    )["credit_grade"]
    with app.state.session_factory() as db:
        filled = prefill(db, core, FOOD, user=user(app, db, "firm"))
    assert filled.applicant_kind == "enterprise" and filled.applicant_id == code
    assert filled.applicant_name == people.enterprise["name"]
    assert filled.fields["credit_grade"].value == grade
    legal = filled.fields["legal_rep_id"]
    assert legal.value == people.enterprise["legal_rep_citizen_id"]
    assert legal.provenance is not None
    assert (legal.provenance.kind, legal.provenance.table, legal.provenance.key) == (
        "identity",
        "enterprises",
        code,
    )
    assert set(filled.versions) >= {"enterprises", "enterprise_tax", "e_certificates"}


# --- history ------------------------------------------------------------------------------------


def test_history_offers_earlier_values_newest_first_distinct_at_most_five(
    city: tuple[FastAPI, People],
) -> None:
    app, people = city
    me = people.applicant["citizen_id"]
    start = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
    accounts = ["6222 0001", "6222 0002", "6222 0001", "6222 0003", "6222 0004", "6222 0005"]
    accounts += ["6222 0006"]
    with transaction(app.state.session_factory) as db:
        for n, account in enumerate(accounts):  # the last is the newest
            submitted_case(
                db,
                f"H{n}",
                SUBSIDY,
                me,
                {"bank_account": account, "address": "市南区香港中路 1 号" if n < 2 else ""},
                start + timedelta(days=n),
            )
        submitted_case(db, "DRAFT", SUBSIDY, me, {"address": "草稿里的地址"}, None)
        other = people.agent["citizen_id"]
        submitted_case(db, "OTHER", SUBSIDY, other, {"bank_account": "8888 other"}, start)

    got = fields_of(as_user(app, "applicant").get("/api/v1/approval/items/QD-MZ-0001/form").json())
    bank = got["bank_account"]
    assert [c["value"] for c in bank["choices"]] == [
        "6222 0006",
        "6222 0005",
        "6222 0004",
        "6222 0003",
        "6222 0001",
    ]  # newest first, the repeated 0001 once, at most five, no draft, nobody else's
    assert [c["case_code"] for c in bank["choices"]][:2] == ["H6", "H5"]
    assert bank["value"] == "6222 0006" and bank["fill"] == "history"
    assert bank["fill_zh"] == "历史选择填" and bank["source"]["case_code"] == "H6"
    assert bank["source"]["table"] is None
    address = got["address"]  # neither an empty answer nor a draft's is offered
    assert [c["value"] for c in address["choices"]] == ["市南区香港中路 1 号"]


# --- materials ----------------------------------------------------------------------------------


def test_materials_an_e_certificate_replaces_are_waived(city: tuple[FastAPI, People]) -> None:
    app, people = city
    core: DataCore = app.state.datacore
    me = people.applicant["citizen_id"]
    card = one(
        core,
        "SELECT certificate_no FROM e_certificates WHERE certificate_type = '残疾人证' "
        f"AND status = '有效' AND holder_citizen_id = '{me}'",
    )["certificate_no"]
    form_ = as_user(app, "applicant").get("/api/v1/approval/items/QD-MZ-0001/form").json()
    assert form_["waived"] == [
        {
            "material": "disability-card",
            "name": "残疾人证",
            "certificate_type": "残疾人证",
            "certificate_no": card,
            "holder": me[:6] + "********" + me[14:],
            "authorisation": None,
        }
    ]
    assert {m["code"]: m["waived"] for m in form_["materials"]} == {
        "id-card": False,
        "disability-card": True,
    }
    # Someone without a valid 残疾人证 uploads it; a certificate no longer valid waives nothing.
    marriage = Material("marriage", "结婚证", "Marriage certificate", None, True, "结婚证")
    with app.state.session_factory() as db:
        agent_form = prefill(db, core, SUBSIDY, user=user(app, db, "agent"))
        married = prefill(
            db, core, replace(SUBSIDY, materials=(marriage,)), user=user(app, db, "agent")
        )
        mine = prefill(
            db, core, replace(SUBSIDY, materials=(marriage,)), user=user(app, db, "applicant")
        )
    assert agent_form.waived == {} and married.waived == {}
    has_valid = core.sql(
        "SELECT count(*) AS n FROM e_certificates WHERE certificate_type = '结婚证' "
        f"AND status = '有效' AND holder_citizen_id = '{me}'"
    ).to_pylist()[0]["n"]
    assert list(mine.waived) == (["marriage"] if has_valid else [])
    # An enterprise's business licence.
    food = as_user(app, "firm").get("/api/v1/approval/items/QD-SP-0003/form").json()
    assert [w["material"] for w in food["waived"]] == ["business-licence"]
    assert food["waived"][0]["holder"] == people.enterprise["credit_code"]  # not personal


# --- the ledger and 谁用了我的数据 ----------------------------------------------------------------


def test_a_prefill_is_one_ledger_entry_the_applicant_sees(city: tuple[FastAPI, People]) -> None:
    app, people = city
    me = people.applicant["citizen_id"]
    client = as_user(app, "applicant")
    assert client.get("/api/v1/approval/items/QD-MZ-0001/form").status_code == 200
    (entry,) = entries(app, action="approval.form.prefilled")
    assert (entry.actor, entry.subject, entry.purpose) == (
        "applicant",
        me,
        "办理残疾人两项补贴申领",
    )
    said = detail(entry)
    assert said["item"] == "QD-MZ-0001"
    assert sorted(said["fields"]["identity"]) == ["applicant_name", "birth_date", "sex"]
    assert sorted(said["fields"]["shared"]) == ["disability_level", "employer"]
    assert set(said["tables"]) == {
        "residents",
        "disabled_persons",
        "employment_spells",
        "e_certificates",
    }
    assert said["waived"] == ["disability-card"]
    assert people.applicant["name"] not in entry.leaf.decode()  # names, never values

    page = client.get("/me/data-uses")
    assert page.status_code == 200
    assert 'data-action="approval.form.prefilled"' in page.text
    assert "办事时读取了我的信息自动填表" in page.text and "办理残疾人两项补贴申领" in page.text


def test_reading_a_form_writes_nothing_until_it_is_recorded(
    city: tuple[FastAPI, People],
) -> None:
    """The route reads before it takes the write lock: the read must leave the ledger alone."""
    app, people = city
    before = len(entries(app))
    with transaction(app.state.session_factory) as db:
        firm = user(app, db, "firm")
        read = read_form(db, app.state.datacore, FOOD, user=firm)
        agent = user(app, db, "agent")
        principal = people.applicant["citizen_id"]
        refused = read_form(db, app.state.datacore, SUBSIDY, user=agent, applicant_id=principal)
    assert len(entries(app)) == before
    assert read.fields["enterprise_name"].value == people.enterprise["name"]
    assert refused.fields == {} and refused.mandate is not None and not refused.mandate.allowed
    with transaction(app.state.session_factory) as db:
        recorded = record_form(db, read)
    assert recorded.fields == read.fields
    assert [e.action for e in entries(app)[before:]] == ["approval.form.prefilled"]


# --- agents and mandates ------------------------------------------------------------------------


def test_an_agent_without_a_mandate_is_refused_and_the_refusal_is_in_the_ledger(
    city: tuple[FastAPI, People],
) -> None:
    app, people = city
    principal = people.applicant["citizen_id"]
    agent = as_user(app, "agent")
    answer = agent.get(f"/api/v1/approval/items/QD-MZ-0001/form?applicant={principal}")
    assert answer.status_code == 403
    body = answer.json()
    assert body["type"] == "/problems/mandate-refused"
    assert "残疾人两项补贴申领" in body["detail"] and "没有该委托人对其的授权" in body["detail"]
    assert principal not in body["detail"]  # masked
    # The refusal was committed with the answer; nothing was read for the form.
    (refusal,) = entries(app, action="mandate.refused")
    assert (refusal.subject, refusal.actor) == (principal, "agent")
    assert detail(refusal)["matter"] == "QD-MZ-0001"
    assert entries(app, action="approval.form.prefilled") == []
    # The principal sees the attempt.
    assert 'data-action="mandate.refused"' in as_user(app, "applicant").get("/me/data-uses").text


def test_an_agent_with_a_mandate_gets_the_principals_form(city: tuple[FastAPI, People]) -> None:
    app, people = city
    principal = people.applicant["citizen_id"]
    code = mandate(app, people.applicant, people.agent, ["QD-MZ-0001"])
    agent = as_user(app, "agent")
    answer = agent.get(f"/api/v1/approval/items/QD-MZ-0001/form?applicant={principal}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["applicant"]["name"] == people.applicant["name"]
    assert fields_of(body)["applicant_name"]["value"] == people.applicant["name"]
    assert body["mandate"] == code
    agent_id = people.agent["citizen_id"]
    assert body["agent"] == agent_id[:6] + "********" + agent_id[14:]
    (used,) = entries(app, action="mandate.used")
    assert (used.subject, used.grant) == (principal, code)
    (read,) = entries(app, action="approval.form.prefilled")
    assert (read.subject, read.actor, read.grant) == (principal, "agent", code)
    assert detail(read)["agent"]["id"] == people.agent["citizen_id"]
    # The mandate covers this item only.
    other = agent.get(f"/api/v1/approval/items/QD-RS-0006/form?applicant={principal}")
    assert other.status_code == 403


def test_an_item_that_is_not_delegable_cannot_be_done_by_an_agent(
    city: tuple[FastAPI, People],
) -> None:
    app, people = city
    principal = people.applicant["citizen_id"]
    mandate(app, people.applicant, people.agent, ["QD-MZ-0001"])
    answer = as_user(app, "agent").get(
        f"/api/v1/approval/items/QD-RS-0006/form?applicant={principal}"
    )
    assert answer.status_code == 403
    assert "须由本人亲自办理" in answer.json()["detail"]
    refusals = entries(app, action="mandate.refused")
    assert [detail(r)["matter"] for r in refusals] == ["QD-RS-0006"]
    assert detail(refusals[0])["reason"] == R_NOT_DELEGABLE[0]
    # The applicant does it themself.
    own = as_user(app, "applicant").get("/api/v1/approval/items/QD-RS-0006/form")
    assert own.status_code == 200


def test_the_service_raises_the_refusal_after_recording_it(city: tuple[FastAPI, People]) -> None:
    """For callers other than the route: the refusal is in the session, to be committed."""
    app, people = city
    with transaction(app.state.session_factory) as db:
        with pytest.raises(Problem) as refused:
            prefill(
                db,
                app.state.datacore,
                SUBSIDY,
                user=user(app, db, "agent"),
                applicant_id=people.applicant["citizen_id"],
            )
        assert refused.value.slug == "mandate-refused" and refused.value.http_status == 403
    assert [e.subject for e in entries(app, action="mandate.refused")] == [
        people.applicant["citizen_id"]
    ]


# --- another holder's certificate ---------------------------------------------------------------


def test_another_holders_certificate_needs_their_authorisation(
    city: tuple[FastAPI, People],
) -> None:
    app, people = city
    core: DataCore = app.state.datacore
    firm, owner = people.enterprise["credit_code"], people.owner["citizen_id"]
    title = one(
        core,
        "SELECT certificate_no FROM e_certificates WHERE certificate_type = '不动产权证书' "
        f"AND status = '有效' AND holder_citizen_id = '{owner}' ORDER BY issue_date DESC LIMIT 1",
    )["certificate_no"]
    with transaction(app.state.session_factory) as db:  # the premises named in an earlier case
        submitted_case(
            db,
            "F1",
            FOOD,
            firm,
            {"premises_owner_id": owner},
            datetime(2025, 3, 1, tzinfo=UTC),
            kind="enterprise",
        )
    client = as_user(app, "firm")

    refused = client.get("/api/v1/approval/items/QD-SP-0003/form").json()
    assert fields_of(refused)["premises_owner_id"]["value"] == owner
    assert [w["material"] for w in refused["waived"]] == ["business-licence"]
    (refusal,) = refused["refused"]
    assert refusal["material"] == "premises-title"
    assert "持证人尚未签署用证授权" in refusal["reason"] and "经营场所产权证明" in refusal["reason"]
    assert owner not in refusal["reason"]
    (recorded,) = entries(app, action="cert_use.refused")
    assert recorded.subject == owner and detail(recorded)["certificate_no"] is None
    assert detail(entries(app, action="approval.form.prefilled")[-1])["refused"] == [
        "premises-title"
    ]

    relying = authz.Party("enterprise", firm, people.enterprise["name"])
    code = cert_use(app, people.owner, relying, "办理食品经营许可")
    allowed = client.get("/api/v1/approval/items/QD-SP-0003/form").json()
    assert allowed["refused"] == []
    premises = next(w for w in allowed["waived"] if w["material"] == "premises-title")
    assert premises["certificate_no"] == title and premises["authorisation"] == code
    (used,) = entries(app, action="cert_use.used")
    assert (used.subject, used.grant) == (owner, code)
    assert detail(used)["certificate_no"] == title


def test_an_authorisation_for_another_purpose_does_not_cover_the_form(
    city: tuple[FastAPI, People],
) -> None:
    app, people = city
    firm = people.enterprise["credit_code"]
    relying = authz.Party("enterprise", firm, people.enterprise["name"])
    cert_use(app, people.owner, relying, "办理企业设立登记")
    material = FOOD.materials[1]
    with transaction(app.state.session_factory) as db:
        got = waive_with_holder(
            db,
            app.state.datacore,
            FOOD,
            material,
            people.owner["citizen_id"],
            user=user(app, db, "firm"),
            purpose="办理食品经营许可",
        )
    assert isinstance(got, Refusal)
    assert "用途与授权用途不符" in got.reason_zh
    assert len(entries(app, action="cert_use.refused")) == 1


# --- the route's refusals -----------------------------------------------------------------------


def test_the_form_route_refuses_clearly(city: tuple[FastAPI, People]) -> None:
    app, _ = city
    applicant = as_user(app, "applicant")
    missing = applicant.get("/api/v1/approval/items/QD-XX-9999/form")
    assert missing.status_code == 404 and missing.json()["field"] == "code"
    bad = applicant.get("/api/v1/approval/items/QD-MZ-0001/form?applicant=370202199001011234")
    assert bad.status_code == 422 and bad.json()["field"] == "applicant"
    # A person's item for an enterprise account without a citizen ID.
    firm = as_user(app, "firm").get("/api/v1/approval/items/QD-MZ-0001/form")
    assert firm.status_code == 403 and firm.json()["type"] == "/problems/forbidden"
    officer = as_user(app, "approver").get("/api/v1/approval/items/QD-MZ-0001/form")
    assert officer.status_code == 403
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/approval/items/QD-MZ-0001/form").status_code == 401
    assert entries(app, action="approval.form.prefilled") == []


# --- lookups ------------------------------------------------------------------------------------


@pytest.fixture
def residents_sample(city_app: FastAPI) -> list[str]:
    core: DataCore = city_app.state.datacore
    return [r["citizen_id"] for r in core.sql("SELECT citizen_id FROM residents").to_pylist()]


def test_lookups_find_what_duckdb_finds(city_app: FastAPI, residents_sample: list[str]) -> None:
    core: DataCore = city_app.state.datacore
    lookups = lookups_for(core)

    @hsettings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.one_of(
            st.sampled_from(residents_sample),
            st.text(alphabet="0123456789X", min_size=0, max_size=19),
        ),
        st.sampled_from(
            [
                ("residents", "citizen_id"),
                ("employment_spells", "citizen_id"),
                ("insurance_enrolments", "citizen_id"),
                ("e_certificates", "holder_citizen_id"),
            ]
        ),
    )
    def same(key: str, where: tuple[str, str]) -> None:
        table, column = where
        if table == "e_certificates":
            got = lookups.certificates(key)
        else:
            got = lookups.rows(table, column, key)
        assert got is not None and got.table == table and got.key == key
        expected = core.sql(f"SELECT * FROM {table} WHERE {column} = '{key}'").to_pylist()
        order = sorted(expected, key=lambda r: json.dumps(r, default=str, sort_keys=True))
        found = sorted(got.rows, key=lambda r: json.dumps(r, default=str, sort_keys=True))
        assert found == order

    same()
    assert lookups.rows("no_such_table", "citizen_id", residents_sample[0]) is None
    assert lookups.rows("residents", "no_such_column", residents_sample[0]) is None


def test_a_new_version_is_read_at_once_and_its_old_index_goes(
    city_app: FastAPI, residents_sample: list[str]
) -> None:
    core: DataCore = city_app.state.datacore
    lookups = lookups_for(core)
    someone = residents_sample[0]
    before = lookups.resident(someone)
    assert before is not None and before.first() is not None
    folder = lookups.folder / "residents"
    old_files = sorted(p.name for p in folder.glob("*.arrow"))
    assert old_files == [f"v{before.version:06d}.citizen_id.arrow"]

    table = core.sql("SELECT * FROM residents")
    names = table.column("name").to_pylist()
    ids = table.column("citizen_id").to_pylist()
    names[ids.index(someone)] = "新名字"
    renamed = table.set_column(table.schema.get_field_index("name"), "name", pa.array(names))
    core.load(RESIDENTS, renamed.cast(RESIDENTS.arrow_schema), source="test")

    after = lookups.resident(someone)
    assert after is not None and after.version == before.version + 1
    assert after.first() == {**before.rows[0], "name": "新名字"}
    assert sorted(p.name for p in folder.glob("*.arrow")) == [
        f"v{after.version:06d}.citizen_id.arrow"
    ]
    # Another process (a fresh Lookups) maps the same file instead of building it again.
    index = folder / f"v{after.version:06d}.citizen_id.arrow"
    made = index.stat().st_mtime_ns
    fresh = lookups_for(DataCore(core.main.root, core.truth_store.root)).resident(someone)
    assert fresh is not None and (fresh.version, fresh.rows) == (after.version, after.rows)
    assert index.stat().st_mtime_ns == made


def test_without_a_writable_data_directory_the_index_is_kept_in_memory(
    city_app: FastAPI, residents_sample: list[str]
) -> None:
    core: DataCore = city_app.state.datacore
    lookups = lookups_for(core)
    lookups.folder.parent.mkdir(parents=True, exist_ok=True)
    lookups.folder.write_text("not a folder")  # so no index file can be made under it
    someone = residents_sample[-1]
    found = lookups.resident(someone)
    assert found is not None and found.first() is not None
    assert found.first()["citizen_id"] == someone  # type: ignore[index]
    assert lookups.folder.is_file()


def test_a_big_tables_new_version_is_indexed_while_the_one_before_answers(
    city_app: FastAPI, residents_sample: list[str]
) -> None:
    core: DataCore = city_app.state.datacore
    lookups = Lookups(core, city_app.state.settings.data_dir / "lookups-test", stale_rows=1)
    someone = residents_sample[1]
    before = lookups.resident(someone)
    assert before is not None
    table = core.sql("SELECT * FROM residents")
    names = table.column("name").to_pylist()
    names[table.column("citizen_id").to_pylist().index(someone)] = "又一个名字"
    renamed = table.set_column(table.schema.get_field_index("name"), "name", pa.array(names))
    core.load(RESIDENTS, renamed.cast(RESIDENTS.arrow_schema), source="test")

    meanwhile = lookups.resident(someone)  # answered at once, from the version before
    assert meanwhile is not None
    assert (meanwhile.version, meanwhile.rows) == (before.version, before.rows)
    lookups.settle()
    after = lookups.resident(someone)
    assert after is not None and after.version == before.version + 1
    assert after.first() == {**before.rows[0], "name": "又一个名字"}
