"""Cases through the API on the small city: refusals that name every faulty field and change
nothing, uploads that are not images or too large, an agent without a mandate (refused, and the
refusal in the ledger), the whole flow to the sealed e-licence, its envelope and a rating, and an
officer filing at a service-hall window (the channel ``counter``; another department refused)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.approval.models import Case
from shuhui.approval.sample_pages import png, render
from shuhui.approval.samples import Person, id_card, medical
from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_PASSWORD, add_account, as_user

ITEM = "QD-CL-0001"  # 残疾人证核发: a person's item, issued by the disabled persons' federation


def _residents(app: FastAPI, n: int) -> list[dict[str, Any]]:
    query = """
        SELECT citizen_id, name, sex, birth_date FROM residents
        WHERE citizen_id LIKE '3702%' AND citizen_id NOT IN (
            SELECT holder_citizen_id FROM e_certificates
            WHERE holder_citizen_id IS NOT NULL AND certificate_type = '残疾人证')
        ORDER BY citizen_id LIMIT ?
    """
    with app.state.datacore.connect() as con:
        rows = con.execute(query, [n]).fetchall()
    return [dict(zip(("citizen_id", "name", "sex", "birth_date"), r, strict=True)) for r in rows]


def _account(app: FastAPI, username: str, who: dict[str, Any]) -> None:
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username=username,
                display_name=who["name"],
                password=DEMO_PASSWORD,
                roles=[Role.citizen],
                citizen_id=who["citizen_id"],
            ),
        )


def _card(who: dict[str, Any]) -> tuple[bytes, bytes]:
    rng = random.Random(7)
    person = Person(
        who["name"],
        who["sex"],
        "汉",
        who["birth_date"],
        "山东省青岛市市北区辽宁路1号",
        who["citizen_id"],
    )
    return (
        png(render(id_card(person, rng, today=local_today()))),
        png(render(medical(rng, person, today=local_today()))),
    )


def _cases(app: FastAPI) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def test_the_api_refuses_bad_input_naming_every_field_and_keeps_nothing(city_app: FastAPI) -> None:
    (who,) = _residents(city_app, 1)
    _account(city_app, "resident", who)
    client = as_user(city_app, "resident")
    bad = client.post("/api/v1/approval/cases", json={"item": "NO-SUCH-1"})
    assert bad.status_code == 404 and bad.headers["content-type"] == "application/problem+json"
    assert _cases(city_app) == 0

    made = client.post("/api/v1/approval/cases", json={"item": ITEM})
    assert made.status_code == 201, made.text
    assert (made.json()["channel"], made.json()["channel_zh"]) == ("online", "网上自助办理")
    code = made.json()["code"]
    # Wrong values in three fields and a required field cleared: every one named, no case sent.
    saved = client.put(
        f"/api/v1/approval/cases/{code}/form",
        json={
            "values": {
                "sex": "未知",
                "birth_date": "2026-02-30",
                "district_code": "990000",
                "applicant_name": "",
            }
        },
    )
    assert saved.status_code == 200, saved.text
    refused = client.post(f"/api/v1/approval/cases/{code}/submit")
    assert refused.status_code == 422
    named = {e["field"] for e in refused.json()["errors"]}
    assert {
        "sex",
        "birth_date",
        "district_code",
        "applicant_name",
        "disability_type_claimed",
    } <= named
    assert {"materials.id-card", "materials.assessment"} <= named
    assert client.get(f"/api/v1/approval/cases/{code}").json()["state"] == "draft"

    # Not an image or PDF, and too large: refused before anything is kept.
    text = client.post(
        f"/api/v1/approval/cases/{code}/materials/id-card",
        files={"file": ("card.png", b"GIF89a not really", "image/png")},
    )
    assert text.status_code == 415 and "图片" in text.json()["detail"] + text.text
    huge = client.post(
        f"/api/v1/approval/cases/{code}/materials/id-card",
        files={"file": ("card.png", b"\x89PNG\r\n\x1a\n" + b"0" * (11 * 2**20), "image/png")},
    )
    assert huge.status_code == 413
    form = client.get(f"/api/v1/approval/cases/{code}/form").json()
    assert not any(m["uploaded"] for m in form["materials"])


def test_an_agent_without_a_mandate_is_refused_and_the_refusal_is_in_the_ledger(
    city_app: FastAPI,
) -> None:
    principal, agent = _residents(city_app, 2)
    _account(city_app, "agent", agent)
    client = as_user(city_app, "agent")
    refused = client.post(
        "/api/v1/approval/cases", json={"item": ITEM, "applicant": principal["citizen_id"]}
    )
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/mandate-refused")
    assert _cases(city_app) == 0
    with transaction(city_app.state.session_factory) as db:
        actions = list(
            db.scalars(
                select(LedgerEntry.action).where(LedgerEntry.subject == principal["citizen_id"])
            )
        )
    assert "mandate.refused" in actions


@pytest.mark.parametrize("stars", [2])
def test_apply_decide_issue_fetch_the_sealed_licence_and_rate(
    city_app: FastAPI, stars: int
) -> None:
    (who,) = _residents(city_app, 1)
    _account(city_app, "resident", who)
    card, assessment = _card(who)
    client = as_user(city_app, "resident")
    code = client.post("/api/v1/approval/cases", json={"item": ITEM}).json()["code"]
    for material, content in (
        ("id-card", card),
        ("household-register", card),
        ("assessment", assessment),
    ):
        up = client.post(
            f"/api/v1/approval/cases/{code}/materials/{material}",
            files={"file": (f"{material}.png", content, "image/png")},
        )
        assert up.status_code == 200, up.text
        if material == "id-card":
            assert up.json()["precheck_ok"] is True, up.json()
            assert up.json()["fields"]["公民身份号码"] == who["citizen_id"]
    client.put(
        f"/api/v1/approval/cases/{code}/form", json={"values": {"disability_type_claimed": "肢体"}}
    )
    sent = client.post(f"/api/v1/approval/cases/{code}/submit")
    assert sent.status_code == 200 and sent.json()["state"] == "submitted", sent.text

    officer = as_user(city_app, "disability")
    for outcome in ("accept", "pass", "approve"):
        (task,) = [
            t for t in officer.get("/api/v1/approval/tasks").json() if t["case"]["code"] == code
        ]
        done = officer.post(f"/api/v1/approval/tasks/{task['id']}", json={"outcome": outcome})
        assert done.status_code == 200, done.text
        again = officer.post(f"/api/v1/approval/tasks/{task['id']}", json={"outcome": outcome})
        assert again.status_code == 409  # a step is taken once
    issued = officer.post(f"/api/v1/approval/cases/{code}/issue")
    assert issued.status_code == 200, issued.text
    number = issued.json()["licence"]["certificate_no"]

    pdf = client.get(f"/api/v1/approval/licences/{number}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    envelope = client.get(f"/api/v1/approval/licences/{number}/envelope").json()
    verdict = client.post(
        "/api/v1/seals/verify",
        files={
            "document": (f"{number}.pdf", pdf.content, "application/pdf"),
            "envelope": (
                "envelope.json",
                __import__("json").dumps(envelope).encode(),
                "application/json",
            ),
        },
    )
    assert verdict.status_code == 200 and verdict.json()["valid"] is True, verdict.text

    rated = client.post(
        f"/api/v1/approval/cases/{code}/rating", json={"stars": stars, "comment": "等了太久"}
    )
    assert rated.status_code == 201, rated.text
    assert (
        client.post(f"/api/v1/approval/cases/{code}/rating", json={"stars": 5}).status_code == 409
    )
    stranger = as_user(city_app, "citizen")
    assert stranger.get(f"/api/v1/approval/cases/{code}").status_code == 404
    assert stranger.get(f"/api/v1/approval/licences/{number}/pdf").status_code == 404


def test_a_submission_in_one_request_with_invalid_fields_names_every_one_and_makes_no_case(
    city_app: FastAPI,
) -> None:
    (who,) = _residents(city_app, 1)
    _account(city_app, "resident", who)
    client = as_user(city_app, "resident")
    refused = client.post(
        "/api/v1/approval/submissions",
        json={
            "item": "QD-MZ-0001",  # its one material, the 残疾人证, is not held: named too
            "values": {"sex": "未知", "birth_date": "1990-02-30", "applicant_name": ""},
        },
    )
    assert refused.status_code == 422, refused.text
    named = {e["field"] for e in refused.json()["errors"]}
    assert {"sex", "birth_date", "applicant_name", "materials.disability-card"} <= named
    assert _cases(city_app) == 0
    with transaction(city_app.state.session_factory) as db:
        reads = db.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(
                LedgerEntry.subject == who["citizen_id"],
                LedgerEntry.action == "approval.form.prefilled",
            )
        )
    assert reads == 1  # the read of the applicant's data is in the ledger all the same
    unknown = client.post(
        "/api/v1/approval/submissions", json={"item": ITEM, "values": {"no_such_field": "x"}}
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "no_such_field"
    assert _cases(city_app) == 0


def test_a_holder_of_the_certificate_applies_in_one_request(city_app: FastAPI) -> None:
    from shuhui.approval.items import load_catalogue

    with city_app.state.datacore.connect() as con:
        row = con.execute(
            """SELECT r.citizen_id, r.name, r.sex, r.birth_date FROM residents r
               JOIN e_certificates c ON c.holder_citizen_id = r.citizen_id
               WHERE c.certificate_type = '残疾人证' AND c.status = '有效'
               ORDER BY r.citizen_id LIMIT 1"""
        ).fetchone()
    assert row is not None
    who = dict(zip(("citizen_id", "name", "sex", "birth_date"), row, strict=True))
    _account(city_app, "holder", who)
    client = as_user(city_app, "holder")
    form = client.get("/api/v1/approval/items/QD-MZ-0001/form").json()
    item = load_catalogue(city_app.state.settings.city_content).items["QD-MZ-0001"]
    missing = {
        f["name"]: item.form.field(f["name"]).schema["examples"][0]  # type: ignore[union-attr]
        for f in form["fields"]
        if f["required"] and f["value"] in (None, "")
    }
    made = client.post(
        "/api/v1/approval/submissions", json={"item": "QD-MZ-0001", "values": missing}
    )
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "submitted"
    assert made.json()["channel"] == "online"
    assert _cases(city_app) == 1


def _holder(app: FastAPI) -> dict[str, Any]:
    """A resident holding a valid 残疾人证, which waives the subsidy's one material."""
    with app.state.datacore.connect() as con:
        row = con.execute(
            """SELECT r.citizen_id, r.name, r.sex, r.birth_date FROM residents r
               JOIN e_certificates c ON c.holder_citizen_id = r.citizen_id
               WHERE c.certificate_type = '残疾人证' AND c.status = '有效'
               ORDER BY r.citizen_id LIMIT 1"""
        ).fetchone()
    assert row is not None
    return dict(zip(("citizen_id", "name", "sex", "birth_date"), row, strict=True))


def test_an_officer_files_at_the_window_for_the_applicant_present(city_app: FastAPI) -> None:
    who = _holder(city_app)
    body = {
        "item": "QD-MZ-0001",  # 青岛市民政局 accepts it
        "applicant": who["citizen_id"],
        "identity_checked": True,
        "purpose": "申请人到窗口现场申请",
        "values": {},
    }
    path = "/api/v1/approval/counter/cases"
    # Another department's officer, and anyone who is no officer: refused, nothing written.
    refused = as_user(city_app, "approver").post(path, json=body)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    (error,) = refused.json()["errors"]
    assert error["field"] == "item" and "青岛市民政局" in error["reason"]
    assert as_user(city_app, "citizen").post(path, json=body).status_code == 403
    civil = as_user(city_app, "civil")
    # A purpose of blanks, and an identity not checked: named, in Chinese.
    for field, bad in (("purpose", "   "), ("identity_checked", False)):
        answer = civil.post(path, json={**body, field: bad})
        assert answer.status_code == 422, answer.text
        (error,) = answer.json()["errors"]
        assert error["field"] == field and any("\u4e00" <= ch <= "\u9fff" for ch in error["reason"])
    assert _cases(city_app) == 0
    filed = civil.post(path, json=body)
    assert filed.status_code == 201, filed.text
    case = filed.json()
    assert (case["channel"], case["channel_zh"], case["state"]) == (
        "counter",
        "窗口办理",
        "submitted",
    )
    assert case["applicant_name"] == who["name"]
    with transaction(city_app.state.session_factory) as db:
        entry = db.scalar(
            select(LedgerEntry).where(LedgerEntry.action == "approval.case.filed_at_counter")
        )
    assert entry is not None
    assert (entry.subject, entry.actor, entry.purpose) == (
        who["citizen_id"],
        "civil",
        "申请人到窗口现场申请",
    )
    # The applicant follows it from their own account.
    _account(city_app, "present", who)
    mine = as_user(city_app, "present").get(f"/api/v1/approval/cases/{case['code']}")
    assert mine.status_code == 200 and mine.json()["channel"] == "counter"
