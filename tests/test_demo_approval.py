"""shuhui.demo.approval: smart approval in the demo (the small city). The case history is made
through the real services — every step's state, the officers' queues with cases due soon and
overdue, corrections, rejections with reasons, e-licences written to the data core in one
version, ratings with follow-ups — by applicants who are none of the demo accounts (the demo
citizen gets no 残疾人证, and the demo accounts' case lists stay empty); run again, nothing
changes; and the demo agent applies for the demo enterprise under its signed mandate."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from unittest.mock import ANY

from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.approval import cases, licences, queues
from shuhui.approval.items import load_catalogue
from shuhui.approval.models import Case, CaseEvent, CaseMaterial, FollowUp, Licence, Rating
from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.demo import approval, city, counter
from shuhui.demo.history import working_days_before
from shuhui.demo.prechecks import KINDS, WRONG_ID_CARD, sample_pages
from shuhui.hrss import assessment, injury
from shuhui.trust.crypto import keystore
from shuhui.trust.crypto.sm import SM2PrivateKey
from shuhui.trust.identity.service import get_user_by_username
from shuhui.trust.ledger.models import LedgerEntry
from shuhui.trust.seals import service as seals
from tests.fixtures import DEMO_ACCOUNTS, as_user

DISABILITY_CARD = "残疾人证"
APPROVAL_BUREAU = "青岛市行政审批服务局"


def _prepare(app: FastAPI) -> tuple[approval.Summary, int]:
    settings = app.state.settings
    core = DataCore.from_settings(settings)
    with transaction(app.state.session_factory) as db:
        city.prepare(db, settings, core, DEMO_ACCOUNTS, actor="test")
        summary = approval.prepare(db, settings, core, DEMO_ACCOUNTS, actor="test")
    with transaction(app.state.session_factory) as db:
        published = approval.publish_licences(db, core, actor="test")
    return summary, published


def _entries(app: FastAPI) -> int:
    with app.state.session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def _scalars(app: FastAPI, query: Any) -> list[Any]:
    with app.state.session_factory() as db:
        return list(db.scalars(query))


def test_the_history_agent_and_queues_are_made_once_for_officers_not_the_demo_people(
    city_app: FastAPI,
) -> None:
    # A key file an earlier, failed run left (its transaction rolled back after the key was
    # written): this run adopts it rather than fail on it.
    settings = city_app.state.settings
    seal = licences.licence_seal(APPROVAL_BUREAU, local_today(), settings.city_content)
    left = SM2PrivateKey.generate()
    keystore.write(seals.key_path(settings.data_dir, seal.code), left)
    summary, published = _prepare(city_app)
    with city_app.state.session_factory() as db:
        adopted = seals.get_seal(db, seal.code)
        assert adopted is not None and adopted.public_key_pem == left.public_key.to_pem()
    made = _scalars(city_app, select(Case).where(Case.created_by == approval.HISTORY_ACTOR))
    assert summary.made and summary.cases == len(made) and 60 <= len(made) <= 120
    # Most items, over the past working days, every step of the process stood at by some.
    assert len({c.item_code for c in made}) >= 30
    states = Counter(c.state for c in made)
    assert set(states) == {
        "submitted", "correction", "accepted", "review", "approved", "rejected", "issued",
    }  # fmt: skip
    assert states["issued"] > len(made) / 3 and states["rejected"] < states["issued"] / 3
    days = working_days_before(local_today(), 2 * approval.WORKING_DAYS)
    first = min(c.created_at for c in made)
    assert days[-1] <= local_today(first) < days[approval.WORKING_DAYS // 2]
    assert all(local_today(c.created_at) < local_today() for c in made)
    assert all(c.created_by == approval.HISTORY_ACTOR and c.agent_id is None for c in made)
    # Every rejection says why; corrections were asked for, some answered and resubmitted.
    assert all(c.decision_reason for c in made if c.state == "rejected")
    assert any(c.correction_count and c.state != "correction" for c in made)
    assert all(c.correction and c.paused_since for c in made if c.state == "correction")
    # About half the applicants who had a page the pre-check reads ran it; a flagged identity
    # card was sent back.
    catalogue = load_catalogue(city_app.state.settings.city_content)
    readable = [
        c for c in made if any(m.kind in KINDS for m in catalogue.items[c.item_code].materials)
    ]
    checked = sum(c.precheck_used for c in readable)
    assert checked == sum(c.precheck_used for c in made)
    assert 0.25 * len(readable) < checked < 0.75 * len(readable)
    flagged = _scalars(city_app, select(CaseMaterial).where(CaseMaterial.precheck_ok.is_(False)))
    assert flagged and all(m.precheck and m.precheck["issues"] for m in flagged)
    asked = {c.id: c.correction for c in made if c.state == "correction"}
    assert all(
        {"material": m.material, "reason": ANY} in asked[m.case_id] for m in flagged
    )  # each flagged card is what its case waits to have corrected
    uploaded = _scalars(city_app, select(CaseMaterial).where(CaseMaterial.stored_as.is_not(None)))
    data_dir = city_app.state.settings.data_dir
    assert all((data_dir / m.stored_as).is_file() for m in uploaded)
    assert _scalars(city_app, select(CaseMaterial).where(CaseMaterial.waived.is_(True)))
    # Every case's events are in its past, in order.
    events = _scalars(city_app, select(CaseEvent).order_by(CaseEvent.id))
    by_case: dict[int, list[Any]] = {}
    for e in events:
        by_case.setdefault(e.case_id, []).append(e.at)
    assert all(times == sorted(times) for times in by_case.values())

    # Each issued licence is sealed and in the data core, all in one new version.
    issued = _scalars(city_app, select(Licence))
    assert published == len(issued) == summary.licences > 0
    assert len({lic.datacore_version for lic in issued}) == 1 and issued[0].datacore_version
    # Ratings, some bad: each bad one opened the department's follow-up.
    rated = _scalars(city_app, select(Rating))
    bad = [r for r in rated if r.stars <= 2]
    assert rated and bad and len(_scalars(city_app, select(FollowUp))) == len(bad)

    with city_app.state.session_factory() as db:
        # The officers' queues hold work, some of it due soon or overdue.
        approver = get_user_by_username(db, "approver")
        assert approver is not None
        assert sum(c.open for c in queues.queue_counts(db, approver.department).values()) > 5
        late = queues.due_soon(db)
        assert {cases.warning(c) for c in late} == {"overdue", "due_soon"}
        waiting = {p.username: p.waiting for p in summary.prepared}
        assert "待受理" in waiting["approver"] and "即将到期或已超期" in waiting["approver"]
        # The demo people have no case of the history, and the demo citizen no disability
        # card; the enterprise's one case is its work-injury application for an employee and
        # the worker's their assessment (shuhui.demo.injury).
        citizen = get_user_by_username(db, "citizen")
        enterprise = get_user_by_username(db, "enterprise")
        agent = get_user_by_username(db, approval.AGENT)
        worker = get_user_by_username(db, "worker")
        assert citizen is not None and enterprise is not None and agent is not None
        for user in (citizen, agent):
            assert cases.cases_of(db, user) == []
        assert {c.item_code for c in cases.cases_of(db, enterprise)} <= {"QD-RS-0018"}
        assert worker is not None
        assert {c.item_code for c in cases.cases_of(db, worker)} <= {"QD-RS-0017"}
        # A few residents came to the window: those cases are the officers' filings.
        windowed = _scalars(city_app, select(Case).where(Case.channel == "counter"))
        assert len(windowed) == summary.counter and 0 < summary.counter <= counter.WANTED
        assert all(c.created_by != approval.HISTORY_ACTOR for c in windowed)
        # The injury demo: the enterprise's application warns on the officer's clocks, and the
        # worker's assessment waits on its video examination.
        theirs = {c.code for c in cases.cases_of(db, enterprise)}
        watched = [a for a in injury.open_applications(db) if a.case_code in theirs]
        assert len(watched) == 1 and watched[0].warning and watched[0].days_left == 5
        (mine,) = assessment.of_worker(db, worker.citizen_id or "")
        assert mine.state == assessment.SCHEDULED and len(mine.panel) == 3
        assert not [c for c in made if c.applicant_id == enterprise.citizen_id]
        # The ledger says it was demo data, and who the applicants were.
        (said,) = db.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "demo.approval.prepared")
        )
        assert said.actor == "test" and said.purpose == approval.PURPOSE
        assert json.loads(bytes(said.leaf))["detail"]["cases"] == len(made)
        drafted = set(
            db.scalars(
                select(LedgerEntry.actor).where(LedgerEntry.action == "approval.case.created")
            )
        )
        filers = {approval.HISTORY_ACTOR, "enterprise", "worker"} | {c.created_by for c in windowed}
        assert drafted <= filers and approval.HISTORY_ACTOR in drafted
    con = DataCore.from_settings(city_app.state.settings).connect()
    try:
        held = con.execute(
            "SELECT count(*) FROM e_certificates WHERE holder_citizen_id = ? "
            "AND certificate_type = ?",
            [citizen.citizen_id, DISABILITY_CARD],
        ).fetchone()
    finally:
        con.close()
    assert held == (0,)
    assert not [lic for lic in issued if lic.holder_id == citizen.citizen_id]
    assert waiting[approval.AGENT].startswith("受")

    # Run again: nothing changes, not even the ledger.
    before = _entries(city_app)
    again, published = _prepare(city_app)
    assert (again.made, published, _entries(city_app)) == (False, 0, before)
    assert {p.username: p.waiting for p in again.prepared} == waiting
    assert not any(p.changed for p in again.prepared)

    # The agent applies for the demo enterprise under its mandate, as from the item page.
    client = as_user(city_app, approval.AGENT)
    for code in ("QD-SP-0003", "QD-SP-0023"):
        started = client.post(
            "/api/v1/approval/cases", json={"item": code, "applicant": enterprise.credit_code}
        )
        assert started.status_code in (200, 201), started.text
        assert started.json()["applicant_name"] == enterprise.display_name
    with city_app.state.session_factory() as db:
        mine = cases.cases_of(db, agent)
        assert len(mine) == 2 and {c.applicant_id for c in mine} == {enterprise.credit_code}
        assert all(c.agent_id == agent.citizen_id and c.mandate_code for c in mine)
        own = [c for c in cases.cases_of(db, enterprise) if c.item_code != "QD-RS-0018"]
        assert len(own) == 2  # and its work-injury application, the injury demo's
    # An item the mandate does not cover is refused.
    refused = client.post(
        "/api/v1/approval/cases", json={"item": "QD-SP-0005", "applicant": enterprise.credit_code}
    )
    assert refused.status_code == 403


def test_the_kept_pre_checks_are_of_the_pages_the_demo_uploads() -> None:
    """Each sample page drawn now is the page whose real pre-check is kept (else
    ``StaleResults``: remake them with ``python -m shuhui.demo.prechecks``): clean pages
    without issues, the wrong identity card flagged on its number."""
    pages = sample_pages()
    assert set(pages) == {*KINDS, WRONG_ID_CARD}
    for key, page in pages.items():
        assert page.result is not None and page.result["material"] == page.kind
        if key == WRONG_ID_CARD:
            assert not page.ok
            assert [i["field"] for i in page.result["issues"]] == ["公民身份号码"]
        else:
            assert page.ok and not page.result["issues"] and page.result["fields"]
