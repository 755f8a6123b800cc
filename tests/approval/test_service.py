"""The once-only loop through ``approval.service`` on the small city: a resident applies for a
disability certificate (残疾人证核发) with the form pre-filled from the population register,
uploads a wrong identity card (flagged before submitting) and the right one, submits; the
federation's officer accepts, reviews, approves and issues the sealed e-licence, which is
written to the data core's e-certificates; the resident's next application (残疾人两项补贴申领)
then needs no certificate: it is waived (免提交)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import cases, officer_views, service
from shuhui.approval.items import Catalogue, load_catalogue
from shuhui.approval.models import Case
from shuhui.approval.sample_pages import png, render
from shuhui.approval.samples import IdCard, MedicalCertificate, Person, id_card, medical
from shuhui.approval.schemas import TaskDecisionIn
from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.identity.service import get_user_by_username
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_PASSWORD, add_account

pytestmark = pytest.mark.both_backends


def _resident_without_certificate(core: DataCore) -> dict[str, Any]:
    query = """
        SELECT r.citizen_id, r.name, r.sex, r.birth_date, r.district_code FROM residents r
        WHERE r.citizen_id LIKE '3702%'
          AND r.citizen_id NOT IN (
            SELECT holder_citizen_id FROM e_certificates
            WHERE holder_citizen_id IS NOT NULL AND certificate_type = '残疾人证')
        ORDER BY r.citizen_id LIMIT 1
    """
    with core.connect() as con:
        row = con.execute(query).fetchone()
    assert row is not None
    return dict(zip(("citizen_id", "name", "sex", "birth_date", "district_code"), row, strict=True))


def _documents(who: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    """The resident's identity card, someone else's, and a medical certificate about them."""
    rng = random.Random(18)
    birth = who["birth_date"]
    person = Person(
        who["name"], who["sex"], "汉", birth, "山东省青岛市市北区辽宁路1号", who["citizen_id"]
    )
    card: IdCard = id_card(person, rng, today=local_today())
    stranger = Person(
        "赵明远",
        "男",
        "汉",
        date(1980, 5, 6),
        "山东省青岛市市南区香港中路9号",
        "370202198005061238",
    )
    other: IdCard = id_card(stranger, rng, today=local_today())
    assessment: MedicalCertificate = medical(rng, person, today=local_today())
    return png(render(card)), png(render(other)), png(render(assessment))


def _decide(db: Session, case: Case, officer: User, outcome: str) -> Case:
    task = next(t for t in cases.tasks_of(db, case) if t.closed_at is None)
    return service.decide(db, task.id, officer=officer, decision=TaskDecisionIn(outcome=outcome))


@pytest.mark.usefixtures("city_app")
def test_apply_precheck_approve_issue_and_the_next_application_waives_the_certificate(
    city_app: FastAPI,
) -> None:
    state = city_app.state
    core: DataCore = state.datacore
    catalogue: Catalogue = load_catalogue(state.settings.city_content)
    data_dir = state.settings.data_dir
    who = _resident_without_certificate(core)
    right, wrong, assessment = _documents(who)

    with transaction(state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="resident",
                display_name=who["name"],
                password=DEMO_PASSWORD,
                roles=[Role.citizen],
                citizen_id=who["citizen_id"],
            ),
        )
    with transaction(state.session_factory) as db:
        user = get_user_by_username(db, "resident")
        assert user is not None
        case = service.start_application(db, core, catalogue, user=user, item_code="QD-CL-0001")
        code = case.code
        view = service.form_view(db, catalogue, case)
        # Most of the form is filled, each value with its source in words.
        assert view.filled * 2 > view.total
        by_name = {f.name: f for g in view.groups for f in g.fields}
        assert by_name["applicant_name"].value == who["name"]
        assert by_name["applicant_name"].fill == "identity"
        assert "常住人口" in by_name["applicant_name"].source_zh

    with transaction(state.session_factory) as db:
        user = get_user_by_username(db, "resident")
        case = cases.get_case(db, code)
        assert user is not None and case is not None
        flagged = service.upload(
            db,
            data_dir,
            core,
            catalogue,
            case,
            material="id-card",
            content=wrong,
            file_name="card.png",
            actor=user.username,
        )
        assert flagged.precheck_ok is False  # another person's card: flagged before submitting
        fine = service.upload(
            db,
            data_dir,
            core,
            catalogue,
            case,
            material="id-card",
            content=right,
            file_name="card.png",
            actor=user.username,
        )
        assert fine.precheck_ok is True, fine.precheck
        for material, content in (("household-register", right), ("assessment", assessment)):
            service.upload(
                db,
                data_dir,
                core,
                catalogue,
                case,
                material=material,
                content=content,
                file_name=f"{material}.png",
                actor=user.username,
            )
        with pytest.raises(Problem) as refused:
            service.send(db, catalogue, case, actor=user.username)
        assert {e.field for e in refused.value.errors} == {"disability_type_claimed"}

    with transaction(state.session_factory) as db:
        user = get_user_by_username(db, "resident")
        case = cases.get_case(db, code)
        assert user is not None and case is not None
        service.save(
            db,
            catalogue,
            case,
            {"disability_type_claimed": "肢体"},
            actor=user.username,
        )
        service.send(db, catalogue, case, actor=user.username)
        assert case.state == "submitted" and case.precheck_used

    with transaction(state.session_factory) as db:
        officer = get_user_by_username(db, "disability")
        case = cases.get_case(db, code)
        assert officer is not None and case is not None
        for outcome in ("accept", "pass", "approve"):
            case = _decide(db, case, officer, outcome)
        licence = service.issue(db, data_dir, core, catalogue, case, officer=officer)
        assert licence is not None and case.state == "issued"
        number = licence.certificate_no

    # Written to the data core once the officer's transaction committed.
    with core.connect() as con:
        held = con.execute(
            "SELECT certificate_type FROM e_certificates WHERE certificate_no = ?", [number]
        ).fetchall()
    assert held == [("残疾人证",)]

    with transaction(state.session_factory) as db:
        user = get_user_by_username(db, "resident")
        assert user is not None
        nxt = service.start_application(db, core, catalogue, user=user, item_code="QD-MZ-0001")
        view = service.form_view(db, catalogue, nxt)
        card = next(m for m in view.materials if m.code == "disability-card")
        assert card.waived and card.certificate_no == number
        steps = list(
            db.scalars(select(LedgerEntry.action).where(LedgerEntry.subject == who["citizen_id"]))
        )
    assert "approval.form.prefilled" in steps and "approval.case.issued" in steps


def test_actors_without_an_account_are_named_in_words() -> None:
    assert officer_views.actor_shown("demo:history") == "演示申请人（演示数据）"
    assert officer_views.actor_shown("system") == "系统"
    assert officer_views.actor_shown("someone") == "someone"
