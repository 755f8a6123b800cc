"""The certification's demo (shuhui.demo.certification) on the small city: a cycle run weeks
back by the 人社局's demo officer, the pensioner bound to a recipient it found without evidence
(told, window over, still without evidence today), and run again nothing changes; the pages the
demo accounts open show it."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.demo.certification import prepare
from shuhui.programs.certification.models import Certification, CycleRun
from shuhui.trust.identity.service import get_user_by_username
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_ACCOUNTS, as_user


def _prepare(app: FastAPI) -> dict[str, bool]:
    settings = app.state.settings
    with transaction(app.state.session_factory) as db:
        done = prepare(db, settings, DataCore.from_settings(settings), DEMO_ACCOUNTS, actor="test")
    return {p.username: p.changed for p in done}


def test_the_demo_pensioner_waits_to_certify_and_a_second_run_changes_nothing(
    city_app: FastAPI,
) -> None:
    first = _prepare(city_app)
    assert first["officer"] is True and first["pensioner"] is True
    with transaction(city_app.state.session_factory) as db:
        pensioner = get_user_by_username(db, "pensioner")
        assert pensioner is not None and pensioner.citizen_id
        cert = db.scalars(
            select(Certification)
            .where(Certification.citizen_id == pensioner.citizen_id)
            .order_by(Certification.year.desc())
        ).first()
        assert cert is not None and cert.outcome == "undetermined"
        assert cert.notified_at is not None
        (run,) = db.scalars(select(CycleRun)).all()
        assert cert.window_end < run.run_on  # the window was over when the demo's cycle ran
        entries = db.scalar(select(func.count()).select_from(LedgerEntry))

    again = _prepare(city_app)
    assert again["officer"] is False and again["pensioner"] is False
    with transaction(city_app.state.session_factory) as db:
        assert db.scalar(select(func.count()).select_from(CycleRun)) == 1
        assert db.scalar(select(func.count()).select_from(LedgerEntry)) == entries

    mine = as_user(city_app, "pensioner").get("/hrss/certification/mine")
    assert 'data-outcome="undetermined"' in mine.text and 'id="certify-button"' in mine.text
    dashboard = as_user(city_app, "officer").get("/hrss/certification")
    assert f'data-run="{run.run_on.isoformat()}"' in dashboard.text
