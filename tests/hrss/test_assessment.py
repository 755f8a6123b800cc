"""Labour-capacity assessment (劳动能力鉴定), remotely: the panel drawn at random from the pool
(those of the fields concerned first), the video examination arranged and joined, the findings,
the signed opinions and the majority (少数服从多数), the sealed conclusion anyone can verify, the
benefits by grade from the rule book, the approval case ended, the worker and employer told."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from shuhui.approval import service
from shuhui.approval.items import Catalogue
from shuhui.approval.precheck import store_upload
from shuhui.core.clock import SHANGHAI, local_today, utcnow
from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.hrss import assessment, assessment_conclusion
from shuhui.hrss.models import Assessment, HelpRequest
from shuhui.programs.models import OutboxMessage
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.approval.test_desk_pages import png_page
from tests.fixtures import DEMO_PASSWORD, add_account, as_user

RULES = assessment.rules()
ITEM = RULES.item
API = "/api/v1/hrss/assessments"


# --- the draw and the majority ----------------------------------------------------------------

sites = st.sampled_from(["上肢", "下肢", "躯干", "神经系统", "五官", "职业病", "头面部", "其他"])


@given(site=sites, seed=st.integers(0, 2**32 - 1), size=st.sampled_from([3]))
def test_the_panel_is_distinct_from_the_pool_with_the_fields_concerned_first(
    site: str, seed: int, size: int
) -> None:
    panel = assessment.draw(RULES.experts, site, size, random.Random(seed))
    names = [e.username for e in panel]
    assert len(panel) == size and len(set(names)) == size
    assert set(names) <= {e.username for e in RULES.experts}
    matching = {e.username for e in RULES.experts if site in e.fields}
    assert set(names) >= matching if len(matching) <= size else set(names) <= matching


def opinion(expert: str, grade: int, care: str = "无") -> Any:
    return SimpleNamespace(expert=expert, grade=grade, self_care=care)


def test_the_majority_needs_every_member_and_more_than_half() -> None:
    panel = ["a", "b", "c"]
    assert assessment.majority([opinion("a", 7), opinion("b", 7), opinion("c", 8)], panel) == (
        7,
        "无",
    )
    assert assessment.majority([opinion("a", 7), opinion("b", 7)], panel) is None  # one missing
    assert assessment.majority([opinion("a", 7), opinion("b", 8), opinion("c", 9)], panel) is None
    split_care = [opinion("a", 5, "部分"), opinion("b", 5, "无"), opinion("c", 5, "大部分")]
    assert assessment.majority(split_care, panel) is None
    outsider = [opinion("a", 7), opinion("b", 8), opinion("x", 7), opinion("y", 7)]
    assert assessment.majority(outsider, panel) is None  # only the panel's opinions count


# --- the whole flow ---------------------------------------------------------------------------


def _worker(app: FastAPI) -> dict[str, Any]:
    """A resident with a wage in the employment register, given an account ``worker``."""
    core = DataCore.from_settings(app.state.settings)
    row = core.sql(
        "SELECT r.citizen_id, r.name, arg_max(s.monthly_wage_fen, s.start_date) AS wage,"
        " arg_max(s.credit_code, s.start_date) AS employer"
        " FROM residents r JOIN employment_spells s USING (citizen_id)"
        " WHERE s.monthly_wage_fen > 0 GROUP BY r.citizen_id, r.name ORDER BY r.citizen_id LIMIT 1"
    ).to_pylist()[0]
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="injured",
                display_name=row["name"],
                password=DEMO_PASSWORD,
                roles=[Role.citizen],
                citizen_id=row["citizen_id"],
            ),
        )
    return dict(row)


def _filed(app: FastAPI) -> str:
    """The worker's application, pre-filled, completed, its materials attached, submitted."""
    state = app.state
    catalogue: Catalogue = state.approval_catalogue
    item = catalogue.items[ITEM]
    with transaction(state.session_factory) as db:
        worker = identity.get_user_by_username(db, "injured")
        assert worker is not None
        made = service.start_application(db, state.datacore, catalogue, user=worker, item_code=ITEM)
        view = service.form_view(db, catalogue, made)
        values: dict[str, Any] = {"injury_site": "上肢", "applicant_relation": "本人"}
        for f in (f for g in view.groups for f in g.fields):
            spec = item.form.field(f.name)
            assert spec is not None
            if f.value in (None, "") and spec.required and f.name not in values:
                values[f.name] = spec.schema["examples"][0]
        service.save(db, catalogue, made, values, actor="injured")
        for n, m in enumerate(view.materials):
            stored = store_upload(
                state.settings.data_dir, made.code, m.code, png_page(n), f"{m.code}.png"
            )
            reading = service.Reading(m.code, stored, None)  # a plain page: nothing to read
            service.attach_reading(db, catalogue, made, reading, actor="injured")
        service.send(db, catalogue, made, actor="injured")
        return made.code


def _actions(app: FastAPI, prefix: str) -> list[str]:
    with transaction(app.state.session_factory) as db:
        rows = db.scalars(select(LedgerEntry).where(LedgerEntry.action.like(f"{prefix}%")))
        return [e.action for e in rows]


def test_a_remote_assessment_from_acceptance_to_the_sealed_conclusion(
    city_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = _worker(city_app)
    code = _filed(city_app)
    office = as_user(city_app, "officer")
    worker = as_user(city_app, "injured")

    # Before acceptance there is no panel to draw.
    assert office.post(f"{API}/{code}/panel").status_code == 409
    (task,) = [t for t in office.get("/api/v1/approval/tasks").json() if t["case"]["code"] == code]
    assert office.post(
        f"/api/v1/approval/tasks/{task['id']}", json={"outcome": "accept"}
    ).is_success

    assert as_user(city_app, "expert1").post(f"{API}/{code}/panel").status_code == 403
    drawn = office.post(f"{API}/{code}/panel")
    assert drawn.status_code == 201, drawn.text
    panel = [e["username"] for e in drawn.json()["panel"]]
    assert len(set(panel)) == 3 and set(panel) <= {e.username for e in RULES.experts}
    # 上肢: the two experts whose fields cover it are both drawn.
    assert {"expert1", "expert3"} <= set(panel)
    assert office.post(f"{API}/{code}/panel").status_code == 409  # once
    lead, others = panel[0], panel[1:]
    outsider = next(e.username for e in RULES.experts if e.username not in panel)
    assert as_user(city_app, outsider).get(f"{API}/{code}").status_code == 404
    assert as_user(city_app, "citizen").get(f"{API}/{code}").status_code == 404

    # The examination: a time in the past is refused naming the field; the worker is told.
    past = office.post(f"{API}/{code}/exam", json={"exam_at": "2020-01-01T10:00:00"})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "exam_at"
    at = (datetime.now(SHANGHAI) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    arranged = office.post(f"{API}/{code}/exam", json={"exam_at": at.isoformat()})
    assert arranged.status_code == 200, arranged.text
    first = arranged.json()["exam_session"]
    assert arranged.json()["state"] == "scheduled"
    # Moved an hour on: a new session, the first ended as moved.
    moved = office.post(
        f"{API}/{code}/exam", json={"exam_at": (at + timedelta(hours=1)).isoformat()}
    )
    session = moved.json()["exam_session"]
    assert moved.status_code == 200 and session != first
    with transaction(city_app.state.session_factory) as db:
        old = db.scalar(select(HelpRequest).where(HelpRequest.code == first))
        assert old is not None and (old.state, old.outcome) == ("closed", "已改期")
    with transaction(city_app.state.session_factory) as db:
        told = db.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == who["citizen_id"])
        ).all()
        assert any(m.link == f"/hrss/assessments/{code}" for m in told)
    # An arranged session is not in the help queue, and the worker asking for help gets another.
    assert session not in [r["code"] for r in office.get("/api/v1/hrss/help/queue").json()]
    mine = worker.get(f"{API}/{code}").json()
    assert mine["side"] == "worker" and mine["exam_session"] == session
    assert mine["findings"] is None and mine["opinions"] == []

    # Findings need the call to have begun, and are the examining expert's alone.
    examiner = as_user(city_app, lead)
    findings = {"findings": "右手食指末节缺失，屈伸功能部分受限。"}
    assert examiner.post(f"{API}/{code}/findings", json=findings).status_code == 409
    assert examiner.get(f"/hrss/help/{session}").status_code == 200  # the call page opened
    origin = {"origin": "http://testserver"}
    with worker.websocket_connect(f"/ws/hrss/help/{session}", headers=origin) as ws:
        ws.send_text(json.dumps({"kind": "hello", "payload": {}}))
    assert (
        as_user(city_app, others[0]).post(f"{API}/{code}/findings", json=findings).status_code
        == 403
    )
    # The call page sends the recording (WebM) when the call ends: the examiner's alone,
    # bounded, checked to be WebM; the panel and the worker may watch it, a look in the ledger.
    webm = assessment.WEBM_MAGIC + b"\x00" * 2048
    video = {"content": webm, "headers": {"content-type": "video/webm"}}
    not_video = examiner.post(f"{API}/{code}/recording", content=b"GIF89a" + b"\x00" * 64)
    assert not_video.status_code == 415
    assert not_video.json()["errors"][0]["field"] == "recording"
    assert as_user(city_app, others[0]).post(f"{API}/{code}/recording", **video).status_code == 403
    too_big = examiner.post(f"{API}/{code}/recording", content=webm + b"\x00" * 64 * 2**20)
    assert too_big.status_code == 413
    kept = examiner.post(f"{API}/{code}/recording", **video)
    assert kept.status_code == 200 and kept.json()["bytes"] == len(webm), kept.text
    watched = as_user(city_app, others[1]).get(f"{API}/{code}/recording")
    assert watched.status_code == 200 and watched.content == webm
    assert worker.get(f"{API}/{code}/recording").content == webm
    assert as_user(city_app, outsider).get(f"{API}/{code}/recording").status_code == 404
    examined = examiner.post(f"{API}/{code}/findings", json=findings)
    assert examined.status_code == 200 and examined.json()["state"] == "examined"
    # Past the findings the record is closed: no recording replaces the one kept.
    assert examiner.post(f"{API}/{code}/recording", **video).status_code == 409
    with transaction(city_app.state.session_factory) as db:
        call = db.scalar(select(HelpRequest).where(HelpRequest.code == session))
        assert call is not None and call.state == "closed" and call.picked_at is not None

    # Opinions: bounded, the panel's only; split three ways there is no conclusion.
    basis = {"self_care": "无", "basis": "GB/T 16180-2014 5.7.2.14"}
    bad = examiner.post(f"{API}/{code}/opinion", json={**basis, "grade": 11})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("grade")
    assert (
        as_user(city_app, outsider)
        .post(f"{API}/{code}/opinion", json={**basis, "grade": 7})
        .status_code
        == 403
    )
    for expert, grade in zip(panel, (7, 8, 9), strict=True):
        given_ = as_user(city_app, expert).post(
            f"{API}/{code}/opinion", json={**basis, "grade": grade}
        )
        assert given_.status_code == 200, given_.text
    split = office.post(f"{API}/{code}/conclusion")
    assert split.status_code == 409 and split.json()["errors"][0]["field"] == "opinions"
    revised = as_user(city_app, others[0]).post(f"{API}/{code}/opinion", json={**basis, "grade": 7})
    assert revised.json()["majority"] == [7, "无"]
    assert as_user(city_app, lead).post(f"{API}/{code}/conclusion").status_code == 403

    # Another conclusion took the number this one reads as next (two at once): it takes the
    # next number rather than fail.
    year = local_today().year
    taken, free = f"LJ-{year}-000001", f"LJ-{year}-000002"
    with transaction(city_app.state.session_factory) as db:
        db.add(
            Assessment(
                case_code="SP-RACE", citizen_id="x", worker_name="甲", state="concluded",
                pool=[], panel=[], drawn_by="x", drawn_at=utcnow(), conclusion_no=taken,
            )
        )  # fmt: skip
    numbers = iter([taken, free])
    monkeypatch.setattr(assessment_conclusion, "_next_number", lambda *_: next(numbers))
    concluded = office.post(f"{API}/{code}/conclusion")
    assert concluded.status_code == 200, concluded.text
    c = concluded.json()["conclusion"]
    assert c["number"] == free
    assert (c["grade"], c["grade_text"]) == (7, "七级伤残")
    assert c["benefits"]["months"] == 13  # 工伤保险条例 第三十七条
    assert c["benefits"]["subsidy_fen"] == 13 * who["wage"]
    assert office.post(f"{API}/{code}/conclusion").status_code == 409

    # The approval case ended approved, with the conclusion as its reason.
    case = office.get(f"/api/v1/approval/cases/{code}").json()
    assert case["state"] == "issued", case
    # The worker reads the conclusion and verifies its seal; the employer was told.
    pdf = worker.get(f"{API}/{code}/conclusion.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    envelope = worker.get(f"{API}/{code}/conclusion.seal.json").content
    verdict = worker.post(
        "/api/v1/seals/verify",
        files={
            "document": ("c.pdf", pdf.content, "application/pdf"),
            "envelope": ("e.json", envelope, "application/json"),
        },
    )
    assert verdict.json()["valid"] is True, verdict.text
    tampered = worker.post(
        "/api/v1/seals/verify",
        files={
            "document": ("c.pdf", pdf.content[:-10] + b"0000000000", "application/pdf"),
            "envelope": ("e.json", envelope, "application/json"),
        },
    )
    assert tampered.json()["valid"] is False
    with transaction(city_app.state.session_factory) as db:
        employer = db.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == who["employer"])
        ).all()
        assert any("劳动能力鉴定结论" in m.title for m in employer)
    page = worker.get(f"/hrss/assessments/{code}")
    assert page.status_code == 200 and "七级伤残" in page.text and "检查所见" not in page.text

    assert set(_actions(city_app, "hrss.assessment")) == {
        "hrss.assessment_panel_drawn",
        "hrss.assessment_exam_scheduled",
        "hrss.assessment_records_read",
        "hrss.assessment_examined",
        "hrss.assessment_recorded",
        "hrss.assessment_recording_viewed",
        "hrss.assessment_opinion",
        "hrss.assessment_concluded",
    }
    assert "hrss.injury_benefits" in _actions(city_app, "hrss.injury")


def test_the_pages_walk_the_office_and_the_panel_through(city_app: FastAPI) -> None:
    _worker(city_app)
    code = _filed(city_app)
    office = as_user(city_app, "officer")
    (task,) = [t for t in office.get("/api/v1/approval/tasks").json() if t["case"]["code"] == code]
    office.post(f"/api/v1/approval/tasks/{task['id']}", json={"outcome": "accept"})

    listed = office.get("/hrss/assessments")
    assert listed.status_code == 200 and code in listed.text and "待组建专家组" in listed.text
    drawn = office.post(f"/hrss/assessments/{code}/panel", follow_redirects=False)
    assert drawn.status_code == 303
    refused = office.post(f"/hrss/assessments/{code}/exam", data={"exam_at": "明天"})
    assert refused.status_code == 422 and "检查时间" in refused.text
    page = office.get(f"/hrss/assessments/{code}")
    assert "随机抽取" in page.text and "主检专家" in page.text
    with transaction(city_app.state.session_factory) as db:
        found = assessment.get(db, code)
        assert found is not None and found.state == "panel"
        lead = found.panel[0]
    expert_page = as_user(city_app, lead).get(f"/hrss/assessments/{code}")
    assert expert_page.status_code == 200 and "申请材料和病历资料" in expert_page.text
    assert "劳动能力鉴定" in as_user(city_app, lead).get("/hrss/assessments").text
