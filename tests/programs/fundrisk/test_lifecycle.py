"""The alert lifecycle under any sequence of steps: only allowed states, never more recovered
than is to be recovered, and a refused step changes nothing (hypothesis)."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.core.errors import Problem
from shuhui.programs.fundrisk import service
from shuhui.programs.fundrisk.models import ALERT_STATES, Alert, DetectionRun

# Which states each state may lead to (what the lifecycle allows, written out apart from
# service.TRANSITIONS so the test does not check the table against itself).
NEXT: dict[str, set[str]] = {
    "new": {"checking", "dismissed"},
    "checking": {"confirmed", "dismissed"},
    "confirmed": {"recovering", "recovered"},
    "recovering": {"recovering", "recovered"},
    "dismissed": set(),
    "recovered": set(),
}

steps = st.lists(
    st.tuples(
        st.sampled_from(["check", "confirm", "dismiss", "recover", "reopen", ""]),
        st.one_of(st.none(), st.integers(min_value=-5, max_value=12_000)),
        st.sampled_from(["", "  ", "核实无误"]),
    ),
    max_size=12,
)


def _alert(db: Session, amount: int | None) -> Alert:
    now = utcnow()
    run = DetectionRun(
        evaluated_on=date(2026, 10, 31),
        counts={},
        versions={},
        runs=1,
        created_by="t",
        created_at=now,
        updated_at=now,
    )
    db.add(run)
    db.flush()
    a = Alert(
        code="FX-TEST",
        rule="risk-pension-after-death",
        name="死亡后继续领取养老金",
        chain="information",
        severity="high",
        department=service.DEPARTMENT,
        entity="pension",
        subject="P1",
        citizen_id=None,
        evaluated_on=date(2026, 10, 31),
        versions={},
        amount_fen=amount,
        recovered_fen=0,
        state="new",
        run_id=run.id,
        created_at=now,
        updated_at=now,
    )
    db.add(a)
    db.flush()
    return a


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=steps)
def test_no_sequence_of_steps_leaves_the_lifecycle(
    app: FastAPI, sequence: list[tuple[str, int | None, str]]
) -> None:
    with app.state.session_factory() as db:
        amount = 10_000
        a = _alert(db, amount)
        for action, fen, reason in sequence:
            before = (a.state, a.recovered_fen, a.reason, len(a.events))
            try:
                service.act(db, a, action, actor="t", reason=reason, amount_fen=fen)
            except Problem as refused:
                assert refused.http_status in (409, 422)
                assert (a.state, a.recovered_fen, a.reason, len(a.events)) == before
                continue
            assert a.state in NEXT[before[0]], (before[0], action, a.state)
            assert a.state in ALERT_STATES
            assert 0 <= a.recovered_fen <= amount
            assert (a.state == "recovered") == (a.recovered_fen == amount)
            assert len(a.events) == before[3] + 1
            if a.state == "dismissed":
                assert a.reason
        db.rollback()
