"""Two officers decide one case at the same moment, each in a session and a thread of their
own: exactly one decision stands, the other officer is told the case was handled already (409),
and the case, its tasks, its events and the ledger hold the winner's decision alone. On
PostgreSQL (``SHUHUI_TEST_POSTGRES_URL``; skipped when unset), where the second UPDATE waits on
the first's row lock and then finds the task closed, and on SQLite, where one transaction writes
at a time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI

from shuhui.approval import cases
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from tests.approval.case_items import (
    BUREAU,
    ENTERPRISE,
    FOOD,
    actions,
    case_of,
    decide,
    food_case,
    food_prefill,
    open_tasks,
    tx,
    user,
)
from tests.fixtures import POSTGRES_URL, add_account

pytestmark = pytest.mark.both_backends

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(POSTGRES_URL is None, reason="SHUHUI_TEST_POSTGRES_URL is not set"),
        ],
    ),
]
ROUNDS = 3


def decide_at_once(app: FastAPI, code: str, choices: list[tuple[str, str]]) -> list[Problem | None]:
    """Each officer reads the open task in a session of their own, waits for the others, and
    decides; returns each one's refusal (None for a decision that stood)."""
    barrier = threading.Barrier(len(choices))

    def officer_decides(username: str, outcome: str) -> Problem | None:
        try:
            with transaction(app.state.session_factory) as db:
                officer = user(db, username)
                (task,) = open_tasks(db, code)
                barrier.wait(timeout=10)
                cases.complete_task(
                    db, task.id, officer=officer, outcome=outcome, reason=f"{username}的决定"
                )
        except Problem as refused:  # raised out of the transaction: rolled back, as a request
            return refused
        return None

    with ThreadPoolExecutor(max_workers=len(choices)) as pool:
        futures = [pool.submit(officer_decides, name, outcome) for name, outcome in choices]
        return [f.result(timeout=60) for f in futures]


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_of_two_concurrent_decisions_exactly_one_stands(app: FastAPI, database_url: str) -> None:
    with tx(app) as db:
        add_account(
            db,
            UserCreate(
                username="approver2",
                display_name="审批局 钱审批",
                password=DEMO_PASSWORD,
                roles=[Role.officer],
                department=BUREAU,
            ),
        )
    for round_ in range(ROUNDS):
        code = food_case(app)
        decide(app, code, "approver", "accept")
        decide(app, code, "approver", "pass")
        # The same officer twice (a double click) in the last round, two officers otherwise.
        second = "approver" if round_ == ROUNDS - 1 else "approver2"
        outcomes = [("approver", "approve"), (second, "reject")]
        results = decide_at_once(app, code, outcomes)

        assert sum(r is None for r in results) == 1, results
        (loser,) = [r for r in results if r is not None]
        assert loser.http_status == 409
        assert loser.detail == "该办件已由其他工作人员处理"
        winner = outcomes[results.index(None)]
        with tx(app) as db:
            case = case_of(db, code)
            expected = "approved" if winner[1] == "approve" else "rejected"
            assert (case.state, case.decision, case.decision_reason) == (
                expected,
                expected,
                f"{winner[0]}的决定",
            )
            assert case.version == 5  # submitted, accepted, reviewed, decided: once each
            decided = [t for t in cases.tasks_of(db, case) if t.step == "decide"]
            assert [(t.closed_by, t.outcome) for t in decided] == [winner]
            still_open = [t.role for t in open_tasks(db, code)]
            assert still_open == (["issue"] if expected == "approved" else [])
            events = [e.action for e in cases.events_of(db, case)]
            assert events.count("approved") + events.count("rejected") == 1
    with tx(app) as db:
        ledger = actions(db, ENTERPRISE)
        decisions = [a for a in ledger if a in ("approval.case.approved", "approval.case.rejected")]
        assert len(decisions) == ROUNDS


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_drafts_made_at_once_get_codes_of_their_own(app: FastAPI, database_url: str) -> None:
    """Several drafts made at the same moment each get the day's next number: the unique code
    refuses a number taken meanwhile, and the draft takes the one after."""
    makers = 4
    barrier = threading.Barrier(makers)

    def make_draft(_: int) -> str:
        with transaction(app.state.session_factory) as db:
            barrier.wait(timeout=10)
            draft = cases.create_draft(db, item=FOOD, prefill=food_prefill(), actor="enterprise")
            return draft.code

    with ThreadPoolExecutor(max_workers=makers) as pool:
        codes = list(pool.map(make_draft, range(makers)))
    prefix = codes[0][:10]
    assert sorted(codes) == [f"{prefix}{n:05d}" for n in range(1, makers + 1)]
    with tx(app) as db:
        assert all(case_of(db, code).state == "draft" for code in codes)
        assert actions(db, ENTERPRISE).count("approval.case.created") == makers
