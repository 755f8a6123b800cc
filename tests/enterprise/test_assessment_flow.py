"""The digital-level assessment end to end on the small city: the questionnaire pre-filled for an
enterprise of the city from its registers, its platform enablements and its last assessment, each
answer with its source; submitting through the API and through the page; the history and the
latest level; and bad input refused with the field named in Chinese, nothing saved."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.approval.lookups import lookups_for
from shuhui.core.db import transaction
from shuhui.core.http import csrf_protect
from shuhui.datacore.store import DataCore
from shuhui.enterprise import assessment, assessment_facts, assessment_routes
from shuhui.enterprise.models import Assessment
from shuhui.enterprise.platforms import load as load_platforms
from shuhui.standard.tables import ENTERPRISES, PLATFORM_ENABLEMENTS
from shuhui.trust.identity.deps import load_user
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_PASSWORD, add_account, as_user, csrf_from

API = "/api/v1/enterprise/assessment"
PAGE = "/enterprise/assessment"
# The live enterprises whose registers give a year of tax, electricity and insured staff.
WITH_A_YEAR = (
    "SELECT e.credit_code FROM enterprises e WHERE e.status = '存续' AND e.industry_code {cond} "
    "AND e.credit_code IN (SELECT credit_code FROM enterprise_tax GROUP BY 1 "
    "HAVING count(DISTINCT month) >= 12) "
    "AND e.credit_code IN (SELECT credit_code FROM enterprise_electricity GROUP BY 1 "
    "HAVING count(DISTINCT month) >= 12) "
    "AND e.credit_code IN (SELECT credit_code FROM insurance_contributions) "
    "ORDER BY e.credit_code LIMIT 1"
)


def mount(app: FastAPI) -> FastAPI:
    """The assessment's routers, until the app factory mounts them (then nothing is added)."""
    for route in app.router.routes:
        if getattr(route, "original_router", None) is assessment_routes.api:
            return app
        if getattr(route, "path", None) == API:
            return app
    guarded = [Depends(csrf_protect), Depends(load_user)]
    app.include_router(assessment_routes.api, dependencies=guarded)
    app.include_router(assessment_routes.pages, dependencies=guarded)
    return app


def core_of(app: FastAPI) -> DataCore:
    return DataCore.from_settings(app.state.settings)


def firm(app: FastAPI, *, manufacturing: bool = True) -> str:
    sql = WITH_A_YEAR.format(cond="= 'C'" if manufacturing else "<> 'C'")
    (row,) = core_of(app).sql(sql).to_pylist()
    return str(row["credit_code"])


def enterprise_client(app: FastAPI, code: str, username: str = "firm") -> TestClient:
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username=username,
                display_name="企业经办人",
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=code,
            ),
        )
    return as_user(app, username)


def enable(app: FastAPI, code: str, *solutions: str) -> None:
    """Gives the enterprise these platform solutions, and no other enterprise any (a new
    version of the table)."""
    catalogue = load_platforms(app.state.settings.city_content)
    rows = []
    for s in solutions:
        found = catalogue.solution(s)
        assert found is not None, s
        rows.append(
            {
                "credit_code": code,
                "platform_code": found.platform,
                "solution_code": s,
                "enabled_date": date(2025, 6, 1),
            }
        )
    core_of(app).load(
        PLATFORM_ENABLEMENTS,
        pa.Table.from_pylist(rows, schema=PLATFORM_ENABLEMENTS.arrow_schema),
        source="test",
    )


@pytest.fixture
def city(city_app: FastAPI) -> FastAPI:
    return mount(city_app)


def _prefill(app: FastAPI, code: str) -> assessment.Prefill:
    content = Path(app.state.settings.city_content)
    with transaction(app.state.session_factory) as db:
        return assessment.prefill(
            db,
            lookups_for(app.state.datacore),
            assessment.questionnaire_for(content),
            code,
            catalogue=load_platforms(content),
        )


# --- pre-fill ---------------------------------------------------------------------------------


def test_a_manufacturer_of_the_city_is_pre_filled_from_its_registers(city: FastAPI) -> None:
    code = firm(city)
    enable(city, code)  # no platform has enabled it
    pre = _prefill(city, code)
    offers = pre.offers
    # 身份自动填: the registration and the employment register.
    assert offers["P1"].option == "manufacturing"
    assert offers["P1"].source.kind == "register"
    assert re.fullmatch(r"企业登记信息（第\d+版）：行业门类为“制造业”", offers["P1"].source.text)
    assert {"P2", "P3", "P4"} <= set(offers)
    assert offers["P3"].source.text.startswith("就业登记（劳动关系）（第")
    # The effects, from a year of tax, insured staff and electricity.
    assert {"E1", "E2", "E3"} <= set(offers)
    assert offers["E1"].source.text.startswith(
        ("企业月度纳税及纳税信用等级（第", "数字经济核心产业企业月度主营业务收入（第")
    )
    assert dict(offers["E2"].source.tables).keys() == {"enterprise_tax", "insurance_contributions"}
    assert dict(offers["E3"].source.tables).keys() == {"enterprise_electricity", "enterprise_tax"}
    # No enablement: nothing is said of the scenarios (unknown is not "no").
    assert not {"O3", "B2", "M1"} & set(offers)
    assert pre.read.keys() >= {"enterprises", "enterprise_tax", "enterprise_electricity"}
    assert pre.filled == 7 and len(pre.asked) == 27


def test_platform_enablements_pre_fill_the_scenarios_they_bring(city: FastAPI) -> None:
    code = firm(city)
    enable(city, code, "cosmoplat-smart-factory", "cosmoplat-light-saas")
    pre = _prefill(city, code)
    offers = pre.offers
    # The smart factory: mes, equipment, quality, data; the light suite: cloud, finance, sales, hr.
    for question, option in {
        "O3": "L2",
        "O4": "L2",
        "O5": "L2",
        "B1": "C",
        "B3": "C",
        "B2": "C",
        "O9": "L2",
        "O10": "L2",
        "O11": "L2",
    }.items():
        assert offers[question].option == option, question
        assert offers[question].source.kind == "capability"
    assert "卡奥斯工业互联网平台·智能工厂整体解决方案" in offers["O3"].source.text
    assert offers["O3"].source.text.startswith("工业互联网平台赋能企业记录（第")
    assert pre.filled == 16
    assert "platform_enablements" in pre.read


def test_a_data_core_without_the_enablements_still_pre_fills(tmp_path: Path) -> None:
    core = DataCore.from_settings(_settings(tmp_path))
    row = {
        "credit_code": "91370211MAGKLBEY6F",
        "name": "青岛宏舟进出口有限责任公司",
        "legal_rep_citizen_id": "370203200101299479",
        "legal_rep_name": "孙晨豪",
        "industry_code": "F",
        "industry_name": "批发和零售业",
        "registered_capital_fen": 1539000000,
        "size_class": "小型",
        "status": "存续",
        "established_date": date(2019, 8, 22),
        "deregistered_date": None,
        "district_code": "370211",
        "address": "山东省青岛市黄岛区香江路238号",
    }
    core.load(ENTERPRISES, pa.Table.from_pylist([row], schema=ENTERPRISES.arrow_schema))
    q = assessment.questionnaire_for(Path(_settings(tmp_path).city_content))
    facts = assessment_facts.Facts(lookups_for(core), row["credit_code"], date(2026, 12, 7), None)
    assert facts.enablements() == [] and facts.capabilities() == {}
    offers = {}
    for x in q.questions:
        for rule in x.prefill:
            if (offer := assessment._offer(x, rule, facts, None)) is not None:
                offers[x.code] = offer.option
                break
    assert offers == {"P1": "other", "P2": "small", "P4": "C"}


def _settings(tmp_path: Path) -> Any:
    from tests.fixtures import make_settings

    made = make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'db.sqlite'}")
    made.ensure_data_dir()
    return made


# --- the API ----------------------------------------------------------------------------------


def _answers(questionnaire: dict[str, Any], **changed: str) -> dict[str, str]:
    """The pre-filled answers, the rest answered with each question's second option."""
    out = {}
    for x in questionnaire["questions"]:
        if not x["applicable"]:
            continue
        out[x["code"]] = x["prefilled"] or x["options"][1]["code"]
    return {**out, **changed}


def _ledger(app: FastAPI, action: str) -> list[LedgerEntry]:
    with transaction(app.state.session_factory) as db:
        return list(db.scalars(select(LedgerEntry).where(LedgerEntry.action == action)))


def _count(app: FastAPI) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(Assessment)) or 0)


def test_an_enterprise_assesses_itself_through_the_api(city: FastAPI) -> None:
    code = firm(city, manufacturing=False)
    client = enterprise_client(city, code)
    got = client.get(API)
    assert got.status_code == 200, got.text
    questionnaire = got.json()
    assert questionnaire["edition"]["number"] == "工信厅企业〔2024〕56号"
    assert questionnaire["edition"]["unverified"]
    by_code = {x["code"]: x for x in questionnaire["questions"]}
    assert by_code["P1"]["prefilled"] == "other" and by_code["O1"]["applicable"] is False
    assert by_code["P1"]["source"]["tables"] == {"enterprises": 1}
    assert questionnaire["asked"] == 20 and questionnaire["prefilled"] >= 5
    assert questionnaire["latest"] is None

    answers = _answers(questionnaire, E4="C")
    answers["P3"] = "D" if by_code["P3"]["prefilled"] != "D" else "C"  # one pre-fill changed
    made = client.post(API, json={"answers": answers})
    assert made.status_code == 201, made.text
    result = made.json()
    assert re.fullmatch(r"PC-\d{8}-000001", result["code"])
    assert 0 <= result["score"] <= 100 and result["level"] in (0, 1, 2, 3, 4)
    assert {d["name"] for d in result["dimensions"]} == {
        "数字化基础",
        "数字化经营",
        "数字化管理",
        "数字化成效",
    }
    kept = {a["question"]: a["kept"] for a in result["answers"]}
    assert kept["P3"] is False and kept["P1"] is True and kept["E4"] is None
    if result["level"] < 4:
        assert result["gaps"][0]["kind"] == "next"
        assert any(g["kind"] == "question" for g in result["gaps"])

    (entry,) = _ledger(city, assessment.ACTION)
    assert entry.subject == code and entry.actor == "user:firm"
    detail = json.loads(entry.leaf)["detail"]
    assert detail["assessment"] == result["code"]
    assert detail["tables"]["enterprises"] == 1
    assert detail["kept"] == detail["prefilled"] - 1

    # The history, and the next questionnaire pre-filled from this one (历史选择填).
    history = client.get(f"{API}/history").json()
    assert history["latest"]["code"] == result["code"]
    assert [h["code"] for h in history["assessments"]] == [result["code"]]
    again = client.get(API).json()
    by_code = {x["code"]: x for x in again["questions"]}
    assert by_code["M1"]["prefilled"] == answers["M1"]
    assert by_code["M1"]["source"]["kind"] == "history"
    assert by_code["M1"]["source"]["assessment"] == result["code"]
    assert again["prefilled"] == again["asked"]  # every answer known now
    assert again["latest"]["code"] == result["code"]
    assert client.get(f"{API}/{result['code']}").json()["score"] == result["score"]


def test_bad_answers_are_refused_naming_the_field_and_nothing_is_saved(city: FastAPI) -> None:
    client = enterprise_client(city, firm(city))
    answers = _answers(client.get(API).json())
    del answers["M2"]
    answers["B1"] = "Z"
    refused = client.post(API, json={"answers": answers})
    assert refused.status_code == 422
    problem = refused.json()
    reasons = {e["field"]: e["reason"] for e in problem["errors"]}
    assert reasons["answers.M2"] == "请回答“数字化工作的组织”"
    assert reasons["answers.B1"].startswith("“生产经营设备的数字化与联网”没有这个选项")
    for body in (
        {"answers": {**answers, "M2": "A", "Q" * 40: "A"}},
        {"answers": "all good"},
        {"answer": {}},
        {},
    ):
        again = client.post(API, json=body)
        assert again.status_code == 422, (body, again.text)
        assert again.json()["errors"], again.text
    assert _count(city) == 0
    assert _ledger(city, assessment.ACTION) == []


def test_who_may_assess(city: FastAPI) -> None:
    citizen = as_user(city, "citizen")
    assert citizen.get(API).status_code == 403
    # An enterprise account not bound to a credit code is told so.
    with transaction(city.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="unbound",
                display_name="未绑定企业",
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
            ),
        )
    unbound = as_user(city, "unbound")
    answer = unbound.get(API)
    assert answer.status_code == 403 and "统一社会信用代码" in answer.json()["detail"]
    # One enterprise's result is not another's to read.
    own = enterprise_client(city, firm(city), "own")
    made = own.post(API, json={"answers": _answers(own.get(API).json())}).json()
    other = enterprise_client(city, firm(city, manufacturing=False), "other")
    assert other.get(f"{API}/{made['code']}").status_code == 404
    assert other.get(f"{PAGE}/{made['code']}").status_code == 404
    assert other.get(f"{API}/PC-1").status_code == 422


# --- the pages --------------------------------------------------------------------------------


def _checked(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(\w+)" value="(\w+)" checked', page))


def test_an_enterprise_assesses_itself_through_the_page(city: FastAPI) -> None:
    code = firm(city)
    enable(city, code, "cosmoplat-smart-factory")
    client = enterprise_client(city, code)
    form = client.get(PAGE)
    assert form.status_code == 200, form.text
    page = form.text
    filled = re.search(r'data-filled="(\d+)" data-total="(\d+)"', page)
    assert filled is not None and int(filled.group(1)) >= 11 and filled.group(2) == "27"
    assert "来自：企业登记信息（第" in page and "来自：工业互联网平台赋能企业记录（第" in page
    assert '<fieldset class="question' in page and "<legend>生产过程管控</legend>" in page
    assert "工信厅企业〔2024〕56号" in page and "待核实" in page
    checked = _checked(page)
    assert checked["O3"] == "L2" and checked["P1"] == "manufacturing"

    # The enterprise answers the rest, changes one pre-filled answer, and sends the form as a
    # browser without scripts would.
    data = {x.code: checked.get(x.code, x.options[1].code) for x in _questions(city)}
    data["O3"] = "L3"
    data["csrf_token"] = csrf_from(client, PAGE)
    sent = client.post(PAGE, data=data, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    target = sent.headers["location"]
    assert re.fullmatch(r"/enterprise/assessment/PC-\d{8}-\d{6}", target)
    result = client.get(target)
    assert result.status_code == 200
    shown = result.text
    assert 'id="radar-chart"' in shown and "/static/vendor/echarts.min.js" in shown
    assert 'id="dimension-table"' in shown and "数字化经营" in shown
    assert 'data-question="O3" data-kept="false"' in shown
    assert 'data-question="P1" data-kept="true"' in shown
    with transaction(city.state.session_factory) as db:
        (row,) = db.scalars(select(Assessment))
        assert row.prefilled["O3"]["kept"] is False and row.answers["O3"] == "L3"
        if row.level < 4:
            assert 'id="gaps"' in shown and 'data-kind="next"' in shown
    # The form now says the latest level and lists the assessment.
    again = client.get(PAGE).text
    assert 'id="latest-level"' in again and row.code in again


def test_a_page_with_missing_answers_is_shown_again_with_each_one_named(city: FastAPI) -> None:
    client = enterprise_client(city, firm(city))
    checked = _checked(client.get(PAGE).text)
    data = {**checked, "B1": "Z", "csrf_token": csrf_from(client, PAGE)}
    shown = client.post(PAGE, data=data, follow_redirects=False)
    assert shown.status_code == 422
    page = shown.text
    assert 'id="form-errors"' in page and 'role="alert"' in page
    assert "请回答“数字化工作的组织”" in page
    assert "没有这个选项" in page
    assert 'id="err-M1"' in page and 'aria-invalid="true"' in page
    # What was chosen is kept on the page shown again.
    assert _checked(page)["P1"] == checked["P1"]
    assert _count(city) == 0


def _questions(app: FastAPI) -> list[Any]:
    q = assessment.questionnaire_for(Path(app.state.settings.city_content))
    return list(q.questions)


def test_the_share_pre_filled_for_the_citys_live_enterprises(city: FastAPI) -> None:
    """Measured, not a target: what a live enterprise of the small city gets pre-filled."""
    codes = [
        str(r["credit_code"])
        for r in core_of(city)
        .sql("SELECT credit_code FROM enterprises WHERE status = '存续' ORDER BY 1")
        .to_pylist()
    ]
    filled = asked = 0
    for code in codes:
        pre = _prefill(city, code)
        filled += pre.filled
        asked += len(pre.asked)
    assert asked and filled / asked > 0.25


def test_an_officer_is_not_an_enterprise(city: FastAPI) -> None:
    officer = as_user(city, "officer")
    assert officer.get(PAGE).status_code == 403
    assert isinstance(User, type)
