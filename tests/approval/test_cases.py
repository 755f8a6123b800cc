"""Cases through the service, as the requests of the applicant and the officers would make
them (each step its own transaction), on SQLite and on PostgreSQL: from the pre-filled draft
to the licence issued, the correction request and its pause, the countersign, the instant
item, and every refusal leaving the case as it was."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event

from shuhui.approval import calendar, cases, process, queues, workbench
from shuhui.core.clock import local_today, utcnow
from shuhui.core.errors import Problem
from tests.approval.case_items import (
    BUREAU,
    CANTEEN,
    CITIZEN,
    ENTERPRISE,
    FOOD,
    FOOD_TYPED,
    HEALTH,
    INSTANT,
    T0,
    actions,
    case_of,
    decide,
    food_case,
    food_prefill,
    open_tasks,
    person_prefill,
    refused,
    the_task,
    tx,
    upload,
    user,
)

pytestmark = pytest.mark.both_backends


def test_an_application_from_the_prefilled_draft_to_the_licence(app: FastAPI) -> None:
    with tx(app) as db:
        draft = cases.create_draft(
            db, item=FOOD, prefill=food_prefill(), actor="enterprise", now=T0
        )
        code = draft.code
    assert re.fullmatch(r"SP20260928\d{5}", code)

    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.version, case.applicant_id) == ("draft", 1, ENTERPRISE)
        rows = {r.field: r for r in cases.fields_of(db, case)}
        offered = rows["enterprise_name"]
        assert (offered.fill, offered.value, offered.filled_value, offered.kept) == (
            "identity",
            "青岛海湾示范科技有限公司",
            "青岛海湾示范科技有限公司",
            None,
        )
        assert (offered.source_table, offered.source_version, offered.source_key) == (
            "enterprises",
            3,
            ENTERPRISE,
        )
        assert (rows["shop_name"].fill, rows["shop_name"].value) == ("typed", None)
        assert set(rows) == {f.name for f in FOOD.form.fields}
        (waived,) = cases.materials_of(db, case)
        assert (waived.material, waived.waived, waived.certificate_no) == (
            "business-licence",
            True,
            "QD-BL-2024-000123",
        )
        # The applicant corrects the legal representative's name and types the rest.
        cases.save_form(
            db, case, {**FOOD_TYPED, "legal_rep_name": "王法人"}, actor="enterprise", now=T0
        )
    with tx(app) as db:
        case = case_of(db, code)
        rows = {r.field: r for r in cases.fields_of(db, case)}
        assert (rows["legal_rep_name"].value, rows["legal_rep_name"].kept) == ("王法人", False)
        assert rows["legal_rep_name"].filled_value == "李代办"
        assert (rows["shop_name"].fill, rows["shop_name"].kept) == ("typed", None)
        assert case.form["shop_name"] == "海湾小馆" and case.form["legal_rep_name"] == "王法人"
        for material in ("legal-rep-id", "site-plan"):
            cases.attach_material(
                db, case, material, actor="enterprise", item=FOOD, now=T0, **upload(material)
            )
        assert case.precheck_used
        cases.submit(db, case, FOOD, actor="enterprise", now=T0)

    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.submitted_at, case.version) == ("submitted", T0, 2)
        rows = {r.field: r for r in cases.fields_of(db, case)}
        assert rows["enterprise_name"].kept is True  # sent as offered
        task = the_task(db, code)
        assert (task.step, task.name, task.role, task.department) == (
            "accept",
            "受理",
            "accept",
            BUREAU,
        )
        assert cases.diagram_state(case) == ({"accept"}, {"start"})

    # 一次性告知: everything to correct at once; the clock stands.
    asked = T0 + timedelta(hours=2)
    decide(
        app,
        code,
        "approver",
        "correct",
        asked,
        corrections=[
            ("shop_name", "门店名称与营业执照登记的不一致"),
            ("materials.site-plan", "平面图未标注各功能区面积"),
        ],
    )
    with tx(app) as db:
        case = case_of(db, code)
        assert case.state == "correction"
        assert case.correction == [
            {"field": "shop_name", "reason": "门店名称与营业执照登记的不一致"},
            {"material": "site-plan", "reason": "平面图未标注各功能区面积"},
        ]
        assert (case.paused_since, case.first_pass, case.correction_count) == (asked, False, 1)
        assert open_tasks(db, code) == []
        assert cases.diagram_state(case)[0] == {"correct"}
        shown = cases.case_out(case)
        assert (shown.state_zh, shown.paused) == ("待补正", True)
        assert [(c.field, c.material) for c in shown.correction or []] == [
            ("shop_name", None),
            (None, "site-plan"),
        ]

    # Resubmitted on Friday 9 October: 29 and 30 September and 8 and 9 October waited.
    back = datetime(2026, 10, 9, 1, 0, tzinfo=UTC)
    with tx(app) as db:
        case = case_of(db, code)
        cases.save_form(db, case, {"shop_name": "海湾小馆（市南店）"}, actor="enterprise", now=back)
        cases.attach_material(
            db, case, "site-plan", actor="enterprise", item=FOOD, now=back, **upload("plan2")
        )
        cases.resubmit(db, case, FOOD, actor="enterprise", now=back)
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.paused_since, case.paused_days) == ("submitted", None, 4)
        assert the_task(db, code).step == "accept"

    decide(app, code, "approver", "accept", back)
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.accepted_at, case.first_pass) == ("accepted", back, False)
        # From Friday 9 October: the adjusted Saturday 10th, then 12–15 October.
        assert case.promised_due == date(2026, 10, 15)
        assert case.statutory_due == calendar.add_working_days(date(2026, 10, 9), 20)
        assert the_task(db, code).role == "review"

    decide(app, code, "approver", "pass", back)
    with tx(app) as db:
        assert case_of(db, code).state == "review"
        assert the_task(db, code).role == "decide"

    problem = refused(
        app,
        lambda db: cases.complete_task(
            db, the_task(db, code).id, officer=user(db, "approver"), outcome="reject", now=back
        ),
    )
    assert problem.http_status == 422 and [e.field for e in problem.errors] == ["reason"]

    decided = back + timedelta(hours=3)
    decide(app, code, "approver", "approve", decided, reason="符合条件")
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.decision, case.decided_by, case.decided_at) == (
            "approved",
            "approved",
            "approver",
            decided,
        )
        issue = the_task(db, code)
        assert (issue.role, issue.name) == ("issue", "办结出证")

    # An item that issues an e-certificate ends through the licence, not a bare completion.
    problem = refused(
        app,
        lambda db: cases.complete_task(
            db, the_task(db, code).id, officer=user(db, "approver"), outcome="issue", now=back
        ),
    )
    assert problem.http_status == 409 and "食品经营许可证" in str(problem.detail)

    with tx(app) as db:
        cases.mark_issued(db, case_of(db, code), licence_no="JY23702020000123", actor="approver")
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.licence_no) == ("issued", "JY23702020000123")
        assert cases.case_out(case).state_zh == "已办结出证"
        assert open_tasks(db, code) == []
        current, done = cases.diagram_state(case)
        assert current == set() and {"accept", "correct", "review", "decide", "issue"} <= done
        assert "end_issued" in done and "end_rejected" not in done
        assert process.is_finished(process.loads(case.process_state or {}))
        steps = [
            "created", "saved", "attached", "attached", "submitted", "correction_requested",
            "saved", "attached", "resubmitted", "accepted", "reviewed", "approved", "issued",
        ]  # fmt: skip
        assert actions(db, ENTERPRISE) == [f"approval.case.{s}" for s in steps]
        events = cases.events_of(db, case)
        assert [e.action for e in events] == steps
        assert events[5].step == "accept" and events[5].to_state == "correction"
        assert events[11].note == "符合条件" and events[11].actor == "approver"
    # Issued once: a second time is the 409 of a case handled already.
    problem = refused(
        app, lambda db: cases.mark_issued(db, case_of(db, code), licence_no="X", actor="approver")
    )
    assert problem.http_status == 409


def test_an_invalid_application_is_refused_whole_and_nothing_changes(app: FastAPI) -> None:
    wrong_id = "370212193805117150"  # check character 5, not 0
    with tx(app) as db:
        prefill = food_prefill()
        fields = dict(prefill.fields)
        fields["legal_rep_id_number"] = fields["legal_rep_id_number"].__class__(
            "legal_rep_id_number", wrong_id, fields["legal_rep_id_number"].provenance
        )
        case = cases.create_draft(
            db, item=FOOD, prefill=food_prefill(fields=fields), actor="enterprise", now=T0
        )
        cases.save_form(
            db,
            case,
            {
                "shop_name": "",
                "site_area": 0,
                "business_kind": "烧烤",
                "opening_date": "2026-02-30",
                "credit_code": "91370202MA3C4D5E6X",
            },
            actor="enterprise",
            now=T0,
        )
        code = case.code
    with tx(app) as db:
        before = (len(cases.events_of(db, case_of(db, code))), actions(db, ENTERPRISE))

    problem = refused(app, lambda db: cases.submit(db, case_of(db, code), FOOD, actor="enterprise"))
    assert problem.http_status == 422
    reasons = {e.field: str(e.reason) for e in problem.errors}
    assert list(reasons) == [
        "credit_code",
        "legal_rep_id_number",
        "shop_name",
        "site_area",
        "business_kind",
        "opening_date",
        "materials.legal-rep-id",
        "materials.site-plan",
    ]
    assert "校验" in reasons["credit_code"]
    assert reasons["legal_rep_id_number"] == "校验位是“0”，应为“5”"
    assert reasons["shop_name"] == "必须填写"
    assert reasons["site_area"] == "不能小于 1"
    assert reasons["business_kind"].startswith("必须是以下之一：预包装食品销售")
    assert reasons["opening_date"] == "不是有效日期（年-月-日）"
    assert reasons["materials.site-plan"] == "请上传经营场所平面图"
    assert "8 处" in str(problem.detail) and "经营场所平面图" in str(problem.detail)

    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.version, case.process_state, case.submitted_at) == (
            "draft",
            1,
            None,
            None,
        )
        assert cases.tasks_of(db, case) == []
        assert (len(cases.events_of(db, case)), actions(db, ENTERPRISE)) == before


def test_who_may_take_a_step_and_what_they_may_choose(app: FastAPI) -> None:
    code = food_case(app)

    def attempt(officer: str, outcome: str, **kw: Any) -> Problem:
        return refused(
            app,
            lambda db: cases.complete_task(
                db, the_task(db, code).id, officer=user(db, officer), outcome=outcome, **kw
            ),
        )

    # Not the department's officer, and not an officer at all.
    assert attempt("health", "accept").http_status == 403
    assert "青岛市行政审批服务局" in str(attempt("officer", "accept").detail)
    assert attempt("enterprise", "accept").http_status == 403
    # Outcomes the step does not offer, and a correction request that lists nothing or names
    # what the item does not have.
    assert [e.field for e in attempt("approver", "approve").errors] == ["outcome"]
    assert [e.field for e in attempt("approver", "bribe").errors] == ["outcome"]
    assert [e.field for e in attempt("approver", "correct").errors] == ["corrections"]
    unknown = attempt(
        "approver", "correct", corrections=[("shop_name", "不清楚"), ("materials.passport", "缺")]
    )
    assert [e.field for e in unknown.errors] == ["corrections[1].field"]
    too_long = attempt("approver", "correct", corrections=[("shop_name", "长" * 201)])
    assert too_long.errors[0].field == "corrections[0].reason"
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.version) == ("submitted", 2)
        problem = refused(
            app,
            lambda db: cases.complete_task(
                db, 2**31 - 1, officer=user(db, "approver"), outcome="accept"
            ),
        )
        assert problem.http_status == 404
        task_id = the_task(db, code).id

    decide(app, code, "approver", "accept")
    # The step is closed: taking it again is the conflict of a case handled already.
    problem = refused(
        app,
        lambda db: cases.complete_task(db, task_id, officer=user(db, "approver"), outcome="accept"),
    )
    assert problem.http_status == 409
    assert problem.detail == "该办件已由其他工作人员处理"
    with tx(app) as db:
        assert case_of(db, code).state == "accepted"
        assert actions(db, ENTERPRISE).count("approval.case.accepted") == 1


def test_the_second_department_countersigns(app: FastAPI) -> None:
    code = food_case(app, item=CANTEEN)
    decide(app, code, "approver", "accept")
    decide(app, code, "approver", "pass")
    with tx(app) as db:
        task = the_task(db, code)
        assert (task.role, task.department, task.name) == ("countersign", HEALTH, "会签")
    assert (
        refused(
            app,
            lambda db: cases.complete_task(
                db, the_task(db, code).id, officer=user(db, "approver"), outcome="agree"
            ),
        ).http_status
        == 403
    )
    dissent = refused(
        app,
        lambda db: cases.complete_task(
            db, the_task(db, code).id, officer=user(db, "health"), outcome="disagree"
        ),
    )
    assert [e.field for e in dissent.errors] == ["reason"]
    decide(app, code, "health", "agree", reason="食堂布局符合卫生要求")
    with tx(app) as db:
        assert case_of(db, code).state == "review"
        assert the_task(db, code).department == BUREAU
        # The health commission's officer sees the case it countersigned, and the look is
        # recorded; an officer of another department does not.
        assert cases.case_for(db, user(db, "health"), code).code == code
        with pytest.raises(Problem) as hidden:
            cases.case_for(db, user(db, "tax"), code)
        assert hidden.value.http_status == 404
    decide(app, code, "approver", "approve")
    with tx(app) as db:
        cases.mark_issued(db, case_of(db, code), licence_no="JY-2", actor="approver")
    with tx(app) as db:
        assert case_of(db, code).state == "issued"
        assert "approval.case.viewed" in actions(db, ENTERPRISE)
        assert "approval.case.countersigned" in actions(db, ENTERPRISE)


def test_an_instant_item_is_decided_at_the_counter(app: FastAPI) -> None:
    with tx(app) as db:
        case = cases.create_draft(
            db, item=INSTANT, prefill=person_prefill(), actor="citizen", now=T0
        )
        cases.save_form(db, case, {"phone": "13800138000"}, actor="citizen", now=T0)
        cases.submit(db, case, INSTANT, actor="citizen", now=T0)
        code = case.code
    with tx(app) as db:
        task = the_task(db, code)
        assert (task.step, task.name, task.role) == ("accept_decide", "受理并决定", "accept")
    decide(app, code, "approver", "approve")
    with tx(app) as db:
        case = case_of(db, code)
        assert case.state == "approved"
        assert case.accepted_at == case.decided_at == T0
        assert (case.first_pass, case.promised_due) == (True, local_today(T0))
    # Nothing to seal: the officer ends the case at the issue step.
    decide(app, code, "approver", "issue")
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.licence_no) == ("issued", None)
        assert [e.action for e in cases.events_of(db, case)][-3:] == [
            "submitted",
            "approved",
            "issued",
        ]


def test_an_instant_refusal_says_why_and_ends_the_case(app: FastAPI) -> None:
    with tx(app) as db:
        case = cases.create_draft(
            db, item=INSTANT, prefill=person_prefill(), actor="citizen", now=T0
        )
        cases.save_form(db, case, {"phone": "13800138000"}, actor="citizen", now=T0)
        cases.submit(db, case, INSTANT, actor="citizen", now=T0)
        code = case.code
    decide(app, code, "approver", "reject", reason="该个体工商户已注销")
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.decision, case.decision_reason) == (
            "rejected",
            "rejected",
            "该个体工商户已注销",
        )
        assert open_tasks(db, code) == []
        assert "end_rejected" in cases.diagram_state(case)[1]
        assert actions(db, CITIZEN)[-1] == "approval.case.rejected"


def test_withdrawing(app: FastAPI) -> None:
    with tx(app) as db:
        draft = cases.create_draft(db, item=FOOD, prefill=food_prefill(), actor="enterprise")
        cases.withdraw(db, draft, actor="enterprise")
        assert draft.state == "withdrawn"
    code = food_case(app)
    problem = refused(app, lambda db: cases.withdraw(db, case_of(db, code), actor="enterprise"))
    assert problem.http_status == 409
    decide(app, code, "approver", "correct", corrections=[("shop_name", "名称有误")])
    later = T0 + timedelta(days=1)
    with tx(app) as db:
        cases.withdraw(db, case_of(db, code), actor="enterprise", now=later)
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.paused_since, case.paused_days) == ("withdrawn", None, 1)
        assert process.ready_tasks(process.loads(case.process_state or {})) == []
        assert open_tasks(db, code) == []
        assert actions(db, ENTERPRISE)[-1] == "approval.case.withdrawn"
    # A withdrawn case is no longer the applicant's to change.
    problem = refused(
        app, lambda db: cases.save_form(db, case_of(db, code), {"shop_name": "x"}, actor="e")
    )
    assert problem.http_status == 409


def test_drafts_refuse_what_is_not_theirs(app: FastAPI) -> None:
    with tx(app) as db:
        case = cases.create_draft(db, item=FOOD, prefill=food_prefill(), actor="enterprise")
        code = case.code
    problem = refused(
        app,
        lambda db: cases.save_form(db, case_of(db, code), {"salary": 1, "x": 2}, actor="e"),
    )
    assert [e.field for e in problem.errors] == ["salary", "x"]
    problem = refused(
        app,
        lambda db: cases.attach_material(
            db, case_of(db, code), "passport", actor="e", item=FOOD, **upload("p")
        ),
    )
    assert [e.field for e in problem.errors] == ["material"]
    # A person's pre-fill cannot make an enterprise's application.
    problem = refused(
        app,
        lambda db: cases.create_draft(
            db,
            item=FOOD,
            prefill=food_prefill(applicant_kind="person", applicant_id=CITIZEN),
            actor="citizen",
        ),
    )
    assert [e.field for e in problem.errors] == ["applicant"]


def test_case_codes_are_unique_by_local_day(app: FastAPI) -> None:
    late = datetime(2026, 9, 28, 17, 0, tzinfo=UTC)  # 01:00 on the 29th in Qingdao
    with tx(app) as db:
        made = [
            cases.create_draft(db, item=FOOD, prefill=food_prefill(), actor="e", now=at).code
            for at in (T0, T0, late)
        ]
    assert made == ["SP2026092800001", "SP2026092800002", "SP2026092900001"]


def test_who_sees_a_case(app: FastAPI) -> None:
    with tx(app) as db:
        draft = cases.create_draft(db, item=FOOD, prefill=food_prefill(), actor="enterprise")
        draft_code = draft.code
    code = food_case(app)
    with tx(app) as db:
        me = user(db, "enterprise")
        assert cases.case_for(db, me, code).code == code
        assert {c.code for c in cases.cases_of(db, me)} == {code, draft_code}
        assert [c.code for c in cases.cases_of(db, me, state="draft")] == [draft_code]
        assert cases.cases_of(db, user(db, "citizen")) == []
        for other in ("citizen", "tax", "admin"):
            with pytest.raises(Problem) as hidden:
                cases.case_for(db, user(db, other), code)
            assert hidden.value.http_status == 404
        # The deciding department's officer sees a submitted case, not a draft.
        assert cases.case_for(db, user(db, "approver"), code).code == code
        with pytest.raises(Problem):
            cases.case_for(db, user(db, "approver"), draft_code)
        with pytest.raises(Problem):
            cases.case_for(db, me, "SP0000")
    with tx(app) as db:
        assert actions(db, ENTERPRISE).count("approval.case.viewed") == 1


def test_queues_warnings_and_the_workbench(app: FastAPI) -> None:
    # Accepted a month ago (overdue now), accepted today (due in 5 working days), submitted
    # today (waiting for acceptance).
    month_ago = utcnow() - timedelta(days=30)
    old, fresh, waiting = food_case(app, now=month_ago), food_case(app), food_case(app)
    decide(app, old, "approver", "accept", month_ago)
    decide(app, fresh, "approver", "accept", utcnow())
    with tx(app) as db:
        approver = user(db, "approver")
        reviews = cases.queue(db, approver, role="review")
        assert [c.code for _, c in reviews] == [old, fresh]  # the earliest due first
        assert [c.code for _, c in cases.queue(db, approver, role="accept")] == [waiting]
        assert len(cases.queue(db, approver)) == 3
        assert cases.queue(db, user(db, "health")) == []
        assert cases.queue(db, user(db, "enterprise")) == []
        counts = cases.queue_counts(db, BUREAU)
        assert counts == {
            "accept": queues.QueueCount(1, 0),
            "review": queues.QueueCount(2, 1),
        }
        assert [c.code for c in cases.due_soon(db, department=BUREAU)] == [old]
        assert cases.due_soon(db, department=HEALTH) == []
        old_case, fresh_case = case_of(db, old), case_of(db, fresh)
        assert cases.warning(old_case) == "overdue"
        assert cases.warning(fresh_case) is None
        assert fresh_case.promised_due is not None
        # Seen from two working days before its due date, the fresh case is due soon.
        seen = fresh_case.promised_due - timedelta(days=1)
        while calendar.working_days_between(seen, fresh_case.promised_due) < 2:
            seen -= timedelta(days=1)
        assert cases.warning(fresh_case, today=seen) == "due_soon"
        assert queues.days_left(fresh_case, seen) == 2
        assert queues.days_left(old_case, local_today()) < 0

        todos = {t.key: t for t in workbench.todos(db, approver)}
        assert list(todos) == ["approval.accept", "approval.review"]
        assert (todos["approval.review"].count, todos["approval.review"].urgent) == (2, True)
        assert todos["approval.review"].href == "/approval/workbench?role=review"
        assert (todos["approval.accept"].count, todos["approval.accept"].urgent) == (1, False)
        assert [t.key for t in workbench.todos(db, user(db, "health"))] == ["approval.tasks"]
        assert workbench.todos(db, user(db, "admin")) == []

    decide(app, waiting, "approver", "correct", corrections=[("shop_name", "名称有误")])
    with tx(app) as db:
        mine = {t.key: t for t in workbench.todos(db, user(db, "enterprise"))}
        assert (mine["approval.corrections"].count, mine["approval.corrections"].urgent) == (
            1,
            True,
        )
        assert mine["approval.drafts"].count == 0
        assert cases.warning(case_of(db, waiting)) is None  # the clock stands


CORRECTABLE_REVIEW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="https://shuhui.example/test">
  <bpmn:process id="approval-review-correctable" name="审查中可补正" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="valid_from" value="2024-01-01" />
      <spiffworkflow:property name="reference" value="测试流程" />
    </spiffworkflow:properties></bpmn:extensionElements>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="accept" name="受理">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="role" value="accept" />
        <spiffworkflow:property name="department" value="item" />
        <spiffworkflow:property name="outcomes" value="accept" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="review" name="审查">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="role" value="review" />
        <spiffworkflow:property name="department" value="item" />
        <spiffworkflow:property name="outcomes" value="pass,correct" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:userTask id="correct" name="申请人补正">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="role" value="resubmit" />
        <spiffworkflow:property name="department" value="applicant" />
        <spiffworkflow:property name="outcomes" value="resubmit" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="decide" name="决定">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="role" value="decide" />
        <spiffworkflow:property name="department" value="item" />
        <spiffworkflow:property name="outcomes" value="approve" />
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept" />
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="review" />
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="gw" />
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="decide">
      <bpmn:conditionExpression>outcome == "pass"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="correct">
      <bpmn:conditionExpression>outcome == "correct"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f6" sourceRef="correct" targetRef="review" />
    <bpmn:sequenceFlow id="f7" sourceRef="decide" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_correction_after_acceptance_moves_the_due_dates_on(app: FastAPI, tmp_path: Path) -> None:
    """A bureau's own process may ask for corrections during review: the working days the
    applicant takes are added to the due dates already running."""
    city = tmp_path / "city"
    (city / "approval" / "processes").mkdir(parents=True)
    (city / "approval" / "processes" / "approval-review-correctable.bpmn").write_text(
        CORRECTABLE_REVIEW, encoding="utf-8"
    )
    item = FOOD.__class__(**{**FOOD.__dict__, "process": "approval-review-correctable"})
    code = food_case(app, item=item, content_dir=city)
    decide(app, code, "approver", "accept")  # Monday 28 September
    with tx(app) as db:
        case = case_of(db, code)
        due = (case.promised_due, case.statutory_due)
        assert case.promised_due == date(2026, 10, 10)  # 29, 30 Sep, 8, 9, 10 Oct
    decide(app, code, "approver", "correct", corrections=[("site_area", "面积与平面图不符")])
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.first_pass) == ("correction", True)  # accepted first time
        cases.resubmit(db, case, item, actor="enterprise", now=datetime(2026, 10, 9, 1, tzinfo=UTC))
    with tx(app) as db:
        case = case_of(db, code)
        assert (case.state, case.paused_days) == ("review", 4)
        assert case.promised_due == date(2026, 10, 15)  # 12–15 October
        assert case.statutory_due == calendar.add_working_days(due[1] or date.min, 4)
        assert the_task(db, code).role == "review"


def test_counts_stay_one_query(app: FastAPI) -> None:
    """The workbench counts in one grouped query per person (no query per case)."""
    for _ in range(3):
        food_case(app)
    with tx(app) as db:
        approver = user(db, "approver")
        statements: list[str] = []
        engine = db.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            todos = workbench.todos(db, approver)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert [t.count for t in todos] == [3]
        assert len([s for s in statements if "approval_case_tasks" in s]) == 1
