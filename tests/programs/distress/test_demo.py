"""shuhui.demo.distress: the demo's HR officer has run the difficulty score for the day; run
again, nothing changes; an empty data core prepares nothing."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.demo import distress
from shuhui.programs.distress.models import DistressRun
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_ACCOUNTS


def _prepare(app: FastAPI) -> str | None:
    settings = app.state.settings
    with transaction(app.state.session_factory) as db:
        return distress.prepare(db, settings, DataCore.from_settings(settings), DEMO_ACCOUNTS)


def test_the_demo_officer_has_run_the_score_once(city_app: FastAPI) -> None:
    said = _prepare(city_app)
    assert said is not None and "困难企业识别已运行" in said
    assert _prepare(city_app) is None  # the same day again: nothing
    with transaction(city_app.state.session_factory) as db:
        assert db.scalar(select(func.count()).select_from(DistressRun)) == 1
        actors = list(
            db.scalars(
                select(LedgerEntry.actor).where(LedgerEntry.action == "programs.distress_run")
            )
        )
    assert actors == ["officer"]


def test_an_empty_data_core_prepares_nothing(app: FastAPI) -> None:
    assert _prepare(app) is None
